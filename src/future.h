/* Internal view of futures, shared with task.c (a task is a future with a coroutine). */
#ifndef ACIO_FUTURE_INTERNAL_H
#define ACIO_FUTURE_INTERNAL_H

#include "loop.h"

typedef struct {
    acio_future_cb cb;
    void *data;
} acio_cb_entry_t;

/* What a future embedded in a larger object (a task, a gather) does differently, as a
 * Python subclass overrides methods: its own cancel() and how its memory goes. Plain
 * futures have none. */
typedef struct {
    /* asyncio's cancel() override: 1 if cancellation was requested, else 0. The future
     * may stay pending (a gather finishes when its children have reacted). */
    int (*cancel)(acio_future_t *f, const char *msg);
    /* The last reference went: release the object the future is embedded in. */
    void (*free)(acio_future_t *f);
} acio__future_ops_t;

struct acio_future_s {
    acio_loop_t *loop;
    uint32_t refcnt;
    uint8_t state;
    bool is_task;
    bool retrieved; /* the error was looked at (or nobody needs to hear about it) */
    int err;        /* 0, an error code, or -ECANCELED */
    /* 1 + its index in the loop's list of failed futures (0: not listed); it lives in
     * what was padding after err, so listing costs no memory. */
    uint32_t failed_slot;
    void *result;
    char *message;       /* the error's or cancellation's message (owned) */
    acio_cb_entry_t cb0; /* the first done callback lives inline: most futures have one */
    acio_cb_entry_t *cbs;
    uint32_t ncbs, cbs_cap; /* ncbs counts cb0 too */
    const char *label;
    void *data;
    void *origin;                  /* the code address that created it */
    const acio__future_ops_t *ops; /* NULL for a plain future */
};

/* Set up a future embedded in a larger object (a task, a gather). */
void acio__future_init(acio_future_t *f, acio_loop_t *loop, const acio__future_ops_t *ops,
                       bool is_task);
/* Finish: state, then every done callback is scheduled with call_soon, in order. */
void acio__future_finish(acio_future_t *f, int err, void *result, char *message);
void acio__future_schedule_callbacks(acio_future_t *f);
/* The callback tasks register while awaiting; future.c schedules the task's own step
 * handle for it instead of allocating one. */
void acio__task_wakeup(acio_future_t *fut, void *task);
void acio__task_schedule_wakeup(void *task);
void acio__future_report_unretrieved(acio_future_t *f);
/* Loop close: report every future still referenced whose error nobody retrieved (a
 * leaked reference would otherwise hide it for ever), then forget the list. */
void acio__futures_report_failed_at_close(acio_loop_t *loop);
/* Abort with a message naming the misused future (see acio_future_ref). */
_Noreturn void acio__future_misuse(const acio_future_t *f, const char *what);
/* Give the debug-mode quarantine's objects back to their pools (loop close). */
void acio__futures_quarantine_flush(void);

#endif
