#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan, UBSan) and runs each for SECONDS (default 60) from its
# seed corpus in tests/fuzz/corpus/<target>/, printing executions, executions per second and crashes. Exits 1 when
# a target crashed, leaked or timed out; the input that did it is kept under build/fuzz/artifacts/<target>/
# (replay it: build/fuzz/tests/fuzz/<target> FILE). New inputs found go to a scratch corpus, not the repository.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_http_request fuzz_query fuzz_json_bodies fuzz_jwt)

"$root/deploy/install-deps.sh"
scratch=$(mktemp -d /tmp/carematch-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
if ! cm_build fuzz "$root" >"$scratch/build.log" 2>&1; then
    tail -40 "$scratch/build.log" >&2
    exit 1
fi
status=0
printf '%-20s %12s %10s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
    bin="$root/build/fuzz/tests/fuzz/$t"
    artifacts="$root/build/fuzz/artifacts/$t"
    mkdir -p "$scratch/$t" "$artifacts"
    log="$scratch/$t.log"
    crashed=0
    # -rss_limit_mb: a request may not make the reader hold more than this; -timeout: nor take a second.
    if ! "$bin" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$scratch/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
        crashed=1
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    printf '%-20s %12s %10s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "$crashed"
    if ((crashed)); then
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20 >&2 || tail -30 "$log" >&2
    fi
done
exit $status
