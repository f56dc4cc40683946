#pragma once
// What each committed transaction wrote, as the fault store saw it pass
// through: the invariants read this instead of re-reading the whole store.

#include <orderly/ports/store.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace orderly::sim {

// A case as committed, with only the end of its timeline: a case whose
// cause persists escalates and reopens for as long as it lasts, and one
// command appends a few entries at most.
struct case_write {
    static constexpr std::size_t kept_entries = 16;

    exception_case c;              // timeline: its last kept_entries entries
    std::size_t timeline_size{0};  // the whole timeline's length
};

struct write_set {
    std::vector<order> orders;
    std::vector<std::pair<order_id, timeline_entry>> timeline;
    std::vector<stock_change> stock;
    std::vector<notification> notes;
    std::vector<shipment> shipments;
    std::vector<ticket> tickets;
    std::vector<case_write> cases;
    std::vector<stock_transfer> transfers;
    std::vector<sku> skus;
    std::vector<idempotency_record> keys;
    std::vector<std::pair<order_id, std::uint64_t>> archived;

    [[nodiscard]] bool empty() const {
        return orders.empty() && timeline.empty() && stock.empty() && notes.empty() &&
               shipments.empty() && tickets.empty() && cases.empty() && transfers.empty() &&
               skus.empty() && keys.empty() && archived.empty();
    }
};

// The commits of one simulator step, in commit order.
struct commit_log {
    std::vector<write_set> commits;

    void clear() { commits.clear(); }
    [[nodiscard]] bool empty() const { return commits.empty(); }
};

}  // namespace orderly::sim
