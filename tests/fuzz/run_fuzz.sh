#!/usr/bin/env bash
# run_fuzz.sh TARGET OUT NAME SECONDS [libFuzzer options...]
#
# Runs the libFuzzer executable TARGET for SECONDS over the corpus
# OUT/corpus/NAME (created from the seeds in OUT/seeds/NAME, and kept, so
# each run starts where the last one stopped). A crash, leak, timeout
# (-timeout=10 s per input), out-of-memory (2 GiB) or sanitizer report
# makes libFuzzer exit non-zero, and the input that did it is left in
# OUT/artifacts/NAME/ (run TARGET on that file to reproduce). Prints one
# summary line: executions, coverage, corpus size.
set -u
[ $# -ge 4 ] || { echo "run_fuzz: usage: run_fuzz.sh TARGET OUT NAME SECONDS [options...]" >&2; exit 2; }
target=$1 out=$2 name=$3 seconds=$4
shift 4
seeds="$out/seeds/$name" corpus="$out/corpus/$name" artifacts="$out/artifacts/$name"
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "run_fuzz: no seeds in $seeds (run the fuzz.seeds test)" >&2; exit 1; }
mkdir -p "$corpus" "$artifacts" || exit 1
# fuzz_core's seeds reach 140 KB (a page of every segment) and libFuzzer
# makes inputs as long as its longest seed: a core's headers and notes
# come first, so 16 KiB keeps what the parsers read, and each run reads
# and maps far less. An explicit -max_len wins.
case " $* " in
*" -max_len="*) ;;
*) [ "$name" = core ] && set -- -max_len=16384 "$@" ;;
esac
log="$out/logs/$name.log"
mkdir -p "$out/logs" || exit 1
# detect_leaks is libFuzzer's default; ASan's own options keep reports short.
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}abort_on_error=0:symbolize=1 \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}print_stacktrace=1:halt_on_error=1 \
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
files=$(ls "$corpus" | wc -l)
if [ $rc != 0 ]; then
    tail -n 60 "$log"
    echo "run_fuzz: $name: FAILED (libFuzzer exit $rc) after ${execs:-?} executions; reproducer(s): $(ls "$artifacts" | sed "s|^|$artifacts/|" | tr '\n' ' ')"
    exit 1
fi
echo "run_fuzz: $name: ${execs:-?} executions in ${seconds}s, ${cov:-cov: ?}, corpus $files files, no crash (log $log)"
