#pragma once
/// \file
/// Every lifecycle machine of orderly, described (states, ends, events and
/// their drivers, rows): what the liveness check over every table and the
/// generated diagrams walk.

#include <orderly/lifecycle/transition.hpp>

#include <vector>

namespace orderly {

/// The order, payment, reservation, shipment, tracking, transfer, ticket and
/// case machines, in that order.
[[nodiscard]] std::vector<machine_description> lifecycle_machines();

}  // namespace orderly
