#pragma once
/// \file
/// Warehouses and warehouse selection: which warehouse ships
/// which units of an order, and which lines travel apart because they need
/// another shipping method. Pure functions over values the host passes in;
/// nothing here reads a store or changes stock.
///
/// The steps of plan_allocation():
///  1. Check the inputs (fields named as `lines[2].units`, `warehouses[1].regions[0].distance`).
///  2. Build a selection_problem: one demand per distinct SKU, and as
///     candidates the warehouses that serve the ship-to region and hold some
///     of the goods, nearest first (ties by id). A SKU the serving warehouses
///     cannot cover together is refused here with the shortfall.
///  3. Ask the warehouse_selector (select_fewest_parcels by default) which
///     warehouse gives how many units of each demand, and check its answer:
///     every demand covered exactly, no warehouse giving more than it has.
///  4. Hand the units back to the lines (a SKU's lines in order, from the
///     nearest chosen warehouse first) and split each warehouse's lines by
///     shipping method (shipping_method_table).

#include <orderly/core/address.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/fulfilment/goods_traits.hpp>
#include <orderly/inventory/stock.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// Limits on what warehouse selection accepts; larger inputs are refused
/// with invalid_value, so the work per call stays bounded.
struct allocation_limits {
    /// Lines per request (the engine's own default is 200).
    static constexpr std::size_t max_lines = 1000;
    /// Units on one line.
    static constexpr std::int64_t max_units_per_line = 1'000'000'000;
    /// Warehouses in a network.
    static constexpr std::size_t max_warehouses = 256;
    /// Coverage rows (regions) of one warehouse.
    static constexpr std::size_t max_regions_per_warehouse = 4096;
    /// Stock rows per request.
    static constexpr std::size_t max_stock_rows = 100'000;
    /// Largest distance a coverage row may give.
    static constexpr std::int64_t max_distance = 1'000'000'000;
    /// Bytes of a warehouse's name.
    static constexpr std::size_t name_bytes = 256;
    /// Rules in a shipping method table.
    static constexpr std::size_t max_method_rules = 16;
    /// Bytes of a shipping method's name.
    static constexpr std::size_t method_bytes = 64;
    /// Most candidate warehouses select_fewest_parcels searches exactly (2^16 subsets).
    static constexpr std::size_t max_exact_warehouses = 16;
};

/// One row of a warehouse's coverage table: a destination region it ships
/// to and how far that is. Rows come straight from a host's table
/// (warehouse, country, province, distance).
struct warehouse_region {
    std::string country;  ///< ISO 3166-1 alpha-2 code in capitals, e.g. "CN". Required.
    /// Province or state, spelled exactly as ship-to addresses spell it
    /// (compared byte for byte); empty means the whole country.
    std::string province;
    /// The host's measure of distance or priority (kilometres, hours, a
    /// rank): lower is nearer. 0 to allocation_limits::max_distance.
    std::int64_t distance{0};

    /// Rows are equal when every field is.
    friend bool operator==(const warehouse_region&, const warehouse_region&) = default;
};

/// A warehouse that ships orders: who it is, the sender address printed on
/// its labels, and the regions it serves. A plain aggregate.
struct warehouse {
    warehouse_id id;   ///< The host's warehouse code. Required.
    std::string name;  ///< Display name. Required.
    address sender;    ///< Sender (return) address for labels; a valid address.
    /// Regions served, with their distance. A ship-to address is served by the
    /// row of its country and province, else by the row of its whole country;
    /// a warehouse without a matching row does not ship there.
    std::vector<warehouse_region> regions;

    /// Warehouses are equal when every field is.
    friend bool operator==(const warehouse&, const warehouse&) = default;
};

/// Checks a warehouse: id, name, sender address (fields under `sender.`),
/// region rows (`regions[i].country`: a known country code; no two rows for
/// the same country and province; distance within limits).
[[nodiscard]] result<void> validate(const warehouse& w);

/// The distance from a warehouse to a destination: the row for this country
/// and province, else the row for the whole country (the first such row,
/// should validate() not have been called); nothing when it does not serve
/// the destination.
[[nodiscard]] std::optional<std::int64_t> distance_to(const warehouse& w, std::string_view country,
                                                      std::string_view province) noexcept;

/// One rule of a shipping method table: goods with `trait` need `method`.
struct shipping_method_rule {
    goods_trait trait{goods_trait::bulky};  ///< The trait the rule looks at.
    std::string method;                     ///< The method such lines need, e.g. "freight".

    /// Rules are equal when both fields are.
    friend bool operator==(const shipping_method_rule&, const shipping_method_rule&) = default;
};

/// Which shipping method a line needs, as a table the host can change: the
/// first rule whose trait the line has decides; a line matching no rule
/// needs `default_method`. Lines needing different methods go into separate
/// parts, even from one warehouse; lines needing the same method (two rules
/// may name one method) share a part.
struct shipping_method_table {
    /// In order of precedence; at most 16, one per trait.
    std::vector<shipping_method_rule> rules;
    /// For lines no rule matches. Required.
    std::string default_method{"standard"};

    /// orderly's default: restricted → "restricted", liquid → "liquid",
    /// bulky → "freight", anything else "standard". Restricted comes first
    /// because it is the strictest: a restricted liquid needs the restricted
    /// service. Fragile and valuable goods ship by the standard method,
    /// packed differently (orderly/fulfilment/packing.hpp).
    [[nodiscard]] static shipping_method_table standard();

    /// The method a line with these traits needs.
    [[nodiscard]] std::string_view method_for(const goods_traits& traits) const noexcept;

    /// Tables are equal when rules and default are.
    friend bool operator==(const shipping_method_table&, const shipping_method_table&) = default;
};

/// Checks a table: method names of 1 to 64 bytes, at most 16 rules, known
/// traits, at most one rule per trait (a second could never match). Fields:
/// `rules[i].trait`, `rules[i].method`, `default_method`.
[[nodiscard]] result<void> validate(const shipping_method_table& table);

/// The host's fulfilment set-up, loaded once and passed with every request:
/// its warehouses and its shipping method table.
struct fulfilment_network {
    std::vector<warehouse> warehouses;  ///< Every warehouse that may ship; ids unique.
    shipping_method_table methods = shipping_method_table::standard();  ///< Method per line.
};

/// Checks a whole network: at most max_warehouses, each warehouse as
/// validate(warehouse) says (fields under `warehouses[i].`), ids unique, the
/// method table (fields under `methods.`). Call it when the host loads its
/// tables; plan_allocation() repeats only the checks a plan's correctness
/// depends on, so that a large table is not re-checked for every order.
[[nodiscard]] result<void> validate(const fulfilment_network& network);

/// One line of the order to allocate.
struct fulfilment_line {
    sku_id sku;           ///< What.
    quantity units;       ///< How many; 1 to allocation_limits::max_units_per_line.
    goods_traits traits;  ///< Decides its shipping method.

    /// Lines are equal when every field is.
    friend bool operator==(const fulfilment_line&, const fulfilment_line&) = default;
};

/// What to allocate: an order's lines, where it goes and the stock there is.
struct allocation_request {
    std::vector<fulfilment_line> lines;  ///< At least one line. A SKU may appear on several.
    /// Where the order goes; only `country` (required) and `province` are read.
    address ship_to;
    /// Stock of the order's SKUs per warehouse. Rows of other SKUs or of
    /// warehouses not in the network are ignored; any other (sku, warehouse)
    /// pair may appear only once. A missing row means nothing available.
    /// Available is on_hand − reserved − safety, and 0 when that is below zero.
    std::vector<stock_level> stock;
};

/// A distinct SKU the order needs, summed over its lines.
struct selection_demand {
    sku_id sku;                 ///< What.
    std::int64_t units{0};      ///< How many, over all its lines.
    std::size_t first_line{0};  ///< Index of its first line in the request, for errors.

    /// Demands are equal when every field is.
    friend bool operator==(const selection_demand&, const selection_demand&) = default;
};

/// A warehouse a selector may choose.
struct selection_candidate {
    warehouse_id warehouse;    ///< Which.
    std::int64_t distance{0};  ///< Its distance to the ship-to region.
    /// Units it can give toward each demand (same index as the demands):
    /// its available stock, capped at the demand's units.
    std::vector<std::int64_t> available;

    /// Candidates are equal when every field is.
    friend bool operator==(const selection_candidate&, const selection_candidate&) = default;
};

/// What a warehouse_selector decides on. Every demand can be covered by the
/// candidates together (plan_allocation refuses a shortfall before asking).
struct selection_problem {
    std::vector<selection_demand> demands;  ///< Distinct SKUs, in order of first line.
    /// Warehouses serving the ship-to region that hold some of the goods,
    /// nearest first, ties by id.
    std::vector<selection_candidate> candidates;
    std::string region;  ///< The ship-to region in words ("CN, Zhejiang"), for messages.

    /// Problems are equal when every field is.
    friend bool operator==(const selection_problem&, const selection_problem&) = default;
};

/// The units one chosen warehouse gives.
struct warehouse_take {
    std::size_t candidate{0};         ///< Index into selection_problem::candidates.
    std::vector<std::int64_t> units;  ///< Units per demand (same index); 0 for none.

    /// Takes are equal when both fields are.
    friend bool operator==(const warehouse_take&, const warehouse_take&) = default;
};

/// A selector's answer: which warehouses give how much. plan_allocation
/// checks it (each candidate at most once, never more than it has, every
/// demand covered exactly) and refuses a broken answer with field "selector".
struct warehouse_assignment {
    std::vector<warehouse_take> takes;  ///< In any order; takes of zero units are dropped.

    /// Assignments are equal when their takes are.
    friend bool operator==(const warehouse_assignment&, const warehouse_assignment&) = default;
};

/// A warehouse selection strategy. Return an error to refuse the order (the
/// error reaches the caller unchanged).
using warehouse_selector = std::function<result<warehouse_assignment>(const selection_problem&)>;

/// Strategy (a), for shops that never split an order: the nearest candidate
/// that can ship every demand whole (ties by id). When none can, refuses
/// with insufficient_stock on the first line the nearest candidate cannot
/// ship, naming the units it has.
[[nodiscard]] result<warehouse_assignment> select_single_warehouse(const selection_problem& p);

/// How select_fewest_parcels searches.
struct fewest_parcels_options {
    /// With at most this many candidates every subset is tried (exact);
    /// with more, a greedy set cover is used. At most
    /// allocation_limits::max_exact_warehouses.
    std::size_t exact_up_to{12};
};

/// Strategy (b), the default: the fewest warehouses (parcels), so when one
/// warehouse can ship everything it is chosen, the nearest such: "one
/// warehouse if possible, nearest first, otherwise fewest parcels".
///
/// A demand is split across warehouses only when no candidate has all its
/// units ("split demand"); any other demand ships whole from one chosen
/// warehouse, the nearest chosen one that has it all.
///
/// Exact search (up to `exact_up_to` candidates): subsets by size, smallest
/// first; a subset works when each whole demand has a member holding all of
/// it and each split demand's units are covered by the members together.
/// Among working subsets of the least size: smallest sum of distances, then
/// the earliest candidates (nearest, then by id).
///
/// Greedy (more candidates): first, for each split demand, add the candidate
/// holding most of it (ties: nearest) until the chosen ones cover it; then,
/// while a whole demand has no chosen warehouse holding all of it, add the
/// candidate that holds the most such demands whole (ties: nearest). For the
/// whole demands this is the classic greedy set cover, at most H(n) ≈
/// ln n + 1 times the optimum; it still picks exactly one warehouse, the
/// nearest, when one can ship everything.
///
/// Then a whole demand ships from the nearest chosen warehouse holding all
/// of it, and a split demand takes units from the chosen warehouses nearest
/// first; a chosen warehouse left with nothing to ship is dropped (so a
/// greedy pick made redundant by later ones costs no parcel).
/// Refuses only broken options (invalid_value, field "exact_up_to") and a
/// problem not shaped as make_selection_problem makes it.
[[nodiscard]] result<warehouse_assignment> select_fewest_parcels(
    const selection_problem& p, const fewest_parcels_options& options = {});

/// One line's units in a part. A line split across warehouses appears in
/// several parts with units adding up to its quantity.
struct allocation_line {
    std::size_t line{0};  ///< Index into allocation_request::lines.
    sku_id sku;           ///< Its SKU.
    quantity units;       ///< Units of it in this part.

    /// Equal when every field is.
    friend bool operator==(const allocation_line&, const allocation_line&) = default;
};

/// One parcel-to-be: what one warehouse ships by one shipping method.
struct allocation_part {
    warehouse_id warehouse;              ///< Ships from here.
    std::int64_t distance{0};            ///< The warehouse's distance to the ship-to region.
    std::string shipping_method;         ///< By this method (shipping_method_table).
    std::vector<allocation_line> lines;  ///< In line order; never empty.

    /// Equal when every field is.
    friend bool operator==(const allocation_part&, const allocation_part&) = default;
};

/// Where every unit of an order ships from. The parts cover each line
/// exactly and never take more than a warehouse has available. Parts are
/// ordered by warehouse (nearest first, ties by id), then by method (the
/// default method first, then the table's rule order).
struct allocation_plan {
    std::vector<allocation_part> parts;  ///< At least one.

    /// How many distinct warehouses ship.
    [[nodiscard]] std::size_t warehouse_count() const;

    /// Equal when the parts are.
    friend bool operator==(const allocation_plan&, const allocation_plan&) = default;
};

/// Checks a request against a network and builds what a selector decides on
/// (steps 1 and 2 of plan_allocation). Of the network it checks what the
/// plan depends on: limits, warehouse ids (present, well formed, unique),
/// distances and the method table; names, sender addresses, region spellings
/// and repeated rows are validate(network)'s. Refusals: invalid_value or
/// missing_value on the field at fault; invalid_value on `ship_to` when no
/// warehouse serves the region; insufficient_stock on `lines[i].units` (the
/// first line of a SKU not fully covered) with the shortfall in the message.
[[nodiscard]] result<selection_problem> make_selection_problem(const allocation_request& request,
                                                               const fulfilment_network& network);

/// Plans an order's allocation with select_fewest_parcels (see the file
/// comment for the steps and make_selection_problem for the refusals).
[[nodiscard]] result<allocation_plan> plan_allocation(const allocation_request& request,
                                                      const fulfilment_network& network);

/// Plans an order's allocation with the given strategy. A selector's refusal
/// is returned as is; an answer that breaks the rules of
/// warehouse_assignment is refused with invalid_value on field "selector".
[[nodiscard]] result<allocation_plan> plan_allocation(const allocation_request& request,
                                                      const fulfilment_network& network,
                                                      const warehouse_selector& selector);

}  // namespace orderly
