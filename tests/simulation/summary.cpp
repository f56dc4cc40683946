// What a run did: commands per second, the command counts, where the
// aggregates ended, the faults injected. Enough to see that a run was not
// vacuous (every command ran, every path was taken).

#include "simulation.hpp"

#include <fmt/format.h>

#include <algorithm>

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
    fmt::print("orders:{}\ntickets:{}\nshipments {}, cases {}, transfers {}\n", orders, tickets,
               known_.shipments.size(), known_.cases.size(), known_.transfers.size());
    std::size_t longest = 0;
    case_id longest_case{};
    case_type longest_type{case_type::other};
    known_.cases.for_each([&](case_id id, const case_info& c) {
        if (c.timeline_size > longest) {
            longest = c.timeline_size;
            longest_case = id;
            longest_type = c.type;
        }
    });
    if (longest > 0) {
        fmt::print("longest case timeline: case {} ({}), {} entries\n", longest_case, longest_type,
                   longest);
    }
    const fault_counts& f = store_.counts();
    fmt::print(
        "faults: {} of {} commits failed before writing, {} lost acknowledgements, {} "
        "delivered marks lost, {} deliveries refused, {} redeliveries\n",
        f.failed_before_commit, f.commits, f.lost_acks, f.failed_marks, notifier_.refused(),
        notifier_.redeliveries());
}

}  // namespace orderly::sim
