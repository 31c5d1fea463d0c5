/* Fault injection for the tests (see fault.h and docs/faults.md): the interposed system
 * calls, the allocation hooks, and the sweep driver that runs a scenario in one forked
 * child per failure point.
 *
 * The counters are atomics because executor threads make calls too. Nothing is counted
 * or failed until fault_count_start() or fault_arm(): the test runner's own I/O, before
 * and after a scenario, passes straight through. */
#include "support/fault.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "support/fds.h"

#if defined(ACIO_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

/* acio's allocator hook (src/alloc.c). */
extern long acio__alloc_fail_countdown;
void acio__alloc_fail_after(long n);

#define ALLOC_COUNT_BASE (LONG_MAX / 2)

static int active;          /* counting (1) */
static int armed_kind = -1; /* the kind to fail */
static long armed_nth;
static int fired;
static long counts[FAULT_NKINDS];
/* fault_arm_after: the trigger kind, and what to arm when it happens. */
static int trigger_kind = -1, trigger_arm_kind;
static long trigger_arm_nth;

static const char *const kind_names[FAULT_NKINDS] = {
    "alloc", "ssl_alloc", "socket", "connect", "accept",  "sockopt", "epoll",
    "read",  "write",     "pipe",   "spawn",   "eventfd", "thread",
};

const char *fault_kind_name(int kind)
{
    return kind >= 0 && kind < FAULT_NKINDS ? kind_names[kind] : "?";
}

static int kind_by_name(const char *s, size_t n)
{
    for (int k = 0; k < FAULT_NKINDS; k++)
        if (strlen(kind_names[k]) == n && strncmp(kind_names[k], s, n) == 0)
            return k;
    return -1;
}

/* Count one call of kind; true if this is the one to fail. */
static void arm_now(int kind, long nth);

static bool hit(int kind)
{
    if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
        return false;
    if (kind == __atomic_load_n(&trigger_kind, __ATOMIC_ACQUIRE)) {
        /* Armed from the call after this one: the trigger call itself succeeds. */
        __atomic_store_n(&trigger_kind, -1, __ATOMIC_RELEASE);
        arm_now(trigger_arm_kind, trigger_arm_nth);
        return false;
    }
    long n = __atomic_add_fetch(&counts[kind], 1, __ATOMIC_ACQ_REL);
    if (kind == __atomic_load_n(&armed_kind, __ATOMIC_ACQUIRE) && n == armed_nth) {
        __atomic_store_n(&fired, 1, __ATOMIC_RELEASE);
        if (getenv("ACIO_FAULT_TRACE")) {
            /* Where the failure was injected, for whoever debugs a failed run. */
            void *frames[24];
            int nf = backtrace(frames, 24);
            fprintf(stderr, "fault: failing %s call %ld here:\n", kind_names[kind], n);
            backtrace_symbols_fd(frames, nf, STDERR_FILENO);
        }
        return true;
    }
    return false;
}

void fault_count_start(void)
{
    fault_stop();
    for (int k = 0; k < FAULT_NKINDS; k++)
        __atomic_store_n(&counts[k], 0, __ATOMIC_RELEASE);
    __atomic_store_n(&fired, 0, __ATOMIC_RELEASE);
    acio__alloc_fail_after(ALLOC_COUNT_BASE);
    __atomic_store_n(&active, 1, __ATOMIC_RELEASE);
}

void fault_stop(void)
{
    __atomic_store_n(&trigger_kind, -1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&active, __ATOMIC_ACQUIRE) && armed_kind != FAULT_ALLOC)
        counts[FAULT_ALLOC] = ALLOC_COUNT_BASE - acio__alloc_fail_countdown;
    __atomic_store_n(&active, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&armed_kind, -1, __ATOMIC_RELEASE);
    acio__alloc_fail_after(0);
}

long fault_count(int kind)
{
    if (kind == FAULT_ALLOC && __atomic_load_n(&active, __ATOMIC_ACQUIRE) &&
        armed_kind != FAULT_ALLOC)
        return ALLOC_COUNT_BASE - acio__alloc_fail_countdown;
    return kind >= 0 && kind < FAULT_NKINDS ? __atomic_load_n(&counts[kind], __ATOMIC_ACQUIRE) : 0;
}

static void arm_now(int kind, long nth)
{
    if (kind != FAULT_ALLOC)
        __atomic_store_n(&counts[kind], 0, __ATOMIC_RELEASE);
    armed_nth = nth;
    __atomic_store_n(&armed_kind, kind, __ATOMIC_RELEASE);
    if (kind == FAULT_ALLOC)
        acio__alloc_fail_after(nth); /* the allocator hook counts down to the failure */
}

void fault_arm(int kind, long nth)
{
    fault_count_start();
    arm_now(kind, nth);
}

void fault_arm_after(int trigger, int kind, long nth)
{
    fault_count_start();
    trigger_arm_kind = kind;
    trigger_arm_nth = nth;
    __atomic_store_n(&trigger_kind, trigger, __ATOMIC_RELEASE);
}

bool fault_fired(void)
{
    if (armed_kind == FAULT_ALLOC)
        return acio__alloc_fail_countdown == 0;
    return __atomic_load_n(&fired, __ATOMIC_ACQUIRE);
}

/* ---- OpenSSL's allocations ---- */

static void *ssl_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return hit(FAULT_SSL_ALLOC) ? NULL : malloc(n);
}

static void *ssl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return hit(FAULT_SSL_ALLOC) ? NULL : realloc(p, n);
}

static void ssl_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

static int ssl_hooked;

bool fault_hook_openssl(void)
{
    if (!ssl_hooked)
        ssl_hooked = CRYPTO_set_mem_functions(ssl_malloc, ssl_realloc, ssl_free) ? 1 : -1;
    return ssl_hooked > 0;
}

/* Before main, so before anything in the test allocates through OpenSSL. */
__attribute__((constructor)) static void fault_init(void)
{
    fault_hook_openssl();
}

/* ---- the interposed system calls ---- */

#define REAL(name)                                                                                 \
    static __typeof__(name) *real_fn;                                                              \
    if (!__atomic_load_n(&real_fn, __ATOMIC_ACQUIRE))                                              \
    __atomic_store_n(&real_fn, (__typeof__(name) *)dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE)

static int fd_type(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (int)(st.st_mode & S_IFMT) : -1;
}

/* How a read fails, by what the fd is: a socket's peer reset it; a pipe, an eventfd or a
 * pidfd (no file type: an anonymous inode) can only be read too early (a spurious
 * wake-up); a file or a device reports an I/O error. */
static int read_errno(int fd)
{
    int t = fd_type(fd);
    if (t == S_IFSOCK)
        return ECONNRESET;
    if (t == S_IFIFO || t == 0)
        return EAGAIN;
    return EIO;
}

/* How a write fails: a socket's or a pipe's peer is gone; a file reports an I/O error. */
static int write_errno(int fd)
{
    int t = fd_type(fd);
    if (t == S_IFSOCK)
        return ECONNRESET;
    if (t == S_IFIFO)
        return EPIPE;
    return EIO;
}

/* Writes that cannot fail are not counted: stdout and stderr (the test's messages, acio's
 * default exception handler) and anonymous inodes (the loop's and the signal handlers'
 * eventfds, whose 8-byte writes only fail if the counter overflows, which the loop
 * draining them on every iteration rules out). */
static bool write_can_fail(int fd)
{
    return fd > STDERR_FILENO && __atomic_load_n(&active, __ATOMIC_ACQUIRE) && fd_type(fd) != 0;
}

#define FAIL(kind, err)                                                                            \
    do {                                                                                           \
        if (hit(kind)) {                                                                           \
            errno = (err);                                                                         \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int socket(int domain, int type, int protocol)
{
    REAL(socket);
    FAIL(FAULT_SOCKET, EMFILE);
    return real_fn(domain, type, protocol);
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    REAL(connect);
    FAIL(FAULT_CONNECT, ECONNREFUSED);
    return real_fn(fd, addr, len);
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    REAL(accept);
    FAIL(FAULT_ACCEPT, EMFILE);
    return real_fn(fd, addr, len);
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
    REAL(accept4);
    FAIL(FAULT_ACCEPT, EMFILE);
    return real_fn(fd, addr, len, flags);
}

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    REAL(bind);
    FAIL(FAULT_SOCKOPT, EADDRINUSE);
    return real_fn(fd, addr, len);
}

int listen(int fd, int backlog)
{
    REAL(listen);
    FAIL(FAULT_SOCKOPT, EADDRINUSE);
    return real_fn(fd, backlog);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    REAL(setsockopt);
    FAIL(FAULT_SOCKOPT, ENOBUFS);
    return real_fn(fd, level, name, val, len);
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    REAL(getsockopt);
    FAIL(FAULT_SOCKOPT, ENOBUFS);
    return real_fn(fd, level, name, val, len);
}

int shutdown(int fd, int how)
{
    REAL(shutdown);
    FAIL(FAULT_SOCKOPT, ENOTCONN);
    return real_fn(fd, how);
}

int epoll_create1(int flags)
{
    REAL(epoll_create1);
    FAIL(FAULT_EPOLL, EMFILE);
    return real_fn(flags);
}

/* Only adding a watch allocates in the kernel (ENOMEM) or meets the per-user limit
 * (ENOSPC, max_user_watches); MOD and DEL do not fail that way. */
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    REAL(epoll_ctl);
    if (op == EPOLL_CTL_ADD)
        FAIL(FAULT_EPOLL, ENOMEM);
    return real_fn(epfd, op, fd, ev);
}

ssize_t read(int fd, void *buf, size_t len)
{
    REAL(read);
    FAIL(FAULT_READ, read_errno(fd));
    return real_fn(fd, buf, len);
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
    REAL(readv);
    FAIL(FAULT_READ, read_errno(fd));
    return real_fn(fd, iov, n);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    REAL(recv);
    FAIL(FAULT_READ, ECONNRESET);
    return real_fn(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, __SOCKADDR_ARG addr, socklen_t *alen)
{
    REAL(recvfrom);
    FAIL(FAULT_READ, ECONNREFUSED);
    return real_fn(fd, buf, len, flags, addr, alen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    REAL(recvmsg);
    FAIL(FAULT_READ, ECONNRESET);
    return real_fn(fd, msg, flags);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(write);
    if (write_can_fail(fd))
        FAIL(FAULT_WRITE, write_errno(fd));
    return real_fn(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL(writev);
    if (write_can_fail(fd))
        FAIL(FAULT_WRITE, write_errno(fd));
    return real_fn(fd, iov, n);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    REAL(send);
    FAIL(FAULT_WRITE, ECONNRESET);
    return real_fn(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG addr,
               socklen_t alen)
{
    REAL(sendto);
    FAIL(FAULT_WRITE, ENOBUFS);
    return real_fn(fd, buf, len, flags, addr, alen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    REAL(sendmsg);
    FAIL(FAULT_WRITE, ECONNRESET);
    return real_fn(fd, msg, flags);
}

ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    REAL(sendfile);
    FAIL(FAULT_WRITE, ECONNRESET);
    return real_fn(out, in, off, count);
}

int pipe(int fds[2])
{
    REAL(pipe);
    FAIL(FAULT_PIPE, EMFILE);
    return real_fn(fds);
}

int pipe2(int fds[2], int flags)
{
    REAL(pipe2);
    FAIL(FAULT_PIPE, EMFILE);
    return real_fn(fds, flags);
}

int eventfd(unsigned int initval, int flags)
{
    REAL(eventfd);
    FAIL(FAULT_EVENTFD, EMFILE);
    return real_fn(initval, flags);
}

pid_t fork(void)
{
    REAL(fork);
    FAIL(FAULT_SPAWN, EAGAIN);
    return real_fn();
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    REAL(posix_spawn);
    if (hit(FAULT_SPAWN))
        return EAGAIN;
    return real_fn(pid, path, fa, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    REAL(posix_spawnp);
    if (hit(FAULT_SPAWN))
        return EAGAIN;
    return real_fn(pid, file, fa, attr, argv, envp);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    REAL(pthread_create);
    if (hit(FAULT_THREAD))
        return EAGAIN;
    return real_fn(th, attr, fn, arg);
}

/* ---- the sweep ---- */

typedef struct {
    int violations;
    char violation[400];
    long counts[FAULT_NKINDS];
    int fired;
    int rc;
    int fds_before, fds_after;
    int leaks;
    int done;
} shared_t;

static shared_t *shared;

void fault_violation(const char *fmt, ...)
{
    static int local;
    local++;
    if (!shared)
        return;
    if (__atomic_fetch_add(&shared->violations, 1, __ATOMIC_ACQ_REL) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(shared->violation, sizeof(shared->violation), fmt, ap);
        va_end(ap);
    }
}

int fault_violations(void)
{
    return shared ? shared->violations : 0;
}

/* What OpenSSL sets up once per process (error strings, the default providers, the
 * method tables) is done before arming, so the sweep fails the allocations of
 * connections, not of OpenSSL's one-time initialisation, which it cannot undo. */
static void warm_up_openssl(void)
{
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c) {
        SSL_CTX_set_default_verify_paths(c);
        SSL *s = SSL_new(c);
        SSL_free(s);
        SSL_CTX_free(c);
    }
    c = SSL_CTX_new(TLS_server_method());
    SSL_CTX_free(c);
}

/* In the child: run the scenario (kind < 0: count only), record what happened, exit. */
static _Noreturn void child(fault_scenario_fn scenario, void *arg, int kind, long nth,
                            double timeout, int errfd)
{
    if (errfd >= 0) {
        dup2(errfd, STDERR_FILENO);
        close(errfd);
    }
    alarm((unsigned)(timeout + 0.999));
    warm_up_openssl();
    shared->fds_before = count_fds();
    if (kind < 0)
        fault_count_start();
    else
        fault_arm(kind, nth);
    int rc = scenario(arg);
    bool f = fault_fired();
    fault_stop();
    for (int k = 0; k < FAULT_NKINDS; k++)
        shared->counts[k] = counts[k];
    shared->fired = f;
    shared->rc = rc;
    shared->fds_after = count_fds();
#if defined(ACIO_ASAN)
    shared->leaks = __lsan_do_recoverable_leak_check();
#endif
    shared->done = 1;
    fflush(NULL);
    _exit(0);
}

/* The first lines of what the child wrote on stderr, on one line. */
static void stderr_head(int fd, char *out, size_t len)
{
    out[0] = '\0';
    if (fd < 0 || len < 2)
        return;
    char buf[500];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            buf[i] = '|';
    snprintf(out, len, " [stderr: %s]", buf);
}

/* One run in a child; returns 0 if it passed, else fills why. */
static int run_one(fault_scenario_fn scenario, void *arg, int kind, long nth, double timeout,
                   char *why, size_t whylen)
{
    memset(shared, 0, sizeof(*shared));
    char path[] = "/tmp/acio-fault-XXXXXX";
    int errfd = mkstemp(path);
    if (errfd >= 0)
        unlink(path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        if (errfd >= 0)
            close(errfd);
        return -1;
    }
    if (pid == 0)
        child(scenario, arg, kind, nth, timeout, errfd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char err[640];
    stderr_head(errfd, err, sizeof(err));
    if (errfd >= 0)
        close(errfd);
    const char *kn = kind < 0 ? "count" : fault_kind_name(kind);
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        snprintf(why, whylen, "%s:%ld %s%s", kn, nth,
                 sig == SIGALRM ? "hung (no progress before the timeout)" : strsignal(sig), err);
        return -1;
    }
    if (!shared->done || WEXITSTATUS(st) != 0) {
        snprintf(why, whylen, "%s:%ld exited with status %d before finishing%s", kn, nth,
                 WEXITSTATUS(st), err);
        return -1;
    }
    if (shared->violations) {
        snprintf(why, whylen, "%s:%ld broken promise: %s", kn, nth, shared->violation);
        return -1;
    }
    if (shared->leaks) {
        snprintf(why, whylen, "%s:%ld leaked memory%s", kn, nth, err);
        return -1;
    }
    if (shared->fds_after != shared->fds_before) {
        snprintf(why, whylen, "%s:%ld left %d fds open", kn, nth,
                 shared->fds_after - shared->fds_before);
        return -1;
    }
    if (shared->rc != 0 && !shared->fired) {
        snprintf(why, whylen, "%s:%ld failed (%d) without a fault%s", kn, nth, shared->rc, err);
        return -1;
    }
    return 0;
}

static void add_report(char *report, size_t len, const char *name, const char *why)
{
    size_t used = strlen(report);
    if (used + 8 >= len)
        return;
    snprintf(report + used, len - used, "%s: %s\n", name, why);
}

int fault_sweep(const char *name, fault_scenario_fn scenario, void *arg,
                const fault_sweep_opts_t *opts, char *report, size_t report_len)
{
    static const fault_sweep_opts_t defaults;
    if (!opts)
        opts = &defaults;
    if (report_len)
        report[0] = '\0';
    unsigned kinds = opts->kinds ? opts->kinds : FAULT_ALL;
    double timeout = opts->timeout > 0 ? opts->timeout : 20;
    const char *mode = getenv("ACIO_FAULT_SWEEP");
    bool full = mode && strcmp(mode, "full") == 0;
    long max_points = full ? LONG_MAX : opts->max_points > 0 ? opts->max_points : 10;
    bool verbose = getenv("ACIO_FAULT_VERBOSE") != NULL;

    /* One point in this process, for a debugger: ACIO_FAULT_ONLY=kind:n */
    const char *only = getenv("ACIO_FAULT_ONLY");
    if (only && strchr(only, ':')) {
        int k = kind_by_name(only, (size_t)(strchr(only, ':') - only));
        long n = atol(strchr(only, ':') + 1);
        fault_arm(k, n);
        int rc = scenario(arg);
        bool f = fault_fired();
        fault_stop();
        fprintf(stderr, "%s: %s:%ld fired=%d rc=%d\n", name, only, n, f, rc);
        return 0;
    }

    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        shared = NULL;
        add_report(report, report_len, name, "mmap failed");
        return 1;
    }
    int failures = 0;
    char why[1024];
    if (run_one(scenario, arg, -1, 0, timeout, why, sizeof(why)) < 0 || shared->rc != 0) {
        if (shared->rc != 0 && !why[0])
            snprintf(why, sizeof(why), "the scenario fails without faults (%d)", shared->rc);
        add_report(report, report_len, name, why);
        munmap(shared, sizeof(*shared));
        shared = NULL;
        return 1;
    }
    long total[FAULT_NKINDS];
    memcpy(total, shared->counts, sizeof(total));
    long runs = 0;
    for (int k = 0; k < FAULT_NKINDS; k++) {
        if (!(kinds & FAULT_BIT(k)) || total[k] == 0)
            continue;
        /* The bounded sweep: the first max/2 calls (set-up paths), then points spread
         * evenly over the rest, always including the last call. */
        long c = total[k], head = max_points / 2 > 0 ? max_points / 2 : 1;
        for (long n = 1; n <= c;) {
            runs++;
            why[0] = '\0';
            int r = run_one(scenario, arg, k, n, timeout, why, sizeof(why));
            if (verbose)
                fprintf(stderr, "%s: %s:%ld/%ld %s\n", name, fault_kind_name(k), n, c,
                        r == 0 ? (shared->fired ? "ok" : "ok (not reached)") : why);
            if (r < 0) {
                failures++;
                add_report(report, report_len, name, why);
            }
            if (c <= max_points || n < head) {
                n++;
            } else if (n == c) {
                break;
            } else {
                long step = (c - head) / (max_points - head > 0 ? max_points - head : 1);
                n = n + (step > 0 ? step : 1);
                if (n > c)
                    n = c;
            }
        }
    }
    if (verbose)
        fprintf(stderr, "%s: %ld runs, %d failed\n", name, runs, failures);
    munmap(shared, sizeof(*shared));
    shared = NULL;
    return failures;
}
