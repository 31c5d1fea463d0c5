/* The async-iterator protocol (Python's anext() builtin and `async for`) over any
 * object that embeds an acio_aiter_t. */
#include <errno.h>

#include "internal.h"

int acio_anext(acio_aiter_t *it, void **value)
{
    void *dummy;
    if (it == NULL || it->anext == NULL)
        return -EINVAL;
    return it->anext(it, value ? value : &dummy);
}

int acio_aclose(acio_aiter_t *it)
{
    if (it == NULL)
        return -EINVAL;
    return it->aclose ? it->aclose(it) : 0;
}

bool acio_afor_failed(int rc)
{
    return rc < 0 && rc != ACIO_ESTOPASYNCITERATION;
}

int acio_aiter_foreach(acio_aiter_t *it, int (*body)(void *value, void *arg), void *arg)
{
    void *value;
    int rc;
    if (body == NULL)
        return -EINVAL;
    while ((rc = acio_anext(it, &value)) == 0) {
        if ((rc = body(value, arg)) != 0)
            return rc;
    }
    return rc == ACIO_ESTOPASYNCITERATION ? 0 : rc;
}
