#pragma once
// Shared by the SQLite store's durability tests and their child program:
// - the workload (catalogue, stock, settings, requests) child and parent agree on;
// - a full read of a store (a "dump") and the invariants every committed
//   state keeps: timelines that chain, reservations matching the order's
//   state, stock conservation, one outbox entry per notifying change;
// - a plain sqlite3 connection for what the store's API does not show;
// - temporary directories and child processes.
// The checks return the problems they find as text; each test decides how to
// report them.

#include "../unit/engine_fixture.hpp"

#include <orderly/storage/sqlite_store.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace orderly::storage_test {

// --- the workload -------------------------------------------------------------

// Stock received once per SKU and warehouse by set_up_catalogue.
struct stock_row {
    std::string_view sku;
    std::string_view warehouse;
    std::int64_t received;
};

inline constexpr std::string_view workload_price = "12.50";

// The crash workload: three plentiful SKUs and one scarce one spread over two
// warehouses, so refusals for insufficient stock happen too.
inline constexpr std::array<stock_row, 5> workload_stock = {{{"tea", "wh-hz", 1000000},
                                                             {"cup", "wh-hz", 1000000},
                                                             {"pot", "wh-sh", 1000000},
                                                             {"scarce", "wh-hz", 30},
                                                             {"scarce", "wh-sh", 30}}};
inline constexpr std::array<std::string_view, 4> workload_skus = {"tea", "cup", "pot", "scarce"};

// The multi-process workload: one hot SKU.
inline constexpr std::array<stock_row, 1> hot_stock = {{{"hot", "wh-hz", 1000}}};
inline constexpr std::array<std::string_view, 1> hot_skus = {"hot"};

// The most orders the crash workload places in one group commit.
inline constexpr int max_batch_orders = 5;

// What each stock row received, for the conservation check.
using received_map = std::map<std::pair<std::string, std::string>, std::int64_t>;

inline received_map received_of(std::span<const stock_row> rows) {
    received_map received;
    for (const stock_row& row : rows) {
        received[{std::string(row.sku), std::string(row.warehouse)}] += row.received;
    }
    return received;
}

// The engine settings of every workload: one kind muted, so the outbox check
// also sees that a muted kind is never written.
inline settings workload_settings(unsigned node) {
    settings s;
    s.node = node;
    s.outbox.muted = {notification_kind::completed};
    return s;
}

// Puts the SKUs and receives their stock under fixed idempotency keys, so it
// does everything once however often (and from however many processes) it runs.
inline result<void> set_up_catalogue(engine& e, std::span<const stock_row> rows) {
    for (const stock_row& row : rows) {
        const std::string sku(row.sku);
        const std::string warehouse(row.warehouse);
        auto put = e.put_sku(command_context{test::admin, "setup-sku-" + sku},
                             test::catalogue_entry(sku, workload_price));
        if (!put) {
            return put;
        }
        auto received = e.receive_stock(
            command_context{test::keeper, "setup-receive-" + sku + "-" + warehouse},
            stock_receipt{sku_id(sku), warehouse_id(warehouse), test::units(row.received)});
        if (!received) {
            return std::move(received).error();
        }
    }
    return {};
}

// An order for `lines` (SKU, units), at the workload price.
inline place_order_request order_for(
    std::span<const std::pair<std::string_view, std::int64_t>> lines,
    payment_method method = payment_method::card) {
    place_order_request r;
    r.customer = customer_id("alice");
    r.ship_to = test::home();
    r.method = method;
    for (const auto& [sku, count] : lines) {
        r.lines.push_back(
            line_request{sku_id(std::string(sku)), test::units(count), test::cny(workload_price)});
    }
    return r;
}

// A SqliteStore on a file with an engine over it (wall clock, recording
// notifier, default policy), its catalogue set up with `stock`. Engines
// sharing a file need different nodes.
struct engine_on_file {
    wall_clock clock;
    recording_notifier notifier;
    default_access_policy policy;
    std::unique_ptr<sqlite_store> store;
    std::unique_ptr<orderly::engine> engine;

    static result<std::unique_ptr<engine_on_file>> open(const sqlite_options& options,
                                                        unsigned node,
                                                        std::span<const stock_row> stock) {
        auto opened = sqlite_store::open(options);
        if (!opened) {
            return std::move(opened).error();
        }
        auto e = std::make_unique<engine_on_file>();
        e->store = std::move(*opened);
        auto created = orderly::engine::create(
            engine_ports{*e->store, e->notifier, e->clock, e->policy}, workload_settings(node));
        if (!created) {
            return std::move(created).error();
        }
        e->engine = std::move(*created);
        if (auto ready = set_up_catalogue(*e->engine, stock); !ready) {
            return std::move(ready).error();
        }
        return e;
    }
};

// --- reading a whole store ----------------------------------------------------

// Everything a store shows through its read API.
struct store_dump {
    std::vector<order> orders;                           // every state, ascending id
    std::vector<std::vector<timeline_entry>> timelines;  // one per order
    std::vector<std::vector<outbox_entry>> outboxes;     // one per order
    std::vector<stock_level> stock;
    std::vector<std::optional<sku>> skus;  // the SKUs asked for, in that order
    std::size_t undelivered{0};
    std::vector<shipment> shipments{};        // every state, ascending id
    std::vector<stock_transfer> transfers{};  // every state, ascending id
    std::vector<ticket> tickets{};            // every state, ascending id

    friend bool operator==(const store_dump&, const store_dump&) = default;
};

inline constexpr std::array<transfer_state, 2> all_transfer_states = {transfer_state::in_transit,
                                                                      transfer_state::received};

// Ids of every record `page(state, after, limit)` lists over `states`,
// ascending; an id listed under two states is a storage_failure naming `index`.
template <class Id, class State, std::size_t N, class Page>
result<std::vector<Id>> all_ids(const std::array<State, N>& states, std::string_view index,
                                Page&& page) {
    std::vector<Id> ids;
    for (const State state : states) {
        Id after{};
        for (;;) {
            result<std::vector<Id>> listed = page(state, after, std::size_t{512});
            if (!listed) {
                return std::move(listed).error();
            }
            if (listed->empty()) {
                break;
            }
            ids.insert(ids.end(), listed->begin(), listed->end());
            after = listed->back();
        }
    }
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
        return error{errc::storage_failure, std::string(index), "lists a record in two states"};
    }
    return ids;
}

// Ids of every order, ascending; an id listed under a state its order is not
// in is a storage_failure.
inline result<std::vector<order_id>> all_order_ids(store& s) {
    return all_ids<order_id>(all_order_states, "orders_in_state",
                             [&](order_state state, order_id after, std::size_t limit) {
                                 return s.orders_in_state(state, after, limit);
                             });
}

// Every record of one kind, ascending id: `ids` lists them, `load` reads one
// (an empty optional for a listed id is a storage_failure naming `what`).
template <class T, class Id, class Load>
result<std::vector<T>> load_all(result<std::vector<Id>> ids, std::string_view what, Load&& load) {
    if (!ids) {
        return std::move(ids).error();
    }
    std::vector<T> values;
    values.reserve(ids->size());
    for (const Id id : *ids) {
        result<std::optional<T>> loaded = load(id);
        if (!loaded) {
            return std::move(loaded).error();
        }
        if (!*loaded) {
            return error{errc::storage_failure, std::string(what),
                         fmt::format("lost {} {}", what, id)};
        }
        values.push_back(std::move(**loaded));
    }
    return values;
}

// Every shipment, transfer and ticket, into `d`.
inline result<void> read_fulfilment(store& s, store_dump& d) {
    auto shipments = load_all<shipment>(
        all_ids<shipment_id>(all_shipment_states, "shipments_in_state",
                             [&](shipment_state state, shipment_id after, std::size_t limit) {
                                 return s.shipments_in_state(state, after, limit);
                             }),
        "shipment", [&](shipment_id id) { return s.load_shipment(id); });
    auto transfers = load_all<stock_transfer>(
        all_ids<transfer_id>(all_transfer_states, "transfers_in_state",
                             [&](transfer_state state, transfer_id after, std::size_t limit) {
                                 return s.transfers_in_state(state, after, limit);
                             }),
        "transfer", [&](transfer_id id) { return s.load_transfer(id); });
    auto tickets = load_all<ticket>(
        all_ids<ticket_id>(all_ticket_states, "tickets_in_state",
                           [&](ticket_state state, ticket_id after, std::size_t limit) {
                               return s.tickets_in_state(state, after, limit);
                           }),
        "ticket", [&](ticket_id id) { return s.load_ticket(id); });
    if (!shipments) {
        return std::move(shipments).error();
    }
    if (!transfers) {
        return std::move(transfers).error();
    }
    if (!tickets) {
        return std::move(tickets).error();
    }
    d.shipments = std::move(*shipments);
    d.transfers = std::move(*transfers);
    d.tickets = std::move(*tickets);
    return {};
}

inline result<store_dump> read_dump(store& s, std::span<const std::string_view> sku_codes) {
    store_dump d;
    auto ids = all_order_ids(s);
    if (!ids) {
        return std::move(ids).error();
    }
    for (const order_id id : *ids) {
        auto o = s.load_order(id);
        if (!o || !*o) {
            return o ? error{errc::storage_failure, "load_order", fmt::format("lost order {}", id)}
                     : std::move(o).error();
        }
        auto timeline = s.timeline(id);
        auto outbox = s.outbox_of(id);
        if (!timeline || !outbox) {
            return timeline ? std::move(outbox).error() : std::move(timeline).error();
        }
        d.orders.push_back(std::move(**o));
        d.timelines.push_back(std::move(*timeline));
        d.outboxes.push_back(std::move(*outbox));
    }
    auto stock = s.all_stock();
    auto undelivered = s.undelivered_count();
    if (!stock || !undelivered) {
        return stock ? std::move(undelivered).error() : std::move(stock).error();
    }
    d.stock = std::move(*stock);
    d.undelivered = *undelivered;
    for (const std::string_view code : sku_codes) {
        auto entry = s.load_sku(sku_id(std::string(code)));
        if (!entry) {
            return std::move(entry).error();
        }
        d.skus.push_back(std::move(*entry));
    }
    if (auto rest = read_fulfilment(s, d); !rest) {
        return std::move(rest).error();
    }
    return d;
}

// Where two dumps first differ, in words; empty when they are equal.
inline std::string first_difference(const store_dump& a, const store_dump& b) {
    if (a.orders.size() != b.orders.size()) {
        return fmt::format("{} orders against {}", a.orders.size(), b.orders.size());
    }
    for (std::size_t i = 0; i < a.orders.size(); ++i) {
        const order_id id = a.orders[i].id;
        if (a.orders[i] != b.orders[i]) {
            return fmt::format("order {} (version {} / {}, state {} / {})", id, a.orders[i].version,
                               b.orders[i].version, a.orders[i].state, b.orders[i].state);
        }
        if (a.timelines[i] != b.timelines[i]) {
            return fmt::format("the timeline of order {}", id);
        }
        if (a.outboxes[i] != b.outboxes[i]) {
            return fmt::format("the outbox of order {}", id);
        }
    }
    if (a.stock != b.stock) {
        return "the stock rows";
    }
    if (a.skus != b.skus) {
        return "the catalogue";
    }
    const auto first_of = [](const auto& x, const auto& y, std::string_view what) -> std::string {
        if (x.size() != y.size()) {
            return fmt::format("{} {}s against {}", x.size(), what, y.size());
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (x[i] != y[i]) {
                return fmt::format("{} {} (version {} / {})", what, x[i].id, x[i].version,
                                   y[i].version);
            }
        }
        return {};
    };
    for (const std::string& found : {first_of(a.shipments, b.shipments, "shipment"),
                                     first_of(a.transfers, b.transfers, "transfer"),
                                     first_of(a.tickets, b.tickets, "ticket")}) {
        if (!found.empty()) {
            return found;
        }
    }
    return a.undelivered == b.undelivered ? std::string() : std::string("the undelivered count");
}

// --- invariants -----------------------------------------------------------------

// The reservation state every reservation of an order in `state` must have.
inline reservation_state reservations_when(order_state state, order_state held_from) {
    switch (state) {
        case order_state::pending_review:
        case order_state::awaiting_payment:
            return reservation_state::held;
        case order_state::paid:
        case order_state::allocating:
        case order_state::packed:
            return reservation_state::committed;
        case order_state::on_hold:
            return held_from == order_state::on_hold ? reservation_state::held
                                                     : reservations_when(held_from, held_from);
        case order_state::cancelled:
            return reservation_state::released;
        default:
            return reservation_state::consumed;  // shipped and after
    }
}

// No partial command: the state is the last timeline entry's, the entries chain.
inline void check_timeline(const order& o, const std::vector<timeline_entry>& t,
                           std::vector<std::string>& problems) {
    if (t.empty() || t.front().event != order_event::placed || t.front().from.has_value()) {
        problems.push_back(fmt::format("order {}: timeline does not start with placed", o.id));
        return;
    }
    for (std::size_t i = 1; i < t.size(); ++i) {
        if (t[i].from != t[i - 1].to) {
            problems.push_back(
                fmt::format("order {}: timeline entry {} ({}) starts from {}, "
                            "the previous ended in {}",
                            o.id, i, t[i].event, t[i].from.value_or(o.state), t[i - 1].to));
        }
    }
    if (t.back().to != o.state) {
        problems.push_back(fmt::format("order {}: state {} but the timeline ends in {}", o.id,
                                       o.state, t.back().to));
    }
}

// Reservations and payments agree with the state.
inline void check_order_money(const order& o, std::vector<std::string>& problems) {
    const reservation_state wanted = reservations_when(o.state, o.held_from);
    for (const reservation& r : o.reservations) {
        if (r.state != wanted) {
            problems.push_back(fmt::format("order {} in {}: reservation of {} is {}, not {}", o.id,
                                           o.state, r.sku, r.state, wanted));
        }
    }
    money net = money::zero(o.total.currency());
    for (const payment& p : o.payments) {
        auto sum = net.plus(p.captured);
        auto after = sum ? sum->minus(p.refunded) : sum;
        if (!after) {
            problems.push_back(fmt::format("order {}: payment sums fail", o.id));
            return;
        }
        net = std::move(*after);
    }
    // Card money is in from `paid` on; cash on delivery is collected at the door.
    const bool must_be_paid =
        o.method == payment_method::cash_on_delivery
            ? o.state == order_state::delivered || o.state == order_state::completed ||
                  o.state == order_state::closed
            : wanted == reservation_state::committed || wanted == reservation_state::consumed;
    if (must_be_paid && net != o.total) {
        problems.push_back(
            fmt::format("order {} in {}: net captured {}, total {}", o.id, o.state, net, o.total));
    }
    if (o.state == order_state::cancelled && !net.is_zero()) {
        problems.push_back(fmt::format("order {}: cancelled but {} kept", o.id, net));
    }
}

// The outbox kinds an order's committed changes enqueue, from its timeline and
// payments (as src/engine/ writes them). Assumes what the workloads do: payment
// callbacks only for orders awaiting payment, refunds only whole (by cancel).
inline std::map<notification_kind, std::size_t> expected_notifications(
    const order& o, const std::vector<timeline_entry>& t, const settings& s) {
    std::map<notification_kind, std::size_t> kinds;
    for (const timeline_entry& e : t) {
        switch (e.event) {
            case order_event::placed:
                ++kinds[notification_kind::order_confirmed];
                break;
            case order_event::review_approved:
                kinds[notification_kind::review_result] += e.actor == system_actor() ? 0U : 1U;
                break;
            case order_event::review_rejected:
                ++kinds[notification_kind::review_result];
                break;
            case order_event::payment_captured:
                ++kinds[notification_kind::payment_result];
                break;
            case order_event::payment_timed_out:
                ++kinds[notification_kind::payment_timeout];
                break;
            case order_event::shipped:
                ++kinds[notification_kind::shipped];
                break;
            case order_event::delivered:
                ++kinds[notification_kind::delivered];
                break;
            case order_event::receipt_confirmed:
                ++kinds[notification_kind::completed];
                break;
            case order_event::cancelled:
                ++kinds[notification_kind::cancelled];
                break;
            default:
                break;  // payment_failed is counted from the payments below
        }
    }
    for (const payment& p : o.payments) {
        kinds[notification_kind::payment_result] += p.state == payment_state::failed ? 1U : 0U;
        kinds[notification_kind::refund_issued] += p.refunded.is_positive() ? 1U : 0U;
    }
    for (const notification_kind muted : s.outbox.muted) {
        kinds.erase(muted);
    }
    std::erase_if(kinds, [](const auto& kind) { return kind.second == 0; });
    return kinds;
}

inline void check_outbox(const order& o, const std::vector<timeline_entry>& t,
                         const std::vector<outbox_entry>& outbox, const settings& s,
                         std::vector<std::string>& problems) {
    std::map<notification_kind, std::size_t> found;
    for (const outbox_entry& entry : outbox) {
        if (entry.notification.order != o.id || entry.notification.number != o.number) {
            problems.push_back(fmt::format(
                "order {} (number {}): outbox entry {} ({}) names another order ({}, number {})",
                o.id, o.number, entry.notification.id, entry.notification.kind,
                entry.notification.order, entry.notification.number));
        }
        // A case's notifications follow the case, not the order's
        // timeline; the operations tests check them.
        if (entry.notification.kind != notification_kind::case_opened &&
            entry.notification.kind != notification_kind::case_escalated) {
            ++found[entry.notification.kind];
        }
    }
    const auto expected = expected_notifications(o, t, s);
    if (found != expected) {
        const auto describe = [](const std::map<notification_kind, std::size_t>& kinds) {
            std::string text;
            for (const auto& [kind, count] : kinds) {
                text += fmt::format(" {}×{}", kind, count);
            }
            return text;
        };
        problems.push_back(fmt::format("order {} in {}: outbox has{}, the timeline wants{}", o.id,
                                       o.state, describe(found), describe(expected)));
    }
}

// Stock conservation: reserved is what active reservations hold; on hand is
// what was received minus what shipped. A row absent from `received` received
// nothing (a set-up killed half-way leaves some rows out).
inline void check_stock(const store_dump& d, const received_map& received,
                        std::vector<std::string>& problems) {
    std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> held;
    for (const order& o : d.orders) {
        for (const reservation& r : o.reservations) {
            auto& [reserved, consumed] = held[{r.sku.value(), r.warehouse.value()}];
            reserved += r.active() ? r.units.units() : 0;
            consumed += r.state == reservation_state::consumed ? r.units.units() : 0;
        }
    }
    for (const stock_level& level : d.stock) {
        const std::pair<std::string, std::string> key{level.sku.value(), level.warehouse.value()};
        const auto in = received.find(key);
        const std::int64_t got = in == received.end() ? 0 : in->second;
        const auto [reserved, consumed] = held[key];
        if (level.reserved.units() != reserved || level.on_hand.units() != got - consumed ||
            level.available() < 0) {
            problems.push_back(fmt::format(
                "stock {}@{}: on hand {} reserved {} safety {}; orders reserve {}, received {} "
                "consumed {}",
                key.first, key.second, level.on_hand, level.reserved, level.safety, reserved, got,
                consumed));
        }
        held.erase(key);
    }
    for (const auto& [key, amounts] : held) {
        if (amounts.first != 0 || amounts.second != 0) {
            problems.push_back(fmt::format("stock {}@{}: orders reserve units of a missing row",
                                           key.first, key.second));
        }
    }
}

// Every invariant of a committed state; empty when all hold.
inline std::vector<std::string> check_dump(const store_dump& d, const received_map& received,
                                           const settings& s) {
    std::vector<std::string> problems;
    std::size_t undelivered = 0;
    for (std::size_t i = 0; i < d.orders.size(); ++i) {
        check_timeline(d.orders[i], d.timelines[i], problems);
        check_order_money(d.orders[i], problems);
        check_outbox(d.orders[i], d.timelines[i], d.outboxes[i], s, problems);
        undelivered += static_cast<std::size_t>(
            std::count_if(d.outboxes[i].begin(), d.outboxes[i].end(),
                          [](const outbox_entry& e) { return !e.delivered; }));
    }
    if (undelivered != d.undelivered) {
        problems.push_back(
            fmt::format("{} undelivered outbox entries, {} of them for orders that "
                        "exist",
                        d.undelivered, undelivered));
    }
    check_stock(d, received, problems);
    return problems;
}

// The problems as one text, for a failure message.
inline std::string joined(const std::vector<std::string>& problems) {
    std::string text;
    for (std::size_t i = 0; i < problems.size() && i < 20; ++i) {
        text += problems[i] + "\n";
    }
    if (problems.size() > 20) {
        text += fmt::format("... and {} more\n", problems.size() - 20);
    }
    return text;
}

// --- a plain sqlite3 connection -----------------------------------------------

// For what the store's API does not show (user_version, integrity_check) and
// for holding the write lock from outside the store.
class raw_db {
public:
    explicit raw_db(const std::filesystem::path& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK) {
            const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw std::runtime_error("cannot open " + path.string() + ": " + why);
        }
    }
    ~raw_db() { sqlite3_close(db_); }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;

    // Runs statements; SQLITE_OK or the error code (SQLITE_BUSY, ...).
    int exec(const std::string& sql) {
        return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    }
    // The first column of the first row, as text ("" without a row); throws on error.
    std::string scalar(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        }
        const int rc = sqlite3_step(stmt);
        std::string text;
        if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
            text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            throw std::runtime_error(sql + ": " + sqlite3_errstr(rc));
        }
        return text;
    }

private:
    sqlite3* db_{nullptr};
};

// --- files and processes --------------------------------------------------------

// A fresh directory under the system's temporary directory, removed at the end.
class temp_dir {
public:
    explicit temp_dir(std::string_view test)
        : path_(std::filesystem::temp_directory_path() /
                fmt::format("orderly-{}-{}", test, ::getpid())) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
        return path_ / name;
    }

private:
    std::filesystem::path path_;
};

// A child program with pipes on its stdin and stdout (stderr is shared, so
// its complaints show in the test log). Killed and reaped on destruction.
class child_process {
public:
    explicit child_process(std::vector<std::string> args) {
        int out[2];
        int in[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        std::vector<char*> argv;
        for (std::string& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        const int failed = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(in[0]);
        out_ = out[0];
        in_ = in[1];
        if (failed != 0) {
            close_pipes();
            throw std::system_error(failed, std::generic_category(), "posix_spawn " + args[0]);
        }
    }
    ~child_process() {
        if (!reaped_) {
            kill();
            (void)wait();
        }
        close_pipes();
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // Reads what the child wrote within `timeout`, appending complete lines;
    // false once its stdout is closed (it exited or was killed).
    bool read_lines(std::chrono::milliseconds timeout, std::vector<std::string>& lines) {
        if (out_ < 0) {
            return false;
        }
        pollfd ready{out_, POLLIN, 0};
        if (::poll(&ready, 1, static_cast<int>(timeout.count())) <= 0) {
            return true;
        }
        char buffer[65536];
        const ssize_t got = ::read(out_, buffer, sizeof buffer);
        if (got <= 0) {
            ::close(std::exchange(out_, -1));
            return false;
        }
        partial_.append(buffer, static_cast<std::size_t>(got));
        for (std::size_t end = partial_.find('\n'); end != std::string::npos;
             end = partial_.find('\n')) {
            lines.push_back(partial_.substr(0, end));
            partial_.erase(0, end + 1);
        }
        return true;
    }
    // Reads until `deadline` or the end of the child's output.
    bool read_until(std::chrono::steady_clock::time_point deadline,
                    std::vector<std::string>& lines) {
        for (auto now = std::chrono::steady_clock::now(); now < deadline;
             now = std::chrono::steady_clock::now()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
            if (!read_lines(left, lines)) {
                return false;
            }
        }
        return true;
    }
    // Text after the last newline: a line the child did not finish.
    [[nodiscard]] const std::string& unfinished_line() const noexcept { return partial_; }

    void send(std::string_view text) {
        if (::write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            throw std::system_error(errno, std::generic_category(), "write to child");
        }
    }
    void kill() noexcept { ::kill(pid_, SIGKILL); }
    // Waits for the child to end; its waitpid status.
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
        return status;
    }

private:
    void close_pipes() noexcept {
        for (int* fd : {&out_, &in_}) {
            if (*fd >= 0) {
                ::close(std::exchange(*fd, -1));
            }
        }
    }

    pid_t pid_{-1};
    int out_{-1};
    int in_{-1};
    std::string partial_;
    bool reaped_{false};
};

// "exit 0", "killed by signal 9", for messages.
inline std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return fmt::format("exit {}", WEXITSTATUS(status));
    }
    return WIFSIGNALED(status) ? fmt::format("killed by signal {}", WTERMSIG(status))
                               : std::string("stopped");
}

// Splits a line at spaces.
inline std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> parts;
    while (!line.empty()) {
        const auto space = line.find(' ');
        if (space != 0) {
            parts.emplace_back(line.substr(0, space));
        }
        line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
    }
    return parts;
}

}  // namespace orderly::storage_test
