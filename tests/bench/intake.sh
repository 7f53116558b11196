#!/usr/bin/env bash
# Order intake against its database, and the HTTP layer against nginx, as ratios taken in one run (absolute
# rates drift between runs and machines; ratios much less):
#   - POST /v1/orders (a unique Idempotency-Key each, 32 connections, closed loop) ÷ pgbench's single-row INSERT
#     into a copy of orders.orders on the same PostgreSQL (32 clients), with fsync off, then on;
#   - GET /healthz on an all-in-one with one io thread ÷ nginx `return 200` with one worker (64 connections,
#     the same client for both).
# The order figures again for the orders service alone (identity and orders as their own processes, nobody
# consuming the orders' events).
# Starts its own PostgreSQL, Redis, all-in-one (release), identity and orders, and nginx, and stops them. Prints
# figures only.
#
# Usage: tests/bench/intake.sh [SECONDS PER FIGURE, default 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-10}
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
# shellcheck source=../load/lib.sh
source "$root/tests/load/lib.sh"
load_build "$root" carematch-all-in-one carematch-identity carematch-orders carematch-overload
tool="$root/build/release/tests/load/carematch-overload"

tmp=$(mktemp -d /tmp/carematch-intake-bench.XXXXXX)
chmod 755 "$tmp"
pid=""
split_pids=()
cleanup() {
    [[ -f $tmp/nginx/nginx.pid ]] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    for p in "${split_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    cm_throwaway_stop "$tmp"
    cm_throwaway_stop "$tmp/fresh"
    rm -rf "$tmp"
}
trap cleanup EXIT
cm_throwaway_servers "$tmp"
psql=("$(cm_pg_bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d carematch -v ON_ERROR_STOP=1 -qAt)
# off | on: PostgreSQL again with fsync, synchronous_commit and full_page_writes off (the throwaway default) or on,
# and the all-in-one again on it.
durability() {
    [[ -n $pid ]] && { kill "$pid" && wait "$pid" 2>/dev/null || true; pid=""; }
    cm_pg_stop "$tmp/pg"
    local mode=fast
    [[ $1 == on ]] && mode=durable
    cm_pg_start "$tmp/pg" "$pg_port" "$mode" >>"$tmp/pg-restarts.log" 2>&1
    load_start "$root" "$tmp"
}

load_env
load_start "$root" "$tmp"
post() { curl -sS --fail-with-body -X POST "$base$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} ${4:+-H "Idempotency-Key: $4"} -d "$2"; }
post /v1/auth/register '{"phone":"13700000888","password":"bench-password-1"}' >/dev/null
token=$(post /v1/auth/login '{"phone":"13700000888","password":"bench-password-1"}' | jq -r .access_token)
elder=$(post /v1/recipients '{"kind":"elder","name":"李桂兰","birth_date":"1944-05-06","community_id":110101001,
  "gender":"female","ability_level":2,"address":"安定门东大街 12 号","location":{"lat":39.9489,"lon":116.4128},
  "consents":[{"purpose":"sensitive_storage","text_version":"v1"}]}' "$token" | jq -r .id)
post /v1/orders "{\"recipient_id\":\"$elder\",\"kind\":\"bath\",\"sub_type\":\"home_bath\"}" "$token" template >/dev/null

# The copy pgbench inserts into: the same columns, defaults, checks and indexes; each row a copy of a real order
# under a new id.
"${psql[@]}" -c "CREATE SCHEMA bench" -c "CREATE TABLE bench.orders (LIKE orders.orders INCLUDING ALL)" \
    -c "CREATE TABLE bench.template AS SELECT * FROM orders.orders LIMIT 1"
columns=$("${psql[@]}" -c "SELECT string_agg(CASE column_name WHEN 'id' THEN 'gen_random_uuid()' ELSE
    quote_ident(column_name) END, ', ' ORDER BY ordinal_position) FROM information_schema.columns
    WHERE table_schema = 'orders' AND table_name = 'orders'")
echo "INSERT INTO bench.orders SELECT $columns FROM bench.template;" >"$tmp/insert.sql"
pgbench_tps() {
    PGPASSWORD='' "$(cm_pg_bin)/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -n -c 32 -j 2 -T "$seconds" \
        -f "$tmp/insert.sql" carematch 2>/dev/null | awk '/^tps/ { print $3; exit }'
}
orders_rate() {
    "$tool" capacity 127.0.0.1 "$http_port" "$token" "$elder" "$seconds" 32 |
        awk '{ for (i = 1; i <= NF; ++i) if ($i ~ /^goodput=/) { sub(/goodput=/, "", $i); sub(/\/s/, "", $i); print $i } }'
}

echo "# order intake and the HTTP layer (release), $(nproc) cores, ${seconds}s per figure"
for mode in off on; do
    [[ $mode == on ]] && durability on
    o=$(orders_rate)
    p=$(pgbench_tps)
    awk -v m="$mode" -v o="$o" -v p="$p" 'BEGIN {
        printf "fsync=%s orders_per_s=%.0f pgbench_insert_per_s=%.0f ratio=%.3f (goal >= %s)\n", m, o, p, o / p,
            m == "off" ? "0.7" : "1.0" }'
done

# The orders service alone: identity and orders as their own processes (identity answers for the caller and
# the elder), nobody consuming orders' events. What intake costs without the all-in-one's other services
# working off the same orders on the same two cores.
split_stop() {
    for p in "${split_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${split_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    split_pids=()
}
split_start() {
    (cd "$root" && CAREMATCH_IDENTITY_HTTP_PORT=$identity_port CAREMATCH_IDENTITY_LOG_LEVEL=error \
        exec build/release/services/identity/carematch-identity config/identity.toml) >"$tmp/identity.log" 2>&1 &
    split_pids+=($!)
    (cd "$root" && CAREMATCH_ORDERS_HTTP_PORT=$orders_port CAREMATCH_ORDERS_LOG_LEVEL=error \
        CAREMATCH_ORDERS_ORDERS_IDENTITY_URL="http://127.0.0.1:$identity_port" \
        exec build/release/services/orders/carematch-orders config/orders.toml) >"$tmp/orders.log" 2>&1 &
    split_pids+=($!)
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$orders_port/readyz" >/dev/null 2>&1 &&
            curl -sf "http://127.0.0.1:$identity_port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    tail -20 "$tmp/identity.log" "$tmp/orders.log" >&2
    return 1
}
identity_port=$(cm_free_port)
orders_port=$(cm_free_port)
kill "$pid" && wait "$pid" 2>/dev/null || true
pid=""
for mode in on off; do
    split_stop
    cm_pg_stop "$tmp/pg"
    cm_pg_start "$tmp/pg" "$pg_port" "$([[ $mode == on ]] && echo durable || echo fast)" >>"$tmp/pg-restarts.log" 2>&1
    split_start
    o=$("$tool" capacity 127.0.0.1 "$orders_port" "$token" "$elder" "$seconds" 32 |
        awk '{ for (i = 1; i <= NF; ++i) if ($i ~ /^goodput=/) { sub(/goodput=/, "", $i); sub(/\/s/, "", $i); print $i } }')
    p=$(pgbench_tps)
    awk -v m="$mode" -v o="$o" -v p="$p" 'BEGIN {
        printf "orders alone (split): fsync=%s orders_per_s=%.0f pgbench_insert_per_s=%.0f ratio=%.3f (goal >= %s)\n",
            m, o, p, o / p, m == "off" ? "0.7" : "1.0" }'
done
split_stop

# The trivial endpoint: the all-in-one again with one io thread, on fresh servers (the consumers of the
# servers above would still be working off the streams the order runs filled), and nginx with one worker.
export CAREMATCH_ALL_IN_ONE_HTTP_IO_THREADS=1
cm_throwaway_stop "$tmp"
cm_throwaway_servers "$tmp/fresh"
load_env
load_start "$root" "$tmp"
load_nginx_200 "$tmp"
h=$(load_get_rate "$tool" "$http_port" /healthz "$seconds")
n=$(load_get_rate "$tool" "$nginx_port" / "$seconds")
awk -v h="$h" -v n="$n" 'BEGIN {
    printf "healthz_per_s=%.0f (one io thread) nginx_return_200_per_s=%.0f (one worker) ratio=%.3f (goal >= 0.8)\n",
        h, n, h / n }'
