/* The WARC/1.1 writer (acio/warc.h): builds each record's header in memory, digests the
 * block with OpenSSL's SHA-1, compresses header, block and trailer into one gzip member
 * with zlib (its allocations go through acio's allocator hook, so the fault tests reach
 * them), and writes the member with one write(2). A failed or short write is cut off
 * again with ftruncate, so the file only ever holds whole records.
 *
 * Why synchronous: the records are small, the crawler writes its TSV the same way, and a
 * regular file's write does not wait for the disk (the page cache takes it); going
 * through the executor would cost a thread hop per page for nothing. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

/* zlib counts in uInt: each part of an exchange is capped at 1 GiB (a crawler's pages
 * are KiBs), so a record and its deflateBound fit. */
#define WARC_MAX_BLOCK ((size_t)1 << 30)

struct acio_warc_s {
    int fd;
    bool gzip;
    int level;
    uint64_t records;
    uint64_t size; /* bytes in the file: where the next record starts */
};

/* A growing byte buffer on acio's allocator. */
typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} wbuf_t;

static void wbuf_reserve(wbuf_t *b, size_t more)
{
    if (b->failed || b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more)
        cap *= 2;
    char *p = acio__realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void wbuf_add(wbuf_t *b, const void *data, size_t len)
{
    wbuf_reserve(b, len);
    if (b->failed)
        return;
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void wbuf_printf(wbuf_t *b, const char *fmt, ...) ACIO_PRINTF(2, 3);
static void wbuf_printf(wbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        /* Longer lines (a long URI) take the allocating path. */
        va_start(ap, fmt);
        char *s = acio__vformat(fmt, ap);
        va_end(ap);
        if (!s) {
            b->failed = true;
            return;
        }
        wbuf_add(b, s, strlen(s));
        acio__free(s);
        return;
    }
    wbuf_add(b, tmp, (size_t)n);
}

/* ---- identifiers, dates, digests ---- */

/* A random (version 4) UUID as <urn:uuid:...>, 47 characters and a NUL. */
static int make_record_id(char out[48])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 48,
             "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    return 0;
}

/* WARC-Date: UTC to the second, as wget and Heritrix write it (WARC/1.1 also allows
 * fractions; readers of WARC/1.0 do not). */
static void format_date(double when, char out[32])
{
    time_t t;
    if (when > 0) {
        t = (time_t)when;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = ts.tv_sec;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 4648 base32 of a 20-byte SHA-1: 32 characters, no padding needed. */
static void base32_sha1(const unsigned char md[20], char out[33])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++)
            v = (v << 8) | md[i + j];
        for (int k = 7; k >= 0; k--)
            out[o++] = alphabet[(v >> (k * 5)) & 31];
    }
    out[o] = '\0';
}

/* sha1:<base32> of the concatenation of up to three pieces. */
static int sha1_digest(const void *a, size_t alen, const void *b, size_t blen, char out[33])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
             (!alen || EVP_DigestUpdate(ctx, a, alen)) &&
             (!blen || EVP_DigestUpdate(ctx, b, blen)) && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    /* OpenSSL fails a digest only when it cannot allocate (or load the provider). */
    if (!ok || mdlen != 20)
        return -ENOMEM;
    base32_sha1(md, out);
    return 0;
}

/* True if s may go into a header line as is. */
static bool field_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* ---- compression ---- */

static voidpf z_alloc(voidpf opaque, uInt n, uInt size)
{
    (void)opaque;
    return acio__calloc(n, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    acio__free(p);
}

typedef struct {
    const void *p;
    size_t len;
} piece_t;

/* Append one gzip member holding the pieces to out. */
static int gzip_member(wbuf_t *out, const piece_t *pieces, size_t npieces, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    /* windowBits 15 + 16: a gzip header and trailer around the deflate stream. */
    int zr = deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr == Z_MEM_ERROR)
        return -ENOMEM;
    if (zr != Z_OK)
        return -EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < npieces; i++)
        total += pieces[i].len;
    if (total > 3 * WARC_MAX_BLOCK) {
        deflateEnd(&z);
        return -EFBIG;
    }
    /* deflateBound covers the whole input in one go; the gzip wrapper is included. */
    size_t bound = deflateBound(&z, (uLong)total) + 64;
    wbuf_reserve(out, bound);
    if (out->failed) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_out = (Bytef *)out->p + out->len;
    z.avail_out = (uInt)bound;
    int rc = 0;
    for (size_t i = 0; i < npieces && rc == 0; i++) {
        z.next_in = (Bytef *)pieces[i].p;
        z.avail_in = (uInt)pieces[i].len;
        bool last = i + 1 == npieces;
        zr = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_MEM_ERROR)
            rc = -ENOMEM;
        else if (last ? zr != Z_STREAM_END : (zr != Z_OK && zr != Z_BUF_ERROR))
            rc = -ENOBUFS; /* cannot happen with deflateBound's room */
    }
    if (rc == 0)
        out->len += bound - z.avail_out;
    deflateEnd(&z);
    return rc;
}

/* ---- records ---- */

/* Append one record (header fields already in hdr, without Content-Length) made of the
 * block pieces to out, compressed or not. */
static int add_record(acio_warc_t *w, wbuf_t *out, wbuf_t *hdr, const piece_t *block, size_t nblock)
{
    size_t block_len = 0;
    for (size_t i = 0; i < nblock; i++)
        block_len += block[i].len;
    wbuf_printf(hdr, "Content-Length: %zu\r\n\r\n", block_len);
    if (hdr->failed)
        return -ENOMEM;
    piece_t pieces[6];
    size_t n = 0;
    pieces[n++] = (piece_t){hdr->p, hdr->len};
    for (size_t i = 0; i < nblock; i++)
        pieces[n++] = block[i];
    pieces[n++] = (piece_t){"\r\n\r\n", 4};
    if (w->gzip)
        return gzip_member(out, pieces, n, w->level);
    for (size_t i = 0; i < n; i++)
        wbuf_add(out, pieces[i].p, pieces[i].len);
    return out->failed ? -ENOMEM : 0;
}

/* Write the whole buffer at the end of the file, or nothing. */
static int write_all(acio_warc_t *w, const wbuf_t *b)
{
    size_t done = 0;
    while (done < b->len) {
        ssize_t n = write(w->fd, b->p + done, b->len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            /* Cut off what a partial write left, so the file holds whole records only.
             * If even that fails the writer cannot promise anything more. */
            if (done && ftruncate(w->fd, (off_t)w->size) != 0)
                return -errno;
            if (done)
                lseek(w->fd, (off_t)w->size, SEEK_SET);
            return err;
        }
        done += (size_t)n;
    }
    w->size += b->len;
    return 0;
}

static int write_warcinfo(acio_warc_t *w, const char *path, const acio_warc_opts_t *opts)
{
    char id[48], date[32];
    int rc = make_record_id(id);
    if (rc)
        return rc;
    format_date(0, date);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    wbuf_t info = {0}, hdr = {0}, out = {0};
    if (opts && opts->software)
        wbuf_printf(&info, "software: %s\r\n", opts->software);
    else
        wbuf_printf(&info, "software: acio/%d.%d.%d\r\n", ACIO_VERSION_MAJOR, ACIO_VERSION_MINOR,
                    ACIO_VERSION_PATCH);
    wbuf_printf(&info, "format: WARC File Format 1.1\r\n"
                       "conformsTo: http://iipc.github.io/warc-specifications/specifications/"
                       "warc-format/warc-1.1/\r\n");
    if (opts && opts->info_fields)
        wbuf_add(&info, opts->info_fields, strlen(opts->info_fields));
    wbuf_printf(&hdr,
                "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n"
                "WARC-Filename: %s\r\nContent-Type: application/warc-fields\r\n",
                id, date, base);
    if (info.failed)
        rc = -ENOMEM;
    else
        rc = add_record(w, &out, &hdr, &(piece_t){info.p, info.len}, 1);
    if (rc == 0)
        rc = write_all(w, &out);
    if (rc == 0)
        w->records++;
    acio__free(info.p);
    acio__free(hdr.p);
    acio__free(out.p);
    return rc;
}

int acio_warc_open(const char *path, const acio_warc_opts_t *opts, acio_warc_t **out)
{
    if (!path || !out || !*path)
        return -EINVAL;
    *out = NULL;
    int level = opts && opts->level ? opts->level : 6;
    if (level < 1 || level > 9)
        return -EINVAL;
    if (opts && opts->software && !field_ok(opts->software))
        return -EINVAL;
    const char *base = strrchr(path, '/');
    if (!field_ok(base ? base + 1 : path))
        return -EINVAL;
    if (opts && opts->info_fields) {
        /* Whole CRLF-terminated lines only, so the fields cannot end the block early. */
        size_t n = strlen(opts->info_fields);
        if (n && (n < 2 || memcmp(opts->info_fields + n - 2, "\r\n", 2) != 0))
            return -EINVAL;
        if (strstr(opts->info_fields, "\r\n\r\n"))
            return -EINVAL;
    }
    acio_warc_t *w = acio__calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->gzip = !(opts && opts->uncompressed);
    w->level = level;
    bool append = opts && opts->append;
    bool created = true;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    w->fd = open(path, flags | O_EXCL, 0666);
    if (w->fd < 0 && errno == EEXIST) {
        created = false;
        w->fd = open(path, flags, 0666);
    }
    if (w->fd < 0) {
        int err = -errno;
        acio__free(w);
        return err;
    }
    struct stat st;
    if (fstat(w->fd, &st) != 0) {
        int err = -errno;
        close(w->fd);
        acio__free(w);
        return err;
    }
    w->size = (uint64_t)st.st_size;
    int rc = write_warcinfo(w, path, opts);
    if (rc) {
        close(w->fd);
        if (created)
            unlink(path);
        acio__free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int acio_warc_write_exchange(acio_warc_t *w, const acio_warc_exchange_t *ex)
{
    if (!w || !ex || !ex->target_uri || !ex->response_head || !ex->response_head_len ||
        (!ex->body && ex->body_len) || (!ex->request_head && ex->request_head_len))
        return -EINVAL;
    if (!field_ok(ex->target_uri) || !*ex->target_uri ||
        (ex->ip_address && (!field_ok(ex->ip_address) || !*ex->ip_address)))
        return -EINVAL;
    if (ex->body_len > WARC_MAX_BLOCK || ex->response_head_len > WARC_MAX_BLOCK ||
        ex->request_head_len > WARC_MAX_BLOCK)
        return -EFBIG;
    char req_id[48], resp_id[48], date[32], block_digest[33], payload_digest[33];
    int rc = make_record_id(resp_id);
    if (rc == 0 && ex->request_head)
        rc = make_record_id(req_id);
    if (rc)
        return rc;
    format_date(ex->time, date);
    rc =
        sha1_digest(ex->response_head, ex->response_head_len, ex->body, ex->body_len, block_digest);
    if (rc == 0)
        rc = sha1_digest(ex->body, ex->body_len, NULL, 0, payload_digest);
    if (rc)
        return rc;

    wbuf_t hdr = {0}, out = {0};
    if (ex->request_head) {
        char req_digest[33];
        rc = sha1_digest(ex->request_head, ex->request_head_len, NULL, 0, req_digest);
        if (rc)
            return rc;
        wbuf_printf(&hdr,
                    "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n"
                    "WARC-Target-URI: %s\r\n",
                    req_id, date, ex->target_uri);
        if (ex->ip_address)
            wbuf_printf(&hdr, "WARC-IP-Address: %s\r\n", ex->ip_address);
        wbuf_printf(&hdr,
                    "WARC-Concurrent-To: %s\r\nWARC-Block-Digest: sha1:%s\r\n"
                    "Content-Type: application/http;msgtype=request\r\n",
                    resp_id, req_digest);
        rc = add_record(w, &out, &hdr, &(piece_t){ex->request_head, ex->request_head_len}, 1);
        hdr.len = 0;
    }
    if (rc == 0) {
        wbuf_printf(&hdr,
                    "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n"
                    "WARC-Target-URI: %s\r\n",
                    resp_id, date, ex->target_uri);
        if (ex->ip_address)
            wbuf_printf(&hdr, "WARC-IP-Address: %s\r\n", ex->ip_address);
        if (ex->request_head)
            wbuf_printf(&hdr, "WARC-Concurrent-To: %s\r\n", req_id);
        wbuf_printf(&hdr,
                    "WARC-Block-Digest: sha1:%s\r\nWARC-Payload-Digest: sha1:%s\r\n"
                    "Content-Type: application/http;msgtype=response\r\n",
                    block_digest, payload_digest);
        piece_t block[2] = {{ex->response_head, ex->response_head_len}, {ex->body, ex->body_len}};
        rc = add_record(w, &out, &hdr, block, ex->body_len ? 2 : 1);
    }
    if (rc == 0)
        rc = write_all(w, &out);
    if (rc == 0)
        w->records += ex->request_head ? 2 : 1;
    acio__free(hdr.p);
    acio__free(out.p);
    return rc;
}

uint64_t acio_warc_records(const acio_warc_t *w)
{
    return w ? w->records : 0;
}

uint64_t acio_warc_bytes(const acio_warc_t *w)
{
    return w ? w->size : 0;
}

int acio_warc_close(acio_warc_t *w)
{
    if (!w)
        return 0;
    int rc = 0;
    if (fsync(w->fd) != 0 && errno != EINVAL)
        rc = -errno;
    if (close(w->fd) != 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    acio__free(w);
    return rc;
}
