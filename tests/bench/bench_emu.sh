#!/usr/bin/env bash
# bench_emu.sh COREHEAP [PYTHON [WORKDIR [OBJECTS]]]
#
# Cost of emulated tp_traverse: `coreheap cycles` user CPU time on a heap
# of OBJECTS (default 400000) itertools.repeat objects (unmodelled: each
# one's traverse runs in the emulator), the same number of cells (modelled,
# same shape), and a mix of four unmodelled types. Emulated objects per
# second of CPU = OBJECTS / (repeat - cell). Prints numbers, asserts nothing.
set -euo pipefail
coreheap=$1
python=${2:-$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.12.1/bin/python3.12}
work=${3:-/tmp/coreheap-bench-emu}
n=${4:-400000}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
for kind in repeat cell mixed; do
	core="$work/core.$kind.$n"
	if [ ! -f "$core" ]; then
		# (the outer braces hide bash's own "Aborted (core dumped)")
		{ (cd "$work" && ulimit -c unlimited && exec "$python" -I -S "$here/bench_emu_scenario.py" "$n" "$kind"); } 2>/dev/null || true
		[ -f "$work/core" ] || { echo "bench_emu: no core for $kind (core_pattern must be 'core')" >&2; exit 1; }
		mv "$work/core" "$core"
	fi
	best=
	for run in 1 2 3; do
		# every object emulated: no fixed-offset shapes (readers/cpython/py_refs_shape.c)
		t=$( { CH_EMULATION=noshape /usr/bin/time -f '%U %S' "$coreheap" cycles "$core" -q >/dev/null; } 2>&1 | tail -1)
		cpu=$(echo "$t" | awk '{printf "%.3f", $1 + $2}')
		if [ -z "$best" ] || awk "BEGIN{exit !($cpu < $best)}"; then best=$cpu; fi
	done
	echo "$kind: $n objects, cycles $best s CPU (best of 3)"
	eval "cpu_$kind=$best"
done
awk -v n="$n" -v r="$cpu_repeat" -v c="$cpu_cell" 'BEGIN {
	if (r > c) printf "emulation: %.2f us per object, %.0f emulated objects per CPU second\n", (r - c) * 1e6 / n, n / (r - c) }'
