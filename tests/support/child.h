/* Running a piece of a test in a child process and keeping what it wrote to stderr, for
 * the tests of failures that end the process (an overflow, a double unref detected in
 * debug mode, an AddressSanitizer report): the test checks how the child died and what it
 * said. Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_CHILD_H
#define ACIO_TESTS_SUPPORT_CHILD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int status;      /* as from waitpid() */
    char err[16384]; /* the start of the child's stderr, NUL-terminated */
} child_result_t;

/* fn(arg) in a forked child whose stderr goes to a pipe; the child exits 0 if fn returns.
 * Fills *out with its wait status and stderr. */
__attribute__((unused)) static void child_run(void (*fn)(void *), void *arg, child_result_t *out)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        close(p[1]);
        fn(arg);
        fflush(NULL);
        _exit(0);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], out->err + len, sizeof out->err - 1 - len);
        if (n > 0 && len + (size_t)n < sizeof out->err - 1) {
            len += (size_t)n;
            continue;
        }
        if (n > 0) { /* full: keep draining so the child never blocks on the pipe */
            len += (size_t)n;
            char sink[4096];
            while (read(p[0], sink, sizeof sink) > 0) {
            }
        }
        break;
    }
    out->err[len] = '\0';
    close(p[0]);
    cr_assert_eq(waitpid(pid, &out->status, 0), pid);
}

/* Died of signal sig (SIGABRT for acio's own fatal reports). */
__attribute__((unused)) static bool child_killed_by(const child_result_t *r, int sig)
{
    return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

#endif
