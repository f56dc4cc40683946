// The engine from many threads: commands on one order serialised. Runs
// under ThreadSanitizer in CI as well. Threads placing orders for one hot SKU
// (no oversold unit) are a scenario of the store conformance suite
// (orderly/testing/store_conformance.hpp), run on every store; for the memory
// store in store_conformance_memory_test.

#include "engine_fixture.hpp"

#include <atomic>
#include <thread>
#include <vector>

using namespace orderly;
using namespace orderly::test;

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
