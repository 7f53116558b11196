#!/usr/bin/env bash
# The edge config (deploy/nginx): `nginx -t` accepts it, and nginx started with it answers as the services do —
# problem+json for an unknown path, an internal path, a body over the limit, a service that is down, a header
# or target over the limit, a malformed request or HTTP version, and a client over the per-address limit on
# /v1/auth. No service runs behind it here: routing to live services is
# what CAREMATCH_SPLIT=1 deploy/local/up.sh does.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
command -v nginx >/dev/null || { echo "nginx is not installed (deploy/install-deps.sh installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
port=$(cm_free_port)
base=$(cm_free_port)  # nothing listens on base+1 … base+8
conf=$("$root/deploy/nginx/render.sh" "$tmp/nginx" "$port" "$base")
cleanup() {
    [[ -f $tmp/nginx/nginx.pid ]] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

nginx -t -q -p "$tmp/nginx" -c "$conf" -e "$tmp/nginx/error.log"
nginx -p "$tmp/nginx" -c "$conf" -e "$tmp/nginx/error.log"
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

fail=0
# expect STATUS TYPE CURL-ARGS...: the status and the content type of one request.
expect() {
    local status=$1 type=$2
    shift 2
    local got
    got=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$@")
    if [[ $got != "$status $type" ]]; then
        echo "FAIL: curl $(cut -c1-200 <<<"$*") -> $got (wanted $status $type)" >&2
        fail=1
    fi
}
u="http://127.0.0.1:$port"
expect 200 "text/plain" "$u/healthz"
expect 404 "application/problem+json" "$u/nowhere"
expect 404 "application/problem+json" "$u/v1/internal/orders/waiting"
expect 404 "application/problem+json" "$u/.problem/400.json"  # the refusal bodies are nginx's own, not served
expect 503 "application/problem+json" "$u/v1/orders"
head -c 2000000 /dev/zero >"$tmp/big"
expect 413 "application/problem+json" -X POST --data-binary "@$tmp/big" -H 'Content-Type: application/json' "$u/v1/orders"
# Refusals nginx gives before any service sees the request: problem+json too.
expect 431 "application/problem+json" -H "X-Big: $(head -c 65536 /dev/zero | tr '\0' a)" "$u/v1/orders"
expect 414 "application/problem+json" "$u/v1/orders?q=$(head -c 20000 /dev/zero | tr '\0' a)"
# raw REQUEST-LINE: the status line and content type of nginx's answer to a hand-written request.
raw() {
    local answer
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf '%s\r\nHost: edge\r\nConnection: close\r\n\r\n' "$1" >&3
    answer=$(cat <&3 | tr -d '\r')
    exec 3<&-
    printf '%s %s' "$(head -1 <<<"$answer" | cut -d' ' -f2)" \
        "$(grep -i '^content-type:' <<<"$answer" | head -1 | cut -d' ' -f2)"
}
for probe in "GET /v1/orders HTTP/9.9|505" "GARBAGE|400"; do
    got=$(raw "${probe%|*}")
    if [[ $got != "${probe#*|} application/problem+json" ]]; then
        echo "FAIL: '${probe%|*}' -> $got (wanted ${probe#*|} application/problem+json)" >&2
        fail=1
    fi
done
# /v1/auth: bursts of 20 per address, then 429.
limited=0
for _ in $(seq 1 30); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$u/v1/auth/login")
    [[ $code == 429 ]] && limited=$((limited + 1))
done
if ((limited < 5)); then
    echo "FAIL: 30 quick sign-ins from one address, $limited of them 429 (wanted at least 5)" >&2
    fail=1
fi
exit $fail
