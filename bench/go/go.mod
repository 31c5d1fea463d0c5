module acio/bench

go 1.19
