#pragma once
/// \file
/// Stock per SKU per warehouse and reservations: what keeps a
/// unit from being sold twice.

#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

namespace orderly {

/// Stock of one SKU in one warehouse. available = on_hand − reserved − safety,
/// and orderly never lets it fall below zero.
struct stock_level {
    sku_id sku;              ///< Which SKU.
    warehouse_id warehouse;  ///< Where.
    quantity on_hand;        ///< Units physically there.
    quantity reserved;       ///< Units promised to orders not yet shipped.
    quantity safety;         ///< Units kept back from sale as a buffer.

    /// Units that may still be reserved.
    [[nodiscard]] std::int64_t available() const noexcept {
        return on_hand.units() - reserved.units() - safety.units();
    }

    /// Stock levels are equal when every field is.
    friend bool operator==(const stock_level&, const stock_level&) = default;
};

/// Where a reservation stands. Stored values never change.
enum class reservation_state : std::uint8_t {
    held = 1,       ///< Made at placement; released on timeout, failure or cancel.
    committed = 2,  ///< The order is paid (or approved for cash on delivery).
    consumed = 3,   ///< Shipped: deducted from on hand.
    released = 4,   ///< Given back to available stock.
};

/// The stable name of a reservation state ("held").
[[nodiscard]] constexpr std::string_view to_string(reservation_state s) noexcept {
    switch (s) {
        case reservation_state::held:
            return "held";
        case reservation_state::committed:
            return "committed";
        case reservation_state::consumed:
            return "consumed";
        case reservation_state::released:
            return "released";
    }
    return "unknown";
}

/// Units of one SKU in one warehouse set aside for one order.
struct reservation {
    reservation_id id;                                 ///< Generated at placement.
    sku_id sku;                                        ///< Which SKU.
    warehouse_id warehouse;                            ///< From which warehouse's stock.
    quantity units;                                    ///< How many units.
    reservation_state state{reservation_state::held};  ///< Where it stands.

    /// True while the units count in the warehouse's reserved figure.
    [[nodiscard]] bool active() const noexcept {
        return state == reservation_state::held || state == reservation_state::committed;
    }

    /// Reservations are equal when every field is.
    friend bool operator==(const reservation&, const reservation&) = default;
};

}  // namespace orderly

/// Formats a reservation state as its name.
template <>
struct fmt::formatter<orderly::reservation_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::reservation_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};
