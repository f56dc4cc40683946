// memory_store: the cost of a commit on the paths the engine takes most.
// The hot-SKU reservation is the budget that matters (>= 2M reservations/s
// from 2 threads on one row, DESIGN.md); placing an order is the other half
// of every command. Run on a release build (scripts/bench.sh).
#include <orderly/storage/memory_store.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace {

using namespace orderly;

money cny(std::int64_t fen) {
    return money::from_minor(fen, currencies::CNY);
}

quantity units(std::int64_t n) {
    return quantity::of(n).value();
}

stock_change change(std::string sku, stock_operation operation, std::int64_t count) {
    return stock_change{.sku = sku_id(std::move(sku)),
                        .warehouse = warehouse_id("WH-1"),
                        .operation = operation,
                        .units = units(count),
                        .field = "lines[0].units"};
}

/// One store shared by every thread of the hot-row runs, as in a host
/// process. Its one row holds so much stock that it never runs out, so no
/// refill pauses the measurement.
memory_store& hot_store() {
    static memory_store store;
    static const bool stocked = [] {
        auto tx = store.begin().value();
        (void)tx->change_stock(change("HOT", stock_operation::receive, std::int64_t{1} << 50));
        return tx->commit().has_value();
    }();
    (void)stocked;
    return store;
}

/// A whole transaction reserving one unit of the one hot row: begin, buffer
/// the change, commit (find the row, lock it, check, apply).
void hot_sku_reserve(benchmark::State& state) {
    memory_store& store = hot_store();
    const stock_change reserve = change("HOT", stock_operation::reserve, 1);
    for (auto _ : state) {
        auto tx = store.begin().value();
        benchmark::DoNotOptimize(reserve);
        (void)tx->change_stock(reserve);
        auto committed = tx->commit();
        benchmark::DoNotOptimize(committed);
        if (committed.has_error()) {
            state.SkipWithError("the hot row ran out of stock");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(hot_sku_reserve)->Threads(1)->Threads(2)->UseRealTime();

order_line line(std::string sku) {
    return order_line{.sku = sku_id(std::move(sku)),
                      .units = units(1),
                      .unit_price = cny(1999),
                      .discount = money::zero(currencies::CNY)};
}

/// A placed 3-line order, the shape the per-order budgets speak of.
order three_line_order() {
    return order{.id = order_id(1),
                 .number = order_number(),
                 .version = 1,
                 .channel = order_channel::web,
                 .customer = customer_id("c-1029"),
                 .merchant = merchant_id("m-7"),
                 .ship_to = address{.recipient = "Li Wei",
                                    .phone = "+8613800138000",
                                    .country = "CN",
                                    .province = "Zhejiang",
                                    .city = "Hangzhou",
                                    .district = "Xihu",
                                    .street = "1 Wensan Road, Room 402",
                                    .postcode = "310000"},
                 .lines = {line("SKU-1"), line("SKU-2"), line("SKU-3")},
                 .subtotal = cny(5997),
                 .discount = money::zero(currencies::CNY),
                 .shipping_fee = cny(800),
                 .total = cny(6797),
                 .method = payment_method::card,
                 .state = order_state::awaiting_payment,
                 .held_from = order_state::pending_review,
                 .tags = {},
                 .review_flags = {},
                 .reservations = {},
                 .payments = {},
                 .payment_failures = 0,
                 .shipments = {},
                 .warehouse = warehouse_id(),
                 .carrier = carrier_id(),
                 .tracking_number = {},
                 .placed_at = from_unix_ms(1'700'000'000'000),
                 .updated_at = from_unix_ms(1'700'000'000'000),
                 .due_at = from_unix_ms(1'700'000'900'000)};
}

timeline_entry placed_entry() {
    return timeline_entry{.at = from_unix_ms(1'700'000'000'000),
                          .actor = actor{"c-1029", role::customer},
                          .event = order_event::placed,
                          .from = std::nullopt,
                          .to = order_state::awaiting_payment,
                          .reason = "placed on the web shop"};
}

notification confirmed_note() {
    return notification{.id = 0,
                        .kind = notification_kind::order_confirmed,
                        .order = order_id(1),
                        .number = order_number(),
                        .audience = audience::customer,
                        .recipient = "c-1029",
                        .text = "Your order is confirmed.",
                        .details = {},
                        .created_at = from_unix_ms(1'700'000'000'000),
                        .attempt = 0};
}

/// Orders kept before a run starts a fresh store, so the measurement is
/// of commits, not of a heap that grows for the whole run.
constexpr std::uint64_t orders_per_store = 1 << 16;

/// One transaction inserting a 3-line order with its first timeline entry
/// and its confirmation: the writes of placing an order, without stock.
void insert_order_commit(benchmark::State& state) {
    auto store = std::make_unique<memory_store>();
    order placed = three_line_order();
    const timeline_entry first = placed_entry();
    notification note = confirmed_note();
    std::uint64_t next_id = 1;
    for (auto _ : state) {
        if (next_id % orders_per_store == 0) {
            state.PauseTiming();
            store = std::make_unique<memory_store>();
            state.ResumeTiming();
        }
        placed.id = order_id(next_id);
        note.order = placed.id;
        ++next_id;
        benchmark::DoNotOptimize(placed);
        auto tx = store->begin().value();
        (void)tx->put_order(placed);
        (void)tx->append_timeline(placed.id, first);
        (void)tx->enqueue(note);
        auto committed = tx->commit();
        benchmark::DoNotOptimize(committed);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(insert_order_commit);

/// Orders the update benchmark cycles through.
constexpr std::uint64_t live_orders = 1024;

/// A store holding `live_orders` placed orders, ids 1 to live_orders.
std::unique_ptr<memory_store> store_with_live_orders(order placed) {
    auto store = std::make_unique<memory_store>();
    for (std::uint64_t id = 1; id <= live_orders; ++id) {
        placed.id = order_id(id);
        auto tx = store->begin().value();
        (void)tx->put_order(placed);
        (void)tx->commit();
    }
    return store;
}

/// One transaction moving an existing order on (next version, new state,
/// deadline cleared) with a timeline entry and a notification: the shape of
/// every command after placement.
void update_order_commit(benchmark::State& state) {
    const order placed = three_line_order();
    auto store = store_with_live_orders(placed);
    order next = placed;
    next.state = order_state::paid;
    next.due_at = std::nullopt;
    const timeline_entry paid = placed_entry();
    notification note = confirmed_note();
    std::uint64_t round = 0;
    for (auto _ : state) {
        const std::uint64_t index = round % live_orders;
        if (round != 0 && round % orders_per_store == 0) {
            state.PauseTiming();
            store = store_with_live_orders(placed);
            state.ResumeTiming();
        }
        next.id = order_id(index + 1);
        next.version = round % orders_per_store / live_orders + 2;
        note.order = next.id;
        ++round;
        benchmark::DoNotOptimize(next);
        auto tx = store->begin().value();
        (void)tx->put_order(next);
        (void)tx->append_timeline(next.id, paid);
        (void)tx->enqueue(note);
        auto committed = tx->commit();
        benchmark::DoNotOptimize(committed);
        if (committed.has_error()) {
            state.SkipWithError("an update was refused");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(update_order_commit);

/// insert_order_commit plus what the engine adds to a placement: three
/// reservations and an idempotency record.
void place_order_commit(benchmark::State& state) {
    auto store = std::make_unique<memory_store>();
    const auto stock_up = [](memory_store& s) {
        auto tx = s.begin().value();
        for (const char* sku : {"SKU-1", "SKU-2", "SKU-3"}) {
            (void)tx->change_stock(change(sku, stock_operation::receive, std::int64_t{1} << 50));
        }
        (void)tx->commit();
    };
    stock_up(*store);
    order placed = three_line_order();
    const timeline_entry first = placed_entry();
    notification note = confirmed_note();
    idempotency_record key{.key = "", .fingerprint = 7, .outcome = {}, .created_at = {}};
    const std::array reserves = {change("SKU-1", stock_operation::reserve, 1),
                                 change("SKU-2", stock_operation::reserve, 1),
                                 change("SKU-3", stock_operation::reserve, 1)};
    std::uint64_t next_id = 1;
    for (auto _ : state) {
        if (next_id % orders_per_store == 0) {
            state.PauseTiming();
            store = std::make_unique<memory_store>();
            stock_up(*store);
            state.ResumeTiming();
        }
        placed.id = order_id(next_id);
        note.order = placed.id;
        key.key = "place_order/" + std::to_string(next_id);
        ++next_id;
        benchmark::DoNotOptimize(placed);
        auto tx = store->begin().value();
        (void)tx->put_order(placed);
        (void)tx->append_timeline(placed.id, first);
        (void)tx->enqueue(note);
        (void)tx->put_idempotency(key);
        for (const stock_change& reserve : reserves) {
            (void)tx->change_stock(reserve);
        }
        auto committed = tx->commit();
        benchmark::DoNotOptimize(committed);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(place_order_commit);

}  // namespace
