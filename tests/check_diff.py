#!/usr/bin/env python3
"""Compare `coreheap snapshot` / `coreheap diff` with what the dumped
program recorded (fixtures/scenario_diff.py: one program dumped at step 1
by a forked child and at step 2 by itself), and check gating and formats.

  diff     `diff CORE1 CORE2 --json`: for each of the scenario's classes
           whose recorded gc.get_objects() count changed, a row with
           count_a/count_b equal to the recorded counts and the right
           status (new, grown, shrunk, gone); no row for a class whose
           count did not change, nor for any other __main__ type; rows
           sorted by bytes_delta, count_delta, name. unreachable objects
           on each side equal len(gc.garbage) after the recorder's
           gc.collect(); the gc thresholds each side recorded, "thresholds"
           listed as changed and "enabled" not; the LeakA <-> LeakB shape
           new with the number of leaked cycles.
  snapshot one line, "schema": 1, "retainers" equal to `top --by type
           --limit 100`, types sorted by name with the counts of
           `types --json`, byte-identical when made twice; `diff` of two
           snapshots (and of a core and a snapshot) equals `diff` of the
           two cores; `diff` of a core and its own snapshot is empty.
  gating   --fail-if on diff, summary and cycles: every comparison
           operator both ways, and/&&, or/||, not/!, parentheses, units,
           strings, a./b. sides, several conditions; exit 1 and the
           condition named on stderr when one holds, 0 otherwise; malformed
           expressions exit 2 before any core is opened; a type name of
           no input (a bare or misspelt name) exits 2 with one line naming
           it and the type it may have meant, and no report; a class with
           no instance left, or a type of A only in a diff, is known.
  ndjson   types, cycles, diff: every line is JSON, the rows are the
           --json arrays in order and the last line is the rest.
  memory   each dumping process recorded its own mallinfo2() and
           sys._debugmallocstats() last before aborting (TRUTH.mem1.*,
           TRUTH.mem2.*; the bound is 0, as in check_memory.py: nothing
           between those calls and the abort calls malloc). `diff`'s memory
           figures: the ten glibc.mallinfo2.* deltas equal the differences
           of the recorded fields, and each side's value equals its record;
           pymalloc's arenas, bytes in allocated and in available blocks
           likewise (required from 3.8; compared wherever coreheap reads
           pymalloc);
           the breakdown's "glibc: mmapped chunks" delta equals hblkhd's,
           and the breakdown deltas add up to total.virtual's. The step's
           native mallocs (truth "native2": N blocks of SIZE) make the
           in-use chunks grow by at least N chunks of that size. The same
           rows come out of two snapshots. A snapshot without its "memory"
           key (as written before coreheap recorded it) still loads; diff
           then says the memory comparison is unavailable (JSON
           memory.available false with why, text "comparison unavailable").
  exact    each snapshot records the verdict of its analysis ("exact",
           "conservative_types" as `cycles --json` says them); `diff`
           carries them per side and says "exact" overall only when both
           sides are; a side that is not exact (a snapshot edited to be
           so) is carried with its types and said NOT EXACT in the text;
           a snapshot without the verdict (an earlier coreheap) gives
           null, "exact": false and a note in the text; "exact": true
           beside conservative types is an input error.
  schema   (--language) a snapshot with a newer schema is refused (exit 4)
           saying so; a JSON file that is not a snapshot, invalid JSON and
           a malformed field (a memory figure that is not a count, a memory
           key that is not an object) are input errors (exit 3) naming the
           problem; a snapshot without "memory" (above) loads.

--language adds what does not depend on the interpreter: the --fail-if
language (operators, malformed expressions, unknown names) and how a
snapshot file is validated (schema, and the memory-less snapshot).

Usage: check_diff.py --coreheap BIN --core1 CORE --core2 CORE --truth TRUTH --workdir DIR [--language]
Exit 0 when every check passed, 1 otherwise (each failure printed).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_memory import bytes_freed_after, chunk_size, parse_mallocstats  # noqa: E402

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")
FAILED = []
PASSED = [0]


def check(ok, what):
    if ok:
        PASSED[0] += 1
    else:
        FAILED.append(what)
    return ok


def run(args, cmd, expect=None):
    p = subprocess.run([args.coreheap] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    # An ASan report exits 1, the --fail-if code: never let one pass as a condition.
    check(not any(m in p.stderr for m in SANITIZER_MARKS),
          "`coreheap %s` tripped a sanitizer:\n%s" % (" ".join(cmd), p.stderr[-3000:]))
    if expect is not None and p.returncode != expect:
        raise SystemExit("check_diff: `coreheap %s` exited %d (expected %d): %s"
                         % (" ".join(cmd), p.returncode, expect, p.stderr.strip()))
    return p


def run_json(args, cmd):
    return json.loads(run(args, cmd + ["--json", "-q"], 0).stdout)


def check_diff_doc(d, truth, where):
    s1, s2 = truth["step1"], truth["step2"]
    rows = {r["type"]: r for r in d["types"]}
    check(d["partial"] is False, "%s: partial %r" % (where, d["warnings"]))
    for name in truth["classes"]:
        c1, c2 = s1["types"][name], s2["types"][name]
        r = rows.get(name)
        if c1 == c2:
            check(r is None, "%s: %s did not change (%d objects), but is listed: %r" % (where, name, c1, r))
            continue
        if not check(r is not None, "%s: %s changed %d -> %d, but is not listed" % (where, name, c1, c2)):
            continue
        status = "new" if c1 == 0 else "gone" if c2 == 0 else "grown" if c2 > c1 else "shrunk"
        check((r["count_a"], r["count_b"], r["count_delta"], r["status"]) == (c1, c2, c2 - c1, status),
              "%s: %s recorded %d -> %d (%s), diff says %d -> %d (%+d, %s)"
              % (where, name, c1, c2, status, r["count_a"], r["count_b"], r["count_delta"], r["status"]))
        check(r["bytes_delta"] == r["bytes_b"] - r["bytes_a"], "%s: %s bytes_delta" % (where, name))
        check((r["bytes_delta"] > 0) == (c2 > c1), "%s: %s bytes_delta %d has the wrong sign"
              % (where, name, r["bytes_delta"]))
    for name in rows:
        if name.startswith("__main__.") and name not in truth["classes"]:
            check(False, "%s: unexpected row %s" % (where, name))
    keys = [(-r["bytes_delta"], -r["count_delta"], r["type"]) for r in d["types"]]
    check(keys == sorted(keys), "%s: types not sorted by bytes_delta, count_delta, name" % where)
    for r in d["types"]:
        check(r["count_delta"] or r["bytes_delta"], "%s: unchanged type %s listed" % (where, r["type"]))
    u = d["unreachable"]
    check((u["objects_a"], u["objects_b"], u["objects_delta"])
          == (s1["unreachable_total"], s2["unreachable_total"], s2["unreachable_total"] - s1["unreachable_total"]),
          "%s: unreachable %d -> %d (%+d); gc.collect() found %d then %d"
          % (where, u["objects_a"], u["objects_b"], u["objects_delta"], s1["unreachable_total"],
             s2["unreachable_total"]))
    gc = d["gc"]
    check(gc["a"]["thresholds"] == s1["thresholds"] and gc["b"]["thresholds"] == s2["thresholds"],
          "%s: thresholds %r -> %r, recorded %r -> %r" % (where, gc["a"]["thresholds"], gc["b"]["thresholds"],
                                                         s1["thresholds"], s2["thresholds"]))
    check(gc["a"]["enabled"] == s1["enabled"] and gc["b"]["enabled"] == s2["enabled"], "%s: gc.enabled" % where)
    check("thresholds" in gc["changed"] and "enabled" not in gc["changed"],
          "%s: gc.changed %r" % (where, gc["changed"]))
    leak = [g for g in d["groups"]
            if {t["type"]: t["count"] for t in g["types"] if t["type"] != "dict"}
            == {"__main__.LeakA": 1, "__main__.LeakB": 1}]
    n = truth["n_leak"]
    if check(len(leak) == 1, "%s: the LeakA <-> LeakB shape is listed %d times" % (where, len(leak))):
        g = leak[0]
        check((g["status"], g["count_a"], g["count_b"], g["count_delta"]) == ("new", 0, n, n),
              "%s: leak shape %s %d -> %d, %d cycles were leaked" % (where, g["status"], g["count_a"],
                                                                    g["count_b"], n))
        check("__main__.LeakA.peer -> __main__.LeakB" in g["edges"], "%s: leak shape edges %r" % (where, g["edges"]))


def read_mallinfo2(path):
    with open(path) as f:
        return dict((k, int(v)) for k, v in (line.split() for line in f if line.strip()))


def check_memory_doc(d, truth, prefix, where):
    m = d.get("memory") or {}
    if not check(m.get("available") is True, "%s: memory comparison unavailable: %r" % (where, m.get("why"))):
        return
    figs = dict((f["figure"], f) for f in m["figures"])
    rows = dict((r["category"], r) for r in m["breakdown"])
    own = [read_mallinfo2("%s.mem%d.mallinfo2" % (prefix, i)) for i in (1, 2)]
    for k in own[0]:
        f = figs.get("glibc.mallinfo2." + k)
        if check(f is not None, "%s: no figure glibc.mallinfo2.%s" % (where, k)):
            check((f["a"], f["b"], f["delta"]) == (own[0][k], own[1][k], own[1][k] - own[0][k]),
                  "%s: mallinfo2.%s %s -> %s (%+d); the processes recorded %d -> %d"
                  % (where, k, f["a"], f["b"], f["delta"] or 0, own[0][k], own[1][k]))
    mm = rows.get("glibc: mmapped chunks")
    check(mm is not None and mm["delta"] == own[1]["hblkhd"] - own[0]["hblkhd"],
          "%s: breakdown's mmapped chunks delta %r, hblkhd %d -> %d" % (where, mm, own[0]["hblkhd"], own[1]["hblkhd"]))
    total = figs.get("total.virtual") or {}
    check(sum(r["delta"] for r in rows.values()) == total.get("delta"),
          "%s: breakdown deltas add up to %d, total.virtual's is %r"
          % (where, sum(r["delta"] for r in rows.values()), total.get("delta")))
    n, size = truth["native2"]
    inuse = rows.get("glibc: in use chunks") or {"delta": 0}
    check(inuse["delta"] >= n * chunk_size(size), "%s: in-use chunks grew %d B, the step malloc'd %d x %d B"
          % (where, inuse["delta"], n, size))
    version = tuple(int(x) for x in truth["version"].split(".")[:2])
    if not any(k.startswith("pymalloc.") for k in figs):
        check(version < (3, 8), "%s: no pymalloc figures on %s" % (where, truth["version"]))
        return
    stats = [parse_mallocstats("%s.mem%d.mallocstats" % (prefix, i))[1] for i in (1, 2)]
    want = {
        "pymalloc.arenas": [s["# arenas allocated current"] for s in stats],
        "pymalloc.bytes_in_use": [s["# bytes in allocated blocks"] for s in stats],
        "pymalloc.available_bytes": [s["# bytes in available blocks"] for s in stats],
    }
    # check_memory's one tolerance: per core, one block counted in use by
    # the printout may be free in the core (bytes_freed_after).
    for i, side in enumerate("ab"):
        ia, av = figs.get("pymalloc.bytes_in_use"), figs.get("pymalloc.available_bytes")
        if ia and av and ia[side] is not None and av[side] is not None:
            moved = bytes_freed_after(ia[side], av[side], want["pymalloc.bytes_in_use"][i],
                                      want["pymalloc.available_bytes"][i])
            if moved:
                print("check_diff: %s: pymalloc: one %d-byte block freed after printout %d (the one tolerance)"
                      % (where, moved, i + 1))
                want["pymalloc.bytes_in_use"][i] -= moved
                want["pymalloc.available_bytes"][i] += moved
    for name, (a, b) in want.items():
        f = figs.get(name)
        if check(f is not None, "%s: no figure %s" % (where, name)):
            check((f["a"], f["b"], f["delta"]) == (a, b, b - a), "%s: %s %s -> %s (%+d); _debugmallocstats %d -> %d"
                  % (where, name, f["a"], f["b"], f["delta"] or 0, a, b))
    print("check_diff: %s: memory: mallinfo2.uordblks %+d, arena %+d, pymalloc bytes in use %+d (as recorded)"
          % (where, own[1]["uordblks"] - own[0]["uordblks"], own[1]["arena"] - own[0]["arena"],
             want["pymalloc.bytes_in_use"][1] - want["pymalloc.bytes_in_use"][0]))


def check_old_snapshot(args, s1_path, c2):
    """A snapshot from before memory figures: loads, and diff says so."""
    with open(s1_path) as f:
        s = json.load(f)
    check("memory" in s, "%s: no memory key" % s1_path)
    s.pop("memory", None)
    path = os.path.join(args.workdir, "schema-no-memory.json")
    with open(path, "w") as f:
        json.dump(s, f)
    for a, b, side in ((path, c2, "A"), (c2, path, "B")):
        d = run_json(args, ["diff", a, b])
        m = d.get("memory") or {}
        check(m.get("available") is False and side in (m.get("why") or ""),
              "diff with a memory-less snapshot as %s: memory %r" % (side, m))
        t = run(args, ["diff", a, b, "-q"], 0).stdout
        check("comparison unavailable" in t,
              "diff text with a memory-less snapshot as %s says nothing:\n%s" % (side, t))
    check_empty(args, path, path)


def strip_sides(d):
    d = dict(d)
    for k in ("a", "b"):
        d[k] = {x: v for x, v in d[k].items() if x not in ("source", "kind")}
    return d


def check_empty(args, a, b):
    d = run_json(args, ["diff", a, b])
    where = "diff %s %s" % (os.path.basename(a), os.path.basename(b))
    check(d["types"] == [] and d["groups"] == [] and d["gc"]["changed"] == [],
          "%s: not empty: %d types, %d shapes, gc %r" % (where, len(d["types"]), len(d["groups"]), d["gc"]["changed"]))
    check(d["totals"]["count_delta"] == 0 and d["unreachable"]["objects_delta"] == 0 and
          d["unreachable"]["bytes_delta"] == 0, "%s: non-zero deltas" % where)
    t = run(args, ["diff", a, b, "-q"], 0).stdout
    check("no differences" in t, "%s: text does not say 'no differences':\n%s" % (where, t))


def check_snapshot(args, core, path, classes, step):
    run(args, ["snapshot", core, "-o", path, "-q"], 0)
    with open(path) as f:
        text = f.read()
    check(text.count("\n") == 1 and text.endswith("\n"), "%s: not one line" % path)
    s = json.loads(text)
    check(s["schema"] == 1 and s["kind"] == "coreheap-snapshot", "%s: schema/kind %r %r" % (path, s["schema"], s["kind"]))
    check(list(s)[:2] == ["schema", "kind"], "%s: keys start %r" % (path, list(s)[:2]))
    names = [t["type"] for t in s["types"]]
    check(names == sorted(names, key=lambda n: n.encode()) and len(set(names)) == len(names),
          "%s: types not sorted by name or not unique" % path)
    types = run_json(args, ["types", core])
    want = {}
    for t in types["types"]:
        w = want.setdefault(t["type"], [0, 0])
        w[0] += t["count"]
        w[1] += t["bytes"]
    got = {t["type"]: [t["count"], t["bytes"]] for t in s["types"]}
    check(got == want, "%s: per-type counts differ from `types --json` for %r"
          % (path, sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))[:5]))
    check(s["totals"]["count"] == types["totals"]["count"] and s["totals"]["bytes"] == types["totals"]["bytes"],
          "%s: totals differ from `types --json`" % path)
    # The unreachable rows of the scenario's classes: what gc.collect()
    # found of each (none of the live Session, Stable, ...).
    unreach = {t["type"]: t["count"] for t in s["unreachable"]["types"]}
    for c in classes:
        check(unreach.get(c, 0) == step["unreachable"].get(c, 0), "%s: unreachable %s: %d, gc.collect() found %d"
              % (path, c, unreach.get(c, 0), step["unreachable"].get(c, 0)))
    top = run_json(args, ["top", core, "--by", "type", "--limit", "100"])
    check(s["retainers"] == top["types"], "%s: retainers differ from `top --by type --limit 100 --json`" % path)
    cyc = run_json(args, ["cycles", core, "--limit", "1"])
    check(s.get("exact") is cyc["exact"] and s.get("conservative_types") == cyc["conservative_types"],
          "%s: exact %r %r, cycles says %r %r" % (path, s.get("exact"), s.get("conservative_types"), cyc["exact"],
                                                 cyc["conservative_types"]))
    again = run(args, ["snapshot", core, "-q"], 0).stdout
    check(again == text, "%s: a second snapshot of the same core differs" % path)
    print("check_diff: %s: %d bytes, %d types, %d objects" % (os.path.basename(path), len(text), len(s["types"]),
                                                             s["totals"]["count"]))
    return s


def gate(args, cmd, exprs, expect, where):
    argv = list(cmd)
    for e in exprs:
        argv += ["--fail-if", e]
    p = run(args, argv + ["-q"])
    ok = check(p.returncode == expect, "%s: --fail-if %r exited %d, expected %d: %s"
               % (where, exprs, p.returncode, expect, p.stderr.strip()))
    if ok and expect == 1:
        held = [l for l in p.stderr.splitlines() if l.startswith("coreheap: --fail-if held: ")]
        check(any(exprs[-1] in l for l in held) or any(e in l for e in exprs for l in held),
              "%s: the condition that held is not named on stderr: %r" % (where, p.stderr))
        check(p.stdout.strip() != "", "%s: no report printed when a condition held" % where)
    if ok and expect == 0:
        check("--fail-if held" not in p.stderr, "%s: a condition named although none held: %r" % (where, p.stderr))
    return p


def check_gating(args, truth, c1, c2, s1, s2):
    """--fail-if on this version's figures: each figure family diff,
    summary and cycles gate on equals what the process recorded. With
    --language also the expression language itself (every operator, both
    spellings of and/or/not, units, several conditions, malformed
    expressions, unknown type names), which does not depend on the
    interpreter and so runs on one version only."""
    t1, t2 = truth["step1"], truth["step2"]
    ds = t2["types"]["__main__.Session"] - t1["types"]["__main__.Session"]
    dg = t2["types"]["__main__.Gone"] - t1["types"]["__main__.Gone"]
    du = t2["unreachable_total"] - t1["unreachable_total"]
    th1, th2 = t1["thresholds"][0], t2["thresholds"][0]
    S = "growth('__main__.Session').count"
    diff = ["diff", s1, s2]
    cases = [  # (expression, holds): the figures
        ("%s == %d" % (S, ds), True), ("%s == %d" % (S, ds + 1), False),
        ("growth('__main__.Gone').count == %d and types.gone >= 1" % dg, True),
        ("%s == 0 or unreachable.objects_delta == %d" % (S, du), True),
        ("a.gc.threshold0 == %d and b.gc.threshold0 == %d" % (th1, th2), True),
        ("not gc.enabled", not t2["enabled"]),
        ("runtime.version == '%s'" % truth["version"], True),
        ("growth('__main__.LeakA').count == %d and types.new >= 2" % truth["n_leak"], True),
        ("growth('__main__.Stable').count != 0", False),
    ]
    if args.language:
        cases += [
            ("%s != %d" % (S, ds + 1), True), ("%s != %d" % (S, ds), False),
            ("%s < %d" % (S, ds + 1), True), ("%s < %d" % (S, ds), False),
            ("%s <= %d" % (S, ds), True), ("%s <= %d" % (S, ds - 1), False),
            ("%s > %d" % (S, ds - 1), True), ("%s > %d" % (S, ds), False),
            ("%s >= %d" % (S, ds), True), ("%s >= %d" % (S, ds + 1), False),
            ("growth('__main__.Gone').count == %d && types.gone == 0" % dg, False),
            ("%s == 0 || unreachable.objects_delta == %d" % (S, du + 1), False),
            ("!gc.enabled", not t2["enabled"]),
            ("not (a.gc.threshold0 == %d and b.gc.threshold0 == %d)" % (th1, th2), False),
            ("b.gc.threshold0 == %dK" % (th2 // 1000), th2 % 1000 == 0),
            ("gc.threshold0 < 1KiB and gc.threshold0 >= 1KB", 1000 <= th2 < 1024),
            ("runtime.version != \"%s\"" % truth["version"], False),
        ]
    for e, holds in cases:
        gate(args, diff, [e], 1 if holds else 0, "diff")
    p = gate(args, ["diff", c1, s2], ["%s == %d" % (S, ds), "unreachable.objects_delta == %d" % du], 1,
             "diff core/snapshot, two conditions")
    check(p.stderr.count("--fail-if held") == 2, "diff: both conditions held, stderr: %r" % p.stderr)

    leak = truth["n_leak"]
    for cmd in (["summary", c2], ["cycles", c2]):
        w = cmd[0]
        gate(args, cmd, ["type('__main__.Session').count == %d" % t2["types"]["__main__.Session"]], 1, w)
        gate(args, cmd, ["unreachable('__main__.LeakA').count == %d" % leak], 1, w)
        gate(args, cmd, ["unreachable.objects == %d" % t2["unreachable_total"]], 1, w)
        gate(args, cmd, ["gc.enabled == %s" % ("true" if t2["enabled"] else "false")], 1, w)
        # Gone has no instance left in core 2, but its class is still there: a known name, count 0
        gate(args, cmd, ["type('__main__.Gone').count == 0"], 1, w)
        if args.language:
            gate(args, cmd, ["unreachable.objects > %d" % t2["unreachable_total"]], 0, w)
            gate(args, cmd, ["gc.enabled != %s" % ("true" if t2["enabled"] else "false")], 0, w)
            gate(args, cmd, ["type('__main__.Gone').count > 0"], 0, w)
    gate(args, ["summary", c1], ["type('__main__.Gone').count == %d" % t1["types"]["__main__.Gone"]], 1, "summary 1")
    if not args.language:
        return
    # several conditions: each that holds is named, the others are not
    p = gate(args, diff, ["%s > %d" % (S, ds), "%s == %d" % (S, ds)], 1, "diff, two conditions")
    check("%s > %d" % (S, ds) not in p.stderr, "diff: a condition that did not hold is named: %r" % p.stderr)
    # --json output is unchanged by gating
    p = gate(args, diff + ["--json"], ["%s == %d" % (S, ds)], 1, "diff --json")
    check(json.loads(p.stdout)["types"] is not None, "diff --json with --fail-if: no JSON")
    check_unknown_types(args, c1, c2, s1, s2)

    malformed = ["", "unreachable.bites > 1", "gc.enabled = false", "1 > 2 > 3", "gc.enabled > true",
                 "type(x).count > 1", "(gc.enabled", "'open", "totals.count", "10XB > 1", "not 5",
                 "runtime.version < 'a'", "gc.enabled &"]
    missing = os.path.join(args.workdir, "no-such-core")
    for cmd, extra in ((["summary", missing], ["a.gc.enabled", "growth('x').count > 1"]),
                       (["cycles", missing], ["types.new > 0"]),
                       (["diff", missing, missing], ["c.gc.enabled", "a.growth('x').count > 0"])):
        for e in malformed + extra:
            p = run(args, cmd + ["--fail-if", e])
            if check(p.returncode == 2, "%s --fail-if %r: exit %d, expected 2 (usage) before opening the core: %s"
                     % (cmd[0], e, p.returncode, p.stderr.strip())):
                check("--fail-if" in p.stderr and "column" in p.stderr and not p.stdout,
                      "%s --fail-if %r: message %r" % (cmd[0], e, p.stderr))
    p = run(args, ["types", c2, "--fail-if", "gc.enabled"])
    check(p.returncode == 2, "types accepted --fail-if (exit %d)" % p.returncode)


def unknown(args, cmd, expr, name, meant, where):
    """A condition naming a type of no input: exit 2, one line naming it
    (and what it may have meant), no report."""
    p = run(args, cmd + ["--fail-if", expr, "-q"])
    lines = p.stderr.splitlines()
    if not check(p.returncode == 2, "%s: --fail-if %r on an unknown type exited %d, expected 2: %s"
                 % (where, expr, p.returncode, p.stderr.strip())):
        return
    check(len(lines) == 1 and ("'%s'" % name) in lines[0] and not p.stdout,
          "%s: --fail-if %r: expected one line naming %r and no report, got %r / %d bytes of stdout"
          % (where, expr, name, p.stderr, len(p.stdout)))
    if meant:
        check(lines and ("did you mean '%s'" % meant) in lines[0],
              "%s: --fail-if %r: no 'did you mean %s': %r" % (where, expr, meant, p.stderr))


def check_unknown_types(args, c1, c2, s1, s2):
    for cmd in (["summary", c2], ["cycles", c2]):
        unknown(args, cmd, "type('Session').count > 0", "Session", "__main__.Session", cmd[0])
        unknown(args, cmd, "unreachable('__main__.Sesion').count > 0", "__main__.Sesion", "__main__.Session",
                cmd[0])
        unknown(args, cmd, "gc.enabled or type('no.such.Thing').bytes > 1", "no.such.Thing", None, cmd[0])
    for sides in ((s1, s2), (c1, c2), (c1, s2)):
        unknown(args, ["diff"] + list(sides), "growth('session').count > 100", "session", "__main__.Session", "diff")
        unknown(args, ["diff"] + list(sides), "a.type('__main__.Nope').count == 0", "__main__.Nope", None, "diff")
    # a type of A only (Gone's instances are dropped by step 2) is known to the diff
    gate(args, ["diff", s1, s2], ["growth('__main__.Gone').count > 0"], 0, "diff, type of A only")
    # a snapshot records the types with objects only: Gone, with none left in step 2, is unknown there
    unknown(args, ["diff", s2, s2], "growth('__main__.Gone').count != 0", "__main__.Gone", None, "diff B B")


def read_ndjson(text, where):
    recs = []
    for i, line in enumerate(text.splitlines()):
        try:
            recs.append(json.loads(line))
        except ValueError:
            check(False, "%s: line %d is not JSON: %r" % (where, i + 1, line[:200]))
            return []
    return recs


def check_ndjson(args, cmd, arrays, last):
    where = " ".join(cmd[:1]) + " --format ndjson"
    doc = run_json(args, cmd)
    recs = read_ndjson(run(args, cmd + ["--format", "ndjson", "-q"], 0).stdout, where)
    if not check(recs, "%s: no records" % where):
        return
    rest = recs.pop()
    check(rest.get("record") == last, "%s: last record is %r, expected %r" % (where, rest.get("record"), last))
    for path, record in arrays:
        parent = doc
        keys = path.split(".")
        for k in keys[:-1]:
            parent = parent[k]
        want = parent.pop(keys[-1])
        got = [dict((k, v) for k, v in r.items() if k != "record") for r in recs if r.get("record") == record]
        check(got == want, "%s: %d %r records, --json has %d %s" % (where, len(got), record, len(want), path))
        for r in recs:
            if r.get("record") == record:
                check(list(r)[0] == "record", "%s: 'record' is not the first key" % where)
                break
    del rest["record"]
    check(rest == doc, "%s: the last record differs from the rest of --json: %r" % (where,
          sorted(k for k in set(rest) | set(doc) if rest.get(k) != doc.get(k))))
    check(all(r.get("record") in [rec for _, rec in arrays] for r in recs), "%s: unknown record kinds" % where)


def check_exact(args, s1_path, s2, c2):
    with open(s1_path) as f:
        s = json.load(f)
    d = run_json(args, ["diff", s1_path, c2])
    for k, snap in (("a", s), ("b", s2)):
        check(d[k].get("exact") is snap["exact"] and d[k].get("conservative_types") == snap["conservative_types"],
              "diff: side %s exact %r %r, its snapshot %r %r" % (k, d[k].get("exact"), d[k].get("conservative_types"),
                                                                  snap["exact"], snap["conservative_types"]))
    check(d.get("exact") is (s["exact"] and s2["exact"]), "diff: exact %r, sides %r %r" % (d.get("exact"), s["exact"],
                                                                                             s2["exact"]))
    row = {"type": "ext.Opaque", "objects": 3, "reason": "its tp_traverse could not be run (check_diff)"}
    cases = [("not exact", dict(s, exact=False, conservative_types=[row]), False, [row]),
             ("unrecorded", {k: v for k, v in s.items() if k not in ("exact", "conservative_types")}, None, None)]
    for name, doc, exact, types in cases:
        path = os.path.join(args.workdir, "exact-%s.json" % name.replace(" ", "-"))
        with open(path, "w") as f:
            json.dump(doc, f)
        d = run_json(args, ["diff", path, c2])
        check(d["a"].get("exact") is exact and d["a"].get("conservative_types") == types and d.get("exact") is False,
              "diff of a snapshot %s: a.exact %r a.conservative_types %r exact %r" % (
                  name, d["a"].get("exact"), d["a"].get("conservative_types"), d.get("exact")))
        t = run(args, ["diff", path, c2, "-q"], 0).stdout
        want = ["A: NOT EXACT: 3 objects of 1 type", "ext.Opaque", row["reason"]] if exact is False else \
            ["A: exactness not recorded"]
        check(all(w in t for w in want), "diff text of a snapshot %s lacks %r:\n%s" % (name, want, t[:800]))


def check_schema(args, s1_path, c2):
    with open(s1_path) as f:
        s = json.load(f)
    cases = []
    newer = dict(s, schema=2)
    cases.append(("newer", newer, 4, ["schema 2", "newer"]))
    cases.append(("no kind", {k: v for k, v in s.items() if k != "kind"}, 3, ["not a coreheap snapshot"]))
    bad = json.loads(json.dumps(s))
    bad["types"][0]["count"] = "many"
    cases.append(("bad count", bad, 3, ["types[0].count"]))
    bad = json.loads(json.dumps(s))
    del bad["gc"]["thresholds"]
    cases.append(("no thresholds", bad, 3, ["gc.thresholds"]))
    bad = json.loads(json.dumps(s))
    bad["unreachable"]["types"].append({"type": "no.such.Type", "count": 1, "bytes": 8})
    cases.append(("unknown garbage type", bad, 3, ["no.such.Type"]))
    bad = json.loads(json.dumps(s))
    bad["memory"]["figures"]["total.virtual"] = "lots"
    cases.append(("bad memory figure", bad, 3, ["memory.figures.total.virtual"]))
    cases.append(("memory not an object", dict(s, memory=[1]), 3, ["memory is not an object"]))
    cases.append(("exact contradicted", dict(s, exact=True, conservative_types=[
        {"type": "ext.Opaque", "objects": 1, "reason": "r"}]), 3, ["exact", "conservative_types"]))
    bad = dict(s, exact=False, conservative_types=[{"type": "ext.Opaque", "objects": "1", "reason": "r"}])
    cases.append(("bad conservative row", bad, 3, ["conservative_types[0].objects"]))
    later = dict(s, retainers=[{"type": "x", "bytes": 1}])  # an optional key a later version may add
    cases.append(("optional key", later, 0, []))
    for name, doc, rc, words in cases:
        path = os.path.join(args.workdir, "schema-%s.json" % name.replace(" ", "-"))
        with open(path, "w") as f:
            json.dump(doc, f)
        for argv in (["diff", path, c2], ["diff", c2, path]):
            p = run(args, argv + ["-q"])
            ok = check(p.returncode == rc, "snapshot %s: `%s` exited %d, expected %d: %s"
                       % (name, " ".join(argv[:1]), p.returncode, rc, p.stderr.strip()))
            if ok and rc:
                errs = [l for l in p.stderr.splitlines() if l.startswith("coreheap: error:")]
                check(len(errs) == 1 and all(w in errs[0] for w in words) and not p.stdout,
                      "snapshot %s: expected one error line with %r, got %r" % (name, words, p.stderr))
    trunc = os.path.join(args.workdir, "schema-truncated.json")
    with open(s1_path) as f, open(trunc, "w") as g:
        g.write(f.read()[:500])
    p = run(args, ["diff", trunc, c2, "-q"])
    check(p.returncode == 3 and "not valid JSON" in p.stderr, "truncated snapshot: exit %d %r" % (p.returncode, p.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core1", required=True)
    ap.add_argument("--core2", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--language", action="store_true",
                    help="also check the --fail-if language itself and the validation of snapshot files "
                         "(version-independent: one version is enough)")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    with open(args.truth) as f:
        truth = json.load(f)
    if truth.get("self_check_errors"):
        print("check_diff: the scenario's self-check failed: %r" % truth["self_check_errors"])
        return 1
    c1, c2 = args.core1, args.core2
    if not os.path.isfile(c1):
        print("check_diff: step-1 core %s is missing; delete the fixture's stamp file to remake it" % c1)
        return 1

    d_cores = run_json(args, ["diff", c1, c2])
    check_diff_doc(d_cores, truth, "diff cores")
    check_memory_doc(d_cores, truth, args.truth, "diff cores")
    text = run(args, ["diff", c1, c2, "-q"], 0).stdout
    for r in d_cores["types"]:
        if r["type"].startswith("__main__."):
            check(any(l.split()[:2] == [r["status"], r["type"]] for l in text.splitlines()),
                  "diff text has no line '%s %s'" % (r["status"], r["type"]))

    s1 = os.path.join(args.workdir, "step1.json")
    s2 = os.path.join(args.workdir, "step2.json")
    check_snapshot(args, c1, s1, truth["classes"], truth["step1"])
    snap2 = check_snapshot(args, c2, s2, truth["classes"], truth["step2"])
    want = strip_sides(d_cores)
    for a, b in ((s1, s2), (c1, s2), (s1, c2)):
        d = run_json(args, ["diff", a, b])
        check(strip_sides(d) == want, "diff %s %s differs from diff of the two cores"
              % (os.path.basename(a), os.path.basename(b)))
        check(d["a"]["kind"] == ("snapshot" if a.endswith(".json") else "core"), "diff: a.kind %r" % d["a"]["kind"])
    check_memory_doc(run_json(args, ["diff", s1, s2]), truth, args.truth, "diff snapshots")
    check_empty(args, c2, s2)
    check_empty(args, s1, c1)
    check_empty(args, s1, s1)

    check_gating(args, truth, c1, c2, s1, s2)
    check_ndjson(args, ["types", c2], [("types", "type")], "types")
    check_ndjson(args, ["cycles", c2, "--limit", "0"], [("groups", "group"), ("unreachable.types", "unreachable_type")],
                 "cycles")
    check_ndjson(args, ["diff", s1, s2], [("types", "type"), ("groups", "group")], "diff")
    p = run(args, ["info", c2, "--format", "ndjson"])
    check(p.returncode == 2, "info --format ndjson: exit %d, expected 2" % p.returncode)
    check_exact(args, s1, snap2, c2)
    if args.language:
        # how a snapshot file is validated does not depend on the
        # interpreter whose heap it describes
        check_schema(args, s1, c2)
        check_old_snapshot(args, s1, c2)

    for f in FAILED:
        print("FAIL: " + f)
    print("check_diff: %d passed, %d failed" % (PASSED[0], len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
