"""crawl_20k, aiohttp's side, in areq.py's style (seed 002): fetch_html with one
ClientSession (raise_for_status, resp.text()), links found with areq.py's HREF_RE and
urllib.parse.urljoin into a set per page, one `source_url<TAB>parsed_url` row per link,
failures logged and skipped. areq.py gathers a fixed list of URLs; a recursive crawl
needs a frontier, so CONC worker tasks share an asyncio.Queue and a seen set (links
stay on the seed's host). Rows go to a buffered file (areq.py's aiofiles, a thread hop
per write, would only be slower; Debian's aiofiles is not installed either).

    aiohttp_crawl.py SEED_URL OUT_TSV CONC [--uvloop]

Prints pages=, rows=, failures= on stdout."""
import asyncio
import re
import sys
import urllib.parse

import aiohttp

HREF_RE = re.compile(r'href="(.*?)"')


async def fetch_html(url, session):
    resp = await session.request(method="GET", url=url)
    resp.raise_for_status()
    return await resp.text()


async def crawl(seed, out, conc):
    host = urllib.parse.urlsplit(seed).netloc
    queue = asyncio.Queue()
    seen = {seed}
    queue.put_nowait(seed)
    stats = {"pages": 0, "rows": 0, "failures": 0}

    async def worker(session):
        while True:
            url = await queue.get()
            try:
                try:
                    html = await fetch_html(url, session)
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    stats["failures"] += 1
                    print("aiohttp exception for %s: %r" % (url, e), file=sys.stderr)
                    continue
                stats["pages"] += 1
                found = set()
                for link in HREF_RE.findall(html):
                    found.add(urllib.parse.urljoin(url, link).partition("#")[0])
                for p in found:
                    out.write(f"{url}\t{p}\n")
                    if p not in seen and urllib.parse.urlsplit(p).netloc == host:
                        seen.add(p)
                        queue.put_nowait(p)
                stats["rows"] += len(found)
            finally:
                queue.task_done()

    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector) as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(conc)]
        await queue.join()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return stats


def main():
    seed, path, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    with open(path, "w") as out:
        out.write("source_url\tparsed_url\n")
        stats = asyncio.run(crawl(seed, out, conc))
    print("pages=%d rows=%d failures=%d" % (stats["pages"], stats["rows"], stats["failures"]))


main()
