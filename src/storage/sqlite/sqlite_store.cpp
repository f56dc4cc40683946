// SqliteStore: a pool of connections to one WAL database file. A transaction
// reads committed rows through its connection and buffers its writes; commit
// takes the write lock (BEGIN IMMEDIATE, or a savepoint inside a batch),
// re-checks every condition of the Store contract against the rows as they
// are now, writes, and commits. Holding SQLite's write lock is what makes the
// read-check-write of a stock row safe across threads and processes.

#include <orderly/storage/sqlite_store.hpp>

#include "../stock_rules.hpp"
#include "codec.hpp"
#include "connection.hpp"
#include "schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace orderly {

using detail::sqlite::connection;
using detail::sqlite::statement;

struct sqlite_store::state {
    explicit state(sqlite_options o) : options(std::move(o)) {}

    sqlite_options options;
    std::mutex mutex;
    std::vector<std::unique_ptr<connection>> idle;

    // Writers of this process queue here before they ask SQLite for its
    // write lock: a mutex hands over in microseconds, where SQLite's busy
    // handler sleeps a millisecond or more. Other processes still meet at
    // SQLite's lock, with its busy timeout.
    std::timed_mutex writer;
    std::atomic<std::thread::id> writer_thread{};

    // A connection from the pool, or a new one. Never blocks on the pool: a
    // thread that holds one connection and asks for another gets it.
    result<std::unique_ptr<connection>> acquire() {
        {
            const std::lock_guard lock(mutex);
            if (!idle.empty()) {
                auto c = std::move(idle.back());
                idle.pop_back();
                return c;
            }
        }
        return connection::open(options);
    }

    void release(std::unique_ptr<connection> c) {
        if (!c) {
            return;
        }
        c->rollback();
        const std::lock_guard lock(mutex);
        if (idle.size() < options.max_idle_connections) {
            idle.push_back(std::move(c));
        }
    }
};

namespace detail::sqlite {
namespace {

// This process's write turn (see state::writer); released when it goes out
// of scope. Taking it is bounded by the busy timeout, like SQLite's lock.
class write_turn {
public:
    write_turn() = default;
    ~write_turn() { release(); }
    write_turn(write_turn&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)) {}
    write_turn& operator=(write_turn&& other) noexcept {
        if (this != &other) {
            release();
            pool_ = std::exchange(other.pool_, nullptr);
        }
        return *this;
    }
    write_turn(const write_turn&) = delete;
    write_turn& operator=(const write_turn&) = delete;

    [[nodiscard]] static result<write_turn> take(sqlite_store::state& pool) {
        if (pool.writer_thread.load(std::memory_order_acquire) == std::this_thread::get_id()) {
            // Waiting would wait for ourselves: this thread has a batch open.
            return error{errc::busy,
                         {},
                         "this thread holds an open batch on the same store; write inside the "
                         "batch or commit it first"};
        }
        // try_lock_until on the system clock, not try_lock_for: libstdc++
        // turns the latter into pthread_mutex_clocklock, which GCC 12's
        // ThreadSanitizer does not intercept. A wall-clock step during the
        // wait can only lengthen or shorten this bounded wait.
        if (!pool.writer.try_lock_until(std::chrono::system_clock::now() +
                                        pool.options.busy_timeout)) {
            return error{
                errc::busy,
                {},
                fmt::format("another writer of this process held the database {} for "
                            "more than {} ms; retry later",
                            pool.options.path.string(), pool.options.busy_timeout.count())};
        }
        pool.writer_thread.store(std::this_thread::get_id(), std::memory_order_release);
        write_turn turn;
        turn.pool_ = &pool;
        return turn;
    }

    void release() noexcept {
        if (pool_ != nullptr) {
            pool_->writer_thread.store(std::thread::id{}, std::memory_order_release);
            pool_->writer.unlock();
            pool_ = nullptr;
        }
    }

private:
    sqlite_store::state* pool_{nullptr};
};

// A pooled connection, returned to the pool when it goes out of scope. It
// shares the pool, so a transaction the host destroys after its store still
// finds the pool (and closes its connection with it).
class lease {
public:
    lease(std::shared_ptr<sqlite_store::state> pool, std::unique_ptr<connection> c) noexcept
        : pool_(std::move(pool)), c_(std::move(c)) {}
    ~lease() {
        if (pool_ != nullptr) {
            pool_->release(std::move(c_));
        }
    }
    lease(lease&& other) noexcept = default;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    lease& operator=(lease&&) = delete;

    connection& operator*() const noexcept { return *c_; }
    connection* operator->() const noexcept { return c_.get(); }
    sqlite_store::state& pool() const noexcept { return *pool_; }

private:
    std::shared_ptr<sqlite_store::state> pool_;
    std::unique_ptr<connection> c_;
};

result<lease> borrow(const std::shared_ptr<sqlite_store::state>& pool) {
    auto c = pool->acquire();
    if (!c) {
        return std::move(c).error();
    }
    return lease(pool, std::move(*c));
}

// ---- conversions -------------------------------------------------------------

std::int64_t stored(std::uint64_t value) noexcept {
    return static_cast<std::int64_t>(value);
}
std::uint64_t loaded(std::int64_t value) noexcept {
    return static_cast<std::uint64_t>(value);
}

// SQLite integers are signed; ids above 2^63−1 would sort below the others.
// `field` is the field a refused write names ("id", "shipment.id").
template <class Id>
result<void> check_stored_id(Id id, std::string_view field, std::string_view what) {
    if (id.value() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return error{
            errc::invalid_value, std::string(field),
            fmt::format("{} id {} is above 2^63-1, the largest SqliteStore keeps", what, id)};
    }
    return {};
}

result<void> check_order_id(order_id id) {
    return check_stored_id(id, "id", "order");
}

result<void> check_shipment_id(shipment_id id) {
    return check_stored_id(id, "shipment.id", "shipment");
}

result<void> check_transfer_id(transfer_id id) {
    return check_stored_id(id, "transfer.id", "transfer");
}

result<void> check_ticket_id(ticket_id id) {
    return check_stored_id(id, "ticket.id", "ticket");
}

result<void> check_case_id(case_id id) {
    return check_stored_id(id, "case.id", "case");
}

std::int64_t clamp_limit(std::size_t limit) noexcept {
    return limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(limit);
}

// ---- reads -------------------------------------------------------------------

// Steps `q` to its end and appends what `read_row` makes of each row: a T, or
// a result<T> whose error ends the read.
template <class T, class ReadRow>
result<std::vector<T>> read_rows(statement& q, ReadRow&& read_row) {
    std::vector<T> rows;
    for (;;) {
        auto row = q.step();
        if (!row) {
            return std::move(row).error();
        }
        if (!*row) {
            return rows;
        }
        auto value = read_row(q);
        if constexpr (std::is_same_v<decltype(value), T>) {
            rows.push_back(std::move(value));
        } else {
            if (!value) {
                return std::move(value).error();
            }
            rows.push_back(std::move(*value));
        }
    }
}

// One aggregate kept as a JSON body (orders, shipments, tickets, cases), or nothing.
template <class T, class Id, class Decode>
result<std::optional<T>> read_body(connection& c, const char* sql, Id id, Decode&& decode) {
    if (auto ok = check_stored_id(id, "id", "stored"); !ok) {
        return std::optional<T>();  // nothing is stored above 2^63−1
    }
    auto q = c.prepare(sql);
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id.value()));
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return std::optional<T>();
    }
    auto decoded = decode(q->text(0));
    if (!decoded) {
        return std::move(decoded).error();
    }
    return std::optional<T>(std::move(*decoded));
}

// A live order, or else an archived one: an order is in one table or the other.
result<std::optional<order>> read_order(connection& c, order_id id) {
    return read_body<order>(c,
                            "SELECT body FROM orders WHERE id = ?1 UNION ALL "
                            "SELECT body FROM archived_orders WHERE id = ?1 LIMIT 1",
                            id, [](std::string_view body) { return decode_order(body); });
}

result<std::optional<shipment>> read_shipment(connection& c, shipment_id id) {
    return read_body<shipment>(c, "SELECT body FROM shipments WHERE id = ?1", id,
                               [](std::string_view body) { return decode_shipment(body); });
}

result<std::optional<ticket>> read_ticket(connection& c, ticket_id id) {
    return read_body<ticket>(c, "SELECT body FROM tickets WHERE id = ?1", id,
                             [](std::string_view body) { return decode_ticket(body); });
}

result<std::optional<exception_case>> read_case(connection& c, case_id id) {
    return read_body<exception_case>(c, "SELECT body FROM cases WHERE id = ?1", id,
                                     [](std::string_view body) { return decode_case(body); });
}

// The live case of a cause. The WHERE repeats cases_live_cause's condition
// word for word, so SQLite reads that partial index.
result<std::optional<exception_case>> read_live_case(connection& c, std::string_view cause_key) {
    if (cause_key.empty()) {
        return std::optional<exception_case>();
    }
    auto q =
        c.prepare("SELECT body FROM cases WHERE cause_key = ?1 AND state <> 5 AND cause_key <> ''");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, cause_key);
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return std::optional<exception_case>();
    }
    auto decoded = decode_case(q->text(0));
    if (!decoded) {
        return std::move(decoded).error();
    }
    return std::optional<exception_case>(std::move(*decoded));
}

result<std::vector<timeline_entry>> read_timeline(connection& c, order_id id) {
    if (auto ok = check_order_id(id); !ok) {
        return std::vector<timeline_entry>();
    }
    // An order's timeline is live or archived as a whole (archive_order moves it).
    auto q = c.prepare(
        "SELECT at, actor_id, actor_role, event, from_state, to_state, reason FROM ("
        "SELECT seq, at, actor_id, actor_role, event, from_state, to_state, reason "
        "FROM timeline WHERE order_id = ?1 UNION ALL "
        "SELECT seq, at, actor_id, actor_role, event, from_state, to_state, reason "
        "FROM archived_timeline WHERE order_id = ?1) ORDER BY seq");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id.value()));
    return read_rows<timeline_entry>(*q, [](statement& r) -> result<timeline_entry> {
        auto role_value = enum_from(r.integer(2), all_roles.back(), "timeline.actor_role");
        auto event = enum_from(r.integer(3), all_order_events.back(), "timeline.event");
        auto to = enum_from(r.integer(5), all_order_states.back(), "timeline.to_state");
        std::optional<order_state> from;
        if (!r.is_null(4)) {
            auto f = enum_from(r.integer(4), all_order_states.back(), "timeline.from_state");
            if (!f) {
                return std::move(f).error();
            }
            from = *f;
        }
        if (!role_value || !event || !to) {
            return !role_value ? role_value.error() : !event ? event.error() : to.error();
        }
        return timeline_entry{.at = from_unix_ms(r.integer(0)),
                              .actor = actor{std::string(r.text(1)), *role_value},
                              .event = *event,
                              .from = from,
                              .to = *to,
                              .reason = std::string(r.text(6))};
    });
}

template <class Id>
result<std::vector<Id>> read_ids(statement& q) {
    return read_rows<Id>(q, [](statement& r) { return Id(loaded(r.integer(0))); });
}

// Ids in a state after `after`, ascending: orders, shipments, transfers, tickets, cases.
// `sql` is "SELECT id FROM <table> WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3".
template <class Id>
result<std::vector<Id>> ids_in_state(connection& c, const char* sql, std::int64_t state, Id after,
                                     std::size_t limit) {
    if (after.value() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::vector<Id>();  // nothing is stored above 2^63−1
    }
    auto q = c.prepare(sql);
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, state).bind(2, stored(after.value())).bind(3, clamp_limit(limit));
    return read_ids<Id>(*q);
}

// Ids whose due_at has come, earliest first. `sql` is "SELECT id FROM <table>
// WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2".
template <class Id>
result<std::vector<Id>> due_ids(connection& c, const char* sql, timestamp now, std::size_t limit) {
    auto q = c.prepare(sql);
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, to_unix_ms(now)).bind(2, clamp_limit(limit));
    return read_ids<Id>(*q);
}

result<std::optional<sku>> read_sku(connection& c, const sku_id& id) {
    auto q = c.prepare(
        "SELECT merchant, name, category, price, weight_g, volume_cm3, fragile, liquid, "
        "valuable, restricted, status, low_stock_below FROM skus WHERE id = ?1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, id.value());
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return std::optional<sku>();
    }
    auto price = money_from(q->text(3), "skus.price");
    auto status = enum_from(q->integer(10), sku_status::off_shelf, "skus.status");
    if (!price || !status) {
        return !price ? price.error() : status.error();
    }
    std::optional<quantity> low_stock_below;
    if (!q->is_null(11)) {
        auto threshold = quantity::of(q->integer(11));
        if (!threshold) {
            return error{errc::storage_failure, "skus.low_stock_below", threshold.error().message};
        }
        low_stock_below = *threshold;
    }
    return std::optional<sku>(sku{.id = id,
                                  .merchant = merchant_id(std::string(q->text(0))),
                                  .name = std::string(q->text(1)),
                                  .category = std::string(q->text(2)),
                                  .price = *price,
                                  .weight_g = q->integer(4),
                                  .volume_cm3 = q->integer(5),
                                  .traits = sku_traits{.fragile = q->integer(6) != 0,
                                                       .liquid = q->integer(7) != 0,
                                                       .valuable = q->integer(8) != 0,
                                                       .restricted = q->integer(9) != 0},
                                  .status = *status,
                                  .low_stock_below = low_stock_below});
}

stock_level level_of(const sku_id& sku, const warehouse_id& warehouse,
                     const detail::stock_counts& counts) {
    // Counts are never negative: the table's CHECK constraints keep them so.
    return stock_level{.sku = sku,
                       .warehouse = warehouse,
                       .on_hand = quantity::of(counts.on_hand).value(),
                       .reserved = quantity::of(counts.reserved).value(),
                       .safety = quantity::of(counts.safety).value(),
                       .in_transit = quantity::of(counts.in_transit).value(),
                       .low_stock_alerted = counts.low_alerted,
                       .damaged = quantity::of(counts.damaged).value()};
}

// The stock columns every stock read selects, in this order.
#define ORDERLY_STOCK_COLUMNS \
    "sku, warehouse, on_hand, reserved, safety, in_transit, low_alerted, damaged"

result<std::vector<stock_level>> read_levels(statement& q) {
    return read_rows<stock_level>(q, [](statement& r) {
        return level_of(sku_id(std::string(r.text(0))), warehouse_id(std::string(r.text(1))),
                        detail::stock_counts{.on_hand = r.integer(2),
                                             .reserved = r.integer(3),
                                             .safety = r.integer(4),
                                             .in_transit = r.integer(5),
                                             .low_alerted = r.integer(6) != 0,
                                             .damaged = r.integer(7)});
    });
}

result<std::vector<stock_level>> read_stock_of(connection& c, const sku_id& id) {
    auto q =
        c.prepare("SELECT " ORDERLY_STOCK_COLUMNS " FROM stock WHERE sku = ?1 ORDER BY warehouse");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, id.value());
    return read_levels(*q);
}

// The transfer columns every transfer read selects, in this order.
#define ORDERLY_TRANSFER_COLUMNS                                                            \
    "id, version, state, sku, from_warehouse, to_warehouse, units, reason, dispatched_at, " \
    "received_at, cancelled_at, cancel_reason"

result<stock_transfer> transfer_row(const statement& q) {
    auto state = enum_from(q.integer(2), all_transfer_states.back(), "transfers.state");
    if (!state) {
        return std::move(state).error();
    }
    auto units = quantity::of(q.integer(6));
    if (!units) {
        return error{errc::storage_failure, "transfers.units", units.error().message};
    }
    const auto optional_time = [&](int column) {
        return q.is_null(column) ? std::optional<timestamp>() : from_unix_ms(q.integer(column));
    };
    return stock_transfer{.id = transfer_id(loaded(q.integer(0))),
                          .version = loaded(q.integer(1)),
                          .sku = sku_id(std::string(q.text(3))),
                          .from = warehouse_id(std::string(q.text(4))),
                          .to = warehouse_id(std::string(q.text(5))),
                          .units = *units,
                          .state = *state,
                          .reason = std::string(q.text(7)),
                          .dispatched_at = from_unix_ms(q.integer(8)),
                          .received_at = optional_time(9),
                          .cancelled_at = optional_time(10),
                          .cancel_reason = std::string(q.text(11))};
}

result<std::optional<stock_transfer>> read_transfer(connection& c, transfer_id id) {
    if (auto ok = check_transfer_id(id); !ok) {
        return std::optional<stock_transfer>();
    }
    auto q = c.prepare("SELECT " ORDERLY_TRANSFER_COLUMNS " FROM transfers WHERE id = ?1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id.value()));
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return std::optional<stock_transfer>();
    }
    auto decoded = transfer_row(*q);
    if (!decoded) {
        return std::move(decoded).error();
    }
    return std::optional<stock_transfer>(std::move(*decoded));
}

result<std::optional<idempotency_record>> read_idempotency(connection& c, std::string_view key) {
    auto q = c.prepare(
        "SELECT fingerprint, order_id, number, state, payment, repeated, created_at, shipment, "
        "shipment_status, transfer, ticket, ticket_status, case_ref FROM idempotency "
        "WHERE key = ?1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, key);
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return std::optional<idempotency_record>();
    }
    command_outcome outcome;
    outcome.order = order_id(loaded(q->integer(1)));
    if (const std::int64_t number = q->integer(2); number != 0) {
        auto parsed = order_number::from_value(loaded(number));
        if (!parsed) {
            return error{errc::storage_failure, "idempotency.number", parsed.error().message};
        }
        outcome.number = *parsed;
    }
    auto state = enum_from(q->integer(3), all_order_states.back(), "idempotency.state");
    if (!state) {
        return std::move(state).error();
    }
    outcome.state = *state;
    if (!q->is_null(4)) {
        auto p = enum_from(q->integer(4), all_payment_states.back(), "idempotency.payment");
        if (!p) {
            return std::move(p).error();
        }
        outcome.payment = *p;
    }
    outcome.repeated = q->integer(5) != 0;
    if (!q->is_null(7)) {
        outcome.shipment = shipment_id(loaded(q->integer(7)));
    }
    if (!q->is_null(8)) {
        auto st =
            enum_from(q->integer(8), all_shipment_states.back(), "idempotency.shipment_status");
        if (!st) {
            return std::move(st).error();
        }
        outcome.shipment_status = *st;
    }
    if (!q->is_null(9)) {
        outcome.transfer = transfer_id(loaded(q->integer(9)));
    }
    if (!q->is_null(10)) {
        outcome.ticket = ticket_id(loaded(q->integer(10)));
    }
    if (!q->is_null(11)) {
        auto st = enum_from(q->integer(11), all_ticket_states.back(), "idempotency.ticket_status");
        if (!st) {
            return std::move(st).error();
        }
        outcome.ticket_status = *st;
    }
    if (!q->is_null(12)) {
        outcome.case_ref = case_id(loaded(q->integer(12)));
    }
    return std::optional<idempotency_record>(
        idempotency_record{.key = std::string(key),
                           .fingerprint = loaded(q->integer(0)),
                           .outcome = outcome,
                           .created_at = from_unix_ms(q->integer(6))});
}

// The outbox columns every outbox read selects, in this order.
#define ORDERLY_OUTBOX_COLUMNS                                                        \
    "id, order_id, number, kind, audience, recipient, message, details, created_at, " \
    "delivered, attempts, next_attempt_at, last_error"

result<outbox_entry> outbox_row(const statement& q) {
    auto kind = enum_from(q.integer(3), all_notification_kinds.back(), "outbox.kind");
    auto to = enum_from(q.integer(4), audience::staff, "outbox.audience");
    auto details = decode_details(q.text(7));
    if (!kind || !to || !details) {
        return !kind ? kind.error() : !to ? to.error() : details.error();
    }
    order_number number;
    if (const std::int64_t value = q.integer(2); value != 0) {
        auto parsed = order_number::from_value(loaded(value));
        if (!parsed) {
            return error{errc::storage_failure, "outbox.number", parsed.error().message};
        }
        number = *parsed;
    }
    const auto attempts = static_cast<std::uint32_t>(q.integer(10));
    return outbox_entry{.notification = notification{.id = loaded(q.integer(0)),
                                                     .kind = *kind,
                                                     .order = order_id(loaded(q.integer(1))),
                                                     .number = number,
                                                     .audience = *to,
                                                     .recipient = std::string(q.text(5)),
                                                     .text = std::string(q.text(6)),
                                                     .details = std::move(*details),
                                                     .created_at = from_unix_ms(q.integer(8)),
                                                     .attempt = attempts},
                        .delivered = q.integer(9) != 0,
                        .attempts = attempts,
                        .next_attempt_at = from_unix_ms(q.integer(11)),
                        .last_error = std::string(q.text(12))};
}

// ---- writes at commit ----------------------------------------------------------

struct write_set {
    std::vector<order> orders;
    std::vector<shipment> shipments;
    std::vector<stock_transfer> transfers;
    std::vector<ticket> tickets;
    std::vector<exception_case> cases;
    std::vector<std::pair<order_id, timeline_entry>> timeline;
    std::vector<std::pair<order_id, std::uint64_t>> archives;  // id, version
    std::vector<sku> skus;
    std::vector<stock_change> stock;
    std::vector<notification> notes;
    std::vector<idempotency_record> idempotency;
};

// The common case in one statement: a reservation that fits. Anything else
// (a refusal, another operation) takes the general path below, which applies
// the shared rules of stock_rules.hpp to the row as read under the write lock.
result<bool> reserve_if_available(connection& c, const stock_change& change) {
    auto q = c.prepare(
        "UPDATE stock SET reserved = reserved + ?3 WHERE sku = ?1 AND warehouse = ?2 AND "
        "on_hand - reserved - safety >= ?3");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, change.sku.value()).bind(2, change.warehouse.value()).bind(3, change.units.units());
    if (auto done = q->run(); !done) {
        return std::move(done).error();
    }
    return q->changes() == 1;
}

result<void> apply_stock(connection& c, const stock_change& change) {
    if (change.operation == stock_operation::reserve) {
        auto reserved = reserve_if_available(c, change);
        if (!reserved || *reserved) {
            return reserved ? result<void>() : result<void>(std::move(reserved).error());
        }
    }
    auto q = c.prepare(
        "SELECT on_hand, reserved, safety, in_transit, low_alerted, damaged FROM stock "
        "WHERE sku = ?1 AND warehouse = ?2");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, change.sku.value()).bind(2, change.warehouse.value());
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    bool exists = *row;
    detail::stock_counts counts;
    if (exists) {
        counts = {.on_hand = q->integer(0),
                  .reserved = q->integer(1),
                  .safety = q->integer(2),
                  .in_transit = q->integer(3),
                  .low_alerted = q->integer(4) != 0,
                  .damaged = q->integer(5)};
    }
    const detail::stock_counts before = counts;
    const auto refusal =
        detail::apply_change(counts, exists, change.operation, change.units.units());
    if (refusal != detail::stock_refusal::none) {
        return detail::stock_error(change, refusal, before);
    }
    // Every change that passes leaves the row existing (those that cannot
    // create it are refused on a missing row).
    auto put = c.prepare(
        "INSERT INTO stock (sku, warehouse, on_hand, reserved, safety, in_transit, low_alerted, "
        "damaged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = excluded.on_hand, "
        "reserved = excluded.reserved, safety = excluded.safety, "
        "in_transit = excluded.in_transit, low_alerted = excluded.low_alerted, "
        "damaged = excluded.damaged");
    if (!put) {
        return std::move(put).error();
    }
    put->bind(1, change.sku.value())
        .bind(2, change.warehouse.value())
        .bind(3, counts.on_hand)
        .bind(4, counts.reserved)
        .bind(5, counts.safety)
        .bind(6, counts.in_transit)
        .bind(7, std::int64_t{counts.low_alerted})
        .bind(8, counts.damaged);
    if (auto done = put->run(); !done) {
        return done;
    }
    if (!detail::moves_on_hand(change.operation)) {
        return {};
    }
    // The ledger: the table's AUTOINCREMENT seq keeps commit order.
    auto move = c.prepare(
        "INSERT INTO stock_moves (sku, warehouse, at, operation, units, on_hand_after) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!move) {
        return std::move(move).error();
    }
    move->bind(1, change.sku.value())
        .bind(2, change.warehouse.value())
        .bind(3, to_unix_ms(change.at))
        .bind(4, static_cast<std::int64_t>(change.operation))
        .bind(5, change.units.units())
        .bind(6, counts.on_hand);
    return move->run();
}

// Binds a time, or NULL for none.
void bind_time(statement& q, int index, const std::optional<timestamp>& at) {
    if (at) {
        q.bind(index, to_unix_ms(*at));
    } else {
        q.bind_null(index);
    }
}

// Runs a versioned insert (version 1, ON CONFLICT DO NOTHING) or update
// (WHERE version = stored − 1) and names the conflict when no row changed:
// `prefix` is "" for orders ("id", "version"), "shipment.", "transfer." or
// "ticket.".
template <class Id>
result<void> run_versioned(statement& q, std::string_view prefix, std::string_view what, Id id,
                           std::uint64_t version) {
    if (auto done = q.run(); !done) {
        return done;
    }
    if (q.changes() == 1) {
        return {};
    }
    if (version == 1) {
        return error{errc::conflict, fmt::format("{}id", prefix),
                     fmt::format("{} {} already exists", what, id)};
    }
    return error{errc::conflict, fmt::format("{}version", prefix),
                 fmt::format("{} {} changed since it was read (expected stored version {})", what,
                             id, version - 1)};
}

// An archived id is taken: inserting it again is refused as a live duplicate
// is (field "id"), and an update finds no live row (field "version").
result<void> apply_order(connection& c, const order& o, std::string& body) {
    if (auto ok = check_order_id(o.id); !ok) {
        return ok;
    }
    encode_order(o, body);
    const std::string total = o.total.to_string();
    const std::string_view code = o.total.currency().code();
    const bool insert = o.version == 1;
    auto q = insert ? c.prepare(
                          "INSERT INTO orders (id, number, version, state, channel, customer, "
                          "merchant, total, currency, placed_at, updated_at, due_at, body) "
                          "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 "
                          "WHERE NOT EXISTS (SELECT 1 FROM archived_orders WHERE id = ?1) "
                          "ON CONFLICT (id) DO NOTHING")
                    : c.prepare(
                          "UPDATE orders SET number = ?2, version = ?3, state = ?4, channel = ?5, "
                          "customer = ?6, merchant = ?7, total = ?8, currency = ?9, "
                          "placed_at = ?10, updated_at = ?11, due_at = ?12, body = ?13 "
                          "WHERE id = ?1 AND version = ?3 - 1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(o.id.value()))
        .bind(2, stored(o.number.value()))
        .bind(3, stored(o.version))
        .bind(4, static_cast<std::int64_t>(o.state))
        .bind(5, static_cast<std::int64_t>(o.channel))
        .bind(6, o.customer.value())
        .bind(7, o.merchant.value())
        .bind(8, total)
        .bind(9, code)
        .bind(10, to_unix_ms(o.placed_at))
        .bind(11, to_unix_ms(o.updated_at))
        .bind(13, body);
    bind_time(*q, 12, o.due_at);
    return run_versioned(*q, "", "order", o.id, o.version);
}

// The version rule of apply_order, with the fields a shipment's conflict names.
result<void> apply_shipment(connection& c, const shipment& s, std::string& body) {
    if (auto ok = check_shipment_id(s.id); !ok) {
        return ok;
    }
    encode_shipment(s, body);
    const bool insert = s.version == 1;
    auto q = insert ? c.prepare(
                          "INSERT INTO shipments (id, version, state, due_at, body) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING")
                    : c.prepare(
                          "UPDATE shipments SET version = ?2, state = ?3, due_at = ?4, body = ?5 "
                          "WHERE id = ?1 AND version = ?2 - 1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(s.id.value()))
        .bind(2, stored(s.version))
        .bind(3, static_cast<std::int64_t>(s.state))
        .bind(5, body);
    bind_time(*q, 4, s.due_at);
    return run_versioned(*q, "shipment.", "shipment", s.id, s.version);
}

// The version rule of apply_order, with the fields a transfer's conflict names.
result<void> apply_transfer(connection& c, const stock_transfer& t) {
    if (auto ok = check_transfer_id(t.id); !ok) {
        return ok;
    }
    const bool insert = t.version == 1;
    auto q = insert ? c.prepare(
                          "INSERT INTO transfers (id, version, state, sku, from_warehouse, "
                          "to_warehouse, units, reason, dispatched_at, received_at, "
                          "cancelled_at, cancel_reason) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                          "ON CONFLICT (id) DO NOTHING")
                    : c.prepare(
                          "UPDATE transfers SET version = ?2, state = ?3, sku = ?4, "
                          "from_warehouse = ?5, to_warehouse = ?6, units = ?7, reason = ?8, "
                          "dispatched_at = ?9, received_at = ?10, cancelled_at = ?11, "
                          "cancel_reason = ?12 WHERE id = ?1 AND version = ?2 - 1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(t.id.value()))
        .bind(2, stored(t.version))
        .bind(3, static_cast<std::int64_t>(t.state))
        .bind(4, t.sku.value())
        .bind(5, t.from.value())
        .bind(6, t.to.value())
        .bind(7, t.units.units())
        .bind(8, t.reason)
        .bind(9, to_unix_ms(t.dispatched_at))
        .bind(12, t.cancel_reason);
    bind_time(*q, 10, t.received_at);
    bind_time(*q, 11, t.cancelled_at);
    return run_versioned(*q, "transfer.", "transfer", t.id, t.version);
}

// The version rule of apply_order, with the fields a ticket's conflict names.
result<void> apply_ticket(connection& c, const ticket& t, std::string& body) {
    if (auto ok = check_ticket_id(t.id); !ok) {
        return ok;
    }
    encode_ticket(t, body);
    const bool insert = t.version == 1;
    auto q = insert ? c.prepare(
                          "INSERT INTO tickets (id, version, order_id, state, due_at, body) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING")
                    : c.prepare(
                          "UPDATE tickets SET version = ?2, order_id = ?3, state = ?4, "
                          "due_at = ?5, body = ?6 WHERE id = ?1 AND version = ?2 - 1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(t.id.value()))
        .bind(2, stored(t.version))
        .bind(3, stored(t.order.value()))
        .bind(4, static_cast<std::int64_t>(t.state))
        .bind(6, body);
    bind_time(*q, 5, t.due_at);
    return run_versioned(*q, "ticket.", "ticket", t.id, t.version);
}

// The version rule of apply_order, with the fields a case's conflict names. A
// second live case of a cause breaks the unique index cases_live_cause: that
// constraint failure is the conflict "case.cause_key".
result<void> apply_case(connection& c, const exception_case& k, std::string& body) {
    if (auto ok = check_case_id(k.id); !ok) {
        return ok;
    }
    encode_case(k, body);
    const bool insert = k.version == 1;
    auto q = insert ? c.prepare(
                          "INSERT INTO cases (id, version, state, cause_key, due_at, body) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING")
                    : c.prepare(
                          "UPDATE cases SET version = ?2, state = ?3, cause_key = ?4, "
                          "due_at = ?5, body = ?6 WHERE id = ?1 AND version = ?2 - 1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(k.id.value()))
        .bind(2, stored(k.version))
        .bind(3, static_cast<std::int64_t>(k.state))
        .bind(4, k.cause_key)
        .bind(6, body);
    bind_time(*q, 5, k.due_at);
    auto done = run_versioned(*q, "case.", "case", k.id, k.version);
    if (!done && done.error().code == errc::conflict && done.error().field.empty()) {
        return error{
            errc::conflict, "case.cause_key",
            fmt::format("another live case holds the cause '{}' of case {}", k.cause_key, k.id)};
    }
    return done;
}

// The transaction's cases in order, except that a case whose cause is still
// held by a live case waits until the others are written (with every later
// write of the same case): a transaction that closes one case of a cause and
// opens the next succeeds whichever it put first.
result<void> apply_cases(connection& c, const std::vector<exception_case>& cases,
                         std::string& body) {
    std::vector<const exception_case*> waiting;
    for (const exception_case& k : cases) {
        const bool follows = std::any_of(waiting.begin(), waiting.end(),
                                         [&](const exception_case* w) { return w->id == k.id; });
        if (!follows) {
            auto done = apply_case(c, k, body);
            if (done) {
                continue;
            }
            if (done.error().field != "case.cause_key") {
                return done;
            }
        }
        waiting.push_back(&k);
    }
    for (const exception_case* k : waiting) {
        if (auto done = apply_case(c, *k, body); !done) {
            return done;
        }
    }
    return {};
}

// Moves an ended order and its timeline to the archive tables, if it is live
// at `version`.
result<void> apply_archive(connection& c, order_id id, std::uint64_t version) {
    if (auto ok = check_order_id(id); !ok) {
        return ok;
    }
    auto q = c.prepare("SELECT version, state FROM orders WHERE id = ?1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id.value()));
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row || loaded(q->integer(0)) != version) {
        return error{errc::conflict, "version",
                     *row ? fmt::format("order {} is stored at version {}, not {}", id,
                                        q->integer(0), version)
                          : fmt::format("order {} is not a live order (unknown or archived)", id)};
    }
    const std::int64_t state = q->integer(1);
    if (state != static_cast<std::int64_t>(order_state::closed) &&
        state != static_cast<std::int64_t>(order_state::cancelled)) {
        return error{
            errc::invalid_value, "state",
            fmt::format("order {} has not ended (closed or cancelled), so it stays live", id)};
    }
    for (const char* sql :
         {"INSERT INTO archived_orders (id, number, version, state, channel, customer, merchant, "
          "total, currency, placed_at, updated_at, due_at, body) SELECT id, number, version, "
          "state, channel, customer, merchant, total, currency, placed_at, updated_at, due_at, "
          "body FROM orders WHERE id = ?1",
          "INSERT INTO archived_timeline (order_id, seq, at, actor_id, actor_role, event, "
          "from_state, to_state, reason) SELECT order_id, seq, at, actor_id, actor_role, event, "
          "from_state, to_state, reason FROM timeline WHERE order_id = ?1",
          "DELETE FROM timeline WHERE order_id = ?1", "DELETE FROM orders WHERE id = ?1"}) {
        auto move = c.prepare(sql);
        if (!move) {
            return std::move(move).error();
        }
        move->bind(1, stored(id.value()));
        if (auto done = move->run(); !done) {
            return done;
        }
    }
    return {};
}

result<void> apply_timeline(connection& c, order_id id, const timeline_entry& e) {
    auto q = c.prepare(
        "INSERT INTO timeline (order_id, seq, at, actor_id, actor_role, event, from_state, "
        "to_state, reason) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM timeline "
        "WHERE order_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id.value()))
        .bind(2, to_unix_ms(e.at))
        .bind(3, e.actor.id)
        .bind(4, static_cast<std::int64_t>(e.actor.role))
        .bind(5, static_cast<std::int64_t>(e.event))
        .bind(7, static_cast<std::int64_t>(e.to))
        .bind(8, e.reason);
    if (e.from) {
        q->bind(6, static_cast<std::int64_t>(*e.from));
    } else {
        q->bind_null(6);
    }
    return q->run();
}

result<void> apply_sku(connection& c, const sku& s) {
    auto q = c.prepare(
        "INSERT INTO skus (id, merchant, name, category, price, weight_g, volume_cm3, fragile, "
        "liquid, valuable, restricted, status, low_stock_below) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
        "?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (id) DO UPDATE SET "
        "merchant = excluded.merchant, name = excluded.name, category = excluded.category, "
        "price = excluded.price, weight_g = excluded.weight_g, volume_cm3 = excluded.volume_cm3, "
        "fragile = excluded.fragile, liquid = excluded.liquid, valuable = excluded.valuable, "
        "restricted = excluded.restricted, status = excluded.status, "
        "low_stock_below = excluded.low_stock_below");
    if (!q) {
        return std::move(q).error();
    }
    const std::string price = s.price.to_string();
    q->bind(1, s.id.value())
        .bind(2, s.merchant.value())
        .bind(3, s.name)
        .bind(4, s.category)
        .bind(5, price)
        .bind(6, s.weight_g)
        .bind(7, s.volume_cm3)
        .bind(8, std::int64_t{s.traits.fragile})
        .bind(9, std::int64_t{s.traits.liquid})
        .bind(10, std::int64_t{s.traits.valuable})
        .bind(11, std::int64_t{s.traits.restricted})
        .bind(12, static_cast<std::int64_t>(s.status));
    if (s.low_stock_below) {
        q->bind(13, s.low_stock_below->units());
    } else {
        q->bind_null(13);
    }
    return q->run();
}

result<void> apply_idempotency(connection& c, const idempotency_record& r) {
    auto q = c.prepare(
        "INSERT INTO idempotency (key, fingerprint, order_id, number, state, payment, repeated, "
        "created_at, shipment, shipment_status, transfer, ticket, ticket_status, case_ref) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
        "ON CONFLICT (key) DO NOTHING");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, r.key)
        .bind(2, stored(r.fingerprint))
        .bind(3, stored(r.outcome.order.value()))
        .bind(4, stored(r.outcome.number.value()))
        .bind(5, static_cast<std::int64_t>(r.outcome.state))
        .bind(7, std::int64_t{r.outcome.repeated})
        .bind(8, to_unix_ms(r.created_at));
    if (r.outcome.payment) {
        q->bind(6, static_cast<std::int64_t>(*r.outcome.payment));
    } else {
        q->bind_null(6);
    }
    if (r.outcome.shipment) {
        q->bind(9, stored(r.outcome.shipment->value()));
    } else {
        q->bind_null(9);
    }
    if (r.outcome.shipment_status) {
        q->bind(10, static_cast<std::int64_t>(*r.outcome.shipment_status));
    } else {
        q->bind_null(10);
    }
    if (r.outcome.transfer) {
        q->bind(11, stored(r.outcome.transfer->value()));
    } else {
        q->bind_null(11);
    }
    if (r.outcome.ticket) {
        q->bind(12, stored(r.outcome.ticket->value()));
    } else {
        q->bind_null(12);
    }
    if (r.outcome.ticket_status) {
        q->bind(13, static_cast<std::int64_t>(*r.outcome.ticket_status));
    } else {
        q->bind_null(13);
    }
    if (r.outcome.case_ref) {
        q->bind(14, stored(r.outcome.case_ref->value()));
    } else {
        q->bind_null(14);
    }
    if (auto done = q->run(); !done) {
        return done;
    }
    if (q->changes() != 1) {
        return error{errc::conflict, "idempotency_key",
                     fmt::format("the key '{}' was stored by a concurrent command", r.key)};
    }
    return {};
}

result<void> apply_note(connection& c, const notification& n, std::string& details) {
    encode_details(n.details, details);
    auto q = c.prepare(
        "INSERT INTO outbox (order_id, number, kind, audience, recipient, message, details, "
        "created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(n.order.value()))
        .bind(2, stored(n.number.value()))
        .bind(3, static_cast<std::int64_t>(n.kind))
        .bind(4, static_cast<std::int64_t>(n.audience))
        .bind(5, n.recipient)
        .bind(6, n.text)
        .bind(7, details)
        .bind(8, to_unix_ms(n.created_at));
    return q->run();
}

// Everything a transaction wrote, checked and applied in the open write
// transaction. Keys first, then versions (orders, shipments, transfers,
// tickets, cases), then stock (as memory_store): a racing retry of the same
// request finds its key taken (conflict, re-run, replay) rather than the stock
// its twin just reserved. Archives come after the timeline, so an order's
// last entries move with it.
result<void> apply(connection& c, const write_set& w) {
    for (const idempotency_record& record : w.idempotency) {
        if (auto r = apply_idempotency(c, record); !r) {
            return r;
        }
    }
    std::string scratch;
    for (const order& o : w.orders) {
        if (auto r = apply_order(c, o, scratch); !r) {
            return r;
        }
    }
    for (const shipment& s : w.shipments) {
        if (auto r = apply_shipment(c, s, scratch); !r) {
            return r;
        }
    }
    for (const stock_transfer& t : w.transfers) {
        if (auto r = apply_transfer(c, t); !r) {
            return r;
        }
    }
    for (const ticket& t : w.tickets) {
        if (auto r = apply_ticket(c, t, scratch); !r) {
            return r;
        }
    }
    if (auto r = apply_cases(c, w.cases, scratch); !r) {
        return r;
    }
    for (const stock_change& change : w.stock) {
        if (auto r = apply_stock(c, change); !r) {
            return r;
        }
    }
    for (const auto& [id, entry] : w.timeline) {
        if (auto r = apply_timeline(c, id, entry); !r) {
            return r;
        }
    }
    for (const auto& [id, version] : w.archives) {
        if (auto r = apply_archive(c, id, version); !r) {
            return r;
        }
    }
    for (const sku& s : w.skus) {
        if (auto r = apply_sku(c, s); !r) {
            return r;
        }
    }
    for (const notification& note : w.notes) {
        if (auto r = apply_note(c, note, scratch); !r) {
            return r;
        }
    }
    return {};
}

// ---- batch and transaction -----------------------------------------------------

class batch final : public store_batch {
public:
    explicit batch(lease held) : held_(std::move(held)) {}
    ~batch() override {
        if (began_ && !done_) {
            held_->rollback();
        }
    }
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;

    result<std::unique_ptr<store_transaction>> begin() override;

    result<void> commit() override {
        if (done_) {
            return error{errc::invalid_value, "batch", "was already committed"};
        }
        done_ = true;
        if (!began_) {
            return {};
        }
        auto committed = held_->commit();
        if (!committed) {
            held_->rollback();
        }
        turn_.release();
        return committed;
    }

    // Opens the batch's write transaction on its first commit.
    result<void> ensure_begun() {
        if (done_) {
            return error{errc::invalid_value, "batch", "was already committed"};
        }
        if (!began_) {
            auto turn = write_turn::take(held_.pool());
            if (!turn) {
                return std::move(turn).error();
            }
            if (auto r = held_->begin_immediate(); !r) {
                return r;
            }
            turn_ = std::move(*turn);
            began_ = true;
        }
        return {};
    }

    connection& db() noexcept { return *held_; }

private:
    lease held_;
    write_turn turn_;  // After held_: released before the connection goes back.
    bool began_{false};
    bool done_{false};
};

class transaction final : public store_transaction {
public:
    // On its own: reads and commits on its pooled connection.
    explicit transaction(lease held) : own_(std::move(held)), c_(&**own_) {}
    // Inside a batch: reads and commits on the batch's connection.
    explicit transaction(batch& in) : c_(&in.db()), batch_(&in) {}

    result<std::optional<order>> find_order(order_id id) override { return read_order(*c_, id); }
    result<void> put_order(const order& o) override {
        if (o.version == 0) {
            return error{errc::invalid_value, "version", "an order's version starts at 1"};
        }
        writes_.orders.push_back(o);
        return {};
    }
    result<void> append_timeline(order_id id, const timeline_entry& entry) override {
        writes_.timeline.emplace_back(id, entry);
        return {};
    }
    result<std::optional<shipment>> find_shipment(shipment_id id) override {
        return read_shipment(*c_, id);
    }
    result<void> put_shipment(const shipment& s) override {
        if (s.version == 0) {
            return error{errc::invalid_value, "shipment.version",
                         "a shipment's version starts at 1"};
        }
        writes_.shipments.push_back(s);
        return {};
    }
    result<std::optional<stock_transfer>> find_transfer(transfer_id id) override {
        return read_transfer(*c_, id);
    }
    result<void> put_transfer(const stock_transfer& t) override {
        if (t.version == 0) {
            return error{errc::invalid_value, "transfer.version",
                         "a transfer's version starts at 1"};
        }
        writes_.transfers.push_back(t);
        return {};
    }
    result<std::optional<ticket>> find_ticket(ticket_id id) override {
        return read_ticket(*c_, id);
    }
    result<void> put_ticket(const ticket& t) override {
        if (t.version == 0) {
            return error{errc::invalid_value, "ticket.version", "a ticket's version starts at 1"};
        }
        writes_.tickets.push_back(t);
        return {};
    }
    result<std::optional<exception_case>> find_case(case_id id) override {
        return read_case(*c_, id);
    }
    result<std::optional<exception_case>> find_live_case(std::string_view cause_key) override {
        return read_live_case(*c_, cause_key);
    }
    result<void> put_case(const exception_case& k) override {
        if (k.version == 0) {
            return error{errc::invalid_value, "case.version", "a case's version starts at 1"};
        }
        writes_.cases.push_back(k);
        return {};
    }
    result<void> archive_order(order_id id, std::uint64_t version) override {
        writes_.archives.emplace_back(id, version);
        return {};
    }
    result<std::optional<sku>> find_sku(const sku_id& id) override { return read_sku(*c_, id); }
    result<void> put_sku(const sku& s) override {
        writes_.skus.push_back(s);
        return {};
    }
    result<std::vector<stock_level>> find_stock(const sku_id& id) override {
        return read_stock_of(*c_, id);
    }
    result<void> change_stock(const stock_change& change) override {
        writes_.stock.push_back(change);
        return {};
    }
    result<void> enqueue(const notification& note) override {
        writes_.notes.push_back(note);
        return {};
    }
    result<std::optional<idempotency_record>> find_idempotency(std::string_view key) override {
        return read_idempotency(*c_, key);
    }
    result<void> put_idempotency(const idempotency_record& record) override {
        writes_.idempotency.push_back(record);
        return {};
    }

    result<void> commit() override {
        if (committed_) {
            return error{errc::invalid_value, "transaction", "was already committed"};
        }
        committed_ = true;
        return batch_ != nullptr ? commit_in_batch() : commit_alone();
    }

private:
    result<void> commit_alone() {
        auto turn = write_turn::take(own_->pool());
        if (!turn) {
            return std::move(turn).error();
        }
        if (auto began = c_->begin_immediate(); !began) {
            return began;
        }
        if (auto applied = apply(*c_, writes_); !applied) {
            c_->rollback();
            return applied;
        }
        if (auto done = c_->commit(); !done) {
            c_->rollback();
            return done;
        }
        return {};
    }

    result<void> commit_in_batch() {
        if (auto began = batch_->ensure_begun(); !began) {
            return began;
        }
        if (auto saved = c_->run("SAVEPOINT orderly_command"); !saved) {
            return saved;
        }
        auto applied = apply(*c_, writes_);
        if (!applied) {
            // Undo this command only; the batch's earlier commands stay.
            if (auto undone = c_->exec("ROLLBACK TO orderly_command; RELEASE orderly_command");
                !undone) {
                return undone;
            }
            return applied;
        }
        return c_->run("RELEASE orderly_command");
    }

    std::optional<lease> own_;
    connection* c_;
    batch* batch_{nullptr};
    write_set writes_;
    bool committed_{false};
};

result<std::unique_ptr<store_transaction>> batch::begin() {
    if (done_) {
        return error{errc::invalid_value, "batch", "was already committed"};
    }
    return std::unique_ptr<store_transaction>(std::make_unique<transaction>(*this));
}

// Runs `work` on a pooled connection.
template <class Work>
auto with_connection(const std::shared_ptr<sqlite_store::state>& pool, Work&& work)
    -> decltype(work(std::declval<connection&>())) {
    auto held = borrow(pool);
    if (!held) {
        return std::move(held).error();
    }
    return work(**held);
}

// The same for a write outside a store transaction (the outbox calls).
template <class Work>
auto with_write_turn(const std::shared_ptr<sqlite_store::state>& pool, Work&& work)
    -> decltype(work(std::declval<connection&>())) {
    auto turn = write_turn::take(*pool);
    if (!turn) {
        return std::move(turn).error();
    }
    return with_connection(pool, std::forward<Work>(work));
}

result<void> validate_options(const sqlite_options& o) {
    if (o.path.empty()) {
        return error{errc::missing_value, "path", "a SqliteStore needs a database file"};
    }
    if (o.path == ":memory:" || o.path.string().starts_with("file:")) {
        return error{errc::invalid_value, "path",
                     "must be a file path; use memory_store for a store in memory"};
    }
    if (o.durability != sqlite_durability::full && o.durability != sqlite_durability::normal) {
        return error{errc::invalid_value, "durability", "must be full or normal"};
    }
    if (o.busy_timeout.count() < 0 || o.busy_timeout.count() > std::numeric_limits<int>::max()) {
        return error{errc::invalid_value, "busy_timeout", "must be from 0 to 2^31-1 milliseconds"};
    }
    if (o.cache_kib == 0 || o.cache_kib > (std::size_t{1} << 30)) {
        return error{errc::invalid_value, "cache_kib", "must be from 1 KiB to 1 TiB"};
    }
    return {};
}

// Inside an explicit transaction, a first read takes the snapshot; it stays
// after the statement is reset, until the transaction ends.
result<void> start_reading(connection& c) {
    auto q = c.prepare("SELECT count(*) FROM sqlite_schema");
    if (!q) {
        return std::move(q).error();
    }
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    return {};
}

// Runs a backup between two open databases to the end, retrying while the
// destination or source is briefly locked, up to `patience`.
result<void> copy_database(sqlite3* to, sqlite3* from, const sqlite_backup_options& how,
                           std::chrono::milliseconds patience, std::string_view what) {
    sqlite3_backup* copy = sqlite3_backup_init(to, "main", from, "main");
    if (copy == nullptr) {
        return error{errc::storage_failure,
                     {},
                     fmt::format("cannot start the {}: {}", what, sqlite3_errmsg(to))};
    }
    const auto deadline = std::chrono::steady_clock::now() + patience;
    int code = SQLITE_OK;
    for (;;) {
        code = sqlite3_backup_step(copy, how.pages_per_step);
        const bool locked = code == SQLITE_BUSY || code == SQLITE_LOCKED;
        if ((code != SQLITE_OK && !locked) ||
            (locked && std::chrono::steady_clock::now() >= deadline)) {
            break;
        }
        if (locked) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else if (how.pause.count() > 0) {
            std::this_thread::sleep_for(how.pause);
        }
    }
    sqlite3_backup_finish(copy);
    if ((code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED) {
        return error{errc::busy,
                     {},
                     fmt::format("the {} found the database locked for more than {} ms", what,
                                 patience.count())};
    }
    if (code != SQLITE_DONE) {
        return error{errc::storage_failure,
                     {},
                     fmt::format("the {} failed: {}", what, sqlite3_errstr(code))};
    }
    return {};
}

}  // namespace
}  // namespace detail::sqlite

// ---- sqlite_store ----------------------------------------------------------------

using namespace detail::sqlite;

sqlite_store::sqlite_store(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
sqlite_store::~sqlite_store() = default;

const sqlite_options& sqlite_store::options() const noexcept {
    return state_->options;
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const sqlite_options& options) {
    if (auto valid = validate_options(options); !valid) {
        return std::move(valid).error();
    }
    auto s = std::make_shared<state>(options);
    auto first = s->acquire();
    if (!first) {
        return std::move(first).error();
    }
    if (auto migrated = migrate(**first); !migrated) {
        return std::move(migrated).error();
    }
    s->release(std::move(*first));
    return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(s)));
}

result<std::unique_ptr<store_transaction>> sqlite_store::begin() {
    auto held = borrow(state_);
    if (!held) {
        return std::move(held).error();
    }
    return std::unique_ptr<store_transaction>(std::make_unique<transaction>(std::move(*held)));
}

result<std::unique_ptr<store_batch>> sqlite_store::begin_batch() {
    auto held = borrow(state_);
    if (!held) {
        return std::move(held).error();
    }
    return std::unique_ptr<store_batch>(std::make_unique<batch>(std::move(*held)));
}

result<std::optional<order>> sqlite_store::load_order(order_id id) {
    return with_connection(state_, [&](connection& c) { return read_order(c, id); });
}

result<std::vector<timeline_entry>> sqlite_store::timeline(order_id id) {
    return with_connection(state_, [&](connection& c) { return read_timeline(c, id); });
}

result<std::vector<order_id>> sqlite_store::orders_in_state(order_state wanted, order_id after,
                                                            std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return ids_in_state(
            c, "SELECT id FROM orders WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            static_cast<std::int64_t>(wanted), after, limit);
    });
}

result<std::vector<order_id>> sqlite_store::due_orders(timestamp now, std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return due_ids<order_id>(c,
                                 "SELECT id FROM orders WHERE due_at IS NOT NULL AND due_at <= ?1 "
                                 "ORDER BY due_at, id LIMIT ?2",
                                 now, limit);
    });
}

result<std::optional<shipment>> sqlite_store::load_shipment(shipment_id id) {
    return with_connection(state_, [&](connection& c) { return read_shipment(c, id); });
}

result<std::vector<shipment_id>> sqlite_store::shipments_in_state(shipment_state wanted,
                                                                  shipment_id after,
                                                                  std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return ids_in_state(
            c, "SELECT id FROM shipments WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            static_cast<std::int64_t>(wanted), after, limit);
    });
}

result<std::vector<shipment_id>> sqlite_store::due_shipments(timestamp now, std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return due_ids<shipment_id>(
            c,
            "SELECT id FROM shipments WHERE due_at IS NOT NULL AND due_at <= ?1 "
            "ORDER BY due_at, id LIMIT ?2",
            now, limit);
    });
}

result<std::optional<sku>> sqlite_store::load_sku(const sku_id& id) {
    return with_connection(state_, [&](connection& c) { return read_sku(c, id); });
}

result<std::optional<stock_level>> sqlite_store::stock(const sku_id& sku,
                                                       const warehouse_id& warehouse) {
    return with_connection(state_, [&](connection& c) -> result<std::optional<stock_level>> {
        auto q = c.prepare("SELECT " ORDERLY_STOCK_COLUMNS
                           " FROM stock WHERE sku = ?1 AND warehouse = ?2");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, sku.value()).bind(2, warehouse.value());
        auto levels = read_levels(*q);
        if (!levels) {
            return std::move(levels).error();
        }
        if (levels->empty()) {
            return std::optional<stock_level>();
        }
        return std::optional<stock_level>(std::move(levels->front()));
    });
}

result<std::vector<stock_level>> sqlite_store::all_stock() {
    return with_connection(state_, [&](connection& c) -> result<std::vector<stock_level>> {
        auto q = c.prepare("SELECT " ORDERLY_STOCK_COLUMNS " FROM stock ORDER BY sku, warehouse");
        if (!q) {
            return std::move(q).error();
        }
        return read_levels(*q);
    });
}

result<std::vector<stock_movement>> sqlite_store::stock_movements(const sku_id& sku,
                                                                  const warehouse_id& warehouse,
                                                                  timestamp from, timestamp to) {
    return with_connection(state_, [&](connection& c) -> result<std::vector<stock_movement>> {
        auto q = c.prepare(
            "SELECT at, operation, units, on_hand_after FROM stock_moves "
            "WHERE sku = ?1 AND warehouse = ?2 AND at >= ?3 AND at < ?4 ORDER BY seq");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, sku.value())
            .bind(2, warehouse.value())
            .bind(3, to_unix_ms(from))
            .bind(4, to_unix_ms(to));
        return read_rows<stock_movement>(*q, [](statement& r) -> result<stock_movement> {
            auto operation =
                enum_from(r.integer(1), stock_operation::to_damaged_bin, "stock_moves.operation");
            auto units = quantity::of(r.integer(2));
            auto after = quantity::of(r.integer(3));
            if (!operation) {
                return std::move(operation).error();
            }
            if (!units || !after) {
                return error{errc::storage_failure, "stock_moves",
                             "holds a negative count, which orderly never writes"};
            }
            return stock_movement{.at = from_unix_ms(r.integer(0)),
                                  .operation = *operation,
                                  .units = *units,
                                  .on_hand_after = *after};
        });
    });
}

result<std::optional<stock_transfer>> sqlite_store::load_transfer(transfer_id id) {
    return with_connection(state_, [&](connection& c) { return read_transfer(c, id); });
}

result<std::vector<transfer_id>> sqlite_store::transfers_in_state(transfer_state wanted,
                                                                  transfer_id after,
                                                                  std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return ids_in_state(
            c, "SELECT id FROM transfers WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            static_cast<std::int64_t>(wanted), after, limit);
    });
}

result<std::optional<ticket>> sqlite_store::load_ticket(ticket_id id) {
    return with_connection(state_, [&](connection& c) { return read_ticket(c, id); });
}

result<std::vector<ticket_id>> sqlite_store::tickets_in_state(ticket_state wanted, ticket_id after,
                                                              std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return ids_in_state(
            c, "SELECT id FROM tickets WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            static_cast<std::int64_t>(wanted), after, limit);
    });
}

result<std::vector<ticket_id>> sqlite_store::due_tickets(timestamp now, std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return due_ids<ticket_id>(
            c,
            "SELECT id FROM tickets WHERE due_at IS NOT NULL AND due_at <= ?1 "
            "ORDER BY due_at, id LIMIT ?2",
            now, limit);
    });
}

result<std::optional<exception_case>> sqlite_store::load_case(case_id id) {
    return with_connection(state_, [&](connection& c) { return read_case(c, id); });
}

result<std::vector<case_id>> sqlite_store::cases_in_state(case_state wanted, case_id after,
                                                          std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return ids_in_state(
            c, "SELECT id FROM cases WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            static_cast<std::int64_t>(wanted), after, limit);
    });
}

result<std::vector<case_id>> sqlite_store::due_cases(timestamp now, std::size_t limit) {
    return with_connection(state_, [&](connection& c) {
        return due_ids<case_id>(c,
                                "SELECT id FROM cases WHERE due_at IS NOT NULL AND due_at <= ?1 "
                                "ORDER BY due_at, id LIMIT ?2",
                                now, limit);
    });
}

result<std::vector<order_id>> sqlite_store::archived_orders(order_id after, std::size_t limit) {
    return with_connection(state_, [&](connection& c) -> result<std::vector<order_id>> {
        if (after.value() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::vector<order_id>();
        }
        auto q = c.prepare("SELECT id FROM archived_orders WHERE id > ?1 ORDER BY id LIMIT ?2");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, stored(after.value())).bind(2, clamp_limit(limit));
        return read_ids<order_id>(*q);
    });
}

result<std::vector<notification>> sqlite_store::claim_notifications(timestamp now, duration lease,
                                                                    std::size_t limit) {
    return with_write_turn(state_, [&](connection& c) -> result<std::vector<notification>> {
        // One statement is one write transaction: two claimers, in this
        // process or another, are serialised by SQLite's write lock.
        auto q = c.prepare(
            "UPDATE outbox SET next_attempt_at = ?2, attempts = attempts + 1 WHERE id IN "
            "(SELECT id FROM outbox WHERE delivered = 0 AND next_attempt_at <= ?1 ORDER BY id "
            "LIMIT ?3) RETURNING " ORDERLY_OUTBOX_COLUMNS);
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, to_unix_ms(now)).bind(2, to_unix_ms(now + lease)).bind(3, clamp_limit(limit));
        auto rows = read_rows<outbox_entry>(*q, outbox_row);
        if (!rows) {
            return std::move(rows).error();
        }
        std::vector<notification> claimed;
        claimed.reserve(rows->size());
        for (outbox_entry& entry : *rows) {
            claimed.push_back(std::move(entry.notification));
        }
        // RETURNING gives no order; the contract says oldest first.
        std::sort(claimed.begin(), claimed.end(),
                  [](const notification& a, const notification& b) { return a.id < b.id; });
        return claimed;
    });
}

namespace {

result<void> check_notification_exists(connection& c, std::uint64_t id) {
    auto q = c.prepare("SELECT 1 FROM outbox WHERE id = ?1");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(id));
    auto row = q->step();
    if (!row) {
        return std::move(row).error();
    }
    if (!*row) {
        return error{errc::not_found, "id", fmt::format("there is no notification {}", id)};
    }
    return {};
}

}  // namespace

result<void> sqlite_store::mark_delivered(std::uint64_t id) {
    return with_write_turn(state_, [&](connection& c) -> result<void> {
        auto q = c.prepare("UPDATE outbox SET delivered = 1 WHERE id = ?1");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, stored(id));
        if (auto done = q->run(); !done) {
            return done;
        }
        if (q->changes() == 0) {
            return check_notification_exists(c, id);
        }
        return {};
    });
}

result<void> sqlite_store::reschedule(std::uint64_t id, timestamp next_attempt_at,
                                      std::string_view last_error) {
    return with_write_turn(state_, [&](connection& c) -> result<void> {
        // A delivered entry stays delivered: a late failure report from a
        // dispatcher whose lease ran out must not bring it back.
        auto q = c.prepare(
            "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1 AND "
            "delivered = 0");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, stored(id)).bind(2, to_unix_ms(next_attempt_at)).bind(3, last_error);
        if (auto done = q->run(); !done) {
            return done;
        }
        if (q->changes() == 0) {
            return check_notification_exists(c, id);
        }
        return {};
    });
}

result<std::vector<outbox_entry>> sqlite_store::outbox_of(order_id id) {
    return with_connection(state_, [&](connection& c) -> result<std::vector<outbox_entry>> {
        std::vector<outbox_entry> entries;
        if (auto ok = check_order_id(id); !ok) {
            return entries;
        }
        auto q = c.prepare("SELECT " ORDERLY_OUTBOX_COLUMNS
                           " FROM outbox WHERE order_id = ?1 ORDER BY id");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, stored(id.value()));
        return read_rows<outbox_entry>(*q, outbox_row);
    });
}

result<std::size_t> sqlite_store::undelivered_count() {
    return with_connection(state_, [&](connection& c) -> result<std::size_t> {
        auto q = c.prepare("SELECT count(*) FROM outbox WHERE delivered = 0");
        if (!q) {
            return std::move(q).error();
        }
        auto row = q->step();
        if (!row) {
            return std::move(row).error();
        }
        return static_cast<std::size_t>(q->integer(0));
    });
}

result<void> sqlite_store::backup_to(const std::filesystem::path& target,
                                     const sqlite_backup_options& how) {
    if (target.empty()) {
        return error{errc::missing_value, "target", "a backup needs a file"};
    }
    if (how.pages_per_step == 0 || how.pause.count() < 0) {
        return error{errc::invalid_value, "how",
                     "pages_per_step must not be 0 (-1 copies everything in one step) and "
                     "pause must not be negative"};
    }
    // A stale -wal or -shm beside the target (an interrupted earlier backup)
    // would be read as part of the new file: remove them too.
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(target.string() + suffix, ignored);
    }
    sqlite_options target_options = state_->options;
    target_options.path = target;
    auto to = connection::open(target_options);
    if (!to) {
        return std::move(to).error().within("target");
    }
    return with_connection(state_, [&](connection& from) -> result<void> {
        // A read transaction on the source pins one snapshot for the whole
        // copy (WAL: writers go on). Without it SQLite restarts a stepped
        // backup whenever a command commits, and under steady load it would
        // never finish.
        if (auto began = from.run("BEGIN"); !began) {
            return began;
        }
        if (auto read = start_reading(from); !read) {
            from.rollback();
            return read;
        }
        auto copied = copy_database((*to)->handle(), from.handle(), how,
                                    state_->options.busy_timeout, "backup");
        from.rollback();  // ends the read transaction; nothing was written
        return copied;
    });
}

result<void> sqlite_store::restore_from(const std::filesystem::path& source) {
    sqlite_options source_options = state_->options;
    source_options.path = source;
    if (!std::filesystem::exists(source)) {
        return error{errc::not_found, "source",
                     fmt::format("there is no backup file {}", source.string())};
    }
    auto from = connection::open(source_options);
    if (!from) {
        return std::move(from).error().within("source");
    }
    auto version = schema_version_of(**from);
    if (!version) {
        return std::move(version).error().within("source");
    }
    if (*version < 1 || *version > schema_version) {
        return error{errc::storage_failure, "source",
                     fmt::format("{} has schema version {}; this build restores versions 1 to {}",
                                 source.string(), *version, schema_version)};
    }
    return with_write_turn(state_, [&](connection& to) -> result<void> {
        if (auto copied = copy_database(to.handle(), (*from)->handle(), {-1, {}},
                                        state_->options.busy_timeout, "restore");
            !copied) {
            return copied;
        }
        return migrate(to);
    });
}

}  // namespace orderly
