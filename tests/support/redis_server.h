/* A real redis-server for the tests (Debian's redis-server package): started on
 * 127.0.0.1 with a free port, a Unix socket and a temporary directory, no persistence;
 * stopped and removed by redis_server_stop(). Header-only, like the other support
 * files. Extra arguments (e.g. "--requirepass", "secret") are passed through. */
#ifndef ACIO_TEST_REDIS_SERVER_H
#define ACIO_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char sock[128];
} redis_server_t;

static inline int redis_server_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Wait until the server answers PING (password-protected servers answer NOAUTH, which
 * also proves it is up). Returns 0 or -1 after 10 s. */
static inline int redis_server_wait_ready(int port)
{
    for (int i = 0; i < 1000; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            char buf[64];
            if (write(fd, "PING\r\n", 6) == 6) {
                ssize_t n = read(fd, buf, sizeof(buf));
                close(fd);
                if (n > 0)
                    return 0;
            } else {
                close(fd);
            }
        } else if (fd >= 0) {
            close(fd);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Start a server; the NULL-terminated extra arguments go to redis-server. */
static inline int redis_server_start(redis_server_t *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/acio-redis-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    s->port = redis_server_free_port();
    if (s->port < 0)
        return -1;
    char port[16], log[96];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    const char *argv[40] = {"redis-server",
                            "--port",
                            port,
                            "--bind",
                            "127.0.0.1",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            s->dir,
                            "--unixsocket",
                            s->sock,
                            "--unixsocketperm",
                            "700",
                            "--logfile",
                            log,
                            "--daemonize",
                            "no",
                            "--enable-debug-command",
                            "local"};
    int argc = 21;
    for (int i = 0; extra && extra[i] && argc < 39; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    if (redis_server_wait_ready(s->port) < 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        return -1;
    }
    return 0;
}

static inline void redis_server_stop(redis_server_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s->dir);
        s->dir[0] = '\0';
    }
}

#endif
