#pragma once
/// \file
/// The tracking state machine's facade. The machine itself is a Boost.MSM
/// transition table compiled in src/lifecycle/tracking_machine.cpp; hosts
/// never include MSM. It decides whether a carrier event makes sense in the
/// state the parcel is in; tracking_history (orderly/logistics/tracking.hpp)
/// asks it for every event while replaying a shipment's history.
///
/// What the table allows, and why:
/// - Carriers skip scans, so a scan is accepted from every state the parcel
///   can be in just before it: a first scan at a facility without a pickup
///   scan (dropped off by the sender), a hub after a hub, delivered without an
///   out-for-delivery scan (pickup points, lockers), out for delivery or
///   delivered straight after pickup (same-city couriers), a second
///   out-for-delivery scan (the next day's round).
/// - A failed attempt is retried: delivery_failed goes back out for delivery,
///   back to a depot (at_hub, in_transit), is collected (delivered), returned
///   or lost; a second failed attempt may come without a new
///   out-for-delivery scan.
/// - delivered and returned_to_sender are terminal. A delivery scan is the
///   carrier's proof of handover; anything after it (a refusal, a return) is
///   an after-sales matter. A return ends the outbound journey; its way back
///   is the sender's return shipment, and a carrier that re-delivers after a
///   return does so under a new label.
/// - lost is an end (nothing more is expected) but the table leaves it:
///   carriers do find parcels they declared lost, and the truth must win. A
///   scan at a hub or a departure from a facility (where found parcels
///   re-enter the network) or a delivery brings a lost parcel back; the
///   exception case that the loss opened is settled by the host.
/// - A return is decided at a facility or at the door (after an attempt, or
///   out for delivery when the recipient refuses), not on the road:
///   in_transit → returned_to_sender is refused.
/// - picked_up only from label_created: a second pickup is a carrier fault.
/// - declared_lost from every state the parcel is on its way in, and from
///   label_created too: a person or the lost_after rule may declare a parcel
///   lost that the carrier never scanned.

#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>
#include <orderly/logistics/tracking.hpp>

#include <string>
#include <vector>

namespace orderly {

/// The state a shipment moves to when the carrier reports `event` in state
/// `from`. Refused with errc::transition_not_allowed (field "state", message
/// naming the state and the event) when the table has no row for it. A state
/// or event value outside its enum is errc::invalid_value (field "state" or
/// "event"). The machine is restored at `from` without replaying history and
/// without entry side effects. Safe from many threads.
[[nodiscard]] result<tracking_state> next_tracking_state(tracking_state from, tracking_event event);

/// The tracking machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> tracking_machine_rows();

/// The tracking machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string tracking_machine_dot();

/// The tracking machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string tracking_machine_mermaid();

/// The tracking machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description tracking_machine_description();

}  // namespace orderly
