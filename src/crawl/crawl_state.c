/* The resumable crawl's journal (--state DIR): DIR/journal, append-only text, one record
 * per line:
 *
 *     acio-crawl journal 2               the first line
 *     A <depth> <hops> <url>             a URL was queued (seeds and discovered links)
 *     D <tsv> <jsonl> <warc> <url>       a URL is complete; the outputs (TSV, JSONL and
 *                                        WARC byte offsets) end there
 *
 * Ordering makes it crash-proof. A page's TSV rows, JSONL record and WARC records are
 * written first (crawl_out.c, write(2) with no buffering), then, in one write(2), the A records of
 * the links it queued and its D record; nothing waits in between (the local frontier never does).
 * So after a SIGKILL at any moment the journal's last D covers exactly the output bytes of
 * completed pages: resuming cuts the outputs back to its offsets (dropping rows of pages that were
 * in flight), marks every D URL done and queues every A URL not done. A record torn by the kill (no
 * newline) is dropped. A page queued by a page that did not complete is simply found again when
 * that page is fetched again.
 *
 * Durability: the kernel has every byte at once, which is what a killed process needs.
 * Against a machine crash, the outputs and then the journal are fdatasync'ed at most
 * once a second and at the end (outputs first, so a durable D never points past durable
 * rows): a power cut loses at most the last second of work, which is fetched again. One
 * write(2) per page and one sync a second keep the journal's cost small. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl/crawl_int.h"
#include "internal.h"

static const char magic[] = "acio-crawl journal 2\n";

static int read_file(int fd, char **out, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -errno;
    char *p = acio__malloc((size_t)sb.st_size + 1);
    if (!p)
        return -ENOMEM;
    size_t n = 0;
    while (n < (size_t)sb.st_size) {
        ssize_t r = pread(fd, p + n, (size_t)sb.st_size - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? -errno : -EIO;
            acio__free(p);
            return e;
        }
        n += (size_t)r;
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
}

/* One pass over the complete lines: kind 'D' or 'A'. */
static int replay(acio__crawl_t *c, char *buf, size_t len, char kind, uint64_t off[3])
{
    char *p = buf + sizeof magic - 1, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        *nl = '\0';
        if (p[0] == kind && p[1] == ' ') {
            /* A: depth hops url; D: tsv jsonl warc url. */
            unsigned long long num[3] = {0, 0, 0};
            char *s = p + 1;
            for (int k = 0; k < (kind == 'D' ? 3 : 2); k++) {
                char *e;
                if (*s != ' ' || !(s[1] >= '0' && s[1] <= '9')) {
                    *nl = '\n';
                    return ACIO_ECRAWL_JOURNAL;
                }
                num[k] = strtoull(s + 1, &e, 10);
                s = e;
            }
            if (*s != ' ') {
                *nl = '\n';
                return ACIO_ECRAWL_JOURNAL;
            }
            unsigned long long a = num[0], b = num[1];
            const char *url = s + 1;
            size_t ulen = (size_t)(nl - url);
            int rc;
            if (kind == 'D') {
                rc = acio__frontier_add(c->frontier, url, ulen, "", 0, 0, ACIO__FRONTIER_ADD_DONE);
                if (rc > 0)
                    c->st.resumed_done++;
                off[0] = a;
                off[1] = b;
                off[2] = num[2];
            } else {
                acio_url_t *u;
                rc = acio_url_parse(url, ulen, &u);
                if (rc == 0) {
                    char host[512];
                    acio__crawl_host_key(u, host, sizeof host);
                    rc = acio__frontier_add(c->frontier, url, ulen, host, (int)a, (int)b, 0);
                    if (rc > 0)
                        c->st.resumed_queued++;
                    acio_url_free(u);
                }
            }
            if (rc < 0 && rc != -ENOMEM)
                rc = ACIO_ECRAWL_JOURNAL;
            if (rc < 0) {
                *nl = '\n';
                return rc;
            }
        } else if (p[0] != 'A' && p[0] != 'D') {
            *nl = '\n';
            return ACIO_ECRAWL_JOURNAL;
        }
        *nl = '\n';
        p = nl + 1;
    }
    return (int)(p - buf); /* the end of the last complete line */
}

int acio__crawl_state_open(acio__crawl_t *c, uint64_t off[3], const char **msg)
{
    off[0] = off[1] = off[2] = UINT64_MAX;
    if (!c->o.state_dir)
        return 0;
    if (mkdir(c->o.state_dir, 0755) < 0 && errno != EEXIST) {
        int e = -errno;
        snprintf(c->errmsg, sizeof c->errmsg, "cannot create --state %s: %s", c->o.state_dir,
                 strerror(errno));
        *msg = c->errmsg;
        return e;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/journal", c->o.state_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = -errno;
        snprintf(c->errmsg, sizeof c->errmsg, "cannot open %.200s: %s", path, strerror(errno));
        *msg = c->errmsg;
        return e;
    }
    c->journal_fd = fd;
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(fd, &buf, &len);
    if (rc < 0)
        goto fail;
    if (len == 0) {
        acio__free(buf);
        rc = acio__crawl_write_all(fd, magic, sizeof magic - 1);
        if (rc < 0)
            goto fail;
        return 0;
    }
    if (len < sizeof magic - 1 || memcmp(buf, magic, sizeof magic - 1) != 0) {
        acio__free(buf);
        rc = ACIO_ECRAWL_JOURNAL;
        goto fail;
    }
    /* Resuming: outputs cut back to the start (header rewritten) unless a D says more. */
    off[0] = off[1] = off[2] = 0;
    rc = replay(c, buf, len, 'D', off);
    if (rc >= 0)
        rc = replay(c, buf, len, 'A', off);
    acio__free(buf);
    if (rc < 0)
        goto fail;
    /* Drop a torn last record, then append after it. */
    if ((size_t)rc < len && ftruncate(fd, (off_t)rc) < 0) {
        rc = -errno;
        goto fail;
    }
    if (lseek(fd, 0, SEEK_END) < 0) {
        rc = -errno;
        goto fail;
    }
    return 0;
fail:
    snprintf(c->errmsg, sizeof c->errmsg, "--state %s: %s", c->o.state_dir, acio_strerror(rc));
    *msg = c->errmsg;
    return rc;
}

int acio__crawl_state_added(acio__crawl_t *c, acio__buf_t *pending, const char *url, int depth,
                            int hops)
{
    if (c->journal_fd < 0)
        return 0;
    return acio__buf_printf(pending, "A %d %d %s\n", depth, hops, url);
}

int acio__crawl_state_done(acio__crawl_t *c, acio__buf_t *pending, const char *url)
{
    if (c->journal_fd < 0)
        return 0;
    int rc = 0;
    if (url)
        rc = acio__buf_printf(pending, "D %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", c->tsv_off,
                              c->jsonl_off, c->warc_off, url);
    if (rc == 0 && pending->len)
        rc = acio__crawl_write_all(c->journal_fd, pending->p, pending->len);
    pending->len = 0;
    if (rc < 0) {
        snprintf(c->errmsg, sizeof c->errmsg, "writing the journal in %s: %s", c->o.state_dir,
                 strerror(-rc));
        return ACIO_ECRAWL_OUTPUT;
    }
    acio__crawl_state_sync(c, false);
    return 0;
}

void acio__crawl_state_sync(acio__crawl_t *c, bool force)
{
    if (c->journal_fd < 0)
        return;
    double now = acio_loop_time(c->loop);
    if (!force && now - c->last_sync < 1.0)
        return;
    c->last_sync = now;
    if (c->tsv_fd >= 0)
        (void)fdatasync(c->tsv_fd);
    if (c->jsonl_fd >= 0)
        (void)fdatasync(c->jsonl_fd);
    (void)fdatasync(c->journal_fd);
}

void acio__crawl_state_close(acio__crawl_t *c)
{
    if (c->journal_fd >= 0) {
        acio__crawl_state_sync(c, true);
        close(c->journal_fd);
    }
    c->journal_fd = -1;
}
