/* The app: FastAPI's routing table. Routes are kept in the order they were added and
 * tried in that order (FastAPI's rule: the first match wins). A pattern is split into
 * segments once, when the route is added; matching walks the request's path segment by
 * segment, with no allocation: parameter values point into the request's own copy of
 * the path, NUL-terminated in place. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http/server_int.h"

int acio_http_app_new(acio_http_app_t **out)
{
    if (!out)
        return -EINVAL;
    *out = acio__calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

static void route_clear(route_t *r)
{
    for (size_t i = 0; i < r->nsegs; i++)
        acio__free(r->segs[i].text);
    acio__free(r->segs);
    acio__free(r->method);
    acio__free(r->pattern);
}

void acio_http_app_free(acio_http_app_t *app)
{
    if (!app)
        return;
    for (size_t i = 0; i < app->n; i++)
        route_clear(&app->routes[i]);
    acio__free(app->routes);
    acio__free(app);
}

static bool valid_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
            return false;
    return true;
}

/* Split pattern into segments: "/items/{id}" -> "items", {id}. */
static int parse_pattern(route_t *r, const char *pattern)
{
    size_t cap = 1;
    for (const char *p = pattern; *p; p++)
        cap += *p == '/';
    r->segs = acio__calloc(cap, sizeof *r->segs);
    if (!r->segs)
        return -ENOMEM;
    const char *p = pattern + 1;
    while (*p || p == pattern + 1) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        route_seg_t *s = &r->segs[r->nsegs];
        if (len && p[0] == '{') {
            if (p[len - 1] != '}' || len < 3)
                return -EINVAL;
            const char *name = p + 1;
            size_t nlen = len - 2;
            const char *colon = memchr(name, ':', nlen);
            if (colon) {
                if ((size_t)(name + nlen - colon - 1) != 4 || strncmp(colon + 1, "path", 4) != 0 ||
                    end)
                    return -EINVAL; /* only {x:path}, and only last */
                s->rest = true;
                nlen = (size_t)(colon - name);
            }
            if (!nlen || memchr(name, '{', nlen) || memchr(name, '}', nlen))
                return -EINVAL;
            s->param = true;
            s->text = acio__malloc(nlen + 1);
            if (!s->text)
                return -ENOMEM;
            memcpy(s->text, name, nlen);
            s->text[nlen] = '\0';
            s->len = nlen;
            for (size_t i = 0; i < r->nsegs; i++)
                if (r->segs[i].param && strcmp(r->segs[i].text, s->text) == 0) {
                    r->nsegs++;
                    return -EINVAL;
                }
        } else {
            if (memchr(p, '{', len) || memchr(p, '}', len))
                return -EINVAL;
            s->text = acio__malloc(len + 1);
            if (!s->text)
                return -ENOMEM;
            memcpy(s->text, p, len);
            s->text[len] = '\0';
            s->len = len;
        }
        r->nsegs++;
        if (!end)
            break;
        p = end + 1;
    }
    size_t nparams = 0;
    for (size_t i = 0; i < r->nsegs; i++)
        nparams += r->segs[i].param;
    return nparams > SRV_MAX_PARAMS ? -EINVAL : 0;
}

int acio_http_app_route_ex(acio_http_app_t *app, const char *method, const char *pattern,
                           acio_http_handler handler, void *arg, const acio_http_route_opts_t *opts)
{
    if (!app || !method || !pattern || !handler || pattern[0] != '/')
        return -EINVAL;
    if (strcmp(method, "*") != 0 && !valid_token(method))
        return -EINVAL;
    if (app->n == app->cap) {
        size_t ncap = app->cap ? app->cap * 2 : 8;
        route_t *nr = acio__realloc(app->routes, ncap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        app->routes = nr;
        app->cap = ncap;
    }
    route_t r = {.handler = handler, .arg = arg, .max_body = opts ? opts->max_body : 0};
    int rc = -ENOMEM;
    r.method = acio__strdup(method);
    r.pattern = acio__strdup(pattern);
    if (r.method && r.pattern)
        rc = parse_pattern(&r, pattern);
    if (rc < 0) {
        route_clear(&r);
        return rc;
    }
    app->routes[app->n++] = r;
    return 0;
}

int acio_http_app_route(acio_http_app_t *app, const char *method, const char *pattern,
                        acio_http_handler handler, void *arg)
{
    return acio_http_app_route_ex(app, method, pattern, handler, arg, NULL);
}

/* Does path (after its leading '/') match r? Fills params by cutting path in place
 * only on success: the cuts are recorded first and applied at the end. */
static bool route_match(const route_t *r, char *path, srv_param_t *params, size_t *nparams)
{
    char *p = path + 1;
    char *cuts[SRV_MAX_PARAMS + 1];
    size_t ncuts = 0, np = 0;
    for (size_t i = 0; i < r->nsegs; i++) {
        const route_seg_t *s = &r->segs[i];
        if (!p)
            return false; /* the path has fewer segments */
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (s->rest) {
            params[np].name = s->text;
            params[np++].value = p;
            p = NULL;
            break;
        }
        if (s->param) {
            if (!len)
                return false; /* FastAPI: an empty segment does not fill {id} */
            params[np].name = s->text;
            params[np++].value = p;
            if (end)
                cuts[ncuts++] = end;
        } else if (len != s->len || memcmp(p, s->text, len) != 0) {
            return false;
        }
        p = end ? end + 1 : NULL;
    }
    if (p)
        return false; /* the path has more segments */
    for (size_t i = 0; i < ncuts; i++)
        *cuts[i] = '\0';
    *nparams = np;
    return true;
}

static bool method_match(const route_t *r, const char *method)
{
    if (r->method[0] == '*' || strcmp(r->method, method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

static void allow_add(char *allow, size_t cap, const char *m)
{
    size_t len = strlen(allow), mlen = strlen(m);
    /* Skip duplicates: "GET" twice for two routes. */
    for (const char *a = allow; (a = strstr(a, m)) != NULL; a += mlen)
        if ((a == allow || a[-2] == ',') && (a[mlen] == ',' || a[mlen] == '\0'))
            return;
    if (len + mlen + 3 > cap)
        return;
    if (len) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, m, mlen + 1);
}

int acio__http_app_match(const acio_http_app_t *app, const char *method, char *path,
                         const route_t **route, srv_param_t *params, size_t *nparams, char *allow,
                         size_t allow_cap)
{
    *route = NULL;
    *nparams = 0;
    if (allow_cap)
        allow[0] = '\0';
    bool path_seen = false;
    if (path[0] != '/')
        return 404;
    size_t plen = strlen(path);
    for (size_t i = 0; i < app->n; i++) {
        const route_t *r = &app->routes[i];
        if (!method_match(r, method)) {
            /* Only collect Allow when the path would match: match on a scratch copy. */
            char tmp[1024];
            srv_param_t scratch[SRV_MAX_PARAMS];
            size_t ns;
            if (plen < sizeof tmp) {
                memcpy(tmp, path, plen + 1);
                if (route_match(r, tmp, scratch, &ns)) {
                    path_seen = true;
                    allow_add(allow, allow_cap, r->method);
                    if (strcmp(r->method, "GET") == 0)
                        allow_add(allow, allow_cap, "HEAD");
                }
            }
            continue;
        }
        if (route_match(r, path, params, nparams)) {
            *route = r;
            return 0;
        }
    }
    return path_seen ? 405 : 404;
}
