/* Async iteration: Python's `async for` protocol (__aiter__ / __anext__ /
 * StopAsyncIteration) and async generators (`async def` with `yield`).
 *
 * An async iterator is any object that embeds an acio_aiter_t and fills in its anext
 * function: each call produces the next value (it may await, so call it from a task if
 * it does) or says ACIO_ESTOPASYNCITERATION when exhausted. ACIO_AFOR() loops over one.
 *
 * An async generator (acio_agen_t) runs a C function on its own coroutine stack; the
 * function hands values to its consumer with acio_agen_yield() and may await anything
 * in between. As in Python, the generator runs inside the consumer's task: while it
 * awaits, the task that asked for the next value is the one suspended, and cancelling
 * that task makes the generator's pending await return -ECANCELED. Nothing runs in the
 * background between two requests. */
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
ACIO_EXTERN int acio_anext(acio_aiter_t *it, void **value);
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
ACIO_EXTERN int acio_aiter_foreach(acio_aiter_t *it, int (*body)(void *value, void *arg),
                                   void *arg);

/* ---- async generators ---- */

typedef struct acio_agen_s acio_agen_t;

/* A generator body. It yields values with acio_agen_yield(gen, ...) and ends by
 * returning 0 (the consumer then gets ACIO_ESTOPASYNCITERATION) or a negative code (the
 * consumer's anext returns it once; the generator is then finished). Inside a body,
 * report errors by returning them, not with acio_raise(), which would mark the
 * consumer's task as failing. */
typedef int (*acio_agen_fn)(acio_agen_t *gen, void *arg);

/* A new async generator that will run fn(gen, arg) on its own stack (stack_size 0: the
 * default, see acio_coro_set_default_stack_size), started by the first anext.
 * Ownership: *out is the caller's, released with acio_agen_free().
 * Errors: -EINVAL, -ENOMEM. */
ACIO_EXTERN int acio_agen_new(acio_agen_t **out, acio_agen_fn fn, void *arg, size_t stack_size);
/* Close the generator if it is suspended (running its cleanup, see acio_agen_aclose)
 * and free it. The memory is always released; the return value is the close result
 * (0, or ACIO_EGENERATOREXIT if the body yielded again while closing: its stack was
 * then discarded without unwinding). Returns ACIO_ERUNNING, freeing nothing, if a task
 * is inside its anext right now. NULL is a no-op. */
ACIO_EXTERN int acio_agen_free(acio_agen_t *gen);

/* The generator as an async iterator (borrowed; valid until acio_agen_free). */
ACIO_EXTERN acio_aiter_t *acio_agen_aiter(acio_agen_t *gen);

/* `await gen.__anext__()`: run the body until it yields (0, *value = the value), ends
 * (ACIO_ESTOPASYNCITERATION) or fails (its code). Errors: ACIO_ERUNNING (another task is
 * inside this generator: "already running"), -EINVAL. value may be NULL. */
ACIO_EXTERN int acio_agen_anext(acio_agen_t *gen, void **value);
/* `await gen.asend(send)`: as anext, and the body's pending acio_agen_yield() receives
 * send. The first call must send NULL (-EINVAL otherwise, as in Python). */
ACIO_EXTERN int acio_agen_asend(acio_agen_t *gen, void *send, void **value);
/* `await gen.athrow(code)`: the body's pending acio_agen_yield() returns code (negative);
 * then as anext. A generator that has not started is finished without running, and
 * code is returned. */
ACIO_EXTERN int acio_agen_athrow(acio_agen_t *gen, int code, void **value);
/* `await gen.aclose()`: if suspended at a yield, make that acio_agen_yield() return
 * ACIO_EGENERATOREXIT and run the body to its end (its cleanup may await). Returns 0
 * once finished (also for a generator not started or already finished);
 * ACIO_EGENERATOREXIT if the body yielded a value instead of ending (it stays
 * suspended, like Python's RuntimeError "async generator ignored GeneratorExit"); a
 * negative code the body returned while closing; ACIO_ERUNNING. */
ACIO_EXTERN int acio_agen_aclose(acio_agen_t *gen);

/* Inside the body: hand value to the consumer and suspend until the next request.
 * Returns 0 (resumed by anext/asend; *sent receives the sent value, NULL for anext),
 * the code passed to athrow, or ACIO_EGENERATOREXIT when the generator is being closed:
 * the body must then clean up and return (yielding again is an error). sent may be NULL.
 * Errors: -EINVAL if gen is not the generator running now. */
ACIO_EXTERN int acio_agen_yield(acio_agen_t *gen, void *value, void **sent);

/* True once the body has returned (or the generator was closed). */
ACIO_EXTERN bool acio_agen_finished(const acio_agen_t *gen);

#endif
