/* A real MariaDB server for the tests (Debian's mariadb-server, 10.11): mariadbd on
 * 127.0.0.1 with a free port and its Unix socket in a temporary directory, small InnoDB
 * files, binary log off; stopped and removed by mysql_server_stop(). Optionally with TLS
 * (the certificates of support/certs.h).
 *
 * Every start runs an init file that creates the user the tests connect as
 * (MYSQL_SERVER_USER / MYSQL_SERVER_PASSWORD, every privilege, from any host) and the
 * database MYSQL_SERVER_DB. mariadbd refuses to run as root unless told to, so as root
 * (CI) it gets --user=root; as anyone else it runs as that user. The forked server asks
 * for SIGKILL when the test process dies, so a crashed test leaves no server behind.
 * mariadb-install-db takes seconds, so one data directory is initialised per machine into
 * /tmp/acio-mysql-template-10.11 (built aside and renamed into place, so concurrent test
 * processes never see a half-made one) and each start copies it. */
#ifndef ACIO_TEST_MYSQL_SERVER_H
#define ACIO_TEST_MYSQL_SERVER_H

#include <fcntl.h>
#include <mysql.h>
#include <signal.h>
#include <stdbool.h>
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

#define MYSQL_SERVER_TEMPLATE "/tmp/acio-mysql-template-10.11"
#define MYSQL_SERVER_USER     "acio"
#define MYSQL_SERVER_PASSWORD "s3cret!@x"
#define MYSQL_SERVER_DB       "acio_test"
/* The InnoDB layout of the template: every start must use the same. */
#define MYSQL_SERVER_INNODB                                                                        \
    "--innodb-log-file-size=4M", "--innodb-data-file-path=ibdata1:4M:autoextend"

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char socket[96];
    char url[256];      /* mysql://acio:...@127.0.0.1:PORT/acio_test (password encoded) */
    char unix_url[256]; /* the same over the Unix socket */
} mysql_server_t;

/* Run argv with stdout (and stderr unless ACIO_MYSQL_SERVER_LOG is set) to /dev/null;
 * wait for it, or give its pid. */
static inline int mysql_server_run(const char *const *argv, bool wait, pid_t *pid_out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            if (!getenv("ACIO_MYSQL_SERVER_LOG"))
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

/* mariadbd runs as root only when told so; as another user it needs no option. */
static inline const char *mysql_server_user_opt(void)
{
    return getuid() == 0 ? "--user=root" : NULL;
}

static inline int mysql_server_template(void)
{
    struct stat st;
    if (stat(MYSQL_SERVER_TEMPLATE "/mysql_upgrade_info", &st) == 0)
        return 0;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "/tmp/acio-mysql-init-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    char data[96], datadir[112];
    snprintf(data, sizeof(data), "%s/data", tmp);
    snprintf(datadir, sizeof(datadir), "--datadir=%s", data);
    const char *argv[] = {"/usr/bin/mariadb-install-db",
                          "--no-defaults",
                          datadir,
                          "--auth-root-authentication-method=normal",
                          "--skip-test-db",
                          "--skip-log-bin",
                          MYSQL_SERVER_INNODB,
                          mysql_server_user_opt(), /* last: NULL ends the list early */
                          NULL};
    int rc = mysql_server_run(argv, true, NULL);
    if (rc == 0 && rename(data, MYSQL_SERVER_TEMPLATE) != 0 &&
        stat(MYSQL_SERVER_TEMPLATE "/mysql_upgrade_info", &st) != 0)
        rc = -1; /* another process may have won the race: then its template is used */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = -1;
    return rc;
}

/* Start a server; with tls_cert non-NULL, with TLS (tls_ca, tls_cert, tls_key: PEM). */
static inline int mysql_server_start_tls(mysql_server_t *s, const char *tls_ca,
                                         const char *tls_cert, const char *tls_key)
{
    memset(s, 0, sizeof(*s));
    if (mysql_server_template() != 0)
        return -1;
    snprintf(s->dir, sizeof(s->dir), "/tmp/acio-mysql-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cp -a " MYSQL_SERVER_TEMPLATE " '%s/data'", s->dir);
    if (system(cmd) != 0)
        return -1;
    char init[96];
    snprintf(init, sizeof(init), "%s/init.sql", s->dir);
    FILE *f = fopen(init, "w");
    if (!f)
        return -1;
    fprintf(f, "CREATE USER IF NOT EXISTS '" MYSQL_SERVER_USER "'@'%%' IDENTIFIED BY "
               "'" MYSQL_SERVER_PASSWORD "';\n"
               "GRANT ALL ON *.* TO '" MYSQL_SERVER_USER "'@'%%' WITH GRANT OPTION;\n"
               "CREATE DATABASE IF NOT EXISTS " MYSQL_SERVER_DB ";\n");
    fclose(f);
    s->port = loopback_free_port();
    if (s->port < 0)
        return -1;
    snprintf(s->socket, sizeof(s->socket), "%s/sock", s->dir);
    char datadir[112], port[32], sock[112], pidf[112], log[112], initf[112];
    char ca[160], cert[160], key[160];
    snprintf(datadir, sizeof(datadir), "--datadir=%s/data", s->dir);
    snprintf(port, sizeof(port), "--port=%d", s->port);
    snprintf(sock, sizeof(sock), "--socket=%s", s->socket);
    snprintf(pidf, sizeof(pidf), "--pid-file=%s/pid", s->dir);
    snprintf(log, sizeof(log), "--log-error=%s/err.log", s->dir);
    snprintf(initf, sizeof(initf), "--init-file=%s", init);
    if (tls_cert) {
        snprintf(ca, sizeof(ca), "--ssl-ca=%s", tls_ca);
        snprintf(cert, sizeof(cert), "--ssl-cert=%s", tls_cert);
        snprintf(key, sizeof(key), "--ssl-key=%s", tls_key);
    }
    const char *argv[] = {"/usr/sbin/mariadbd",
                          "--no-defaults",
                          datadir,
                          port,
                          sock,
                          pidf,
                          log,
                          initf,
                          "--bind-address=127.0.0.1",
                          "--skip-name-resolve",
                          "--skip-log-bin",
                          MYSQL_SERVER_INNODB,
                          "--innodb-buffer-pool-size=16M",
                          "--innodb-flush-log-at-trx-commit=0",
                          "--max-connections=200",
                          NULL, /* the options below, each only when needed */
                          NULL,
                          NULL,
                          NULL,
                          NULL};
    int n = 0;
    while (argv[n])
        n++;
    if (mysql_server_user_opt())
        argv[n++] = mysql_server_user_opt();
    if (tls_cert) {
        argv[n++] = ca;
        argv[n++] = cert;
        argv[n++] = key;
    }
    if (mysql_server_run(argv, false, &s->pid) != 0)
        return -1;
    /* "s3cret!@x" percent-encoded for the URL. */
    snprintf(s->url, sizeof(s->url),
             "mysql://" MYSQL_SERVER_USER ":s3cret!%%40x@127.0.0.1:%d/" MYSQL_SERVER_DB, s->port);
    snprintf(s->unix_url, sizeof(s->unix_url),
             "mysql://" MYSQL_SERVER_USER ":s3cret!%%40x@localhost/" MYSQL_SERVER_DB
             "?unix_socket=%s",
             s->socket);
    for (int i = 0; i < 3000; i++) {
        MYSQL *m = mysql_init(NULL);
        unsigned timeout = 1;
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        bool ok = mysql_real_connect(m, "localhost", MYSQL_SERVER_USER, MYSQL_SERVER_PASSWORD,
                                     MYSQL_SERVER_DB, 0, s->socket, 0) != NULL;
        mysql_close(m);
        if (ok)
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

static inline int mysql_server_start(mysql_server_t *s)
{
    return mysql_server_start_tls(s, NULL, NULL, NULL);
}

/* SIGTERM (a clean shutdown), then SIGKILL if it takes over 10 s; remove the directory. */
static inline void mysql_server_stop(mysql_server_t *s)
{
    server_proc_stop(&s->pid, SIGTERM);
    server_dir_remove(s->dir);
}

#endif
