/* html_links: link extraction cost per KB of HTML. Reads every *.html of a directory
 * (bench/run.sh gives tests/html_corpus/gen: real-world-shaped pages, some malformed),
 * then scans all of them `rounds` times with acio_html_scan (the tokenizer: every href
 * found, as a full parser's tree would hold them). Prints cpu_ns_per_kb (CPU time over
 * the whole loop divided by the KB scanned) and wall_ns_per_kb. The anchor is the same
 * loop over libgumbo (bench/html/gumbo_links.c). */
#include <dirent.h>

#include "acio.h"
#include "bench_util.h"

static int count_href(void *data, acio_html_kind_t kind, const char *v, size_t n)
{
    (void)kind;
    (void)v;
    *(size_t *)data += n + 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s <dir of .html pages> <rounds>\n", argv[0]);
        return 2;
    }
    long rounds = atol(argv[2]);
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    char *pages[1024];
    size_t lens[1024], np = 0, total = 0;
    struct dirent *e;
    while ((e = readdir(d)) && np < 1024) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".html"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        pages[np] = malloc((size_t)sz);
        lens[np] = fread(pages[np], 1, (size_t)sz, f);
        total += lens[np++];
        fclose(f);
    }
    closedir(d);
    if (np == 0) {
        fprintf(stderr, "no pages in %s\n", argv[1]);
        return 1;
    }
    size_t sink = 0;
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    for (long r = 0; r < rounds; r++)
        for (size_t i = 0; i < np; i++)
            acio_html_scan(pages[i], lens[i], count_href, &sink);
    double kb = (double)total * (double)rounds / 1024.0;
    printf("cpu_ns_per_kb=%.1f wall_ns_per_kb=%.1f pages=%zu kb_per_round=%.0f sink=%zu\n",
           (bench_cpu_ms() - c0) * 1e6 / kb, (double)(bench_now_ns() - t0) / kb, np,
           (double)total / 1024.0, sink);
    for (size_t i = 0; i < np; i++)
        free(pages[i]);
    return 0;
}
