/* acio_strerror and acio_err_name: one table for acio's own codes (from the X-macro list
 * in include/acio/error.h), and libc's names for negated errno values. */
#include <string.h>

#include "internal.h"

const char *acio_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define XX(name, off, msg)                                                                         \
    case ACIO_##name:                                                                              \
        return msg;
        ACIO_ALL_ERRORS(XX)
#undef XX
    case -ECANCELED:
        return "cancelled (CancelledError)";
    case -ETIMEDOUT:
        return "timed out (TimeoutError)";
    default:
        break;
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error code";
}

const char *acio_err_name(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define XX(name, off, msg)                                                                         \
    case ACIO_##name:                                                                              \
        return "ACIO_" #name;
        ACIO_ALL_ERRORS(XX)
#undef XX
    default:
        break;
    }
    if (code < 0 && code > -4096) {
        const char *n = strerrorname_np(-code);
        if (n)
            return n;
    }
    return "UNKNOWN";
}

const char *acio_version_string(void)
{
    return "0.1.0";
}
unsigned acio_version(void)
{
    return ACIO_VERSION_HEX;
}
