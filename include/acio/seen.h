/* The crawler's seen-set: "never fetch a URL twice" over millions of URLs in bounded
 * memory. It stores 64-bit fingerprints of normalised URLs (XXH64 of the href), not the
 * strings: about 9 to 11 bytes per URL (see crawl_seen_memory in bench/). Scrapy's
 * RFPDupeFilter is the Python counterpart (it keeps 40-byte SHA1 hex strings in a set).
 * Two different URLs share a fingerprint with probability 2^-64 per pair: a crawl of
 * n URLs wrongly skips one with probability about n^2 / 2^65 (3e-8 at a million URLs,
 * 3e-2 at a billion). No false negatives: an added URL is always found. See
 * docs/seen.md. */
#ifndef ACIO_SEEN_H
#define ACIO_SEEN_H

#include "common.h"
#include "url.h"

typedef struct acio_seen_s acio_seen_t;

/* A new empty set sized for `expected` fingerprints (0: a small default); it grows
 * beyond that by a quarter at a time. Caller frees with acio_seen_free. -ENOMEM. */
ACIO_EXTERN int acio_seen_new(acio_seen_t **out, size_t expected);
ACIO_EXTERN void acio_seen_free(acio_seen_t *seen);

/* The fingerprint of len bytes (XXH64, seed 0). */
ACIO_EXTERN uint64_t acio_seen_fingerprint(const void *data, size_t len);

/* Add a fingerprint: 1 if it was new, 0 if it was already there, -ENOMEM (the set is
 * then unchanged). */
ACIO_EXTERN int acio_seen_add(acio_seen_t *seen, uint64_t fp);
/* Add a URL by the fingerprint of its href (normalise it first: acio_url_join does). */
ACIO_EXTERN int acio_seen_add_url(acio_seen_t *seen, const acio_url_t *url);
ACIO_EXTERN bool acio_seen_contains(const acio_seen_t *seen, uint64_t fp);

ACIO_EXTERN size_t acio_seen_count(const acio_seen_t *seen);
/* Bytes the set holds now (its table). */
ACIO_EXTERN size_t acio_seen_memory(const acio_seen_t *seen);

#endif
