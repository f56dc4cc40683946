#pragma once
/// \file
/// The shipment (R-7, R-13, R-19…R-22): one parcel from one warehouse by one
/// shipping method, holding units of one order, or of several orders of one
/// customer to one address when they were merged. An order split across
/// warehouses or shipping methods has several shipments. Each order keeps its
/// own lines, money, timeline and after-sales rights; a shipment only says
/// which of those units travel together, how, and where they are.
///
/// Stores keep a shipment as one unit with its own version, like an order.
/// Its state changes only through the engine's shipment commands.

#include <orderly/core/address.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/fulfilment/packing.hpp>
#include <orderly/logistics/tracking.hpp>
#include <orderly/ports/carrier_directory.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// Where a shipment stands in the warehouse and on the road. Stored values
/// never change.
enum class shipment_state : std::uint8_t {
    planned = 1,    ///< Its warehouse and lines are fixed; waiting for a pick wave.
    picking = 2,    ///< In a pick wave.
    packed = 3,     ///< The packing re-check passed; waiting for the carrier.
    shipped = 4,    ///< The carrier has it; tracking events move it on.
    delivered = 5,  ///< The carrier delivered it.
    returned = 6,   ///< The carrier brought it back to the sender.
    lost = 7,       ///< The carrier lost it.
    cancelled = 8,  ///< Its orders were cancelled or it was merged into another shipment.
    /// A lost or returned parcel put right by a reship or a refund: its goods
    /// no longer count toward its orders (final; a found parcel's later
    /// scans are kept in its tracking but do not move it).
    resolved = 9,
};

/// Every shipment state, in numeric order.
inline constexpr std::array<shipment_state, 9> all_shipment_states = {
    shipment_state::planned, shipment_state::picking,   shipment_state::packed,
    shipment_state::shipped, shipment_state::delivered, shipment_state::returned,
    shipment_state::lost,    shipment_state::cancelled, shipment_state::resolved};

/// The stable name of a shipment state ("packed").
[[nodiscard]] constexpr std::string_view to_string(shipment_state s) noexcept {
    switch (s) {
        case shipment_state::planned:
            return "planned";
        case shipment_state::picking:
            return "picking";
        case shipment_state::packed:
            return "packed";
        case shipment_state::shipped:
            return "shipped";
        case shipment_state::delivered:
            return "delivered";
        case shipment_state::returned:
            return "returned";
        case shipment_state::lost:
            return "lost";
        case shipment_state::cancelled:
            return "cancelled";
        case shipment_state::resolved:
            return "resolved";
    }
    return "unknown";
}

/// Events of the shipment machine (orderly/fulfilment/shipment_machine.hpp):
/// facts in the past tense. Stored values never change.
enum class shipment_event : std::uint8_t {
    wave_planned = 1,        ///< It joined a pick wave.
    packed = 2,              ///< The packing re-check passed and the parcel was sealed.
    handed_over = 3,         ///< The carrier took it with a waybill.
    carrier_progress = 4,    ///< A carrier scan showed it moving (also a lost parcel found).
    delivered = 5,           ///< The carrier delivered it.
    returned_to_sender = 6,  ///< The carrier brought it back to the warehouse.
    declared_lost = 7,       ///< The carrier, a person or the lost_after rule declared it lost.
    cancelled = 8,           ///< Its orders were cancelled, or it was merged into another.
    reshipped = 9,           ///< A lost or returned parcel was replaced by a new one.
    refunded = 10,           ///< A lost or returned parcel's goods were refunded.
};

/// Every shipment event, in numeric order.
inline constexpr std::array<shipment_event, 10> all_shipment_events = {
    shipment_event::wave_planned,     shipment_event::packed,    shipment_event::handed_over,
    shipment_event::carrier_progress, shipment_event::delivered, shipment_event::returned_to_sender,
    shipment_event::declared_lost,    shipment_event::cancelled, shipment_event::reshipped,
    shipment_event::refunded};

/// The stable name of a shipment event ("handed_over").
[[nodiscard]] constexpr std::string_view to_string(shipment_event e) noexcept {
    switch (e) {
        case shipment_event::wave_planned:
            return "wave_planned";
        case shipment_event::packed:
            return "packed";
        case shipment_event::handed_over:
            return "handed_over";
        case shipment_event::carrier_progress:
            return "carrier_progress";
        case shipment_event::delivered:
            return "delivered";
        case shipment_event::returned_to_sender:
            return "returned_to_sender";
        case shipment_event::declared_lost:
            return "declared_lost";
        case shipment_event::cancelled:
            return "cancelled";
        case shipment_event::reshipped:
            return "reshipped";
        case shipment_event::refunded:
            return "refunded";
    }
    return "unknown";
}

/// True while the shipment has not yet left the warehouse (planned, picking,
/// packed): it may still be merged, re-planned or cancelled.
[[nodiscard]] constexpr bool in_warehouse(shipment_state s) noexcept {
    return s == shipment_state::planned || s == shipment_state::picking ||
           s == shipment_state::packed;
}

/// Units of one order line that travel in a shipment.
struct shipment_line {
    order_id order;              ///< Whose line.
    std::uint32_t line{0};       ///< Index into that order's lines.
    sku_id sku;                  ///< The line's SKU.
    quantity units;              ///< How many of its units; more than zero.
    reservation_id reservation;  ///< The order's reservation that holds them.

    /// Lines are equal when every field is.
    friend bool operator==(const shipment_line&, const shipment_line&) = default;
};

/// What went wrong with a shipment on the road. Stored values never change.
enum class logistics_exception_kind : std::uint8_t {
    delayed = 1,  ///< No carrier progress within settings::fulfilment.delay_limit.
    lost = 2,     ///< The carrier reported it lost, or an operator did.
    damaged = 3,  ///< It arrived, or was found, damaged.
    /// The carrier brought it back to the sender; its goods are back on hand.
    returned = 4,
};

/// The stable name of a logistics exception kind ("lost").
[[nodiscard]] constexpr std::string_view to_string(logistics_exception_kind k) noexcept {
    switch (k) {
        case logistics_exception_kind::delayed:
            return "delayed";
        case logistics_exception_kind::lost:
            return "lost";
        case logistics_exception_kind::damaged:
            return "damaged";
        case logistics_exception_kind::returned:
            return "returned";
    }
    return "unknown";
}

/// How a logistics exception was put right. Stored values never change.
enum class logistics_remedy : std::uint8_t {
    none = 0,          ///< Not yet resolved.
    reship = 1,        ///< A new shipment with new reservations replaces the goods.
    refund = 2,        ///< The goods' money goes back to the customer.
    compensation = 3,  ///< The customer keeps the goods and gets an amount.
    recovered = 4,     ///< The cause went away (the parcel moved again, or turned up).
};

/// The stable name of a remedy ("reship").
[[nodiscard]] constexpr std::string_view to_string(logistics_remedy r) noexcept {
    switch (r) {
        case logistics_remedy::none:
            return "none";
        case logistics_remedy::reship:
            return "reship";
        case logistics_remedy::refund:
            return "refund";
        case logistics_remedy::compensation:
            return "compensation";
        case logistics_remedy::recovered:
            return "recovered";
    }
    return "unknown";
}

/// One exception record of a shipment: what happened and how it was put right.
/// The operations issue turns these into full cases; until then they live
/// on the shipment and in the outbox.
struct logistics_exception {
    logistics_exception_kind kind{logistics_exception_kind::delayed};  ///< What.
    timestamp raised_at;                              ///< When it was detected or reported.
    std::string detail;                               ///< Who said what.
    logistics_remedy remedy{logistics_remedy::none};  ///< How it was resolved, if it was.
    std::optional<timestamp> resolved_at;             ///< When.
    std::optional<money> amount;                      ///< Refund or compensation paid.
    std::optional<shipment_id> replacement;           ///< The new shipment of a reship.
    /// True when a person reported it (report_logistics_exception: customer
    /// service, a customer's complaint), false when a carrier event or the
    /// delay rule raised it. Counted as complaints in the carrier KPIs.
    bool reported{false};

    /// True until a remedy is recorded.
    [[nodiscard]] bool open() const noexcept { return remedy == logistics_remedy::none; }

    /// Records are equal when every field is.
    friend bool operator==(const logistics_exception&, const logistics_exception&) = default;
};

/// A parcel: see the file comment.
struct shipment {
    shipment_id id;                ///< Generated when planned.
    std::uint64_t version{0};      ///< 1 when created, +1 per committed change.
    merchant_id merchant;          ///< Who ships it (R-8).
    customer_id customer;          ///< To whom.
    address ship_to;               ///< Where to.
    std::vector<order_id> orders;  ///< Whose units: one order, or several when merged; ascending.
    warehouse_id warehouse;        ///< Ships from here.
    std::string shipping_method;   ///< By this method (shipping_method_table).
    std::vector<shipment_line> lines;                ///< What; never empty.
    shipment_state state{shipment_state::planned};   ///< Where it stands.
    std::uint64_t wave{0};                           ///< The pick wave it is in; 0 when none.
    std::optional<packing_record> packing;           ///< The packing re-check, once started.
    carrier_id carrier;                              ///< Chosen carrier, once shipped.
    service_level service{service_level::standard};  ///< The carrier's service.
    std::string tracking_number;                     ///< The carrier's number, once shipped.
    std::optional<money> shipping_cost;              ///< What the carrier charges, once shipped.
    std::optional<timestamp> promised_by;            ///< Delivery date promised to the customer.
    /// The carrier's events, ordered by event time, once shipped.
    std::optional<tracking_history> tracking;
    std::vector<logistics_exception> exceptions;  ///< Delays, losses, damage; oldest first.
    std::optional<shipment_id> replaces;    ///< The lost or damaged shipment this one reships.
    timestamp created_at;                   ///< When it was planned.
    timestamp updated_at;                   ///< Last committed change.
    std::optional<timestamp> shipped_at;    ///< When the carrier took it.
    std::optional<timestamp> delivered_at;  ///< When the carrier delivered it.
    /// When the delay rule next looks at it (shipped shipments only).
    std::optional<timestamp> due_at;
    /// The after-sales ticket this shipment serves (an exchange's
    /// replacement); its orders' states do not follow it.
    std::optional<ticket_id> ticket{};

    /// Units of `sku` this shipment holds over all its lines.
    [[nodiscard]] std::int64_t units_of(const sku_id& sku) const noexcept {
        std::int64_t n = 0;
        for (const auto& l : lines) {
            if (l.sku == sku) {
                n += l.units.units();
            }
        }
        return n;
    }

    /// Shipments are equal when every field is.
    friend bool operator==(const shipment&, const shipment&) = default;
};

}  // namespace orderly

/// Formats a shipment state as its name.
template <>
struct fmt::formatter<orderly::shipment_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::shipment_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a shipment event as its name.
template <>
struct fmt::formatter<orderly::shipment_event> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::shipment_event e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};

/// Formats a logistics exception kind as its name.
template <>
struct fmt::formatter<orderly::logistics_exception_kind> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::logistics_exception_kind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(k), ctx);
    }
};

/// Formats a remedy as its name.
template <>
struct fmt::formatter<orderly::logistics_remedy> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::logistics_remedy r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(r), ctx);
    }
};
