#!/usr/bin/env bash
# Installs what coreheap needs to build and test on Debian bookworm.
# Idempotent; quiet unless something is missing. (gdb: some tests use it as
# an oracle to locate addresses in fixture cores; coreheap never runs it.)
# test_pkgs: test dependencies only (coreheap never uses them): the realheap
# scenarios run real programs on Debian's python3.11 with Debian's own
# packages (mypy compiled with mypyc; lxml and PyYAML built with Cython;
# numpy; SQLAlchemy's C extensions), tests/cmake/realheap.cmake. Without
# them those tests SKIP.
test_pkgs=(python3-mypy python3-lxml python3-yaml python3-numpy python3-sqlalchemy)
set -euo pipefail
pkgs=(cmake gcc make pkg-config libelf-dev libdwarf-dev libjansson-dev libzstd-dev zlib1g-dev python3 gdb)
missing=()
for p in "${pkgs[@]}" "${test_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "installing: ${missing[*]}" >&2
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
