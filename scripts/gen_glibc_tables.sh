#!/bin/sh
# Regenerates the built-in glibc malloc tables readers/allocators/glibc_tables/<build-id>.glibc
# with `coreheap layout --glibc` from libc debug files (libc6-dbg), so that a
# core whose libc is the same build but has no debug file installed is still
# read (readers/allocators/glibc_table.h):
#  - Debian bookworm's libc6 (/lib/x86_64-linux-gnu/libc.so.6) from the
#    build-id debug file libc6-dbg installs under /usr/lib/debug;
#  - every other libc.so.6 given as LIBC=VERSION=DEBUG_ROOT arguments, whose
#    debug file is found by build-id under DEBUG_ROOT. Debian unstable's 2.43
#    (the sid interpreters' own libc) was made so:
#      cd /tmp && APT_CONFIG=<the sid roots' private apt.conf> apt-get download libc6-dbg=2.43-7
#      dpkg-deb -x libc6-dbg_2.43-7_amd64.deb /tmp/libc6-dbg-2.43
#      scripts/gen_glibc_tables.sh build/coreheap \
#        $CH_INTERPRETERS_DIR/sid/usr/lib/x86_64-linux-gnu/libc.so.6=2.43=/tmp/libc6-dbg-2.43/usr/lib/debug
# Never edit a table by hand; tests/cmake/memory.cmake checks that each
# committed table is exactly what this script's command produces.
#
# usage: scripts/gen_glibc_tables.sh [COREHEAP [LIBC=VERSION=DEBUG_ROOT...]]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
coreheap=${1:-$here/build/coreheap}
[ $# -gt 0 ] && shift
out=$here/readers/allocators/glibc_tables
mkdir -p "$out"

# gen LIBC VERSION DEBUG_ROOT
gen() {
	libc=$1 ver=$2 root=$3
	id=$(readelf -n "$libc" 2>/dev/null | sed -n 's/.*Build ID: *//p')
	dbg=$root/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	if [ -z "$id" ] || [ ! -f "$dbg" ] || [ -z "$ver" ]; then
		echo "gen_glibc_tables: no debug file for $libc under $root; its table left as it is" >&2
		return 0
	fi
	"$coreheap" layout --glibc "$dbg" --version "$ver" -o "$out/$id.glibc.tmp"
	mv "$out/$id.glibc.tmp" "$out/$id.glibc"
	echo "gen_glibc_tables: $out/$id.glibc from $dbg ($libc, glibc $ver)"
}

gen /lib/x86_64-linux-gnu/libc.so.6 "$(dpkg-query -W -f '${Version}' libc6 2>/dev/null | sed 's/-.*//')" /usr/lib/debug
for spec in "$@"; do
	libc=${spec%%=*} rest=${spec#*=}
	gen "$libc" "${rest%%=*}" "${rest#*=}"
done
