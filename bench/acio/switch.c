/* switch: the cost of one task switch. Two tasks take turns N times in all: each, in
 * turn, makes a fresh future for itself, finishes the other task's future (which wakes
 * that task through call_soon) and awaits its own. That is the form bench/py/bench.py
 * uses for asyncio and uvloop; Go's twin sends over an unbuffered channel.
 * Prints the CPU and wall ns per switch. Usage: bench_switch [N] (default 1e6). */
#include <acio.h>

#include "bench_util.h"

typedef struct {
    acio_future_t *futs[2]; /* each player's pending future, borrowed from its owner */
    long rounds;
} match_t;

typedef struct {
    match_t *match;
    int me;
} player_t;

/* Finish the other player's pending future, if it has one. */
static int wake(match_t *m, int other)
{
    acio_future_t *f = m->futs[other];
    if (f == NULL)
        return 0;
    m->futs[other] = NULL;
    return acio_future_set_result(f, NULL);
}

static void *player(void *arg)
{
    player_t *p = arg;
    match_t *m = p->match;
    acio_loop_t *loop = acio_get_running_loop();
    int other = !p->me;
    int rc;

    for (long i = 0; i < m->rounds; i++) {
        acio_future_t *f;
        if ((rc = acio_future_new(loop, &f)) < 0)
            return acio_raise(rc, "future_new");
        m->futs[p->me] = f;
        if ((rc = wake(m, other)) < 0) {
            acio_future_unref(f);
            return acio_raise(rc, "set_result");
        }
        rc = acio_await(f, NULL);
        acio_future_unref(f);
        if (rc < 0)
            return acio_raise(rc, "await");
    }
    /* The other player's last await is woken by nobody else. */
    if ((rc = wake(m, other)) < 0)
        return acio_raise(rc, "set_result");
    return NULL;
}

static void *bench_main(void *arg)
{
    long n = *(long *)arg;
    match_t m = {.futs = {NULL, NULL}, .rounds = n / 2};
    player_t ping = {&m, 0}, pong = {&m, 1};
    acio_task_t *t_ping, *t_pong;
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    int rc;

    if ((rc = acio_create_task(&t_pong, player, &pong, "pong")) < 0)
        return acio_raise(rc, "create_task");
    if ((rc = acio_create_task(&t_ping, player, &ping, "ping")) < 0) {
        acio_future_unref(t_pong);
        return acio_raise(rc, "create_task");
    }
    int rc1 = acio_await(t_pong, NULL);
    int rc2 = acio_await(t_ping, NULL);
    if (rc1 == 0 && rc2 == 0)
        bench_print_per_op(c0, t0, 2 * m.rounds);
    acio_future_unref(t_pong);
    acio_future_unref(t_ping);
    if (rc1 < 0 || rc2 < 0)
        return acio_raise(rc1 < 0 ? rc1 : rc2, "a player failed");
    return NULL;
}

int main(int argc, char **argv)
{
    return bench_acio_main("bench_switch", bench_main, argc, argv, 1000000);
}
