#pragma once
/// \file
/// What the engine's fulfilment commands work with and return: the host's
/// warehouse network and carriers (fulfilment_setup), the requests of the
/// shipment commands, and the fulfilment view of an order (R-7, R-8, R-13,
/// R-19…R-22). The commands themselves are orderly::engine members.

#include <orderly/catalog/sku.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/time.hpp>
#include <orderly/fulfilment/packing.hpp>
#include <orderly/fulfilment/pick_wave.hpp>
#include <orderly/fulfilment/shipment.hpp>
#include <orderly/fulfilment/warehouse.hpp>
#include <orderly/logistics/carrier.hpp>
#include <orderly/logistics/tracking.hpp>
#include <orderly/order/order.hpp>
#include <orderly/ports/carrier_directory.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace orderly {

/// Where a SKU is picked in a warehouse.
struct bin_location {
    std::string zone{};  ///< Pick zone; empty when the warehouse has one.
    std::string bin{};   ///< Bin, e.g. "A-2-10".
};

/// The host's fulfilment set-up, given to engine::create once. Everything in
/// it is read-only to the engine except the carrier directory, which issues
/// tracking numbers.
struct fulfilment_setup {
    /// Warehouses, the regions they serve and the shipping method table.
    /// Checked with validate(network) when the engine is created.
    fulfilment_network network{};
    /// Warehouse selection strategy; empty means select_fewest_parcels
    /// ("one warehouse if possible, nearest first, otherwise fewest parcels").
    warehouse_selector selector{};
    /// The carriers. Required for plan_fulfilment (carrier choice) and
    /// ship_shipment (waybills); the engine keeps the pointer, which must
    /// outlive it.
    carrier_directory* carriers{nullptr};
    /// How carriers are ranked when the customer named none.
    selection_rule carrier_rule{selection_rule::cheapest};
    /// Goods that must go with one carrier (restricted, bulky).
    std::vector<forced_carrier_rule> forced_carriers{};
    /// Carriers measured below this on-time rate are not chosen automatically.
    std::optional<rate> min_on_time_rate{};
    /// Which catalogue entries ship as freight (the catalogue has no bulky
    /// flag); empty means none.
    std::function<bool(const sku&)> bulky{};
    /// Where a SKU is picked in a warehouse; required by plan_pick_waves. A
    /// SKU without a location is refused there (field "bins").
    std::function<std::optional<bin_location>(const warehouse_id&, const sku_id&)> bins{};
    /// The packing station's boxes and padding allowance, for packaging_for().
    packaging_options packaging{};
    /// The carriers' daily collection time at the warehouses, as an offset
    /// from midnight UTC: a shipment planned before it is due to be packed by
    /// that day's collection, later ones by the next day's.
    std::chrono::minutes daily_cutoff{std::chrono::hours(17)};
};

/// The customer's delivery wishes for one order's fulfilment.
struct fulfilment_request {
    order_id order{};          ///< Which order; it must be paid (ready to fulfil).
    customer_choice choice{};  ///< Carrier or service level the customer chose, if any.
    std::optional<std::int32_t> promised_days{};  ///< Promised delivery within this many days.
};

/// A packing-station scan of one shipment.
struct pack_scan_request {
    shipment_id shipment{};  ///< Which parcel is being packed.
    sku_id sku{};            ///< The scanned barcode's SKU.
    quantity units{};        ///< How many units (at least 1).
};

/// What a packing scan did: accepted, or refused and recorded.
struct pack_scan_result {
    bool accepted{false};                        ///< False for a mismatch.
    std::optional<packing_mismatch> mismatch{};  ///< What was wrong, when refused.
    std::int64_t remaining{0};                   ///< Units still to scan in the shipment.
    bool repeated{false};                        ///< The idempotency key had been used.
};

/// A carrier's event for one of its parcels.
struct carrier_event_request {
    shipment_id shipment{};  ///< Whose parcel.
    carrier_event event{};   ///< What the carrier reported.
};

/// A reported problem with a parcel: lost or damaged.
struct logistics_exception_report {
    shipment_id shipment{};                                         ///< Which parcel.
    logistics_exception_kind kind{logistics_exception_kind::lost};  ///< Lost or damaged.
    std::string detail{};                                           ///< Who reported what.
};

/// How to put a logistics exception right.
struct logistics_resolution {
    shipment_id shipment{};    ///< Which parcel.
    std::size_t exception{0};  ///< Index into shipment::exceptions; it must be open.
    logistics_remedy remedy{logistics_remedy::reship};  ///< Reship, refund or compensation.
    /// For refund: how much per order is the goods' value (computed); for
    /// compensation: the amount paid to the customer. Ignored for reship.
    std::optional<money> amount{};
    std::string note{};  ///< Why, for the timeline.
};

/// Where an order's fulfilment stands, over all its shipments.
enum class fulfilment_progress : std::uint8_t {
    not_planned = 1,          ///< No shipment yet.
    in_warehouse = 2,         ///< Shipments planned; none has left.
    partially_shipped = 3,    ///< Some shipments left, others have not.
    shipped = 4,              ///< Every shipment left; none delivered.
    partially_delivered = 5,  ///< Some shipments delivered, others on the road.
    delivered = 6,            ///< Every shipment delivered.
};

/// The stable name of a progress value ("partially_shipped").
[[nodiscard]] constexpr std::string_view to_string(fulfilment_progress p) noexcept {
    switch (p) {
        case fulfilment_progress::not_planned:
            return "not_planned";
        case fulfilment_progress::in_warehouse:
            return "in_warehouse";
        case fulfilment_progress::partially_shipped:
            return "partially_shipped";
        case fulfilment_progress::shipped:
            return "shipped";
        case fulfilment_progress::partially_delivered:
            return "partially_delivered";
        case fulfilment_progress::delivered:
            return "delivered";
    }
    return "unknown";
}

/// An order's fulfilment: its state, its shipments and how far they got.
struct order_fulfilment {
    order_state state{order_state::paid};                            ///< The order's own state.
    fulfilment_progress progress{fulfilment_progress::not_planned};  ///< Over its shipments.
    /// Its parcels that count: merged-away (cancelled) ones, and lost or
    /// returned ones replaced by a reship or refunded, are left out.
    std::vector<shipment> shipments{};
};

/// One planned pick wave: the wave as plan_pick_waves computed it, under the
/// id the engine stored on its shipments.
struct stored_pick_wave {
    std::uint64_t id{0};  ///< Unique across waves; shipment::wave holds it.
    pick_wave wave{};     ///< Its shipments and bin-sorted pick list.
};

/// One carrier's performance over a period, from the parcels it was
/// handed in that period.
struct carrier_kpi {
    carrier_id carrier{};      ///< Which carrier.
    std::size_t parcels{0};    ///< Parcels handed to it in the period.
    std::size_t delivered{0};  ///< Of those, delivered.
    std::size_t on_time{0};    ///< Delivered by the promised date.
    std::size_t returned{0};   ///< Returned to the sender.
    std::size_t lost{0};       ///< Lost (and not found again).
    std::size_t damaged{0};    ///< With a damage exception.
    std::size_t delayed{0};    ///< Marked delayed at least once.
    /// Exceptions a person reported (customer service, a customer's complaint),
    /// as opposed to those raised by carrier events or the delay rule.
    std::size_t complaints{0};
    std::optional<rate> on_time_rate{};  ///< on_time / delivered; empty before any delivery.
    /// delivered / (delivered + returned + lost); empty while every parcel is on the road.
    std::optional<rate> delivery_success_rate{};
    std::optional<rate> damage_rate{};    ///< damaged / parcels.
    std::optional<rate> loss_rate{};      ///< lost / parcels.
    std::optional<money> total_cost{};    ///< What its parcels cost, where quoted.
    std::optional<money> average_cost{};  ///< total_cost / quoted parcels, rounded half-even.
};

}  // namespace orderly
