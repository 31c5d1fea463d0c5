# Resolve every reference of corpus.json against every base with Python's
# urllib.parse.urljoin and print [base, ref, result] triples as one JSON array
# (test_url.c compares them with acio_url_join). Run with Debian's /usr/bin/python3.
import json
import os
import sys
from urllib.parse import urljoin

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "corpus.json"), encoding="utf-8") as f:
    corpus = json.load(f)
out = [[b, r, urljoin(b, r)] for b in corpus["bases"] for r in corpus["refs"]]
json.dump(out, sys.stdout, ensure_ascii=True)
