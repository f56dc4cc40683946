// Operations reads through the engine: the status
// board and the settlement read from the stores equal the pure computations
// over the same orders read one by one, stay equal when ended orders move to
// the archive, and reconcile to the cent with what the payments captured and
// refunded; only operations roles may read them. Runs on memory_store and,
// with ORDERLY_TEST_STORE=sqlite, on SqliteStore.

#include "fulfil_fixture.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace orderly;
using namespace orderly::test;

const actor agent{"cs-1", role::customer_service};
const actor accountant{"fin-1", role::finance};
const actor packer{"wh-1", role::warehouse};

rate rate_of(std::string_view text) {
    return rate::parse(text).value();
}

// Settlement rules for the tests; no detector that scans on its own, so the
// figures change only by what a test does.
settings report_options() {
    settings s;
    s.after_sales.agents = {"cs-1"};
    s.after_sales.auto_approve_below = {cny("100.00")};
    s.operations.review_limit = duration::zero();
    s.operations.paid_limit = duration::zero();
    s.operations.allocating_limit = duration::zero();
    s.operations.packed_limit = duration::zero();
    s.operations.on_hold_limit = duration::zero();
    s.operations.failed_attempts_for_unclear_address = 0;
    s.operations.archive_after = std::chrono::days(30);
    // Completed orders stay completed (no after-sales window), so due work
    // here only archives: the board must not change across it.
    s.after_sales.window = duration::zero();
    s.settlement.category_rates = {{"food", rate_of("0.05")}, {"toys", rate_of("0.08")}};
    s.settlement.default_rate = rate_of("0.1");
    s.settlement.service_fees = {cny("1.50")};
    s.settlement.account_period_days = 7;
    return s;
}

struct line_spec {
    std::string sku;
    std::int64_t units{1};
};

struct catalogue_item {
    std::string code;
    std::string merchant;
    std::string category;
    std::string price;
};

// Three merchants with two SKUs each in Hangzhou, and a book of m-1 kept
// only in Beijing (an order with it ships in two parcels).
const std::vector<catalogue_item>& catalogue() {
    static const std::vector<catalogue_item> items = {
        {"tea", "m-1", "food", "12.50"},   {"mug", "m-1", "kitchen", "30.00"},
        {"car", "m-2", "toys", "19.90"},   {"kite", "m-2", "toys", "7.99"},
        {"jam", "m-3", "food", "45.35"},   {"pen", "m-3", "office", "3.33"},
        {"atlas", "m-1", "books", "9.99"},
    };
    return items;
}

struct reports_fixture : fulfil_fixture {
    explicit reports_fixture(settings options = report_options())
        : fulfil_fixture(std::move(options)) {
        for (const auto& item : catalogue()) {
            sku entry = catalogue_entry(item.code, item.price);
            entry.merchant = merchant_id(item.merchant);
            entry.category = item.category;
            REQUIRE(engine->put_sku(as(admin), entry).has_value());
            prices.emplace(item.code, cny(item.price));
            const char* wh = item.code == "atlas" ? "wh-bj" : "wh-hz";
            REQUIRE(engine
                        ->receive_stock(as(keeper), stock_receipt{sku_id(item.code),
                                                                  warehouse_id(wh), units(1000)})
                        .has_value());
        }
    }

    order_id place(const std::string& merchant, const std::vector<line_spec>& lines,
                   std::optional<money> discount = {}, std::optional<money> shipping = {}) {
        place_order_request r;
        r.customer = customer_id("alice");
        r.merchant = merchant_id(merchant);
        r.ship_to = home();
        for (const auto& l : lines) {
            r.lines.push_back(line_request{sku_id(l.sku), units(l.units), prices.at(l.sku)});
        }
        r.discount = std::move(discount);
        r.shipping_fee = std::move(shipping);
        auto placed = engine->place_order(as(admin), r);
        REQUIRE_MESSAGE(placed.has_value(), (placed ? "" : to_string(placed.error())));
        return placed->order;
    }

    void pay(order_id id) {
        const order o = load(id);
        auto paid = engine->record_payment(
            as(gateway),
            payment_callback{id, "txn-" + std::to_string(id.value()), payment_method::card,
                             payment_callback::outcome::captured, o.total, ""});
        REQUIRE_MESSAGE(paid.has_value(), (paid ? "" : to_string(paid.error())));
        REQUIRE(paid->state == order_state::paid);
    }

    void track(shipment_id id, tracking_event kind) {
        carrier_event e;
        e.id = fmt::format("ev-{}", ++events);
        e.kind = kind;
        e.occurred_at = clock.now();
        auto r = engine->record_carrier_event(as(gateway), carrier_event_request{id, e});
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : to_string(r.error())));
        clock.advance(std::chrono::minutes(1));
    }

    // Plans, packs and ships every parcel, and the carrier picks each up.
    std::vector<shipment> send(order_id id) {
        auto parcels = plan(id);
        for (auto& p : parcels) {
            pack(p);
            p = ship(p);
            track(p.id, tracking_event::picked_up);
        }
        return parcels;
    }

    // Every parcel delivered, except that a parcel with the atlas is lost and
    // refunded (a logistics refund); returns how many parcels were refunded.
    std::size_t deliver(order_id id) {
        std::size_t refunded = 0;
        for (const auto& p : send(id)) {
            const bool atlas = std::any_of(p.lines.begin(), p.lines.end(),
                                           [](const auto& l) { return l.sku.value() == "atlas"; });
            if (!atlas) {
                track(p.id, tracking_event::delivered);
                continue;
            }
            track(p.id, tracking_event::declared_lost);
            const shipment lost = engine->get_shipment(admin, p.id).value();
            REQUIRE(lost.exceptions.size() == 1);
            auto resolved = engine->resolve_logistics_exception(
                as(admin), logistics_resolution{p.id, 0, logistics_remedy::refund, {}, "lost"});
            REQUIRE_MESSAGE(resolved.has_value(), (resolved ? "" : to_string(resolved.error())));
            ++refunded;
        }
        REQUIRE(load(id).state == order_state::delivered);
        return refunded;
    }

    void complete(order_id id) {
        auto done = engine->confirm_receipt(as(alice), id);
        REQUIRE_MESSAGE(done.has_value(), (done ? "" : to_string(done.error())));
        // An order whose tickets all ended closes at once.
        const order_state now = load(id).state;
        REQUIRE((now == order_state::completed || now == order_state::closed));
    }

    // An agent approves a ticket a rule did not.
    ticket approved(ticket_id id) {
        ticket t = engine->get_ticket(admin, id).value();
        if (t.state == ticket_state::under_review) {
            auto decided = engine->decide_ticket(as(agent), ticket_decision{id, true, "ok"});
            REQUIRE_MESSAGE(decided.has_value(), (decided ? "" : to_string(decided.error())));
            t = engine->get_ticket(admin, id).value();
        }
        return t;
    }

    ticket_id open(order_id id, ticket_type type, ticket_reason reason, std::uint32_t line,
                   std::int64_t n) {
        open_ticket_request r;
        r.order = id;
        r.type = type;
        r.reason = reason;
        r.description = "as the test says";
        r.evidence = {"photo-1"};
        r.lines = {{line, units(n), {}}};
        auto opened = engine->open_ticket(as(alice), r);
        REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : to_string(opened.error())));
        REQUIRE(opened->ticket.has_value());
        return *opened->ticket;
    }

    // A refund-only ticket for damaged units, refunded at once (by rule, or
    // once an agent approves).
    ticket refund_only(order_id id, std::uint32_t line, std::int64_t n) {
        const ticket t =
            approved(open(id, ticket_type::refund_only, ticket_reason::damaged, line, n));
        REQUIRE(t.refund.has_value());
        return t;
    }

    // A return and refund: approved, sent back, received, inspected, refunded.
    ticket return_goods(order_id id, std::uint32_t line, std::int64_t n) {
        const ticket_id t =
            approved(open(id, ticket_type::return_and_refund, ticket_reason::changed_mind, line, n))
                .id;
        REQUIRE(engine
                    ->record_return_shipment(
                        as(alice), return_shipment_request{t, carrier_id("yto"),
                                                           fmt::format("YT{:08}", ++returns)})
                    .has_value());
        clock.advance(std::chrono::hours(20));
        REQUIRE(engine->receive_return(as(keeper), t).has_value());
        auto inspected = engine->inspect_return(
            as(keeper), inspection_request{t, {inspection_line{line, units(n), units(0)}}, "ok"});
        REQUIRE_MESSAGE(inspected.has_value(), (inspected ? "" : to_string(inspected.error())));
        const ticket done = engine->get_ticket(admin, t).value();
        REQUIRE(done.refund.has_value());
        return done;
    }

    std::map<std::string, money> prices;
    int events{0};
    int returns{0};
};

// Every case in the store, per order, read state by state.
std::map<order_id, std::size_t> cases_per_order(store& st) {
    std::map<order_id, std::size_t> out;
    for (const case_state state : all_case_states) {
        for (const case_id id : st.cases_in_state(state, case_id{}, 100'000).value()) {
            const auto c = st.load_case(id).value();
            REQUIRE(c.has_value());
            if (c->order) {
                ++out[*c->order];
            }
        }
    }
    return out;
}

// The board's inputs read order by order through the engine's reads.
std::vector<board_input_order> read_directly(reports_fixture& f, const std::vector<order_id>& ids) {
    const auto cases = cases_per_order(f.store);
    std::vector<board_input_order> out;
    for (const order_id id : ids) {
        board_input_order in{f.load(id), f.engine->timeline(admin, id).value(), 0};
        if (auto known = cases.find(id); known != cases.end()) {
            in.exceptions = known->second;
        }
        for (const shipment_id s : in.o.shipments) {
            in.exceptions += f.engine->get_shipment(admin, s).value().exceptions.size();
        }
        out.push_back(std::move(in));
    }
    return out;
}

std::size_t count_ids(const result<std::vector<order_id>>& ids) {
    REQUIRE(ids.has_value());
    return ids->size();
}

std::size_t live_ended(store& st) {
    return count_ids(st.orders_in_state(order_state::closed, order_id{}, 100'000)) +
           count_ids(st.orders_in_state(order_state::cancelled, order_id{}, 100'000));
}

std::size_t archived(store& st) {
    return count_ids(st.archived_orders(order_id{}, 100'000));
}

timestamp day(std::int64_t n) {
    return start_time() + std::chrono::days(n);
}

// The orders of the board and archive tests: closed, closed by its ticket,
// cancelled unpaid and paid, completed (live), one with a lost parcel that
// was refunded, one still shipped with a case opened by hand.
struct order_mix {
    order_id closed;
    order_id closed_by_ticket;
    order_id cancelled_unpaid;
    order_id cancelled_paid;
    order_id completed;
    order_id lost_parcel;
    order_id shipped;
    std::vector<order_id> all;
};

order_mix drive_mix(reports_fixture& f) {
    order_mix m;
    m.closed = f.place("m-1", {{"tea", 2}, {"mug", 1}}, cny("3.00"), cny("8.00"));
    f.pay(m.closed);
    f.deliver(m.closed);
    f.complete(m.closed);
    REQUIRE(f.engine->close_order(f.as(admin), m.closed).has_value());

    f.clock.advance(std::chrono::hours(3));
    m.closed_by_ticket = f.place("m-2", {{"car", 1}, {"kite", 2}}, {}, cny("6.00"));
    f.pay(m.closed_by_ticket);
    f.deliver(m.closed_by_ticket);
    f.complete(m.closed_by_ticket);
    f.refund_only(m.closed_by_ticket, 1, 1);
    REQUIRE(f.load(m.closed_by_ticket).state == order_state::closed);

    m.cancelled_unpaid = f.place("m-3", {{"pen", 4}});
    REQUIRE(f.engine->cancel_order(f.as(admin), m.cancelled_unpaid, "changed mind").has_value());
    m.cancelled_paid = f.place("m-3", {{"jam", 1}}, {}, cny("5.00"));
    f.pay(m.cancelled_paid);
    REQUIRE(f.engine->cancel_order(f.as(admin), m.cancelled_paid, "changed mind").has_value());

    f.clock.advance(std::chrono::hours(5));
    m.completed = f.place("m-3", {{"jam", 2}, {"pen", 1}}, cny("1.11"));
    f.pay(m.completed);
    f.deliver(m.completed);
    f.complete(m.completed);

    m.lost_parcel = f.place("m-1", {{"tea", 1}, {"atlas", 2}}, cny("0.50"), cny("10.00"));
    f.pay(m.lost_parcel);
    REQUIRE(f.deliver(m.lost_parcel) == 1);
    f.complete(m.lost_parcel);
    REQUIRE(f.engine->close_order(f.as(admin), m.lost_parcel).has_value());

    m.shipped = f.place("m-2", {{"kite", 1}});
    f.pay(m.shipped);
    f.send(m.shipped);
    open_case_request opened;
    opened.type = case_type::other;
    opened.priority = case_priority::high;
    opened.title = "customer calls every hour";
    opened.order = m.shipped;
    auto c = f.engine->open_case(f.as(admin), opened);
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : to_string(c.error())));

    m.all = {m.closed,    m.closed_by_ticket, m.cancelled_unpaid, m.cancelled_paid,
             m.completed, m.lost_parcel,      m.shipped};
    return m;
}

template <class T>
void refused(const result<T>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
}

}  // namespace

TEST_CASE("the status board read from the stores equals the board of the orders read one by one") {
    reports_fixture f;
    const order_mix m = drive_mix(f);
    const auto direct = read_directly(f, m.all);
    const auto expected = compute_status_board(direct, day(-1), day(30)).value();
    const auto board = f.engine->status_board_of(admin, day(-1), day(30));
    REQUIRE_MESSAGE(board.has_value(), (board ? "" : to_string(board.error())));
    CHECK(*board == expected);

    // Not vacuous: every order, both cancellations, the ticket, the lost
    // parcel and the case by hand.
    CHECK(board->total.orders == 7);
    CHECK(board->total.cancelled == 2);
    CHECK(board->total.in_state(order_state::closed) == 3);
    CHECK(board->total.in_state(order_state::completed) == 1);
    CHECK(board->total.in_state(order_state::shipped) == 1);
    CHECK(board->total.after_sales_orders == 1);
    CHECK(board->total.exception_orders >= 2);
    CHECK(board->by_merchant.size() == 3);
    REQUIRE(board->total.to_delivery.has_value());
    CHECK(board->total.to_delivery->samples == 4);

    // The period filters on placement: a period after every order is empty,
    // a period holding only the first order counts it alone.
    CHECK(f.engine->status_board_of(admin, day(10), day(11)).value().total.orders == 0);
    const timestamp first = f.load(m.closed).placed_at;
    const auto one = f.engine->status_board_of(admin, first, first + std::chrono::hours(1));
    REQUIRE(one.has_value());
    CHECK(one->total.orders == 1);
    CHECK(one->by_merchant.count(merchant_id("m-1")) == 1);
}

TEST_CASE("the board and the settlement are the same before and after ended orders are archived") {
    reports_fixture f;
    const order_mix m = drive_mix(f);
    const settlement_period period{day(-1), day(30)};
    const auto board = f.engine->status_board_of(admin, day(-1), day(60)).value();
    const auto settled = f.engine->settle_period(accountant, period);
    REQUIRE_MESSAGE(settled.has_value(), (settled ? "" : to_string(settled.error())));
    // Completed orders: closed, closed by ticket, completed, lost parcel.
    CHECK(settled->inputs.size() == 4);
    CHECK(settled->statements.statements.size() == 3);
    const auto lost = std::find_if(settled->inputs.begin(), settled->inputs.end(),
                                   [&](const auto& in) { return in.order == m.lost_parcel; });
    REQUIRE(lost != settled->inputs.end());
    REQUIRE(lost->refunds.size() == 1);
    CHECK(lost->refunds[0].ticket == ticket_id{});
    // The whole atlas line went back: 2 × 9.99 less its share of the
    // discount, and its share of the shipping (the goods never arrived).
    const order lost_order = f.load(m.lost_parcel);
    const money line_shipping = shipping_shares(lost_order).value()[1];
    CHECK(lost->refunds[0].refund.goods == paid_amount(lost_order.lines[1]).value());
    CHECK(lost->refunds[0].refund.shipping == line_shipping);
    CHECK(lost->refunds[0].refund.total ==
          paid_amount(lost_order.lines[1]).value().plus(line_shipping).value());

    const std::size_t ended = live_ended(f.store);
    CHECK(ended == 5);
    CHECK(archived(f.store) == 0);
    // Nothing is old enough yet.
    CHECK(f.engine->archive_orders(f.as(admin)).value() == 0);

    f.clock.advance(std::chrono::days(31));
    CHECK(f.engine->archive_orders(f.as(admin), 2).value() == 2);
    CHECK(live_ended(f.store) == ended - 2);
    CHECK(archived(f.store) == 2);
    CHECK(f.engine->archive_orders(f.as(admin)).value() == ended - 2);
    CHECK(f.engine->archive_orders(f.as(admin)).value() == 0);
    CHECK(live_ended(f.store) == 0);
    CHECK(archived(f.store) == ended);
    CHECK(f.load(m.closed).state == order_state::closed);  // still readable
    CHECK(count_ids(f.store.orders_in_state(order_state::completed, order_id{}, 100)) == 1);

    CHECK(f.engine->status_board_of(admin, day(-1), day(60)).value() == board);
    const auto again = f.engine->settle_period(accountant, period);
    REQUIRE(again.has_value());
    CHECK(again->statements == settled->statements);
    CHECK(again->inputs == settled->inputs);

    // Due work archives too.
    const order_id late = f.place("m-2", {{"car", 1}});
    REQUIRE(f.engine->cancel_order(f.as(admin), late, "changed mind").has_value());
    const auto with_late = f.engine->status_board_of(admin, day(-1), day(60)).value();
    CHECK(with_late.total.orders == board.total.orders + 1);
    f.clock.advance(std::chrono::days(31));
    const auto report = f.engine->run_due_work();
    REQUIRE_MESSAGE(report.has_value(), (report ? "" : to_string(report.error())));
    CHECK(report->orders_archived == 1);
    CHECK(archived(f.store) == ended + 1);
    CHECK(live_ended(f.store) == 0);
    CHECK(f.engine->status_board_of(admin, day(-1), day(60)).value() == with_late);
    CHECK(f.engine->settle_period(accountant, period).value().statements == settled->statements);
}

TEST_CASE("archiving is off when archive_after is zero") {
    settings off = report_options();
    off.operations.archive_after = duration::zero();
    reports_fixture f(off);
    const order_id id = f.place("m-3", {{"pen", 1}});
    REQUIRE(f.engine->cancel_order(f.as(admin), id, "changed mind").has_value());
    f.clock.advance(std::chrono::days(400));
    CHECK(f.engine->archive_orders(f.as(admin)).value() == 0);
    CHECK(f.engine->run_due_work().value().orders_archived == 0);
    CHECK(archived(f.store) == 0);
    CHECK(live_ended(f.store) == 1);
}

namespace {

// Statistics of one randomized run, for non-vacuity across seeds.
struct run_stats {
    std::size_t statements{0};
    std::size_t refunds{0};
    std::size_t logistics_refunds{0};
    std::size_t clawbacks{0};
};

// Places, pays, fulfils and completes random orders of three merchants, some
// with refunds before and after completion, then settles consecutive weeks
// through the engine and checks they reconcile with the payments.
run_stats settle_random_orders(std::uint64_t seed) {
    reports_fixture f;
    std::mt19937_64 rng(seed);
    auto pick = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    const std::map<std::string, std::vector<std::string>> skus = {
        {"m-1", {"tea", "mug"}}, {"m-2", {"car", "kite"}}, {"m-3", {"jam", "pen"}}};
    std::vector<order_id> completed;
    run_stats stats;
    for (int i = 0; i < 12; ++i) {
        f.clock.advance(std::chrono::hours(pick(1, 50)));
        const std::string merchant = fmt::format("m-{}", i == 0 ? 1 : pick(1, 3));
        std::vector<line_spec> lines;
        std::vector<std::string> choice = skus.at(merchant);
        std::shuffle(choice.begin(), choice.end(), rng);
        const auto count = static_cast<std::size_t>(pick(1, 2));
        for (std::size_t k = 0; k < count; ++k) {
            lines.push_back(line_spec{choice[k], pick(1, 3)});
        }
        if (merchant == "m-1" && (i == 0 || pick(0, 3) == 0)) {
            lines.push_back(line_spec{"atlas", pick(1, 2)});
        }
        std::int64_t subtotal_minor = 0;
        for (const auto& l : lines) {
            subtotal_minor += f.prices.at(l.sku).amount_minor_int64().value() * l.units;
        }
        std::optional<money> discount;
        if (pick(0, 2) != 0) {
            discount = money::from_minor(pick(0, subtotal_minor / 10), currencies::CNY);
        }
        std::optional<money> shipping;
        if (pick(0, 2) != 0) {
            shipping = money::from_minor(pick(0, 1500), currencies::CNY);
        }
        const order_id id = f.place(merchant, lines, discount, shipping);
        const std::int64_t fate = i == 0 ? 9 : pick(0, 9);
        if (fate == 0) {
            REQUIRE(f.engine->cancel_order(f.as(admin), id, "changed mind").has_value());
            continue;
        }
        f.pay(id);
        if (fate == 1) {
            REQUIRE(f.engine->cancel_order(f.as(admin), id, "changed mind").has_value());
            continue;
        }
        stats.logistics_refunds += f.deliver(id);
        if (fate == 2) {
            continue;  // delivered, never confirmed: not settled
        }
        // Units each line can still claim (the atlas's parcel was refunded).
        std::vector<std::int64_t> claimable;
        for (const auto& l : lines) {
            claimable.push_back(l.sku == "atlas" ? 0 : l.units);
        }
        auto claim = [&]() -> std::optional<std::uint32_t> {
            std::vector<std::uint32_t> open;
            for (std::uint32_t k = 0; k < claimable.size(); ++k) {
                if (claimable[k] > 0) {
                    open.push_back(k);
                }
            }
            if (open.empty()) {
                return std::nullopt;
            }
            const std::uint32_t line =
                open[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(open.size()) - 1))];
            --claimable[line];
            return line;
        };
        if (pick(0, 2) == 0) {
            if (const auto line = claim()) {
                f.refund_only(id, *line, 1);
                ++stats.refunds;
            }
        }
        f.clock.advance(std::chrono::hours(pick(0, 30)));
        f.complete(id);
        completed.push_back(id);
        if (f.load(id).state == order_state::completed && pick(0, 1) == 0) {
            f.clock.advance(std::chrono::hours(pick(1, 300)));
            if (const auto line = claim()) {
                if (pick(0, 1) == 0) {
                    f.refund_only(id, *line, 1);
                } else {
                    f.return_goods(id, *line, 1);
                }
                ++stats.refunds;
            }
        }
    }
    REQUIRE(stats.logistics_refunds >= 1);

    // Consecutive weeks from the start until every completed order is payable
    // and every refund made.
    const timestamp end = f.clock.now() + std::chrono::days(8);
    std::vector<period_settlement> periods;
    std::vector<settlement_input> inputs;
    for (timestamp from = start_time(); from < end; from += std::chrono::days(7)) {
        const settlement_period week{from, from + std::chrono::days(7)};
        auto settled = f.engine->settle_period(accountant, week);
        REQUIRE_MESSAGE(settled.has_value(), (settled ? "" : to_string(settled.error())));
        // Each order's input is the same whichever period reads it.
        for (const auto& in : inputs) {
            const auto later =
                std::find_if(settled->inputs.begin(), settled->inputs.end(),
                             [&](const settlement_input& x) { return x.order == in.order; });
            REQUIRE(later != settled->inputs.end());
            CHECK(*later == in);
        }
        inputs = settled->inputs;
        periods.push_back(settled->statements);
    }
    CHECK(inputs.size() == completed.size());

    const auto differences = reconcile(report_options().settlement, inputs, periods);
    REQUIRE(differences.has_value());
    for (const auto& d : *differences) {
        FAIL_CHECK(d.field << ": " << d.message);
    }

    // Payouts plus platform income are what the completed orders' payments
    // captured less what they refunded, read from the payments alone.
    money settled_total = cny("0");
    for (const auto& p : periods) {
        stats.statements += p.statements.size();
        for (const auto& s : p.statements) {
            settled_total = settled_total.plus(s.payout).value().plus(s.platform_income).value();
            stats.clawbacks += s.clawbacks.size();
        }
    }
    money paid_total = cny("0");
    std::size_t refunds_in_inputs = 0;
    for (const order_id id : completed) {
        for (const auto& p : f.load(id).payments) {
            paid_total = paid_total.plus(p.captured).value().minus(p.refunded).value();
        }
    }
    for (const auto& in : inputs) {
        refunds_in_inputs += in.refunds.size();
    }
    CHECK_MESSAGE(settled_total == paid_total,
                  settled_total.to_string() << " settled, " << paid_total.to_string() << " paid");
    CHECK(refunds_in_inputs == stats.refunds + stats.logistics_refunds);
    CHECK(stats.statements > 0);
    return stats;
}

}  // namespace

TEST_CASE("statements settled through the engine reconcile with the payments, to the cent") {
    run_stats all;
    for (const std::uint64_t seed : {11U, 2026U, 90210U}) {
        CAPTURE(seed);
        const run_stats one = settle_random_orders(seed);
        all.statements += one.statements;
        all.refunds += one.refunds;
        all.logistics_refunds += one.logistics_refunds;
        all.clawbacks += one.clawbacks;
    }
    CHECK(all.statements > 0);
    CHECK(all.refunds > 0);
    CHECK(all.logistics_refunds >= 3);
    CHECK(all.clawbacks > 0);
}

TEST_CASE("an order placed without a merchant is settled to the merchant of its goods") {
    for (const bool mixed : {false, true}) {
        CAPTURE(mixed);
        reports_fixture f;
        const timestamp from = f.clock.now();
        const order_id id = mixed ? f.place("", {{"tea", 1}, {"car", 1}})   // m-1 and m-2
                                  : f.place("", {{"tea", 2}, {"mug", 1}});  // both m-1
        CHECK(f.load(id).merchant.empty());
        f.pay(id);
        (void)f.deliver(id);
        f.complete(id);
        const settlement_period period{from, f.clock.now() + std::chrono::days(8)};
        auto run = f.engine->settle_period(admin, period);
        if (mixed) {
            // Goods of two merchants cannot be paid to one: refused, naming the field.
            refused(run, errc::missing_value, "merchant");
            continue;
        }
        REQUIRE_MESSAGE(run.has_value(), (run ? "" : to_string(run.error())));
        REQUIRE(run->statements.statements.size() == 1);
        const statement& st = run->statements.statements.front();
        CHECK(st.merchant == merchant_id("m-1"));
        REQUIRE(st.orders.size() == 1);
        CHECK(st.orders.front().order == id);
        CHECK(reconcile(report_options().settlement, run->inputs,
                        std::vector<period_settlement>{run->statements})
                  .value()
                  .empty());
    }
}

TEST_CASE("cases are read most urgent first, and the library finds resolved ones") {
    reports_fixture f;
    auto open = [&](case_priority priority, std::string title) {
        open_case_request r;
        r.type = case_type::other;
        r.priority = priority;
        r.title = std::move(title);
        auto c = f.engine->open_case(f.as(admin), r);
        REQUIRE_MESSAGE(c.has_value(), (c ? "" : to_string(c.error())));
        f.clock.advance(std::chrono::minutes(1));
        return c->id;
    };
    const case_id low = open(case_priority::low, "a label printer jams");
    const case_id urgent = open(case_priority::urgent, "the dock floods");
    const case_id high = open(case_priority::high, "a picker is missing");
    const case_id high_later = open(case_priority::high, "scanner offline");

    auto listed = f.engine->open_cases(agent);
    REQUIRE(listed.has_value());
    std::vector<case_id> ids;
    for (const auto& c : *listed) {
        ids.push_back(c.id);
    }
    CHECK(ids == std::vector<case_id>{urgent, high, high_later, low});
    CHECK(f.engine->open_cases(agent, 2).value().size() == 2);
    CHECK(f.engine->get_case(accountant, high).value().title == "a picker is missing");
    refused(f.engine->get_case(agent, case_id{987654321}), errc::not_found, "case_id");
    refused(f.engine->get_case(agent, case_id{}), errc::missing_value, "case_id");

    REQUIRE(
        f.engine->resolve_case(f.as(admin), urgent, "pumped the water out", "pumped").has_value());
    CHECK(f.engine->open_cases(agent).value().size() == 3);
    case_query q;
    q.text = "dock";
    const auto found = f.engine->search_cases(agent, q);
    REQUIRE(found.has_value());
    REQUIRE(found->total == 1);
    CHECK(found->cases[0].id == urgent);
    REQUIRE(found->by_code.size() == 1);
    CHECK(found->by_code[0].code == "pumped");
    q.limit = 0;
    refused(f.engine->search_cases(agent, q), errc::invalid_value, "limit");
}

TEST_CASE("only operations roles read the board, cases and statements, and only some archive") {
    reports_fixture f;
    const settlement_period period{day(0), day(7)};
    for (const actor& who : {alice, packer}) {
        CAPTURE(who.id);
        refused(f.engine->status_board_of(who, day(0), day(1)), errc::forbidden, "actor.role");
        refused(f.engine->settle_period(who, period), errc::forbidden, "actor.role");
        refused(f.engine->open_cases(who), errc::forbidden, "actor.role");
        refused(f.engine->search_cases(who, case_query{}), errc::forbidden, "actor.role");
        refused(f.engine->get_case(who, case_id{1}), errc::forbidden, "actor.role");
    }
    refused(f.engine->archive_orders(f.as(alice)), errc::forbidden, "actor.role");
    refused(f.engine->archive_orders(f.as(accountant)), errc::forbidden, "actor.role");
    CHECK(f.engine->archive_orders(f.as(gateway)).has_value());  // the system role may
    CHECK(f.engine->status_board_of(agent, day(0), day(1)).has_value());
    CHECK(f.engine->settle_period(accountant, period).has_value());

    // Empty periods are refused.
    refused(f.engine->status_board_of(admin, day(1), day(1)), errc::invalid_value, "to");
    refused(f.engine->settle_period(admin, settlement_period{day(1), day(0)}), errc::invalid_value,
            "period.to");
}
