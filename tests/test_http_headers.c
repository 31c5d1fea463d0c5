/* The header list (acio/http_headers.h): order, case-insensitive lookup, multiple values,
 * set/remove, serialisation, the header-injection guard, failing allocations; and the
 * reason phrases and the Date format. */
#include <acio.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include "internal.h"

static char out[4096];

static const char *serialised(const acio_http_headers_t *h)
{
    ssize_t n = acio_http_headers_serialize(h, out, sizeof out - 1);
    cr_assert_geq(n, 0);
    out[n] = '\0';
    cr_assert_eq((size_t)n, acio_http_headers_size(h));
    return out;
}

Test(http_headers, add_get_keeps_order_and_case)
{
    acio_http_headers_t h;
    acio_http_headers_init(&h);
    cr_assert_eq(acio_http_headers_add(&h, "Content-Type", "text/html"), 0);
    cr_assert_eq(acio_http_headers_add(&h, "Set-Cookie", "a=1"), 0);
    cr_assert_eq(acio_http_headers_add(&h, "set-cookie", "b=2"), 0);
    cr_assert_eq(acio_http_headers_count(&h), 3);
    cr_assert_eq(acio_http_headers_count_name(&h, "SET-COOKIE"), 2);
    size_t len;
    cr_assert_str_eq(acio_http_headers_get(&h, "content-type", &len), "text/html");
    cr_assert_eq(len, 9);
    cr_assert_str_eq(acio_http_headers_get(&h, "Set-Cookie", NULL), "a=1");
    cr_assert_null(acio_http_headers_get(&h, "X-Missing", NULL));
    cr_assert_str_eq(serialised(&h),
                     "Content-Type: text/html\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n");

    size_t pos = 0;
    acio_http_header_t f;
    const char *want[] = {"a=1", "b=2"};
    int n = 0;
    while (acio_http_headers_next(&h, &pos, "Set-Cookie", &f)) {
        cr_assert_lt(n, 2);
        cr_assert_eq(f.value_len, 3);
        cr_assert_str_eq(f.value, want[n++]); /* NUL-terminated */
    }
    cr_assert_eq(n, 2);
    pos = 0;
    n = 0;
    while (acio_http_headers_next(&h, &pos, NULL, &f))
        n++;
    cr_assert_eq(n, 3);
    acio_http_headers_close(&h);
}

Test(http_headers, set_replaces_all_at_the_first_place)
{
    acio_http_headers_t *h = acio_http_headers_new();
    cr_assert_not_null(h);
    cr_assert_eq(acio_http_headers_add(h, "A", "1"), 0);
    cr_assert_eq(acio_http_headers_add(h, "B", "2"), 0);
    cr_assert_eq(acio_http_headers_add(h, "a", "3"), 0);
    cr_assert_eq(acio_http_headers_add(h, "C", "4"), 0);
    cr_assert_eq(acio_http_headers_set(h, "A", "new"), 0);
    cr_assert_str_eq(serialised(h), "A: new\r\nB: 2\r\nC: 4\r\n");
    cr_assert_eq(acio_http_headers_set(h, "D", "5"), 0);
    cr_assert_str_eq(serialised(h), "A: new\r\nB: 2\r\nC: 4\r\nD: 5\r\n");
    cr_assert_eq(acio_http_headers_remove(h, "b"), 1);
    cr_assert_eq(acio_http_headers_remove(h, "b"), 0);
    cr_assert_str_eq(serialised(h), "A: new\r\nC: 4\r\nD: 5\r\n");
    acio_http_headers_clear(h);
    cr_assert_eq(acio_http_headers_count(h), 0);
    cr_assert_str_eq(serialised(h), "");
    acio_http_headers_free(h);
}

Test(http_headers, many_sets_reuse_the_arena)
{
    /* Repeated set() leaves dead bytes that compaction reclaims: the arena stays small,
     * and values stay right through the compactions (including set() in the middle). */
    acio_http_headers_t h;
    acio_http_headers_init(&h);
    cr_assert_eq(acio_http_headers_add(&h, "First", "f"), 0);
    cr_assert_eq(acio_http_headers_add(&h, "Counter", "0"), 0);
    cr_assert_eq(acio_http_headers_add(&h, "Last", "l"), 0);
    char v[32];
    for (int i = 1; i <= 10000; i++) {
        snprintf(v, sizeof v, "%d", i);
        cr_assert_eq(acio_http_headers_set(&h, "Counter", v), 0);
    }
    cr_assert_str_eq(serialised(&h), "First: f\r\nCounter: 10000\r\nLast: l\r\n");
    cr_assert_leq(h.size, 1024, "arena grew to %zu", h.size);
    acio_http_headers_close(&h);
}

Test(http_headers, injection_is_refused)
{
    acio_http_headers_t h;
    acio_http_headers_init(&h);
    cr_assert_eq(acio_http_headers_add(&h, "X", "a\r\nSet-Cookie: evil"), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_add(&h, "X", "a\nb"), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_add(&h, "X", "a\rb"), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_addn(&h, "X", 1, "a\0b", 3), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_add(&h, "X", "a\x7f"), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_add(&h, "X: y\r\nZ", "v"), ACIO_EHTTP_INVALID_NAME);
    cr_assert_eq(acio_http_headers_add(&h, "", "v"), ACIO_EHTTP_INVALID_NAME);
    cr_assert_eq(acio_http_headers_add(&h, "Bad Name", "v"), ACIO_EHTTP_INVALID_NAME);
    cr_assert_eq(acio_http_headers_set(&h, "X", "a\nb"), ACIO_EHTTP_INVALID_VALUE);
    cr_assert_eq(acio_http_headers_count(&h), 0);
    /* Tabs, obs-text and empty values are fine. */
    cr_assert_eq(acio_http_headers_add(&h, "X", "a\tb \xe9"), 0);
    cr_assert_eq(acio_http_headers_add(&h, "Y", ""), 0);
    cr_assert_str_eq(serialised(&h), "X: a\tb \xe9\r\nY: \r\n");
    cr_assert_neq(acio_strerror(ACIO_EHTTP_INVALID_VALUE)[0], '\0');
    acio_http_headers_close(&h);
}

Test(http_headers, serialize_needs_room)
{
    acio_http_headers_t h;
    acio_http_headers_init(&h);
    cr_assert_eq(acio_http_headers_add(&h, "A", "1"), 0);
    char small[5];
    cr_assert_eq(acio_http_headers_serialize(&h, small, sizeof small), -ENOSPC);
    char exact[6];
    cr_assert_eq(acio_http_headers_serialize(&h, exact, sizeof exact), 6);
    cr_assert_eq(memcmp(exact, "A: 1\r\n", 6), 0);
    acio_http_headers_close(&h);
}

Test(http_headers, parsed_fields_are_copied_out)
{
    char buf[] = "HTTP/1.1 200 OK\r\nServer: x\r\nSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n";
    acio_http_header_t fields[8];
    acio_http_head_t head;
    ssize_t n = acio_http_parse_response(buf, strlen(buf), 0, NULL, &head, fields, 8, NULL);
    cr_assert_eq(n, (ssize_t)strlen(buf));
    acio_http_headers_t h;
    acio_http_headers_init(&h);
    cr_assert_eq(acio_http_headers_add_parsed(&h, head.headers, head.num_headers), 0);
    memset(buf, 'Z', sizeof buf - 1); /* the copy must not point into buf */
    cr_assert_str_eq(acio_http_headers_get(&h, "set-cookie", NULL), "a=1");
    cr_assert_eq(acio_http_headers_count(&h), 3);
    acio_http_headers_close(&h);
}

Test(http_headers, failing_allocations_leave_the_list_intact)
{
    for (long fail = 1; fail < 40; fail++) {
        acio_http_headers_t h;
        acio_http_headers_init(&h);
        acio__alloc_fail_after(fail);
        int failures = 0;
        char name[16];
        for (int i = 0; i < 40; i++) {
            snprintf(name, sizeof name, "H%d", i);
            int e = acio_http_headers_add(&h, name, "value-value-value-value-value");
            if (e) {
                cr_assert_eq(e, -ENOMEM);
                failures++;
            }
        }
        acio__alloc_fail_after(0);
        cr_assert_eq(acio_http_headers_count(&h), (size_t)(40 - failures));
        /* Every field that was added reads back. */
        size_t pos = 0;
        acio_http_header_t f;
        while (acio_http_headers_next(&h, &pos, NULL, &f))
            cr_assert_str_eq(f.value, "value-value-value-value-value");
        acio_http_headers_close(&h);
    }
}

Test(http_misc, reason_phrases)
{
    cr_assert_str_eq(acio_http_reason(200), "OK");
    cr_assert_str_eq(acio_http_reason(404), "Not Found");
    cr_assert_str_eq(acio_http_reason(418), "I'm a teapot");
    cr_assert_str_eq(acio_http_reason(431), "Request Header Fields Too Large");
    cr_assert_str_eq(acio_http_reason(599), "");
    cr_assert_str_eq(acio_http_reason(-1), "");
}

Test(http_misc, imf_fixdate)
{
    char buf[ACIO_HTTP_DATE_SIZE];
    /* RFC 9110's own example. */
    cr_assert_str_eq(acio_http_date(784111777, buf), "Sun, 06 Nov 1994 08:49:37 GMT");
    cr_assert_str_eq(acio_http_date(0, buf), "Thu, 01 Jan 1970 00:00:00 GMT");
    cr_assert_str_eq(acio_http_date(951782400, buf), "Tue, 29 Feb 2000 00:00:00 GMT");
    cr_assert_eq(strlen(buf), ACIO_HTTP_DATE_LEN);
}
