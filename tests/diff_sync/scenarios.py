"""Differential scenarios for acio's sync, queue and aiter layers: the asyncio side.

    python3 scenarios.py NAME     print the trace of scenario NAME
    python3 scenarios.py --list   print every scenario name

tests/test_sync_diff.c runs each scenario here and its C twin in-process and compares
the two traces line by line, so ordering and fairness (who wakes first, who gets the
item, what a cancelled waiter passes on) must be exactly asyncio's.

acio follows Python 3.13 where 3.13 fixed lost wake-ups (Condition.wait, Semaphore)
and adds 3.13's Queue.shutdown. When this runs on an older Python, the small shims
below give asyncio those 3.13 behaviours, so the scenarios compare against 3.13
semantics whatever python3 is installed. Error names are printed as acio spells them.
"""

import asyncio
import collections
import sys

# ---------------------------------------------------------------- 3.13 shims

if not hasattr(asyncio, "QueueShutDown"):

    class QueueShutDown(Exception):
        pass

    asyncio.QueueShutDown = QueueShutDown

    def _shutdown(self, immediate=False):
        self._is_shutdown = True
        if immediate:
            while not self.empty():
                self._get()
                if self._unfinished_tasks > 0:
                    self._unfinished_tasks -= 1
            if self._unfinished_tasks == 0:
                self._finished.set()
        for waiters in (self._getters, self._putters):
            while waiters:
                w = waiters.popleft()
                if not w.done():
                    w.set_result(None)

    _orig_put_nowait = asyncio.Queue.put_nowait
    _orig_get_nowait = asyncio.Queue.get_nowait

    def _put_nowait(self, item):
        if getattr(self, "_is_shutdown", False):
            raise QueueShutDown
        return _orig_put_nowait(self, item)

    def _get_nowait(self):
        if self.empty() and getattr(self, "_is_shutdown", False):
            raise QueueShutDown
        return _orig_get_nowait(self)

    async def _wait_in(self, waiters, ready):
        fut = self._get_loop().create_future()
        waiters.append(fut)
        try:
            await fut
        except:  # noqa: E722 -- the same bare except as asyncio's queues.py
            fut.cancel()
            try:
                waiters.remove(fut)
            except ValueError:
                pass
            if ready() and not fut.cancelled():
                self._wakeup_next(waiters)
            raise

    async def _put(self, item):
        while self.full():
            if getattr(self, "_is_shutdown", False):
                raise QueueShutDown
            await _wait_in(self, self._putters, lambda: not self.full())
        return self.put_nowait(item)

    async def _get(self):
        while self.empty():
            if getattr(self, "_is_shutdown", False):
                raise QueueShutDown
            await _wait_in(self, self._getters, lambda: not self.empty())
        return self.get_nowait()

    asyncio.Queue.shutdown = _shutdown
    asyncio.Queue.put_nowait = _put_nowait
    asyncio.Queue.get_nowait = _get_nowait
    asyncio.Queue.put = _put
    asyncio.Queue.get = _get

if sys.version_info < (3, 13):

    async def _cond_wait(self):
        # 3.13: a waiter leaving with an error notifies another in its place.
        if not self.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        fut = self._get_loop().create_future()
        self.release()
        try:
            try:
                self._waiters.append(fut)
                try:
                    await fut
                    return True
                finally:
                    self._waiters.remove(fut)
            finally:
                err = None
                while True:
                    try:
                        await self.acquire()
                        break
                    except asyncio.CancelledError as e:
                        err = e
                if err is not None:
                    raise err
        except BaseException:
            n = 0
            for w in self._waiters:
                if n >= 1:
                    break
                if not w.done():
                    n += 1
                    w.set_result(False)
            raise

    asyncio.Condition.wait = _cond_wait

    def _sem_wake_up_next(self):
        if not self._waiters:
            return False
        for fut in self._waiters:
            if not fut.done():
                self._value -= 1
                fut.set_result(True)
                return True
        return False

    async def _sem_acquire(self):
        # 3.13: FIFO even when the counter is positive; a woken-then-cancelled waiter
        # gives its unit back; every exit wakes as many waiters as there are units.
        if not self.locked():
            self._value -= 1
            return True
        if self._waiters is None:
            self._waiters = collections.deque()
        fut = self._get_loop().create_future()
        self._waiters.append(fut)
        try:
            try:
                await fut
            finally:
                self._waiters.remove(fut)
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._value += 1
            raise
        finally:
            while self._value > 0:
                if not self._wake_up_next():
                    break
        return True

    def _sem_release(self):
        self._value += 1
        self._wake_up_next()

    asyncio.Semaphore._wake_up_next = _sem_wake_up_next
    asyncio.Semaphore.acquire = _sem_acquire
    asyncio.Semaphore.release = _sem_release

    def _bsem_release(self):
        if self._value >= self._bound_value:
            raise ValueError("BoundedSemaphore released too many times")
        _sem_release(self)

    asyncio.BoundedSemaphore.release = _bsem_release

# ---------------------------------------------------------------- helpers

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def name_of(exc):
    """An exception as acio names the error code."""
    return {
        asyncio.CancelledError: "cancelled",
        asyncio.BrokenBarrierError: "ACIO_EBROKENBARRIER",
        asyncio.QueueShutDown: "ACIO_EQUEUESHUTDOWN",
        asyncio.QueueFull: "ACIO_EQUEUEFULL",
        asyncio.QueueEmpty: "ACIO_EQUEUEEMPTY",
        RuntimeError: "EPERM",
        ValueError: "EOVERFLOW",
    }.get(type(exc), type(exc).__name__)


async def yield_n(n):
    for _ in range(n):
        await asyncio.sleep(0)


def spawn(coro, name):
    return asyncio.create_task(coro, name=name)


async def gather_in_order(tasks):
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass


# ---------------------------------------------------------------- Lock

async def lock_user(lock, name, rounds=1, hold=1):
    for _ in range(rounds):
        try:
            await lock.acquire()
        except asyncio.CancelledError:
            print(f"{name} acquire cancelled")
            return
        print(f"{name} acquired")
        await yield_n(hold)
        print(f"{name} releases")
        lock.release()
        await asyncio.sleep(0)


@scenario
async def lock_fifo():
    lock = asyncio.Lock()
    ts = [spawn(lock_user(lock, n, 1, 2), n) for n in "abcd"]
    await gather_in_order(ts)
    print(f"locked {int(lock.locked())}")


@scenario
async def lock_interleave():
    lock = asyncio.Lock()
    ts = [spawn(lock_user(lock, n, 3, 1), n) for n in "abc"]
    await gather_in_order(ts)
    print(f"locked {int(lock.locked())}")


@scenario
async def lock_cancel_pending():
    lock = asyncio.Lock()
    await lock.acquire()
    ts = [spawn(lock_user(lock, n), n) for n in "bcd"]
    await asyncio.sleep(0)
    ts[1].cancel()
    await asyncio.sleep(0)
    print("main releases")
    lock.release()
    await gather_in_order(ts)
    print(f"locked {int(lock.locked())}")


@scenario
async def lock_cancel_woken():
    lock = asyncio.Lock()
    await lock.acquire()
    ts = [spawn(lock_user(lock, n), n) for n in "bcd"]
    await asyncio.sleep(0)
    print("main releases")
    lock.release()
    ts[0].cancel()
    ts[1].cancel()
    await gather_in_order(ts)
    print(f"locked {int(lock.locked())}")


async def newcomer(lock):
    print(f"n tries, locked {int(lock.locked())}")
    await lock.acquire()
    print("n acquired")
    lock.release()


@scenario
async def lock_no_barging():
    lock = asyncio.Lock()
    await lock.acquire()
    b = spawn(lock_user(lock, "b"), "b")
    await asyncio.sleep(0)
    lock.release()
    n = spawn(newcomer(lock), "n")
    await gather_in_order([b, n])
    print(f"locked {int(lock.locked())}")


@scenario
async def lock_release_unlocked():
    lock = asyncio.Lock()
    try:
        lock.release()
    except Exception as e:
        print(f"release: {name_of(e)}")
    await lock.acquire()
    b = spawn(lock_user(lock, "b"), "b")
    await asyncio.sleep(0)
    b.cancel()
    lock.release()
    await lock.acquire()
    print("main took the fast path")
    await gather_in_order([b])
    lock.release()
    print(f"locked {int(lock.locked())}")


# ---------------------------------------------------------------- Event

async def event_waiter(ev, name):
    try:
        await ev.wait()
        print(f"{name} woke")
    except asyncio.CancelledError:
        print(f"{name} cancelled")


async def ticker(n):
    for i in range(n):
        print(f"tick {i}")
        await asyncio.sleep(0)


@scenario
async def event_set_order():
    ev = asyncio.Event()
    ts = [spawn(event_waiter(ev, n), n) for n in "abc"]
    t = spawn(ticker(3), "t")
    await asyncio.sleep(0)
    print("set")
    ev.set()
    await gather_in_order(ts + [t])


@scenario
async def event_cancel_set_clear():
    ev = asyncio.Event()
    ts = [spawn(event_waiter(ev, n), n) for n in "abcd"]
    await asyncio.sleep(0)
    ts[2].cancel()
    print("set and clear")
    ev.set()
    ev.clear()
    ts[3].cancel()
    await gather_in_order(ts)
    print(f"is_set {int(ev.is_set())}")


async def event_looper(ev, name):
    for i in range(3):
        await ev.wait()
        print(f"{name} pass {i}")
        await asyncio.sleep(0)


@scenario
async def event_toggle():
    ev = asyncio.Event()
    ts = [spawn(event_looper(ev, n), n) for n in "ab"]
    for i in range(4):
        await asyncio.sleep(0)
        print(f"toggle {i}")
        if ev.is_set():
            ev.clear()
        else:
            ev.set()
    ev.set()
    await gather_in_order(ts)


# ---------------------------------------------------------------- Condition

async def cond_waiter(cond, name):
    await cond.acquire()
    try:
        await cond.wait()
        print(f"{name} woke, locked {int(cond.locked())}")
    except asyncio.CancelledError:
        print(f"{name} cancelled, locked {int(cond.locked())}")
    cond.release()


@scenario
async def cond_notify_sequence():
    cond = asyncio.Condition()
    ts = [spawn(cond_waiter(cond, n), n) for n in "abcd"]
    await asyncio.sleep(0)
    for k in (1, 2, 0):
        async with cond:
            print(f"notify {k if k else 'all'}")
            if k:
                cond.notify(k)
            else:
                cond.notify_all()
        await yield_n(3)
    await gather_in_order(ts)


@scenario
async def cond_errors():
    cond = asyncio.Condition()
    for what in ("notify", "wait"):
        try:
            if what == "notify":
                cond.notify()
            else:
                await cond.wait()
        except Exception as e:
            print(f"{what}: {name_of(e)}")


@scenario
async def cond_cancel_notified():
    cond = asyncio.Condition()
    ts = [spawn(cond_waiter(cond, n), n) for n in "abc"]
    await asyncio.sleep(0)
    async with cond:
        print("notify 1")
        cond.notify(1)
        ts[0].cancel()
    await gather_in_order(ts[:2])
    async with cond:
        cond.notify_all()
    await gather_in_order(ts)


@scenario
async def cond_cancel_reacquiring():
    cond = asyncio.Condition()
    ts = [spawn(cond_waiter(cond, n), n) for n in "ab"]
    await asyncio.sleep(0)
    await cond.acquire()
    cond.notify(2)
    await yield_n(2)
    ts[0].cancel()
    await yield_n(2)
    print("main releases")
    cond.release()
    await gather_in_order(ts)


async def cond_consumer(cond, box, name):
    for _ in range(2):
        async with cond:
            await cond.wait_for(lambda: box)
            print(f"{name} takes {box.pop(0)}")


async def cond_producer(cond, box, name, items):
    for it in items:
        async with cond:
            box.append(it)
            print(f"{name} puts {it}")
            cond.notify()
        await asyncio.sleep(0)


@scenario
async def cond_producer_consumer():
    cond = asyncio.Condition()
    box = []
    cs = [spawn(cond_consumer(cond, box, n), n) for n in ("c1", "c2")]
    ps = [spawn(cond_producer(cond, box, "p1", [1, 2]), "p1"),
          spawn(cond_producer(cond, box, "p2", [3, 4]), "p2")]
    await gather_in_order(cs + ps)
    print(f"left {len(box)}")


# ---------------------------------------------------------------- Semaphore

async def sem_user(sem, name, hold=1):
    try:
        await sem.acquire()
    except asyncio.CancelledError:
        print(f"{name} acquire cancelled")
        return
    print(f"{name} acquired")
    await yield_n(hold)
    print(f"{name} releases")
    sem.release()


@scenario
async def sem_fifo():
    sem = asyncio.Semaphore(2)
    ts = [spawn(sem_user(sem, n, i % 3 + 1), n) for i, n in enumerate("abcdef")]
    await gather_in_order(ts)
    print(f"value {sem._value}")


@scenario
async def sem_cancel():
    sem = asyncio.Semaphore(1)
    await sem.acquire()
    ts = [spawn(sem_user(sem, n), n) for n in "bcde"]
    await asyncio.sleep(0)
    ts[1].cancel()
    print("main releases")
    sem.release()
    ts[0].cancel()
    await gather_in_order(ts)
    print(f"value {sem._value}")


@scenario
async def sem_release_burst():
    sem = asyncio.Semaphore(0)
    ts = [spawn(sem_user(sem, n), n) for n in "abcd"]
    await asyncio.sleep(0)
    print(f"locked {int(sem.locked())}")
    for _ in range(3):
        sem.release()
    print(f"value {sem._value}")
    await yield_n(4)
    sem.release()
    await gather_in_order(ts)
    print(f"value {sem._value} locked {int(sem.locked())}")


@scenario
async def sem_newcomer_waits_fifo():
    sem = asyncio.Semaphore(1)
    await sem.acquire()
    b = spawn(sem_user(sem, "b", 2), "b")
    await asyncio.sleep(0)
    sem.release()
    print(f"after release: value {sem._value} locked {int(sem.locked())}")
    n = spawn(sem_user(sem, "n"), "n")
    await gather_in_order([b, n])
    print(f"value {sem._value}")


@scenario
async def bounded_sem():
    sem = asyncio.BoundedSemaphore(2)
    for i in range(3):
        try:
            sem.release()
        except Exception as e:
            print(f"release {i}: {name_of(e)}")
    await sem.acquire()
    await sem.acquire()
    ts = [spawn(sem_user(sem, n), n) for n in "ab"]
    await asyncio.sleep(0)
    sem.release()
    sem.release()
    print(f"value {sem._value}")
    await gather_in_order(ts)
    print(f"value {sem._value}")
    try:
        sem.release()
    except Exception as e:
        print(f"extra release: {name_of(e)}")


# ---------------------------------------------------------------- Barrier

async def party(b, name, passes=2):
    for p in range(passes):
        try:
            i = await b.wait()
        except (asyncio.CancelledError, asyncio.BrokenBarrierError) as e:
            print(f"{name} pass {p}: {name_of(e)}")
            return
        print(f"{name} pass {p} index {i}")


@scenario
async def barrier_passes():
    b = asyncio.Barrier(3)
    ts = [spawn(party(b, n, 3), n) for n in "abc"]
    await asyncio.sleep(0)
    print(f"n_waiting {b.n_waiting}")
    await gather_in_order(ts)
    print(f"n_waiting {b.n_waiting} broken {int(b.broken)}")


@scenario
async def barrier_reset():
    b = asyncio.Barrier(3)
    ts = [spawn(party(b, n), n) for n in "ab"]
    await asyncio.sleep(0)
    print(f"n_waiting {b.n_waiting}")
    print("reset")
    await b.reset()
    await gather_in_order(ts)
    ts = [spawn(party(b, n, 1), n) for n in "cde"]
    await gather_in_order(ts)
    print(f"broken {int(b.broken)}")


@scenario
async def barrier_abort():
    b = asyncio.Barrier(2)
    a = spawn(party(b, "a"), "a")
    await asyncio.sleep(0)
    print("abort")
    await b.abort()
    await gather_in_order([a])
    try:
        await b.wait()
    except asyncio.BrokenBarrierError as e:
        print(f"main wait: {name_of(e)}")
    print(f"broken {int(b.broken)}")
    await b.reset()
    print(f"broken {int(b.broken)}")
    ts = [spawn(party(b, n, 1), n) for n in "xy"]
    await gather_in_order(ts)


@scenario
async def barrier_cancel():
    b = asyncio.Barrier(3)
    a = spawn(party(b, "a"), "a")
    await asyncio.sleep(0)
    a.cancel()
    await gather_in_order([a])
    print(f"n_waiting {b.n_waiting}")
    ts = [spawn(party(b, n, 1), n) for n in "bcd"]
    await gather_in_order(ts)


# ---------------------------------------------------------------- Queue

async def producer(q, name, items, pause=1):
    for it in items:
        try:
            await q.put(it)
        except (asyncio.CancelledError, asyncio.QueueShutDown) as e:
            print(f"{name} put {it}: {name_of(e)}")
            return
        print(f"{name} put {it} (qsize {q.qsize()})")
        await yield_n(pause)


async def consumer(q, name, count, pause=1):
    for _ in range(count):
        try:
            it = await q.get()
        except (asyncio.CancelledError, asyncio.QueueShutDown) as e:
            print(f"{name} get: {name_of(e)}")
            return
        print(f"{name} got {it}")
        await yield_n(pause)
        q.task_done()


@scenario
async def queue_bounded_pc():
    q = asyncio.Queue(2)
    ps = [spawn(producer(q, "p1", [1, 2, 3], 0), "p1"),
          spawn(producer(q, "p2", [4, 5, 6], 1), "p2")]
    cs = [spawn(consumer(q, "c1", 3, 2), "c1"), spawn(consumer(q, "c2", 3, 1), "c2")]
    await gather_in_order(ps + cs)
    print(f"qsize {q.qsize()} unfinished {q._unfinished_tasks}")


@scenario
async def queue_lifo_priority():
    for kind in ("lifo", "priority"):
        q = asyncio.LifoQueue() if kind == "lifo" else asyncio.PriorityQueue()
        for p in (5, 1, 4, 2, 3):
            q.put_nowait(p)
        out = [q.get_nowait() for _ in range(5)]
        print(kind, " ".join(map(str, out)))
        c = spawn(consumer(q, f"{kind}-c", 3, 0), "c")
        await asyncio.sleep(0)
        for p in (7, 6, 8):
            q.put_nowait(p)
        await gather_in_order([c])


@scenario
async def queue_getters_fifo():
    q = asyncio.Queue()
    cs = [spawn(consumer(q, n, 2, 0), n) for n in "abc"]
    await asyncio.sleep(0)
    for i in range(6):
        q.put_nowait(i)
        if i % 2:
            await asyncio.sleep(0)
    await gather_in_order(cs)


@scenario
async def queue_putters_fifo():
    q = asyncio.Queue(1)
    q.put_nowait(0)
    ps = [spawn(producer(q, n, [i], 0), n) for i, n in enumerate(["a", "b", "c"], 1)]
    await asyncio.sleep(0)
    for _ in range(4):
        print(f"main got {await q.get()}")
        await asyncio.sleep(0)
    await gather_in_order(ps)


@scenario
async def queue_cancel_getters():
    q = asyncio.Queue()
    cs = [spawn(consumer(q, n, 1, 0), n) for n in "abcd"]
    await asyncio.sleep(0)
    cs[3].cancel()
    q.put_nowait(1)
    cs[0].cancel()
    q.put_nowait(2)
    await gather_in_order(cs)
    print(f"qsize {q.qsize()}")


@scenario
async def queue_cancel_putters():
    q = asyncio.Queue(1)
    q.put_nowait(0)
    ps = [spawn(producer(q, n, [i], 0), n) for i, n in enumerate(["a", "b", "c"], 1)]
    await asyncio.sleep(0)
    ps[2].cancel()
    print(f"main got {q.get_nowait()}")
    ps[0].cancel()
    await gather_in_order(ps)
    print(f"qsize {q.qsize()} item {q.get_nowait()}")


@scenario
async def queue_stolen_item():
    q = asyncio.Queue()
    c = spawn(consumer(q, "a", 1, 0), "a")
    await asyncio.sleep(0)
    q.put_nowait(1)
    print(f"main took {q.get_nowait()}")
    await yield_n(2)
    print(f"a done {int(c.done())}")
    q.put_nowait(2)
    await gather_in_order([c])


async def worker(q, name):
    while True:
        try:
            it = await q.get()
        except asyncio.CancelledError:
            print(f"{name} cancelled")
            raise
        await yield_n(it)
        print(f"{name} done {it}")
        q.task_done()


@scenario
async def queue_join_workers():
    q = asyncio.Queue()
    for it in (3, 1, 2, 1, 0, 2):
        q.put_nowait(it)
    ws = [spawn(worker(q, f"w{i}"), f"w{i}") for i in range(3)]
    await q.join()
    print(f"joined, unfinished {q._unfinished_tasks}")
    for w in ws:
        w.cancel()
    await gather_in_order(ws)
    try:
        q.task_done()
    except Exception as e:
        print(f"task_done: {name_of(e)}")


async def joiner(q, name):
    await q.join()
    print(f"{name} joined")


@scenario
async def queue_shutdown():
    q = asyncio.Queue(2)
    q.put_nowait(1)
    q.put_nowait(2)
    p = spawn(producer(q, "p", [3]), "p")
    j = spawn(joiner(q, "j"), "j")
    await asyncio.sleep(0)
    print("shutdown")
    q.shutdown()
    try:
        q.put_nowait(5)
    except asyncio.QueueShutDown as e:
        print(f"put_nowait: {name_of(e)}")
    cs = [spawn(consumer(q, n, 2, 0), n) for n in "ab"]
    await gather_in_order([p] + cs)
    print(f"qsize {q.qsize()} unfinished {q._unfinished_tasks}")
    await gather_in_order([j])


@scenario
async def queue_shutdown_immediate():
    q = asyncio.Queue()
    cs = [spawn(consumer(q, n, 1, 0), n) for n in "ab"]
    await asyncio.sleep(0)
    for i in range(3):
        q.put_nowait(i)
    j = spawn(joiner(q, "j"), "j")
    print("shutdown immediate")
    q.shutdown(immediate=True)
    print(f"qsize {q.qsize()} unfinished {q._unfinished_tasks}")
    try:
        q.get_nowait()
    except asyncio.QueueShutDown as e:
        print(f"get_nowait: {name_of(e)}")
    await gather_in_order(cs + [j])
    print(f"unfinished {q._unfinished_tasks}")


@scenario
async def queue_nowait_errors():
    q = asyncio.Queue(1)
    for what in ("get", "put", "put"):
        try:
            if what == "get":
                q.get_nowait()
            else:
                q.put_nowait(1)
            print(f"{what}_nowait ok")
        except Exception as e:
            print(f"{what}_nowait: {name_of(e)}")
    print(f"full {int(q.full())} empty {int(q.empty())} qsize {q.qsize()}")


# ---------------------------------------------------------------- async iteration

class Reader:
    def __init__(self, limit):
        self.count = 0
        self.limit = limit

    async def readline(self):
        await asyncio.sleep(0)
        self.count += 1
        if self.count == self.limit:
            return None
        return self.count

    def __aiter__(self):
        return self

    async def __anext__(self):
        val = await self.readline()
        if val is None:
            raise StopAsyncIteration
        return val


@scenario
async def aiter_reader():
    async for item in Reader(6):
        print(item)
    t = spawn(ticker(3), "t")
    async for item in Reader(4):
        print(f"item {item}")
    await gather_in_order([t])


async def mygen(u=10):
    i = 0
    try:
        while i < u:
            yield 2 ** i
            i += 1
            await asyncio.sleep(0)
    finally:
        print(f"mygen cleanup at {i}")


@scenario
async def agen_mygen():
    g = [i async for i in mygen()]
    f = [j async for j in mygen() if not (j // 3 % 5)]
    print(g)
    print(f)
    gen = mygen()
    print(await gen.__anext__(), await gen.__anext__())
    await gen.aclose()
    print("closed")



async def ticker(n):
    for i in range(n):
        print(f"tick {i}")
        await asyncio.sleep(0)


async def counting(n, awaits):
    try:
        for i in range(n):
            print(f"gen yields {i}")
            yield i
            if awaits:
                await asyncio.sleep(0)
    finally:
        print("gen cleanup")


@scenario
async def agen_interleaving():
    # A generator that does not await hands its values over without the loop turning:
    # the ticker task gets no turn in between. One that awaits lets it run each time.
    for awaits in (False, True):
        t = asyncio.create_task(ticker(4))
        async for v in counting(3, awaits):
            print(f"got {v}")
        await t


@scenario
async def agen_runs_in_consumer():
    # The body runs inside the task that asks for the next value.
    async def gen():
        while True:
            yield asyncio.current_task().get_name()

    g = gen()

    async def consumer(name):
        print(f"{name} sees {await g.__anext__()}")

    await asyncio.create_task(consumer("c1"), name="c1")
    await asyncio.create_task(consumer("c2"), name="c2")
    await g.aclose()


@scenario
async def agen_shutdown_closes():
    # asyncio.run closes generators left suspended (shutdown_asyncgens): the cleanup
    # runs, and may await, after main returned. (One generator: with several, asyncio
    # closes them in a set's order.)
    async def gen(name):
        try:
            yield 1
            yield 2
        finally:
            print(f"{name} cleanup starts")
            await asyncio.sleep(0)
            print(f"{name} cleanup ends")

    global _kept
    _kept = gen("a")
    print(f"first value {await _kept.__anext__()}")
    print("main returns")

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scenarios.py NAME | --list")
    if sys.argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return
    asyncio.run(SCENARIOS[sys.argv[1]]())


if __name__ == "__main__":
    main()
