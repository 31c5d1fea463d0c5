/* robots.txt (acio/robots.h): RFC 9309's examples and Google's documented cases from
 * tests/robots_cases/cases.json, each check also put to Python's urllib.robotparser to
 * keep docs/robots.md's list of where it differs true; plus groups, delays, sitemaps,
 * the status rules, the size cap and failing allocations. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "acio.h"
#include "internal.h"
#include "support/guard.h"

static char cases_dir[1024];

static const char *dir(void)
{
    const char *slash = strrchr(__FILE__, '/');
    snprintf(cases_dir, sizeof(cases_dir), "%.*s/robots_cases", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".");
    return cases_dir;
}

static acio_robots_t *parse(const char *txt, const char *agent)
{
    acio_robots_t *r = NULL;
    int rc = acio_robots_parse(txt, strlen(txt), agent, &r);
    cr_assert_eq(rc, 0, "%s", acio_err_name(rc));
    return r;
}

static bool allowed(const acio_robots_t *r, const char *path)
{
    return acio_robots_allowed(r, path, strlen(path));
}

Test(robots, cases_and_robotparser, .timeout = 60)
{
    char path[1100], cmd[1200];
    snprintf(path, sizeof(path), "%s/cases.json", dir());
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    cr_assert_not_null(root, "%s: %s", path, err.text);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/robotparser.py'", dir());
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    json_t *py = json_loadf(p, 0, &err);
    cr_assert_eq(pclose(p), 0);
    cr_assert_not_null(py, "robotparser.py: %s", err.text);

    size_t ci, checks = 0, differ = 0;
    json_t *c;
    json_array_foreach(json_object_get(root, "cases"), ci, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        acio_robots_t *r = parse(json_string_value(json_object_get(c, "robots")),
                                 json_string_value(json_object_get(c, "agent")));
        size_t k;
        json_t *chk;
        json_array_foreach(json_object_get(c, "checks"), k, chk)
        {
            const char *target = json_string_value(json_array_get(chk, 0));
            bool want = json_is_true(json_array_get(chk, 1));
            bool py_agrees = json_is_true(json_array_get(chk, 2));
            bool py_says = json_is_true(json_array_get(json_array_get(py, ci), k));
            cr_expect_eq(allowed(r, target), want, "%s: %s should be %s", name, target,
                         want ? "allowed" : "disallowed");
            cr_expect_eq(py_says == want, py_agrees,
                         "%s: %s: urllib.robotparser now %s RFC 9309; update cases.json", name,
                         target, py_agrees ? "differs from" : "agrees with");
            checks++;
            differ += !py_agrees;
        }
        acio_robots_free(r);
    }
    cr_log_info("%zu checks, urllib.robotparser differs on %zu", checks, differ);
    cr_assert_gt(checks, 80);
    json_decref(root);
    json_decref(py);
}

Test(robots, delay_sitemaps_groups)
{
    const char *txt = "Sitemap: https://example.com/a.xml\n"
                      "User-agent: *\nCrawl-delay: 5\nDisallow: /s\n\n"
                      "User-agent: bot\nCrawl-delay: nonsense\nCrawl-delay: 1.5\nCrawl-delay: 9\n"
                      "Disallow: /b\nsitemap: https://example.com/b.xml\n";
    acio_robots_t *r = parse(txt, "bot");
    cr_assert_float_eq(acio_robots_crawl_delay(r), 1.5, 1e-9);
    cr_assert(allowed(r, "/s"));
    cr_assert_not(allowed(r, "/b"));
    cr_assert_eq(acio_robots_sitemap_count(r), 2);
    cr_assert_str_eq(acio_robots_sitemap(r, 0), "https://example.com/a.xml");
    cr_assert_str_eq(acio_robots_sitemap(r, 1), "https://example.com/b.xml");
    cr_assert_null(acio_robots_sitemap(r, 2));
    acio_robots_free(r);

    r = parse(txt, "other");
    cr_assert_float_eq(acio_robots_crawl_delay(r), 5, 1e-9);
    cr_assert_not(allowed(r, "/s"));
    acio_robots_free(r);

    r = parse("", "bot");
    cr_assert(allowed(r, "/"));
    cr_assert_float_eq(acio_robots_crawl_delay(r), -1, 1e-9);
    acio_robots_free(r);

    acio_robots_t *bad = (acio_robots_t *)1;
    cr_assert_eq(acio_robots_parse("", 0, "", &bad), -EINVAL);
    cr_assert_null(bad);
    cr_assert_eq(acio_robots_parse("", 0, "/1.0", &bad), -EINVAL);
}

Test(robots, urls)
{
    acio_robots_t *r = parse("User-agent: *\nDisallow: /caf\xc3\xa9\nDisallow: /*?session=\n", "b");
    acio_url_t *u;
    cr_assert_eq(acio_url_parse("http://x/caf%C3%A9/menu", 23, &u), 0);
    cr_assert_not(acio_robots_allowed_url(r, u));
    acio_url_free(u);
    cr_assert_eq(acio_url_parse("http://x/page?session=1", 23, &u), 0);
    cr_assert_not(acio_robots_allowed_url(r, u));
    acio_url_free(u);
    cr_assert_eq(acio_url_parse("http://x", 8, &u), 0);
    cr_assert(acio_robots_allowed_url(r, u));
    acio_url_free(u);
    /* A long target goes through the heap. */
    char longpath[5000] = "/caf%c3%a9";
    memset(longpath + 10, 'x', 4000);
    longpath[4010] = '\0';
    cr_assert_not(allowed(r, longpath));
    acio_robots_free(r);
}

Test(robots, status)
{
    acio_robots_t *r;
    cr_assert_eq(acio_robots_for_status(404, &r), 0);
    cr_assert(allowed(r, "/anything"));
    acio_robots_free(r);
    cr_assert_eq(acio_robots_for_status(503, &r), 0);
    cr_assert_not(allowed(r, "/anything"));
    acio_robots_free(r);
    cr_assert_eq(acio_robots_for_status(0, &r), 0);
    cr_assert_not(allowed(r, "/"));
    acio_robots_free(r);
    cr_assert_eq(acio_robots_for_status(200, &r), -EINVAL);
    cr_assert_null(r);
}

Test(robots, size_cap)
{
    /* A rule past 500 KiB is not read. */
    size_t n = ACIO_ROBOTS_MAX_SIZE + 100;
    char *txt = malloc(n + 64);
    strcpy(txt, "User-agent: *\nDisallow: /early\n");
    size_t used = strlen(txt);
    memset(txt + used, '#', ACIO_ROBOTS_MAX_SIZE - used - 1);
    txt[ACIO_ROBOTS_MAX_SIZE - 1] = '\n';
    strcpy(txt + ACIO_ROBOTS_MAX_SIZE, "Disallow: /late\n");
    acio_robots_t *r;
    cr_assert_eq(acio_robots_parse(txt, strlen(txt), "b", &r), 0);
    cr_assert_not(allowed(r, "/early"));
    cr_assert(allowed(r, "/late"));
    acio_robots_free(r);
    free(txt);
}

Test(robots, allocation_failures)
{
    char txt[4096] = "Sitemap: https://e.com/1\nUser-agent: *\n";
    for (int i = 0; i < 40; i++)
        sprintf(txt + strlen(txt), "Disallow: /p%d\nSitemap: https://e.com/s%d\n", i, i);
    int failures = 0;
    for (long f = 1; f < 100; f++) {
        acio_robots_t *r = NULL;
        acio__alloc_fail_after(f);
        int rc = acio_robots_parse(txt, strlen(txt), "b", &r);
        acio__alloc_fail_after(0);
        if (rc == -ENOMEM) {
            cr_assert_null(r);
            failures++;
            continue;
        }
        cr_assert_eq(rc, 0);
        cr_assert_not(allowed(r, "/p39"));
        cr_assert_eq(acio_robots_sitemap_count(r), 41);
        acio_robots_free(r);
        break;
    }
    cr_assert_gt(failures, 3);
}

/* The example of docs/robots.md. */
Test(robots, docs_example)
{
    acio_robots_t *rules;
    const char *txt = "User-agent: *\nDisallow: /private/\nAllow: /private/press/\n";
    cr_assert_eq(acio_robots_parse(txt, strlen(txt), "acio-crawl/0.1", &rules), 0);
    cr_assert(acio_robots_allowed(rules, "/private/press/2024.html", 24));
    cr_assert_not(acio_robots_allowed(rules, "/private/x", 10));
    acio_robots_free(rules);
}

/* Every prefix of every case's robots.txt and every check, ending right before an
 * unmapped page. */
Test(robots, guard_page_prefixes, .timeout = 60)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/cases.json", dir());
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    cr_assert_not_null(root);
    guard_buf_t g, g2;
    cr_assert_eq(guard_init(&g, 1 << 14), 0);
    cr_assert_eq(guard_init(&g2, 1 << 12), 0);
    size_t ci;
    json_t *c;
    json_array_foreach(json_object_get(root, "cases"), ci, c)
    {
        const char *txt = json_string_value(json_object_get(c, "robots"));
        size_t n = strlen(txt);
        for (size_t len = 0; len <= n; len++) {
            acio_robots_t *r;
            cr_assert_eq(acio_robots_parse(guard_place(&g, txt, len), len, "foobot", &r), 0);
            size_t k;
            json_t *chk;
            json_array_foreach(json_object_get(c, "checks"), k, chk)
            {
                const char *t = json_string_value(json_array_get(chk, 0));
                size_t tn = strlen(t);
                for (size_t tl = 0; tl <= tn; tl++)
                    acio_robots_allowed(r, guard_place(&g2, t, tl), tl);
            }
            acio_robots_free(r);
        }
    }
    guard_close(&g);
    guard_close(&g2);
    json_decref(root);
}
