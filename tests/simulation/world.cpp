#include "world.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace orderly::sim {

using namespace std::chrono_literals;

const std::vector<catalogue_item>& catalogue() {
    static const std::vector<catalogue_item> items = {
        {"tea", "leaf-shop", "food", 5800, {}, 15, 150},
        {"matcha", "leaf-shop", "food", 7200, {}, 0, 80},
        {"incense", "leaf-shop", "home", 3600, {.restricted = true}, 0, 200},
        {"vase", "leaf-shop", "home", 12900, {.fragile = true}, 5, 1200},
        {"scarf", "north-wear", "apparel", 29900, {}, 10, 250},
        {"socks-m", "north-wear", "apparel", 2500, {}, 0, 100},
        {"socks-l", "north-wear", "apparel", 2500, {}, 0, 100},
        {"phone", "volt-tech", "electronics", 299900, {.fragile = true, .valuable = true}, 3, 400},
        {"cable", "volt-tech", "electronics", 1990, {}, 0, 60},
        {"pin", "volt-tech", "electronics", 7, {}, 0, 5},
    };
    return items;
}

const catalogue_item& item_of(const sku_id& sku) {
    for (const auto& item : catalogue()) {
        if (sku.value() == item.sku) {
            return item;
        }
    }
    fmt::print(stderr, "the simulator's catalogue has no SKU {}\n", sku);
    std::abort();
}

const std::vector<warehouse_id>& network_warehouses() {
    static const std::vector<warehouse_id> ids = {warehouse_id("wh-hz"), warehouse_id("wh-bj"),
                                                  warehouse_id("wh-cd")};
    return ids;
}

const warehouse_id& store_room() {
    static const warehouse_id id("wh-store");
    return id;
}

std::vector<warehouse_id> all_warehouses() {
    auto all = network_warehouses();
    all.push_back(store_room());
    return all;
}

namespace {

address place(std::string name, std::string province, std::string city) {
    return address{.recipient = std::move(name),
                   .phone = "13900001111",
                   .country = "CN",
                   .province = std::move(province),
                   .city = std::move(city),
                   .district = "Centre",
                   .street = "8 Depot Road",
                   .postcode = "310000"};
}

}  // namespace

const std::vector<customer>& customers() {
    static const std::vector<customer> all = [] {
        const std::vector<std::pair<const char*, const char*>> homes = {
            {"Zhejiang", "Hangzhou"}, {"Zhejiang", "Ningbo"},    {"Beijing", "Beijing"},
            {"Sichuan", "Chengdu"},   {"Shanghai", "Shanghai"},  {"Guangdong", "Shenzhen"},
            {"Jiangsu", "Suzhou"},    {"Chongqing", "Chongqing"}};
        std::vector<customer> out;
        for (std::size_t i = 0; i < 12; ++i) {
            const auto& [province, city] = homes[i % homes.size()];
            const std::string id = fmt::format("c-{:02}", i + 1);
            out.push_back(customer{customer_id(id), place("Customer " + id, province, city)});
        }
        return out;
    }();
    return all;
}

const customer_id& blocked_customer() {
    return customers().back().id;
}

money cny(std::int64_t minor) {
    return money::from_minor(money::amount_type(minor), currencies::CNY);
}

std::int64_t minor_of(const money& m) {
    auto v = m.amount_minor_int64();
    return v ? *v : 0;
}

quantity units(std::int64_t n) {
    return quantity::of(n).value();
}

const cast& actors() {
    static const cast c{};
    return c;
}

actor as_customer(const customer_id& id) {
    return actor{id.value(), role::customer};
}

namespace {

void set_deadlines(settings& s) {
    s.payment_timeout = 30min;
    s.max_payment_failures = 3;
    s.auto_confirm_after = 36h;
    s.outbox.first_retry = 5s;
    s.outbox.max_retry = 10min;
    s.fulfilment.merge_window = 2h;
    s.fulfilment.delay_limit = 8h;
    s.fulfilment.low_stock_scan_every = 10min;
    s.fulfilment.lost_after = 48h;
    s.fulfilment.auto_refund_after = 24h;
    s.after_sales.response_time = 6h;
    s.after_sales.inspection_time = 6h;
    s.after_sales.resolution_time = 6h;
    s.after_sales.return_window = 24h;
    s.after_sales.auto_close_after = 24h;
    s.after_sales.repair_time = 48h;
    s.after_sales.return_transit_time = 24h;
    s.after_sales.window = 72h;
    s.after_sales.damage_report_window = 12h;
    s.operations.review_limit = 4h;
    s.operations.paid_limit = 4h;
    s.operations.allocating_limit = 6h;
    s.operations.packed_limit = 4h;
    s.operations.on_hold_limit = 8h;
    s.operations.low_response = 12h;
    s.operations.normal_response = 6h;
    s.operations.high_response = 2h;
    s.operations.urgent_response = 1h;
    s.operations.scan_every = 15min;
    s.operations.archive_after = 96h;
    s.operations.close_resolved_after = 8h;
}

}  // namespace

settings sim_settings(prng& random) {
    settings s;
    set_deadlines(s);
    s.review.high_value_at_or_above = {cny(500000)};
    s.review.blocked_customers = {blocked_customer()};
    s.review.max_units_per_line = 8;
    s.after_sales.agents = {"agent-a", "agent-b"};
    s.after_sales.auto_approve_below = {cny(20000)};
    s.settlement.category_rates = {{"food", rate::parse("0.05").value()},
                                   {"apparel", rate::parse("0.08").value()},
                                   {"electronics", rate::parse("0.03").value()}};
    s.settlement.default_rate = rate::parse("0.06").value();
    s.settlement.service_fees = {cny(100)};
    s.settlement.account_period_days = 1;
    // Kinds no invariant needs may be muted: the notification check honours it.
    const std::vector<notification_kind> mutable_kinds = {
        notification_kind::tracking_update, notification_kind::new_order,
        notification_kind::low_stock, notification_kind::delivered};
    if (random.chance(400)) {
        s.outbox.muted.push_back(random.pick(mutable_kinds));
    }
    return s;
}

carrier_tables sim_carriers() {
    const auto yuan = [](std::int64_t n) { return cny(n * 100); };
    carrier_spec cheap{
        .id = carrier_id("YTO"),
        .name = "YTO Express",
        .services = {{.level = service_level::standard, .transit_days = {2, 3}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = goods_traits{.restricted = true, .bulky = true},
        .max_weight_g = 30'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{1000, {yuan(6), yuan(8)}}, {30'000, {yuan(20), yuan(26)}}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "YT", .digits = 12, .first_sequence = 1},
        .on_time_rate = std::nullopt,
    };
    carrier_spec fast{
        .id = carrier_id("SF"),
        .name = "SF Express",
        .services = {{.level = service_level::standard, .transit_days = {1, 2}},
                     {.level = service_level::express, .transit_days = {1, 1}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = {},
        .max_weight_g = 60'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{1000, {yuan(12), yuan(15)}}, {60'000, {yuan(30), yuan(40)}}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "SF", .digits = 12, .first_sequence = 1},
        .on_time_rate = std::nullopt,
    };
    return carrier_tables{
        .zones =
            {.rules = {{.origin_region = "", .country = "CN", .province = "Zhejiang", .zone = 1}},
             .default_zone = 2},
        .carriers = {cheap, fast}};
}

namespace {

fulfilment_network sim_network() {
    fulfilment_network n;
    n.warehouses.push_back(warehouse{.id = warehouse_id("wh-hz"),
                                     .name = "Hangzhou DC",
                                     .sender = place("Hangzhou DC", "Zhejiang", "Hangzhou"),
                                     .regions = {{"CN", "Zhejiang", 10},
                                                 {"CN", "Shanghai", 40},
                                                 {"CN", "Jiangsu", 40},
                                                 {"CN", "", 500}}});
    n.warehouses.push_back(warehouse{.id = warehouse_id("wh-bj"),
                                     .name = "Beijing DC",
                                     .sender = place("Beijing DC", "Beijing", "Beijing"),
                                     .regions = {{"CN", "Beijing", 10}, {"CN", "", 1200}}});
    n.warehouses.push_back(
        warehouse{.id = warehouse_id("wh-cd"),
                  .name = "Chengdu DC",
                  .sender = place("Chengdu DC", "Sichuan", "Chengdu"),
                  .regions = {{"CN", "Sichuan", 10}, {"CN", "Chongqing", 30}, {"CN", "", 800}}});
    return n;
}

}  // namespace

fulfilment_setup sim_setup(carrier_directory& carriers) {
    fulfilment_setup setup;
    setup.network = sim_network();
    setup.carriers = &carriers;
    setup.forced_carriers = {{goods_trait::restricted, carrier_id("SF")}};
    setup.bins = [](const warehouse_id&, const sku_id& s) -> std::optional<bin_location> {
        const auto& items = catalogue();
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (s.value() == items[i].sku) {
                return bin_location{i % 2 == 0 ? "A" : "B", fmt::format("R-{}-{}", i / 3, i % 3)};
            }
        }
        return std::nullopt;
    };
    return setup;
}

sku sku_entry(const catalogue_item& item) {
    return sku{.id = sku_id(item.sku),
               .merchant = merchant_id(item.merchant),
               .name = fmt::format("{} ({})", item.sku, item.category),
               .category = item.category,
               .price = cny(item.price_minor),
               .weight_g = item.weight_g,
               .volume_cm3 = item.weight_g * 3,
               .traits = item.traits,
               .status = sku_status::on_sale,
               .low_stock_below = item.low_stock_below > 0
                                      ? std::optional(units(item.low_stock_below))
                                      : std::nullopt};
}

}  // namespace orderly::sim
