/* The PostgreSQL prepared-statement cache (asyncpg's statement cache): per connection, a
 * statement name for each query text and parameter types, most recently used first,
 * at most a fixed number of entries. An evicted statement's name goes to a list of
 * statements to DEALLOCATE, which the query engine (pg.c) sends with a later query when
 * the connection is outside a transaction (a failed DEALLOCATE inside one would abort
 * the user's transaction). The table is a chained hash over an array twice the size
 * limit; the LRU order is a doubly linked list. */
#include <errno.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pg_int.h"

struct acio__pg_stmt_s {
    acio__pg_stmt_t *prev, *next; /* LRU order: head is the most recently used */
    acio__pg_stmt_t *hnext;       /* hash chain */
    uint64_t hash;
    int nparams;
    unsigned *types; /* nparams entries, or NULL when all are 0 (inferred) */
    char *sql;
    char name[24];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static bool all_zero(int n, const unsigned *types)
{
    for (int i = 0; types && i < n; i++)
        if (types[i])
            return false;
    return true;
}

static uint64_t key_hash(const char *sql, int n, const unsigned *types)
{
    uint64_t h = fnv(14695981039346656037ULL, sql, strlen(sql));
    h = fnv(h, &n, sizeof(n));
    if (!all_zero(n, types))
        h = fnv(h, types, (size_t)n * sizeof(*types));
    return h;
}

static bool key_eq(const acio__pg_stmt_t *s, uint64_t h, const char *sql, int n,
                   const unsigned *types)
{
    if (s->hash != h || s->nparams != n || strcmp(s->sql, sql) != 0)
        return false;
    if (!s->types)
        return all_zero(n, types);
    return types && memcmp(s->types, types, (size_t)n * sizeof(*types)) == 0;
}

int acio__pg_stmt_cache_init(acio_pg_t *c, int size)
{
    c->stmt_max = size;
    if (size <= 0)
        return 0;
    c->stmt_nbuckets = (size_t)size * 2;
    c->stmt_buckets = acio__calloc(c->stmt_nbuckets, sizeof(*c->stmt_buckets));
    return c->stmt_buckets ? 0 : -ENOMEM;
}

static void lru_unlink(acio_pg_t *c, acio__pg_stmt_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->stmt_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        c->stmt_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_push(acio_pg_t *c, acio__pg_stmt_t *s)
{
    s->prev = NULL;
    s->next = c->stmt_head;
    if (c->stmt_head)
        c->stmt_head->prev = s;
    else
        c->stmt_tail = s;
    c->stmt_head = s;
}

static void hash_unlink(acio_pg_t *c, acio__pg_stmt_t *s)
{
    acio__pg_stmt_t **pp = &c->stmt_buckets[s->hash % c->stmt_nbuckets];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
}

static void stmt_free(acio__pg_stmt_t *s)
{
    acio__free(s->types);
    acio__free(s->sql);
    acio__free(s);
}

acio__pg_stmt_t *acio__pg_stmt_find(acio_pg_t *c, const char *sql, int n, const unsigned *types)
{
    if (c->stmt_max <= 0)
        return NULL;
    uint64_t h = key_hash(sql, n, types);
    for (acio__pg_stmt_t *s = c->stmt_buckets[h % c->stmt_nbuckets]; s; s = s->hnext) {
        if (key_eq(s, h, sql, n, types)) {
            if (c->stmt_head != s) {
                lru_unlink(c, s);
                lru_push(c, s);
            }
            return s;
        }
    }
    return NULL;
}

const char *acio__pg_stmt_name(const acio__pg_stmt_t *s)
{
    return s->name;
}

/* Remember name for a later DEALLOCATE; on failure the statement just stays on the
 * server until the session ends. */
static void queue_close(acio_pg_t *c, const char *name)
{
    if (c->nclose == c->capclose) {
        size_t cap = c->capclose ? c->capclose * 2 : 8;
        char(*v)[24] = acio__realloc(c->to_close, cap * sizeof(*v));
        if (!v)
            return;
        c->to_close = v;
        c->capclose = cap;
    }
    snprintf(c->to_close[c->nclose++], sizeof(c->to_close[0]), "%s", name);
}

acio__pg_stmt_t *acio__pg_stmt_new(acio_pg_t *c, const char *sql, int n, const unsigned *types)
{
    if (c->stmt_max <= 0)
        return NULL;
    acio__pg_stmt_t *s = acio__calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->sql = acio__strdup(sql);
    if (!all_zero(n, types)) {
        s->types = acio__malloc((size_t)n * sizeof(*types));
        if (s->types)
            memcpy(s->types, types, (size_t)n * sizeof(*types));
    }
    if (!s->sql || (!all_zero(n, types) && !s->types)) {
        stmt_free(s);
        return NULL;
    }
    s->nparams = n;
    s->hash = key_hash(sql, n, types);
    snprintf(s->name, sizeof(s->name), "acio_%llu", (unsigned long long)++c->stmt_seq);
    if (c->nstmts == (size_t)c->stmt_max) {
        acio__pg_stmt_t *old = c->stmt_tail;
        queue_close(c, old->name);
        acio__pg_stmt_forget(c, old);
    }
    acio__pg_stmt_t **b = &c->stmt_buckets[s->hash % c->stmt_nbuckets];
    s->hnext = *b;
    *b = s;
    lru_push(c, s);
    c->nstmts++;
    return s;
}

void acio__pg_stmt_forget(acio_pg_t *c, acio__pg_stmt_t *s)
{
    hash_unlink(c, s);
    lru_unlink(c, s);
    c->nstmts--;
    stmt_free(s);
}

void acio__pg_stmt_drop(acio_pg_t *c, acio__pg_stmt_t *s)
{
    queue_close(c, s->name);
    acio__pg_stmt_forget(c, s);
}

void acio__pg_stmt_cache_clear(acio_pg_t *c)
{
    while (c->stmt_head)
        acio__pg_stmt_forget(c, c->stmt_head);
    c->nclose = 0;
}

void acio__pg_stmt_cache_free(acio_pg_t *c)
{
    if (c->stmt_buckets)
        acio__pg_stmt_cache_clear(c);
    acio__free(c->stmt_buckets);
    acio__free(c->to_close);
}

size_t acio_pg_statement_cache_count(const acio_pg_t *c)
{
    return c ? c->nstmts : 0;
}

bool acio__pg_drops_statements(const char *sql, bool anywhere)
{
    if (anywhere)
        return strcasestr(sql, "DISCARD") || strcasestr(sql, "DEALLOCATE");
    while (isspace((unsigned char)*sql))
        sql++;
    return strncasecmp(sql, "DISCARD", 7) == 0 || strncasecmp(sql, "DEALLOCATE", 10) == 0;
}
