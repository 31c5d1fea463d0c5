// The Go anchor of acio's benchmarks: the same workloads as bench/acio/*.c and
// bench/py/bench.py, written the way Go does them (goroutines, channels, WaitGroup,
// time.AfterFunc). run.sh runs it with GOMAXPROCS=1 on one pinned core.
//
//	gobench switch|spawn|timers|idle_task_memory|gather|queue|lock|to_thread [N]
//	gobench echo_server [PORT]     (echo.go)
//	gobench http_server [PORT]     (http.go)
//
// Each workload prints one line of key=value figures; bench/run.sh turns them into JSON
// lines and ratios. No dependencies beyond the standard library.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuMs is user + system CPU time of the process in ms (getrusage), as in bench_util.h.
func cpuMs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec)*1e3 + float64(ru.Utime.Usec+ru.Stime.Usec)/1e3
}

// statusKb reads a VmXXX field of /proc/self/status in kB.
func statusKb(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

// perOp prints CPU and wall ns per operation since cpuMs() was c0 and the clock t0.
func perOp(c0 float64, t0 time.Time, ops int) {
	cpu, wall := 0.0, 0.0
	if ops > 0 {
		cpu = (cpuMs() - c0) * 1e6 / float64(ops)
		wall = float64(time.Since(t0).Nanoseconds()) / float64(ops)
	}
	fmt.Printf("cpu_ns_per_op=%.1f wall_ns_per_op=%.1f\n", cpu, wall)
}

// switchBench: n switches between two goroutines over two unbuffered channels
// (n/2 round trips; each send hands control to the blocked receiver).
func switchBench(n int) {
	rounds := n / 2
	a := make(chan struct{})
	b := make(chan struct{})
	done := make(chan struct{})
	c0, t0 := cpuMs(), time.Now()
	go func() {
		for i := 0; i < rounds; i++ {
			<-a
			b <- struct{}{}
		}
		close(done)
	}()
	for i := 0; i < rounds; i++ {
		a <- struct{}{}
		<-b
	}
	<-done
	perOp(c0, t0, 2*rounds)
}

// spawnBench: start n goroutines that return at once, then wait for all of them.
func spawnBench(n int) {
	var wg sync.WaitGroup
	c0, t0 := cpuMs(), time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	perOp(c0, t0, n)
}

// timersBench: n time.AfterFunc with the same pseudo-random delays (whole
// microseconds in [0, 1 s)) as the C and Python programs; wait until all fired.
func timersBench(n int) {
	var mu sync.Mutex
	fired := 0
	done := make(chan struct{})
	cb := func() {
		mu.Lock()
		fired++
		if fired == n {
			close(done)
		}
		mu.Unlock()
	}
	c0 := cpuMs()
	t0 := time.Now()
	var state uint32 = 1
	for i := 0; i < n; i++ {
		state = (state*1103515245 + 12345) & 0x7fffffff
		time.AfterFunc(time.Duration(state%1000000)*time.Microsecond, cb)
	}
	if n > 0 {
		<-done
	}
	fmt.Printf("cpu_ms=%.1f wall_ms=%.1f\n", cpuMs()-c0, float64(time.Since(t0).Nanoseconds())/1e6)
}

// idleBench: n goroutines all blocked receiving from one channel (the shared future of
// the other implementations); report peak RSS once all are blocked, then release them.
func idleBench(n int) {
	gate := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	runtime.Gosched() // let the last one reach its receive
	fmt.Printf("vmhwm_kb=%d vmpte_kb=%d\n", statusKb("VmHWM"), statusKb("VmPTE"))
	close(gate)
	finished.Wait()
}

// gatherBench: start n goroutines that each store their index into a results slice,
// wait for all of them with a WaitGroup, then check the slice (asyncio.gather's shape).
func gatherBench(n int) {
	var wg sync.WaitGroup
	c0, t0 := cpuMs(), time.Now()
	res := make([]int, n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			res[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	perOp(c0, t0, n)
	for i := 0; i < n; i++ {
		if res[i] != i {
			panic("bad gather result")
		}
	}
}

// queueBench: a producer and a consumer goroutine pass n items through a channel
// buffered to 64 (the bounded queue of the other implementations), in order.
func queueBench(n int) {
	q := make(chan int, 64)
	done := make(chan struct{})
	c0, t0 := cpuMs(), time.Now()
	go func() {
		for i := 0; i < n; i++ {
			if <-q != i {
				panic("bad queue order")
			}
		}
		close(done)
	}()
	for i := 0; i < n; i++ {
		q <- i
	}
	<-done
	perOp(c0, t0, n)
}

// lockBench: one sync.Mutex shared by two goroutines, n acquisitions in all: each
// goroutine, n/2 times, locks, yields with runtime.Gosched() while holding it, unlocks.
func lockBench(n int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	rounds := n / 2
	player := func() {
		for i := 0; i < rounds; i++ {
			mu.Lock()
			runtime.Gosched()
			mu.Unlock()
		}
		wg.Done()
	}
	c0, t0 := cpuMs(), time.Now()
	wg.Add(2)
	go player()
	go player()
	wg.Wait()
	perOp(c0, t0, 2*rounds)
}

// toThreadBench: n round trips, one at a time, of a trivial function run by a worker
// goroutine locked to its own OS thread (runtime.LockOSThread), over unbuffered
// channels: Go has no thread pool, this is the nearest thing. Needs GOMAXPROCS >= 2 to
// mean anything (run.sh runs it with GOMAXPROCS=2). One untimed call first.
func toThreadBench(n int) {
	req := make(chan int)
	resp := make(chan int)
	go func() {
		runtime.LockOSThread()
		for i := range req {
			resp <- i + 1
		}
	}()
	req <- 0
	<-resp
	c0, t0 := cpuMs(), time.Now()
	for i := 0; i < n; i++ {
		req <- i
		if <-resp != i+1 {
			panic("bad to_thread result")
		}
	}
	perOp(c0, t0, n)
	close(req)
}

func main() {
	benches := map[string]func(int){
		"switch": switchBench, "spawn": spawnBench, "timers": timersBench,
		"idle_task_memory": idleBench, "gather": gatherBench, "queue": queueBench,
		"lock": lockBench, "to_thread": toThreadBench, "echo_server": echoServer,
		"http_server": httpServer,
	}
	if len(os.Args) < 2 || benches[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: gobench switch|spawn|timers|idle_task_memory|gather|queue|lock|to_thread [N] | echo_server [PORT] | http_server [PORT]")
		os.Exit(2)
	}
	n := 1000000
	if os.Args[1] == "echo_server" || os.Args[1] == "http_server" {
		n = 0 // the port: the kernel picks one
	}
	if len(os.Args) > 2 {
		v, err := strconv.Atoi(os.Args[2])
		if err != nil || v < 0 {
			fmt.Fprintln(os.Stderr, "bad count", os.Args[2])
			os.Exit(2)
		}
		n = v
	}
	benches[os.Args[1]](n)
}
