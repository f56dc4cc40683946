#!/usr/bin/env bash
# README command 2: install what is missing, then configure, build and run
# the whole test suite twice: the `ci` workflow (ASan+UBSan, warnings as
# errors: unit, consumer and example tests) and the `ci-tsan` workflow (the
# unit and concurrency tests again under ThreadSanitizer), then the
# whole-system simulator optimised for its long runs (100,000 commands per
# store, docs/RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --workflow --preset ci
cmake --workflow --preset ci-tsan
cmake --preset simulation
cmake --build build/simulation --target orderly_simulator
ctest --test-dir build/simulation -R '^simulation/' -j 2 --output-on-failure
