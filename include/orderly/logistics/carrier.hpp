#pragma once
/// \file
/// Carriers: a table-driven carrier directory (price by weight band and
/// zone, transit days per zone and service, coverage by country and province,
/// goods each carrier refuses), the rules that pick a carrier for a parcel
/// (cheapest meeting the promised date, fastest, the customer's choice,
/// forced carriers for goods such as restricted or bulky ones), tracking
/// numbers with a check digit, and waybills.
///
/// Everything here is pure or thread-safe; nothing reads a clock or a store.
/// The value types and the port are in orderly/ports/carrier_directory.hpp.

#include <orderly/core/address.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/rate.hpp>
#include <orderly/core/rounding.hpp>
#include <orderly/core/time.hpp>
#include <orderly/fulfilment/goods_traits.hpp>
#include <orderly/ports/carrier_directory.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

// ---------------------------------------------------------------------------
// Tracking numbers
// ---------------------------------------------------------------------------

/// The shape of one carrier's tracking numbers: a fixed prefix, a
/// zero-padded sequence of `digits` digits and one Damm check digit over the
/// sequence digits (catches every mistyped digit and every swap of two
/// neighbouring digits). prefix "SF", digits 10, sequence 17 gives
/// "SF00000000174" (4 is the check digit).
struct tracking_format {
    std::string prefix{};             ///< 0 to 8 capital letters or digits.
    std::uint32_t digits{10};         ///< Sequence digits, 4 to 18.
    std::uint64_t first_sequence{1};  ///< The first sequence issued; below 10^digits.

    /// Formats are equal when every field is.
    friend bool operator==(const tracking_format&, const tracking_format&) = default;
};

/// Checks a tracking format; fields "prefix", "digits", "first_sequence".
[[nodiscard]] result<void> validate(const tracking_format& format);

/// Issues one carrier's tracking numbers: strictly increasing sequences,
/// never one twice, lock-free and safe to share between threads. Numbers are
/// unique per generator; after a restart, pass the last sequence stored to
/// resume_after() before issuing.
class tracking_number_generator {
public:
    /// A generator for a valid format; the format's error otherwise.
    [[nodiscard]] static result<tracking_number_generator> create(tracking_format format);

    /// Moves a generator no other thread is using (result needs it).
    tracking_number_generator(tracking_number_generator&& other) noexcept;
    /// Not copyable: two copies would issue the same numbers.
    tracking_number_generator(const tracking_number_generator&) = delete;
    /// Not assignable: share one generator, by reference.
    tracking_number_generator& operator=(const tracking_number_generator&) = delete;
    /// Not assignable: share one generator, by reference.
    tracking_number_generator& operator=(tracking_number_generator&&) = delete;
    /// Nothing to release.
    ~tracking_number_generator() = default;

    /// The next number. overflow (field "tracking_number"), and nothing
    /// changes, once the sequence has reached 10^digits − 1.
    [[nodiscard]] result<std::string> next();

    /// Makes every number issued from now on have a sequence above `sequence`;
    /// never moves the generator backwards.
    void resume_after(std::uint64_t sequence) noexcept;

    /// The sequence of a number of this format; malformed or
    /// checksum_mismatch (field "tracking_number") for other text.
    [[nodiscard]] result<std::uint64_t> sequence_of(std::string_view number) const;

    /// The format numbers are issued in.
    [[nodiscard]] const tracking_format& format() const noexcept { return format_; }

private:
    explicit tracking_number_generator(tracking_format format);

    tracking_format format_;
    std::uint64_t max_sequence_{0};
    /// The next sequence to issue.
    std::atomic<std::uint64_t> next_{0};
};

// ---------------------------------------------------------------------------
// Tables of the default directory
// ---------------------------------------------------------------------------

/// One row of the zone table: parcels from warehouses of `origin_region` to
/// `country` (and `province`) are priced and timed as `zone`.
struct zone_rule {
    std::string origin_region{};  ///< A warehouse region; empty = from any region.
    std::string country{};        ///< ISO 3166-1 alpha-2 destination country. Required.
    std::string province{};       ///< Destination province as addresses spell it; empty = any.
    std::int32_t zone{1};         ///< The zone, 1 or more.

    /// Rules are equal when every field is.
    friend bool operator==(const zone_rule&, const zone_rule&) = default;
};

/// How far a parcel travels, as a zone number the rate cards are indexed by.
/// The most specific rule wins, the destination before the origin: (origin,
/// country, province), then (any origin, country, province), then (origin,
/// country), then (any origin, country), then default_zone. So a remote
/// province written for any origin stays remote from a warehouse whose own
/// rule covers the rest of the country. A shop usually writes, per warehouse
/// region, its own province as zone 1 and its own country as zone 2, and
/// lets the default cover the rest.
struct zone_table {
    std::vector<zone_rule> rules{};  ///< No two rules with the same origin, country and province.
    std::int32_t default_zone{1};    ///< For routes no rule names; 1 or more.

    /// Tables are equal when every field is.
    friend bool operator==(const zone_table&, const zone_table&) = default;
};

/// One weight band of a rate card: parcels up to `up_to_g` (inclusive) and
/// heavier than the band before cost `prices[zone − 1]`.
struct weight_band {
    std::int64_t up_to_g{0};      ///< Inclusive upper bound in grams; bands strictly increase.
    std::vector<money> prices{};  ///< One price per zone, zone 1 first.

    /// Bands are equal when every field is.
    friend bool operator==(const weight_band&, const weight_band&) = default;
};

/// The price of weight beyond the last band (续重): each started `step_g`
/// above the last band's bound adds `prices[zone − 1]`.
struct weight_step {
    std::int64_t step_g{1000};    ///< Grams per step, 1 or more.
    std::vector<money> prices{};  ///< One price per step and zone, zone 1 first.

    /// Steps are equal when every field is.
    friend bool operator==(const weight_step&, const weight_step&) = default;
};

/// One service a carrier offers: its speed per zone and its price relative
/// to the carrier's rate card. price = rate card × price_factor (rounded
/// once, by `rounding`) + surcharge.
struct carrier_service {
    service_level level{service_level::standard};  ///< Which level; once per carrier.
    std::vector<std::int32_t> transit_days{};      ///< Days per zone, zone 1 first; 0 to 365.
    rate price_factor = rate::one();               ///< More than 0: 3/2 for express, 9/10 ...
    orderly::rounding rounding{orderly::rounding::half_even};  ///< How price × factor is rounded.
    std::optional<money> surcharge{};  ///< Added per parcel; zero or more when present.

    /// Services are equal when every field is.
    friend bool operator==(const carrier_service&, const carrier_service&) = default;
};

/// Where a carrier delivers in one country: the whole country, or only the
/// provinces listed (spelled as addresses spell them, compared byte for byte).
struct coverage_area {
    std::string country{};                 ///< ISO 3166-1 alpha-2 code. Required; once per carrier.
    std::vector<std::string> provinces{};  ///< Empty = every province.

    /// Areas are equal when every field is.
    friend bool operator==(const coverage_area&, const coverage_area&) = default;
};

/// One carrier of the default directory.
struct carrier_spec {
    carrier_id id{};                          ///< Carrier code. Required, unique.
    std::string name{};                       ///< Display name, 1 to 128 bytes.
    std::vector<carrier_service> services{};  ///< 1 to 3 services, one per level.
    std::vector<coverage_area> coverage{};    ///< Where it delivers. At least one area.
    goods_traits refuses{};                   ///< Goods it does not carry (any flag set).
    std::int64_t max_weight_g{0};             ///< Heaviest parcel it takes; 1 or more.
    std::int64_t max_volume_cm3{0};           ///< Largest parcel it takes; 0 = no limit.
    /// Volumetric weight divisor in cm³ per kg (6000 is common): a parcel is
    /// charged for max(weight, volume × 1000 / divisor, rounded up) grams.
    /// 0 = charge by actual weight only.
    std::int64_t volumetric_divisor{0};
    std::vector<weight_band> bands{};  ///< The rate card: at least one band.
    /// Price beyond the last band; without it, the last band must reach
    /// max_weight_g and heavier volumetric weights are refused.
    std::optional<weight_step> beyond_last_band{};
    tracking_format tracking{};          ///< How its tracking numbers look.
    std::optional<rate> on_time_rate{};  ///< Measured on-time share, 0 to 1 (R-23).

    /// Specs are equal when every field is.
    friend bool operator==(const carrier_spec&, const carrier_spec&) = default;
};

/// Everything the default directory is built from: its zone table and its
/// carriers. Every price in it is in one currency.
struct carrier_tables {
    zone_table zones{};                    ///< Route → zone.
    std::vector<carrier_spec> carriers{};  ///< 1 to 256 carriers.

    /// Tables are equal when every field is.
    friend bool operator==(const carrier_tables&, const carrier_tables&) = default;
};

/// Bounds on the tables, so a bad upload is refused instead of slowing
/// every quote; larger tables are invalid_value.
struct carrier_table_limits {
    /// Carriers in one directory.
    static constexpr std::size_t max_carriers = 256;
    /// Zones (the highest zone number).
    static constexpr std::int32_t max_zones = 1000;
    /// Zone rules.
    static constexpr std::size_t max_zone_rules = 100'000;
    /// Weight bands per carrier.
    static constexpr std::size_t max_bands = 1000;
    /// Coverage areas per carrier.
    static constexpr std::size_t max_coverage_areas = 1000;
    /// Provinces per coverage area.
    static constexpr std::size_t max_provinces = 10'000;
    /// Longest transit time, in days.
    static constexpr std::int32_t max_transit_days = 365;
    /// Largest volumetric divisor, cm³ per kg.
    static constexpr std::int64_t max_volumetric_divisor = 1'000'000;
    /// Bytes of a carrier's name.
    static constexpr std::size_t name_bytes = 128;
    /// Bytes of a region, country or province in a rule.
    static constexpr std::size_t region_bytes = 128;
};

/// Checks carrier tables; the error names the field, e.g.
/// "carriers[1].bands[2].up_to_g" or "zones.rules[0].country". Rules:
/// - zones: default_zone and every rule's zone from 1 to max_zones; rule
///   countries known codes; no two rules for one (origin, country, province).
///   The number of zones is the highest zone named.
/// - carriers: 1 to 256, ids valid and unique, names present.
/// - services: 1 to 3, levels known and unique, transit_days one per zone
///   (0 to 365), price_factor above 0, surcharge not negative.
/// - coverage: at least one area, countries known and unique, provinces not blank.
/// - max_weight_g from 1 to parcel_limits::max_weight_g; max_volume_cm3 and
///   volumetric_divisor not negative and within limits.
/// - bands: up_to_g strictly increasing from 1; one price per zone, none
///   negative, none below the same zone's price of the band before (a
///   heavier parcel never costs less); a last band below max_weight_g needs
///   beyond_last_band (step_g ≥ 1, one price per zone, none negative).
/// - every price and surcharge in the currency of carriers[0].bands[0].prices[0]
///   (currency_mismatch otherwise).
/// - tracking: see validate(const tracking_format&); on_time_rate from 0 to 1.
[[nodiscard]] result<void> validate(const carrier_tables& tables);

/// The default carrier directory: answers from carrier_tables, checked once
/// at creation. Quoting is pure and allocation-light; tracking numbers come
/// from one tracking_number_generator per carrier. Safe to share between
/// threads.
///
/// A quote, step by step:
///  1. The query: parcel valid ("parcel.weight_g", ...), ship_to.country a
///     known code ("ship_to.country"), origin.region at most 128 bytes.
///  2. Coverage: the carrier delivers to the country ("ship_to.country") and,
///     for an area that lists provinces, to the province ("ship_to.province").
///  3. Goods: a trait the carrier refuses ("parcel.fragile", "parcel.liquid",
///     "parcel.valuable", "parcel.restricted", "parcel.bulky", first in that
///     order); weight above max_weight_g ("parcel.weight_g"); volume above
///     max_volume_cm3 ("parcel.volume_cm3"). All invalid_value.
///  4. Service: one the carrier offers (not_found, "service").
///  5. Zone from the zone table; chargeable weight = max(weight, volumetric
///     weight); the first band whose up_to_g is at least that weight gives
///     the price (a parcel of exactly up_to_g is in that band); above the
///     last band, each started step adds the step price; a volumetric weight
///     above the last band without steps is refused ("parcel.volume_cm3").
///  6. price × price_factor, rounded once, plus surcharge; transit days of
///     the service in that zone.
class carrier_table final : public carrier_directory {
public:
    /// A directory over checked tables; the first problem validate() finds otherwise.
    [[nodiscard]] static result<carrier_table> create(carrier_tables tables);

    /// Moves a table no other thread is using.
    carrier_table(carrier_table&&) noexcept = default;
    /// Not copyable: the copies would issue the same tracking numbers.
    carrier_table(const carrier_table&) = delete;
    /// Not assignable.
    carrier_table& operator=(const carrier_table&) = delete;
    /// Not assignable.
    carrier_table& operator=(carrier_table&&) = delete;
    /// Nothing to release.
    ~carrier_table() override = default;

    /// Every carrier in table order.
    [[nodiscard]] result<std::vector<carrier_info>> carriers() const override;
    /// See the class comment for the steps and refusals.
    [[nodiscard]] result<shipping_quote> quote(const carrier_id& carrier, service_level service,
                                               const shipment_query& query) const override;
    /// Steps 1 to 3 of the class comment, for any service.
    [[nodiscard]] result<void> accepts(const carrier_id& carrier,
                                       const shipment_query& query) const override;
    /// Every carrier's services in table order, each a quote or a refusal.
    [[nodiscard]] result<std::vector<carrier_offer>> offers(
        const shipment_query& query) const override;
    /// The next number of draft.carrier's tracking_number_generator.
    [[nodiscard]] result<std::string> issue_tracking_number(const waybill& draft) override;

    /// The zone of a route (the most specific zone rule, else the default).
    [[nodiscard]] std::int32_t zone_of(std::string_view origin_region, std::string_view country,
                                       std::string_view province) const noexcept;

    /// The number of zones: the highest zone the zone table names.
    [[nodiscard]] std::int32_t zone_count() const noexcept { return zone_count_; }
    /// The currency every price is in.
    [[nodiscard]] orderly::currency currency() const noexcept { return currency_; }
    /// The tables the directory was built from (zone rules sorted).
    [[nodiscard]] const carrier_tables& tables() const noexcept { return tables_; }
    /// A carrier's tracking number generator, to resume_after() a restart or
    /// to check a number; nullptr for an unknown carrier.
    [[nodiscard]] tracking_number_generator* tracking(const carrier_id& carrier) noexcept;

private:
    carrier_table(carrier_tables tables, std::int32_t zone_count, orderly::currency currency,
                  std::vector<tracking_number_generator> generators);

    [[nodiscard]] const carrier_spec* find(const carrier_id& carrier) const noexcept;
    [[nodiscard]] result<void> check_query(const shipment_query& query) const;
    [[nodiscard]] result<void> check_carrier(const carrier_spec& spec,
                                             const shipment_query& query) const;
    [[nodiscard]] result<shipping_quote> price(const carrier_spec& spec,
                                               const carrier_service& service,
                                               const shipment_query& query) const;

    carrier_tables tables_;
    std::int32_t zone_count_{1};
    orderly::currency currency_;
    std::vector<tracking_number_generator> generators_;  ///< One per carrier, in table order.
};

// ---------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------

/// When the parcel must arrive: within a number of days of hand-over, or by
/// an instant (with the current instant passed in: orderly reads no clock).
/// A quote meets it when its transit days are at most max_transit_days().
class delivery_deadline {
public:
    /// Arguments of by(): two instants, named so they cannot be swapped.
    struct instant_options {
        timestamp due;  ///< When the parcel must have arrived.
        timestamp now;  ///< The current instant, from the host's Clock.
    };

    /// Within `days` whole days (0 = same day); invalid_value (field
    /// "deadline") outside 0 to 365.
    [[nodiscard]] static result<delivery_deadline> within_days(std::int32_t days);

    /// By `due`, shipping at `now`: a transit of d days arrives at now + d × 24 h,
    /// so at most floor((due − now) / 24 h) days fit. invalid_value (field
    /// "deadline") when due is before now. Beyond 365 days counts as 365.
    [[nodiscard]] static result<delivery_deadline> by(const instant_options& options);

    /// The most transit days that meet the deadline.
    [[nodiscard]] std::int32_t max_transit_days() const noexcept { return max_days_; }
    /// The instant the parcel ships, for a deadline given by instant.
    [[nodiscard]] const std::optional<timestamp>& now() const noexcept { return now_; }
    /// The due instant, for a deadline given by instant.
    [[nodiscard]] const std::optional<timestamp>& due() const noexcept { return due_; }

    /// "within 3 days" or "by 2024-06-05 14:00 UTC".
    [[nodiscard]] std::string to_string() const;
    /// How a transit of `days` reads against this deadline: "in 4 days" or
    /// "on 2024-06-06 09:30 UTC".
    [[nodiscard]] std::string arrival(std::int32_t days) const;

    /// Deadlines are equal when every field is.
    friend bool operator==(const delivery_deadline&, const delivery_deadline&) = default;

private:
    delivery_deadline(std::int32_t max_days, std::optional<timestamp> now,
                      std::optional<timestamp> due) noexcept
        : max_days_(max_days), now_(now), due_(due) {}

    std::int32_t max_days_{0};
    std::optional<timestamp> now_;
    std::optional<timestamp> due_;
};

/// How the remaining candidates are ranked. Stored values never change.
enum class selection_rule : std::uint8_t {
    /// Lowest price; ties by fewer transit days, then carrier id (byte
    /// order), then service level number.
    cheapest = 1,
    /// Fewest transit days; ties by lower price, then carrier id, then
    /// service level number.
    fastest = 2,
};

/// The stable name of a rule ("cheapest").
[[nodiscard]] constexpr std::string_view to_string(selection_rule r) noexcept {
    switch (r) {
        case selection_rule::cheapest:
            return "cheapest";
        case selection_rule::fastest:
            return "fastest";
    }
    return "unknown";
}

/// What the customer chose at checkout; either, both or neither.
struct customer_choice {
    std::optional<service_level> service{};  ///< Only this service level.
    std::optional<carrier_id> carrier{};     ///< Only this carrier.

    /// Choices are equal when both fields are.
    friend bool operator==(const customer_choice&, const customer_choice&) = default;
};

/// Goods with `trait` must go with `carrier` (restricted goods with the
/// licensed carrier, bulky goods with the freight carrier).
struct forced_carrier_rule {
    goods_trait trait{goods_trait::restricted};  ///< The trait the rule looks at.
    carrier_id carrier{};                        ///< The only carrier such parcels may use.

    /// Rules are equal when both fields are.
    friend bool operator==(const forced_carrier_rule&, const forced_carrier_rule&) = default;
};

/// The rules of one selection. A shop keeps one policy with its forced rules
/// and quality floor, and sets choice and deadline per order.
struct selection_policy {
    selection_rule rule{selection_rule::cheapest};  ///< How candidates are ranked.
    std::optional<delivery_deadline> deadline{};    ///< The promised date, if any.
    customer_choice choice{};                       ///< The customer's choice, if any.
    /// In order of precedence: the first rule whose trait the parcel has
    /// decides the carrier. At most one rule per trait.
    std::vector<forced_carrier_rule> forced{};
    /// Carriers whose known on-time rate is below this are not chosen
    /// automatically; carriers without a rate, and a forced or
    /// customer-named carrier, are not dropped for it. 0 to 1.
    std::optional<rate> min_on_time_rate{};
};

/// Why a carrier was chosen. Stored values never change.
enum class selection_reason : std::uint8_t {
    cheapest = 1,         ///< Cheapest candidate (meeting the deadline, if any).
    fastest = 2,          ///< Fastest candidate.
    customer_choice = 3,  ///< The customer named the carrier or the service level.
    forced = 4,           ///< A forced_carrier_rule named the carrier.
};

/// The stable name of a reason ("customer_choice").
[[nodiscard]] constexpr std::string_view to_string(selection_reason r) noexcept {
    switch (r) {
        case selection_reason::cheapest:
            return "cheapest";
        case selection_reason::fastest:
            return "fastest";
        case selection_reason::customer_choice:
            return "customer_choice";
        case selection_reason::forced:
            return "forced";
    }
    return "unknown";
}

/// The carrier and service chosen for a parcel, with its quote and why.
struct carrier_choice {
    carrier_id carrier{};                                 ///< Chosen carrier.
    std::string carrier_name{};                           ///< Its display name.
    service_level service{service_level::standard};       ///< Chosen service.
    shipping_quote quote;                                 ///< Price and transit time.
    selection_reason reason{selection_reason::cheapest};  ///< Why.
    std::optional<goods_trait> forced_by{};  ///< The trait whose rule forced the carrier.

    /// Choices are equal when every field is.
    friend bool operator==(const carrier_choice&, const carrier_choice&) = default;
};

/// Picks a carrier from offers already fetched (pure; the directory overload
/// fetches them). The steps, each refusing with an error value:
///  1. Check the policy and the offers: forced[i].carrier and choice.carrier
///     must be listed carriers (not_found), one forced rule per trait,
///     min_on_time_rate from 0 to 1, offers for listed carriers only, each
///     carrier and service at most once, quotes with a non-negative price and
///     transit time (invalid_value, "offers[i]...").
///  2. Forced: the first forced rule whose trait the parcel has names the only
///     carrier allowed. A customer who named another carrier is refused
///     (invalid_value, "choice.carrier"), never silently overridden.
///  3. Otherwise choice.carrier, when given, is the only carrier allowed.
///  4. Offers the carrier refused drop out. None left: the carrier's own
///     refusal when one carrier was allowed; "no carrier delivers to ..."
///     when every refusal is about the address; else every carrier's reason,
///     with the field the refusals share ("ship_to", "parcel"...) or "carrier".
///  5. choice.service keeps that level only (invalid_value, "choice.service",
///     naming the levels that are available).
///  6. min_on_time_rate drops carriers measured below it (invalid_value,
///     "min_on_time_rate", naming the best rate available).
///  7. deadline keeps quotes with transit_days ≤ max_transit_days
///     (invalid_value, "deadline", naming the earliest arrival available).
///  8. The rule ranks what is left, with the documented tie-breaks, so the
///     answer never depends on the order of offers. Prices in different
///     currencies cannot be ranked (currency_mismatch, "offers").
[[nodiscard]] result<carrier_choice> select_carrier(std::span<const carrier_info> carriers,
                                                    std::span<const carrier_offer> offers,
                                                    const shipment_query& query,
                                                    const selection_policy& policy);

/// Asks the directory for its carriers and offers for the query, then picks
/// as the pure overload does. The directory's errors are passed on.
[[nodiscard]] result<carrier_choice> select_carrier(const carrier_directory& directory,
                                                    const shipment_query& query,
                                                    const selection_policy& policy);

// ---------------------------------------------------------------------------
// Waybills
// ---------------------------------------------------------------------------

/// Completes a waybill: checks the draft (validate(), the tracking number
/// aside), asks the directory to quote the draft's carrier and service for
/// its sender, recipient and parcel (so no waybill names a carrier that does
/// not serve the address or refuses the goods: its refusal is returned), then
/// takes the draft's own tracking number if it has one, else one issued by
/// the directory, and checks the finished waybill.
[[nodiscard]] result<waybill> issue_waybill(carrier_directory& directory, waybill draft);

}  // namespace orderly

/// Formats a tracking format as "SF + 10 digits + check digit".
template <>
struct fmt::formatter<orderly::tracking_format> : fmt::formatter<std::string_view> {
    /// Writes the shape.
    auto format(const orderly::tracking_format& f, fmt::format_context& ctx) const {
        const std::string text = fmt::format("{} + {} digits + check digit",
                                             f.prefix.empty() ? "no prefix" : f.prefix, f.digits);
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};

/// Formats a deadline as delivery_deadline::to_string() does.
template <>
struct fmt::formatter<orderly::delivery_deadline> : fmt::formatter<std::string_view> {
    /// Writes the deadline.
    auto format(const orderly::delivery_deadline& d, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(d.to_string(), ctx);
    }
};

/// Formats a selection rule as its name.
template <>
struct fmt::formatter<orderly::selection_rule> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::selection_rule r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(r), ctx);
    }
};

/// Formats a selection reason as its name.
template <>
struct fmt::formatter<orderly::selection_reason> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::selection_reason r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(r), ctx);
    }
};

/// Formats a choice as "sf express: 23.00 CNY, 1 day (zone 2, 1500 g) (cheapest)",
/// with "forced by restricted" for a forced choice.
template <>
struct fmt::formatter<orderly::carrier_choice> : fmt::formatter<std::string_view> {
    /// Writes the choice.
    auto format(const orderly::carrier_choice& c, fmt::format_context& ctx) const {
        const std::string why = c.forced_by ? fmt::format("forced by {}", *c.forced_by)
                                            : std::string(orderly::to_string(c.reason));
        const std::string text = fmt::format("{} {}: {} ({})", c.carrier, c.service, c.quote, why);
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};
