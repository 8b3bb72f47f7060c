#!/usr/bin/env python3
"""Benchmark the heap index: each heap command from the core (--no-index)
and from its index, on a bench_types core of ~N GC-tracked objects.

usage: bench_index.py COREHEAP [PYTHON [WORKDIR [OBJECTS]]] [--runs R] [--regen]
       [--commands types,cycles,top,path]

For each command: min CPU, wall and peak RSS of R runs without an index;
the time and size of `coreheap index`; the same command from the index.
Prints numbers; asserts nothing about time (tests/bench/README.md).
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_types  # noqa: E402  (make_core, measure: one copy of each)


def first_address(coreheap, core):
    out = subprocess.run([coreheap, "find", core, "--type", "list", "--json", "--limit", "1", "--no-index"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return json.loads(out)["objects"][0]["address"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("coreheap")
    ap.add_argument("python", nargs="?", default=bench_types.DEFAULT_PYTHON)
    ap.add_argument("workdir", nargs="?")
    ap.add_argument("objects", nargs="?", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--regen", action="store_true")
    ap.add_argument("--commands", default="types,cycles,top,path")
    a = ap.parse_args()
    coreheap = os.path.abspath(a.coreheap)
    workdir = os.path.abspath(a.workdir or bench_types.default_workdir(coreheap))
    os.makedirs(workdir, exist_ok=True)
    core, meta = bench_types.make_core(a.python, workdir, a.objects, a.regen)
    index = core + ".chindex"
    err = os.path.join(workdir, "bench_index.err")
    if os.path.exists(index):
        os.unlink(index)
    cmds = a.commands.split(",")
    addr = first_address(coreheap, core) if "path" in cmds else None

    def argv(cmd, *extra):
        args = [coreheap, cmd, core] + ([addr] if cmd == "path" else []) + ["--json", "-o", "/dev/null"]
        return args + list(extra)

    rows = []
    for cmd in cmds:
        built = bench_types.measure(argv(cmd, "--no-index"), a.runs, err, cmd)
        rows.append((cmd, "core", built))
    idx = bench_types.measure([coreheap, "index", core, "--json", "-o", "/dev/null"], 1, err, "index")
    size = os.path.getsize(index)
    for cmd in cmds:
        rows.append((cmd, "index", bench_types.measure(argv(cmd), a.runs, err, cmd)))
    print()
    print("%-8s %-6s %9s %9s %10s" % ("command", "from", "cpu s", "wall s", "rss MiB"))
    for cmd, src, r in rows:
        print("%-8s %-6s %9.3f %9.3f %10.1f" % (cmd, src, min(x["cpu"] for x in r), min(x["wall"] for x in r),
                                               min(x["rss_kib"] for x in r) / 1024))
    objects = meta.get("tracked", a.objects)
    print("bench_index: %d GC-tracked objects (python %s); index written in %.2f s wall, %.1f MiB (%.1f bytes/object)"
          % (objects, meta.get("python", "?"), idx[0]["wall"], size / 2**20, size / max(objects, 1)))


if __name__ == "__main__":
    main()
