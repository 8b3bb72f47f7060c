"""Heap for the `coreheap types` benchmark: about N GC-tracked objects, then a core.

Run by bench_types.py under the interpreter being measured (CPython 3.8+),
as `python -I -S bench_types_scenario.py N META.json` with `ulimit -c
unlimited`, in the directory where the kernel should write the core
(core_pattern `core`).  It writes META.json (what the interpreter itself
counts) and then calls os.abort().

The heap, built with automatic gc disabled so that placement is exact:
  - start-up objects: gc.freeze()                        -> permanent
  - 60 % of the units, then gc.collect()                 -> generation 2
  - 25 % of the units, then gc.collect(0)                -> generation 1
  - 15 % of the units, then top-up with empty lists      -> generation 0
A unit is an instance of each of a few user classes (with __dict__ and with
__slots__), a list, a dict and a tuple, all linked so that each stays
tracked (a dict or tuple of atomic values may be untracked by a collection).
N counts every tracked object, the frozen ones included, i.e. what
`coreheap types` reports as totals.count.
"""
import gc
import json
import os
import sys


class Record:
    def __init__(self, i, owner):
        self.i = i
        self.owner = owner
        self.name = "r"


class Event(Record):
    pass


class Point:
    __slots__ = ("x", "y", "link")

    def __init__(self, x, link):
        self.x = x
        self.y = -x
        self.link = link


class Cell:
    __slots__ = ("value", "next")

    def __init__(self, value, nxt):
        self.value = value
        self.next = nxt


def unit(i):
    items = [i, None, None]
    rec = (Record if i & 1 else Event)(i, items)
    pt = Point(i, rec)
    cell = Cell(pt, None)
    meta = {"i": i, "cell": cell}
    tup = (i, items, meta)
    items[1] = rec
    items[2] = tup
    if i % 7 == 0:
        items.extend(range(i % 50))  # some longer lists: ob_size varies
    return tup


def tracked():
    # gc.get_objects() leaves out the permanent generation.
    return len(gc.get_objects()) + gc.get_freeze_count()


def main():
    target = int(sys.argv[1])
    meta_path = sys.argv[2]
    gc.disable()
    keep = []
    gc.collect()
    gc.freeze()
    base = tracked()

    probe = 2000
    chunk = [unit(i) for i in range(probe)]
    keep.append(chunk)
    per_unit = (tracked() - base) / probe
    units = max(0, int((target - base) / per_unit) - probe)

    i = probe
    n_old, n_mid = int(units * 0.60), int(units * 0.25)
    n_young = units - n_old - n_mid
    for n, collect in ((n_old, lambda: gc.collect()), (n_mid, lambda: gc.collect(0)), (n_young, None)):
        for start in range(0, n, 10000):
            chunk = [unit(j) for j in range(i + start, i + min(n, start + 10000))]
            keep.append(chunk)
        i += n
        if collect:
            collect()
    # Exact top-up (or nothing if the estimate overshot) with empty lists.
    missing = target - tracked()
    if missing > 0:
        keep.append([[] for _ in range(missing - 1)])

    meta = {
        "python": sys.version.split()[0],
        "target": target,
        "units": i,
        "tracked": tracked(),
        "generations": [len(gc.get_objects(generation=g)) for g in range(3)],
        "permanent": gc.get_freeze_count(),
        "pid": os.getpid(),
    }
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.abort()


main()
