/* Must NOT compile with -Werror=unused-result: the sleep's code is dropped, C's form of
 * asyncio's "coroutine was never awaited" (tests/nodiscard/check.cmake). */
#include <acio.h>

void *body(void *arg);

void *body(void *arg)
{
    (void)arg;
    acio_sleep(1);
    return NULL;
}
