/* The MariaDB/MySQL connection (acio/mysql.h): its configuration (parameters or a
 * mysql:// URL), connecting with mysql_real_connect_start/_cont, and the driver every
 * operation runs on: acio__mysql_wait turns the connector's "wait for READ/WRITE/
 * TIMEOUT" into one wait on acio's loop.
 *
 * The driver never abandons an operation the connector has started: its state lives on
 * the connector's own coroutine stack and must run to its end. A cancelled or timed-out
 * query is interrupted on the server instead (KILL QUERY from a second connection) and
 * read to its end; when that is not possible the socket is shut down, so the connector
 * fails at once on its next read or write and ends the operation, and the connection is
 * closed afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "mysql_int.h"
#include "net/fdwait.h"

static __thread char connect_error[512];
static __thread unsigned connect_errno;

const char *acio_mysql_connect_error(void)
{
    return connect_error;
}

unsigned acio_mysql_connect_errno(void)
{
    return connect_errno;
}

/* ---- configuration ---- */

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s into *pos (if non-NULL) and return the copy. */
static const char *put(char **pos, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = *pos;
    memcpy(d, s, n);
    *pos += n;
    return d;
}

int acio__mysql_conf_copy(acio__mysql_conf_t *dst, const acio_mysql_config_t *src)
{
    memset(dst, 0, sizeof(*dst));
    acio_mysql_config_t c = {0};
    if (src)
        c = *src;
    size_t n = slen(c.host) + slen(c.unix_socket) + slen(c.user) + slen(c.password) +
               slen(c.database) + slen(c.tls_ca) + slen(c.tls_cert) + slen(c.tls_key) + 1;
    dst->strings = acio__malloc(n);
    if (!dst->strings)
        return -ENOMEM;
    char *pos = dst->strings;
    dst->cfg = c;
    dst->cfg.host = put(&pos, c.host);
    dst->cfg.unix_socket = put(&pos, c.unix_socket);
    dst->cfg.user = put(&pos, c.user);
    dst->cfg.password = put(&pos, c.password);
    dst->cfg.database = put(&pos, c.database);
    dst->cfg.tls_ca = put(&pos, c.tls_ca);
    dst->cfg.tls_cert = put(&pos, c.tls_cert);
    dst->cfg.tls_key = put(&pos, c.tls_key);
    return 0;
}

void acio__mysql_conf_free(acio__mysql_conf_t *c)
{
    acio__free(c->strings);
    c->strings = NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a new string. */
static char *decode(const char *s, size_t n)
{
    char *d = acio__malloc(n + 1), *o = d;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return d;
}

int acio__mysql_conf_from_url(acio__mysql_conf_t *dst, const char *url)
{
    memset(dst, 0, sizeof(*dst));
    const char *p;
    if (!url)
        return -EINVAL;
    if (strncmp(url, "mysql://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "mariadb://", 10) == 0)
        p = url + 10;
    else
        return -EINVAL;
    /* Everything is decoded into parts[] (freed at the end), then copied by conf_copy. */
    enum { USER, PASS, HOST, DB, SOCK, CA, CERT, KEY, NPARTS };
    char *parts[NPARTS] = {0};
    acio_mysql_config_t c = {0};
    int rc = -EINVAL;
    const char *end = p + strcspn(p, "/?");
    const char *at = memchr(p, '@', (size_t)(end - p));
    /* The password may hold '@' only percent-encoded; the last '@' ends the user info. */
    for (const char *q = at; q && q < end; q = memchr(q + 1, '@', (size_t)(end - q - 1)))
        at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        parts[USER] = decode(p, ulen);
        if (!parts[USER])
            goto nomem;
        if (colon && !(parts[PASS] = decode(colon + 1, (size_t)(at - colon - 1))))
            goto nomem;
        p = at + 1;
    }
    const char *hend = end, *colon = NULL;
    if (*p == '[') { /* [::1]:3306 */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            goto out;
        parts[HOST] = decode(p + 1, (size_t)(rb - p - 1));
        if (!parts[HOST])
            goto nomem;
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
        if (hend > p && !(parts[HOST] = decode(p, (size_t)(hend - p))))
            goto nomem;
    }
    if (colon) {
        char *e = NULL;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535)
            goto out;
        c.port = (unsigned)port;
    }
    p = end;
    if (*p == '/') {
        p++;
        size_t n = strcspn(p, "?");
        if (n > 0 && !(parts[DB] = decode(p, n)))
            goto nomem;
        p += n;
    }
    if (*p == '?') {
        p++;
        while (*p) {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            if (!eq)
                goto out;
            size_t kl = (size_t)(eq - p);
            char *val = decode(eq + 1, n - kl - 1);
            if (!val)
                goto nomem;
            int slot = -1;
            if (kl == 11 && strncmp(p, "unix_socket", kl) == 0)
                slot = SOCK;
            else if (kl == 6 && strncmp(p, "ssl_ca", kl) == 0)
                slot = CA;
            else if (kl == 8 && strncmp(p, "ssl_cert", kl) == 0)
                slot = CERT;
            else if (kl == 7 && strncmp(p, "ssl_key", kl) == 0)
                slot = KEY;
            else if (kl == 3 && strncmp(p, "ssl", kl) == 0) {
                if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
                    c.tls = true;
                } else if (strcmp(val, "verify") == 0) {
                    c.tls = c.tls_verify = true;
                } else if (strcmp(val, "false") != 0 && strcmp(val, "0") != 0) {
                    acio__free(val);
                    goto out;
                }
            } else {
                acio__free(val);
                goto out; /* an unknown option is a mistake worth hearing about */
            }
            if (slot >= 0) {
                acio__free(parts[slot]);
                parts[slot] = val;
            } else {
                acio__free(val);
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    c.user = parts[USER];
    c.password = parts[PASS];
    c.host = parts[HOST];
    c.database = parts[DB];
    c.unix_socket = parts[SOCK];
    c.tls_ca = parts[CA];
    c.tls_cert = parts[CERT];
    c.tls_key = parts[KEY];
    rc = acio__mysql_conf_copy(dst, &c);
    goto out;
nomem:
    rc = -ENOMEM;
out:
    for (int i = 0; i < NPARTS; i++)
        acio__free(parts[i]);
    return rc;
}

/* ---- the driver ---- */

void acio__mysql_record(acio_mysql_t *c, unsigned err, const char *state, const char *msg)
{
    c->err_errno = err;
    snprintf(c->err_sqlstate, sizeof(c->err_sqlstate), "%s", state ? state : "");
    snprintf(c->err_message, sizeof(c->err_message), "%s", msg ? msg : "");
}

bool acio__mysql_errno_is_lost(unsigned err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONN_HOST_ERROR ||
           err == CR_SERVER_LOST_EXTENDED || err == CR_CONNECTION_ERROR ||
           err == ER_CONNECTION_KILLED || err == CR_SSL_CONNECTION_ERROR;
}

/* Give up on the operation's socket: shut it down, so the connector's next read or
 * write fails at once and it ends the operation by itself. */
static void doom(acio_mysql_t *c)
{
    if (!c->doomed) {
        c->doomed = true;
        int fd = mysql_get_socket(c->my);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
}

/* Ask the server to interrupt c's query, from a second connection. */
static int kill_query(acio_mysql_t *c)
{
    unsigned long id = mysql_thread_id(c->my);
    if (id == 0)
        return ACIO_EMYSQL_CONNECTION;
    acio_mysql_opts_t o = {.connect_timeout = c->opts.drain_timeout, .stmt_cache_size = -1};
    acio_mysql_t *k = NULL;
    /* The connect below records its own errors in the thread's connect error: keep the
     * caller's. */
    char saved[sizeof(connect_error)];
    unsigned saved_errno = connect_errno;
    memcpy(saved, connect_error, sizeof(saved));
    int rc = acio_mysql_connect(&k, &c->conf.cfg, &o);
    memcpy(connect_error, saved, sizeof(saved));
    connect_errno = saved_errno;
    if (rc < 0)
        return rc;
    char sql[48];
    snprintf(sql, sizeof(sql), "KILL QUERY %lu", id);
    rc = acio_mysql_query(k, sql, NULL);
    acio_mysql_close(k);
    return rc;
}

int acio__mysql_wait(acio_mysql_t *c, int status)
{
    const int io = MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT;
    for (;;) {
        int fd = mysql_get_socket(c->my);
        if (c->doomed || fd < 0) {
            doom(c);
            /* The socket is dead: report a timeout, which the connector turns into an
             * error at once (a read on the shut-down socket would do the same). */
            return (status & io) | MYSQL_WAIT_TIMEOUT;
        }
        double now = acio_loop_time(c->loop);
        double theirs = 0;
        if (status & MYSQL_WAIT_TIMEOUT)
            theirs = now + mysql_get_timeout_value_ms(c->my) / 1000.0;
        double dl = c->deadline;
        if (theirs > 0 && (dl <= 0 || theirs < dl))
            dl = theirs;
        int events = 0;
        if (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
            events |= ACIO_READABLE;
        if (status & MYSQL_WAIT_WRITE)
            events |= ACIO_WRITABLE;
        int rc;
        if (events) {
            rc = acio__wait_fd(c->loop, fd, events, dl);
        } else {
            rc = acio_sleep(dl > 0 ? dl - now : 0);
            if (rc == 0 && theirs > 0)
                rc = -ETIMEDOUT;
        }
        if (rc == 0)
            return status & io;
        if (rc == -ETIMEDOUT && theirs > 0 && theirs == dl)
            return MYSQL_WAIT_TIMEOUT; /* the connector's own timer */
        if ((rc == -ECANCELED || rc == -ETIMEDOUT) && !c->interrupted) {
            c->interrupted = rc;
            if (c->killable) {
                /* Interrupt it on the server, then read it to its end (bounded). */
                c->deadline = 0;
                if (kill_query(c) == 0) {
                    c->deadline = acio_loop_time(c->loop) + c->opts.drain_timeout;
                    continue;
                }
            }
        } else if (!c->interrupted) {
            c->interrupted = rc == -ENOMEM ? rc : ACIO_EMYSQL_CONNECTION;
        }
        doom(c);
    }
}

int acio__mysql_begin(acio_mysql_t *c)
{
    if (!c)
        return -EINVAL;
    acio_loop_t *loop = c->loop;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (c->busy)
        return ACIO_EMYSQL_BUSY;
    if (!c->my)
        return ACIO_EMYSQL_CONNECTION;
    c->err_errno = 0;
    c->err_sqlstate[0] = c->err_message[0] = '\0';
    c->busy = true;
    c->killable = true;
    c->interrupted = 0;
    c->doomed = false;
    c->deadline = c->opts.query_timeout > 0 ? acio_loop_time(c->loop) + c->opts.query_timeout : 0;
    return 0;
}

void acio__mysql_lose(acio_mysql_t *c)
{
    if (!c->my)
        return;
    if (!c->err_message[0])
        acio__mysql_record(c, mysql_errno(c->my), mysql_sqlstate(c->my),
                           mysql_error(c->my)[0] ? mysql_error(c->my)
                                                 : "the connection was closed");
    int fd = mysql_get_socket(c->my);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR); /* mysql_close's COM_QUIT fails at once, never waits */
    mysql_close(c->my);
    c->my = NULL;
    acio__mysql_stmts_drop(c);
}

int acio__mysql_end(acio_mysql_t *c, int rc)
{
    int intr = c->interrupted;
    bool doomed = c->doomed;
    c->busy = false;
    c->interrupted = 0;
    c->doomed = false;
    c->killable = false;
    if (c->my && (doomed || rc == ACIO_EMYSQL_CONNECTION || mysql_get_socket(c->my) < 0)) {
        acio__mysql_lose(c);
        if (rc == 0 || rc == ACIO_EMYSQL_SERVER)
            rc = ACIO_EMYSQL_CONNECTION;
    }
    if (c->my)
        c->last_used = acio_loop_time(c->loop);
    if (intr == -ECANCELED || intr == -ETIMEDOUT || intr == -ENOMEM)
        return intr;
    return rc;
}

/* ---- connecting ---- */

static int connect_conf(acio_mysql_t **out, const acio__mysql_conf_t *conf,
                        const acio_mysql_opts_t *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    connect_error[0] = '\0';
    connect_errno = 0;
    acio_loop_t *loop = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    acio_mysql_t *c = acio__calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    if (opts)
        c->opts = *opts;
    if (c->opts.connect_timeout <= 0)
        c->opts.connect_timeout = 10;
    if (c->opts.drain_timeout <= 0)
        c->opts.drain_timeout = 5;
    if (c->opts.stmt_cache_size == 0)
        c->opts.stmt_cache_size = 64;
    rc = acio__mysql_conf_copy(&c->conf, &conf->cfg);
    if (rc < 0) {
        acio__free(c);
        return rc;
    }
    const acio_mysql_config_t *cfg = &c->conf.cfg;
    c->my = mysql_init(NULL);
    if (!c->my || mysql_options(c->my, MYSQL_OPT_NONBLOCK, 0) != 0 ||
        mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) {
        snprintf(connect_error, sizeof(connect_error), "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    if (cfg->tls) {
        my_bool on = 1, verify = cfg->tls_verify;
        if (mysql_ssl_set(c->my, cfg->tls_key, cfg->tls_cert, cfg->tls_ca, NULL, NULL) != 0 ||
            mysql_options(c->my, MYSQL_OPT_SSL_ENFORCE, &on) != 0 ||
            mysql_options(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) != 0) {
            snprintf(connect_error, sizeof(connect_error), "out of memory");
            rc = -ENOMEM;
            goto fail;
        }
    }
    const char *host = cfg->host && cfg->host[0] ? cfg->host : "127.0.0.1";
    if (cfg->unix_socket && cfg->unix_socket[0])
        host = "localhost"; /* the connector's word for "use the socket" */
    c->busy = true;
    c->killable = false;
    c->deadline = acio_loop_time(loop) + c->opts.connect_timeout;
    MYSQL *ret = NULL;
    int st = mysql_real_connect_start(&ret, c->my, host, cfg->user, cfg->password, cfg->database,
                                      cfg->port ? cfg->port : 3306, cfg->unix_socket,
                                      CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS);
    ACIO__MYSQL_DRIVE(c, st, mysql_real_connect_cont(&ret, c->my, ev_));
    c->busy = false;
    if (!ret || c->interrupted) {
        if (c->interrupted == -ECANCELED || c->interrupted == -ETIMEDOUT ||
            c->interrupted == -ENOMEM) {
            rc = c->interrupted;
            snprintf(connect_error, sizeof(connect_error), "%s",
                     rc == -ETIMEDOUT ? "timeout expired while connecting" : acio_strerror(rc));
        } else {
            rc = ACIO_EMYSQL_CONNECT;
            connect_errno = mysql_errno(c->my);
            snprintf(connect_error, sizeof(connect_error), "%s", mysql_error(c->my));
            if (connect_errno == CR_OUT_OF_MEMORY)
                rc = -ENOMEM;
        }
        goto fail;
    }
    c->interrupted = 0;
    c->doomed = false;
    c->last_used = acio_loop_time(loop);
    *out = c;
    return 0;
fail:
    if (c->my) {
        int fd = mysql_get_socket(c->my);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        mysql_close(c->my);
    }
    acio__mysql_conf_free(&c->conf);
    acio__free(c);
    return rc;
}

int acio_mysql_connect(acio_mysql_t **out, const acio_mysql_config_t *cfg,
                       const acio_mysql_opts_t *opts)
{
    acio__mysql_conf_t conf = {.cfg = cfg ? *cfg : (acio_mysql_config_t){0}};
    return connect_conf(out, &conf, opts);
}

int acio_mysql_connect_url(acio_mysql_t **out, const char *url, const acio_mysql_opts_t *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    acio__mysql_conf_t conf;
    int rc = acio__mysql_conf_from_url(&conf, url);
    if (rc < 0) {
        snprintf(connect_error, sizeof(connect_error), "%s",
                 rc == -EINVAL ? "the URL is not mysql://user:password@host:port/db[?options]"
                               : "out of memory");
        return rc;
    }
    rc = connect_conf(out, &conf, opts);
    acio__mysql_conf_free(&conf);
    return rc;
}

void acio_mysql_close(acio_mysql_t *c)
{
    if (!c)
        return;
    if (c->my) {
        if (c->busy || c->doomed) {
            int fd = mysql_get_socket(c->my);
            if (fd >= 0)
                shutdown(fd, SHUT_RDWR);
        }
        mysql_close(c->my); /* detaches the statements; freeing them is then local */
    }
    acio__mysql_stmts_drop(c);
    acio__mysql_conf_free(&c->conf);
    acio__free(c);
}

bool acio_mysql_is_connected(const acio_mysql_t *c)
{
    return c && c->my && mysql_get_socket(c->my) >= 0;
}

bool acio_mysql_is_busy(const acio_mysql_t *c)
{
    return c && c->busy;
}

bool acio_mysql_in_transaction(const acio_mysql_t *c)
{
    unsigned status = 0;
    if (!c || !c->my || mariadb_get_infov(c->my, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0)
        return false;
    return (status & SERVER_STATUS_IN_TRANS) != 0;
}

unsigned long acio_mysql_thread_id(const acio_mysql_t *c)
{
    return c && c->my ? mysql_thread_id(c->my) : 0;
}

const char *acio_mysql_server_info(const acio_mysql_t *c)
{
    return c && c->my ? mysql_get_server_info(c->my) : "";
}

bool acio_mysql_is_tls(const acio_mysql_t *c)
{
    return c && c->my && mysql_get_ssl_cipher(c->my) != NULL;
}

void acio_mysql_set_query_timeout(acio_mysql_t *c, double seconds)
{
    if (c)
        c->opts.query_timeout = seconds;
}

const char *acio_mysql_error_message(const acio_mysql_t *c)
{
    return c ? c->err_message : "";
}

unsigned acio_mysql_error_errno(const acio_mysql_t *c)
{
    return c ? c->err_errno : 0;
}

const char *acio_mysql_error_sqlstate(const acio_mysql_t *c)
{
    return c ? c->err_sqlstate : "";
}
