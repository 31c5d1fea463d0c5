/* UDP endpoints: create_datagram_endpoint with local and remote addresses, sendto /
 * datagram_received with addresses, connected endpoints and their address checks,
 * error_received for an ICMP port-unreachable, and Unix datagram sockets. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"

typedef struct {
    int made, lost, errors, last_error, count;
    char last[256];
    size_t last_len;
    struct sockaddr_storage from;
    socklen_t fromlen;
    bool echo;
} udp_rec_t;

static void u_made(acio_transport_t *t, void *d)
{
    (void)t;
    ((udp_rec_t *)d)->made++;
}

static void u_recv(acio_transport_t *t, const void *buf, size_t len, const struct sockaddr *a,
                   socklen_t al, void *d)
{
    udp_rec_t *r = d;
    r->count++;
    r->last_len = len < sizeof(r->last) ? len : sizeof(r->last);
    memcpy(r->last, buf, r->last_len);
    memcpy(&r->from, a, al);
    r->fromlen = al;
    if (r->echo)
        OK(acio_transport_sendto(t, buf, len, a, al));
}

static void u_err(acio_transport_t *t, int err, void *d)
{
    (void)t;
    udp_rec_t *r = d;
    r->errors++;
    r->last_error = err;
}

static void u_lost(acio_transport_t *t, int err, void *d)
{
    (void)t;
    (void)err;
    ((udp_rec_t *)d)->lost++;
}

static const acio_datagram_protocol_t udp_proto = {
    .connection_made = u_made,
    .datagram_received = u_recv,
    .error_received = u_err,
    .connection_lost = u_lost,
};

static int local_port(acio_transport_t *t)
{
    struct sockaddr_in a;
    size_t l = sizeof(a);
    if (acio_transport_get_extra_info(t, "sockname", &a, &l) < 0)
        return -1;
    return ntohs(a.sin_port);
}

static void *echo_main(void *arg)
{
    (void)arg;
    udp_rec_t srv = {.echo = true}, cli = {0};
    acio_datagram_opts_t so = {.local_host = "127.0.0.1", .local_port = 0};
    acio_transport_t *st, *ct;
    int rc = acio_loop_create_datagram_endpoint(NULL, &st, &udp_proto, &srv, &so);
    CHECK(rc == 0, "server endpoint: %s", acio_strerror(rc));
    CHECK(srv.made == 1, "connection_made before return");
    int port = local_port(st);
    acio_datagram_opts_t co = {.remote_host = "127.0.0.1", .remote_port = port};
    rc = acio_loop_create_datagram_endpoint(NULL, &ct, &udp_proto, &cli, &co);
    CHECK(rc == 0, "client endpoint: %s", acio_strerror(rc));
    for (int i = 0; i < 10; i++) {
        char m[32];
        int l = snprintf(m, sizeof(m), "ping %d", i);
        rc = acio_transport_sendto(ct, m, (size_t)l, NULL, 0);
        CHECK(rc == 0, "sendto: %s", acio_strerror(rc));
    }
    WAIT_UNTIL(cli.count == 10);
    CHECK(srv.count == 10 && cli.count == 10, "got %d / %d", srv.count, cli.count);
    CHECK(cli.last_len == 6 && memcmp(cli.last, "ping 9", 6) == 0, "last echo");
    CHECK(ntohs(((struct sockaddr_in *)&cli.from)->sin_port) == port, "from the server");
    /* A connected endpoint refuses another destination and a missing one is refused
     * on an unconnected endpoint. */
    struct sockaddr_in other = {
        .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    rc = acio_transport_sendto(ct, "x", 1, (struct sockaddr *)&other, sizeof(other));
    CHECK(rc == -EISCONN, "other address on connected: %s", acio_err_name(rc));
    rc = acio_transport_sendto(st, "x", 1, NULL, 0);
    CHECK(rc == -EDESTADDRREQ, "no address: %s", acio_err_name(rc));
    CHECK(acio_transport_write(st, "x", 1) == -ENOTSUP, "write on a datagram transport");
    acio_transport_close(ct);
    acio_transport_close(st);
    CHECK(acio_transport_sendto(st, "x", 1, (struct sockaddr *)&other, sizeof(other)) == -ENOTCONN,
          "sendto after close");
    WAIT_UNTIL(srv.lost && cli.lost);
    CHECK(srv.lost == 1 && cli.lost == 1, "lost once each");
    acio_transport_unref(ct);
    acio_transport_unref(st);
    return NULL;
}

Test(udp, echo_sendto_and_connected_checks, .timeout = 60)
{
    run_ok(echo_main, NULL);
}

static void *unreachable_main(void *arg)
{
    (void)arg;
    /* A port nobody listens on: bind and close. */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof(a));
    socklen_t al = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    udp_rec_t cli = {0};
    acio_datagram_opts_t co = {.remote_host = "127.0.0.1", .remote_port = ntohs(a.sin_port)};
    acio_transport_t *ct;
    int rc = acio_loop_create_datagram_endpoint(NULL, &ct, &udp_proto, &cli, &co);
    CHECK(rc == 0, "endpoint");
    OK(acio_transport_sendto(ct, "hello", 5, NULL, 0));
    WAIT_UNTIL(cli.errors > 0);
    CHECK(cli.errors >= 1 && cli.last_error == -ECONNREFUSED, "error_received %d %s", cli.errors,
          acio_err_name(cli.last_error));
    CHECK(!acio_transport_is_closing(ct), "the endpoint stays open");
    acio_transport_abort(ct);
    WAIT_UNTIL(cli.lost);
    acio_transport_unref(ct);
    return NULL;
}

Test(udp, icmp_unreachable_goes_to_error_received, .timeout = 60)
{
    run_ok(unreachable_main, NULL);
}

static void *unix_dgram_main(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/acio-udg-%d", (int)getpid());
    unlink(path);
    udp_rec_t srv = {0}, cli = {0};
    acio_datagram_opts_t so = {.local_path = path};
    acio_transport_t *st, *ct;
    int rc = acio_loop_create_datagram_endpoint(NULL, &st, &udp_proto, &srv, &so);
    CHECK(rc == 0, "unix server: %s", acio_strerror(rc));
    acio_datagram_opts_t co = {.remote_path = path};
    rc = acio_loop_create_datagram_endpoint(NULL, &ct, &udp_proto, &cli, &co);
    CHECK(rc == 0, "unix client: %s", acio_strerror(rc));
    OK(acio_transport_sendto(ct, "over unix", 9, NULL, 0));
    WAIT_UNTIL(srv.count == 1);
    CHECK(srv.count == 1 && srv.last_len == 9 && memcmp(srv.last, "over unix", 9) == 0, "got");
    acio_transport_close(ct);
    acio_transport_close(st);
    WAIT_UNTIL(srv.lost && cli.lost);
    acio_transport_unref(ct);
    acio_transport_unref(st);
    unlink(path);
    /* Neither address nor family: refused. */
    acio_datagram_opts_t none = {0};
    rc = acio_loop_create_datagram_endpoint(NULL, &ct, &udp_proto, &cli, &none);
    CHECK(rc == -EINVAL, "no address: %s", acio_err_name(rc));
    return NULL;
}

Test(udp, unix_datagrams, .timeout = 60)
{
    run_ok(unix_dgram_main, NULL);
}
