// Operations reads and the archive.
//
// The reads are reports, not hot paths: each walks every order it needs
// (live ones state by state, then the archive), a page at a time, and reads
// through the store's committed views, outside any transaction. An order
// that moves between states while a report walks is read once (the walk
// remembers the ids it saw). The archive pass moves each ended order in its
// own transaction, guarded by the version it read.

#include "engine_impl.hpp"

#include <orderly/aftersales/refund.hpp>
#include <orderly/ops/settlement.hpp>
#include <orderly/ops/status_board.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace orderly {

namespace {

// Every order the store holds, live (each state) then archived, each once.
template <class Visit>
result<void> for_each_order(store& st, Visit&& visit) {
    std::set<order_id> seen;
    auto once = [&](order_id id) -> result<void> {
        if (!seen.insert(id).second) {
            return {};
        }
        auto found = st.load_order(id);
        if (!found) {
            return std::move(found).error();
        }
        if (!*found) {
            return {};  // gone between the page and the read
        }
        return visit(**found);
    };
    for (const order_state state : all_order_states) {
        auto walked = detail::for_each_id<order_id>(
            [&](order_id after, std::size_t limit) {
                return st.orders_in_state(state, after, limit);
            },
            once);
        if (!walked) {
            return walked;
        }
    }
    return detail::for_each_id<order_id>(
        [&](order_id after, std::size_t limit) { return st.archived_orders(after, limit); }, once);
}

// Every case in the given states, each once, by id.
template <std::size_t N>
result<std::map<case_id, exception_case>> cases_in(store& st,
                                                   const std::array<case_state, N>& states) {
    std::map<case_id, exception_case> cases;
    for (const case_state state : states) {
        auto walked = detail::for_each_id<case_id>(
            [&](case_id after, std::size_t limit) {
                return st.cases_in_state(state, after, limit);
            },
            [&](case_id id) -> result<void> {
                if (cases.contains(id)) {
                    return {};
                }
                auto found = st.load_case(id);
                if (!found) {
                    return std::move(found).error();
                }
                if (*found && (*found)->state == state) {
                    cases.emplace(id, std::move(**found));
                }
                return {};
            });
        if (!walked) {
            return std::move(walked).error();
        }
    }
    return cases;
}

// The cases of a map by id, in id order.
std::vector<exception_case> values_of(std::map<case_id, exception_case>&& cases) {
    std::vector<exception_case> out;
    out.reserve(cases.size());
    for (auto& [id, c] : cases) {
        out.push_back(std::move(c));
    }
    return out;
}

// The case library's states (search_cases).
constexpr std::array<case_state, 2> ended_case_states = {case_state::resolved, case_state::closed};

result<void> check_case_id(case_id id) {
    if (id.value() == 0) {
        return error{errc::missing_value, "case_id", "names no case"};
    }
    return {};
}

// When the order first reached `completed`, from its timeline.
std::optional<timestamp> completed_at(const std::vector<timeline_entry>& timeline) {
    for (const auto& e : timeline) {
        if (e.to == order_state::completed) {
            return e.at;
        }
    }
    return std::nullopt;
}

// Every refund of order `o`'s price, per line, from its ledger (oldest
// first): what settlement nets or claws back. settlement_input_of reads the
// compensations from the same ledger.
result<void> money_back_of(const order& o, std::vector<settlement_refund>& refunds) {
    for (const auto& r : o.refunds) {
        if (!refund_tied_to_price(r.source)) {
            continue;  // money the order never took as its price (returned payments)
        }
        const money none = money::zero(o.total.currency());
        refund_breakdown b{r.lines, none, none, r.amount};
        for (const auto& l : r.lines) {
            auto goods = b.goods.plus(l.goods);
            auto shipping = b.shipping.plus(l.shipping);
            if (!goods || !shipping) {
                return error{errc::overflow, "refunds", "refunded amounts overflow"};
            }
            b.goods = std::move(*goods);
            b.shipping = std::move(*shipping);
        }
        const ticket_id ticket =
            r.source == refund_source::ticket ? ticket_id(r.reference) : ticket_id{};
        refunds.push_back(settlement_refund{ticket, r.at, std::move(b)});
    }
    return {};
}

// The settlement input of order `o` if it reached completed before `before`.
result<std::optional<settlement_input>> settlement_input_from(store& st, const order& o,
                                                              timestamp before,
                                                              const settlement_rules& rules) {
    auto timeline = st.timeline(o.id);
    if (!timeline) {
        return std::move(timeline).error();
    }
    const auto completed = completed_at(*timeline);
    if (!completed || *completed >= before) {
        return std::optional<settlement_input>{};
    }
    std::vector<std::string> categories;
    categories.reserve(o.lines.size());
    // The merchant paid is the order's; an order placed without one is paid
    // to the merchant whose SKUs it holds.
    std::set<merchant_id> sellers;
    for (const auto& line : o.lines) {
        auto entry = st.load_sku(line.sku);
        if (!entry) {
            return std::move(entry).error();
        }
        categories.push_back(*entry ? (*entry)->category : std::string());
        if (*entry && !(*entry)->merchant.empty()) {
            sellers.insert((*entry)->merchant);
        }
    }
    order paid = o;
    if (paid.merchant.empty()) {
        if (sellers.size() != 1) {
            return error{errc::missing_value, "merchant",
                         fmt::format("order {} names no merchant and its SKUs belong to {} "
                                     "merchants: settlement needs one merchant per order",
                                     o.id, sellers.size())};
        }
        paid.merchant = *sellers.begin();
    }
    std::vector<settlement_refund> refunds;
    if (auto r = money_back_of(o, refunds); !r) {
        return std::move(r).error();
    }
    auto input = settlement_input_of(paid, categories, *completed, refunds, rules);
    if (!input) {
        error e = std::move(input).error();
        e.message = fmt::format("order {}: {}", o.id, e.message);
        return e;
    }
    return std::optional<settlement_input>(std::move(*input));
}

}  // namespace

result<exception_case> engine::get_case(const actor& who, case_id id) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_operations, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (auto r = check_case_id(id); !r) {
        return std::move(r).error();
    }
    return detail::required(impl_->ports.store.load_case(id), "case_id", "case", id);
}

result<std::vector<exception_case>> engine::open_cases(const actor& who, std::size_t limit) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_operations, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    auto found = cases_in(impl_->ports.store, unresolved_case_states);
    if (!found) {
        return std::move(found).error();
    }
    auto cases = values_of(std::move(*found));
    std::sort(cases.begin(), cases.end(), [](const exception_case& a, const exception_case& b) {
        if (a.priority != b.priority) {
            return a.priority > b.priority;  // most urgent first
        }
        if (a.opened_at != b.opened_at) {
            return a.opened_at < b.opened_at;
        }
        return a.id < b.id;
    });
    if (cases.size() > limit) {
        cases.resize(limit);
    }
    return cases;
}

result<case_search_result> engine::search_cases(const actor& who, const case_query& query) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_operations, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (auto valid = validate(query); !valid) {
        return std::move(valid).error();
    }
    auto found = cases_in(impl_->ports.store, ended_case_states);
    if (!found) {
        return std::move(found).error();
    }
    const auto cases = values_of(std::move(*found));
    return orderly::search_cases(cases, query);
}

result<status_board> engine::status_board_of(const actor& who, timestamp from, timestamp to) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_operations, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (!(from < to)) {
        return error{errc::invalid_value, "to", "must be after from"};
    }
    store& st = impl_->ports.store;
    // Exception cases per order, every case read once.
    auto cases = cases_in(st, all_case_states);
    if (!cases) {
        return std::move(cases).error();
    }
    std::map<order_id, std::size_t> case_counts;
    for (const auto& [id, c] : *cases) {
        if (c.order) {
            ++case_counts[*c.order];
        }
    }
    std::vector<board_input_order> inputs;
    auto walked = for_each_order(st, [&](const order& o) -> result<void> {
        if (o.placed_at < from || !(o.placed_at < to)) {
            return {};
        }
        auto timeline = st.timeline(o.id);
        if (!timeline) {
            return std::move(timeline).error();
        }
        std::size_t exceptions = 0;
        if (auto known = case_counts.find(o.id); known != case_counts.end()) {
            exceptions = known->second;
        }
        for (const shipment_id id : o.shipments) {
            auto s = detail::required(st.load_shipment(id), "shipment_id", "shipment", id);
            if (!s) {
                return std::move(s).error();
            }
            exceptions += s->exceptions.size();
        }
        inputs.push_back(board_input_order{o, std::move(*timeline), exceptions});
        return {};
    });
    if (!walked) {
        return std::move(walked).error();
    }
    return compute_status_board(inputs, from, to);
}

result<store_settlement> engine::settle_period(const actor& who,
                                               const settlement_period& period) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_operations, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (!(period.from < period.to)) {
        return error{errc::invalid_value, "period.to", "must be after period.from"};
    }
    const settlement_rules& rules = impl_->options.settlement;
    store& st = impl_->ports.store;
    std::vector<settlement_input> inputs;
    auto walked = for_each_order(st, [&](const order& o) -> result<void> {
        auto input = settlement_input_from(st, o, period.to, rules);
        if (!input) {
            return std::move(input).error();
        }
        if (*input) {
            inputs.push_back(std::move(**input));
        }
        return {};
    });
    if (!walked) {
        return std::move(walked).error();
    }
    std::sort(
        inputs.begin(), inputs.end(),
        [](const settlement_input& a, const settlement_input& b) { return a.order < b.order; });
    auto statements = orderly::settle_period(rules, inputs, period);
    if (!statements) {
        return std::move(statements).error();
    }
    return store_settlement{std::move(*statements), std::move(inputs)};
}

result<std::size_t> engine::archive_orders(const command_context& ctx, std::size_t limit) {
    if (auto allowed = impl_->ports.policy.authorize(ctx.actor, command::archive_orders, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    due_work_report report;
    if (auto r = impl_->archive_pass(impl_->now(), limit, report); !r) {
        return std::move(r).error();
    }
    return report.orders_archived;
}

result<void> engine::impl::archive_pass(timestamp now, std::size_t limit, due_work_report& report) {
    const duration after = options.operations.archive_after;
    if (after == duration::zero() || limit == 0) {
        return {};
    }
    std::size_t moved = 0;
    for (const order_state state : {order_state::closed, order_state::cancelled}) {
        auto walked = detail::for_each_id<order_id>(
            [&](order_id after_id, std::size_t n) -> result<std::vector<order_id>> {
                if (moved >= limit) {
                    return std::vector<order_id>{};
                }
                return ports.store.orders_in_state(state, after_id, n);
            },
            [&](order_id id) -> result<void> {
                if (moved >= limit) {
                    return {};
                }
                auto found = ports.store.load_order(id);
                if (!found) {
                    return std::move(found).error();
                }
                if (!*found || (*found)->state != state || now - (*found)->updated_at < after) {
                    return {};
                }
                auto tx = ports.store.begin();
                if (!tx) {
                    return std::move(tx).error();
                }
                auto done = (*tx)->archive_order(id, (*found)->version);
                if (done) {
                    done = (*tx)->commit();
                }
                if (!done) {
                    if (done.error().code == errc::conflict) {
                        return {};  // it changed meanwhile: the next pass looks again
                    }
                    return std::move(done).error();
                }
                ++report.orders_archived;
                ++moved;
                return {};
            });
        if (!walked) {
            return walked;
        }
    }
    return {};
}

}  // namespace orderly
