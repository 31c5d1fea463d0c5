/* Certificates for the TLS tests: a fresh CA and a server certificate for localhost /
 * 127.0.0.1 signed by it (EC P-256, valid two days), made with the openssl command
 * (Debian's openssl package) in a private temporary directory, and removed again.
 * Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_CERTS_H
#define ACIO_TESTS_SUPPORT_CERTS_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "acio.h"

static struct {
    char dir[64];  /* the temporary directory holding them */
    char ca[96];   /* the CA's certificate (what a client trusts) */
    char cert[96]; /* the server's certificate */
    char key[96];  /* the server's private key */
} certs;

/* Whether this acio was built with TLS (a client context can be made). */
static inline bool have_tls(void)
{
    acio_ssl_context_t *c = NULL;
    int rc = acio_ssl_context_new(&c, ACIO_SSL_CLIENT);
    acio_ssl_context_unref(c);
    return rc == 0;
}

/* Make the CA and the server certificate in /tmp/acio-<tag>-XXXXXX; asserts on failure. */
static inline void certs_make(const char *tag)
{
    snprintf(certs.dir, sizeof certs.dir, "/tmp/acio-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(certs.dir), "mkdtemp %s", certs.dir);
    snprintf(certs.ca, sizeof certs.ca, "%s/ca.pem", certs.dir);
    snprintf(certs.cert, sizeof certs.cert, "%s/cert.pem", certs.dir);
    snprintf(certs.key, sizeof certs.key, "%s/key.pem", certs.dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; cd %s;"
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -keyout ca.key -out ca.pem -days 2 -subj /CN=acio-test-ca >/dev/null 2>&1;"
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -keyout key.pem -out req.csr -subj /CN=localhost >/dev/null 2>&1;"
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf;"
             "openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
             " -out cert.pem -days 2 -extfile ext.cnf >/dev/null 2>&1",
             certs.dir);
    cr_assert_eq(system(cmd), 0, "generating certificates in %s failed", certs.dir);
}

/* Remove the directory certs_make() made (a no-op if it made none). */
static inline void certs_cleanup(void)
{
    if (!certs.dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", certs.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", certs.dir);
    certs.dir[0] = '\0';
}

#endif
