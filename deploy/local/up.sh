#!/usr/bin/env bash
# Runs CareMatch on this machine: installs missing packages, builds (release), starts a private PostgreSQL
# and Redis under .local/ on loopback, applies migrations (each service does so at start) and starts the
# services. A second run reuses what already runs. deploy/local/down.sh stops everything.
#
# Environment: CAREMATCH_PG_PORT (25432), CAREMATCH_REDIS_PORT (26379), CAREMATCH_HTTP_PORT (8080),
# CAREMATCH_SPLIT=1 to run each service alone on its own port (identity 8081, orders 8082, providers 8083,
# nursery 8084, matching 8085, ratings 8086, complaints 8087, realtime 8088, supervision 8089) behind nginx on the public port,
# instead of the all-in-one process. The first run seeds a demo city (deploy/local/seed.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$root/deploy/local/lib.sh"

pg_port=${CAREMATCH_PG_PORT:-25432}
redis_port=${CAREMATCH_REDIS_PORT:-26379}
http_port=${CAREMATCH_HTTP_PORT:-8080}
state="$root/.local"
mkdir -p "$state/run" "$state/log"

"$root/deploy/install-deps.sh"
cm_build release "$root" -DCAREMATCH_TESTS=OFF

# PostgreSQL runs as the postgres user when we are root; it must be able to reach .local/pg.
pg_dir="$state/pg"
if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$state"; then
    pg_dir="/var/tmp/carematch-pg-$(echo "$root" | md5sum | cut -c1-12)"
    echo "note: the postgres user cannot reach $state; PostgreSQL data goes to $pg_dir" >&2
fi
echo "$pg_dir" >"$state/pg.path"
if cm_pg_running "$pg_dir"; then
    echo "postgres: already running on 127.0.0.1:$pg_port"
else
    cm_pg_start "$pg_dir" "$pg_port" durable
    echo "postgres: started on 127.0.0.1:$pg_port (data in $pg_dir; fsync, synchronous_commit, full_page_writes on)"
fi
if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    echo "redis: already running on 127.0.0.1:$redis_port"
else
    cm_redis_start "$state/redis" "$redis_port" durable
    echo "redis: started on 127.0.0.1:$redis_port (append-only file, fsync every second)"
fi

export CAREMATCH_DB_URL="postgresql://carematch@127.0.0.1:$pg_port/carematch"
export CAREMATCH_REDIS_URL="redis://127.0.0.1:$redis_port"

# Local secrets, made once and kept under .local/secrets (never in the repository).
secrets="$state/secrets"
mkdir -p "$secrets"
chmod 700 "$secrets"
[[ -s $secrets/signing_key ]] || echo "local1:$(head -c 32 /dev/urandom | base64 -w0)" >"$secrets/signing_key"
[[ -s $secrets/data_key ]] || head -c 32 /dev/urandom | base64 -w0 >"$secrets/data_key"
[[ -s $secrets/admin ]] || echo "13800000000:$(head -c 12 /dev/urandom | base64 -w0 | tr -d '/+=')" >"$secrets/admin"
export CAREMATCH_AUTH_SIGNING_KEY_FILE="$secrets/signing_key"
# Split mode: every service but identity signs its service tokens with a key of its own ("svc.<name>.1"),
# which verifiers accept for that service's service tokens only; every service trusts all public halves.
keys="$root/build/release/libs/auth/carematch-keys"
verify_keys=$("$keys" public "$secrets/signing_key")
for svc in orders providers nursery matching ratings complaints realtime supervision; do
    [[ -s $secrets/signing_key.$svc ]] || "$keys" new "svc.$svc.1" >"$secrets/signing_key.$svc"
    verify_keys="$verify_keys,$("$keys" public "$secrets/signing_key.$svc")"
done
export CAREMATCH_AUTH_VERIFY_KEYS="$verify_keys"
# The data key seals personal data at rest: given only to the services that keep some.
for svc in IDENTITY ORDERS PROVIDERS NURSERY ALL_IN_ONE; do
    export "CAREMATCH_${svc}_AUTH_DATA_KEY_FILE=$secrets/data_key"
done
export CAREMATCH_IDENTITY_BOOTSTRAP_ADMIN_FILE="$secrets/admin"
cd "$root"  # services find config/ relative to the repository root

# start_service NAME PORT: starts build/release/services/NAME/carematch-NAME unless its pid file is alive.
start_service() {
    local name=$1 port=$2 pidfile="$state/run/$1.pid" bin
    bin=$(find "$root/build/release/services" -type f -name "carematch-$name" | head -1)
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "$name: already running on http://127.0.0.1:$port"
        return 0
    fi
    local var="CAREMATCH_$(echo "$name" | tr 'a-z-' 'A-Z_')_HTTP_PORT"
    env "$var=$port" setsid "$bin" "$root/config/$name.toml" >>"$state/log/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    # Up to two minutes: a start may first apply a migration that rewrites rows (sealing older data).
    for _ in $(seq 1 600); do
        if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
            echo "$name: listening on http://127.0.0.1:$port (log: .local/log/$name.log)"
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "$name failed to start; last lines of its log:" >&2
            tail -20 "$state/log/$name.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "$name did not become ready; see .local/log/$name.log" >&2
    return 1
}

if [[ ${CAREMATCH_SPLIT:-0} == 1 ]]; then
    start_service identity $((http_port + 1))
    export CAREMATCH_ORDERS_ORDERS_IDENTITY_URL="http://127.0.0.1:$((http_port + 1))"
    CAREMATCH_ORDERS_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.orders" start_service orders $((http_port + 2))
    CAREMATCH_PROVIDERS_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.providers" \
        start_service providers $((http_port + 3))
    CAREMATCH_NURSERY_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.nursery" \
        CAREMATCH_NURSERY_NURSERY_IDENTITY_URL="http://127.0.0.1:$((http_port + 1))" \
        CAREMATCH_NURSERY_NURSERY_PROVIDERS_URL="http://127.0.0.1:$((http_port + 3))" \
        start_service nursery $((http_port + 4))
    CAREMATCH_MATCHING_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.matching" \
        CAREMATCH_MATCHING_MATCHING_ORDERS_URL="http://127.0.0.1:$((http_port + 2))" \
        CAREMATCH_MATCHING_MATCHING_PROVIDERS_URL="http://127.0.0.1:$((http_port + 3))" \
        start_service matching $((http_port + 5))
    CAREMATCH_RATINGS_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.ratings" start_service ratings $((http_port + 6))
    CAREMATCH_COMPLAINTS_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.complaints" \
        start_service complaints $((http_port + 7))
    CAREMATCH_REALTIME_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.realtime" \
        start_service realtime $((http_port + 8))
    CAREMATCH_SUPERVISION_AUTH_SIGNING_KEY_FILE="$secrets/signing_key.supervision" \
        start_service supervision $((http_port + 9))
    # nginx on the public port in front of them all.
    if [[ -f $state/run/nginx.pid ]] && kill -0 "$(cat "$state/run/nginx.pid")" 2>/dev/null; then
        echo "nginx: already running on http://127.0.0.1:$http_port"
    else
        conf=$("$root/deploy/nginx/render.sh" "$state/nginx" "$http_port" "$http_port" "$state/run/nginx.pid")
        nginx -t -q -p "$state/nginx" -c "$conf" -e "$state/nginx/error.log"
        nginx -p "$state/nginx" -c "$conf" -e "$state/nginx/error.log"
        echo "nginx: routing http://127.0.0.1:$http_port/v1/... to the services (logs: .local/nginx/)"
    fi
else
    start_service all-in-one "$http_port"
    echo "identity: served by all-in-one on http://127.0.0.1:$http_port (/v1/auth, /v1/admin, /v1/recipients, /v1/regions)"
    echo "orders: served by all-in-one on http://127.0.0.1:$http_port (/v1/catalog, /v1/orders)"
    echo "providers: served by all-in-one on http://127.0.0.1:$http_port (/v1/providers)"
    echo "nursery: served by all-in-one on http://127.0.0.1:$http_port (/v1/nursery)"
    echo "matching: served by all-in-one on http://127.0.0.1:$http_port (/v1/offers)"
    echo "ratings: served by all-in-one on http://127.0.0.1:$http_port (/v1/ratings)"
    echo "complaints: served by all-in-one on http://127.0.0.1:$http_port (/v1/complaints)"
    echo "realtime: served by all-in-one on ws://127.0.0.1:$http_port/v1/ws"
    echo "supervision: served by all-in-one on http://127.0.0.1:$http_port (/v1/supervision)"
fi
# A demo city, once: accounts of every role with their organisations filed and approved.
# Split or not, every public path answers on the public port.
seed_urls=("http://127.0.0.1:$http_port" "http://127.0.0.1:$http_port" "http://127.0.0.1:$http_port")
"$root/deploy/local/seed.sh" "${seed_urls[@]}" || echo "warning: seeding the demo city failed (the services run)" >&2
echo "first admin: phone and password in .local/secrets/admin"

