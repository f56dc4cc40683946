#pragma once
/// \file
/// Pick waves: shipments ready to pick are grouped into waves (batch
/// picking), each with one pick list a picker walks bin by bin. Pure
/// functions: the same shipments give the same waves, whatever their order.
///
/// How waves are formed:
///  - Shipments are grouped by warehouse, zone and carrier cut-off time (and
///    by carrier too when `separate_carriers` is set).
///  - Groups run earliest cut-off first; on equal cut-offs by warehouse id,
///    zone (natural order) and carrier id.
///  - Inside a group, shipments are taken by id (generated ids grow with
///    time, so older shipments come first) and each goes into the first wave
///    of its group with room for it: fewer shipments than
///    `max_shipments_per_wave` and at most `max_units_per_wave` units with it.
///    A shipment larger than `max_units_per_wave` on its own gets a wave of
///    its own, marked `oversize`, rather than being left unpicked.
///  - A wave's pick list has one row per (bin, SKU) with the total units and
///    the shipments they go to, sorted by bin in natural order, then SKU.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// Limits on what wave planning accepts; larger inputs are refused with
/// invalid_value, so the work per call stays bounded.
struct pick_wave_limits {
    /// Shipments per call.
    static constexpr std::size_t max_shipments = 10'000;
    /// Lines per shipment.
    static constexpr std::size_t max_lines_per_shipment = 1000;
    /// Units on one line.
    static constexpr std::int64_t max_units_per_line = 1'000'000;
    /// Bytes of a bin location or zone.
    static constexpr std::size_t location_bytes = 32;
    /// Largest value of pick_wave_options::max_units_per_wave.
    static constexpr std::int64_t max_units_per_wave = 1'000'000'000;
};

/// One line of a shipment to pick: a SKU, how many, and the bin it is
/// picked from.
struct pick_line {
    sku_id sku;       ///< What. Required.
    quantity units;   ///< How many; 1 to pick_wave_limits::max_units_per_line.
    std::string bin;  ///< Bin location, e.g. "A-2-10": 1 to 32 visible ASCII characters.

    /// Lines are equal when every field is.
    friend bool operator==(const pick_line&, const pick_line&) = default;
};

/// A shipment ready to pick.
struct ready_shipment {
    shipment_id id;          ///< Unique among the shipments planned together. Required.
    warehouse_id warehouse;  ///< Where it is picked. Required.
    /// Pick zone: up to 32 visible ASCII characters; empty when the warehouse has one zone.
    std::string zone;
    carrier_id carrier;            ///< Who collects it. Required.
    timestamp cutoff;              ///< The carrier's cut-off: it must be packed by then.
    std::vector<pick_line> lines;  ///< At least one.

    /// Shipments are equal when every field is.
    friend bool operator==(const ready_shipment&, const ready_shipment&) = default;
};

/// How big a wave may be.
struct pick_wave_options {
    /// Most shipments in one wave (a cart's totes). 1 to pick_wave_limits::max_shipments.
    std::size_t max_shipments_per_wave{24};
    /// Most units in one wave (what a cart holds). 1 to pick_wave_limits::max_units_per_wave.
    std::int64_t max_units_per_wave{500};
    /// Also keep shipments of different carriers apart (by default only the
    /// cut-off counts: carriers with one cut-off share waves).
    bool separate_carriers{false};
};

/// Units of a pick row that go to one shipment.
struct pick_share {
    shipment_id shipment;  ///< Which shipment.
    quantity units;        ///< How many of the row's units.

    /// Shares are equal when both fields are.
    friend bool operator==(const pick_share&, const pick_share&) = default;
};

/// One row of a pick list: take `units` of `sku` from `bin`, and share them
/// out as `shipments` says.
struct pick_row {
    std::string bin;                    ///< Where.
    sku_id sku;                         ///< What.
    quantity units;                     ///< How many in all: the sum of the shares.
    std::vector<pick_share> shipments;  ///< Who gets them, by shipment id.

    /// Rows are equal when every field is.
    friend bool operator==(const pick_row&, const pick_row&) = default;
};

/// One pick wave and its pick list.
struct pick_wave {
    std::size_t number{0};               ///< 1-based position in the plan.
    warehouse_id warehouse;              ///< Where it is picked.
    std::string zone;                    ///< In which zone.
    timestamp cutoff;                    ///< The cut-off its shipments share.
    std::vector<carrier_id> carriers;    ///< Carriers of its shipments, sorted, no repeats.
    std::vector<shipment_id> shipments;  ///< Its shipments, by id.
    std::int64_t units{0};               ///< Units to pick in all.
    bool oversize{false};                ///< One shipment larger than max_units_per_wave, alone.
    std::vector<pick_row> pick_list;     ///< Rows by bin (natural order), then SKU.

    /// Waves are equal when every field is.
    friend bool operator==(const pick_wave&, const pick_wave&) = default;
};

/// Compares bin locations (and zones) in natural order: runs of digits
/// compare as numbers, so "A-2-10" < "A-10-1" (2 < 10) and "A-2-9" <
/// "A-2-10"; other characters compare byte by byte (so case matters, and '-'
/// sorts before digits, digits before letters). A digit run against a
/// non-digit compares by bytes too, and a text that is the start of another
/// sorts first ("A" < "A-1"). Numbers equal but spelled differently
/// ("A-01" and "A-1") fall back to plain byte order, so distinct texts never
/// compare equal.
[[nodiscard]] std::strong_ordering natural_compare(std::string_view a, std::string_view b) noexcept;

/// Checks options: limits within range (fields `max_shipments_per_wave`,
/// `max_units_per_wave`).
[[nodiscard]] result<void> validate(const pick_wave_options& options);

/// Plans the pick waves of the given shipments (see the file comment).
/// Refuses, naming the field: bad options; more than max_shipments
/// (`shipments`); a missing or malformed id, warehouse, carrier
/// (`shipments[i].carrier`), zone; no lines; a line's SKU, units or bin
/// (`shipments[i].lines[j].bin`); a shipment id given twice (`shipments[i].id`).
/// No shipments give no waves.
[[nodiscard]] result<std::vector<pick_wave>> plan_pick_waves(
    std::span<const ready_shipment> shipments, const pick_wave_options& options);

}  // namespace orderly
