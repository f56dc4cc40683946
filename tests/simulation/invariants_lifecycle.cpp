// Every state change follows its machine and continues the one before; and
// every notifying order change has its notification in the same commit.

#include "invariants.hpp"

#include <orderly/aftersales/ticket_machine.hpp>
#include <orderly/ops/case_machine.hpp>
#include <orderly/order/order_machine.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace orderly::sim {
namespace {

using row_key = std::tuple<std::string, std::string, std::string>;

std::set<row_key> row_set(const std::vector<transition_row>& rows) {
    std::set<row_key> out;
    for (const auto& r : rows) {
        out.emplace(r.from, r.event, r.to);
    }
    return out;
}

const std::set<row_key>& ticket_rows() {
    static const std::set<row_key> rows = row_set(ticket_machine_rows());
    return rows;
}

const std::set<row_key>& case_rows() {
    static const std::set<row_key> rows = row_set(case_machine_rows());
    return rows;
}

// The last version of each order a commit wrote.
std::map<order_id, const order*> last_orders(const write_set& w) {
    std::map<order_id, const order*> last;
    for (const auto& o : w.orders) {
        last[o.id] = &o;
    }
    return last;
}

}  // namespace

void invariants::order_timelines(simulation& s, const write_set& w) {
    const auto last = last_orders(w);
    std::map<order_id, std::optional<order_state>> running;
    for (const auto& [id, e] : w.timeline) {
        const order_info* info = s.known().orders.find(id);
        if (!running.contains(id)) {
            running[id] = info != nullptr ? info->last_to : std::nullopt;
        }
        auto& prev = running[id];
        if (e.event == order_event::placed) {
            if (e.from || prev) {
                s.violation("order_timeline", fmt::format("order {}: a second placed entry", id));
            }
            prev = e.to;
            continue;
        }
        if (!e.from || e.from != prev) {
            s.violation(
                "order_timeline",
                fmt::format("order {}: entry {} from {} does not continue the last state {}", id,
                            e.event, e.from ? to_string(*e.from) : "none",
                            prev ? to_string(*prev) : "none"));
        }
        const auto o = last.find(id);
        const bool cod = o != last.end()
                             ? o->second->method == payment_method::cash_on_delivery
                             : info != nullptr && info->method == payment_method::cash_on_delivery;
        const order_state held_from =
            o != last.end() ? o->second->held_from
                            : (info != nullptr ? info->held_from : order_state::pending_review);
        if (e.from) {
            auto next = next_order_state(*e.from, e.event, order_guard_facts{cod, held_from});
            if (!next || *next != e.to) {
                s.violation(
                    "order_machine",
                    fmt::format("order {}: {} in {} went to {}; the machine says {}", id, e.event,
                                *e.from, e.to, next ? to_string(*next) : to_string(next.error())));
            }
        }
        prev = e.to;
    }
    for (const auto& [id, o] : last) {
        const auto r = running.find(id);
        const order_info* info = s.known().orders.find(id);
        if (r != running.end()) {
            if (r->second != o->state) {
                s.violation("order_timeline",
                            fmt::format("order {} is {} but its timeline ends in {}", id, o->state,
                                        r->second ? to_string(*r->second) : "none"));
            }
        } else if (info == nullptr || info->state != o->state) {
            s.violation(
                "order_timeline",
                fmt::format("order {} moved {} -> {} without a timeline entry", id,
                            info != nullptr ? to_string(info->state) : "nowhere", o->state));
        }
    }
}

namespace {

// The notification a notifying order event must come with; `exact` when
// nothing else sends that kind, so the count must match one for one.
struct needed_note {
    notification_kind kind;
    bool exact;
};

std::optional<needed_note> needed(order_event e) {
    using k = notification_kind;
    switch (e) {
        case order_event::placed:
            return needed_note{k::order_confirmed, true};
        case order_event::review_approved:
        case order_event::review_rejected:
            return needed_note{k::review_result, true};
        case order_event::payment_captured:
        case order_event::payment_failed:
            return needed_note{k::payment_result, false};
        case order_event::payment_timed_out:
        case order_event::cancelled:
            return needed_note{k::cancelled, true};  // or payment_timeout: one group
        case order_event::shipped:
            return needed_note{k::shipped, false};
        case order_event::delivered:
            return needed_note{k::delivered, false};
        case order_event::receipt_confirmed:
            return needed_note{k::completed, true};
        case order_event::refunded_in_full:
            return needed_note{k::order_closed, true};
        default:
            return std::nullopt;
    }
}

notification_kind group_of(notification_kind k) {
    return k == notification_kind::payment_timeout ? notification_kind::cancelled : k;
}

bool exact_kind(notification_kind k) {
    using n = notification_kind;
    return k == n::order_confirmed || k == n::review_result || k == n::cancelled ||
           k == n::completed || k == n::order_closed;
}

// The kinds counted over an order's life: sent by the changes that owe them
// and by others too.
bool tallied_kind(notification_kind k) {
    using n = notification_kind;
    return k == n::payment_result || k == n::shipped || k == n::delivered;
}

}  // namespace

void invariants::order_notifications(simulation& s, const write_set& w) {
    const auto& muted = s.config().outbox.muted;
    const auto is_muted = [&](notification_kind k) {
        return std::find(muted.begin(), muted.end(), k) != muted.end();
    };
    std::map<std::pair<order_id, notification_kind>, int> want;
    std::map<std::pair<order_id, notification_kind>, int> got;
    std::set<order_id> placed_here;
    std::set<order_id> released_here;
    for (const auto& [id, e] : w.timeline) {
        if (e.event == order_event::placed) {
            placed_here.insert(id);
        }
        if (e.event == order_event::released) {
            released_here.insert(id);
        }
    }
    for (const auto& [id, e] : w.timeline) {
        const auto need = needed(e.event);
        // Approved at placement: order_confirmed says it. Paid on release
        // after the money came on hold: the customer heard when it came.
        const bool said = (e.event == order_event::review_approved && placed_here.contains(id)) ||
                          (e.event == order_event::payment_captured && released_here.contains(id));
        if (need && !said && !is_muted(need->kind)) {
            ++want[{id, need->kind}];
        }
    }
    for (const auto& n : w.notes) {
        if (n.audience == audience::customer) {
            ++got[{n.order, group_of(n.kind)}];
        }
    }
    // Kinds other changes also send: over the order's life, at least one
    // notification per change that owes one (a parcel's "shipped" may come
    // before the order follows it, a capture on hold is told when it lands).
    for (const auto& [key, n] : want) {
        if (!exact_kind(key.second)) {
            s.known().tallies[key.first][key.second].owed += n;
        }
    }
    for (const auto& [key, have] : got) {
        if (tallied_kind(key.second)) {
            s.known().tallies[key.first][key.second].told += have;
        }
    }
    for (const auto& [key, n] : want) {
        const auto& tally = s.known().tallies[key.first][key.second];
        if (!exact_kind(key.second) && tally.told < tally.owed) {
            s.violation("notification_for_change",
                        fmt::format("order {}: {} change(s) so far that notify {}, {} "
                                    "notification(s) of that kind",
                                    key.first, tally.owed, key.second, tally.told));
        }
    }
    // Kinds only these changes send: one for one, in the same commit.
    std::set<std::pair<order_id, notification_kind>> keys;
    for (const auto& [key, n] : want) {
        keys.insert(key);
    }
    for (const auto& [key, n] : got) {
        keys.insert(key);
    }
    for (const auto& key : keys) {
        if (exact_kind(key.second) && !is_muted(key.second) && got[key] != want[key]) {
            s.violation("notification_once",
                        fmt::format("order {}: {} {} notification(s) in one commit for {} "
                                    "change(s) that send it",
                                    key.first, got[key], key.second, want[key]));
        }
    }
}

namespace {

// The entries of `timeline` from index `seen` on; `timeline` holds the
// entries from index `offset` (a case keeps only the end of its timeline).
template <class Entry, class State>
void check_entries(simulation& s, std::string_view what, std::uint64_t id,
                   const std::vector<Entry>& timeline, std::size_t offset, std::size_t seen,
                   std::optional<State> before, State now, const std::set<row_key>& rows,
                   std::string_view invariant) {
    std::optional<State> prev = seen >= offset ? before : std::nullopt;
    for (std::size_t i = std::max(seen, offset); i < offset + timeline.size(); ++i) {
        const Entry& e = timeline[i - offset];
        if (!e.from) {
            if (i != 0) {
                s.violation(invariant, fmt::format("{} {}: entry {} without a from state", what, id,
                                                   to_string(e.event)));
            }
            prev = e.to;
            continue;
        }
        if (prev && *e.from != *prev) {
            s.violation(
                invariant,
                fmt::format("{} {}: entry {} from {} does not continue the last state {}", what, id,
                            to_string(e.event), to_string(*e.from), to_string(*prev)));
        }
        const row_key key{std::string(to_string(*e.from)), std::string(to_string(e.event)),
                          std::string(to_string(e.to))};
        if (!rows.contains(key)) {
            s.violation(invariant, fmt::format("{} {}: {} on {} went to {}, which no row of its "
                                               "machine allows",
                                               what, id, to_string(*e.from), to_string(e.event),
                                               to_string(e.to)));
        }
        prev = e.to;
    }
    if (const auto last = prev.value_or(now); last != now) {
        s.violation(invariant, fmt::format("{} {} is {} but its timeline ends in {}", what, id,
                                           to_string(now), to_string(last)));
    }
}

}  // namespace

void invariants::ticket_and_case_timelines(simulation& s, const write_set& w) {
    for (const auto& t : w.tickets) {
        const ticket_info* info = s.known().tickets.find(t.id);
        const std::size_t seen = info != nullptr ? info->timeline_size : 0;
        const std::optional<ticket_state> before =
            info != nullptr ? std::optional(info->state) : std::nullopt;
        check_entries(s, "ticket", t.id.value(), t.timeline, 0, seen, before, t.state,
                      ticket_rows(), "ticket_machine");
    }
    for (const auto& [c, size] : w.cases) {
        const case_info* info = s.known().cases.find(c.id);
        const std::size_t seen = info != nullptr ? info->timeline_size : 0;
        const std::optional<case_state> before =
            info != nullptr ? std::optional(info->state) : std::nullopt;
        check_entries(s, "case", c.id.value(), c.timeline, size - c.timeline.size(), seen, before,
                      c.state, case_rows(), "case_machine");
    }
}

}  // namespace orderly::sim
