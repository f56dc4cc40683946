#pragma once
/// \file
/// Merchant settlement: what the platform owes each merchant for its
/// completed orders, period by period, to the minor unit. Pure functions:
/// values in, values out, no store, no clock, no engine.
///
/// The rules, and why:
///  - **Account period.** An order completed at `t` is payable from
///    `t + account_period_days` days (T+N). It is paid out by the statement
///    whose period [from, to) holds that payable time, and by no other.
///    Orders not completed yet are not inputs; an order completed but not yet
///    payable waits for a later period.
///  - **Gross** of an order is what the customer paid the merchant: every
///    line's paid amount (unit price × units − its share of the order
///    discount) plus the shipping fee.
///  - **Shipping goes to the merchant** (the merchant ships) and bears no
///    commission; shipping refunds come back out of the merchant's payout.
///  - **Commission** is the line's category rate (the rules' default rate for
///    a category without one) times the line's paid amount, rounded **once
///    per order line** with `settlement_rules::commission_rounding`
///    (half-even unless set). Per line because a rate belongs to a category,
///    hence to a line, and refunds are per line too: each line's commission
///    is one exact product rounded once, listed on the statement, and every
///    total is an integer sum of listed amounts, so nothing is ever re-derived
///    from a sum by a rate and the statement adds up to the cent. Rounding
///    a statement's total gross instead would leave the per-order listing
///    off by cents from the total. One set of rules applies to every input
///    of a call, clawbacks of earlier orders included: a host whose rates
///    change settles the orders sold under each set of rules with those rules.
///  - **Commission is returned on refunded goods.** At any time a line's
///    commission is the rounded rate times what the merchant keeps of it:
///    round(rate × (paid − goods refunded so far)). A refund returns the
///    difference between that before and after it. So a fully refunded line
///    returns exactly the commission it was charged (never a cent more or
///    less), and any sequence of partial refunds returns in total exactly
///    what refunding them at once would. Shipping refunds return nothing
///    (shipping bore none).
///  - **Service fee**: a fixed amount per order, per currency (the rules
///    list one for every currency whose orders are paid out; zero is a fee).
///    Charged once, in the statement that pays the order out, and not
///    returned on refunds.
///  - **Refunds are netted.** A refund made before the end (`to`) of the
///    statement that pays its order out is taken off that order's payout. A
///    refund made later is a **clawback**: taken off the statement whose
///    period holds the refund's time, listed with its order. A payout may
///    therefore be negative: the merchant owes the platform that much.
///  - **Compensations** (money paid to a customer outside the payments, for
///    a late or damaged parcel) are borne by the merchant in full: they
///    carry no commission, so none is returned, and they are not limited by
///    what the order paid (one may exceed its price). Otherwise they settle
///    as refunds do: netted on the order's payout when made before the end
///    of the statement that pays it out, clawed back in the statement whose
///    period holds their time when made later, listed apart from the
///    refunds' clawbacks.
///  - **Statements** are one per merchant, per currency and per period.
///    Periods must be consecutive and must not overlap (each starts where the
///    last ended): a statement for [from, to) assumes every order payable
///    before `from` was paid out by an earlier one, which is what makes a
///    refund in [from, to) of such an order a clawback.
///
/// For every order (which has no clawbacks) and every statement:
///   payout = gross − commission − service fees − refunded − compensated
///            − clawed back − compensations clawed back + commission returned
///   platform income = commission + service fees − commission returned
/// so payout + platform income = gross − refunded − compensated − clawed
/// back − compensations clawed back: over a run of consecutive periods, what
/// merchants are paid plus what the platform keeps is what customers paid
/// minus every refund and compensation they got. Every total is an integer
/// sum of amounts listed on the statement. reconcile() checks exactly that,
/// and that every order, refund and compensation is settled exactly once.

#include <orderly/aftersales/refund.hpp>
#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/currency.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/rate.hpp>
#include <orderly/core/rounding.hpp>
#include <orderly/core/time.hpp>
#include <orderly/order/order.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// Limits on what settlement accepts; larger inputs are refused with
/// invalid_value, so the work per call stays bounded.
struct settlement_limits {
    /// Orders per call.
    static constexpr std::size_t max_orders = 1'000'000;
    /// Lines per order.
    static constexpr std::size_t max_lines = 1000;
    /// Refunds per order.
    static constexpr std::size_t max_refunds = 1000;
    /// Compensations per order.
    static constexpr std::size_t max_compensations = 1000;
    /// Category rates in the rules.
    static constexpr std::size_t max_category_rates = 10'000;
    /// Bytes of a category code (as orderly::sku allows).
    static constexpr std::size_t max_category_bytes = 64;
    /// Largest account period, in days.
    static constexpr std::int32_t max_account_period_days = 3650;
};

/// The commission rate of one product category.
struct category_rate {
    std::string category{};  ///< The category code, as on orderly::sku. Required.
    rate commission{};       ///< The share of a line's paid amount, from 0 to 1 (0.055 is 5.5 %).

    /// Entries are equal when every field is.
    friend bool operator==(const category_rate&, const category_rate&) = default;
};

/// How the platform settles with its merchants.
struct settlement_rules {
    /// Commission per category; each category at most once.
    std::vector<category_rate> category_rates{};
    /// The commission of a category not in `category_rates` (an empty category
    /// included), from 0 to 1.
    rate default_rate{};
    /// The service fee per order, one for each currency settled (zero is a
    /// fee), each currency at most once, never negative. Settling an order in
    /// a currency without one is refused.
    std::vector<money> service_fees{};
    /// N of T+N: an order completed at t is payable from t + N days;
    /// 0 to settlement_limits::max_account_period_days.
    std::int32_t account_period_days{7};
    /// How each line's commission is rounded to a minor unit.
    rounding commission_rounding{rounding::half_even};

    /// Rules are equal when every field is.
    friend bool operator==(const settlement_rules&, const settlement_rules&) = default;
};

/// Checks the rules. Refusals name the field: a category empty
/// (missing_value, "category_rates[i].category"), longer than 64 bytes or
/// listed twice (invalid_value, same field); a rate below 0 or above 1
/// (invalid_value, "category_rates[i].commission" or "default_rate"); a
/// negative service fee or a currency listed twice (invalid_value,
/// "service_fees[i]"); a fee not fitting 64 bits of minor units (overflow,
/// "service_fees[i]"); an account period outside 0 to 3650 days
/// (invalid_value, "account_period_days"); more category rates than
/// settlement_limits allows (invalid_value, "category_rates").
[[nodiscard]] result<void> validate(const settlement_rules& rules);

/// The commission rate of `category` under `rules`: its own, or the default.
[[nodiscard]] rate commission_rate(const settlement_rules& rules, std::string_view category);

/// When an order completed at `completed_at` becomes payable: T+N days.
[[nodiscard]] timestamp payable_at(const settlement_rules& rules, timestamp completed_at);

/// One line of a completed order, as settlement sees it.
struct settlement_line {
    std::string category{};  ///< The SKU's category; chooses the commission rate.
    money paid;  ///< What the customer paid for it: unit price × units − discount share.

    /// Lines are equal when every field is.
    friend bool operator==(const settlement_line&, const settlement_line&) = default;
};

/// One refund of an order: when the money went back, and how much of each
/// line's goods and shipping (the breakdown orderly's refunds produce).
struct settlement_refund {
    ticket_id ticket{};       ///< The after-sales ticket it came from; may be empty.
    timestamp at{};           ///< When the money went back to the customer.
    refund_breakdown refund;  ///< Goods and shipping per line; totals must match the lines.

    /// Refunds are equal when every field is.
    friend bool operator==(const settlement_refund&, const settlement_refund&) = default;
};

/// A compensation paid to an order's customer outside the payments (a late
/// or damaged parcel; orderly's refund ledger, source compensation). The
/// merchant bears it in full and it carries no commission; like a refund it
/// is netted on the order's payout when made before the end of the
/// statement that pays the order out, and clawed back in the statement
/// whose period holds it otherwise.
struct settlement_compensation {
    timestamp at{};        ///< When it was paid.
    money amount;          ///< How much; more than zero, in the order's currency.
    std::string reason{};  ///< Why, as recorded.

    /// Compensations are equal when every field is.
    friend bool operator==(const settlement_compensation&,
                           const settlement_compensation&) = default;
};

/// One completed order to settle.
struct settlement_input {
    order_id order{};                      ///< Unique among the inputs. Required.
    merchant_id merchant{};                ///< Who sold it. Required.
    orderly::currency currency;            ///< Every amount of the order is in it.
    timestamp completed_at{};              ///< When receipt was confirmed (T of T+N).
    std::vector<settlement_line> lines{};  ///< At least one, as on the order.
    money shipping;                        ///< Shipping the customer paid; goes to the merchant.
    /// Its refunds, oldest first; cumulatively at most each line's paid
    /// amount and the shipping paid.
    std::vector<settlement_refund> refunds{};
    /// Its compensations, oldest first; each more than zero, with no limit
    /// from what the order paid.
    std::vector<settlement_compensation> compensations{};

    /// Inputs are equal when every field is.
    friend bool operator==(const settlement_input&, const settlement_input&) = default;
};

/// Checks one input as settle() does, with fields relative to it ("lines[0].paid").
/// Refusals: an empty order id or merchant (missing_value, "order",
/// "merchant"); no lines or too many (missing_value / invalid_value,
/// "lines"); an amount in another currency than the order's
/// (currency_mismatch), negative (invalid_value) or beyond 64 bits of minor
/// units (overflow), each naming its field ("lines[i].paid", "shipping",
/// "refunds[j].refund.lines[r].goods", ...); a refund line naming no line of
/// the order (invalid_value, "refunds[j].refund.lines[r].line"); a refund
/// whose goods, shipping or total is not the sum of its parts (amount_mismatch,
/// "refunds[j].refund.goods" / ".shipping" / ".total"); refunds out of time
/// order (invalid_value, "refunds[j].at"); refunds giving back more of a
/// line's goods than was paid for it (amount_mismatch,
/// "refunds[j].refund.lines[r].goods") or more shipping than was paid
/// (amount_mismatch, "refunds[j].refund.shipping"); more compensations than
/// settlement_limits allows (invalid_value, "compensations"); a compensation
/// amount in another currency (currency_mismatch), negative or zero
/// (invalid_value) or beyond 64 bits of minor units (overflow), field
/// "compensations[j].amount"; compensations out of time order (invalid_value,
/// "compensations[j].at"); a completion time so late that T+N does not fit a
/// timestamp (invalid_value, "completed_at").
[[nodiscard]] result<void> validate(const settlement_input& input, const settlement_rules& rules);

/// The settlement input of completed order `o`: each line's paid amount
/// (orderly::paid_amount), the shipping fee, the given categories (one per
/// line, from the lines' SKUs) and refunds, and the compensations of the
/// order's refund ledger (order::refunds of source compensation, with their
/// times, amounts and reasons), so a host cannot forget them. Refusals: a
/// category count other than the line count (invalid_value, "categories");
/// what validate(settlement_input) refuses.
[[nodiscard]] result<settlement_input> settlement_input_of(
    const order& o, std::span<const std::string> categories, timestamp completed_at,
    std::span<const settlement_refund> refunds, const settlement_rules& rules);

/// A statement period [from, to): `from` included, `to` not.
struct settlement_period {
    timestamp from{};  ///< First instant in the period.
    timestamp to{};    ///< First instant after it; later than `from`.

    /// True when `t` lies in [from, to).
    [[nodiscard]] constexpr bool contains(timestamp t) const noexcept {
        return from <= t && t < to;
    }

    /// Periods are equal when both ends are.
    friend bool operator==(const settlement_period&, const settlement_period&) = default;
};

/// One line of an order paid out, with its commission.
struct settled_line {
    std::string category{};     ///< The line's category.
    rate commission_rate{};     ///< The rate applied: the category's or the default.
    money paid;                 ///< What the customer paid for it.
    money commission;           ///< round(commission_rate × paid).
    money refunded;             ///< Goods refunded on it by the statement's end.
    money commission_returned;  ///< commission − round(commission_rate × (paid − refunded)).

    /// Lines are equal when every field is.
    friend bool operator==(const settled_line&, const settled_line&) = default;
};

/// One refund on a statement, netted on its order or clawed back.
struct settled_refund {
    std::uint32_t index{0};     ///< Index into its order's refunds (settlement_input::refunds).
    ticket_id ticket{};         ///< The ticket it came from, as given.
    timestamp at{};             ///< When the money went back.
    money goods;                ///< Goods refunded.
    money shipping;             ///< Shipping refunded.
    money amount;               ///< goods + shipping: what comes off the merchant's payout.
    money commission_returned;  ///< Commission the platform gives back for these goods.

    /// Refunds are equal when every field is.
    friend bool operator==(const settled_refund&, const settled_refund&) = default;
};

/// One compensation on a statement, netted on its order or clawed back.
struct settled_compensation {
    /// Index into its order's compensations (settlement_input::compensations).
    std::uint32_t index{0};
    timestamp at{};  ///< When it was paid.
    money amount;    ///< All of it comes off the merchant's payout; no commission is returned.
    std::string reason{};  ///< Why, as given.

    /// Compensations are equal when every field is.
    friend bool operator==(const settled_compensation&, const settled_compensation&) = default;
};

/// One order paid out by a statement.
struct settled_order {
    order_id order{};                   ///< The order.
    timestamp completed_at{};           ///< When it was completed.
    timestamp payable_at{};             ///< completed_at + N days; inside the statement's period.
    std::vector<settled_line> lines{};  ///< Its lines, in order.
    money goods;                        ///< Sum of the lines' paid amounts.
    money shipping;                     ///< Shipping paid.
    money gross;                        ///< goods + shipping.
    money commission;                   ///< Sum of the lines' commission.
    money service_fee;                  ///< The per-order fee.
    std::vector<settled_refund> refunds{};  ///< Refunds before the statement's end, netted here.
    money refunded;                         ///< Sum of their amounts.
    money commission_returned;              ///< Sum of their commission returned.
    /// Compensations before the statement's end, netted here.
    std::vector<settled_compensation> compensations{};
    money compensated;  ///< Sum of their amounts.
    /// gross − commission − service_fee − refunded − compensated + commission_returned.
    money payout;

    /// Orders are equal when every field is.
    friend bool operator==(const settled_order&, const settled_order&) = default;
};

/// A refund of an order an earlier statement paid out: taken off this one.
struct clawback {
    order_id order{};        ///< The order.
    timestamp payable_at{};  ///< When it was payable: before this statement's period.
    settled_refund refund;   ///< The refund; its time lies in this statement's period.

    /// Clawbacks are equal when every field is.
    friend bool operator==(const clawback&, const clawback&) = default;
};

/// A compensation for an order an earlier statement paid out: taken off this one.
struct compensation_clawback {
    order_id order{};                   ///< The order.
    timestamp payable_at{};             ///< When it was payable: before this statement's period.
    settled_compensation compensation;  ///< The compensation; its time lies in this period.

    /// Clawbacks are equal when every field is.
    friend bool operator==(const compensation_clawback&, const compensation_clawback&) = default;
};

/// What the platform owes one merchant in one currency for one period.
struct statement {
    merchant_id merchant{};      ///< Whose statement.
    orderly::currency currency;  ///< Every amount on it is in this currency.
    settlement_period period{};  ///< Which period.
    /// Orders payable in the period, by payable time, then order id.
    std::vector<settled_order> orders{};
    /// Refunds in the period of orders paid out before it, by refund time,
    /// then order id, then refund index.
    std::vector<clawback> clawbacks{};
    /// Compensations in the period for orders paid out before it, by time,
    /// then order id, then compensation index.
    std::vector<compensation_clawback> compensation_clawbacks{};
    money gross;         ///< Sum of the orders' gross.
    money commission;    ///< Sum of the orders' commission.
    money service_fees;  ///< Sum of the orders' service fees.
    money refunded;      ///< Sum of the refunds netted on the orders.
    money compensated;   ///< Sum of the compensations netted on the orders.
    money clawed_back;   ///< Sum of the clawbacks' amounts.
    /// Sum of the compensation clawbacks' amounts.
    money compensations_clawed_back;
    /// Commission returned on the netted refunds and on the clawbacks.
    money commission_returned;
    /// gross − commission − service_fees − refunded − compensated −
    /// clawed_back − compensations_clawed_back + commission_returned: what
    /// the platform pays the merchant (negative: what the merchant owes).
    money payout;
    /// commission + service_fees − commission_returned: what the platform keeps.
    money platform_income;

    /// Statements are equal when every field is.
    friend bool operator==(const statement&, const statement&) = default;
};

/// The statement of `merchant` in `currency` for `period`, from all of the
/// platform's completed orders in `inputs` (other merchants' orders and
/// other currencies are skipped). An empty statement (all zero) when the
/// merchant has nothing in the period. Refusals: invalid rules (as
/// validate(rules), fields under "rules."); an invalid input (as
/// validate(input), fields under "orders[k]."); an order id given twice
/// (invalid_value, "orders[k].order"); more inputs than settlement_limits
/// allows (invalid_value, "orders"); `to` not after `from` (invalid_value,
/// "period.to"); an empty merchant (missing_value, "merchant") or one no
/// input names (not_found, "merchant"); an order to pay out in a currency
/// the rules list no service fee for (missing_value, "rules.service_fees").
[[nodiscard]] result<statement> settle(const settlement_rules& rules,
                                       std::span<const settlement_input> inputs,
                                       const merchant_id& merchant, orderly::currency currency,
                                       const settlement_period& period);

/// Every statement of one period.
struct period_settlement {
    settlement_period period{};           ///< The period.
    std::vector<statement> statements{};  ///< One per merchant and currency with anything in it.

    /// Settlements are equal when every field is.
    friend bool operator==(const period_settlement&, const period_settlement&) = default;
};

/// The statements of every merchant and currency with an order payable, a
/// clawback or a compensation clawback in `period`, by merchant id, then currency code. Refusals as
/// settle(), without the merchant's.
[[nodiscard]] result<period_settlement> settle_period(const settlement_rules& rules,
                                                      std::span<const settlement_input> inputs,
                                                      const settlement_period& period);

/// One way the statements do not reconcile.
struct reconciliation_difference {
    /// Where: a path into the periods ("periods[2].statements[0].payout"), an
    /// input ("orders[17]", "orders[17].refunds[1]",
    /// "orders[17].compensations[0]"), a merchant's balance
    /// ("merchants[m-42].CNY") or a currency's ("totals.CNY").
    std::string field{};
    std::string message{};            ///< What is wrong, for a person.
    std::optional<money> expected{};  ///< The amount that would balance, when an amount is wrong.
    std::optional<money> actual{};    ///< The amount found.

    /// Differences are equal when every field is.
    friend bool operator==(const reconciliation_difference&,
                           const reconciliation_difference&) = default;
};

/// Checks a run of statements against the inputs they came from; no
/// differences means they reconcile. The run covers [F, T): F the first
/// period's `from`, T the last one's `to`. Checks:
///  - the periods are consecutive: each is non-empty and starts where the one
///    before ended, and each statement carries its period, at most one per
///    merchant and currency in a period;
///  - every statement adds up: each line, order, refund, compensation and
///    clawback and the totals obey the identities in this file's comment, in
///    its currency;
///  - every order, refund and compensation on a statement is one of the
///    inputs, with its merchant, currency, amounts and times: an order on
///    the statement whose period holds its payable time, a netted refund or
///    compensation made before that statement's end, a clawback made later,
///    in the statement whose period holds its time;
///  - every input order payable in [F, T) is paid out exactly once, and no
///    other; every refund and every compensation is settled exactly once
///    (netted or clawed back) when its order is payable in [F, T) and it was
///    made before T, or its order was payable before F and it was made in
///    [F, T); no other is;
///  - per merchant and currency, and per currency over all merchants:
///    the payouts plus the platform income equal what customers paid for the
///    orders payable in [F, T) minus the refunds and compensations settled
///    in the run, computed from the inputs alone.
/// Commission amounts are not re-derived from the rules (rates may change
/// between runs); the rules give the account period. No periods: nothing to
/// check. Refusals (invalid rules or inputs) as settle_period(); anything
/// wrong with the periods or statements is a difference, not an error.
[[nodiscard]] result<std::vector<reconciliation_difference>> reconcile(
    const settlement_rules& rules, std::span<const settlement_input> inputs,
    std::span<const period_settlement> periods);

}  // namespace orderly
