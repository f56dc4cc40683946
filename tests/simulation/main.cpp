// orderly_simulator: a deterministic whole-system simulation of orderly
// after TigerBeetle's VOPR. One seed drives customers, gateways, carriers
// and staff through every public engine command over a store and a notifier
// that fail at random, with a clock that jumps; invariants are checked after
// every command and liveness at the end. docs/RELIABILITY.md describes it.
//
// Usage: orderly_simulator [--seed S] [--commands N] [--store memory|sqlite]
//                          [--no-faults] [--reopen-every N] [--verbose] [--keep-going]
// ORDERLY_SEED=S replays seed S exactly. Exit status 0 when every invariant
// held, 1 when one broke (the message names it, with the seed and the step).

#include "options.hpp"
#include "simulation.hpp"

int main(int argc, char** argv) {
    const orderly::sim::sim_options options = orderly::sim::parse_options(argc, argv);
    orderly::sim::simulation run(options);
    return run.run();
}
