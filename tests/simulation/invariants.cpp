#include "invariants.hpp"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

namespace orderly::sim {

std::string describe(const write_set& w) {
    std::vector<std::string> parts;
    const auto add = [&](std::size_t n, std::string_view what) {
        if (n > 0) {
            parts.push_back(fmt::format("{} {}", n, what));
        }
    };
    add(w.orders.size(), "order(s)");
    add(w.timeline.size(), "timeline entries");
    add(w.stock.size(), "stock change(s)");
    add(w.notes.size(), "notification(s)");
    add(w.shipments.size(), "shipment(s)");
    add(w.tickets.size(), "ticket(s)");
    add(w.cases.size(), "case(s)");
    add(w.transfers.size(), "transfer(s)");
    add(w.skus.size(), "SKU(s)");
    add(w.keys.size(), "idempotency record(s)");
    add(w.archived.size(), "archive move(s)");
    return fmt::format("{}", fmt::join(parts, ", "));
}

namespace {

bool only_packing_record(const write_set& w) {
    return w.orders.empty() && w.timeline.empty() && w.stock.empty() && w.notes.empty() &&
           w.shipments.size() <= 1 && w.tickets.empty() && w.cases.empty() && w.transfers.empty() &&
           w.skus.empty() && w.archived.empty();
}

bool only_shortage_case(const write_set& w) {
    for (const auto& [c, size] : w.cases) {
        if (c.type != case_type::stock_shortage) {
            return false;
        }
    }
    for (const auto& n : w.notes) {
        if (n.kind != notification_kind::case_opened) {
            return false;
        }
    }
    return w.orders.empty() && w.timeline.empty() && w.stock.empty() && w.shipments.empty() &&
           w.tickets.empty() && w.transfers.empty() && w.skus.empty() && w.keys.empty() &&
           w.archived.empty();
}

}  // namespace

void invariants::refusal_wrote_nothing(simulation& s, const commit_log& log, const char* name,
                                       const error& why, allowed_writes allowed) {
    for (const auto& w : log.commits) {
        if (allowed == allowed_writes::packing_record && why.field.starts_with("packing") &&
            only_packing_record(w)) {
            continue;
        }
        if (allowed == allowed_writes::shortage_case && why.code == errc::insufficient_stock &&
            only_shortage_case(w)) {
            continue;
        }
        s.violation("refusal_wrote", fmt::format("{} was refused ({}) but committed: {}", name,
                                                 to_string(why), describe(w)));
        return;
    }
}

void invariants::before_commit(simulation& s, const write_set& w) {
    order_timelines(s, w);
    order_notifications(s, w);
    ticket_and_case_timelines(s, w);
    shipment_and_transfer_states(s, w);
}

void invariants::after_commit(simulation& s, const write_set& w) {
    // The last version of each order this commit wrote.
    std::map<order_id, const order*> last;
    for (const auto& o : w.orders) {
        last[o.id] = &o;
    }
    for (const auto& [id, o] : last) {
        order_money(s, *o);
    }
    for (const auto& n : w.notes) {
        const bool money = n.kind == notification_kind::refund_issued ||
                           n.kind == notification_kind::compensation_issued;
        if (money && !last.contains(n.order)) {
            s.violation("refund_without_order",
                        fmt::format("{} for order {} ({}) was enqueued in a commit that did not "
                                    "write the order",
                                    n.kind, n.order, n.text));
        }
    }
}

void invariants::stock_rows(simulation& s, const std::set<stock_key>& rows) {
    for (const auto& row : rows) {
        auto level = s.storage().stock(row.first, row.second);
        if (!level) {
            s.violation("stock_read", fmt::format("stock of {} at {}: {}", row.first, row.second,
                                                  to_string(level.error())));
            continue;
        }
        const std::int64_t expected = s.known().reserved(row);
        if (!*level) {
            if (expected != 0) {
                s.violation("reserved_matches_reservations",
                            fmt::format("no stock row for {} at {}, but live reservations hold {} "
                                        "unit(s) there",
                                        row.first, row.second, expected));
            }
            continue;
        }
        const stock_level& l = **level;
        if (l.on_hand.units() < 0 || l.reserved.units() < 0 || l.in_transit.units() < 0 ||
            l.damaged.units() < 0 || l.available() < 0) {
            s.violation("stock_not_negative",
                        fmt::format("{} at {}: on hand {}, reserved {}, safety {}, in transit {}, "
                                    "damaged {}, available {}",
                                    row.first, row.second, l.on_hand.units(), l.reserved.units(),
                                    l.safety.units(), l.in_transit.units(), l.damaged.units(),
                                    l.available()));
        }
        if (l.reserved.units() != expected) {
            s.violation("reserved_matches_reservations",
                        fmt::format("{} at {}: the row says {} reserved, the live (held or "
                                    "committed) reservations of every order hold {}",
                                    row.first, row.second, l.reserved.units(), expected));
        }
    }
}

}  // namespace orderly::sim
