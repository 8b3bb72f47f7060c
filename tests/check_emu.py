#!/usr/bin/env python3
"""Compare coreheap with what fixtures/scenario_emu.py's process knew about
stdlib C GC types coreheap does not model (their references come from
their own tp_traverse, emulated):

  - `referents CORE ADDR... --json`: for every sample (live and garbage),
    the traversed targets equal gc.get_referents as multisets of
    addresses, and the object says "exact": true;
  - emulated samples (of GC types) have no conservative references, and
    labels come from tp_members names (TextIOWrapper buffer, re.Match
    string where Match is a GC type, 3.9+); the modelled
    functools.partial keeps its hand-written labels;
  - `cycles --json`: "exact": true, no conservative_types, and the
    unreachable objects by type equal gc.collect()'s garbage exactly.

Exit 0 pass, 1 fail, 77 skip (interpreter missing).
"""
import collections
import subprocess
import sys

import check_common

NAME = "check_emu"


def main():
    args, truth = check_common.standard_args(NAME)
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
        return ok

    check(not truth.get("self_check_errors"), "scenario self-check: %s" % truth.get("self_check_errors"))
    samples = truth["samples"]
    present = set(s["type"] for s in samples)
    for t in truth["emulated_types"]:
        check(t in present, "the scenario built no %s sample" % t)

    cmd = [args.coreheap, "referents", args.core] + [hex(s["address"]) for s in samples] + ["--json", "-q"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        print("FAIL: coreheap referents exited %d: %s" % (p.returncode, p.stderr.strip()))
        return 1
    import json
    doc = json.loads(p.stdout)
    by_addr = {int(o["object"]["address"], 16): o for o in doc["objects"]}
    labels_seen = collections.defaultdict(set)
    for s in samples:
        o = by_addr.get(s["address"])
        if not check(o is not None, "%s 0x%x: no referents entry" % (s["name"], s["address"])):
            continue
        obj = o["object"]
        check(obj.get("exact") is True, "%s 0x%x (%s): not exact: %s" % (s["name"], s["address"], s["type"],
                                                                         obj.get("conservative_reason")))
        refs = o.get("referents", [])
        got = collections.Counter(int(r["address"], 16) for r in refs if r["traversed"])
        want = collections.Counter(s["referents"])
        if got != want:
            missing = sorted(hex(a) for a in (want - got).elements())
            extra = sorted(hex(a) for a in (got - want).elements())
            check(False, "%s 0x%x (%s): referents differ from gc.get_referents: missing %s, extra %s"
                  % (s["name"], s["address"], s["type"], missing, extra))
        if s["name"] != "partial" and s["is_gc"]:
            check(not any(r["kind"] == "conservative" for r in refs),
                  "%s 0x%x (%s): conservative references" % (s["name"], s["address"], s["type"]))
        for r in refs:
            labels_seen[s["name"]].add(r["label"])
    check("buffer" in labels_seen["textio"], "_io.TextIOWrapper: no 'buffer' label from tp_members (labels: %s)"
          % sorted(labels_seen["textio"]))
    match_gc = any(s["name"] == "match" and s["is_gc"] for s in samples)
    check(not match_gc or "string" in labels_seen["match"],
          "re.Match: no 'string' label from tp_members (labels: %s)" % sorted(labels_seen["match"]))
    check(not any(l.startswith("+0x") or l == "(tp_traverse)" for l in labels_seen["partial"]),
          "functools.partial lost its hand-written labels: %s" % sorted(labels_seen["partial"]))

    d = check_common.run_json(NAME, args, ["cycles", args.core, "--limit", "0"])
    check(d.get("exact") is True, "cycles: not exact: %s" % d.get("conservative_types"))
    check(d.get("conservative_types") == [], "cycles: conservative_types %s" % d.get("conservative_types"))
    got = {t["type"]: t["count"] for t in d["unreachable"]["types"]}
    want = truth["unreachable"]
    for name in sorted(set(got) | set(want)):
        check(got.get(name, 0) == want.get(name, 0),
              "unreachable %s: gc.collect() found %d, coreheap %d" % (name, want.get(name, 0), got.get(name, 0)))
    check(d["unreachable"]["objects"] == truth["unreachable_total"],
          "unreachable total: gc.collect() found %d, coreheap %d" % (truth["unreachable_total"],
                                                                      d["unreachable"]["objects"]))
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("%s: %d samples, %d unreachable objects of %d types: equal" % (NAME, len(samples), truth["unreachable_total"],
                                                                          len(want)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
