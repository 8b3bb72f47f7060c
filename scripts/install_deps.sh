#!/usr/bin/env bash
# Installs what coreheap needs to build and test on Debian bookworm.
# Idempotent; quiet unless something is missing. One package a line, with
# what needs it.
# test_pkgs: test dependencies only (coreheap never uses them): the realheap
# scenarios run real programs on Debian's python3.11 with Debian's own
# packages (mypy compiled with mypyc; lxml and PyYAML built with Cython;
# numpy; SQLAlchemy's C extensions), tests/cmake/realheap.cmake. Without
# them those tests SKIP. python3.11-dbg: the distro tests' bookworm
# interpreter's debug file (scripts/setup_interpreters.sh, run by the
# distro.setup test, would otherwise install it while other tests run).
test_pkgs=(python3-mypy python3-lxml python3-yaml python3-numpy python3-sqlalchemy python3.11-dbg)
set -euo pipefail
pkgs=(
	cmake gcc make pkg-config python3
	libelf-dev libdwarf-dev libjansson-dev   # ELF, DWARF, JSON
	libdw-dev                                # native frames: libdwfl unwinds (loaded with dlmopen at run time)
	libzstd-dev zlib1g-dev                   # compressed debug sections and cores
	liblz4-dev liblzma-dev                   # lz4 and xz cores
	libunicorn-dev                           # readers/emulator runs a type's own tp_traverse
	libdebuginfod-dev                        # debug files fetched by build-id
	libc6-dbg                                # glibc malloc layouts from DWARF (memory tests; a built-in table otherwise)
	gdb                                      # a test oracle locating addresses in fixture cores; coreheap never runs it
	zstd lz4 xz-utils gzip                   # the bad-input tests compress cores with them
	debuginfod                               # a test serves debug files from a local server on 127.0.0.1
	dpkg-dev file                            # package tests: dpkg-shlibdeps computes the .deb's Depends, CPack runs file
	man-db groff-base zsh                    # package tests: render the man page, run the zsh completion
	clang libclang-rt-14-dev                 # the fuzz suite: libFuzzer and its sanitizers
	chromium                                 # the browser test of `coreheap report` (headless); coreheap never runs it
	qemu-user                                # the nofile tests run scenarios under qemu-x86_64 (cores lack NT_FILE); the arm64 tests run Debian's arm64 python3.11 under qemu-aarch64
)
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
