#!/bin/sh
# Regenerates the built-in glibc malloc tables readers/allocators/glibc_tables/<build-id>.glibc
# with `coreheap layout --glibc` from libc debug files (libc6-dbg), so that a
# core whose libc is the same build but has no debug file installed is still
# read (readers/allocators/glibc_table.h):
#  - Debian bookworm's libc6 (/lib/x86_64-linux-gnu/libc.so.6) from the
#    build-id debug file libc6-dbg installs under /usr/lib/debug.
# Never edit a table by hand; tests/cmake/memory.cmake checks that each
# committed table is exactly what this script's command produces.
#
# usage: scripts/gen_glibc_tables.sh [COREHEAP]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
coreheap=${1:-$here/build/coreheap}
out=$here/readers/allocators/glibc_tables
mkdir -p "$out"
libc=/lib/x86_64-linux-gnu/libc.so.6
id=$(readelf -n "$libc" 2>/dev/null | sed -n 's/.*Build ID: *//p')
dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
ver=$(dpkg-query -W -f '${Version}' libc6 2>/dev/null | sed 's/-.*//')
if [ -z "$id" ] || [ ! -f "$dbg" ] || [ -z "$ver" ]; then
	echo "gen_glibc_tables: no debug file for $libc (apt-get install libc6-dbg); tables left as they are" >&2
	exit 0
fi
"$coreheap" layout --glibc "$dbg" --version "$ver" -o "$out/$id.glibc.tmp"
mv "$out/$id.glibc.tmp" "$out/$id.glibc"
echo "gen_glibc_tables: $out/$id.glibc from $dbg ($libc, glibc $ver)"
