# For test_robots.c: answer every check of cases.json with Python's
# urllib.robotparser (Debian's /usr/bin/python3); prints a JSON list of lists of
# booleans, one list per case.
import json
import os
import sys
import urllib.robotparser

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "cases.json"), encoding="utf-8") as f:
    cases = json.load(f)["cases"]
out = []
for case in cases:
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(case["robots"].splitlines())
    out.append([rp.can_fetch(case["agent"], "http://example.com" + c[0]) for c in case["checks"]])
json.dump(out, sys.stdout)
