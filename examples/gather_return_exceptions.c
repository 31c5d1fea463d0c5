/* Seed 004: gather(*tasks, return_exceptions=True) where one task fails: the failure is
 * reported in its slot (codes[i]) instead of failing the gather. The seed's downloads
 * are sleeps here, and the output says so. Python twin: tests/diff_compose/examples/gather_return_exceptions.py. */
#include <stdio.h>
#include <string.h>

#include <acio.h>

static void *download(void *arg)
{
    const char *url = arg;
    printf("start download: %s (simulated: a 0.2 s sleep, nothing is fetched)\n", url);
    int rc = acio_sleep(0.2);
    if (rc < 0)
        return acio_raise(rc, NULL);
    /* The result is the file name part of the URL (a pointer into it). */
    return (void *)(strrchr(url, '/') + 1);
}

static void *except_foo(void *arg)
{
    (void)arg;
    return acio_raise(-EIO, "RuntimeError");
}

static void *main_task(void *arg)
{
    (void)arg;
    static const char *urls[] = {
        "http://www.deadly-exception.icu:8999/img/Django.png",
        "http://www.deadly-exception.icu:8999/img/antd.png",
        "http://www.deadly-exception.icu:8999/img/etcd.png",
    };
    acio_task_t *tasks[4];
    void *ret[4];
    int codes[4];
    int rc = 0;
    size_t n = 0;
    for (; n < 3 && rc == 0; n++)
        rc = acio_create_task(&tasks[n], download, (void *)urls[n], NULL);
    if (rc == 0)
        rc = acio_create_task(&tasks[n++], except_foo, NULL, NULL);
    if (rc == 0)
        rc = acio_gather_await(tasks, n, ACIO_GATHER_RETURN_EXCEPTIONS, ret, codes);
    if (rc == 0) {
        printf("ret [");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                printf(", ");
            if (codes[i] == 0)
                printf("'end download: %s'", (const char *)ret[i]);
            else
                printf("%s()", acio_future_error_message(tasks[i]));
        }
        printf("]\n");
    }
    for (size_t i = 0; i < n; i++)
        acio_future_unref(tasks[i]);
    return rc < 0 ? acio_raise(rc, NULL) : NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
    return rc < 0;
}
