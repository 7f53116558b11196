# Shared shell functions of deploy/local/up.sh, down.sh and tests/run.sh: a private PostgreSQL and Redis on
# loopback. Source it; it defines functions only.

# Runs a command as the owner of the database files: the postgres system user when we are root (PostgreSQL
# refuses to run as root), else ourselves.
cm_as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cm_pg_bin() {
    local v
    for v in 17 16 15; do
        if [[ -x /usr/lib/postgresql/$v/bin/pg_ctl ]]; then
            echo "/usr/lib/postgresql/$v/bin"
            return 0
        fi
    done
    echo "PostgreSQL server binaries not found" >&2
    return 1
}

# A free TCP port on 127.0.0.1, below the kernel's ephemeral range (32768+) so that no client connection holds
# it, and not one of deploy/local/up.sh's defaults; checked by trying to connect.
cm_free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((27000 + RANDOM % 5700))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# cm_pg_start DIR PORT [durable|fast]: initialises DIR/data when empty and starts PostgreSQL on 127.0.0.1:PORT
# with its socket in DIR. Creates role and database "carematch" (trust auth on loopback only).
#   durable (the default): fsync, synchronous_commit and full_page_writes on: an acknowledged commit survives a
#            power loss.
#   fast:    all three off, for throwaway test servers only.
# Either way no row values reach the server log (terse errors: no DETAIL lines with keys such as phones).
cm_pg_start() {
    local dir=$1 port=$2 mode=${3:-durable} bin durability
    bin=$(cm_pg_bin)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$dir"
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        cm_as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; return 1; }
    fi
    case $mode in
        durable) durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
        fast) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
        *) echo "cm_pg_start: mode is durable or fast, not $mode" >&2; return 1 ;;
    esac
    cm_as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=128MB $durability -c log_error_verbosity=terse" \
        start >/dev/null || { tail -20 "$dir/postgres.log" >&2; return 1; }
    local psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
    if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'carematch'") ]]; then
        "${psql[@]}" -c "CREATE ROLE carematch LOGIN SUPERUSER" >/dev/null
    fi
    if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'carematch'") ]]; then
        "${psql[@]}" -c "CREATE DATABASE carematch OWNER carematch" >/dev/null
    fi
    # matching's assignment ledger needs btree_gist; made here once, so that services starting side by side
    # never race to create it.
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d carematch -v ON_ERROR_STOP=1 -qAt \
        -c "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public" >/dev/null
}

cm_pg_stop() {
    local dir=$1 bin
    bin=$(cm_pg_bin)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        cm_as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
}

cm_pg_running() {
    local dir=$1 bin
    bin=$(cm_pg_bin)
    [[ -f "$dir/data/postmaster.pid" ]] && cm_as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# cm_redis_start DIR PORT [durable|fast]: a Redis on 127.0.0.1:PORT, data and pid in DIR.
#   durable (the default): an append-only file fsynced every second (a crash loses at most about a second of
#            stream entries, which the outbox re-drives).
#   fast:    no persistence, for throwaway test servers only.
cm_redis_start() {
    local dir=$1 port=$2 mode=${3:-durable} persistence
    case $mode in
        durable) persistence=(--appendonly yes --appendfsync everysec) ;;
        fast) persistence=(--appendonly no) ;;
        *) echo "cm_redis_start: mode is durable or fast, not $mode" >&2; return 1 ;;
    esac
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' "${persistence[@]}" \
        --protected-mode yes >/dev/null
    for _ in $(seq 1 100); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "redis did not start on port $port" >&2
    tail -20 "$dir/redis.log" >&2
    return 1
}

cm_redis_stop() {
    local dir=$1 pid
    [[ -f "$dir/redis.pid" ]] || return 0
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/redis.pid"
}

# cm_build PRESET ROOT [CMAKE_ARGS...]: configures and builds with CMake presets; CI builds with -Werror.
cm_build() {
    local preset=$1 root=$2
    shift 2
    local werror=OFF
    [[ -n "${CI:-}" ]] && werror=ON
    # Cache hits across clones in other folders (CI clones afresh each run).
    export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
    (cd "$root" && cmake --preset "$preset" -DCAREMATCH_WERROR=$werror "$@" >/dev/null)
    cmake --build "$root/build/$preset"
}

# cm_throwaway_servers DIR: a fast (no fsync, no persistence) PostgreSQL and Redis under DIR on two free
# loopback ports, for tests and benchmarks; sets pg_port and redis_port. cm_throwaway_stop DIR stops both.
cm_throwaway_servers() {
    local dir=$1
    pg_port=$(cm_free_port)
    cm_pg_start "$dir/pg" "$pg_port" fast
    redis_port=$(cm_free_port)
    while [[ $redis_port == "$pg_port" ]]; do redis_port=$(cm_free_port); done
    cm_redis_start "$dir/redis" "$redis_port" fast
}

cm_throwaway_stop() {
    cm_redis_stop "$1/redis"
    cm_pg_stop "$1/pg"
}
