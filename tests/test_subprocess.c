/* Subprocesses: the seed's "read one line, then wait", exit statuses and deaths by signal
 * (returncode -SIGKILL as in Python), a missing or non-executable program reported by
 * the create call, the shell's 127, communicate() with more data than a pipe holds in
 * both directions at once, cancelling wait() (the child keeps running and can be waited
 * again), several waiters, stdio modes (DEVNULL, an fd, stderr=STDOUT), cwd and env,
 * fd hygiene, writing to a child that is gone (-EPIPE, no SIGPIPE), freeing a running
 * process, the stdout / stderr stream readers (readline limit, readuntil, readexactly,
 * flow control) and the stdin stream writer (write_eof), a child that dies while we read,
 * INHERIT, and the SIGCHLD fallback watcher. Every test checks that no fd is left open and
 * no child is left unreaped. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "support/problems.h"
#include "os/os_internal.h"
#include "support/rc.h"

static void teardown(void)
{
    problems_teardown();
    expect_no_child();
}
TestSuite(subprocess, .init = problems_setup, .fini = teardown, .timeout = 60);

static int run(acio_coro_fn fn)
{
    void *res = NULL;
    int rc = acio_run(fn, NULL, &res);
    cr_assert_eq(rc, 0, "main failed: %s", acio_strerror(rc));
    return (int)(intptr_t)res;
}

/* ---- the seed: read one line of the child's output, then wait ---- */

static void *seed_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(
        acio_create_subprocess_execl(&p, &o, "sh", "-c", "echo 2024-01-01; echo tail", NULL), 0);
    cr_assert_gt(acio_process_pid(p), 0);
    cr_assert_null(acio_process_get_data(p));
    acio_process_set_data(p, &o);
    cr_assert_eq(acio_process_get_data(p), &o);
    cr_assert_null(acio_process_stdin(p));
    cr_assert_null(acio_process_stderr(p));
    char line[64];
    ssize_t n = acio_stream_reader_readline(acio_process_stdout(p), line, sizeof line);
    cr_assert_eq(n, 11);
    cr_assert_eq(memcmp(line, "2024-01-01\n", 11), 0);
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 0);
    /* What the child wrote after the first line is still readable after wait(). */
    n = acio_stream_reader_readline(acio_process_stdout(p), line, sizeof line);
    cr_assert_eq(n, 5);
    n = acio_stream_reader_readline(acio_process_stdout(p), line, sizeof line);
    cr_assert_eq(n, 0);
    cr_assert(acio_stream_reader_at_eof(acio_process_stdout(p)));
    acio_process_free(p);
    return NULL;
}

Test(subprocess, read_one_line_then_wait)
{
    run(seed_main);
}

/* ---- exit statuses ---- */

static void *status_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_process_t *p;
    int rc = -1;
    cr_assert_eq(acio_create_subprocess_shell(&p, "exit 3", NULL), 0);
    cr_assert_not(acio_process_returncode(p, &rc));
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 3);
    rc = -1;
    cr_assert(acio_process_returncode(p, &rc));
    cr_assert_eq(rc, 3);
    /* Waiting again returns at once; signalling a reaped child does nothing. */
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(acio_process_kill(p), 0);
    acio_process_free(p);

    cr_assert_eq(acio_create_subprocess_shell(&p, "no-such-command-acio-test 2>/dev/null", NULL),
                 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 127, "the shell reports a missing command with 127, got %d", rc);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, exit_status_and_shell_127)
{
    run(status_main);
}

static void *killed_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_process_t *p;
    int rc;
    cr_assert_eq(acio_create_subprocess_execl(&p, NULL, "sleep", "100", NULL), 0);
    cr_assert_eq(acio_process_kill(p), 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, -SIGKILL, "returncode %d", rc);
    acio_process_free(p);

    cr_assert_eq(acio_create_subprocess_execl(&p, NULL, "sleep", "100", NULL), 0);
    cr_assert_eq(acio_process_terminate(p), 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, -SIGTERM, "returncode %d", rc);
    acio_process_free(p);

    /* A child that kills itself. */
    cr_assert_eq(acio_create_subprocess_shell(&p, "kill -USR1 $$", NULL), 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, -SIGUSR1, "returncode %d", rc);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, child_killed_by_a_signal_has_negative_returncode)
{
    run(killed_main);
}

/* ---- exec failures are errors of the create call ---- */

static void *missing_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_process_t *p = (acio_process_t *)0x1;
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_PIPE};
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "/nonexistent/acio-prog", NULL), -ENOENT);
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "no-such-program-acio-test", "x", NULL),
                 -ENOENT);
    cr_assert_eq(p, (acio_process_t *)0x1, "*out untouched on error");

    char path[] = "/tmp/acio-noexec-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    chmod(path, 0644);
    int rc = acio_create_subprocess_execl(&p, &o, path, NULL);
    unlink(path);
    cr_assert_eq(rc, -EACCES, "got %s", acio_strerror(rc));

    o.cwd = "/nonexistent-dir-acio";
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "true", NULL), -ENOENT);
    return NULL;
}

Test(subprocess, missing_program_is_an_error_not_a_127_child)
{
    run(missing_main);
}

static void *bad_args_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_process_t *p;
    const char *empty[] = {NULL};
    cr_assert_eq(acio_create_subprocess_exec(&p, empty, NULL), -EINVAL);
    cr_assert_eq(acio_create_subprocess_exec(&p, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_create_subprocess_shell(&p, NULL, NULL), -EINVAL);
    cr_assert_eq(acio_create_subprocess_execl(NULL, NULL, "true", NULL), -EINVAL);
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_STDOUT};
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "true", NULL), -EINVAL);
    acio_subprocess_opts_t o2 = {.stdout_mode = ACIO_SUBPROCESS_FD, .stdout_fd = 1000};
    cr_assert_eq(acio_create_subprocess_execl(&p, &o2, "true", NULL), -EBADF);
    acio_subprocess_opts_t o3 = {.stdin_mode = (acio_subprocess_stdio_t)42};
    cr_assert_eq(acio_create_subprocess_execl(&p, &o3, "true", NULL), -EINVAL);
    return NULL;
}

Test(subprocess, bad_arguments)
{
    run(bad_args_main);
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, NULL, "true", NULL), ACIO_ENOLOOP);
}

/* ---- communicate ---- */

#define BIG (3 * 1024 * 1024 + 7)

static void *communicate_main(void *arg)
{
    (void)arg;
    watch_problems();
    char *input = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        input[i] = (char)('a' + i % 26);
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    /* The child writes 1 MB to stderr before it reads anything: a parent that fed stdin
     * first and read afterwards would deadlock with it. */
    cr_assert_eq(
        acio_create_subprocess_shell(&p, "head -c 1000000 /dev/zero >&2; cat; echo done >&2", &o),
        0);
    void *out, *err;
    size_t olen, elen;
    cr_assert_eq(acio_process_communicate(p, input, BIG, &out, &olen, &err, &elen), 0);
    cr_assert_eq(olen, BIG);
    cr_assert_eq(memcmp(out, input, BIG), 0);
    cr_assert_eq(((char *)out)[olen], '\0');
    cr_assert_eq(elen, 1000000 + 5);
    cr_assert_eq(memcmp((char *)err + 1000000, "done\n", 5), 0);
    int rc;
    cr_assert(acio_process_returncode(p, &rc));
    cr_assert_eq(rc, 0);
    free(out);
    free(err);
    free(input);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, communicate_more_than_a_pipe_holds_both_ways)
{
    run(communicate_main);
}

static void *communicate_epipe_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* The child exits without reading: the big input meets a closed pipe. Python
     * ignores BrokenPipeError here, and a C program must not die of SIGPIPE. */
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_shell(&p, "echo bye; exit 4", &o), 0);
    size_t len = 1 << 20;
    char *input = calloc(1, len);
    void *out;
    size_t olen;
    cr_assert_eq(acio_process_communicate(p, input, len, &out, &olen, NULL, NULL), 0);
    cr_assert_eq(olen, 4);
    cr_assert_str_eq(out, "bye\n");
    int rc;
    cr_assert(acio_process_returncode(p, &rc));
    cr_assert_eq(rc, 4);
    free(out);
    free(input);
    /* Writing now reports the broken pipe instead of killing us. */
    cr_assert_eq(acio_stream_writer_write(acio_process_stdin(p), "x", 1), -EPIPE);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, communicate_with_a_child_that_does_not_read)
{
    run(communicate_epipe_main);
}

static void *epipe_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "true", NULL), 0);
    cr_assert_eq(acio_process_wait(p, NULL), 0);
    acio_stream_writer_t *w = acio_process_stdin(p);
    cr_assert_eq(acio_stream_writer_write(w, "hello", 5), -EPIPE);
    /* drain() after the pipe's transport ended: asyncio raises ConnectionResetError when
     * the hang-up ended it first, BrokenPipeError when our write did. */
    int rc = acio_stream_writer_drain(w);
    cr_assert(rc == -EPIPE || rc == -ECONNRESET, "drain: %s", acio_err_name(rc));
    cr_assert_eq(acio_stream_writer_write(w, "hello", 5), -EPIPE);
    cr_assert(acio_stream_writer_is_closing(w));
    acio_process_free(p);
    return NULL;
}

Test(subprocess, writing_to_an_exited_child_is_epipe_not_sigpipe)
{
    run(epipe_main);
}

static void *stdin_stream_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "cat", NULL), 0);
    acio_stream_writer_t *w = acio_process_stdin(p);
    acio_stream_reader_t *r = acio_process_stdout(p);
    char line[32];
    /* A conversation: each line goes through cat and comes back before the next. */
    for (int i = 0; i < 100; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "line %d\n", i);
        cr_assert_eq(acio_stream_writer_write(w, msg, (size_t)len), 0);
        cr_assert_eq(acio_stream_writer_drain(w), 0);
        ssize_t n = acio_stream_reader_readline(r, line, sizeof line);
        cr_assert_eq(n, len);
        cr_assert_eq(memcmp(line, msg, (size_t)len), 0);
    }
    /* A big write is buffered, drain waits for the pipe to take most of it. */
    size_t big = 512 * 1024;
    char *data = malloc(big);
    memset(data, 'z', big);
    data[big - 1] = '\n';
    cr_assert_eq(acio_stream_writer_write(w, data, big), 0);
    cr_assert_gt(acio_transport_get_write_buffer_size(acio_stream_writer_transport(w)), 0);
    acio_stream_writer_close(w);
    cr_assert(acio_stream_writer_is_closing(w));
    void *all;
    size_t alen;
    cr_assert_eq(acio_stream_reader_read_all(r, &all, &alen), 0);
    cr_assert_eq(alen, big);
    cr_assert_eq(memcmp(all, data, big), 0);
    cr_assert_eq(acio_stream_writer_wait_closed(w), 0);
    cr_assert_eq(acio_transport_get_write_buffer_size(acio_stream_writer_transport(w)), 0);
    free(all);
    free(data);
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdin_writer_and_stdout_reader_talk_to_cat)
{
    run(stdin_stream_main);
}

/* ---- wait() and cancellation ---- */

static void *waiter_task(void *arg)
{
    int rc = -1;
    int err = acio_process_wait(arg, &rc);
    if (err < 0)
        return acio_raise(err, "wait");
    return (void *)(intptr_t)rc;
}

static void *cancel_wait_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    /* cat runs until its stdin closes: we decide when it exits. */
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "cat", NULL), 0);
    acio_task_t *t, *t2;
    cr_assert_eq(acio_create_task(&t, waiter_task, p, "waiter"), 0);
    cr_assert_eq(acio_create_task(&t2, waiter_task, p, "other-waiter"), 0);
    cr_assert_eq(acio_sleep(0), 0); /* both are now suspended in wait() */
    cr_assert_eq(acio_task_cancel(t, NULL), 1);
    cr_assert_eq(acio_await(t, NULL), -ECANCELED);
    acio_future_unref(t);
    /* The child is still running and still watched. */
    cr_assert_not(acio_process_returncode(p, NULL));
    cr_assert_eq(kill(acio_process_pid(p), 0), 0);
    cr_assert_not(acio_future_done(t2), "the other waiter is unaffected");

    /* Wait again, then let the child finish. */
    cr_assert_eq(acio_create_task(&t, waiter_task, p, "waiter-again"), 0);
    cr_assert_eq(acio_sleep(0), 0);
    acio_stream_writer_close(acio_process_stdin(p));
    void *res;
    cr_assert_eq(acio_await(t, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
    cr_assert_eq(acio_await(t2, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
    acio_future_unref(t);
    acio_future_unref(t2);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, cancelled_wait_leaves_the_child_running_and_waitable)
{
    run(cancel_wait_main);
}

static void *cancel_communicate_task(void *arg)
{
    void *out = NULL;
    int rc = acio_process_communicate(arg, NULL, 0, &out, NULL, NULL, NULL);
    free(out);
    return rc < 0 ? acio_raise(rc, "communicate") : NULL;
}

static void *cancel_communicate_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "cat", NULL), 0);
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, cancel_communicate_task, p, NULL), 0);
    cr_assert_eq(acio_sleep(0), 0);
    /* Output arrives while communicate() waits for EOF... */
    cr_assert_eq(acio_stream_writer_write(acio_process_stdin(p), "early\n", 6), 0);
    for (int i = 0; i < 1000 && acio_stream_reader_buffered(acio_process_stdout(p)) < 6; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(acio_stream_reader_buffered(acio_process_stdout(p)), 6);
    /* ...then it is cancelled: the output is still there. */
    acio_task_cancel(t, NULL);
    cr_assert_eq(acio_await(t, NULL), -ECANCELED);
    acio_future_unref(t);
    char buf[16];
    cr_assert_eq(acio_stream_reader_readline(acio_process_stdout(p), buf, sizeof buf), 6);
    cr_assert_eq(memcmp(buf, "early\n", 6), 0);
    /* Still usable: talk to cat, then finish it. */
    cr_assert_eq(acio_stream_writer_write(acio_process_stdin(p), "ping\n", 5), 0);
    cr_assert_eq(acio_stream_reader_readline(acio_process_stdout(p), buf, sizeof buf), 5);
    void *out;
    size_t olen;
    cr_assert_eq(acio_process_communicate(p, "end", 3, &out, &olen, NULL, NULL), 0);
    cr_assert_eq(olen, 3);
    cr_assert_str_eq(out, "end");
    free(out);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, cancelled_communicate_loses_no_output)
{
    run(cancel_communicate_main);
}

static void *wait_for_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "cat", NULL), 0);
    /* await asyncio.wait_for(proc.wait(), 0.05) -> TimeoutError; the child lives on. */
    void *res;
    cr_assert_eq(acio_wait_for_call(waiter_task, p, NULL, 0.05, &res), -ETIMEDOUT);
    cr_assert_not(acio_process_returncode(p, NULL));
    acio_stream_writer_close(acio_process_stdin(p));
    cr_assert_eq(acio_wait_for_call(waiter_task, p, NULL, 30, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, wait_for_timeout_leaves_the_child_running)
{
    run(wait_for_main);
}

static void *echo_child(void *arg)
{
    int i = (int)(intptr_t)arg;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "echo child %d; exit %d", i, i % 7);
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    int rc = acio_create_subprocess_shell(&p, cmd, &o);
    if (rc < 0)
        return acio_raise(rc, "spawn %d", i);
    void *out;
    rc = acio_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL);
    int returncode = -1;
    acio_process_returncode(p, &returncode);
    acio_process_free(p);
    if (rc < 0)
        return acio_raise(rc, "communicate %d", i);
    char want[32];
    snprintf(want, sizeof want, "child %d\n", i);
    bool ok = strcmp(out, want) == 0 && returncode == i % 7;
    free(out);
    return ok ? NULL : acio_raise(-EIO, "child %d: wrong output or status %d", i, returncode);
}

static void *many_main(void *arg)
{
    (void)arg;
    watch_problems();
    enum { N = 40 };
    acio_call_t calls[N];
    for (int i = 0; i < N; i++)
        calls[i] = (acio_call_t){echo_child, (void *)(intptr_t)i, NULL};
    acio_future_t *all;
    cr_assert_eq(acio_gather_calls(&all, calls, N, NULL, 0, NULL, NULL, NULL), 0);
    int rc = acio_await(all, NULL);
    cr_assert_eq(rc, 0, "%s", acio_future_error_message(all));
    acio_future_unref(all);
    return NULL;
}

Test(subprocess, forty_children_at_once)
{
    run(many_main);
}

/* ---- stdio modes, cwd, env, fd hygiene ---- */

static void *modes_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_process_t *p;
    void *out;
    size_t len;
    int rc;

    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_STDOUT};
    cr_assert_eq(acio_create_subprocess_shell(&p, "echo out; echo err >&2", &o), 0);
    cr_assert_null(acio_process_stderr(p));
    cr_assert_eq(acio_process_communicate(p, NULL, 0, &out, &len, NULL, NULL), 0);
    cr_assert_str_eq(out, "out\nerr\n");
    free(out);
    acio_process_free(p);

    /* DEVNULL: stdin reads EOF at once, output disappears. */
    acio_subprocess_opts_t dn = {.stdin_mode = ACIO_SUBPROCESS_DEVNULL,
                                 .stdout_mode = ACIO_SUBPROCESS_DEVNULL,
                                 .stderr_mode = ACIO_SUBPROCESS_DEVNULL};
    cr_assert_eq(acio_create_subprocess_shell(&p, "cat; echo lost; echo lost >&2", &dn), 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 0);
    acio_process_free(p);

    /* An fd of ours as the child's stdout; it stays ours. */
    int fds[2];
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
    acio_subprocess_opts_t fo = {.stdout_mode = ACIO_SUBPROCESS_FD, .stdout_fd = fds[1]};
    cr_assert_eq(acio_create_subprocess_shell(&p, "echo via-fd", &fo), 0);
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    acio_process_free(p);
    char buf[32] = {0};
    cr_assert_eq(read(fds[0], buf, sizeof buf - 1), 7);
    cr_assert_str_eq(buf, "via-fd\n");
    cr_assert_eq(fcntl(fds[1], F_GETFD), FD_CLOEXEC, "our fd is open and unchanged");
    close(fds[0]);
    close(fds[1]);

    /* stdin from an fd, stderr=STDOUT into a pipe. */
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
    cr_assert_eq(write(fds[1], "from-fd\n", 8), 8);
    close(fds[1]);
    acio_subprocess_opts_t io = {.stdin_mode = ACIO_SUBPROCESS_FD,
                                 .stdin_fd = fds[0],
                                 .stdout_mode = ACIO_SUBPROCESS_PIPE,
                                 .stderr_mode = ACIO_SUBPROCESS_STDOUT};
    cr_assert_eq(acio_create_subprocess_shell(&p, "cat >&2", &io), 0);
    close(fds[0]);
    cr_assert_eq(acio_process_communicate(p, NULL, 0, &out, &len, NULL, NULL), 0);
    cr_assert_str_eq(out, "from-fd\n");
    free(out);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdio_modes)
{
    run(modes_main);
}

static void *cwd_env_main(void *arg)
{
    (void)arg;
    watch_problems();
    char *env[] = {"ACIO_TEST_VAR=forty-two", "PATH=/usr/bin:/bin", NULL};
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE, .cwd = "/", .env = env};
    acio_process_t *p;
    cr_assert_eq(
        acio_create_subprocess_shell(&p, "pwd; echo $ACIO_TEST_VAR; echo ${HOME-unset}", &o), 0);
    void *out;
    cr_assert_eq(acio_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL), 0);
    cr_assert_str_eq(out, "/\nforty-two\nunset\n");
    free(out);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, cwd_and_env)
{
    run(cwd_env_main);
}

static void *session_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* Field 6 of /proc/<pid>/stat is the session id: the child's own pid after setsid. */
    const char *cmd = "echo $$; cut -d' ' -f6 /proc/$$/stat";
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE, .start_new_session = true};
    for (int new_session = 1; new_session >= 0; new_session--) {
        o.start_new_session = new_session;
        acio_process_t *p;
        cr_assert_eq(acio_create_subprocess_shell(&p, cmd, &o), 0);
        void *out;
        cr_assert_eq(acio_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL), 0);
        int pid, sid;
        cr_assert_eq(sscanf(out, "%d %d", &pid, &sid), 2);
        cr_assert_eq(pid, acio_process_pid(p));
        if (new_session)
            cr_assert_eq(sid, pid, "setsid in the child");
        else
            cr_assert_eq(sid, getsid(0), "the parent's session");
        free(out);
        acio_process_free(p);
    }
    return NULL;
}

Test(subprocess, start_new_session)
{
    run(session_main);
}

static void *hygiene_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* An fd without close-on-exec must still not reach the child (close_fds=True). */
    int leaky = dup2(2, 57);
    cr_assert_eq(leaky, 57);
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "ls", "/proc/self/fd", NULL), 0);
    void *out;
    cr_assert_eq(acio_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL), 0);
    /* ls itself opens the directory as fd 3. */
    cr_assert_str_eq(out, "0\n1\n2\n3\n");
    free(out);
    acio_process_free(p);
    close(leaky);
    return NULL;
}

Test(subprocess, child_gets_only_stdin_stdout_stderr)
{
    run(hygiene_main);
}

/* ---- freeing, reader limit ---- */

static void *free_running_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "sleep", "100", NULL), 0);
    int pid = acio_process_pid(p);
    acio_process_free(p);
    /* Killed and reaped: the pid is gone, no zombie is left. */
    cr_assert_eq(kill(pid, 0), -1);
    cr_assert_eq(errno, ESRCH);
    return NULL;
}

Test(subprocess, freeing_a_running_process_kills_and_reaps_it)
{
    run(free_running_main);
}

static void *limit_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE, .limit = 16};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_shell(
                     &p, "echo short; echo this-line-is-longer-than-sixteen; printf 'last'", &o),
                 0);
    acio_stream_reader_t *r = acio_process_stdout(p);
    char buf[64];
    char tiny[3];
    /* Fits the limit but not the buffer: nothing consumed. */
    cr_assert_eq(acio_stream_reader_readline(r, tiny, sizeof tiny), -ENOBUFS);
    cr_assert_eq(acio_stream_reader_readline(r, buf, sizeof buf), 6);
    cr_assert_eq(memcmp(buf, "short\n", 6), 0);
    cr_assert_eq(acio_stream_reader_readline(r, buf, sizeof buf), ACIO_ELIMITOVERRUN);
    /* The over-long line is dropped (asyncio's readline); the stream goes on. */
    ssize_t n = acio_stream_reader_readline(r, buf, sizeof buf);
    cr_assert_eq(n, 4, "got %zd", n);
    cr_assert_eq(memcmp(buf, "last", 4), 0);
    cr_assert_eq(acio_stream_reader_readline(r, buf, sizeof buf), 0);
    cr_assert_eq(acio_stream_reader_read(r, buf, sizeof buf), 0);
    cr_assert_eq(acio_process_wait(p, NULL), 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdout_reader_readline_limit)
{
    run(limit_main);
}

static void *read_chunks_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE, .limit = 1024};
    acio_process_t *p;
    /* 200 KB through a reader whose limit is 1 KiB: reading pauses and resumes. */
    cr_assert_eq(acio_create_subprocess_shell(&p, "head -c 200000 /dev/zero | tr '\\0' x", &o), 0);
    size_t total = 0;
    char buf[777];
    for (int i = 0; i < 100000; i++) {
        ssize_t n = acio_stream_reader_read(acio_process_stdout(p), buf, sizeof buf);
        cr_assert_geq(n, 0);
        if (n == 0)
            break;
        for (ssize_t k = 0; k < n; k++)
            cr_assert_eq(buf[k], 'x');
        total += (size_t)n;
        if (i % 16 == 0)
            cr_assert_leq(acio_stream_reader_buffered(acio_process_stdout(p)), 3 * 1024 + 65536);
    }
    cr_assert_eq(total, 200000);
    cr_assert_eq(acio_process_wait(p, NULL), 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdout_reader_reads_in_chunks_with_flow_control)
{
    run(read_chunks_main);
}

static void *stream_api_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {
        .stdout_mode = ACIO_SUBPROCESS_PIPE, .stderr_mode = ACIO_SUBPROCESS_PIPE, .limit = 4096};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_shell(
                     &p, "printf 'key=value;rest'; printf 'ABCDEFGH' >&2; printf 'tail'", &o),
                 0);
    acio_stream_reader_t *out = acio_process_stdout(p), *err = acio_process_stderr(p);
    cr_assert_eq(acio_stream_reader_get_limit(out), 4096);
    cr_assert_eq(acio_stream_reader_get_limit(err), 4096);
    char buf[64];
    size_t partial = 99;
    cr_assert_eq(acio_stream_reader_readuntil(out, "=", 1, buf, sizeof buf, &partial), 4);
    cr_assert_eq(memcmp(buf, "key=", 4), 0);
    cr_assert_eq(acio_stream_reader_readuntil(out, ";", 1, buf, sizeof buf, NULL), 6);
    cr_assert_eq(memcmp(buf, "value;", 6), 0);
    cr_assert_eq(acio_stream_reader_readexactly(err, buf, 3, NULL), 0);
    cr_assert_eq(memcmp(buf, "ABC", 3), 0);
    /* More than the child wrote: IncompleteReadError with the rest. */
    cr_assert_eq(acio_stream_reader_readexactly(err, buf, 10, &partial), ACIO_EINCOMPLETEREAD);
    cr_assert_eq(partial, 5);
    cr_assert_eq(memcmp(buf, "DEFGH", 5), 0);
    cr_assert(acio_stream_reader_at_eof(err));
    /* No separator before EOF. */
    ssize_t n = acio_stream_reader_readuntil(out, "\n", 1, buf, sizeof buf, &partial);
    cr_assert_eq(n, ACIO_EINCOMPLETEREAD);
    cr_assert_eq(partial, 8);
    cr_assert_eq(memcmp(buf, "resttail", 8), 0);
    cr_assert(acio_stream_reader_at_eof(out));
    cr_assert_eq(acio_stream_reader_exception(out), 0);
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdout_and_stderr_are_full_stream_readers)
{
    run(stream_api_main);
}

static void *write_eof_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_execl(&p, &o, "wc", "-c", NULL), 0);
    acio_stream_writer_t *w = acio_process_stdin(p);
    cr_assert(acio_stream_writer_can_write_eof(w));
    struct iovec iov[2] = {{"12345", 5}, {"678", 3}};
    cr_assert_eq(acio_stream_writer_writelines(w, iov, 2), 0);
    cr_assert_eq(acio_stream_writer_drain(w), 0);
    /* A pipe has no half-close: write_eof closes it, and wc sees EOF. */
    cr_assert_eq(acio_stream_writer_write_eof(w), 0);
    cr_assert_eq(acio_stream_writer_wait_closed(w), 0);
    cr_assert_eq(acio_stream_writer_write(w, "x", 1), -EPIPE, "write after write_eof");
    void *all;
    size_t len;
    cr_assert_eq(acio_stream_reader_read_all(acio_process_stdout(p), &all, &len), 0);
    cr_assert_eq(atoi(all), 8, "wc counted %s", (char *)all);
    free(all);
    cr_assert_eq(acio_process_wait(p, NULL), 0);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, stdin_write_eof_closes_the_pipe)
{
    run(write_eof_main);
}

static void *dies_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    /* The child writes a line, then dies by a signal while we still read and write. */
    cr_assert_eq(acio_create_subprocess_shell(&p, "echo last-words; kill -KILL $$", &o), 0);
    char line[32];
    cr_assert_eq(acio_stream_reader_readline(acio_process_stdout(p), line, sizeof line), 11);
    cr_assert_eq(memcmp(line, "last-words\n", 11), 0);
    cr_assert_eq(acio_stream_reader_readline(acio_process_stdout(p), line, sizeof line), 0);
    cr_assert(acio_stream_reader_at_eof(acio_process_stdout(p)));
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, -SIGKILL);
    cr_assert_eq(acio_stream_writer_write(acio_process_stdin(p), "late", 4), -EPIPE);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, child_that_dies_gives_eof_and_negative_returncode)
{
    run(dies_main);
}

static void *wait_keeps_output_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    /* Less than twice the limit, so the child can write it all and exit unread. */
    cr_assert_eq(acio_create_subprocess_shell(
                     &p, "head -c 100000 /dev/zero | tr '\\0' o; printf err >&2; exit 6", &o),
                 0);
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 6);
    void *all;
    size_t len;
    cr_assert_eq(acio_stream_reader_read_all(acio_process_stdout(p), &all, &len), 0);
    cr_assert_eq(len, 100000);
    cr_assert_eq(((char *)all)[0], 'o');
    cr_assert_eq(((char *)all)[99999], 'o');
    free(all);
    cr_assert_eq(acio_stream_reader_read_all(acio_process_stderr(p), &all, &len), 0);
    cr_assert_str_eq(all, "err");
    free(all);
    acio_process_free(p);
    return NULL;
}

Test(subprocess, wait_loses_no_buffered_output)
{
    run(wait_keeps_output_main);
}

static void *reader_outlives_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_subprocess_opts_t o = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_shell(&p, "echo kept; exec sleep 100", &o), 0);
    acio_stream_reader_t *r = acio_stream_reader_ref(acio_process_stdout(p));
    char line[16];
    for (int i = 0; i < 1000 && acio_stream_reader_buffered(r) < 5; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(acio_stream_reader_buffered(r), 5);
    /* Freeing kills the child and closes the pipe; our reference keeps what was read. */
    acio_process_free(p);
    cr_assert_eq(acio_stream_reader_readline(r, line, sizeof line), 5);
    cr_assert_eq(memcmp(line, "kept\n", 5), 0);
    cr_assert_eq(acio_stream_reader_readline(r, line, sizeof line), 0);
    cr_assert(acio_stream_reader_at_eof(r));
    acio_stream_reader_unref(r);
    return NULL;
}

Test(subprocess, a_reader_reference_outlives_the_process)
{
    run(reader_outlives_main);
}

/* INHERIT: the child writes to our fd 1 and reads our fd 0. They are swapped for pipes
 * around the spawn so the test can see what the child did with them. */
static void *inherit_main(void *arg)
{
    (void)arg;
    watch_problems();
    int in[2], out[2];
    cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(write(in[1], "from-our-stdin\n", 15), 15);
    close(in[1]);
    fflush(stdout);
    int saved0 = dup(0), saved1 = dup(1);
    cr_assert(saved0 >= 0 && saved1 >= 0);
    cr_assert_eq(dup2(in[0], 0), 0);
    cr_assert_eq(dup2(out[1], 1), 1);
    acio_process_t *p;
    int rc = acio_create_subprocess_shell(&p, "read x; echo \"got $x\"", NULL);
    dup2(saved0, 0);
    dup2(saved1, 1);
    close(saved0);
    close(saved1);
    close(in[0]);
    close(out[1]);
    cr_assert_eq(rc, 0);
    cr_assert_null(acio_process_stdin(p));
    cr_assert_null(acio_process_stdout(p));
    int status;
    cr_assert_eq(acio_process_wait(p, &status), 0);
    cr_assert_eq(status, 0);
    acio_process_free(p);
    char buf[64] = {0};
    cr_assert_eq(read(out[0], buf, sizeof buf - 1), 19);
    cr_assert_str_eq(buf, "got from-our-stdin\n");
    close(out[0]);
    return NULL;
}

Test(subprocess, inherit_gives_the_child_our_stdin_and_stdout)
{
    run(inherit_main);
}

/* ---- the SIGCHLD fallback ---- */

static void *sigchld_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio__child_watch_force_sigchld(true);
    enum { N = 8 };
    acio_process_t *p[N];
    for (int i = 0; i < N; i++) {
        char cmd[32];
        /* Some exit at once (before any SIGCHLD handler could matter), some later. */
        if (i % 2)
            snprintf(cmd, sizeof cmd, "exit %d", i);
        else
            snprintf(cmd, sizeof cmd, "sleep 0.0%d; exit %d", i, i);
        cr_assert_eq(acio_create_subprocess_shell(&p[i], cmd, NULL), 0);
    }
    acio_process_t *k;
    cr_assert_eq(acio_create_subprocess_execl(&k, NULL, "sleep", "100", NULL), 0);
    cr_assert_eq(acio_process_send_signal(k, SIGKILL), 0);
    for (int i = N - 1; i >= 0; i--) {
        int rc;
        cr_assert_eq(acio_process_wait(p[i], &rc), 0);
        cr_assert_eq(rc, i);
        acio_process_free(p[i]);
    }
    int rc;
    cr_assert_eq(acio_process_wait(k, &rc), 0);
    cr_assert_eq(rc, -SIGKILL);
    acio_process_free(k);
    acio__child_watch_force_sigchld(false);
    /* The internal SIGCHLD handler is gone with the last watch. */
    struct sigaction now;
    sigaction(SIGCHLD, NULL, &now);
    cr_assert_eq((void *)now.sa_handler, (void *)SIG_DFL);
    return NULL;
}

Test(subprocess, sigchld_fallback_watcher)
{
    run(sigchld_main);
}

/* A user's SIGCHLD handler and acio's fallback watcher coexist on one loop. */
static int user_sigchld;
static void on_user_sigchld(int signo, void *data)
{
    (void)signo;
    (void)data;
    user_sigchld++;
}

static void *sigchld_user_main(void *arg)
{
    (void)arg;
    acio_loop_t *loop = watch_problems();
    acio__child_watch_force_sigchld(true);
    cr_assert_eq(acio_loop_add_signal_handler(loop, SIGCHLD, on_user_sigchld, NULL), 0);
    acio_process_t *p;
    cr_assert_eq(acio_create_subprocess_shell(&p, "exit 9", NULL), 0);
    int rc;
    cr_assert_eq(acio_process_wait(p, &rc), 0);
    cr_assert_eq(rc, 9);
    acio_process_free(p);
    /* The user's handler saw the SIGCHLD too (maybe after the first poll reaped). */
    for (int i = 0; i < 100 && !user_sigchld; i++)
        OK(acio_sleep(0.01));
    cr_assert_geq(user_sigchld, 1);
    cr_assert_eq(acio_loop_remove_signal_handler(loop, SIGCHLD), 1);
    acio__child_watch_force_sigchld(false);
    return NULL;
}

Test(subprocess, user_sigchld_handler_and_fallback_watcher_coexist)
{
    run(sigchld_user_main);
}
