// orderly warehouse_day: a simulated day in two warehouses, as a reference
// for hosts wiring up fulfilment.
//
// What a host provides: the warehouse network (warehouses, the regions they
// serve, the shipping method table), a carrier directory (here orderly's
// table-driven carrier_table with three carriers), where each SKU sits in
// each warehouse (bins), and which goods ship as freight. Then it calls, from
// its own jobs and handlers:
//   plan_fulfilment   when an order is paid (splits by merchant, warehouse, method)
//   plan_pick_waves   every half hour per warehouse (merges one customer's parcels first)
//   scan_for_packing / finish_packing   at the packing station
//   ship_shipment     when the carrier collects
//   record_carrier_event   from the carriers' webhooks
//   run_due_work      from its scheduler (delays, low stock, notifications)
//
// The day: a few thousand seeded orders from 08:00 to 20:00, waves every 30
// minutes, a few deliberate scan mistakes at packing, then a week of carrier
// events with some delays and one loss. It ends with a KPI table per carrier
// and a stock summary per warehouse.
//
// Usage: warehouse_day [--orders N] [--seed S] [--db FILE]   (default: in memory)

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace orderly;

// The host's notification channel: counts by kind (a real host sends SMS,
// pushes, webhooks; de-duplicating on note.id).
class counting_notifier final : public notifier {
public:
    result<void> deliver(const notification& note) override {
        counts_[static_cast<std::size_t>(note.kind)].fetch_add(1, std::memory_order_relaxed);
        return {};
    }
    [[nodiscard]] std::size_t count(notification_kind k) const {
        return counts_[static_cast<std::size_t>(k)].load(std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<std::size_t>, 32> counts_{};
};

template <class T>
T must(result<T> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, r.error());
        std::exit(EXIT_FAILURE);
    }
    return std::move(*r);
}

void must(result<void> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, r.error());
        std::exit(EXIT_FAILURE);
    }
}

money yuan(std::string_view text) {
    return must(money::parse(text, currencies::CNY), "price");
}

std::vector<money> yuans(std::initializer_list<std::string_view> list) {
    std::vector<money> out;
    for (auto t : list) {
        out.push_back(yuan(t));
    }
    return out;
}

address depot(std::string name, std::string province, std::string city, std::string postcode) {
    return address{.recipient = std::move(name),
                   .phone = "13900001111",
                   .country = "CN",
                   .province = std::move(province),
                   .city = std::move(city),
                   .district = "Logistics Park",
                   .street = "1 Depot Road",
                   .postcode = std::move(postcode)};
}

// Shanghai serves the east fast, Chengdu the west; both ship anywhere in CN.
fulfilment_network network() {
    fulfilment_network n;
    n.warehouses.push_back(
        warehouse{.id = warehouse_id("sh-east"),
                  .name = "Shanghai East DC",
                  .sender = depot("Shanghai East DC", "Shanghai", "Shanghai", "201100"),
                  .regions = {{"CN", "Shanghai", 10},
                              {"CN", "Zhejiang", 20},
                              {"CN", "Jiangsu", 20},
                              {"CN", "", 900}}});
    n.warehouses.push_back(
        warehouse{.id = warehouse_id("cd-west"),
                  .name = "Chengdu West DC",
                  .sender = depot("Chengdu West DC", "Sichuan", "Chengdu", "610000"),
                  .regions = {{"CN", "Sichuan", 10}, {"CN", "Chongqing", 30}, {"CN", "", 800}}});
    return n;
}

// Three carriers: YTO cheap and slower (no restricted or bulky goods), SF fast
// and dearer (takes restricted goods), Deppon freight for bulky goods.
carrier_tables carriers() {
    const std::vector<zone_rule> near = {
        {.origin_region = "Shanghai", .country = "CN", .province = "Shanghai", .zone = 1},
        {.origin_region = "Shanghai", .country = "CN", .province = "Zhejiang", .zone = 1},
        {.origin_region = "Shanghai", .country = "CN", .province = "Jiangsu", .zone = 1},
        {.origin_region = "Sichuan", .country = "CN", .province = "Sichuan", .zone = 1},
        {.origin_region = "Sichuan", .country = "CN", .province = "Chongqing", .zone = 1}};
    carrier_spec yto{.id = carrier_id("YTO"),
                     .name = "YTO Express",
                     .services = {{.level = service_level::standard, .transit_days = {2, 4}}},
                     .coverage = {{.country = "CN", .provinces = {}}},
                     .refuses = goods_traits{.restricted = true, .bulky = true},
                     .max_weight_g = 30'000,
                     .max_volume_cm3 = 0,
                     .volumetric_divisor = 0,
                     .bands = {{1000, yuans({"6", "9"})}, {30'000, yuans({"18", "26"})}},
                     .beyond_last_band = std::nullopt,
                     .tracking = {.prefix = "YT", .digits = 10, .first_sequence = 1},
                     .on_time_rate = std::nullopt};
    carrier_spec sf{.id = carrier_id("SF"),
                    .name = "SF Express",
                    .services = {{.level = service_level::standard, .transit_days = {1, 2}},
                                 {.level = service_level::express,
                                  .transit_days = {1, 1},
                                  .price_factor = must(rate::ratio(3, 2), "rate")}},
                    .coverage = {{.country = "CN", .provinces = {}}},
                    .refuses = goods_traits{.bulky = true},
                    .max_weight_g = 50'000,
                    .max_volume_cm3 = 0,
                    .volumetric_divisor = 0,
                    .bands = {{1000, yuans({"12", "16"})}, {50'000, yuans({"30", "45"})}},
                    .beyond_last_band = std::nullopt,
                    .tracking = {.prefix = "SF", .digits = 10, .first_sequence = 1},
                    .on_time_rate = std::nullopt};
    carrier_spec deppon{.id = carrier_id("DEPPON"),
                        .name = "Deppon Freight",
                        .services = {{.level = service_level::standard, .transit_days = {3, 5}}},
                        .coverage = {{.country = "CN", .provinces = {}}},
                        .refuses = {},
                        .max_weight_g = 1'000'000,
                        .max_volume_cm3 = 0,
                        .volumetric_divisor = 0,
                        .bands = {{30'000, yuans({"60", "90"})}},
                        .beyond_last_band = orderly::weight_step{10'000, yuans({"15", "20"})},
                        .tracking = {.prefix = "DP", .digits = 10, .first_sequence = 1},
                        .on_time_rate = std::nullopt};
    return carrier_tables{.zones = {.rules = near, .default_zone = 2},
                          .carriers = {yto, sf, deppon}};
}

struct product {
    const char* id;
    const char* name;
    const char* price;
    std::int64_t weight_g;
    sku_traits traits;
    std::int64_t east;  // units in Shanghai
    std::int64_t west;  // units in Chengdu
    const char* merchant;
};

const std::array<product, 8> products = {{
    {"tea", "Longjing tea 100 g", "58.00", 150, {}, 4000, 3000, "leaf-shop"},
    {"mug", "Celadon mug", "39.00", 400, {.fragile = true}, 1500, 1200, "leaf-shop"},
    {"oil", "Camellia oil 500 ml", "88.00", 600, {.liquid = true}, 1500, 700, "leaf-shop"},
    {"phone", "Phone X", "3999.00", 300, {.valuable = true}, 700, 400, "gadget-hub"},
    {"battery",
     "Power bank 20000 mAh",
     "129.00",
     450,
     {.restricted = true},
     300,
     300,
     "gadget-hub"},
    {"sofa", "Two-seat sofa", "1899.00", 42'000, {}, 120, 100, "home-co"},
    {"book", "Tea classics", "45.00", 500, {}, 1000, 900, "leaf-shop"},
    {"socks", "Wool socks", "25.00", 100, {}, 3000, 3000, "home-co"},
}};

const std::array<std::pair<const char*, const char*>, 6> cities = {{{"Shanghai", "Shanghai"},
                                                                    {"Zhejiang", "Hangzhou"},
                                                                    {"Jiangsu", "Suzhou"},
                                                                    {"Sichuan", "Chengdu"},
                                                                    {"Chongqing", "Chongqing"},
                                                                    {"Beijing", "Beijing"}}};

std::string percent(const std::optional<rate>& r) {
    if (!r) {
        return "-";
    }
    const double v = static_cast<double>(r->numerator()) / static_cast<double>(r->denominator());
    return fmt::format("{:.1f}%", 100.0 * v);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t order_count = 2000;
    std::uint64_t seed = 20261201;
    std::string db;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--orders") {
            order_count = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (flag == "--seed") {
            seed = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (flag == "--db") {
            db = argv[i + 1];
        } else {
            fmt::print(stderr, "usage: warehouse_day [--orders N] [--seed S] [--db FILE]\n");
            return 2;
        }
    }
    std::unique_ptr<store> owned;
    if (db.empty()) {
        owned = std::make_unique<memory_store>();
    } else {
        owned = must(sqlite_store::open({.path = db, .durability = sqlite_durability::normal}),
                     "open SQLite");
    }
    counting_notifier notifier;
    manual_clock clock(std::chrono::time_point_cast<duration>(
        std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 8h));
    default_access_policy policy;
    carrier_table directory = must(carrier_table::create(carriers()), "carrier tables");

    fulfilment_setup setup;
    setup.network = network();
    setup.carriers = &directory;
    setup.forced_carriers = {{goods_trait::bulky, carrier_id("DEPPON")},
                             {goods_trait::restricted, carrier_id("SF")}};
    setup.bulky = [](const sku& s) { return s.weight_g > 30'000; };
    setup.bins = [](const warehouse_id&, const sku_id& s) -> std::optional<bin_location> {
        // One zone per warehouse; bins by the SKU's position in the list.
        for (std::size_t i = 0; i < products.size(); ++i) {
            if (s.value() == products[i].id) {
                return bin_location{"", fmt::format("A-{}-{}", i / 3 + 1, i % 3 * 4 + 2)};
            }
        }
        return std::nullopt;
    };
    settings options;
    options.fulfilment.delay_limit = 48h;
    auto engine = must(engine::create({*owned, notifier, clock, policy}, options, setup), "engine");

    const actor admin{"ops", role::admin};
    const actor keeper{"wh-team", role::warehouse};
    const actor gateway{"pay-gw", role::system};
    const actor reviewer{"risk-desk", role::reviewer};
    const actor carrier_hook{"carrier-webhook", role::system};
    std::uint64_t keys = 0;
    auto as = [&](const actor& who) {
        return command_context{who, fmt::format("day-{}-{}", seed, ++keys)};
    };

    for (const auto& p : products) {
        sku entry{.id = sku_id(p.id),
                  .merchant = merchant_id(p.merchant),
                  .name = p.name,
                  .category = "demo",
                  .price = yuan(p.price),
                  .weight_g = p.weight_g,
                  .volume_cm3 = p.weight_g * 3,
                  .traits = p.traits,
                  .status = sku_status::on_sale,
                  .low_stock_below = quantity::of(40).value()};
        must(engine->put_sku(as(admin), entry), "put_sku");
        must(engine->receive_stock(
                 as(keeper), {entry.id, warehouse_id("sh-east"), quantity::of(p.east).value()}),
             "receive east");
        must(engine->receive_stock(
                 as(keeper), {entry.id, warehouse_id("cd-west"), quantity::of(p.west).value()}),
             "receive west");
    }

    std::mt19937_64 rng(seed);
    std::vector<order_id> orders;
    std::size_t refused = 0;
    std::size_t reviewed = 0;
    std::size_t damaged = 0;
    std::size_t scan_mistakes = 0;
    std::size_t waves = 0;
    std::vector<shipment_id> shipped;
    const std::size_t customers = order_count / 3 + 1;

    // Packs and ships every parcel in picking; a few scans go wrong first.
    auto pack_and_ship = [&](const warehouse_id& where) {
        auto planned = must(engine->plan_pick_waves(as(keeper), where), "plan_pick_waves");
        waves += planned.size();
        for (const auto& w : planned) {
            for (const shipment_id id : w.wave.shipments) {
                const shipment s = must(engine->get_shipment(admin, id), "get_shipment");
                if (rng() % 50 == 0) {  // a packer scans the wrong item
                    const auto wrong =
                        must(engine->scan_for_packing(
                                 as(keeper), {id, sku_id("socks"), quantity::of(99).value()}),
                             "wrong scan");
                    scan_mistakes += wrong.accepted ? 0U : 1U;
                }
                for (const auto& l : s.lines) {
                    must(engine->scan_for_packing(as(keeper), {id, l.sku, l.units}), "scan");
                }
                must(engine->finish_packing(as(keeper), id), "finish_packing");
                must(engine->ship_shipment(as(keeper), id), "ship_shipment");
                shipped.push_back(id);
            }
        }
    };

    // 08:00 to 20:00: orders arrive; every 30 minutes the warehouses cut waves.
    const auto day_start = clock.now();
    for (std::size_t n = 0; n < order_count; ++n) {
        const auto at = day_start + std::chrono::milliseconds(static_cast<std::int64_t>(
                                        (12h / 1ms) * static_cast<std::int64_t>(n) /
                                        static_cast<std::int64_t>(order_count)));
        while (clock.now() + 30min <= at) {
            clock.advance(30min);
            pack_and_ship(warehouse_id("sh-east"));
            pack_and_ship(warehouse_id("cd-west"));
        }
        clock.set(at);
        const std::size_t customer = rng() % customers;
        const auto& [province, city] = cities[customer % cities.size()];
        place_order_request r;
        r.customer = customer_id(fmt::format("cust-{}", customer));
        r.ship_to = address{.recipient = fmt::format("Customer {}", customer),
                            .phone = "13812345678",
                            .country = "CN",
                            .province = province,
                            .city = city,
                            .district = "Centre",
                            .street = fmt::format("{} Nanjing Road", customer % 900 + 1),
                            .postcode = "200000"};
        const std::size_t lines = 1 + rng() % 3;
        for (std::size_t i = 0; i < lines; ++i) {
            const auto& p = products[rng() % products.size()];
            bool repeated = false;
            for (const auto& l : r.lines) {
                repeated = repeated || l.sku.value() == p.id;
            }
            if (!repeated) {
                r.lines.push_back({sku_id(p.id),
                                   quantity::of(1 + static_cast<std::int64_t>(rng() % 3)).value(),
                                   yuan(p.price)});
            }
        }
        auto placed = engine->place_order(as(admin), r);
        if (!placed) {
            ++refused;  // sold out, or sent to manual review (large amounts)
            continue;
        }
        if (placed->state == order_state::pending_review) {
            // Restricted goods and large amounts wait for a person; the
            // risk desk clears them quickly today.
            ++reviewed;
            must(engine->approve_order(as(reviewer), placed->order, "checked by the risk desk"),
                 "approve_order");
        }
        const order o = must(engine->get_order(admin, placed->order), "get_order");
        must(engine->record_payment(as(gateway),
                                    {o.id, fmt::format("pay-{}", o.id), payment_method::card,
                                     payment_callback::outcome::captured, o.total, ""}),
             "payment");
        auto plan = engine->plan_fulfilment(as(keeper), {o.id, {}, {}});
        if (!plan) {
            ++refused;
            continue;
        }
        orders.push_back(o.id);
    }
    clock.advance(30min);
    pack_and_ship(warehouse_id("sh-east"));
    pack_and_ship(warehouse_id("cd-west"));

    // The week after: carrier events. Most parcels move daily and arrive by
    // their transit time; some stall for three days; one is lost.
    std::size_t events = 0;
    std::map<shipment_id, int> plan_days;
    for (const shipment_id id : shipped) {
        const int roll = static_cast<int>(rng() % 100);
        plan_days[id] = roll < 6 ? -1 /* stalls */ : 1 + static_cast<int>(rng() % 4);
    }
    const shipment_id lost = shipped.empty() ? shipment_id(0) : shipped[shipped.size() / 2];
    std::size_t delayed = 0;
    std::size_t failed_attempts = 0;
    for (int day = 1; day <= 7; ++day) {
        clock.advance(24h);
        for (const shipment_id id : shipped) {
            const int due = plan_days[id];
            auto event = [&](tracking_event kind, int hours) {
                carrier_event e;
                e.id = fmt::format("{}-{}-{}", id, static_cast<int>(kind), day);
                e.kind = kind;
                e.occurred_at = clock.now() - std::chrono::hours(hours);
                e.location = "hub";
                must(engine->record_carrier_event(
                         command_context{carrier_hook, fmt::format("evt-{}", e.id)}, {id, e}),
                     "carrier event");
                ++events;
            };
            if (id == lost && day == 2) {
                event(tracking_event::picked_up, 20);
                event(tracking_event::declared_lost, 2);
                continue;
            }
            if (id == lost) {
                continue;
            }
            if (due < 0) {  // stalls: picked up, then nothing until day 4
                if (day == 1) {
                    event(tracking_event::picked_up, 20);
                } else if (day == 5) {
                    event(tracking_event::arrived_at_hub, 3);
                    event(tracking_event::delivered, 1);
                }
                continue;
            }
            if (day == 1) {
                event(tracking_event::picked_up, 20);
                event(tracking_event::arrived_at_hub, 10);
            } else if (day < due) {
                event(tracking_event::departed_facility, 12);  // moving on
            }
            if (day == due) {
                event(tracking_event::sent_out_for_delivery, 6);
                if (rng() % 40 == 0) {
                    event(tracking_event::delivery_attempt_failed, 4);
                    ++failed_attempts;
                    continue;
                }
                event(tracking_event::delivered, 2);
                if (rng() % 100 == 0) {  // the customer complains of a crushed box
                    must(engine->report_logistics_exception(
                             as(admin), {id, logistics_exception_kind::damaged,
                                         "customer sent photos of a crushed box"}),
                         "report damage");
                    ++damaged;
                }
            } else if (day == due + 1 && rng() % 2 == 0) {
                event(tracking_event::delivered, 3);  // a retried delivery
            }
        }
        const auto due = must(engine->run_due_work(100'000), "run_due_work");
        delayed += due.delayed_shipments;
    }
    // The lost parcel is reshipped.
    if (lost.value() != 0) {
        must(engine->resolve_logistics_exception(
                 as(admin), {lost, 0, logistics_remedy::reship, {}, "carrier lost it"}),
             "reship");
    }

    std::size_t split = 0;
    std::size_t merged = 0;
    for (const order_id id : orders) {
        const order o = must(engine->get_order(admin, id), "order");
        split += o.shipments.size() > 1 ? 1U : 0U;
        for (const shipment_id s : o.shipments) {
            merged += must(engine->get_shipment(admin, s), "shipment").orders.size() > 1 ? 1U : 0U;
        }
    }

    fmt::print(
        "warehouse_day (seed {}): {} orders placed and paid ({} after manual review), "
        "{} refused (sold out)\n",
        seed, orders.size(), reviewed, refused);
    fmt::print(
        "  {} parcels shipped in {} pick waves; {} orders split, {} order parcels "
        "merged\n",
        shipped.size(), waves, split, merged);
    fmt::print(
        "  {} packing scan mistakes refused and recorded; {} carrier events; {} failed "
        "delivery attempts; {} parcels marked delayed; {} reported damaged; 1 lost and "
        "reshipped\n",
        scan_mistakes, events, failed_attempts, delayed, damaged);
    fmt::print(
        "  notifications: {} to merchants (new orders), {} tracking updates, {} "
        "exceptions, {} low stock\n\n",
        notifier.count(notification_kind::new_order),
        notifier.count(notification_kind::tracking_update),
        notifier.count(notification_kind::logistics_exception),
        notifier.count(notification_kind::low_stock));

    fmt::print("Carrier KPIs ({} to {})\n", "2026-12-01", "2026-12-02");
    fmt::print("{:<8} {:>7} {:>9} {:>8} {:>8} {:>7} {:>7} {:>10} {:>10}\n", "carrier", "parcels",
               "delivered", "on time", "success", "damage", "loss", "complaints", "avg cost");
    const auto kpis = must(engine->carrier_kpis(admin, day_start, day_start + 24h), "carrier_kpis");
    for (const auto& k : kpis) {
        fmt::print("{:<8} {:>7} {:>9} {:>8} {:>8} {:>7} {:>7} {:>10} {:>10}\n", k.carrier,
                   k.parcels, k.delivered, percent(k.on_time_rate),
                   percent(k.delivery_success_rate), percent(k.damage_rate), percent(k.loss_rate),
                   k.complaints, k.average_cost ? k.average_cost->to_string() : "-");
    }

    fmt::print("\nStock per warehouse at the end of the week\n");
    fmt::print("{:<9} {:<8} {:>8} {:>9} {:>10} {:>10} {:>9}\n", "warehouse", "sku", "on hand",
               "reserved", "available", "in transit", "turnover");
    const auto rows = must(owned->all_stock(), "all_stock");
    for (const auto& row : rows) {
        const auto t =
            must(engine->turnover(admin, row.sku, row.warehouse, day_start, day_start + 24h),
                 "turnover");
        fmt::print("{:<9} {:<8} {:>8} {:>9} {:>10} {:>10} {:>9}\n", row.warehouse, row.sku,
                   row.on_hand, row.reserved, row.available(), row.in_transit,
                   t.turnover ? fmt::format("{:.3f}", *t.turnover) : "-");
    }
    const auto proposals = must(engine->propose_transfers(admin), "propose_transfers");
    fmt::print("\n{} transfer proposal(s) for open orders and low-stock thresholds:\n",
               proposals.size());
    for (const auto& p : proposals) {
        fmt::print("  {} x {} from {} to {}: {}\n", p.transfer.units, p.transfer.sku,
                   p.transfer.from, p.transfer.to, p.transfer.reason);
    }
    if (!proposals.empty()) {
        const auto moved =
            must(engine->dispatch_transfer(as(keeper), proposals.front().transfer), "transfer");
        fmt::print("  dispatched transfer {}: {} in transit to {}\n", moved.id, moved.units,
                   moved.to);
    }
    fmt::print("warehouse_day done\n");
    return 0;
}
