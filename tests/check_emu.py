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
  - discovery: a str only an itertools.repeat holds is found by
    `referrers`, held (traversed) by that repeat object;
  - the same core with --sysroot links to every mapped file but the
    _asyncio extension: "exact": false, only the _asyncio types (and the
    _asyncio module) conservative, the reason naming the file;
  - `cycles --json --verify-traverse`: no traverse_mismatches (the emulated
    tp_traverse of every object of a modelled type agrees with coreheap's
    reader), "exact": true, no conservative_types, and the
    unreachable objects by type equal gc.collect()'s garbage exactly.

With --hostile (the core of `scenario_emu.py --hostile`, whose class
Hostile has a tp_traverse pointing at heap data): everything above except
exactness, and instead: "exact": false with exactly one conservative type,
Hostile, all its instances, a reason naming code outside the executable
mappings; unreachable by type never above gc.collect()'s and in total
below it (a lower bound, said so in the text output); `referents` of a
Hostile instance says "exact": false; `path` to a Hostile garbage
instance is not "reachable": false (cycles counts it reachable) and its
text never says "no root reaches it"; `snapshot` records the same
"exact"/"conservative_types" as cycles, and `diff` of the core with its
snapshot carries them on both sides, "exact": false overall, and its text
says NOT EXACT naming the type.

Exit 0 pass, 1 fail, 77 skip (interpreter missing).
"""
import collections
import json
import subprocess
import sys

import check_common

NAME = "check_emu"


def main():
    args, truth = check_common.standard_args(NAME, lambda ap: ap.add_argument("--hostile", action="store_true"))
    hostile = truth.get("hostile") if args.hostile else None
    if args.hostile and not hostile:
        print("FAIL: --hostile, but the truth has no hostile section")
        return 1
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

    # discovery: an untracked object only an emulated traverse reaches is
    # in the object table, held by that object
    repeat = [x for x in samples if x["name"] == "repeat"]
    for addr in truth.get("only_held", []):
        r = check_common.run_json(NAME, args, ["referrers", args.core, hex(addr)])
        holders = [int(x["address"], 16) for x in r.get("referrers", []) if x.get("traversed")]
        check(repeat and holders == [repeat[0]["address"]],
              "0x%x (held only by itertools.repeat 0x%x): referrers %s" % (
                  addr, repeat[0]["address"] if repeat else 0, r.get("referrers")))
    check(truth.get("only_held"), "the scenario recorded no only_held object")

    # cycles exits 0 either way: not exact is a verdict, not a partial read;
    # --verify-traverse: every modelled object's emulated traverse agrees
    d = check_common.run_json(NAME, args, ["cycles", args.core, "--limit", "0", "--verify-traverse"])
    check(d.get("traverse_mismatches") == [] and d["traverse_verified"]["objects"] > 0,
          "--verify-traverse: %s mismatches %s" % (d.get("traverse_verified"), d.get("traverse_mismatches", [])[:10]))
    got = {t["type"]: t["count"] for t in d["unreachable"]["types"]}
    want = truth["unreachable"]
    if hostile:
        check_hostile(args, truth, hostile, d, got, check)
    else:
        check(d.get("exact") is True, "cycles: not exact: %s" % d.get("conservative_types"))
        check(d.get("conservative_types") == [], "cycles: conservative_types %s" % d.get("conservative_types"))
        check_common.compare_unreachable(d, truth, check)
    if not hostile:
        check_missing_code(args, truth, check)
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("%s: %d samples equal; %d unreachable objects of %d types: %s" % (
        NAME, len(samples), truth["unreachable_total"], len(want),
        "a lower bound, said so (hostile core)" if hostile else "equal, exact"))
    return 0


def check_missing_code(args, truth, check):
    """The core read with --sysroot pointing at links to every mapped file
    but the _asyncio extension: its types (and the _asyncio module's
    state) cannot be emulated, which cycles must say, naming the file."""
    import os
    import tempfile
    files = check_common.core_mapped_files(args.core)
    asyncio = [f for f in files if "/_asyncio" in f]
    if not check(asyncio, "the core maps no _asyncio extension file to withhold"):
        return
    with tempfile.TemporaryDirectory(prefix="check_emu_sysroot") as root:
        for f in files:
            if f in asyncio or not f.startswith("/"):
                continue
            os.makedirs(os.path.dirname(root + f), exist_ok=True)
            os.symlink(f, root + f)
        d = check_common.run_json(NAME, args, ["cycles", args.core, "--sysroot", root])
    # (up to 3.11 the _asyncio types are static types whose names are in
    # the withheld file: coreheap calls them "<unnamed type 0x...>")
    ct = {t["type"]: t for t in d.get("conservative_types", [])}
    named = set(t for t in ct if not t.startswith("<unnamed type "))
    check(d.get("exact") is False and len(ct) >= 2
          and all(asyncio[0] in t["reason"] and "not usable here" in t["reason"] for t in ct.values())
          and named <= {"_asyncio.Future", "_asyncio.Task", "module"}
          and ct.get("module", {"objects": 1})["objects"] == 1,
          "without %s: exact %s, conservative_types %s" % (asyncio[0], d.get("exact"), d.get("conservative_types")))
    check(d["unreachable"]["objects"] < truth["unreachable_total"],
          "without the _asyncio code the unreachable figure %d is not below gc.collect()'s %d"
          % (d["unreachable"]["objects"], truth["unreachable_total"]))


def check_hostile(args, truth, hostile, d, got, check):
    want = truth["unreachable"]
    ct = d.get("conservative_types")
    check(d.get("exact") is False, "cycles: exact is %s on a hostile core" % d.get("exact"))
    check(isinstance(ct, list) and len(ct) == 1 and ct[0]["type"] == hostile["type"]
          and ct[0]["objects"] == hostile["objects"]
          and "code outside the checked executable mappings" in ct[0]["reason"],
          "cycles: conservative_types %s, expected %d objects of %s (code outside...)"
          % (ct, hostile["objects"], hostile["type"]))
    for name in sorted(set(got) | set(want)):
        check(got.get(name, 0) <= want.get(name, 0),
              "unreachable %s: coreheap %d above gc.collect()'s %d" % (name, got.get(name, 0), want.get(name, 0)))
    check(d["unreachable"]["objects"] < truth["unreachable_total"],
          "unreachable total %d is not below gc.collect()'s %d" % (d["unreachable"]["objects"],
                                                                  truth["unreachable_total"]))
    check(got.get(hostile["type"], 0) == 0, "hostile garbage found although its references are unknown")
    p = subprocess.run([args.coreheap, "cycles", args.core], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    check(p.returncode == 0 and "NOT EXACT" in p.stdout and "lower bound" in p.stdout and hostile["type"] in p.stdout,
          "cycles text does not say plainly that it is not exact (rc %d): %s" % (p.returncode, p.stdout[-400:]))
    check(hostile["type"] in p.stderr and "references read conservatively" in p.stderr
          and p.stderr.count(hostile["type"] + ":") == 1,
          "cycles: expected one warning naming %s: %s" % (hostile["type"], p.stderr))
    g = hex(hostile["garbage"][0])
    r = check_common.run_json(NAME, args, ["referents", args.core, g])
    check(r["object"].get("exact") is False and r["object"].get("conservative_reason"),
          "referents %s: %s" % (g, r["object"]))
    # one verdict per object: cycles counts it reachable, so path must not say no root reaches it
    pj = check_common.run_json(NAME, args, ["path", args.core, g])
    check(pj.get("reachable") is not False and pj.get("exact") is False,
          "path %s: reachable %s exact %s" % (g, pj.get("reachable"), pj.get("exact")))
    p = subprocess.run([args.coreheap, "path", args.core, g], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    check("no root reaches it" not in p.stdout and "NOT EXACT" in p.stdout,
          "path text for %s: %s" % (g, p.stdout.strip()))
    for cmd in (["summary"], ["top"], ["anomalies"]):
        doc = check_common.run_json(NAME, args, cmd + [args.core])
        check(doc.get("exact") is False and doc.get("conservative_types") == ct,
              "%s: exact %s conservative_types %s" % (cmd[0], doc.get("exact"), doc.get("conservative_types")))
    snap = args.core + ".snapshot.json"
    p = subprocess.run([args.coreheap, "snapshot", args.core, "-o", snap, "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    s = json.load(open(snap)) if p.returncode == 0 else {}
    check(s.get("exact") is False and s.get("conservative_types") == ct,
          "snapshot: exit %d, exact %s conservative_types %s" % (p.returncode, s.get("exact"), s.get("conservative_types")))
    doc = check_common.run_json(NAME, args, ["diff", args.core, snap])
    sides = [doc.get(k, {}) for k in ("a", "b")]
    check(doc.get("exact") is False and all(x.get("exact") is False and x.get("conservative_types") == ct for x in sides),
          "diff core snapshot: exact %s, sides %s" % (doc.get("exact"), [(x.get("exact"), x.get("conservative_types"))
                                                                         for x in sides]))
    p = subprocess.run([args.coreheap, "diff", args.core, snap, "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    check(p.stdout.count("NOT EXACT") == 2 and hostile["type"] in p.stdout,
          "diff text does not say both sides are not exact: %s" % p.stdout[:600])


if __name__ == "__main__":
    sys.exit(main())
