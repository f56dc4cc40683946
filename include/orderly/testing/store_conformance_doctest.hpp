#pragma once
/// \file
/// The store conformance suite (orderly/testing/store_conformance.hpp) as
/// doctest test cases: one per scenario, named "<store name>: <scenario>", so
/// that ctest lists, runs and reports each on its own. Each failure is
/// reported at the file and line of the check that found it, with the
/// scenario's name.
///
/// In one test source of the host (which links doctest and its own store):
///
///     #include <orderly/testing/store_conformance_doctest.hpp>
///     ORDERLY_STORE_CONFORMANCE_TESTS("my store", [] { return make_my_empty_store(); })
///
/// The factory expression must give something callable that returns a
/// std::unique_ptr to a fresh, empty store on every call. Options come from
/// the environment (ORDERLY_SEED, ORDERLY_STEPS, ORDERLY_THREADS,
/// ORDERLY_TRACE); ORDERLY_STORE_CONFORMANCE_TESTS_WITH_OPTIONS takes them
/// explicitly.

#include <orderly/testing/store_conformance.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace orderly::testing::detail {

/// Test case names live as long as the program: doctest keeps the pointers.
inline const char* conformance_case_name(std::string_view store_name,
                                         std::string_view scenario_name) {
    static std::mutex mutex;
    static std::deque<std::string> names;
    const std::lock_guard lock(mutex);
    return names.emplace_back(fmt::format("{}: {}", store_name, scenario_name)).c_str();
}

/// Reports a checker's notes as messages and its failures as failed checks
/// at their own file and line.
inline void report_to_doctest(const conformance_checker& checker) {
    for (const std::string& note : checker.notes()) {
        DOCTEST_MESSAGE(note);
    }
    const auto failures = checker.failures();
    for (const conformance_failure& f : failures) {
        DOCTEST_ADD_FAIL_CHECK_AT(f.file.c_str(), f.line, "[" << f.scenario << "] " << f.message);
    }
    if (checker.failure_count() > failures.size()) {
        DOCTEST_FAIL_CHECK("[" << checker.scenario() << "] and "
                               << checker.failure_count() - failures.size() << " more failures");
    }
}

/// The body of the test case of scenario `Index` for the store described by
/// `Suite` (see ORDERLY_STORE_CONFORMANCE_TESTS).
template <class Suite, std::size_t Index>
void run_conformance_case() {
    const conformance_scenario& scenario = store_conformance_scenarios()[Index];
    const conformance_options options = Suite::options();
    const std::string store_name(Suite::name());
    DOCTEST_INFO("store '", store_name, "', seed ", options.seed,
                 " (replay with ORDERLY_SEED=", options.seed, ")");
    conformance_checker checker{std::string(scenario.name)};
    run_conformance_scenario(scenario, Suite::factory(), options, checker);
    report_to_doctest(checker);
}

/// Registers one doctest test case per scenario, as TEST_CASE does.
template <class Suite, std::size_t... Index>
bool register_conformance_cases(std::index_sequence<Index...> /*indexes*/) {
    (doctest::detail::regTest(
         doctest::detail::TestCase(&run_conformance_case<Suite, Index>, Suite::file,
                                   static_cast<unsigned>(Suite::line),
                                   doctest_detail_test_suite_ns::getCurrentTestSuite()) *
         conformance_case_name(Suite::name(), store_conformance_scenarios()[Index].name)),
     ...);
    return true;
}

/// Registers the test cases of every scenario for `Suite`.
template <class Suite>
bool register_conformance_cases() {
    return register_conformance_cases<Suite>(std::make_index_sequence<scenarios.size()>{});
}

}  // namespace orderly::testing::detail

/// Registers one doctest test case per conformance scenario for the store made
/// by the factory expression (the variadic part, so it may contain commas),
/// named "`store_name`: <scenario>". Use at namespace scope, once per store.
#define ORDERLY_STORE_CONFORMANCE_TESTS(store_name, ...) \
    ORDERLY_STORE_CONFORMANCE_TESTS_WITH_OPTIONS(        \
        store_name, ::orderly::testing::conformance_options::from_environment(), __VA_ARGS__)

/// Like ORDERLY_STORE_CONFORMANCE_TESTS, with explicit options (an expression
/// of type orderly::testing::conformance_options, evaluated for each test case).
#define ORDERLY_STORE_CONFORMANCE_TESTS_WITH_OPTIONS(store_name, options_expression, ...) \
    ORDERLY_DETAIL_STORE_CONFORMANCE_TESTS(DOCTEST_ANONYMOUS(ORDERLY_CONFORMANCE_SUITE_), \
                                           store_name, options_expression, __VA_ARGS__)

/// Implementation of the two macros above: `suite` is a fresh name.
#define ORDERLY_DETAIL_STORE_CONFORMANCE_TESTS(suite, store_name, options_expression, ...)      \
    namespace {                                                                                 \
    struct suite {                                                                              \
        static constexpr const char* file = __FILE__;                                           \
        static constexpr int line = __LINE__;                                                   \
        static const char* name() { return store_name; }                                        \
        static ::orderly::testing::conformance_options options() { return options_expression; } \
        static ::orderly::testing::store_factory factory() {                                    \
            return ::orderly::testing::store_factory(__VA_ARGS__);                              \
        }                                                                                       \
    };                                                                                          \
    [[maybe_unused]] const bool DOCTEST_CAT(suite, _registered) =                               \
        ::orderly::testing::detail::register_conformance_cases<suite>();                        \
    }                                                                                           \
    static_assert(true, "a semicolon may follow the macro")
