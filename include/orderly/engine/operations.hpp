#pragma once
/// \file
/// Requests and reports of the engine's operations commands (R-28, R-30,
/// opening and working exception cases, and what the status
/// board, the case library and settlement read from the stores.

#include <orderly/core/id.hpp>
#include <orderly/core/time.hpp>
#include <orderly/ops/exception_case.hpp>
#include <orderly/ops/settlement.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace orderly {

/// A case opened by hand (engine::open_case). Detectors open their own.
struct open_case_request {
    case_type type{case_type::other};               ///< What went wrong.
    case_priority priority{case_priority::normal};  ///< How urgent.
    std::string title{};                            ///< One line; required, at most 200 bytes.
    std::optional<order_id> order{};                ///< The order it concerns; must exist.
    std::optional<shipment_id> shipment{};          ///< The shipment it concerns; must exist.
    std::optional<ticket_id> ticket{};              ///< The ticket it concerns; must exist.
    sku_id sku{};                                   ///< The SKU it concerns, or empty.
    warehouse_id warehouse{};                       ///< The warehouse it concerns, or empty.
    carrier_id carrier{};                           ///< The carrier it concerns, or empty.
    /// The merchant; empty takes the order's (or its first line's SKU's), if any.
    merchant_id merchant{};
    std::string note{};  ///< A first note, or empty; at most 2,000 bytes.
};

/// Settlement statements read from the stores (engine::settle_period).
struct store_settlement {
    /// The statements of the period, as orderly::settle_period computes them.
    period_settlement statements{};
    /// The inputs they were computed from: every order completed before the
    /// period's end (live or archived), with its categories and refunds.
    std::vector<settlement_input> inputs{};
};

}  // namespace orderly
