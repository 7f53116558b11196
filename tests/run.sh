#!/usr/bin/env bash
# Installs what is missing, builds (preset dev), starts a private PostgreSQL and Redis on free loopback ports in
# a temporary folder (fast: no fsync, no persistence — throwaway servers), runs every test with ctest, stops
# both even when tests fail, exits with ctest's status.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../deploy/local/lib.sh
source "$root/deploy/local/lib.sh"

"$root/deploy/install-deps.sh"
cm_build dev "$root"

tmp=$(mktemp -d /tmp/carematch-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    cm_throwaway_stop "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
cm_throwaway_servers "$tmp"

# Restart commands for the recovery tests (ctest runs those alone: RUN_SERIAL).
cat >"$tmp/pg-restart" <<EOS
#!/usr/bin/env bash
set -e
source "$root/deploy/local/lib.sh"
cm_pg_stop "$tmp/pg"
cm_pg_start "$tmp/pg" "$pg_port" fast
EOS
cat >"$tmp/redis-restart" <<EOS
#!/usr/bin/env bash
set -e
source "$root/deploy/local/lib.sh"
cm_redis_stop "$tmp/redis"
cm_redis_start "$tmp/redis" "$redis_port" fast
EOS
chmod +x "$tmp/pg-restart" "$tmp/redis-restart"

export CAREMATCH_TEST_DB_URL="postgresql://carematch@127.0.0.1:$pg_port/carematch"
export CAREMATCH_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export CAREMATCH_TEST_PG_RESTART="$tmp/pg-restart"
export CAREMATCH_TEST_REDIS_RESTART="$tmp/redis-restart"
# Where the suite looks for personal data at rest: pg_dump and PostgreSQL's own log.
CAREMATCH_TEST_PG_BIN=$(cm_pg_bin)
export CAREMATCH_TEST_PG_BIN
export CAREMATCH_TEST_PG_LOG="$tmp/pg/postgres.log"

status=0
ctest --test-dir "$root/build/dev" --output-on-failure -j2 --timeout 300 "$@" || status=$?
exit $status
