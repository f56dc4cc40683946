// Operations: one exception case's life through the
// engine (open, acknowledge, start, resolve, close: five commands); the
// status board and a period's settlement read from the store over N
// completed orders; and the periodic operations scan over N orders waiting
// in paid (unprocessed-order check and cause re-check), each on the memory
// store and on SqliteStore (synchronous=NORMAL, a temporary file).

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace {

using namespace orderly;
using namespace std::chrono_literals;
using bench::cny;
using bench::null_notifier;

struct world {
    explicit world(bool sqlite) : clock(timestamp(std::chrono::hours(24 * 365 * 56))) {
        if (sqlite) {
            path = std::filesystem::temp_directory_path() /
                   ("orderly-operations-bench-" + std::to_string(::getpid()) + ".db");
            std::filesystem::remove(path);
            owned =
                sqlite_store::open({.path = path, .durability = sqlite_durability::normal}).value();
        } else {
            owned = std::make_unique<memory_store>();
        }
        settings options;
        options.settlement.default_rate = rate::parse("0.05").value();
        options.settlement.service_fees = {cny("1.00")};
        options.settlement.account_period_days = 0;
        options.operations.archive_after = duration::zero();
        engine = engine::create(engine_ports{*owned, notifier, clock, policy}, options).value();
        for (const auto& [code, price] :
             {std::pair{"tea", "12.50"}, std::pair{"cup", "30.00"}, std::pair{"pot", "99.99"}}) {
            (void)engine->put_sku(next(admin), sku{.id = sku_id(code),
                                                   .merchant = merchant_id("m-1"),
                                                   .name = code,
                                                   .category = code,
                                                   .price = cny(price),
                                                   .weight_g = 200,
                                                   .volume_cm3 = 300,
                                                   .traits = {},
                                                   .status = sku_status::on_sale});
            (void)engine->receive_stock(next(admin),
                                        stock_receipt{sku_id(code), warehouse_id("east"),
                                                      quantity::of(1'000'000'000).value()});
        }
    }
    ~world() {
        engine.reset();
        owned.reset();
        if (!path.empty()) {
            for (const char* suffix : {"", "-wal", "-shm"}) {
                std::filesystem::remove(path.string() + suffix);
            }
        }
    }
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    command_context next(const actor& who) { return command_context{who, std::to_string(++keys)}; }

    // Three lines, a discount and shipping; paid, and when `complete`,
    // delivered and confirmed.
    order_id order_of(bool complete) {
        place_order_request r;
        r.customer = customer_id("alice");
        r.ship_to = bench::alice_in_hangzhou();
        r.lines = {line_request{sku_id("tea"), quantity::of(2).value(), cny("12.50")},
                   line_request{sku_id("cup"), quantity::of(1).value(), cny("30.00")},
                   line_request{sku_id("pot"), quantity::of(3).value(), cny("99.99")}};
        r.discount = cny("10.00");
        r.shipping_fee = cny("8.00");
        const auto placed = engine->place_order(next(admin), r).value();
        const order o = engine->get_order(admin, placed.order).value();
        (void)engine->record_payment(
            next(gateway), payment_callback{o.id, "p" + std::to_string(keys), payment_method::card,
                                            payment_callback::outcome::captured, o.total, ""});
        if (complete) {
            (void)engine->allocate_order(next(admin), o.id);
            (void)engine->pack_order(next(admin), o.id);
            (void)engine->ship_order(next(admin),
                                     {o.id, carrier_id("SF"), "SF" + std::to_string(keys)});
            (void)engine->deliver_order(next(gateway), o.id);
            (void)engine->confirm_receipt(next(admin), o.id);
        }
        return o.id;
    }

    const actor admin{"bench", role::admin};
    const actor gateway{"gw", role::system};
    std::filesystem::path path;
    std::unique_ptr<store> owned;
    null_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    std::uint64_t keys{0};
};

void case_life(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    for (auto _ : state) {
        open_case_request r;
        r.type = case_type::other;
        r.title = "Carrier collected late at the east dock";
        const auto opened = w.engine->open_case(w.next(w.admin), r);
        if (!opened) {
            state.SkipWithError(to_string(opened.error()).c_str());
            return;
        }
        (void)w.engine->acknowledge_case(w.next(w.admin), opened->id, "ops-1");
        (void)w.engine->start_case_work(w.next(w.admin), opened->id);
        (void)w.engine->resolve_case(w.next(w.admin), opened->id, "Called the carrier",
                                     "carrier_contacted");
        const auto closed = w.engine->close_case(w.next(w.admin), opened->id);
        if (!closed || closed->state != case_state::closed) {
            state.SkipWithError("the case did not close");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_case_life_memory(benchmark::State& state) {
    case_life(state, false);
}
BENCHMARK(BM_case_life_memory)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_case_life_sqlite_normal(benchmark::State& state) {
    case_life(state, true);
}
BENCHMARK(BM_case_life_sqlite_normal)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The board over N completed orders, read from the store each time.
void status_board(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    const timestamp from = w.clock.now();
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        (void)w.order_of(true);
    }
    const timestamp to = w.clock.now() + 1h;
    for (auto _ : state) {
        const auto board = w.engine->status_board_of(w.admin, from, to);
        if (!board) {
            state.SkipWithError(to_string(board.error()).c_str());
            return;
        }
        benchmark::DoNotOptimize(board->total.orders);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_status_board_memory(benchmark::State& state) {
    status_board(state, false);
}
BENCHMARK(BM_status_board_memory)->Arg(1000)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_status_board_sqlite_normal(benchmark::State& state) {
    status_board(state, true);
}
BENCHMARK(BM_status_board_sqlite_normal)->Arg(1000)->Unit(benchmark::kMillisecond);

// A period's statements over N completed orders, read from the store.
void settlement(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    const timestamp from = w.clock.now();
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        (void)w.order_of(true);
    }
    const settlement_period period{from, w.clock.now() + 24h};
    for (auto _ : state) {
        const auto run = w.engine->settle_period(w.admin, period);
        if (!run || run->statements.statements.empty()) {
            state.SkipWithError(run ? "no statement" : to_string(run.error()).c_str());
            return;
        }
        benchmark::DoNotOptimize(run->statements.statements.front().payout);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_settle_period_memory(benchmark::State& state) {
    settlement(state, false);
}
BENCHMARK(BM_settle_period_memory)->Arg(1000)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_settle_period_sqlite_normal(benchmark::State& state) {
    settlement(state, true);
}
BENCHMARK(BM_settle_period_sqlite_normal)->Arg(1000)->Unit(benchmark::kMillisecond);

// The periodic operations scan over N orders waiting in paid, none yet past
// its limit (the usual case: the scan reads each order and opens nothing).
void operations_scan(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        (void)w.order_of(false);
    }
    for (auto _ : state) {
        w.clock.advance(6min);  // past operations.scan_every, short of the paid limit
        const auto report = w.engine->run_due_work(256);
        if (!report || report->cases_opened != 0) {
            state.SkipWithError(report ? "opened a case" : to_string(report.error()).c_str());
            return;
        }
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_operations_scan_memory(benchmark::State& state) {
    operations_scan(state, false);
}
BENCHMARK(BM_operations_scan_memory)
    ->Arg(1000)
    ->Arg(10'000)
    ->Iterations(100)
    ->Unit(benchmark::kMillisecond);

void BM_operations_scan_sqlite_normal(benchmark::State& state) {
    operations_scan(state, true);
}
BENCHMARK(BM_operations_scan_sqlite_normal)
    ->Arg(1000)
    ->Iterations(50)
    ->Unit(benchmark::kMillisecond);

}  // namespace
