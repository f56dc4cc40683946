#pragma once
/// \file
/// The CarrierDirectory port: which carriers exist, what services they
/// offer, what a parcel costs and how long it takes from a warehouse to a
/// ship-to address, whether a carrier takes it at all, and the tracking
/// number of a booked parcel. Hosts implement it over live carrier APIs (rate
/// shopping, booking) or use orderly::carrier_table
/// (orderly/logistics/carrier.hpp), which answers from tables.
///
/// The value types the port speaks (service levels, parcel profiles, quotes,
/// offers, waybills) live here too, so a host implementing the port needs
/// this header only.

#include <orderly/core/address.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/rate.hpp>
#include <orderly/fulfilment/goods_traits.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// How fast and where a carrier delivers: what a customer picks at checkout.
/// Stored values never change.
enum class service_level : std::uint8_t {
    standard = 1,      ///< Door delivery at the carrier's usual speed.
    express = 2,       ///< Door delivery, faster and dearer.
    pickup_point = 3,  ///< Delivered to a pickup point or parcel locker the customer collects from.
};

/// Every service level, in numeric order.
inline constexpr std::array<service_level, 3> all_service_levels = {
    service_level::standard, service_level::express, service_level::pickup_point};

/// The stable name of a service level ("pickup_point").
[[nodiscard]] constexpr std::string_view to_string(service_level s) noexcept {
    switch (s) {
        case service_level::standard:
            return "standard";
        case service_level::express:
            return "express";
        case service_level::pickup_point:
            return "pickup_point";
    }
    return "unknown";
}

/// True for one of the named service levels (a value read from a store or
/// the wire may be anything).
[[nodiscard]] constexpr bool is_known(service_level s) noexcept {
    return s == service_level::standard || s == service_level::express ||
           s == service_level::pickup_point;
}

/// Reads a service level's stable name, e.g. from a checkout form;
/// invalid_value (field "service") for any other text.
[[nodiscard]] inline result<service_level> parse_service_level(std::string_view name) {
    for (const service_level s : all_service_levels) {
        if (to_string(s) == name) {
            return s;
        }
    }
    return error{errc::invalid_value, "service",
                 "must be one of standard, express or pickup_point"};
}

/// Bounds on a parcel profile, so arithmetic on it (volumetric weight,
/// weight steps) cannot overflow and a typo cannot ask for a price on a ship.
struct parcel_limits {
    /// Heaviest parcel orderly prices: 1,000,000 kg.
    static constexpr std::int64_t max_weight_g = 1'000'000'000;
    /// Largest volume orderly prices: 1,000,000 m³.
    static constexpr std::int64_t max_volume_cm3 = 1'000'000'000'000;
};

/// What a carrier needs to know about a parcel to price and accept it. An
/// input the host fills from its packing (weights and traits of the goods
/// inside); orderly::sku is not changed for it.
struct parcel_profile {
    std::int64_t weight_g{0};    ///< Gross weight in grams; more than 0.
    std::int64_t volume_cm3{0};  ///< Volume of the box in cm³; 0 when unknown.
    goods_traits traits{};       ///< Fragile, liquid, valuable, restricted, bulky.

    /// Profiles are equal when every field is.
    friend bool operator==(const parcel_profile&, const parcel_profile&) = default;
};

/// Checks a parcel profile: weight from 1 g to parcel_limits::max_weight_g
/// (field "weight_g"), volume from 0 to parcel_limits::max_volume_cm3 (field
/// "volume_cm3"); invalid_value otherwise.
[[nodiscard]] result<void> validate(const parcel_profile& parcel);

/// Where a parcel leaves from: a warehouse, the region the carriers' zone
/// tables know it by, and the sender printed on the waybill.
struct ship_from {
    warehouse_id warehouse{};  ///< The host's warehouse code.
    std::string name{};        ///< Sender name on the waybill (the warehouse's display name).
    /// The warehouse's region in the zone table ("CN-ZJ", "east"): at most
    /// 128 bytes; empty matches only zone rules written for any origin.
    std::string region{};
    orderly::address address{};  ///< Sender (return) address on the waybill.

    /// Origins are equal when every field is.
    friend bool operator==(const ship_from&, const ship_from&) = default;
};

/// A question to a carrier directory: this parcel, from here, to there.
/// Quoting reads origin.warehouse and origin.region, ship_to.country and
/// ship_to.province; a live directory may read more (city, postcode). Errors
/// name fields under "origin.", "ship_to." and "parcel.".
struct shipment_query {
    ship_from origin{};       ///< The shipping warehouse.
    address ship_to{};        ///< The recipient's address.
    parcel_profile parcel{};  ///< The parcel.

    /// Queries are equal when every field is.
    friend bool operator==(const shipment_query&, const shipment_query&) = default;
};

/// A carrier's price and transit time for one parcel with one service.
struct shipping_quote {
    money price;                          ///< What the carrier charges, exactly.
    std::int32_t transit_days{0};         ///< Whole days from hand-over to delivery; 0 = same day.
    std::int64_t chargeable_weight_g{0};  ///< The weight the price is for (may be volumetric).
    std::int32_t zone{0};                 ///< The zone priced; 0 when the directory has no zones.

    /// Quotes are equal when every field is.
    friend bool operator==(const shipping_quote&, const shipping_quote&) = default;
};

/// A carrier as a directory lists it.
struct carrier_info {
    carrier_id id{};                        ///< The carrier code printed on waybills.
    std::string name{};                     ///< Display name ("SF Express").
    std::vector<service_level> services{};  ///< Service levels it offers, each once.
    /// Share of parcels delivered on time, when the host measures it;
    /// selection can require a minimum. Nothing for a carrier without history.
    std::optional<rate> on_time_rate{};

    /// Entries are equal when every field is.
    friend bool operator==(const carrier_info&, const carrier_info&) = default;
};

/// One carrier service's answer to a shipment_query: a quote, or the reason
/// the carrier refuses the parcel (an error naming the field to blame, e.g.
/// "parcel.liquid" or "ship_to.province", and a sentence naming the carrier).
struct carrier_offer {
    carrier_id carrier{};                            ///< Which carrier.
    service_level service{service_level::standard};  ///< Which of its services.
    result<shipping_quote> quote;                    ///< The quote or the refusal.

    /// Offers are equal when every field is.
    friend bool operator==(const carrier_offer&, const carrier_offer&) = default;
};

/// The document that goes on the parcel and to the carrier: which order,
/// who receives it, who sends it, by which carrier and service, under which
/// tracking number, what it weighs and what it is declared to be worth.
struct waybill {
    orderly::order_number order_number{};            ///< The order the parcel belongs to; not zero.
    address recipient{};                             ///< Ship-to address; a valid address.
    ship_from sender{};                              ///< Warehouse name and address; both required.
    carrier_id carrier{};                            ///< Carrier code.
    service_level service{service_level::standard};  ///< Service booked.
    std::string tracking_number{};  ///< The carrier's number; empty in a draft to be issued.
    parcel_profile parcel{};        ///< Weight, volume and handling traits.
    /// Value declared for insurance: required and positive for valuable
    /// goods, optional (and then positive) for others.
    std::optional<money> declared_value{};

    /// Waybills are equal when every field is.
    friend bool operator==(const waybill&, const waybill&) = default;
};

/// Longest tracking number orderly keeps, in bytes.
inline constexpr std::size_t max_tracking_number_length = 64;

/// Checks every field of a waybill, in member order: order_number (missing
/// when zero), recipient (the address rules, fields under "recipient."),
/// sender (name: 1 to 128 bytes of text, "sender.name"; warehouse id,
/// "sender.warehouse"; a valid address, "sender.address."), carrier (a valid
/// id), service (a known level), tracking_number (1 to 64 visible ASCII
/// characters), parcel ("parcel.weight_g", "parcel.volume_cm3") and
/// declared_value (missing for valuable goods; invalid_value unless positive).
[[nodiscard]] result<void> validate(const waybill& w);

/// The host's carriers. Every function may be called from many threads at
/// once. A directory backed by live APIs reports an outage or a timeout as
/// an error value (errc::busy, errc::storage_failure or its own choice of
/// code, with a message for a person); orderly passes it on unchanged.
class carrier_directory {
public:
    /// Virtual, so hosts may own a directory through a base pointer.
    virtual ~carrier_directory() = default;

    /// Every carrier with its services and quality, in the directory's own
    /// order (selection never depends on that order).
    [[nodiscard]] virtual result<std::vector<carrier_info>> carriers() const = 0;

    /// The price and transit time of `service` of `carrier` for the query.
    /// Refusals: an unknown carrier is not_found (field "carrier"), a service
    /// the carrier does not offer not_found (field "service"), a query that is
    /// not well formed invalid_value or missing_value under its field, and a
    /// parcel the carrier does not take an error naming why
    /// ("ship_to.province", "parcel.liquid", "parcel.weight_g", ...).
    [[nodiscard]] virtual result<shipping_quote> quote(const carrier_id& carrier,
                                                       service_level service,
                                                       const shipment_query& query) const = 0;

    /// Whether `carrier` takes the parcel at all with some service: coverage
    /// of the destination and the goods it carries. Same refusals as quote().
    /// The default asks quote() for each of the carrier's services and
    /// returns success at the first quote, or the first refusal.
    [[nodiscard]] virtual result<void> accepts(const carrier_id& carrier,
                                               const shipment_query& query) const;

    /// One offer per carrier and service: what selection compares. An error
    /// only when the query itself is wrong or the directory cannot answer; a
    /// carrier refusing the parcel is an offer with a refusal. The default
    /// calls carriers() and then quote() for every service; override it to
    /// ask a rate-shopping API once for all carriers.
    [[nodiscard]] virtual result<std::vector<carrier_offer>> offers(
        const shipment_query& query) const;

    /// A tracking number for a parcel about to ship with draft.carrier: the
    /// draft is complete but for its tracking number, so a directory over a
    /// live API can book the shipment and return the carrier's number.
    /// not_found (field "carrier") for an unknown carrier. Each call issues a
    /// new number.
    [[nodiscard]] virtual result<std::string> issue_tracking_number(const waybill& draft) = 0;
};

}  // namespace orderly

/// Formats a service level as its name.
template <>
struct fmt::formatter<orderly::service_level> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::service_level s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a parcel profile as "1200 g, 3000 cm3, fragile, liquid" (traits
/// the parcel has, in trait order).
template <>
struct fmt::formatter<orderly::parcel_profile> : fmt::formatter<std::string_view> {
    /// Writes the profile.
    auto format(const orderly::parcel_profile& p, fmt::format_context& ctx) const {
        std::string text = fmt::format("{} g, {} cm3", p.weight_g, p.volume_cm3);
        for (const orderly::goods_trait t : orderly::all_goods_traits) {
            if (p.traits.has(t)) {
                text += ", ";
                text += orderly::to_string(t);
            }
        }
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};

/// Formats a quote as "12.50 CNY, 2 days (zone 2, 1500 g)".
template <>
struct fmt::formatter<orderly::shipping_quote> : fmt::formatter<std::string_view> {
    /// Writes the quote.
    auto format(const orderly::shipping_quote& q, fmt::format_context& ctx) const {
        const std::string text =
            fmt::format("{}, {} day{} (zone {}, {} g)", q.price, q.transit_days,
                        q.transit_days == 1 ? "" : "s", q.zone, q.chargeable_weight_g);
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};

/// Formats a waybill on one line: "SF00000000013 sf express, order
/// 00000000000421479130, 1200 g, to <recipient address>"; a draft without a
/// tracking number starts with "(no tracking number)".
template <>
struct fmt::formatter<orderly::waybill> : fmt::formatter<std::string_view> {
    /// Writes the summary.
    auto format(const orderly::waybill& w, fmt::format_context& ctx) const {
        const std::string text =
            fmt::format("{} {} {}, order {}, {} g, to {}",
                        w.tracking_number.empty() ? std::string_view("(no tracking number)")
                                                  : std::string_view(w.tracking_number),
                        w.carrier, w.service, w.order_number, w.parcel.weight_g, w.recipient);
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};
