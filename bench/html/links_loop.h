/* The loop both sides of bench html_links share: read every *.html of a directory
 * (bench/run.sh gives tests/html_corpus/gen), run one page-scanning function over all of
 * them `rounds` times, and print cpu_ns_per_kb and wall_ns_per_kb (time over the whole
 * loop divided by the KB scanned). Only the scan differs: acio's tokenizer
 * (bench/acio/html_links.c) or libgumbo's tree (bench/html/gumbo_links.c), so the two
 * figures measure the same pages the same way. Header-only: each side is its own program. */
#ifndef ACIO_BENCH_HTML_LINKS_LOOP_H
#define ACIO_BENCH_HTML_LINKS_LOOP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define LINKS_LOOP_MAX_PAGES 1024

/* Adds to *sink something from every href found, so the work cannot be optimised away. */
typedef void (*links_scan_fn)(const char *page, size_t len, size_t *sink);

static inline int links_loop_main(int argc, char **argv, links_scan_fn scan)
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
    char *pages[LINKS_LOOP_MAX_PAGES];
    size_t lens[LINKS_LOOP_MAX_PAGES], np = 0, total = 0;
    struct dirent *e;
    while ((e = readdir(d)) && np < LINKS_LOOP_MAX_PAGES) {
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
        pages[np] = sz > 0 ? malloc((size_t)sz) : NULL;
        if (pages[np]) {
            lens[np] = fread(pages[np], 1, (size_t)sz, f);
            total += lens[np++];
        }
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
            scan(pages[i], lens[i], &sink);
    double kb = (double)total * (double)rounds / 1024.0;
    printf("cpu_ns_per_kb=%.1f wall_ns_per_kb=%.1f pages=%zu kb_per_round=%.0f sink=%zu\n",
           (bench_cpu_ms() - c0) * 1e6 / kb, (double)(bench_now_ns() - t0) / kb, np,
           (double)total / 1024.0, sink);
    for (size_t i = 0; i < np; i++)
        free(pages[i]);
    return 0;
}

#endif
