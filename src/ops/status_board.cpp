// Status board figures: see orderly/ops/status_board.hpp for the rules.
//
// Every figure is a count or a sum of integers; rates, averages and seconds
// are only formatted, from exact integers, when exported.

#include <orderly/ops/status_board.hpp>

#include "../core/quoted.hpp"

#include <orderly/core/money.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string_view>
#include <utility>

namespace orderly {

namespace {

std::size_t state_index(order_state s) noexcept {
    const auto* found = std::find(all_order_states.begin(), all_order_states.end(), s);
    return static_cast<std::size_t>(std::distance(all_order_states.begin(), found));
}

// What one order contributes, worked out once.
struct order_facts {
    std::size_t state{0};
    bool cancelled{false};
    bool after_sales{false};
    bool exception{false};
    std::optional<std::uint8_t> rating{};
    std::optional<std::int64_t> to_shipment_ms{};
    std::optional<std::int64_t> to_delivery_ms{};
};

// A group's counts and its raw samples, before percentiles.
struct accumulator {
    board_figures figures{};
    std::vector<std::int64_t> shipment_ms{};
    std::vector<std::int64_t> delivery_ms{};

    void add(const order_facts& f) {
        ++figures.orders;
        ++figures.by_state.at(f.state);
        figures.cancelled += f.cancelled ? 1U : 0U;
        figures.after_sales_orders += f.after_sales ? 1U : 0U;
        figures.exception_orders += f.exception ? 1U : 0U;
        if (f.rating) {
            ++figures.ratings;
            figures.rating_sum += *f.rating;
        }
        if (f.to_shipment_ms) {
            shipment_ms.push_back(*f.to_shipment_ms);
        }
        if (f.to_delivery_ms) {
            delivery_ms.push_back(*f.to_delivery_ms);
        }
    }

    [[nodiscard]] board_figures finish() && {
        figures.to_shipment = nearest_rank_percentiles(std::move(shipment_ms));
        figures.to_delivery = nearest_rank_percentiles(std::move(delivery_ms));
        return std::move(figures);
    }
};

result<order_facts> facts_of(const board_input_order& in) {
    order_facts f;
    f.state = state_index(in.o.state);
    f.cancelled = in.o.state == order_state::cancelled;
    f.after_sales = !in.o.tickets.empty();
    f.exception = in.exceptions > 0;
    if (in.o.rating) {
        f.rating = in.o.rating->score;
    }
    for (std::size_t j = 0; j < in.timeline.size(); ++j) {
        const timeline_entry& e = in.timeline[j];
        f.cancelled = f.cancelled || e.to == order_state::cancelled;
        const bool first_shipped = e.to == order_state::shipped && !f.to_shipment_ms;
        const bool first_delivered = e.to == order_state::delivered && !f.to_delivery_ms;
        if (!first_shipped && !first_delivered) {
            continue;
        }
        if (e.at < in.o.placed_at) {
            return error{errc::invalid_value, fmt::format("timeline[{}].at", j),
                         fmt::format("reaches {} at {} ms, before the order was placed at {} ms",
                                     e.to, to_unix_ms(e.at), to_unix_ms(in.o.placed_at))};
        }
        const std::int64_t ms = (e.at - in.o.placed_at).count();
        if (first_shipped) {
            f.to_shipment_ms = ms;
        } else {
            f.to_delivery_ms = ms;
        }
    }
    return f;
}

// Integer formatting of exact values --------------------------------------

std::string seconds_of(std::int64_t ms) {
    const bool negative = ms < 0;
    const std::uint64_t magnitude =
        negative ? static_cast<std::uint64_t>(-(ms + 1)) + 1U : static_cast<std::uint64_t>(ms);
    return fmt::format("{}{}.{:03}", negative ? "-" : "", magnitude / 1000U, magnitude % 1000U);
}

std::optional<std::string> rate_of(std::size_t count, std::size_t orders) {
    if (orders == 0) {
        return std::nullopt;
    }
    return decimal_ratio(count, orders, 4);
}

std::optional<std::string> average_of(const board_figures& f) {
    if (f.ratings == 0) {
        return std::nullopt;
    }
    return decimal_ratio(f.rating_sum, f.ratings, 2);
}

// JSON --------------------------------------------------------------------

void json_string(std::string& out, std::string_view s) {
    detail::append_quoted(out, s);
}

void json_optional(std::string& out, const std::optional<std::string>& number) {
    out += number ? *number : std::string("null");
}

void json_time(std::string& out, const std::optional<duration_percentiles>& t) {
    if (!t) {
        out += "null";
        return;
    }
    out += fmt::format(R"({{"samples":{},"p50_ms":{},"p90_ms":{},"p99_ms":{}}})", t->samples,
                       t->p50_ms, t->p90_ms, t->p99_ms);
}

void json_figures(std::string& out, const board_figures& f) {
    out += fmt::format(R"({{"orders":{},"by_state":{{)", f.orders);
    for (std::size_t i = 0; i < all_order_states.size(); ++i) {
        out += fmt::format(R"({}"{}":{})", i == 0 ? "" : ",", to_string(all_order_states.at(i)),
                           f.by_state.at(i));
    }
    out += fmt::format(R"(}},"cancelled":{},"cancellation_rate":)", f.cancelled);
    json_optional(out, rate_of(f.cancelled, f.orders));
    out += fmt::format(R"(,"after_sales_orders":{},"after_sales_rate":)", f.after_sales_orders);
    json_optional(out, rate_of(f.after_sales_orders, f.orders));
    out += fmt::format(R"(,"exception_orders":{},"exception_rate":)", f.exception_orders);
    json_optional(out, rate_of(f.exception_orders, f.orders));
    out +=
        fmt::format(R"(,"ratings":{},"rating_sum":{},"average_rating":)", f.ratings, f.rating_sum);
    json_optional(out, average_of(f));
    out += R"(,"time_to_shipment":)";
    json_time(out, f.to_shipment);
    out += R"(,"time_to_delivery":)";
    json_time(out, f.to_delivery);
    out += '}';
}

// CSV ---------------------------------------------------------------------

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(s);
    }
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    out += '"';
    return out;
}

void csv_time(std::vector<std::string>& row, const std::optional<duration_percentiles>& t) {
    if (!t) {
        row.insert(row.end(), {"0", "", "", ""});
        return;
    }
    row.insert(row.end(), {std::to_string(t->samples), std::to_string(t->p50_ms),
                           std::to_string(t->p90_ms), std::to_string(t->p99_ms)});
}

void csv_row(std::string& out, const status_board& board, std::string_view scope,
             std::string_view group, const board_figures& f) {
    std::vector<std::string> row{std::to_string(to_unix_ms(board.from)),
                                 std::to_string(to_unix_ms(board.to)), std::string(scope),
                                 std::string(group), std::to_string(f.orders)};
    for (const std::size_t n : f.by_state) {
        row.push_back(std::to_string(n));
    }
    row.push_back(std::to_string(f.cancelled));
    row.push_back(rate_of(f.cancelled, f.orders).value_or(""));
    row.push_back(std::to_string(f.after_sales_orders));
    row.push_back(rate_of(f.after_sales_orders, f.orders).value_or(""));
    row.push_back(std::to_string(f.exception_orders));
    row.push_back(rate_of(f.exception_orders, f.orders).value_or(""));
    row.push_back(std::to_string(f.ratings));
    row.push_back(std::to_string(f.rating_sum));
    row.push_back(average_of(f).value_or(""));
    csv_time(row, f.to_shipment);
    csv_time(row, f.to_delivery);
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += csv_field(row[i]);
    }
    out += "\r\n";
}

// Prometheus --------------------------------------------------------------

std::string label_value(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// One group as Prometheus sees it: its label ("" for the total) and figures.
struct prom_group {
    std::string label;  // `channel="web"`, already escaped, or empty
    const board_figures* figures;
};

// "{a,b}" from the non-empty parts, or "" when there are none.
std::string labels(std::string_view group, std::string_view extra = {}) {
    if (group.empty() && extra.empty()) {
        return {};
    }
    if (group.empty() || extra.empty()) {
        return fmt::format("{{{}{}}}", group, extra);
    }
    return fmt::format("{{{},{}}}", group, extra);
}

void family(std::string& out, std::string_view name, std::string_view help) {
    out += fmt::format("# HELP orderly_board_{} {}\n# TYPE orderly_board_{} gauge\n", name, help,
                       name);
}

template <class Value>
void gauge(std::string& out, std::string_view name, std::string_view help,
           const std::vector<prom_group>& groups, Value value) {
    family(out, name, help);
    for (const prom_group& g : groups) {
        const std::optional<std::string> v = value(*g.figures);
        if (v) {
            out += fmt::format("orderly_board_{}{} {}\n", name, labels(g.label), *v);
        }
    }
}

void time_family(std::string& out, std::string_view what, const std::vector<prom_group>& groups,
                 std::optional<duration_percentiles> board_figures::*member) {
    const std::string seconds = fmt::format("time_to_{}_seconds", what);
    family(out, seconds,
           fmt::format("Nearest-rank percentiles of the time from placement to {}, in seconds.",
                       what));
    for (const prom_group& g : groups) {
        const auto& t = (*g.figures).*member;
        if (!t) {
            continue;
        }
        const std::array<std::pair<std::string_view, std::int64_t>, 3> quantiles = {
            {{"0.5", t->p50_ms}, {"0.9", t->p90_ms}, {"0.99", t->p99_ms}}};
        for (const auto& [q, ms] : quantiles) {
            out += fmt::format("orderly_board_{}{} {}\n", seconds,
                               labels(g.label, fmt::format("quantile=\"{}\"", q)), seconds_of(ms));
        }
    }
    const std::string samples = fmt::format("time_to_{}_samples", what);
    gauge(out, samples, fmt::format("Orders with a time from placement to {}.", what), groups,
          [member](const board_figures& f) -> std::optional<std::string> {
              const auto& t = f.*member;
              return std::to_string(t ? t->samples : 0U);
          });
}

}  // namespace

std::size_t board_figures::in_state(order_state s) const noexcept {
    const std::size_t i = state_index(s);
    return i < by_state.size() ? by_state.at(i) : 0U;
}

std::optional<duration_percentiles> nearest_rank_percentiles(std::vector<std::int64_t> samples_ms) {
    if (samples_ms.empty()) {
        return std::nullopt;
    }
    std::sort(samples_ms.begin(), samples_ms.end());
    const std::size_t n = samples_ms.size();
    const auto at_rank = [&](std::size_t p) { return samples_ms.at(nearest_rank(p, n) - 1); };
    return duration_percentiles{n, at_rank(50), at_rank(90), at_rank(99)};
}

std::string decimal_ratio(std::uint64_t numerator, std::uint64_t denominator, int places) {
    detail::uint128 scale = 1;
    for (int i = 0; i < places; ++i) {
        scale *= 10U;
    }
    const detail::uint128 den = denominator;
    // round half up: floor((2 × num × scale + den) / (2 × den))
    const detail::uint128 scaled = (detail::uint128(numerator) * scale * 2U + den) / (den * 2U);
    const auto whole = static_cast<std::uint64_t>(scaled / scale);
    const auto fraction = static_cast<std::uint64_t>(scaled % scale);
    if (places <= 0) {
        return std::to_string(whole);
    }
    return fmt::format("{}.{:0{}}", whole, fraction, places);
}

result<status_board> compute_status_board(std::span<const board_input_order> orders, timestamp from,
                                          timestamp to) {
    if (to <= from) {
        return error{
            errc::invalid_value, "to",
            fmt::format("must be after from ({} ms), got {} ms", to_unix_ms(from), to_unix_ms(to))};
    }
    std::vector<std::pair<order_id, std::size_t>> ids;
    ids.reserve(orders.size());
    for (std::size_t k = 0; k < orders.size(); ++k) {
        ids.emplace_back(orders[k].o.id, k);
    }
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 1; i < ids.size(); ++i) {
        if (ids[i].first == ids[i - 1].first) {
            return error{errc::invalid_value, fmt::format("orders[{}].o.id", ids[i].second),
                         fmt::format("order {} is given twice (also orders[{}])",
                                     ids[i].first.value(), ids[i - 1].second)};
        }
    }

    accumulator total;
    std::map<order_channel, accumulator> channels;
    std::map<merchant_id, accumulator> merchants;
    for (std::size_t k = 0; k < orders.size(); ++k) {
        const board_input_order& in = orders[k];
        if (in.o.placed_at < from || in.o.placed_at >= to) {
            continue;
        }
        auto facts = facts_of(in);
        if (!facts) {
            return error(facts.error()).within(fmt::format("orders[{}]", k));
        }
        total.add(*facts);
        channels[in.o.channel].add(*facts);
        merchants[in.o.merchant].add(*facts);
    }

    status_board board;
    board.from = from;
    board.to = to;
    board.total = std::move(total).finish();
    for (auto& [channel, acc] : channels) {
        board.by_channel.emplace(channel, std::move(acc).finish());
    }
    for (auto& [merchant, acc] : merchants) {
        board.by_merchant.emplace(merchant, std::move(acc).finish());
    }
    return board;
}

std::string to_json(const status_board& board) {
    std::string out = fmt::format(R"({{"from_ms":{},"to_ms":{},"total":)", to_unix_ms(board.from),
                                  to_unix_ms(board.to));
    json_figures(out, board.total);
    out += R"(,"by_channel":{)";
    bool first = true;
    for (const auto& [channel, figures] : board.by_channel) {
        out += first ? "" : ",";
        first = false;
        json_string(out, to_string(channel));
        out += ':';
        json_figures(out, figures);
    }
    out += R"(},"by_merchant":{)";
    first = true;
    for (const auto& [merchant, figures] : board.by_merchant) {
        out += first ? "" : ",";
        first = false;
        json_string(out, merchant.value());
        out += ':';
        json_figures(out, figures);
    }
    out += "}}";
    return out;
}

std::string to_csv(const status_board& board) {
    std::string out = "from_ms,to_ms,scope,group,orders";
    for (const order_state s : all_order_states) {
        out += fmt::format(",state_{}", to_string(s));
    }
    out +=
        ",cancelled,cancellation_rate,after_sales_orders,after_sales_rate,exception_orders,"
        "exception_rate,ratings,rating_sum,average_rating,time_to_shipment_samples,"
        "time_to_shipment_p50_ms,time_to_shipment_p90_ms,time_to_shipment_p99_ms,"
        "time_to_delivery_samples,time_to_delivery_p50_ms,time_to_delivery_p90_ms,"
        "time_to_delivery_p99_ms\r\n";
    csv_row(out, board, "total", "", board.total);
    for (const auto& [channel, figures] : board.by_channel) {
        csv_row(out, board, "channel", to_string(channel), figures);
    }
    for (const auto& [merchant, figures] : board.by_merchant) {
        csv_row(out, board, "merchant", merchant.value(), figures);
    }
    return out;
}

std::string to_prometheus(const status_board& board) {
    std::vector<prom_group> groups;
    groups.push_back({std::string(), &board.total});
    for (const auto& [channel, figures] : board.by_channel) {
        groups.push_back(
            {fmt::format("channel=\"{}\"", label_value(to_string(channel))), &figures});
    }
    for (const auto& [merchant, figures] : board.by_merchant) {
        groups.push_back({fmt::format("merchant=\"{}\"", label_value(merchant.value())), &figures});
    }
    const auto count = [](std::size_t board_figures::*member) {
        return [member](const board_figures& f) -> std::optional<std::string> {
            return std::to_string(f.*member);
        };
    };
    const auto ratio = [](std::size_t board_figures::*member) {
        return [member](const board_figures& f) { return rate_of(f.*member, f.orders); };
    };

    std::string out;
    gauge(out, "orders", "Orders placed in the period.", groups, count(&board_figures::orders));
    family(out, "orders_by_state", "Orders placed in the period, by current state.");
    for (const prom_group& g : groups) {
        for (std::size_t i = 0; i < all_order_states.size(); ++i) {
            out += fmt::format(
                "orderly_board_orders_by_state{} {}\n",
                labels(g.label,
                       fmt::format("state=\"{}\"", label_value(to_string(all_order_states.at(i))))),
                g.figures->by_state.at(i));
        }
    }
    gauge(out, "cancelled_orders", "Orders placed in the period and cancelled.", groups,
          count(&board_figures::cancelled));
    gauge(out, "cancellation_rate", "Cancelled orders per order placed.", groups,
          ratio(&board_figures::cancelled));
    gauge(out, "after_sales_orders", "Orders placed in the period with an after-sales ticket.",
          groups, count(&board_figures::after_sales_orders));
    gauge(out, "after_sales_rate", "Orders with an after-sales ticket per order placed.", groups,
          ratio(&board_figures::after_sales_orders));
    gauge(out, "exception_orders", "Orders placed in the period with an exception.", groups,
          count(&board_figures::exception_orders));
    gauge(out, "exception_rate", "Orders with an exception per order placed.", groups,
          ratio(&board_figures::exception_orders));
    gauge(out, "ratings", "Orders placed in the period and rated.", groups,
          count(&board_figures::ratings));
    gauge(out, "average_rating", "Average rating score of the rated orders.", groups,
          [](const board_figures& f) { return average_of(f); });
    time_family(out, "shipment", groups, &board_figures::to_shipment);
    time_family(out, "delivery", groups, &board_figures::to_delivery);
    return out;
}

}  // namespace orderly
