#!/usr/bin/python3
"""acio-crawl --redis: three processes share one crawl through one redis-server.

One demo site (acio-crawl --serve-demo, logging every request) and one redis-server
(Debian's, on 127.0.0.1, a free port, a temporary directory) serve every run. First an
uninterrupted single-process crawl (no Redis) gives the reference TSV and JSONL. Then:
  1. three processes started together with --redis finish the crawl: the union of their
     TSV rows and JSONL URLs equals the reference's, no URL appears in two processes'
     JSONL, and the server's log shows no URL requested twice (except the retried
     /err500 and /flaky, and robots.txt, which each process fetches once);
  2. the same with one of the three killed with SIGKILL mid-crawl (several times, at
     random moments, each time a fresh crawl name): the union of the outputs still equals
     the reference's; a URL is requested twice only if the killed process had it leased
     (at most -c of them, and at most the crawl's `reclaimed` counter in Redis), and the
     survivors never fetch one URL twice between them.
Usage: redis_kill9.py ACIO_CRAWL [trials]
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
TRIALS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PAGES = 2000
CONC = 8
RETRIED = {"/err500", "/flaky"}

tmp = tempfile.mkdtemp(prefix="acio-crawl-redis-")
server = None
redis = None


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def log_lines(path):
    with open(path) as f:
        return [l.split(" ", 1)[1].rstrip("\n") for l in f if l.endswith("\n")]


def settle(path):
    """Wait until the server's log stops growing (requests of a killed process may still
    be in its handlers)."""
    n = -1
    while n != len(log_lines(path)):
        n = len(log_lines(path))
        time.sleep(0.1)
    return log_lines(path)


def rows(path):
    if not os.path.exists(path):  # a process killed before it opened its output
        return []
    with open(path, "rb") as f:
        data = f.read().split(b"\n")
    if data == [b""]:  # killed before the header was written
        return []
    if data[-1] != b"":
        fail(f"{path}: last line not terminated")
    data = data[:-1]
    if not data or data[0] != b"source_url\tparsed_url":
        fail(f"{path}: no header")
    return data[1:]


def urls(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l)["url"] for l in f]


def crawl_args(url, out, extra):
    return [BIN, "-q", "-c", str(CONC), "--depth", "1000", "--retries", "1", "--backoff",
            "0.001", "-o", out + ".tsv", "--jsonl", out + ".jsonl"] + extra + [url]


def redis_counter(port, key, field):
    r = subprocess.run(["redis-cli", "-p", str(port), "HGET", key, field],
                       capture_output=True, timeout=10)
    v = r.stdout.decode().strip()
    return int(v) if v else 0


try:
    # The demo site.
    port_file = os.path.join(tmp, "port")
    slog = os.path.join(tmp, "server.log")
    server = subprocess.Popen([BIN, "--serve-demo", "--demo-pages", str(PAGES),
                               "--port-file", port_file, "--demo-log", slog],
                              stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(port_file) and open(port_file).read().endswith("\n"):
            break
        time.sleep(0.01)
    origin = "http://127.0.0.1:%d" % int(open(port_file).read())
    url = origin + "/"

    # The redis-server.
    rport = free_port()
    rdir = os.path.join(tmp, "redis")
    os.mkdir(rdir)
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", rdir,
                              "--logfile", os.path.join(rdir, "log")])
    for _ in range(500):
        r = subprocess.run(["redis-cli", "-p", str(rport), "PING"], capture_output=True)
        if r.stdout.strip() == b"PONG":
            break
        time.sleep(0.02)
    else:
        fail("redis-server did not start")
    redis_url = f"redis://127.0.0.1:{rport}"

    # The reference: one process, no Redis.
    ref = os.path.join(tmp, "ref")
    r = subprocess.run(crawl_args(url, ref, []), timeout=180)
    if r.returncode != 0:
        fail(f"reference crawl exited {r.returncode}")
    ref_rows = set(rows(ref + ".tsv"))
    ref_urls = set(urls(ref + ".jsonl"))
    if len(ref_rows) < PAGES:
        fail(f"reference: {len(ref_rows)} rows")

    rng = random.Random(int(os.environ.get("ACIO_CRAWL_SEED", time.time())))
    kills = 0
    reclaimed_total = 0
    for trial in range(TRIALS + 1):
        kill = trial > 0  # trial 0: nobody is killed
        name = f"trial{trial}"
        outs = [os.path.join(tmp, f"{name}-p{i}") for i in range(3)]
        start = len(settle(slog))
        procs = [subprocess.Popen(crawl_args(url, o, ["--redis", redis_url, "--redis-key",
                                                       name, "--redis-lease", "2"]))
                 for o in outs]
        victim = None
        if kill:
            # Mid-crawl: once the victim has completed a few pages, then a random moment.
            victim = rng.randrange(3)
            for _ in range(1000):
                if len(urls(outs[victim] + ".jsonl")) >= 10 or procs[victim].poll() is not None:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
            if procs[victim].poll() is None:
                procs[victim].send_signal(signal.SIGKILL)
                kills += 1
            else:
                victim = None  # it finished first: nothing was killed this time
        for i, p in enumerate(procs):
            rc = p.wait(timeout=180)
            if i != victim and rc != 0:
                fail(f"{name}: process {i} exited {rc}")
        reqs = settle(slog)[start:]

        got_rows = set()
        for o in outs:
            got_rows |= set(rows(o + ".tsv"))
        if got_rows != ref_rows:
            missing, extra = ref_rows - got_rows, got_rows - ref_rows
            fail(f"{name}: TSV union differs: {len(missing)} missing {list(missing)[:3]}, "
                 f"{len(extra)} extra {list(extra)[:3]}")
        survivors = [urls(o + ".jsonl") for i, o in enumerate(outs) if i != victim]
        flat = [u for s in survivors for u in s]
        if len(flat) != len(set(flat)):
            dup = [u for u in set(flat) if flat.count(u) > 1]
            fail(f"{name}: surviving processes both fetched {dup[:5]}")
        got_urls = set(flat) | (set(urls(outs[victim] + ".jsonl")) if victim is not None
                                else set())
        if got_urls != ref_urls:
            fail(f"{name}: JSONL URLs differ: {len(got_urls)} vs {len(ref_urls)}")

        counts = {}
        for t in reqs:
            counts[t] = counts.get(t, 0) + 1
        robots = counts.pop("/robots.txt", 0)
        if robots > 3:
            fail(f"{name}: robots.txt requested {robots} times by 3 processes")
        twice = sorted(t for t, n in counts.items() if n > 1 and t not in RETRIED)
        if any(counts[t] > 2 for t in twice):
            fail(f"{name}: a URL requested more than twice: {[t for t in twice if counts[t] > 2]}")
        key = f"acio-crawl:{{{name}}}:stats"
        reclaimed = redis_counter(rport, key, "reclaimed")
        done = redis_counter(rport, key, "done")
        if not kill or victim is None:
            if twice:
                fail(f"{name}: requested twice with no process killed: {twice[:5]}")
        elif len(twice) > CONC or len(twice) > reclaimed:
            fail(f"{name}: {len(twice)} URLs requested twice, but the killed process held at "
                 f"most {CONC} leases and {reclaimed} were reclaimed: {twice[:5]}")
        reclaimed_total += reclaimed
        print(f"{name}: {'process %d killed, ' % victim if victim is not None else ''}"
              f"{len(got_rows)} rows, {len(reqs)} requests, {len(twice)} URLs fetched twice "
              f"(leases reclaimed: {reclaimed}), {done} URLs done: same as one process")
    if kills == 0 or reclaimed_total == 0:
        fail(f"no process was killed holding a lease ({kills} killed)")
    print("ok")
finally:
    for p in (server,):
        if p:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    if redis:
        redis.terminate()
        try:
            redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            redis.kill()
    shutil.rmtree(tmp, ignore_errors=True)
