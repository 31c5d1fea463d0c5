#!/usr/bin/env bash
# acio's tour of the seed programs: the small asyncio programs of the seed articles
# (Chinese tutorials on Python's asyncio), ported to C (examples/*.c), run one after the
# other. Each is introduced in plain English: what it shows, its asyncio counterpart,
# where it comes from, and what its output means (the Chinese strings the seeds print
# are translated; lines a program prints on stderr, mostly its own timing, are labelled).
# Examples added later that are not in the list below still run, after it, introduced by
# the first sentence of their header comment, so a new port shows up without editing
# this file.
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

names=() titles=() asyncio=() sources=() whats=() notes=() errlabels=()
declare -A listed=()

# ex NAME TITLE ASYNCIO SOURCE WHAT [NOTE [STDERR_LABEL]]
#   ASYNCIO: the Python it corresponds to; SOURCE: where the program comes from;
#   WHAT: what it shows; NOTE: how to read its output; STDERR_LABEL: how the lines it
#   prints on stderr are marked ("timing" for programs that time themselves there).
ex() {
    names+=("$1") titles+=("$2") asyncio+=("$3") sources+=("$4") whats+=("$5")
    notes+=("${6:-}") errlabels+=("${7:-stderr}")
    listed[$1]=1
}

# ---- coroutines, tasks and the loop (in the order the seeds present them) ----
ex quick_start "The smallest program" 'asyncio.run(func())' "seed 001 §3.2" \
    "Calling a coroutine function does nothing by itself: an event loop has to run it. acio_run() creates the loop, runs the function as the program's main task until it returns, and closes the loop." \
    "快来搞我吧! is the seed's greeting, roughly \"Come and play with me!\"."
ex hello "Hello, then a pause, then World" 'print(...); await asyncio.sleep(1); print(...)' "seed 003 §1.1" \
    "The coroutine prints, sleeps one second without blocking the loop, and prints again. In C a coroutine is a plain function running on its own stack; acio_sleep() suspends only this task."
ex hello_cancel "Cancelling a task" 'task.cancel(); except asyncio.CancelledError' "seed 003 §1.3" \
    "main starts hello() as a task and cancels it after 1 s while it sleeps. The sleep returns -ECANCELED (asyncio raises CancelledError); hello prints \"Task cancelled\" and passes the cancellation on."
ex coro_a_b "Awaiting a coroutine does not give way to other tasks" 'await coro_a()' "seed 003 §1.4" \
    "main schedules coro_b as a task, then awaits coro_a() three times. Awaiting a coroutine is an ordinary call that never yields to the loop, so all three coro_a lines come before coro_b gets to run."
ex coro_a_b_tasks "Awaiting a task does" 'await asyncio.create_task(coro_a())' "seed 003 §1.4" \
    "The same program with each coro_a() wrapped in a task. Awaiting a task hands control to the loop, which runs tasks in the order they were scheduled: coro_b now prints first."
ex rock "Driving a coroutine by hand" 'coro.send(None); Rock.__await__: yield 7' "seed 003 §2.1" \
    "No event loop at all: main() is resumed with send(). It pauses inside Rock's __await__, handing out 7; the 42 sent back in becomes the value of 'await rock'. The event loop is built on exactly this mechanism."
ex display_date "The time, every second" 'while True: print(now); await asyncio.sleep(1)' "seed 003 §2.3" \
    "A print-and-sleep loop that stops after 3 s (the seed runs 5 s)." \
    "The lines are the current time, so they differ on every run."
ex sleep_yield "sleep() written as yielding until it is time" 'while time() < end: await YieldToEventLoop()' "seed 003 §2.3" \
    "The seed's first attempt at writing sleep: give way to the loop once per iteration until the deadline. The output is the same as above, but the CPU is busy the whole time; that waste is the seed's point."
ex sleep_call_later "sleep() as asyncio really does it" 'fut = loop.create_future(); loop.call_later(d, fut.set_result, None); await fut' "seed 003 §2.3" \
    "A future that a timer completes: the task sleeps without using the CPU."
ex sleep_watcher "sleep() with a watcher task" 'a second task completes the future when the time is up' "seed 003 §2.3" \
    "Another of the seed's attempts: a second task polls the clock and completes the future. It works, but busy-waits like sleep_yield."
ex factorial "Three tasks at once" 'asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))' "seed 003 §3.1" \
    "Three factorial computations, each sleeping 1 s per step, run concurrently: their lines interleave and the run takes 3 s, not 6. The last line is the list of results, in call order."
ex loop_methods "The event loop's own scheduling methods" 'loop.call_soon / call_later / call_at / add_reader' "seed 003 §3.6" \
    "Callbacks without coroutines: one runs as soon as possible, timers run in time order, and one runs when a pipe becomes readable. The seed's 5 s delays are 0.1 to 0.3 s here."
ex greenlet_switch "Switching by hand, before asyncio (greenlet)" 'gr1.switch() / gr2.switch()' "seed 001 §1.1" \
    "Two functions hand control to each other explicitly, so the numbers come out in the order of the switches (1 3 2 4), not of the code."
ex greenlet_test12 "greenlet's own example" 'gr1.switch()' "greenlet's documentation" \
    "test1 switches to test2, which switches back; when test1 returns the program ends, so test2's last line (78) never runs."
ex yield_from "Generators: yield and yield from" 'yield 1; yield from func2(); yield 2' "seed 001 §1.2" \
    "A generator that delegates to another one: a for loop receives 1, then the inner generator's 3 and 4, then 2. acio's coroutines work as generators like this, without any loop."
ex func1_func2 "Two coroutines on a loop made by hand" 'loop.run_until_complete(asyncio.wait(tasks))' "seed 001 §1.4" \
    "func1 prints 1 and sleeps, so the loop runs func2, which prints 3 and sleeps; both wake after 2 s: 1 3 2 4. The sleeps overlap: 2 s in all, not 4."
ex await_sleep "What await gives back" 'response = await asyncio.sleep(2)' "seed 001 §3.3" \
    "The task suspends for 2 s; asyncio.sleep's result is None, printed as Python prints it." \
    "来玩呀 = \"come and play\", 结束 = \"finished\"."
ex await_others "Awaiting another coroutine for its result" 'response = await others()' "seed 001 §3.3" \
    "func awaits others(), which sleeps 2 s and returns a value; func resumes with that value." \
    "执行协程函数内部代码 = \"running the code inside the coroutine function\"; IO请求结束,结果为: = \"I/O request finished, result:\"; 返回值 = \"return value\"."
ex await_others_twice "Two awaits in a row run one after the other" 'await others(); await others()' "seed 001 §3.3" \
    "Each await finishes before the next starts, so this takes 4 s. To overlap them, make them tasks (next example)." \
    "Same strings as above: \"running the code inside the coroutine function\", \"I/O request finished, result: return value\"."
ex task_objects "Two tasks running concurrently" 'task1 = asyncio.create_task(func()); ...; await task1' "seed 001 §3.4" \
    "main creates two tasks and then awaits them: both print 1, sleep together, print 2. The run takes 2 s, not 4. Creating a task only schedules it, so main's second line comes before the tasks start." \
    "main开始 = \"main starts\", main结束 = \"main ends\", 返回值 = \"return value\"."
ex set_after "A future completed by another task" 'fut = loop.create_future(); fut.set_result("666")' "seed 001 §3.5" \
    "main waits on a bare future; a second task sets its result after 2 s, which wakes main." \
    "\"666\" is Chinese internet slang for \"awesome\"."
ex async_reader "async for over an asynchronous iterator" 'async for line in Reader(): print(line)' "seed 001 §3.7" \
    "A class with __aiter__ and __anext__ counts from 1 and stops before 100 by raising StopAsyncIteration."
ex countasync "Three sleeps that overlap" 'await asyncio.gather(count(), count(), count())' "seed 002 countasync.py" \
    "Each count() prints One, sleeps 1 s, prints Two. Run together, all the Ones come first and the program takes about 1 s." \
    "The line marked timing is the seed's own measurement (\"... executed in 1.00 seconds\"): about 1 s, not 3." timing
ex gen_next "A generator, advanced with next()" 'next(gen())' "seed 002" \
    "Calling a generator function returns a generator; next() runs it to its first yield, which hands out the tuple (16, 32, 48)."
ex endless "A generator paused and resumed" 'for i in e: ... break; next(e)' "seed 002" \
    "A generator cycling 9 8 7 6 forever: a for loop takes values until their sum reaches 30 and breaks; next() later resumes exactly where it stopped."
ex consumer "Sending values into a generator" 'c.send(n)' "seed 002" \
    "The generator receives values with send() and answers each: first '' (starting it), then '200 OK' after consuming 12."
ex powers "An async generator of powers of 2" '[i async for i in mygen()]' "seed 002" \
    "The generator yields 2**i, sleeping 0.1 s between values; two async comprehensions collect all ten values and a filtered few. This version writes the generator as a small state machine; mygen, further down, uses acio's generator helpers."
ex sync_call_in_async "A blocking call stalls everything" 'time.sleep(1) inside a coroutine' "seed 002 async_call_sync.py, version 1" \
    "Three tasks each make three \"requests\" with a blocking sleep. Blocking never gives control back to the loop, so the requests run strictly one after another: 0:0 0:1 0:2 1:0 ..." \
    "The timing line is the total run time: 9 blocking sleeps of 0.3 s (the seed sleeps 1 s), about 2.7 s." timing
ex async_call_sync "The same with a non-blocking sleep: the tasks interleave" 'await asyncio.sleep(1)' "seed 002 async_call_sync.py, version 2" \
    "Each task gives way while it waits, so the requests interleave: 0:0 1:0 2:0 0:1 ..." \
    "The timing line is the total run time: about 3 s instead of 9." timing
ex create_task_done "A task's state after it was awaited" 't = asyncio.create_task(coro([3, 2, 1])); await t; t.done()' "seed 002" \
    "After 'await t' the task is done; the program prints the task's type and t.done() as Python prints them."
ex run_until_complete "Running a coroutine on a loop made by hand" 'loop.run_until_complete(foo())' "seed 004 §2.2" \
    "Instead of asyncio.run(): create a loop, run one coroutine to the end on it, close it." \
    "The printed line is the seed author's own text, kept as written."
ex io_func "Awaiting a coroutine that returns nothing" 'ret = await io_func(); print(ret)' "seed 004 §2.3" \
    "foo() awaits io_func() twice, one after the other; each returns None." \
    "The first line is the seed author's own text, kept as written."
ex done_callback "A callback when a task finishes" 'task.add_done_callback(callback)' "seed 004 §3.3" \
    "The callback runs on the loop once the task has finished, and reads its result." \
    "The timing line is the elapsed time in seconds, as the seed prints it." timing

# ---- combining awaitables ----
ex count_gather "gather, as the seed writes it" 'await asyncio.gather(count(), count(), count())' "seed 002 countasync.py" \
    "countasync again, with acio_gather like the seed: three coroutines run together under one gather."
ex gather_factorial "gather returns results in call order" 'await asyncio.gather(factorial("A", 2), ...)' "seed 003" \
    "The factorial program with a real gather: the results come back as [2, 6, 24], in the order of the calls, whatever order they finished in."
ex gather_return_exceptions "gather with return_exceptions=True" 'await asyncio.gather(*tasks, return_exceptions=True)' "seed 004" \
    "Three tasks succeed and one fails; the failure takes its place in the result list (RuntimeError()) instead of failing the whole gather." \
    "The seed downloads three images with requests; here each download is only a sleep, so the URLs are labels and nothing is fetched."
ex wait_tasks "asyncio.wait with a timeout" 'done, pending = await asyncio.wait(tasks, timeout=...)' "seed 004" \
    "With a 2 s timeout both tasks finish in time; with 0.5 s both are still pending when wait returns (wait does not cancel them)."
ex wait_as_completed "Results in the order they complete" 'for fut in asyncio.as_completed(tasks, timeout=...)' "seeds 002 and 004" \
    "as_completed hands out results in finishing order; with a timeout, what is not done in time raises TimeoutError."
ex timeout_wait_for "Timeouts: wait_for and asyncio.timeout" 'await asyncio.wait_for(long_task(), timeout=...); async with asyncio.timeout(...)' "seed 003" \
    "A task that takes too long is cancelled and the caller gets TimeoutError; one that finishes in time returns its result. Then the same with a timeout block whose deadline is moved once. Delays are scaled down from the seed's."

# ---- queues ----
ex worker_pool "A queue feeding three workers" 'queue.put_nowait(...); await queue.get(); queue.task_done(); await queue.join()' "seed 003 §3.4" \
    "Twenty jobs with random sleep times go into a queue and three worker tasks take them off. The workers sleep in parallel, so the wall time (3.8 s) is about a third of the sum of the sleeps (11.14 s). The random numbers are fixed, so the output is the same on every run."
ex asyncq "Producers and consumers" 'await q.put(...); await q.get(); q.task_done(); await q.join()' "seed 002 asyncq.py" \
    "Two producers put random items on a queue, five consumers take them off; main waits for q.join() and cancels the consumers. A tick is one loop iteration here (the seed sleeps seconds), so it runs instantly and the same way every time."

# ---- generators, continued ----
ex mygen "An async generator, with acio's generator helpers" '[i async for i in mygen()]' "seed 002" \
    "The powers example again, written as an ordinary loop with acio_agen_yield() and consumed with ACIO_AFOR, acio's async for. About 2 s."
ex reader "async for over a pipe" 'async for line in reader' "seed 001 §3.7, seed 003 §1.5" \
    "A Reader whose readline() really waits for data: a writer task feeds the numbers 1 to 99 into a pipe a few at a time, and async for prints each line as it arrives."

# ---- threads and processes ----
ex to_thread "Running blocking code in a thread" 'await asyncio.to_thread(blocking_io, arg1, arg2)' "seed 003" \
    "Three blocking calls run in worker threads at the same time while the loop stays free." \
    "The timing line shows the three calls overlapped: about 0.2 s, where one after another would take 0.6 s." timing
ex run_in_executor "Thread pools and process pools" 'await loop.run_in_executor(None or pool, func1)' "seeds 001 and 004" \
    "A blocking function made awaitable three ways: in the default thread pool, in a pool the program creates, and in a pool of worker processes." \
    "\"SB\" is what the seed's func1 returns, printed as is."
ex run_in_executor_download "A blocking library inside asyncio" 'await loop.run_in_executor(None, requests.get, url)' "seed 001" \
    "The seed downloads three images with the blocking requests library, each in a thread of the default pool, so the downloads overlap. Here a plain blocking HTTP GET stands in for requests.get, and the images come from a web server the program runs itself on 127.0.0.1 (no network is used); the loop serves them while the pool's threads wait." \
    "开始下载 = \"start downloading\", 下载完成 = \"download finished\"; the last lines are each file's name and size in bytes."

# ---- network ----
ex tcp_echo_demo "A TCP echo server and client" 'asyncio.start_server(handle_echo, ...); asyncio.open_connection(...)' "seed 003 §3.2" \
    "The seed's echo server and client in one process, over 127.0.0.1: the client sends 'Hello World!', the server sends it back, and both close the connection."
ex areq "A small crawler that appends to a file" 'urls.txt in; aiohttp GET, links found, urljoin; async with aiofiles.open(file, "a")' "seed 002 areq.py" \
    "The seed's crawler reads its URLs from a file, fetches the pages concurrently, extracts their links with a real HTML tokenizer, resolves them and appends them to a shared file. This version crawls a five-page site that the program serves itself on 127.0.0.1 (no network is used); one page answers 404 and one URL points at a closed port, to show that failures are logged and the crawl goes on. The file is read back at the end."
ex gather_crawl "Fifty requests gathered with return_exceptions" 'await asyncio.gather(*tasks, return_exceptions=True)' "seed 000" \
    "The seed's crawler: fifty GETs at once on one session with a pool limit and a total timeout; each result prints OK with the page's length or FAIL with the error, in the order of the URLs."
ex quotes_crawler "A quotes crawler" 'results = await asyncio.gather(*[fetch_url(session, url.format(page)) ...])' "seed 003 §5" \
    "The seed's quotes crawler on a local five-page copy of the site's layout: the pages are fetched at once, the quotes and authors pulled out, and quotes.txt written and shown."
ex requests_download "Downloading with requests, one after another" 'requests.get(url)' "seed 001 §2" \
    "The seed's synchronous version: three images downloaded one after the other with a blocking call, here acio_http_fetch_blocking (requests.get), which runs a loop of its own. The images come from a web server the program runs in a thread on 127.0.0.1 (no network is used)." \
    "开始下载 = \"start downloading\", 下载完成 = \"download finished\"; each download then prints its file name and size."
ex aiohttp_download "Downloading with aiohttp, all at once" 'async with aiohttp.ClientSession() as session: ... await asyncio.wait(tasks)' "seed 001 §2" \
    "The seed's coroutine version: one HTTP client session, three download tasks at once, each saving its image to a file. The server answers the second image first, so the downloads finish in a different order than they started." \
    "发送请求 = \"sending request\", 下载完成 = \"download finished\"; the last lines are the files written, with their sizes."
ex aiohttp_fetch "Nested coroutines making HTTP requests" 'asyncio.gather(fetch_async(url1), fetch_async(url2))' "seed 004, seed 001 §5.4" \
    "Seed 004 gathers two coroutines that each open their own client session and print the status and the page; seed 001's crawler shares one session among three tasks and prints each page's length. The pages are stand-ins served on 127.0.0.1." \
    "发送请求 = \"sending request\", 得到结果 = \"got the result\"."

# ---- processes and signals ----
ex subprocess_date "Reading a child process's output" 'asyncio.create_subprocess_exec(..., stdout=PIPE); await proc.stdout.readline()' "seed 003 §3.3" \
    "A python3 child prints a date; the parent reads one line from the pipe, then waits for the child to exit." \
    "The child prints a fixed moment (the Unix epoch) so the output can be checked; run $bin/subprocess_date --now for the current time."
ex subprocess_shell "Several shell commands at once" 'asyncio.create_subprocess_shell(cmd); await proc.communicate()' "asyncio's documentation" \
    "Three shell commands run concurrently; each result (exit status, stdout, stderr) is printed when its command finishes. The failing ls is deliberate."
ex signal_handler "Handling signals on the loop" 'loop.add_signal_handler(signal.SIGTERM, ...)' "asyncio's documentation" \
    "The program sends itself SIGUSR1, then SIGTERM; each handler runs on the loop like any callback, and SIGTERM sets an event that lets main shut down cleanly."

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
        h=$(describe "$here/examples/$n.c" 2>/dev/null)
        ex "$n" "${h:-examples/$n.c}" "" "" ""
    fi
done

bold='' dim='' plain=''
if [ -t 1 ]; then
    bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'
fi
width=88

# say PREFIX TEXT: TEXT wrapped to the page, every line after PREFIX's width indented.
say() {
    local pad
    pad=$(printf '%*s' ${#1} '')
    printf '%s\n' "$2" | fold -s -w $((width - ${#1})) | sed -e 's/ *$//' -e "1s/^/$1/" -e "2,\$s/^/$pad/"
}

# Line-buffered output from the examples, so lines appear as they are printed.
unbuffered=()
command -v stdbuf >/dev/null && unbuffered=(stdbuf -oL -eL)

want=("$@")
selected=()
for i in "${!names[@]}"; do
    if [ ${#want[@]} -gt 0 ]; then
        match=0
        for w in "${want[@]}"; do [ "$w" = "${names[$i]}" ] && match=1; done
        [ $match = 1 ] || continue
    fi
    selected+=("$i")
done

if [ ${#want[@]} -eq 0 ]; then
    say "" "acio runs Python's asyncio programs in C. What follows are the small programs of the seed articles (Chinese tutorials on asyncio), each ported to C almost line for line and run here. Every program is introduced by what it shows and the asyncio code it corresponds to; its output follows, each line after a bar (│). Lines marked \"timing\" are the program's own time measurements, printed on stderr. Programs with fixed output are compared with examples/expected/ by make test. The whole tour takes about a minute."
fi

failed=0 ran=0 k=0
for i in "${selected[@]}"; do
    n=${names[$i]}
    k=$((k + 1))
    if [ ! -x "$bin/$n" ]; then
        echo "demo: $n was not built (skipped)" >&2
        continue
    fi
    printf '\n%s%d/%d  %s%s  %s(examples/%s.c)%s\n' "$bold" "$k" "${#selected[@]}" \
        "${titles[$i]}" "$plain" "$dim" "$n" "$plain"
    [ -n "${asyncio[$i]}" ] && say "  asyncio: " "${asyncio[$i]}"
    [ -n "${sources[$i]}" ] && say "  from:    " "${sources[$i]}"
    [ -n "${whats[$i]}" ] && say "  " "${whats[$i]}"
    [ -n "${notes[$i]}" ] && say "  Note: " "${notes[$i]}"
    label=${errlabels[$i]}
    # Its stdout lines after "│", its stderr lines (marked by an inner sed) after the
    # label; both reach one last sed through one pipe, so they keep their order as far as
    # the marking hop allows. pipefail makes the pipeline fail when the example does.
    if ! { "${unbuffered[@]}" "$bin/$n" 2>&1 1>&3 3>&- | sed -u 's/^/\x1f/'; } 3>&1 |
        sed -u -e "/^\x1f/{s/^\x1f/  $label │ /;b" -e "}" -e 's/^/    │ /'; then
        echo "demo: $n failed" >&2
        failed=$((failed + 1))
    fi
    ran=$((ran + 1))
done
printf '\n%d example(s) run, %d failed\n' "$ran" "$failed"
[ $failed = 0 ]
