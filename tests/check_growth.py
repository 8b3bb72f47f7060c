#!/usr/bin/env python3
"""`coreheap diff`'s growth suspects on two dumps of a growing program:
fixtures/scenario_suspects.py (A, the leak variant) and the same with a
cache twice as big (B, --grow), two processes, so nothing matches by
address.

`diff A B --json` (cores) and `diff snapshot(A) B --json`: growth[0] is the
cache, sys.modules['app'].CACHE, with elements_a/elements_b the lengths
both processes recorded and retained_delta the difference of `suspects`'s
retained bytes for it on each side (which check_suspects ties to the
process's own objects); no other container grew by more than a tenth of
that. `diff A A` lists no growth.

Usage: check_growth.py --python PY --coreheap BIN --core A --truth A.json --core-b B --truth-b B.json
Exit 0 when everything holds, 1 otherwise, 77 when the interpreter is missing.
"""
import json
import os
import sys

from check_common import run_json, standard_args

CACHE = "sys.modules['app'].CACHE"


def extra(ap):
    ap.add_argument("--core-b", required=True)
    ap.add_argument("--truth-b", required=True)


def main():
    args, truth = standard_args("check_growth", extra)
    with open(args.truth_b) as f:
        truth_b = json.load(f)
    errors = list(truth.get("self_check_errors", [])) + list(truth_b.get("self_check_errors", []))

    def cache_bytes(core):
        doc = run_json("check_growth", args, ["suspects", core, "--limit", "0"])
        hits = [s["bytes"] for s in doc["suspects"] if s["kind"] == "accumulation" and s["path"] == CACHE]
        return hits[0] if hits else None

    ra, rb = cache_bytes(args.core), cache_bytes(args.core_b)
    if ra is None or rb is None:
        errors.append("no cache suspect on a side (%s, %s)" % (ra, rb))
    snap = args.core + ".growth-snapshot.json"
    run_json("check_growth", args, ["snapshot", args.core, "-o", snap])
    for a in (args.core, snap):
        doc = run_json("check_growth", args, ["diff", a, args.core_b])
        growth = doc.get("growth") or []
        if not growth:
            errors.append("diff %s B: no growth listed" % os.path.basename(a))
            continue
        g = growth[0]
        want = (CACHE, truth["leaks"]["cache"]["count"], truth_b["leaks"]["cache"]["count"])
        if (g["path"], g["elements_a"], g["elements_b"]) != want:
            errors.append("diff %s B: first growth %s, expected %s" % (os.path.basename(a), g, want))
        elif ra is not None and rb is not None and g["retained_delta"] != rb - ra:
            errors.append("diff %s B: retained_delta %d, suspects say %d - %d"
                          % (os.path.basename(a), g["retained_delta"], rb, ra))
        others = [x for x in growth[1:] if x["retained_delta"] * 10 > g["retained_delta"]]
        if others:
            errors.append("diff %s B: other containers grew too: %s" % (os.path.basename(a), others[:3]))
    doc = run_json("check_growth", args, ["diff", args.core, args.core])
    if doc.get("growth"):
        errors.append("diff A A lists growth: %s" % doc["growth"][:3])
    for e in errors:
        print("check_growth: MISMATCH: %s" % e)
    if errors:
        return 1
    print("check_growth: OK: %s grew %d -> %d elements, %+d bytes (CPython %s)"
          % (CACHE, truth["leaks"]["cache"]["count"], truth_b["leaks"]["cache"]["count"], rb - ra, truth["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
