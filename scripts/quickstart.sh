#!/usr/bin/env bash
# README command 1: install what is missing, build the library and the main
# example in release mode, and run the example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target quickstart
./build/release/examples/quickstart/quickstart
