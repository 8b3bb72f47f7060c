#!/usr/bin/env python3
"""Benchmark `coreheap diff` on two snapshots of cores of ~N objects each.

usage: bench_diff.py COREHEAP [PYTHON [WORKDIR [OBJECTS]]] [--runs R] [--regen] [--types T]

Prints numbers; asserts nothing about time.  See tests/bench/README.md.
Python 3.8+ standard library only; reuses bench_types.py's cores.
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_types  # noqa: E402


def snapshot(coreheap, core, path):
    t0 = time.perf_counter()
    code, ru, wall = bench_types.run_once([coreheap, "snapshot", core, "-q", "-o", path], path + ".err")
    if code not in (0, 5):
        bench_types.die("snapshot of %s exited with %d" % (core, code))
    with open(path) as f:
        doc = json.load(f)
    print("snapshot: %s: %d objects, %d types, %d bytes (made in %.2f s cpu)"
          % (os.path.basename(path), doc["totals"]["count"], len(doc["types"]), os.path.getsize(path),
             ru.ru_utime + ru.ru_stime))
    return doc


def synthetic(base, ntypes, seed, path):
    """base with ntypes more types (bench.T000000...), counts varying by seed."""
    rnd = random.Random(seed)
    doc = json.loads(json.dumps(base))
    extra = []
    for i in range(ntypes):
        n = rnd.randint(1, 5000)
        extra.append({"type": "bench.mod%03d.T%06d" % (i % 997, i), "count": n, "bytes": 56 * n,
                      "gen": [0, 0, n, 0, 0]})
    doc["types"] = sorted(doc["types"] + extra, key=lambda t: t["type"].encode())
    doc["totals"]["count"] += sum(t["count"] for t in extra)
    doc["totals"]["bytes"] += sum(t["bytes"] for t in extra)
    doc["totals"]["types"] = len(doc["types"])
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    return os.path.getsize(path)


def time_diff(coreheap, a, b, runs, label, extra=()):
    rows = bench_types.measure([coreheap, "diff", a, b, "-q"] + list(extra), runs, "/tmp/bench_diff.err", label)
    cpu_min, cpu_med = bench_types.summarize(rows, "cpu")
    wall_min, wall_med = bench_types.summarize(rows, "wall")
    return cpu_min, cpu_med, wall_min, wall_med, max(r["rss_kib"] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("coreheap")
    ap.add_argument("python", nargs="?", default=bench_types.DEFAULT_PYTHON)
    ap.add_argument("workdir", nargs="?")
    ap.add_argument("objects", nargs="?", type=int, default=2000000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--regen", action="store_true")
    ap.add_argument("--types", type=int, default=100000, help="types added to the synthetic snapshots")
    a = ap.parse_args()
    coreheap = os.path.abspath(a.coreheap)
    workdir = a.workdir or bench_types.default_workdir(coreheap)
    os.makedirs(workdir, exist_ok=True)
    core_a, _ = bench_types.make_core(a.python, workdir, a.objects, a.regen)
    core_b, _ = bench_types.make_core(a.python, workdir, a.objects + a.objects // 10, a.regen)
    sa, sb = os.path.join(workdir, "diff-a.json"), os.path.join(workdir, "diff-b.json")
    snap_a = snapshot(coreheap, core_a, sa)
    snap_b = snapshot(coreheap, core_b, sb)
    print("diff of the two snapshots (%d and %d objects), text:" % (snap_a["totals"]["count"], snap_b["totals"]["count"]))
    text = time_diff(coreheap, sa, sb, a.runs, "text")
    print("diff of the two snapshots, --json:")
    js = time_diff(coreheap, sa, sb, a.runs, "json", ["--json"])
    ma, mb = os.path.join(workdir, "diff-many-a.json"), os.path.join(workdir, "diff-many-b.json")
    size = synthetic(snap_a, a.types, 1, ma)
    synthetic(snap_b, a.types, 2, mb)
    print("diff of two synthetic snapshots with %d more types each (%d bytes), --json:" % (a.types, size))
    many = time_diff(coreheap, ma, mb, a.runs, "many", ["--json"])
    print("bench_diff: snapshots %d / %d bytes for %d / %d objects (%d types); diff cpu %.3f s text, %.3f s json "
          "(min of %d; wall %.3f s); %d types: cpu %.3f s, wall %.3f s, peak rss %.1f MiB"
          % (os.path.getsize(sa), os.path.getsize(sb), snap_a["totals"]["count"], snap_b["totals"]["count"],
             len(snap_b["types"]), text[0], js[0], a.runs, js[2], a.types + len(snap_b["types"]), many[0], many[2],
             many[4] / 1024))


if __name__ == "__main__":
    main()
