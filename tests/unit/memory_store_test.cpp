// memory_store beyond the port contract: the error fields it names, the
// refusals it gives when a write is made rather than at commit, its
// notification ids and outbox bookkeeping, and its order among equal
// deadlines. Every rule of the contract itself, and the races the engine
// relies on the store to decide, are checked by the store conformance suite
// (orderly/testing/store_conformance.hpp), which runs against memory_store in
// store_conformance_memory_test.
#include <orderly/storage/memory_store.hpp>
#include <orderly/testing/store_conformance.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

namespace {

using namespace orderly;
using orderly::testing::detail::at_ms;
using orderly::testing::detail::change;
using orderly::testing::detail::note;
using orderly::testing::detail::plain_case;
using orderly::testing::detail::plain_order;
using orderly::testing::detail::plain_shipment;
using orderly::testing::detail::plain_sku;
using orderly::testing::detail::plain_ticket;
using orderly::testing::detail::plain_transfer;
using orderly::testing::detail::record;

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

void put(store& s, const order& o) {
    auto tx = begin(s);
    must(tx->put_order(o));
    must(tx->commit());
}

void refused(const result<void>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
}

std::vector<std::uint64_t> outbox_ids(store& s, std::uint64_t order) {
    std::vector<std::uint64_t> ids;
    for (const outbox_entry& e : s.outbox_of(order_id(order)).value()) {
        ids.push_back(e.notification.id);
    }
    return ids;
}

}  // namespace

TEST_CASE("order conflicts name the id or the version") {
    memory_store s;
    put(s, plain_order(7));
    auto tx = begin(s);
    must(tx->put_order(plain_order(7)));
    refused(tx->commit(), errc::conflict, "id");
    tx = begin(s);
    must(tx->put_order(plain_order(7, 3)));
    refused(tx->commit(), errc::conflict, "version");
    tx = begin(s);
    must(tx->put_order(plain_order(8, 2)));
    refused(tx->commit(), errc::conflict, "version");
}

TEST_CASE("put_order refuses version 0 at once") {
    memory_store s;
    auto tx = begin(s);
    refused(tx->put_order(plain_order(7, 0)), errc::invalid_value, "version");
}

TEST_CASE("two puts of one order in a transaction must follow each other") {
    memory_store s;
    put(s, plain_order(7));
    auto tx = begin(s);
    must(tx->put_order(plain_order(7, 2)));
    refused(tx->put_order(plain_order(7, 2)), errc::conflict, "version");
    must(tx->put_order(plain_order(7, 3, order_state::paid)));
    must(tx->commit());
    CHECK(s.load_order(order_id(7))->value().version == 3);
    CHECK(s.orders_in_state(order_state::paid, order_id(0), 10).value() ==
          std::vector<order_id>{order_id(7)});
}

TEST_CASE("put_shipment refuses version 0 at once") {
    memory_store s;
    auto tx = begin(s);
    refused(tx->put_shipment(plain_shipment(7, 0)), errc::invalid_value, "shipment.version");
}

TEST_CASE("two puts of one shipment in a transaction must follow each other") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_shipment(plain_shipment(7)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_shipment(plain_shipment(7, 2, shipment_state::picking)));
    refused(tx->put_shipment(plain_shipment(7, 2)), errc::conflict, "shipment.version");
    must(tx->put_shipment(plain_shipment(7, 3, shipment_state::packed, at_ms(50))));
    must(tx->commit());
    CHECK(s.load_shipment(shipment_id(7))->value().version == 3);
    CHECK(s.shipments_in_state(shipment_state::packed, shipment_id(0), 10).value() ==
          std::vector<shipment_id>{shipment_id(7)});
    CHECK(s.shipments_in_state(shipment_state::picking, shipment_id(0), 10)->empty());
    CHECK(s.due_shipments(at_ms(50), 10).value() == std::vector<shipment_id>{shipment_id(7)});
}

TEST_CASE("an order version conflict is reported before a shipment conflict") {
    memory_store s;
    put(s, plain_order(7));
    auto tx = begin(s);
    must(tx->put_shipment(plain_shipment(7)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_shipment(plain_shipment(7)));
    must(tx->put_order(plain_order(7)));
    refused(tx->commit(), errc::conflict, "id");
}

TEST_CASE("a transaction does not see its own writes") {
    memory_store s;
    put(s, plain_order(7));
    auto tx = begin(s);
    must(tx->put_order(plain_order(7, 2, order_state::paid)));
    must(tx->put_sku(plain_sku("SKU-1", 1999)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 10)));
    must(tx->put_idempotency(record("place_order/a", 7)));
    must(tx->put_shipment(plain_shipment(9)));
    CHECK(tx->find_order(order_id(7))->value().version == 1);
    CHECK_FALSE(tx->find_shipment(shipment_id(9))->has_value());
    CHECK_FALSE(tx->find_sku(sku_id("SKU-1"))->has_value());
    CHECK(tx->find_stock(sku_id("SKU-1"))->empty());
    CHECK_FALSE(tx->find_idempotency("place_order/a")->has_value());
    must(tx->commit());
    CHECK(s.load_order(order_id(7))->value().version == 2);
}

TEST_CASE("an idempotency key twice in one transaction is refused when put") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_idempotency(record("place_order/b", 8)));
    refused(tx->put_idempotency(record("place_order/b", 9)), errc::conflict, "idempotency_key");
}

TEST_CASE("an idempotency conflict is reported before a stock refusal") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_idempotency(record("place_order/a", 7)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_idempotency(record("place_order/a", 8)));
    must(tx->change_stock(change("SKU-0", "WH-1", stock_operation::reserve, 1)));
    refused(tx->commit(), errc::conflict, "idempotency_key");
}

TEST_CASE("notification ids count from 1 in commit order, a failed commit uses none") {
    memory_store s;
    {
        auto tx = begin(s);
        must(tx->enqueue(note(7, "first")));
        must(tx->enqueue(note(8, "second")));
        must(tx->commit());
    }
    {
        auto tx = begin(s);
        must(tx->enqueue(note(7, "lost")));
        must(tx->change_stock(change("SKU-0", "WH-1", stock_operation::reserve, 1)));
        refused(tx->commit(), errc::insufficient_stock, "lines[0].units");
    }
    {
        auto tx = begin(s);
        must(tx->enqueue(note(7, "third")));
        must(tx->commit());
    }
    CHECK(outbox_ids(s, 7) == std::vector<std::uint64_t>{1, 3});
    CHECK(outbox_ids(s, 8) == std::vector<std::uint64_t>{2});
    const auto entry = s.outbox_of(order_id(7)).value().at(1);
    CHECK(entry.notification.text == "third");
    CHECK(entry.next_attempt_at == entry.notification.created_at);
}

TEST_CASE("a claim leases until now plus the lease, unknown ids name the field id") {
    memory_store s;
    auto tx = begin(s);
    must(tx->enqueue(note(7, "n0")));
    must(tx->commit());
    REQUIRE(s.claim_notifications(at_ms(10'000), duration(1000), 10)->size() == 1);
    CHECK(s.outbox_of(order_id(7))->at(0).next_attempt_at == at_ms(11'000));
    REQUIRE(s.claim_notifications(at_ms(11'000), duration(1000), 10)->size() == 1);
    CHECK(s.outbox_of(order_id(7))->at(0).next_attempt_at == at_ms(12'000));
    CHECK(s.outbox_of(order_id(7))->at(0).attempts == 2);
    refused(s.mark_delivered(0), errc::not_found, "id");
    refused(s.mark_delivered(2), errc::not_found, "id");
    refused(s.reschedule(99, at_ms(0), "x"), errc::not_found, "id");
    must(s.mark_delivered(1));
    must(s.reschedule(1, at_ms(0), "a late failure report"));  // accepted, changes nothing
    CHECK(s.outbox_of(order_id(7))->at(0).delivered);
}

TEST_CASE("equal deadlines come in id order") {
    memory_store s;
    put(s, plain_order(4, 1, order_state::awaiting_payment, at_ms(2000)));
    put(s, plain_order(3, 1, order_state::awaiting_payment, at_ms(2000)));
    put(s, plain_order(2, 1, order_state::awaiting_payment, at_ms(1000)));
    CHECK(s.due_orders(at_ms(2000), 10).value() ==
          std::vector<order_id>{order_id(2), order_id(3), order_id(4)});
}

TEST_CASE("put_transfer refuses version 0 at once") {
    memory_store s;
    auto tx = begin(s);
    refused(tx->put_transfer(plain_transfer(7, 0)), errc::invalid_value, "transfer.version");
}

TEST_CASE("two puts of one transfer in a transaction must follow each other") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_transfer(plain_transfer(7)));
    refused(tx->put_transfer(plain_transfer(7, 3)), errc::conflict, "transfer.version");
    must(tx->put_transfer(plain_transfer(7, 2, transfer_state::received)));
    must(tx->commit());
    CHECK(s.load_transfer(transfer_id(7))->value().version == 2);
    CHECK(s.transfers_in_state(transfer_state::received, transfer_id(0), 10).value() ==
          std::vector<transfer_id>{transfer_id(7)});
    CHECK(s.transfers_in_state(transfer_state::in_transit, transfer_id(0), 10)->empty());
}

TEST_CASE("a transfer version conflict is reported before a stock refusal") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_transfer(plain_transfer(7)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_transfer(plain_transfer(7)));
    must(tx->change_stock(change("SKU-0", "WH-1", stock_operation::dispatch, 1)));
    refused(tx->commit(), errc::conflict, "transfer.id");
}

TEST_CASE("a transaction does not see its own transfer or flag") {
    memory_store s;
    auto tx = begin(s);
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 4)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_transfer(plain_transfer(9)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::mark_low, 0)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::expect, 2)));
    CHECK_FALSE(tx->find_transfer(transfer_id(9))->has_value());
    CHECK_FALSE(tx->find_stock(sku_id("SKU-1"))->at(0).low_stock_alerted);
    CHECK(tx->find_stock(sku_id("SKU-1"))->at(0).in_transit.units() == 0);
    must(tx->commit());
    const auto level = s.stock(sku_id("SKU-1"), warehouse_id("WH-1")).value();
    REQUIRE(level.has_value());
    CHECK(level->low_stock_alerted);
    CHECK(level->in_transit.units() == 2);
}

TEST_CASE("refused transfer and flag changes name their field and leave the ledger alone") {
    memory_store s;
    auto tx = begin(s);
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 4)));
    must(tx->commit());
    const auto refusal = [&](stock_operation operation, std::int64_t units, errc code) {
        auto attempt = begin(s);
        must(attempt->change_stock(change("SKU-1", "WH-1", operation, units, "lines[4].units")));
        refused(attempt->commit(), code, "lines[4].units");
    };
    refusal(stock_operation::dispatch, 5, errc::insufficient_stock);
    refusal(stock_operation::arrive, 1, errc::conflict);
    refusal(stock_operation::clear_low, 0, errc::conflict);
    refusal(stock_operation::mark_low, 2, errc::invalid_value);
    refusal(stock_operation::clear_low, 2, errc::invalid_value);
    refusal(stock_operation::recall, 1, errc::conflict);
    const auto ledger =
        s.stock_movements(sku_id("SKU-1"), warehouse_id("WH-1"), at_ms(-1), at_ms(1)).value();
    REQUIRE(ledger.size() == 1);
    CHECK(ledger.front().operation == stock_operation::receive);
    CHECK(ledger.front().on_hand_after.units() == 4);
}

TEST_CASE("reservations, releases and safety changes add nothing to the ledger") {
    memory_store s;
    auto tx = begin(s);
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 10)));
    must(tx->commit());
    for (int i = 0; i < 50; ++i) {
        tx = begin(s);
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 1)));
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::release, 1)));
        must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::set_safety, i % 3)));
        must(tx->commit());
    }
    CHECK(s.stock_movements(sku_id("SKU-1"), warehouse_id("WH-1"), at_ms(0), at_ms(1))->size() ==
          1);
}

TEST_CASE("put_ticket refuses version 0 at once") {
    memory_store s;
    auto tx = begin(s);
    refused(tx->put_ticket(plain_ticket(7, 0)), errc::invalid_value, "ticket.version");
}

TEST_CASE("two puts of one ticket in a transaction must follow each other") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_ticket(plain_ticket(7, 1, ticket_state::submitted, at_ms(10))));
    refused(tx->put_ticket(plain_ticket(7, 3)), errc::conflict, "ticket.version");
    must(tx->put_ticket(plain_ticket(7, 2, ticket_state::under_review, at_ms(50))));
    must(tx->commit());
    CHECK(s.load_ticket(ticket_id(7))->value().version == 2);
    CHECK(s.tickets_in_state(ticket_state::under_review, ticket_id(0), 10).value() ==
          std::vector<ticket_id>{ticket_id(7)});
    CHECK(s.tickets_in_state(ticket_state::submitted, ticket_id(0), 10)->empty());
    CHECK(s.due_tickets(at_ms(10), 10)->empty());
    CHECK(s.due_tickets(at_ms(50), 10).value() == std::vector<ticket_id>{ticket_id(7)});
}

TEST_CASE("a ticket version conflict is reported before a stock refusal") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_ticket(plain_ticket(7)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_ticket(plain_ticket(7)));
    must(tx->change_stock(change("SKU-0", "WH-1", stock_operation::reserve, 1)));
    refused(tx->commit(), errc::conflict, "ticket.id");
    CHECK_FALSE(s.stock(sku_id("SKU-0"), warehouse_id("WH-1")).value().has_value());
}

TEST_CASE("a transaction does not see its own ticket or returned stock") {
    memory_store s;
    auto tx = begin(s);
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive, 4)));
    must(tx->commit());
    tx = begin(s);
    must(tx->put_ticket(plain_ticket(9)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::restock, 2)));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::to_damaged_bin, 3)));
    CHECK_FALSE(tx->find_ticket(ticket_id(9))->has_value());
    CHECK(tx->find_stock(sku_id("SKU-1"))->at(0).on_hand.units() == 4);
    CHECK(tx->find_stock(sku_id("SKU-1"))->at(0).damaged.units() == 0);
    must(tx->commit());
    CHECK(s.load_ticket(ticket_id(9)).value().has_value());
    const auto level = s.stock(sku_id("SKU-1"), warehouse_id("WH-1")).value();
    REQUIRE(level.has_value());
    CHECK(level->on_hand.units() == 6);
    CHECK(level->damaged.units() == 3);
    CHECK(level->available() == 6);
}

TEST_CASE("refused restock and damaged-bin changes name their field and leave the ledger alone") {
    memory_store s;
    auto tx = begin(s);
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::receive,
                                 std::numeric_limits<std::int64_t>::max())));
    must(tx->change_stock(change("SKU-1", "WH-1", stock_operation::to_damaged_bin,
                                 std::numeric_limits<std::int64_t>::max())));
    must(tx->commit());
    for (const stock_operation operation :
         {stock_operation::restock, stock_operation::to_damaged_bin}) {
        auto attempt = begin(s);
        must(attempt->change_stock(change("SKU-1", "WH-1", operation, 1, "lines[2].units")));
        refused(attempt->commit(), errc::overflow, "lines[2].units");
    }
    const auto ledger =
        s.stock_movements(sku_id("SKU-1"), warehouse_id("WH-1"), at_ms(-1), at_ms(1)).value();
    REQUIRE(ledger.size() == 1);
    CHECK(ledger.front().operation == stock_operation::receive);
}

TEST_CASE("put_case refuses version 0 at once") {
    memory_store s;
    auto tx = begin(s);
    refused(tx->put_case(plain_case(7, 0)), errc::invalid_value, "case.version");
}

TEST_CASE("two puts of one case in a transaction must follow each other") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_case(plain_case(7, 1, case_state::open, "cause:7", at_ms(10))));
    refused(tx->put_case(plain_case(7, 3)), errc::conflict, "case.version");
    must(tx->put_case(plain_case(7, 2, case_state::closed, "cause:7")));
    must(tx->commit());
    CHECK(s.load_case(case_id(7))->value().version == 2);
    CHECK(s.cases_in_state(case_state::closed, case_id(0), 10).value() ==
          std::vector<case_id>{case_id(7)});
    CHECK(s.due_cases(at_ms(10), 10)->empty());
    // The last put decides: the case ended closed, so its cause is free.
    tx = begin(s);
    CHECK_FALSE(tx->find_live_case("cause:7").value().has_value());
    must(tx->put_case(plain_case(8, 1, case_state::open, "cause:7")));
    must(tx->commit());
}

TEST_CASE("a transaction does not see its own case") {
    memory_store s;
    auto tx = begin(s);
    must(tx->put_case(plain_case(7, 1, case_state::open, "cause:7")));
    CHECK_FALSE(tx->find_case(case_id(7)).value().has_value());
    CHECK_FALSE(tx->find_live_case("cause:7").value().has_value());
    must(tx->commit());
    CHECK(s.load_case(case_id(7)).value().has_value());
}

TEST_CASE("archiving one order twice in a transaction is refused when asked") {
    memory_store s;
    put(s, plain_order(7, 1, order_state::closed));
    auto tx = begin(s);
    must(tx->archive_order(order_id(7), 1));
    refused(tx->archive_order(order_id(7), 1), errc::conflict, "version");
    must(tx->commit());
    CHECK(s.archived_orders(order_id(0), 10).value() == std::vector<order_id>{order_id(7)});
}

TEST_CASE("a transaction may close an order and archive it at the version it puts") {
    memory_store s;
    put(s, plain_order(7, 1, order_state::delivered, at_ms(50)));
    auto tx = begin(s);
    must(tx->put_order(plain_order(7, 2, order_state::closed)));
    must(tx->append_timeline(order_id(7),
                             orderly::testing::detail::entry(order_event::closed, "closed")));
    must(tx->archive_order(order_id(7), 2));
    must(tx->commit());
    CHECK(s.archived_orders(order_id(0), 10).value() == std::vector<order_id>{order_id(7)});
    CHECK(s.load_order(order_id(7)).value()->version == 2);
    CHECK(s.timeline(order_id(7)).value().size() == 1);
    CHECK(s.orders_in_state(order_state::closed, order_id(0), 10)->empty());
    CHECK(s.due_orders(at_ms(100), 10)->empty());
    // An entry appended later joins the archived timeline.
    tx = begin(s);
    must(tx->append_timeline(order_id(7),
                             orderly::testing::detail::entry(order_event::closed, "note")));
    must(tx->commit());
    CHECK(s.timeline(order_id(7)).value().size() == 2);
    CHECK(s.orders_in_state(order_state::pending_review, order_id(0), 10)->empty());
}
