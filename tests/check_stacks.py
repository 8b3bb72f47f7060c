#!/usr/bin/env python3
"""Compare `coreheap stacks CORE --json --locals` with the truth the dumped
process recorded (fixtures/scenario_threads.py).

    check_stacks.py --coreheap PATH --core CORE --truth TRUTH.json
                    [--python PATH] [--expect-partial]

Checks: exit status 0 (5 and "partial": true with --expect-partial), one
JSON document; runtime.version equals the truth; every truth thread is
present by tid with the same frames (function, file, line) innermost first
(with --expect-partial: the threads coreheap lists are a non-empty subset of
the truth, each with the exact truth stack, and a warning is given); every
local the truth recorded for the scenario's own frames has the same
rendering ("<T at 0xADDR>" must name the truth's type as the last dotted
part and the same address); the main thread received the fatal signal and
holds the GIL (when gil is known), no other thread does; no thread is listed
twice. Last line "check_stacks: N passed, M failed"; exit 0 only if all
passed, 1 otherwise, 77 when --python is given and missing.
"""

import argparse
import json
import os
import re
import subprocess
import sys

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return cond


def same_local(got, want):
    m = re.fullmatch(r"<(.*) at (0x[0-9a-f]+)>", want)
    if m:
        g = re.fullmatch(r"<(.*) at (0x[0-9a-f]+)>", got or "")
        return bool(g) and g.group(1).split(".")[-1] == m.group(1) and g.group(2) == m.group(2)
    return got == want


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--python")
    ap.add_argument("--expect-partial", action="store_true")
    a = ap.parse_args()
    if a.python and not os.path.exists(a.python):
        print("check_stacks: SKIP: interpreter %s not found" % a.python)
        return 77
    truth = json.load(open(a.truth))
    r = subprocess.run([a.coreheap, "stacks", a.core, "--json", "--locals"], capture_output=True, text=True, timeout=300)
    want_rc = 5 if a.expect_partial else 0
    check(r.returncode == want_rc, "exit status %d, expected %d; stderr: %s" % (r.returncode, want_rc, r.stderr.strip()))
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        check(False, "output is not JSON: %s" % e)
        print("check_stacks: %d passed, %d failed" % (passed, failed))
        return 1
    check(doc["runtime"]["version"] == truth["version"], "version %s != %s" % (doc["runtime"]["version"], truth["version"]))
    check(doc["partial"] == a.expect_partial, "partial is %s" % doc["partial"])
    if a.expect_partial:
        check(len(doc["warnings"]) > 0, "a partial result must carry a warning")
    got = {}
    for t in doc["threads"]:
        check(t["tid"] not in got, "thread %s listed twice" % t["tid"])
        got[t["tid"]] = t
    want = {t["tid"]: t for t in truth["threads"]}
    if a.expect_partial:
        check(0 < len(got) < len(want), "partial: %d of %d threads listed" % (len(got), len(want)))
        check(set(got) <= set(want), "partial: unknown threads %s" % sorted(set(got) - set(want)))
    else:
        check(set(got) == set(want), "threads: got %s, truth %s" % (sorted(got), sorted(want)))
    for tid, wt in want.items():
        gt = got.get(tid)
        if gt is None:
            continue
        role = wt["role"]
        gf = gt["frames"]
        wf = wt["frames"]
        short = lambda fs: [(f["function"], os.path.basename(f["file"]), f["line"]) for f in fs]
        check(short(gf) == short(wf) and [f["file"] for f in gf] == [f["file"] for f in wf],
              "thread %s (%s) frames differ:\n  got   %s\n  truth %s" % (tid, role, short(gf), short(wf)))
        for i, f in enumerate(wf):
            if f["locals"] is None or i >= len(gf):
                continue
            gl = gf[i].get("locals") or {}
            for name, rendering in f["locals"].items():
                check(same_local(gl.get(name), rendering),
                      "thread %s (%s) frame %d %s local %s: got %r, truth %r" % (tid, role, i, f["function"], name,
                                                                                 gl.get(name), rendering))
        check(gt["crashed"] == wt["main"], "thread %s (%s) crashed=%s" % (tid, role, gt["crashed"]))
        # The name threading.Thread gave it (read from threading._active).
        check(gt.get("name") == wt["name"], "thread %s (%s) name %r, expected %r" % (tid, role, gt.get("name"), wt["name"]))
        if gt["gil"] is not None:
            check(gt["gil"] == wt["main"], "thread %s (%s) gil=%s" % (tid, role, gt["gil"]))
    if not a.expect_partial:
        # summary shows the crashed (aborting) thread's innermost frames.
        mains = [t for t in truth["threads"] if t["main"]]
        check(len(mains) == 1, "the truth names %d aborting threads" % len(mains))
        r = subprocess.run([a.coreheap, "summary", a.core, "--json"], capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "summary exit status %d; stderr: %s" % (r.returncode, r.stderr.strip()))
        ct = json.loads(r.stdout).get("crashed_thread") if r.returncode == 0 else None
        check(ct is not None, "summary has no crashed_thread")
        if ct is not None and mains:
            wf = mains[0]["frames"]
            key = lambda fs: [(f["function"], f["file"], f["line"]) for f in fs]
            check(ct["tid"] == mains[0]["tid"], "summary crashed_thread tid %s, truth %s" % (ct["tid"], mains[0]["tid"]))
            check(len(ct["frames"]) >= 1 and key(ct["frames"]) == key(wf[:len(ct["frames"])])
                  and len(ct["frames"]) == min(len(wf), 5),
                  "summary crashed_thread frames %s, truth %s" % (key(ct["frames"]), key(wf[:5])))
    print("check_stacks: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
