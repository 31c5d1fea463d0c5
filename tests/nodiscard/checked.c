/* The same body with the code looked at: compiles cleanly with -Werror=unused-result, so
 * the failure of ignored.c comes from the attribute and nothing else. */
#include <acio.h>

void *body(void *arg);

void *body(void *arg)
{
    (void)arg;
    int rc = acio_sleep(1);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    return NULL;
}
