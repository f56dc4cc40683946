#include "model.hpp"

#include "world.hpp"

#include <algorithm>

namespace orderly::sim {

std::int64_t amount_detail(const notification& n) {
    for (const auto& [key, value] : n.details) {
        if (key == "amount") {
            auto m = money::parse(value);
            return m ? minor_of(*m) : 0;
        }
    }
    return 0;
}

void model::apply(const write_set& w, std::vector<seen_change>& changes) {
    for (const auto& o : w.orders) {
        apply_order(o, changes);
    }
    for (const auto& [id, entry] : w.timeline) {
        if (auto* info = orders.find(id)) {
            info->last_to = entry.to;
        }
    }
    for (const auto& n : w.notes) {
        apply_note(n);
    }
    for (const auto& s : w.shipments) {
        apply_shipment(s, changes);
    }
    for (const auto& t : w.tickets) {
        apply_ticket(t, changes);
    }
    for (const auto& [c, size] : w.cases) {
        cases.put(c.id, case_info{c.state, c.type, size, c.updated_at});
    }
    for (const auto& t : w.transfers) {
        const timestamp changed =
            std::max({t.dispatched_at, t.received_at.value_or(t.dispatched_at),
                      t.cancelled_at.value_or(t.dispatched_at)});
        transfers.put(t.id, transfer_info{t.state, t.sku, t.from, t.to, t.units.units(), changed});
    }
    for (const auto& [id, version] : w.archived) {
        if (auto* info = orders.find(id)) {
            info->archived = true;
        }
    }
}

void model::move_reservations(const std::vector<reservation>& before,
                              const std::vector<reservation>& after) {
    for (const auto& r : before) {
        reserved_[{r.sku, r.warehouse}] -= r.units.units();
    }
    for (const auto& r : after) {
        reserved_[{r.sku, r.warehouse}] += r.units.units();
    }
}

void model::apply_order(const order& o, std::vector<seen_change>& changes) {
    order_info fresh;
    const order_info* old = orders.find(o.id);
    if (old != nullptr) {
        fresh = *old;
    }
    const int from = old == nullptr ? -1 : static_cast<int>(old->state);
    fresh.state = o.state;
    fresh.held_from = o.held_from;
    fresh.customer = o.customer;
    fresh.method = o.method;
    fresh.total = minor_of(o.total);
    fresh.lines.clear();
    for (const auto& l : o.lines) {
        fresh.lines.push_back(line_info{l.sku, l.units.units(), minor_of(l.unit_price)});
    }
    fresh.shipments = o.shipments;
    fresh.tickets = o.tickets;
    fresh.placed_at = o.placed_at;
    fresh.updated_at = o.updated_at;
    fresh.rated = o.rating.has_value();
    std::vector<reservation> live;
    for (const auto& r : o.reservations) {
        if (r.active()) {
            live.push_back(r);
        }
    }
    move_reservations(fresh.active, live);
    fresh.active = std::move(live);
    orders.put(o.id, std::move(fresh));
    if (from != static_cast<int>(o.state)) {
        changes.push_back(
            {seen_change::kind::order, o.id.value(), from, static_cast<int>(o.state)});
    }
}

void model::apply_note(const notification& n) {
    auto* info = orders.find(n.order);
    if (info == nullptr) {
        return;
    }
    if (n.kind == notification_kind::refund_issued) {
        info->refund_notes += amount_detail(n);
    } else if (n.kind == notification_kind::compensation_issued) {
        info->compensation_notes += amount_detail(n);
    }
}

void model::apply_shipment(const shipment& s, std::vector<seen_change>& changes) {
    const shipment_info* old = shipments.find(s.id);
    const int from = old == nullptr ? -1 : static_cast<int>(old->state);
    shipment_info fresh;
    fresh.state = s.state;
    fresh.orders = s.orders;
    fresh.warehouse = s.warehouse;
    for (const auto& l : s.lines) {
        bool merged = false;
        for (auto& [sku, n] : fresh.lines) {
            if (sku == l.sku) {
                n += l.units.units();
                merged = true;
            }
        }
        if (!merged) {
            fresh.lines.emplace_back(l.sku, l.units.units());
        }
    }
    fresh.carrier = s.carrier;
    fresh.ticket = s.ticket;
    for (std::size_t i = 0; i < s.exceptions.size(); ++i) {
        if (s.exceptions[i].open()) {
            fresh.open_exceptions.push_back(i);
        }
    }
    fresh.wave = s.wave;
    fresh.updated_at = s.updated_at;
    fresh.shipped_at = s.shipped_at;
    shipments.put(s.id, std::move(fresh));
    if (from != static_cast<int>(s.state)) {
        changes.push_back(
            {seen_change::kind::shipment, s.id.value(), from, static_cast<int>(s.state)});
    }
}

void model::apply_ticket(const ticket& t, std::vector<seen_change>& changes) {
    const ticket_info* old = tickets.find(t.id);
    const int from = old == nullptr ? -1 : static_cast<int>(old->state);
    ticket_info fresh;
    fresh.state = t.state;
    fresh.escalated_from = t.escalated_from;
    fresh.order = t.order;
    fresh.customer = t.customer;
    fresh.type = t.type;
    fresh.lines = t.lines;
    fresh.parcel_reported = t.returned.has_value();
    for (const auto& e : t.timeline) {
        fresh.repair_failed = fresh.repair_failed || e.event == ticket_event::repair_failed;
    }
    fresh.timeline_size = t.timeline.size();
    fresh.replacement = t.replacement;
    fresh.updated_at = t.updated_at;
    tickets.put(t.id, std::move(fresh));
    if (from != static_cast<int>(t.state)) {
        changes.push_back(
            {seen_change::kind::ticket, t.id.value(), from, static_cast<int>(t.state)});
    }
}

}  // namespace orderly::sim
