#!/bin/sh
# Regenerates the built-in layout tables readers/cpython/layouts/<version>.layout
# with `coreheap layout --dump` from interpreter builds that have DWARF:
#  - pyenv builds (embedded DWARF): $(pyenv root)/versions/<version>/lib/libpython3.X.so.1.0
#  - Debian bookworm's python3.11 (3.11.2), from the separate debug file of
#    /usr/bin/python3.11 that the python3.11-dbg package installs, when present;
#  - Debian unstable's python3.14/python3.15 (3.14.10, 3.15.2) from their -dbg
#    debug files, as scripts/setup_interpreters.sh unpacked them into
#    $CH_INTERPRETERS_DIR (default build/interpreters; its status/sid-3.X.env
#    gives the version), when present.
# Never edit a table by hand; tests/cmake/layout.cmake checks that each
# committed table is exactly what this script's command produces.
#
# usage: scripts/gen_layouts.sh [COREHEAP] [VERSION...]
#   COREHEAP defaults to build/coreheap; VERSIONs default to the list below.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
coreheap=${1:-$here/build/coreheap}
[ $# -gt 0 ] && shift
versions=${*:-"3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0"}
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
out=$here/readers/cpython/layouts
mkdir -p "$out"

for v in $versions; do
	mm=${v%.*}
	lib=$root/versions/$v/lib/libpython$mm.so.1.0
	# 3.6/3.7 name it with the ABI flag: libpython3.Xm.so.1.0
	[ -f "$lib" ] || lib=$root/versions/$v/lib/libpython${mm}m.so.1.0
	if [ ! -f "$lib" ]; then
		echo "gen_layouts: $lib not found, $v.layout left as it is" >&2
		continue
	fi
	# 3.6-3.10 have no Py_Version: the version comes from the pyenv directory.
	"$coreheap" layout --dump "$lib" --version "$v" -o "$out/$v.layout.tmp"
	mv "$out/$v.layout.tmp" "$out/$v.layout"
	echo "gen_layouts: $out/$v.layout from $lib"
done

# Debian's statically linked /usr/bin/python3.11: its DWARF is in the
# build-id debug file; that file keeps no .rodata, so the version comes
# from the package.
deb=/usr/bin/python3.11
if [ -x "$deb" ] && command -v dpkg-query >/dev/null 2>&1; then
	id=$(readelf -n "$deb" 2>/dev/null | sed -n 's/.*Build ID: *//p')
	dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	dv=$(dpkg-query -W -f '${Version}' python3.11-minimal 2>/dev/null | sed 's/-.*//')
	if [ -n "$id" ] && [ -f "$dbg" ] && [ -n "$dv" ]; then
		"$coreheap" layout --dump "$dbg" --version "$dv" -o "$out/$dv.layout.tmp"
		mv "$out/$dv.layout.tmp" "$out/$dv.layout"
		echo "gen_layouts: $out/$dv.layout from $dbg ($deb, Debian $dv)"
	else
		echo "gen_layouts: no debug file for $deb (apt-get install python3.11-dbg), Debian table left as it is" >&2
	fi
fi

# Debian unstable's python3.13/3.14/3.15 (statically linked too), unpacked by
# scripts/setup_interpreters.sh: the version is the one the setup recorded.
idir=${CH_INTERPRETERS_DIR:-$here/build/interpreters}
for name in sid-3.13 sid-3.14 sid-3.15; do
	env=$idir/status/$name.env
	if [ "$(cat "$idir/status/$name" 2>/dev/null)" != ok ] || [ ! -f "$env" ]; then
		echo "gen_layouts: $name not set up in $idir (scripts/setup_interpreters.sh --only $name $idir), its table left as it is" >&2
		continue
	fi
	dv=$(sed -n 's/^VERSION=//p' "$env")
	dbgroot=$(sed -n 's/^DEBUG_DIR=//p' "$env")
	exe=$idir/sid/usr/bin/python${name#sid-}
	id=$(readelf -n "$exe" 2>/dev/null | sed -n 's/.*Build ID: *//p')
	dbg=$dbgroot/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	if [ -z "$id" ] || [ ! -f "$dbg" ] || [ -z "$dv" ]; then
		echo "gen_layouts: no debug file for $exe, $name table left as it is" >&2
		continue
	fi
	"$coreheap" layout --dump "$dbg" --version "$dv" -o "$out/$dv.layout.tmp"
	mv "$out/$dv.layout.tmp" "$out/$dv.layout"
	echo "gen_layouts: $out/$dv.layout from $dbg ($exe, Debian $dv)"
done
