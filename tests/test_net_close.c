/* Closing a loop with things still open on it: a TCP server with an accepted connection,
 * a client connection with unsent data, a stream pair, a Unix server, a UDP endpoint,
 * both ends of a pipe, and child processes with pipes (one whose pipes' connection_made
 * has not even run yet). The loop aborts them all (registry.c): every fd is closed, no
 * child is left, connection_lost is never called, and everything the test still holds
 * (transports, servers, streams, processes) can be closed, aborted and released
 * afterwards as harmless no-ops, with nothing leaked (the _asan build checks that). Both
 * ways a loop closes are covered: the end of acio_run() and acio_loop_close(). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "support/counting.h"
#include "support/problems.h"
#include "support/rc.h"

TestSuite(net_close, .init = problems_setup, .fini = expect_no_child, .timeout = 60);

/* What the test keeps across the loop's close. */
static struct {
    acio_server_t *srv, *usrv;
    acio_transport_t *client, *udp, *rpipe, *wpipe;
    acio_stream_reader_t *sr;
    acio_stream_writer_t *sw;
    acio_process_t *proc, *young;
    int pid, young_pid;
    char upath[64];
} held;

static void *open_everything(void *arg)
{
    (void)arg;
    acio_loop_t *loop = watch_problems();
    counted_reset();

    cr_assert_eq(
        acio_loop_create_server(loop, &held.srv, counting_factory, NULL, "127.0.0.1", 0, NULL), 0);
    int port = acio_server_port(held.srv);
    cr_assert_gt(port, 0);
    cr_assert_eq(acio_loop_create_connection(loop, &held.client, &counting_protocol, NULL,
                                             "127.0.0.1", port, NULL),
                 0);
    for (int i = 0; i < 1000 && !counted.naccepted; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(counted.naccepted, 1, "the server accepted the connection");
    /* The peer stops reading, so the client's write buffer keeps several MB. */
    cr_assert_eq(acio_transport_pause_reading(counted.accepted[0]), 0);
    size_t big = 8 << 20;
    char *junk = calloc(1, big);
    cr_assert_eq(acio_transport_write(held.client, junk, big), 0);
    free(junk);
    cr_assert_gt(acio_transport_get_write_buffer_size(held.client), 0);

    cr_assert_eq(acio_open_connection(&held.sr, &held.sw, "127.0.0.1", port, 0, NULL), 0);
    cr_assert_eq(acio_stream_writer_write(held.sw, "unanswered", 10), 0);

    snprintf(held.upath, sizeof held.upath, "/tmp/acio-net-close-%d.sock", (int)getpid());
    cr_assert_eq(
        acio_loop_create_unix_server(loop, &held.usrv, counting_factory, NULL, held.upath, NULL),
        0);

    acio_datagram_opts_t uo = {.local_host = "127.0.0.1", .local_port = 0};
    cr_assert_eq(
        acio_loop_create_datagram_endpoint(loop, &held.udp, &counting_datagram_protocol, NULL, &uo),
        0);

    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(acio_loop_connect_read_pipe(loop, &held.rpipe, &counting_protocol, NULL, p[0]), 0);
    cr_assert_eq(acio_loop_connect_write_pipe(loop, &held.wpipe, &counting_protocol, NULL, p[1]),
                 0);

    acio_subprocess_opts_t o = {.stdin_mode = ACIO_SUBPROCESS_PIPE,
                                .stdout_mode = ACIO_SUBPROCESS_PIPE,
                                .stderr_mode = ACIO_SUBPROCESS_PIPE};
    cr_assert_eq(acio_create_subprocess_execl(&held.proc, &o, "sleep", "100", NULL), 0);
    held.pid = acio_process_pid(held.proc);
    cr_assert_eq(acio_sleep(0.01), 0);
    /* Created last, with no yield after it: its pipes' connection_made is still queued
     * when the loop closes. */
    cr_assert_eq(acio_create_subprocess_execl(&held.young, &o, "sleep", "100", NULL), 0);
    held.young_pid = acio_process_pid(held.young);
    cr_assert_eq(acio_stream_writer_write(acio_process_stdin(held.young), "queued", 6), 0);
    return NULL;
}

/* After the loop is gone: everything is closed, and everything still held is inert. */
static void check_and_release_everything(void)
{
    cr_assert_eq(count_fds(), fds_before, "fds open: %d, before: %d", count_fds(), fds_before);
    cr_assert_eq(counted.lost, 0, "connection_lost must not run after the loop closed");
    cr_assert_eq(problems, 0, "the loop reported %d problems", problems);
    cr_assert_eq(access(held.upath, F_OK), -1, "the Unix server's socket file is removed");

    acio_transport_t *ts[] = {held.client, held.udp, held.rpipe, held.wpipe};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        acio_transport_t *t = ts[i];
        expect_aborted_transport(t);
    }
    cr_assert_eq(acio_transport_write(held.client, "x", 1), ACIO_ECLOSED);
    cr_assert_eq(acio_transport_write(held.wpipe, "x", 1), ACIO_ECLOSED);
    cr_assert_eq(acio_transport_sendto(held.udp, "x", 1, NULL, 0), ACIO_ECLOSED);
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        acio_transport_unref(ts[i]);

    cr_assert_not(acio_server_is_serving(held.srv));
    acio_server_close(held.srv);
    acio_server_free(held.srv);
    acio_server_free(held.usrv);

    cr_assert(acio_stream_writer_is_closing(held.sw));
    cr_assert_eq(acio_stream_writer_write(held.sw, "x", 1), ACIO_ECLOSED);
    char buf[8];
    cr_assert_eq(acio_stream_reader_read(held.sr, buf, sizeof buf), 0, "EOF, without waiting");
    cr_assert(acio_stream_reader_at_eof(held.sr));
    acio_stream_writer_close(held.sw);
    acio_stream_writer_unref(held.sw);
    acio_stream_reader_unref(held.sr);

    acio_process_t *ps[] = {held.proc, held.young};
    int pids[] = {held.pid, held.young_pid};
    for (int i = 0; i < 2; i++) {
        int rc = 0;
        cr_assert(acio_process_returncode(ps[i], &rc), "reaped when the loop closed");
        cr_assert_eq(rc, -SIGKILL);
        cr_assert_eq(kill(pids[i], 0), -1);
        cr_assert_eq(errno, ESRCH);
        cr_assert_eq(acio_process_kill(ps[i]), 0);
        cr_assert_eq(acio_stream_writer_write(acio_process_stdin(ps[i]), "x", 1), ACIO_ECLOSED);
        acio_process_free(ps[i]);
    }
    cr_assert_eq(counted.lost, 0);
    cr_assert_eq(count_fds(), fds_before);
    memset(&held, 0, sizeof held);
}

Test(net_close, end_of_acio_run_aborts_what_is_open)
{
    cr_assert_eq(acio_run(open_everything, NULL, NULL), 0);
    check_and_release_everything();
}

Test(net_close, acio_loop_close_aborts_what_is_open)
{
    acio_loop_t *loop;
    cr_assert_eq(acio_loop_new(&loop), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(loop, &t, open_everything, NULL, NULL), 0);
    cr_assert_eq(acio_loop_run_until_complete(loop, t, NULL), 0);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_close(loop), 0);
    check_and_release_everything();
}

/* Dropping every reference before the loop closes: servers, streams and processes close
 * on release, while a transport's unref alone does not close it (the connection holds its
 * own reference, as asyncio's loop does). The close then aborts and frees those
 * transports, which nobody can reach any more: no fd and, under ASan, no byte is left. */
static void *release_first(void *arg)
{
    (void)arg;
    open_everything(NULL);
    acio_transport_unref(held.client);
    acio_transport_unref(held.udp);
    acio_transport_unref(held.rpipe);
    acio_transport_unref(held.wpipe);
    acio_server_free(held.srv);
    acio_server_free(held.usrv);
    acio_stream_writer_unref(held.sw);
    acio_stream_reader_unref(held.sr);
    acio_process_free(held.proc);
    acio_process_free(held.young);
    return NULL;
}

Test(net_close, unreferenced_open_transports_are_freed_by_the_close)
{
    cr_assert_eq(acio_run(release_first, NULL, NULL), 0);
    cr_assert_eq(count_fds(), fds_before, "fds open: %d, before: %d", count_fds(), fds_before);
    cr_assert_eq(problems, 0);
    memset(&held, 0, sizeof held);
}

/* A normally closed connection leaves the registry: a later loop close does not touch
 * it, and its protocol heard connection_lost exactly once. */
static void *close_normally(void *arg)
{
    (void)arg;
    acio_loop_t *loop = watch_problems();
    counted_reset();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    acio_transport_t *r, *w;
    cr_assert_eq(acio_loop_connect_read_pipe(loop, &r, &counting_protocol, NULL, p[0]), 0);
    cr_assert_eq(acio_loop_connect_write_pipe(loop, &w, &counting_protocol, NULL, p[1]), 0);
    acio_transport_close(w);
    for (int i = 0; i < 1000 && counted.lost < 2; i++)
        OK(acio_sleep(0.001));
    cr_assert_eq(counted.lost, 2, "both ends heard connection_lost");
    acio_transport_unref(r);
    acio_transport_unref(w);
    return NULL;
}

Test(net_close, closed_transports_leave_the_registry)
{
    cr_assert_eq(acio_run(close_normally, NULL, NULL), 0);
    cr_assert_eq(counted.lost, 2);
    cr_assert_eq(count_fds(), fds_before);
    cr_assert_eq(problems, 0);
}

/* Several loops, one after another and side by side in one thread's lifetime: each
 * close handles only its own objects. */
static void *open_one_pipe(void *arg)
{
    int *fds = arg;
    acio_transport_t *t;
    cr_assert_eq(acio_loop_connect_read_pipe(NULL, &t, &counting_protocol, NULL, fds[0]), 0);
    acio_transport_unref(t); /* the loop's close will abort it */
    return NULL;
}

Test(net_close, each_loop_aborts_only_its_own_objects)
{
    counted_reset();
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    cr_assert_eq(pipe(b), 0);
    acio_loop_t *l1, *l2;
    cr_assert_eq(acio_loop_new(&l1), 0);
    cr_assert_eq(acio_loop_new(&l2), 0);
    acio_task_t *t;
    cr_assert_eq(acio_loop_create_task(l1, &t, open_one_pipe, a, NULL), 0);
    cr_assert_eq(acio_loop_run_until_complete(l1, t, NULL), 0);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_create_task(l2, &t, open_one_pipe, b, NULL), 0);
    cr_assert_eq(acio_loop_run_until_complete(l2, t, NULL), 0);
    acio_future_unref(t);
    cr_assert_eq(acio_loop_close(l1), 0);
    cr_assert_eq(fcntl(a[0], F_GETFD), -1, "l1's pipe end is closed");
    cr_assert_neq(fcntl(b[0], F_GETFD), -1, "l2's is still open");
    cr_assert_eq(acio_loop_close(l2), 0);
    cr_assert_eq(fcntl(b[0], F_GETFD), -1);
    close(a[1]);
    close(b[1]);
    cr_assert_eq(counted.lost, 0);
    cr_assert_eq(count_fds(), fds_before);
}
