/* The echo benchmarks' load generator: plain non-blocking epoll, no acio. It opens
 * CONNS connections to 127.0.0.1:PORT and keeps exactly one message of SIZE bytes in
 * flight on each (ping-pong: the next message goes out when the whole previous one has
 * come back), first for a warm-up, then for a measured window that ends after SECONDS
 * or MAX_MSGS messages, whichever comes first. Usage:
 *
 *   loadgen PORT CONNS SIZE WARMUP_S SECONDS MAX_MSGS [SERVER_PID]
 *
 * It prints one line of key=value figures for bench/run.sh:
 *   msgs_per_s=  messages completed per second of the window (wall clock)
 *   p50_us= p99_us=  round-trip latency of the window's messages (1 us buckets)
 *   cpu_ns_per_msg=  the server's CPU time (utime + stime of SERVER_PID from
 *                    /proc/PID/stat, every thread) over the window / messages
 *   server_cpu_pct=  that CPU time as a share of the window's wall time
 *   loadgen_cpu_pct= the load generator's own CPU time (getrusage) in the window as a
 *                    share of its wall time: near 100 means it, not the server, was
 *                    the bottleneck
 * Every echoed byte is checked against what was sent.
 *
 * Before the CONNS connections, one connection exchanges a message and closes: servers
 * see connections come and go, and one close changes a server's steady state. (Debian's
 * Python asyncio allocates a 256 KiB buffer for every recv(); glibc serves each with
 * mmap, mremap and munmap until the first connection to close frees a whole one, which
 * raises its mmap threshold; from then on they come from the heap, 10x cheaper.) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS  4096
#define HIST_US    200000 /* latencies of 200 ms and more share the last bucket */
#define MAX_EVENTS 256

typedef struct {
    int fd;
    size_t sent;     /* bytes of the current message written so far */
    size_t received; /* bytes of the current message echoed back so far */
    int64_t t_sent;  /* when the current message started going out */
    int want_out;    /* EPOLLOUT is registered (a write was partial) */
} conn_t;

static conn_t conns[MAX_CONNS];
static uint32_t hist[HIST_US + 1];
static unsigned char *msg;
static unsigned char *rbuf;
static size_t size;
static int ep;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* utime + stime of every thread of pid, in clock ticks; -1 if unreadable. */
static long long server_ticks(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    FILE *f;
    size_t n;
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces: fields are counted after its ')'. */
    p = strrchr(buf, ')');
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* This process's user + system CPU time in ns. */
static int64_t self_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void set_events(conn_t *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
}

/* Write what is left of the current message; register EPOLLOUT if the kernel is full. */
static void send_more(conn_t *c)
{
    while (c->sent < size) {
        ssize_t n = write(c->fd, msg + c->sent, size - c->sent);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            die("write");
        }
        c->sent += (size_t)n;
    }
    if ((c->sent < size) != (c->want_out != 0)) {
        c->want_out = c->sent < size;
        set_events(c, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
    }
}

static void start_message(conn_t *c)
{
    c->sent = c->received = 0;
    c->t_sent = now_ns();
    send_more(c);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct epoll_event events[MAX_EVENTS];
    int nconns, pid, measuring = 0, stopping = 0, in_flight;
    double warmup_s, window_s;
    long long max_msgs, done = 0, cpu0 = -1, cpu1 = -1;
    int64_t self0 = 0, self1 = 0, t_start, t_window = 0, t_end = 0, deadline;

    if (argc < 7) {
        fprintf(stderr, "usage: loadgen PORT CONNS SIZE WARMUP_S SECONDS MAX_MSGS [SERVER_PID]\n");
        return 2;
    }
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    nconns = atoi(argv[2]);
    size = (size_t)atol(argv[3]);
    warmup_s = atof(argv[4]);
    window_s = atof(argv[5]);
    max_msgs = atoll(argv[6]);
    pid = argc > 7 ? atoi(argv[7]) : 0;
    if (nconns < 1 || nconns > MAX_CONNS || size < 1 || size > (1 << 24) || window_s <= 0 ||
        max_msgs < 1) {
        fprintf(stderr, "loadgen: bad arguments\n");
        return 2;
    }
    msg = malloc(size);
    rbuf = malloc(size);
    if (msg == NULL || rbuf == NULL)
        die("malloc");
    for (size_t i = 0; i < size; i++)
        msg[i] = (unsigned char)('a' + i % 26);

    /* The connection that comes and goes (blocking: it happens before the clock). */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        size_t got = 0;
        struct timespec pause = {0, 50 * 1000000};
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        if (write(fd, msg, size) != (ssize_t)size)
            die("write");
        while (got < size) {
            ssize_t r = read(fd, rbuf, size - got);
            if (r <= 0)
                die("read");
            got += (size_t)r;
        }
        close(fd);
        nanosleep(&pause, NULL); /* let the server see the close */
    }

    ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    /* Blocking connects (loopback: immediate), then non-blocking for the run. */
    for (int i = 0; i < nconns; i++) {
        int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (fd < 0)
            die("socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i].fd = fd;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }

    t_start = now_ns();
    /* Hard bound on the whole run: warm-up, window and a few seconds of slack. */
    deadline = t_start + (int64_t)((warmup_s + window_s + 10) * 1e9);
    for (int i = 0; i < nconns; i++)
        start_message(&conns[i]);
    in_flight = nconns;

    while (in_flight > 0) {
        int64_t t = now_ns();
        int n;
        if (t > deadline) {
            fprintf(stderr, "loadgen: the server stopped answering (%d messages in flight)\n",
                    in_flight);
            return 1;
        }
        if (!measuring && !stopping && t - t_start >= (int64_t)(warmup_s * 1e9)) {
            measuring = 1;
            t_window = t;
            cpu0 = server_ticks(pid);
            self0 = self_cpu_ns();
        }
        if (measuring && (t - t_window >= (int64_t)(window_s * 1e9) || done >= max_msgs)) {
            /* End of the window: let the messages in flight come back, send no more. */
            measuring = 0;
            stopping = 1;
            t_end = t;
            cpu1 = server_ticks(pid);
            self1 = self_cpu_ns();
        }
        n = epoll_wait(ep, events, MAX_EVENTS, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int e = 0; e < n; e++) {
            conn_t *c = events[e].data.ptr;
            if (events[e].events & EPOLLOUT)
                send_more(c);
            if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            ssize_t r = read(c->fd, rbuf, size - c->received);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r <= 0) {
                fprintf(stderr, "loadgen: the server closed a connection (%s)\n",
                        r < 0 ? strerror(errno) : "EOF");
                return 1;
            }
            if (c->received + (size_t)r > c->sent ||
                memcmp(rbuf, msg + c->received, (size_t)r) != 0) {
                fprintf(stderr, "loadgen: the echo differs from what was sent\n");
                return 1;
            }
            c->received += (size_t)r;
            if (c->received < size)
                continue;
            /* One whole message came back. */
            if (measuring) {
                int64_t us = (now_ns() - c->t_sent) / 1000;
                hist[us < HIST_US ? us : HIST_US]++;
                done++;
            }
            if (stopping)
                in_flight--;
            else
                start_message(c);
        }
    }
    if (done == 0 || t_end <= t_window) {
        fprintf(stderr, "loadgen: no message completed in the window\n");
        return 1;
    }

    long long seen = 0, p50 = -1, p99 = -1;
    for (long us = 0; us <= HIST_US; us++) {
        seen += hist[us];
        if (p50 < 0 && seen * 100 >= done * 50)
            p50 = us;
        if (p99 < 0 && seen * 100 >= done * 99)
            p99 = us;
    }
    double secs = (double)(t_end - t_window) / 1e9;
    printf("msgs_per_s=%.0f p99_us=%lld p50_us=%lld", (double)done / secs, p99, p50);
    if (cpu0 >= 0 && cpu1 >= cpu0) {
        double cpu_ns = (double)(cpu1 - cpu0) * 1e9 / (double)sysconf(_SC_CLK_TCK);
        printf(" cpu_ns_per_msg=%.1f server_cpu_pct=%.0f", cpu_ns / (double)done,
               100 * cpu_ns / (double)(t_end - t_window));
    }
    printf(" loadgen_cpu_pct=%.0f msgs=%lld window_s=%.2f\n",
           100 * (double)(self1 - self0) / (double)(t_end - t_window), done, secs);
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    return 0;
}
