#pragma once
/// \file
/// Exact refunds: what units of an order give back, to the
/// minor unit, so that refunding every unit of every line in any number of
/// parts gives back exactly what the customer paid.
///
/// A line's paid amount is unit price × units − its share of the order
/// discount (order_line::discount, allocated by largest remainder at
/// placement). Within a line, that amount is split over its units by largest
/// remainder with the earlier unit first on a tie (money::split): refunding
/// the line's units r+1 … r+k gives back the sum of those units' parts. The
/// shipping fee is allocated over the lines by their paid amounts (largest
/// remainder), and each line's share over its units the same way.
///
/// Shipping is refunded for the claimed units when the seller is at fault
/// (seller_at_fault); otherwise only when the refund makes the whole order
/// refunded, in which case every line's shipping not yet refunded goes back
/// (a line refunded earlier without its shipping appears with zero units).
/// Nothing here talks to a store.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/error.hpp>
#include <orderly/order/order.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace orderly {

/// Units of one order line to refund.
struct refund_claim {
    std::uint32_t line{0};  ///< Index into the order's lines.
    quantity units;         ///< How many; more than zero.

    /// Claims are equal when every field is.
    friend bool operator==(const refund_claim&, const refund_claim&) = default;
};

/// What earlier refunds of an order already gave back, per order line.
struct refunded_lines {
    std::vector<std::int64_t> units;  ///< Units refunded per line.
    std::vector<money> goods;         ///< Goods money refunded per line.
    std::vector<money> shipping;      ///< Shipping money refunded per line.

    /// Tallies are equal when every field is.
    friend bool operator==(const refunded_lines&, const refunded_lines&) = default;
};

/// The tally of `earlier` refunds of order `o`: zero for every line when
/// there are none. Refused (invalid_value, "refunds") when a refund names a
/// line the order does not have; overflow never wraps.
[[nodiscard]] result<refunded_lines> tally_refunds(const order& o,
                                                   std::span<const refund_breakdown> earlier);

/// The tally of order `o`'s own refund ledger (order::refunds): its refunds
/// of the price, by line (sources for which refund_tied_to_price holds).
/// Refused as the other overload.
[[nodiscard]] result<refunded_lines> tally_refunds(const order& o);

/// A refund of `amount` not tied to units (engine::refund_payment, or money
/// an older store recorded without lines), spread over the order's lines:
/// over the goods each line has left to refund (its paid amount less the
/// goods `before` gave back) by largest remainder, earlier lines first on a
/// tie; what exceeds all goods left goes over the shipping left the same way.
/// Every part has 0 units: such a refund comes off a line's last units, so a
/// later claim on those units gives back only what is left (compute_refund).
/// Refusals: another currency (currency_mismatch, "amount"); not more than
/// zero, or more than the goods and shipping left (amount_mismatch, "amount").
[[nodiscard]] result<std::vector<refund_line>> allocate_refund(const order& o, const money& amount,
                                                               const refunded_lines& before);

/// True when `t` gives back every unit of every line of `o`.
[[nodiscard]] bool every_unit_refunded(const order& o, const refunded_lines& t) noexcept;

/// The line's paid amount: unit price × units − discount.
[[nodiscard]] result<money> paid_amount(const order_line& line);

/// Each line's share of the order's shipping fee, by largest remainder over
/// the lines' paid amounts (over their units when every line was free).
[[nodiscard]] result<std::vector<money>> shipping_shares(const order& o);

/// The refund of `claim` on order `o`, given what `before` already refunded.
/// No line gives back more goods than its paid amount less the goods
/// already refunded on it, nor more shipping than its share less the
/// shipping already refunded (money refunded without units, allocate_refund,
/// comes off the line's last units this way).
/// Refusals: a claim naming a line the order does not have (invalid_value,
/// "lines[i].line"), with no units (invalid_value, "lines[i].units"), or
/// more units than are left to refund on its line (invalid_value,
/// "lines[i].units"); an empty claim (missing_value, "lines").
/// `seller_fault` adds the claimed units' shipping share.
[[nodiscard]] result<refund_breakdown> compute_refund(const order& o,
                                                      std::span<const refund_claim> claim,
                                                      const refunded_lines& before,
                                                      bool seller_fault);

}  // namespace orderly
