#pragma once
/// \file
/// What the engine's inventory commands take and return: stock
/// transfers between warehouses, transfer proposals from open demand,
/// low-stock alerts and turnover. The commands are orderly::engine members.

#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/inventory/stock.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orderly {

/// Units to move from one warehouse to another.
struct transfer_request {
    sku_id sku{};          ///< What; must be in the catalogue.
    warehouse_id from{};   ///< Source; must hold the units available.
    warehouse_id to{};     ///< Target; another warehouse.
    quantity units{};      ///< How many; more than zero.
    std::string reason{};  ///< Why (up to 512 bytes).
};

/// A transfer the engine suggests: the target lacks what its region's open
/// orders need (plus the SKU's low-stock threshold), the source has more
/// than its own region needs.
struct transfer_proposal {
    transfer_request transfer{};  ///< What to dispatch, reason filled in.
    std::int64_t shortfall{0};    ///< What the target lacks in all for this SKU.
};

/// Units shipped over a period against the stock held meanwhile.
struct stock_turnover {
    sku_id sku{};                   ///< Which SKU.
    warehouse_id warehouse{};       ///< Where.
    timestamp from{};               ///< Period start (inclusive).
    timestamp to{};                 ///< Period end (exclusive).
    std::int64_t units_shipped{0};  ///< Units consumed by shipments in the period.
    /// On-hand units averaged over the period, weighted by time, from the
    /// store's on-hand ledger.
    double average_on_hand{0.0};
    /// units_shipped / average_on_hand; empty when nothing was on hand.
    std::optional<double> turnover{};
};

}  // namespace orderly
