#pragma once
// One SQLite connection with its cache of prepared statements, and the small
// RAII pieces SqliteStore is written with. Nothing here is public.

#include <orderly/core/error.hpp>
#include <orderly/storage/sqlite_store.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace orderly::detail::sqlite {

class connection;

// A prepared statement borrowed from a connection's cache for one use: bind,
// step, read columns; reset and unbound when the handle goes out of scope.
class statement {
public:
    statement(connection& owner, sqlite3_stmt* handle) noexcept : owner_(&owner), handle_(handle) {}
    ~statement();
    statement(statement&& other) noexcept
        : owner_(other.owner_), handle_(std::exchange(other.handle_, nullptr)) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement& operator=(statement&&) = delete;

    statement& bind(int index, std::int64_t value);
    // Binds text without copying it: `value` must stay alive until the
    // statement has been stepped for the last time (never bind a temporary).
    statement& bind(int index, std::string_view value);
    statement& bind_null(int index);

    // One step: true when a row is ready, false when done; errc::busy when
    // the database stayed locked past the busy timeout, errc::conflict on a
    // constraint violation, errc::storage_failure otherwise.
    [[nodiscard]] result<bool> step();
    // Steps to the end, for statements that return no rows.
    [[nodiscard]] result<void> run();
    // Rows changed by the last run().
    [[nodiscard]] std::int64_t changes() const noexcept;

    [[nodiscard]] std::int64_t integer(int column) const noexcept {
        return sqlite3_column_int64(handle_, column);
    }
    [[nodiscard]] std::string_view text(int column) const noexcept;
    [[nodiscard]] bool is_null(int column) const noexcept {
        return sqlite3_column_type(handle_, column) == SQLITE_NULL;
    }

private:
    connection* owner_;
    sqlite3_stmt* handle_;
};

class connection {
public:
    // Opens the file with the options' pragmas (WAL, synchronous, busy
    // timeout, cache size, foreign keys).
    [[nodiscard]] static result<std::unique_ptr<connection>> open(const sqlite_options& options);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

    // The cached statement for `sql`, which must be a string literal (the
    // cache is keyed by its address).
    [[nodiscard]] result<statement> prepare(const char* sql);
    // Runs one or more statements without parameters.
    [[nodiscard]] result<void> exec(const char* sql);

    // An error for the connection's last failure, `doing` says what was
    // attempted ("commit", "read order 42").
    [[nodiscard]] error failure(int code, std::string_view doing) const;

    // Transaction control. begin_immediate waits for the write lock up to the
    // busy timeout; rollback never fails (it is only called after a failure).
    [[nodiscard]] result<void> begin_immediate() { return run("BEGIN IMMEDIATE"); }
    [[nodiscard]] result<void> commit() { return run("COMMIT"); }
    void rollback() noexcept;

    // Runs one cached statement without parameters (transaction control,
    // savepoints): prepared once per connection, unlike exec().
    [[nodiscard]] result<void> run(const char* sql);

    [[nodiscard]] const sqlite_options& options() const noexcept { return options_; }

private:
    connection(sqlite3* db, const sqlite_options& options) noexcept : db_(db), options_(options) {}

    sqlite3* db_;
    sqlite_options options_;
    std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace orderly::detail::sqlite
