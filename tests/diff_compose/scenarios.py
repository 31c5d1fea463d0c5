"""Differential scenarios for acio's composition layer, CPython side.

`python3 scenarios.py NAME` prints the trace of scenario NAME. Each has a twin of the
same name in tests/test_compose_diff.c, written with acio's C API; that Criterion test
runs both and compares the traces line by line, so every line here is a claim about
asyncio's ordering that acio must reproduce.

Conventions (mirrored by the C side):
  * errors are printed by their message only ("error boom"), cancellations as
    "cancelled" (the message is not compared: acio adds reasons);
  * wait()'s sets are printed sorted by name, because Python's sets have no order;
  * no timings are printed; delays only decide the order and differ by >= 10 ms.

wait_for is Python 3.12's (a timeout scope around an await), written out below because
the python3 under test is 3.11, whose wait_for is the older implementation acio
deliberately does not follow. Everything else is 3.11's asyncio as installed.
"""

import asyncio
import sys

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def say(*args):
    print(*args, flush=True)


def err_text(exc):
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"error {exc}"


class Boom(Exception):
    pass


async def wait_for(fut, timeout):
    """asyncio.wait_for as Python 3.12 defines it."""
    if timeout is not None and timeout <= 0:
        fut = asyncio.ensure_future(fut)
        if fut.done():
            return fut.result()
        fut.cancel()
        try:
            await asyncio.wait([fut])
        finally:
            pass
        try:
            return fut.result()
        except asyncio.CancelledError as exc:
            raise TimeoutError from exc
    async with asyncio.timeout(timeout):
        return await fut


async def child(name, delay, value=None, fail=None, swallow=False):
    say(f"{name} start")
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        say(f"{name} cancelled")
        if swallow:
            asyncio.current_task().uncancel()
            return value
        raise
    if fail is not None:
        say(f"{name} fails")
        raise Boom(fail)
    say(f"{name} done")
    return value


def names(tasks):
    return " ".join(sorted(t.get_name() for t in tasks))


# ---- gather ----

@scenario
async def gather_order():
    r = await asyncio.gather(child("a", 0.06, 1), child("b", 0.02, 2), child("c", 0.04, 3))
    say(f"results {r}")


@scenario
async def gather_first_error():
    a = asyncio.create_task(child("a", 0.02, fail="boom a"))
    b = asyncio.create_task(child("b", 0.1, 2))
    try:
        await asyncio.gather(a, b)
    except Exception as e:
        say(f"gather {err_text(e)}")
    say(f"b done {b.done()}")
    await b
    say(f"b done {b.done()}")


@scenario
async def gather_return_exceptions():
    a = asyncio.create_task(child("a", 0.02, 1))
    b = asyncio.create_task(child("b", 0.04, fail="boom b"))
    c = asyncio.create_task(child("c", 0.5, 3))
    await asyncio.sleep(0)
    c.cancel()
    r = await asyncio.gather(a, b, c, return_exceptions=True)
    say("results " + ", ".join(err_text(x) if isinstance(x, BaseException) else str(x) for x in r))


@scenario
async def gather_child_cancelled():
    a = asyncio.create_task(child("a", 0.5, 1))
    b = asyncio.create_task(child("b", 0.04, 2))
    g = asyncio.gather(a, b)
    await asyncio.sleep(0.02)
    a.cancel()
    try:
        await g
    except asyncio.CancelledError as e:
        say(f"gather {err_text(e)}; main cancelling {asyncio.current_task().cancelling()}")
    say(f"b -> {await b}")


@scenario
async def gather_nested():
    inner = asyncio.gather(child("a", 0.06, 1), child("b", 0.02, 2))
    r = await asyncio.gather(inner, child("c", 0.03, 3))
    say(f"results {r}")


@scenario
async def gather_done_futures():
    loop = asyncio.get_running_loop()
    f1 = loop.create_future()
    f2 = loop.create_future()
    f1.set_result(10)
    t = asyncio.create_task(child("t", 0.02, 30))
    g = asyncio.gather(f1, f2, t)
    loop.call_soon(lambda: (say("setting f2"), f2.set_result(20)))
    say(f"results {await g}")


@scenario
async def gather_cancel_awaiter():
    a = asyncio.create_task(child("a", 0.5, 1))
    b = asyncio.create_task(child("b", 0.5, 2))

    async def w():
        try:
            await asyncio.gather(a, b, return_exceptions=True)
        except asyncio.CancelledError:
            say("w cancelled")
            raise

    t = asyncio.create_task(w())
    await asyncio.sleep(0.02)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        say(f"w -> cancelled; a {a.cancelled()} b {b.cancelled()}")


@scenario
async def gather_outer_cancel_follows_children():
    # _GatheringFuture.cancel(): the children are cancelled at once, the outer future
    # stays pending and finishes once they have reacted (a swallows its cancellation).
    a = asyncio.create_task(child("a", 0.5, 1, swallow=True))
    b = asyncio.create_task(child("b", 0.5, 2))
    g = asyncio.gather(a, b, return_exceptions=True)
    await asyncio.sleep(0.02)
    say(f"cancel -> {g.cancel()}; done {g.done()}")
    try:
        say(f"gather -> {await g}")
    except asyncio.CancelledError:
        say(f"gather -> cancelled; a {a.cancelled()} b {b.cancelled()}")
    say(f"cancel again -> {g.cancel()}")


@scenario
async def gather_outer_cancel_first_child():
    # Without return_exceptions the first cancelled child finishes the outer future;
    # the child that swallowed its cancellation finished first, with a result.
    a = asyncio.create_task(child("a", 0.5, 1, swallow=True))
    b = asyncio.create_task(child("b", 0.5, 2))
    c = asyncio.create_task(child("c", 0.01, 3))
    g = asyncio.gather(a, b, c)
    await asyncio.wait([c])
    say(f"cancel -> {g.cancel()}; done {g.done()}")
    try:
        say(f"gather -> {await g}")
    except asyncio.CancelledError:
        say(f"gather -> cancelled; a {a.result()} b {b.cancelled()}")


@scenario
async def gather_outer_cancel_nothing_left():
    # Every child already finished but their callbacks are still queued: cancel() finds
    # nothing to cancel, returns False, and the gather completes normally.
    a = asyncio.create_task(child("a", 0.01, 1))
    await asyncio.wait([a])
    g = asyncio.gather(a)
    say(f"cancel -> {g.cancel()}; done {g.done()}")
    say(f"gather -> {await g}")


# ---- wait ----

@scenario
async def wait_all():
    ts = [asyncio.create_task(child(n, d, i), name=n)
          for i, (n, d) in enumerate([("a", 0.06), ("b", 0.02), ("c", 0.04)])]
    done, pending = await asyncio.wait(ts)
    say(f"done {names(done)}; pending {names(pending)}")


@scenario
async def wait_first_completed():
    ts = [asyncio.create_task(child(n, d), name=n)
          for n, d in [("a", 0.1), ("b", 0.02), ("c", 0.12)]]
    done, pending = await asyncio.wait(ts, return_when=asyncio.FIRST_COMPLETED)
    say(f"done {names(done)}; pending {names(pending)}")
    for t in sorted(pending, key=lambda t: t.get_name()):
        t.cancel()
    await asyncio.wait(pending)
    say("all cancelled " + str(all(t.cancelled() for t in pending)))


@scenario
async def wait_first_exception():
    ts = [asyncio.create_task(child("a", 0.02), name="a"),
          asyncio.create_task(child("b", 0.04, fail="boom b"), name="b"),
          asyncio.create_task(child("c", 0.1), name="c")]
    done, pending = await asyncio.wait(ts, return_when=asyncio.FIRST_EXCEPTION)
    say(f"done {names(done)}; pending {names(pending)}")
    await asyncio.wait(pending)
    say(f"b: {err_text(ts[1].exception())}")


@scenario
async def wait_timeout():
    ts = [asyncio.create_task(child("a", 0.02), name="a"),
          asyncio.create_task(child("b", 0.5), name="b")]
    done, pending = await asyncio.wait(ts, timeout=0.06)
    say(f"done {names(done)}; pending {names(pending)}")
    ts[1].cancel()
    await asyncio.sleep(0)
    say(f"b cancelled {ts[1].cancelled()}")


@scenario
async def wait_cancelled():
    a = asyncio.create_task(child("a", 0.06), name="a")

    async def waiter():
        try:
            await asyncio.wait([a])
        except asyncio.CancelledError:
            say("waiter cancelled")
            raise

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.02)
    w.cancel()
    await asyncio.sleep(0)
    say(f"a done {a.done()}")
    await a
    say(f"a done {a.done()}")


# ---- wait_for ----

@scenario
async def wait_for_ok():
    t = asyncio.create_task(child("a", 0.02, 7))
    say(f"got {await wait_for(t, 1)}")


@scenario
async def wait_for_timeout():
    t = asyncio.create_task(child("a", 0.5, 7))
    try:
        await wait_for(t, 0.04)
    except TimeoutError:
        say(f"timeout; a cancelled {t.cancelled()}")


@scenario
async def wait_for_swallowed():
    t = asyncio.create_task(child("a", 0.5, 9, swallow=True))
    say(f"got {await wait_for(t, 0.04)}")


@scenario
async def wait_for_outer_cancel():
    t = asyncio.create_task(child("a", 0.5, 7))

    async def caller():
        try:
            return await wait_for(t, 0.2)
        except asyncio.CancelledError:
            say("caller cancelled")
            raise

    c = asyncio.create_task(caller())
    await asyncio.sleep(0.02)
    c.cancel()
    try:
        await c
    except asyncio.CancelledError:
        say(f"caller -> cancelled; a cancelled {t.cancelled()}")


@scenario
async def wait_for_zero():
    t = asyncio.create_task(child("a", 0.5, 7))
    try:
        await wait_for(t, 0)
    except TimeoutError:
        say(f"timeout; a cancelled {t.cancelled()}")


# ---- timeout scopes ----

@scenario
async def timeout_expires():
    try:
        async with asyncio.timeout(0.04) as cm:
            await child("a", 0.5)
    except TimeoutError:
        say(f"timeout; expired {cm.expired()}")
    say(f"cancelling {asyncio.current_task().cancelling()}")


@scenario
async def timeout_reschedule():
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.04) as cm:
            cm.reschedule(loop.time() + 0.12)
            await asyncio.sleep(0.06)
            say("still inside")
            cm.reschedule(None)
            await asyncio.sleep(0.1)
            say("no deadline")
            cm.reschedule(loop.time() + 0.02)
            await child("a", 0.5)
    except TimeoutError:
        say(f"timeout; expired {cm.expired()}")


@scenario
async def timeout_nested_outer_fires():
    try:
        async with asyncio.timeout(0.04) as outer:
            try:
                async with asyncio.timeout(1) as inner:
                    await child("a", 0.5)
            except asyncio.CancelledError:
                say(f"inner let cancellation through; inner expired {inner.expired()}")
                raise
    except TimeoutError:
        say(f"outer timeout; outer expired {outer.expired()}")


@scenario
async def timeout_nested_inner_fires():
    async with asyncio.timeout(1) as outer:
        try:
            async with asyncio.timeout(0.04):
                await child("a", 0.5)
        except TimeoutError:
            say("inner timeout")
        await asyncio.sleep(0.02)
        say("after")
    say(f"outer expired {outer.expired()}")


@scenario
async def timeout_outer_cancel():
    async def scoped():
        try:
            async with asyncio.timeout(0.2):
                await child("a", 0.5)
        except TimeoutError:
            say("wrongly timed out")
        except asyncio.CancelledError:
            say("scope passed cancellation")
            raise

    t = asyncio.create_task(scoped())
    await asyncio.sleep(0.02)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        say("task cancelled")


# ---- TaskGroup ----

@scenario
async def taskgroup_ok():
    async with asyncio.TaskGroup() as tg:
        tg.create_task(child("a", 0.04))
        tg.create_task(child("b", 0.02))
        say("body done")
    say("group done")


@scenario
async def taskgroup_failure():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(child("a", 0.5))
            tg.create_task(child("b", 0.02, fail="boom b"))
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                say("body cancelled")
                raise
    except* Boom as eg:
        say("errors " + ", ".join(str(e) for e in eg.exceptions))
    say(f"cancelling {asyncio.current_task().cancelling()}")


@scenario
async def taskgroup_two_failures():
    try:
        async with asyncio.TaskGroup() as tg:
            # sleep(0), not equal timers: under load CPython may fire two equal
            # timers in different iterations, which made this scenario flaky.
            tg.create_task(child("a", 0, fail="boom a"))
            tg.create_task(child("b", 0, fail="boom b"))
    except* Boom as eg:
        say("errors " + ", ".join(str(e) for e in eg.exceptions))


@scenario
async def taskgroup_outer_cancel():
    async def body():
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(child("a", 0.5))
                await asyncio.sleep(1)
        except asyncio.CancelledError:
            say("group let cancellation through")
            raise

    t = asyncio.create_task(body())
    await asyncio.sleep(0.02)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        say("body task cancelled")


@scenario
async def taskgroup_body_error():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(child("a", 0.5))
            await asyncio.sleep(0.02)
            say("body fails")
            raise Boom("boom body")
    except* Boom as eg:
        say("errors " + ", ".join(str(e) for e in eg.exceptions))


# ---- shield, as_completed ----

@scenario
async def shield_outer_cancel():
    t = asyncio.create_task(child("a", 0.06, 5))

    async def caller():
        try:
            return await asyncio.shield(t)
        except asyncio.CancelledError:
            say("caller cancelled")
            raise

    c = asyncio.create_task(caller())
    await asyncio.sleep(0.02)
    c.cancel()
    try:
        await c
    except asyncio.CancelledError:
        say("caller -> cancelled")
    say(f"a -> {await t}")


@scenario
async def shield_inner_outcomes():
    a = asyncio.create_task(child("a", 0.02, 4))
    b = asyncio.create_task(child("b", 0.04, fail="boom b"))
    say(f"a -> {await asyncio.shield(a)}")
    try:
        await asyncio.shield(b)
    except Boom as e:
        say(f"b -> {err_text(e)}")


@scenario
async def as_completed_order():
    ts = [asyncio.create_task(child("a", 0.06, 1)), asyncio.create_task(child("b", 0.02, 2)),
          asyncio.create_task(child("c", 0.04, fail="boom c"))]
    for f in asyncio.as_completed(ts):
        try:
            say(f"next -> {await f}")
        except Boom as e:
            say(f"next -> {err_text(e)}")


@scenario
async def as_completed_timeout():
    ts = [asyncio.create_task(child("a", 0.5, 1)), asyncio.create_task(child("b", 0.02, 2))]
    for f in asyncio.as_completed(ts, timeout=0.06):
        try:
            say(f"next -> {await f}")
        except TimeoutError:
            say("next -> timeout")
    ts[0].cancel()
    await asyncio.sleep(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(SCENARIOS))
    else:
        asyncio.run(SCENARIOS[sys.argv[1]]())
