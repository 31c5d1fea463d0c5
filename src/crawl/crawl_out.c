/* The crawler's outputs: areq.py's TSV (a "source_url\tparsed_url" header, then one row
 * per distinct link of each page) and the JSONL records (one per fetched URL). Each page's
 * rows go out in one write(2) straight to the kernel, with no buffering in this process,
 * so a crawl killed with SIGKILL loses nothing it journaled as complete (crawl_state.c
 * writes the page's completion right after, with no wait in between); the same holds for
 * the WARC records (acio/warc.h writes each exchange with one write). Also the small
 * growable buffer the engine builds rows and records in. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crawl/crawl_int.h"
#include "internal.h"

static const char tsv_header[] = "source_url\tparsed_url\n";

int acio__buf_add(acio__buf_t *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = acio__realloc(b->p, cap);
        if (!p)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

int acio__buf_printf(acio__buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return acio__buf_add(b, small, (size_t)n);
    va_start(ap, fmt);
    char *big = acio__vformat(fmt, ap);
    va_end(ap);
    if (!big)
        return -ENOMEM;
    int rc = acio__buf_add(b, big, (size_t)n);
    acio__free(big);
    return rc;
}

void acio__buf_free(acio__buf_t *b)
{
    acio__free(b->p);
    *b = (acio__buf_t){0};
}

int acio__crawl_write_all(int fd, const void *p, size_t len)
{
    const char *s = p;
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Open path for appending at offset off (cut back to it), or fresh (truncated) when off
 * is UINT64_MAX. */
static int open_at(const char *path, uint64_t off, int *fd, uint64_t *pos)
{
    int f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (off == UINT64_MAX ? O_TRUNC : 0), 0644);
    if (f < 0)
        return -errno;
    if (off != UINT64_MAX) {
        /* Rows written after the last journaled completion belong to pages that will be
         * fetched again: cut them off. */
        if (ftruncate(f, (off_t)off) < 0 || lseek(f, (off_t)off, SEEK_SET) < 0) {
            int e = -errno;
            close(f);
            return e;
        }
    }
    *fd = f;
    *pos = off == UINT64_MAX ? 0 : off;
    return 0;
}

int acio__crawl_out_open(acio__crawl_t *c, const uint64_t off[3], const char **msg)
{
    int rc;
    if (c->o.tsv_path) {
        rc = open_at(c->o.tsv_path, off[0], &c->tsv_fd, &c->tsv_off);
        if (rc == 0 && c->tsv_off == 0) {
            rc = acio__crawl_write_all(c->tsv_fd, tsv_header, sizeof tsv_header - 1);
            c->tsv_off = sizeof tsv_header - 1;
        }
        if (rc < 0) {
            snprintf(c->errmsg, sizeof c->errmsg, "cannot write %s: %s", c->o.tsv_path,
                     strerror(-rc));
            *msg = c->errmsg;
            return rc;
        }
    }
    if (c->o.jsonl_path) {
        rc = open_at(c->o.jsonl_path, off[1], &c->jsonl_fd, &c->jsonl_off);
        if (rc < 0) {
            snprintf(c->errmsg, sizeof c->errmsg, "cannot write %s: %s", c->o.jsonl_path,
                     strerror(-rc));
            *msg = c->errmsg;
            return rc;
        }
    }
    if (c->o.warc_path) {
        /* Resuming: records after the last completion are cut off (their pages will be
         * fetched again); a new warcinfo record then starts this run's part. */
        acio_warc_opts_t wo = {.append = off[2] != UINT64_MAX, .software = "acio-crawl/0.1"};
        rc = 0;
        if (wo.append) {
            int fd;
            uint64_t pos;
            rc = open_at(c->o.warc_path, off[2], &fd, &pos);
            if (rc == 0)
                close(fd);
        }
        if (rc == 0)
            rc = acio_warc_open(c->o.warc_path, &wo, &c->warc);
        if (rc < 0) {
            snprintf(c->errmsg, sizeof c->errmsg, "cannot write %s: %s", c->o.warc_path,
                     acio_strerror(rc));
            *msg = c->errmsg;
            return rc;
        }
        c->warc_off = acio_warc_bytes(c->warc);
    }
    return 0;
}

int acio__crawl_out_warc(acio__crawl_t *c, const acio__frontier_item_t *it, const acio_url_t *u,
                         acio_http_response_t *r, const void *body, size_t len)
{
    if (!c->warc || !r || c->fatal)
        return 0;
    /* The request head exactly as acio's client builds it for the crawler's session
     * (src/http/request.c: request line, Host, the session's User-Agent, Accept,
     * Accept-Encoding; no cookies, keep-alive). */
    acio__buf_t req = {0}, resp = {0};
    char target[4096], authority[600];
    acio_url_target(u, target, sizeof target);
    acio_url_authority(u, 0, authority, sizeof authority);
    int rc = acio__buf_printf(&req,
                              "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                              "Accept-Encoding: gzip, deflate, br, zstd\r\n\r\n",
                              target, authority, c->o.user_agent);
    /* The response head as received, but describing the body given: decoded and
     * de-chunked, so no Content-Encoding / Transfer-Encoding and a true Content-Length. */
    if (rc == 0)
        rc = acio__buf_printf(&resp, "HTTP/1.%d %d %s\r\n",
                              acio_http_response_version(r) == 10 ? 0 : 1,
                              acio_http_response_status(r), acio_http_response_reason(r));
    size_t n = acio_http_response_header_count(r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *name, *value;
        if (acio_http_response_header_at(r, i, &name, &value) < 0)
            continue;
        if (strcasecmp(name, "Content-Encoding") == 0 ||
            strcasecmp(name, "Transfer-Encoding") == 0 || strcasecmp(name, "Content-Length") == 0)
            continue;
        rc = acio__buf_printf(&resp, "%s: %s\r\n", name, value);
    }
    if (rc == 0)
        rc = acio__buf_printf(&resp, "Content-Length: %zu\r\n\r\n", len);
    if (rc == 0) {
        acio_warc_exchange_t ex = {
            .target_uri = it->url,
            .request_head = req.p,
            .request_head_len = req.len,
            .response_head = resp.p,
            .response_head_len = resp.len,
            .body = body,
            .body_len = len,
        };
        rc = acio_warc_write_exchange(c->warc, &ex);
        if (rc == 0) {
            c->warc_off = acio_warc_bytes(c->warc);
            c->st.warc_records++;
        }
    }
    acio__buf_free(&req);
    acio__buf_free(&resp);
    if (rc == -ENOMEM || rc == -EINVAL || rc == -EFBIG) {
        /* This exchange is not archived; the crawl goes on. */
        acio__crawl_log(c, 1, "%s: not archived in the WARC: %s", it->url, acio_strerror(rc));
        return 0;
    }
    if (rc < 0) {
        snprintf(c->errmsg, sizeof c->errmsg, "writing %s: %s", c->o.warc_path, acio_strerror(rc));
        return ACIO_ECRAWL_OUTPUT;
    }
    return 0;
}

int acio__crawl_out_write(acio__crawl_t *c, const acio__buf_t *rows, const acio__buf_t *record)
{
    int rc = 0;
    if (c->tsv_fd >= 0 && rows->len) {
        rc = acio__crawl_write_all(c->tsv_fd, rows->p, rows->len);
        if (rc < 0) {
            snprintf(c->errmsg, sizeof c->errmsg, "writing %s: %s", c->o.tsv_path, strerror(-rc));
            return ACIO_ECRAWL_OUTPUT;
        }
        c->tsv_off += rows->len;
    }
    if (c->jsonl_fd >= 0 && record->len) {
        rc = acio__crawl_write_all(c->jsonl_fd, record->p, record->len);
        if (rc < 0) {
            snprintf(c->errmsg, sizeof c->errmsg, "writing %s: %s", c->o.jsonl_path, strerror(-rc));
            return ACIO_ECRAWL_OUTPUT;
        }
        c->jsonl_off += record->len;
    }
    return 0;
}

void acio__crawl_out_close(acio__crawl_t *c)
{
    if (c->tsv_fd >= 0)
        close(c->tsv_fd);
    if (c->jsonl_fd >= 0)
        close(c->jsonl_fd);
    c->tsv_fd = c->jsonl_fd = -1;
    if (c->warc)
        (void)acio_warc_close(c->warc);
    c->warc = NULL;
}
