#pragma once
/// \file
/// Status board figures: how orders placed in a period stand, in total,
/// per channel and per merchant, computed from what the stores hold (each
/// order and its timeline) and nothing else, and exported as JSON, CSV and
/// Prometheus text. Pure functions: values in, values out, no store, no clock.
///
/// The rules, and why:
///  - **Period.** An order is on the board when its `placed_at` lies in
///    [from, to): `from` included, `to` not, so consecutive periods count
///    each order exactly once.
///  - **Groups.** Every order counts in the total, in its channel's group and
///    in its merchant's group. Only groups with at least one order in the
///    period are listed, so the channel groups add up to the total, and so do
///    the merchant groups, figure by figure (percentiles aside).
///  - **By state**: the order's current state (`order::state`), every state
///    listed, zeros included.
///  - **Cancelled**: the order is cancelled now, or its timeline has an entry
///    that reached `cancelled` (rejected in review, payment timed out, or
///    cancelled by someone).
///  - **After sales**: the order has at least one ticket (`order::tickets`).
///  - **Exception**: the caller counted at least one exception for the order
///    (exception cases and logistics exceptions on its shipments).
///  - **Rates** are count / orders, kept exact as the two counts; the exports
///    write them as decimals with 4 places, rounded half up from the exact
///    fraction with integer arithmetic (1/3 is 0.3333, 2/3 is 0.6667). No
///    orders: no rate (JSON null, empty CSV cell, no Prometheus sample).
///  - **Average rating** is kept exact as the sum of scores and the count;
///    the exports write it with 2 places, rounded half up (13/3 is 4.33).
///  - **Times to shipment and to delivery** run from `placed_at` to the first
///    timeline entry that reached `shipped` / `delivered`, in milliseconds.
///    An order that never got there gives no sample. Percentiles use the
///    **nearest-rank** method: with the n samples sorted ascending, the p-th
///    percentile is the sample at rank ceil(p × n / 100) (1-based), so it is
///    always one of the samples; for 10 samples p50 is the 5th, p90 the 9th
///    and p99 the 10th. No samples: std::nullopt.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/time.hpp>
#include <orderly/order/order.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace orderly {

/// One order as a store read yields it, with what the board needs besides.
struct board_input_order {
    order o;                                 ///< The order (Store::find_order).
    std::vector<timeline_entry> timeline{};  ///< Its timeline, oldest first (Store::timeline).
    /// How many exceptions it had: its exception cases plus the logistics
    /// exceptions on its shipments, as the caller counts them.
    std::size_t exceptions{0};

    /// Inputs are equal when every field is.
    friend bool operator==(const board_input_order&, const board_input_order&) = default;
};

/// Nearest-rank percentiles of a duration, over one or more samples.
struct duration_percentiles {
    std::size_t samples{0};  ///< How many orders gave a sample; at least 1.
    std::int64_t p50_ms{0};  ///< 50th percentile, in milliseconds.
    std::int64_t p90_ms{0};  ///< 90th percentile, in milliseconds.
    std::int64_t p99_ms{0};  ///< 99th percentile, in milliseconds.

    /// Percentiles are equal when every field is.
    friend bool operator==(const duration_percentiles&, const duration_percentiles&) = default;
};

/// The nearest-rank percentiles of `samples_ms` (any order): the p-th is the
/// sample at rank ceil(p × n / 100) of the sorted samples. std::nullopt for
/// no samples.
[[nodiscard]] std::optional<duration_percentiles> nearest_rank_percentiles(
    std::vector<std::int64_t> samples_ms);

/// The 1-based rank of the p-th percentile (0 < p <= 100) among n >= 1
/// sorted samples by the nearest-rank method: ceil(p × n / 100).
[[nodiscard]] constexpr std::size_t nearest_rank(std::size_t p, std::size_t n) noexcept {
    const std::size_t rank = (p * n + 99) / 100;
    return rank == 0 ? 1 : rank;
}

/// The figures of one group of orders (the total, a channel or a merchant).
struct board_figures {
    std::size_t orders{0};  ///< Orders placed in the period.
    /// Orders per current state, indexed like all_order_states (in_state()).
    std::array<std::size_t, all_order_states.size()> by_state{};
    std::size_t cancelled{0};           ///< Orders cancelled (see the file comment).
    std::size_t after_sales_orders{0};  ///< Orders with at least one ticket.
    std::size_t exception_orders{0};    ///< Orders with at least one exception.
    std::size_t ratings{0};             ///< Orders rated.
    std::uint64_t rating_sum{0};        ///< Sum of their scores.
    /// Placement to first reaching `shipped`; std::nullopt without samples.
    std::optional<duration_percentiles> to_shipment{};
    /// Placement to first reaching `delivered`; std::nullopt without samples.
    std::optional<duration_percentiles> to_delivery{};

    /// Orders now in state `s`.
    [[nodiscard]] std::size_t in_state(order_state s) const noexcept;

    /// Figures are equal when every field is.
    friend bool operator==(const board_figures&, const board_figures&) = default;
};

/// The status board of one period.
struct status_board {
    timestamp from{};       ///< First instant of the period.
    timestamp to{};         ///< First instant after it; later than `from`.
    board_figures total{};  ///< Every order in the period.
    /// Per channel with at least one order, in channel order.
    std::map<order_channel, board_figures> by_channel{};
    /// Per merchant with at least one order, by merchant id.
    std::map<merchant_id, board_figures> by_merchant{};

    /// Boards are equal when every field is.
    friend bool operator==(const status_board&, const status_board&) = default;
};

/// The board of the orders in `orders` placed in [from, to); orders placed
/// outside it are skipped. Refusals: `to` not after `from` (invalid_value,
/// "to"); an order id given twice (invalid_value, "orders[k].o.id"); a
/// timeline entry reaching `shipped` or `delivered` before its order was
/// placed (invalid_value, "orders[k].timeline[j].at").
[[nodiscard]] result<status_board> compute_status_board(std::span<const board_input_order> orders,
                                                        timestamp from, timestamp to);

/// `numerator` / `denominator` as a decimal with `places` places, rounded
/// half up with integer arithmetic ("0.3333" for 1/3 with 4 places).
/// `denominator` must not be 0.
[[nodiscard]] std::string decimal_ratio(std::uint64_t numerator, std::uint64_t denominator,
                                        int places);

/// The board as one line of JSON, keys in a fixed order:
/// {"from_ms":..,"to_ms":..,"total":F,"by_channel":{"web":F,..},"by_merchant":{"m-1":F,..}}
/// where F is {"orders","by_state":{every state},"cancelled","cancellation_rate",
/// "after_sales_orders","after_sales_rate","exception_orders","exception_rate",
/// "ratings","rating_sum","average_rating","time_to_shipment","time_to_delivery"}.
/// Counts are integers; rates are numbers with 4 places and the average
/// rating with 2 (null without orders / ratings); a time is
/// {"samples","p50_ms","p90_ms","p99_ms"} or null. Strings are JSON-escaped.
[[nodiscard]] std::string to_json(const status_board& board);

/// The board as CSV (RFC 4180: CRLF line ends, a field with a comma, quote,
/// CR or LF in double quotes with quotes doubled): a header row, then one row
/// per group: the total (scope "total", empty group), each channel (scope
/// "channel"), each merchant (scope "merchant"). Columns: from_ms, to_ms,
/// scope, group, orders, state_<name> for every state, then the figures as
/// in to_json() (times as time_to_shipment_samples, _p50_ms, _p90_ms,
/// _p99_ms, likewise for delivery); an absent value is an empty cell.
[[nodiscard]] std::string to_csv(const status_board& board);

/// The board in the Prometheus text exposition format 0.0.4, for a host's
/// /metrics: every family has `# HELP` and `# TYPE ... gauge` lines and the
/// prefix `orderly_board_`; within a family the total's sample has no group
/// label, a channel's has `channel="web"` and a merchant's `merchant="..."`
/// (label values escape backslash, double quote and newline), so sum over a
/// label only with a matcher on it. Families: orders, orders_by_state
/// (label state), cancelled_orders, cancellation_rate, after_sales_orders,
/// after_sales_rate, exception_orders, exception_rate, ratings,
/// average_rating, time_to_shipment_seconds and time_to_delivery_seconds
/// (label quantile "0.5", "0.9", "0.99"; seconds with 3 places, exact),
/// time_to_shipment_samples, time_to_delivery_samples. An absent value (a
/// rate without orders, a time without samples) has no sample.
[[nodiscard]] std::string to_prometheus(const status_board& board);

}  // namespace orderly
