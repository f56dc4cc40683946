#pragma once
// A directory of database files for one test process, removed when it exits:
// shared by the tests that open SqliteStore files of their own.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace orderly::test {

class scratch_directory {
public:
    /// `<temp>/<prefix>-<pid>`, emptied now and removed with the object.
    explicit scratch_directory(const std::string& prefix)
        : path_(std::filesystem::temp_directory_path() /
                (prefix + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~scratch_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;

    /// A fresh database file name in the directory (safe from many threads).
    std::filesystem::path next() { return path_ / ("store-" + std::to_string(++count_) + ".db"); }

private:
    std::filesystem::path path_;
    std::atomic<int> count_{0};
};

}  // namespace orderly::test
