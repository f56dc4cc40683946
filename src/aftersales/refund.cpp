// Exact refunds: see orderly/aftersales/refund.hpp for the rules.

#include <orderly/aftersales/refund.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace orderly {

namespace {

// The sum of the first `n` of `units` parts of `whole` split by largest
// remainder, earlier parts first: n × q + min(n, r) where whole = q × units + r.
money first_parts(const money& whole, std::int64_t units, std::int64_t n) {
    if (units <= 0 || n <= 0) {
        return money::zero(whole.currency());
    }
    money::amount_type q;
    money::amount_type r;
    boost::multiprecision::divide_qr(whole.amount_minor(), money::amount_type(units), q, r);
    const money::amount_type extra = std::min(money::amount_type(n), r);
    return money::from_minor(money::amount_type(q * n + extra), whole.currency());
}

// The smaller of `a` and `b` (one currency), never below zero.
money at_most(const money& a, const money& b) {
    const money& m = b < a ? b : a;
    return m.is_negative() ? money::zero(m.currency()) : m;
}

// The parts r+1 … r+k of `whole` over `units` parts.
result<money> parts_between(const money& whole, std::int64_t units, std::int64_t r,
                            std::int64_t k) {
    return first_parts(whole, units, r + k).minus(first_parts(whole, units, r));
}

}  // namespace

result<money> paid_amount(const order_line& line) {
    auto gross = line.unit_price.times(line.units);
    if (!gross) {
        return std::move(gross).error();
    }
    return gross->minus(line.discount);
}

result<std::vector<money>> shipping_shares(const order& o) {
    const currency in = o.shipping_fee.currency();
    if (o.lines.empty()) {
        return error{errc::missing_value, "lines", "the order has no lines"};
    }
    if (o.shipping_fee.is_zero()) {
        return std::vector<money>(o.lines.size(), money::zero(in));
    }
    std::vector<std::int64_t> weights;
    weights.reserve(o.lines.size());
    bool any = false;
    for (const auto& l : o.lines) {
        auto paid = paid_amount(l);
        if (!paid) {
            return std::move(paid).error();
        }
        auto minor = paid->amount_minor_int64();
        if (!minor) {
            return std::move(minor).error().within("lines");
        }
        weights.push_back(std::max<std::int64_t>(*minor, 0));
        any = any || *minor > 0;
    }
    if (!any) {
        for (std::size_t i = 0; i < o.lines.size(); ++i) {
            weights[i] = o.lines[i].units.units();
        }
    }
    return o.shipping_fee.allocate(std::span<const std::int64_t>(weights));
}

result<refunded_lines> tally_refunds(const order& o, std::span<const refund_breakdown> earlier) {
    const currency in = o.total.currency();
    refunded_lines t;
    t.units.assign(o.lines.size(), 0);
    t.goods.assign(o.lines.size(), money::zero(in));
    t.shipping.assign(o.lines.size(), money::zero(in));
    for (const auto& b : earlier) {
        for (const auto& l : b.lines) {
            if (l.line >= o.lines.size()) {
                return error{errc::invalid_value, "refunds",
                             fmt::format("a refund names line {} of an order with {} lines", l.line,
                                         o.lines.size())};
            }
            t.units[l.line] += l.units.units();
            auto goods = t.goods[l.line].plus(l.goods);
            auto shipping = t.shipping[l.line].plus(l.shipping);
            if (!goods || !shipping) {
                return error{errc::overflow, "refunds", "refunded amounts overflow"};
            }
            t.goods[l.line] = std::move(*goods);
            t.shipping[l.line] = std::move(*shipping);
        }
    }
    return t;
}

result<refunded_lines> tally_refunds(const order& o) {
    std::vector<refund_breakdown> tied;
    for (const auto& r : o.refunds) {
        if (!refund_tied_to_price(r.source)) {
            continue;
        }
        const money none = money::zero(o.total.currency());
        refund_breakdown b{r.lines, none, none, r.amount};
        tied.push_back(std::move(b));
    }
    return tally_refunds(o, tied);
}

bool every_unit_refunded(const order& o, const refunded_lines& t) noexcept {
    if (t.units.size() != o.lines.size()) {
        return false;
    }
    for (std::size_t l = 0; l < o.lines.size(); ++l) {
        if (t.units[l] < o.lines[l].units.units()) {
            return false;
        }
    }
    return true;
}

namespace {

// Spreads `amount` over `room` (what each line has left, none negative) by
// largest remainder over the room, earlier lines first on a tie; `amount`
// is at most the room's sum.
result<std::vector<money>> spread(const money& amount, const std::vector<money>& room) {
    std::vector<std::int64_t> weights;
    weights.reserve(room.size());
    for (const auto& r : room) {
        auto minor = r.amount_minor_int64();
        if (!minor) {
            return std::move(minor).error().within("amount");
        }
        weights.push_back(*minor);
    }
    auto parts = amount.allocate(std::span<const std::int64_t>(weights));
    if (!parts) {
        return std::move(parts).error().within("amount");
    }
    return parts;
}

}  // namespace

result<std::vector<refund_line>> allocate_refund(const order& o, const money& amount,
                                                 const refunded_lines& before) {
    const currency in = o.total.currency();
    const std::size_t n = o.lines.size();
    if (amount.currency() != in) {
        return error{
            errc::currency_mismatch, "amount",
            fmt::format("is in {}, the order is in {}", amount.currency().code(), in.code())};
    }
    if (!amount.is_positive()) {
        return error{errc::amount_mismatch, "amount", "must be more than zero"};
    }
    if (before.units.size() != n || before.goods.size() != n || before.shipping.size() != n) {
        return error{errc::invalid_value, "refunds", "the tally does not match the order's lines"};
    }
    auto shares = shipping_shares(o);
    if (!shares) {
        return std::move(shares).error();
    }
    std::vector<money> goods_left;
    std::vector<money> shipping_left;
    money goods_sum = money::zero(in);
    money shipping_sum = money::zero(in);
    for (std::size_t l = 0; l < n; ++l) {
        auto paid = paid_amount(o.lines[l]);
        if (!paid) {
            return std::move(paid).error();
        }
        auto g = paid->minus(before.goods[l]);
        auto s = (*shares)[l].minus(before.shipping[l]);
        if (!g || !s) {
            return error{errc::overflow, "amount", "the refund overflows"};
        }
        goods_left.push_back(g->is_negative() ? money::zero(in) : *g);
        shipping_left.push_back(s->is_negative() ? money::zero(in) : *s);
        auto gs = goods_sum.plus(goods_left.back());
        auto ss = shipping_sum.plus(shipping_left.back());
        if (!gs || !ss) {
            return error{errc::overflow, "amount", "the refund overflows"};
        }
        goods_sum = std::move(*gs);
        shipping_sum = std::move(*ss);
    }
    auto all_left = goods_sum.plus(shipping_sum);
    if (!all_left) {
        return std::move(all_left).error().within("amount");
    }
    if (*all_left < amount) {
        return error{errc::amount_mismatch, "amount",
                     fmt::format("is {}, more than the {} left to refund", amount.to_string(),
                                 all_left->to_string())};
    }
    const money on_goods = goods_sum < amount ? goods_sum : amount;
    auto on_shipping = amount.minus(on_goods);
    if (!on_shipping) {
        return std::move(on_shipping).error();
    }
    std::vector<money> goods_parts(n, money::zero(in));
    std::vector<money> shipping_parts(n, money::zero(in));
    if (on_goods.is_positive()) {
        auto parts = spread(on_goods, goods_left);
        if (!parts) {
            return std::move(parts).error();
        }
        goods_parts = std::move(*parts);
    }
    if (on_shipping->is_positive()) {
        auto parts = spread(*on_shipping, shipping_left);
        if (!parts) {
            return std::move(parts).error();
        }
        shipping_parts = std::move(*parts);
    }
    std::vector<refund_line> out;
    for (std::size_t l = 0; l < n; ++l) {
        if (goods_parts[l].is_zero() && shipping_parts[l].is_zero()) {
            continue;
        }
        out.push_back(refund_line{static_cast<std::uint32_t>(l), quantity{},
                                  std::move(goods_parts[l]), std::move(shipping_parts[l])});
    }
    return out;
}

result<refund_breakdown> compute_refund(const order& o, std::span<const refund_claim> claim,
                                        const refunded_lines& before, bool seller_fault) {
    if (claim.empty()) {
        return error{errc::missing_value, "lines", "a refund needs at least one line"};
    }
    const std::size_t n = o.lines.size();
    if (before.units.size() != n || before.goods.size() != n || before.shipping.size() != n) {
        return error{errc::invalid_value, "refunds", "the tally does not match the order's lines"};
    }
    auto shares = shipping_shares(o);
    if (!shares) {
        return std::move(shares).error();
    }
    // Units claimed per line, checked against what is left to refund.
    std::vector<std::int64_t> claimed(n, 0);
    for (std::size_t i = 0; i < claim.size(); ++i) {
        const auto& c = claim[i];
        if (c.line >= n) {
            return error{errc::invalid_value, fmt::format("lines[{}].line", i),
                         fmt::format("the order has {} lines", n)};
        }
        if (c.units.units() <= 0) {
            return error{errc::invalid_value, fmt::format("lines[{}].units", i),
                         "must be more than zero"};
        }
        claimed[c.line] += c.units.units();
        const std::int64_t left = o.lines[c.line].units.units() - before.units[c.line];
        if (claimed[c.line] > left) {
            return error{errc::invalid_value, fmt::format("lines[{}].units", i),
                         fmt::format("line {} has {} unit(s) left to refund", c.line, left)};
        }
    }
    bool whole_order = true;
    for (std::size_t l = 0; l < n; ++l) {
        whole_order = whole_order && before.units[l] + claimed[l] == o.lines[l].units.units();
    }
    const currency in = o.total.currency();
    refund_breakdown out{{}, money::zero(in), money::zero(in), money::zero(in)};
    for (std::size_t l = 0; l < n; ++l) {
        const std::int64_t units = o.lines[l].units.units();
        money goods = money::zero(in);
        money shipping = money::zero(in);
        if (claimed[l] > 0) {
            auto paid = paid_amount(o.lines[l]);
            if (!paid) {
                return std::move(paid).error();
            }
            auto g = parts_between(*paid, units, before.units[l], claimed[l]);
            auto left = paid->minus(before.goods[l]);
            if (!g || !left) {
                return error{errc::overflow, "lines", "the refund overflows"};
            }
            goods = at_most(*g, *left);
        }
        auto shipping_left = (*shares)[l].minus(before.shipping[l]);
        if (!shipping_left) {
            return std::move(shipping_left).error();
        }
        if (whole_order) {
            shipping = at_most(*shipping_left, *shipping_left);
        } else if (seller_fault && claimed[l] > 0) {
            auto s = parts_between((*shares)[l], units, before.units[l], claimed[l]);
            if (!s) {
                return std::move(s).error();
            }
            shipping = at_most(*s, *shipping_left);
        }
        if (claimed[l] == 0 && shipping.is_zero()) {
            continue;
        }
        auto g_sum = out.goods.plus(goods);
        auto s_sum = out.shipping.plus(shipping);
        if (!g_sum || !s_sum) {
            return error{errc::overflow, "lines", "the refund overflows"};
        }
        out.goods = std::move(*g_sum);
        out.shipping = std::move(*s_sum);
        out.lines.push_back(refund_line{static_cast<std::uint32_t>(l), *quantity::of(claimed[l]),
                                        std::move(goods), std::move(shipping)});
    }
    auto total = out.goods.plus(out.shipping);
    if (!total) {
        return std::move(total).error();
    }
    out.total = std::move(*total);
    return out;
}

}  // namespace orderly
