/* crawl_seen_memory: the seen-set's memory per URL at N URLs (default one million):
 * N distinct normalised URLs of crawl shape are fingerprinted and added, once to a set
 * sized ahead for N (acio_seen_new(&s, N), what a crawl with --max-pages does) and once
 * to a set grown from empty. Prints bytes_per_url (sized ahead), grown_bytes_per_url,
 * and the CPU cost of fingerprint + add and of a lookup. */
#include "acio.h"
#include "bench_util.h"

static size_t url(char *buf, size_t cap, long i)
{
    return (size_t)snprintf(buf, cap,
                            "https://site%ld.example.com/articles/%ld/page-%ld.html?ref=%ld",
                            i % 997, i / 997, i, i % 13);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char buf[256];
    acio_seen_t *s;
    if (acio_seen_new(&s, (size_t)n))
        return 1;
    double c0 = bench_cpu_ms();
    for (long i = 0; i < n; i++) {
        size_t len = url(buf, sizeof(buf), i);
        if (acio_seen_add(s, acio_seen_fingerprint(buf, len)) != 1) {
            fprintf(stderr, "duplicate fingerprint at %ld\n", i);
            return 1;
        }
    }
    double add_ns = (bench_cpu_ms() - c0) * 1e6 / (double)n;
    c0 = bench_cpu_ms();
    long found = 0;
    for (long i = 0; i < n; i++) {
        size_t len = url(buf, sizeof(buf), i);
        found += acio_seen_contains(s, acio_seen_fingerprint(buf, len));
    }
    double look_ns = (bench_cpu_ms() - c0) * 1e6 / (double)n;
    if (found != n) {
        fprintf(stderr, "lost %ld fingerprints\n", n - found);
        return 1;
    }
    double presized = (double)acio_seen_memory(s) / (double)n;
    acio_seen_free(s);

    if (acio_seen_new(&s, 0))
        return 1;
    for (long i = 0; i < n; i++) {
        size_t len = url(buf, sizeof(buf), i);
        if (acio_seen_add(s, acio_seen_fingerprint(buf, len)) < 0)
            return 1;
    }
    double grown = (double)acio_seen_memory(s) / (double)n;
    acio_seen_free(s);
    printf(
        "bytes_per_url=%.2f grown_bytes_per_url=%.2f add_cpu_ns=%.1f lookup_cpu_ns=%.1f urls=%ld\n",
        presized, grown, add_ns, look_ns, n);
    return 0;
}
