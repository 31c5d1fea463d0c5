/* Return codes in the Criterion tests. acio marks every function whose code must be looked
 * at with warn_unused_result (ACIO_NODISCARD), and GCC does not take a (void) cast as
 * looking, so a test says what it expects of each such call:
 *
 *   OK(acio_create_task(&t, fn, NULL, "t"));   the call must succeed (0 or a count >= 0);
 *                                               the test fails naming the call and the code
 *   UNCHECKED(acio_sleep(10));                  the code is deliberately not looked at: the
 *                                               call is there to be interrupted (cancelled,
 *                                               failed by a fault) and the test checks the
 *                                               outcome another way
 *
 * Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_RC_H
#define ACIO_TESTS_SUPPORT_RC_H

#include <criterion/criterion.h>

#include <acio.h>

#define OK(call)                                                                                   \
    do {                                                                                           \
        long long ok_rc_ = (long long)(call);                                                      \
        cr_assert(ok_rc_ >= 0, "%s failed: %s (%lld)", #call, acio_err_name((int)ok_rc_), ok_rc_); \
    } while (0)

/* Passing the code to a function is a use of it, which is what the attribute asks for. */
__attribute__((unused)) static inline void unchecked_rc_(long long rc)
{
    (void)rc;
}
#define UNCHECKED(call) unchecked_rc_((long long)(call))

#endif
