/* loop.add_signal_handler, as in asyncio's documentation ("Set signal handlers for
 * SIGINT and SIGTERM") and the way servers use it to shut down cleanly:
 *
 *     def ask_exit(signame, stop):
 *         print(f"got signal {signame}: exit")
 *         stop.set()
 *
 *     async def main():
 *         loop = asyncio.get_running_loop()
 *         stop = asyncio.Event()
 *         loop.add_signal_handler(signal.SIGUSR1, lambda: print("got SIGUSR1: reload"))
 *         for signame in ('SIGINT', 'SIGTERM'):
 *             loop.add_signal_handler(getattr(signal, signame),
 *                                     functools.partial(ask_exit, signame, stop))
 *         print("serving; send SIGTERM or press Ctrl-C to stop")
 *         os.kill(os.getpid(), signal.SIGUSR1)          # as another process would
 *         loop.call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
 *         await stop.wait()
 *         print("shutting down")
 *
 *     asyncio.run(main())
 *
 * The handlers run on the loop like any callback, so they may set futures or cancel
 * tasks; a raw sigaction handler could not. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

static void reload(int signo, void *data)
{
    (void)signo;
    (void)data;
    printf("got SIGUSR1: reload\n");
}

static void ask_exit(int signo, void *data)
{
    acio_future_t *stop = data;
    printf("got signal %s: exit\n", signo == SIGINT ? "SIGINT" : "SIGTERM");
    if (!acio_future_done(stop))
        acio_future_set_result(stop, NULL);
}

static void send_sigterm(void *data)
{
    (void)data;
    kill(getpid(), SIGTERM);
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *stop;
    int rc = acio_future_new(loop, &stop);
    if (rc < 0)
        return acio_raise(rc, "future");
    if ((rc = acio_loop_add_signal_handler(loop, SIGUSR1, reload, NULL)) < 0 ||
        (rc = acio_loop_add_signal_handler(loop, SIGINT, ask_exit, stop)) < 0 ||
        (rc = acio_loop_add_signal_handler(loop, SIGTERM, ask_exit, stop)) < 0) {
        acio_loop_remove_signal_handlers(loop);
        acio_future_unref(stop);
        return acio_raise(rc, "add_signal_handler: %s", acio_strerror(rc));
    }
    printf("serving; send SIGTERM or press Ctrl-C to stop\n");
    kill(getpid(), SIGUSR1); /* as another process would */
    rc = acio_loop_call_later(loop, 0.1, send_sigterm, NULL, NULL);
    if (rc == 0)
        rc = acio_await(stop, NULL);
    printf("shutting down\n");
    /* Handlers are the loop's until removed: give the signals back before returning. */
    acio_loop_remove_signal_handlers(loop);
    acio_future_unref(stop);
    return rc < 0 ? acio_raise(rc, "wait: %s", acio_strerror(rc)) : NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
