// The in-memory reference store. The data structures and the lock order are
// described in memory_state.hpp; this file holds commit (plan, lock, check,
// apply), the reads and the outbox calls.
#include <orderly/storage/memory_store.hpp>

#include "memory_state.hpp"

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly::detail::memory {
namespace {

// ---- shards ----------------------------------------------------------------

std::size_t shard_index(const order_id& id) noexcept {
    return shard_of(std::hash<order_id>{}(id));
}
std::size_t shard_index(const sku_id& id) noexcept {
    return shard_of(std::hash<sku_id>{}(id));
}
std::size_t shard_index(std::string_view key) noexcept {
    return shard_of(text_hash{}(key));
}

std::uint64_t bit_of(std::size_t shard) noexcept {
    return std::uint64_t{1} << shard;
}

// Calls visit(shard) for every bit set in mask, lowest first: the lock order.
template <class Visit>
void for_each_shard(std::uint64_t mask, Visit&& visit) {
    while (mask != 0) {
        visit(static_cast<std::size_t>(std::countr_zero(mask)));
        mask &= mask - 1;
    }
}

// ---- stock rows ------------------------------------------------------------

// The row for (sku, warehouse), or null. The shard lock is held only to look.
stock_node* find_row(store_data& data, const sku_id& sku, const warehouse_id& warehouse) {
    stock_shard& shard = data.stock[shard_index(sku)];
    const std::lock_guard lock(shard.mutex);
    const auto of_sku = shard.rows.find(sku);
    if (of_sku == shard.rows.end()) {
        return nullptr;
    }
    const auto row = of_sku->second.find(warehouse);
    return row == of_sku->second.end() ? nullptr : row->second.get();
}

// The row for (sku, warehouse), created (not yet existing) when missing, so a
// commit that receives stock has a row to lock.
stock_node* find_or_create_row(store_data& data, const sku_id& sku, const warehouse_id& warehouse) {
    stock_shard& shard = data.stock[shard_index(sku)];
    const std::lock_guard lock(shard.mutex);
    auto& of_sku = shard.rows[sku];
    auto& row = of_sku[warehouse];
    if (!row) {
        row = std::make_unique<stock_node>(sku, warehouse);
    }
    return row.get();
}

// A copy of a row's committed level, or nothing for a row not yet created.
std::optional<stock_level> read_row(stock_node& node) {
    stock_counts counts;
    {
        const std::lock_guard lock(node.mutex);
        if (!node.exists) {
            return std::nullopt;
        }
        counts = node.counts;
    }
    // The counts are never negative (commit keeps them so), hence value().
    return stock_level{.sku = node.sku,
                       .warehouse = node.warehouse,
                       .on_hand = quantity::of(counts.on_hand).value(),
                       .reserved = quantity::of(counts.reserved).value(),
                       .safety = quantity::of(counts.safety).value(),
                       .in_transit = quantity::of(counts.in_transit).value(),
                       .low_stock_alerted = counts.low_alerted,
                       .damaged = quantity::of(counts.damaged).value()};
}

// The row's ledger entries with from <= at < to, in commit order.
std::vector<stock_movement> read_ledger(stock_node& node, timestamp from, timestamp to) {
    std::vector<stock_movement> found;
    const std::lock_guard lock(node.mutex);
    if (!node.exists) {
        return found;
    }
    for (const stock_movement& movement : node.ledger) {
        if (from <= movement.at && movement.at < to) {
            found.push_back(movement);
        }
    }
    return found;
}

// ---- commit: stock plan ----------------------------------------------------

// One distinct row a commit changes: which of the transaction's changes apply
// to it, and its scratch copy while they are checked.
struct row_plan {
    stock_node* node{nullptr};  // Null: no such row, and no change creates one.
    std::size_t first{0};       // [first, last) indexes into stock_plan::sequence.
    std::size_t last{0};
    stock_counts counts;  // Scratch copy, then the result to write back.
    bool exists{false};
    std::size_t moves{0};  // How many of its changes enter the ledger.
};

// The rows a commit changes, sorted by (sku, warehouse): the order they are
// locked in. Inline capacity for the common one-to-four-line order, so the
// hot one-row reservation allocates nothing here.
struct stock_plan {
    boost::container::small_vector<std::size_t, 4> sequence;  // Change indexes by row.
    boost::container::small_vector<row_plan, 4> rows;
};

// A refused change: which one, why, and the row as it stood before it.
struct stock_failure {
    std::size_t change{0};
    stock_refusal refusal{stock_refusal::none};
    stock_counts row;
};

// Sorts keeping equal elements in their order. Insertion sort for the few
// changes of an ordinary order: std::stable_sort asks for a heap buffer even
// for one element, which the hot one-row reservation cannot afford.
template <class Sequence, class Less>
void sort_stably(Sequence& sequence, Less less) {
    constexpr std::size_t insertion_limit = 16;
    if (sequence.size() > insertion_limit) {
        std::stable_sort(sequence.begin(), sequence.end(), less);
        return;
    }
    for (std::size_t i = 1; i < sequence.size(); ++i) {
        const auto moving = sequence[i];
        std::size_t j = i;
        for (; j > 0 && less(moving, sequence[j - 1]); --j) {
            sequence[j] = sequence[j - 1];
        }
        sequence[j] = moving;
    }
}

// Groups the changes by row (keeping each row's changes in call order) and
// finds each row's node. Takes stock shard locks one at a time, and holds
// none when it returns.
stock_plan plan_stock(store_data& data, const std::vector<stock_change>& changes) {
    stock_plan plan;
    plan.sequence.resize(changes.size());
    std::iota(plan.sequence.begin(), plan.sequence.end(), std::size_t{0});
    const auto row_less = [&changes](std::size_t a, std::size_t b) {
        const stock_change& x = changes[a];
        const stock_change& y = changes[b];
        return x.sku != y.sku ? x.sku < y.sku : x.warehouse < y.warehouse;
    };
    sort_stably(plan.sequence, row_less);
    std::size_t first = 0;
    while (first < plan.sequence.size()) {
        std::size_t last = first + 1;
        bool creates = creates_row(changes[plan.sequence[first]].operation);
        while (last < plan.sequence.size() &&
               !row_less(plan.sequence[first], plan.sequence[last])) {
            creates = creates || creates_row(changes[plan.sequence[last]].operation);
            ++last;
        }
        const stock_change& head = changes[plan.sequence[first]];
        stock_node* node = creates ? find_or_create_row(data, head.sku, head.warehouse)
                                   : find_row(data, head.sku, head.warehouse);
        plan.rows.push_back(row_plan{
            .node = node, .first = first, .last = last, .counts = {}, .exists = false, .moves = 0});
        first = last;
    }
    return plan;
}

// Holds the lock of every planned row, taken in plan (key) order.
class row_locks {
public:
    explicit row_locks(stock_plan& plan) : plan_(plan) {
        for (const row_plan& row : plan_.rows) {
            if (row.node != nullptr) {
                row.node->mutex.lock();
            }
        }
    }
    ~row_locks() {
        for (const row_plan& row : plan_.rows) {
            if (row.node != nullptr) {
                row.node->mutex.unlock();
            }
        }
    }
    row_locks(const row_locks&) = delete;
    row_locks& operator=(const row_locks&) = delete;

private:
    stock_plan& plan_;
};

// Runs every change against a scratch copy of its row, rows locked. The
// first refusal stops it; the rows themselves are not touched.
std::optional<stock_failure> evaluate_stock(stock_plan& plan,
                                            const std::vector<stock_change>& changes) {
    for (row_plan& row : plan.rows) {
        row.exists = row.node != nullptr && row.node->exists;
        row.counts = row.exists ? row.node->counts : stock_counts{};
        row.moves = 0;
        for (std::size_t k = row.first; k < row.last; ++k) {
            const std::size_t index = plan.sequence[k];
            const stock_change& change = changes[index];
            const auto refusal =
                apply_change(row.counts, row.exists, change.operation, change.units.units());
            if (refusal != stock_refusal::none) {
                return stock_failure{.change = index, .refusal = refusal, .row = row.counts};
            }
            row.moves += moves_on_hand(change.operation) ? 1U : 0U;
        }
    }
    return std::nullopt;
}

// Makes room in the ledgers first, so that nothing is applied when memory
// runs out.
void reserve_ledgers(const stock_plan& plan) {
    for (const row_plan& row : plan.rows) {
        if (row.node != nullptr && row.moves > 0) {
            row.node->ledger.reserve(row.node->ledger.size() + row.moves);
        }
    }
}

// Appends the ledger entries of one row's changes: replays them from the
// committed counts (every one passed) to learn each on-hand figure after.
void append_ledger(const row_plan& row, const stock_plan& plan,
                   const std::vector<stock_change>& changes) {
    stock_counts counts = row.node->counts;
    bool exists = row.node->exists;
    for (std::size_t k = row.first; k < row.last; ++k) {
        const stock_change& change = changes[plan.sequence[k]];
        static_cast<void>(  // passed when the commit evaluated it
            apply_change(counts, exists, change.operation, change.units.units()));
        if (moves_on_hand(change.operation)) {
            row.node->ledger.push_back(
                stock_movement{.at = change.at,
                               .operation = change.operation,
                               .units = change.units,
                               .on_hand_after = quantity::of(counts.on_hand).value()});
        }
    }
}

void apply_stock(const stock_plan& plan, const std::vector<stock_change>& changes) {
    for (const row_plan& row : plan.rows) {
        if (row.node != nullptr) {
            if (row.moves > 0) {
                append_ledger(row, plan, changes);
            }
            row.node->counts = row.counts;
            row.node->exists = row.exists;
        }
    }
}

// ---- commit: shards --------------------------------------------------------

// The order, SKU and idempotency shards a write set touches, as bit masks,
// and whether it puts a shipment, a transfer, a ticket or a case.
struct shard_masks {
    std::uint64_t orders{0};
    std::uint64_t skus{0};
    std::uint64_t idempotency{0};
    bool shipments{false};
    bool transfers{false};
    bool tickets{false};
    bool cases{false};
};

shard_masks masks_of(const write_set& writes) {
    shard_masks masks;
    for (const pending_order& pending : writes.orders) {
        masks.orders |= bit_of(shard_index(pending.value.id));
    }
    for (const auto& [id, entry] : writes.timeline) {
        masks.orders |= bit_of(shard_index(id));
    }
    for (const pending_archive& pending : writes.archives) {
        masks.orders |= bit_of(shard_index(pending.id));
    }
    masks.shipments = !writes.shipments.empty();
    masks.transfers = !writes.transfers.empty();
    masks.tickets = !writes.tickets.empty();
    masks.cases = !writes.cases.empty();
    for (const sku& entry : writes.skus) {
        masks.skus |= bit_of(shard_index(entry.id));
    }
    for (const idempotency_record& record : writes.idempotency) {
        masks.idempotency |= bit_of(shard_index(record.key));
    }
    return masks;
}

// Holds the shard locks of a commit: order shards, then the shipment table,
// then the transfer table, then the ticket table, then the case table, then
// SKU shards, then idempotency shards, each ascending.
class shard_locks {
public:
    shard_locks(store_data& data, shard_masks masks) : data_(data), masks_(masks) {
        for_each_shard(masks_.orders, [this](std::size_t i) { data_.orders[i].mutex.lock(); });
        if (masks_.shipments) {
            data_.shipments.mutex.lock();
        }
        if (masks_.transfers) {
            data_.transfers.mutex.lock();
        }
        if (masks_.tickets) {
            data_.tickets.mutex.lock();
        }
        if (masks_.cases) {
            data_.cases.mutex.lock();
        }
        for_each_shard(masks_.skus, [this](std::size_t i) { data_.skus[i].mutex.lock(); });
        for_each_shard(masks_.idempotency,
                       [this](std::size_t i) { data_.idempotency[i].mutex.lock(); });
    }
    ~shard_locks() {
        for_each_shard(masks_.idempotency,
                       [this](std::size_t i) { data_.idempotency[i].mutex.unlock(); });
        for_each_shard(masks_.skus, [this](std::size_t i) { data_.skus[i].mutex.unlock(); });
        if (masks_.cases) {
            data_.cases.mutex.unlock();
        }
        if (masks_.tickets) {
            data_.tickets.mutex.unlock();
        }
        if (masks_.transfers) {
            data_.transfers.mutex.unlock();
        }
        if (masks_.shipments) {
            data_.shipments.mutex.unlock();
        }
        for_each_shard(masks_.orders, [this](std::size_t i) { data_.orders[i].mutex.unlock(); });
    }
    shard_locks(const shard_locks&) = delete;
    shard_locks& operator=(const shard_locks&) = delete;

private:
    store_data& data_;
    shard_masks masks_;
};

// ---- commit: checks (shards locked) -----------------------------------------

result<void> check_idempotency(const store_data& data, const write_set& writes) {
    for (const idempotency_record& record : writes.idempotency) {
        const auto& records = data.idempotency[shard_index(record.key)].records;
        if (records.contains(record.key)) {
            return error{
                errc::conflict, "idempotency_key",
                fmt::format("the key '{}' was stored by another request first", record.key)};
        }
    }
    return {};
}

result<void> check_orders(const store_data& data, const write_set& writes) {
    for (const pending_order& pending : writes.orders) {
        const order_id id = pending.value.id;
        const order_shard& shard = data.orders[shard_index(id)];
        if (shard.archived.contains(id)) {
            return pending.stored_version == 0
                       ? error{errc::conflict, "id",
                               fmt::format("order {} already exists (archived)", id)}
                       : error{errc::conflict, "version",
                               fmt::format("order {} is archived and can no longer change", id)};
        }
        const auto& slots = shard.slots;
        const auto slot = slots.find(id);
        const std::uint64_t stored =
            slot != slots.end() && slot->second.current ? slot->second.current->version : 0;
        if (stored == pending.stored_version) {
            continue;
        }
        if (pending.stored_version == 0) {
            return error{errc::conflict, "id", fmt::format("order {} already exists", id)};
        }
        if (stored == 0) {
            return error{errc::conflict, "version",
                         fmt::format("order {} does not exist, so version {} cannot replace it", id,
                                     pending.stored_version + 1)};
        }
        return error{errc::conflict, "version",
                     fmt::format("order {} was changed meanwhile: version {} is stored, {} was "
                                 "read",
                                 id, stored, pending.stored_version)};
    }
    return {};
}

// The same rule as check_orders, with the fields a shipment's conflict names.
result<void> check_shipments(const store_data& data, const write_set& writes) {
    for (const pending_shipment& pending : writes.shipments) {
        const shipment_id id = pending.value.id;
        const auto& shipments = data.shipments.shipments;
        const auto found = shipments.find(id);
        const std::uint64_t stored = found != shipments.end() ? found->second.version : 0;
        if (stored == pending.stored_version) {
            continue;
        }
        if (pending.stored_version == 0) {
            return error{errc::conflict, "shipment.id",
                         fmt::format("shipment {} already exists", id)};
        }
        if (stored == 0) {
            return error{errc::conflict, "shipment.version",
                         fmt::format("shipment {} does not exist, so version {} cannot replace it",
                                     id, pending.stored_version + 1)};
        }
        return error{errc::conflict, "shipment.version",
                     fmt::format("shipment {} was changed meanwhile: version {} is stored, {} was "
                                 "read",
                                 id, stored, pending.stored_version)};
    }
    return {};
}

// The same rule again, with the fields a transfer's conflict names.
result<void> check_transfers(const store_data& data, const write_set& writes) {
    for (const pending_transfer& pending : writes.transfers) {
        const transfer_id id = pending.value.id;
        const auto& transfers = data.transfers.transfers;
        const auto found = transfers.find(id);
        const std::uint64_t stored = found != transfers.end() ? found->second.version : 0;
        if (stored == pending.stored_version) {
            continue;
        }
        if (pending.stored_version == 0) {
            return error{errc::conflict, "transfer.id",
                         fmt::format("transfer {} already exists", id)};
        }
        if (stored == 0) {
            return error{errc::conflict, "transfer.version",
                         fmt::format("transfer {} does not exist, so version {} cannot replace it",
                                     id, pending.stored_version + 1)};
        }
        return error{errc::conflict, "transfer.version",
                     fmt::format("transfer {} was changed meanwhile: version {} is stored, {} was "
                                 "read",
                                 id, stored, pending.stored_version)};
    }
    return {};
}

// The same rule again, with the fields a ticket's conflict names.
result<void> check_tickets(const store_data& data, const write_set& writes) {
    for (const pending_ticket& pending : writes.tickets) {
        const ticket_id id = pending.value.id;
        const auto& tickets = data.tickets.tickets;
        const auto found = tickets.find(id);
        const std::uint64_t stored = found != tickets.end() ? found->second.version : 0;
        if (stored == pending.stored_version) {
            continue;
        }
        if (pending.stored_version == 0) {
            return error{errc::conflict, "ticket.id", fmt::format("ticket {} already exists", id)};
        }
        if (stored == 0) {
            return error{errc::conflict, "ticket.version",
                         fmt::format("ticket {} does not exist, so version {} cannot replace it",
                                     id, pending.stored_version + 1)};
        }
        return error{errc::conflict, "ticket.version",
                     fmt::format("ticket {} was changed meanwhile: version {} is stored, {} was "
                                 "read",
                                 id, stored, pending.stored_version)};
    }
    return {};
}

// The same rule again, with the fields a case's conflict names.
result<void> check_case_versions(const case_table& table, const std::vector<pending_case>& cases) {
    for (const pending_case& pending : cases) {
        const case_id id = pending.value.id;
        const auto found = table.cases.find(id);
        const std::uint64_t stored = found != table.cases.end() ? found->second.version : 0;
        if (stored == pending.stored_version) {
            continue;
        }
        if (pending.stored_version == 0) {
            return error{errc::conflict, "case.id", fmt::format("case {} already exists", id)};
        }
        if (stored == 0) {
            return error{errc::conflict, "case.version",
                         fmt::format("case {} does not exist, so version {} cannot replace it", id,
                                     pending.stored_version + 1)};
        }
        return error{errc::conflict, "case.version",
                     fmt::format("case {} was changed meanwhile: version {} is stored, {} was "
                                 "read",
                                 id, stored, pending.stored_version)};
    }
    return {};
}

bool claims_cause(const exception_case& c) noexcept {
    return case_live(c.state) && !c.cause_key.empty();
}

error cause_taken(const exception_case& c, case_id holder) {
    return error{errc::conflict, "case.cause_key",
                 fmt::format("case {} cannot be live for cause '{}': live case {} holds it", c.id,
                             c.cause_key, holder)};
}

// One cause, at most one live case, counting the cases as this transaction
// leaves them: a committed holder that this transaction also puts gives the
// key up or keeps it, and a holder that keeps it meets the claimant in the
// pairwise loop. Few cases per transaction, so the quadratic loops are cheap.
result<void> check_cause_keys(const case_table& table, const std::vector<pending_case>& cases) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const exception_case& claimant = cases[i].value;
        if (!claims_cause(claimant)) {
            continue;
        }
        for (std::size_t j = 0; j < i; ++j) {
            const exception_case& other = cases[j].value;
            if (claims_cause(other) && other.cause_key == claimant.cause_key) {
                return cause_taken(claimant, other.id);
            }
        }
        const auto holder = table.live_by_cause.find(claimant.cause_key);
        if (holder == table.live_by_cause.end() || holder->second == claimant.id) {
            continue;
        }
        const bool holder_rewritten = std::any_of(
            cases.begin(), cases.end(),
            [&](const pending_case& pending) { return pending.value.id == holder->second; });
        if (!holder_rewritten) {
            return cause_taken(claimant, holder->second);
        }
    }
    return {};
}

result<void> check_cases(const store_data& data, const write_set& writes) {
    if (auto checked = check_case_versions(data.cases, writes.cases); checked.has_error()) {
        return checked;
    }
    return check_cause_keys(data.cases, writes.cases);
}

// An archive needs the live order at the version read and in an ended state,
// judged as the transaction's own puts leave it (they apply first), so a
// transaction may close an order and archive it at once.
result<void> check_archives(const store_data& data, const write_set& writes) {
    for (const pending_archive& pending : writes.archives) {
        const order_id id = pending.id;
        const order_shard& shard = data.orders[shard_index(id)];
        const order* live = nullptr;
        for (const pending_order& put : writes.orders) {
            if (put.value.id == id) {
                live = &put.value;
            }
        }
        if (live == nullptr) {
            const auto slot = shard.slots.find(id);
            if (slot != shard.slots.end() && slot->second.current) {
                live = &*slot->second.current;
            }
        }
        if (live == nullptr) {
            return error{
                errc::conflict, "version",
                shard.archived.contains(id)
                    ? fmt::format("order {} is already archived", id)
                    : fmt::format("order {} does not exist, so it cannot be archived", id)};
        }
        if (live->version != pending.version) {
            return error{errc::conflict, "version",
                         fmt::format("order {} was changed meanwhile: version {} is stored, {} was "
                                     "read",
                                     id, live->version, pending.version)};
        }
        if (live->state != order_state::closed && live->state != order_state::cancelled) {
            return error{errc::invalid_value, "state",
                         fmt::format("order {} is {}: only a closed or cancelled order is archived",
                                     id, live->state)};
        }
    }
    return {};
}

// ---- commit: apply (everything locked, every check passed) ------------------

// Stores the order and moves its index entries only when its state or
// deadline changed, which most commits (a payment, a tracking update) leave.
void apply_order(order_shard& shard, order&& value) {
    const order_id id = value.id;
    order_slot& slot = shard.slots[id];
    const std::optional<order_state> old_state =
        slot.current ? std::optional(slot.current->state) : std::nullopt;
    if (old_state != value.state) {
        if (old_state) {
            shard.by_state.erase({*old_state, id});
        }
        shard.by_state.emplace(value.state, id);
    }
    const std::optional<timestamp> old_due = slot.current ? slot.current->due_at : std::nullopt;
    if (old_due != value.due_at) {
        if (old_due) {
            shard.by_due.erase({*old_due, id});
        }
        if (value.due_at) {
            shard.by_due.emplace(*value.due_at, id);
        }
    }
    slot.current = std::move(value);
}

// Moves an aggregate's entry in an ordered (key, id) index when its key
// changed: erases the old pair, inserts the new one.
template <class Index, class Key, class Id>
void reindex(Index& index, const std::optional<Key>& was, const std::optional<Key>& now, Id id) {
    if (was == now) {
        return;
    }
    if (was) {
        index.erase({*was, id});
    }
    if (now) {
        index.emplace(*now, id);
    }
}

// Stores a shipment, transfer or ticket and moves its index entries (state,
// and deadline when the table has a due index) as apply_order does.
template <class Rows, class Table, class T>
void apply_indexed(Rows& rows, Table& table, T value) {
    const auto id = value.id;
    const auto found = rows.find(id);
    const T* old = found != rows.end() ? &found->second : nullptr;
    reindex(table.by_state, old != nullptr ? std::optional(old->state) : std::nullopt,
            std::optional(value.state), id);
    if constexpr (requires { table.by_due; }) {
        reindex(table.by_due, old != nullptr ? old->due_at : std::nullopt, value.due_at, id);
    }
    rows.insert_or_assign(id, std::move(value));
}

// Stores the cases and keeps the cause index in step. The keys of the cases
// being rewritten are released first, so a key handed from one case to
// another in one transaction lands on its new holder whatever the put order.
void apply_cases(case_table& table, std::vector<pending_case>& cases) {
    for (const pending_case& pending : cases) {
        const auto found = table.cases.find(pending.value.id);
        if (found == table.cases.end() || !claims_cause(found->second)) {
            continue;
        }
        const auto holder = table.live_by_cause.find(found->second.cause_key);
        if (holder != table.live_by_cause.end() && holder->second == found->second.id) {
            table.live_by_cause.erase(holder);
        }
    }
    for (pending_case& pending : cases) {
        if (claims_cause(pending.value)) {
            table.live_by_cause.insert_or_assign(pending.value.cause_key, pending.value.id);
        }
        apply_indexed(table.cases, table, std::move(pending.value));
    }
}

// Appends to the archived order's timeline when it is archived, else to the live slot.
void apply_timeline(order_shard& shard, order_id id, timeline_entry&& entry) {
    if (const auto archived = shard.archived.find(id); archived != shard.archived.end()) {
        archived->second.timeline.push_back(std::move(entry));
        return;
    }
    shard.slots[id].timeline.push_back(std::move(entry));
}

// Moves a live order (checked: present) and its timeline out of the live
// table and its indexes into the archive.
void apply_archive(order_shard& shard, order_id id) {
    const auto found = shard.slots.find(id);
    assert(found != shard.slots.end() && found->second.current);
    const order& current = *found->second.current;
    shard.by_state.erase({current.state, id});
    if (current.due_at) {
        shard.by_due.erase({*current.due_at, id});
    }
    shard.archived.insert_or_assign(id, std::move(found->second));
    shard.slots.erase(found);
}

void apply_notifications(outbox_state& outbox, std::vector<notification>& notes) {
    for (notification& note : notes) {
        const std::uint64_t id = outbox.next_id++;
        note.id = id;
        note.attempt = 0;
        outbox.by_order[note.order].push_back(id);
        // Ids only grow, so the hint makes this insertion constant time.
        outbox.undelivered.insert(outbox.undelivered.end(), id);
        const timestamp due = note.created_at;
        outbox.entries.push_back(outbox_entry{.notification = std::move(note),
                                              .delivered = false,
                                              .attempts = 0,
                                              .next_attempt_at = due,
                                              .last_error = {}});
    }
}

void apply_writes(store_data& data, write_set& writes) {
    for (pending_order& pending : writes.orders) {
        apply_order(data.orders[shard_index(pending.value.id)], std::move(pending.value));
    }
    for (pending_shipment& pending : writes.shipments) {
        apply_indexed(data.shipments.shipments, data.shipments, std::move(pending.value));
    }
    for (pending_transfer& pending : writes.transfers) {
        apply_indexed(data.transfers.transfers, data.transfers, std::move(pending.value));
    }
    for (pending_ticket& pending : writes.tickets) {
        apply_indexed(data.tickets.tickets, data.tickets, std::move(pending.value));
    }
    apply_cases(data.cases, writes.cases);
    for (auto& [id, entry] : writes.timeline) {
        apply_timeline(data.orders[shard_index(id)], id, std::move(entry));
    }
    // After the puts and the timeline, so that what they wrote moves too.
    for (const pending_archive& pending : writes.archives) {
        apply_archive(data.orders[shard_index(pending.id)], pending.id);
    }
    for (sku& entry : writes.skus) {
        const sku_id id = entry.id;
        data.skus[shard_index(id)].skus.insert_or_assign(id, std::move(entry));
    }
    for (idempotency_record& record : writes.idempotency) {
        std::string key = record.key;
        data.idempotency[shard_index(key)].records.emplace(std::move(key), std::move(record));
    }
    apply_notifications(data.outbox, writes.notifications);
}

// Runs the stock changes with their rows locked, and nothing else: this is
// the hot row's whole critical section. Applies them when every one passes.
std::optional<stock_failure> change_rows(stock_plan& plan,
                                         const std::vector<stock_change>& changes) {
    const row_locks rows(plan);
    auto failure = evaluate_stock(plan, changes);
    if (!failure) {
        reserve_ledgers(plan);
        apply_stock(plan, changes);
    }
    return failure;
}

// Checks every condition and applies all writes or none; the write set is
// consumed. Two-phase locking in the global order (shards, outbox, rows):
// every lock is taken before any is released, so commits serialise. The
// rows are released first, right after the stock changes, which keeps the
// order, timeline and outbox writes out of the hot row's critical section;
// the shard and outbox locks, held until everything is applied, make a
// reader who saw the new stock wait for the rest.
result<void> commit(store_data& data, write_set& writes) {
    const shard_masks masks = masks_of(writes);
    stock_plan plan = plan_stock(data, writes.stock);
    const shard_locks shards(data, masks);
    if (auto checked = check_idempotency(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_orders(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_shipments(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_transfers(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_tickets(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_cases(data, writes); checked.has_error()) {
        return checked;
    }
    if (auto checked = check_archives(data, writes); checked.has_error()) {
        return checked;
    }
    // Commits that enqueue nothing never touch the outbox lock.
    std::unique_lock outbox_lock(data.outbox.mutex, std::defer_lock);
    if (!writes.notifications.empty()) {
        outbox_lock.lock();
    }
    if (const auto failure = change_rows(plan, writes.stock)) {
        return stock_error(writes.stock[failure->change], failure->refusal, failure->row);
    }
    apply_writes(data, writes);
    return {};
}

}  // namespace
}  // namespace orderly::detail::memory

// ---- reads: each takes one lock at a time and returns copies ----------------

namespace orderly::detail::memory {
namespace {

// The live or archived slot of an order, or null; the shard lock is held by the caller.
const order_slot* slot_of(const order_shard& shard, order_id id) {
    if (const auto slot = shard.slots.find(id); slot != shard.slots.end()) {
        return &slot->second;
    }
    const auto archived = shard.archived.find(id);
    return archived == shard.archived.end() ? nullptr : &archived->second;
}

std::optional<order> load_order(store_data& data, order_id id) {
    order_shard& shard = data.orders[shard_index(id)];
    const std::lock_guard lock(shard.mutex);
    const order_slot* slot = slot_of(shard, id);
    return slot == nullptr ? std::nullopt : slot->current;
}

std::vector<timeline_entry> load_timeline(store_data& data, order_id id) {
    order_shard& shard = data.orders[shard_index(id)];
    const std::lock_guard lock(shard.mutex);
    const order_slot* slot = slot_of(shard, id);
    return slot == nullptr ? std::vector<timeline_entry>{} : slot->timeline;
}

// The same merge as ids_in_state, over each shard's archive.
std::vector<order_id> archived_ids(store_data& data, order_id after, std::size_t limit) {
    std::vector<order_id> ids;
    for (order_shard& shard : data.orders) {
        const std::lock_guard lock(shard.mutex);
        auto it = shard.archived.upper_bound(after);
        for (std::size_t taken = 0; taken < limit && it != shard.archived.end(); ++taken, ++it) {
            ids.push_back(it->first);
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.resize(std::min(ids.size(), limit));
    return ids;
}

// The `limit` smallest keys over every order shard, ascending. Each shard's
// run (from `first` while `in_run`) is ascending, so a shard stops as soon
// as its next key is not below the largest kept one once `limit` are kept:
// a page costs about `limit` heap steps, not the whole state's size.
template <class Key, class Index, class First, class InRun>
std::vector<Key> smallest_over_shards(store_data& data, std::size_t limit, Index index, First first,
                                      InRun in_run) {
    std::vector<Key> kept;  // a max-heap of at most `limit` keys
    if (limit == 0) {
        return kept;
    }
    for (order_shard& shard : data.orders) {
        const std::lock_guard lock(shard.mutex);
        const auto& entries = shard.*index;
        for (auto it = first(entries); it != entries.end() && in_run(*it); ++it) {
            const Key key = *it;
            if (kept.size() == limit) {
                if (!(key < kept.front())) {
                    break;  // this shard has nothing smaller left
                }
                std::pop_heap(kept.begin(), kept.end());
                kept.back() = key;
            } else {
                kept.push_back(key);
            }
            std::push_heap(kept.begin(), kept.end());
        }
    }
    std::sort_heap(kept.begin(), kept.end());
    return kept;
}

std::vector<order_id> ids_in_state(store_data& data, order_state state, order_id after,
                                   std::size_t limit) {
    const auto entries = smallest_over_shards<std::pair<order_state, order_id>>(
        data, limit, &order_shard::by_state,
        [&](const auto& index) {
            return index.upper_bound({state, after});
        },
        [&](const auto& entry) { return entry.first == state; });
    std::vector<order_id> ids;
    ids.reserve(entries.size());
    for (const auto& entry : entries) {
        ids.push_back(entry.second);
    }
    return ids;
}

// The same merge over (due_at, id).
std::vector<order_id> ids_due(store_data& data, timestamp now, std::size_t limit) {
    const auto due = smallest_over_shards<std::pair<timestamp, order_id>>(
        data, limit, &order_shard::by_due, [](const auto& index) { return index.begin(); },
        [&](const auto& entry) { return entry.first <= now; });
    std::vector<order_id> ids;
    ids.reserve(due.size());
    for (const auto& [at, id] : due) {
        ids.push_back(id);
    }
    return ids;
}

std::optional<shipment> load_shipment(store_data& data, shipment_id id) {
    shipment_table& table = data.shipments;
    const std::lock_guard lock(table.mutex);
    const auto found = table.shipments.find(id);
    return found == table.shipments.end() ? std::nullopt : std::optional<shipment>(found->second);
}

std::vector<shipment_id> shipment_ids_in_state(store_data& data, shipment_state state,
                                               shipment_id after, std::size_t limit) {
    std::vector<shipment_id> ids;
    shipment_table& table = data.shipments;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_state.upper_bound({state, after});
         ids.size() < limit && it != table.by_state.end() && it->first == state; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::vector<shipment_id> shipment_ids_due(store_data& data, timestamp now, std::size_t limit) {
    std::vector<shipment_id> ids;
    shipment_table& table = data.shipments;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_due.begin();
         ids.size() < limit && it != table.by_due.end() && it->first <= now; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::optional<stock_transfer> load_transfer(store_data& data, transfer_id id) {
    transfer_table& table = data.transfers;
    const std::lock_guard lock(table.mutex);
    const auto found = table.transfers.find(id);
    return found == table.transfers.end() ? std::nullopt
                                          : std::optional<stock_transfer>(found->second);
}

std::vector<transfer_id> transfer_ids_in_state(store_data& data, transfer_state state,
                                               transfer_id after, std::size_t limit) {
    std::vector<transfer_id> ids;
    transfer_table& table = data.transfers;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_state.upper_bound({state, after});
         ids.size() < limit && it != table.by_state.end() && it->first == state; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::optional<ticket> load_ticket(store_data& data, ticket_id id) {
    ticket_table& table = data.tickets;
    const std::lock_guard lock(table.mutex);
    const auto found = table.tickets.find(id);
    return found == table.tickets.end() ? std::nullopt : std::optional<ticket>(found->second);
}

std::vector<ticket_id> ticket_ids_in_state(store_data& data, ticket_state state, ticket_id after,
                                           std::size_t limit) {
    std::vector<ticket_id> ids;
    ticket_table& table = data.tickets;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_state.upper_bound({state, after});
         ids.size() < limit && it != table.by_state.end() && it->first == state; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::vector<ticket_id> ticket_ids_due(store_data& data, timestamp now, std::size_t limit) {
    std::vector<ticket_id> ids;
    ticket_table& table = data.tickets;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_due.begin();
         ids.size() < limit && it != table.by_due.end() && it->first <= now; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::optional<exception_case> load_case(store_data& data, case_id id) {
    case_table& table = data.cases;
    const std::lock_guard lock(table.mutex);
    const auto found = table.cases.find(id);
    return found == table.cases.end() ? std::nullopt : std::optional<exception_case>(found->second);
}

std::optional<exception_case> load_live_case(store_data& data, std::string_view cause_key) {
    if (cause_key.empty()) {
        return std::nullopt;
    }
    case_table& table = data.cases;
    const std::lock_guard lock(table.mutex);
    const auto holder = table.live_by_cause.find(cause_key);
    if (holder == table.live_by_cause.end()) {
        return std::nullopt;
    }
    const auto found = table.cases.find(holder->second);
    return found == table.cases.end() ? std::nullopt : std::optional<exception_case>(found->second);
}

std::vector<case_id> case_ids_in_state(store_data& data, case_state state, case_id after,
                                       std::size_t limit) {
    std::vector<case_id> ids;
    case_table& table = data.cases;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_state.upper_bound({state, after});
         ids.size() < limit && it != table.by_state.end() && it->first == state; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::vector<case_id> case_ids_due(store_data& data, timestamp now, std::size_t limit) {
    std::vector<case_id> ids;
    case_table& table = data.cases;
    const std::lock_guard lock(table.mutex);
    for (auto it = table.by_due.begin();
         ids.size() < limit && it != table.by_due.end() && it->first <= now; ++it) {
        ids.push_back(it->second);
    }
    return ids;
}

std::optional<sku> load_sku(store_data& data, const sku_id& id) {
    sku_shard& shard = data.skus[shard_index(id)];
    const std::lock_guard lock(shard.mutex);
    const auto found = shard.skus.find(id);
    return found == shard.skus.end() ? std::nullopt : std::optional<sku>(found->second);
}

// Every row of one SKU in warehouse order. Nodes never move, so their
// pointers stay good after the shard lock is released.
std::vector<stock_level> stock_of_sku(store_data& data, const sku_id& id) {
    std::vector<stock_node*> nodes;
    {
        stock_shard& shard = data.stock[shard_index(id)];
        const std::lock_guard lock(shard.mutex);
        if (const auto of_sku = shard.rows.find(id); of_sku != shard.rows.end()) {
            for (const auto& [warehouse, node] : of_sku->second) {
                nodes.push_back(node.get());
            }
        }
    }
    std::vector<stock_level> levels;
    for (stock_node* node : nodes) {
        if (auto level = read_row(*node)) {
            levels.push_back(std::move(*level));
        }
    }
    return levels;
}

std::vector<stock_level> every_stock_row(store_data& data) {
    std::vector<stock_node*> nodes;
    for (stock_shard& shard : data.stock) {
        const std::lock_guard lock(shard.mutex);
        for (const auto& [sku, of_sku] : shard.rows) {
            for (const auto& [warehouse, node] : of_sku) {
                nodes.push_back(node.get());
            }
        }
    }
    std::sort(nodes.begin(), nodes.end(), [](const stock_node* a, const stock_node* b) {
        return a->sku != b->sku ? a->sku < b->sku : a->warehouse < b->warehouse;
    });
    std::vector<stock_level> levels;
    levels.reserve(nodes.size());
    for (stock_node* node : nodes) {
        if (auto level = read_row(*node)) {
            levels.push_back(std::move(*level));
        }
    }
    return levels;
}

std::optional<idempotency_record> load_idempotency(store_data& data, std::string_view key) {
    idempotency_shard& shard = data.idempotency[shard_index(key)];
    const std::lock_guard lock(shard.mutex);
    const auto found = shard.records.find(key);
    return found == shard.records.end() ? std::nullopt
                                        : std::optional<idempotency_record>(found->second);
}

// ---- outbox (outbox lock held by the caller) ---------------------------------

// The entry with this id, or null. Ids are dense from 1.
outbox_entry* entry_of(outbox_state& outbox, std::uint64_t id) {
    if (id == 0 || id > outbox.entries.size()) {
        return nullptr;
    }
    return &outbox.entries[static_cast<std::size_t>(id - 1)];
}

error unknown_notification(std::uint64_t id) {
    return error{errc::not_found, "id", fmt::format("there is no notification {}", id)};
}

// Walks undelivered ids oldest first, skipping leased and rescheduled ones;
// delivered entries are not in the set, so a large delivered backlog costs
// nothing.
std::vector<notification> claim(outbox_state& outbox, timestamp now, duration lease,
                                std::size_t limit) {
    std::vector<notification> claimed;
    for (auto it = outbox.undelivered.begin();
         claimed.size() < limit && it != outbox.undelivered.end(); ++it) {
        outbox_entry& entry = *entry_of(outbox, *it);
        if (entry.next_attempt_at > now) {
            continue;
        }
        entry.next_attempt_at = now + lease;
        ++entry.attempts;
        entry.notification.attempt = entry.attempts;
        claimed.push_back(entry.notification);
    }
    return claimed;
}

}  // namespace
}  // namespace orderly::detail::memory

// ---- the transaction ----------------------------------------------------------

namespace orderly {

namespace memory = detail::memory;

/// Buffers writes in a write set; reads go to the committed data. One thread
/// at a time, as the port says.
class memory_store::transaction final : public store_transaction {
public:
    explicit transaction(memory::store_data& data) : data_(data) {}

    result<std::optional<order>> find_order(order_id id) override {
        return memory::load_order(data_, id);
    }
    result<void> put_order(const order& o) override;
    result<void> append_timeline(order_id id, const timeline_entry& entry) override {
        assert_open();
        writes_.timeline.emplace_back(id, entry);
        return {};
    }
    result<std::optional<shipment>> find_shipment(shipment_id id) override {
        return memory::load_shipment(data_, id);
    }
    result<void> put_shipment(const shipment& s) override;
    result<std::optional<stock_transfer>> find_transfer(transfer_id id) override {
        return memory::load_transfer(data_, id);
    }
    result<void> put_transfer(const stock_transfer& t) override;
    result<std::optional<ticket>> find_ticket(ticket_id id) override {
        return memory::load_ticket(data_, id);
    }
    result<void> put_ticket(const ticket& t) override;
    result<std::optional<exception_case>> find_case(case_id id) override {
        return memory::load_case(data_, id);
    }
    result<std::optional<exception_case>> find_live_case(std::string_view cause_key) override {
        return memory::load_live_case(data_, cause_key);
    }
    result<void> put_case(const exception_case& c) override;
    result<void> archive_order(order_id id, std::uint64_t version) override;
    result<std::optional<sku>> find_sku(const sku_id& id) override {
        return memory::load_sku(data_, id);
    }
    result<void> put_sku(const sku& s) override {
        assert_open();
        writes_.skus.push_back(s);
        return {};
    }
    result<std::vector<stock_level>> find_stock(const sku_id& id) override {
        return memory::stock_of_sku(data_, id);
    }
    result<void> change_stock(const stock_change& change) override {
        assert_open();
        writes_.stock.push_back(change);
        return {};
    }
    result<void> enqueue(const notification& note) override {
        assert_open();
        writes_.notifications.push_back(note);
        return {};
    }
    result<std::optional<idempotency_record>> find_idempotency(std::string_view key) override {
        return memory::load_idempotency(data_, key);
    }
    result<void> put_idempotency(const idempotency_record& record) override;
    result<void> commit() override;

private:
    // Writing to or committing a used transaction is a bug in the caller.
    void assert_open() const { assert(!committed_ && "the transaction was already committed"); }

    memory::store_data& data_;
    memory::write_set writes_;
    bool committed_{false};
};

// A second put of the same order in one transaction must follow the first,
// and the commit then checks the first put's base version.
result<void> memory_store::transaction::put_order(const order& o) {
    assert_open();
    if (o.version == 0) {
        return error{errc::invalid_value, "version", "an order's version starts at 1"};
    }
    for (memory::pending_order& pending : writes_.orders) {
        if (pending.value.id != o.id) {
            continue;
        }
        if (o.version != pending.value.version + 1) {
            return error{errc::conflict, "version",
                         fmt::format("order {} is already put at version {} in this transaction",
                                     o.id, pending.value.version)};
        }
        pending.value = o;
        return {};
    }
    writes_.orders.push_back(memory::pending_order{.value = o, .stored_version = o.version - 1});
    return {};
}

// The same rule as put_order: a second put of one shipment must follow the first.
result<void> memory_store::transaction::put_shipment(const shipment& s) {
    assert_open();
    if (s.version == 0) {
        return error{errc::invalid_value, "shipment.version", "a shipment's version starts at 1"};
    }
    for (memory::pending_shipment& pending : writes_.shipments) {
        if (pending.value.id != s.id) {
            continue;
        }
        if (s.version != pending.value.version + 1) {
            return error{errc::conflict, "shipment.version",
                         fmt::format("shipment {} is already put at version {} in this transaction",
                                     s.id, pending.value.version)};
        }
        pending.value = s;
        return {};
    }
    writes_.shipments.push_back(
        memory::pending_shipment{.value = s, .stored_version = s.version - 1});
    return {};
}

// The same rule as put_order: a second put of one transfer must follow the first.
result<void> memory_store::transaction::put_transfer(const stock_transfer& t) {
    assert_open();
    if (t.version == 0) {
        return error{errc::invalid_value, "transfer.version", "a transfer's version starts at 1"};
    }
    for (memory::pending_transfer& pending : writes_.transfers) {
        if (pending.value.id != t.id) {
            continue;
        }
        if (t.version != pending.value.version + 1) {
            return error{errc::conflict, "transfer.version",
                         fmt::format("transfer {} is already put at version {} in this transaction",
                                     t.id, pending.value.version)};
        }
        pending.value = t;
        return {};
    }
    writes_.transfers.push_back(
        memory::pending_transfer{.value = t, .stored_version = t.version - 1});
    return {};
}

// The same rule as put_order: a second put of one ticket must follow the first.
result<void> memory_store::transaction::put_ticket(const ticket& t) {
    assert_open();
    if (t.version == 0) {
        return error{errc::invalid_value, "ticket.version", "a ticket's version starts at 1"};
    }
    for (memory::pending_ticket& pending : writes_.tickets) {
        if (pending.value.id != t.id) {
            continue;
        }
        if (t.version != pending.value.version + 1) {
            return error{errc::conflict, "ticket.version",
                         fmt::format("ticket {} is already put at version {} in this transaction",
                                     t.id, pending.value.version)};
        }
        pending.value = t;
        return {};
    }
    writes_.tickets.push_back(memory::pending_ticket{.value = t, .stored_version = t.version - 1});
    return {};
}

// The same rule as put_order: a second put of one case must follow the first.
result<void> memory_store::transaction::put_case(const exception_case& c) {
    assert_open();
    if (c.version == 0) {
        return error{errc::invalid_value, "case.version", "a case's version starts at 1"};
    }
    for (memory::pending_case& pending : writes_.cases) {
        if (pending.value.id != c.id) {
            continue;
        }
        if (c.version != pending.value.version + 1) {
            return error{errc::conflict, "case.version",
                         fmt::format("case {} is already put at version {} in this transaction",
                                     c.id, pending.value.version)};
        }
        pending.value = c;
        return {};
    }
    writes_.cases.push_back(memory::pending_case{.value = c, .stored_version = c.version - 1});
    return {};
}

// Checked at commit; archiving one order twice in a transaction is refused now.
result<void> memory_store::transaction::archive_order(order_id id, std::uint64_t version) {
    assert_open();
    for (const memory::pending_archive& pending : writes_.archives) {
        if (pending.id == id) {
            return error{errc::conflict, "version",
                         fmt::format("order {} is already archived in this transaction", id)};
        }
    }
    writes_.archives.push_back(memory::pending_archive{.id = id, .version = version});
    return {};
}

result<void> memory_store::transaction::put_idempotency(const idempotency_record& record) {
    assert_open();
    for (const idempotency_record& pending : writes_.idempotency) {
        if (pending.key == record.key) {
            return error{
                errc::conflict, "idempotency_key",
                fmt::format("the key '{}' is already put in this transaction", record.key)};
        }
    }
    writes_.idempotency.push_back(record);
    return {};
}

result<void> memory_store::transaction::commit() {
    assert_open();
    if (committed_) {
        // Asserts are off in release builds; applying the moved-from writes
        // again would corrupt the store, so refuse instead.
        return error{errc::storage_failure, "", "the transaction was already committed"};
    }
    committed_ = true;
    return memory::commit(data_, writes_);
}

// ---- the store ----------------------------------------------------------------

memory_store::memory_store() : state_(std::make_unique<state>()) {}

memory_store::~memory_store() = default;

result<std::unique_ptr<store_transaction>> memory_store::begin() {
    return std::unique_ptr<store_transaction>(std::make_unique<transaction>(*state_));
}

result<std::optional<order>> memory_store::load_order(order_id id) {
    return memory::load_order(*state_, id);
}

result<std::vector<timeline_entry>> memory_store::timeline(order_id id) {
    return memory::load_timeline(*state_, id);
}

result<std::vector<order_id>> memory_store::orders_in_state(order_state wanted, order_id after,
                                                            std::size_t limit) {
    return memory::ids_in_state(*state_, wanted, after, limit);
}

result<std::vector<order_id>> memory_store::due_orders(timestamp now, std::size_t limit) {
    return memory::ids_due(*state_, now, limit);
}

result<std::optional<shipment>> memory_store::load_shipment(shipment_id id) {
    return memory::load_shipment(*state_, id);
}

result<std::vector<shipment_id>> memory_store::shipments_in_state(shipment_state wanted,
                                                                  shipment_id after,
                                                                  std::size_t limit) {
    return memory::shipment_ids_in_state(*state_, wanted, after, limit);
}

result<std::vector<shipment_id>> memory_store::due_shipments(timestamp now, std::size_t limit) {
    return memory::shipment_ids_due(*state_, now, limit);
}

result<std::optional<sku>> memory_store::load_sku(const sku_id& id) {
    return memory::load_sku(*state_, id);
}

result<std::optional<stock_level>> memory_store::stock(const sku_id& sku,
                                                       const warehouse_id& warehouse) {
    memory::stock_node* node = memory::find_row(*state_, sku, warehouse);
    return node == nullptr ? std::nullopt : memory::read_row(*node);
}

result<std::vector<stock_level>> memory_store::all_stock() {
    return memory::every_stock_row(*state_);
}

result<std::vector<stock_movement>> memory_store::stock_movements(const sku_id& sku,
                                                                  const warehouse_id& warehouse,
                                                                  timestamp from, timestamp to) {
    memory::stock_node* node = memory::find_row(*state_, sku, warehouse);
    return node == nullptr ? std::vector<stock_movement>{} : memory::read_ledger(*node, from, to);
}

result<std::optional<stock_transfer>> memory_store::load_transfer(transfer_id id) {
    return memory::load_transfer(*state_, id);
}

result<std::vector<transfer_id>> memory_store::transfers_in_state(transfer_state wanted,
                                                                  transfer_id after,
                                                                  std::size_t limit) {
    return memory::transfer_ids_in_state(*state_, wanted, after, limit);
}

result<std::optional<ticket>> memory_store::load_ticket(ticket_id id) {
    return memory::load_ticket(*state_, id);
}

result<std::vector<ticket_id>> memory_store::tickets_in_state(ticket_state wanted, ticket_id after,
                                                              std::size_t limit) {
    return memory::ticket_ids_in_state(*state_, wanted, after, limit);
}

result<std::vector<ticket_id>> memory_store::due_tickets(timestamp now, std::size_t limit) {
    return memory::ticket_ids_due(*state_, now, limit);
}

result<std::optional<exception_case>> memory_store::load_case(case_id id) {
    return memory::load_case(*state_, id);
}

result<std::vector<case_id>> memory_store::cases_in_state(case_state wanted, case_id after,
                                                          std::size_t limit) {
    return memory::case_ids_in_state(*state_, wanted, after, limit);
}

result<std::vector<case_id>> memory_store::due_cases(timestamp now, std::size_t limit) {
    return memory::case_ids_due(*state_, now, limit);
}

result<std::vector<order_id>> memory_store::archived_orders(order_id after, std::size_t limit) {
    return memory::archived_ids(*state_, after, limit);
}

result<std::vector<notification>> memory_store::claim_notifications(timestamp now, duration lease,
                                                                    std::size_t limit) {
    const std::lock_guard lock(state_->outbox.mutex);
    return memory::claim(state_->outbox, now, lease, limit);
}

result<void> memory_store::mark_delivered(std::uint64_t id) {
    const std::lock_guard lock(state_->outbox.mutex);
    outbox_entry* entry = memory::entry_of(state_->outbox, id);
    if (entry == nullptr) {
        return memory::unknown_notification(id);
    }
    entry->delivered = true;
    state_->outbox.undelivered.erase(id);
    return {};
}

// A delivered entry stays delivered: a late failure report from a second
// dispatcher whose lease ran out must not bring it back.
result<void> memory_store::reschedule(std::uint64_t id, timestamp next_attempt_at,
                                      std::string_view last_error) {
    const std::lock_guard lock(state_->outbox.mutex);
    outbox_entry* entry = memory::entry_of(state_->outbox, id);
    if (entry == nullptr) {
        return memory::unknown_notification(id);
    }
    if (!entry->delivered) {
        entry->next_attempt_at = next_attempt_at;
        entry->last_error = last_error;
    }
    return {};
}

result<std::vector<outbox_entry>> memory_store::outbox_of(order_id id) {
    const std::lock_guard lock(state_->outbox.mutex);
    std::vector<outbox_entry> entries;
    const auto ids = state_->outbox.by_order.find(id);
    if (ids != state_->outbox.by_order.end()) {
        entries.reserve(ids->second.size());
        for (const std::uint64_t entry_id : ids->second) {
            entries.push_back(*memory::entry_of(state_->outbox, entry_id));
        }
    }
    return entries;
}

result<std::size_t> memory_store::undelivered_count() {
    const std::lock_guard lock(state_->outbox.mutex);
    return state_->outbox.undelivered.size();
}

}  // namespace orderly
