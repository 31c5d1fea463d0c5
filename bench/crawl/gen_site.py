"""crawl_20k's site: N pages of about 4 KiB at /p/<i>.html, each with 8-12 distinct
<a href> links to other pages (absolute paths), a quarter of them with one link repeated
(a duplicate the crawlers must drop within the page, as areq.py's set does). Page i
always links to page i+1, so every page is reachable from /p/0.html. Written with a
fixed seed, so the site is the same every run.

    gen_site.py DIR [N]

writes DIR/www/p/*.html and DIR/manifest, one key=value line: pages (reachable from the
seed), links (every href, duplicates included), rows (distinct links per page, summed:
the TSV rows areq.py writes), max_depth (BFS depth of the farthest page), bytes."""
import os
import random
import sys
from collections import deque

WORDS = ("loop future task queue lock socket timer buffer parser thread event await "
         "gather crawl page link frontier robots seen fetch body header status").split()


def main(out, n):
    rng = random.Random(20000)
    os.makedirs(os.path.join(out, "www", "p"), exist_ok=True)
    outlinks = []
    links = rows = total_bytes = 0
    for i in range(n):
        k = rng.randint(8, 12)
        targets = [(i + 1) % n]
        while len(targets) < k:
            t = rng.randrange(n)
            if t != i and t not in targets:
                targets.append(t)
        hrefs = list(targets)
        if rng.random() < 0.25:
            hrefs.insert(rng.randrange(len(hrefs) + 1), rng.choice(targets))
        outlinks.append(targets)
        links += len(hrefs)
        rows += len(targets)
        parts = ['<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Page %d</title>'
                 '</head>\n<body>\n<h1>Page %d</h1>\n' % (i, i)]
        for j, t in enumerate(hrefs):
            words = " ".join(rng.choice(WORDS) for _ in range(40))
            parts.append('<p>%s <a href="/p/%d.html">page %d</a></p>\n' % (words, t, t))
        body = "".join(parts)
        filler = []
        size = len(body)
        while size < 4000:
            line = "<p>%s</p>\n" % " ".join(rng.choice(WORDS) for _ in range(12))
            filler.append(line)
            size += len(line)
        page = body + "".join(filler) + "</body></html>\n"
        total_bytes += len(page)
        with open(os.path.join(out, "www", "p", "%d.html" % i), "w") as f:
            f.write(page)
    depth = {0: 0}
    q = deque([0])
    while q:
        u = q.popleft()
        for v in outlinks[u]:
            if v not in depth:
                depth[v] = depth[u] + 1
                q.append(v)
    with open(os.path.join(out, "manifest"), "w") as f:
        f.write("pages=%d links=%d rows=%d max_depth=%d bytes=%d\n"
                % (len(depth), links, rows, max(depth.values()), total_bytes))


main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000)
