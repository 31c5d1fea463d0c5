/* Things every acio public header needs: the export macro and basic includes.
 * Users include <acio.h>, never this file directly. */
#ifndef ACIO_COMMON_H
#define ACIO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(ACIO_BUILDING) && defined(__GNUC__)
#define ACIO_EXTERN __attribute__((visibility("default")))
#else
#define ACIO_EXTERN
#endif

#if defined(__GNUC__)
#define ACIO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ACIO_PRINTF(fmt, args)
#endif

/* On every function whose returned code must be looked at: a call that can suspend (its
 * code carries cancellation, the C form of an exception), a constructor (the out-pointer
 * is unset on failure) or an operation whose failure loses data. `acio_sleep(1);` with
 * the code dropped is C's "coroutine was never awaited", so the compiler warns about it.
 * GCC does not accept a (void) cast as looking: handle the code. */
#if defined(__GNUC__)
#define ACIO_NODISCARD __attribute__((warn_unused_result))
#else
#define ACIO_NODISCARD
#endif

typedef struct acio_loop_s acio_loop_t;
typedef struct acio_handle_s acio_handle_t;
typedef struct acio_future_s acio_future_t;
/* A task is a future driven by a coroutine (asyncio.Task subclasses asyncio.Future), so
 * every acio_future_* function also accepts a task. */
typedef struct acio_future_s acio_task_t;
typedef struct acio_coro_s acio_coro_t;

/* A coroutine function: the body of a task or of a generator. It returns its result
 * (like `return x` in an async def); it fails by returning acio_raise(...). */
typedef void *(*acio_coro_fn)(void *arg);

#endif
