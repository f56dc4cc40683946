// Shipments and transfers carry no timeline: each committed state change
// must be a path of their machine's rows (a parcel may take two steps in one
// command, lost then resolved by an automatic refund, say).

#include "invariants.hpp"

#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace orderly::sim {
namespace {

using graph = std::map<std::string, std::set<std::string>>;

graph graph_of(const std::vector<transition_row>& rows) {
    graph g;
    for (const auto& r : rows) {
        g[r.from].insert(r.to);
    }
    return g;
}

// True when `to` is reachable from `from` in 1 to `steps` rows.
bool reachable(const graph& g, const std::string& from, const std::string& to, int steps) {
    if (steps == 0) {
        return false;
    }
    const auto it = g.find(from);
    if (it == g.end()) {
        return false;
    }
    for (const auto& next : it->second) {
        if (next == to || reachable(g, next, to, steps - 1)) {
            return true;
        }
    }
    return false;
}

const graph& shipment_graph() {
    static const graph g = graph_of(shipment_machine_rows());
    return g;
}

const graph& transfer_graph() {
    static const graph g = graph_of(transfer_machine_rows());
    return g;
}

// Units per SKU: of the shipment's lines, and of its accepted packing scans.
std::map<std::string, std::int64_t> line_units(const shipment& sh) {
    std::map<std::string, std::int64_t> out;
    for (const auto& l : sh.lines) {
        out[l.sku.value()] += l.units.units();
    }
    return out;
}

std::map<std::string, std::int64_t> scanned_units(const shipment& sh) {
    std::map<std::string, std::int64_t> out;
    if (sh.packing) {
        for (const auto& scan : sh.packing->scans) {
            out[scan.sku.value()] += scan.units.units();
        }
    }
    return out;
}

std::string units_text(const std::map<std::string, std::int64_t>& units) {
    std::string out;
    for (const auto& [sku, n] : units) {
        out += fmt::format("{}{} x{}", out.empty() ? "" : ", ", sku, n);
    }
    return out.empty() ? "nothing" : out;
}

}  // namespace

// A parcel sealed at the packing station holds what its lines say: every
// unit scanned, nothing more.
void invariants::sealed_as_planned(simulation& s, const shipment& sh) {
    const shipment_info* info = s.known().shipments.find(sh.id);
    if (sh.state != shipment_state::packed || (info != nullptr && info->state == sh.state) ||
        !sh.packing) {
        return;
    }
    const auto lines = line_units(sh);
    const auto scanned = scanned_units(sh);
    if (lines != scanned) {
        s.violation(
            "sealed_as_planned",
            fmt::format("shipment {} (orders {}) was sealed with {} scanned; its lines "
                        "hold {}",
                        sh.id, fmt::join(sh.orders, ","), units_text(scanned), units_text(lines)));
    }
}

void invariants::shipment_and_transfer_states(simulation& s, const write_set& w) {
    for (const auto& sh : w.shipments) {
        sealed_as_planned(s, sh);
        const shipment_info* info = s.known().shipments.find(sh.id);
        if (info == nullptr || info->state == sh.state) {
            continue;
        }
        const std::string from(to_string(info->state));
        if (!reachable(shipment_graph(), from, std::string(to_string(sh.state)), 3)) {
            s.violation("shipment_machine",
                        fmt::format("shipment {} (orders {}) moved {} -> {}: no path of the "
                                    "shipment machine's rows",
                                    sh.id, fmt::join(sh.orders, ","), info->state, sh.state));
        }
    }
    for (const auto& t : w.transfers) {
        const transfer_info* info = s.known().transfers.find(t.id);
        if (info == nullptr || info->state == t.state) {
            continue;
        }
        const std::string from(to_string(info->state));
        if (!reachable(transfer_graph(), from, std::string(to_string(t.state)), 1)) {
            s.violation("transfer_machine",
                        fmt::format("transfer {} moved {} -> {}: no row of the transfer machine",
                                    t.id, info->state, t.state));
        }
    }
}

}  // namespace orderly::sim
