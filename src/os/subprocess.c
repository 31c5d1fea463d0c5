/* asyncio.subprocess: starting a child (create_subprocess_exec / _shell) and the Process
 * object (pid, returncode, wait, send_signal, terminate, kill, its pipes).
 * communicate() lives in communicate.c; exit detection in child_watcher.c. The pipes are
 * the net layer's streams over pipe transports (src/net/stream_open.c), as asyncio's
 * SubprocessStreamProtocol puts a StreamReader / StreamWriter on each pipe transport.
 *
 * Starting: every fd acio creates is close-on-exec from birth (pipe2, open with
 * O_CLOEXEC), and the child closes every fd above 2 anyway (closefrom in the spawn file
 * actions), so a child never inherits another child's pipe: a pipe end leaking into a
 * sibling is the classic way a reader never sees EOF. posix_spawn runs the file actions
 * in order, so each of the child's 0/1/2 is set with dup2 from a source that is never one
 * of 0/1/2 itself (low sources are first moved above 2 in the parent), which makes the
 * order of the dup2 calls irrelevant. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/process.h"

extern char **environ;

/* The child was reaped. Its pipes are left alone: their transports end by themselves as
 * in asyncio (stdout / stderr at EOF, after everything the child wrote was read into
 * their buffers; stdin when the hang-up of its reader is seen), and unread output stays
 * readable. */
static void on_exit_observed(void *data, int returncode)
{
    acio_process_t *p = data;
    p->exited = true;
    p->returncode = returncode;
    acio__child_watch_free(p->watch);
    p->watch = NULL;
    acio__net_unregister(&p->reg);
    for (size_t i = 0; i < p->nwaiters; i++) {
        if (!acio_future_done(p->waiters[i]))
            acio_future_set_result(p->waiters[i], NULL);
    }
}

/* The fds the spawn needs. Every fd here is above 2 (see lift()), so the child's dup2
 * calls onto 0/1/2 can never overwrite a source another dup2 still needs, and a pipe end
 * of ours can never sit on one of the child's standard fds. */
typedef struct {
    int child[3];  /* what becomes the child's 0/1/2; -1 to inherit */
    int parent[3]; /* our end of a PIPE, or -1 */
    int owned[4];  /* fds we created for the child; closed after the spawn */
    int nowned;
    bool stderr_to_stdout;
} stdio_plan_t;

static void plan_close(stdio_plan_t *pl)
{
    for (int i = 0; i < pl->nowned; i++)
        close(pl->owned[i]);
    pl->nowned = 0;
    for (int i = 0; i < 3; i++) {
        if (pl->parent[i] >= 0)
            close(pl->parent[i]);
        pl->parent[i] = -1;
    }
}

/* Return fd itself if it is above 2, else a close-on-exec duplicate above 2 (closing fd
 * when we own it). Low fds appear only when the parent runs with 0/1/2 closed. */
static int lift(int fd, bool owned)
{
    if (fd > 2)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    if (owned)
        close(fd);
    errno = err;
    return high;
}

static int plan_stdio(stdio_plan_t *pl, const acio_subprocess_opts_t *o)
{
    acio_subprocess_stdio_t modes[3] = {o->stdin_mode, o->stdout_mode, o->stderr_mode};
    int fds[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    int devnull = -1;
    memset(pl, 0, sizeof *pl);
    for (int i = 0; i < 3; i++)
        pl->child[i] = pl->parent[i] = -1;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        switch (modes[i]) {
        case ACIO_SUBPROCESS_INHERIT:
            break;
        case ACIO_SUBPROCESS_PIPE: {
            int p[2];
            if (pipe2(p, O_CLOEXEC) < 0) {
                rc = -errno;
                break;
            }
            p[0] = lift(p[0], true);
            p[1] = lift(p[1], true);
            if (p[0] < 0 || p[1] < 0) {
                rc = -errno;
                if (p[0] >= 0)
                    close(p[0]);
                if (p[1] >= 0)
                    close(p[1]);
                break;
            }
            /* stdin: the child reads p[0]; stdout/stderr: the child writes p[1]. */
            pl->child[i] = i == 0 ? p[0] : p[1];
            pl->parent[i] = i == 0 ? p[1] : p[0];
            pl->owned[pl->nowned++] = pl->child[i];
            break;
        }
        case ACIO_SUBPROCESS_DEVNULL:
            if (devnull < 0) {
                devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull >= 0)
                    devnull = lift(devnull, true);
                if (devnull < 0) {
                    rc = -errno;
                    break;
                }
                pl->owned[pl->nowned++] = devnull;
            }
            pl->child[i] = devnull;
            break;
        case ACIO_SUBPROCESS_STDOUT:
            if (i != 2)
                rc = -EINVAL;
            else
                pl->stderr_to_stdout = true;
            break;
        case ACIO_SUBPROCESS_FD: {
            if (fds[i] < 0 || fcntl(fds[i], F_GETFD) < 0) {
                rc = -EBADF;
                break;
            }
            int fd = lift(fds[i], false);
            if (fd < 0) {
                rc = -errno;
                break;
            }
            if (fd != fds[i])
                pl->owned[pl->nowned++] = fd;
            pl->child[i] = fd;
            break;
        }
        default:
            rc = -EINVAL;
        }
    }
    if (rc < 0)
        plan_close(pl);
    return rc;
}

static int spawn(acio_process_t *p, const char *file, char *const argv[],
                 const acio_subprocess_opts_t *o, bool search_path, stdio_plan_t *pl)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        return -rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -rc;
    }
    if (o->cwd)
        rc = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    for (int i = 0; i < 3 && rc == 0; i++)
        if (pl->child[i] >= 0)
            rc = posix_spawn_file_actions_adddup2(&fa, pl->child[i], i);
    if (rc == 0 && pl->stderr_to_stdout)
        rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    /* The child starts with no blocked signal and with SIGPIPE / SIGXFSZ at their
     * defaults (Python's restore_signals=True), whatever the parent did to them. */
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (o->start_new_session)
        flags |= POSIX_SPAWN_SETSID;
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, flags);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&attr, &empty);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&attr, &defaults);

    char *const *env = o->env ? o->env : environ;
    pid_t pid = -1;
    if (rc == 0) {
        if (search_path)
            rc = posix_spawnp(&pid, file, &fa, &attr, argv, env);
        else
            rc = posix_spawn(&pid, file, &fa, &attr, argv, env);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return -rc;
    p->pid = pid;
    return 0;
}

/* Kill and reap a child we cannot keep (a failure after it started, a free or a loop
 * close while it runs). SIGKILL cannot be caught, so the blocking waitpid is short.
 * Returns Python's returncode (-SIGKILL, or the status of a child that exited first). */
static int kill_and_reap(pid_t pid)
{
    int status = 0;
    kill(pid, SIGKILL);
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return 255; /* someone else reaped it: what asyncio's watchers report */
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/* Drop the process's stream handles, closing each pipe first (asyncio's transport
 * close() closes every pipe, even one whose reader someone else still holds). */
static void close_pipes(acio_process_t *p)
{
    if (p->in) {
        acio_stream_writer_close(p->in);
        acio_stream_writer_unref(p->in);
        p->in = NULL;
    }
    acio_stream_reader_t *readers[2] = {p->out, p->err};
    for (int i = 0; i < 2; i++) {
        if (readers[i]) {
            acio__stream_reader_close(readers[i]);
            acio_stream_reader_unref(readers[i]);
        }
    }
    p->out = p->err = NULL;
}

/* The loop closes while the child runs: asyncio's transport finalizer kills it; we also
 * reap it (the watch that would have done so goes with the loop) so that no zombie is
 * left. The pipes are transports of their own and are aborted by their own entries. */
static void process_loop_closed(acio__net_node_t *n)
{
    acio_process_t *p = acio_container_of(n, acio_process_t, reg);
    if (p->exited)
        return;
    acio__child_watch_free(p->watch);
    p->watch = NULL;
    p->returncode = kill_and_reap(p->pid);
    p->exited = true;
}

static int create(acio_process_t **out, const char *file, char *const argv[],
                  const acio_subprocess_opts_t *opts, bool search_path)
{
    static const acio_subprocess_opts_t defaults;
    const acio_subprocess_opts_t *o = opts ? opts : &defaults;
    if (!out || !file || !argv || !argv[0])
        return -EINVAL;
    acio_loop_t *loop = acio_get_running_loop();
    if (!loop)
        return ACIO_ENOLOOP;
    acio_process_t *p = acio__calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    stdio_plan_t pl;
    int rc = plan_stdio(&pl, o);
    if (rc < 0) {
        acio__free(p);
        return rc;
    }
    /* Everything that can fail is set up before the child exists, so a failure never
     * has to kill a child. Only the watch needs the pid. */
    if (pl.parent[0] >= 0) {
        rc = acio__stream_open_pipe(loop, pl.parent[0], 0, NULL, &p->in);
        if (rc == 0)
            pl.parent[0] = -1;
    }
    if (rc == 0 && pl.parent[1] >= 0) {
        rc = acio__stream_open_pipe(loop, pl.parent[1], o->limit, &p->out, NULL);
        if (rc == 0)
            pl.parent[1] = -1;
    }
    if (rc == 0 && pl.parent[2] >= 0) {
        rc = acio__stream_open_pipe(loop, pl.parent[2], o->limit, &p->err, NULL);
        if (rc == 0)
            pl.parent[2] = -1;
    }
    if (rc == 0)
        rc = acio__net_register(loop, &p->reg, process_loop_closed);
    if (rc == 0)
        rc = spawn(p, file, argv, o, search_path, &pl);
    plan_close(&pl);
    if (rc == 0) {
        rc = acio__child_watch_start(loop, p->pid, on_exit_observed, p, &p->watch);
        if (rc < 0)
            kill_and_reap(p->pid);
    }
    if (rc < 0) {
        acio__net_unregister(&p->reg);
        close_pipes(p);
        acio__free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int acio_create_subprocess_exec(acio_process_t **out, const char *const *argv,
                                const acio_subprocess_opts_t *opts)
{
    if (!argv)
        return -EINVAL;
    /* posix_spawn's argv is char *const[] for historical reasons; it does not write. */
    return create(out, argv[0], (char *const *)argv, opts, true);
}

int acio_create_subprocess_execl(acio_process_t **out, const acio_subprocess_opts_t *opts,
                                 const char *program, ...)
{
    if (!program)
        return -EINVAL;
    va_list ap;
    size_t n = 1;
    va_start(ap, program);
    while (va_arg(ap, const char *))
        n++;
    va_end(ap);
    const char **argv = acio__malloc((n + 1) * sizeof *argv);
    if (!argv)
        return -ENOMEM;
    argv[0] = program;
    va_start(ap, program);
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    int rc = acio_create_subprocess_exec(out, argv, opts);
    acio__free(argv);
    return rc;
}

int acio_create_subprocess_shell(acio_process_t **out, const char *cmd,
                                 const acio_subprocess_opts_t *opts)
{
    if (!cmd)
        return -EINVAL;
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    return create(out, argv[0], (char *const *)argv, opts, false);
}

int acio_process_pid(const acio_process_t *p)
{
    return p ? p->pid : -1;
}

bool acio_process_returncode(const acio_process_t *p, int *returncode)
{
    if (!p || !p->exited)
        return false;
    if (returncode)
        *returncode = p->returncode;
    return true;
}

static int add_waiter(acio_process_t *p, acio_future_t *fut)
{
    if (p->nwaiters == p->capwaiters) {
        size_t cap = p->capwaiters ? 2 * p->capwaiters : 4;
        acio_future_t **w = acio__realloc(p->waiters, cap * sizeof *w);
        if (!w)
            return -ENOMEM;
        p->waiters = w;
        p->capwaiters = cap;
    }
    p->waiters[p->nwaiters++] = fut;
    return 0;
}

static void remove_waiter(acio_process_t *p, acio_future_t *fut)
{
    for (size_t i = 0; i < p->nwaiters; i++) {
        if (p->waiters[i] == fut) {
            p->waiters[i] = p->waiters[--p->nwaiters];
            return;
        }
    }
}

int acio_process_wait(acio_process_t *p, int *returncode)
{
    if (!p)
        return -EINVAL;
    if (!p->exited) {
        if (!acio_current_task())
            return ACIO_ENOTASK;
        /* One future per call, as asyncio's _wait(): cancelling one waiter leaves the
         * others (and the watch) alone. */
        acio_future_t *fut;
        int rc = acio_future_new(p->loop, &fut);
        if (rc < 0)
            return rc;
        acio_future_set_label(fut, "process.wait");
        rc = add_waiter(p, fut);
        if (rc == 0) {
            rc = acio_await(fut, NULL);
            remove_waiter(p, fut);
        }
        acio_future_unref(fut);
        if (rc < 0)
            return rc;
    }
    if (returncode)
        *returncode = p->returncode;
    return 0;
}

int acio_process_send_signal(acio_process_t *p, int signo)
{
    if (!p || signo < 0 || signo >= NSIG)
        return -EINVAL;
    if (p->exited || !p->watch)
        return 0;
    return acio__child_watch_signal(p->watch, signo);
}

int acio_process_terminate(acio_process_t *p)
{
    return acio_process_send_signal(p, SIGTERM);
}
int acio_process_kill(acio_process_t *p)
{
    return acio_process_send_signal(p, SIGKILL);
}

acio_stream_writer_t *acio_process_stdin(acio_process_t *p)
{
    return p ? p->in : NULL;
}
acio_stream_reader_t *acio_process_stdout(acio_process_t *p)
{
    return p ? p->out : NULL;
}
acio_stream_reader_t *acio_process_stderr(acio_process_t *p)
{
    return p ? p->err : NULL;
}

void acio_process_set_data(acio_process_t *p, void *data)
{
    if (p)
        p->data = data;
}

void *acio_process_get_data(const acio_process_t *p)
{
    return p ? p->data : NULL;
}

void acio_process_free(acio_process_t *p)
{
    if (!p)
        return;
    acio__net_unregister(&p->reg);
    close_pipes(p);
    if (!p->exited) {
        acio__child_watch_free(p->watch);
        kill_and_reap(p->pid);
    }
    acio__free(p->waiters);
    acio__free(p);
}
