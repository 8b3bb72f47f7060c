#!/usr/bin/env python3
"""The heap commands at several heap sizes, from the core and from its index,
against a GDB walk of the same core's GC lists; with issue 18's goals.

usage: bench_sizes.py COREHEAP [--sizes 1M,10M,40M] [--ext 1M] [--runs R]
       [--commands types,cycles,top,path,show,referrers] [--later LIST]
       [--python P] [--ext-python P] [--workdir DIR] [--regen] [--no-gdb]
       [--delete-cores]

For each core (bench_types cores of each size under --python, then one of
--ext GC-tracked objects mostly of extension types under --ext-python,
bench_ext_scenario.py): each command R times with --no-index, then
`coreheap index` (time, size), then each command R times from the index,
and each of --later (every other heap command by default, names as in
LATER) R times from the index only; then R runs of gdb_gc_walk.py under GDB on the same core. Prints per command
and source the min wall, CPU and peak RSS, GC-tracked objects per wall
second and the ratio of the command's wall to GDB's; then cycles' memory
beyond the mapped core and each goal, MET or NOT MET. Asserts nothing
(tests/bench/README.md). Python 3.8+ standard library only.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_types  # noqa: E402  (make_core, measure, run_once: one copy of each)

EXT_SCENARIO = os.path.join(HERE, "bench_ext_scenario.py")
GDB_SCRIPT = os.path.join(HERE, "gdb_gc_walk.py")
ADDR_COMMANDS = ("path", "show", "referrers")
# The commands timed from the index only (issue 18: "any later command on
# an indexed core within 0.5 s"): name -> arguments after the core. diff
# compares the core with itself (both sides from the index).
LATER = {
    "summary": ["summary"], "suspects": ["suspects"], "report": ["report"], "roots": ["roots"],
    "tasks": ["tasks"], "anomalies": ["anomalies"], "memory": ["memory"], "snapshot": ["snapshot"],
    "stacks": ["stacks"], "info": ["info"], "find": ["find", None, "--type", "list"],
    "top-by-type": ["top", None, "--by", "type"], "top-folded": ["top", None, "--format", "folded"],
    "top-native": ["top", None, "--native"], "types-native": ["types", None, "--native"],
    "diff": ["diff", None, None],
}
MIB = 2**20


def count_arg(text):
    """1M, 10M, 500k, 2500000 -> int."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError("not a count: %r" % text)
    return int(float(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6}[m.group(2).lower()])


def human(n):
    return "%gM" % (n / 1e6) if n >= 10**6 else "%gk" % (n / 1e3)


def run_json(argv, errfile):
    """stdout of argv parsed as JSON (exit 0 or 5)."""
    with open(errfile, "w") as err:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err)
    if p.returncode not in (0, 5):
        bench_types.die("%s exited with %d (stderr in %s)" % (" ".join(argv), p.returncode, errfile))
    return json.loads(p.stdout)


def best(rows):
    return {k: min(r[k] for r in rows) for k in ("wall", "cpu", "rss_kib")}


def gdb_walk(python, core, runs):
    """min wall and CPU of `gdb -batch ... -x gdb_gc_walk.py`, min of its walk alone, objects counted."""
    argv = ["gdb", "-nx", "-batch", "-q", "-iex", "set auto-load python-scripts off",
            python, core, "-x", GDB_SCRIPT]
    rows = []
    for i in range(runs):
        t0 = time.perf_counter()
        before = os.times()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
        wall = time.perf_counter() - t0
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        found = [x for x in p.stdout.splitlines() if x.startswith("gdb_gc_walk:")]
        if p.returncode != 0 or not found or "error" in found[-1]:
            print("  gdb walk failed (exit %d): %s" % (p.returncode, found[-1] if found else "no output"))
            return None
        line = found[-1]
        m = re.search(r": (\d+) objects .* walk ([\d.]+) s", line)
        rows.append({"wall": wall, "cpu": cpu, "objects": int(m.group(1)), "walk": float(m.group(2))})
        print("  gdb   run %d: cpu %.3f s, wall %.3f s; %s" % (i + 1, cpu, wall, line), flush=True)
    return {"wall": min(r["wall"] for r in rows), "cpu": min(r["cpu"] for r in rows),
            "objects": rows[-1]["objects"], "walk": min(r["walk"] for r in rows)}


def bench_core(a, coreheap, core, meta, python):
    """Measure one core; return the figures the goals need."""
    workdir = os.path.dirname(core)
    err = os.path.join(workdir, "bench_sizes.err")
    index = core + ".chindex"
    if os.path.exists(index):
        os.unlink(index)
    load0 = os.getloadavg()
    # Warm the page cache; the graph's size and the object count.
    cyc = run_json([coreheap, "cycles", core, "--json", "--limit", "1", "--no-index"], err)
    graph = cyc["graph"]
    totals = run_json([coreheap, "types", core, "--json", "--limit", "1", "--no-index"], err)["totals"]
    tracked = totals["count"] - totals.get("generations", {}).get("untracked", 0)
    addr = None
    if any(c in ADDR_COMMANDS for c in a.commands):
        doc = run_json([coreheap, "find", core, "--type", "list", "--json", "--limit", "1", "--no-index"], err)
        addr = doc["objects"][0]["address"]

    def argv(cmd, *extra):
        return ([coreheap, cmd, core] + ([addr] if cmd in ADDR_COMMANDS else [])
                + ["--json", "-o", "/dev/null"] + list(extra))

    res = {}
    for cmd in a.commands:
        res[cmd, "core"] = best(bench_types.measure(argv(cmd, "--no-index"), a.runs, err, cmd))
    idx_rows = bench_types.measure([coreheap, "index", core, "--json", "-o", "/dev/null"], 1, err, "index")
    res["index", "build"] = best(idx_rows)
    index_size = os.path.getsize(index)
    for cmd in a.commands:
        res[cmd, "index"] = best(bench_types.measure(argv(cmd), a.runs, err, cmd))
    for name in a.later:
        spec = LATER[name] if len(LATER[name]) > 1 else LATER[name] + [None]
        later = [coreheap, spec[0]] + [core if x is None else x for x in spec[1:]]
        if name != "top-folded":  # folded stacks are text only
            later.append("--json")
        res[name, "index"] = best(bench_types.measure(later + ["-o", "/dev/null"], a.runs, err, name))
    gdb = None if a.no_gdb else gdb_walk(python, core, a.runs)
    load1 = os.getloadavg()
    return {"core": core, "core_size": os.path.getsize(core), "meta": meta, "graph": graph, "tracked": tracked,
            "res": res, "index_size": index_size, "gdb": gdb, "load": (load0, load1)}


def verdict(ok):
    return "MET" if ok else "NOT MET"


def report(a, fig):
    res, graph, gdb, tracked = fig["res"], fig["graph"], fig["gdb"], fig["tracked"]
    print()
    print("== %s: %d GC-tracked objects (%d objects in the graph, %d edges), core %.0f MiB, python %s (%s)"
          % (os.path.basename(fig["core"]), tracked, graph["objects"], graph["edges"], fig["core_size"] / MIB,
             fig["meta"].get("python", "?"), fig["meta"].get("python_path", "?")))
    print("   load average %.2f %.2f %.2f before, %.2f %.2f %.2f after, on %d CPUs; min of %d runs"
          % (fig["load"][0] + fig["load"][1] + (os.cpu_count(), a.runs)))
    print("%-12s %-6s %8s %8s %9s %10s %8s" % ("command", "from", "wall s", "cpu s", "rss MiB", "Mobj/s", "t/GDB"))
    for (cmd, src), r in res.items():
        ratio = "%8.3f" % (r["wall"] / gdb["wall"]) if gdb else "%8s" % "-"
        print("%-12s %-6s %8.3f %8.3f %9.1f %10.2f %s"
              % (cmd, src, r["wall"], r["cpu"], r["rss_kib"] / 1024, tracked / max(r["wall"], 1e-9) / 1e6, ratio))
    if gdb:
        print("%-12s %-6s %8.3f %8.3f %9s %10.2f %8.3f   (walk alone %.3f s; %d objects on the GC lists)"
              % ("gdb walk", "core", gdb["wall"], gdb["cpu"], "-", tracked / gdb["wall"] / 1e6, 1.0, gdb["walk"],
                 gdb["objects"]))
    print("index: built in %.2f s wall (%.2f s cpu), %.1f MiB, %.1f bytes per object in the graph"
          % (res["index", "build"]["wall"], res["index", "build"]["cpu"], fig["index_size"] / MIB,
             fig["index_size"] / max(graph["objects"], 1)))
    n_obj, n_edge = max(graph["objects"], 1), max(graph["edges"], 1)
    mem = None
    if ("cycles", "core") in res:
        beyond = res["cycles", "core"]["rss_kib"] * 1024 - fig["core_size"]
        budget = 32 * n_obj + 8 * n_edge
        mem = (beyond, budget)
        print("cycles memory beyond the mapped core: %.1f MiB = %.1f B/object (all of it), or %.1f B/object + "
              "8 B/edge; budget 32 B/object + 8 B/edge = %.1f MiB; graph tables %.1f B/object, "
              "%.1f B/edge" % (beyond / MIB, beyond / n_obj, (beyond - 8 * n_edge) / n_obj, budget / MIB,
                               graph.get("object_table_bytes", 0) / n_obj, graph.get("edge_bytes", 0) / n_edge))
    goals(res, gdb, tracked, mem)


def goals(res, gdb, tracked, mem):
    """Issue 18's goals (set for the 10M core, warm page cache, wall time)."""
    print("goals (issue 18, set for the 10M core; judged on wall time, cpu alongside):")

    def line(text, ok, have):
        print("  %-55s %-8s %s" % (text, verdict(ok), have))

    def wall(cmd, src):
        return res[cmd, src]["wall"] if (cmd, src) in res else None

    def cpu(cmd):
        return res[cmd, "core"]["cpu"]

    t = wall("types", "core")
    if t is not None:
        line("types >= 10M objects/s", tracked / t >= 10e6, "%.2f M/s (by cpu %.2f)" % (tracked / t / 1e6, tracked / cpu("types") / 1e6))
        if gdb:
            line("types >= 7x faster than the GDB walk", gdb["wall"] / t >= 7, "%.2fx (by cpu %.2fx)" % (gdb["wall"] / t, gdb["cpu"] / cpu("types")))
    c = wall("cycles", "core")
    if c is not None:
        line("cycles <= 3 s", c <= 3, "%.2f s (cpu %.2f)" % (c, cpu("cycles")))
        if gdb:
            line("cycles >= 5x faster than the GDB walk", gdb["wall"] / c >= 5, "%.2fx (by cpu %.2fx)" % (gdb["wall"] / c, gdb["cpu"] / cpu("cycles")))
    p = wall("top", "core")
    if p is not None:
        line("top <= 4 s", p <= 4, "%.2f s (cpu %.2f)" % (p, cpu("top")))
    if p is not None and c is not None:
        rt = p / c
        rm = res["top", "core"]["rss_kib"] / res["cycles", "core"]["rss_kib"]
        line("top within 1.3x of cycles (time and memory)", rt <= 1.3 and rm <= 1.3, "time %.2fx, rss %.2fx" % (rt, rm))
    later = [(cmd, r["wall"]) for (cmd, src), r in res.items() if src == "index"]
    if later:
        worst = max(later, key=lambda x: x[1])
        line("any command on an indexed core <= 0.5 s", worst[1] <= 0.5, "slowest %s %.2f s" % worst)
    quick = [(cmd, r["wall"]) for (cmd, src), r in res.items() if src == "index" and cmd in ADDR_COMMANDS]
    if quick:
        worst = max(quick, key=lambda x: x[1])
        line("path/show/referrers on an indexed core <= 0.2 s", worst[1] <= 0.2, "slowest %s %.2f s" % worst)
    if mem:
        line("cycles memory <= 32 B/object + 8 B/edge beyond the core", mem[0] <= mem[1],
             "%.0f of %.0f MiB" % (mem[0] / MIB, mem[1] / MIB))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("coreheap")
    ap.add_argument("--sizes", default="1M,10M,40M", help="GC-tracked objects of each bench_types core")
    ap.add_argument("--ext", type=count_arg, default=10**6, help="objects of the extension-types core (0: none)")
    ap.add_argument("--python", default=bench_types.DEFAULT_PYTHON, help="interpreter of the bench_types cores")
    ap.add_argument("--ext-python", default="/usr/bin/python3.11",
                    help="interpreter with mypy (mypyc) and lxml for the extension-types core")
    ap.add_argument("--workdir", help="where cores are cached (default BUILD/bench-cores or /tmp)")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--commands", default="types,cycles,top,path,show,referrers")
    ap.add_argument("--later", default=",".join(LATER),
                    help="commands timed from the index only (%s; empty: none)" % ",".join(LATER))
    ap.add_argument("--regen", action="store_true", help="make the cores again even if cached")
    ap.add_argument("--no-gdb", action="store_true", help="skip the GDB reference walk")
    ap.add_argument("--delete-cores", action="store_true", help="delete each core and its index once measured")
    a = ap.parse_args()
    a.commands = a.commands.split(",")
    a.later = [c for c in a.later.split(",") if c]
    unknown = [c for c in a.later if c not in LATER]
    if unknown:
        ap.error("--later: unknown command(s) %s" % ",".join(unknown))
    coreheap = os.path.abspath(a.coreheap)
    if not os.access(coreheap, os.X_OK):
        bench_types.die("%s is not an executable" % a.coreheap)
    workdir = os.path.abspath(a.workdir or bench_types.default_workdir(coreheap))
    os.makedirs(workdir, exist_ok=True)
    plan = [(n, a.python, bench_types.SCENARIO, ("-I", "-S"), "types")
            for n in (count_arg(s) for s in a.sizes.split(",") if s)]
    if a.ext:
        plan.append((a.ext, a.ext_python, EXT_SCENARIO, ("-I",), "ext"))
    figures = []
    for n, python, scenario, flags, prefix in plan:
        print("### %s core of %s GC-tracked objects" % (prefix, human(n)), flush=True)
        core, meta = bench_types.make_core(python, workdir, n, a.regen, scenario, flags, prefix)
        fig = bench_core(a, coreheap, core, meta, python)
        report(a, fig)
        figures.append(fig)
        if a.delete_cores:
            for path in (core, core + ".chindex", core[:-len(".core")] + ".json"):
                if os.path.exists(path):
                    os.unlink(path)
    if len(figures) > 1:
        print("\n==== all cores (repeated)")
        for fig in figures:
            report(a, fig)


if __name__ == "__main__":
    main()
