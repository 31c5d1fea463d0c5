# Writes gen/*.html: pages of real-world shape (navigation, articles with inline links,
# scripts and styles holding markup, comments, tables, forms, image maps, entities in
# hrefs, SVG) and malformed variants of them (a quote, '>' or '<' dropped or inserted,
# tags upper-cased, truncation), for test_html.c's differential tests against libgumbo
# and html5lib. Deterministic (fixed seed): run with /usr/bin/python3 to regenerate.
import os
import random

rng = random.Random(20261207)
WORDS = "asyncio event loop task future crawler page link queue worker fetch parse".split()


def words(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def href():
    kind = rng.randrange(12)
    seg = rng.choice(WORDS)
    return [
        "/%s/%d.html" % (seg, rng.randrange(100)),
        "%s.html" % seg,
        "../%s/" % seg,
        "?page=%d&amp;sort=%s" % (rng.randrange(9), seg),
        "?page=%d&sort=%s" % (rng.randrange(9), seg),
        "https://%s.example.org/%s" % (seg, seg),
        "//cdn.example.net/%s.js" % seg,
        "#%s" % seg,
        "mailto:%s@example.com" % seg,
        "javascript:void(0)",
        "/caf\u00e9/%s?q=%s&copy=1" % (seg, "\u4e2d"),
        " /%s/ spaced " % seg,
    ][kind]


def attr(name, value):
    q = rng.randrange(4)
    if q == 0 and value and not any(c in value for c in " \t\n\"'=<>`"):
        return "%s=%s" % (name, value)
    if q == 1 and "'" not in value:
        return "%s='%s'" % (name, value)
    return '%s="%s"' % (name, value.replace('"', "&quot;"))


def link():
    extra = rng.choice(["", ' class="nav"', " rel=nofollow", ' title="a > b"', " data-x='1'"])
    return "<a %s%s>%s</a>" % (attr("href", href()), extra, words(2))


def block():
    k = rng.randrange(14)
    if k == 0:
        return "<nav><ul>%s</ul></nav>" % "".join("<li>%s</li>" % link() for _ in range(rng.randrange(1, 6)))
    if k == 1:
        return "<p>%s %s %s</p>" % (words(8), link(), words(5))
    if k == 2:
        return "<script>var s = '<a href=\"/in-script\">'; if (a < b && c > d) {} document.write('<!--');</script>"
    if k == 3:
        return "<style>a:hover{color:red} /* <a href='/in-style'> */</style>"
    if k == 4:
        return "<!-- %s <a href=\"/in-comment\"> -->" % words(3)
    if k == 5:
        return "<table><tr><td>%s</td><td>%s</td></tr></table>" % (link(), words(2))
    if k == 6:
        return "<form action=\"/search\"><input name=q><select><option>%s</option></select>%s</form>" % (words(1), link())
    if k == 7:
        return "<map name=m><area shape=rect coords=\"0,0,9,9\" %s></map>" % attr("href", href())
    if k == 8:
        return "<svg width=10><a href=\"/svg-link\"><text>%s</text></a></svg>" % words(1)
    if k == 9:
        return "<div class=\"card\"><h2>%s</h2>%s<img src=\"/i.png\" alt=\"%s\"></div>" % (words(3), link(), words(2))
    if k == 10:
        return "<template><a href=\"/in-template\">t</a></template>"
    if k == 11:
        return "<textarea>%s <a href=\"/in-textarea\"></textarea>" % words(2)
    if k == 12:
        return "<script type=\"text/template\"><a href=\"/in-script-template\"></script>"
    return "<article><p>%s</p><p>%s %s</p></article>" % (words(20), link(), link())


def page():
    head = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>" % words(3)
    if rng.randrange(5) == 0:
        head += "<base href=\"/base/%s/\">" % rng.choice(WORDS)
    body = "".join(block() + "\n" for _ in range(rng.randrange(3, 25)))
    return head + "</head><body>\n" + body + "</body></html>\n"


def mutate(s):
    for _ in range(rng.randrange(1, 6)):
        if not s:
            break
        i = rng.randrange(len(s))
        op = rng.randrange(6)
        if op == 0:
            s = s[:i] + s[i + 1:]
        elif op == 1:
            s = s[:i] + rng.choice("<>\"'=/&!-") + s[i:]
        elif op == 2:
            j = s.find("<", i)
            if j >= 0:
                k = s.find(">", j)
                if k > 0:
                    s = s[:j] + s[j:k].upper() + s[k:]
        elif op == 3:
            s = s[:i]
        elif op == 4:
            s = s[:i] + "<a href=" + href() + " " + s[i:]
        else:
            s = s[:i] + rng.choice(["<!--", "-->", "<script>", "</script>", "<svg>", "</svg>", "<select>", "<template>", "</template>", "<![CDATA[", "&amp", "&#x"]) + s[i:]
    return s


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "gen")
os.makedirs(out, exist_ok=True)
for n in range(150):
    p = page()
    if n % 2:
        p = mutate(p)
    with open(os.path.join(out, "page%03d.html" % n), "w", encoding="utf-8") as f:
        f.write(p)
