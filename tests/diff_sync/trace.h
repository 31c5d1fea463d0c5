/* Helpers shared by the sync, queue and aiter tests: a trace buffer that scenarios
 * append lines to (compared with expected text, or with what the same scenario prints
 * under CPython), and small task helpers. Header-only: each test file is its own
 * program. */
#ifndef ACIO_TESTS_SYNC_TRACE_H
#define ACIO_TESTS_SYNC_TRACE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <acio.h>

typedef struct {
    char buf[1 << 16];
    size_t len;
} trace_t;

static trace_t g_trace;

__attribute__((unused)) static void trace_reset(void)
{
    g_trace.len = 0, g_trace.buf[0] = 0;
}

__attribute__((unused, format(printf, 1, 2))) static void tr(const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof(g_trace.buf) - g_trace.len;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(g_trace.buf + g_trace.len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 > room)
        return; /* truncated: the comparison will fail visibly */
    g_trace.len += (size_t)n;
    g_trace.buf[g_trace.len++] = '\n';
    g_trace.buf[g_trace.len] = 0;
}

/* A short name for a result code in traces: "ok", "cancelled", or the code's name. */
__attribute__((unused)) static const char *rcname(int rc)
{
    if (rc == 0)
        return "ok";
    if (rc == -ECANCELED)
        return "cancelled";
    return acio_err_name(rc);
}

/* Create a task and keep a reference in *slot (the test releases it). */
#define SPAWN(slot, fn, arg, name)                                                                 \
    cr_assert_eq(acio_create_task((slot), (fn), (void *)(intptr_t)(arg), (name)), 0,               \
                 "create_task %s", name)

/* Let every ready task run n rounds. */
__attribute__((unused)) static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(acio_sleep(0), 0, "a yield of the test's own task failed");
}

#endif
