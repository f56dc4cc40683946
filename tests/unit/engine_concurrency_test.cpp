// The engine from many threads: no oversold unit on a hot SKU, commands on
// one order serialised. Runs under ThreadSanitizer in CI as well.

#include "engine_fixture.hpp"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

using namespace orderly;
using namespace orderly::test;

TEST_CASE("8 threads placing orders for one hot SKU never oversell") {
    fixture f;
    constexpr std::int64_t stock = 1000;
    f.stock_up("hot", "12.50", stock);
    constexpr int threads = 8;
    constexpr int attempts_per_thread = 200;  // 8 × 200 × 2 units on average: far more than stock
    std::atomic<std::int64_t> reserved_by_success{0};
    std::atomic<int> successes{0};
    std::atomic<int> wrong_errors{0};
    std::atomic<int> refusals{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937 rng(static_cast<std::uint32_t>(1234 + t));
            std::uniform_int_distribution<std::int64_t> pick(1, 3);
            for (int i = 0; i < attempts_per_thread; ++i) {
                const std::int64_t n = pick(rng);
                place_order_request r;
                r.customer = customer_id("c" + std::to_string(t));
                r.ship_to = home();
                r.lines.push_back(line_request{sku_id("hot"), units(n), cny("12.50")});
                const actor buyer{"c" + std::to_string(t), role::customer};
                auto placed = f.engine->place_order(
                    command_context{buyer, "t" + std::to_string(t) + "-" + std::to_string(i)}, r);
                if (placed) {
                    reserved_by_success += n;
                    ++successes;
                } else if (placed.error().code == errc::insufficient_stock) {
                    ++refusals;
                } else {
                    ++wrong_errors;
                }
            }
        });
    }
    for (auto& thread : pool) {
        thread.join();
    }
    const auto level = f.store.stock(sku_id("hot"), warehouse_id("wh-hz")).value();
    REQUIRE(level.has_value());
    CHECK(wrong_errors.load() == 0);
    CHECK(refusals.load() > 0);
    CHECK(level->reserved.units() + level->available() == stock);
    CHECK(level->reserved.units() == reserved_by_success.load());
    CHECK(level->available() >= 0);
    CHECK(level->available() < 3);  // refused only when fewer than 3 were left at some point
    // Every successful order holds exactly what it was promised.
    std::int64_t held = 0;
    auto ids = f.store.orders_in_state(order_state::awaiting_payment, {}, 100000).value();
    CHECK(static_cast<int>(ids.size()) == successes.load());
    for (const order_id id : ids) {
        for (const auto& r : f.load(id).reservations) {
            held += r.units.units();
        }
    }
    CHECK(held == reserved_by_success.load());
}

TEST_CASE("commands racing on one order serialise: one cancel, no cent kept") {
    for (int round = 0; round < 20; ++round) {
        fixture f;
        f.stock_up("tea", "12.50", 10);
        const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
        std::atomic<int> cancelled{0};
        std::atomic<int> paid{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < 4; ++t) {
            pool.emplace_back([&, t] {
                if (t % 2 == 0) {
                    auto r = f.engine->cancel_order(
                        command_context{alice, "cancel-" + std::to_string(t)}, id, "race");
                    if (r && !r->repeated) {
                        ++cancelled;
                    }
                } else {
                    auto r = f.engine->record_payment(
                        command_context{gateway, "pay-" + std::to_string(t)},
                        payment_callback{id, "txn-" + std::to_string(t), payment_method::card,
                                         payment_callback::outcome::captured, cny("25.00"), ""});
                    if (r) {
                        ++paid;
                    }
                }
            });
        }
        for (auto& thread : pool) {
            thread.join();
        }
        const order o = f.load(id);
        CHECK(cancelled.load() == 1);  // the second cancel finds it cancelled already
        CHECK(paid.load() == 2);       // both callbacks are recorded, one way or another
        int captured_events = 0;
        int cancel_events = 0;
        for (const auto& entry : f.engine->timeline(admin, id).value()) {
            captured_events += entry.event == order_event::payment_captured ? 1 : 0;
            cancel_events += entry.event == order_event::cancelled ? 1 : 0;
        }
        CHECK(captured_events <= 1);
        CHECK(cancel_events == 1);
        // A cancel always lands (before shipment it is allowed from every
        // state), so the end is cancelled with every captured cent given back.
        CHECK(o.state == order_state::cancelled);
        for (const auto& p : o.payments) {
            CHECK(p.refunded == p.captured);
        }
        CHECK(f.available("tea") == 10);
    }
}
