/* The idle_connection_memory benchmark's client: it opens N TCP connections to
 * 127.0.0.1:PORT, sends nothing, waits until the server (SERVER_PID) has accepted them
 * all (its open descriptors, /proc/PID/fd, have grown by N) and has had a second to set
 * each one up, then reads the server's memory from /proc/PID/status. Usage:
 *
 *   idle_client PORT N SERVER_PID
 *
 * Connections are opened in batches of 100, each batch waiting for the server to
 * accept the previous one, so that no server's listen backlog overflows. It prints:
 *   bytes_per_conn=  (VmHWM with the connections - VmRSS before them) * 1024 / N
 *   rss_bytes_per_conn=  the same with VmRSS instead of VmHWM (a check)
 *   rss0_kb= rss_kb= hwm_kb=  the figures read */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 100

static int pid;

/* A "VmXXX:   1234 kB" field of the server's /proc/PID/status, in kB; -1 if absent. */
static long status_kb(const char *field)
{
    char path[64], line[256];
    size_t n = strlen(field);
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* How many descriptors the server has open; -1 if it cannot be read. */
static long server_fds(void)
{
    char path[64];
    long count = 0;
    DIR *d;
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        count++;
    closedir(d);
    return count - 2; /* "." and ".." */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Wait (at most 10 s) until the server holds at least want descriptors. */
static int wait_for_fds(long want)
{
    for (int i = 0; i < 2000; i++) {
        long have = server_fds();
        if (have < 0)
            return -1;
        if (have >= want)
            return 0;
        sleep_ms(5);
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct rlimit rl;
    long n, fds0, rss0, rss, hwm;

    if (argc < 4) {
        fprintf(stderr, "usage: idle_client PORT N SERVER_PID\n");
        return 2;
    }
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    n = atol(argv[2]);
    pid = atoi(argv[3]);
    if (n < 1 || pid <= 0) {
        fprintf(stderr, "idle_client: bad arguments\n");
        return 2;
    }
    /* N descriptors of our own: raise the soft limit as far as the hard one allows. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
        fprintf(stderr, "idle_client: RLIMIT_NOFILE %ld is too low for %ld connections\n",
                (long)rl.rlim_cur, n);
        return 1;
    }

    fds0 = server_fds();
    rss0 = status_kb("VmRSS");
    if (fds0 < 0 || rss0 < 0) {
        fprintf(stderr, "idle_client: cannot read /proc/%d\n", pid);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "idle_client: connection %ld: %s\n", i, strerror(errno));
            return 1;
        }
        /* The descriptors stay open until we exit. */
        if ((i + 1) % BATCH == 0 || i + 1 == n) {
            if (wait_for_fds(fds0 + i + 1) < 0) {
                fprintf(stderr, "idle_client: the server accepted only %ld of %ld connections\n",
                        server_fds() - fds0, i + 1);
                return 1;
            }
        }
    }
    sleep_ms(1000); /* let the server finish setting up the last connections */
    rss = status_kb("VmRSS");
    hwm = status_kb("VmHWM");
    printf("bytes_per_conn=%.0f rss_bytes_per_conn=%.0f rss0_kb=%ld rss_kb=%ld hwm_kb=%ld\n",
           (double)(hwm - rss0) * 1024 / (double)n, (double)(rss - rss0) * 1024 / (double)n, rss0,
           rss, hwm);
    return 0;
}
