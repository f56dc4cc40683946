// Fulfilment through the engine: one order's whole parcel life (place, pay,
// plan with warehouse and carrier selection, two packing scans, seal, ship
// with a waybill, pickup and delivery events) on the memory store and on
// SqliteStore (synchronous=NORMAL, a temporary file); and planning alone.

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace {

using namespace orderly;
using namespace std::chrono_literals;
using bench::cny;
using bench::null_notifier;

address depot(std::string province) {
    return address{.recipient = "DC",
                   .phone = "13900001111",
                   .country = "CN",
                   .province = std::move(province),
                   .city = "City",
                   .district = "",
                   .street = "1 Depot Road",
                   .postcode = ""};
}

fulfilment_setup make_setup(carrier_directory& carriers) {
    fulfilment_setup s;
    s.network.warehouses = {warehouse{.id = warehouse_id("east"),
                                      .name = "East",
                                      .sender = depot("Shanghai"),
                                      .regions = {{"CN", "Zhejiang", 10}, {"CN", "", 500}}},
                            warehouse{.id = warehouse_id("west"),
                                      .name = "West",
                                      .sender = depot("Sichuan"),
                                      .regions = {{"CN", "Sichuan", 10}, {"CN", "", 600}}}};
    s.carriers = &carriers;
    s.bins = [](const warehouse_id&, const sku_id& sku) -> std::optional<bin_location> {
        return bin_location{"", "A-1-" + sku.value()};
    };
    return s;
}

carrier_tables tables() {
    carrier_spec c{.id = carrier_id("YTO"),
                   .name = "YTO",
                   .services = {{.level = service_level::standard, .transit_days = {2}}},
                   .coverage = {{.country = "CN", .provinces = {}}},
                   .refuses = {},
                   .max_weight_g = 30'000,
                   .max_volume_cm3 = 0,
                   .volumetric_divisor = 0,
                   .bands = {{30'000, {cny("6")}}},
                   .beyond_last_band = std::nullopt,
                   .tracking = {.prefix = "YT", .digits = 12, .first_sequence = 1},
                   .on_time_rate = std::nullopt};
    return carrier_tables{.zones = {.rules = {}, .default_zone = 1}, .carriers = {c}};
}

struct world {
    explicit world(bool sqlite)
        : clock(timestamp(std::chrono::hours(24 * 365 * 56))),
          carriers(carrier_table::create(tables()).value()) {
        if (sqlite) {
            path = std::filesystem::temp_directory_path() /
                   ("orderly-fulfil-bench-" + std::to_string(::getpid()) + ".db");
            std::filesystem::remove(path);
            owned =
                sqlite_store::open({.path = path, .durability = sqlite_durability::normal}).value();
        } else {
            owned = std::make_unique<memory_store>();
        }
        engine =
            engine::create(engine_ports{*owned, notifier, clock, policy}, {}, make_setup(carriers))
                .value();
        for (const char* code : {"tea", "cup"}) {
            (void)engine->put_sku(next(admin), sku{.id = sku_id(code),
                                                   .merchant = {},
                                                   .name = code,
                                                   .category = "tea",
                                                   .price = cny("12.50"),
                                                   .weight_g = 200,
                                                   .volume_cm3 = 300,
                                                   .traits = {},
                                                   .status = sku_status::on_sale});
            for (const char* wh : {"east", "west"}) {
                (void)engine->receive_stock(next(admin),
                                            stock_receipt{sku_id(code), warehouse_id(wh),
                                                          quantity::of(1'000'000'000).value()});
            }
        }
    }
    ~world() {
        engine.reset();
        owned.reset();
        if (!path.empty()) {
            for (const char* suffix : {"", "-wal", "-shm"}) {
                std::filesystem::remove(path.string() + suffix);
            }
        }
    }
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    command_context next(const actor& who) { return command_context{who, std::to_string(++keys)}; }

    order_id paid_order() {
        place_order_request r;
        r.customer = customer_id("alice");
        r.ship_to = bench::alice_in_hangzhou();
        r.lines = {line_request{sku_id("tea"), quantity::of(2).value(), cny("12.50")},
                   line_request{sku_id("cup"), quantity::of(1).value(), cny("12.50")}};
        const auto placed = engine->place_order(next(admin), r).value();
        (void)engine->record_payment(
            next(gateway),
            payment_callback{placed.order, "p" + std::to_string(keys), payment_method::card,
                             payment_callback::outcome::captured, cny("37.50"), ""});
        return placed.order;
    }

    const actor admin{"bench", role::admin};
    const actor gateway{"gw", role::system};
    std::filesystem::path path;
    std::unique_ptr<store> owned;
    null_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    carrier_table carriers;
    std::unique_ptr<orderly::engine> engine;
    std::uint64_t keys{0};
};

void parcel_life(benchmark::State& state, bool sqlite) {
    world w(sqlite);
    for (auto _ : state) {
        const order_id id = w.paid_order();
        const auto planned = w.engine->plan_fulfilment(w.next(w.admin), {id, {}, {}}).value();
        const shipment_id s = *planned.shipment;
        (void)w.engine->scan_for_packing(w.next(w.admin),
                                         {s, sku_id("tea"), quantity::of(2).value()});
        (void)w.engine->scan_for_packing(w.next(w.admin),
                                         {s, sku_id("cup"), quantity::of(1).value()});
        (void)w.engine->finish_packing(w.next(w.admin), s);
        (void)w.engine->ship_shipment(w.next(w.admin), s);
        for (const auto kind : {tracking_event::picked_up, tracking_event::delivered}) {
            carrier_event e;
            e.kind = kind;
            e.occurred_at = w.clock.now() + std::chrono::hours(static_cast<int>(kind));
            const auto done = w.engine->record_carrier_event(w.next(w.gateway), {s, e});
            if (!done) {
                state.SkipWithError(to_string(done.error()).c_str());
                return;
            }
        }
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_parcel_life_memory(benchmark::State& state) {
    parcel_life(state, false);
}
BENCHMARK(BM_parcel_life_memory)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_parcel_life_sqlite_normal(benchmark::State& state) {
    parcel_life(state, true);
}
BENCHMARK(BM_parcel_life_sqlite_normal)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Planning alone (warehouse selection over two warehouses, carrier choice,
// reservations moved), on the memory store; placement and payment untimed.
void BM_plan_fulfilment_memory(benchmark::State& state) {
    world w(false);
    for (auto _ : state) {
        state.PauseTiming();
        const order_id id = w.paid_order();
        state.ResumeTiming();
        benchmark::DoNotOptimize(w.engine->plan_fulfilment(w.next(w.admin), {id, {}, {}}));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_plan_fulfilment_memory)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
