// Authorization that cannot be bypassed (issue 15, must have 7): every public
// engine method, run by every role under default_access_policy.
//
// One row per method names the access `command` the engine checks it as and
// a set-up in which an actor holding that permission succeeds. Each cell of
// rows x actors calls the method once in that world, and checks:
// - an actor the policy allows (a customer only on their own order) is not
//   refused, and its call does what it should (a command changes the store,
//   a read changes nothing);
// - an actor the policy refuses gets errc::forbidden naming "actor.role" or
//   "actor.id" (errc::unknown_role for a role the policy does not know), and
//   the store reads exactly as before: orders, shipments, tickets, cases and
//   transfers with their versions, every stock row, the catalogue, each
//   order's timeline and outbox, the archive, and the idempotency record
//   under the key the call used.
// Each allowed actor's call runs in a world set up for it alone; refused
// actors share one, set up again whenever a refusal changed it.
// Customers play twice: the customer whose order it is, and another one.
// A second table checks the same refusals when the refused actor repeats the
// idempotency key of an allowed actor's successful call, since a replayed
// result is a way past a check that runs after the replay. A last test fails
// when an access command or a public engine method (read from engine.hpp) has
// no row, so a new command needs one.
//
// Runs on memory_store and, with ORDERLY_TEST_STORE=sqlite, on SqliteStore.

#include "fulfil_fixture.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace orderly;
using namespace orderly::test;

const actor agent{"cs-1", role::customer_service};

// --- the world ----------------------------------------------------------------------

settings world_settings() {
    settings s;
    s.after_sales.agents = {"cs-1"};
    s.after_sales.auto_approve_below = {cny("100.00")};
    s.settlement.service_fees = {cny("1.50")};  // settle_period needs one per currency
    return s;
}

// The SKUs a world holds, and the one the put_sku row adds: the snapshot
// reads each of them back.
constexpr std::array<std::string_view, 5> known_skus = {"tea", "cup", "tea-l", "knife", "new-sku"};

// A fulfilment engine with stock in both warehouses, and the ids a set-up
// made. "tea-l" (the exchange's replacement) is only in Beijing; "knife" is
// restricted, so an order of it waits for manual review.
struct world : fulfil_fixture {
    world() : fulfil_fixture(world_settings()) {
        stock("tea", 20, 5);
        stock("cup", 10, 0);
        stock("tea-l", 0, 3);
        stock("knife", 5, 0, sku_traits{.restricted = true});
    }

    order_id order{};
    order_id second_order{};
    shipment_id parcel{};
    shipment_id second_parcel{};
    ticket_id claim{};
    transfer_id transfer{};
    case_id case_ref{};
};

// A set-up step or a store read that failed: the row cannot be judged. It is
// thrown rather than REQUIREd so that the other rows still run.
struct step_failed {
    std::string what;
};

void ensure(bool holds, std::string_view what) {
    if (!holds) {
        throw step_failed{std::string(what)};
    }
}

// The value of a set-up step or a store read, which must succeed.
template <class T>
T must(result<T> r, std::string_view step) {
    if (!r) {
        throw step_failed{fmt::format("{} failed: {}", step, to_string(r.error()))};
    }
    if constexpr (!std::is_void_v<T>) {
        return std::move(*r);
    }
}

shipment parcel_of(world& w, shipment_id id) {
    return must(w.engine->get_shipment(admin, id), "get_shipment");
}

ticket_state state_of(world& w, ticket_id id) {
    return must(w.engine->get_ticket(admin, id), "get_ticket").state;
}

// --- set-ups: each brings the world to where its rows succeed -----------------------

using stage = void (*)(world&);

void stocked_only(world&) {}

void placed(world& w) {
    w.order = must(w.engine->place_order(w.as(admin), w.request(2)), "place_order").order;
}

void in_review(world& w) {
    const auto placed =
        must(w.engine->place_order(w.as(admin), w.request(1, "knife")), "place_order (knife)");
    ensure(placed.state == order_state::pending_review, "the knife order waits for review");
    w.order = placed.order;
}

void held(world& w) {
    placed(w);
    must(w.engine->hold_order(w.as(admin), w.order, "address check"), "hold_order");
}

void paid(world& w) {
    w.order = w.paid_order({{"tea", 2}});
}

void allocated(world& w) {
    paid(w);
    must(w.engine->allocate_order(w.as(keeper), w.order), "allocate_order");
}

void packed_whole(world& w) {
    allocated(w);
    must(w.engine->pack_order(w.as(keeper), w.order), "pack_order");
}

void shipped_whole(world& w) {
    packed_whole(w);
    must(
        w.engine->ship_order(w.as(keeper), shipment_request{w.order, carrier_id("sf"), "SF100001"}),
        "ship_order");
}

void delivered_whole(world& w) {
    shipped_whole(w);
    must(w.engine->deliver_order(w.as(gateway), w.order), "deliver_order");
}

void completed(world& w) {
    delivered_whole(w);
    must(w.engine->confirm_receipt(w.as(alice), w.order), "confirm_receipt");
}

void planned(world& w) {
    paid(w);
    const auto parcels = w.plan(w.order);
    ensure(parcels.size() == 1, "the order ships in one parcel");
    w.parcel = parcels.front().id;
}

// Two planned parcels of one customer to one address from one warehouse:
// what merge_shipments takes.
void two_planned(world& w) {
    planned(w);
    w.second_order = w.paid_order({{"tea", 1}});
    const auto parcels = w.plan(w.second_order);
    ensure(parcels.size() == 1, "the order ships in one parcel");
    w.second_parcel = parcels.front().id;
}

void scanned(world& w) {
    planned(w);
    for (const auto& l : parcel_of(w, w.parcel).lines) {
        must(w.engine->scan_for_packing(w.as(keeper), pack_scan_request{w.parcel, l.sku, l.units}),
             "scan_for_packing");
    }
}

void packed_parcel(world& w) {
    planned(w);
    w.pack(parcel_of(w, w.parcel));
}

void shipped_parcel(world& w) {
    packed_parcel(w);
    w.ship(parcel_of(w, w.parcel));
}

void lost_parcel(world& w) {
    shipped_parcel(w);
    must(w.engine->report_logistics_exception(
             w.as(keeper), logistics_exception_report{w.parcel, logistics_exception_kind::lost,
                                                      "the carrier cannot find it"}),
         "report_logistics_exception");
}

ticket_id open_claim(world& w, ticket_type type, ticket_reason reason, sku_id replacement) {
    open_ticket_request r;
    r.order = w.order;
    r.type = type;
    r.reason = reason;
    r.description = "as the test says";
    r.lines = {ticket_line_request{0, units(1), std::move(replacement)}};
    const auto opened = must(w.engine->open_ticket(w.as(alice), r), "open_ticket");
    ensure(opened.ticket.has_value(), "open_ticket names its ticket");
    return *opened.ticket;
}

void ticket_in_review(world& w) {
    delivered_whole(w);
    w.claim = open_claim(w, ticket_type::return_and_refund, ticket_reason::changed_mind, {});
    ensure(state_of(w, w.claim) == ticket_state::under_review, "the ticket is under review");
}

void ticket_awaiting_return(world& w) {
    ticket_in_review(w);
    must(w.engine->decide_ticket(w.as(agent), ticket_decision{w.claim, true, "ok"}),
         "decide_ticket");
    ensure(state_of(w, w.claim) == ticket_state::awaiting_return, "the ticket awaits the goods");
}

void send_back(world& w) {
    must(w.engine->record_return_shipment(
             w.as(alice), return_shipment_request{w.claim, carrier_id("yto"), "YT7000001"}),
         "record_return_shipment");
}

void ticket_parcel_sent(world& w) {
    ticket_awaiting_return(w);
    send_back(w);
}

void ticket_goods_received(world& w) {
    ticket_parcel_sent(w);
    must(w.engine->receive_return(w.as(keeper), w.claim), "receive_return");
}

// A delivered order's claim of one unit, approved, sent back, received and
// inspected sellable.
void inspected(world& w, ticket_type type, ticket_reason reason, sku_id replacement) {
    delivered_whole(w);
    w.claim = open_claim(w, type, reason, std::move(replacement));
    if (state_of(w, w.claim) == ticket_state::under_review) {
        must(w.engine->decide_ticket(w.as(agent), ticket_decision{w.claim, true, "ok"}),
             "decide_ticket");
    }
    send_back(w);
    must(w.engine->receive_return(w.as(keeper), w.claim), "receive_return");
    must(w.engine->inspect_return(
             w.as(keeper),
             inspection_request{
                 w.claim,
                 {inspection_line{.line = 0, .sellable = units(1), .damaged = units(0)}},
                 "as new"}),
         "inspect_return");
    ensure(state_of(w, w.claim) == ticket_state::inspected, "the ticket is inspected");
}

void exchange_inspected(world& w) {
    inspected(w, ticket_type::exchange, ticket_reason::size, sku_id("tea-l"));
}

void repair_inspected(world& w) {
    inspected(w, ticket_type::repair, ticket_reason::quality, {});
}

void at_repair(world& w) {
    repair_inspected(w);
    must(w.engine->send_to_repair(w.as(agent), w.claim, "to the workshop"), "send_to_repair");
}

void replacement_shipped(world& w) {
    exchange_inspected(w);
    must(w.engine->ship_replacement(w.as(agent), w.claim), "ship_replacement");
}

// The exchange's replacement went through the warehouse and arrived: what a
// ticket waits for before it closes.
void replacement_delivered(world& w) {
    replacement_shipped(w);
    const ticket t = must(w.engine->get_ticket(admin, w.claim), "get_ticket");
    ensure(t.replacement.has_value(), "ship_replacement names its parcel");
    w.pack(parcel_of(w, *t.replacement));
    w.ship(parcel_of(w, *t.replacement));
    for (const tracking_event kind : {tracking_event::picked_up, tracking_event::delivered}) {
        w.clock.advance(std::chrono::minutes(10));
        carrier_event e;
        e.id = fmt::format("replacement-{}", static_cast<int>(kind));
        e.kind = kind;
        e.occurred_at = w.clock.now();
        must(
            w.engine->record_carrier_event(w.as(gateway), carrier_event_request{*t.replacement, e}),
            "record_carrier_event");
    }
}

void transfer_in_transit(world& w) {
    w.transfer =
        must(w.engine->dispatch_transfer(
                 w.as(keeper), transfer_request{sku_id("tea"), warehouse_id("wh-hz"),
                                                warehouse_id("wh-bj"), units(2), "rebalance"}),
             "dispatch_transfer")
            .id;
}

open_case_request case_request() {
    return open_case_request{.type = case_type::other,
                             .priority = case_priority::normal,
                             .title = "Scales at packing station 2 read high"};
}

void case_open(world& w) {
    w.case_ref = must(w.engine->open_case(w.as(admin), case_request()), "open_case").id;
}

void case_resolved(world& w) {
    case_open(w);
    must(w.engine->resolve_case(w.as(admin), w.case_ref, "recalibrated", "recalibrated"),
         "resolve_case");
}

// A cancelled order past operations.archive_after (90 days by default).
void archivable(world& w) {
    placed(w);
    must(w.engine->cancel_order(w.as(admin), w.order, "duplicate"), "cancel_order");
    w.clock.advance(std::chrono::days(91));
}

// --- what the store shows ---------------------------------------------------------------

// Everything a command could change, as the store's own reads show it, one
// fact a line; sorted, so two snapshots compare and differ line by line.
using snapshot = std::vector<std::string>;

void add_orders(world& w, snapshot& out) {
    for (const order_state state : all_order_states) {
        for (const order_id id :
             must(w.store.orders_in_state(state, order_id{}, 10'000), "orders_in_state")) {
            const auto o = must(w.store.load_order(id), "load_order");
            ensure(o.has_value(), "a listed id loads");
            out.push_back(fmt::format("order {} v{} {} tickets {} shipments {}", id, o->version,
                                      o->state, o->tickets.size(), o->shipments.size()));
            out.push_back(fmt::format("order {} timeline entries {}", id,
                                      must(w.store.timeline(id), "timeline").size()));
            for (const auto& e : must(w.store.outbox_of(id), "outbox_of")) {
                out.push_back(fmt::format("order {} outbox {} {} delivered {} attempts {}", id,
                                          e.notification.id, e.notification.kind, e.delivered,
                                          e.attempts));
            }
        }
    }
    for (const order_id id : must(w.store.archived_orders(order_id{}, 10'000), "archived_orders")) {
        out.push_back(fmt::format("archived order {}", id));
    }
}

void add_aggregates(world& w, snapshot& out) {
    for (const shipment_state state : all_shipment_states) {
        for (const shipment_id id :
             must(w.store.shipments_in_state(state, shipment_id{}, 10'000), "shipments_in_state")) {
            const auto s = must(w.store.load_shipment(id), "load_shipment");
            ensure(s.has_value(), "a listed id loads");
            out.push_back(fmt::format("shipment {} v{} {}", id, s->version, s->state));
        }
    }
    for (const ticket_state state : all_ticket_states) {
        for (const ticket_id id :
             must(w.store.tickets_in_state(state, ticket_id{}, 10'000), "tickets_in_state")) {
            const auto t = must(w.store.load_ticket(id), "load_ticket");
            ensure(t.has_value(), "a listed id loads");
            out.push_back(fmt::format("ticket {} v{} {}", id, t->version, t->state));
        }
    }
    for (const case_state state : all_case_states) {
        for (const case_id id :
             must(w.store.cases_in_state(state, case_id{}, 10'000), "cases_in_state")) {
            const auto c = must(w.store.load_case(id), "load_case");
            ensure(c.has_value(), "a listed id loads");
            out.push_back(
                fmt::format("case {} v{} {} notes {}", id, c->version, c->state, c->notes.size()));
        }
    }
    for (const transfer_state state : all_transfer_states) {
        for (const transfer_id id :
             must(w.store.transfers_in_state(state, transfer_id{}, 10'000), "transfers_in_state")) {
            const auto t = must(w.store.load_transfer(id), "load_transfer");
            ensure(t.has_value(), "a listed id loads");
            out.push_back(fmt::format("transfer {} v{} {}", id, t->version, t->state));
        }
    }
}

void add_stock(world& w, snapshot& out) {
    for (const auto& s : must(w.store.all_stock(), "all_stock")) {
        out.push_back(fmt::format(
            "stock {} at {}: on hand {}, reserved {}, safety {}, in transit {}, damaged {}, "
            "alerted {}",
            s.sku, s.warehouse, s.on_hand.units(), s.reserved.units(), s.safety.units(),
            s.in_transit.units(), s.damaged.units(), s.low_stock_alerted));
    }
    for (const std::string_view code : known_skus) {
        const auto entry = must(w.store.load_sku(sku_id(std::string(code))), "load_sku");
        if (entry) {
            out.push_back(fmt::format("sku {} {} {} {}", entry->id, entry->name, entry->price,
                                      entry->status));
        }
    }
}

// The idempotency record under `key`, in every command's scope: a refused
// command must not have stored one under any of them.
void add_idempotency(world& w, const std::string& key, snapshot& out) {
    auto tx = must(w.store.begin(), "begin");
    for (const command c : all_commands) {
        const std::string scoped = fmt::format("{}/{}", c, key);
        if (const auto found = must(tx->find_idempotency(scoped), "find_idempotency")) {
            out.push_back(fmt::format("idempotency {} fingerprint {}", scoped, found->fingerprint));
        }
    }
}

snapshot take_snapshot(world& w, const std::string& key) {
    snapshot out;
    add_orders(w, out);
    add_aggregates(w, out);
    add_stock(w, out);
    add_idempotency(w, key, out);
    out.push_back(fmt::format("undelivered notifications {}",
                              must(w.store.undelivered_count(), "undelivered_count")));
    out.push_back(fmt::format("notifications sent {}", w.notifier.received().size()));
    std::sort(out.begin(), out.end());
    return out;
}

// What one snapshot has that the other has not, both ways, for a message.
std::string difference(const snapshot& before, const snapshot& after) {
    std::vector<std::string> gone;
    std::vector<std::string> came;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(gone));
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(came));
    return fmt::format("only before: [{}]; only after: [{}]", fmt::join(gone, "; "),
                       fmt::join(came, "; "));
}

// --- the rows ---------------------------------------------------------------------------

// What a call came to: nothing, or the error it returned.
struct attempt {
    std::optional<error> failure;
};

template <class T>
attempt attempt_of(const result<T>& r) {
    return r ? attempt{} : attempt{r.error()};
}

enum class kind : std::uint8_t {
    command,   // changes the store when it succeeds
    read,      // never changes the store
    no_actor,  // takes no actor: the host's scheduler calls it; it runs as system_actor()
};

struct row {
    std::string_view method;  // the engine method (and which form of it)
    command checked_as;       // the access command the engine asks the policy about
    kind what;
    // True when the policy is given the world's customer (alice) as owner;
    // false when the engine asks with no owner, so no customer may pass.
    bool owned;
    stage setup;
    std::function<attempt(world&, const command_context&)> run;
};

carrier_event picked_up(std::string id) {
    carrier_event e;
    e.id = std::move(id);
    e.kind = tracking_event::picked_up;
    e.occurred_at = start_time() + std::chrono::minutes(30);
    return e;
}

std::vector<row> order_rows() {
    return {
        {"place_order", command::place_order, kind::command, true, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->place_order(ctx, w.request(1)));
         }},
        {"import_orders", command::place_order, kind::command, true, stocked_only,
         [](world& w, const command_context& ctx) {
             // The row's own key is the call's key, so the snapshot sees it.
             const std::array<import_row, 1> rows{import_row{ctx.idempotency_key, w.request(1)}};
             auto results = w.engine->import_orders(ctx, rows);
             ensure(results.size() == 1, "import_orders answers each row");
             return attempt_of(results.front());
         }},
        {"approve_order", command::approve_order, kind::command, true, in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->approve_order(ctx, w.order, "looks fine"));
         }},
        {"reject_order", command::reject_order, kind::command, true, in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->reject_order(ctx, w.order, "fraud pattern"));
         }},
        {"record_payment", command::record_payment, kind::command, true, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->record_payment(
                 ctx, payment_callback{w.order, "txn-authz", payment_method::card,
                                       payment_callback::outcome::captured, cny("25.00"), ""}));
         }},
        {"refund_payment", command::refund_payment, kind::command, true, paid,
         [](world& w, const command_context& ctx) {
             return attempt_of(
                 w.engine->refund_payment(ctx, refund_request{w.order, cny("5.00"), "goodwill"}));
         }},
        {"cancel_order (before shipment)", command::cancel_order, kind::command, true, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->cancel_order(ctx, w.order, "changed my mind"));
         }},
        {"cancel_order (after shipment: opens a return)", command::cancel_order, kind::command,
         true, shipped_whole,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->cancel_order(ctx, w.order, "changed my mind"));
         }},
        {"hold_order", command::hold_order, kind::command, true, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->hold_order(ctx, w.order, "address check"));
         }},
        {"release_order", command::release_order, kind::command, true, held,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->release_order(ctx, w.order, "address fine"));
         }},
    };
}

std::vector<row> whole_order_rows() {
    return {
        {"allocate_order", command::allocate_order, kind::command, true, paid,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->allocate_order(ctx, w.order));
         }},
        {"pack_order", command::pack_order, kind::command, true, allocated,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->pack_order(ctx, w.order));
         }},
        {"ship_order", command::ship_order, kind::command, true, packed_whole,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->ship_order(
                 ctx, shipment_request{w.order, carrier_id("sf"), "SF200002"}));
         }},
        {"deliver_order", command::deliver_order, kind::command, true, shipped_whole,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->deliver_order(ctx, w.order));
         }},
        {"confirm_receipt", command::confirm_receipt, kind::command, true, delivered_whole,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->confirm_receipt(ctx, w.order));
         }},
        {"close_order", command::close_order, kind::command, true, completed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->close_order(ctx, w.order));
         }},
    };
}

std::vector<row> fulfilment_rows() {
    return {
        {"plan_fulfilment", command::plan_fulfilment, kind::command, true, paid,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->plan_fulfilment(ctx, fulfilment_request{w.order, {}, {}}));
         }},
        {"merge_shipments", command::merge_shipments, kind::command, true, two_planned,
         [](world& w, const command_context& ctx) {
             const std::array<shipment_id, 2> parcels{w.parcel, w.second_parcel};
             return attempt_of(w.engine->merge_shipments(ctx, parcels));
         }},
        {"plan_pick_waves", command::plan_pick_waves, kind::command, true, planned,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->plan_pick_waves(ctx, warehouse_id("wh-hz")));
         }},
        {"scan_for_packing", command::pack_shipment, kind::command, true, planned,
         [](world& w, const command_context& ctx) {
             const shipment s = parcel_of(w, w.parcel);
             return attempt_of(w.engine->scan_for_packing(
                 ctx, pack_scan_request{s.id, s.lines.front().sku, s.lines.front().units}));
         }},
        {"finish_packing", command::pack_shipment, kind::command, true, scanned,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->finish_packing(ctx, w.parcel));
         }},
        {"ship_shipment", command::ship_shipment, kind::command, true, packed_parcel,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->ship_shipment(ctx, w.parcel));
         }},
        {"record_carrier_event", command::record_carrier_event, kind::command, true, shipped_parcel,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->record_carrier_event(
                 ctx, carrier_event_request{w.parcel, picked_up("ev-authz")}));
         }},
        {"report_logistics_exception", command::report_logistics_exception, kind::command, true,
         shipped_parcel,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->report_logistics_exception(
                 ctx, logistics_exception_report{w.parcel, logistics_exception_kind::lost,
                                                 "the customer says it never came"}));
         }},
        {"resolve_logistics_exception", command::resolve_logistics_exception, kind::command, true,
         lost_parcel,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->resolve_logistics_exception(
                 ctx, logistics_resolution{.shipment = w.parcel,
                                           .exception = 0,
                                           .remedy = logistics_remedy::refund,
                                           .note = "refunded"}));
         }},
    };
}

std::vector<row> ticket_rows() {
    return {
        {"open_ticket", command::open_ticket, kind::command, true, delivered_whole,
         [](world& w, const command_context& ctx) {
             open_ticket_request r;
             r.order = w.order;
             r.type = ticket_type::return_and_refund;
             r.reason = ticket_reason::changed_mind;
             r.lines = {ticket_line_request{0, units(1), {}}};
             return attempt_of(w.engine->open_ticket(ctx, r));
         }},
        {"assign_ticket", command::review_ticket, kind::command, true, ticket_in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->assign_ticket(ctx, w.claim, "cs-2"));
         }},
        {"decide_ticket", command::review_ticket, kind::command, true, ticket_in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->decide_ticket(ctx, ticket_decision{w.claim, true, "ok"}));
         }},
        {"withdraw_ticket", command::withdraw_ticket, kind::command, true, ticket_in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->withdraw_ticket(ctx, w.claim, "kept it"));
         }},
        {"record_return_shipment", command::return_goods, kind::command, true,
         ticket_awaiting_return,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->record_return_shipment(
                 ctx, return_shipment_request{w.claim, carrier_id("yto"), "YT7000009"}));
         }},
        {"record_return_event", command::return_goods, kind::command, true, ticket_parcel_sent,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->record_return_event(
                 ctx, return_event_request{w.claim, picked_up("rev-authz")}));
         }},
        {"receive_return", command::inspect_return, kind::command, true, ticket_parcel_sent,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->receive_return(ctx, w.claim));
         }},
        {"inspect_return", command::inspect_return, kind::command, true, ticket_goods_received,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->inspect_return(
                 ctx, inspection_request{
                          w.claim,
                          {inspection_line{.line = 0, .sellable = units(1), .damaged = units(0)}},
                          "as new"}));
         }},
        {"close_ticket", command::close_ticket, kind::command, true, replacement_delivered,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->close_ticket(ctx, w.claim, "fits"));
         }},
        {"rate_order", command::rate_order, kind::command, true, completed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->rate_order(ctx, rating_request{w.order, 5, "quick"}));
         }},
    };
}

std::vector<row> ticket_resolution_rows() {
    return {
        {"refund_ticket", command::resolve_ticket, kind::command, true, exchange_inspected,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->refund_ticket(ctx, w.claim, "out of stock"));
         }},
        {"ship_replacement", command::resolve_ticket, kind::command, true, exchange_inspected,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->ship_replacement(ctx, w.claim));
         }},
        {"send_to_repair", command::resolve_ticket, kind::command, true, repair_inspected,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->send_to_repair(ctx, w.claim, "to the workshop"));
         }},
        {"ship_repaired", command::resolve_ticket, kind::command, true, at_repair,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->ship_repaired(
                 ctx, repair_return_request{w.claim, carrier_id("sf"), "SF300003"}));
         }},
        {"record_repair_failure", command::resolve_ticket, kind::command, true, at_repair,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->record_repair_failure(ctx, w.claim, "cannot be mended"));
         }},
    };
}

std::vector<row> stock_rows() {
    return {
        {"put_sku", command::put_sku, kind::command, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->put_sku(ctx, catalogue_entry("new-sku", "9.90")));
         }},
        {"receive_stock", command::receive_stock, kind::command, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->receive_stock(
                 ctx, stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), units(5)}));
         }},
        {"set_safety_stock", command::set_safety_stock, kind::command, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->set_safety_stock(
                 ctx, safety_stock_setting{sku_id("tea"), warehouse_id("wh-hz"), units(1)}));
         }},
        {"dispatch_transfer", command::transfer_stock, kind::command, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->dispatch_transfer(
                 ctx, transfer_request{sku_id("tea"), warehouse_id("wh-hz"), warehouse_id("wh-bj"),
                                       units(2), "rebalance"}));
         }},
        {"receive_transfer", command::transfer_stock, kind::command, false, transfer_in_transit,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->receive_transfer(ctx, w.transfer));
         }},
        {"cancel_transfer", command::transfer_stock, kind::command, false, transfer_in_transit,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->cancel_transfer(ctx, w.transfer, "not needed after all"));
         }},
    };
}

std::vector<row> operations_rows() {
    return {
        {"open_case", command::open_case, kind::command, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->open_case(ctx, case_request()));
         }},
        {"acknowledge_case", command::work_case, kind::command, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->acknowledge_case(ctx, w.case_ref, ""));
         }},
        {"assign_case", command::work_case, kind::command, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->assign_case(ctx, w.case_ref, "ops-2"));
         }},
        {"start_case_work", command::work_case, kind::command, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->start_case_work(ctx, w.case_ref));
         }},
        {"add_case_note", command::work_case, kind::command, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->add_case_note(ctx, w.case_ref, "called the vendor"));
         }},
        {"resolve_case", command::work_case, kind::command, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(
                 w.engine->resolve_case(ctx, w.case_ref, "recalibrated", "recalibrated"));
         }},
        {"close_case", command::work_case, kind::command, false, case_resolved,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->close_case(ctx, w.case_ref));
         }},
        {"archive_orders", command::archive_orders, kind::command, false, archivable,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->archive_orders(ctx));
         }},
        // Due work takes no actor: it runs as system_actor(), so it is
        // checked as run_due_work for the system role, whatever the caller.
        {"run_due_work", command::run_due_work, kind::no_actor, false, placed,
         [](world& w, const command_context&) { return attempt_of(w.engine->run_due_work()); }},
        {"dispatch_notifications", command::run_due_work, kind::no_actor, false, placed,
         [](world& w, const command_context&) {
             return attempt_of(w.engine->dispatch_notifications());
         }},
    };
}

timestamp day_before() {
    return start_time() - std::chrono::days(1);
}
timestamp month_after() {
    return start_time() + std::chrono::days(30);
}

std::vector<row> order_read_rows() {
    return {
        {"get_order", command::view_order, kind::read, true, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->get_order(ctx.actor, w.order));
         }},
        {"timeline", command::view_order, kind::read, true, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->timeline(ctx.actor, w.order));
         }},
        {"fulfilment", command::view_order, kind::read, true, planned,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->fulfilment(ctx.actor, w.order));
         }},
        {"get_shipment", command::view_order, kind::read, true, planned,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->get_shipment(ctx.actor, w.parcel));
         }},
        {"packaging_for", command::view_order, kind::read, true, planned,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->packaging_for(ctx.actor, w.parcel));
         }},
        {"get_ticket", command::view_order, kind::read, true, ticket_in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->get_ticket(ctx.actor, w.claim));
         }},
        {"tickets_of", command::view_order, kind::read, true, ticket_in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->tickets_of(ctx.actor, w.order));
         }},
        {"review_queue", command::view_review_queue, kind::read, false, in_review,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->review_queue(ctx.actor, 10));
         }},
        {"carrier_kpis", command::view_review_queue, kind::read, false, shipped_parcel,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->carrier_kpis(ctx.actor, day_before(), month_after()));
         }},
    };
}

std::vector<row> other_read_rows() {
    return {
        {"get_transfer", command::transfer_stock, kind::read, false, transfer_in_transit,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->get_transfer(ctx.actor, w.transfer));
         }},
        {"turnover", command::transfer_stock, kind::read, false, stocked_only,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->turnover(ctx.actor, sku_id("tea"), warehouse_id("wh-hz"),
                                                  day_before(), month_after()));
         }},
        {"propose_transfers", command::transfer_stock, kind::read, false, paid,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->propose_transfers(ctx.actor));
         }},
        {"get_case", command::view_operations, kind::read, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->get_case(ctx.actor, w.case_ref));
         }},
        {"open_cases", command::view_operations, kind::read, false, case_open,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->open_cases(ctx.actor));
         }},
        {"search_cases", command::view_operations, kind::read, false, case_resolved,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->search_cases(ctx.actor, case_query{}));
         }},
        {"status_board_of", command::view_operations, kind::read, false, placed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->status_board_of(ctx.actor, day_before(), month_after()));
         }},
        {"settle_period", command::view_operations, kind::read, false, completed,
         [](world& w, const command_context& ctx) {
             return attempt_of(w.engine->settle_period(
                 ctx.actor, settlement_period{day_before(), month_after()}));
         }},
    };
}

std::vector<row> rows() {
    std::vector<row> out;
    for (auto part : {order_rows(), whole_order_rows(), fulfilment_rows(), ticket_rows(),
                      ticket_resolution_rows(), stock_rows(), operations_rows(), order_read_rows(),
                      other_read_rows()}) {
        std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
}

// --- the actors -----------------------------------------------------------------------------

struct player {
    actor who;
    bool owns_the_order{false};  // the world's order is theirs (alice)
    std::string_view label;
};

// Every role once, the customer twice; then a role value the policy does not
// know, which it refuses with errc::unknown_role.
std::vector<player> cast() {
    std::vector<player> out;
    for (const role r : all_roles) {
        if (r == role::customer) {
            out.push_back(player{alice, true, "the order's own customer"});
            out.push_back(player{actor{"bob", role::customer}, false, "another customer"});
        } else {
            out.push_back(player{actor{fmt::format("{}-1", r), r}, false, ""});
        }
    }
    out.push_back(player{actor{"ghost", static_cast<role>(99)}, false, "a role the policy lacks"});
    return out;
}

bool known(role r) {
    return std::find(all_roles.begin(), all_roles.end(), r) != all_roles.end();
}

// What default_access_policy says: the role's table, and for a customer the
// ownership of the order the engine asks about.
bool may(const player& p, const row& r) {
    if (!known(p.who.role) || !default_access_policy::allows(p.who.role, r.checked_as)) {
        return false;
    }
    return p.who.role != role::customer || (r.owned && p.owns_the_order);
}

std::string describe(const player& p) {
    return p.label.empty() ? fmt::format("{}", p.who) : fmt::format("{}, {}", p.who, p.label);
}

bool names_actor(std::string_view field) {
    for (const std::string_view tail : {"actor.role", "actor.id"}) {
        if (field == tail || (field.size() > tail.size() && field.ends_with(tail) &&
                              field[field.size() - tail.size() - 1] == '.')) {
            return true;
        }
    }
    return false;
}

// --- the checks -----------------------------------------------------------------------------

// A refused call: the right refusal, and the store as it was.
void expect_refused(std::string_view where, const player& p, const attempt& got,
                    const snapshot& before, const snapshot& after) {
    const errc expected = known(p.who.role) ? errc::forbidden : errc::unknown_role;
    if (!got.failure) {
        FAIL_CHECK(
            fmt::format("{}: default_access_policy refuses it, yet the call succeeded", where));
    } else {
        CHECK_MESSAGE((got.failure->code == expected && names_actor(got.failure->field)),
                      fmt::format("{}: refused with {} instead of {} on the actor", where,
                                  to_string(*got.failure), expected));
    }
    CHECK_MESSAGE(before == after, fmt::format("{}: a refused call changed the store: {}", where,
                                               difference(before, after)));
}

// An allowed call: not refused, and it did what a call of its kind does.
void expect_allowed(std::string_view where, const row& r, const attempt& got,
                    const snapshot& before, const snapshot& after) {
    if (got.failure) {
        const bool refused =
            got.failure->code == errc::forbidden || got.failure->code == errc::unknown_role;
        FAIL_CHECK(fmt::format("{}: default_access_policy allows it, yet it was {}: {}", where,
                               refused ? "refused" : "not done", to_string(*got.failure)));
        return;
    }
    if (r.what == kind::read) {
        CHECK_MESSAGE(before == after, fmt::format("{}: a read changed the store: {}", where,
                                                   difference(before, after)));
    } else {
        // A success the snapshot cannot see would make "a refusal changed
        // nothing" prove nothing for this command.
        CHECK_MESSAGE(before != after,
                      fmt::format("{}: succeeded, yet the snapshot shows no change", where));
    }
}

// One call as one actor in `w`; returns whether the store reads as before.
bool run_cell(const row& r, const player& p, world& w) {
    const std::string key = "authz-1";
    const snapshot before = take_snapshot(w, key);
    const attempt got = r.run(w, command_context{p.who, key});
    const snapshot after = take_snapshot(w, key);
    const std::string where =
        fmt::format("{} (checked as {}) as {}", r.method, r.checked_as, describe(p));
    if (may(p, r)) {
        expect_allowed(where, r, got, before, after);
    } else {
        expect_refused(where, p, got, before, after);
    }
    return before == after;
}

std::unique_ptr<world> set_up(const row& r) {
    auto w = std::make_unique<world>();
    r.setup(*w);
    return w;
}

// Every actor against one row. Each allowed actor gets a world of its own.
// The refused ones share one, since a refusal leaves it as it was set up
// (which each cell checks); it is set up again after a refusal changed it.
void run_row(const row& r) {
    std::unique_ptr<world> shared;
    for (const player& p : cast()) {
        if (may(p, r)) {
            (void)run_cell(r, p, *set_up(r));
            continue;
        }
        if (!shared) {
            shared = set_up(r);
        }
        if (!run_cell(r, p, *shared)) {
            shared.reset();
        }
    }
}

// Due work: the engine runs it as system_actor(), which the policy must let
// run it; it must do its work.
void run_without_actor(const row& r) {
    CHECK(system_actor().role == role::system);
    CHECK_MESSAGE(default_access_policy::allows(system_actor().role, r.checked_as),
                  fmt::format("{} runs as system_actor(), whom the policy refuses", r.method));
    world w;
    r.setup(w);
    const snapshot before = take_snapshot(w, "authz-1");
    const attempt got = r.run(w, command_context{system_actor(), "authz-1"});
    const snapshot after = take_snapshot(w, "authz-1");
    expect_allowed(r.method, r, got, before, after);
}

// The first allowed actor runs the row's call under a key; then every
// refused actor sends the same call under the same key, in the world that
// call left.
void replay_row(const row& r) {
    const auto players = cast();
    const auto first =
        std::find_if(players.begin(), players.end(), [&](const player& p) { return may(p, r); });
    ensure(first != players.end(), "some actor may run it");
    world w;
    r.setup(w);
    const std::string key = "authz-shared";
    const attempt done = r.run(w, command_context{first->who, key});
    ensure(!done.failure, fmt::format("the first call, as {}, failed: {}", describe(*first),
                                      done.failure ? to_string(*done.failure) : ""));
    for (const player& p : players) {
        if (may(p, r)) {
            continue;
        }
        const snapshot before = take_snapshot(w, key);
        const attempt again = r.run(w, command_context{p.who, key});
        const std::string where = fmt::format("{} (checked as {}) as {}, repeating the key {} used",
                                              r.method, r.checked_as, describe(p), first->who);
        expect_refused(where, p, again, before, take_snapshot(w, key));
    }
}

// The names of the public methods engine.hpp declares, read from the header
// so that a method added without a row fails the coverage test.
std::vector<std::string> declared_methods() {
    std::ifstream in(std::filesystem::path(ORDERLY_SOURCE_DIR) /
                     "include/orderly/engine/engine.hpp");
    REQUIRE(in.good());
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto begin = text.find("class engine {");
    REQUIRE(begin != std::string::npos);
    const auto end = text.find("private:", begin);
    REQUIRE(end != std::string::npos);
    std::vector<std::string> out;
    for (auto at = text.find("[[nodiscard]]", begin); at < end;
         at = text.find("[[nodiscard]]", at + 1)) {
        const auto paren = text.find('(', at);
        auto first = paren;
        while (first > at && (std::islower(static_cast<unsigned char>(text[first - 1])) != 0 ||
                              text[first - 1] == '_')) {
            --first;
        }
        out.push_back(text.substr(first, paren - first));
    }
    return out;
}

// A row's method without the form in brackets: "cancel_order".
std::string_view method_name(std::string_view method) {
    return method.substr(0, method.find(' '));
}

}  // namespace

TEST_CASE("every engine method under every role: allowed ones run, refused ones change nothing") {
    for (const row& r : rows()) {
        SUBCASE(std::string(r.method).c_str()) {
            try {
                if (r.what == kind::no_actor) {
                    run_without_actor(r);
                } else {
                    run_row(r);
                }
            } catch (const step_failed& e) {
                FAIL_CHECK(fmt::format("{}: {}", r.method, e.what));
            }
        }
    }
}

TEST_CASE("a refused actor repeating an allowed actor's idempotency key is still refused") {
    for (const row& r : rows()) {
        if (r.what != kind::command) {
            continue;
        }
        SUBCASE(std::string(r.method).c_str()) {
            try {
                replay_row(r);
            } catch (const step_failed& e) {
                FAIL_CHECK(fmt::format("{}: {}", r.method, e.what));
            }
        }
    }
}

TEST_CASE("every access command and every public engine method has a row") {
    std::set<command> covered;
    std::set<std::string_view> methods;
    for (const row& r : rows()) {
        covered.insert(r.checked_as);
        CHECK_MESSAGE(methods.insert(r.method).second, fmt::format("two rows for {}", r.method));
    }
    for (const command c : all_commands) {
        CHECK_MESSAGE(covered.contains(c), fmt::format("no row calls a method checked as {}", c));
    }
    // Creating the engine and opening a group commit are not commands: they
    // take no actor and change nothing on their own.
    const std::set<std::string_view> not_commands{"create", "begin_batch"};
    const auto declared = declared_methods();
    CHECK(std::find(declared.begin(), declared.end(), "place_order") != declared.end());
    std::set<std::string_view> with_rows;
    for (const std::string_view m : methods) {
        with_rows.insert(method_name(m));
        CHECK_MESSAGE(std::find(declared.begin(), declared.end(), method_name(m)) != declared.end(),
                      fmt::format("row {} names no method of engine.hpp", m));
    }
    for (const std::string& m : declared) {
        CHECK_MESSAGE((with_rows.contains(m) || not_commands.contains(m)),
                      fmt::format("engine::{} has no row", m));
    }
}
