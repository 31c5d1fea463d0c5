/* Async iteration: Python's `async for` protocol (__aiter__ / __anext__ /
 * StopAsyncIteration) and async generators (`async def` with `yield`).
 *
 * An async iterator is any object that embeds an acio_aiter_t and fills in its anext
 * function: each call produces the next value (it may await, so call it from a task if
 * it does) or says ACIO_ESTOPASYNCITERATION when exhausted. ACIO_AFOR() loops over one.
 *
 * An async generator (acio_agen_t) runs a C function that hands values to its consumer
 * with acio_agen_yield() and may await anything in between. As in Python, the body runs
 * inside the task that asks for the next value (on a coroutine of its own, nested in
 * that task): a value that needs no waiting is handed over without the loop turning,
 * the body's awaits are the consumer's (cancelling the consumer makes the body's
 * pending await return -ECANCELED), and between two requests the body stays suspended
 * at its yield. acio_run() closes the generators still suspended on its loop, as
 * asyncio's shutdown_asyncgens does. See docs/aiter.md. */
#ifndef ACIO_AITER_H
#define ACIO_AITER_H

#include "common.h"

typedef struct acio_aiter_s acio_aiter_t;

/* The protocol. Implementations embed this struct in their object (first member, or
 * reach the object with container_of / the data slot). */
struct acio_aiter_s {
    /* __anext__: store the next value in *value and return 0, or return
     * ACIO_ESTOPASYNCITERATION when exhausted, or a negative error code. Required. */
    int (*anext)(acio_aiter_t *it, void **value);
    /* aclose(): stop early and run cleanup; may be NULL (nothing to clean up). Returns 0
     * or a negative error code. */
    int (*aclose)(acio_aiter_t *it);
    void *data; /* the user slot */
};

/* Python's anext(it): it->anext(it, value). value may be NULL.
 * Errors: -EINVAL (NULL it or no anext), or what anext returns. */
ACIO_EXTERN ACIO_NODISCARD int acio_anext(acio_aiter_t *it, void **value);
/* Python's `await it.aclose()`: it->aclose(it), or 0 if it has none. -EINVAL on NULL. */
ACIO_EXTERN int acio_aclose(acio_aiter_t *it);

/* `async for var in it: body` where var is a `void *` lvalue and rc an int lvalue:
 *
 *     void *line;
 *     int rc;
 *     ACIO_AFOR (rc, reader, line) {
 *         printf("%s\n", (char *)line);
 *     }
 *     if (acio_afor_failed(rc)) ... rc is the error ...
 *
 * After the loop rc is ACIO_ESTOPASYNCITERATION (exhausted), 0 (the body did `break`),
 * or the negative error that anext returned. `break` and `return` in the body are
 * plain C: the iterator is not closed (as in Python, where only garbage collection or
 * aclose() closes an async generator); call acio_aclose() if you stop early. */
#define ACIO_AFOR(rc, it, var)                                                                     \
    for ((rc) = acio_anext((it), &(var)); (rc) == 0; (rc) = acio_anext((it), &(var)))

/* True if rc, as left by ACIO_AFOR, is an error (neither exhaustion nor a break). */
ACIO_EXTERN bool acio_afor_failed(int rc);

/* The same loop as a function: body(value, arg) for each value; a body returning
 * non-zero stops the loop (1 for `break`, or a negative error). Returns 0 when the
 * iterator was exhausted, the body's non-zero value, or anext's error. */
ACIO_EXTERN ACIO_NODISCARD int acio_aiter_foreach(acio_aiter_t *it,
                                                  int (*body)(void *value, void *arg), void *arg);

/* ---- async generators ---- */

typedef struct acio_agen_s acio_agen_t;

/* A generator body. It yields values with acio_agen_yield(gen, ...) and ends by
 * returning 0 (the consumer then gets ACIO_ESTOPASYNCITERATION) or a negative code (the
 * consumer's request returns it once; the generator is then finished). It runs inside
 * the requesting task: acio_current_task() is the consumer. */
typedef int (*acio_agen_fn)(acio_agen_t *gen, void *arg);

/* A new async generator that will run fn(gen, arg) inside the tasks that request its
 * values (all on the loop of the first request), on a stack of stack_size bytes (0: the
 * loop's default task stack), taken at the first request and given back when the body
 * ends. Creating it allocates only the generator itself; nothing runs until then.
 * Ownership: *out is the caller's, released with acio_agen_free().
 * Errors: -EINVAL (NULL out or fn, stack_size below ACIO_STACK_MIN), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_new(acio_agen_t **out, acio_agen_fn fn, void *arg,
                                             size_t stack_size);
/* Release the generator. If its body is suspended at a yield, it is closed first: from
 * a task of its loop, like acio_agen_aclose() (the cleanup runs now and the return value
 * is aclose's); otherwise (or if the body yields again while closing) its pending yield
 * returns -ECANCELED once, the cleanup's waits fail with ACIO_ENOTASK outside a task,
 * and the body is abandoned where it next stops. Returns ACIO_ERUNNING, changing
 * nothing, while a request is in progress. NULL is a no-op. */
ACIO_EXTERN int acio_agen_free(acio_agen_t *gen);

/* The generator as an async iterator (borrowed; valid until acio_agen_free). */
ACIO_EXTERN acio_aiter_t *acio_agen_aiter(acio_agen_t *gen);

/* `await gen.__anext__()`, from a task: run the body, inside this task, until it yields
 * (0, *value = the value), ends (ACIO_ESTOPASYNCITERATION) or fails (its code, once).
 * Errors:
 * ACIO_ERUNNING (another task is inside a request: "already running"), ACIO_ENOTASK,
 * -EINVAL (NULL, or a generator started on another loop), -ENOMEM; if the caller is
 * cancelled, usually -ECANCELED (whatever the body makes of its cancellation).
 * value may be NULL. */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_anext(acio_agen_t *gen, void **value);
/* `await gen.asend(send)`: as anext, and the body's pending acio_agen_yield() receives
 * send. The first call must send NULL (-EINVAL otherwise, as in Python). */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_asend(acio_agen_t *gen, void *send, void **value);
/* `await gen.athrow(code)`: the body's pending acio_agen_yield() returns code (negative);
 * then as anext. A generator that has not started is finished without running, and
 * code is returned. */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_athrow(acio_agen_t *gen, int code, void **value);
/* `await gen.aclose()`: if suspended at a yield, make that acio_agen_yield() return
 * ACIO_EGENERATOREXIT and run the body to its end (its cleanup may await). Returns 0
 * once finished (also for a generator not started or already finished);
 * ACIO_EGENERATOREXIT if the body yielded a value instead of ending (it stays
 * suspended, like Python's RuntimeError "async generator ignored GeneratorExit"); a
 * negative code the body returned while closing; ACIO_ERUNNING. */
ACIO_EXTERN int acio_agen_aclose(acio_agen_t *gen);

/* Inside the body: hand value to the consumer and suspend until the next request.
 * Returns 0 (resumed by anext/asend; *sent receives the sent value, NULL for anext),
 * the code passed to athrow, ACIO_EGENERATOREXIT when the generator is being closed
 * (aclose, or acio_run's shutdown, as asyncio's shutdown_asyncgens closes generators),
 * or -ECANCELED when it is abandoned (freed outside a task). On ACIO_EGENERATOREXIT and
 * -ECANCELED the body must clean up and return. sent may be NULL.
 * Errors: -EINVAL if called outside gen's body, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_yield(acio_agen_t *gen, void *value, void **sent);

/* `raise SomeError("msg")` inside the body: record the message that goes with code
 * (printf-style, copied) and return code, so the body can end with
 * `return acio_agen_raise(gen, -EIO, "bad row %d", n);`. The consumer's request then
 * returns code and acio_agen_error_message() gives the message. */
ACIO_EXTERN int acio_agen_raise(acio_agen_t *gen, int code, const char *fmt, ...) ACIO_PRINTF(3, 4);
/* `await gen.athrow(SomeError("msg"))`: acio_agen_athrow with a message (copied, may be
 * NULL) that the body reads with acio_agen_error_message() once its yield returned code;
 * if the body lets the error end it (returns code), the consumer reads the same message. */
ACIO_EXTERN ACIO_NODISCARD int acio_agen_athrow_msg(acio_agen_t *gen, int code, const char *msg,
                                                    void **value);
/* The message that goes with the last error passed through the generator, or NULL: in the
 * consumer, after a request returned the body's error (acio_agen_raise, or athrow's
 * message when the body let the thrown error end it); in the body, after
 * acio_agen_yield() returned athrow's code. Each request clears it first (athrow_msg then
 * sets its own). Valid until the next request or acio_agen_free. */
ACIO_EXTERN const char *acio_agen_error_message(const acio_agen_t *gen);

/* True once the body has returned (or the generator was closed). */
ACIO_EXTERN bool acio_agen_finished(const acio_agen_t *gen);

#endif
