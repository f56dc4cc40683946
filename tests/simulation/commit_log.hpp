#pragma once
// What each committed transaction wrote, as the fault store saw it pass
// through: the invariants read this instead of re-reading the whole store.

#include <orderly/ports/store.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace orderly::sim {

struct write_set {
    std::vector<order> orders;
    std::vector<std::pair<order_id, timeline_entry>> timeline;
    std::vector<stock_change> stock;
    std::vector<notification> notes;
    std::vector<shipment> shipments;
    std::vector<ticket> tickets;
    std::vector<exception_case> cases;
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
