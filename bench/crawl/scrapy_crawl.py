"""crawl_20k, Scrapy's side: a spider doing areq.py's job on the whole site: every
<a href> of each page (Scrapy's selectors, lxml underneath), resolved with
response.urljoin, one `source_url<TAB>parsed_url` row per distinct link, and each link
followed (Scrapy's scheduler and RFPDupeFilter keep the frontier and the seen set;
OffsiteMiddleware keeps the crawl on the seed's host). CONC concurrent requests, robots.txt,
retries, cookies and redirects off (the other crawlers do none of them), no depth limit;
with ACIO_BENCH_SCRAPY_SECONDS set, the spider closes itself after that long.

    scrapy_crawl.py SEED_URL OUT_TSV CONC

Prints pages=, rows=, failures= on stdout."""
import os
import sys
import urllib.parse

import scrapy
from scrapy.crawler import CrawlerProcess

seed, path, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = open(path, "w")
out.write("source_url\tparsed_url\n")
stats = {"pages": 0, "rows": 0, "failures": 0}


class Crawl20k(scrapy.Spider):
    name = "crawl_20k"
    allowed_domains = [urllib.parse.urlsplit(seed).hostname]

    def start_requests(self):
        # Start requests skip the dupefilter by default (dont_filter=True), so the seed
        # would be fetched again when a page links back to it.
        yield scrapy.Request(seed, callback=self.parse, errback=self.failed)

    def parse(self, response):
        stats["pages"] += 1
        found = dict.fromkeys(
            response.urljoin(h).partition("#")[0] for h in response.css("a::attr(href)").getall())
        for u in found:
            out.write(f"{response.url}\t{u}\n")
            yield scrapy.Request(u, callback=self.parse, errback=self.failed)
        stats["rows"] += len(found)

    def failed(self, failure):
        stats["failures"] += 1
        print("scrapy failure: %r" % failure, file=sys.stderr)


process = CrawlerProcess(settings={
    "CONCURRENT_REQUESTS": conc,
    "CONCURRENT_REQUESTS_PER_DOMAIN": conc,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": False,
    "RETRY_ENABLED": False,
    "REDIRECT_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "ERROR",
    "DEPTH_LIMIT": 0,
    "DOWNLOAD_TIMEOUT": 30,
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    # bench/run.sh bounds the run: the spider closes itself after this many seconds.
    "CLOSESPIDER_TIMEOUT": int(os.environ.get("ACIO_BENCH_SCRAPY_SECONDS", "0")),
})
process.crawl(Crawl20k)
process.start()
out.close()
print("pages=%d rows=%d failures=%d" % (stats["pages"], stats["rows"], stats["failures"]))
