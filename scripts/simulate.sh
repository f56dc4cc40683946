#!/usr/bin/env bash
# The long simulator run (docs/RELIABILITY.md): builds the simulator in the
# release preset and runs it for a million commands on each store (memory,
# then SQLite), printing commands per second. A failure prints its seed and
# the command that replays it.
#
#   scripts/simulate.sh                 seed 20270301, 1,000,000 commands per store
#   SEED=7 COMMANDS=2000000 scripts/simulate.sh
#   STORES=sqlite scripts/simulate.sh   one store only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
seed=${SEED:-20270301}
commands=${COMMANDS:-1000000}
stores=${STORES:-"memory sqlite"}
cmake --preset release -D ORDERLY_BUILD_TESTS=ON -D ORDERLY_BUILD_EXAMPLES=OFF \
    -D ORDERLY_BUILD_BENCHMARKS=OFF
cmake --build build/release --target orderly_simulator
status=0
for store in $stores; do
    echo "== $store: seed $seed, $commands commands"
    ./build/release/tests/simulation/orderly_simulator --seed "$seed" --commands "$commands" \
        --store "$store" || status=1
done
exit $status
