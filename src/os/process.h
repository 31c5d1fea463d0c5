/* The Process object's layout, shared by subprocess.c (creation, wait, signals) and
 * communicate.c. Internal: users see only the opaque acio_process_t. */
#ifndef ACIO_OS_PROCESS_H
#define ACIO_OS_PROCESS_H

#include "os/os_internal.h"

struct acio_process_s {
    acio_loop_t *loop;
    pid_t pid;
    bool exited;    /* reaped: returncode is valid, the pid is no longer ours */
    int returncode; /* Python's: exit status, or -signo */
    acio__child_watch_t *watch;
    acio_pipe_writer_t *in;
    acio_pipe_reader_t *out, *err;
    acio_future_t **waiters; /* one per pending wait() call */
    size_t nwaiters, capwaiters;
    void *data; /* the user's slot */
};

#endif
