#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and local trials, in a temporary directory.
#   scripts/postgres.sh start   starts one and prints its URL (postgres://testbed@127.0.0.1:PORT/testbed)
#                               and, on a second line, the directory to pass to stop
#   scripts/postgres.sh stop DIR
#   scripts/postgres.sh pause DIR / resume DIR   stops the server and starts it again on the same
#                               port with the same data (a database restart, for fault tests)
# PostgreSQL refuses to run as root: as root, the server runs as the unprivileged system user
# testbed-pg (created when missing). Installs PostgreSQL from Debian's packages when missing.
set -euo pipefail

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u testbed-pg -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    if [ -z "$(bin_dir)" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    fi
    bin="$(bin_dir)"
    if [ "$(id -u)" = 0 ] && ! id testbed-pg >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin testbed-pg
    fi
    dir="$(mktemp -d /tmp/testbed-pg.XXXXXX)"
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown testbed-pg "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U testbed -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: the kernel's pick for a socket bound to port 0.
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" > "$dir/options"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U testbed testbed
    echo "$port" > "$dir/port"
    echo "postgres://testbed@127.0.0.1:$port/testbed"
    echo "$dir"
    ;;
pause)
    dir="${2:?usage: scripts/postgres.sh pause DIR}"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    ;;
resume)
    dir="${2:?usage: scripts/postgres.sh resume DIR}"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >&2
    ;;
stop)
    dir="${2:?usage: scripts/postgres.sh stop DIR}"
    as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: scripts/postgres.sh start | stop DIR | pause DIR | resume DIR" >&2
    exit 2
    ;;
esac
