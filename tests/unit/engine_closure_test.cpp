// Closure (issue 15): every path reaches an end and every cent is accounted
// for. One regression test per dead end the issue names, through the public
// API: lost and returned parcels, late and wrong-amount captures, returns on
// their way, refunds not tied to lines, unrepairable goods, refusals at
// inspection, double refunds of lost units, fully refunded orders, cases
// that close themselves, completed orders that close, called-back
// transfers. Runs on memory_store and, with ORDERLY_TEST_STORE=sqlite, on
// SqliteStore.

#include "fulfil_fixture.hpp"

#include <algorithm>
#include <string>

namespace {

using namespace orderly;
using namespace orderly::test;

const actor agent{"cs-1", role::customer_service};
const actor finance{"fin-1", role::finance};
const actor ops{"ops-1", role::customer_service};

settings closure_options() {
    settings s;
    s.after_sales.agents = {"cs-1"};
    s.operations.scan_every = std::chrono::minutes(1);
    s.payment_timeout = std::chrono::days(30);  // cases here outlive the default half hour
    return s;
}

struct closure_fixture : fulfil_fixture {
    closure_fixture() : fulfil_fixture(closure_options()) {
        stock("tea", 10, 0);
        stock("cup", 10, 0);
    }

    // Tea 12.50 x 2 with 8.00 shipping: 33.00, placed and left awaiting payment.
    order_id placed(std::int64_t tea = 2) {
        place_order_request r;
        r.customer = customer_id("alice");
        r.ship_to = home();
        r.lines.push_back(line_request{sku_id("tea"), units(tea), cny("12.50")});
        r.shipping_fee = cny("8.00");
        auto done = engine->place_order(as(admin), r);
        REQUIRE_MESSAGE(done.has_value(), (done ? "" : to_string(done.error())));
        return done->order;
    }

    result<command_outcome> pay(
        order_id id, std::string reference, money amount,
        payment_callback::outcome what = payment_callback::outcome::captured) {
        return engine->record_payment(
            as(gateway),
            payment_callback{id, std::move(reference), payment_method::card, what, amount,
                             what == payment_callback::outcome::failed ? "card declined" : ""});
    }

    order_id paid(std::int64_t tea = 2) {
        const order_id id = placed(tea);
        auto done = pay(id, "txn-" + std::to_string(id.value()), load(id).total);
        REQUIRE(done.has_value());
        REQUIRE(done->state == order_state::paid);
        return id;
    }

    // Paid, planned into one parcel, packed and handed to the carrier.
    std::pair<order_id, shipment> on_the_road(std::int64_t tea = 2) {
        const order_id id = paid(tea);
        auto parcels = plan(id);
        REQUIRE(parcels.size() == 1);
        pack(parcels.front());
        const shipment s = ship(parcels.front());
        REQUIRE(load(id).state == order_state::shipped);
        return {id, s};
    }

    money refunded(order_id id) {
        money sum = cny("0");
        for (const auto& p : load(id).payments) {
            sum = sum.plus(p.refunded).value();
        }
        return sum;
    }

    money captured(order_id id) {
        money sum = cny("0");
        for (const auto& p : load(id).payments) {
            sum = sum.plus(p.captured).value();
        }
        return sum;
    }

    // The ledger's sum, compensations aside: must equal what the payments gave back.
    money ledger(order_id id) {
        money sum = cny("0");
        for (const auto& r : load(id).refunds) {
            if (r.source != refund_source::compensation) {
                sum = sum.plus(r.amount).value();
            }
        }
        return sum;
    }

    std::size_t customer_notes(notification_kind kind) {
        return notes_of(kind, audience::customer);
    }

    void later(duration by) { clock.advance(by); }

    due_work_report due() {
        auto r = engine->run_due_work(10'000);
        REQUIRE(r.has_value());
        CHECK(r->failed == 0);
        return *r;
    }

    shipment parcel(shipment_id id) { return engine->get_shipment(admin, id).value(); }
};

std::size_t open_exception(const shipment& s, logistics_exception_kind kind) {
    for (std::size_t i = 0; i < s.exceptions.size(); ++i) {
        if (s.exceptions[i].kind == kind && s.exceptions[i].open()) {
            return i;
        }
    }
    FAIL("no open exception of that kind");
    return 0;
}

}  // namespace

TEST_CASE("an order whose only parcel is lost and refunded closes, with its shipping refunded") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    REQUIRE(f.event(s.id, tracking_event::declared_lost, 20).has_value());
    const shipment lost = f.parcel(s.id);
    REQUIRE(lost.state == shipment_state::lost);
    auto done = f.engine->resolve_logistics_exception(
        f.as(agent),
        logistics_resolution{s.id, open_exception(lost, logistics_exception_kind::lost),
                             logistics_remedy::refund, std::nullopt, "lost by the carrier"});
    REQUIRE_MESSAGE(done.has_value(), (done ? "" : to_string(done.error())));
    CHECK(f.parcel(s.id).state == shipment_state::resolved);
    const order o = f.load(id);
    CHECK(o.state == order_state::closed);
    CHECK(f.refunded(id) == cny("33.00"));  // goods 25.00 and the 8.00 shipping
    REQUIRE(o.refunds.size() == 1);
    CHECK(o.refunds[0].source == refund_source::parcel);
    CHECK(o.refunds[0].reference == s.id.value());
    CHECK(o.refunds[0].amount == cny("33.00"));
    CHECK(f.customer_notes(notification_kind::order_closed) == 1);
    CHECK(f.customer_notes(notification_kind::completed) == 0);
}

TEST_CASE(
    "a parcel returned to sender puts its goods back on hand, and a refund closes the order") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    const std::int64_t before = f.on_hand("tea", "wh-hz");
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    REQUIRE(f.event(s.id, tracking_event::arrived_at_hub, 20).has_value());
    REQUIRE(f.event(s.id, tracking_event::returned_to_sender, 30).has_value());
    const shipment back = f.parcel(s.id);
    CHECK(back.state == shipment_state::returned);
    CHECK(f.on_hand("tea", "wh-hz") == before + 2);
    const std::size_t at = open_exception(back, logistics_exception_kind::returned);
    CHECK(std::none_of(back.exceptions.begin(), back.exceptions.end(),
                       [](const auto& e) { return e.kind == logistics_exception_kind::damaged; }));
    // A returned parcel's goods never arrived: compensation is not a remedy.
    check_refused(f.engine->resolve_logistics_exception(
                      f.as(agent), logistics_resolution{s.id, at, logistics_remedy::compensation,
                                                        cny("5.00"), ""}),
                  errc::invalid_value, "remedy");
    REQUIRE(f.engine
                ->resolve_logistics_exception(
                    f.as(agent),
                    logistics_resolution{s.id, at, logistics_remedy::refund, std::nullopt, ""})
                .has_value());
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.refunded(id) == cny("33.00"));
}

TEST_CASE("a returned parcel nobody puts right is refunded by due work after auto_refund_after") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::arrived_at_hub, 20).has_value());
    REQUIRE(f.event(s.id, tracking_event::returned_to_sender, 30).has_value());
    f.later(std::chrono::days(6));
    CHECK(f.due().parcels_refunded == 0);
    f.later(std::chrono::days(2));
    CHECK(f.due().parcels_refunded == 1);
    CHECK(f.parcel(s.id).state == shipment_state::resolved);
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.refunded(id) == f.captured(id));
}

TEST_CASE("a parcel without news is declared lost after lost_after, then refunded") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    f.later(std::chrono::days(3));
    CHECK(f.due().delayed_shipments == 1);
    CHECK(f.parcel(s.id).state == shipment_state::shipped);
    f.later(std::chrono::days(28));
    CHECK(f.due().parcels_declared_lost == 1);
    // Declared lost through the tracking and shipment machines, not past them.
    const shipment lost = f.parcel(s.id);
    CHECK(lost.state == shipment_state::lost);
    CHECK(lost.tracking->state() == tracking_state::lost);
    f.later(std::chrono::days(8));
    CHECK(f.due().parcels_refunded == 1);
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.ledger(id) == f.refunded(id));
}

TEST_CASE("a late capture on a failed or voided payment is recorded and applied or given back") {
    closure_fixture f;
    SUBCASE("after a failure, while the order still waits: it pays the order") {
        const order_id id = f.placed();
        REQUIRE(f.pay(id, "t1", f.load(id).total, payment_callback::outcome::failed).has_value());
        auto late = f.pay(id, "t1", f.load(id).total);
        REQUIRE_MESSAGE(late.has_value(), (late ? "" : to_string(late.error())));
        CHECK(late->state == order_state::paid);
        CHECK(f.captured(id) == cny("33.00"));
    }
    SUBCASE("after a cancel: recorded, given back, finance and the customer told") {
        const order_id id = f.placed();
        REQUIRE(f.pay(id, "t2", f.load(id).total, payment_callback::outcome::failed).has_value());
        REQUIRE(f.engine->cancel_order(f.as(alice), id, "changed my mind").has_value());
        auto late = f.pay(id, "t2", cny("33.00"));
        REQUIRE(late.has_value());
        CHECK_FALSE(late->repeated);
        const order o = f.load(id);
        CHECK(o.state == order_state::cancelled);
        CHECK(f.captured(id) == cny("33.00"));
        CHECK(f.refunded(id) == cny("33.00"));
        REQUIRE(o.refunds.size() == 1);
        CHECK(o.refunds[0].source == refund_source::returned_payment);
        CHECK(f.notes_of(notification_kind::refund_issued, audience::staff) == 1);
    }
    SUBCASE("on a voided authorization") {
        const order_id id = f.placed();
        REQUIRE(f.pay(id, "t3", cny("33.00"), payment_callback::outcome::authorized).has_value());
        REQUIRE(f.engine->cancel_order(f.as(alice), id, "changed my mind").has_value());
        REQUIRE(f.load(id).payments.front().state == payment_state::voided);
        REQUIRE(f.pay(id, "t3", cny("33.00")).has_value());
        CHECK(f.captured(id) == cny("33.00"));
        CHECK(f.refunded(id) == cny("33.00"));
        CHECK(f.ledger(id) == cny("33.00"));
    }
}

TEST_CASE("a wrong-amount capture is given back, the customer told and a case opened") {
    closure_fixture f;
    const order_id id = f.placed();
    auto wrong = f.pay(id, "t1", cny("30.00"));
    REQUIRE_MESSAGE(wrong.has_value(), (wrong ? "" : to_string(wrong.error())));
    CHECK(wrong->state == order_state::awaiting_payment);
    CHECK(wrong->payment == payment_state::refunded);
    CHECK(f.refunded(id) == cny("30.00"));
    CHECK(f.ledger(id) == cny("30.00"));
    auto cases = f.engine->open_cases(admin).value();
    REQUIRE(cases.size() == 1);
    CHECK(cases[0].type == case_type::payment_mismatch);
    REQUIRE(f.engine->dispatch_notifications(100).has_value());
    const auto notes = f.notifier.received();
    CHECK(std::any_of(notes.begin(), notes.end(), [](const notification& n) {
        return n.kind == notification_kind::payment_result && n.audience == audience::customer &&
               std::find(n.details.begin(), n.details.end(),
                         std::pair<std::string, std::string>{"result", "amount_mismatch"}) !=
                   n.details.end();
    }));
    // The right amount still pays the order, and the case's cause goes away.
    REQUIRE(f.pay(id, "t2", cny("33.00")).has_value());
    CHECK(f.load(id).state == order_state::paid);
    f.later(std::chrono::minutes(2));
    CHECK(f.due().causes_cleared == 1);
}

TEST_CASE("a return parcel on its way holds its ticket open past the return window") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 60).has_value());
    REQUIRE(f.load(id).state == order_state::delivered);
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::return_and_refund;
    r.reason = ticket_reason::changed_mind;
    auto opened = f.engine->open_ticket(f.as(alice), r);
    REQUIRE(opened.has_value());
    const ticket_id t = *opened->ticket;
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, "ok"}).has_value());
    REQUIRE(f.engine
                ->record_return_shipment(f.as(alice),
                                         return_shipment_request{t, carrier_id("yto"), "YT123"})
                .has_value());
    f.later(std::chrono::days(8));  // past the 7-day return window
    CHECK(f.due().returns_expired == 0);
    CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::awaiting_return);
    f.later(std::chrono::days(7));  // the parcel stopped moving: a person must look
    CHECK(f.due().tickets_escalated == 1);
    REQUIRE(f.engine->receive_return(f.as(keeper), t).has_value());
    REQUIRE(
        f.engine
            ->inspect_return(f.as(keeper),
                             inspection_request{t, {inspection_line{0, units(2), units(0)}}, ""})
            .has_value());
    CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::closed);
    // Every unit came back: the shipping goes back too. The order had
    // completed on its own meanwhile (auto-confirm), so the end of its last
    // ticket closes it.
    CHECK(f.refunded(id) == cny("33.00"));
    CHECK(f.load(id).state == order_state::closed);
}

TEST_CASE("refund_payment is tallied per line: a later return refunds only what is left") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 60).has_value());
    auto manual =
        f.engine->refund_payment(f.as(finance), refund_request{id, cny("5.00"), "goodwill"});
    REQUIRE_MESSAGE(manual.has_value(), (manual ? "" : to_string(manual.error())));
    const order o = f.load(id);
    REQUIRE(o.refunds.size() == 1);
    CHECK(o.refunds[0].source == refund_source::manual);
    REQUIRE(o.refunds[0].lines.size() == 1);
    CHECK(o.refunds[0].lines[0].goods == cny("5.00"));
    CHECK(o.refunds[0].lines[0].units.is_zero());
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::refund_only;
    r.reason = ticket_reason::quality;
    auto opened = f.engine->open_ticket(f.as(alice), r);
    REQUIRE(opened.has_value());
    auto decided = f.engine->decide_ticket(f.as(agent), ticket_decision{*opened->ticket, true, ""});
    REQUIRE_MESSAGE(decided.has_value(), (decided ? "" : to_string(decided.error())));
    CHECK(f.engine->get_ticket(admin, *opened->ticket)->state == ticket_state::closed);
    CHECK(f.refunded(id) == cny("33.00"));  // 5.00 earlier + the 28.00 left, never more
    CHECK(f.ledger(id) == cny("33.00"));
    // Every unit refunded before receipt was confirmed: the order closes
    // without passing through completed, and nobody asks for a review.
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.customer_notes(notification_kind::completed) == 0);
    CHECK(f.customer_notes(notification_kind::order_closed) == 1);
}

TEST_CASE("a lost unit a ticket refunded is not refunded again by its parcel") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::declared_lost, 20).has_value());
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::refund_only;
    r.reason = ticket_reason::not_received;
    auto opened = f.engine->open_ticket(f.as(alice), r);
    REQUIRE(opened.has_value());
    CHECK(f.engine->get_ticket(admin, *opened->ticket)->state == ticket_state::closed);
    CHECK(f.refunded(id) == cny("33.00"));
    const shipment lost = f.parcel(s.id);
    auto done = f.engine->resolve_logistics_exception(
        f.as(agent),
        logistics_resolution{s.id, open_exception(lost, logistics_exception_kind::lost),
                             logistics_remedy::refund, std::nullopt, ""});
    REQUIRE_MESSAGE(done.has_value(), (done ? "" : to_string(done.error())));
    CHECK(f.refunded(id) == cny("33.00"));
    const shipment put_right = f.parcel(s.id);
    CHECK(put_right.state == shipment_state::resolved);
    CHECK(put_right.exceptions.back().amount == cny("0.00"));
    CHECK(f.ledger(id) == f.refunded(id));
}

TEST_CASE("inspection accepts, refuses or partly refunds with a reason") {
    closure_fixture f;
    auto [id, s] = f.on_the_road(3);
    REQUIRE(f.event(s.id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 60).has_value());
    auto returned = [&](std::int64_t n) {
        open_ticket_request r;
        r.order = id;
        r.type = ticket_type::return_and_refund;
        r.reason = ticket_reason::quality;
        r.lines = {ticket_line_request{0, units(n)}};
        auto opened = f.engine->open_ticket(f.as(alice), r);
        REQUIRE(opened.has_value());
        const ticket_id t = *opened->ticket;
        REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, ""}).has_value());
        REQUIRE(f.engine
                    ->record_return_shipment(f.as(alice),
                                             return_shipment_request{t, carrier_id("yto"), "YT9"})
                    .has_value());
        REQUIRE(f.engine->receive_return(f.as(keeper), t).has_value());
        return t;
    };
    const ticket_id partly = returned(2);
    // A refusal needs its reason; the counts must add up to the claim.
    check_refused(
        f.engine->inspect_return(
            f.as(keeper),
            inspection_request{partly, {inspection_line{0, units(1), units(0), units(1)}}, ""}),
        errc::missing_value, "note");
    check_refused(
        f.engine->inspect_return(
            f.as(keeper),
            inspection_request{partly, {inspection_line{0, units(1), units(0), units(0)}}, "x"}),
        errc::invalid_value, "lines[0].damaged");
    const std::int64_t before = f.on_hand("tea", "wh-hz");
    REQUIRE(
        f.engine
            ->inspect_return(f.as(keeper),
                             inspection_request{partly,
                                                {inspection_line{0, units(1), units(0), units(1)}},
                                                "one unit worn by the customer"})
            .has_value());
    const ticket t = f.engine->get_ticket(admin, partly).value();
    CHECK(t.state == ticket_state::closed);
    CHECK(t.lines[0].refused == units(1));
    // One unit of 12.50, at the seller's fault its share of the 8.00 shipping
    // too: 2.67 (8.00 over three units, the earlier units first).
    CHECK(t.refund->total == cny("15.17"));
    CHECK(f.on_hand("tea", "wh-hz") == before + 1);
    const ticket_id all = returned(1);
    REQUIRE(
        f.engine
            ->inspect_return(f.as(keeper),
                             inspection_request{all,
                                                {inspection_line{0, units(0), units(0), units(1)}},
                                                "not the goods we sold"})
            .has_value());
    CHECK(f.engine->get_ticket(admin, all)->state == ticket_state::rejected);
    CHECK(f.ledger(id) == f.refunded(id));
}

TEST_CASE(
    "goods the repairer cannot repair are refunded or replaced, and a slow repair escalates") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 60).has_value());
    open_ticket_request r;
    r.order = id;
    r.type = ticket_type::repair;
    r.reason = ticket_reason::quality;
    r.lines = {ticket_line_request{0, units(1)}};
    auto opened = f.engine->open_ticket(f.as(alice), r);
    REQUIRE(opened.has_value());
    const ticket_id t = *opened->ticket;
    REQUIRE(f.engine->decide_ticket(f.as(agent), ticket_decision{t, true, ""}).has_value());
    REQUIRE(f.engine
                ->record_return_shipment(f.as(alice),
                                         return_shipment_request{t, carrier_id("yto"), "YT1"})
                .has_value());
    REQUIRE(f.engine->receive_return(f.as(keeper), t).has_value());
    REQUIRE(
        f.engine
            ->inspect_return(f.as(keeper),
                             inspection_request{t, {inspection_line{0, units(1), units(0)}}, ""})
            .has_value());
    // Not repairable goods cannot ship a replacement before the repairer says so.
    check_refused(f.engine->ship_replacement(f.as(agent), t), errc::transition_not_allowed,
                  "state");
    REQUIRE(f.engine->send_to_repair(f.as(agent), t, "to the workshop").has_value());
    f.later(std::chrono::days(15));
    CHECK(f.due().tickets_escalated == 1);
    CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::escalated);
    check_refused(f.engine->record_repair_failure(f.as(agent), t, ""), errc::missing_value, "note");
    REQUIRE(f.engine->record_repair_failure(f.as(agent), t, "the board is burnt").has_value());
    CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::inspected);
    SUBCASE("replaced") {
        auto sent = f.engine->ship_replacement(f.as(agent), t);
        REQUIRE_MESSAGE(sent.has_value(), (sent ? "" : to_string(sent.error())));
        CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::replacement_shipped);
    }
    SUBCASE("refunded") {
        REQUIRE(f.engine->refund_ticket(f.as(agent), t, "cannot be repaired").has_value());
        CHECK(f.engine->get_ticket(admin, t)->state == ticket_state::closed);
        CHECK(f.refunded(id) == cny("16.50"));  // 12.50 and its 4.00 shipping share: quality
    }
}

TEST_CASE("a resolved case closes itself and frees its cause for a new case") {
    closure_fixture f;
    const order_id id = f.placed();
    REQUIRE(f.pay(id, "t1", f.load(id).total, payment_callback::outcome::failed).has_value());
    auto cases = f.engine->open_cases(admin).value();
    REQUIRE(cases.size() == 1);
    const case_id c = cases[0].id;
    REQUIRE(f.engine->resolve_case(f.as(ops), c, "called the customer", "contacted").has_value());
    f.later(std::chrono::hours(71));
    CHECK(f.due().cases_closed == 0);
    f.later(std::chrono::hours(2));
    CHECK(f.due().cases_closed == 1);
    CHECK(f.engine->get_case(admin, c)->state == case_state::closed);
    // The same cause again opens a new case, not the closed one.
    REQUIRE(f.pay(id, "t2", f.load(id).total, payment_callback::outcome::failed).has_value());
    cases = f.engine->open_cases(admin).value();
    REQUIRE(cases.size() == 1);
    CHECK(cases[0].id != c);
}

TEST_CASE("a completed order closes when its after-sales window passes") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 30).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 60).has_value());
    REQUIRE(f.engine->confirm_receipt(f.as(alice), id).has_value());
    CHECK(f.load(id).state == order_state::completed);
    f.later(std::chrono::days(14));
    CHECK(f.due().orders_closed == 0);
    f.later(std::chrono::days(2));
    CHECK(f.due().orders_closed == 1);
    CHECK(f.load(id).state == order_state::closed);
    CHECK(f.customer_notes(notification_kind::completed) == 1);
}

TEST_CASE("compensation is for late or damaged parcels, paid by finance and in the ledger") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    f.later(std::chrono::days(3));
    CHECK(f.due().delayed_shipments == 1);
    const shipment late = f.parcel(s.id);
    const std::size_t at = open_exception(late, logistics_exception_kind::delayed);
    check_refused(f.engine->resolve_logistics_exception(
                      f.as(agent),
                      logistics_resolution{s.id, at, logistics_remedy::reship, std::nullopt, ""}),
                  errc::invalid_value, "remedy");
    REQUIRE(f.engine
                ->resolve_logistics_exception(
                    f.as(agent),
                    logistics_resolution{s.id, at, logistics_remedy::compensation, cny("3.00"), ""})
                .has_value());
    const order o = f.load(id);
    REQUIRE(o.refunds.size() == 1);
    CHECK(o.refunds[0].source == refund_source::compensation);
    CHECK(o.refunds[0].amount == cny("3.00"));
    CHECK(f.refunded(id) == cny("0.00"));  // paid outside the payments
    CHECK(f.notes_of(notification_kind::compensation_issued, audience::staff) == 1);
    CHECK(f.notes_of(notification_kind::refund_issued, audience::staff) == 0);
}

TEST_CASE("money captured while the order is on hold is recorded at once and paid on release") {
    closure_fixture f;
    const order_id id = f.placed();
    REQUIRE(f.engine->hold_order(f.as(agent), id, "address check").has_value());
    auto paid = f.pay(id, "t1", cny("33.00"));
    REQUIRE(paid.has_value());
    CHECK(paid->state == order_state::on_hold);
    CHECK(f.customer_notes(notification_kind::payment_result) == 1);
    auto released = f.engine->release_order(f.as(agent), id, "address fine");
    REQUIRE(released.has_value());
    CHECK(released->state == order_state::paid);
    CHECK(f.customer_notes(notification_kind::payment_result) == 1);
    for (const auto& r : f.load(id).reservations) {
        CHECK(r.state == reservation_state::committed);
    }
}

TEST_CASE("a transfer called back puts its units on hand at the source again") {
    closure_fixture f;
    auto sent = f.engine->dispatch_transfer(
        f.as(keeper), transfer_request{sku_id("tea"), warehouse_id("wh-hz"), warehouse_id("wh-bj"),
                                       units(3), "rebalance"});
    REQUIRE(sent.has_value());
    CHECK(f.on_hand("tea", "wh-hz") == 7);
    check_refused(f.engine->cancel_transfer(f.as(keeper), sent->id, ""), errc::missing_value,
                  "reason");
    check_refused(f.engine->cancel_transfer(f.as(alice), sent->id, "no"), errc::forbidden,
                  "actor.role");
    auto back = f.engine->cancel_transfer(f.as(keeper), sent->id, "truck turned back");
    REQUIRE_MESSAGE(back.has_value(), (back ? "" : to_string(back.error())));
    CHECK(back->state == transfer_state::cancelled);
    CHECK(back->cancel_reason == "truck turned back");
    CHECK(f.on_hand("tea", "wh-hz") == 10);
    CHECK(f.store.stock(sku_id("tea"), warehouse_id("wh-bj")).value()->in_transit.is_zero());
    check_refused(f.engine->receive_transfer(f.as(keeper), sent->id), errc::transition_not_allowed,
                  "transfer_id");
}

TEST_CASE("settlement sees every refund and compensation: payouts and income are what was kept") {
    settings options = closure_options();
    options.settlement.service_fees = {cny("1.00")};
    options.settlement.default_rate = rate::percent("10").value();
    options.settlement.account_period_days = 0;
    closure_fixture f;
    f.engine = engine::create(
                   engine_ports{f.store, f.notifier, f.clock, f.policy}, options,
                   [&] {
                       fulfilment_setup setup;
                       setup.network = network();
                       setup.carriers = &f.directory;
                       setup.bins = [](const warehouse_id&, const sku_id& s) {
                           return std::optional<bin_location>(bin_location{"A", "B-" + s.value()});
                       };
                       return setup;
                   }())
                   .value();
    auto [id, s] = f.on_the_road();
    f.later(std::chrono::days(3));
    CHECK(f.due().delayed_shipments == 1);
    const std::size_t late = open_exception(f.parcel(s.id), logistics_exception_kind::delayed);
    REQUIRE(f.engine
                ->resolve_logistics_exception(
                    f.as(agent), logistics_resolution{s.id, late, logistics_remedy::compensation,
                                                      cny("2.00"), "two days late"})
                .has_value());
    REQUIRE(f.event(s.id, tracking_event::picked_up, 4400).has_value());
    REQUIRE(f.event(s.id, tracking_event::delivered, 4500).has_value());
    REQUIRE(f.engine->refund_payment(f.as(finance), refund_request{id, cny("3.00"), "goodwill"})
                .has_value());
    REQUIRE(f.engine->confirm_receipt(f.as(alice), id).has_value());
    const settlement_period period{start_time(), f.clock.now() + std::chrono::days(1)};
    auto settled = f.engine->settle_period(f.as(finance).actor, period);
    REQUIRE_MESSAGE(settled.has_value(), (settled ? "" : to_string(settled.error())));
    REQUIRE(settled->inputs.size() == 1);
    CHECK(settled->inputs[0].refunds.size() == 1);        // the manual refund, by line
    CHECK(settled->inputs[0].compensations.size() == 1);  // the compensation
    const std::array<period_settlement, 1> run{settled->statements};
    CHECK(reconcile(options.settlement, settled->inputs, run).value().empty());
    money kept = cny("0");
    for (const statement& st : settled->statements.statements) {
        kept = kept.plus(st.payout).value().plus(st.platform_income).value();
    }
    // What the customer paid, less what came back through the payments and
    // what finance paid outside them.
    CHECK(kept == f.captured(id).minus(f.refunded(id)).value().minus(cny("2.00")).value());
}

TEST_CASE("a parcel reported lost is lost in its tracking too, and a later scan finds it") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    REQUIRE(f.engine
                ->report_logistics_exception(
                    f.as(agent), logistics_exception_report{s.id, logistics_exception_kind::lost,
                                                            "customer says nothing came"})
                .has_value());
    shipment lost = f.parcel(s.id);
    CHECK(lost.state == shipment_state::lost);
    CHECK(lost.tracking->state() == tracking_state::lost);
    CHECK(lost.exceptions.back().reported);
    // The carrier finds it: the parcel moves again and the loss recovers.
    f.later(std::chrono::hours(1));
    REQUIRE(f.event(s.id, tracking_event::arrived_at_hub, 24 * 60).has_value());
    const shipment found = f.parcel(s.id);
    CHECK(found.state == shipment_state::shipped);
    CHECK(found.exceptions.back().remedy == logistics_remedy::recovered);
    CHECK(f.load(id).state == order_state::shipped);
}

TEST_CASE("a parcel being packed is not merged, so it is sealed with the goods it holds") {
    closure_fixture f;
    const order_id first = f.paid();
    const order_id second = f.paid();
    const shipment a = f.plan(first).front();
    const shipment b = f.plan(second).front();
    REQUIRE(
        f.engine->scan_for_packing(f.as(keeper), pack_scan_request{a.id, sku_id("tea"), units(1)})
            .has_value());
    const std::array<shipment_id, 2> both{a.id, b.id};
    check_refused(f.engine->merge_shipments(f.as(agent), both), errc::transition_not_allowed,
                  "shipments[0]");
    // The pick-wave merge rule leaves it alone too.
    auto waves = f.engine->plan_pick_waves(f.as(keeper), warehouse_id("wh-hz"));
    REQUIRE(waves.has_value());
    CHECK(f.parcel(a.id).lines == a.lines);
    CHECK(f.parcel(b.id).state == shipment_state::picking);
}

// --- found by the simulator (docs/ARCHITECTURE.md, "What the simulator found") ---

TEST_CASE("a held order's parcel stays in the warehouse until the order is released") {
    closure_fixture f;
    const order_id id = f.paid();
    auto parcels = f.plan(id);
    REQUIRE(parcels.size() == 1);
    f.pack(parcels.front());
    REQUIRE(f.load(id).state == order_state::packed);
    REQUIRE(f.engine->hold_order(f.as(agent), id, "address check").has_value());
    const auto before = f.load(id).version;
    check_refused(f.engine->ship_shipment(f.as(keeper), parcels.front().id),
                  errc::transition_not_allowed, "shipment_id");
    CHECK(f.load(id).version == before);
    CHECK(f.parcel(parcels.front().id).state == shipment_state::packed);
    REQUIRE(f.engine->release_order(f.as(agent), id, "address fine").has_value());
    f.ship(parcels.front());
    CHECK(f.load(id).state == order_state::shipped);
}

TEST_CASE("a cash-on-delivery parcel lost before the door is waived: no money moves") {
    closure_fixture f;
    place_order_request r;
    r.customer = customer_id("alice");
    r.ship_to = home();
    r.lines.push_back(line_request{sku_id("tea"), units(2), cny("12.50")});
    r.shipping_fee = cny("8.00");
    r.method = payment_method::cash_on_delivery;
    auto placed = f.engine->place_order(f.as(admin), r);
    REQUIRE_MESSAGE(placed.has_value(), (placed ? "" : to_string(placed.error())));
    const order_id id = placed->order;
    if (f.load(id).state == order_state::pending_review) {
        REQUIRE(f.engine->approve_order(f.as(reviewer), id, "fine").has_value());
    }
    REQUIRE(f.load(id).state == order_state::paid);
    auto parcels = f.plan(id);
    REQUIRE(parcels.size() == 1);
    f.pack(parcels.front());
    const shipment s = f.ship(parcels.front());
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    REQUIRE(f.event(s.id, tracking_event::declared_lost, 20).has_value());
    // Nobody puts it right: due work refunds it after auto_refund_after.
    f.later(closure_options().fulfilment.auto_refund_after + std::chrono::minutes(1));
    CHECK(f.due().parcels_refunded == 1);
    const order o = f.load(id);
    CHECK(o.state == order_state::closed);
    CHECK(o.payments.empty());  // nothing was collected, nothing given back
    REQUIRE(o.refunds.size() == 1);
    CHECK(o.refunds[0].waived);
    CHECK(o.refunds[0].amount == cny("33.00"));
    CHECK(f.notes_of(notification_kind::refund_issued, audience::staff) == 0);
}

TEST_CASE("a parcel already replaced for damage is not sent or refunded again once lost") {
    closure_fixture f;
    auto [id, s] = f.on_the_road();
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    REQUIRE(
        f.engine
            ->report_logistics_exception(
                f.as(keeper), logistics_exception_report{s.id, logistics_exception_kind::damaged,
                                                         "crushed at the hub"})
            .has_value());
    const shipment damaged = f.parcel(s.id);
    auto sent = f.engine->resolve_logistics_exception(
        f.as(agent),
        logistics_resolution{s.id, open_exception(damaged, logistics_exception_kind::damaged),
                             logistics_remedy::reship, std::nullopt, "send fresh tea"});
    REQUIRE_MESSAGE(sent.has_value(), (sent ? "" : to_string(sent.error())));
    REQUIRE(f.event(s.id, tracking_event::declared_lost, 30).has_value());
    const shipment lost = f.parcel(s.id);
    REQUIRE(lost.state == shipment_state::lost);
    const auto version = f.load(id).version;
    for (const auto remedy : {logistics_remedy::reship, logistics_remedy::refund}) {
        check_refused(
            f.engine->resolve_logistics_exception(
                f.as(agent),
                logistics_resolution{s.id, open_exception(lost, logistics_exception_kind::lost),
                                     remedy, std::nullopt, "again"}),
            errc::transition_not_allowed, "remedy");
    }
    CHECK(f.load(id).version == version);
    // Due work closes the loss with the earlier replacement, refunding nothing.
    f.later(closure_options().fulfilment.auto_refund_after + std::chrono::minutes(1));
    CHECK(f.due().parcels_refunded == 0);
    CHECK(f.parcel(s.id).state == shipment_state::resolved);
    CHECK(f.refunded(id) == cny("0"));
    CHECK(f.load(id).state == order_state::shipped);  // the replacement is still to come
}
