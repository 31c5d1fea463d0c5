/* Seed 001 §3.7, an asynchronous iterator used with async for:
 *
 *     class Reader(object):
 *         def __init__(self):
 *             self.count = 0
 *         async def readline(self):
 *             # await asyncio.sleep(1)
 *             self.count += 1
 *             if self.count == 100:
 *                 return None
 *             return self.count
 *         def __aiter__(self):
 *             return self
 *         async def __anext__(self):
 *             val = await self.readline()
 *             if val == None:
 *                 raise StopAsyncIteration
 *             return val
 *
 *     async def func():
 *         obj = Reader()
 *         async for item in obj:
 *             print(item)
 *
 * In C an async iterator is a struct with an anext function that may await (it runs on
 * the caller's task) and returns ACIO_ESTOPASYNCITERATION at the end; `async for` is a
 * while loop over it. */
#include <stdio.h>

#include <acio.h>

struct reader {
    int count;
};

/* Returns the next line number, or 0 at the end (the seed's None). */
static int reader_readline(struct reader *self)
{
    /* acio_sleep(1) could go here: readline may await, being called from a task */
    self->count += 1;
    if (self->count == 100)
        return 0;
    return self->count;
}

/* __anext__: 0 and *val, or ACIO_ESTOPASYNCITERATION. */
static int reader_anext(struct reader *self, int *val)
{
    *val = reader_readline(self);
    if (*val == 0)
        return ACIO_ESTOPASYNCITERATION;
    return 0;
}

static void *func(void *arg)
{
    (void)arg;
    struct reader obj = {.count = 0};
    int item;
    while (reader_anext(&obj, &item) == 0)
        printf("%d\n", item);
    return NULL;
}

int main(void)
{
    int rc = acio_run(func, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "async_reader: %s\n", acio_strerror(rc));
    return rc < 0;
}
