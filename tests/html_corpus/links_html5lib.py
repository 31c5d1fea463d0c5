# The reference for test_html.c: parse every corpus page with html5lib (Debian's
# /usr/bin/python3) and print, as one JSON object keyed by file name, the hrefs of the
# HTML <a> and <area> elements in tree order, outside <template> contents, and the first
# <base href>. Pages are given as bytes, so html5lib does its own encoding sniffing
# (BOM, <meta> prescan), with UTF-8 as the default as acio has.
import json
import os
import sys

import html5lib

HTML = "{http://www.w3.org/1999/xhtml}"


def walk(el, out, state):
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == HTML + "template":
            continue
        href = child.get("href")
        if tag in (HTML + "a", HTML + "area") and href is not None:
            out.append(["a" if tag == HTML + "a" else "area", href])
        if tag == HTML + "base" and href is not None and state.get("base") is None:
            state["base"] = href
        walk(child, out, state)


def links(path):
    with open(path, "rb") as f:
        data = f.read()
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
    doc = parser.parse(data, default_encoding="utf-8", useChardet=False)
    out, state = [], {}
    walk(doc, out, state)
    return {"links": out, "base": state.get("base")}


result = {}
for d in sys.argv[1:]:
    for name in sorted(os.listdir(d)):
        if name.endswith(".html"):
            result[os.path.join(os.path.basename(d), name)] = links(os.path.join(d, name))
json.dump(result, sys.stdout, ensure_ascii=True, indent=0)
