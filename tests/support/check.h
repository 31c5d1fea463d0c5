/* Checks for the bodies of test coroutines, and running one as a program's main task.
 * A failed cr_assert inside a coroutine ends the test process from the coroutine's stack;
 * CHECK instead makes the task fail the way a coroutine raises (the task's code and
 * message), so the loop closes normally and run_ok() reports the message. Header-only:
 * each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_CHECK_H
#define ACIO_TESTS_SUPPORT_CHECK_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "acio.h"

/* In a coroutine (returning void *): fail the task with -EPROTO and the message. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return acio_raise(-EPROTO, __VA_ARGS__);                                               \
    } while (0)

/* The same in a helper returning int: -1 once the task recorded the failure. */
#define CHECK_INT(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            acio_raise(-EPROTO, __VA_ARGS__);                                                      \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* In a task: yield to the loop until cond holds, for at most ~5 s of 1 ms sleeps, or until
 * the task is cancelled (the caller checks cond afterwards; this never asserts on time). */
#define WAIT_UNTIL(cond)                                                                           \
    do {                                                                                           \
        for (int i_ = 0; i_ < 5000 && !(cond); i_++)                                               \
            if (acio_sleep(0.001) < 0) /* cancelled: stop waiting */                               \
                break;                                                                             \
    } while (0)

/* acio_run_ex(fn, arg) and assert that the main task succeeded, naming its error and
 * message if not. */
static inline void run_ok(acio_coro_fn fn, void *arg)
{
    char *msg = NULL;
    int rc = acio_run_ex(fn, arg, NULL, &msg);
    char text[512];
    snprintf(text, sizeof text, "%s", msg ? msg : "");
    free(msg);
    cr_assert_eq(rc, 0, "main failed: %s: %s", acio_err_name(rc), text);
}

#endif
