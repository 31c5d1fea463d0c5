/* robots.txt (RFC 9309, the Robots Exclusion Protocol): the rules of one host for one
 * crawler, parsed once and asked for every URL before it is fetched. Python's
 * counterpart is urllib.robotparser.RobotFileParser; acio follows the RFC where that
 * module does not (longest match, '*' and '$' patterns, merged groups), see
 * docs/robots.md. */
#ifndef ACIO_ROBOTS_H
#define ACIO_ROBOTS_H

#include "common.h"
#include "url.h"

typedef struct acio_robots_s acio_robots_t;

/* The part of a robots.txt that is read (RFC 9309 2.5: at least 500 KiB). */
#define ACIO_ROBOTS_MAX_SIZE (500 * 1024)

/* Parse a robots.txt body (its first ACIO_ROBOTS_MAX_SIZE bytes) for the crawler whose
 * product token is user_agent ("acio-crawl"; matched case-insensitively against each
 * group's user-agent lines, "*" as the fallback). Only the matching group's rules are
 * kept (all matching groups merged, RFC 9309 2.2.1). No matching group means every URL
 * is allowed. Unknown lines and lines outside groups are ignored, as the RFC asks.
 * On success *out is new; the caller frees it with acio_robots_free. Errors: -ENOMEM,
 * -EINVAL (an empty or malformed user_agent). */
ACIO_EXTERN int acio_robots_parse(const char *txt, size_t len, const char *user_agent,
                                  acio_robots_t **out);

/* Rules for a robots.txt that could not be fetched with a 2xx (RFC 9309 2.3.1.2-4):
 * status 400-499 ("unavailable") allows everything; 500-599 or 0 (a network error,
 * "unreachable") disallows everything. Redirects (3xx) are the fetcher's to follow (up
 * to five hops); given here they count as unreachable. Errors: -ENOMEM, -EINVAL for a
 * 2xx (parse the body instead). */
ACIO_EXTERN int acio_robots_for_status(int http_status, acio_robots_t **out);

ACIO_EXTERN void acio_robots_free(acio_robots_t *robots);

/* May the crawler fetch this path? target is the request target ("/path?query", as
 * acio_url_target writes it); it is compared after percent-encoding normalisation. The
 * longest matching rule decides, Allow winning a tie; no match allows. "/robots.txt"
 * is always allowed. */
ACIO_EXTERN bool acio_robots_allowed(const acio_robots_t *robots, const char *target, size_t len);
/* The same for a URL (its path and query). */
ACIO_EXTERN bool acio_robots_allowed_url(const acio_robots_t *robots, const acio_url_t *url);

/* The group's Crawl-delay in seconds (an extension RFC 9309 leaves to crawlers; the
 * first valid one of the merged groups), or -1 if none. */
ACIO_EXTERN double acio_robots_crawl_delay(const acio_robots_t *robots);

/* The number of Sitemap: URLs in the file (they belong to no group), and the i-th. */
ACIO_EXTERN size_t acio_robots_sitemap_count(const acio_robots_t *robots);
ACIO_EXTERN const char *acio_robots_sitemap(const acio_robots_t *robots, size_t i);

#endif
