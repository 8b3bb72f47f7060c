#!/bin/sh
# layout_zstd.sh LIBPYTHON WORKDIR PYTHON CHECK_LAYOUT TABLE COREHEAP VERSION
# Recompresses LIBPYTHON's debug sections with zstd (objcopy, binutils 2.40+)
# into WORKDIR under the same file name and checks that `coreheap layout
# --dump` of the copy is exactly TABLE (tests/check_layout.py regen).
# Exit 77 (skipped, reason printed) without the library or zstd-capable objcopy.
lib=$1 work=$2 python=$3 check=$4 table=$5 coreheap=$6 version=$7
if [ ! -f "$lib" ]; then
	echo "check_layout: SKIP: $lib not found"
	exit 77
fi
mkdir -p "$work" || exit 1
copy=$work/$(basename "$lib")
if ! objcopy --compress-debug-sections=zstd "$lib" "$copy" 2>/dev/null; then
	echo "check_layout: SKIP: objcopy cannot write zstd-compressed sections"
	exit 77
fi
exec "$python" "$check" regen --version "$version" --lib "$copy" --table "$table" --coreheap "$coreheap"
