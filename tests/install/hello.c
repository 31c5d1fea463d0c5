/* The out-of-tree program the install check builds against an installed acio: it uses
 * only <acio.h>, a task, an await and a sleep, so it needs the headers, the library and
 * its link flags (threads) to be installed and described correctly. */
#include <stdint.h>
#include <stdio.h>

#include <acio.h>

static void *child(void *arg)
{
    int rc = acio_sleep(0.01);
    if (rc < 0)
        return acio_raise(rc, "sleep failed");
    return (void *)((intptr_t)arg * 2);
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_task_t *t;
    int rc = acio_create_task(&t, child, (void *)(intptr_t)21, "child");
    if (rc < 0)
        return acio_raise(rc, "create_task failed");
    void *r = NULL;
    rc = acio_await(t, &r);
    acio_future_unref(t);
    if (rc < 0)
        return acio_raise(rc, "child failed");
    printf("child returned %ld\n", (long)(intptr_t)r);
    return NULL;
}

int main(void)
{
    printf("acio %s\n", acio_version_string());
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "hello: %s (%s)\n", acio_strerror(rc), acio_err_name(rc));
        return 1;
    }
    return 0;
}
