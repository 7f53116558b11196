#!/usr/bin/env bash
# render.sh STATE PORT BASE [PIDFILE]: writes STATE/nginx.conf from carematch.conf.template for a public PORT in
# front of the split services on BASE+1 … BASE+9, with logs and temporary files under STATE and the master's pid
# in PIDFILE (STATE/nginx.pid).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$1 port=$2 base=$3
mkdir -p "$state"
state=$(cd "$state" && pwd)
pidfile=${4:-$state/nginx.pid}
# Workers may run as another user (nobody, when the master is root): their temporary files must be writable.
for d in client_body proxy fastcgi uwsgi scgi; do
    mkdir -p "$state/$d"
    chmod 1777 "$state/$d"
done
# The problem+json bodies nginx answers its own refusals with.
mkdir -p "$state/problems"
cp "$here"/problems/*.json "$state/problems/"
chmod 755 "$state/problems"
chmod 644 "$state"/problems/*.json
args=(-e "s#@STATE@#$state#g" -e "s#@PORT@#$port#g" -e "s#@PIDFILE@#$pidfile#g")
for i in 1 2 3 4 5 6 7 8 9; do
    args+=(-e "s#@P$i@#$((base + i))#g")
done
sed "${args[@]}" "$here/carematch.conf.template" >"$state/nginx.conf"
echo "$state/nginx.conf"
