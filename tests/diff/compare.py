"""Runs one differential scenario on both sides and compares the traces line by line.

    compare.py --c PROG --py SCENARIOS_PY NAME   run NAME in C (PROG NAME) and in CPython
                                                 (this interpreter, SCENARIOS_PY NAME)
    compare.py --c PROG --py SCENARIOS_PY --lists   check both sides define the same names

ctest runs one `compare.py ... NAME` per scenario (tests/diff/CMakeLists.txt), so a
failure names the scenario; its output shows both traces side by side with the first
difference marked, both exit statuses and both stderr streams.
"""

import argparse
import os
import subprocess
import sys

TIMEOUT = 60


def run(cmd):
    env = dict(os.environ)
    # asyncio's debug mode only adds logging, but keep CPython in its default mode.
    env.pop("PYTHONASYNCIODEBUG", None)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return f"timeout after {TIMEOUT}s", out, err


def side_by_side(py, c):
    width = max([len(line) for line in py] + [len("CPython asyncio")])
    rows = [f"     {'CPython asyncio':<{width}}  | acio", f"     {'-' * width}  | ----"]
    first = None
    for i in range(max(len(py), len(c))):
        a = py[i] if i < len(py) else "<missing>"
        b = c[i] if i < len(c) else "<missing>"
        mark = "  "
        if a != b:
            mark = "!="
            if first is None:
                first = i
        rows.append(f"{i + 1:3}{mark} {a:<{width}}  | {b}")
    return "\n".join(rows), first


def check_lists(args):
    _, c_out, _ = run([args.c, "--list"])
    _, py_out, _ = run([sys.executable, args.py, "--list"])
    c_names, py_names = set(c_out.split()), set(py_out.split())
    ok = True
    for name in sorted(py_names - c_names):
        print(f"scenario {name} is in scenarios.py but has no C twin")
        ok = False
    for name in sorted(c_names - py_names):
        print(f"scenario {name} is in C but has no twin in scenarios.py")
        ok = False
    print(f"{len(c_names)} C scenarios, {len(py_names)} Python scenarios")
    return 0 if ok else 1


def compare(args):
    py_rc, py_out, py_err = run([sys.executable, args.py, args.name])
    c_rc, c_out, c_err = run([args.c, args.name])
    py, c = py_out.splitlines(), c_out.splitlines()
    table, first = side_by_side(py, c)
    failed = first is not None or py_rc != 0 or c_rc != 0 or not py
    print(f"scenario {args.name}: {'FAILED' if failed else 'ok'}")
    if first is not None:
        print(f"first difference at line {first + 1}")
    if py_rc != 0:
        print(f"the CPython side exited with {py_rc}")
    if c_rc != 0:
        print(f"the C side exited with {c_rc}")
    if not py:
        print("the CPython side printed nothing")
    print(table)
    if py_err.strip():
        print("--- CPython stderr ---")
        print(py_err.rstrip())
    if c_err.strip():
        print("--- acio stderr ---")
        print(c_err.rstrip())
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--c", required=True, help="the diff_scenarios program")
    ap.add_argument("--py", required=True, help="scenarios.py")
    ap.add_argument("--lists", action="store_true")
    ap.add_argument("name", nargs="?")
    args = ap.parse_args()
    if args.lists:
        return check_lists(args)
    if not args.name:
        ap.error("a scenario name is required")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
