/* Asynchronous files: write then read back (readline, line iteration, read(n), read_all,
 * seek/tell, truncate, flush, fsync), append from several tasks at once (the seed's
 * aiofiles pattern), operations from several tasks on one file run in call order, the loop
 * keeps running while a file operation is in progress, cancellation in the middle of a
 * write or an open, close while operations are queued, and the error paths: ENOENT,
 * EISDIR, EEXIST, bad modes, reading a write-only file, outside a task. Every test checks
 * that no fd is left open. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acio.h"
#include "support/problems.h"
#include "support/rc.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    strcpy(dir, "/tmp/acio-file-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/data.txt", dir);
    problems_setup();
}
static void teardown(void)
{
    problems_teardown();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}
TestSuite(file, .init = setup, .fini = teardown, .timeout = 60);

static void run(acio_coro_fn fn)
{
    int rc = acio_run(fn, NULL, NULL);
    cr_assert_eq(rc, 0, "main failed: %s", acio_strerror(rc));
}

/* ---- round trip ---- */

static void *round_trip_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w"), 0);
    cr_assert_str_eq(acio_file_name(f), path);
    cr_assert_geq(acio_file_fileno(f), 0);
    cr_assert_null(acio_file_get_data(f));
    acio_file_set_data(f, dir);
    cr_assert_eq(acio_file_get_data(f), dir);
    cr_assert_eq(acio_file_write(f, "first line\n", 11), 0);
    cr_assert_eq(acio_file_writef(f, "%s\t%d\n", "second", 2), 0);
    cr_assert_eq(acio_file_write(f, "no newline", 10), 0);
    off_t pos;
    cr_assert_eq(acio_file_tell(f, &pos), 0);
    cr_assert_eq(pos, 11 + 9 + 10);
    cr_assert_eq(acio_file_close(f), 0);

    cr_assert_eq(acio_file_open(&f, path, "r"), 0);
    char *line;
    size_t len;
    cr_assert_eq(acio_file_readline(f, &line, &len), 0);
    cr_assert_eq(len, 11);
    cr_assert_str_eq(line, "first line\n");
    free(line);
    /* async for line in f */
    const char *want[] = {"second\t2\n", "no newline"};
    int n = 0;
    int rc;
    while ((rc = acio_file_next_line(f, &line, &len)) == 0) {
        cr_assert_lt(n, 2);
        cr_assert_str_eq(line, want[n]);
        cr_assert_eq(len, strlen(want[n]));
        n++;
        free(line);
    }
    cr_assert_eq(rc, ACIO_ESTOPASYNCITERATION);
    cr_assert_null(line);
    cr_assert_eq(n, 2);
    /* At EOF readline gives an empty line, read gives 0 bytes. */
    cr_assert_eq(acio_file_readline(f, &line, &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(line, "");
    free(line);
    char buf[8];
    size_t got = 99;
    cr_assert_eq(acio_file_read(f, buf, sizeof buf, &got), 0);
    cr_assert_eq(got, 0);

    /* seek back and read in pieces */
    cr_assert_eq(acio_file_seek(f, 6, SEEK_SET, &pos), 0);
    cr_assert_eq(pos, 6);
    cr_assert_eq(acio_file_read(f, buf, 4, &got), 0);
    cr_assert_eq(got, 4);
    cr_assert_eq(memcmp(buf, "line", 4), 0);
    cr_assert_eq(acio_file_seek(f, -10, SEEK_END, &pos), 0);
    cr_assert_eq(pos, 20);
    char *all;
    cr_assert_eq(acio_file_read_all(f, &all, &len), 0);
    cr_assert_eq(len, 10);
    cr_assert_str_eq(all, "no newline");
    free(all);
    cr_assert_eq(acio_file_seek(f, 0, SEEK_SET, NULL), 0);
    cr_assert_eq(acio_file_read_all(f, &all, &len), 0);
    cr_assert_eq(len, 30);
    free(all);
    cr_assert_eq(acio_file_seek(f, 0, 42, NULL), -EINVAL);
    cr_assert_eq(acio_file_close(f), 0);
    return NULL;
}

Test(file, write_then_read_back)
{
    run(round_trip_main);
}

static void *rw_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w+b"), 0);
    cr_assert_eq(acio_file_write(f, "0123456789", 10), 0);
    cr_assert_eq(acio_file_flush(f), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 10, "flush handed the data to the kernel");
    cr_assert_eq(acio_file_truncate(f, 4), 0);
    cr_assert_eq(acio_file_fsync(f), 0);
    cr_assert_eq(acio_file_seek(f, 0, SEEK_SET, NULL), 0);
    char *all;
    size_t len;
    cr_assert_eq(acio_file_read_all(f, &all, &len), 0);
    cr_assert_str_eq(all, "0123");
    free(all);
    /* truncate(-1): at the current position, as Python's truncate(). */
    cr_assert_eq(acio_file_seek(f, 2, SEEK_SET, NULL), 0);
    cr_assert_eq(acio_file_truncate(f, -1), 0);
    cr_assert_eq(acio_file_close(f), 0);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 2);

    /* "a" appends after what is there; "r+" overwrites in place. */
    cr_assert_eq(acio_file_open(&f, path, "a"), 0);
    cr_assert_eq(acio_file_write(f, "ab", 2), 0);
    cr_assert_eq(acio_file_close(f), 0);
    cr_assert_eq(acio_file_open(&f, path, "r+"), 0);
    cr_assert_eq(acio_file_write(f, "X", 1), 0);
    cr_assert_eq(acio_file_seek(f, 0, SEEK_SET, NULL), 0);
    cr_assert_eq(acio_file_read_all(f, &all, &len), 0);
    cr_assert_str_eq(all, "X1ab");
    free(all);
    cr_assert_eq(acio_file_close(f), 0);
    cr_assert_eq(acio_file_close(NULL), 0);
    return NULL;
}

Test(file, read_write_modes_flush_truncate_fsync)
{
    run(rw_main);
}

/* ---- the seed: several tasks append to one file ---- */

static void *append_task(void *arg)
{
    int id = (int)(intptr_t)arg;
    acio_file_t *f;
    int rc = acio_file_open(&f, path, "a");
    if (rc < 0)
        return acio_raise(rc, "open");
    for (int i = 0; i < 50 && rc == 0; i++)
        rc = acio_file_writef(f, "task%d\tline%d\n", id, i);
    int crc = acio_file_close(f);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? acio_raise(rc, "write") : NULL;
}

static void *append_main(void *arg)
{
    (void)arg;
    watch_problems();
    enum { N = 8 };
    acio_task_t *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(acio_create_task(&t[i], append_task, (void *)(intptr_t)i, NULL), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(acio_await(t[i], NULL), 0);
        acio_future_unref(t[i]);
    }
    /* Every line is there, whole. */
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "r"), 0);
    int count[N] = {0}, lines = 0;
    char *line;
    size_t len;
    while (acio_file_next_line(f, &line, &len) == 0) {
        int id, i;
        cr_assert_eq(sscanf(line, "task%d\tline%d\n", &id, &i), 2, "bad line %s", line);
        cr_assert(id >= 0 && id < N);
        cr_assert_eq(i, count[id], "task %d's lines in order", id);
        count[id]++;
        lines++;
        free(line);
    }
    cr_assert_eq(lines, N * 50);
    cr_assert_eq(acio_file_close(f), 0);
    return NULL;
}

Test(file, tasks_append_to_one_file)
{
    run(append_main);
}

/* ---- ordering and the loop staying responsive ---- */

static acio_file_t *shared;
static void *write_digit(void *arg)
{
    char c = (char)('0' + (int)(intptr_t)arg);
    int rc = acio_file_write(shared, &c, 1);
    return rc < 0 ? acio_raise(rc, "write") : NULL;
}

static void *order_main(void *arg)
{
    (void)arg;
    watch_problems();
    cr_assert_eq(acio_file_open(&shared, path, "w+"), 0);
    acio_task_t *t[10];
    for (int i = 0; i < 10; i++)
        cr_assert_eq(acio_create_task(&t[i], write_digit, (void *)(intptr_t)i, NULL), 0);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(acio_await(t[i], NULL), 0);
        acio_future_unref(t[i]);
    }
    cr_assert_eq(acio_file_seek(shared, 0, SEEK_SET, NULL), 0);
    char *all;
    size_t len;
    cr_assert_eq(acio_file_read_all(shared, &all, &len), 0);
    cr_assert_str_eq(all, "0123456789", "operations ran in call order");
    free(all);
    cr_assert_eq(acio_file_close(shared), 0);
    return NULL;
}

Test(file, operations_from_several_tasks_run_in_call_order)
{
    run(order_main);
}

static int ticks;
static bool stop_ticking;
static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000000 && !stop_ticking; i++) {
        ticks++;
        OK(acio_sleep(0));
    }
    return NULL;
}

static void *responsive_main(void *arg)
{
    (void)arg;
    watch_problems();
    size_t big = 8 << 20;
    char *data = malloc(big);
    memset(data, 'q', big);
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, ticker, NULL, NULL), 0);
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w+"), 0);
    int before = ticks;
    cr_assert_eq(acio_file_write(f, data, big), 0);
    cr_assert_eq(acio_file_seek(f, 0, SEEK_SET, NULL), 0);
    char *all;
    size_t len;
    cr_assert_eq(acio_file_read_all(f, &all, &len), 0);
    cr_assert_eq(len, big);
    cr_assert_eq(memcmp(all, data, big), 0);
    cr_assert_eq(acio_file_close(f), 0);
    /* Each operation suspended this task, so the ticker ran in between. */
    cr_assert_geq(ticks - before, 4, "ticker ran %d times", ticks - before);
    stop_ticking = true;
    cr_assert_eq(acio_await(t, NULL), 0);
    acio_future_unref(t);
    free(all);
    free(data);
    return NULL;
}

Test(file, loop_keeps_running_during_file_operations)
{
    run(responsive_main);
}

/* ---- the buffer fast path must not change what happens ---- */

static void *small_writer(void *arg)
{
    int rc = acio_file_write(arg, "tail\n", 5);
    return rc < 0 ? acio_raise(rc, "write") : NULL;
}

static void *big_writer(void *arg);

static void *no_overtake_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w"), 0);
    cr_assert_eq(acio_file_write(f, "head\n", 5), 0);  /* slow: no buffer yet */
    cr_assert_eq(acio_file_write(f, "head2\n", 6), 0); /* fast: fits the buffer */
    acio_task_t *big, *small;
    cr_assert_eq(acio_create_task(&big, big_writer, f, NULL), 0);
    cr_assert_eq(acio_create_task(&small, small_writer, f, NULL), 0);
    cr_assert_eq(acio_await(big, NULL), 0);
    cr_assert_eq(acio_await(small, NULL), 0);
    acio_future_unref(big);
    acio_future_unref(small);
    cr_assert_eq(acio_file_close(f), 0);
    FILE *fp = fopen(path, "r");
    char head[12];
    cr_assert_eq(fread(head, 1, 11, fp), 11);
    cr_assert_eq(memcmp(head, "head\nhead2\n", 11), 0);
    cr_assert_eq(fseek(fp, -5, SEEK_END), 0);
    char tail[6] = {0};
    cr_assert_eq(fread(tail, 1, 5, fp), 5);
    cr_assert_str_eq(tail, "tail\n", "the small write waited for the big one");
    fseek(fp, 0, SEEK_END);
    cr_assert_eq(ftell(fp), 11 + (4 << 20) + 5);
    fclose(fp);
    return NULL;
}

Test(file, small_writes_never_overtake_an_operation_in_progress)
{
    run(no_overtake_main);
}

static void *mixed_lines_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* Lines short and long (longer than stdio's buffer), written through both paths. */
    enum { LINES = 300 };
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w"), 0);
    char *buf = malloc(20000);
    for (int i = 0; i < LINES; i++) {
        size_t n = i % 50 == 7 ? 10000 + (size_t)i : (size_t)(i % 13);
        memset(buf, 'a' + i % 26, n);
        buf[n] = '\n';
        cr_assert_eq(acio_file_write(f, buf, n + 1), 0);
    }
    cr_assert_eq(acio_file_close(f), 0);
    cr_assert_eq(acio_file_open(&f, path, "rb"), 0);
    for (int i = 0; i < LINES; i++) {
        size_t want = i % 50 == 7 ? 10000 + (size_t)i : (size_t)(i % 13);
        if (i % 3 == 2) {
            /* read(n) of exactly one line, through whichever path applies */
            size_t got;
            cr_assert_eq(acio_file_read(f, buf, want + 1, &got), 0);
            cr_assert_eq(got, want + 1, "line %d", i);
        } else {
            char *line;
            size_t len;
            cr_assert_eq(acio_file_readline(f, &line, &len), 0);
            cr_assert_eq(len, want + 1, "line %d: %zu", i, len);
            memcpy(buf, line, len);
            free(line);
        }
        for (size_t k = 0; k < want; k++)
            cr_assert_eq(buf[k], 'a' + i % 26, "line %d byte %zu", i, k);
        cr_assert_eq(buf[want], '\n');
    }
    char *line;
    cr_assert_eq(acio_file_next_line(f, &line, NULL), ACIO_ESTOPASYNCITERATION);
    cr_assert_eq(acio_file_close(f), 0);
    free(buf);
    return NULL;
}

Test(file, short_and_long_lines_round_trip)
{
    run(mixed_lines_main);
}

/* ---- cancellation ---- */

static void *big_writer(void *arg)
{
    size_t big = 4 << 20;
    char *data = malloc(big);
    memset(data, 'w', big);
    int rc = acio_file_write(arg, data, big);
    /* The caller's buffer may go at once, even if cancelled: acio copied it. */
    memset(data, 0, big);
    free(data);
    return rc < 0 ? acio_raise(rc, "write") : NULL;
}

static void *cancel_write_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w+"), 0);
    acio_task_t *t;
    cr_assert_eq(acio_create_task(&t, big_writer, f, NULL), 0);
    cr_assert_eq(acio_sleep(0), 0); /* the write is submitted */
    acio_task_cancel(t, NULL);
    cr_assert_eq(acio_await(t, NULL), -ECANCELED);
    acio_future_unref(t);
    /* The write could not be stopped half-way: it completes before the next
     * operation on the file starts. */
    off_t pos;
    cr_assert_eq(acio_file_tell(f, &pos), 0);
    cr_assert_eq(pos, 4 << 20);
    cr_assert_eq(acio_file_close(f), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 4 << 20);
    return NULL;
}

Test(file, cancelled_write_completes_before_the_next_operation)
{
    run(cancel_write_main);
}

static void *opener(void *arg)
{
    (void)arg;
    acio_file_t *f;
    int rc = acio_file_open(&f, path, "w");
    if (rc == 0)
        acio_file_close(f);
    return rc < 0 ? acio_raise(rc, "open") : NULL;
}

static void *cancel_open_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* Cancelled at every point: before it starts, while the worker opens. */
    for (int i = 0; i < 3; i++) {
        acio_task_t *t;
        cr_assert_eq(acio_create_task(&t, opener, NULL, NULL), 0);
        for (int k = 0; k < i; k++)
            OK(acio_sleep(0));
        acio_task_cancel(t, NULL);
        int rc = acio_await(t, NULL);
        cr_assert(rc == 0 || rc == -ECANCELED, "rc %d", rc);
        acio_future_unref(t);
    }
    /* Let the abandoned opens finish and close their files (the fixture counts fds). */
    for (int k = 0; k < 100; k++)
        OK(acio_sleep(0.001));
    return NULL;
}

Test(file, cancelled_open_closes_the_file)
{
    run(cancel_open_main);
}

static void *closer(void *arg)
{
    return (void *)(intptr_t)acio_file_close(arg);
}

static void *close_queued_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w"), 0);
    acio_task_t *w, *c;
    cr_assert_eq(acio_create_task(&w, big_writer, f, NULL), 0);
    cr_assert_eq(acio_create_task(&c, closer, f, NULL), 0);
    void *res;
    cr_assert_eq(acio_await(w, NULL), 0);
    cr_assert_eq(acio_await(c, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
    acio_future_unref(w);
    acio_future_unref(c);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 4 << 20, "the queued write happened before the close");
    return NULL;
}

Test(file, close_waits_for_queued_operations)
{
    run(close_queued_main);
}

/* ---- errors ---- */

static void *errors_main(void *arg)
{
    (void)arg;
    watch_problems();
    acio_file_t *f = (acio_file_t *)0x1;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing/x.txt", dir);
    cr_assert_eq(acio_file_open(&f, missing, "r"), -ENOENT);
    cr_assert_eq(acio_file_open(&f, missing, "w"), -ENOENT);
    cr_assert_eq(acio_file_open(&f, dir, "r"), -EISDIR);
    cr_assert_eq(acio_file_open(&f, dir, "w"), -EISDIR);
    cr_assert_eq(acio_file_open(&f, dir, "rb"), -EISDIR);
    cr_assert_eq(f, (acio_file_t *)0x1, "*out untouched on error");
    const char *bad[] = {"", "rw", "q", "r++", "bt", "rbt", "ww", "+", "b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(acio_file_open(&f, path, bad[i]), -EINVAL, "mode '%s'", bad[i]);
    cr_assert_eq(acio_file_open(NULL, path, "r"), -EINVAL);
    cr_assert_eq(acio_file_open(&f, NULL, "r"), -EINVAL);

    cr_assert_eq(acio_file_open(&f, path, "x"), 0);
    cr_assert_eq(acio_file_write(f, "data\n", 5), 0);
    char buf[4];
    size_t got;
    cr_assert_eq(acio_file_read(f, buf, sizeof buf, &got), -EBADF, "write-only file");
    cr_assert_eq(acio_file_close(f), 0);
    cr_assert_eq(acio_file_open(&f, path, "x"), -EEXIST);

    cr_assert_eq(acio_file_open(&f, path, "r"), 0);
    cr_assert_eq(acio_file_write(f, "x", 1), -EBADF, "read-only file");
    cr_assert_eq(acio_file_truncate(f, 0), -EBADF);
    cr_assert_eq(acio_file_read(f, NULL, 4, &got), -EINVAL);
    cr_assert_eq(acio_file_close(f), 0);

    /* Permission denied (unless we are root, who may read anything). */
    chmod(path, 0);
    int rc = acio_file_open(&f, path, "r");
    if (geteuid() != 0)
        cr_assert_eq(rc, -EACCES);
    else if (rc == 0)
        acio_file_close(f);
    chmod(path, 0644);
    return NULL;
}

Test(file, open_errors_and_wrong_direction)
{
    run(errors_main);
}

Test(file, outside_a_task)
{
    acio_file_t *f;
    cr_assert_eq(acio_file_open(&f, path, "w"), ACIO_ENOTASK);
}

static void *dev_full_main(void *arg)
{
    (void)arg;
    watch_problems();
    /* /dev/full: every write fails with ENOSPC, reported at flush or close at the
     * latest, never lost. */
    acio_file_t *f;
    if (acio_file_open(&f, "/dev/full", "w") != 0)
        return NULL; /* no /dev/full in this sandbox */
    cr_assert_eq(acio_file_write(f, "x", 1), 0, "buffered");
    cr_assert_eq(acio_file_flush(f), -ENOSPC);
    cr_assert_eq(acio_file_write(f, "y", 1), 0);
    cr_assert_eq(acio_file_close(f), -ENOSPC);
    return NULL;
}

Test(file, write_errors_surface_at_flush_and_close)
{
    run(dev_full_main);
}
