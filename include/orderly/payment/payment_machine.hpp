#pragma once
/// \file
/// The payment state machine's facade; the Boost.MSM table is compiled in
/// src/lifecycle/payment_machine.cpp.

#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>
#include <orderly/payment/payment.hpp>

#include <string>
#include <vector>

namespace orderly {

/// What the payment machine's guards look at besides the state and the event.
struct payment_guard_facts {
    /// For refund_issued: true when the refunds now equal the captured amount
    /// (the payment becomes refunded), false when some remains (partially_refunded).
    bool refunds_everything{false};
};

/// The state a payment moves to when `event` happens in state `from`; refused
/// with errc::transition_not_allowed (field "state") when the table forbids it;
/// a state or event value outside its enum is errc::invalid_value (field
/// "state" or "event"). Safe from many threads.
[[nodiscard]] result<payment_state> next_payment_state(payment_state from, payment_event event,
                                                       const payment_guard_facts& facts);

/// The payment machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> payment_machine_rows();

/// The payment machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string payment_machine_dot();

/// The payment machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string payment_machine_mermaid();

/// The payment machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description payment_machine_description();

}  // namespace orderly
