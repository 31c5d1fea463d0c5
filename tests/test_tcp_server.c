/* The Server object: several hosts on one port, delay_serving + start_serving,
 * serve_forever ended by close() and by cancellation, close_clients / abort_clients,
 * wait_closed waiting for connections (3.12+), keep_alive on accepted sockets,
 * reuse_port, and address-in-use errors. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/counting.h"
#include "support/rc.h"

static int raw_connect(int family, int port)
{
    int s = socket(family, SOCK_STREAM, 0);
    int rc;
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        rc = connect(s, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                                 .sin6_port = htons((uint16_t)port),
                                 .sin6_addr = in6addr_loopback};
        rc = connect(s, (struct sockaddr *)&a, sizeof(a));
    }
    if (rc < 0) {
        close(s);
        return -1;
    }
    return s;
}

static void *hosts_main(void *arg)
{
    (void)arg;
    const char *hosts[] = {"127.0.0.1", "::1"};
    acio_server_opts_t o = {
        .hosts = hosts, .nhosts = 2, .delay_serving = true, .keep_alive = true, .reuse_port = true};
    acio_server_t *srv;
    int rc = acio_loop_create_server(NULL, &srv, counting_factory, NULL, NULL, 0, &o);
    CHECK(rc == 0, "create_server: %s", acio_strerror(rc));
    int fds[4];
    CHECK(acio_server_sockets(srv, fds, 4) == 2, "two listening sockets");
    int port = acio_server_port(srv);
    CHECK(!acio_server_is_serving(srv), "delay_serving");
    int a = raw_connect(AF_INET, port), b = raw_connect(AF_INET6, port);
    CHECK(a >= 0 && b >= 0, "same port on both families");
    OK(acio_sleep(0.01));
    CHECK(counted.made == 0, "nothing accepted before start_serving");
    CHECK(acio_server_start_serving(srv) == 0, "start_serving");
    WAIT_UNTIL(counted.made == 2);
    CHECK(counted.made == 2 && acio_server_active_count(srv) == 2, "accepted both: %d",
          counted.made);
    int ka = 0;
    socklen_t kl = sizeof(ka);
    getsockopt(acio_transport_get_fd(counted.last_made), SOL_SOCKET, SO_KEEPALIVE, &ka, &kl);
    CHECK(ka == 1, "keep_alive set on accepted sockets");
    /* The same port again: taken (no reuse_port on the second server). */
    acio_server_t *dup;
    rc = acio_loop_create_server(NULL, &dup, counting_factory, NULL, "127.0.0.1", port, NULL);
    CHECK(rc == -EADDRINUSE, "address in use: %s", acio_err_name(rc));
    /* close() stops listening; connections stay until close_clients. */
    acio_server_close(srv);
    CHECK(acio_server_sockets(srv, fds, 4) == 0, "no listening sockets after close");
    CHECK(raw_connect(AF_INET, port) < 0, "refused after close");
    CHECK(acio_server_active_count(srv) == 2 && counted.lost == 0, "clients survive close");
    acio_server_close_clients(srv);
    rc = acio_server_wait_closed(srv);
    CHECK(rc == 0 && counted.lost == 2 && acio_server_active_count(srv) == 0, "closed clients: %d",
          counted.lost);
    acio_server_free(srv);
    close(a);
    close(b);
    return NULL;
}

Test(tcp_server, hosts_delay_serving_close_clients, .timeout = 60)
{
    run_ok(hosts_main, NULL);
}

static void *forever(void *arg)
{
    return (void *)(intptr_t)acio_server_serve_forever(arg);
}

static void *waiter(void *arg)
{
    return (void *)(intptr_t)acio_server_wait_closed(arg);
}

static void *forever_main(void *arg)
{
    (void)arg;
    acio_server_t *srv;
    int rc = acio_loop_create_server(NULL, &srv, counting_factory, NULL, "127.0.0.1", 0, NULL);
    CHECK(rc == 0, "create_server");
    acio_task_t *t;
    OK(acio_create_task(&t, forever, srv, "serve_forever"));
    OK(acio_sleep(0));
    CHECK(acio_server_serve_forever(srv) == -EBUSY, "second serve_forever");
    int port = acio_server_port(srv);
    int c = raw_connect(AF_INET, port);
    WAIT_UNTIL(counted.made == 1);
    /* close() ends serve_forever normally; wait_closed then waits for the client. */
    acio_server_close(srv);
    void *res;
    rc = acio_await(t, &res);
    CHECK(rc == 0 && (intptr_t)res == 0, "serve_forever returned %ld", (long)(intptr_t)res);
    acio_future_unref(t);
    CHECK(acio_server_serve_forever(srv) == -EBADF, "serve_forever on a closed server");
    acio_task_t *w;
    OK(acio_create_task(&w, waiter, srv, "wait"));
    OK(acio_sleep(0.01));
    CHECK(!acio_future_done(w), "wait_closed waits for the connection");
    acio_server_abort_clients(srv);
    rc = acio_await(w, NULL);
    CHECK(rc == 0 && counted.lost == 1, "wait_closed after abort_clients");
    acio_future_unref(w);
    acio_server_free(srv);
    close(c);

    /* Cancelling serve_forever closes the server. */
    rc = acio_loop_create_server(NULL, &srv, counting_factory, NULL, "127.0.0.1", 0, NULL);
    CHECK(rc == 0, "create_server");
    OK(acio_create_task(&t, forever, srv, "serve_forever"));
    OK(acio_sleep(0));
    acio_task_cancel(t, NULL);
    rc = acio_await(t, NULL);
    CHECK(rc == -ECANCELED, "cancelled: %s", acio_err_name(rc));
    acio_future_unref(t);
    CHECK(!acio_server_is_serving(srv), "closed by the cancellation");
    rc = acio_server_wait_closed(srv);
    CHECK(rc == 0, "wait_closed");
    acio_server_free(srv);
    return NULL;
}

Test(tcp_server, serve_forever_close_cancel_wait_closed, .timeout = 60)
{
    run_ok(forever_main, NULL);
}
