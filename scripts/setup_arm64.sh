#!/usr/bin/env bash
# setup_arm64.sh OUTDIR
#
# Prepares an aarch64 (arm64) Debian bookworm python3.11 that the arm64 tests
# run under qemu-user, so that they can make real aarch64 cores of CPython on
# this x86_64 machine:
#
#   OUTDIR/sysroot/   python3.11, its libpython pieces, python3.11-dbg (the
#                     interpreter's separate debug file under
#                     usr/lib/debug/.build-id/), the libraries it loads
#                     (libc6, zlib1g, libexpat1, libffi8 for ctypes) and
#                     libc6-dbg (glibc malloc's layouts for `memory`), all
#                     arm64, unpacked with `dpkg-deb -x`.
#   OUTDIR/bin/python3.11-arm64
#                     a wrapper that runs it: qemu-aarch64 -L SYSROOT EXE.
#   OUTDIR/apt/       a private apt configuration (APT::Architecture arm64)
#                     whose sources are the system's own Debian entries; the
#                     system's apt and dpkg state are never touched (no
#                     `dpkg --add-architecture` is needed).
#   OUTDIR/debs/      the downloaded .deb files (cache).
#
# Result: OUTDIR/status/arm64-3.11 holds "ok" or "SKIP: <reason>", and when
# ok OUTDIR/status/arm64-3.11.env holds PYTHON= (the wrapper), EXE= (the
# aarch64 executable inside the sysroot), SYSROOT=, QEMU= (qemu-aarch64),
# DEBUG_DIR= and VERSION= (tests/distro_run.sh reads it). A second run with everything cached does no network access.
#
# Exit status: 0 usable, 77 not usable (reason printed and recorded: no
# qemu-aarch64, no network, ...), 2 bad usage.
set -uo pipefail

[ $# = 1 ] || { echo "usage: setup_arm64.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1" || exit 2
out=$(cd "$1" && pwd)
apt_dir="$out/apt" root="$out/sysroot" name=arm64-3.11
mkdir -p "$out/status" "$out/debs" "$out/bin" "$root" || exit 2

say() { echo "setup_arm64: $*"; }

if command -v flock >/dev/null; then
	exec 9>"$out/.lock"
	flock 9
fi

record() {   # record ok|reason
	if [ "$1" = ok ]; then
		echo ok >"$out/status/$name"
		local w="$out/bin/python3.11-arm64"
		# Rewritten only when it changes: the wrapper is the interpreter
		# tests/make_fixture_core.sh dates the arm64 cores against, so a
		# new mtime on every run would make them all again.
		printf '#!/bin/sh\n# The arm64 python3.11 of scripts/setup_arm64.sh, run by qemu-user.\nexec %s -L %s %s "$@"\n' \
			"$qemu" "$root" "$root/usr/bin/python3.11" >"$w.new" && chmod +x "$w.new" || exit 2
		if cmp -s "$w.new" "$w"; then rm -f "$w.new"; else mv -f "$w.new" "$w" || exit 2; fi
		printf 'PYTHON=%s\nEXE=%s\nSYSROOT=%s\nQEMU=%s\nDEBUG_DIR=%s\nVERSION=%s\n' "$w" "$root/usr/bin/python3.11" \
			"$root" "$qemu" "$root/usr/lib/debug" "$version" >"$out/status/$name.env"
		say "$name: ok (CPython $version under $qemu, sysroot $root)"
		exit 0
	fi
	echo "SKIP: $1" >"$out/status/$name"
	rm -f "$out/status/$name.env"
	say "$name: SKIP: $1"
	exit 77
}

qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
[ -n "$qemu" ] || record "qemu-aarch64 is not installed (Debian package qemu-user; scripts/install_deps.sh)"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	record "apt-get/dpkg-deb not available (not a Debian system)"

build_id() {
	LC_ALL=C readelf -n "$1" 2>/dev/null | awk '/Build ID:/ { print $3; exit }'
}

# Runs the unpacked interpreter under qemu and prints its version.
guest_version() {
	"$qemu" -L "$root" "$root/usr/bin/python3.11" -I -S -c \
		'import sys, ctypes, zlib; print("%d.%d.%d" % sys.version_info[:3])' 2>&1
}

usable() {
	local id
	[ -x "$root/usr/bin/python3.11" ] || return 1
	id=$(build_id "$root/usr/bin/python3.11")
	[ -n "$id" ] && [ -f "$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] || return 1
	version=$(guest_version) && [[ $version == 3.11.* ]]
}

# python3.11-minimal holds /usr/bin/python3.11; python3.11-dbg its debug file.
pkgs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11-dbg
	libc6 libc6-dbg zlib1g libexpat1 libffi8)
version=""
if [ -f "$root/.complete" ] && [ "$(cat "$root/.complete")" = "${pkgs[*]}" ] && usable; then
	record ok
fi

# --- private apt state --------------------------------------------------------
# shellcheck source=scripts/private_apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/private_apt.sh"
private_apt_conf "$apt_dir" "$out/debs" arm64 || record "cannot create $apt_dir"
# The system's own sources, as they are: the same archive, now read for arm64.
rm -f "$apt_dir/sources.list.d/"*
: >"$apt_dir/sources.list"
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$apt_dir/sources.list"
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && cp "$f" "$apt_dir/sources.list.d/"
done
a() { APT_CONFIG="$apt_dir/apt.conf" "$@"; }

if ! { [ -f "$apt_dir/updated" ] && [ -n "$(find "$apt_dir/updated" -mmin -1440 2>/dev/null)" ]; }; then
	say "updating the arm64 package lists (private apt state in $apt_dir)"
	if a apt-get update -q >"$apt_dir/update.log" 2>&1 && ! grep -q '^[WE]:.*Failed' "$apt_dir/update.log"; then
		touch "$apt_dir/updated"
	elif ! ls "$apt_dir/lists/"*_Packages* >/dev/null 2>&1; then
		record "apt-get update for arm64 failed (no network?): $(grep -E '^(E|W):' "$apt_dir/update.log" | head -n 1)"
	fi
fi

for p in "${pkgs[@]}"; do
	ver=$(a apt-cache show --no-all-versions "$p:arm64" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
	[ -n "$ver" ] || record "the arm64 package lists have no $p"
	file="$out/debs/${p}_${ver//:/%3a}_arm64.deb"
	if [ ! -s "$file" ]; then
		say "downloading $p:arm64 $ver"
		(cd "$out/debs" && a apt-get download -q "$p:arm64=$ver" >"$apt_dir/download.log" 2>&1) ||
			record "apt-get download $p:arm64=$ver failed: $(grep -E '^(E|W):' "$apt_dir/download.log" | head -n 1)"
	fi
	[ -s "$file" ] || record "apt-get download left no $file"
	stamp="$root/.unpacked/$(basename "$file")"
	if [ ! -f "$stamp" ]; then
		mkdir -p "$root/.unpacked"
		dpkg-deb -x "$file" "$root" 2>"$apt_dir/unpack.log" ||
			record "dpkg-deb -x $(basename "$file") failed: $(head -n 1 "$apt_dir/unpack.log")"
		rm -f "$root/.unpacked/${p}_"*
		touch "$stamp"
	fi
done
id=$(build_id "$root/usr/bin/python3.11")
[ -n "$id" ] || record "$root/usr/bin/python3.11 has no build-id"
[ -f "$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] ||
	record "python3.11-dbg:arm64 has no debug file for the interpreter's build-id $id (versions out of step?)"
if ! usable; then
	record "the arm64 python3.11 does not run under $qemu: $(echo "$version" | tail -n 1)"
fi
echo "${pkgs[*]}" >"$root/.complete"
record ok
