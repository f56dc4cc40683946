// What a run did: commands per second, the command counts, where the
// aggregates ended, the faults injected. Enough to see that a run was not
// vacuous (every command ran, every path was taken).

#include "simulation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace orderly::sim {

void simulation::print_summary(std::chrono::milliseconds took) const {
    std::size_t commands = 0;
    for (const auto& [name, n] : commands_run_) {
        commands += n;
    }
    const double seconds = std::max(0.001, static_cast<double>(took.count()) / 1000.0);
    fmt::print(
        "{} steps ({} commands, {} refused by design or by faults) in {:.1f} s: {:.0f} "
        "commands/s; simulated {} days\n",
        std::min(step_ + 1, options_.commands), commands, refusals_, seconds,
        static_cast<double>(commands) / seconds,
        std::chrono::duration_cast<std::chrono::hours>(clock_.now() - started_at_).count() / 24);
    if (options_.verbose) {
        for (const auto& [name, n] : commands_run_) {
            fmt::print("  {:<42} {:>8}\n", name, n);
            const auto refused = refused_by_.find(name);
            if (refused == refused_by_.end()) {
                continue;
            }
            for (const auto& [why, count] : refused->second) {
                fmt::print("      refused {:<50} {:>6}\n", why, count);
            }
        }
    }
    std::string orders;
    for (const order_state s : all_order_states) {
        if (const auto n = known_.orders.count(s); n > 0) {
            orders += fmt::format(" {} {}", s, n);
        }
    }
    std::string tickets;
    for (const ticket_state s : all_ticket_states) {
        if (const auto n = known_.tickets.count(s); n > 0) {
            tickets += fmt::format(" {} {}", s, n);
        }
    }
    std::string parcels;
    for (const shipment_state s : all_shipment_states) {
        if (const auto n = known_.shipments.count(s); n > 0) {
            parcels += fmt::format(" {} {}", s, n);
        }
    }
    fmt::print("orders:{}\ntickets:{}\nshipments:{}\ncases {}, transfers {}\n", orders, tickets,
               parcels, known_.cases.size(), known_.transfers.size());
    // The longest case timelines: a case whose cause never goes away keeps
    // escalating (and reopening after each resolve).
    std::vector<std::pair<std::size_t, case_id>> longest;
    known_.cases.for_each(
        [&](case_id id, const case_info& c) { longest.emplace_back(c.timeline_size, id); });
    const std::size_t shown = std::min<std::size_t>(3, longest.size());
    std::partial_sort(longest.begin(), longest.begin() + static_cast<std::ptrdiff_t>(shown),
                      longest.end(), std::greater<>());
    for (std::size_t i = 0; i < shown; ++i) {
        const case_info* c = known_.cases.find(longest[i].second);
        fmt::print("long case timeline: case {} ({}, {}), {} entries\n", longest[i].second, c->type,
                   c->state, longest[i].first);
    }
    std::map<std::string, std::size_t> cases;
    known_.cases.for_each(
        [&](case_id, const case_info& c) { ++cases[fmt::format("{} {}", c.type, c.state)]; });
    std::string case_counts;
    for (const auto& [what, n] : cases) {
        case_counts += fmt::format(" {} {},", what, n);
    }
    fmt::print("cases:{}\n", case_counts);
    const fault_counts& f = store_.counts();
    fmt::print(
        "faults: {} of {} commits failed before writing, {} lost acknowledgements, {} "
        "delivered marks lost, {} deliveries refused, {} redeliveries\n",
        f.failed_before_commit, f.commits, f.lost_acks, f.failed_marks, notifier_.refused(),
        notifier_.redeliveries());
}

}  // namespace orderly::sim
