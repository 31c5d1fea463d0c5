#!/usr/bin/python3
"""acio-crawl --state survives kill -9 at random moments.

One demo site (acio-crawl --serve-demo, logging every request) serves every run. First an
uninterrupted crawl gives the reference TSV and JSONL. Then, several times: a crawl with
--state is started and killed with SIGKILL after a random delay, again and again, each
run resuming the last, until one finishes. Checked:
  - the final TSV, JSONL and WARC hold exactly the reference's rows, records and
    response records (as sets: the order differs), each once, with one TSV header;
  - no run fetched a URL that the journal recorded as complete when the previous run was
    killed (from the server's request log);
  - within one run, no URL is requested twice (except the retried /err500 and /flaky).
Usage: resume_kill9.py ACIO_CRAWL [trials]
"""
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
TRIALS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
PAGES = 2000
RETRIED = {"/err500", "/flaky", "/robots.txt"}

tmp = tempfile.mkdtemp(prefix="acio-crawl-resume-")
server = None


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def log_lines(path):
    with open(path) as f:
        return [l.split(" ", 1)[1].rstrip("\n") for l in f if l.endswith("\n")]


def crawl_args(url, out, extra):
    return [BIN, "-q", "-c", "8", "--depth", "1000", "--retries", "1", "--backoff", "0.001",
            "-o", out + ".tsv", "--jsonl", out + ".jsonl", "--warc", out + ".warc.gz"] + extra + [url]


def rows(path):
    with open(path, "rb") as f:
        data = f.read().split(b"\n")
    if data[-1] != b"":
        fail(f"{path}: last line not terminated")
    data = data[:-1]
    if not data or data[0] != b"source_url\tparsed_url":
        fail(f"{path}: no header")
    return data[1:]


def records(path):
    with open(path) as f:
        recs = [json.loads(l) for l in f]
    return sorted((r["url"], r["status"], r["links"], r["error"] or "") for r in recs)


def warc_responses(path):
    """The WARC-Target-URI of every response record (the file is gzip members)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    uris = []
    pos = 0
    while pos < len(data):
        if not data.startswith(b"WARC/1.1\r\n", pos):
            fail(f"{path}: no record at byte {pos}")
        end = data.index(b"\r\n\r\n", pos)
        head = data[pos:end].decode().split("\r\n")[1:]
        fields = dict(h.split(": ", 1) for h in head)
        length = int(fields["Content-Length"])
        if fields["WARC-Type"] == "response":
            uris.append(fields["WARC-Target-URI"])
        pos = end + 4 + length + 4  # the block, then CRLF CRLF
    return uris


def journal_done(path, origin):
    done = set()
    if not os.path.exists(path):  # killed before it was created
        return done
    with open(path, "rb") as f:
        for line in f.read().split(b"\n")[:-1]:  # a torn last record does not count
            if line.startswith(b"D "):
                url = line.split(b" ", 3)[3].decode()
                done.add(url[len(origin):])
    return done


try:
    port_file = os.path.join(tmp, "port")
    slog = os.path.join(tmp, "server.log")
    server = subprocess.Popen([BIN, "--serve-demo", "--demo-pages", str(PAGES),
                               "--port-file", port_file, "--demo-log", slog],
                              stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(port_file) and open(port_file).read().endswith("\n"):
            break
        time.sleep(0.01)
    port = int(open(port_file).read())
    origin = f"http://127.0.0.1:{port}"
    url = origin + "/"

    ref = os.path.join(tmp, "ref")
    r = subprocess.run(crawl_args(url, ref, []), timeout=120)
    if r.returncode != 0:
        fail(f"reference crawl exited {r.returncode}")
    ref_rows = sorted(rows(ref + ".tsv"))
    ref_recs = records(ref + ".jsonl")
    ref_warc = sorted(warc_responses(ref + ".warc.gz"))
    if len(ref_warc) != len(ref_recs):
        fail(f"reference: {len(ref_warc)} WARC responses for {len(ref_recs)} JSONL records")
    if len(ref_rows) < PAGES or len(set(ref_rows)) != len(ref_rows):
        fail(f"reference: {len(ref_rows)} rows")
    rng = random.Random(int(os.environ.get("ACIO_CRAWL_SEED", time.time())))
    total_kills = 0
    for trial in range(TRIALS):
        state = os.path.join(tmp, f"state{trial}")
        out = os.path.join(tmp, f"out{trial}")
        done_at_kill = set()
        runs = 0
        while True:
            runs += 1
            if runs > 200:
                fail("the crawl never finished")
            start = len(log_lines(slog))
            p = subprocess.Popen(crawl_args(url, out, ["--state", state]))
            time.sleep(rng.uniform(0.0, 0.25))
            killed = p.poll() is None
            if killed:
                p.send_signal(signal.SIGKILL)
            rc = p.wait(timeout=120)
            # Requests the killed run had sent may still reach the server's handlers after
            # the kill: let the log settle so they are counted with this run.
            n = -1
            while n != len(log_lines(slog)):
                n = len(log_lines(slog))
                time.sleep(0.05)
            reqs = log_lines(slog)[start:]
            again = [t for t in reqs if t in done_at_kill]
            if again:
                fail(f"trial {trial} run {runs}: fetched again after completion: {again[:5]}")
            seen = set()
            for t in reqs:
                if t in seen and t not in RETRIED:
                    fail(f"trial {trial} run {runs}: {t} requested twice in one run")
                seen.add(t)
            if not killed:
                if rc != 0:
                    fail(f"trial {trial} run {runs}: exit status {rc}")
                break
            total_kills += 1
            done_at_kill = journal_done(os.path.join(state, "journal"), origin)
        got_rows = rows(out + ".tsv")
        if len(set(got_rows)) != len(got_rows):
            fail(f"trial {trial}: duplicate TSV rows")
        if sorted(got_rows) != ref_rows:
            missing = set(ref_rows) - set(got_rows)
            extra = set(got_rows) - set(ref_rows)
            fail(f"trial {trial}: TSV differs: {len(missing)} missing {list(missing)[:3]}, "
                 f"{len(extra)} extra {list(extra)[:3]}")
        got_recs = records(out + ".jsonl")
        # The flaky page answers 503 only to the very first request the server sees.
        if [r[0] for r in got_recs] != [r[0] for r in ref_recs]:
            fail(f"trial {trial}: JSONL URLs differ ({len(got_recs)} vs {len(ref_recs)})")
        got_warc = sorted(warc_responses(out + ".warc.gz"))
        if got_warc != ref_warc:
            fail(f"trial {trial}: WARC responses differ: {len(got_warc)} vs {len(ref_warc)}")
        print(f"trial {trial}: {runs} runs ({runs - 1} killed), {len(got_rows)} rows: same "
              f"as the uninterrupted crawl")
    if total_kills == 0:
        fail("no run was killed mid-crawl")
    print("ok")
finally:
    if server:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(tmp, ignore_errors=True)
