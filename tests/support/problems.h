/* The loop's exception handler as a counter, and the set-up / tear-down most test suites
 * share: no problem reported by the loop, no fd left open, no child left unreaped.
 * asyncio's loop reports what it cannot raise anywhere (a callback that failed, a task
 * destroyed while pending) to its exception handler; a test that passes must not have
 * caused any such report unless it expects one (problems_expect()). Header-only: each
 * test file is its own program, and these counters are that program's. */
#ifndef ACIO_TESTS_SUPPORT_PROBLEMS_H
#define ACIO_TESTS_SUPPORT_PROBLEMS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "acio.h"
#include "support/fds.h"

static int problems;              /* reports not expected */
static int problems_expected;     /* reports whose message contained problems_expect()'s text */
static const char *problems_text; /* the expected text, or NULL */
static int fds_before;            /* count_fds() at set-up */

static inline void on_problem(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    if (problems_text && ctx->message && strstr(ctx->message, problems_text)) {
        problems_expected++;
        return;
    }
    problems++;
    fprintf(stderr, "exception handler: %s\n", ctx->message);
}

/* Reports whose message contains text are expected: counted in problems_expected. */
static inline void problems_expect(const char *text)
{
    problems_text = text;
}

/* In a task: route the running loop's reports to on_problem. Returns the loop. */
static inline acio_loop_t *watch_problems(void)
{
    acio_loop_t *loop = acio_get_running_loop();
    acio_loop_set_exception_handler(loop, on_problem, NULL);
    return loop;
}

static inline void problems_setup(void)
{
    problems = problems_expected = 0;
    problems_text = NULL;
    fds_before = count_fds();
}

static inline void expect_no_problems(void)
{
    cr_expect_eq(problems, 0, "the loop reported %d problems", problems);
}

static inline void expect_no_fd_leaked(void)
{
    cr_expect_eq(count_fds(), fds_before, "fds open: %d, before: %d", count_fds(), fds_before);
}

/* No child left behind, reaped or not. */
static inline void expect_no_child(void)
{
    cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is still around");
}

/* The usual tear-down: no problem reported, no fd left open. */
static inline void problems_teardown(void)
{
    expect_no_problems();
    expect_no_fd_leaked();
}

#endif
