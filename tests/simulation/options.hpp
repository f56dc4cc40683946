#pragma once
// What one simulator run does: its seed, its length, its store and its
// faults, from the command line and ORDERLY_SEED.

#include <cstddef>
#include <cstdint>
#include <string>

namespace orderly::sim {

enum class store_kind : std::uint8_t { memory, sqlite };

struct sim_options {
    std::uint64_t seed{0};
    std::size_t commands{10'000};
    store_kind store{store_kind::memory};
    bool faults{true};
    // SqliteStore runs close and reopen the store every this many commands
    // (0: never); ignored for the memory store.
    std::size_t reopen_every{5'000};
    bool verbose{false};
    // Go on after a violation, printing the first of each invariant, so one
    // run shows every invariant the engine breaks (exit status still 1).
    bool keep_going{false};
};

// Reads the command line; ORDERLY_SEED (when set) gives the seed, and a seed
// chosen from the system's entropy otherwise. Prints usage and exits on a
// bad argument.
sim_options parse_options(int argc, char** argv);

// The command line that replays a run exactly.
std::string replay_command(const sim_options& options);

}  // namespace orderly::sim
