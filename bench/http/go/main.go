// http_client_20k, Go's side: net/http's Client fetching N pages from a local server
// with CONCURRENCY goroutines sharing one Transport that keeps that many idle
// connections per host, each body read whole. Run with GOMAXPROCS=1 on one pinned core.
//
//	httpclient URL_PREFIX N CONCURRENCY
//
// Prints the same key=value line as bench/acio/http_client.c.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func cpuMs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec)*1e3 + float64(ru.Utime.Usec+ru.Stime.Usec)/1e3
}

func statusKb(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	return -1
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: httpclient URL_PREFIX [N] [CONCURRENCY]")
		os.Exit(2)
	}
	prefix := os.Args[1]
	total, conc := 20000, 100
	if len(os.Args) > 2 {
		total, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		conc, _ = strconv.Atoi(os.Args[3])
	}
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	client := &http.Client{Transport: tr}
	var next, done, nbytes, failures int64
	var wg sync.WaitGroup
	c0 := cpuMs()
	t0 := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(total) {
					return
				}
				url := fmt.Sprintf("%s%d.html", prefix, i%1000)
				resp, err := client.Get(url)
				if err == nil {
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if rerr == nil && resp.StatusCode == 200 {
						atomic.AddInt64(&nbytes, int64(len(body)))
					} else {
						err = fmt.Errorf("status %d %v", resp.StatusCode, rerr)
					}
				}
				if err != nil {
					if atomic.AddInt64(&failures, 1) <= 5 {
						fmt.Fprintln(os.Stderr, url, err)
					}
				}
				atomic.AddInt64(&done, 1)
			}
		}()
	}
	wg.Wait()
	cpu := cpuMs() - c0
	wall := float64(time.Since(t0).Nanoseconds()) / 1e6
	fmt.Printf("pages=%d failures=%d bytes=%d wall_ms=%.1f cpu_ms=%.1f pages_per_s=%.1f cpu_us_per_page=%.2f peak_rss_kb=%d\n",
		done, failures, nbytes, wall, cpu, float64(done)/(wall/1e3), cpu*1e3/float64(done), statusKb("VmHWM"))
	if failures > 0 {
		os.Exit(1)
	}
}
