/* A loopback TCP port that was free a moment ago: bound to 127.0.0.1 with port 0, then
 * closed. For a server another program will listen on (openssl s_server, a Python
 * script), or for a connection that must be refused. Header-only: each test file is its
 * own program. */
#ifndef ACIO_TESTS_SUPPORT_PORT_H
#define ACIO_TESTS_SUPPORT_PORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* The port, or -1 if no socket could be bound. */
static inline int loopback_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(s);
    return port;
}

#endif
