/* A real PostgreSQL server for the tests (Debian's postgresql package, version 15):
 * postgres on 127.0.0.1 with a free port, its Unix socket in a temporary directory,
 * trust authentication, fsync off; stopped and removed by pg_server_stop().
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI does) the data
 * directory belongs to the `postgres` system user and the forked child switches to that
 * user before exec; it also asks for SIGKILL when the test process dies, so a test that
 * crashes leaves no server behind. initdb takes seconds, so one cluster is initialised
 * per machine into /tmp/acio-pg-template-15 (built aside and renamed into place, so
 * concurrent test processes never see a half-made one) and each test copies it. */
#ifndef ACIO_TEST_PG_SERVER_H
#define ACIO_TEST_PG_SERVER_H

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "port.h"
#include "server_proc.h"

#define PG_SERVER_BIN      "/usr/lib/postgresql/15/bin"
#define PG_SERVER_TEMPLATE "/tmp/acio-pg-template-15"

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char conninfo[192]; /* TCP: "host=127.0.0.1 port=N user=postgres dbname=postgres" */
    char unix_conninfo[192];
} pg_server_t;

/* Run argv (as the postgres user when root) and wait; 0 on exit status 0. */
static inline int pg_server_run_as(const char *const *argv, bool wait, pid_t *pid_out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (getuid() == 0) {
            struct passwd *pw = getpwnam("postgres");
            if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
                _exit(126);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            if (!getenv("ACIO_PG_SERVER_LOG"))
                dup2(devnull, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (!wait) {
        *pid_out = pid;
        return 0;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return 0;
}

static inline int pg_server_chown(const char *path)
{
    if (getuid() != 0)
        return 0;
    struct passwd *pw = getpwnam("postgres");
    return pw && chown(path, pw->pw_uid, pw->pw_gid) == 0 ? 0 : -1;
}

static inline int pg_server_template(void)
{
    struct stat st;
    if (stat(PG_SERVER_TEMPLATE "/PG_VERSION", &st) == 0)
        return 0;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "/tmp/acio-pg-init-XXXXXX");
    if (!mkdtemp(tmp) || pg_server_chown(tmp) != 0)
        return -1;
    char data[96];
    snprintf(data, sizeof(data), "%s/data", tmp);
    const char *argv[] = {PG_SERVER_BIN "/initdb",
                          "-D",
                          data,
                          "-A",
                          "trust",
                          "-U",
                          "postgres",
                          "--no-sync",
                          "-E",
                          "UTF8",
                          "--no-instructions",
                          NULL};
    int rc = pg_server_run_as(argv, true, NULL);
    if (rc == 0 && rename(data, PG_SERVER_TEMPLATE) != 0 &&
        stat(PG_SERVER_TEMPLATE "/PG_VERSION", &st) != 0)
        rc = -1; /* another process may have won the race: then its template is used */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = -1;
    return rc;
}

static inline int pg_server_start(pg_server_t *s)
{
    memset(s, 0, sizeof(*s));
    if (pg_server_template() != 0)
        return -1;
    snprintf(s->dir, sizeof(s->dir), "/tmp/acio-pg-XXXXXX");
    if (!mkdtemp(s->dir) || pg_server_chown(s->dir) != 0)
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cp -a " PG_SERVER_TEMPLATE " '%s/data'", s->dir);
    if (system(cmd) != 0)
        return -1;
    s->port = loopback_free_port();
    if (s->port < 0)
        return -1;
    char data[96], port[16];
    snprintf(data, sizeof(data), "%s/data", s->dir);
    snprintf(port, sizeof(port), "%d", s->port);
    const char *argv[] = {PG_SERVER_BIN "/postgres",
                          "-D",
                          data,
                          "-p",
                          port,
                          "-k",
                          s->dir,
                          "-c",
                          "listen_addresses=127.0.0.1",
                          "-c",
                          "fsync=off",
                          "-c",
                          "full_page_writes=off",
                          "-c",
                          "max_connections=60",
                          "-c",
                          "shared_buffers=16MB",
                          NULL};
    if (pg_server_run_as(argv, false, &s->pid) != 0)
        return -1;
    snprintf(s->conninfo, sizeof(s->conninfo),
             "host=127.0.0.1 port=%d user=postgres dbname=postgres", s->port);
    snprintf(s->unix_conninfo, sizeof(s->unix_conninfo),
             "host=%s port=%d user=postgres dbname=postgres", s->dir, s->port);
    for (int i = 0; i < 1000; i++) {
        if (PQping(s->conninfo) == PQPING_OK)
            return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Fast shutdown (SIGINT), then SIGKILL if it takes over 10 s. */
static inline void pg_server_stop(pg_server_t *s)
{
    server_proc_stop(&s->pid, SIGINT);
    server_dir_remove(s->dir);
}

#endif
