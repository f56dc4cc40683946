// Fulfilment through the engine (issue 5): planning with splits by
// warehouse, shipping method and merchant; merging; pick waves; packing
// re-checks; shipping with waybills; tracking events; delays, losses and
// remedies; and a seeded randomized run whose invariants cover split and
// merged orders. Runs on memory_store and, with ORDERLY_TEST_STORE=sqlite,
// on SqliteStore.

#include "fulfil_fixture.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

namespace {

using namespace orderly;
using namespace orderly::test;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE(
    "one warehouse ships a whole order: planned, packed with re-checks, shipped, tracked, "
    "delivered") {
    fulfil_fixture f;
    f.stock("tea", 10, 10);
    f.stock("cup", 10, 0, sku_traits{.fragile = true});
    const order_id id = f.paid_order({{"tea", 2}, {"cup", 1}});

    const auto shipments = f.plan(id);
    REQUIRE(shipments.size() == 1);
    const shipment& s = shipments.front();
    CHECK(s.warehouse.value() == "wh-hz");  // nearest that has everything
    CHECK(s.carrier.value() == "yto");      // cheapest within the promise
    CHECK(s.state == shipment_state::planned);
    CHECK(f.load(id).state == order_state::allocating);
    CHECK(f.reserved("tea", "wh-hz") == 2);
    CHECK(f.reserved("cup", "wh-hz") == 1);
    CHECK(f.notes_of(notification_kind::new_order, audience::merchant) == 1);

    // A scan of a SKU not in the parcel, and one too many: refused and recorded.
    auto wrong =
        f.engine->scan_for_packing(f.as(keeper), pack_scan_request{s.id, sku_id("mug"), units(1)});
    REQUIRE(wrong.has_value());
    CHECK_FALSE(wrong->accepted);
    REQUIRE(wrong->mismatch.has_value());
    CHECK(wrong->mismatch->kind == packing_mismatch_kind::unexpected_sku);
    auto over =
        f.engine->scan_for_packing(f.as(keeper), pack_scan_request{s.id, sku_id("tea"), units(3)});
    REQUIRE(over.has_value());
    CHECK_FALSE(over->accepted);
    CHECK(over->mismatch->kind == packing_mismatch_kind::over_quantity);
    // Sealing with units missing is refused, recorded, and the parcel stays open.
    check_refused(f.engine->finish_packing(f.as(keeper), s.id), errc::missing_value,
                  "packing.quantity");
    f.pack(s);
    const shipment packed = f.engine->get_shipment(admin, s.id).value();
    CHECK(packed.state == shipment_state::packed);
    REQUIRE(packed.packing.has_value());
    CHECK(packed.packing->mismatch_count == 4);  // stranger, too many, two SKUs missing
    CHECK(f.load(id).state == order_state::packed);

    const shipment shipped = f.ship(packed);
    CHECK(shipped.state == shipment_state::shipped);
    CHECK(shipped.tracking_number.starts_with("YT"));
    CHECK(f.load(id).state == order_state::shipped);
    CHECK(f.load(id).tracking_number == shipped.tracking_number);
    CHECK(f.on_hand("tea", "wh-hz") == 8);
    CHECK(f.reserved("tea", "wh-hz") == 0);

    // Events out of order and repeated: the history is ordered by event time.
    REQUIRE(f.event(s.id, tracking_event::arrived_at_hub, 120).has_value());
    REQUIRE(f.event(s.id, tracking_event::picked_up, 60).has_value());
    auto again = f.event(s.id, tracking_event::picked_up, 60);
    REQUIRE(again.has_value());
    CHECK(again->repeated);
    auto tracked = f.engine->get_shipment(admin, s.id).value();
    REQUIRE(tracked.tracking.has_value());
    REQUIRE(tracked.tracking->entries().size() == 2);
    CHECK(tracked.tracking->entries()[0].event.kind == tracking_event::picked_up);
    CHECK(tracked.tracking->state() == tracking_state::at_hub);
    CHECK(f.notes_of(notification_kind::tracking_update, audience::customer) >= 1);

    auto delivered = f.event(s.id, tracking_event::delivered, 2000);
    REQUIRE(delivered.has_value());
    CHECK(delivered->shipment_status == shipment_state::delivered);
    CHECK(f.load(id).state == order_state::delivered);
    CHECK(f.engine->fulfilment(admin, id).value().progress == fulfilment_progress::delivered);

    // The packing hint follows the goods: a fragile cup pads the parcel.
    auto hint = f.engine->packaging_for(keeper, s.id);
    REQUIRE_MESSAGE(hint.has_value(), (hint ? "" : to_string(hint.error())));
    CHECK(hint->padded);
    CHECK_FALSE(hint->sealed);
    CHECK(hint->volume_cm3 == (2 * 400 + 400) * 130 / 100);  // 30% padding allowance
    REQUIRE(hint->box.has_value());
    CHECK(hint->box->name == "S");
    check_refused(f.engine->packaging_for(keeper, shipment_id(42)), errc::not_found, "shipment_id");

    // The whole-order commands refuse an order that ships in parcels.
    check_refused(f.engine->deliver_order(f.as(admin), id), errc::transition_not_allowed,
                  "order_id");
}

TEST_CASE(
    "an order no one warehouse can serve splits, and is shipped and delivered when every "
    "part is") {
    fulfil_fixture f;
    f.stock("tea", 1, 5);
    f.stock("cup", 5, 0);
    const order_id id = f.paid_order({{"tea", 3}, {"cup", 2}});
    const auto parts = f.plan(id);
    REQUIRE(parts.size() == 2);
    std::int64_t tea = 0;
    for (const auto& p : parts) {
        tea += p.units_of(sku_id("tea"));
        CHECK(p.orders == std::vector<order_id>{id});
    }
    CHECK(tea == 3);
    // Reservations moved to where the parts ship from; nothing held twice.
    CHECK(f.reserved("tea", "wh-hz") + f.reserved("tea", "wh-bj") == 3);
    CHECK(f.reserved("cup", "wh-hz") == 2);

    f.pack(parts[0]);
    CHECK(f.load(id).state == order_state::allocating);  // one part still unpacked
    f.ship(parts[0]);
    CHECK(f.engine->fulfilment(admin, id).value().progress ==
          fulfilment_progress::partially_shipped);
    CHECK(f.load(id).state == order_state::allocating);
    f.pack(parts[1]);
    CHECK(f.load(id).state == order_state::packed);
    f.ship(parts[1]);
    CHECK(f.load(id).state == order_state::shipped);
    REQUIRE(f.event(parts[0].id, tracking_event::picked_up, 50).has_value());
    REQUIRE(f.event(parts[1].id, tracking_event::picked_up, 60).has_value());
    REQUIRE(f.event(parts[0].id, tracking_event::delivered, 100).has_value());
    CHECK(f.engine->fulfilment(admin, id).value().progress ==
          fulfilment_progress::partially_delivered);
    CHECK(f.load(id).state == order_state::shipped);
    REQUIRE(f.event(parts[1].id, tracking_event::delivered, 200).has_value());
    CHECK(f.load(id).state == order_state::delivered);
}

TEST_CASE("lines needing another shipping method or sold by another merchant ship apart") {
    fulfil_fixture f;
    f.stock("tea", 10, 0);
    f.stock("oil", 10, 0, sku_traits{.liquid = true});
    f.stock("pen", 10, 0, {}, "m-2");
    const order_id id = f.paid_order({{"tea", 1}, {"oil", 1}, {"pen", 1}});
    const auto parts = f.plan(id);
    REQUIRE(parts.size() == 3);
    std::set<std::string> methods;
    std::set<std::string> merchants;
    for (const auto& p : parts) {
        methods.insert(p.shipping_method);
        merchants.insert(p.merchant.value());
        CHECK(p.warehouse.value() == "wh-hz");
    }
    CHECK(methods == std::set<std::string>{"liquid", "standard"});
    CHECK(merchants == std::set<std::string>{"m-1", "m-2"});
    CHECK(f.notes_of(notification_kind::new_order, audience::merchant) == 3);
}

TEST_CASE("orders of one customer to one address merge into one parcel within the window") {
    fulfil_fixture f;
    f.stock("tea", 10, 0);
    const order_id a = f.paid_order({{"tea", 1}});
    f.clock.advance(30min);
    const order_id b = f.paid_order({{"tea", 2}});
    const auto pa = f.plan(a);
    const auto pb = f.plan(b);
    const std::array<shipment_id, 2> both{pa[0].id, pb[0].id};
    auto merged = f.engine->merge_shipments(f.as(keeper), both);
    REQUIRE_MESSAGE(merged.has_value(), (merged ? "" : to_string(merged.error())));
    const shipment m = f.engine->get_shipment(admin, pa[0].id).value();
    CHECK(m.orders == std::vector<order_id>{std::min(a, b), std::max(a, b)});
    CHECK(m.units_of(sku_id("tea")) == 3);
    CHECK(f.engine->get_shipment(admin, pb[0].id).value().state == shipment_state::cancelled);
    CHECK(f.load(b).shipments == std::vector<shipment_id>{pa[0].id});
    CHECK(f.reserved("tea", "wh-hz") == 3);

    f.pack(m);
    f.ship(m);
    CHECK(f.load(a).state == order_state::shipped);
    CHECK(f.load(b).state == order_state::shipped);
    // Each order keeps its own money.
    CHECK(f.load(a).total == cny("12.50"));
    CHECK(f.load(b).total == cny("25.00"));

    // Outside the window: refused, and a parcel that left cannot merge.
    f.clock.advance(3h);
    const order_id c = f.paid_order({{"tea", 1}});
    const auto pc = f.plan(c);
    f.clock.advance(3h);
    const order_id d = f.paid_order({{"tea", 1}});
    const auto pd = f.plan(d);
    const std::array<shipment_id, 2> late{pc[0].id, pd[0].id};
    check_refused(f.engine->merge_shipments(f.as(keeper), late), errc::invalid_value, "shipments");
    const std::array<shipment_id, 2> gone{pc[0].id, m.id};
    check_refused(f.engine->merge_shipments(f.as(keeper), gone), errc::transition_not_allowed,
                  "shipments[1]");
}

TEST_CASE("pick waves group a warehouse's planned parcels with bin-sorted pick lists") {
    fulfil_fixture f;
    f.stock("tea", 20, 0);
    f.stock("cups", 20, 0);
    for (int i = 0; i < 5; ++i) {
        f.plan(f.paid_order({{"tea", 1}, {"cups", 2}}, "c" + std::to_string(i)));
    }
    pick_wave_options options;
    options.max_shipments_per_wave = 2;
    const auto ctx = f.as(keeper);
    auto waves = f.engine->plan_pick_waves(ctx, warehouse_id("wh-hz"), options);
    REQUIRE_MESSAGE(waves.has_value(), (waves ? "" : to_string(waves.error())));
    REQUIRE(waves->size() == 3);
    std::size_t parcels = 0;
    for (const auto& w : *waves) {
        parcels += w.wave.shipments.size();
        CHECK(w.wave.shipments.size() <= 2);
        for (std::size_t i = 1; i < w.wave.pick_list.size(); ++i) {
            CHECK(natural_compare(w.wave.pick_list[i - 1].bin, w.wave.pick_list[i].bin) !=
                  std::strong_ordering::greater);
        }
        for (const auto id : w.wave.shipments) {
            const auto s = f.engine->get_shipment(admin, id).value();
            CHECK(s.state == shipment_state::picking);
            CHECK(s.wave == w.id);
        }
    }
    CHECK(parcels == 5);
    // The same key again answers with the open waves; nothing moves twice.
    auto again = f.engine->plan_pick_waves(ctx, warehouse_id("wh-hz"), options);
    REQUIRE(again.has_value());
    CHECK(again->size() == 3);
    // A new key finds nothing planned left.
    CHECK(f.engine->plan_pick_waves(f.as(keeper), warehouse_id("wh-hz"), options).value().empty());
}

TEST_CASE("the merge rule joins one customer's parcels before the waves are cut") {
    fulfil_fixture f;
    f.stock("tea", 20, 0);
    const order_id a = f.paid_order({{"tea", 1}});
    f.clock.advance(1h);
    const order_id b = f.paid_order({{"tea", 2}});
    f.clock.advance(3h);
    const order_id c = f.paid_order({{"tea", 1}});  // outside the 2 h window
    const order_id other = f.paid_order({{"tea", 1}}, "bob");
    for (const order_id id : {a, b, c, other}) {
        f.plan(id);
    }
    auto waves = f.engine->plan_pick_waves(f.as(keeper), warehouse_id("wh-hz"));
    REQUIRE_MESSAGE(waves.has_value(), (waves ? "" : to_string(waves.error())));
    std::size_t parcels = 0;
    for (const auto& w : *waves) {
        parcels += w.wave.shipments.size();
    }
    CHECK(parcels == 3);
    CHECK(f.load(a).shipments == f.load(b).shipments);
    CHECK(f.load(a).shipments != f.load(c).shipments);
    const auto merged = f.engine->get_shipment(admin, f.load(a).shipments.front()).value();
    CHECK(merged.units_of(sku_id("tea")) == 3);
    CHECK(merged.state == shipment_state::picking);
}

TEST_CASE("a parcel without progress is marked delayed once, and recovers with the next scan") {
    settings options;
    options.fulfilment.delay_limit = 24h;
    fulfil_fixture f(options);
    f.stock("tea", 5, 0);
    const order_id id = f.paid_order({{"tea", 1}});
    auto s = f.plan(id).front();
    f.pack(s);
    s = f.ship(s);
    f.clock.advance(23h);
    CHECK(f.engine->run_due_work().value().delayed_shipments == 0);
    f.clock.advance(2h);
    CHECK(f.engine->run_due_work().value().delayed_shipments == 1);
    CHECK(f.engine->run_due_work().value().delayed_shipments == 0);
    auto late = f.engine->get_shipment(admin, s.id).value();
    REQUIRE(late.exceptions.size() == 1);
    CHECK(late.exceptions[0].kind == logistics_exception_kind::delayed);
    CHECK(late.exceptions[0].open());
    CHECK(f.notes_of(notification_kind::logistics_exception, audience::staff) == 1);
    REQUIRE(f.event(s.id, tracking_event::picked_up, 25 * 60).has_value());
    late = f.engine->get_shipment(admin, s.id).value();
    CHECK(late.exceptions[0].remedy == logistics_remedy::recovered);
}

TEST_CASE("a lost parcel is reshipped with new reservations, or refunded exactly") {
    fulfil_fixture f;
    f.stock("tea", 10, 0);
    const order_id id = f.paid_order({{"tea", 2}});
    auto s = f.plan(id).front();
    f.pack(s);
    s = f.ship(s);
    REQUIRE(f.event(s.id, tracking_event::picked_up, 10).has_value());
    auto lost = f.event(s.id, tracking_event::declared_lost, 500);
    REQUIRE(lost.has_value());
    CHECK(lost->shipment_status == shipment_state::lost);
    auto gone = f.engine->get_shipment(admin, s.id).value();
    REQUIRE(gone.exceptions.size() == 1);
    CHECK(gone.exceptions[0].kind == logistics_exception_kind::lost);

    auto reship = f.engine->resolve_logistics_exception(
        f.as(admin), logistics_resolution{s.id, 0, logistics_remedy::reship, {}, "resend"});
    REQUIRE_MESSAGE(reship.has_value(), (reship ? "" : to_string(reship.error())));
    REQUIRE(reship->shipment.has_value());
    CHECK(*reship->shipment != s.id);
    const auto fresh = f.engine->get_shipment(admin, *reship->shipment).value();
    CHECK(fresh.state == shipment_state::planned);
    CHECK(fresh.replaces == s.id);
    CHECK(f.reserved("tea", "wh-hz") == 2);
    CHECK(f.on_hand("tea", "wh-hz") == 8);
    // Resolved once: a second resolution is refused.
    check_refused(
        f.engine->resolve_logistics_exception(
            f.as(admin), logistics_resolution{s.id, 0, logistics_remedy::refund, {}, "again"}),
        errc::invalid_value, "exception");

    // The replacement is lost too; this time the customer is refunded.
    f.pack(fresh);
    f.ship(fresh);
    REQUIRE(
        f.engine
            ->report_logistics_exception(
                f.as(admin), logistics_exception_report{fresh.id, logistics_exception_kind::lost,
                                                        "courier reports the van stolen"})
            .has_value());
    auto refunded = f.engine->resolve_logistics_exception(
        f.as(admin), logistics_resolution{fresh.id, 0, logistics_remedy::refund, {}, "refund"});
    REQUIRE_MESSAGE(refunded.has_value(), (refunded ? "" : to_string(refunded.error())));
    const order o = f.load(id);
    REQUIRE(o.payments.size() == 1);
    CHECK(o.payments[0].refunded == cny("25.00"));
    CHECK(o.payments[0].state == payment_state::refunded);
}

TEST_CASE("an order whose lost parcel was reshipped is delivered when the replacement is") {
    fulfil_fixture f;
    f.stock("tea", 10, 0);
    f.stock("cup", 0, 10);
    const order_id id = f.paid_order({{"tea", 1}, {"cup", 1}});
    auto parts = f.plan(id);
    REQUIRE(parts.size() == 2);
    for (auto& p : parts) {
        f.pack(p);
        p = f.ship(p);
        REQUIRE(f.event(p.id, tracking_event::picked_up, 10).has_value());
    }
    REQUIRE(f.event(parts[0].id, tracking_event::declared_lost, 300).has_value());
    REQUIRE(f.event(parts[1].id, tracking_event::delivered, 400).has_value());
    CHECK(f.load(id).state == order_state::shipped);  // one parcel lost, not delivered
    auto reship = f.engine->resolve_logistics_exception(
        f.as(admin), logistics_resolution{parts[0].id, 0, logistics_remedy::reship, {}, ""});
    REQUIRE(reship.has_value());
    const auto fresh = f.engine->get_shipment(admin, *reship->shipment).value();
    CHECK(f.engine->fulfilment(admin, id).value().progress ==
          fulfilment_progress::partially_delivered);
    f.pack(fresh);
    f.ship(fresh);
    REQUIRE(f.event(fresh.id, tracking_event::picked_up, 500).has_value());
    REQUIRE(f.event(fresh.id, tracking_event::delivered, 600).has_value());
    CHECK(f.load(id).state == order_state::delivered);
    const auto view = f.engine->fulfilment(admin, id).value();
    CHECK(view.progress == fulfilment_progress::delivered);
    CHECK(view.shipments.size() == 2);  // the lost parcel no longer counts
}

TEST_CASE(
    "cancelling a planned order cancels its parcels, a parcel that left stops a cancel, and "
    "after shipment a cancel is a return") {
    fulfil_fixture f;
    f.stock("tea", 10, 10);
    const order_id id = f.paid_order({{"tea", 2}});
    const auto parts = f.plan(id);
    REQUIRE(f.engine->cancel_order(f.as(admin), id, "changed mind").has_value());
    CHECK(f.engine->get_shipment(admin, parts[0].id).value().state == shipment_state::cancelled);
    CHECK(f.reserved("tea", "wh-hz") == 0);
    CHECK(f.available("tea") == 10);

    // One of two parcels left: the order is neither cancellable nor shipped.
    f.stock("pen", 5, 0);
    f.stock("cup", 0, 10);
    const order_id half = f.paid_order({{"pen", 1}, {"cup", 1}});
    const auto two = f.plan(half);
    REQUIRE(two.size() == 2);
    f.pack(two[0]);
    f.ship(two[0]);
    check_refused(f.engine->cancel_order(f.as(admin), half, "too late"),
                  errc::transition_not_allowed, "state");

    // Every parcel left: the cancel opens a return ticket.
    const order_id shipped = f.paid_order({{"tea", 1}});
    auto s = f.plan(shipped).front();
    f.pack(s);
    f.ship(s);
    auto returned = f.engine->cancel_order(f.as(admin), shipped, "too late");
    REQUIRE(returned.has_value());
    CHECK(returned->state == order_state::shipped);
    REQUIRE(returned->ticket.has_value());
    CHECK(f.engine->get_ticket(admin, *returned->ticket).value().type ==
          ticket_type::return_and_refund);
}

TEST_CASE("fulfilment refusals name the field and change nothing") {
    fulfil_fixture f;
    f.stock("tea", 5, 0);
    place_order_request r = f.request(1);
    auto placed = f.engine->place_order(f.as(admin), r);
    REQUIRE(placed.has_value());
    // Not paid yet.
    check_refused(f.engine->plan_fulfilment(f.as(keeper), fulfilment_request{placed->order}),
                  errc::transition_not_allowed, "state");
    CHECK(f.load(placed->order).shipments.empty());
    check_refused(f.engine->ship_shipment(f.as(keeper), shipment_id(0)), errc::missing_value,
                  "shipment_id");
    check_refused(f.engine->ship_shipment(f.as(keeper), shipment_id(42)), errc::not_found,
                  "shipment_id");
    // A customer may not plan fulfilment.
    const order_id id = f.paid_order({{"tea", 1}});
    check_refused(f.engine->plan_fulfilment(f.as(alice), fulfilment_request{id}), errc::forbidden,
                  "actor.role");
    // Idempotent under its key.
    const auto ctx = f.as(keeper);
    auto first = f.engine->plan_fulfilment(ctx, fulfilment_request{id});
    REQUIRE(first.has_value());
    auto again = f.engine->plan_fulfilment(ctx, fulfilment_request{id});
    REQUIRE(again.has_value());
    CHECK(again->repeated);
    CHECK(again->shipment == first->shipment);
    CHECK(f.load(id).shipments.size() == 1);
    // A parcel not packed does not ship.
    check_refused(f.engine->ship_shipment(f.as(keeper), *first->shipment),
                  errc::transition_not_allowed, "shipment_id");
    // An engine without a set-up refuses the fulfilment commands.
    fixture plain;
    check_refused(plain.engine->plan_fulfilment(plain.as(admin), fulfilment_request{id}),
                  errc::invalid_value, "fulfilment");
}

// Seeded random steps over split and merged orders; after every step: stock
// is conserved per SKU and warehouse, reserved equals the active reservations,
// every unit of a planned order is in exactly one live parcel with an active
// or consumed reservation, and each order's state agrees with its parcels.
TEST_CASE("randomized fulfilment keeps stock, parcels and order states consistent") {
    const char* env = std::getenv("ORDERLY_SEED");
    const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 20261201;
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    fulfil_fixture f;
    const std::vector<std::string> skus{"tea", "cup", "oil"};
    std::map<std::pair<std::string, std::string>, std::int64_t> received;
    for (const auto& s : skus) {
        const std::int64_t hz = 40;
        const std::int64_t bj = 40;
        f.stock(s, hz, bj, sku_traits{.liquid = s == "oil"});
        received[{s, "wh-hz"}] = hz;
        received[{s, "wh-bj"}] = bj;
    }
    std::vector<order_id> orders;
    std::int64_t minute = 0;
    auto pick = [&](auto& v) -> auto& {
        return v[rng() % v.size()];
    };
    // Most steps act on recent orders, so orders get through their whole life.
    auto recent = [&]() {
        const std::size_t window = std::min<std::size_t>(orders.size(), 12);
        return orders[orders.size() - 1 - rng() % window];
    };
#if defined(__SANITIZE_THREAD__)
    const int steps = 800;  // TSan runs every instruction many times slower
#else
    const int steps = 1200;
#endif
    std::size_t merged = 0;
    std::size_t split = 0;
    std::size_t delivered_orders = 0;
    for (int step = 0; step < steps; ++step) {
        CAPTURE(step);
        f.clock.advance(1min);
        ++minute;
        const auto roll = rng() % 9;  // 0 place, 1-6 advance, 4 merge, 7 cancel, 8 restock
        if (roll < 1 || orders.empty()) {
            std::vector<std::pair<std::string, std::int64_t>> lines;
            const auto n = 1 + rng() % 2;
            std::set<std::string> used;
            for (std::size_t i = 0; i < n; ++i) {
                const std::string s = pick(skus);
                if (used.insert(s).second) {
                    lines.emplace_back(s, static_cast<std::int64_t>(1 + rng() % 6));
                }
            }
            place_order_request r;
            r.customer = customer_id(rng() % 2 == 0 ? "alice" : "bob");
            r.ship_to = home();
            for (auto& [code, units_n] : lines) {
                r.lines.push_back(line_request{sku_id(code), units(units_n), cny("12.50")});
            }
            auto placed = f.engine->place_order(f.as(admin), r);
            if (!placed) {
                CHECK(placed.error().code == errc::insufficient_stock);
                continue;
            }
            const order o = f.load(placed->order);
            REQUIRE(f.engine
                        ->record_payment(
                            f.as(gateway),
                            payment_callback{o.id, "t" + std::to_string(step), payment_method::card,
                                             payment_callback::outcome::captured, o.total, ""})
                        .has_value());
            orders.push_back(o.id);
            continue;
        }
        const order_id id = rng() % 5 == 0 ? pick(orders) : recent();
        const order o = f.load(id);
        if (roll != 4 && roll < 7 && o.state == order_state::paid) {
            auto planned = f.engine->plan_fulfilment(f.as(keeper), fulfilment_request{id});
            if (!planned) {
                CHECK(planned.error().code == errc::insufficient_stock);
            } else if (f.load(id).shipments.size() > 1) {
                ++split;
            }
        } else if (roll == 4 && !o.shipments.empty()) {
            // Merge with a parcel of another recent order of the same
            // customer, when there is one (mostly the merge is allowed: one
            // address, one warehouse, within the window); else a random one,
            // which the engine must refuse cleanly.
            order_id other = recent();
            for (std::size_t back = 1; back <= std::min<std::size_t>(orders.size(), 12); ++back) {
                const order candidate = f.load(orders[orders.size() - back]);
                if (candidate.id != id && candidate.customer == o.customer &&
                    !candidate.shipments.empty() && rng() % 4 != 0) {
                    other = candidate.id;
                    break;
                }
            }
            const order p = f.load(other);
            if (other != id && !p.shipments.empty()) {
                const std::array<shipment_id, 2> two{pick(o.shipments), pick(p.shipments)};
                auto joined = f.engine->merge_shipments(f.as(keeper), two);
                if (!joined) {
                    CHECK((joined.error().code == errc::invalid_value ||
                           joined.error().code == errc::transition_not_allowed));
                } else {
                    ++merged;
                }
            }
        } else if ((roll == 1 || roll == 3 || roll == 5) && !o.shipments.empty()) {
            const auto s = f.engine->get_shipment(admin, pick(o.shipments)).value();
            if (s.state == shipment_state::planned || s.state == shipment_state::picking) {
                // Sometimes a wrong scan first.
                if (rng() % 3 == 0) {
                    (void)f.engine->scan_for_packing(
                        f.as(keeper), pack_scan_request{s.id, sku_id("nothing"), units(1)});
                }
                f.pack(s);
            } else if (s.state == shipment_state::packed) {
                f.ship(s);
            }
        } else if ((roll == 2 || roll == 6) && !o.shipments.empty()) {
            const auto s = f.engine->get_shipment(admin, pick(o.shipments)).value();
            if (s.state == shipment_state::shipped) {
                // A pickup scan first; then mostly deliveries, sometimes hub scans,
                // with event times a little in the past (carriers upload late).
                const bool fresh = s.tracking->state() == tracking_state::label_created;
                const auto kind = fresh            ? tracking_event::picked_up
                                  : rng() % 4 == 0 ? tracking_event::arrived_at_hub
                                                   : tracking_event::delivered;
                REQUIRE(
                    f.event(s.id, kind, minute - static_cast<std::int64_t>(rng() % 3)).has_value());
            }
        } else if (roll == 8) {
            const std::string code = pick(skus);
            const std::string wh = rng() % 2 == 0 ? "wh-hz" : "wh-bj";
            REQUIRE(f.engine
                        ->receive_stock(f.as(keeper),
                                        stock_receipt{sku_id(code), warehouse_id(wh), units(15)})
                        .has_value());
            received[{code, wh}] += 15;
        } else if (roll == 7 && rng() % 3 == 0) {
            auto cancelled = f.engine->cancel_order(f.as(admin), id, "random cancel");
            if (!cancelled) {
                CHECK(cancelled.error().code == errc::transition_not_allowed);
            }
        }

        // Invariants.
        std::map<std::pair<std::string, std::string>, std::int64_t> active;
        std::map<std::pair<std::string, std::string>, std::int64_t> consumed;
        for (const order_id oid : orders) {
            const order x = f.load(oid);
            std::set<reservation_id> live;
            for (const auto& r : x.reservations) {
                if (r.active()) {
                    active[{r.sku.value(), r.warehouse.value()}] += r.units.units();
                    live.insert(r.id);
                } else if (r.state == reservation_state::consumed) {
                    consumed[{r.sku.value(), r.warehouse.value()}] += r.units.units();
                    live.insert(r.id);
                }
            }
            if (x.shipments.empty() || x.state == order_state::cancelled) {
                continue;
            }
            // Every unit of every line is in exactly one live parcel.
            std::vector<std::int64_t> per_line(x.lines.size(), 0);
            std::size_t left = 0;
            std::size_t live_parcels = 0;
            std::size_t delivered = 0;
            for (const auto sid : x.shipments) {
                const auto s = f.engine->get_shipment(admin, sid).value();
                if (s.state == shipment_state::cancelled) {
                    continue;
                }
                ++live_parcels;
                left += in_warehouse(s.state) ? 0U : 1U;
                delivered += s.state == shipment_state::delivered ? 1U : 0U;
                CHECK(std::find(s.orders.begin(), s.orders.end(), oid) != s.orders.end());
                for (const auto& l : s.lines) {
                    if (l.order == oid) {
                        per_line.at(l.line) += l.units.units();
                        CHECK(live.contains(l.reservation));
                    }
                }
            }
            for (std::size_t i = 0; i < x.lines.size(); ++i) {
                CHECK(per_line[i] == x.lines[i].units.units());
            }
            if (left == live_parcels) {
                CHECK((x.state == order_state::shipped || x.state == order_state::delivered));
            } else {
                CHECK((x.state == order_state::allocating || x.state == order_state::packed));
            }
            CHECK((delivered == live_parcels) == (x.state == order_state::delivered));
        }
        for (const auto& s : skus) {
            for (const std::string wh : {"wh-hz", "wh-bj"}) {
                CAPTURE(s);
                CAPTURE(wh);
                CHECK(f.reserved(s, wh) == active[{s, wh}]);
                CHECK(f.on_hand(s, wh) + consumed[{s, wh}] == received[{s, wh}]);
            }
        }
    }
    for (const order_id oid : orders) {
        delivered_orders += f.load(oid).state == order_state::delivered ? 1U : 0U;
    }
    MESSAGE("merges ", merged, ", split orders ", split, ", delivered orders ", delivered_orders);
    CHECK(merged > 0);
    CHECK(split > 0);
    CHECK(delivered_orders > 0);
}

TEST_CASE("a transfer leaves the source at once, is in transit at the target, then on hand") {
    fulfil_fixture f;
    f.stock("tea", 30, 0);
    const auto ctx = f.as(keeper);
    const transfer_request move{sku_id("tea"), warehouse_id("wh-hz"), warehouse_id("wh-bj"),
                                units(12), "stock the north"};
    auto sent = f.engine->dispatch_transfer(ctx, move);
    REQUIRE_MESSAGE(sent.has_value(), (sent ? "" : to_string(sent.error())));
    CHECK(sent->state == transfer_state::in_transit);
    CHECK(f.on_hand("tea", "wh-hz") == 18);
    auto target = f.store.stock(sku_id("tea"), warehouse_id("wh-bj")).value();
    REQUIRE(target.has_value());
    CHECK(target->in_transit.units() == 12);
    CHECK(target->on_hand.units() == 0);
    // The same key again: the same transfer, nothing moves twice.
    auto again = f.engine->dispatch_transfer(ctx, move);
    REQUIRE(again.has_value());
    CHECK(again->id == sent->id);
    CHECK(f.on_hand("tea", "wh-hz") == 18);

    auto got = f.engine->receive_transfer(f.as(keeper), sent->id);
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : to_string(got.error())));
    CHECK(got->state == transfer_state::received);
    target = f.store.stock(sku_id("tea"), warehouse_id("wh-bj")).value();
    CHECK(target->in_transit.units() == 0);
    CHECK(target->on_hand.units() == 12);
    check_refused(f.engine->receive_transfer(f.as(keeper), sent->id), errc::transition_not_allowed,
                  "transfer_id");

    // Refusals name the field and move nothing.
    transfer_request too_many = move;
    too_many.units = units(19);
    check_refused(f.engine->dispatch_transfer(f.as(keeper), too_many), errc::insufficient_stock,
                  "units");
    transfer_request nowhere = move;
    nowhere.to = nowhere.from;
    check_refused(f.engine->dispatch_transfer(f.as(keeper), nowhere), errc::invalid_value, "to");
    check_refused(f.engine->dispatch_transfer(f.as(alice), move), errc::forbidden, "actor.role");
    CHECK(f.on_hand("tea", "wh-hz") == 18);
}

TEST_CASE("open demand far from the stock proposes a transfer toward it") {
    fulfil_fixture f;
    f.stock("tea", 50, 0);
    // Three paid Beijing orders, served from Hangzhou today.
    for (int i = 0; i < 3; ++i) {
        place_order_request r = f.request(4);
        r.ship_to = place("Wang Wei", "Beijing", "Beijing");
        auto placed = f.engine->place_order(f.as(admin), r);
        REQUIRE(placed.has_value());
    }
    auto proposals = f.engine->propose_transfers(keeper);
    REQUIRE_MESSAGE(proposals.has_value(), (proposals ? "" : to_string(proposals.error())));
    REQUIRE(proposals->size() == 1);
    const auto& p = proposals->front().transfer;
    CHECK(p.from.value() == "wh-hz");
    CHECK(p.to.value() == "wh-bj");
    CHECK(p.units.units() == 12);
    CHECK_FALSE(p.reason.empty());
    // Dispatched, the stock in transit counts toward Beijing: nothing more to propose.
    REQUIRE(f.engine->dispatch_transfer(f.as(keeper), p).has_value());
    CHECK(f.engine->propose_transfers(keeper).value().empty());
}

TEST_CASE("a low-stock alert goes out once per drop below the threshold") {
    settings options;
    options.fulfilment.low_stock_scan_every = 1min;
    fulfil_fixture f(options);
    sku tea = catalogue_entry("tea", "12.50");
    tea.low_stock_below = units(5);
    REQUIRE(f.engine->put_sku(f.as(admin), tea).has_value());
    REQUIRE(f.engine
                ->receive_stock(f.as(keeper),
                                stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), units(6)})
                .has_value());
    CHECK(f.engine->run_due_work().value().low_stock_alerts == 0);
    REQUIRE(f.engine->place_order(f.as(admin), f.request(2)).has_value());  // 4 available
    f.clock.advance(2min);
    CHECK(f.engine->run_due_work().value().low_stock_alerts == 1);
    f.clock.advance(2min);
    CHECK(f.engine->run_due_work().value().low_stock_alerts == 0);  // announced once
    CHECK(f.notes_of(notification_kind::low_stock, audience::staff) == 1);
    CHECK(f.notes_of(notification_kind::low_stock, audience::merchant) == 1);
    REQUIRE(f.engine
                ->receive_stock(f.as(keeper),
                                stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), units(10)})
                .has_value());
    f.clock.advance(2min);
    CHECK(f.engine->run_due_work().value().low_stock_alerts == 0);  // recovered: flag cleared
    CHECK_FALSE(f.store.stock(sku_id("tea"), warehouse_id("wh-hz")).value()->low_stock_alerted);
    REQUIRE(f.engine->place_order(f.as(admin), f.request(10)).has_value());  // 4 again
    f.clock.advance(2min);
    CHECK(f.engine->run_due_work().value().low_stock_alerts == 1);  // a new drop, a new alert
}

TEST_CASE("turnover is units shipped over the time-weighted stock on hand") {
    fulfil_fixture f;
    f.stock("tea", 100, 0);  // received at the start
    const timestamp t0 = start_time();
    f.clock.advance(24h);
    const order_id id = f.paid_order({{"tea", 10}});
    auto s = f.plan(id).front();
    f.pack(s);
    f.ship(s);  // 10 leave after one day
    auto t = f.engine->turnover(keeper, sku_id("tea"), warehouse_id("wh-hz"), t0, t0 + 48h);
    REQUIRE_MESSAGE(t.has_value(), (t ? "" : to_string(t.error())));
    CHECK(t->units_shipped == 10);
    CHECK(t->average_on_hand == doctest::Approx(95.0));
    REQUIRE(t->turnover.has_value());
    CHECK(*t->turnover == doctest::Approx(10.0 / 95.0));
    // Before the stock arrived there was nothing to turn over.
    auto before =
        f.engine->turnover(keeper, sku_id("tea"), warehouse_id("wh-hz"), t0 - 48h, t0 - 24h);
    REQUIRE(before.has_value());
    CHECK(before->average_on_hand == 0.0);
    CHECK_FALSE(before->turnover.has_value());
    check_refused(f.engine->turnover(keeper, sku_id("tea"), warehouse_id("wh-hz"), t0, t0),
                  errc::invalid_value, "to");
}

TEST_CASE("carrier KPIs count on-time, delivered, lost, damage, complaints and cost") {
    fulfil_fixture f;
    f.stock("tea", 50, 0);
    std::vector<shipment> parcels;
    for (int i = 0; i < 4; ++i) {
        auto s = f.plan(f.paid_order({{"tea", 1}}, "c" + std::to_string(i))).front();
        f.pack(s);
        parcels.push_back(f.ship(s));
    }
    // One on time, one late, one lost, one damaged (reported by a person).
    for (const auto& p : parcels) {
        REQUIRE(f.event(p.id, tracking_event::picked_up, 10).has_value());
    }
    REQUIRE(f.event(parcels[0].id, tracking_event::delivered, 60 * 24).has_value());
    REQUIRE(f.event(parcels[1].id, tracking_event::delivered, 60 * 24 * 9).has_value());
    REQUIRE(f.event(parcels[2].id, tracking_event::declared_lost, 60 * 24 * 3).has_value());
    REQUIRE(f.engine
                ->report_logistics_exception(
                    f.as(admin),
                    logistics_exception_report{parcels[3].id, logistics_exception_kind::damaged,
                                               "customer sent photos of a torn box"})
                .has_value());
    REQUIRE(f.event(parcels[3].id, tracking_event::delivered, 60 * 24 * 2).has_value());
    auto kpis = f.engine->carrier_kpis(admin, start_time() - 1h, start_time() + 1h);
    REQUIRE_MESSAGE(kpis.has_value(), (kpis ? "" : to_string(kpis.error())));
    REQUIRE(kpis->size() == 1);
    const carrier_kpi& k = kpis->front();
    CHECK(k.carrier.value() == "yto");
    CHECK(k.parcels == 4);
    CHECK(k.delivered == 3);
    CHECK(k.on_time == 2);
    CHECK(k.lost == 1);
    CHECK(k.damaged == 1);
    CHECK(k.complaints == 1);
    CHECK(k.on_time_rate == rate::ratio(2, 3).value());
    CHECK(k.delivery_success_rate == rate::ratio(3, 4).value());
    CHECK(k.loss_rate == rate::ratio(1, 4).value());
    REQUIRE(k.total_cost.has_value());
    CHECK(*k.average_cost == money::parse("6.00", currencies::CNY).value());
    CHECK(*k.total_cost == money::parse("24.00", currencies::CNY).value());
    // Outside the period: nothing.
    CHECK(f.engine->carrier_kpis(admin, start_time() + 1h, start_time() + 2h).value().empty());
}
