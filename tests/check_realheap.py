#!/usr/bin/env python3
"""Compare coreheap with what a real program knew at the dumped instant
(the realheap scenarios: mypy, asyncio, lxml/yaml/SQLAlchemy/numpy; truth
written by fixtures/realheap_record.py).

Checks, each failing the test:
 1. referents: for every sampled object (up to 20 of every GC type present,
    extension types included) the references `coreheap referents --json`
    reports with "traversed": true, as a multiset of addresses, equal the
    id()s gc.get_referents returned (exactly what tp_traverse visits).
 2. unreachable: `coreheap cycles --json --limit 0` by type equals what
    gc.collect() under DEBUG_SAVEALL moved to gc.garbage, and the totals
    are equal; the result is not partial.
 3. exactness is stated: the cycles and summary documents carry "exact"
    (a missing field fails: nothing says whether the figures can be
    trusted) and agree on it and on the unreachable total.
    With "exact": false, a difference in 1 or 2 is accepted only when all
    of these hold (else the test fails as for "exact": true):
      a. "conservative_types" lists at least one type, each entry with a
         type, objects > 0 and a reason;
      b. each listed type is one the scenario allows to stay conservative
         (truth "allow_conservative", e.g. containers that are not GC
         types); any other type must be exact;
      c. the unreachable figure is a lower bound: for every type coreheap's
         count <= gc.collect()'s (conservative references can only keep
         more alive; counting a live object as garbage is never excused);
      d. a sampled object whose traversed references differ is of a listed
         type and every id() gc.get_referents returned is among the
         references coreheap reports for it (of any kind).
 5. numpy object arrays (truth "object_arrays", the packages scenario):
    ndarray is not a GC type, so gc.get_referents sees none of their
    items and the process recorded them itself. For every recorded array
    the "index" references `coreheap referents` reports are exactly its
    items, as (label, id()) pairs ("[3]", "[1, 2]", "[()]"; a view, which
    owns no items, has none), none of them traversed; and objects nothing
    but an array holds (up to ARRAY_REFERRERS of them, of several shapes)
    are in the graph: `coreheap referrers` names that array, by that label.
    With truth "numpy_layout_unknown" (the scenario claimed a numpy whose
    layout coreheap has not), instead: "exact": false, numpy.ndarray in
    conservative_types with every array (ndarray objects of the truth's
    types table are GC-untracked, so at least the recorded arrays) and a
    reason naming that numpy version, and no array reports items.
Prints one row per type with a mismatch (kind, objects sampled, objects
whose references differ, references missing / extra, gc.collect() vs
coreheap garbage) and a totals line; --report FILE writes the same as JSON.

Usage: check_realheap.py --python PY --coreheap BIN --core CORE --truth TRUTH
                         [--debug-dir DIR] [--report FILE]
Exit 0 when every check passed, 1 otherwise, 77 when the interpreter or the
scenario's packages were missing (the reason printed).
"""
import collections
import json
import subprocess
import sys

import check_common

NAME = "check_realheap"
CHUNK = 3000  # addresses per `referents` call (argument length)
EXAMPLES = 8  # mismatching types shown with an example object
GARBAGE_PER_TYPE = 3  # garbage ids recorded per type (fixtures/realheap_record.py)
ARRAY_REFERRERS = 6  # items held only by an object array whose `referrers` is checked (one analysis each)
PATH_SAMPLES = 12  # garbage objects whose `path` is checked (about 1 s each on the mypy core)


def coreheap(args, cmd):
    extra = ["--debug-dir", args.debug_dir] if args.debug_dir else []
    p = subprocess.run([args.coreheap] + cmd + extra + ["--json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=600)
    return p.returncode, p.stdout, p.stderr.strip()


def referents(args, samples):
    """{address: referents entry or {"error": text}}"""
    docs = {}
    for i in range(0, len(samples), CHUNK):
        part = samples[i:i + CHUNK]
        rc, out, err = coreheap(args, ["referents", args.core] + [hex(s["address"]) for s in part])
        if rc not in (0, 3, 5) or not out.strip():
            raise SystemExit("%s: FAIL: coreheap referents exited %d: %s" % (NAME, rc, err))
        d = json.loads(out)
        for e in d["objects"] if "objects" in d else [d]:
            if "object" in e:
                docs[int(e["object"]["address"], 16)] = e
            elif "address" in e:
                docs[int(e["address"], 16)] = {"error": e.get("error", "no entry")}
    return docs


def compare_referents(samples, docs):
    """Per type: {"objects": n, "differ": n, "missing": n, "extra": n,
    "covered": objects whose true referents all appear among coreheap's}."""
    rows = collections.defaultdict(lambda: collections.Counter())
    examples = {}
    for s in samples:
        row = rows[s["type"]]
        row["objects"] += 1
        doc = docs.get(s["address"])
        want = collections.Counter(s["referents"])
        if doc is None or "error" in doc:
            row["differ"] += 1
            row["missing"] += sum(want.values())
            examples.setdefault(s["type"], "0x%x: %s" % (s["address"], (doc or {}).get("error", "no entry")))
            continue
        refs = doc["referents"]
        got = collections.Counter(int(r["address"], 16) for r in refs if r["traversed"])
        if got == want:
            continue
        row["differ"] += 1
        row["missing"] += sum((want - got).values())
        row["extra"] += sum((got - want).values())
        if set(want) <= {int(r["address"], 16) for r in refs}:
            row["covered"] += 1
        examples.setdefault(s["type"], "0x%x: missing %s extra %s" % (
            s["address"], sorted(hex(a) for a in (want - got))[:4], sorted(hex(a) for a in (got - want))[:4]))
    return rows, examples


def check_verdicts(args, truth, kinds, exact, check):
    """Check 4: one verdict in every report. top, anomalies and path say
    "exact" as cycles does; `path` on garbage gc.collect() found (up to
    PATH_SAMPLES objects, extension types first) says no root reaches it,
    unless the result is not exact (conservative references may keep
    garbage alive: a lower bound)."""
    for cmd in (["top", args.core, "--limit", "1"], ["anomalies", args.core, "--limit", "1"]):
        rc, out, err = coreheap(args, cmd)
        doc = json.loads(out) if out.strip() else {}
        check(rc in (0, 1) and doc.get("exact") == exact,
              '%s says "exact": %r (exit %d %s), cycles %r' % (cmd[0], doc.get("exact"), rc, err, exact))
    order = sorted(truth["garbage_samples"], key=lambda n: (not kinds.get(n, "").startswith("extension"), n))
    picked = [(n, a) for i in range(GARBAGE_PER_TYPE) for n in order
              if i < len(truth["garbage_samples"][n]) for a in [truth["garbage_samples"][n][i]]][:PATH_SAMPLES]
    args.path_checked = len(picked)
    if picked:
        # The heap is under the size that gets an index by itself: index it
        # now so the paths below load it instead of each re-reading the heap
        # (the commands above read it from the core).
        rc, out, err = coreheap(args, ["index", args.core])
        check(rc in (0, 1), "index: exit %d %s" % (rc, err))
    for name, addr in picked:
        rc, out, err = coreheap(args, ["path", args.core, hex(addr)])
        doc = json.loads(out) if out.strip() else {}
        if not check(rc == 0 and "reachable" in doc, "path 0x%x (garbage %s): exit %d %s" % (addr, name, rc, err)):
            continue
        check(doc.get("exact") == exact, 'path says "exact": %r, cycles %r' % (doc.get("exact"), exact))
        check(not doc["reachable"] or exact is False,
              "path 0x%x (%s, garbage for gc.collect()): a root reaches it: %s" % (
                  addr, name, (doc.get("paths") or [{}])[0].get("chain", "?")))


def check_object_arrays(args, truth, check):
    """Check 5 (see the module doc). Returns the number of arrays checked."""
    arrays = truth.get("object_arrays") or []
    if not arrays:
        return 0
    docs = referents(args, arrays)
    claimed = truth.get("numpy_layout_unknown")
    if claimed:
        rc, out, err = coreheap(args, ["cycles", args.core, "--limit", "1"])
        doc = json.loads(out) if out.strip() else {}
        row = [c for c in doc.get("conservative_types", []) if c.get("type") == "numpy.ndarray"]
        check(doc.get("exact") is False and row and row[0]["objects"] >= len(arrays) and
              "no layout for numpy %s" % claimed in row[0].get("reason", ""),
              "numpy %s claimed: cycles exact %r, numpy.ndarray row %r" % (claimed, doc.get("exact"), row))
        for a in arrays:
            refs = (docs.get(a["address"]) or {}).get("referents", [])
            check(not any(r["kind"] == "index" for r in refs),
                  "numpy %s claimed: object array 0x%x still reports items" % (claimed, a["address"]))
        return len(arrays)
    for a in arrays:
        doc = docs.get(a["address"])
        if not check(doc is not None and "error" not in doc, "referents of object array 0x%x: %s" % (
                a["address"], (doc or {}).get("error", "no entry"))):
            continue
        got = sorted((r["label"], int(r["address"], 16)) for r in doc["referents"] if r["kind"] == "index")
        want = sorted((label, addr) for label, addr in a["items"])
        check(got == want, "object array 0x%x: items %s, the process had %s" % (
            a["address"], [(l, hex(x)) for l, x in got][:6], [(l, hex(x)) for l, x in want][:6]))
        check(not any(r["traversed"] for r in doc["referents"]),
              "object array 0x%x: a reference reported traversed (ndarray has no tp_traverse)" % a["address"])
    shapes = {}
    for a in arrays:
        for label, addr in a["items"]:
            if addr in a["held_only_here"]:
                shapes.setdefault(label.count(",") if label != "[()]" else -1, []).append((a["address"], label, addr))
    picked = [p for i in range(ARRAY_REFERRERS) for group in shapes.values() if i < len(group)
              for p in [group[i]]][:ARRAY_REFERRERS]
    for arr, label, addr in picked:
        rc, out, err = coreheap(args, ["referrers", args.core, hex(addr), "--limit", "0"])
        doc = json.loads(out) if rc == 0 and out.strip() else {}
        refs = [(int(r["address"], 16), r["label"]) for r in doc.get("referrers", [])]
        check((arr, label) in refs, "0x%x, held only by object array 0x%x as %s: referrers exit %d %s, found %s" % (
            addr, arr, label, rc, err, refs[:4]))
    return len(arrays)


def main():
    def extra(ap):
        ap.add_argument("--debug-dir")
        ap.add_argument("--report")
    args, truth = check_common.standard_args(NAME, extra)
    failed = []

    def check(ok, what):
        if not ok:
            failed.append(what)
        return ok

    check(not truth["self_check_errors"], "scenario self-check: %s" % truth["self_check_errors"])
    samples = truth["samples"]
    rows, examples = compare_referents(samples, referents(args, samples))

    rc, out, err = coreheap(args, ["cycles", args.core, "--limit", "0"])
    if rc != 0 or not out.strip():
        print("%s: FAIL: coreheap cycles exited %d: %s" % (NAME, rc, err))
        return 1
    cyc = json.loads(out)
    rc, out, err = coreheap(args, ["summary", args.core])
    summ = json.loads(out) if out.strip() else {}
    check(rc == 0, "summary exited %d: %s" % (rc, err))
    check(cyc["partial"] is False, "cycles partial: %r" % cyc["warnings"])

    got_g = collections.Counter()
    for t in cyc["unreachable"]["types"]:  # one row per type object: several may share a name
        got_g[t["type"]] += t["count"]
    want_g = truth["unreachable"]
    exact = cyc.get("exact")
    conservative = cyc.get("conservative_types", [])
    cons_types = {c.get("type") for c in conservative}
    check(exact is not None, 'cycles JSON has no "exact": it does not say whether its figures are exact')
    check(summ.get("exact") == exact, 'summary says "exact": %r, cycles %r' % (summ.get("exact"), exact))
    check(summ.get("unreachable", {}).get("objects") == cyc["unreachable"]["objects"],
          "summary counts %r unreachable, cycles %d" % (summ.get("unreachable", {}).get("objects"),
                                                       cyc["unreachable"]["objects"]))
    excused = exact is False
    if excused:
        for c in conservative:
            ok = check(isinstance(c.get("objects"), int) and c["objects"] > 0 and c.get("reason"),
                       "conservative_types entry without objects or reason: %r" % c)
            ok = check(c.get("type") in truth["allow_conservative"],
                       "%s kept conservative (%s); the scenario requires it exact" % (c.get("type"), c.get("reason"))) and ok
            excused = excused and ok
        excused = check(bool(conservative), '"exact": false with no conservative_types') and excused

    gdiff = {}
    for name in sorted(set(got_g) | set(want_g)):
        g, w = got_g.get(name, 0), want_g.get(name, 0)
        if g != w:
            gdiff[name] = (w, g)
    total_w, total_g = truth["unreachable_total"], cyc["unreachable"]["objects"]
    if gdiff or total_g != total_w:
        lower_bound = all(g <= w for w, g in gdiff.values()) and total_g <= total_w
        check(excused and lower_bound, "unreachable: gc.collect() %d, coreheap %d (%d types differ%s)" % (
            total_w, total_g, len(gdiff), "" if lower_bound else "; coreheap counts live objects as garbage"))
    kinds = {n: v["kind"] for n, v in truth["types"].items()}
    bad = [n for n, r in rows.items() if r["differ"]]
    unexcused = [n for n in bad if not (excused and n in cons_types and rows[n]["covered"] == rows[n]["differ"])]
    check(not unexcused, "referents differ for %d types (table above), e.g. %s" % (
        len(unexcused), "; ".join("%s %s" % (n, examples[n]) for n in sorted(unexcused)[:EXAMPLES])))

    check_verdicts(args, truth, kinds, exact, check)
    n_arrays = check_object_arrays(args, truth, check)

    names = sorted(set(bad) | set(gdiff), key=lambda n: (kinds.get(n, "?"), n))
    if names:
        print("%-48s %-18s %7s %6s %7s %6s %9s %9s" % ("type", "kind", "sampled", "differ", "missing", "extra",
                                                     "gc.garbage", "coreheap"))
        for n in names:
            r = rows.get(n, collections.Counter())
            w, g = gdiff.get(n, (want_g.get(n, 0), got_g.get(n, 0)))
            print("%-48s %-18s %7d %6d %7d %6d %9d %9d" % (n[:48], kinds.get(n, "?"), r["objects"], r["differ"],
                                                       r["missing"], r["extra"], w, g))
    n_diff = sum(rows[n]["differ"] for n in bad)
    print("%s: %s (%s): referents %d objects of %d types, %d differ in %d types (%d extension types, %d differ); "
          "unreachable gc.collect() %d, coreheap %d; exact %r%s; %d object arrays; layout from %s" % (
              NAME, truth["scenario"], truth["version"], len(samples), len(rows), n_diff, len(bad),
              sum(1 for n in rows if kinds.get(n, "").startswith("extension")),
              sum(1 for n in bad if kinds.get(n, "").startswith("extension")),
              total_w, total_g, exact, "" if not conservative else ", conservative: %s" % sorted(cons_types), n_arrays,
              cyc.get("runtime", {}).get("layout_source", "?")))
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"scenario": truth["scenario"], "version": truth["version"], "exact": exact,
                       "conservative_types": conservative, "unreachable": [total_w, total_g],
                       "unreachable_types": gdiff, "kinds": kinds,
                       "referents": {n: dict(r) for n, r in rows.items()},
                       "path_checked": args.path_checked, "failed": failed}, f, indent=1)
    for f in failed:
        print("FAIL:", f)
    print("%s: %s" % (NAME, "FAILED (%d)" % len(failed) if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
