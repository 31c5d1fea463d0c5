"""Independent check of a WARC file written by acio_warc (tests/test_warc.c runs it with
Debian's /usr/bin/python3; warcio is not packaged in Debian, so this is a small reader on
the standard library). It checks that every record is its own gzip member, that gzip as
a whole (zcat) reads the same bytes, the WARC/1.1 header shape, Content-Length, the
CRLFCRLF trailer, SHA-1 base32 block and payload digests, and the Concurrent-To links
between request and response records. Prints one line per record, then "ok N"."""
import base64
import gzip
import hashlib
import re
import sys
import zlib


def members(data):
    """Yield each gzip member's decompressed bytes."""
    while data:
        d = zlib.decompressobj(wbits=31)
        out = d.decompress(data)
        if not d.eof:
            raise SystemExit("truncated gzip member")
        yield out
        data = d.unused_data


def parse(rec, whole=True):
    head, sep, rest = rec.partition(b"\r\n\r\n")
    if not sep:
        raise SystemExit("record without a blank line after its header")
    lines = head.split(b"\r\n")
    if lines[0] != b"WARC/1.1":
        raise SystemExit("bad version line %r" % lines[0])
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise SystemExit("bad field line %r" % line)
        fields.setdefault(name.decode().lower(), []).append(value.strip().decode())
    n = int(fields["content-length"][0])
    block, trailer = rest[:n], rest[n:] if whole else rest[n:n + 4]
    if len(block) != n or trailer != b"\r\n\r\n":
        raise SystemExit("block length or trailer wrong: %d %r" % (len(block), trailer[:8]))
    return fields, block


def sha1_b32(data):
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def main(path, compressed):
    data = open(path, "rb").read()
    recs = list(members(data)) if compressed else None
    if compressed and gzip.decompress(data) != b"".join(recs):
        raise SystemExit("zcat of the whole file differs from the members")
    if not compressed:
        recs, rest = [], data
        while rest:
            fields, block = parse(rest, whole=False)
            end = rest.index(b"\r\n\r\n") + 4 + len(block) + 4
            recs.append(rest[:end])
            rest = rest[end:]
    ids, links = {}, []
    uuid = re.compile(r"^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>$")
    for rec in recs:
        fields, block = parse(rec)
        kind = fields["warc-type"][0]
        rid = fields["warc-record-id"][0]
        if not uuid.match(rid) or rid in ids:
            raise SystemExit("bad or repeated record id %s" % rid)
        ids[rid] = kind
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", fields["warc-date"][0]):
            raise SystemExit("bad date")
        uri = fields.get("warc-target-uri", ["-"])[0]
        if kind == "warcinfo":
            if fields["content-type"][0] != "application/warc-fields":
                raise SystemExit("warcinfo content type")
            soft = [l for l in block.split(b"\r\n") if l.startswith(b"software:")]
            print("warcinfo", fields["warc-filename"][0], soft[0].decode())
            continue
        if fields["content-type"][0] != "application/http;msgtype=" + kind:
            raise SystemExit("content type of %s" % kind)
        if sha1_b32(block) != fields["warc-block-digest"][0]:
            raise SystemExit("block digest of %s %s" % (kind, uri))
        first = block.split(b"\r\n", 1)[0].decode()
        if kind == "response":
            body = block.partition(b"\r\n\r\n")[2]
            if sha1_b32(body) != fields["warc-payload-digest"][0]:
                raise SystemExit("payload digest of %s" % uri)
        for to in fields.get("warc-concurrent-to", []):
            links.append((rid, to))
        ip = fields.get("warc-ip-address", ["-"])[0]
        print(kind, uri, ip, first, len(block))
    for a, b in links:
        if b not in ids or ids[a] == ids[b] or (b, a) not in links:
            raise SystemExit("dangling or one-way Concurrent-To %s -> %s" % (a, b))
    print("ok", len(recs))


main(sys.argv[1], sys.argv[2:] != ["plain"])
