/* The thread-facing parts of acio under ThreadSanitizer: call_soon_threadsafe from many
 * threads at once (and while the loop stops and restarts), to_thread and executor jobs
 * whose inputs and outputs cross threads, Executor.submit() from several threads with no
 * loop (some futures cancelled), run_coroutine_threadsafe from client threads
 * that block on the concurrent futures (and cancel some), and the stack pool's global
 * list fed by threads that exit while others take their stacks.
 *
 * A plain runner, not Criterion: it is linked against acio_tsan (every access of the
 * library instrumented, coroutine switches announced as TSan fiber switches) and runs
 * one case per process, `tsan_threads <case>` (ctest runs each case as its own test;
 * `tsan_threads --list` names them, no argument runs them all). A case fails by
 * printing what went wrong and exiting 1; a data race makes TSan end the process with
 * its report (TSAN_OPTIONS=halt_on_error=1, as ctest sets). The workloads are bounded
 * in count, not in time, and each takes a few seconds at most under TSan. */
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acio.h"

static atomic_int failures; /* EXPECT runs on every thread */

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* acio marks calls whose code must be looked at (warn_unused_result); these say what
 * the test expects of one: CHECK_OK that it succeeded, UNCHECKED that it is there to be
 * interrupted (a sleep that gets cancelled) and the outcome is checked another way. */
#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        int ok_rc_ = (int)(call);                                                                  \
        EXPECT(ok_rc_ >= 0, "%s: %s", #call, acio_err_name(ok_rc_));                               \
    } while (0)
static inline void unchecked_rc_(long long rc)
{
    (void)rc;
}
#define UNCHECKED(call) unchecked_rc_((long long)(call))

static void nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ---- call_soon_threadsafe ---- */

enum { PRODUCERS = 4, POSTS = 20000 };

/* A message a producer fills in before posting it: the loop's callback reads what the
 * other thread wrote, which is the happens-before the queue must provide. */
typedef struct storm_s storm_t;
typedef struct {
    storm_t *storm;
    int producer;
    int seq;
    char payload[8];
} msg_t;

struct storm_s {
    acio_loop_t *loop;
    atomic_int next_id;
    int received;            /* loop thread only */
    int last_seq[PRODUCERS]; /* loop thread only: FIFO per producer */
    int total;               /* how many to wait for */
    atomic_int refused;      /* posts that failed */
    bool stop_at_total;      /* stop the loop when all arrived */
    atomic_bool producers_done;
};

static void on_msg(void *data)
{
    msg_t *m = data;
    storm_t *s = m->storm;
    EXPECT(strcmp(m->payload, "hello") == 0, "payload '%.8s'", m->payload);
    EXPECT(m->seq == s->last_seq[m->producer] + 1, "producer %d: seq %d after %d", m->producer,
           m->seq, s->last_seq[m->producer]);
    s->last_seq[m->producer] = m->seq;
    s->received++;
    free(m);
    if (s->stop_at_total && s->received == s->total)
        acio_loop_stop(s->loop);
}

static void *producer(void *arg)
{
    storm_t *s = arg;
    int id = atomic_fetch_add(&s->next_id, 1);
    for (int i = 1; i <= POSTS; i++) {
        msg_t *m = malloc(sizeof *m);
        if (!m)
            abort();
        m->storm = s;
        m->producer = id;
        m->seq = i;
        strcpy(m->payload, "hello");
        int rc = acio_loop_call_soon_threadsafe(s->loop, on_msg, m);
        if (rc < 0) {
            free(m);
            atomic_fetch_add(&s->refused, 1);
        }
        if (i % 4096 == 0)
            nap_us(100); /* let the loop fall asleep in epoll now and then */
    }
    return NULL;
}

static void case_call_soon_threadsafe_storm(void)
{
    static storm_t s;
    memset(&s, 0, sizeof s);
    EXPECT(acio_loop_new(&s.loop) == 0, "loop");
    s.total = PRODUCERS * POSTS;
    s.stop_at_total = true;
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[i], NULL, producer, &s);
    EXPECT(acio_loop_run_forever(s.loop) == 0, "run_forever");
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    EXPECT(s.received == s.total, "received %d of %d", s.received, s.total);
    EXPECT(atomic_load(&s.refused) == 0, "%d posts refused", atomic_load(&s.refused));
    EXPECT(acio_loop_close(s.loop) == 0, "close");
}

/* A controller thread stops the loop (stop_threadsafe) again and again while producers
 * post; the main thread runs the loop again each time until everything arrived. */
static void *stopper(void *arg)
{
    storm_t *s = arg;
    while (!atomic_load(&s->producers_done)) {
        acio_loop_stop_threadsafe(s->loop);
        nap_us(2000);
    }
    return NULL;
}

static void case_call_soon_threadsafe_while_stopping(void)
{
    static storm_t s;
    memset(&s, 0, sizeof s);
    EXPECT(acio_loop_new(&s.loop) == 0, "loop");
    s.total = PRODUCERS * POSTS;
    pthread_t th[PRODUCERS], st;
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[i], NULL, producer, &s);
    pthread_create(&st, NULL, stopper, &s);
    int runs = 0;
    while (s.received < s.total && runs < 100000) {
        EXPECT(acio_loop_run_forever(s.loop) == 0, "run_forever");
        runs++;
        if (s.received < s.total && runs % 64 == 0)
            nap_us(500);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&s.producers_done, true);
    pthread_join(st, NULL);
    /* A stop posted after the last run may still be queued: run it off. */
    acio_loop_stop(s.loop);
    EXPECT(acio_loop_run_forever(s.loop) == 0, "last run");
    EXPECT(s.received == s.total, "received %d of %d", s.received, s.total);
    EXPECT(acio_loop_close(s.loop) == 0, "close");
}

/* ---- executors ---- */

typedef struct {
    int in[8];
    long out;
} work_t;

static void *sum_job(void *arg, acio_job_t *job)
{
    (void)job;
    work_t *w = arg;
    long sum = 0;
    for (int i = 0; i < 8; i++)
        sum += w->in[i];
    w->out = sum; /* read by the task after its await */
    return (void *)(intptr_t)sum;
}

enum { TO_THREAD_TASKS = 8, TO_THREAD_CALLS = 150 };

static void *to_thread_task(void *arg)
{
    int base = (int)(intptr_t)arg;
    for (int i = 0; i < TO_THREAD_CALLS; i++) {
        work_t w;
        for (int k = 0; k < 8; k++)
            w.in[k] = base + i + k;
        w.out = -1;
        void *r = NULL;
        int rc = acio_to_thread(sum_job, &w, &r);
        long want = 8L * (base + i) + 28;
        if (rc != 0 || (long)(intptr_t)r != want || w.out != want)
            return acio_raise(-EPROTO, "to_thread %d: rc %d, result %ld, out %ld, want %ld", i, rc,
                              (long)(intptr_t)r, w.out, want);
    }
    return NULL;
}

static void *to_thread_main(void *arg)
{
    (void)arg;
    acio_task_t *t[TO_THREAD_TASKS];
    for (int i = 0; i < TO_THREAD_TASKS; i++)
        if (acio_create_task(&t[i], to_thread_task, (void *)(intptr_t)(i * 1000), NULL) < 0)
            return acio_raise(-ENOMEM, "create_task");
    int bad = 0;
    for (int i = 0; i < TO_THREAD_TASKS; i++) {
        if (acio_await(t[i], NULL) != 0) {
            fprintf(stderr, "task %d: %s\n", i, acio_future_error_message(t[i]));
            bad++;
        }
        acio_future_unref(t[i]);
    }
    return bad ? acio_raise(-EPROTO, "%d tasks failed", bad) : NULL;
}

static void case_to_thread(void)
{
    char *msg = NULL;
    int rc = acio_run_ex(to_thread_main, NULL, NULL, &msg);
    EXPECT(rc == 0, "%s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
}

/* A job that takes a while unless it is cancelled. */
static void *slow_job(void *arg, acio_job_t *job)
{
    atomic_int *ran = arg;
    atomic_fetch_add(ran, 1);
    for (int i = 0; i < 20 && !acio_job_cancelled(job); i++)
        nap_us(500);
    return (void *)(intptr_t)7;
}

enum { EXEC_JOBS = 400 };

static void *executor_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_executor_t *ex;
    acio_executor_opts_t o = {.name = "tsan", .max_workers = 4};
    if (acio_executor_new(&ex, &o) < 0)
        return acio_raise(-ENOMEM, "executor_new");
    static work_t w[EXEC_JOBS];
    static atomic_int ran;
    acio_future_t *f[EXEC_JOBS];
    for (int i = 0; i < EXEC_JOBS; i++) {
        for (int k = 0; k < 8; k++)
            w[i].in[k] = i;
        int rc = i % 10 == 0 ? acio_loop_run_in_executor(loop, ex, slow_job, &ran, &f[i])
                             : acio_loop_run_in_executor(loop, ex, sum_job, &w[i], &f[i]);
        if (rc < 0)
            return acio_raise(rc, "run_in_executor %d", i);
    }
    /* Cancel every slow job: queued ones are removed, running ones see the flag. */
    for (int i = 0; i < EXEC_JOBS; i += 10)
        acio_future_cancel(f[i], NULL);
    int bad = 0;
    for (int i = 0; i < EXEC_JOBS; i++) {
        void *r = NULL;
        int rc = acio_await(f[i], &r);
        if (i % 10 == 0) {
            if (rc != -ECANCELED)
                bad++;
        } else if (rc != 0 || (long)(intptr_t)r != 8L * i || w[i].out != 8L * i) {
            bad++;
        }
        acio_future_unref(f[i]);
    }
    int rc = acio_executor_free(ex);
    if (bad || rc < 0)
        return acio_raise(-EPROTO, "%d wrong results, free: %d", bad, rc);
    return NULL;
}

static void case_executor_jobs(void)
{
    char *msg = NULL;
    int rc = acio_run_ex(executor_main, NULL, NULL, &msg);
    EXPECT(rc == 0, "%s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
}

/* ---- Executor.submit() from several threads, no loop ---- */

enum { SUBMITTERS = 4, PER_SUBMITTER = 100 };

typedef struct {
    long in;
    long out; /* written by the worker, read by the submitter once the future is done */
} square_job_t;

static void *square(void *arg, acio_job_t *job)
{
    (void)job;
    square_job_t *j = arg;
    j->out = j->in * j->in;
    return (void *)(intptr_t)j->out;
}

/* Submits jobs, cancels every third one (which may or may not have started), and
 * checks each outcome: a result written by a worker and read here, or a cancellation
 * of a job that then never touched its argument. */
static void *submitter(void *arg)
{
    acio_executor_t *ex = arg;
    square_job_t jobs[PER_SUBMITTER];
    acio_cfuture_t *f[PER_SUBMITTER];
    for (int i = 0; i < PER_SUBMITTER; i++) {
        jobs[i] = (square_job_t){i, -1};
        int rc = acio_executor_submit(ex, square, &jobs[i], &f[i]);
        EXPECT(rc == 0, "submit: %s", acio_err_name(rc));
        if (rc < 0)
            f[i] = NULL;
        else if (i % 3 == 0)
            (void)acio_cfuture_cancel(f[i]);
    }
    for (int i = 0; i < PER_SUBMITTER; i++) {
        if (!f[i])
            continue;
        void *r = NULL;
        int rc = acio_cfuture_result(f[i], 60, &r);
        if (rc == 0)
            EXPECT(jobs[i].out == (long)i * i && (intptr_t)r == (intptr_t)i * i, "job %d", i);
        else
            EXPECT(rc == -ECANCELED && i % 3 == 0 && jobs[i].out == -1, "job %d: %s", i,
                   acio_err_name(rc));
        acio_cfuture_unref(f[i]);
    }
    return NULL;
}

static void case_executor_submit(void)
{
    acio_executor_t *ex;
    EXPECT(acio_executor_new(&ex, &(acio_executor_opts_t){.max_workers = 3}) == 0, "new");
    pthread_t th[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++)
        EXPECT(pthread_create(&th[i], NULL, submitter, ex) == 0, "pthread_create");
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    EXPECT(acio_executor_free(ex) == 0, "free");
}

/* ---- run_coroutine_threadsafe ---- */

enum { CLIENTS = 4, SUBMITS = 150 };

typedef struct {
    acio_loop_t *loop;
    atomic_bool ready;
    atomic_int done_clients;
} rct_t;

typedef struct {
    long value;
    char note[16]; /* written by the client, read by the coroutine */
} req_t;

static void *incr(void *arg)
{
    req_t *r = arg;
    if (strcmp(r->note, "please") != 0)
        return acio_raise(-EPROTO, "garbled request");
    int rc = acio_sleep(0); /* one trip through the loop */
    if (rc < 0)
        return acio_raise(rc, "sleep(0)");
    return (void *)(intptr_t)(r->value + 1);
}

static void *sleeper(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(10)); /* cancelled by the client */
    return NULL;
}

static void *client(void *arg)
{
    rct_t *x = arg;
    while (!atomic_load(&x->ready))
        nap_us(100);
    for (int i = 0; i < SUBMITS; i++) {
        req_t r = {.value = i};
        strcpy(r.note, "please");
        acio_cfuture_t *cf;
        int rc = acio_run_coroutine_threadsafe(&cf, x->loop, incr, &r);
        EXPECT(rc == 0, "run_coroutine_threadsafe: %s", acio_err_name(rc));
        if (rc < 0)
            break;
        void *res = NULL;
        rc = acio_cfuture_result(cf, ACIO_NO_TIMEOUT, &res);
        EXPECT(rc == 0 && (long)(intptr_t)res == i + 1, "result %ld, rc %s", (long)(intptr_t)res,
               acio_err_name(rc));
        acio_cfuture_unref(cf);
        if (i % 16 == 0) {
            /* One that is cancelled from this thread while it sleeps on the loop. */
            rc = acio_run_coroutine_threadsafe(&cf, x->loop, sleeper, NULL);
            EXPECT(rc == 0, "run_coroutine_threadsafe: %s", acio_err_name(rc));
            if (rc == 0) {
                acio_cfuture_cancel(cf);
                rc = acio_cfuture_result(cf, ACIO_NO_TIMEOUT, NULL);
                EXPECT(rc == -ECANCELED, "cancelled: %s", acio_err_name(rc));
                acio_cfuture_unref(cf);
            }
        }
    }
    if (atomic_fetch_add(&x->done_clients, 1) + 1 == CLIENTS)
        acio_loop_stop_threadsafe(x->loop);
    return NULL;
}

static void stop_loop(void *data)
{
    acio_loop_stop(data);
}

static void mark_ready(void *data)
{
    atomic_store(&((rct_t *)data)->ready, true);
}

static void case_run_coroutine_threadsafe(void)
{
    static rct_t x;
    memset(&x, 0, sizeof x);
    EXPECT(acio_loop_new(&x.loop) == 0, "loop");
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&th[i], NULL, client, &x);
    CHECK_OK(acio_loop_call_soon(x.loop, mark_ready, &x, NULL));
    EXPECT(acio_loop_run_forever(x.loop) == 0, "run_forever");
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    /* Let the cancelled tasks finish unwinding before the loop closes. */
    for (int i = 0; i < 10; i++) {
        CHECK_OK(acio_loop_call_soon(x.loop, stop_loop, x.loop, NULL));
        acio_loop_run_forever(x.loop);
    }
    EXPECT(acio_loop_close(x.loop) == 0, "close");
}

/* ---- the stack pool's global list ---- */

enum { WAVES = 6, WAVE_THREADS = 4, TASKS_PER_THREAD = 64 };

static void *touch_stack(void *arg)
{
    volatile char buf[2048];
    memset((char *)buf, (int)(intptr_t)arg, sizeof buf);
    int rc = acio_sleep(0);
    if (rc < 0)
        return acio_raise(rc, "sleep(0)");
    return (void *)(intptr_t)buf[100];
}

static void *pool_main(void *arg)
{
    (void)arg;
    acio_task_t *t[TASKS_PER_THREAD];
    for (int i = 0; i < TASKS_PER_THREAD; i++)
        if (acio_create_task(&t[i], touch_stack, (void *)(intptr_t)(i + 1), NULL) < 0)
            return acio_raise(-ENOMEM, "create_task");
    int bad = 0;
    for (int i = 0; i < TASKS_PER_THREAD; i++) {
        void *r = NULL;
        if (acio_await(t[i], &r) != 0 || (intptr_t)r != i + 1)
            bad++;
        acio_future_unref(t[i]);
    }
    return bad ? acio_raise(-EPROTO, "%d tasks wrong", bad) : NULL;
}

static void *pool_thread(void *arg)
{
    (void)arg;
    char *msg = NULL;
    int rc = acio_run_ex(pool_main, NULL, NULL, &msg);
    EXPECT(rc == 0, "%s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
    return NULL; /* the thread's stack pool goes to the global list now */
}

static void case_stack_pool_threads_exiting(void)
{
    /* Waves overlap: the next starts while the previous one's threads are exiting. */
    pthread_t prev[WAVE_THREADS] = {0};
    for (int w = 0; w < WAVES; w++) {
        pthread_t cur[WAVE_THREADS];
        for (int i = 0; i < WAVE_THREADS; i++)
            pthread_create(&cur[i], NULL, pool_thread, NULL);
        if (w > 0)
            for (int i = 0; i < WAVE_THREADS; i++)
                pthread_join(prev[i], NULL);
        memcpy(prev, cur, sizeof prev);
    }
    for (int i = 0; i < WAVE_THREADS; i++)
        pthread_join(prev[i], NULL);
    /* And this thread takes stacks from the global list too. */
    pool_thread(NULL);
}

/* ---- layers with helper threads: files, name resolution ---- */

enum { FILE_TASKS = 6, FILE_LINES = 40, RESOLVERS = 6, RESOLVES = 30 };

static char tmpdir[64];

static void *file_task(void *arg)
{
    int n = (int)(intptr_t)arg;
    char path[128];
    snprintf(path, sizeof path, "%s/f%d.txt", tmpdir, n);
    acio_file_t *f;
    int rc = acio_file_open(&f, path, "w+");
    if (rc < 0)
        return acio_raise(rc, "open %s", path);
    for (int i = 0; i < FILE_LINES && rc == 0; i++)
        rc = acio_file_writef(f, "task %d line %d\n", n, i);
    if (rc == 0)
        rc = acio_file_seek(f, 0, SEEK_SET, NULL);
    int lines = 0;
    char *line;
    while (rc == 0 && (rc = acio_file_next_line(f, &line, NULL)) == 0) {
        char want[48];
        snprintf(want, sizeof want, "task %d line %d\n", n, lines);
        if (strcmp(line, want) != 0)
            rc = -EPROTO;
        free(line);
        lines++;
    }
    int close_rc = acio_file_close(f);
    unlink(path);
    if (rc != ACIO_ESTOPASYNCITERATION || close_rc < 0 || lines != FILE_LINES)
        return acio_raise(rc < 0 && rc != ACIO_ESTOPASYNCITERATION ? rc : -EPROTO,
                          "file %d: %d lines, close %d", n, lines, close_rc);
    return NULL;
}

/* Resolve localhost (from /etc/hosts: no network) again and again, some with a timeout
 * so short that it races the helper thread's answer. */
static void *resolve_task(void *arg)
{
    int n = (int)(intptr_t)arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    int ok = 0;
    for (int i = 0; i < RESOLVES; i++) {
        struct addrinfo *res = NULL;
        double timeout = (i + n) % 3 == 0 ? 1e-5 : 0;
        int rc = acio_loop_getaddrinfo(NULL, "localhost", "80", &hints, &res, timeout);
        if (rc == 0) {
            ok++;
            freeaddrinfo(res);
        } else if (rc != -ETIMEDOUT) {
            return acio_raise(rc, "getaddrinfo localhost");
        }
    }
    return ok ? NULL : acio_raise(-EPROTO, "no resolution succeeded");
}

static void *worker_layers_main(void *arg)
{
    (void)arg;
    acio_task_t *t[FILE_TASKS + RESOLVERS];
    int n = 0;
    for (int i = 0; i < FILE_TASKS; i++)
        if (acio_create_task(&t[n++], file_task, (void *)(intptr_t)i, NULL) < 0)
            return acio_raise(-ENOMEM, "create_task");
    for (int i = 0; i < RESOLVERS; i++)
        if (acio_create_task(&t[n++], resolve_task, (void *)(intptr_t)i, NULL) < 0)
            return acio_raise(-ENOMEM, "create_task");
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (acio_await(t[i], NULL) != 0) {
            fprintf(stderr, "task %d: %s\n", i, acio_future_error_message(t[i]));
            bad++;
        }
        acio_future_unref(t[i]);
    }
    return bad ? acio_raise(-EPROTO, "%d tasks failed", bad) : NULL;
}

static void case_worker_layers(void)
{
    strcpy(tmpdir, "/tmp/acio-tsan-XXXXXX");
    EXPECT(mkdtemp(tmpdir) != NULL, "mkdtemp");
    char *msg = NULL;
    int rc = acio_run_ex(worker_layers_main, NULL, NULL, &msg);
    EXPECT(rc == 0, "%s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
    rmdir(tmpdir);
}

/* ---- wrap_future: a concurrent future completed by another thread ---- */

enum { WRAPS = 300 };

typedef struct {
    acio_cfuture_t *cf;
    long value; /* written by the completing thread before it completes cf */
} wrap_t;

static void *complete_later(void *arg)
{
    wrap_t *w = arg;
    nap_us(50);
    w->value = 42;
    acio_cfuture_set_result(w->cf, &w->value); /* may find it cancelled: fine */
    return NULL;
}

static void *wrap_main(void *arg)
{
    (void)arg;
    int bad = 0;
    for (int i = 0; i < WRAPS; i++) {
        wrap_t w = {0};
        if (acio_cfuture_new(&w.cf) < 0)
            return acio_raise(-ENOMEM, "cfuture_new");
        acio_future_t *f;
        int rc = acio_wrap_future(&f, w.cf, NULL);
        if (rc < 0)
            return acio_raise(rc, "wrap_future");
        pthread_t th;
        pthread_create(&th, NULL, complete_later, &w);
        if (i % 5 == 4) {
            /* Cancel the loop side while the thread completes the other side. */
            if (acio_sleep(0) < 0)
                bad++;
            acio_future_cancel(f, NULL);
        }
        void *r = NULL;
        rc = acio_await(f, &r);
        if (rc == 0 && (r != &w.value || *(long *)r != 42))
            bad++;
        else if (rc != 0 && rc != -ECANCELED)
            bad++;
        pthread_join(th, NULL);
        acio_future_unref(f);
        acio_cfuture_unref(w.cf);
    }
    return bad ? acio_raise(-EPROTO, "%d wrong outcomes", bad) : NULL;
}

static void case_wrap_future(void)
{
    char *msg = NULL;
    int rc = acio_run_ex(wrap_main, NULL, NULL, &msg);
    EXPECT(rc == 0, "%s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
}

/* ---- signals sent from other threads ---- */

enum { SIGNALLERS = 3, SIGNALS = 300 };

typedef struct {
    acio_loop_t *loop;
    atomic_int senders_done;
    int handled; /* loop thread only */
} signals_t;

static void on_usr1(int signo, void *data)
{
    (void)signo;
    ((signals_t *)data)->handled++;
}

static void *signaller(void *arg)
{
    signals_t *x = arg;
    for (int i = 0; i < SIGNALS; i++) {
        kill(getpid(), SIGUSR1);
        if (i % 32 == 0)
            nap_us(200);
    }
    if (atomic_fetch_add(&x->senders_done, 1) + 1 == SIGNALLERS)
        acio_loop_stop_threadsafe(x->loop);
    return NULL;
}

static void case_signals_from_threads(void)
{
    static signals_t x;
    memset(&x, 0, sizeof x);
    EXPECT(acio_loop_new(&x.loop) == 0, "loop");
    EXPECT(acio_loop_add_signal_handler(x.loop, SIGUSR1, on_usr1, &x) == 0, "add handler");
    pthread_t th[SIGNALLERS];
    for (int i = 0; i < SIGNALLERS; i++)
        pthread_create(&th[i], NULL, signaller, &x);
    EXPECT(acio_loop_run_forever(x.loop) == 0, "run_forever");
    for (int i = 0; i < SIGNALLERS; i++)
        pthread_join(th[i], NULL);
    /* Signals still pending in the loop's slot run in one more iteration. */
    CHECK_OK(acio_loop_call_soon(x.loop, stop_loop, x.loop, NULL));
    acio_loop_run_forever(x.loop);
    EXPECT(x.handled >= 1, "handled %d signals", x.handled);
    EXPECT(acio_loop_remove_signal_handler(x.loop, SIGUSR1) == 1, "remove handler");
    EXPECT(acio_loop_close(x.loop) == 0, "close");
}

/* ---- the runner ---- */

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"call_soon_threadsafe_storm", case_call_soon_threadsafe_storm},
    {"call_soon_threadsafe_while_stopping", case_call_soon_threadsafe_while_stopping},
    {"to_thread", case_to_thread},
    {"executor_jobs", case_executor_jobs},
    {"executor_submit", case_executor_submit},
    {"run_coroutine_threadsafe", case_run_coroutine_threadsafe},
    {"stack_pool_threads_exiting", case_stack_pool_threads_exiting},
    {"worker_layers", case_worker_layers},
    {"wrap_future", case_wrap_future},
    {"signals_from_threads", case_signals_from_threads},
};
#define NCASES (sizeof cases / sizeof *cases)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < NCASES; i++)
            puts(cases[i].name);
        return 0;
    }
    int ran = 0;
    for (size_t i = 0; i < NCASES; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        int before = atomic_load(&failures);
        cases[i].fn();
        printf("%s %s\n", atomic_load(&failures) == before ? "PASS" : "FAIL", cases[i].name);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "unknown case %s (--list names them)\n", argv[1]);
        return 2;
    }
    return atomic_load(&failures) ? 1 : 0;
}
