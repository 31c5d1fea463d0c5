/* The one executor function the core calls: the hook run when a loop closes. It lives in
 * its own header so loop.c can include it without the executor's internals. */
#ifndef ACIO_EXECUTOR_HOOK_H
#define ACIO_EXECUTOR_HOOK_H

#include "acio/common.h"

/* Call from acio_loop_close() on the loop's thread, after the "running" check and before
 * pending callbacks are dropped. It stops every completion from reaching the closing
 * loop (workers still running drop their results), drops the loop's references to its
 * jobs (removing those that have not started, raising the cancel flag of the others) and
 * shuts the loop's default executor down without waiting, as asyncio's loop.close()
 * does. Safe to call more than once, and for loops that never used an executor. */
void acio__executor_loop_closing(acio_loop_t *loop);

#endif
