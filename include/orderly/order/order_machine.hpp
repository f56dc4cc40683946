#pragma once
/// \file
/// The order state machine's facade. The machine itself is a Boost.MSM
/// transition table compiled in src/lifecycle/order_machine.cpp; hosts never
/// include MSM. The table is the only source of truth for what may happen in
/// which state: the engine asks it for every change.

#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>
#include <orderly/order/order.hpp>

#include <string>
#include <vector>

namespace orderly {

/// What the order machine's guards look at besides the state and the event.
struct order_guard_facts {
    bool cash_on_delivery{false};  ///< Review approval skips awaiting_payment.
    order_state held_from{order_state::pending_review};  ///< Where `released` returns to.
};

/// The state the order moves to when `event` happens in state `from`. Refused
/// with errc::transition_not_allowed (field "state", message naming the state
/// and the event) when the table has no row for it or every row's guard fails.
/// A state or event value outside its enum is errc::invalid_value (field
/// "state" or "event"). The machine is restored at `from` without replaying
/// history and without entry side effects. Safe from many threads.
[[nodiscard]] result<order_state> next_order_state(order_state from, order_event event,
                                                   const order_guard_facts& facts);

/// The order machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> order_machine_rows();

/// The order machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string order_machine_dot();

/// The order machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string order_machine_mermaid();

/// The order machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description order_machine_description();

}  // namespace orderly
