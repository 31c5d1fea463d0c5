#!/usr/bin/python3
"""acio-crawl's command line: input forms (arguments, files with comments and blank
lines, stdin), malformed URLs reported and skipped, usage errors with exit status 2
(bad option values, no URL, unreadable file, unwritable output, bad regex, damaged
journal), --fail-on-error, the TSV's exact bytes, the JSONL and --json fields, --help
naming every option, and no progress line when stderr is not a terminal.
Runs against the demo site (acio-crawl --serve-demo). Usage: cli.py ACIO_CRAWL
"""
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="acio-crawl-cli-")
server = None
checks = 0


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, stdin=None):
    return subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=60)


def expect(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def path(name):
    return os.path.join(tmp, name)


try:
    port_file = path("port")
    server = subprocess.Popen([BIN, "--serve-demo", "--demo-pages", "200", "--port-file",
                               port_file], stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(port_file) and open(port_file).read().endswith("\n"):
            break
        time.sleep(0.01)
    origin = "http://127.0.0.1:%d" % int(open(port_file).read())

    # --help names every long option the program accepts.
    r = run(["--help"])
    expect(r.returncode == 0, "--help exit status")
    helptext = r.stdout.decode()
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "tools", "acio-crawl",
                            "main.c")).read()
    names = re.findall(r'\{"([a-z-]+)", (?:no|required)_argument', src)
    expect(len(names) > 25, "options found in main.c")
    for n in names:
        expect("--" + n in helptext, "--help does not mention --" + n)

    # Usage errors: exit status 2 and a message.
    for args, what in [([], "no URLs"), (["--depth", "x", origin + "/"], "needs a number"),
                       (["-c", "0", origin + "/"], "needs a number"),
                       (["--bogus"], "unrecognized"),
                       ([path("missing.txt")], "cannot read URL file"),
                       (["-o", "/nonexistent/dir/x.tsv", origin + "/"], "cannot write"),
                       (["--jsonl", "/nonexistent/x.jsonl", origin + "/"], "cannot write"),
                       (["--deny-pattern", "(", origin + "/"], "--deny-pattern"),
                       (["--demo", origin + "/"], "take no URLs")]:
        r = run(args)
        expect(r.returncode == 2, f"{args}: exit status {r.returncode}, not 2")
        expect(what in r.stderr.decode(), f"{args}: stderr lacks '{what}': {r.stderr!r}")

    # A damaged journal is a usage error too.
    os.mkdir(path("badstate"))
    with open(path("badstate/journal"), "w") as f:
        f.write("not a journal\n")
    r = run(["--state", path("badstate"), origin + "/"])
    expect(r.returncode == 2 and b"--state" in r.stderr, f"damaged journal: {r.returncode}")

    # A URL file: comments, blank lines, spaces, malformed URLs reported with file:line.
    urls = path("urls.txt")
    with open(urls, "w") as f:
        f.write(f"# seeds\n\n  {origin}/p/1.html  \nhttp://[bad/\nftp://example.org/x\n"
                f"{origin}/p/2.html#frag\n{origin}/p/1.html\n")
    out = path("out.tsv")
    r = run(["-o", out, "--jsonl", path("out.jsonl"), "--json", urls])
    expect(r.returncode == 0, f"url file: exit {r.returncode}: {r.stderr!r}")
    err = r.stderr.decode()
    expect(f"{urls}:4: skipping malformed URL 'http://[bad/'" in err, "malformed URL line 4")
    expect(f"{urls}:5: skipping malformed URL 'ftp://example.org/x'" in err, "ftp URL line 5")
    expect("\033[K" not in err, "a progress line was drawn on a non-terminal")
    summary = json.loads(r.stdout)
    expect(summary["pages"] == 2, f"two distinct seeds fetched: {summary['pages']}")
    for k in ["pages", "ok", "parsed", "failed", "failed_by_reason", "redirects",
              "robots_disallowed", "links", "bytes", "time", "pages_per_s", "tsv"]:
        expect(k in summary, "--json lacks " + k)
    data = open(out, "rb").read()
    expect(data.startswith(b"source_url\tparsed_url\n"), "TSV header")
    lines = data.split(b"\n")
    expect(lines[-1] == b"", "TSV ends with a newline")
    rows = lines[1:-1]
    expect(len(rows) == summary["links"], "one row per link")
    for row in rows:
        cols = row.split(b"\t")
        expect(len(cols) == 2, f"row {row!r}")
        expect(cols[0] in (f"{origin}/p/1.html".encode(), f"{origin}/p/2.html".encode()),
               f"source {cols[0]!r}")
        expect(cols[1].startswith(b"http") and b"#" not in cols[1], f"link {cols[1]!r}")
    recs = [json.loads(l) for l in open(path("out.jsonl"))]
    expect(len(recs) == 2, "two JSONL records")
    for rec in recs:
        for k in ["url", "final_url", "status", "content_type", "bytes", "links", "depth",
                  "time", "error"]:
            expect(k in rec, "JSONL lacks " + k)
        expect(rec["status"] == 200 and rec["error"] is None and rec["depth"] == 0, str(rec))

    # stdin, and --fail-on-error.
    r = run(["-q", "-o", path("stdin.tsv"), "-"], stdin=f"{origin}/p/3.html\n".encode())
    expect(r.returncode == 0 and r.stderr == b"", f"stdin: {r.returncode} {r.stderr!r}")
    expect(len(open(path("stdin.tsv"), "rb").read().split(b"\n")) > 3, "stdin rows")
    r = run(["-q", f"{origin}/missing/1.html"])
    expect(r.returncode == 0, "a failed URL is not an error by default")
    r = run(["--fail-on-error", f"{origin}/missing/1.html"])
    expect(r.returncode == 1, f"--fail-on-error: {r.returncode}")
    expect(b"/missing/1.html [404]" in r.stderr, f"failure logged: {r.stderr!r}")
    r = run(["-q", "--retries", "0", "--fail-on-error", "http://127.0.0.1:1/"])
    expect(r.returncode == 1, "connection refused counts as failed")
    # On a terminal: the progress line is drawn (and erased) on stderr. --delay makes the
    # crawl last over a second, so the line (redrawn every 0.25 s) must appear.
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "--delay", "0.1", "--max-pages", "12", "--depth", "5", "--retries", "0",
                          "--ignore-robots", "-o", path("tty.tsv"), origin + "/"],
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    p.wait(timeout=60)
    os.close(master)
    expect(p.returncode == 0, f"tty run: {p.returncode}")
    expect(b"\r\x1b[K" in got and b"pages/s" in got and b"queued" in got,
           f"no progress line on a terminal: {got[:300]!r}")
    expect(b"pages fetched: 12" in got, "summary after the progress line")
    print(f"ok ({checks} checks)")
finally:
    if server:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(tmp, ignore_errors=True)
