#!/usr/bin/env bash
# The edge config (deploy/nginx): `nginx -t` accepts it, and nginx started with it answers as the services do —
# problem+json for an unknown path, an internal path, a body over the limit, a service that is down, and a
# client over the per-address limit on /v1/auth. No service runs behind it here: routing to live services is
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
        echo "FAIL: curl $* -> $got (wanted $status $type)" >&2
        fail=1
    fi
}
u="http://127.0.0.1:$port"
expect 200 "text/plain" "$u/healthz"
expect 404 "application/problem+json" "$u/nowhere"
expect 404 "application/problem+json" "$u/v1/internal/orders/waiting"
expect 503 "application/problem+json" "$u/v1/orders"
head -c 2000000 /dev/zero >"$tmp/big"
expect 413 "application/problem+json" -X POST --data-binary "@$tmp/big" -H 'Content-Type: application/json' "$u/v1/orders"
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
