/* The seen-set (acio/seen.h): XXH64 test vectors, no false negatives over a million
 * fingerprints (with growth from empty), duplicates reported, adversarial fingerprints
 * (0, all-equal high bits, the largest values), and failing allocations. */
#include <criterion/criterion.h>
#include <string.h>

#include "acio.h"
#include "internal.h"

Test(seen, xxh64_vectors)
{
    /* Reference values of XXH64 with seed 0 (xxHash's own test vectors). */
    cr_assert_eq(acio_seen_fingerprint("", 0), 0xEF46DB3751D8E999ull);
    cr_assert_eq(acio_seen_fingerprint("a", 1), 0xD24EC4F1A98C6E5Bull);
    cr_assert_eq(acio_seen_fingerprint("abc", 3), 0x44BC2CF5AD770999ull);
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

Test(seen, million_no_false_negatives, .timeout = 120)
{
    acio_seen_t *s;
    cr_assert_eq(acio_seen_new(&s, 0), 0);
    const size_t n = 1000000;
    uint64_t x = 1;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(acio_seen_add(s, splitmix(&x)), 1, "at %zu", i);
    cr_assert_eq(acio_seen_count(s), n);
    x = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t fp = splitmix(&x);
        if (!acio_seen_contains(s, fp))
            cr_assert_fail("lost fingerprint %zu", i);
        if (i % 10 == 0)
            cr_assert_eq(acio_seen_add(s, fp), 0);
    }
    /* Fingerprints never added are (almost surely) absent. */
    size_t fp_hits = 0;
    for (size_t i = 0; i < 100000; i++)
        fp_hits += acio_seen_contains(s, splitmix(&x));
    cr_assert_eq(fp_hits, 0);
    cr_assert_eq(acio_seen_count(s), n);
    double per = (double)acio_seen_memory(s) / (double)n;
    cr_log_info("grown: %.2f bytes per fingerprint", per);
    cr_assert_leq(per, 12.5);
    acio_seen_free(s);
}

Test(seen, adversarial)
{
    acio_seen_t *s;
    cr_assert_eq(acio_seen_new(&s, 10), 0);
    /* 0 is stored as 1 (0 marks empty slots): they are one fingerprint. */
    cr_assert_eq(acio_seen_add(s, 0), 1);
    cr_assert(acio_seen_contains(s, 1));
    cr_assert_eq(acio_seen_add(s, 1), 0);
    /* Many fingerprints with one home slot, then the top of the range. */
    for (uint64_t i = 2; i < 5000; i++)
        cr_assert_eq(acio_seen_add(s, i), 1);
    for (uint64_t i = 0; i < 5000; i++)
        cr_assert_eq(acio_seen_add(s, UINT64_MAX - i), 1);
    for (uint64_t i = 1; i < 5000; i++) {
        cr_assert(acio_seen_contains(s, i));
        cr_assert(acio_seen_contains(s, UINT64_MAX - i));
    }
    cr_assert_not(acio_seen_contains(s, 5000));
    cr_assert_not(acio_seen_contains(s, UINT64_MAX - 5000));
    cr_assert_eq(acio_seen_count(s), 9999);
    acio_seen_free(s);
}

Test(seen, urls)
{
    acio_seen_t *s;
    cr_assert_eq(acio_seen_new(&s, 100), 0);
    acio_url_t *base, *a, *b;
    cr_assert_eq(acio_url_parse("http://example.com/x/", 21, &base), 0);
    cr_assert_eq(acio_url_join(base, "../A#top", 8, ACIO_URL_DROP_FRAGMENT, &a), 0);
    cr_assert_eq(acio_url_join(base, "HTTP://EXAMPLE.COM:80/%41", 25, ACIO_URL_DROP_FRAGMENT, &b),
                 0);
    cr_assert_eq(acio_seen_add_url(s, a), 1);
    cr_assert_eq(acio_seen_add_url(s, b), 0, "%s and %s are one page", a->href, b->href);
    acio_url_free(a);
    acio_url_free(b);
    acio_url_free(base);
    acio_seen_free(s);
}

Test(seen, allocation_failures)
{
    acio_seen_t *s = NULL;
    acio__alloc_fail_after(1);
    cr_assert_eq(acio_seen_new(&s, 0), -ENOMEM);
    acio__alloc_fail_after(2);
    cr_assert_eq(acio_seen_new(&s, 0), -ENOMEM);
    acio__alloc_fail_after(0);
    cr_assert_null(s);
    cr_assert_eq(acio_seen_new(&s, 0), 0);
    uint64_t x = 7;
    int failed = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t fp = splitmix(&x);
        acio__alloc_fail_after(1);
        int rc = acio_seen_add(s, fp);
        acio__alloc_fail_after(0);
        if (rc == -ENOMEM) {
            /* Growing failed: the set is unchanged and still works. */
            failed++;
            cr_assert_not(acio_seen_contains(s, fp));
            cr_assert_eq(acio_seen_add(s, fp), 1);
        } else {
            cr_assert_eq(rc, 1);
        }
    }
    cr_assert_gt(failed, 3);
    cr_assert_eq(acio_seen_count(s), 20000);
    acio_seen_free(s);
}
