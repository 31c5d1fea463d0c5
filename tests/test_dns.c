/* getaddrinfo / getnameinfo on the loop: numeric addresses resolved in the task, names
 * (from /etc/hosts) on the resolver threads while the loop keeps running, errors mapped
 * to errno codes, and a lookup abandoned by its time-out or a cancellation. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"

static int ticks;

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        ticks++;
        if (acio_sleep(0) < 0)
            break;
    }
    return NULL;
}

static void *dns_main(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int rc = acio_loop_getaddrinfo(NULL, "127.0.0.1", "80", &hints, &res, 0);
    CHECK(rc == 0, "numeric: %s", acio_strerror(rc));
    CHECK(((struct sockaddr_in *)res->ai_addr)->sin_port == htons(80), "port");
    freeaddrinfo(res);
    /* A name goes to a thread: the loop keeps running other tasks meanwhile. */
    acio_task_t *t;
    OK(acio_create_task(&t, ticker, NULL, "ticker"));
    /* Let it start: a resolve that is done before the ticker's first step (a fast
     * resolver) would otherwise cancel a task that never ran, and await gives -ECANCELED. */
    OK(acio_sleep(0));
    rc = acio_loop_getaddrinfo(NULL, "localhost", "http", &hints, &res, 10);
    CHECK(rc == 0, "localhost: %s", acio_strerror(rc));
    struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
    CHECK(sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && sin->sin_port == htons(80),
          "localhost:http is 127.0.0.1:80");
    freeaddrinfo(res);
    acio_task_cancel(t, NULL);
    OK(acio_await(t, NULL));
    acio_future_unref(t);
    CHECK(ticks > 0, "the loop ran while resolving");
    rc = acio_loop_getaddrinfo(NULL, "name.invalid", "80", &hints, &res, 10);
    CHECK(rc == -ENXIO || rc == -EAGAIN, "unknown: %s", acio_err_name(rc));
    rc = acio_loop_getaddrinfo(NULL, NULL, NULL, &hints, &res, 0);
    CHECK(rc == -EINVAL, "nothing to resolve: %s", acio_err_name(rc));
    /* getnameinfo both ways. */
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char host[64], serv[32];
    rc = acio_loop_getnameinfo(NULL, (struct sockaddr *)&a, sizeof(a), host, sizeof(host), serv,
                               sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV, 0);
    CHECK(rc == 0 && strcmp(host, "127.0.0.1") == 0 && strcmp(serv, "80") == 0, "numeric ni");
    rc = acio_loop_getnameinfo(NULL, (struct sockaddr *)&a, sizeof(a), host, sizeof(host), serv,
                               sizeof(serv), 0, 10);
    CHECK(rc == 0 && strcmp(host, "localhost") == 0 && strcmp(serv, "http") == 0,
          "named ni: %d %s %s", rc, host, serv);
    return NULL;
}

Test(dns, numeric_names_errors_nameinfo, .timeout = 60)
{
    run_ok(dns_main, NULL);
}

static void *lookup(void *arg)
{
    (void)arg;
    struct addrinfo *res = NULL;
    int rc = acio_loop_getaddrinfo(NULL, "localhost", "80", NULL, &res, 0);
    if (res)
        freeaddrinfo(res);
    return (void *)(intptr_t)rc;
}

static void *abandon_main(void *arg)
{
    (void)arg;
    /* Many lookups at once, half of them cancelled right away: the survivors succeed
     * and the abandoned ones are freed by the resolver threads (ASan checks leaks). */
    acio_task_t *t[16];
    for (int i = 0; i < 16; i++)
        OK(acio_create_task(&t[i], lookup, NULL, NULL));
    OK(acio_sleep(0));
    for (int i = 0; i < 16; i += 2)
        acio_task_cancel(t[i], NULL);
    for (int i = 0; i < 16; i++) {
        void *res = NULL;
        int rc = acio_await(t[i], &res);
        if (i % 2)
            CHECK(rc == 0 && (intptr_t)res == 0, "lookup %d: %d %ld", i, rc, (long)(intptr_t)res);
        else
            CHECK(rc == -ECANCELED, "cancelled %d: %d", i, rc);
        acio_future_unref(t[i]);
    }
    /* Give the threads time to hand back the abandoned answers. */
    OK(acio_sleep(0.2));
    return NULL;
}

Test(dns, cancelled_lookups_are_abandoned_cleanly, .timeout = 60)
{
    run_ok(abandon_main, NULL);
}
