#!/usr/bin/env bash
# Builds the benchmarks in release mode and runs them all; paste the figures
# into docs/BENCHMARKS.md with the machine and date. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release -D ORDERLY_BUILD_BENCHMARKS=ON
cmake --build --preset release
for bench in build/release/benchmarks/*_bench; do
    echo "== ${bench##*/}"
    "$bench" --benchmark_min_time=0.5 "$@"
done
