// Shipments and transfers carry no timeline: each committed state change
// must be a path of their machine's rows (a parcel may take two steps in one
// command, lost then resolved by an automatic refund, say).

#include "invariants.hpp"

#if ORDERLY_SIM_HAS_PARCEL_MACHINES
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#endif

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace orderly::sim {
namespace {

using graph = std::map<std::string, std::set<std::string>>;

[[maybe_unused]] graph graph_of(const std::vector<transition_row>& rows) {
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
#if ORDERLY_SIM_HAS_PARCEL_MACHINES
    static const graph g = graph_of(shipment_machine_rows());
#else
    static const graph g;
#endif
    return g;
}

const graph& transfer_graph() {
#if ORDERLY_SIM_HAS_PARCEL_MACHINES
    static const graph g = graph_of(transfer_machine_rows());
#else
    static const graph g;
#endif
    return g;
}

}  // namespace

void invariants::shipment_and_transfer_states(simulation& s, const write_set& w) {
    if (shipment_graph().empty()) {
        return;  // the library has no shipment machine yet
    }
    for (const auto& sh : w.shipments) {
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
