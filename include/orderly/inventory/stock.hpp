#pragma once
/// \file
/// Stock per SKU per warehouse and reservations: what keeps a
/// unit from being sold twice.

#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
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
    /// Units on their way here from another warehouse (a transfer): counted
    /// neither here nor at the source until they arrive.
    quantity in_transit{};
    /// True while a low-stock alert for this row is out and available has
    /// not recovered to the SKU's threshold since (set and cleared by the
    /// engine's low-stock scan, so each drop is announced once).
    bool low_stock_alerted{false};
    /// Returned units inspection found damaged: kept apart in the
    /// damaged bin, never on hand, never available.
    quantity damaged{};

    /// Units that may still be reserved.
    [[nodiscard]] std::int64_t available() const noexcept {
        return on_hand.units() - reserved.units() - safety.units();
    }

    /// Stock levels are equal when every field is.
    friend bool operator==(const stock_level&, const stock_level&) = default;
};

/// Where a stock transfer stands. Stored values never change.
enum class transfer_state : std::uint8_t {
    in_transit = 1,  ///< Left the source; not yet received at the target.
    received = 2,    ///< Received at the target: on hand there.
    /// Called back before it arrived: the units are on hand at the source again.
    cancelled = 3,
};

/// Every transfer state, in numeric order.
inline constexpr std::array<transfer_state, 3> all_transfer_states = {
    transfer_state::in_transit, transfer_state::received, transfer_state::cancelled};

/// The stable name of a transfer state ("in_transit").
[[nodiscard]] constexpr std::string_view to_string(transfer_state s) noexcept {
    switch (s) {
        case transfer_state::in_transit:
            return "in_transit";
        case transfer_state::received:
            return "received";
        case transfer_state::cancelled:
            return "cancelled";
    }
    return "unknown";
}

/// Events of the transfer machine (orderly/inventory/transfer_machine.hpp).
/// A transfer is created in_transit by its dispatch. Stored values never change.
enum class transfer_event : std::uint8_t {
    received = 1,   ///< The target warehouse received the units.
    cancelled = 2,  ///< It was called back; the units returned to the source.
};

/// Every transfer event, in numeric order.
inline constexpr std::array<transfer_event, 2> all_transfer_events = {transfer_event::received,
                                                                      transfer_event::cancelled};

/// The stable name of a transfer event ("received").
[[nodiscard]] constexpr std::string_view to_string(transfer_event e) noexcept {
    switch (e) {
        case transfer_event::received:
            return "received";
        case transfer_event::cancelled:
            return "cancelled";
    }
    return "unknown";
}

/// Units of one SKU moving from one warehouse to another. While in
/// transit they are in neither warehouse's on-hand figure: the source gave
/// them up at dispatch, the target counts them as in_transit until receipt.
struct stock_transfer {
    transfer_id id{};                                  ///< Generated at dispatch.
    std::uint64_t version{0};                          ///< 1 when created, +1 per change.
    sku_id sku{};                                      ///< What.
    warehouse_id from{};                               ///< Source warehouse.
    warehouse_id to{};                                 ///< Target warehouse.
    quantity units{};                                  ///< How many; more than zero.
    transfer_state state{transfer_state::in_transit};  ///< Where it stands.
    std::string reason{};                              ///< Why (a proposal's reason, a note).
    timestamp dispatched_at{};                         ///< When it left the source.
    std::optional<timestamp> received_at{};            ///< When the target received it.
    std::optional<timestamp> cancelled_at{};           ///< When it was called back.
    std::string cancel_reason{};                       ///< Why it was called back.

    /// Transfers are equal when every field is.
    friend bool operator==(const stock_transfer&, const stock_transfer&) = default;
};

/// Where a reservation stands. Stored values never change.
enum class reservation_state : std::uint8_t {
    held = 1,       ///< Made at placement; released on timeout, failure or cancel.
    committed = 2,  ///< The order is paid (or approved for cash on delivery).
    consumed = 3,   ///< Shipped: deducted from on hand.
    released = 4,   ///< Given back to available stock.
};

/// Every reservation state, in numeric order.
inline constexpr std::array<reservation_state, 4> all_reservation_states = {
    reservation_state::held, reservation_state::committed, reservation_state::consumed,
    reservation_state::released};

/// Events of the reservation machine (orderly/inventory/reservation_machine.hpp).
/// A reservation is created held. Stored values never change.
enum class reservation_event : std::uint8_t {
    committed = 1,  ///< The order was paid, or approved for cash on delivery.
    consumed = 2,   ///< The units shipped: deducted from on hand.
    released = 3,   ///< Given back: a cancel, a timeout, a failure, a re-plan.
};

/// Every reservation event, in numeric order.
inline constexpr std::array<reservation_event, 3> all_reservation_events = {
    reservation_event::committed, reservation_event::consumed, reservation_event::released};

/// The stable name of a reservation event ("committed").
[[nodiscard]] constexpr std::string_view to_string(reservation_event e) noexcept {
    switch (e) {
        case reservation_event::committed:
            return "committed";
        case reservation_event::consumed:
            return "consumed";
        case reservation_event::released:
            return "released";
    }
    return "unknown";
}

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

/// Formats a transfer state as its name.
template <>
struct fmt::formatter<orderly::transfer_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::transfer_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a reservation state as its name.
template <>
struct fmt::formatter<orderly::reservation_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::reservation_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};
