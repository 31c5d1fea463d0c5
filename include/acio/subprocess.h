/* Child processes: asyncio.create_subprocess_exec / create_subprocess_shell and
 * asyncio.subprocess.Process. A PIPE stdin is an acio_stream_writer_t and a PIPE stdout or
 * stderr an acio_stream_reader_t (acio/stream.h), each over a pipe transport, as asyncio's
 * Process exposes StreamWriter / StreamReader objects: everything that works on a stream
 * works on them.
 *
 * The child is started with posix_spawn (a vfork-style clone), so starting it costs no
 * copy of the parent's memory, and a failed exec (a missing program) is returned as an
 * error by the create function instead of a child that exits with 127. Every fd of the
 * parent except the three standard ones is closed in the child (Python's close_fds=True).
 * Its exit is observed with a pidfd watched by the loop (pidfd_open(2)); on kernels
 * without it, with a SIGCHLD handler that polls only the loop's own children (never
 * waitpid(-1), which would steal other code's children).
 *
 * If the loop closes while a child still runs, the child is killed (SIGKILL) and reaped
 * and its pipes are aborted, as asyncio's subprocess transport does when it is
 * collected; the acio_process_t stays the caller's to free.
 *
 * Threads: everything here is called on the loop's thread; the functions that wait are
 * coroutines (call them from a task; they return ACIO_ENOTASK otherwise). */
#ifndef ACIO_SUBPROCESS_H
#define ACIO_SUBPROCESS_H

#include <sys/types.h>

#include "common.h"
#include "stream.h"

typedef struct acio_process_s acio_process_t;

/* What becomes of one of the child's standard streams (asyncio.subprocess.PIPE, ...). */
typedef enum {
    ACIO_SUBPROCESS_INHERIT = 0, /* the parent's own (Python's None): the default */
    ACIO_SUBPROCESS_PIPE,        /* a pipe to the parent: acio_process_stdin() etc. */
    ACIO_SUBPROCESS_DEVNULL,     /* /dev/null */
    ACIO_SUBPROCESS_STDOUT,      /* stderr only: wherever stdout goes (2>&1) */
    ACIO_SUBPROCESS_FD,          /* the fd given in *_fd (dup'ed; stays the caller's) */
} acio_subprocess_stdio_t;

/* Options; a zero-initialised struct (or NULL) means asyncio's defaults. */
typedef struct {
    acio_subprocess_stdio_t stdin_mode, stdout_mode, stderr_mode;
    int stdin_fd, stdout_fd, stderr_fd; /* used with ACIO_SUBPROCESS_FD */
    const char *cwd;                    /* run the child there (NULL: the parent's) */
    char *const *env;                   /* the child's environment (NULL: the parent's) */
    bool start_new_session;             /* setsid() in the child */
    size_t limit; /* stdout/stderr readers' limit (acio_stream_reader_get_limit); 0: 64 KiB */
} acio_subprocess_opts_t;

/* asyncio.create_subprocess_exec(argv[0], *argv[1:]): start argv[0] (looked up in PATH
 * when it has no '/') with the NULL-terminated argument vector argv. Does not yield: the
 * child is running and its pipes are usable when it returns.
 * Ownership: *out belongs to the caller and is released with acio_process_free().
 * Errors: -EINVAL (NULL out, argv or argv[0]; an invalid stdio mode), -EBADF (an
 * ACIO_SUBPROCESS_FD that is not open), ACIO_ENOLOOP
 * (no running loop in this thread), -ENOENT (no such program, or cwd missing), -EACCES
 * (not executable), -ENOEXEC, -EMFILE, -ENOMEM, -EAGAIN (process limit); on error no
 * child is left behind and *out is untouched. */
ACIO_EXTERN ACIO_NODISCARD int acio_create_subprocess_exec(acio_process_t **out,
                                                           const char *const *argv,
                                                           const acio_subprocess_opts_t *opts);
/* The same with the arguments inline, ending with NULL: like Python's
 * create_subprocess_exec(program, *args). */
ACIO_EXTERN ACIO_NODISCARD int acio_create_subprocess_execl(acio_process_t **out,
                                                            const acio_subprocess_opts_t *opts,
                                                            const char *program, ...)
    __attribute__((sentinel));
/* asyncio.create_subprocess_shell(cmd): run cmd with /bin/sh -c. A missing command is
 * the shell's business: the child exits with 127, as in Python. Errors as above. */
ACIO_EXTERN ACIO_NODISCARD int acio_create_subprocess_shell(acio_process_t **out, const char *cmd,
                                                            const acio_subprocess_opts_t *opts);

/* Process.pid. */
ACIO_EXTERN int acio_process_pid(const acio_process_t *p);
/* Process.returncode: true and *returncode once the child has exited (its exit status,
 * or -signo if a signal killed it, as in Python); false while it runs (None). */
ACIO_EXTERN bool acio_process_returncode(const acio_process_t *p, int *returncode);

/* Process.wait(): wait for the child to exit and store its returncode (may be NULL).
 * Coroutine. Cancelling the waiting task returns -ECANCELED and leaves the child running
 * and watched: wait() may be called again. Unlike asyncio, it returns as soon as the
 * child has exited, without waiting for its pipes to close (a grandchild holding stdout
 * cannot make it hang); unread output stays readable from the stdout / stderr readers.
 * Errors: ACIO_ENOTASK, -ECANCELED, -EINVAL. */
ACIO_EXTERN ACIO_NODISCARD int acio_process_wait(acio_process_t *p, int *returncode);

/* Process.communicate(input): write input_len bytes of input to stdin (if input is
 * non-NULL; stdin must then be a PIPE) and close it, read stdout and stderr to EOF, all
 * concurrently (no deadlock whatever the sizes), then wait for the child to exit.
 * *out_data / *err_data receive malloc'd copies of what the child wrote (followed by a
 * NUL byte not counted in the length) (NULL when that stream is not a PIPE); free() them.
 * Any argument may be NULL to ignore it. Without input, stdin is left open (as in Python
 * 3.11). A child that stops reading its stdin early (EPIPE) is not an error, as in
 * Python. While it runs, the readers buffer without their limit, so a child that fills
 * one pipe while we wait on the other cannot block. Coroutine. On cancellation returns
 * -ECANCELED and the child keeps running; no output is lost (it is taken out of the
 * readers only once both reached EOF). Errors: ACIO_ENOTASK, -EINVAL (input without a
 * stdin PIPE), -ENOMEM, -ECANCELED, -EBUSY (another task is reading stdout / stderr),
 * -EIO and other read/write errors. */
ACIO_EXTERN ACIO_NODISCARD int acio_process_communicate(acio_process_t *p, const void *input,
                                                        size_t input_len, void **out_data,
                                                        size_t *out_len, void **err_data,
                                                        size_t *err_len);

/* Process.send_signal / terminate (SIGTERM) / kill (SIGKILL). Sending to a child that has
 * already exited and been reaped does nothing and returns 0 (as Popen.send_signal).
 * Errors: -EINVAL (bad signo or NULL), other negated errno from the kernel. */
ACIO_EXTERN int acio_process_send_signal(acio_process_t *p, int signo);
ACIO_EXTERN int acio_process_terminate(acio_process_t *p);
ACIO_EXTERN int acio_process_kill(acio_process_t *p);

/* Process.stdin / stdout / stderr: borrowed, valid until acio_process_free(); NULL when
 * that stream is not a PIPE. Take acio_stream_writer_ref / acio_stream_reader_ref to keep
 * one longer. stdin has write, writelines, drain, write_eof (closes the pipe), close,
 * wait_closed and is_closing; stdout and stderr every StreamReader function (read,
 * read_all, readline, readuntil, readexactly, at_eof, get_limit, buffered, exception).
 * Writing to a stdin whose reader is gone returns -EPIPE (SIGPIPE is ignored, as in
 * Python); after close() it returns -ENOTCONN. */
ACIO_EXTERN acio_stream_writer_t *acio_process_stdin(acio_process_t *p);
ACIO_EXTERN acio_stream_reader_t *acio_process_stdout(acio_process_t *p);
ACIO_EXTERN acio_stream_reader_t *acio_process_stderr(acio_process_t *p);

/* The process's user slot (acio never touches it). */
ACIO_EXTERN void acio_process_set_data(acio_process_t *p, void *data);
ACIO_EXTERN void *acio_process_get_data(const acio_process_t *p);

/* Release the process (asyncio's transport close()): close its pipes (stdin after what
 * is buffered is sent; a reader someone still holds keeps what it buffered, then sees
 * EOF), drop the process's stream handles, and, if the child is still running, kill it
 * with SIGKILL and reap it, so no zombie is left. Nothing may be waiting on p (no task
 * inside wait/communicate). Safe after the loop closed. NULL is a no-op. */
ACIO_EXTERN void acio_process_free(acio_process_t *p);

#endif
