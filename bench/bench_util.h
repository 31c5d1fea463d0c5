/* Helpers shared by the C benchmark programs (acio's and libuv's): clocks, CPU time,
 * memory figures from /proc and the pseudo-random timer delays. Every implementation
 * of a workload (C, Python, Go) must compute the same things the same way, so the
 * definitions here have twins in bench/py/bench.py and bench/go/main.go; change them
 * together.
 *
 * Each program prints one line of key=value figures on stdout; bench/run.sh turns it
 * into the JSON lines and the ratios. */
#ifndef ACIO_BENCH_UTIL_H
#define ACIO_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Monotonic wall clock in nanoseconds. */
static inline int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User + system CPU time of the whole process (every thread) in milliseconds, as
 * getrusage(RUSAGE_SELF) reports it. */
static inline double bench_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Print CPU and wall nanoseconds per operation since bench_cpu_ms() was c0 and
 * bench_now_ns() was t0: the line bench/run.sh reads for the per-operation benches. */
static inline void bench_print_per_op(double c0, int64_t t0, long ops)
{
    double cpu = ops ? (bench_cpu_ms() - c0) * 1e6 / (double)ops : 0.0;
    double wall = ops ? (double)(bench_now_ns() - t0) / (double)ops : 0.0;
    printf("cpu_ns_per_op=%.1f wall_ns_per_op=%.1f\n", cpu, wall);
}

/* A "VmXXX:   1234 kB" field of /proc/self/status, in kB; -1 if it cannot be read. */
static inline long bench_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t n = strlen(field);
    long kb = -1;
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

/* The timer workload's delays: a 31-bit linear congruential generator (the classic
 * ANSI C constants) seeded with 1, each draw giving a delay in whole microseconds in
 * [0, 1 s). Python and Go compute exactly the same sequence. */
static inline uint32_t bench_lcg_next(uint32_t *state)
{
    *state = (*state * 1103515245u + 12345u) & 0x7fffffffu;
    return *state % 1000000u;
}

/* argv[1] as a count, or dflt when absent; exits on garbage. */
static inline long bench_count_arg(int argc, char **argv, long dflt)
{
    char *end;
    long v;
    if (argc < 2)
        return dflt;
    v = strtol(argv[1], &end, 10);
    if (*end != '\0' || v < 0) {
        fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[1]);
        exit(2);
    }
    return v;
}

#ifdef ACIO_H
/* The main() of a bench whose workload is one coroutine taking the count: run it with
 * acio_run_ex and report a failure as "<name>: <error> (<message>)", exit status 1. */
static inline int bench_acio_main(const char *name, acio_coro_fn body, int argc, char **argv,
                                  long dflt)
{
    long n = bench_count_arg(argc, argv, dflt);
    char *msg = NULL;
    int rc = acio_run_ex(body, &n, NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "%s: %s (%s)\n", name, acio_strerror(rc), msg ? msg : "");
        free(msg);
        return 1;
    }
    return 0;
}
#endif

#endif
