/* Parking a pool worker until a submitter hands it a job (or shutdown wakes it).
 *
 * Each worker has its own wake word, so waking one worker never disturbs the others (no
 * shared condition variable, no thundering herd, no mutex convoy): a submitter wakes
 * exactly the idle worker it chose. The word is 0 while the worker is awake, 1 once it
 * has been signalled, and 2 while it sleeps in the kernel; a waker only pays for a
 * futex wake-up system call when it finds 2.
 *
 * A worker may also spin for a few microseconds before sleeping, so that a loop awaiting
 * to_thread() calls one after another finds it awake. Measured on the 2-vCPU VM acio is
 * developed on, this made sequential round trips 2-3x *slower*, probably because with the
 * worker spinning on one vCPU every wake-up of the loop needs an interrupt to the other,
 * halted vCPU, whereas a worker that sleeps at once lets the kernel run the loop on the
 * CPU the worker just left. So spinning is off by default; ACIO_EXECUTOR_SPIN_US=<microseconds>
 * turns it on (worth trying on bare metal with idle cores). At most one worker spins at a time,
 * which keeps an idle pool from eating the CPUs (Go bounds its spinning threads the same
 * way). */
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "executor/executor_int.h"

#ifndef __linux__
#error "acio's executor parks workers on a Linux futex"
#endif

enum { AWAKE = 0, SIGNALLED = 1, SLEEPING = 2 };

/* How long the spinning worker keeps looking before it sleeps, in nanoseconds (0: no
 * spinning), read once from the environment. */
static long spin_ns;
static pthread_once_t spin_once = PTHREAD_ONCE_INIT;

static void read_spin_setting(void)
{
    const char *v = getenv("ACIO_EXECUTOR_SPIN_US");
    long us = v ? strtol(v, NULL, 10) : 0;
    spin_ns = us > 0 && us < 1000000 ? us * 1000 : 0;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static bool spin(acio__worker_t *w)
{
    acio_executor_t *ex = w->ex;
    pthread_once(&spin_once, read_spin_setting);
    if (spin_ns == 0)
        return false;
    int none = 0;
    if (atomic_load_explicit(&ex->nspinning, memory_order_relaxed) != 0 ||
        !atomic_compare_exchange_strong(&ex->nspinning, &none, 1))
        return false;
    bool got = false;
    long deadline = now_ns() + spin_ns;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&w->signal, memory_order_acquire) == SIGNALLED) {
            got = true;
            break;
        }
        cpu_relax();
        /* Reading the clock costs ~20 ns; look at it every 64 rounds only. */
        if ((i & 63) == 0 && now_ns() > deadline)
            break;
    }
    atomic_fetch_sub(&ex->nspinning, 1);
    return got;
}

void acio__park(acio__worker_t *w)
{
    if (!spin(w)) {
        uint32_t awake = AWAKE;
        if (atomic_compare_exchange_strong(&w->signal, &awake, SLEEPING)) {
            while (atomic_load_explicit(&w->signal, memory_order_acquire) == SLEEPING)
                syscall(SYS_futex, &w->signal, FUTEX_WAIT_PRIVATE, SLEEPING, NULL, NULL, 0);
        }
    }
    /* Every park is matched by exactly one unpark (a worker is on the idle stack once),
     * so resetting here cannot lose a signal. */
    atomic_store_explicit(&w->signal, AWAKE, memory_order_relaxed);
}

void acio__unpark(acio__worker_t *w)
{
    if (atomic_exchange_explicit(&w->signal, SIGNALLED, memory_order_acq_rel) == SLEEPING)
        syscall(SYS_futex, &w->signal, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
