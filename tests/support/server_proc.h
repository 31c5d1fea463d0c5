/* Stopping the real servers the tests start (redis_server.h, pg_server.h,
 * mysql_server.h): a signal, a bounded wait, SIGKILL if the server takes longer, and the
 * removal of its temporary directory. Header-only, like the other support files. */
#ifndef ACIO_TESTS_SUPPORT_SERVER_PROC_H
#define ACIO_TESTS_SUPPORT_SERVER_PROC_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Send sig to *pid, wait up to 10 s for it to exit, then SIGKILL it; *pid becomes 0.
 * A *pid of 0 or less is a no-op. */
static inline void server_proc_stop(pid_t *pid, int sig)
{
    if (*pid <= 0)
        return;
    kill(*pid, sig);
    int i;
    for (i = 0; i < 1000 && waitpid(*pid, NULL, WNOHANG) == 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (i == 1000) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

/* rm -rf dir (made by mkdtemp, so no quote in it), then dir becomes "". "" is a no-op. */
static inline void server_dir_remove(char *dir)
{
    if (!dir[0])
        return;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    dir[0] = '\0';
}

#endif
