#include "connection.hpp"

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <utility>

namespace orderly::detail::sqlite {

// ---- statement -----------------------------------------------------------------

statement::~statement() {
    if (handle_ != nullptr) {
        sqlite3_reset(handle_);
        sqlite3_clear_bindings(handle_);
    }
}

statement& statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(handle_, index, value);
    return *this;
}

statement& statement::bind(int index, std::string_view value) {
    // SQLITE_STATIC: SQLite reads the caller's bytes while it steps, without
    // a copy; the statement is reset and unbound before the handle goes.
    sqlite3_bind_text(handle_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return *this;
}

statement& statement::bind_null(int index) {
    sqlite3_bind_null(handle_, index);
    return *this;
}

result<bool> statement::step() {
    const int code = sqlite3_step(handle_);
    if (code == SQLITE_ROW) {
        return true;
    }
    if (code == SQLITE_DONE) {
        return false;
    }
    return owner_->failure(code, sqlite3_sql(handle_));
}

result<void> statement::run() {
    for (;;) {
        auto more = step();
        if (!more) {
            return std::move(more).error();
        }
        if (!*more) {
            return {};
        }
    }
}

std::int64_t statement::changes() const noexcept {
    return sqlite3_changes64(owner_->handle());
}

std::string_view statement::text(int column) const noexcept {
    const auto* data = sqlite3_column_text(handle_, column);
    const int size = sqlite3_column_bytes(handle_, column);
    if (data == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

// ---- connection ----------------------------------------------------------------

result<std::unique_ptr<connection>> connection::open(const sqlite_options& options) {
    sqlite3* db = nullptr;
    // NOMUTEX: a connection is used by one thread at a time (the pool hands
    // it out); the store's own locking is what keeps threads apart.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const std::string path = options.path.string();
    const int code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (code != SQLITE_OK) {
        std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
        sqlite3_close_v2(db);
        return error{errc::storage_failure, "path",
                     fmt::format("cannot open SQLite database {}: {}", path, why)};
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    std::unique_ptr<connection> c(new connection(db, options));
    // journal_mode=WAL is persistent in the file; setting it again is cheap.
    const std::string pragmas = fmt::format(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; "
        "PRAGMA cache_size=-{}; PRAGMA temp_store=MEMORY;",
        options.durability == sqlite_durability::full ? "FULL" : "NORMAL", options.cache_kib);
    // Switching a new file to WAL needs a moment of exclusive access; SQLite
    // answers SQLITE_BUSY at once, without its busy handler, when another
    // process is creating the same file. Retry until the busy timeout.
    const auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
    char* message = nullptr;
    int set = sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &message);
    while ((set & 0xFF) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
        sqlite3_free(message);
        message = nullptr;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        set = sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &message);
    }
    if (set != SQLITE_OK) {
        std::string why = message != nullptr ? message : sqlite3_errstr(set);
        sqlite3_free(message);
        if ((set & 0xFF) == SQLITE_BUSY) {
            return c->failure(set, "set up the connection");
        }
        return error{errc::storage_failure, "path",
                     fmt::format("{} is not a usable SQLite database: {}", path, why)};
    }
    return c;
}

connection::~connection() {
    for (auto& [sql, stmt] : statements_) {
        sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
}

result<statement> connection::prepare(const char* sql) {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int code =
            sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (code != SQLITE_OK) {
            return failure(code, sql);
        }
        found = statements_.emplace(sql, stmt).first;
    }
    return statement(*this, found->second);
}

result<void> connection::exec(const char* sql) {
    char* message = nullptr;
    const int code = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    sqlite3_free(message);
    if (code != SQLITE_OK) {
        return failure(code, sql);
    }
    return {};
}

result<void> connection::run(const char* sql) {
    auto q = prepare(sql);
    if (!q) {
        return std::move(q).error();
    }
    return q->run();
}

void connection::rollback() noexcept {
    if (sqlite3_get_autocommit(db_) == 0) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

error connection::failure(int code, std::string_view doing) const {
    const int primary = code & 0xFF;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        return error{errc::busy,
                     {},
                     fmt::format("the database {} stayed locked by another writer for more than "
                                 "{} ms ({}); retry later",
                                 options_.path.string(), options_.busy_timeout.count(), doing)};
    }
    if (primary == SQLITE_CONSTRAINT) {
        return error{errc::conflict,
                     {},
                     fmt::format("a concurrent change won ({}: {})", doing, sqlite3_errmsg(db_))};
    }
    return error{errc::storage_failure,
                 {},
                 fmt::format("SQLite failed ({}): {} [{}]", doing, sqlite3_errmsg(db_), code)};
}

}  // namespace orderly::detail::sqlite
