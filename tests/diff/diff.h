/* The C side of the differential tests against CPython: what every scenarios_*.c file
 * shares. Each scenario is written twice, once in tests/diff/scenarios.py (asyncio) and
 * once here with acio, under the same name; compare.py runs both and compares the traces
 * line by line. The program `diff_scenarios NAME` runs one scenario, `--list` names them.
 *
 * A scenario is declared with DIFF_SCENARIO(name) at the start of a line: CMake reads
 * those lines to register one ctest test per scenario, so a failure names it.
 *
 * Printing conventions mirror scenarios.py: say() prints one line and flushes;
 * diff_err_text() renders an error the way Python renders an exception ("error
 * ValueError: msg", "cancelled", "cancelled: msg"), mapping acio codes to the Python
 * exception types used on the other side. */
#ifndef ACIO_TESTS_DIFF_H
#define ACIO_TESTS_DIFF_H

#include <stdint.h>
#include <stdlib.h>

#include "acio.h"

typedef void (*diff_scenario_fn)(void);

/* Called by DIFF_SCENARIO's constructors before main(); name must be a literal. */
void diff_register(const char *name, diff_scenario_fn fn);

#define DIFF_SCENARIO(name)                                                                        \
    static void diff_scenario_##name(void);                                                        \
    __attribute__((constructor)) static void diff_register_##name(void)                            \
    {                                                                                              \
        diff_register(#name, diff_scenario_##name);                                                \
    }                                                                                              \
    static void diff_scenario_##name(void)

/* One line of trace on stdout, flushed. */
void say(const char *fmt, ...) ACIO_PRINTF(1, 2);

/* "error <PythonType>: <msg>", "cancelled" or "cancelled: <msg>" for code (< 0) and the
 * message carried with it (may be NULL). The string lives in one of a few rotating
 * static buffers: valid until four more calls. */
const char *diff_err_text(int code, const char *msg);
/* What fut holds, printed like scenarios.py's fut_text(): "result <n>" (the result as
 * an integer), "cancelled[: msg]" or "error <Type>: <msg>". Marks an error retrieved. */
const char *diff_fut_text(acio_future_t *fut);
/* "true" / "false", as scenarios.py's b(). */
const char *tf(bool x);

/* An acio call that must succeed did not: print it into the trace (so the comparison
 * fails and shows where) and exit with status 3. */
void diff_unexpected(const char *expr, int rc, const char *file, int line);
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int diff_rc_ = (expr);                                                                     \
        if (diff_rc_ < 0)                                                                          \
            diff_unexpected(#expr, diff_rc_, __FILE__, __LINE__);                                  \
    } while (0)

/* A call whose code the scenario deliberately does not look at: the sleep a cancellation
 * interrupts, after which returning ends the task cancelled (docs/cancellation.md's
 * rule), as the CancelledError propagating out of scenarios.py's `await` does. */
static inline void diff_unchecked_(int rc)
{
    (void)rc;
}
#define UNCHECKED(expr) diff_unchecked_(expr)

/* Callbacks many scenarios use: print data as a string; stop the loop passed as data;
 * a done callback printing "<label>: <diff_fut_text(fut)>". */
void diff_cb_say(void *msg);
void diff_cb_stop(void *loop);
void diff_cb_label(acio_future_t *fut, void *label);

/* acio_run(fn, NULL, NULL), which must succeed (scenarios whose main fails call
 * acio_run themselves). */
void diff_run(acio_coro_fn fn);
/* A new future on the running loop (the caller owns the reference). */
acio_future_t *diff_future_new(void);

/* scenarios.py's Ticker: scheduled first, it runs first in every iteration, prints
 * "-- tick k" and reschedules itself; after tick `last` it stops the loop. */
typedef struct {
    acio_loop_t *loop;
    int k;
    int last;
} diff_ticker_t;
void diff_ticker_start(diff_ticker_t *t, acio_loop_t *loop, int last);

/* Results travel as void *; the scenarios use small integers and string literals. */
#define DIFF_INT(p) ((long)(intptr_t)(p))
#define DIFF_PTR(n) ((void *)(intptr_t)(n))

#endif
