#!/usr/bin/env bash
# check_numpy_layout.sh PYTHON COMMITTED.h WORKDIR
#
# The numpy layout header readers/cpython/py_refs_numpy.c reads object
# arrays with is generated (scripts/gen_numpy_layout.sh), never typed in:
# regenerate it from PYTHON's numpy headers and compare every offset and
# constant with the committed file (the numpy version it names may differ
# within the same ABI major version). Exit 77 when PYTHON has no numpy or
# no headers, 1 on a difference (regenerate the file with the script).
set -u
[ $# -eq 3 ] || { echo "usage: check_numpy_layout.sh PYTHON COMMITTED.h WORKDIR" >&2; exit 2; }
py=$1 committed=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" || exit 1
bash "$here/../scripts/gen_numpy_layout.sh" "$py" "$work/numpy_layout.h"
rc=$?
[ $rc -eq 0 ] || exit $rc
defs() { grep '^#define CH_NPY_' "$1" | grep -v '^#define CH_NPY_HEADERS_VERSION'; }
if ! diff <(defs "$committed") <(defs "$work/numpy_layout.h"); then
	echo "check_numpy_layout: FAIL: $committed differs from what $py's numpy headers give; run scripts/gen_numpy_layout.sh"
	exit 1
fi
echo "check_numpy_layout: passed ($(defs "$committed" | wc -l) definitions)"
