#pragma once
// The rules of stock_operation (include/orderly/ports/store.hpp), shared by
// every store orderly ships so that each refuses the same changes with the
// same error: memory_store applies them under its row locks, SqliteStore
// inside its write transaction.

#include <orderly/ports/store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace orderly::detail {

/// The counts of a stock row as plain integers (and its low-stock flag), so
/// the hot critical section is integer arithmetic and nothing else.
struct stock_counts {
    std::int64_t on_hand{0};     ///< Units physically there.
    std::int64_t reserved{0};    ///< Units promised to orders.
    std::int64_t safety{0};      ///< Units kept back from sale.
    std::int64_t in_transit{0};  ///< Units on their way here (transfers).
    bool low_alerted{false};     ///< A low-stock alert is out for this row.
    std::int64_t damaged{0};     ///< Units in the damaged bin (never available).
};

// Why a stock change was refused; turned into an error after the row locks
// are released, so a refused reservation on a hot row formats nothing while
// holding it.
enum class stock_refusal : std::uint8_t {
    none,
    missing_row,
    not_enough_available,
    not_enough_reserved,
    not_enough_on_hand,
    too_large,
    safety_too_high,
    not_enough_in_transit,  // arrive: missing row or in_transit < units
    transit_too_large,      // expect: in_transit would overflow
    arrival_too_large,      // arrive: on_hand would overflow
    flag_units_not_zero,    // mark_low, clear_low carry no units
    flag_missing_row,       // mark_low, clear_low on a missing row
    already_alerted,        // mark_low with the flag set
    not_alerted,            // clear_low with the flag clear
    restock_too_large,      // restock: on_hand would overflow
    damaged_too_large,      // to_damaged_bin: damaged would overflow
    not_enough_to_recall,   // recall: missing row or in_transit < units
    unknown_operation,
};

inline std::int64_t available(const stock_counts& row) noexcept {
    return row.on_hand - row.reserved - row.safety;
}

// True for the operations that change on hand, and so enter the ledger.
inline bool moves_on_hand(stock_operation operation) noexcept {
    return operation == stock_operation::consume || operation == stock_operation::receive ||
           operation == stock_operation::dispatch || operation == stock_operation::arrive ||
           operation == stock_operation::restock;
}

// True for the operations that create a missing row.
inline bool creates_row(stock_operation operation) noexcept {
    return operation == stock_operation::receive || operation == stock_operation::set_safety ||
           operation == stock_operation::expect || operation == stock_operation::restock ||
           operation == stock_operation::to_damaged_bin;
}

// mark_low (alerted) or clear_low (not alerted).
inline stock_refusal set_low_flag(stock_counts& row, bool exists, bool alerted,
                                  std::int64_t units) noexcept {
    if (units != 0) {
        return stock_refusal::flag_units_not_zero;
    }
    if (!exists) {
        return stock_refusal::flag_missing_row;
    }
    if (row.low_alerted == alerted) {
        return alerted ? stock_refusal::already_alerted : stock_refusal::not_alerted;
    }
    row.low_alerted = alerted;
    return stock_refusal::none;
}

// Applies one change to a scratch row with the rules of stock_operation.
// Leaves the row untouched when it refuses.
inline stock_refusal apply_change(stock_counts& row, bool& exists, stock_operation operation,
                                  std::int64_t units) noexcept {
    switch (operation) {
        case stock_operation::reserve:
            if (!exists) {
                return stock_refusal::missing_row;
            }
            if (available(row) < units) {
                return stock_refusal::not_enough_available;
            }
            row.reserved += units;
            return stock_refusal::none;
        case stock_operation::release:
            if (!exists || row.reserved < units) {
                return stock_refusal::not_enough_reserved;
            }
            row.reserved -= units;
            return stock_refusal::none;
        case stock_operation::consume:
            if (!exists || row.reserved < units) {
                return stock_refusal::not_enough_reserved;
            }
            if (row.on_hand < units) {
                return stock_refusal::not_enough_on_hand;
            }
            row.on_hand -= units;
            row.reserved -= units;
            return stock_refusal::none;
        case stock_operation::receive: {
            std::int64_t sum = 0;
            if (__builtin_add_overflow(row.on_hand, units, &sum)) {
                return stock_refusal::too_large;
            }
            row.on_hand = sum;
            exists = true;
            return stock_refusal::none;
        }
        case stock_operation::set_safety:
            if (row.on_hand - row.reserved < units) {
                return stock_refusal::safety_too_high;
            }
            row.safety = units;
            exists = true;
            return stock_refusal::none;
        case stock_operation::dispatch:
            if (!exists) {
                return stock_refusal::missing_row;
            }
            if (available(row) < units) {
                return stock_refusal::not_enough_available;
            }
            row.on_hand -= units;
            return stock_refusal::none;
        case stock_operation::expect: {
            std::int64_t sum = 0;
            if (__builtin_add_overflow(row.in_transit, units, &sum)) {
                return stock_refusal::transit_too_large;
            }
            row.in_transit = sum;
            exists = true;
            return stock_refusal::none;
        }
        case stock_operation::arrive: {
            if (!exists || row.in_transit < units) {
                return stock_refusal::not_enough_in_transit;
            }
            std::int64_t sum = 0;
            if (__builtin_add_overflow(row.on_hand, units, &sum)) {
                return stock_refusal::arrival_too_large;
            }
            row.in_transit -= units;
            row.on_hand = sum;
            return stock_refusal::none;
        }
        case stock_operation::mark_low:
            return set_low_flag(row, exists, true, units);
        case stock_operation::clear_low:
            return set_low_flag(row, exists, false, units);
        case stock_operation::restock: {
            std::int64_t sum = 0;
            if (__builtin_add_overflow(row.on_hand, units, &sum)) {
                return stock_refusal::restock_too_large;
            }
            row.on_hand = sum;
            exists = true;
            return stock_refusal::none;
        }
        case stock_operation::to_damaged_bin: {
            std::int64_t sum = 0;
            if (__builtin_add_overflow(row.damaged, units, &sum)) {
                return stock_refusal::damaged_too_large;
            }
            row.damaged = sum;
            exists = true;
            return stock_refusal::none;
        }
        case stock_operation::recall:
            if (!exists || row.in_transit < units) {
                return stock_refusal::not_enough_to_recall;
            }
            row.in_transit -= units;
            return stock_refusal::none;
    }
    return stock_refusal::unknown_operation;
}

// The refusal as an error naming the change's field. `row` is the row as it
// stood just before the refused change (after the transaction's earlier ones).
inline error stock_error(const stock_change& change, stock_refusal refusal,
                         const stock_counts& row) {
    const std::int64_t units = change.units.units();
    switch (refusal) {
        case stock_refusal::missing_row:
            return error{
                errc::insufficient_stock, change.field,
                fmt::format("SKU {} has no stock in warehouse {}", change.sku, change.warehouse)};
        case stock_refusal::not_enough_available:
            return error{errc::insufficient_stock, change.field,
                         fmt::format("only {} units of SKU {} are available in warehouse {}, "
                                     "{} requested",
                                     std::max<std::int64_t>(available(row), 0), change.sku,
                                     change.warehouse, units)};
        case stock_refusal::not_enough_reserved:
            return error{errc::conflict, change.field,
                         fmt::format("cannot take {} reserved units of SKU {} in warehouse {}: "
                                     "only {} are reserved",
                                     units, change.sku, change.warehouse, row.reserved)};
        case stock_refusal::not_enough_on_hand:
            return error{errc::conflict, change.field,
                         fmt::format("cannot ship {} units of SKU {} from warehouse {}: only {} "
                                     "are on hand",
                                     units, change.sku, change.warehouse, row.on_hand)};
        case stock_refusal::too_large:
            return error{errc::overflow, change.field,
                         fmt::format("receiving {} units of SKU {} in warehouse {} would exceed "
                                     "the largest count a stock row holds",
                                     units, change.sku, change.warehouse)};
        case stock_refusal::safety_too_high:
            return error{
                errc::invalid_value, change.field,
                fmt::format("a safety stock of {} units of SKU {} in warehouse {} is "
                            "more than the {} units on hand and not reserved",
                            units, change.sku, change.warehouse, row.on_hand - row.reserved)};
        case stock_refusal::not_enough_in_transit:
            return error{errc::conflict, change.field,
                         fmt::format("cannot receive {} units of SKU {} in transit to warehouse "
                                     "{}: only {} are in transit",
                                     units, change.sku, change.warehouse, row.in_transit)};
        case stock_refusal::transit_too_large:
            return error{errc::overflow, change.field,
                         fmt::format("expecting {} more units of SKU {} in warehouse {} would "
                                     "exceed the largest count a stock row holds",
                                     units, change.sku, change.warehouse)};
        case stock_refusal::arrival_too_large:
            return error{errc::overflow, change.field,
                         fmt::format("receiving {} units of SKU {} in transit to warehouse {} "
                                     "would exceed the largest count a stock row holds",
                                     units, change.sku, change.warehouse)};
        case stock_refusal::flag_units_not_zero:
            return error{errc::invalid_value, change.field,
                         fmt::format("a low-stock flag change carries no units, got {}", units)};
        case stock_refusal::flag_missing_row:
            return error{errc::conflict, change.field,
                         fmt::format("SKU {} has no stock row in warehouse {} to flag", change.sku,
                                     change.warehouse)};
        case stock_refusal::already_alerted:
            return error{errc::conflict, change.field,
                         fmt::format("a low-stock alert for SKU {} in warehouse {} is already out",
                                     change.sku, change.warehouse)};
        case stock_refusal::not_alerted:
            return error{errc::conflict, change.field,
                         fmt::format("no low-stock alert for SKU {} in warehouse {} is out",
                                     change.sku, change.warehouse)};
        case stock_refusal::restock_too_large:
            return error{errc::overflow, change.field,
                         fmt::format("restocking {} returned units of SKU {} in warehouse {} "
                                     "would exceed the largest count a stock row holds",
                                     units, change.sku, change.warehouse)};
        case stock_refusal::damaged_too_large:
            return error{errc::overflow, change.field,
                         fmt::format("putting {} more units of SKU {} in the damaged bin of "
                                     "warehouse {} would exceed the largest count a stock row "
                                     "holds",
                                     units, change.sku, change.warehouse)};
        case stock_refusal::not_enough_to_recall:
            return error{errc::conflict, change.field,
                         fmt::format("cannot call back {} units of SKU {} in transit to warehouse "
                                     "{}: only {} are in transit",
                                     units, change.sku, change.warehouse, row.in_transit)};
        case stock_refusal::none:
        case stock_refusal::unknown_operation:
            break;
    }
    return error{errc::invalid_value, change.field, "is not a known stock operation"};
}

}  // namespace orderly::detail
