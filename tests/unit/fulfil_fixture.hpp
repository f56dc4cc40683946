#pragma once
// The engine fixture with a fulfilment set-up: two warehouses (Hangzhou near
// Zhejiang, Beijing far), two carriers (YTO cheap, SF fast) and bins, plus
// helpers that stock, place and pay, plan, pack, ship and feed carrier events.
// Shared by the fulfilment and after-sales engine tests.

#include "engine_fixture.hpp"

#include <orderly/logistics/carrier.hpp>

#include <string>
#include <utility>
#include <vector>

namespace orderly::test {

using namespace std::chrono_literals;

inline money yuan(std::int64_t n) {
    return money::parse(std::to_string(n), currencies::CNY).value();
}

inline std::vector<money> yuans(std::initializer_list<std::int64_t> list) {
    std::vector<money> out;
    for (auto n : list) {
        out.push_back(yuan(n));
    }
    return out;
}

inline address place(std::string name, std::string province, std::string city) {
    return address{.recipient = std::move(name),
                   .phone = "13900001111",
                   .country = "CN",
                   .province = std::move(province),
                   .city = std::move(city),
                   .district = "Centre",
                   .street = "8 Depot Road",
                   .postcode = "310000"};
}

// Two warehouses: Hangzhou is near Zhejiang, Beijing is far.
inline fulfilment_network network() {
    fulfilment_network n;
    n.warehouses.push_back(warehouse{.id = warehouse_id("wh-hz"),
                                     .name = "Hangzhou DC",
                                     .sender = place("Hangzhou DC", "Zhejiang", "Hangzhou"),
                                     .regions = {{"CN", "Zhejiang", 10}, {"CN", "", 500}}});
    n.warehouses.push_back(warehouse{.id = warehouse_id("wh-bj"),
                                     .name = "Beijing DC",
                                     .sender = place("Beijing DC", "Beijing", "Beijing"),
                                     .regions = {{"CN", "Beijing", 10}, {"CN", "", 1200}}});
    return n;
}

inline carrier_tables carriers() {
    carrier_spec cheap{
        .id = carrier_id("yto"),
        .name = "YTO Express",
        .services = {{.level = service_level::standard, .transit_days = {2, 3}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = goods_traits{.restricted = true, .bulky = true},
        .max_weight_g = 30'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{1000, yuans({6, 8})}, {30'000, yuans({20, 26})}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "YT", .digits = 10, .first_sequence = 1},
        .on_time_rate = std::nullopt,
    };
    carrier_spec fast{
        .id = carrier_id("sf"),
        .name = "SF Express",
        .services = {{.level = service_level::standard, .transit_days = {1, 2}},
                     {.level = service_level::express, .transit_days = {1, 1}}},
        .coverage = {{.country = "CN", .provinces = {}}},
        .refuses = {},
        .max_weight_g = 50'000,
        .max_volume_cm3 = 0,
        .volumetric_divisor = 0,
        .bands = {{1000, yuans({12, 15})}, {50'000, yuans({30, 40})}},
        .beyond_last_band = std::nullopt,
        .tracking = {.prefix = "SF", .digits = 10, .first_sequence = 1},
        .on_time_rate = std::nullopt,
    };
    return carrier_tables{
        .zones =
            {.rules = {{.origin_region = "", .country = "CN", .province = "Zhejiang", .zone = 1}},
             .default_zone = 2},
        .carriers = {cheap, fast}};
}

struct fulfil_fixture : fixture {
    explicit fulfil_fixture(settings options = {})
        : fixture(options), directory(carrier_table::create(carriers()).value()) {
        fulfilment_setup setup;
        setup.network = network();
        setup.carriers = &directory;
        setup.bins = [](const warehouse_id&, const sku_id& s) -> std::optional<bin_location> {
            if (s.value() == "nobin") {
                return std::nullopt;
            }
            return bin_location{"A", "B-" + std::to_string(s.value().size()) + "-" + s.value()};
        };
        engine =
            engine::create(engine_ports{store, notifier, clock, policy}, options, std::move(setup))
                .value();
    }

    void stock(const std::string& code, std::int64_t hz, std::int64_t bj, sku_traits traits = {},
               std::string merchant = "m-1") {
        sku entry = catalogue_entry(code, "12.50");
        entry.traits = traits;
        entry.merchant = merchant_id(std::move(merchant));
        REQUIRE(engine->put_sku(as(admin), entry).has_value());
        for (auto [wh, n] : {std::pair{"wh-hz", hz}, std::pair{"wh-bj", bj}}) {
            if (n > 0) {
                REQUIRE(engine
                            ->receive_stock(as(keeper),
                                            stock_receipt{sku_id(code), warehouse_id(wh), units(n)})
                            .has_value());
            }
        }
    }

    // Places and pays an order of the given lines; returns its id.
    order_id paid_order(std::vector<std::pair<std::string, std::int64_t>> lines,
                        std::string customer = "alice") {
        place_order_request r;
        r.customer = customer_id(std::move(customer));
        r.ship_to = home();
        for (auto& [code, n] : lines) {
            r.lines.push_back(line_request{sku_id(code), units(n), cny("12.50")});
        }
        auto placed = engine->place_order(as(admin), r);
        REQUIRE_MESSAGE(placed.has_value(), (placed ? "" : to_string(placed.error())));
        const order o = load(placed->order);
        auto paid = engine->record_payment(
            as(gateway),
            payment_callback{o.id, "txn-" + std::to_string(o.id.value()), payment_method::card,
                             payment_callback::outcome::captured, o.total, ""});
        REQUIRE_MESSAGE(paid.has_value(), (paid ? "" : to_string(paid.error())));
        REQUIRE(paid->state == order_state::paid);
        return o.id;
    }

    std::vector<shipment> plan(order_id id) {
        auto planned = engine->plan_fulfilment(as(keeper), fulfilment_request{id, {}, {}});
        REQUIRE_MESSAGE(planned.has_value(), (planned ? "" : to_string(planned.error())));
        return engine->fulfilment(admin, id).value().shipments;
    }

    void pack(const shipment& s) {
        for (const auto& l : s.lines) {
            auto scanned =
                engine->scan_for_packing(as(keeper), pack_scan_request{s.id, l.sku, l.units});
            REQUIRE_MESSAGE(scanned.has_value(), (scanned ? "" : to_string(scanned.error())));
            REQUIRE(scanned->accepted);
        }
        auto sealed = engine->finish_packing(as(keeper), s.id);
        REQUIRE_MESSAGE(sealed.has_value(), (sealed ? "" : to_string(sealed.error())));
    }

    shipment ship(const shipment& s) {
        auto shipped = engine->ship_shipment(as(keeper), s.id);
        REQUIRE_MESSAGE(shipped.has_value(), (shipped ? "" : to_string(shipped.error())));
        return engine->get_shipment(admin, s.id).value();
    }

    result<command_outcome> event(shipment_id id, tracking_event kind, std::int64_t minute,
                                  std::string event_id = {}) {
        carrier_event e;
        e.id = event_id.empty() ? fmt::format("{}-{}-{}", id, static_cast<int>(kind), minute)
                                : std::move(event_id);
        e.kind = kind;
        e.occurred_at = start_time() + std::chrono::minutes(minute);
        return engine->record_carrier_event(as(gateway), carrier_event_request{id, e});
    }

    std::int64_t reserved(const std::string& code, const std::string& wh) {
        auto level = store.stock(sku_id(code), warehouse_id(wh)).value();
        return level ? level->reserved.units() : 0;
    }
    std::int64_t on_hand(const std::string& code, const std::string& wh) {
        auto level = store.stock(sku_id(code), warehouse_id(wh)).value();
        return level ? level->on_hand.units() : 0;
    }

    std::size_t notes_of(notification_kind kind, audience to) {
        REQUIRE(engine->dispatch_notifications(10'000).has_value());
        std::size_t n = 0;
        for (const auto& note : notifier.received()) {
            n += (note.kind == kind && note.audience == to) ? 1U : 0U;
        }
        return n;
    }

    carrier_table directory;
};

template <class T>
void check_refused(const result<T>& r, errc code, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == code);
    CHECK(r.error().field == field);
}

}  // namespace orderly::test
