/* Starting and stopping Debian's nginx for tests and benchmarks: a private temporary
 * directory holding the config, a document root and the logs; one worker; listening on
 * 127.0.0.1 at a free port; run in the foreground as a child process (daemon off) and
 * killed again. The caller adds its own location blocks and files.
 *
 *     nginx_t ng;
 *     nginx_start(&ng, "location = /r { return 302 /a.html; }");  // extra server config
 *     ... http://127.0.0.1:<ng.port>/ , files under ng.root ...
 *     nginx_stop(&ng);
 *
 * Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_NGINX_H
#define ACIO_TESTS_SUPPORT_NGINX_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NGINX_BIN "/usr/sbin/nginx"

typedef struct {
    char dir[64];  /* the temporary directory */
    char root[96]; /* the document root: put files here */
    int port;      /* where it listens on 127.0.0.1 */
    pid_t pid;     /* the nginx master process */
} nginx_t;

static inline bool nginx_available(void)
{
    return access(NGINX_BIN, X_OK) == 0;
}

/* A port that was free a moment ago (bind to 0, read it, close). */
static inline int nginx_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static inline bool nginx_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Write a file of len bytes under the document root (data NULL: a repeating pattern).
 * Returns 0 or -errno. */
static inline int nginx_put_file(const nginx_t *n, const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", n->root, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    for (size_t i = 0; i < len; i++)
        fputc(data ? ((const char *)data)[i] : "0123456789abcdefghijklmnopqrstuvwxyz\n"[i % 37], f);
    return fclose(f) == 0 ? 0 : -errno;
}

/* Start nginx with extra (may be NULL) added inside its server block; the defaults
 * serve ng.root statically with keep-alive and gzip for text/plain and text/html.
 * Returns 0, or -1 (with a message on stderr) if nginx did not come up. */
static inline int nginx_start_with(nginx_t *n, const char *extra, const char *http_extra)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "/tmp/acio-nginx-XXXXXX");
    if (!mkdtemp(n->dir))
        return -1;
    /* nginx's workers drop root privileges (to nobody): let them in. */
    chmod(n->dir, 0755);
    snprintf(n->root, sizeof n->root, "%s/www", n->dir);
    mkdir(n->root, 0755);
    char logs[128];
    snprintf(logs, sizeof logs, "%s/logs", n->dir);
    mkdir(logs, 0700);
    for (int attempt = 0; attempt < 5; attempt++) {
        n->port = nginx_free_port();
        char conf[256];
        snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
        FILE *f = fopen(conf, "w");
        if (!f)
            return -1;
        fprintf(f,
                "worker_processes 1;\n"
                "events { worker_connections 4096; }\n"
                "http {\n"
                "  include /etc/nginx/mime.types;\n"
                "  default_type application/octet-stream;\n"
                "  access_log off;\n"
                "  client_body_temp_path %s/body;\n"
                "  proxy_temp_path %s/proxy;\n"
                "  fastcgi_temp_path %s/fastcgi;\n"
                "  uwsgi_temp_path %s/uwsgi;\n"
                "  scgi_temp_path %s/scgi;\n"
                "  keepalive_requests 100000;\n"
                "  keepalive_timeout 75s;\n"
                "  gzip on; gzip_min_length 0; gzip_types text/plain text/html;\n"
                "  %s\n"
                "  server {\n"
                "    listen 127.0.0.1:%d;\n"
                "    root %s;\n"
                "    %s\n"
                "  }\n"
                "}\n",
                n->dir, n->dir, n->dir, n->dir, n->dir, http_extra ? http_extra : "", n->port,
                n->root, extra ? extra : "");
        fclose(f);
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            char globals[256];
            snprintf(globals, sizeof globals, "daemon off; pid %s/nginx.pid; error_log stderr;",
                     n->dir);
            int devnull = open("/dev/null", O_RDWR);
            if (devnull >= 0 && !getenv("ACIO_NGINX_VERBOSE")) {
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            execl(NGINX_BIN, "nginx", "-p", n->dir, "-c", conf, "-g", globals, (char *)NULL);
            _exit(127);
        }
        n->pid = pid;
        for (int i = 0; i < 500; i++) { /* up to ~5 s */
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                n->pid = 0;
                break; /* it exited: the port was taken? try another */
            }
            if (nginx_port_open(n->port))
                return 0;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (n->pid) {
            kill(n->pid, SIGKILL);
            waitpid(n->pid, NULL, 0);
            n->pid = 0;
        }
    }
    fprintf(stderr, "nginx did not start (config in %s)\n", n->dir);
    return -1;
}

static inline int nginx_start(nginx_t *n, const char *extra)
{
    return nginx_start_with(n, extra, NULL);
}

/* Stop nginx (SIGQUIT, then SIGKILL after ~3 s) and remove its directory. */
static inline void nginx_stop(nginx_t *n)
{
    if (n->pid > 0) {
        kill(n->pid, SIGQUIT);
        int st;
        int i = 0;
        for (; i < 300 && waitpid(n->pid, &st, WNOHANG) != n->pid; i++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (i == 300) {
            kill(n->pid, SIGKILL);
            waitpid(n->pid, &st, 0);
        }
        n->pid = 0;
    }
    if (n->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", n->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", n->dir);
        n->dir[0] = '\0';
    }
}

#endif
