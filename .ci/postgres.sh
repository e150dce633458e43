#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1:${PGPORT:-55432} in a temporary
# directory and prints the connection string. Usage: eval "$(.ci/postgres.sh start)";
# .ci/postgres.sh stop "$PGDATA_DIR". Tests use pause/resume DIR to take it away and back.
set -euo pipefail
cmd=${1:-start}
port=${PGPORT:-}
free_port() { local p; for p in $(seq 55432 55532); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; return 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case "$cmd" in
  start)
    port=${port:-$(free_port)}
    dir=$(mktemp -d /tmp/pu-adapter-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "'$bin/initdb' -D '$dir' -A trust -U postgres -E UTF8 >'$dir.initdb.log' 2>&1"
    # TLS on, with the development server certificate (SAN 127.0.0.1, from certs-dev/ca.pem):
    # the storage suite connects through it and verifies it (verify-full).
    repo=$(cd "$(dirname "$0")/.." && pwd)
    cp "$repo/certs-dev/server.pem" "$dir/server.crt"
    cp "$repo/certs-dev/server.key" "$dir/server.key"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/server.crt" "$dir/server.key"
    chmod 600 "$dir/server.key"
    as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key\" start >/dev/null"
    echo "export PGDATA_DIR='$dir'"
    echo "export PU_ADAPTER_TEST_POSTGRES_URL='host=127.0.0.1 port=$port user=postgres'"
    echo "export PU_ADAPTER_TEST_POSTGRES_CA='$repo/certs-dev/ca.pem'"
    ;;
  pause)
    dir=${2:?data directory}
    as_pg "'$bin/pg_ctl' -D '$dir' -m immediate stop >/dev/null"
    ;;
  resume)
    dir=${2:?data directory}
    port=${port:?PGPORT}
    as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key\" start >/dev/null"
    ;;
  stop)
    dir=${2:?data directory}
    as_pg "'$bin/pg_ctl' -D '$dir' -m fast stop >/dev/null" || true
    rm -rf "$dir" "$dir.initdb.log"
    ;;
esac
