// Merchant settlement: see orderly/ops/settlement.hpp for the rules.
//
// Every amount an input may hold is checked to fit 64 bits of minor units
// and to be in its order's currency before anything is added up, and money
// holds 128 bits: no sum here can overflow or mix currencies. The helpers
// add/sub/commission therefore unwrap their results with value(); should
// that ever throw (a bug), the public functions turn it into an error value.

#include <orderly/ops/settlement.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace orderly {

namespace {

money add(const money& a, const money& b) {
    return a.plus(b).value();
}
money sub(const money& a, const money& b) {
    return a.minus(b).value();
}

// An amount of an input: in the order's currency, not negative, within 64
// bits. The refusal names no field: callers place it with within(), so no
// field name is formatted unless something is refused.
result<void> check_amount(const money& m, currency in) {
    if (m.currency() != in) {
        return error{errc::currency_mismatch, "",
                     fmt::format("is in {}, the order is in {}", m.currency(), in)};
    }
    if (m.is_negative()) {
        return error{errc::invalid_value, "", fmt::format("must not be negative, got {}", m)};
    }
    if (!m.amount_minor_int64()) {
        return error{errc::overflow, "", "does not fit 64 bits of minor units"};
    }
    return {};
}

result<void> check_rate(const rate& r, std::string field) {
    if (r.is_negative() || r > rate::one()) {
        return error{errc::invalid_value, std::move(field),
                     fmt::format("must be from 0 to 1, got {}", r)};
    }
    return {};
}

// The rules, looked up quickly.
class rules_index {
public:
    explicit rules_index(const settlement_rules& rules) : rules_(rules) {
        for (const auto& entry : rules.category_rates) {
            rates_.emplace(entry.category, entry.commission);
        }
    }

    [[nodiscard]] const settlement_rules& rules() const noexcept { return rules_; }

    [[nodiscard]] rate rate_of(const std::string& category) const {
        const auto found = rates_.find(category);
        return found == rates_.end() ? rules_.default_rate : found->second;
    }

    [[nodiscard]] result<money> fee_of(const settlement_input& in) const {
        for (const money& fee : rules_.service_fees) {
            if (fee.currency() == in.currency) {
                return fee;
            }
        }
        return error{errc::missing_value, "rules.service_fees",
                     fmt::format("has no service fee for {} (order {})", in.currency, in.order)};
    }

    // round(r × kept): the commission on what the merchant keeps of a line.
    [[nodiscard]] money commission(const money& kept, const rate& r) const {
        return kept.times(r, rules_.commission_rounding).value();
    }

private:
    const settlement_rules& rules_;
    std::unordered_map<std::string, rate> rates_;
};

result<void> check_refund(const settlement_input& in, const settlement_refund& r,
                          std::vector<money>& goods_so_far, money& shipping_so_far) {
    const refund_breakdown& b = r.refund;
    money goods = money::zero(in.currency);
    money shipping = money::zero(in.currency);
    for (std::size_t i = 0; i < b.lines.size(); ++i) {
        const refund_line& line = b.lines[i];
        const auto field = [i] { return fmt::format("refund.lines[{}]", i); };
        if (line.line >= in.lines.size()) {
            return error{
                errc::invalid_value, field() + ".line",
                fmt::format("names line {}; the order has {}", line.line, in.lines.size())};
        }
        if (auto ok = check_amount(line.goods, in.currency); !ok) {
            return std::move(ok).error().within(field() + ".goods");
        }
        if (auto ok = check_amount(line.shipping, in.currency); !ok) {
            return std::move(ok).error().within(field() + ".shipping");
        }
        money& line_goods = goods_so_far[line.line];
        line_goods = add(line_goods, line.goods);
        if (line_goods > in.lines[line.line].paid) {
            return error{errc::amount_mismatch, field() + ".goods",
                         fmt::format("brings the goods refunded on line {} to {}, more than the "
                                     "{} paid for it",
                                     line.line, line_goods, in.lines[line.line].paid)};
        }
        goods = add(goods, line.goods);
        shipping = add(shipping, line.shipping);
    }
    if (auto ok = check_amount(b.goods, in.currency); !ok) {
        return std::move(ok).error().within("refund.goods");
    }
    if (auto ok = check_amount(b.shipping, in.currency); !ok) {
        return std::move(ok).error().within("refund.shipping");
    }
    if (auto ok = check_amount(b.total, in.currency); !ok) {
        return std::move(ok).error().within("refund.total");
    }
    if (b.goods != goods) {
        return error{errc::amount_mismatch, "refund.goods",
                     fmt::format("is {}; its lines' goods add up to {}", b.goods, goods)};
    }
    if (b.shipping != shipping) {
        return error{errc::amount_mismatch, "refund.shipping",
                     fmt::format("is {}; its lines' shipping adds up to {}", b.shipping, shipping)};
    }
    if (b.total != add(goods, shipping)) {
        return error{
            errc::amount_mismatch, "refund.total",
            fmt::format("is {}; goods and shipping add up to {}", b.total, add(goods, shipping))};
    }
    shipping_so_far = add(shipping_so_far, shipping);
    if (shipping_so_far > in.shipping) {
        return error{errc::amount_mismatch, "refund.shipping",
                     fmt::format("brings the shipping refunded to {}, more than the {} paid",
                                 shipping_so_far, in.shipping)};
    }
    return {};
}

// What refunds and compensations are called in fields and messages.
struct entry_kind {
    std::string_view list;  // the input's member, as fields name it: "refunds"
    std::string_view noun;  // one of them: "refund"
};
constexpr entry_kind refund_kind{"refunds", "refund"};
constexpr entry_kind compensation_kind{"compensations", "compensation"};

// Refunds and compensations are given oldest first: netting and clawing back
// split each list at a time, so entry j may not be older than entry j − 1.
template <class Entry>
result<void> check_oldest_first(const std::vector<Entry>& entries, std::size_t j, entry_kind kind) {
    if (j > 0 && entries[j].at < entries[j - 1].at) {
        return error{errc::invalid_value, fmt::format("{}[{}].at", kind.list, j),
                     fmt::format("is earlier than the {} before it; {} go oldest first", kind.noun,
                                 kind.list)};
    }
    return {};
}

result<void> check_lines(const settlement_input& in) {
    if (in.lines.empty()) {
        return error{errc::missing_value, "lines", "an order has at least one line"};
    }
    if (in.lines.size() > settlement_limits::max_lines) {
        return error{errc::invalid_value, "lines",
                     fmt::format("must be at most {} lines", settlement_limits::max_lines)};
    }
    for (std::size_t i = 0; i < in.lines.size(); ++i) {
        if (in.lines[i].category.size() > settlement_limits::max_category_bytes) {
            return error{errc::invalid_value, fmt::format("lines[{}].category", i),
                         "must be at most 64 bytes"};
        }
        if (auto ok = check_amount(in.lines[i].paid, in.currency); !ok) {
            return std::move(ok).error().within(fmt::format("lines[{}].paid", i));
        }
    }
    return {};
}

result<void> check_refunds(const settlement_input& in) {
    if (in.refunds.size() > settlement_limits::max_refunds) {
        return error{errc::invalid_value, "refunds",
                     fmt::format("must be at most {} refunds", settlement_limits::max_refunds)};
    }
    std::vector<money> goods_so_far(in.lines.size(), money::zero(in.currency));
    money shipping_so_far = money::zero(in.currency);
    for (std::size_t j = 0; j < in.refunds.size(); ++j) {
        if (auto ok = check_oldest_first(in.refunds, j, refund_kind); !ok) {
            return ok;
        }
        if (auto ok = check_refund(in, in.refunds[j], goods_so_far, shipping_so_far); !ok) {
            return std::move(ok).error().within(fmt::format("refunds[{}]", j));
        }
    }
    return {};
}

// A compensation is not part of the price: no bound from what was paid, but
// it must be money actually given, in the order's currency.
result<void> check_compensations(const settlement_input& in) {
    if (in.compensations.size() > settlement_limits::max_compensations) {
        return error{
            errc::invalid_value, "compensations",
            fmt::format("must be at most {} compensations", settlement_limits::max_compensations)};
    }
    for (std::size_t j = 0; j < in.compensations.size(); ++j) {
        if (auto ok = check_oldest_first(in.compensations, j, compensation_kind); !ok) {
            return ok;
        }
        const money& amount = in.compensations[j].amount;
        const auto field = [j] { return fmt::format("compensations[{}].amount", j); };
        if (auto ok = check_amount(amount, in.currency); !ok) {
            return std::move(ok).error().within(field());
        }
        if (amount.is_zero()) {
            return error{errc::invalid_value, field(), "must be more than zero"};
        }
    }
    return {};
}

result<void> check_input(const settlement_input& in, const settlement_rules& rules) {
    if (in.order.empty()) {
        return error{errc::missing_value, "order", "must not be empty"};
    }
    if (in.merchant.empty()) {
        return error{errc::missing_value, "merchant", "must not be empty"};
    }
    const auto period = std::chrono::days(rules.account_period_days);
    if (in.completed_at > timestamp::max() - period) {
        return error{errc::invalid_value, "completed_at",
                     "is so late that the payable time does not fit a timestamp"};
    }
    if (auto ok = check_lines(in); !ok) {
        return ok;
    }
    if (auto ok = check_amount(in.shipping, in.currency); !ok) {
        return std::move(ok).error().within("shipping");
    }
    if (auto ok = check_refunds(in); !ok) {
        return ok;
    }
    return check_compensations(in);
}

// Rules, then every input, then unique order ids.
result<void> check_all(const settlement_rules& rules, std::span<const settlement_input> inputs) {
    if (auto ok = validate(rules); !ok) {
        return std::move(ok).error().within("rules");
    }
    if (inputs.size() > settlement_limits::max_orders) {
        return error{errc::invalid_value, "orders",
                     fmt::format("must be at most {} orders", settlement_limits::max_orders)};
    }
    std::unordered_set<std::uint64_t> seen;
    seen.reserve(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (auto ok = check_input(inputs[k], rules); !ok) {
            return std::move(ok).error().within(fmt::format("orders[{}]", k));
        }
        if (!seen.insert(inputs[k].order.value()).second) {
            return error{errc::invalid_value, fmt::format("orders[{}].order", k),
                         fmt::format("order {} is given twice", inputs[k].order)};
        }
    }
    return {};
}

result<void> check_period(const settlement_period& period) {
    if (period.to <= period.from) {
        return error{errc::invalid_value, "period.to", "must be later than period.from"};
    }
    return {};
}

// The refunds of one order in time order, each with the commission it
// returns: the drop of round(rate × (paid − goods refunded so far)) per line.
std::vector<settled_refund> refund_steps(const settlement_input& in, const rules_index& ix) {
    std::vector<money> kept;
    std::vector<rate> rates;
    std::vector<money> charged;
    kept.reserve(in.lines.size());
    for (const auto& line : in.lines) {
        kept.push_back(line.paid);
        rates.push_back(ix.rate_of(line.category));
        charged.push_back(ix.commission(line.paid, rates.back()));
    }
    std::vector<settled_refund> steps;
    steps.reserve(in.refunds.size());
    for (std::size_t j = 0; j < in.refunds.size(); ++j) {
        const settlement_refund& r = in.refunds[j];
        money returned = money::zero(in.currency);
        for (const refund_line& part : r.refund.lines) {
            if (part.goods.is_zero()) {
                continue;
            }
            money& line_kept = kept[part.line];
            line_kept = sub(line_kept, part.goods);
            const money now = ix.commission(line_kept, rates[part.line]);
            returned = add(returned, sub(charged[part.line], now));
            charged[part.line] = now;
        }
        steps.push_back(settled_refund{
            .index = static_cast<std::uint32_t>(j),
            .ticket = r.ticket,
            .at = r.at,
            .goods = r.refund.goods,
            .shipping = r.refund.shipping,
            .amount = add(r.refund.goods, r.refund.shipping),
            .commission_returned = std::move(returned),
        });
    }
    return steps;
}

// How many of `entries` (refunds or compensations, oldest first) were made
// before `end`: the ones a payout ending there nets.
template <class Entry>
std::size_t made_before(const std::vector<Entry>& entries, timestamp end) {
    const auto late = std::partition_point(entries.begin(), entries.end(),
                                           [end](const Entry& e) { return e.at < end; });
    return static_cast<std::size_t>(late - entries.begin());
}

settled_compensation settled_compensation_of(const settlement_input& in, std::size_t j) {
    const settlement_compensation& c = in.compensations[j];
    return settled_compensation{
        .index = static_cast<std::uint32_t>(j), .at = c.at, .amount = c.amount, .reason = c.reason};
}

// The identities of this file's header, on listed totals.
money payout_of(const settled_order& o) {
    return add(sub(sub(sub(sub(o.gross, o.commission), o.service_fee), o.refunded), o.compensated),
               o.commission_returned);
}
money payout_of(const statement& s) {
    const money kept = sub(sub(s.gross, s.commission), s.service_fees);
    const money given_back =
        add(add(s.refunded, s.compensated), add(s.clawed_back, s.compensations_clawed_back));
    return add(sub(kept, given_back), s.commission_returned);
}
money platform_income_of(const statement& s) {
    return sub(add(s.commission, s.service_fees), s.commission_returned);
}

// An order's lines, commission and gross, before anything is netted.
settled_order charged(const settlement_input& in, const rules_index& ix, const money& fee) {
    const money zero = money::zero(in.currency);
    settled_order o{
        .order = in.order,
        .completed_at = in.completed_at,
        .payable_at = payable_at(ix.rules(), in.completed_at),
        .lines = {},
        .goods = zero,
        .shipping = in.shipping,
        .gross = zero,
        .commission = zero,
        .service_fee = fee,
        .refunds = {},
        .refunded = zero,
        .commission_returned = zero,
        .compensations = {},
        .compensated = zero,
        .payout = zero,
    };
    o.lines.reserve(in.lines.size());
    for (const auto& line : in.lines) {
        const rate r = ix.rate_of(line.category);
        o.lines.push_back(settled_line{
            .category = line.category,
            .commission_rate = r,
            .paid = line.paid,
            .commission = ix.commission(line.paid, r),
            .refunded = zero,
            .commission_returned = zero,
        });
        o.goods = add(o.goods, line.paid);
        o.commission = add(o.commission, o.lines.back().commission);
    }
    o.gross = add(o.goods, o.shipping);
    return o;
}

// Nets on `o` the refunds made before `end`, and the commission they return.
void net_refunds(settled_order& o, const settlement_input& in, const rules_index& ix,
                 timestamp end) {
    std::vector<settled_refund> steps = refund_steps(in, ix);
    const std::size_t netted = made_before(in.refunds, end);
    for (std::size_t j = 0; j < netted; ++j) {
        for (const refund_line& part : in.refunds[j].refund.lines) {
            settled_line& line = o.lines[part.line];
            line.refunded = add(line.refunded, part.goods);
        }
        o.refunded = add(o.refunded, steps[j].amount);
        o.refunds.push_back(std::move(steps[j]));
    }
    for (settled_line& line : o.lines) {
        line.commission_returned = sub(
            line.commission, ix.commission(sub(line.paid, line.refunded), line.commission_rate));
        o.commission_returned = add(o.commission_returned, line.commission_returned);
    }
}

// Nets on `o` the compensations made before `end`: all of each, no commission back.
void net_compensations(settled_order& o, const settlement_input& in, timestamp end) {
    const std::size_t netted = made_before(in.compensations, end);
    for (std::size_t j = 0; j < netted; ++j) {
        o.compensations.push_back(settled_compensation_of(in, j));
        o.compensated = add(o.compensated, in.compensations[j].amount);
    }
}

// The order paid out by a statement ending at `end`, netting what was given back before `end`.
result<settled_order> pay_out(const settlement_input& in, const rules_index& ix, timestamp end) {
    auto fee = ix.fee_of(in);
    if (!fee) {
        return std::move(fee).error();
    }
    settled_order o = charged(in, ix, *fee);
    net_refunds(o, in, ix, end);
    net_compensations(o, in, end);
    o.payout = payout_of(o);
    return o;
}

// A statement being put together.
struct draft {
    std::vector<settled_order> orders;
    std::vector<clawback> clawbacks;
    std::vector<compensation_clawback> compensation_clawbacks;

    [[nodiscard]] bool empty() const noexcept {
        return orders.empty() && clawbacks.empty() && compensation_clawbacks.empty();
    }

    void append(draft&& more) {
        std::move(more.orders.begin(), more.orders.end(), std::back_inserter(orders));
        std::move(more.clawbacks.begin(), more.clawbacks.end(), std::back_inserter(clawbacks));
        std::move(more.compensation_clawbacks.begin(), more.compensation_clawbacks.end(),
                  std::back_inserter(compensation_clawbacks));
    }
};

// The refunds of an order paid out before `period` that were made in it.
void claw_back_refunds(const settlement_input& in, const rules_index& ix,
                       const settlement_period& period, timestamp payable, draft& d) {
    const std::size_t first = made_before(in.refunds, period.from);
    const std::size_t last = made_before(in.refunds, period.to);
    if (first == last) {
        return;  // spares working out the commission of every refund
    }
    std::vector<settled_refund> steps = refund_steps(in, ix);
    for (std::size_t j = first; j < last; ++j) {
        d.clawbacks.push_back(
            clawback{.order = in.order, .payable_at = payable, .refund = std::move(steps[j])});
    }
}

// The compensations of an order paid out before `period` that were made in it.
void claw_back_compensations(const settlement_input& in, const settlement_period& period,
                             timestamp payable, draft& d) {
    const std::size_t last = made_before(in.compensations, period.to);
    for (std::size_t j = made_before(in.compensations, period.from); j < last; ++j) {
        d.compensation_clawbacks.push_back(
            compensation_clawback{.order = in.order,
                                  .payable_at = payable,
                                  .compensation = settled_compensation_of(in, j)});
    }
}

// Adds what `in` contributes to a statement for `period`: its payout when it
// is payable in the period; its refunds and compensations in the period when
// it was paid before.
result<void> contribute(const settlement_input& in, const rules_index& ix,
                        const settlement_period& period, draft& d) {
    const timestamp payable = payable_at(ix.rules(), in.completed_at);
    if (period.contains(payable)) {
        auto paid = pay_out(in, ix, period.to);
        if (!paid) {
            return std::move(paid).error();
        }
        d.orders.push_back(std::move(*paid));
        return {};
    }
    if (payable >= period.from) {
        return {};  // not payable yet: a later statement pays it out
    }
    claw_back_refunds(in, ix, period, payable, d);
    claw_back_compensations(in, period, payable, d);
    return {};
}

void sort_draft(draft& d) {
    std::sort(d.orders.begin(), d.orders.end(), [](const settled_order& a, const settled_order& b) {
        return std::pair(a.payable_at, a.order) < std::pair(b.payable_at, b.order);
    });
    std::sort(d.clawbacks.begin(), d.clawbacks.end(), [](const clawback& a, const clawback& b) {
        return std::tuple(a.refund.at, a.order, a.refund.index) <
               std::tuple(b.refund.at, b.order, b.refund.index);
    });
    std::sort(d.compensation_clawbacks.begin(), d.compensation_clawbacks.end(),
              [](const compensation_clawback& a, const compensation_clawback& b) {
                  return std::tuple(a.compensation.at, a.order, a.compensation.index) <
                         std::tuple(b.compensation.at, b.order, b.compensation.index);
              });
}

// The totals a statement lists, each an integer sum of listed amounts.
struct statement_totals {
    money gross;
    money commission;
    money service_fees;
    money refunded;
    money compensated;
    money clawed_back;
    money compensations_clawed_back;
    money commission_returned;
};

statement_totals totals_of(const statement& s) {
    const money zero = money::zero(s.currency);
    statement_totals t{zero, zero, zero, zero, zero, zero, zero, zero};
    for (const settled_order& o : s.orders) {
        t.gross = add(t.gross, o.gross);
        t.commission = add(t.commission, o.commission);
        t.service_fees = add(t.service_fees, o.service_fee);
        t.refunded = add(t.refunded, o.refunded);
        t.compensated = add(t.compensated, o.compensated);
        t.commission_returned = add(t.commission_returned, o.commission_returned);
    }
    for (const clawback& c : s.clawbacks) {
        t.clawed_back = add(t.clawed_back, c.refund.amount);
        t.commission_returned = add(t.commission_returned, c.refund.commission_returned);
    }
    for (const compensation_clawback& c : s.compensation_clawbacks) {
        t.compensations_clawed_back = add(t.compensations_clawed_back, c.compensation.amount);
    }
    return t;
}

statement finish(const merchant_id& merchant, currency in, const settlement_period& period,
                 draft d) {
    sort_draft(d);
    const money zero = money::zero(in);
    statement s{
        .merchant = merchant,
        .currency = in,
        .period = period,
        .orders = std::move(d.orders),
        .clawbacks = std::move(d.clawbacks),
        .compensation_clawbacks = std::move(d.compensation_clawbacks),
        .gross = zero,
        .commission = zero,
        .service_fees = zero,
        .refunded = zero,
        .compensated = zero,
        .clawed_back = zero,
        .compensations_clawed_back = zero,
        .commission_returned = zero,
        .payout = zero,
        .platform_income = zero,
    };
    statement_totals t = totals_of(s);
    s.gross = std::move(t.gross);
    s.commission = std::move(t.commission);
    s.service_fees = std::move(t.service_fees);
    s.refunded = std::move(t.refunded);
    s.compensated = std::move(t.compensated);
    s.clawed_back = std::move(t.clawed_back);
    s.compensations_clawed_back = std::move(t.compensations_clawed_back);
    s.commission_returned = std::move(t.commission_returned);
    s.payout = payout_of(s);
    s.platform_income = platform_income_of(s);
    return s;
}

}  // namespace

result<void> validate(const settlement_rules& rules) {
    if (rules.category_rates.size() > settlement_limits::max_category_rates) {
        return error{
            errc::invalid_value, "category_rates",
            fmt::format("must be at most {} entries", settlement_limits::max_category_rates)};
    }
    std::unordered_set<std::string_view> categories;
    for (std::size_t i = 0; i < rules.category_rates.size(); ++i) {
        const category_rate& entry = rules.category_rates[i];
        const std::string field = fmt::format("category_rates[{}]", i);
        if (entry.category.empty()) {
            return error{errc::missing_value, field + ".category", "must not be empty"};
        }
        if (entry.category.size() > settlement_limits::max_category_bytes) {
            return error{errc::invalid_value, field + ".category", "must be at most 64 bytes"};
        }
        if (!categories.insert(entry.category).second) {
            return error{errc::invalid_value, field + ".category",
                         fmt::format("category {} is listed twice", entry.category)};
        }
        if (auto ok = check_rate(entry.commission, field + ".commission"); !ok) {
            return ok;
        }
    }
    if (auto ok = check_rate(rules.default_rate, "default_rate"); !ok) {
        return ok;
    }
    for (std::size_t i = 0; i < rules.service_fees.size(); ++i) {
        const money& fee = rules.service_fees[i];
        const std::string field = fmt::format("service_fees[{}]", i);
        if (auto ok = check_amount(fee, fee.currency()); !ok) {
            return std::move(ok).error().within(field);
        }
        for (std::size_t k = 0; k < i; ++k) {
            if (rules.service_fees[k].currency() == fee.currency()) {
                return error{errc::invalid_value, field,
                             fmt::format("lists {} a second time", fee.currency())};
            }
        }
    }
    if (rules.account_period_days < 0 ||
        rules.account_period_days > settlement_limits::max_account_period_days) {
        return error{
            errc::invalid_value, "account_period_days",
            fmt::format("must be from 0 to {}, got {}", settlement_limits::max_account_period_days,
                        rules.account_period_days)};
    }
    return {};
}

rate commission_rate(const settlement_rules& rules, std::string_view category) {
    for (const auto& entry : rules.category_rates) {
        if (entry.category == category) {
            return entry.commission;
        }
    }
    return rules.default_rate;
}

timestamp payable_at(const settlement_rules& rules, timestamp completed_at) {
    return completed_at + std::chrono::days(rules.account_period_days);
}

result<void> validate(const settlement_input& input, const settlement_rules& rules) {
    try {
        return check_input(input, rules);
    } catch (const error_exception& e) {
        return e.error_value();
    }
}

result<settlement_input> settlement_input_of(const order& o,
                                             std::span<const std::string> categories,
                                             timestamp completed_at,
                                             std::span<const settlement_refund> refunds,
                                             const settlement_rules& rules) {
    if (categories.size() != o.lines.size()) {
        return error{
            errc::invalid_value, "categories",
            fmt::format("has {} categories for {} lines", categories.size(), o.lines.size())};
    }
    settlement_input in{
        .order = o.id,
        .merchant = o.merchant,
        .currency = o.total.currency(),
        .completed_at = completed_at,
        .lines = {},
        .shipping = o.shipping_fee,
        .refunds = {refunds.begin(), refunds.end()},
        .compensations = {},
    };
    for (const order_refund& entry : o.refunds) {
        if (entry.source == refund_source::compensation) {
            in.compensations.push_back(settlement_compensation{
                .at = entry.at, .amount = entry.amount, .reason = entry.reason});
        }
    }
    in.lines.reserve(o.lines.size());
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        auto paid = paid_amount(o.lines[i]);
        if (!paid) {
            return std::move(paid).error().within(fmt::format("lines[{}]", i));
        }
        in.lines.push_back(settlement_line{.category = categories[i], .paid = std::move(*paid)});
    }
    if (auto ok = validate(in, rules); !ok) {
        return std::move(ok).error();
    }
    return in;
}

result<statement> settle(const settlement_rules& rules, std::span<const settlement_input> inputs,
                         const merchant_id& merchant, orderly::currency currency,
                         const settlement_period& period) {
    try {
        if (auto ok = check_all(rules, inputs); !ok) {
            return std::move(ok).error();
        }
        if (auto ok = check_period(period); !ok) {
            return std::move(ok).error();
        }
        if (merchant.empty()) {
            return error{errc::missing_value, "merchant", "must not be empty"};
        }
        const rules_index ix(rules);
        bool known = false;
        draft d;
        for (const settlement_input& input : inputs) {
            if (input.merchant != merchant) {
                continue;
            }
            known = true;
            if (input.currency != currency) {
                continue;
            }
            if (auto ok = contribute(input, ix, period, d); !ok) {
                return std::move(ok).error();
            }
        }
        if (!known) {
            return error{errc::not_found, "merchant",
                         fmt::format("no order of merchant {} is among the inputs", merchant)};
        }
        return finish(merchant, currency, period, std::move(d));
    } catch (const error_exception& e) {
        return e.error_value();
    }
}

result<period_settlement> settle_period(const settlement_rules& rules,
                                        std::span<const settlement_input> inputs,
                                        const settlement_period& period) {
    try {
        if (auto ok = check_all(rules, inputs); !ok) {
            return std::move(ok).error();
        }
        if (auto ok = check_period(period); !ok) {
            return std::move(ok).error();
        }
        const rules_index ix(rules);
        std::map<std::pair<merchant_id, currency>, draft> drafts;
        for (const settlement_input& input : inputs) {
            draft d;
            if (auto ok = contribute(input, ix, period, d); !ok) {
                return std::move(ok).error();
            }
            if (!d.empty()) {
                drafts[{input.merchant, input.currency}].append(std::move(d));
            }
        }
        period_settlement out{.period = period, .statements = {}};
        out.statements.reserve(drafts.size());
        for (auto& [key, d] : drafts) {
            out.statements.push_back(finish(key.first, key.second, period, std::move(d)));
        }
        return out;
    } catch (const error_exception& e) {
        return e.error_value();
    }
}

namespace {

// Which of an order's refunds and compensations a run of periods [first, end) settles.
struct run_span {
    timestamp first;
    timestamp end;

    // The run pays out an order payable then.
    [[nodiscard]] bool pays(timestamp payable) const noexcept {
        return first <= payable && payable < end;
    }

    // Something given back at `at`, of an order payable at `payable`, is
    // netted on the run's payout of the order or clawed back in the run.
    [[nodiscard]] bool settles(timestamp payable, timestamp at) const noexcept {
        return (pays(payable) && at < end) || (payable < first && first <= at && at < end);
    }
};

// Checks a run of statements; see reconcile() in the header.
class reconciler {
public:
    reconciler(const settlement_rules& rules, std::span<const settlement_input> inputs)
        : rules_(rules), inputs_(inputs) {
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            index_.emplace(inputs[k].order.value(), k);
            orders_settled_.push_back(0);
            refunds_settled_.emplace_back(inputs[k].refunds.size(), 0);
            compensations_settled_.emplace_back(inputs[k].compensations.size(), 0);
        }
    }

    std::vector<reconciliation_difference> run(std::span<const period_settlement> periods) {
        if (periods.empty()) {
            return {};
        }
        for (std::size_t i = 0; i < periods.size(); ++i) {
            const settlement_period& p = periods[i].period;
            const std::string field = fmt::format("periods[{}].period", i);
            if (p.to <= p.from) {
                differ(field + ".to", "is not later than its from");
            }
            if (i > 0 && p.from != periods[i - 1].period.to) {
                differ(field + ".from",
                       fmt::format("does not start where periods[{}] ends", i - 1));
            }
            std::vector<std::pair<merchant_id, currency>> seen;
            for (std::size_t si = 0; si < periods[i].statements.size(); ++si) {
                const statement& s = periods[i].statements[si];
                const std::string path = fmt::format("periods[{}].statements[{}]", i, si);
                if (s.period != p) {
                    differ(path + ".period", "is not the period it is listed under");
                }
                const std::pair key(s.merchant, s.currency);
                if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
                    differ(path + ".merchant",
                           fmt::format("merchant {} has a second {} statement in this period",
                                       s.merchant, s.currency));
                }
                seen.push_back(key);
                try {
                    check_statement(s, path);
                } catch (const error_exception& e) {
                    differ(path, fmt::format("does not add up: {}", e.what()));
                }
            }
        }
        check_once(run_span{periods.front().period.from, periods.back().period.to});
        return std::move(differences_);
    }

private:
    void differ(std::string field, std::string message, std::optional<money> expected = {},
                std::optional<money> actual = {}) {
        differences_.push_back(reconciliation_difference{.field = std::move(field),
                                                         .message = std::move(message),
                                                         .expected = std::move(expected),
                                                         .actual = std::move(actual)});
    }

    void expect(const std::string& field, const money& expected, const money& actual) {
        if (expected != actual) {
            differ(field, fmt::format("is {}, expected {}", actual, expected), expected, actual);
        }
    }

    // The input of a listed order, or nothing (and a difference) when there is none.
    const settlement_input* input_of(const order_id& id, const statement& s,
                                     const std::string& field) {
        const auto found = index_.find(id.value());
        if (found == index_.end()) {
            differ(field, fmt::format("order {} is not among the inputs", id));
            return nullptr;
        }
        const settlement_input& in = inputs_[found->second];
        if (in.merchant != s.merchant || in.currency != s.currency) {
            differ(field, fmt::format("order {} is merchant {}'s in {}, not on this statement", id,
                                      in.merchant, in.currency));
            return nullptr;
        }
        return &in;
    }

    std::size_t position(const settlement_input& in) const {
        return static_cast<std::size_t>(&in - inputs_.data());
    }

    // The refund or compensation of `in` a listed one names by `index`,
    // counted as settled once more; nothing (and a difference) when the
    // index names none.
    template <class Entry>
    const Entry* entry_named(const settlement_input& in, const std::vector<Entry>& entries,
                             std::vector<std::vector<int>>& settled, entry_kind kind,
                             std::uint32_t index, timestamp at, const std::string& path) {
        if (index >= entries.size()) {
            differ(path + ".index", fmt::format("order {} has {} {}, not {}", in.order,
                                                entries.size(), kind.list, index + 1));
            return nullptr;
        }
        ++settled[position(in)][index];
        if (at != entries[index].at) {
            differ(path + ".at", fmt::format("is not the {}'s time", kind.noun));
        }
        return &entries[index];
    }

    // A listed refund against the input's; counts it. False when it names none.
    bool check_refund(const settlement_input& in, const settled_refund& r,
                      const std::string& path) {
        const settlement_refund* given =
            entry_named(in, in.refunds, refunds_settled_, refund_kind, r.index, r.at, path);
        if (given == nullptr) {
            return false;
        }
        expect(path + ".goods", given->refund.goods, r.goods);
        expect(path + ".shipping", given->refund.shipping, r.shipping);
        expect(path + ".amount", add(r.goods, r.shipping), r.amount);
        return true;
    }

    // A listed compensation against the input's; counts it. False when it names none.
    bool check_compensation(const settlement_input& in, const settled_compensation& c,
                            const std::string& path) {
        const settlement_compensation* given = entry_named(
            in, in.compensations, compensations_settled_, compensation_kind, c.index, c.at, path);
        if (given == nullptr) {
            return false;
        }
        expect(path + ".amount", given->amount, c.amount);
        if (c.reason != given->reason) {
            differ(path + ".reason", "is not the compensation's reason");
        }
        return true;
    }

    // Something netted on a payout was made before the statement's end.
    void netted_in_time(timestamp at, const statement& s, const std::string& path) {
        if (at >= s.period.to) {
            differ(path + ".at", "is after the statement's end: a clawback, not netted");
        }
    }

    // The refunds netted on `o`, their sums, and the goods refunded per line.
    void check_netted_refunds(const settled_order& o, const settlement_input& in,
                              const statement& s, const std::string& path) {
        const money zero = money::zero(s.currency);
        std::vector<money> refunded(in.lines.size(), zero);
        money total = zero;
        money returned = zero;
        for (std::size_t x = 0; x < o.refunds.size(); ++x) {
            const settled_refund& r = o.refunds[x];
            const std::string at = fmt::format("{}.refunds[{}]", path, x);
            if (!check_refund(in, r, at)) {
                continue;
            }
            netted_in_time(r.at, s, at);
            for (const refund_line& part : in.refunds[r.index].refund.lines) {
                refunded[part.line] = add(refunded[part.line], part.goods);
            }
            total = add(total, r.amount);
            returned = add(returned, r.commission_returned);
        }
        expect(path + ".refunded", total, o.refunded);
        expect(path + ".commission_returned", returned, o.commission_returned);
        if (o.lines.size() != in.lines.size()) {
            differ(path + ".lines",
                   fmt::format("has {} lines; the order has {}", o.lines.size(), in.lines.size()));
            return;
        }
        for (std::size_t l = 0; l < o.lines.size(); ++l) {
            const std::string at = fmt::format("{}.lines[{}]", path, l);
            expect(at + ".paid", in.lines[l].paid, o.lines[l].paid);
            expect(at + ".refunded", refunded[l], o.lines[l].refunded);
        }
    }

    // The compensations netted on `o` and their sum.
    void check_netted_compensations(const settled_order& o, const settlement_input& in,
                                    const statement& s, const std::string& path) {
        money total = money::zero(s.currency);
        for (std::size_t x = 0; x < o.compensations.size(); ++x) {
            const settled_compensation& c = o.compensations[x];
            const std::string at = fmt::format("{}.compensations[{}]", path, x);
            if (!check_compensation(in, c, at)) {
                continue;
            }
            netted_in_time(c.at, s, at);
            total = add(total, c.amount);
        }
        expect(path + ".compensated", total, o.compensated);
    }

    void check_order(const settled_order& o, const statement& s, const std::string& path) {
        const settlement_input* in = input_of(o.order, s, path + ".order");
        if (in == nullptr) {
            return;
        }
        ++orders_settled_[position(*in)];
        const timestamp payable = payable_at(rules_, in->completed_at);
        if (o.completed_at != in->completed_at || o.payable_at != payable) {
            differ(path + ".payable_at", "is not the order's completion time plus N days");
        }
        if (!s.period.contains(payable)) {
            differ(path + ".payable_at", "lies outside the statement's period");
        }
        check_netted_refunds(o, *in, s, path);
        check_netted_compensations(o, *in, s, path);
        const money zero = money::zero(s.currency);
        money goods = zero;
        money commission = zero;
        money returned = zero;
        for (const settled_line& line : o.lines) {
            goods = add(goods, line.paid);
            commission = add(commission, line.commission);
            returned = add(returned, line.commission_returned);
        }
        expect(path + ".goods", goods, o.goods);
        expect(path + ".shipping", in->shipping, o.shipping);
        expect(path + ".gross", add(o.goods, o.shipping), o.gross);
        expect(path + ".commission", commission, o.commission);
        expect(path + ".commission_returned", returned, o.commission_returned);
        expect(path + ".payout", payout_of(o), o.payout);
    }

    // The order of a clawback: one of the statement's, paid out before its
    // period, with the clawed-back entry's time `at` inside the period.
    const settlement_input* clawed_order(const order_id& id, timestamp listed_payable, timestamp at,
                                         const statement& s, const std::string& path,
                                         const std::string& at_field) {
        const settlement_input* in = input_of(id, s, path + ".order");
        if (in == nullptr) {
            return nullptr;
        }
        const timestamp payable = payable_at(rules_, in->completed_at);
        if (listed_payable != payable) {
            differ(path + ".payable_at", "is not the order's completion time plus N days");
        }
        if (payable >= s.period.from) {
            differ(path + ".payable_at",
                   "is not before the statement's period: the order was not paid out before");
        }
        if (!s.period.contains(at)) {
            differ(at_field, "lies outside the statement's period");
        }
        return in;
    }

    void check_clawback(const clawback& c, const statement& s, const std::string& path) {
        const settlement_input* in =
            clawed_order(c.order, c.payable_at, c.refund.at, s, path, path + ".refund.at");
        if (in != nullptr) {
            check_refund(*in, c.refund, path + ".refund");
        }
    }

    void check_clawback(const compensation_clawback& c, const statement& s,
                        const std::string& path) {
        const settlement_input* in = clawed_order(c.order, c.payable_at, c.compensation.at, s, path,
                                                  path + ".compensation.at");
        if (in != nullptr) {
            check_compensation(*in, c.compensation, path + ".compensation");
        }
    }

    void check_statement(const statement& s, const std::string& path) {
        for (std::size_t x = 0; x < s.orders.size(); ++x) {
            check_order(s.orders[x], s, fmt::format("{}.orders[{}]", path, x));
        }
        for (std::size_t x = 0; x < s.clawbacks.size(); ++x) {
            check_clawback(s.clawbacks[x], s, fmt::format("{}.clawbacks[{}]", path, x));
        }
        for (std::size_t x = 0; x < s.compensation_clawbacks.size(); ++x) {
            check_clawback(s.compensation_clawbacks[x], s,
                           fmt::format("{}.compensation_clawbacks[{}]", path, x));
        }
        const statement_totals t = totals_of(s);
        expect(path + ".gross", t.gross, s.gross);
        expect(path + ".commission", t.commission, s.commission);
        expect(path + ".service_fees", t.service_fees, s.service_fees);
        expect(path + ".refunded", t.refunded, s.refunded);
        expect(path + ".compensated", t.compensated, s.compensated);
        expect(path + ".clawed_back", t.clawed_back, s.clawed_back);
        expect(path + ".compensations_clawed_back", t.compensations_clawed_back,
               s.compensations_clawed_back);
        expect(path + ".commission_returned", t.commission_returned, s.commission_returned);
        expect(path + ".payout", payout_of(s), s.payout);
        expect(path + ".platform_income", platform_income_of(s), s.platform_income);
        const money settled = add(s.payout, s.platform_income);
        add_to(actual_by_merchant_, {s.merchant, s.currency}, settled);
        add_to(actual_by_currency_, s.currency, settled);
    }

    template <class Key>
    static void add_to(std::map<Key, money>& sums, const Key& key, const money& amount) {
        const auto found = sums.find(key);
        if (found == sums.end()) {
            sums.emplace(key, amount);
        } else {
            found->second = add(found->second, amount);
        }
    }

    // Checks that the run settled each of input k's refunds or compensations
    // exactly when it should, once; returns the sum of those it should.
    template <class Entry, class Amount>
    money settled_once(std::size_t k, const std::vector<Entry>& entries,
                       const std::vector<int>& times, entry_kind kind, const run_span& run,
                       Amount amount_of) {
        const settlement_input& in = inputs_[k];
        const timestamp payable = payable_at(rules_, in.completed_at);
        money total = money::zero(in.currency);
        for (std::size_t j = 0; j < entries.size(); ++j) {
            const bool settled = run.settles(payable, entries[j].at);
            if (times[j] != (settled ? 1 : 0)) {
                differ(fmt::format("orders[{}].{}[{}]", k, kind.list, j),
                       fmt::format("{} {} of order {} is settled {} times; expected {}", kind.noun,
                                   j, in.order, times[j], settled ? 1 : 0));
            }
            if (settled) {
                total = add(total, amount_of(entries[j]));
            }
        }
        return total;
    }

    // Exactly-once for orders, refunds and compensations, and the balances
    // against the inputs.
    void check_once(const run_span& run) {
        std::map<std::pair<merchant_id, currency>, money> expected_by_merchant;
        std::map<currency, money> expected_by_currency;
        for (std::size_t k = 0; k < inputs_.size(); ++k) {
            const settlement_input& in = inputs_[k];
            const bool paid = run.pays(payable_at(rules_, in.completed_at));
            const int times = orders_settled_[k];
            if (times != (paid ? 1 : 0)) {
                differ(fmt::format("orders[{}]", k),
                       fmt::format("order {} is paid out {} times; expected {}", in.order, times,
                                   paid ? 1 : 0));
            }
            money flow = money::zero(in.currency);
            if (paid) {
                for (const auto& line : in.lines) {
                    flow = add(flow, line.paid);
                }
                flow = add(flow, in.shipping);
            }
            flow =
                sub(flow, settled_once(k, in.refunds, refunds_settled_[k], refund_kind, run,
                                       [](const settlement_refund& r) { return r.refund.total; }));
            flow = sub(flow, settled_once(
                                 k, in.compensations, compensations_settled_[k], compensation_kind,
                                 run, [](const settlement_compensation& c) { return c.amount; }));
            if (paid || !flow.is_zero()) {
                add_to(expected_by_merchant, {in.merchant, in.currency}, flow);
                add_to(expected_by_currency, in.currency, flow);
            }
        }
        balance(expected_by_merchant, actual_by_merchant_,
                [](const std::pair<merchant_id, currency>& key) {
                    return fmt::format("merchants[{}].{}", key.first, key.second);
                });
        balance(expected_by_currency, actual_by_currency_,
                [](const currency& key) { return fmt::format("totals.{}", key); });
    }

    template <class Key, class Name>
    void balance(const std::map<Key, money>& expected, const std::map<Key, money>& actual,
                 Name name) {
        std::map<Key, std::pair<money, money>> both;
        for (const auto& [key, amount] : expected) {
            both.emplace(key, std::pair(amount, money::zero(amount.currency())));
        }
        for (const auto& [key, amount] : actual) {
            const auto found = both.find(key);
            if (found == both.end()) {
                both.emplace(key, std::pair(money::zero(amount.currency()), amount));
            } else {
                found->second.second = amount;
            }
        }
        for (const auto& [key, amounts] : both) {
            if (amounts.first != amounts.second) {
                differ(name(key),
                       fmt::format("payouts plus platform income are {}; customers paid minus "
                                   "refunds and compensations is {}",
                                   amounts.second, amounts.first),
                       amounts.first, amounts.second);
            }
        }
    }

    const settlement_rules& rules_;
    std::span<const settlement_input> inputs_;
    std::unordered_map<std::uint64_t, std::size_t> index_;
    std::vector<int> orders_settled_;
    std::vector<std::vector<int>> refunds_settled_;
    std::vector<std::vector<int>> compensations_settled_;
    std::map<std::pair<merchant_id, currency>, money> actual_by_merchant_;
    std::map<currency, money> actual_by_currency_;
    std::vector<reconciliation_difference> differences_;
};

}  // namespace

result<std::vector<reconciliation_difference>> reconcile(
    const settlement_rules& rules, std::span<const settlement_input> inputs,
    std::span<const period_settlement> periods) {
    try {
        if (auto ok = check_all(rules, inputs); !ok) {
            return std::move(ok).error();
        }
        return reconciler(rules, inputs).run(periods);
    } catch (const error_exception& e) {
        return e.error_value();
    }
}

}  // namespace orderly
