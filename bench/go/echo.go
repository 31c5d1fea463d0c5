// The Go anchor of the echo benchmarks: a TCP echo server written the way Go does it, one
// goroutine per connection reading into its own 64 KiB buffer and writing back what it
// read (Go sets TCP_NODELAY by default). run.sh runs it with GOMAXPROCS=1.
//
//	gobench echo_server [PORT]     (PORT 0, the default here too, lets the kernel pick)
//
// It prints "Serving on 127.0.0.1:PORT" once listening and serves until killed.
package main

import (
	"fmt"
	"net"
	"os"
)

func echoConn(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func echoServer(port int) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_server:", err)
		os.Exit(1)
	}
	fmt.Printf("Serving on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go echoConn(c)
	}
}
