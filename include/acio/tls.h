/* TLS with OpenSSL: asyncio's ssl.SSLContext as used by create_connection(ssl=...),
 * create_server(ssl=...), open_connection / start_server and loop.start_tls.
 *
 * A client context verifies the server's certificate chain against the system CA store
 * and the server's host name by default (ssl.create_default_context()); turning that
 * off is an explicit call (acio_ssl_context_set_verify(ctx, false), aiohttp's
 * verify_ssl=False). The host name is sent as SNI. A server context needs a
 * certificate and key. TLS runs as a layer on top of another transport (asyncio's
 * sslproto), so it works on any transport backend.
 *
 * Errors (include/acio/error.h's TLS list; acio_strerror() says what to do): a peer
 * certificate that cannot be verified ends the handshake with ACIO_ECERTVERIFY, a valid
 * certificate for another host name with ACIO_EHOSTMISMATCH, any other handshake
 * failure with ACIO_ETLSHANDSHAKE, a failure after the handshake with ACIO_ETLS, a
 * handshake that takes too long with -ETIMEDOUT; acio_ssl_last_error() then gives
 * OpenSSL's own reason (e.g. "TLS handshake: certificate verify failed: self-signed
 * certificate (18)").
 *
 * Ownership: contexts are reference counted; connections and servers using a context
 * hold their own reference, so the creator may release it at any time. Closing the loop
 * releases every TLS connection still open on it, in any state (handshake included),
 * without calling connection_lost, as it does for plain transports (see docs/tls.md). */
#ifndef ACIO_TLS_H
#define ACIO_TLS_H

#include "common.h"
#include "net.h"
#include "transport.h"

typedef enum { ACIO_SSL_CLIENT = 0, ACIO_SSL_SERVER = 1 } acio_ssl_purpose_t;

/* A new context (ssl.create_default_context(purpose)): TLS 1.2 or newer; a client
 * context loads the system CA store and verifies peer and host name. Errors: -EINVAL
 * (NULL out, or purpose neither ACIO_SSL_CLIENT nor ACIO_SSL_SERVER), -ENOMEM, -ENOTSUP
 * (acio built without OpenSSL), -EPROTO. */
ACIO_EXTERN ACIO_NODISCARD int acio_ssl_context_new(acio_ssl_context_t **out,
                                                    acio_ssl_purpose_t purpose);
ACIO_EXTERN acio_ssl_context_t *acio_ssl_context_ref(acio_ssl_context_t *ctx);
ACIO_EXTERN void acio_ssl_context_unref(acio_ssl_context_t *ctx);
/* Certificate chain (PEM) and private key (PEM; NULL: in certfile). Errors: -ENOENT,
 * -EPROTO (unreadable, or the key does not match), -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_ssl_context_load_cert_chain(acio_ssl_context_t *ctx,
                                                                const char *certfile,
                                                                const char *keyfile);
/* Trust these CAs (a PEM file and/or a directory), in addition to the defaults. */
ACIO_EXTERN ACIO_NODISCARD int acio_ssl_context_load_verify_locations(acio_ssl_context_t *ctx,
                                                                      const char *cafile,
                                                                      const char *capath);
/* verify false: accept any certificate and host name (CERT_NONE, check_hostname False).
 * On a server context, verify true requires a client certificate. */
ACIO_EXTERN ACIO_NODISCARD int acio_ssl_context_set_verify(acio_ssl_context_t *ctx, bool verify);
/* Host name checking alone (on by default for clients). */
ACIO_EXTERN ACIO_NODISCARD int acio_ssl_context_set_check_hostname(acio_ssl_context_t *ctx,
                                                                   bool check);

/* loop.start_tls: upgrade an open connection to TLS. The transport's protocol is
 * replaced by the TLS layer; proto/proto_data receive the decrypted stream on the new
 * transport, whose connection_made runs after the handshake. Coroutine. *out gets a
 * reference for the caller; the old transport stays referenced by the TLS layer and
 * the caller still releases its own reference to it. server_hostname (client side) is
 * used for SNI and verification. Errors: as the handshake, -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int
acio_loop_start_tls(acio_loop_t *loop, acio_transport_t *transport, const acio_protocol_t *proto,
                    void *proto_data, acio_ssl_context_t *ctx, bool server_side,
                    const char *server_hostname, double handshake_timeout, acio_transport_t **out);

/* What the last TLS failure in this thread was, in OpenSSL's words ("" if none): the
 * detail behind ACIO_ECERTVERIFY / ACIO_EHOSTMISMATCH / ACIO_ETLSHANDSHAKE / ACIO_ETLS
 * (for a certificate, X509_verify_cert_error_string and its number). Read it right after
 * the failing call, in the same thread. */
ACIO_EXTERN const char *acio_ssl_last_error(void);

#endif
