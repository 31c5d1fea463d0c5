"""Differential scenarios, CPython side: `python3 scenarios.py NAME` prints NAME's trace.

Each scenario here has a twin of the same name in scenarios_*.c, written against acio's
C API. tests/diff/compare.py runs both and compares the traces line by line, so every
line printed here is a claim about asyncio's ordering that acio must reproduce.

Conventions shared with the C side (keep them in step with diff.h):
  * every line goes through say(), which flushes, so a crash loses nothing;
  * an exception is printed with err_text(): "error <Type>: <message>" or
    "cancelled" / "cancelled: <message>"; the C side maps its codes to the same
    Python type names (EINVAL -> ValueError, EIO -> RuntimeError, ...);
  * no addresses, no timings: delays only decide the order, and delays that must be
    ordered differ by at least 50 ms.

Where C and Python necessarily differ, the Python side is written to do what the C side
must do: a C task whose function returns while a cancellation is still requested ends
cancelled (C has no exception to swallow), so the matching Python coroutine re-raises
CancelledError at exactly those spots.
"""

import asyncio
import sys
import threading
import time

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def say(*args):
    print(*args, flush=True)


def err_text(exc):
    if isinstance(exc, asyncio.CancelledError):
        if exc.args and exc.args[0]:
            return f"cancelled: {exc.args[0]}"
        return "cancelled"
    return f"error {type(exc).__name__}: {exc}"


def b(x):
    """Python's booleans printed the way the C side prints them."""
    return "true" if x else "false"


class Ticker:
    """Marks loop iterations in the trace: scheduled first, it runs first in every
    iteration, prints "-- tick k" and reschedules itself; after `last` it stops the loop.
    """

    def __init__(self, loop, last):
        self.loop = loop
        self.last = last
        loop.call_soon(self.tick, 0)

    def tick(self, k):
        say(f"-- tick {k}")
        if k < self.last:
            self.loop.call_soon(self.tick, k + 1)
        else:
            self.loop.stop()


# ---------------------------------------------------------------- the loop alone


@scenario
def call_soon_fifo():
    loop = asyncio.new_event_loop()
    for i in range(6):
        loop.call_soon(say, f"cb {i}")
    loop.call_soon(loop.stop)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def call_soon_next_iteration():
    loop = asyncio.new_event_loop()
    Ticker(loop, 3)

    def a():
        say("a")
        loop.call_soon(say, "a -> a1")
        loop.call_soon(a2)

    def a2():
        say("a2")
        loop.call_soon(say, "a2 -> a3")

    loop.call_soon(a)
    loop.call_soon(say, "b")
    loop.call_soon(say, "c")
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def call_soon_threadsafe_in_order():
    """call_soon_threadsafe appends to the ready queue at call time: a callback another
    thread schedules (the loop thread waits for it) runs between the loop thread's
    callbacks scheduled before and after, in the same iteration."""
    loop = asyncio.new_event_loop()
    Ticker(loop, 3)

    def from_thread(msg):
        t = threading.Thread(target=loop.call_soon_threadsafe, args=(say, msg))
        t.start()
        t.join()

    def x():
        say("x")
        loop.call_soon(say, "a")
        from_thread("b (thread)")
        loop.call_soon(say, "c")
        loop.call_soon_threadsafe(say, "d (loop thread, threadsafe)")
        loop.call_soon(say, "e")

    def y():
        say("y")
        from_thread("f (thread, from the next callback)")
        loop.call_soon(say, "g")

    loop.call_soon(x)
    loop.call_soon(y)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def call_later_order():
    loop = asyncio.new_event_loop()
    loop.call_later(0.30, say, "later 0.30")
    loop.call_later(0.10, say, "later 0.10")
    loop.call_at(loop.time() + 0.25, say, "at +0.25")
    loop.call_later(0.20, say, "later 0.20")
    loop.call_later(0.05, say, "later 0.05")
    loop.call_soon(say, "soon")
    loop.call_later(0.40, loop.stop)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def timers_from_callbacks():
    loop = asyncio.new_event_loop()

    def a():
        say("A at 0.05")
        loop.call_later(0.10, c)
        loop.call_later(0, say, "A -> later 0")
        loop.call_soon(say, "A -> soon")

    def c():
        say("C at 0.15 (from A)")
        loop.call_later(0.05, say, "C -> later 0.05")
        loop.call_later(0.10, loop.stop)

    loop.call_later(0.05, a)
    loop.call_later(0.10, say, "B at 0.10")
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def call_soon_vs_call_later_zero():
    # asyncio moves due timers to the ready queue after what is already there, so
    # call_later(0) runs after every call_soon made before the iteration started.
    loop = asyncio.new_event_loop()
    Ticker(loop, 3)

    def mid():
        say("mid")
        loop.call_later(0, say, "mid -> later 0")
        loop.call_soon(say, "mid -> soon")

    loop.call_later(0, say, "later0 #1")
    loop.call_soon(say, "soon #1")
    loop.call_later(0, say, "later0 #2")
    loop.call_soon(mid)
    loop.call_soon(say, "soon #2")
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def call_later_negative_delay():
    # A negative delay is a deadline in the past: asyncio keeps it (when = now + delay),
    # so it sorts before timers already due, in deadline order.
    loop = asyncio.new_event_loop()
    Ticker(loop, 1)
    loop.call_later(0, say, "later 0")
    loop.call_later(-0.5, say, "later -0.5")
    loop.call_later(-1, say, "later -1")
    loop.call_at(loop.time() - 2, say, "at now-2")
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def handle_cancel():
    loop = asyncio.new_event_loop()
    handles = {}

    def first():
        say("first cancels second and the 0.05 timer")
        handles["second"].cancel()
        handles["timer"].cancel()
        say("second cancelled:", b(handles["second"].cancelled()))

    handles["first"] = loop.call_soon(first)
    handles["second"] = loop.call_soon(say, "second (must not run)")
    handles["third"] = loop.call_soon(say, "third")
    handles["timer"] = loop.call_later(0.05, say, "timer 0.05 (must not run)")
    keep = loop.call_later(0.10, say, "timer 0.10")
    say("timer 0.10 cancelled:", b(keep.cancelled()))
    loop.call_later(0.15, loop.stop)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def timer_cancel_from_timer():
    loop = asyncio.new_event_loop()
    h = {}

    def t1():
        say("t1 cancels t2")
        h["t2"].cancel()

    loop.call_later(0.05, t1)
    h["t2"] = loop.call_later(0.06, say, "t2 (must not run)")
    loop.call_later(0.07, say, "t3")
    loop.call_later(0.15, loop.stop)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def stop_in_callback():
    loop = asyncio.new_event_loop()

    def stopper():
        say("b stops the loop")
        loop.stop()
        loop.call_soon(say, "d (scheduled by b)")

    # Far enough out that the first two runs finish before it even on a loaded machine.
    loop.call_later(0.30, say, "timer survives the stop")
    loop.call_soon(say, "a")
    loop.call_soon(stopper)
    loop.call_soon(say, "c (same iteration as the stop)")
    loop.run_forever()
    say("run_forever returned")
    loop.call_soon(say, "e")
    loop.call_soon(loop.stop)
    loop.run_forever()
    say("second run_forever returned")
    loop.call_later(0.45, loop.stop)
    loop.run_forever()
    say("third run_forever returned")
    loop.close()


@scenario
def stop_before_run():
    loop = asyncio.new_event_loop()

    def a():
        say("a")
        loop.call_soon(a2)

    def a2():
        say("a2")
        loop.stop()

    loop.stop()
    loop.call_soon(a)
    loop.call_soon(say, "b")
    loop.run_forever()
    say("first run_forever returned")
    loop.run_forever()
    say("second run_forever returned")
    loop.close()


@scenario
def timers_near_equal_fifo():
    # acio fires timers with exactly equal deadlines in the order they were scheduled;
    # CPython's heapq does not promise that for equal `when` values (TimerHandle
    # compares by `when` only), so equal deadlines cannot be compared with CPython.
    # This scenario keeps the deadlines 1 ms apart, scheduled in increasing order,
    # which both must fire in order even when they fall due in one iteration.
    loop = asyncio.new_event_loop()
    for i in range(5):
        loop.call_later(0.050 + i * 0.001, say, f"timer {i}")
    loop.call_later(0.15, loop.stop)
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def run_nested_refused():
    loop = asyncio.new_event_loop()

    def nested():
        say("running:", b(loop.is_running()))
        try:
            loop.run_forever()
            say("nested run_forever accepted")
        except RuntimeError:
            say("nested run_forever refused")
        loop.stop()

    say("running before:", b(loop.is_running()))
    loop.call_soon(nested)
    loop.run_forever()
    say("running after:", b(loop.is_running()))
    loop.close()
    say("closed:", b(loop.is_closed()))


@scenario
def create_task_from_callback():
    # create_task schedules the first step with call_soon, so it takes its place in the
    # ready FIFO among plain callbacks, whether called from a callback or before run.
    loop = asyncio.new_event_loop()
    Ticker(loop, 4)

    async def child(name):
        say(f"{name} step 1")
        await asyncio.sleep(0)
        say(f"{name} step 2")

    def cb():
        say("cb creates t2")
        loop.create_task(child("t2"))
        loop.call_soon(say, "soon after t2")

    loop.call_soon(say, "soon a")
    loop.create_task(child("t1"))
    loop.call_soon(cb)
    loop.call_soon(say, "soon b")
    loop.run_forever()
    say("stopped")
    loop.close()


@scenario
def stop_from_task():
    loop = asyncio.new_event_loop()

    async def worker():
        say("w1 stops the loop")
        loop.stop()
        await asyncio.sleep(0)
        say("w2 (after the restart)")
        await asyncio.sleep(0.05)
        say("w3 stops the loop again")
        loop.stop()

    t = loop.create_task(worker())
    loop.run_forever()
    say("returned 1, worker done:", b(t.done()))
    loop.run_forever()
    say("returned 2, worker done:", b(t.done()))
    loop.close()


@scenario
def handle_cancel_after_run():
    # Handle.cancel() on a callback that already ran still marks the handle cancelled.
    loop = asyncio.new_event_loop()
    h = loop.call_soon(say, "ran")
    t = loop.call_later(0.01, say, "timer ran")
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    h.cancel()
    t.cancel()
    say("soon handle cancelled after run:", b(h.cancelled()))
    say("timer handle cancelled after run:", b(t.cancelled()))
    loop.close()


# ---------------------------------------------------------------- futures


def fut_text(fut):
    try:
        return f"result {fut.result()}"
    except BaseException as e:
        return err_text(e)


@scenario
def done_callbacks_order():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        for n in (1, 2, 3):
            fut.add_done_callback(lambda f, n=n: say(f"cb{n}:", fut_text(f)))
        loop.call_soon(say, "soon before set_result")
        fut.set_result(7)
        say("after set_result (no callback ran inline)")
        loop.call_soon(say, "soon after set_result")
        await asyncio.sleep(0)
        say("main resumed")

    asyncio.run(main())


@scenario
def done_callback_after_done():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fut.set_result(1)
        loop.call_soon(say, "soon x")
        fut.add_done_callback(lambda f: say("late cb:", fut_text(f)))
        say("added late cb (not run inline)")
        loop.call_soon(say, "soon y")
        gone = loop.create_future()
        gone.cancel()
        gone.add_done_callback(lambda f: say("late cb on cancelled:", fut_text(f)))
        await asyncio.sleep(0)
        say("main resumed")

    asyncio.run(main())


@scenario
def remove_done_callback():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        def one(f):
            say("one (must not run)")

        def two(f):
            say("two")

        def three(f):
            say("three")

        fut.add_done_callback(one)
        fut.add_done_callback(two)
        fut.add_done_callback(one)
        fut.add_done_callback(three)
        say("removed one:", fut.remove_done_callback(one))
        say("removed one again:", fut.remove_done_callback(one))
        fut.set_result(None)
        say("removed three after done:", fut.remove_done_callback(three))
        # Added to a done future, a callback is scheduled at once: too late to remove.
        fut.add_done_callback(two)
        say("removed two added after done:", fut.remove_done_callback(two))
        await asyncio.sleep(0)
        say("main resumed")

    asyncio.run(main())


@scenario
def future_wakes_waiters():
    async def waiter(name, fut):
        say(f"{name} waiting")
        r = await fut
        say(f"{name} got {r}")

    async def main():
        fut = asyncio.get_running_loop().create_future()
        ts = [asyncio.create_task(waiter(f"w{i}", fut)) for i in (1, 2, 3)]
        await asyncio.sleep(0)
        fut.set_result(5)
        say("main set the result")
        await asyncio.sleep(0)
        say("main resumed")
        for t in ts:
            await t
        say("all waiters done")

    asyncio.run(main())


@scenario
def future_states():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        say("done:", b(fut.done()))
        try:
            fut.result()
        except asyncio.InvalidStateError:
            say("result of pending: invalid state")
        fut.set_result(3)
        try:
            fut.set_result(4)
        except asyncio.InvalidStateError:
            say("second set_result: invalid state")
        say("cancel done future:", b(fut.cancel()))
        say("result:", fut.result())
        c = loop.create_future()
        say("cancel pending future:", b(c.cancel()))
        say("cancel again:", b(c.cancel()))
        say("cancelled:", b(c.cancelled()), "done:", b(c.done()))
        try:
            c.result()
        except asyncio.CancelledError as e:
            say("result of cancelled:", err_text(e))
        try:
            c.set_result(1)
        except asyncio.InvalidStateError:
            say("set_result on cancelled: invalid state")

    asyncio.run(main())


@scenario
def future_exception():
    async def waiter(name, fut):
        try:
            await fut
            say(f"{name}: no error?")
        except ValueError as e:
            say(f"{name}:", err_text(e))

    async def main():
        fut = asyncio.get_running_loop().create_future()
        ts = [asyncio.create_task(waiter(n, fut)) for n in ("w1", "w2")]
        await asyncio.sleep(0)
        fut.set_exception(ValueError("bad input 42"))
        for t in ts:
            await t
        try:
            await fut
        except ValueError as e:
            say("main:", err_text(e))

    asyncio.run(main())


@scenario
def future_cancel():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fut.add_done_callback(lambda f: say("cb:", fut_text(f)))

        async def waiter():
            try:
                await fut
            except asyncio.CancelledError as e:
                say("waiter:", err_text(e))
                return "waiter handled it"

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        say("cancel ->", b(fut.cancel("no longer needed")))
        say("after cancel, cancelled:", b(fut.cancelled()))
        say("waiter result:", await t)

    asyncio.run(main())


# ---------------------------------------------------------------- tasks


@scenario
def task_start_order():
    async def child(name):
        say(f"{name} first step")
        await asyncio.sleep(0)
        say(f"{name} second step")
        return name

    async def main():
        ts = [asyncio.create_task(child(f"t{i}")) for i in range(1, 4)]
        say("main created three tasks (none started)")
        for t in ts:
            say("awaited", await t)

    asyncio.run(main())


@scenario
def coro_direct_call():
    # Seed 003: awaiting a coroutine is a plain call and never yields.
    async def coro_a():
        say("I am coro_a(). Hi!")

    async def coro_b():
        say("I am coro_b(). I sure hope no one hogs the event loop...")

    async def main():
        task_b = asyncio.create_task(coro_b())
        for _ in range(3):
            await coro_a()
        await task_b

    asyncio.run(main())


@scenario
def coro_as_tasks():
    # Seed 003, second form: each coro_a wrapped in a task, so main yields to task_b.
    async def coro_a():
        say("I am coro_a(). Hi!")

    async def coro_b():
        say("I am coro_b(). I sure hope no one hogs the event loop...")

    async def main():
        task_b = asyncio.create_task(coro_b())
        for _ in range(3):
            await asyncio.create_task(coro_a())
        await task_b

    asyncio.run(main())


@scenario
def await_done_no_yield():
    async def other():
        say("other runs")

    async def quick():
        return 8

    async def main():
        loop = asyncio.get_running_loop()
        q = asyncio.create_task(quick())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        say("quick done:", b(q.done()))
        asyncio.create_task(other())
        fut = loop.create_future()
        fut.set_result(1)
        say("awaited done future:", await fut)
        say("awaited done task:", await q)
        say("awaited done future again:", await fut)
        await asyncio.sleep(0)
        say("main after sleep(0)")

    asyncio.run(main())


@scenario
def sleep0_interleave():
    async def worker(name, n):
        for i in range(n):
            say(f"{name} step {i}")
            await asyncio.sleep(0)
        say(f"{name} done")

    async def main():
        ts = [
            asyncio.create_task(worker("A", 3)),
            asyncio.create_task(worker("B", 2)),
            asyncio.create_task(worker("C", 4)),
        ]
        for i in range(2):
            say(f"main step {i}")
            await asyncio.sleep(0)
        for t in ts:
            await t
        say("main done")

    asyncio.run(main())


@scenario
def sleep_delays():
    async def sleeper(name, delay):
        say(f"{name} sleeps")
        await asyncio.sleep(delay)
        say(f"{name} woke")
        return delay

    async def main():
        ts = [
            asyncio.create_task(sleeper("s300", 0.30)),
            asyncio.create_task(sleeper("s100", 0.10)),
            asyncio.create_task(sleeper("s200", 0.20)),
            asyncio.create_task(sleeper("s0", 0)),
        ]
        say("main started four sleepers")
        for t in ts:
            await t
        say("all slept")

    asyncio.run(main())


@scenario
def task_await_task():
    async def leaf():
        say("leaf starts")
        await asyncio.sleep(0.05)
        say("leaf returns 2")
        return 2

    async def middle():
        say("middle starts")
        t = asyncio.create_task(leaf())
        r = await t
        say(f"middle got {r}, returns {r * 10}")
        return r * 10

    async def main():
        t = asyncio.create_task(middle())
        say("main awaits middle")
        r = await t
        say(f"main got {r}")

    asyncio.run(main())


@scenario
def result_propagation():
    async def add(a, c):
        await asyncio.sleep(0)
        return a + c

    async def main():
        t1 = asyncio.create_task(add(1, 2))
        t2 = asyncio.create_task(add(10, 20))
        r2 = await t2
        r1 = await t1
        say(f"t1 {r1} t2 {r2}")
        say("t1 result() again:", t1.result())
        return r1 + r2

    say("run returned", asyncio.run(main()))


@scenario
def error_propagation():
    async def inner():
        await asyncio.sleep(0)
        say("inner raises")
        raise ValueError("bad value 7")

    async def outer(t):
        await t
        say("outer: not reached")

    async def main():
        ti = asyncio.create_task(inner())
        to = asyncio.create_task(outer(ti))
        try:
            await to
        except ValueError as e:
            say("main from outer:", err_text(e))
        try:
            await ti
        except ValueError as e:
            say("main from inner:", err_text(e))
        say("inner done:", b(ti.done()), "cancelled:", b(ti.cancelled()))
        say("inner exception:", err_text(ti.exception()))
        try:
            await asyncio.create_task(failing_later())
        except RuntimeError as e:
            say("main:", err_text(e))

    async def failing_later():
        await asyncio.sleep(0.05)
        raise RuntimeError("io broke")

    asyncio.run(main())


@scenario
def run_main_error():
    async def main():
        say("main runs")
        await asyncio.sleep(0)
        raise ValueError("main failed")

    try:
        asyncio.run(main())
        say("run: no error?")
    except ValueError as e:
        say("run:", err_text(e))


@scenario
def task_done_callbacks():
    async def work():
        await asyncio.sleep(0)
        say("work returns 1")
        return 1

    async def helper(t):
        r = await t
        say(f"helper got {r}")

    async def main():
        loop = asyncio.get_running_loop()
        t = asyncio.create_task(work())
        t.add_done_callback(lambda f: say("cb1:", fut_text(f)))
        h = asyncio.create_task(helper(t))
        r = await t
        say(f"main got {r}")
        t.add_done_callback(lambda f: say("cb3 (added after done):", fut_text(f)))
        loop.call_soon(say, "soon after cb3")
        await h
        say("main done")

    asyncio.run(main())


@scenario
def task_names():
    async def noop():
        await asyncio.sleep(0)

    async def main():
        say("main:", asyncio.current_task().get_name())
        t1 = asyncio.create_task(noop())
        t2 = asyncio.create_task(noop(), name="worker")
        t3 = asyncio.create_task(noop())
        say("t1:", t1.get_name(), "t2:", t2.get_name(), "t3:", t3.get_name())
        t3.set_name("renamed")
        say("t3 now:", t3.get_name())
        for t in (t1, t2, t3):
            await t

    asyncio.run(main())


@scenario
def current_task():
    async def child():
        say("in child:", asyncio.current_task().get_name())

    async def main():
        loop = asyncio.get_running_loop()

        def cb():
            say("in callback:", "none" if asyncio.current_task() is None else "a task")

        loop.call_soon(cb)
        say("in main:", asyncio.current_task().get_name())
        await asyncio.create_task(child(), name="kid")
        say("back in main:", asyncio.current_task().get_name())

    say("outside:", "none" if asyncio._get_running_loop() is None else "a loop")
    asyncio.run(main())


@scenario
def sleep_negative():
    # sleep() with a delay <= 0 yields for exactly one iteration, like sleep(0).
    async def neg():
        say("neg before")
        await asyncio.sleep(-1)
        say("neg after")

    async def other():
        say("other runs")

    async def main():
        t1 = asyncio.create_task(neg())
        t2 = asyncio.create_task(other())
        await t1
        await t2

    asyncio.run(main())


@scenario
def sleep_same_delay_fifo():
    # Equal delays requested in one iteration: acio's deadlines are equal and fire in
    # FIFO order (see docs/deviations.md); CPython reads the clock at every call, so its
    # deadlines increase and give the same order.
    async def sleeper(name):
        await asyncio.sleep(0.1)
        say(f"{name} woke")

    async def main():
        ts = [asyncio.create_task(sleeper(n)) for n in ("a", "b", "c", "d")]
        for t in ts:
            await t

    asyncio.run(main())


@scenario
def all_tasks_count():
    # all_tasks() is a set in CPython: only its size is compared.
    async def child():
        await asyncio.sleep(0)

    async def main():
        say("pending tasks:", len(asyncio.all_tasks()))
        ts = [asyncio.create_task(child()) for _ in range(3)]
        say("after creating three:", len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        say("after one iteration:", len(asyncio.all_tasks()))
        for t in ts:
            await t
        say("after they finished:", len(asyncio.all_tasks()))

    asyncio.run(main())


@scenario
def run_nested_in_task():
    async def inner():
        say("inner (must not run)")

    async def main():
        coro = inner()
        try:
            asyncio.run(coro)
            say("nested run accepted")
        except RuntimeError:
            say("nested run refused")
            coro.close()
        return 1

    say("outer run returned", asyncio.run(main()))


@scenario
def sleep_wakes_one_iteration_later():
    # sleep()'s timer finishes a future and the task resumes from that future's done
    # callback, one iteration later. main blocks the loop so that both timers are due in
    # the same iteration; the other timer's call_soon then shows the extra hop.
    async def sleeper():
        await asyncio.sleep(0.05)
        say("sleeper woke")

    async def main():
        loop = asyncio.get_running_loop()

        def timer():
            say("timer 0.06")
            loop.call_soon(say, "soon from timer 0.06")

        t = asyncio.create_task(sleeper())
        await asyncio.sleep(0)  # the sleeper has started its sleep
        loop.call_later(0.06, timer)
        time.sleep(0.2)  # block the loop: both deadlines pass
        say("main blocked past both deadlines")
        await t

    asyncio.run(main())


# ---------------------------------------------------------------- cancellation


@scenario
def cancel_before_first_step():
    async def body():
        say("body started (must not happen)")

    async def main():
        t = asyncio.create_task(body())
        say("cancel ->", b(t.cancel()))
        say("cancelling:", t.cancelling(), "done:", b(t.done()))
        try:
            await t
            say("awaited without error?")
        except asyncio.CancelledError as e:
            say("main:", err_text(e))
        say("cancelled:", b(t.cancelled()))
        say("main cancelling:", asyncio.current_task().cancelling())

    asyncio.run(main())


@scenario
def cancel_while_sleeping():
    # Seed 003's hello(): the cancelled task cleans up and re-raises.
    async def hello():
        try:
            say("Hello ...")
            await asyncio.sleep(100)
            say("... World!")
        except asyncio.CancelledError:
            say("Task cancelled")
            raise

    async def main():
        t = asyncio.create_task(hello())
        await asyncio.sleep(0.05)
        say("cancel ->", b(t.cancel()))
        try:
            await t
        except asyncio.CancelledError:
            say("main: hello_task cancelled")
        say("cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def cancel_cleanup_await_again():
    async def worker():
        try:
            say("worker sleeps")
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            say("worker cleanup starts, cancelling", asyncio.current_task().cancelling())
            await asyncio.sleep(0.05)
            say("cleanup slept (the cancellation is delivered once)")
            await asyncio.sleep(0)
            say("cleanup done")
            raise

    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0.05)
        t.cancel()
        say("main cancelled worker, done:", b(t.done()))
        try:
            await t
        except asyncio.CancelledError:
            say("main: worker cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def cancel_twice():
    async def worker():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            say("worker caught one cancellation, cancelling", me.cancelling())
            say("uncancel ->", me.uncancel())
            await asyncio.sleep(0)
            say("worker still has a request pending, ends cancelled")
            raise

    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0)
        r1 = t.cancel()
        r2 = t.cancel()
        say("cancel ->", b(r1), b(r2), "cancelling", t.cancelling())
        try:
            await t
        except asyncio.CancelledError:
            say("main: worker cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def cancel_twice_uncancel_all():
    async def worker():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            say("worker caught, cancelling", me.cancelling())
            say("uncancel ->", me.uncancel())
            say("uncancel ->", me.uncancel())
        await asyncio.sleep(0)
        say("worker carries on")
        await asyncio.sleep(0.05)
        return 11

    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0)
        t.cancel()
        t.cancel()
        say("main awaits worker")
        say("worker returned", await t, "cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def uncancel():
    async def worker():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            say("worker refuses: uncancel ->", me.uncancel())
        await asyncio.sleep(0.05)
        say("worker finished its sleep")
        return 5

    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0)
        t.cancel()
        r = await t
        say("main got", r, "cancelled:", b(t.cancelled()), "cancelling:", t.cancelling())

    asyncio.run(main())


@scenario
def cancel_awaiting_future():
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fut.add_done_callback(lambda f: say("fut cb: cancelled", b(f.cancelled())))

        async def waiter():
            try:
                await fut
            except asyncio.CancelledError as e:
                say("waiter:", err_text(e))
                raise

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        say("cancel ->", b(t.cancel("stop it")))
        say("fut cancelled right away:", b(fut.cancelled()))
        say("task done yet:", b(t.done()))
        try:
            await t
        except asyncio.CancelledError as e:
            say("main:", err_text(e))

    asyncio.run(main())


@scenario
def cancel_awaiting_task():
    async def inner():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            say("inner cleanup")
            raise

    async def outer(holder):
        t = asyncio.create_task(inner())
        holder.append(t)
        try:
            await t
        except asyncio.CancelledError:
            say("outer sees cancellation, inner cancelled:", b(t.cancelled()))
            raise

    async def main():
        holder = []
        o = asyncio.create_task(outer(holder))
        await asyncio.sleep(0.05)
        o.cancel()
        try:
            await o
        except asyncio.CancelledError:
            say("main: outer cancelled:", b(o.cancelled()))
        i = holder[0]
        say("inner cancelled:", b(i.cancelled()), "cancelling:", i.cancelling())

    asyncio.run(main())


@scenario
def awaiter_sees_cancellation():
    async def target():
        await asyncio.sleep(100)

    async def watcher(t):
        try:
            await t
        except asyncio.CancelledError as e:
            me = asyncio.current_task()
            say("watcher:", err_text(e), "my cancelling:", me.cancelling())
            return "watcher survived"

    async def main():
        t = asyncio.create_task(target())
        w = asyncio.create_task(watcher(t))
        await asyncio.sleep(0.05)
        t.cancel("target dropped")
        say("main got", await w)
        say("target cancelled:", b(t.cancelled()), "watcher cancelled:", b(w.cancelled()))

    asyncio.run(main())


@scenario
def cancel_message():
    async def sleeper():
        await asyncio.sleep(100)

    async def main():
        early = asyncio.create_task(sleeper())
        early.cancel("early bird")
        late = asyncio.create_task(sleeper())
        await asyncio.sleep(0.05)
        late.cancel("late bird")
        plain = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        plain.cancel()
        for name, t in (("early", early), ("late", late), ("plain", plain)):
            try:
                await t
            except asyncio.CancelledError as e:
                say(f"{name}:", err_text(e))

    asyncio.run(main())


@scenario
def self_cancel():
    async def worker():
        me = asyncio.current_task()
        say("self cancel ->", b(me.cancel()))
        say("still running, cancelling", me.cancelling())
        try:
            await asyncio.sleep(0)
            say("not cancelled?")
        except asyncio.CancelledError:
            say("cancelled at the next await")
        say("uncancel ->", me.uncancel())
        await asyncio.sleep(0)
        return "ok"

    async def main():
        say("worker returned", await asyncio.create_task(worker()))

    asyncio.run(main())


@scenario
def cancel_after_waiter_done():
    # The future finishes, then the task is cancelled before it woke up: the task
    # still sees the cancellation, although the future it awaited has a result.
    async def main():
        fut = asyncio.get_running_loop().create_future()

        async def waiter():
            try:
                r = await fut
                say("waiter got", r)
            except asyncio.CancelledError:
                say("waiter cancelled although fut has result", fut.result())
                raise

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        fut.set_result(3)
        say("cancel ->", b(t.cancel()))
        try:
            await t
        except asyncio.CancelledError:
            say("main: waiter cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def future_cancelled_under_task():
    # Someone else cancels the future a task awaits: the task was never asked to cancel
    # (cancelling() == 0) and lets the CancelledError propagate.
    async def main():
        fut = asyncio.get_running_loop().create_future()

        async def waiter():
            try:
                await fut
            except asyncio.CancelledError as e:
                say("waiter:", err_text(e), "cancelling", asyncio.current_task().cancelling())
                raise

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        fut.cancel("fut gone")
        try:
            await t
        except asyncio.CancelledError as e:
            say("main:", err_text(e), "task cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def cancel_done_task():
    async def quick():
        return 1

    async def main():
        t = asyncio.create_task(quick())
        await t
        say("cancel finished task ->", b(t.cancel()), "cancelling", t.cancelling())
        s = asyncio.create_task(asyncio.sleep(100))
        await asyncio.sleep(0)
        s.cancel()
        try:
            await s
        except asyncio.CancelledError:
            pass
        say("cancel cancelled task ->", b(s.cancel()), "cancelling", s.cancelling())

    asyncio.run(main())


@scenario
def cancel_during_sleep0():
    # Cancelled while its next step is already scheduled: the request is delivered by
    # that step, at the sleep(0) the task is suspended in.
    async def spinner():
        try:
            for i in range(100):
                say(f"spin {i}")
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            say("spinner cancelled at its sleep(0)")
            raise

    async def main():
        t = asyncio.create_task(spinner())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        t.cancel()
        say("main cancelled spinner")
        try:
            await t
        except asyncio.CancelledError as e:
            say("main:", err_text(e))

    asyncio.run(main())


@scenario
def cancel_twice_messages():
    # Two cancel(msg) calls: a sleeping task gets the first message (its sleep future
    # was cancelled with it); a task that has not started gets the last one.
    async def sleeper():
        await asyncio.sleep(100)

    async def main():
        sleeping = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        sleeping.cancel("first")
        sleeping.cancel("second")
        unstarted = asyncio.create_task(sleeper())
        unstarted.cancel("first")
        unstarted.cancel("second")
        for name, t in (("sleeping", sleeping), ("unstarted", unstarted)):
            try:
                await t
            except asyncio.CancelledError as e:
                say(f"{name}:", err_text(e))

    asyncio.run(main())


@scenario
def cancel_chain():
    # Cancelling the top of a chain of tasks cancels each awaited task in turn; the
    # cleanups run bottom-up.
    async def leaf():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            say("leaf cleanup")
            raise

    async def mid(holder):
        t = asyncio.create_task(leaf())
        holder.append(t)
        try:
            await t
        except asyncio.CancelledError:
            say("mid cleanup")
            raise

    async def top(holder):
        t = asyncio.create_task(mid(holder))
        holder.append(t)
        try:
            await t
        except asyncio.CancelledError:
            say("top cleanup")
            raise

    async def main():
        holder = []
        t = asyncio.create_task(top(holder))
        for _ in range(3):  # top, mid and leaf each start in their own iteration
            await asyncio.sleep(0)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            say("main: top cancelled")
        m, lf = holder
        say("cancelling top", t.cancelling(), "mid", m.cancelling(), "leaf", lf.cancelling())
        say("cancelled top", b(t.cancelled()), "mid", b(m.cancelled()), "leaf", b(lf.cancelled()))

    asyncio.run(main())


@scenario
def cancel_then_return_without_await():
    # cancel() of a running task that then returns without awaiting anything: the task
    # ends cancelled (CPython: `_must_cancel` when the coroutine stops).
    async def worker():
        asyncio.current_task().cancel("bye")
        say("worker returns 5 without awaiting")
        return 5

    async def main():
        t = asyncio.create_task(worker())
        try:
            r = await t
            say("main got", r)
        except asyncio.CancelledError as e:
            say("main:", err_text(e), "cancelled:", b(t.cancelled()))

    asyncio.run(main())


@scenario
def await_cancelled_future_again():
    # After its future is cancelled under it, a task awaiting the same future again gets
    # the cancellation at once, without yielding.
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        async def waiter():
            for i in range(2):
                try:
                    await fut
                except asyncio.CancelledError as e:
                    say(f"waiter await {i}:", err_text(e))
            say("waiter returns")
            return 2

        async def bystander():
            say("bystander runs")

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        fut.cancel("gone")
        asyncio.create_task(bystander())
        say("main awaits waiter")
        say("waiter returned", await t)

    asyncio.run(main())


@scenario
def set_result_after_waiter_cancelled():
    # Cancelling a task cancels the future it awaits; a producer setting that future
    # afterwards finds it done (InvalidStateError).
    async def main():
        fut = asyncio.get_running_loop().create_future()

        async def waiter():
            await fut

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        t.cancel()
        try:
            fut.set_result(1)
            say("set_result accepted?")
        except asyncio.InvalidStateError:
            say("set_result: invalid state, fut cancelled:", b(fut.cancelled()))
        try:
            await t
        except asyncio.CancelledError:
            say("main: waiter cancelled")

    asyncio.run(main())


@scenario
def self_cancel_then_await_future():
    # A cancellation requested while the task runs is passed on to the future it awaits
    # next, which is cancelled at once with the message.
    async def main():
        fut = asyncio.get_running_loop().create_future()
        fut.add_done_callback(lambda f: say("fut cb:", fut_text(f)))

        async def worker():
            asyncio.current_task().cancel("from inside")
            try:
                await fut
            except asyncio.CancelledError as e:
                say("worker:", err_text(e), "fut cancelled:", b(fut.cancelled()))
                raise

        t = asyncio.create_task(worker())
        try:
            await t
        except asyncio.CancelledError as e:
            say("main:", err_text(e))

    asyncio.run(main())


@scenario
def cancel_then_raise_other():
    # A cancelled task that fails with another error during its cleanup ends with that
    # error, not cancelled.
    async def worker():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            say("worker cleanup fails")
            raise ValueError("cleanup broke")

    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0)
        t.cancel()
        try:
            await t
        except ValueError as e:
            say("main:", err_text(e), "cancelled:", b(t.cancelled()))
        except asyncio.CancelledError:
            say("main: cancelled?")

    asyncio.run(main())


# ---------------------------------------------------------------- run and run_until_complete


@scenario
def run_cancels_leftovers():
    # asyncio.run cancels every task left when main returns. It cancels them in set
    # order (not deterministic in CPython), so each cleanup sleeps a different time
    # before printing: the trace depends only on the delays.
    async def leftover(name, delay):
        try:
            say(f"{name} started")
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            await asyncio.sleep(delay)
            say(f"{name} cleanup after {delay}")
            raise

    async def main():
        asyncio.create_task(leftover("A", 0.15))
        asyncio.create_task(leftover("B", 0.05))
        asyncio.create_task(leftover("C", 0.10))
        await asyncio.sleep(0)
        # Created in main's last step: its first step is already scheduled when main
        # ends, so it runs (in the iteration that sees main done) before run() cancels.
        asyncio.create_task(leftover("D", 0.20))
        say("main returns")
        return 3

    say("run returned", asyncio.run(main()))


@scenario
def run_closing_rounds():
    # After main, asyncio.run turns the loop in two more run_until_complete() rounds
    # (shutdown_asyncgens, shutdown_default_executor) even with nothing to shut down:
    # a call_soon chain started by main's last step gets four more iterations.
    def ping(loop, n):
        say("ping", n)
        if n < 10:
            loop.call_soon(ping, loop, n + 1)

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_soon(ping, loop, 1)
        say("main returns")

    asyncio.run(main())
    say("run returned")


@scenario
def run_until_complete():
    loop = asyncio.new_event_loop()

    def ping(n):
        say(f"ping {n}")
        if n < 6:
            loop.call_soon(ping, n + 1)
        else:
            # Only now, so the timer cannot fall due amid the pings on a slow machine.
            loop.call_later(0.05, fut.set_result, "from timer")

    async def work():
        say("work step 1")
        await asyncio.sleep(0)
        say("work step 2")
        return 9

    fut = loop.create_future()
    loop.call_soon(ping, 0)
    t = loop.create_task(work())
    say("result", loop.run_until_complete(t))
    say("fut result", loop.run_until_complete(fut))
    # A done future still costs one iteration: callbacks already scheduled run.
    loop.call_soon(say, "runs during the done-again run")
    say("fut done again", loop.run_until_complete(fut))
    loop.close()


@scenario
def run_until_complete_stopped():
    loop = asyncio.new_event_loop()
    fut = loop.create_future()
    loop.call_soon(say, "before stop")
    loop.call_soon(loop.stop)
    try:
        loop.run_until_complete(fut)
        say("completed?")
    except RuntimeError:
        say("stopped before the future completed")
    say("fut done:", b(fut.done()))
    loop.call_soon(fut.set_result, 4)
    say("second try:", loop.run_until_complete(fut))
    loop.close()


@scenario
def run_main_cancelled():
    async def main():
        asyncio.current_task().cancel()
        say("main cancelled itself")
        await asyncio.sleep(0)
        say("not reached")

    try:
        asyncio.run(main())
        say("run: no error?")
    except asyncio.CancelledError as e:
        say("run:", err_text(e))


@scenario
def run_until_complete_error():
    loop = asyncio.new_event_loop()

    async def bad():
        await asyncio.sleep(0)
        raise ValueError("ruc failed")

    async def victim():
        await asyncio.sleep(100)

    try:
        loop.run_until_complete(loop.create_task(bad()))
        say("ruc: no error?")
    except ValueError as e:
        say("ruc:", err_text(e))
    t = loop.create_task(victim())
    loop.call_soon(t.cancel)
    try:
        loop.run_until_complete(t)
        say("ruc: no error?")
    except asyncio.CancelledError as e:
        say("ruc:", err_text(e))
    loop.close()


# ---------------------------------------------------------------- the exception handler


def report(loop, ctx):
    exc = ctx.get("exception")
    say("handler:", err_text(exc) if exc is not None else "no exception")


@scenario
def exception_handler_task():
    # An unretrieved task error is reported when CPython frees the task (at the end of
    # the iteration in which it finished) and when acio's detached task ends; nothing
    # else happens in that iteration, so both orders agree.
    async def bad():
        await asyncio.sleep(0)
        say("bad raises")
        raise ValueError("nobody listens")

    async def main():
        asyncio.get_running_loop().set_exception_handler(report)
        asyncio.create_task(bad())
        await asyncio.sleep(0.05)
        say("main done")

    asyncio.run(main())


@scenario
def exception_handler_future():
    async def main():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(report)
        fut = loop.create_future()
        fut.set_exception(RuntimeError("lost error"))
        say("dropping the unretrieved future")
        del fut
        say("dropped")
        kept = loop.create_future()
        kept.set_exception(RuntimeError("seen error"))
        say("retrieved:", err_text(kept.exception()))
        del kept
        say("dropped the retrieved one (no report)")

    asyncio.run(main())


@scenario
def exception_handler_held_task():
    # A failed task someone holds but never awaits is reported when the last reference
    # goes: `del t` in CPython (reference counting), acio_future_unref() in acio.
    async def bad():
        raise ValueError("held but ignored")

    async def good():
        raise ValueError("awaited")

    async def main():
        asyncio.get_running_loop().set_exception_handler(report)
        t = asyncio.create_task(bad())
        g = asyncio.create_task(good())
        await asyncio.sleep(0.05)
        say("t done:", b(t.done()))
        try:
            await g
        except ValueError as e:
            say("g:", err_text(e))
        say("dropping g (retrieved: no report)")
        del g
        say("dropping t")
        del t
        say("dropped")

    asyncio.run(main())


@scenario
def run_shutdown_error():
    # A leftover task that fails during asyncio.run's shutdown is reported to the
    # exception handler once; it is the last to finish, so the report comes last.
    async def stubborn():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)
            say("stubborn raises during shutdown")
            raise ValueError("cleanup failed")

    async def polite():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            say("polite cleanup")
            raise

    async def main():
        asyncio.get_running_loop().set_exception_handler(report)
        asyncio.create_task(stubborn())
        asyncio.create_task(polite())
        await asyncio.sleep(0)
        say("main returns")

    asyncio.run(main())
    say("after run")


# ---------------------------------------------------------------- streams


def show_bytes(label, data):
    say(f"{label} -> {data!r}")


async def stream_try(label, reader, coro):
    """Run one read and print its outcome the way the C side prints it, then what
    stays buffered."""
    try:
        show_bytes(label, await coro)
    except asyncio.LimitOverrunError as e:
        say(f"{label} -> LimitOverrunError consumed={e.consumed}: {e}")
    except asyncio.IncompleteReadError as e:
        say(f"{label} -> IncompleteReadError partial={e.partial!r} expected={e.expected}: {e}")
    except ValueError as e:
        say(f"{label} -> ValueError: {e}")
    say(f"  buffered {len(reader._buffer)}")


@scenario
def stream_reader_errors():
    """What readline / readuntil / readexactly return or raise, the exceptions'
    attributes and str(), and what stays in the buffer after each (limit 8)."""

    async def main():
        r = asyncio.StreamReader(limit=8)
        r.feed_data(b"abc\n0123456789\nxy")
        await stream_try("readline", r, r.readline())
        await stream_try("readline (line over the limit)", r, r.readline())
        r.feed_data(b"0123456789")
        await stream_try("readuntil ! (not found)", r, r.readuntil(b"!"))
        await stream_try("readexactly 5", r, r.readexactly(5))
        r.feed_data(b"AB")
        r.feed_eof()
        await stream_try("readuntil ! (9 buffered)", r, r.readuntil(b"!"))
        await stream_try("read 5", r, r.read(5))
        await stream_try("readuntil ! (at EOF)", r, r.readuntil(b"!"))
        await stream_try("readline (empty, EOF)", r, r.readline())

        r = asyncio.StreamReader(limit=8)
        r.feed_data(b"hello")
        r.feed_eof()
        await stream_try("readexactly 8", r, r.readexactly(8))

        r = asyncio.StreamReader(limit=8)
        r.feed_data(b"line one\n12345678901")
        await stream_try("readline (8 + newline)", r, r.readline())
        await stream_try("readline (no newline, over)", r, r.readline())
        r.feed_data(b"ab\ncd")
        r.feed_eof()
        await stream_try("readline", r, r.readline())
        await stream_try("readline (partial)", r, r.readline())
        await stream_try("readline (EOF)", r, r.readline())

        r = asyncio.StreamReader(limit=8)
        r.feed_data(b"abc\r")
        r.feed_eof()
        await stream_try("readuntil CRLF (half a separator)", r, r.readuntil(b"\r\n"))

        r = asyncio.StreamReader(limit=8)
        r.feed_data(b"0123456789ab\r\n")
        await stream_try("readuntil CRLF (found past the limit)", r, r.readuntil(b"\r\n"))
        await stream_try("readexactly 14", r, r.readexactly(14))

    asyncio.run(main())


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name in SCENARIOS:
            print(name)
        return 0
    if len(argv) != 2 or argv[1] not in SCENARIOS:
        print(f"usage: {argv[0]} --list | NAME", file=sys.stderr)
        return 2
    SCENARIOS[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
