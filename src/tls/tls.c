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
                            const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                            double handshake_timeout)
{
    (void)loop, (void)fd, (void)out, (void)proto, (void)proto_data, (void)ctx;
    (void)handshake_timeout;
    return -ENOTSUP;
}

int acio__tls_server_start(acio_loop_t *loop, int fd, acio_protocol_factory factory,
                           void *factory_data, acio_ssl_context_t *ctx, double handshake_timeout,
                           acio_server_t *server)
{
    (void)loop, (void)factory, (void)factory_data, (void)ctx, (void)handshake_timeout;
    (void)server;
    close(fd);
    return -ENOTSUP;
}

int acio_ssl_context_new(acio_ssl_context_t **out, acio_ssl_purpose_t purpose)
{
    (void)purpose;
    if (out)
        *out = NULL;
    return -ENOTSUP;
}

acio_ssl_context_t *acio_ssl_context_ref(acio_ssl_context_t *ctx)
{
    return ctx;
}

void acio_ssl_context_unref(acio_ssl_context_t *ctx)
{
    (void)ctx;
}

int acio_ssl_context_load_cert_chain(acio_ssl_context_t *ctx, const char *certfile,
                                     const char *keyfile)
{
    (void)ctx, (void)certfile, (void)keyfile;
    return -ENOTSUP;
}

int acio_ssl_context_load_verify_locations(acio_ssl_context_t *ctx, const char *cafile,
                                           const char *capath)
{
    (void)ctx, (void)cafile, (void)capath;
    return -ENOTSUP;
}

int acio_ssl_context_set_verify(acio_ssl_context_t *ctx, bool verify)
{
    (void)ctx, (void)verify;
    return -ENOTSUP;
}

int acio_ssl_context_set_check_hostname(acio_ssl_context_t *ctx, bool check)
{
    (void)ctx, (void)check;
    return -ENOTSUP;
}

int acio_loop_start_tls(acio_loop_t *loop, acio_transport_t *transport,
                        const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                        bool server_side, const char *server_hostname, double handshake_timeout,
                        acio_transport_t **out)
{
    (void)loop, (void)transport, (void)proto, (void)proto_data, (void)ctx, (void)server_side;
    (void)server_hostname, (void)handshake_timeout;
    if (out)
        *out = NULL;
    return -ENOTSUP;
}

const char *acio_ssl_last_error(void)
{
    return "acio was built without OpenSSL";
}

#endif
