/* Fault injection for the tests, in the style of curl's torture tests: make the Nth
 * allocation or the Nth system call of some kind fail, and a sweep driver that runs a
 * scenario once to count the calls, then once per call failing that one, each run in a
 * forked child, checking that nothing crashed, leaked memory or fds, hung, or broke a
 * documented promise. docs/faults.md describes the design and how to run the full sweep.
 *
 * How calls are caught: the tests link libacio statically, so a function defined in the
 * test executable (fault.c) replaces libc's for the library's calls too; the definitions
 * forward to the next one with dlsym(RTLD_NEXT) (libc's, or the sanitizer's interceptor).
 * acio's own allocations go through its allocator hook (src/alloc.c), OpenSSL's through
 * CRYPTO_set_mem_functions. A test file gets all this by including this header; CMake
 * links tests/support/fault.c into every test whose source includes it. */
#ifndef ACIO_TESTS_SUPPORT_FAULT_H
#define ACIO_TESTS_SUPPORT_FAULT_H

#include <stdbool.h>
#include <stddef.h>

/* The kinds of calls that can be failed, and the error each failure gives. */
typedef enum {
    FAULT_ALLOC,     /* acio's allocator (acio__malloc, calloc, realloc): NULL */
    FAULT_SSL_ALLOC, /* OpenSSL's allocations: NULL */
    FAULT_SOCKET,    /* socket: EMFILE */
    FAULT_CONNECT,   /* connect: ECONNREFUSED */
    FAULT_ACCEPT,    /* accept, accept4: EMFILE */
    FAULT_SOCKOPT,   /* bind, listen, setsockopt, getsockopt, shutdown: ENOBUFS / EADDRINUSE */
    FAULT_EPOLL,     /* epoll_create1, epoll_ctl: ENOMEM (ENOSPC is the watch limit) */
    FAULT_READ,      /* read, readv, recv, recvfrom, recvmsg: ECONNRESET (EIO on non-sockets) */
    FAULT_WRITE,     /* write, writev, send, sendto, sendmsg: EPIPE / ENOBUFS */
    FAULT_PIPE,      /* pipe, pipe2: EMFILE */
    FAULT_SPAWN,     /* posix_spawn, posix_spawnp, fork: EAGAIN */
    FAULT_EVENTFD,   /* eventfd: EMFILE */
    FAULT_THREAD,    /* pthread_create (clone): EAGAIN */
    FAULT_NKINDS
} fault_kind_t;

#define FAULT_BIT(k) (1u << (k))
#define FAULT_ALL_SYSCALLS                                                                         \
    (FAULT_BIT(FAULT_SOCKET) | FAULT_BIT(FAULT_CONNECT) | FAULT_BIT(FAULT_ACCEPT) |                \
     FAULT_BIT(FAULT_SOCKOPT) | FAULT_BIT(FAULT_EPOLL) | FAULT_BIT(FAULT_READ) |                   \
     FAULT_BIT(FAULT_WRITE) | FAULT_BIT(FAULT_PIPE) | FAULT_BIT(FAULT_SPAWN) |                     \
     FAULT_BIT(FAULT_EVENTFD) | FAULT_BIT(FAULT_THREAD))
#define FAULT_ALL (FAULT_ALL_SYSCALLS | FAULT_BIT(FAULT_ALLOC) | FAULT_BIT(FAULT_SSL_ALLOC))

const char *fault_kind_name(int kind);

/* Route OpenSSL's allocations through the counter. Call before anything uses OpenSSL in
 * this process (the sweep does it in each child); returns false if it is too late. */
bool fault_hook_openssl(void);

/* Count calls of every kind from now on (counters reset to 0), failing none. */
void fault_count_start(void);
/* Stop counting and failing. */
void fault_stop(void);
/* Calls of kind counted since fault_count_start / fault_arm. */
long fault_count(int kind);
/* Fail the nth call (1-based) of kind from now on, once; other kinds are only counted. */
void fault_arm(int kind, long nth);
/* Like fault_arm, but counting starts only after the next successful call of trigger
 * (e.g. fail the 2nd allocation after an accept). */
void fault_arm_after(int trigger, int kind, long nth);
/* Whether the armed failure happened. */
bool fault_fired(void);
/* acio's own allocator hook (src/alloc.c): the nth acio allocation from now fails, 0 =
 * never. fault_arm(FAULT_ALLOC, n) uses it; tests may call it directly. */
void acio__alloc_fail_after(long n);

/* Scenarios report a broken promise (e.g. connection_lost without connection_made) here;
 * the sweep fails the run with the first message. printf-style. Safe in a child. */
void fault_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fault_violations(void);

/* ---- the sweep ---- */

/* A scenario: runs a whole program (usually acio_run of a main task) and returns 0 when
 * it completed, or a negative code when it failed cleanly, which is allowed when a fault
 * was injected. It must close everything it opened in either case. */
typedef int (*fault_scenario_fn)(void *arg);

typedef struct {
    unsigned kinds;  /* FAULT_BIT()s to sweep; 0: FAULT_ALL */
    long max_points; /* per kind in the bounded sweep; 0: 10 (env ACIO_FAULT_SWEEP=full: all) */
    double timeout;  /* seconds per run before it counts as a hang; 0: 20 */
    bool allow_hang; /* not used by default: a hang is a failure */
} fault_sweep_opts_t;

/* Run scenario in a child to count the calls (it must return 0 there), then, for each
 * kind and each chosen n, in a new child with the nth call of that kind failing. A run
 * fails if the child crashes, hangs, leaks (LeakSanitizer, in ASan builds), leaves fds
 * open, reports a violation, or returns nonzero without a fault having fired. Returns
 * the number of failed runs; report receives the first few, one per line. Environment:
 * ACIO_FAULT_SWEEP=full sweeps every call; ACIO_FAULT_ONLY="kind:n" runs one point in
 * the current process (for a debugger), ACIO_FAULT_VERBOSE=1 lists every run. */
int fault_sweep(const char *name, fault_scenario_fn scenario, void *arg,
                const fault_sweep_opts_t *opts, char *report, size_t report_len);

#endif
