/* Seed 001 §3.8 "异步上下文管理器" (asynchronous context managers): an object whose
 * __aenter__ and __aexit__ await (connecting to and disconnecting from a database,
 * simulated with sleeps), used with `async with`:
 *
 *     class AsyncContextManager:
 *         def __init__(self):
 *             self.conn = None
 *
 *         async def do_something(self):
 *             # 异步操作数据库 (work with the database asynchronously)
 *             return 666
 *
 *         async def __aenter__(self):
 *             # 异步链接数据库 (connect to the database asynchronously)
 *             self.conn = await asyncio.sleep(1)
 *             return self
 *
 *         async def __aexit__(self, exc_type, exc, tb):
 *             # 异步关闭数据库链接 (close the connection asynchronously)
 *             await asyncio.sleep(1)
 *
 *     async def func():
 *         async with AsyncContextManager() as f:
 *             result = await f.do_something()
 *             print(result)
 *
 *     asyncio.run(func())
 *
 * The seed's code does not run as printed: its __init__ is indented with a tab where
 * the other methods use spaces (Python stops with a TabError), and it assigns an
 * undefined name `conn` (a NameError); this is the program with those two fixed, which prints 666
 * after 1 s and ends 1 s later. C has no `async with`: the block calls aenter, runs the
 * body, and calls aexit on every way out of the body, as the statement does. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

typedef struct {
    void *conn;
} async_context_manager_t;

static intptr_t do_something(async_context_manager_t *self)
{
    (void)self;
    return 666;
}

static int aenter(async_context_manager_t *self)
{
    int rc = acio_sleep(1);
    self->conn = NULL; /* asyncio.sleep's result: None */
    return rc;
}

static int aexit(async_context_manager_t *self, int exc)
{
    (void)self, (void)exc;
    return acio_sleep(1);
}

static void *func(void *arg)
{
    (void)arg;
    async_context_manager_t mgr = {NULL};
    int rc = aenter(&mgr); /* async with AsyncContextManager() as f: */
    if (rc < 0)
        return acio_raise(rc, "__aenter__ failed");
    async_context_manager_t *f = &mgr;
    intptr_t result = do_something(f);
    printf("%ld\n", (long)result);
    int rc_exit = aexit(&mgr, 0); /* leaving the block */
    return rc_exit < 0 ? acio_raise(rc_exit, "__aexit__ failed") : NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "async_context_manager: %s\n", acio_strerror(rc));
    return rc < 0;
}
