/* Internal view of the event loop and its handles, shared by loop.c (the iteration),
 * timer.c (the heap), io.c (fd callbacks), future.c and task.c. */
#ifndef ACIO_LOOP_INTERNAL_H
#define ACIO_LOOP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"
#include "poll/poll.h"

enum {
    HANDLE_CANCELLED = 1,
    HANDLE_EMBEDDED = 2,    /* lives inside another object (a task's step): never pooled */
    HANDLE_QUEUED = 4,      /* in the ready FIFO */
    HANDLE_TIMER = 8,       /* a call_later / call_at handle */
    HANDLE_IN_HEAP = 16,    /* still in the timer heap */
    HANDLE_IN_WHEEL = 32,   /* in the timer wheel (see timer.c) */
    HANDLE_THREADSAFE = 64, /* placed by call_soon_threadsafe (not counted in sched_count) */
    HANDLE_DEBUG = 128,     /* made by a loop in debug mode: quarantined when freed */
};

struct acio_handle_s {
    acio_handle_t *next; /* ready FIFO link */
    acio_handle_cb cb;
    void *data;
    /* A future's done callback travels as cb = trampoline, data = user data, plus
     * fut_cb, fut and fut_data. A timer never is one: while it waits in the timer
     * wheel, the first and last of those hold its list link and sequence number. */
    union {
        acio_future_cb fut_cb;
        acio_handle_t *wheel_prev;
    };
    acio_future_t *fut;
    union {
        void *fut_data;
        uint64_t timer_seq;
    };
    int64_t when; /* timer deadline in ns of loop time; -1 for call_soon */
    acio_loop_t *loop;
    uint32_t refcnt;
    uint8_t flags;
};

typedef struct {
    int64_t when;
    uint64_t seq; /* FIFO among equal deadlines */
    acio_handle_t *h;
} acio_timer_entry_t;

typedef struct {
    acio_handle_t *reader, *writer;
    void *reader_origin, *writer_origin;
    acio_io_cb reader_cb, writer_cb;
    void *reader_data, *writer_data;
    uint8_t registered; /* mask the poller has */
} acio_fd_entry_t;

typedef struct acio_ts_node_s {
    struct acio_ts_node_s *next;
    acio_handle_cb cb;
    void *data;
    uint64_t seq; /* loop->sched_count when it was called: its place in the ready FIFO */
} acio_ts_node_t;

typedef struct acio_task_s acio_task_impl_t;

struct acio_loop_s {
    /* the ready FIFO */
    acio_handle_t *ready_head, **ready_tail;
    /* Handles the loop thread ever appended to the FIFO, and that count when the FIFO
     * was last emptied (so the FIFO's first such handle is number ready_base + 1). Another
     * thread's call_soon_threadsafe reads sched_count to know where in the FIFO its
     * callback belongs (see acio__loop_drain_threadsafe). Written only by the loop
     * thread, with a plain store on x86-64 and AArch64. */
    _Atomic uint64_t sched_count;
    uint64_t ready_base;
    /* timers: a 4-ary min-heap with keys inline (no pointer chase to compare) */
    acio_timer_entry_t *heap;
    size_t heap_len, heap_cap, timers_cancelled;
    uint64_t timer_seq;
    struct acio_timer_wheel_s *wheel; /* for many near timers (timer.c); NULL until then */
    size_t wheel_count;               /* timers in it */
    /* ns, CLOCK_MONOTONIC. Read lazily, at most once per iteration after the poll: an
     * iteration with no timers and nobody asking the time reads no clock (on a VM a
     * clock read costs as much as a task switch). */
    int64_t now;
    bool now_valid;
    /* I/O */
    acio_poller_t *poller;
    acio_fd_entry_t *fds;
    int fds_cap;
    int nwatched; /* user fds registered (the wake-up fd is not counted) */
    acio_poll_event_t events[128];
    /* call_soon_threadsafe */
    pthread_mutex_t ts_lock;
    acio_ts_node_t *ts_head, **ts_tail;
    atomic_int ts_pending;
    bool ts_closed; /* under ts_lock: close() has begun */
    atomic_int dump_requested;
    atomic_int interrupted; /* SIGINT arrived while acio_run() ran this loop */
    acio_future_t *main_task;
    int wakefd;
    /* state */
    bool running, stopping, closed, debug;
    /* The user's reference plus one per live future: a future may outlive the loop's
     * close, and must still find its (closed) loop. */
    size_t refcnt;
    pthread_t thread;
    /* tasks: every unfinished task, in creation order (the loop's strong references) */
    acio_task_impl_t *tasks_head, *tasks_tail;
    size_t ntasks;
    uint64_t task_counter;
    acio_task_impl_t *current_task;
    /* futures that finished with an error, until freed (see future.c) */
    acio_future_t **failed;
    uint32_t nfailed, failed_cap;
    size_t task_stack_size;
    /* debugging */
    acio_exception_handler exc_handler;
    void *exc_data;
    int64_t slow_ns;
    struct acio_watchdog_s *watchdog;
    atomic_ulong progress; /* bumped per callback while a watchdog runs */
    atomic_int in_callback;
    int dump_signal;
    void *data;
};

extern __thread acio_loop_t *acio__running_loop;

int64_t acio__now_ns(void);
static inline int64_t acio__loop_now(acio_loop_t *loop)
{
    if (!loop->now_valid) {
        loop->now = acio__now_ns();
        loop->now_valid = true;
    }
    return loop->now;
}
/* A handle from the thread's pool with one reference. NULL on ENOMEM. */
acio_handle_t *acio__handle_new(acio_loop_t *loop, acio_handle_cb cb, void *data);
/* Give the debug-mode quarantine's handles back to their pool (loop close). */
void acio__handles_quarantine_flush(void);
void acio__handle_release(acio_handle_t *h);
/* Append h to the ready FIFO; the FIFO takes its own reference (except embedded). */
void acio__loop_schedule(acio_loop_t *loop, acio_handle_t *h);
/* Count one handle appended to the ready FIFO by the loop thread. */
static inline void acio__loop_count_append(acio_loop_t *loop)
{
    uint64_t n = atomic_load_explicit(&loop->sched_count, memory_order_relaxed);
    atomic_store_explicit(&loop->sched_count, n + 1, memory_order_release);
}
/* Insert a timer handle; the heap takes its own reference. Returns -ENOMEM on failure. */
int acio__timer_push(acio_loop_t *loop, acio_handle_t *h);
/* Move due timers to the ready FIFO; drop cancelled ones; compact when half cancelled. */
void acio__timers_run_due(acio_loop_t *loop);
/* A timer in the wheel was cancelled: take it out now (the wheel's reference goes). */
void acio__timer_wheel_remove(acio_handle_t *h);
void acio__timers_clear(acio_loop_t *loop);
/* ns until the nearest live timer, or -1 if none. */
int64_t acio__timers_next_timeout(acio_loop_t *loop);
void acio__io_dispatch(acio_loop_t *loop, int fd, int events);
void acio__io_close(acio_loop_t *loop);
/* Drain call_soon_threadsafe's queue into the ready FIFO. */
void acio__loop_drain_threadsafe(acio_loop_t *loop);
int acio__loop_check(const acio_loop_t *loop);
void acio__loop_unref(acio_loop_t *loop);

/* Hooks that let higher layers (executor, os) clean up after a loop without the loop
 * depending on them: each layer registers its functions once, at library load. */
typedef void (*acio__loop_hook_fn)(acio_loop_t *loop);
enum {
    ACIO__HOOK_LOOP_CLOSING,           /* acio_loop_close(), before anything is dropped */
    ACIO__HOOK_RUN_SHUTDOWN_ASYNCGENS, /* acio_run's first closing round, in a task */
    ACIO__HOOK_RUN_SHUTDOWN,           /* its second (shutdown_default_executor), in a task */
    ACIO__HOOK_KINDS
};
void acio__loop_register_hook(int kind, acio__loop_hook_fn fn);
void acio__loop_run_hooks(int kind, acio_loop_t *loop);

/* debug.c */
void acio__debug_slow_callback(acio_loop_t *loop, acio_handle_t *h, int64_t ns);
void acio__watchdog_stop(acio_loop_t *loop);
void acio__debug_loop_closing(acio_loop_t *loop);
/* task.c */
void acio__tasks_close(acio_loop_t *loop);
void acio__task_dump_all(acio_loop_t *loop, int fd);

#endif
