/* Futures: asyncio.Future. A future is pending, then finished with a result, finished
 * with an error (a code and a message, like an exception), or cancelled. Done callbacks
 * are always scheduled with call_soon, in the order they were added, never run inline.
 *
 * Ownership: futures are reference counted. acio_future_new() returns one reference;
 * the loop and awaiting tasks take their own while they need the future. */
#ifndef ACIO_FUTURE_H
#define ACIO_FUTURE_H

#include "common.h"

typedef void (*acio_future_cb)(acio_future_t *fut, void *data);

typedef enum {
    ACIO_FUTURE_PENDING = 0,
    ACIO_FUTURE_CANCELLED,
    ACIO_FUTURE_FINISHED, /* with a result or an error */
} acio_future_state_t;

/* A new pending future on loop. Errors: -EINVAL, -ENOMEM, ACIO_ECLOSED. */
ACIO_EXTERN ACIO_NODISCARD int acio_future_new(acio_loop_t *loop, acio_future_t **out);
ACIO_EXTERN acio_future_t *acio_future_ref(acio_future_t *fut);
/* Drop a reference; the future is freed with the last one. An error nobody retrieved is
 * reported to the exception handler at that point. NULL is a no-op. */
ACIO_EXTERN void acio_future_unref(acio_future_t *fut);

/* Finish the future. Errors: ACIO_EINVALSTATE if it is already done, -EINVAL on NULL or
 * on a task (tasks finish by returning). */
ACIO_EXTERN int acio_future_set_result(acio_future_t *fut, void *result);
/* Finish with an error: code must be negative; -ECANCELED is refused with -EINVAL (use
 * acio_future_cancel). fmt may be NULL (the message is then acio_strerror(code)). */
ACIO_EXTERN int acio_future_set_error(acio_future_t *fut, int code, const char *fmt, ...)
    ACIO_PRINTF(3, 4);
/* Cancel with an optional message. Returns 1 if the future was cancelled (or, for a
 * task, the cancellation was requested), 0 if it was already done (asyncio's bool). */
ACIO_EXTERN int acio_future_cancel(acio_future_t *fut, const char *msg);

ACIO_EXTERN acio_future_state_t acio_future_state(const acio_future_t *fut);
ACIO_EXTERN bool acio_future_done(const acio_future_t *fut);
ACIO_EXTERN bool acio_future_cancelled(const acio_future_t *fut);
/* What `await fut` / fut.result() gives: 0 and *result, the error code, -ECANCELED,
 * or ACIO_EINVALSTATE while pending. Marks the error as retrieved. result may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_future_result(acio_future_t *fut, void **result);
/* The error code (0 if none, -ECANCELED if cancelled, ACIO_EINVALSTATE if pending);
 * marks it retrieved. */
ACIO_EXTERN int acio_future_error(acio_future_t *fut);
/* The error's or cancellation's message, or NULL. Valid while you hold a reference. */
ACIO_EXTERN const char *acio_future_error_message(const acio_future_t *fut);

/* Add cb(fut, data); if fut is already done it is scheduled right away (call_soon).
 * Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_future_add_done_callback(acio_future_t *fut, acio_future_cb cb,
                                                             void *data);
/* Remove every registration of (cb, data); returns how many were removed. */
ACIO_EXTERN int acio_future_remove_done_callback(acio_future_t *fut, acio_future_cb cb, void *data);
ACIO_EXTERN acio_loop_t *acio_future_get_loop(const acio_future_t *fut);

/* A short description shown in task dumps for tasks that await this future ("sleep",
 * "lock", "queue.get", ...). The string must outlive the future (a literal). */
ACIO_EXTERN void acio_future_set_label(acio_future_t *fut, const char *label);
ACIO_EXTERN const char *acio_future_get_label(const acio_future_t *fut);

/* The user slot. */
ACIO_EXTERN void acio_future_set_data(acio_future_t *fut, void *data);
ACIO_EXTERN void *acio_future_get_data(const acio_future_t *fut);

#endif
