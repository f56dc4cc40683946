#pragma once
/// \file
/// The shipment machine's facade (R-7, R-19…R-22). The machine itself is a
/// Boost.MSM transition table compiled in src/lifecycle/shipment_machine.cpp;
/// hosts never include MSM. The engine asks it for every change of
/// shipment::state.
///
/// The path: planned → (wave_planned → picking) → packed → handed_over →
/// shipped → delivered. A shipped parcel may instead come back
/// (returned_to_sender → returned) or be lost (declared_lost → lost, by the
/// carrier, a person, or the lost_after rule); a lost parcel that moves
/// again (carrier_progress, delivered, returned_to_sender) follows the
/// carrier. A lost or returned parcel is put right by a reship or a refund
/// (→ resolved, final). Parcels still in the warehouse may be cancelled.
/// Ends: delivered, cancelled, resolved.

#include <orderly/core/error.hpp>
#include <orderly/fulfilment/shipment.hpp>
#include <orderly/lifecycle/transition.hpp>

#include <string>
#include <vector>

namespace orderly {

/// The state a shipment moves to on `event` in state `from`. Refused with
/// errc::transition_not_allowed (field "state", message naming the state and
/// the event) when the table has no row for it. A state or event value
/// outside its enum is errc::invalid_value (field "state" or "event"). Safe
/// from many threads.
[[nodiscard]] result<shipment_state> next_shipment_state(shipment_state from, shipment_event event);

/// The shipment machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> shipment_machine_rows();

/// The shipment machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string shipment_machine_dot();

/// The shipment machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string shipment_machine_mermaid();

/// The shipment machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description shipment_machine_description();

}  // namespace orderly
