#!/usr/bin/env bash
# setup_interpreters.sh [--only NAME[,NAME...]] [--dev] OUTDIR
#
# Obtains the distribution-built CPython interpreters the "distro" tests run
# against, on a fresh Debian machine, and records for each whether it is
# usable (and if not, why) so that its tests SKIP with that reason:
#
#   bookworm-3.11  Debian's own /usr/bin/python3.11 (stripped, libpython
#                  linked into the executable) with python3.11-dbg, whose
#                  separate debug files live under /usr/lib/debug/.build-id/.
#                  Installed with apt-get when missing (needs root or sudo -n).
#   sid-3.13, sid-3.14, sid-3.15
#                  Debian unstable's python3.X (+ python3.X-dbg), fetched with
#                  `apt-get download` through a private apt configuration under
#                  OUTDIR/apt (sources derived from the system's own Debian
#                  entries with the suite renamed to unstable; the system's apt
#                  state is never touched), unpacked with `dpkg-deb -x` into
#                  OUTDIR/sid/ together with unstable's libc6 (its interpreter
#                  needs a newer glibc than bookworm's), and run through the
#                  unpacked dynamic loader by the wrapper OUTDIR/bin/python3.X-sid.
#
# Results, one per interpreter NAME:
#   OUTDIR/status/NAME     "ok" or "SKIP: <reason>"
#   OUTDIR/status/NAME.env PYTHON=<interpreter or wrapper>, DEBUG_DIR=<its debug
#                          file root>, VERSION=<sys.version_info as 3.X.Y>
# Downloads are cached in OUTDIR/debs and unpacked trees are kept, so a second
# run does no network access and takes about a second.
#
# --only  restrict to these names (comma-separated).
# --dev   also fetch unstable's libpython3.X-dev (headers, incl. internal/),
#         unpacked into the same tree; for layout work, not needed by tests.
#
# Exit status: 0 when every requested interpreter is usable, 77 when some are
# not (each listed with its reason), 2 on bad usage.  Never names an archive
# host: every URI comes from the system's own apt sources.
set -uo pipefail

only="" want_dev=0
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--dev) want_dev=1; shift ;;
	-h|--help) sed -n '2,40p' "$0"; exit 0 ;;
	-*) echo "setup_interpreters: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# = 1 ] || { echo "usage: setup_interpreters.sh [--only NAMES] [--dev] OUTDIR" >&2; exit 2; }
mkdir -p "$1" || exit 2
out=$(cd "$1" && pwd)
mkdir -p "$out/status" "$out/bin" "$out/debs" || exit 2

say() { echo "setup_interpreters: $*"; }
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# One run at a time per OUTDIR (the -Werror and ASan suites may share it).
if command -v flock >/dev/null; then
	exec 9>"$out/.lock"
	flock 9
fi

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
	else return 126
	fi
}

# record NAME ok|reason [PYTHON DEBUG_DIR VERSION]
record() {
	local name=$1 what=$2
	if [ "$what" = ok ]; then
		echo ok >"$out/status/$name"
		printf 'PYTHON=%s\nDEBUG_DIR=%s\nVERSION=%s\n' "$3" "$4" "$5" >"$out/status/$name.env"
		say "$name: ok ($3, CPython $5, debug files under $4)"
	else
		echo "SKIP: $what" >"$out/status/$name"
		rm -f "$out/status/$name.env"
		say "$name: SKIP: $what"
	fi
}

build_id() {   # build_id ELF -> hex on stdout
	LC_ALL=C readelf -n "$1" 2>/dev/null | awk '/Build ID:/ { print $3; exit }'
}

# Runs PYTHON and prints its version (3.X.Y), or fails.
py_version() {
	"$@" -I -S -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>&1
}

# --- Debian bookworm's python3.11 with python3.11-dbg ----------------------
setup_bookworm() {
	local name=bookworm-3.11 py=/usr/bin/python3.11 dbgdir=/usr/lib/debug
	local codename
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	have_debug() {
		local id
		id=$(build_id "$py")
		[ -n "$id" ] && [ -f "$dbgdir/.build-id/${id:0:2}/${id:2}.debug" ]
	}
	if ! { [ -x "$py" ] && have_debug; }; then
		if [ "$codename" != bookworm ]; then
			record $name "this is not Debian bookworm (VERSION_CODENAME '$codename'), so its python3.11 + python3.11-dbg cannot be installed"
			return
		fi
		say "$name: installing python3.11 python3.11-dbg with apt-get"
		local log="$out/status/$name.apt.log"
		if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-dbg >"$log" 2>&1; then
			as_root apt-get update -q >>"$log" 2>&1
			if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-dbg >>"$log" 2>&1; then
				record $name "apt-get install python3.11 python3.11-dbg failed (not root and no sudo -n, or no network): $(tail -n 1 "$log")"
				return
			fi
		fi
		if ! have_debug; then
			record $name "python3.11-dbg is installed but has no debug file for $py's build-id $(build_id "$py") (versions out of step?)"
			return
		fi
	fi
	local v
	if ! v=$(py_version "$py") || [[ $v != 3.11.* ]]; then
		record $name "$py does not run: $v"
		return
	fi
	record $name ok "$py" "$dbgdir" "$v"
}

# --- Debian unstable ------------------------------------------------------
apt_dir="$out/apt"
sid="$out/sid"

# Prints the system's Debian archive entries as one-line sources with the
# suite renamed to unstable: entries of Types deb whose suite is the
# release codename itself (not -updates/-security, which have no unstable)
# and which are signed by the Debian archive keyring (or name no keyring).
derive_sources() {
	local codename=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v cn="$codename" '
			$1 != "deb" { next }
			{
				i = 2; opts = ""
				if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
				uri = $i; suite = $(i + 1)
				if (suite != cn) next
				if (opts ~ /signed-by=/ && opts !~ /debian-archive-keyring/) next
				kr = "/usr/share/keyrings/debian-archive-keyring.gpg"
				if (match(opts, /signed-by=[^] ]*/)) kr = substr(opts, RSTART + 10, RLENGTH - 10)
				comps = ""
				for (j = i + 2; j <= NF; j++) comps = comps " " $j
				print "deb [signed-by=" kr "] " uri " unstable" comps
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v cn="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " cn " ") && (kr == "" || kr ~ /debian-archive-keyring/) && enabled != "no")
					for (u = 1; u <= nu; u++)
						print "deb [signed-by=" (kr == "" ? "/usr/share/keyrings/debian-archive-keyring.gpg" : kr) "] " uris[u] " unstable " comps
				types = suites = kr = comps = enabled = ""; nu = 0
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") nu = split(val, uris, /[ \t]+/)
				else if (key == "suites") suites = val
				else if (key == "components") comps = val
				else if (key == "signed-by") kr = val
				else if (key == "enabled") enabled = tolower(val)
			}
			END { flush() }' "$f"
	done
}

# shellcheck source=scripts/private_apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/private_apt.sh"
write_apt_conf() { private_apt_conf "$apt_dir" "$out/debs" amd64; }

sid_apt() { APT_CONFIG="$apt_dir/apt.conf" "$@"; }

# Refresh unstable's package lists when missing or older than a day; a
# failed refresh with old lists still present is only a warning (offline).
sid_update() {
	local lists_stamp="$apt_dir/updated"
	if [ -f "$lists_stamp" ] && [ -n "$(find "$lists_stamp" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	local codename
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	if [ -z "$codename" ]; then
		sid_error="no VERSION_CODENAME in /etc/os-release: cannot derive unstable's sources from the system's"
		return 1
	fi
	derive_sources "$codename" | sort -u >"$apt_dir/sources.list"
	if [ ! -s "$apt_dir/sources.list" ]; then
		sid_error="no Debian '$codename' entry in /etc/apt/sources.list(.d) to derive unstable's sources from"
		return 1
	fi
	say "updating unstable's package lists (private apt state in $apt_dir)"
	if sid_apt apt-get update -q >"$apt_dir/update.log" 2>&1 && ! grep -q '^[WE]:.*Failed' "$apt_dir/update.log"; then
		touch "$lists_stamp"
		return 0
	fi
	if ls "$apt_dir/lists/"*_Packages* >/dev/null 2>&1; then
		say "warning: apt-get update for unstable failed, using the package lists from $(date -r "$apt_dir/lists" +%F)"
		return 0
	fi
	sid_error="apt-get update for unstable failed: $(grep -E '^(E|W):' "$apt_dir/update.log" | head -n 1)"
	return 1
}

# Downloads (unless cached) and unpacks the given packages into $sid.
# Sets sid_error and fails on the first package that cannot be had.
sid_fetch() {
	local p file ver
	for p in "$@"; do
		ver=$(sid_apt apt-cache show --no-all-versions "$p" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
		if [ -z "$ver" ]; then
			sid_error="unstable has no package $p"
			return 1
		fi
		file="$out/debs/${p}_${ver//:/%3a}_amd64.deb"
		if [ ! -s "$file" ]; then
			say "downloading $p $ver"
			if ! (cd "$out/debs" && sid_apt apt-get download -q "$p=$ver" >"$apt_dir/download.log" 2>&1); then
				sid_error="apt-get download $p=$ver failed: $(grep -E '^(E|W):' "$apt_dir/download.log" | head -n 1)"
				return 1
			fi
			[ -s "$file" ] || file=$(ls -t "$out/debs/${p}_"*_amd64.deb 2>/dev/null | head -n 1)
		fi
		local stamp="$sid/.unpacked/$(basename "$file")"
		if [ ! -f "$stamp" ]; then
			mkdir -p "$sid/.unpacked"
			if ! dpkg-deb -x "$file" "$sid" 2>"$apt_dir/unpack.log"; then
				sid_error="dpkg-deb -x $(basename "$file") failed: $(head -n 1 "$apt_dir/unpack.log")"
				return 1
			fi
			# Forget the other versions of this package unpacked before.
			rm -f "$sid/.unpacked/${p}_"*
			touch "$stamp"
		fi
	done
}

# The packages already unpacked for a version (for offline re-runs).
sid_cached_ok() {
	local name=$1
	[ -f "$out/status/$name" ] && [ "$(cat "$out/status/$name")" = ok ] && [ -f "$out/status/$name.env" ] &&
		[ -x "$out/bin/python${name#sid-}-sid" ]
}

write_wrapper() {   # write_wrapper MINOR -> path of the wrapper
	local v=$1 w="$out/bin/python$1-sid"
	cat >"$w" <<-EOF
	#!/bin/sh
	# Debian unstable's python$v, unpacked by scripts/setup_interpreters.sh,
	# run through unstable's dynamic loader and libc (newer than the host's).
	root='$sid'
	PYTHONHOME="\$root/usr"; export PYTHONHOME
	exec "\$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
	    --library-path "\$root/usr/lib/x86_64-linux-gnu:\$root/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu" \\
	    "\$root/usr/bin/python$v" "\$@"
	EOF
	chmod +x "$w"
	echo "$w"
}

sid_ready=""   # "", "yes", or "no" (sid_error says why)
sid_error=""
sid_prepare() {
	[ -n "$sid_ready" ] && return 0
	sid_ready=no
	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		sid_error="apt-get/dpkg-deb not available (not a Debian system)"
		return 0
	fi
	[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] || { sid_error="not an amd64 system"; return 0; }
	write_apt_conf || { sid_error="cannot create $apt_dir"; return 0; }
	sid_update || return 0
	sid_fetch libc6 zlib1g libexpat1 libzstd1 || return 0
	sid_ready=yes
}

setup_sid() {   # setup_sid MINOR (13, 14, 15)
	local minor=3.$1 name=sid-3.$1
	if sid_cached_ok "$name"; then
		# Offline-capable: trust what an earlier run verified, re-checked by running it.
		local py
		py=$(sed -n 's/^PYTHON=//p' "$out/status/$name.env")
		if py_version "$py" >/dev/null; then
			say "$name: ok (cached: $py)"
			[ $want_dev = 0 ] || { sid_prepare; [ "$sid_ready" = yes ] && sid_fetch "libpython$minor-dev"; }
			return
		fi
	fi
	sid_prepare
	if [ "$sid_ready" != yes ]; then record "$name" "$sid_error"; return; fi
	local pkgs=("python$minor" "python$minor-minimal" "libpython$minor-minimal" "libpython$minor-stdlib"
		"python$minor-dbg")
	[ $want_dev = 0 ] || pkgs+=("libpython$minor-dev")
	if ! sid_fetch "${pkgs[@]}"; then record "$name" "$sid_error"; return; fi
	local exe="$sid/usr/bin/python$minor" id
	id=$(build_id "$exe")
	if [ -z "$id" ]; then record "$name" "$exe has no build-id"; return; fi
	if [ ! -f "$sid/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ]; then
		record "$name" "python$minor-dbg has no debug file for $exe (build-id $id)"
		return
	fi
	local w v
	w=$(write_wrapper "$minor")
	if ! v=$(py_version "$w") || [[ $v != $minor.* ]]; then
		record "$name" "unstable's python$minor does not run through its loader: $(echo "$v" | tail -n 1)"
		return
	fi
	record "$name" ok "$w" "$sid/usr/lib/debug" "$v"
}

start=$(date +%s)
names=()
if wanted bookworm-3.11; then setup_bookworm; names+=(bookworm-3.11); fi
for m in 13 14 15; do
	if wanted "sid-3.$m"; then setup_sid "$m"; names+=("sid-3.$m"); fi
done
rc=0
for n in "${names[@]}"; do
	[ "$(cat "$out/status/$n")" = ok ] || rc=77
done
say "done in $(( $(date +%s) - start ))s; downloads cached in $out/debs ($(du -sh "$out/debs" 2>/dev/null | cut -f1))"
exit $rc
