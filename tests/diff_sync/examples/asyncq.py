#!/usr/bin/env python3
"""The Python twin of examples/asyncq.c: seed 002's asyncq.py made deterministic, the
way the C port is. Its output is examples/expected/asyncq.out; run it to re-check that
the C program still prints exactly what asyncio does.

Changes from the seed, the same in both versions: random numbers come from a fixed
31-bit LCG (seed 666, as the seed's random.seed(666)); a "second" of randsleep is one
loop iteration (asyncio.sleep(0)), so the run is instant and its order of events does
not depend on the machine's speed; time is read from a clock task that counts loop
iterations; np=2, nc=5 as in the seed's sample run."""

import asyncio

state = 666
now = 0


def rand():
    global state
    state = (state * 1103515245 + 12345) & 0x7FFFFFFF
    return state


def randint(lo, hi):
    return lo + rand() % (hi - lo + 1)


async def clock():
    global now
    while True:
        await asyncio.sleep(0)
        now += 1


async def makeitem(size=5):
    return bytes((rand() >> 16) & 0xFF for _ in range(size)).hex()


async def randsleep(caller=None):
    i = randint(0, 10)
    if caller:
        print(f"{caller} sleep for {i} ticks.")
    for _ in range(i):
        await asyncio.sleep(0)


async def produce(name, q):
    n = randint(0, 10)
    for _ in range(n):
        await randsleep(caller=f"Producer {name}")
        i = await makeitem()
        t = now
        await q.put((i, t))
        print(f"Producer {name} add <{i}> to queue.")


async def consume(name, q):
    while True:
        await randsleep(caller=f"Consumer {name}")
        i, t = await q.get()
        print(f"Consumer {name} got element <{i}> in {now - t} ticks.")
        q.task_done()


async def main(np, nc):
    c = asyncio.create_task(clock())
    q = asyncio.Queue()
    producers = [asyncio.create_task(produce(n, q)) for n in range(np)]
    consumers = [asyncio.create_task(consume(n, q)) for n in range(nc)]
    await asyncio.gather(*producers)
    await q.join()
    for t in consumers:
        t.cancel()
    c.cancel()
    print(f"Program completed in {now} ticks.")


if __name__ == "__main__":
    asyncio.run(main(2, 5))
