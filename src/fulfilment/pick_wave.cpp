#include <orderly/fulfilment/pick_wave.hpp>

#include "checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace orderly {
namespace {

using detail::fulfilment::check_code;
using detail::fulfilment::check_id;
using detail::fulfilment::check_units;
using detail::fulfilment::indexed;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

std::strong_ordering byte_compare(std::string_view a, std::string_view b) noexcept {
    const int c = a.compare(b);  // char_traits<char> compares as unsigned char
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

// The digit run starting at `at`, without leading zeros; `at` moves past it.
std::string_view digit_run(std::string_view text, std::size_t& at) noexcept {
    const std::size_t start = at;
    while (at < text.size() && is_digit(text[at])) {
        ++at;
    }
    std::string_view run = text.substr(start, at - start);
    while (!run.empty() && run.front() == '0') {
        run.remove_prefix(1);
    }
    return run;
}

std::optional<error> check_line(const pick_line& line) {
    if (auto bad = check_id(line.sku, "sku")) {
        return bad;
    }
    if (auto bad = check_units(line.units.units(), pick_wave_limits::max_units_per_line, "units")) {
        return bad;
    }
    return check_code(line.bin, pick_wave_limits::location_bytes, "bin", true);
}

std::optional<error> check_shipment(const ready_shipment& s) {
    if (s.id.empty()) {
        return error{errc::missing_value, "id", "is required"};
    }
    if (auto bad = check_id(s.warehouse, "warehouse")) {
        return bad;
    }
    if (auto bad = check_code(s.zone, pick_wave_limits::location_bytes, "zone", false)) {
        return bad;
    }
    if (auto bad = check_id(s.carrier, "carrier")) {
        return bad;
    }
    if (s.lines.empty()) {
        return error{errc::missing_value, "lines", "a shipment needs at least one line"};
    }
    if (s.lines.size() > pick_wave_limits::max_lines_per_shipment) {
        return error{errc::invalid_value, "lines",
                     fmt::format("must be at most {}, got {}",
                                 pick_wave_limits::max_lines_per_shipment, s.lines.size())};
    }
    for (std::size_t j = 0; j < s.lines.size(); ++j) {
        if (auto bad = check_line(s.lines[j])) {
            return std::move(*bad).within(indexed("lines", j));
        }
    }
    return std::nullopt;
}

result<void> check_shipments(std::span<const ready_shipment> shipments) {
    if (shipments.size() > pick_wave_limits::max_shipments) {
        return error{errc::invalid_value, "shipments",
                     fmt::format("must be at most {}, got {}", pick_wave_limits::max_shipments,
                                 shipments.size())};
    }
    for (std::size_t i = 0; i < shipments.size(); ++i) {
        if (auto bad = check_shipment(shipments[i])) {
            return std::move(*bad).within(indexed("shipments", i));
        }
    }
    std::vector<std::size_t> by_id(shipments.size());
    std::iota(by_id.begin(), by_id.end(), std::size_t{0});
    std::sort(by_id.begin(), by_id.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(shipments[a].id, a) < std::tie(shipments[b].id, b);
    });
    std::optional<std::pair<std::size_t, std::size_t>> repeat;  // (earlier, later)
    for (std::size_t k = 1; k < by_id.size(); ++k) {
        if (shipments[by_id[k - 1]].id == shipments[by_id[k]].id &&
            (!repeat || by_id[k] < repeat->second)) {
            repeat = std::pair{by_id[k - 1], by_id[k]};
        }
    }
    if (repeat) {
        return error{errc::invalid_value, fmt::format("shipments[{}].id", repeat->second),
                     fmt::format("repeats the id {} of shipments[{}]", shipments[repeat->second].id,
                                 repeat->first)};
    }
    return {};
}

// The order of groups, and of shipments inside a group: cut-off, warehouse,
// zone, carrier (when carriers are kept apart), then id.
std::strong_ordering group_compare(const ready_shipment& a, const ready_shipment& b,
                                   bool separate_carriers) {
    if (auto c = a.cutoff <=> b.cutoff; c != 0) {
        return c;
    }
    if (auto c = a.warehouse <=> b.warehouse; c != 0) {
        return c;
    }
    if (auto c = natural_compare(a.zone, b.zone); c != 0) {
        return c;
    }
    if (separate_carriers) {
        return a.carrier <=> b.carrier;
    }
    return std::strong_ordering::equal;
}

std::int64_t units_of(const ready_shipment& s) {
    std::int64_t units = 0;
    for (const pick_line& line : s.lines) {
        units += line.units.units();  // at most 1000 × 10^6
    }
    return units;
}

// One (bin, SKU, shipment, units) before the rows are merged.
struct pick_item {
    const std::string* bin;
    const sku_id* sku;
    shipment_id shipment;
    std::int64_t units;
};

std::vector<pick_row> pick_list_of(std::span<const ready_shipment> shipments,
                                   const std::vector<std::size_t>& members) {
    std::vector<pick_item> items;
    for (const std::size_t i : members) {
        for (const pick_line& line : shipments[i].lines) {
            items.push_back(pick_item{&line.bin, &line.sku, shipments[i].id, line.units.units()});
        }
    }
    std::sort(items.begin(), items.end(), [](const pick_item& a, const pick_item& b) {
        if (auto c = natural_compare(*a.bin, *b.bin); c != 0) {
            return c < 0;
        }
        return std::tie(*a.sku, a.shipment) < std::tie(*b.sku, b.shipment);
    });
    std::vector<pick_row> rows;
    std::vector<std::int64_t> totals;
    for (const pick_item& item : items) {
        if (rows.empty() || rows.back().bin != *item.bin || rows.back().sku != *item.sku) {
            rows.push_back(pick_row{*item.bin, *item.sku, quantity{}, {}});
            totals.push_back(0);
        }
        std::vector<pick_share>& shares = rows.back().shipments;
        if (!shares.empty() && shares.back().shipment == item.shipment) {
            shares.back().units = *quantity::of(shares.back().units.units() + item.units);
        } else {
            shares.push_back(pick_share{item.shipment, *quantity::of(item.units)});
        }
        totals.back() += item.units;
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        rows[r].units = *quantity::of(totals[r]);
    }
    return rows;
}

pick_wave wave_of(std::span<const ready_shipment> shipments, std::vector<std::size_t> members,
                  std::int64_t units, bool oversize) {
    std::sort(members.begin(), members.end(),
              [&](std::size_t a, std::size_t b) { return shipments[a].id < shipments[b].id; });
    const ready_shipment& first = shipments[members.front()];
    pick_wave wave{.number = 0,
                   .warehouse = first.warehouse,
                   .zone = first.zone,
                   .cutoff = first.cutoff,
                   .carriers = {},
                   .shipments = {},
                   .units = units,
                   .oversize = oversize,
                   .pick_list = pick_list_of(shipments, members)};
    for (const std::size_t i : members) {
        wave.shipments.push_back(shipments[i].id);
        wave.carriers.push_back(shipments[i].carrier);
    }
    std::sort(wave.carriers.begin(), wave.carriers.end());
    wave.carriers.erase(std::unique(wave.carriers.begin(), wave.carriers.end()),
                        wave.carriers.end());
    return wave;
}

// A wave being filled.
struct open_wave {
    std::vector<std::size_t> members;
    std::int64_t units{0};
    bool oversize{false};
};

// First fit of one group's shipments (given in id order) into waves.
std::vector<open_wave> fill_group(const std::vector<std::int64_t>& units,
                                  std::span<const std::size_t> group,
                                  const pick_wave_options& options) {
    std::vector<open_wave> waves;
    std::vector<std::size_t> with_room;  // waves that may take another shipment
    for (const std::size_t i : group) {
        if (units[i] > options.max_units_per_wave) {
            waves.push_back(open_wave{{i}, units[i], true});
            continue;
        }
        auto fits = std::find_if(with_room.begin(), with_room.end(), [&](std::size_t w) {
            return waves[w].units + units[i] <= options.max_units_per_wave;
        });
        if (fits == with_room.end()) {
            with_room.push_back(waves.size());
            waves.push_back(open_wave{});
            fits = std::prev(with_room.end());
        }
        open_wave& wave = waves[*fits];
        wave.members.push_back(i);
        wave.units += units[i];
        if (wave.members.size() >= options.max_shipments_per_wave ||
            wave.units >= options.max_units_per_wave) {
            with_room.erase(fits);
        }
    }
    return waves;
}

}  // namespace

std::strong_ordering natural_compare(std::string_view a, std::string_view b) noexcept {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            const std::string_view x = digit_run(a, i);
            const std::string_view y = digit_run(b, j);
            if (auto c = x.size() <=> y.size(); c != 0) {
                return c;
            }
            if (auto c = byte_compare(x, y); c != 0) {
                return c;
            }
            continue;
        }
        if (a[i] != b[j]) {
            return static_cast<unsigned char>(a[i]) <=> static_cast<unsigned char>(b[j]);
        }
        ++i;
        ++j;
    }
    const bool a_done = i == a.size();
    const bool b_done = j == b.size();
    if (a_done != b_done) {
        return a_done ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    return byte_compare(a, b);
}

result<void> validate(const pick_wave_options& options) {
    if (options.max_shipments_per_wave < 1 ||
        options.max_shipments_per_wave > pick_wave_limits::max_shipments) {
        return error{errc::invalid_value, "max_shipments_per_wave",
                     fmt::format("must be between 1 and {}, got {}",
                                 pick_wave_limits::max_shipments, options.max_shipments_per_wave)};
    }
    if (options.max_units_per_wave < 1 ||
        options.max_units_per_wave > pick_wave_limits::max_units_per_wave) {
        return error{errc::invalid_value, "max_units_per_wave",
                     fmt::format("must be between 1 and {}, got {}",
                                 pick_wave_limits::max_units_per_wave, options.max_units_per_wave)};
    }
    return {};
}

result<std::vector<pick_wave>> plan_pick_waves(std::span<const ready_shipment> shipments,
                                               const pick_wave_options& options) {
    if (auto valid = validate(options); !valid) {
        return std::move(valid).error();
    }
    if (auto valid = check_shipments(shipments); !valid) {
        return std::move(valid).error();
    }
    std::vector<std::int64_t> units(shipments.size());
    std::vector<std::size_t> order(shipments.size());
    for (std::size_t i = 0; i < shipments.size(); ++i) {
        units[i] = units_of(shipments[i]);
        order[i] = i;
    }
    const bool apart = options.separate_carriers;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (auto c = group_compare(shipments[a], shipments[b], apart); c != 0) {
            return c < 0;
        }
        return shipments[a].id < shipments[b].id;
    });
    std::vector<pick_wave> plan;
    std::size_t start = 0;
    while (start < order.size()) {
        std::size_t end = start + 1;
        while (end < order.size() &&
               group_compare(shipments[order[start]], shipments[order[end]], apart) == 0) {
            ++end;
        }
        const std::span<const std::size_t> group(order.data() + start, end - start);
        for (open_wave& wave : fill_group(units, group, options)) {
            plan.push_back(wave_of(shipments, std::move(wave.members), wave.units, wave.oversize));
            plan.back().number = plan.size();
        }
        start = end;
    }
    return plan;
}

}  // namespace orderly
