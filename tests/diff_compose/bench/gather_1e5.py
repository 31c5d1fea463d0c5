"""asyncio / uvloop twin of gather_1e5.c: python3 gather_1e5.py asyncio|uvloop [yield]"""
import asyncio
import sys
import time

N = 100000
impl = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
yield_once = len(sys.argv) > 2
best = 1e9


async def child(i):
    if yield_once:
        await asyncio.sleep(0)
    return i


async def main():
    global best
    t0 = time.perf_counter()
    res = await asyncio.gather(*(child(i) for i in range(N)))
    t = time.perf_counter() - t0
    assert res == list(range(N))
    best = min(best, t)


if impl == "uvloop":
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
for _ in range(3):
    asyncio.run(main())
print(f"impl={impl} workload=gather_1e5{'_yield' if yield_once else ''} best_ms={best * 1e3:.1f}")
