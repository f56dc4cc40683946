// Liveness at the end of a run: faults off, the outside world silent (no
// customers, carriers or gateways), staff working every queue they can see,
// and the clock moved past every deadline with due work run until quiet.
// Then every order, parcel, ticket, case and transfer must have reached an
// end, nothing may stay reserved, and every notification must have gone out.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <map>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

// The longest a run waits for the world to settle once it went silent, and
// for anything to happen at all (the longest chain of deadlines is shorter).
constexpr auto settle_limit = std::chrono::days(60);
constexpr auto quiet_limit = std::chrono::days(12);

template <class Id, class State, class Page>
std::vector<Id> all_in(Page page, State state) {
    std::vector<Id> out;
    Id after{};
    for (;;) {
        auto ids = page(state, after, 512);
        if (!ids || ids->empty()) {
            return out;
        }
        out.insert(out.end(), ids->begin(), ids->end());
        if (ids->size() < 512) {
            return out;
        }
        after = ids->back();
    }
}

std::string age(timestamp since, timestamp now) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(now - since).count();
    return fmt::format("{} h", h);
}

// Plans a paid order; when stock is short, receives what it needs at every
// warehouse that ships and plans again; cancels it when that fails too.
void plan_or_cancel(simulation& s, order_id id) {
    const order_info* info = s.known().orders.find(id);
    const call plan = [&s, id](const command_context& ctx) {
        return summary(s.shop().plan_fulfilment(ctx, fulfilment_request{id, {}, {}}));
    };
    call_result r =
        s.issue("plan_fulfilment", actors().keeper, plan, {}, allowed_writes::shortage_case);
    if (r.ok || r.err.code != errc::insufficient_stock || info == nullptr) {
        return;
    }
    for (const auto& l : info->lines) {
        for (const auto& where : network_warehouses()) {
            const stock_receipt receipt{l.sku, where, units(l.units)};
            s.issue("receive_stock", actors().keeper, [&s, receipt](const command_context& ctx) {
                return summary(s.shop().receive_stock(ctx, receipt));
            });
        }
    }
    r = s.issue("plan_fulfilment", actors().keeper, plan, {}, allowed_writes::shortage_case);
    if (!r.ok) {
        s.issue("cancel_order", actors().agent, [&s, id](const command_context& ctx) {
            return summary(s.shop().cancel_order(ctx, id, "cannot be fulfilled"));
        });
    }
}

void whole_order_next(simulation& s, order_id id, order_state state) {
    if (state == order_state::allocating) {
        s.issue("pack_order", actors().keeper, [&s, id](const command_context& ctx) {
            return summary(s.shop().pack_order(ctx, id));
        });
    } else if (state == order_state::packed) {
        const shipment_request r{id, carrier_id("SF"), s.fresh_name("SFW")};
        s.issue("ship_order", actors().keeper, [&s, r](const command_context& ctx) {
            return summary(s.shop().ship_order(ctx, r));
        });
    } else if (state == order_state::shipped) {
        // A whole order has no tracking: with the carrier silent, the
        // warehouse staff confirm the delivery with it by hand.
        s.issue("deliver_order", actors().keeper, [&s, id](const command_context& ctx) {
            return summary(s.shop().deliver_order(ctx, id));
        });
    }
}

// The open aggregates by kind and state ("order shipped"), with up to three
// examples of each.
std::string listing(const std::vector<std::string>& open) {
    std::map<std::string, std::vector<const std::string*>> groups;
    for (const auto& line : open) {
        const auto first = line.find(' ');
        const auto second = line.find(' ', first + 1);
        const auto third = line.find(' ', second + 1);
        groups[line.substr(0, first) + line.substr(second, third - second)].push_back(&line);
    }
    std::string out;
    for (const auto& [group, lines] : groups) {
        out += fmt::format("\n    {} x{}", group, lines.size());
        for (std::size_t i = 0; i < lines.size() && i < 3; ++i) {
            out += fmt::format("\n      {}", *lines[i]);
        }
    }
    return out;
}

}  // namespace

// One pass over every queue the staff can see; true when it issued anything.
bool simulation::staff_round() {
    bool worked = false;
    for (const order_id id : known_.orders.in_state(order_state::pending_review)) {
        worked = review_one(*this, id) || worked;
    }
    for (const order_id id : known_.orders.in_state(order_state::on_hold)) {
        issue("release_order", actors().agent, [this, id](const command_context& ctx) {
            return summary(engine_->release_order(ctx, id, "back to work"));
        });
        worked = true;
    }
    for (const order_id id : known_.orders.in_state(order_state::paid)) {
        plan_or_cancel(*this, id);
        worked = true;
    }
    for (const order_state st :
         {order_state::allocating, order_state::packed, order_state::shipped}) {
        for (const order_id id : known_.orders.in_state(st)) {
            const order_info* info = known_.orders.find(id);
            if (info != nullptr && info->shipments.empty()) {
                whole_order_next(*this, id, st);
                worked = true;
            }
        }
    }
    if (known_.shipments.count(shipment_state::planned) > 0) {
        for (const auto& where : network_warehouses()) {
            issue("plan_pick_waves", actors().keeper, [this, where](const command_context& ctx) {
                return summary(engine_->plan_pick_waves(ctx, where, {}));
            });
        }
        worked = true;
    }
    for (const shipment_id id : known_.shipments.in_state(shipment_state::picking)) {
        worked = pack_and_seal(*this, id) || worked;
    }
    for (const shipment_id id : known_.shipments.in_state(shipment_state::packed)) {
        worked = ship_one(*this, id) || worked;
    }
    for (const ticket_state st :
         {ticket_state::submitted, ticket_state::under_review, ticket_state::approved,
          ticket_state::awaiting_return, ticket_state::goods_received, ticket_state::inspected,
          ticket_state::at_repair, ticket_state::escalated}) {
        for (const ticket_id id : known_.tickets.in_state(st)) {
            worked = work_ticket_one(*this, id) || worked;
        }
    }
    for (const case_state st : unresolved_case_states) {
        for (const case_id id : known_.cases.in_state(st)) {
            worked = work_case_one(*this, id) || worked;
        }
    }
    for (const transfer_id id : known_.transfers.in_state(transfer_state::in_transit)) {
        worked = receive_transfer_one(*this, id) || worked;
    }
    return worked;
}

// Runs due work until a pass does nothing; true when any pass did something.
bool simulation::due_work_until_quiet() {
    bool any = false;
    for (int pass = 0; pass < 50; ++pass) {
        due_work_report report;
        begin_command();
        current_.name = "run_due_work";
        auto r = engine_->run_due_work(1024);
        ++commands_run_["run_due_work"];
        if (!r) {
            violation("due_work_failed",
                      fmt::format("run_due_work without faults failed: {}", to_string(r.error())));
            end_command();
            return any;
        }
        report = *r;
        if (report.failed > 0) {
            const auto& f = report.failures.front();
            violation("due_work_failed",
                      fmt::format("run_due_work without faults reported {} failure(s); first: {} "
                                  "{}: {}",
                                  report.failed, f.what, f.id, to_string(f.why)));
        }
        const bool wrote = !log_.empty();
        end_command();
        if (!wrote && report.delivered == 0) {
            return any;
        }
        any = true;
    }
    return any;
}

// How many aggregates the model knows that have not reached an end.
std::size_t simulation::open_in_model() const {
    std::size_t open = known_.transfers.count(transfer_state::in_transit);
    for (const order_state s : all_order_states) {
        if (s != order_state::closed && s != order_state::cancelled) {
            open += known_.orders.count(s);
        }
    }
    for (const shipment_state s : all_shipment_states) {
        if (s != shipment_state::delivered && s != shipment_state::cancelled &&
            s != shipment_state::resolved) {
            open += known_.shipments.count(s);
        }
    }
    for (const ticket_state s : all_ticket_states) {
        if (!ticket_ended(s)) {
            open += known_.tickets.count(s);
        }
    }
    for (const case_state s : all_case_states) {
        if (s != case_state::closed) {
            open += known_.cases.count(s);
        }
    }
    return open;
}

std::vector<std::string> simulation::still_open() {
    std::vector<std::string> open;
    const timestamp now = clock_.now();
    store& st = store_;
    const auto orders_page = [&st](order_state s, order_id after, std::size_t n) {
        return st.orders_in_state(s, after, n);
    };
    for (const order_state s : all_order_states) {
        if (s == order_state::closed || s == order_state::cancelled) {
            continue;
        }
        for (const order_id id : all_in<order_id>(orders_page, s)) {
            auto o = st.load_order(id);
            const timestamp since = o && *o ? (*o)->updated_at : now;
            open.push_back(fmt::format("order {} {} for {}", id, s, age(since, now)));
        }
    }
    const auto shipments_page = [&st](shipment_state s, shipment_id after, std::size_t n) {
        return st.shipments_in_state(s, after, n);
    };
    for (const shipment_state s : all_shipment_states) {
        if (s == shipment_state::delivered || s == shipment_state::cancelled ||
            s == shipment_state::resolved) {
            continue;
        }
        for (const shipment_id id : all_in<shipment_id>(shipments_page, s)) {
            auto sh = st.load_shipment(id);
            const timestamp since = sh && *sh ? (*sh)->updated_at : now;
            open.push_back(fmt::format("shipment {} {} for {}", id, s, age(since, now)));
        }
    }
    const auto tickets_page = [&st](ticket_state s, ticket_id after, std::size_t n) {
        return st.tickets_in_state(s, after, n);
    };
    for (const ticket_state s : all_ticket_states) {
        if (ticket_ended(s)) {
            continue;
        }
        for (const ticket_id id : all_in<ticket_id>(tickets_page, s)) {
            auto t = st.load_ticket(id);
            const timestamp since = t && *t ? (*t)->updated_at : now;
            open.push_back(fmt::format("ticket {} {}{} for {}", id, s,
                                       s == ticket_state::escalated && t && *t
                                           ? fmt::format(" (from {})", (*t)->escalated_from)
                                           : std::string(),
                                       age(since, now)));
        }
    }
    const auto cases_page = [&st](case_state s, case_id after, std::size_t n) {
        return st.cases_in_state(s, after, n);
    };
    for (const case_state s : all_case_states) {
        if (s == case_state::closed) {
            continue;
        }
        for (const case_id id : all_in<case_id>(cases_page, s)) {
            auto c = st.load_case(id);
            const timestamp since = c && *c ? (*c)->updated_at : now;
            open.push_back(fmt::format("case {} {} ({}) for {}", id, s,
                                       c && *c ? to_string((*c)->type) : "?", age(since, now)));
        }
    }
    const auto transfers_page = [&st](transfer_state s, transfer_id after, std::size_t n) {
        return st.transfers_in_state(s, after, n);
    };
    for (const transfer_id id : all_in<transfer_id>(transfers_page, transfer_state::in_transit)) {
        open.push_back(fmt::format("transfer {} in_transit", id));
    }
    return open;
}

void simulation::liveness() {
    faults_on_ = false;
    store_.set_rates({});
    notifier_.set_failure_rate(0);
    silent_ = true;
    agenda_.clear();
    const timestamp went_silent = clock_.now();
    timestamp last_progress = went_silent;
    std::size_t fewest_open = open_in_model();
    while (fewest_open > 0 && clock_.now() - went_silent < settle_limit &&
           clock_.now() - last_progress < quiet_limit && !stopped_) {
        staff_round();
        clock_.advance(1h);
        high_water_ = std::max(high_water_, clock_.now());
        due_work_until_quiet();
        // Progress is fewer open aggregates, not activity: a case reopened
        // and resolved over and over is no progress.
        if (const std::size_t open = open_in_model(); open < fewest_open) {
            fewest_open = open;
            last_progress = clock_.now();
        }
    }
    // Past the archive's age too, so ended orders move there.
    for (int i = 0; i < 8 && !stopped_; ++i) {
        clock_.advance(settings_.operations.archive_after / 4);
        high_water_ = std::max(high_water_, clock_.now());
        due_work_until_quiet();
    }
    const std::vector<std::string> open = still_open();
    if (!open.empty()) {
        violation("liveness",
                  fmt::format("{} aggregate(s) never reached an end {} after the "
                              "world went silent:{}",
                              open.size(), age(went_silent, clock_.now()), listing(open)));
    }
    check_drained();
}

void simulation::check_drained() {
    auto rows = store_.all_stock();
    if (rows) {
        for (const auto& row : *rows) {
            if (row.reserved.units() != 0) {
                violation("liveness", fmt::format("{} at {} still has {} unit(s) reserved", row.sku,
                                                  row.warehouse, row.reserved.units()));
                break;
            }
        }
    }
    auto undelivered = store_.undelivered_count();
    if (undelivered && *undelivered != 0) {
        violation("liveness", fmt::format("{} notification(s) were never delivered", *undelivered));
    }
    std::size_t missing = 0;
    std::string first;
    const auto& delivered = notifier_.delivered();
    std::vector<order_id> ids{order_id{}};
    known_.orders.for_each([&](order_id id, const order_info&) { ids.push_back(id); });
    for (const order_id id : ids) {
        auto entries = store_.outbox_of(id);
        if (!entries) {
            continue;
        }
        for (const auto& e : *entries) {
            if (!delivered.contains(e.notification.id)) {
                if (missing++ == 0) {
                    first = fmt::format("{} {} of order {}", e.notification.id, e.notification.kind,
                                        id);
                }
            }
        }
    }
    if (missing > 0) {
        violation("liveness", fmt::format("{} outbox entries never reached the notifier; first: {}",
                                          missing, first));
    }
}

}  // namespace orderly::sim
