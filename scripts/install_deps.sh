#!/usr/bin/env bash
# Installs what coreheap needs to build and test on Debian bookworm.
# Idempotent; quiet unless something is missing. (gdb: some tests use it as
# an oracle to locate addresses in fixture cores; coreheap never runs it.
# zstd, lz4, xz-utils, gzip: the bad-input tests compress cores with them.
# The package tests (ctest -L package): dpkg-dev for dpkg-shlibdeps, which
# computes the .deb's Depends, and file, which CPack runs to find the ELF
# files to give it; man-db and groff-base render the man page; zsh runs the
# zsh completion. chromium: only the browser test of `coreheap report`
# (ctest -L report) opens the HTML page in it, headless; coreheap itself
# never runs it.)
set -euo pipefail
pkgs=(cmake gcc make pkg-config libelf-dev libdwarf-dev libjansson-dev libzstd-dev zlib1g-dev liblz4-dev liblzma-dev
      python3 gdb zstd lz4 xz-utils gzip dpkg-dev file man-db groff-base zsh chromium)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "installing: ${missing[*]}" >&2
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
