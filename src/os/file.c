/* Asynchronous files (aiofiles): every operation is a job run against a stdio stream on
 * the file layer's thread pool (worker.c), while the calling task awaits its future.
 *
 * Ordering: a file runs one job at a time, in call order. Tasks queue on the file's own
 * FIFO; the file stays busy until the job has really finished on its thread, not merely
 * until the waiting task gave up (a cancelled task must not let the next job overlap a
 * write still in progress). When a job finishes, the file is handed directly to the next
 * queued task, so a newcomer cannot overtake the queue.
 *
 * Memory: a job is shared by the task and the worker (refs = 2). Results are copied out
 * by the task only if its await succeeded; a cancelled task just drops its reference and
 * the job's done callback frees what the worker produced. Nothing on the task's stack is
 * ever touched by a worker. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/os_internal.h"

typedef struct queued_s {
    struct queued_s *next;
    acio_future_t *fut;
    bool granted; /* the file was handed to this waiter */
} queued_t;

struct acio_file_s {
    acio_loop_t *loop;
    FILE *fp;
    int fd;
    char *path;
    bool readable, writable;
    bool closing; /* close() was called: no new operation may start */
    bool busy;    /* a job runs (or the file was handed to a queued task) */
    queued_t *head, *tail;
    acio_future_t *close_fut; /* finished with the close's error code as its result */
    void *data;               /* the user's slot */
    bool regular;             /* a regular file: stdio buffers it fully */
};

typedef enum {
    OP_OPEN,
    OP_READ,
    OP_READ_ALL,
    OP_READLINE,
    OP_WRITE,
    OP_SEEK,
    OP_TELL,
    OP_FLUSH,
    OP_TRUNCATE,
    OP_FSYNC,
    OP_CLOSE,
} op_t;

typedef struct {
    acio_file_t *f;
    op_t op;
    int refs;
    bool submitted; /* reached the worker queue: job_done will run */
    /* in */
    int oflags;
    const char *fmode;
    char *buf;  /* write data, or read destination (job-owned) */
    size_t len; /* write length, or read size */
    off_t off;
    int whence;
    /* out */
    int err;
    size_t got;
    off_t pos;
} job_t;

static void file_free(acio_file_t *f)
{
    acio__free(f->path);
    acio__free(f);
}

static void job_unref(job_t *j)
{
    if (--j->refs > 0)
        return;
    if (j->op == OP_OPEN && j->f) {
        /* An open whose task gave up (cancelled, or failed): nobody else will ever see
         * this file. A freshly opened stream has nothing buffered, so closing it here
         * does not block. */
        if (j->f->fp)
            fclose(j->f->fp);
        file_free(j->f);
    }
    free(j->buf);
    acio__free(j);
}

/* ---- the blocking side, on a worker thread ---- */

static int flush_error(FILE *fp)
{
    return fflush(fp) == 0 ? 0 : -errno;
}

static void *run_job(void *arg)
{
    job_t *j = arg;
    acio_file_t *f = j->f;
    FILE *fp = f->fp;
    switch (j->op) {
    case OP_OPEN: {
        int fd = open(f->path, j->oflags | O_CLOEXEC, 0666);
        if (fd < 0) {
            j->err = -errno;
            break;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
            st.st_mode = 0;
        if (S_ISDIR(st.st_mode)) {
            /* open(2) lets O_RDONLY open a directory; Python refuses it. */
            close(fd);
            j->err = -EISDIR;
            break;
        }
        f->fp = fdopen(fd, j->fmode);
        if (!f->fp) {
            j->err = -errno;
            close(fd);
            break;
        }
        f->fd = fd;
        f->regular = S_ISREG(st.st_mode);
        break;
    }
    case OP_READ:
        j->got = fread(j->buf, 1, j->len, fp);
        if (j->got < j->len && ferror(fp)) {
            j->err = errno ? -errno : -EIO;
            clearerr(fp);
        }
        break;
    case OP_READ_ALL: {
        size_t cap = 0, len = 0;
        char *buf = NULL;
        for (;;) {
            if (cap - len < 4096) {
                cap = cap ? 2 * cap : 8192;
                char *nb = realloc(buf, cap + 1);
                if (!nb) {
                    j->err = -ENOMEM;
                    break;
                }
                buf = nb;
            }
            size_t n = fread(buf + len, 1, cap - len, fp);
            len += n;
            if (n == 0 || feof(fp) || ferror(fp))
                break;
        }
        if (!j->err && ferror(fp)) {
            j->err = errno ? -errno : -EIO;
            clearerr(fp);
        }
        if (j->err) {
            free(buf);
            break;
        }
        if (!buf)
            buf = malloc(1);
        if (!buf) {
            j->err = -ENOMEM;
            break;
        }
        buf[len] = '\0';
        j->buf = buf;
        j->got = len;
        break;
    }
    case OP_READLINE: {
        char *line = NULL;
        size_t cap = 0;
        errno = 0;
        ssize_t n = getline(&line, &cap, fp);
        if (n < 0) {
            if (ferror(fp)) {
                j->err = errno ? -errno : -EIO;
                clearerr(fp);
                free(line);
                break;
            }
            if (!line && !(line = malloc(1))) {
                j->err = -ENOMEM;
                break;
            }
            line[0] = '\0';
            n = 0;
        }
        j->buf = line;
        j->got = (size_t)n;
        break;
    }
    case OP_WRITE:
        if (fwrite(j->buf, 1, j->len, fp) < j->len) {
            j->err = errno ? -errno : -EIO;
            clearerr(fp);
        }
        break;
    case OP_SEEK:
        if (fseeko(fp, j->off, j->whence) < 0)
            j->err = -errno;
        else if ((j->pos = ftello(fp)) < 0)
            j->err = -errno;
        break;
    case OP_TELL:
        if ((j->pos = ftello(fp)) < 0)
            j->err = -errno;
        break;
    case OP_FLUSH:
        j->err = flush_error(fp);
        break;
    case OP_TRUNCATE: {
        j->err = flush_error(fp);
        off_t size = j->off;
        if (!j->err && size < 0 && (size = ftello(fp)) < 0)
            j->err = -errno;
        if (!j->err && ftruncate(f->fd, size) < 0)
            j->err = -errno;
        break;
    }
    case OP_FSYNC:
        j->err = flush_error(fp);
        if (!j->err && fsync(f->fd) < 0)
            j->err = -errno;
        break;
    case OP_CLOSE:
        /* fclose flushes; its error is the write error nobody has seen yet. */
        j->err = fclose(fp) == 0 ? 0 : -errno;
        f->fp = NULL;
        break;
    }
    return NULL;
}

/* ---- the loop side ---- */

static void start_close(acio_file_t *f);

/* The file's turn passes to the next queued task; with nobody queued, a requested close
 * starts, or the file becomes idle. */
static void release(acio_file_t *f)
{
    queued_t *q = f->head;
    if (!q) {
        if (f->closing)
            start_close(f);
        else
            f->busy = false;
        return;
    }
    f->head = q->next;
    if (!f->head)
        f->tail = NULL;
    q->granted = true;
    if (!acio_future_done(q->fut))
        acio_future_set_result(q->fut, NULL);
}

/* Wait for the file's turn. On success the caller owns the file (busy). */
static int acquire(acio_file_t *f)
{
    if (!f->busy) {
        f->busy = true;
        return 0;
    }
    queued_t q = {0};
    int rc = acio_future_new(f->loop, &q.fut);
    if (rc < 0)
        return rc;
    acio_future_set_label(q.fut, "file.queue");
    if (f->tail)
        f->tail->next = &q;
    else
        f->head = &q;
    f->tail = &q;
    rc = acio_await(q.fut, NULL);
    acio_future_unref(q.fut);
    if (rc == 0 && q.granted)
        return 0;
    if (q.granted) {
        /* Cancelled after the file was handed to us: pass it on. */
        release(f);
        return rc;
    }
    queued_t *prev = NULL;
    for (queued_t *p = f->head; p; prev = p, p = p->next) {
        if (p == &q) {
            if (prev)
                prev->next = q.next;
            else
                f->head = q.next;
            if (f->tail == &q)
                f->tail = prev;
            break;
        }
    }
    return rc < 0 ? rc : -EINVAL;
}

/* On the loop's thread, once the worker has finished the job, whoever was waiting. */
static void job_done(void *arg)
{
    job_t *j = arg;
    acio_file_t *f = j->f;
    if (j->op == OP_CLOSE) {
        if (f->close_fut) {
            if (!acio_future_done(f->close_fut))
                acio_future_set_result(f->close_fut, (void *)(intptr_t)j->err);
            acio_future_unref(f->close_fut);
        }
        file_free(f);
        j->f = NULL;
    } else if (j->op != OP_OPEN) {
        release(f);
    }
    job_unref(j);
}

static void start_close(acio_file_t *f)
{
    f->busy = true;
    job_t *j = acio__calloc(1, sizeof *j);
    acio_future_t *fut = NULL;
    if (j) {
        j->f = f;
        j->op = OP_CLOSE;
        j->refs = 1; /* the worker's only: the closing task waits on f->close_fut */
        if (acio__work_submit(f->loop, run_job, j, job_done, &fut) == 0) {
            acio_future_unref(fut);
            return;
        }
        acio__free(j);
    }
    /* No memory or no thread: close here rather than leak the file. */
    int err = fclose(f->fp) == 0 ? 0 : -errno;
    if (f->close_fut) {
        if (!acio_future_done(f->close_fut))
            acio_future_set_result(f->close_fut, (void *)(intptr_t)err);
        acio_future_unref(f->close_fut);
    }
    file_free(f);
}

/* Run j on a worker and wait for it: the job's error, or the await's. The caller keeps
 * its reference to j. */
static int run(job_t *j)
{
    acio_future_t *fut;
    int rc = acio__work_submit(j->f->loop, run_job, j, job_done, &fut);
    if (rc < 0)
        return rc;
    j->submitted = true;
    j->refs++; /* job_done's */
    rc = acio_await(fut, NULL);
    acio_future_unref(fut);
    return rc < 0 ? rc : j->err;
}

static job_t *job_new(acio_file_t *f, op_t op)
{
    job_t *j = acio__calloc(1, sizeof *j);
    if (j) {
        j->f = f;
        j->op = op;
        j->refs = 1;
    }
    return j;
}

static int check(const acio_file_t *f, bool need_read, bool need_write)
{
    if (!f)
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (f->closing)
        return -EBADF;
    if ((need_read && !f->readable) || (need_write && !f->writable))
        return -EBADF;
    return 0;
}

/* Take the file's turn, run j, wait. On success returns j (the caller reads its results
 * and unrefs it); on failure releases j and returns NULL with *rc set. */
static job_t *do_op(acio_file_t *f, job_t *j, int *rc)
{
    if (!j) {
        *rc = -ENOMEM;
        return NULL;
    }
    *rc = acquire(f);
    if (*rc < 0) {
        job_unref(j);
        return NULL;
    }
    *rc = run(j);
    if (*rc < 0 && !j->submitted)
        release(f); /* never reached a worker: the turn is still ours to pass on */
    if (*rc < 0) {
        job_unref(j);
        return NULL;
    }
    return j;
}

/* Python's mode string to open(2) flags and the matching fdopen mode. */
static int parse_mode(const char *mode, int *oflags, const char **fmode, bool *rd, bool *wr)
{
    int kind = 0, plus = 0, bin = 0, text = 0;
    for (const char *c = mode; *c; c++) {
        switch (*c) {
        case 'r':
        case 'w':
        case 'a':
        case 'x':
            if (kind)
                return -EINVAL;
            kind = *c;
            break;
        case '+':
            if (plus++)
                return -EINVAL;
            break;
        case 'b':
            if (bin++)
                return -EINVAL;
            break;
        case 't':
            if (text++)
                return -EINVAL;
            break;
        default:
            return -EINVAL;
        }
    }
    if (!kind || (bin && text))
        return -EINVAL;
    int access = plus ? O_RDWR : (kind == 'r' ? O_RDONLY : O_WRONLY);
    switch (kind) {
    case 'r':
        *oflags = access;
        *fmode = plus ? "r+" : "r";
        break;
    case 'w':
        *oflags = access | O_CREAT | O_TRUNC;
        *fmode = plus ? "w+" : "w";
        break;
    case 'a':
        *oflags = access | O_CREAT | O_APPEND;
        *fmode = plus ? "a+" : "a";
        break;
    default: /* 'x' */
        *oflags = access | O_CREAT | O_EXCL;
        *fmode = plus ? "w+" : "w";
        break;
    }
    *rd = kind == 'r' || plus;
    *wr = kind != 'r' || plus;
    return 0;
}

int acio_file_open(acio_file_t **out, const char *path, const char *mode)
{
    if (!out || !path || !mode)
        return -EINVAL;
    acio_loop_t *loop = acio_get_running_loop();
    if (!loop || !acio_current_task())
        return ACIO_ENOTASK;
    int oflags;
    const char *fmode;
    bool rd, wr;
    if (parse_mode(mode, &oflags, &fmode, &rd, &wr) < 0)
        return -EINVAL;
    acio_file_t *f = acio__calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->loop = loop;
    f->fd = -1;
    f->readable = rd;
    f->writable = wr;
    f->busy = true; /* nobody else can see f yet */
    f->path = acio__strdup(path);
    job_t *j = f->path ? job_new(f, OP_OPEN) : NULL;
    if (!j) {
        file_free(f);
        return -ENOMEM;
    }
    j->oflags = oflags;
    j->fmode = fmode;
    int rc = run(j);
    if (rc == 0) {
        j->f = NULL; /* the caller's now; otherwise job_unref closes and frees it */
        f->busy = false;
        *out = f;
    }
    job_unref(j);
    return rc;
}

/* ---- the buffer fast path ----
 *
 * An operation that the stdio buffer can serve alone — a write that fits in the room left
 * in the buffer, a read or readline whose bytes (newline included) are already buffered
 * — makes no system call, so it cannot block: it runs right here on the loop's thread,
 * without a round trip to a worker (which costs two thread wake-ups). Only when the file
 * is idle (no job running, nobody queued), so call order is kept and no worker touches
 * the stream at the same time; only for regular files opened one way, so the stream is
 * fully buffered and never switches between reading and writing. The buffer pointers
 * are the glibc FILE fields that its own putc/getc macros use. */

#if defined(__GLIBC__)
static bool fast_ok(const acio_file_t *f, bool reading)
{
    return f->regular && !f->busy && f->fp && (reading ? !f->writable : !f->readable);
}

static size_t write_room(const acio_file_t *f)
{
    /* Zero before the first write (no buffer yet) and for line-buffered streams. */
    const FILE *fp = f->fp;
    return fp->_IO_write_ptr && fp->_IO_write_end > fp->_IO_write_ptr
               ? (size_t)(fp->_IO_write_end - fp->_IO_write_ptr)
               : 0;
}

static size_t read_buffered(const acio_file_t *f, const char **at)
{
    const FILE *fp = f->fp;
    *at = fp->_IO_read_ptr;
    return fp->_IO_read_ptr && fp->_IO_read_end > fp->_IO_read_ptr
               ? (size_t)(fp->_IO_read_end - fp->_IO_read_ptr)
               : 0;
}
#else
static bool fast_ok(const acio_file_t *f, bool reading)
{
    (void)f;
    (void)reading;
    return false;
}
static size_t write_room(const acio_file_t *f)
{
    (void)f;
    return 0;
}
static size_t read_buffered(const acio_file_t *f, const char **at)
{
    (void)f;
    *at = NULL;
    return 0;
}
#endif

/* A write that fits strictly inside the buffer (filling it exactly would flush). */
static bool fast_write(acio_file_t *f, const void *data, size_t len)
{
    if (!fast_ok(f, false) || len >= write_room(f))
        return false;
    return fwrite(data, 1, len, f->fp) == len;
}

int acio_file_read(acio_file_t *f, void *buf, size_t n, size_t *nread)
{
    int rc = check(f, true, false);
    if (rc == 0 && ((!buf && n) || !nread))
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    *nread = 0;
    if (n == 0)
        return 0;
    const char *at;
    if (fast_ok(f, true) && n <= read_buffered(f, &at)) {
        *nread = fread(buf, 1, n, f->fp);
        return 0;
    }
    job_t *j = job_new(f, OP_READ);
    if (j && !(j->buf = malloc(n))) {
        job_unref(j);
        j = NULL;
    }
    if (j)
        j->len = n;
    if (!(j = do_op(f, j, &rc)))
        return rc;
    memcpy(buf, j->buf, j->got);
    *nread = j->got;
    job_unref(j);
    return 0;
}

/* Hand a job's malloc'd buffer to the caller. */
static void give(job_t *j, char **out, size_t *len)
{
    *out = j->buf;
    j->buf = NULL;
    if (len)
        *len = j->got;
}

int acio_file_read_all(acio_file_t *f, char **data, size_t *len)
{
    int rc = check(f, true, false);
    if (rc == 0 && !data)
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    job_t *j = do_op(f, job_new(f, OP_READ_ALL), &rc);
    if (!j)
        return rc;
    give(j, data, len);
    job_unref(j);
    return 0;
}

int acio_file_readline(acio_file_t *f, char **line, size_t *len)
{
    int rc = check(f, true, false);
    if (rc == 0 && !line)
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    const char *at;
    size_t avail = fast_ok(f, true) ? read_buffered(f, &at) : 0;
    if (avail && memchr(at, '\n', avail)) {
        /* The whole line is buffered: getline will not read(2). */
        char *s = NULL;
        size_t cap = 0;
        ssize_t n = getline(&s, &cap, f->fp);
        if (n > 0) {
            *line = s;
            if (len)
                *len = (size_t)n;
            return 0;
        }
        free(s);
        return -ENOMEM;
    }
    job_t *j = do_op(f, job_new(f, OP_READLINE), &rc);
    if (!j)
        return rc;
    give(j, line, len);
    job_unref(j);
    return 0;
}

int acio_file_next_line(acio_file_t *f, char **line, size_t *len)
{
    size_t n = 0;
    int rc = acio_file_readline(f, line, &n);
    if (rc == 0 && n == 0) {
        free(*line);
        *line = NULL;
        rc = ACIO_ESTOPASYNCITERATION;
    }
    if (len)
        *len = n;
    return rc;
}

/* Write a buffer the job takes over (freed with the job). */
static int write_owned(acio_file_t *f, char *data, size_t len)
{
    job_t *j = job_new(f, OP_WRITE);
    if (!j) {
        free(data);
        return -ENOMEM;
    }
    j->buf = data;
    j->len = len;
    int rc;
    if ((j = do_op(f, j, &rc)))
        job_unref(j);
    return rc;
}

int acio_file_write(acio_file_t *f, const void *data, size_t len)
{
    int rc = check(f, false, true);
    if (rc == 0 && !data && len)
        rc = -EINVAL;
    if (rc < 0 || len == 0)
        return rc;
    if (fast_write(f, data, len))
        return 0;
    /* Copied: a cancelled caller may reuse its buffer while the worker still writes. */
    char *copy = malloc(len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, data, len);
    return write_owned(f, copy, len);
}

int acio_file_writef(acio_file_t *f, const char *fmt, ...)
{
    int rc = check(f, false, true);
    if (rc == 0 && !fmt)
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    if (n == 0 || fast_write(f, s, (size_t)n)) {
        free(s);
        return 0;
    }
    return write_owned(f, s, (size_t)n);
}

int acio_file_seek(acio_file_t *f, off_t offset, int whence, off_t *pos)
{
    int rc = check(f, false, false);
    if (rc == 0 && whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    job_t *j = job_new(f, OP_SEEK);
    if (j) {
        j->off = offset;
        j->whence = whence;
    }
    if (!(j = do_op(f, j, &rc)))
        return rc;
    if (pos)
        *pos = j->pos;
    job_unref(j);
    return 0;
}

int acio_file_tell(acio_file_t *f, off_t *pos)
{
    int rc = check(f, false, false);
    if (rc == 0 && !pos)
        rc = -EINVAL;
    if (rc < 0)
        return rc;
    job_t *j = do_op(f, job_new(f, OP_TELL), &rc);
    if (!j)
        return rc;
    *pos = j->pos;
    job_unref(j);
    return 0;
}

static int simple_op(acio_file_t *f, op_t op, off_t off, bool need_write)
{
    int rc = check(f, false, need_write);
    if (rc < 0)
        return rc;
    job_t *j = job_new(f, op);
    if (j)
        j->off = off;
    if ((j = do_op(f, j, &rc)))
        job_unref(j);
    return rc;
}

int acio_file_flush(acio_file_t *f)
{
    return simple_op(f, OP_FLUSH, 0, false);
}
int acio_file_fsync(acio_file_t *f)
{
    return simple_op(f, OP_FSYNC, 0, false);
}
int acio_file_truncate(acio_file_t *f, off_t size)
{
    return simple_op(f, OP_TRUNCATE, size, true);
}

int acio_file_close(acio_file_t *f)
{
    if (!f)
        return 0;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (f->closing)
        return -EBADF;
    f->closing = true;
    acio_future_t *fut = NULL;
    if (acio_future_new(f->loop, &fut) == 0) {
        acio_future_set_label(fut, "file.close");
        f->close_fut = acio_future_ref(fut);
    }
    if (!f->busy)
        start_close(f); /* may free f at once */
    if (!fut)
        return -ENOMEM; /* the close still happens, in the background */
    void *res = NULL;
    int rc = acio_await(fut, &res);
    acio_future_unref(fut);
    return rc < 0 ? rc : (int)(intptr_t)res;
}

const char *acio_file_name(const acio_file_t *f)
{
    return f ? f->path : NULL;
}
int acio_file_fileno(const acio_file_t *f)
{
    return f ? f->fd : -1;
}

void acio_file_set_data(acio_file_t *f, void *data)
{
    if (f)
        f->data = data;
}

void *acio_file_get_data(const acio_file_t *f)
{
    return f ? f->data : NULL;
}
