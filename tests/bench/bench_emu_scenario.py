"""A heap for bench_emu.sh: N objects of one kind, then os.abort().

usage: python3.X -I -S bench_emu_scenario.py N KIND
KIND: repeat (itertools.repeat: unmodelled, its traverse is emulated),
      cell (types.CellType: modelled, the same shape: one reference),
      mixed (itertools.chain, re.Match, list_iterator, itertools.repeat)."""
import gc
import itertools
import os
import re
import sys
import types

gc.disable()
n, kind = int(sys.argv[1]), sys.argv[2]
x = ["shared"]
if kind == "repeat":
    objs = [itertools.repeat(x) for _ in range(n)]
elif kind == "cell":
    objs = [types.CellType(x) for _ in range(n)]
elif kind == "mixed":
    p = re.compile("a(b)")
    objs = []
    for i in range(n // 4):
        objs.extend((itertools.chain(x, x), p.match("ab"), iter(x), itertools.repeat(x)))
else:
    sys.exit("unknown kind " + kind)
os.abort()
