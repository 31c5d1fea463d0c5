/* StreamReader, StreamWriter and the protocol joining them to a transport (asyncio's
 * StreamReaderProtocol), in one object per connection. The reader's reading coroutines
 * are in stream_read.c.
 *
 * The protocol is a buffered one: the transport receives straight into the reader's
 * buffer (get_buffer / buffer_updated), so bytes are copied once, from the buffer into
 * the caller's memory by read(). The buffer is kept between messages (no allocation per
 * message in steady state) and only allocated once data first arrives, so an idle
 * connection costs just this struct.
 *
 * Reading pauses the transport when more than 2 * limit bytes are buffered and resumes
 * it when a read brings the buffer back to the limit, as asyncio does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/stream_int.h"

#define MIN_FREE  (8 * 1024)
#define FIRST_CAP (16 * 1024)

/* Internal futures carry errors as results, so nobody is told about an "unretrieved"
 * error when a waiter has gone away. */
#define CODE_TO_PTR(c) ((void *)(intptr_t)(c))
#define PTR_TO_CODE(p) ((int)(intptr_t)(p))

static void stream_release(acio__stream_t *s)
{
    if (--s->refs > 0)
        return;
    acio__free(s->buf);
    acio__free(s->rerr.partial);
    if (s->transport)
        acio_transport_unref(s->transport);
    if (s->closed_fut)
        acio_future_unref(s->closed_fut);
    if (s->drain_fut)
        acio_future_unref(s->drain_fut);
    acio__free(s);
}

static acio__stream_t *of_writer(const acio_stream_writer_t *w)
{
    return acio_container_of(w, acio__stream_t, writer);
}

int acio__stream_new(acio_loop_t *loop, size_t limit, acio__stream_t **out)
{
    acio__stream_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->limit = limit ? limit : ACIO_STREAM_DEFAULT_LIMIT;
    s->refs = 1;
    *out = s;
    return 0;
}

int acio__stream_new_running(size_t limit, acio__stream_t **out)
{
    acio_loop_t *loop = acio_get_running_loop();
    return loop ? acio__stream_new(loop, limit, out) : ACIO_ENOLOOP;
}

void acio__stream_drop_connection(acio__stream_t *s)
{
    stream_release(s);
}

/* The caller gets a reader and/or a writer handle. */
void acio__stream_give_handles(acio__stream_t *s, bool reader, bool writer)
{
    if (reader) {
        s->reader.refs++;
        s->refs++;
    }
    if (writer) {
        s->writer.refs++;
        s->refs++;
    }
}

/* A reader or writer handle reference: one on the handle, one on the object. */
static void handle_ref(int *refs, acio__stream_t *s)
{
    (*refs)++;
    s->refs++;
}

/* Releasing the last handle closes the connection: nobody could use it any more
 * (asyncio closes it when the writer is garbage collected). */
static void handle_unref(int *refs, acio__stream_t *s)
{
    (*refs)--;
    if (s->reader.refs == 0 && s->writer.refs == 0 && s->transport)
        acio_transport_close(s->transport);
    stream_release(s);
}

/* ---- waking the reader ---- */

static void wakeup_waiter(acio__stream_t *s)
{
    acio_future_t *w = s->waiter;
    if (!w)
        return;
    s->waiter = NULL;
    if (!acio_future_done(w))
        acio_future_set_result(w, NULL);
}

static int ensure_space(acio__stream_t *s, size_t need)
{
    size_t used = s->end - s->start;
    if (used == 0)
        s->start = s->end = 0;
    if (s->cap - s->end >= need)
        return 0;
    if (s->start > 0 && s->cap - used >= need && s->start >= used) {
        memcpy(s->buf, s->buf + s->start, used);
    } else if (s->start > 0 && s->cap - used >= need) {
        memmove(s->buf, s->buf + s->start, used);
    } else {
        size_t cap = s->cap ? s->cap * 2 : FIRST_CAP;
        while (cap < used + need)
            cap *= 2;
        char *nb = acio__malloc(cap);
        if (!nb)
            return -ENOMEM;
        if (used)
            memcpy(nb, s->buf + s->start, used);
        acio__free(s->buf);
        s->buf = nb;
        s->cap = cap;
    }
    s->start = 0;
    s->end = used;
    return 0;
}

static void after_feed(acio__stream_t *s)
{
    wakeup_waiter(s);
    if (s->transport && !s->paused && !s->unlimited && s->end - s->start > 2 * s->limit) {
        if (acio_transport_pause_reading(s->transport) == 0)
            s->paused = true;
    }
}

void acio__stream_maybe_resume(acio__stream_t *s)
{
    if (s->paused && s->end - s->start <= s->limit) {
        s->paused = false;
        acio_transport_resume_reading(s->transport);
    }
}

/* ---- the protocol ---- */

static void client_task_done(acio__stream_t *s);

static void *client_trampoline(void *arg)
{
    acio__stream_t *s = arg;
    void *res = s->client_cb(&s->reader, &s->writer, s->client_arg);
    client_task_done(s);
    return res;
}

static void client_task_done(acio__stream_t *s)
{
    acio_stream_writer_unref(&s->writer);
    acio_stream_reader_unref(&s->reader);
}

static void p_connection_made(acio_transport_t *t, void *data)
{
    acio__stream_t *s = data;
    if (!s->transport) /* pipe streams are attached at creation */
        s->transport = acio_transport_ref(t);
    if (!s->client_cb)
        return;
    acio__stream_give_handles(s, true, true);
    int rc = acio_loop_create_task(s->loop, NULL, client_trampoline, s, NULL);
    if (rc < 0) {
        acio_error_context_t ctx = {0};
        ctx.message = "start_server: could not create the client task";
        ctx.code = rc;
        acio_loop_call_exception_handler(s->loop, &ctx);
        acio_transport_abort(t);
        client_task_done(s);
    }
}

static int p_get_buffer(acio_transport_t *t, size_t hint, void **buf, size_t *len, void *data)
{
    (void)t;
    acio__stream_t *s = data;
    int rc = ensure_space(s, hint < MIN_FREE ? hint : MIN_FREE);
    if (rc < 0)
        return rc;
    *buf = s->buf + s->end;
    *len = s->cap - s->end;
    return 0;
}

static void p_buffer_updated(acio_transport_t *t, size_t n, void *data)
{
    (void)t;
    acio__stream_t *s = data;
    s->end += n;
    after_feed(s);
}

static bool p_eof_received(acio_transport_t *t, void *data)
{
    (void)t;
    acio__stream_t *s = data;
    s->eof = true;
    wakeup_waiter(s);
    /* Keep the write side open (half-close), except over TLS, which cannot do it. */
    return !s->over_tls;
}

static void wake_future(acio_future_t **fp, int code)
{
    acio_future_t *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    if (!acio_future_done(f))
        acio_future_set_result(f, CODE_TO_PTR(code));
    acio_future_unref(f);
}

static void p_connection_lost(acio_transport_t *t, int error, void *data)
{
    (void)t;
    acio__stream_t *s = data;
    s->lost = true;
    s->lost_error = error;
    if (error && !s->exc)
        s->exc = error;
    s->eof = true;
    wakeup_waiter(s);
    wake_future(&s->drain_fut, error);
    wake_future(&s->closed_fut, error);
    if (s->opening)
        s->lost_deferred = true; /* the opener drops it once it has its handles */
    else
        acio__stream_drop_connection(s);
}

void acio__stream_creator_gone(void *proto_data)
{
    acio__stream_t *s = proto_data;
    s->opening = false;
    if (s->lost_deferred) {
        s->lost_deferred = false;
        acio__stream_drop_connection(s);
    }
}

void acio__stream_loop_closed(void *proto_data)
{
    acio__stream_t *s = proto_data;
    s->lost = true;
    s->lost_error = ACIO_ECLOSED;
    s->eof = true;
    /* The waiting task (if any) is discarded with the loop; never touch its future. */
    s->waiter = NULL;
    s->opening = false;
    if (s->lost_deferred)
        s->lost_deferred = false; /* the reference is dropped just below, once */
    acio__stream_drop_connection(s);
}

static void p_pause_writing(acio_transport_t *t, void *data)
{
    (void)t;
    ((acio__stream_t *)data)->write_paused = true;
}

static void p_resume_writing(acio_transport_t *t, void *data)
{
    (void)t;
    acio__stream_t *s = data;
    s->write_paused = false;
    wake_future(&s->drain_fut, 0);
}

const acio_protocol_t acio__stream_protocol = {
    .connection_made = p_connection_made,
    .get_buffer = p_get_buffer,
    .buffer_updated = p_buffer_updated,
    .eof_received = p_eof_received,
    .connection_lost = p_connection_lost,
    .pause_writing = p_pause_writing,
    .resume_writing = p_resume_writing,
};

/* ---- StreamReader ---- */

int acio_stream_reader_new(acio_stream_reader_t **out, size_t limit)
{
    if (!out)
        return -EINVAL;
    acio__stream_t *s;
    int rc = acio__stream_new_running(limit, &s);
    if (rc < 0)
        return rc;
    s->reader.refs = 1; /* the struct's initial reference is the reader's */
    *out = &s->reader;
    return 0;
}

acio_stream_reader_t *acio_stream_reader_ref(acio_stream_reader_t *r)
{
    if (r)
        handle_ref(&r->refs, acio__stream_of_reader(r));
    return r;
}

void acio_stream_reader_unref(acio_stream_reader_t *r)
{
    if (r)
        handle_unref(&r->refs, acio__stream_of_reader(r));
}

int acio__stream_wait_for_data(acio__stream_t *s)
{
    if (s->waiter)
        return -EBUSY; /* asyncio: "read() called while another coroutine is already waiting" */
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (s->paused) {
        s->paused = false;
        acio_transport_resume_reading(s->transport);
    }
    acio_future_t *f;
    int rc = acio_future_new(s->loop, &f);
    if (rc < 0)
        return rc;
    acio_future_set_label(f, "stream read");
    s->waiter = f;
    rc = acio_await(f, NULL);
    if (s->waiter == f)
        s->waiter = NULL;
    acio_future_unref(f);
    return rc;
}

bool acio_stream_reader_at_eof(const acio_stream_reader_t *r)
{
    const acio__stream_t *s = acio__stream_of_reader(r);
    return s->eof && s->end == s->start;
}

size_t acio_stream_reader_get_limit(const acio_stream_reader_t *r)
{
    return acio__stream_of_reader(r)->limit;
}

size_t acio_stream_reader_buffered(const acio_stream_reader_t *r)
{
    const acio__stream_t *s = acio__stream_of_reader(r);
    return s->end - s->start;
}

int acio_stream_reader_feed_data(acio_stream_reader_t *r, const void *buf, size_t len)
{
    if (!r || (!buf && len))
        return -EINVAL;
    acio__stream_t *s = acio__stream_of_reader(r);
    if (s->eof)
        return -EPIPE; /* asyncio asserts: feed_data after feed_eof */
    if (len == 0)
        return 0;
    int rc = ensure_space(s, len);
    if (rc < 0)
        return rc;
    memcpy(s->buf + s->end, buf, len);
    s->end += len;
    after_feed(s);
    return 0;
}

void acio_stream_reader_feed_eof(acio_stream_reader_t *r)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    s->eof = true;
    wakeup_waiter(s);
}

void acio_stream_reader_set_exception(acio_stream_reader_t *r, int code)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    s->exc = code < 0 ? code : -EINVAL;
    wakeup_waiter(s);
}

int acio_stream_reader_exception(const acio_stream_reader_t *r)
{
    return acio__stream_of_reader(r)->exc;
}

/* ---- for subprocess pipes ---- */

void acio__stream_reader_close(acio_stream_reader_t *r)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    if (s->transport)
        acio_transport_close(s->transport);
}

void acio__stream_reader_set_unlimited(acio_stream_reader_t *r, bool unlimited)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    s->unlimited = unlimited;
    if (unlimited && s->paused && s->transport) {
        s->paused = false;
        acio_transport_resume_reading(s->transport);
    }
}

int acio__stream_reader_wait_eof(acio_stream_reader_t *r)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    while (!s->eof && !s->exc) {
        int rc = acio__stream_wait_for_data(s);
        if (rc < 0)
            return rc;
    }
    return s->exc;
}

int acio__stream_reader_take_all(acio_stream_reader_t *r, void **out, size_t *len)
{
    acio__stream_t *s = acio__stream_of_reader(r);
    if (s->exc)
        return s->exc;
    size_t avail = s->end - s->start;
    char *acc = malloc(avail + 1); /* the caller's, released with free() */
    if (!acc)
        return -ENOMEM;
    if (avail)
        memcpy(acc, s->buf + s->start, avail);
    acc[avail] = '\0';
    s->start = s->end = 0;
    acio__stream_maybe_resume(s);
    *out = acc;
    *len = avail;
    return 0;
}

/* ---- StreamWriter ---- */

acio_stream_writer_t *acio_stream_writer_ref(acio_stream_writer_t *w)
{
    if (w)
        handle_ref(&w->refs, of_writer(w));
    return w;
}

void acio_stream_writer_unref(acio_stream_writer_t *w)
{
    if (w)
        handle_unref(&w->refs, of_writer(w));
}

int acio_stream_writer_write(acio_stream_writer_t *w, const void *buf, size_t len)
{
    if (!w)
        return -EINVAL;
    return acio_transport_write(of_writer(w)->transport, buf, len);
}

int acio_stream_writer_writelines(acio_stream_writer_t *w, const struct iovec *iov, int n)
{
    if (!w)
        return -EINVAL;
    return acio_transport_writev(of_writer(w)->transport, iov, n);
}

int acio_stream_writer_drain(acio_stream_writer_t *w)
{
    if (!w)
        return -EINVAL;
    acio__stream_t *s = of_writer(w);
    if (s->exc)
        return s->exc;
    if (acio_transport_is_closing(s->transport) && !s->lost) {
        /* Let connection_lost run, so that drain reports it (asyncio's sleep(0)). */
        int rc = acio_sleep(0);
        if (rc < 0)
            return rc;
    }
    if (s->lost)
        return s->lost_error ? s->lost_error : -ECONNRESET;
    if (!s->write_paused)
        return 0;
    if (!s->drain_fut) {
        int rc = acio_future_new(s->loop, &s->drain_fut);
        if (rc < 0)
            return rc;
        acio_future_set_label(s->drain_fut, "stream drain");
    }
    acio_future_t *f = acio_future_ref(s->drain_fut);
    void *res = NULL;
    int rc = acio_await(f, &res);
    acio_future_unref(f);
    if (rc < 0)
        return rc;
    return PTR_TO_CODE(res);
}

int acio_stream_writer_write_eof(acio_stream_writer_t *w)
{
    return w ? acio_transport_write_eof(of_writer(w)->transport) : -EINVAL;
}

bool acio_stream_writer_can_write_eof(acio_stream_writer_t *w)
{
    return w && acio_transport_can_write_eof(of_writer(w)->transport);
}

void acio_stream_writer_close(acio_stream_writer_t *w)
{
    if (w)
        acio_transport_close(of_writer(w)->transport);
}

int acio_stream_writer_wait_closed(acio_stream_writer_t *w)
{
    if (!w)
        return -EINVAL;
    acio__stream_t *s = of_writer(w);
    if (s->lost)
        return s->lost_error;
    if (!s->closed_fut) {
        int rc = acio_future_new(s->loop, &s->closed_fut);
        if (rc < 0)
            return rc;
        acio_future_set_label(s->closed_fut, "stream wait_closed");
    }
    acio_future_t *f = acio_future_ref(s->closed_fut);
    void *res = NULL;
    int rc = acio_await(f, &res);
    acio_future_unref(f);
    return rc < 0 ? rc : PTR_TO_CODE(res);
}

bool acio_stream_writer_is_closing(acio_stream_writer_t *w)
{
    return !w || acio_transport_is_closing(of_writer(w)->transport);
}

int acio_stream_writer_get_extra_info(acio_stream_writer_t *w, const char *name, void *buf,
                                      size_t *len)
{
    if (!w)
        return -EINVAL;
    return acio_transport_get_extra_info(of_writer(w)->transport, name, buf, len);
}

acio_transport_t *acio_stream_writer_transport(acio_stream_writer_t *w)
{
    return w ? of_writer(w)->transport : NULL;
}
