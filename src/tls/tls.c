/* TLS entry points when acio is built without OpenSSL: every TLS request fails with
 * -ENOTSUP and closes the fd it was given, as the real implementation does on error.
 * The OpenSSL implementation (tls_openssl.c) is compiled instead when ACIO_WITH_OPENSSL
 * is defined. */
#include <errno.h>
#include <unistd.h>

#include "tls/tls_int.h"

#ifndef ACIO_WITH_OPENSSL

int acio__tls_connect(acio_loop_t *loop, int fd, acio_transport_t **out,
                      const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                      const char *server_hostname, double handshake_timeout)
{
    (void)loop, (void)out, (void)proto, (void)proto_data, (void)ctx, (void)server_hostname;
    (void)handshake_timeout;
    close(fd);
    return -ENOTSUP;
}

int acio__tls_accept_socket(acio_loop_t *loop, int fd, acio_transport_t **out,
                            const acio_protocol_t *proto, void *proto_data,
                            acio_ssl_context_t *ctx, double handshake_timeout)
{
    (void)loop, (void)fd, (void)out, (void)proto, (void)proto_data, (void)ctx;
    (void)handshake_timeout;
    return -ENOTSUP;
}

int acio__tls_server_start(acio_loop_t *loop, int fd, const acio_protocol_t *proto,
                           void *proto_data, acio_ssl_context_t *ctx, double handshake_timeout,
                           acio_server_t *server)
{
    (void)loop, (void)proto, (void)proto_data, (void)ctx, (void)handshake_timeout, (void)server;
    close(fd);
    return -ENOTSUP;
}

#endif
