// Carriers: the port's default behaviour, the table-driven directory,
// tracking numbers, deadlines and waybills (selection: carrier_selection.cpp). See
// orderly/logistics/carrier.hpp for the rules each function applies.

#include <orderly/logistics/carrier.hpp>

#include <orderly/core/order_number.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace orderly {

namespace {

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

error invalid(std::string field, std::string message) {
    return error{errc::invalid_value, std::move(field), std::move(message)};
}

error missing(std::string field, std::string message) {
    return error{errc::missing_value, std::move(field), std::move(message)};
}

// "name[i]", the path of one element of a list.
std::string item(std::string_view name, std::size_t index) {
    return fmt::format("{}[{}]", name, index);
}

// "carriers[1]" + "bands[2].up_to_g" = "carriers[1].bands[2].up_to_g".
error under(error e, std::string_view parent) {
    return std::move(e).within(parent);
}

bool is_known(rounding mode) noexcept {
    return std::find(all_roundings.begin(), all_roundings.end(), mode) != all_roundings.end();
}

bool is_visible_ascii(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c <= '~'; });
}

// A host-owned id checked like parse_id, with the error under `field`.
template <class Id>
std::optional<error> check_id(const Id& id, std::string_view field) {
    if (id.empty()) {
        return missing(std::string(field), "is required");
    }
    auto parsed = parse_id<Id>(id.value());
    if (!parsed) {
        error e = std::move(parsed).error();
        e.field = std::string(field);
        return e;
    }
    return std::nullopt;
}

// 10^digits for digits <= 18.
std::uint64_t power_of_ten(std::uint32_t digits) noexcept {
    std::uint64_t value = 1;
    for (std::uint32_t i = 0; i < digits; ++i) {
        value *= 10;
    }
    return value;
}

// "2024-06-05 14:00 UTC".
std::string format_instant(timestamp t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss<duration> time{t - day};
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                       time.hours().count(), time.minutes().count());
}

std::string_view goods_words(goods_trait t) noexcept {
    switch (t) {
        case goods_trait::fragile:
            return "fragile goods";
        case goods_trait::liquid:
            return "liquids";
        case goods_trait::valuable:
            return "valuable goods";
        case goods_trait::restricted:
            return "restricted goods";
        case goods_trait::bulky:
            return "bulky goods";
    }
    return "such goods";
}

// Where a destination is, for messages: "Zhejiang, CN" or "CN".
std::string place_of(const address& to) {
    return detail::is_blank(to.province) ? to.country
                                         : fmt::format("{}, {}", to.province, to.country);
}

// ---------------------------------------------------------------------------
// Table validation
// ---------------------------------------------------------------------------

// Every money in the tables shares one currency: that of the first carrier's
// first price, or else the first money met (the missing price is reported).
class currency_check {
public:
    explicit currency_check(const carrier_tables& tables) {
        if (!tables.carriers.empty() && !tables.carriers.front().bands.empty() &&
            !tables.carriers.front().bands.front().prices.empty()) {
            currency_ = tables.carriers.front().bands.front().prices.front().currency();
        }
    }

    std::optional<error> check(const money& price, std::string field) {
        if (!currency_) {
            currency_ = price.currency();
        } else if (*currency_ != price.currency()) {
            return error{errc::currency_mismatch, std::move(field),
                         fmt::format("must be in {} like every price in the tables, not {}",
                                     *currency_, price.currency())};
        }
        if (price.is_negative()) {
            return invalid(std::move(field), "must not be negative");
        }
        return std::nullopt;
    }

    [[nodiscard]] const std::optional<orderly::currency>& currency() const noexcept {
        return currency_;
    }

private:
    std::optional<orderly::currency> currency_;
};

std::optional<error> check_zone_number(std::int32_t zone, std::string field) {
    if (zone < 1 || zone > carrier_table_limits::max_zones) {
        return invalid(std::move(field), fmt::format("must be a zone from 1 to {}, got {}",
                                                     carrier_table_limits::max_zones, zone));
    }
    return std::nullopt;
}

std::optional<error> check_country(std::string_view country, std::string field) {
    if (detail::is_blank(country)) {
        return missing(std::move(field), "is required");
    }
    if (!is_country_code(country)) {
        return invalid(std::move(field),
                       "must be an ISO 3166-1 alpha-2 country code in capitals, such as CN or US");
    }
    return std::nullopt;
}

std::optional<error> check_zone_rule(const zone_rule& rule) {
    constexpr std::size_t bytes = carrier_table_limits::region_bytes;
    for (const auto& [text, field] :
         {std::pair{std::string_view(rule.origin_region), "origin_region"},
          std::pair{std::string_view(rule.province), "province"}}) {
        if (!text.empty() && detail::is_blank(text)) {
            return invalid(field, "must be empty (any) or name one, not only spaces");
        }
    }
    if (auto e = detail::check_text(rule.origin_region, "origin_region", bytes,
                                    detail::presence::optional)) {
        return e;
    }
    if (auto e = check_country(rule.country, "country")) {
        return e;
    }
    if (auto e = detail::check_text(rule.province, "province", bytes, detail::presence::optional)) {
        return e;
    }
    return check_zone_number(rule.zone, "zone");
}

// The number of zones, or the first problem of the zone table.
result<std::int32_t> check_zones(const zone_table& zones) {
    if (auto e = check_zone_number(zones.default_zone, "default_zone")) {
        return *e;
    }
    if (zones.rules.size() > carrier_table_limits::max_zone_rules) {
        return invalid(
            "rules", fmt::format("must be at most {} rules", carrier_table_limits::max_zone_rules));
    }
    std::int32_t count = zones.default_zone;
    std::map<std::tuple<std::string_view, std::string_view, std::string_view>, std::size_t> seen;
    for (std::size_t i = 0; i < zones.rules.size(); ++i) {
        const zone_rule& rule = zones.rules[i];
        if (auto e = check_zone_rule(rule)) {
            return under(*std::move(e), item("rules", i));
        }
        const auto [at, fresh] =
            seen.try_emplace({rule.origin_region, rule.country, rule.province}, i);
        if (!fresh) {
            return invalid(
                item("rules", i),
                fmt::format("repeats the origin, country and province of rules[{}]", at->second));
        }
        count = std::max(count, rule.zone);
    }
    return count;
}

std::optional<error> check_tracking_format(const tracking_format& format) {
    if (format.prefix.size() > 8 ||
        !std::all_of(format.prefix.begin(), format.prefix.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); })) {
        return invalid("prefix", "must be 0 to 8 capital letters or digits");
    }
    if (format.digits < 4 || format.digits > 18) {
        return invalid("digits", fmt::format("must be from 4 to 18, got {}", format.digits));
    }
    if (format.first_sequence >= power_of_ten(format.digits)) {
        return invalid("first_sequence", fmt::format("must have at most {} digits", format.digits));
    }
    return std::nullopt;
}

// One price per zone, in the tables' currency; `floor`, when given, holds
// the band before's prices, which these may not undercut.
std::optional<error> check_prices(const std::vector<money>& prices, std::int32_t zones,
                                  const std::vector<money>* floor, currency_check& currency) {
    if (prices.size() != static_cast<std::size_t>(zones)) {
        return invalid("prices", fmt::format("has {} prices; the zone table has {} zones: give "
                                             "one price per zone",
                                             prices.size(), zones));
    }
    for (std::size_t z = 0; z < prices.size(); ++z) {
        if (auto e = currency.check(prices[z], item("prices", z))) {
            return e;
        }
        if (floor != nullptr && prices[z] < (*floor)[z]) {
            return invalid(item("prices", z),
                           fmt::format("must not be less than the band before's price in zone {} "
                                       "({}): a heavier parcel never costs less",
                                       z + 1, (*floor)[z]));
        }
    }
    return std::nullopt;
}

std::optional<error> check_bands(const carrier_spec& spec, std::int32_t zones,
                                 currency_check& currency) {
    if (spec.bands.empty()) {
        return missing("bands", "a carrier needs at least one weight band");
    }
    if (spec.bands.size() > carrier_table_limits::max_bands) {
        return invalid("bands",
                       fmt::format("must be at most {} bands", carrier_table_limits::max_bands));
    }
    for (std::size_t b = 0; b < spec.bands.size(); ++b) {
        const weight_band& band = spec.bands[b];
        const weight_band* before = b == 0 ? nullptr : &spec.bands[b - 1];
        if (band.up_to_g < 1 || band.up_to_g > parcel_limits::max_weight_g) {
            return invalid(item("bands", b) + ".up_to_g",
                           fmt::format("must be from 1 to {} grams", parcel_limits::max_weight_g));
        }
        if (before != nullptr && band.up_to_g <= before->up_to_g) {
            return invalid(
                item("bands", b) + ".up_to_g",
                fmt::format("must be more than bands[{}].up_to_g ({} g)", b - 1, before->up_to_g));
        }
        if (auto e =
                check_prices(band.prices, zones, before ? &before->prices : nullptr, currency)) {
            return under(*std::move(e), item("bands", b));
        }
    }
    return std::nullopt;
}

std::optional<error> check_weight_limits(const carrier_spec& spec, std::int32_t zones,
                                         currency_check& currency) {
    if (spec.max_weight_g < 1 || spec.max_weight_g > parcel_limits::max_weight_g) {
        return invalid("max_weight_g",
                       fmt::format("must be from 1 to {} grams", parcel_limits::max_weight_g));
    }
    if (spec.max_volume_cm3 < 0 || spec.max_volume_cm3 > parcel_limits::max_volume_cm3) {
        return invalid("max_volume_cm3", fmt::format("must be from 0 (no limit) to {} cm3",
                                                     parcel_limits::max_volume_cm3));
    }
    if (spec.volumetric_divisor < 0 ||
        spec.volumetric_divisor > carrier_table_limits::max_volumetric_divisor) {
        return invalid("volumetric_divisor",
                       fmt::format("must be from 0 (actual weight only) to {} cm3 per kg",
                                   carrier_table_limits::max_volumetric_divisor));
    }
    if (auto e = check_bands(spec, zones, currency)) {
        return e;
    }
    if (spec.beyond_last_band) {
        const weight_step& step = *spec.beyond_last_band;
        if (step.step_g < 1 || step.step_g > parcel_limits::max_weight_g) {
            return invalid("beyond_last_band.step_g",
                           fmt::format("must be from 1 to {} grams", parcel_limits::max_weight_g));
        }
        if (auto e = check_prices(step.prices, zones, nullptr, currency)) {
            return under(*std::move(e), "beyond_last_band");
        }
    } else if (spec.bands.back().up_to_g < spec.max_weight_g) {
        return invalid("max_weight_g",
                       fmt::format("is above the last band's up_to_g ({} g) and there is no "
                                   "beyond_last_band price for the weight in between",
                                   spec.bands.back().up_to_g));
    }
    return std::nullopt;
}

std::optional<error> check_service(const carrier_service& service, std::int32_t zones,
                                   currency_check& currency) {
    if (!is_known(service.level)) {
        return invalid("level", "must be standard, express or pickup_point");
    }
    if (service.transit_days.size() != static_cast<std::size_t>(zones)) {
        return invalid("transit_days",
                       fmt::format("has {} entries; the zone table has {} zones: give one per zone",
                                   service.transit_days.size(), zones));
    }
    for (std::size_t z = 0; z < service.transit_days.size(); ++z) {
        const std::int32_t days = service.transit_days[z];
        if (days < 0 || days > carrier_table_limits::max_transit_days) {
            return invalid(item("transit_days", z),
                           fmt::format("must be from 0 to {} days, got {}",
                                       carrier_table_limits::max_transit_days, days));
        }
    }
    if (service.price_factor <= rate::zero()) {
        return invalid("price_factor", "must be more than 0");
    }
    if (!is_known(service.rounding)) {
        return invalid("rounding", "must be a rounding mode orderly knows");
    }
    if (service.surcharge) {
        if (auto e = currency.check(*service.surcharge, "surcharge")) {
            return e;
        }
    }
    return std::nullopt;
}

std::optional<error> check_services(const carrier_spec& spec, std::int32_t zones,
                                    currency_check& currency) {
    if (spec.services.empty()) {
        return missing("services", "a carrier needs at least one service");
    }
    if (spec.services.size() > all_service_levels.size()) {
        return invalid("services", "must be at most 3, one per service level");
    }
    for (std::size_t s = 0; s < spec.services.size(); ++s) {
        if (auto e = check_service(spec.services[s], zones, currency)) {
            return under(*std::move(e), item("services", s));
        }
        for (std::size_t t = 0; t < s; ++t) {
            if (spec.services[t].level == spec.services[s].level) {
                return invalid(
                    item("services", s) + ".level",
                    fmt::format("repeats services[{}].level ({})", t, spec.services[s].level));
            }
        }
    }
    return std::nullopt;
}

std::optional<error> check_area(const coverage_area& area) {
    if (auto e = check_country(area.country, "country")) {
        return e;
    }
    if (area.provinces.size() > carrier_table_limits::max_provinces) {
        return invalid("provinces", fmt::format("must be at most {} provinces",
                                                carrier_table_limits::max_provinces));
    }
    for (std::size_t p = 0; p < area.provinces.size(); ++p) {
        if (auto e = detail::check_text(area.provinces[p], item("provinces", p),
                                        carrier_table_limits::region_bytes,
                                        detail::presence::required)) {
            return e;
        }
        for (std::size_t q = 0; q < p; ++q) {
            if (area.provinces[q] == area.provinces[p]) {
                return invalid(item("provinces", p), fmt::format("repeats provinces[{}]", q));
            }
        }
    }
    return std::nullopt;
}

std::optional<error> check_coverage(const carrier_spec& spec) {
    if (spec.coverage.empty()) {
        return missing("coverage", "a carrier needs at least one coverage area");
    }
    if (spec.coverage.size() > carrier_table_limits::max_coverage_areas) {
        return invalid("coverage", fmt::format("must be at most {} areas",
                                               carrier_table_limits::max_coverage_areas));
    }
    for (std::size_t a = 0; a < spec.coverage.size(); ++a) {
        if (auto e = check_area(spec.coverage[a])) {
            return under(*std::move(e), item("coverage", a));
        }
        for (std::size_t b = 0; b < a; ++b) {
            if (spec.coverage[b].country == spec.coverage[a].country) {
                return invalid(
                    item("coverage", a) + ".country",
                    fmt::format("repeats coverage[{}].country ({})", b, spec.coverage[a].country));
            }
        }
    }
    return std::nullopt;
}

std::optional<error> check_carrier(const carrier_spec& spec, std::int32_t zones,
                                   currency_check& currency) {
    if (auto e = check_id(spec.id, "id")) {
        return e;
    }
    if (auto e = detail::check_text(spec.name, "name", carrier_table_limits::name_bytes,
                                    detail::presence::required)) {
        return e;
    }
    if (auto e = check_services(spec, zones, currency)) {
        return e;
    }
    if (auto e = check_coverage(spec)) {
        return e;
    }
    if (auto e = check_weight_limits(spec, zones, currency)) {
        return e;
    }
    if (auto e = check_tracking_format(spec.tracking)) {
        return under(*std::move(e), "tracking");
    }
    if (spec.on_time_rate &&
        (spec.on_time_rate->is_negative() || *spec.on_time_rate > rate::one())) {
        return invalid("on_time_rate", "must be from 0 to 1");
    }
    return std::nullopt;
}

// The checks behind validate() and create(): the zone count and currency.
struct checked_tables {
    std::int32_t zone_count{1};
    orderly::currency currency;
};

result<checked_tables> check_tables(const carrier_tables& tables) {
    auto zones = check_zones(tables.zones);
    if (!zones) {
        return under(std::move(zones).error(), "zones");
    }
    if (tables.carriers.empty()) {
        return missing("carriers", "the directory needs at least one carrier");
    }
    if (tables.carriers.size() > carrier_table_limits::max_carriers) {
        return invalid("carriers", fmt::format("must be at most {} carriers",
                                               carrier_table_limits::max_carriers));
    }
    currency_check currency(tables);
    for (std::size_t i = 0; i < tables.carriers.size(); ++i) {
        if (auto e = check_carrier(tables.carriers[i], *zones, currency)) {
            return under(*std::move(e), item("carriers", i));
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (tables.carriers[j].id == tables.carriers[i].id) {
                return invalid(
                    item("carriers", i) + ".id",
                    fmt::format("repeats carriers[{}].id ({})", j, tables.carriers[i].id));
            }
        }
    }
    // Every carrier has at least one band with one price per zone, so the
    // currency is known.
    return checked_tables{*zones, *currency.currency()};
}

// ---------------------------------------------------------------------------
// Quoting
// ---------------------------------------------------------------------------

// max(weight, volumetric weight rounded up to the gram).
std::int64_t chargeable_weight_g(const carrier_spec& spec, const parcel_profile& parcel) noexcept {
    if (spec.volumetric_divisor == 0) {
        return parcel.weight_g;
    }
    // volume <= 10^12, so volume * 1000 <= 10^15: no overflow.
    const std::int64_t scaled = parcel.volume_cm3 * 1000;
    const std::int64_t volumetric =
        scaled / spec.volumetric_divisor + (scaled % spec.volumetric_divisor != 0 ? 1 : 0);
    return std::max(parcel.weight_g, volumetric);
}

std::optional<error> check_coverage_of(const carrier_spec& spec, const address& to) {
    const auto area =
        std::find_if(spec.coverage.begin(), spec.coverage.end(),
                     [&to](const coverage_area& a) { return a.country == to.country; });
    if (area == spec.coverage.end()) {
        return invalid("ship_to.country",
                       fmt::format("{} does not deliver to {}", spec.name, to.country));
    }
    if (area->provinces.empty()) {
        return std::nullopt;
    }
    if (detail::is_blank(to.province)) {
        return missing("ship_to.province",
                       fmt::format("{} delivers to some provinces of {} only, and the address "
                                   "names no province",
                                   spec.name, to.country));
    }
    if (std::find(area->provinces.begin(), area->provinces.end(), to.province) ==
        area->provinces.end()) {
        return invalid("ship_to.province",
                       fmt::format("{} does not deliver to {}", spec.name, place_of(to)));
    }
    return std::nullopt;
}

std::optional<error> check_goods(const carrier_spec& spec, const parcel_profile& parcel) {
    for (const goods_trait t : all_goods_traits) {
        if (parcel.traits.has(t) && spec.refuses.has(t)) {
            return invalid(fmt::format("parcel.{}", t),
                           fmt::format("{} does not carry {}", spec.name, goods_words(t)));
        }
    }
    if (parcel.weight_g > spec.max_weight_g) {
        return invalid("parcel.weight_g",
                       fmt::format("{} takes parcels of at most {} g; this one weighs {} g",
                                   spec.name, spec.max_weight_g, parcel.weight_g));
    }
    if (spec.max_volume_cm3 > 0 && parcel.volume_cm3 > spec.max_volume_cm3) {
        return invalid("parcel.volume_cm3",
                       fmt::format("{} takes parcels of at most {} cm3; this one is {} cm3",
                                   spec.name, spec.max_volume_cm3, parcel.volume_cm3));
    }
    return std::nullopt;
}

// The rate card's price for a chargeable weight in a zone (index z = zone - 1).
result<money> card_price(const carrier_spec& spec, std::int64_t weight_g, std::size_t z) {
    const auto band = std::lower_bound(
        spec.bands.begin(), spec.bands.end(), weight_g,
        [](const weight_band& b, std::int64_t weight) { return b.up_to_g < weight; });
    if (band != spec.bands.end()) {
        return band->prices[z];
    }
    const weight_band& last = spec.bands.back();
    if (!spec.beyond_last_band) {
        return invalid("parcel.volume_cm3",
                       fmt::format("{} has rates up to {} g; this parcel's volumetric weight is "
                                   "{} g",
                                   spec.name, last.up_to_g, weight_g));
    }
    const weight_step& step = *spec.beyond_last_band;
    const std::int64_t excess = weight_g - last.up_to_g;
    const std::int64_t steps = excess / step.step_g + (excess % step.step_g != 0 ? 1 : 0);
    auto extra = step.prices[z].times(steps);
    if (!extra) {
        return under(std::move(extra).error(), "quote");
    }
    auto total = last.prices[z].plus(*extra);
    if (!total) {
        return under(std::move(total).error(), "quote");
    }
    return *total;
}

const carrier_info* find_info(std::span<const carrier_info> carriers, const carrier_id& id) {
    const auto found = std::find_if(carriers.begin(), carriers.end(),
                                    [&id](const carrier_info& c) { return c.id == id; });
    return found == carriers.end() ? nullptr : &*found;
}

}  // namespace

// ---------------------------------------------------------------------------
// Value types of the port
// ---------------------------------------------------------------------------

result<void> validate(const parcel_profile& parcel) {
    if (parcel.weight_g < 1 || parcel.weight_g > parcel_limits::max_weight_g) {
        return invalid("weight_g", fmt::format("must be from 1 to {} grams, got {}",
                                               parcel_limits::max_weight_g, parcel.weight_g));
    }
    if (parcel.volume_cm3 < 0 || parcel.volume_cm3 > parcel_limits::max_volume_cm3) {
        return invalid("volume_cm3", fmt::format("must be from 0 to {} cm3, got {}",
                                                 parcel_limits::max_volume_cm3, parcel.volume_cm3));
    }
    return {};
}

namespace {

std::optional<error> check_sender(const ship_from& sender) {
    if (auto e = detail::check_text(sender.name, "name", carrier_table_limits::name_bytes,
                                    detail::presence::required)) {
        return e;
    }
    if (auto e = check_id(sender.warehouse, "warehouse")) {
        return e;
    }
    if (auto checked = validate(sender.address); !checked) {
        return under(std::move(checked).error(), "address");
    }
    return std::nullopt;
}

std::optional<error> check_tracking_number(std::string_view number) {
    if (number.empty()) {
        return missing("tracking_number", "is required");
    }
    if (number.size() > max_tracking_number_length || !is_visible_ascii(number)) {
        return invalid("tracking_number",
                       fmt::format("must be 1 to {} visible ASCII characters, no spaces",
                                   max_tracking_number_length));
    }
    return std::nullopt;
}

std::optional<error> check_declared_value(const waybill& w) {
    if (!w.declared_value) {
        if (w.parcel.traits.valuable) {
            return missing("declared_value", "valuable goods need a declared value");
        }
        return std::nullopt;
    }
    if (!w.declared_value->is_positive()) {
        return invalid("declared_value", "must be more than zero");
    }
    return std::nullopt;
}

// validate(waybill), with or without the tracking number.
std::optional<error> check_waybill(const waybill& w, bool with_tracking_number) {
    if (w.order_number.value() == 0) {
        return missing("order_number", "a waybill needs the order's number");
    }
    if (auto checked = validate(w.recipient); !checked) {
        return under(std::move(checked).error(), "recipient");
    }
    if (auto e = check_sender(w.sender)) {
        return under(*std::move(e), "sender");
    }
    if (auto e = check_id(w.carrier, "carrier")) {
        return e;
    }
    if (!is_known(w.service)) {
        return invalid("service", "must be standard, express or pickup_point");
    }
    if (with_tracking_number) {
        if (auto e = check_tracking_number(w.tracking_number)) {
            return e;
        }
    }
    if (auto checked = validate(w.parcel); !checked) {
        return under(std::move(checked).error(), "parcel");
    }
    return check_declared_value(w);
}

}  // namespace

result<void> validate(const waybill& w) {
    if (auto e = check_waybill(w, true)) {
        return *std::move(e);
    }
    return {};
}

result<waybill> issue_waybill(carrier_directory& directory, waybill draft) {
    const bool has_number = !draft.tracking_number.empty();
    // Everything but a missing number first, so a bad draft never uses one up.
    if (auto e = check_waybill(draft, has_number)) {
        return *std::move(e);
    }
    const shipment_query query{
        .origin = draft.sender, .ship_to = draft.recipient, .parcel = draft.parcel};
    if (auto quoted = directory.quote(draft.carrier, draft.service, query); !quoted) {
        return std::move(quoted).error();
    }
    if (!has_number) {
        auto issued = directory.issue_tracking_number(draft);
        if (!issued) {
            return std::move(issued).error();
        }
        draft.tracking_number = *std::move(issued);
        if (auto e = check_tracking_number(draft.tracking_number)) {
            return *std::move(e);
        }
    }
    return draft;
}

// ---------------------------------------------------------------------------
// carrier_directory's defaults
// ---------------------------------------------------------------------------

result<void> carrier_directory::accepts(const carrier_id& carrier,
                                        const shipment_query& query) const {
    auto listed = carriers();
    if (!listed) {
        return std::move(listed).error();
    }
    const carrier_info* info = find_info(*listed, carrier);
    if (info == nullptr) {
        return error{errc::not_found, "carrier",
                     fmt::format("no carrier has the code {}", carrier)};
    }
    std::optional<error> first_refusal;
    for (const service_level service : info->services) {
        auto priced = quote(carrier, service, query);
        if (priced) {
            return {};
        }
        if (!first_refusal) {
            first_refusal = std::move(priced).error();
        }
    }
    if (first_refusal) {
        return *std::move(first_refusal);
    }
    return error{errc::not_found, "service", fmt::format("{} offers no service", info->name)};
}

result<std::vector<carrier_offer>> carrier_directory::offers(const shipment_query& query) const {
    auto listed = carriers();
    if (!listed) {
        return std::move(listed).error();
    }
    std::vector<carrier_offer> all;
    for (const carrier_info& info : *listed) {
        for (const service_level service : info.services) {
            all.push_back(carrier_offer{info.id, service, quote(info.id, service, query)});
        }
    }
    return all;
}

// ---------------------------------------------------------------------------
// Tracking numbers
// ---------------------------------------------------------------------------

result<void> validate(const tracking_format& format) {
    if (auto e = check_tracking_format(format)) {
        return *std::move(e);
    }
    return {};
}

result<tracking_number_generator> tracking_number_generator::create(tracking_format format) {
    if (auto e = check_tracking_format(format)) {
        return *std::move(e);
    }
    return tracking_number_generator(std::move(format));
}

tracking_number_generator::tracking_number_generator(tracking_format format)
    : format_(std::move(format)),
      max_sequence_(power_of_ten(format_.digits) - 1),
      next_(format_.first_sequence) {}

tracking_number_generator::tracking_number_generator(tracking_number_generator&& other) noexcept
    : format_(std::move(other.format_)),
      max_sequence_(other.max_sequence_),
      next_(other.next_.load(std::memory_order_relaxed)) {}

result<std::string> tracking_number_generator::next() {
    // Relaxed is enough: every update is a read-modify-write of one atomic.
    std::uint64_t sequence = next_.load(std::memory_order_relaxed);
    do {
        if (sequence > max_sequence_) {
            return error{errc::overflow, "tracking_number",
                         fmt::format("cannot be issued: every {}-digit sequence of prefix '{}' "
                                     "is used",
                                     format_.digits, format_.prefix)};
        }
    } while (!next_.compare_exchange_weak(sequence, sequence + 1, std::memory_order_relaxed));
    std::string digits = fmt::format("{:0{}}", sequence, format_.digits);
    const unsigned check = detail::damm_check_digit(digits);
    return fmt::format("{}{}{}", format_.prefix, digits, check);
}

void tracking_number_generator::resume_after(std::uint64_t sequence) noexcept {
    const std::uint64_t floor = sequence >= max_sequence_ ? max_sequence_ + 1 : sequence + 1;
    std::uint64_t current = next_.load(std::memory_order_relaxed);
    while (current < floor &&
           !next_.compare_exchange_weak(current, floor, std::memory_order_relaxed)) {
    }
}

result<std::uint64_t> tracking_number_generator::sequence_of(std::string_view number) const {
    const std::size_t length = format_.prefix.size() + format_.digits + 1;
    const std::string_view digits = number.substr(std::min(number.size(), format_.prefix.size()));
    if (number.size() != length || !number.starts_with(format_.prefix) ||
        !detail::all_digits(digits)) {
        return error{errc::malformed, "tracking_number",
                     fmt::format("must be '{}' and {} digits", format_.prefix, format_.digits + 1)};
    }
    if (detail::damm_check_digit(digits) != 0) {
        return error{errc::checksum_mismatch, "tracking_number",
                     "is not a valid tracking number; please check it for a mistyped or swapped "
                     "digit"};
    }
    std::uint64_t sequence = 0;
    for (const char c : digits.substr(0, format_.digits)) {
        sequence = sequence * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return sequence;
}

// ---------------------------------------------------------------------------
// carrier_table
// ---------------------------------------------------------------------------

result<void> validate(const carrier_tables& tables) {
    auto checked = check_tables(tables);
    if (!checked) {
        return std::move(checked).error();
    }
    return {};
}

result<carrier_table> carrier_table::create(carrier_tables tables) {
    auto checked = check_tables(tables);
    if (!checked) {
        return std::move(checked).error();
    }
    std::vector<tracking_number_generator> generators;
    generators.reserve(tables.carriers.size());
    for (const carrier_spec& spec : tables.carriers) {
        auto made = tracking_number_generator::create(spec.tracking);
        if (!made) {  // checked above; kept so a future rule cannot slip past
            return std::move(made).error();
        }
        generators.push_back(std::move(*made));
    }
    std::sort(tables.zones.rules.begin(), tables.zones.rules.end(),
              [](const zone_rule& a, const zone_rule& b) {
                  return std::tie(a.origin_region, a.country, a.province) <
                         std::tie(b.origin_region, b.country, b.province);
              });
    return carrier_table(std::move(tables), checked->zone_count, checked->currency,
                         std::move(generators));
}

carrier_table::carrier_table(carrier_tables tables, std::int32_t zone_count,
                             orderly::currency currency,
                             std::vector<tracking_number_generator> generators)
    : tables_(std::move(tables)),
      zone_count_(zone_count),
      currency_(currency),
      generators_(std::move(generators)) {}

const carrier_spec* carrier_table::find(const carrier_id& carrier) const noexcept {
    const auto found =
        std::find_if(tables_.carriers.begin(), tables_.carriers.end(),
                     [&carrier](const carrier_spec& spec) { return spec.id == carrier; });
    return found == tables_.carriers.end() ? nullptr : &*found;
}

tracking_number_generator* carrier_table::tracking(const carrier_id& carrier) noexcept {
    const carrier_spec* spec = find(carrier);
    if (spec == nullptr) {
        return nullptr;
    }
    return &generators_[static_cast<std::size_t>(spec - tables_.carriers.data())];
}

std::int32_t carrier_table::zone_of(std::string_view origin_region, std::string_view country,
                                    std::string_view province) const noexcept {
    using key = std::tuple<std::string_view, std::string_view, std::string_view>;
    const auto key_of = [](const zone_rule& r) {
        return key{r.origin_region, r.country, r.province};
    };
    const std::vector<zone_rule>& rules = tables_.zones.rules;
    const auto lookup = [&](const key& wanted) -> std::optional<std::int32_t> {
        const auto at =
            std::lower_bound(rules.begin(), rules.end(), wanted,
                             [&key_of](const zone_rule& r, const key& k) { return key_of(r) < k; });
        if (at != rules.end() && key_of(*at) == wanted) {
            return at->zone;
        }
        return std::nullopt;
    };
    // Province rules first (a remote province is remote from every warehouse),
    // the warehouse's own rule before the any-origin rule at each level.
    const std::array<std::string_view, 2> origins = {origin_region, std::string_view()};
    const std::size_t origin_count = origin_region.empty() ? 1 : 2;
    const std::array<std::string_view, 2> provinces = {province, std::string_view()};
    for (std::size_t p = detail::is_blank(province) ? 1 : 0; p < provinces.size(); ++p) {
        for (std::size_t o = 0; o < origin_count; ++o) {
            if (const auto zone = lookup(key{origins[o], country, provinces[p]})) {
                return *zone;
            }
        }
    }
    return tables_.zones.default_zone;
}

result<std::vector<carrier_info>> carrier_table::carriers() const {
    std::vector<carrier_info> listed;
    listed.reserve(tables_.carriers.size());
    for (const carrier_spec& spec : tables_.carriers) {
        carrier_info info{spec.id, spec.name, {}, spec.on_time_rate};
        for (const carrier_service& service : spec.services) {
            info.services.push_back(service.level);
        }
        listed.push_back(std::move(info));
    }
    return listed;
}

result<void> carrier_table::check_query(const shipment_query& query) const {
    if (auto checked = validate(query.parcel); !checked) {
        return under(std::move(checked).error(), "parcel");
    }
    if (auto e = check_country(query.ship_to.country, "ship_to.country")) {
        return *std::move(e);
    }
    if (query.origin.region.size() > carrier_table_limits::region_bytes) {
        return invalid("origin.region",
                       fmt::format("must be at most {} bytes", carrier_table_limits::region_bytes));
    }
    return {};
}

result<void> carrier_table::check_carrier(const carrier_spec& spec,
                                          const shipment_query& query) const {
    if (auto e = check_coverage_of(spec, query.ship_to)) {
        return *std::move(e);
    }
    if (auto e = check_goods(spec, query.parcel)) {
        return *std::move(e);
    }
    return {};
}

result<shipping_quote> carrier_table::price(const carrier_spec& spec,
                                            const carrier_service& service,
                                            const shipment_query& query) const {
    const std::int32_t zone =
        zone_of(query.origin.region, query.ship_to.country, query.ship_to.province);
    const auto z = static_cast<std::size_t>(zone - 1);
    const std::int64_t weight_g = chargeable_weight_g(spec, query.parcel);
    auto card = card_price(spec, weight_g, z);
    if (!card) {
        return std::move(card).error();
    }
    auto factored = card->times(service.price_factor, service.rounding);
    if (!factored) {
        return under(std::move(factored).error(), "quote");
    }
    money total = *factored;
    if (service.surcharge) {
        auto with_surcharge = total.plus(*service.surcharge);
        if (!with_surcharge) {
            return under(std::move(with_surcharge).error(), "quote");
        }
        total = *with_surcharge;
    }
    return shipping_quote{.price = total,
                          .transit_days = service.transit_days[z],
                          .chargeable_weight_g = weight_g,
                          .zone = zone};
}

result<shipping_quote> carrier_table::quote(const carrier_id& carrier, service_level service,
                                            const shipment_query& query) const {
    const carrier_spec* spec = find(carrier);
    if (spec == nullptr) {
        return error{errc::not_found, "carrier",
                     fmt::format("no carrier has the code {}", carrier)};
    }
    if (auto checked = check_query(query); !checked) {
        return std::move(checked).error();
    }
    if (auto accepted = check_carrier(*spec, query); !accepted) {
        return std::move(accepted).error();
    }
    const auto offered =
        std::find_if(spec->services.begin(), spec->services.end(),
                     [service](const carrier_service& s) { return s.level == service; });
    if (offered == spec->services.end()) {
        return error{errc::not_found, "service",
                     fmt::format("{} offers no {} service", spec->name, service)};
    }
    return price(*spec, *offered, query);
}

result<void> carrier_table::accepts(const carrier_id& carrier, const shipment_query& query) const {
    const carrier_spec* spec = find(carrier);
    if (spec == nullptr) {
        return error{errc::not_found, "carrier",
                     fmt::format("no carrier has the code {}", carrier)};
    }
    if (auto checked = check_query(query); !checked) {
        return std::move(checked).error();
    }
    return check_carrier(*spec, query);
}

result<std::vector<carrier_offer>> carrier_table::offers(const shipment_query& query) const {
    if (auto checked = check_query(query); !checked) {
        return std::move(checked).error();
    }
    std::vector<carrier_offer> all;
    for (const carrier_spec& spec : tables_.carriers) {
        const result<void> accepted = check_carrier(spec, query);
        for (const carrier_service& service : spec.services) {
            all.push_back(carrier_offer{
                spec.id, service.level,
                accepted ? price(spec, service, query) : result<shipping_quote>(accepted.error())});
        }
    }
    return all;
}

result<std::string> carrier_table::issue_tracking_number(const waybill& draft) {
    tracking_number_generator* generator = tracking(draft.carrier);
    if (generator == nullptr) {
        return error{errc::not_found, "carrier",
                     fmt::format("no carrier has the code {}", draft.carrier)};
    }
    return generator->next();
}

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

result<delivery_deadline> delivery_deadline::within_days(std::int32_t days) {
    if (days < 0 || days > carrier_table_limits::max_transit_days) {
        return invalid("deadline", fmt::format("must be from 0 to {} days, got {}",
                                               carrier_table_limits::max_transit_days, days));
    }
    return delivery_deadline(days, std::nullopt, std::nullopt);
}

result<delivery_deadline> delivery_deadline::by(const instant_options& options) {
    if (options.due < options.now) {
        return invalid("deadline",
                       fmt::format("is already past: {} is before now, {}",
                                   format_instant(options.due), format_instant(options.now)));
    }
    const auto whole_days =
        std::chrono::floor<std::chrono::days>(options.due - options.now).count();
    const auto days = static_cast<std::int32_t>(
        std::min<std::int64_t>(whole_days, carrier_table_limits::max_transit_days));
    return delivery_deadline(days, options.now, options.due);
}

std::string delivery_deadline::to_string() const {
    if (due_) {
        return fmt::format("by {}", format_instant(*due_));
    }
    if (max_days_ == 0) {
        return "on the day it ships";
    }
    return fmt::format("within {} day{}", max_days_, max_days_ == 1 ? "" : "s");
}

std::string delivery_deadline::arrival(std::int32_t days) const {
    if (now_) {
        return fmt::format("on {}", format_instant(*now_ + std::chrono::days(days)));
    }
    if (days == 0) {
        return "on the day it ships";
    }
    return fmt::format("in {} day{}", days, days == 1 ? "" : "s");
}

}  // namespace orderly
