#!/usr/bin/env python3
"""Compare `coreheap referrers` and `coreheap find` with the truth that
fixtures/scenario_referrers.py recorded.

referrers, for every target (`coreheap referrers CORE ADDR --json --limit 0`):
  * the object is found, with the recorded type;
  * R = the set of referrer addresses coreheap reports, T = the recorded
    gc.get_referrers ids except frames, U = the recorded untracked holders.
    The rule is R == T | U | F, where F are referrers of type "frame":
      - gc.get_referrers scans only GC-tracked objects, so a holder the
        collector untracked (the scenario's tuples of atomic items, on
        3.8-3.13 its dict of atomic values, on 3.15+ its frozenset of atomic
        items) is invisible to it, while coreheap's graph reaches
        untracked objects through references: those are U, and must be
        reported;
      - frames are excluded on both sides: the recorder child's own frames
        (3.8-3.10 frame objects, or a materialized 3.11+ frame) may briefly
        hold a target and do not exist in the parent that dumped, while the
        parent's frames hold none by construction (targets live in globals
        and holders only); coreheap may list a frame, the test ignores it.
    Nothing else may be extra and nothing recorded may be missing. The
    recorded type of each referrer must equal coreheap's.
  * every reported referrer of the Target instance and the list is traversed
    (all holders are GC containers whose tp_traverse visits the reference).

find, for each scenario class C (`coreheap find CORE --type C --json --limit 0`):
  * the addresses equal the ids of the recorded instances of exactly C;
  * with --subclasses they equal the union over the classes whose __mro__
    contains C (Multi(Mixin, Base) has Base on its MRO, not on its tp_base
    chain);
  * the list is sorted by size descending, then address; total == len;
  * an unknown name gives an empty list and exit 0.

Usage: check_referrers.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed), 77 when
the interpreter is missing.
"""
import sys

from check_common import run_json, standard_args


def run(args, cmd, expect_rc=0):
    return run_json("check_referrers", args, cmd, expect_rc)


def check_referrers(args, t, errors):
    doc = run(args, ["referrers", args.core, hex(t["address"]), "--limit", "0"])
    where = "referrers of %s (%s at 0x%x)" % (t["name"], t["type"], t["address"])
    if doc["object"]["type"] != t["type"]:
        errors.append("%s: object type %s" % (where, doc["object"]["type"]))
    if doc["total"] != len(doc["referrers"]):
        errors.append("%s: total %d but %d listed" % (where, doc["total"], len(doc["referrers"])))
    got = {}
    for r in doc["referrers"]:
        if r["type"] == "frame":
            continue
        got[int(r["address"], 16)] = r
    want = {r["address"]: r["type"] for r in t["referrers"] if r["type"] != "frame"}
    untracked = set(t["untracked_holders"])
    for a, ty in sorted(want.items()):
        if a not in got:
            errors.append("%s: tracked referrer %s at 0x%x missing" % (where, ty, a))
        elif got[a]["type"] != ty:
            errors.append("%s: referrer 0x%x is %s, recorded %s" % (where, a, got[a]["type"], ty))
    for a in sorted(untracked - set(got)):
        errors.append("%s: untracked holder 0x%x missing" % (where, a))
    for a in sorted(set(got) - set(want) - untracked):
        errors.append("%s: unexplained referrer %s at 0x%x (%s)" % (where, got[a]["type"], a, got[a]["label"]))
    if t["name"] != "str":
        for a, r in sorted(got.items()):
            if not r["traversed"]:
                errors.append("%s: reference from %s at 0x%x (%s) not traversed" % (where, r["type"], a, r["label"]))
    return len(got)


def check_find(args, truth, name, subclasses, errors):
    cmd = ["find", args.core, "--type", name, "--limit", "0"] + (["--subclasses"] if subclasses else [])
    doc = run(args, cmd)
    where = "find --type %s%s" % (name, " --subclasses" if subclasses else "")
    classes = truth["subclasses"][name] if subclasses else [name]
    want = set()
    for c in classes:
        want |= set(truth["classes"][c])
    objs = doc["objects"]
    got = [int(o["address"], 16) for o in objs]
    if set(got) != want or len(got) != len(want):
        errors.append("%s: %d objects, expected %d (missing %s, extra %s)"
                      % (where, len(got), len(want), [hex(a) for a in sorted(want - set(got))],
                         [hex(a) for a in sorted(set(got) - want)]))
    keys = [(-o["size"], int(o["address"], 16)) for o in objs]
    if keys != sorted(keys):
        errors.append("%s: not sorted by size descending then address" % where)
    if doc["total"] != len(objs) or doc["type"] != name:
        errors.append("%s: total %d / type %s" % (where, doc["total"], doc["type"]))
    for o in objs:
        if o["type"] not in classes:
            errors.append("%s: object %s has type %s" % (where, o["address"], o["type"]))


def main():
    args, truth = standard_args("check_referrers")
    errors = list(truth.get("self_check_errors", []))
    n = 0
    for t in truth["targets"]:
        n += check_referrers(args, t, errors)
    for name in sorted(truth["classes"]):
        check_find(args, truth, name, False, errors)
        check_find(args, truth, name, True, errors)
    doc = run(args, ["find", args.core, "--type", "no_such_module.NoSuchType"])
    if doc["objects"] or doc["total"]:
        errors.append("find of an unknown type name returned objects")
    run(args, ["referrers", args.core, "0x10"], expect_rc=3)
    for e in errors:
        print("check_referrers: MISMATCH: %s" % e)
    if errors:
        return 1
    print("check_referrers: OK: %d targets, %d referrers, %d classes (CPython %s)"
          % (len(truth["targets"]), n, len(truth["classes"]), truth["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
