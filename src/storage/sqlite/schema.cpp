// The schema, one migration per version. A migration never changes once
// released: a later change is a new migration with the next number, and its
// test opens a database of the previous version.

#include "schema.hpp"

#include "migration_5.hpp"

#include <orderly/ops/exception_case.hpp>

#include <fmt/format.h>

#include <array>

namespace orderly::detail::sqlite {

namespace {

struct migration {
    int to_version;
    const char* sql;
    // What SQL alone cannot do, run after `sql` in the same transaction:
    // bodies decoded and written again with the codec. Null when none.
    result<void> (*rewrite)(connection&) = nullptr;
};

// Version 1. Tables are STRICT (typed) and keyed the way the store reads them.
// orders: the whole order is `body` (JSON, see codec.hpp); the other columns
// repeat fields for indexes and for hosts' own queries.
constexpr const char* version_1 = R"sql(
CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    number     INTEGER NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    state      INTEGER NOT NULL,
    channel    INTEGER NOT NULL,
    customer   TEXT NOT NULL,
    merchant   TEXT NOT NULL,
    total      TEXT NOT NULL,
    currency   TEXT NOT NULL,
    placed_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    due_at     INTEGER,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX orders_by_state ON orders (state, id);
CREATE INDEX orders_by_due ON orders (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX orders_by_customer ON orders (customer, placed_at);

CREATE TABLE timeline (
    order_id   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_role INTEGER NOT NULL,
    event      INTEGER NOT NULL,
    from_state INTEGER,
    to_state   INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE skus (
    id         TEXT PRIMARY KEY,
    merchant   TEXT NOT NULL,
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,
    price      TEXT NOT NULL,
    weight_g   INTEGER NOT NULL,
    volume_cm3 INTEGER NOT NULL,
    fragile    INTEGER NOT NULL,
    liquid     INTEGER NOT NULL,
    valuable   INTEGER NOT NULL,
    restricted INTEGER NOT NULL,
    status     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE stock (
    sku       TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    on_hand   INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved  INTEGER NOT NULL CHECK (reserved >= 0),
    safety    INTEGER NOT NULL CHECK (safety >= 0),
    PRIMARY KEY (sku, warehouse),
    CHECK (on_hand - reserved - safety >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL,
    number          INTEGER NOT NULL,
    kind            INTEGER NOT NULL,
    audience        INTEGER NOT NULL,
    recipient       TEXT NOT NULL,
    message         TEXT NOT NULL,
    details         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered       INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered = 0;
CREATE INDEX outbox_by_order ON outbox (order_id, id);

CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint INTEGER NOT NULL,
    order_id    INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    state       INTEGER NOT NULL,
    payment     INTEGER,
    repeated    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

// Version 2: shipments, stock transfers, the on-hand ledger and low-stock
// alerts. A shipment, like an order, is its JSON `body` (see codec.hpp);
// state and due_at repeat fields for shipments_in_state and due_shipments.
// Order bodies are not rewritten: a body without the "shipments" key (written
// by version 1) decodes with no shipments. A transfer is plain columns.
// stock_moves is the ledger of on-hand changes, in seq (commit) order. Stock
// rows of version 1 read nothing in transit and no alert out; SKUs of version
// 1 have no low-stock threshold, and their idempotency records no transfer.
constexpr const char* version_2 = R"sql(
CREATE TABLE shipments (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL CHECK (version >= 1),
    state   INTEGER NOT NULL,
    due_at  INTEGER,
    body    TEXT NOT NULL
) STRICT;
CREATE INDEX shipments_by_state ON shipments (state, id);
CREATE INDEX shipments_by_due ON shipments (due_at, id) WHERE due_at IS NOT NULL;
ALTER TABLE idempotency ADD COLUMN shipment INTEGER;
ALTER TABLE idempotency ADD COLUMN shipment_status INTEGER;
ALTER TABLE idempotency ADD COLUMN transfer INTEGER;

ALTER TABLE stock ADD COLUMN in_transit INTEGER NOT NULL DEFAULT 0 CHECK (in_transit >= 0);
ALTER TABLE stock ADD COLUMN low_alerted INTEGER NOT NULL DEFAULT 0
    CHECK (low_alerted IN (0, 1));
ALTER TABLE skus ADD COLUMN low_stock_below INTEGER CHECK (low_stock_below >= 0);

CREATE TABLE transfers (
    id             INTEGER PRIMARY KEY,
    version        INTEGER NOT NULL CHECK (version >= 1),
    state          INTEGER NOT NULL,
    sku            TEXT NOT NULL,
    from_warehouse TEXT NOT NULL,
    to_warehouse   TEXT NOT NULL,
    units          INTEGER NOT NULL CHECK (units >= 0),
    reason         TEXT NOT NULL,
    dispatched_at  INTEGER NOT NULL,
    received_at    INTEGER
) STRICT;
CREATE INDEX transfers_by_state ON transfers (state, id);

CREATE TABLE stock_moves (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sku           TEXT NOT NULL,
    warehouse     TEXT NOT NULL,
    at            INTEGER NOT NULL,
    operation     INTEGER NOT NULL,
    units         INTEGER NOT NULL CHECK (units >= 0),
    on_hand_after INTEGER NOT NULL CHECK (on_hand_after >= 0)
) STRICT;
CREATE INDEX stock_moves_by_row ON stock_moves (sku, warehouse, at);
)sql";

// Version 3: after-sales tickets, the damaged bin, and the ticket an
// idempotency record names. A ticket, like a shipment, is its JSON `body`
// (see codec.hpp); order_id, state and due_at repeat fields for the order's
// tickets, tickets_in_state and due_tickets. Order and shipment bodies are not
// rewritten: an order body without "tickets" and "rating" (versions 1 and 2)
// decodes with no tickets and no rating, a shipment body without "ticket"
// with none. Stock rows of earlier versions have nothing in the damaged bin;
// their idempotency records name no ticket.
constexpr const char* version_3 = R"sql(
CREATE TABLE tickets (
    id       INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL CHECK (version >= 1),
    order_id INTEGER NOT NULL,
    state    INTEGER NOT NULL,
    due_at   INTEGER,
    body     TEXT NOT NULL
) STRICT;
CREATE INDEX tickets_by_state ON tickets (state, id);
CREATE INDEX tickets_by_due ON tickets (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX tickets_by_order ON tickets (order_id, id);

ALTER TABLE stock ADD COLUMN damaged INTEGER NOT NULL DEFAULT 0 CHECK (damaged >= 0);

ALTER TABLE idempotency ADD COLUMN ticket INTEGER;
ALTER TABLE idempotency ADD COLUMN ticket_status INTEGER;
)sql";

// Version 4: exception cases, the order archive (R-32) and the case an
// idempotency record names. A case, like a ticket, is its JSON `body` (see
// codec.hpp); state, cause_key and due_at repeat fields for cases_in_state,
// due_cases and find_live_case. The partial unique index cases_live_cause is
// the rule "one cause has at most one live case" (state 5 is closed): SQLite
// refuses the second live case of a cause whichever process writes it. An
// archived order and its timeline move, row for row, to archived_orders and
// archived_timeline (same columns as orders and timeline), so the live tables
// and their indexes stay the size of the live work. Idempotency records of
// earlier versions name no case.
constexpr const char* version_4 = R"sql(
CREATE TABLE cases (
    id        INTEGER PRIMARY KEY,
    version   INTEGER NOT NULL CHECK (version >= 1),
    state     INTEGER NOT NULL,
    cause_key TEXT NOT NULL,
    due_at    INTEGER,
    body      TEXT NOT NULL
) STRICT;
CREATE INDEX cases_by_state ON cases (state, id);
CREATE INDEX cases_by_due ON cases (due_at, id) WHERE due_at IS NOT NULL;
CREATE UNIQUE INDEX cases_live_cause ON cases (cause_key) WHERE state <> 5 AND cause_key <> '';

CREATE TABLE archived_orders (
    id         INTEGER PRIMARY KEY,
    number     INTEGER NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    state      INTEGER NOT NULL,
    channel    INTEGER NOT NULL,
    customer   TEXT NOT NULL,
    merchant   TEXT NOT NULL,
    total      TEXT NOT NULL,
    currency   TEXT NOT NULL,
    placed_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    due_at     INTEGER,
    body       TEXT NOT NULL
) STRICT;

CREATE TABLE archived_timeline (
    order_id   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_role INTEGER NOT NULL,
    event      INTEGER NOT NULL,
    from_state INTEGER,
    to_state   INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
) STRICT, WITHOUT ROWID;

ALTER TABLE idempotency ADD COLUMN case_ref INTEGER;
)sql";

// Version 5: the closure of every lifecycle (issue 15). Transfers can be
// called back (state 3, cancelled) and keep when and why in two new columns;
// older transfers were never cancelled. A shipment can be resolved (state 9):
// a lost or returned parcel put right by a reship or a refund. An order body
// gains its refund ledger ("refunds", added last) and a ticket line its
// refused units ("refused", added last in the line), both read as empty when
// absent. Bodies of version 4 are then rewritten by
// rewrite_bodies_for_version_5 (migration_5.hpp): lost or returned parcels
// already put right become resolved, and every order whose payments gave
// money back gets the ledger the engine would have written, so that
// sum(payments.refunded) equals the ledger except compensations for old
// orders too. New states and kinds (payment_mismatch and parcel_returned
// cases, order_closed and compensation_issued notifications, the returned
// logistics exception, stock recall) need no DDL: the columns hold numbers.
constexpr const char* version_5 = R"sql(
ALTER TABLE transfers ADD COLUMN cancelled_at INTEGER;
ALTER TABLE transfers ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<migration, 5> migrations = {{{1, version_1},
                                                  {2, version_2},
                                                  {3, version_3},
                                                  {4, version_4},
                                                  {5, version_5, &rewrite_bodies_for_version_5}}};

// cases_live_cause names the closed state by its stored number.
static_assert(static_cast<int>(case_state::closed) == 5, "cases_live_cause assumes closed is 5");

static_assert(migrations.back().to_version == sqlite_store::schema_version,
              "the last migration must reach sqlite_store::schema_version");

}  // namespace

result<int> schema_version_of(connection& c) {
    auto query = c.prepare("PRAGMA user_version");
    if (!query) {
        return std::move(query).error();
    }
    auto row = query->step();
    if (!row) {
        return std::move(row).error();
    }
    return static_cast<int>(query->integer(0));
}

result<void> migrate(connection& c) {
    // Read first without the write lock: the common case is a current file.
    auto current = schema_version_of(c);
    if (!current) {
        return std::move(current).error();
    }
    if (*current == sqlite_store::schema_version) {
        return {};
    }
    if (auto began = c.begin_immediate(); !began) {
        return began;
    }
    current = schema_version_of(c);  // another process may have migrated meanwhile
    if (!current) {
        c.rollback();
        return std::move(current).error();
    }
    if (*current > sqlite_store::schema_version) {
        c.rollback();
        return error{
            errc::storage_failure, "path",
            fmt::format("the database {} has schema version {}, newer than the {} this "
                        "build of orderly reads; open it with a newer orderly",
                        c.options().path.string(), *current, sqlite_store::schema_version)};
    }
    for (const migration& step : migrations) {
        if (step.to_version <= *current) {
            continue;
        }
        auto migrated = c.exec(step.sql);
        if (migrated && step.rewrite != nullptr) {
            migrated = step.rewrite(c);
        }
        if (!migrated) {
            c.rollback();
            return error{
                errc::storage_failure, "path",
                fmt::format("cannot migrate {} to schema version {}: {}", c.options().path.string(),
                            step.to_version, migrated.error().message)};
        }
        const std::string set = fmt::format("PRAGMA user_version = {}", step.to_version);
        if (auto done = c.exec(set.c_str()); !done) {
            c.rollback();
            return done;
        }
    }
    return c.commit();
}

}  // namespace orderly::detail::sqlite
