/* Internal interfaces shared by the files of the os layer (src/os/): signals, child
 * processes and files. Nothing here is exported; tests reach it through the static
 * library. */
#ifndef ACIO_OS_INTERNAL_H
#define ACIO_OS_INTERNAL_H

#include <sys/types.h>

#include "internal.h"
#include "acio/signal.h"
#include "acio/subprocess.h"
#include "acio/file.h"

/* ---- signal.c ---- */

/* A second, internal handler slot per (loop, signo), independent of the user's
 * acio_loop_add_signal_handler() one, so acio's own SIGCHLD watcher and a user's SIGCHLD
 * handler coexist. Same errors as the public function; remove returns 1 or 0. */
int acio__signal_add_internal(acio_loop_t *loop, int signo, acio_signal_cb cb, void *data);
int acio__signal_remove_internal(acio_loop_t *loop, int signo);

/* ---- child_watcher.c ---- */

/* Watches one child until it exits, then calls cb(data, returncode) on the loop, once,
 * with Python's returncode (exit status, or -signo when killed by a signal). The watcher
 * reaps the child itself (waitpid on that pid only, never -1). */
typedef void (*acio__child_exit_cb)(void *data, int returncode);
typedef struct acio__child_watch_s acio__child_watch_t;

/* Start watching pid (a child of this process that nobody else reaps). Uses a pidfd when
 * the kernel has pidfd_open(2), else a SIGCHLD handler that polls the loop's known pids.
 * Ownership: *out is released with acio__child_watch_free(), which stops watching (the
 * callback is then never called) but does not reap. Errors: -ENOMEM, -EMFILE, ... */
int acio__child_watch_start(acio_loop_t *loop, pid_t pid, acio__child_exit_cb cb, void *data,
                            acio__child_watch_t **out);
void acio__child_watch_free(acio__child_watch_t *w);
/* Send a signal to the watched child (pidfd_send_signal when there is a pidfd, so it can
 * never hit a recycled pid). Errors: negated errno. */
int acio__child_watch_signal(acio__child_watch_t *w, int signo);
/* Tests: force the SIGCHLD fallback (true) or let pidfd be used (false). */
void acio__child_watch_force_sigchld(bool force);

/* ---- worker.c ---- */

/* A blocking function run on the os layer's worker threads. It must not touch the loop;
 * its return value becomes the future's result. */
typedef void *(*acio__work_fn)(void *arg);

/* Run fn(arg) on the "acio-file" executor pool and return a future on loop that
 * finishes with its return value, on the loop's thread. fn always runs to completion,
 * even if the future is cancelled meanwhile; done(arg) (may be NULL) is then called on
 * the loop's thread after fn returns, whatever happened to the future, so arg can be
 * released there. Ownership: *out is one reference for the caller.
 * Errors: -ENOMEM, -EAGAIN (no thread), the executor's errors. */
int acio__work_submit(acio_loop_t *loop, acio__work_fn fn, void *arg, void (*done)(void *arg),
                      acio_future_t **out);

#endif
