/* robots.txt by RFC 9309: lines of "key: value" grouped by user-agent lines; the group
 * (or merged groups) matching the crawler's product token, else the "*" group(s), give
 * Allow/Disallow patterns ('*' any run of characters, '$' at the end anchors), and the
 * longest matching pattern decides, Allow winning ties. Key spellings Google's parser
 * accepts are accepted too ("useragent", "disalow", ...), and a missing colon. Only the
 * chosen group is kept, so a host's rules cost a few hundred bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "url/url_int.h"

typedef struct {
    size_t off, len; /* normalised pattern in the arena */
    bool allow;
} rule_t;

typedef struct {
    rule_t *v;
    size_t n, cap;
    double delay;
    bool matched; /* some group matched (even one without rules) */
} group_t;

enum { RULES, ALLOW_ALL, DISALLOW_ALL };

struct acio_robots_s {
    int mode;
    rule_t *rules;
    size_t nrules;
    double delay;
    char *arena;
    size_t used, cap;
    size_t *sitemaps; /* offsets of NUL-terminated URLs in the arena */
    size_t nsitemaps;
};

static int arena_put(acio_robots_t *r, const char *s, size_t n, bool normalize, size_t *off,
                     size_t *len)
{
    size_t need = (normalize ? 3 * n : n) + 1;
    if (r->used + need > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->used + need)
            cap *= 2;
        char *a = acio__realloc(r->arena, cap);
        if (!a)
            return -ENOMEM;
        r->arena = a;
        r->cap = cap;
    }
    char *d = r->arena + r->used;
    size_t dn = normalize ? acio__url_pct_normalize(d, s, n, false) : n;
    if (!normalize)
        memcpy(d, s, n);
    d[dn] = '\0';
    *off = r->used;
    *len = dn;
    r->used += dn + 1;
    return 0;
}

static int group_add(group_t *g, rule_t rule)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        rule_t *v = acio__realloc(g->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = rule;
    return 0;
}

/* The product token at the start of s: letters, '_' and '-' (RFC 9309 2.2.1). */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (acio__url_class[(unsigned char)s[i]] & ACIO__UNRESERVED) && s[i] != '.' &&
           s[i] != '~' && !(s[i] >= '0' && s[i] <= '9'))
        i++;
    return i;
}

static bool key_is(const char *k, size_t kn, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == kn && strncasecmp(k, *names, kn) == 0)
            return true;
    return false;
}

static const char *const k_useragent[] = {"user-agent", "useragent", "user agent", NULL};
static const char *const k_allow[] = {"allow", NULL};
static const char *const k_disallow[] = {"disallow", "dissallow", "dissalow", "disalow",
                                         "diasllow", "disallaw",  NULL};
static const char *const k_delay[] = {"crawl-delay", "crawldelay", NULL};
static const char *const k_sitemap[] = {"sitemap", "site-map", NULL};

static inline bool sp(char c)
{
    return c == ' ' || c == '\t';
}

int acio_robots_parse(const char *txt, size_t len, const char *user_agent, acio_robots_t **out)
{
    *out = NULL;
    size_t tok = user_agent ? token_len(user_agent, strlen(user_agent)) : 0;
    if (tok == 0)
        return -EINVAL;
    acio_robots_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->delay = -1;
    group_t specific = {.delay = -1}, star = {.delay = -1};
    bool cur_specific = false, cur_star = false, in_agents = false, any_agent = false;
    int rc = 0;
    if (len > ACIO_ROBOTS_MAX_SIZE)
        len = ACIO_ROBOTS_MAX_SIZE;
    if (len >= 3 && memcmp(txt, "\xEF\xBB\xBF", 3) == 0)
        txt += 3, len -= 3;
    size_t i = 0;
    while (i < len && rc == 0) {
        size_t e = i;
        while (e < len && txt[e] != '\n' && txt[e] != '\r')
            e++;
        const char *line = txt + i;
        size_t ln = e - i;
        i = e + 1;
        const char *hash = memchr(line, '#', ln);
        if (hash)
            ln = (size_t)(hash - line);
        while (ln && sp(*line))
            line++, ln--;
        while (ln && sp(line[ln - 1]))
            ln--;
        if (!ln)
            continue;
        const char *colon = memchr(line, ':', ln);
        size_t kn;
        const char *v;
        if (colon) {
            kn = (size_t)(colon - line);
            v = colon + 1;
        } else {
            /* "key value" without a colon, as Google's parser allows. */
            kn = 0;
            while (kn < ln && !sp(line[kn]))
                kn++;
            if (kn == ln)
                continue;
            v = line + kn;
        }
        while (kn && sp(line[kn - 1]))
            kn--;
        size_t vn = (size_t)(line + ln - v);
        while (vn && sp(*v))
            v++, vn--;

        if (key_is(line, kn, k_useragent)) {
            if (!in_agents) {
                /* A user-agent line after a group's rules starts a new group. */
                cur_specific = cur_star = false;
                in_agents = true;
            }
            any_agent = true;
            if (vn && v[0] == '*') {
                cur_star = true;
                star.matched = true;
            } else {
                size_t t = token_len(v, vn);
                if (t == tok && strncasecmp(v, user_agent, t) == 0) {
                    cur_specific = true;
                    specific.matched = true;
                }
            }
            continue;
        }
        bool allow = key_is(line, kn, k_allow), disallow = !allow && key_is(line, kn, k_disallow);
        bool delay = !allow && !disallow && key_is(line, kn, k_delay);
        if (allow || disallow || delay) {
            in_agents = false;
            if (!any_agent || (!cur_specific && !cur_star))
                continue; /* rules outside any group, or another crawler's */
            if (delay) {
                char num[32];
                if (vn == 0 || vn >= sizeof(num))
                    continue;
                memcpy(num, v, vn);
                num[vn] = '\0';
                char *end;
                double d = strtod(num, &end);
                if (*end || !isfinite(d) || d < 0)
                    continue;
                if (cur_specific && specific.delay < 0)
                    specific.delay = d;
                if (cur_star && star.delay < 0)
                    star.delay = d;
                continue;
            }
            if (vn == 0)
                continue; /* "Disallow:" with nothing: no rule */
            rule_t rule = {.allow = allow};
            rc = arena_put(r, v, vn, true, &rule.off, &rule.len);
            if (rc == 0 && cur_specific)
                rc = group_add(&specific, rule);
            if (rc == 0 && cur_star)
                rc = group_add(&star, rule);
            continue;
        }
        if (key_is(line, kn, k_sitemap) && vn) {
            size_t off, sl;
            if (r->nsitemaps % 8 == 0) {
                size_t *s = acio__realloc(r->sitemaps, (r->nsitemaps + 8) * sizeof(*s));
                if (!s) {
                    rc = -ENOMEM;
                    break;
                }
                r->sitemaps = s;
            }
            rc = arena_put(r, v, vn, false, &off, &sl);
            if (rc == 0)
                r->sitemaps[r->nsitemaps++] = off;
        }
        /* Any other line is ignored and changes no group. */
    }
    group_t *g = specific.matched ? &specific : star.matched ? &star : NULL;
    if (rc == 0 && g) {
        r->rules = g->v;
        r->nrules = g->n;
        r->delay = g->delay;
        g->v = NULL;
    }
    acio__free(specific.v);
    acio__free(star.v);
    if (rc) {
        acio_robots_free(r);
        return rc;
    }
    r->mode = RULES;
    *out = r;
    return 0;
}

int acio_robots_for_status(int status, acio_robots_t **out)
{
    *out = NULL;
    if (status >= 200 && status < 300)
        return -EINVAL;
    acio_robots_t *r = acio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->delay = -1;
    r->mode = status >= 400 && status < 500 ? ALLOW_ALL : DISALLOW_ALL;
    *out = r;
    return 0;
}

void acio_robots_free(acio_robots_t *r)
{
    if (!r)
        return;
    acio__free(r->rules);
    acio__free(r->arena);
    acio__free(r->sitemaps);
    acio__free(r);
}

/* Does the pattern match a prefix of the path ('*' any run, a final '$' the end)? */
static bool match(const char *p, size_t pn, const char *s, size_t n)
{
    bool anchored = pn && p[pn - 1] == '$';
    if (anchored)
        pn--;
    size_t i = 0, j = 0, star_j = SIZE_MAX, star_i = 0;
    for (;;) {
        if (j == pn && (!anchored || i == n))
            return true;
        if (j < pn && p[j] == '*') {
            star_j = j++;
            star_i = i;
            continue;
        }
        if (j < pn && i < n && p[j] == s[i]) {
            i++;
            j++;
            continue;
        }
        if (star_j != SIZE_MAX && star_i < n) {
            j = star_j + 1;
            i = ++star_i;
            continue;
        }
        return false;
    }
}

bool acio_robots_allowed(const acio_robots_t *r, const char *target, size_t len)
{
    if (r->mode != RULES)
        return r->mode == ALLOW_ALL;
    if (len == 11 && memcmp(target, "/robots.txt", 11) == 0)
        return true;
    if (r->nrules == 0)
        return true;
    char stack[2048];
    char *norm = len * 3 <= sizeof(stack) ? stack : acio__malloc(len * 3);
    const char *path = target;
    size_t pn = len;
    if (norm) {
        pn = acio__url_pct_normalize(norm, target, len, false);
        path = norm;
    }
    size_t best = 0;
    bool found = false, allowed = true;
    for (size_t k = 0; k < r->nrules; k++) {
        const rule_t *rule = &r->rules[k];
        if (rule->len < best || (found && rule->len == best && !rule->allow))
            continue;
        if (!match(r->arena + rule->off, rule->len, path, pn))
            continue;
        if (!found || rule->len > best || rule->allow)
            allowed = rule->allow;
        best = rule->len;
        found = true;
    }
    if (norm && norm != stack)
        acio__free(norm);
    return allowed;
}

bool acio_robots_allowed_url(const acio_robots_t *r, const acio_url_t *url)
{
    char stack[2048];
    size_t n = acio_url_target(url, stack, sizeof(stack));
    if (n < sizeof(stack))
        return acio_robots_allowed(r, stack, n);
    char *buf = acio__malloc(n + 1);
    if (!buf)
        return false; /* out of memory: do not fetch */
    acio_url_target(url, buf, n + 1);
    bool ok = acio_robots_allowed(r, buf, n);
    acio__free(buf);
    return ok;
}

double acio_robots_crawl_delay(const acio_robots_t *r)
{
    return r->delay;
}

size_t acio_robots_sitemap_count(const acio_robots_t *r)
{
    return r->nsitemaps;
}

const char *acio_robots_sitemap(const acio_robots_t *r, size_t i)
{
    return i < r->nsitemaps ? r->arena + r->sitemaps[i] : NULL;
}
