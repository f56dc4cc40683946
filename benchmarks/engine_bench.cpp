// The engine end to end on the memory store: (b) whole order lives per
// second, (c) hot-SKU placements from 1 and 2 threads. Budgets in DESIGN.md:
// ≥ 200k order lives/s on one core; ≥ 2M hot-SKU reservations/s from 2 threads.

#include <orderly/orderly.hpp>
#include <orderly/testing/manual_clock.hpp>

#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace {

using namespace orderly;

using bench::cny;
using bench::null_notifier;

struct world {
    world() : clock(timestamp(std::chrono::hours(24 * 365 * 56))) {
        engine = engine::create(engine_ports{store, notifier, clock, policy}).value();
        for (const char* code : {"tea", "cup", "pot"}) {
            const command_context ctx{admin, std::string("sku-") + code};
            (void)engine->put_sku(ctx, sku{.id = sku_id(code),
                                           .merchant = {},
                                           .name = code,
                                           .category = "tea",
                                           .price = cny("12.50"),
                                           .weight_g = 100,
                                           .volume_cm3 = 100,
                                           .traits = {},
                                           .status = sku_status::on_sale});
            refill(code, 1'000'000'000);
        }
    }
    void refill(const char* code, std::int64_t units) {
        const command_context ctx{admin, "refill-" + std::to_string(++keys)};
        (void)engine->receive_stock(
            ctx, stock_receipt{sku_id(code), warehouse_id("wh"), quantity::of(units).value()});
    }
    place_order_request request(int lines) const {
        place_order_request r;
        r.customer = customer_id("alice");
        r.ship_to = bench::alice_in_hangzhou();
        const char* codes[] = {"tea", "cup", "pot"};
        for (int i = 0; i < lines; ++i) {
            r.lines.push_back(
                line_request{sku_id(codes[i]), quantity::of(1).value(), cny("12.50")});
        }
        return r;
    }

    const actor admin{"bench", role::admin};
    memory_store store;
    null_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    std::atomic<std::uint64_t> keys{0};
};

command_context key(const actor& who, std::atomic<std::uint64_t>& counter) {
    return command_context{who, std::to_string(counter.fetch_add(1, std::memory_order_relaxed))};
}

// (b) place 3 lines → pay → allocate → pack → ship → deliver → complete.
void BM_order_life(benchmark::State& state) {
    world w;
    auto request = w.request(3);
    const money total = cny("37.50");
    for (auto _ : state) {
        benchmark::DoNotOptimize(request);
        const order_id id = w.engine->place_order(key(w.admin, w.keys), request).value().order;
        (void)w.engine->record_payment(
            key(w.admin, w.keys), payment_callback{id, "txn", payment_method::card,
                                                   payment_callback::outcome::captured, total, ""});
        (void)w.engine->allocate_order(key(w.admin, w.keys), id);
        (void)w.engine->pack_order(key(w.admin, w.keys), id);
        (void)w.engine->ship_order(key(w.admin, w.keys), {id, carrier_id("sf"), "SF1"});
        (void)w.engine->deliver_order(key(w.admin, w.keys), id);
        auto done = w.engine->confirm_receipt(key(w.admin, w.keys), id);
        benchmark::DoNotOptimize(done);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_order_life)->Unit(benchmark::kMicrosecond);

// (c) one-line orders for one hot SKU, from 1 and 2 threads: each is a
// reservation committed with its order, timeline, notification and key.
std::unique_ptr<world> hot;
void make_hot(const benchmark::State&) {
    hot = std::make_unique<world>();
}
void drop_hot(const benchmark::State&) {
    hot.reset();
}

void BM_hot_sku_place_order(benchmark::State& state) {
    auto request = hot->request(1);
    for (auto _ : state) {
        benchmark::DoNotOptimize(request);
        auto placed = hot->engine->place_order(key(hot->admin, hot->keys), request);
        benchmark::DoNotOptimize(placed);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_hot_sku_place_order)
    ->Setup(make_hot)
    ->Teardown(drop_hot)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
