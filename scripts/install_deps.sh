#!/usr/bin/env bash
# Installs what coreheap needs to build and test on Debian bookworm.
# Idempotent; quiet unless something is missing. (gdb: some tests use it as
# an oracle to locate addresses in fixture cores; coreheap never runs it.
# zstd, lz4, xz-utils, gzip: the bad-input tests compress cores with them.
# clang, libclang-rt-14-dev: the fuzz suite, libFuzzer and its sanitizers.)
set -euo pipefail
pkgs=(cmake gcc make pkg-config libelf-dev libdwarf-dev libjansson-dev libzstd-dev zlib1g-dev liblz4-dev liblzma-dev python3 gdb zstd lz4 xz-utils gzip clang libclang-rt-14-dev)
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
