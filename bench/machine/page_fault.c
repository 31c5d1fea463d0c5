/* The machine's cost of a page fault: touch N fresh anonymous pages (no huge pages) and
 * print the CPU ns per first touch. Not a workload: it is context for the others. A
 * workload that keeps a million things alive at once (spawn, idle_task_memory) pays
 * one fault per 4 KiB it touches, and on virtual machines a fault can cost ten times
 * what it costs on bare metal, which moves every implementation's figures. Built by
 * bench/run.sh. Usage: page_fault [N] (default 100000). */
#include <sys/mman.h>

#include "../bench_util.h"

int main(int argc, char **argv)
{
    long n = bench_count_arg(argc, argv, 100000);
    size_t page = 4096, len = (n ? (size_t)n : 1) * page;
    char *mem =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise(mem, len, MADV_NOHUGEPAGE);
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        ((volatile char *)mem)[(size_t)i * page] = 1;
    bench_print_per_op(c0, t0, n);
    munmap(mem, len);
    return 0;
}
