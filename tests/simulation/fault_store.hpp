#pragma once
// A Store that delegates to another and injects faults at commit: a commit
// that fails before anything is written (errc::busy or errc::conflict), and
// a lost acknowledgement (the inner commit succeeds, the caller hears
// errc::busy and retries with the same idempotency key). It records every
// committed transaction's writes in a commit log the invariants read. The
// inner store can be swapped, so SqliteStore runs close and reopen it.

#include "commit_log.hpp"
#include "random.hpp"

#include <orderly/ports/store.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace orderly::sim {

// Fault rates, per mille.
struct fault_rates {
    std::int64_t fail_before_commit{0};  // busy or conflict, nothing written
    std::int64_t lost_ack{0};            // written, reported busy
    std::int64_t mark_delivered{0};      // the outbox's delivered mark fails
};

struct fault_counts {
    std::size_t commits{0};
    std::size_t failed_before_commit{0};
    std::size_t lost_acks{0};
    std::size_t failed_marks{0};
};

enum class commit_fault : std::uint8_t { none, fail_busy, fail_conflict, lost_ack };

class fault_store final : public store {
public:
    fault_store(std::uint64_t seed, commit_log& log);

    // Delegates to `inner` from now on. A grouping store (SqliteStore) gets
    // its batches wrapped; for others a batch commits each transaction.
    void attach(store& inner, bool grouping);
    void set_rates(const fault_rates& rates) { rates_ = rates; }

    // What happened since the last reset_flags(): any injected fault, and
    // whether one was a lost acknowledgement.
    [[nodiscard]] bool fault_seen() const { return fault_seen_; }
    [[nodiscard]] bool lost_ack_seen() const { return lost_ack_seen_; }
    void reset_flags() { fault_seen_ = lost_ack_seen_ = false; }
    [[nodiscard]] const fault_counts& counts() const { return counts_; }

    // For the wrappers: decides a commit's fault and counts it.
    commit_fault decide(bool allow_lost_ack);
    void record(write_set&& writes);

    [[nodiscard]] result<std::unique_ptr<store_transaction>> begin() override;
    [[nodiscard]] result<std::unique_ptr<store_batch>> begin_batch() override;
    [[nodiscard]] result<std::optional<order>> load_order(order_id id) override;
    [[nodiscard]] result<std::vector<timeline_entry>> timeline(order_id id) override;
    [[nodiscard]] result<std::vector<order_id>> orders_in_state(order_state state, order_id after,
                                                                std::size_t limit) override;
    [[nodiscard]] result<std::vector<order_id>> due_orders(timestamp now,
                                                           std::size_t limit) override;
    [[nodiscard]] result<std::optional<shipment>> load_shipment(shipment_id id) override;
    [[nodiscard]] result<std::vector<shipment_id>> shipments_in_state(shipment_state state,
                                                                      shipment_id after,
                                                                      std::size_t limit) override;
    [[nodiscard]] result<std::vector<shipment_id>> due_shipments(timestamp now,
                                                                 std::size_t limit) override;
    [[nodiscard]] result<std::optional<sku>> load_sku(const sku_id& id) override;
    [[nodiscard]] result<std::optional<stock_level>> stock(const sku_id& sku,
                                                           const warehouse_id& warehouse) override;
    [[nodiscard]] result<std::vector<stock_level>> all_stock() override;
    [[nodiscard]] result<std::vector<stock_movement>> stock_movements(const sku_id& sku,
                                                                      const warehouse_id& warehouse,
                                                                      timestamp from,
                                                                      timestamp to) override;
    [[nodiscard]] result<std::optional<stock_transfer>> load_transfer(transfer_id id) override;
    [[nodiscard]] result<std::vector<transfer_id>> transfers_in_state(transfer_state state,
                                                                      transfer_id after,
                                                                      std::size_t limit) override;
    [[nodiscard]] result<std::optional<ticket>> load_ticket(ticket_id id) override;
    [[nodiscard]] result<std::vector<ticket_id>> tickets_in_state(ticket_state state,
                                                                  ticket_id after,
                                                                  std::size_t limit) override;
    [[nodiscard]] result<std::vector<ticket_id>> due_tickets(timestamp now,
                                                             std::size_t limit) override;
    [[nodiscard]] result<std::optional<exception_case>> load_case(case_id id) override;
    [[nodiscard]] result<std::vector<case_id>> cases_in_state(case_state state, case_id after,
                                                              std::size_t limit) override;
    [[nodiscard]] result<std::vector<case_id>> due_cases(timestamp now, std::size_t limit) override;
    [[nodiscard]] result<std::vector<order_id>> archived_orders(order_id after,
                                                                std::size_t limit) override;
    [[nodiscard]] result<std::vector<notification>> claim_notifications(timestamp now,
                                                                        duration lease,
                                                                        std::size_t limit) override;
    [[nodiscard]] result<void> mark_delivered(std::uint64_t id) override;
    [[nodiscard]] result<void> reschedule(std::uint64_t id, timestamp next_attempt_at,
                                          std::string_view last_error) override;
    [[nodiscard]] result<std::vector<outbox_entry>> outbox_of(order_id id) override;
    [[nodiscard]] result<std::size_t> undelivered_count() override;

private:
    store* inner_{nullptr};
    bool grouping_{false};
    prng random_;
    commit_log& log_;
    fault_rates rates_{};
    fault_counts counts_{};
    bool fault_seen_{false};
    bool lost_ack_seen_{false};
};

}  // namespace orderly::sim
