"""pg_select with asyncpg (Debian's python3-asyncpg): 10 tasks on a pool of 10, each
query inside `async with pool.acquire()`: a prepared SELECT of one row by primary key
("one") or a fetch of 1,000 rows ("rows1000"), every value read from the records. The
twin of bench/acio/pg_select.c; prints the same key=value line.

Usage: asyncpg_select.py DSN QUERIES one|rows1000"""
import asyncio
import random
import resource
import sys
import time

import asyncpg

TASKS = 10
ROWS = 10000
ONE = "SELECT id, name, score FROM bench_t WHERE id = $1"
MANY = "SELECT id, name, score FROM bench_t WHERE id > $1 ORDER BY id LIMIT 1000"


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


async def worker(pool, i, per_task, many):
    rnd = random.Random(i)
    total = 0
    for _ in range(per_task):
        async with pool.acquire() as con:
            if many:
                rows = await con.fetch(MANY, rnd.randrange(100))
            else:
                rows = [await con.fetchrow(ONE, 1 + rnd.randrange(ROWS))]
        for r in rows:
            total += r[0] + len(r[1]) + int(r[2])
        if len(rows) != (1000 if many else 1):
            raise RuntimeError("%d rows" % len(rows))
    return total


async def main():
    dsn, queries, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    per_task = (queries + TASKS - 1) // TASKS
    pool = await asyncpg.create_pool(dsn, min_size=TASKS, max_size=TASKS)
    c0, t0 = cpu_ms(), time.monotonic()
    await asyncio.gather(*(worker(pool, i, per_task, shape == "rows1000") for i in range(TASKS)))
    cpu, wall = cpu_ms() - c0, time.monotonic() - t0
    total = per_task * TASKS
    print("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f" % (total / wall, cpu * 1e6 / total, wall))
    await pool.close()


asyncio.run(main())
