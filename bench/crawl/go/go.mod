module acio/bench/crawl

go 1.19
