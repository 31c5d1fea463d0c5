/* The HTTP client when allocations fail: every allocation of a whole exchange (session,
 * URL, pool slot, connection, DNS entry, request head, response, body, decoder) is made
 * to fail in turn, and each time the request ends with an error or succeeds, nothing
 * crashes, and (under ASan) nothing leaks; afterwards the session still closes cleanly.
 * A total timeout bounds every attempt, so a failure that loses a wake-up shows as an
 * error instead of a hang. The scripted server runs in a child process, so only the
 * client's allocations fail. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "internal.h"
#include "support/check.h"
#include "support/fds.h"
#include "support/http_script.h"

typedef struct {
    const char *path;
    int succeeded, failed;
} oom_t;

static int one(const char *path, long fail_at)
{
    acio_http_session_t *s = NULL;
    acio_http_session_opts_t o = {0};
    o.timeout.total = 2;
    acio__alloc_fail_after(fail_at);
    int rc = acio_http_session_new(&s, &o);
    if (rc == 0) {
        acio_http_response_t *r = NULL;
        rc = acio_http_get(s, ts_url(path), &r);
        if (rc == 0) {
            const void *b;
            size_t len;
            rc = acio_http_response_read(r, &b, &len);
            acio_http_response_release(r);
        }
    }
    bool reached = acio__alloc_fail_countdown == 0;
    acio__alloc_fail_after(0);
    acio_http_session_close(s);
    return reached ? (rc < 0 ? rc : 1) : 2; /* 2: the failure point was never reached */
}

static int port_pipe[2];

static void *serve_forever(void *arg)
{
    (void)arg;
    if (ts_start() < 0)
        return acio_raise(-EIO, "server");
    if (write(port_pipe[1], &ts.port, sizeof ts.port) != sizeof ts.port)
        return NULL;
    int rc = acio_sleep(3600); /* until the test kills the process */
    (void)rc;
    return NULL;
}

/* The server in a child process of its own; ts.port is set for ts_url. */
static pid_t start_child_server(void)
{
    cr_assert_eq(pipe(port_pipe), 0);
    pid_t pid = fork();
    if (pid == 0) {
        _exit(acio_run(serve_forever, NULL, NULL) < 0);
    }
    cr_assert_eq(read(port_pipe[0], &ts.port, sizeof ts.port), (ssize_t)sizeof ts.port,
                 "the server process did not start");
    close(port_pipe[0]);
    close(port_pipe[1]);
    return pid;
}

static void *t_oom(void *arg)
{
    oom_t *o = arg;
    long n = 1;
    for (; n < 2000; n++) {
        int rc = one(o->path, n);
        if (rc == 2)
            break;
        if (rc < 0)
            o->failed++;
        else
            o->succeeded++;
        CHECK(acio_sleep(0.001) == 0, "sleep"); /* let closed connections finish */
    }
    CHECK(n > 5 && n < 2000, "allocation points covered: %ld", n);
    CHECK(o->failed > 0, "some failures were reported");
    /* Still works with memory back. */
    CHECK(one(o->path, 1000000) == 2, "a clean request afterwards");
    return NULL;
}

static void run_oom(const char *path)
{
    pid_t server = start_child_server();
    int before = count_fds();
    oom_t o = {path, 0, 0};
    run_ok(t_oom, &o);
    cr_assert_eq(count_fds(), before, "fds leaked");
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
}

Test(http_client_oom, plain_get, .timeout = 240)
{
    run_oom("/ok");
}

Test(http_client_oom, chunked_body, .timeout = 240)
{
    run_oom("/chunked");
}

Test(http_client_oom, gzip_body, .timeout = 240)
{
    run_oom("/enc/gzip");
}

Test(http_client_oom, redirect, .timeout = 240)
{
    run_oom("/redirect/302/ok");
}
