#!/usr/bin/python3
"""The Python anchors of acio's benchmarks: the same workloads as bench/acio/*.c and
bench/go/main.go, run on asyncio's own event loop or, with --uvloop, on uvloop's.

    bench.py [--uvloop] switch|spawn|timers|idle_task_memory|gather|queue|lock|to_thread [N]

Each workload prints one line of key=value figures; bench/run.sh turns them into JSON
lines and ratios. Keep every workload identical in form to its C and Go twins."""

import asyncio
import resource
import sys
import time


def cpu_ms():
    """User + system CPU time of the process in ms (getrusage), as in bench_util.h."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e3


def status_kb(field):
    """A VmXXX field of /proc/self/status in kB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def per_op(c0, t0, ops):
    """Print CPU and wall ns per operation since cpu_ms() was c0 and the clock t0."""
    cpu = (cpu_ms() - c0) * 1e6 / ops if ops else 0.0
    wall = (time.perf_counter_ns() - t0) / ops if ops else 0.0
    print(f"cpu_ns_per_op={cpu:.1f} wall_ns_per_op={wall:.1f}")


async def switch(n):
    """n switches between two tasks. Each task, in turn, makes a fresh future for itself,
    finishes the other task's future (waking it) and awaits its own, so every switch is
    one future handed over and one task woken, like Go's unbuffered channel send."""
    loop = asyncio.get_running_loop()
    rounds = n // 2
    futs = [None, None]

    async def player(me, other):
        for _ in range(rounds):
            f = loop.create_future()
            futs[me] = f
            o = futs[other]
            if o is not None:
                futs[other] = None
                o.set_result(None)
            await f
        # The peer's last await is woken by nobody else.
        o = futs[other]
        if o is not None:
            futs[other] = None
            o.set_result(None)

    c0, t0 = cpu_ms(), time.perf_counter_ns()
    pong = asyncio.create_task(player(1, 0))
    ping = asyncio.create_task(player(0, 1))
    await pong
    await ping
    per_op(c0, t0, 2 * rounds)


async def nothing():
    return None


async def spawn(n):
    """Create n tasks that return at once, then await each in creation order."""
    c0, t0 = cpu_ms(), time.perf_counter_ns()
    tasks = [asyncio.create_task(nothing()) for _ in range(n)]
    for t in tasks:
        await t
    per_op(c0, t0, n)


def timers(n, loop):
    """n call_later with pseudo-random delays over one second; run until all fired."""
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == n:
            loop.stop()

    c0 = cpu_ms()
    t0 = time.perf_counter_ns()
    state = 1
    for _ in range(n):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        loop.call_later((state % 1000000) / 1e6, cb)
    if n:
        loop.run_forever()
    print(f"cpu_ms={cpu_ms() - c0:.1f} wall_ms={(time.perf_counter_ns() - t0) / 1e6:.1f}")


async def idle_task_memory(n):
    """n tasks all suspended awaiting one shared future (what Event.wait does); report
    the process's peak RSS once they are all suspended, then release them."""
    loop = asyncio.get_running_loop()
    gate = loop.create_future()

    async def waiter():
        await gate

    tasks = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)  # one iteration: every task runs up to its await
    print(f"vmhwm_kb={status_kb('VmHWM')} vmpte_kb={status_kb('VmPTE')}")
    gate.set_result(None)
    for t in tasks:
        await t


async def child(i):
    return i


async def gather(n):
    """asyncio.gather of n coroutines that return at once (each becomes a task); the
    results come back in input order and are checked."""
    c0, t0 = cpu_ms(), time.perf_counter_ns()
    res = await asyncio.gather(*(child(i) for i in range(n)))
    per_op(c0, t0, n)
    assert res == list(range(n))


async def queue(n):
    """A producer and a consumer pass n items through asyncio.Queue(64), in order."""
    q = asyncio.Queue(64)

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        for i in range(n):
            item = await q.get()
            assert item == i

    c0, t0 = cpu_ms(), time.perf_counter_ns()
    tc = asyncio.create_task(consumer())
    tp = asyncio.create_task(producer())
    await tp
    await tc
    per_op(c0, t0, n)


async def lock(n):
    """One asyncio.Lock handed between two tasks n times in all: each task, n/2 times,
    acquires, yields with sleep(0) while holding it (the other task queues up), releases."""
    lk = asyncio.Lock()
    rounds = n // 2

    async def player():
        for _ in range(rounds):
            await lk.acquire()
            await asyncio.sleep(0)
            lk.release()

    c0, t0 = cpu_ms(), time.perf_counter_ns()
    a = asyncio.create_task(player())
    b = asyncio.create_task(player())
    await a
    await b
    per_op(c0, t0, 2 * rounds)


def inc(i):
    return i + 1


async def to_thread(n):
    """n round trips of a trivial function through asyncio.to_thread, one at a time
    (one untimed call first starts the default executor's worker)."""
    await asyncio.to_thread(inc, 0)
    c0, t0 = cpu_ms(), time.perf_counter_ns()
    for i in range(n):
        r = await asyncio.to_thread(inc, i)
        assert r == i + 1
    per_op(c0, t0, n)


DEFAULTS = {"switch": 1000000, "spawn": 1000000, "timers": 1000000, "idle_task_memory": 1000000,
            "gather": 100000, "queue": 1000000, "lock": 1000000, "to_thread": 100000}


def main():
    args = sys.argv[1:]
    use_uvloop = "--uvloop" in args
    args = [a for a in args if a != "--uvloop"]
    if not args or args[0] not in DEFAULTS:
        sys.exit(__doc__)
    name = args[0]
    n = int(args[1]) if len(args) > 1 else DEFAULTS[name]
    if use_uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if name == "timers":
        loop = asyncio.new_event_loop()
        try:
            timers(n, loop)
        finally:
            loop.close()
    else:
        asyncio.run(globals()[name](n))


if __name__ == "__main__":
    main()
