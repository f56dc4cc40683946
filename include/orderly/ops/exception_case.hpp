#pragma once
/// \file
/// The exception case: something that went wrong and needs a person —
/// an order not processed within its state's limit, a stock shortage, a
/// failed or timed-out payment, an unclear address, a late, lost or damaged
/// parcel, an overdue after-sales ticket, low stock. A case has a type,
/// priority, response deadline, owner, notes, the order, shipment, ticket or
/// SKU it concerns, and a resolution with a code. Stores keep a case as one
/// unit with its own version, like an order or a ticket. Its state changes
/// only through the case machine (orderly/ops/case_machine.hpp).
///
/// Detectors key a case on its cause (exception_case::cause_key): they never
/// open a second case for a cause while one is live, and when the cause goes
/// away the case says so (case_event::cause_cleared).

#include <orderly/core/actor.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/time.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// What went wrong. Stored values never change.
enum class case_type : std::uint8_t {
    unprocessed_order = 1,    ///< An order stayed in a state longer than that state's limit.
    stock_shortage = 2,       ///< Paid units could not be allocated.
    payment_failure = 3,      ///< A payment failed.
    payment_timeout = 4,      ///< A payment was not made within its time limit.
    unclear_address = 5,      ///< A delivery address needs clarifying.
    logistics_delay = 6,      ///< A parcel is late.
    logistics_loss = 7,       ///< A parcel was lost.
    logistics_damage = 8,     ///< A parcel arrived damaged.
    after_sales_overdue = 9,  ///< An after-sales ticket passed its deadline.
    low_stock = 10,           ///< A SKU's stock fell below its threshold.
    other = 11,               ///< Anything else, opened by hand.
    payment_mismatch = 12,    ///< A gateway took another amount than was due; it was given back.
    parcel_returned = 13,     ///< The carrier brought a parcel back to the sender.
};

/// Every case type, in numeric order.
inline constexpr std::array<case_type, 13> all_case_types = {case_type::unprocessed_order,
                                                             case_type::stock_shortage,
                                                             case_type::payment_failure,
                                                             case_type::payment_timeout,
                                                             case_type::unclear_address,
                                                             case_type::logistics_delay,
                                                             case_type::logistics_loss,
                                                             case_type::logistics_damage,
                                                             case_type::after_sales_overdue,
                                                             case_type::low_stock,
                                                             case_type::other,
                                                             case_type::payment_mismatch,
                                                             case_type::parcel_returned};

/// The stable name of a case type ("payment_timeout").
[[nodiscard]] constexpr std::string_view to_string(case_type t) noexcept {
    switch (t) {
        case case_type::unprocessed_order:
            return "unprocessed_order";
        case case_type::stock_shortage:
            return "stock_shortage";
        case case_type::payment_failure:
            return "payment_failure";
        case case_type::payment_timeout:
            return "payment_timeout";
        case case_type::unclear_address:
            return "unclear_address";
        case case_type::logistics_delay:
            return "logistics_delay";
        case case_type::logistics_loss:
            return "logistics_loss";
        case case_type::logistics_damage:
            return "logistics_damage";
        case case_type::after_sales_overdue:
            return "after_sales_overdue";
        case case_type::low_stock:
            return "low_stock";
        case case_type::other:
            return "other";
        case case_type::payment_mismatch:
            return "payment_mismatch";
        case case_type::parcel_returned:
            return "parcel_returned";
    }
    return "unknown";
}

/// How urgent a case is. Stored values never change; a higher value is more
/// urgent.
enum class case_priority : std::uint8_t {
    low = 1,     ///< When there is time.
    normal = 2,  ///< The usual.
    high = 3,    ///< Before the normal ones.
    urgent = 4,  ///< Now.
};

/// Every case priority, in numeric order (least urgent first).
inline constexpr std::array<case_priority, 4> all_case_priorities = {
    case_priority::low, case_priority::normal, case_priority::high, case_priority::urgent};

/// The stable name of a case priority ("urgent").
[[nodiscard]] constexpr std::string_view to_string(case_priority p) noexcept {
    switch (p) {
        case case_priority::low:
            return "low";
        case case_priority::normal:
            return "normal";
        case case_priority::high:
            return "high";
        case case_priority::urgent:
            return "urgent";
    }
    return "unknown";
}

/// The next priority up, as an escalation raises it; `urgent` stays
/// `urgent`. A value outside the enum is returned unchanged.
[[nodiscard]] constexpr case_priority raised(case_priority p) noexcept {
    switch (p) {
        case case_priority::low:
            return case_priority::normal;
        case case_priority::normal:
            return case_priority::high;
        case case_priority::high:
        case case_priority::urgent:
            return case_priority::urgent;
    }
    return p;
}

/// States of the case machine. Stored values never change; they are
/// not Boost.MSM's state ids.
enum class case_state : std::uint8_t {
    open = 1,          ///< Opened; nobody has taken it yet.
    acknowledged = 2,  ///< Someone has seen it and owns it.
    in_progress = 3,   ///< Being worked on.
    resolved = 4,      ///< Fixed, or its cause went away; may still be reopened.
    closed = 5,        ///< Done (final).
    escalated = 6,     ///< Its response deadline passed; escalated_from says where.
};

/// Every case state, in numeric order.
inline constexpr std::array<case_state, 6> all_case_states = {
    case_state::open,     case_state::acknowledged, case_state::in_progress,
    case_state::resolved, case_state::closed,       case_state::escalated};

/// The stable name of a case state ("in_progress").
[[nodiscard]] constexpr std::string_view to_string(case_state s) noexcept {
    switch (s) {
        case case_state::open:
            return "open";
        case case_state::acknowledged:
            return "acknowledged";
        case case_state::in_progress:
            return "in_progress";
        case case_state::resolved:
            return "resolved";
        case case_state::closed:
            return "closed";
        case case_state::escalated:
            return "escalated";
    }
    return "unknown";
}

/// True while the case is not closed: a detector does not open a second case
/// for the same cause while one is live (a resolved one is reopened instead).
[[nodiscard]] constexpr bool case_live(case_state s) noexcept {
    return s != case_state::closed;
}

/// True once nothing more will happen to the case (closed).
[[nodiscard]] constexpr bool case_ended(case_state s) noexcept {
    return s == case_state::closed;
}

/// True while the case still needs work: live and not resolved (open,
/// acknowledged, in_progress, escalated). Only these have a response deadline
/// and can have their cause cleared.
[[nodiscard]] constexpr bool case_unresolved(case_state s) noexcept {
    return s == case_state::open || s == case_state::acknowledged || s == case_state::in_progress ||
           s == case_state::escalated;
}

/// The states case_unresolved() is true of, in numeric order: where a case
/// still needs work (detectors re-check these; open_cases lists them).
inline constexpr std::array<case_state, 4> unresolved_case_states = {
    case_state::open, case_state::acknowledged, case_state::in_progress, case_state::escalated};

/// Events of the case machine: facts in the past tense. Stored values never change.
enum class case_event : std::uint8_t {
    opened = 1,           ///< Opened (first timeline entry only; not a machine event).
    acknowledged = 2,     ///< Someone took it.
    work_started = 3,     ///< Work on it began.
    resolved = 4,         ///< Someone resolved it, with a resolution and a code.
    closed = 5,           ///< Closed after resolution.
    deadline_passed = 6,  ///< Its response deadline passed (escalation).
    cause_cleared = 7,  ///< The detector saw its cause go away: resolved from any unresolved state.
    reopened = 8,       ///< The same cause came back before the case was closed.
};

/// Every case event, in numeric order.
inline constexpr std::array<case_event, 8> all_case_events = {
    case_event::opened,        case_event::acknowledged, case_event::work_started,
    case_event::resolved,      case_event::closed,       case_event::deadline_passed,
    case_event::cause_cleared, case_event::reopened};

/// The stable name of a case event ("cause_cleared").
[[nodiscard]] constexpr std::string_view to_string(case_event e) noexcept {
    switch (e) {
        case case_event::opened:
            return "opened";
        case case_event::acknowledged:
            return "acknowledged";
        case case_event::work_started:
            return "work_started";
        case case_event::resolved:
            return "resolved";
        case case_event::closed:
            return "closed";
        case case_event::deadline_passed:
            return "deadline_passed";
        case case_event::cause_cleared:
            return "cause_cleared";
        case case_event::reopened:
            return "reopened";
    }
    return "unknown";
}

/// A note someone added to a case.
struct case_note {
    timestamp at{};           ///< When.
    orderly::actor author{};  ///< Who.
    std::string text{};       ///< What they wrote.

    /// Notes are equal when every field is.
    friend bool operator==(const case_note&, const case_note&) = default;
};

/// One entry of a case's timeline: who did what, when, and the states before
/// and after. Written in the same transaction as the change.
struct case_entry {
    timestamp at{};                        ///< When.
    orderly::actor actor{};                ///< Who.
    case_event event{case_event::opened};  ///< What happened.
    std::optional<case_state> from{};      ///< State before; empty for `opened`.
    case_state to{case_state::open};       ///< State after.
    std::string note{};                    ///< Why, or what, in words.

    /// Entries are equal when every field is.
    friend bool operator==(const case_entry&, const case_entry&) = default;
};

/// An exception case: see the file comment.
struct exception_case {
    case_id id{};                                   ///< Generated when opened.
    std::uint64_t version{0};                       ///< 1 when opened, +1 per committed change.
    case_type type{case_type::other};               ///< What went wrong.
    case_priority priority{case_priority::normal};  ///< How urgent; raised by each escalation.
    case_state state{case_state::open};             ///< Where it stands.
    /// The state its deadline passed in, while escalated.
    case_state escalated_from{case_state::open};
    /// What a detector keys on ("payment_timeout:order:123"): one cause has
    /// at most one live case. Empty for a case opened by hand.
    std::string cause_key{};
    std::string title{};                     ///< One line saying what is wrong.
    std::optional<order_id> order{};         ///< The order it concerns, if any.
    std::optional<shipment_id> shipment{};   ///< The shipment it concerns, if any.
    std::optional<ticket_id> ticket{};       ///< The after-sales ticket it concerns, if any.
    sku_id sku{};                            ///< The SKU it concerns, or empty.
    warehouse_id warehouse{};                ///< The warehouse it concerns, or empty.
    carrier_id carrier{};                    ///< The carrier it concerns, or empty.
    merchant_id merchant{};                  ///< The merchant it concerns, or empty.
    std::string owner{};                     ///< Who owns it; empty until acknowledged.
    std::vector<case_note> notes{};          ///< Notes, oldest first.
    std::vector<case_entry> timeline{};      ///< Every step, oldest first.
    std::string resolution{};                ///< How it was resolved, in words.
    std::string resolution_code{};           ///< How it was resolved, as a code hosts count.
    std::uint32_t escalations{0};            ///< Deadlines passed so far.
    timestamp opened_at{};                   ///< When it was opened.
    timestamp updated_at{};                  ///< Last committed change.
    std::optional<timestamp> due_at{};       ///< The response deadline, while it has one.
    std::optional<timestamp> resolved_at{};  ///< When it was last resolved.
    std::optional<timestamp> closed_at{};    ///< When it was closed.

    /// Cases are equal when every field is.
    friend bool operator==(const exception_case&, const exception_case&) = default;
};

}  // namespace orderly

/// Formats a case type as its name.
template <>
struct fmt::formatter<orderly::case_type> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::case_type t, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(t), ctx);
    }
};

/// Formats a case priority as its name.
template <>
struct fmt::formatter<orderly::case_priority> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::case_priority p, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(p), ctx);
    }
};

/// Formats a case state as its name.
template <>
struct fmt::formatter<orderly::case_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::case_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a case event as its name.
template <>
struct fmt::formatter<orderly::case_event> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::case_event e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};
