// memory_store through the Store port: every rule of the contract in
// orderly/ports/store.hpp, every refusal, and the races the engine relies on
// being decided by the store (hot stock rows, concurrent claims, two writers
// of one order version).
#include <orderly/storage/memory_store.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace orderly;
using namespace std::chrono_literals;

// ---- builders ---------------------------------------------------------------

money cny(std::int64_t fen) {
    return money::from_minor(fen, currencies::CNY);
}

quantity units(std::int64_t n) {
    return quantity::of(n).value();
}

timestamp at_ms(std::int64_t ms) {
    return from_unix_ms(ms);
}

order_line line(std::string_view sku, std::int64_t count) {
    return order_line{.sku = sku_id(std::string(sku)),
                      .units = units(count),
                      .unit_price = cny(1999),
                      .discount = money::zero(currencies::CNY)};
}

// A complete order; tests change the fields they are about.
order make_order(std::uint64_t id, std::uint64_t version = 1,
                 order_state state = order_state::pending_review,
                 std::optional<timestamp> due_at = std::nullopt) {
    return order{.id = order_id(id),
                 .number = order_number(),
                 .version = version,
                 .channel = order_channel::web,
                 .customer = customer_id("c-1"),
                 .merchant = merchant_id("m-1"),
                 .ship_to = address{},
                 .lines = {line("SKU-1", 2), line("SKU-2", 1)},
                 .subtotal = cny(5997),
                 .discount = money::zero(currencies::CNY),
                 .shipping_fee = cny(800),
                 .total = cny(6797),
                 .method = payment_method::card,
                 .state = state,
                 .held_from = order_state::pending_review,
                 .tags = {},
                 .review_flags = {},
                 .reservations = {},
                 .payments = {},
                 .payment_failures = 0,
                 .warehouse = warehouse_id(),
                 .carrier = carrier_id(),
                 .tracking_number = {},
                 .placed_at = at_ms(1000),
                 .updated_at = at_ms(1000),
                 .due_at = due_at};
}

timeline_entry entry(order_event event, std::string reason) {
    return timeline_entry{.at = at_ms(1000),
                          .actor = system_actor(),
                          .event = event,
                          .from = std::nullopt,
                          .to = order_state::pending_review,
                          .reason = std::move(reason)};
}

notification note(std::uint64_t order, std::string text, timestamp created_at = at_ms(1000)) {
    return notification{.id = 0,
                        .kind = notification_kind::order_confirmed,
                        .order = order_id(order),
                        .number = order_number(),
                        .audience = audience::customer,
                        .recipient = "c-1",
                        .text = std::move(text),
                        .details = {{"channel", "web"}},
                        .created_at = created_at,
                        .attempt = 0};
}

stock_change change(std::string_view sku, std::string_view warehouse, stock_operation operation,
                    std::int64_t count, std::string field = "lines[0].units") {
    return stock_change{.sku = sku_id(std::string(sku)),
                        .warehouse = warehouse_id(std::string(warehouse)),
                        .operation = operation,
                        .units = units(count),
                        .field = std::move(field)};
}

idempotency_record record(std::string key, std::uint64_t order) {
    return idempotency_record{.key = std::move(key),
                              .fingerprint = 42,
                              .outcome = command_outcome{.order = order_id(order),
                                                         .number = order_number(),
                                                         .state = order_state::pending_review,
                                                         .payment = std::nullopt,
                                                         .repeated = false},
                              .created_at = at_ms(1000)};
}

sku make_sku(std::string_view id, std::int64_t price_fen) {
    return sku{.id = sku_id(std::string(id)),
               .merchant = merchant_id("m-1"),
               .name = "Tea",
               .category = "food",
               .price = cny(price_fen),
               .weight_g = 250,
               .volume_cm3 = 800,
               .traits = sku_traits{},
               .status = sku_status::on_sale};
}

// ---- helpers ----------------------------------------------------------------

std::unique_ptr<store_transaction> begin(store& s) {
    auto made = s.begin();
    REQUIRE(made.has_value());
    return std::move(*made);
}

void must(const result<void>& r) {
    if (r.has_error()) {
        FAIL_CHECK(to_string(r.error()));
    }
    REQUIRE(r.has_value());
}

void must_commit(store_transaction& tx) {
    must(tx.commit());
}

// Commits one transaction holding these stock changes.
result<void> commit_stock(store& s, const std::vector<stock_change>& changes) {
    auto tx = begin(s);
    for (const stock_change& c : changes) {
        must(tx->change_stock(c));
    }
    return tx->commit();
}

void put(store& s, const order& o) {
    auto tx = begin(s);
    must(tx->put_order(o));
    must_commit(*tx);
}

std::optional<stock_level> stock_of(store& s, std::string_view sku, std::string_view warehouse) {
    auto found = s.stock(sku_id(std::string(sku)), warehouse_id(std::string(warehouse)));
    REQUIRE(found.has_value());
    return *found;
}

// (on_hand, reserved, safety) of a row that must exist.
std::vector<std::int64_t> counts(store& s, std::string_view sku, std::string_view warehouse) {
    const auto level = stock_of(s, sku, warehouse);
    REQUIRE(level.has_value());
    return {level->on_hand.units(), level->reserved.units(), level->safety.units()};
}

void refused(const result<void>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
}

std::vector<std::uint64_t> raw(const std::vector<order_id>& ids) {
    std::vector<std::uint64_t> values;
    for (const order_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

std::vector<std::uint64_t> in_state(store& s, order_state state, std::uint64_t after = 0,
                                    std::size_t limit = 100) {
    auto ids = s.orders_in_state(state, order_id(after), limit);
    REQUIRE(ids.has_value());
    return raw(*ids);
}

std::vector<std::uint64_t> due(store& s, std::int64_t now_ms, std::size_t limit = 100) {
    auto ids = s.due_orders(at_ms(now_ms), limit);
    REQUIRE(ids.has_value());
    return raw(*ids);
}

std::vector<std::uint64_t> ids_of(const std::vector<notification>& notes) {
    std::vector<std::uint64_t> ids;
    for (const notification& n : notes) {
        ids.push_back(n.id);
    }
    return ids;
}

std::vector<notification> claim(store& s, std::int64_t now_ms, std::int64_t lease_ms,
                                std::size_t limit) {
    auto claimed = s.claim_notifications(at_ms(now_ms), duration(lease_ms), limit);
    REQUIRE(claimed.has_value());
    return *claimed;
}

std::size_t undelivered(store& s) {
    auto count = s.undelivered_count();
    REQUIRE(count.has_value());
    return *count;
}

// The seed of the randomized concurrency tests: fixed, so a run can be
// repeated, and overridable (ORDERLY_TEST_SEED=n) to explore other ones.
std::uint32_t test_seed() {
    std::uint32_t seed = 20261122;
    if (const char* text = std::getenv("ORDERLY_TEST_SEED"); text != nullptr) {
        seed = static_cast<std::uint32_t>(std::strtoul(text, nullptr, 10));
    }
    MESSAGE("seed " << seed << " (set ORDERLY_TEST_SEED to change it)");
    return seed;
}

}  // namespace

// ---- orders -------------------------------------------------------------------

TEST_CASE("an order put at version 1 is inserted and read back whole") {
    memory_store s;
    const order placed = make_order(7);
    put(s, placed);
    const auto loaded = s.load_order(order_id(7));
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    CHECK(**loaded == placed);

    auto tx = begin(s);
    const auto found = tx->find_order(order_id(7));
    REQUIRE(found.has_value());
    CHECK(*found == placed);
    const auto missing = tx->find_order(order_id(8));
    REQUIRE(missing.has_value());
    CHECK_FALSE(missing->has_value());
}

TEST_CASE("inserting an order whose id exists is a conflict") {
    memory_store s;
    put(s, make_order(7));
    auto tx = begin(s);
    must(tx->put_order(make_order(7)));
    refused(tx->commit(), errc::conflict, "id");
}

TEST_CASE("replacing an order needs the stored version to be one less") {
    memory_store s;
    put(s, make_order(7));

    SUBCASE("the next version replaces it") {
        put(s, make_order(7, 2, order_state::awaiting_payment));
        CHECK(s.load_order(order_id(7))->value().version == 2);
        CHECK(s.load_order(order_id(7))->value().state == order_state::awaiting_payment);
    }
    SUBCASE("a stale version is refused and changes nothing") {
        put(s, make_order(7, 2));
        auto tx = begin(s);
        must(tx->put_order(make_order(7, 2, order_state::cancelled)));
        refused(tx->commit(), errc::conflict, "version");
        CHECK(s.load_order(order_id(7))->value().state == order_state::pending_review);
    }
    SUBCASE("a version from the future is refused") {
        auto tx = begin(s);
        must(tx->put_order(make_order(7, 3)));
        refused(tx->commit(), errc::conflict, "version");
    }
    SUBCASE("replacing an order that does not exist is refused") {
        auto tx = begin(s);
        must(tx->put_order(make_order(8, 2)));
        refused(tx->commit(), errc::conflict, "version");
        CHECK_FALSE(s.load_order(order_id(8))->has_value());
    }
    SUBCASE("version 0 is refused when put") {
        auto tx = begin(s);
        refused(tx->put_order(make_order(7, 0)), errc::invalid_value, "version");
    }
    SUBCASE("two puts in one transaction must follow each other") {
        auto tx = begin(s);
        must(tx->put_order(make_order(7, 2)));
        refused(tx->put_order(make_order(7, 2)), errc::conflict, "version");
        must(tx->put_order(make_order(7, 3, order_state::paid)));
        must_commit(*tx);
        CHECK(s.load_order(order_id(7))->value().version == 3);
        CHECK(in_state(s, order_state::paid) == std::vector<std::uint64_t>{7});
    }
}

TEST_CASE("a transaction destroyed without commit leaves nothing behind") {
    memory_store s;
    {
        auto tx = begin(s);
        must(tx->put_order(make_order(7)));
        must(tx->append_timeline(order_id(7), entry(order_event::placed, "placed")));
        must(tx->put_sku(make_sku("SKU-1", 1999)));
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 10)));
        must(tx->enqueue(note(7, "confirmed")));
        must(tx->put_idempotency(record("place_order/a", 7)));
    }
    CHECK_FALSE(s.load_order(order_id(7))->has_value());
    CHECK(s.timeline(order_id(7))->empty());
    CHECK_FALSE(s.load_sku(sku_id("SKU-1"))->has_value());
    CHECK_FALSE(stock_of(s, "SKU-1", "WH-1").has_value());
    CHECK(s.outbox_of(order_id(7))->empty());
    CHECK(undelivered(s) == 0);
    CHECK(in_state(s, order_state::pending_review).empty());
    auto tx = begin(s);
    CHECK_FALSE(tx->find_idempotency("place_order/a")->has_value());
}

TEST_CASE("a failed commit applies none of its writes") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 5)}).has_value());
    {
        auto tx = begin(s);
        must(tx->put_order(make_order(7, 1, order_state::pending_review, at_ms(5000))));
        must(tx->append_timeline(order_id(7), entry(order_event::placed, "placed")));
        must(tx->enqueue(note(7, "confirmed")));
        must(tx->put_sku(make_sku("SKU-1", 1999)));
        must(tx->put_idempotency(record("place_order/a", 7)));
        must(tx->change_stock(change("SKU-9", "WH-1", stock_operation::receive, 3, "restock")));
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 2, "lines[0]")));
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 4, "lines[1]")));
        refused(tx->commit(), errc::insufficient_stock, "lines[1]");
    }
    CHECK_FALSE(s.load_order(order_id(7))->has_value());
    CHECK(s.timeline(order_id(7))->empty());
    CHECK(s.outbox_of(order_id(7))->empty());
    CHECK(undelivered(s) == 0);
    CHECK_FALSE(s.load_sku(sku_id("SKU-1"))->has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{5, 0, 0});
    CHECK_FALSE(stock_of(s, "SKU-9", "WH-1").has_value());
    CHECK(s.all_stock()->size() == 1);
    refused(commit_stock(s, {change("SKU-9", "WH-1", stock_operation::reserve, 0, "again")}),
            errc::insufficient_stock, "again");
    CHECK(in_state(s, order_state::pending_review).empty());
    CHECK(due(s, 10'000).empty());
    auto tx = begin(s);
    CHECK_FALSE(tx->find_idempotency("place_order/a")->has_value());

    // The failed commit used no notification id.
    must(tx->enqueue(note(8, "confirmed")));
    must_commit(*tx);
    CHECK(s.outbox_of(order_id(8))->at(0).notification.id == 1);
}

TEST_CASE("reads in a transaction see committed data only") {
    memory_store s;
    put(s, make_order(7));
    auto tx = begin(s);
    must(tx->put_order(make_order(7, 2, order_state::paid)));
    must(tx->put_sku(make_sku("SKU-1", 1999)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 10)));
    CHECK(tx->find_order(order_id(7))->value().version == 1);
    CHECK_FALSE(tx->find_sku(sku_id("SKU-1"))->has_value());
    CHECK(tx->find_stock(sku_id("SKU-1"))->empty());
    CHECK(s.load_order(order_id(7))->value().version == 1);
    must_commit(*tx);
    CHECK(s.load_order(order_id(7))->value().version == 2);
}

TEST_CASE("timeline entries appear on commit, oldest first") {
    memory_store s;
    {
        auto tx = begin(s);
        must(tx->put_order(make_order(7)));
        must(tx->append_timeline(order_id(7), entry(order_event::placed, "first")));
        must(tx->append_timeline(order_id(7), entry(order_event::review_approved, "second")));
        must_commit(*tx);
    }
    {
        auto tx = begin(s);
        must(tx->append_timeline(order_id(7), entry(order_event::payment_captured, "third")));
        CHECK(s.timeline(order_id(7))->size() == 2);
        must_commit(*tx);
    }
    const auto line = s.timeline(order_id(7));
    REQUIRE(line.has_value());
    REQUIRE(line->size() == 3);
    CHECK(line->at(0).reason == "first");
    CHECK(line->at(1).event == order_event::review_approved);
    CHECK(line->at(2).reason == "third");
    CHECK(s.timeline(order_id(99))->empty());
}

// ---- SKUs and idempotency ---------------------------------------------------------

TEST_CASE("a catalogue entry is inserted, replaced and read back") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_sku(make_sku("SKU-1", 1999)));
    must_commit(*tx);
    CHECK(s.load_sku(sku_id("SKU-1"))->value() == make_sku("SKU-1", 1999));
    tx = begin(s);
    must(tx->put_sku(make_sku("SKU-1", 2999)));
    must_commit(*tx);
    CHECK(s.load_sku(sku_id("SKU-1"))->value().price == cny(2999));
    CHECK(begin(s)->find_sku(sku_id("SKU-1"))->value().price == cny(2999));
    CHECK_FALSE(s.load_sku(sku_id("SKU-2"))->has_value());
}

TEST_CASE("an idempotency key is stored once; a second one is a conflict") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_idempotency(record("place_order/a", 7)));
    must_commit(*tx);
    const auto found = begin(s)->find_idempotency("place_order/a");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK(**found == record("place_order/a", 7));

    SUBCASE("in a later transaction, at commit, with nothing applied") {
        tx = begin(s);
        must(tx->put_order(make_order(8)));
        must(tx->put_idempotency(record("place_order/a", 8)));
        refused(tx->commit(), errc::conflict, "idempotency_key");
        CHECK_FALSE(s.load_order(order_id(8))->has_value());
        CHECK(begin(s)->find_idempotency("place_order/a")->value().outcome.order == order_id(7));
    }
    SUBCASE("twice in one transaction, when put") {
        tx = begin(s);
        must(tx->put_idempotency(record("place_order/b", 8)));
        refused(tx->put_idempotency(record("place_order/b", 9)), errc::conflict, "idempotency_key");
    }
    SUBCASE("the idempotency conflict is reported before a stock refusal") {
        tx = begin(s);
        must(tx->put_idempotency(record("place_order/a", 8)));
        must(tx->change_stock(change("SKU-0", "WH-1", stock_operation::reserve, 1)));
        refused(tx->commit(), errc::conflict, "idempotency_key");
    }
}

// ---- stock --------------------------------------------------------------------------

TEST_CASE("receive creates a row and adds to on hand") {
    memory_store s;
    CHECK_FALSE(stock_of(s, "SKU-1", "WH-1").has_value());
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10)}).has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 0, 0});
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 5)}).has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{15, 0, 0});
    const auto level = stock_of(s, "SKU-1", "WH-1");
    CHECK(level->sku == sku_id("SKU-1"));
    CHECK(level->warehouse == warehouse_id("WH-1"));
    CHECK(level->available() == 15);
}

TEST_CASE("receive refuses to overflow the row") {
    memory_store s;
    const std::int64_t most = std::numeric_limits<std::int64_t>::max();
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, most)}).has_value());
    refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 1, "units")}),
            errc::overflow, "units");
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{most, 0, 0});
}

TEST_CASE("reserve takes available stock and refuses more") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10),
                             change("SKU-1", "WH-1", stock_operation::set_safety, 2)})
                .has_value());
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 5)}).has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 5, 2});

    refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 4, "lines[3]")}),
            errc::insufficient_stock, "lines[3]");
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 3)}).has_value());
    CHECK(stock_of(s, "SKU-1", "WH-1")->available() == 0);
    refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 1)}),
            errc::insufficient_stock, "lines[0].units");
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 8, 2});
}

TEST_CASE("reserve on a row that does not exist is insufficient stock") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10)}).has_value());
    refused(commit_stock(s, {change("SKU-1", "WH-2", stock_operation::reserve, 1, "lines[0]")}),
            errc::insufficient_stock, "lines[0]");
    refused(commit_stock(s, {change("SKU-2", "WH-1", stock_operation::reserve, 1, "lines[1]")}),
            errc::insufficient_stock, "lines[1]");
    CHECK_FALSE(stock_of(s, "SKU-1", "WH-2").has_value());
}

TEST_CASE("release gives reserved units back and refuses more than reserved") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10),
                             change("SKU-1", "WH-1", stock_operation::reserve, 4)})
                .has_value());
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::release, 3)}).has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 1, 0});
    refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::release, 2, "release")}),
            errc::conflict, "release");
    refused(commit_stock(s, {change("SKU-1", "WH-9", stock_operation::release, 1, "release")}),
            errc::conflict, "release");
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 1, 0});
}

TEST_CASE("consume takes shipped units off hand and off reserved") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10),
                             change("SKU-1", "WH-1", stock_operation::reserve, 4)})
                .has_value());
    REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::consume, 3)}).has_value());
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{7, 1, 0});
    refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::consume, 2, "ship")}),
            errc::conflict, "ship");
    refused(commit_stock(s, {change("SKU-1", "WH-9", stock_operation::consume, 1, "ship")}),
            errc::conflict, "ship");
    CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{7, 1, 0});
}

TEST_CASE("set_safety keeps units back and refuses to push available below zero") {
    memory_store s;
    SUBCASE("on an existing row") {
        REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 6)})
                    .has_value());
        REQUIRE(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::set_safety, 4)}).has_value());
        CHECK(stock_of(s, "SKU-1", "WH-1")->available() == 0);
        refused(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::set_safety, 5, "safety")}),
            errc::invalid_value, "safety");
        REQUIRE(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::set_safety, 1)}).has_value());
        CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 6, 1});
    }
    SUBCASE("zero creates an empty row") {
        REQUIRE(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::set_safety, 0)}).has_value());
        CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{0, 0, 0});
    }
    SUBCASE("more than zero on a missing row is refused and creates nothing") {
        refused(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::set_safety, 1, "safety")}),
            errc::invalid_value, "safety");
        CHECK_FALSE(stock_of(s, "SKU-1", "WH-1").has_value());
        CHECK(s.all_stock()->empty());
        CHECK(begin(s)->find_stock(sku_id("SKU-1"))->empty());
    }
}

TEST_CASE("changes to one row apply in sequence, each on the result of the ones before") {
    memory_store s;
    SUBCASE("receive then reserve in one transaction") {
        REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 6),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 4),
                                 change("SKU-1", "WH-1", stock_operation::consume, 3)})
                    .has_value());
        CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{7, 7, 0});
    }
    SUBCASE("the second reservation of a row is refused, naming its field") {
        REQUIRE(
            commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 10)}).has_value());
        refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 6, "lines[0]"),
                                 change("SKU-2", "WH-1", stock_operation::receive, 1, "lines[1]"),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 5, "lines[2]")}),
                errc::insufficient_stock, "lines[2]");
        CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{10, 0, 0});
        CHECK_FALSE(stock_of(s, "SKU-2", "WH-1").has_value());
    }
    SUBCASE("reserve before receive in the same transaction is refused") {
        refused(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::reserve, 1, "first"),
                                 change("SKU-1", "WH-1", stock_operation::receive, 10, "then")}),
                errc::insufficient_stock, "first");
        CHECK_FALSE(stock_of(s, "SKU-1", "WH-1").has_value());
    }
    SUBCASE("release then reserve of the freed units") {
        REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::receive, 2),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 2)})
                    .has_value());
        REQUIRE(commit_stock(s, {change("SKU-1", "WH-1", stock_operation::release, 2),
                                 change("SKU-1", "WH-1", stock_operation::reserve, 2)})
                    .has_value());
        CHECK(counts(s, "SKU-1", "WH-1") == std::vector<std::int64_t>{2, 2, 0});
    }
}

TEST_CASE("many changes over interleaved rows keep each row's call order") {
    memory_store s;
    std::vector<stock_change> changes;
    const std::vector<std::string> rows = {"SKU-D", "SKU-B", "SKU-C", "SKU-A"};
    for (int i = 0; i < 44; ++i) {
        const std::string& sku = rows[static_cast<std::size_t>(i % 4)];
        const auto operation = i < 4 ? stock_operation::receive : stock_operation::reserve;
        changes.push_back(change(sku, "WH-1", operation, i < 4 ? 10 : 1, fmt::format("c[{}]", i)));
    }
    REQUIRE(commit_stock(s, changes).has_value());
    for (const std::string& sku : rows) {
        CHECK(counts(s, sku, "WH-1") == std::vector<std::int64_t>{10, 10, 0});
    }
    // Past the insertion-sort size: each row's releases must still run
    // before its reservations, as called.
    changes.clear();
    for (int i = 0; i < 20; ++i) {
        const std::string& sku = rows[static_cast<std::size_t>(i % 4)];
        const auto operation = i < 4 ? stock_operation::release : stock_operation::reserve;
        changes.push_back(change(sku, "WH-1", operation, i < 4 ? 10 : 1, fmt::format("c[{}]", i)));
    }
    changes.push_back(change("SKU-D", "WH-1", stock_operation::reserve, 7, "c[20]"));
    refused(commit_stock(s, changes), errc::insufficient_stock, "c[20]");
    CHECK(counts(s, "SKU-D", "WH-1") == std::vector<std::int64_t>{10, 10, 0});
    changes.pop_back();
    REQUIRE(commit_stock(s, changes).has_value());
    for (const std::string& sku : rows) {
        CHECK(counts(s, sku, "WH-1") == std::vector<std::int64_t>{10, 4, 0});
    }
}

TEST_CASE("find_stock and all_stock order rows by SKU, then warehouse") {
    memory_store s;
    REQUIRE(commit_stock(s, {change("SKU-B", "WH-2", stock_operation::receive, 1),
                             change("SKU-A", "WH-3", stock_operation::receive, 2),
                             change("SKU-B", "WH-1", stock_operation::receive, 3),
                             change("SKU-A", "WH-1", stock_operation::receive, 4)})
                .has_value());
    const auto of_b = begin(s)->find_stock(sku_id("SKU-B"));
    REQUIRE(of_b.has_value());
    REQUIRE(of_b->size() == 2);
    CHECK(of_b->at(0).warehouse == warehouse_id("WH-1"));
    CHECK(of_b->at(0).on_hand.units() == 3);
    CHECK(of_b->at(1).warehouse == warehouse_id("WH-2"));

    const auto every = s.all_stock();
    REQUIRE(every.has_value());
    std::vector<std::string> keys;
    for (const stock_level& level : *every) {
        keys.push_back(fmt::format("{}/{}={}", level.sku, level.warehouse, level.on_hand));
    }
    CHECK(keys ==
          std::vector<std::string>{"SKU-A/WH-1=4", "SKU-A/WH-3=2", "SKU-B/WH-1=3", "SKU-B/WH-2=1"});
}

// ---- indexes --------------------------------------------------------------------------

TEST_CASE("orders_in_state follows state changes, ascending, after an id, up to a limit") {
    memory_store s;
    for (std::uint64_t id = 1; id <= 200; ++id) {
        put(s,
            make_order(id * 97, 1,
                       id % 2 == 0 ? order_state::awaiting_payment : order_state::pending_review));
    }
    const auto waiting = in_state(s, order_state::awaiting_payment, 0, 1000);
    REQUIRE(waiting.size() == 100);
    CHECK(std::is_sorted(waiting.begin(), waiting.end()));
    CHECK(waiting.front() == 2 * 97);

    CHECK(in_state(s, order_state::awaiting_payment, 0, 3) ==
          std::vector<std::uint64_t>{2 * 97, 4 * 97, 6 * 97});
    CHECK(in_state(s, order_state::awaiting_payment, 4 * 97, 2) ==
          std::vector<std::uint64_t>{6 * 97, 8 * 97});
    CHECK(in_state(s, order_state::awaiting_payment, 200 * 97, 2).empty());
    CHECK(in_state(s, order_state::awaiting_payment, 0, 0).empty());
    CHECK(in_state(s, order_state::paid).empty());

    put(s, make_order(2 * 97, 2, order_state::paid));
    CHECK(in_state(s, order_state::paid) == std::vector<std::uint64_t>{2 * 97});
    CHECK(in_state(s, order_state::awaiting_payment, 0, 1) == std::vector<std::uint64_t>{4 * 97});
    CHECK(in_state(s, order_state::awaiting_payment, 0, 1000).size() == 99);
}

TEST_CASE("due_orders lists deadlines at or before now, earliest first, as they change") {
    memory_store s;
    put(s, make_order(1, 1, order_state::awaiting_payment, at_ms(3000)));
    put(s, make_order(2, 1, order_state::awaiting_payment, at_ms(1000)));
    put(s, make_order(3, 1, order_state::awaiting_payment, at_ms(2000)));
    put(s, make_order(4, 1, order_state::awaiting_payment, at_ms(2000)));
    put(s, make_order(5));

    CHECK(due(s, 999).empty());
    CHECK(due(s, 1000) == std::vector<std::uint64_t>{2});
    CHECK(due(s, 2000) == std::vector<std::uint64_t>{2, 3, 4});
    CHECK(due(s, 9000) == std::vector<std::uint64_t>{2, 3, 4, 1});
    CHECK(due(s, 9000, 2) == std::vector<std::uint64_t>{2, 3});
    CHECK(due(s, 9000, 0).empty());

    put(s, make_order(2, 2, order_state::paid));                          // the deadline is cleared
    put(s, make_order(1, 2, order_state::awaiting_payment, at_ms(500)));  // moved earlier
    CHECK(due(s, 9000) == std::vector<std::uint64_t>{1, 3, 4});
    CHECK(due(s, 600) == std::vector<std::uint64_t>{1});
}

// ---- outbox --------------------------------------------------------------------------

TEST_CASE("notifications get unique increasing ids from 1, and outbox_of lists them") {
    memory_store s;
    for (int round = 0; round < 3; ++round) {
        auto tx = begin(s);
        must(tx->enqueue(note(7, fmt::format("to 7, round {}", round))));
        must(tx->enqueue(note(8, fmt::format("to 8, round {}", round))));
        must_commit(*tx);
    }
    const auto of_7 = s.outbox_of(order_id(7));
    const auto of_8 = s.outbox_of(order_id(8));
    REQUIRE(of_7.has_value());
    REQUIRE(of_8.has_value());
    REQUIRE(of_7->size() == 3);
    std::vector<std::uint64_t> ids_7;
    for (const outbox_entry& e : *of_7) {
        ids_7.push_back(e.notification.id);
        CHECK_FALSE(e.delivered);
        CHECK(e.attempts == 0);
        CHECK(e.last_error.empty());
    }
    CHECK(ids_7 == std::vector<std::uint64_t>{1, 3, 5});
    CHECK(of_8->at(2).notification.id == 6);
    CHECK(of_8->at(2).notification.text == "to 8, round 2");
    CHECK(of_8->at(2).notification.details == note(8, "").details);
    CHECK(of_8->at(2).next_attempt_at == at_ms(1000));
    CHECK(undelivered(s) == 6);
    CHECK(s.outbox_of(order_id(9))->empty());
}

TEST_CASE("claims hand out due notifications oldest first, under a lease") {
    memory_store s;
    auto tx = begin(s);
    for (int i = 0; i < 5; ++i) {
        must(tx->enqueue(note(7, fmt::format("n{}", i))));
    }
    must(tx->enqueue(note(8, "later", at_ms(50'000))));
    must_commit(*tx);

    const auto first = claim(s, 10'000, 1000, 2);
    CHECK(ids_of(first) == std::vector<std::uint64_t>{1, 2});
    CHECK(first.at(0).attempt == 1);
    CHECK(first.at(0).text == "n0");
    CHECK(ids_of(claim(s, 10'000, 1000, 10)) == std::vector<std::uint64_t>{3, 4, 5});
    CHECK(claim(s, 10'999, 1000, 10).empty());  // all leased; 6 is not due yet
    CHECK(claim(s, 10'000, 1000, 0).empty());

    SUBCASE("an expired lease hands the notification out again, counting the attempt") {
        const auto again = claim(s, 11'000, 1000, 1);
        CHECK(ids_of(again) == std::vector<std::uint64_t>{1});
        CHECK(again.at(0).attempt == 2);
        CHECK(s.outbox_of(order_id(7))->at(0).attempts == 2);
        CHECK(s.outbox_of(order_id(7))->at(0).next_attempt_at == at_ms(12'000));
    }
    SUBCASE("a delivered notification is never handed out again") {
        must(s.mark_delivered(1));
        must(s.mark_delivered(1));  // a repeat changes nothing
        CHECK(undelivered(s) == 5);
        CHECK(ids_of(claim(s, 60'000, 1000, 10)) == std::vector<std::uint64_t>{2, 3, 4, 5, 6});
        CHECK(s.outbox_of(order_id(7))->at(0).delivered);
    }
    SUBCASE("a rescheduled notification waits for its time and keeps the error") {
        must(s.reschedule(2, at_ms(30'000), "gateway down"));
        CHECK(ids_of(claim(s, 29'999, 1000, 10)) == std::vector<std::uint64_t>{1, 3, 4, 5});
        CHECK(ids_of(claim(s, 30'000, 1000, 10)) == std::vector<std::uint64_t>{2});
        const auto entry_2 = s.outbox_of(order_id(7))->at(1);
        CHECK(entry_2.last_error == "gateway down");
        CHECK(entry_2.attempts == 2);
    }
    SUBCASE("rescheduling a delivered notification does not bring it back") {
        must(s.mark_delivered(3));
        must(s.reschedule(3, at_ms(0), "late failure report"));
        CHECK(undelivered(s) == 5);
        CHECK(ids_of(claim(s, 60'000, 1000, 10)) == std::vector<std::uint64_t>{1, 2, 4, 5, 6});
    }
    SUBCASE("unknown ids are not found") {
        refused(s.mark_delivered(0), errc::not_found, "id");
        refused(s.mark_delivered(7), errc::not_found, "id");
        refused(s.reschedule(99, at_ms(0), "x"), errc::not_found, "id");
    }
}

TEST_CASE("claims skip a large delivered backlog") {
    memory_store s;
    auto tx = begin(s);
    for (int i = 0; i < 2000; ++i) {
        must(tx->enqueue(note(7, "n")));
    }
    must_commit(*tx);
    for (std::uint64_t id = 1; id <= 1990; ++id) {
        must(s.mark_delivered(id));
    }
    CHECK(undelivered(s) == 10);
    const auto claimed = claim(s, 10'000, 1000, 3);
    CHECK(ids_of(claimed) == std::vector<std::uint64_t>{1991, 1992, 1993});
}

// ---- concurrency ------------------------------------------------------------------------

TEST_CASE("many threads reserving one hot row never oversell") {
    const std::uint32_t seed = test_seed();
    constexpr int thread_count = 8;
    constexpr std::int64_t on_hand = 1000;
    for (int round = 0; round < 5; ++round) {
        memory_store s;
        REQUIRE(commit_stock(s, {change("HOT", "WH-1", stock_operation::receive, on_hand)})
                    .has_value());
        std::atomic<std::int64_t> granted{0};
        std::atomic<int> unexpected{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                std::mt19937 random(seed + static_cast<std::uint32_t>(round * 100 + t));
                std::uniform_int_distribution<std::int64_t> wanted(1, 3);
                int refusals = 0;
                while (refusals < 3) {  // 3 in a row: only 1 or 2 units may be left
                    const std::int64_t n = wanted(random);
                    auto tx = s.begin().value();
                    auto changed =
                        tx->change_stock(change("HOT", "WH-1", stock_operation::reserve, n));
                    const auto committed = tx->commit();
                    if (changed.has_value() && committed.has_value()) {
                        granted += n;
                        refusals = 0;
                    } else if (committed.has_error() &&
                               committed.error().code == errc::insufficient_stock) {
                        ++refusals;
                    } else {
                        ++unexpected;
                        return;
                    }
                }
            });
        }
        for (std::thread& thread : threads) {
            thread.join();
        }
        CHECK(unexpected == 0);
        const auto level = stock_of(s, "HOT", "WH-1");
        REQUIRE(level.has_value());
        CHECK(level->on_hand.units() == on_hand);
        CHECK(level->reserved.units() == granted.load());
        CHECK(level->reserved.units() + level->available() == on_hand);
        CHECK(level->available() >= 0);
        CHECK(level->available() <= 2);
    }
}

TEST_CASE("concurrent claims never hand out one notification twice") {
    const std::uint32_t seed = test_seed();
    constexpr int thread_count = 4;
    constexpr int notes = 2000;
    memory_store s;
    {
        auto tx = begin(s);
        for (int i = 0; i < notes; ++i) {
            must(tx->enqueue(note(static_cast<std::uint64_t>(i % 17 + 1), "n")));
        }
        must_commit(*tx);
    }
    std::mutex seen_mutex;
    std::vector<std::uint64_t> seen;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 random(seed + static_cast<std::uint32_t>(t));
            std::uniform_int_distribution<std::size_t> limit(1, 7);
            // Bounded, so a store that hands out the same ones again fails
            // the test instead of hanging it.
            for (int call = 0; call < notes; ++call) {
                // A lease far longer than the test: nothing is handed out twice legitimately.
                auto claimed =
                    s.claim_notifications(at_ms(10'000), duration(3'600'000), limit(random));
                if (claimed.has_error()) {
                    ++errors;
                    return;
                }
                if (claimed->empty()) {
                    return;
                }
                for (const notification& n : *claimed) {
                    if (n.id % 2 == 0 && s.mark_delivered(n.id).has_error()) {
                        ++errors;
                    }
                }
                const std::lock_guard lock(seen_mutex);
                for (const notification& n : *claimed) {
                    seen.push_back(n.id);
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    CHECK(errors == 0);
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    CHECK(seen.size() == static_cast<std::size_t>(notes));
    CHECK(undelivered(s) == static_cast<std::size_t>(notes / 2));
}

TEST_CASE("of concurrent writers of the same order version exactly one wins") {
    constexpr int thread_count = 6;
    memory_store s;
    for (std::uint64_t version = 2; version <= 30; ++version) {
        if (version == 2) {
            put(s, make_order(7));
        }
        std::atomic<int> won{0};
        std::atomic<int> conflicts{0};
        std::atomic<int> ready{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                order next = make_order(7, version);
                next.tracking_number = fmt::format("writer {}", t);
                auto tx = s.begin().value();
                const auto put_done = tx->put_order(next);
                ++ready;
                while (ready.load() < thread_count) {
                    std::this_thread::yield();
                }
                const auto committed = tx->commit();
                if (put_done.has_value() && committed.has_value()) {
                    ++won;
                } else if (committed.has_error() && committed.error().code == errc::conflict) {
                    ++conflicts;
                }
            });
        }
        for (std::thread& thread : threads) {
            thread.join();
        }
        CHECK(won == 1);
        CHECK(conflicts == thread_count - 1);
        CHECK(s.load_order(order_id(7))->value().version == version);
    }
}

TEST_CASE("commits on many rows and orders in parallel keep every row's books") {
    // Transactions reserve on several rows in random order (so lock ordering
    // matters) while placing orders; afterwards every reservation that
    // committed is in exactly one order and in the rows.
    const std::uint32_t seed = test_seed();
    constexpr int thread_count = 4;
    constexpr int per_thread = 300;
    const std::vector<std::string> skus = {"A", "B", "C", "D"};
    memory_store s;
    for (const std::string& sku : skus) {
        REQUIRE(commit_stock(s, {change(sku, "WH-1", stock_operation::receive, 500)}).has_value());
    }
    std::atomic<std::int64_t> granted{0};
    std::atomic<std::size_t> placed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 random(seed + static_cast<std::uint32_t>(t));
            for (int i = 0; i < per_thread; ++i) {
                std::vector<std::string> picked = skus;
                std::shuffle(picked.begin(), picked.end(), random);
                picked.resize(random() % 3 + 1);
                auto tx = s.begin().value();
                const auto id = static_cast<std::uint64_t>(t * per_thread + i + 1);
                (void)tx->put_order(make_order(id));
                (void)tx->enqueue(note(id, "placed"));
                for (const std::string& sku : picked) {
                    (void)tx->change_stock(change(sku, "WH-1", stock_operation::reserve, 1));
                }
                if (tx->commit().has_value()) {
                    granted += static_cast<std::int64_t>(picked.size());
                    ++placed;
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    std::int64_t reserved = 0;
    for (const stock_level& level : s.all_stock().value()) {
        reserved += level.reserved.units();
        CHECK(level.available() >= 0);
    }
    CHECK(reserved == granted.load());
    CHECK(placed.load() < static_cast<std::size_t>(thread_count * per_thread));  // stock ran out
    CHECK(in_state(s, order_state::pending_review, 0, 10'000).size() == placed.load());
    CHECK(undelivered(s) == placed.load());
}
