/* A task whose single frame is larger than what is left of its stack: the frame must not
 * jump the guard area into another task's stack (silent corruption), nor die of a bare
 * SIGSEGV, but stop the process with docs/stacks.md's "stack overflow in task ..."
 * message. Only the far (lowest) end of each frame is written, the worst case.
 *
 * Each case runs in a child process (tests/support/child.h) so the test can check both
 * the SIGABRT and the message. AddressSanitizer builds skip them: ASan owns SIGSEGV there
 * and reports the overflow itself (docs/stacks.md). */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include <acio.h>

#include "support/child.h"
#include "support/rc.h"

#ifndef ACIO_ASAN

/* Frames built without stack clash probing, as in a program compiled without
 * -fstack-clash-protection: the guard area's size alone must catch them. */
#define NO_PROBES __attribute__((noinline, optimize("no-stack-clash-protection")))

/* Only the frame's far (lowest) end is written, then a call pushes its return address
 * there: nothing touches the pages in between, so only what lies at the far end decides
 * whether the overflow is seen. */
__attribute__((noinline)) static void sink(volatile char *p)
{
    p[0] = 1;
}

/* 24 KiB: larger than the one-page guard acio used to have, so it used to land in the
 * stack below. */
NO_PROBES static void frame_24k(void)
{
    volatile char big[24 * 1024];
    sink(big);
}

/* 200 KiB: beyond the 16 pages the old handler recognised, so it used to die of a bare
 * SIGSEGV. */
NO_PROBES static void frame_200k(void)
{
    volatile char big[200 * 1024];
    sink(big);
}

/* 1 MiB, larger than the guard area itself: only stack clash probing (which acio's
 * build, its pkg-config Cflags and its CMake targets turn on) makes it hit the guard. */
__attribute__((noinline)) static void frame_1m_probed(void)
{
    volatile char big[1024 * 1024];
    sink(big);
}

static void *big_frame(void *arg)
{
    ((void (*)(void))arg)();
    return NULL;
}

static void *neighbour(void *arg)
{
    (void)arg;
    UNCHECKED(acio_sleep(10)); /* never reached the end: the process stops first */
    return NULL;
}

static void *overflow_main(void *arg)
{
    acio_loop_t *loop = acio_get_running_loop();
    acio_task_t *n, *t;
    /* The neighbour takes the slab's lowest stack, so the overflowing task's stack has
     * another task's stack below its guard area: what a jump would silently overwrite. */
    acio_task_opts_t small = {.name = "neighbour", .stack_size = 16 * 1024};
    OK(acio_loop_create_task(loop, &n, neighbour, NULL, &small));
    OK(acio_sleep(0));
    acio_task_opts_t opts = {.name = "big-frame", .stack_size = 16 * 1024};
    OK(acio_loop_create_task(loop, &t, big_frame, arg, &opts));
    OK(acio_await(t, NULL));
    return NULL;
}

static void child(void *frame)
{
    UNCHECKED(acio_run(overflow_main, frame, NULL));
}

static void expect_overflow_message(void (*frame)(void))
{
    child_result_t r;
    child_run(child, (void *)frame, &r);
    cr_assert(child_killed_by(&r, SIGABRT), "the child was not aborted (status 0x%x); stderr:\n%s",
              r.status, r.err);
    cr_assert(strstr(r.err, "acio: stack overflow in task 'big-frame': its stack is too small.") !=
                  NULL,
              "no overflow message; stderr:\n%s", r.err);
}

Test(stack_overflow, frame_larger_than_a_page_hits_the_guard)
{
    expect_overflow_message(frame_24k);
}

Test(stack_overflow, frame_of_200k_hits_the_guard)
{
    expect_overflow_message(frame_200k);
}

Test(stack_overflow, frame_larger_than_the_guard_is_probed_into_it)
{
    expect_overflow_message(frame_1m_probed);
}

#else

Test(stack_overflow, skipped_under_asan)
{
    cr_skip_test("ASan owns SIGSEGV in this build (docs/stacks.md)");
}

#endif
