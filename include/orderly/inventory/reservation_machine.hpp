#pragma once
/// \file
/// The reservation machine's facade. The machine itself is a
/// Boost.MSM transition table compiled in src/lifecycle/reservation_machine.cpp;
/// hosts never include MSM. A reservation is created held (at placement);
/// payment (or approval for cash on delivery) commits it; shipping consumes
/// it; a cancel, timeout, failure or re-plan releases it. Ends: consumed,
/// released.

#include <orderly/core/error.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/lifecycle/transition.hpp>

#include <string>
#include <vector>

namespace orderly {

/// The state a reservation moves to on `event` in state `from`. Refused with
/// errc::transition_not_allowed (field "state") when the table has no row for
/// it; a value outside its enum is errc::invalid_value (field "state" or
/// "event"). Safe from many threads.
[[nodiscard]] result<reservation_state> next_reservation_state(reservation_state from,
                                                               reservation_event event);

/// The reservation machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> reservation_machine_rows();

/// The reservation machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string reservation_machine_dot();

/// The reservation machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string reservation_machine_mermaid();

/// The reservation machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description reservation_machine_description();

}  // namespace orderly
