/* The one os-layer function the core calls: the hook run when a loop closes. It lives in
 * its own header so loop.c can include it without the os layer's internals. */
#ifndef ACIO_OS_HOOK_H
#define ACIO_OS_HOOK_H

#include "acio/common.h"

/* Call from acio_loop_close() on the loop's thread, after the "running" check and before
 * the fd table is torn down. It removes every signal handler of the loop (the user's and
 * acio's own SIGCHLD watcher), restores the signals' previous dispositions when no other
 * loop handles them, and closes the loop's signal eventfd, as asyncio's loop.close()
 * removes its signal handlers. Safe to call more than once, and for loops that never
 * handled a signal. */
void acio__os_loop_closing(acio_loop_t *loop);

#endif
