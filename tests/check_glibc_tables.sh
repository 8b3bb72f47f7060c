#!/usr/bin/env bash
# check_glibc_tables.sh COREHEAP TABLE_DIR [DEBUG_ROOT...]
#
# Each committed glibc table (readers/allocators/glibc_tables/<build-id>.glibc)
# must be exactly what `coreheap layout --glibc` makes from that libc's debug
# file, looked up by build-id under /usr/lib/debug and each DEBUG_ROOT
# (scripts/gen_glibc_tables.sh's command). Tables whose debug file is not on
# this machine are reported and not checked; exit 77 (SKIPPED) when none
# could be checked, 1 when one differs.
set -u
coreheap=$1 dir=$2
shift 2
roots=(/usr/lib/debug "$@")
checked=0 failed=0
for table in "$dir"/*.glibc; do
	[ -e "$table" ] || continue
	id=$(basename "$table" .glibc)
	dbg=
	for r in "${roots[@]}"; do
		f="$r/.build-id/${id:0:2}/${id:2}.debug"
		if [ -f "$f" ]; then dbg=$f; break; fi
	done
	if [ -z "$dbg" ]; then
		echo "check_glibc_tables: $id.glibc: no debug file for it here (not checked)"
		continue
	fi
	ver=$(sed -n 's/^version //p' "$table")
	if "$coreheap" layout --glibc "$dbg" --version "$ver" | cmp -s - "$table"; then
		echo "check_glibc_tables: $id.glibc is what $dbg makes"
		checked=$((checked + 1))
	else
		echo "check_glibc_tables: FAIL: $id.glibc differs from what $dbg makes (run scripts/gen_glibc_tables.sh)"
		failed=$((failed + 1))
	fi
done
[ $failed -eq 0 ] || exit 1
[ $checked -gt 0 ] || { echo "check_glibc_tables: SKIP: no table's debug file on this machine (apt-get install libc6-dbg)"; exit 77; }
exit 0
