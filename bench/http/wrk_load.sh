#!/usr/bin/env bash
# One measured wrk run against an HTTP server for bench/run.sh: a warm-up run, then the
# measured run, with the server's CPU time (user + sys, from /proc/PID/stat) read around
# it. Prints one line:
#   reqs_per_s=... cpu_ns_per_req=... p50_us=... p99_us=... server_cpu_pct=... errors=...
# Usage: wrk_load.sh PORT CONNS SECONDS WARMUP_SECONDS SERVER_PID
set -euo pipefail
port=$1 conns=$2 secs=$3 warm=$4 pid=$5
url=http://127.0.0.1:$port/
threads=1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
wrk -t$threads -c"$conns" -d"${warm}s" "$url" >/dev/null 2>&1 || true
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks)
t0=$(date +%s.%N)
out=$(wrk -t$threads -c"$conns" -d"${secs}s" --latency "$url" 2>&1)
t1=$(date +%s.%N)
c1=$(ticks)
awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" '
function us(v) {
    if (v ~ /us$/) return v + 0;
    if (v ~ /ms$/) return (v + 0) * 1000;
    if (v ~ /s$/) return (v + 0) * 1e6;
    return v + 0;
}
/^ +50%/ { p50 = us($2) }
/^ +99%/ { p99 = us($2) }
/ requests in / { reqs = $1 }
/Requests\/sec:/ { rps = $2 }
/Socket errors|Non-2xx/ { errors = errors $0 ";" }
END {
    if (reqs <= 0) { print "wrk made no request" > "/dev/stderr"; exit 1 }
    cpu = (c1 - c0) / hz;
    printf "reqs_per_s=%.0f cpu_ns_per_req=%.0f p50_us=%.0f p99_us=%.0f server_cpu_pct=%.0f errors=%s\n",
        rps, cpu * 1e9 / reqs, p50, p99, 100 * cpu / (t1 - t0), errors == "" ? "none" : "\"" errors "\""
}' <<<"$out"
