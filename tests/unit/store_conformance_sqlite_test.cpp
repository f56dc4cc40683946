// The store conformance suite against SqliteStore: every scenario of
// orderly/testing/store_conformance.hpp as its own test case, each store on a
// fresh database file (synchronous=NORMAL: the suite checks behaviour, and the
// crash tests in tests/storage/ check durability).
// Replay a randomized failure: ORDERLY_SEED=<seed> [ORDERLY_STEPS=<n>]
// [ORDERLY_THREADS=<n>] [ORDERLY_TRACE=1] store_conformance_sqlite_test
#include "scratch_directory.hpp"

#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/store_conformance_doctest.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

using orderly::test::scratch_directory;

namespace {

scratch_directory& files() {
    static scratch_directory directory("orderly-conformance");
    return directory;
}

std::unique_ptr<orderly::store> fresh_sqlite_store() {
    auto opened = orderly::sqlite_store::open(
        {.path = files().next(), .durability = orderly::sqlite_durability::normal});
    REQUIRE(opened.has_value());
    return std::move(*opened);
}

}  // namespace

ORDERLY_STORE_CONFORMANCE_TESTS_WITH_OPTIONS(
    "sqlite_store", orderly::testing::conformance_options::from_environment({.threads = 4}),
    fresh_sqlite_store);
