"""Sub-interpreters (3.10+): every interpreter's objects and garbage, each
compared with what that interpreter recorded itself.

fixtures/scenario_subinterp.py runs the main interpreter and two
sub-interpreters; each records its gc.get_objects() histogram and what
gc.collect() under DEBUG_SAVEALL found in a probe copy of its garbage, then
the process aborts. Checked:

  - types --json: one "interpreters" entry per truth (by id, main first);
    each one's GC-tracked objects outside the permanent generation equal
    its len(gc.get_objects()), type by type; the entries add up to the
    totals (no object counted twice or in no interpreter);
  - cycles --json: each interpreter's unreachable objects equal its own
    collection's, type by type, and add up to the total;
  - summary --json: the same per-interpreter objects and garbage;
  - memory --json: pymalloc's size classes and arena counts equal the sums
    of what each interpreter's sys._debugmallocstats() printed (3.12+: each
    isolated interpreter has its own state), or main's alone before 3.12
    (one state for the process, printed last by main);
  - text: types, cycles and summary print the per-interpreter section;
  - a copy of the core whose newest sub-interpreter's `next` points at
    itself: a partial result (exit 5) saying the list loops, main and that
    interpreter still reported, the one cut off missing;
  - a copy whose object of a sub-interpreter has a broken back link: exit
    5, the warning names that interpreter's list, main's objects still
    equal its truth;
  - a core without sub-interpreters has exactly one (main) entry and no
    text section.

A version without a sub-interpreter module is a SKIP.

usage: check_subinterp.py --python PYTHON3.10+ --coreheap COREHEAP --out OUTDIR"""
import json
import os
import resource
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import abort_core, out_args, run_json  # noqa: E402
from check_memory import one_block_freed_after, parse_mallocstats  # noqa: E402
from check_stacks_corrupt import file_offset, load_segments  # noqa: E402

NAME = "check_subinterp"
SCENARIO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                        "scenario_subinterp.py")
PROBE = ("import sys\n"
         "try:\n    import _interpreters\n"
         "except ImportError:\n"
         "    try:\n        import _xxsubinterpreters\n"
         "    except ImportError:\n        sys.exit(77)\n")


def scenario_core(python, out):
    """Runs the scenario in a fresh out; returns (core, {id: truth}); each
    truth also gets "mallocstats": the path of its _debugmallocstats()."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.run([python, "-I", SCENARIO, out], cwd=out, preexec_fn=unlimited,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != -6:
        raise SystemExit("%s: the scenario exited %d, expected SIGABRT: %s" % (NAME, p.returncode, p.stderr))
    cores = [f for f in os.listdir(out) if f.startswith("core")]
    if len(cores) != 1:
        raise SystemExit("%s: expected one core in %s, found %s" % (NAME, out, cores))
    truths = {}
    for f in os.listdir(out):
        if f.startswith("truth_") and f.endswith(".json"):
            with open(os.path.join(out, f)) as fh:
                t = json.load(fh)
            t["mallocstats"] = os.path.join(out, "mallocstats_%d.txt" % t["id"])
            truths[t["id"]] = t
    return os.path.join(out, cores[0]), truths


def text_of(args, cmd):
    p = subprocess.run([args.coreheap] + cmd + ["-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise SystemExit("%s: %s exited %d: %s" % (NAME, " ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


class Checker:
    def __init__(self):
        self.failed = 0

    def __call__(self, ok, what):
        if not ok:
            self.failed += 1
            print("FAIL  " + what)
        return ok


def tracked_by_type(entry):
    """GC-tracked objects outside the permanent generation, by type: what
    gc.get_objects() returns."""
    got = {}
    for r in entry["types"]:
        g = r["generations"]
        n = r["count"] - g["untracked"] - g["permanent"]
        if n:
            got[r["type"]] = n
    return got


def compare_counts(check, label, got, want):
    for name in sorted(set(got) | set(want)):
        check(got.get(name, 0) == want.get(name, 0),
              "%s %s: the interpreter recorded %d, coreheap %d" % (label, name, want.get(name, 0), got.get(name, 0)))


def check_types(args, core, truths, check):
    d = run_json(NAME, args, ["types", core, "--top", "0"])
    interps = d["interpreters"]
    check([i["id"] for i in interps][:1] == [0] and interps[0]["main"], "interpreters[0] is main (id 0)")
    check(sorted(i["id"] for i in interps) == sorted(truths),
          "interpreter ids: truth %s, coreheap %s" % (sorted(truths), [i["id"] for i in interps]))
    for i in interps:
        t = truths.get(i["id"])
        if t is None:
            continue
        got = tracked_by_type(i)
        check(sum(got.values()) == t["tracked"],
              "interpreter %d: gc.get_objects() %d, coreheap %d" % (i["id"], t["tracked"], sum(got.values())))
        compare_counts(check, "interpreter %d type" % i["id"], got, t["types"])
        print("      interpreter %d: %d GC-tracked objects (truth %d), %d in all"
              % (i["id"], sum(got.values()), t["tracked"], i["objects"]))
    tot = d["totals"]
    check(sum(i["objects"] for i in interps) == tot["count"],
          "interpreters' objects add up to totals.count (%d vs %d)" % (sum(i["objects"] for i in interps),
                                                                      tot["count"]))
    check(sum(i["bytes"] for i in interps) == tot["bytes"], "interpreters' bytes add up to totals.bytes")
    return {i["id"]: i["objects"] for i in interps}


def check_cycles(args, core, truths, check):
    d = run_json(NAME, args, ["cycles", core])
    interps = d["interpreters"]
    for i in interps:
        t = truths.get(i["id"])
        if t is None:
            continue
        u = i["unreachable"]
        check(u["objects"] == t["unreachable_total"],
              "interpreter %d unreachable: gc.collect() %d, coreheap %d" % (i["id"], t["unreachable_total"],
                                                                          u["objects"]))
        compare_counts(check, "interpreter %d unreachable" % i["id"], {r["type"]: r["count"] for r in u["types"]},
                       t["unreachable"])
        print("      interpreter %d: %d unreachable (truth %d)" % (i["id"], u["objects"], t["unreachable_total"]))
    check(sum(i["unreachable"]["objects"] for i in interps) == d["unreachable"]["objects"],
          "interpreters' unreachable objects add up to unreachable.objects")


def check_summary(args, core, truths, objects, check):
    d = run_json(NAME, args, ["summary", core])
    interps = d["interpreters"]
    check({i["id"]: i["objects"] for i in interps} == objects, "summary's interpreters have the objects types found")
    for i in interps:
        t = truths.get(i["id"])
        if t is not None:
            check(i["unreachable"]["objects"] == t["unreachable_total"],
                  "summary: interpreter %d unreachable %d, truth %d" % (i["id"], i["unreachable"]["objects"],
                                                                       t["unreachable_total"]))


def check_memory(args, core, truths, check):
    # Exit 5 is allowed: the glibc side may be partial (these threads' own
    # malloc arenas); the pymalloc figures checked here do not depend on it.
    p = subprocess.run([args.coreheap, "memory", core, "--json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if not check(p.returncode in (0, 5), "memory exited %d: %s" % (p.returncode, p.stderr.strip()[-300:])):
        return
    d = json.loads(p.stdout)
    pm = d["pymalloc"]
    if not check(pm and pm.get("found"), "pymalloc read: %s" % (pm or {}).get("why_not")):
        return
    version = run_json(NAME, args, ["info", core])["runtime"]["version"]
    own_state = tuple(int(x) for x in version.split(".")[:2]) >= (3, 12)
    rows, figures = {}, {}
    for iid, t in truths.items():
        if not own_state and iid != 0:
            continue
        r, f = parse_mallocstats(t["mallocstats"])
        for size, v in r.items():
            rows[size] = tuple(a + b for a, b in zip(rows.get(size, (0, 0, 0)), v))
        for label in ("# arenas allocated current", "# bytes in allocated blocks", "# bytes in available blocks"):
            figures[label] = figures.get(label, 0) + f.get(label, 0)
    ours = dict((c["size"], (c["pools"], c["blocks_in_use"], c["free_blocks"])) for c in pm["size_classes"])
    ours = {k: v for k, v in ours.items() if v != (0, 0, 0)}
    rows = {k: v for k, v in rows.items() if v != (0, 0, 0)}
    diff = sorted(set(ours.items()) ^ set(rows.items()))
    moved = one_block_freed_after(ours, rows)
    if moved:
        print("      pymalloc: one %d-byte block freed after a printout (check_memory's one tolerance)" % moved)
    check(not diff or moved, "pymalloc size classes (size: pools, in use, avail) differ from the interpreters' "
          "_debugmallocstats: %s" % diff[:6])
    for label, key, slack in (("# arenas allocated current", "arenas", 0),
                              ("# bytes in allocated blocks", "bytes_in_use", moved),
                              ("# bytes in available blocks", "bytes_in_available_blocks", -moved)):
        check(pm[key] + slack == figures[label], "pymalloc %s: coreheap %d, _debugmallocstats %d"
              % (label, pm[key], figures[label]))
    print("      pymalloc: %d arenas, %d bytes in use (%s: %d arenas, %d bytes)"
          % (pm["arenas"], pm["bytes_in_use"], "sum of the interpreters" if own_state else "main's printout",
             figures["# arenas allocated current"], figures["# bytes in allocated blocks"]))


def layout_value(version, field):
    """A field of the built-in table of this version (the offsets the
    corruption needs; every version tested here has a table)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "readers", "cpython", "layouts", version + ".layout")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0] == field:
                return int(parts[1])
    raise SystemExit("%s: the %s table has no %s" % (NAME, version, field))


def corrupt_copy(core, out, patches):
    """A copy of core with each (address, 8-byte value) written."""
    with open(core, "rb") as f:
        data = bytearray(f.read())
    segs = load_segments(data)
    for addr, value in patches:
        off = file_offset(segs, addr, 8)
        data[off:off + 8] = value.to_bytes(8, "little")
    bad = os.path.join(out, "core.corrupt")
    with open(bad, "wb") as f:
        f.write(data)
    return bad


def types_partial(args, core, check, what):
    p = subprocess.run([args.coreheap, "types", core, "--json", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if not check(p.returncode == 5, "%s: exit %d, expected 5 (partial): %s" % (what, p.returncode,
                                                                               p.stderr.strip()[-300:])):
        return None
    return json.loads(p.stdout)


def check_broken_link(args, core, out, truths, check):
    version = run_json(NAME, args, ["info", core])["runtime"]["version"]
    iid = [i for i, t in truths.items() if "__main__.SubMarkerA" in t["types"]][0]
    found = run_json(NAME, args, ["find", core, "--type", "__main__.SubMarkerA", "--limit", "1"])
    obj = int(found["objects"][0]["address"], 16)
    head = obj - layout_value(version, "SIZEOF_GCHEAD")
    bad = corrupt_copy(core, out, [(head + layout_value(version, "GCHEAD_PREV"), head)])
    d = types_partial(args, bad, check, "broken back link")
    os.remove(bad)
    if d is None:
        return
    check(any("of interpreter %d" % iid in w and "does not link back" in w for w in d["warnings"]),
          "broken back link: a warning names interpreter %d's list: %s" % (iid, d["warnings"]))
    by_id = {i["id"]: i for i in d["interpreters"]}
    main = tracked_by_type(by_id[0])
    check(sum(main.values()) == truths[0]["tracked"], "broken back link: main's objects still equal its truth")
    check(sum(tracked_by_type(by_id[iid]).values()) < truths[iid]["tracked"],
          "broken back link: interpreter %d has fewer objects than its truth" % iid)


def check_looping_list(args, core, out, check):
    info = run_json(NAME, args, ["info", core])
    d = run_json(NAME, args, ["types", core])
    subs = sorted((i for i in d["interpreters"] if not i["main"]), key=lambda i: i["id"])
    newest = subs[-1]
    addr = int(newest["address"], 16)
    bad = corrupt_copy(core, out, [(addr + layout_value(info["runtime"]["version"], "INTERP_NEXT"), addr)])
    b = types_partial(args, bad, check, "looping interpreter list")
    os.remove(bad)
    if b is None:
        return
    check(any("interpreter list loops" in w for w in b["warnings"]), "looping list: a warning says the list loops")
    ids = [i["id"] for i in b["interpreters"]]
    check(ids == [0, newest["id"]], "looping list: interpreters %s, expected [0, %d]" % (ids, newest["id"]))


def main():
    args = out_args(NAME)
    if subprocess.run([args.python, "-I", "-c", PROBE]).returncode == 77:
        print("%s: SKIP: %s has no sub-interpreter module" % (NAME, args.python))
        sys.exit(77)
    check = Checker()
    core, truths = scenario_core(args.python, os.path.join(args.out, "with"))
    check(len(truths) == 3, "three truths recorded (main and two sub-interpreters): %s" % sorted(truths))
    objects = check_types(args, core, truths, check)
    check_cycles(args, core, truths, check)
    check_summary(args, core, truths, objects, check)
    check_memory(args, core, truths, check)
    for cmd in ("types", "cycles", "summary"):
        out = text_of(args, [cmd, core])
        check("by interpreter (3;" in out, "%s text has the per-interpreter section" % cmd)
    info = run_json(NAME, args, ["info", core])
    check(not [w for w in info["warnings"] if "sub-interpreter" in w], "no sub-interpreter warning left")
    check_looping_list(args, core, os.path.join(args.out, "with"), check)
    check_broken_link(args, core, os.path.join(args.out, "with"), truths, check)

    without = abort_core(NAME, args.python, os.path.join(args.out, "without"), "import os; os.abort()")
    d = run_json(NAME, args, ["types", without])
    check(len(d["interpreters"]) == 1 and d["interpreters"][0]["main"]
          and d["interpreters"][0]["objects"] == d["totals"]["count"],
          "no sub-interpreter: one main entry holding every object")
    check("by interpreter" not in text_of(args, ["types", without]), "no sub-interpreter: no text section")
    print("%s: %d failed" % (NAME, check.failed))
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
