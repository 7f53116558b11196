#!/usr/bin/env bash
# Stops what deploy/local/up.sh started: the services, Redis and PostgreSQL. Data stays in .local/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$root/deploy/local/lib.sh"
state="$root/.local"

for pidfile in "$state"/run/*.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        echo "stopped $(basename "$pidfile" .pid)"
    fi
    rm -f "$pidfile"
done
cm_redis_stop "$state/redis" && echo "stopped redis"
pg_dir=$(cat "$state/pg.path" 2>/dev/null || echo "$state/pg")
cm_pg_stop "$pg_dir" && echo "stopped postgres"
