// The store conformance suite against orderly's reference store: every
// scenario of orderly/testing/store_conformance.hpp as its own test case.
// Replay a randomized failure: ORDERLY_SEED=<seed> [ORDERLY_STEPS=<n>]
// [ORDERLY_THREADS=<n>] [ORDERLY_TRACE=1] store_conformance_memory_test
#include <orderly/storage/memory_store.hpp>
#include <orderly/testing/store_conformance_doctest.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

// Eight threads in the concurrent scenarios (the default is four), as the
// memory store's own tests always used.
ORDERLY_STORE_CONFORMANCE_TESTS_WITH_OPTIONS(
    "memory_store", orderly::testing::conformance_options::from_environment({.threads = 8}),
    [] { return std::make_unique<orderly::memory_store>(); });

TEST_CASE("the conformance suite names every scenario once") {
    std::set<std::string_view> names;
    for (const auto& scenario : orderly::testing::store_conformance_scenarios()) {
        CHECK(names.insert(scenario.name).second);
        const bool runs = scenario.run != nullptr;
        CHECK(runs);
        CHECK(scenario.name.find(',') == std::string_view::npos);  // doctest filters split on ','
    }
}

TEST_CASE("a conformance checker records the file and line of a failed check") {
    orderly::testing::conformance_checker checker{"demo"};
    const int line = __LINE__ + 1;
    CHECK_FALSE(ORDERLY_CONFORM_CHECK(checker, 1 + 1 == 3, "arithmetic"));
    CHECK(ORDERLY_CONFORM_CHECK(checker, 1 + 1 == 2, "arithmetic"));
    const auto failures = checker.failures();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].scenario == "demo");
    CHECK(failures[0].line == line);
    CHECK(failures[0].file.find("store_conformance_memory_test.cpp") != std::string::npos);
    CHECK(failures[0].message.find("1 + 1 == 3") != std::string::npos);
    CHECK_FALSE(checker.passed());
}

TEST_CASE("a scenario stops at a failed requirement or an escaping exception") {
    using namespace orderly::testing;
    const store_factory make = [] { return std::make_unique<orderly::memory_store>(); };
    const conformance_scenario stops{
        "stops", [](const store_factory&, const conformance_options&, conformance_checker& c) {
            ORDERLY_CONFORM_REQUIRE(c, false, "cannot go on");
            c.fail("not reached");
        }};
    conformance_checker stopped{"stops"};
    CHECK_FALSE(run_conformance_scenario(stops, make, {}, stopped));
    REQUIRE(stopped.failure_count() == 1);
    CHECK(stopped.failures()[0].message.find("cannot go on") != std::string::npos);

    const conformance_scenario throws{
        "throws", [](const store_factory&, const conformance_options&, conformance_checker&) {
            throw std::runtime_error("disk on fire");
        }};
    conformance_checker thrown{"throws"};
    CHECK_FALSE(run_conformance_scenario(throws, make, {}, thrown));
    REQUIRE(thrown.failure_count() == 1);
    CHECK(thrown.failures()[0].message.find("disk on fire") != std::string::npos);
}

TEST_CASE("every scenario fails, by name, for a factory that makes no store") {
    const auto failures =
        orderly::testing::run_store_conformance([] { return std::unique_ptr<orderly::store>(); });
    const auto scenarios = orderly::testing::store_conformance_scenarios();
    REQUIRE(failures.size() == scenarios.size());
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        CHECK(failures[i].scenario == scenarios[i].name);
        CHECK(failures[i].message == "the store factory returned no store");
    }
}
