#!/bin/sh
# Benchmark `coreheap diff` on two snapshots of cores of ~2M objects each (and of two synthetic
# snapshots with 100k more types); prints numbers, asserts nothing.
# usage: tests/bench/bench_diff.sh COREHEAP [PYTHON [WORKDIR [OBJECTS]]] [--runs R] [--regen] [--types T]
# The driver is bench_diff.py (python3 standard library); see README.md next to this file.
ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -Hc)"
exec "${BENCH_PYTHON3:-python3}" "$(dirname "$0")/bench_diff.py" "$@"
