#!/usr/bin/env bash
# Runs an example that needs Redis servers: starts COUNT redis-servers (Debian's) on
# free ports of 127.0.0.1, each in a temporary directory with the password PASSWORD,
# exports ACIO_REDIS_URL (the first) and ACIO_REDIS_URL1..COUNT, runs PROG and compares
# its standard output with EXPECTED. With ORDER=unordered, lines after the first
# FIXED are compared as a sorted list (for examples whose tasks finish in either order).
# Usage: run_with_redis.sh EXPECTED COUNT PASSWORD ORDER FIXED PROG
set -u -o pipefail
expected=$1 count=$2 password=$3 order=$4 fixed=$5 prog=$6
tmp=$(mktemp -d /tmp/acio-example-redis-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
for i in $(seq 1 "$count"); do
    port=$(free_port)
    mkdir -p "$tmp/$i"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$i" \
        --requirepass "$password" --logfile "$tmp/$i/log" --daemonize no &
    pids+=($!)
    for _ in $(seq 1 500); do
        redis-cli -p "$port" -a "$password" --no-auth-warning ping 2>/dev/null | grep -q PONG && break
        sleep 0.01
    done
    export "ACIO_REDIS_URL$i=redis://:$password@127.0.0.1:$port"
    [ "$i" = 1 ] && export "ACIO_REDIS_URL=redis://:$password@127.0.0.1:$port"
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
