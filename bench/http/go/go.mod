module acio/bench/httpclient

go 1.19
