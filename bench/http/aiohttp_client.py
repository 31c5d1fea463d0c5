"""http_client_20k with aiohttp (asyncio, or uvloop with --uvloop): fetch N pages from
a local server at a fixed concurrency, one ClientSession whose connector allows that
many connections, each body read whole. Prints the same key=value line as
bench/acio/http_client.c.

    python3 aiohttp_client.py URL_PREFIX N CONCURRENCY [--uvloop]
"""
import asyncio
import resource
import sys
import time

import aiohttp


async def main(prefix, total, conc):
    state = {"next": 0, "done": 0, "bytes": 0, "failures": 0}
    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as s:

        async def worker():
            while True:
                i = state["next"]
                if i >= total:
                    return
                state["next"] = i + 1
                url = f"{prefix}{i % 1000}.html"
                try:
                    async with s.get(url) as r:
                        body = await r.read()
                        if r.status == 200:
                            state["bytes"] += len(body)
                        else:
                            state["failures"] += 1
                except Exception as e:  # noqa: BLE001 - counted, the bench goes on
                    if state["failures"] < 5:
                        print(url, repr(e), file=sys.stderr)
                    state["failures"] += 1
                state["done"] += 1

        c0 = time.process_time()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        cpu = (time.process_time() - c0) * 1e3
        wall = (time.perf_counter() - t0) * 1e3
    done = state["done"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"pages={done} failures={state['failures']} bytes={state['bytes']} "
          f"wall_ms={wall:.1f} cpu_ms={cpu:.1f} pages_per_s={done / (wall / 1e3):.1f} "
          f"cpu_us_per_page={cpu * 1e3 / done:.2f} peak_rss_kb={rss}")


if __name__ == "__main__":
    prefix = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    conc = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main(prefix, total, conc))
