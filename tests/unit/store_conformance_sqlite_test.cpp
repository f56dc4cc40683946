// The store conformance suite against SqliteStore: every scenario of
// orderly/testing/store_conformance.hpp as its own test case, each store on a
// fresh database file (synchronous=NORMAL: the suite checks behaviour, and the
// crash tests in tests/storage/ check durability).
// Replay a randomized failure: ORDERLY_SEED=<seed> [ORDERLY_STEPS=<n>]
// [ORDERLY_THREADS=<n>] [ORDERLY_TRACE=1] store_conformance_sqlite_test
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/store_conformance_doctest.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

namespace {

// A directory of database files for this process, removed when it exits.
class scratch_directory {
public:
    scratch_directory()
        : path_(std::filesystem::temp_directory_path() /
                ("orderly-conformance-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~scratch_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;

    std::filesystem::path next() { return path_ / ("store-" + std::to_string(++count_) + ".db"); }

private:
    std::filesystem::path path_;
    std::atomic<int> count_{0};
};

scratch_directory& files() {
    static scratch_directory directory;
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
