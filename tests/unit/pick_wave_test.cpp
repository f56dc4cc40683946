// Pick waves: natural bin order, grouping by warehouse, zone and
// cut-off, wave limits, pick lists, refusals, and a seeded randomized check.
#include <orderly/fulfilment/pick_wave.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using orderly::carrier_id;
using orderly::errc;
using orderly::pick_line;
using orderly::pick_wave;
using orderly::pick_wave_options;
using orderly::quantity;
using orderly::ready_shipment;
using orderly::shipment_id;
using orderly::sku_id;
using orderly::timestamp;
using orderly::warehouse_id;

namespace {

quantity units(std::int64_t n) {
    const auto made = quantity::of(n);
    REQUIRE(made.has_value());
    return *made;
}

timestamp at_hour(std::int64_t hour) {
    return orderly::from_unix_ms(1'700'000'000'000 + hour * 3'600'000);
}

pick_line item(std::string sku, std::int64_t n, std::string bin) {
    return pick_line{sku_id(std::move(sku)), units(n), std::move(bin)};
}

ready_shipment shipment(std::uint64_t id, std::vector<pick_line> lines,
                        std::int64_t cutoff_hour = 1, std::string warehouse = "HZ",
                        std::string zone = "A", std::string carrier = "SF") {
    return ready_shipment{.id = shipment_id(id),
                          .warehouse = warehouse_id(std::move(warehouse)),
                          .zone = std::move(zone),
                          .carrier = carrier_id(std::move(carrier)),
                          .cutoff = at_hour(cutoff_hour),
                          .lines = std::move(lines)};
}

std::vector<std::uint64_t> ids_of(const pick_wave& wave) {
    std::vector<std::uint64_t> out;
    for (const shipment_id id : wave.shipments) {
        out.push_back(id.value());
    }
    return out;
}

template <class T>
errc refusal_of(const orderly::result<T>& r, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

bool natural_less(const std::string& a, const std::string& b) {
    return orderly::natural_compare(a, b) < 0;
}

}  // namespace

TEST_CASE("bins sort in natural order: numbers by value, the rest by bytes") {
    using orderly::natural_compare;
    CHECK(natural_compare("A-2-10", "A-10-1") < 0);
    CHECK(natural_compare("A-2-9", "A-2-10") < 0);
    CHECK(natural_compare("A-10-1", "A-2-10") > 0);
    CHECK(natural_compare("A-2-10", "A-2-10") == 0);
    CHECK(natural_compare("A", "A-1") < 0);
    CHECK(natural_compare("", "A") < 0);
    CHECK(natural_compare("", "") == 0);
    CHECK(natural_compare("A-9", "B-1") < 0);
    CHECK(natural_compare("B-1", "a-1") < 0);   // bytes: capitals first
    CHECK(natural_compare("A-1", "A1") < 0);    // '-' before digits
    CHECK(natural_compare("A1", "AA") < 0);     // digits before letters
    CHECK(natural_compare("A-01", "A-1") < 0);  // equal numbers: bytes decide
    CHECK(natural_compare("A-1", "A-01") > 0);
    CHECK(natural_compare("A-007", "A-7") < 0);
    CHECK(natural_compare("A-007", "A-8") < 0);
    CHECK(natural_compare("A-99999999999999999999999", "A-100000000000000000000000") < 0);

    std::vector<std::string> bins = {"B-1-1",  "A-10-1", "A-2-10", "A-2-9", "A-1-1",
                                     "A-02-3", "A-2-3",  "Z",      "A"};
    std::sort(bins.begin(), bins.end(), natural_less);
    CHECK(bins == std::vector<std::string>{"A", "A-1-1", "A-02-3", "A-2-3", "A-2-9", "A-2-10",
                                           "A-10-1", "B-1-1", "Z"});
}

TEST_CASE("shipments group by warehouse, zone and cut-off, earlier cut-offs first") {
    const std::vector<ready_shipment> shipments = {
        shipment(1, {item("tea", 1, "A-1-1")}, 5, "HZ", "A"),
        shipment(2, {item("tea", 1, "A-1-1")}, 3, "HZ", "A"),
        shipment(3, {item("cup", 1, "B-1-1")}, 3, "HZ", "B"),
        shipment(4, {item("cup", 1, "B-1-1")}, 3, "SH", "A"),
        shipment(5, {item("tea", 2, "A-1-2")}, 3, "HZ", "A", "YTO"),
        shipment(6, {item("pot", 1, "A-1-1")}, 5, "HZ", "A"),
    };
    const auto plan = orderly::plan_pick_waves(shipments, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->size() == 4);
    const std::vector<
        std::tuple<std::int64_t, std::string, std::string, std::vector<std::uint64_t>>>
        expected = {{3, "HZ", "A", {2, 5}},
                    {3, "HZ", "B", {3}},
                    {3, "SH", "A", {4}},
                    {5, "HZ", "A", {1, 6}}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const pick_wave& wave = (*plan)[i];
        CHECK(wave.number == i + 1);
        CHECK(wave.cutoff == at_hour(std::get<0>(expected[i])));
        CHECK(wave.warehouse == warehouse_id(std::get<1>(expected[i])));
        CHECK(wave.zone == std::get<2>(expected[i]));
        CHECK(ids_of(wave) == std::get<3>(expected[i]));
        CHECK_FALSE(wave.oversize);
    }
    // Carriers with one cut-off share a wave unless asked to keep apart.
    CHECK((*plan)[0].carriers == std::vector<carrier_id>{carrier_id("SF"), carrier_id("YTO")});
    const auto apart = orderly::plan_pick_waves(
        shipments,
        {.max_shipments_per_wave = 24, .max_units_per_wave = 500, .separate_carriers = true});
    REQUIRE(apart.has_value());
    REQUIRE(apart->size() == 5);
    CHECK(ids_of((*apart)[0]) == std::vector<std::uint64_t>{2});
    CHECK(ids_of((*apart)[1]) == std::vector<std::uint64_t>{5});
    CHECK((*apart)[1].carriers == std::vector<carrier_id>{carrier_id("YTO")});

    CHECK(orderly::plan_pick_waves({}, {}).has_value());
    CHECK(orderly::plan_pick_waves({}, {})->empty());
}

TEST_CASE("waves keep to their limits: each shipment goes to the first wave with room") {
    // Units 6, 6, 4, 3 with at most 10 units: [6 4], [6 3].
    const std::vector<ready_shipment> shipments = {
        shipment(1, {item("tea", 6, "A-1")}), shipment(2, {item("tea", 6, "A-1")}),
        shipment(3, {item("tea", 4, "A-1")}), shipment(4, {item("tea", 3, "A-1")})};
    const auto by_units = orderly::plan_pick_waves(
        shipments,
        {.max_shipments_per_wave = 24, .max_units_per_wave = 10, .separate_carriers = false});
    REQUIRE(by_units.has_value());
    REQUIRE(by_units->size() == 2);
    CHECK(ids_of((*by_units)[0]) == std::vector<std::uint64_t>{1, 3});
    CHECK((*by_units)[0].units == 10);
    CHECK(ids_of((*by_units)[1]) == std::vector<std::uint64_t>{2, 4});
    CHECK((*by_units)[1].units == 9);

    const auto by_count = orderly::plan_pick_waves(
        shipments,
        {.max_shipments_per_wave = 3, .max_units_per_wave = 500, .separate_carriers = false});
    REQUIRE(by_count.has_value());
    REQUIRE(by_count->size() == 2);
    CHECK(ids_of((*by_count)[0]) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(ids_of((*by_count)[1]) == std::vector<std::uint64_t>{4});
}

TEST_CASE("a shipment larger than a wave gets a wave of its own, marked oversize") {
    const std::vector<ready_shipment> shipments = {shipment(1, {item("tea", 2, "A-1")}),
                                                   shipment(2, {item("sofa", 30, "Z-1")}),
                                                   shipment(3, {item("tea", 3, "A-1")})};
    const auto plan = orderly::plan_pick_waves(
        shipments,
        {.max_shipments_per_wave = 24, .max_units_per_wave = 10, .separate_carriers = false});
    REQUIRE(plan.has_value());
    REQUIRE(plan->size() == 2);
    CHECK(ids_of((*plan)[0]) == std::vector<std::uint64_t>{1, 3});
    CHECK_FALSE((*plan)[0].oversize);
    CHECK(ids_of((*plan)[1]) == std::vector<std::uint64_t>{2});
    CHECK((*plan)[1].oversize);
    CHECK((*plan)[1].units == 30);
}

TEST_CASE("a pick list has one row per bin and SKU, by bin, with the shipments it goes to") {
    const std::vector<ready_shipment> shipments = {
        shipment(7, {item("tea", 2, "A-10-1"), item("cup", 1, "A-2-10"), item("tea", 1, "A-10-1")}),
        shipment(3, {item("cup", 4, "A-2-10"), item("tea", 5, "B-1-1")}),
        shipment(5, {item("pot", 1, "A-2-9"), item("tea", 1, "A-10-1")}),
    };
    const auto plan = orderly::plan_pick_waves(shipments, {});
    REQUIRE(plan.has_value());
    REQUIRE(plan->size() == 1);
    const pick_wave& wave = plan->front();
    CHECK(ids_of(wave) == std::vector<std::uint64_t>{3, 5, 7});
    CHECK(wave.units == 15);
    std::vector<std::tuple<std::string, std::string, std::int64_t,
                           std::vector<std::pair<std::uint64_t, std::int64_t>>>>
        rows;
    for (const auto& row : wave.pick_list) {
        std::vector<std::pair<std::uint64_t, std::int64_t>> shares;
        for (const auto& share : row.shipments) {
            shares.emplace_back(share.shipment.value(), share.units.units());
        }
        rows.emplace_back(row.bin, row.sku.value(), row.units.units(), shares);
    }
    CHECK(rows == decltype(rows){{"A-2-9", "pot", 1, {{5, 1}}},
                                 {"A-2-10", "cup", 5, {{3, 4}, {7, 1}}},
                                 {"A-10-1", "tea", 4, {{5, 1}, {7, 3}}},
                                 {"B-1-1", "tea", 5, {{3, 5}}}});

    // The same SKU in two bins is two rows; rows of one bin go by SKU.
    const std::vector<ready_shipment> two_bins = {
        shipment(1, {item("tea", 1, "A-1"), item("tea", 1, "A-2"), item("cup", 1, "A-1")})};
    const auto split = orderly::plan_pick_waves(two_bins, {});
    REQUIRE(split.has_value());
    REQUIRE(split->front().pick_list.size() == 3);
    CHECK(split->front().pick_list[0].sku == sku_id("cup"));
    CHECK(split->front().pick_list[1].sku == sku_id("tea"));
    CHECK(split->front().pick_list[2].bin == "A-2");
}

TEST_CASE("bad shipments and options are refused with the field at fault") {
    const auto refuse = [](std::vector<ready_shipment> shipments, std::string_view field,
                           pick_wave_options options = {}) {
        return refusal_of(orderly::plan_pick_waves(shipments, options), field);
    };
    const ready_shipment good = shipment(1, {item("tea", 1, "A-1")});
    REQUIRE(orderly::plan_pick_waves(std::vector{good}, {}).has_value());

    CHECK(refuse(
              {good}, "max_shipments_per_wave",
              {.max_shipments_per_wave = 0, .max_units_per_wave = 1, .separate_carriers = false}) ==
          errc::invalid_value);
    CHECK(refuse({good}, "max_shipments_per_wave",
                 {.max_shipments_per_wave = orderly::pick_wave_limits::max_shipments + 1,
                  .max_units_per_wave = 1,
                  .separate_carriers = false}) == errc::invalid_value);
    CHECK(refuse(
              {good}, "max_units_per_wave",
              {.max_shipments_per_wave = 1, .max_units_per_wave = 0, .separate_carriers = false}) ==
          errc::invalid_value);
    CHECK(refuse({good}, "max_units_per_wave",
                 {.max_shipments_per_wave = 1,
                  .max_units_per_wave = orderly::pick_wave_limits::max_units_per_wave + 1,
                  .separate_carriers = false}) == errc::invalid_value);

    ready_shipment s = good;
    s.id = shipment_id();
    CHECK(refuse({good, s}, "shipments[1].id") == errc::missing_value);
    CHECK(refuse({good, shipment(2, {item("tea", 1, "A-1")}), good}, "shipments[2].id") ==
          errc::invalid_value);
    s = good;
    s.warehouse = warehouse_id();
    CHECK(refuse({s}, "shipments[0].warehouse") == errc::missing_value);
    s = good;
    s.zone = "zone A";
    CHECK(refuse({s}, "shipments[0].zone") == errc::invalid_value);
    s.zone = std::string(orderly::pick_wave_limits::location_bytes + 1, 'Z');
    CHECK(refuse({s}, "shipments[0].zone") == errc::invalid_value);
    s = good;
    s.carrier = carrier_id("S F");
    CHECK(refuse({s}, "shipments[0].carrier") == errc::invalid_value);
    s = good;
    s.lines.clear();
    CHECK(refuse({s}, "shipments[0].lines") == errc::missing_value);
    s.lines.assign(orderly::pick_wave_limits::max_lines_per_shipment + 1, item("tea", 1, "A-1"));
    CHECK(refuse({s}, "shipments[0].lines") == errc::invalid_value);
    s = good;
    s.lines.push_back(item("", 1, "A-1"));
    CHECK(refuse({s}, "shipments[0].lines[1].sku") == errc::missing_value);
    s = good;
    s.lines.push_back(pick_line{sku_id("cup"), quantity{}, "A-1"});
    CHECK(refuse({s}, "shipments[0].lines[1].units") == errc::invalid_value);
    s = good;
    s.lines.push_back(item("cup", orderly::pick_wave_limits::max_units_per_line + 1, "A-1"));
    CHECK(refuse({s}, "shipments[0].lines[1].units") == errc::invalid_value);
    s = good;
    s.lines.push_back(item("cup", 1, ""));
    CHECK(refuse({s}, "shipments[0].lines[1].bin") == errc::missing_value);
    s = good;
    s.lines.push_back(item("cup", 1, "A 1"));
    CHECK(refuse({s}, "shipments[0].lines[1].bin") == errc::invalid_value);

    std::vector<ready_shipment> many;
    for (std::uint64_t i = 1; i <= orderly::pick_wave_limits::max_shipments + 1; ++i) {
        many.push_back(shipment(i, {item("tea", 1, "A-1")}));
    }
    CHECK(refuse(many, "shipments") == errc::invalid_value);
}

// ---- seeded randomized invariants -----------------------------------------

namespace {

std::vector<ready_shipment> random_shipments(std::mt19937_64& rng) {
    const auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    const std::vector<std::string> zones = {"", "A", "B2", "B10"};
    std::vector<ready_shipment> out;
    const std::int64_t count = pick(0, 120);
    std::vector<std::uint64_t> ids(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ids[i] = static_cast<std::uint64_t>(pick(1, 1'000'000)) * 1000 + i;  // unique
    }
    for (const std::uint64_t id : ids) {
        std::vector<pick_line> lines;
        const std::int64_t n = pick(1, 5);
        for (std::int64_t l = 0; l < n; ++l) {
            lines.push_back(item(
                fmt::format("sku{}", pick(0, 9)), pick(1, 9),
                fmt::format("{}-{}-{}", pick(0, 1) == 0 ? "A" : "B", pick(1, 12), pick(1, 12))));
        }
        out.push_back(shipment(id, std::move(lines), pick(0, 3), pick(0, 1) == 0 ? "HZ" : "SH",
                               zones[static_cast<std::size_t>(pick(0, 3))],
                               pick(0, 2) == 0 ? "SF" : (pick(0, 1) == 0 ? "YTO" : "ZTO")));
    }
    return out;
}

std::int64_t units_of(const ready_shipment& s) {
    std::int64_t total = 0;
    for (const auto& l : s.lines) {
        total += l.units.units();
    }
    return total;
}

void check_waves(const std::vector<ready_shipment>& shipments, const pick_wave_options& options,
                 const std::vector<pick_wave>& plan) {
    std::map<std::uint64_t, const ready_shipment*> by_id;
    for (const auto& s : shipments) {
        by_id[s.id.value()] = &s;
    }
    std::map<std::uint64_t, int> seen;
    for (std::size_t w = 0; w < plan.size(); ++w) {
        const pick_wave& wave = plan[w];
        INFO("wave ", wave.number);
        CHECK(wave.number == w + 1);
        REQUIRE_FALSE(wave.shipments.empty());
        if (w > 0) {
            CHECK(plan[w - 1].cutoff <= wave.cutoff);
        }
        CHECK(std::is_sorted(wave.shipments.begin(), wave.shipments.end()));
        CHECK(wave.shipments.size() <= options.max_shipments_per_wave);
        std::int64_t units = 0;
        std::map<std::pair<std::string, std::string>, std::int64_t> wanted;
        for (const shipment_id id : wave.shipments) {
            ++seen[id.value()];
            const ready_shipment& s = *by_id.at(id.value());
            CHECK(s.warehouse == wave.warehouse);
            CHECK(s.zone == wave.zone);
            CHECK(s.cutoff == wave.cutoff);
            CHECK(std::binary_search(wave.carriers.begin(), wave.carriers.end(), s.carrier));
            if (options.separate_carriers) {
                CHECK(wave.carriers.size() == 1);
            }
            units += units_of(s);
            for (const auto& l : s.lines) {
                wanted[{l.bin, l.sku.value()}] += l.units.units();
            }
        }
        CHECK(wave.units == units);
        if (wave.oversize) {
            CHECK(wave.shipments.size() == 1);
            CHECK(units > options.max_units_per_wave);
        } else {
            CHECK(units <= options.max_units_per_wave);
        }
        // Pick-list totals equal the sum of the shipments' lines.
        std::map<std::pair<std::string, std::string>, std::int64_t> listed;
        for (std::size_t r = 0; r < wave.pick_list.size(); ++r) {
            const auto& row = wave.pick_list[r];
            std::int64_t shared = 0;
            for (const auto& share : row.shipments) {
                shared += share.units.units();
                CHECK(std::binary_search(wave.shipments.begin(), wave.shipments.end(),
                                         share.shipment));
            }
            CHECK(shared == row.units.units());
            CHECK(listed.emplace(std::pair{row.bin, row.sku.value()}, row.units.units()).second);
            if (r > 0) {
                const auto& before = wave.pick_list[r - 1];
                const auto order = orderly::natural_compare(before.bin, row.bin);
                CHECK((order < 0 || (order == 0 && before.sku < row.sku)));
            }
        }
        CHECK(listed == wanted);
    }
    CHECK(seen.size() == shipments.size());
    for (const auto& entry : seen) {  // (Clang 14 cannot capture structured bindings.)
        CHECK_MESSAGE(entry.second == 1, "shipment ", entry.first);
    }
}

}  // namespace

TEST_CASE("randomized: waves hold every shipment once, keep their limits, and add up") {
    constexpr std::uint64_t seed = 20261202;
    constexpr int cases = 200;
    MESSAGE("pick wave seed ", seed, ", ", cases, " cases");
    std::mt19937_64 rng(seed);
    std::size_t waves = 0;
    std::size_t oversize = 0;
    for (int n = 0; n < cases; ++n) {
        INFO("seed ", seed, ", case ", n);
        const std::vector<ready_shipment> shipments = random_shipments(rng);
        const pick_wave_options options{
            .max_shipments_per_wave = std::uniform_int_distribution<std::size_t>(1, 12)(rng),
            .max_units_per_wave = std::uniform_int_distribution<std::int64_t>(5, 150)(rng),
            .separate_carriers = std::uniform_int_distribution<int>(0, 1)(rng) == 1};
        const auto plan = orderly::plan_pick_waves(shipments, options);
        REQUIRE(plan.has_value());
        check_waves(shipments, options, *plan);
        waves += plan->size();
        oversize += static_cast<std::size_t>(std::count_if(
            plan->begin(), plan->end(), [](const pick_wave& w) { return w.oversize; }));

        // The same shipments in another order give the same waves.
        std::vector<ready_shipment> shuffled = shipments;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        const auto again = orderly::plan_pick_waves(shuffled, options);
        REQUIRE(again.has_value());
        CHECK(*again == *plan);
    }
    MESSAGE(waves, " waves, ", oversize, " oversize");
    CHECK(oversize > 0);
}
