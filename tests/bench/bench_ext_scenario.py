"""Heap of extension-type objects for bench_sizes.py: about N GC-tracked
objects, most of them instances of classes compiled to C, then a core.

usage: python3.X -I bench_ext_scenario.py N META.json   (with `ulimit -c unlimited`)

Needs mypy compiled with mypyc and lxml (Cython), as Debian's python3-mypy
and python3-lxml are for /usr/bin/python3.11 (so `-I` without `-S`: the
site directory is where they live). Neither kind of type is modelled by
coreheap: the references of each object are read by running its
tp_traverse in the emulator (docs/emulation.md).

A unit: a mypy call expression `f(1, x)` (CallExpr holding a NameExpr,
and a list of an IntExpr and a NameExpr; the lists of argument kinds and
names are shared by all units) and two lxml elements (an element and its
child, in one document): 6 of its 7 tracked objects are of extension types. Automatic gc is disabled and
start-up objects are frozen; the top-up to exactly N tracked objects is
mypy NameExprs. Writes META.json as bench_types_scenario.py does.
"""
import gc
import json
import os
import sys

from lxml import etree
from mypy import nodes


KINDS = [nodes.ARG_POS, nodes.ARG_POS]
NAMES = [None, None]


def unit(i, root, out):
    out.append(nodes.CallExpr(nodes.NameExpr("f"), [nodes.IntExpr(i), nodes.NameExpr("x")], KINDS, NAMES))
    el = etree.SubElement(root, "e")
    out.append(el)
    out.append(etree.SubElement(el, "c"))


def units(start, stop, root):
    out = []
    for i in range(start, stop):
        unit(i, root, out)
    return out


def tracked():
    return len(gc.get_objects()) + gc.get_freeze_count()


def main():
    target = int(sys.argv[1])
    gc.disable()
    gc.collect()
    gc.freeze()
    keep = []
    root = etree.Element("root")
    keep.append(root)
    base = tracked()
    probe = 2000
    keep.append(units(0, probe, root))
    per_unit = (tracked() - base) / probe
    n_units = max(0, int((target - base) / per_unit) - probe)
    for start in range(0, n_units, 10000):
        keep.append(units(start, min(n_units, start + 10000), root))
    missing = target - tracked()
    if missing > 0:
        keep.append([nodes.NameExpr("y") for _ in range(missing - 1)])
    meta = {
        "python": sys.version.split()[0],
        "target": target,
        "units": probe + n_units,
        "tracked": tracked(),
        "generations": [len(gc.get_objects(generation=g)) for g in range(3)],
        "permanent": gc.get_freeze_count(),
        "pid": os.getpid(),
    }
    with open(sys.argv[2], "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    sys.stdout.flush()
    os.abort()


main()
