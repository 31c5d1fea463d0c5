/* What the rest of acio's networking needs from TLS: start a TLS client or server on a
 * connected socket and wait for the handshake. Declared here so connect.c and server.c
 * do not depend on OpenSSL; tls.c implements them (or returns -ENOTSUP when acio was
 * built without OpenSSL). */
#ifndef ACIO_TLS_INT_H
#define ACIO_TLS_INT_H

#include "net/transport_int.h"
#include "acio/tls.h"

/* Client side on a connected fd: on success the TLS transport owns fd, connection_made
 * ran after the handshake, and *out (if non-NULL) holds a reference for the caller. On
 * error the fd is closed and no protocol callback ran. Coroutine. */
int acio__tls_connect(acio_loop_t *loop, int fd, acio_transport_t **out,
                      const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                      const char *server_hostname, double handshake_timeout);
/* Server side on an accepted fd, inside a task (connect_accepted_socket). */
int acio__tls_accept_socket(acio_loop_t *loop, int fd, acio_transport_t **out,
                            const acio_protocol_t *proto, void *proto_data, acio_ssl_context_t *ctx,
                            double handshake_timeout);
/* Server side from the accept callback (not in a task): the handshake runs in the
 * background and counts as one of server's connections; the factory is asked for a
 * protocol only once it succeeded (so a failed handshake leaves nothing to free), and
 * its connection_made follows. Takes fd (closed on error). */
int acio__tls_server_start(acio_loop_t *loop, int fd, acio_protocol_factory factory,
                           void *factory_data, acio_ssl_context_t *ctx, double handshake_timeout,
                           acio_server_t *server);

#endif
