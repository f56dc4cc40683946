#pragma once
// Internal to memory_store.cpp, never installed: the data the in-memory store
// keeps, the locks that guard each part, and the write set a transaction
// buffers until commit.
//
// Lock order, the one rule that keeps commits free of deadlock: order
// shards, then the shipment table, then the transfer table, then the ticket
// table, then the case table, then SKU shards, then idempotency shards (each
// ascending), then the outbox, then stock rows
// (by sku, then warehouse). A stock shard's lock is only ever held alone, to find or insert
// a row, never while any other lock is held or taken. Reads take one lock at
// a time.

#include "../stock_rules.hpp"

#include <orderly/storage/memory_store.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace orderly::detail::memory {

/// Shards per map. A power of two, at most 64, so a commit's set of shards
/// fits one 64-bit mask and is locked in ascending bit order.
inline constexpr std::size_t shard_count = 64;
/// log2(shard_count): how many high bits of the mixed hash pick the shard.
inline constexpr unsigned shard_bits = 6;
static_assert(std::size_t{1} << shard_bits == shard_count);

/// The shard of a hash. The multiplication (Fibonacci hashing) spreads ids
/// whose low bits repeat, as std::hash of an integer is the integer itself.
[[nodiscard]] inline std::size_t shard_of(std::size_t hash) noexcept {
    constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>((static_cast<std::uint64_t>(hash) * golden) >>
                                    (64U - shard_bits));
}

/// One stock row with its own lock. Allocated once and never moved or freed
/// while the store lives, so a commit may hold a pointer to it after the
/// shard lock that found it is released. Aligned to a cache line so two hot
/// rows never share one.
struct alignas(64) stock_node {
    /// A row that does not exist yet (exists == false) for this key.
    stock_node(sku_id sku_key, warehouse_id warehouse_key)
        : sku(std::move(sku_key)), warehouse(std::move(warehouse_key)) {}

    const sku_id sku;              ///< Key, part 1; never changes.
    const warehouse_id warehouse;  ///< Key, part 2; never changes.
    std::mutex mutex;              ///< Guards counts, exists and ledger.
    stock_counts counts;           ///< The committed counts and low-stock flag.
    /// False for a node a commit created to receive stock but which did not
    /// commit: readers treat it as no row at all.
    bool exists{false};
    /// The on-hand ledger, in commit order: one entry per committed consume,
    /// receive, dispatch, arrive and restock. Reservations never touch it, so the hot
    /// reserve path neither allocates nor waits for it.
    std::vector<stock_movement> ledger;
};

/// Stock rows whose SKU hashes here; all warehouses of one SKU share a shard
/// so find_stock(sku) reads one shard.
struct alignas(64) stock_shard {
    std::mutex mutex;  ///< Guards rows (the map, not the rows' counts).
    /// SKU → warehouse → row, warehouses ordered as find_stock returns them.
    std::unordered_map<sku_id, std::map<warehouse_id, std::unique_ptr<stock_node>>> rows;
};

/// What the store keeps of one order id: the order once put, and its
/// timeline (which may be appended to before the order exists).
struct order_slot {
    std::optional<orderly::order> current;  ///< The committed order, if any.
    std::vector<timeline_entry> timeline;   ///< Oldest first.
};

/// Orders whose id hashes here, with this shard's part of the read indexes,
/// kept in step with the orders under the same lock. An archived order
/// moves with its timeline from `slots` to `archived` and leaves both indexes;
/// it stays in the same shard, so a commit that archives it locks nothing new.
struct alignas(64) order_shard {
    std::mutex mutex;                                     ///< Guards everything below.
    std::unordered_map<order_id, order_slot> slots;       ///< Live orders by id.
    std::set<std::pair<order_state, order_id>> by_state;  ///< For orders_in_state.
    std::set<std::pair<timestamp, order_id>> by_due;      ///< For due_orders.
    /// Archived orders, ascending by id for archived_orders; `current` is always set.
    std::map<order_id, order_slot> archived;
};

/// Every shipment, with its read indexes, behind one lock. Not sharded: a
/// shipment changes a handful of times in its life (planned, picked, packed,
/// shipped, a few tracking updates), far less often than stock rows and
/// orders, and one lock keeps shipments_in_state and due_shipments a plain
/// walk of one ordered set. Commits take the lock only when they put a
/// shipment.
struct alignas(64) shipment_table {
    std::mutex mutex;                                              ///< Guards everything below.
    std::unordered_map<shipment_id, orderly::shipment> shipments;  ///< By id.
    std::set<std::pair<shipment_state, shipment_id>> by_state;     ///< For shipments_in_state.
    std::set<std::pair<timestamp, shipment_id>> by_due;            ///< For due_shipments.
};

/// Every stock transfer, with its state index, behind one lock: like the
/// shipments, a transfer changes twice in its life (dispatched, received).
/// Commits take the lock only when they put a transfer.
struct alignas(64) transfer_table {
    std::mutex mutex;                                           ///< Guards everything below.
    std::unordered_map<transfer_id, stock_transfer> transfers;  ///< By id.
    std::set<std::pair<transfer_state, transfer_id>> by_state;  ///< For transfers_in_state.
};

/// Every after-sales ticket, with its read indexes, behind one lock: like a
/// shipment, a ticket changes a handful of times in its life, and one lock
/// keeps tickets_in_state and due_tickets a plain walk of one ordered set.
/// Commits take the lock only when they put a ticket.
struct alignas(64) ticket_table {
    std::mutex mutex;                                        ///< Guards everything below.
    std::unordered_map<ticket_id, orderly::ticket> tickets;  ///< By id.
    std::set<std::pair<ticket_state, ticket_id>> by_state;   ///< For tickets_in_state.
    std::set<std::pair<timestamp, ticket_id>> by_due;        ///< For due_tickets.
};

/// Hashes keys as text, so a std::string_view finds a std::string key
/// without copying it.
struct text_hash {
    using is_transparent = void;  ///< Enables heterogeneous lookup.
    /// The hash std::hash<std::string> gives the same characters.
    std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

/// Every exception case, with its read indexes, behind one lock, like the
/// tickets. `live_by_cause` maps the cause_key of every live case with a
/// non-empty key to that case, so a commit checks "one live case per cause"
/// with one lookup under the same lock that writes the case.
struct alignas(64) case_table {
    std::mutex mutex;                                   ///< Guards everything below.
    std::unordered_map<case_id, exception_case> cases;  ///< By id.
    std::set<std::pair<case_state, case_id>> by_state;  ///< For cases_in_state.
    std::set<std::pair<timestamp, case_id>> by_due;     ///< For due_cases.
    /// Live cases by cause_key (cases with an empty key are not in it).
    std::unordered_map<std::string, case_id, text_hash, std::equal_to<>> live_by_cause;
};

/// Catalogue entries whose id hashes here.
struct alignas(64) sku_shard {
    std::mutex mutex;                               ///< Guards skus.
    std::unordered_map<sku_id, orderly::sku> skus;  ///< By id.
};

/// Idempotency records whose key hashes here.
struct alignas(64) idempotency_shard {
    std::mutex mutex;  ///< Guards records.
    /// By key.
    std::unordered_map<std::string, idempotency_record, text_hash, std::equal_to<>> records;
};

/// The outbox: one lock, taken only by commits that enqueue and by the
/// dispatcher's calls. Ids are dense from 1, so entry `id` is entries[id − 1].
struct alignas(64) outbox_state {
    std::mutex mutex;                  ///< Guards everything below.
    std::uint64_t next_id{1};          ///< The id the next enqueued notification gets.
    std::deque<outbox_entry> entries;  ///< Every entry ever enqueued, by id.
    /// Ids not yet delivered, ascending, so claims skip the delivered backlog.
    std::set<std::uint64_t> undelivered;
    /// Each order's entry ids, ascending, for outbox_of.
    std::unordered_map<order_id, std::vector<std::uint64_t>> by_order;
};

/// An order a transaction puts, with the version the store must hold for it
/// at commit (0: the order must not exist).
struct pending_order {
    orderly::order value;          ///< What to store.
    std::uint64_t stored_version;  ///< Required committed version.
};

/// A shipment a transaction puts, with the version the store must hold for
/// it at commit (0: the shipment must not exist).
struct pending_shipment {
    orderly::shipment value;       ///< What to store.
    std::uint64_t stored_version;  ///< Required committed version.
};

/// A transfer a transaction puts, with the version the store must hold for
/// it at commit (0: the transfer must not exist).
struct pending_transfer {
    stock_transfer value;          ///< What to store.
    std::uint64_t stored_version;  ///< Required committed version.
};

/// A ticket a transaction puts, with the version the store must hold for it
/// at commit (0: the ticket must not exist).
struct pending_ticket {
    orderly::ticket value;         ///< What to store.
    std::uint64_t stored_version;  ///< Required committed version.
};

/// A case a transaction puts, with the version the store must hold for it
/// at commit (0: the case must not exist).
struct pending_case {
    exception_case value;          ///< What to store.
    std::uint64_t stored_version;  ///< Required committed version.
};

/// An order a transaction archives, with the version the live order must
/// have at commit.
struct pending_archive {
    order_id id;            ///< Which order.
    std::uint64_t version;  ///< Required live version.
};

/// Everything a transaction writes, buffered until commit, in call order.
struct write_set {
    std::vector<pending_order> orders;                          ///< put_order.
    std::vector<pending_shipment> shipments;                    ///< put_shipment.
    std::vector<pending_transfer> transfers;                    ///< put_transfer.
    std::vector<pending_ticket> tickets;                        ///< put_ticket.
    std::vector<pending_case> cases;                            ///< put_case.
    std::vector<pending_archive> archives;                      ///< archive_order.
    std::vector<std::pair<order_id, timeline_entry>> timeline;  ///< append_timeline.
    std::vector<orderly::sku> skus;                             ///< put_sku.
    std::vector<stock_change> stock;                            ///< change_stock.
    std::vector<notification> notifications;                    ///< enqueue.
    std::vector<idempotency_record> idempotency;                ///< put_idempotency.
};

/// The store's data: four sharded maps, the shipments, the transfers, the
/// tickets, the exception cases and the outbox. A plain struct in detail (memory_store::state only
/// derives from it) so the helpers in memory_store.cpp can name it.
struct store_data {
    std::array<stock_shard, shard_count> stock;              ///< Stock rows.
    std::array<order_shard, shard_count> orders;             ///< Orders and timelines.
    shipment_table shipments;                                ///< Shipments.
    transfer_table transfers;                                ///< Stock transfers.
    ticket_table tickets;                                    ///< After-sales tickets.
    case_table cases;                                        ///< Exception cases.
    std::array<sku_shard, shard_count> skus;                 ///< The catalogue.
    std::array<idempotency_shard, shard_count> idempotency;  ///< Idempotency records.
    outbox_state outbox;                                     ///< Notifications.
};

}  // namespace orderly::detail::memory

namespace orderly {

/// The pimpl memory_store declares.
struct memory_store::state : detail::memory::store_data {};

}  // namespace orderly
