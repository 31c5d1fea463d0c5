/* gumbo_links: the anchor of bench html_links: the same pages, parsed by libgumbo (a full
 * WHATWG tree-building parser) and walked for a[href] / area[href], as a crawler using
 * it would, in the page loop both sides share (links_loop.h). */
#include <gumbo.h>

#include "links_loop.h"

static void walk(const GumboNode *node, size_t *sink)
{
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT)
        return;
    const GumboVector *children;
    if (node->type == GUMBO_NODE_ELEMENT) {
        const GumboElement *el = &node->v.element;
        if (el->tag == GUMBO_TAG_A || el->tag == GUMBO_TAG_AREA) {
            const GumboAttribute *href = gumbo_get_attribute(&el->attributes, "href");
            if (href)
                *sink += strlen(href->value) + 1;
        }
        children = &el->children;
    } else {
        children = &node->v.document.children;
    }
    for (unsigned i = 0; i < children->length; i++)
        walk(children->data[i], sink);
}

static void scan(const char *page, size_t len, size_t *sink)
{
    GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, page, len);
    walk(out->document, sink);
    gumbo_destroy_output(&kGumboDefaultOptions, out);
}

int main(int argc, char **argv)
{
    return links_loop_main(argc, argv, scan);
}
