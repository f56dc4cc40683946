// orderly quickstart: what a host writes to run orders through orderly.
//
// 1. Implement the ports the host owns: here a Notifier that prints (a real
//    host sends SMS, app pushes or webhooks) and the system clock. The store
//    is orderly's embedded default, SqliteStore on one file (--memory: the
//    in-memory store); the access policy is orderly's default role table.
// 2. Create the engine once and call it from any thread.
// 3. Call run_due_work() from the host's scheduler: it cancels unpaid orders,
//    confirms receipt after the waiting period and delivers notifications.
//
// Two orders: one from placement to completion, one cancelled by the payment
// timeout. A manual clock stands in for the passing of 30 minutes and 7 days.
// Run it twice on the same file: the second run finds every command's
// idempotency key and replays the first results, changing nothing.
//
// Usage: quickstart [--db FILE | --memory]   (default: ./orderly-quickstart.db)

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>

namespace {

// The host's notification channel. orderly calls deliver() after the change
// committed, at least once per notification: de-duplicate on note.id.
class printing_notifier final : public orderly::notifier {
public:
    orderly::result<void> deliver(const orderly::notification& note) override {
        const std::lock_guard lock(mutex_);
        fmt::print("  notify #{} {} to {} {}: {}\n", note.id, note.kind, note.audience,
                   note.recipient, note.text);
        return {};
    }

private:
    std::mutex mutex_;
};

// Stops the example with the error when a command is refused.
template <class T>
T must(orderly::result<T> r, const char* what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, r.error());
        std::exit(EXIT_FAILURE);
    }
    return std::move(*r);
}

void must(orderly::result<void> r, const char* what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, r.error());
        std::exit(EXIT_FAILURE);
    }
}

void print_timeline(orderly::engine& engine, const orderly::actor& who, orderly::order_id id) {
    const auto order = must(engine.get_order(who, id), "get_order");
    fmt::print("order {} {} ({} to pay), timeline:\n", order.number, order.state, order.total);
    for (const auto& entry : must(engine.timeline(who, id), "timeline")) {
        fmt::print("  {:%F %R} {:<17} {:>16} -> {:<16} by {}: {}\n", entry.at, entry.event,
                   entry.from ? orderly::to_string(*entry.from) : "", entry.to, entry.actor,
                   entry.reason);
    }
}

// The store the command line asks for; exits with the usage on a bad one.
std::unique_ptr<orderly::store> open_store(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    if (mode == "--memory" && argc == 2) {
        fmt::print("store: in memory (nothing is kept when the program ends)\n\n");
        return std::make_unique<orderly::memory_store>();
    }
    if (!mode.empty() && !(mode == "--db" && argc == 3)) {
        fmt::print(stderr, "usage: quickstart [--db FILE | --memory]\n");
        std::exit(2);
    }
    const std::filesystem::path file = argc == 3 ? argv[2] : "orderly-quickstart.db";
    const bool existed = std::filesystem::exists(file);
    // synchronous=FULL by default: an acknowledged command survives power loss.
    auto store = must(orderly::sqlite_store::open({.path = file}), "open the SQLite store");
    fmt::print("store: SQLite file {} (WAL, synchronous=FULL){}\n\n",
               std::filesystem::absolute(file).string(),
               existed ? "; it existed, so every command below is replayed from its "
                         "idempotency key and changes nothing"
                       : "; run again to see every command replayed");
    return store;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    using orderly::actor;
    using orderly::role;

    const std::unique_ptr<orderly::store> owned = open_store(argc, argv);
    orderly::store& store = *owned;
    printing_notifier notifier;
    orderly::manual_clock clock(std::chrono::time_point_cast<orderly::duration>(
        std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 9h));
    orderly::default_access_policy policy;
    auto engine = must(orderly::engine::create({store, notifier, clock, policy}), "create");

    // Every command names who acts and carries an idempotency key: a retry
    // with the same key returns the first result and changes nothing.
    const actor admin{"ops-1", role::admin};
    const actor warehouse{"wh-staff-7", role::warehouse};
    const actor gateway{"alipay-callback", role::system};
    const actor alice{"alice", role::customer};
    int key = 0;
    auto as = [&key](const actor& who) {
        return orderly::command_context{who, fmt::format("quickstart-{}", ++key)};
    };

    const auto price = must(orderly::money::parse("12.50 CNY"), "price");
    must(engine->put_sku(as(admin), {.id = orderly::sku_id("tea-100g"),
                                     .merchant = orderly::merchant_id("leaf-shop"),
                                     .name = "Longjing green tea, 100 g",
                                     .category = "tea",
                                     .price = price,
                                     .weight_g = 120,
                                     .volume_cm3 = 500,
                                     .traits = {},
                                     .status = orderly::sku_status::on_sale}),
         "put_sku");
    must(engine->receive_stock(as(warehouse),
                               {orderly::sku_id("tea-100g"), orderly::warehouse_id("hangzhou-1"),
                                orderly::quantity::of(100).value()}),
         "receive_stock");

    orderly::place_order_request request;
    request.channel = orderly::order_channel::mobile_app;
    request.customer = orderly::customer_id("alice");
    request.merchant = orderly::merchant_id("leaf-shop");
    request.ship_to = {.recipient = "Alice Zhang",
                       .phone = "138 1234 5678",
                       .country = "CN",
                       .province = "Zhejiang",
                       .city = "Hangzhou",
                       .district = "Xihu",
                       .street = "18 Longjing Road",
                       .postcode = "310013"};
    request.lines.push_back({orderly::sku_id("tea-100g"), orderly::quantity::of(3).value(), price});
    request.shipping_fee = must(orderly::money::parse("6.00 CNY"), "fee");
    request.tags = {"new-customer"};

    // --- order 1: placement to completion ---
    const auto first = must(engine->place_order(as(alice), request), "place_order");
    const auto total = must(engine->get_order(alice, first.order), "get_order").total;
    must(
        engine->record_payment(as(gateway), {.order = first.order,
                                             .gateway_reference = "2026112222001",
                                             .method = orderly::payment_method::wallet,
                                             .result = orderly::payment_callback::outcome::captured,
                                             .amount = total,
                                             .failure_reason = ""}),
        "record_payment");
    must(engine->allocate_order(as(warehouse), first.order), "allocate");
    must(engine->pack_order(as(warehouse), first.order), "pack");
    must(engine->ship_order(as(warehouse),
                            {first.order, orderly::carrier_id("sf-express"), "SF1402345678"}),
         "ship");
    clock.advance(26h);
    must(engine->deliver_order(as(gateway), first.order), "deliver");
    clock.advance(std::chrono::days(7));  // nobody confirms: the engine does

    // --- order 2: never paid ---
    request.lines[0].units = orderly::quantity::of(2).value();
    const auto second = must(engine->place_order(as(alice), request), "place_order");
    clock.advance(31min);

    fmt::print("running due work: timeouts, auto-confirmation, notifications\n");
    const auto report = must(engine->run_due_work(), "run_due_work");
    fmt::print("due work: {} payment timeout(s), {} auto-confirmed, {} notification(s) sent\n\n",
               report.payment_timeouts, report.auto_confirmed, report.delivered);

    print_timeline(*engine, alice, first.order);
    print_timeline(*engine, alice, second.order);
    const auto stock = must(
        store.stock(orderly::sku_id("tea-100g"), orderly::warehouse_id("hangzhou-1")), "stock");
    fmt::print("stock of tea-100g in hangzhou-1: {} on hand, {} reserved, {} available\n",
               stock->on_hand.units(), stock->reserved.units(), stock->available());
    return EXIT_SUCCESS;
}
