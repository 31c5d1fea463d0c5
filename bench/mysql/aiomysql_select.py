"""mysql_select with aiomysql (Debian's python3-aiomysql, on PyMySQL): 10 tasks sharing a
pool of 10 connections, each query acquiring a connection, running a SELECT with its
argument and releasing it: one row by primary key (pk) or all 1,000 rows (rows1000).
The twin of bench/acio/mysql_select.c; prints the same key=value line. aiomysql has no
server-side prepared statements: it escapes the argument into the SQL text.

Usage: aiomysql_select.py PORT QUERIES pk|rows1000"""
import asyncio
import resource
import sys
import time

import aiomysql

TASKS = 10


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


async def worker(pool, i, queries, all_rows):
    for k in range(queries):
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                if all_rows:
                    await cur.execute("SELECT id, name, value, created FROM t")
                else:
                    await cur.execute("SELECT id, name, value, created FROM t WHERE id = %s",
                                      ((i * 7919 + k) % 1000 + 1,))
                rows = await cur.fetchall()
        if len(rows) != (1000 if all_rows else 1):
            raise RuntimeError("%d rows" % len(rows))


async def main():
    port, queries, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    per_task = (queries + TASKS - 1) // TASKS
    pool = await aiomysql.create_pool(host="127.0.0.1", port=port, user="bench",
                                      password="bench", db="bench", minsize=TASKS,
                                      maxsize=TASKS, autocommit=True)
    c0, t0 = cpu_ms(), time.monotonic()
    await asyncio.gather(*(worker(pool, i, per_task, mode == "rows1000") for i in range(TASKS)))
    cpu, wall = cpu_ms() - c0, time.monotonic() - t0
    total = per_task * TASKS
    print("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f" % (total / wall, cpu * 1e6 / total, wall))
    pool.close()
    await pool.wait_closed()


asyncio.run(main())
