#!/usr/bin/env bash
# Runs the city simulator (tests/sim) against the platform on this machine: starts it with up.sh unless it
# already answers, then runs a scenario (config/sim/default.json unless one is given) through the public API as
# the first admin of .local/secrets/admin. Reports go to .local/sim/<time>/ (summary.txt and .json, orders.csv,
# latency.svg, timeline.svg, map.svg). The exit status is the simulator's: 0 when every check held, 1 when one
# broke, 2 when it could not run.
#
# Usage: deploy/local/simulate.sh [SCENARIO.json] [carematch-sim options, e.g. --speed 120 --hours 1 --seed 3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$root/deploy/local/lib.sh"
http_port=${CAREMATCH_HTTP_PORT:-8080}

scenario="$root/config/sim/default.json"
if [[ $# -gt 0 && $1 != --* ]]; then
    scenario=$1
    shift
fi
if ! curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1; then
    "$root/deploy/local/up.sh"
fi
sim="$root/build/release/tests/sim/carematch-sim"
if [[ ! -x $sim ]]; then
    cm_build release "$root" -DCAREMATCH_TESTS=OFF
fi
out="$root/.local/sim/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
echo "simulating $(basename "$scenario") against http://127.0.0.1:$http_port; reports in ${out#"$root"/}" >&2
exec "$sim" --scenario "$scenario" --url "http://127.0.0.1:$http_port" \
    --admin-file "$root/.local/secrets/admin" --out "$out" "$@"
