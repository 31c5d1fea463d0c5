#!/usr/bin/env bash
# Runs an example that needs PostgreSQL: initialises a cluster (Debian's PostgreSQL 15)
# in a temporary directory, starts postgres on a free port of 127.0.0.1 (as the postgres
# user when run as root: PostgreSQL refuses root), exports ACIO_PG_CONNINFO, runs PROG and
# compares its standard output with EXPECTED.
# Usage: run_with_pg.sh EXPECTED PROG
set -u -o pipefail
expected=$1 prog=$2
pgbin=/usr/lib/postgresql/15/bin
tmp=$(mktemp -d /tmp/acio-example-pg-XXXXXX)
pid=
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$tmp/data" -U postgres -A trust >"$tmp/initdb.log" 2>&1 ||
    { echo "initdb failed"; cat "$tmp/initdb.log"; exit 1; }
as_pg "$pgbin/postgres" -D "$tmp/data" -p "$port" -k "$tmp" -c listen_addresses=127.0.0.1 \
    -c fsync=off >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.02; done
export ACIO_PG_CONNINFO="host=127.0.0.1 port=$port user=postgres dbname=postgres"
out=$("$prog") || { echo "$prog failed"; echo "$out"; exit 1; }
want=$(cat "$expected")
if [ "$out" != "$want" ]; then
    echo "$prog: output differs"; echo "--- expected ---"; echo "$want"; echo "--- got ---"; echo "$out"
    exit 1
fi
