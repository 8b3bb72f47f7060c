#!/usr/bin/env python3
"""Compare `coreheap path` and `coreheap top` with the truth that
fixtures/scenario_top_path.py recorded.

path (`coreheap path CORE ADDR --json`):
  * to the Request: exactly one path, whose hops (root first) have the
    recorded labels, addresses and types:
        sys.modules['app'] .__dict__ ['CACHE'] [17] .session .request
    (3.8-3.10 instance __dict__ hops are folded, so the chain is the same
    on every version), root kind "module"; the weak reference app.WEAK,
    a much shorter chain, must not be used;
  * with --all 5: exactly two paths, the same first one, then the chain
    through app.DEEP's five Boxes (the Request's only other owning
    referrer; the weakref is not one);
  * to the garbage cycle's Item: "reachable": false, no paths, exit 0;
  * to an address that is no object: exit 3.

top:
  * S = sum of coreheap's own full shallow sizes (from `find --type T
    --json --limit 0` for each type in the subtree) of exactly the
    recorded private subtree of the Holder. `top --by object --limit 10`
    lists the Holder with retained == S and retained_objects == the
    subtree's object count, and its root is sys.modules['app'];
  * `top --by type --limit 0`: the __main__.Payload row has objects ==
    the payload count and retained == S minus the Holder, its list and
    the Holder's __dict__ (no payload dominates another); the Holder row
    has retained == S; every row has shallow <= retained <= the reachable
    bytes; the rows' objects and shallow sizes add up to the reachable
    totals (each reachable object is in exactly one row); heap totals ==
    reachable + unreachable, and the unreachable part holds the garbage.
    (Retained totals of different rows overlap by design, so they are
    not summed.)

Usage: check_top_path.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed), 77 when
the interpreter is missing.
"""
import sys

from check_common import run_json, sizes_of, standard_args


def run(args, cmd, expect_rc=0):
    return run_json("check_top_path", args, cmd, expect_rc)


def hops_of(path):
    return [(h["label"], int(h["address"], 16), h["type"]) for h in path["hops"]]


def want_hops(chain):
    return [(h["label"], h["address"], h["type"]) for h in chain]


def check_path(args, truth, errors):
    target = truth["chain"][-1]["address"]
    doc = run(args, ["path", args.core, hex(target)])
    if not doc["reachable"] or len(doc["paths"]) != 1:
        errors.append("path to the Request: reachable %s, %d paths (expected 1)" % (doc["reachable"], len(doc["paths"])))
        return
    got, want = hops_of(doc["paths"][0]), want_hops(truth["chain"])
    if got != want:
        errors.append("path to the Request:\n    got  %s\n    want %s" % (got, want))
    labels = [h["label"] for h in truth["chain"]]
    want_chain = "".join(l if i == 0 or l.startswith("['") else " " + l for i, l in enumerate(labels))
    if doc["paths"][0].get("chain") != want_chain:
        errors.append("path chain %r, expected %r" % (doc["paths"][0].get("chain"), want_chain))
    root = doc["paths"][0]["root"]
    if root["kind"] != "module" or root["label"] != "sys.modules['app']":
        errors.append("path root is %s" % root)
    if int(doc["target"]["address"], 16) != target:
        errors.append("path target %s" % doc["target"])
    doc = run(args, ["path", args.core, hex(target), "--all", "5"])
    paths = doc["paths"]
    if len(paths) != 2:
        errors.append("path --all 5: %d paths, expected 2: %s" % (len(paths), [hops_of(p) for p in paths]))
    else:
        if hops_of(paths[0]) != want:
            errors.append("path --all 5: first path %s" % hops_of(paths[0]))
        if hops_of(paths[1]) != want_hops(truth["deep"]):
            errors.append("path --all 5: second path\n    got  %s\n    want %s"
                          % (hops_of(paths[1]), want_hops(truth["deep"])))
    doc = run(args, ["path", args.core, hex(truth["garbage"])])
    if doc["reachable"] or doc["paths"]:
        errors.append("path to the garbage: %s" % doc["paths"])
    run(args, ["path", args.core, "0x10"], expect_rc=3)


def check_top(args, truth, errors):
    sub = truth["subtree"]
    sizes = sizes_of("check_top_path", args, {o["type"] for o in sub})
    missing = [o for o in sub if o["address"] not in sizes]
    if missing:
        errors.append("%d subtree objects not found by coreheap find (first %s)" % (len(missing), missing[0]))
        return
    total = sum(sizes[o["address"]] for o in sub)
    holder = truth["holder"]
    doc = run(args, ["top", args.core, "--by", "object", "--limit", "10"])
    rows = {int(o["address"], 16): o for o in doc["objects"]}
    if holder not in rows:
        errors.append("top --by object --limit 10 does not list the Holder 0x%x" % holder)
    else:
        h = rows[holder]
        if h["retained"] != total or h["retained_objects"] != len(sub):
            errors.append("Holder retained %d bytes / %d objects, truth subtree %d bytes / %d objects"
                          % (h["retained"], h["retained_objects"], total, len(sub)))
        if not h["root"] or h["root"]["label"] != "sys.modules['app']":
            errors.append("Holder root %s" % h["root"])
    ret = [o["retained"] for o in doc["objects"]]
    if ret != sorted(ret, reverse=True):
        errors.append("top --by object not sorted by retained size")
    tot = doc["totals"]
    for key in ("objects", "bytes"):
        if tot["heap"][key] != tot["reachable"][key] + tot["not_reached"][key]:
            errors.append("totals: heap %s != reachable + not reached (%s)" % (key, tot))
        parts = tot["unreachable"][key] + tot["freed_with"][key] + tot["other_unreached"][key]
        if tot["not_reached"][key] != parts:
            errors.append("totals: not reached %s != unreachable + freed with + other (%s)" % (key, tot))
    cyc = run(args, ["cycles", args.core])
    if (tot["unreachable"]["objects"], tot["freed_with"]["objects"]) != (cyc["unreachable"]["objects"],
                                                                         cyc["freed_with"]["objects"]):
        errors.append("top's unreachable / freed with %s / %s, cycles says %s / %s"
                      % (tot["unreachable"], tot["freed_with"], cyc["unreachable"], cyc["freed_with"]))
    if tot["unreachable"]["objects"] < 2:
        errors.append("totals: the garbage cycle is not unreachable (%s)" % tot)

    doc = run(args, ["top", args.core, "--by", "type", "--limit", "0"])
    rows = {r["type"]: r for r in doc["types"]}
    reach = doc["totals"]["reachable"]
    if sum(r["objects"] for r in doc["types"]) != reach["objects"]:
        errors.append("top --by type: objects add up to %d, reachable %d"
                      % (sum(r["objects"] for r in doc["types"]), reach["objects"]))
    if sum(r["shallow"] for r in doc["types"]) != reach["bytes"]:
        errors.append("top --by type: shallow sizes add up to %d, reachable bytes %d"
                      % (sum(r["shallow"] for r in doc["types"]), reach["bytes"]))
    for r in doc["types"]:
        if not r["shallow"] <= r["retained"] <= reach["bytes"]:
            errors.append("top --by type: row %s has shallow %d, retained %d (reachable %d)"
                          % (r["type"], r["shallow"], r["retained"], reach["bytes"]))
    hold = rows.get("__main__.Holder")
    if not hold or hold["objects"] != 1 or hold["retained"] != total:
        errors.append("top --by type: Holder row %s, expected 1 object retaining %d" % (hold, total))
    pay = rows.get("__main__.Payload")
    # The payloads' part: the subtree minus the Holder, its list and (3.8-3.10) its __dict__.
    want = sum(sizes[o["address"]] for o in sub if o["part"] == "payload")
    if not pay or pay["objects"] != truth["payloads"] or pay["retained"] != want:
        errors.append("top --by type: Payload row %s, expected %d objects retaining %d" % (pay, truth["payloads"], want))
    return total


def main():
    args, truth = standard_args("check_top_path")
    errors = list(truth.get("self_check_errors", []))
    check_path(args, truth, errors)
    total = check_top(args, truth, errors)
    for e in errors:
        print("check_top_path: MISMATCH: %s" % e)
    if errors:
        return 1
    print("check_top_path: OK: %d-hop chain, Holder retains %d bytes in %d objects (CPython %s)"
          % (len(truth["chain"]), total, len(truth["subtree"]), truth["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
