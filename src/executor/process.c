/* The process pool's runner (ProcessPoolExecutor with the fork start method, minus
 * pickling): each pool thread drives one worker process over a socketpair. The thread
 * writes a request (the function's address and the input bytes), blocks reading the
 * reply (a status, a message, the output bytes), and fills in the job, which then goes
 * back to its loop like any thread-pool job. The loop never blocks: all the waiting
 * happens on the pool thread.
 *
 * Worker processes are forked lazily by their thread and reused. The function's address
 * is valid in the child because the child is a fork of this very program. A child that
 * dies (EOF on the socket) fails the job it was running with ACIO_ECHILDDIED, is reaped
 * (to say how it died) and is replaced by a fresh fork for the next job; unlike
 * Python's BrokenProcessPool, one crash does not break the whole pool.
 *
 * Sends use MSG_NOSIGNAL so a dead child gives EPIPE instead of killing us with SIGPIPE.
 * The child keeps only stdin/stdout/stderr and its socket: if it kept a copy of another
 * worker's socket, that worker's death would never produce EOF. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor/executor_int.h"

/* The wire format, the same on both ends (one program, one machine). */
typedef struct {
    uint64_t fn; /* the acio_process_fn's address */
    uint64_t in_len;
} request_t;

typedef struct {
    int32_t code;
    uint32_t msg_len;
    uint64_t out_len;
} reply_t;

/* 0 on success, -errno on error, -EPIPE when the peer has gone (EOF) before len. */
static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the child ---- */

static void child_reset(int sock)
{
    /* Keep 0-2 and the socket (moved to 3), close everything else. */
    if (sock != 3) {
        dup2(sock, 3);
        close(sock);
    }
    if (close_range(4, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = 4; fd < (max > 0 ? max : 1024); fd++)
            close((int)fd);
    }
    /* Handlers the parent installed (e.g. the loop's SIGINT handling) make no sense here;
     * ignored signals stay ignored, as after exec. The pool thread we were forked from
     * blocked every signal: unblock them. */
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
            sa.sa_handler != SIG_DFL) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigaction(sig, &sa, NULL);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void child_main(int sock)
{
    child_reset(sock);
    sock = 3;
    for (;;) {
        request_t req;
        if (read_full(sock, &req, sizeof req) < 0)
            _exit(0); /* the pool closed our socket: shutdown */
        char *in = malloc(req.in_len + 1);
        if (!in || read_full(sock, in, req.in_len) < 0)
            _exit(1);
        in[req.in_len] = 0;
        acio_job_t job;
        memset(&job, 0, sizeof job);
        size_t out_len = 0;
        acio_process_fn fn = (acio_process_fn)(uintptr_t)req.fn;
        void *out = fn(in, req.in_len, &out_len, &job);
        if (job.code != 0 || !out)
            out_len = 0;
        reply_t rep = {.code = job.code,
                       .msg_len = job.message ? (uint32_t)strlen(job.message) : 0,
                       .out_len = out_len};
        if (write_full(sock, &rep, sizeof rep) < 0 ||
            write_full(sock, job.message, rep.msg_len) < 0 || write_full(sock, out, out_len) < 0)
            _exit(1);
        free(out);
        free(in);
        acio__free(job.message);
    }
}

/* ---- the parent's pool thread ---- */

static int spawn(acio__worker_t *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    /* The child gets a copy of stdio's buffers; flush what is pending so it is not
     * written twice if the child ever flushes. */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(sv[0]);
        close(sv[1]);
        return -err;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(sv[1]);
    }
    close(sv[1]);
    w->sock = sv[0];
    w->child = pid;
    pthread_mutex_lock(&w->ex->mu);
    w->ex->spawned++;
    pthread_mutex_unlock(&w->ex->mu);
    return 0;
}

/* Close the socket and reap the child; describe how it ended in buf. */
static void reap(acio__worker_t *w, char *buf, size_t len)
{
    close(w->sock);
    w->sock = -1;
    int status = 0;
    pid_t r;
    while ((r = waitpid(w->child, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        snprintf(buf, len, "ended (its exit status was collected elsewhere)");
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    w->child = 0;
}

static void fail(acio_job_t *job, int code, const char *fmt, ...) ACIO_PRINTF(3, 4);
static void fail(acio_job_t *job, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    acio__job_set_error(job, code, msg);
}

void acio__process_run(acio__worker_t *w, acio_job_t *job)
{
    request_t req = {.fn = (uint64_t)(uintptr_t)job->pfn, .in_len = job->in_len};
    char how[128];
    int rc = 0;
    /* A child that died while idle refuses the request (EPIPE): the job has not
     * started, so replace the child and send it again, once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (w->sock < 0 && (rc = spawn(w)) < 0) {
            fail(job, rc, "could not start a worker process: %s", strerror(-rc));
            return;
        }
        rc = write_full(w->sock, &req, sizeof req);
        if (rc == 0)
            rc = write_full(w->sock, job->in, job->in_len);
        if (rc == 0)
            break;
        reap(w, how, sizeof how);
    }
    if (rc < 0) {
        fail(job, ACIO_ECHILDDIED, "worker process could not take the job: %s", strerror(-rc));
        return;
    }
    reply_t rep;
    rc = read_full(w->sock, &rep, sizeof rep);
    acio_bytes_t *bytes = NULL;
    char *msg = NULL;
    if (rc == 0 && rep.msg_len) {
        msg = acio__malloc(rep.msg_len + 1);
        rc = msg ? read_full(w->sock, msg, rep.msg_len) : -ENOMEM;
        if (msg)
            msg[rep.msg_len] = 0;
    }
    if (rc == 0) {
        bytes = malloc(sizeof *bytes + rep.out_len + 1);
        rc = bytes ? read_full(w->sock, bytes->data, rep.out_len) : -ENOMEM;
        if (bytes) {
            bytes->len = rep.out_len;
            bytes->data[rep.out_len] = 0;
        }
    }
    if (rc < 0) {
        pid_t pid = w->child;
        free(bytes);
        acio__free(msg);
        if (rc == -ENOMEM) {
            /* We cannot hold the reply; the child is mid-write, so it must go. */
            kill(pid, SIGKILL);
        }
        reap(w, how, sizeof how);
        if (rc == -ENOMEM) {
            fail(job, -ENOMEM, "out of memory reading the result of worker process %d", pid);
            return;
        }
        pthread_mutex_lock(&w->ex->mu);
        w->ex->died++;
        pthread_mutex_unlock(&w->ex->mu);
        fail(job, ACIO_ECHILDDIED, "worker process %d %s before returning a result", (int)pid, how);
        return;
    }
    if (rep.code != 0) {
        free(bytes);
        job->code = rep.code;
        job->message = msg;
        return;
    }
    acio__free(msg);
    job->result = bytes;
}

void acio__process_worker_exit(acio__worker_t *w)
{
    if (w->sock < 0)
        return;
    char how[128];
    reap(w, how, sizeof how); /* the child reads EOF and exits */
}
