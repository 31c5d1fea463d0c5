/* Internal view of futures, shared with task.c (a task is a future with a coroutine). */
#ifndef ACIO_FUTURE_INTERNAL_H
#define ACIO_FUTURE_INTERNAL_H

#include "loop.h"

typedef struct {
    acio_future_cb cb;
    void *data;
} acio_cb_entry_t;

struct acio_future_s {
    acio_loop_t *loop;
    uint32_t refcnt;
    uint8_t state;
    bool is_task;
    bool retrieved; /* the error was looked at (or nobody needs to hear about it) */
    int err;        /* 0, an error code, or -ECANCELED */
    void *result;
    char *message;       /* the error's or cancellation's message (owned) */
    acio_cb_entry_t cb0; /* the first done callback lives inline: most futures have one */
    acio_cb_entry_t *cbs;
    uint32_t ncbs, cbs_cap; /* ncbs counts cb0 too */
    const char *label;
    void *data;
    void *origin; /* the code address that created it */
};

/* Set up a future embedded in a larger object (a task). */
void acio__future_init(acio_future_t *f, acio_loop_t *loop, bool is_task);
/* Finish: state, then every done callback is scheduled with call_soon, in order. */
void acio__future_finish(acio_future_t *f, int err, void *result, char *message);
void acio__future_schedule_callbacks(acio_future_t *f);
/* The callback tasks register while awaiting; future.c schedules the task's own step
 * handle for it instead of allocating one. */
void acio__task_wakeup(acio_future_t *fut, void *task);
void acio__task_schedule_wakeup(void *task);
void acio__task_free(acio_future_t *f);
void acio__future_report_unretrieved(acio_future_t *f);

#endif
