#pragma once
/// \file
/// The embedded default store: one SQLite database file in WAL mode, durable
/// per command (or per batch), safe from many threads and from several
/// processes sharing the file. Link `orderly::sqlite`.

#include <orderly/ports/store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace orderly {

/// How hard a commit works to survive a power loss. Stored nowhere: each
/// process chooses when it opens the file.
enum class sqlite_durability : std::uint8_t {
    /// PRAGMA synchronous=FULL: the write-ahead log is synced at every commit,
    /// so an acknowledged command survives power loss and an OS crash. The default.
    full = 1,
    /// PRAGMA synchronous=NORMAL: survives a crash of the process, but the
    /// last commits before a power loss may be lost (never half-applied).
    /// An explicit opt-in for hosts that accept that.
    normal = 2,
};

/// How to open a SqliteStore.
struct sqlite_options {
    /// The database file; created (with its directory's -wal and -shm
    /// companions) when missing.
    std::filesystem::path path;
    /// FULL unless the host opts in to NORMAL.
    sqlite_durability durability{sqlite_durability::full};
    /// How long a writer waits for another writer (a thread, or another
    /// process) before the command fails with errc::busy.
    std::chrono::milliseconds busy_timeout{5000};
    /// Connections kept open for reuse; more are opened while threads need
    /// them and closed when returned beyond this number.
    std::size_t max_idle_connections{8};
    /// SQLite's page cache per connection, in KiB.
    std::size_t cache_kib{8192};
};

/// How an online backup proceeds.
struct sqlite_backup_options {
    /// Database pages copied per step (-1: all in one step). The copy reads
    /// one snapshot throughout, so writers go on committing between steps
    /// and the backup still finishes.
    int pages_per_step{-1};
    /// Pause between steps, so a large backup leaves room for commands.
    std::chrono::milliseconds pause{0};
};

/// A Store on one SQLite database file. Everything the Store port holds is
/// kept: orders (scalar columns plus their lines, reservations and payments
/// as one JSON body), shipments, after-sales tickets and exception cases
/// (likewise a JSON body beside a few indexed columns), the timeline, SKUs,
/// stock rows with their on-hand ledger and damaged bin, stock transfers, the
/// outbox and idempotency records. Archived orders and their timelines
/// live in tables of their own (archived_orders, archived_timeline), so the
/// live tables and their indexes hold only the live work; the order reads
/// fall back to them. See docs/ARCHITECTURE.md for the schema.
///
/// Each transaction reads committed data through a pooled connection and
/// writes at commit inside one `BEGIN IMMEDIATE` SQLite transaction, where
/// every condition of the Store contract is re-checked with conditional
/// statements (`UPDATE stock … WHERE on_hand - reserved - safety >= n`, a
/// version-checked `UPDATE orders`, a unique idempotency key). "One live case
/// per cause" is a partial unique index on the cases' cause_key (live cases
/// with a key only), so SQLite itself refuses a second live case of a cause,
/// whichever process writes it; the refusal is errc::conflict, field
/// "case.cause_key". Prepared statements are cached per connection.
class sqlite_store final : public store {
public:
    /// The schema version this build creates and reads (`PRAGMA user_version`).
    /// Version 5 added the order's refund ledger (rebuilt for older orders
    /// from their payments, tickets and parcels), a ticket line's refused
    /// units, resolved shipments (older lost or returned parcels put right
    /// become resolved) and cancelled transfers; open() migrates files of
    /// versions 1 to 4.
    static constexpr int schema_version = 5;

    /// Opens (creating or migrating as needed) the database at options.path.
    /// Fails with errc::missing_value (no path) or errc::invalid_value on bad
    /// options, errc::busy when other writers hold the file past busy_timeout,
    /// errc::storage_failure when the file cannot be opened or its schema is
    /// newer than this build.
    [[nodiscard]] static result<std::unique_ptr<sqlite_store>> open(const sqlite_options& options);

    /// Closes every connection.
    ~sqlite_store() override;
    sqlite_store(const sqlite_store&) = delete;             ///< Not copyable.
    sqlite_store& operator=(const sqlite_store&) = delete;  ///< Not copyable.

    /// The options it was opened with.
    [[nodiscard]] const sqlite_options& options() const noexcept;

    /// Copies the whole database, consistent as of one moment, to `target`
    /// (replaced if it exists) while commands keep running: SQLite's online
    /// backup API, a few pages per step. The copy is a database file that
    /// open() or restore_from() accepts.
    [[nodiscard]] result<void> backup_to(const std::filesystem::path& target,
                                         const sqlite_backup_options& how = {});
    /// Replaces this store's whole content with the backup at `source` (made
    /// by backup_to). Run it while no command is in flight: a command racing
    /// with a restore may see either content. Fails with errc::storage_failure
    /// when `source` is not a database of a schema this build reads.
    [[nodiscard]] result<void> restore_from(const std::filesystem::path& source);

    /// Starts a transaction; see the class comment.
    [[nodiscard]] result<std::unique_ptr<store_transaction>> begin() override;
    /// Starts a group commit: one connection holds the write lock from the
    /// batch's first commit to its end; each transaction commits as a
    /// savepoint (all-or-nothing), and the batch's commit makes them durable
    /// with one sync. Other writers wait (up to busy_timeout) while a batch is
    /// open, so keep batches short: hundreds of commands, not millions.
    [[nodiscard]] result<std::unique_ptr<store_batch>> begin_batch() override;

    /// See store::load_order. Reads the live orders, then the archive.
    [[nodiscard]] result<std::optional<order>> load_order(order_id id) override;
    /// See store::timeline. Archived orders keep theirs in archived_timeline.
    [[nodiscard]] result<std::vector<timeline_entry>> timeline(order_id id) override;
    /// See store::orders_in_state. Archived orders are not in it.
    [[nodiscard]] result<std::vector<order_id>> orders_in_state(order_state state, order_id after,
                                                                std::size_t limit) override;
    /// See store::due_orders. Archived orders are not in it.
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
    /// See store::stock_movements. The ledger is the stock_moves table, in
    /// the order its rows were inserted.
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
    /// See store::archived_orders: the ids in the archived_orders table.
    [[nodiscard]] result<std::vector<order_id>> archived_orders(order_id after,
                                                                std::size_t limit) override;
    /// See store::claim_notifications. The claim is one write transaction, so
    /// two processes never receive the same notification within one lease.
    [[nodiscard]] result<std::vector<notification>> claim_notifications(timestamp now,
                                                                        duration lease,
                                                                        std::size_t limit) override;
    /// See store::mark_delivered.
    [[nodiscard]] result<void> mark_delivered(std::uint64_t id) override;
    /// See store::reschedule.
    [[nodiscard]] result<void> reschedule(std::uint64_t id, timestamp next_attempt_at,
                                          std::string_view last_error) override;
    /// See store::outbox_of. Archiving an order does not move its outbox
    /// entries: the outbox is drained by delivery, not by archiving.
    [[nodiscard]] result<std::vector<outbox_entry>> outbox_of(order_id id) override;
    /// See store::undelivered_count.
    [[nodiscard]] result<std::size_t> undelivered_count() override;

    struct state;  ///< Private: the connection pool and options.

private:
    explicit sqlite_store(std::shared_ptr<state> s) noexcept;
    std::shared_ptr<state> state_;  ///< Shared with open transactions.
};

}  // namespace orderly
