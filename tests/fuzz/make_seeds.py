#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/) from the parser's test
corpus (tests/http_corpus/*.txt): each request and response case becomes a seed for the
request or response target (with a leading control byte), each chunked body one for the
chunked target (with four piece-size bytes). Run it after changing the test corpus:

    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import glob
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "http_corpus")


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            i += 2
            if n == "r":
                out += b"\r"
            elif n == "n":
                out += b"\n"
            elif n == "t":
                out += b"\t"
            elif n == "0":
                out += b"\0"
            elif n == "x":
                out.append(int(s[i:i + 2], 16))
                i += 2
            else:
                out += n.encode("latin-1")
            continue
        out += c.encode("latin-1")
        i += 1
    return bytes(out)


def expand(line):
    def rep(m):
        return m.group(2) * int(m.group(1))
    return re.sub(r"\\\{repeat (\d+) ([^}]*)\}", rep, line)


def cases():
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.txt"))):
        case = None
        for line in open(path, encoding="latin-1").read().split("\n"):
            if line.startswith("=== "):
                if case:
                    yield case
                case = {"kind": "request", "msg": b"", "in_msg": False}
                continue
            if case is None:
                continue
            if not case["in_msg"]:
                if line == "---":
                    case["in_msg"] = True
                elif line.startswith("kind: "):
                    case["kind"] = line[6:]
                continue
            case["msg"] += unescape(expand(line))
        if case:
            yield case


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def main():
    for case in cases():
        msg = case["msg"]
        if len(msg) > 4096:
            continue
        if case["kind"] == "response":
            write("response", b"\x00" + msg)
            write("response", b"\x01" + msg)  # as the answer to HEAD
        else:
            write("request", b"\x40" + msg)
            write("request", b"\xc0" + msg)  # with the small limits
        head, sep, body = msg.partition(b"\r\n\r\n")
        if sep and b"chunked" in head.lower() and body:
            write("chunked", b"\x00\x03\x07\x01" + body)


if __name__ == "__main__":
    main()
