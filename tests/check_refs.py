#!/usr/bin/env python3
"""Compare `coreheap referents CORE ADDR --json` with the truth that
fixtures/scenario_refs.py recorded (gc.get_referents and sys.getsizeof).

For every recorded object (but see "unknown_" below):
  * references: the set of targets coreheap reports with traversed=true must
    equal the set of id()s gc.get_referents returned. gc.get_referents calls
    exactly the type's tp_traverse (and nothing for objects that are not GC
    objects), which is the contract of `traversed`.
  * size: coreheap's full size must equal sys.getsizeof. getsizeof is the
    type's __sizeof__ plus the GC head for GC objects (3.8-3.10:
    sizeof(PyGC_Head) when PyObject_IS_GC; 3.11+: _PyType_PreHeaderSize, i.e.
    GC head plus the managed dict/weakref pre-header words), and the
    __sizeof__ of list, dict, set and bytearray already count their owned
    buffers, so no adjustment is needed for the objects the scenario builds.
    The documented differences are type objects: for a heap type coreheap
    adds the PyMemberDef array of its __slots__ that follows the type object
    in memory (type.__sizeof__ counts sizeof(PyHeapTypeObject) plus the cached
    keys only), so it reports getsizeof + members * sizeof(PyMemberDef) (40);
    a static type has no GC head in memory, which getsizeof adds on 3.11 and
    3.12 (_PyType_PreHeaderSize looks at PyType_Type's HAVE_GC flag), so
    there coreheap reports getsizeof - 16. And 3.13+ instances with inline
    values (3.14+ also subclasses of dict and list): coreheap adds the values
    block allocated after the object (_PyInlineValuesSize: capacity rounded
    to 8 + (capacity + 1) pointers), which object.__sizeof__ and
    dict/list.__sizeof__ omit; the scenario records the capacity byte.
    3.8-3.10 frame objects: coreheap reports what PyFrame_New allocates,
    tp_basicsize + ob_size * 8, which is 8 more than frame.__sizeof__ (that
    subtracts the f_localsplus[1] slot already inside sizeof(PyFrameObject)).
  * --verify-traverse: the emulated tp_traverse of every object of a
    modelled type equals the reader's traversed references (none listed
    in traverse_mismatches), and at least one object was compared.
  * objects named unknown_*: GC types py_refs does not model; their own
    tp_traverse is emulated (readers/emulator), so the rule above holds for
    them too, with "exact": true and no conservative words reported (a
    non-GC C type, which has no tp_traverse, is scanned conservatively).

Usage: check_refs.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed), 77 when
the interpreter is missing.
"""
import argparse
import json
import os
import subprocess
import sys

MEMBERDEF_SIZE = 40  # sizeof(PyMemberDef) on x86_64


def expected_size(o, version):
    """sys.getsizeof adjusted by the documented differences (docstring)."""
    minor = int(version.split(".")[1])
    if o["type"] == "frame" and minor <= 10:
        return o["size"] + 8
    if "inline_capacity" in o:
        cap = o["inline_capacity"]
        return o["size"] + (cap + 7) // 8 * 8 + (cap + 1) * 8
    if "heap_type" not in o:
        return o["size"]
    if o["heap_type"]:
        return o["size"] + MEMBERDEF_SIZE * o["members"]
    return o["size"] - (16 if minor in (11, 12) else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--only", help="check just this object name")
    args = ap.parse_args()
    if not os.path.exists(args.python):
        print("check_refs: SKIP: interpreter %s not found" % args.python)
        return 77
    with open(args.truth) as f:
        truth = json.load(f)
    failures = 0
    checked = 0
    objects = [o for o in truth["objects"] if not args.only or o["name"] == args.only]
    # One `referents` call with every address (the core is opened once),
    # with --verify-traverse: every modelled object's own tp_traverse is
    # emulated as well and must agree with the hand-written reader.
    cmd = [args.coreheap, "referents", args.core] + [hex(o["address"]) for o in objects] + [
        "--json", "-q", "--verify-traverse"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    out = json.loads(p.stdout) if p.stdout.strip() else {}
    for m in out.get("traverse_mismatches", []):
        print("FAIL --verify-traverse: %s (%s) -> %s (%s): tp_traverse visits it %d times, the reader %d" % (
            m["object"], m["type"], m["target"], m["target_type"], m["emulated"], m["modelled"]))
        failures += 1
    if p.returncode not in (0, 5) and not (p.returncode == 1 and failures):
        print("FAIL: coreheap referents exited %d: %s" % (p.returncode, p.stderr.strip()))
        return 1
    verified = out.get("traverse_verified", {})
    if not verified.get("objects"):
        print("FAIL --verify-traverse: nothing was compared (%s)" % verified)
        failures += 1
    docs = {int(d["object"]["address"], 16): d for d in out["objects"]} if "objects" in out else \
        {int(out["object"]["address"], 16): out}
    for o in objects:
        doc = docs.get(o["address"])
        if doc is None:
            print("FAIL %s: no referents entry for 0x%x" % (o["name"], o["address"]))
            failures += 1
            continue
        refs = doc["referents"]
        got = {int(r["address"], 16) for r in refs if r["traversed"]}
        want = set(o["referents"])
        if o["name"].startswith("unknown_"):
            # a type py_refs does not model: emulated, so exact like the rest.
            # A non-GC one (re.Pattern before 3.10) has no tp_traverse: its
            # words are scanned conservatively, none traversed, as the
            # collector cannot see through it either.
            conservative = [r["address"] for r in refs if r["kind"] == "conservative"]
            if doc["object"].get("exact") is not True or (conservative and o.get("is_gc", True)):
                print("FAIL %s: not emulated (exact %s: %s; conservative words %s)" % (
                    o["name"], doc["object"].get("exact"), doc["object"].get("conservative_reason"), conservative))
                failures += 1
                continue
        checked += 1
        problems = []
        warned = [w for w in out.get("warnings", []) if "0x%x" % o["address"] in w]
        if warned:
            problems.append("partial result: %s" % warned)
        if got != want:
            missing = want - got
            extra = got - want
            problems.append("traversed set differs: missing %s, extra %s (reported: %s)" % (
                sorted(hex(x) for x in missing), sorted(hex(x) for x in extra),
                ["%s %s %s%s" % (r["address"], r["kind"], r["label"], "" if r["traversed"] else " (not traversed)")
                 for r in refs]))
        size = doc["object"]["size"]
        want_size = expected_size(o, truth["version"])
        if size != want_size:
            problems.append("size %d != %d (getsizeof %d)" % (size, want_size, o["size"]))
        if problems:
            failures += 1
            print("FAIL %s (%s at 0x%x):" % (o["name"], o["type"], o["address"]))
            for pr in problems:
                print("    " + pr)
        else:
            print("ok   %s (%s): %d traversed, size %d" % (o["name"], o["type"], len(got), size))
    print("check_refs: %d objects checked, %d failed (CPython %s)" % (checked, failures, truth["version"]))
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
