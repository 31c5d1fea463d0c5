/* gumbo_links: the anchor of bench html_links: the same pages, parsed by libgumbo (a full
 * WHATWG tree-building parser) and walked for a[href] / area[href], as a crawler using
 * it would. Prints cpu_ns_per_kb and wall_ns_per_kb like bench/acio/html_links.c. */
#include <dirent.h>
#include <gumbo.h>

#include "bench_util.h"

static void walk(const GumboNode *node, size_t *sink)
{
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT)
        return;
    const GumboVector *children;
    if (node->type == GUMBO_NODE_ELEMENT) {
        const GumboElement *el = &node->v.element;
        if (el->tag == GUMBO_TAG_A || el->tag == GUMBO_TAG_AREA) {
            const GumboAttribute *href = gumbo_get_attribute(&el->attributes, "href");
            if (href)
                *sink += strlen(href->value) + 1;
        }
        children = &el->children;
    } else {
        children = &node->v.document.children;
    }
    for (unsigned i = 0; i < children->length; i++)
        walk(children->data[i], sink);
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
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < np; i++) {
            GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, pages[i], lens[i]);
            walk(out->document, &sink);
            gumbo_destroy_output(&kGumboDefaultOptions, out);
        }
    }
    double kb = (double)total * (double)rounds / 1024.0;
    printf("cpu_ns_per_kb=%.1f wall_ns_per_kb=%.1f pages=%zu kb_per_round=%.0f sink=%zu\n",
           (bench_cpu_ms() - c0) * 1e6 / kb, (double)(bench_now_ns() - t0) / kb, np,
           (double)total / 1024.0, sink);
    for (size_t i = 0; i < np; i++)
        free(pages[i]);
    return 0;
}
