/* Unix signals delivered on the event loop: asyncio's loop.add_signal_handler() and
 * loop.remove_signal_handler(). A handler registered here runs as an ordinary loop
 * callback on the loop's thread, so it may call any acio function (cancel a task, set a
 * future, stop the loop), unlike a raw sigaction handler.
 *
 * How it works (see docs/signal.md): a process-wide sigaction handler records the signal
 * in a lock-free pending mask of every loop that asked for it and writes to that loop's
 * eventfd; the loop reads the eventfd and calls the handlers. Signals are never blocked,
 * so thread pools and other threads need no special signal mask.
 *
 * Threads: call these on the loop's thread. Several loops (in several threads) may
 * handle the same signal; each of them gets it. */
#ifndef ACIO_SIGNAL_H
#define ACIO_SIGNAL_H

#include "common.h"

/* Called on the loop, once or more after signo arrived. Like the kernel, acio coalesces:
 * the same signal arriving several times before the loop wakes up runs the handler
 * once. */
typedef void (*acio_signal_cb)(int signo, void *data);

/* Run cb(signo, data) on loop whenever the process receives signo. A handler already
 * registered for signo on this loop is replaced, as asyncio does (its data is not
 * touched: the caller still owns it). The previous process-wide disposition of signo
 * (SIG_DFL, SIG_IGN or another library's sigaction handler) is saved and restored when
 * the last loop removes its handler for signo. System calls interrupted by the signal
 * are restarted (SA_RESTART, as asyncio's siginterrupt(sig, False)).
 * Ownership: data stays the caller's; acio only passes it to cb.
 * Errors: -EINVAL (NULL loop or cb; signo outside 1..NSIG-1; SIGKILL or SIGSTOP, which
 * cannot be caught; a real-time signal reserved by the C library), ACIO_ECLOSED,
 * -ENOMEM, -EMFILE / -ENFILE (no fd for the loop's eventfd), -EBUSY (more than 64
 * loops handle signals at once). On error no handler is installed and cb never runs. */
ACIO_EXTERN ACIO_NODISCARD int acio_loop_add_signal_handler(acio_loop_t *loop, int signo,
                                                            acio_signal_cb cb, void *data);

/* Remove the handler for signo. Returns 1 if a handler was removed, 0 if none was
 * registered (asyncio's bool), -EINVAL for a NULL loop or an invalid signo. When no loop
 * handles signo any more, its previous disposition is restored. */
ACIO_EXTERN int acio_loop_remove_signal_handler(acio_loop_t *loop, int signo);

/* Remove every signal handler of loop (what asyncio's loop.close() does). Call it before
 * acio_loop_close() if the loop still has handlers: the loop's eventfd is registered as a
 * reader until then. Returns how many handlers were removed. */
ACIO_EXTERN int acio_loop_remove_signal_handlers(acio_loop_t *loop);

#endif
