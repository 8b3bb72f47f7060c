#!/usr/bin/env bash
# Benchmark `coreheap stacks` on a core with 50 threads of deep stacks
# (fixtures/scenario_threads.py --threads 43 --recurse 200: 50 threads, most
# ~200 frames deep); prints timings, asserts nothing.
# usage: tests/bench/bench_stacks.sh COREHEAP [PYTHON [WORKDIR [RUNS]]]
set -eu
coreheap=${1:?usage: bench_stacks.sh COREHEAP [PYTHON [WORKDIR [RUNS]]]}
python=${2:-$HOME/.pyenv/versions/3.12.1/bin/python3.12}
work=${3:-${TMPDIR:-/tmp}/coreheap-bench-stacks}
runs=${4:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
name=bench
bash "$here/make_fixture_core.sh" "$python" "$here/../fixtures/scenario_threads.py" "$work" "$name" \
    --threads 43 --recurse 200 >/dev/null
core="$work/core.$name"
echo "core: $core ($(stat -c %s "$core") bytes)"
"$coreheap" stacks "$core" --json -q | "${BENCH_PYTHON3:-python3}" -c '
import json, sys
d = json.load(sys.stdin)
print("threads: %d, frames: %d" % (len(d["threads"]), sum(len(t["frames"]) for t in d["threads"])))'
for mode in "" "--locals" "--json --locals"; do
    best=
    for _ in $(seq "$runs"); do
        s=$(date +%s%N)
        "$coreheap" stacks "$core" $mode -q >/dev/null
        e=$(date +%s%N)
        t=$(( (e - s) / 1000000 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "coreheap stacks ${mode:-(text)}: best of $runs runs ${best} ms"
done
