#!/usr/bin/env bash
# distro_run.sh INTERPRETERS_DIR NAME WORKDIR COREHEAP [--with ARG]... -- COMMAND [ARGS...]
#
# Runs COMMAND for the distro interpreter NAME (bookworm-3.11, sid-3.13, ...)
# that scripts/setup_interpreters.sh prepared in INTERPRETERS_DIR, with these
# words of COMMAND replaced:
#   @PYTHON@     the interpreter (or the wrapper that runs it through its loader)
#   @DEBUG_DIR@  the root of its separate debug files
#   @VERSION@    its version (3.X.Y), as the setup recorded it
#   @COREHEAP@   WORKDIR/coreheap, a wrapper of COREHEAP that adds
#                --debug-dir DEBUG_DIR and each --with ARG to every command
#   @SYSROOT@, @EXE@  the SYSROOT= and EXE= the setup recorded, if any
#                (scripts/setup_arm64.sh: the arm64 sysroot and its python3.11)
# When the setup found no usable NAME, prints "distro: SKIP: NAME: <reason>"
# and exits 77 (ctest reports it as skipped, with the reason in the log).
set -u
usage() { echo "usage: distro_run.sh DIR NAME WORKDIR COREHEAP [--with ARG]... -- COMMAND..." >&2; exit 2; }
[ $# -ge 6 ] || usage
dir=$1 name=$2 work=$3 coreheap=$4
shift 4
with=()
while [ $# -ge 2 ] && [ "$1" = --with ]; do with+=("$2"); shift 2; done
[ $# -ge 2 ] && [ "$1" = -- ] || usage
shift
status="$dir/status/$name"
if [ ! -f "$status" ]; then
	echo "distro: SKIP: $name: its setup script has not prepared it in $dir (the distro.setup or arm64.setup test runs it)"
	exit 77
fi
if [ "$(cat "$status")" != ok ]; then
	echo "distro: $name: $(cat "$status")" | sed 's/: SKIP: /: /; s/^distro: /distro: SKIP: /'
	exit 77
fi
PYTHON=$(sed -n 's/^PYTHON=//p' "$status.env")
DEBUG_DIR=$(sed -n 's/^DEBUG_DIR=//p' "$status.env")
VERSION=$(sed -n 's/^VERSION=//p' "$status.env")
SYSROOT=$(sed -n 's/^SYSROOT=//p' "$status.env")
EXE=$(sed -n 's/^EXE=//p' "$status.env")
subst() {
	local a=$1
	a=${a//@PYTHON@/$PYTHON}
	a=${a//@DEBUG_DIR@/$DEBUG_DIR}
	a=${a//@VERSION@/$VERSION}
	a=${a//@SYSROOT@/$SYSROOT}
	a=${a//@EXE@/$EXE}
	a=${a//@COREHEAP@/$wrapper}
	printf '%s' "$a"
}
mkdir -p "$work" || exit 1
wrapper="$work/coreheap"
extra=""
for a in "${with[@]}"; do extra="$extra $(printf '%q' "$(subst "$a")")"; done
printf '#!/bin/sh\nsub=$1; shift\nexec %q "$sub" --debug-dir %q%s "$@"\n' "$coreheap" "$DEBUG_DIR" "$extra" >"$wrapper.tmp.$$" &&
	chmod +x "$wrapper.tmp.$$" && mv "$wrapper.tmp.$$" "$wrapper" || exit 1
args=()
for a in "$@"; do
	args+=("$(subst "$a")")
done
exec "${args[@]}"
