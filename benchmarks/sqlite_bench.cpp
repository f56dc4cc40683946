// SqliteStore end to end through the engine: 3-line orders placed per second
// (a) durable per command with synchronous=FULL and NORMAL, (b) group-committed
// through command_batch in batches of 16 to 1024, (c) through import_orders,
// (d) from 2 threads per command; and (e) the peer DESIGN.md names: what a
// shop usually writes by hand, a conditional `UPDATE … WHERE available >= n`
// per line plus an order row, in bare SQLite on the same disk. Budget in
// DESIGN.md: ≥ 20k orders placed/s batched. The database lives in ORDERLY_BENCH_DIR (default: the
// working directory), which must be on a real disk for fsync to cost what it costs.

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include "bench_support.hpp"

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace orderly;

using bench::cny;
using bench::null_notifier;

std::filesystem::path bench_file(std::string_view name) {
    const char* dir = std::getenv("ORDERLY_BENCH_DIR");
    std::filesystem::path base = dir != nullptr ? dir : std::filesystem::current_path();
    return base / ("orderly-bench-" + std::string(name) + "-" + std::to_string(::getpid()) + ".db");
}

void remove_database(const std::filesystem::path& path) {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path.string() + suffix, ignored);
    }
}

struct world {
    explicit world(sqlite_durability durability)
        : path(bench_file(durability == sqlite_durability::full ? "full" : "normal")),
          clock(timestamp(std::chrono::hours(24 * 365 * 56))) {
        remove_database(path);
        store = sqlite_store::open(sqlite_options{.path = path, .durability = durability}).value();
        engine = engine::create(engine_ports{*store, notifier, clock, policy}).value();
        for (const char* code : {"tea", "cup", "pot"}) {
            (void)engine->put_sku(next(), sku{.id = sku_id(code),
                                              .merchant = {},
                                              .name = code,
                                              .category = "tea",
                                              .price = cny("12.50"),
                                              .weight_g = 100,
                                              .volume_cm3 = 100,
                                              .traits = {},
                                              .status = sku_status::on_sale});
            (void)engine->receive_stock(next(), stock_receipt{sku_id(code), warehouse_id("wh"),
                                                              quantity::of(1'000'000'000).value()});
        }
        request.customer = customer_id("alice");
        request.ship_to = bench::alice_in_hangzhou();
        for (const char* code : {"tea", "cup", "pot"}) {
            request.lines.push_back(
                line_request{sku_id(code), quantity::of(1).value(), cny("12.50")});
        }
    }
    ~world() {
        engine.reset();
        store.reset();
        remove_database(path);
    }
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    command_context next(command_batch* batch = nullptr) {
        return command_context{admin, std::to_string(keys.fetch_add(1)), batch};
    }

    const actor admin{"bench", role::admin};
    std::filesystem::path path;
    std::unique_ptr<sqlite_store> store;
    null_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    place_order_request request;
    std::atomic<std::uint64_t> keys{0};
};

sqlite_durability durability_of(const benchmark::State& state) {
    return state.range(0) == 0 ? sqlite_durability::full : sqlite_durability::normal;
}

// (a) one durable transaction per order.
void BM_sqlite_place_per_command(benchmark::State& state) {
    world w(durability_of(state));
    for (auto _ : state) {
        auto placed = w.engine->place_order(w.next(), w.request);
        if (!placed) {
            state.SkipWithError(placed.error().message.c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(state.range(0) == 0 ? "synchronous=FULL" : "synchronous=NORMAL");
}
BENCHMARK(BM_sqlite_place_per_command)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// (b) command_batch: one sync per range(1) orders. Each iteration is one order.
void BM_sqlite_place_batched(benchmark::State& state) {
    world w(durability_of(state));
    const auto size = static_cast<std::size_t>(state.range(1));
    std::optional<command_batch> batch;
    std::size_t in_batch = 0;
    for (auto _ : state) {
        if (!batch) {
            batch.emplace(w.engine->begin_batch().value());
        }
        auto placed = w.engine->place_order(w.next(&*batch), w.request);
        if (!placed) {
            state.SkipWithError(placed.error().message.c_str());
            break;
        }
        if (++in_batch == size) {
            if (auto committed = batch->commit(); !committed) {
                state.SkipWithError(committed.error().message.c_str());
                break;
            }
            batch.reset();
            in_batch = 0;
        }
    }
    if (batch) {
        (void)batch->commit();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(state.range(0) == 0 ? "synchronous=FULL" : "synchronous=NORMAL");
}
BENCHMARK(BM_sqlite_place_batched)
    ->Args({0, 16})
    ->Args({0, 256})
    ->Args({0, 1024})
    ->Args({1, 256})
    ->Unit(benchmark::kMicrosecond);

// (c) import_orders with the default import_batch_size (256): 1024 rows per call.
void BM_sqlite_import_orders(benchmark::State& state) {
    world w(sqlite_durability::full);
    std::vector<import_row> rows(1024);
    std::uint64_t row_key = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (import_row& row : rows) {
            row.idempotency_key = "row-" + std::to_string(++row_key);
            row.request = w.request;
        }
        state.ResumeTiming();
        auto results = w.engine->import_orders(w.next(), rows);
        benchmark::DoNotOptimize(results);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows.size()));
}
BENCHMARK(BM_sqlite_import_orders)->Unit(benchmark::kMillisecond);

// (d) per-command durable placements from several threads: SQLite has one
// writer at a time, so this shows what concurrency buys (the reads overlap).
std::unique_ptr<world> shared;
void make_shared_world(const benchmark::State&) {
    shared = std::make_unique<world>(sqlite_durability::full);
}
void drop_shared_world(const benchmark::State&) {
    shared.reset();
}

void BM_sqlite_place_threads(benchmark::State& state) {
    for (auto _ : state) {
        auto placed = shared->engine->place_order(shared->next(), shared->request);
        benchmark::DoNotOptimize(placed);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_sqlite_place_threads)
    ->Setup(make_shared_world)
    ->Teardown(drop_shared_world)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// (e) The hand-written peer: per order, three conditional UPDATEs (one per
// line, each refusing to oversell) and an INSERT of a 900-byte order row (what SqliteStore keeps
// for a placed 3-line order), in one BEGIN IMMEDIATE transaction, or range(1) orders per
// transaction; WAL, synchronous=FULL, prepared statements. No validation, pricing, timeline, outbox
// or idempotency: the floor orderly's SqliteStore is measured against.
class bare_sql {
public:
    bare_sql() : path_(bench_file("bare")) {
        remove_database(path_);
        if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
        exec(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
            "CREATE TABLE stock (sku TEXT PRIMARY KEY, on_hand INTEGER NOT NULL,"
            " reserved INTEGER NOT NULL) STRICT;"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;"
            "INSERT INTO stock VALUES ('tea', 1000000000, 0), ('cup', 1000000000, 0),"
            " ('pot', 1000000000, 0);");
        reserve_ = prepare(
            "UPDATE stock SET reserved = reserved + ?2 "
            "WHERE sku = ?1 AND on_hand - reserved >= ?2");
        insert_ = prepare("INSERT INTO orders (id, body) VALUES (?1, ?2)");
        begin_ = prepare("BEGIN IMMEDIATE");
        commit_ = prepare("COMMIT");
    }
    ~bare_sql() {
        for (sqlite3_stmt* s : {reserve_, insert_, begin_, commit_}) {
            sqlite3_finalize(s);
        }
        sqlite3_close(db_);
        remove_database(path_);
    }
    bare_sql(const bare_sql&) = delete;
    bare_sql& operator=(const bare_sql&) = delete;

    void begin() { step(begin_); }
    void commit() { step(commit_); }
    // One order: false when a line's stock ran out (never here).
    bool place(std::int64_t id) {
        for (const char* code : {"tea", "cup", "pot"}) {
            sqlite3_bind_text(reserve_, 1, code, -1, SQLITE_STATIC);
            sqlite3_bind_int64(reserve_, 2, 1);
            step(reserve_);
            if (sqlite3_changes(db_) != 1) {
                return false;
            }
        }
        sqlite3_bind_int64(insert_, 1, id);
        sqlite3_bind_text(insert_, 2, body_.data(), static_cast<int>(body_.size()), SQLITE_STATIC);
        step(insert_);
        return true;
    }

private:
    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
    }
    sqlite3_stmt* prepare(const char* sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
        return s;
    }
    void step(sqlite3_stmt* s) {
        const int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
    }

    std::filesystem::path path_;
    sqlite3* db_{nullptr};
    sqlite3_stmt* reserve_{nullptr};
    sqlite3_stmt* insert_{nullptr};
    sqlite3_stmt* begin_{nullptr};
    sqlite3_stmt* commit_{nullptr};
    std::string body_ = std::string(900, 'x');
};

void BM_bare_sqlite_conditional_update(benchmark::State& state) {
    bare_sql db;
    const auto size = state.range(0);
    std::int64_t id = 0;
    std::int64_t in_tx = 0;
    for (auto _ : state) {
        if (in_tx == 0) {
            db.begin();
        }
        if (!db.place(++id)) {
            state.SkipWithError("stock ran out");
            break;
        }
        if (++in_tx == size) {
            db.commit();
            in_tx = 0;
        }
    }
    if (in_tx != 0) {
        db.commit();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(size == 1 ? "per order, synchronous=FULL" : "batched, synchronous=FULL");
}
BENCHMARK(BM_bare_sqlite_conditional_update)->Arg(1)->Arg(256)->Unit(benchmark::kMicrosecond);

}  // namespace
