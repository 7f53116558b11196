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
# shellcheck source=lib.sh
source "$root/tests/load/lib.sh"
load_build "$root" carematch-all-in-one carematch-realtime-load
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
load_env
load_start "$root" "$tmp"
street=$(jq -r '[.[] | select(.level == "street")][0].id' "$root/config/regions.json")
echo "all-in-one with realtime, 2 io threads; $idle sockets, $rate events/s for $seconds s to $live of them"
"$root/build/release/tests/load/carematch-realtime-load" \
    "$http_port" "$signing_key" "$redis_port" "$street" "$pid" "$idle" "$live" "$rate" "$seconds"
