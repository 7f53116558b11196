#!/usr/bin/env bash
# The overload figures of POST /v1/orders: starts its own PostgreSQL, Redis and all-in-one (release build),
# seeds one family with an elder through the API, measures the capacity (closed loop), then offers an open
# loop at 0.5×, 1× and 2× that capacity and prints goodput, refusals and latencies for each, and the ratios
# the runtime is held to. Prints figures only.
#
# The goals (issue: admission that sheds only real overload): at 0.5x and 1x at least 99 % of the requests
# accepted; at 2x a goodput of at least 0.9x the goodput at 1x, every refusal answered within 50 ms at the
# client (p99), and the accepted p99 at most 3x the p99 at 1x.
#
# Usage: tests/load/overload.sh [SECONDS per step, default 10]
#   CAREMATCH_BURN=N   runs N CPU burners (busy shell loops) beside the platform for the whole run: the
#                      figures must hold on a busy machine too.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-10}
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
# shellcheck source=lib.sh
source "$root/tests/load/lib.sh"
load_build "$root" carematch-all-in-one carematch-overload

tmp=$(mktemp -d /tmp/carematch-load.XXXXXX)
chmod 755 "$tmp"
pid=""
burners=()
cleanup() {
    for b in "${burners[@]}"; do kill "$b" 2>/dev/null || true; done
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    [[ -n ${CAREMATCH_LOAD_LOG:-} ]] && cp "$tmp/all-in-one.log" "$CAREMATCH_LOAD_LOG"
    cm_throwaway_stop "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
cm_throwaway_servers "$tmp"
load_env
load_start "$root" "$tmp"

post() { curl -sS --fail-with-body -X POST "$base$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2" || { echo " (POST $1)" >&2; return 1; }; }
post /v1/auth/register '{"phone":"13700000777","password":"load-password-1"}' >/dev/null
token=$(post /v1/auth/login '{"phone":"13700000777","password":"load-password-1"}' | jq -r .access_token)
recipient=$(post /v1/recipients '{"kind":"elder","name":"李桂兰","birth_date":"1944-05-06","community_id":110101001,
  "gender":"female","ability_level":2,"priority_categories":["living_alone"],"diet":["low_salt"],
  "languages":["mandarin"],"gender_preference":"female","address":"安定门东大街 12 号 3 单元 401",
  "location":{"lat":39.9489,"lon":116.4128},
  "emergency_contacts":[{"name":"李军","phone":"13912345678","relation":"son"}],
  "consents":[{"purpose":"sensitive_storage","text_version":"v1"}]}' "$token" | jq -r .id)

tool=${CAREMATCH_OVERLOAD_TOOL:-"$root/build/release/tests/load/carematch-overload"}
for _ in $(seq 1 "${CAREMATCH_BURN:-0}"); do
    (while :; do :; done) &
    burners+=($!)
done
echo "# POST /v1/orders on all-in-one (release, 2 io threads), $(nproc) cores, ${CAREMATCH_BURN:-0} CPU burners, ${seconds}s per step"
capacity_line=$($tool capacity 127.0.0.1 "$http_port" "$token" "$recipient" "$seconds" 64)
echo "$capacity_line"
capacity=$(sed -E 's/.*goodput=([0-9.]+).*/\1/' <<<"$capacity_line")
declare -A line
for f in 0.5 1 2; do
    rate=$(awk -v c="$capacity" -v f="$f" 'BEGIN { printf "%d", c * f }')
    line[$f]=$($tool open 127.0.0.1 "$http_port" "$token" "$recipient" "$seconds" "$rate")
    echo "${line[$f]}"
done
field() { sed -E "s/.*$2=([0-9.]+).*/\1/" <<<"$1"; }
awk -v a05="$(field "${line[0.5]}" accepted_share)" -v a1="$(field "${line[1]}" accepted_share)" \
    -v g1="$(field "${line[1]}" goodput)" -v g2="$(field "${line[2]}" goodput)" \
    -v p1="$(field "${line[1]}" accepted_p99_ms)" -v p2="$(field "${line[2]}" accepted_p99_ms)" \
    -v r2="$(field "${line[2]}" refused_p99_ms)" \
    'BEGIN {
        printf "accepted_at_0.5x=%.4f accepted_at_1x=%.4f (goal >= 0.99)  goodput_2x_over_1x=%.2f (goal >= 0.9)  refused_p99_ms_at_2x=%.1f (goal < 50)  p99_2x_over_p99_1x=%.2f (goal <= 3)\n", a05, a1, g2 / g1, r2, (p1 > 0 ? p2 / p1 : 0)
    }'
