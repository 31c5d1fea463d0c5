/* Seed 003 §2.1, driving a coroutine by hand with send() (no event loop):
 *
 *     class Rock:
 *         def __await__(self):
 *             value_sent_in = yield 7
 *             print(f"Rock.__await__ resuming with value: {value_sent_in}.")
 *             return value_sent_in
 *
 *     async def main():
 *         print("Beginning coroutine main().")
 *         rock = Rock()
 *         print("Awaiting rock...")
 *         value_from_rock = await rock
 *         print(f"Coroutine received value: {value_from_rock} from rock.")
 *         return 23
 *
 *     coroutine = main()
 *     intermediate_result = coroutine.send(None)
 *     ...
 *     coroutine.send(42)  # raises StopIteration(23)
 *
 * acio's coroutines are stackful, so Rock.__await__ is an ordinary function that yields
 * from deep inside main's stack: acio_coro_yield() suspends the whole coroutine and
 * hands 7 to acio_coro_resume(). StopIteration is the return code ACIO_ESTOPITERATION.
 * Integers travel through the void * values as intptr_t. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static intptr_t rock_await(void)
{
    intptr_t value_sent_in = (intptr_t)acio_coro_yield((void *)(intptr_t)7);
    printf("Rock.__await__ resuming with value: %ld.\n", (long)value_sent_in);
    return value_sent_in;
}

static void *main_coro(void *arg)
{
    (void)arg;
    printf("Beginning coroutine main().\n");
    printf("Awaiting rock...\n");
    intptr_t value_from_rock = rock_await();
    printf("Coroutine received value: %ld from rock.\n", (long)value_from_rock);
    return (void *)(intptr_t)23;
}

int main(void)
{
    acio_coro_t *coroutine;
    int rc = acio_coro_new(&coroutine, main_coro, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "rock: %s\n", acio_strerror(rc));
        return 1;
    }
    void *intermediate_result;
    rc = acio_coro_resume(coroutine, NULL, &intermediate_result);
    if (rc != 0)
        goto fail;
    printf("Coroutine paused and returned intermediate value: %ld.\n",
           (long)(intptr_t)intermediate_result);

    printf("Resuming coroutine and sending in value: 42.\n");
    void *returned_value;
    rc = acio_coro_resume(coroutine, (void *)(intptr_t)42, &returned_value);
    if (rc != ACIO_ESTOPITERATION)
        goto fail;
    printf("Coroutine main() finished and provided value: %ld.\n", (long)(intptr_t)returned_value);
    acio_coro_free(coroutine);
    return 0;

fail:
    fprintf(stderr, "rock: unexpected %d (%s)\n", rc, acio_strerror(rc));
    acio_coro_free(coroutine);
    return 1;
}
