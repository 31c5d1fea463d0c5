// crawl_20k, Go's side: a recursive crawler on net/http: CONC worker goroutines share
// one Transport (CONC idle connections per host) and take URLs from a coordinator
// goroutine that owns the frontier (a FIFO) and the seen set (a map); links are found
// with a plain string search for href="..." (no HTML parsing), resolved with net/url's
// ResolveReference, fragments dropped, repeats within a page dropped, kept on the seed's
// host, and one `source_url<TAB>parsed_url` row per link goes through a bufio.Writer.
// Run with GOMAXPROCS=1 on one pinned core.
//
//	crawl SEED_URL OUT_TSV CONC
//
// Prints pages=, rows=, failures= on stdout.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

type result struct {
	page  string
	links []string // distinct, resolved, in document order
	err   error
}

func fetch(client *http.Client, page string) result {
	resp, err := client.Get(page)
	if err != nil {
		return result{page: page, err: err}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return result{page: page, err: err}
	}
	if resp.StatusCode != 200 {
		return result{page: page, err: fmt.Errorf("status %d", resp.StatusCode)}
	}
	base, err := url.Parse(page)
	if err != nil {
		return result{page: page, err: err}
	}
	html := string(body)
	var links []string
	found := make(map[string]struct{}, 16)
	for {
		i := strings.Index(html, `href="`)
		if i < 0 {
			break
		}
		html = html[i+6:]
		j := strings.IndexByte(html, '"')
		if j < 0 {
			break
		}
		ref, err := url.Parse(html[:j])
		html = html[j+1:]
		if err != nil {
			continue
		}
		abs := base.ResolveReference(ref)
		abs.Fragment = ""
		s := abs.String()
		if _, dup := found[s]; !dup {
			found[s] = struct{}{}
			links = append(links, s)
		}
	}
	return result{page: page, links: links}
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: crawl SEED_URL OUT_TSV CONC")
		os.Exit(2)
	}
	seed := os.Args[1]
	conc, _ := strconv.Atoi(os.Args[3])
	seedURL, err := url.Parse(seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := os.Create(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewWriterSize(f, 64*1024)
	out.WriteString("source_url\tparsed_url\n")
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc},
		Timeout:   30 * time.Second,
	}
	jobs := make(chan string)
	results := make(chan result, conc)
	for w := 0; w < conc; w++ {
		go func() {
			for page := range jobs {
				results <- fetch(client, page)
			}
		}()
	}
	seen := map[string]struct{}{seed: {}}
	queue := []string{seed}
	inflight, pages, rows, failures := 0, 0, 0, 0
	for len(queue) > 0 || inflight > 0 {
		var send chan string
		var next string
		if len(queue) > 0 && inflight < conc {
			send, next = jobs, queue[0]
		}
		select {
		case send <- next:
			queue = queue[1:]
			inflight++
		case r := <-results:
			inflight--
			if r.err != nil {
				failures++
				fmt.Fprintln(os.Stderr, r.page, r.err)
				continue
			}
			pages++
			for _, l := range r.links {
				out.WriteString(r.page)
				out.WriteByte('\t')
				out.WriteString(l)
				out.WriteByte('\n')
				rows++
				if _, ok := seen[l]; ok {
					continue
				}
				if u, err := url.Parse(l); err == nil && u.Host == seedURL.Host {
					seen[l] = struct{}{}
					queue = append(queue, l)
				}
			}
		}
	}
	close(jobs)
	if err := out.Flush(); err != nil || f.Close() != nil {
		os.Exit(1)
	}
	fmt.Printf("pages=%d rows=%d failures=%d\n", pages, rows, failures)
	if failures != 0 {
		os.Exit(1)
	}
}
