/* The Process object's layout, shared by subprocess.c (creation, wait, signals) and
 * communicate.c. Internal: users see only the opaque acio_process_t. Its pipes are
 * streams of the net layer (stream_int.h), each over a pipe transport. */
#ifndef ACIO_OS_PROCESS_H
#define ACIO_OS_PROCESS_H

#include "net/registry.h"
#include "net/stream_int.h"
#include "os/os_internal.h"

struct acio_process_s {
    acio_loop_t *loop;
    pid_t pid;
    bool exited;    /* reaped: returncode is valid, the pid is no longer ours */
    int returncode; /* Python's: exit status, or -signo */
    acio__child_watch_t *watch;
    /* One handle reference each, the process's; NULL unless that stream is a PIPE. */
    acio_stream_writer_t *in;
    acio_stream_reader_t *out, *err;
    acio_future_t **waiters; /* one per pending wait() call */
    size_t nwaiters, capwaiters;
    void *data; /* the user's slot */
    /* On the loop's registry while the child runs: closing the loop kills and reaps it. */
    acio__net_node_t reg;
};

#endif
