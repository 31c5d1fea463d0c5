/* The diff_scenarios program: the scenario registry, main(), and the printing helpers
 * declared in diff.h. Scenarios register themselves from constructors (DIFF_SCENARIO),
 * so adding one means writing it in one scenarios_*.c file and in scenarios.py. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"

#define DIFF_MAX_SCENARIOS 256

static struct {
    const char *name;
    diff_scenario_fn fn;
} registry[DIFF_MAX_SCENARIOS];
static size_t registered;

void diff_register(const char *name, diff_scenario_fn fn)
{
    if (registered == DIFF_MAX_SCENARIOS) {
        fprintf(stderr, "diff_scenarios: too many scenarios (raise DIFF_MAX_SCENARIOS)\n");
        abort();
    }
    registry[registered].name = name;
    registry[registered].fn = fn;
    registered++;
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

const char *tf(bool x)
{
    return x ? "true" : "false";
}

/* The Python exception type each scenario pairs with an acio code. */
static const char *python_type(int code)
{
    switch (code) {
    case -EINVAL:
        return "ValueError";
    case -EIO:
        return "RuntimeError";
    case -ETIMEDOUT:
        return "TimeoutError";
    case ACIO_EINVALSTATE:
        return "InvalidStateError";
    default:
        return acio_err_name(code);
    }
}

const char *diff_err_text(int code, const char *msg)
{
    /* Rotating buffers so one say() can format several errors. */
    static char bufs[4][512];
    static unsigned next;
    char *buf = bufs[next++ % 4];

    if (code == -ECANCELED) {
        if (msg && msg[0])
            snprintf(buf, sizeof bufs[0], "cancelled: %s", msg);
        else
            snprintf(buf, sizeof bufs[0], "cancelled");
    } else {
        snprintf(buf, sizeof bufs[0], "error %s: %s", python_type(code), msg ? msg : "(null)");
    }
    return buf;
}

const char *diff_fut_text(acio_future_t *fut)
{
    static char bufs[4][64];
    static unsigned next;
    void *result = NULL;
    int rc = acio_future_result(fut, &result);

    if (rc < 0)
        return diff_err_text(rc, acio_future_error_message(fut));
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "result %ld", DIFF_INT(result));
    return buf;
}

void diff_unexpected(const char *expr, int rc, const char *file, int line)
{
    say("unexpected: %s returned %s (%s:%d)", expr, acio_err_name(rc), file, line);
    exit(3);
}

void diff_cb_say(void *msg)
{
    say("%s", (const char *)msg);
}

void diff_cb_stop(void *loop)
{
    TRY(acio_loop_stop(loop));
}

void diff_cb_label(acio_future_t *fut, void *label)
{
    say("%s: %s", (const char *)label, diff_fut_text(fut));
}

void diff_run(acio_coro_fn fn)
{
    TRY(acio_run(fn, NULL, NULL));
}

acio_future_t *diff_future_new(void)
{
    acio_future_t *fut = NULL;
    TRY(acio_future_new(acio_get_running_loop(), &fut));
    return fut;
}

static void ticker_tick(void *data)
{
    diff_ticker_t *t = data;
    say("-- tick %d", t->k);
    if (t->k < t->last) {
        t->k++;
        TRY(acio_loop_call_soon(t->loop, ticker_tick, t, NULL));
    } else {
        TRY(acio_loop_stop(t->loop));
    }
}

void diff_ticker_start(diff_ticker_t *t, acio_loop_t *loop, int last)
{
    t->loop = loop;
    t->k = 0;
    t->last = last;
    TRY(acio_loop_call_soon(loop, ticker_tick, t, NULL));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < registered; i++)
            printf("%s\n", registry[i].name);
        return 0;
    }
    if (argc == 2) {
        for (size_t i = 0; i < registered; i++) {
            if (strcmp(argv[1], registry[i].name) == 0) {
                registry[i].fn();
                return 0;
            }
        }
    }
    fprintf(stderr, "usage: %s --list | NAME\n", argv[0]);
    return 2;
}
