#!/usr/bin/env bash
# README command 2: install what is missing, then configure, build and run
# the whole test suite (unit tests, consumer tests, examples) with ASan and
# UBSan and warnings as errors: the `ci` workflow preset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --workflow --preset ci
