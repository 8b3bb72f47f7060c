#!/usr/bin/env bash
# bench_mypy.sh COREHEAP [CORE] [--runs N]
#
# What emulating tp_traverse costs on a real heap: `coreheap cycles` on the
# realheap mypy core (fixtures/scenario_realheap_mypy.py: Debian's
# /usr/bin/python3.11 and python3-mypy, mypyc-compiled, dumped mid-check)
# with emulation (today: a type's traverse learnt as fixed offsets after 16
# objects), with every object emulated (CH_EMULATION=noshape) and with
# CH_EMULATION=off (no traverse run: the unmodelled types scanned
# conservatively, as before emulation existed).
# Prints the best of N runs (default 5) of CPU (user + system), wall and
# peak RSS for each, and their ratios; asserts nothing. CPU is the figure
# to compare on a shared machine (wall includes waiting for a core).
# Without CORE, makes one in /tmp/coreheap-bench-mypy with
# tests/make_fixture_core.sh (kernel.core_pattern must be `core`).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench_mypy.sh COREHEAP [CORE] [--runs N]" >&2; exit 2; }
coreheap=$(readlink -f "$1")
shift
core= runs=5
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	*) core=$1; shift ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$core" ]; then
	work=/tmp/coreheap-bench-mypy
	bash "$here/../make_fixture_core.sh" /usr/bin/python3.11 "$here/../../fixtures/scenario_realheap_mypy.py" \
		"$work" mypy >/dev/null
	core=$work/core.mypy
fi
# The interpreter's debug files, as the realheap tests use them.
debug=(--debug-dir /usr/lib/debug)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# best_of MODE: "cpu wall rss" of the run with the least CPU.
best_of() {
	local mode=$1 best= line
	for _ in $(seq "$runs"); do
		env CH_EMULATION="$mode" /usr/bin/time -o "$tmp" -f '%U %S %e %M' "$coreheap" cycles "$core" "${debug[@]}" -q \
			>/dev/null 2>&1
		line=$(tail -1 "$tmp" | awk '{printf "%.3f %.2f %d", $1 + $2, $3, $4 / 1024}')
		if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a < b)}'; then best=$line; fi
	done
	echo "$best"
}

json=$("$coreheap" cycles "$core" "${debug[@]}" --json -q --limit 1)
off_json=$(CH_EMULATION=off "$coreheap" cycles "$core" "${debug[@]}" --json -q --limit 1 2>/dev/null)
objects=$("$coreheap" types "$core" "${debug[@]}" --json -q | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["count"])')
read -r emulated types <<<"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); c=d["conservative_types"]; print(sum(x["objects"] for x in c), len(c))' "$off_json")"
read -r unr_on exact_on <<<"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["unreachable"]["objects"], d["exact"])' "$json")"
read -r unr_off <<<"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["unreachable"]["objects"])' "$off_json")"
on=$(best_of on)
noshape=$(best_of noshape)
off=$(best_of off)
row() { echo "cycles, $1: CPU ${2%% *} s, wall $(cut -d' ' -f2 <<<"$2") s, peak RSS $(cut -d' ' -f3 <<<"$2") MiB; $3"; }
ratio() { awk -v a="$2" -v b="$off" -v what="$1" 'BEGIN { split(a, x, " "); split(b, y, " ");
	printf "ratio %s/off: CPU %.2fx, wall %.2fx, RSS %.2fx\n", what, x[1] / y[1], x[2] / y[2], x[3] / y[3] }'; }
echo "core: $core ($objects objects; $emulated of them of $types unmodelled GC types, read through their traverse)"
row "emulation with fixed-offset shapes (default)" "$on" "unreachable $unr_on, exact $exact_on"
row "every object emulated (CH_EMULATION=noshape)" "$noshape" "same figures"
row "no emulation (CH_EMULATION=off)" "$off" "unreachable $unr_off, not exact"
ratio default "$on"
ratio noshape "$noshape"
echo "(best of $runs runs each; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"
