#include <orderly/fulfilment/warehouse.hpp>

#include "checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace orderly {
namespace {

using detail::fulfilment::check_id;
using detail::fulfilment::check_units;
using detail::fulfilment::indexed;
using detail::fulfilment::units_text;

std::string units_field(std::size_t line) {
    return fmt::format("lines[{}].units", line);
}

std::optional<error> check_region(const warehouse_region& r) {
    if (r.country.empty()) {
        return error{errc::missing_value, "country", "is required"};
    }
    if (!is_country_code(r.country)) {
        return error{errc::invalid_value, "country",
                     "must be an ISO 3166-1 alpha-2 country code in capitals, such as CN or US"};
    }
    if (auto fault = detail::check_text(r.province, "province", address_limits::region_bytes,
                                        detail::presence::optional)) {
        return fault;
    }
    if (r.distance < 0 || r.distance > allocation_limits::max_distance) {
        return error{errc::invalid_value, "distance",
                     fmt::format("must be between 0 and {}, got {}",
                                 allocation_limits::max_distance, r.distance)};
    }
    return std::nullopt;
}

// The first row that repeats an earlier row's country and province.
std::optional<error> check_region_repeats(const std::vector<warehouse_region>& regions) {
    std::vector<std::size_t> order(regions.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto key = [&regions](std::size_t i) {
        return std::tie(regions[i].country, regions[i].province);
    };
    std::stable_sort(order.begin(), order.end(),
                     [&key](std::size_t a, std::size_t b) { return key(a) < key(b); });
    std::optional<std::pair<std::size_t, std::size_t>> repeat;  // (earlier, later)
    for (std::size_t k = 1; k < order.size(); ++k) {
        if (key(order[k - 1]) == key(order[k]) && (!repeat || order[k] < repeat->second)) {
            repeat = std::pair{order[k - 1], order[k]};
        }
    }
    if (!repeat) {
        return std::nullopt;
    }
    const warehouse_region& r = regions[repeat->second];
    return error{errc::invalid_value, indexed("regions", repeat->second),
                 fmt::format("repeats regions[{}] ({}{}{})", repeat->first, r.country,
                             r.province.empty() ? "" : ", ", r.province)};
}

std::string region_text(std::string_view country, std::string_view province) {
    return province.empty() ? std::string(country) : fmt::format("{}, {}", country, province);
}

// Rank of a line's method: 0 for the default method, else 1 + the index of
// the first rule naming the same method. Parts of one warehouse sort by it.
std::size_t method_rank(const shipping_method_table& table, const goods_traits& traits) {
    for (std::size_t i = 0; i < table.rules.size(); ++i) {
        if (!traits.has(table.rules[i].trait)) {
            continue;
        }
        if (table.rules[i].method == table.default_method) {
            return 0;
        }
        for (std::size_t j = 0; j <= i; ++j) {
            if (table.rules[j].method == table.rules[i].method) {
                return j + 1;
            }
        }
    }
    return 0;
}

const std::string& method_name(const shipping_method_table& table, std::size_t rank) {
    return rank == 0 ? table.default_method : table.rules[rank - 1].method;
}

// How deep check_network looks.
enum class network_check : std::uint8_t {
    full,      // everything: validate(network)
    planning,  // what a plan's correctness depends on: limits, ids, distances, the method table
};

// The parts of a warehouse a plan depends on: its id and its distances.
std::optional<error> check_for_planning(const warehouse& w) {
    if (auto bad = check_id(w.id, "id")) {
        return bad;
    }
    if (w.regions.size() > allocation_limits::max_regions_per_warehouse) {
        return error{errc::invalid_value, "regions",
                     fmt::format("must be at most {} rows, got {}",
                                 allocation_limits::max_regions_per_warehouse, w.regions.size())};
    }
    for (std::size_t i = 0; i < w.regions.size(); ++i) {
        const std::int64_t distance = w.regions[i].distance;
        if (distance < 0 || distance > allocation_limits::max_distance) {
            return error{errc::invalid_value, fmt::format("regions[{}].distance", i),
                         fmt::format("must be between 0 and {}, got {}",
                                     allocation_limits::max_distance, distance)};
        }
    }
    return std::nullopt;
}

result<void> check_network(const fulfilment_network& network, network_check depth) {
    if (network.warehouses.size() > allocation_limits::max_warehouses) {
        return error{errc::invalid_value, "warehouses",
                     fmt::format("must be at most {}, got {}", allocation_limits::max_warehouses,
                                 network.warehouses.size())};
    }
    std::unordered_map<warehouse_id, std::size_t> seen;
    for (std::size_t i = 0; i < network.warehouses.size(); ++i) {
        const warehouse& w = network.warehouses[i];
        if (depth == network_check::full) {
            if (auto valid = validate(w); !valid) {
                return std::move(valid).error().within(indexed("warehouses", i));
            }
        } else if (auto bad = check_for_planning(w)) {
            return std::move(*bad).within(indexed("warehouses", i));
        }
        if (auto [at, fresh] = seen.try_emplace(w.id, i); !fresh) {
            return error{errc::invalid_value, fmt::format("warehouses[{}].id", i),
                         fmt::format("repeats the id {} of warehouses[{}]", w.id, at->second)};
        }
    }
    if (auto valid = validate(network.methods); !valid) {
        return std::move(valid).error().within("methods");
    }
    return {};
}

result<void> check_lines(const std::vector<fulfilment_line>& lines) {
    if (lines.empty()) {
        return error{errc::missing_value, "lines", "an order needs at least one line"};
    }
    if (lines.size() > allocation_limits::max_lines) {
        return error{
            errc::invalid_value, "lines",
            fmt::format("must be at most {}, got {}", allocation_limits::max_lines, lines.size())};
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (auto bad = check_id(lines[i].sku, fmt::format("lines[{}].sku", i))) {
            return *std::move(bad);
        }
        if (auto bad = check_units(lines[i].units.units(), allocation_limits::max_units_per_line,
                                   units_field(i))) {
            return *std::move(bad);
        }
    }
    return {};
}

result<void> check_ship_to(const address& ship_to) {
    if (auto bad = detail::check_country(ship_to)) {
        return std::move(*bad).within("ship_to");
    }
    if (auto bad = detail::check_text(ship_to.province, "province", address_limits::region_bytes,
                                      detail::presence::optional)) {
        return std::move(*bad).within("ship_to");
    }
    return {};
}

// Available units of a stock row, 0 when reserved and safety exceed on hand;
// computed without the overflow an absurd row could cause.
std::int64_t available_units(const stock_level& row) {
    const std::int64_t on_hand = row.on_hand.units();
    const std::int64_t held = row.reserved.units();
    const std::int64_t safety = row.safety.units();
    if (held > on_hand || safety > on_hand - held) {
        return 0;
    }
    return on_hand - held - safety;
}

// Demands and the index of each SKU's demand, in order of first line.
struct demand_index {
    std::vector<selection_demand> demands;
    std::unordered_map<sku_id, std::size_t> of_sku;
};

demand_index index_demands(const std::vector<fulfilment_line>& lines) {
    demand_index index;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto [at, fresh] = index.of_sku.try_emplace(lines[i].sku, index.demands.size());
        if (fresh) {
            index.demands.push_back(selection_demand{lines[i].sku, 0, i});
        }
        // At most max_lines × max_units_per_line: no overflow.
        index.demands[at->second].units += lines[i].units.units();
    }
    return index;
}

// Fills each candidate's availability from the stock rows; refuses a
// (sku, warehouse) pair of the order that appears twice.
result<void> fill_availability(const std::vector<stock_level>& stock, const demand_index& index,
                               const std::unordered_map<warehouse_id, std::size_t>& network_index,
                               const std::vector<std::optional<std::size_t>>& candidate_of,
                               std::vector<selection_candidate>& candidates) {
    if (stock.size() > allocation_limits::max_stock_rows) {
        return error{errc::invalid_value, "stock",
                     fmt::format("must be at most {} rows, got {}",
                                 allocation_limits::max_stock_rows, stock.size())};
    }
    const std::size_t demand_count = index.demands.size();
    std::vector<std::pair<std::size_t, std::size_t>> keys;  // (warehouse × demand, row)
    for (std::size_t r = 0; r < stock.size(); ++r) {
        const auto sku = index.of_sku.find(stock[r].sku);
        const auto place = network_index.find(stock[r].warehouse);
        if (sku == index.of_sku.end() || place == network_index.end()) {
            continue;
        }
        keys.emplace_back(place->second * demand_count + sku->second, r);
        if (const auto c = candidate_of[place->second]) {
            const std::int64_t wanted = index.demands[sku->second].units;
            candidates[*c].available[sku->second] = std::min(available_units(stock[r]), wanted);
        }
    }
    std::sort(keys.begin(), keys.end());
    std::optional<std::pair<std::size_t, std::size_t>> repeat;  // (earlier, later) rows
    for (std::size_t k = 1; k < keys.size(); ++k) {
        if (keys[k - 1].first == keys[k].first && (!repeat || keys[k].second < repeat->second)) {
            repeat = std::pair{keys[k - 1].second, keys[k].second};
        }
    }
    if (repeat) {
        const stock_level& row = stock[repeat->second];
        return error{errc::invalid_value, indexed("stock", repeat->second),
                     fmt::format("repeats stock[{}] (SKU {} in warehouse {})", repeat->first,
                                 row.sku, row.warehouse)};
    }
    return {};
}

// The first line of demand `d` the candidates cannot cover together, with
// the shortfall; nothing when they can.
std::optional<error> shortfall(const selection_problem& p, std::size_t d,
                               const std::vector<fulfilment_line>* lines) {
    const selection_demand& demand = p.demands[d];
    std::int64_t total = 0;
    for (const selection_candidate& c : p.candidates) {
        total += c.available[d];  // each ≤ demand.units ≤ 10^12, at most 256 of them
    }
    if (total >= demand.units) {
        return std::nullopt;
    }
    std::size_t line = demand.first_line;
    if (lines != nullptr) {
        std::int64_t left = total;
        for (std::size_t i = demand.first_line; i < lines->size(); ++i) {
            if ((*lines)[i].sku != demand.sku) {
                continue;
            }
            if (left < (*lines)[i].units.units()) {
                line = i;
                break;
            }
            left -= (*lines)[i].units.units();
        }
    }
    return error{errc::insufficient_stock, units_field(line),
                 fmt::format("{} of SKU {} {} ordered, but the warehouses serving {} have {} "
                             "available: {} short",
                             units_text(demand.units), demand.sku, demand.units == 1 ? "is" : "are",
                             p.region, total, demand.units - total)};
}

// A selector's input must be shaped as make_selection_problem makes it.
result<void> check_problem(const selection_problem& p) {
    for (std::size_t c = 0; c < p.candidates.size(); ++c) {
        const std::vector<std::int64_t>& available = p.candidates[c].available;
        if (available.size() != p.demands.size()) {
            return error{errc::invalid_value, fmt::format("candidates[{}].available", c),
                         fmt::format("must have one entry per demand ({}), got {}",
                                     p.demands.size(), available.size())};
        }
        for (std::size_t d = 0; d < available.size(); ++d) {
            if (available[d] < 0 || available[d] > p.demands[d].units) {
                return error{errc::invalid_value, fmt::format("candidates[{}].available[{}]", c, d),
                             fmt::format("must be between 0 and the demand's {} units, got {}",
                                         p.demands[d].units, available[d])};
            }
        }
    }
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        if (auto missing = shortfall(p, d, nullptr)) {
            return *std::move(missing);
        }
    }
    return {};
}

bool holds_whole(const selection_problem& p, std::size_t c, std::size_t d) {
    return p.candidates[c].available[d] >= p.demands[d].units;
}

// Demands no single candidate holds whole: the only ones that may be split.
std::vector<bool> split_demands(const selection_problem& p) {
    std::vector<bool> split(p.demands.size(), true);
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        for (std::size_t c = 0; c < p.candidates.size() && split[d]; ++c) {
            split[d] = !holds_whole(p, c, d);
        }
    }
    return split;
}

// Units per chosen candidate: a whole demand from the nearest chosen
// candidate holding it all, a split demand from the chosen ones nearest first.
warehouse_assignment assign(const selection_problem& p, const std::vector<std::size_t>& chosen,
                            const std::vector<bool>& split) {
    std::vector<warehouse_take> takes;
    takes.reserve(chosen.size());
    for (const std::size_t c : chosen) {
        takes.push_back(warehouse_take{c, std::vector<std::int64_t>(p.demands.size(), 0)});
    }
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        std::int64_t left = p.demands[d].units;
        for (std::size_t k = 0; k < chosen.size() && left > 0; ++k) {
            const std::int64_t has = p.candidates[chosen[k]].available[d];
            if (split[d]) {
                takes[k].units[d] = std::min(has, left);
                left -= takes[k].units[d];
            } else if (has >= left) {
                takes[k].units[d] = left;
                left = 0;
            }
        }
    }
    std::erase_if(takes, [](const warehouse_take& t) {
        return std::all_of(t.units.begin(), t.units.end(), [](std::int64_t u) { return u == 0; });
    });
    return warehouse_assignment{std::move(takes)};
}

// One bit mask per whole demand (bit c: candidate c holds it all), without
// repeats: a subset works for whole demands when it meets every mask.
std::vector<std::uint32_t> whole_masks_of(const selection_problem& p,
                                          const std::vector<bool>& split) {
    std::vector<std::uint32_t> masks;
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        if (split[d]) {
            continue;
        }
        std::uint32_t mask = 0;
        for (std::size_t c = 0; c < p.candidates.size(); ++c) {
            mask |= holds_whole(p, c, d) ? (std::uint32_t{1} << c) : 0U;
        }
        masks.push_back(mask);
    }
    std::sort(masks.begin(), masks.end());
    masks.erase(std::unique(masks.begin(), masks.end()), masks.end());
    return masks;
}

// The next combination of members.size() out of n, in lexicographic order;
// false after the last.
bool next_combination(std::vector<std::size_t>& members, std::size_t n) {
    const std::size_t k = members.size();
    std::size_t i = k;
    while (i > 0 && members[i - 1] == n - k + (i - 1)) {
        --i;
    }
    if (i == 0) {
        return false;
    }
    ++members[i - 1];
    for (std::size_t j = i; j < k; ++j) {
        members[j] = members[j - 1] + 1;
    }
    return true;
}

// The subset search of select_fewest_parcels, for at most 16 candidates.
std::vector<std::size_t> exact_cover(const selection_problem& p, const std::vector<bool>& split) {
    const std::size_t n = p.candidates.size();
    const std::vector<std::uint32_t> whole_masks = whole_masks_of(p, split);
    const auto works = [&](const std::vector<std::size_t>& members, std::uint32_t mask) {
        const bool whole = std::all_of(whole_masks.begin(), whole_masks.end(),
                                       [mask](std::uint32_t m) { return (m & mask) != 0; });
        for (std::size_t d = 0; whole && d < p.demands.size(); ++d) {
            std::int64_t covered = 0;
            for (const std::size_t c : members) {
                covered += split[d] ? p.candidates[c].available[d] : 0;
            }
            if (split[d] && covered < p.demands[d].units) {
                return false;
            }
        }
        return whole;
    };
    for (std::size_t k = 1; k <= n; ++k) {
        std::vector<std::size_t> members(k);
        std::iota(members.begin(), members.end(), std::size_t{0});
        std::optional<std::pair<std::int64_t, std::vector<std::size_t>>> best;
        do {
            std::uint32_t mask = 0;
            std::int64_t distance = 0;
            for (const std::size_t c : members) {
                mask |= std::uint32_t{1} << c;
                distance += p.candidates[c].distance;
            }
            // Combinations come in lexicographic order, so on equal distance
            // the first found is the earliest (nearest) one: keep it.
            if ((!best || distance < best->first) && works(members, mask)) {
                best = std::pair{distance, members};
            }
        } while (next_combination(members, n));
        if (best) {
            return std::move(best->second);
        }
    }
    // check_problem made sure all candidates together work.
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), std::size_t{0});
    return all;
}

// The first greedy phase: for each split demand, add the candidate holding
// most of it (ties: nearest) until the chosen ones cover it.
void choose_for_split_demands(const selection_problem& p, const std::vector<bool>& split,
                              std::vector<bool>& chosen) {
    const std::size_t n = p.candidates.size();
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        if (!split[d]) {
            continue;
        }
        std::int64_t covered = 0;
        for (std::size_t c = 0; c < n; ++c) {
            covered += chosen[c] ? p.candidates[c].available[d] : 0;
        }
        while (covered < p.demands[d].units) {
            std::optional<std::size_t> best;
            for (std::size_t c = 0; c < n; ++c) {
                const std::int64_t has = p.candidates[c].available[d];
                if (!chosen[c] && has > 0 && (!best || has > p.candidates[*best].available[d])) {
                    best = c;
                }
            }
            if (!best) {
                break;  // cannot happen after check_problem
            }
            chosen[*best] = true;
            covered += p.candidates[*best].available[d];
        }
    }
}

// The greedy set cover of select_fewest_parcels.
std::vector<std::size_t> greedy_cover(const selection_problem& p, const std::vector<bool>& split) {
    const std::size_t n = p.candidates.size();
    std::vector<bool> chosen(n, false);
    choose_for_split_demands(p, split, chosen);
    std::vector<std::size_t> uncovered;
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        bool served = split[d];
        for (std::size_t c = 0; c < n && !served; ++c) {
            served = chosen[c] && holds_whole(p, c, d);
        }
        if (!served) {
            uncovered.push_back(d);
        }
    }
    while (!uncovered.empty()) {
        std::size_t best = 0;
        std::size_t best_count = 0;
        for (std::size_t c = 0; c < n; ++c) {
            const auto count = static_cast<std::size_t>(
                std::count_if(uncovered.begin(), uncovered.end(),
                              [&](std::size_t d) { return holds_whole(p, c, d); }));
            if (!chosen[c] && count > best_count) {
                best = c;
                best_count = count;
            }
        }
        if (best_count == 0) {
            break;  // cannot happen: a whole demand has a candidate holding it
        }
        chosen[best] = true;
        std::erase_if(uncovered, [&](std::size_t d) { return holds_whole(p, best, d); });
    }
    std::vector<std::size_t> members;
    for (std::size_t c = 0; c < n; ++c) {
        if (chosen[c]) {
            members.push_back(c);
        }
    }
    return members;
}

result<void> check_assignment(const selection_problem& p, const warehouse_assignment& a) {
    const auto broken = [](std::string message) {
        return error{errc::invalid_value, "selector", std::move(message)};
    };
    std::vector<bool> seen(p.candidates.size(), false);
    std::vector<std::int64_t> given(p.demands.size(), 0);
    for (std::size_t t = 0; t < a.takes.size(); ++t) {
        const warehouse_take& take = a.takes[t];
        if (take.candidate >= p.candidates.size()) {
            return broken(fmt::format("takes[{}] names candidate {}, but there are only {}", t,
                                      take.candidate, p.candidates.size()));
        }
        if (seen[take.candidate]) {
            return broken(fmt::format("takes[{}] names warehouse {} a second time", t,
                                      p.candidates[take.candidate].warehouse));
        }
        seen[take.candidate] = true;
        if (take.units.size() != p.demands.size()) {
            return broken(fmt::format("takes[{}] has {} entries for {} SKUs", t, take.units.size(),
                                      p.demands.size()));
        }
        for (std::size_t d = 0; d < p.demands.size(); ++d) {
            const std::int64_t has = p.candidates[take.candidate].available[d];
            if (take.units[d] < 0 || take.units[d] > has) {
                return broken(fmt::format(
                    "takes[{}] takes {} of SKU {} from warehouse {}, which has {} available", t,
                    take.units[d], p.demands[d].sku, p.candidates[take.candidate].warehouse, has));
            }
            given[d] += take.units[d];
        }
    }
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        if (given[d] != p.demands[d].units) {
            return broken(fmt::format("gives {} of SKU {}, but the order needs {}", given[d],
                                      p.demands[d].sku, p.demands[d].units));
        }
    }
    return {};
}

// One line's units from one candidate, before grouping into parts.
struct piece {
    std::size_t candidate;
    std::size_t rank;
    std::size_t line;
    std::int64_t units;
};

// Hands each demand's units back to its lines, in line order, from the
// nearest chosen candidate first, and groups them into parts.
allocation_plan build_plan(const allocation_request& request, const fulfilment_network& network,
                           const selection_problem& p, warehouse_assignment assignment) {
    std::sort(
        assignment.takes.begin(), assignment.takes.end(),
        [](const warehouse_take& a, const warehouse_take& b) { return a.candidate < b.candidate; });
    std::unordered_map<sku_id, std::size_t> demand_of;
    for (std::size_t d = 0; d < p.demands.size(); ++d) {
        demand_of.emplace(p.demands[d].sku, d);
    }
    std::vector<std::size_t> next_take(p.demands.size(), 0);
    std::vector<std::vector<std::int64_t>> left;  // units left per take per demand
    for (const warehouse_take& take : assignment.takes) {
        left.push_back(take.units);
    }
    std::vector<piece> pieces;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
        const fulfilment_line& line = request.lines[i];
        const std::size_t d = demand_of.at(line.sku);
        const std::size_t rank = method_rank(network.methods, line.traits);
        std::int64_t need = line.units.units();
        while (need > 0) {
            std::size_t& t = next_take[d];
            const std::int64_t give = std::min(need, left[t][d]);
            if (give > 0) {
                pieces.push_back(piece{assignment.takes[t].candidate, rank, i, give});
                left[t][d] -= give;
                need -= give;
            }
            if (left[t][d] == 0) {
                ++t;  // check_assignment: the takes cover every line
            }
        }
    }
    std::sort(pieces.begin(), pieces.end(), [](const piece& a, const piece& b) {
        return std::tie(a.candidate, a.rank, a.line) < std::tie(b.candidate, b.rank, b.line);
    });
    allocation_plan plan;
    for (const piece& part_piece : pieces) {
        const selection_candidate& from = p.candidates[part_piece.candidate];
        const std::string& method = method_name(network.methods, part_piece.rank);
        if (plan.parts.empty() || plan.parts.back().warehouse != from.warehouse ||
            plan.parts.back().shipping_method != method) {
            plan.parts.push_back(allocation_part{from.warehouse, from.distance, method, {}});
        }
        auto units = quantity::of(part_piece.units);
        plan.parts.back().lines.push_back(
            allocation_line{part_piece.line, request.lines[part_piece.line].sku, *units});
    }
    return plan;
}

}  // namespace

result<void> validate(const warehouse& w) {
    if (auto bad = check_id(w.id, "id")) {
        return *std::move(bad);
    }
    if (auto bad = detail::check_text(w.name, "name", allocation_limits::name_bytes,
                                      detail::presence::required)) {
        return *std::move(bad);
    }
    if (auto sender = validate(w.sender); !sender) {
        return std::move(sender).error().within("sender");
    }
    if (w.regions.empty()) {
        return error{errc::missing_value, "regions", "a warehouse must serve at least one region"};
    }
    if (w.regions.size() > allocation_limits::max_regions_per_warehouse) {
        return error{errc::invalid_value, "regions",
                     fmt::format("must be at most {} rows, got {}",
                                 allocation_limits::max_regions_per_warehouse, w.regions.size())};
    }
    for (std::size_t i = 0; i < w.regions.size(); ++i) {
        if (auto bad = check_region(w.regions[i])) {
            return std::move(*bad).within(indexed("regions", i));
        }
    }
    if (auto repeat = check_region_repeats(w.regions)) {
        return *std::move(repeat);
    }
    return {};
}

std::optional<std::int64_t> distance_to(const warehouse& w, std::string_view country,
                                        std::string_view province) noexcept {
    std::optional<std::int64_t> whole_country;
    for (const warehouse_region& r : w.regions) {
        if (r.country != country) {
            continue;
        }
        if (r.province.empty()) {
            whole_country = whole_country ? whole_country : r.distance;
        } else if (!province.empty() && r.province == province) {
            return r.distance;
        }
    }
    return whole_country;
}

result<void> validate(const fulfilment_network& network) {
    return check_network(network, network_check::full);
}

shipping_method_table shipping_method_table::standard() {
    return shipping_method_table{.rules = {{goods_trait::restricted, "restricted"},
                                           {goods_trait::liquid, "liquid"},
                                           {goods_trait::bulky, "freight"}},
                                 .default_method = "standard"};
}

std::string_view shipping_method_table::method_for(const goods_traits& traits) const noexcept {
    for (const shipping_method_rule& rule : rules) {
        if (traits.has(rule.trait)) {
            return rule.method;
        }
    }
    return default_method;
}

result<void> validate(const shipping_method_table& table) {
    const auto check_name = [](std::string_view name, std::string_view field) -> result<void> {
        if (auto bad = detail::check_text(name, field, allocation_limits::method_bytes,
                                          detail::presence::required)) {
            return *std::move(bad);
        }
        return {};
    };
    if (auto bad = check_name(table.default_method, "default_method"); !bad) {
        return bad;
    }
    if (table.rules.size() > allocation_limits::max_method_rules) {
        return error{errc::invalid_value, "rules",
                     fmt::format("must be at most {}, got {}", allocation_limits::max_method_rules,
                                 table.rules.size())};
    }
    for (std::size_t i = 0; i < table.rules.size(); ++i) {
        const shipping_method_rule& rule = table.rules[i];
        if (std::find(all_goods_traits.begin(), all_goods_traits.end(), rule.trait) ==
            all_goods_traits.end()) {
            return error{errc::invalid_value, fmt::format("rules[{}].trait", i),
                         "must be fragile, liquid, valuable, restricted or bulky"};
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (table.rules[j].trait == rule.trait) {
                return error{errc::invalid_value, fmt::format("rules[{}].trait", i),
                             fmt::format("rules[{}] already decides {} goods, so this rule "
                                         "would never apply",
                                         j, rule.trait)};
            }
        }
        if (auto bad = check_name(rule.method, fmt::format("rules[{}].method", i)); !bad) {
            return bad;
        }
    }
    return {};
}

std::size_t allocation_plan::warehouse_count() const {
    std::vector<const warehouse_id*> ids;
    for (const allocation_part& part : parts) {
        ids.push_back(&part.warehouse);
    }
    std::sort(ids.begin(), ids.end(),
              [](const warehouse_id* a, const warehouse_id* b) { return *a < *b; });
    return static_cast<std::size_t>(
        std::unique(ids.begin(), ids.end(),
                    [](const warehouse_id* a, const warehouse_id* b) { return *a == *b; }) -
        ids.begin());
}

result<selection_problem> make_selection_problem(const allocation_request& request,
                                                 const fulfilment_network& network) {
    if (auto valid = check_network(network, network_check::planning); !valid) {
        return std::move(valid).error();
    }
    if (auto valid = check_lines(request.lines); !valid) {
        return std::move(valid).error();
    }
    if (auto valid = check_ship_to(request.ship_to); !valid) {
        return std::move(valid).error();
    }
    demand_index index = index_demands(request.lines);
    selection_problem problem;
    problem.region = region_text(request.ship_to.country, request.ship_to.province);

    std::unordered_map<warehouse_id, std::size_t> network_index;
    std::vector<std::optional<std::size_t>> candidate_of(network.warehouses.size());
    for (std::size_t w = 0; w < network.warehouses.size(); ++w) {
        const warehouse& house = network.warehouses[w];
        network_index.emplace(house.id, w);
        if (auto distance = distance_to(house, request.ship_to.country, request.ship_to.province)) {
            candidate_of[w] = problem.candidates.size();
            problem.candidates.push_back(selection_candidate{
                house.id, *distance, std::vector<std::int64_t>(index.demands.size(), 0)});
        }
    }
    if (problem.candidates.empty()) {
        return error{errc::invalid_value, "ship_to",
                     fmt::format("no warehouse ships to {}", problem.region)};
    }
    if (auto filled = fill_availability(request.stock, index, network_index, candidate_of,
                                        problem.candidates);
        !filled) {
        return std::move(filled).error();
    }
    problem.demands = std::move(index.demands);
    for (std::size_t d = 0; d < problem.demands.size(); ++d) {
        if (auto missing = shortfall(problem, d, &request.lines)) {
            return *std::move(missing);
        }
    }
    std::erase_if(problem.candidates, [](const selection_candidate& c) {
        return std::all_of(c.available.begin(), c.available.end(),
                           [](std::int64_t units) { return units == 0; });
    });
    std::sort(problem.candidates.begin(), problem.candidates.end(),
              [](const selection_candidate& a, const selection_candidate& b) {
                  return std::tie(a.distance, a.warehouse) < std::tie(b.distance, b.warehouse);
              });
    return problem;
}

result<warehouse_assignment> select_single_warehouse(const selection_problem& p) {
    if (auto valid = check_problem(p); !valid) {
        return std::move(valid).error();
    }
    if (p.demands.empty()) {
        return warehouse_assignment{};
    }
    for (std::size_t c = 0; c < p.candidates.size(); ++c) {
        bool all = true;
        for (std::size_t d = 0; d < p.demands.size() && all; ++d) {
            all = holds_whole(p, c, d);
        }
        if (all) {
            return assign(p, {c}, std::vector<bool>(p.demands.size(), false));
        }
    }
    // No candidate holds everything, so there are demands and candidates.
    const selection_candidate& nearest = p.candidates.front();
    std::size_t d = 0;
    while (holds_whole(p, 0, d)) {
        ++d;
    }
    return error{errc::insufficient_stock, units_field(p.demands[d].first_line),
                 fmt::format("no single warehouse serving {} can ship the whole order; the "
                             "nearest, {}, has {} of the {} of SKU {}",
                             p.region, nearest.warehouse, nearest.available[d],
                             units_text(p.demands[d].units), p.demands[d].sku)};
}

result<warehouse_assignment> select_fewest_parcels(const selection_problem& p,
                                                   const fewest_parcels_options& options) {
    if (options.exact_up_to > allocation_limits::max_exact_warehouses) {
        return error{errc::invalid_value, "exact_up_to",
                     fmt::format("must be at most {}, got {}",
                                 allocation_limits::max_exact_warehouses, options.exact_up_to)};
    }
    if (auto valid = check_problem(p); !valid) {
        return std::move(valid).error();
    }
    if (p.demands.empty()) {
        return warehouse_assignment{};
    }
    const std::vector<bool> split = split_demands(p);
    const std::vector<std::size_t> chosen =
        p.candidates.size() <= options.exact_up_to ? exact_cover(p, split) : greedy_cover(p, split);
    return assign(p, chosen, split);
}

result<allocation_plan> plan_allocation(const allocation_request& request,
                                        const fulfilment_network& network) {
    return plan_allocation(request, network,
                           [](const selection_problem& p) { return select_fewest_parcels(p); });
}

result<allocation_plan> plan_allocation(const allocation_request& request,
                                        const fulfilment_network& network,
                                        const warehouse_selector& selector) {
    if (!selector) {
        return error{errc::missing_value, "selector", "a warehouse selector is required"};
    }
    auto problem = make_selection_problem(request, network);
    if (!problem) {
        return std::move(problem).error();
    }
    auto assignment = selector(*problem);
    if (!assignment) {
        return std::move(assignment).error();
    }
    if (auto valid = check_assignment(*problem, *assignment); !valid) {
        return std::move(valid).error();
    }
    return build_plan(request, network, *problem, *std::move(assignment));
}

}  // namespace orderly
