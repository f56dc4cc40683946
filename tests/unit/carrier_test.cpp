#include <orderly/logistics/carrier.hpp>
#include <orderly/ports/carrier_directory.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using orderly::address;
using orderly::carrier_choice;
using orderly::carrier_directory;
using orderly::carrier_id;
using orderly::carrier_info;
using orderly::carrier_offer;
using orderly::carrier_spec;
using orderly::carrier_table;
using orderly::carrier_tables;
using orderly::delivery_deadline;
using orderly::errc;
using orderly::forced_carrier_rule;
using orderly::goods_trait;
using orderly::goods_traits;
using orderly::money;
using orderly::parcel_profile;
using orderly::rate;
using orderly::selection_policy;
using orderly::selection_reason;
using orderly::selection_rule;
using orderly::service_level;
using orderly::ship_from;
using orderly::shipment_query;
using orderly::shipping_quote;
using orderly::tracking_number_generator;
using orderly::waybill;
using orderly::zone_rule;
namespace currencies = orderly::currencies;

namespace {

money cny(std::int64_t fen) {
    return money::from_minor(fen, currencies::CNY);
}

// Four prices in yuan, one per zone of the sample zone table.
std::vector<money> yuan(std::initializer_list<std::int64_t> amounts) {
    std::vector<money> prices;
    for (const std::int64_t a : amounts) {
        prices.push_back(cny(a * 100));
    }
    return prices;
}

rate ratio(std::int64_t numerator, std::int64_t denominator) {
    const auto made = rate::ratio(numerator, denominator);
    REQUIRE(made.has_value());
    return *made;
}

carrier_id id(const char* text) {
    return carrier_id(text);
}

// Zones: east → Shanghai, Zhejiang 1; east → rest of CN 2; any → CN 3;
// any → Xizang 4; west → Xizang 3; everything else 4.
orderly::zone_table sample_zones() {
    return orderly::zone_table{
        .rules = {zone_rule{"east", "CN", "Shanghai", 1}, zone_rule{"east", "CN", "Zhejiang", 1},
                  zone_rule{"east", "CN", "", 2}, zone_rule{"", "CN", "", 3},
                  zone_rule{"", "CN", "Xizang", 4}, zone_rule{"west", "CN", "Xizang", 3}},
        .default_zone = 4};
}

// sf: fast, covers CN and US, refuses liquids, volumetric 6000, steps beyond 3 kg.
carrier_spec sf() {
    return carrier_spec{
        .id = id("sf"),
        .name = "SF Express",
        .services = {{.level = service_level::standard, .transit_days = {1, 2, 2, 3}},
                     {.level = service_level::express,
                      .transit_days = {0, 1, 1, 2},
                      .price_factor = ratio(3, 2),
                      .surcharge = cny(200)}},
        .coverage = {{.country = "CN", .provinces = {}}, {.country = "US", .provinces = {}}},
        .refuses = goods_traits{.liquid = true},
        .max_weight_g = 30'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 6000,
        .bands = {{500, yuan({10, 12, 14, 18})},
                  {1000, yuan({12, 15, 18, 22})},
                  {3000, yuan({18, 22, 26, 30})}},
        .beyond_last_band = orderly::weight_step{1000, yuan({2, 3, 4, 5})},
        .tracking = {.prefix = "SF", .digits = 10, .first_sequence = 1},
        .on_time_rate = ratio(19, 20),
    };
}

// yto: cheap, east China only, refuses restricted and bulky goods, no steps.
carrier_spec yto() {
    return carrier_spec{
        .id = id("yto"),
        .name = "YTO Express",
        .services = {{.level = service_level::standard, .transit_days = {2, 3, 4, 5}},
                     {.level = service_level::pickup_point,
                      .transit_days = {3, 4, 5, 6},
                      .price_factor = ratio(9, 10)}},
        .coverage = {{.country = "CN", .provinces = {"Shanghai", "Zhejiang", "Jiangsu"}}},
        .refuses = goods_traits{.restricted = true, .bulky = true},
        .max_weight_g = 20'000,
        .max_volume_cm3 = 200'000,
        .volumetric_divisor = 0,
        .bands = {{1000, yuan({6, 8, 10, 12})},
                  {5000, yuan({9, 12, 15, 18})},
                  {20000, yuan({20, 26, 32, 40})}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "YT", .digits = 12, .first_sequence = 1000},
        .on_time_rate = ratio(4, 5),
    };
}

// freight: slow, all of CN, takes anything up to a tonne.
carrier_spec freight() {
    return carrier_spec{
        .id = id("freight"),
        .name = "Deppon Freight",
        .services = {{.level = service_level::standard, .transit_days = {3, 4, 5, 6}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = {},
        .max_weight_g = 1'000'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{30000, yuan({40, 50, 60, 70})}},
        .beyond_last_band = orderly::weight_step{10000, yuan({10, 12, 14, 15})},
        .tracking = {.prefix = "DP", .digits = 10, .first_sequence = 1},
        .on_time_rate = std::nullopt,
    };
}

// hazmat: licensed for restricted goods, all of CN, up to 5 kg.
carrier_spec hazmat() {
    return carrier_spec{
        .id = id("hazmat"),
        .name = "Licensed Hazmat",
        .services = {{.level = service_level::standard, .transit_days = {2, 3, 4, 4}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = goods_traits{.bulky = true},
        .max_weight_g = 5000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{5000, yuan({25, 30, 35, 40})}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "HZ", .digits = 8, .first_sequence = 1},
        .on_time_rate = ratio(9, 10),
    };
}

carrier_tables sample_tables() {
    return carrier_tables{.zones = sample_zones(), .carriers = {sf(), yto(), freight(), hazmat()}};
}

carrier_table sample_directory() {
    auto made = carrier_table::create(sample_tables());
    REQUIRE_MESSAGE(made.has_value(), (made ? std::string() : to_string(made.error())));
    return std::move(*made);
}

address customer_in(std::string province) {
    return address{.recipient = "Li Lei",
                   .phone = "13812345678",
                   .country = "CN",
                   .province = std::move(province),
                   .city = "Hangzhou",
                   .district = "Xihu",
                   .street = "1 Wensan Road",
                   .postcode = "310000"};
}

ship_from east_warehouse() {
    return ship_from{.warehouse = orderly::warehouse_id("wh-sh"),
                     .name = "Shanghai DC",
                     .region = "east",
                     .address = address{.recipient = "Shanghai DC",
                                        .phone = "13900001111",
                                        .country = "CN",
                                        .province = "Shanghai",
                                        .city = "Shanghai",
                                        .district = "Pudong",
                                        .street = "88 Logistics Road",
                                        .postcode = "200120"}};
}

shipment_query query_to(std::string province, parcel_profile parcel) {
    return shipment_query{
        .origin = east_warehouse(), .ship_to = customer_in(std::move(province)), .parcel = parcel};
}

parcel_profile grams(std::int64_t weight_g, goods_traits traits = {}) {
    return parcel_profile{.weight_g = weight_g, .volume_cm3 = 0, .traits = traits};
}

// The refusal's code after checking its field and that it has a message.
template <class T>
errc refusal_of(const orderly::result<T>& r, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

std::uint64_t sequence(const tracking_number_generator& generator, std::string_view number) {
    const auto read = generator.sequence_of(number);
    REQUIRE_MESSAGE(read.has_value(), number);
    return *read;
}

std::int64_t fen_of(const money& m) {
    return m.amount_minor().convert_to<std::int64_t>();
}

std::int64_t quoted_fen(const carrier_table& directory, const char* carrier, service_level service,
                        const shipment_query& query) {
    const auto quoted = directory.quote(id(carrier), service, query);
    REQUIRE_MESSAGE(quoted.has_value(), (quoted ? std::string() : to_string(quoted.error())));
    return fen_of(quoted->price);
}

carrier_choice chosen(const carrier_directory& directory, const shipment_query& query,
                      const selection_policy& policy) {
    const auto picked = orderly::select_carrier(directory, query, policy);
    REQUIRE_MESSAGE(picked.has_value(), (picked ? std::string() : to_string(picked.error())));
    return *picked;
}

delivery_deadline within(std::int32_t days) {
    const auto made = delivery_deadline::within_days(days);
    REQUIRE(made.has_value());
    return *made;
}

carrier_offer offer(const char* carrier, service_level service, std::int64_t fen,
                    std::int32_t days) {
    return carrier_offer{id(carrier), service,
                         shipping_quote{.price = cny(fen), .transit_days = days}};
}

std::vector<carrier_info> infos(std::initializer_list<const char*> ids) {
    std::vector<carrier_info> listed;
    for (const char* c : ids) {
        listed.push_back(carrier_info{
            id(c),
            c,
            {service_level::standard, service_level::express, service_level::pickup_point},
            std::nullopt});
    }
    return listed;
}

}  // namespace

// ---------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------

TEST_CASE("service levels have stable names and numbers, and parse from text") {
    CHECK(static_cast<int>(service_level::standard) == 1);
    CHECK(static_cast<int>(service_level::express) == 2);
    CHECK(static_cast<int>(service_level::pickup_point) == 3);
    for (const service_level s : orderly::all_service_levels) {
        const auto parsed = orderly::parse_service_level(to_string(s));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == s);
        CHECK(fmt::format("{}", s) == to_string(s));
    }
    CHECK(refusal_of(orderly::parse_service_level("Express"), "service") == errc::invalid_value);
    CHECK(refusal_of(orderly::parse_service_level(""), "service") == errc::invalid_value);
    CHECK_FALSE(orderly::is_known(static_cast<service_level>(0)));
    CHECK(static_cast<int>(selection_reason::forced) == 4);
    CHECK(static_cast<int>(selection_rule::fastest) == 2);
}

TEST_CASE("a parcel profile needs a weight and bounded sizes") {
    CHECK(orderly::validate(grams(1)).has_value());
    CHECK(orderly::validate(grams(orderly::parcel_limits::max_weight_g)).has_value());
    CHECK(refusal_of(orderly::validate(grams(0)), "weight_g") == errc::invalid_value);
    CHECK(refusal_of(orderly::validate(grams(-5)), "weight_g") == errc::invalid_value);
    CHECK(refusal_of(orderly::validate(grams(orderly::parcel_limits::max_weight_g + 1)),
                     "weight_g") == errc::invalid_value);
    parcel_profile p = grams(100);
    p.volume_cm3 = -1;
    CHECK(refusal_of(orderly::validate(p), "volume_cm3") == errc::invalid_value);
    p.volume_cm3 = orderly::parcel_limits::max_volume_cm3;
    CHECK(orderly::validate(p).has_value());
    p.volume_cm3 += 1;
    CHECK(refusal_of(orderly::validate(p), "volume_cm3") == errc::invalid_value);
}

TEST_CASE("formatters write the public value types") {
    CHECK(fmt::format("{}", parcel_profile{.weight_g = 1200,
                                           .volume_cm3 = 3000,
                                           .traits = {.fragile = true, .bulky = true}}) ==
          "1200 g, 3000 cm3, fragile, bulky");
    CHECK(fmt::format("{}", shipping_quote{.price = cny(1250),
                                           .transit_days = 1,
                                           .chargeable_weight_g = 1500,
                                           .zone = 2}) == "12.50 CNY, 1 day (zone 2, 1500 g)");
    CHECK(fmt::format("{}", orderly::tracking_format{.prefix = "SF", .digits = 10}) ==
          "SF + 10 digits + check digit");
    CHECK(fmt::format("{}", within(3)) == "within 3 days");
    CHECK(fmt::format("{}", within(1)) == "within 1 day");
    CHECK(fmt::format("{}", within(0)) == "on the day it ships");
    const auto by = delivery_deadline::by(
        {.due = orderly::from_unix_ms(1'717'596'000'000), .now = orderly::from_unix_ms(0)});
    REQUIRE(by.has_value());
    CHECK(fmt::format("{}", *by) == "by 2024-06-05 14:00 UTC");
    CHECK(fmt::format("{}", selection_reason::customer_choice) == "customer_choice");
    CHECK(fmt::format("{}", selection_rule::cheapest) == "cheapest");
    const carrier_choice choice{
        .carrier = id("sf"),
        .carrier_name = "SF Express",
        .service = service_level::express,
        .quote = {.price = cny(2300), .transit_days = 1, .chargeable_weight_g = 1500, .zone = 2},
        .reason = selection_reason::forced,
        .forced_by = goods_trait::restricted};
    CHECK(fmt::format("{}", choice) ==
          "sf express: 23.00 CNY, 1 day (zone 2, 1500 g) (forced by restricted)");
}

// ---------------------------------------------------------------------------
// The table directory: zones, prices, coverage, goods
// ---------------------------------------------------------------------------

TEST_CASE("zones: the most specific rule wins, the destination before the origin") {
    const carrier_table directory = sample_directory();
    CHECK(directory.zone_count() == 4);
    CHECK(directory.currency() == currencies::CNY);
    CHECK(directory.zone_of("east", "CN", "Shanghai") == 1);  // origin, country, province
    CHECK(directory.zone_of("east", "CN", "Zhejiang") == 1);
    CHECK(directory.zone_of("west", "CN", "Xizang") == 3);   // origin, country, province
    CHECK(directory.zone_of("east", "CN", "Xizang") == 4);   // any origin, province
    CHECK(directory.zone_of("east", "CN", "Jiangsu") == 2);  // origin, country
    CHECK(directory.zone_of("east", "CN", "") == 2);         // no province: country rules
    CHECK(directory.zone_of("west", "CN", "Jiangsu") == 3);  // any origin, country
    CHECK(directory.zone_of("", "CN", "Jiangsu") == 3);
    CHECK(directory.zone_of("", "CN", "Xizang") == 4);
    CHECK(directory.zone_of("east", "US", "CA") == 4);  // default
    CHECK(directory.zone_of("north", "JP", "") == 4);
}

TEST_CASE("prices follow weight bands at their exact edges, per zone") {
    const carrier_table directory = sample_directory();
    const auto sf_standard = [&](std::int64_t weight_g, const char* province) {
        return quoted_fen(directory, "sf", service_level::standard,
                          query_to(province, grams(weight_g)));
    };
    // Zone 1 (Shanghai): bands up to 500, 1000, 3000 g, then 2.00 per started kg.
    CHECK(sf_standard(1, "Shanghai") == 1000);
    CHECK(sf_standard(500, "Shanghai") == 1000);  // exactly up_to_g: still the first band
    CHECK(sf_standard(501, "Shanghai") == 1200);
    CHECK(sf_standard(1000, "Shanghai") == 1200);
    CHECK(sf_standard(1001, "Shanghai") == 1800);
    CHECK(sf_standard(3000, "Shanghai") == 1800);
    CHECK(sf_standard(3001, "Shanghai") == 2000);  // one started step
    CHECK(sf_standard(4000, "Shanghai") == 2000);
    CHECK(sf_standard(4001, "Shanghai") == 2200);  // two steps
    CHECK(sf_standard(30000, "Shanghai") == 1800 + 27 * 200);
    // The same weight in each zone.
    CHECK(sf_standard(800, "Jiangsu") == 1500);  // zone 2
    CHECK(sf_standard(800, "Xizang") == 2200);   // zone 4
    CHECK(sf_standard(3001, "Xizang") == 3000 + 500);

    const auto quoted =
        directory.quote(id("sf"), service_level::standard, query_to("Jiangsu", grams(3001)));
    REQUIRE(quoted.has_value());
    CHECK(quoted->zone == 2);
    CHECK(quoted->chargeable_weight_g == 3001);
    CHECK(quoted->transit_days == 2);
}

TEST_CASE("volumetric weight is charged when it exceeds the actual weight, rounded up") {
    const carrier_table directory = sample_directory();
    parcel_profile light_box = grams(200);
    light_box.volume_cm3 = 6000;  // 6000 cm3 / 6000 cm3 per kg = 1000 g
    auto q = directory.quote(id("sf"), service_level::standard, query_to("Shanghai", light_box));
    REQUIRE(q.has_value());
    CHECK(q->chargeable_weight_g == 1000);
    CHECK(fen_of(q->price) == 1200);
    light_box.volume_cm3 = 6001;  // 1000.17 g, rounded up to 1001 g: the next band
    q = directory.quote(id("sf"), service_level::standard, query_to("Shanghai", light_box));
    REQUIRE(q.has_value());
    CHECK(q->chargeable_weight_g == 1001);
    CHECK(fen_of(q->price) == 1800);
    parcel_profile heavy_small = grams(2500);
    heavy_small.volume_cm3 = 600;  // 100 g volumetric: actual weight wins
    q = directory.quote(id("sf"), service_level::standard, query_to("Shanghai", heavy_small));
    REQUIRE(q.has_value());
    CHECK(q->chargeable_weight_g == 2500);
    // yto has no divisor: volume never changes its price.
    parcel_profile big = grams(800);
    big.volume_cm3 = 150'000;
    CHECK(quoted_fen(directory, "yto", service_level::standard, query_to("Shanghai", big)) == 600);
}

TEST_CASE("service prices are exact: factor rounded once, then the surcharge") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Jiangsu", grams(800));  // zone 2, band 1000 g
    CHECK(quoted_fen(directory, "sf", service_level::standard, q) == 1500);
    CHECK(quoted_fen(directory, "sf", service_level::express, q) == 1500 * 3 / 2 + 200);  // 24.50
    CHECK(quoted_fen(directory, "yto", service_level::pickup_point, q) == 720);  // 8.00 × 9/10

    // 0.15 CNY × 1/2 = 7.5 fen: half_even gives 8, half_down 7, ceiling 8, floor 7.
    const auto tiny = [](orderly::rounding mode) {
        carrier_spec spec = hazmat();
        spec.bands = {{5000, {cny(15), cny(15), cny(15), cny(15)}}};
        spec.services[0].price_factor = ratio(1, 2);
        spec.services[0].rounding = mode;
        spec.services[0].surcharge = cny(1);
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {spec}});
        REQUIRE(made.has_value());
        return quoted_fen(*made, "hazmat", service_level::standard, query_to("Jiangsu", grams(10)));
    };
    CHECK(tiny(orderly::rounding::half_even) == 8 + 1);
    CHECK(tiny(orderly::rounding::half_down) == 7 + 1);
    CHECK(tiny(orderly::rounding::floor) == 7 + 1);
    CHECK(tiny(orderly::rounding::ceiling) == 8 + 1);

    // Large amounts stay exact: 10^15 yuan per step, 970 steps, at the weight limit.
    carrier_spec rich = freight();
    rich.bands = {{30000, {cny(1), cny(1), cny(1), cny(1)}}};
    const money huge = money::from_minor(money::amount_type("100000000000000000"), currencies::CNY);
    rich.beyond_last_band = orderly::weight_step{1000, {huge, huge, huge, huge}};
    auto made = carrier_table::create({.zones = sample_zones(), .carriers = {rich}});
    REQUIRE(made.has_value());
    const auto priced = made->quote(id("freight"), service_level::standard,
                                    query_to("Jiangsu", grams(30000 + 970 * 1000)));
    REQUIRE(priced.has_value());
    CHECK(priced->price.amount_minor() == money::amount_type("100000000000000000") * 970 + 1);
}

TEST_CASE("quotes refuse what a carrier does not cover or carry, naming the field") {
    const carrier_table directory = sample_directory();
    SUBCASE("a country the carrier does not serve") {
        shipment_query q = query_to("Zhejiang", grams(500));
        q.ship_to.country = "US";
        q.ship_to.province = "CA";
        CHECK(refusal_of(directory.quote(id("yto"), service_level::standard, q),
                         "ship_to.country") == errc::invalid_value);
        CHECK(directory.quote(id("sf"), service_level::standard, q).has_value());
    }
    SUBCASE("a province outside the listed ones") {
        const auto r =
            directory.quote(id("yto"), service_level::standard, query_to("Xizang", grams(500)));
        CHECK(refusal_of(r, "ship_to.province") == errc::invalid_value);
        CHECK(r.error().message == "YTO Express does not deliver to Xizang, CN");
    }
    SUBCASE("no province where the carrier serves only some") {
        CHECK(refusal_of(
                  directory.quote(id("yto"), service_level::standard, query_to("", grams(500))),
                  "ship_to.province") == errc::missing_value);
        CHECK(directory.quote(id("sf"), service_level::standard, query_to("", grams(500)))
                  .has_value());
    }
    SUBCASE("goods the carrier refuses, first trait in trait order") {
        const auto liquid = directory.quote(id("sf"), service_level::standard,
                                            query_to("Zhejiang", grams(500, {.liquid = true})));
        CHECK(refusal_of(liquid, "parcel.liquid") == errc::invalid_value);
        CHECK(liquid.error().message == "SF Express does not carry liquids");
        CHECK(refusal_of(directory.quote(
                             id("yto"), service_level::standard,
                             query_to("Zhejiang", grams(500, {.restricted = true, .bulky = true}))),
                         "parcel.restricted") == errc::invalid_value);
        CHECK(refusal_of(directory.quote(id("yto"), service_level::standard,
                                         query_to("Zhejiang", grams(500, {.bulky = true}))),
                         "parcel.bulky") == errc::invalid_value);
    }
    SUBCASE("too heavy, at the exact limit") {
        CHECK(
            directory.quote(id("yto"), service_level::standard, query_to("Zhejiang", grams(20000)))
                .has_value());
        CHECK(refusal_of(directory.quote(id("yto"), service_level::standard,
                                         query_to("Zhejiang", grams(20001))),
                         "parcel.weight_g") == errc::invalid_value);
    }
    SUBCASE("too large, at the exact limit") {
        parcel_profile box = grams(500);
        box.volume_cm3 = 200'000;
        CHECK(directory.quote(id("yto"), service_level::standard, query_to("Zhejiang", box))
                  .has_value());
        box.volume_cm3 = 200'001;
        CHECK(refusal_of(
                  directory.quote(id("yto"), service_level::standard, query_to("Zhejiang", box)),
                  "parcel.volume_cm3") == errc::invalid_value);
    }
    SUBCASE("volumetric weight beyond a rate card without steps") {
        carrier_spec spec = hazmat();
        spec.volumetric_divisor = 5000;
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {spec}});
        REQUIRE(made.has_value());
        parcel_profile box = grams(1000);
        box.volume_cm3 = 25'000;  // 5000 g: the last band's edge
        CHECK(made->quote(id("hazmat"), service_level::standard, query_to("Zhejiang", box))
                  .has_value());
        box.volume_cm3 = 25'001;
        CHECK(refusal_of(
                  made->quote(id("hazmat"), service_level::standard, query_to("Zhejiang", box)),
                  "parcel.volume_cm3") == errc::invalid_value);
    }
    SUBCASE("unknown carrier, service not offered, malformed query") {
        CHECK(refusal_of(directory.quote(id("ems"), service_level::standard,
                                         query_to("Zhejiang", grams(500))),
                         "carrier") == errc::not_found);
        CHECK(refusal_of(directory.quote(id("yto"), service_level::express,
                                         query_to("Zhejiang", grams(500))),
                         "service") == errc::not_found);
        CHECK(refusal_of(directory.quote(id("sf"), service_level::standard,
                                         query_to("Zhejiang", grams(0))),
                         "parcel.weight_g") == errc::invalid_value);
        shipment_query q = query_to("Zhejiang", grams(500));
        q.ship_to.country = "XX";
        CHECK(refusal_of(directory.quote(id("sf"), service_level::standard, q),
                         "ship_to.country") == errc::invalid_value);
        q.ship_to.country = "";
        CHECK(refusal_of(directory.offers(q), "ship_to.country") == errc::missing_value);
        q = query_to("Zhejiang", grams(500));
        q.origin.region = std::string(200, 'r');
        CHECK(refusal_of(directory.offers(q), "origin.region") == errc::invalid_value);
    }
}

TEST_CASE("offers and accepts answer for every carrier and service in table order") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Xizang", grams(800, {.liquid = true}));
    const auto all = directory.offers(q);
    REQUIRE(all.has_value());
    REQUIRE(all->size() == 6);
    CHECK((*all)[0].carrier == id("sf"));
    CHECK((*all)[0].service == service_level::standard);
    CHECK((*all)[0].quote.error().field == "parcel.liquid");
    CHECK((*all)[1].service == service_level::express);
    CHECK((*all)[1].quote.error().field == "parcel.liquid");
    CHECK((*all)[2].quote.error().field == "ship_to.province");  // yto standard
    CHECK((*all)[3].service == service_level::pickup_point);
    REQUIRE((*all)[4].quote.has_value());  // freight, zone 4
    CHECK(fen_of((*all)[4].quote->price) == 7000);
    CHECK((*all)[4].quote->zone == 4);
    REQUIRE((*all)[5].quote.has_value());  // hazmat
    CHECK(fen_of((*all)[5].quote->price) == 4000);

    CHECK(refusal_of(directory.accepts(id("sf"), q), "parcel.liquid") == errc::invalid_value);
    CHECK(directory.accepts(id("freight"), q).has_value());
    CHECK(refusal_of(directory.accepts(id("nobody"), q), "carrier") == errc::not_found);

    const auto listed = directory.carriers();
    REQUIRE(listed.has_value());
    REQUIRE(listed->size() == 4);
    CHECK((*listed)[1].id == id("yto"));
    CHECK((*listed)[1].name == "YTO Express");
    CHECK((*listed)[1].services ==
          std::vector<service_level>{service_level::standard, service_level::pickup_point});
    CHECK((*listed)[1].on_time_rate == ratio(4, 5));
    CHECK_FALSE((*listed)[2].on_time_rate.has_value());
}

// ---------------------------------------------------------------------------
// Table validation
// ---------------------------------------------------------------------------

TEST_CASE("table validation names the field of the first problem") {
    carrier_tables t = sample_tables();
    CHECK(orderly::validate(t).has_value());
    errc expected = errc::invalid_value;
    std::string field;

    SUBCASE("bands must strictly increase") {
        t.carriers[1].bands[2].up_to_g = 5000;
        field = "carriers[1].bands[2].up_to_g";
    }
    SUBCASE("a band's bound is positive") {
        t.carriers[0].bands[0].up_to_g = 0;
        field = "carriers[0].bands[0].up_to_g";
    }
    SUBCASE("one price per zone") {
        t.carriers[2].bands[0].prices.pop_back();
        field = "carriers[2].bands[0].prices";
    }
    SUBCASE("no negative price") {
        t.carriers[0].bands[0].prices[1] = cny(-1);
        field = "carriers[0].bands[0].prices[1]";
    }
    SUBCASE("a heavier band never costs less") {
        t.carriers[0].bands[1].prices[3] = cny(1799);
        field = "carriers[0].bands[1].prices[3]";
    }
    SUBCASE("one currency") {
        t.carriers[3].bands[0].prices[2] = money::from_minor(100, currencies::USD);
        field = "carriers[3].bands[0].prices[2]";
        expected = errc::currency_mismatch;
    }
    SUBCASE("surcharges share the currency") {
        t.carriers[0].services[1].surcharge = money::from_minor(100, currencies::USD);
        field = "carriers[0].services[1].surcharge";
        expected = errc::currency_mismatch;
    }
    SUBCASE("no bands") {
        t.carriers[0].bands.clear();
        field = "carriers[0].bands";
        expected = errc::missing_value;
    }
    SUBCASE("the last band must reach max_weight_g without steps") {
        t.carriers[1].max_weight_g = 20'001;
        field = "carriers[1].max_weight_g";
    }
    SUBCASE("steps need a positive size") {
        t.carriers[0].beyond_last_band->step_g = 0;
        field = "carriers[0].beyond_last_band.step_g";
    }
    SUBCASE("steps need one price per zone") {
        t.carriers[0].beyond_last_band->prices.push_back(cny(1));
        field = "carriers[0].beyond_last_band.prices";
    }
    SUBCASE("carrier ids are required, valid and unique") {
        t.carriers[2].id = id("sf");
        field = "carriers[2].id";
    }
    SUBCASE("carrier id with a space") {
        t.carriers[1].id = id("y to");
        field = "carriers[1].id";
    }
    SUBCASE("carrier id empty") {
        t.carriers[1].id = carrier_id();
        field = "carriers[1].id";
        expected = errc::missing_value;
    }
    SUBCASE("carrier name required") {
        t.carriers[1].name = " ";
        field = "carriers[1].name";
        expected = errc::missing_value;
    }
    SUBCASE("services: present, known, unique, one transit time per zone") {
        t.carriers[0].services.clear();
        field = "carriers[0].services";
        expected = errc::missing_value;
    }
    SUBCASE("service level unknown") {
        t.carriers[0].services[1].level = static_cast<service_level>(9);
        field = "carriers[0].services[1].level";
    }
    SUBCASE("service level repeated") {
        t.carriers[0].services[1].level = service_level::standard;
        field = "carriers[0].services[1].level";
    }
    SUBCASE("transit days per zone") {
        t.carriers[3].services[0].transit_days = {1, 2};
        field = "carriers[3].services[0].transit_days";
    }
    SUBCASE("transit days bounded") {
        t.carriers[3].services[0].transit_days[2] = 366;
        field = "carriers[3].services[0].transit_days[2]";
    }
    SUBCASE("price factor positive") {
        t.carriers[1].services[1].price_factor = rate::zero();
        field = "carriers[1].services[1].price_factor";
    }
    SUBCASE("coverage present") {
        t.carriers[3].coverage.clear();
        field = "carriers[3].coverage";
        expected = errc::missing_value;
    }
    SUBCASE("coverage country known") {
        t.carriers[0].coverage[1].country = "ZZ";
        field = "carriers[0].coverage[1].country";
    }
    SUBCASE("coverage country once") {
        t.carriers[0].coverage[1].country = "CN";
        field = "carriers[0].coverage[1].country";
    }
    SUBCASE("coverage province not blank") {
        t.carriers[1].coverage[0].provinces[1] = "";
        field = "carriers[1].coverage[0].provinces[1]";
        expected = errc::missing_value;
    }
    SUBCASE("coverage province once") {
        t.carriers[1].coverage[0].provinces[2] = "Shanghai";
        field = "carriers[1].coverage[0].provinces[2]";
    }
    SUBCASE("weight and volume limits") {
        t.carriers[2].max_weight_g = 0;
        field = "carriers[2].max_weight_g";
    }
    SUBCASE("volume limit not negative") {
        t.carriers[2].max_volume_cm3 = -1;
        field = "carriers[2].max_volume_cm3";
    }
    SUBCASE("volumetric divisor not negative") {
        t.carriers[0].volumetric_divisor = -6000;
        field = "carriers[0].volumetric_divisor";
    }
    SUBCASE("tracking prefix") {
        t.carriers[0].tracking.prefix = "sf";
        field = "carriers[0].tracking.prefix";
    }
    SUBCASE("tracking digits") {
        t.carriers[0].tracking.digits = 19;
        field = "carriers[0].tracking.digits";
    }
    SUBCASE("on-time rate from 0 to 1") {
        t.carriers[1].on_time_rate = ratio(21, 20);
        field = "carriers[1].on_time_rate";
    }
    SUBCASE("no carriers") {
        t.carriers.clear();
        field = "carriers";
        expected = errc::missing_value;
    }
    SUBCASE("zones: default from 1") {
        t.zones.default_zone = 0;
        field = "zones.default_zone";
    }
    SUBCASE("zones: rule zone from 1") {
        t.zones.rules[2].zone = -1;
        field = "zones.rules[2].zone";
    }
    SUBCASE("zones: rule country known") {
        t.zones.rules[3].country = "cn";
        field = "zones.rules[3].country";
    }
    SUBCASE("zones: a blank province is not 'any'") {
        t.zones.rules[3].province = "  ";
        field = "zones.rules[3].province";
    }
    SUBCASE("zones: no repeated route") {
        t.zones.rules.push_back(zone_rule{"east", "CN", "Zhejiang", 2});
        field = "zones.rules[6]";
    }
    SUBCASE("zones: a higher zone needs prices for it") {
        t.zones.rules.push_back(zone_rule{"", "US", "", 5});
        field = "carriers[0].services[0].transit_days";
    }
    const auto checked = orderly::validate(t);
    CHECK(refusal_of(checked, field) == expected);
    const auto made = carrier_table::create(t);
    REQUIRE(made.has_error());
    CHECK(made.error() == checked.error());
}

// ---------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------

TEST_CASE("cheapest picks the lowest price, and the deadline keeps only quotes in time") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Jiangsu", grams(800));  // zone 2
    // Offers: sf 15.00/2d, sf express 24.50/1d, yto 8.00/3d, yto pickup 7.20/4d,
    // freight 50.00/4d, hazmat 30.00/3d.
    carrier_choice c = chosen(directory, q, {});
    CHECK(c.carrier == id("yto"));
    CHECK(c.carrier_name == "YTO Express");
    CHECK(c.service == service_level::pickup_point);
    CHECK(fen_of(c.quote.price) == 720);
    CHECK(c.reason == selection_reason::cheapest);
    CHECK_FALSE(c.forced_by.has_value());

    c = chosen(directory, q, {.deadline = within(3)});
    CHECK(c.carrier == id("yto"));
    CHECK(c.service == service_level::standard);
    c = chosen(directory, q, {.deadline = within(2)});
    CHECK(c.carrier == id("sf"));
    CHECK(c.service == service_level::standard);
    c = chosen(directory, q, {.deadline = within(1)});
    CHECK(c.service == service_level::express);
    CHECK(fen_of(c.quote.price) == 2450);

    const auto none = orderly::select_carrier(directory, q, {.deadline = within(0)});
    CHECK(refusal_of(none, "deadline") == errc::invalid_value);
    CHECK(none.error().message ==
          "no carrier can deliver on the day it ships; the earliest is in 1 day with SF Express "
          "express");
}

TEST_CASE("a deadline given as an instant uses the time passed in") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Jiangsu", grams(800));
    const orderly::timestamp now = orderly::from_unix_ms(1'717'581'600'000);  // 2024-06-05 10:00
    const auto hours = [&](int h) { return now + std::chrono::hours(h); };
    auto deadline = delivery_deadline::by({.due = hours(71), .now = now});  // 2 whole days
    REQUIRE(deadline.has_value());
    CHECK(deadline->max_transit_days() == 2);
    CHECK(chosen(directory, q, {.deadline = *deadline}).carrier == id("sf"));
    deadline = delivery_deadline::by({.due = hours(72), .now = now});  // exactly 3 days
    REQUIRE(deadline.has_value());
    CHECK(deadline->max_transit_days() == 3);
    CHECK(chosen(directory, q, {.deadline = *deadline}).carrier == id("yto"));

    deadline = delivery_deadline::by({.due = hours(5), .now = now});
    REQUIRE(deadline.has_value());
    const auto late = orderly::select_carrier(directory, q, {.deadline = *deadline});
    CHECK(refusal_of(late, "deadline") == errc::invalid_value);
    CHECK(late.error().message ==
          "no carrier can deliver by 2024-06-05 15:00 UTC; the earliest is on 2024-06-06 10:00 "
          "UTC with SF Express express");

    CHECK(refusal_of(delivery_deadline::by({.due = now - std::chrono::milliseconds(1), .now = now}),
                     "deadline") == errc::invalid_value);
    CHECK(delivery_deadline::by({.due = now, .now = now})->max_transit_days() == 0);
    CHECK(delivery_deadline::by({.due = hours(24 * 5000), .now = now})->max_transit_days() == 365);
    CHECK(refusal_of(delivery_deadline::within_days(-1), "deadline") == errc::invalid_value);
    CHECK(refusal_of(delivery_deadline::within_days(366), "deadline") == errc::invalid_value);
}

TEST_CASE("fastest picks the fewest days, ties go by price, carrier id, service level") {
    const carrier_table directory = sample_directory();
    const carrier_choice c =
        chosen(directory, query_to("Jiangsu", grams(800)), {.rule = selection_rule::fastest});
    CHECK(c.carrier == id("sf"));
    CHECK(c.service == service_level::express);
    CHECK(c.reason == selection_reason::fastest);

    const auto listed = infos({"a", "b"});
    const shipment_query q = query_to("Jiangsu", grams(800));
    const selection_policy fastest{.rule = selection_rule::fastest};
    // Same days: the cheaper wins.
    std::vector<carrier_offer> offers = {offer("a", service_level::standard, 900, 2),
                                         offer("b", service_level::standard, 800, 2)};
    CHECK(orderly::select_carrier(listed, offers, q, fastest)->carrier == id("b"));
    // Same days and price: the smaller carrier id.
    offers = {offer("b", service_level::standard, 800, 2),
              offer("a", service_level::express, 800, 2)};
    CHECK(orderly::select_carrier(listed, offers, q, fastest)->carrier == id("a"));
    // Same carrier, days and price: the smaller service level number.
    offers = {offer("a", service_level::pickup_point, 800, 2),
              offer("a", service_level::express, 800, 2)};
    CHECK(orderly::select_carrier(listed, offers, q, fastest)->service == service_level::express);
}

TEST_CASE("cheapest ties go by days, then carrier id, then service level, in any offer order") {
    const auto listed = infos({"a", "b", "c"});
    const shipment_query q = query_to("Jiangsu", grams(800));
    std::vector<carrier_offer> offers = {
        offer("c", service_level::standard, 500, 3),
        offer("b", service_level::pickup_point, 500, 2), offer("b", service_level::express, 500, 2),
        offer("a", service_level::standard, 500, 4), offer("a", service_level::express, 501, 1)};
    std::sort(offers.begin(), offers.end(), [](const carrier_offer& x, const carrier_offer& y) {
        return std::tie(x.carrier, x.service) < std::tie(y.carrier, y.service);
    });
    do {
        const auto c = orderly::select_carrier(listed, offers, q, {});
        REQUIRE(c.has_value());
        CHECK(c->carrier == id("b"));
        CHECK(c->service == service_level::express);
    } while (std::next_permutation(
        offers.begin(), offers.end(), [](const carrier_offer& x, const carrier_offer& y) {
            return std::tie(x.carrier, x.service) < std::tie(y.carrier, y.service);
        }));
}

TEST_CASE("the customer's choice of service level or carrier limits the candidates") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Jiangsu", grams(800));
    carrier_choice c = chosen(directory, q, {.choice = {.service = service_level::standard}});
    CHECK(c.carrier == id("yto"));
    CHECK(c.service == service_level::standard);
    CHECK(c.reason == selection_reason::customer_choice);

    c = chosen(directory, q, {.choice = {.carrier = id("sf")}});
    CHECK(c.carrier == id("sf"));
    CHECK(c.service == service_level::standard);  // sf's cheapest
    CHECK(c.reason == selection_reason::customer_choice);

    c = chosen(directory, q, {.choice = {.service = service_level::express, .carrier = id("sf")}});
    CHECK(c.service == service_level::express);

    // The deadline still applies to the customer's carrier.
    c = chosen(directory, q, {.deadline = within(1), .choice = {.carrier = id("sf")}});
    CHECK(c.service == service_level::express);
    const auto too_slow = orderly::select_carrier(
        directory, q, {.deadline = within(2), .choice = {.carrier = id("freight")}});
    CHECK(refusal_of(too_slow, "deadline") == errc::invalid_value);
    CHECK(too_slow.error().message ==
          "no carrier can deliver within 2 days; the earliest is in 4 days with Deppon Freight "
          "standard");

    SUBCASE("refusals") {
        CHECK(refusal_of(orderly::select_carrier(directory, q, {.choice = {.carrier = id("ems")}}),
                         "choice.carrier") == errc::not_found);
        const auto no_express = orderly::select_carrier(
            directory, q, {.choice = {.service = service_level::express, .carrier = id("yto")}});
        CHECK(refusal_of(no_express, "choice.service") == errc::invalid_value);
        CHECK(no_express.error().message ==
              "YTO Express offers no express service for this parcel; it offers standard, "
              "pickup_point");
        // A liquid: sf (the only express carrier) refuses it.
        const auto liquid_express =
            orderly::select_carrier(directory, query_to("Jiangsu", grams(800, {.liquid = true})),
                                    {.choice = {.service = service_level::express}});
        CHECK(refusal_of(liquid_express, "choice.service") == errc::invalid_value);
        CHECK(liquid_express.error().message ==
              "no carrier offers express for this parcel to this address; available: standard, "
              "pickup_point");
        // The chosen carrier refuses the goods: its own reason.
        const auto sf_liquid =
            orderly::select_carrier(directory, query_to("Jiangsu", grams(800, {.liquid = true})),
                                    {.choice = {.carrier = id("sf")}});
        CHECK(refusal_of(sf_liquid, "parcel.liquid") == errc::invalid_value);
        CHECK(sf_liquid.error().message == "SF Express does not carry liquids");
        CHECK(refusal_of(orderly::select_carrier(
                             directory, q, {.choice = {.service = static_cast<service_level>(7)}}),
                         "choice.service") == errc::invalid_value);
    }
}

TEST_CASE("forced rules decide the carrier for the goods they name") {
    const carrier_table directory = sample_directory();
    const std::vector<forced_carrier_rule> rules = {
        {.trait = goods_trait::bulky, .carrier = id("freight")},
        {.trait = goods_trait::restricted, .carrier = id("hazmat")}};
    const shipment_query restricted = query_to("Jiangsu", grams(800, {.restricted = true}));

    // Without the rule the cheapest carrier that takes restricted goods wins (sf).
    CHECK(chosen(directory, restricted, {}).carrier == id("sf"));
    carrier_choice c = chosen(directory, restricted, {.forced = rules});
    CHECK(c.carrier == id("hazmat"));
    CHECK(c.reason == selection_reason::forced);
    CHECK(c.forced_by == goods_trait::restricted);
    CHECK(fen_of(c.quote.price) == 3000);

    // The first matching rule in table order wins: a bulky restricted parcel goes by freight.
    const shipment_query both =
        query_to("Jiangsu", grams(800, {.restricted = true, .bulky = true}));
    c = chosen(directory, both, {.forced = rules});
    CHECK(c.carrier == id("freight"));
    CHECK(c.forced_by == goods_trait::bulky);

    // Forced beats the cheapest rule, the fastest rule and the quality floor (hazmat 90%).
    c = chosen(
        directory, restricted,
        {.rule = selection_rule::fastest, .forced = rules, .min_on_time_rate = ratio(19, 20)});
    CHECK(c.carrier == id("hazmat"));

    SUBCASE("a customer naming another carrier is refused, not overridden") {
        const auto r = orderly::select_carrier(directory, restricted,
                                               {.choice = {.carrier = id("sf")}, .forced = rules});
        CHECK(refusal_of(r, "choice.carrier") == errc::invalid_value);
        CHECK(
            r.error().message ==
            "restricted goods must go with Licensed Hazmat; SF Express cannot be chosen for them");
        CHECK(chosen(directory, restricted, {.choice = {.carrier = id("hazmat")}, .forced = rules})
                  .reason == selection_reason::forced);
    }
    SUBCASE("the forced carrier cannot take the parcel") {
        const auto r = orderly::select_carrier(
            directory, query_to("Jiangsu", grams(6000, {.restricted = true})), {.forced = rules});
        CHECK(refusal_of(r, "parcel.weight_g") == errc::invalid_value);
        CHECK(r.error().message ==
              "restricted goods must go with Licensed Hazmat, and Licensed Hazmat takes parcels "
              "of at most 5000 g; this one weighs 6000 g");
    }
    SUBCASE("the forced carrier misses the deadline: the best date it can do") {
        const auto r = orderly::select_carrier(directory, restricted,
                                               {.deadline = within(2), .forced = rules});
        CHECK(refusal_of(r, "deadline") == errc::invalid_value);
        CHECK(r.error().message ==
              "no carrier can deliver within 2 days; the earliest is in 3 days with Licensed "
              "Hazmat standard");
    }
    SUBCASE("the forced carrier lacks the chosen service") {
        const auto r = orderly::select_carrier(
            directory, restricted,
            {.choice = {.service = service_level::express}, .forced = rules});
        CHECK(refusal_of(r, "choice.service") == errc::invalid_value);
    }
    SUBCASE("rules are checked") {
        CHECK(refusal_of(orderly::select_carrier(
                             directory, restricted,
                             {.forced = {{.trait = goods_trait::liquid, .carrier = id("ems")}}}),
                         "forced[0].carrier") == errc::not_found);
        CHECK(refusal_of(orderly::select_carrier(
                             directory, restricted,
                             {.forced = {rules[0],
                                         rules[1],
                                         {.trait = goods_trait::bulky, .carrier = id("sf")}}}),
                         "forced[2].trait") == errc::invalid_value);
        CHECK(refusal_of(orderly::select_carrier(directory, restricted,
                                                 {.forced = {{.trait = static_cast<goods_trait>(0),
                                                              .carrier = id("sf")}}}),
                         "forced[0].trait") == errc::invalid_value);
    }
}

TEST_CASE("when every carrier refuses, the refusal says why") {
    const carrier_table directory = sample_directory();
    SUBCASE("no carrier covers the address") {
        shipment_query q = query_to("Hokkaido", grams(800));
        q.ship_to.country = "JP";
        const auto r = orderly::select_carrier(directory, q, {});
        CHECK(refusal_of(r, "ship_to.country") == errc::invalid_value);
        CHECK(r.error().message == "no carrier delivers to Hokkaido, JP");
    }
    SUBCASE("different address reasons share 'ship_to'") {
        carrier_spec local = yto();
        local.id = id("local");
        local.coverage = {{.country = "CN", .provinces = {"Shanghai"}}};
        carrier_spec abroad = sf();
        abroad.coverage = {{.country = "US", .provinces = {}}};
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {abroad, local}});
        REQUIRE(made.has_value());
        const auto r = orderly::select_carrier(*made, query_to("Jiangsu", grams(800)), {});
        CHECK(refusal_of(r, "ship_to") == errc::invalid_value);
        CHECK(r.error().message == "no carrier delivers to Jiangsu, CN");
    }
    SUBCASE("mixed reasons are all listed, in carrier id order") {
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {yto(), sf()}});
        REQUIRE(made.has_value());
        const auto r =
            orderly::select_carrier(*made, query_to("Xizang", grams(800, {.liquid = true})), {});
        CHECK(refusal_of(r, "carrier") == errc::invalid_value);
        CHECK(r.error().message ==
              "no carrier takes this parcel: SF Express does not carry liquids; YTO Express does "
              "not deliver to Xizang, CN");
    }
    SUBCASE("goods reasons share 'parcel'") {
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {yto(), sf()}});
        REQUIRE(made.has_value());
        const auto r =
            orderly::select_carrier(*made, query_to("Jiangsu", grams(25000, {.liquid = true})), {});
        CHECK(refusal_of(r, "parcel") == errc::invalid_value);
    }
    SUBCASE("one reason for all: its field") {
        auto made = carrier_table::create({.zones = sample_zones(), .carriers = {yto(), hazmat()}});
        REQUIRE(made.has_value());
        const auto r =
            orderly::select_carrier(*made, query_to("Jiangsu", grams(800, {.bulky = true})), {});
        CHECK(refusal_of(r, "parcel.bulky") == errc::invalid_value);
        CHECK(r.error().message ==
              "no carrier takes this parcel: Licensed Hazmat does not carry bulky goods; YTO "
              "Express does not carry bulky goods");
    }
}

TEST_CASE("a quality floor drops carriers measured below it, keeping unmeasured ones") {
    const carrier_table directory = sample_directory();
    const shipment_query q = query_to("Jiangsu", grams(800));
    // yto is at 80%: dropped at 85%; hazmat 90%, sf 95%, freight unmeasured.
    carrier_choice c = chosen(directory, q, {.min_on_time_rate = ratio(17, 20)});
    CHECK(c.carrier == id("sf"));
    c = chosen(directory, q, {.min_on_time_rate = ratio(96, 100)});
    CHECK(c.carrier == id("freight"));
    // The customer's carrier is not dropped for quality.
    c = chosen(directory, q, {.choice = {.carrier = id("yto")}, .min_on_time_rate = ratio(9, 10)});
    CHECK(c.carrier == id("yto"));

    const auto listed =
        std::vector<carrier_info>{{id("a"), "A", {service_level::standard}, ratio(7, 10)},
                                  {id("b"), "B", {service_level::standard}, ratio(3, 4)}};
    const auto r = orderly::select_carrier(
        listed,
        std::vector<carrier_offer>{offer("a", service_level::standard, 100, 1),
                                   offer("b", service_level::standard, 100, 1)},
        q, {.min_on_time_rate = ratio(9, 10)});
    CHECK(refusal_of(r, "min_on_time_rate") == errc::invalid_value);
    CHECK(
        r.error().message ==
        "no carrier with an on-time rate of at least 90% takes this parcel; the best is B at 75%");
    CHECK(refusal_of(orderly::select_carrier(directory, q, {.min_on_time_rate = ratio(3, 2)}),
                     "min_on_time_rate") == errc::invalid_value);
}

TEST_CASE("offers from a host's directory are checked before they are ranked") {
    const auto listed = infos({"a", "b"});
    const shipment_query q = query_to("Jiangsu", grams(800));
    const auto select = [&](std::vector<carrier_offer> offers) {
        return orderly::select_carrier(listed, offers, q, {});
    };
    CHECK(refusal_of(select({offer("a", service_level::standard, 1, 1),
                             offer("a", service_level::standard, 2, 1)}),
                     "offers[1]") == errc::invalid_value);
    CHECK(refusal_of(select({offer("z", service_level::standard, 1, 1)}), "offers[0].carrier") ==
          errc::not_found);
    CHECK(refusal_of(select({offer("a", service_level::standard, -1, 1)}),
                     "offers[0].quote.price") == errc::invalid_value);
    CHECK(refusal_of(select({offer("a", service_level::standard, 1, -1)}),
                     "offers[0].quote.transit_days") == errc::invalid_value);
    CHECK(refusal_of(select({offer("a", static_cast<service_level>(0), 1, 1)}),
                     "offers[0].service") == errc::invalid_value);
    std::vector<carrier_offer> mixed = {offer("a", service_level::standard, 100, 1),
                                        offer("b", service_level::standard, 100, 1)};
    mixed[1].quote = shipping_quote{.price = money::from_minor(100, currencies::USD)};
    CHECK(refusal_of(select(mixed), "offers") == errc::currency_mismatch);
    CHECK(refusal_of(select({}), "carrier") == errc::not_found);
    std::vector<carrier_info> twice = infos({"a", "a"});
    CHECK(refusal_of(orderly::select_carrier(twice, std::vector<carrier_offer>{}, q, {}),
                     "carriers[1].id") == errc::invalid_value);
}

// ---------------------------------------------------------------------------
// A host's own directory: the port's default offers() and accepts()
// ---------------------------------------------------------------------------

namespace {

// A directory the way a host over a live API writes it: carriers, one quote
// per call, and numbers from the carrier's booking call.
class live_directory final : public carrier_directory {
public:
    bool down = false;
    mutable int quote_calls = 0;
    int booked = 0;

    [[nodiscard]] orderly::result<std::vector<carrier_info>> carriers() const override {
        if (down) {
            return orderly::error{errc::busy, "carrier", "the rate service did not answer"};
        }
        return std::vector<carrier_info>{
            {id("jd"), "JD Logistics", {service_level::standard, service_level::express}, {}},
            {id("ems"), "China Post EMS", {service_level::standard}, ratio(1, 2)}};
    }

    [[nodiscard]] orderly::result<shipping_quote> quote(
        const carrier_id& carrier, service_level service,
        const shipment_query& query) const override {
        ++quote_calls;
        if (carrier == id("ems") && query.ship_to.province == "Xizang") {
            return orderly::error{errc::invalid_value, "ship_to.province",
                                  "China Post EMS does not deliver to Xizang, CN"};
        }
        const std::int64_t base = carrier == id("jd") ? 1100 : 900;
        const bool fast = service == service_level::express;
        return shipping_quote{.price = cny(fast ? base * 2 : base),
                              .transit_days = fast ? 1 : 3,
                              .chargeable_weight_g = query.parcel.weight_g};
    }

    [[nodiscard]] orderly::result<std::string> issue_tracking_number(
        const waybill& draft) override {
        ++booked;
        return fmt::format("{}-BOOKED-{}", draft.carrier, booked);
    }
};

}  // namespace

TEST_CASE("a host's directory gets offers and accepts from the port's defaults") {
    live_directory live;
    const shipment_query q = query_to("Jiangsu", grams(800));
    const auto all = live.offers(q);
    REQUIRE(all.has_value());
    CHECK(all->size() == 3);
    CHECK(live.quote_calls == 3);
    CHECK(chosen(live, q, {}).carrier == id("ems"));
    CHECK(chosen(live, q, {.rule = selection_rule::fastest}).carrier == id("jd"));
    CHECK(chosen(live, q, {.min_on_time_rate = ratio(3, 5)}).carrier == id("jd"));
    CHECK(chosen(live, query_to("Xizang", grams(800)), {}).carrier == id("jd"));

    CHECK(live.accepts(id("jd"), q).has_value());
    CHECK(refusal_of(live.accepts(id("ems"), query_to("Xizang", grams(800))), "ship_to.province") ==
          errc::invalid_value);
    CHECK(refusal_of(live.accepts(id("sf"), q), "carrier") == errc::not_found);

    live.down = true;
    CHECK(refusal_of(orderly::select_carrier(live, q, {}), "carrier") == errc::busy);
    CHECK(refusal_of(live.accepts(id("jd"), q), "carrier") == errc::busy);
}

// ---------------------------------------------------------------------------
// Tracking numbers
// ---------------------------------------------------------------------------

TEST_CASE("tracking numbers: prefix, zero-padded sequence, Damm check digit") {
    auto made =
        tracking_number_generator::create({.prefix = "SF", .digits = 10, .first_sequence = 17});
    REQUIRE(made.has_value());
    tracking_number_generator& generator = *made;
    const auto first = generator.next();
    REQUIRE(first.has_value());
    CHECK(first->size() == 2 + 10 + 1);
    CHECK(first->starts_with("SF0000000017"));
    CHECK(orderly::detail::damm_check_digit(std::string_view(*first).substr(2)) == 0);
    CHECK(sequence(generator, *first) == 17u);
    CHECK(sequence(generator, *generator.next()) == 18u);

    // Every single-digit change and every swap of neighbouring digits is caught.
    const std::string number = *first;
    for (std::size_t i = 2; i < number.size(); ++i) {
        for (char d = '0'; d <= '9'; ++d) {
            if (d == number[i]) {
                continue;
            }
            std::string typo = number;
            typo[i] = d;
            CHECK(refusal_of(generator.sequence_of(typo), "tracking_number") ==
                  errc::checksum_mismatch);
        }
        if (i + 1 < number.size() && number[i] != number[i + 1]) {
            std::string swapped = number;
            std::swap(swapped[i], swapped[i + 1]);
            CHECK(refusal_of(generator.sequence_of(swapped), "tracking_number") ==
                  errc::checksum_mismatch);
        }
    }
    CHECK(refusal_of(generator.sequence_of("YT00000000174"), "tracking_number") == errc::malformed);
    CHECK(refusal_of(generator.sequence_of("SF000000001"), "tracking_number") == errc::malformed);
    CHECK(refusal_of(generator.sequence_of("SF00000000A74"), "tracking_number") == errc::malformed);
    CHECK(refusal_of(generator.sequence_of(""), "tracking_number") == errc::malformed);

    generator.resume_after(500);
    CHECK(sequence(generator, *generator.next()) == 501u);
    generator.resume_after(3);  // never backwards
    CHECK(sequence(generator, *generator.next()) == 502u);
}

TEST_CASE("a tracking generator refuses once its digits run out, and checks its format") {
    auto made =
        tracking_number_generator::create({.prefix = "", .digits = 4, .first_sequence = 9998});
    REQUIRE(made.has_value());
    CHECK(made->next().has_value());
    const auto last = made->next();
    REQUIRE(last.has_value());
    CHECK(last->starts_with("9999"));
    CHECK(refusal_of(made->next(), "tracking_number") == errc::overflow);
    CHECK(refusal_of(made->next(), "tracking_number") == errc::overflow);
    made->resume_after(std::numeric_limits<std::uint64_t>::max());
    CHECK(refusal_of(made->next(), "tracking_number") == errc::overflow);

    CHECK(refusal_of(orderly::validate(orderly::tracking_format{.prefix = "ABCDEFGHI"}),
                     "prefix") == errc::invalid_value);
    CHECK(refusal_of(orderly::validate(orderly::tracking_format{.prefix = "S-F"}), "prefix") ==
          errc::invalid_value);
    CHECK(refusal_of(orderly::validate(orderly::tracking_format{.digits = 3}), "digits") ==
          errc::invalid_value);
    CHECK(refusal_of(
              orderly::validate(orderly::tracking_format{.digits = 4, .first_sequence = 10000}),
              "first_sequence") == errc::invalid_value);
    CHECK(orderly::validate(orderly::tracking_format{.digits = 18}).has_value());
}

TEST_CASE("tracking numbers are unique across threads") {
    carrier_table directory = sample_directory();
    waybill draft{.carrier = id("yto")};
    constexpr int per_thread = 5000;
    std::vector<std::string> a;
    std::vector<std::string> b;
    const auto issue = [&](std::vector<std::string>& out) {
        for (int i = 0; i < per_thread; ++i) {
            auto number = directory.issue_tracking_number(draft);
            if (number) {
                out.push_back(*number);
            }
        }
    };
    std::thread first(issue, std::ref(a));
    std::thread second(issue, std::ref(b));
    first.join();
    second.join();
    std::set<std::string> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    CHECK(all.size() == 2 * per_thread);
    CHECK(all.begin()->starts_with("YT000000001000"));
    CHECK(refusal_of(directory.issue_tracking_number(waybill{.carrier = id("ems")}), "carrier") ==
          errc::not_found);
    CHECK(directory.tracking(id("ems")) == nullptr);
    REQUIRE(directory.tracking(id("yto")) != nullptr);
    CHECK(sequence(*directory.tracking(id("yto")), *all.rbegin()) == 1000u + 2 * per_thread - 1);
}

// ---------------------------------------------------------------------------
// Waybills
// ---------------------------------------------------------------------------

namespace {

waybill sample_draft() {
    const auto number = orderly::order_number::from_value(42'147'913);
    REQUIRE(number.has_value());
    return waybill{.order_number = *number,
                   .recipient = customer_in("Zhejiang"),
                   .sender = east_warehouse(),
                   .carrier = id("sf"),
                   .service = service_level::express,
                   .tracking_number = "",
                   .parcel = grams(1200, {.fragile = true}),
                   .declared_value = std::nullopt};
}

}  // namespace

TEST_CASE("issue_waybill checks the draft, asks the carrier, and issues a tracking number") {
    carrier_table directory = sample_directory();
    const auto made = orderly::issue_waybill(directory, sample_draft());
    REQUIRE_MESSAGE(made.has_value(), (made ? std::string() : to_string(made.error())));
    CHECK(made->tracking_number == "SF00000000013");  // sequence 1, Damm check digit 3
    CHECK(sequence(*directory.tracking(id("sf")), made->tracking_number) == 1u);
    CHECK(made->order_number.value() == 42'147'913u);
    CHECK(made->carrier == id("sf"));
    CHECK(orderly::validate(*made).has_value());
    CHECK(fmt::format("{}", *made) ==
          "SF00000000013 sf express, order 00000000000421479130, 1200 g, to Li Lei, 13812345678, "
          "1 Wensan Road, Xihu, Hangzhou, Zhejiang, 310000, CN");

    SUBCASE("a draft with its own number keeps it") {
        waybill own = sample_draft();
        own.tracking_number = "PREPRINTED-1";
        const auto kept = orderly::issue_waybill(directory, own);
        REQUIRE(kept.has_value());
        CHECK(kept->tracking_number == "PREPRINTED-1");
    }
    SUBCASE("a carrier that refuses the goods gets no waybill, and no number is used") {
        waybill liquid = sample_draft();
        liquid.parcel.traits.liquid = true;
        CHECK(refusal_of(orderly::issue_waybill(directory, liquid), "parcel.liquid") ==
              errc::invalid_value);
        waybill far = sample_draft();
        far.carrier = id("yto");
        far.service = service_level::standard;
        far.recipient.province = "Xizang";
        CHECK(refusal_of(orderly::issue_waybill(directory, far), "ship_to.province") ==
              errc::invalid_value);
        waybill wrong_service = sample_draft();
        wrong_service.carrier = id("hazmat");
        CHECK(refusal_of(orderly::issue_waybill(directory, wrong_service), "service") ==
              errc::not_found);
        const auto next = orderly::issue_waybill(directory, sample_draft());
        REQUIRE(next.has_value());
        CHECK(sequence(*directory.tracking(id("sf")), next->tracking_number) == 2u);
    }
    SUBCASE("a host directory books through the port") {
        live_directory live;
        waybill draft = sample_draft();
        draft.carrier = id("jd");
        const auto booked = orderly::issue_waybill(live, draft);
        REQUIRE(booked.has_value());
        CHECK(booked->tracking_number == "jd-BOOKED-1");
        live.down = true;  // quotes still answer; carriers() does not matter here
        CHECK(orderly::issue_waybill(live, draft)->tracking_number == "jd-BOOKED-2");
    }
}

TEST_CASE("waybill validation names every field") {
    carrier_table directory = sample_directory();
    waybill w = sample_draft();
    w.tracking_number = "SF00000000013";
    REQUIRE(orderly::validate(w).has_value());
    errc expected = errc::invalid_value;
    std::string field;
    SUBCASE("order number") {
        w.order_number = orderly::order_number();
        field = "order_number";
        expected = errc::missing_value;
    }
    SUBCASE("recipient") {
        w.recipient.phone = "12345";
        field = "recipient.phone";
    }
    SUBCASE("sender name") {
        w.sender.name = "";
        field = "sender.name";
        expected = errc::missing_value;
    }
    SUBCASE("sender warehouse") {
        w.sender.warehouse = orderly::warehouse_id();
        field = "sender.warehouse";
        expected = errc::missing_value;
    }
    SUBCASE("sender address") {
        w.sender.address.postcode = "2001";
        field = "sender.address.postcode";
    }
    SUBCASE("carrier") {
        w.carrier = id("s f");
        field = "carrier";
    }
    SUBCASE("service") {
        w.service = static_cast<service_level>(0);
        field = "service";
    }
    SUBCASE("tracking number missing") {
        w.tracking_number = "";
        field = "tracking_number";
        expected = errc::missing_value;
    }
    SUBCASE("tracking number with a space") {
        w.tracking_number = "SF 1";
        field = "tracking_number";
    }
    SUBCASE("tracking number too long") {
        w.tracking_number = std::string(65, '1');
        field = "tracking_number";
    }
    SUBCASE("parcel weight") {
        w.parcel.weight_g = 0;
        field = "parcel.weight_g";
    }
    SUBCASE("valuable goods need a declared value") {
        w.parcel.traits.valuable = true;
        field = "declared_value";
        expected = errc::missing_value;
    }
    SUBCASE("a declared value is positive") {
        w.declared_value = cny(0);
        field = "declared_value";
    }
    CHECK(refusal_of(orderly::validate(w), field) == expected);
    if (field != "tracking_number") {  // an empty number is issued, not refused
        CHECK(refusal_of(orderly::issue_waybill(directory, w), field) == expected);
    }
}

TEST_CASE("valuable goods ship with their declared value") {
    carrier_table directory = sample_directory();
    waybill w = sample_draft();
    w.parcel.traits.valuable = true;
    w.declared_value = cny(1'999'900);
    const auto made = orderly::issue_waybill(directory, w);
    REQUIRE(made.has_value());
    CHECK(made->declared_value == cny(1'999'900));
}

// ---------------------------------------------------------------------------
// Randomized: selection invariants over many parcels, routes and policies
// ---------------------------------------------------------------------------

namespace {

// Picks each flag with probability 1/4.
goods_traits random_traits(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> quarter(0, 3);
    return goods_traits{.fragile = quarter(rng) == 0,
                        .liquid = quarter(rng) == 0,
                        .valuable = quarter(rng) == 0,
                        .restricted = quarter(rng) == 0,
                        .bulky = quarter(rng) == 0};
}

// Weights near every band edge and step edge of the sample, plus any weight.
std::int64_t random_weight(std::mt19937_64& rng) {
    static const std::vector<std::int64_t> edges = {500,  1000,  3000,  4000,
                                                    5000, 20000, 30000, 40000};
    std::uniform_int_distribution<int> pick(0, 3);
    if (pick(rng) == 0) {
        return std::uniform_int_distribution<std::int64_t>(1, 60000)(rng);
    }
    const std::int64_t edge =
        edges[std::uniform_int_distribution<std::size_t>(0, edges.size() - 1)(rng)];
    return edge + std::uniform_int_distribution<std::int64_t>(-1, 1)(rng);
}

selection_policy random_policy(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> coin(0, 1);
    std::uniform_int_distribution<int> third(0, 2);
    selection_policy policy;
    policy.rule = coin(rng) == 0 ? selection_rule::cheapest : selection_rule::fastest;
    if (third(rng) == 0) {
        policy.deadline =
            *delivery_deadline::within_days(std::uniform_int_distribution<int>(0, 6)(rng));
    }
    if (third(rng) == 0) {
        policy.choice.service = orderly::all_service_levels[static_cast<std::size_t>(third(rng))];
    }
    if (third(rng) == 0) {
        static const std::vector<const char*> ids = {"sf", "yto", "freight", "hazmat"};
        policy.choice.carrier = id(ids[std::uniform_int_distribution<std::size_t>(0, 3)(rng)]);
    }
    if (coin(rng) == 0) {
        policy.forced = {{.trait = goods_trait::restricted, .carrier = id("hazmat")},
                         {.trait = goods_trait::bulky, .carrier = id("freight")}};
        if (coin(rng) == 0) {
            std::swap(policy.forced[0], policy.forced[1]);
        }
    }
    if (third(rng) == 0) {
        policy.min_on_time_rate = ratio(std::uniform_int_distribution<int>(70, 100)(rng), 100);
    }
    return policy;
}

const carrier_spec& spec_of(const carrier_table& directory, const carrier_id& carrier) {
    const auto& all = directory.tables().carriers;
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const carrier_spec& s) { return s.id == carrier; });
    REQUIRE(found != all.end());
    return *found;
}

// The candidates the policy leaves, by brute force over every offer.
std::vector<carrier_offer> eligible(const carrier_table& directory,
                                    const std::vector<carrier_offer>& offers,
                                    const selection_policy& policy,
                                    const forced_carrier_rule* forced) {
    std::vector<carrier_offer> left;
    for (const carrier_offer& o : offers) {
        if (!o.quote) {
            continue;
        }
        if (forced != nullptr && o.carrier != forced->carrier) {
            continue;
        }
        if (forced == nullptr && policy.choice.carrier && o.carrier != *policy.choice.carrier) {
            continue;
        }
        if (policy.choice.service && o.service != *policy.choice.service) {
            continue;
        }
        const auto& quality = spec_of(directory, o.carrier).on_time_rate;
        const bool named = forced != nullptr || policy.choice.carrier.has_value();
        if (!named && policy.min_on_time_rate && quality && *quality < *policy.min_on_time_rate) {
            continue;
        }
        if (policy.deadline && o.quote->transit_days > policy.deadline->max_transit_days()) {
            continue;
        }
        left.push_back(o);
    }
    return left;
}

}  // namespace

TEST_CASE("randomized selection keeps its invariants") {
    constexpr std::uint64_t seed = 20240605;
    MESSAGE("seed ", seed);
    std::mt19937_64 rng(seed);
    const carrier_table directory = sample_directory();
    const std::vector<std::string> provinces = {"Shanghai", "Zhejiang",  "Jiangsu",
                                                "Xizang",   "Guangdong", ""};
    const std::vector<std::string> regions = {"east", "west", ""};
    int chosen_count = 0;
    for (int round = 0; round < 3000; ++round) {
        shipment_query q = query_to(
            provinces[std::uniform_int_distribution<std::size_t>(0, provinces.size() - 1)(rng)],
            parcel_profile{
                .weight_g = random_weight(rng),
                .volume_cm3 = std::uniform_int_distribution<std::int64_t>(0, 250'000)(rng),
                .traits = random_traits(rng)});
        q.origin.region = regions[std::uniform_int_distribution<std::size_t>(0, 2)(rng)];
        const selection_policy policy = random_policy(rng);
        CAPTURE(round);
        CAPTURE(q.parcel);
        CAPTURE(q.ship_to.province);

        const auto offers = directory.offers(q);
        REQUIRE(offers.has_value());
        const auto listed = directory.carriers();
        REQUIRE(listed.has_value());
        const auto picked = orderly::select_carrier(directory, q, policy);

        const forced_carrier_rule* forced = nullptr;
        for (const forced_carrier_rule& rule : policy.forced) {
            if (q.parcel.traits.has(rule.trait)) {
                forced = &rule;
                break;
            }
        }
        const bool conflict =
            forced != nullptr && policy.choice.carrier && *policy.choice.carrier != forced->carrier;
        const std::vector<carrier_offer> left = eligible(directory, *offers, policy, forced);

        // A choice exists exactly when brute force finds a candidate.
        CHECK(picked.has_value() == (!conflict && !left.empty()));
        if (!picked) {
            CHECK_FALSE(picked.error().field.empty());
            CHECK_FALSE(picked.error().message.empty());
            continue;
        }
        ++chosen_count;
        const carrier_choice& c = *picked;
        // Forced rules always win.
        if (forced != nullptr) {
            CHECK(c.carrier == forced->carrier);
            CHECK(c.reason == selection_reason::forced);
            CHECK(c.forced_by == forced->trait);
        }
        // The carrier takes these goods to this address, at the quoted price.
        const carrier_spec& spec = spec_of(directory, c.carrier);
        for (const goods_trait t : orderly::all_goods_traits) {
            CHECK_FALSE((q.parcel.traits.has(t) && spec.refuses.has(t)));
        }
        CHECK(directory.accepts(c.carrier, q).has_value());
        const auto requoted = directory.quote(c.carrier, c.service, q);
        REQUIRE(requoted.has_value());
        CHECK(*requoted == c.quote);
        if (policy.deadline) {
            CHECK(c.quote.transit_days <= policy.deadline->max_transit_days());
        }
        // Never beaten by another candidate under its rule and tie-breaks.
        for (const carrier_offer& other : left) {
            const auto& p = other.quote->price;
            const std::int32_t d = other.quote->transit_days;
            const auto key = [&](const money& price, std::int32_t days, const carrier_id& cid,
                                 service_level s) {
                const std::int64_t minor = fen_of(price);
                const std::int64_t first = policy.rule == selection_rule::cheapest ? minor : days;
                const std::int64_t second = policy.rule == selection_rule::cheapest ? days : minor;
                return std::tuple(first, second, cid.value(), static_cast<int>(s));
            };
            CHECK(key(c.quote.price, c.quote.transit_days, c.carrier, c.service) <=
                  key(p, d, other.carrier, other.service));
        }
        // The order of offers never matters.
        std::vector<carrier_offer> shuffled = *offers;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        const auto again = orderly::select_carrier(*listed, shuffled, q, policy);
        REQUIRE(again.has_value());
        CHECK(*again == c);
    }
    MESSAGE("choices made: ", chosen_count, " of 3000");
    CHECK(chosen_count > 500);
}

TEST_CASE("the remaining refusals of selection and of the port's defaults") {
    const shipment_query q = query_to("Jiangsu", grams(800));
    const auto listed = infos({"a", "b"});
    const std::vector<carrier_offer> only_a = {offer("a", service_level::standard, 100, 1)};

    // An out-of-range rule (a value read from a store) is refused, not guessed.
    CHECK(refusal_of(
              orderly::select_carrier(listed, only_a, q, {.rule = static_cast<selection_rule>(0)}),
              "rule") == errc::invalid_value);
    // The customer's carrier has no offer at all for this parcel.
    const auto silent =
        orderly::select_carrier(listed, only_a, q, {.choice = {.carrier = id("b")}});
    CHECK(refusal_of(silent, "choice.carrier") == errc::invalid_value);
    CHECK(silent.error().message == "b offers no service for this parcel");
    // Nor has the forced carrier.
    CHECK(refusal_of(orderly::select_carrier(
                         listed, only_a, query_to("Jiangsu", grams(800, {.bulky = true})),
                         {.forced = {{.trait = goods_trait::bulky, .carrier = id("b")}}}),
                     "forced[0].carrier") == errc::invalid_value);

    // The default accepts() on a carrier listing no service.
    class empty_directory final : public carrier_directory {
    public:
        [[nodiscard]] orderly::result<std::vector<carrier_info>> carriers() const override {
            return std::vector<carrier_info>{{id("idle"), "Idle Carrier", {}, {}}};
        }
        [[nodiscard]] orderly::result<shipping_quote> quote(const carrier_id&, service_level,
                                                            const shipment_query&) const override {
            return orderly::error{errc::not_found, "service", "no service"};
        }
        [[nodiscard]] orderly::result<std::string> issue_tracking_number(const waybill&) override {
            return orderly::error{errc::not_found, "carrier", "no bookings"};
        }
    };
    const empty_directory idle;
    CHECK(refusal_of(idle.accepts(id("idle"), q), "service") == errc::not_found);
    const auto none = idle.offers(q);
    REQUIRE(none.has_value());
    CHECK(none->empty());
    CHECK(refusal_of(orderly::select_carrier(idle, q, {}), "carrier") == errc::not_found);

    // A draft prints without a number.
    waybill draft{.carrier = id("sf"), .service = service_level::standard};
    draft.parcel.weight_g = 10;
    CHECK(fmt::format("{}", draft).starts_with("(no tracking number) sf standard, order "));
}
