#!/usr/bin/env bash
# Quick start: install dependencies, build coreheap, make a demo core dump of
# a small Python program that leaks, and show what coreheap finds in it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install_deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DCH_WERROR=OFF -DCH_SANITIZE=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc)" >/dev/null

# A CPython with debug info: a pyenv one if present, else the system python3
# (whose layouts then come from its -dbg package or a built-in table).
py=""
for v in 3.12.1 3.13.0 3.11.7 3.10.13 3.9.18 3.8.18; do
	cand="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/$v/bin/python${v%.*}"
	if [ -x "$cand" ]; then py=$cand; break; fi
done
[ -n "$py" ] || py=$(command -v python3)

demo="$root/build/demo"
mkdir -p "$demo"
rm -f "$demo"/core*
(
	cd "$demo"
	ulimit -c unlimited
	"$py" "$root/fixtures/demo_leak.py" || true
)
core=$(ls -t "$demo"/core* 2>/dev/null | head -n 1 || true)
if [ -z "$core" ]; then
	echo "demo: no core was written (is /proc/sys/kernel/core_pattern a pipe? it is: $(cat /proc/sys/kernel/core_pattern))" >&2
	exit 1
fi
echo "== coreheap summary $core"
"$root/build/coreheap" summary "$core"
echo
echo "== coreheap cycles $core"
"$root/build/coreheap" cycles "$core" --limit 3
echo
echo "== coreheap top --by type $core"
"$root/build/coreheap" top "$core" --by type --limit 5
echo
echo "== coreheap stacks $core"
"$root/build/coreheap" stacks "$core"
