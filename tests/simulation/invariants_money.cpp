// Every cent of an order: the refund ledger against the payment records,
// no line refunded above its paid share, captured − refunded against what
// the customer owes in each state, and finance told of each refund once.

#include "invariants.hpp"
#include "world.hpp"

#include <orderly/aftersales/refund.hpp>

#include <fmt/format.h>

namespace orderly::sim {
namespace {

struct order_money_figures {
    std::int64_t captured{0};
    std::int64_t refunded{0};
    std::int64_t ledger_refunds{0};  // every entry but compensations and waived ones
    std::int64_t tied{0};            // refunds of the price (ticket, parcel, manual)
    std::int64_t compensations{0};
};

order_money_figures figures_of(const order& o) {
    order_money_figures f;
    for (const auto& p : o.payments) {
        f.captured += minor_of(p.captured);
        f.refunded += minor_of(p.refunded);
    }
    for (const auto& r : o.refunds) {
        const std::int64_t amount = minor_of(r.amount);
        if (r.source == refund_source::compensation) {
            f.compensations += amount;
            continue;
        }
        if (!r.waived) {  // waived cash on delivery moved no money
            f.ledger_refunds += amount;
        }
        if (refund_tied_to_price(r.source)) {
            f.tied += amount;
        }
    }
    return f;
}

std::string money_text(std::int64_t fen) {
    return cny(fen).to_string();
}

// No line gives back more goods than it was paid, more shipping than its
// share, or more units than it has.
void line_caps(simulation& s, const order& o, const refunded_lines& t) {
    auto shares = shipping_shares(o);
    if (!shares) {
        s.violation("line_refund_cap",
                    fmt::format("order {}: shipping shares: {}", o.id, to_string(shares.error())));
        return;
    }
    for (std::size_t l = 0; l < o.lines.size() && l < t.units.size(); ++l) {
        auto paid = paid_amount(o.lines[l]);
        const bool goods_over = paid && t.goods[l] > *paid;
        const bool shipping_over = t.shipping[l] > (*shares)[l];
        const bool units_over = t.units[l] > o.lines[l].units.units();
        if (goods_over || shipping_over || units_over) {
            s.violation("line_refund_cap",
                        fmt::format("order {} ({}) line {}: refunded {} unit(s) of {}, goods {} of "
                                    "{} paid, shipping {} of its {} share",
                                    o.id, o.state, l, t.units[l], o.lines[l].units.units(),
                                    t.goods[l].to_string(), paid ? paid->to_string() : "?",
                                    t.shipping[l].to_string(), (*shares)[l].to_string()));
        }
    }
}

bool before_delivery(order_state s) {
    return s == order_state::pending_review || s == order_state::awaiting_payment ||
           s == order_state::paid || s == order_state::allocating || s == order_state::packed ||
           s == order_state::shipped;
}

// captured − refunded against what the order's state says the customer owes.
void net_by_state(simulation& s, const order& o, const order_money_figures& f, bool all_refunded) {
    const std::int64_t net = f.captured - f.refunded;
    const std::int64_t total = minor_of(o.total);
    const order_state state = o.state == order_state::on_hold ? o.held_from : o.state;
    const auto fail = [&](std::string_view invariant, std::string_view expected) {
        s.violation(
            invariant,
            fmt::format("order {} ({}{}, {}): captured {} - refunded {} = {}, expected {} "
                        "(total {}, refunds of the price {})",
                        o.id, o.state,
                        o.state == order_state::on_hold ? fmt::format(" from {}", o.held_from)
                                                        : std::string(),
                        o.method, money_text(f.captured), money_text(f.refunded), money_text(net),
                        expected, money_text(total), money_text(f.tied)));
    };
    if (o.state == order_state::cancelled) {
        if (net != 0) {
            fail("cancelled_net_zero", "0");
        }
        return;
    }
    if (o.state == order_state::closed && all_refunded) {
        if (net != 0) {
            fail("refunded_order_net_zero", "0");
        }
        return;
    }
    if (o.method == payment_method::cash_on_delivery) {
        if (before_delivery(state) && f.captured != 0) {
            fail("cod_captured_before_delivery", "nothing captured before delivery");
        } else if (f.captured > 0 && net != total - f.tied) {
            fail("paid_net", money_text(total - f.tied));
        }
        return;
    }
    if (state == order_state::pending_review || state == order_state::awaiting_payment) {
        if (net < 0 || net > total) {
            fail("unpaid_net", fmt::format("between 0 and {}", money_text(total)));
        }
        return;
    }
    if (net != total - f.tied) {
        fail("paid_net", money_text(total - f.tied));
    }
}

}  // namespace

void invariants::order_money(simulation& s, const order& o) {
    const order_money_figures f = figures_of(o);
    if (f.refunded != f.ledger_refunds) {
        s.violation("refund_ledger",
                    fmt::format("order {} ({}): the payments refunded {}, the refund ledger "
                                "(order::refunds, compensations aside) holds {} in {} entries",
                                o.id, o.state, money_text(f.refunded), money_text(f.ledger_refunds),
                                o.refunds.size()));
    }
    auto tally = tally_refunds(o);
    if (!tally) {
        s.violation("line_refund_cap", fmt::format("order {}: its refund ledger does not tally: {}",
                                                   o.id, to_string(tally.error())));
        return;
    }
    line_caps(s, o, *tally);
    net_by_state(s, o, f, every_unit_refunded(o, *tally));
    const order_info* info = s.known().orders.find(o.id);
    if (info != nullptr && info->refund_notes != f.refunded) {
        s.violation(
            "finance_told_once",
            fmt::format("order {} ({}): refund_issued notifications add up to {}, the "
                        "payments refunded {}",
                        o.id, o.state, money_text(info->refund_notes), money_text(f.refunded)));
    }
    if (info != nullptr && info->compensation_notes != f.compensations) {
        s.violation("finance_told_once",
                    fmt::format("order {} ({}): compensation_issued notifications add up to {}, "
                                "the ledger's compensations to {}",
                                o.id, o.state, money_text(info->compensation_notes),
                                money_text(f.compensations)));
    }
}

}  // namespace orderly::sim
