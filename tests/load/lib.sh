# The part every load script shares: an all-in-one (release) on the throwaway servers of cm_throwaway_servers
# (deploy/local/lib.sh), with fresh keys and the per-caller limits lifted (one load client is every caller).
# shellcheck shell=bash

# load_build ROOT TARGET...: installs the Debian packages and builds the release targets (ccache on).
load_build() {
    local root=$1
    shift
    "$root/deploy/install-deps.sh"
    export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
    (cd "$root" && cmake --preset release -DCAREMATCH_TESTS=ON >/dev/null)
    cmake --build "$root/build/release" --target "$@" >/dev/null
}

# load_env: exports the all-in-one's environment; sets http_port, base and signing_key.
load_env() {
    http_port=$(cm_free_port)
    base="http://127.0.0.1:$http_port"
    signing_key="load1:$(head -c 32 /dev/urandom | base64 -w0)"
    export CAREMATCH_DB_URL="postgresql://carematch@127.0.0.1:$pg_port/carematch"
    export CAREMATCH_REDIS_URL="redis://127.0.0.1:$redis_port"
    export CAREMATCH_LIMITS_AUTH_PER_MINUTE=0 CAREMATCH_LIMITS_WRITES_PER_MINUTE=0 CAREMATCH_LIMITS_READS_PER_MINUTE=0
    export CAREMATCH_AUTH_SIGNING_KEY="$signing_key"
    export CAREMATCH_AUTH_DATA_KEY="$(head -c 32 /dev/urandom | base64 -w0)"
    export CAREMATCH_IDENTITY_BOOTSTRAP_ADMIN="13800000000:$(head -c 12 /dev/urandom | base64 -w0 | tr -d '/+=')"
    export CAREMATCH_ALL_IN_ONE_HTTP_PORT=$http_port
    export CAREMATCH_ALL_IN_ONE_LOG_LEVEL=${CAREMATCH_ALL_IN_ONE_LOG_LEVEL:-error}
}

# load_start ROOT TMP: starts the all-in-one (log in TMP/all-in-one.log), sets pid, and waits until it is ready.
load_start() {
    (cd "$1" && exec build/release/services/all-in-one/carematch-all-in-one config/all-in-one.toml) \
        >"$2/all-in-one.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        curl -sf "$base/readyz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    tail -20 "$2/all-in-one.log" >&2
    return 1
}

# load_nginx_200 TMP: nginx with one worker answering `return 200` to everything (the reference the HTTP layer
# is measured against), its files under TMP/nginx; sets nginx_port. Stop it with
# `kill "$(cat TMP/nginx/nginx.pid)"`.
load_nginx_200() {
    local dir=$1/nginx
    nginx_port=$(cm_free_port)
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    server { listen 127.0.0.1:$nginx_port; location / { return 200; } }
}
EOF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

# load_get_rate TOOL PORT PATH SECONDS: answered GET requests per second over 64 connections (the overload tool's
# goodput).
load_get_rate() {
    "$1" get 127.0.0.1 "$2" "$3" - "$4" 64 | grep -o 'goodput=[0-9.]*' | cut -d= -f2
}
