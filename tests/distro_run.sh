#!/usr/bin/env bash
# distro_run.sh INTERPRETERS_DIR NAME WORKDIR COREHEAP -- COMMAND [ARGS...]
#
# Runs COMMAND for the distro interpreter NAME (bookworm-3.11, sid-3.13, ...)
# that scripts/setup_interpreters.sh prepared in INTERPRETERS_DIR, with these
# words of COMMAND replaced:
#   @PYTHON@     the interpreter (or the wrapper that runs it through its loader)
#   @DEBUG_DIR@  the root of its separate debug files
#   @VERSION@    its version (3.X.Y), as the setup recorded it
#   @COREHEAP@   WORKDIR/coreheap, a wrapper of COREHEAP that adds
#                --debug-dir DEBUG_DIR to every command
# When the setup found no usable NAME, prints "distro: SKIP: NAME: <reason>"
# and exits 77 (ctest reports it as skipped, with the reason in the log).
set -u
[ $# -ge 6 ] && [ "$5" = -- ] || { echo "usage: distro_run.sh DIR NAME WORKDIR COREHEAP -- COMMAND..." >&2; exit 2; }
dir=$1 name=$2 work=$3 coreheap=$4
shift 5
status="$dir/status/$name"
if [ ! -f "$status" ]; then
	echo "distro: SKIP: $name: scripts/setup_interpreters.sh has not prepared it in $dir (the distro.setup test runs it)"
	exit 77
fi
if [ "$(cat "$status")" != ok ]; then
	echo "distro: $name: $(cat "$status")" | sed 's/: SKIP: /: /; s/^distro: /distro: SKIP: /'
	exit 77
fi
PYTHON=$(sed -n 's/^PYTHON=//p' "$status.env")
DEBUG_DIR=$(sed -n 's/^DEBUG_DIR=//p' "$status.env")
VERSION=$(sed -n 's/^VERSION=//p' "$status.env")
mkdir -p "$work" || exit 1
wrapper="$work/coreheap"
printf '#!/bin/sh\nsub=$1; shift\nexec %q "$sub" --debug-dir %q "$@"\n' "$coreheap" "$DEBUG_DIR" >"$wrapper.tmp.$$" &&
	chmod +x "$wrapper.tmp.$$" && mv "$wrapper.tmp.$$" "$wrapper" || exit 1
args=()
for a in "$@"; do
	a=${a//@PYTHON@/$PYTHON}
	a=${a//@DEBUG_DIR@/$DEBUG_DIR}
	a=${a//@VERSION@/$VERSION}
	a=${a//@COREHEAP@/$wrapper}
	args+=("$a")
done
exec "${args[@]}"
