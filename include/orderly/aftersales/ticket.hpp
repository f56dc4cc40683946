#pragma once
/// \file
/// The after-sales ticket (R-24…R-27): a customer's claim on units of one
/// order — refund only, return and refund, exchange, or repair — with its
/// reason, evidence, owner agent, return parcel, inspection, refund and
/// timeline. Stores keep a ticket as one unit with its own version, like an
/// order or a shipment. Its state changes only through the ticket machine
/// (orderly/aftersales/ticket_machine.hpp), driven by the engine's ticket
/// commands.

#include <orderly/core/actor.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/logistics/tracking.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// What the customer asks for. Stored values never change.
enum class ticket_type : std::uint8_t {
    refund_only = 1,        ///< Money back; the goods stay with the customer (or never came).
    return_and_refund = 2,  ///< The goods come back; money back after inspection.
    exchange = 3,           ///< The goods come back; a replacement goes out.
    repair = 4,             ///< The goods come back, go to repair, and go out again.
};

/// Every ticket type, in numeric order.
inline constexpr std::array<ticket_type, 4> all_ticket_types = {
    ticket_type::refund_only, ticket_type::return_and_refund, ticket_type::exchange,
    ticket_type::repair};

/// The stable name of a ticket type ("return_and_refund").
[[nodiscard]] constexpr std::string_view to_string(ticket_type t) noexcept {
    switch (t) {
        case ticket_type::refund_only:
            return "refund_only";
        case ticket_type::return_and_refund:
            return "return_and_refund";
        case ticket_type::exchange:
            return "exchange";
        case ticket_type::repair:
            return "repair";
    }
    return "unknown";
}

/// Why the customer opened the ticket. Stored values never change.
enum class ticket_reason : std::uint8_t {
    wrong_item = 1,        ///< Not what was ordered.
    damaged = 2,           ///< Arrived damaged.
    quality = 3,           ///< A quality problem.
    size = 4,              ///< Does not fit.
    not_as_described = 5,  ///< Differs from the listing.
    not_received = 6,      ///< Never arrived.
    changed_mind = 7,      ///< The customer no longer wants it.
};

/// Every ticket reason, in numeric order.
inline constexpr std::array<ticket_reason, 7> all_ticket_reasons = {
    ticket_reason::wrong_item,  ticket_reason::damaged,          ticket_reason::quality,
    ticket_reason::size,        ticket_reason::not_as_described, ticket_reason::not_received,
    ticket_reason::changed_mind};

/// The stable name of a ticket reason ("not_as_described").
[[nodiscard]] constexpr std::string_view to_string(ticket_reason r) noexcept {
    switch (r) {
        case ticket_reason::wrong_item:
            return "wrong_item";
        case ticket_reason::damaged:
            return "damaged";
        case ticket_reason::quality:
            return "quality";
        case ticket_reason::size:
            return "size";
        case ticket_reason::not_as_described:
            return "not_as_described";
        case ticket_reason::not_received:
            return "not_received";
        case ticket_reason::changed_mind:
            return "changed_mind";
    }
    return "unknown";
}

/// True when the reason is the seller's fault: the refund then includes the
/// units' share of shipping even when only part of the order comes back.
[[nodiscard]] constexpr bool seller_at_fault(ticket_reason r) noexcept {
    return r != ticket_reason::size && r != ticket_reason::changed_mind;
}

/// States of the ticket machine. Stored values never change; they are
/// not Boost.MSM's state ids.
enum class ticket_state : std::uint8_t {
    submitted = 1,            ///< Opened; the approval rules decide next.
    under_review = 2,         ///< An agent decides within the response deadline.
    approved = 3,             ///< Approved refund only: the refund is next.
    rejected = 4,             ///< Refused by the agent (final).
    awaiting_return = 5,      ///< Approved; the customer sends the goods back.
    goods_received = 6,       ///< The returned parcel arrived at the warehouse.
    inspected = 7,            ///< Each returned unit was judged sellable or damaged.
    refunded = 8,             ///< The money went back through the payment records.
    replacement_shipped = 9,  ///< A replacement shipment with reserved stock is on its way.
    at_repair = 10,           ///< The goods are at the repairer.
    repaired_shipped = 11,    ///< The repaired goods are on their way back.
    closed = 12,              ///< Done (final).
    withdrawn = 13,           ///< The customer withdrew it (final).
    escalated = 14,           ///< A deadline passed; escalated_from says which step is late.
};

/// Every ticket state, in numeric order.
inline constexpr std::array<ticket_state, 14> all_ticket_states = {
    ticket_state::submitted, ticket_state::under_review,     ticket_state::approved,
    ticket_state::rejected,  ticket_state::awaiting_return,  ticket_state::goods_received,
    ticket_state::inspected, ticket_state::refunded,         ticket_state::replacement_shipped,
    ticket_state::at_repair, ticket_state::repaired_shipped, ticket_state::closed,
    ticket_state::withdrawn, ticket_state::escalated};

/// The stable name of a ticket state ("awaiting_return").
[[nodiscard]] constexpr std::string_view to_string(ticket_state s) noexcept {
    switch (s) {
        case ticket_state::submitted:
            return "submitted";
        case ticket_state::under_review:
            return "under_review";
        case ticket_state::approved:
            return "approved";
        case ticket_state::rejected:
            return "rejected";
        case ticket_state::awaiting_return:
            return "awaiting_return";
        case ticket_state::goods_received:
            return "goods_received";
        case ticket_state::inspected:
            return "inspected";
        case ticket_state::refunded:
            return "refunded";
        case ticket_state::replacement_shipped:
            return "replacement_shipped";
        case ticket_state::at_repair:
            return "at_repair";
        case ticket_state::repaired_shipped:
            return "repaired_shipped";
        case ticket_state::closed:
            return "closed";
        case ticket_state::withdrawn:
            return "withdrawn";
        case ticket_state::escalated:
            return "escalated";
    }
    return "unknown";
}

/// True once nothing more will happen to the ticket (rejected, closed,
/// withdrawn): its units are free for another ticket only when it was
/// rejected or withdrawn.
[[nodiscard]] constexpr bool ticket_ended(ticket_state s) noexcept {
    return s == ticket_state::rejected || s == ticket_state::closed || s == ticket_state::withdrawn;
}

/// Events of the ticket machine: facts in the past tense. Stored values never change.
enum class ticket_event : std::uint8_t {
    submitted = 1,             ///< Opened (first timeline entry only; not a machine event).
    auto_approved = 2,         ///< An approval rule accepted it.
    review_requested = 3,      ///< No rule accepted it; an agent must decide.
    approved = 4,              ///< The agent approved it.
    rejected = 5,              ///< The agent rejected it.
    withdrawn = 6,             ///< The customer withdrew it.
    deadline_passed = 7,       ///< The step's deadline passed (escalation).
    goods_received = 8,        ///< The return parcel arrived.
    inspected = 9,             ///< The returned units were inspected.
    refund_issued = 10,        ///< The refund was recorded.
    replacement_shipped = 11,  ///< A replacement shipment was created.
    sent_to_repair = 12,       ///< The goods went to the repairer.
    repaired_shipped = 13,     ///< The repaired goods were sent back.
    closed = 14,               ///< Closed: confirmed, or after the auto-close time.
    return_expired = 15,       ///< The goods never came back within the return window.
    repair_failed = 16,        ///< The repairer could not repair the goods; back to inspected.
};

/// Every ticket event, in numeric order.
inline constexpr std::array<ticket_event, 16> all_ticket_events = {
    ticket_event::submitted,
    ticket_event::auto_approved,
    ticket_event::review_requested,
    ticket_event::approved,
    ticket_event::rejected,
    ticket_event::withdrawn,
    ticket_event::deadline_passed,
    ticket_event::goods_received,
    ticket_event::inspected,
    ticket_event::refund_issued,
    ticket_event::replacement_shipped,
    ticket_event::sent_to_repair,
    ticket_event::repaired_shipped,
    ticket_event::closed,
    ticket_event::return_expired,
    ticket_event::repair_failed};

/// The stable name of a ticket event ("refund_issued").
[[nodiscard]] constexpr std::string_view to_string(ticket_event e) noexcept {
    switch (e) {
        case ticket_event::submitted:
            return "submitted";
        case ticket_event::auto_approved:
            return "auto_approved";
        case ticket_event::review_requested:
            return "review_requested";
        case ticket_event::approved:
            return "approved";
        case ticket_event::rejected:
            return "rejected";
        case ticket_event::withdrawn:
            return "withdrawn";
        case ticket_event::deadline_passed:
            return "deadline_passed";
        case ticket_event::goods_received:
            return "goods_received";
        case ticket_event::inspected:
            return "inspected";
        case ticket_event::refund_issued:
            return "refund_issued";
        case ticket_event::replacement_shipped:
            return "replacement_shipped";
        case ticket_event::sent_to_repair:
            return "sent_to_repair";
        case ticket_event::repaired_shipped:
            return "repaired_shipped";
        case ticket_event::closed:
            return "closed";
        case ticket_event::return_expired:
            return "return_expired";
        case ticket_event::repair_failed:
            return "repair_failed";
    }
    return "unknown";
}

/// Units of one order line that a ticket claims, and what inspection found.
struct ticket_line {
    std::uint32_t line{0};  ///< Index into the order's lines.
    sku_id sku;             ///< The line's SKU.
    quantity units;         ///< Units claimed; more than zero.
    /// For an exchange: the SKU to send instead (same catalogue price), or
    /// empty for the same SKU.
    sku_id replacement_sku{};
    quantity sellable{};  ///< Inspected units that went back to sellable stock.
    quantity damaged{};   ///< Inspected units that went to the damaged bin.
    /// Inspected units the warehouse refused (not what was sold, or damaged
    /// by the customer): they go back to the customer and are not refunded,
    /// replaced or repaired.
    quantity refused{};

    /// Units the ticket still acts on: claimed less refused at inspection.
    [[nodiscard]] std::int64_t accepted() const noexcept { return units.units() - refused.units(); }

    /// Lines are equal when every field is.
    friend bool operator==(const ticket_line&, const ticket_line&) = default;
};

/// One order line's part of a refund.
struct refund_line {
    std::uint32_t line{0};  ///< Index into the order's lines.
    quantity units;         ///< Units refunded.
    money goods;            ///< Their paid price less their share of the order discount.
    money shipping;         ///< Their share of the shipping fee (may be zero).

    /// Parts are equal when every field is.
    friend bool operator==(const refund_line&, const refund_line&) = default;
};

/// An exact refund: what each line gives back. total = the
/// sum of goods and shipping over the lines.
struct refund_breakdown {
    std::vector<refund_line> lines;  ///< One entry per refunded line, by line index.
    money goods;                     ///< Sum of the lines' goods.
    money shipping;                  ///< Sum of the lines' shipping.
    money total;                     ///< goods + shipping.

    /// Breakdowns are equal when every field is.
    friend bool operator==(const refund_breakdown&, const refund_breakdown&) = default;
};

/// The parcel that brings returned goods back: the carrier and
/// tracking number the customer sends it with, and its carrier events.
struct return_parcel {
    carrier_id carrier;                      ///< The carrier the customer used.
    std::string tracking_number;             ///< Its tracking number.
    tracking_history tracking{timestamp{}};  ///< Its events, ordered by event time.
    timestamp sent_at;                       ///< When the customer reported sending it.

    /// Parcels are equal when every field is.
    friend bool operator==(const return_parcel&, const return_parcel&) = default;
};

/// One entry of a ticket's timeline: who did what, when, and the states
/// before and after. Written in the same transaction as the change.
struct ticket_entry {
    timestamp at;                                 ///< When.
    orderly::actor actor;                         ///< Who.
    ticket_event event{ticket_event::submitted};  ///< What happened.
    std::optional<ticket_state> from;             ///< State before; empty for `submitted`.
    ticket_state to{ticket_state::submitted};     ///< State after.
    std::string note;                             ///< Why, or what, in words.

    /// Entries are equal when every field is.
    friend bool operator==(const ticket_entry&, const ticket_entry&) = default;
};

/// An after-sales ticket: see the file comment.
struct ticket {
    ticket_id id;                                       ///< Generated when opened.
    std::uint64_t version{0};                           ///< 1 when opened, +1 per committed change.
    order_id order;                                     ///< The order it claims on.
    order_number number;                                ///< That order's printable number.
    customer_id customer;                               ///< The order's customer.
    merchant_id merchant;                               ///< The order's merchant.
    ticket_type type{ticket_type::refund_only};         ///< What the customer asks for.
    ticket_reason reason{ticket_reason::changed_mind};  ///< Why.
    std::string description;                            ///< The customer's words.
    std::vector<std::string> evidence;            ///< Photo and video references the host stores.
    std::vector<ticket_line> lines;               ///< What it claims; never empty.
    ticket_state state{ticket_state::submitted};  ///< Where it stands.
    /// The state a deadline passed in, while escalated.
    ticket_state escalated_from{ticket_state::submitted};
    std::string owner;          ///< The after-sales agent who owns it; empty until assigned.
    bool auto_approved{false};  ///< True when a rule approved it.
    std::string approval_rule;  ///< The rule that approved it, or the agent's note.
    warehouse_id return_to;     ///< Where returned goods go, for ticket types with a return.
    std::optional<return_parcel> returned;   ///< The return parcel, once sent.
    std::optional<refund_breakdown> refund;  ///< The refund, once issued.
    std::optional<shipment_id> replacement;  ///< The exchange's replacement shipment.
    carrier_id repair_carrier{};             ///< Carrier of the repaired goods' way back.
    std::string repair_tracking_number{};    ///< Its tracking number.
    std::vector<ticket_entry> timeline;      ///< Every step, oldest first.
    std::uint32_t escalations{0};            ///< Deadlines passed so far.
    timestamp created_at;                    ///< When it was opened.
    timestamp updated_at;                    ///< Last committed change.
    std::optional<timestamp> due_at;         ///< The current step's deadline, if it has one.

    /// Units of order line `line` this ticket claims.
    [[nodiscard]] std::int64_t units_of_line(std::uint32_t index) const noexcept {
        std::int64_t n = 0;
        for (const auto& l : lines) {
            if (l.line == index) {
                n += l.units.units();
            }
        }
        return n;
    }

    /// Tickets are equal when every field is.
    friend bool operator==(const ticket&, const ticket&) = default;
};

/// A customer's rating of an order, kept on the order for the KPIs.
struct order_rating {
    std::uint8_t score{0};  ///< 1 to 5.
    std::string text;       ///< The customer's words; may be empty.
    timestamp at;           ///< When it was given.

    /// Ratings are equal when every field is.
    friend bool operator==(const order_rating&, const order_rating&) = default;
};

}  // namespace orderly

/// Formats a ticket type as its name.
template <>
struct fmt::formatter<orderly::ticket_type> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::ticket_type t, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(t), ctx);
    }
};

/// Formats a ticket reason as its name.
template <>
struct fmt::formatter<orderly::ticket_reason> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::ticket_reason r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(r), ctx);
    }
};

/// Formats a ticket state as its name.
template <>
struct fmt::formatter<orderly::ticket_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::ticket_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a ticket event as its name.
template <>
struct fmt::formatter<orderly::ticket_event> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::ticket_event e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};
