#!/usr/bin/env bash
# The HTTP layer against nginx, steadier than one sample: GET /healthz on a release all-in-one with one io
# thread and nginx `return 200` with one worker (64 connections each, the same client), measured in turns for
# ROUNDS rounds; prints every round and the medians. With OTHER_ROOT (another checkout with its own release
# build, e.g. a git worktree of main) its all-in-one takes turns too, each on a database of its own: an A/B of
# two builds on the same servers, in the same minutes.
#
# Usage: tests/bench/healthz.sh [ROUNDS, default 5] [SECONDS PER SAMPLE, default 5] [OTHER_ROOT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-5}
seconds=${2:-5}
other=${3:-}
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
# shellcheck source=../load/lib.sh
source "$root/tests/load/lib.sh"
load_build "$root" carematch-all-in-one carematch-overload
tool="$root/build/release/tests/load/carematch-overload"

tmp=$(mktemp -d /tmp/carematch-healthz-bench.XXXXXX)
chmod 755 "$tmp"
pid=""
cleanup() {
    [[ -f $tmp/nginx/nginx.pid ]] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    cm_throwaway_stop "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
cm_throwaway_servers "$tmp" >/dev/null
load_env
export CAREMATCH_ALL_IN_ONE_HTTP_IO_THREADS=1
load_nginx_200 "$tmp"
psql=("$(cm_pg_bin)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qAt)
sides=(this)
[[ -n $other ]] && sides+=(other)
for side in "${sides[@]}"; do
    "${psql[@]}" -d postgres -c "CREATE DATABASE side_$side OWNER carematch" >/dev/null
    "${psql[@]}" -d "side_$side" -c "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public" >/dev/null
done
echo "# GET /healthz (one io thread) and nginx return 200 (one worker), $rounds rounds of ${seconds}s"
for _ in $(seq 1 "$rounds"); do
    for side in "${sides[@]}"; do
        dir=$root
        [[ $side == other ]] && dir=$other
        export CAREMATCH_DB_URL="postgresql://carematch@127.0.0.1:$pg_port/side_$side"
        load_start "$dir" "$tmp"
        h=$(load_get_rate "$tool" "$http_port" /healthz "$seconds")
        kill "$pid" && wait "$pid" 2>/dev/null || true
        pid=""
        n=$(load_get_rate "$tool" "$nginx_port" / "$seconds")
        awk -v s="$side" -v h="$h" -v n="$n" 'BEGIN { printf "%s healthz_per_s=%.0f nginx_per_s=%.0f ratio=%.3f\n", s, h, n, h / n }'
    done
done | tee "$tmp/rounds"
for side in "${sides[@]}"; do
    grep "^$side " "$tmp/rounds" | sed 's/.*ratio=//' | sort -n |
        awk -v s="$side" '{ v[NR] = $1 } END { printf "%s median ratio=%.3f (goal >= 0.8)\n", s, v[int((NR + 1) / 2)] }'
done
