#!/usr/bin/env bash
# make_fixture_core.sh PYTHON SCENARIO OUTDIR NAME [SCENARIO ARGS...]
#
# Runs SCENARIO (fixtures/scenario_heap.py) with PYTHON -I -S under
# `ulimit -c unlimited` in a scratch directory below OUTDIR and leaves
#     OUTDIR/core.NAME          the core the kernel wrote when it aborted (or,
#                               for a PYTHON run by qemu-user, the guest's core
#                               qemu wrote, qemu_*_PID.core)
#     OUTDIR/truth.NAME.json    the truth its recorder child wrote
#     OUTDIR/stamp.NAME         interpreter and arguments they were made with
#     OUTDIR/truth.NAME.json.X  side files the scenario wrote as TRUTH.json.X
#                               (figures taken after TRUTH.json was closed)
# The pair is reused when both exist, were made with the same interpreter and
# arguments, and are newer than SCENARIO, this script, the interpreter and its
# libpython; with CH_FIXTURE_ROOT (this build tree) and CH_FIXTURE_PEER_ROOT
# (another) set, a pair that passes the same test in the other tree, at
# OUTDIR's place there, is linked in instead of made again.
#
# With CH_CORE_LAUNCHER set (a command and its options, e.g. "qemu-x86_64"),
# the scenario runs under it: `$CH_CORE_LAUNCHER PYTHON -I -S SCENARIO ...`.
# qemu-user writes the guest's core itself as qemu_<prog>_<date>-<time>_<pid>.core
# (no NT_FILE note; pid is qemu's, which is the guest's getpid()); that file
# becomes OUTDIR/core.NAME, and the core the kernel writes of qemu itself
# (RLIMIT_CORE must stay unlimited for qemu to write the guest's) is deleted.
#
# Exit status: 0 done (or reused), 77 PYTHON does not exist or the scenario
# exited 77 because it cannot run here, e.g. a package is missing (the ctest
# case is reported as skipped, with the reason printed; the scenario's reason
# is also left in OUTDIR/skip.NAME for the checks), 1 anything else, with a
# one-line "make_fixture_core: ..." explanation.
set -u

die() { echo "make_fixture_core: $*" >&2; exit 1; }

[ $# -ge 4 ] || die "usage: make_fixture_core.sh PYTHON SCENARIO OUTDIR NAME [SCENARIO ARGS...]"
python=$1 scenario=$2 outdir=$3 name=$4
shift 4

if [ ! -x "$python" ]; then
    echo "make_fixture_core: SKIP: interpreter $python not found (install it, e.g. pyenv install ${name%%-*})"
    exit 77
fi
[ -f "$scenario" ] || die "scenario $scenario not found"
if [ -n "${CH_CORE_LAUNCHER:-}" ] && ! command -v "${CH_CORE_LAUNCHER%% *}" >/dev/null; then
    echo "make_fixture_core: SKIP: ${CH_CORE_LAUNCHER%% *} not found (install qemu-user: scripts/install_deps.sh)"
    exit 77
fi
mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
scenario=$(cd "$(dirname "$scenario")" && pwd)/$(basename "$scenario")

core="$outdir/core.$name"
truth="$outdir/truth.$name.json"
stamp="$outdir/stamp.$name"
launcher=${CH_CORE_LAUNCHER:-}
want_stamp="${launcher:+$launcher }$python $*"

# --- cache ---------------------------------------------------------------
real_python=$(readlink -f "$python")
deps=("$scenario" "${BASH_SOURCE[0]}" "$real_python")
# ... and the fixture modules the scenario imports (scenario_dump, realheap_record)
for m in $(sed -n 's/^\(from\|import\) \([A-Za-z_][A-Za-z0-9_]*\).*/\2/p' "$scenario"); do
    [ -f "$(dirname "$scenario")/$m.py" ] && deps+=("$(dirname "$scenario")/$m.py")
done
for lib in "$(dirname "$real_python")"/../lib/libpython3*.so.*; do
    [ -e "$lib" ] && deps+=("$(readlink -f "$lib")")
done
# fresh_in DIR: DIR holds this NAME's core, truth and stamp, made with the
# same interpreter and arguments and newer than every dependency.
fresh_in() {
    local c="$1/core.$name" t="$1/truth.$name.json" s="$1/stamp.$name" d
    [ -f "$c" ] && [ -f "$t" ] && [ -f "$s" ] && [ "$(cat "$s")" = "$want_stamp" ] || return 1
    for d in "${deps[@]}"; do
        [ "$c" -nt "$d" ] && [ "$t" -nt "$d" ] || return 1
    done
}
if fresh_in "$outdir"; then
    echo "make_fixture_core: reusing $core (newer than scenario and interpreter)"
    exit 0
fi
rm -f "$core" "$truth" "$stamp" "$truth".* "$outdir/skip.$name"
# Another build tree's copy (tests/run_all.sh: the ASan and fuzz suites
# take the cores the -Werror suite made; a core depends on the interpreter
# and the scenario, never on how coreheap was built). CH_FIXTURE_ROOT is
# this build tree, CH_FIXTURE_PEER_ROOT the other: OUTDIR's counterpart
# there is used when fresh_in says so, hard-linked (copied across file
# systems) with its times. No check writes into a fixture core in place:
# the corrupting checks copy it first.
if [ -n "${CH_FIXTURE_ROOT:-}" ] && [ -n "${CH_FIXTURE_PEER_ROOT:-}" ]; then
    fx_root=$(cd "$CH_FIXTURE_ROOT" 2>/dev/null && pwd)
    case $outdir in
    "$fx_root"/*)
        peer="$CH_FIXTURE_PEER_ROOT/${outdir#"$fx_root"/}"
        if [ "$peer" != "$outdir" ] && fresh_in "$peer"; then
            ok=1
            for f in "$peer/core.$name" "$peer/truth.$name.json" "$peer/truth.$name.json".* "$peer/stamp.$name"; do
                [ -e "$f" ] || continue
                ln -f "$f" "$outdir/" 2>/dev/null || cp -p "$f" "$outdir/" || ok=0
            done
            if [ $ok = 1 ] && fresh_in "$outdir"; then
                echo "make_fixture_core: reusing $peer/core.$name (made by another build tree)"
                exit 0
            fi
            rm -f "$core" "$truth" "$stamp" "$truth".*
        fi ;;
    esac
fi

# --- where will the kernel put the core? ----------------------------------
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null) || die "cannot read /proc/sys/kernel/core_pattern"
case $pattern in
    "|"*) die "kernel.core_pattern is a pipe ('$pattern'), so cores do not land in the working directory; run: sysctl -w kernel.core_pattern=core" ;;
    */*)  die "kernel.core_pattern ('$pattern') writes cores outside the working directory; run: sysctl -w kernel.core_pattern=core" ;;
    "")   die "kernel.core_pattern is empty; run: sysctl -w kernel.core_pattern=core" ;;
esac
if printf '%s' "$pattern" | sed 's/%p//g' | grep -q '%'; then
    die "kernel.core_pattern ('$pattern') uses specifiers other than %p; run: sysctl -w kernel.core_pattern=core"
fi
uses_pid=$(cat /proc/sys/kernel/core_uses_pid 2>/dev/null || echo 0)

# --- run ------------------------------------------------------------------
work="$outdir/work.$name"
# Exit 75 from a scenario means its recorder saw the heap change while it
# recorded (no core was written; see scenario_heap.py): it is run again, at
# most three times in all, and a third 75 fails like any other status.
for attempt in 1 2 3; do
    rm -rf "$work" && mkdir -p "$work" || die "cannot create $work"
    # The outer { } 2>/dev/null only hides bash's own "Aborted (core dumped)".
    {
        (
            cd "$work" || exit 1
            ulimit -c unlimited 2>/dev/null || { echo "make_fixture_core: cannot raise the core size limit (ulimit -c unlimited; hard limit is $(ulimit -H -c))"; exit 125; }
            exec $launcher "$python" -I -S "$scenario" "$work/truth.json" "$@"
        ) >"$work/scenario.log" 2>&1
    } 2>/dev/null
    status=$?
    [ $status = 75 ] || break
    echo "make_fixture_core: attempt $attempt of scenario $name raced with its heap (exit 75): $(tail -n 2 "$work/scenario.log" | head -n 1)"
done
if [ $status = 125 ]; then cat "$work/scenario.log" >&2; exit 1; fi
if [ $status = 77 ]; then
    # The scenario cannot run here (a package it needs is missing): its
    # reason goes to OUTDIR/skip.NAME for the checks (check_common.py).
    grep -m1 'SKIP' "$work/scenario.log" | tee "$outdir/skip.$name"
    [ -s "$outdir/skip.$name" ] || echo "scenario $name exited 77 without a reason" | tee "$outdir/skip.$name"
    rm -rf "$work"
    exit 77
fi
if [ $status != 134 ]; then
    sed 's/^/  | /' "$work/scenario.log" >&2
    die "scenario $name exited with status $status, expected 134 (SIGABRT after the truth was recorded)"
fi
[ -f "$work/truth.json" ] || die "scenario $name aborted but wrote no truth JSON ($work/truth.json)"
pid=$("$python" -I -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$work/truth.json") \
    || die "unreadable truth JSON $work/truth.json"

file=${pattern//%p/$pid}
if [ "$uses_pid" = 1 ] && [ "$file" = "$pattern" ]; then file="$file.$pid"; fi
if [ -n "$launcher" ]; then
    rm -f "$work/$file"  # the launcher's (qemu's) own core
    file=$(cd "$work" && ls -- qemu_*_"$pid".core 2>/dev/null | head -n 1)
    [ -n "$file" ] || die "$launcher wrote no qemu_*_$pid.core in $work (RLIMIT_CORE raised to unlimited)"
else
    # A PYTHON that runs itself under qemu-user (the arm64 wrapper of
    # scripts/setup_arm64.sh): qemu writes the guest's core as
    # qemu_<prog>_<date>-<time>_<pid>.core; the kernel's core next to it is
    # qemu's own (x86_64, of the emulator), never the one wanted.
    for q in "$work"/qemu_*_"$pid".core; do
        [ -f "$q" ] && rm -f "$work/$file" && file=${q#"$work"/}
    done
fi
if [ ! -f "$work/$file" ]; then
    die "no core file appeared ($work/$file; core_pattern '$pattern', core_uses_pid $uses_pid, RLIMIT_CORE raised to unlimited); is the filesystem writable and the process dumpable?"
fi
mv "$work/$file" "$core" && mv "$work/truth.json" "$truth" || die "cannot move results to $outdir"
for side in "$work"/truth.json.*; do
    [ -e "$side" ] || continue
    mv "$side" "$truth${side#"$work"/truth.json}" || die "cannot move $side to $outdir"
done
printf '%s' "$want_stamp" >"$stamp"
rm -rf "$work"
echo "make_fixture_core: wrote $core ($(stat -c %s "$core") bytes) and $truth"
