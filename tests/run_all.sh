#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. installs the build/test dependencies with apt-get (skip with
#      CH_SKIP_DEPS=1; uses sudo when not root);
#   2. builds with -DCH_WERROR=ON in build-ci/ and runs ctest;
#   3. builds with -DCH_SANITIZE=ON -DCH_WERROR=ON in build-ci-asan/ and runs
#      `ctest -L asan` there with ASAN_OPTIONS=detect_leaks=1: not the whole
#      per-interpreter matrix again (the C code is the same for every
#      interpreter; the sanitizers need each code path reached once) but
#      every test that is not per interpreter, emu/layout/stacks/native/show
#      on every version, and all tests of the interpreters that reach the
#      distinct CPython layouts: pyenv 3.6, 3.7, 3.10 and 3.12, Debian
#      bookworm's 3.11 and sid's 3.15 (the list, why, and the coverage
#      measurement behind it: tests/CMakeLists.txt, end; docs/testing.md).
#      CH_ASAN_FULL=1 runs the full ctest there instead;
#   4. builds with clang -DCH_FUZZ=ON in build-ci-fuzz/ (libFuzzer targets,
#      ASan+UBSan everywhere) and runs `ctest -L fuzz`: each fuzz target for
#      a short fixed budget and the whole-pipeline mutation test (about 5
#      minutes; tests/fuzz/README.md). CH_SKIP_FUZZ=1 leaves it out.
# Both suites include ground-truth tests (label "truth"), which generate
# their fixture cores into each build tree (once: make_fixture_core.sh keeps a
# core whose stamp matches; the ASan and fuzz suites hard-link the cores the
# -Werror suite made, CH_FIXTURE_PEER_ROOT, rather than run the scenarios
# again; what keeps CI short, with figures: docs/testing.md, "CI time").  Truth tests whose pyenv
# interpreter is missing are SKIPPED and listed with the reason at the end;
# CH_REQUIRE_TRUTH=1 turns any skipped test into a failure.
# Exits non-zero if anything failed.  Arguments are passed to both cmake
# configure steps (e.g. -DCH_PYENV_ROOT=/opt/pyenv).  Env: CH_JOBS (default 2),
# CH_ASAN_FULL=1 (the whole ctest in the ASan build),
# CH_BUILD_ROOT (default: the repository root).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${CH_JOBS:-2}
build_root=${CH_BUILD_ROOT:-$root}
start=$(date +%s)

say() { echo "run_all: $*"; }

# A login shell's DEBUGINFOD_URLS would let coreheap fetch debug files where
# a test expects none; the debuginfod test sets its own local server.
unset DEBUGINFOD_URLS

if [ "${CH_SKIP_DEPS:-0}" != 1 ]; then
    say "installing dependencies"
    bash "$root/scripts/install_deps.sh" || { say "installing dependencies failed"; exit 1; }
fi

failed=()
skipped_total=0

# Extra arguments for one suite's build and ctest steps (set around a call).
build_args=()
ctest_args=()
# The build tree whose fixture cores a suite may link instead of making
# them again (tests/make_fixture_core.sh): empty for the first suite, the
# -Werror tree for the ASan and fuzz suites. A core is the interpreter's,
# the same whichever way coreheap was built.
fixture_peer=

suite() {   # suite NAME BUILD_DIR CMAKE_ARGS...
    local name=$1 dir=$2 t0
    shift 2
    t0=$(date +%s)
    say "== $name: configure + build in $dir"
    if ! cmake -S "$root" -B "$dir" "$@"; then failed+=("$name: configure"); return; fi
    if ! cmake --build "$dir" -j"$jobs" "${build_args[@]}"; then failed+=("$name: build"); return; fi
    say "== $name: ctest ${ctest_args[*]}"
    local rc=0
    (cd "$dir" && CH_FIXTURE_ROOT="$dir" CH_FIXTURE_PEER_ROOT="$fixture_peer" \
        ctest --output-on-failure -j"$jobs" "${ctest_args[@]}") || rc=$?
    say "== $name: $(( $(date +%s) - t0 ))s"
    [ $rc = 0 ] || failed+=("$name: ctest (exit $rc)")
    # ctest shows skipped tests without their output: print why.
    local log="$dir/Testing/Temporary/LastTest.log"
    if [ -f "$log" ]; then
        local reasons n
        reasons=$(grep -h "SKIP:" "$log" | sort | uniq -c)
        n=$(grep -c "SKIP:" "$log")
        if [ "$n" != 0 ]; then
            skipped_total=$((skipped_total + n))
            say "$name: $n test(s) SKIPPED:"
            echo "$reasons"
        fi
    fi
}

# The distro interpreters (scripts/setup_interpreters.sh, run by the
# distro.setup test) and the arm64 sysroot (scripts/setup_arm64.sh, run by
# arm64.setup) are fetched once into directories both suites share.
interp=(-DCH_INTERPRETERS_DIR="$build_root/build-interpreters" -DCH_ARM64_DIR="$build_root/build-arm64")
suite "werror" "$build_root/build-ci" -DCH_WERROR=ON -DCH_SANITIZE=OFF "${interp[@]}" "$@"
fixture_peer="$build_root/build-ci"
if [ "${CH_ASAN_FULL:-0}" != 1 ]; then
    ctest_args=(-L asan)
fi
ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS} \
    suite "asan+ubsan" "$build_root/build-ci-asan" -DCH_SANITIZE=ON -DCH_WERROR=ON "${interp[@]}" "$@"
ctest_args=()

# Fuzzing: a clang build of its own (libFuzzer needs clang; the other two
# suites use the default compiler). Only the fuzz label runs here: the
# ASan suite above already ran the rest (its asan subset) under the sanitizers.
if [ "${CH_SKIP_FUZZ:-0}" = 1 ]; then
    say "fuzz suite skipped (CH_SKIP_FUZZ=1)"
elif ! command -v clang >/dev/null; then
    failed+=("fuzz: clang not found (install clang and libclang-rt-14-dev, or set CH_SKIP_FUZZ=1)")
else
    build_args=(--target fuzz_all)
    ctest_args=(-L fuzz)
    suite "fuzz" "$build_root/build-ci-fuzz" -DCMAKE_C_COMPILER=clang -DCH_FUZZ=ON -DCH_WERROR=ON "${interp[@]}" "$@"
    build_args=()
    ctest_args=()
fi

if [ "${CH_REQUIRE_TRUTH:-0}" = 1 ] && [ $skipped_total != 0 ]; then
    failed+=("$skipped_total skipped test(s) with CH_REQUIRE_TRUTH=1")
fi

say "finished in $(( $(date +%s) - start ))s"
if [ ${#failed[@]} != 0 ]; then
    for f in "${failed[@]}"; do say "FAILED: $f"; done
    exit 1
fi
say "all suites passed"
