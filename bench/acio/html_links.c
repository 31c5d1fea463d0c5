/* html_links: link extraction cost per KB of HTML, through acio_html_scan (the tokenizer:
 * every href found, as a full parser's tree would hold them). The page loop and the
 * figures are bench/html/links_loop.h's; the anchor is the same loop over libgumbo
 * (bench/html/gumbo_links.c). */
#include "acio.h"
#include "html/links_loop.h"

static int count_href(void *data, acio_html_kind_t kind, const char *v, size_t n)
{
    (void)kind;
    (void)v;
    *(size_t *)data += n + 1;
    return 0;
}

static void scan(const char *page, size_t len, size_t *sink)
{
    acio_html_scan(page, len, count_href, sink);
}

int main(int argc, char **argv)
{
    return links_loop_main(argc, argv, scan);
}
