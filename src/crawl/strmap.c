/* The string-keyed hash map of strmap.h. */
#include "crawl/strmap.h"

#include <errno.h>
#include <string.h>

#include "internal.h"

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

void *acio__strmap_get(const acio__strmap_t *m, const char *key)
{
    if (!m->nbuckets)
        return NULL;
    size_t h = hash_str(key);
    for (acio__strmap_entry_t *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->value;
    return NULL;
}

static int grow(acio__strmap_t *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    acio__strmap_entry_t **b = acio__calloc(n, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        acio__strmap_entry_t *e = m->buckets[i];
        while (e) {
            acio__strmap_entry_t *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    acio__free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

int acio__strmap_put(acio__strmap_t *m, const char *key, void *value)
{
    if (m->count >= m->nbuckets && grow(m) < 0)
        return -ENOMEM;
    size_t len = strlen(key);
    acio__strmap_entry_t *e = acio__malloc(sizeof *e + len + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, len + 1);
    e->hash = hash_str(key);
    e->value = value;
    e->next = m->buckets[e->hash & (m->nbuckets - 1)];
    m->buckets[e->hash & (m->nbuckets - 1)] = e;
    m->count++;
    return 0;
}

void acio__strmap_clear(acio__strmap_t *m, void (*fn)(void *value))
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        acio__strmap_entry_t *e = m->buckets[i];
        while (e) {
            acio__strmap_entry_t *next = e->next;
            if (fn)
                fn(e->value);
            acio__free(e);
            e = next;
        }
    }
    acio__free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = 0;
    m->count = 0;
}
