"""GDB reference for the bench: count the objects on the GC lists of a core.

usage: gdb -nx -batch -q PYTHON CORE -x tests/bench/gdb_gc_walk.py

Run by bench_sizes.py only, as a peer to compare with; coreheap never
calls GDB. It finds the main interpreter's garbage-collector state in the
interpreter's debug info, takes every `struct gc_generation` in it (the
three generations and the permanent one), and follows each list's
`_gc_next` links from its head back to the head, reading 8 bytes of the
core per object. Prints one line:

    gdb_gc_walk: N objects (gen0=A gen1=B gen2=C permanent=D) walk S s

or `gdb_gc_walk: error: ...` and exits with status 1.
"""
import struct
import sys
import time

import gdb

LIMIT = 1 << 32  # links followed per list before giving up (a corrupt cycle)


def fail(msg):
    print("gdb_gc_walk: error: " + msg, flush=True)
    gdb.execute("quit 1")


def gc_state():
    # 3.9+: per interpreter; 3.8: in the runtime.
    for expr in ("_PyRuntime.interpreters.main->gc", "_PyRuntime.gc"):
        try:
            return gdb.parse_and_eval(expr)
        except gdb.error:
            continue
    fail("no garbage-collector state in the debug info (_PyRuntime)")


def generations(gc):
    """(name, gdb.Value of struct gc_generation) for each list head in gc."""
    out = []
    for field in gc.type.strip_typedefs().fields():
        t = field.type.strip_typedefs()
        if t.code == gdb.TYPE_CODE_STRUCT and t.tag == "gc_generation":
            out.append((field.name.replace("_generation", ""), gc[field.name]))
        elif t.code == gdb.TYPE_CODE_ARRAY and t.target().strip_typedefs().tag == "gc_generation":
            lo, hi = t.range()
            for i in range(lo, hi + 1):
                out.append(("gen%d" % i, gc[field.name][i]))
    if not out:
        fail("no struct gc_generation in the garbage-collector state")
    return out


def walk(inferior, gen):
    head = int(gen["head"].address)
    nxt = int(gen["head"]["_gc_next"])
    n = 0
    unpack = struct.Struct("<Q").unpack
    while nxt != head:
        if nxt == 0 or n >= LIMIT:
            fail("list at 0x%x broken after %d objects" % (head, n))
        n += 1
        nxt = unpack(inferior.read_memory(nxt, 8).tobytes())[0]
    return n


def main():
    gens = generations(gc_state())
    inferior = gdb.selected_inferior()
    t0 = time.perf_counter()
    counts = [(name, walk(inferior, g)) for name, g in gens]
    dt = time.perf_counter() - t0
    print("gdb_gc_walk: %d objects (%s) walk %.3f s"
          % (sum(c for _, c in counts), " ".join("%s=%d" % nc for nc in counts), dt), flush=True)


try:
    main()
except gdb.error as e:
    fail(str(e))
sys.stdout.flush()
