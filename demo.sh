#!/usr/bin/env bash
# acio's demo: `make demo` builds, then runs `./demo.sh <builddir>`. Until the crawler
# exists, the demo runs the seed programs ported to C (examples/*.c), in the order the
# seed articles present them, each after a short header naming the seed it comes from.
# Examples added later that are not in the list below still run, after it, so a new
# port shows up in the demo without editing this file.
#
# Usage: ./demo.sh [builddir] [example...]   (default builddir: build; default: all)
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
case $build in /*) ;; *) build=$here/$build ;; esac
bin=$build/examples

if [ ! -d "$bin" ]; then
    echo "demo: no $bin; build first (make demo does)" >&2
    exit 1
fi

# name|header, in the seeds' order.
demos=(
    "quick_start|seed 001 §3.2: asyncio.run(func()) — the smallest program"
    "hello|seed 003 §1.1: hello() — print, await asyncio.sleep(1), print"
    "hello_cancel|seed 003 §1.3: hello_task.cancel() after 1 s — CancelledError caught and re-raised"
    "coro_a_b|seed 003 §1.4: await coro_a() three times — awaiting a coroutine does not yield"
    "coro_a_b_tasks|seed 003 §1.4: await create_task(coro_a()) — awaiting a task does"
    "rock|seed 003 §2.1: coroutine.send() by hand, Rock.__await__ yields 7"
    "display_date|seed 003 §2.3: display_date() — the time every second (3 s)"
    "sleep_yield|seed 003 §2.3: AsyncSleep — yield to the loop until it is time (busy on purpose)"
    "sleep_call_later|seed 003 §2.3: sleep() from create_future + call_later"
    "sleep_watcher|seed 003 §2.3: sleep() from a future and a watcher task (busy on purpose)"
    "factorial|seed 003 §3.1: factorial A, B, C concurrently (gather as create_task + await)"
    "loop_methods|seed 003 §3.6: loop.call_soon / call_later / call_at, and add_reader"
    "greenlet_switch|seed 001 §1.1: greenlet gr1.switch() / gr2.switch() — 1 3 2 4"
    "greenlet_test12|greenlet's own example — 12 56 34 (78 never printed)"
    "yield_from|seed 001 §1.2: yield and yield from — 1 3 4 2"
    "func1_func2|seed 001 §1.4: func1/func2 on loop.run_until_complete"
    "await_sleep|seed 001 §3.3 ex. 1: response = await asyncio.sleep(2)"
    "await_others|seed 001 §3.3 ex. 2: response = await others()"
    "await_others_twice|seed 001 §3.3 ex. 3: await others() twice"
    "task_objects|seed 001 §3.4 ex. 1: two create_task, then await each"
    "set_after|seed 001 §3.5 ex. 2: a future set by another task after 2 s"
    "async_reader|seed 001 §3.7: async for over an asynchronous iterator (Reader)"
    "countasync|seed 002 countasync.py: One One One, Two Two Two in about 1 s"
    "gen_next|seed 002: next(gen()) — (16, 32, 48)"
    "endless|seed 002: endless() — paused by break, resumed with next()"
    "consumer|seed 002: consumer() — values sent into a generator"
    "powers|seed 002: mygen() — async generator of powers of 2"
    "sync_call_in_async|seed 002 async_call_sync.py v1: time.sleep blocks the loop"
    "async_call_sync|seed 002 async_call_sync.py v2: asyncio.sleep lets tasks interleave"
    "create_task_done|seed 002: t = create_task(coro([3, 2, 1])); await t; t.done()"
    "run_until_complete|seed 004 §2.2: loop.run_until_complete(foo())"
    "io_func|seed 004 §2.3: await io_func() twice"
    "done_callback|seed 004 §3.3: task.add_done_callback(callback)"
)

declare -A listed=()
names=()
headers=()
for d in "${demos[@]}"; do
    names+=("${d%%|*}")
    headers+=("${d#*|}")
    listed[${d%%|*}]=1
done
# The first sentence of an example's header comment (every example opens with one saying
# which seed program it ports), cut to one line at a word boundary.
describe() {
    awk 'NR == 1 { sub(/^\/\* */, "") }
         NR > 1 { if ($0 ~ /^ \*\/?$/ || $0 ~ /^ \*\//) exit; sub(/^ \* ?/, "") }
         { line = line (NR > 1 ? " " : "") $0; if ($0 ~ /\*\// || NR > 4) exit }
         END {
             sub(/ *\*\/.*/, "", line)
             n = match(line, /(\. |\.$|:$)/)
             if (n > 0) line = substr(line, 1, n - 1)
             if (length(line) > 110) { line = substr(line, 1, 107); sub(/ [^ ]*$/, "", line); line = line "..." }
             print line
         }' "$1"
}

# Ports added by other layers: every example with an expected output not listed above.
for out in "$here"/examples/expected/*.out; do
    [ -e "$out" ] || continue
    n=$(basename "$out" .out)
    if [ -z "${listed[$n]:-}" ]; then
        names+=("$n")
        h=$(describe "$here/examples/$n.c" 2>/dev/null)
        headers+=("${h:-examples/$n.c}")
    fi
done

bold='' plain=''
if [ -t 1 ]; then
    bold=$'\033[1m' plain=$'\033[0m'
fi

want=("$@")
failed=0
ran=0
for i in "${!names[@]}"; do
    n=${names[$i]}
    if [ ${#want[@]} -gt 0 ]; then
        match=0
        for w in "${want[@]}"; do [ "$w" = "$n" ] && match=1; done
        [ $match = 1 ] || continue
    fi
    if [ ! -x "$bin/$n" ]; then
        echo "demo: $n was not built (skipped)" >&2
        continue
    fi
    printf '\n%s== %s ==%s  (examples/%s.c)\n' "$bold" "${headers[$i]}" "$plain" "$n"
    if ! "$bin/$n"; then
        echo "demo: $n failed" >&2
        failed=$((failed + 1))
    fi
    ran=$((ran + 1))
done
printf '\n%d example(s) run, %d failed\n' "$ran" "$failed"
[ $failed = 0 ]
