#!/bin/sh
# Benchmark `coreheap types` on a core of ~1M GC-tracked objects; prints numbers, asserts nothing.
# usage: tests/bench/bench_types.sh COREHEAP [PYTHON [WORKDIR [OBJECTS]]] [--runs R] [--regen]
# The driver is bench_types.py (python3 standard library); see README.md next to this file.
ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -Hc)"
exec "${BENCH_PYTHON3:-python3}" "$(dirname "$0")/bench_types.py" "$@"
