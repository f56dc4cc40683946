#pragma once
/// \file
/// The after-sales ticket machine's facade. The machine itself is a
/// Boost.MSM transition table compiled in src/lifecycle/ticket_machine.cpp;
/// hosts never include MSM.
///
/// The path: submitted → (auto_approved | review_requested → under_review →
/// approved | rejected). Approval of a refund-only ticket leads to
/// `approved` (the refund is next); approval of a ticket with a return leads
/// to `awaiting_return`. Then goods_received → inspected → refunded (any
/// type), replacement_shipped (exchange) or at_repair → repaired_shipped
/// (repair) → closed. A refund-only ticket goes approved → refunded → closed.
///
/// - withdrawn: by the customer while nothing has come back yet (submitted,
///   under_review, approved, awaiting_return, or escalated from review or
///   from awaiting_return).
/// - deadline_passed: from under_review, goods_received, inspected and
///   at_repair (the steps an agent, the warehouse or the repairer owes), and
///   from awaiting_return while the return is in transit, to escalated,
///   remembering where (ticket::escalated_from). An escalated ticket accepts
///   what its origin accepts: approved/rejected/withdrawn from review;
///   goods_received, refund_issued or withdrawn from awaiting_return;
///   inspected from goods_received; refund, replacement, repair or rejection
///   from inspected; repaired_shipped or repair_failed from at_repair. A
///   second deadline while escalated keeps it escalated (counted by the
///   engine).
/// - return_expired: awaiting_return → closed when the goods never came and
///   the customer reported no return parcel. A return in transit
///   (ticket_facts::return_in_transit) holds the ticket open instead: its
///   deadline follows the parcel and escalates, and if the carrier loses it
///   the staff refund without the goods (awaiting_return → refunded).
/// - An exchange whose replacement has no stock may be refunded instead:
///   refund_issued is accepted from inspected for every type.
/// - Inspection may refuse every unit (not what was sold, or damaged by the
///   customer): inspected → rejected, nothing refunded, replaced or repaired.
/// - An item the repairer cannot repair comes back (repair_failed: at_repair →
///   inspected); it is then refunded, or replaced (replacement_shipped with
///   ticket_facts::repair_failed, for a repair ticket).

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>

#include <string>
#include <vector>

namespace orderly {

/// What the ticket machine's guards look at besides the state: the ticket's
/// type, and where it was escalated from (read only in `escalated`).
struct ticket_facts {
    ticket_type type{ticket_type::refund_only};            ///< The ticket's type.
    ticket_state escalated_from{ticket_state::submitted};  ///< Origin of an escalation.
    /// The customer reported the return parcel: awaiting_return then waits for
    /// it (its deadline escalates) instead of expiring.
    bool return_in_transit{false};
    /// The repairer gave the goods back unrepaired: a repair ticket may then
    /// ship a replacement instead.
    bool repair_failed{false};
};

/// The state a ticket moves to on `event` in state `from`. Refused with
/// errc::transition_not_allowed (field "state", message naming the state and
/// the event) when the table has no row for it or its guard refuses. A state,
/// event or type value outside its enum is errc::invalid_value (field "state",
/// "event" or "type"); `submitted` as an event is refused like a missing row.
/// The machine is restored at `from` without replaying history and without
/// entry side effects. Safe from many threads.
[[nodiscard]] result<ticket_state> next_ticket_state(ticket_state from, ticket_event event,
                                                     const ticket_facts& facts);

/// The ticket machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> ticket_machine_rows();

/// The ticket machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string ticket_machine_dot();

/// The ticket machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string ticket_machine_mermaid();

/// The ticket machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description ticket_machine_description();

}  // namespace orderly
