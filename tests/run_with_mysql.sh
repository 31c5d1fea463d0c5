#!/usr/bin/env bash
# Runs an example that needs MariaDB servers: starts COUNT mariadbd (Debian's) on free
# ports of 127.0.0.1, each in a temporary directory copied from a data directory made
# once by mariadb-install-db (/tmp/acio-mysql-template-10.11, shared with
# tests/support/mysql_server.h), where the seed's account exists: root@127.0.0.1 with
# the password PASSWORD (and only root@localhost and mariadb.sys besides: install-db
# also makes root@<host name>, so the seed's "SELECT Host,User FROM user" would print
# the machine's name). Exports ACIO_MYSQL_URL
# (the first) and ACIO_MYSQL_URL1..COUNT, runs PROG and compares its standard output
# with EXPECTED. With ORDER=unordered, lines after the first FIXED are compared as a
# sorted list (for examples whose tasks finish in either order).
# Usage: run_with_mysql.sh EXPECTED COUNT PASSWORD ORDER FIXED PROG
set -u -o pipefail
expected=$1 count=$2 password=$3 order=$4 fixed=$5 prog=$6
template=/tmp/acio-mysql-template-10.11
innodb=(--innodb-log-file-size=4M --innodb-data-file-path=ibdata1:4M:autoextend)
asroot=()
[ "$(id -u)" = 0 ] && asroot=(--user=root)
tmp=$(mktemp -d /tmp/acio-example-mysql-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
if [ ! -f "$template/mysql_upgrade_info" ]; then
    init=$(mktemp -d /tmp/acio-mysql-init-XXXXXX)
    mariadb-install-db --no-defaults --datadir="$init/data" --auth-root-authentication-method=normal \
        --skip-test-db --skip-log-bin "${innodb[@]}" "${asroot[@]}" >/dev/null 2>&1 &&
        { mv -T "$init/data" "$template" 2>/dev/null || true; }
    rm -rf "$init"
fi
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cat >"$tmp/init.sql" <<SQL
DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');
FLUSH PRIVILEGES;
CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL
for i in $(seq 1 "$count"); do
    port=$(free_port)
    mkdir -p "$tmp/$i"
    cp -a "$template" "$tmp/$i/data"
    mariadbd --no-defaults --datadir="$tmp/$i/data" --port="$port" --socket="$tmp/$i/sock" \
        --pid-file="$tmp/$i/pid" --log-error="$tmp/$i/err.log" --init-file="$tmp/init.sql" \
        --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin "${innodb[@]}" \
        --innodb-buffer-pool-size=16M "${asroot[@]}" 2>>"$tmp/$i/stderr" &
    pids+=($!)
    for _ in $(seq 1 1000); do
        mariadb-admin --no-defaults -h 127.0.0.1 -P "$port" -u root -p"$password" ping >/dev/null 2>&1 && break
        sleep 0.01
    done
    export "ACIO_MYSQL_URL$i=mysql://root:$password@127.0.0.1:$port/mysql"
    [ "$i" = 1 ] && export "ACIO_MYSQL_URL=mysql://root:$password@127.0.0.1:$port/mysql"
done
out=$("$prog") || { echo "$prog failed"; echo "$out"; exit 1; }
if [ "$order" = unordered ]; then
    norm() { printf '%s\n' "$1" | head -n "$fixed"; printf '%s\n' "$1" | tail -n +$((fixed + 1)) | sort; }
    got=$(norm "$out")
    want=$(norm "$(cat "$expected")")
else
    got=$out
    want=$(cat "$expected")
fi
if [ "$got" != "$want" ]; then
    echo "$prog: output differs"; echo "--- expected ---"; echo "$want"; echo "--- got ---"; echo "$got"
    exit 1
fi
