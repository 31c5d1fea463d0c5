/* Misuse that must not go unnoticed: a future used after its last unref, or unref'd
 * twice. In acio's AddressSanitizer build the object pools are bypassed (src/objpool.h),
 * so each is an ASan report; the plain build's check is Valgrind's
 * (tests/valgrind/, docs/memory.md). Each misuse runs in a child process whose stderr
 * the test reads (tests/support/child.h). */
#include <criterion/criterion.h>
#include <string.h>

#include <acio.h>

#include "support/child.h"
#include "support/rc.h"

#ifdef ACIO_ASAN

static void use_after_unref(void *arg)
{
    (void)arg;
    acio_loop_t *loop;
    acio_future_t *f;
    OK(acio_loop_new(&loop));
    OK(acio_future_new(loop, &f));
    acio_future_unref(f);
    if (strcmp((const char *)arg, "double") == 0)
        acio_future_unref(f);
    else
        fprintf(stderr, "done=%d\n", acio_future_done(f));
    OK(acio_loop_close(loop));
}

static void expect_asan_report(const char *mode)
{
    child_result_t r;
    child_run(use_after_unref, (void *)mode, &r);
    cr_assert(!(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0),
              "%s: the child ended normally; stderr:\n%s", mode, r.err);
    cr_assert(strstr(r.err, "heap-use-after-free") != NULL, "%s: no ASan report; stderr:\n%s", mode,
              r.err);
    cr_assert(strstr(r.err, "acio_future_") != NULL, "%s: the report names no acio call:\n%s", mode,
              r.err);
}

Test(misuse, use_after_unref_is_an_asan_report)
{
    expect_asan_report("use");
}

Test(misuse, double_unref_is_an_asan_report)
{
    expect_asan_report("double");
}

#else

Test(misuse, checked_by_valgrind_in_this_build)
{
    cr_skip_test("the plain build's check is tests/valgrind/ (docs/memory.md)");
}

#endif
