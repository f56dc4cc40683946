// After-sales tickets through the engine (issue 6): opening on delivered
// units, approval by rule or by an agent, returns with inspection into stock
// or the damaged bin, exact refunds, exchanges on a reserved replacement,
// repairs, deadlines with escalation, cancel after shipment, closing the
// order with a rating. Runs on memory_store and, with
// ORDERLY_TEST_STORE=sqlite, on SqliteStore.

#include "fulfil_fixture.hpp"

#include <algorithm>
#include <string>

namespace {

using namespace orderly;
using namespace orderly::test;

const actor agent{"cs-1", role::customer_service};
const actor bob{"bob", role::customer};

settings after_sales_options() {
    settings s;
    s.after_sales.agents = {"cs-1", "cs-2"};
    s.after_sales.auto_approve_below = {cny("100.00")};
    return s;
}

// The order every test starts from: tea 12.50 × 2 and cup 30.00 × 1, 5.00
// discount, 8.00 shipping: total 58.00. Discount by largest remainder over
// 25.00 and 30.00: tea 2.27, cup 2.73, so tea pays 22.73 (11.37 + 11.36 per
// unit, the earlier unit first) and cup 27.27. Shipping over 22.73 and
// 27.27: tea 3.64 (1.82 per unit), cup 4.36.
place_order_request two_lines() {
    place_order_request r;
    r.customer = customer_id("alice");
    r.ship_to = home();
    r.lines.push_back(line_request{sku_id("tea"), units(2), cny("12.50")});
    r.lines.push_back(line_request{sku_id("cup"), units(1), cny("30.00")});
    r.discount = cny("5.00");
    r.shipping_fee = cny("8.00");
    return r;
}

struct after_sales_fixture : fixture {
    explicit after_sales_fixture(settings options = after_sales_options())
        : fixture(std::move(options)) {
        stock_up("tea", "12.50", 10);
        stock_up("cup", "30.00", 10);
    }

    order_id placed_and_paid() {
        auto placed = engine->place_order(as(admin), two_lines());
        REQUIRE_MESSAGE(placed.has_value(), (placed ? "" : to_string(placed.error())));
        const order o = load(placed->order);
        REQUIRE(o.total == cny("58.00"));
        auto paid = engine->record_payment(
            as(gateway),
            payment_callback{o.id, "txn-" + std::to_string(o.id.value()), payment_method::card,
                             payment_callback::outcome::captured, o.total, ""});
        REQUIRE(paid.has_value());
        return o.id;
    }

    order_id shipped() {
        const order_id id = placed_and_paid();
        REQUIRE(engine->allocate_order(as(keeper), id).has_value());
        REQUIRE(engine->pack_order(as(keeper), id).has_value());
        REQUIRE(engine
                    ->ship_order(as(keeper),
                                 shipment_request{id, carrier_id("sf"),
                                                  "SF" + std::to_string(id.value() % 100000)})
                    .has_value());
        return id;
    }

    order_id delivered() {
        const order_id id = shipped();
        REQUIRE(engine->deliver_order(as(gateway), id).has_value());
        return id;
    }

    result<command_outcome> open(order_id id, ticket_type type, ticket_reason reason,
                                 std::vector<ticket_line_request> lines, const actor& who = alice) {
        open_ticket_request r;
        r.order = id;
        r.type = type;
        r.reason = reason;
        r.description = "as the test says";
        r.evidence = {"photo-1"};
        r.lines = std::move(lines);
        return engine->open_ticket(as(who), r);
    }

    ticket_id opened(order_id id, ticket_type type, ticket_reason reason,
                     std::vector<ticket_line_request> lines) {
        auto r = open(id, type, reason, std::move(lines));
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : to_string(r.error())));
        REQUIRE(r->ticket.has_value());
        return *r->ticket;
    }

    ticket get(ticket_id id) { return engine->get_ticket(admin, id).value(); }

    // Approve (unless a rule did), send back, receive and inspect a ticket
    // with a return.
    ticket returned(ticket_id id, std::int64_t sellable, std::int64_t damaged) {
        if (get(id).state == ticket_state::under_review) {
            auto decided = engine->decide_ticket(as(agent), ticket_decision{id, true, "ok"});
            REQUIRE_MESSAGE(decided.has_value(), (decided ? "" : to_string(decided.error())));
        }
        REQUIRE(engine
                    ->record_return_shipment(
                        as(alice), return_shipment_request{id, carrier_id("yto"), "YT7000001"})
                    .has_value());
        REQUIRE(engine->receive_return(as(keeper), id).has_value());
        const ticket t = get(id);
        REQUIRE(t.lines.size() == 1);
        auto inspected = engine->inspect_return(
            as(keeper), inspection_request{id,
                                           {inspection_line{t.lines.front().line, units(sellable),
                                                            units(damaged)}},
                                           "checked"});
        REQUIRE_MESSAGE(inspected.has_value(), (inspected ? "" : to_string(inspected.error())));
        return get(id);
    }

    money refunded(order_id id) {
        money sum = cny("0");
        for (const auto& p : load(id).payments) {
            sum = sum.plus(p.refunded).value();
        }
        return sum;
    }

    std::size_t notes_of(notification_kind kind) {
        REQUIRE(engine->dispatch_notifications(10'000).has_value());
        std::size_t n = 0;
        for (const auto& note : notifier.received()) {
            n += note.kind == kind ? 1U : 0U;
        }
        return n;
    }

    stock_level level(const std::string& code) {
        return store.stock(sku_id(code), warehouse_id("wh-hz")).value().value();
    }
};

template <class T>
void refused(const result<T>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
}

std::vector<std::pair<ticket_state, ticket_event>> steps(const ticket& t) {
    std::vector<std::pair<ticket_state, ticket_event>> out;
    for (const auto& e : t.timeline) {
        out.emplace_back(e.to, e.event);
    }
    return out;
}

}  // namespace

TEST_CASE("partial returns refund the units' paid price to the cent, and stock takes them back") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const std::int64_t tea_before = f.level("tea").on_hand.units();

    // 1 tea, the customer's change of mind: the first unit's 11.37, no shipping.
    const ticket_id first = f.opened(id, ticket_type::return_and_refund,
                                     ticket_reason::changed_mind, {{0, units(1), {}}});
    CHECK(f.get(first).state == ticket_state::under_review);
    CHECK(f.get(first).owner.empty() == false);
    ticket t = f.returned(first, 1, 0);
    CHECK(t.state == ticket_state::closed);
    REQUIRE(t.refund.has_value());
    CHECK(t.refund->goods == cny("11.37"));
    CHECK(t.refund->shipping == cny("0.00"));
    CHECK(t.refund->total == cny("11.37"));
    CHECK(f.level("tea").on_hand.units() == tea_before + 1);
    CHECK(steps(t) == std::vector<std::pair<ticket_state, ticket_event>>{
                          {ticket_state::submitted, ticket_event::submitted},
                          {ticket_state::under_review, ticket_event::review_requested},
                          {ticket_state::awaiting_return, ticket_event::approved},
                          {ticket_state::goods_received, ticket_event::goods_received},
                          {ticket_state::inspected, ticket_event::inspected},
                          {ticket_state::refunded, ticket_event::refund_issued},
                          {ticket_state::closed, ticket_event::closed}});
    REQUIRE(t.returned.has_value());
    CHECK(t.returned->tracking_number == "YT7000001");

    // The other tea arrived damaged (the seller's fault, reported within 48
    // hours under the limit: approved by rule): 11.36 and its 1.82 of
    // shipping; the unit goes to the damaged bin, not back on hand.
    const ticket_id second =
        f.opened(id, ticket_type::return_and_refund, ticket_reason::damaged, {{0, units(1), {}}});
    CHECK(f.get(second).state == ticket_state::awaiting_return);
    t = f.returned(second, 0, 1);
    CHECK(t.refund->goods == cny("11.36"));
    CHECK(t.refund->shipping == cny("1.82"));
    CHECK(f.level("tea").on_hand.units() == tea_before + 1);
    CHECK(f.level("tea").damaged.units() == 1);

    // Refund only for the cup (size: the buyer's choice) makes the whole
    // order refunded: its 27.27 plus every cent of shipping not yet back.
    const ticket_id third =
        f.opened(id, ticket_type::refund_only, ticket_reason::size, {{1, units(1), {}}});
    CHECK(f.get(third).state == ticket_state::under_review);
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{third, true, "fine"}).has_value());
    t = f.get(third);
    CHECK(t.state == ticket_state::closed);
    CHECK(t.refund->goods == cny("27.27"));
    CHECK(t.refund->shipping == cny("6.18"));
    CHECK(f.refunded(id) == cny("58.00"));
    const order o = f.load(id);
    CHECK(o.payments.front().state == payment_state::refunded);
    // Every unit came back before receipt was confirmed: the order closed
    // without completing, and takes no more tickets.
    CHECK(o.state == order_state::closed);
    CHECK(f.notes_of(notification_kind::order_closed) == 1);
    CHECK(f.notes_of(notification_kind::completed) == 0);
    refused(f.open(id, ticket_type::refund_only, ticket_reason::quality, {}),
            errc::transition_not_allowed, "order_id");
    CHECK(f.notes_of(notification_kind::ticket_submitted) == 6);  // customer and staff each
    CHECK(f.notes_of(notification_kind::ticket_refunded) == 3);
    CHECK(f.notes_of(notification_kind::return_instructions) == 2);
    CHECK(f.notes_of(notification_kind::ticket_closed) == 3);
    CHECK(f.notes_of(notification_kind::return_received) == 4);
}

TEST_CASE(
    "the order closes when it is completed and its last ticket ends, then asks for a rating") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const ticket_id t = f.opened(id, ticket_type::return_and_refund, ticket_reason::changed_mind,
                                 {{1, units(1), {}}});
    // Receipt confirmed while the ticket is open: the order waits.
    REQUIRE(f.engine->confirm_receipt(f.as(alice), id).has_value());
    CHECK(f.load(id).state == order_state::completed);
    refused(f.engine->close_order(f.as(admin), id), errc::transition_not_allowed, "tickets");
    f.returned(t, 1, 0);
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.notes_of(notification_kind::rating_requested) == 1);

    rating_request rating{id, 5, "Quick refund"};
    auto rated = f.engine->rate_order(f.as(alice), rating);
    REQUIRE(rated.has_value());
    refused(f.engine->rate_order(f.as(alice), rating), errc::invalid_value, "rating");  // once
    const order o = f.load(id);
    REQUIRE(o.rating.has_value());
    CHECK(o.rating->score == 5);
    CHECK(o.rating->text == "Quick refund");
    refused(f.engine->rate_order(f.as(alice), rating_request{id, 0, ""}), errc::invalid_value,
            "score");
    // A closed order takes no new ticket.
    refused(f.open(id, ticket_type::refund_only, ticket_reason::quality, {}),
            errc::transition_not_allowed, "order_id");
}

TEST_CASE(
    "a ticket claims at most what was delivered less other tickets, and refusals write nothing") {
    after_sales_fixture f;
    const order_id paid = f.placed_and_paid();
    refused(f.open(paid, ticket_type::refund_only, ticket_reason::quality, {}),
            errc::transition_not_allowed, "order_id");
    const order_id id = f.delivered();
    const order before = f.load(id);
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality, {{5, units(1), {}}}),
            errc::invalid_value, "lines[0].line");
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality, {{0, units(3), {}}}),
            errc::invalid_value, "lines[0].units");
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality,
                   {{0, units(1), {}}, {0, units(1), {}}}),
            errc::invalid_value, "lines[1].line");
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality,
                   {{0, units(1), sku_id("cup")}}),
            errc::invalid_value, "lines[0].replacement_sku");
    refused(f.open(id, ticket_type::exchange, ticket_reason::size, {{0, units(1), sku_id("cup")}}),
            errc::invalid_value, "lines[0].replacement_sku");  // another price
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality, {}, bob),
            errc::forbidden, "actor.id");
    {
        open_ticket_request r;
        r.order = id;
        r.description = std::string(2001, 'x');
        refused(f.engine->open_ticket(f.as(alice), r), errc::invalid_value, "description");
        r.description.clear();
        r.evidence = {""};
        refused(f.engine->open_ticket(f.as(alice), r), errc::missing_value, "evidence[0]");
    }
    CHECK(f.load(id) == before);

    // 1 of 2 teas under a ticket leaves 1 to claim; a rejected ticket frees its units.
    const ticket_id first =
        f.opened(id, ticket_type::return_and_refund, ticket_reason::quality, {{0, units(1), {}}});
    refused(f.open(id, ticket_type::return_and_refund, ticket_reason::quality, {{0, units(2), {}}}),
            errc::invalid_value, "lines[0].units");
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{first, false, "no defect"})
                .has_value());
    CHECK(f.get(first).state == ticket_state::rejected);
    const ticket_id whole =
        f.opened(id, ticket_type::return_and_refund, ticket_reason::quality, {});
    const ticket w = f.get(whole);
    REQUIRE(w.lines.size() == 2);
    CHECK(w.lines[0].units.units() == 2);
    CHECK(w.lines[1].units.units() == 1);
    CHECK(f.load(id).tickets == std::vector<ticket_id>{first, whole});
}

TEST_CASE("review escalates when its deadline passes, and the agent still decides") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const ticket_id t =
        f.opened(id, ticket_type::return_and_refund, ticket_reason::quality, {{1, units(1), {}}});
    CHECK(f.get(t).due_at == f.clock.now() + std::chrono::hours(24));
    f.clock.advance(std::chrono::hours(23));
    CHECK(f.engine->run_due_work().value().tickets_escalated == 0);
    f.clock.advance(std::chrono::hours(2));
    CHECK(f.engine->run_due_work().value().tickets_escalated == 1);
    CHECK(f.engine->run_due_work().value().tickets_escalated == 0);  // once per deadline
    ticket late = f.get(t);
    CHECK(late.state == ticket_state::escalated);
    CHECK(late.escalated_from == ticket_state::under_review);
    CHECK(late.escalations == 1);
    CHECK(f.notes_of(notification_kind::ticket_escalated) == 1);
    // Still late a day later: escalated again.
    f.clock.advance(std::chrono::hours(25));
    CHECK(f.engine->run_due_work().value().tickets_escalated == 1);
    CHECK(f.get(t).escalations == 2);
    // An escalated review takes no inspection, but the agent's decision.
    refused(f.engine->receive_return(f.as(keeper), t), errc::transition_not_allowed, "state");
    REQUIRE(
        f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, "late, sorry"}).has_value());
    CHECK(f.get(t).state == ticket_state::awaiting_return);
}

TEST_CASE("damage reported promptly below the limit is approved by rule and refunded at once") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    f.clock.advance(std::chrono::hours(47));
    const ticket_id t =
        f.opened(id, ticket_type::refund_only, ticket_reason::damaged, {{1, units(1), {}}});
    const ticket done = f.get(t);
    CHECK(done.state == ticket_state::closed);
    CHECK(done.auto_approved);
    CHECK(done.approval_rule == "damage_reported_promptly");
    CHECK(done.refund->total == cny("31.63"));  // 27.27 and the cup's 4.36 of shipping
    CHECK(done.timeline[1].actor == system_actor());

    // After the window, or above the limit, an agent decides.
    after_sales_fixture g;
    const order_id late = g.delivered();
    g.clock.advance(std::chrono::hours(49));
    CHECK(
        g.get(g.opened(late, ticket_type::refund_only, ticket_reason::damaged, {{1, units(1), {}}}))
            .state == ticket_state::under_review);
    settings strict = after_sales_options();
    strict.after_sales.auto_approve_below = {cny("20.00")};
    after_sales_fixture h(strict);
    const order_id dear = h.delivered();
    CHECK(
        h.get(h.opened(dear, ticket_type::refund_only, ticket_reason::damaged, {{1, units(1), {}}}))
            .state == ticket_state::under_review);
}

TEST_CASE("a withdrawn ticket ends, and a return that never comes back expires") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const ticket_id t = f.opened(id, ticket_type::return_and_refund, ticket_reason::changed_mind,
                                 {{0, units(1), {}}});
    refused(f.engine->withdraw_ticket(f.as(bob), t, "not mine"), errc::forbidden, "actor.id");
    REQUIRE(f.engine->withdraw_ticket(f.as(alice), t, "kept it").has_value());
    CHECK(f.get(t).state == ticket_state::withdrawn);
    CHECK_FALSE(f.get(t).due_at.has_value());

    const ticket_id u = f.opened(id, ticket_type::return_and_refund, ticket_reason::changed_mind,
                                 {{0, units(2), {}}});
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{u, true, ""}).has_value());
    CHECK(f.get(u).due_at == f.clock.now() + std::chrono::days(7));
    f.clock.advance(std::chrono::days(8));
    auto report = f.engine->run_due_work();
    REQUIRE(report.has_value());
    CHECK(report->returns_expired == 1);
    const ticket expired = f.get(u);
    CHECK(expired.state == ticket_state::closed);
    CHECK(expired.timeline.back().event == ticket_event::return_expired);
    CHECK_FALSE(expired.refund.has_value());
    CHECK(f.refunded(id) == cny("0.00"));
}

TEST_CASE("the return parcel keeps its carrier events in event-time order") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const ticket_id t =
        f.opened(id, ticket_type::return_and_refund, ticket_reason::quality, {{0, units(1), {}}});
    carrier_event e;
    e.id = "r-1";
    e.kind = tracking_event::picked_up;
    e.occurred_at = f.clock.now();
    refused(f.engine->record_return_event(f.as(gateway), return_event_request{t, e}),
            errc::transition_not_allowed, "ticket_id");
    refused(f.engine->record_return_shipment(f.as(alice),
                                             return_shipment_request{t, carrier_id("yto"), "YT1"}),
            errc::transition_not_allowed, "state");  // not approved yet
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, ""}).has_value());
    refused(f.engine->record_return_shipment(f.as(alice),
                                             return_shipment_request{t, carrier_id("yto"), ""}),
            errc::missing_value, "tracking_number");
    REQUIRE(f.engine
                ->record_return_shipment(f.as(alice),
                                         return_shipment_request{t, carrier_id("yto"), "YT1"})
                .has_value());
    carrier_event later = e;
    later.id = "r-2";
    later.kind = tracking_event::delivered;
    later.occurred_at = f.clock.now() + std::chrono::hours(30);
    REQUIRE(
        f.engine->record_return_event(f.as(gateway), return_event_request{t, later}).has_value());
    REQUIRE(f.engine->record_return_event(f.as(gateway), return_event_request{t, e}).has_value());
    REQUIRE(f.engine->record_return_event(f.as(gateway), return_event_request{t, e}).has_value());
    const ticket got = f.get(t);
    REQUIRE(got.returned.has_value());
    REQUIRE(got.returned->tracking.entries().size() == 2);
    CHECK(got.returned->tracking.entries()[0].event.id == "r-1");
    CHECK(got.returned->tracking.state() == tracking_state::delivered);
}

TEST_CASE("cancel before shipment refunds in full, after shipment it opens a return ticket") {
    after_sales_fixture f;
    const order_id early = f.placed_and_paid();
    auto cancelled = f.engine->cancel_order(f.as(alice), early, "changed my mind");
    REQUIRE(cancelled.has_value());
    CHECK(cancelled->state == order_state::cancelled);
    CHECK_FALSE(cancelled->ticket.has_value());
    CHECK(f.refunded(early) == cny("58.00"));
    CHECK(f.available("tea") == 10);

    const order_id id = f.shipped();  // on the road, not yet delivered
    auto late = f.engine->cancel_order(f.as(alice), id, "changed my mind");
    REQUIRE_MESSAGE(late.has_value(), (late ? "" : to_string(late.error())));
    CHECK(late->state == order_state::shipped);
    REQUIRE(late->ticket.has_value());
    const ticket t = f.get(*late->ticket);
    CHECK(t.type == ticket_type::return_and_refund);
    CHECK(t.reason == ticket_reason::changed_mind);
    CHECK(t.description == "changed my mind");
    REQUIRE(t.lines.size() == 2);
    CHECK(t.lines[0].units.units() == 2);
    CHECK(t.state == ticket_state::under_review);
    // The same key again: the same ticket.
    command_context again = f.as(alice);
    auto first = f.engine->cancel_order(again, f.delivered(), "no longer needed");
    auto repeat = f.engine->cancel_order(again, first->order, "no longer needed");
    REQUIRE(repeat.has_value());
    CHECK(repeat->repeated);
    CHECK(repeat->ticket == first->ticket);
    CHECK(f.load(first->order).tickets.size() == 1);
}

TEST_CASE("an exchange ships a reserved replacement, and without stock it is refunded instead") {
    fulfil_fixture f(after_sales_options());
    f.stock("tea", 10, 0);
    sku large = catalogue_entry("tea-l", "12.50");
    REQUIRE(f.engine->put_sku(f.as(admin), large).has_value());
    REQUIRE(f.engine
                ->receive_stock(f.as(keeper),
                                stock_receipt{sku_id("tea-l"), warehouse_id("wh-bj"), units(1)})
                .has_value());
    const order_id id = f.paid_order({{"tea", 2}});
    const auto parcels = f.plan(id);
    REQUIRE(parcels.size() == 1);
    f.pack(parcels.front());
    f.ship(parcels.front());
    REQUIRE(f.event(parcels.front().id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(parcels.front().id, tracking_event::delivered, 60).has_value());
    REQUIRE(f.load(id).state == order_state::delivered);

    auto exchange = [&](std::int64_t n) {
        open_ticket_request r;
        r.order = id;
        r.type = ticket_type::exchange;
        r.reason = ticket_reason::size;
        r.lines = {{0, units(n), sku_id("tea-l")}};
        auto opened = f.engine->open_ticket(f.as(alice), r);
        REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : to_string(opened.error())));
        const ticket_id t = *opened->ticket;
        REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, ""}).has_value());
        REQUIRE(f.engine
                    ->record_return_shipment(f.as(alice),
                                             return_shipment_request{t, carrier_id("sf"), "SF9"})
                    .has_value());
        REQUIRE(f.engine->receive_return(f.as(keeper), t).has_value());
        REQUIRE(
            f.engine
                ->inspect_return(f.as(keeper), inspection_request{t, {{0, units(n), units(0)}}, ""})
                .has_value());
        return t;
    };
    const ticket_id t = exchange(1);
    CHECK(f.engine->get_ticket(admin, t).value().return_to == warehouse_id("wh-hz"));
    CHECK(f.on_hand("tea", "wh-hz") == 9);  // 10 − 2 shipped + 1 back
    auto replaced = f.engine->ship_replacement(f.as(agent), t);
    REQUIRE_MESSAGE(replaced.has_value(), (replaced ? "" : to_string(replaced.error())));
    CHECK(replaced->ticket_status == ticket_state::replacement_shipped);
    const ticket got = f.engine->get_ticket(admin, t).value();
    REQUIRE(got.replacement.has_value());
    CHECK(f.reserved("tea-l", "wh-bj") == 1);  // the only warehouse that has it
    shipment s = f.engine->get_shipment(admin, *got.replacement).value();
    CHECK(s.ticket == t);
    CHECK(s.warehouse == warehouse_id("wh-bj"));
    REQUIRE(s.lines.size() == 1);
    CHECK(s.lines.front().sku == sku_id("tea-l"));
    // It goes through the warehouse like any parcel; the order stays delivered.
    f.pack(s);
    s = f.ship(s);
    REQUIRE(f.event(s.id, tracking_event::picked_up, 2900).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 3000).has_value());
    CHECK(f.load(id).state == order_state::delivered);
    CHECK(f.on_hand("tea-l", "wh-bj") == 0);
    REQUIRE(f.engine->close_ticket(f.as(alice), t, "fits").has_value());
    CHECK(f.engine->get_ticket(admin, t).value().state == ticket_state::closed);

    // No large tea left: the replacement is refused and nothing changes; a
    // refund is the way out.
    const ticket_id u = exchange(1);
    const auto before = f.engine->get_ticket(admin, u).value();
    check_refused(f.engine->ship_replacement(f.as(agent), u), errc::insufficient_stock, "lines");
    CHECK(f.engine->get_ticket(admin, u).value() == before);
    auto refunded = f.engine->refund_ticket(f.as(agent), u, "out of stock");
    REQUIRE(refunded.has_value());
    const ticket r = f.engine->get_ticket(admin, u).value();
    CHECK(r.state == ticket_state::closed);
    CHECK(r.refund->goods == cny("12.50"));
}

TEST_CASE("a repair goes out and comes back, and closes on its own after the auto-close time") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    const ticket_id t =
        f.opened(id, ticket_type::repair, ticket_reason::quality, {{1, units(1), {}}});
    f.returned(t, 1, 0);
    CHECK(f.get(t).state == ticket_state::inspected);
    refused(f.engine->ship_replacement(f.as(agent), t), errc::invalid_value, "fulfilment");
    REQUIRE(f.engine->send_to_repair(f.as(agent), t, "to the workshop").has_value());
    CHECK(f.get(t).state == ticket_state::at_repair);
    REQUIRE(f.engine->ship_repaired(f.as(agent), repair_return_request{t, carrier_id("sf"), "SF77"})
                .has_value());
    CHECK(f.get(t).state == ticket_state::repaired_shipped);
    CHECK(f.get(t).repair_tracking_number == "SF77");
    CHECK(f.notes_of(notification_kind::repair_shipped) == 1);
    f.clock.advance(std::chrono::days(11));
    auto report = f.engine->run_due_work();
    REQUIRE(report.has_value());
    CHECK(report->tickets_closed == 1);
    CHECK(f.get(t).state == ticket_state::closed);
    CHECK_FALSE(f.get(t).refund.has_value());
}

TEST_CASE("refund only for a parcel the carrier lost is approved by rule") {
    fulfil_fixture f(after_sales_options());
    f.stock("tea", 10, 0);
    const order_id id = f.paid_order({{"tea", 2}});
    const auto parcels = f.plan(id);
    f.pack(parcels.front());
    f.ship(parcels.front());
    REQUIRE(f.event(parcels.front().id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(parcels.front().id, tracking_event::declared_lost, 60).has_value());
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::return_and_refund;
    r.reason = ticket_reason::not_received;
    check_refused(f.engine->open_ticket(f.as(alice), r), errc::invalid_value, "lines");
    r.type = ticket_type::refund_only;
    auto opened = f.engine->open_ticket(f.as(alice), r);
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : to_string(opened.error())));
    const ticket t = f.engine->get_ticket(admin, *opened->ticket).value();
    CHECK(t.state == ticket_state::closed);
    CHECK(t.approval_rule == "not_delivered");
    CHECK(t.refund->total == f.load(id).total);  // the whole order, shipping included
}

TEST_CASE("ticket commands are idempotent under their key and customers see only their own") {
    after_sales_fixture f;
    const order_id id = f.delivered();
    command_context ctx = f.as(alice);
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::return_and_refund;
    r.reason = ticket_reason::quality;
    r.lines = {{0, units(1), {}}};
    auto first = f.engine->open_ticket(ctx, r);
    REQUIRE(first.has_value());
    auto again = f.engine->open_ticket(ctx, r);
    REQUIRE(again.has_value());
    CHECK(again->repeated);
    CHECK(again->ticket == first->ticket);
    r.lines = {{0, units(2), {}}};
    refused(f.engine->open_ticket(ctx, r), errc::idempotency_key_reused, "idempotency_key");
    CHECK(f.load(id).tickets.size() == 1);

    command_context decide = f.as(agent);
    const ticket_decision yes{*first->ticket, true, ""};
    REQUIRE(f.engine->decide_ticket(decide, yes).has_value());
    const ticket after = f.get(*first->ticket);
    CHECK(f.engine->decide_ticket(decide, yes).value().repeated);
    CHECK(f.get(*first->ticket) == after);

    refused(f.engine->get_ticket(bob, *first->ticket), errc::forbidden, "actor.id");
    CHECK(f.engine->get_ticket(alice, *first->ticket).has_value());
    CHECK(f.engine->tickets_of(alice, id).value().size() == 1);
    refused(f.engine->decide_ticket(f.as(alice), yes), errc::forbidden, "actor.role");
    refused(f.engine->get_ticket(admin, ticket_id(424242)), errc::not_found, "ticket_id");
    REQUIRE(f.engine->assign_ticket(f.as(agent), *first->ticket, "cs-9").has_value());
    CHECK(f.get(*first->ticket).owner == "cs-9");
}

TEST_CASE("after-sales settings are checked when the engine is created") {
    after_sales_fixture f;
    settings bad = after_sales_options();
    bad.after_sales.response_time = duration::zero();
    auto made = engine::create(engine_ports{f.store, f.notifier, f.clock, f.policy}, bad);
    refused(made, errc::invalid_value, "settings.after_sales.response_time");
    bad = after_sales_options();
    bad.after_sales.auto_approve_below = {cny("0")};
    refused(engine::create(engine_ports{f.store, f.notifier, f.clock, f.policy}, bad),
            errc::invalid_value, "settings.after_sales.auto_approve_below[0]");
    bad = after_sales_options();
    bad.after_sales.agents = {""};
    refused(engine::create(engine_ports{f.store, f.notifier, f.clock, f.policy}, bad),
            errc::invalid_value, "settings.after_sales.agents[0]");
}
