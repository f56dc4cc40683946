// After-sales: one return ticket's life through the engine (open, approved
// by rule; return parcel; received; inspected, refunded exactly, closed: four
// commands) on the memory store and on SqliteStore (synchronous=NORMAL, a
// temporary file), the delivered order being made untimed; and the exact
// refund computation alone.

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
using bench::cny;
using bench::null_notifier;

struct world {
    explicit world(bool sqlite) : clock(timestamp(std::chrono::hours(24 * 365 * 56))) {
        if (sqlite) {
            path = std::filesystem::temp_directory_path() /
                   ("orderly-after-sales-bench-" + std::to_string(::getpid()) + ".db");
            std::filesystem::remove(path);
            owned =
                sqlite_store::open({.path = path, .durability = sqlite_durability::normal}).value();
        } else {
            owned = std::make_unique<memory_store>();
        }
        settings options;
        options.after_sales.auto_approve_below = {cny("1000.00")};
        options.after_sales.agents = {"cs-1"};
        engine = engine::create(engine_ports{*owned, notifier, clock, policy}, options).value();
        for (const auto& [code, price] :
             {std::pair{"tea", "12.50"}, std::pair{"cup", "30.00"}, std::pair{"pot", "99.99"}}) {
            (void)engine->put_sku(next(admin), sku{.id = sku_id(code),
                                                   .merchant = {},
                                                   .name = code,
                                                   .category = "tea",
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

    // Three lines, a discount and shipping, paid and delivered in one parcel.
    order_id delivered_order() {
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
        (void)engine->allocate_order(next(admin), o.id);
        (void)engine->pack_order(next(admin), o.id);
        (void)engine->ship_order(next(admin),
                                 {o.id, carrier_id("SF"), "SF" + std::to_string(keys)});
        (void)engine->deliver_order(next(gateway), o.id);
        return o.id;
    }

    const actor admin{"bench", role::admin};
    const actor gateway{"gw", role::system};
    const actor alice{"alice", role::customer};
    std::filesystem::path path;
    std::unique_ptr<store> owned;
    null_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    std::uint64_t keys{0};
};

void return_ticket_life(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    for (auto _ : state) {
        state.PauseTiming();
        const order_id id = w.delivered_order();
        state.ResumeTiming();
        open_ticket_request r;
        r.order = id;
        r.type = ticket_type::return_and_refund;
        r.reason = ticket_reason::damaged;
        r.lines = {ticket_line_request{2, quantity::of(1).value(), {}}};
        const auto opened = w.engine->open_ticket(w.next(w.alice), r);
        if (!opened) {
            state.SkipWithError(to_string(opened.error()).c_str());
            return;
        }
        const ticket_id t = *opened->ticket;
        (void)w.engine->record_return_shipment(
            w.next(w.alice), {t, carrier_id("YTO"), "YT" + std::to_string(t.value())});
        (void)w.engine->receive_return(w.next(w.admin), t);
        const auto done = w.engine->inspect_return(
            w.next(w.admin),
            inspection_request{t, {{2, quantity::of(1).value(), quantity::of(0).value()}}, ""});
        if (!done || done->ticket_status != ticket_state::closed) {
            state.SkipWithError("the ticket did not close with its refund");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_return_ticket_memory(benchmark::State& state) {
    return_ticket_life(state, false);
}
BENCHMARK(BM_return_ticket_memory)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_return_ticket_sqlite_normal(benchmark::State& state) {
    return_ticket_life(state, true);
}
BENCHMARK(BM_return_ticket_sqlite_normal)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The exact refund of one unit of a three-line order with a discount and
// shipping, after earlier refunds of other units (the tally included).
void BM_compute_refund(benchmark::State& state) {
    world w(false);
    const order o = w.engine->get_order(w.admin, w.delivered_order()).value();
    const std::vector<refund_breakdown> earlier{
        compute_refund(o, std::vector<refund_claim>{{0, quantity::of(1).value()}},
                       tally_refunds(o, {}).value(), true)
            .value()};
    const std::vector<refund_claim> claim{{2, quantity::of(2).value()}};
    for (auto _ : state) {
        const auto before = tally_refunds(o, earlier);
        benchmark::DoNotOptimize(compute_refund(o, claim, *before, false));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_compute_refund)->Unit(benchmark::kNanosecond);

}  // namespace
