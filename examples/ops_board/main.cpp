// orderly ops_board: a seeded simulated week of a two-merchant shop, as a
// reference for hosts wiring up operations.
//
// What a host provides, besides what warehouse_day and after_sales show:
// settings.operations (the detectors' limits and the response deadlines per
// priority; the defaults here) and settings.settlement (commission per
// category, the service fee per order, the account period). Then it calls,
// from its own jobs, screens and handlers:
//   run_due_work       from its scheduler (here every simulated hour): the
//                      detectors open exception cases (payment timeouts,
//                      late parcels, overdue tickets, low stock, orders stuck
//                      in a state), escalate late ones and resolve those whose
//                      cause went away
//   open_cases         the operator's queue, most urgent first
//   acknowledge_case / add_case_note / resolve_case   the operator's work,
//                      each resolution with a code the case library counts
//   open_case          an operator opens a case by hand
//   search_cases       the case library: what fixed what before
//   status_board_of    the status board of a period (to_json, to_csv,
//                      to_prometheus for the host's dashboards and /metrics)
//   settle_period      every merchant's statement of a period; the host pays
//                      the payouts and checks them with orderly::reconcile
//
// The week: from Monday 2026-12-07 00:00 a manual clock runs hour by hour.
// A few hundred seeded orders arrive (more by day), about 8% of payment
// attempts fail (some customers retry and pay, the others let the order time
// out), restricted goods wait for a reviewer (one in four for too long), and
// paid orders are planned at once. Matcha stands only in a Beijing
// warehouse outside the fulfilment network, so its orders cannot be planned
// until the operator restocks Shanghai (stock shortages); scarves run low.
// The warehouses cut pick waves every two hours from 08:00 to 22:00; carriers
// report progress, some parcels stall for days (delays), two are declared
// lost, a few cannot be delivered twice (unclear address). Some customers
// confirm receipt, the others are confirmed by due work seven days after
// delivery, so the run goes on for ten days after the week. A few customers
// ask for a refund of one item; an agent decides within hours, except on
// every third ticket, which passes its deadline. An operator works the case
// queue five times a day, and once on Sundays.
//
// It prints the status board of the orders placed in the week (and its CSV
// export), the open cases by priority at the end of the week, the case
// library's counts per resolution code, and one merchant's statement for the
// period covering the run, which it reconciles with orderly::reconcile. It
// exits non-zero when a command fails, a detector the week exercises opened
// no case, there is no statement, or the statements do not reconcile: CI
// runs it as a smoke test.
//
// Usage: ops_board [--seed S] [--db FILE]   (default: a fresh SQLite file in
//                  the temp directory, removed at the end; FILE must not exist)

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace orderly;

// The host's notification channel: counts by kind (a real host sends SMS,
// pushes, e-mails and pages the operations team, de-duplicating on note.id).
class counting_notifier final : public notifier {
public:
    result<void> deliver(const notification& note) override {
        const std::lock_guard lock(mutex_);
        ++counts_[note.kind];
        return {};
    }
    [[nodiscard]] std::size_t count(notification_kind k) const {
        const std::lock_guard lock(mutex_);
        const auto it = counts_.find(k);
        return it == counts_.end() ? 0 : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<notification_kind, std::size_t> counts_;
};

// Stops the example with the error when a command is refused; a host shows
// it to the person, or retries, instead.
template <class T>
T must(result<T> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, to_string(r.error()));
        std::exit(EXIT_FAILURE);
    }
    return std::move(*r);
}

void must(result<void> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, to_string(r.error()));
        std::exit(EXIT_FAILURE);
    }
}

money yuan(std::string_view text) {
    return must(money::parse(text, currencies::CNY), "price");
}

quantity units(std::int64_t n) {
    return must(quantity::of(n), "quantity");
}

rate rate_of(std::string_view text) {
    return must(rate::parse(text), "rate");
}

const warehouse_id shanghai("sh-east");
const warehouse_id chengdu("cd-west");
const warehouse_id beijing("bj-north");  // stocked, but outside the fulfilment network
const merchant_id leaf_shop("leaf-shop");
const merchant_id north_wear("north-wear");

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

// Shanghai serves the east first, Chengdu the west; both ship anywhere in CN.
// Beijing is a merchant's own store room: it holds stock, but fulfilment
// never picks from it.
fulfilment_network network() {
    fulfilment_network n;
    n.warehouses.push_back(
        warehouse{.id = shanghai,
                  .name = "Shanghai East DC",
                  .sender = depot("Shanghai East DC", "Shanghai", "Shanghai", "201100"),
                  .regions = {{"CN", "Shanghai", 10},
                              {"CN", "Zhejiang", 20},
                              {"CN", "Jiangsu", 20},
                              {"CN", "", 900}}});
    n.warehouses.push_back(
        warehouse{.id = chengdu,
                  .name = "Chengdu West DC",
                  .sender = depot("Chengdu West DC", "Sichuan", "Chengdu", "610000"),
                  .regions = {{"CN", "Sichuan", 10}, {"CN", "Chongqing", 30}, {"CN", "", 800}}});
    return n;
}

// YTO is cheap and refuses restricted goods; SF is faster and takes them.
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
                     .refuses = goods_traits{.restricted = true},
                     .max_weight_g = 30'000,
                     .max_volume_cm3 = 0,
                     .volumetric_divisor = 0,
                     .bands = {{1000, {yuan("6"), yuan("9")}}, {30'000, {yuan("18"), yuan("26")}}},
                     .beyond_last_band = std::nullopt,
                     .tracking = {.prefix = "YT", .digits = 10, .first_sequence = 1},
                     .on_time_rate = std::nullopt};
    carrier_spec sf{.id = carrier_id("SF"),
                    .name = "SF Express",
                    .services = {{.level = service_level::standard, .transit_days = {1, 2}}},
                    .coverage = {{.country = "CN", .provinces = {}}},
                    .refuses = {},
                    .max_weight_g = 50'000,
                    .max_volume_cm3 = 0,
                    .volumetric_divisor = 0,
                    .bands = {{1000, {yuan("12"), yuan("16")}}, {50'000, {yuan("30"), yuan("45")}}},
                    .beyond_last_band = std::nullopt,
                    .tracking = {.prefix = "SF", .digits = 10, .first_sequence = 1},
                    .on_time_rate = std::nullopt};
    return carrier_tables{.zones = {.rules = near, .default_zone = 2}, .carriers = {yto, sf}};
}

struct product {
    const char* id;
    const char* name;
    const char* category;  // chooses the commission rate
    const char* price;
    std::int64_t weight_g;
    sku_traits traits;
    std::int64_t east;       // units in Shanghai
    std::int64_t west;       // units in Chengdu
    std::int64_t north;      // units in Beijing, outside the network
    std::int64_t low_below;  // low-stock threshold per warehouse; 0: none
    merchant_id merchant;
};

// Six SKUs in three categories. Matcha stands only in Beijing (shortages);
// scarves start close to their threshold (low stock); incense is restricted
// (manual review).
const std::array<product, 6> catalogue = {{
    {"tea", "Longjing tea 100 g", "food", "58.00", 150, {}, 3000, 2000, 0, 0, leaf_shop},
    {"matcha", "Uji matcha 40 g", "food", "72.00", 80, {}, 0, 0, 500, 0, leaf_shop},
    {"incense", "Incense", "home", "36.00", 200, {.restricted = true}, 800, 600, 0, 0, leaf_shop},
    {"scarf", "Cashmere scarf", "apparel", "299.00", 250, {}, 70, 55, 0, 40, north_wear},
    {"socks", "Wool socks", "apparel", "25.00", 100, {}, 3000, 3000, 0, 0, north_wear},
    {"blanket", "Wool throw", "home", "189.00", 1200, {}, 600, 500, 0, 0, north_wear},
}};

const product& product_of(const sku_id& id) {
    for (const auto& p : catalogue) {
        if (id.value() == p.id) {
            return p;
        }
    }
    fmt::print(stderr, "unknown SKU {}\n", id);
    std::exit(EXIT_FAILURE);
}

const std::array<std::pair<const char*, const char*>, 6> cities = {{{"Shanghai", "Shanghai"},
                                                                    {"Zhejiang", "Hangzhou"},
                                                                    {"Jiangsu", "Suzhou"},
                                                                    {"Sichuan", "Chengdu"},
                                                                    {"Chongqing", "Chongqing"},
                                                                    {"Beijing", "Beijing"}}};

// Orders per hour of the day, on average: quiet at night, busy in the evening.
constexpr std::array<int, 24> orders_per_hour = {1, 0, 0, 0, 0, 0, 1, 2, 3, 3, 4, 4,
                                                 4, 3, 3, 3, 3, 3, 4, 4, 4, 3, 2, 1};

// The host's settings: operations defaults; commission per category, a 1.00
// service fee per order, and orders payable the day after completion.
settings shop_settings() {
    settings options;
    options.after_sales.agents = {"agent-zhou", "agent-lin"};
    options.settlement.category_rates = {{"food", rate_of("0.05")}, {"apparel", rate_of("0.08")}};
    options.settlement.default_rate = rate_of("0.06");
    options.settlement.service_fees = {yuan("1.00")};
    options.settlement.account_period_days = 1;
    return options;
}

// Every hour's work, at the minute it happens: the simulation's calendar.
// Items run in time order (ties in the order added) and may add more.
class agenda {
public:
    void at(timestamp when, std::function<void()> what) { items_.emplace(when, std::move(what)); }
    // Runs everything due before `end`, moving the clock to each item's time.
    void run_until(manual_clock& clock, timestamp end) {
        while (!items_.empty() && items_.begin()->first < end) {
            auto item = items_.extract(items_.begin());
            clock.set(std::max(clock.now(), item.key()));
            item.mapped()();
        }
    }

private:
    std::multimap<timestamp, std::function<void()>> items_;
};

// What the week did, as the simulation counted it.
struct tally {
    std::size_t placed{0};
    std::size_t sold_out{0};
    std::size_t reviewed{0};
    std::size_t slow_reviews{0};
    std::size_t payment_attempts{0};
    std::size_t payment_failures{0};
    std::size_t retries{0};
    std::size_t abandoned{0};
    std::size_t shortages{0};
    std::size_t waves{0};
    std::size_t shipped{0};
    std::size_t carrier_events{0};
    std::size_t stalled{0};
    std::size_t lost{0};
    std::size_t unclear{0};
    std::size_t delivered{0};
    std::size_t confirmed{0};
    std::size_t rated{0};
    std::size_t tickets{0};
    std::size_t late_tickets{0};
    std::size_t restocks{0};
    std::size_t cases_worked{0};
    std::size_t cases_resolved{0};
    due_work_report due{};
};

// The actors of the week.
const actor admin{"ops-admin", role::admin};
const actor frontend{"shop-frontend", role::system};
const actor gateway{"pay-gateway", role::system};
const actor reviewer{"risk-desk", role::reviewer};
const actor keeper{"wh-team", role::warehouse};
const actor carrier_hook{"carrier-webhook", role::system};
const actor agent{"agent-zhou", role::customer_service};
const actor operator_li{"ops-li", role::customer_service};

// The simulated week: the host's handlers and jobs, driven by the agenda.
class week {
public:
    week(engine& e, store& st, manual_clock& clock, std::uint64_t seed, timestamp start)
        : engine_(e), store_(st), clock_(clock), rng_(seed), seed_(seed), start_(start) {}

    // Runs the week and `extra_days` after it, hour by hour; at the end of
    // the week keeps the operator's queue as it stood then.
    void run(int extra_days) {
        const timestamp week_end = start_ + std::chrono::days(7);
        const timestamp end = week_end + std::chrono::days(extra_days);
        agenda_.at(start_ + std::chrono::days(2) + 10h, [this] { open_case_by_hand(); });
        for (timestamp hour = start_; hour < end; hour += 1h) {
            if (hour < week_end) {
                schedule_orders(hour);
            }
            agenda_.run_until(clock_, hour + 1h);
            clock_.set(hour + 1h);
            const auto h = hour_of_day(clock_.now());
            if (h >= 8 && h <= 22 && h % 2 == 0) {
                warehouse_round(shanghai);
                warehouse_round(chengdu);
            }
            if (on_duty(clock_.now())) {
                operator_round();
            }
            add(must(engine_.run_due_work(1000), "run_due_work"));
            if (clock_.now() == week_end) {
                queue_at_week_end_ = must(engine_.open_cases(operator_li), "open_cases");
            }
        }
    }

    [[nodiscard]] const tally& counts() const { return tally_; }
    [[nodiscard]] const std::vector<exception_case>& queue_at_week_end() const {
        return queue_at_week_end_;
    }

private:
    static long hour_of_day(timestamp t) {
        const auto day = std::chrono::floor<std::chrono::days>(t);
        return std::chrono::duration_cast<std::chrono::hours>(t - day).count();
    }

    // The operator looks at the queue at 09:00, 12:00, 15:00, 18:00 and
    // 21:00, and on Sundays only at noon.
    static bool on_duty(timestamp t) {
        const auto h = hour_of_day(t);
        const std::chrono::weekday day{std::chrono::floor<std::chrono::days>(t)};
        return day == std::chrono::Sunday ? h == 12 : h >= 9 && h <= 21 && h % 3 == 0;
    }

    command_context as(const actor& who) {
        return command_context{who, fmt::format("week-{}-{}", seed_, ++keys_)};
    }

    std::size_t roll(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

    void add(const due_work_report& r) {
        tally_.due.payment_timeouts += r.payment_timeouts;
        tally_.due.auto_confirmed += r.auto_confirmed;
        tally_.due.delayed_shipments += r.delayed_shipments;
        tally_.due.low_stock_alerts += r.low_stock_alerts;
        tally_.due.tickets_escalated += r.tickets_escalated;
        tally_.due.cases_opened += r.cases_opened;
        tally_.due.cases_escalated += r.cases_escalated;
        tally_.due.causes_cleared += r.causes_cleared;
        tally_.due.orders_archived += r.orders_archived;
    }

    // --- orders and payments ---

    void schedule_orders(timestamp hour) {
        const int mean = orders_per_hour[static_cast<std::size_t>(hour_of_day(hour))];
        const int count = mean * static_cast<int>(2 + roll(3)) / 3;
        for (int i = 0; i < count; ++i) {
            agenda_.at(hour + std::chrono::minutes(roll(60)), [this] { place_one(); });
        }
    }

    place_order_request new_request() {
        const std::size_t customer = roll(160);
        const auto& [province, city] = cities[customer % cities.size()];
        place_order_request r;
        static constexpr std::array<order_channel, 4> channels = {
            order_channel::web, order_channel::mobile_app, order_channel::mobile_app,
            order_channel::marketplace};
        r.channel = channels[roll(channels.size())];
        r.customer = customer_id(fmt::format("cust-{}", customer));
        r.merchant = roll(5) < 3 ? leaf_shop : north_wear;
        r.ship_to = address{.recipient = fmt::format("Customer {}", customer),
                            .phone = "13812345678",
                            .country = "CN",
                            .province = province,
                            .city = city,
                            .district = "Centre",
                            .street = fmt::format("{} Nanjing Road", customer % 900 + 1),
                            .postcode = "200000"};
        r.shipping_fee = yuan(roll(3) == 0 ? "0.00" : "8.00");
        const std::size_t lines = 1 + roll(3);
        for (std::size_t i = 0; i < lines; ++i) {
            const auto& p = catalogue[roll(catalogue.size())];
            const bool repeated =
                std::any_of(r.lines.begin(), r.lines.end(),
                            [&](const line_request& l) { return l.sku.value() == p.id; });
            if (p.merchant == r.merchant && !repeated) {
                r.lines.push_back(
                    {sku_id(p.id), units(1 + static_cast<std::int64_t>(roll(2))), yuan(p.price)});
            }
        }
        if (r.lines.empty()) {  // the shop's bestseller
            const char* id = r.merchant == leaf_shop ? "tea" : "socks";
            r.lines.push_back({sku_id(id), units(1), yuan(product_of(sku_id(id)).price)});
        }
        return r;
    }

    void place_one() {
        auto placed = engine_.place_order(as(frontend), new_request());
        if (!placed) {
            if (placed.error().code != errc::insufficient_stock) {
                must(std::move(placed), "place_order");
            }
            ++tally_.sold_out;
            return;
        }
        ++tally_.placed;
        const order_id id = placed->order;
        if (placed->state == order_state::pending_review) {
            // Restricted goods wait for the risk desk; one in four waits
            // longer than operations.review_limit.
            const bool slow = tally_.reviewed++ % 4 == 2;
            tally_.slow_reviews += slow ? 1U : 0U;
            const auto wait = slow ? 30h : std::chrono::hours(1 + roll(3));
            agenda_.at(clock_.now() + wait,
                       [this, id] { approve(id, "checked by the risk desk"); });
            return;
        }
        schedule_payment(id, 1);
    }

    void approve(order_id id, std::string_view note) {
        const order o = must(engine_.get_order(admin, id), "get_order");
        if (o.state != order_state::pending_review) {
            return;  // the operator approved it already
        }
        must(engine_.approve_order(as(reviewer), id, note), "approve_order");
        schedule_payment(id, 1);
    }

    void schedule_payment(order_id id, int attempt) {
        const auto wait = attempt == 1 ? std::chrono::minutes(1 + roll(10)) : 6min;
        agenda_.at(clock_.now() + wait, [this, id, attempt] { pay(id, attempt); });
    }

    // The gateway's callback. About 8% of attempts fail; of those customers,
    // some try again a few minutes later and the others walk away (the order
    // times out). A third failure cancels the order.
    void pay(order_id id, int attempt) {
        const order o = must(engine_.get_order(admin, id), "get_order");
        if (o.state != order_state::awaiting_payment) {
            return;
        }
        ++tally_.payment_attempts;
        const bool fails = roll(100) < 8;
        payment_callback cb{.order = id,
                            .gateway_reference = fmt::format("pay-{}-{}", id, attempt),
                            .method = payment_method::card,
                            .result = fails ? payment_callback::outcome::failed
                                            : payment_callback::outcome::captured,
                            .amount = o.total,
                            .failure_reason = fails ? "card declined by the issuer" : ""};
        const auto paid = must(
            engine_.record_payment(command_context{gateway, cb.gateway_reference}, cb), "payment");
        if (fails) {
            ++tally_.payment_failures;
            if (attempt < 3 && roll(10) < 6) {
                ++tally_.retries;
                schedule_payment(id, attempt + 1);
            } else if (attempt < 3) {
                ++tally_.abandoned;
            }
            return;
        }
        if (paid.state == order_state::paid) {
            fulfil(id);
        }
    }

    // Plans a paid order at once; a shortage is the engine's case to open.
    bool fulfil(order_id id) {
        auto planned = engine_.plan_fulfilment(as(keeper), {id, {}, {}});
        if (!planned && planned.error().code == errc::insufficient_stock) {
            ++tally_.shortages;
            return false;
        }
        must(std::move(planned), "plan_fulfilment");
        return true;
    }

    // --- the warehouses and the carriers ---

    void warehouse_round(const warehouse_id& where) {
        const auto waves = must(engine_.plan_pick_waves(as(keeper), where), "plan_pick_waves");
        tally_.waves += waves.size();
        for (const auto& w : waves) {
            for (const shipment_id id : w.wave.shipments) {
                const shipment s = must(engine_.get_shipment(admin, id), "get_shipment");
                for (const auto& l : s.lines) {
                    must(engine_.scan_for_packing(as(keeper), {id, l.sku, l.units}), "scan");
                }
                must(engine_.finish_packing(as(keeper), id), "finish_packing");
                must(engine_.ship_shipment(as(keeper), id), "ship_shipment");
                schedule_tracking(id);
            }
        }
    }

    // What the carrier will report on a parcel that left now. Most arrive in
    // one to three days with progress at least every 20 h; every 19th stalls
    // for 60 h; the 25th and 122nd are lost; every 47th fails delivery twice.
    void schedule_tracking(shipment_id id) {
        const std::size_t n = tally_.shipped++;
        const timestamp left = clock_.now();
        auto say = [&](duration after, tracking_event kind, const char* where,
                       const char* detail = "") {
            agenda_.at(left + after,
                       [this, id, kind, where, detail] { carrier_says(id, kind, where, detail); });
        };
        say(2h, tracking_event::picked_up, "collected at the warehouse");
        if (n == 24 || n == 121) {
            ++tally_.lost;
            say(30h, tracking_event::declared_lost, "Wuxi hub", "not found at sorting");
            return;
        }
        if (n % 19 == 7) {
            ++tally_.stalled;
            say(62h, tracking_event::arrived_at_hub, "regional hub", "held back by weather");
            say(70h, tracking_event::sent_out_for_delivery, "local station");
            say(73h, tracking_event::delivered, "front desk");
            return;
        }
        const auto due = std::chrono::hours(24 * static_cast<int>(1 + roll(3)));
        bool at_hub = true;
        for (auto t = 20h; t < due - 5h; t += 20h, at_hub = !at_hub) {
            say(t, at_hub ? tracking_event::arrived_at_hub : tracking_event::departed_facility,
                "regional hub");
        }
        say(due - 5h, tracking_event::sent_out_for_delivery, "local station");
        if (n % 47 == 11) {
            ++tally_.unclear;
            say(due - 3h, tracking_event::delivery_attempt_failed, "local station",
                "recipient not at home");
            say(due + 19h, tracking_event::sent_out_for_delivery, "local station");
            say(due + 21h, tracking_event::delivery_attempt_failed, "local station",
                "address incomplete: no building number");
            say(due + 43h, tracking_event::sent_out_for_delivery, "local station");
            say(due + 45h, tracking_event::delivered, "neighbour");
            return;
        }
        say(due - 2h, tracking_event::delivered, roll(2) == 0 ? "front desk" : "parcel locker");
    }

    // The carrier's webhook.
    void carrier_says(shipment_id id, tracking_event kind, const char* where, const char* detail) {
        carrier_event e;
        e.id = fmt::format("{}-{}", id, ++carrier_sequence_);
        e.kind = kind;
        e.occurred_at = clock_.now();
        e.location = where;
        e.detail = detail;
        must(engine_.record_carrier_event(command_context{carrier_hook, "evt-" + e.id}, {id, e}),
             "record_carrier_event");
        ++tally_.carrier_events;
        if (kind == tracking_event::delivered) {
            delivered(id);
        }
    }

    // A parcel arrived: customers of delivered orders confirm (four in ten),
    // rate, or ask for a refund of one item (about one order in thirty).
    void delivered(shipment_id id) {
        const shipment s = must(engine_.get_shipment(admin, id), "get_shipment");
        for (const order_id oid : s.orders) {
            const order o = must(engine_.get_order(admin, oid), "get_order");
            if (o.state != order_state::delivered || !seen_delivered_.insert(oid).second) {
                continue;
            }
            if (++tally_.delivered % 30 == 5) {
                ticket_wanted_ = true;
            }
            if (ticket_wanted_ && o.lines.size() >= 2) {
                ticket_wanted_ = false;
                agenda_.at(clock_.now() + 20h, [this, oid] { ask_for_refund(oid); });
                continue;  // confirmed by due work, after the ticket
            }
            if (first_delivered_.value() == 0) {
                first_delivered_ = oid;
            }
            if (roll(10) < 4) {
                const auto wait = std::chrono::hours(18 + roll(30));
                agenda_.at(clock_.now() + wait, [this, oid] { confirm(oid); });
            }
        }
    }

    void confirm(order_id id) {
        const order o = must(engine_.get_order(admin, id), "get_order");
        const actor customer{o.customer.value(), role::customer};
        must(engine_.confirm_receipt(as(customer), id), "confirm_receipt");
        ++tally_.confirmed;
        if (roll(3) != 0) {
            const auto score = static_cast<std::uint8_t>(3 + roll(3));
            must(engine_.rate_order(as(customer), {.order = id, .score = score, .text = ""}),
                 "rate_order");
            ++tally_.rated;
        }
    }

    // Refund only, one unit of the second line: an agent decides within a
    // few hours, except every third ticket, which waits past the response
    // time and escalates (an after_sales_overdue case).
    void ask_for_refund(order_id id) {
        const order o = must(engine_.get_order(admin, id), "get_order");
        const actor customer{o.customer.value(), role::customer};
        open_ticket_request r;
        r.order = id;
        r.type = ticket_type::refund_only;
        r.reason = ticket_reason::quality;
        r.description = "The second item arrived with a broken seal.";
        r.evidence = {fmt::format("photos/{}/seal.jpg", o.customer)};
        r.lines = {{.line = 1, .units = units(1), .replacement_sku = {}}};
        const auto opened = must(engine_.open_ticket(as(customer), r), "open_ticket");
        const ticket_id ticket = *opened.ticket;
        const bool late = tally_.tickets++ % 3 == 0;
        tally_.late_tickets += late ? 1U : 0U;
        if (!late) {
            agenda_.at(clock_.now() + std::chrono::hours(2 + roll(6)),
                       [this, ticket] { decide(ticket); });
        }
    }

    void decide(ticket_id id) {
        const ticket t = must(engine_.get_ticket(admin, id), "get_ticket");
        if (t.state != ticket_state::under_review && t.state != ticket_state::escalated) {
            return;
        }
        must(engine_.decide_ticket(as(agent),
                                   {.ticket = id,
                                    .approve = true,
                                    .note = "refund approved: the photo shows the broken seal"}),
             "decide_ticket");
    }

    // --- the operator ---

    void open_case_by_hand() {
        if (first_delivered_.value() == 0) {
            return;
        }
        const auto opened =
            must(engine_.open_case(as(operator_li),
                                   {.type = case_type::other,
                                    .priority = case_priority::normal,
                                    .title = "Customer phoned: the gift note was missing",
                                    .order = first_delivered_,
                                    .note = "asked us to tell the merchant"}),
                 "open_case");
        fmt::print("  {:%a %H:%M}  ops-li opened case {} by hand: {}\n", clock_.now(), opened.id,
                   opened.title);
    }

    // On each round the operator takes every new case and works what can
    // be put right; late parcels wait for the carrier (half are chased),
    // failed payments for the customer, and timeouts are followed up after a
    // day.
    void operator_round() {
        const auto queue = must(engine_.open_cases(operator_li), "open_cases");
        for (const exception_case& c : queue) {
            const bool fresh =
                c.state == case_state::open ||
                (c.state == case_state::escalated && c.escalated_from == case_state::open);
            if (fresh) {
                must(engine_.acknowledge_case(as(operator_li), c.id, ""), "acknowledge_case");
            }
            ++tally_.cases_worked;
            work(c);
        }
    }

    void resolve(const exception_case& c, std::string_view what, std::string_view code) {
        must(engine_.resolve_case(as(operator_li), c.id, what, code), "resolve_case");
        ++tally_.cases_resolved;
    }

    void work(const exception_case& c) {
        switch (c.type) {
            case case_type::stock_shortage:
                return restock_and_plan(c);
            case case_type::low_stock:
                restock(c.sku, c.warehouse, 150);
                return resolve(c, "ordered 150 units from the supplier", "restocked");
            case case_type::logistics_loss:
                return reship(c);
            case case_type::unclear_address:
                must(engine_.add_case_note(as(operator_li), c.id,
                                           "phoned the customer: building 7, unit 302"),
                     "add_case_note");
                return resolve(c, "address completed with the customer", "customer_contacted");
            case case_type::logistics_delay:
                if (c.id.value() % 2 == 1) {
                    return resolve(c, "the carrier promised delivery tomorrow", "carrier_chased");
                }
                return;  // its cause clears when the parcel moves again
            case case_type::payment_timeout:
                if (clock_.now() - c.opened_at >= 24h) {
                    return resolve(c, "sent the customer a link to order again",
                                   "customer_contacted");
                }
                return;
            case case_type::after_sales_overdue:
                if (c.ticket) {
                    decide(*c.ticket);
                }
                return resolve(c, "the agent decided the ticket", "ticket_decided");
            case case_type::unprocessed_order:
                return chase_order(c);
            case case_type::other:
                return resolve(c, "told the merchant; a note goes with the next order",
                               "merchant_informed");
            default:
                return;  // payment failures clear when the customer pays or walks away
        }
    }

    // An order stuck in review is approved after a reminder; one stuck in
    // paid is planned again; anything else clears on its own.
    void chase_order(const exception_case& c) {
        if (!c.order) {
            return;
        }
        const order o = must(engine_.get_order(admin, *c.order), "get_order");
        if (o.state == order_state::pending_review) {
            approve(o.id, "approved after the operator's reminder");
            resolve(c, "reminded the risk desk, who approved it", "review_completed");
        } else if (o.state == order_state::paid && fulfil(o.id)) {
            resolve(c, "planned the order again", "replanned");
        }
    }

    void restock(const sku_id& sku, const warehouse_id& where, std::int64_t n) {
        must(engine_.receive_stock(as(keeper), {sku, where, units(n)}), "receive_stock");
        ++tally_.restocks;
    }

    // Brings what the order misses to Shanghai, a little more than needed,
    // and plans it again.
    void restock_and_plan(const exception_case& c) {
        if (!c.order) {
            return;
        }
        const order o = must(engine_.get_order(admin, *c.order), "get_order");
        if (o.state != order_state::paid) {
            return;  // the detector clears it
        }
        for (const auto& l : o.lines) {
            const auto level = must(store_.stock(l.sku, shanghai), "stock");
            const std::int64_t available = level ? level->available() : 0;
            if (available < l.units.units()) {
                restock(l.sku, shanghai, l.units.units() + 6);
            }
        }
        if (fulfil(o.id)) {
            resolve(c, "moved stock to Shanghai East DC and planned the order", "restocked");
        }
    }

    // Sends a lost parcel's goods again; when the warehouse has none left,
    // refunds them instead.
    void reship(const exception_case& c) {
        if (!c.shipment) {
            return;
        }
        const shipment s = must(engine_.get_shipment(admin, *c.shipment), "get_shipment");
        bool refunded = false;
        for (std::size_t i = 0; i < s.exceptions.size(); ++i) {
            if (s.exceptions[i].kind != logistics_exception_kind::lost || !s.exceptions[i].open()) {
                continue;
            }
            auto sent = engine_.resolve_logistics_exception(
                as(operator_li),
                {*c.shipment, i, logistics_remedy::reship, {}, "the carrier lost it"});
            if (!sent && sent.error().code == errc::insufficient_stock) {
                must(engine_.resolve_logistics_exception(
                         as(operator_li), {*c.shipment,
                                           i,
                                           logistics_remedy::refund,
                                           {},
                                           "the carrier lost it; nothing left to send"}),
                     "refund the lost parcel");
                refunded = true;
                continue;
            }
            must(std::move(sent), "reship");
        }
        if (refunded) {
            return resolve(c, "no stock left to send again: refunded the goods", "refunded");
        }
        resolve(c, "sent the goods again from the same warehouse", "reshipped");
    }

    engine& engine_;
    store& store_;
    manual_clock& clock_;
    std::mt19937_64 rng_;
    std::uint64_t seed_;
    timestamp start_;
    agenda agenda_;
    tally tally_;
    std::uint64_t keys_{0};
    std::uint64_t carrier_sequence_{0};
    std::set<order_id> seen_delivered_;
    bool ticket_wanted_{false};
    order_id first_delivered_{};
    std::vector<exception_case> queue_at_week_end_;
};

// --- printing ---

std::string hours(std::int64_t ms) {
    return fmt::format("{:.1f} h", static_cast<double>(ms) / 3'600'000.0);
}

std::string times(const std::optional<duration_percentiles>& p) {
    if (!p) {
        return "-";
    }
    return fmt::format("{} / {} / {}", hours(p->p50_ms), hours(p->p90_ms), hours(p->p99_ms));
}

std::string share(std::size_t count, std::size_t of) {
    if (of == 0) {
        return "-";
    }
    return fmt::format("{}%", decimal_ratio(100U * count, of, 1));
}

void print_group(std::string_view name, const board_figures& f) {
    fmt::print("  {:<12} {:>6} {:>7} {:>10} {:>10} {:>7}  {:<26} {}\n", name, f.orders,
               share(f.cancelled, f.orders), share(f.after_sales_orders, f.orders),
               share(f.exception_orders, f.orders),
               f.ratings == 0 ? "-" : decimal_ratio(f.rating_sum, f.ratings, 2),
               times(f.to_shipment), times(f.to_delivery));
}

void print_board(const status_board& board) {
    fmt::print("Status board: orders placed {:%Y-%m-%d %H:%M} to {:%Y-%m-%d %H:%M}\n", board.from,
               board.to);
    fmt::print("  by state:");
    for (const order_state s : all_order_states) {
        if (const std::size_t n = board.total.in_state(s); n > 0) {
            fmt::print(" {} {},", s, n);
        }
    }
    fmt::print(" in all {}\n", board.total.orders);
    fmt::print("  {:<12} {:>6} {:>7} {:>10} {:>10} {:>7}  {:<26} {}\n", "group", "orders", "cancel",
               "aftersales", "exceptions", "rating", "to shipment p50/p90/p99",
               "to delivery p50/p90/p99");
    print_group("total", board.total);
    for (const auto& [channel, f] : board.by_channel) {
        print_group(fmt::format("{}", channel), f);
    }
    for (const auto& [merchant, f] : board.by_merchant) {
        print_group(merchant.value(), f);
    }
    std::string csv = to_csv(board);
    std::erase(csv, '\r');  // RFC 4180 ends lines with CRLF; printed here without the CRs
    fmt::print("\nStatus board CSV export (to_csv; to_json and to_prometheus give the same)\n{}\n",
               csv);
}

std::string age(duration d) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(d).count();
    return h >= 48 ? fmt::format("{} d {} h", h / 24, h % 24) : fmt::format("{} h", h);
}

void print_open_cases(const std::vector<exception_case>& queue, timestamp at) {
    fmt::print("Open cases at {:%Y-%m-%d %H:%M}, most urgent first ({} in all)\n", at,
               queue.size());
    for (auto p = all_case_priorities.rbegin(); p != all_case_priorities.rend(); ++p) {
        const auto n = std::count_if(queue.begin(), queue.end(),
                                     [&](const exception_case& c) { return c.priority == *p; });
        fmt::print("  {} ({})\n", *p, n);
        for (const exception_case& c : queue) {
            if (c.priority == *p) {
                fmt::print("    #{:<4} {:<20} {:<13} {:>7}  {}\n", c.id, c.type, c.state,
                           age(at - c.opened_at), c.title);
            }
        }
    }
}

void print_library(const case_search_result& all, const case_search_result& losses) {
    fmt::print("\nCase library: {} resolved or closed cases\n", all.total);
    for (const resolution_count& r : all.by_code) {
        fmt::print("  {:<20} {:>4}\n", r.code.empty() ? "(none)" : r.code, r.cases);
    }
    fmt::print("  lost parcels, what fixed them:\n");
    for (const exception_case& c : losses.cases) {
        fmt::print("    #{} {} -> {} ({})\n", c.id, c.title, c.resolution, c.resolution_code);
    }
}

// An amount without its currency code, for the statement's columns.
std::string plain(const money& m) {
    std::string text = m.to_string();
    return text.substr(0, text.find(' '));
}

void print_statement(const statement& s, std::size_t shown) {
    fmt::print("\nStatement of {} ({}), {:%Y-%m-%d} to {:%Y-%m-%d}: {} orders paid out\n",
               s.merchant, s.currency.code(), s.period.from, s.period.to, s.orders.size());
    fmt::print("  {:<20} {:<11} {:>9} {:>8} {:>9} {:>10} {:>5} {:>8} {:>9} {:>9}\n", "order",
               "payable", "goods", "shipping", "gross", "commission", "fee", "refunded",
               "comm back", "payout");
    std::size_t listed = 0;
    for (const settled_order& o : s.orders) {
        if (listed >= shown && o.refunds.empty()) {
            continue;  // every refunded order is listed; the rest up to `shown`
        }
        ++listed;
        fmt::print("  {:<20} {:%m-%d %H:%M} {:>9} {:>8} {:>9} {:>10} {:>5} {:>8} {:>9} {:>9}\n",
                   o.order, o.payable_at, plain(o.goods), plain(o.shipping), plain(o.gross),
                   plain(o.commission), plain(o.service_fee), plain(o.refunded),
                   plain(o.commission_returned), plain(o.payout));
        if (o.refunds.empty()) {
            continue;
        }
        for (const settled_line& l : o.lines) {
            fmt::print(
                "      line: {:<8} rate {:<5} paid {:>7} commission {:>5}, refunded {:>6}, "
                "commission back {}\n",
                l.category, l.commission_rate, plain(l.paid), plain(l.commission),
                plain(l.refunded), plain(l.commission_returned));
        }
        for (const settled_refund& r : o.refunds) {
            fmt::print("      refund {:%m-%d %H:%M} (ticket {}): goods {} + shipping {} = {}\n",
                       r.at, r.ticket, plain(r.goods), plain(r.shipping), plain(r.amount));
        }
    }
    if (listed < s.orders.size()) {
        fmt::print("  ... {} more orders without refunds\n", s.orders.size() - listed);
    }
    fmt::print(
        "  gross {} - commission {} - service fees {} - refunded {} - clawed back {} "
        "- compensated {} - compensations clawed back {} + commission returned {}\n",
        s.gross, s.commission, s.service_fees, s.refunded, s.clawed_back, s.compensated,
        s.compensations_clawed_back, s.commission_returned);
    fmt::print("  = payout {}; platform income {}\n", s.payout, s.platform_income);
}

// --- the database file ---

std::filesystem::path temporary;

void remove_database(const std::filesystem::path& file) {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(file.string() + suffix, ignored);
    }
}

void remove_temporary() {
    remove_database(temporary);
}

struct options_given {
    std::uint64_t seed{20261207};
    std::filesystem::path db{};
};

options_given parse(int argc, char** argv) {
    options_given given;
    for (int i = 1; i < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (i + 1 < argc && flag == "--seed") {
            given.seed = std::strtoull(argv[i + 1], nullptr, 10);
        } else if (i + 1 < argc && flag == "--db") {
            given.db = argv[i + 1];
        } else {
            fmt::print(stderr, "usage: ops_board [--seed S] [--db FILE]\n");
            std::exit(2);
        }
    }
    return given;
}

std::unique_ptr<engine> start_engine(store& st, notifier& notes, manual_clock& clock,
                                     const access_policy& policy, carrier_table& directory) {
    fulfilment_setup setup;
    setup.network = network();
    setup.carriers = &directory;
    setup.forced_carriers = {{goods_trait::restricted, carrier_id("SF")}};
    setup.bins = [](const warehouse_id&, const sku_id& s) -> std::optional<bin_location> {
        for (std::size_t i = 0; i < catalogue.size(); ++i) {
            if (s.value() == catalogue[i].id) {
                return bin_location{"", fmt::format("A-{}-{}", i / 3 + 1, i % 3 * 4 + 2)};
            }
        }
        return std::nullopt;
    };
    auto e = must(engine::create({st, notes, clock, policy}, shop_settings(), setup), "engine");
    std::uint64_t n = 0;
    auto as = [&] { return command_context{admin, fmt::format("setup-{}", ++n)}; };
    for (const auto& p : catalogue) {
        sku entry{
            .id = sku_id(p.id),
            .merchant = p.merchant,
            .name = p.name,
            .category = p.category,
            .price = yuan(p.price),
            .weight_g = p.weight_g,
            .volume_cm3 = p.weight_g * 3,
            .traits = p.traits,
            .status = sku_status::on_sale,
            .low_stock_below = p.low_below > 0 ? std::optional(units(p.low_below)) : std::nullopt};
        must(e->put_sku(as(), entry), "put_sku");
        for (const auto& [where, n_units] :
             {std::pair{shanghai, p.east}, std::pair{chengdu, p.west},
              std::pair{beijing, p.north}}) {
            if (n_units > 0) {
                must(e->receive_stock(as(), {entry.id, where, units(n_units)}), "receive_stock");
            }
        }
    }
    return e;
}

void print_week(const tally& t, const counting_notifier& notes) {
    fmt::print(
        "\nThe week: {} orders placed ({} refused, sold out), {} reviewed by hand ({} too "
        "slowly)\n",
        t.placed, t.sold_out, t.reviewed, t.slow_reviews);
    fmt::print("  {} payment attempts, {} failed: {} retried, {} left to time out ({} timed out)\n",
               t.payment_attempts, t.payment_failures, t.retries, t.abandoned,
               t.due.payment_timeouts);
    fmt::print(
        "  {} plans refused for want of stock; {} restocks; {} pick waves, {} parcels shipped\n",
        t.shortages, t.restocks, t.waves, t.shipped);
    fmt::print(
        "  {} carrier events: {} parcels stalled ({} marked delayed), {} lost, {} with two "
        "failed attempts\n",
        t.carrier_events, t.stalled, t.due.delayed_shipments, t.lost, t.unclear);
    fmt::print(
        "  {} orders delivered: {} confirmed by the customer ({} rated), {} by due work; {} "
        "refund tickets ({} decided late)\n",
        t.delivered, t.confirmed, t.rated, t.due.auto_confirmed, t.tickets, t.late_tickets);
    fmt::print(
        "  cases: {} opened by detectors in due work, {} escalated, {} cleared by their cause; "
        "the operator worked {} and resolved {}\n",
        t.due.cases_opened, t.due.cases_escalated, t.due.causes_cleared, t.cases_worked,
        t.cases_resolved);
    fmt::print(
        "  notifications: {} case opened, {} case escalated, {} low stock, {} to merchants "
        "(new orders)\n\n",
        notes.count(notification_kind::case_opened), notes.count(notification_kind::case_escalated),
        notes.count(notification_kind::low_stock), notes.count(notification_kind::new_order));
}

// What the reports found, for the smoke test.
struct findings {
    std::size_t board_orders{0};
    std::set<case_type> case_types{};
    bool open_at_week_end{false};
    bool library_has_codes{false};
    bool statement_has_orders{false};
    std::size_t differences{0};
};

// The operations lead's reports: the board of the week, the queue, the case
// library, and leaf-shop's statement for the period covering the run
// (every order of the week completed by its end, and payable a day later).
findings print_reports(const engine& e, const week& sim, timestamp start, timestamp end) {
    const actor lead{"ops-lead", role::customer_service};
    const timestamp week_end = start + std::chrono::days(7);
    findings found;
    const status_board board = must(e.status_board_of(lead, start, week_end), "status_board_of");
    print_board(board);
    found.board_orders = board.total.orders;

    print_open_cases(sim.queue_at_week_end(), week_end);
    found.open_at_week_end = !sim.queue_at_week_end().empty();
    const auto still_open = must(e.open_cases(lead), "open_cases");
    fmt::print("  (at the end of the run, {:%Y-%m-%d %H:%M}: {} still open)\n", end,
               still_open.size());

    const auto library = must(e.search_cases(lead, {.limit = 10'000}), "search_cases");
    const auto losses = must(e.search_cases(lead, {.type = case_type::logistics_loss, .limit = 10}),
                             "search_cases");
    print_library(library, losses);
    found.library_has_codes = !library.by_code.empty();
    for (const auto* cases : {&still_open, &library.cases}) {
        for (const exception_case& c : *cases) {
            found.case_types.insert(c.type);
        }
    }

    const settlement_period period{start, end + std::chrono::days(1)};
    const store_settlement settled = must(e.settle_period(lead, period), "settle_period");
    for (const statement& s : settled.statements.statements) {
        if (s.merchant == leaf_shop) {
            print_statement(s, 12);
            found.statement_has_orders = !s.orders.empty();
        }
    }
    const auto differences = must(
        reconcile(shop_settings().settlement, settled.inputs, std::span(&settled.statements, 1)),
        "reconcile");
    fmt::print("\nReconciliation: {} statements over {} completed orders, {} differences\n",
               settled.statements.statements.size(), settled.inputs.size(), differences.size());
    for (const auto& d : differences) {
        fmt::print("  {}: {}\n", d.field, d.message);
    }
    found.differences = differences.size();
    return found;
}

// The smoke test: what the week must have produced.
int verdict(const findings& found) {
    int status = EXIT_SUCCESS;
    auto check = [&status](bool ok, std::string_view what) {
        if (!ok) {
            fmt::print(stderr, "check failed: {}\n", what);
            status = EXIT_FAILURE;
        }
    };
    for (const case_type type :
         {case_type::payment_failure, case_type::payment_timeout, case_type::stock_shortage,
          case_type::unprocessed_order, case_type::logistics_delay, case_type::logistics_loss,
          case_type::unclear_address, case_type::after_sales_overdue, case_type::low_stock}) {
        check(found.case_types.contains(type), fmt::format("a {} case was opened", type));
    }
    check(found.board_orders > 0, "the board counts the week's orders");
    check(found.open_at_week_end, "cases were open at the end of the week");
    check(found.library_has_codes, "the case library has resolution codes");
    check(found.statement_has_orders, "leaf-shop has a statement with orders");
    check(found.differences == 0, "the statements reconcile");
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    const options_given given = parse(argc, argv);
    const bool keep = !given.db.empty();
    const std::filesystem::path file = keep
                                           ? given.db
                                           : std::filesystem::temp_directory_path() /
                                                 fmt::format("orderly-ops-board-{}.db", ::getpid());
    if (keep && std::filesystem::exists(file)) {
        fmt::print(stderr, "{} exists: ops_board starts from an empty database\n", file.string());
        return 2;
    }
    if (!keep) {
        temporary = file;
        remove_database(file);
        std::atexit(remove_temporary);
    }
    int status = EXIT_SUCCESS;
    {
        // The embedded default store; NORMAL durability is enough for a demo.
        const std::unique_ptr<store> owned =
            must(sqlite_store::open({.path = file, .durability = sqlite_durability::normal}),
                 "open the SQLite store");
        const auto started = std::chrono::steady_clock::now();
        const timestamp start = std::chrono::time_point_cast<duration>(
            std::chrono::sys_days{std::chrono::year{2026} / 12 / 7});
        counting_notifier notes;
        manual_clock clock(start);
        default_access_policy policy;
        carrier_table directory = must(carrier_table::create(carriers()), "carrier tables");
        const auto engine = start_engine(*owned, notes, clock, policy, directory);
        fmt::print("ops_board (seed {}): SQLite file {}{}\n", given.seed, file.string(),
                   keep ? "" : " (removed at the end)");

        week sim(*engine, *owned, clock, given.seed, start);
        sim.run(10);  // the week, then ten days for deliveries and auto-confirmation
        print_week(sim.counts(), notes);
        status = verdict(print_reports(*engine, sim, start, clock.now()));
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        fmt::print("({} simulated days in {} ms)\n", (clock.now() - start) / std::chrono::days(1),
                   took.count());
    }
    if (status == EXIT_SUCCESS) {
        fmt::print("ops_board done\n");
    }
    return status;
}
