// The engine's seeded, randomized scenario, with more seeds and steps than the
// conformance suite runs, over memory_store or, with ORDERLY_TEST_STORE=sqlite
// (ctest runs it both ways), over SqliteStore on fresh temporary files. The
// scenario itself (a few thousand random commands by actors of every role, the
// store read back and every invariant checked after each step) lives in
// orderly/testing/store_conformance.hpp, so that every store runs it.
//
// Replay a failure: ORDERLY_SEED=<seed> [ORDERLY_STEPS=<n>] [ORDERLY_TRACE=1]
// [ORDERLY_TEST_STORE=sqlite] engine_scenario_test (ORDERLY_TRACE prints every
// step).
#include "scratch_directory.hpp"

#include <orderly/storage/memory_store.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/store_conformance_doctest.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using orderly::test::scratch_directory;

namespace {

using namespace orderly::testing;

// The store the scenario runs on: see the file comment.
store_factory chosen_store() {
    const char* which = std::getenv("ORDERLY_TEST_STORE");
    if (which == nullptr || std::string_view(which) != "sqlite") {
        return [] { return std::make_unique<orderly::memory_store>(); };
    }
    static scratch_directory files("orderly-scenario");
    return []() -> std::unique_ptr<orderly::store> {
        auto opened = orderly::sqlite_store::open(
            {.path = files.next(), .durability = orderly::sqlite_durability::normal});
        REQUIRE(opened.has_value());
        return std::move(*opened);
    };
}

// The scenario runs on one thread, so ThreadSanitizer has little to find
// here; under it (about 2.5 times slower than AddressSanitizer) the run is
// shorter.
#if defined(__SANITIZE_THREAD__)
constexpr std::size_t default_steps = 1000;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr std::size_t default_steps = 1000;
#else
constexpr std::size_t default_steps = 1500;
#endif
#else
constexpr std::size_t default_steps = 1500;
#endif

const conformance_scenario random_commands{"engine scenario", &detail::engine_random_commands};

}  // namespace

TEST_CASE("engine scenario: random commands keep every invariant (replay: ORDERLY_SEED)") {
    conformance_options defaults;
    defaults.random_steps = default_steps;
    const conformance_options from_environment = conformance_options::from_environment(defaults);
    std::vector<std::uint64_t> seeds = {20261122, 1, 987654321};
    if (detail::environment_number("ORDERLY_SEED")) {
        seeds = {from_environment.seed};
    }
    for (const std::uint64_t seed : seeds) {
        conformance_options options = from_environment;
        options.seed = seed;
        INFO("seed ", seed, " (replay with ORDERLY_SEED=", seed, ")");
        MESSAGE("scenario seed ", seed, ", ", options.random_steps, " steps");
        conformance_checker checker{"engine scenario"};
        const bool passed =
            run_conformance_scenario(random_commands, chosen_store(), options, checker);
        detail::report_to_doctest(checker);
        CHECK_MESSAGE(passed, "replay with ORDERLY_SEED=", seed);
    }
}
