/* The seen-set: 64-bit fingerprints in one array, ordered linear probing. A fingerprint's
 * home slot is (fp * capacity) >> 64, which grows with fp, so with no deletions the
 * array stays sorted: a lookup walks from the home slot while the entries are smaller,
 * an insertion shifts the rest of its run one slot right. That ordering lets the table
 * run 90% full (about 9 bytes per URL when sized ahead, 9-11 when grown) where plain
 * linear probing would crawl, and makes growing a single ordered merge. */
#include <string.h>

#include "internal.h"

#define MAX_LOAD_NUM 9 /* grow past 90% full */
#define MAX_LOAD_DEN 10

struct acio_seen_s {
    uint64_t *slots; /* 0 = empty */
    size_t cap;      /* home slots; the array has cap + slack(cap) entries */
    size_t total;
    size_t count;
};

static size_t slack(size_t cap)
{
    return 1024 + cap / 64;
}

static inline size_t home(uint64_t fp, size_t cap)
{
    return (size_t)(((unsigned __int128)fp * cap) >> 64);
}

/* ---- XXH64 (Yann Collet's xxHash, 64-bit variant), written from its specification. */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}
static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts (x86-64, AArch64) */
}
static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t xround(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}
static inline uint64_t xmerge(uint64_t acc, uint64_t v)
{
    acc ^= xround(0, v);
    return acc * P1 + P4;
}

uint64_t acio_seen_fingerprint(const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
        do {
            v1 = xround(v1, rd64(p));
            v2 = xround(v2, rd64(p + 8));
            v3 = xround(v3, rd64(p + 16));
            v4 = xround(v4, rd64(p + 24));
            p += 32;
        } while (p + 32 <= end);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = xmerge(h, v1);
        h = xmerge(h, v2);
        h = xmerge(h, v3);
        h = xmerge(h, v4);
    } else {
        h = P5;
    }
    h += (uint64_t)len;
    for (; p + 8 <= end; p += 8) {
        h ^= xround(0, rd64(p));
        h = rotl(h, 27) * P1 + P4;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)rd32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= (uint64_t)*p * P5;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* ---- the table. */

/* Rebuild into cap home slots: the old entries are sorted, so each goes to the later of
 * its home and the slot after the previous one. */
static int rebuild(acio_seen_t *s, size_t cap)
{
    for (;;) {
        size_t total = cap + slack(cap);
        uint64_t *slots = acio__calloc(total, sizeof(*slots));
        if (!slots)
            return -ENOMEM;
        size_t next = 0;
        bool fits = true;
        for (size_t k = 0; k < s->total && fits; k++) {
            uint64_t fp = s->slots[k];
            if (!fp)
                continue;
            size_t h = home(fp, cap);
            size_t pos = h > next ? h : next;
            if (pos >= total) {
                fits = false;
                break;
            }
            slots[pos] = fp;
            next = pos + 1;
        }
        if (fits) {
            acio__free(s->slots);
            s->slots = slots;
            s->cap = cap;
            s->total = total;
            return 0;
        }
        acio__free(slots);
        cap += cap / 4 + 1;
    }
}

int acio_seen_new(acio_seen_t **out, size_t expected)
{
    *out = NULL;
    acio_seen_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    size_t cap = expected / MAX_LOAD_NUM * MAX_LOAD_DEN + MAX_LOAD_DEN;
    if (cap < 64)
        cap = 64;
    if (rebuild(s, cap)) {
        acio__free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void acio_seen_free(acio_seen_t *s)
{
    if (!s)
        return;
    acio__free(s->slots);
    acio__free(s);
}

int acio_seen_add(acio_seen_t *s, uint64_t fp)
{
    if (fp == 0)
        fp = 1; /* 0 marks an empty slot */
    for (;;) {
        size_t i = home(fp, s->cap);
        while (i < s->total && s->slots[i] && s->slots[i] < fp)
            i++;
        if (i < s->total && s->slots[i] == fp)
            return 0;
        size_t j = i;
        while (j < s->total && s->slots[j])
            j++;
        if (j < s->total && (s->count + 1) * MAX_LOAD_DEN <= s->cap * MAX_LOAD_NUM) {
            memmove(&s->slots[i + 1], &s->slots[i], (j - i) * sizeof(*s->slots));
            s->slots[i] = fp;
            s->count++;
            return 1;
        }
        int rc = rebuild(s, s->cap + s->cap / 4 + 1);
        if (rc)
            return rc;
    }
}

int acio_seen_add_url(acio_seen_t *s, const acio_url_t *url)
{
    return acio_seen_add(s, acio_seen_fingerprint(url->href, url->href_len));
}

bool acio_seen_contains(const acio_seen_t *s, uint64_t fp)
{
    if (fp == 0)
        fp = 1;
    size_t i = home(fp, s->cap);
    while (i < s->total && s->slots[i] && s->slots[i] < fp)
        i++;
    return i < s->total && s->slots[i] == fp;
}

size_t acio_seen_count(const acio_seen_t *s)
{
    return s->count;
}

size_t acio_seen_memory(const acio_seen_t *s)
{
    return sizeof(*s) + s->total * sizeof(*s->slots);
}
