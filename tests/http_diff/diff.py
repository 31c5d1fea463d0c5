#!/usr/bin/python3
"""Differential test of acio's HTTP/1.1 parser against Python's h11 and Debian's
libhttp-parser (nodejs/http-parser 2.9).

Generates messages from a fixed seed (valid ones, the smuggling shapes, and random
mutations of both), runs each through acio and http-parser (the C helper http_verdicts)
and through h11 (here), and checks the rule of issue 8: acio may be stricter, but
wherever acio accepts a message, every reference that has an opinion must accept it too
and agree on where it ends, its body, its keep-alive and its method/target/status.
acio saying "incomplete" where a reference completes the message is a framing
disagreement too. The few places where acio is deliberately more lenient are listed in
LENIENT below and in docs/deviations.md; each is counted and printed.

    /usr/bin/python3 tests/http_diff/diff.py --helper build/tests/http_diff/http_verdicts \
        [--count 20000] [--seed 1] [--verbose]
"""
import argparse
import collections
import random
import subprocess
import sys

import h11

# ---- generation -------------------------------------------------------------------

METHODS = ["GET", "GET", "GET", "POST", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"]
TARGETS = ["/", "/index.html", "/a/b?c=d&e=f", "/%7Euser/", "/search?q=a+b#frag",
           "http://example.com/x", "/x;p=1"]
BENIGN = [("User-Agent", "gen/1.0"), ("Accept", "*/*"), ("Accept-Encoding", "gzip, br"),
          ("X-Empty", ""), ("X-Spaces", "  a  b  "), ("Cookie", "a=1; b=2"),
          ("X-Latin", "caf\xe9"), ("X-Tab", "\tv\t"), ("Cache-Control", "no-cache"),
          ("X-Quote", '"quoted, with comma"')]
INTERESTING = b"\r\n \t:\x00\x7f\x80;a0,\x0b\"-"


def chunked_body(rng, data):
    out = []
    i = 0
    while i < len(data):
        n = rng.randint(1, max(1, len(data) - i))
        ext = rng.choice(["", "", "", ";a", ";a=b", ';a="q s"', ";a=b;c", " ;x"])
        size = format(n, "x")
        if rng.random() < 0.2:
            size = size.upper()
        if rng.random() < 0.1:
            size = "0" + size
        out.append(f"{size}{ext}\r\n".encode() + data[i:i + n] + b"\r\n")
        i += n
    trailer = b""
    if rng.random() < 0.2:
        trailer = rng.choice([b"X-Trailer: 1\r\n", b"X-A: b\r\nX-C: d\r\n"])
    out.append(b"0" + rng.choice([b"", b";last"]) + b"\r\n" + trailer + b"\r\n")
    return b"".join(out)


def framing(rng, body):
    """Headers and encoded body for one of the framings, valid or a smuggling shape."""
    kind = rng.choice(["cl", "cl", "chunked", "chunked", "none", "both", "te-odd",
                       "cl-list", "cl-dup", "cl-bad", "cl-short"])
    if kind == "cl":
        return [("Content-Length", str(len(body)))], body
    if kind == "chunked":
        te = rng.choice(["chunked", "chunked", "Chunked", " chunked "])
        return [("Transfer-Encoding", te)], chunked_body(rng, body)
    if kind == "none":
        return [], b""
    if kind == "both":
        hs = [("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")]
        rng.shuffle(hs)
        return hs, chunked_body(rng, body)
    if kind == "te-odd":
        te = rng.choice(["chunked, chunked", "gzip, chunked", "chunked, gzip", "identity",
                         "xchunked", "chunked;q=1", "chunked,", ", chunked", '"chunked"'])
        return [("Transfer-Encoding", te)], chunked_body(rng, body)
    if kind == "cl-list":
        n = len(body)
        v = rng.choice([f"{n}, {n}", f"{n},{n}", f"{n}, {n + 1}", f"{n} ,{n}"])
        return [("Content-Length", v)], body
    if kind == "cl-dup":
        n = len(body)
        return [("Content-Length", str(n)), ("Content-Length", str(rng.choice([n, n + 1])))], body
    if kind == "cl-bad":
        v = rng.choice(["+%d", "-%d", "0x%x", "%d.0", "%d ;", "1 %d", "0%d", "%d\x0b"]) % len(body)
        return [("Content-Length", v)], body
    # cl-short: the body is longer than announced (the rest is a "next message")
    return [("Content-Length", str(max(0, len(body) - 2)))], body


def header_block(rng, fields):
    lines = []
    for name, value in fields:
        sep = rng.choice([": ", ":", ":  ", ":\t"])
        trail = rng.choice(["", "", "", " ", "\t"])
        lines.append(f"{name}{sep}{value}{trail}".encode("latin-1") + b"\r\n")
    return b"".join(lines)


def gen_request(rng):
    method = rng.choice(METHODS)
    target = "*" if method == "OPTIONS" and rng.random() < 0.5 else rng.choice(TARGETS)
    version = rng.choice(["1.1"] * 8 + ["1.0"])
    fields = [("Host", "example.com")]
    r = rng.random()
    if r < 0.03:
        fields = []
    elif r < 0.05:
        fields.append(("host", "example.org"))
    fields += rng.sample(BENIGN, rng.randint(0, 4))
    if rng.random() < 0.3:
        fields.append(("Connection", rng.choice(["close", "keep-alive", "Keep-Alive, Upgrade",
                                                 "close, keep-alive", "TE"])))
    if rng.random() < 0.1:
        fields.append(("Expect", "100-continue"))
    body = b""
    if method in ("POST", "PUT", "PATCH") or rng.random() < 0.1:
        body = bytes(rng.choice(b"abcxyz019\r\n ") for _ in range(rng.randint(0, 40)))
        fh, body = framing(rng, body)
        fields += fh
    rng.shuffle(fields)
    head = f"{method} {target} HTTP/{version}\r\n".encode() + header_block(rng, fields) + b"\r\n"
    msg = head + body
    if rng.random() < 0.15:
        msg += b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
    return msg


def gen_response(rng):
    method = rng.choice(["GET", "GET", "GET", "HEAD", "POST"])
    status = rng.choice([200, 200, 200, 201, 204, 206, 301, 304, 404, 500, 503])
    reason = {200: "OK", 404: "Not Found"}.get(status, "Whatever")
    version = rng.choice(["1.1"] * 8 + ["1.0"])
    sl = f"HTTP/{version} {status}"
    sl += rng.choice([" " + reason, " " + reason, " ", ""])
    fields = rng.sample(BENIGN, rng.randint(0, 3)) + [("Server", "gen")]
    if rng.random() < 0.3:
        fields.append(("Connection", rng.choice(["close", "keep-alive"])))
    body = bytes(rng.choice(b"abc019\r\n ") for _ in range(rng.randint(0, 40)))
    fh, body = framing(rng, body)
    fields += fh
    rng.shuffle(fields)
    msg = sl.encode() + b"\r\n" + header_block(rng, fields) + b"\r\n" + body
    return method, msg


def mutate(rng, msg):
    msg = bytearray(msg)
    for _ in range(rng.randint(1, 2)):
        if not msg:
            break
        i = rng.randrange(len(msg))
        op = rng.random()
        if op < 0.4:
            msg[i] = rng.choice(INTERESTING)
        elif op < 0.6:
            del msg[i]
        elif op < 0.8:
            msg.insert(i, rng.choice(INTERESTING))
        else:
            j = msg.find(b"\r\n", i)
            if j >= 0:
                del msg[j]  # CRLF -> LF
    return bytes(msg)


def generate(seed, count):
    rng = random.Random(seed)
    for _ in range(count):
        if rng.random() < 0.5:
            method, msg = None, gen_request(rng)
        else:
            method, msg = gen_response(rng)
        if rng.random() < 0.35:
            msg = mutate(rng, msg)
        yield method, msg


# ---- h11 --------------------------------------------------------------------------

def run_h11(method, msg):
    """(verdict, consumed, keep_alive, body, head) like the C helper's lines."""
    if method is None:
        conn = h11.Connection(h11.SERVER)
    else:
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
    body, head = b"", b""
    try:
        conn.receive_data(msg)
        eof_sent = False
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                if eof_sent:
                    return ("incomplete", 0, 0, b"", b"", 0)
                conn.receive_data(b"")
                eof_sent = True
                continue
            if isinstance(ev, h11.ConnectionClosed):
                return ("incomplete", 0, 0, b"", b"", 0)
            if isinstance(ev, h11.Request):
                head = ev.method + b" " + ev.target
            elif isinstance(ev, h11.InformationalResponse):
                return ("skip-1xx", 0, 0, b"", b"", 0)
            elif isinstance(ev, h11.Response):
                head = str(ev.status_code).encode()
            elif isinstance(ev, h11.Data):
                body += bytes(ev.data)
            elif isinstance(ev, h11.EndOfMessage):
                ka = int(conn.their_state is h11.DONE)
                consumed = len(msg) - len(conn.trailing_data[0])
                return ("ok", consumed, ka, body, head, int(eof_sent))
    except h11.RemoteProtocolError as e:
        return ("error:" + str(e)[:60].replace(" ", "_"), 0, 0, b"", b"", 0)


# ---- comparison -------------------------------------------------------------------

def parse_line(line):
    parts = line.split(" ")
    d = {"verdict": parts[1]}
    for p in parts[2:]:
        k, _, v = p.partition("=")
        d[k] = v
    return (d["verdict"], int(d["consumed"]), int(d["ka"]), bytes.fromhex(d["body"]),
            bytes.fromhex(d["head"]), int(d["eof"]))


def first_line(msg):
    return msg.split(b"\r\n", 1)[0]


def head_of(msg):
    return msg.split(b"\r\n\r\n", 1)[0].lower()


def field_lines(msg, name):
    """The raw value parts (after the colon, OWS kept) of the head's lines named name."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    out = []
    for line in head.split(b"\r\n")[1:]:
        n, sep, v = line.partition(b":")
        if sep and n.lower() == name:
            out.append(v)
    return out


def trailing_ows(msg, name):
    return any(v != v.rstrip(b" \t") for v in field_lines(msg, name))


# Where acio deliberately accepts what a reference rejects, or frames a message the RFC's
# way where a reference does not (docs/deviations.md). Each is a predicate on
# (reference, method, message, reference verdict); a disagreement on a message that one
# of them matches is counted and printed, not failed.
LENIENT = {
    "empty lines before the request line (RFC 9112 2.2 SHOULD ignore; h11 rejects)":
        lambda ref, m, msg, v: ref == "h11" and m is None and msg.startswith(b"\r\n"),
    "Connection with both close and keep-alive closes (RFC 9112 9.6; http-parser lets"
    " keep-alive win in HTTP/1.0)":
        lambda ref, m, msg, v: ref == "hp" and any(
            b"close" in x.lower() and b"keep-alive" in x.lower()
            for x in field_lines(msg, b"connection")),
    "a field named like Transfer-Encoding plus more letters is just a field (http-parser 2.9"
    " takes it for Transfer-Encoding)":
        lambda ref, m, msg, v: ref == "hp" and v == "HPE_UNEXPECTED_CONTENT_LENGTH" and
        not field_lines(msg, b"transfer-encoding"),
    "empty list elements in Connection (RFC 9110 5.6.1: a recipient ignores them;"
    " http-parser then misses the tokens)":
        lambda ref, m, msg, v: ref == "hp" and any(
            not e.strip(b" \t") for x in field_lines(msg, b"connection") for e in x.split(b",")),
    "methods http-parser does not know (any token is a method, RFC 9110 9.1)":
        lambda ref, m, msg, v: ref == "hp" and v == "HPE_INVALID_METHOD",
    "request-target syntax is the server's business (http-parser checks URL syntax)":
        lambda ref, m, msg, v: ref == "hp" and v == "HPE_INVALID_URL",
}


def lenient(ref, method, msg, rv, lenient_counts):
    for name, pred in LENIENT.items():
        if pred(ref, method, msg, rv):
            lenient_counts[name] += 1
            return True
    return False


def compare(ref, method, msg, a, r, lenient_counts):
    """Returns None if fine, else a description of the disagreement."""
    av, rv = a[0], r[0]
    why = None
    if av == "ok":
        if rv == "ok":
            diffs = []
            if a[1] != r[1]:
                diffs.append(f"consumed {a[1]} vs {r[1]}")
            if a[3] != r[3]:
                diffs.append(f"body {a[3]!r} vs {r[3]!r}")
            if a[4] != r[4]:
                diffs.append(f"head {a[4]!r} vs {r[4]!r}")
            # Keep-alive: not after a close-delimited body (the connection is gone, h11
            # still says DONE); and h11 never keeps an HTTP/1.0 connection alive (it
            # ignores Connection: keep-alive), acio follows RFC 9112 9.3 there.
            v10 = b"HTTP/1.0" in first_line(msg)
            if a[2] != r[2] and not a[5] and not (ref == "h11" and v10):
                diffs.append(f"keep-alive {a[2]} vs {r[2]}")
            why = "; ".join(diffs) or None
        elif rv != "skip-1xx":
            why = f"acio accepts, {ref} says {rv}"
    elif av == "incomplete" and rv == "ok":
        why = f"acio waits for more, {ref} completes the message"
    if why and lenient(ref, method, msg, rv, lenient_counts):
        return None
    return why


def normalise_for_hp(msg):
    """The message as http-parser 2.9 should see it to judge it by the RFC: OWS after
    Content-Length, Transfer-Encoding and Connection values removed (RFC 9110 5.5: it is
    not part of the value; http-parser keeps it and then rejects the length or ignores the
    coding), and repeated identical Content-Length values collapsed to one (RFC 9110 8.6
    allows a recipient to; http-parser rejects any repetition). Only the head changes."""
    head, sep, rest = msg.partition(b"\r\n\r\n")
    if not sep:
        return msg
    lines = head.split(b"\r\n")
    out, cls = [lines[0]], []
    for line in lines[1:]:
        n, colon, v = line.partition(b":")
        name = n.lower()
        if colon and name in (b"content-length", b"transfer-encoding", b"connection"):
            line = line.rstrip(b" \t")
        if colon and name == b"content-length":
            cls.append((len(out), [x.strip(b" \t") for x in v.split(b",")]))
        out.append(line)
    values = [x for _, vs in cls for x in vs]
    if len(values) > 1 and len(set(values)) == 1 and values[0].isdigit():
        first = cls[0][0]
        drop = {i for i, _ in cls[1:]}
        out[first] = b"Content-Length: " + values[0]
        out = [x for i, x in enumerate(out) if i not in drop]
    return b"\r\n".join(out) + sep + rest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    msgs = list(generate(args.seed, args.count))
    data = bytearray()
    for method, msg in msgs:
        data += (b"Q\n" if method is None else b"R " + method.encode() + b"\n")
        data += str(len(msg)).encode() + b"\n" + msg
        hmsg = normalise_for_hp(msg)
        data += str(len(hmsg)).encode() + b"\n" + hmsg
    out = subprocess.run([args.helper], input=bytes(data), capture_output=True, check=True)
    lines = out.stdout.decode().splitlines()

    failures = []
    pairs = collections.Counter()
    lenient_counts = collections.Counter()
    i = 0
    for method, msg in msgs:
        if lines[i].startswith("acio-split-mismatch"):
            failures.append((msg, method, "acio whole vs split: " + lines[i]))
            i += 1
        a = parse_line(lines[i])
        hp = parse_line(lines[i + 1])
        shift = len(msg) - len(normalise_for_hp(msg))
        if hp[0] == "ok":
            hp = (hp[0], hp[1] + shift) + hp[2:]
        i += 2
        h = run_h11(method, msg)
        pairs[("acio " + a[0].split(":")[0] if a[0] in ("ok", "incomplete") else "acio error",
               "h11 " + h[0].split(":")[0], "hp " + ("ok" if hp[0] == "ok" else
                                                    "incomplete" if hp[0] == "incomplete"
                                                    else "error"))] += 1
        for ref, r in (("h11", h), ("hp", hp)):
            why = compare(ref, method, msg, a, r, lenient_counts)
            if why:
                failures.append((msg, method, why))

    print(f"http parser differential: {len(msgs)} messages (seed {args.seed})")
    for k, n in sorted(pairs.items(), key=lambda kv: -kv[1]):
        print(f"  {n:6d}  {' / '.join(k)}")
    for name, n in lenient_counts.items():
        print(f"  documented leniency, {n} messages: {name}")
    if failures:
        print(f"{len(failures)} disagreements; first ones:")
        for msg, method, why in failures[:25]:
            print(f"  [{method or 'request'}] {msg!r}\n      -> {why}")
        return 1
    print("acio agrees with h11 and http-parser on every message it accepts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
