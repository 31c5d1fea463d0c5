/* Seed 003 §3.6, the event loop's own methods, called on a loop made by hand:
 *
 *     loop.call_soon(print, 'Hello')
 *     loop.call_later(5, print, 'Hello')
 *     loop.call_at(loop.time() + 5, print, 'Hello')
 *
 * plus add_reader(), which seed 000 lists as the third source of ready callbacks. A
 * call_later writes a byte into a pipe after 0.1 s; the pipe's reader callback then
 * schedules a call_at (0.3 s) before a call_later (0.2 s), and they run in time order;
 * the call_at stops the loop. The seed's 5 s delays are 0.1 to 0.3 s here to keep the
 * demo short. Everything after the write is scheduled by the reader, so the output
 * cannot change with the machine's load: two timers due in the same iteration still run
 * in deadline order. Each message says which call printed it. */
#include <stdio.h>
#include <unistd.h>

#include <acio.h>

struct demo {
    acio_loop_t *loop;
    int fds[2]; /* a pipe: the reader watches fds[0] */
};

static void print_msg(void *data)
{
    printf("%s\n", (const char *)data);
}

static void write_pipe(void *data)
{
    struct demo *d = data;
    printf("Hello from call_later(0.1): writing to the pipe\n");
    if (write(d->fds[1], "x", 1) != 1)
        perror("write");
}

static void stop(void *data)
{
    struct demo *d = data;
    printf("Hello from call_at(time + 0.3): stopping the loop\n");
    acio_loop_stop(d->loop);
}

static void on_readable(int fd, int events, void *data)
{
    struct demo *d = data;
    char c;
    if (read(fd, &c, 1) == 1)
        printf("Hello from add_reader: fd readable (events=%d), read '%c'\n", events, c);
    /* A reader is called on every iteration while its fd stays readable: remove it. */
    acio_loop_remove_reader(d->loop, fd);
    /* Scheduled in the reverse of the order they run in, to show that time decides. */
    int rc;
    if ((rc = acio_loop_call_at(d->loop, acio_loop_time(d->loop) + 0.3, stop, d, NULL)) < 0 ||
        (rc = acio_loop_call_later(d->loop, 0.2, print_msg, "Hello from call_later(0.2)", NULL)) <
            0) {
        fprintf(stderr, "loop_methods: %s\n", acio_strerror(rc));
        acio_loop_stop(d->loop);
    }
}

int main(void)
{
    struct demo d;
    if (pipe(d.fds) < 0) {
        perror("pipe");
        return 1;
    }
    int rc = acio_loop_new(&d.loop);
    if (rc < 0) {
        fprintf(stderr, "loop_methods: %s\n", acio_strerror(rc));
        return 1;
    }
    if ((rc = acio_loop_call_later(d.loop, 0.1, write_pipe, &d, NULL)) < 0 ||
        (rc = acio_loop_add_reader(d.loop, d.fds[0], on_readable, &d)) < 0 ||
        (rc = acio_loop_call_soon(d.loop, print_msg, "Hello from call_soon", NULL)) < 0 ||
        (rc = acio_loop_run_forever(d.loop)) < 0)
        fprintf(stderr, "loop_methods: %s\n", acio_strerror(rc));
    acio_loop_close(d.loop);
    close(d.fds[0]);
    close(d.fds[1]);
    return rc < 0;
}
