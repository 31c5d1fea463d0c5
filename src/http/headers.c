/* acio_http_headers_t: an ordered, case-insensitive, multi-valued header list that owns
 * its strings. Fields are an array of offsets into one byte arena, so adding a field is
 * at most two amortised reallocations and a list reused with _clear() allocates nothing;
 * removed fields leave dead bytes that are squeezed out when the arena would grow. */
#include <errno.h>
#include <string.h>

#include "acio/error.h"
#include "acio/http_headers.h"
#include "http/chars.h"
#include "internal.h"

struct acio_http_field_s {
    size_t name, name_len, value, value_len; /* offsets into bytes */
};

void acio_http_headers_init(acio_http_headers_t *h)
{
    memset(h, 0, sizeof *h);
}

void acio_http_headers_close(acio_http_headers_t *h)
{
    acio__free(h->fields);
    acio__free(h->bytes);
    memset(h, 0, sizeof *h);
}

acio_http_headers_t *acio_http_headers_new(void)
{
    acio_http_headers_t *h = acio__malloc(sizeof *h);
    if (h)
        acio_http_headers_init(h);
    return h;
}

void acio_http_headers_free(acio_http_headers_t *h)
{
    if (!h)
        return;
    acio_http_headers_close(h);
    acio__free(h);
}

void acio_http_headers_clear(acio_http_headers_t *h)
{
    h->count = 0;
    h->used = 0;
    h->dead = 0;
}

int acio_http_check_name(const char *name, size_t len)
{
    if (len == 0)
        return ACIO_EHTTP_INVALID_NAME;
    for (size_t i = 0; i < len; i++)
        if (!acio__http_is_tchar((unsigned char)name[i]))
            return ACIO_EHTTP_INVALID_NAME;
    return 0;
}

int acio_http_check_value(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!acio__http_is_field((unsigned char)value[i]))
            return ACIO_EHTTP_INVALID_VALUE;
    return 0;
}

/* Squeeze out the bytes of removed fields. set() inserts in the middle of the list, so
 * arena order is not list order: move fields down in arena order, each time taking the
 * lowest one not yet moved (those still lie at or above w). Quadratic, but lists are
 * short and this runs only when the arena would otherwise grow. */
static void compact(acio_http_headers_t *h)
{
    size_t w = 0;
    for (size_t k = 0; k < h->count; k++) {
        struct acio_http_field_s *f = NULL;
        for (size_t i = 0; i < h->count; i++)
            if (h->fields[i].name >= w && (!f || h->fields[i].name < f->name))
                f = &h->fields[i];
        size_t n = f->name_len + 1 + f->value_len + 1; /* name NUL value NUL, adjacent */
        if (f->name != w)
            memmove(h->bytes + w, h->bytes + f->name, n);
        f->name = w;
        f->value = w + f->name_len + 1;
        w += n;
    }
    h->used = w;
    h->dead = 0;
}

static int reserve(acio_http_headers_t *h, size_t bytes)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        void *f = acio__realloc(h->fields, cap * sizeof *h->fields);
        if (!f)
            return -ENOMEM;
        h->fields = f;
        h->cap = cap;
    }
    if (h->size - h->used < bytes) {
        if (h->dead && h->size - h->used + h->dead >= bytes) {
            compact(h);
            return 0;
        }
        size_t size = h->size ? h->size : 512;
        while (size - h->used < bytes)
            size *= 2;
        char *b = acio__realloc(h->bytes, size);
        if (!b)
            return -ENOMEM;
        h->bytes = b;
        h->size = size;
    }
    return 0;
}

/* Append without checking; at `at` (<= count) in the list. */
static int insert(acio_http_headers_t *h, size_t at, const char *name, size_t name_len,
                  const char *value, size_t value_len)
{
    int e = reserve(h, name_len + value_len + 2);
    if (e)
        return e;
    struct acio_http_field_s f = {h->used, name_len, h->used + name_len + 1, value_len};
    memcpy(h->bytes + f.name, name, name_len);
    h->bytes[f.name + name_len] = '\0';
    memcpy(h->bytes + f.value, value, value_len);
    h->bytes[f.value + value_len] = '\0';
    h->used += name_len + value_len + 2;
    memmove(&h->fields[at + 1], &h->fields[at], (h->count - at) * sizeof f);
    h->fields[at] = f;
    h->count++;
    return 0;
}

int acio_http_headers_addn(acio_http_headers_t *h, const char *name, size_t name_len,
                           const char *value, size_t value_len)
{
    int e = acio_http_check_name(name, name_len);
    if (!e)
        e = acio_http_check_value(value, value_len);
    if (e)
        return e;
    return insert(h, h->count, name, name_len, value, value_len);
}

int acio_http_headers_add(acio_http_headers_t *h, const char *name, const char *value)
{
    return acio_http_headers_addn(h, name, strlen(name), value, strlen(value));
}

static bool name_is(const acio_http_headers_t *h, size_t i, const char *name, size_t len)
{
    const struct acio_http_field_s *f = &h->fields[i];
    return acio__http_case_eq(h->bytes + f->name, f->name_len, name, len);
}

static size_t remove_n(acio_http_headers_t *h, const char *name, size_t len, size_t from)
{
    size_t w = from, removed = 0;
    for (size_t i = from; i < h->count; i++) {
        if (name_is(h, i, name, len)) {
            h->dead += h->fields[i].name_len + h->fields[i].value_len + 2;
            removed++;
        } else {
            h->fields[w++] = h->fields[i];
        }
    }
    h->count = w;
    return removed;
}

int acio_http_headers_setn(acio_http_headers_t *h, const char *name, size_t name_len,
                           const char *value, size_t value_len)
{
    int e = acio_http_check_name(name, name_len);
    if (!e)
        e = acio_http_check_value(value, value_len);
    if (e)
        return e;
    size_t first = 0;
    while (first < h->count && !name_is(h, first, name, name_len))
        first++;
    /* Insert the new field first (it may fail), then drop the old ones after it. */
    e = insert(h, first, name, name_len, value, value_len);
    if (e)
        return e;
    remove_n(h, name, name_len, first + 1);
    return 0;
}

int acio_http_headers_set(acio_http_headers_t *h, const char *name, const char *value)
{
    return acio_http_headers_setn(h, name, strlen(name), value, strlen(value));
}

int acio_http_headers_add_parsed(acio_http_headers_t *h, const acio_http_header_t *fields, size_t n)
{
    size_t count = h->count;
    for (size_t i = 0; i < n; i++) {
        int e = acio_http_headers_addn(h, fields[i].name, fields[i].name_len, fields[i].value,
                                       fields[i].value_len);
        if (e) {
            /* Drop the fields appended so far: their bytes become dead. */
            for (size_t j = count; j < h->count; j++)
                h->dead += h->fields[j].name_len + h->fields[j].value_len + 2;
            h->count = count;
            return e;
        }
    }
    return 0;
}

const char *acio_http_headers_get(const acio_http_headers_t *h, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < h->count; i++) {
        if (name_is(h, i, name, nl)) {
            if (len)
                *len = h->fields[i].value_len;
            return h->bytes + h->fields[i].value;
        }
    }
    return NULL;
}

bool acio_http_headers_next(const acio_http_headers_t *h, size_t *pos, const char *name,
                            acio_http_header_t *out)
{
    size_t nl = name ? strlen(name) : 0;
    for (size_t i = *pos; i < h->count; i++) {
        if (name && !name_is(h, i, name, nl))
            continue;
        const struct acio_http_field_s *f = &h->fields[i];
        out->name = h->bytes + f->name;
        out->name_len = f->name_len;
        out->value = h->bytes + f->value;
        out->value_len = f->value_len;
        *pos = i + 1;
        return true;
    }
    *pos = h->count;
    return false;
}

size_t acio_http_headers_count(const acio_http_headers_t *h)
{
    return h->count;
}

size_t acio_http_headers_count_name(const acio_http_headers_t *h, const char *name)
{
    size_t nl = strlen(name), n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += name_is(h, i, name, nl);
    return n;
}

size_t acio_http_headers_remove(acio_http_headers_t *h, const char *name)
{
    return remove_n(h, name, strlen(name), 0);
}

size_t acio_http_headers_size(const acio_http_headers_t *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += h->fields[i].name_len + 2 + h->fields[i].value_len + 2;
    return n;
}

ssize_t acio_http_headers_serialize(const acio_http_headers_t *h, char *buf, size_t cap)
{
    if (acio_http_headers_size(h) > cap)
        return -ENOSPC;
    char *p = buf;
    for (size_t i = 0; i < h->count; i++) {
        const struct acio_http_field_s *f = &h->fields[i];
        memcpy(p, h->bytes + f->name, f->name_len);
        p += f->name_len;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, h->bytes + f->value, f->value_len);
        p += f->value_len;
        *p++ = '\r';
        *p++ = '\n';
    }
    return p - buf;
}
