/* asyncio.shield: an outer future mirroring an inner one, whose cancellation stops at
 * the outer future.
 *
 * No allocation beyond the outer future: the inner's done callback carries the outer
 * (and owns a reference to it until it runs or is removed), the outer's done callback
 * carries the inner (with a reference too). */
#include <errno.h>

#include "internal.h"

static void shield_inner_done(acio_future_t *inner, void *data)
{
    acio_future_t *outer = data;
    void *res = NULL;
    int code;

    if (acio_future_cancelled(outer)) {
        /* Nobody will look at inner's outcome through us: mark it retrieved. */
        if (!acio_future_cancelled(inner))
            (void)acio_future_error(inner);
    } else if (!acio_future_done(outer)) {
        code = acio_future_result(inner, &res);
        if (code == 0)
            (void)acio_future_set_result(outer, res);
        else if (code == -ECANCELED)
            (void)acio_future_cancel(outer, acio_future_error_message(inner));
        else
            (void)acio_future_set_error(outer, code, "%s",
                                        acio_future_error_message(inner) != NULL
                                            ? acio_future_error_message(inner)
                                            : acio_strerror(code));
    }
    acio_future_unref(outer);
}

static void shield_outer_done(acio_future_t *outer, void *data)
{
    acio_future_t *inner = data;
    if (!acio_future_done(inner)) {
        int n = acio_future_remove_done_callback(inner, shield_inner_done, outer);
        while (n-- > 0)
            acio_future_unref(outer);
    }
    acio_future_unref(inner);
}

int acio_shield(acio_future_t **out, acio_future_t *inner)
{
    acio_future_t *outer;
    int rc;

    if (out == NULL || inner == NULL)
        return -EINVAL;
    *out = NULL;
    if (acio_future_done(inner)) {
        *out = acio_future_ref(inner);
        return 0;
    }
    if ((rc = acio_future_new(acio_future_get_loop(inner), &outer)) < 0)
        return rc;
    acio_future_set_label(outer, "shield");
    if ((rc = acio_future_add_done_callback(inner, shield_inner_done, outer)) < 0) {
        acio_future_unref(outer);
        return rc;
    }
    acio_future_ref(outer);
    if ((rc = acio_future_add_done_callback(outer, shield_outer_done, inner)) < 0) {
        (void)acio_future_remove_done_callback(inner, shield_inner_done, outer);
        acio_future_unref(outer);
        acio_future_unref(outer);
        return rc;
    }
    acio_future_ref(inner);
    *out = outer;
    return 0;
}
