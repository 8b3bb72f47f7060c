#!/usr/bin/env python3
"""Text tables of every listing command (fixtures/scenario_diff.py's two
cores): widths, number formats, and that JSON does not change.

  widths     with COLUMNS=80, every row of every table (a header line of
             capitalised column names, then the rows up to a blank line)
             is at most 80 columns, and some long type name
             (_frozen_importlib_external.SourceFileLoader, 43 characters,
             on every heap) is elided in the middle ("..."); with
             COLUMNS=200 rows fit 200 columns and no cell is elided, the
             long name printed whole.
  numbers    figures of 1,000 and more that --json reports (totals,
             counts, bytes) appear in the text with thousands separators.
  json       (--cli) --json is byte-identical with COLUMNS=80,
             COLUMNS=200 and without COLUMNS.

  limit      (--cli) every command that lists rows takes --limit N: with N=2 its
             --json list has min(2, all) entries, where all is the length
             with --limit 0 (and the text says how many more); types
             also takes --top N, the same; a command without rows
             (stacks) refuses --limit (exit 2).

Commands: types, top (by object and by type), cycles, referrers, roots,
anomalies, memory, tasks, suspects, diff, summary, find, referents.

The json and limit checks test the command line, not the heap: how a list
is cut and whether COLUMNS reaches JSON do not depend on the interpreter, so
tests/cmake/diff.cmake passes --cli on the oldest and the newest version
only; the widths and numbers run on every version (its type names and
figures).

Usage: check_tables.py --coreheap BIN --core1 CORE --core2 CORE [--cli]
Exit 0 when every check passed, 1 otherwise, 77 when the fixture cores are
missing (their scenario was skipped).
"""
import argparse
import json
import os
import re
import subprocess
import sys

FAILED = []
PASSED = [0]
LONG = "_frozen_importlib_external.SourceFileLoader"
HEADER = re.compile(r"^ *[A-Z][A-Z0-9.+/()-]*( [A-Z0-9.+/()-]+)*( {2,}[A-Z][A-Z0-9.+/()-]*( [A-Z0-9.+/()-]+)*)+ *$")
CELLS = re.compile(r"\S {2,}\S")


def check(ok, what):
    if ok:
        PASSED[0] += 1
    else:
        FAILED.append(what)
    return ok


def run(args, cmd, columns=None, expect=(0,)):
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns:
        env["COLUMNS"] = str(columns)
    p = subprocess.run([args.coreheap] + cmd + ["-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env, timeout=600)
    if p.returncode not in expect:
        raise SystemExit("check_tables: `coreheap %s` exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def tables(text):
    """The rows (header included) of each table in text."""
    found, rows = [], None
    for line in text.splitlines():
        if rows is not None:
            # a row has cells two or more blanks apart; a prose line ends the table
            if not line.strip() or line.lstrip().startswith("...") or not CELLS.search(line):
                found.append(rows)
                rows = None
            else:
                rows.append(line)
                continue
        if HEADER.match(line):
            rows = [line]
    if rows:
        found.append(rows)
    return found


def comma(n):
    return "{:,}".format(n)


def check_widths(args, name, cmd, need_table=True):
    narrow, wide = run(args, cmd, 80), run(args, cmd, 200)
    tn, tw = tables(narrow), tables(wide)
    if not check(len(tn) == len(tw) and (tn or not need_table),
                 "%s: %d tables at COLUMNS=80, %d at 200" % (name, len(tn), len(tw))):
        return narrow, wide
    for width, found in ((80, tn), (200, tw)):
        for rows in found:
            over = [r for r in rows if len(r) > width]
            check(not over, "%s: COLUMNS=%d: rows wider: %r" % (name, width, over[:3]))
    for rows in tw:
        elided = [r for r in rows[1:] if "..." in r]
        check(not elided, "%s: COLUMNS=200: cells elided: %r" % (name, elided[:3]))
    if LONG in wide:
        rows80 = [r for rows in tn for r in rows]
        elided = re.compile(re.escape(LONG[:5]) + r"\S*\.\.\.\S*" + re.escape(LONG[-4:]))
        check(any(elided.search(r) for r in rows80) or LONG not in "".join(r for rows in tw for r in rows),
              "%s: %s (in a table at 200 columns) is not elided at 80" % (name, LONG))
    return narrow, wide


def check_json_same(args, name, cmd):
    """The --json document (without COLUMNS); with --cli also checked
    byte-identical with COLUMNS=80 and 200."""
    docs = [run(args, cmd + ["--json"], c) for c in ((None, 80, 200) if args.cli else (None,))]
    check(all(d == docs[0] for d in docs), "%s --json differs with COLUMNS set" % name)
    return json.loads(docs[0])


def has(text, n, what, name):
    if n >= 1000:
        check(comma(n) in text, "%s: %s %d is not printed as %s" % (name, what, n, comma(n)))


def dig(doc, path):
    for k in path.split("."):
        doc = doc[k]
    return doc


def check_limits(args, addr):
    c, c1 = args.core2, args.core1
    cases = [  # (command, JSON list)
        (["types", c], "types"), (["top", c], "objects"), (["top", c, "--by", "type"], "types"),
        (["cycles", c], "groups"), (["referrers", c, addr], "referrers"), (["roots", c], "roots"),
        (["anomalies", c], "refcount_too_low.list"), (["memory", c], "native.owned.list"),
        (["suspects", c], "suspects"), (["summary", c], "top_types"), (["find", c, "--type", "str"], "objects"),
        (["tasks", c], "tasks"), (["diff", c1, c], "types"), (["referents", c, addr], "referents"),
    ]
    cut = 0
    for cmd, path in cases:
        name = " ".join(x for x in cmd if x not in (c, c1, addr))
        every = len(dig(json.loads(run(args, cmd + ["--json", "--limit", "0"])), path))
        two = len(dig(json.loads(run(args, cmd + ["--json", "--limit", "2"])), path))
        check(two == min(2, every), "%s --limit 2: %d %s, expected %d of %d" % (name, two, path, min(2, every), every))
        if every > 2:
            cut += 1
            text = run(args, cmd + ["--limit", "2"])
            check(re.search(r"\b%s more\b" % re.escape(comma(every - 2)), text) or name.startswith(("summary", "suspects", "find", "memory", "types")),
                  "%s --limit 2: the text does not say '%s more': %r" % (name, comma(every - 2), text[-300:]))
    check(cut >= 10, "only %d listing commands had more than 2 rows: --limit barely tested" % cut)
    check(run(args, ["types", c, "--top", "3", "--json"]) == run(args, ["types", c, "--limit", "3", "--json"]),
          "types --top 3 differs from --limit 3")
    p = subprocess.run([args.coreheap, "stacks", c, "--limit", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    check(p.returncode == 2 and "--limit" in p.stderr, "stacks --limit: exit %d, %r" % (p.returncode, p.stderr))


def main():
    ap = argparse.ArgumentParser(prog="check_tables")
    for o in ("--coreheap", "--core1", "--core2"):
        ap.add_argument(o, required=True)
    ap.add_argument("--cli", action="store_true",
                    help="also the json and limit checks (interpreter-independent: two versions are enough)")
    args = ap.parse_args()
    for c in (args.core1, args.core2):
        if not os.path.exists(c):
            print("check_tables: SKIP: fixture core %s missing (its scenario did not run)" % c)
            return 77
    c = args.core2

    d = check_json_same(args, "types", ["types", c, "--limit", "0"])
    text, wide = check_widths(args, "types", ["types", c, "--limit", "0"])
    check(LONG in wide, "types: %s not listed whole at COLUMNS=200" % LONG)
    has(text, d["totals"]["count"], "totals.count", "types")
    for t in d["types"][:5]:
        has(text, t["count"], "count of " + t["type"], "types")

    d = check_json_same(args, "top", ["top", c, "--limit", "30"])
    text, _ = check_widths(args, "top", ["top", c, "--limit", "30"])
    has(text, d["total"], "total", "top")
    has(text, d["objects"][0]["retained_objects"], "retained_objects", "top")
    addr = d["objects"][0]["address"]

    d = check_json_same(args, "top --by type", ["top", c, "--by", "type", "--limit", "0"])
    text, _ = check_widths(args, "top --by type", ["top", c, "--by", "type", "--limit", "0"])
    has(text, d["types"][0]["retained_objects"], "retained_objects", "top --by type")

    check_json_same(args, "cycles", ["cycles", c])
    check_widths(args, "cycles", ["cycles", c], need_table=False)

    d = check_json_same(args, "referrers", ["referrers", c, addr])
    check_widths(args, "referrers", ["referrers", c, addr])

    d = check_json_same(args, "roots", ["roots", c, "--limit", "0"])
    text, _ = check_widths(args, "roots", ["roots", c, "--limit", "0"])
    has(text, d["total"], "total", "roots")

    d = check_json_same(args, "anomalies", ["anomalies", c])
    text, _ = check_widths(args, "anomalies", ["anomalies", c], need_table=False)
    has(text, d["heap"]["objects"], "heap.objects", "anomalies")

    d = check_json_same(args, "memory", ["memory", c])
    text, _ = check_widths(args, "memory", ["memory", c])
    check(tables(text), "memory: no table")

    check_json_same(args, "tasks", ["tasks", c])
    check_widths(args, "tasks", ["tasks", c], need_table=False)
    check_json_same(args, "suspects", ["suspects", c])
    check_widths(args, "suspects", ["suspects", c], need_table=False)

    d = check_json_same(args, "diff", ["diff", args.core1, c])
    text, _ = check_widths(args, "diff", ["diff", args.core1, c])
    for t in d["types"]:
        has(text, t["count_b"], "count_b of " + t["type"], "diff")

    if args.cli:
        check_limits(args, addr)

    if FAILED:
        for f in FAILED:
            print("FAIL:", f)
        print("check_tables: %d of %d checks failed" % (len(FAILED), len(FAILED) + PASSED[0]))
        return 1
    print("check_tables: all %d checks passed" % PASSED[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
