// The HTTP hello-world bench server in Go's net/http (run with GOMAXPROCS=1): GET /
// answers "Hello, World!" (text/plain). Prints "Serving on 127.0.0.1:PORT" once listening.
//
//	gobench http_server [PORT]
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func httpServer(port int) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body := []byte("Hello, World!")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	fmt.Printf("Serving on 127.0.0.1:%d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	http.Serve(ln, mux)
}
