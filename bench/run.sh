#!/usr/bin/env bash
# acio's benchmarks, run side by side with the anchors in one go:
#
#     bench/run.sh <builddir>          (what `make bench` runs)
#
# Each bench runs the same workload in acio (bench/acio/*.c, built by CMake into
# <builddir>/bench) and in each anchor: asyncio and uvloop (bench/py/bench.py under
# Debian's /usr/bin/python3), Go (bench/go, built here with `go build`) and, for timers,
# libuv (bench/uv, built here against pkg-config's libuv). Every process is pinned to one
# core with taskset and bounded with timeout. For each bench the script prints every
# figure, the ratio of acio to every anchor and whether the issue's targets are met,
# then one JSON line per figure:
#     {"bench": "switch", "impl": "acio", "value": 9.1, "unit": "ns/op"}
# (also written to <builddir>/bench/results.jsonl). All figures are lower-is-better,
# except throughput (unit msgs/s), where higher is better; ratios and targets say which.
#
# Adding a bench: write the workload for each implementation (each prints one line of
# key=value figures), add a bench_<name> function below in the same shape (run_standard
# or run_one for every implementation, then compare and target), and add <name> to
# ALL_BENCHES.
#
# Environment: ACIO_BENCH_N (workload size, default 1000000), ACIO_BENCH_ONLY (a space-
# separated list of benches), ACIO_BENCH_TIMEOUT (seconds per process, default 300),
# ACIO_BENCH_CPU (the core to pin to, default 1, or 0 on a one-core machine), ACIO_BENCH_REPEAT (runs per figure, the
# best kept; default 3; the memory benches run once), ACIO_BENCH_ECHO_SECONDS (the measured
# window of each echo run, default 2, after a 0.5 s warm-up), ACIO_BENCH_CONNS (idle
# connections, default 10000), ACIO_BENCH_HTTP_SECONDS (the measured window of each wrk
# run, default 2, after a 1 s warm-up), ACIO_BENCH_CRAWL_PAGES (crawl_20k's site size,
# default 20000), ACIO_BENCH_SCRAPY_SECONDS (Scrapy's cap in crawl_20k, default 600).
#
# The echo benches (bench/echo/) run a server pinned to ACIO_BENCH_CPU and the load
# generator bench/echo/loadgen.c pinned to the other core; the server's CPU time per
# message is read from /proc/PID/stat around the measured window.
#
# Time is CPU time (user + sys from getrusage, every thread of the process) over the
# measured section, not wall time: on a shared machine other processes' load inflates
# wall time but not the CPU a workload uses; on an idle machine, with one pinned core,
# the two agree. Wall time is shown beside each figure.
set -uo pipefail

ALL_BENCHES="switch spawn timers idle_task_memory gather queue lock to_thread
    echo_protocol_64B echo_protocol_16KiB echo_streams_64B echo_streams_16KiB
    idle_connection_memory redis_get_set pg_select mysql_select html_links crawl_seen_memory http_parse
    http_hello_c100 http_hello_c1000 http_client_20k crawl_20k"

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 <cmake build directory>" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$BUILD/bench
PY=/usr/bin/python3
N=${ACIO_BENCH_N:-1000000}
TIMEOUT=${ACIO_BENCH_TIMEOUT:-300}
CPU=${ACIO_BENCH_CPU:-$([ "$(nproc)" -gt 1 ] && echo 1 || echo 0)}
REPEAT=${ACIO_BENCH_REPEAT:-3}
BENCHES=${ACIO_BENCH_ONLY:-$ALL_BENCHES}
JSONL=$BIN/results.jsonl
GOBIN=$BIN/gobench
UVBIN=$BIN/uv_timers
PFBIN=$BIN/page_fault
UVECHO=$BIN/echo_uv_server
LOADCPU=$([ "$CPU" = 0 ] && [ "$(nproc)" -gt 1 ] && echo 1 || echo 0) # the load generator's core
ECHO_SECONDS=${ACIO_BENCH_ECHO_SECONDS:-2}
ECHO_WARMUP=0.5
IDLE_CONNS=${ACIO_BENCH_CONNS:-10000}

declare -A VAL  # "bench/impl" -> value
declare -A UNIT # "bench" -> unit
FAILURES=0

mkdir -p "$BIN"
: >"$JSONL"

# ---- helpers ---------------------------------------------------------------------------

# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
# calc3 EXPR: the same, to three significant digits (for ratios).
calc3() { awk "BEGIN { printf \"%.3g\", ($1) }"; }

# kv LINE KEY: the value of KEY=value in LINE (empty if absent).
kv() { sed -n "s/.*\\b$2=\\([-0-9.e+]*\\).*/\\1/p" <<<"$1"; }

# run_impl BENCH IMPL CMD...: run one workload process pinned and bounded; its stdout
# line goes to the global LINE. Returns non-zero (and says why) if it failed.
LINE=""
run_impl() {
    local bench=$1 impl=$2 err rc
    shift 2
    LINE=""
    local prog=$1 i=1
    # The program is the first word after `env` and its VAR=value assignments.
    if [ "$prog" = env ]; then
        while [[ ${!i} == env || ${!i} == *=* ]]; do i=$((i + 1)); done
        prog=${!i}
    fi
    if [ ! -x "$prog" ]; then
        printf '  %-9s skipped: %s not built\n' "$impl" "$prog"
        FAILURES=$((FAILURES + 1))
        return 1
    fi
    err=$(mktemp)
    LINE=$(timeout --kill-after=10 "$TIMEOUT" taskset -c "$CPU" "$@" 2>"$err")
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$LINE" ]; then
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            printf '  %-9s FAILED: timed out after %ss: %s\n' "$impl" "$TIMEOUT" "$*"
        else
            printf '  %-9s FAILED (exit %d): %s\n' "$impl" "$rc" "$*"
        fi
        sed 's/^/            | /' "$err" | head -20
        rm -f "$err"
        FAILURES=$((FAILURES + 1))
        LINE=""
        return 1
    fi
    rm -f "$err"
    return 0
}

# record BENCH IMPL VALUE UNIT [NOTE [NAME]]: keep a figure, print it, add its JSON line
# (under the bench name NAME if given: the echo benches' p99 lines share their bench's
# name and differ by unit).
record() {
    local bench=$1 impl=$2 value=$3 unit=$4 note=${5:-} name=${6:-$1}
    VAL[$bench/$impl]=$value
    UNIT[$bench]=$unit
    printf '  %-12s %12s %-10s %s\n' "$impl" "$value" "$unit" "$note"
    printf '{"bench": "%s", "impl": "%s", "value": %s, "unit": "%s"}\n' \
        "$name" "$impl" "$value" "$unit" >>"$JSONL"
}

# higher_is_better BENCH: true for throughput figures (msgs/s, ops/s, ...), false for costs.
higher_is_better() { [[ ${UNIT[$1]:-} == */s ]]; }

# compare BENCH ANCHOR...: print acio's figure as a ratio of each anchor's.
compare() { compare_impl acio "$@"; }

# compare_impl IMPL BENCH ANCHOR...: the same for another of acio's implementations.
compare_impl() {
    local impl=$1 bench=$2 a=${VAL[$2/$1]:-} anchor b r better worse
    shift 2
    [ -n "$a" ] || return 0
    for anchor in "$@"; do
        b=${VAL[$bench/$anchor]:-}
        [ -n "$b" ] || continue
        r=$(calc3 "$a / $b")
        # Lower is better: a below b is a win by b/a. Higher is better: above b, by a/b.
        if higher_is_better "$bench"; then
            better=$r worse=$(calc3 "$b / $a")
        else
            better=$(calc3 "$b / $a") worse=$r
        fi
        if [ "$(calc "$a <= 0 || $b <= 0")" = 1 ]; then
            printf '  %s / %-8s = %s\n' "$impl" "$anchor" "$r"
        elif [ "$(calc "$better >= 1")" = 1 ]; then
            printf '  %s / %-8s = %-8s (%s %sx better)\n' "$impl" "$anchor" "$r" "$impl" "$better"
        else
            printf '  %s / %-8s = %-8s (%s %sx worse)\n' "$impl" "$anchor" "$r" "$impl" "$worse"
        fi
    done
}

# target BENCH ANCHOR OP LIMIT TEXT [IMPL]: check acio (or IMPL, another of acio's
# implementations) against LIMIT times ANCHOR's figure, or against the absolute LIMIT when
# ANCHOR is "-". OP is <= or < for costs, >= for throughput (msgs/s).
target() {
    local bench=$1 anchor=$2 op=$3 limit=$4 text=$5 impl=${6:-acio} bound verdict
    local a=${VAL[$1/${6:-acio}]:-}
    if [ "$anchor" = - ]; then
        bound=$limit
    else
        [ -n "${VAL[$bench/$anchor]:-}" ] || {
            printf '  target %-34s unknown (no %s figure)\n' "$text" "$anchor"
            return
        }
        bound=$(calc "int(10 * $limit * ${VAL[$bench/$anchor]} + 0.5) / 10")
    fi
    if [ -z "$a" ]; then
        printf '  target %-34s unknown (no %s figure)\n' "$text" "$impl"
        return
    fi
    if [ "$(calc "$a $op $bound")" = 1 ]; then verdict=MET; else verdict=MISSED; fi
    printf '  target %-34s %-6s (%s %s %s, bound %s; at %s%% of the bound)\n' "$text" \
        "$verdict" "$impl" "$a" "${UNIT[$bench]}" "$bound" "$(calc "int(100 * $a / $bound + 0.5)")"
}

header() { printf '\n== %s: %s\n' "$1" "$2"; }

# ---- building the anchors ----------------------------------------------------------------

build_anchors() {
    if command -v go >/dev/null; then
        (cd "$HERE/go" && timeout 600 env GOCACHE=$BIN/go-cache GOPATH=$BIN/go-path GOTOOLCHAIN=local \
            GOPROXY=off GOFLAGS=-mod=mod go build -o "$GOBIN" .) ||
            echo "warning: could not build the Go anchor" >&2
    else
        echo "warning: go not installed (make bench-deps installs golang-go)" >&2
    fi
    if pkg-config --exists libuv 2>/dev/null; then
        # shellcheck disable=SC2046
        cc -O2 -Wall -Wextra -o "$UVBIN" "$HERE/uv/timers.c" $(pkg-config --cflags --libs libuv) ||
            echo "warning: could not build the libuv anchor" >&2
    else
        echo "warning: libuv not found (make bench-deps installs libuv1-dev)" >&2
    fi
    if pkg-config --exists libuv 2>/dev/null; then
        # shellcheck disable=SC2046
        cc -O2 -Wall -Wextra -o "$UVECHO" "$HERE/echo/uv_server.c" $(pkg-config --cflags --libs libuv) ||
            echo "warning: could not build the libuv echo server" >&2
    fi
    cc -O2 -Wall -Wextra -o "$PFBIN" "$HERE/machine/page_fault.c" ||
        echo "warning: could not build the page-fault probe" >&2
    if ! $PY -c 'import uvloop' 2>/dev/null; then
        echo "warning: uvloop missing for $PY (make bench-deps installs python3-uvloop)" >&2
    fi
}

# run_one BENCH IMPL KEY UNIT CMD...: run CMD $REPEAT times and record the smallest
# KEY=value of its lines as the figure (the best run is the one least disturbed by the
# rest of the machine; the other key=value pairs of that run are shown beside it).
run_one() {
    local bench=$1 impl=$2 key=$3 unit=$4 v best="" best_line="" r
    shift 4
    for ((r = 0; r < REPEAT; r++)); do
        run_impl "$bench" "$impl" "$@" || return 0
        v=$(kv "$LINE" "$key")
        if [ -z "$v" ]; then
            printf '  %-9s FAILED: no %s= in output: %s\n' "$impl" "$key" "$LINE"
            FAILURES=$((FAILURES + 1))
            return 0
        fi
        if [ -z "$best" ] || [ "$(calc "$v < $best")" = 1 ]; then
            best=$v best_line=$LINE
        fi
    done
    record "$bench" "$impl" "$best" "$unit" "$(sed "s/\\b$key=[^ ]*//; s/^ *//" <<<"$best_line")"
}
# run_standard BENCH KEY UNIT: the workload in acio, asyncio, uvloop and Go.
run_standard() {
    local bench=$1 key=$2 unit=$3
    run_one "$bench" acio "$key" "$unit" "$BIN/bench_$bench" "$N"
    run_one "$bench" asyncio "$key" "$unit" "$PY" "$HERE/py/bench.py" "$bench" "$N"
    run_one "$bench" uvloop "$key" "$unit" "$PY" "$HERE/py/bench.py" --uvloop "$bench" "$N"
    run_one "$bench" go "$key" "$unit" env GOMAXPROCS=1 "$GOBIN" "$bench" "$N"
}

# ---- the benches ---------------------------------------------------------------------

bench_switch() {
    header switch "two tasks handing control to each other through futures, $N switches (Go: unbuffered channels)"
    run_standard switch cpu_ns_per_op ns/op
    compare switch asyncio uvloop go
    target switch asyncio '<=' 0.02 "switch <= 1/50 asyncio"
    target switch go '<=' 0.5 "switch <= 1/2 Go"
}

bench_spawn() {
    header spawn "create $N tasks that return at once, then await them all"
    run_standard spawn cpu_ns_per_op ns/op
    compare spawn asyncio uvloop go
    target spawn asyncio '<=' 0.02 "spawn <= 1/50 asyncio"
    target spawn go '<=' 0.2 "spawn <= 1/5 Go"
}

bench_timers() {
    header timers "$N call_later, delays pseudo-random over 1 s, until all fired (CPU user+sys)"
    run_standard timers cpu_ms ms
    run_one timers libuv cpu_ms ms "$UVBIN" "$N"
    compare timers asyncio uvloop go libuv
    target timers asyncio '<=' 0.05 "timers <= 1/20 asyncio CPU"
    target timers libuv '<' 1 "timers < libuv CPU"
}

# idle_one IMPL CMD...: peak RSS (and page tables) with N idle tasks minus with 0.
idle_one() {
    local impl=$1 hwm pte hwm0 pte0
    shift
    run_impl idle_task_memory "$impl" "$@" 0 || return 0
    hwm0=$(kv "$LINE" vmhwm_kb) pte0=$(kv "$LINE" vmpte_kb)
    run_impl idle_task_memory "$impl" "$@" "$N" || return 0
    hwm=$(kv "$LINE" vmhwm_kb) pte=$(kv "$LINE" vmpte_kb)
    if [ -z "$hwm" ] || [ -z "$hwm0" ] || [ "$N" -eq 0 ]; then
        printf '  %-9s FAILED: bad output: %s\n' "$impl" "$LINE"
        FAILURES=$((FAILURES + 1))
        return 0
    fi
    record idle_task_memory "$impl" "$(calc "int(($hwm - $hwm0) * 1024 / $N + 0.5)")" \
        bytes/task "(VmHWM $hwm0 -> $hwm kB)"
    if [ "$impl" = acio ] && [ -n "$pte" ] && [ -n "$pte0" ]; then
        record idle_task_pte acio "$(calc "int(($pte - $pte0) * 1024 / $N + 0.5)")" \
            bytes/task "page tables (VmPTE $pte0 -> $pte kB), informational"
    fi
}

bench_idle_task_memory() {
    header idle_task_memory "$N tasks suspended at once on one shared future; peak RSS per task"
    idle_one acio "$BIN/bench_idle_task_memory"
    idle_one asyncio "$PY" "$HERE/py/bench.py" idle_task_memory
    idle_one uvloop "$PY" "$HERE/py/bench.py" --uvloop idle_task_memory
    idle_one go env GOMAXPROCS=1 "$GOBIN" idle_task_memory
    compare idle_task_memory asyncio uvloop go
    target idle_task_memory - '<=' 4608 "idle task <= 4.5 KiB"
}

# min A B: the smaller of two integers.
min() { echo $(($1 < $2 ? $1 : $2)); }

bench_gather() {
    local n
    n=$(min "$N" 100000)
    header gather "gather of $n tasks that return at once, results in order (Go: $n goroutines + WaitGroup filling a slice)"
    run_one gather acio cpu_ns_per_op ns/task "$BIN/bench_gather" "$n"
    run_one gather asyncio cpu_ns_per_op ns/task "$PY" "$HERE/py/bench.py" gather "$n"
    run_one gather uvloop cpu_ns_per_op ns/task "$PY" "$HERE/py/bench.py" --uvloop gather "$n"
    run_one gather go cpu_ns_per_op ns/task env GOMAXPROCS=1 "$GOBIN" gather "$n"
    compare gather asyncio uvloop go
    target gather asyncio '<=' 0.05 "gather <= 1/20 asyncio"
}

bench_queue() {
    header queue "producer/consumer pair, $N items through a queue of maxsize 64 (Go: channel buffered to 64)"
    run_standard queue cpu_ns_per_op ns/item
    compare queue asyncio uvloop go
    target queue asyncio '<=' 0.05 "queue <= 1/20 asyncio"
    target queue go '<=' 1 "queue <= Go"
}

bench_http_parse() {
    # picohttpparser (the model) is not in Debian; http-parser 2.9 is Node.js's old one.
    header http_parse "parse $N HTTP/1.1 request heads (four realistic requests in turn) to method, target, fields and framing"
    if [ ! -x "$BIN/bench_http_parse" ]; then
        echo "  skipped: bench_http_parse not built (libhttp-parser-dev missing)"
        return 0
    fi
    run_one http_parse acio cpu_ns_per_op ns/request "$BIN/bench_http_parse" acio "$N"
    run_one http_parse http-parser cpu_ns_per_op ns/request "$BIN/bench_http_parse" http-parser "$N"
    compare http_parse http-parser
    target http_parse http-parser '<=' 1 "http_parse <= http-parser"
}

bench_lock() {
    header lock "a lock handed between two tasks $N times, yielding while held (Go: sync.Mutex + Gosched)"
    run_standard lock cpu_ns_per_op ns/handover
    compare lock asyncio uvloop go
    target lock asyncio '<=' 0.05 "lock <= 1/20 asyncio"
    target lock go '<=' 1 "lock <= Go"
}

bench_to_thread() {
    # Python's to_thread is slow: fewer round trips there (the figure is per call).
    # Go has no thread pool: a worker goroutine locked to its own OS thread, which needs
    # GOMAXPROCS=2 (the only bench not run with GOMAXPROCS=1). Every process, thread
    # pool included, is still pinned to the one core.
    local n pn
    n=$(min "$N" 100000) pn=$(min "$N" 10000)
    header to_thread "round trips of a trivial function through the thread pool, one at a time ($n calls; Python $pn; Go: LockOSThread worker, GOMAXPROCS=2)"
    run_one to_thread acio cpu_ns_per_op ns/call "$BIN/bench_to_thread" "$n"
    run_one to_thread asyncio cpu_ns_per_op ns/call "$PY" "$HERE/py/bench.py" to_thread "$pn"
    run_one to_thread uvloop cpu_ns_per_op ns/call "$PY" "$HERE/py/bench.py" --uvloop to_thread "$pn"
    run_one to_thread go cpu_ns_per_op ns/call env GOMAXPROCS=2 "$GOBIN" to_thread "$n"
    compare to_thread asyncio uvloop go
    target to_thread asyncio '<=' 0.2 "to_thread <= 1/5 asyncio"
}

# ---- the echo and idle-connection benches (bench/echo/) --------------------------------

# start_server IMPL CMD...: start an echo server pinned to $CPU and bounded by timeout, and
# wait (at most 10 s) for its "Serving on HOST:PORT" line. Sets SRV_PID (the server process
# itself, whose /proc entries the clients read), SRV_PORT, SRV_WRAP (timeout's process) and
# SRV_OUT (the server's output). Returns non-zero (and says why) if it did not come up.
start_server() {
    local impl=$1 prog=$2 i
    shift
    [ "$prog" = env ] && prog=$3 # env GOMAXPROCS=1 PROG ...
    SRV_PID="" SRV_PORT="" SRV_WRAP="" SRV_OUT=""
    if [ ! -x "$prog" ]; then
        printf '  %-12s skipped: %s not built\n' "$impl" "$prog"
        FAILURES=$((FAILURES + 1))
        return 1
    fi
    SRV_OUT=$(mktemp)
    timeout --kill-after=10 "$TIMEOUT" taskset -c "$CPU" "$@" >"$SRV_OUT" 2>&1 &
    SRV_WRAP=$!
    for ((i = 0; i < 200; i++)); do
        SRV_PORT=$(sed -n 's/^Serving on .*:\([0-9][0-9]*\)$/\1/p' "$SRV_OUT" | head -1)
        [ -n "$SRV_PORT" ] && break
        kill -0 "$SRV_WRAP" 2>/dev/null || break
        sleep 0.05
    done
    # timeout runs the server as its child (taskset and env exec it in place).
    SRV_PID=$(pgrep -P "$SRV_WRAP" | head -1)
    if [ -z "$SRV_PORT" ] || [ -z "$SRV_PID" ]; then
        printf '  %-12s FAILED: the server did not start: %s\n' "$impl" "$*"
        sed 's/^/            | /' "$SRV_OUT" | head -20
        FAILURES=$((FAILURES + 1))
        stop_server
        return 1
    fi
}

# stop_server: end the server start_server started (TERM, then KILL after 5 s).
stop_server() {
    local i
    if [ -n "$SRV_PID" ]; then
        kill -TERM "$SRV_PID" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            kill -0 "$SRV_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SRV_PID" 2>/dev/null
    fi
    [ -n "$SRV_WRAP" ] && wait "$SRV_WRAP" 2>/dev/null
    [ -n "$SRV_OUT" ] && rm -f "$SRV_OUT"
    SRV_PID="" SRV_WRAP="" SRV_OUT=""
}

# client IMPL CMD...: run a client program pinned to $LOADCPU and bounded; its stdout line
# goes to LINE. Returns non-zero (and says why) if it failed.
client() {
    local impl=$1 err rc
    shift
    err=$(mktemp)
    LINE=$(timeout --kill-after=10 "$TIMEOUT" taskset -c "$LOADCPU" "$@" 2>"$err")
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$LINE" ]; then
        printf '  %-12s FAILED (exit %d): %s\n' "$impl" "$rc" "$*"
        sed 's/^/            | /' "$err" | head -20
        FAILURES=$((FAILURES + 1))
        LINE=""
    fi
    rm -f "$err"
    [ -n "$LINE" ]
}

# echo_server_cmd LAYER IMPL: the command line of IMPL's echo server into SRV_CMD (libuv, Go
# and the epoll server have one server for both layers).
echo_server_cmd() {
    case $2 in
    acio) SRV_CMD=("$BUILD/examples/echo_server_$1" 0) ;;
    asyncio | uvloop) SRV_CMD=("$PY" "$HERE/echo/server.py" "$2-$1") ;;
    libuv) SRV_CMD=("$UVECHO") ;;
    go) SRV_CMD=(env GOMAXPROCS=1 "$GOBIN" echo_server) ;;
    epoll) SRV_CMD=("$BIN/echo_epoll_server") ;;
    esac
}

# echo_bench LAYER LABEL CONNS SIZE: one echo bench (protocol or streams layer) in every
# implementation, then its three kinds of figure with ratios and the issue's targets.
# All six servers are started at once (idle ones cost nothing) and loaded in turn,
# $REPEAT rounds, so that every implementation meets the same machine load; each keeps
# its best of each figure: the highest msgs/s, the lowest CPU per message, the lowest p99.
ECHO_IMPLS="acio asyncio uvloop libuv go epoll"
echo_bench() {
    local layer=$1 bench=echo_$1_$2 conns=$3 size=$4 impl r m c p
    local -A pid port wrap out best_m best_c best_p note
    header "$bench" "$conns connections x $size-byte messages, one in flight on each (ping-pong);
   servers on core $CPU, load generator (bench/echo/loadgen.c) on core $LOADCPU; ${ECHO_WARMUP} s warm-up, ${ECHO_SECONDS} s window, best of $REPEAT"
    for impl in $ECHO_IMPLS; do
        echo_server_cmd "$layer" "$impl"
        start_server "$impl" "${SRV_CMD[@]}" || continue
        pid[$impl]=$SRV_PID port[$impl]=$SRV_PORT wrap[$impl]=$SRV_WRAP out[$impl]=$SRV_OUT
    done
    for ((r = 0; r < REPEAT; r++)); do
        for impl in $ECHO_IMPLS; do
            [ -n "${pid[$impl]:-}" ] || continue
            if ! client "$impl" "$BIN/echo_loadgen" "${port[$impl]}" "$conns" "$size" \
                "$ECHO_WARMUP" "$ECHO_SECONDS" 10000000 "${pid[$impl]}"; then
                pid[$impl]="" # failed: no more rounds (its server is stopped below)
                continue
            fi
            m=$(kv "$LINE" msgs_per_s) c=$(kv "$LINE" cpu_ns_per_msg) p=$(kv "$LINE" p99_us)
            if [ -z "$m" ] || [ -z "$c" ] || [ -z "$p" ]; then
                printf '  %-12s FAILED: bad load generator output: %s\n' "$impl" "$LINE"
                FAILURES=$((FAILURES + 1))
                pid[$impl]=""
                continue
            fi
            if [ -z "${best_m[$impl]:-}" ] || [ "$(calc "$m > ${best_m[$impl]}")" = 1 ]; then
                best_m[$impl]=$m
                note[$impl]="p50 $(kv "$LINE" p50_us) us; CPU: server $(kv "$LINE" server_cpu_pct)%, load generator $(kv "$LINE" loadgen_cpu_pct)%"
            fi
            [ -z "${best_c[$impl]:-}" ] || [ "$(calc "$c < ${best_c[$impl]}")" = 1 ] && best_c[$impl]=$c
            [ -z "${best_p[$impl]:-}" ] || [ "$(calc "$p < ${best_p[$impl]}")" = 1 ] && best_p[$impl]=$p
        done
    done
    for impl in $ECHO_IMPLS; do
        [ -n "${wrap[$impl]:-}" ] || continue
        SRV_PID=$(pgrep -P "${wrap[$impl]}" | head -1) SRV_WRAP=${wrap[$impl]} SRV_OUT=${out[$impl]}
        stop_server
    done
    echo "  throughput (higher is better):"
    for impl in $ECHO_IMPLS; do
        [ -n "${best_m[$impl]:-}" ] && record "$bench" "$impl" "${best_m[$impl]}" msgs/s "(${note[$impl]})"
    done
    compare "$bench" asyncio uvloop libuv go epoll
    echo "  server CPU time per message (user + sys):"
    for impl in $ECHO_IMPLS; do
        [ -n "${best_c[$impl]:-}" ] && record "${bench}_cpu" "$impl" "${best_c[$impl]}" ns/msg
    done
    compare "${bench}_cpu" asyncio uvloop libuv go epoll
    echo "  99th percentile round trip:"
    for impl in $ECHO_IMPLS; do
        [ -n "${best_p[$impl]:-}" ] && record "${bench}_p99" "$impl" "${best_p[$impl]}" us_p99 "" "$bench"
    done
    compare "${bench}_p99" asyncio uvloop libuv go epoll
    if [ "$layer" = protocol ]; then
        target "${bench}_cpu" epoll '<=' 1.05 "CPU/msg <= 1.05x epoll server"
        target "$bench" uvloop '>=' 1 "msgs/s >= uvloop"
    else
        target "${bench}_cpu" epoll '<=' 1.25 "CPU/msg <= 1.25x epoll server"
        target "$bench" uvloop '>=' 1.2 "msgs/s >= 1.2x uvloop streams"
    fi
}

bench_echo_protocol_64B() { echo_bench protocol 64B 100 64; }
bench_echo_protocol_16KiB() { echo_bench protocol 16KiB 10 16384; }
bench_echo_streams_64B() { echo_bench streams 64B 100 64; }
bench_echo_streams_16KiB() { echo_bench streams 16KiB 10 16384; }

# idle_conn_one IMPL CMD...: peak RSS per connection of the server CMD holding
# $IDLE_CONNS idle connections, over its RSS before them (bench/echo/idle_client.c).
idle_conn_one() {
    local impl=$1
    shift
    start_server "$impl" "$@" || return 0
    if client "$impl" "$BIN/echo_idle_client" "$SRV_PORT" "$IDLE_CONNS" "$SRV_PID"; then
        record idle_connection_memory "$impl" "$(kv "$LINE" bytes_per_conn)" bytes/conn \
            "(VmRSS $(kv "$LINE" rss0_kb) kB before, VmHWM $(kv "$LINE" hwm_kb) kB with them)"
    fi
    stop_server
}

bench_idle_connection_memory() {
    header idle_connection_memory "$IDLE_CONNS idle TCP connections held by an echo server; (peak RSS - RSS before) per connection"
    # Every server (and the client) needs a descriptor per connection.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_CONNS + 64)) ]; then
        echo "  FAILED: ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)): too low for $IDLE_CONNS connections"
        FAILURES=$((FAILURES + 1))
        return 0
    fi
    idle_conn_one acio "$BUILD/examples/echo_server_protocol" 0
    idle_conn_one acio_streams "$BUILD/examples/echo_server_streams" 0
    idle_conn_one uvloop "$PY" "$HERE/echo/server.py" uvloop-protocol
    idle_conn_one asyncio "$PY" "$HERE/echo/server.py" asyncio-protocol
    idle_conn_one go env GOMAXPROCS=1 "$GOBIN" echo_server
    compare idle_connection_memory uvloop asyncio go
    compare_impl acio_streams idle_connection_memory uvloop asyncio go
    target idle_connection_memory uvloop '<=' 0.5 "protocol conn <= 1/2 uvloop"
    target idle_connection_memory go '<' 1 "streams conn < Go" acio_streams
}

# ---- redis_get_set (issue 10) ----------------------------------------------------------

# run_rate BENCH IMPL CMD...: run CMD $REPEAT times (pinned to $CPU); keep the run that
# used the least CPU per operation and record its throughput as BENCH (ops/s) and its
# CPU per operation as BENCH_cpu (ns/op).
run_rate() {
    local bench=$1 impl=$2 v best="" best_line="" r
    shift 2
    for ((r = 0; r < REPEAT; r++)); do
        run_impl "$bench" "$impl" "$@" || return 0
        v=$(kv "$LINE" cpu_ns_per_op)
        [ -n "$v" ] || { printf '  %-9s FAILED: %s\n' "$impl" "$LINE"; FAILURES=$((FAILURES + 1)); return 0; }
        if [ -z "$best" ] || [ "$(calc "$v < $best")" = 1 ]; then best=$v best_line=$LINE; fi
    done
    record "$bench" "$impl" "$(kv "$best_line" ops_per_s)" ops/s "wall $(kv "$best_line" wall_s) s"
    record "${bench}_cpu" "$impl" "$best" ns/op "client CPU per command"
}

bench_redis_get_set() {
    local ops=${ACIO_BENCH_REDIS_OPS:-200000} port dir pid variant mode depth name
    if ! command -v redis-server >/dev/null; then
        echo "redis_get_set: redis-server not installed (make bench-deps installs it)" >&2
        FAILURES=$((FAILURES + 1))
        return
    fi
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir=$(mktemp -d)
    taskset -c "$LOADCPU" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/log" --daemonize no &
    pid=$!
    for _ in $(seq 1 500); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.01; done
    for variant in conn1:1 conn1:16 pool10:1 pool10:16; do
        mode=${variant%%:*} depth=${variant##*:}
        name=redis_get_set
        [ "$mode" = pool10 ] && name=${name}_pool10
        [ "$depth" != 1 ] && name=${name}_p$depth
        header "$name" "50 tasks, SET+GET, $ops commands, $mode, pipeline depth $depth; redis-server on core $LOADCPU, clients on core $CPU"
        run_rate "$name" acio "$BIN/bench_redis_get_set" "$port" "$ops" "$mode" "$depth"
        # redis-benchmark has no pool: its 50 clients are 50 connections in every variant.
        run_rate "$name" redis_benchmark "$HERE/redis/redis_benchmark.sh" "$port" "$ops" "$depth"
        run_rate "$name" redis_py "$PY" "$HERE/redis/redis_py.py" "$port" "$((ops / 10))" "$mode" "$depth"
        compare "$name" redis_benchmark redis_py
        compare "${name}_cpu" redis_benchmark redis_py
        target "${name}_cpu" redis_benchmark '<=' 1.2 "client CPU/op <= 1.2x redis-benchmark"
        target "$name" redis_py '>=' 10 "throughput >= 10x redis-py"
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
}

# ---- pg_select (issue 10) --------------------------------------------------------------

# as_postgres CMD...: run CMD as the postgres user when root (PostgreSQL refuses root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bench_pg_select() {
    local queries=${ACIO_BENCH_PG_QUERIES:-50000} pgbin=/usr/lib/postgresql/15/bin port dir pid
    local shape name n dsn
    if [ ! -x "$pgbin/postgres" ]; then
        echo "pg_select: PostgreSQL 15 not installed (make bench-deps installs postgresql)" >&2
        FAILURES=$((FAILURES + 1))
        return
    fi
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir=$(mktemp -d)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_postgres "$pgbin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null 2>&1 || {
        echo "pg_select: initdb failed" >&2
        FAILURES=$((FAILURES + 1))
        rm -rf "$dir"
        return
    }
    as_postgres taskset -c "$LOADCPU" "$pgbin/postgres" -D "$dir/data" -p "$port" -k "$dir" \
        -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
        -c max_connections=50 >"$dir/log" 2>&1 &
    pid=$!
    dsn="postgresql://postgres@127.0.0.1:$port/postgres"
    for _ in $(seq 1 500); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.02; done
    "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c \
        "CREATE TABLE bench_t (id int PRIMARY KEY, name text, score float8);
         INSERT INTO bench_t SELECT i, 'name-' || i, i * 0.5 FROM generate_series(1, 10000) i;
         ANALYZE bench_t" >/dev/null
    for shape in one rows1000; do
        name=pg_select
        n=$queries
        if [ "$shape" = rows1000 ]; then
            name=pg_select_rows1000
            n=$((queries / 20))
        fi
        header "$name" "10 tasks, pool of 10, acquire + query + release, $n queries ($shape: $([ "$shape" = one ] && echo 'one row by primary key' || echo '1,000 rows')); postgres on core $LOADCPU, clients on core $CPU"
        run_rate "$name" acio "$BIN/bench_pg_select" "host=127.0.0.1 port=$port user=postgres dbname=postgres" "$n" "$shape"
        run_rate "$name" asyncpg "$PY" "$HERE/pg/asyncpg_select.py" "$dsn" "$n" "$shape"
        if $PY -c 'import psycopg, psycopg_pool' 2>/dev/null; then
            run_rate "$name" psycopg "$PY" "$HERE/pg/psycopg_select.py" "$dsn" "$((n / 2))" "$shape"
        else
            echo "  psycopg   skipped: python3-psycopg / python3-psycopg-pool not installed"
        fi
        compare "$name" asyncpg psycopg
        compare "${name}_cpu" asyncpg psycopg
        target "$name" asyncpg '>=' 2 "throughput >= 2x asyncpg"
        target "${name}_cpu" asyncpg '<' 1 "client CPU/query < asyncpg"
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
}

# ---- mysql_select (issue 10) -----------------------------------------------------------

# run_query_rate BENCH IMPL CMD...: run_rate's twin for queries: the run with the least
# CPU per query is kept; BENCH in queries/s, BENCH_cpu in client CPU ns per query.
run_query_rate() {
    local bench=$1 impl=$2 v best="" best_line="" r
    shift 2
    for ((r = 0; r < REPEAT; r++)); do
        run_impl "$bench" "$impl" "$@" || return 0
        v=$(kv "$LINE" cpu_ns_per_op)
        [ -n "$v" ] || { printf '  %-9s FAILED: %s\n' "$impl" "$LINE"; FAILURES=$((FAILURES + 1)); return 0; }
        if [ -z "$best" ] || [ "$(calc "$v < $best")" = 1 ]; then best=$v best_line=$LINE; fi
    done
    record "$bench" "$impl" "$(kv "$best_line" ops_per_s)" queries/s "wall $(kv "$best_line" wall_s) s"
    record "${bench}_cpu" "$impl" "$best" ns/query "client CPU per query"
}

# A mariadbd from Debian's mariadb-server on a free port, pinned to the load core, in a
# temporary directory made by mariadb-install-db, with the table the workloads read:
# bench.t (id INT PRIMARY KEY, name VARCHAR(32), value DOUBLE, created DATETIME), 1,000
# rows. 10 tasks on a pool of 10 connections; acio runs prepared statements, aiomysql
# (python3-aiomysql) its client-side escaped queries.
bench_mysql_select() {
    local queries=${ACIO_BENCH_MYSQL_QUERIES:-20000} port dir pid mode name q asroot=()
    if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
        echo "mysql_select: mariadbd not installed (make bench-deps installs mariadb-server)" >&2
        FAILURES=$((FAILURES + 1))
        return
    fi
    [ "$(id -u)" = 0 ] && asroot=(--user=root)
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dir=$(mktemp -d)
    mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
        --skip-test-db --skip-log-bin "${asroot[@]}" >/dev/null 2>&1
    # One statement per line: mariadbd's --init-file reads it line by line.
    cat >"$dir/init.sql" <<'SQL'
CREATE DATABASE IF NOT EXISTS bench;
CREATE USER IF NOT EXISTS 'bench'@'%' IDENTIFIED BY 'bench';
GRANT ALL ON bench.* TO 'bench'@'%';
CREATE TABLE IF NOT EXISTS bench.t (id INT PRIMARY KEY, name VARCHAR(32), value DOUBLE, created DATETIME) ENGINE=InnoDB;
USE bench;
INSERT IGNORE INTO t SELECT seq, CONCAT('name-', seq), seq * 1.5, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_1000;
SQL
    taskset -c "$LOADCPU" /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --port="$port" \
        --socket="$dir/sock" --pid-file="$dir/pid" --log-error="$dir/err.log" \
        --init-file="$dir/init.sql" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
        --max-connections=100 "${asroot[@]}" 2>/dev/null &
    pid=$!
    for _ in $(seq 1 1000); do
        mariadb --no-defaults -h 127.0.0.1 -P "$port" -u bench -pbench bench -N \
            -e 'SELECT COUNT(*) FROM t' 2>/dev/null | grep -qx 1000 && break
        sleep 0.01
    done
    for mode in pk rows1000; do
        name=mysql_select q=$queries
        [ "$mode" = rows1000 ] && name=mysql_select_rows1000 q=$((queries / 20))
        header "$name" "10 tasks, pool of 10, $q queries: $([ "$mode" = pk ] && echo 'one row by primary key' || echo 'all 1,000 rows'); mariadbd on core $LOADCPU, clients on core $CPU"
        run_query_rate "$name" acio "$BIN/bench_mysql_select" "$port" "$q" "$mode"
        run_query_rate "$name" aiomysql "$PY" "$HERE/mysql/aiomysql_select.py" "$port" "$((q / 5))" "$mode"
        compare "$name" aiomysql
        compare "${name}_cpu" aiomysql
        target "$name" aiomysql '>=' 5 "throughput >= 5x aiomysql"
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
}

bench_html_links() {
    local dir=$HERE/../tests/html_corpus/gen rounds
    rounds=$((N / 10000))
    [ "$rounds" -ge 5 ] || rounds=5
    header html_links "a[href]/area[href] of the $(ls "$dir" | wc -l) real-world-shaped pages of tests/html_corpus/gen, $rounds rounds; CPU per KB of HTML"
    run_one html_links acio cpu_ns_per_kb ns/KB "$BIN/bench_html_links" "$dir" "$rounds"
    run_one html_links gumbo cpu_ns_per_kb ns/KB "$BIN/html_gumbo_links" "$dir" "$rounds"
    compare html_links gumbo
    target html_links - '<' 1000 "link extraction < 1 us/KB"
}

bench_crawl_seen_memory() {
    header crawl_seen_memory "seen-set holding 1,000,000 URL fingerprints: bytes per URL"
    run_impl crawl_seen_memory acio "$BIN/bench_crawl_seen_memory" 1000000 || return 0
    record crawl_seen_memory acio "$(kv "$LINE" bytes_per_url)" bytes/url \
        "(sized ahead; grown from empty: $(kv "$LINE" grown_bytes_per_url); fingerprint+add $(kv "$LINE" add_cpu_ns) ns, lookup $(kv "$LINE" lookup_cpu_ns) ns)"
}

# ---- the HTTP server bench (bench/http/) ----------------------------------------------

# The same keep-alive hello-world route ("Hello, World!", text/plain) in acio, nginx (one
# worker, `return 200`), Go net/http (GOMAXPROCS=1), uvicorn (uvloop and httptools when
# installed) and aiohttp.web on uvloop; each server pinned to core $CPU, wrk to core
# $LOADCPU (bench/http/wrk_load.sh), the server's CPU per request from /proc/PID/stat.
HTTP_IMPLS="acio nginx go uvicorn aiohttp"
HTTP_SECONDS=${ACIO_BENCH_HTTP_SECONDS:-2}
HTTP_WARMUP=1

free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# http_server_cmd IMPL: IMPL's hello-world server command line into SRV_CMD.
http_server_cmd() {
    local dir port
    case $1 in
    acio) SRV_CMD=("$BIN/http_acio_hello" 0) ;;
    go) SRV_CMD=(env GOMAXPROCS=1 "$GOBIN" http_server) ;;
    uvicorn) SRV_CMD=("$PY" "$HERE/http/hello_uvicorn.py" 0) ;;
    aiohttp) SRV_CMD=("$PY" "$HERE/http/hello_aiohttp.py" 0) ;;
    nginx)
        dir=$BIN/nginx port=$(free_port)
        mkdir -p "$dir"
        sed "s#@DIR@#$dir#g; s#@PORT@#$port#g" "$HERE/http/nginx.conf.in" >"$dir/nginx.conf"
        SRV_CMD=(/bin/sh -c "echo Serving on 127.0.0.1:$port; exec nginx -q -c $dir/nginx.conf -p $dir")
        ;;
    esac
}

# http_bench CONNS: wrk with CONNS keep-alive connections against every server, in turn,
# $REPEAT rounds (every server meets the same machine load); each keeps its best figures.
http_bench() {
    local conns=$1 bench=http_hello_c$1 impl r q c p
    local -A pid port wrap out best_q best_c best_p note
    header "$bench" "wrk -t1 -c$conns on a keep-alive GET / answering 'Hello, World!';
   servers on core $CPU, wrk on core $LOADCPU; ${HTTP_WARMUP} s warm-up, ${HTTP_SECONDS} s window, best of $REPEAT"
    if ! command -v wrk >/dev/null; then
        echo "  FAILED: wrk not installed (make bench-deps installs it)"
        FAILURES=$((FAILURES + 1))
        return 0
    fi
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    for impl in $HTTP_IMPLS; do
        http_server_cmd "$impl"
        start_server "$impl" "${SRV_CMD[@]}" || continue
        pid[$impl]=$SRV_PID port[$impl]=$SRV_PORT wrap[$impl]=$SRV_WRAP out[$impl]=$SRV_OUT
    done
    for ((r = 0; r < REPEAT; r++)); do
        for impl in $HTTP_IMPLS; do
            [ -n "${pid[$impl]:-}" ] || continue
            if ! client "$impl" "$HERE/http/wrk_load.sh" "${port[$impl]}" "$conns" "$HTTP_SECONDS" \
                "$HTTP_WARMUP" "${pid[$impl]}"; then
                # A slow server can still be busy with the warm-up's connections: it gets
                # the other rounds, unless its process is gone.
                kill -0 "${pid[$impl]}" 2>/dev/null || pid[$impl]=""
                continue
            fi
            q=$(kv "$LINE" reqs_per_s) c=$(kv "$LINE" cpu_ns_per_req) p=$(kv "$LINE" p99_us)
            if [ -z "$q" ] || [ -z "$c" ] || [ -z "$p" ]; then
                printf '  %-12s FAILED: bad wrk_load output: %s\n' "$impl" "$LINE"
                FAILURES=$((FAILURES + 1))
                pid[$impl]=""
                continue
            fi
            if [ -z "${best_q[$impl]:-}" ] || [ "$(calc "$q > ${best_q[$impl]}")" = 1 ]; then
                best_q[$impl]=$q
                note[$impl]="p50 $(kv "$LINE" p50_us) us; server CPU $(kv "$LINE" server_cpu_pct)%; errors: $(sed -n 's/.*errors=//p' <<<"$LINE")"
            fi
            [ -z "${best_c[$impl]:-}" ] || [ "$(calc "$c < ${best_c[$impl]}")" = 1 ] && best_c[$impl]=$c
            [ -z "${best_p[$impl]:-}" ] || [ "$(calc "$p < ${best_p[$impl]}")" = 1 ] && best_p[$impl]=$p
        done
    done
    for impl in $HTTP_IMPLS; do
        [ -n "${wrap[$impl]:-}" ] || continue
        SRV_PID=$(pgrep -P "${wrap[$impl]}" | head -1) SRV_WRAP=${wrap[$impl]} SRV_OUT=${out[$impl]}
        stop_server
    done
    echo "  throughput (higher is better):"
    for impl in $HTTP_IMPLS; do
        [ -n "${best_q[$impl]:-}" ] && record "$bench" "$impl" "${best_q[$impl]}" req/s "(${note[$impl]})"
    done
    compare "$bench" nginx go uvicorn aiohttp
    echo "  server CPU time per request (user + sys):"
    for impl in $HTTP_IMPLS; do
        [ -n "${best_c[$impl]:-}" ] && record "${bench}_cpu" "$impl" "${best_c[$impl]}" ns/req
    done
    compare "${bench}_cpu" nginx go uvicorn aiohttp
    echo "  99th percentile latency (wrk):"
    for impl in $HTTP_IMPLS; do
        [ -n "${best_p[$impl]:-}" ] && record "${bench}_p99" "$impl" "${best_p[$impl]}" us_p99 "" "$bench"
    done
    compare "${bench}_p99" nginx go uvicorn aiohttp
    target "${bench}_cpu" nginx '<=' 1 "CPU/req <= nginx"
    target "$bench" uvicorn '>=' 3 "req/s >= 3x uvicorn"
    target "$bench" aiohttp '>=' 3 "req/s >= 3x aiohttp.web"
}

bench_http_hello_c100() { http_bench 100; }
bench_http_hello_c1000() { http_bench 1000; }
# ---- HTTP client ------------------------------------------------------------------------

# nginx_up [ROOT [DIRECTIVES]]: nginx (one worker, pinned to the load core) serving ROOT,
# or by default 1,000 pages of 4 KiB generated in a temporary directory, with DIRECTIVES
# added to its server block; NGINX_DIR / NGINX_PORT / NGINX_PID describe it.
NGINX_DIR="" NGINX_PORT="" NGINX_PID=""
nginx_up() {
    [ -x /usr/sbin/nginx ] || { echo "  FAILED: nginx not installed (Debian's nginx)"; return 1; }
    NGINX_DIR=$(mktemp -d /tmp/acio-bench-nginx-XXXXXX)
    chmod 755 "$NGINX_DIR"
    mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/logs"
    local pad i root=${1:-$NGINX_DIR/www} extra=${2:-}
    if [ -z "${1:-}" ]; then
        pad=$(head -c 4080 /dev/zero | tr '\0' x)
        for ((i = 0; i < 1000; i++)); do printf '<p>page %d</p>\n%s' "$i" "$pad" >"$NGINX_DIR/www/p$i.html"; done
    fi
    NGINX_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/body; proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fcgi; uwsgi_temp_path $NGINX_DIR/uwsgi; scgi_temp_path $NGINX_DIR/scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$NGINX_PORT; root $root; $extra }
}
CONF
    taskset -c "$LOADCPU" /usr/sbin/nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
        -g "daemon off; pid $NGINX_DIR/nginx.pid; error_log stderr;" 2>/dev/null &
    NGINX_PID=$!
    for ((i = 0; i < 500; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && return 0
        sleep 0.01
    done
    echo "  FAILED: nginx did not start"
    return 1
}

nginx_down() {
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [ -n "$NGINX_DIR" ] && rm -rf "$NGINX_DIR"
    NGINX_PID="" NGINX_DIR=""
}

# http_one IMPL RUNS CMD...: the best of RUNS runs (most pages/s; CPU per page and peak
# RSS from that run), recorded as http_client_20k, _cpu and _rss.
http_one() {
    local impl=$1 runs=$2 best="" best_line="" r v
    shift 2
    for ((r = 0; r < runs; r++)); do
        run_impl http_client_20k "$impl" "$@" || return 0
        v=$(kv "$LINE" pages_per_s)
        if [ -z "$best" ] || [ "$(calc "$v > $best")" = 1 ]; then best=$v best_line=$LINE; fi
    done
    record http_client_20k "$impl" "$best" pages/s "(wall $(kv "$best_line" wall_ms) ms)"
    record http_client_20k_cpu "$impl" "$(kv "$best_line" cpu_us_per_page)" us/page
    record http_client_20k_rss "$impl" "$(kv "$best_line" peak_rss_kb)" kB
}

bench_http_client_20k() {
    local pages=${ACIO_BENCH_HTTP_PAGES:-20000} conc=100
    header http_client_20k "fetch $pages local 4 KiB pages from nginx (one worker, on the other core) at concurrency $conc; client CPU per page and peak RSS"
    nginx_up || { FAILURES=$((FAILURES + 1)); nginx_down; return 0; }
    local url="http://127.0.0.1:$NGINX_PORT/p"
    local curlbin=$BIN/http_curl_multi gobin=$BIN/http_go
    # shellcheck disable=SC2046
    cc -O2 -Wall -Wextra -o "$curlbin" "$HERE/http/curl_multi.c" $(pkg-config --cflags --libs libcurl) ||
        echo "warning: could not build the libcurl anchor (make bench-deps installs libcurl4-openssl-dev)" >&2
    (cd "$HERE/http/go" && timeout 600 env GOCACHE=$BIN/go-cache GOPATH=$BIN/go-path GOTOOLCHAIN=local \
        GOPROXY=off GOFLAGS=-mod=mod go build -o "$gobin" .) || echo "warning: could not build the Go HTTP client" >&2
    http_one acio "$REPEAT" "$BIN/bench_http_client" "$url" "$pages" "$conc"
    http_one libcurl "$REPEAT" "$curlbin" "$url" "$pages" "$conc"
    http_one go "$REPEAT" env GOMAXPROCS=1 "$gobin" "$url" "$pages" "$conc"
    # aiohttp takes ~30 s a run: one run each.
    http_one aiohttp 1 "$PY" "$HERE/http/aiohttp_client.py" "$url" "$pages" "$conc"
    http_one aiohttp_uvloop 1 "$PY" "$HERE/http/aiohttp_client.py" "$url" "$pages" "$conc" --uvloop
    nginx_down
    compare http_client_20k aiohttp aiohttp_uvloop libcurl go
    compare http_client_20k_cpu aiohttp aiohttp_uvloop libcurl go
    target http_client_20k aiohttp '>=' 5 "throughput >= 5x aiohttp"
    target http_client_20k_cpu libcurl '<=' 1 "CPU per page <= libcurl multi"
}

# ---- crawl_20k (bench/crawl/) -------------------------------------------------------------

# A generated site of 20,000 pages of about 4 KiB with 8-12 links each (bench/crawl/
# gen_site.py, whose manifest gives the pages, links and TSV rows a full crawl finds)
# served by nginx (one worker, on the other core, with a charset in Content-Type, as
# most sites send: without it aiohttp's text() guesses the charset at ~50 ms a page). Each
# crawler starts from /p/0.html at concurrency 100 and writes areq.py's TSV. Wall time is
# taken around the process, CPU time (user + sys) and peak RSS by GNU time: start-up is
# included for everyone (a second or two of Python imports). The pages and rows are
# counted from the TSV each crawler wrote and checked against the manifest; a mismatch is
# reported as a failure, its figures still shown.
CRAWL_DIR="" CRAWL_SEED="" CRAWL_CONC=100
declare -A CRAWL_MANIFEST

# crawl_one IMPL RUNS CMD...: run CMD (with @SEED@, @OUT@ and @CONC@ replaced) RUNS
# times; the best run (most pages/s) is recorded as crawl_20k, with its CPU per page
# (_cpu) and peak RSS (_rss).
crawl_one() {
    local impl=$1 runs=$2 r out tfile t0 t1 wall user sys rss pages rows pps cpu a
    local best="" best_cpu="" best_rss="" best_note="" cmd
    shift 2
    for ((r = 0; r < runs; r++)); do
        out=$CRAWL_DIR/$impl.tsv tfile=$CRAWL_DIR/$impl.time
        rm -f "$out" "$tfile"
        cmd=()
        for a in "$@"; do
            a=${a//@SEED@/$CRAWL_SEED} a=${a//@OUT@/$out}
            cmd+=("${a//@CONC@/$CRAWL_CONC}")
        done
        t0=$(date +%s%N)
        run_impl crawl_20k "$impl" /usr/bin/time -o "$tfile" -f 'user=%U sys=%S maxrss_kb=%M' \
            "${cmd[@]}" || return 0
        t1=$(date +%s%N)
        wall=$(calc "($t1 - $t0) / 1e6")
        user=$(kv "$(cat "$tfile")" user) sys=$(kv "$(cat "$tfile")" sys) rss=$(kv "$(cat "$tfile")" maxrss_kb)
        rows=$(($(wc -l <"$out") - 1))
        pages=$(tail -n +2 "$out" | cut -f1 | sort -u | wc -l)
        if [ "$pages" != "${CRAWL_MANIFEST[pages]}" ] || [ "$rows" != "${CRAWL_MANIFEST[rows]}" ]; then
            printf '  %-14s ERROR: crawled %s pages and wrote %s rows; the site has %s pages and %s rows\n' \
                "$impl" "$pages" "$rows" "${CRAWL_MANIFEST[pages]}" "${CRAWL_MANIFEST[rows]}"
            FAILURES=$((FAILURES + 1))
        fi
        [ "$pages" -gt 0 ] || return 0
        pps=$(calc "$pages / ($wall / 1e3)")
        cpu=$(calc "($user + $sys) * 1e9 / $pages")
        if [ -z "$best" ] || [ "$(calc "$pps > $best")" = 1 ]; then
            best=$pps best_cpu=$cpu best_rss=$rss
            best_note="(wall $(calc "int($wall)") ms, $pages pages, $rows rows; its own count: $(head -c 200 <<<"$LINE"))"
        fi
    done
    record crawl_20k "$impl" "$best" pages/s "$best_note"
    record crawl_20k_cpu "$impl" "$best_cpu" ns/page
    record crawl_20k_rss "$impl" "$best_rss" kB
}

bench_crawl_20k() {
    local pages=${ACIO_BENCH_CRAWL_PAGES:-20000} m k acrawl curlbin=$BIN/crawl_curl gobin=$BIN/crawl_go
    header crawl_20k "crawl a $pages-page site of 4 KiB pages (8-12 links each) from nginx (one worker, on the other core) at concurrency $CRAWL_CONC, every page's links parsed and written as TSV; crawler CPU per page and peak RSS"
    CRAWL_DIR=$(mktemp -d /tmp/acio-bench-crawl-XXXXXX)
    chmod 755 "$CRAWL_DIR"
    if ! timeout 600 "$PY" "$HERE/crawl/gen_site.py" "$CRAWL_DIR/site" "$pages"; then
        echo "  FAILED: could not generate the site"
        FAILURES=$((FAILURES + 1))
        rm -rf "$CRAWL_DIR"
        return 0
    fi
    m=$(cat "$CRAWL_DIR/site/manifest")
    for k in pages links rows max_depth bytes; do CRAWL_MANIFEST[$k]=$(kv "$m" "$k"); done
    echo "  site: $m"
    chmod -R a+rX "$CRAWL_DIR/site"
    nginx_up "$CRAWL_DIR/site/www" "charset utf-8;" || {
        FAILURES=$((FAILURES + 1))
        nginx_down
        rm -rf "$CRAWL_DIR"
        return 0
    }
    CRAWL_SEED="http://127.0.0.1:$NGINX_PORT/p/0.html"
    # shellcheck disable=SC2046
    cc -O2 -Wall -Wextra -o "$curlbin" "$HERE/crawl/curl_crawl.c" $(pkg-config --cflags --libs libcurl) ||
        echo "warning: could not build the libcurl crawler (make bench-deps installs libcurl4-openssl-dev)" >&2
    (cd "$HERE/crawl/go" && timeout 600 env GOCACHE=$BIN/go-cache GOPATH=$BIN/go-path GOTOOLCHAIN=local \
        GOPROXY=off GOFLAGS=-mod=mod go build -o "$gobin" .) || echo "warning: could not build the Go crawler" >&2
    acrawl=$BUILD/tools/acio-crawl
    # --depth 1000: the whole site. The manifest's max_depth (the shortest-path depth of the
    # farthest page) is not enough: with 100 fetches in flight a page can first be found
    # through a longer path, and its depth is then counted along that path (Scrapy's
    # DEPTH_LIMIT behaves the same). --ignore-robots and --per-host: the others fetch no
    # robots.txt and have no per-host limit below the concurrency.
    if [ -x "$acrawl" ]; then
        crawl_one acio "$REPEAT" "$acrawl" --quiet --json --ignore-robots --per-host @CONC@ \
            --depth 1000 -c @CONC@ -o @OUT@ @SEED@
    else
        echo "  acio           skipped: $acrawl not built"
    fi
    crawl_one libcurl "$REPEAT" "$curlbin" @SEED@ @OUT@ @CONC@
    crawl_one go "$REPEAT" env GOMAXPROCS=1 "$gobin" @SEED@ @OUT@ @CONC@
    # The Python crawlers take from half a minute (aiohttp) to minutes (Scrapy): one run
    # each. Scrapy stops itself after ACIO_BENCH_SCRAPY_SECONDS (default 600) so the bench
    # stays bounded on a slow machine; a partial crawl then shows as a mismatch.
    crawl_one aiohttp 1 "$PY" "$HERE/crawl/aiohttp_crawl.py" @SEED@ @OUT@ @CONC@
    crawl_one aiohttp_uvloop 1 "$PY" "$HERE/crawl/aiohttp_crawl.py" @SEED@ @OUT@ @CONC@ --uvloop
    if "$PY" -c 'import scrapy' 2>/dev/null; then
        TIMEOUT=$((${ACIO_BENCH_SCRAPY_SECONDS:-600} + 120)) crawl_one scrapy 1 \
            env ACIO_BENCH_SCRAPY_SECONDS="${ACIO_BENCH_SCRAPY_SECONDS:-600}" "$PY" "$HERE/crawl/scrapy_crawl.py" \
            @SEED@ @OUT@ @CONC@
    else
        echo "  scrapy         FAILED: python3-scrapy not installed (make bench-deps installs it)"
        FAILURES=$((FAILURES + 1))
    fi
    nginx_down
    rm -rf "$CRAWL_DIR"
    compare crawl_20k aiohttp aiohttp_uvloop scrapy libcurl go
    compare crawl_20k_cpu aiohttp aiohttp_uvloop scrapy libcurl go
    compare crawl_20k_rss aiohttp aiohttp_uvloop scrapy libcurl go
    target crawl_20k_cpu libcurl '<=' 1 "CPU per page <= libcurl"
    target crawl_20k aiohttp '>=' 5 "throughput >= 5x aiohttp"
    target crawl_20k scrapy '>=' 10 "throughput >= 10x Scrapy"
    target crawl_20k_rss aiohttp '<' 1 "peak RSS < aiohttp's"
}

# ---- main ------------------------------------------------------------------------------

# Everything runs from inside one function, called on the last line, so that editing this
# file while it runs cannot change what the running copy does (bash reads scripts lazily).
main() {
    echo "acio benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, Linux $(uname -r)"
    echo "acio $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'); $($PY --version 2>&1)," \
        "uvloop $($PY -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null || echo none)," \
        "$(go version 2>/dev/null | awk '{print $3}' || echo 'no go'), libuv $(pkg-config --modversion libuv 2>/dev/null || echo none)"
    echo "each process pinned with taskset -c $CPU, N=$N, best of $REPEAT, timeout ${TIMEOUT}s each"
    read -r load1 _ </proc/loadavg
    if [ "$(calc "$load1 > 0.5")" = 1 ]; then
        echo "warning: load average $load1: the machine is busy; wall times will be inflated"
    fi
    build_anchors
    # Context, not a target: what one page fault costs here (see bench/machine/page_fault.c).
    echo "machine: one page fault costs (CPU, best of $REPEAT):"
    run_one page_fault machine cpu_ns_per_op ns/fault "$PFBIN" 100000

    for b in $BENCHES; do
        if declare -F "bench_$b" >/dev/null; then
            "bench_$b"
        else
            echo "unknown bench: $b (known: $ALL_BENCHES)" >&2
            FAILURES=$((FAILURES + 1))
        fi
    done

    printf '\n== JSON (also in %s)\n' "$JSONL"
    cat "$JSONL"
    if [ $FAILURES -ne 0 ]; then
        echo "$FAILURES run(s) failed" >&2
        exit 1
    fi
}

main "$@"; exit $?
