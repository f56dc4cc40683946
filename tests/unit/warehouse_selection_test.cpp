// Warehouse selection: coverage tables, the two built-in
// strategies, shortfalls, shipping-method splits, custom selectors, and a
// seeded randomized check of the plan's invariants.
#include <orderly/fulfilment/warehouse.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using orderly::address;
using orderly::allocation_plan;
using orderly::allocation_request;
using orderly::errc;
using orderly::fulfilment_line;
using orderly::fulfilment_network;
using orderly::goods_trait;
using orderly::goods_traits;
using orderly::quantity;
using orderly::selection_problem;
using orderly::shipping_method_table;
using orderly::sku_id;
using orderly::stock_level;
using orderly::warehouse;
using orderly::warehouse_id;
using orderly::warehouse_region;

namespace {

quantity units(std::int64_t n) {
    const auto made = quantity::of(n);
    REQUIRE(made.has_value());
    return *made;
}

address sender() {
    return address{.recipient = "仓库管理员",
                   .phone = "13812345678",
                   .country = "CN",
                   .province = "浙江省",
                   .city = "杭州市",
                   .district = "余杭区",
                   .street = "文一西路 1 号",
                   .postcode = "311100"};
}

warehouse house(const std::string& id, std::vector<warehouse_region> regions) {
    return warehouse{.id = warehouse_id(id),
                     .name = "Warehouse " + id,
                     .sender = sender(),
                     .regions = std::move(regions)};
}

// A warehouse serving all of China at `distance`.
warehouse china(const std::string& id, std::int64_t distance) {
    return house(id, {{"CN", "", distance}});
}

address to(std::string country, std::string province) {
    address a;
    a.country = std::move(country);
    a.province = std::move(province);
    return a;
}

fulfilment_line line(std::string sku, std::int64_t n, goods_traits traits = {}) {
    return fulfilment_line{sku_id(std::move(sku)), units(n), traits};
}

stock_level stock(std::string sku, std::string where, std::int64_t on_hand,
                  std::int64_t reserved = 0, std::int64_t safety = 0) {
    return stock_level{sku_id(std::move(sku)), warehouse_id(std::move(where)), units(on_hand),
                       units(reserved), units(safety)};
}

// The refusal's code after checking its field and that it has words.
template <class T>
errc refusal_of(const orderly::result<T>& r, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

// (line, warehouse, units) of every piece of a plan, sorted.
std::vector<std::tuple<std::size_t, std::string, std::int64_t>> pieces(const allocation_plan& p) {
    std::vector<std::tuple<std::size_t, std::string, std::int64_t>> out;
    for (const auto& part : p.parts) {
        for (const auto& l : part.lines) {
            out.emplace_back(l.line, part.warehouse.value(), l.units.units());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> warehouses_of(const allocation_plan& p) {
    std::vector<std::string> out;
    for (const auto& part : p.parts) {
        if (out.empty() || out.back() != part.warehouse.value()) {
            out.push_back(part.warehouse.value());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("a warehouse serves a province by its own row, else by its country's row") {
    const warehouse w = house("HZ", {{"CN", "", 900}, {"CN", "浙江省", 10}, {"US", "CA", 5000}});
    CHECK(orderly::distance_to(w, "CN", "浙江省") == 10);
    CHECK(orderly::distance_to(w, "CN", "四川省") == 900);
    CHECK(orderly::distance_to(w, "CN", "") == 900);
    CHECK(orderly::distance_to(w, "US", "CA") == 5000);
    CHECK_FALSE(orderly::distance_to(w, "US", "NY").has_value());
    CHECK_FALSE(orderly::distance_to(w, "US", "").has_value());
    CHECK_FALSE(orderly::distance_to(w, "JP", "").has_value());
    CHECK(orderly::validate(w).has_value());
}

TEST_CASE("validate refuses a warehouse with a bad part, naming it") {
    warehouse w = china("HZ", 1);
    w.id = warehouse_id();
    CHECK(refusal_of(orderly::validate(w), "id") == errc::missing_value);
    w.id = warehouse_id("H Z");
    CHECK(refusal_of(orderly::validate(w), "id") == errc::invalid_value);

    w = china("HZ", 1);
    w.name = "  ";
    CHECK(refusal_of(orderly::validate(w), "name") == errc::missing_value);

    w = china("HZ", 1);
    w.sender.phone = "12";
    CHECK(refusal_of(orderly::validate(w), "sender.phone") == errc::invalid_value);

    w = china("HZ", 1);
    w.regions.clear();
    CHECK(refusal_of(orderly::validate(w), "regions") == errc::missing_value);

    w = house("HZ", {{"CN", "", 1}, {"XX", "", 1}});
    CHECK(refusal_of(orderly::validate(w), "regions[1].country") == errc::invalid_value);
    w = house("HZ", {{"", "", 1}});
    CHECK(refusal_of(orderly::validate(w), "regions[0].country") == errc::missing_value);
    w = house("HZ", {{"CN", "", -1}});
    CHECK(refusal_of(orderly::validate(w), "regions[0].distance") == errc::invalid_value);
    w = house("HZ", {{"CN", "", orderly::allocation_limits::max_distance + 1}});
    CHECK(refusal_of(orderly::validate(w), "regions[0].distance") == errc::invalid_value);
    w = house("HZ", {{"CN", "a\nb", 1}});
    CHECK(refusal_of(orderly::validate(w), "regions[0].province") == errc::invalid_value);

    w = house("HZ", {{"CN", "浙江省", 1}, {"CN", "", 2}, {"US", "", 3}, {"CN", "浙江省", 4}});
    const auto repeated = orderly::validate(w);
    CHECK(refusal_of(repeated, "regions[3]") == errc::invalid_value);
    CHECK(repeated.error().message.find("regions[0]") != std::string::npos);

    w = china("HZ", 1);
    w.regions.assign(orderly::allocation_limits::max_regions_per_warehouse + 1, {"CN", "", 1});
    CHECK(refusal_of(orderly::validate(w), "regions") == errc::invalid_value);
}

TEST_CASE("validate(network) checks every warehouse in full, planning only what it needs") {
    fulfilment_network network{.warehouses = {china("A", 1), china("B", 2)}};
    CHECK(orderly::validate(network).has_value());
    const allocation_request request{
        .lines = {line("tea", 1)}, .ship_to = to("CN", ""), .stock = {stock("tea", "A", 1)}};

    network.warehouses[1].sender.phone = "";
    CHECK(refusal_of(orderly::validate(network), "warehouses[1].sender.phone") ==
          errc::missing_value);
    CHECK(orderly::plan_allocation(request, network).has_value());  // not re-checked per order

    network.warehouses[1] = house("B", {{"CN", "", 1}, {"CN", "", 2}});
    CHECK(refusal_of(orderly::validate(network), "warehouses[1].regions[1]") ==
          errc::invalid_value);
    // The first whole-country row counts until the table is fixed.
    CHECK(orderly::distance_to(network.warehouses[1], "CN", "") == 1);

    network.warehouses[1] = china("A", 2);
    CHECK(refusal_of(orderly::validate(network), "warehouses[1].id") == errc::invalid_value);
    network.warehouses.assign(orderly::allocation_limits::max_warehouses + 1, china("A", 1));
    CHECK(refusal_of(orderly::validate(network), "warehouses") == errc::invalid_value);
    network.warehouses = {china("A", 1)};
    network.methods.default_method = "";
    CHECK(refusal_of(orderly::validate(network), "methods.default_method") == errc::missing_value);
}

TEST_CASE("one warehouse that can ship everything is chosen: the nearest, ties by id") {
    const fulfilment_network network{
        .warehouses = {china("FAR", 900), china("B", 100), china("A", 100), china("SMALL", 1)}};
    allocation_request request{
        .lines = {line("tea", 2), line("cup", 1)},
        .ship_to = to("CN", "浙江省"),
        .stock = {stock("tea", "FAR", 5), stock("cup", "FAR", 5), stock("tea", "B", 5),
                  stock("cup", "B", 5), stock("tea", "A", 5), stock("cup", "A", 5),
                  stock("tea", "SMALL", 5)}};
    for (const auto& plan :
         {orderly::plan_allocation(request, network),
          orderly::plan_allocation(request, network, orderly::select_single_warehouse)}) {
        REQUIRE(plan.has_value());
        REQUIRE(plan->parts.size() == 1);
        CHECK(plan->parts[0].warehouse == warehouse_id("A"));
        CHECK(plan->parts[0].distance == 100);
        CHECK(plan->parts[0].shipping_method == "standard");
        CHECK(plan->warehouse_count() == 1);
        CHECK(pieces(*plan) == std::vector<std::tuple<std::size_t, std::string, std::int64_t>>{
                                   {0, "A", 2}, {1, "A", 1}});
    }
}

TEST_CASE("a warehouse that does not serve the ship-to region is never chosen") {
    const fulfilment_network network{
        .warehouses = {house("LA", {{"US", "", 1}}), house("SZ", {{"CN", "广东省", 5}}),
                       house("CD", {{"CN", "四川省", 5}, {"CN", "", 50}})}};
    allocation_request request{
        .lines = {line("tea", 1)},
        .ship_to = to("CN", "浙江省"),
        .stock = {stock("tea", "LA", 9), stock("tea", "SZ", 9), stock("tea", "CD", 9)}};
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    CHECK(warehouses_of(*plan) == std::vector<std::string>{"CD"});
    CHECK(plan->parts[0].distance == 50);

    request.ship_to = to("JP", "");
    const auto nowhere = orderly::plan_allocation(request, network);
    CHECK(refusal_of(nowhere, "ship_to") == errc::invalid_value);
    CHECK(nowhere.error().message.find("JP") != std::string::npos);
}

TEST_CASE("a shortfall names the line and how many units are short") {
    const fulfilment_network network{.warehouses = {china("A", 1), china("B", 2)}};
    allocation_request request{.lines = {line("tea", 1), line("cup", 1), line("pot", 7)},
                               .ship_to = to("CN", "浙江省"),
                               .stock = {stock("tea", "A", 1), stock("cup", "B", 1),
                                         stock("pot", "A", 3), stock("pot", "B", 4, 1, 1)}};
    const auto plan = orderly::plan_allocation(request, network);
    CHECK(refusal_of(plan, "lines[2].units") == errc::insufficient_stock);
    CHECK(plan.error().message ==
          "7 units of SKU pot are ordered, but the warehouses serving CN, 浙江省 have 5 "
          "available: 2 short");

    // Two lines of one SKU share its stock: the second is the one short.
    request.lines = {line("pot", 4), line("tea", 1), line("pot", 2)};
    const auto shared = orderly::plan_allocation(request, network);
    CHECK(refusal_of(shared, "lines[2].units") == errc::insufficient_stock);
    CHECK(shared.error().message.find("1 short") != std::string::npos);

    // A SKU no serving warehouse holds at all.
    request.lines = {line("spoon", 1)};
    const auto none = orderly::plan_allocation(request, network);
    CHECK(refusal_of(none, "lines[0].units") == errc::insufficient_stock);
    CHECK(none.error().message.find("1 unit of SKU spoon is ordered") != std::string::npos);
}

TEST_CASE("stock rows: availability is on hand minus reserved minus safety, never below zero") {
    const fulfilment_network network{.warehouses = {china("A", 1), china("B", 2)}};
    allocation_request request{.lines = {line("tea", 3)},
                               .ship_to = to("CN", ""),
                               .stock = {stock("tea", "A", 5, 2, 1), stock("tea", "B", 1, 0, 5),
                                         stock("tea", "ELSEWHERE", 100), stock("other", "A", 100)}};
    CHECK(refusal_of(orderly::plan_allocation(request, network), "lines[0].units") ==
          errc::insufficient_stock);
    request.lines = {line("tea", 2)};
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    CHECK(warehouses_of(*plan) == std::vector<std::string>{"A"});

    request.stock.push_back(stock("tea", "A", 1));
    const auto repeated = orderly::plan_allocation(request, network);
    CHECK(refusal_of(repeated, "stock[4]") == errc::invalid_value);
    CHECK(repeated.error().message.find("stock[0]") != std::string::npos);
}

TEST_CASE("fewest parcels when no warehouse can ship everything, ties to the nearest") {
    // A and B need two warehouses; {NEAR_AB, NEAR_C} and {FAR_ABC_PART, ...}.
    const fulfilment_network network{
        .warehouses = {china("W1", 10), china("W2", 20), china("W3", 30), china("W4", 5)}};
    const allocation_request request{.lines = {line("a", 1), line("b", 1), line("c", 1)},
                                     .ship_to = to("CN", "浙江省"),
                                     .stock = {stock("a", "W1", 1), stock("b", "W1", 1),  // W1: a b
                                               stock("c", "W2", 1),                       // W2: c
                                               stock("b", "W3", 1), stock("c", "W3", 1),  // W3: b c
                                               stock("a", "W4", 1)}};  // W4: a (nearest)
    // Pairs that work: W1+W2 (30), W1+W3 (40), W4+W3 (35): W1+W2 has the least distance.
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    CHECK(plan->warehouse_count() == 2);
    CHECK(warehouses_of(*plan) == std::vector<std::string>{"W1", "W2"});
    CHECK(pieces(*plan) == std::vector<std::tuple<std::size_t, std::string, std::int64_t>>{
                               {0, "W1", 1}, {1, "W1", 1}, {2, "W2", 1}});

    // Strategy (a) refuses: no single warehouse has it all.
    const auto single =
        orderly::plan_allocation(request, network, orderly::select_single_warehouse);
    CHECK(refusal_of(single, "lines[1].units") == errc::insufficient_stock);
    CHECK(single.error().message.find("the nearest, W4, has 0 of the 1 unit of SKU b") !=
          std::string::npos);
}

TEST_CASE("a line is split only when no warehouse has all of it, nearest first") {
    const fulfilment_network network{
        .warehouses = {china("NEAR", 1), china("MID", 2), china("FAR", 3)}};
    allocation_request request{
        .lines = {line("tea", 10), line("cup", 2)},
        .ship_to = to("CN", "浙江省"),
        .stock = {stock("tea", "NEAR", 6), stock("tea", "MID", 3), stock("tea", "FAR", 7),
                  stock("cup", "NEAR", 1), stock("cup", "MID", 2)}};
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    // tea must split (nobody has 10): NEAR + FAR cover it in two warehouses but
    // then cup (whole only at MID) needs MID: 3 warehouses. MID + FAR (3 + 7)
    // also cover tea and MID has cup whole: 2 warehouses.
    CHECK(warehouses_of(*plan) == std::vector<std::string>{"MID", "FAR"});
    CHECK(pieces(*plan) == std::vector<std::tuple<std::size_t, std::string, std::int64_t>>{
                               {0, "FAR", 7}, {0, "MID", 3}, {1, "MID", 2}});

    // cup 1 is whole at NEAR and at MID: never split, even though MID ships too.
    request.lines = {line("tea", 9), line("cup", 1)};
    const auto whole = orderly::plan_allocation(request, network);
    REQUIRE(whole.has_value());
    CHECK(pieces(*whole) == std::vector<std::tuple<std::size_t, std::string, std::int64_t>>{
                                {0, "MID", 3}, {0, "NEAR", 6}, {1, "NEAR", 1}});
}

TEST_CASE("lines of one SKU are filled in line order from the nearest chosen warehouse") {
    const fulfilment_network network{.warehouses = {china("NEAR", 1), china("FAR", 2)}};
    const allocation_request request{
        .lines = {line("tea", 3), line("cup", 1), line("tea", 4)},
        .ship_to = to("CN", ""),
        .stock = {stock("tea", "NEAR", 5), stock("tea", "FAR", 5), stock("cup", "FAR", 1)}};
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    // tea (7) is split: NEAR gives 5 (line 0: 3, line 2: 2), FAR 2 (line 2).
    CHECK(pieces(*plan) == std::vector<std::tuple<std::size_t, std::string, std::int64_t>>{
                               {0, "NEAR", 3}, {1, "FAR", 1}, {2, "FAR", 2}, {2, "NEAR", 2}});
}

TEST_CASE("exact search beats the greedy set cover on the classic counter-example") {
    // Greedy takes C (4 SKUs) first, then needs A and B for s3 and s6: 3
    // (C is nearest, so its SKUs stay with it). The optimum is A + B: 2.
    const fulfilment_network network{.warehouses = {china("A", 2), china("B", 2), china("C", 1)}};
    allocation_request request;
    request.ship_to = to("CN", "");
    for (const char* sku : {"s1", "s2", "s3", "s4", "s5", "s6"}) {
        request.lines.push_back(line(sku, 1));
    }
    for (const char* sku : {"s1", "s2", "s3"}) {
        request.stock.push_back(stock(sku, "A", 1));
    }
    for (const char* sku : {"s4", "s5", "s6"}) {
        request.stock.push_back(stock(sku, "B", 1));
    }
    for (const char* sku : {"s1", "s2", "s4", "s5"}) {
        request.stock.push_back(stock(sku, "C", 1));
    }
    const auto exact = orderly::plan_allocation(request, network);
    REQUIRE(exact.has_value());
    CHECK(warehouses_of(*exact) == std::vector<std::string>{"A", "B"});

    const auto greedy = orderly::plan_allocation(request, network, [](const selection_problem& p) {
        return orderly::select_fewest_parcels(p, {.exact_up_to = 0});
    });
    REQUIRE(greedy.has_value());
    CHECK(greedy->warehouse_count() == 3);

    const auto problem = orderly::make_selection_problem(request, network);
    REQUIRE(problem.has_value());
    CHECK(refusal_of(
              orderly::select_fewest_parcels(
                  *problem, {.exact_up_to = orderly::allocation_limits::max_exact_warehouses + 1}),
              "exact_up_to") == errc::invalid_value);
}

TEST_CASE("lines needing another shipping method go into parts of their own") {
    const fulfilment_network network{.warehouses = {china("A", 1), china("B", 2)}};
    const goods_traits liquid{.liquid = true};
    const goods_traits bulky{.bulky = true};
    const goods_traits restricted_liquid{.liquid = true, .restricted = true};
    const goods_traits fragile{.fragile = true};
    allocation_request request{
        .lines = {line("oil", 1, liquid), line("sofa", 1, bulky), line("cup", 2, fragile),
                  line("spray", 1, restricted_liquid), line("tea", 1), line("wine", 1, liquid)},
        .ship_to = to("CN", ""),
        .stock = {stock("oil", "A", 5), stock("sofa", "A", 5), stock("cup", "A", 5),
                  stock("spray", "A", 5), stock("tea", "A", 5), stock("wine", "A", 5)}};
    const auto plan = orderly::plan_allocation(request, network);
    REQUIRE(plan.has_value());
    REQUIRE(plan->parts.size() == 4);
    CHECK(plan->warehouse_count() == 1);
    // The default method first, then the table's order: restricted, liquid, bulky.
    const std::vector<std::pair<std::string, std::vector<std::size_t>>> expected = {
        {"standard", {2, 4}}, {"restricted", {3}}, {"liquid", {0, 5}}, {"freight", {1}}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(plan->parts[i].warehouse == warehouse_id("A"));
        CHECK(plan->parts[i].shipping_method == expected[i].first);
        std::vector<std::size_t> lines;
        for (const auto& l : plan->parts[i].lines) {
            lines.push_back(l.line);
        }
        CHECK(lines == expected[i].second);
    }

    // The host's own table: fragile goods by courier, liquids and sprays share "special".
    fulfilment_network custom = network;
    custom.methods = shipping_method_table{.rules = {{goods_trait::fragile, "courier"},
                                                     {goods_trait::liquid, "special"},
                                                     {goods_trait::restricted, "special"}},
                                           .default_method = "parcel"};
    const auto own = orderly::plan_allocation(request, custom);
    REQUIRE(own.has_value());
    std::vector<std::pair<std::string, std::size_t>> shape;
    for (const auto& part : own->parts) {
        shape.emplace_back(part.shipping_method, part.lines.size());
    }
    CHECK(shape == std::vector<std::pair<std::string, std::size_t>>{
                       {"parcel", 2}, {"courier", 1}, {"special", 3}});
    CHECK(custom.methods.method_for(bulky) == "parcel");
    CHECK(shipping_method_table::standard().method_for(restricted_liquid) == "restricted");
}

TEST_CASE("a shipping method table with a rule that could never apply is refused") {
    shipping_method_table table = shipping_method_table::standard();
    CHECK(orderly::validate(table).has_value());
    table.rules.push_back({goods_trait::liquid, "again"});
    CHECK(refusal_of(orderly::validate(table), "rules[3].trait") == errc::invalid_value);

    table = shipping_method_table::standard();
    table.rules[1].method = "";
    CHECK(refusal_of(orderly::validate(table), "rules[1].method") == errc::missing_value);
    table = shipping_method_table::standard();
    table.default_method = std::string(orderly::allocation_limits::method_bytes + 1, 'x');
    CHECK(refusal_of(orderly::validate(table), "default_method") == errc::invalid_value);
    table = shipping_method_table::standard();
    table.rules[0].trait = static_cast<goods_trait>(99);
    CHECK(refusal_of(orderly::validate(table), "rules[0].trait") == errc::invalid_value);
    table = shipping_method_table::standard();
    table.rules.assign(orderly::allocation_limits::max_method_rules + 1, {goods_trait::bulky, "x"});
    CHECK(refusal_of(orderly::validate(table), "rules") == errc::invalid_value);

    const fulfilment_network network{
        .warehouses = {china("A", 1)},
        .methods = shipping_method_table{.rules = {}, .default_method = ""}};
    const allocation_request request{
        .lines = {line("tea", 1)}, .ship_to = to("CN", ""), .stock = {stock("tea", "A", 1)}};
    CHECK(refusal_of(orderly::plan_allocation(request, network), "methods.default_method") ==
          errc::missing_value);
}

TEST_CASE("bad requests and networks are refused with the field at fault") {
    const fulfilment_network network{.warehouses = {china("A", 1)}};
    const allocation_request good{
        .lines = {line("tea", 1)}, .ship_to = to("CN", "浙江省"), .stock = {stock("tea", "A", 1)}};
    REQUIRE(orderly::plan_allocation(good, network).has_value());

    allocation_request r = good;
    r.lines.clear();
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines") == errc::missing_value);
    r = good;
    r.lines.assign(orderly::allocation_limits::max_lines + 1, line("tea", 1));
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines") == errc::invalid_value);
    r = good;
    r.lines.push_back(fulfilment_line{sku_id("cup"), quantity{}, {}});
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines[1].units") ==
          errc::invalid_value);
    r = good;
    r.lines.push_back(line("cup", orderly::allocation_limits::max_units_per_line + 1));
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines[1].units") ==
          errc::invalid_value);
    r = good;
    r.lines.push_back(line("", 1));
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines[1].sku") == errc::missing_value);
    r = good;
    r.lines.push_back(line("tea cup", 1));
    CHECK(refusal_of(orderly::plan_allocation(r, network), "lines[1].sku") == errc::invalid_value);
    r = good;
    r.ship_to.country = "";
    CHECK(refusal_of(orderly::plan_allocation(r, network), "ship_to.country") ==
          errc::missing_value);
    r = good;
    r.ship_to.country = "China";
    CHECK(refusal_of(orderly::plan_allocation(r, network), "ship_to.country") ==
          errc::invalid_value);
    r = good;
    r.stock.assign(orderly::allocation_limits::max_stock_rows + 1, stock("x", "y", 1));
    CHECK(refusal_of(orderly::plan_allocation(r, network), "stock") == errc::invalid_value);

    fulfilment_network n = network;
    n.warehouses.push_back(china("A", 2));
    const auto twice = orderly::plan_allocation(good, n);
    CHECK(refusal_of(twice, "warehouses[1].id") == errc::invalid_value);
    n = network;
    n.warehouses.push_back(house("B", {{"CN", "", 1}, {"CN", "", -2}}));
    CHECK(refusal_of(orderly::plan_allocation(good, n), "warehouses[1].regions[1].distance") ==
          errc::invalid_value);
    n = network;
    n.warehouses.push_back(china("", 1));
    CHECK(refusal_of(orderly::plan_allocation(good, n), "warehouses[1].id") == errc::missing_value);
    n = network;
    n.warehouses.assign(orderly::allocation_limits::max_warehouses + 1, china("A", 1));
    CHECK(refusal_of(orderly::plan_allocation(good, n), "warehouses") == errc::invalid_value);
    n.warehouses.clear();
    CHECK(refusal_of(orderly::plan_allocation(good, n), "ship_to") == errc::invalid_value);
}

TEST_CASE("a custom selector is honoured, and a broken answer is refused") {
    const fulfilment_network network{.warehouses = {china("NEAR", 1), china("FAR", 9)}};
    const allocation_request request{.lines = {line("tea", 2)},
                                     .ship_to = to("CN", ""),
                                     .stock = {stock("tea", "NEAR", 5), stock("tea", "FAR", 5)}};

    const auto problem = orderly::make_selection_problem(request, network);
    REQUIRE(problem.has_value());
    REQUIRE(problem->candidates.size() == 2);
    CHECK(problem->candidates[0].warehouse == warehouse_id("NEAR"));
    CHECK(problem->candidates[0].available == std::vector<std::int64_t>{2});  // capped
    CHECK(problem->demands.size() == 1);
    CHECK(problem->region == "CN");

    // Farthest first, say to clear old stock.
    const auto farthest =
        orderly::plan_allocation(request, network, [](const selection_problem& p) {
            return orderly::result<orderly::warehouse_assignment>(
                orderly::warehouse_assignment{{{p.candidates.size() - 1, {p.demands[0].units}}}});
        });
    REQUIRE(farthest.has_value());
    CHECK(warehouses_of(*farthest) == std::vector<std::string>{"FAR"});

    const auto answer = [&](const orderly::warehouse_assignment& a) {
        return orderly::plan_allocation(request, network, [a](const selection_problem&) {
            return orderly::result<orderly::warehouse_assignment>(a);
        });
    };
    CHECK(refusal_of(answer({{{0, {1}}}}), "selector") == errc::invalid_value);  // 1 of 2
    CHECK(refusal_of(answer({{{0, {3}}}}), "selector") == errc::invalid_value);  // more than there
    CHECK(refusal_of(answer({{{0, {1}}, {0, {1}}}}), "selector") == errc::invalid_value);
    CHECK(refusal_of(answer({{{2, {2}}}}), "selector") == errc::invalid_value);
    CHECK(refusal_of(answer({{{0, {2, 0}}}}), "selector") == errc::invalid_value);
    CHECK(refusal_of(answer({{{0, {-1}}, {1, {3}}}}), "selector") == errc::invalid_value);
    CHECK(answer({{{1, {1}}, {0, {1}}}}).has_value());  // a split the selector chose

    const auto refused = orderly::plan_allocation(request, network, [](const selection_problem&) {
        return orderly::result<orderly::warehouse_assignment>(
            orderly::error{errc::forbidden, "lines", "the host's rule"});
    });
    CHECK(refusal_of(refused, "lines") == errc::forbidden);
    CHECK(refusal_of(orderly::plan_allocation(request, network, orderly::warehouse_selector{}),
                     "selector") == errc::missing_value);

    // The built-in selectors check a hand-made problem.
    selection_problem broken = *problem;
    broken.candidates[1].available = {1, 1};
    CHECK(refusal_of(orderly::select_fewest_parcels(broken), "candidates[1].available") ==
          errc::invalid_value);
    broken = *problem;
    broken.candidates[0].available = {0};
    broken.candidates[1].available = {1};
    CHECK(refusal_of(orderly::select_single_warehouse(broken), "lines[0].units") ==
          errc::insufficient_stock);
    CHECK(orderly::select_fewest_parcels(selection_problem{}).has_value());
    CHECK(orderly::select_single_warehouse(selection_problem{}).has_value());
}

// ---- seeded randomized invariants -----------------------------------------

namespace {

struct random_case {
    fulfilment_network network;
    allocation_request request;
};

random_case make_case(std::mt19937_64& rng) {
    const auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    const std::vector<std::string> provinces = {"浙江省", "江苏省", "广东省", "四川省"};
    random_case c;
    const std::int64_t houses = pick(1, 12);  // at most 12: the exact search
    for (std::int64_t w = 0; w < houses; ++w) {
        std::vector<warehouse_region> regions;
        if (pick(0, 5) > 0) {
            regions.push_back({"CN", "", pick(100, 1000)});
        }
        for (const std::string& p : provinces) {
            if (pick(0, 2) == 0) {
                regions.push_back({"CN", p, pick(0, 300)});
            }
        }
        regions.push_back({"US", "", pick(0, 1000)});
        c.network.warehouses.push_back(
            house(fmt::format("W{:02}", pick(0, 99) * 100 + w), std::move(regions)));
    }
    std::shuffle(c.network.warehouses.begin(), c.network.warehouses.end(), rng);
    c.request.ship_to =
        to("CN", pick(0, 4) == 0 ? "" : provinces[static_cast<std::size_t>(pick(0, 3))]);
    const std::int64_t skus = pick(1, 6);
    const std::int64_t lines = pick(1, 8);
    for (std::int64_t i = 0; i < lines; ++i) {
        goods_traits traits{.fragile = pick(0, 4) == 0,
                            .liquid = pick(0, 5) == 0,
                            .valuable = pick(0, 5) == 0,
                            .restricted = pick(0, 8) == 0,
                            .bulky = pick(0, 6) == 0};
        c.request.lines.push_back(
            line(fmt::format("sku{}", pick(0, skus - 1)), pick(1, 6), traits));
    }
    for (const warehouse& w : c.network.warehouses) {
        for (std::int64_t s = 0; s < skus; ++s) {
            if (pick(0, 2) == 0) {
                continue;
            }
            const std::int64_t on_hand = pick(0, 14);
            const std::int64_t reserved = pick(0, on_hand);
            c.request.stock.push_back(
                stock(fmt::format("sku{}", s), w.id.value(), on_hand, reserved, pick(0, 2)));
        }
    }
    std::shuffle(c.request.stock.begin(), c.request.stock.end(), rng);
    return c;
}

// Facts about a case, computed without the library's selection code.
struct case_facts {
    std::map<std::string, std::int64_t> demand;                             // per SKU
    std::map<std::pair<std::string, std::string>, std::int64_t> available;  // (sku, warehouse)
    std::map<std::string, std::int64_t> distance;                           // serving warehouses
};

case_facts facts_of(const random_case& c) {
    case_facts f;
    for (const auto& l : c.request.lines) {
        f.demand[l.sku.value()] += l.units.units();
    }
    for (const warehouse& w : c.network.warehouses) {
        if (auto d =
                orderly::distance_to(w, c.request.ship_to.country, c.request.ship_to.province)) {
            f.distance[w.id.value()] = *d;
        }
    }
    for (const auto& s : c.request.stock) {
        f.available[{s.sku.value(), s.warehouse.value()}] =
            std::max<std::int64_t>(0, s.on_hand.units() - s.reserved.units() - s.safety.units());
    }
    return f;
}

std::int64_t available_at(const case_facts& f, const std::string& sku, const std::string& w) {
    const auto at = f.available.find({sku, w});
    return at == f.available.end() ? 0 : at->second;
}

bool ships_all(const case_facts& f, const std::string& w) {
    return std::all_of(f.demand.begin(), f.demand.end(),
                       [&](const auto& d) { return available_at(f, d.first, w) >= d.second; });
}

// The least number of serving warehouses that can ship the order under the
// "split only when nobody has it all" rule, by brute force (few warehouses).
std::optional<std::size_t> fewest_by_brute_force(const case_facts& f) {
    std::vector<std::string> serving;
    for (const auto& [w, d] : f.distance) {
        serving.push_back(w);
    }
    // Per SKU: who holds it whole (a mask), or, when nobody does, what each has.
    std::vector<std::uint32_t> whole_masks;
    std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>> split;
    for (const auto& [sku, units] : f.demand) {
        std::uint32_t mask = 0;
        std::vector<std::int64_t> has;
        for (std::size_t i = 0; i < serving.size(); ++i) {
            has.push_back(available_at(f, sku, serving[i]));
            mask |= has.back() >= units ? (std::uint32_t{1} << i) : 0U;
        }
        if (mask != 0) {
            whole_masks.push_back(mask);
        } else {
            split.emplace_back(units, std::move(has));
        }
    }
    std::optional<std::size_t> best;
    for (std::uint32_t mask = 1; mask < (std::uint32_t{1} << serving.size()); ++mask) {
        bool works = std::all_of(whole_masks.begin(), whole_masks.end(),
                                 [mask](std::uint32_t m) { return (m & mask) != 0; });
        for (const auto& [units, has] : split) {
            std::int64_t together = 0;
            for (std::size_t i = 0; i < has.size(); ++i) {
                together += ((mask >> i) & 1U) != 0 ? has[i] : 0;
            }
            works = works && together >= units;
        }
        const auto size = static_cast<std::size_t>(__builtin_popcount(mask));
        if (works && (!best || size < *best)) {
            best = size;
        }
    }
    return best;
}

// Every invariant a successful plan must keep.
void check_plan(const random_case& c, const case_facts& f, const allocation_plan& plan) {
    std::vector<std::int64_t> per_line(c.request.lines.size(), 0);
    std::map<std::pair<std::string, std::string>, std::int64_t> taken;
    std::set<std::pair<std::string, std::string>> part_keys;
    std::map<std::string, std::set<std::string>> sources;  // sku → warehouses
    for (const auto& part : plan.parts) {
        REQUIRE_FALSE(part.lines.empty());
        CHECK(f.distance.count(part.warehouse.value()) == 1);
        CHECK(part.distance == f.distance.at(part.warehouse.value()));
        CHECK(part_keys.insert({part.warehouse.value(), part.shipping_method}).second);
        for (const auto& l : part.lines) {
            REQUIRE(l.line < c.request.lines.size());
            const fulfilment_line& ordered = c.request.lines[l.line];
            CHECK(l.sku == ordered.sku);
            CHECK(l.units.units() > 0);
            CHECK(part.shipping_method == c.network.methods.method_for(ordered.traits));
            per_line[l.line] += l.units.units();
            taken[{l.sku.value(), part.warehouse.value()}] += l.units.units();
            sources[l.sku.value()].insert(part.warehouse.value());
        }
    }
    for (std::size_t i = 0; i < per_line.size(); ++i) {
        CHECK_MESSAGE(per_line[i] == c.request.lines[i].units.units(), "line ", i);
    }
    for (const auto& entry : taken) {  // (Clang 14 cannot capture structured bindings.)
        const std::string& sku = entry.first.first;
        const std::string& where = entry.first.second;
        CHECK_MESSAGE(entry.second <= available_at(f, sku, where), sku, " at ", where);
    }
    for (const auto& entry : f.demand) {
        const std::string& sku = entry.first;
        const std::int64_t units = entry.second;
        const bool anyone_whole = std::any_of(f.distance.begin(), f.distance.end(), [&](auto& d) {
            return available_at(f, sku, d.first) >= units;
        });
        if (anyone_whole) {
            CHECK_MESSAGE(sources[sku].size() == 1, "SKU ", sku, " was split needlessly");
        }
    }
}

}  // namespace

TEST_CASE("randomized: plans cover every line exactly within availability and strategies hold") {
    constexpr std::uint64_t seed = 20261201;
    constexpr int cases = 1000;
    MESSAGE("warehouse selection seed ", seed, ", ", cases, " cases");
    std::mt19937_64 rng(seed);
    const auto greedy = [](const selection_problem& p) {
        return orderly::select_fewest_parcels(p, {.exact_up_to = 0});
    };
    int planned = 0;
    int split = 0;
    for (int n = 0; n < cases; ++n) {
        const random_case c = make_case(rng);
        const case_facts f = facts_of(c);
        INFO("seed ", seed, ", case ", n);

        bool coverable = !f.distance.empty();
        for (const auto& [sku, units] : f.demand) {
            std::int64_t total = 0;
            for (const auto& [w, d] : f.distance) {
                total += available_at(f, sku, w);
            }
            coverable = coverable && total >= units;
        }
        std::optional<std::string> nearest_single;
        for (const auto& [w, d] : f.distance) {
            if (ships_all(f, w) && (!nearest_single || d < f.distance.at(*nearest_single))) {
                nearest_single = w;  // map order: ties keep the smaller id
            }
        }

        const auto best = orderly::plan_allocation(c.request, c.network);
        const auto single =
            orderly::plan_allocation(c.request, c.network, orderly::select_single_warehouse);
        const auto rough = orderly::plan_allocation(c.request, c.network, greedy);
        REQUIRE(best.has_value() == coverable);
        REQUIRE(rough.has_value() == coverable);
        REQUIRE(single.has_value() == nearest_single.has_value());
        if (!coverable) {
            CHECK(
                (best.error().code == errc::insufficient_stock || best.error().field == "ship_to"));
            CHECK(best.error() == rough.error());
            continue;
        }
        ++planned;
        check_plan(c, f, *best);
        check_plan(c, f, *rough);
        CHECK(best->warehouse_count() <= rough->warehouse_count());
        CHECK(best->warehouse_count() == fewest_by_brute_force(f));
        if (nearest_single) {
            check_plan(c, f, *single);
            CHECK(warehouses_of(*single) == std::vector<std::string>{*nearest_single});
            CHECK(warehouses_of(*best) == std::vector<std::string>{*nearest_single});
            CHECK(warehouses_of(*rough) == std::vector<std::string>{*nearest_single});
        } else {
            CHECK(single.error().code == errc::insufficient_stock);
            CHECK(best->warehouse_count() >= 2);
            ++split;
        }
        // The same inputs in another order give the same plan.
        random_case shuffled = c;
        std::shuffle(shuffled.request.stock.begin(), shuffled.request.stock.end(), rng);
        std::shuffle(shuffled.network.warehouses.begin(), shuffled.network.warehouses.end(), rng);
        const auto again = orderly::plan_allocation(shuffled.request, shuffled.network);
        REQUIRE(again.has_value());
        CHECK(*again == *best);
    }
    MESSAGE(planned, " planned, ", split, " needing several warehouses");
    CHECK(planned > cases / 4);
    CHECK(split > cases / 20);
}
