#pragma once
/// \file
/// The order: what was bought, by whom, to where, for how much, and
/// where it stands. Its state changes only through the order state machine
/// (orderly/order/order_machine.hpp), never by writing the field directly.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/actor.hpp>
#include <orderly/core/address.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/payment/payment.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// States of the order machine. Stored values never change; they are
/// not Boost.MSM's state ids.
enum class order_state : std::uint8_t {
    pending_review = 1,    ///< Placed; automatic or manual review decides.
    awaiting_payment = 2,  ///< Approved; waiting for the gateway within the payment timeout.
    paid = 3,              ///< Ready to fulfil: paid, or approved for cash on delivery.
    allocating = 4,        ///< A warehouse is picking it.
    packed = 5,            ///< Packed and re-checked, awaiting the carrier.
    shipped = 6,           ///< Handed to the carrier.
    delivered = 7,         ///< Delivered; receipt is confirmed by the customer or by time.
    completed = 8,         ///< Receipt confirmed.
    closed = 9,            ///< Nothing more will happen.
    on_hold = 10,          ///< Stopped for manual intervention; resumes where it was.
    cancelled = 11,        ///< Cancelled before shipment; stock released, payment refunded.
};

/// Every order state, in numeric order.
inline constexpr std::array<order_state, 11> all_order_states = {
    order_state::pending_review, order_state::awaiting_payment, order_state::paid,
    order_state::allocating,     order_state::packed,           order_state::shipped,
    order_state::delivered,      order_state::completed,        order_state::closed,
    order_state::on_hold,        order_state::cancelled};

/// The stable name of an order state ("awaiting_payment").
[[nodiscard]] constexpr std::string_view to_string(order_state s) noexcept {
    switch (s) {
        case order_state::pending_review:
            return "pending_review";
        case order_state::awaiting_payment:
            return "awaiting_payment";
        case order_state::paid:
            return "paid";
        case order_state::allocating:
            return "allocating";
        case order_state::packed:
            return "packed";
        case order_state::shipped:
            return "shipped";
        case order_state::delivered:
            return "delivered";
        case order_state::completed:
            return "completed";
        case order_state::closed:
            return "closed";
        case order_state::on_hold:
            return "on_hold";
        case order_state::cancelled:
            return "cancelled";
    }
    return "unknown";
}

/// Events of the order machine: facts in the past tense. `placed` starts a
/// timeline and is not an event the machine accepts. Stored values never change.
enum class order_event : std::uint8_t {
    placed = 1,              ///< The order was created (first timeline entry only).
    review_approved = 2,     ///< Review passed, automatically or by a reviewer.
    review_rejected = 3,     ///< A reviewer rejected the order.
    payment_captured = 4,    ///< The full amount was paid.
    payment_failed = 5,      ///< A payment attempt failed; the order still waits for payment.
    payment_timed_out = 6,   ///< The payment timeout passed without payment.
    allocated = 7,           ///< A warehouse took the order for picking.
    packed = 8,              ///< The parcel was packed and re-checked.
    shipped = 9,             ///< The carrier took the parcel.
    delivered = 10,          ///< The carrier delivered it.
    receipt_confirmed = 11,  ///< The customer confirmed receipt, or the auto-confirm time passed.
    closed = 12,             ///< Closed after completion.
    held = 13,               ///< Put on hold.
    released = 14,           ///< Taken off hold, back to the state it was held in.
    cancelled = 15,          ///< Cancelled by the customer, an operator or a rule.
    /// Every unit was refunded (lost or returned parcels, tickets) before the
    /// order completed: it closes without asking for a review.
    refunded_in_full = 16,
    /// An after-sales ticket was opened on the order; the order stays where
    /// it is (a row from each state that takes tickets to itself).
    ticket_opened = 17,
};

/// Every order event, in numeric order.
inline constexpr std::array<order_event, 17> all_order_events = {order_event::placed,
                                                                 order_event::review_approved,
                                                                 order_event::review_rejected,
                                                                 order_event::payment_captured,
                                                                 order_event::payment_failed,
                                                                 order_event::payment_timed_out,
                                                                 order_event::allocated,
                                                                 order_event::packed,
                                                                 order_event::shipped,
                                                                 order_event::delivered,
                                                                 order_event::receipt_confirmed,
                                                                 order_event::closed,
                                                                 order_event::held,
                                                                 order_event::released,
                                                                 order_event::cancelled,
                                                                 order_event::refunded_in_full,
                                                                 order_event::ticket_opened};

/// The stable name of an order event ("payment_captured").
[[nodiscard]] constexpr std::string_view to_string(order_event e) noexcept {
    switch (e) {
        case order_event::placed:
            return "placed";
        case order_event::review_approved:
            return "review_approved";
        case order_event::review_rejected:
            return "review_rejected";
        case order_event::payment_captured:
            return "payment_captured";
        case order_event::payment_failed:
            return "payment_failed";
        case order_event::payment_timed_out:
            return "payment_timed_out";
        case order_event::allocated:
            return "allocated";
        case order_event::packed:
            return "packed";
        case order_event::shipped:
            return "shipped";
        case order_event::delivered:
            return "delivered";
        case order_event::receipt_confirmed:
            return "receipt_confirmed";
        case order_event::closed:
            return "closed";
        case order_event::held:
            return "held";
        case order_event::released:
            return "released";
        case order_event::cancelled:
            return "cancelled";
        case order_event::refunded_in_full:
            return "refunded_in_full";
        case order_event::ticket_opened:
            return "ticket_opened";
    }
    return "unknown";
}

/// Where an order came from. Stored values never change.
enum class order_channel : std::uint8_t {
    web = 1,          ///< The shop's website.
    mobile_app = 2,   ///< The shop's app.
    marketplace = 3,  ///< A third-party marketplace.
    import = 4,       ///< A batch file.
};

/// The stable name of a channel ("mobile_app").
[[nodiscard]] constexpr std::string_view to_string(order_channel c) noexcept {
    switch (c) {
        case order_channel::web:
            return "web";
        case order_channel::mobile_app:
            return "mobile_app";
        case order_channel::marketplace:
            return "marketplace";
        case order_channel::import:
            return "import";
    }
    return "unknown";
}

/// One line of an order: a SKU, how many, at what price, and its share of
/// the order's discount (allocated by largest remainder, R-18).
struct order_line {
    sku_id sku;        ///< What.
    quantity units;    ///< How many; more than zero.
    money unit_price;  ///< Price per unit, as in the catalogue at placement.
    money discount;    ///< This line's share of the order discount.

    /// Lines are equal when every field is.
    friend bool operator==(const order_line&, const order_line&) = default;
};

/// One entry of an order's timeline: who did what, when, and the states
/// before and after. Written in the same transaction as the change.
struct timeline_entry {
    timestamp at;                                 ///< When.
    orderly::actor actor;                         ///< Who.
    order_event event{order_event::placed};       ///< What happened.
    std::optional<order_state> from;              ///< State before; empty for `placed`.
    order_state to{order_state::pending_review};  ///< State after.
    std::string reason;  ///< Why, in words (a rule, a reviewer's note, ...).

    /// Entries are equal when every field is.
    friend bool operator==(const timeline_entry&, const timeline_entry&) = default;
};

/// Where money given back to a customer came from. Stored values never change.
enum class refund_source : std::uint8_t {
    ticket = 1,            ///< An after-sales ticket's refund (reference: the ticket id).
    parcel = 2,            ///< A lost or returned parcel put right by a refund (the shipment id).
    manual = 3,            ///< engine::refund_payment: an amount not tied to units.
    cancellation = 4,      ///< The order was cancelled or timed out: all captured money back.
    returned_payment = 5,  ///< Money the order did not ask for (late, repeated or wrong
                           ///< amount), given back whole (the payment id).
    compensation = 6,      ///< Paid by finance outside the payments (a late or damaged parcel).
};

/// Every refund source, in numeric order.
inline constexpr std::array<refund_source, 6> all_refund_sources = {
    refund_source::ticket,       refund_source::parcel,           refund_source::manual,
    refund_source::cancellation, refund_source::returned_payment, refund_source::compensation};

/// The stable name of a refund source ("returned_payment").
[[nodiscard]] constexpr std::string_view to_string(refund_source s) noexcept {
    switch (s) {
        case refund_source::ticket:
            return "ticket";
        case refund_source::parcel:
            return "parcel";
        case refund_source::manual:
            return "manual";
        case refund_source::cancellation:
            return "cancellation";
        case refund_source::returned_payment:
            return "returned_payment";
        case refund_source::compensation:
            return "compensation";
    }
    return "unknown";
}

/// True when a refund of this source gives back part of the price of an
/// order that goes on (ticket, parcel, manual) and is kept per line, which
/// later refunds and settlement read. A cancellation gives back everything
/// captured of an order that ends; returned payments and compensations are
/// not part of the price: none of them has lines.
[[nodiscard]] constexpr bool refund_tied_to_price(refund_source s) noexcept {
    return s == refund_source::ticket || s == refund_source::parcel || s == refund_source::manual;
}

/// One entry of an order's refund ledger: every cent given back to the
/// customer, written in the same transaction as the payment records it
/// moved (or, for a compensation, the instruction to finance). What later
/// refunds, settlement and the conservation checks read.
///
/// For refunds of the order's price, `lines` says how much of each line's
/// goods and shipping went back (units may be 0 for a manual refund, which
/// comes off a line's last units), and `amount` is their sum. A returned
/// payment or a compensation has no lines.
struct order_refund {
    timestamp at;                                 ///< When it was issued.
    refund_source source{refund_source::ticket};  ///< Where it came from.
    std::uint64_t reference{0};                   ///< Ticket, shipment or payment id; 0 when none.
    money amount;                                 ///< How much, in the order's currency.
    std::vector<refund_line> lines{};             ///< Per line, for refunds of the price.
    std::string reason{};                         ///< Why, in words.
    /// Cash on delivery not collected yet: no money moved; the customer owes
    /// `amount` less and the carrier collects the total less every waived
    /// entry at the door.
    bool waived{false};

    /// Entries are equal when every field is.
    friend bool operator==(const order_refund&, const order_refund&) = default;
};

/// An order and everything that belongs to it alone: lines, reservations,
/// payments. Stores keep it as one unit; `version` counts committed changes
/// and lets a store refuse a write based on a stale read.
struct order {
    order_id id;                                ///< Internal id (the order number's value).
    order_number number;                        ///< The number customers see (R-1).
    std::uint64_t version{0};                   ///< 1 after placement, +1 per committed change.
    order_channel channel{order_channel::web};  ///< Where it came from.
    customer_id customer;                       ///< Who bought.
    merchant_id merchant;                       ///< Who sells (R-8).
    address ship_to;                            ///< Where to.
    std::vector<order_line> lines;              ///< What.
    money subtotal;                             ///< Sum of unit price × units over the lines.
    money discount;                             ///< Order discount, allocated over the lines.
    money shipping_fee;                         ///< Shipping charged to the customer.
    money total;  ///< subtotal − discount + shipping fee: what is due.
    payment_method method{payment_method::card};         ///< How the customer pays.
    order_state state{order_state::pending_review};      ///< Where it stands.
    order_state held_from{order_state::pending_review};  ///< The state to resume when on hold.
    std::vector<std::string> tags;                       ///< Free classification tags (R-1).
    std::vector<std::string>
        review_flags;  ///< Why review stopped it, empty when approved automatically.
    std::vector<reservation> reservations;  ///< Stock set aside for it.
    std::vector<payment> payments;          ///< Payment attempts, oldest first.
    std::uint32_t payment_failures{0};      ///< Failed attempts so far.
    /// Its shipments, once fulfilment is planned (orderly/fulfilment/shipment.hpp):
    /// one per warehouse and shipping method, or a shared one when merged.
    std::vector<shipment_id> shipments;
    warehouse_id warehouse;           ///< Fulfilling warehouse, once allocated.
    carrier_id carrier;               ///< Carrier, once shipped.
    std::string tracking_number;      ///< Carrier's tracking number, once shipped.
    timestamp placed_at;              ///< When it was placed.
    timestamp updated_at;             ///< Last committed change.
    std::optional<timestamp> due_at;  ///< Next deadline the due-work scan acts on, if any.
    /// Its after-sales tickets, oldest first.
    std::vector<ticket_id> tickets{};
    /// The customer's rating, once given.
    std::optional<order_rating> rating{};
    /// Every refund and compensation of the order, oldest first.
    std::vector<order_refund> refunds{};

    /// Orders are equal when every field is.
    friend bool operator==(const order&, const order&) = default;
};

}  // namespace orderly

/// Formats an order state as its name.
template <>
struct fmt::formatter<orderly::order_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::order_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats an order event as its name.
template <>
struct fmt::formatter<orderly::order_event> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::order_event e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};

/// Formats a refund source as its name.
template <>
struct fmt::formatter<orderly::refund_source> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::refund_source s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a channel as its name.
template <>
struct fmt::formatter<orderly::order_channel> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::order_channel c, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(c), ctx);
    }
};
