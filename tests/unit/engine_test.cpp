// The engine through its public API: a whole order life, every refusal the
// lifecycle issue names, idempotency, timeouts, refunds and the outbox.

#include "engine_fixture.hpp"

#include <algorithm>
#include <set>

using namespace orderly;
using namespace orderly::test;

namespace {

std::vector<order_event> events_of(const std::vector<timeline_entry>& entries) {
    std::vector<order_event> events;
    for (const auto& e : entries) {
        events.push_back(e.event);
    }
    return events;
}

std::vector<notification_kind> kinds_of(const std::vector<notification>& notes, order_id id) {
    std::vector<notification_kind> kinds;
    for (const auto& n : notes) {
        if (n.order == id) {
            kinds.push_back(n.kind);
        }
    }
    return kinds;
}

payment_callback capture(order_id id, std::string_view amount, std::string reference = "txn-1") {
    return payment_callback{id,
                            std::move(reference),
                            payment_method::card,
                            payment_callback::outcome::captured,
                            cny(amount),
                            ""};
}

void check_refused(const result<command_outcome>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
}

}  // namespace

TEST_CASE("an order lives from placement to closed, with timeline, stock and notifications") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    auto placed = f.engine->place_order(f.as(alice), f.request(2));
    REQUIRE(placed.has_value());
    const order_id id = placed->order;
    CHECK(placed->state == order_state::awaiting_payment);  // automatic review passed
    CHECK_FALSE(placed->repeated);
    CHECK(f.available("tea") == 8);

    const order o = f.load(id);
    CHECK(o.total == cny("25.00"));
    CHECK(o.number.value() == id.value());
    CHECK(o.reservations.size() == 1);
    CHECK(o.reservations[0].state == reservation_state::held);
    REQUIRE(o.due_at.has_value());
    CHECK(*o.due_at == start_time() + std::chrono::minutes(30));

    auto paid = f.engine->record_payment(f.as(gateway), capture(id, "25.00"));
    REQUIRE(paid.has_value());
    CHECK(paid->state == order_state::paid);
    CHECK(paid->payment == payment_state::captured);
    CHECK(f.load(id).reservations[0].state == reservation_state::committed);

    REQUIRE(f.engine->allocate_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->pack_order(f.as(keeper), id).has_value());
    auto shipped = f.engine->ship_order(f.as(keeper), {id, carrier_id("sf"), "SF1234567"});
    REQUIRE(shipped.has_value());
    const auto level = f.store.stock(sku_id("tea"), warehouse_id("wh-hz")).value();
    REQUIRE(level.has_value());
    CHECK(level->on_hand.units() == 8);
    CHECK(level->reserved.units() == 0);
    REQUIRE(f.engine->deliver_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->confirm_receipt(f.as(alice), id).has_value());
    auto closed = f.engine->close_order(f.as(admin), id);
    REQUIRE(closed.has_value());
    CHECK(closed->state == order_state::closed);

    const auto entries = f.engine->timeline(alice, id).value();
    CHECK(events_of(entries) ==
          std::vector<order_event>{
              order_event::placed, order_event::review_approved, order_event::payment_captured,
              order_event::allocated, order_event::packed, order_event::shipped,
              order_event::delivered, order_event::receipt_confirmed, order_event::closed});
    CHECK(entries[5].actor == keeper);
    CHECK(entries[5].reason.find("SF1234567") != std::string::npos);
    for (std::size_t i = 1; i < entries.size(); ++i) {
        CHECK(entries[i].from == entries[i - 1].to);
    }

    CHECK(f.notifier.received().empty());  // nothing is sent before dispatch
    auto sent = f.engine->run_due_work();
    REQUIRE(sent.has_value());
    CHECK(kinds_of(f.notifier.received(), id) ==
          std::vector<notification_kind>{notification_kind::order_confirmed,
                                         notification_kind::payment_result,
                                         notification_kind::shipped, notification_kind::delivered,
                                         notification_kind::completed});
    const auto shipped_note = f.notifier.received()[2];
    CHECK(std::find(shipped_note.details.begin(), shipped_note.details.end(),
                    std::pair<std::string, std::string>{"tracking_number", "SF1234567"}) !=
          shipped_note.details.end());
}

TEST_CASE("refusal: insufficient stock names the line and writes nothing") {
    fixture f;
    f.stock_up("tea", "12.50", 3);
    f.stock_up("cup", "12.50", 50);
    auto r = f.request(2);
    r.lines.push_back(line_request{sku_id("tea"), units(2), cny("12.50")});  // 4 tea in all
    auto placed = f.engine->place_order(f.as(alice), r);
    check_refused(placed, errc::insufficient_stock, "lines[0].units");
    CHECK(f.available("tea") == 3);
    CHECK(f.store.orders_in_state(order_state::awaiting_payment, {}, 10).value().empty());
    CHECK(f.store.undelivered_count().value() == 0);
}

TEST_CASE("refusal: an illegal transition names the state and the event") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    auto shipped = f.engine->ship_order(f.as(keeper), {id, carrier_id("sf"), "SF1"});
    check_refused(shipped, errc::transition_not_allowed, "state");
    CHECK(shipped.error().message.find("awaiting_payment") != std::string::npos);
    CHECK(shipped.error().message.find("shipped") != std::string::npos);
    CHECK(f.load(id).version == 1);
}

TEST_CASE("a payment of the wrong amount is given back, and one in another currency is refused") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    // The gateway took 24.99: recorded and given back whole; the
    // order keeps waiting for the 25.00 due.
    auto wrong = f.engine->record_payment(f.as(gateway), capture(id, "24.99"));
    REQUIRE(wrong.has_value());
    CHECK(wrong->state == order_state::awaiting_payment);
    CHECK(wrong->payment == payment_state::refunded);
    auto usd = capture(id, "25.00", "txn-2");
    usd.amount = money::parse("25.00 USD").value();
    check_refused(f.engine->record_payment(f.as(gateway), usd), errc::currency_mismatch, "amount");
    const order o = f.load(id);
    CHECK(o.state == order_state::awaiting_payment);
    REQUIRE(o.payments.size() == 1);
    CHECK(o.payments[0].captured == cny("24.99"));
    CHECK(o.payments[0].refunded == cny("24.99"));
    REQUIRE(o.refunds.size() == 1);
    CHECK(o.refunds[0].source == refund_source::returned_payment);
    CHECK(o.version == 2);
}

TEST_CASE("refusal: a duplicate gateway callback returns the first result once") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    const command_context callback{gateway, "gw-event-77"};
    auto first = f.engine->record_payment(callback, capture(id, "25.00"));
    REQUIRE(first.has_value());
    auto again = f.engine->record_payment(callback, capture(id, "25.00"));
    REQUIRE(again.has_value());
    CHECK(again->repeated);
    CHECK(again->state == first->state);
    CHECK(again->payment == first->payment);
    // The same capture under a new event id is stale: it changes nothing.
    auto resent = f.engine->record_payment(f.as(gateway), capture(id, "25.00"));
    REQUIRE(resent.has_value());
    CHECK(resent->repeated);
    const order o = f.load(id);
    CHECK(o.payments.size() == 1);
    CHECK(o.payments[0].captured == cny("25.00"));
    CHECK(o.version == 2);
    // The same key with a different request is refused.
    auto other = f.engine->record_payment(callback, capture(id, "25.00", "txn-2"));
    check_refused(other, errc::idempotency_key_reused, "idempotency_key");
}

TEST_CASE("cancelling after shipment opens a return ticket instead") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    REQUIRE(f.engine->record_payment(f.as(gateway), capture(id, "25.00")).has_value());
    REQUIRE(f.engine->allocate_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->pack_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->ship_order(f.as(keeper), {id, carrier_id("sf"), "SF1"}).has_value());
    auto cancelled = f.engine->cancel_order(f.as(alice), id, "changed my mind");
    REQUIRE(cancelled.has_value());
    CHECK(cancelled->state == order_state::shipped);
    REQUIRE(cancelled->ticket.has_value());
    CHECK(cancelled->ticket_status == ticket_state::under_review);
    CHECK(f.load(id).state == order_state::shipped);
    CHECK(f.load(id).tickets == std::vector<ticket_id>{*cancelled->ticket});
    // Every unit is claimed now: a second cancel has nothing left to return.
    check_refused(f.engine->cancel_order(f.as(alice), id, "again"), errc::invalid_value, "lines");
}

TEST_CASE("refusal: unknown roles, forbidden roles and other customers' orders") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    const actor intruder{"x", static_cast<role>(42)};
    check_refused(f.engine->cancel_order(f.as(intruder), id, "because"), errc::unknown_role,
                  "actor.role");
    CHECK(parse_role("intern").has_error());
    CHECK(parse_role("intern").error().code == errc::unknown_role);
    check_refused(f.engine->cancel_order(f.as(keeper), id, "because"), errc::forbidden,
                  "actor.role");
    const actor bob{"bob", role::customer};
    check_refused(f.engine->cancel_order(f.as(bob), id, "because"), errc::forbidden, "actor.id");
    CHECK(f.engine->get_order(bob, id).has_error());
    CHECK(f.load(id).state == order_state::awaiting_payment);
    auto placed_for_other = f.engine->place_order(f.as(bob), f.request());
    check_refused(placed_for_other, errc::forbidden, "actor.id");
}

TEST_CASE("validation names the field and leaves nothing written") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    auto bad_phone = f.request();
    bad_phone.ship_to.phone = "12345";
    check_refused(f.engine->place_order(f.as(alice), bad_phone), errc::invalid_value,
                  "ship_to.phone");
    auto no_street = f.request();
    no_street.ship_to.street = "";
    check_refused(f.engine->place_order(f.as(alice), no_street), errc::missing_value,
                  "ship_to.street");
    auto zero = f.request();
    zero.lines[0].units = quantity{};
    check_refused(f.engine->place_order(f.as(alice), zero), errc::invalid_value, "lines[0].units");
    auto unknown = f.request(1, "coffee");
    check_refused(f.engine->place_order(f.as(alice), unknown), errc::not_found, "lines[0].sku");
    auto cheap = f.request();
    cheap.lines[0].unit_price = cny("9.99");
    check_refused(f.engine->place_order(f.as(alice), cheap), errc::invalid_value,
                  "lines[0].unit_price");
    auto mixed = f.request();
    mixed.shipping_fee = money::parse("5.00 USD").value();
    check_refused(f.engine->place_order(f.as(alice), mixed), errc::currency_mismatch,
                  "shipping_fee");
    auto too_much_discount = f.request();
    too_much_discount.discount = cny("30.00");
    check_refused(f.engine->place_order(f.as(alice), too_much_discount), errc::invalid_value,
                  "discount");
    check_refused(f.engine->place_order(command_context{alice, ""}, f.request()),
                  errc::missing_value, "idempotency_key");
    CHECK(f.available("tea") == 10);
    CHECK(f.store.undelivered_count().value() == 0);
}

TEST_CASE("placing twice under one key creates one order, another request under it is refused") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const command_context ctx{alice, "checkout-1"};
    auto first = f.engine->place_order(ctx, f.request());
    auto second = f.engine->place_order(ctx, f.request());
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK(second->order == first->order);
    CHECK(second->repeated);
    CHECK(f.available("tea") == 8);
    check_refused(f.engine->place_order(ctx, f.request(3)), errc::idempotency_key_reused,
                  "idempotency_key");
}

TEST_CASE("discounts are allocated over the lines and the total adds up") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    f.stock_up("cup", "3.00", 10);
    auto r = f.request(1);
    r.lines.push_back(line_request{sku_id("cup"), units(2), cny("3.00")});
    r.discount = cny("1.00");
    r.shipping_fee = cny("6.00");
    const order o = f.load(f.engine->place_order(f.as(alice), r).value().order);
    CHECK(o.subtotal == cny("18.50"));
    CHECK(o.total == cny("23.50"));
    CHECK((o.lines[0].discount + o.lines[1].discount).value() == cny("1.00"));
    CHECK(o.lines[0].discount == cny("0.68"));
}

TEST_CASE("a payment timeout cancels the order, releases stock and tells the customer") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    f.clock.advance(std::chrono::minutes(29));
    REQUIRE(f.engine->run_due_work().has_value());
    CHECK(f.load(id).state == order_state::awaiting_payment);
    f.clock.advance(std::chrono::minutes(2));
    auto report = f.engine->run_due_work();
    REQUIRE(report.has_value());
    CHECK(report->payment_timeouts == 1);
    const order o = f.load(id);
    CHECK(o.state == order_state::cancelled);
    CHECK(o.reservations[0].state == reservation_state::released);
    CHECK_FALSE(o.due_at.has_value());
    CHECK(f.available("tea") == 10);
    // The customer hears of it, and operations get a case.
    CHECK(kinds_of(f.notifier.received(), id) ==
          std::vector<notification_kind>{notification_kind::order_confirmed,
                                         notification_kind::payment_timeout,
                                         notification_kind::case_opened});
    // Running again does nothing more.
    CHECK(f.engine->run_due_work().value().payment_timeouts == 0);
    // A capture that arrives late is given back at once.
    auto late = f.engine->record_payment(f.as(gateway), capture(id, "25.00", "txn-late"));
    REQUIRE(late.has_value());
    CHECK(late->state == order_state::cancelled);
    CHECK(late->payment == payment_state::refunded);
    const order after = f.load(id);
    REQUIRE(after.payments.size() == 1);
    CHECK(after.payments[0].refunded == after.payments[0].captured);
}

TEST_CASE("repeated payment failures cancel the order") {
    settings options;
    options.max_payment_failures = 2;
    fixture f(options);
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    payment_callback failed{
        id,           "txn-a",        payment_method::card, payment_callback::outcome::failed,
        std::nullopt, "card declined"};
    auto once = f.engine->record_payment(f.as(gateway), failed);
    REQUIRE(once.has_value());
    CHECK(once->state == order_state::awaiting_payment);
    CHECK(once->payment == payment_state::failed);
    failed.gateway_reference = "txn-b";
    auto twice = f.engine->record_payment(f.as(gateway), failed);
    REQUIRE(twice.has_value());
    CHECK(twice->state == order_state::cancelled);
    CHECK(f.available("tea") == 10);
}

TEST_CASE("cash on delivery skips payment and is paid at delivery") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    auto r = f.request();
    r.method = payment_method::cash_on_delivery;
    auto placed = f.engine->place_order(f.as(alice), r);
    REQUIRE(placed.has_value());
    CHECK(placed->state == order_state::paid);
    const order_id id = placed->order;
    CHECK(f.load(id).reservations[0].state == reservation_state::committed);
    CHECK_FALSE(f.load(id).due_at.has_value());
    REQUIRE(f.engine->allocate_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->pack_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->ship_order(f.as(keeper), {id, carrier_id("sf"), "SF9"}).has_value());
    REQUIRE(f.engine->deliver_order(f.as(keeper), id).has_value());
    const order o = f.load(id);
    REQUIRE(o.payments.size() == 1);
    CHECK(o.payments[0].method == payment_method::cash_on_delivery);
    CHECK(o.payments[0].state == payment_state::captured);
    CHECK(o.payments[0].captured == o.total);
}

TEST_CASE("flagged orders wait in the review queue, reviewers approve or reject") {
    settings options;
    options.review.high_value_at_or_above.push_back(cny("100.00"));
    fixture f(options);
    f.stock_up("tea", "12.50", 20);
    f.stock_up("knife", "30.00", 5, "wh-hz", true);
    auto big = f.engine->place_order(f.as(alice), f.request(10));
    REQUIRE(big.has_value());
    CHECK(big->state == order_state::pending_review);
    auto restricted = f.request(1, "knife");
    restricted.lines[0].unit_price = cny("30.00");
    auto flagged = f.engine->place_order(f.as(alice), restricted);
    REQUIRE(flagged.has_value());
    CHECK(flagged->state == order_state::pending_review);
    CHECK(f.load(big->order).review_flags == std::vector<std::string>{"high_value"});
    CHECK(f.load(flagged->order).review_flags == std::vector<std::string>{"restricted_sku"});

    auto queue = f.engine->review_queue(reviewer, 10);
    REQUIRE(queue.has_value());
    REQUIRE(queue->size() == 2);
    CHECK(queue->front().id == big->order);
    CHECK(f.engine->review_queue(alice, 10).has_error());

    auto approved = f.engine->approve_order(f.as(reviewer), big->order, "known customer");
    REQUIRE(approved.has_value());
    CHECK(approved->state == order_state::awaiting_payment);
    check_refused(f.engine->reject_order(f.as(reviewer), flagged->order, ""), errc::missing_value,
                  "reason");
    auto rejected = f.engine->reject_order(f.as(reviewer), flagged->order, "licence missing");
    REQUIRE(rejected.has_value());
    CHECK(rejected->state == order_state::cancelled);
    CHECK(f.available("knife") == 5);
    REQUIRE(f.engine->dispatch_notifications().has_value());
    CHECK(kinds_of(f.notifier.received(), flagged->order) ==
          std::vector<notification_kind>{notification_kind::order_confirmed,
                                         notification_kind::review_result});
}

TEST_CASE("hold and release return the order to where it was") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    REQUIRE(f.engine->record_payment(f.as(gateway), capture(id, "25.00")).has_value());
    const actor agent{"cs-1", role::customer_service};
    auto held = f.engine->hold_order(f.as(agent), id, "address unclear");
    REQUIRE(held.has_value());
    CHECK(held->state == order_state::on_hold);
    CHECK(f.engine->allocate_order(f.as(keeper), id).has_error());
    auto released = f.engine->release_order(f.as(agent), id, "customer called back");
    REQUIRE(released.has_value());
    CHECK(released->state == order_state::paid);
}

TEST_CASE("cancelling a paid order releases stock and refunds everything captured") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    REQUIRE(f.engine->record_payment(f.as(gateway), capture(id, "25.00")).has_value());
    auto cancelled = f.engine->cancel_order(f.as(alice), id, "found it cheaper");
    REQUIRE(cancelled.has_value());
    CHECK(cancelled->state == order_state::cancelled);
    const order o = f.load(id);
    CHECK(o.payments[0].state == payment_state::refunded);
    CHECK(o.payments[0].refunded == cny("25.00"));
    CHECK(f.available("tea") == 10);
    REQUIRE(f.engine->dispatch_notifications().has_value());
    const auto notes = f.notifier.received();
    const auto refund = std::find_if(notes.begin(), notes.end(), [](const notification& n) {
        return n.kind == notification_kind::refund_issued;
    });
    REQUIRE(refund != notes.end());
    CHECK(refund->audience == audience::staff);
    CHECK(refund->recipient == "finance");
}

TEST_CASE("partial refunds never exceed what was captured") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    REQUIRE(f.engine->record_payment(f.as(gateway), capture(id, "25.00")).has_value());
    const actor finance{"fin-1", role::finance};
    auto part = f.engine->refund_payment(f.as(finance), {id, cny("10.00"), "damaged box"});
    REQUIRE(part.has_value());
    CHECK(part->payment == payment_state::partially_refunded);
    check_refused(f.engine->refund_payment(f.as(finance), {id, cny("15.01"), "too much"}),
                  errc::amount_mismatch, "amount");
    auto rest = f.engine->refund_payment(f.as(finance), {id, cny("15.00"), "all of it"});
    REQUIRE(rest.has_value());
    CHECK(rest->payment == payment_state::refunded);
}

TEST_CASE("delivered orders confirm themselves after the configured period") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    REQUIRE(f.engine->record_payment(f.as(gateway), capture(id, "25.00")).has_value());
    REQUIRE(f.engine->allocate_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->pack_order(f.as(keeper), id).has_value());
    REQUIRE(f.engine->ship_order(f.as(keeper), {id, carrier_id("sf"), "SF1"}).has_value());
    REQUIRE(f.engine->deliver_order(f.as(gateway), id).has_value());
    f.clock.advance(std::chrono::days(6));
    CHECK(f.engine->run_due_work().value().auto_confirmed == 0);
    f.clock.advance(std::chrono::days(1));
    CHECK(f.engine->run_due_work().value().auto_confirmed == 1);
    const auto entries = f.engine->timeline(admin, id).value();
    CHECK(entries.back().event == order_event::receipt_confirmed);
    CHECK(entries.back().actor.role == role::system);
    CHECK(f.load(id).state == order_state::completed);
}

TEST_CASE("the outbox retries a failing notifier with back-off under a stable id") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const order_id id = f.engine->place_order(f.as(alice), f.request()).value().order;
    f.notifier.failing(true);
    auto failed = f.engine->dispatch_notifications();
    REQUIRE(failed.has_value());
    CHECK(failed->delivery_failures == 1);
    CHECK(f.store.undelivered_count().value() == 1);
    f.notifier.failing(false);
    CHECK(f.engine->dispatch_notifications().value().delivered == 0);  // backing off
    f.clock.advance(std::chrono::seconds(5));
    CHECK(f.engine->dispatch_notifications().value().delivered == 1);
    const auto notes = f.notifier.received();
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].attempt == 2);
    const auto entries = f.store.outbox_of(id).value();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].delivered);
    CHECK(entries[0].notification.id == notes[0].id);
    CHECK(f.engine->dispatch_notifications().value().delivered == 0);
}

TEST_CASE("a batch import accepts good rows, reports bad ones, and re-runs without duplicates") {
    fixture f;
    f.stock_up("tea", "12.50", 10);
    const actor importer{"marketplace-sync", role::system};
    std::vector<import_row> rows;
    rows.push_back(import_row{"mp-1", f.request(1)});
    auto bad = f.request(1);
    bad.ship_to.city = "";
    rows.push_back(import_row{"mp-2", bad});
    rows.push_back(import_row{"mp-3", f.request(2)});
    for (auto& row : rows) {
        row.request.channel = order_channel::import;
    }
    const auto first = f.engine->import_orders(f.as(importer), rows);
    REQUIRE(first.size() == 3);
    CHECK(first[0].has_value());
    REQUIRE(first[1].has_error());
    CHECK(first[1].error().field == "rows[1].ship_to.city");
    CHECK(first[2].has_value());
    const auto again = f.engine->import_orders(f.as(importer), rows);
    REQUIRE(again[0].has_value());
    CHECK(again[0]->repeated);
    CHECK(again[0]->order == first[0]->order);
    CHECK(f.available("tea") == 7);
}

TEST_CASE("settings are validated") {
    memory_store store;
    recording_notifier notifier;
    manual_clock clock(start_time());
    default_access_policy policy;
    settings bad;
    bad.payment_timeout = duration::zero();
    auto made = engine::create(engine_ports{store, notifier, clock, policy}, bad);
    REQUIRE(made.has_error());
    CHECK(made.error().field == "settings.payment_timeout");
    settings node;
    node.node = 5000;
    CHECK(engine::create(engine_ports{store, notifier, clock, policy}, node).has_error());
    settings scan;
    scan.operations.scan_every = duration::zero();
    auto no_scan = engine::create(engine_ports{store, notifier, clock, policy}, scan);
    REQUIRE(no_scan.has_error());
    CHECK(no_scan.error().field == "settings.operations.scan_every");
    settings fees;
    fees.settlement.account_period_days = -1;
    auto bad_fees = engine::create(engine_ports{store, notifier, clock, policy}, fees);
    REQUIRE(bad_fees.has_error());
    CHECK(bad_fees.error().field == "settings.settlement.account_period_days");
}
