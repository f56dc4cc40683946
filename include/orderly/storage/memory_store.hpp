#pragma once
/// \file
/// The in-memory reference store: complete, thread-safe, and taking no
/// shortcut a durable store could not also take (commit re-checks every
/// condition; reads see committed data only). For tests, simulations, caches
/// and hosts that keep durability elsewhere.

#include <orderly/ports/store.hpp>

#include <memory>

namespace orderly {

/// A Store kept in this process's memory. Orders, SKUs, stock rows and
/// idempotency keys sit in hash-sharded maps, each shard behind its own
/// mutex, so transactions on different orders and SKUs commit in parallel;
/// shipments sit in one map behind one mutex, stock transfers in another,
/// after-sales tickets in a third, exception cases (with an index of the live
/// cases by cause_key) in a fourth. An archived order moves, with its
/// timeline, to its shard's archive, out of the live indexes.
/// Each stock row keeps its own on-hand ledger. A commit locks exactly the
/// shards it writes, in one global order, checks every condition, then
/// applies everything. Nothing survives the process.
class memory_store final : public store {
public:
    /// An empty store.
    memory_store();
    /// Frees everything.
    ~memory_store() override;
    memory_store(const memory_store&) = delete;             ///< Not copyable.
    memory_store& operator=(const memory_store&) = delete;  ///< Not copyable.

    /// Starts a transaction (never fails).
    [[nodiscard]] result<std::unique_ptr<store_transaction>> begin() override;

    /// See store::load_order.
    [[nodiscard]] result<std::optional<order>> load_order(order_id id) override;
    /// See store::timeline.
    [[nodiscard]] result<std::vector<timeline_entry>> timeline(order_id id) override;
    /// See store::orders_in_state.
    [[nodiscard]] result<std::vector<order_id>> orders_in_state(order_state state, order_id after,
                                                                std::size_t limit) override;
    /// See store::due_orders.
    [[nodiscard]] result<std::vector<order_id>> due_orders(timestamp now,
                                                           std::size_t limit) override;
    /// See store::load_shipment.
    [[nodiscard]] result<std::optional<shipment>> load_shipment(shipment_id id) override;
    /// See store::shipments_in_state.
    [[nodiscard]] result<std::vector<shipment_id>> shipments_in_state(shipment_state state,
                                                                      shipment_id after,
                                                                      std::size_t limit) override;
    /// See store::due_shipments.
    [[nodiscard]] result<std::vector<shipment_id>> due_shipments(timestamp now,
                                                                 std::size_t limit) override;
    /// See store::load_sku.
    [[nodiscard]] result<std::optional<sku>> load_sku(const sku_id& id) override;
    /// See store::stock.
    [[nodiscard]] result<std::optional<stock_level>> stock(const sku_id& sku,
                                                           const warehouse_id& warehouse) override;
    /// See store::all_stock.
    [[nodiscard]] result<std::vector<stock_level>> all_stock() override;
    /// See store::stock_movements. Kept in memory for the store's life, one
    /// entry per on-hand change of the row.
    [[nodiscard]] result<std::vector<stock_movement>> stock_movements(const sku_id& sku,
                                                                      const warehouse_id& warehouse,
                                                                      timestamp from,
                                                                      timestamp to) override;
    /// See store::load_transfer.
    [[nodiscard]] result<std::optional<stock_transfer>> load_transfer(transfer_id id) override;
    /// See store::transfers_in_state.
    [[nodiscard]] result<std::vector<transfer_id>> transfers_in_state(transfer_state state,
                                                                      transfer_id after,
                                                                      std::size_t limit) override;
    /// See store::load_ticket.
    [[nodiscard]] result<std::optional<ticket>> load_ticket(ticket_id id) override;
    /// See store::tickets_in_state.
    [[nodiscard]] result<std::vector<ticket_id>> tickets_in_state(ticket_state state,
                                                                  ticket_id after,
                                                                  std::size_t limit) override;
    /// See store::due_tickets.
    [[nodiscard]] result<std::vector<ticket_id>> due_tickets(timestamp now,
                                                             std::size_t limit) override;
    /// See store::load_case.
    [[nodiscard]] result<std::optional<exception_case>> load_case(case_id id) override;
    /// See store::cases_in_state.
    [[nodiscard]] result<std::vector<case_id>> cases_in_state(case_state state, case_id after,
                                                              std::size_t limit) override;
    /// See store::due_cases.
    [[nodiscard]] result<std::vector<case_id>> due_cases(timestamp now, std::size_t limit) override;
    /// See store::archived_orders.
    [[nodiscard]] result<std::vector<order_id>> archived_orders(order_id after,
                                                                std::size_t limit) override;
    /// See store::claim_notifications.
    [[nodiscard]] result<std::vector<notification>> claim_notifications(timestamp now,
                                                                        duration lease,
                                                                        std::size_t limit) override;
    /// See store::mark_delivered.
    [[nodiscard]] result<void> mark_delivered(std::uint64_t id) override;
    /// See store::reschedule.
    [[nodiscard]] result<void> reschedule(std::uint64_t id, timestamp next_attempt_at,
                                          std::string_view last_error) override;
    /// See store::outbox_of.
    [[nodiscard]] result<std::vector<outbox_entry>> outbox_of(order_id id) override;
    /// See store::undelivered_count.
    [[nodiscard]] result<std::size_t> undelivered_count() override;

private:
    class transaction;
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace orderly
