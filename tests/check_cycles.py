#!/usr/bin/env python3
"""Compare `coreheap cycles --json` with what the dumped process knew.

The truth comes from fixtures/scenario_heap.py: its forked child ran
gc.collect() under gc.DEBUG_SAVEALL and recorded gc.garbage by type
("unreachable"), and the scenario listed the cycle shapes it built
("known_cycles"). Required:
  - unreachable objects by type equal the child's gc.garbage, exactly,
    and the total equals len(gc.garbage) from that collection;
  - every constructed shape is a group with the right member types (dict
    members, i.e. 3.8-3.10 instance dicts, are ignored as coreheap folds
    them into their owners), at least the constructed number of
    components, the finalizer mark, and the listed closing edges;
  - the result is not partial.
Exit 0 only when every check ran and passed."""
import argparse
import json
import subprocess
import sys

import check_common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    a = ap.parse_args()
    with open(a.truth) as f:
        truth = json.load(f)
    p = subprocess.run([a.coreheap, "cycles", a.core, "--json", "--limit", "0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    passed, failed = 0, []

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failed.append(what)

    if p.returncode != 0:
        print(p.stderr)
        print("check_cycles: 0 passed, 1 failed (coreheap exited %d)" % p.returncode)
        return 1
    d = json.loads(p.stdout)
    check(d["partial"] is False, "partial is %r: %r" % (d["partial"], d["warnings"]))
    check_common.compare_unreachable(d, truth, check)
    check(len(truth["known_cycles"]) >= 4, "the scenario recorded too few cycle shapes to test")
    groups = []
    for g in d["groups"]:
        comp = {t["type"]: t["count"] for t in g["types"] if t["type"] != "dict"}
        groups.append((comp, g))
    for kc in truth["known_cycles"]:
        match = [g for comp, g in groups if comp == kc["types"]]
        check(len(match) >= 1, "no cycle group with types %r" % kc["types"])
        if not match:
            continue
        n = sum(g["count"] for g in match)
        check(n >= kc["count"], "types %r: %d cycles built, coreheap groups %d" % (kc["types"], kc["count"], n))
        check(all(g["finalizers"] == kc["finalizers"] for g in match),
              "types %r: finalizers should be %r" % (kc["types"], kc["finalizers"]))
        for e in kc["edges"]:
            check(any(e in x for g in match for x in g["edges"]),
                  "types %r: no closing edge %r in %r" % (kc["types"], e, [g["edges"] for g in match]))
    for f in failed:
        print("MISMATCH:", f)
    print("check_cycles: %d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
