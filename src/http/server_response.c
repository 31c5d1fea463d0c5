/* Responses: the status line and the server's own headers (Date from a per-thread cache
 * refreshed once a second, Content-Length or chunked framing, Connection), bodies from
 * bytes, JSON (jansson), files (sendfile) and streams, and what the server sends when a
 * handler does not answer (500, or 413/408/400 when the request's body was at fault).
 * The access log line is written here too, when the request is over. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/server_int.h"
#include "net/fdwait.h"

/* ---- Date ---- */

static __thread time_t date_sec = -1;
static __thread char date_line[64];
static __thread size_t date_len;

const char *acio__http_date_line(size_t *len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != date_sec) {
        char d[ACIO_HTTP_DATE_SIZE];
        acio_http_date(ts.tv_sec, d);
        date_len = (size_t)snprintf(date_line, sizeof date_line, "Date: %s\r\n", d);
        date_sec = ts.tv_sec;
    }
    *len = date_len;
    return date_line;
}

const char *acio__http_reason(int status)
{
    return acio_http_reason(status);
}

/* ---- headers ---- */

int acio_http_respond_header(acio_http_request_t *req, const char *name, const char *value)
{
    if (!req || !name || !value)
        return -EINVAL;
    /* The header-injection guard shared with the client (acio/http_headers.h). */
    size_t nl = strlen(name), vl = strlen(value);
    int bad = acio_http_check_name(name, nl);
    if (!bad)
        bad = acio_http_check_value(value, vl);
    if (bad)
        return bad;
    if (req->responded)
        return ACIO_EHTTP_RESPONDED;
    static const char *const reserved[] = {"content-length", "transfer-encoding", "date",
                                           "connection"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return -EINVAL;
    size_t need = nl + vl + 4;
    if (req->rh_len + need > req->rh_cap) {
        size_t ncap = req->rh_cap ? req->rh_cap * 2 : 256;
        while (ncap < req->rh_len + need)
            ncap *= 2;
        char *nb = acio__realloc(req->rh, ncap);
        if (!nb)
            return -ENOMEM;
        req->rh = nb;
        req->rh_cap = ncap;
    }
    char *p = req->rh + req->rh_len;
    memcpy(p, name, nl);
    memcpy(p + nl, ": ", 2);
    memcpy(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 2);
    req->rh_len += need;
    return 0;
}

static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        *p++ = tmp[--i];
    return p;
}

/* Queue the status line and headers. length < 0: a streamed body (chunked on 1.1,
 * close-delimited on 1.0). */
static int write_head(acio_http_request_t *req, int status, const char *ctype, int64_t length)
{
    srv_conn_t *c = req->conn;
    acio_http_server_t *srv = c->srv;
    if (req->responded)
        return ACIO_EHTTP_RESPONDED;
    if (status < 200 || status > 999)
        return -EINVAL;
    if (c->lost)
        return -ENOTCONN;
    bool ka = req->head.keep_alive && !c->closing && !srv->closing && !req->body_error;
    if (!req->body.done && req->head.expect_continue && !req->continue_sent)
        ka = false; /* the client may not send the body at all: the stream is undefined */
    bool body = status_has_body(status);
    req->chunked = false;
    if (length < 0 && body) {
        if (req->head.version_minor == 0)
            ka = false; /* no chunked in 1.0: the close ends the body */
        else
            req->chunked = true;
    }
    req->keep_alive = ka;
    const char *reason = acio__http_reason(status);
    size_t ctl = ctype ? strlen(ctype) : 0;
    size_t sl = srv->cfg.server_header ? strlen(srv->cfg.server_header) : 0;
    size_t need = 64 + strlen(reason) + ctl + sl + 160 + req->rh_len;
    char stackbuf[512];
    char *buf = need <= sizeof stackbuf ? stackbuf : acio__malloc(need);
    if (!buf)
        return -ENOMEM;
    char *p = buf;
    p = put(p, "HTTP/1.1 ", 9);
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put(p, reason, strlen(reason));
    p = put(p, "\r\n", 2);
    size_t dl;
    const char *date = acio__http_date_line(&dl);
    p = put(p, date, dl);
    if (sl) {
        p = put(p, "Server: ", 8);
        p = put(p, srv->cfg.server_header, sl);
        p = put(p, "\r\n", 2);
    }
    if (ctl) {
        p = put(p, "Content-Type: ", 14);
        p = put(p, ctype, ctl);
        p = put(p, "\r\n", 2);
    }
    if (body || status == 304) {
        if (length >= 0) {
            p = put(p, "Content-Length: ", 16);
            p = put_u64(p, (uint64_t)length);
            p = put(p, "\r\n", 2);
        } else if (req->chunked) {
            p = put(p, "Transfer-Encoding: chunked\r\n", 28);
        }
    }
    if (!ka)
        p = put(p, "Connection: close\r\n", 19);
    else if (req->head.version_minor == 0)
        p = put(p, "Connection: keep-alive\r\n", 24);
    /* Announce the idle expiry (whole seconds, rounded down) so a client drops the
     * connection before we close it instead of racing our close with its next request;
     * acio's client and others that honour Keep-Alive: timeout= do. */
    double kat = srv->cfg.keepalive_timeout;
    if (ka && kat >= 1) {
        p = put(p, "Keep-Alive: timeout=", 20);
        p = put_u64(p, kat < 1e9 ? (uint64_t)kat : 999999999u);
        p = put(p, "\r\n", 2);
    }
    if (req->rh_len)
        p = put(p, req->rh, req->rh_len);
    p = put(p, "\r\n", 2);
    int rc = acio__http_conn_out(c, buf, (size_t)(p - buf));
    if (buf != stackbuf)
        acio__free(buf);
    if (rc < 0)
        return rc;
    req->responded = true;
    req->status = status;
    if (!ka)
        c->closing = true;
    return 0;
}

/* Queue body bytes (large ones go out at once, uncopied into our buffer). */
static int write_body(acio_http_request_t *req, const void *body, size_t len)
{
    srv_conn_t *c = req->conn;
    if (!len)
        return 0;
    if (c->lost)
        return -ENOTCONN;
    if (len <= 16 * 1024)
        return acio__http_conn_out(c, body, len);
    acio__http_conn_flush(c);
    return acio_transport_write(c->t, body, len);
}

int acio__http_respond_full(acio_http_request_t *req, int status, const char *ctype,
                            const void *body, size_t len)
{
    int rc = write_head(req, status, ctype, (int64_t)len);
    if (rc < 0)
        return rc;
    req->ended = true;
    if (body && status_has_body(status) && !req->is_head) {
        rc = write_body(req, body, len);
        req->bytes_out = len;
    }
    if (!req->conn->in_process)
        acio__http_conn_flush(req->conn);
    return rc;
}

int acio_http_respond(acio_http_request_t *req, int status, const char *content_type,
                      const void *body, size_t len)
{
    if (!req || (!body && len))
        return -EINVAL;
    return acio__http_respond_full(req, status, content_type, body, len);
}

int acio_http_respond_text(acio_http_request_t *req, int status, const char *text)
{
    if (!req || !text)
        return -EINVAL;
    return acio__http_respond_full(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

int acio_http_respond_json(acio_http_request_t *req, int status, const json_t *value)
{
    if (!req || !value)
        return -EINVAL;
    char small[512];
    size_t n = json_dumpb(value, small, sizeof small, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0)
        return -EINVAL;
    if (n <= sizeof small)
        return acio__http_respond_full(req, status, "application/json", small, n);
    char *big = acio__malloc(n);
    if (!big)
        return -ENOMEM;
    size_t m = json_dumpb(value, big, n, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = acio__http_respond_full(req, status, "application/json", big, m);
    acio__free(big);
    return rc;
}

int acio_http_respond_error(acio_http_request_t *req, int status, const char *detail)
{
    if (!req)
        return -EINVAL;
    json_t *obj = json_pack("{s:s}", "detail", detail ? detail : acio__http_reason(status));
    if (!obj)
        return -ENOMEM;
    int rc = acio_http_respond_json(req, status, obj);
    json_decref(obj);
    return rc;
}

/* ---- streams ---- */

int acio_http_respond_start(acio_http_request_t *req, int status, const char *content_type)
{
    if (!req)
        return -EINVAL;
    int rc = write_head(req, status, content_type, -1);
    if (rc < 0)
        return rc;
    req->streaming = true;
    if (!status_has_body(status) || req->is_head)
        req->ended = true;
    if (!req->conn->in_process)
        acio__http_conn_flush(req->conn);
    return 0;
}

/* Wait while the transport's buffer is above its high-water mark. Coroutine. */
static int wait_writable(acio_http_request_t *req)
{
    srv_conn_t *c = req->conn;
    while (c->wpaused && !c->lost) {
        acio_future_t *w;
        int rc = acio_future_new(c->srv->loop, &w);
        if (rc < 0)
            return rc;
        acio_future_set_label(w, "http write");
        req->write_waiter = acio_future_ref(w);
        void *res = NULL;
        rc = acio_await(w, &res);
        if (req->write_waiter == w) {
            req->write_waiter = NULL;
            acio_future_unref(w);
        }
        acio_future_unref(w);
        if (rc < 0)
            return rc;
        if ((intptr_t)res < 0)
            return (int)(intptr_t)res;
    }
    return c->lost ? -ECONNRESET : 0;
}

int acio_http_write(acio_http_request_t *req, const void *buf, size_t len)
{
    if (!req || (!buf && len))
        return -EINVAL;
    if (!req->responded || !req->streaming)
        return ACIO_EHTTP_NOT_STARTED;
    srv_conn_t *c = req->conn;
    if (c->lost)
        return -ECONNRESET;
    if (req->ended)
        return req->is_head ? 0 : -EPIPE;
    if (!len)
        return 0;
    int rc = 0;
    if (req->chunked) {
        char line[24];
        int n = snprintf(line, sizeof line, "%zx\r\n", len);
        rc = acio__http_conn_out(c, line, (size_t)n);
        if (rc == 0)
            rc = write_body(req, buf, len);
        if (rc == 0)
            rc = acio__http_conn_out(c, "\r\n", 2);
    } else {
        rc = write_body(req, buf, len);
    }
    if (rc < 0)
        return rc;
    req->bytes_out += len;
    if (!c->in_process)
        acio__http_conn_flush(c);
    return wait_writable(req);
}

int acio_http_write_end(acio_http_request_t *req)
{
    if (!req)
        return -EINVAL;
    if (!req->responded || !req->streaming)
        return ACIO_EHTTP_NOT_STARTED;
    if (req->ended)
        return 0;
    req->ended = true;
    srv_conn_t *c = req->conn;
    if (c->lost)
        return -ECONNRESET;
    int rc = 0;
    if (req->chunked)
        rc = acio__http_conn_out(c, "0\r\n\r\n", 5);
    if (!c->in_process)
        acio__http_conn_flush(c);
    return rc;
}

/* ---- files ---- */

static const char *guess_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".xml", "application/xml"},
        {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},
        {".webp", "image/webp"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* sendfile(2) has no MSG_NOSIGNAL: a peer that reset would raise SIGPIPE and kill the
 * process. Block it on this thread around the call and consume the one raised, as
 * libcurl does. */
static ssize_t sendfile_nosignal(int sock, int fd, off_t *off, size_t count)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = sendfile(sock, fd, off, count);
    int saved = errno;
    if (n < 0 && errno == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

/* sendfile(2) straight to the socket: the transport's own buffer is empty and reading
 * is paused, so nothing else touches the socket meanwhile. Returns bytes sent or a
 * negative code (-ENOTSUP: not usable here, nothing sent). */
static ssize_t send_file_direct(acio_http_request_t *req, int fd, size_t size)
{
    srv_conn_t *c = req->conn;
    int sock = acio_transport_get_fd(c->t);
    if (sock < 0)
        return -ENOTSUP;
    bool paused_here = false;
    if (!c->rpaused) {
        acio_transport_pause_reading(c->t);
        c->rpaused = paused_here = true;
    }
    off_t off = 0;
    ssize_t rc = 0;
    while ((size_t)off < size) {
        ssize_t n = sendfile_nosignal(sock, fd, &off, size - (size_t)off);
        if (n > 0)
            continue;
        if (n == 0)
            break; /* the file shrank */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            double to = c->srv->cfg.write_timeout;
            double deadline = to > 0 ? acio_loop_time(c->srv->loop) + to : 0;
            int w = acio__wait_fd(c->srv->loop, sock, ACIO_WRITABLE, deadline);
            if (w < 0) {
                rc = w;
                break;
            }
            if (c->lost) {
                rc = -ECONNRESET;
                break;
            }
            continue;
        }
        rc = (errno == EINVAL || errno == ENOSYS) && off == 0 ? -ENOTSUP : -errno;
        break;
    }
    if (paused_here && !c->lost) {
        acio_transport_resume_reading(c->t);
        c->rpaused = false;
    }
    return rc < 0 ? rc : (ssize_t)off;
}

static ssize_t send_file_chunks(acio_http_request_t *req, int fd, size_t size)
{
    srv_conn_t *c = req->conn;
    enum { CHUNK = 64 * 1024 };
    char *buf = acio__malloc(CHUNK);
    if (!buf)
        return -ENOMEM;
    size_t off = 0;
    ssize_t rc = 0;
    while (off < size) {
        size_t want = size - off < CHUNK ? size - off : CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        if (c->lost) {
            rc = -ECONNRESET;
            break;
        }
        int w = acio_transport_write(c->t, buf, (size_t)n);
        if (w < 0) {
            rc = w;
            break;
        }
        off += (size_t)n;
        if ((w = wait_writable(req)) < 0) {
            rc = w;
            break;
        }
    }
    acio__free(buf);
    return rc < 0 ? rc : (ssize_t)off;
}

int acio_http_respond_file(acio_http_request_t *req, int status, const char *path,
                           const char *content_type)
{
    if (!req || !path)
        return -EINVAL;
    if (req->responded)
        return ACIO_EHTTP_RESPONDED;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
        close(fd);
        return e;
    }
    size_t size = (size_t)st.st_size;
    int rc = write_head(req, status, content_type ? content_type : guess_type(path), (int64_t)size);
    if (rc < 0 || req->is_head || !status_has_body(status) || size == 0) {
        req->ended = rc == 0;
        close(fd);
        if (!req->conn->in_process)
            acio__http_conn_flush(req->conn);
        return rc;
    }
    srv_conn_t *c = req->conn;
    acio__http_conn_flush(c);
    ssize_t n = -ENOTSUP;
    if (!c->is_tls && !c->lost && acio_transport_get_write_buffer_size(c->t) == 0 &&
        acio_current_task())
        n = send_file_direct(req, fd, size);
    if (n == -ENOTSUP)
        n = acio_current_task() ? send_file_chunks(req, fd, size) : -ENOTSUP;
    close(fd);
    req->ended = true;
    if (n >= 0)
        req->bytes_out = (uint64_t)n;
    if (n < 0 || (size_t)n != size) {
        /* The length was promised: a short body can only end with the connection. */
        req->keep_alive = false;
        if (!c->lost)
            acio__http_conn_close(c, true);
        return n < 0 ? (int)n : -EIO;
    }
    return 0;
}

/* ---- the end of a request ---- */

static int status_for_body_error(int code)
{
    if (code == ACIO_EHTTP_BODY_TOO_LARGE)
        return 413;
    if (code == ACIO_EHTTP_BODY_TIMEOUT)
        return 408;
    if (code == -ECONNRESET)
        return 0;
    return 400;
}

void acio__http_response_finish(acio_http_request_t *req)
{
    srv_conn_t *c = req->conn;
    acio_http_server_t *srv = c->srv;
    FILE *log = srv->log;
    bool failed = req->rc < 0 && req->rc != -ECANCELED;
    if (failed || (!req->responded && !req->body_error && req->rc == 0))
        fprintf(log, "acio http: %s %s: %s%s%s\n", req->method ? req->method : "-",
                req->target ? req->target : "-",
                req->rc < 0 ? acio_strerror(req->rc) : "the handler returned without a response",
                req->err_msg ? ": " : "", req->err_msg ? req->err_msg : "");
    if (!c->lost) {
        if (!req->responded) {
            int st = req->body_error ? status_for_body_error(req->body_error) : 500;
            if (req->rc == -ECANCELED)
                st = 503; /* cancelled by the server's shutdown */
            if (st)
                acio__http_respond_full(req, st, "text/plain; charset=utf-8", acio__http_reason(st),
                                        strlen(acio__http_reason(st)));
            else
                c->closing = true;
        } else if (req->streaming && !req->ended) {
            acio_http_write_end(req);
        }
        if (req->body_error)
            req->keep_alive = false;
    }
    if (srv->cfg.access_log)
        acio__http_access_log(req);
}

void acio__http_access_log(acio_http_request_t *req)
{
    srv_conn_t *c = req->conn;
    double ms = 0;
    if (req->start > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ms = ((double)ts.tv_sec + ts.tv_nsec / 1e9 - req->start) * 1e3;
    }
    fprintf(c->srv->log, "%s - \"%s %s HTTP/1.%d\" %d %llu %.3fms\n", acio__http_conn_peer(c),
            req->method ? req->method : "-", req->target ? req->target : "-",
            req->head.version_minor, req->responded ? req->status : 0,
            (unsigned long long)req->bytes_out, ms);
}
