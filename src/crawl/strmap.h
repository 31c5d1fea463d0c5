/* A small string-keyed hash map for the crawler's per-host tables (the local frontier's
 * hosts, the robots cache): chained buckets, FNV-1a hashes, keys copied into the entry,
 * values borrowed. Host tables hold thousands of entries, not millions (the URLs
 * themselves live in the fingerprint seen-set), so simplicity wins over density. */
#ifndef ACIO_CRAWL_STRMAP_H
#define ACIO_CRAWL_STRMAP_H

#include <stddef.h>

typedef struct acio__strmap_entry_s acio__strmap_entry_t;
struct acio__strmap_entry_s {
    acio__strmap_entry_t *next;
    void *value;
    size_t hash;
    char key[];
};

typedef struct {
    acio__strmap_entry_t **buckets;
    size_t nbuckets; /* a power of two, or 0 before the first insertion */
    size_t count;
} acio__strmap_t;

/* An empty map needs no allocation: acio__strmap_t m = {0}. */
void *acio__strmap_get(const acio__strmap_t *m, const char *key);
/* Insert key -> value (key must not be present). 0 or -ENOMEM (map unchanged). */
int acio__strmap_put(acio__strmap_t *m, const char *key, void *value);
/* Call fn on every value (in no particular order), then free the map's memory. */
void acio__strmap_clear(acio__strmap_t *m, void (*fn)(void *value));

#endif
