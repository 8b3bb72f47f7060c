# Sourced by scripts/setup_interpreters.sh and scripts/setup_arm64.sh: an apt
# configuration of their own, so that `apt-get update/download` with
# APT_CONFIG=DIR/apt.conf reads and writes only DIR (package lists, an empty
# dpkg status) and the download cache, never the system's apt or dpkg state.

# private_apt_conf DIR DEBS ARCH: DIR's layout and DIR/apt.conf, downloads
# into DEBS, packages of architecture ARCH (amd64, arm64). The sources are
# DIR/sources.list and DIR/sources.list.d/, for the caller to fill.
private_apt_conf() {
	local d=$1 debs=$2 arch=$3
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d" "$d/preferences.d" || return 1
	: >"$d/status" || return 1
	cat >"$d/apt.conf" <<-EOF
	Dir::State "$d";
	Dir::State::Lists "$d/lists";
	Dir::State::status "$d/status";
	Dir::Cache "$d/cache";
	Dir::Cache::Archives "$debs";
	Dir::Etc::SourceList "$d/sources.list";
	Dir::Etc::SourceParts "$d/sources.list.d";
	Dir::Etc::Preferences "$d/preferences";
	Dir::Etc::PreferencesParts "$d/preferences.d";
	APT::Architecture "$arch";
	APT::Architectures { "$arch"; };
	APT::Sandbox::User "root";
	Acquire::Languages "none";
	EOF
}
