#!/usr/bin/env bash
# The realtime figures: starts its own PostgreSQL, Redis and all-in-one (release build), opens IDLE idle
# WebSockets and reads the server's RSS per connection, then puts RATE order events a second on a street's
# streams for SECONDS (one in ten an offer) and prints event → delivered latency and offers delivered before
# their expiry. Prints figures only.
#
# Usage: tests/load/realtime.sh [IDLE 10000] [RATE 1000] [SECONDS 10] [LIVE 1000]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
idle=${1:-10000} rate=${2:-1000} seconds=${3:-10} live=${4:-1000}
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
"$root/deploy/install-deps.sh"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
(cd "$root" && cmake --preset release -DCAREMATCH_TESTS=ON >/dev/null)
cmake --build "$root/build/release" --target carematch-all-in-one carematch-realtime-load >/dev/null
ulimit -n "$(ulimit -Hn)"  # two descriptors per connection on this machine: the client's and the server's

tmp=$(mktemp -d /tmp/carematch-load.XXXXXX)
chmod 755 "$tmp"
pid=""
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    cm_throwaway_stop "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
cm_throwaway_servers "$tmp"
http_port=$(cm_free_port)
key="load1:$(head -c 32 /dev/urandom | base64 -w0)"
export CAREMATCH_DB_URL="postgresql://carematch@127.0.0.1:$pg_port/carematch"
export CAREMATCH_REDIS_URL="redis://127.0.0.1:$redis_port"
export CAREMATCH_LIMITS_AUTH_PER_MINUTE=0 CAREMATCH_LIMITS_WRITES_PER_MINUTE=0 CAREMATCH_LIMITS_READS_PER_MINUTE=0
export CAREMATCH_AUTH_SIGNING_KEY="$key"
export CAREMATCH_IDENTITY_DATA_KEY="$(head -c 32 /dev/urandom | base64 -w0)"
export CAREMATCH_IDENTITY_BOOTSTRAP_ADMIN="13800000000:$(head -c 12 /dev/urandom | base64 -w0 | tr -d '/+=')"
export CAREMATCH_ALL_IN_ONE_HTTP_PORT=$http_port
export CAREMATCH_ALL_IN_ONE_LOG_LEVEL=${CAREMATCH_ALL_IN_ONE_LOG_LEVEL:-error}
(cd "$root" && exec build/release/services/all-in-one/carematch-all-in-one config/all-in-one.toml) \
    >"$tmp/all-in-one.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null || { tail -20 "$tmp/all-in-one.log" >&2; exit 1; }
street=$(jq -r '[.[] | select(.level == "street")][0].id' "$root/config/regions.json")
echo "all-in-one with realtime, 2 io threads; $idle sockets, $rate events/s for $seconds s to $live of them"
"$root/build/release/tests/load/carematch-realtime-load" \
    "$http_port" "$key" "$redis_port" "$street" "$pid" "$idle" "$live" "$rate" "$seconds"
