#pragma once
/// \file
/// The stock transfer machine's facade. The machine itself is a
/// Boost.MSM transition table compiled in src/lifecycle/transfer_machine.cpp;
/// hosts never include MSM. A transfer is created in_transit by its
/// dispatch; the target receives it (received) or it is called back
/// (cancelled, its units on hand at the source again). Both are ends.

#include <orderly/core/error.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/lifecycle/transition.hpp>

#include <string>
#include <vector>

namespace orderly {

/// The state a transfer moves to on `event` in state `from`. Refused with
/// errc::transition_not_allowed (field "state") when the table has no row for
/// it; a value outside its enum is errc::invalid_value (field "state" or
/// "event"). Safe from many threads.
[[nodiscard]] result<transfer_state> next_transfer_state(transfer_state from, transfer_event event);

/// The transfer machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> transfer_machine_rows();

/// The transfer machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string transfer_machine_dot();

/// The transfer machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string transfer_machine_mermaid();

/// The transfer machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description transfer_machine_description();

}  // namespace orderly
