// SqliteStore on its own: schema creation and versions, the migration from
// each earlier version, refusal of files it cannot read, option checks, the
// bounded wait for the write lock, both durability modes, online backup and
// restore (R-35), and what the schema itself enforces for exception cases
// (one live case per cause) and the order archive (R-32).

#include "storage_checks.hpp"

#include <orderly/testing/store_conformance.hpp>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

using namespace orderly;
using namespace orderly::storage_test;

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::unique_ptr<engine_on_file> open_engine(const sqlite_options& options, unsigned node) {
    auto opened = engine_on_file::open(options, node, workload_stock);
    REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
    return std::move(*opened);
}

store_dump dump_of(store& s) {
    auto d = read_dump(s, workload_skus);
    REQUIRE_MESSAGE(d.has_value(), to_string(d.error()));
    return std::move(*d);
}

void check_invariants(store& s) {
    const auto problems = check_dump(dump_of(s), received_of(workload_stock), workload_settings(0));
    CHECK_MESSAGE(problems.empty(), joined(problems));
}

const std::array<std::pair<std::string_view, std::int64_t>, 2> two_lines{{{"tea", 2}, {"cup", 1}}};

// Places an order under `key` and, for every other one, pays it in full.
result<command_outcome> place_and_maybe_pay(engine_on_file& e, const std::string& key, bool pay) {
    auto placed = e.engine->place_order(command_context{test::admin, key}, order_for(two_lines));
    if (!placed || !pay) {
        return placed;
    }
    auto o = e.store->load_order(placed->order);
    if (!o || !*o) {
        return o ? error{errc::not_found, "", "placed order vanished"} : o.error();
    }
    return e.engine->record_payment(
        command_context{test::gateway, key + "-pay"},
        payment_callback{placed->order, key + "-ref", payment_method::card,
                         payment_callback::outcome::captured, (*o)->total, ""});
}

// An order through its whole life, one cancelled, one cash on delivery.
void run_scenario(engine_on_file& e) {
    auto paid = place_and_maybe_pay(e, "life", true);
    REQUIRE(paid.has_value());
    const order_id id = paid->order;
    engine& en = *e.engine;
    REQUIRE(en.allocate_order(command_context{test::keeper, "alloc"}, id).has_value());
    REQUIRE(en.pack_order(command_context{test::keeper, "pack"}, id).has_value());
    REQUIRE(en.ship_order(command_context{test::keeper, "ship"},
                          shipment_request{id, carrier_id("sf"), "SF1001"})
                .has_value());
    auto delivered = en.deliver_order(command_context{test::keeper, "deliver"}, id);
    REQUIRE(delivered.has_value());
    CHECK(delivered->state == order_state::delivered);
    auto cancelled = place_and_maybe_pay(e, "to-cancel", true);
    REQUIRE(cancelled.has_value());
    REQUIRE(
        en.cancel_order(command_context{test::admin, "cancel"}, cancelled->order, "changed mind")
            .has_value());
    auto cod = en.place_order(command_context{test::admin, "cod"},
                              order_for(two_lines, payment_method::cash_on_delivery));
    REQUIRE(cod.has_value());
    CHECK(cod->state == order_state::paid);
}

std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

}  // namespace

TEST_CASE("the invariant checks find every kind of partial or missing write") {
    temp_dir dir("sqlite-checks");
    const auto e = open_engine(sqlite_options{.path = dir / "orders.db"}, 1);
    run_scenario(*e);
    store_dump d = dump_of(*e->store);
    REQUIRE(d.orders.size() == 3);
    const auto problems = [&] {
        return check_dump(d, received_of(workload_stock), workload_settings(0)).size();
    };
    REQUIRE(problems() == 0);
    order& delivered = d.orders.front();  // the order run through its life
    REQUIRE(delivered.state == order_state::delivered);
    SUBCASE("state written without its timeline entry") {
        delivered.state = order_state::completed;
        CHECK(problems() > 0);
    }
    SUBCASE("a timeline entry lost from the middle") {
        auto& t = d.timelines.front();
        t.erase(t.begin() + 2);
        CHECK(problems() > 0);
    }
    SUBCASE("an outbox entry lost") {
        d.outboxes.front().pop_back();
        --d.undelivered;
        CHECK(problems() > 0);
    }
    SUBCASE("an outbox entry of a muted kind") {
        d.outboxes.front().push_back(d.outboxes.front().back());
        d.outboxes.front().back().notification.kind = notification_kind::completed;
        ++d.undelivered;
        CHECK(problems() > 0);
    }
    SUBCASE("an outbox entry for an order that does not exist") {
        ++d.undelivered;
        CHECK(problems() > 0);
    }
    SUBCASE("a reservation not moved with its order") {
        delivered.reservations.front().state = reservation_state::committed;
        CHECK(problems() > 0);
    }
    SUBCASE("stock reserved without an order") {
        d.stock.front().reserved = test::units(d.stock.front().reserved.units() + 1);
        CHECK(problems() > 0);
    }
    SUBCASE("a shipment that did not take its units off hand") {
        for (stock_level& level : d.stock) {
            level.on_hand = test::units(level.on_hand.units() + 1);
        }
        CHECK(problems() > 0);
    }
    SUBCASE("a capture without its money") {
        delivered.payments.front().captured = test::cny("1.00");
        CHECK(problems() > 0);
    }
}

TEST_CASE("a new file is created at the schema version in WAL mode and reopens with its data") {
    temp_dir dir("sqlite-schema");
    const auto path = dir / "orders.db";
    store_dump before;
    {
        const auto e = open_engine(sqlite_options{.path = path}, 1);
        run_scenario(*e);
        before = dump_of(*e->store);
        CHECK(before.orders.size() == 3);
    }
    {
        raw_db raw(path);
        CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
        CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
    }
    auto reopened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(reopened.has_value());
    const store_dump after = dump_of(**reopened);
    CHECK_MESSAGE(after == before, first_difference(after, before));
    check_invariants(**reopened);
}

TEST_CASE("a transaction or batch destroyed after its store closes its connection cleanly") {
    temp_dir dir("sqlite-outlive");
    const auto path = dir / "orders.db";
    const sku tea{.id = sku_id("tea"),
                  .merchant = {},
                  .name = "Tea",
                  .category = "tea",
                  .price = *money::parse("12.50 CNY"),
                  .weight_g = 100,
                  .volume_cm3 = 100,
                  .traits = {},
                  .status = sku_status::on_sale};
    auto store = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(store.has_value());
    auto committed = (*store)->begin();
    REQUIRE(committed.has_value());
    REQUIRE((*committed)->put_sku(tea).has_value());
    REQUIRE((*committed)->commit().has_value());
    auto open_tx = (*store)->begin();
    REQUIRE(open_tx.has_value());
    REQUIRE((*open_tx)->find_sku(tea.id).has_value());  // holds a read snapshot
    auto batch = (*store)->begin_batch();
    REQUIRE(batch.has_value());
    {
        auto in_batch = (*batch)->begin();
        REQUIRE(in_batch.has_value());
        auto renamed = tea;
        renamed.name = "Green tea";
        REQUIRE((*in_batch)->put_sku(renamed).has_value());
        REQUIRE((*in_batch)->commit().has_value());
    }
    store->reset();  // the store goes first; ASan watches what follows
    committed->reset();
    open_tx->reset();
    batch->reset();  // never committed: its write is undone

    auto reopened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(reopened.has_value());
    const auto loaded = (*reopened)->load_sku(tea.id);
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    CHECK((**loaded).name == "Tea");
}

TEST_CASE("an empty file and an empty SQLite database (version 0) are brought to the schema") {
    temp_dir dir("sqlite-version-0");
    SUBCASE("a file of zero bytes") {
        write_file(dir / "orders.db", "");
    }
    SUBCASE("a database with no table, user_version 0") {
        raw_db raw(dir / "orders.db");
        REQUIRE(raw.exec("CREATE TABLE scratch (x); DROP TABLE scratch;") == SQLITE_OK);
        CHECK(raw.scalar("PRAGMA user_version") == "0");
    }
    {
        const auto e = open_engine(sqlite_options{.path = dir / "orders.db"}, 1);
        run_scenario(*e);
        check_invariants(*e->store);
    }
    raw_db raw(dir / "orders.db");
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
}

TEST_CASE("a file of a newer schema version is refused, naming both versions") {
    temp_dir dir("sqlite-newer");
    const auto path = dir / "orders.db";
    REQUIRE(sqlite_store::open(sqlite_options{.path = path}).has_value());
    const int newer = sqlite_store::schema_version + 41;
    {
        raw_db raw(path);
        REQUIRE(raw.exec(fmt::format("PRAGMA user_version = {}", newer)) == SQLITE_OK);
    }
    auto refused = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::storage_failure);
    const std::string& message = refused.error().message;
    CHECK_MESSAGE(message.find(std::to_string(newer)) != std::string::npos, message);
    CHECK_MESSAGE(message.find(std::to_string(sqlite_store::schema_version)) != std::string::npos,
                  message);
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(newer));  // left as it was

    // Nor is it accepted as a backup to restore.
    const auto e = open_engine(sqlite_options{.path = dir / "other.db"}, 1);
    const store_dump before = dump_of(*e->store);
    auto restored = e->store->restore_from(path);
    REQUIRE_FALSE(restored.has_value());
    CHECK(restored.error().code == errc::storage_failure);
    CHECK(dump_of(*e->store) == before);
}

TEST_CASE("a file that is not a database is refused and left untouched") {
    temp_dir dir("sqlite-garbage");
    const auto path = dir / "orders.db";
    std::string garbage;
    for (int i = 0; i < 400; ++i) {
        garbage += fmt::format("line {} of a file that is not a database\n", i);
    }
    write_file(path, garbage);
    auto refused = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::storage_failure);
    CHECK(file_bytes(path) == garbage);

    const auto e = open_engine(sqlite_options{.path = dir / "other.db"}, 1);
    run_scenario(*e);
    const store_dump before = dump_of(*e->store);
    auto restored = e->store->restore_from(path);
    REQUIRE_FALSE(restored.has_value());
    CHECK(restored.error().code == errc::storage_failure);
    CHECK(file_bytes(path) == garbage);
    CHECK(dump_of(*e->store) == before);
}

TEST_CASE("options are checked before anything is opened") {
    temp_dir dir("sqlite-options");
    auto no_path = sqlite_store::open(sqlite_options{});
    REQUIRE_FALSE(no_path.has_value());
    // errc's own words: missing_value is "a required field is empty".
    CHECK(no_path.error().code == errc::missing_value);
    CHECK(no_path.error().field == "path");
    auto negative = sqlite_store::open(
        sqlite_options{.path = dir / "orders.db", .busy_timeout = milliseconds(-1)});
    REQUIRE_FALSE(negative.has_value());
    CHECK(negative.error().code == errc::invalid_value);
    CHECK(negative.error().field == "busy_timeout");
    CHECK_FALSE(std::filesystem::exists(dir / "orders.db"));

    auto opened = sqlite_store::open(sqlite_options{.path = dir / "orders.db"});
    REQUIRE(opened.has_value());
    auto no_steps = (*opened)->backup_to(dir / "backup.db", {.pages_per_step = 0});
    REQUIRE_FALSE(no_steps.has_value());
    CHECK(no_steps.error().code == errc::invalid_value);
}

TEST_CASE("a writer blocked by another writer fails with busy after the bounded wait") {
    temp_dir dir("sqlite-busy");
    const auto path = dir / "orders.db";
    constexpr milliseconds wait(100);
    const auto e = open_engine(sqlite_options{.path = path, .busy_timeout = wait}, 1);
    const auto request = order_for(two_lines);
    const command_context ctx{test::admin, "blocked"};

    // Times a placement that must fail with busy while the lock is held.
    const auto blocked_placement = [&] {
        const auto started = steady_clock::now();
        auto placed = e->engine->place_order(ctx, request);
        const auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
        INFO("waited " << waited.count() << " ms");
        REQUIRE_FALSE(placed.has_value());
        CHECK_MESSAGE(placed.error().code == errc::busy, to_string(placed.error()));
        CHECK(waited >= wait - milliseconds(10));
        CHECK(waited < wait * 20);
        CHECK(e->store->all_stock().has_value());  // readers are not blocked
    };
    SUBCASE("another connection holds BEGIN IMMEDIATE") {
        raw_db holder(path);
        REQUIRE(holder.exec("BEGIN IMMEDIATE") == SQLITE_OK);
        blocked_placement();
        REQUIRE(holder.exec("COMMIT") == SQLITE_OK);
    }
    SUBCASE("another store on the file has a group commit open") {
        const auto other = open_engine(sqlite_options{.path = path, .busy_timeout = wait}, 2);
        auto batch = other->engine->begin_batch();
        REQUIRE(batch.has_value());
        REQUIRE(
            other->engine->place_order(command_context{test::admin, "in-batch", &*batch}, request)
                .has_value());
        blocked_placement();
        REQUIRE(batch->commit().has_value());
    }
    // The failed attempt stored nothing, so the same key now places the order.
    auto placed = e->engine->place_order(ctx, request);
    REQUIRE_MESSAGE(placed.has_value(), to_string(placed.error()));
    CHECK_FALSE(placed->repeated);
    check_invariants(*e->store);
}

TEST_CASE("both durability modes run the engine and read each other's files") {
    for (const auto& [mode, other] :
         {std::pair{sqlite_durability::full, sqlite_durability::normal},
          std::pair{sqlite_durability::normal, sqlite_durability::full}}) {
        CAPTURE(static_cast<int>(mode));
        temp_dir dir("sqlite-durability");
        const auto path = dir / "orders.db";
        store_dump before;
        {
            const auto e = open_engine(sqlite_options{.path = path, .durability = mode}, 1);
            CHECK(e->store->options().durability == mode);
            run_scenario(*e);
            check_invariants(*e->store);
            before = dump_of(*e->store);
        }
        auto reopened = sqlite_store::open(sqlite_options{.path = path, .durability = other});
        REQUIRE(reopened.has_value());
        CHECK(dump_of(**reopened) == before);
    }
}

namespace {

// Places orders on `e` (paying every other one) from a thread until stopped,
// or until it gives up after `limit`, so a backup that waits for a quiet
// moment still ends.
class background_writer {
public:
    background_writer(engine_on_file& e, std::chrono::seconds limit)
        : thread_([this, &e, limit] { run(e, limit); }) {}
    ~background_writer() { stop(); }
    background_writer(const background_writer&) = delete;
    background_writer& operator=(const background_writer&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    [[nodiscard]] int placed() const { return placed_.load(); }
    [[nodiscard]] int failures() const { return failures_.load(); }
    [[nodiscard]] bool gave_up() const { return gave_up_.load(); }

private:
    void run(engine_on_file& e, std::chrono::seconds limit) {
        const auto end = steady_clock::now() + limit;
        for (int i = 0; !stop_.load(); ++i) {
            if (steady_clock::now() > end) {
                gave_up_ = true;
                return;
            }
            auto done = place_and_maybe_pay(e, fmt::format("w{}", i), i % 2 == 0);
            (done ? placed_ : failures_) += 1;
        }
    }

    std::atomic<bool> stop_{false};
    std::atomic<int> placed_{0};
    std::atomic<int> failures_{0};
    std::atomic<bool> gave_up_{false};
    std::thread thread_;  // last: starts once the counters exist
};

// Backs `source` up while `writer` keeps placing orders: the backup must end
// while the writer still runs, and be a consistent database holding at least
// what was committed before it started.
void backup_while_writing(engine_on_file& source, const background_writer& writer,
                          const std::filesystem::path& target, const sqlite_backup_options& how) {
    CAPTURE(how.pages_per_step);
    const int before = writer.placed();
    const auto started = steady_clock::now();
    auto backed_up = source.store->backup_to(target, how);
    const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
    const int during = writer.placed() - before;
    REQUIRE_MESSAGE(backed_up.has_value(), to_string(backed_up.error()));
    MESSAGE(during << " orders committed during the backup's " << took.count() << " ms");
    CHECK_MESSAGE(!writer.gave_up(), "the backup ended only once the writer had stopped");
    raw_db raw(target);
    CHECK(raw.scalar("PRAGMA integrity_check") == "ok");
    auto copy = sqlite_store::open(sqlite_options{.path = target});
    REQUIRE(copy.has_value());
    check_invariants(**copy);
    CHECK(dump_of(**copy).orders.size() >= static_cast<std::size_t>(before));
}

}  // namespace

TEST_CASE("an online backup taken while orders are placed is consistent and restores equal") {
    temp_dir dir("sqlite-backup");
    const auto source = open_engine(sqlite_options{.path = dir / "source.db"}, 1);
    const auto backup = dir / "backup.db";
    {
        background_writer writer(*source, std::chrono::seconds(10));
        while (writer.placed() < 300 && writer.failures() == 0) {
            std::this_thread::sleep_for(milliseconds(5));
        }
        SUBCASE("default steps") {
            backup_while_writing(*source, writer, backup, {});
        }
        SUBCASE("two pages per step, commands committing between the steps") {
            backup_while_writing(*source, writer, backup,
                                 {.pages_per_step = 2, .pause = milliseconds(1)});
        }
        writer.stop();
        CHECK(writer.failures() == 0);
    }

    // Quiet now: a second backup over the first is equal to the source.
    REQUIRE(source->store->backup_to(backup).has_value());
    const store_dump original = dump_of(*source->store);
    {
        auto copy = sqlite_store::open(sqlite_options{.path = backup});
        REQUIRE(copy.has_value());
        const store_dump copied = dump_of(**copy);
        CHECK_MESSAGE(copied == original, first_difference(copied, original));
    }

    // Restore into a store with other content: equal to the source, with its
    // idempotency records (a repeated key replays the first result).
    const auto target = open_engine(sqlite_options{.path = dir / "target.db"}, 3);
    REQUIRE(place_and_maybe_pay(*target, "target-only", false).has_value());
    REQUIRE(target->store->restore_from(backup).has_value());
    const store_dump restored = dump_of(*target->store);
    CHECK_MESSAGE(restored == original, first_difference(restored, original));
    const command_context first{test::admin, "w1"};
    auto at_source = source->engine->place_order(first, order_for(two_lines));
    auto repeated = target->engine->place_order(first, order_for(two_lines));
    REQUIRE(at_source.has_value());
    REQUIRE(repeated.has_value());
    CHECK(repeated->repeated);
    CHECK(repeated->order == at_source->order);
    REQUIRE(place_and_maybe_pay(*target, "after-restore", true).has_value());
    check_invariants(*target->store);
}

namespace {

// Schema version 1 as released: the migration tests build a file of an
// earlier version by hand, exactly as that version's code left it.
constexpr const char* schema_version_1 = R"sql(
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

// An order body as version-1 code wrote it: no "shipments" key after due_at.
constexpr const char* version_1_order_body =
    R"({"id":77,"number":0,"version":3,"channel":2,"customer":"c-77","merchant":"m-1",)"
    R"("ship_to":{"recipient":"Wang","phone":"","country":"CN","province":"","city":"Hangzhou",)"
    R"("district":"","street":"1 West Lake Rd","postcode":"310000"},)"
    R"("lines":[{"sku":"tea","units":2,"unit_price":"12.50 CNY","discount":"0.00 CNY"}],)"
    R"("subtotal":"25.00 CNY","discount":"0.00 CNY","shipping_fee":"8.00 CNY",)"
    R"("total":"33.00 CNY","method":1,"state":3,"held_from":1,"tags":["vip"],)"
    R"("review_flags":[],"reservations":[{"id":9,"sku":"tea","warehouse":"wh-hz","units":2,)"
    R"("state":1}],"payments":[],"payment_failures":0,"warehouse":"wh-hz","carrier":"",)"
    R"("tracking_number":"","placed_at":1000,"updated_at":2000,"due_at":5000})";

// The order that body holds, as version 2 reads it: no shipments.
order version_1_order() {
    return order{.id = order_id(77),
                 .number = order_number(),
                 .version = 3,
                 .channel = order_channel::mobile_app,
                 .customer = customer_id("c-77"),
                 .merchant = merchant_id("m-1"),
                 .ship_to = address{.recipient = "Wang",
                                    .phone = "",
                                    .country = "CN",
                                    .province = "",
                                    .city = "Hangzhou",
                                    .district = "",
                                    .street = "1 West Lake Rd",
                                    .postcode = "310000"},
                 .lines = {order_line{.sku = sku_id("tea"),
                                      .units = test::units(2),
                                      .unit_price = test::cny("12.50"),
                                      .discount = test::cny("0.00")}},
                 .subtotal = test::cny("25.00"),
                 .discount = test::cny("0.00"),
                 .shipping_fee = test::cny("8.00"),
                 .total = test::cny("33.00"),
                 .method = payment_method::card,
                 .state = order_state::paid,
                 .held_from = order_state::pending_review,
                 .tags = {"vip"},
                 .review_flags = {},
                 .reservations = {reservation{.id = reservation_id(9),
                                              .sku = sku_id("tea"),
                                              .warehouse = warehouse_id("wh-hz"),
                                              .units = test::units(2),
                                              .state = reservation_state::held}},
                 .payments = {},
                 .payment_failures = 0,
                 .shipments = {},
                 .warehouse = warehouse_id("wh-hz"),
                 .carrier = carrier_id(),
                 .tracking_number = {},
                 .placed_at = from_unix_ms(1000),
                 .updated_at = from_unix_ms(2000),
                 .due_at = from_unix_ms(5000)};
}

// A database file at schema version 1 holding order 77, a stock row, a
// catalogue entry and an idempotency record, written by hand.
void write_version_1_file(const std::filesystem::path& path) {
    raw_db raw(path);
    REQUIRE(raw.exec(schema_version_1) == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO stock (sku, warehouse, on_hand, reserved, safety) VALUES "
                     "('tea', 'wh-hz', 9, 2, 1)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO skus (id, merchant, name, category, price, weight_g, "
                     "volume_cm3, fragile, liquid, valuable, restricted, status) VALUES ('tea', "
                     "'m-1', 'Tea', 'food', '12.50 CNY', 100, 200, 0, 1, 0, 0, 1)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO idempotency (key, fingerprint, order_id, number, state, payment, "
                     "repeated, created_at) VALUES ('place_order/old', 5, 77, 0, 3, NULL, 0, "
                     "1000)") == SQLITE_OK);
    REQUIRE(raw.exec(fmt::format(
                "INSERT INTO orders (id, number, version, state, channel, customer, merchant, "
                "total, currency, placed_at, updated_at, due_at, body) VALUES (77, 0, 3, 3, 2, "
                "'c-77', 'm-1', '33.00 CNY', 'CNY', 1000, 2000, 5000, '{}')",
                version_1_order_body)) == SQLITE_OK);
    REQUIRE(raw.exec("PRAGMA user_version = 1") == SQLITE_OK);
    REQUIRE(raw.scalar("PRAGMA user_version") == "1");
}

// Order 77 and its new shipment, committed together.
void commit_order_with_shipment(store& s, const order& o, const shipment& x) {
    auto tx = s.begin();
    REQUIRE(tx.has_value());
    REQUIRE((*tx)->put_order(o).has_value());
    REQUIRE((*tx)->put_shipment(x).has_value());
    const auto committed = (*tx)->commit();
    REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
}

// The stock row of the version-1 file: nothing in transit, no alert out.
stock_level version_1_stock() {
    return stock_level{.sku = sku_id("tea"),
                       .warehouse = warehouse_id("wh-hz"),
                       .on_hand = test::units(9),
                       .reserved = test::units(2),
                       .safety = test::units(1),
                       .in_transit = test::units(0),
                       .low_stock_alerted = false};
}

// The catalogue entry of the version-1 file: no low-stock threshold.
sku version_1_sku() {
    return sku{.id = sku_id("tea"),
               .merchant = merchant_id("m-1"),
               .name = "Tea",
               .category = "food",
               .price = test::cny("12.50"),
               .weight_g = 100,
               .volume_cm3 = 200,
               .traits = sku_traits{.liquid = true},
               .status = sku_status::on_sale,
               .low_stock_below = std::nullopt};
}

void check_migrated_inventory(store& s) {
    const auto level = s.stock(sku_id("tea"), warehouse_id("wh-hz"));
    REQUIRE_MESSAGE(level.has_value(), to_string(level.error()));
    CHECK(*level == std::optional{version_1_stock()});
    const auto all = s.all_stock();
    REQUIRE(all.has_value());
    CHECK(*all == std::vector<stock_level>{version_1_stock()});
    const auto entry = s.load_sku(sku_id("tea"));
    REQUIRE_MESSAGE(entry.has_value(), to_string(entry.error()));
    CHECK(*entry == std::optional{version_1_sku()});
    const auto ledger = s.stock_movements(sku_id("tea"), warehouse_id("wh-hz"), from_unix_ms(0),
                                          from_unix_ms(1'000'000));
    REQUIRE(ledger.has_value());
    CHECK(ledger->empty());
    const auto transfers = s.transfers_in_state(transfer_state::in_transit, transfer_id(), 10);
    REQUIRE(transfers.has_value());
    CHECK(transfers->empty());
    auto tx = s.begin();
    REQUIRE(tx.has_value());
    const auto record = (*tx)->find_idempotency("place_order/old");
    REQUIRE_MESSAGE(record.has_value(), to_string(record.error()));
    REQUIRE(record->has_value());
    CHECK((*record)->outcome == command_outcome{.order = order_id(77),
                                                .number = order_number(),
                                                .state = order_state::paid,
                                                .payment = std::nullopt,
                                                .repeated = false,
                                                .shipment = std::nullopt,
                                                .shipment_status = std::nullopt,
                                                .transfer = std::nullopt});
}

void check_migrated(store& s, const order& expected_order) {
    const auto loaded = s.load_order(order_id(77));
    REQUIRE_MESSAGE(loaded.has_value(), to_string(loaded.error()));
    REQUIRE(loaded->has_value());
    CHECK(**loaded == expected_order);
    const auto paid = s.orders_in_state(order_state::paid, order_id(), 10);
    REQUIRE(paid.has_value());
    CHECK(*paid == std::vector<order_id>{order_id(77)});
}

}  // namespace

TEST_CASE(
    "a file of schema version 1 is migrated to the current version and its old orders and stock "
    "read with defaults") {
    temp_dir dir("sqlite-version-1");
    const auto path = dir / "orders.db";
    write_version_1_file(path);
    const order old = version_1_order();
    {
        auto opened = sqlite_store::open(sqlite_options{.path = path});
        REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
        check_migrated(**opened, old);
        check_migrated_inventory(**opened);

        // The old stock row takes transfers and alerts, and its on-hand
        // changes enter the ledger.
        {
            auto tx = (*opened)->begin();
            REQUIRE(tx.has_value());
            const auto changed = [&](stock_operation operation, std::int64_t units) {
                return (*tx)->change_stock(stock_change{.sku = sku_id("tea"),
                                                        .warehouse = warehouse_id("wh-hz"),
                                                        .operation = operation,
                                                        .units = test::units(units),
                                                        .field = "units",
                                                        .at = from_unix_ms(7000)});
            };
            REQUIRE(changed(stock_operation::dispatch, 6).has_value());
            REQUIRE(changed(stock_operation::expect, 4).has_value());
            REQUIRE(changed(stock_operation::mark_low, 0).has_value());
            REQUIRE((*tx)->put_transfer(testing::detail::plain_transfer(3)).has_value());
            const auto committed = (*tx)->commit();
            REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
        }
        stock_level after = version_1_stock();
        after.on_hand = test::units(3);
        after.in_transit = test::units(4);
        after.low_stock_alerted = true;
        CHECK((*opened)->stock(sku_id("tea"), warehouse_id("wh-hz")).value() ==
              std::optional{after});
        const auto ledger = (*opened)->stock_movements(sku_id("tea"), warehouse_id("wh-hz"),
                                                       from_unix_ms(0), from_unix_ms(10'000));
        REQUIRE(ledger.has_value());
        CHECK(*ledger ==
              std::vector<stock_movement>{stock_movement{.at = from_unix_ms(7000),
                                                         .operation = stock_operation::dispatch,
                                                         .units = test::units(6),
                                                         .on_hand_after = test::units(3)}});
        CHECK((*opened)->load_transfer(transfer_id(3)).value() ==
              std::optional{testing::detail::plain_transfer(3)});
        sku threshold = version_1_sku();
        threshold.low_stock_below = test::units(5);
        {
            auto tx = (*opened)->begin();
            REQUIRE(tx.has_value());
            REQUIRE((*tx)->put_sku(threshold).has_value());
            REQUIRE((*tx)->commit().has_value());
        }
        CHECK((*opened)->load_sku(sku_id("tea")).value() == std::optional{threshold});

        // Shipments can be written and the old order can point at them.
        order next = old;
        next.version = 4;
        next.shipments = {shipment_id(5)};
        const shipment parcel = testing::detail::rich_shipment(5);
        commit_order_with_shipment(**opened, next, parcel);
        const auto loaded = (*opened)->load_shipment(shipment_id(5));
        REQUIRE_MESSAGE(loaded.has_value(), to_string(loaded.error()));
        REQUIRE(loaded->has_value());
        CHECK(**loaded == parcel);
        check_migrated(**opened, next);
    }
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
    CHECK(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
                     "tbl_name = 'shipments' ORDER BY name)") ==
          "shipments,shipments_by_due,shipments_by_state");
    CHECK(raw.scalar("SELECT count(*) FROM shipments") == "1");
    CHECK(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
                     "tbl_name IN ('transfers', 'stock_moves') AND type IN ('table', 'index') "
                     "ORDER BY name)") ==
          "stock_moves,stock_moves_by_row,transfers,"
          "transfers_by_state");
    CHECK(raw.scalar("SELECT count(*) FROM stock_moves") == "1");
    CHECK(raw.scalar("SELECT in_transit || ',' || low_alerted FROM stock") == "4,1");
    CHECK(raw.scalar("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a backup of schema version 1 is migrated when restored") {
    temp_dir dir("sqlite-restore-version-1");
    const auto backup = dir / "backup.db";
    write_version_1_file(backup);
    auto target = sqlite_store::open(sqlite_options{.path = dir / "target.db"});
    REQUIRE(target.has_value());
    const auto restored = (*target)->restore_from(backup);
    REQUIRE_MESSAGE(restored.has_value(), to_string(restored.error()));
    check_migrated(**target, version_1_order());
    check_migrated_inventory(**target);
    commit_order_with_shipment(
        **target,
        [] {
            order next = version_1_order();
            next.version = 4;
            next.shipments = {shipment_id(6)};
            return next;
        }(),
        testing::detail::plain_shipment(6));
    const auto loaded = (*target)->load_shipment(shipment_id(6));
    REQUIRE(loaded.has_value());
    CHECK(*loaded == std::optional{testing::detail::plain_shipment(6)});
}

TEST_CASE("a shipment body changed outside orderly is reported as a storage failure") {
    temp_dir dir("sqlite-shipment-body");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    const shipment parcel = testing::detail::rich_shipment(5);
    {
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_shipment(parcel).has_value());
        REQUIRE((*tx)->commit().has_value());
    }
    raw_db raw(path);
    SUBCASE("a body cut short") {
        REQUIRE(raw.exec("UPDATE shipments SET body = substr(body, 1, 40)") == SQLITE_OK);
    }
    SUBCASE("a shipment state out of range") {
        REQUIRE(raw.exec(fmt::format("UPDATE shipments SET body = json_set(body, '$.state', {})",
                                     static_cast<int>(all_shipment_states.back()) + 1)) ==
                SQLITE_OK);
    }
    SUBCASE("an exception kind out of range") {
        REQUIRE(raw.exec(fmt::format(
                    "UPDATE shipments SET body = json_set(body, '$.exceptions[0].kind', {})",
                    static_cast<int>(logistics_exception_kind::returned) + 1)) == SQLITE_OK);
    }
    SUBCASE("a carrier event that no longer passes validation") {
        REQUIRE(raw.exec("UPDATE shipments SET body = json_set(body, '$.tracking.events[0].id', "
                         "'an id with spaces')") == SQLITE_OK);
    }
    const auto loaded = (*opened)->load_shipment(parcel.id);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == errc::storage_failure);
    CHECK(loaded.error().field == "body");
    CHECK_MESSAGE(loaded.error().message.find("shipment 5") != std::string::npos,
                  loaded.error().message);
}

namespace {

// The migration to schema version 2 as released. A file of version 2 is
// schema_version_1 followed by this, exactly as version-2 code left it.
constexpr const char* schema_version_2_migration = R"sql(
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

// An order body as version-2 code wrote it: "shipments" last, no "tickets"
// and no "rating".
const std::string version_2_order_body =
    std::string(version_1_order_body).substr(0, std::string_view(version_1_order_body).size() - 1) +
    R"(,"shipments":[5]})";

// A shipment body as version-2 code wrote it: "due_at" last, no "ticket".
constexpr const char* version_2_shipment_body =
    R"({"id":5,"version":2,"merchant":"m-1","customer":"c-77",)"
    R"("ship_to":{"recipient":"Wang","phone":"","country":"CN","province":"","city":"Hangzhou",)"
    R"("district":"","street":"1 West Lake Rd","postcode":"310000"},"orders":[77],)"
    R"("warehouse":"wh-hz","shipping_method":"standard",)"
    R"("lines":[{"order":77,"line":0,"sku":"tea","units":2,"reservation":9}],)"
    R"("state":2,"wave":4,"packing":null,"carrier":"","service":1,"tracking_number":"",)"
    R"("shipping_cost":null,"promised_by":null,"tracking":null,"exceptions":[],"replaces":null,)"
    R"("created_at":1500,"updated_at":1600,"shipped_at":null,"delivered_at":null,"due_at":null})";

// The order that body holds, as version 3 reads it: its shipment, no
// tickets, no rating.
order version_2_order() {
    order o = version_1_order();
    o.shipments = {shipment_id(5)};
    return o;
}

// The shipment of the version-2 file, as version 3 reads it: no ticket.
shipment version_2_shipment() {
    return shipment{.id = shipment_id(5),
                    .version = 2,
                    .merchant = merchant_id("m-1"),
                    .customer = customer_id("c-77"),
                    .ship_to = version_1_order().ship_to,
                    .orders = {order_id(77)},
                    .warehouse = warehouse_id("wh-hz"),
                    .shipping_method = "standard",
                    .lines = {shipment_line{.order = order_id(77),
                                            .line = 0,
                                            .sku = sku_id("tea"),
                                            .units = test::units(2),
                                            .reservation = reservation_id(9)}},
                    .state = shipment_state::picking,
                    .wave = 4,
                    .packing = std::nullopt,
                    .carrier = carrier_id(),
                    .service = service_level::standard,
                    .tracking_number = {},
                    .shipping_cost = std::nullopt,
                    .promised_by = std::nullopt,
                    .tracking = std::nullopt,
                    .exceptions = {},
                    .replaces = std::nullopt,
                    .created_at = from_unix_ms(1500),
                    .updated_at = from_unix_ms(1600),
                    .shipped_at = std::nullopt,
                    .delivered_at = std::nullopt,
                    .due_at = std::nullopt,
                    .ticket = std::nullopt};
}

// The stock row of the version-2 file: 3 in transit, alerted, nothing damaged.
stock_level version_2_stock() {
    stock_level level = version_1_stock();
    level.in_transit = test::units(3);
    level.low_stock_alerted = true;
    level.damaged = test::units(0);
    return level;
}

// The idempotency record of the version-2 file: a shipment, no ticket.
command_outcome version_2_outcome() {
    return command_outcome{.order = order_id(77),
                           .number = order_number(),
                           .state = order_state::paid,
                           .payment = std::nullopt,
                           .repeated = false,
                           .shipment = shipment_id(5),
                           .shipment_status = shipment_state::picking,
                           .transfer = transfer_id(3),
                           .ticket = std::nullopt,
                           .ticket_status = std::nullopt};
}

// A database file at schema version 2 holding order 77 with shipment 5, a
// stock row with its ledger, a catalogue entry, a transfer and an
// idempotency record, written by hand.
void write_version_2_file(const std::filesystem::path& path) {
    raw_db raw(path);
    REQUIRE(raw.exec(schema_version_1) == SQLITE_OK);
    REQUIRE(raw.exec(schema_version_2_migration) == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO stock (sku, warehouse, on_hand, reserved, safety, in_transit, "
                     "low_alerted) VALUES ('tea', 'wh-hz', 9, 2, 1, 3, 1)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO stock_moves (sku, warehouse, at, operation, units, "
                     "on_hand_after) VALUES ('tea', 'wh-hz', 500, 4, 9, 9)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO skus (id, merchant, name, category, price, weight_g, "
                     "volume_cm3, fragile, liquid, valuable, restricted, status, low_stock_below) "
                     "VALUES ('tea', 'm-1', 'Tea', 'food', '12.50 CNY', 100, 200, 0, 1, 0, 0, 1, "
                     "NULL)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO transfers (id, version, state, sku, from_warehouse, "
                     "to_warehouse, units, reason, dispatched_at, received_at) VALUES (3, 1, 1, "
                     "'SKU-1', 'WH-A', 'WH-B', 5, 'rebalance', 2000, NULL)") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO idempotency (key, fingerprint, order_id, number, state, payment, "
                     "repeated, created_at, shipment, shipment_status, transfer) VALUES "
                     "('plan/old', 5, 77, 0, 3, NULL, 0, 1000, 5, 2, 3)") == SQLITE_OK);
    REQUIRE(raw.exec(fmt::format(
                "INSERT INTO orders (id, number, version, state, channel, customer, merchant, "
                "total, currency, placed_at, updated_at, due_at, body) VALUES (77, 0, 3, 3, 2, "
                "'c-77', 'm-1', '33.00 CNY', 'CNY', 1000, 2000, 5000, '{}')",
                version_2_order_body)) == SQLITE_OK);
    REQUIRE(raw.exec(fmt::format("INSERT INTO shipments (id, version, state, due_at, body) VALUES "
                                 "(5, 2, 2, NULL, '{}')",
                                 version_2_shipment_body)) == SQLITE_OK);
    REQUIRE(raw.exec("PRAGMA user_version = 2") == SQLITE_OK);
    REQUIRE(raw.scalar("PRAGMA user_version") == "2");
}

// Everything of the version-2 file reads as version 3 reads it.
void check_migrated_from_2(store& s) {
    const auto loaded = s.load_order(order_id(77));
    REQUIRE_MESSAGE(loaded.has_value(), to_string(loaded.error()));
    REQUIRE(loaded->has_value());
    CHECK(**loaded == version_2_order());
    CHECK((*loaded)->tickets.empty());
    CHECK_FALSE((*loaded)->rating.has_value());
    const auto parcel = s.load_shipment(shipment_id(5));
    REQUIRE_MESSAGE(parcel.has_value(), to_string(parcel.error()));
    REQUIRE(parcel->has_value());
    CHECK(**parcel == version_2_shipment());
    const auto level = s.stock(sku_id("tea"), warehouse_id("wh-hz"));
    REQUIRE_MESSAGE(level.has_value(), to_string(level.error()));
    CHECK(*level == std::optional{version_2_stock()});
    const auto all = s.all_stock();
    REQUIRE(all.has_value());
    CHECK(*all == std::vector<stock_level>{version_2_stock()});
    const auto ledger = s.stock_movements(sku_id("tea"), warehouse_id("wh-hz"), from_unix_ms(0),
                                          from_unix_ms(1'000'000));
    REQUIRE(ledger.has_value());
    CHECK(*ledger ==
          std::vector<stock_movement>{stock_movement{.at = from_unix_ms(500),
                                                     .operation = stock_operation::receive,
                                                     .units = test::units(9),
                                                     .on_hand_after = test::units(9)}});
    CHECK(s.load_transfer(transfer_id(3)).value() ==
          std::optional{testing::detail::plain_transfer(3)});
    CHECK(s.load_sku(sku_id("tea")).value() == std::optional{version_1_sku()});
    const auto no_tickets = s.tickets_in_state(ticket_state::submitted, ticket_id(), 10);
    REQUIRE_MESSAGE(no_tickets.has_value(), to_string(no_tickets.error()));
    CHECK(no_tickets->empty());
    const auto none_due = s.due_tickets(from_unix_ms(std::numeric_limits<std::int64_t>::max()), 10);
    REQUIRE(none_due.has_value());
    CHECK(none_due->empty());
    auto tx = s.begin();
    REQUIRE(tx.has_value());
    const auto record = (*tx)->find_idempotency("plan/old");
    REQUIRE_MESSAGE(record.has_value(), to_string(record.error()));
    REQUIRE(record->has_value());
    CHECK((*record)->outcome == version_2_outcome());
}

}  // namespace

TEST_CASE("a file of schema version 2 is migrated to 3 and its old rows read with defaults") {
    temp_dir dir("sqlite-version-2");
    const auto path = dir / "orders.db";
    write_version_2_file(path);
    {
        auto opened = sqlite_store::open(sqlite_options{.path = path});
        REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
        check_migrated_from_2(**opened);

        // The old order takes tickets and a rating, the old shipment a
        // ticket, and tickets are written beside them in one transaction.
        order next = version_2_order();
        next.version = 4;
        next.tickets = {ticket_id(8)};
        next.rating = order_rating{.score = 5, .text = "好", .at = from_unix_ms(9000)};
        shipment replacement = version_2_shipment();
        replacement.version = 3;
        replacement.ticket = ticket_id(8);
        ticket claim = testing::detail::rich_ticket(8);
        claim.order = order_id(77);
        {
            auto tx = (*opened)->begin();
            REQUIRE(tx.has_value());
            REQUIRE((*tx)->put_order(next).has_value());
            REQUIRE((*tx)->put_shipment(replacement).has_value());
            REQUIRE((*tx)->put_ticket(claim).has_value());
            REQUIRE((*tx)
                        ->put_idempotency(idempotency_record{
                            .key = "open_ticket/new",
                            .fingerprint = 6,
                            .outcome = command_outcome{.order = order_id(77),
                                                       .number = order_number(),
                                                       .state = order_state::paid,
                                                       .payment = std::nullopt,
                                                       .repeated = false,
                                                       .shipment = std::nullopt,
                                                       .shipment_status = std::nullopt,
                                                       .transfer = std::nullopt,
                                                       .ticket = ticket_id(8),
                                                       .ticket_status = claim.state},
                            .created_at = from_unix_ms(9000)})
                        .has_value());
            const auto committed = (*tx)->commit();
            REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
        }
        CHECK((*opened)->load_order(order_id(77)).value() == std::optional{next});
        CHECK((*opened)->load_shipment(shipment_id(5)).value() == std::optional{replacement});
        const auto loaded = (*opened)->load_ticket(ticket_id(8));
        REQUIRE_MESSAGE(loaded.has_value(), to_string(loaded.error()));
        CHECK(*loaded == std::optional{claim});
        CHECK((*opened)->tickets_in_state(claim.state, ticket_id(), 10).value() ==
              std::vector<ticket_id>{ticket_id(8)});
        CHECK((*opened)->due_tickets(*claim.due_at, 10).value() ==
              std::vector<ticket_id>{ticket_id(8)});

        // The old stock row takes returned units: restock is in the ledger,
        // the damaged bin is not.
        {
            auto tx = (*opened)->begin();
            REQUIRE(tx.has_value());
            const auto changed = [&](stock_operation operation, std::int64_t units) {
                return (*tx)->change_stock(stock_change{.sku = sku_id("tea"),
                                                        .warehouse = warehouse_id("wh-hz"),
                                                        .operation = operation,
                                                        .units = test::units(units),
                                                        .field = "units",
                                                        .at = from_unix_ms(7000)});
            };
            REQUIRE(changed(stock_operation::restock, 2).has_value());
            REQUIRE(changed(stock_operation::to_damaged_bin, 4).has_value());
            const auto committed = (*tx)->commit();
            REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
        }
        stock_level after = version_2_stock();
        after.on_hand = test::units(11);
        after.damaged = test::units(4);
        CHECK((*opened)->stock(sku_id("tea"), warehouse_id("wh-hz")).value() ==
              std::optional{after});
        const auto ledger = (*opened)->stock_movements(sku_id("tea"), warehouse_id("wh-hz"),
                                                       from_unix_ms(6000), from_unix_ms(10'000));
        REQUIRE(ledger.has_value());
        CHECK(*ledger ==
              std::vector<stock_movement>{stock_movement{.at = from_unix_ms(7000),
                                                         .operation = stock_operation::restock,
                                                         .units = test::units(2),
                                                         .on_hand_after = test::units(11)}});
    }
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
    CHECK(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
                     "tbl_name = 'tickets' ORDER BY name)") ==
          "tickets,tickets_by_due,tickets_by_order,tickets_by_state");
    CHECK(raw.scalar("SELECT order_id || ',' || state || ',' || version FROM tickets") ==
          fmt::format("77,{},1", static_cast<int>(ticket_state::escalated)));
    CHECK(raw.scalar("SELECT damaged FROM stock") == "4");
    CHECK(raw.scalar("SELECT ticket || ',' || ticket_status FROM idempotency WHERE key = "
                     "'open_ticket/new'") ==
          fmt::format("8,{}", static_cast<int>(ticket_state::escalated)));
    CHECK(raw.scalar("SELECT count(*) FROM idempotency WHERE ticket IS NULL") == "1");
    CHECK(raw.scalar("SELECT count(*) FROM stock_moves") == "2");
    CHECK(raw.scalar("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a backup of schema version 2 is migrated when restored") {
    temp_dir dir("sqlite-restore-version-2");
    const auto backup = dir / "backup.db";
    write_version_2_file(backup);
    auto target = sqlite_store::open(sqlite_options{.path = dir / "target.db"});
    REQUIRE(target.has_value());
    const auto restored = (*target)->restore_from(backup);
    REQUIRE_MESSAGE(restored.has_value(), to_string(restored.error()));
    check_migrated_from_2(**target);
    raw_db raw(dir / "target.db");
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
}

TEST_CASE("a ticket body changed outside orderly is reported as a storage failure") {
    temp_dir dir("sqlite-ticket-body");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    const ticket claim = testing::detail::rich_ticket(5);
    {
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_ticket(claim).has_value());
        REQUIRE((*tx)->commit().has_value());
    }
    raw_db raw(path);
    SUBCASE("a body cut short") {
        REQUIRE(raw.exec("UPDATE tickets SET body = substr(body, 1, 40)") == SQLITE_OK);
    }
    SUBCASE("a ticket state out of range") {
        REQUIRE(raw.exec("UPDATE tickets SET body = json_set(body, '$.state', 15)") == SQLITE_OK);
    }
    SUBCASE("a timeline event out of range") {
        REQUIRE(raw.exec("UPDATE tickets SET body = json_set(body, '$.timeline[1].event', 0)") ==
                SQLITE_OK);
    }
    SUBCASE("a refund amount that is not money") {
        REQUIRE(
            raw.exec("UPDATE tickets SET body = json_set(body, '$.refund.total', '12 coins')") ==
            SQLITE_OK);
    }
    SUBCASE("a return parcel without its tracking history") {
        REQUIRE(raw.exec("UPDATE tickets SET body = json_set(body, '$.returned.tracking', "
                         "json('null'))") == SQLITE_OK);
    }
    SUBCASE("a return parcel event that no longer passes validation") {
        REQUIRE(raw.exec("UPDATE tickets SET body = json_set(body, "
                         "'$.returned.tracking.events[0].id', 'an id with spaces')") == SQLITE_OK);
    }
    const auto loaded = (*opened)->load_ticket(claim.id);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == errc::storage_failure);
    CHECK(loaded.error().field == "body");
    CHECK_MESSAGE(loaded.error().message.find("ticket 5") != std::string::npos,
                  loaded.error().message);
}

namespace {

// The migration to schema version 3 as released. A file of version 3 is a
// file of version 2 followed by this, exactly as version-3 code left it.
constexpr const char* schema_version_3_migration = R"sql(
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

// The ticket-command record of the version-3 file: a ticket, no case.
command_outcome version_3_outcome() {
    command_outcome outcome = version_2_outcome();
    outcome.shipment = std::nullopt;
    outcome.shipment_status = std::nullopt;
    outcome.transfer = std::nullopt;
    outcome.ticket = ticket_id(8);
    outcome.ticket_status = ticket_state::submitted;
    return outcome;
}

// The one timeline entry of order 77 in the version-3 file.
timeline_entry version_3_entry() {
    return timeline_entry{.at = from_unix_ms(1000),
                          .actor = actor{"c-77", role::customer},
                          .event = order_event::placed,
                          .from = std::nullopt,
                          .to = order_state::pending_review,
                          .reason = "placed"};
}

// A database file at schema version 3: the version-2 file with the version-3
// migration, a timeline entry for order 77 and a ticket command's
// idempotency record, written by hand.
void write_version_3_file(const std::filesystem::path& path) {
    write_version_2_file(path);
    raw_db raw(path);
    REQUIRE(raw.exec(schema_version_3_migration) == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO timeline (order_id, seq, at, actor_id, actor_role, event, "
                     "from_state, to_state, reason) VALUES (77, 1, 1000, 'c-77', 1, 1, NULL, 1, "
                     "'placed')") == SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO idempotency (key, fingerprint, order_id, number, state, payment, "
                     "repeated, created_at, shipment, shipment_status, transfer, ticket, "
                     "ticket_status) VALUES ('open_ticket/old', 7, 77, 0, 3, NULL, 0, 1100, NULL, "
                     "NULL, NULL, 8, 1)") == SQLITE_OK);
    REQUIRE(raw.exec("PRAGMA user_version = 3") == SQLITE_OK);
    REQUIRE(raw.scalar("PRAGMA user_version") == "3");
}

// Everything of the version-3 file reads as version 4 reads it: no cases,
// nothing archived, records without a case.
void check_migrated_from_3(store& s) {
    check_migrated_from_2(s);
    CHECK(s.timeline(order_id(77)).value() == std::vector<timeline_entry>{version_3_entry()});
    const auto no_cases = s.cases_in_state(case_state::open, case_id(), 10);
    REQUIRE_MESSAGE(no_cases.has_value(), to_string(no_cases.error()));
    CHECK(no_cases->empty());
    const auto none_due = s.due_cases(from_unix_ms(std::numeric_limits<std::int64_t>::max()), 10);
    REQUIRE(none_due.has_value());
    CHECK(none_due->empty());
    const auto archived = s.archived_orders(order_id(), 10);
    REQUIRE_MESSAGE(archived.has_value(), to_string(archived.error()));
    CHECK(archived->empty());
    CHECK(s.load_case(case_id(1)).value() == std::nullopt);
    auto tx = s.begin();
    REQUIRE(tx.has_value());
    const auto record = (*tx)->find_idempotency("open_ticket/old");
    REQUIRE_MESSAGE(record.has_value(), to_string(record.error()));
    REQUIRE(record->has_value());
    CHECK((*record)->outcome == version_3_outcome());
    CHECK_FALSE((*record)->outcome.case_ref.has_value());
}

// A case with every field set, texts that need escaping included.
exception_case full_case(std::uint64_t id, std::string cause_key) {
    const actor keeper{"wh-7", role::warehouse};
    return exception_case{
        .id = case_id(id),
        .version = 1,
        .type = case_type::stock_shortage,
        .priority = case_priority::high,
        .state = case_state::escalated,
        .escalated_from = case_state::acknowledged,
        .cause_key = std::move(cause_key),
        .title = "缺货 \"tea\" \\ 2 units\n",
        .order = order_id(77),
        .shipment = shipment_id(5),
        .ticket = ticket_id(8),
        .sku = sku_id("tea"),
        .warehouse = warehouse_id("wh-hz"),
        .carrier = carrier_id("sf"),
        .merchant = merchant_id("m-1"),
        .owner = "wh-7",
        .notes = {case_note{.at = from_unix_ms(2100), .author = keeper, .text = "recount\t😀"}},
        .timeline = {case_entry{.at = from_unix_ms(2000),
                                .actor = system_actor(),
                                .event = case_event::opened,
                                .from = std::nullopt,
                                .to = case_state::open,
                                .note = "paid units short"},
                     case_entry{.at = from_unix_ms(2050),
                                .actor = keeper,
                                .event = case_event::acknowledged,
                                .from = case_state::open,
                                .to = case_state::acknowledged,
                                .note = ""},
                     case_entry{.at = from_unix_ms(2200),
                                .actor = system_actor(),
                                .event = case_event::deadline_passed,
                                .from = case_state::acknowledged,
                                .to = case_state::escalated,
                                .note = "late"}},
        .resolution = "",
        .resolution_code = "",
        .escalations = 1,
        .opened_at = from_unix_ms(2000),
        .updated_at = from_unix_ms(2200),
        .due_at = from_unix_ms(3000),
        .resolved_at = from_unix_ms(2150),
        .closed_at = std::nullopt};
}

// A fresh case: open, no deadline-related history beyond its opening.
exception_case open_case(std::uint64_t id, std::string cause_key, std::uint64_t version = 1,
                         case_state state = case_state::open) {
    exception_case k = full_case(id, std::move(cause_key));
    k.version = version;
    k.state = state;
    return k;
}

result<void> commit_cases(store& s, std::initializer_list<exception_case> cases) {
    auto tx = s.begin();
    if (!tx) {
        return std::move(tx).error();
    }
    for (const exception_case& k : cases) {
        if (auto put = (*tx)->put_case(k); !put) {
            return put;
        }
    }
    return (*tx)->commit();
}

result<void> commit_archive(store& s, order_id id, std::uint64_t version) {
    auto tx = s.begin();
    if (!tx) {
        return std::move(tx).error();
    }
    if (auto archived = (*tx)->archive_order(id, version); !archived) {
        return archived;
    }
    return (*tx)->commit();
}

result<void> commit_order(store& s, const order& o) {
    auto tx = s.begin();
    if (!tx) {
        return std::move(tx).error();
    }
    if (auto put = (*tx)->put_order(o); !put) {
        return put;
    }
    return (*tx)->commit();
}

void check_refused(const result<void>& r, errc code, std::string_view field) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == code);
    CHECK_MESSAGE(r.error().field == field, to_string(r.error()));
}

}  // namespace

TEST_CASE("a file of schema version 3 is migrated to 4: cases, the archive and case records") {
    temp_dir dir("sqlite-version-3");
    const auto path = dir / "orders.db";
    write_version_3_file(path);
    {
        auto opened = sqlite_store::open(sqlite_options{.path = path});
        REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
        store& s = **opened;
        check_migrated_from_3(s);

        // A case and the record of the command that opened it.
        const exception_case shortage = full_case(9, "stock_shortage:order:77");
        {
            auto tx = s.begin();
            REQUIRE(tx.has_value());
            REQUIRE((*tx)->put_case(shortage).has_value());
            command_outcome outcome = version_3_outcome();
            outcome.ticket = std::nullopt;
            outcome.ticket_status = std::nullopt;
            outcome.case_ref = case_id(9);
            REQUIRE((*tx)
                        ->put_idempotency(idempotency_record{.key = "open_case/new",
                                                             .fingerprint = 8,
                                                             .outcome = outcome,
                                                             .created_at = from_unix_ms(2000)})
                        .has_value());
            const auto committed = (*tx)->commit();
            REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
            auto read = s.begin();
            REQUIRE(read.has_value());
            CHECK((*read)->find_idempotency("open_case/new").value()->outcome == outcome);
        }
        CHECK(s.load_case(case_id(9)).value() == std::optional{shortage});
        CHECK(s.cases_in_state(case_state::escalated, case_id(), 10).value() ==
              std::vector<case_id>{case_id(9)});
        CHECK(s.due_cases(from_unix_ms(3000), 10).value() == std::vector<case_id>{case_id(9)});
        CHECK(s.due_cases(from_unix_ms(2999), 10).value().empty());

        // The old order is archived once it has ended, at its stored version.
        check_refused(commit_archive(s, order_id(77), 3), errc::invalid_value, "state");
        order closed = version_2_order();
        closed.version = 4;
        closed.state = order_state::closed;
        closed.due_at = std::nullopt;
        REQUIRE(commit_order(s, closed).has_value());
        check_refused(commit_archive(s, order_id(77), 3), errc::conflict, "version");
        const auto archived = commit_archive(s, order_id(77), 4);
        REQUIRE_MESSAGE(archived.has_value(), to_string(archived.error()));
        check_refused(commit_archive(s, order_id(77), 4), errc::conflict, "version");

        CHECK(s.load_order(order_id(77)).value() == std::optional{closed});
        CHECK(s.timeline(order_id(77)).value() == std::vector<timeline_entry>{version_3_entry()});
        CHECK(s.orders_in_state(order_state::closed, order_id(), 10).value().empty());
        CHECK(s.archived_orders(order_id(), 10).value() == std::vector<order_id>{order_id(77)});
        CHECK(s.archived_orders(order_id(77), 10).value().empty());
        {
            auto tx = s.begin();
            REQUIRE(tx.has_value());
            CHECK((*tx)->find_order(order_id(77)).value() == std::optional{closed});
        }
        order again = closed;
        again.version = 1;
        check_refused(commit_order(s, again), errc::conflict, "id");
        again.version = 5;
        check_refused(commit_order(s, again), errc::conflict, "version");
    }
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
    CHECK(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
                     "tbl_name = 'cases' ORDER BY name)") ==
          "cases,cases_by_due,cases_by_state,cases_live_cause");
    CHECK(raw.scalar("SELECT state || ',' || cause_key || ',' || due_at FROM cases") ==
          fmt::format("{},stock_shortage:order:77,3000", static_cast<int>(case_state::escalated)));
    CHECK(raw.scalar("SELECT (SELECT count(*) FROM orders) || ',' || (SELECT count(*) FROM "
                     "timeline) || ',' || (SELECT count(*) FROM archived_orders) || ',' || "
                     "(SELECT count(*) FROM archived_timeline)") == "0,0,1,1");
    CHECK(raw.scalar("SELECT case_ref FROM idempotency WHERE key = 'open_case/new'") == "9");
    CHECK(raw.scalar("SELECT count(*) FROM idempotency WHERE case_ref IS NULL") == "2");
    CHECK(raw.scalar("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a backup of schema version 3 is migrated when restored") {
    temp_dir dir("sqlite-restore-version-3");
    const auto backup = dir / "backup.db";
    write_version_3_file(backup);
    auto target = sqlite_store::open(sqlite_options{.path = dir / "target.db"});
    REQUIRE(target.has_value());
    const auto restored = (*target)->restore_from(backup);
    REQUIRE_MESSAGE(restored.has_value(), to_string(restored.error()));
    check_migrated_from_3(**target);
    REQUIRE(commit_cases(**target, {open_case(1, "low_stock:tea")}).has_value());
    CHECK((*target)->load_case(case_id(1)).value() == std::optional{open_case(1, "low_stock:tea")});
    raw_db raw(dir / "target.db");
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
}

TEST_CASE("the database keeps one live case per cause, whichever transaction comes second") {
    temp_dir dir("sqlite-live-cause");
    auto opened = sqlite_store::open(sqlite_options{.path = dir / "orders.db"});
    REQUIRE(opened.has_value());
    store& s = **opened;
    const std::string cause = "payment_timeout:order:5";

    // Two detectors both see no live case and both open one.
    auto first = s.begin();
    auto second = s.begin();
    REQUIRE((first.has_value() && second.has_value()));
    CHECK((*first)->find_live_case(cause).value() == std::nullopt);
    CHECK((*second)->find_live_case(cause).value() == std::nullopt);
    REQUIRE((*first)->put_case(open_case(1, cause)).has_value());
    REQUIRE((*second)->put_case(open_case(2, cause)).has_value());
    REQUIRE((*second)->put_idempotency(testing::detail::record("open_case/2", 5)).has_value());
    REQUIRE((*first)->commit().has_value());
    check_refused((*second)->commit(), errc::conflict, "case.cause_key");
    CHECK(s.load_case(case_id(2)).value() == std::nullopt);  // nothing of it was written
    {
        auto tx = s.begin();
        REQUIRE(tx.has_value());
        CHECK((*tx)->find_idempotency("open_case/2").value() == std::nullopt);
        CHECK((*tx)->find_live_case(cause).value() == std::optional{open_case(1, cause)});
        CHECK((*tx)->find_live_case("").value() == std::nullopt);
    }

    // A resolved case is still live; an update keeping the key is no conflict.
    REQUIRE(commit_cases(s, {open_case(1, cause, 2, case_state::resolved)}).has_value());
    check_refused(commit_cases(s, {open_case(3, cause)}), errc::conflict, "case.cause_key");

    // Closing the live case and opening the next in one transaction works in
    // either order.
    const auto reopened =
        commit_cases(s, {open_case(3, cause), open_case(1, cause, 3, case_state::closed)});
    REQUIRE_MESSAGE(reopened.has_value(), to_string(reopened.error()));
    {
        auto tx = s.begin();
        REQUIRE(tx.has_value());
        CHECK((*tx)->find_live_case(cause).value() == std::optional{open_case(3, cause)});
    }
    CHECK(s.cases_in_state(case_state::closed, case_id(), 10).value() ==
          std::vector<case_id>{case_id(1)});
    CHECK(s.cases_in_state(case_state::open, case_id(), 10).value() ==
          std::vector<case_id>{case_id(3)});

    // Cases without a key (opened by hand) never collide.
    REQUIRE(commit_cases(s, {open_case(4, ""), open_case(5, "")}).has_value());
    // The version rule names the case's fields.
    check_refused(commit_cases(s, {open_case(4, "")}), errc::conflict, "case.id");
    check_refused(commit_cases(s, {open_case(4, "", 3)}), errc::conflict, "case.version");
}

TEST_CASE("a case body changed outside orderly is reported as a storage failure") {
    temp_dir dir("sqlite-case-body");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    const exception_case shortage = full_case(5, "stock_shortage:order:77");
    REQUIRE(commit_cases(**opened, {shortage}).has_value());
    REQUIRE((*opened)->load_case(shortage.id).value() == std::optional{shortage});
    raw_db raw(path);
    SUBCASE("a body cut short") {
        REQUIRE(raw.exec("UPDATE cases SET body = substr(body, 1, 40)") == SQLITE_OK);
    }
    SUBCASE("a case state out of range") {
        REQUIRE(raw.exec("UPDATE cases SET body = json_set(body, '$.state', 7)") == SQLITE_OK);
    }
    SUBCASE("a note author's role out of range") {
        REQUIRE(raw.exec("UPDATE cases SET body = json_set(body, '$.notes[0].author_role', 0)") ==
                SQLITE_OK);
    }
    SUBCASE("a key missing") {
        REQUIRE(raw.exec("UPDATE cases SET body = json_remove(body, '$.owner')") == SQLITE_OK);
    }
    SUBCASE("a key unknown to this version") {
        REQUIRE(raw.exec("UPDATE cases SET body = json_set(body, '$.colour', 'red')") == SQLITE_OK);
    }
    const auto loaded = (*opened)->load_case(shortage.id);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == errc::storage_failure);
    CHECK(loaded.error().field == "body");
    CHECK_MESSAGE(loaded.error().message.find("case 5") != std::string::npos,
                  loaded.error().message);
}

namespace {

// The migration to schema version 4 as released. A file of version 4 is a
// file of version 3 followed by this, exactly as version-4 code left it.
constexpr const char* schema_version_4_migration = R"sql(
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

money yuan(std::string_view text) {
    return test::cny(text);
}

order_line v4_line(std::string_view sku, std::int64_t units, std::string_view price,
                   std::string_view discount = "0.00") {
    return order_line{.sku = sku_id(std::string(sku)),
                      .units = test::units(units),
                      .unit_price = yuan(price),
                      .discount = yuan(discount)};
}

// An order of the version-4 file: its lines, 8.00 CNY shipping, one card
// payment that captured the total and gave `refunded` back, its last change
// at `refund_ms`.
order v4_order(std::uint64_t id, order_state state, std::vector<order_line> lines,
               std::string_view refunded, std::int64_t refund_ms,
               std::vector<shipment_id> shipments = {}, std::vector<ticket_id> tickets = {}) {
    money subtotal = yuan("0.00");
    money discount = yuan("0.00");
    for (const order_line& l : lines) {
        subtotal = subtotal.plus(l.unit_price.times(l.units).value()).value();
        discount = discount.plus(l.discount).value();
    }
    const money shipping = yuan("8.00");
    const money total = subtotal.minus(discount).value().plus(shipping).value();
    order o = testing::detail::plain_order(id, 1, state);
    o.lines = std::move(lines);
    o.subtotal = subtotal;
    o.discount = discount;
    o.shipping_fee = shipping;
    o.total = total;
    o.payments = {payment{.id = payment_id(id * 10),
                          .method = payment_method::card,
                          .gateway_reference = fmt::format("gw-{}", id),
                          .state = yuan(refunded).is_zero()  ? payment_state::captured
                                   : yuan(refunded) == total ? payment_state::refunded
                                                             : payment_state::partially_refunded,
                          .authorized = total,
                          .captured = total,
                          .refunded = yuan(refunded),
                          .failure_reason = {},
                          .updated_at = from_unix_ms(refund_ms)}};
    o.shipments = std::move(shipments);
    o.tickets = std::move(tickets);
    o.updated_at = from_unix_ms(refund_ms + 50);
    return o;
}

shipment_line parcel_line(std::uint64_t order, std::uint32_t line, std::string_view sku,
                          std::int64_t units) {
    return shipment_line{.order = order_id(order),
                         .line = line,
                         .sku = sku_id(std::string(sku)),
                         .units = test::units(units),
                         .reservation = reservation_id(order * 100 + line)};
}

logistics_exception v4_exception(logistics_exception_kind kind, logistics_remedy remedy,
                                 std::int64_t resolved_ms, std::optional<money> amount,
                                 std::optional<shipment_id> replacement = std::nullopt) {
    return logistics_exception{.kind = kind,
                               .raised_at = from_unix_ms(resolved_ms - 500),
                               .detail = "carrier report",
                               .remedy = remedy,
                               .resolved_at = remedy == logistics_remedy::none
                                                  ? std::nullopt
                                                  : std::optional(from_unix_ms(resolved_ms)),
                               .amount = std::move(amount),
                               .replacement = replacement,
                               .reported = false};
}

// A parcel of the version-4 file in `state`, with its lines and exceptions.
shipment v4_parcel(std::uint64_t id, shipment_state state, std::vector<shipment_line> lines,
                   std::vector<logistics_exception> exceptions,
                   std::optional<timestamp> due_at = std::nullopt) {
    shipment s = testing::detail::plain_shipment(id, 1, state, due_at);
    s.orders.clear();
    for (const shipment_line& l : lines) {
        if (std::find(s.orders.begin(), s.orders.end(), l.order) == s.orders.end()) {
            s.orders.push_back(l.order);
        }
    }
    s.lines = std::move(lines);
    s.exceptions = std::move(exceptions);
    s.updated_at = from_unix_ms(12'000);
    return s;
}

// A refund-only ticket of the version-4 file on `order`, refunded at
// `refund_ms` (its refund_issued step) when it has a refund.
ticket v4_ticket(std::uint64_t id, std::uint64_t order, std::optional<refund_breakdown> refund,
                 std::int64_t refund_ms) {
    ticket t = testing::detail::plain_ticket(
        id, 1, refund ? ticket_state::refunded : ticket_state::rejected);
    t.order = order_id(order);
    if (refund) {
        t.timeline.push_back(testing::detail::ticket_step(refund_ms, ticket_event::refund_issued,
                                                          ticket_state::approved,
                                                          ticket_state::refunded));
    }
    t.refund = std::move(refund);
    t.updated_at = from_unix_ms(refund_ms + 700);
    return t;
}

refund_line refund_part(std::uint32_t line, std::int64_t units, std::string_view goods,
                        std::string_view shipping = "0.00") {
    return refund_line{.line = line,
                       .units = test::units(units),
                       .goods = yuan(goods),
                       .shipping = yuan(shipping)};
}

refund_breakdown breakdown(std::vector<refund_line> lines) {
    money goods = yuan("0.00");
    money shipping = yuan("0.00");
    for (const refund_line& l : lines) {
        goods = goods.plus(l.goods).value();
        shipping = shipping.plus(l.shipping).value();
    }
    return refund_breakdown{.lines = std::move(lines),
                            .goods = goods,
                            .shipping = shipping,
                            .total = goods.plus(shipping).value()};
}

// What the version-4 file holds beyond the version-3 file: every case the
// migration to 5 rewrites, and some it must leave alone.
//  101: a ticket refund (and a ticket without one);
//  102, 103: one lost parcel (301) of both, refunded, each order its lines;
//  104: a compensation (parcel 302) and money refunded without lines;
//  105: cancelled, all money back;
//  106: a returned parcel reshipped (303 by 304), a lost one not yet put right (305);
//  107: a ticket refund, then a parcel refund (306) the payments could only
//       partly pay (refund_across stopped when the money ran out);
//  108: archived, cancelled, all money back.
struct v4_rows {
    std::vector<order> orders;
    std::vector<shipment> shipments;
    std::vector<ticket> tickets;
};

v4_rows version_4_rows() {
    using k = logistics_exception_kind;
    using remedy = logistics_remedy;
    v4_rows rows;
    rows.orders = {
        v4_order(101, order_state::completed,
                 {v4_line("tea", 2, "10.00"), v4_line("cup", 1, "5.00")}, "10.00", 5000, {},
                 {ticket_id(201), ticket_id(202)}),
        v4_order(102, order_state::shipped, {v4_line("tea", 3, "9.99", "1.00")}, "19.31", 6000,
                 {shipment_id(301)}),
        v4_order(103, order_state::shipped, {v4_line("pot", 1, "7.00"), v4_line("cup", 1, "5.00")},
                 "5.00", 6000, {shipment_id(301)}),
        v4_order(104, order_state::delivered,
                 {v4_line("tea", 2, "10.00"), v4_line("cup", 1, "6.00")}, "4.00", 8000,
                 {shipment_id(302)}),
        v4_order(105, order_state::cancelled, {v4_line("tea", 1, "25.00")}, "33.00", 9000),
        v4_order(106, order_state::shipped, {v4_line("tea", 1, "10.00")}, "0.00", 1000,
                 {shipment_id(303), shipment_id(304), shipment_id(305)}),
        v4_order(107, order_state::shipped, {v4_line("tea", 2, "10.00")}, "28.00", 6500,
                 {shipment_id(306)}, {ticket_id(203)}),
        v4_order(108, order_state::cancelled, {v4_line("cup", 2, "5.00")}, "18.00", 9500)};
    rows.shipments = {
        v4_parcel(301, shipment_state::lost,
                  {parcel_line(102, 0, "tea", 2), parcel_line(103, 1, "cup", 1)},
                  {v4_exception(k::lost, remedy::refund, 6000, yuan("24.31"))}),
        v4_parcel(302, shipment_state::delivered, {parcel_line(104, 0, "tea", 2)},
                  {v4_exception(k::damaged, remedy::compensation, 7000, yuan("3.00"))}),
        v4_parcel(
            303, shipment_state::returned, {parcel_line(106, 0, "tea", 1)},
            {v4_exception(k::damaged, remedy::reship, 10'000, std::nullopt, shipment_id(304))},
            from_unix_ms(20'000)),
        v4_parcel(304, shipment_state::planned, {parcel_line(106, 0, "tea", 1)}, {}),
        v4_parcel(305, shipment_state::lost, {parcel_line(106, 0, "tea", 1)},
                  {v4_exception(k::lost, remedy::none, 11'000, std::nullopt)}),
        v4_parcel(306, shipment_state::lost, {parcel_line(107, 0, "tea", 2)},
                  {v4_exception(k::lost, remedy::refund, 6500, yuan("20.00"))})};
    rows.tickets = {v4_ticket(201, 101, breakdown({refund_part(0, 1, "10.00")}), 5000),
                    v4_ticket(202, 101, std::nullopt, 5200),
                    v4_ticket(203, 107, breakdown({refund_part(0, 1, "10.00")}), 5000)};
    return rows;
}

// A database file at schema version 4: the version-3 file with the version-4
// migration and the rows of version_4_rows. Their bodies are what version-4
// code wrote: today's writer puts the keys version 5 added last (the order's
// "refunds", a ticket line's "refused"), so the bodies are written by a
// current store and those keys removed; order 108 goes to the archive.
void write_version_4_file(const std::filesystem::path& path) {
    const auto scratch = path.parent_path() / (path.filename().string() + ".scratch");
    {
        auto opened = sqlite_store::open(sqlite_options{.path = scratch});
        REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
        const v4_rows rows = version_4_rows();
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        for (const order& o : rows.orders) {
            REQUIRE((*tx)->put_order(o).has_value());
        }
        for (const shipment& s : rows.shipments) {
            REQUIRE((*tx)->put_shipment(s).has_value());
        }
        for (const ticket& t : rows.tickets) {
            REQUIRE((*tx)->put_ticket(t).has_value());
        }
        const auto committed = (*tx)->commit();
        REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
    }
    write_version_3_file(path);
    raw_db raw(path);
    REQUIRE(raw.exec(schema_version_4_migration) == SQLITE_OK);
    REQUIRE(raw.exec(fmt::format("ATTACH DATABASE '{}' AS scratch", scratch.string())) ==
            SQLITE_OK);
    REQUIRE(raw.exec("INSERT INTO orders SELECT * FROM scratch.orders WHERE id <> 108;"
                     "INSERT INTO archived_orders SELECT * FROM scratch.orders WHERE id = 108;"
                     "INSERT INTO shipments SELECT * FROM scratch.shipments;"
                     "INSERT INTO tickets SELECT * FROM scratch.tickets;"
                     "UPDATE orders SET body = json_remove(body, '$.refunds');"
                     "UPDATE archived_orders SET body = json_remove(body, '$.refunds');"
                     "UPDATE tickets SET body = json_remove(body, '$.lines[0].refused');") ==
            SQLITE_OK);
    REQUIRE(raw.exec("DETACH DATABASE scratch") == SQLITE_OK);
    REQUIRE(raw.scalar("SELECT count(*) FROM orders WHERE body LIKE '%\"refunds\"%'") == "0");
    REQUIRE(raw.scalar("SELECT count(*) FROM archived_orders WHERE body LIKE '%\"refunds\"%'") ==
            "0");
    REQUIRE(raw.scalar("SELECT count(*) FROM tickets WHERE body LIKE '%\"refused\"%'") == "0");
    REQUIRE(raw.scalar("SELECT count(*) FROM orders") == "8");  // 77 and seven of version_4_rows
    REQUIRE(raw.exec("PRAGMA user_version = 4") == SQLITE_OK);
    REQUIRE(raw.scalar("PRAGMA user_version") == "4");
}

order_refund ledger_entry(std::int64_t at, refund_source source, std::uint64_t reference,
                          std::string_view amount, std::vector<refund_line> lines,
                          std::string reason) {
    return order_refund{.at = from_unix_ms(at),
                        .source = source,
                        .reference = reference,
                        .amount = yuan(amount),
                        .lines = std::move(lines),
                        .reason = std::move(reason)};
}

// The ledgers version 5 rebuilds for the orders of version_4_rows.
std::map<std::uint64_t, std::vector<order_refund>> rebuilt_ledgers() {
    using src = refund_source;
    const std::string manual = "refunded without lines before schema version 5";
    return {{101,
             {ledger_entry(5000, src::ticket, 201, "10.00", {refund_part(0, 1, "10.00")},
                           "ticket 201 refund_only")}},
            {102,
             {ledger_entry(6000, src::parcel, 301, "19.31", {refund_part(0, 2, "19.31")},
                           "parcel 301 lost")}},
            {103,
             {ledger_entry(6000, src::parcel, 301, "5.00", {refund_part(1, 1, "5.00")},
                           "parcel 301 lost")}},
            {104,
             {ledger_entry(7000, src::compensation, 302, "3.00", {}, "parcel 302 damaged"),
              ledger_entry(8000, src::manual, 0, "4.00",
                           {refund_part(0, 0, "3.08"), refund_part(1, 0, "0.92")}, manual)}},
            {105, {ledger_entry(9000, src::cancellation, 0, "33.00", {}, "cancelled")}},
            {106, {}},
            {107,
             {ledger_entry(5000, src::ticket, 203, "10.00", {refund_part(0, 1, "10.00")},
                           "ticket 203 refund_only"),
              ledger_entry(6500, src::parcel, 306, "18.00", {refund_part(0, 2, "18.00")},
                           "parcel 306 lost")}},
            {108, {ledger_entry(9500, src::cancellation, 0, "18.00", {}, "cancelled")}}};
}

std::string ledger_text(const std::vector<order_refund>& ledger) {
    std::vector<std::string> parts;
    for (const order_refund& e : ledger) {
        parts.push_back(fmt::format("{}@{} #{} {} {} '{}'", e.source, to_unix_ms(e.at), e.reference,
                                    e.amount.to_string(),
                                    testing::detail::refund_lines_text(e.lines), e.reason));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

// Every order of the version-4 file reads as version 5 rebuilt it: the same
// order with its ledger, and the ledger holds what its payments refunded.
void check_ledgers(store& s) {
    const v4_rows rows = version_4_rows();
    const auto ledgers = rebuilt_ledgers();
    for (const order& before : rows.orders) {
        const std::uint64_t id = before.id.value();
        CAPTURE(id);
        const auto loaded = s.load_order(before.id);
        REQUIRE_MESSAGE(loaded.has_value(), to_string(loaded.error()));
        REQUIRE(loaded->has_value());
        order expected = before;
        expected.refunds = ledgers.at(before.id.value());
        CHECK(ledger_text((*loaded)->refunds) == ledger_text(expected.refunds));
        CHECK(**loaded == expected);
        money refunded = yuan("0.00");
        for (const order_refund& e : (*loaded)->refunds) {
            if (e.source != refund_source::compensation) {
                refunded = refunded.plus(e.amount).value();
            }
        }
        CHECK(refunded == before.payments.front().refunded);
    }
    CHECK(s.load_order(order_id(77)).value() == std::optional{version_2_order()});
    CHECK(s.archived_orders(order_id(), 10).value() == std::vector<order_id>{order_id(108)});
}

// The parcels of the version-4 file read as version 5 has them: lost or
// returned parcels put right by a reship or a refund are resolved, without a
// deadline; the others are as they were.
void check_parcels(store& s) {
    const v4_rows rows = version_4_rows();
    for (shipment expected : rows.shipments) {
        const std::uint64_t id = expected.id.value();
        CAPTURE(id);
        if (expected.id == shipment_id(301) || expected.id == shipment_id(303) ||
            expected.id == shipment_id(306)) {
            expected.state = shipment_state::resolved;
            expected.due_at.reset();
        }
        CHECK(s.load_shipment(expected.id).value() == std::optional{expected});
    }
    CHECK(s.shipments_in_state(shipment_state::resolved, shipment_id(), 10).value() ==
          std::vector<shipment_id>{shipment_id(301), shipment_id(303), shipment_id(306)});
    CHECK(s.shipments_in_state(shipment_state::lost, shipment_id(), 10).value() ==
          std::vector<shipment_id>{shipment_id(305)});
    CHECK(s.shipments_in_state(shipment_state::returned, shipment_id(), 10).value().empty());
    CHECK(s.due_shipments(from_unix_ms(1'000'000), 10).value().empty());
    for (const ticket& t : rows.tickets) {
        CHECK(s.load_ticket(t.id).value() == std::optional{t});
    }
}

void check_migrated_from_4(store& s) {
    check_migrated_from_2(s);
    check_ledgers(s);
    check_parcels(s);
}

// Every row of the tables version 5 rewrites or extends, as text.
std::string rewritten_rows(raw_db& raw) {
    std::string rows;
    for (const char* sql :
         {"SELECT group_concat(x, '|') FROM (SELECT id || ':' || version || ':' || body AS x "
          "FROM orders ORDER BY id)",
          "SELECT group_concat(x, '|') FROM (SELECT id || ':' || body AS x FROM archived_orders "
          "ORDER BY id)",
          "SELECT group_concat(x, '|') FROM (SELECT id || ':' || state || ':' || "
          "ifnull(due_at, '-') || ':' || body AS x FROM shipments ORDER BY id)",
          "SELECT group_concat(x, '|') FROM (SELECT id || ':' || body AS x FROM tickets ORDER "
          "BY id)",
          "SELECT group_concat(x, '|') FROM (SELECT id || ':' || ifnull(cancelled_at, '-') || "
          "':' || cancel_reason AS x FROM transfers ORDER BY id)"}) {
        rows += raw.scalar(sql) + '#';
    }
    return rows;
}

}  // namespace

TEST_CASE("a file of schema version 4 is migrated to 5: ledgers rebuilt, parcels resolved") {
    temp_dir dir("sqlite-version-4");
    const auto path = dir / "orders.db";
    write_version_4_file(path);
    {
        auto opened = sqlite_store::open(sqlite_options{.path = path});
        REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
        check_migrated_from_4(**opened);

        // The old transfer can be called back and keeps when and why.
        stock_transfer called_back =
            testing::detail::plain_transfer(3, 2, transfer_state::cancelled);
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_transfer(called_back).has_value());
        const auto committed = (*tx)->commit();
        REQUIRE_MESSAGE(committed.has_value(), to_string(committed.error()));
        CHECK((*opened)->load_transfer(transfer_id(3)).value() == std::optional{called_back});
    }
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == "5");
    CHECK(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM "
                     "pragma_table_info('transfers') WHERE name LIKE 'cancel%' ORDER BY cid)") ==
          "cancelled_at,cancel_reason");
    CHECK(
        raw.scalar("SELECT state || ',' || cancelled_at || ',' || cancel_reason FROM transfers") ==
        "3,2500,target closed «盘点»");
    CHECK(raw.scalar("SELECT group_concat(id || '=' || state, ',') FROM (SELECT id, state FROM "
                     "shipments ORDER BY id)") == "5=2,301=9,302=5,303=9,304=1,305=7,306=9");
    CHECK(raw.scalar("SELECT json_extract(body, '$.state') FROM shipments WHERE id = 303") == "9");
    CHECK(raw.scalar("SELECT ifnull(due_at, 'none') FROM shipments WHERE id = 303") == "none");
    CHECK(raw.scalar("SELECT json_array_length(body, '$.refunds') FROM archived_orders") == "1");
    // Orders without refunded money (77, 106) are left as they were.
    CHECK(raw.scalar("SELECT group_concat(id, ',') FROM (SELECT id FROM orders WHERE "
                     "json_type(body, '$.refunds') = 'array' ORDER BY id)") ==
          "101,102,103,104,105,107");
    CHECK(raw.scalar("PRAGMA integrity_check") == "ok");

    // A second open finds version 5 and changes nothing.
    const std::string before = rewritten_rows(raw);
    {
        auto again = sqlite_store::open(sqlite_options{.path = path});
        REQUIRE_MESSAGE(again.has_value(), to_string(again.error()));
        check_ledgers(**again);
    }
    CHECK(rewritten_rows(raw) == before);
    CHECK(raw.scalar("PRAGMA user_version") == "5");
}

TEST_CASE("a backup of schema version 4 is migrated when restored") {
    temp_dir dir("sqlite-restore-version-4");
    const auto backup = dir / "backup.db";
    write_version_4_file(backup);
    auto target = sqlite_store::open(sqlite_options{.path = dir / "target.db"});
    REQUIRE(target.has_value());
    const auto restored = (*target)->restore_from(backup);
    REQUIRE_MESSAGE(restored.has_value(), to_string(restored.error()));
    check_migrated_from_4(**target);
    raw_db raw(dir / "target.db");
    CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
    raw_db source(backup);
    CHECK(source.scalar("PRAGMA user_version") == "4");  // the backup itself is left as it was
}

TEST_CASE("a version-4 body the migration cannot read leaves the file at version 4") {
    temp_dir dir("sqlite-version-4-corrupt");
    const auto path = dir / "orders.db";
    write_version_4_file(path);
    {
        raw_db raw(path);
        REQUIRE(raw.exec("UPDATE shipments SET body = substr(body, 1, 30) WHERE id = 306") ==
                SQLITE_OK);
    }
    const auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().code == errc::storage_failure);
    CHECK_MESSAGE(opened.error().message.find("schema version 5") != std::string::npos,
                  opened.error().message);
    CHECK_MESSAGE(opened.error().message.find("shipment") != std::string::npos,
                  opened.error().message);
    raw_db raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == "4");
    CHECK(raw.scalar("SELECT count(*) FROM pragma_table_info('transfers') WHERE name = "
                     "'cancelled_at'") == "0");
    CHECK(raw.scalar("SELECT state FROM shipments WHERE id = 301") == "7");
}

TEST_CASE("an order body's refund ledger changed outside orderly is a storage failure") {
    temp_dir dir("sqlite-order-ledger");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    const order full = testing::detail::rich_order(5);
    {
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_order(full).has_value());
        REQUIRE((*tx)->commit().has_value());
    }
    REQUIRE((*opened)->load_order(full.id).value() == std::optional{full});
    raw_db raw(path);
    std::string field;
    SUBCASE("a source out of range") {
        field = "refunds.source";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[0].source', 7)") ==
                SQLITE_OK);
    }
    SUBCASE("a source of 0") {
        field = "refunds.source";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[5].source', 0)") ==
                SQLITE_OK);
    }
    SUBCASE("an amount that is not money") {
        field = "refunds.amount";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[1].amount', "
                         "'12 coins')") == SQLITE_OK);
    }
    SUBCASE("a line's goods that are not money") {
        field = "refunds.lines.goods";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[1].lines[1].goods', "
                         "'')") == SQLITE_OK);
    }
    SUBCASE("a line's units below zero") {
        field = "refunds.lines.units";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[2].lines[0].units', "
                         "-1)") == SQLITE_OK);
    }
    SUBCASE("a line index beyond 32 bits") {
        field = "refunds.lines.line";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds[4].lines[0].line', "
                         "4294967296)") == SQLITE_OK);
    }
    SUBCASE("a key missing from an entry") {
        field = "\"reference\"";
        REQUIRE(raw.exec("UPDATE orders SET body = json_remove(body, '$.refunds[3].reference')") ==
                SQLITE_OK);
    }
    SUBCASE("the ledger not a list") {
        field = "'['";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.refunds', 'none')") ==
                SQLITE_OK);
    }
    SUBCASE("a key after the ledger") {
        field = "'}'";
        REQUIRE(raw.exec("UPDATE orders SET body = json_set(body, '$.colour', 'red')") ==
                SQLITE_OK);
    }
    const auto loaded = (*opened)->load_order(full.id);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == errc::storage_failure);
    CHECK(loaded.error().field == "body");
    CHECK_MESSAGE(loaded.error().message.find("order 5") != std::string::npos,
                  loaded.error().message);
    CHECK_MESSAGE(loaded.error().message.find(field) != std::string::npos, loaded.error().message);
}

TEST_CASE("a ticket line's refused units changed outside orderly are a storage failure") {
    temp_dir dir("sqlite-ticket-refused");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    const ticket claim = testing::detail::rich_ticket(5);
    REQUIRE(claim.lines.back().refused.units() > 0);
    {
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_ticket(claim).has_value());
        REQUIRE((*tx)->commit().has_value());
    }
    REQUIRE((*opened)->load_ticket(claim.id).value() == std::optional{claim});
    raw_db raw(path);
    SUBCASE("below zero") {
        REQUIRE(raw.exec("UPDATE tickets SET body = json_set(body, '$.lines[2].refused', -4)") ==
                SQLITE_OK);
    }
    SUBCASE("not a number") {
        REQUIRE(
            raw.exec("UPDATE tickets SET body = json_set(body, '$.lines[2].refused', 'four')") ==
            SQLITE_OK);
    }
    const auto loaded = (*opened)->load_ticket(claim.id);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == errc::storage_failure);
    CHECK(loaded.error().field == "body");
    CHECK_MESSAGE(loaded.error().message.find("ticket 5") != std::string::npos,
                  loaded.error().message);
}

TEST_CASE("a ticket line without refused units (version 4) reads as none refused") {
    temp_dir dir("sqlite-ticket-no-refused");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    ticket claim = testing::detail::rich_ticket(5);
    {
        auto tx = (*opened)->begin();
        REQUIRE(tx.has_value());
        REQUIRE((*tx)->put_ticket(claim).has_value());
        REQUIRE((*tx)->commit().has_value());
    }
    raw_db raw(path);
    REQUIRE(raw.exec("UPDATE tickets SET body = json_remove(body, '$.lines[2].refused')") ==
            SQLITE_OK);
    claim.lines[2].refused = test::units(0);
    CHECK((*opened)->load_ticket(claim.id).value() == std::optional{claim});
}

TEST_CASE("due work goes on past an order it cannot read, and names it in its report") {
    temp_dir dir("sqlite-due-work-isolation");
    const auto path = dir / "orders.db";
    auto opened = sqlite_store::open(sqlite_options{.path = path});
    REQUIRE(opened.has_value());
    recording_notifier notifier;
    manual_clock clock(test::start_time());
    default_access_policy policy;
    auto engine = engine::create(engine_ports{**opened, notifier, clock, policy}).value();
    REQUIRE(
        engine->put_sku({test::admin, "sku"}, test::catalogue_entry("tea", "12.50")).has_value());
    REQUIRE(
        engine
            ->receive_stock({test::keeper, "in"},
                            stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), test::units(10)})
            .has_value());
    std::vector<order_id> ids;
    for (int i = 0; i < 3; ++i) {
        place_order_request r;
        r.customer = customer_id("alice");
        r.ship_to = test::home();
        r.lines.push_back(line_request{sku_id("tea"), test::units(1), test::cny("12.50")});
        ids.push_back(engine->place_order({test::alice, fmt::format("p{}", i)}, r).value().order);
    }
    // One order's body is broken outside orderly: that order cannot be read.
    raw_db raw(path);
    REQUIRE(raw.exec(fmt::format("UPDATE orders SET body = '{{' WHERE id = {}", ids[1].value())) ==
            SQLITE_OK);
    clock.advance(std::chrono::hours(1));  // past every payment timeout
    auto report = engine->run_due_work();
    REQUIRE(report.has_value());
    CHECK(report->payment_timeouts == 2);  // the others timed out all the same
    CHECK(report->failed == 1);
    REQUIRE(report->failures.size() == 1);
    CHECK(report->failures[0].what == "order");
    CHECK(report->failures[0].id == ids[1].value());
    CHECK(report->failures[0].why.code == errc::storage_failure);
    CHECK(report->delivered > 0);  // and the notifications still went out
    for (const order_id id : {ids[0], ids[2]}) {
        CHECK((*opened)->load_order(id).value()->state == order_state::cancelled);
    }
}
