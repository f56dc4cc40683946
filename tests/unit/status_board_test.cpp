// Status board figures (R-30), orderly/ops/status_board.hpp: hand-built
// orders with known timelines and hand-computed figures, period boundaries,
// refusals that name their fields, the exports' exact text, and a seeded
// randomized test that the groups add up to the totals and that every
// percentile is one of its group's samples.
#include <orderly/ops/status_board.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using orderly::board_figures;
using orderly::board_input_order;
using orderly::duration_percentiles;
using orderly::errc;
using orderly::merchant_id;
using orderly::money;
using orderly::order_channel;
using orderly::order_event;
using orderly::order_id;
using orderly::order_state;
using orderly::status_board;
using orderly::timeline_entry;
using orderly::timestamp;

namespace {

// The exports of the small board below, checked by hand: 1 h to shipment is
// 3600000 ms (3600.000 s), 24 h + 500 ms to delivery 86400500 ms (86400.500 s).
constexpr std::string_view golden_json =
    R"json({"from_ms":1700000000000,"to_ms":1700086400000,"total":{"orders":2,"by_state":{"pending_review":0,"awaiting_payment":0,"paid":0,"allocating":0,"packed":0,"shipped":0,"delivered":1,"completed":0,"closed":0,"on_hold":0,"cancelled":1},"cancelled":1,"cancellation_rate":0.5000,"after_sales_orders":1,"after_sales_rate":0.5000,"exception_orders":1,"exception_rate":0.5000,"ratings":1,"rating_sum":4,"average_rating":4.00,"time_to_shipment":{"samples":1,"p50_ms":3600000,"p90_ms":3600000,"p99_ms":3600000},"time_to_delivery":{"samples":1,"p50_ms":86400500,"p90_ms":86400500,"p99_ms":86400500}},"by_channel":{"web":{"orders":2,"by_state":{"pending_review":0,"awaiting_payment":0,"paid":0,"allocating":0,"packed":0,"shipped":0,"delivered":1,"completed":0,"closed":0,"on_hold":0,"cancelled":1},"cancelled":1,"cancellation_rate":0.5000,"after_sales_orders":1,"after_sales_rate":0.5000,"exception_orders":1,"exception_rate":0.5000,"ratings":1,"rating_sum":4,"average_rating":4.00,"time_to_shipment":{"samples":1,"p50_ms":3600000,"p90_ms":3600000,"p99_ms":3600000},"time_to_delivery":{"samples":1,"p50_ms":86400500,"p90_ms":86400500,"p99_ms":86400500}}},"by_merchant":{"m-1":{"orders":2,"by_state":{"pending_review":0,"awaiting_payment":0,"paid":0,"allocating":0,"packed":0,"shipped":0,"delivered":1,"completed":0,"closed":0,"on_hold":0,"cancelled":1},"cancelled":1,"cancellation_rate":0.5000,"after_sales_orders":1,"after_sales_rate":0.5000,"exception_orders":1,"exception_rate":0.5000,"ratings":1,"rating_sum":4,"average_rating":4.00,"time_to_shipment":{"samples":1,"p50_ms":3600000,"p90_ms":3600000,"p99_ms":3600000},"time_to_delivery":{"samples":1,"p50_ms":86400500,"p90_ms":86400500,"p99_ms":86400500}}}})json";

constexpr std::string_view golden_csv =
    "from_ms,to_ms,scope,group,orders,state_pending_review,state_awaiting_payment,state_paid,state_"
    "allocating,state_packed,state_shipped,state_delivered,state_completed,state_closed,state_on_"
    "hold,state_cancelled,cancelled,cancellation_rate,after_sales_orders,after_sales_rate,"
    "exception_orders,exception_rate,ratings,rating_sum,average_rating,time_to_shipment_samples,"
    "time_to_shipment_p50_ms,time_to_shipment_p90_ms,time_to_shipment_p99_ms,time_to_delivery_"
    "samples,time_to_delivery_p50_ms,time_to_delivery_p90_ms,time_to_delivery_p99_ms\r\n"
    "1700000000000,1700086400000,total,,2,0,0,0,0,0,0,1,0,0,0,1,1,0.5000,1,0.5000,1,0.5000,1,4,4."
    "00,1,3600000,3600000,3600000,1,86400500,86400500,86400500\r\n"
    "1700000000000,1700086400000,channel,web,2,0,0,0,0,0,0,1,0,0,0,1,1,0.5000,1,0.5000,1,0.5000,1,"
    "4,4.00,1,3600000,3600000,3600000,1,86400500,86400500,86400500\r\n"
    "1700000000000,1700086400000,merchant,m-1,2,0,0,0,0,0,0,1,0,0,0,1,1,0.5000,1,0.5000,1,0.5000,1,"
    "4,4.00,1,3600000,3600000,3600000,1,86400500,86400500,86400500\r\n";

constexpr std::string_view golden_prometheus =
    R"prom(# HELP orderly_board_orders Orders placed in the period.
# TYPE orderly_board_orders gauge
orderly_board_orders 2
orderly_board_orders{channel="web"} 2
orderly_board_orders{merchant="m-1"} 2
# HELP orderly_board_orders_by_state Orders placed in the period, by current state.
# TYPE orderly_board_orders_by_state gauge
orderly_board_orders_by_state{state="pending_review"} 0
orderly_board_orders_by_state{state="awaiting_payment"} 0
orderly_board_orders_by_state{state="paid"} 0
orderly_board_orders_by_state{state="allocating"} 0
orderly_board_orders_by_state{state="packed"} 0
orderly_board_orders_by_state{state="shipped"} 0
orderly_board_orders_by_state{state="delivered"} 1
orderly_board_orders_by_state{state="completed"} 0
orderly_board_orders_by_state{state="closed"} 0
orderly_board_orders_by_state{state="on_hold"} 0
orderly_board_orders_by_state{state="cancelled"} 1
orderly_board_orders_by_state{channel="web",state="pending_review"} 0
orderly_board_orders_by_state{channel="web",state="awaiting_payment"} 0
orderly_board_orders_by_state{channel="web",state="paid"} 0
orderly_board_orders_by_state{channel="web",state="allocating"} 0
orderly_board_orders_by_state{channel="web",state="packed"} 0
orderly_board_orders_by_state{channel="web",state="shipped"} 0
orderly_board_orders_by_state{channel="web",state="delivered"} 1
orderly_board_orders_by_state{channel="web",state="completed"} 0
orderly_board_orders_by_state{channel="web",state="closed"} 0
orderly_board_orders_by_state{channel="web",state="on_hold"} 0
orderly_board_orders_by_state{channel="web",state="cancelled"} 1
orderly_board_orders_by_state{merchant="m-1",state="pending_review"} 0
orderly_board_orders_by_state{merchant="m-1",state="awaiting_payment"} 0
orderly_board_orders_by_state{merchant="m-1",state="paid"} 0
orderly_board_orders_by_state{merchant="m-1",state="allocating"} 0
orderly_board_orders_by_state{merchant="m-1",state="packed"} 0
orderly_board_orders_by_state{merchant="m-1",state="shipped"} 0
orderly_board_orders_by_state{merchant="m-1",state="delivered"} 1
orderly_board_orders_by_state{merchant="m-1",state="completed"} 0
orderly_board_orders_by_state{merchant="m-1",state="closed"} 0
orderly_board_orders_by_state{merchant="m-1",state="on_hold"} 0
orderly_board_orders_by_state{merchant="m-1",state="cancelled"} 1
# HELP orderly_board_cancelled_orders Orders placed in the period and cancelled.
# TYPE orderly_board_cancelled_orders gauge
orderly_board_cancelled_orders 1
orderly_board_cancelled_orders{channel="web"} 1
orderly_board_cancelled_orders{merchant="m-1"} 1
# HELP orderly_board_cancellation_rate Cancelled orders per order placed.
# TYPE orderly_board_cancellation_rate gauge
orderly_board_cancellation_rate 0.5000
orderly_board_cancellation_rate{channel="web"} 0.5000
orderly_board_cancellation_rate{merchant="m-1"} 0.5000
# HELP orderly_board_after_sales_orders Orders placed in the period with an after-sales ticket.
# TYPE orderly_board_after_sales_orders gauge
orderly_board_after_sales_orders 1
orderly_board_after_sales_orders{channel="web"} 1
orderly_board_after_sales_orders{merchant="m-1"} 1
# HELP orderly_board_after_sales_rate Orders with an after-sales ticket per order placed.
# TYPE orderly_board_after_sales_rate gauge
orderly_board_after_sales_rate 0.5000
orderly_board_after_sales_rate{channel="web"} 0.5000
orderly_board_after_sales_rate{merchant="m-1"} 0.5000
# HELP orderly_board_exception_orders Orders placed in the period with an exception.
# TYPE orderly_board_exception_orders gauge
orderly_board_exception_orders 1
orderly_board_exception_orders{channel="web"} 1
orderly_board_exception_orders{merchant="m-1"} 1
# HELP orderly_board_exception_rate Orders with an exception per order placed.
# TYPE orderly_board_exception_rate gauge
orderly_board_exception_rate 0.5000
orderly_board_exception_rate{channel="web"} 0.5000
orderly_board_exception_rate{merchant="m-1"} 0.5000
# HELP orderly_board_ratings Orders placed in the period and rated.
# TYPE orderly_board_ratings gauge
orderly_board_ratings 1
orderly_board_ratings{channel="web"} 1
orderly_board_ratings{merchant="m-1"} 1
# HELP orderly_board_average_rating Average rating score of the rated orders.
# TYPE orderly_board_average_rating gauge
orderly_board_average_rating 4.00
orderly_board_average_rating{channel="web"} 4.00
orderly_board_average_rating{merchant="m-1"} 4.00
# HELP orderly_board_time_to_shipment_seconds Nearest-rank percentiles of the time from placement to shipment, in seconds.
# TYPE orderly_board_time_to_shipment_seconds gauge
orderly_board_time_to_shipment_seconds{quantile="0.5"} 3600.000
orderly_board_time_to_shipment_seconds{quantile="0.9"} 3600.000
orderly_board_time_to_shipment_seconds{quantile="0.99"} 3600.000
orderly_board_time_to_shipment_seconds{channel="web",quantile="0.5"} 3600.000
orderly_board_time_to_shipment_seconds{channel="web",quantile="0.9"} 3600.000
orderly_board_time_to_shipment_seconds{channel="web",quantile="0.99"} 3600.000
orderly_board_time_to_shipment_seconds{merchant="m-1",quantile="0.5"} 3600.000
orderly_board_time_to_shipment_seconds{merchant="m-1",quantile="0.9"} 3600.000
orderly_board_time_to_shipment_seconds{merchant="m-1",quantile="0.99"} 3600.000
# HELP orderly_board_time_to_shipment_samples Orders with a time from placement to shipment.
# TYPE orderly_board_time_to_shipment_samples gauge
orderly_board_time_to_shipment_samples 1
orderly_board_time_to_shipment_samples{channel="web"} 1
orderly_board_time_to_shipment_samples{merchant="m-1"} 1
# HELP orderly_board_time_to_delivery_seconds Nearest-rank percentiles of the time from placement to delivery, in seconds.
# TYPE orderly_board_time_to_delivery_seconds gauge
orderly_board_time_to_delivery_seconds{quantile="0.5"} 86400.500
orderly_board_time_to_delivery_seconds{quantile="0.9"} 86400.500
orderly_board_time_to_delivery_seconds{quantile="0.99"} 86400.500
orderly_board_time_to_delivery_seconds{channel="web",quantile="0.5"} 86400.500
orderly_board_time_to_delivery_seconds{channel="web",quantile="0.9"} 86400.500
orderly_board_time_to_delivery_seconds{channel="web",quantile="0.99"} 86400.500
orderly_board_time_to_delivery_seconds{merchant="m-1",quantile="0.5"} 86400.500
orderly_board_time_to_delivery_seconds{merchant="m-1",quantile="0.9"} 86400.500
orderly_board_time_to_delivery_seconds{merchant="m-1",quantile="0.99"} 86400.500
# HELP orderly_board_time_to_delivery_samples Orders with a time from placement to delivery.
# TYPE orderly_board_time_to_delivery_samples gauge
orderly_board_time_to_delivery_samples 1
orderly_board_time_to_delivery_samples{channel="web"} 1
orderly_board_time_to_delivery_samples{merchant="m-1"} 1
)prom";

// The exports of a board without orders: no rates, averages or percentiles.
constexpr std::string_view golden_empty_json =
    R"json({"from_ms":0,"to_ms":1000,"total":{"orders":0,"by_state":{"pending_review":0,"awaiting_payment":0,"paid":0,"allocating":0,"packed":0,"shipped":0,"delivered":0,"completed":0,"closed":0,"on_hold":0,"cancelled":0},"cancelled":0,"cancellation_rate":null,"after_sales_orders":0,"after_sales_rate":null,"exception_orders":0,"exception_rate":null,"ratings":0,"rating_sum":0,"average_rating":null,"time_to_shipment":null,"time_to_delivery":null},"by_channel":{},"by_merchant":{}})json";

constexpr std::string_view golden_empty_prometheus =
    R"prom(# HELP orderly_board_orders Orders placed in the period.
# TYPE orderly_board_orders gauge
orderly_board_orders 0
# HELP orderly_board_orders_by_state Orders placed in the period, by current state.
# TYPE orderly_board_orders_by_state gauge
orderly_board_orders_by_state{state="pending_review"} 0
orderly_board_orders_by_state{state="awaiting_payment"} 0
orderly_board_orders_by_state{state="paid"} 0
orderly_board_orders_by_state{state="allocating"} 0
orderly_board_orders_by_state{state="packed"} 0
orderly_board_orders_by_state{state="shipped"} 0
orderly_board_orders_by_state{state="delivered"} 0
orderly_board_orders_by_state{state="completed"} 0
orderly_board_orders_by_state{state="closed"} 0
orderly_board_orders_by_state{state="on_hold"} 0
orderly_board_orders_by_state{state="cancelled"} 0
# HELP orderly_board_cancelled_orders Orders placed in the period and cancelled.
# TYPE orderly_board_cancelled_orders gauge
orderly_board_cancelled_orders 0
# HELP orderly_board_cancellation_rate Cancelled orders per order placed.
# TYPE orderly_board_cancellation_rate gauge
# HELP orderly_board_after_sales_orders Orders placed in the period with an after-sales ticket.
# TYPE orderly_board_after_sales_orders gauge
orderly_board_after_sales_orders 0
# HELP orderly_board_after_sales_rate Orders with an after-sales ticket per order placed.
# TYPE orderly_board_after_sales_rate gauge
# HELP orderly_board_exception_orders Orders placed in the period with an exception.
# TYPE orderly_board_exception_orders gauge
orderly_board_exception_orders 0
# HELP orderly_board_exception_rate Orders with an exception per order placed.
# TYPE orderly_board_exception_rate gauge
# HELP orderly_board_ratings Orders placed in the period and rated.
# TYPE orderly_board_ratings gauge
orderly_board_ratings 0
# HELP orderly_board_average_rating Average rating score of the rated orders.
# TYPE orderly_board_average_rating gauge
# HELP orderly_board_time_to_shipment_seconds Nearest-rank percentiles of the time from placement to shipment, in seconds.
# TYPE orderly_board_time_to_shipment_seconds gauge
# HELP orderly_board_time_to_shipment_samples Orders with a time from placement to shipment.
# TYPE orderly_board_time_to_shipment_samples gauge
orderly_board_time_to_shipment_samples 0
# HELP orderly_board_time_to_delivery_seconds Nearest-rank percentiles of the time from placement to delivery, in seconds.
# TYPE orderly_board_time_to_delivery_seconds gauge
# HELP orderly_board_time_to_delivery_samples Orders with a time from placement to delivery.
# TYPE orderly_board_time_to_delivery_samples gauge
orderly_board_time_to_delivery_samples 0
)prom";

constexpr std::int64_t hour_ms = 3'600'000;

timestamp at_ms(std::int64_t ms) {
    return orderly::from_unix_ms(ms);
}

money cny(std::int64_t minor) {
    return money::from_minor(minor, orderly::currencies::CNY);
}

orderly::order base_order(std::uint64_t id, order_channel channel, std::string merchant,
                          order_state state, timestamp placed) {
    orderly::order o{
        .id = order_id(id),
        .number = orderly::order_number(),
        .channel = channel,
        .customer = orderly::customer_id("c-1"),
        .merchant = merchant_id(std::move(merchant)),
        .ship_to = orderly::address{},
        .lines = {},
        .subtotal = cny(1000),
        .discount = cny(0),
        .shipping_fee = cny(0),
        .total = cny(1000),
        .state = state,
        .tags = {},
        .review_flags = {},
        .reservations = {},
        .payments = {},
        .shipments = {},
        .warehouse = orderly::warehouse_id(),
        .carrier = orderly::carrier_id(),
        .tracking_number = {},
        .placed_at = placed,
        .updated_at = placed,
        .due_at = std::nullopt,
    };
    return o;
}

timeline_entry entry(timestamp when, order_event event, order_state to) {
    return timeline_entry{.at = when,
                          .actor = orderly::actor{.id = "u-1", .role = orderly::role::customer},
                          .event = event,
                          .from = std::nullopt,
                          .to = to,
                          .reason = {}};
}

// An order placed at `placed`, with a timeline that reaches `state`,
// passing `shipped` after `ship_ms` and `delivered` after `deliver_ms` when given.
board_input_order make(std::uint64_t id, order_channel channel, std::string merchant,
                       order_state state, timestamp placed,
                       std::optional<std::int64_t> ship_ms = std::nullopt,
                       std::optional<std::int64_t> deliver_ms = std::nullopt) {
    board_input_order in{
        .o = base_order(id, channel, std::move(merchant), state, placed),
        .timeline = {entry(placed, order_event::placed, order_state::pending_review)},
        .exceptions = 0};
    if (ship_ms) {
        in.timeline.push_back(entry(placed + orderly::duration(*ship_ms), order_event::shipped,
                                    order_state::shipped));
    }
    if (deliver_ms) {
        in.timeline.push_back(entry(placed + orderly::duration(*deliver_ms), order_event::delivered,
                                    order_state::delivered));
    }
    if (state == order_state::cancelled) {
        in.timeline.push_back(
            entry(placed + orderly::duration(1), order_event::cancelled, order_state::cancelled));
    }
    return in;
}

void rate(board_input_order& in, std::uint8_t score) {
    in.o.rating = orderly::order_rating{.score = score, .text = {}, .at = in.o.placed_at};
}

}  // namespace

TEST_CASE("nearest_rank picks ceil of p times n over 100") {
    CHECK(orderly::nearest_rank(50, 10) == 5);
    CHECK(orderly::nearest_rank(90, 10) == 9);
    CHECK(orderly::nearest_rank(99, 10) == 10);
    CHECK(orderly::nearest_rank(50, 1) == 1);
    CHECK(orderly::nearest_rank(99, 1) == 1);
    CHECK(orderly::nearest_rank(50, 3) == 2);
    CHECK(orderly::nearest_rank(90, 3) == 3);
    CHECK(orderly::nearest_rank(99, 100) == 99);
    CHECK(orderly::nearest_rank(99, 101) == 100);
    CHECK(orderly::nearest_rank(50, 4) == 2);
}

TEST_CASE("nearest_rank_percentiles of ten unsorted samples") {
    const auto p = orderly::nearest_rank_percentiles({100, 30, 90, 10, 70, 50, 20, 80, 40, 60});
    REQUIRE(p.has_value());
    CHECK(*p == duration_percentiles{.samples = 10, .p50_ms = 50, .p90_ms = 90, .p99_ms = 100});
    CHECK_FALSE(orderly::nearest_rank_percentiles({}).has_value());
    const auto one = orderly::nearest_rank_percentiles({7});
    REQUIRE(one.has_value());
    CHECK(*one == duration_percentiles{.samples = 1, .p50_ms = 7, .p90_ms = 7, .p99_ms = 7});
    const auto two = orderly::nearest_rank_percentiles({9, 3});
    REQUIRE(two.has_value());
    CHECK(*two == duration_percentiles{.samples = 2, .p50_ms = 3, .p90_ms = 9, .p99_ms = 9});
}

TEST_CASE("decimal_ratio rounds half up from the exact fraction") {
    CHECK(orderly::decimal_ratio(1, 3, 4) == "0.3333");
    CHECK(orderly::decimal_ratio(2, 3, 4) == "0.6667");
    CHECK(orderly::decimal_ratio(1, 32, 4) == "0.0313");
    CHECK(orderly::decimal_ratio(0, 5, 4) == "0.0000");
    CHECK(orderly::decimal_ratio(5, 5, 4) == "1.0000");
    CHECK(orderly::decimal_ratio(13, 3, 2) == "4.33");
    CHECK(orderly::decimal_ratio(9, 2, 2) == "4.50");
    CHECK(orderly::decimal_ratio(7, 2, 0) == "4");
    CHECK(orderly::decimal_ratio(UINT64_MAX, 1, 4) == fmt::format("{}.0000", UINT64_MAX));
}

TEST_CASE("figures of hand-built orders") {
    const timestamp t0 = at_ms(1'000 * hour_ms);
    std::vector<board_input_order> in;
    // Ten delivered web orders of m-1: shipped after 1..10 hours, delivered
    // after 10..100 hours.
    for (std::uint64_t i = 1; i <= 10; ++i) {
        const auto k = static_cast<std::int64_t>(i);
        in.push_back(make(i, order_channel::web, "m-1", order_state::delivered,
                          t0 + std::chrono::minutes(k), k * hour_ms, 10 * k * hour_ms));
    }
    rate(in[0], 5);
    rate(in[1], 4);
    rate(in[2], 4);
    in[3].o.tickets.push_back(orderly::ticket_id(1));
    in[3].o.tickets.push_back(orderly::ticket_id(2));
    in[4].o.tickets.push_back(orderly::ticket_id(3));
    in[5].exceptions = 2;
    // A cancelled app order of m-2, a shipped one, and one on hold that had
    // been cancelled according to its timeline (never happens, but counts).
    in.push_back(make(11, order_channel::mobile_app, "m-2", order_state::cancelled, t0));
    in.push_back(make(12, order_channel::mobile_app, "m-2", order_state::shipped, t0, 2 * hour_ms));
    in.push_back(make(13, order_channel::marketplace, "m-1", order_state::paid, t0));
    in.back().timeline.push_back(
        entry(t0 + orderly::duration(5), order_event::cancelled, order_state::cancelled));
    // Shipped twice (say, after a hold): the first time counts.
    in[0].timeline.push_back(
        entry(t0 + orderly::duration(200 * hour_ms), order_event::shipped, order_state::shipped));

    const auto r = orderly::compute_status_board(in, t0, t0 + std::chrono::hours(1));
    REQUIRE(r.has_value());
    const board_figures& total = r->total;
    CHECK(total.orders == 13);
    CHECK(total.in_state(order_state::delivered) == 10);
    CHECK(total.in_state(order_state::cancelled) == 1);
    CHECK(total.in_state(order_state::shipped) == 1);
    CHECK(total.in_state(order_state::paid) == 1);
    CHECK(total.in_state(order_state::on_hold) == 0);
    CHECK(total.cancelled == 2);
    CHECK(total.after_sales_orders == 2);
    CHECK(total.exception_orders == 1);
    CHECK(total.ratings == 3);
    CHECK(total.rating_sum == 13);
    REQUIRE(total.to_shipment.has_value());
    // Shipment samples: 1..10 hours and 2 hours; sorted 1,2,2,3,...,10 (11).
    CHECK(*total.to_shipment == duration_percentiles{.samples = 11,
                                                     .p50_ms = 5 * hour_ms,     // rank 6
                                                     .p90_ms = 9 * hour_ms,     // rank 10
                                                     .p99_ms = 10 * hour_ms});  // rank 11
    REQUIRE(total.to_delivery.has_value());
    CHECK(*total.to_delivery == duration_percentiles{.samples = 10,
                                                     .p50_ms = 50 * hour_ms,
                                                     .p90_ms = 90 * hour_ms,
                                                     .p99_ms = 100 * hour_ms});

    REQUIRE(r->by_channel.size() == 3);
    const board_figures& web = r->by_channel.at(order_channel::web);
    CHECK(web.orders == 10);
    CHECK(web.cancelled == 0);
    REQUIRE(web.to_shipment.has_value());
    CHECK(*web.to_shipment ==
          duration_percentiles{
              .samples = 10, .p50_ms = 5 * hour_ms, .p90_ms = 9 * hour_ms, .p99_ms = 10 * hour_ms});
    const board_figures& app = r->by_channel.at(order_channel::mobile_app);
    CHECK(app.orders == 2);
    CHECK(app.cancelled == 1);
    CHECK_FALSE(app.to_delivery.has_value());
    REQUIRE(app.to_shipment.has_value());
    CHECK(app.to_shipment->samples == 1);
    CHECK(app.to_shipment->p99_ms == 2 * hour_ms);
    const board_figures& market = r->by_channel.at(order_channel::marketplace);
    CHECK(market.cancelled == 1);
    CHECK_FALSE(market.to_shipment.has_value());

    REQUIRE(r->by_merchant.size() == 2);
    CHECK(r->by_merchant.at(merchant_id("m-1")).orders == 11);
    CHECK(r->by_merchant.at(merchant_id("m-2")).orders == 2);
    CHECK(r->by_merchant.at(merchant_id("m-2")).rating_sum == 0);

    const std::string json = orderly::to_json(*r);
    CHECK(json.find(R"("cancellation_rate":0.1538)") != std::string::npos);  // 2/13
    CHECK(json.find(R"("average_rating":4.33)") != std::string::npos);       // 13/3
    CHECK(json.find(R"("exception_rate":0.0769)") != std::string::npos);     // 1/13
    CHECK(json.find(R"("after_sales_rate":0.1538)") != std::string::npos);   // 2/13
}

TEST_CASE("the period includes from and excludes to") {
    const timestamp from = at_ms(10 * hour_ms);
    const timestamp to = at_ms(20 * hour_ms);
    const std::vector<board_input_order> in = {
        make(1, order_channel::web, "m", order_state::paid, from - orderly::duration(1)),
        make(2, order_channel::web, "m", order_state::paid, from),
        make(3, order_channel::web, "m", order_state::paid, to - orderly::duration(1)),
        make(4, order_channel::import, "n", order_state::paid, to),
    };
    const auto r = orderly::compute_status_board(in, from, to);
    REQUIRE(r.has_value());
    CHECK(r->total.orders == 2);
    CHECK(r->by_channel.size() == 1);
    CHECK(r->by_merchant.size() == 1);
    CHECK(r->from == from);
    CHECK(r->to == to);

    const auto empty = orderly::compute_status_board({}, from, to);
    REQUIRE(empty.has_value());
    CHECK(empty->total.orders == 0);
    CHECK(empty->total.in_state(order_state::paid) == 0);
    CHECK_FALSE(empty->total.to_shipment.has_value());
    CHECK(empty->by_channel.empty());
}

TEST_CASE("refusals name their fields") {
    const timestamp t = at_ms(hour_ms);
    SUBCASE("to not after from") {
        const auto same = orderly::compute_status_board({}, t, t);
        REQUIRE_FALSE(same.has_value());
        CHECK(same.error().code == errc::invalid_value);
        CHECK(same.error().field == "to");
        const auto before = orderly::compute_status_board({}, t, t - orderly::duration(1));
        REQUIRE_FALSE(before.has_value());
        CHECK(before.error().field == "to");
    }
    SUBCASE("an order given twice") {
        const std::vector<board_input_order> in = {
            make(1, order_channel::web, "m", order_state::paid, t),
            make(2, order_channel::web, "m", order_state::paid, t),
            make(1, order_channel::web, "m", order_state::paid, t),
        };
        const auto r = orderly::compute_status_board(in, t, t + orderly::duration(1));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::invalid_value);
        CHECK(r.error().field == "orders[2].o.id");
    }
    SUBCASE("shipped before placed") {
        std::vector<board_input_order> in = {
            make(1, order_channel::web, "m", order_state::paid, t),
            make(2, order_channel::web, "m", order_state::shipped, t, -5),
        };
        const auto r = orderly::compute_status_board(in, t, t + orderly::duration(1));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::invalid_value);
        CHECK(r.error().field == "orders[1].timeline[1].at");
    }
}

TEST_CASE("exports of a small board, exact text") {
    const timestamp t0 = at_ms(1'700'000'000'000);
    std::vector<board_input_order> in = {
        make(1, order_channel::web, "m-1", order_state::delivered, t0, hour_ms, 24 * hour_ms + 500),
        make(2, order_channel::web, "m-1", order_state::cancelled, t0 + orderly::duration(1)),
    };
    rate(in[0], 4);
    in[0].o.tickets.push_back(orderly::ticket_id(7));
    in[1].exceptions = 1;
    const auto r = orderly::compute_status_board(in, t0, t0 + std::chrono::hours(24));
    REQUIRE(r.has_value());

    SUBCASE("json") {
        CHECK(orderly::to_json(*r) == golden_json);
    }
    SUBCASE("csv") {
        CHECK(orderly::to_csv(*r) == golden_csv);
    }
    SUBCASE("prometheus") {
        CHECK(orderly::to_prometheus(*r) == golden_prometheus);
    }
}

TEST_CASE("exports of an empty board, exact text") {
    const auto r = orderly::compute_status_board({}, at_ms(0), at_ms(1000));
    REQUIRE(r.has_value());
    CHECK(orderly::to_json(*r) == golden_empty_json);
    CHECK(orderly::to_prometheus(*r) == golden_empty_prometheus);
}

TEST_CASE("csv quotes and prometheus escapes merchant ids") {
    const timestamp t0 = at_ms(0);
    const std::vector<board_input_order> in = {
        make(1, order_channel::web, "acme, \"east\"", order_state::paid, t0),
        make(2, order_channel::web, "back\\slash\nline", order_state::paid, t0),
    };
    const auto r = orderly::compute_status_board(in, t0, at_ms(1));
    REQUIRE(r.has_value());
    const std::string csv = orderly::to_csv(*r);
    CHECK(csv.find("\r\n0,1,merchant,\"acme, \"\"east\"\"\",1,") != std::string::npos);
    CHECK(csv.find("\r\n0,1,merchant,\"back\\slash\nline\",1,") != std::string::npos);
    const std::string prom = orderly::to_prometheus(*r);
    CHECK(prom.find("orderly_board_orders{merchant=\"acme, \\\"east\\\"\"} 1\n") !=
          std::string::npos);
    CHECK(prom.find("orderly_board_orders{merchant=\"back\\\\slash\\nline\"} 1\n") !=
          std::string::npos);
    CHECK(
        prom.find(
            "orderly_board_orders_by_state{merchant=\"acme, \\\"east\\\"\",state=\"paid\"} 1\n") !=
        std::string::npos);
    const std::string json = orderly::to_json(*r);
    CHECK(json.find(R"("acme, \"east\"":{"orders":1)") != std::string::npos);
    CHECK(json.find(R"("back\\slash\nline":{"orders":1)") != std::string::npos);
}

namespace {

std::uint64_t seed_from_env() {
    const char* text = std::getenv("ORDERLY_SEED");
    return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240530U;
}

void check_sums(const board_figures& total, const std::vector<const board_figures*>& groups) {
    board_figures sum;
    std::size_t shipment_samples = 0;
    std::size_t delivery_samples = 0;
    for (const board_figures* g : groups) {
        CHECK(g->orders > 0);
        sum.orders += g->orders;
        for (std::size_t i = 0; i < sum.by_state.size(); ++i) {
            sum.by_state.at(i) += g->by_state.at(i);
        }
        sum.cancelled += g->cancelled;
        sum.after_sales_orders += g->after_sales_orders;
        sum.exception_orders += g->exception_orders;
        sum.ratings += g->ratings;
        sum.rating_sum += g->rating_sum;
        shipment_samples += g->to_shipment ? g->to_shipment->samples : 0U;
        delivery_samples += g->to_delivery ? g->to_delivery->samples : 0U;
    }
    CHECK(sum.orders == total.orders);
    CHECK(sum.by_state == total.by_state);
    CHECK(sum.cancelled == total.cancelled);
    CHECK(sum.after_sales_orders == total.after_sales_orders);
    CHECK(sum.exception_orders == total.exception_orders);
    CHECK(sum.ratings == total.ratings);
    CHECK(sum.rating_sum == total.rating_sum);
    CHECK(shipment_samples == (total.to_shipment ? total.to_shipment->samples : 0U));
    CHECK(delivery_samples == (total.to_delivery ? total.to_delivery->samples : 0U));
}

void check_percentiles(const std::optional<duration_percentiles>& p,
                       const std::multiset<std::int64_t>& samples) {
    if (samples.empty()) {
        CHECK_FALSE(p.has_value());
        return;
    }
    REQUIRE(p.has_value());
    CHECK(p->samples == samples.size());
    CHECK(samples.count(p->p50_ms) > 0);
    CHECK(samples.count(p->p90_ms) > 0);
    CHECK(samples.count(p->p99_ms) > 0);
    CHECK(p->p50_ms <= p->p90_ms);
    CHECK(p->p90_ms <= p->p99_ms);
    // Nearest rank: at least p % of the samples are at or below the p-th.
    const std::vector<std::int64_t> sorted(samples.begin(), samples.end());
    CHECK(p->p50_ms == sorted.at(orderly::nearest_rank(50, sorted.size()) - 1));
    CHECK(p->p99_ms == sorted.at(orderly::nearest_rank(99, sorted.size()) - 1));
}

}  // namespace

TEST_CASE("randomized boards add up and percentiles are samples") {
    const std::uint64_t seed = seed_from_env();
    std::mt19937_64 random(seed);
    const auto pick = [&](std::uint64_t n) { return random() % n; };
    for (int round = 0; round < 40; ++round) {
        INFO(fmt::format("seed {} round {} (replay: ORDERLY_SEED={})", seed, round, seed));
        const timestamp from = at_ms(100 * hour_ms);
        const timestamp to = at_ms(200 * hour_ms);
        std::vector<board_input_order> in;
        const std::size_t count = pick(60);
        for (std::size_t k = 0; k < count; ++k) {
            const auto placed =
                at_ms(static_cast<std::int64_t>(80 * hour_ms + pick(140 * hour_ms)));
            const auto channel = static_cast<order_channel>(1 + pick(4));
            const auto state = orderly::all_order_states.at(pick(orderly::all_order_states.size()));
            std::optional<std::int64_t> ship;
            std::optional<std::int64_t> deliver;
            if (pick(3) != 0) {
                ship = static_cast<std::int64_t>(pick(50 * hour_ms));
                if (pick(2) != 0) {
                    deliver = *ship + static_cast<std::int64_t>(pick(100 * hour_ms));
                }
            }
            in.push_back(
                make(k + 1, channel, fmt::format("m-{}", pick(5)), state, placed, ship, deliver));
            if (pick(4) == 0) {
                rate(in.back(), static_cast<std::uint8_t>(1 + pick(5)));
            }
            for (std::uint64_t t = pick(3); t > 0; --t) {
                in.back().o.tickets.push_back(orderly::ticket_id(t));
            }
            in.back().exceptions = pick(5) == 0 ? pick(3) : 0U;
        }
        std::shuffle(in.begin(), in.end(), random);
        const auto r = orderly::compute_status_board(in, from, to);
        REQUIRE(r.has_value());

        // A model of every group: which orders, which samples.
        std::map<std::string, std::multiset<std::int64_t>> ship_samples;
        std::map<std::string, std::multiset<std::int64_t>> deliver_samples;
        std::size_t in_period = 0;
        std::size_t with_tickets = 0;
        for (const board_input_order& o : in) {
            if (o.o.placed_at < from || o.o.placed_at >= to) {
                continue;
            }
            ++in_period;
            with_tickets += o.o.tickets.empty() ? 0U : 1U;
            const std::vector<std::string> keys = {"total", fmt::format("c/{}", o.o.channel),
                                                   fmt::format("m/{}", o.o.merchant.value())};
            for (const timeline_entry& e : o.timeline) {
                const std::int64_t ms = (e.at - o.o.placed_at).count();
                for (const std::string& key : keys) {
                    if (e.to == order_state::shipped) {
                        ship_samples[key].insert(ms);
                    } else if (e.to == order_state::delivered) {
                        deliver_samples[key].insert(ms);
                    }
                }
            }
        }
        CHECK(r->total.orders == in_period);
        CHECK(r->total.after_sales_orders == with_tickets);

        std::vector<const board_figures*> channels;
        for (const auto& [channel, f] : r->by_channel) {
            channels.push_back(&f);
            const std::string key = fmt::format("c/{}", channel);
            check_percentiles(f.to_shipment, ship_samples[key]);
            check_percentiles(f.to_delivery, deliver_samples[key]);
        }
        std::vector<const board_figures*> merchants;
        for (const auto& [merchant, f] : r->by_merchant) {
            merchants.push_back(&f);
            const std::string key = fmt::format("m/{}", merchant.value());
            check_percentiles(f.to_shipment, ship_samples[key]);
            check_percentiles(f.to_delivery, deliver_samples[key]);
        }
        check_percentiles(r->total.to_shipment, ship_samples["total"]);
        check_percentiles(r->total.to_delivery, deliver_samples["total"]);
        check_sums(r->total, channels);
        check_sums(r->total, merchants);
        std::size_t states = 0;
        for (const std::size_t n : r->total.by_state) {
            states += n;
        }
        CHECK(states == r->total.orders);
    }
}
