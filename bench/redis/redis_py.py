"""redis_get_set with redis-py's asyncio client (Debian's python3-redis; hiredis is used
if installed): 50 tasks doing SET then GET on their own keys, through one connection or a
pool of 10, one command at a time per task or in pipelines of DEPTH. The twin of
bench/acio/redis_get_set.c; prints the same key=value line.

Usage: redis_py.py PORT OPS conn1|pool10 DEPTH"""
import asyncio
import resource
import sys
import time

import redis.asyncio as redis

TASKS = 50


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


async def worker(client, i, ops, depth):
    key = "key:%06d" % i
    done = 0
    while done < ops:
        if depth <= 1:
            await client.set(key, "xxx")
            await client.get(key)
            done += 2
        else:
            async with client.pipeline(transaction=False) as p:
                for _ in range(depth // 2):
                    p.set(key, "xxx")
                    p.get(key)
                await p.execute()
            done += depth


async def main():
    port, ops, mode, depth = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    per = depth if depth > 1 else 2
    per_task = (ops // TASKS + per - 1) // per * per
    size = 10 if mode == "pool10" else 1
    pool = redis.BlockingConnectionPool(host="127.0.0.1", port=port, max_connections=size)
    client = redis.Redis(connection_pool=pool)
    await client.ping()
    c0, t0 = cpu_ms(), time.monotonic()
    await asyncio.gather(*(worker(client, i, per_task, depth) for i in range(TASKS)))
    cpu, wall = cpu_ms() - c0, time.monotonic() - t0
    total = per_task * TASKS
    print("ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f" % (total / wall, cpu * 1e6 / total, wall))
    await client.close()
    await pool.disconnect()


asyncio.run(main())
