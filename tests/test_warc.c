/* The WARC writer (acio/warc.h): records written are parsed back here (one gzip member
 * per record, the WARC/1.1 header, lengths, digests recomputed, Concurrent-To links) and
 * by an independent reader on Python's standard library (tests/warc/check_warc.py);
 * bad arguments; write failures (a full disk, a file-size limit that cuts a record in
 * the middle) leave only whole records; failing allocations, OpenSSL allocations and
 * writes never crash, leak or leave a partial record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "acio.h"
#include "internal.h"
#include "support/fault.h"

/* ---- a small reader ---- */

typedef struct {
    char type[16];
    char id[64];
    char date[32];
    char target[256];
    char ip[64];
    char concurrent[64];
    char block_digest[64];
    char payload_digest[64];
    char content_type[64];
    char filename[64];
    size_t length;
    char *block; /* malloc'd, length bytes */
} rec_t;

typedef struct {
    rec_t recs[64];
    size_t n;
} recs_t;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Inflate one gzip member from data; returns the bytes it used, its text in *out. */
static size_t inflate_member(const char *data, size_t len, char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    int zr;
    do {
        if (cap - n < 1024)
            buf = realloc(buf, cap *= 2);
        z.next_out = (Bytef *)buf + n;
        z.avail_out = (uInt)(cap - n);
        zr = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        cr_assert(zr == Z_OK || zr == Z_STREAM_END, "inflate: %d", zr);
    } while (zr != Z_STREAM_END);
    size_t used = len - z.avail_in;
    inflateEnd(&z);
    *out = buf;
    *outlen = n;
    return used;
}

static void copy_field(char *dst, size_t cap, const char *v, size_t vlen)
{
    cr_assert_lt(vlen, cap, "field too long");
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

/* Parse one record at p; returns its total length (header, block, trailer). */
static size_t parse_record(const char *p, size_t len, rec_t *r)
{
    memset(r, 0, sizeof *r);
    const char *end = memmem(p, len, "\r\n\r\n", 4);
    cr_assert_not_null(end, "no end of header");
    cr_assert_eq(memcmp(p, "WARC/1.1\r\n", 10), 0);
    const char *line = p + 10;
    bool have_length = false;
    while (line < end + 2) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        cr_assert_not_null(colon, "field without a colon");
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        size_t nl = (size_t)(colon - line), vl = (size_t)(eol - v);
#define FIELD(name, dst)                                                                           \
    else if (nl == strlen(name) && strncasecmp(line, name, nl) == 0)                               \
        copy_field(dst, sizeof dst, v, vl);
        if (0) {
        }
        FIELD("WARC-Type", r->type)
        FIELD("WARC-Record-ID", r->id)
        FIELD("WARC-Date", r->date)
        FIELD("WARC-Target-URI", r->target)
        FIELD("WARC-IP-Address", r->ip)
        FIELD("WARC-Concurrent-To", r->concurrent)
        FIELD("WARC-Block-Digest", r->block_digest)
        FIELD("WARC-Payload-Digest", r->payload_digest)
        FIELD("Content-Type", r->content_type)
        FIELD("WARC-Filename", r->filename)
        else if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0)
        {
            r->length = strtoul(v, NULL, 10);
            have_length = true;
        }
#undef FIELD
        line = eol + 2;
    }
    cr_assert(have_length);
    size_t hlen = (size_t)(end + 4 - p);
    cr_assert_geq(len, hlen + r->length + 4, "record shorter than its Content-Length");
    r->block = malloc(r->length + 1);
    memcpy(r->block, end + 4, r->length);
    cr_assert_eq(memcmp(end + 4 + r->length, "\r\n\r\n", 4), 0, "no CRLFCRLF trailer");
    return hlen + r->length + 4;
}

/* Every record of the file; with gzip, each must be exactly one member. */
static void read_warc(const char *path, bool gzip, recs_t *out)
{
    size_t len;
    char *data = read_file(path, &len);
    out->n = 0;
    size_t off = 0;
    while (off < len) {
        cr_assert_lt(out->n, 64);
        if (gzip) {
            char *text;
            size_t tlen;
            off += inflate_member(data + off, len - off, &text, &tlen);
            size_t used = parse_record(text, tlen, &out->recs[out->n++]);
            cr_assert_eq(used, tlen, "a gzip member holds more than one record");
            free(text);
        } else {
            off += parse_record(data + off, len - off, &out->recs[out->n++]);
        }
    }
    free(data);
}

static void free_recs(recs_t *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->recs[i].block);
    rs->n = 0;
}

static void sha1_b32(const void *p, size_t n, char out[64])
{
    unsigned char md[20];
    unsigned mdlen;
    cr_assert(EVP_Digest(p, n, md, &mdlen, EVP_sha1(), NULL));
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    /* Bit by bit, unlike the library's five-byte groups. */
    strcpy(out, "sha1:");
    char *o = out + 5;
    for (size_t bit = 0; bit < 160; bit += 5) {
        unsigned v = 0;
        for (size_t k = 0; k < 5; k++)
            v = v << 1 | ((md[(bit + k) / 8] >> (7 - (bit + k) % 8)) & 1);
        *o++ = a[v];
    }
    *o = '\0';
}

/* ---- fixtures ---- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/acio-warc-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static const char req1[] = "GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: acio\r\n\r\n";
static const char resp1[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 26\r\n\r\n";
static const char body1[] = "<a href=\"/b\">b</a>\r\n\r\nend\n";
static const char resp2[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
static const char resp3[] = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n";

/* Three exchanges: with a request, with an empty body and no request, with a binary
 * body (all 256 byte values, NULs included). */
static void write_sample(const char *path, const acio_warc_opts_t *opts, unsigned char *bin)
{
    for (int i = 0; i < 1024; i++)
        bin[i] = (unsigned char)(i * 7);
    acio_warc_t *w;
    cr_assert_eq(acio_warc_open(path, opts, &w), 0);
    acio_warc_exchange_t ex = {
        .target_uri = "http://example.com/a",
        .ip_address = "127.0.0.1",
        .request_head = req1,
        .request_head_len = strlen(req1),
        .response_head = resp1,
        .response_head_len = strlen(resp1),
        .body = body1,
        .body_len = strlen(body1),
        .time = 1700000000.5,
    };
    cr_assert_eq(acio_warc_write_exchange(w, &ex), 0);
    ex = (acio_warc_exchange_t){.target_uri = "http://example.com/missing",
                                .response_head = resp2,
                                .response_head_len = strlen(resp2)};
    cr_assert_eq(acio_warc_write_exchange(w, &ex), 0);
    ex = (acio_warc_exchange_t){.target_uri = "http://example.com/img.png",
                                .ip_address = "::1",
                                .request_head = "GET /img.png HTTP/1.1\r\n\r\n",
                                .request_head_len = 25,
                                .response_head = resp3,
                                .response_head_len = strlen(resp3),
                                .body = bin,
                                .body_len = 1024};
    cr_assert_eq(acio_warc_write_exchange(w, &ex), 0);
    cr_assert_eq(acio_warc_records(w), 6);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(acio_warc_bytes(w), (uint64_t)st.st_size);
    cr_assert_eq(acio_warc_close(w), 0);
}

static void check_sample(const char *path, bool gzip, const unsigned char *bin)
{
    recs_t rs;
    read_warc(path, gzip, &rs);
    cr_assert_eq(rs.n, 6);
    rec_t *info = &rs.recs[0], *rq = &rs.recs[1], *rp = &rs.recs[2], *miss = &rs.recs[3],
          *rq3 = &rs.recs[4], *rp3 = &rs.recs[5];
    cr_assert_str_eq(info->type, "warcinfo");
    cr_assert_str_eq(info->content_type, "application/warc-fields");
    cr_assert_not_null(strstr(info->block, "format: WARC File Format 1.1\r\n"));
    cr_assert_str_eq(rq->type, "request");
    cr_assert_str_eq(rp->type, "response");
    cr_assert_str_eq(rq->content_type, "application/http;msgtype=request");
    cr_assert_str_eq(rp->content_type, "application/http;msgtype=response");
    cr_assert_str_eq(rq->target, "http://example.com/a");
    cr_assert_str_eq(rp->target, "http://example.com/a");
    cr_assert_str_eq(rp->ip, "127.0.0.1");
    cr_assert_str_eq(rp->date, "2023-11-14T22:13:20Z");
    cr_assert_str_eq(rq->concurrent, rp->id);
    cr_assert_str_eq(rp->concurrent, rq->id);
    cr_assert_str_neq(rq->id, rp->id);
    cr_assert_eq(strlen(rp->id), 47);
    cr_assert_eq(strncmp(rp->id, "<urn:uuid:", 10), 0);
    cr_assert_eq(rp->id[24], '4', "version 4 UUID: %s", rp->id);
    /* The blocks are the exchange's bytes, exactly. */
    cr_assert_eq(rq->length, strlen(req1));
    cr_assert_eq(memcmp(rq->block, req1, rq->length), 0);
    cr_assert_eq(rp->length, strlen(resp1) + strlen(body1));
    cr_assert_eq(memcmp(rp->block, resp1, strlen(resp1)), 0);
    cr_assert_eq(memcmp(rp->block + strlen(resp1), body1, strlen(body1)), 0);
    char d[64];
    sha1_b32(rp->block, rp->length, d);
    cr_assert_str_eq(rp->block_digest, d);
    sha1_b32(body1, strlen(body1), d);
    cr_assert_str_eq(rp->payload_digest, d);
    sha1_b32(req1, strlen(req1), d);
    cr_assert_str_eq(rq->block_digest, d);
    /* No request record: no Concurrent-To, no address. */
    cr_assert_str_eq(miss->type, "response");
    cr_assert_str_eq(miss->concurrent, "");
    cr_assert_str_eq(miss->ip, "");
    sha1_b32("", 0, d);
    cr_assert_str_eq(miss->payload_digest, d);
    /* The empty SHA-1 in base32, as Heritrix writes it. */
    cr_assert_str_eq(d, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    cr_assert_str_eq(rq3->concurrent, rp3->id);
    cr_assert_str_eq(rp3->ip, "::1");
    cr_assert_eq(rp3->length, strlen(resp3) + 1024);
    cr_assert_eq(memcmp(rp3->block + strlen(resp3), bin, 1024), 0);
    sha1_b32(bin, 1024, d);
    cr_assert_str_eq(rp3->payload_digest, d);
    free_recs(&rs);
}

Test(warc, round_trip_gzip)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/crawl.warc.gz", tmpdir);
    unsigned char bin[1024];
    write_sample(path, NULL, bin);
    check_sample(path, true, bin);
    recs_t rs;
    read_warc(path, true, &rs);
    cr_assert_str_eq(rs.recs[0].filename, "crawl.warc.gz");
    char soft[64];
    snprintf(soft, sizeof soft, "software: acio/%d.%d.%d\r\n", ACIO_VERSION_MAJOR,
             ACIO_VERSION_MINOR, ACIO_VERSION_PATCH);
    cr_assert_not_null(strstr(rs.recs[0].block, soft));
    free_recs(&rs);
    remove_tmpdir();
}

Test(warc, round_trip_plain_and_options)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/crawl.warc", tmpdir);
    unsigned char bin[1024];
    acio_warc_opts_t opts = {.uncompressed = true,
                             .software = "acio-crawl/1",
                             .info_fields = "operator: tests\r\nrobots: obey\r\n"};
    write_sample(path, &opts, bin);
    check_sample(path, false, bin);
    recs_t rs;
    read_warc(path, false, &rs);
    cr_assert_not_null(strstr(rs.recs[0].block, "software: acio-crawl/1\r\n"));
    cr_assert_not_null(strstr(rs.recs[0].block, "operator: tests\r\nrobots: obey\r\n"));
    free_recs(&rs);
    remove_tmpdir();
}

Test(warc, append_keeps_earlier_records)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/a.warc.gz", tmpdir);
    unsigned char bin[1024];
    write_sample(path, NULL, bin);
    acio_warc_t *w;
    acio_warc_opts_t opts = {.append = true, .level = 9};
    cr_assert_eq(acio_warc_open(path, &opts, &w), 0);
    acio_warc_exchange_t ex = {.target_uri = "http://example.com/more",
                               .response_head = resp2,
                               .response_head_len = strlen(resp2)};
    cr_assert_eq(acio_warc_write_exchange(w, &ex), 0);
    cr_assert_eq(acio_warc_close(w), 0);
    recs_t rs;
    read_warc(path, true, &rs);
    cr_assert_eq(rs.n, 8);
    cr_assert_str_eq(rs.recs[6].type, "warcinfo");
    cr_assert_str_eq(rs.recs[7].target, "http://example.com/more");
    free_recs(&rs);
    /* Without append, the file starts over. */
    cr_assert_eq(acio_warc_open(path, NULL, &w), 0);
    cr_assert_eq(acio_warc_close(w), 0);
    read_warc(path, true, &rs);
    cr_assert_eq(rs.n, 1);
    free_recs(&rs);
    remove_tmpdir();
}

/* Python's gzip module and a reader written from the spec agree (tests/warc/). */
Test(warc, python_reader_agrees, .timeout = 60)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        cr_skip_test("no /usr/bin/python3");
    make_tmpdir();
    unsigned char bin[1024];
    const char *expect = "warcinfo %s software: acio/%d.%d.%d\n"
                         "request http://example.com/a 127.0.0.1 GET /a HTTP/1.1 56\n"
                         "response http://example.com/a 127.0.0.1 HTTP/1.1 200 OK 90\n"
                         "response http://example.com/missing - HTTP/1.1 404 Not Found 45\n"
                         "request http://example.com/img.png ::1 GET /img.png HTTP/1.1 25\n"
                         "response http://example.com/img.png ::1 HTTP/1.1 200 OK 1068\n"
                         "ok 6\n";
    for (int gz = 0; gz < 2; gz++) {
        char path[128], cmd[512], got[2048], want[1024];
        const char *name = gz ? "p.warc.gz" : "p.warc";
        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        acio_warc_opts_t opts = {.uncompressed = !gz};
        write_sample(path, &opts, bin);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/warc/check_warc.py %s %s 2>&1",
                 ACIO_TESTS_DIR, path, gz ? "" : "plain");
        FILE *p = popen(cmd, "r");
        size_t n = fread(got, 1, sizeof got - 1, p);
        got[n] = '\0';
        cr_assert_eq(pclose(p), 0, "check_warc.py failed: %s", got);
        snprintf(want, sizeof want, expect, name, ACIO_VERSION_MAJOR, ACIO_VERSION_MINOR,
                 ACIO_VERSION_PATCH);
        cr_assert_str_eq(got, want);
    }
    /* zcat reads the whole file as one stream. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(zcat %s/p.warc.gz | grep -c '^WARC/1.1') = 6", tmpdir);
    cr_assert_eq(system(cmd), 0);
    remove_tmpdir();
}

Test(warc, bad_arguments)
{
    make_tmpdir();
    acio_warc_t *w = (acio_warc_t *)1;
    char path[128];
    snprintf(path, sizeof path, "%s/x.warc.gz", tmpdir);
    cr_assert_eq(acio_warc_open(NULL, NULL, &w), -EINVAL);
    cr_assert_eq(acio_warc_open("", NULL, &w), -EINVAL);
    cr_assert_eq(acio_warc_open(path, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_warc_open(path, &(acio_warc_opts_t){.level = 10}, &w), -EINVAL);
    cr_assert_eq(acio_warc_open(path, &(acio_warc_opts_t){.software = "a\r\nb"}, &w), -EINVAL);
    cr_assert_eq(acio_warc_open(path, &(acio_warc_opts_t){.info_fields = "x: y"}, &w), -EINVAL);
    cr_assert_eq(acio_warc_open(path, &(acio_warc_opts_t){.info_fields = "x: y\r\n\r\n"}, &w),
                 -EINVAL);
    cr_assert_eq(access(path, F_OK), -1, "no file is created on bad arguments");
    cr_assert_eq(acio_warc_open("/nonexistent-dir/x.warc.gz", NULL, &w), -ENOENT);
    cr_assert_eq(acio_warc_open(tmpdir, NULL, &w), -EISDIR);

    cr_assert_eq(acio_warc_open(path, NULL, &w), 0);
    uint64_t size = acio_warc_bytes(w);
    acio_warc_exchange_t ok = {
        .target_uri = "http://x/", .response_head = resp2, .response_head_len = strlen(resp2)};
    acio_warc_exchange_t ex = ok;
    ex.target_uri = NULL;
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EINVAL);
    ex = ok;
    ex.target_uri = "http://x/\r\nWARC-Type: evil";
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EINVAL);
    ex = ok;
    ex.ip_address = "1.2.3.4\n";
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EINVAL);
    ex = ok;
    ex.response_head = NULL;
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EINVAL);
    ex = ok;
    ex.body_len = 5;
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EINVAL);
    ex = ok;
    ex.body = "x";
    ex.body_len = ((size_t)1 << 30) + 1;
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EFBIG);
    cr_assert_eq(acio_warc_write_exchange(NULL, &ok), -EINVAL);
    cr_assert_eq(acio_warc_bytes(w), size, "nothing written by refused calls");
    cr_assert_eq(acio_warc_write_exchange(w, &ok), 0);
    cr_assert_eq(acio_warc_close(w), 0);
    cr_assert_eq(acio_warc_close(NULL), 0);
    remove_tmpdir();
}

Test(warc, full_disk)
{
    acio_warc_t *w;
    /* /dev/full exists already: it is opened, the warcinfo write fails, nothing is
     * unlinked. */
    cr_assert_eq(acio_warc_open("/dev/full", NULL, &w), -ENOSPC);
    cr_assert_eq(access("/dev/full", F_OK), 0);
}

/* A file-size limit cuts a record in the middle: the partial record is cut off again,
 * the call fails with EFBIG, and the writer keeps working for records that fit. */
Test(warc, short_write_leaves_whole_records)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/limit.warc", tmpdir);
    signal(SIGXFSZ, SIG_IGN);
    acio_warc_t *w;
    cr_assert_eq(acio_warc_open(path, &(acio_warc_opts_t){.uncompressed = true}, &w), 0);
    uint64_t before = acio_warc_bytes(w);
    struct rlimit rl = {.rlim_cur = before + 2000, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    static char big[4000];
    memset(big, 'x', sizeof big);
    acio_warc_exchange_t ex = {.target_uri = "http://x/big",
                               .response_head = resp3,
                               .response_head_len = strlen(resp3),
                               .body = big,
                               .body_len = sizeof big};
    cr_assert_eq(acio_warc_write_exchange(w, &ex), -EFBIG);
    cr_assert_eq(acio_warc_bytes(w), before);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, before, "the partial record was cut off");
    ex.body_len = 100;
    cr_assert_eq(acio_warc_write_exchange(w, &ex), 0);
    cr_assert_eq(acio_warc_close(w), 0);
    rl.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    recs_t rs;
    read_warc(path, false, &rs);
    cr_assert_eq(rs.n, 2);
    cr_assert_eq(rs.recs[1].length, strlen(resp3) + 100);
    free_recs(&rs);
    remove_tmpdir();
}

/* Fail the nth call of kind during open + three exchanges + close, for every n until a
 * run completes: each call either succeeds or fails cleanly, and the file then holds
 * only whole records (or does not exist when open failed). ASan's leak check covers the
 * freeing. */
static void sweep(int kind, int expected_err)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/f.warc.gz", tmpdir);
    int fired_runs = 0;
    for (long n = 1; n < 400; n++) {
        unlink(path);
        acio_warc_t *w = NULL;
        fault_arm(kind, n);
        int rc = acio_warc_open(path, NULL, &w);
        int ok = 0;
        if (rc == 0) {
            for (int i = 0; i < 3; i++) {
                acio_warc_exchange_t ex = {.target_uri = "http://example.com/a",
                                           .ip_address = "10.0.0.1",
                                           .request_head = req1,
                                           .request_head_len = strlen(req1),
                                           .response_head = resp1,
                                           .response_head_len = strlen(resp1),
                                           .body = body1,
                                           .body_len = strlen(body1)};
                int r = acio_warc_write_exchange(w, &ex);
                cr_assert(r == 0 || r == expected_err, "n=%ld: %d", n, r);
                ok += r == 0;
            }
            cr_assert_eq(acio_warc_close(w), 0);
        } else {
            cr_assert_eq(rc, expected_err, "n=%ld: %s", n, acio_strerror(rc));
            cr_assert_eq(access(path, F_OK), -1, "n=%ld: the failed open left a file", n);
        }
        bool fired = fault_fired();
        fault_stop();
        if (rc == 0) {
            recs_t rs;
            read_warc(path, true, &rs);
            cr_assert_eq(rs.n, 1 + 2 * (size_t)ok, "n=%ld", n);
            free_recs(&rs);
        }
        if (!fired)
            break;
        fired_runs++;
    }
    cr_assert_gt(fired_runs, 2, "the sweep reached the writer's calls");
    remove_tmpdir();
}

Test(warc, failing_allocations, .timeout = 120)
{
    sweep(FAULT_ALLOC, -ENOMEM);
}

Test(warc, failing_openssl_allocations, .timeout = 120)
{
    sweep(FAULT_SSL_ALLOC, -ENOMEM);
}

Test(warc, failing_writes, .timeout = 120)
{
    sweep(FAULT_WRITE, -EIO);
}
