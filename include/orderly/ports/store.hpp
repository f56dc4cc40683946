#pragma once
/// \file
/// The Store port: where orders, stock, timelines, the outbox and idempotency
/// records live. Everything one command changes is written through one
/// store_transaction and becomes visible all at once, or not at all.
///
/// The contract every store keeps (orderly::memory_store is the reference; the
/// store conformance tests check it):
/// - Writes in a transaction are buffered or applied tentatively; commit()
///   makes all of them visible atomically, or none of them and returns the
///   error. Destroying a transaction without commit rolls it back.
/// - Reads in a transaction see committed data. The engine never reads back
///   what it wrote in the same transaction, so a store may or may not show
///   its own uncommitted writes.
/// - commit() re-checks every condition a write carries, under the store's
///   own locking, so that two transactions racing on the same stock row or the
///   same order cannot both succeed when only one may:
///   - put_order with version 1 inserts and fails (errc::conflict) when the
///     id exists; with version n > 1 it fails unless the stored version is n−1;
///   - a stock_change is applied in order, each against the result of the
///     previous ones, with the rules of stock_operation;
///   - put_idempotency fails (errc::conflict, field "idempotency_key") when
///     the key exists.
/// - A store and its read functions are safe to call from many threads; one
///   transaction is used by one thread at a time.
/// - A transaction or batch may be destroyed after the store that began it
///   (the bundled stores keep what they need alive), but not used after it.
///   A transaction begun from a batch ends before the batch does.
/// - Errors name what failed: a put_order that loses a race is errc::conflict
///   with field "id" (version 1, the id exists) or "version"; a refused
///   stock_change carries the change's field.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/catalog/sku.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/engine/outcome.hpp>
#include <orderly/fulfilment/shipment.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/ops/exception_case.hpp>
#include <orderly/order/order.hpp>
#include <orderly/ports/notifier.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// What a stock_change does to one stock row at commit. Stored values never change.
enum class stock_operation : std::uint8_t {
    /// reserved += units. Fails with errc::insufficient_stock (field: the
    /// change's field) when the row is missing or available < units.
    reserve = 1,
    /// reserved −= units. Fails with errc::conflict when reserved < units.
    release = 2,
    /// on_hand −= units and reserved −= units (shipment). Fails with
    /// errc::conflict when either would fall below zero.
    consume = 3,
    /// on_hand += units; creates the row when missing. Fails with errc::overflow.
    receive = 4,
    /// safety = units; creates the row when missing. Fails with
    /// errc::invalid_value when available would fall below zero.
    set_safety = 5,
    /// on_hand −= units (a transfer leaves). Fails with
    /// errc::insufficient_stock when the row is missing or available < units.
    dispatch = 6,
    /// in_transit += units at the target; creates the row when missing.
    /// Fails with errc::overflow.
    expect = 7,
    /// in_transit −= units and on_hand += units (a transfer is received).
    /// Fails with errc::conflict when in_transit < units.
    arrive = 8,
    /// low_stock_alerted = true; units must be 0. Fails with errc::conflict
    /// when the row is missing or already alerted, so two scanners announce
    /// one drop once.
    mark_low = 9,
    /// low_stock_alerted = false; units must be 0. Fails with errc::conflict
    /// when the row is missing or not alerted.
    clear_low = 10,
    /// on_hand += units (returned goods inspected sellable, R-26); creates the
    /// row when missing. Fails with errc::overflow. In the ledger.
    restock = 11,
    /// damaged += units (returned goods inspected damaged go to the damaged
    /// bin); creates the row when missing. On hand does not change, so it is
    /// not in the ledger. Fails with errc::overflow.
    to_damaged_bin = 12,
    /// in_transit −= units at a transfer's target (the transfer was called
    /// back before it arrived); on hand does not change. Fails with
    /// errc::conflict when the row is missing or in_transit < units.
    recall = 13,
};

/// One change of a stock row's on-hand figure, as the store's ledger keeps
/// it: every committed consume, receive, dispatch, arrive and restock (reservations
/// do not change on hand and are not in the ledger). What turnover and
/// audits read.
struct stock_movement {
    timestamp at{};                                       ///< The change's stock_change::at.
    stock_operation operation{stock_operation::receive};  ///< Which change.
    quantity units{};                                     ///< By how many units.
    quantity on_hand_after{};                             ///< The row's on hand after it.

    /// Movements are equal when every field is.
    friend bool operator==(const stock_movement&, const stock_movement&) = default;
};

/// One conditional change to the stock of one SKU in one warehouse.
struct stock_change {
    sku_id sku;                                           ///< Which SKU.
    warehouse_id warehouse;                               ///< Which warehouse.
    stock_operation operation{stock_operation::reserve};  ///< What to do.
    quantity units;                                       ///< How many units.
    std::string field;  ///< The request field a failure names ("lines[2].units").
    /// When the change happens (the command's time): the ledger's time.
    timestamp at{};

    /// Changes are equal when every field is.
    friend bool operator==(const stock_change&, const stock_change&) = default;
};

/// What an idempotency key remembers: which request it came with (as a
/// fingerprint) and the first result.
struct idempotency_record {
    std::string key;               ///< The caller's key, scoped by command ("place_order/abc").
    std::uint64_t fingerprint{0};  ///< Hash of the request; a different request is refused.
    command_outcome outcome;       ///< The first result, returned again on a repeat.
    timestamp created_at;          ///< When it was stored.

    /// Records are equal when every field is.
    friend bool operator==(const idempotency_record&, const idempotency_record&) = default;
};

/// One atomic unit of work. Obtained from store::begin(); see the file comment.
class store_transaction {
public:
    /// Rolls back unless commit() was called.
    virtual ~store_transaction() = default;

    /// The committed order with this id, if any.
    [[nodiscard]] virtual result<std::optional<order>> find_order(order_id id) = 0;
    /// Inserts (version 1) or replaces (version n, stored n−1) the order.
    [[nodiscard]] virtual result<void> put_order(const order& o) = 0;
    /// Appends an entry to the order's timeline.
    [[nodiscard]] virtual result<void> append_timeline(order_id id,
                                                       const timeline_entry& entry) = 0;

    /// The committed shipment with this id, if any.
    [[nodiscard]] virtual result<std::optional<shipment>> find_shipment(shipment_id id) = 0;
    /// Inserts (version 1) or replaces (version n, stored n−1) the shipment.
    [[nodiscard]] virtual result<void> put_shipment(const shipment& s) = 0;

    /// The committed stock transfer with this id, if any.
    [[nodiscard]] virtual result<std::optional<stock_transfer>> find_transfer(transfer_id id) = 0;
    /// Inserts (version 1) or replaces (version n, stored n−1) the transfer;
    /// version rule as put_order's (fields "transfer.id", "transfer.version").
    [[nodiscard]] virtual result<void> put_transfer(const stock_transfer& t) = 0;

    /// The committed after-sales ticket with this id, if any.
    [[nodiscard]] virtual result<std::optional<ticket>> find_ticket(ticket_id id) = 0;
    /// Inserts (version 1) or replaces (version n, stored n−1) the ticket;
    /// version rule as put_order's (fields "ticket.id", "ticket.version").
    [[nodiscard]] virtual result<void> put_ticket(const ticket& t) = 0;

    /// The committed exception case with this id, if any.
    [[nodiscard]] virtual result<std::optional<exception_case>> find_case(case_id id) = 0;
    /// The committed live (not closed) case whose cause_key is `cause_key`,
    /// if any; none for an empty key.
    [[nodiscard]] virtual result<std::optional<exception_case>> find_live_case(
        std::string_view cause_key) = 0;
    /// Inserts (version 1) or replaces (version n, stored n−1) the case;
    /// version rule as put_order's (fields "case.id", "case.version"). Commit
    /// also fails (errc::conflict, field "case.cause_key") when the case is
    /// live, its cause_key is not empty, and another live case holds that
    /// key: one cause has at most one live case, however detectors race.
    [[nodiscard]] virtual result<void> put_case(const exception_case& c) = 0;

    /// Moves an ended order (closed or cancelled) and its timeline to the
    /// archive at commit. Commit fails with errc::conflict, field
    /// "version", unless the live order is stored at `version` (an archived
    /// order is not live), and with errc::invalid_value, field "state", when
    /// it has not ended. Archived orders stay readable (find_order,
    /// load_order, timeline, outbox_of) but leave orders_in_state and
    /// due_orders; put_order can no longer change them.
    [[nodiscard]] virtual result<void> archive_order(order_id id, std::uint64_t version) = 0;

    /// The committed catalogue entry, if any.
    [[nodiscard]] virtual result<std::optional<sku>> find_sku(const sku_id& id) = 0;
    /// Inserts or replaces a catalogue entry.
    [[nodiscard]] virtual result<void> put_sku(const sku& s) = 0;

    /// The committed stock of a SKU in every warehouse that has a row for it,
    /// ordered by warehouse id.
    [[nodiscard]] virtual result<std::vector<stock_level>> find_stock(const sku_id& id) = 0;
    /// Records a conditional stock change, checked and applied at commit.
    [[nodiscard]] virtual result<void> change_stock(const stock_change& change) = 0;

    /// Adds a notification to the outbox; the store assigns its id at commit.
    [[nodiscard]] virtual result<void> enqueue(const notification& note) = 0;

    /// The committed record for an idempotency key, if any.
    [[nodiscard]] virtual result<std::optional<idempotency_record>> find_idempotency(
        std::string_view key) = 0;
    /// Stores an idempotency record; commit fails if the key exists by then.
    [[nodiscard]] virtual result<void> put_idempotency(const idempotency_record& record) = 0;

    /// Makes every write visible at once, or none. Call at most once.
    [[nodiscard]] virtual result<void> commit() = 0;
};

/// A group commit: many transactions made durable by one store commit (bulk
/// imports, back-office jobs). Each transaction begun from a batch is still
/// all-or-nothing on its own: its commit() applies all of its writes or none
/// of them and returns the error, exactly as a store transaction does, and a
/// failed one leaves the batch usable. The batch's commit() then makes every
/// transaction committed inside it durable at once.
///
/// What a batch groups depends on the store. A grouping store (SqliteStore)
/// holds the batch's transactions in one store transaction: others do not see
/// them before the batch commits, and destroying the batch without commit()
/// undoes them all. The pass-through batch that store::begin_batch() returns
/// by default commits each transaction on its own: its transactions are
/// visible and durable as soon as their commit() returns, and destroying the
/// batch undoes nothing. Callers that need all-or-nothing across many
/// commands must not rely on a batch for it. Reads inside a batch see what
/// the batch's earlier transactions committed. A batch is used by one thread
/// at a time.
class store_batch {
public:
    /// A grouping store rolls back every transaction of the batch unless
    /// commit() was called; the pass-through batch has nothing to undo.
    virtual ~store_batch() = default;

    /// Starts a transaction inside the batch.
    [[nodiscard]] virtual result<std::unique_ptr<store_transaction>> begin() = 0;
    /// Makes every transaction committed inside the batch durable at once, or
    /// none of them. Call at most once.
    [[nodiscard]] virtual result<void> commit() = 0;
};

/// Storage for orderly. See the file comment for the contract.
class store {
public:
    /// Virtual, so hosts may own a store through a base pointer.
    virtual ~store() = default;

    /// Starts a transaction.
    [[nodiscard]] virtual result<std::unique_ptr<store_transaction>> begin() = 0;
    /// Starts a group commit. The default is a pass-through batch whose
    /// transactions commit (and become durable) one by one, for stores with
    /// nothing to gain from grouping; a durable store overrides it.
    [[nodiscard]] virtual result<std::unique_ptr<store_batch>> begin_batch();

    /// The committed order with this id, if any.
    [[nodiscard]] virtual result<std::optional<order>> load_order(order_id id) = 0;
    /// The order's timeline, oldest first (empty for an unknown order).
    [[nodiscard]] virtual result<std::vector<timeline_entry>> timeline(order_id id) = 0;
    /// Ids of orders in `state`, ascending, greater than `after`, at most `limit`.
    [[nodiscard]] virtual result<std::vector<order_id>> orders_in_state(order_state state,
                                                                        order_id after,
                                                                        std::size_t limit) = 0;
    /// Ids of orders whose due_at is at or before `now`, earliest first, at most `limit`.
    [[nodiscard]] virtual result<std::vector<order_id>> due_orders(timestamp now,
                                                                   std::size_t limit) = 0;

    /// The committed shipment with this id, if any.
    [[nodiscard]] virtual result<std::optional<shipment>> load_shipment(shipment_id id) = 0;
    /// Ids of shipments in `state`, ascending, greater than `after`, at most `limit`.
    [[nodiscard]] virtual result<std::vector<shipment_id>> shipments_in_state(
        shipment_state state, shipment_id after, std::size_t limit) = 0;
    /// Ids of shipments whose due_at is at or before `now`, earliest first
    /// (ties by id), at most `limit`.
    [[nodiscard]] virtual result<std::vector<shipment_id>> due_shipments(timestamp now,
                                                                         std::size_t limit) = 0;

    /// The committed catalogue entry, if any.
    [[nodiscard]] virtual result<std::optional<sku>> load_sku(const sku_id& id) = 0;
    /// The committed stock of one SKU in one warehouse, if it has a row.
    [[nodiscard]] virtual result<std::optional<stock_level>> stock(
        const sku_id& sku, const warehouse_id& warehouse) = 0;
    /// Every stock row, ordered by SKU then warehouse (reports and audits).
    [[nodiscard]] virtual result<std::vector<stock_level>> all_stock() = 0;
    /// The on-hand ledger of one stock row: movements with from <= at < to,
    /// in commit order (ties in `at` keep the order they were committed in).
    [[nodiscard]] virtual result<std::vector<stock_movement>> stock_movements(
        const sku_id& sku, const warehouse_id& warehouse, timestamp from, timestamp to) = 0;
    /// The committed stock transfer with this id, if any.
    [[nodiscard]] virtual result<std::optional<stock_transfer>> load_transfer(transfer_id id) = 0;
    /// Ids of transfers in `state`, ascending, greater than `after`, at most `limit`.
    [[nodiscard]] virtual result<std::vector<transfer_id>> transfers_in_state(
        transfer_state state, transfer_id after, std::size_t limit) = 0;

    /// The committed after-sales ticket with this id, if any.
    [[nodiscard]] virtual result<std::optional<ticket>> load_ticket(ticket_id id) = 0;
    /// Ids of tickets in `state`, ascending, greater than `after`, at most `limit`.
    [[nodiscard]] virtual result<std::vector<ticket_id>> tickets_in_state(ticket_state state,
                                                                          ticket_id after,
                                                                          std::size_t limit) = 0;
    /// Ids of tickets whose due_at is at or before `now`, earliest first
    /// (ties by id), at most `limit`.
    [[nodiscard]] virtual result<std::vector<ticket_id>> due_tickets(timestamp now,
                                                                     std::size_t limit) = 0;

    /// The committed exception case with this id, if any.
    [[nodiscard]] virtual result<std::optional<exception_case>> load_case(case_id id) = 0;
    /// Ids of cases in `state`, ascending, greater than `after`, at most `limit`.
    [[nodiscard]] virtual result<std::vector<case_id>> cases_in_state(case_state state,
                                                                      case_id after,
                                                                      std::size_t limit) = 0;
    /// Ids of cases whose due_at is at or before `now`, earliest first (ties
    /// by id), at most `limit`.
    [[nodiscard]] virtual result<std::vector<case_id>> due_cases(timestamp now,
                                                                 std::size_t limit) = 0;

    /// Ids of archived orders, ascending, greater than `after`, at most
    /// `limit` (R-32: what the status board and settlement read besides the
    /// live orders).
    [[nodiscard]] virtual result<std::vector<order_id>> archived_orders(order_id after,
                                                                        std::size_t limit) = 0;

    /// Hands out up to `limit` undelivered notifications whose next attempt is
    /// due at `now`, oldest first, and leases them: each is not handed out
    /// again before `now + lease`. Counts the attempt (notification::attempt).
    /// Two callers never receive the same notification within one lease.
    [[nodiscard]] virtual result<std::vector<notification>> claim_notifications(
        timestamp now, duration lease, std::size_t limit) = 0;
    /// Records that the Notifier accepted notification `id`: it is never handed out again.
    [[nodiscard]] virtual result<void> mark_delivered(std::uint64_t id) = 0;
    /// Records a failed attempt: not handed out again before `next_attempt_at`.
    [[nodiscard]] virtual result<void> reschedule(std::uint64_t id, timestamp next_attempt_at,
                                                  std::string_view last_error) = 0;
    /// Every outbox entry of an order, in id order (audits and tests).
    [[nodiscard]] virtual result<std::vector<outbox_entry>> outbox_of(order_id id) = 0;
    /// How many outbox entries are not yet delivered.
    [[nodiscard]] virtual result<std::size_t> undelivered_count() = 0;
};

namespace detail {

/// The default store_batch: each transaction commits on its own.
class pass_through_batch final : public store_batch {
public:
    explicit pass_through_batch(store& target) noexcept : target_(target) {}
    [[nodiscard]] result<std::unique_ptr<store_transaction>> begin() override {
        return target_.begin();
    }
    [[nodiscard]] result<void> commit() override { return {}; }

private:
    store& target_;
};

}  // namespace detail

inline result<std::unique_ptr<store_batch>> store::begin_batch() {
    return std::unique_ptr<store_batch>(std::make_unique<detail::pass_through_batch>(*this));
}

}  // namespace orderly
