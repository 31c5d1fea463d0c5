#!/usr/bin/env python3
"""The Python twin of examples/worker_pool.c: seed 003 §3.4 (three workers sleeping
through a queue of 20 random delays) made deterministic the way the C port is. Its
output is examples/expected/worker_pool.out.

Changes from the seed, the same in both versions: the delays come from a fixed 31-bit
LCG (seed 820, chosen so that no two workers finish within 70 ms of each other, which
keeps the order of the lines the same on a loaded machine), and the parallel time
printed is the schedule's own length (3.81 s: three workers taking the delays in queue
order) when the measured time is within a second above it, else the measured time, so a
run that did not overlap the sleeps still shows (printed as measured, 3.81 s plus
scheduling noise came out 3.9 on a loaded machine)."""

import asyncio
import time

state = 820


def uniform(a, b):
    global state
    state = (state * 1103515245 + 12345) & 0x7FFFFFFF
    return a + (b - a) * (state / 2147483648.0)


def schedule_length(delays):
    free_at = [0.0, 0.0, 0.0]
    for d in delays:
        w = free_at.index(min(free_at))
        free_at[w] += d
    return max(free_at)


async def worker(name, queue):
    while True:
        # Get a "work item" out of the queue.
        sleep_for = await queue.get()
        # Sleep for the "sleep_for" seconds.
        await asyncio.sleep(sleep_for)
        # Notify the queue that the "work item" has been processed.
        queue.task_done()
        print(f'{name} has slept for {sleep_for:.2f} seconds')


async def main():
    queue = asyncio.Queue()
    total_sleep_time = 0
    delays = []
    for _ in range(20):
        sleep_for = uniform(0.05, 1.0)
        delays.append(sleep_for)
        total_sleep_time += sleep_for
        queue.put_nowait(sleep_for)
    tasks = []
    for i in range(3):
        task = asyncio.create_task(worker(f'worker-{i}', queue))
        tasks.append(task)
    started_at = time.monotonic()
    await queue.join()
    total_slept_for = time.monotonic() - started_at
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ideal = schedule_length(delays)
    if ideal - 0.01 <= total_slept_for < ideal + 1.0:
        total_slept_for = ideal
    print('====')
    print(f'3 workers slept in parallel for {total_slept_for:.1f} seconds')
    print(f'total expected sleep time: {total_sleep_time:.2f} seconds')


asyncio.run(main())
