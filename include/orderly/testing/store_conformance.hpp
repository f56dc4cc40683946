#pragma once
/// \file
/// The store conformance suite: the scenarios and invariants every
/// implementation of the Store port (orderly/ports/store.hpp) must pass, run
/// the same way against orderly's own stores and against a host's.
///
/// It checks the port contract one rule at a time (round trips of every
/// field, order and shipment versions, each stock operation and its error,
/// idempotency keys, atomic commits, indexes, the outbox and its leases),
/// stock transfers (called back ones and recalled units included), resolved
/// shipments, the on-hand ledger and low-stock flags, after-sales
/// tickets and returned stock (restock, the damaged bin), exception cases
/// (one live case per cause) and the order archive, group commits through
/// store::begin_batch, races between threads (a hot stock row, writers of one
/// order or shipment version, low-stock flaggers, detectors opening a case
/// for one cause, concurrent claims), and finally the whole engine over the
/// store: a seeded random run of every command with the invariants checked
/// after every step, and threads placing orders for one hot SKU.
///
/// The suite is framework-neutral: run_store_conformance() returns the
/// failures, each with its scenario, file, line and a sentence. For doctest,
/// orderly/testing/store_conformance_doctest.hpp registers one test case per
/// scenario. Every scenario asks the factory for fresh, empty stores, so a
/// factory must hand out a new store (a new database file, say) on each call.
///
/// Replay a randomized failure with the seed the failure names
/// (conformance_options::seed, or ORDERLY_SEED=<n> through from_environment()).

#include <orderly/orderly.hpp>
#include <orderly/testing/manual_clock.hpp>
#include <orderly/testing/recording_notifier.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace orderly::testing {

/// Makes the store under test. Each call must return a fresh, empty store
/// that nothing else uses; scenarios call it once or several times.
using store_factory = std::function<std::unique_ptr<store>()>;

/// How the suite runs: the seed and size of its randomized scenarios and the
/// number of threads of its concurrent ones.
struct conformance_options {
    /// Seed of every randomized scenario; a failure names it for replay.
    std::uint64_t seed{20261122};
    /// Commands in the engine's random scenario (about 1.5 ms each on the
    /// memory store under AddressSanitizer).
    std::size_t random_steps{1000};
    /// Threads in each concurrent scenario; fewer than 2 counts as 2.
    std::size_t threads{4};
    /// Prints every step of the engine scenario to standard output.
    bool trace{false};

    /// `defaults`, overridden by the environment when set: ORDERLY_SEED,
    /// ORDERLY_STEPS, ORDERLY_THREADS (numbers) and ORDERLY_TRACE (any value).
    [[nodiscard]] static conformance_options from_environment(conformance_options defaults);
    /// The default options, overridden by the environment (see above).
    [[nodiscard]] static conformance_options from_environment();
};

/// One broken rule: where it was checked and what went wrong.
struct conformance_failure {
    std::string scenario;  ///< The scenario's name.
    std::string file;      ///< The source file of the check.
    int line{0};           ///< The line of the check.
    std::string message;   ///< What was expected and what the store did.

    /// Failures are equal when every field is.
    friend bool operator==(const conformance_failure&, const conformance_failure&) = default;
};

/// Where a check was made. Like std::source_location, which Clang before 16
/// cannot compile with libstdc++: a default argument of current() captures
/// the file and line of the call that used it.
struct conformance_location {
    const char* file{""};  ///< The source file.
    int line{0};           ///< The line in it.

    /// The location of the call (when used as a default argument, of its caller).
    [[nodiscard]] static constexpr conformance_location current(
        const char* file = __builtin_FILE(), int line = __builtin_LINE()) noexcept {
        return conformance_location{file, line};
    }
};

/// Thrown by conformance_checker::require() and need() to stop a scenario
/// that cannot go on; run_conformance_scenario() catches it. Deliberately not
/// a std::exception, so no handler in a scenario swallows it.
struct conformance_abort {};

/// Collects the failures of one scenario. Thread-safe: the concurrent
/// scenarios check from their worker threads. require() and need() throw
/// conformance_abort, so call them on the scenario's own thread only.
class conformance_checker {
public:
    /// Failures kept per scenario; later ones are counted, not kept.
    static constexpr std::size_t max_kept_failures = 64;

    /// A checker for the scenario named `scenario`.
    explicit conformance_checker(std::string scenario = {}) : scenario_(std::move(scenario)) {}

    /// The scenario's name.
    [[nodiscard]] const std::string& scenario() const noexcept { return scenario_; }

    /// Records a failure saying `message` at `where`.
    void fail(std::string_view message,
              conformance_location where = conformance_location::current()) {
        const std::lock_guard lock(mutex_);
        ++failure_count_;
        if (failures_.size() < max_kept_failures) {
            failures_.push_back(
                conformance_failure{scenario_, where.file, where.line, std::string(message)});
        }
    }

    /// Records a failure unless `passed`; returns `passed`.
    bool check(bool passed, std::string_view message,
               conformance_location where = conformance_location::current()) {
        if (!passed) {
            fail(message, where);
        }
        return passed;
    }

    /// Records "`expression`: `message`" unless `passed` (ORDERLY_CONFORM_CHECK).
    bool check(bool passed, std::string_view expression, std::string_view message,
               conformance_location where = conformance_location::current()) {
        if (!passed) {
            fail(fmt::format("{} (failed: {})", message, expression), where);
        }
        return passed;
    }

    /// Like check(), but stops the scenario (throws conformance_abort) on failure.
    void require(bool passed, std::string_view message,
                 conformance_location where = conformance_location::current()) {
        if (!passed) {
            fail(message, where);
            throw conformance_abort{};
        }
    }

    /// The value of `r`; records "`what` failed: <error>" and stops the
    /// scenario when `r` is an error.
    template <class T>
    T need(result<T> r, std::string_view what,
           conformance_location where = conformance_location::current()) {
        if (r.has_error()) {
            fail(fmt::format("{} failed: {}", what, to_string(r.error())), where);
            throw conformance_abort{};
        }
        if constexpr (!std::is_void_v<T>) {
            return std::move(*r);
        }
    }

    /// Records "`what` failed: <error>" when `r` is an error; returns whether it succeeded.
    template <class T>
    bool succeeded(const result<T>& r, std::string_view what,
                   conformance_location where = conformance_location::current()) {
        if (r.has_error()) {
            fail(fmt::format("{} failed: {}", what, to_string(r.error())), where);
            return false;
        }
        return true;
    }

    /// Checks that `r` is an error with `code` and, when given, `field`;
    /// returns whether it is.
    template <class T>
    bool refused(const result<T>& r, errc code, std::optional<std::string_view> field,
                 std::string_view what,
                 conformance_location where = conformance_location::current()) {
        const std::string wanted = field ? fmt::format("{} on field '{}'", to_string(code), *field)
                                         : std::string(to_string(code));
        if (!r.has_error()) {
            fail(fmt::format("{}: expected a refusal ({}), got success", what, wanted), where);
            return false;
        }
        const error& e = r.error();
        if (e.code != code || (field && e.field != *field)) {
            fail(fmt::format("{}: expected {}, got {}", what, wanted, to_string(e)), where);
            return false;
        }
        return true;
    }

    /// Keeps a remark for the report (what a randomized run covered, say).
    void note(std::string text) {
        const std::lock_guard lock(mutex_);
        notes_.push_back(std::move(text));
    }

    /// The failures recorded so far, oldest first (at most max_kept_failures).
    [[nodiscard]] std::vector<conformance_failure> failures() const {
        const std::lock_guard lock(mutex_);
        return failures_;
    }
    /// Every failure recorded so far, kept or not.
    [[nodiscard]] std::size_t failure_count() const {
        const std::lock_guard lock(mutex_);
        return failure_count_;
    }
    /// The remarks kept so far.
    [[nodiscard]] std::vector<std::string> notes() const {
        const std::lock_guard lock(mutex_);
        return notes_;
    }
    /// True while nothing failed.
    [[nodiscard]] bool passed() const { return failure_count() == 0; }

private:
    std::string scenario_;
    mutable std::mutex mutex_;
    std::vector<conformance_failure> failures_;
    std::vector<std::string> notes_;
    std::size_t failure_count_{0};
};

/// One scenario of the suite: a name to report and the function that runs it
/// against stores from the factory, recording failures in the checker.
struct conformance_scenario {
    std::string_view name;  ///< Short, unique, without commas (a test name).
    /// Runs the scenario; may throw conformance_abort (see conformance_checker).
    void (*run)(const store_factory& make, const conformance_options& options,
                conformance_checker& checker);
};

}  // namespace orderly::testing

/// Checks `condition` in a conformance scenario; on failure records `message`
/// and the condition's text at this file and line. Evaluates to the result.
#define ORDERLY_CONFORM_CHECK(checker, condition, message) \
    (checker).check(static_cast<bool>(condition), #condition, (message))

/// Like ORDERLY_CONFORM_CHECK, but stops the scenario when `condition` is false.
#define ORDERLY_CONFORM_REQUIRE(checker, condition, message) \
    (checker).require(static_cast<bool>(condition),          \
                      ::fmt::format("{} (failed: {})", (message), #condition))

/// Internals of the conformance suite: builders, store helpers and the
/// scenarios themselves. Not part of the API; names may change.
namespace orderly::testing::detail {

// ---- randomness -------------------------------------------------------------------

/// splitmix64: the same sequence on every platform and standard library, so
/// a seed replays anywhere.
class prng {
public:
    explicit prng(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31U);
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool percent(std::uint64_t p) { return next() % 100 < p; }
    template <class T>
    const T& pick(const std::vector<T>& items) {
        return items[below(items.size())];
    }

private:
    std::uint64_t state_;
};

// ---- values -----------------------------------------------------------------------

inline timestamp at_ms(std::int64_t ms) {
    return from_unix_ms(ms);
}

inline quantity units(std::int64_t n) {
    return quantity::of(n).value();
}

inline money cny(std::int64_t fen) {
    return money::from_minor(fen, currencies::CNY);
}

inline money amount(std::string_view text, currency in) {
    return money::parse(text, in).value();
}

inline std::size_t thread_count(const conformance_options& options) {
    return std::max<std::size_t>(2, options.threads);
}

/// A complete but plain order; scenarios change the fields they are about.
inline order plain_order(std::uint64_t id, std::uint64_t version = 1,
                         order_state state = order_state::pending_review,
                         std::optional<timestamp> due_at = std::nullopt) {
    const auto line = [](std::string_view sku, std::int64_t count) {
        return order_line{.sku = sku_id(std::string(sku)),
                          .units = units(count),
                          .unit_price = cny(1999),
                          .discount = money::zero(currencies::CNY)};
    };
    return order{.id = order_id(id),
                 .number = order_number(),
                 .version = version,
                 .channel = order_channel::web,
                 .customer = customer_id("c-1"),
                 .merchant = merchant_id("m-1"),
                 .ship_to = address{},
                 .lines = {line("SKU-1", 2), line("SKU-2", 1)},
                 .subtotal = cny(5997),
                 .discount = money::zero(currencies::CNY),
                 .shipping_fee = cny(800),
                 .total = cny(6797),
                 .method = payment_method::card,
                 .state = state,
                 .held_from = order_state::pending_review,
                 .tags = {},
                 .review_flags = {},
                 .reservations = {},
                 .payments = {},
                 .payment_failures = 0,
                 .shipments = {},
                 .warehouse = warehouse_id(),
                 .carrier = carrier_id(),
                 .tracking_number = {},
                 .placed_at = at_ms(1000),
                 .updated_at = at_ms(1000),
                 .due_at = due_at};
}

/// Text a store must keep byte for byte: CJK, accents, emoji, quotes,
/// backslashes and the characters SQL's LIKE treats specially.
inline const std::string tricky_text =
    "张伟 · Zoë «quoted» \"double\" 'single' \\back\\slash 100% _under_ 🚚📦";

/// A refund ledger with one entry of every source, oldest first, in `in`
/// (KWD for rich_order): refunds of the price carry lines (a manual refund
/// with 0 units, a parcel's without shipping), the others none; references
/// up to the largest id, an empty reason and text that needs escaping.
inline std::vector<order_refund> rich_refunds(currency in) {
    const auto big = [&](std::string_view text) { return amount(text, in); };
    const auto line = [&](std::uint32_t index, std::int64_t count, std::string_view goods,
                          std::string_view shipping) {
        return refund_line{
            .line = index, .units = units(count), .goods = big(goods), .shipping = big(shipping)};
    };
    return {order_refund{.at = at_ms(1'795'000'100'000),
                         .source = refund_source::returned_payment,
                         .reference = 22,
                         .amount = big("5.000"),
                         .lines = {},
                         .reason = "重复付款 repeated capture \"gw-22\""},
            order_refund{.at = at_ms(1'795'000'200'000),
                         .source = refund_source::ticket,
                         .reference = 41,
                         .amount = big("98765432109876543210.130"),
                         .lines = {line(1, 1, "98765432109876543210.125", "0.004"),
                                   line(2, 1, "0", "0.001")},
                         .reason = "ticket 41 refund_only"},
            order_refund{.at = at_ms(1'795'000'300'000),
                         .source = refund_source::parcel,
                         .reference = (std::uint64_t{1} << 63) - 1,
                         .amount = big("22.685"),
                         .lines = {line(0, 2, "22.685", "0")},
                         .reason = tricky_text},
            order_refund{.at = at_ms(1'795'000'300'000),
                         .source = refund_source::compensation,
                         .reference = 31,
                         .amount = big("3.500"),
                         .lines = {},
                         .reason = ""},
            order_refund{.at = at_ms(1'795'000'400'000),
                         .source = refund_source::manual,
                         .reference = 0,
                         .amount = big("1.500"),
                         .lines = {line(0, 0, "1.000", "0"), line(1, 0, "0.500", "0")},
                         .reason = "goodwill"},
            order_refund{.at = at_ms(1'795'000'500'000),
                         .source = refund_source::cancellation,
                         .reference = 0,
                         .amount = big("0.001"),
                         .lines = {},
                         .reason = "cancelled by the customer"}};
}

/// An order with every field set to something other than its default: three
/// lines with discounts, a reservation in each state, payments in several
/// states, tags, review flags, two shipments, two tickets, a rating, a refund
/// ledger with an entry of every source (those tied to the price with lines,
/// a manual one with a line of 0 units; the others without), Unicode text,
/// amounts far beyond 64 bits, and a deadline. KWD has three minor digits, so
/// a store that assumes two fails.
inline order rich_order(std::uint64_t id) {
    const currency kwd = currency::of<"KWD">();
    const auto big = [&](std::string_view text) { return amount(text, kwd); };
    const auto make_payment = [&](std::uint64_t pid, payment_method m, std::string reference,
                                  payment_state state, std::string_view authorized,
                                  std::string_view captured, std::string_view refunded,
                                  std::string reason, std::int64_t updated_ms) {
        return payment{.id = payment_id(pid),
                       .method = m,
                       .gateway_reference = std::move(reference),
                       .state = state,
                       .authorized = big(authorized),
                       .captured = big(captured),
                       .refunded = big(refunded),
                       .failure_reason = std::move(reason),
                       .updated_at = at_ms(updated_ms)};
    };
    const auto make_reservation = [](std::uint64_t rid, std::string sku, std::string warehouse,
                                     std::int64_t count, reservation_state state) {
        return reservation{.id = reservation_id(rid),
                           .sku = sku_id(std::move(sku)),
                           .warehouse = warehouse_id(std::move(warehouse)),
                           .units = units(count),
                           .state = state};
    };
    return order{
        .id = order_id(id),
        .number = order_number::from_value((std::uint64_t{1} << 62) + 987654321).value(),
        .version = 1,
        .channel = order_channel::marketplace,
        .customer = customer_id("cust-0042"),
        .merchant = merchant_id("merchant-7"),
        .ship_to = address{.recipient = "张伟 (Zhāng Wěi) 👋",
                           .phone = "+86 138-1234-5678",
                           .country = "CN",
                           .province = "浙江省",
                           .city = "杭州市",
                           .district = "西湖区",
                           .street = tricky_text,
                           .postcode = "310000"},
        .lines = {order_line{.sku = sku_id("SKU-TEA"),
                             .units = units(3),
                             .unit_price = big("12.345"),
                             .discount = big("1.005")},
                  order_line{.sku = sku_id("SKU-GOLD"),
                             .units = units(1'000'000),
                             .unit_price = big("98765432109876543210.999"),
                             .discount = big("0")},
                  order_line{.sku = sku_id("SKU-CUP"),
                             .units = units(1),
                             .unit_price = big("0.001"),
                             .discount = big("0.001")}},
        .subtotal = big("98765432109876543210999000037.036"),
        .discount = big("1.006"),
        .shipping_fee = big("7.5"),
        .total = big("98765432109876543210999000043.530"),
        .method = payment_method::bank_transfer,
        .state = order_state::on_hold,
        .held_from = order_state::packed,
        .tags = {"vip", "礼品 gift", "tag with spaces", "a,b;c"},
        .review_flags = {"high_value", "restricted_sku"},
        .reservations =
            {make_reservation(11, "SKU-TEA", "WH-NORTH", 3, reservation_state::held),
             make_reservation(12, "SKU-GOLD", "WH-SOUTH", 1'000'000, reservation_state::committed),
             make_reservation(13, "SKU-CUP", "WH-NORTH", 1, reservation_state::consumed),
             make_reservation(14, "SKU-CUP", "WH-EAST", 2, reservation_state::released)},
        .payments = {make_payment(21, payment_method::card, "gw-21", payment_state::failed, "0",
                                  "0", "0", "卡被拒绝 card declined ❌", 1'795'000'000'100),
                     make_payment(
                         22, payment_method::wallet, "gw-22", payment_state::partially_refunded,
                         "98765432109876543210999000043.530", "98765432109876543210999000043.530",
                         "12.345", "", 1'795'000'000'200),
                     make_payment(23, payment_method::bank_transfer, "gw-23",
                                  payment_state::authorized, "5.000", "0", "0", "",
                                  1'795'000'000'300)},
        .payment_failures = 2,
        .shipments = {shipment_id(31), shipment_id(30)},
        .warehouse = warehouse_id("WH-NORTH"),
        .carrier = carrier_id("sf-express"),
        .tracking_number = "SF1234567890",
        .placed_at = at_ms(1'795'000'000'123),
        .updated_at = at_ms(1'795'000'000'456),
        .due_at = at_ms(1'795'000'999'789),
        .tickets = {ticket_id(41), ticket_id((std::uint64_t{1} << 63) - 1)},
        .rating =
            order_rating{
                .score = 4, .text = "包装很好 «well packed» \\o/", .at = at_ms(1'795'001'000'000)},
        .refunds = rich_refunds(kwd)};
}

/// An order whose collections are empty and whose deadline is unset, in a
/// currency without minor digits (JPY).
inline order sparse_order(std::uint64_t id) {
    const currency jpy = currency::of<"JPY">();
    return order{.id = order_id(id),
                 .number = order_number::from_value(4242).value(),
                 .version = 1,
                 .channel = order_channel::import,
                 .customer = customer_id("c"),
                 .merchant = merchant_id(),
                 .ship_to = address{},
                 .lines = {},
                 .subtotal = money::zero(jpy),
                 .discount = money::zero(jpy),
                 .shipping_fee = money::zero(jpy),
                 .total = money::zero(jpy),
                 .method = payment_method::cash_on_delivery,
                 .state = order_state::closed,
                 .held_from = order_state::delivered,
                 .tags = {},
                 .review_flags = {},
                 .reservations = {},
                 .payments = {},
                 .payment_failures = 0,
                 .shipments = {},
                 .warehouse = warehouse_id(),
                 .carrier = carrier_id(),
                 .tracking_number = {},
                 .placed_at = at_ms(0),
                 .updated_at = at_ms(1),
                 .due_at = std::nullopt};
}

inline timeline_entry entry(order_event event, std::string reason, timestamp at = at_ms(1000),
                            std::optional<order_state> from = std::nullopt,
                            order_state to = order_state::pending_review,
                            actor who = system_actor()) {
    return timeline_entry{.at = at,
                          .actor = std::move(who),
                          .event = event,
                          .from = from,
                          .to = to,
                          .reason = std::move(reason)};
}

inline notification note(std::uint64_t order, std::string text,
                         timestamp created_at = at_ms(1000)) {
    return notification{.id = 0,
                        .kind = notification_kind::order_confirmed,
                        .order = order_id(order),
                        .number = order_number(),
                        .audience = audience::customer,
                        .recipient = "c-1",
                        .text = std::move(text),
                        .details = {{"channel", "web"}},
                        .created_at = created_at,
                        .attempt = 0};
}

inline stock_change change(std::string_view sku, std::string_view warehouse,
                           stock_operation operation, std::int64_t count,
                           std::string field = "lines[0].units") {
    return stock_change{.sku = sku_id(std::string(sku)),
                        .warehouse = warehouse_id(std::string(warehouse)),
                        .operation = operation,
                        .units = units(count),
                        .field = std::move(field)};
}

inline idempotency_record record(std::string key, std::uint64_t order) {
    return idempotency_record{.key = std::move(key),
                              .fingerprint = 42,
                              .outcome = command_outcome{.order = order_id(order),
                                                         .number = order_number(),
                                                         .state = order_state::pending_review,
                                                         .payment = std::nullopt,
                                                         .repeated = false},
                              .created_at = at_ms(1000)};
}

inline sku plain_sku(std::string_view id, std::int64_t price_fen) {
    return sku{.id = sku_id(std::string(id)),
               .merchant = merchant_id("m-1"),
               .name = "Tea",
               .category = "food",
               .price = cny(price_fen),
               .weight_g = 250,
               .volume_cm3 = 800,
               .traits = sku_traits{},
               .status = sku_status::on_sale};
}

/// A carrier scan for the shipment scenarios, received a minute after it happened.
inline carrier_event carrier_scan(std::string id, tracking_event kind, std::int64_t at,
                                  std::string location = {}, std::string detail = {}) {
    return carrier_event{.id = std::move(id),
                         .kind = kind,
                         .occurred_at = at_ms(at),
                         .received_at = at_ms(at + 60'000),
                         .location = std::move(location),
                         .detail = std::move(detail)};
}

/// A tracking history built the way the engine builds one, event by event in
/// arrival order: two scans arrive after later ones (out of order), and a
/// pickup scan after the delivery is kept but superseded.
inline tracking_history rich_tracking(std::int64_t label_ms) {
    constexpr std::int64_t hour = 3'600'000;
    const std::array<carrier_event, 6> arrivals = {
        carrier_scan("E-1", tracking_event::picked_up, label_ms + hour, "杭州 Hangzhou"),
        carrier_scan("E-3", tracking_event::arrived_at_hub, label_ms + 5 * hour, "Shanghai hub"),
        carrier_scan("E-5", tracking_event::delivered, label_ms + 30 * hour, "locker 12",
                     tricky_text),
        carrier_scan("E-2", tracking_event::departed_facility, label_ms + 3 * hour),
        carrier_scan("", tracking_event::sent_out_for_delivery, label_ms + 20 * hour),
        carrier_scan("E-9", tracking_event::picked_up, label_ms + 40 * hour, "",
                     "scanner replayed an old pickup")};
    tracking_history history(at_ms(label_ms));
    for (const carrier_event& event : arrivals) {
        history = apply_carrier_event(history, event).value().history;
    }
    return history;
}

/// A packing check with scans, an over-quantity and a stranger-SKU mismatch,
/// and a passed finish.
inline packing_record rich_packing(std::uint64_t id) {
    return packing_record{
        .shipment = shipment_id(id),
        .expected = {packing_line{.sku = sku_id("SKU-CUP"), .units = units(1)},
                     packing_line{.sku = sku_id("SKU-TEA"), .units = units(3)}},
        .scans = {packing_scan{.sku = sku_id("SKU-TEA"), .units = units(2), .at = at_ms(2100)},
                  packing_scan{.sku = sku_id("SKU-CUP"), .units = units(1), .at = at_ms(2200)},
                  packing_scan{.sku = sku_id("SKU-TEA"), .units = units(1), .at = at_ms(2400)}},
        .mismatches = {packing_mismatch{.kind = packing_mismatch_kind::unexpected_sku,
                                        .sku = sku_id("SKU-ROGUE"),
                                        .expected = 0,
                                        .counted = 0,
                                        .units = 1,
                                        .at = at_ms(2150)},
                       packing_mismatch{.kind = packing_mismatch_kind::over_quantity,
                                        .sku = sku_id("SKU-TEA"),
                                        .expected = 3,
                                        .counted = 3,
                                        .units = 2,
                                        .at = at_ms(2450)}},
        .mismatch_count = 2,
        .status = packing_status::passed,
        .finished_at = at_ms(2500)};
}

/// A shipment with every field set to something other than its default: two
/// orders' lines, a packing record with mismatches, a tracking history with
/// out-of-order and superseded events, one resolved exception with every
/// optional set (an amount in KWD, three minor digits) and one open, the
/// ticket it serves, Unicode text and ids beyond 2^62.
inline shipment rich_shipment(std::uint64_t id) {
    const currency kwd = currency::of<"KWD">();
    return shipment{
        .id = shipment_id(id),
        .version = 1,
        .merchant = merchant_id("merchant-7"),
        .customer = customer_id("cust-0042"),
        .ship_to = address{.recipient = "张伟 (Zhāng Wěi) 👋",
                           .phone = "+86 138-1234-5678",
                           .country = "CN",
                           .province = "浙江省",
                           .city = "杭州市",
                           .district = "西湖区",
                           .street = tricky_text,
                           .postcode = "310000"},
        .orders = {order_id(1001), order_id((std::uint64_t{1} << 62) + 5)},
        .warehouse = warehouse_id("WH-NORTH"),
        .shipping_method = "freight · 货运",
        .lines = {shipment_line{.order = order_id(1001),
                                .line = 2,
                                .sku = sku_id("SKU-TEA"),
                                .units = units(3),
                                .reservation = reservation_id(11)},
                  shipment_line{.order = order_id((std::uint64_t{1} << 62) + 5),
                                .line = 0,
                                .sku = sku_id("SKU-CUP"),
                                .units = units(1),
                                .reservation = reservation_id((std::uint64_t{1} << 62) + 14)}},
        .state = shipment_state::delivered,
        .wave = 77,
        .packing = rich_packing(id),
        .carrier = carrier_id("sf-express"),
        .service = service_level::pickup_point,
        .tracking_number = "SF1234567890",
        .shipping_cost = cny(1250),
        .promised_by = at_ms(1'795'100'000'000),
        .tracking = rich_tracking(1'795'000'000'000),
        .exceptions = {logistics_exception{.kind = logistics_exception_kind::damaged,
                                           .raised_at = at_ms(1'795'200'000'000),
                                           .detail = "box crushed «面目全非»",
                                           .remedy = logistics_remedy::compensation,
                                           .resolved_at = at_ms(1'795'300'000'000),
                                           .amount = amount("98765432109876543210.125", kwd),
                                           .replacement = shipment_id(id + 1),
                                           .reported = true},
                       logistics_exception{.kind = logistics_exception_kind::delayed,
                                           .raised_at = at_ms(1'795'250'000'000),
                                           .detail = "no scan for 3 days",
                                           .remedy = logistics_remedy::none,
                                           .resolved_at = std::nullopt,
                                           .amount = std::nullopt,
                                           .replacement = std::nullopt,
                                           .reported = false}},
        .replaces = shipment_id((std::uint64_t{1} << 63) - 1),
        .created_at = at_ms(1'794'900'000'000),
        .updated_at = at_ms(1'795'300'000'001),
        .shipped_at = at_ms(1'795'000'000'000),
        .delivered_at = at_ms(1'795'108'000'000),
        .due_at = at_ms(1'795'400'000'000),
        .ticket = ticket_id((std::uint64_t{1} << 62) + 77)};
}

/// A shipment of one line whose optionals are all unset: planned, not packed,
/// not shipped.
inline shipment plain_shipment(std::uint64_t id, std::uint64_t version = 1,
                               shipment_state state = shipment_state::planned,
                               std::optional<timestamp> due_at = std::nullopt) {
    return shipment{.id = shipment_id(id),
                    .version = version,
                    .merchant = merchant_id(),
                    .customer = customer_id("c-1"),
                    .ship_to = address{},
                    .orders = {order_id(5)},
                    .warehouse = warehouse_id("WH-1"),
                    .shipping_method = "standard",
                    .lines = {shipment_line{.order = order_id(5),
                                            .line = 0,
                                            .sku = sku_id("SKU-1"),
                                            .units = units(2),
                                            .reservation = reservation_id(1)}},
                    .state = state,
                    .wave = 0,
                    .packing = std::nullopt,
                    .carrier = carrier_id(),
                    .service = service_level::standard,
                    .tracking_number = {},
                    .shipping_cost = std::nullopt,
                    .promised_by = std::nullopt,
                    .tracking = std::nullopt,
                    .exceptions = {},
                    .replaces = std::nullopt,
                    .created_at = at_ms(1000),
                    .updated_at = at_ms(1000),
                    .shipped_at = std::nullopt,
                    .delivered_at = std::nullopt,
                    .due_at = due_at};
}

/// A return parcel's history built the way the engine builds one, event by
/// event in arrival order: a scan arrives after a later one (out of order),
/// one arrives twice (recorded once), and the parcel ends delivered at the
/// warehouse.
inline tracking_history return_tracking(std::int64_t label_ms) {
    constexpr std::int64_t hour = 3'600'000;
    const std::array<carrier_event, 5> arrivals = {
        carrier_scan("R-1", tracking_event::picked_up, label_ms + hour, "北京 Beijing"),
        carrier_scan("R-3", tracking_event::arrived_at_hub, label_ms + 6 * hour, "Tianjin hub"),
        carrier_scan("R-2", tracking_event::departed_facility, label_ms + 2 * hour),
        carrier_scan("R-3", tracking_event::arrived_at_hub, label_ms + 6 * hour, "Tianjin hub"),
        carrier_scan("R-4", tracking_event::delivered, label_ms + 26 * hour, "WH-RETURNS dock",
                     tricky_text)};
    tracking_history history(at_ms(label_ms));
    for (const carrier_event& event : arrivals) {
        history = apply_carrier_event(history, event).value().history;
    }
    return history;
}

/// A ticket timeline entry.
inline ticket_entry ticket_step(std::int64_t at, ticket_event event,
                                std::optional<ticket_state> from, ticket_state to,
                                std::string note = {}, actor who = system_actor()) {
    return ticket_entry{.at = at_ms(at),
                        .actor = std::move(who),
                        .event = event,
                        .from = from,
                        .to = to,
                        .note = std::move(note)};
}

/// A ticket with every field set to something other than its default: three
/// lines with inspection results (units refused among them) and a
/// replacement SKU, evidence, a return
/// parcel whose history came out of order and with a repeat, a refund
/// breakdown in KWD (three minor digits) beyond 64 bits, a replacement
/// shipment, a repair carrier, a timeline of several actors with and without
/// a state before, escalations, Unicode text, ids beyond 2^62 and a deadline.
inline ticket rich_ticket(std::uint64_t id) {
    const currency kwd = currency::of<"KWD">();
    const auto big = [&](std::string_view text) { return amount(text, kwd); };
    constexpr std::int64_t opened = 1'796'000'000'000;
    const actor customer{"cust-0042", role::customer};
    const actor agent{"agent-珍", role::customer_service};
    return ticket{
        .id = ticket_id(id),
        .version = 1,
        .order = order_id((std::uint64_t{1} << 62) + 5),
        .number = order_number::from_value((std::uint64_t{1} << 62) + 987654321).value(),
        .customer = customer_id("cust-0042"),
        .merchant = merchant_id("merchant-7"),
        .type = ticket_type::exchange,
        .reason = ticket_reason::not_as_described,
        .description = tricky_text,
        .evidence = {"photo://1.jpg", "video://开箱 unboxing.mp4", ""},
        .lines = {ticket_line{.line = 2,
                              .sku = sku_id("SKU-TEA"),
                              .units = units(3),
                              .replacement_sku = sku_id("SKU-TEA-XL"),
                              .sellable = units(2),
                              .damaged = units(1)},
                  ticket_line{.line = 0,
                              .sku = sku_id("SKU-CUP"),
                              .units = units(1'000'000),
                              .replacement_sku = sku_id(),
                              .sellable = units(0),
                              .damaged = units(1'000'000)},
                  ticket_line{.line = 1,
                              .sku = sku_id("SKU-GOLD"),
                              .units = units(5),
                              .replacement_sku = sku_id(),
                              .sellable = units(1),
                              .damaged = units(0),
                              .refused = units(4)}},
        .state = ticket_state::escalated,
        .escalated_from = ticket_state::goods_received,
        .owner = "agent-珍",
        .auto_approved = true,
        .approval_rule = "rule: damaged «on arrival» 100%",
        .return_to = warehouse_id("WH-RETURNS"),
        .returned = return_parcel{.carrier = carrier_id("sf-express"),
                                  .tracking_number = "SF-R-0001",
                                  .tracking = return_tracking(opened + 3'600'000),
                                  .sent_at = at_ms(opened + 3'000'000)},
        .refund = refund_breakdown{.lines = {refund_line{.line = 0,
                                                         .units = units(1'000'000),
                                                         .goods = big("98765432109876543210.125"),
                                                         .shipping = big("0.001")},
                                             refund_line{.line = 2,
                                                         .units = units(1),
                                                         .goods = big("11.340"),
                                                         .shipping = big("0")}},
                                   .goods = big("98765432109876543221.465"),
                                   .shipping = big("0.001"),
                                   .total = big("98765432109876543221.466")},
        .replacement = shipment_id((std::uint64_t{1} << 63) - 1),
        .repair_carrier = carrier_id("zto"),
        .repair_tracking_number = "ZTO-7788",
        .timeline = {ticket_step(opened, ticket_event::submitted, std::nullopt,
                                 ticket_state::submitted, "", customer),
                     ticket_step(opened + 1000, ticket_event::review_requested,
                                 ticket_state::submitted, ticket_state::under_review,
                                 "no rule matched"),
                     ticket_step(opened + 2000, ticket_event::approved, ticket_state::under_review,
                                 ticket_state::awaiting_return, tricky_text, agent),
                     ticket_step(opened + 200'000'000, ticket_event::goods_received,
                                 ticket_state::awaiting_return, ticket_state::goods_received),
                     ticket_step(opened + 900'000'000, ticket_event::deadline_passed,
                                 ticket_state::goods_received, ticket_state::escalated,
                                 "inspection late")},
        .escalations = 3,
        .created_at = at_ms(opened),
        .updated_at = at_ms(opened + 900'000'000),
        .due_at = at_ms(opened + 1'000'000'000)};
}

/// A refund-only ticket of one line whose optionals are all unset: just
/// submitted, with its first timeline entry.
inline ticket plain_ticket(std::uint64_t id, std::uint64_t version = 1,
                           ticket_state state = ticket_state::submitted,
                           std::optional<timestamp> due_at = std::nullopt) {
    return ticket{.id = ticket_id(id),
                  .version = version,
                  .order = order_id(5),
                  .number = order_number(),
                  .customer = customer_id("c-1"),
                  .merchant = merchant_id(),
                  .type = ticket_type::refund_only,
                  .reason = ticket_reason::changed_mind,
                  .description = {},
                  .evidence = {},
                  .lines = {ticket_line{.line = 0,
                                        .sku = sku_id("SKU-1"),
                                        .units = units(1),
                                        .replacement_sku = sku_id(),
                                        .sellable = units(0),
                                        .damaged = units(0)}},
                  .state = state,
                  .escalated_from = ticket_state::submitted,
                  .owner = {},
                  .auto_approved = false,
                  .approval_rule = {},
                  .return_to = warehouse_id(),
                  .returned = std::nullopt,
                  .refund = std::nullopt,
                  .replacement = std::nullopt,
                  .repair_carrier = carrier_id(),
                  .repair_tracking_number = {},
                  .timeline = {ticket_step(1000, ticket_event::submitted, std::nullopt,
                                           ticket_state::submitted)},
                  .escalations = 0,
                  .created_at = at_ms(1000),
                  .updated_at = at_ms(1000),
                  .due_at = due_at};
}

// ---- describing differences ---------------------------------------------------------

inline std::string show(const money& m) {
    return m.to_string();
}
inline std::string show(timestamp t) {
    return fmt::format("{} ms", to_unix_ms(t));
}
inline std::string show(const std::string& s) {
    return fmt::format("'{}'", s);
}
inline std::string show(quantity q) {
    return fmt::format("{}", q.units());
}
template <class Tag, class Rep>
std::string show(const strong_id<Tag, Rep>& id) {
    return fmt::format("{}", id.value());
}
template <class T>
requires std::is_enum_v<T> std::string show(T e) {
    return std::string(to_string(e));
}
template <class T>
requires std::is_arithmetic_v<T> std::string show(T v) {
    return fmt::format("{}", v);
}
inline std::string show(const order_number& n) {
    return fmt::format("{}", n.value());
}
inline std::string show(const std::vector<std::string>& v) {
    return fmt::format("[{}]", fmt::join(v, "|"));
}
template <class Tag, class Rep>
std::string show(const std::vector<strong_id<Tag, Rep>>& ids) {
    std::vector<std::string> parts;
    parts.reserve(ids.size());
    for (const auto& id : ids) {
        parts.push_back(fmt::format("{}", id.value()));
    }
    return fmt::format("[{}]", fmt::join(parts, "|"));
}
inline std::string show(const order_rating& r) {
    return fmt::format("{} '{}' at {} ms", r.score, r.text, to_unix_ms(r.at));
}
template <class T>
std::string show(const std::optional<T>& v) {
    return v ? show(*v) : std::string("(none)");
}

/// Collects the fields of two values that differ, as "name: expected X, got Y".
class difference {
public:
    template <class T>
    void field(std::string_view name, const T& expected, const T& actual) {
        if (!(expected == actual)) {
            found_.push_back(
                fmt::format("{}: expected {}, got {}", name, show(expected), show(actual)));
        }
    }
    template <class T, class Each>
    void list(std::string_view name, const std::vector<T>& expected, const std::vector<T>& actual,
              Each&& each) {
        if (expected.size() != actual.size()) {
            found_.push_back(fmt::format("{}: expected {} entries, got {}", name, expected.size(),
                                         actual.size()));
            return;
        }
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const std::size_t before = found_.size();
            each(*this, expected[i], actual[i]);
            for (std::size_t k = before; k < found_.size(); ++k) {
                found_[k] = fmt::format("{}[{}].{}", name, i, found_[k]);
            }
        }
    }
    [[nodiscard]] std::string text() const {
        return found_.empty() ? std::string("a field not compared here differs")
                              : fmt::format("{}", fmt::join(found_, "; "));
    }

private:
    std::vector<std::string> found_;
};

/// Refund lines as text, every field: "line 0 x2: 1.00 CNY + 0.50 CNY, ...".
inline std::string refund_lines_text(const std::vector<refund_line>& lines) {
    std::vector<std::string> parts;
    parts.reserve(lines.size());
    for (const refund_line& l : lines) {
        parts.push_back(fmt::format("line {} x{}: {} + {}", l.line, l.units.units(), show(l.goods),
                                    show(l.shipping)));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

inline void compare_address(difference& d, const address& e, const address& a) {
    d.field("ship_to.recipient", e.recipient, a.recipient);
    d.field("ship_to.phone", e.phone, a.phone);
    d.field("ship_to.country", e.country, a.country);
    d.field("ship_to.province", e.province, a.province);
    d.field("ship_to.city", e.city, a.city);
    d.field("ship_to.district", e.district, a.district);
    d.field("ship_to.street", e.street, a.street);
    d.field("ship_to.postcode", e.postcode, a.postcode);
}

inline void compare_parts(difference& d, const order& e, const order& a) {
    d.list("lines", e.lines, a.lines, [](difference& x, const order_line& p, const order_line& q) {
        x.field("sku", p.sku, q.sku);
        x.field("units", p.units, q.units);
        x.field("unit_price", p.unit_price, q.unit_price);
        x.field("discount", p.discount, q.discount);
    });
    d.list("reservations", e.reservations, a.reservations,
           [](difference& x, const reservation& p, const reservation& q) {
               x.field("id", p.id, q.id);
               x.field("sku", p.sku, q.sku);
               x.field("warehouse", p.warehouse, q.warehouse);
               x.field("units", p.units, q.units);
               x.field("state", p.state, q.state);
           });
    d.list("payments", e.payments, a.payments,
           [](difference& x, const payment& p, const payment& q) {
               x.field("id", p.id, q.id);
               x.field("method", p.method, q.method);
               x.field("gateway_reference", p.gateway_reference, q.gateway_reference);
               x.field("state", p.state, q.state);
               x.field("authorized", p.authorized, q.authorized);
               x.field("captured", p.captured, q.captured);
               x.field("refunded", p.refunded, q.refunded);
               x.field("failure_reason", p.failure_reason, q.failure_reason);
               x.field("updated_at", p.updated_at, q.updated_at);
           });
}

/// Which fields of two orders differ, field by field.
inline std::string order_difference(const order& e, const order& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("number", e.number, a.number);
    d.field("version", e.version, a.version);
    d.field("channel", e.channel, a.channel);
    d.field("customer", e.customer, a.customer);
    d.field("merchant", e.merchant, a.merchant);
    compare_address(d, e.ship_to, a.ship_to);
    compare_parts(d, e, a);
    d.field("subtotal", e.subtotal, a.subtotal);
    d.field("discount", e.discount, a.discount);
    d.field("shipping_fee", e.shipping_fee, a.shipping_fee);
    d.field("total", e.total, a.total);
    d.field("method", e.method, a.method);
    d.field("state", e.state, a.state);
    d.field("held_from", e.held_from, a.held_from);
    d.field("tags", e.tags, a.tags);
    d.field("review_flags", e.review_flags, a.review_flags);
    d.field("payment_failures", e.payment_failures, a.payment_failures);
    d.field("shipments", e.shipments, a.shipments);
    d.field("warehouse", e.warehouse, a.warehouse);
    d.field("carrier", e.carrier, a.carrier);
    d.field("tracking_number", e.tracking_number, a.tracking_number);
    d.field("placed_at", e.placed_at, a.placed_at);
    d.field("updated_at", e.updated_at, a.updated_at);
    d.field("due_at", e.due_at, a.due_at);
    d.field("tickets", e.tickets, a.tickets);
    d.field("rating", e.rating, a.rating);
    d.list("refunds", e.refunds, a.refunds,
           [](difference& x, const order_refund& p, const order_refund& q) {
               x.field("at", p.at, q.at);
               x.field("source", p.source, q.source);
               x.field("reference", p.reference, q.reference);
               x.field("amount", p.amount, q.amount);
               if (p.lines != q.lines) {
                   x.field("lines", refund_lines_text(p.lines), refund_lines_text(q.lines));
               }
               x.field("reason", p.reason, q.reason);
           });
    return d.text();
}

inline std::string sku_difference(const sku& e, const sku& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("merchant", e.merchant, a.merchant);
    d.field("name", e.name, a.name);
    d.field("category", e.category, a.category);
    d.field("price", e.price, a.price);
    d.field("weight_g", e.weight_g, a.weight_g);
    d.field("volume_cm3", e.volume_cm3, a.volume_cm3);
    d.field("traits.fragile", e.traits.fragile, a.traits.fragile);
    d.field("traits.liquid", e.traits.liquid, a.traits.liquid);
    d.field("traits.valuable", e.traits.valuable, a.traits.valuable);
    d.field("traits.restricted", e.traits.restricted, a.traits.restricted);
    d.field("status", e.status, a.status);
    d.field("low_stock_below", e.low_stock_below, a.low_stock_below);
    return d.text();
}

/// A tracking history as text: the label time, then each entry's kind, time,
/// id, whether it is superseded and the state after it.
inline std::string tracking_text(const std::optional<tracking_history>& history) {
    if (!history) {
        return "(none)";
    }
    std::vector<std::string> parts;
    for (const tracking_entry& e : history->entries()) {
        parts.push_back(fmt::format("{}@{}#{}{}->{}", e.event.kind, to_unix_ms(e.event.occurred_at),
                                    e.event.id, e.superseded ? " superseded" : "", e.state_after));
    }
    return fmt::format("label {} ms [{}]", to_unix_ms(history->label_created_at()),
                       fmt::join(parts, ", "));
}

/// A packing record as text, enough to tell two apart in a failure message.
inline std::string packing_text(const std::optional<packing_record>& p) {
    if (!p) {
        return "(none)";
    }
    return fmt::format("shipment {} {} expected {} scans {} mismatches {} of {} finished {}",
                       p->shipment.value(), p->status, p->expected.size(), p->scans.size(),
                       p->mismatches.size(), p->mismatch_count, show(p->finished_at));
}

/// Which fields of two shipments differ, field by field.
inline std::string shipment_difference(const shipment& e, const shipment& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("version", e.version, a.version);
    d.field("merchant", e.merchant, a.merchant);
    d.field("customer", e.customer, a.customer);
    compare_address(d, e.ship_to, a.ship_to);
    d.field("orders", e.orders, a.orders);
    d.field("warehouse", e.warehouse, a.warehouse);
    d.field("shipping_method", e.shipping_method, a.shipping_method);
    d.list("lines", e.lines, a.lines,
           [](difference& x, const shipment_line& p, const shipment_line& q) {
               x.field("order", p.order, q.order);
               x.field("line", p.line, q.line);
               x.field("sku", p.sku, q.sku);
               x.field("units", p.units, q.units);
               x.field("reservation", p.reservation, q.reservation);
           });
    d.field("state", e.state, a.state);
    d.field("wave", e.wave, a.wave);
    if (e.packing != a.packing) {
        d.field("packing", packing_text(e.packing), packing_text(a.packing));
    }
    d.field("carrier", e.carrier, a.carrier);
    d.field("service", e.service, a.service);
    d.field("tracking_number", e.tracking_number, a.tracking_number);
    d.field("shipping_cost", e.shipping_cost, a.shipping_cost);
    d.field("promised_by", e.promised_by, a.promised_by);
    if (e.tracking != a.tracking) {
        d.field("tracking", tracking_text(e.tracking), tracking_text(a.tracking));
    }
    d.list("exceptions", e.exceptions, a.exceptions,
           [](difference& x, const logistics_exception& p, const logistics_exception& q) {
               x.field("kind", p.kind, q.kind);
               x.field("raised_at", p.raised_at, q.raised_at);
               x.field("detail", p.detail, q.detail);
               x.field("remedy", p.remedy, q.remedy);
               x.field("resolved_at", p.resolved_at, q.resolved_at);
               x.field("amount", p.amount, q.amount);
               x.field("replacement", p.replacement, q.replacement);
               x.field("reported", p.reported, q.reported);
           });
    d.field("replaces", e.replaces, a.replaces);
    d.field("created_at", e.created_at, a.created_at);
    d.field("updated_at", e.updated_at, a.updated_at);
    d.field("shipped_at", e.shipped_at, a.shipped_at);
    d.field("delivered_at", e.delivered_at, a.delivered_at);
    d.field("due_at", e.due_at, a.due_at);
    d.field("ticket", e.ticket, a.ticket);
    return d.text();
}

/// A refund breakdown as text, every amount.
inline std::string refund_text(const std::optional<refund_breakdown>& b) {
    if (!b) {
        return "(none)";
    }
    return fmt::format("{} goods {} shipping {} total {}", refund_lines_text(b->lines),
                       show(b->goods), show(b->shipping), show(b->total));
}

/// A return parcel as text, its tracking history included.
inline std::string parcel_text(const std::optional<return_parcel>& p) {
    if (!p) {
        return "(none)";
    }
    return fmt::format("{} {} sent {} ms, tracking {}", p->carrier, p->tracking_number,
                       to_unix_ms(p->sent_at), tracking_text(p->tracking));
}

/// A ticket timeline as text.
inline std::string ticket_timeline_text(const std::vector<ticket_entry>& entries) {
    std::vector<std::string> parts;
    parts.reserve(entries.size());
    for (const ticket_entry& e : entries) {
        parts.push_back(fmt::format("{}@{}:{}->{} by {} '{}'", e.event, to_unix_ms(e.at),
                                    e.from ? to_string(*e.from) : "-", e.to, e.actor, e.note));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

/// Which fields of two tickets differ, field by field.
inline std::string ticket_difference(const ticket& e, const ticket& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("version", e.version, a.version);
    d.field("order", e.order, a.order);
    d.field("number", e.number, a.number);
    d.field("customer", e.customer, a.customer);
    d.field("merchant", e.merchant, a.merchant);
    d.field("type", e.type, a.type);
    d.field("reason", e.reason, a.reason);
    d.field("description", e.description, a.description);
    d.field("evidence", e.evidence, a.evidence);
    d.list("lines", e.lines, a.lines,
           [](difference& x, const ticket_line& p, const ticket_line& q) {
               x.field("line", p.line, q.line);
               x.field("sku", p.sku, q.sku);
               x.field("units", p.units, q.units);
               x.field("replacement_sku", p.replacement_sku, q.replacement_sku);
               x.field("sellable", p.sellable, q.sellable);
               x.field("damaged", p.damaged, q.damaged);
               x.field("refused", p.refused, q.refused);
           });
    d.field("state", e.state, a.state);
    d.field("escalated_from", e.escalated_from, a.escalated_from);
    d.field("owner", e.owner, a.owner);
    d.field("auto_approved", e.auto_approved, a.auto_approved);
    d.field("approval_rule", e.approval_rule, a.approval_rule);
    d.field("return_to", e.return_to, a.return_to);
    if (e.returned != a.returned) {
        d.field("returned", parcel_text(e.returned), parcel_text(a.returned));
    }
    if (e.refund != a.refund) {
        d.field("refund", refund_text(e.refund), refund_text(a.refund));
    }
    d.field("replacement", e.replacement, a.replacement);
    d.field("repair_carrier", e.repair_carrier, a.repair_carrier);
    d.field("repair_tracking_number", e.repair_tracking_number, a.repair_tracking_number);
    if (e.timeline != a.timeline) {
        d.field("timeline", ticket_timeline_text(e.timeline), ticket_timeline_text(a.timeline));
    }
    d.field("escalations", e.escalations, a.escalations);
    d.field("created_at", e.created_at, a.created_at);
    d.field("updated_at", e.updated_at, a.updated_at);
    d.field("due_at", e.due_at, a.due_at);
    return d.text();
}

inline std::string note_difference(const notification& e, const notification& a) {
    difference d;
    d.field("kind", e.kind, a.kind);
    d.field("order", e.order, a.order);
    d.field("number", e.number, a.number);
    d.field("audience", e.audience, a.audience);
    d.field("recipient", e.recipient, a.recipient);
    d.field("text", e.text, a.text);
    if (e.details != a.details) {
        d.field("details", std::string("(as enqueued)"), std::string("(something else)"));
    }
    d.field("created_at", e.created_at, a.created_at);
    return d.text();
}

inline std::string timeline_text(const std::vector<timeline_entry>& entries) {
    std::vector<std::string> parts;
    parts.reserve(entries.size());
    for (const timeline_entry& e : entries) {
        parts.push_back(fmt::format("{}@{}:{}->{} by {} '{}'", e.event, to_unix_ms(e.at),
                                    e.from ? to_string(*e.from) : "-", e.to, e.actor, e.reason));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

inline std::string ids_text(const std::vector<std::uint64_t>& ids) {
    return fmt::format("[{}]", fmt::join(ids, ", "));
}

// ---- working with the store under test ------------------------------------------------

using here = conformance_location;

inline std::unique_ptr<store> fresh(const store_factory& make, conformance_checker& c,
                                    here where = here::current()) {
    c.require(static_cast<bool>(make), "the store factory is empty", where);
    std::unique_ptr<store> made = make();
    c.require(made != nullptr, "the store factory returned no store", where);
    return made;
}

inline std::unique_ptr<store_transaction> begin(store& s, conformance_checker& c,
                                                here where = here::current()) {
    auto tx = c.need(s.begin(), "store::begin", where);
    c.require(tx != nullptr, "store::begin returned no transaction", where);
    return tx;
}

/// The first error of a sequence of writes, or the commit's result: a store
/// may refuse a write when it is made or at commit, the outcome is the same.
class writes {
public:
    explicit writes(std::unique_ptr<store_transaction> tx) : tx_(std::move(tx)) {}
    writes& operator<<(const result<void>& r) {
        if (!first_error_ && r.has_error()) {
            first_error_ = r.error();
        }
        return *this;
    }
    [[nodiscard]] store_transaction& tx() { return *tx_; }
    /// The first refused write, or else the commit.
    [[nodiscard]] result<void> commit() {
        if (first_error_) {
            tx_.reset();
            return *first_error_;
        }
        auto committed = tx_->commit();
        tx_.reset();  // ended either way: let it go before the caller reads the store again
        return committed;
    }

private:
    std::unique_ptr<store_transaction> tx_;
    std::optional<error> first_error_;
};

inline result<void> commit_order(store& s, conformance_checker& c, const order& o) {
    writes w(begin(s, c));
    w << w.tx().put_order(o);
    return w.commit();
}

inline result<void> commit_changes(store& s, conformance_checker& c,
                                   const std::vector<stock_change>& changes) {
    writes w(begin(s, c));
    for (const stock_change& x : changes) {
        w << w.tx().change_stock(x);
    }
    return w.commit();
}

inline void put(store& s, conformance_checker& c, const order& o, here where = here::current()) {
    c.need(commit_order(s, c, o), fmt::format("committing order {} at version {}", o.id, o.version),
           where);
}

inline std::optional<order> load(store& s, conformance_checker& c, std::uint64_t id,
                                 here where = here::current()) {
    return c.need(s.load_order(order_id(id)), fmt::format("load_order({})", id), where);
}

inline void expect_order(conformance_checker& c, const std::optional<order>& actual,
                         const order& expected, std::string_view what,
                         here where = here::current()) {
    if (!actual) {
        c.fail(fmt::format("{}: order {} is missing", what, expected.id), where);
    } else if (*actual != expected) {
        c.fail(fmt::format("{}: order {} differs: {}", what, expected.id,
                           order_difference(expected, *actual)),
               where);
    }
}

inline void expect_stored(conformance_checker& c, store& s, const order& expected,
                          std::string_view what, here where = here::current()) {
    expect_order(c, load(s, c, expected.id.value(), where), expected, what, where);
}

inline void expect_absent(conformance_checker& c, store& s, std::uint64_t id, std::string_view what,
                          here where = here::current()) {
    c.check(!load(s, c, id, where).has_value(),
            fmt::format("{}: order {} should not exist", what, id), where);
}

using stock_counts = std::array<std::int64_t, 3>;  // on_hand, reserved, safety

inline std::optional<stock_level> stock_of(store& s, conformance_checker& c, std::string_view sku,
                                           std::string_view warehouse,
                                           here where = here::current()) {
    return c.need(s.stock(sku_id(std::string(sku)), warehouse_id(std::string(warehouse))),
                  fmt::format("stock({}, {})", sku, warehouse), where);
}

/// The row's (on_hand, reserved, safety) must be `expected`, or the row must
/// be missing when `expected` is empty.
inline void expect_stock(conformance_checker& c, store& s, std::string_view sku,
                         std::string_view warehouse, std::optional<stock_counts> expected,
                         std::string_view what, here where = here::current()) {
    const auto level = stock_of(s, c, sku, warehouse, where);
    const auto text = [](const std::optional<stock_counts>& v) {
        return v ? fmt::format("on_hand {} reserved {} safety {}", (*v)[0], (*v)[1], (*v)[2])
                 : std::string("no row");
    };
    std::optional<stock_counts> actual;
    if (level) {
        actual =
            stock_counts{level->on_hand.units(), level->reserved.units(), level->safety.units()};
        if (level->sku.value() != sku || level->warehouse.value() != warehouse) {
            c.fail(fmt::format("{}: stock({}, {}) returned the row of {}/{}", what, sku, warehouse,
                               level->sku, level->warehouse),
                   where);
        }
    }
    if (actual != expected) {
        c.fail(fmt::format("{}: stock {}/{} should have {}, has {}", what, sku, warehouse,
                           text(expected), text(actual)),
               where);
    }
}

inline std::vector<std::uint64_t> raw(const std::vector<order_id>& ids) {
    std::vector<std::uint64_t> values;
    values.reserve(ids.size());
    for (const order_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

inline std::vector<std::uint64_t> in_state(store& s, conformance_checker& c, order_state state,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.orders_in_state(state, order_id(after), limit),
                      fmt::format("orders_in_state({}, {}, {})", state, after, limit), where));
}

inline std::vector<std::uint64_t> due(store& s, conformance_checker& c, std::int64_t now_ms,
                                      std::size_t limit = 100000, here where = here::current()) {
    return raw(c.need(s.due_orders(at_ms(now_ms), limit),
                      fmt::format("due_orders({} ms, {})", now_ms, limit), where));
}

inline std::vector<std::uint64_t> ids_of(const std::vector<notification>& notes) {
    std::vector<std::uint64_t> ids;
    ids.reserve(notes.size());
    for (const notification& n : notes) {
        ids.push_back(n.id);
    }
    return ids;
}

inline std::vector<notification> claim(store& s, conformance_checker& c, std::int64_t now_ms,
                                       std::int64_t lease_ms, std::size_t limit,
                                       here where = here::current()) {
    return c.need(
        s.claim_notifications(at_ms(now_ms), duration(lease_ms), limit),
        fmt::format("claim_notifications({} ms, lease {} ms, limit {})", now_ms, lease_ms, limit),
        where);
}

inline std::vector<outbox_entry> outbox(store& s, conformance_checker& c, std::uint64_t order,
                                        here where = here::current()) {
    return c.need(s.outbox_of(order_id(order)), fmt::format("outbox_of({})", order), where);
}

inline std::vector<std::uint64_t> outbox_ids(store& s, conformance_checker& c, std::uint64_t order,
                                             here where = here::current()) {
    std::vector<std::uint64_t> ids;
    for (const outbox_entry& e : outbox(s, c, order, where)) {
        ids.push_back(e.notification.id);
    }
    return ids;
}

inline std::size_t undelivered(store& s, conformance_checker& c, here where = here::current()) {
    return c.need(s.undelivered_count(), "undelivered_count", where);
}

inline std::vector<timeline_entry> timeline_of(store& s, conformance_checker& c, std::uint64_t id,
                                               here where = here::current()) {
    return c.need(s.timeline(order_id(id)), fmt::format("timeline({})", id), where);
}

inline std::optional<idempotency_record> find_record(store& s, conformance_checker& c,
                                                     std::string_view key,
                                                     here where = here::current()) {
    auto tx = begin(s, c, where);
    return c.need(tx->find_idempotency(key), fmt::format("find_idempotency('{}')", key), where);
}

inline std::optional<sku> find_catalogue(store& s, conformance_checker& c, std::string_view id,
                                         here where = here::current()) {
    return c.need(s.load_sku(sku_id(std::string(id))), fmt::format("load_sku({})", id), where);
}

inline result<void> commit_shipment(store& s, conformance_checker& c, const shipment& x) {
    writes w(begin(s, c));
    w << w.tx().put_shipment(x);
    return w.commit();
}

inline void put(store& s, conformance_checker& c, const shipment& x, here where = here::current()) {
    c.need(commit_shipment(s, c, x),
           fmt::format("committing shipment {} at version {}", x.id, x.version), where);
}

inline std::optional<shipment> load_shipment(store& s, conformance_checker& c, std::uint64_t id,
                                             here where = here::current()) {
    return c.need(s.load_shipment(shipment_id(id)), fmt::format("load_shipment({})", id), where);
}

inline void expect_shipment(conformance_checker& c, const std::optional<shipment>& actual,
                            const shipment& expected, std::string_view what,
                            here where = here::current()) {
    if (!actual) {
        c.fail(fmt::format("{}: shipment {} is missing", what, expected.id), where);
    } else if (*actual != expected) {
        c.fail(fmt::format("{}: shipment {} differs: {}", what, expected.id,
                           shipment_difference(expected, *actual)),
               where);
    }
}

inline void expect_stored(conformance_checker& c, store& s, const shipment& expected,
                          std::string_view what, here where = here::current()) {
    expect_shipment(c, load_shipment(s, c, expected.id.value(), where), expected, what, where);
}

inline void expect_no_shipment(conformance_checker& c, store& s, std::uint64_t id,
                               std::string_view what, here where = here::current()) {
    c.check(!load_shipment(s, c, id, where).has_value(),
            fmt::format("{}: shipment {} should not exist", what, id), where);
}

inline std::vector<std::uint64_t> raw(const std::vector<shipment_id>& ids) {
    std::vector<std::uint64_t> values;
    values.reserve(ids.size());
    for (const shipment_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

inline std::vector<std::uint64_t> in_state(store& s, conformance_checker& c, shipment_state state,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.shipments_in_state(state, shipment_id(after), limit),
                      fmt::format("shipments_in_state({}, {}, {})", state, after, limit), where));
}

inline std::vector<std::uint64_t> due_shipments(store& s, conformance_checker& c,
                                                std::int64_t now_ms, std::size_t limit = 100000,
                                                here where = here::current()) {
    return raw(c.need(s.due_shipments(at_ms(now_ms), limit),
                      fmt::format("due_shipments({} ms, {})", now_ms, limit), where));
}

// ---- working with transfers, the ledger and low-stock flags ----------------------------

/// `x` as happening at `ms` (the time its ledger entry carries).
inline stock_change at_time(stock_change x, std::int64_t ms) {
    x.at = at_ms(ms);
    return x;
}

/// A transfer of `count` units of SKU-1 from WH-A to WH-B, received at 3000 ms
/// or called back at 2500 ms (with its reason) when `state` says so.
inline stock_transfer plain_transfer(std::uint64_t id, std::uint64_t version = 1,
                                     transfer_state state = transfer_state::in_transit,
                                     std::int64_t count = 5) {
    return stock_transfer{
        .id = transfer_id(id),
        .version = version,
        .sku = sku_id("SKU-1"),
        .from = warehouse_id("WH-A"),
        .to = warehouse_id("WH-B"),
        .units = units(count),
        .state = state,
        .reason = "rebalance",
        .dispatched_at = at_ms(2000),
        .received_at =
            state == transfer_state::received ? std::optional(at_ms(3000)) : std::nullopt,
        .cancelled_at =
            state == transfer_state::cancelled ? std::optional(at_ms(2500)) : std::nullopt,
        .cancel_reason = state == transfer_state::cancelled ? "target closed «盘点»" : ""};
}

/// Which fields of two transfers differ, field by field.
inline std::string transfer_difference(const stock_transfer& e, const stock_transfer& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("version", e.version, a.version);
    d.field("sku", e.sku, a.sku);
    d.field("from", e.from, a.from);
    d.field("to", e.to, a.to);
    d.field("units", e.units, a.units);
    d.field("state", e.state, a.state);
    d.field("reason", e.reason, a.reason);
    d.field("dispatched_at", e.dispatched_at, a.dispatched_at);
    d.field("received_at", e.received_at, a.received_at);
    d.field("cancelled_at", e.cancelled_at, a.cancelled_at);
    d.field("cancel_reason", e.cancel_reason, a.cancel_reason);
    return d.text();
}

inline result<void> commit_transfer(store& s, conformance_checker& c, const stock_transfer& t) {
    writes w(begin(s, c));
    w << w.tx().put_transfer(t);
    return w.commit();
}

inline void put(store& s, conformance_checker& c, const stock_transfer& t,
                here where = here::current()) {
    c.need(commit_transfer(s, c, t),
           fmt::format("committing transfer {} at version {}", t.id, t.version), where);
}

inline std::optional<stock_transfer> load_transfer(store& s, conformance_checker& c,
                                                   std::uint64_t id, here where = here::current()) {
    return c.need(s.load_transfer(transfer_id(id)), fmt::format("load_transfer({})", id), where);
}

inline void expect_transfer(conformance_checker& c, const std::optional<stock_transfer>& actual,
                            const stock_transfer& expected, std::string_view what,
                            here where = here::current()) {
    if (!actual) {
        c.fail(fmt::format("{}: transfer {} is missing", what, expected.id), where);
    } else if (*actual != expected) {
        c.fail(fmt::format("{}: transfer {} differs: {}", what, expected.id,
                           transfer_difference(expected, *actual)),
               where);
    }
}

inline void expect_stored(conformance_checker& c, store& s, const stock_transfer& expected,
                          std::string_view what, here where = here::current()) {
    expect_transfer(c, load_transfer(s, c, expected.id.value(), where), expected, what, where);
}

inline void expect_no_transfer(conformance_checker& c, store& s, std::uint64_t id,
                               std::string_view what, here where = here::current()) {
    c.check(!load_transfer(s, c, id, where).has_value(),
            fmt::format("{}: transfer {} should not exist", what, id), where);
}

inline std::vector<std::uint64_t> raw(const std::vector<transfer_id>& ids) {
    std::vector<std::uint64_t> values;
    values.reserve(ids.size());
    for (const transfer_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

inline std::vector<std::uint64_t> in_state(store& s, conformance_checker& c, transfer_state state,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.transfers_in_state(state, transfer_id(after), limit),
                      fmt::format("transfers_in_state({}, {}, {})", to_string(state), after, limit),
                      where));
}

// ---- working with tickets ---------------------------------------------------------------

inline result<void> commit_ticket(store& s, conformance_checker& c, const ticket& t) {
    writes w(begin(s, c));
    w << w.tx().put_ticket(t);
    return w.commit();
}

inline void put(store& s, conformance_checker& c, const ticket& t, here where = here::current()) {
    c.need(commit_ticket(s, c, t),
           fmt::format("committing ticket {} at version {}", t.id, t.version), where);
}

inline std::optional<ticket> load_ticket(store& s, conformance_checker& c, std::uint64_t id,
                                         here where = here::current()) {
    return c.need(s.load_ticket(ticket_id(id)), fmt::format("load_ticket({})", id), where);
}

inline void expect_ticket(conformance_checker& c, const std::optional<ticket>& actual,
                          const ticket& expected, std::string_view what,
                          here where = here::current()) {
    if (!actual) {
        c.fail(fmt::format("{}: ticket {} is missing", what, expected.id), where);
    } else if (*actual != expected) {
        c.fail(fmt::format("{}: ticket {} differs: {}", what, expected.id,
                           ticket_difference(expected, *actual)),
               where);
    }
}

inline void expect_stored(conformance_checker& c, store& s, const ticket& expected,
                          std::string_view what, here where = here::current()) {
    expect_ticket(c, load_ticket(s, c, expected.id.value(), where), expected, what, where);
}

inline void expect_no_ticket(conformance_checker& c, store& s, std::uint64_t id,
                             std::string_view what, here where = here::current()) {
    c.check(!load_ticket(s, c, id, where).has_value(),
            fmt::format("{}: ticket {} should not exist", what, id), where);
}

inline std::vector<std::uint64_t> raw(const std::vector<ticket_id>& ids) {
    std::vector<std::uint64_t> values;
    values.reserve(ids.size());
    for (const ticket_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

inline std::vector<std::uint64_t> in_state(store& s, conformance_checker& c, ticket_state state,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.tickets_in_state(state, ticket_id(after), limit),
                      fmt::format("tickets_in_state({}, {}, {})", state, after, limit), where));
}

inline std::vector<std::uint64_t> due_tickets(store& s, conformance_checker& c, std::int64_t now_ms,
                                              std::size_t limit = 100000,
                                              here where = here::current()) {
    return raw(c.need(s.due_tickets(at_ms(now_ms), limit),
                      fmt::format("due_tickets({} ms, {})", now_ms, limit), where));
}

/// A stock level as text, every field.
inline std::string level_text(const std::optional<stock_level>& level) {
    if (!level) {
        return "no row";
    }
    return fmt::format(
        "{}/{}: on_hand {} reserved {} safety {} in_transit {} alerted {} damaged {}", level->sku,
        level->warehouse, level->on_hand.units(), level->reserved.units(), level->safety.units(),
        level->in_transit.units(), level->low_stock_alerted, level->damaged.units());
}

/// A stock level with every field given (the damaged bin empty unless said).
inline stock_level row_level(std::string_view sku, std::string_view warehouse, std::int64_t on_hand,
                             std::int64_t reserved, std::int64_t safety, std::int64_t in_transit,
                             bool alerted, std::int64_t damaged = 0) {
    return stock_level{.sku = sku_id(std::string(sku)),
                       .warehouse = warehouse_id(std::string(warehouse)),
                       .on_hand = units(on_hand),
                       .reserved = units(reserved),
                       .safety = units(safety),
                       .in_transit = units(in_transit),
                       .low_stock_alerted = alerted,
                       .damaged = units(damaged)};
}

/// The row of `expected`'s SKU and warehouse must equal `expected` in every
/// field (in transit and the low-stock flag included) through each stock read:
/// stock(), all_stock() and a transaction's find_stock().
inline void expect_level(conformance_checker& c, store& s, const stock_level& expected,
                         std::string_view what, here where = here::current()) {
    const auto pick = [&](const std::vector<stock_level>& levels) {
        std::optional<stock_level> found;
        for (const stock_level& l : levels) {
            if (l.sku == expected.sku && l.warehouse == expected.warehouse) {
                found = l;
            }
        }
        return found;
    };
    const auto single = stock_of(s, c, expected.sku.value(), expected.warehouse.value(), where);
    const auto listed = pick(c.need(s.all_stock(), "all_stock", where));
    auto tx = begin(s, c, where);
    const auto of_sku = pick(c.need(tx->find_stock(expected.sku), "find_stock", where));
    tx.reset();
    for (const auto& [got, how] : {std::pair{single, "stock"}, std::pair{listed, "all_stock"},
                                   std::pair{of_sku, "find_stock"}}) {
        if (got != std::optional{expected}) {
            c.fail(fmt::format("{}: {} should read {}, reads {}", what, how, level_text(expected),
                               level_text(got)),
                   where);
        }
    }
}

/// The stable name of a stock operation, for messages.
inline std::string_view operation_name(stock_operation operation) {
    switch (operation) {
        case stock_operation::reserve:
            return "reserve";
        case stock_operation::release:
            return "release";
        case stock_operation::consume:
            return "consume";
        case stock_operation::receive:
            return "receive";
        case stock_operation::set_safety:
            return "set_safety";
        case stock_operation::dispatch:
            return "dispatch";
        case stock_operation::expect:
            return "expect";
        case stock_operation::arrive:
            return "arrive";
        case stock_operation::mark_low:
            return "mark_low";
        case stock_operation::clear_low:
            return "clear_low";
        case stock_operation::restock:
            return "restock";
        case stock_operation::to_damaged_bin:
            return "to_damaged_bin";
        case stock_operation::recall:
            return "recall";
    }
    return "unknown";
}

/// A ledger entry.
inline stock_movement movement(std::int64_t at, stock_operation operation, std::int64_t count,
                               std::int64_t on_hand_after) {
    return stock_movement{.at = at_ms(at),
                          .operation = operation,
                          .units = units(count),
                          .on_hand_after = units(on_hand_after)};
}

/// Ledger entries as text: "receive 10 -> 10 at 1000 ms, ...".
inline std::string movements_text(const std::vector<stock_movement>& moves) {
    std::vector<std::string> parts;
    parts.reserve(moves.size());
    for (const stock_movement& m : moves) {
        parts.push_back(fmt::format("{} {} -> {} at {} ms", operation_name(m.operation),
                                    m.units.units(), m.on_hand_after.units(), to_unix_ms(m.at)));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

/// The ledger of a row for from <= at < to must be `expected`, in that order.
inline void expect_movements(conformance_checker& c, store& s, std::string_view sku,
                             std::string_view warehouse, timestamp from, timestamp to,
                             const std::vector<stock_movement>& expected, std::string_view what,
                             here where = here::current()) {
    const auto actual = c.need(
        s.stock_movements(sku_id(std::string(sku)), warehouse_id(std::string(warehouse)), from, to),
        fmt::format("stock_movements({}, {}, {} ms, {} ms)", sku, warehouse, to_unix_ms(from),
                    to_unix_ms(to)),
        where);
    if (actual != expected) {
        c.fail(fmt::format("{}: the ledger of {}/{} from {} ms to {} ms should be {}, is {}", what,
                           sku, warehouse, to_unix_ms(from), to_unix_ms(to),
                           movements_text(expected), movements_text(actual)),
               where);
    }
}

/// The same, with the range in milliseconds.
inline void expect_movements(conformance_checker& c, store& s, std::string_view sku,
                             std::string_view warehouse, std::int64_t from_ms, std::int64_t to_ms,
                             const std::vector<stock_movement>& expected, std::string_view what,
                             here where = here::current()) {
    expect_movements(c, s, sku, warehouse, at_ms(from_ms), at_ms(to_ms), expected, what, where);
}

/// on_hand + in_transit of a SKU over every warehouse: what a transfer must
/// leave unchanged.
inline std::int64_t units_in_network(store& s, conformance_checker& c, std::string_view sku,
                                     here where = here::current()) {
    std::int64_t total = 0;
    for (const stock_level& l : c.need(s.all_stock(), "all_stock", where)) {
        if (l.sku.value() == sku) {
            total += l.on_hand.units() + l.in_transit.units();
        }
    }
    return total;
}

/// Equality with a message naming both sides, for printable values.
template <class T>
bool expect_equal(conformance_checker& c, const T& actual, const T& expected, std::string_view what,
                  here where = here::current()) {
    if (actual == expected) {
        return true;
    }
    if constexpr (std::is_same_v<T, std::vector<std::uint64_t>>) {
        c.fail(fmt::format("{}: expected {}, got {}", what, ids_text(expected), ids_text(actual)),
               where);
    } else {
        c.fail(fmt::format("{}: expected {}, got {}", what, show(expected), show(actual)), where);
    }
    return false;
}

/// Runs `read` on another thread while the caller keeps a transaction or a
/// batch open. A store may make readers wait for a writer; then nothing can be
/// judged, and the check is skipped with a note instead of hanging the suite.
/// The future returned waits for the reader when destroyed: keep it until the
/// writer has finished.
template <class Read>
auto read_aside(Read read) {
    return std::async(std::launch::async, std::move(read));
}

template <class Future>
bool finished(Future& f, conformance_checker& c, std::string_view what) {
    if (f.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
        return true;
    }
    c.note(fmt::format("{}: the store made a reader wait for an open writer; not judged", what));
    return false;
}

// ---- scenarios: orders -------------------------------------------------------------------

inline void order_round_trip(const store_factory& make, const conformance_options& /*options*/,
                             conformance_checker& c) {
    const auto s = fresh(make, c);
    const order full = rich_order(1001);
    const order sparse = sparse_order(1002);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_order(full), "put_order of an order with every field set");
        c.need(tx->put_order(sparse), "put_order of an order with empty collections");
        c.need(tx->commit(), "commit of two new orders");
    }
    for (const order* o : {&full, &sparse}) {
        expect_stored(c, *s, *o, "load_order after the insert");
        auto tx = begin(*s, c);
        expect_order(c, c.need(tx->find_order(o->id), "find_order"), *o,
                     "find_order after the insert");
    }
    // Replacing keeps every field too, including ones that became empty or set.
    order next = full;
    next.version = 2;
    next.state = order_state::shipped;
    next.held_from = order_state::pending_review;
    next.lines.pop_back();
    next.tags.clear();
    next.payments.back().state = payment_state::captured;
    next.payments.back().captured = next.payments.back().authorized;
    next.reservations.front().state = reservation_state::consumed;
    next.due_at.reset();
    next.updated_at = at_ms(1'795'000'001'000);
    next.refunds.pop_back();
    next.refunds.front().reason.clear();
    next.refunds[1].lines.pop_back();
    order next_sparse = sparse;
    next_sparse.version = 2;
    next_sparse.tags = {"late"};
    next_sparse.due_at = at_ms(5);
    next_sparse.refunds = {
        order_refund{.at = at_ms(-3),  // before 1970
                     .source = refund_source::manual,
                     .reference = 0,
                     .amount = money::from_minor(700, currency::of<"JPY">()),
                     .lines = {refund_line{.line = 0,
                                           .units = units(0),
                                           .goods = money::from_minor(700, currency::of<"JPY">()),
                                           .shipping = money::zero(currency::of<"JPY">())}},
                     .reason = "a ledger set on an order that had none"}};
    {
        auto tx = begin(*s, c);
        c.need(tx->put_order(next), "put_order of version 2");
        c.need(tx->put_order(next_sparse), "put_order of version 2 with a deadline");
        c.need(tx->commit(), "commit of two replacements");
    }
    expect_stored(c, *s, next, "load_order after the replacement");
    expect_stored(c, *s, next_sparse, "load_order after the replacement");
    expect_absent(c, *s, 1003, "an order never put");
    auto tx = begin(*s, c);
    c.check(!c.need(tx->find_order(order_id(1003)), "find_order").has_value(),
            "find_order of an order never put returned one");
}

inline void order_versions(const store_factory& make, const conformance_options& /*options*/,
                           conformance_checker& c) {
    const auto s = fresh(make, c);
    const order first = plain_order(7);
    put(*s, c, first);
    c.refused(commit_order(*s, c, plain_order(7, 1, order_state::paid)), errc::conflict,
              std::nullopt, "inserting version 1 of an order that exists");
    expect_stored(c, *s, first, "after a refused duplicate insert");

    const order second = plain_order(7, 2, order_state::awaiting_payment);
    c.succeeded(commit_order(*s, c, second), "version 2 over a stored version 1");
    expect_stored(c, *s, second, "after the replacement");
    c.refused(commit_order(*s, c, plain_order(7, 2, order_state::cancelled)), errc::conflict,
              std::nullopt, "a stale version 2 over a stored version 2");
    c.refused(commit_order(*s, c, plain_order(7, 4, order_state::cancelled)), errc::conflict,
              std::nullopt, "version 4 over a stored version 2");
    expect_stored(c, *s, second, "after refused stale and future versions");

    c.refused(commit_order(*s, c, plain_order(8, 2)), errc::conflict, std::nullopt,
              "version 2 of an order that does not exist");
    expect_absent(c, *s, 8, "after a refused replacement of a missing order");
    expect_equal(c, in_state(*s, c, order_state::pending_review), std::vector<std::uint64_t>{},
                 "orders_in_state(pending_review) after refused writes");

    const order third = plain_order(7, 3, order_state::paid);
    c.succeeded(commit_order(*s, c, third), "version 3 over a stored version 2");
    expect_stored(c, *s, third, "after the second replacement");
}

inline void order_shipments_round_trip(const store_factory& make,
                                       const conformance_options& /*options*/,
                                       conformance_checker& c) {
    const auto s = fresh(make, c);
    // Kept in the order given, the largest id a signed 64-bit column holds included.
    order first = plain_order(21);
    first.shipments = {shipment_id(3), shipment_id(1), shipment_id((std::uint64_t{1} << 63) - 1)};
    put(*s, c, first);
    expect_stored(c, *s, first, "load_order of an order with shipments");
    {
        auto tx = begin(*s, c);
        expect_order(c, c.need(tx->find_order(first.id), "find_order"), first,
                     "find_order of an order with shipments");
    }
    order second = first;
    second.version = 2;
    second.shipments.push_back(shipment_id(2));
    put(*s, c, second);
    expect_stored(c, *s, second, "after a shipment was added");
    order third = second;
    third.version = 3;
    third.shipments.clear();
    put(*s, c, third);
    expect_stored(c, *s, third, "after every shipment was removed");
    const order none = plain_order(22);
    put(*s, c, none);
    const auto loaded = load(*s, c, 22);
    c.check(loaded.has_value() && loaded->shipments.empty(),
            "an order put without shipments came back with some");
}

// ---- scenarios: catalogue and idempotency ---------------------------------------------------

inline void sku_round_trip(const store_factory& make, const conformance_options& /*options*/,
                           conformance_checker& c) {
    const auto s = fresh(make, c);
    const std::array<currency, 4> currencies_used = {currencies::CNY, currency::of<"JPY">(),
                                                     currency::of<"KWD">(), currency::of<"CLF">()};
    std::vector<sku> entries;
    for (unsigned mask = 0; mask < 16; ++mask) {
        sku e = plain_sku(fmt::format("SKU-T{:02}", mask), 1999);
        e.traits = sku_traits{.fragile = (mask & 1U) != 0,
                              .liquid = (mask & 2U) != 0,
                              .valuable = (mask & 4U) != 0,
                              .restricted = (mask & 8U) != 0};
        e.status = mask % 3 == 0 ? sku_status::off_shelf : sku_status::on_sale;
        const std::int64_t m = mask;
        e.price = money::from_minor(1 + m * 1'000'003, currencies_used[mask % 4]);
        e.merchant = mask % 2 == 0 ? merchant_id() : merchant_id(fmt::format("m-{}", mask));
        e.name = mask % 5 == 0 ? tricky_text : fmt::format("商品 {}", mask);
        e.category = mask % 4 == 0 ? "" : "category-é";
        e.weight_g = mask == 15 ? std::numeric_limits<std::int64_t>::max() : m * 100;
        e.volume_cm3 = mask == 14 ? std::numeric_limits<std::int64_t>::max() : 0;
        entries.push_back(std::move(e));
    }
    entries.back().price = amount("123456789012345678901234567890.99", currencies::CNY);
    {
        auto tx = begin(*s, c);
        for (const sku& e : entries) {
            c.need(tx->put_sku(e), fmt::format("put_sku({})", e.id));
        }
        c.need(tx->commit(), "commit of 16 catalogue entries");
    }
    const auto expect_entry = [&](const sku& e, std::string_view what) {
        const auto loaded = find_catalogue(*s, c, e.id.value());
        auto tx = begin(*s, c);
        const auto found = c.need(tx->find_sku(e.id), "find_sku");
        for (const auto& [got, how] :
             {std::pair{loaded, "load_sku"}, std::pair{found, "find_sku"}}) {
            if (!got) {
                c.fail(fmt::format("{}: {} finds no {}", what, how, e.id));
            } else if (*got != e) {
                c.fail(fmt::format("{}: {} of {} differs: {}", what, how, e.id,
                                   sku_difference(e, *got)));
            }
        }
    };
    for (const sku& e : entries) {
        expect_entry(e, "after the insert");
    }
    // Replacing an entry replaces every field.
    entries[3].price = cny(1);
    entries[3].status = sku_status::on_sale;
    entries[3].traits = sku_traits{};
    entries[3].name = "renamed";
    {
        auto tx = begin(*s, c);
        c.need(tx->put_sku(entries[3]), "put_sku replacing an entry");
        c.need(tx->commit(), "commit of a replaced entry");
    }
    expect_entry(entries[3], "after the replacement");
    expect_entry(entries[4], "an entry the replacement did not touch");
    c.check(!find_catalogue(*s, c, "SKU-T99").has_value(), "load_sku of an unknown SKU found one");
}

inline void idempotency_records(const store_factory& make, const conformance_options& /*options*/,
                                conformance_checker& c) {
    const auto s = fresh(make, c);
    std::string visible;
    for (char ch = '!'; ch <= '~'; ++ch) {
        visible.push_back(ch);
    }
    idempotency_record full = record("place_order/" + visible + visible.substr(0, 34), 7);
    full.fingerprint = std::numeric_limits<std::uint64_t>::max();
    full.outcome = command_outcome{.order = order_id((std::uint64_t{1} << 63) - 1),
                                   .number = order_number::from_value(77'777).value(),
                                   .state = order_state::shipped,
                                   .payment = payment_state::partially_refunded,
                                   .repeated = true,
                                   .shipment = shipment_id((std::uint64_t{1} << 63) - 2),
                                   .shipment_status = shipment_state::cancelled,
                                   .transfer = transfer_id((std::uint64_t{1} << 63) - 3),
                                   .ticket = ticket_id((std::uint64_t{1} << 63) - 4),
                                   .ticket_status = ticket_state::escalated};
    full.created_at = at_ms(1'795'000'000'999);
    idempotency_record other = record("record_payment/evt-1", 8);
    other.fingerprint = 0;
    {
        auto tx = begin(*s, c);
        c.need(tx->put_idempotency(full), "put_idempotency");
        c.need(tx->put_idempotency(other), "put_idempotency");
        c.need(tx->commit(), "commit of two idempotency records");
    }
    for (const idempotency_record* r : {&full, &other}) {
        const auto found = find_record(*s, c, r->key);
        if (!found) {
            c.fail(fmt::format("find_idempotency('{}') finds nothing after commit", r->key));
        } else if (*found != *r) {
            c.fail(fmt::format(
                "find_idempotency('{}') differs: fingerprint {} (put {}), order {} (put {}), "
                "state {} (put {}), payment {} (put {}), repeated {} (put {}), created_at {} "
                "(put {}), shipment {} (put {}), shipment_status {} (put {}), transfer {} "
                "(put {}), ticket {} (put {}), ticket_status {} (put {})",
                r->key, found->fingerprint, r->fingerprint, found->outcome.order, r->outcome.order,
                found->outcome.state, r->outcome.state, show(found->outcome.payment),
                show(r->outcome.payment), found->outcome.repeated, r->outcome.repeated,
                show(found->created_at), show(r->created_at),
                found->outcome.shipment.value_or(shipment_id(0)),
                r->outcome.shipment.value_or(shipment_id(0)), show(found->outcome.shipment_status),
                show(r->outcome.shipment_status), show(found->outcome.transfer),
                show(r->outcome.transfer), show(found->outcome.ticket), show(r->outcome.ticket),
                show(found->outcome.ticket_status), show(r->outcome.ticket_status)));
        }
    }
    c.check(!find_record(*s, c, "place_order/").has_value(),
            "find_idempotency of a prefix of a stored key found a record");
    c.check(!find_record(*s, c, "place_order/%").has_value(),
            "find_idempotency('place_order/%') found a record (a LIKE pattern?)");

    writes dup(begin(*s, c));
    dup << dup.tx().put_order(plain_order(8)) << dup.tx().put_idempotency(record(other.key, 9));
    c.refused(dup.commit(), errc::conflict, "idempotency_key",
              "put_idempotency of a key that exists");
    expect_absent(c, *s, 8, "the order written with a refused idempotency key");
    const auto kept = find_record(*s, c, other.key);
    c.check(kept.has_value() && *kept == other,
            "a refused idempotency key changed the stored record");
    writes later(begin(*s, c));
    later << later.tx().put_idempotency(record("record_payment/evt-2", 9));
    c.succeeded(later.commit(), "a new key after a refused one");
    c.check(find_record(*s, c, "record_payment/evt-2").has_value(),
            "a committed idempotency record is not found");
}

// ---- scenarios: stock ------------------------------------------------------------------------

inline void stock_receive(store& s, conformance_checker& c) {
    expect_stock(c, s, "SKU-1", "WH-1", std::nullopt, "before any change");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::receive, 10)}),
                "receive on a missing row");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{10, 0, 0}, "receive creates the row");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::receive, 5)}),
                "receive on an existing row");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{15, 0, 0}, "receive adds to on hand");
    const auto most = std::numeric_limits<std::int64_t>::max();
    c.succeeded(commit_changes(s, c, {change("SKU-BIG", "WH-1", stock_operation::receive, most)}),
                "receive of the largest quantity");
    c.refused(
        commit_changes(s, c, {change("SKU-BIG", "WH-1", stock_operation::receive, 1, "units")}),
        errc::overflow, "units", "receive past the largest quantity");
    expect_stock(c, s, "SKU-BIG", "WH-1", stock_counts{most, 0, 0}, "after a refused overflow");
}

inline void stock_reserve(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                change("SKU-1", "WH-1", stock_operation::set_safety, 2)}),
                "receive and set_safety");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::reserve, 5)}),
                "reserve within available");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{10, 5, 2}, "after a reservation");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::reserve, 4, "lines[3]")}),
        errc::insufficient_stock, "lines[3]", "reserve beyond available (safety kept back)");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::reserve, 3)}),
                "reserve exactly what is available");
    c.refused(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::reserve, 1)}),
              errc::insufficient_stock, "lines[0].units", "reserve with nothing available");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{10, 8, 2}, "after refused reservations");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-2", stock_operation::reserve, 1, "lines[0]")}),
        errc::insufficient_stock, "lines[0]", "reserve in a warehouse without a row");
    c.refused(
        commit_changes(s, c, {change("SKU-2", "WH-1", stock_operation::reserve, 1, "lines[1]")}),
        errc::insufficient_stock, "lines[1]", "reserve of a SKU without a row");
    expect_stock(c, s, "SKU-1", "WH-2", std::nullopt, "a refused reservation creates no row");
    expect_stock(c, s, "SKU-2", "WH-1", std::nullopt, "a refused reservation creates no row");
}

inline void stock_release_consume(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                change("SKU-1", "WH-1", stock_operation::reserve, 6)}),
                "receive and reserve");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::release, 2)}),
                "release of reserved units");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{10, 4, 0}, "release lowers reserved");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::consume, 3)}),
                "consume of reserved units");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{7, 1, 0},
                 "consume lowers on hand and reserved");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::release, 2, "release")}),
        errc::conflict, "release", "release of more than is reserved");
    c.refused(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::consume, 2, "ship")}),
              errc::conflict, "ship", "consume of more than is reserved");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-9", stock_operation::release, 1, "release")}),
        errc::conflict, "release", "release on a missing row");
    c.refused(commit_changes(s, c, {change("SKU-1", "WH-9", stock_operation::consume, 1, "ship")}),
              errc::conflict, "ship", "consume on a missing row");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{7, 1, 0}, "after refused releases");
    expect_stock(c, s, "SKU-1", "WH-9", std::nullopt, "a refused release creates no row");
}

inline void stock_safety(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                change("SKU-1", "WH-1", stock_operation::reserve, 6)}),
                "receive and reserve");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::set_safety, 4)}),
                "set_safety down to zero available");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::set_safety, 5, "safety")}),
        errc::invalid_value, "safety", "set_safety pushing available below zero");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::set_safety, 1)}),
                "set_safety lowered");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{10, 6, 1}, "set_safety replaces safety");
    c.succeeded(commit_changes(s, c, {change("SKU-2", "WH-1", stock_operation::set_safety, 0)}),
                "set_safety 0 on a missing row");
    expect_stock(c, s, "SKU-2", "WH-1", stock_counts{0, 0, 0}, "set_safety 0 creates the row");
    c.refused(
        commit_changes(s, c, {change("SKU-3", "WH-1", stock_operation::set_safety, 1, "safety")}),
        errc::invalid_value, "safety", "set_safety 1 on a missing row");
    expect_stock(c, s, "SKU-3", "WH-1", std::nullopt, "a refused set_safety creates no row");
    auto tx = begin(s, c);
    c.check(c.need(tx->find_stock(sku_id("SKU-3")), "find_stock").empty(),
            "find_stock shows a row a refused set_safety would have created");
}

inline void stock_operations(const store_factory& make, const conformance_options& /*options*/,
                             conformance_checker& c) {
    for (const auto part :
         {&stock_receive, &stock_reserve, &stock_release_consume, &stock_safety}) {
        const auto s = fresh(make, c);
        part(*s, c);
    }
}

inline void stock_sequence_in_one_row(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-1", stock_operation::receive, 10),
                                change("SKU-1", "WH-1", stock_operation::reserve, 6),
                                change("SKU-1", "WH-1", stock_operation::reserve, 4),
                                change("SKU-1", "WH-1", stock_operation::consume, 3)}),
                "receive, reserve twice and consume in one transaction");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{7, 7, 0}, "changes applied in order");
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-1", stock_operation::release, 7),
                                change("SKU-1", "WH-1", stock_operation::reserve, 7)}),
                "release and reserve of the freed units, nothing available before");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-1", stock_operation::release, 4)}),
                "release");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{7, 3, 0}, "release then reserve");
    c.refused(commit_changes(s, c,
                             {change("SKU-1", "WH-1", stock_operation::reserve, 3, "lines[0]"),
                              change("SKU-2", "WH-1", stock_operation::receive, 1, "lines[1]"),
                              change("SKU-1", "WH-1", stock_operation::reserve, 2, "lines[2]")}),
              errc::insufficient_stock, "lines[2]",
              "a second reservation of a row that the first one nearly emptied");
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{7, 3, 0}, "after a refused sequence");
    expect_stock(c, s, "SKU-2", "WH-1", std::nullopt, "a receive in a refused transaction");
    c.refused(commit_changes(s, c,
                             {change("SKU-3", "WH-1", stock_operation::reserve, 1, "first"),
                              change("SKU-3", "WH-1", stock_operation::receive, 10, "then")}),
              errc::insufficient_stock, "first", "reserve before the receive that creates the row");
    expect_stock(c, s, "SKU-3", "WH-1", std::nullopt, "a refused reserve-then-receive");
}

inline void stock_sequence_over_rows(store& s, conformance_checker& c) {
    std::vector<stock_change> changes;
    const std::array<std::string_view, 4> rows = {"SKU-D", "SKU-B", "SKU-C", "SKU-A"};
    for (std::size_t i = 0; i < 44; ++i) {
        const auto operation = i < 4 ? stock_operation::receive : stock_operation::reserve;
        changes.push_back(
            change(rows[i % 4], "WH-1", operation, i < 4 ? 10 : 1, fmt::format("c[{}]", i)));
    }
    c.succeeded(commit_changes(s, c, changes), "44 changes over four interleaved rows");
    for (const std::string_view sku : rows) {
        expect_stock(c, s, sku, "WH-1", stock_counts{10, 10, 0}, "interleaved changes");
    }
    changes.clear();
    for (std::size_t i = 0; i < 20; ++i) {
        const auto operation = i < 4 ? stock_operation::release : stock_operation::reserve;
        changes.push_back(
            change(rows[i % 4], "WH-1", operation, i < 4 ? 10 : 1, fmt::format("c[{}]", i)));
    }
    changes.push_back(change("SKU-D", "WH-1", stock_operation::reserve, 7, "c[20]"));
    c.refused(commit_changes(s, c, changes), errc::insufficient_stock, "c[20]",
              "the last of 21 interleaved changes exceeds its row");
    expect_stock(c, s, "SKU-D", "WH-1", stock_counts{10, 10, 0}, "after a refused sequence");
    changes.pop_back();
    c.succeeded(commit_changes(s, c, changes), "each row's releases before its reservations");
    for (const std::string_view sku : rows) {
        expect_stock(c, s, sku, "WH-1", stock_counts{10, 4, 0}, "releases then reservations");
    }
}

inline void stock_sequences(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    for (const auto part : {&stock_sequence_in_one_row, &stock_sequence_over_rows}) {
        const auto s = fresh(make, c);
        part(*s, c);
    }
}

inline void stock_listing(const store_factory& make, const conformance_options& /*options*/,
                          conformance_checker& c) {
    const auto s = fresh(make, c);
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"SKU-B", "WH-2"},  {"SKU-A", "WH-3"}, {"SKU-B", "WH-1"},  {"SKU-A", "WH-1"},
        {"SKU-10", "WH-1"}, {"SKU-9", "WH-9"}, {"SKU-9", "WH-10"}, {"sku-a", "WH-1"}};
    std::vector<stock_change> changes;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        changes.push_back(change(rows[i].first, rows[i].second, stock_operation::receive,
                                 static_cast<std::int64_t>(i + 1)));
    }
    c.need(commit_changes(*s, c, changes), "receiving stock into eight rows");
    std::vector<std::string> expected;
    auto sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [sku, warehouse] : sorted) {
        const auto at = static_cast<std::size_t>(
            std::find(rows.begin(), rows.end(), std::pair{sku, warehouse}) - rows.begin());
        expected.push_back(fmt::format("{}/{}={}", sku, warehouse, at + 1));
    }
    const auto listed = [](const std::vector<stock_level>& levels) {
        std::vector<std::string> keys;
        keys.reserve(levels.size());
        for (const stock_level& level : levels) {
            keys.push_back(fmt::format("{}/{}={}", level.sku, level.warehouse, level.on_hand));
        }
        return keys;
    };
    expect_equal(c, listed(c.need(s->all_stock(), "all_stock")), expected,
                 "all_stock ordered by SKU then warehouse (byte order)");
    auto tx = begin(*s, c);
    expect_equal(c, listed(c.need(tx->find_stock(sku_id("SKU-9")), "find_stock")),
                 std::vector<std::string>{"SKU-9/WH-10=7", "SKU-9/WH-9=6"},
                 "find_stock ordered by warehouse");
    expect_equal(c, listed(c.need(tx->find_stock(sku_id("SKU-B")), "find_stock")),
                 std::vector<std::string>{"SKU-B/WH-1=3", "SKU-B/WH-2=1"},
                 "find_stock ordered by warehouse");
    c.check(c.need(tx->find_stock(sku_id("SKU-C")), "find_stock").empty(),
            "find_stock of a SKU without rows returned some");
}

// ---- scenarios: atomic commits -------------------------------------------------------

/// What a failing transaction trips over at commit.
enum class failure_cause : std::uint8_t { none, stock, order_version, idempotency_key };

/// The committed state the atomicity scenarios start from, as read back.
struct committed_base {
    order existing;
    std::vector<timeline_entry> timeline;
    std::vector<outbox_entry> outbox;
    idempotency_record key;
    sku catalogue_entry;
};

inline committed_base commit_base(store& s, conformance_checker& c) {
    committed_base base{plain_order(8),
                        {entry(order_event::placed, "placed")},
                        {},
                        record("place_order/existing", 8),
                        plain_sku("SKU-1", 1999)};
    writes w(begin(s, c));
    w << w.tx().change_stock(change("SKU-1", "WH-1", stock_operation::receive, 5))
      << w.tx().put_order(base.existing)
      << w.tx().append_timeline(order_id(8), base.timeline.front())
      << w.tx().enqueue(note(8, "existing")) << w.tx().put_idempotency(base.key)
      << w.tx().put_sku(base.catalogue_entry);
    c.need(w.commit(), "committing the starting state");
    base.outbox = outbox(s, c, 8);
    c.require(base.outbox.size() == 1, "the starting state's notification is not in the outbox");
    return base;
}

/// One transaction touching every kind of record, plus the cause of its failure.
inline result<void> commit_everything(store& s, conformance_checker& c, failure_cause cause) {
    writes w(begin(s, c));
    store_transaction& tx = w.tx();
    sku repriced = plain_sku("SKU-1", 2999);
    w << tx.put_order(plain_order(7, 1, order_state::pending_review, at_ms(5000)))
      << tx.append_timeline(order_id(7), entry(order_event::placed, "placed"))
      << tx.append_timeline(order_id(8), entry(order_event::held, "held", at_ms(2000),
                                               order_state::pending_review, order_state::on_hold))
      << tx.enqueue(note(7, "confirmed")) << tx.enqueue(note(8, "second"))
      << tx.put_sku(plain_sku("SKU-NEW", 100)) << tx.put_sku(repriced)
      << tx.put_idempotency(record("place_order/new", 7))
      << tx.change_stock(change("SKU-9", "WH-1", stock_operation::receive, 3, "restock"))
      << tx.change_stock(change("SKU-1", "WH-1", stock_operation::receive, 1, "more"))
      << tx.change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 2, "lines[0]"));
    switch (cause) {
        case failure_cause::stock:
            w << tx.change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 5, "lines[1]"));
            break;
        case failure_cause::order_version:
            w << tx.put_order(plain_order(8));
            break;
        case failure_cause::idempotency_key:
            w << tx.put_idempotency(record("place_order/existing", 7));
            break;
        case failure_cause::none:
            break;
    }
    return w.commit();
}

/// Nothing of commit_everything() may be visible.
inline void expect_untouched(store& s, conformance_checker& c, const committed_base& base,
                             std::string_view what) {
    expect_absent(c, s, 7, what);
    expect_stored(c, s, base.existing, what);
    expect_equal(c, timeline_of(s, c, 7).size(), std::size_t{0},
                 fmt::format("{}: timeline entries of the new order", what));
    c.check(timeline_of(s, c, 8) == base.timeline,
            fmt::format("{}: the existing order's timeline changed", what));
    expect_equal(c, outbox(s, c, 7).size(), std::size_t{0},
                 fmt::format("{}: outbox entries of the new order", what));
    c.check(outbox(s, c, 8) == base.outbox,
            fmt::format("{}: the existing order's outbox changed", what));
    expect_equal(c, undelivered(s, c), std::size_t{1}, fmt::format("{}: undelivered_count", what));
    c.check(!find_record(s, c, "place_order/new").has_value(),
            fmt::format("{}: the new idempotency record is visible", what));
    c.check(find_record(s, c, base.key.key) == std::optional{base.key},
            fmt::format("{}: the existing idempotency record changed", what));
    c.check(!find_catalogue(s, c, "SKU-NEW").has_value(),
            fmt::format("{}: the new catalogue entry is visible", what));
    c.check(find_catalogue(s, c, "SKU-1") == std::optional{base.catalogue_entry},
            fmt::format("{}: the existing catalogue entry changed", what));
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{5, 0, 0}, what);
    expect_stock(c, s, "SKU-9", "WH-1", std::nullopt, what);
    expect_equal(c, c.need(s.all_stock(), "all_stock").size(), std::size_t{1},
                 fmt::format("{}: stock rows", what));
    expect_equal(c, in_state(s, c, order_state::pending_review), std::vector<std::uint64_t>{8},
                 fmt::format("{}: orders_in_state(pending_review)", what));
    expect_equal(c, due(s, c, 10'000), std::vector<std::uint64_t>{},
                 fmt::format("{}: due_orders", what));
}

/// Everything of commit_everything() must be visible.
inline void expect_applied(store& s, conformance_checker& c, std::string_view what) {
    expect_stored(c, s, plain_order(7, 1, order_state::pending_review, at_ms(5000)), what);
    expect_equal(c, timeline_of(s, c, 7).size(), std::size_t{1},
                 fmt::format("{}: timeline entries of the new order", what));
    expect_equal(c, timeline_of(s, c, 8).size(), std::size_t{2},
                 fmt::format("{}: timeline entries of the existing order", what));
    expect_equal(c, outbox(s, c, 7).size(), std::size_t{1},
                 fmt::format("{}: outbox entries of the new order", what));
    expect_equal(c, outbox(s, c, 8).size(), std::size_t{2},
                 fmt::format("{}: outbox entries of the existing order", what));
    expect_equal(c, undelivered(s, c), std::size_t{3}, fmt::format("{}: undelivered_count", what));
    c.check(find_record(s, c, "place_order/new") == std::optional{record("place_order/new", 7)},
            fmt::format("{}: the new idempotency record", what));
    c.check(find_catalogue(s, c, "SKU-NEW") == std::optional{plain_sku("SKU-NEW", 100)},
            fmt::format("{}: the new catalogue entry", what));
    c.check(find_catalogue(s, c, "SKU-1") == std::optional{plain_sku("SKU-1", 2999)},
            fmt::format("{}: the replaced catalogue entry", what));
    expect_stock(c, s, "SKU-1", "WH-1", stock_counts{6, 2, 0}, what);
    expect_stock(c, s, "SKU-9", "WH-1", stock_counts{3, 0, 0}, what);
    expect_equal(c, in_state(s, c, order_state::pending_review), std::vector<std::uint64_t>{7, 8},
                 fmt::format("{}: orders_in_state(pending_review)", what));
    expect_equal(c, due(s, c, 10'000), std::vector<std::uint64_t>{7},
                 fmt::format("{}: due_orders", what));
}

inline void failed_commit_writes_nothing(const store_factory& make,
                                         const conformance_options& /*options*/,
                                         conformance_checker& c) {
    struct attempt {
        failure_cause cause;
        errc code;
        std::optional<std::string_view> field;
        std::string_view what;
    };
    const std::array<attempt, 3> attempts = {
        attempt{failure_cause::stock, errc::insufficient_stock, "lines[1]",
                "a transaction whose last reservation exceeds the stock"},
        attempt{failure_cause::order_version, errc::conflict, std::nullopt,
                "a transaction inserting an order that exists"},
        attempt{failure_cause::idempotency_key, errc::conflict, "idempotency_key",
                "a transaction storing an idempotency key that exists"}};
    for (const attempt& a : attempts) {
        const auto s = fresh(make, c);
        const committed_base base = commit_base(*s, c);
        c.refused(commit_everything(*s, c, a.cause), a.code, a.field, a.what);
        expect_untouched(*s, c, base, fmt::format("after {} failed", a.what));
        c.succeeded(commit_everything(*s, c, failure_cause::none),
                    "the same transaction without the failing write");
        expect_applied(*s, c, "after the same transaction without the failing write");
    }
}

// The port allows a transaction or batch to be destroyed after its store; a
// store that frees what they hold fails here under a sanitizer, or crashes.
inline void transactions_may_outlive_their_store(const store_factory& make,
                                                 const conformance_options& /*options*/,
                                                 conformance_checker& c) {
    auto s = fresh(make, c);
    auto committed = begin(*s, c);
    c.succeeded(committed->put_sku(plain_sku("SKU-NEW", 100)), "put_sku");
    c.succeeded(committed->commit(), "a commit before the store goes");
    auto reading = begin(*s, c);
    const auto seen = c.need(reading->find_sku(sku_id("SKU-NEW")), "find_sku");
    ORDERLY_CONFORM_CHECK(c, seen.has_value(), "a committed SKU is found");
    auto batch = c.need(s->begin_batch(), "store::begin_batch");
    c.require(batch != nullptr, "store::begin_batch returned no batch");
    {
        auto in_batch = c.need(batch->begin(), "store_batch::begin");
        c.succeeded(in_batch->put_sku(plain_sku("SKU-B", 100)), "put_sku in a batch");
        c.succeeded(in_batch->commit(), "a commit inside a batch");
    }
    s.reset();
    committed.reset();
    reading.reset();
    batch.reset();
}

inline void dropped_transaction_writes_nothing(const store_factory& make,
                                               const conformance_options& /*options*/,
                                               conformance_checker& c) {
    const auto s = fresh(make, c);
    const committed_base base = commit_base(*s, c);
    {
        writes w(begin(*s, c));
        store_transaction& tx = w.tx();
        w << tx.put_order(plain_order(7, 1, order_state::pending_review, at_ms(5000)))
          << tx.append_timeline(order_id(7), entry(order_event::placed, "placed"))
          << tx.append_timeline(order_id(8), entry(order_event::held, "held"))
          << tx.enqueue(note(7, "confirmed")) << tx.put_sku(plain_sku("SKU-NEW", 100))
          << tx.put_idempotency(record("place_order/new", 7))
          << tx.change_stock(change("SKU-9", "WH-1", stock_operation::receive, 3))
          << tx.change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 2));
    }                                // destroyed without commit
    { auto unused = begin(*s, c); }  // begun and dropped without a write
    expect_untouched(*s, c, base, "after a transaction was destroyed without commit");
    c.succeeded(commit_everything(*s, c, failure_cause::none),
                "a transaction after a dropped one (nothing may stay locked)");
    expect_applied(*s, c, "after a transaction following a dropped one");
}

// ---- scenarios: what reads see ---------------------------------------------------------

/// What another reader sees of order 7, SKU-R and its stock row.
struct outside_view {
    std::optional<order> o;
    std::optional<sku> s;
    std::optional<stock_level> level;
    std::size_t timeline{0};
    std::size_t outbox{0};
};

inline outside_view look(store& s, conformance_checker& c) {
    return outside_view{load(s, c, 7), find_catalogue(s, c, "SKU-R"),
                        stock_of(s, c, "SKU-R", "WH-1"), timeline_of(s, c, 7).size(),
                        outbox(s, c, 7).size()};
}

inline void reads_see_committed_data(const store_factory& make,
                                     const conformance_options& /*options*/,
                                     conformance_checker& c) {
    const auto s = fresh(make, c);
    const order first = rich_order(7);
    {
        // The reader's future is declared first so that it is destroyed last:
        // after the transaction, whose end may be what the reader waits for.
        std::future<outside_view> seen;
        writes w(begin(*s, c));
        w << w.tx().put_order(first) << w.tx().put_sku(plain_sku("SKU-R", 500))
          << w.tx().change_stock(change("SKU-R", "WH-1", stock_operation::receive, 4))
          << w.tx().append_timeline(order_id(7), entry(order_event::placed, "placed"))
          << w.tx().enqueue(note(7, "confirmed"))
          << w.tx().put_idempotency(record("place_order/r", 7));
        seen = read_aside([&] { return look(*s, c); });
        if (finished(seen, c, "reading while the first transaction is open")) {
            const outside_view v = seen.get();
            c.check(!v.o && !v.s && !v.level && v.timeline == 0 && v.outbox == 0,
                    "another reader saw writes of a transaction not yet committed");
        }
        c.need(w.commit(), "commit");
    }
    const outside_view after = look(*s, c);
    expect_order(c, after.o, first, "load_order right after commit");
    c.check(after.s == std::optional{plain_sku("SKU-R", 500)}, "load_sku right after commit");
    expect_stock(c, *s, "SKU-R", "WH-1", stock_counts{4, 0, 0}, "stock right after commit");
    c.check(after.timeline == 1 && after.outbox == 1,
            "timeline or outbox_of right after commit miss the committed entry");
    {
        auto tx = begin(*s, c);
        expect_order(c, c.need(tx->find_order(order_id(7)), "find_order"), first,
                     "find_order in a later transaction");
        c.check(c.need(tx->find_sku(sku_id("SKU-R")), "find_sku") ==
                    std::optional{plain_sku("SKU-R", 500)},
                "find_sku in a later transaction");
        c.check(c.need(tx->find_stock(sku_id("SKU-R")), "find_stock").size() == 1,
                "find_stock in a later transaction");
        c.check(c.need(tx->find_idempotency("place_order/r"), "find_idempotency").has_value(),
                "find_idempotency in a later transaction");
    }
    order second = first;
    second.version = 2;
    second.state = order_state::paid;
    std::future<outside_view> seen;
    writes w(begin(*s, c));
    w << w.tx().put_order(second)
      << w.tx().change_stock(change("SKU-R", "WH-1", stock_operation::reserve, 3));
    seen = read_aside([&] { return look(*s, c); });
    if (finished(seen, c, "reading while the second transaction is open")) {
        const outside_view v = seen.get();
        c.check(v.o && v.o->version == 1 && v.level && v.level->reserved.units() == 0,
                "another reader saw a replacement or a reservation not yet committed");
    }
    c.need(w.commit(), "commit of the replacement");
    expect_stored(c, *s, second, "after the replacement committed");
    expect_stock(c, *s, "SKU-R", "WH-1", stock_counts{4, 3, 0}, "after the reservation committed");
}

// ---- scenarios: timeline and indexes ---------------------------------------------------------

inline void timeline_order(const store_factory& make, const conformance_options& /*options*/,
                           conformance_checker& c) {
    const auto s = fresh(make, c);
    const actor reviewer{"rev-1", role::reviewer};
    const actor gateway{"pay-gw", role::system};
    const std::vector<timeline_entry> of_7 = {
        entry(order_event::placed, "下单 placed 🛒", at_ms(5000)),
        // Same instant as the first: the order of appending decides, not the time.
        entry(order_event::review_approved, "", at_ms(5000), order_state::pending_review,
              order_state::awaiting_payment, reviewer),
        entry(order_event::payment_captured, tricky_text, at_ms(4000),
              order_state::awaiting_payment, order_state::paid, gateway),
        // The newest events: a reader that bounds events by an older list fails.
        entry(order_event::ticket_opened, "ticket 3", at_ms(8000), order_state::paid,
              order_state::paid, actor{"alice", role::customer}),
        entry(order_event::refunded_in_full, "every unit refunded", at_ms(9000), order_state::paid,
              order_state::closed)};
    const std::vector<timeline_entry> of_8 = {
        entry(order_event::placed, "placed", at_ms(6000)),
        entry(order_event::cancelled, "customer asked", at_ms(7000), order_state::pending_review,
              order_state::cancelled, actor{"alice", role::customer})};
    {
        auto tx = begin(*s, c);
        c.need(tx->append_timeline(order_id(7), of_7[0]), "append_timeline");
        c.need(tx->append_timeline(order_id(8), of_8[0]), "append_timeline");
        c.need(tx->append_timeline(order_id(7), of_7[1]), "append_timeline");
        c.need(tx->commit(), "commit of three entries");
    }
    {
        auto tx = begin(*s, c);
        c.need(tx->append_timeline(order_id(8), of_8[1]), "append_timeline");
        c.need(tx->commit(), "commit of one entry");
    }
    {
        auto tx = begin(*s, c);
        c.need(tx->append_timeline(order_id(7), of_7[2]), "append_timeline");
        c.need(tx->append_timeline(order_id(7), of_7[3]), "append_timeline");
        c.need(tx->append_timeline(order_id(7), of_7[4]), "append_timeline");
        c.need(tx->commit(), "commit of three entries");
    }
    for (const auto& [id, expected] : {std::pair{7, of_7}, std::pair{8, of_8}}) {
        const auto got = timeline_of(*s, c, static_cast<std::uint64_t>(id));
        if (got != expected) {
            c.fail(fmt::format("timeline({}): expected {}, got {}", id, timeline_text(expected),
                               timeline_text(got)));
        }
    }
    c.check(timeline_of(*s, c, 99).empty(), "timeline of an unknown order is not empty");
}

inline void orders_in_state_index(const store_factory& make, const conformance_options& /*options*/,
                                  conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<std::uint64_t> waiting;
    std::vector<order> orders;
    for (std::uint64_t i = 1; i <= 120; ++i) {
        const bool even = i % 2 == 0;
        orders.push_back(plain_order(
            i * 97, 1, even ? order_state::awaiting_payment : order_state::pending_review));
        if (even) {
            waiting.push_back(i * 97);
        }
    }
    // Ids whose text order differs from their numeric order, and the largest ones.
    for (const std::uint64_t id : {std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{100},
                                   (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1}) {
        orders.push_back(plain_order(id, 1, order_state::awaiting_payment));
        waiting.push_back(id);
    }
    std::sort(waiting.begin(), waiting.end());
    for (std::size_t from = 0; from < orders.size(); from += 25) {
        auto tx = begin(*s, c);
        for (std::size_t i = from; i < std::min(orders.size(), from + 25); ++i) {
            c.need(tx->put_order(orders[i]), "put_order");
        }
        c.need(tx->commit(), "commit of 25 orders");
    }
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            waiting.begin() + static_cast<std::ptrdiff_t>(std::min(from, waiting.size())),
            waiting.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, waiting.size())));
    };
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, 0, 1000), waiting,
                 "orders_in_state: every id in the state, ascending");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, 0, 3), slice(0, 3),
                 "orders_in_state with limit 3");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, waiting[3], 2), slice(4, 2),
                 "orders_in_state after an id in the list (exclusive)");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, waiting[3] + 1, 2), slice(4, 2),
                 "orders_in_state after an id not in the list");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, 100, 3), slice(3, 3),
                 "orders_in_state after 100 (numeric, not text, order)");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, waiting.back(), 10),
                 std::vector<std::uint64_t>{}, "orders_in_state after the largest id");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, 0, 0),
                 std::vector<std::uint64_t>{}, "orders_in_state with limit 0");
    expect_equal(c, in_state(*s, c, order_state::paid), std::vector<std::uint64_t>{},
                 "orders_in_state of a state no order is in");
    expect_equal(c, in_state(*s, c, order_state::pending_review, 0, 1000).size(), std::size_t{60},
                 "orders_in_state(pending_review) count");

    put(*s, c, plain_order(waiting[0], 2, order_state::paid));
    put(*s, c, plain_order(waiting.back(), 2, order_state::on_hold));
    expect_equal(c, in_state(*s, c, order_state::paid), std::vector<std::uint64_t>{waiting[0]},
                 "orders_in_state follows a state change");
    expect_equal(c, in_state(*s, c, order_state::on_hold),
                 std::vector<std::uint64_t>{waiting.back()},
                 "orders_in_state follows a state change");
    expect_equal(c, in_state(*s, c, order_state::awaiting_payment, 0, 1000),
                 slice(1, waiting.size() - 2), "orders_in_state drops orders that left the state");
}

/// `ids` must list the groups in order; within a group any order (equal
/// deadlines), and only the first `limit` ids.
inline bool in_groups(const std::vector<std::uint64_t>& ids,
                      const std::vector<std::set<std::uint64_t>>& groups, std::size_t limit) {
    std::size_t total = 0;
    for (const auto& g : groups) {
        total += g.size();
    }
    if (ids.size() != std::min(total, limit)) {
        return false;
    }
    std::size_t at = 0;
    for (const auto& g : groups) {
        std::set<std::uint64_t> left = g;
        for (std::size_t k = 0; k < g.size() && at < ids.size(); ++k, ++at) {
            if (left.erase(ids[at]) == 0) {
                return false;
            }
        }
    }
    return true;
}

inline void due_orders_index(const store_factory& make, const conformance_options& /*options*/,
                             conformance_checker& c) {
    const auto s = fresh(make, c);
    put(*s, c, plain_order(1, 1, order_state::awaiting_payment, at_ms(3000)));
    put(*s, c, plain_order(2, 1, order_state::awaiting_payment, at_ms(1000)));
    put(*s, c, plain_order(3, 1, order_state::awaiting_payment, at_ms(2000)));
    put(*s, c, plain_order(4, 1, order_state::delivered, at_ms(2000)));
    put(*s, c, plain_order(5));
    const auto expect_due = [&](std::int64_t now, std::size_t limit,
                                const std::vector<std::set<std::uint64_t>>& groups,
                                here where = here::current()) {
        const auto got = due(*s, c, now, limit, where);
        c.check(in_groups(got, groups, limit),
                fmt::format("due_orders({} ms, limit {}) returned {}: not earliest first", now,
                            limit, ids_text(got)),
                where);
    };
    expect_due(999, 100, {});
    expect_due(1000, 100, {{2}});
    expect_due(2000, 100, {{2}, {3, 4}});
    expect_due(9000, 100, {{2}, {3, 4}, {1}});
    expect_due(9000, 2, {{2}, {3, 4}});
    expect_due(9000, 0, {});

    put(*s, c, plain_order(2, 2, order_state::paid));                          // cleared
    put(*s, c, plain_order(1, 2, order_state::awaiting_payment, at_ms(500)));  // earlier
    put(*s, c, plain_order(5, 2, order_state::delivered, at_ms(8000)));        // set
    expect_due(9000, 100, {{1}, {3, 4}, {5}});
    expect_due(600, 100, {{1}});
    expect_due(1000, 100, {{1}});
}

// ---- scenarios: shipments ---------------------------------------------------------------

inline void shipment_round_trip(const store_factory& make, const conformance_options& /*options*/,
                                conformance_checker& c) {
    const auto s = fresh(make, c);
    const shipment full = rich_shipment(501);
    c.require(full.tracking && full.tracking->state() == tracking_state::delivered,
              "the rich shipment's history should end delivered");
    const auto& entries = full.tracking->entries();
    c.require(std::any_of(entries.begin(), entries.end(),
                          [](const tracking_entry& e) { return e.superseded; }),
              "the rich shipment's history should hold a superseded event");
    const shipment sparse = plain_shipment(502);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_shipment(full), "put_shipment of a shipment with every field set");
        c.need(tx->put_shipment(sparse), "put_shipment of a shipment with no optional set");
        c.need(tx->commit(), "commit of two new shipments");
    }
    for (const shipment* x : {&full, &sparse}) {
        expect_stored(c, *s, *x, "load_shipment after the insert");
        auto tx = begin(*s, c);
        expect_shipment(c, c.need(tx->find_shipment(x->id), "find_shipment"), *x,
                        "find_shipment after the insert");
    }
    // Replacing keeps every field too, including ones that became empty or set.
    shipment next = full;
    next.version = 2;
    next.state = shipment_state::returned;
    next.packing.reset();
    next.shipping_cost.reset();
    next.exceptions.pop_back();
    next.exceptions.front().replacement.reset();
    next.due_at.reset();
    next.updated_at = at_ms(1'795'300'009'000);
    shipment next_sparse = sparse;
    next_sparse.version = 2;
    next_sparse.state = shipment_state::shipped;
    next_sparse.packing = packing_record{.shipment = sparse.id,  // started, nothing scanned
                                         .expected = {},
                                         .scans = {},
                                         .mismatches = {},
                                         .mismatch_count = 0,
                                         .status = packing_status::open,
                                         .finished_at = std::nullopt};
    next_sparse.tracking = tracking_history(at_ms(7));  // a label, no event yet
    next_sparse.shipping_cost = money::zero(currency::of<"JPY">());
    next_sparse.shipped_at = at_ms(8);
    next_sparse.due_at = at_ms(9);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_shipment(next), "put_shipment of version 2");
        c.need(tx->put_shipment(next_sparse), "put_shipment of version 2 with an empty history");
        c.need(tx->commit(), "commit of two replacements");
    }
    expect_stored(c, *s, next, "load_shipment after the replacement");
    expect_stored(c, *s, next_sparse, "load_shipment after the replacement");
    expect_no_shipment(c, *s, 503, "a shipment never put");
    auto tx = begin(*s, c);
    c.check(!c.need(tx->find_shipment(shipment_id(503)), "find_shipment").has_value(),
            "find_shipment of a shipment never put returned one");
}

inline void shipment_versions(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    const shipment first = plain_shipment(7);
    put(*s, c, first);
    c.refused(commit_shipment(*s, c, plain_shipment(7, 1, shipment_state::picking)), errc::conflict,
              "shipment.id", "inserting version 1 of a shipment that exists");
    expect_stored(c, *s, first, "after a refused duplicate insert");

    const shipment second = plain_shipment(7, 2, shipment_state::picking);
    c.succeeded(commit_shipment(*s, c, second), "version 2 over a stored version 1");
    expect_stored(c, *s, second, "after the replacement");
    c.refused(commit_shipment(*s, c, plain_shipment(7, 2, shipment_state::cancelled)),
              errc::conflict, "shipment.version", "a stale version 2 over a stored version 2");
    c.refused(commit_shipment(*s, c, plain_shipment(7, 4, shipment_state::cancelled)),
              errc::conflict, "shipment.version", "version 4 over a stored version 2");
    expect_stored(c, *s, second, "after refused stale and future versions");

    c.refused(commit_shipment(*s, c, plain_shipment(8, 2)), errc::conflict, "shipment.version",
              "version 2 of a shipment that does not exist");
    expect_no_shipment(c, *s, 8, "after a refused replacement of a missing shipment");
    expect_equal(c, in_state(*s, c, shipment_state::cancelled), std::vector<std::uint64_t>{},
                 "shipments_in_state(cancelled) after refused writes");

    const shipment third = plain_shipment(7, 3, shipment_state::packed);
    c.succeeded(commit_shipment(*s, c, third), "version 3 over a stored version 2");
    expect_stored(c, *s, third, "after the second replacement");

    // Orders and shipments are separate records: equal id values never clash.
    writes w(begin(*s, c));
    w << w.tx().put_order(plain_order(7)) << w.tx().put_order(plain_order(8))
      << w.tx().put_shipment(plain_shipment(8));
    c.succeeded(w.commit(), "orders 7 and 8 beside shipments 7 and 8");
    expect_stored(c, *s, third, "after an order with the same id was put");
    expect_stored(c, *s, plain_shipment(8), "a shipment put beside an order with its id");
    expect_stored(c, *s, plain_order(7), "an order put beside a shipment with its id");
}

/// What makes the order-and-shipment transaction fail at commit.
enum class shipment_failure : std::uint8_t { none, stock, shipment_id, order_version };

/// Stock of SKU-1 in WH-1 (5 units), order 30 and shipments 40 and 42.
inline void commit_shipment_base(store& s, conformance_checker& c) {
    writes w(begin(s, c));
    w << w.tx().change_stock(change("SKU-1", "WH-1", stock_operation::receive, 5))
      << w.tx().put_order(plain_order(30)) << w.tx().put_shipment(plain_shipment(40))
      << w.tx().put_shipment(plain_shipment(42));
    c.need(w.commit(), "committing the starting state");
}

/// The new order 31 with its new shipment 41, due at 6000 ms.
inline order order_with_shipment() {
    order o = plain_order(31, 1, order_state::pending_review, at_ms(5000));
    o.shipments = {shipment_id(41)};
    return o;
}

/// One transaction placing order 31 with shipment 41, moving shipment 40 on
/// and reserving its stock, plus the cause of its failure.
inline result<void> commit_order_and_shipment(store& s, conformance_checker& c,
                                              shipment_failure cause) {
    writes w(begin(s, c));
    store_transaction& tx = w.tx();
    w << tx.put_order(order_with_shipment())
      << tx.put_shipment(plain_shipment(41, 1, shipment_state::planned, at_ms(6000)))
      << tx.put_shipment(plain_shipment(40, 2, shipment_state::picking))
      << tx.change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 2, "lines[0].units"));
    switch (cause) {
        case shipment_failure::stock:
            w << tx.change_stock(
                change("SKU-1", "WH-1", stock_operation::reserve, 4, "lines[1].units"));
            break;
        case shipment_failure::shipment_id:
            w << tx.put_shipment(plain_shipment(42, 1, shipment_state::cancelled));
            break;
        case shipment_failure::order_version:
            w << tx.put_order(plain_order(30));
            break;
        case shipment_failure::none:
            break;
    }
    return w.commit();
}

inline void failed_commit_writes_no_shipment(const store_factory& make,
                                             const conformance_options& /*options*/,
                                             conformance_checker& c) {
    struct attempt {
        shipment_failure cause;
        errc code;
        std::optional<std::string_view> field;
        std::string_view what;
    };
    const std::array<attempt, 3> attempts = {
        attempt{shipment_failure::stock, errc::insufficient_stock, "lines[1].units",
                "an order and shipment whose second reservation exceeds the stock"},
        attempt{shipment_failure::shipment_id, errc::conflict, "shipment.id",
                "an order and shipment with an insert of a shipment that exists"},
        attempt{shipment_failure::order_version, errc::conflict, std::nullopt,
                "an order and shipment with an insert of an order that exists"}};
    for (const attempt& a : attempts) {
        const auto s = fresh(make, c);
        commit_shipment_base(*s, c);
        c.refused(commit_order_and_shipment(*s, c, a.cause), a.code, a.field, a.what);
        const std::string after = fmt::format("after {} failed", a.what);
        expect_absent(c, *s, 31, after);
        expect_no_shipment(c, *s, 41, after);
        expect_stored(c, *s, plain_shipment(40), after);
        expect_stored(c, *s, plain_shipment(42), after);
        expect_stock(c, *s, "SKU-1", "WH-1", stock_counts{5, 0, 0}, after);
        expect_equal(c, in_state(*s, c, shipment_state::planned),
                     std::vector<std::uint64_t>{40, 42},
                     fmt::format("{}: shipments_in_state(planned)", after));
        expect_equal(c, in_state(*s, c, shipment_state::picking), std::vector<std::uint64_t>{},
                     fmt::format("{}: shipments_in_state(picking)", after));
        expect_equal(c, due_shipments(*s, c, 10'000), std::vector<std::uint64_t>{},
                     fmt::format("{}: due_shipments", after));
        expect_equal(c, in_state(*s, c, order_state::pending_review),
                     std::vector<std::uint64_t>{30},
                     fmt::format("{}: orders_in_state(pending_review)", after));

        c.succeeded(commit_order_and_shipment(*s, c, shipment_failure::none),
                    "the same transaction without the failing write");
        const std::string_view done = "after the same transaction without the failing write";
        expect_stored(c, *s, order_with_shipment(), done);
        expect_stored(c, *s, plain_shipment(41, 1, shipment_state::planned, at_ms(6000)), done);
        expect_stored(c, *s, plain_shipment(40, 2, shipment_state::picking), done);
        expect_stock(c, *s, "SKU-1", "WH-1", stock_counts{5, 2, 0}, done);
        expect_equal(c, due_shipments(*s, c, 10'000), std::vector<std::uint64_t>{41},
                     fmt::format("{}: due_shipments", done));
    }
}

inline void shipments_in_state_index(const store_factory& make,
                                     const conformance_options& /*options*/,
                                     conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<std::uint64_t> packed;
    std::vector<shipment> shipments;
    for (std::uint64_t i = 1; i <= 120; ++i) {
        const bool even = i % 2 == 0;
        shipments.push_back(
            plain_shipment(i * 97, 1, even ? shipment_state::packed : shipment_state::planned));
        if (even) {
            packed.push_back(i * 97);
        }
    }
    // Ids whose text order differs from their numeric order, and the largest ones.
    for (const std::uint64_t id : {std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{100},
                                   (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1}) {
        shipments.push_back(plain_shipment(id, 1, shipment_state::packed));
        packed.push_back(id);
    }
    std::sort(packed.begin(), packed.end());
    for (std::size_t from = 0; from < shipments.size(); from += 25) {
        auto tx = begin(*s, c);
        for (std::size_t i = from; i < std::min(shipments.size(), from + 25); ++i) {
            c.need(tx->put_shipment(shipments[i]), "put_shipment");
        }
        c.need(tx->commit(), "commit of 25 shipments");
    }
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            packed.begin() + static_cast<std::ptrdiff_t>(std::min(from, packed.size())),
            packed.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, packed.size())));
    };
    const shipment_state p = shipment_state::packed;
    expect_equal(c, in_state(*s, c, p, 0, 1000), packed,
                 "shipments_in_state: every id in the state, ascending");
    expect_equal(c, in_state(*s, c, p, 0, 3), slice(0, 3), "shipments_in_state with limit 3");
    expect_equal(c, in_state(*s, c, p, packed[3], 2), slice(4, 2),
                 "shipments_in_state after an id in the list (exclusive)");
    expect_equal(c, in_state(*s, c, p, packed[3] + 1, 2), slice(4, 2),
                 "shipments_in_state after an id not in the list");
    expect_equal(c, in_state(*s, c, p, 100, 3), slice(3, 3),
                 "shipments_in_state after 100 (numeric, not text, order)");
    expect_equal(c, in_state(*s, c, p, packed.back(), 10), std::vector<std::uint64_t>{},
                 "shipments_in_state after the largest id");
    expect_equal(c, in_state(*s, c, p, 0, 0), std::vector<std::uint64_t>{},
                 "shipments_in_state with limit 0");
    expect_equal(c, in_state(*s, c, shipment_state::lost), std::vector<std::uint64_t>{},
                 "shipments_in_state of a state no shipment is in");
    expect_equal(c, in_state(*s, c, shipment_state::planned, 0, 1000).size(), std::size_t{60},
                 "shipments_in_state(planned) count");

    // Paging through the whole state, two at a time, meets every id once.
    std::vector<std::uint64_t> paged;
    for (std::uint64_t after = 0;;) {
        const auto page = in_state(*s, c, p, after, 2);
        if (page.empty() || paged.size() > packed.size()) {
            break;
        }
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
    }
    expect_equal(c, paged, packed, "shipments_in_state paged two at a time");

    put(*s, c, plain_shipment(packed[0], 2, shipment_state::shipped, at_ms(50)));
    put(*s, c, plain_shipment(packed.back(), 2, shipment_state::cancelled));
    put(*s, c, plain_shipment(97, 2, shipment_state::picking));
    expect_equal(c, in_state(*s, c, shipment_state::shipped), std::vector<std::uint64_t>{packed[0]},
                 "shipments_in_state follows a state change");
    expect_equal(c, in_state(*s, c, shipment_state::cancelled),
                 std::vector<std::uint64_t>{packed.back()},
                 "shipments_in_state follows a state change");
    expect_equal(c, in_state(*s, c, p, 0, 1000), slice(1, packed.size() - 2),
                 "shipments_in_state drops shipments that left the state");
    expect_equal(c, in_state(*s, c, shipment_state::picking), std::vector<std::uint64_t>{97},
                 "shipments_in_state follows planned to picking");
    expect_equal(c, in_state(*s, c, shipment_state::planned, 0, 1000).size(), std::size_t{59},
                 "shipments_in_state(planned) count after one left");
    put(*s, c, plain_shipment(packed[0], 3, shipment_state::packed));
    expect_equal(c, in_state(*s, c, p, 0, 1000), slice(0, packed.size() - 1),
                 "shipments_in_state takes a shipment back into a state it left");
    expect_equal(c, in_state(*s, c, shipment_state::shipped), std::vector<std::uint64_t>{},
                 "shipments_in_state(shipped) after the only one left it");
}

inline void due_shipments_index(const store_factory& make, const conformance_options& /*options*/,
                                conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto shipped = shipment_state::shipped;
    put(*s, c, plain_shipment(1, 1, shipped, at_ms(3000)));
    put(*s, c, plain_shipment(2, 1, shipped, at_ms(1000)));
    // Equal deadlines come by id, numerically (100 after 10 after 9).
    put(*s, c, plain_shipment(100, 1, shipped, at_ms(2000)));
    put(*s, c, plain_shipment(10, 1, shipment_state::lost, at_ms(2000)));
    put(*s, c, plain_shipment(9, 1, shipped, at_ms(2000)));
    put(*s, c, plain_shipment(5, 1, shipped));
    const auto expect_due = [&](std::int64_t now, std::size_t limit,
                                const std::vector<std::uint64_t>& expected,
                                here where = here::current()) {
        expect_equal(c, due_shipments(*s, c, now, limit, where), expected,
                     fmt::format("due_shipments({} ms, limit {})", now, limit), where);
    };
    expect_due(999, 100, {});
    expect_due(1000, 100, {2});
    expect_due(2000, 100, {2, 9, 10, 100});
    expect_due(9000, 100, {2, 9, 10, 100, 1});
    expect_due(9000, 2, {2, 9});
    expect_due(9000, 3, {2, 9, 10});
    expect_due(9000, 0, {});

    put(*s, c, plain_shipment(2, 2, shipment_state::delivered));           // cleared
    put(*s, c, plain_shipment(1, 2, shipped, at_ms(500)));                 // earlier
    put(*s, c, plain_shipment(5, 2, shipped, at_ms(8000)));                // set
    put(*s, c, plain_shipment(9, 2, shipped, at_ms(2500)));                // later
    put(*s, c, plain_shipment(10, 2, shipment_state::lost, at_ms(2000)));  // unchanged
    expect_due(9000, 100, {1, 10, 100, 9, 5});
    expect_due(600, 100, {1});
    expect_due(1000, 100, {1});
    expect_due(2000, 100, {1, 10, 100});
    put(*s, c, plain_shipment(1, 3, shipment_state::delivered));  // cleared again
    expect_due(9000, 100, {10, 100, 9, 5});
}

/// A parcel the carrier brought back: returned, with the open exception that
/// says so, as the engine files it.
inline shipment returned_parcel(std::uint64_t id) {
    shipment x = rich_shipment(id);
    x.state = shipment_state::returned;
    x.delivered_at.reset();
    x.due_at.reset();
    x.exceptions = {logistics_exception{.kind = logistics_exception_kind::returned,
                                        .raised_at = at_ms(1'795'200'000'000),
                                        .detail = "退回 returned to sender: refused",
                                        .remedy = logistics_remedy::none,
                                        .resolved_at = std::nullopt,
                                        .amount = std::nullopt,
                                        .replacement = std::nullopt,
                                        .reported = false}};
    return x;
}

inline void resolved_shipments(const store_factory& make, const conformance_options& /*options*/,
                               conformance_checker& c) {
    const auto s = fresh(make, c);
    const shipment back = returned_parcel(601);
    put(*s, c, back);
    expect_stored(c, *s, back, "a returned parcel with a returned exception");
    expect_equal(c, in_state(*s, c, shipment_state::returned), std::vector<std::uint64_t>{601},
                 "shipments_in_state(returned)");

    // Put right by a refund: resolved, the exception closed with its amount.
    shipment resolved = back;
    resolved.version = 2;
    resolved.state = shipment_state::resolved;
    resolved.exceptions.front().remedy = logistics_remedy::refund;
    resolved.exceptions.front().resolved_at = at_ms(1'795'300'000'000);
    resolved.exceptions.front().amount = amount("12.345", currency::of<"KWD">());
    resolved.updated_at = at_ms(1'795'300'000'000);
    put(*s, c, resolved);
    expect_stored(c, *s, resolved, "load_shipment of a resolved parcel");
    {
        auto tx = begin(*s, c);
        expect_shipment(c, c.need(tx->find_shipment(resolved.id), "find_shipment"), resolved,
                        "find_shipment of a resolved parcel");
    }
    // A lost parcel resolved by a reship, at the largest id, and a plain one.
    shipment lost = plain_shipment((std::uint64_t{1} << 63) - 1, 1, shipment_state::resolved);
    lost.exceptions = {logistics_exception{.kind = logistics_exception_kind::lost,
                                           .raised_at = at_ms(4000),
                                           .detail = "declared lost",
                                           .remedy = logistics_remedy::reship,
                                           .resolved_at = at_ms(5000),
                                           .amount = std::nullopt,
                                           .replacement = shipment_id(9),
                                           .reported = true}};
    put(*s, c, lost);
    put(*s, c, plain_shipment(10, 1, shipment_state::resolved));
    expect_stored(c, *s, lost, "a lost parcel resolved by a reship");
    expect_equal(c, in_state(*s, c, shipment_state::resolved),
                 std::vector<std::uint64_t>{10, 601, (std::uint64_t{1} << 63) - 1},
                 "shipments_in_state(resolved) lists every resolved parcel, ascending");
    expect_equal(c, in_state(*s, c, shipment_state::resolved, 10, 1),
                 std::vector<std::uint64_t>{601}, "shipments_in_state(resolved) after 10, limit 1");
    expect_equal(c, in_state(*s, c, shipment_state::returned), std::vector<std::uint64_t>{},
                 "shipments_in_state(returned) after the parcel was resolved");
    expect_equal(c, in_state(*s, c, shipment_state::lost), std::vector<std::uint64_t>{},
                 "shipments_in_state(lost) holds no resolved parcel");
    c.refused(commit_shipment(*s, c, resolved), errc::conflict, "shipment.version",
              "a stale version 2 over a resolved parcel");
    expect_stored(c, *s, resolved, "after a refused stale write");
}

// ---- scenarios: transfers, the on-hand ledger and low-stock flags -------------------------

inline void stock_dispatch(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-A", stock_operation::receive, 10),
                                change("SKU-1", "WH-A", stock_operation::reserve, 3),
                                change("SKU-1", "WH-A", stock_operation::set_safety, 2)}),
                "receive, reserve and set_safety");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-A", stock_operation::dispatch, 4)}),
                "dispatch within available");
    expect_level(c, s, row_level("SKU-1", "WH-A", 6, 3, 2, 0, false),
                 "dispatch lowers on hand only");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-A", stock_operation::dispatch, 2, "units")}),
        errc::insufficient_stock, "units",
        "dispatch beyond available (reserved and safety kept back)");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-A", stock_operation::dispatch, 1)}),
                "dispatch exactly what is available");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-A", stock_operation::dispatch, 1, "lines[2]")}),
        errc::insufficient_stock, "lines[2]", "dispatch with nothing available");
    c.refused(commit_changes(s, c, {change("SKU-1", "WH-9", stock_operation::dispatch, 1, "from")}),
              errc::insufficient_stock, "from", "dispatch from a warehouse without a row");
    c.refused(commit_changes(s, c, {change("SKU-2", "WH-A", stock_operation::dispatch, 0, "from")}),
              errc::insufficient_stock, "from", "dispatch of 0 units of a SKU without a row");
    expect_level(c, s, row_level("SKU-1", "WH-A", 5, 3, 2, 0, false), "after refused dispatches");
    expect_stock(c, s, "SKU-1", "WH-9", std::nullopt, "a refused dispatch creates no row");
    expect_stock(c, s, "SKU-2", "WH-A", std::nullopt, "a refused dispatch creates no row");
}

inline void stock_expect_arrive(store& s, conformance_checker& c) {
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-B", stock_operation::expect, 5)}),
                "expect on a missing row");
    expect_level(c, s, row_level("SKU-1", "WH-B", 0, 0, 0, 5, false),
                 "expect creates the row with the units in transit");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-B", stock_operation::expect, 3)}),
                "expect on an existing row");
    c.succeeded(commit_changes(s, c, {change("SKU-1", "WH-B", stock_operation::arrive, 6)}),
                "arrive of part of what is in transit");
    expect_level(c, s, row_level("SKU-1", "WH-B", 6, 0, 0, 2, false),
                 "arrive moves units from in transit to on hand");
    c.refused(
        commit_changes(s, c, {change("SKU-1", "WH-B", stock_operation::arrive, 3, "arrival")}),
        errc::conflict, "arrival", "arrive of more than is in transit");
    c.refused(commit_changes(s, c, {change("SKU-1", "WH-C", stock_operation::arrive, 1, "to")}),
              errc::conflict, "to", "arrive at a warehouse without a row");
    expect_stock(c, s, "SKU-1", "WH-C", std::nullopt, "a refused arrival creates no row");
    c.succeeded(commit_changes(s, c,
                               {change("SKU-1", "WH-B", stock_operation::reserve, 4),
                                change("SKU-1", "WH-B", stock_operation::arrive, 2)}),
                "reserve, then arrive of the rest in transit");
    expect_level(c, s, row_level("SKU-1", "WH-B", 8, 4, 0, 0, false),
                 "after everything in transit arrived");

    const auto most = std::numeric_limits<std::int64_t>::max();
    c.succeeded(commit_changes(s, c, {change("SKU-BIG", "WH-1", stock_operation::expect, most)}),
                "expect of the largest quantity");
    c.refused(
        commit_changes(s, c, {change("SKU-BIG", "WH-1", stock_operation::expect, 1, "units")}),
        errc::overflow, "units", "expect past the largest quantity");
    expect_level(c, s, row_level("SKU-BIG", "WH-1", 0, 0, 0, most, false),
                 "after a refused expect");
    c.refused(commit_changes(s, c,
                             {change("SKU-NEW", "WH-1", stock_operation::expect, 1),
                              change("SKU-NEW", "WH-1", stock_operation::expect, most)}),
              errc::overflow, "lines[0].units", "a second expect overflowing the first");
    expect_stock(c, s, "SKU-NEW", "WH-1", std::nullopt, "a refused expect creates no row");
    c.succeeded(commit_changes(s, c,
                               {change("SKU-FULL", "WH-1", stock_operation::receive, most),
                                change("SKU-FULL", "WH-1", stock_operation::expect, 1)}),
                "a full row expecting one unit");
    c.check(
        commit_changes(s, c, {change("SKU-FULL", "WH-1", stock_operation::arrive, 1)}).has_error(),
        "arrive pushing on hand past the largest quantity was accepted");
    expect_level(c, s, row_level("SKU-FULL", "WH-1", most, 0, 0, 1, false),
                 "after a refused arrival");
}

inline void transfer_operations(const store_factory& make, const conformance_options& /*options*/,
                                conformance_checker& c) {
    for (const auto part : {&stock_dispatch, &stock_expect_arrive}) {
        const auto s = fresh(make, c);
        part(*s, c);
    }
}

inline void low_stock_flags(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto mark = [](std::int64_t n = 0, std::string field = "low") {
        return change("SKU-1", "WH-1", stock_operation::mark_low, n, std::move(field));
    };
    const auto clear = [](std::int64_t n = 0, std::string field = "low") {
        return change("SKU-1", "WH-1", stock_operation::clear_low, n, std::move(field));
    };
    c.refused(commit_changes(*s, c, {mark()}), errc::conflict, "low", "mark_low on a missing row");
    c.refused(commit_changes(*s, c, {clear()}), errc::conflict, "low",
              "clear_low on a missing row");
    expect_stock(c, *s, "SKU-1", "WH-1", std::nullopt, "a refused flag change creates no row");
    c.need(commit_changes(*s, c,
                          {change("SKU-1", "WH-1", stock_operation::receive, 10),
                           change("SKU-1", "WH-1", stock_operation::reserve, 4),
                           change("SKU-1", "WH-1", stock_operation::set_safety, 1)}),
           "receiving stock");
    c.refused(commit_changes(*s, c, {clear()}), errc::conflict, "low",
              "clear_low on a row never alerted");
    c.refused(commit_changes(*s, c, {mark(1, "flag")}), errc::invalid_value, "flag",
              "mark_low carrying units");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 10, 4, 1, 0, false),
                 "after refused flag changes");
    c.succeeded(commit_changes(*s, c, {mark()}), "mark_low on a row not alerted");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 10, 4, 1, 0, true),
                 "mark_low sets the flag and nothing else");
    c.refused(commit_changes(*s, c, {mark()}), errc::conflict, "low",
              "mark_low on a row already alerted");
    c.refused(commit_changes(*s, c, {clear(2, "flag")}), errc::invalid_value, "flag",
              "clear_low carrying units");
    c.succeeded(commit_changes(*s, c,
                               {change("SKU-1", "WH-1", stock_operation::receive, 5),
                                change("SKU-1", "WH-1", stock_operation::reserve, 1),
                                change("SKU-1", "WH-1", stock_operation::expect, 2)}),
                "other changes of an alerted row");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 15, 5, 1, 2, true),
                 "other changes keep the flag");
    c.succeeded(commit_changes(*s, c, {clear()}), "clear_low on an alerted row");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 15, 5, 1, 2, false), "clear_low clears it");
    c.refused(commit_changes(*s, c, {clear()}), errc::conflict, "low",
              "clear_low on a row no longer alerted");
    c.succeeded(commit_changes(*s, c, {mark(), clear(), mark()}),
                "mark, clear and mark again in one transaction");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 15, 5, 1, 2, true),
                 "flag changes apply in order");
    c.refused(commit_changes(*s, c, {clear(), mark(), mark(0, "second")}), errc::conflict, "second",
              "a second mark_low in one transaction");
    expect_level(c, *s, row_level("SKU-1", "WH-1", 15, 5, 1, 2, true),
                 "after a refused sequence of flag changes");
    expect_movements(c, *s, "SKU-1", "WH-1", 0, 1,
                     {movement(0, stock_operation::receive, 10, 10),
                      movement(0, stock_operation::receive, 5, 15)},
                     "flag changes are not in the ledger");
}

inline void inventory_round_trip(const store_factory& make, const conformance_options& /*options*/,
                                 conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto most = std::numeric_limits<std::int64_t>::max();
    c.need(commit_changes(*s, c,
                          {change("SKU-A", "WH-1", stock_operation::receive, 7),
                           change("SKU-A", "WH-1", stock_operation::expect, 3),
                           change("SKU-A", "WH-1", stock_operation::mark_low, 0),
                           change("SKU-A", "WH-2", stock_operation::expect, most),
                           change("SKU-A", "WH-3", stock_operation::receive, 2),
                           change("SKU-A", "WH-3", stock_operation::mark_low, 0),
                           change("SKU-B", "WH-1", stock_operation::receive, 1)}),
           "receiving, expecting and flagging five rows");
    const std::vector<stock_level> expected = {row_level("SKU-A", "WH-1", 7, 0, 0, 3, true),
                                               row_level("SKU-A", "WH-2", 0, 0, 0, most, false),
                                               row_level("SKU-A", "WH-3", 2, 0, 0, 0, true),
                                               row_level("SKU-B", "WH-1", 1, 0, 0, 0, false)};
    for (const stock_level& l : expected) {
        expect_level(c, *s, l, "after the commit");
    }
    const auto all = c.need(s->all_stock(), "all_stock");
    c.check(all == expected, "all_stock does not return exactly the four rows, every field kept");
    auto tx = begin(*s, c);
    const auto of_sku = c.need(tx->find_stock(sku_id("SKU-A")), "find_stock");
    c.check(of_sku == std::vector<stock_level>(expected.begin(), expected.begin() + 3),
            "find_stock(SKU-A) does not return its three rows, every field kept");
    tx.reset();
    c.need(commit_changes(*s, c,
                          {change("SKU-A", "WH-1", stock_operation::clear_low, 0),
                           change("SKU-A", "WH-1", stock_operation::arrive, 3),
                           change("SKU-A", "WH-2", stock_operation::mark_low, 0)}),
           "clearing, arriving and flagging");
    expect_level(c, *s, row_level("SKU-A", "WH-1", 10, 0, 0, 0, false), "after the changes");
    expect_level(c, *s, row_level("SKU-A", "WH-2", 0, 0, 0, most, true), "after the changes");
    expect_level(c, *s, row_level("SKU-A", "WH-3", 2, 0, 0, 0, true), "a row left alone");
}

/// What makes the inventory transaction fail at commit.
enum class inventory_failure : std::uint8_t {
    none,
    dispatch_beyond_available,
    arrive_beyond_in_transit,
    mark_low_twice,
    clear_low_not_alerted,
    flag_with_units,
    expect_overflow,
    recall_beyond_in_transit,
    transfer_exists,
    transfer_version,
    order_exists,
};

/// 10 units of SKU-1 in WH-A, 4 in transit to WH-B (transfer 1), transfer 3
/// received, order 8.
inline void commit_inventory_base(store& s, conformance_checker& c) {
    writes w(begin(s, c));
    w << w.tx().change_stock(at_time(change("SKU-1", "WH-A", stock_operation::receive, 10), 1000))
      << w.tx().change_stock(at_time(change("SKU-1", "WH-B", stock_operation::expect, 4), 1000))
      << w.tx().put_transfer(plain_transfer(1, 1, transfer_state::in_transit, 4))
      << w.tx().put_transfer(plain_transfer(3, 1, transfer_state::received))
      << w.tx().put_order(plain_order(8));
    c.need(w.commit(), "committing the starting state");
}

/// One transaction placing order 7, dispatching transfer 2 (WH-A to WH-C),
/// receiving transfer 1 at WH-B and flagging WH-A, plus the cause of its failure.
inline result<void> commit_inventory(store& s, conformance_checker& c, inventory_failure cause) {
    writes w(begin(s, c));
    store_transaction& tx = w.tx();
    stock_transfer second = plain_transfer(2, 1, transfer_state::in_transit, 3);
    second.to = warehouse_id("WH-C");
    const auto at = [](stock_change x) { return at_time(std::move(x), 5000); };
    w << tx.put_order(plain_order(7)) << tx.put_transfer(second)
      << tx.put_transfer(plain_transfer(1, 2, transfer_state::received, 4))
      << tx.change_stock(at(change("SKU-1", "WH-A", stock_operation::dispatch, 3, "dispatch")))
      << tx.change_stock(at(change("SKU-1", "WH-C", stock_operation::expect, 3, "expect")))
      << tx.change_stock(at(change("SKU-1", "WH-B", stock_operation::arrive, 4, "arrive")))
      << tx.change_stock(at(change("SKU-1", "WH-A", stock_operation::mark_low, 0, "flag")))
      << tx.change_stock(at(change("SKU-9", "WH-1", stock_operation::receive, 2, "restock")));
    const auto cause_change = [&](stock_operation operation, std::string_view warehouse,
                                  std::int64_t count) {
        w << tx.change_stock(at(change("SKU-1", warehouse, operation, count, "cause")));
    };
    switch (cause) {
        case inventory_failure::dispatch_beyond_available:
            cause_change(stock_operation::dispatch, "WH-A", 8);
            break;
        case inventory_failure::arrive_beyond_in_transit:
            cause_change(stock_operation::arrive, "WH-B", 1);
            break;
        case inventory_failure::mark_low_twice:
            cause_change(stock_operation::mark_low, "WH-A", 0);
            break;
        case inventory_failure::clear_low_not_alerted:
            cause_change(stock_operation::clear_low, "WH-B", 0);
            break;
        case inventory_failure::flag_with_units:
            cause_change(stock_operation::mark_low, "WH-C", 1);
            break;
        case inventory_failure::expect_overflow:
            cause_change(stock_operation::expect, "WH-C", std::numeric_limits<std::int64_t>::max());
            break;
        case inventory_failure::recall_beyond_in_transit:
            cause_change(stock_operation::recall, "WH-C", 4);
            break;
        case inventory_failure::transfer_exists:
            w << tx.put_transfer(plain_transfer(3, 1, transfer_state::in_transit));
            break;
        case inventory_failure::transfer_version:
            w << tx.put_transfer(plain_transfer(4, 2, transfer_state::received));
            break;
        case inventory_failure::order_exists:
            w << tx.put_order(plain_order(8));
            break;
        case inventory_failure::none:
            break;
    }
    return w.commit();
}

inline void failed_commit_applies_no_inventory_change(const store_factory& make,
                                                      const conformance_options& /*options*/,
                                                      conformance_checker& c) {
    struct attempt {
        inventory_failure cause;
        errc code;
        std::optional<std::string_view> field;
        std::string_view what;
    };
    const std::array<attempt, 10> attempts = {
        attempt{inventory_failure::dispatch_beyond_available, errc::insufficient_stock, "cause",
                "a transaction whose last dispatch exceeds what is available"},
        attempt{inventory_failure::arrive_beyond_in_transit, errc::conflict, "cause",
                "a transaction whose last arrival exceeds what is in transit"},
        attempt{inventory_failure::mark_low_twice, errc::conflict, "cause",
                "a transaction marking one row low twice"},
        attempt{inventory_failure::clear_low_not_alerted, errc::conflict, "cause",
                "a transaction clearing a flag that is not set"},
        attempt{inventory_failure::flag_with_units, errc::invalid_value, "cause",
                "a transaction whose last flag change carries units"},
        attempt{inventory_failure::expect_overflow, errc::overflow, "cause",
                "a transaction whose last expect overflows"},
        attempt{inventory_failure::recall_beyond_in_transit, errc::conflict, "cause",
                "a transaction whose last recall exceeds what it expected"},
        attempt{inventory_failure::transfer_exists, errc::conflict, "transfer.id",
                "a transaction inserting a transfer that exists"},
        attempt{inventory_failure::transfer_version, errc::conflict, "transfer.version",
                "a transaction replacing a transfer that does not exist"},
        attempt{inventory_failure::order_exists, errc::conflict, std::nullopt,
                "a transaction inserting an order that exists"}};
    const stock_level a_before = row_level("SKU-1", "WH-A", 10, 0, 0, 0, false);
    const stock_level b_before = row_level("SKU-1", "WH-B", 0, 0, 0, 4, false);
    const std::vector<stock_movement> a_ledger = {movement(1000, stock_operation::receive, 10, 10)};
    for (const attempt& a : attempts) {
        const auto s = fresh(make, c);
        commit_inventory_base(*s, c);
        c.refused(commit_inventory(*s, c, a.cause), a.code, a.field, a.what);
        const std::string after = fmt::format("after {} failed", a.what);
        expect_level(c, *s, a_before, after);
        expect_level(c, *s, b_before, after);
        expect_stock(c, *s, "SKU-1", "WH-C", std::nullopt, after);
        expect_stock(c, *s, "SKU-9", "WH-1", std::nullopt, after);
        expect_equal(c, c.need(s->all_stock(), "all_stock").size(), std::size_t{2},
                     fmt::format("{}: stock rows", after));
        expect_movements(c, *s, "SKU-1", "WH-A", 0, 10'000, a_ledger,
                         fmt::format("{}: the ledger", after));
        expect_movements(c, *s, "SKU-1", "WH-B", 0, 10'000, {},
                         fmt::format("{}: the ledger", after));
        expect_movements(c, *s, "SKU-9", "WH-1", 0, 10'000, {},
                         fmt::format("{}: the ledger", after));
        expect_absent(c, *s, 7, after);
        expect_no_transfer(c, *s, 2, after);
        expect_stored(c, *s, plain_transfer(1, 1, transfer_state::in_transit, 4), after);
        expect_stored(c, *s, plain_transfer(3, 1, transfer_state::received), after);
        expect_no_transfer(c, *s, 4, after);
        expect_equal(c, in_state(*s, c, transfer_state::in_transit), std::vector<std::uint64_t>{1},
                     fmt::format("{}: transfers_in_state(in_transit)", after));
        expect_equal(c, in_state(*s, c, transfer_state::received), std::vector<std::uint64_t>{3},
                     fmt::format("{}: transfers_in_state(received)", after));

        c.succeeded(commit_inventory(*s, c, inventory_failure::none),
                    "the same transaction without the failing write");
        const std::string_view done = "after the same transaction without the failing write";
        expect_level(c, *s, row_level("SKU-1", "WH-A", 7, 0, 0, 0, true), done);
        expect_level(c, *s, row_level("SKU-1", "WH-B", 4, 0, 0, 0, false), done);
        expect_level(c, *s, row_level("SKU-1", "WH-C", 0, 0, 0, 3, false), done);
        expect_level(c, *s, row_level("SKU-9", "WH-1", 2, 0, 0, 0, false), done);
        expect_movements(c, *s, "SKU-1", "WH-A", 0, 10'000,
                         {a_ledger[0], movement(5000, stock_operation::dispatch, 3, 7)},
                         fmt::format("{}: the ledger", done));
        expect_movements(c, *s, "SKU-1", "WH-B", 0, 10'000,
                         {movement(5000, stock_operation::arrive, 4, 4)},
                         fmt::format("{}: the ledger", done));
        expect_stored(c, *s, plain_order(7), done);
        expect_equal(c, in_state(*s, c, transfer_state::in_transit), std::vector<std::uint64_t>{2},
                     fmt::format("{}: transfers_in_state(in_transit)", done));
        expect_equal(c, in_state(*s, c, transfer_state::received), std::vector<std::uint64_t>{1, 3},
                     fmt::format("{}: transfers_in_state(received)", done));
    }
}

inline void whole_transfer(const store_factory& make, const conformance_options& /*options*/,
                           conformance_checker& c) {
    const auto s = fresh(make, c);
    c.need(commit_changes(*s, c,
                          {at_time(change("SKU-1", "WH-A", stock_operation::receive, 10), 1000),
                           change("SKU-1", "WH-A", stock_operation::reserve, 2),
                           at_time(change("SKU-1", "WH-B", stock_operation::receive, 3), 1000),
                           at_time(change("SKU-2", "WH-A", stock_operation::receive, 6), 1000)}),
           "receiving stock in two warehouses");
    const std::int64_t network = units_in_network(*s, c, "SKU-1");
    expect_equal(c, network, std::int64_t{13}, "units of SKU-1 before the transfer");

    const stock_transfer dispatched = plain_transfer(77, 1, transfer_state::in_transit, 5);
    {
        writes w(begin(*s, c));
        w << w.tx().change_stock(
                 at_time(change("SKU-1", "WH-A", stock_operation::dispatch, 5, "units"), 2000))
          << w.tx().change_stock(
                 at_time(change("SKU-1", "WH-B", stock_operation::expect, 5, "units"), 2000))
          << w.tx().put_transfer(dispatched);
        c.need(w.commit(), "dispatching transfer 77");
    }
    expect_level(c, *s, row_level("SKU-1", "WH-A", 5, 2, 0, 0, false), "source after dispatch");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 3, 0, 0, 5, false), "target after dispatch");
    expect_equal(c, units_in_network(*s, c, "SKU-1"), network,
                 "on hand plus in transit over both warehouses after dispatch");
    expect_stored(c, *s, dispatched, "the dispatched transfer");
    {
        auto tx = begin(*s, c);
        expect_transfer(c, c.need(tx->find_transfer(transfer_id(77)), "find_transfer"), dispatched,
                        "find_transfer of the dispatched transfer");
    }
    expect_equal(c, in_state(*s, c, transfer_state::in_transit), std::vector<std::uint64_t>{77},
                 "transfers_in_state(in_transit) after dispatch");

    const stock_transfer received = plain_transfer(77, 2, transfer_state::received, 5);
    const auto receive = [&] {
        writes w(begin(*s, c));
        w << w.tx().change_stock(
                 at_time(change("SKU-1", "WH-B", stock_operation::arrive, 5, "units"), 3000))
          << w.tx().put_transfer(received);
        return w.commit();
    };
    c.need(receive(), "receiving transfer 77");
    expect_level(c, *s, row_level("SKU-1", "WH-A", 5, 2, 0, 0, false), "source after receipt");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 8, 0, 0, 0, false), "target after receipt");
    expect_equal(c, units_in_network(*s, c, "SKU-1"), network,
                 "on hand plus in transit over both warehouses after receipt");
    expect_level(c, *s, row_level("SKU-2", "WH-A", 6, 0, 0, 0, false), "another SKU's row");
    expect_stored(c, *s, received, "the received transfer");
    expect_equal(c, in_state(*s, c, transfer_state::in_transit), std::vector<std::uint64_t>{},
                 "transfers_in_state(in_transit) after receipt");
    expect_equal(c, in_state(*s, c, transfer_state::received), std::vector<std::uint64_t>{77},
                 "transfers_in_state(received) after receipt");

    // Receiving twice: the stale transfer version refuses it, and its arrival with it.
    c.need(commit_changes(*s, c, {change("SKU-1", "WH-B", stock_operation::expect, 5)}),
           "five more units in transit to WH-B");
    c.refused(receive(), errc::conflict, "transfer.version", "receiving transfer 77 twice");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 8, 0, 0, 5, false),
                 "after a refused second receipt");
    expect_movements(c, *s, "SKU-1", "WH-A", 0, 10'000,
                     {movement(1000, stock_operation::receive, 10, 10),
                      movement(2000, stock_operation::dispatch, 5, 5)},
                     "the source's ledger");
    expect_movements(c, *s, "SKU-1", "WH-B", 0, 10'000,
                     {movement(1000, stock_operation::receive, 3, 3),
                      movement(3000, stock_operation::arrive, 5, 8)},
                     "the target's ledger");
}

inline void stock_ledger(const store_factory& make, const conformance_options& /*options*/,
                         conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto one = [&](stock_operation operation, std::int64_t count, std::int64_t at,
                         here where = here::current()) {
        c.need(commit_changes(*s, c, {at_time(change("SKU-L", "WH-1", operation, count), at)}),
               fmt::format("{} {} at {} ms", operation_name(operation), count, at), where);
    };
    using op = stock_operation;
    one(op::receive, 10, 1000);
    one(op::reserve, 3, 1100);
    one(op::consume, 2, 1200);
    one(op::release, 1, 1250);
    one(op::set_safety, 1, 1300);
    one(op::dispatch, 3, 1400);
    one(op::expect, 4, 1450);
    one(op::arrive, 4, 1500);
    c.need(commit_changes(*s, c,
                          {at_time(change("SKU-L", "WH-1", op::mark_low, 0), 1600),
                           at_time(change("SKU-L", "WH-1", op::clear_low, 0), 1650)}),
           "mark_low and clear_low");
    one(op::receive, 1, 900);  // reported late: committed after entries with later times
    c.need(commit_changes(*s, c,
                          {at_time(change("SKU-L", "WH-1", op::receive, 2), 2000),
                           at_time(change("SKU-L", "WH-2", op::receive, 7), 2000),
                           at_time(change("SKU-L", "WH-1", op::dispatch, 1), 2000),
                           at_time(change("SKU-L", "WH-1", op::receive, 3), 2000)}),
           "three changes of one row at one time, in one transaction");
    c.refused(commit_changes(*s, c,
                             {at_time(change("SKU-L", "WH-1", op::receive, 5), 2500),
                              at_time(change("SKU-L", "WH-1", op::dispatch, 100, "x"), 2500)}),
              errc::insufficient_stock, "x", "a refused transaction");
    one(op::receive, 0, 2600);  // a receipt of nothing still changes on hand by 0
    c.need(commit_changes(*s, c, {at_time(change("SKU-M", "WH-1", op::receive, 4), 1000)}),
           "another SKU");

    const stock_movement r10 = movement(1000, op::receive, 10, 10);
    const stock_movement c2 = movement(1200, op::consume, 2, 8);
    const stock_movement d3 = movement(1400, op::dispatch, 3, 5);
    const stock_movement a4 = movement(1500, op::arrive, 4, 9);
    const stock_movement r1 = movement(900, op::receive, 1, 10);
    const stock_movement r2 = movement(2000, op::receive, 2, 12);
    const stock_movement d1 = movement(2000, op::dispatch, 1, 11);
    const stock_movement r3 = movement(2000, op::receive, 3, 14);
    const stock_movement r0 = movement(2600, op::receive, 0, 14);
    const auto lowest = from_unix_ms(std::numeric_limits<std::int64_t>::min());
    const auto highest = from_unix_ms(std::numeric_limits<std::int64_t>::max());
    expect_movements(c, *s, "SKU-L", "WH-1", lowest, highest, {r10, c2, d3, a4, r1, r2, d1, r3, r0},
                     "every on-hand change in commit order");
    expect_movements(c, *s, "SKU-L", "WH-1", 0, 10'000, {r10, c2, d3, a4, r1, r2, d1, r3, r0},
                     "every on-hand change in commit order");
    expect_movements(c, *s, "SKU-L", "WH-1", 1000, 1001, {r10}, "from is inclusive");
    expect_movements(c, *s, "SKU-L", "WH-1", 1200, 1500, {c2, d3}, "to is exclusive");
    expect_movements(c, *s, "SKU-L", "WH-1", 1001, 1200, {},
                     "a range holding only reservations and safety changes");
    expect_movements(c, *s, "SKU-L", "WH-1", 1500, 2000, {a4},
                     "a range holding the arrival and the flag changes");
    expect_movements(c, *s, "SKU-L", "WH-1", 900, 1000, {r1}, "a late entry found by its time");
    expect_movements(c, *s, "SKU-L", "WH-1", 900, 1201, {r10, c2, r1},
                     "entries of a range in commit order, not time order");
    expect_movements(c, *s, "SKU-L", "WH-1", 2000, 2001, {r2, d1, r3},
                     "entries with one time keep their commit order");
    expect_movements(c, *s, "SKU-L", "WH-1", 1000, 1000, {}, "an empty range");
    expect_movements(c, *s, "SKU-L", "WH-1", 2000, 1000, {}, "a range ending before it starts");
    expect_movements(c, *s, "SKU-L", "WH-1", 2001, 2600, {}, "the range of a refused transaction");
    expect_movements(c, *s, "SKU-L", "WH-2", 0, 10'000, {movement(2000, op::receive, 7, 7)},
                     "another warehouse's ledger");
    expect_movements(c, *s, "SKU-M", "WH-1", 0, 10'000, {movement(1000, op::receive, 4, 4)},
                     "another SKU's ledger");
    expect_movements(c, *s, "SKU-L", "WH-9", lowest, highest, {}, "a row that does not exist");
    expect_movements(c, *s, "SKU-X", "WH-1", lowest, highest, {}, "a SKU that does not exist");
    expect_level(c, *s, row_level("SKU-L", "WH-1", 14, 0, 1, 0, false),
                 "the row the ledger describes");
}

inline void transfer_versions(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    stock_transfer full =
        plain_transfer((std::uint64_t{1} << 63) - 1, 1, transfer_state::in_transit,
                       std::numeric_limits<std::int64_t>::max());
    full.sku = sku_id("SKU-%_");
    full.from = warehouse_id("倉庫-A");
    full.to = warehouse_id("WH-'B'");
    full.reason = tricky_text;
    full.dispatched_at = at_ms(-1);
    stock_transfer sparse = plain_transfer(1, 1, transfer_state::in_transit, 0);
    sparse.reason.clear();
    sparse.dispatched_at = at_ms(0);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_transfer(full), "put_transfer of a transfer with every field set");
        c.need(tx->put_transfer(sparse), "put_transfer of a transfer with empty fields");
        c.need(tx->commit(), "commit of two new transfers");
    }
    for (const stock_transfer* t : {&full, &sparse}) {
        expect_stored(c, *s, *t, "load_transfer after the insert");
        auto tx = begin(*s, c);
        expect_transfer(c, c.need(tx->find_transfer(t->id), "find_transfer"), *t,
                        "find_transfer after the insert");
    }
    expect_no_transfer(c, *s, 2, "a transfer never put");
    {
        auto tx = begin(*s, c);
        c.check(!c.need(tx->find_transfer(transfer_id(2)), "find_transfer").has_value(),
                "find_transfer of a transfer never put returned one");
    }
    c.check(commit_transfer(*s, c, plain_transfer(5, 0)).has_error(),
            "put_transfer of version 0 was accepted");
    expect_no_transfer(c, *s, 5, "after a refused version 0");

    c.refused(commit_transfer(*s, c, plain_transfer(1, 1, transfer_state::received)),
              errc::conflict, "transfer.id", "inserting version 1 of a transfer that exists");
    expect_stored(c, *s, sparse, "after a refused duplicate insert");
    stock_transfer second = full;
    second.version = 2;
    second.state = transfer_state::received;
    second.received_at = at_ms(1'795'000'000'123);
    second.reason = "received";
    c.succeeded(commit_transfer(*s, c, second), "version 2 over a stored version 1");
    expect_stored(c, *s, second, "after the replacement");
    c.refused(commit_transfer(*s, c, second), errc::conflict, "transfer.version",
              "a stale version 2 over a stored version 2");
    stock_transfer fourth = second;
    fourth.version = 4;
    c.refused(commit_transfer(*s, c, fourth), errc::conflict, "transfer.version",
              "version 4 over a stored version 2");
    expect_stored(c, *s, second, "after refused stale and future versions");
    c.refused(commit_transfer(*s, c, plain_transfer(9, 2)), errc::conflict, "transfer.version",
              "version 2 of a transfer that does not exist");
    expect_no_transfer(c, *s, 9, "after a refused replacement of a missing transfer");
    stock_transfer third = second;
    third.version = 3;
    third.received_at.reset();
    third.state = transfer_state::in_transit;
    c.succeeded(commit_transfer(*s, c, third), "version 3 over a stored version 2");
    expect_stored(c, *s, third, "after the second replacement (an optional unset again)");

    // Orders, shipments and transfers are separate records: equal ids never clash.
    writes w(begin(*s, c));
    w << w.tx().put_order(plain_order(1)) << w.tx().put_shipment(plain_shipment(1))
      << w.tx().put_transfer(plain_transfer(7));
    c.succeeded(w.commit(), "order 1 and shipment 1 beside transfer 1, and transfer 7");
    expect_stored(c, *s, sparse, "after an order and a shipment with its id were put");
    expect_stored(c, *s, plain_transfer(7), "a transfer put beside an order and a shipment");
}

inline void transfers_in_state_index(const store_factory& make,
                                     const conformance_options& /*options*/,
                                     conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<std::uint64_t> moving;
    std::vector<stock_transfer> transfers;
    for (std::uint64_t i = 1; i <= 60; ++i) {
        const bool odd = i % 2 == 1;
        transfers.push_back(
            plain_transfer(i * 89, 1, odd ? transfer_state::in_transit : transfer_state::received));
        if (odd) {
            moving.push_back(i * 89);
        }
    }
    for (const std::uint64_t id : {std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{100},
                                   (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1}) {
        transfers.push_back(plain_transfer(id));
        moving.push_back(id);
    }
    std::sort(moving.begin(), moving.end());
    for (std::size_t from = 0; from < transfers.size(); from += 20) {
        auto tx = begin(*s, c);
        for (std::size_t i = from; i < std::min(transfers.size(), from + 20); ++i) {
            c.need(tx->put_transfer(transfers[i]), "put_transfer");
        }
        c.need(tx->commit(), "commit of 20 transfers");
    }
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            moving.begin() + static_cast<std::ptrdiff_t>(std::min(from, moving.size())),
            moving.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, moving.size())));
    };
    const transfer_state t = transfer_state::in_transit;
    expect_equal(c, in_state(*s, c, t, 0, 1000), moving,
                 "transfers_in_state: every id in the state, ascending");
    expect_equal(c, in_state(*s, c, t, 0, 3), slice(0, 3), "transfers_in_state with limit 3");
    expect_equal(c, in_state(*s, c, t, moving[3], 2), slice(4, 2),
                 "transfers_in_state after an id in the list (exclusive)");
    expect_equal(c, in_state(*s, c, t, moving[3] + 1, 2), slice(4, 2),
                 "transfers_in_state after an id not in the list");
    const auto above_100 = static_cast<std::size_t>(
        std::upper_bound(moving.begin(), moving.end(), std::uint64_t{100}) - moving.begin());
    expect_equal(c, in_state(*s, c, t, 100, 3), slice(above_100, 3),
                 "transfers_in_state after 100 (numeric, not text, order)");
    expect_equal(c, in_state(*s, c, t, moving.back(), 10), std::vector<std::uint64_t>{},
                 "transfers_in_state after the largest id");
    expect_equal(c, in_state(*s, c, t, 0, 0), std::vector<std::uint64_t>{},
                 "transfers_in_state with limit 0");
    expect_equal(c, in_state(*s, c, transfer_state::received, 0, 1000).size(), std::size_t{30},
                 "transfers_in_state(received) count");
    std::vector<std::uint64_t> paged;
    for (std::uint64_t after = 0;;) {
        const auto page = in_state(*s, c, t, after, 4);
        if (page.empty() || paged.size() > moving.size()) {
            break;
        }
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
    }
    expect_equal(c, paged, moving, "transfers_in_state paged four at a time");

    put(*s, c, plain_transfer(moving[0], 2, transfer_state::received));
    put(*s, c, plain_transfer(moving.back(), 2, transfer_state::received));
    expect_equal(c, in_state(*s, c, t, 0, 1000), slice(1, moving.size() - 2),
                 "transfers_in_state drops transfers that were received");
    expect_equal(c, in_state(*s, c, transfer_state::received, 0, 1000).size(), std::size_t{32},
                 "transfers_in_state(received) takes them");
    expect_equal(c, in_state(*s, c, transfer_state::received, moving[0] - 1, 1),
                 std::vector<std::uint64_t>{moving[0]},
                 "transfers_in_state(received) lists a received transfer by its id");
}

inline void cancelled_transfers(const store_factory& make, const conformance_options& /*options*/,
                                conformance_checker& c) {
    const auto s = fresh(make, c);
    put(*s, c, plain_transfer(5));
    put(*s, c, plain_transfer(6));
    const stock_transfer called_back = plain_transfer(5, 2, transfer_state::cancelled);
    c.succeeded(commit_transfer(*s, c, called_back), "cancelling transfer 5 at version 2");
    expect_stored(c, *s, called_back, "a cancelled transfer keeps when and why");
    {
        auto tx = begin(*s, c);
        expect_transfer(c, c.need(tx->find_transfer(called_back.id), "find_transfer"), called_back,
                        "find_transfer of a cancelled transfer");
    }
    c.refused(commit_transfer(*s, c, plain_transfer(5, 2, transfer_state::received)),
              errc::conflict, "transfer.version", "receiving transfer 5 at a stale version 2");
    c.refused(commit_transfer(*s, c, plain_transfer(5, 1, transfer_state::cancelled)),
              errc::conflict, "transfer.id", "inserting version 1 of a cancelled transfer");
    expect_stored(c, *s, called_back, "after refused writes over a cancelled transfer");

    // Every new field at its extremes, set on insert and cleared again.
    stock_transfer odd = plain_transfer((std::uint64_t{1} << 63) - 1, 1, transfer_state::cancelled);
    odd.cancelled_at = at_ms(-1);
    odd.cancel_reason = tricky_text;
    put(*s, c, odd);
    expect_stored(c, *s, odd, "a cancelled transfer inserted at version 1");
    stock_transfer cleared = odd;
    cleared.version = 2;
    cleared.state = transfer_state::in_transit;
    cleared.cancelled_at.reset();
    cleared.cancel_reason.clear();
    put(*s, c, cleared);
    expect_stored(c, *s, cleared, "after the cancellation fields were cleared");
    put(*s, c, plain_transfer(7, 1, transfer_state::cancelled));
    expect_equal(c, in_state(*s, c, transfer_state::cancelled), std::vector<std::uint64_t>{5, 7},
                 "transfers_in_state(cancelled)");
    expect_equal(c, in_state(*s, c, transfer_state::in_transit),
                 std::vector<std::uint64_t>{6, (std::uint64_t{1} << 63) - 1},
                 "transfers_in_state(in_transit) after cancellations");
    expect_equal(c, in_state(*s, c, transfer_state::cancelled, 5, 10),
                 std::vector<std::uint64_t>{7}, "transfers_in_state(cancelled) after 5");
}

/// A transfer's units on their way to WH-B, with stock there: 10 on hand, 2
/// reserved, 1 safety, 5 in transit; the ledger holds the receipt.
inline void commit_recall_base(store& s, conformance_checker& c) {
    c.need(commit_changes(s, c,
                          {at_time(change("SKU-1", "WH-B", stock_operation::receive, 10), 1000),
                           change("SKU-1", "WH-B", stock_operation::reserve, 2),
                           change("SKU-1", "WH-B", stock_operation::set_safety, 1),
                           at_time(change("SKU-1", "WH-B", stock_operation::expect, 5), 1000)}),
           "receiving, reserving and expecting at WH-B");
}

inline void recall_in_transit(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    commit_recall_base(*s, c);
    const std::vector<stock_movement> ledger = {movement(1000, stock_operation::receive, 10, 10)};
    c.succeeded(
        commit_changes(*s, c, {at_time(change("SKU-1", "WH-B", stock_operation::recall, 3), 2000)}),
        "recall of part of what is in transit");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 10, 2, 1, 2, false),
                 "recall lowers in transit and nothing else");
    c.refused(
        commit_changes(*s, c, {change("SKU-1", "WH-B", stock_operation::recall, 3, "recall")}),
        errc::conflict, "recall", "recall of more than is in transit");
    c.refused(commit_changes(*s, c, {change("SKU-1", "WH-Z", stock_operation::recall, 1, "to")}),
              errc::conflict, "to", "recall at a warehouse without a row");
    c.refused(commit_changes(*s, c, {change("SKU-2", "WH-B", stock_operation::recall, 0, "to")}),
              errc::conflict, "to", "recall of 0 units of a SKU without a row");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 10, 2, 1, 2, false), "after refused recalls");
    expect_stock(c, *s, "SKU-1", "WH-Z", std::nullopt, "a refused recall creates no row");
    expect_stock(c, *s, "SKU-2", "WH-B", std::nullopt, "a refused recall creates no row");
    c.succeeded(commit_changes(*s, c,
                               {change("SKU-1", "WH-B", stock_operation::expect, 4),
                                change("SKU-1", "WH-B", stock_operation::recall, 6)}),
                "recall of units expected earlier in the same transaction");
    expect_level(c, *s, row_level("SKU-1", "WH-B", 10, 2, 1, 0, false),
                 "after everything in transit was called back");
    expect_movements(c, *s, "SKU-1", "WH-B", 0, 10'000, ledger,
                     "recall is no on-hand change: the ledger holds the receipt only");

    // A failed recall takes the whole transaction with it.
    const auto s2 = fresh(make, c);
    commit_recall_base(*s2, c);
    {
        writes w(begin(*s2, c));
        w << w.tx().put_order(plain_order(7))
          << w.tx().put_transfer(plain_transfer(3, 1, transfer_state::cancelled, 5))
          << w.tx().change_stock(
                 at_time(change("SKU-1", "WH-A", stock_operation::receive, 5), 3000))
          << w.tx().change_stock(change("SKU-1", "WH-B", stock_operation::recall, 5))
          << w.tx().change_stock(change("SKU-1", "WH-B", stock_operation::recall, 1, "again"));
        c.refused(w.commit(), errc::conflict, "again",
                  "a transaction whose last recall exceeds what is in transit");
    }
    const std::string_view after = "after a transaction with a refused recall";
    expect_level(c, *s2, row_level("SKU-1", "WH-B", 10, 2, 1, 5, false), after);
    expect_stock(c, *s2, "SKU-1", "WH-A", std::nullopt, after);
    expect_absent(c, *s2, 7, after);
    expect_no_transfer(c, *s2, 3, after);
    expect_movements(c, *s2, "SKU-1", "WH-A", 0, 10'000, {}, after);
    expect_movements(c, *s2, "SKU-1", "WH-B", 0, 10'000, ledger, after);
}

inline void sku_low_stock_threshold(const store_factory& make,
                                    const conformance_options& /*options*/,
                                    conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<sku> entries;
    for (const std::optional<std::int64_t> threshold :
         {std::optional<std::int64_t>(), std::optional<std::int64_t>(0),
          std::optional<std::int64_t>(5),
          std::optional<std::int64_t>(std::numeric_limits<std::int64_t>::max())}) {
        sku e = plain_sku(fmt::format("SKU-L{}", entries.size()), 1999);
        if (threshold) {
            e.low_stock_below = units(*threshold);
        }
        entries.push_back(std::move(e));
    }
    const auto expect_entry = [&](const sku& e, std::string_view what) {
        const auto loaded = find_catalogue(*s, c, e.id.value());
        auto tx = begin(*s, c);
        const auto found = c.need(tx->find_sku(e.id), "find_sku");
        for (const auto& [got, how] :
             {std::pair{loaded, "load_sku"}, std::pair{found, "find_sku"}}) {
            if (!got) {
                c.fail(fmt::format("{}: {} finds no {}", what, how, e.id));
            } else if (*got != e) {
                c.fail(fmt::format("{}: {} of {} differs: {}", what, how, e.id,
                                   sku_difference(e, *got)));
            }
        }
    };
    {
        auto tx = begin(*s, c);
        for (const sku& e : entries) {
            c.need(tx->put_sku(e), fmt::format("put_sku({})", e.id));
        }
        c.need(tx->commit(), "commit of four catalogue entries");
    }
    for (const sku& e : entries) {
        expect_entry(e, "after the insert");
    }
    entries[0].low_stock_below = units(3);  // set
    entries[1].low_stock_below.reset();     // cleared
    entries[2].low_stock_below = units(6);  // changed
    {
        auto tx = begin(*s, c);
        for (std::size_t i = 0; i < 3; ++i) {
            c.need(tx->put_sku(entries[i]), "put_sku replacing an entry");
        }
        c.need(tx->commit(), "commit of three replacements");
    }
    for (const sku& e : entries) {
        expect_entry(e, "after the replacements");
    }
}

// ---- scenarios: after-sales tickets and returned stock -----------------------------------

inline void ticket_round_trip(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    const ticket full = rich_ticket(601);
    c.require(full.returned && full.returned->tracking.state() == tracking_state::delivered &&
                  full.returned->tracking.entries().size() == 4,
              "the rich ticket's return parcel should hold four events and end delivered");
    const ticket sparse = plain_ticket(602);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_ticket(full), "put_ticket of a ticket with every field set");
        c.need(tx->put_ticket(sparse), "put_ticket of a ticket with no optional set");
        c.need(tx->commit(), "commit of two new tickets");
    }
    for (const ticket* t : {&full, &sparse}) {
        expect_stored(c, *s, *t, "load_ticket after the insert");
        auto tx = begin(*s, c);
        expect_ticket(c, c.need(tx->find_ticket(t->id), "find_ticket"), *t,
                      "find_ticket after the insert");
    }
    // Replacing keeps every field too, including ones that became empty or set.
    ticket next = full;
    next.version = 2;
    next.state = ticket_state::closed;
    next.escalated_from = ticket_state::submitted;
    next.evidence.clear();
    next.lines.pop_back();
    next.owner.clear();
    next.auto_approved = false;
    next.returned.reset();
    next.refund.reset();
    next.replacement.reset();
    next.timeline.push_back(ticket_step(1'797'000'000'000, ticket_event::closed,
                                        ticket_state::escalated, ticket_state::closed));
    next.escalations = 0;
    next.due_at.reset();
    next.updated_at = at_ms(1'797'000'000'000);
    ticket next_sparse = sparse;
    next_sparse.version = 2;
    next_sparse.type = ticket_type::repair;
    next_sparse.state = ticket_state::awaiting_return;
    next_sparse.return_to = warehouse_id("WH-9");
    next_sparse.returned = return_parcel{.carrier = carrier_id("yto"),  // sent, no scan yet
                                         .tracking_number = "YT1",
                                         .tracking = tracking_history(at_ms(7)),
                                         .sent_at = at_ms(8)};
    const currency jpy = currency::of<"JPY">();
    next_sparse.refund = refund_breakdown{.lines = {},
                                          .goods = money::zero(jpy),
                                          .shipping = money::zero(jpy),
                                          .total = money::zero(jpy)};
    next_sparse.replacement = shipment_id(1);
    next_sparse.repair_carrier = carrier_id("ems");
    next_sparse.due_at = at_ms(9);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_ticket(next), "put_ticket of version 2");
        c.need(tx->put_ticket(next_sparse), "put_ticket of version 2 with an empty parcel history");
        c.need(tx->commit(), "commit of two replacements");
    }
    expect_stored(c, *s, next, "load_ticket after the replacement");
    expect_stored(c, *s, next_sparse, "load_ticket after the replacement");
    expect_no_ticket(c, *s, 603, "a ticket never put");
    auto tx = begin(*s, c);
    c.check(!c.need(tx->find_ticket(ticket_id(603)), "find_ticket").has_value(),
            "find_ticket of a ticket never put returned one");
}

inline void ticket_versions(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const ticket first = plain_ticket(7);
    put(*s, c, first);
    c.check(commit_ticket(*s, c, plain_ticket(5, 0)).has_error(),
            "put_ticket of version 0 was accepted");
    expect_no_ticket(c, *s, 5, "after a refused version 0");
    c.refused(commit_ticket(*s, c, plain_ticket(7, 1, ticket_state::under_review)), errc::conflict,
              "ticket.id", "inserting version 1 of a ticket that exists");
    expect_stored(c, *s, first, "after a refused duplicate insert");

    const ticket second = plain_ticket(7, 2, ticket_state::under_review);
    c.succeeded(commit_ticket(*s, c, second), "version 2 over a stored version 1");
    expect_stored(c, *s, second, "after the replacement");
    c.refused(commit_ticket(*s, c, plain_ticket(7, 2, ticket_state::rejected)), errc::conflict,
              "ticket.version", "a stale version 2 over a stored version 2");
    c.refused(commit_ticket(*s, c, plain_ticket(7, 4, ticket_state::rejected)), errc::conflict,
              "ticket.version", "version 4 over a stored version 2");
    expect_stored(c, *s, second, "after refused stale and future versions");

    c.refused(commit_ticket(*s, c, plain_ticket(8, 2)), errc::conflict, "ticket.version",
              "version 2 of a ticket that does not exist");
    expect_no_ticket(c, *s, 8, "after a refused replacement of a missing ticket");
    expect_equal(c, in_state(*s, c, ticket_state::rejected), std::vector<std::uint64_t>{},
                 "tickets_in_state(rejected) after refused writes");
    expect_equal(c, in_state(*s, c, ticket_state::submitted), std::vector<std::uint64_t>{},
                 "tickets_in_state(submitted) after the only ticket left it");

    const ticket third = plain_ticket(7, 3, ticket_state::approved);
    c.succeeded(commit_ticket(*s, c, third), "version 3 over a stored version 2");
    expect_stored(c, *s, third, "after the second replacement");

    // Orders, shipments, transfers and tickets are separate records: equal ids never clash.
    writes w(begin(*s, c));
    w << w.tx().put_order(plain_order(7)) << w.tx().put_shipment(plain_shipment(7))
      << w.tx().put_transfer(plain_transfer(7)) << w.tx().put_ticket(plain_ticket(8));
    c.succeeded(w.commit(), "order, shipment and transfer 7 beside ticket 7, and ticket 8");
    expect_stored(c, *s, third, "after an order, a shipment and a transfer with its id were put");
    expect_stored(c, *s, plain_ticket(8), "a ticket put beside records with other ids");
    expect_stored(c, *s, plain_order(7), "an order put beside a ticket with its id");
    expect_stored(c, *s, plain_shipment(7), "a shipment put beside a ticket with its id");
}

inline void ticket_reads_see_committed_data(const store_factory& make,
                                            const conformance_options& /*options*/,
                                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const ticket first = rich_ticket(7);
    {
        // The reader's future is declared first so that it is destroyed last.
        std::future<std::optional<ticket>> seen;
        writes w(begin(*s, c));
        w << w.tx().put_ticket(first);
        seen = read_aside([&] { return load_ticket(*s, c, 7); });
        if (finished(seen, c, "reading while the ticket's transaction is open")) {
            c.check(!seen.get().has_value(), "another reader saw a ticket not yet committed");
        }
        c.need(w.commit(), "commit of the ticket");
    }
    expect_stored(c, *s, first, "load_ticket right after commit");
    {
        auto tx = begin(*s, c);
        expect_ticket(c, c.need(tx->find_ticket(first.id), "find_ticket"), first,
                      "find_ticket in a later transaction");
        c.check(!c.need(tx->find_ticket(ticket_id(8)), "find_ticket").has_value(),
                "find_ticket of an unknown ticket returned one");
    }
    ticket second = first;
    second.version = 2;
    second.state = ticket_state::closed;
    second.due_at.reset();
    {
        std::future<std::optional<ticket>> seen;
        writes w(begin(*s, c));
        w << w.tx().put_ticket(second);
        seen = read_aside([&] {
            auto tx = begin(*s, c);
            return c.need(tx->find_ticket(first.id), "find_ticket");
        });
        if (finished(seen, c, "reading while the replacement is open")) {
            const auto v = seen.get();
            c.check(v.has_value() && v->version == 1,
                    "another transaction's find_ticket saw a replacement not yet committed");
        }
        c.need(w.commit(), "commit of the replacement");
    }
    auto tx = begin(*s, c);
    expect_ticket(c, c.need(tx->find_ticket(first.id), "find_ticket"), second,
                  "find_ticket after the replacement committed");
    expect_stored(c, *s, second, "load_ticket after the replacement committed");
}

inline void tickets_in_state_index(const store_factory& make,
                                   const conformance_options& /*options*/, conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<std::uint64_t> review;
    std::vector<ticket> tickets;
    for (std::uint64_t i = 1; i <= 60; ++i) {
        const bool odd = i % 2 == 1;
        tickets.push_back(
            plain_ticket(i * 83, 1, odd ? ticket_state::under_review : ticket_state::submitted));
        if (odd) {
            review.push_back(i * 83);
        }
    }
    // Ids whose text order differs from their numeric order, and the largest ones.
    for (const std::uint64_t id : {std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{100},
                                   (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1}) {
        tickets.push_back(plain_ticket(id, 1, ticket_state::under_review));
        review.push_back(id);
    }
    std::sort(review.begin(), review.end());
    for (std::size_t from = 0; from < tickets.size(); from += 20) {
        auto tx = begin(*s, c);
        for (std::size_t i = from; i < std::min(tickets.size(), from + 20); ++i) {
            c.need(tx->put_ticket(tickets[i]), "put_ticket");
        }
        c.need(tx->commit(), "commit of 20 tickets");
    }
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            review.begin() + static_cast<std::ptrdiff_t>(std::min(from, review.size())),
            review.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, review.size())));
    };
    const ticket_state r = ticket_state::under_review;
    expect_equal(c, in_state(*s, c, r, 0, 1000), review,
                 "tickets_in_state: every id in the state, ascending");
    expect_equal(c, in_state(*s, c, r, 0, 3), slice(0, 3), "tickets_in_state with limit 3");
    expect_equal(c, in_state(*s, c, r, review[3], 2), slice(4, 2),
                 "tickets_in_state after an id in the list (exclusive)");
    expect_equal(c, in_state(*s, c, r, review[3] + 1, 2), slice(4, 2),
                 "tickets_in_state after an id not in the list");
    const auto above_100 = static_cast<std::size_t>(
        std::upper_bound(review.begin(), review.end(), std::uint64_t{100}) - review.begin());
    expect_equal(c, in_state(*s, c, r, 100, 3), slice(above_100, 3),
                 "tickets_in_state after 100 (numeric, not text, order)");
    expect_equal(c, in_state(*s, c, r, review.back(), 10), std::vector<std::uint64_t>{},
                 "tickets_in_state after the largest id");
    expect_equal(c, in_state(*s, c, r, 0, 0), std::vector<std::uint64_t>{},
                 "tickets_in_state with limit 0");
    expect_equal(c, in_state(*s, c, ticket_state::refunded), std::vector<std::uint64_t>{},
                 "tickets_in_state of a state no ticket is in");
    expect_equal(c, in_state(*s, c, ticket_state::submitted, 0, 1000).size(), std::size_t{30},
                 "tickets_in_state(submitted) count");

    // Paging through the whole state, three at a time, meets every id once.
    std::vector<std::uint64_t> paged;
    for (std::uint64_t after = 0;;) {
        const auto page = in_state(*s, c, r, after, 3);
        if (page.empty() || paged.size() > review.size()) {
            break;
        }
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
    }
    expect_equal(c, paged, review, "tickets_in_state paged three at a time");

    put(*s, c, plain_ticket(review[0], 2, ticket_state::awaiting_return, at_ms(50)));
    put(*s, c, plain_ticket(review.back(), 2, ticket_state::escalated));
    put(*s, c, plain_ticket(166, 2, ticket_state::withdrawn));  // was submitted
    expect_equal(c, in_state(*s, c, ticket_state::awaiting_return),
                 std::vector<std::uint64_t>{review[0]}, "tickets_in_state follows a state change");
    expect_equal(c, in_state(*s, c, ticket_state::escalated),
                 std::vector<std::uint64_t>{review.back()},
                 "tickets_in_state follows a state change");
    expect_equal(c, in_state(*s, c, r, 0, 1000), slice(1, review.size() - 2),
                 "tickets_in_state drops tickets that left the state");
    expect_equal(c, in_state(*s, c, ticket_state::withdrawn), std::vector<std::uint64_t>{166},
                 "tickets_in_state follows submitted to withdrawn");
    expect_equal(c, in_state(*s, c, ticket_state::submitted, 0, 1000).size(), std::size_t{29},
                 "tickets_in_state(submitted) count after one left");
    put(*s, c, plain_ticket(review[0], 3, r));
    expect_equal(c, in_state(*s, c, r, 0, 1000), slice(0, review.size() - 1),
                 "tickets_in_state takes a ticket back into a state it left");
    expect_equal(c, in_state(*s, c, ticket_state::awaiting_return), std::vector<std::uint64_t>{},
                 "tickets_in_state(awaiting_return) after the only one left it");
}

inline void due_tickets_index(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto review = ticket_state::under_review;
    put(*s, c, plain_ticket(1, 1, review, at_ms(3000)));
    put(*s, c, plain_ticket(2, 1, ticket_state::awaiting_return, at_ms(1000)));
    // Equal deadlines come by id, numerically (100 after 10 after 9).
    put(*s, c, plain_ticket(100, 1, review, at_ms(2000)));
    put(*s, c, plain_ticket(10, 1, ticket_state::escalated, at_ms(2000)));
    put(*s, c, plain_ticket(9, 1, review, at_ms(2000)));
    put(*s, c, plain_ticket(5, 1, review));                // no deadline
    put(*s, c, plain_ticket(6, 1, review, at_ms(-5000)));  // before the epoch
    const auto expect_due = [&](std::int64_t now, std::size_t limit,
                                const std::vector<std::uint64_t>& expected,
                                here where = here::current()) {
        expect_equal(c, due_tickets(*s, c, now, limit, where), expected,
                     fmt::format("due_tickets({} ms, limit {})", now, limit), where);
    };
    expect_due(-5001, 100, {});
    expect_due(999, 100, {6});
    expect_due(1000, 100, {6, 2});
    expect_due(2000, 100, {6, 2, 9, 10, 100});
    expect_due(9000, 100, {6, 2, 9, 10, 100, 1});
    expect_due(9000, 3, {6, 2, 9});
    expect_due(9000, 4, {6, 2, 9, 10});
    expect_due(9000, 0, {});

    put(*s, c, plain_ticket(2, 2, ticket_state::closed));                   // cleared
    put(*s, c, plain_ticket(1, 2, review, at_ms(500)));                     // earlier
    put(*s, c, plain_ticket(5, 2, review, at_ms(8000)));                    // set
    put(*s, c, plain_ticket(9, 2, review, at_ms(2500)));                    // later
    put(*s, c, plain_ticket(10, 2, ticket_state::escalated, at_ms(2000)));  // unchanged
    put(*s, c, plain_ticket(6, 2, review));                                 // cleared
    expect_due(9000, 100, {1, 10, 100, 9, 5});
    expect_due(600, 100, {1});
    expect_due(1000, 100, {1});
    expect_due(2000, 100, {1, 10, 100});
    put(*s, c, plain_ticket(1, 3, ticket_state::rejected));  // cleared again
    expect_due(9000, 100, {10, 100, 9, 5});
    expect_equal(c, in_state(*s, c, ticket_state::closed), std::vector<std::uint64_t>{2},
                 "a ticket whose deadline was cleared is still listed by state");
}

inline void returned_stock(const store_factory& make, const conformance_options& /*options*/,
                           conformance_checker& c) {
    const auto s = fresh(make, c);
    using op = stock_operation;
    const auto most = std::numeric_limits<std::int64_t>::max();
    c.succeeded(commit_changes(*s, c, {at_time(change("SKU-R", "WH-1", op::restock, 3), 1000)}),
                "restock on a missing row");
    expect_level(c, *s, row_level("SKU-R", "WH-1", 3, 0, 0, 0, false),
                 "restock creates the row with its units on hand");
    c.succeeded(
        commit_changes(*s, c, {at_time(change("SKU-D", "WH-1", op::to_damaged_bin, 4), 1100)}),
        "to_damaged_bin on a missing row");
    expect_level(c, *s, row_level("SKU-D", "WH-1", 0, 0, 0, 0, false, 4),
                 "to_damaged_bin creates the row with its units in the damaged bin only");
    c.refused(commit_changes(*s, c, {change("SKU-D", "WH-1", op::reserve, 1, "lines[0]")}),
              errc::insufficient_stock, "lines[0]", "reserving a unit that is only damaged");
    c.refused(commit_changes(*s, c, {change("SKU-D", "WH-1", op::dispatch, 1, "units")}),
              errc::insufficient_stock, "units", "dispatching a unit that is only damaged");

    c.succeeded(commit_changes(*s, c,
                               {at_time(change("SKU-R", "WH-1", op::receive, 10), 1200),
                                at_time(change("SKU-R", "WH-1", op::reserve, 4), 1200),
                                at_time(change("SKU-R", "WH-1", op::restock, 2), 1300),
                                at_time(change("SKU-R", "WH-1", op::to_damaged_bin, 5), 1300),
                                at_time(change("SKU-R", "WH-1", op::to_damaged_bin, 1), 1400)}),
                "receive, reserve, restock and two damaged-bin changes of one row");
    expect_level(c, *s, row_level("SKU-R", "WH-1", 15, 4, 0, 0, false, 6),
                 "restock adds to on hand and to_damaged_bin to the damaged bin");
    c.refused(commit_changes(*s, c, {change("SKU-R", "WH-1", op::reserve, 12, "lines[1]")}),
              errc::insufficient_stock, "lines[1]",
              "reserving more than on hand less reserved (damaged units are never available)");
    c.succeeded(commit_changes(*s, c, {change("SKU-R", "WH-1", op::reserve, 11)}),
                "reserving exactly what is available");
    c.succeeded(commit_changes(*s, c,
                               {at_time(change("SKU-R", "WH-1", op::release, 13), 1500),
                                at_time(change("SKU-R", "WH-1", op::consume, 2), 1500),
                                at_time(change("SKU-R", "WH-1", op::set_safety, 1), 1500),
                                at_time(change("SKU-R", "WH-1", op::mark_low, 0), 1500),
                                at_time(change("SKU-R", "WH-1", op::expect, 2), 1500)}),
                "other changes of a row with damaged units");
    expect_level(c, *s, row_level("SKU-R", "WH-1", 13, 0, 1, 2, true, 6),
                 "other changes leave the damaged bin alone");

    c.succeeded(commit_changes(*s, c, {change("SKU-BIG", "WH-1", op::receive, most)}),
                "receive of the largest quantity");
    c.refused(commit_changes(*s, c, {change("SKU-BIG", "WH-1", op::restock, 1, "units")}),
              errc::overflow, "units", "restock past the largest quantity");
    c.succeeded(commit_changes(*s, c, {change("SKU-BIG", "WH-1", op::to_damaged_bin, most)}),
                "the largest quantity into the damaged bin of a full row");
    c.refused(
        commit_changes(*s, c, {change("SKU-BIG", "WH-1", op::to_damaged_bin, 1, "inspection")}),
        errc::overflow, "inspection", "to_damaged_bin past the largest quantity");
    expect_level(c, *s, row_level("SKU-BIG", "WH-1", most, 0, 0, 0, false, most),
                 "after refused overflows");
    c.refused(commit_changes(*s, c,
                             {change("SKU-NEW", "WH-1", op::to_damaged_bin, 1),
                              change("SKU-NEW", "WH-1", op::to_damaged_bin, most, "second")}),
              errc::overflow, "second", "a second to_damaged_bin overflowing the first");
    c.refused(commit_changes(*s, c,
                             {change("SKU-NEW", "WH-2", op::restock, 2),
                              change("SKU-NONE", "WH-2", op::reserve, 1, "then")}),
              errc::insufficient_stock, "then", "a restock in a refused transaction");
    expect_stock(c, *s, "SKU-NEW", "WH-1", std::nullopt, "a refused to_damaged_bin creates no row");
    expect_stock(c, *s, "SKU-NEW", "WH-2", std::nullopt, "a refused restock creates no row");

    expect_movements(c, *s, "SKU-R", "WH-1", 0, 10'000,
                     {movement(1000, op::restock, 3, 3), movement(1200, op::receive, 10, 13),
                      movement(1300, op::restock, 2, 15), movement(1500, op::consume, 2, 13)},
                     "restock is in the on-hand ledger and to_damaged_bin is not");
    expect_movements(c, *s, "SKU-D", "WH-1", 0, 10'000, {},
                     "a row only the damaged bin changed has no ledger entry");
    expect_movements(c, *s, "SKU-NEW", "WH-2", 0, 10'000, {},
                     "a refused restock has no ledger entry");
}

inline void order_tickets_and_rating(const store_factory& make,
                                     const conformance_options& /*options*/,
                                     conformance_checker& c) {
    const auto s = fresh(make, c);
    // Kept in the order given, the largest id a signed 64-bit column holds included.
    order first = plain_order(21);
    first.tickets = {ticket_id(3), ticket_id(1), ticket_id((std::uint64_t{1} << 63) - 1)};
    first.rating = order_rating{.score = 5, .text = tricky_text, .at = at_ms(1'795'000'000'777)};
    put(*s, c, first);
    expect_stored(c, *s, first, "load_order of an order with tickets and a rating");
    {
        auto tx = begin(*s, c);
        expect_order(c, c.need(tx->find_order(first.id), "find_order"), first,
                     "find_order of an order with tickets and a rating");
    }
    order second = first;
    second.version = 2;
    second.tickets.push_back(ticket_id(2));
    second.rating = order_rating{.score = 1, .text = {}, .at = at_ms(0)};
    put(*s, c, second);
    expect_stored(c, *s, second, "after a ticket was added and the rating changed");
    order third = second;
    third.version = 3;
    third.tickets.clear();
    third.rating.reset();
    put(*s, c, third);
    expect_stored(c, *s, third, "after every ticket and the rating were removed");
    order rated = plain_order(23);
    rated.rating = order_rating{.score = 3, .text = "ok", .at = at_ms(-1)};
    order claimed = plain_order(24);
    claimed.tickets = {ticket_id(9)};
    {
        auto tx = begin(*s, c);
        c.need(tx->put_order(rated), "put_order of a rated order without tickets");
        c.need(tx->put_order(claimed), "put_order of an order with a ticket and no rating");
        c.need(tx->commit(), "commit of two orders");
    }
    expect_stored(c, *s, rated, "a rated order without tickets");
    expect_stored(c, *s, claimed, "an order with a ticket and no rating");
    const order none = plain_order(22);
    put(*s, c, none);
    const auto loaded = load(*s, c, 22);
    c.check(loaded.has_value() && loaded->tickets.empty() && !loaded->rating.has_value(),
            "an order put without tickets or a rating came back with some");
}

inline void shipment_ticket_round_trip(const store_factory& make,
                                       const conformance_options& /*options*/,
                                       conformance_checker& c) {
    const auto s = fresh(make, c);
    shipment first = plain_shipment(61);
    first.ticket = ticket_id((std::uint64_t{1} << 63) - 1);
    put(*s, c, first);
    expect_stored(c, *s, first, "load_shipment of a replacement shipment");
    {
        auto tx = begin(*s, c);
        expect_shipment(c, c.need(tx->find_shipment(first.id), "find_shipment"), first,
                        "find_shipment of a replacement shipment");
    }
    shipment second = first;
    second.version = 2;
    second.ticket = ticket_id(9);
    put(*s, c, second);
    expect_stored(c, *s, second, "after the shipment's ticket changed");
    shipment third = second;
    third.version = 3;
    third.ticket.reset();
    put(*s, c, third);
    expect_stored(c, *s, third, "after the shipment's ticket was cleared");
    put(*s, c, plain_shipment(62));
    const auto loaded = load_shipment(*s, c, 62);
    c.check(loaded.has_value() && !loaded->ticket.has_value(),
            "a shipment put without a ticket came back with one");
}

/// What makes the ticket transaction fail at commit.
enum class ticket_failure : std::uint8_t {
    none,
    stock,
    damaged_overflow,
    ticket_exists,
    ticket_version,
    order_exists,
    idempotency_key,
};

/// The idempotency record of opening ticket `id`, with the ticket's state.
inline idempotency_record ticket_record(std::string key, std::uint64_t order, std::uint64_t id,
                                        ticket_state state) {
    idempotency_record r = record(std::move(key), order);
    r.outcome.ticket = ticket_id(id);
    r.outcome.ticket_status = state;
    return r;
}

/// 5 units of SKU-1 in WH-1, SKU-BIG full in its damaged bin, tickets 50
/// (due at 4000 ms) and 52, orders 8 and 9, and one idempotency record.
inline void commit_ticket_base(store& s, conformance_checker& c) {
    writes w(begin(s, c));
    w << w.tx().change_stock(at_time(change("SKU-1", "WH-1", stock_operation::receive, 5), 1000))
      << w.tx().change_stock(change("SKU-BIG", "WH-1", stock_operation::to_damaged_bin,
                                    std::numeric_limits<std::int64_t>::max()))
      << w.tx().put_ticket(plain_ticket(50, 1, ticket_state::submitted, at_ms(4000)))
      << w.tx().put_ticket(plain_ticket(52)) << w.tx().put_order(plain_order(8))
      << w.tx().put_order(plain_order(9))
      << w.tx().put_idempotency(
             ticket_record("open_ticket/existing", 8, 52, ticket_state::submitted));
    c.need(w.commit(), "committing the starting state");
}

/// Order 8 at version 2, naming tickets 50 and 51.
inline order order_with_tickets() {
    order o = plain_order(8, 2);
    o.tickets = {ticket_id(50), ticket_id(51)};
    return o;
}

/// Ticket 51, opened and awaiting the return, due at 6000 ms.
inline ticket new_ticket() {
    ticket t = plain_ticket(51, 1, ticket_state::awaiting_return, at_ms(6000));
    t.type = ticket_type::return_and_refund;
    t.return_to = warehouse_id("WH-1");
    return t;
}

/// One transaction opening ticket 51, moving ticket 50 on, naming both on
/// order 8, putting returned units of SKU-1 back on hand and in the damaged
/// bin and restocking SKU-9, with its idempotency record; plus the cause of
/// its failure.
inline result<void> commit_ticket_work(store& s, conformance_checker& c, ticket_failure cause) {
    writes w(begin(s, c));
    store_transaction& tx = w.tx();
    const auto at = [](stock_change x) { return at_time(std::move(x), 5000); };
    w << tx.put_ticket(new_ticket())
      << tx.put_ticket(plain_ticket(50, 2, ticket_state::under_review))
      << tx.put_order(order_with_tickets())
      << tx.change_stock(at(change("SKU-1", "WH-1", stock_operation::restock, 2, "sellable")))
      << tx.change_stock(at(change("SKU-1", "WH-1", stock_operation::to_damaged_bin, 1, "damaged")))
      << tx.change_stock(at(change("SKU-9", "WH-1", stock_operation::restock, 3, "sellable")))
      << tx.put_idempotency(ticket_record("open_ticket/new", 8, 51, ticket_state::awaiting_return));
    switch (cause) {
        case ticket_failure::stock:
            w << tx.change_stock(change("SKU-1", "WH-1", stock_operation::reserve, 100, "cause"));
            break;
        case ticket_failure::damaged_overflow:
            w << tx.change_stock(
                change("SKU-BIG", "WH-1", stock_operation::to_damaged_bin, 1, "cause"));
            break;
        case ticket_failure::ticket_exists:
            w << tx.put_ticket(plain_ticket(52));
            break;
        case ticket_failure::ticket_version:
            w << tx.put_ticket(plain_ticket(53, 2));
            break;
        case ticket_failure::order_exists:
            w << tx.put_order(plain_order(9));
            break;
        case ticket_failure::idempotency_key:
            w << tx.put_idempotency(record("open_ticket/existing", 9));
            break;
        case ticket_failure::none:
            break;
    }
    return w.commit();
}

inline void failed_commit_writes_no_ticket(const store_factory& make,
                                           const conformance_options& /*options*/,
                                           conformance_checker& c) {
    struct attempt {
        ticket_failure cause;
        errc code;
        std::optional<std::string_view> field;
        std::string_view what;
    };
    const std::array<attempt, 6> attempts = {
        attempt{ticket_failure::stock, errc::insufficient_stock, "cause",
                "a ticket transaction whose last reservation exceeds the stock"},
        attempt{ticket_failure::damaged_overflow, errc::overflow, "cause",
                "a ticket transaction whose last damaged-bin change overflows"},
        attempt{ticket_failure::ticket_exists, errc::conflict, "ticket.id",
                "a ticket transaction inserting a ticket that exists"},
        attempt{ticket_failure::ticket_version, errc::conflict, "ticket.version",
                "a ticket transaction replacing a ticket that does not exist"},
        attempt{ticket_failure::order_exists, errc::conflict, std::nullopt,
                "a ticket transaction inserting an order that exists"},
        attempt{ticket_failure::idempotency_key, errc::conflict, "idempotency_key",
                "a ticket transaction storing an idempotency key that exists"}};
    const auto most = std::numeric_limits<std::int64_t>::max();
    const std::vector<stock_movement> base_ledger = {
        movement(1000, stock_operation::receive, 5, 5)};
    for (const attempt& a : attempts) {
        const auto s = fresh(make, c);
        commit_ticket_base(*s, c);
        c.refused(commit_ticket_work(*s, c, a.cause), a.code, a.field, a.what);
        const std::string after = fmt::format("after {} failed", a.what);
        expect_no_ticket(c, *s, 51, after);
        expect_stored(c, *s, plain_ticket(50, 1, ticket_state::submitted, at_ms(4000)), after);
        expect_stored(c, *s, plain_ticket(52), after);
        expect_no_ticket(c, *s, 53, after);
        expect_stored(c, *s, plain_order(8), after);
        expect_level(c, *s, row_level("SKU-1", "WH-1", 5, 0, 0, 0, false), after);
        expect_level(c, *s, row_level("SKU-BIG", "WH-1", 0, 0, 0, 0, false, most), after);
        expect_stock(c, *s, "SKU-9", "WH-1", std::nullopt, after);
        expect_movements(c, *s, "SKU-1", "WH-1", 0, 10'000, base_ledger,
                         fmt::format("{}: the ledger", after));
        expect_movements(c, *s, "SKU-9", "WH-1", 0, 10'000, {},
                         fmt::format("{}: the ledger", after));
        expect_equal(c, in_state(*s, c, ticket_state::submitted),
                     std::vector<std::uint64_t>{50, 52},
                     fmt::format("{}: tickets_in_state(submitted)", after));
        expect_equal(c, in_state(*s, c, ticket_state::awaiting_return),
                     std::vector<std::uint64_t>{},
                     fmt::format("{}: tickets_in_state(awaiting_return)", after));
        expect_equal(c, due_tickets(*s, c, 10'000), std::vector<std::uint64_t>{50},
                     fmt::format("{}: due_tickets", after));
        c.check(!find_record(*s, c, "open_ticket/new").has_value(),
                fmt::format("{}: the new idempotency record is visible", after));

        c.succeeded(commit_ticket_work(*s, c, ticket_failure::none),
                    "the same transaction without the failing write");
        const std::string_view done = "after the same transaction without the failing write";
        expect_stored(c, *s, new_ticket(), done);
        expect_stored(c, *s, plain_ticket(50, 2, ticket_state::under_review), done);
        expect_stored(c, *s, order_with_tickets(), done);
        expect_level(c, *s, row_level("SKU-1", "WH-1", 7, 0, 0, 0, false, 1), done);
        expect_level(c, *s, row_level("SKU-9", "WH-1", 3, 0, 0, 0, false), done);
        expect_movements(c, *s, "SKU-1", "WH-1", 0, 10'000,
                         {base_ledger[0], movement(5000, stock_operation::restock, 2, 7)},
                         fmt::format("{}: the ledger", done));
        expect_equal(c, in_state(*s, c, ticket_state::submitted), std::vector<std::uint64_t>{52},
                     fmt::format("{}: tickets_in_state(submitted)", done));
        expect_equal(c, in_state(*s, c, ticket_state::under_review), std::vector<std::uint64_t>{50},
                     fmt::format("{}: tickets_in_state(under_review)", done));
        expect_equal(c, due_tickets(*s, c, 10'000), std::vector<std::uint64_t>{51},
                     fmt::format("{}: due_tickets", done));
        c.check(find_record(*s, c, "open_ticket/new") ==
                    std::optional{
                        ticket_record("open_ticket/new", 8, 51, ticket_state::awaiting_return)},
                fmt::format("{}: the new idempotency record with its ticket", done));
    }
}

// ---- scenarios: the outbox ---------------------------------------------------------------

/// A notification with every field set, for order `order`.
inline notification rich_note(std::uint64_t order, std::size_t round, timestamp created_at) {
    // The newest kind among them, so a reader that bounds kinds by an older
    // list refuses its own entries.
    const std::array<notification_kind, 3> kinds = {notification_kind::shipped,
                                                    notification_kind::refund_issued,
                                                    all_notification_kinds.back()};
    const std::array<audience, 3> audiences = {audience::customer, audience::staff,
                                               audience::merchant};
    return notification{.id = 0,
                        .kind = kinds[round % 3],
                        .order = order_id(order),
                        .number = order_number::from_value(order * 1000 + round).value(),
                        .audience = audiences[round % 3],
                        .recipient = round % 3 == 1 ? "finance" : fmt::format("c-{}", order),
                        .text = fmt::format("第 {} 轮 round {}: {}", round, round, tricky_text),
                        .details = {{"tracking_number", fmt::format("SF{}", round)},
                                    {"amount", "12.50 CNY"},
                                    {"备注", "\"quoted\", 'single' \\ 100%"},
                                    {"empty", ""}},
                        .created_at = created_at,
                        .attempt = 0};
}

inline void outbox_ids_and_content(const store_factory& make,
                                   const conformance_options& /*options*/, conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<notification> enqueued;  // in enqueue order over all commits
    for (std::size_t round = 0; round < 3; ++round) {
        auto tx = begin(*s, c);
        for (const std::uint64_t order : {std::uint64_t{7}, std::uint64_t{8}}) {
            enqueued.push_back(rich_note(order, round * 2 + (order - 7),
                                         at_ms(1000 + static_cast<std::int64_t>(round))));
            c.need(tx->enqueue(enqueued.back()), "enqueue");
        }
        c.need(tx->commit(), "commit of two notifications");
    }
    std::map<std::uint64_t, std::uint64_t> id_of;  // enqueue position -> id
    std::vector<std::uint64_t> all_ids;
    for (const std::uint64_t order : {std::uint64_t{7}, std::uint64_t{8}}) {
        const auto entries = outbox(*s, c, order);
        c.check(entries.size() == 3, fmt::format("outbox_of({}) holds {} entries, 3 were enqueued",
                                                 order, entries.size()));
        std::size_t position = order - 7;
        for (const outbox_entry& e : entries) {
            const notification& got = e.notification;
            if (position < enqueued.size() && got != enqueued[position]) {
                notification expected = enqueued[position];
                expected.id = got.id;
                expected.attempt = got.attempt;
                if (got != expected) {
                    c.fail(fmt::format("outbox_of({}) entry {} differs from what was enqueued: {}",
                                       order, got.id, note_difference(expected, got)));
                }
            }
            c.check(!e.delivered && e.attempts == 0 && e.last_error.empty(),
                    fmt::format("a new outbox entry {} is delivered {}, attempts {}, error '{}'",
                                got.id, e.delivered, e.attempts, e.last_error));
            id_of[position] = got.id;
            all_ids.push_back(got.id);
            position += 2;
        }
    }
    std::vector<std::uint64_t> in_enqueue_order;
    in_enqueue_order.reserve(id_of.size());
    for (const auto& [position, id] : id_of) {
        in_enqueue_order.push_back(id);
    }
    const bool increasing = std::adjacent_find(in_enqueue_order.begin(), in_enqueue_order.end(),
                                               [](std::uint64_t a, std::uint64_t b) {
                                                   return a >= b;
                                               }) == in_enqueue_order.end();
    c.check(increasing && !in_enqueue_order.empty() && in_enqueue_order.front() != 0,
            fmt::format("notification ids in enqueue and commit order are {}: they must be "
                        "unique, non-zero and increasing",
                        ids_text(in_enqueue_order)));
    expect_equal(c, undelivered(*s, c), std::size_t{6}, "undelivered_count of six new entries");
    c.check(outbox(*s, c, 9).empty(), "outbox_of an order without notifications is not empty");
    std::sort(all_ids.begin(), all_ids.end());
    expect_equal(c, ids_of(claim(*s, c, 1002, 1000, 100)), all_ids,
                 "a claim at the newest created_at hands out every new entry, oldest first");
}

/// Five notifications for order 7 created at 1 s and one for order 8 created
/// at 50 s; returns their ids (order 7's, then order 8's).
inline std::vector<std::uint64_t> fill_outbox(store& s, conformance_checker& c) {
    auto tx = begin(s, c);
    for (int i = 0; i < 5; ++i) {
        c.need(tx->enqueue(note(7, fmt::format("n{}", i))), "enqueue");
    }
    c.need(tx->enqueue(note(8, "later", at_ms(50'000))), "enqueue");
    c.need(tx->commit(), "commit of six notifications");
    std::vector<std::uint64_t> ids = outbox_ids(s, c, 7);
    const auto of_8 = outbox_ids(s, c, 8);
    ids.insert(ids.end(), of_8.begin(), of_8.end());
    c.require(ids.size() == 6, "outbox_of does not list the six enqueued notifications");
    return ids;
}

/// Claims everything due at 10 s under a 1 s lease: ids[0..4].
inline void first_claims(store& s, conformance_checker& c, const std::vector<std::uint64_t>& ids) {
    const auto first = claim(s, c, 10'000, 1000, 2);
    expect_equal(c, ids_of(first), std::vector<std::uint64_t>{ids[0], ids[1]},
                 "the first claim (limit 2) hands out the two oldest");
    c.check(first.size() == 2 && first[0].attempt == 1 && first[0].text == "n0",
            "a first claim counts attempt 1 and keeps the text");
    expect_equal(c, ids_of(claim(s, c, 10'000, 1000, 10)),
                 std::vector<std::uint64_t>{ids[2], ids[3], ids[4]},
                 "a second claim hands out the rest that is due");
    expect_equal(c, ids_of(claim(s, c, 10'999, 1000, 10)), std::vector<std::uint64_t>{},
                 "a claim within the lease (and before the newest is due)");
    expect_equal(c, ids_of(claim(s, c, 10'000, 1000, 0)), std::vector<std::uint64_t>{},
                 "a claim with limit 0");
}

inline void claims_and_leases(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto ids = fill_outbox(*s, c);
    first_claims(*s, c, ids);
    const auto again = claim(*s, c, 11'000, 1000, 1);
    expect_equal(c, ids_of(again), std::vector<std::uint64_t>{ids[0]},
                 "an expired lease hands the oldest out again");
    c.check(again.size() == 1 && again[0].attempt == 2, "the second claim counts attempt 2");
    const auto entries = outbox(*s, c, 7);
    c.check(!entries.empty() && entries[0].attempts == 2 && !entries[0].delivered,
            "outbox_of counts two attempts of a notification claimed twice");
    expect_equal(c, ids_of(claim(*s, c, 11'999, 1000, 1)), std::vector<std::uint64_t>{ids[1]},
                 "the re-claimed one is leased again; the next oldest comes");
    expect_equal(c, ids_of(claim(*s, c, 60'000, 1000, 10)), ids,
                 "after every lease expired, all six come, oldest first");
    expect_equal(c, undelivered(*s, c), std::size_t{6}, "claims deliver nothing");
}

inline void mark_delivered_rules(const store_factory& make, const conformance_options& /*options*/,
                                 conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto ids = fill_outbox(*s, c);
    first_claims(*s, c, ids);
    c.succeeded(s->mark_delivered(ids[0]), "mark_delivered");
    c.succeeded(s->mark_delivered(ids[0]),
                "mark_delivered again (two dispatchers after an expired lease)");
    expect_equal(c, undelivered(*s, c), std::size_t{5}, "undelivered_count after a delivery");
    const auto entries = outbox(*s, c, 7);
    c.check(!entries.empty() && entries[0].delivered, "outbox_of shows the delivery");
    expect_equal(c, ids_of(claim(*s, c, 60'000, 1000, 10)),
                 std::vector<std::uint64_t>{ids[1], ids[2], ids[3], ids[4], ids[5]},
                 "a delivered notification is never handed out again");
    const std::uint64_t unknown = *std::max_element(ids.begin(), ids.end()) + 1000;
    c.refused(s->mark_delivered(unknown), errc::not_found, std::nullopt,
              "mark_delivered of an unknown id");
    c.refused(s->mark_delivered(0), errc::not_found, std::nullopt, "mark_delivered of id 0");
    c.refused(s->reschedule(unknown, at_ms(0), "x"), errc::not_found, std::nullopt,
              "reschedule of an unknown id");
    expect_equal(c, undelivered(*s, c), std::size_t{5}, "refusals change nothing");
}

inline void reschedule_rules(const store_factory& make, const conformance_options& /*options*/,
                             conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto ids = fill_outbox(*s, c);
    first_claims(*s, c, ids);
    c.succeeded(s->reschedule(ids[1], at_ms(30'000), "gateway down: 网关"), "reschedule");
    expect_equal(c, ids_of(claim(*s, c, 29'999, 1000, 10)),
                 std::vector<std::uint64_t>{ids[0], ids[2], ids[3], ids[4]},
                 "a rescheduled notification is not handed out before its time");
    const auto later = claim(*s, c, 30'000, 1000, 10);
    expect_equal(c, ids_of(later), std::vector<std::uint64_t>{ids[1]},
                 "a rescheduled notification is handed out at its time");
    c.check(later.size() == 1 && later[0].attempt == 2, "the retry counts attempt 2");
    const auto entries = outbox(*s, c, 7);
    c.check(entries.size() == 5 && entries[1].last_error == "gateway down: 网关" &&
                entries[1].attempts == 2,
            "outbox_of keeps the last error and counts the attempts of a retried notification");

    c.succeeded(s->mark_delivered(ids[2]), "mark_delivered");
    (void)s->reschedule(ids[2], at_ms(0), "a late failure report");  // may be refused
    const auto after = outbox(*s, c, 7);
    c.check(after.size() == 5 && after[2].delivered,
            "rescheduling a delivered notification made it undelivered");
    expect_equal(c, undelivered(*s, c), std::size_t{5},
                 "undelivered_count after rescheduling a delivered notification");
    const auto all = ids_of(claim(*s, c, 60'000, 1000, 10));
    c.check(std::find(all.begin(), all.end(), ids[2]) == all.end(),
            "a delivered notification came back after reschedule");
}

inline void delivered_backlog(const store_factory& make, const conformance_options& /*options*/,
                              conformance_checker& c) {
    constexpr std::size_t total = 400;
    constexpr std::size_t delivered = 390;
    const auto s = fresh(make, c);
    {
        auto tx = begin(*s, c);
        for (std::size_t i = 0; i < total; ++i) {
            c.need(tx->enqueue(note(7, fmt::format("n{}", i))), "enqueue");
        }
        c.need(tx->commit(), "commit of 400 notifications");
    }
    const auto ids = outbox_ids(*s, c, 7);
    c.require(ids.size() == total, "outbox_of does not list the 400 notifications");
    for (std::size_t i = 0; i < delivered; ++i) {
        c.need(s->mark_delivered(ids[i]), "mark_delivered");
    }
    expect_equal(c, undelivered(*s, c), total - delivered, "undelivered_count after the backlog");
    expect_equal(c, ids_of(claim(*s, c, 10'000, 1000, 3)),
                 std::vector<std::uint64_t>{ids[delivered], ids[delivered + 1], ids[delivered + 2]},
                 "a claim skips the delivered backlog");
}

// ---- scenarios: group commits ------------------------------------------------------------

inline std::unique_ptr<store_batch> begin_batch(store& s, conformance_checker& c,
                                                here where = here::current()) {
    auto batch = c.need(s.begin_batch(), "store::begin_batch", where);
    c.require(batch != nullptr, "store::begin_batch returned no batch", where);
    return batch;
}

/// The writes of transaction `n` of a batch: order n with a timeline entry, a
/// notification, an idempotency record and a reservation of `reserve` units.
inline result<void> commit_in_batch(store_batch& batch, conformance_checker& c, std::uint64_t n,
                                    std::int64_t reserve) {
    auto tx = c.need(batch.begin(), "store_batch::begin");
    c.require(tx != nullptr, "store_batch::begin returned no transaction");
    writes w(std::move(tx));
    w << w.tx().put_order(plain_order(n))
      << w.tx().append_timeline(order_id(n), entry(order_event::placed, "placed"))
      << w.tx().enqueue(note(n, "confirmed"))
      << w.tx().put_idempotency(record(fmt::format("batch/{}", n), n))
      << w.tx().change_stock(
             change("SKU-B", "WH-1", stock_operation::reserve, reserve, fmt::format("tx{}", n)));
    return w.commit();
}

/// How much of transaction `n` (see commit_in_batch) is visible: 0 parts or all 4.
inline int parts_visible(store& s, conformance_checker& c, std::uint64_t n) {
    return (load(s, c, n).has_value() ? 1 : 0) + (timeline_of(s, c, n).empty() ? 0 : 1) +
           (outbox(s, c, n).empty() ? 0 : 1) +
           (find_record(s, c, fmt::format("batch/{}", n)).has_value() ? 1 : 0);
}

/// What a reader outside the batch sees: for each transaction, how many of its
/// parts, and the reserved units of the row.
struct batch_view {
    std::vector<int> parts;
    std::int64_t reserved{0};
};

inline batch_view view_batch(store& s, conformance_checker& c,
                             std::initializer_list<std::uint64_t> transactions) {
    batch_view v;
    for (const std::uint64_t n : transactions) {
        v.parts.push_back(parts_visible(s, c, n));
    }
    const auto level = stock_of(s, c, "SKU-B", "WH-1");
    v.reserved = level ? level->reserved.units() : -1;
    return v;
}

inline void batch_transactions(const store_factory& make, const conformance_options& /*options*/,
                               conformance_checker& c) {
    const auto s = fresh(make, c);
    c.need(commit_changes(*s, c, {change("SKU-B", "WH-1", stock_operation::receive, 10)}),
           "receiving stock before the batch");
    std::future<batch_view> outside;  // destroyed after the batch: see read_aside
    auto batch = begin_batch(*s, c);
    c.succeeded(commit_in_batch(*batch, c, 1, 3), "the batch's first transaction");
    {
        auto tx = c.need(batch->begin(), "store_batch::begin");
        c.check(c.need(tx->find_order(order_id(1)), "find_order").has_value(),
                "a transaction in a batch does not see the order of an earlier one");
        const auto rows = c.need(tx->find_stock(sku_id("SKU-B")), "find_stock");
        c.check(rows.size() == 1 && rows[0].reserved.units() == 3,
                "a transaction in a batch does not see the reservation of an earlier one");
        c.check(c.need(tx->find_idempotency("batch/1"), "find_idempotency").has_value(),
                "a transaction in a batch does not see the idempotency key of an earlier one");
    }
    c.refused(commit_in_batch(*batch, c, 2, 8), errc::insufficient_stock, "tx2",
              "a transaction in a batch reserving more than is left");
    c.refused(commit_in_batch(*batch, c, 1, 1), errc::conflict, std::nullopt,
              "a transaction in a batch inserting an order an earlier one inserted");
    c.succeeded(commit_in_batch(*batch, c, 3, 7), "a transaction after failed ones");
    {
        auto dropped = c.need(batch->begin(), "store_batch::begin");
        (void)dropped->put_order(plain_order(4));
        (void)dropped->change_stock(change("SKU-B", "WH-1", stock_operation::release, 10));
    }  // never committed
    {
        auto tx = c.need(batch->begin(), "store_batch::begin");
        c.check(!c.need(tx->find_order(order_id(2)), "find_order").has_value(),
                "a failed transaction of the batch left its order behind");
        const auto rows = c.need(tx->find_stock(sku_id("SKU-B")), "find_stock");
        c.check(rows.size() == 1 && rows[0].reserved.units() == 10,
                "reads in the batch do not show exactly the committed reservations (3 + 7)");
    }
    outside = read_aside([&] { return view_batch(*s, c, {1, 2, 3, 4}); });
    if (finished(outside, c, "reading outside an open batch")) {
        const batch_view v = outside.get();
        const bool none = v.parts == std::vector<int>{0, 0, 0, 0} && v.reserved == 0;
        const bool so_far = v.parts == std::vector<int>{4, 0, 4, 0} && v.reserved == 10;
        c.check(none || so_far,
                fmt::format("outside the open batch, transactions show [{}] of their 4 parts "
                            "and {} reserved: neither nothing nor exactly what committed",
                            fmt::join(v.parts, ", "), v.reserved));
    }
    c.need(batch->commit(), "store_batch::commit");
    const batch_view v = view_batch(*s, c, {1, 2, 3, 4});
    c.check(v.parts == std::vector<int>{4, 0, 4, 0} && v.reserved == 10,
            fmt::format("after the batch committed, transactions show [{}] of their 4 parts and "
                        "{} reserved; expected [4, 0, 4, 0] and 10",
                        fmt::join(v.parts, ", "), v.reserved));
    c.succeeded(commit_changes(*s, c, {change("SKU-B", "WH-1", stock_operation::release, 1)}),
                "a transaction after the batch");
    expect_stock(c, *s, "SKU-B", "WH-1", stock_counts{10, 9, 0}, "after the batch");
}

inline void dropped_batch(const store_factory& make, const conformance_options& /*options*/,
                          conformance_checker& c) {
    const auto s = fresh(make, c);
    c.need(commit_changes(*s, c, {change("SKU-B", "WH-1", stock_operation::receive, 10)}),
           "receiving stock before the batch");
    {
        auto batch = begin_batch(*s, c);
        c.succeeded(commit_in_batch(*batch, c, 1, 3), "the batch's first transaction");
        c.succeeded(commit_in_batch(*batch, c, 2, 2), "the batch's second transaction");
        auto open = c.need(batch->begin(), "store_batch::begin");
        (void)open->put_order(plain_order(3));
        open.reset();
    }  // destroyed without commit
    const batch_view v = view_batch(*s, c, {1, 2, 3});
    const bool undone = v.parts == std::vector<int>{0, 0, 0} && v.reserved == 0;
    const bool kept = v.parts == std::vector<int>{4, 4, 0} && v.reserved == 5;
    c.check(undone || kept,
            fmt::format("after a batch was dropped, its transactions show [{}] of their 4 parts "
                        "and {} reserved: expected all of them ([4, 4, 0], 5) or none ([0, 0, 0], "
                        "0)",
                        fmt::join(v.parts, ", "), v.reserved));
    c.note(undone ? "a dropped batch undoes its transactions"
                  : "a dropped batch keeps its committed transactions (pass-through)");
    c.succeeded(commit_changes(*s, c, {change("SKU-B", "WH-1", stock_operation::receive, 1)}),
                "a transaction after a dropped batch (nothing may stay locked)");
    auto again = begin_batch(*s, c);
    c.succeeded(commit_in_batch(*again, c, 5, 1), "a transaction in a second batch");
    c.succeeded(again->commit(), "committing a second batch");
    expect_equal(c, parts_visible(*s, c, 5), 4, "the second batch's transaction");
}

// ---- scenarios: threads ------------------------------------------------------------------

/// True for the refusals a store may give a writer that lost a race and may
/// retry: errc::conflict, and errc::busy from a store with a bounded wait.
inline bool retryable(const error& e) {
    return e.code == errc::conflict || e.code == errc::busy;
}

/// Runs `body(t)` on `count` threads and joins them.
template <class Body>
void on_threads(std::size_t count, Body body) {
    std::vector<std::thread> pool;
    pool.reserve(count);
    for (std::size_t t = 0; t < count; ++t) {
        pool.emplace_back([&body, t] { body(t); });
    }
    for (std::thread& thread : pool) {
        thread.join();
    }
}

inline void hot_stock_row(const store_factory& make, const conformance_options& options,
                          conformance_checker& c) {
    constexpr std::int64_t on_hand = 1000;
    constexpr int max_attempts = 20'000;  // per thread: a store that never decides fails, not hangs
    const std::size_t threads = thread_count(options);
    for (std::uint64_t round = 0; round < 2; ++round) {
        const auto s = fresh(make, c);
        c.need(commit_changes(*s, c, {change("HOT", "WH-1", stock_operation::receive, on_hand)}),
               "receiving the hot row's stock");
        std::atomic<std::int64_t> granted{0};
        std::atomic<std::int64_t> refusals{0};
        on_threads(threads, [&](std::size_t t) {
            prng random(options.seed + round * 100 + t);
            int refused_in_row = 0;
            for (int attempt = 0; attempt < max_attempts && refused_in_row < 3; ++attempt) {
                const std::int64_t n = random.between(1, 3);
                auto tx = s->begin();
                if (!c.succeeded(tx, "store::begin on a worker thread")) {
                    return;
                }
                writes w(std::move(*tx));
                w << w.tx().change_stock(change("HOT", "WH-1", stock_operation::reserve, n, "hot"));
                const auto committed = w.commit();
                if (committed.has_value()) {
                    granted += n;
                    refused_in_row = 0;
                } else if (committed.error().code == errc::insufficient_stock &&
                           committed.error().field == "hot") {
                    ++refusals;
                    ++refused_in_row;  // 3 in a row: at most 2 units can be left
                } else if (!retryable(committed.error())) {
                    c.fail(
                        fmt::format("a reservation on a hot row was refused with {}, "
                                    "expected insufficient_stock on field 'hot' (or conflict)",
                                    to_string(committed.error())));
                    return;
                }
            }
        });
        const auto level = stock_of(*s, c, "HOT", "WH-1");
        c.require(level.has_value(), "the hot row disappeared");
        c.check(level->on_hand.units() == on_hand, "reservations changed on hand");
        c.check(level->reserved.units() == granted.load(),
                fmt::format("reserved is {}, the successful reservations sum to {}",
                            level->reserved.units(), granted.load()));
        c.check(level->available() >= 0 && level->available() <= 2,
                fmt::format("{} units are available after every thread was refused 3 times "
                            "(oversold when negative, refused too early when above 2)",
                            level->available()));
        c.check(refusals.load() > 0, "no reservation was ever refused: the row never ran out");
    }
}

inline void same_version_writers(const store_factory& make, const conformance_options& options,
                                 conformance_checker& c) {
    const std::size_t threads = thread_count(options);
    const auto s = fresh(make, c);
    put(*s, c, plain_order(7));
    for (std::uint64_t version = 2; version <= 16; ++version) {
        std::atomic<std::size_t> won{0};
        std::atomic<std::size_t> lost{0};
        std::atomic<std::size_t> ready{0};
        std::mutex winner_mutex;
        std::string winner;
        on_threads(threads, [&](std::size_t t) {
            order next = plain_order(7, version);
            next.tracking_number = fmt::format("writer {}", t);
            bool first_try = true;
            for (int attempt = 0; attempt < 1000; ++attempt) {
                auto tx = s->begin();
                if (!c.succeeded(tx, "store::begin on a worker thread")) {
                    ready += first_try ? 1U : 0U;  // never leave the others waiting
                    return;
                }
                writes w(std::move(*tx));
                w << w.tx().put_order(next);
                if (first_try) {  // every writer holds its write before any commits
                    first_try = false;
                    ++ready;
                    while (ready.load() < threads) {
                        std::this_thread::yield();
                    }
                }
                const auto committed = w.commit();
                if (committed.has_value()) {
                    ++won;
                    const std::lock_guard lock(winner_mutex);
                    winner = next.tracking_number;
                    return;
                }
                if (!retryable(committed.error())) {
                    c.fail(
                        fmt::format("a writer of a stale version was refused with {}, "
                                    "expected conflict",
                                    to_string(committed.error())));
                    return;
                }
                // A conflict is a loss only if another writer's version is stored by now;
                // otherwise the store refused under contention, and the writer tries again.
                const auto stored = s->load_order(order_id(7));
                if (stored.has_value() && stored->has_value() && (*stored)->version >= version) {
                    ++lost;
                    return;
                }
            }
            c.fail("a writer kept getting conflicts while no other version was stored");
        });
        c.check(won.load() == 1 && lost.load() == threads - 1,
                fmt::format("{} writers of version {}: {} won, {} lost; exactly one must win",
                            threads, version, won.load(), lost.load()));
        const auto stored = load(*s, c, 7);
        c.require(stored.has_value(), "the contested order disappeared");
        c.check(stored->version == version && stored->tracking_number == winner,
                fmt::format("the stored order is version {} by '{}'; version {} by '{}' won",
                            stored->version, stored->tracking_number, version, winner));
        if (!c.passed()) {
            return;
        }
    }
}

inline void same_version_shipment_writers(const store_factory& make,
                                          const conformance_options& options,
                                          conformance_checker& c) {
    const std::size_t threads = thread_count(options);
    const auto s = fresh(make, c);
    put(*s, c, plain_shipment(7));
    for (std::uint64_t version = 2; version <= 10; ++version) {
        std::atomic<std::size_t> won{0};
        std::atomic<std::size_t> lost{0};
        std::atomic<std::size_t> ready{0};
        std::mutex winner_mutex;
        std::string winner;
        on_threads(threads, [&](std::size_t t) {
            shipment next = plain_shipment(7, version, shipment_state::shipped, at_ms(1000));
            next.tracking_number = fmt::format("writer {}", t);
            bool first_try = true;
            for (int attempt = 0; attempt < 1000; ++attempt) {
                auto tx = s->begin();
                if (!c.succeeded(tx, "store::begin on a worker thread")) {
                    ready += first_try ? 1U : 0U;  // never leave the others waiting
                    return;
                }
                writes w(std::move(*tx));
                w << w.tx().put_shipment(next);
                if (first_try) {  // every writer holds its write before any commits
                    first_try = false;
                    ++ready;
                    while (ready.load() < threads) {
                        std::this_thread::yield();
                    }
                }
                const auto committed = w.commit();
                if (committed.has_value()) {
                    ++won;
                    const std::lock_guard lock(winner_mutex);
                    winner = next.tracking_number;
                    return;
                }
                if (!retryable(committed.error())) {
                    c.fail(
                        fmt::format("a writer of a stale shipment version was refused with {}, "
                                    "expected conflict",
                                    to_string(committed.error())));
                    return;
                }
                if (committed.error().code == errc::conflict &&
                    committed.error().field != "shipment.version") {
                    c.fail(
                        fmt::format("a stale shipment version was refused with {}, expected "
                                    "conflict on field 'shipment.version'",
                                    to_string(committed.error())));
                    return;
                }
                // As with orders: a conflict is a loss once another writer's version is stored.
                const auto stored = s->load_shipment(shipment_id(7));
                if (stored.has_value() && stored->has_value() && (*stored)->version >= version) {
                    ++lost;
                    return;
                }
            }
            c.fail("a shipment writer kept getting conflicts while no other version was stored");
        });
        c.check(won.load() == 1 && lost.load() == threads - 1,
                fmt::format("{} writers of shipment version {}: {} won, {} lost; exactly one must "
                            "win",
                            threads, version, won.load(), lost.load()));
        const auto stored = load_shipment(*s, c, 7);
        c.require(stored.has_value(), "the contested shipment disappeared");
        c.check(stored->version == version && stored->tracking_number == winner,
                fmt::format("the stored shipment is version {} by '{}'; version {} by '{}' won",
                            stored->version, stored->tracking_number, version, winner));
        expect_equal(c, in_state(*s, c, shipment_state::shipped), std::vector<std::uint64_t>{7},
                     "shipments_in_state(shipped) after the race");
        if (!c.passed()) {
            return;
        }
    }
}

inline void low_stock_flag_race(const store_factory& make, const conformance_options& options,
                                conformance_checker& c) {
    const std::size_t threads = thread_count(options);
    const auto s = fresh(make, c);
    c.need(commit_changes(*s, c, {change("LOW", "WH-1", stock_operation::receive, 3)}),
           "receiving the row's stock");
    for (std::size_t round = 0; round < 8; ++round) {
        const bool marking = round % 2 == 0;
        const stock_operation operation =
            marking ? stock_operation::mark_low : stock_operation::clear_low;
        std::atomic<std::size_t> won{0};
        std::atomic<std::size_t> lost{0};
        std::atomic<std::size_t> ready{0};
        on_threads(threads, [&](std::size_t /*t*/) {
            bool first_try = true;
            for (int attempt = 0; attempt < 1000; ++attempt) {
                auto tx = s->begin();
                if (!c.succeeded(tx, "store::begin on a worker thread")) {
                    ready += first_try ? 1U : 0U;  // never leave the others waiting
                    return;
                }
                writes w(std::move(*tx));
                w << w.tx().change_stock(change("LOW", "WH-1", operation, 0, "low"));
                if (first_try) {  // every scanner holds its change before any commits
                    first_try = false;
                    ++ready;
                    while (ready.load() < threads) {
                        std::this_thread::yield();
                    }
                }
                const auto committed = w.commit();
                if (committed.has_value()) {
                    ++won;
                    return;
                }
                if (committed.error().code == errc::busy) {
                    continue;
                }
                if (committed.error().code != errc::conflict || committed.error().field != "low") {
                    c.fail(
                        fmt::format("a {} that lost the race was refused with {}, expected "
                                    "conflict on field 'low'",
                                    operation_name(operation), to_string(committed.error())));
                    return;
                }
                ++lost;
                return;
            }
            c.fail("a scanner kept getting busy");
        });
        c.check(won.load() == 1 && lost.load() == threads - 1,
                fmt::format("{} threads racing to {}: {} won, {} lost; exactly one must win",
                            threads, operation_name(operation), won.load(), lost.load()));
        expect_level(c, *s, row_level("LOW", "WH-1", 3, 0, 0, 0, marking),
                     fmt::format("after the {} race", operation_name(operation)));
        if (!c.passed()) {
            return;
        }
    }
}

inline void concurrent_claims(const store_factory& make, const conformance_options& options,
                              conformance_checker& c) {
    constexpr std::size_t notes = 600;
    const std::size_t threads = thread_count(options);
    const auto s = fresh(make, c);
    {
        auto tx = begin(*s, c);
        for (std::size_t i = 0; i < notes; ++i) {
            c.need(tx->enqueue(note(i % 17 + 1, "n")), "enqueue");
        }
        c.need(tx->commit(), "commit of 600 notifications");
    }
    std::mutex seen_mutex;
    std::vector<std::uint64_t> seen;
    std::atomic<std::size_t> marked{0};
    on_threads(threads, [&](std::size_t t) {
        prng random(options.seed + t);
        // Bounded, so a store that hands out the same ones again fails the
        // scenario instead of hanging it.
        for (std::size_t call = 0; call < notes; ++call) {
            // A lease far longer than the run: nothing may be handed out twice.
            auto claimed =
                s->claim_notifications(at_ms(10'000), std::chrono::hours(1), 1 + random.below(7));
            if (!c.succeeded(claimed, "claim_notifications on a worker thread") ||
                claimed->empty()) {
                return;
            }
            for (const notification& n : *claimed) {
                if (n.id % 2 == 0 && c.succeeded(s->mark_delivered(n.id), "mark_delivered")) {
                    ++marked;
                }
            }
            const std::lock_guard lock(seen_mutex);
            for (const notification& n : *claimed) {
                seen.push_back(n.id);
            }
        }
    });
    std::sort(seen.begin(), seen.end());
    const auto twice = std::adjacent_find(seen.begin(), seen.end());
    c.check(twice == seen.end(),
            fmt::format("notification {} was handed to two callers within one lease",
                        twice == seen.end() ? 0 : *twice));
    expect_equal(c, seen.size(), notes, "notifications claimed by all threads together");
    expect_equal(c, undelivered(*s, c), notes - marked.load(),
                 "undelivered_count after concurrent deliveries");
    expect_equal(c, ids_of(claim(*s, c, 20'000, 1000, 10)), std::vector<std::uint64_t>{},
                 "a claim while every notification is leased or delivered");
}

inline void parallel_commits(const store_factory& make, const conformance_options& options,
                             conformance_checker& c) {
    // Transactions reserve on several rows in random order (so a store that
    // locks rows must order its locks) while inserting orders and
    // notifications; afterwards every committed reservation is in the rows.
    constexpr std::size_t per_thread = 150;
    const std::size_t threads = thread_count(options);
    const std::array<std::string_view, 4> skus = {"A", "B", "C", "D"};
    const auto s = fresh(make, c);
    std::vector<stock_change> receipts;
    receipts.reserve(skus.size());
    for (const std::string_view sku : skus) {
        receipts.push_back(change(sku, "WH-1", stock_operation::receive,
                                  static_cast<std::int64_t>(threads * per_thread / 3)));
    }
    c.need(commit_changes(*s, c, receipts), "receiving stock into four rows");
    std::atomic<std::int64_t> granted{0};
    std::atomic<std::size_t> placed{0};
    std::atomic<std::size_t> refused{0};
    on_threads(threads, [&](std::size_t t) {
        prng random(options.seed + t);
        for (std::size_t i = 0; i < per_thread; ++i) {
            std::vector<std::string_view> picked(skus.begin(), skus.end());
            for (std::size_t k = picked.size(); k > 1; --k) {
                std::swap(picked[k - 1], picked[random.below(k)]);
            }
            picked.resize(1 + random.below(3));
            auto tx = s->begin();
            if (!c.succeeded(tx, "store::begin on a worker thread")) {
                return;
            }
            const std::uint64_t id = t * per_thread + i + 1;
            writes w(std::move(*tx));
            w << w.tx().put_order(plain_order(id)) << w.tx().enqueue(note(id, "placed"));
            for (const std::string_view sku : picked) {
                w << w.tx().change_stock(change(sku, "WH-1", stock_operation::reserve, 1));
            }
            const auto committed = w.commit();
            if (committed.has_value()) {
                granted += static_cast<std::int64_t>(picked.size());
                ++placed;
            } else if (committed.error().code == errc::insufficient_stock) {
                ++refused;
            } else if (!retryable(committed.error())) {
                c.fail(fmt::format("a transaction on fresh ids was refused with {}",
                                   to_string(committed.error())));
            }
        }
    });
    std::int64_t reserved = 0;
    for (const stock_level& level : c.need(s->all_stock(), "all_stock")) {
        reserved += level.reserved.units();
        c.check(level.available() >= 0, fmt::format("row {} is oversold", level.sku));
    }
    c.check(reserved == granted.load(),
            fmt::format("the rows hold {} reserved units, the committed transactions {}", reserved,
                        granted.load()));
    c.check(refused.load() > 0, "no transaction ran out of stock: the scenario tested nothing");
    expect_equal(c, in_state(*s, c, order_state::pending_review).size(), placed.load(),
                 "orders of the committed transactions");
    expect_equal(c, undelivered(*s, c), placed.load(),
                 "notifications of the committed transactions");
}

// ---- the engine over the store under test -------------------------------------------------

inline timestamp engine_start_time() {
    return std::chrono::time_point_cast<duration>(
        std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + std::chrono::hours(9));
}

inline address home_address() {
    return address{.recipient = "Alice Zhang",
                   .phone = "13812345678",
                   .country = "CN",
                   .province = "Zhejiang",
                   .city = "Hangzhou",
                   .district = "Xihu",
                   .street = "1 Wensan Road",
                   .postcode = "310000"};
}

/// An engine over a fresh store from the factory, with a manual clock, a
/// recording notifier and the default access policy.
struct engine_rig {
    engine_rig(const store_factory& make, conformance_checker& c, settings options = {})
        : checker(c), owner(fresh(make, c)), store(*owner), clock(engine_start_time()) {
        engine = c.need(orderly::engine::create(engine_ports{store, notifier, clock, policy},
                                                std::move(options)),
                        "engine::create");
    }

    /// A command context with a fresh idempotency key.
    command_context as(const actor& who) { return command_context{who, next_key()}; }
    std::string next_key() { return fmt::format("k{}", ++keys); }

    /// Puts a SKU in the catalogue and receives `count` units of it.
    void stock_up(const std::string& code, std::string_view price, std::int64_t count,
                  const std::string& warehouse, bool restricted) {
        const actor admin{"root", role::admin};
        const actor keeper{"wh-1", role::warehouse};
        checker.need(
            engine->put_sku(as(admin), sku{.id = sku_id(code),
                                           .merchant = merchant_id("m-1"),
                                           .name = "Tea",
                                           .category = "food",
                                           .price = money::parse(price, currencies::CNY).value(),
                                           .weight_g = 250,
                                           .volume_cm3 = 400,
                                           .traits = sku_traits{.restricted = restricted},
                                           .status = sku_status::on_sale}),
            fmt::format("engine::put_sku({})", code));
        checker.need(
            engine->receive_stock(
                as(keeper), stock_receipt{sku_id(code), warehouse_id(warehouse), units(count)}),
            fmt::format("engine::receive_stock({})", code));
    }

    conformance_checker& checker;
    std::unique_ptr<orderly::store> owner;
    orderly::store& store;
    recording_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    std::size_t keys{0};
};

/// The engine's random scenario: moved here from tests/unit/engine_scenario_test.cpp
/// so that every store runs it.
namespace engine_model {

// A seeded, randomized scenario of the whole engine: a few thousand random
// commands over about fifty orders (placing, review, gateway callbacks that
// repeat, come twice or come late, refunds, cancel, hold and release,
// fulfilment, clock jumps with due work, notification delivery through a
// notifier that sometimes fails), by actors of every role, unauthorized ones
// included. After every step the store is read back through the public API
// (the step's order, stock and outbox every step; every order every 16th
// step and after due work) and checked against the requirements (R-5, R-12,
// R-16, R-17, R-18, R-29): a refusal changes nothing, a change touches one
// order by one version and writes exactly the notifications its timeline
// calls for, stock is conserved, refunds never exceed captures and captures
// never exceed the total, every state is reachable and every timeline
// chains, and in the end every notification is delivered exactly once.

// ---- the shop -----------------------------------------------------------------

struct sku_spec {
    std::string code;
    std::int64_t price;  // fen
    bool restricted;
};

inline const std::vector<sku_spec>& catalogue() {
    static const std::vector<sku_spec> skus = {
        {"tea", 1250, false},   {"cup", 800, false},   {"pot", 4500, false},
        {"silk", 12000, false}, {"knife", 3000, true}, {"wine", 9900, true},
    };
    return skus;
}

inline const sku_spec& spec_of(const sku_id& id) {
    for (const sku_spec& s : catalogue()) {
        if (s.code == id.value()) {
            return s;
        }
    }
    return catalogue().front();
}

inline const std::vector<std::string> warehouses = {"wh-a", "wh-b"};
inline const std::vector<std::string> customers = {"alice", "bob", "carol"};
inline constexpr std::int64_t high_value_fen = 30000;
inline constexpr std::size_t max_orders = 50;
inline constexpr auto auto_confirm_after = std::chrono::days(7);

inline money fen(std::int64_t v) {
    return money::from_minor(v, currencies::CNY);
}
inline std::int64_t fen_of(const money& m) {
    return m.amount_minor_int64().value();
}

inline std::string price_text(std::int64_t v) {
    return fmt::format("{}.{:02}", v / 100, v % 100);
}

inline settings scenario_settings() {
    settings s;
    s.review.high_value_at_or_above = {fen(high_value_fen)};
    // The scenario models the return tickets a cancel after shipment opens,
    // not their deadlines (the after-sales tests cover those): the review
    // deadline lies beyond any run.
    s.after_sales.response_time = std::chrono::hours(24 * 365 * 100);
    // Likewise it models the cases detectors open with a command (a failed
    // or timed-out payment), not the periodic scans for unprocessed orders
    // or case escalation (the operations tests cover those): both are off.
    s.operations.review_limit = duration::zero();
    s.operations.paid_limit = duration::zero();
    s.operations.allocating_limit = duration::zero();
    s.operations.packed_limit = duration::zero();
    s.operations.on_hold_limit = duration::zero();
    for (duration* d : {&s.operations.low_response, &s.operations.normal_response,
                        &s.operations.high_response, &s.operations.urgent_response}) {
        *d = std::chrono::hours(24 * 365 * 100);
    }
    return s;
}

// Actors of every role, plus two the policy must refuse whatever they do.
inline std::vector<actor> all_actors() {
    return {actor{"alice", role::customer}, actor{"bob", role::customer},
            actor{"carol", role::customer}, actor{"cs-1", role::customer_service},
            actor{"rev-1", role::reviewer}, actor{"wh-1", role::warehouse},
            actor{"fin-1", role::finance},  actor{"root", role::admin},
            actor{"pay-gw", role::system},  actor{"ghost", static_cast<role>(42)},
            actor{"", role::admin}};
}

// Captured minus refunded over every payment of the order, in fen.
inline std::int64_t net_captured(const order& o) {
    std::int64_t sum = 0;
    for (const payment& p : o.payments) {
        sum += fen_of(p.captured) - fen_of(p.refunded);
    }
    return sum;
}

inline std::int64_t refunded_total(const order& o) {
    std::int64_t sum = 0;
    for (const payment& p : o.payments) {
        sum += fen_of(p.refunded);
    }
    return sum;
}

inline order_guard_facts facts_of(const order& o) {
    return order_guard_facts{o.method == payment_method::cash_on_delivery, o.held_from};
}

inline bool in(order_state s, std::initializer_list<order_state> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

// The state whose reservation rule applies: an order on hold keeps the
// reservations of the state it was held in.
inline order_state effective_state(const order& o) {
    return o.state == order_state::on_hold ? o.held_from : o.state;
}

// R-12: placing holds, paying (or approving cash on delivery) commits,
// shipping consumes, cancelling releases.
inline reservation_state reservation_rule(order_state s) {
    switch (s) {
        case order_state::pending_review:
        case order_state::awaiting_payment:
            return reservation_state::held;
        case order_state::paid:
        case order_state::allocating:
        case order_state::packed:
            return reservation_state::committed;
        case order_state::shipped:
        case order_state::delivered:
        case order_state::completed:
        case order_state::closed:
            return reservation_state::consumed;
        case order_state::on_hold:
        case order_state::cancelled:
            break;
    }
    return reservation_state::released;
}

// ---- the order machine as data ------------------------------------------------

struct machine_model {
    std::set<std::tuple<order_state, order_event, order_state>> rows;
    std::set<order_state> reachable;
    std::vector<std::string> errors;  // rows naming unknown states or events, unreachable states
};

template <class Enum, std::size_t N>
inline std::optional<Enum> by_name(const std::array<Enum, N>& all, std::string_view name) {
    for (const Enum e : all) {
        if (to_string(e) == name) {
            return e;
        }
    }
    return std::nullopt;
}

inline const machine_model& machine() {
    static const machine_model model = [] {
        machine_model m;
        std::vector<std::tuple<order_state, order_event, order_state>> rows;
        for (const transition_row& r : order_machine_rows()) {
            const auto from = by_name(all_order_states, r.from);
            const auto event = by_name(all_order_events, r.event);
            const auto to = by_name(all_order_states, r.to);
            if (!from || !event || !to) {
                m.errors.push_back(
                    fmt::format("unknown name in machine row {} {} {}", r.from, r.event, r.to));
                continue;
            }
            rows.emplace_back(*from, *event, *to);
            m.rows.emplace(*from, *event, *to);
        }
        // Breadth-first over the table from the initial state.
        m.reachable.insert(order_state::pending_review);
        for (bool grew = true; grew;) {
            grew = false;
            for (const auto& [from, event, to] : rows) {
                if (m.reachable.count(from) != 0 && m.reachable.insert(to).second) {
                    grew = true;
                }
            }
        }
        if (m.reachable.size() != all_order_states.size()) {
            m.errors.push_back(fmt::format("{} of {} states are reachable", m.reachable.size(),
                                           all_order_states.size()));
        }
        return m;
    }();
    return model;
}

// ---- what is expected of a command --------------------------------------------

struct expectation {
    bool ok{true};
    bool repeated{false};  // for a success: nothing new happened
    errc code{errc::invalid_value};
    std::string field;                       // for a refusal; empty: any field
    std::optional<command_outcome> outcome;  // a replay returns exactly this
};

inline expectation success(bool repeated = false) {
    expectation e;
    e.repeated = repeated;
    return e;
}

inline expectation refusal(errc code, std::string field) {
    expectation e;
    e.ok = false;
    e.code = code;
    e.field = std::move(field);
    return e;
}

inline std::optional<expectation> key_refusal(std::string_view key) {
    if (key.empty()) {
        return refusal(errc::missing_value, "idempotency_key");
    }
    if (key.size() > 128 ||
        std::any_of(key.begin(), key.end(), [](char c) { return c <= ' ' || c > '~'; })) {
        return refusal(errc::invalid_value, "idempotency_key");
    }
    return std::nullopt;
}

// The default role table (R-33), with ownership for customers.
inline std::optional<expectation> auth_refusal(const actor& who, command what,
                                               const customer_id& owner) {
    if (to_string(who.role) == "unknown") {
        return refusal(errc::unknown_role, "actor.role");
    }
    if (who.id.empty()) {
        return refusal(errc::missing_value, "actor.id");
    }
    if (!default_access_policy::allows(who.role, what)) {
        return refusal(errc::forbidden, "actor.role");
    }
    if (who.role == role::customer && who.id != owner.value()) {
        return refusal(errc::forbidden, "actor.id");
    }
    return std::nullopt;
}

inline std::string line_field(std::size_t index, std::string_view part) {
    return fmt::format("lines[{}].{}", index, part);
}

// ---- the store, read back -----------------------------------------------------

using stock_key = std::pair<std::string, std::string>;  // sku, warehouse

// One order as read back, with its timeline and outbox. Each part is shared
// with the previous snapshot when it was not read again (see take()).
struct order_view {
    std::shared_ptr<const order> o;
    std::shared_ptr<const std::vector<timeline_entry>> timeline;
    std::shared_ptr<const std::vector<outbox_entry>> outbox;
};

struct world {
    timestamp now;
    std::map<order_id, order_view> orders;
    std::map<stock_key, stock_level> stock;
    std::size_t undelivered{0};
    std::size_t received{0};  // notifications the notifier accepted so far
    std::vector<std::string> read_errors;

    [[nodiscard]] const order& get(order_id id) const { return *orders.at(id).o; }
    [[nodiscard]] const order* find(order_id id) const {
        const auto it = orders.find(id);
        return it == orders.end() ? nullptr : it->second.o.get();
    }
    [[nodiscard]] const std::vector<timeline_entry>& timeline(order_id id) const {
        return *orders.at(id).timeline;
    }
    [[nodiscard]] const std::vector<outbox_entry>& outbox(order_id id) const {
        return *orders.at(id).outbox;
    }
    // True when the order, its timeline and its outbox are those of `b`.
    [[nodiscard]] bool same_as(const world& b, order_id id) const {
        const auto v = orders.find(id);
        const auto bv = b.orders.find(id);
        if (v == orders.end() || bv == b.orders.end()) {
            return false;
        }
        const order_view& x = v->second;
        const order_view& y = bv->second;
        return (x.o == y.o || *x.o == *y.o) &&
               (x.timeline == y.timeline || *x.timeline == *y.timeline) &&
               (x.outbox == y.outbox || *x.outbox == *y.outbox);
    }
};

// The notification without its delivery bookkeeping.
inline bool same_note(const outbox_entry& x, const outbox_entry& y) {
    notification a = x.notification;
    notification b = y.notification;
    a.attempt = 0;
    b.attempt = 0;
    return a == b;
}

inline std::string_view callback_name(payment_callback::outcome r) {
    switch (r) {
        case payment_callback::outcome::authorized:
            return "authorized";
        case payment_callback::outcome::captured:
            return "captured";
        case payment_callback::outcome::failed:
            return "failed";
    }
    return "unknown";
}

inline bool is_customer_kind(notification_kind k) {
    return k != notification_kind::refund_issued;
}

// ---- one command, kept for replays --------------------------------------------

using runner = std::function<result<command_outcome>(const command_context&)>;

struct past_command {
    command what{command::view_order};
    command_context ctx;
    std::optional<order_id> target;  // empty for place_order
    runner run;
    std::function<expectation(const command_context&)> expect;
    std::function<void(const world&, const world&, const command_outcome&)> check;
    std::optional<command_outcome> first;  // the first success under ctx's key
    std::optional<payment_callback> callback;
    std::string text;
};

enum class effect : std::uint8_t { nothing, order_change, placement, due_work, dispatch, stock };

struct step_info {
    effect kind{effect::nothing};
    command what{command::view_order};
    actor who;
    std::optional<order_id> target;
    std::set<order_id> due;  // due work: the orders that were due
    std::function<void(const world&, const world&)> check;
};

struct stock_command {
    command_context ctx;
    stock_receipt receipt;
    bool succeeded{false};
};

// ---- the scenario ---------------------------------------------------------------

class scenario {
public:
    scenario(const store_factory& make, conformance_checker& checker, std::uint64_t seed,
             std::size_t steps, bool trace)
        : checker_(checker),
          seed_(seed),
          steps_(steps),
          rng_(seed),
          f_(make, checker, scenario_settings()),
          actors_(all_actors()),
          trace_(trace) {
        for (const sku_spec& s : catalogue()) {
            bool stocked = false;
            for (std::size_t w = 0; w < warehouses.size(); ++w) {
                const bool last = w + 1 == warehouses.size();
                if (rng_.percent(70) || (last && !stocked)) {
                    const std::int64_t count = rng_.between(4, 25);
                    f_.stock_up(s.code, price_text(s.price), count, warehouses[w], s.restricted);
                    received_[{s.code, warehouses[w]}] += count;
                    stocked = true;
                }
            }
        }
        before_ = take();
    }

    // Runs every step and the final drain; false at the first step that broke
    // an invariant (its problems are reported as failed checks).
    bool run() {
        for (const std::string& e : machine().errors) {
            checker_.fail(fmt::format("the order machine's table: {}", e));
        }
        if (!machine().errors.empty()) {
            return false;
        }
        for (std::size_t i = 0; i < steps_; ++i) {
            if (!one_step(i, [this] { random_step(); })) {
                return false;
            }
        }
        coverage_ = coverage();
        return drain();
    }

    // What the run exercised, before the final drain: orders by state and
    // timeline events by kind.
    [[nodiscard]] std::string coverage() const {
        std::map<order_state, std::size_t> states;
        std::map<order_event, std::size_t> events;
        std::map<payment_state, std::size_t> payments;
        for (const auto& [id, o_view] : before_.orders) {
            const order& o = *o_view.o;
            ++states[o.state];
            for (const timeline_entry& e : before_.timeline(id)) {
                ++events[e.event];
            }
            for (const payment& p : o.payments) {
                ++payments[p.state];
            }
        }
        std::string text = "states:";
        for (const auto& [s, n] : states) {
            text += fmt::format(" {}={}", s, n);
        }
        text += "; events:";
        for (const auto& [e, n] : events) {
            text += fmt::format(" {}={}", e, n);
        }
        text += "; payments:";
        for (const auto& [p, n] : payments) {
            text += fmt::format(" {}={}", p, n);
        }
        return text;
    }

    [[nodiscard]] std::string summary() const {
        std::string text = fmt::format("seed {}: {} steps, {} orders, {} notifications; {}", seed_,
                                       steps_, before_.orders.size(), total_notes_, coverage_);
        if (trace_) {
            text += "; refusals:";
            for (const auto& [what, n] : refusal_codes_) {
                text += fmt::format(" {}={}", what, n);
            }
        }
        text += "; commands ok/refused:";
        for (const auto& [what, counts] : tally_) {
            text += fmt::format(" {}={}/{}", what, counts.first, counts.second);
        }
        return text;
    }

private:
    // ---- the step loop ----------------------------------------------------

    bool one_step(std::size_t index, const std::function<void()>& act) {
        step_ = step_info{};
        text_.clear();
        problems_.clear();
        act();
        const bool delivering = step_.kind == effect::due_work || step_.kind == effect::dispatch;
        world after = take(index % 16 == 0 || step_.kind == effect::due_work, delivering);
        if (trace_) {
            fmt::print("{:5} {}\n", index, text_);
        }
        track_deliveries(after);
        check_step(before_, after);
        check_invariants(after);
        if (!problems_.empty()) {
            for (std::size_t i = 0; i < problems_.size() && i < 12; ++i) {
                checker_.fail(
                    fmt::format("seed {} step {} [{}]: {}", seed_, index, text_, problems_[i]));
            }
            before_ = std::move(after);
            return false;
        }
        before_ = std::move(after);
        return true;
    }

    template <class... Args>
    void problem(fmt::format_string<Args...> format, Args&&... args) {
        problems_.push_back(fmt::format(format, std::forward<Args>(args)...));
    }

    // Reads the store back. A full read lists every order by state and reads
    // each again; otherwise only the step's target is read again and the
    // previous snapshot's orders are shared (a full read comes every 16th
    // step and after due work). Timelines are read again when the version
    // moved, outboxes also whenever notifications went out.
    world take(bool full = true, bool outboxes = true) {
        world w;
        w.now = f_.clock.now();
        std::vector<std::pair<order_id, std::optional<order_state>>> listing;
        if (full) {
            for (const order_state s : all_order_states) {
                auto ids = f_.store.orders_in_state(s, order_id{}, 100000);
                if (!ids) {
                    w.read_errors.push_back(to_string(ids.error()));
                    continue;
                }
                for (const order_id id : *ids) {
                    listing.emplace_back(id, s);
                }
            }
        } else {
            for (const auto& entry : before_.orders) {
                listing.emplace_back(entry.first, std::nullopt);
            }
            if (step_.kind == effect::placement && step_.target &&
                before_.orders.count(*step_.target) == 0) {
                listing.emplace_back(*step_.target, std::nullopt);
            }
        }
        for (const auto& [id, listed] : listing) {
            const auto old = before_.orders.find(id);
            const bool reread = full || old == before_.orders.end() || step_.target == id;
            order_view view;
            std::shared_ptr<const order>& current = view.o;
            if (reread) {
                auto found = f_.store.load_order(id);
                if (!found || !*found) {
                    w.read_errors.push_back(fmt::format("order {} listed but not loadable", id));
                    continue;
                }
                current = std::make_shared<const order>(std::move(**found));
            } else {
                current = old->second.o;
            }
            if (listed && current->state != *listed) {
                w.read_errors.push_back(
                    fmt::format("order {} listed under {} but is {}", id, *listed, current->state));
            }
            const bool same_version = old != before_.orders.end() &&
                                      old->second.o->version == current->version &&
                                      step_.target != id;
            if (!full && same_version) {
                view.timeline = old->second.timeline;
            } else if (auto tl = f_.store.timeline(id)) {
                view.timeline = std::make_shared<const std::vector<timeline_entry>>(std::move(*tl));
            } else {
                w.read_errors.push_back(fmt::format("order {}: timeline unreadable", id));
                view.timeline = std::make_shared<const std::vector<timeline_entry>>();
            }
            if (!full && !outboxes && same_version) {
                view.outbox = old->second.outbox;
            } else if (auto out = f_.store.outbox_of(id)) {
                view.outbox = std::make_shared<const std::vector<outbox_entry>>(std::move(*out));
            } else {
                w.read_errors.push_back(fmt::format("order {}: outbox unreadable", id));
                view.outbox = std::make_shared<const std::vector<outbox_entry>>();
            }
            if (!w.orders.emplace(id, std::move(view)).second) {
                w.read_errors.push_back(fmt::format("order {} listed in two states", id));
            }
        }
        auto stock = f_.store.all_stock();
        if (stock) {
            for (stock_level& level : *stock) {
                stock_key key{level.sku.value(), level.warehouse.value()};
                w.stock.emplace(std::move(key), std::move(level));
            }
        } else {
            w.read_errors.push_back(to_string(stock.error()));
        }
        auto undelivered = f_.store.undelivered_count();
        if (undelivered) {
            w.undelivered = *undelivered;
        } else {
            w.read_errors.push_back(to_string(undelivered.error()));
        }
        w.received = seen_received_;
        return w;
    }

    // New notifications the notifier accepted: none may come twice.
    void track_deliveries(world& after) {
        newly_received_.clear();
        if (f_.notifier.attempts() != seen_attempts_) {
            seen_attempts_ = f_.notifier.attempts();
            const auto received = f_.notifier.received();
            for (std::size_t i = seen_received_; i < received.size(); ++i) {
                if (!delivered_ids_.insert(received[i].id).second) {
                    problem("notification {} was delivered twice", received[i].id);
                }
                newly_received_.insert(received[i].id);
            }
            seen_received_ = received.size();
        }
        after.received = seen_received_;
    }

    // ---- choosing ----------------------------------------------------------

    void random_step() {
        // Orders are placed over the whole run, a dozen alive at a time.
        std::size_t alive = 0;
        for (const auto& [id, o_view] : before_.orders) {
            const order& o = *o_view.o;
            alive +=
                in(o.state, {order_state::cancelled, order_state::completed, order_state::closed})
                    ? 0U
                    : 1U;
        }
        const std::size_t place_weight = orders_.size() >= max_orders ? 0U : alive < 12 ? 14U : 2U;
        const std::vector<std::pair<std::size_t, std::function<void()>>> ops = {
            {place_weight, [this] { place_step(); }},
            {6, [this] { review_step(true); }},
            {2, [this] { review_step(false); }},
            {18, [this] { payment_step(); }},
            {4, [this] { refund_step(); }},
            {4, [this] { reasoned_step(command::cancel_order); }},
            {3, [this] { reasoned_step(command::hold_order); }},
            {3, [this] { reasoned_step(command::release_order); }},
            {6, [this] { fulfilment_step(command::allocate_order); }},
            {6, [this] { fulfilment_step(command::pack_order); }},
            {6, [this] { ship_step(); }},
            {5, [this] { fulfilment_step(command::deliver_order); }},
            {4, [this] { fulfilment_step(command::confirm_receipt); }},
            {3, [this] { fulfilment_step(command::close_order); }},
            {5, [this] { time_step(); }},
            {3, [this] { dispatch_step(); }},
            {2, [this] { toggle_notifier(); }},
            {2, [this] { receive_step(); }},
            {1, [this] { safety_step(); }},
            {5, [this] { replay_step(); }},
            {1, [this] { unknown_order_step(); }},
        };
        if (orders_.empty()) {
            return place_step();
        }
        std::size_t total = 0;
        for (const auto& op : ops) {
            total += op.first;
        }
        std::size_t roll = rng_.below(total);
        for (const auto& op : ops) {
            if (roll < op.first) {
                return op.second();
            }
            roll -= op.first;
        }
    }

    void toggle_notifier() {
        failing_ = !failing_;
        f_.notifier.failing(failing_);
        text_ = fmt::format("notifier failing={}", failing_);
    }

    // An order, in one of `preferred` states three times out of four.
    order_id pick_order(std::initializer_list<order_state> preferred) {
        if (rng_.percent(75)) {
            std::vector<order_id> candidates;
            for (const auto& [id, o_view] : before_.orders) {
                const order& o = *o_view.o;
                if (in(o.state, preferred)) {
                    candidates.push_back(id);
                }
            }
            if (!candidates.empty()) {
                return rng_.pick(candidates);
            }
        }
        return rng_.pick(orders_);
    }

    // An actor allowed to run `what` four times out of five, anyone otherwise.
    actor pick_actor(command what, const customer_id& owner) {
        if (rng_.percent(80)) {
            std::vector<actor> allowed;
            for (const actor& a : actors_) {
                if (!auth_refusal(a, what, owner)) {
                    allowed.push_back(a);
                }
            }
            if (!allowed.empty()) {
                return rng_.pick(allowed);
            }
        }
        return rng_.pick(actors_);
    }

    command_context context_for(command what, const customer_id& owner) {
        command_context ctx = f_.as(pick_actor(what, owner));
        if (rng_.percent(2)) {
            ctx.idempotency_key = rng_.percent(50) ? "" : "two words";
        }
        return ctx;
    }

    const order* find(order_id id) const { return before_.find(id); }

    std::optional<expectation> order_refusal(const command_context& ctx, command what,
                                             order_id id) const {
        if (auto key = key_refusal(ctx.idempotency_key)) {
            return key;
        }
        const order* o = find(id);
        if (o == nullptr) {
            return refusal(errc::not_found, "order_id");
        }
        return auth_refusal(ctx.actor, what, o->customer);
    }

    static bool after_shipment(const order& o) {
        return o.state == order_state::shipped || o.state == order_state::delivered ||
               o.state == order_state::completed;
    }

    expectation expect_transition(order_id id, order_event event) const {
        const order& o = before_.get(id);
        if (next_order_state(o.state, event, facts_of(o))) {
            return success();
        }
        return refusal(errc::transition_not_allowed, "state");
    }

    // The order moved as the machine says `event` moves it.
    void check_moved(const world& b, const world& a, order_id id, order_event event) {
        const order& bo = b.get(id);
        const order& ao = a.get(id);
        const auto next = next_order_state(bo.state, event, facts_of(bo));
        if (!next) {
            problem("{} succeeded on order {} in {}, which the machine refuses", event, id,
                    bo.state);
            return;
        }
        if (ao.state != *next) {
            problem("{} on order {}: {} -> {}, the machine says {}", event, id, bo.state, ao.state,
                    *next);
        }
    }

    // ---- running a command ---------------------------------------------------

    void execute(past_command p) {
        const expectation exp = p.expect(p.ctx);
        run_and_check(p, exp);
        history_.push_back(std::move(p));
    }

    void run_and_check(past_command& p, const expectation& exp) {
        text_ = fmt::format("{} by {} key '{}'{}", p.what, p.ctx.actor, p.ctx.idempotency_key,
                            p.text.empty() ? "" : ": " + p.text);
        step_.what = p.what;
        step_.who = p.ctx.actor;
        step_.target = p.target;  // its timeline and outbox are read again
        auto r = p.run(p.ctx);
        const std::string name(to_string(p.what));
        if (r.has_error()) {
            ++tally_[name].second;
            ++refusal_codes_[fmt::format("{}:{}", name, r.error().code)];
            const error& e = r.error();
            text_ += fmt::format(" -> refused {}", to_string(e));
            if (to_string(e.code) == "unknown_error") {
                problem("refusal with an unknown code {}", static_cast<unsigned>(e.code));
            }
            if (e.field.empty()) {
                problem("refusal names no field: {}", to_string(e));
            }
            if (exp.ok) {
                problem("expected success{}, got {}", exp.repeated ? " (repeated)" : "",
                        to_string(e));
            } else if (e.code != exp.code || (!exp.field.empty() && e.field != exp.field)) {
                problem("expected refusal {} on '{}', got {}", exp.code, exp.field, to_string(e));
            }
            return;
        }
        ++tally_[name].first;
        const command_outcome& out = *r;
        text_ += fmt::format(" -> {}{}", out.state, out.repeated ? " (repeated)" : "");
        if (!exp.ok) {
            problem("expected refusal {} on '{}', got success ({})", exp.code, exp.field,
                    out.state);
        } else if (out.repeated != exp.repeated) {
            problem("expected repeated={}, got repeated={}", exp.repeated, out.repeated);
        }
        if (exp.outcome && out != *exp.outcome) {
            problem("a replay returned {} {} {}, the first result was {} {} {}", out.order,
                    out.state, out.repeated, exp.outcome->order, exp.outcome->state,
                    exp.outcome->repeated);
        }
        if (p.target && out.order != *p.target) {
            problem("outcome names order {}, the command was for {}", out.order, *p.target);
        }
        if (!p.first) {
            p.first = out;
        }
        if (out.repeated) {
            return;  // must have changed nothing: checked as effect::nothing
        }
        step_.kind = p.what == command::place_order ? effect::placement : effect::order_change;
        step_.target = out.order;
        if (p.what == command::place_order) {
            orders_.push_back(out.order);
        }
        step_.check = [check = p.check, out, this](const world& b, const world& a) {
            if (a.orders.count(out.order) == 0) {
                problem("order {} of the outcome is not in the store", out.order);
                return;
            }
            if (a.get(out.order).state != out.state) {
                problem("outcome says {}, the stored order is {}", out.state,
                        a.get(out.order).state);
            }
            if (check) {
                check(b, a, out);
            }
        };
    }

    // ---- placing -------------------------------------------------------------

    void place_step() {
        const customer_id owner(rng_.pick(customers));
        place_order_request req;
        req.channel = rng_.percent(50) ? order_channel::web : order_channel::mobile_app;
        req.customer = owner;
        req.ship_to = home_address();
        const std::size_t lines = 1 + rng_.below(3);
        for (std::size_t i = 0; i < lines; ++i) {
            const sku_spec& s = catalogue()[rng_.below(catalogue().size())];
            const std::int64_t count = rng_.percent(6) ? rng_.between(20, 60) : rng_.between(1, 5);
            const std::int64_t price = rng_.percent(4) ? s.price + 1 : s.price;
            req.lines.push_back(
                line_request{sku_id(s.code), quantity::of(count).value(), fen(price)});
        }
        if (rng_.percent(20)) {
            req.discount = fen(rng_.between(1, 3000));
        }
        if (rng_.percent(30)) {
            req.shipping_fee = fen(1000);
        }
        const std::size_t method = rng_.below(8);
        req.method = method < 4   ? payment_method::card
                     : method < 5 ? payment_method::wallet
                     : method < 6 ? payment_method::bank_transfer
                                  : payment_method::cash_on_delivery;
        past_command p;
        p.what = command::place_order;
        p.ctx = context_for(command::place_order, owner);
        p.run = [this, req](const command_context& c) { return f_.engine->place_order(c, req); };
        p.expect = [this, req](const command_context& c) { return expect_place(c, req); };
        p.check = [this, req](const world& b, const world& a, const command_outcome& out) {
            check_placed(b, a, out, req);
        };
        std::string lines_text;
        for (const line_request& l : req.lines) {
            lines_text +=
                fmt::format(" {}x{}@{}", l.units.units(), l.sku, l.unit_price.to_string());
        }
        p.text = fmt::format("for {} via {}{}{}", owner, req.method, lines_text,
                             req.discount ? " discount " + req.discount->to_string() : "");
        execute(std::move(p));
    }

    // The first warehouse (by id) with `need` units of `sku` available.
    std::optional<std::string> warehouse_for(const world& w, const std::string& sku,
                                             std::int64_t need) const {
        for (const auto& [key, level] : w.stock) {
            if (key.first == sku && level.available() >= need) {
                return key.second;
            }
        }
        return std::nullopt;
    }

    static std::map<std::string, std::pair<std::int64_t, std::size_t>> wanted_units(
        const place_order_request& req) {
        std::map<std::string, std::pair<std::int64_t, std::size_t>> wanted;  // units, first line
        for (std::size_t i = 0; i < req.lines.size(); ++i) {
            auto [it, fresh] = wanted.try_emplace(req.lines[i].sku.value(), 0, i);
            it->second.first += req.lines[i].units.units();
        }
        return wanted;
    }

    expectation expect_place(const command_context& ctx, const place_order_request& req) const {
        if (auto key = key_refusal(ctx.idempotency_key)) {
            return *key;
        }
        if (auto auth = auth_refusal(ctx.actor, command::place_order, req.customer)) {
            return *auth;
        }
        std::int64_t subtotal = 0;
        for (std::size_t i = 0; i < req.lines.size(); ++i) {
            const sku_spec& s = spec_of(req.lines[i].sku);
            if (fen_of(req.lines[i].unit_price) != s.price) {
                return refusal(errc::invalid_value, line_field(i, "unit_price"));
            }
            subtotal += s.price * req.lines[i].units.units();
        }
        if (req.discount && fen_of(*req.discount) > subtotal) {
            return refusal(errc::invalid_value, "discount");
        }
        for (const auto& [sku, need] : wanted_units(req)) {
            if (!warehouse_for(before_, sku, need.first)) {
                return refusal(errc::insufficient_stock, line_field(need.second, "units"));
            }
        }
        return success();
    }

    void check_placed(const world& b, const world& a, const command_outcome& out,
                      const place_order_request& req) {
        const order& o = a.get(out.order);
        if (o.customer != req.customer || o.method != req.method || o.channel != req.channel) {
            problem("placed order {} does not carry the request's customer/method/channel", o.id);
        }
        if (o.number != out.number || o.placed_at != a.now) {
            problem("placed order {}: number or placed_at differ from the outcome/clock", o.id);
        }
        std::int64_t subtotal = 0;
        bool restricted = false;
        if (o.lines.size() != req.lines.size()) {
            problem("placed order {} has {} lines, the request {}", o.id, o.lines.size(),
                    req.lines.size());
            return;
        }
        for (std::size_t i = 0; i < req.lines.size(); ++i) {
            const order_line& l = o.lines[i];
            if (l.sku != req.lines[i].sku || l.units != req.lines[i].units ||
                l.unit_price != req.lines[i].unit_price) {
                problem("placed order {} line {} differs from the request", o.id, i);
            }
            subtotal += fen_of(l.unit_price) * l.units.units();
            restricted = restricted || spec_of(l.sku).restricted;
        }
        const std::int64_t discount = req.discount ? fen_of(*req.discount) : 0;
        const std::int64_t shipping = req.shipping_fee ? fen_of(*req.shipping_fee) : 0;
        const std::int64_t total = subtotal - discount + shipping;
        if (fen_of(o.subtotal) != subtotal || fen_of(o.discount) != discount ||
            fen_of(o.shipping_fee) != shipping || fen_of(o.total) != total) {
            problem(
                "placed order {}: subtotal/discount/shipping/total {}/{}/{}/{}, expected "
                "{}/{}/{}/{}",
                o.id, o.subtotal.to_string(), o.discount.to_string(), o.shipping_fee.to_string(),
                o.total.to_string(), subtotal, discount, shipping, total);
        }
        std::vector<std::string> flags;
        if (total >= high_value_fen) {
            flags.emplace_back("high_value");
        }
        if (restricted) {
            flags.emplace_back("restricted_sku");
        }
        if (o.review_flags != flags) {
            problem("placed order {} (total {}, restricted {}): review flags [{}], expected [{}]",
                    o.id, total, restricted, fmt::join(o.review_flags, ","), fmt::join(flags, ","));
        }
        const order_state expected_state = !flags.empty() ? order_state::pending_review
                                           : req.method == payment_method::cash_on_delivery
                                               ? order_state::paid
                                               : order_state::awaiting_payment;
        if (o.state != expected_state) {
            problem("placed order {} is {}, expected {}", o.id, o.state, expected_state);
        }
        // One reservation per SKU, in the first warehouse that had them all.
        std::map<std::string, std::pair<std::string, std::int64_t>> reserved;
        for (const reservation& r : o.reservations) {
            if (!reserved.emplace(r.sku.value(), std::pair{r.warehouse.value(), r.units.units()})
                     .second) {
                problem("placed order {} has two reservations of {}", o.id, r.sku);
            }
        }
        for (const auto& [sku, need] : wanted_units(req)) {
            const auto where = warehouse_for(b, sku, need.first);
            const auto it = reserved.find(sku);
            if (it == reserved.end() || !where || it->second.first != *where ||
                it->second.second != need.first) {
                problem("placed order {}: {} units of {} should be reserved in {}", o.id,
                        need.first, sku, where.value_or("(nowhere)"));
            }
        }
        if (reserved.size() != wanted_units(req).size()) {
            problem("placed order {} reserves SKUs it did not order", o.id);
        }
    }

    // ---- review ------------------------------------------------------------

    void review_step(bool approve) {
        const order_id id = pick_order({order_state::pending_review});
        const order& o = before_.get(id);
        const command what = approve ? command::approve_order : command::reject_order;
        const std::string reason = approve ? (rng_.percent(20) ? "" : "checked by hand")
                                           : (rng_.percent(8) ? "" : "address looks fake");
        past_command p;
        p.what = what;
        p.target = id;
        p.ctx = context_for(what, o.customer);
        p.run = [this, id, reason, approve](const command_context& c) {
            return approve ? f_.engine->approve_order(c, id, reason)
                           : f_.engine->reject_order(c, id, reason);
        };
        p.expect = [this, id, reason, approve, what](const command_context& c) {
            if (auto r = order_refusal(c, what, id)) {
                return *r;
            }
            if (!approve && reason.empty()) {
                return refusal(errc::missing_value, "reason");
            }
            return expect_transition(
                id, approve ? order_event::review_approved : order_event::review_rejected);
        };
        p.check = [this, id, approve](const world& b, const world& a, const command_outcome&) {
            check_moved(b, a, id,
                        approve ? order_event::review_approved : order_event::review_rejected);
            if (approve && !a.get(id).review_flags.empty()) {
                problem("approved order {} still has review flags", id);
            }
        };
        p.text = fmt::format("order {} ({}) reason '{}'", id, o.state, reason);
        execute(std::move(p));
    }

    // ---- payments ------------------------------------------------------------

    void payment_step() {
        std::vector<std::size_t> paid_before;
        std::vector<std::size_t> succeeded;
        for (std::size_t i = 0; i < history_.size(); ++i) {
            if (history_[i].what == command::record_payment) {
                paid_before.push_back(i);
                if (history_[i].first) {
                    succeeded.push_back(i);
                }
            }
        }
        const std::size_t roll = rng_.below(100);
        if (roll < 12 && !paid_before.empty()) {
            // The gateway repeats a callback under the same event id.
            return replay_same_key(rng_.pick(paid_before));
        }
        if (roll < 24 && !succeeded.empty()) {
            // The gateway sends the same result again under a new event id.
            return replay_new_key(rng_.pick(succeeded));
        }
        if (roll < 29 && !succeeded.empty()) {
            return reuse_key_for_other_callback(rng_.pick(succeeded));
        }
        // Mostly orders waiting for money; sometimes a late callback for a
        // cancelled one, or any order at all.
        std::vector<order_id> waiting;
        std::vector<order_id> cancelled;
        for (const auto& [oid, candidate_view] : before_.orders) {
            const order& candidate = *candidate_view.o;
            if (wants_payment(candidate)) {
                waiting.push_back(oid);
            } else if (candidate.state == order_state::cancelled) {
                cancelled.push_back(oid);
            }
        }
        const std::size_t pick = rng_.below(100);
        const order_id id = pick < 75 && !waiting.empty()     ? rng_.pick(waiting)
                            : pick < 88 && !cancelled.empty() ? rng_.pick(cancelled)
                                                              : rng_.pick(orders_);
        const order& o = before_.get(id);
        payment_callback cb;
        cb.order = id;
        std::vector<const payment*> gateway_payments;
        for (const payment& p : o.payments) {
            if (p.method != payment_method::cash_on_delivery) {
                gateway_payments.push_back(&p);
            }
        }
        // An open authorization is captured half of the time, in full or in
        // part (partial capture); otherwise a new or an existing reference
        // reports an authorization, a capture or a failure.
        std::vector<const payment*> open;
        for (const payment* p : gateway_payments) {
            if (p->state == payment_state::authorized) {
                open.push_back(p);
            }
        }
        const std::int64_t due = fen_of(o.total) - net_captured(o);
        const payment* existing = nullptr;
        if (!open.empty() && rng_.percent(50)) {
            existing = open[rng_.below(open.size())];
            cb.gateway_reference = existing->gateway_reference;
            cb.result = payment_callback::outcome::captured;
            const std::int64_t authorized = fen_of(existing->authorized);
            cb.amount = fen(rng_.percent(50) || authorized < 2
                                ? authorized
                                : authorized - rng_.between(1, authorized - 1));
        } else {
            if (!gateway_payments.empty() && rng_.percent(30)) {
                existing = gateway_payments[rng_.below(gateway_payments.size())];
                cb.gateway_reference = existing->gateway_reference;
            } else {
                cb.gateway_reference = fmt::format("gw-{}", ++gateway_refs_);
            }
            const std::size_t outcome = rng_.below(10);
            if (outcome < 4) {
                cb.result = payment_callback::outcome::authorized;
                cb.amount = fen(rng_.percent(80) ? due : wrong_amount(due));
            } else if (outcome < 8) {
                cb.result = payment_callback::outcome::captured;
                cb.amount = fen(rng_.percent(75) ? due : wrong_amount(due));
            } else {
                cb.result = payment_callback::outcome::failed;
                cb.failure_reason = rng_.percent(50) ? "card declined" : "insufficient funds";
            }
        }
        if (rng_.percent(2)) {
            cb.gateway_reference.clear();
        }
        const std::array<payment_method, 3> methods = {payment_method::card, payment_method::wallet,
                                                       payment_method::bank_transfer};
        cb.method = rng_.percent(2) ? payment_method::cash_on_delivery
                                    : methods[rng_.below(methods.size())];
        if (cb.result != payment_callback::outcome::failed && rng_.percent(3)) {
            cb.amount.reset();
        }
        past_command p = payment_command(cb, context_for(command::record_payment, o.customer));
        execute(std::move(p));
    }

    std::int64_t wrong_amount(std::int64_t due) {
        switch (rng_.below(4)) {
            case 0:
                return due + 100;
            case 1:
                return due > 1 ? due / 2 : due + 1;
            case 2:
                return 0;
            default:
                return due + 1;
        }
    }

    past_command payment_command(const payment_callback& cb, command_context ctx) {
        past_command p;
        p.what = command::record_payment;
        p.target = cb.order;
        p.ctx = std::move(ctx);
        p.callback = cb;
        p.run = [this, cb](const command_context& c) { return f_.engine->record_payment(c, cb); };
        p.expect = [this, cb](const command_context& c) { return expect_payment(c, cb); };
        p.check = [this, cb](const world& b, const world& a, const command_outcome& out) {
            check_payment(b, a, out, cb);
        };
        const order* o = find(cb.order);
        p.text =
            fmt::format("order {} ({}, total {}, net {}) {} {} ref '{}' amount {}", cb.order,
                        o != nullptr ? to_string(o->state) : "missing",
                        o != nullptr ? o->total.to_string() : "-",
                        o != nullptr ? net_captured(*o) : 0, cb.method, callback_name(cb.result),
                        cb.gateway_reference, cb.amount ? cb.amount->to_string() : "none");
        return p;
    }

    static bool wants_payment(const order& o) {
        return o.state == order_state::awaiting_payment ||
               (o.state == order_state::on_hold && o.held_from == order_state::awaiting_payment);
    }

    // What the engine decides for a callback (R-16): refusals of malformed
    // callbacks, a stale callback changes nothing, amounts must fit what is due.
    expectation expect_payment(const command_context& ctx, const payment_callback& cb) const {
        if (auto r = order_refusal(ctx, command::record_payment, cb.order)) {
            return *r;
        }
        const order& o = before_.get(cb.order);
        using outcome = payment_callback::outcome;
        if (cb.gateway_reference.empty()) {
            return refusal(errc::missing_value, "gateway_reference");
        }
        if (cb.method == payment_method::cash_on_delivery) {
            return refusal(errc::invalid_value, "method");
        }
        if (o.method == payment_method::cash_on_delivery) {
            return refusal(errc::invalid_value, "order_id");
        }
        if (cb.result != outcome::failed) {
            if (!cb.amount) {
                return refusal(errc::missing_value, "amount");
            }
            if (!cb.amount->is_positive()) {
                return refusal(errc::amount_mismatch, "amount");
            }
        }
        const auto existing = std::find_if(
            o.payments.begin(), o.payments.end(),
            [&](const payment& p) { return p.gateway_reference == cb.gateway_reference; });
        const payment_state from =
            existing == o.payments.end() ? payment_state::pending : existing->state;
        const payment_event event =
            cb.result == outcome::authorized ? payment_event::authorization_succeeded
            : cb.result == outcome::captured ? payment_event::capture_succeeded
                                             : payment_event::payment_failed;
        if (!next_payment_state(from, event, {})) {
            return success(true);  // stale: the payment already moved past it
        }
        if (wants_payment(o) && cb.result != outcome::failed) {
            const std::int64_t due = fen_of(o.total) - net_captured(o);
            const std::int64_t amount = fen_of(*cb.amount);
            if (cb.result == outcome::authorized && amount != due) {
                return refusal(errc::amount_mismatch, "amount");
            }
            if (cb.result == outcome::captured) {
                if (from == payment_state::authorized) {
                    // Partial capture: at most what was authorized, and never
                    // more than is still due.
                    if (amount > fen_of(existing->authorized) || amount > due) {
                        return refusal(errc::amount_mismatch, "amount");
                    }
                } else if (amount != due) {
                    return refusal(errc::amount_mismatch, "amount");
                }
            }
        }
        return success();
    }

    void check_payment(const world& b, const world& a, const command_outcome& out,
                       const payment_callback& cb) {
        using outcome = payment_callback::outcome;
        const order& bo = b.get(cb.order);
        const order& ao = a.get(cb.order);
        const auto p = std::find_if(ao.payments.begin(), ao.payments.end(), [&](const payment& x) {
            return x.gateway_reference == cb.gateway_reference;
        });
        if (p == ao.payments.end()) {
            problem("no payment '{}' on order {} after its callback", cb.gateway_reference,
                    cb.order);
            return;
        }
        if (out.payment != p->state) {
            problem("outcome payment state differs from the stored payment ({})", p->state);
        }
        const bool wanted = wants_payment(bo);
        if (!wanted && cb.result == outcome::captured && p->state != payment_state::refunded) {
            problem("money captured for order {} in {} was kept ({}), not refunded", cb.order,
                    bo.state, p->state);
        }
        if (wanted && cb.result == outcome::captured && bo.state == order_state::awaiting_payment &&
            net_captured(ao) == fen_of(ao.total) && ao.state != order_state::paid) {
            problem("order {} has its total captured but is {}, not paid", cb.order, ao.state);
        }
        if (wanted && cb.result == outcome::failed) {
            if (ao.payment_failures != bo.payment_failures + 1) {
                problem("a failed payment did not count: {} -> {}", bo.payment_failures,
                        ao.payment_failures);
            }
            if (ao.payment_failures >= 3 && ao.state != order_state::cancelled) {
                problem("order {} failed payment {} times but is {}", cb.order, ao.payment_failures,
                        ao.state);
            }
        }
    }

    // ---- refunds -----------------------------------------------------------

    void refund_step() {
        std::vector<order_id> with_money;
        for (const auto& [id, o_view] : before_.orders) {
            const order& o = *o_view.o;
            if (net_captured(o) > 0) {
                with_money.push_back(id);
            }
        }
        const order_id id =
            !with_money.empty() && rng_.percent(80) ? rng_.pick(with_money) : rng_.pick(orders_);
        const order& o = before_.get(id);
        const std::int64_t net = net_captured(o);
        std::int64_t amount = 0;
        const std::size_t roll = rng_.below(100);
        if (roll < 60 && net > 0) {
            amount = rng_.between(1, net);
        } else if (roll < 80) {
            amount = net;
        } else if (roll < 92) {
            amount = net + 100;
        }
        const refund_request req{id, fen(amount), rng_.percent(5) ? "" : "goodwill"};
        past_command p;
        p.what = command::refund_payment;
        p.target = id;
        p.ctx = context_for(command::refund_payment, o.customer);
        p.run = [this, req](const command_context& c) { return f_.engine->refund_payment(c, req); };
        p.expect = [this, req](const command_context& c) {
            if (auto r = order_refusal(c, command::refund_payment, req.order)) {
                return *r;
            }
            if (req.reason.empty()) {
                return refusal(errc::missing_value, "reason");
            }
            const std::int64_t refundable = net_captured(before_.get(req.order));
            if (!req.amount.is_positive() || fen_of(req.amount) > refundable) {
                return refusal(errc::amount_mismatch, "amount");
            }
            return success();
        };
        p.check = [this, req](const world& b, const world& a, const command_outcome&) {
            const std::int64_t grew =
                refunded_total(a.get(req.order)) - refunded_total(b.get(req.order));
            if (grew != fen_of(req.amount)) {
                problem("refund of {} grew refunds by {} fen", req.amount.to_string(), grew);
            }
            if (a.get(req.order).state != b.get(req.order).state) {
                problem("a refund moved order {}", req.order);
            }
        };
        p.text = fmt::format("order {} ({}, net {}) amount {}", id, o.state, net, amount);
        execute(std::move(p));
    }

    // ---- cancel, hold, release ---------------------------------------------

    void reasoned_step(command what) {
        const order_id id =
            what == command::release_order
                ? pick_order({order_state::on_hold})
                : pick_order({order_state::pending_review, order_state::awaiting_payment,
                              order_state::paid, order_state::allocating, order_state::packed});
        const order& o = before_.get(id);
        const bool required = what != command::release_order;
        const std::string reason = rng_.percent(6) ? "" : "customer asked";
        const order_event event = what == command::cancel_order ? order_event::cancelled
                                  : what == command::hold_order ? order_event::held
                                                                : order_event::released;
        past_command p;
        p.what = what;
        p.target = id;
        p.ctx = context_for(what, o.customer);
        p.run = [this, what, id, reason](const command_context& c) {
            switch (what) {
                case command::cancel_order:
                    return f_.engine->cancel_order(c, id, reason);
                case command::hold_order:
                    return f_.engine->hold_order(c, id, reason);
                default:
                    return f_.engine->release_order(c, id, reason);
            }
        };
        p.expect = [this, what, id, reason, required, event](const command_context& c) {
            if (auto r = order_refusal(c, what, id)) {
                return *r;
            }
            if (required && reason.empty()) {
                return refusal(errc::missing_value, "reason");
            }
            if (what == command::cancel_order && after_shipment(before_.get(id))) {
                // R-6: a return ticket for every unit, once (the scenario
                // opens no other tickets, so a second finds nothing left).
                return before_.get(id).tickets.empty() ? success()
                                                       : refusal(errc::invalid_value, "lines");
            }
            return expect_transition(id, event);
        };
        p.check = [this, id, event](const world& b, const world& a, const command_outcome& out) {
            const order& bo = b.get(id);
            const order& ao = a.get(id);
            if (event == order_event::cancelled && after_shipment(bo)) {
                if (ao.state != bo.state || ao.tickets.size() != bo.tickets.size() + 1 ||
                    !out.ticket || ao.tickets.back() != *out.ticket ||
                    out.ticket_status != ticket_state::under_review) {
                    problem("a cancel of order {} after shipment did not open one return ticket",
                            id);
                }
                return;
            }
            if (event == order_event::released && bo.held_from == order_state::awaiting_payment &&
                net_captured(bo) == fen_of(bo.total)) {
                if (ao.state != order_state::paid) {
                    problem("order {} released with its total captured is {}, not paid", id,
                            ao.state);
                }
                return;
            }
            check_moved(b, a, id, event);
            if (event == order_event::held && ao.held_from != bo.state) {
                problem("order {} held from {} remembers {}", id, bo.state, ao.held_from);
            }
        };
        p.text = fmt::format("order {} ({}) reason '{}'", id, o.state, reason);
        execute(std::move(p));
    }

    // ---- fulfilment ----------------------------------------------------------

    void fulfilment_step(command what) {
        order_event event = order_event::allocated;
        order_state from = order_state::paid;
        switch (what) {
            case command::pack_order:
                event = order_event::packed;
                from = order_state::allocating;
                break;
            case command::deliver_order:
                event = order_event::delivered;
                from = order_state::shipped;
                break;
            case command::confirm_receipt:
                event = order_event::receipt_confirmed;
                from = order_state::delivered;
                break;
            case command::close_order:
                event = order_event::closed;
                from = order_state::completed;
                break;
            default:
                break;
        }
        const order_id id = pick_order({from});
        const order& o = before_.get(id);
        past_command p;
        p.what = what;
        p.target = id;
        p.ctx = context_for(what, o.customer);
        p.run = [this, what, id](const command_context& c) {
            switch (what) {
                case command::pack_order:
                    return f_.engine->pack_order(c, id);
                case command::deliver_order:
                    return f_.engine->deliver_order(c, id);
                case command::confirm_receipt:
                    return f_.engine->confirm_receipt(c, id);
                case command::close_order:
                    return f_.engine->close_order(c, id);
                default:
                    return f_.engine->allocate_order(c, id);
            }
        };
        p.expect = [this, what, id, event](const command_context& c) {
            if (auto r = order_refusal(c, what, id)) {
                return *r;
            }
            // The scenario's tickets (from cancels after shipment) stay open.
            if (what == command::close_order && !before_.get(id).tickets.empty() &&
                before_.get(id).state == order_state::completed) {
                return refusal(errc::transition_not_allowed, "tickets");
            }
            return expect_transition(id, event);
        };
        p.check = [this, id, event](const world& b, const world& a, const command_outcome&) {
            check_moved(b, a, id, event);
            const order& ao = a.get(id);
            if (event == order_event::allocated &&
                (ao.reservations.empty() || ao.warehouse != ao.reservations.front().warehouse)) {
                problem("allocated order {} names warehouse '{}'", id, ao.warehouse);
            }
        };
        p.text = fmt::format("order {} ({})", id, o.state);
        execute(std::move(p));
    }

    void ship_step() {
        const order_id id = pick_order({order_state::packed});
        const order& o = before_.get(id);
        const shipment_request req{id, carrier_id("sf-express"),
                                   rng_.percent(4) ? "" : fmt::format("SF{}", ++tracking_)};
        past_command p;
        p.what = command::ship_order;
        p.target = id;
        p.ctx = context_for(command::ship_order, o.customer);
        p.run = [this, req](const command_context& c) { return f_.engine->ship_order(c, req); };
        p.expect = [this, req](const command_context& c) {
            if (auto r = order_refusal(c, command::ship_order, req.order)) {
                return *r;
            }
            if (req.tracking_number.empty()) {
                return refusal(errc::missing_value, "tracking_number");
            }
            return expect_transition(req.order, order_event::shipped);
        };
        p.check = [this, req](const world& b, const world& a, const command_outcome&) {
            check_moved(b, a, req.order, order_event::shipped);
            const order& ao = a.get(req.order);
            if (ao.carrier != req.carrier || ao.tracking_number != req.tracking_number) {
                problem("shipped order {} does not carry its carrier and tracking number",
                        req.order);
            }
        };
        p.text = fmt::format("order {} ({}) tracking '{}'", id, o.state, req.tracking_number);
        execute(std::move(p));
    }

    // ---- replays ---------------------------------------------------------------

    void replay_step() {
        if (history_.empty()) {
            return place_step();
        }
        const std::size_t index = rng_.below(history_.size());
        const bool place = history_[index].what == command::place_order;
        if (rng_.percent(70) || (place && orders_.size() >= max_orders)) {
            return replay_same_key(index);
        }
        if (rng_.percent(20) && history_[index].first &&
            history_[index].what == command::cancel_order) {
            return reuse_key_for_other_cancel(index);
        }
        return replay_new_key(index);
    }

    // The same key and request: the first success comes back, nothing changes.
    void replay_same_key(std::size_t index) {
        past_command& p = history_[index];
        expectation exp;
        if (p.first) {
            exp = success(true);
            exp.outcome = *p.first;
            exp.outcome->repeated = true;
        } else {
            exp = p.expect(p.ctx);  // refused before: nothing was stored
        }
        past_command copy = p;
        copy.text = "replay, same key: " + p.text;
        run_and_check(copy, exp);
        p.first = copy.first;
    }

    // The same request under a new key. For a payment callback that was
    // applied, R-16: the duplicate must change nothing.
    void replay_new_key(std::size_t index) {
        past_command q = history_[index];
        const bool applied_callback = q.what == command::record_payment && q.first.has_value();
        q.ctx = f_.as(q.ctx.actor);
        q.first.reset();
        q.text = "replay, new key: " + q.text;
        const expectation exp = q.expect(q.ctx);
        if (applied_callback && !(exp.ok && exp.repeated)) {
            problem("model: a duplicate of an applied callback is expected to change something");
        }
        if (q.callback) {
            q = payment_command(*q.callback, q.ctx);
            q.text = "duplicate callback, new key: " + q.text;
        }
        execute(std::move(q));
    }

    // The same key with another callback: refused, whatever it says.
    void reuse_key_for_other_callback(std::size_t index) {
        const past_command& p = history_[index];
        payment_callback cb = *p.callback;
        cb.amount = cb.amount ? fen(fen_of(*cb.amount) + 1) : fen(1);
        past_command q = payment_command(cb, p.ctx);
        q.text = "same key, other callback: " + q.text;
        run_and_check(q, refusal(errc::idempotency_key_reused, "idempotency_key"));
    }

    void reuse_key_for_other_cancel(std::size_t index) {
        const past_command& p = history_[index];
        const order_id id = *p.target;
        past_command q = p;
        q.run = [this, id](const command_context& c) {
            return f_.engine->cancel_order(c, id, "another reason");
        };
        q.text = "same key, other reason: " + p.text;
        run_and_check(q, refusal(errc::idempotency_key_reused, "idempotency_key"));
    }

    void unknown_order_step() {
        const order_id missing(4242424242ULL);
        past_command p;
        p.target = missing;
        const std::size_t roll = rng_.below(4);
        p.what = roll == 0   ? command::cancel_order
                 : roll == 1 ? command::allocate_order
                 : roll == 2 ? command::record_payment
                             : command::refund_payment;
        p.ctx = context_for(p.what, customer_id("alice"));
        const command what = p.what;
        p.run = [this, what, missing](const command_context& c) -> result<command_outcome> {
            switch (what) {
                case command::cancel_order:
                    return f_.engine->cancel_order(c, missing, "gone");
                case command::allocate_order:
                    return f_.engine->allocate_order(c, missing);
                case command::record_payment: {
                    payment_callback cb;
                    cb.order = missing;
                    cb.gateway_reference = "gw-missing";
                    cb.amount = fen(100);
                    return f_.engine->record_payment(c, cb);
                }
                default:
                    return f_.engine->refund_payment(c, refund_request{missing, fen(100), "x"});
            }
        };
        p.expect = [this, what, missing](const command_context& c) {
            return order_refusal(c, what, missing).value_or(success());
        };
        p.text = "an order that does not exist";
        execute(std::move(p));
    }

    // ---- time, due work, delivery ---------------------------------------------

    void time_step() {
        const std::size_t roll = rng_.below(100);
        const duration step = roll < 70   ? duration(std::chrono::minutes(rng_.between(1, 20)))
                              : roll < 92 ? duration(std::chrono::hours(rng_.between(1, 12)))
                                          : duration(std::chrono::days(rng_.between(1, 8)));
        if (rng_.percent(20)) {
            f_.clock.advance(step);
            text_ = fmt::format("clock +{} min",
                                std::chrono::duration_cast<std::chrono::minutes>(step).count());
            return;
        }
        due_work_step(step);
    }

    void due_work_step(duration step) {
        f_.clock.advance(step);
        const timestamp now = f_.clock.now();
        text_ = fmt::format("clock +{} min, run_due_work",
                            std::chrono::duration_cast<std::chrono::minutes>(step).count());
        std::size_t timeouts = 0;
        std::size_t confirms = 0;
        for (const auto& [id, o_view] : before_.orders) {
            const order& o = *o_view.o;
            if (o.due_at && *o.due_at <= now) {
                step_.due.insert(id);
                timeouts += o.state == order_state::awaiting_payment ? 1U : 0U;
                confirms += o.state == order_state::delivered ? 1U : 0U;
            }
        }
        const std::size_t attempts = f_.notifier.attempts();
        const std::size_t received = seen_received_;
        auto report = f_.engine->run_due_work();
        step_.kind = effect::due_work;
        step_.what = command::run_due_work;
        step_.who = system_actor();
        if (!report) {
            problem("run_due_work failed: {}", to_string(report.error()));
            return;
        }
        const due_work_report r = *report;
        step_.check = [this, r, timeouts, confirms, attempts, received, now](const world& b,
                                                                             const world& a) {
            if (r.payment_timeouts != timeouts || r.auto_confirmed != confirms) {
                problem("due work reported {} timeouts and {} confirmations, {} and {} were due",
                        r.payment_timeouts, r.auto_confirmed, timeouts, confirms);
            }
            check_delivery_report(r, attempts, received);
            for (const order_id id : step_.due) {
                const order& bo = b.get(id);
                const order& ao = a.get(id);
                if (bo.state == order_state::awaiting_payment) {
                    check_moved(b, a, id, order_event::payment_timed_out);
                } else if (bo.state == order_state::delivered) {
                    check_moved(b, a, id, order_event::receipt_confirmed);
                } else if (ao.version != bo.version + 1) {
                    problem("order {} in {} was due but untouched", id, bo.state);
                }
            }
            for (const auto& [id, o_view] : a.orders) {
                const order& o = *o_view.o;
                if (o.due_at && *o.due_at <= now) {
                    problem("order {} ({}) is still due after due work", id, o.state);
                }
            }
        };
    }

    void dispatch_step() {
        text_ = "dispatch_notifications";
        const std::size_t attempts = f_.notifier.attempts();
        const std::size_t received = seen_received_;
        auto report = f_.engine->dispatch_notifications();
        step_.kind = effect::dispatch;
        if (!report) {
            problem("dispatch_notifications failed: {}", to_string(report.error()));
            return;
        }
        const due_work_report r = *report;
        step_.check = [this, r, attempts, received](const world&, const world&) {
            check_delivery_report(r, attempts, received);
        };
    }

    void check_delivery_report(const due_work_report& r, std::size_t attempts,
                               std::size_t received) {
        const std::size_t accepted = seen_received_ - received;
        const std::size_t tried = f_.notifier.attempts() - attempts;
        if (r.delivered != accepted || r.delivered + r.delivery_failures != tried) {
            problem("delivery report {} delivered / {} failed; the notifier accepted {} of {}",
                    r.delivered, r.delivery_failures, accepted, tried);
        }
    }

    // ---- stock ---------------------------------------------------------------

    void receive_step() {
        if (!receipts_.empty() && rng_.percent(25)) {
            // The same receipt again under its key: counted once (R-11).
            stock_command& again = receipts_[rng_.below(receipts_.size())];
            const bool first_time = !again.succeeded;
            text_ = fmt::format("receive_stock replay key '{}' {} x{} in {}",
                                again.ctx.idempotency_key, again.receipt.sku,
                                again.receipt.units.units(), again.receipt.warehouse);
            auto level = f_.engine->receive_stock(again.ctx, again.receipt);
            if (level.has_value() && first_time) {
                step_.kind = effect::stock;
                again.succeeded = true;
                received_[{again.receipt.sku.value(), again.receipt.warehouse.value()}] +=
                    again.receipt.units.units();
            }
            if (!first_time && !level.has_value()) {
                problem("replaying a stored receipt was refused: {}", to_string(level.error()));
            }
            return;
        }
        stock_command c;
        c.receipt = stock_receipt{sku_id(catalogue()[rng_.below(catalogue().size())].code),
                                  warehouse_id(rng_.pick(warehouses)),
                                  quantity::of(rng_.between(1, 15)).value()};
        c.ctx = context_for(command::receive_stock, customer_id("nobody"));
        text_ = fmt::format("receive_stock by {} {} x{} in {}", c.ctx.actor, c.receipt.sku,
                            c.receipt.units.units(), c.receipt.warehouse);
        std::optional<expectation> refused = key_refusal(c.ctx.idempotency_key);
        if (!refused) {
            refused = auth_refusal(c.ctx.actor, command::receive_stock, customer_id("nobody"));
        }
        auto level = f_.engine->receive_stock(c.ctx, c.receipt);
        if (level.has_value()) {
            step_.kind = effect::stock;
            c.succeeded = true;
            received_[{c.receipt.sku.value(), c.receipt.warehouse.value()}] +=
                c.receipt.units.units();
            if (refused) {
                problem("expected refusal {}, the receipt was accepted", refused->code);
            }
        } else {
            check_stock_refusal(level.error(), refused);
        }
        receipts_.push_back(std::move(c));
    }

    void safety_step() {
        const stock_key key{catalogue()[rng_.below(catalogue().size())].code,
                            rng_.pick(warehouses)};
        const std::int64_t units = rng_.between(0, 4);
        const command_context ctx = context_for(command::set_safety_stock, customer_id("nobody"));
        text_ = fmt::format("set_safety_stock by {} {} in {} to {}", ctx.actor, key.first,
                            key.second, units);
        std::optional<expectation> refused = key_refusal(ctx.idempotency_key);
        if (!refused) {
            refused = auth_refusal(ctx.actor, command::set_safety_stock, customer_id("nobody"));
        }
        if (!refused) {
            const auto row = before_.stock.find(key);
            const std::int64_t room = row == before_.stock.end() ? 0
                                                                 : row->second.on_hand.units() -
                                                                       row->second.reserved.units();
            if (room - units < 0) {
                refused = refusal(errc::invalid_value, "units");
            }
        }
        auto level = f_.engine->set_safety_stock(
            ctx, safety_stock_setting{sku_id(key.first), warehouse_id(key.second),
                                      quantity::of(units).value()});
        if (level.has_value()) {
            step_.kind = effect::stock;
            safety_[key] = units;
            if (refused) {
                problem("expected refusal {}, the safety stock was set", refused->code);
            }
        } else {
            check_stock_refusal(level.error(), refused);
        }
    }

    void check_stock_refusal(const error& e, const std::optional<expectation>& refused) {
        text_ += fmt::format(" -> refused {}", to_string(e));
        if (!refused) {
            problem("expected success, got {}", to_string(e));
        } else if (e.code != refused->code || e.field != refused->field) {
            problem("expected refusal {} on '{}', got {}", refused->code, refused->field,
                    to_string(e));
        }
    }

    // ---- what a step may have changed -----------------------------------------

    void check_step(const world& b, const world& a) {
        for (const std::string& e : a.read_errors) {
            problem("store read: {}", e);
        }
        const bool delivering = step_.kind == effect::due_work || step_.kind == effect::dispatch;
        const bool stock_may_change =
            step_.kind != effect::nothing && step_.kind != effect::dispatch;
        if (!stock_may_change && a.stock != b.stock) {
            problem("stock changed in a step that may not change it");
        }
        if (!delivering && a.received != b.received) {
            problem("the notifier received something outside dispatch");
        }
        if (!delivering && a.undelivered < b.undelivered) {
            problem("undelivered count fell outside dispatch");
        }
        std::set<order_id> ids;
        for (const auto& entry : b.orders) {
            ids.insert(entry.first);
        }
        for (const auto& entry : a.orders) {
            ids.insert(entry.first);
        }
        for (const order_id id : ids) {
            const auto bo = b.orders.find(id);
            const auto ao = a.orders.find(id);
            if (ao == a.orders.end()) {
                problem("order {} disappeared", id);
                continue;
            }
            const bool targeted =
                (step_.kind == effect::order_change || step_.kind == effect::placement) &&
                step_.target == id;
            const bool due = step_.kind == effect::due_work && step_.due.count(id) != 0;
            if (bo == b.orders.end()) {
                if (step_.kind != effect::placement || !targeted) {
                    problem("order {} appeared without a placement", id);
                    continue;
                }
                check_changed(id, nullptr, {}, {}, *ao->second.o, a.timeline(id), a.outbox(id),
                              a.now, false);
                continue;
            }
            const order& x = *bo->second.o;
            const order& y = *ao->second.o;
            if (targeted || (due && y.version != x.version)) {
                check_changed(id, &x, b.timeline(id), b.outbox(id), y, a.timeline(id), a.outbox(id),
                              a.now, delivering);
                continue;
            }
            if (ao->second.o != bo->second.o && y != x) {
                problem("order {} changed (version {} -> {}) though the step did not concern it",
                        id, x.version, y.version);
            }
            if (ao->second.timeline != bo->second.timeline && a.timeline(id) != b.timeline(id)) {
                problem("timeline of order {} changed though the step did not concern it", id);
            }
            if (ao->second.outbox != bo->second.outbox) {
                check_outbox_kept(id, b.outbox(id), a.outbox(id), delivering, true);
            }
        }
        if (delivering) {
            std::set<std::uint64_t> now_delivered;
            for (const auto& [id, view] : a.orders) {
                for (const outbox_entry& e : *view.outbox) {
                    if (e.delivered) {
                        now_delivered.insert(e.notification.id);
                    }
                }
            }
            for (const auto& [id, view] : b.orders) {
                for (const outbox_entry& e : *view.outbox) {
                    if (e.delivered) {
                        now_delivered.erase(e.notification.id);
                    }
                }
            }
            if (now_delivered != newly_received_) {
                problem("{} entries were marked delivered, the notifier accepted {}",
                        now_delivered.size(), newly_received_.size());
            }
        }
        if (step_.check) {
            step_.check(b, a);
        }
    }

    // Entries of an order's outbox before the step are all still there; with
    // `exact`, nothing else was added.
    void check_outbox_kept(order_id id, const std::vector<outbox_entry>& before,
                           const std::vector<outbox_entry>& after, bool delivering, bool exact) {
        if (after.size() < before.size() || (exact && after.size() != before.size())) {
            problem("outbox of order {} went from {} to {} entries", id, before.size(),
                    after.size());
            return;
        }
        for (std::size_t i = 0; i < before.size(); ++i) {
            const outbox_entry& x = before[i];
            const outbox_entry& y = after[i];
            if (delivering ? !same_note(x, y) : x != y) {
                problem("outbox entry {} of order {} changed", x.notification.id, id);
            }
            if (x.delivered && !y.delivered) {
                problem("outbox entry {} of order {} is no longer delivered", x.notification.id,
                        id);
            }
        }
    }

    // One order changed by the step: one version, timeline appended by the
    // step's actor at the step's time, and exactly the notifications its
    // changes call for (R-29).
    void check_changed(order_id id, const order* bo, const std::vector<timeline_entry>& bt,
                       const std::vector<outbox_entry>& bout, const order& ao,
                       const std::vector<timeline_entry>& at, const std::vector<outbox_entry>& aout,
                       timestamp now, bool delivering) {
        const actor system = system_actor();
        const std::uint64_t version = bo == nullptr ? 1 : bo->version + 1;
        if (ao.version != version) {
            problem("order {} is at version {}, expected {}", id, ao.version, version);
        }
        if (ao.updated_at != now) {
            problem("order {} updated_at is not the step's time", id);
        }
        if (at.size() < bt.size() || !std::equal(bt.begin(), bt.end(), at.begin())) {
            problem("timeline of order {} was rewritten, not appended to", id);
            return;
        }
        const std::span<const timeline_entry> added(
            at.begin() + static_cast<std::ptrdiff_t>(bt.size()), at.end());
        for (const timeline_entry& e : added) {
            // The automatic review at placement is the system's decision.
            const bool automatic =
                step_.what == command::place_order && e.event == order_event::review_approved;
            const actor& who = automatic ? system : step_.who;
            if (e.at != now || e.actor != who) {
                problem("timeline entry {} of order {} by {} at {}, expected {} at the step's time",
                        e.event, id, e.actor, to_unix_ms(e.at), who);
            }
        }
        check_outbox_kept(id, bout, aout, delivering, false);
        if (aout.size() < bout.size()) {
            return;
        }
        std::multiset<notification_kind> expected;
        for (const timeline_entry& e : added) {
            switch (e.event) {
                case order_event::placed:
                    expected.insert(notification_kind::order_confirmed);
                    break;
                case order_event::review_approved:
                    if (step_.what == command::approve_order) {
                        expected.insert(notification_kind::review_result);
                    }
                    break;
                case order_event::review_rejected:
                    expected.insert(notification_kind::review_result);
                    break;
                case order_event::payment_captured:
                    expected.insert(notification_kind::payment_result);
                    break;
                case order_event::payment_timed_out:
                    expected.insert(notification_kind::payment_timeout);
                    break;
                case order_event::shipped:
                    expected.insert(notification_kind::shipped);
                    break;
                case order_event::delivered:
                    expected.insert(notification_kind::delivered);
                    break;
                case order_event::receipt_confirmed:
                    expected.insert(notification_kind::completed);
                    break;
                case order_event::cancelled:
                    expected.insert(notification_kind::cancelled);
                    break;
                default:
                    break;
            }
        }
        // A cancel after shipment opens a return ticket: the customer and
        // customer service hear of it.
        for (std::size_t i = bo == nullptr ? 0 : bo->tickets.size(); i < ao.tickets.size(); ++i) {
            expected.insert(notification_kind::ticket_submitted);
            expected.insert(notification_kind::ticket_submitted);
        }
        const std::uint32_t failures_before = bo == nullptr ? 0 : bo->payment_failures;
        const std::uint32_t failures_before_step = failures_before;
        for (std::uint32_t i = failures_before; i < ao.payment_failures; ++i) {
            expected.insert(notification_kind::payment_result);  // a failed attempt (R-17)
        }
        std::int64_t refunded = 0;
        for (const payment& p : ao.payments) {
            std::int64_t was = 0;
            if (bo != nullptr) {
                for (const payment& old : bo->payments) {
                    if (old.id == p.id) {
                        was = fen_of(old.refunded);
                    }
                }
            }
            if (fen_of(p.refunded) > was) {
                expected.insert(notification_kind::refund_issued);
                refunded += fen_of(p.refunded) - was;
            }
        }
        std::multiset<notification_kind> written;
        std::int64_t announced_refunds = 0;
        // Detectors open an exception case on a failed or timed-out payment
        // (R-28), at most one per step, and only while none is open for the
        // same cause: counted apart, since whether one was open depends on
        // the operators.
        std::size_t cases_opened = 0;
        for (std::size_t i = bout.size(); i < aout.size(); ++i) {
            const notification& n = aout[i].notification;
            if (n.kind == notification_kind::case_opened) {
                ++cases_opened;
                const bool failed = ao.payment_failures > failures_before_step;
                const bool timed_out =
                    std::any_of(added.begin(), added.end(), [](const timeline_entry& t) {
                        return t.event == order_event::payment_timed_out;
                    });
                if (!failed && !timed_out) {
                    problem(
                        "order {} got a case_opened notification without a payment failure "
                        "or timeout",
                        id);
                }
            } else {
                written.insert(n.kind);
            }
            if (n.order != id || n.number != ao.number || n.created_at != now) {
                problem("new notification {} ({}) does not name order {} at the step's time", n.id,
                        n.kind, id);
            }
            if (!delivering && (aout[i].delivered || aout[i].attempts != 0)) {
                problem("new notification {} already has delivery attempts", n.id);
            }
            if (n.kind == notification_kind::refund_issued) {
                for (const auto& [name, value] : n.details) {
                    if (name == "amount") {
                        auto m = money::parse(value);
                        if (m) {
                            announced_refunds += fen_of(*m);
                        } else {
                            problem("refund notification {} has amount '{}'", n.id, value);
                        }
                    }
                }
            }
            if (n.kind == notification_kind::shipped &&
                std::find(n.details.begin(), n.details.end(),
                          std::pair<std::string, std::string>{
                              "tracking_number", ao.tracking_number}) == n.details.end()) {
                problem("shipped notification {} lacks the tracking number", n.id);
            }
        }
        if (cases_opened > 1) {
            problem("order {} got {} case_opened notifications in one step", id, cases_opened);
        }
        if (written != expected) {
            std::vector<std::string> w;
            std::vector<std::string> e;
            for (const notification_kind k : written) {
                w.emplace_back(to_string(k));
            }
            for (const notification_kind k : expected) {
                e.emplace_back(to_string(k));
            }
            std::vector<std::string> events;
            for (const timeline_entry& t : added) {
                events.push_back(
                    fmt::format("{}:{}->{}", t.event, t.from ? to_string(*t.from) : "-", t.to));
            }
            problem(
                "order {} got notifications [{}], expected [{}] for timeline [{}], failures "
                "{} -> {}, refunds +{}",
                id, fmt::join(w, ","), fmt::join(e, ","), fmt::join(events, ","), failures_before,
                ao.payment_failures, refunded);
        }
        if (announced_refunds != refunded) {
            problem("order {}: refund notifications announce {} fen, refunds grew by {}", id,
                    announced_refunds, refunded);
        }
    }

    // ---- invariants ----------------------------------------------------------

    void check_invariants(const world& w) {
        const machine_model& m = machine();
        std::set<order_id> known(orders_.begin(), orders_.end());
        std::set<order_id> stored;
        std::map<stock_key, std::int64_t> consumed;
        std::map<stock_key, std::int64_t> active;
        std::size_t undelivered = 0;
        std::size_t notes = 0;
        for (const auto& [id, o_view] : w.orders) {
            const order& o = *o_view.o;
            stored.insert(id);
            // An order identical to the previous snapshot's was checked then;
            // its outbox counts are kept from then.
            const bool changed = !w.same_as(before_, id);
            check_reservations(id, o, consumed, active, changed);
            if (!changed) {
                const auto& counts = outbox_counts_[id];
                notes += counts.first;
                undelivered += counts.second;
                continue;
            }
            std::uint64_t last = 0;
            std::pair<std::size_t, std::size_t> counts{0, 0};
            for (const outbox_entry& e : w.outbox(id)) {
                const notification& n = e.notification;
                ++counts.first;
                counts.second += e.delivered ? 0U : 1U;
                // Ids are unique across all orders.
                if (const auto [owner, fresh] = note_owner_.emplace(n.id, id);
                    !fresh && owner->second != id) {
                    problem("notification id {} is used by orders {} and {}", n.id, owner->second,
                            id);
                }
                if (n.order != id) {
                    problem("outbox of order {} holds notification {} of order {}", id, n.id,
                            n.order);
                }
                if (n.id == 0 || n.id <= last) {
                    problem("outbox ids of order {} do not increase: {} after {}", id, n.id, last);
                }
                last = n.id;
                // A new ticket is told to the customer and to customer service.
                const bool staff_ticket =
                    n.kind == notification_kind::ticket_submitted && n.audience == audience::staff;
                // A new exception case is told to operations (R-28).
                const bool case_note = n.kind == notification_kind::case_opened;
                if (case_note      ? (n.audience != audience::staff || n.recipient != "operations")
                    : staff_ticket ? n.recipient != "customer_service"
                    : is_customer_kind(n.kind)
                        ? (n.audience != audience::customer || n.recipient != o.customer.value())
                        : (n.audience != audience::staff || n.recipient != "finance")) {
                    problem("notification {} ({}) goes to {} '{}'", n.id, n.kind, n.audience,
                            n.recipient);
                }
                if (e.delivered != (delivered_ids_.count(n.id) != 0)) {
                    problem("notification {} delivered={} but the notifier {} it", n.id,
                            e.delivered,
                            delivered_ids_.count(n.id) != 0 ? "accepted" : "never accepted");
                }
            }
            outbox_counts_[id] = counts;
            notes += counts.first;
            undelivered += counts.second;
            check_timeline(id, o, w.timeline(id), m);
            check_money(id, o);
            check_due(id, o, w.timeline(id));
        }
        total_notes_ = notes;
        if (stored != known) {
            problem("the store holds {} orders, {} were placed", stored.size(), known.size());
        }
        if (undelivered != w.undelivered) {
            problem("undelivered_count is {}, the outboxes hold {} undelivered", w.undelivered,
                    undelivered);
        }
        // Stock conservation (R-11, R-12).
        std::set<stock_key> keys;
        for (const auto& [key, level] : w.stock) {
            keys.insert(key);
        }
        for (const auto& [key, n] : received_) {
            keys.insert(key);
        }
        for (const auto& [key, n] : active) {
            keys.insert(key);
        }
        for (const stock_key& key : keys) {
            const auto row = w.stock.find(key);
            const std::int64_t came_in = received_.count(key) != 0 ? received_.at(key) : 0;
            const std::int64_t went_out = consumed.count(key) != 0 ? consumed.at(key) : 0;
            const std::int64_t held = active.count(key) != 0 ? active.at(key) : 0;
            const std::int64_t safety = safety_.count(key) != 0 ? safety_.at(key) : 0;
            if (row == w.stock.end()) {
                if (came_in != 0 || held != 0) {
                    problem("no stock row for {}/{}, received {} reserved {}", key.first,
                            key.second, came_in, held);
                }
                continue;
            }
            const stock_level& s = row->second;
            if (s.on_hand.units() != came_in - went_out || s.reserved.units() != held ||
                s.safety.units() != safety || s.available() < 0) {
                problem(
                    "stock {}/{}: on_hand {} reserved {} safety {} available {}; received {} "
                    "shipped {} active reservations {} safety {}",
                    key.first, key.second, s.on_hand.units(), s.reserved.units(), s.safety.units(),
                    s.available(), came_in, went_out, held, safety);
            }
        }
    }

    void check_timeline(order_id id, const order& o, const std::vector<timeline_entry>& tl,
                        const machine_model& m) {
        if (tl.empty()) {
            problem("order {} has no timeline", id);
            return;
        }
        if (tl.front().event != order_event::placed || tl.front().from ||
            tl.front().to != order_state::pending_review) {
            problem("timeline of order {} does not start with its placement", id);
        }
        for (std::size_t i = 1; i < tl.size(); ++i) {
            const timeline_entry& e = tl[i];
            if (!e.from || *e.from != tl[i - 1].to) {
                problem("timeline of order {} breaks at entry {} ({}): from {} after {}", id, i,
                        e.event, e.from ? to_string(*e.from) : "-", tl[i - 1].to);
                continue;
            }
            if (m.rows.count({*e.from, e.event, e.to}) == 0) {
                problem("timeline of order {}: {} --{}--> {} is no row of the machine", id, *e.from,
                        e.event, e.to);
            }
            if (e.at < tl[i - 1].at) {
                problem("timeline of order {} goes back in time at entry {}", id, i);
            }
        }
        if (tl.back().to != o.state) {
            problem("order {} is {}, its timeline ends in {}", id, o.state, tl.back().to);
        }
        if (m.reachable.count(o.state) == 0) {
            problem("order {} is in {}, unreachable from pending_review", id, o.state);
        }
        if (o.state == order_state::on_hold &&
            (tl.back().event != order_event::held || tl.back().from != o.held_from)) {
            problem("order {} on hold remembers {}, its timeline says otherwise", id, o.held_from);
        }
    }

    // Adds the order's reservations to the stock totals; for a changed
    // order also checks them against its lines and state (R-12).
    void check_reservations(order_id id, const order& o,
                            std::map<stock_key, std::int64_t>& consumed,
                            std::map<stock_key, std::int64_t>& active, bool changed) {
        for (const reservation& r : o.reservations) {
            if (r.state == reservation_state::consumed || r.active()) {
                auto& total = r.active() ? active : consumed;
                total[stock_key{r.sku.value(), r.warehouse.value()}] += r.units.units();
            }
        }
        if (!changed) {
            return;
        }
        std::map<std::string, std::int64_t> ordered;
        for (const order_line& l : o.lines) {
            ordered[l.sku.value()] += l.units.units();
        }
        std::map<std::string, std::int64_t> reserved;
        const reservation_state expected = reservation_rule(effective_state(o));
        for (const reservation& r : o.reservations) {
            reserved[r.sku.value()] += r.units.units();
            if (r.state != expected) {
                problem("order {} in {} (held from {}) has a {} reservation of {}, expected {}", id,
                        o.state, o.held_from, r.state, r.sku, expected);
            }
        }
        if (ordered != reserved) {
            problem("order {}: reservations do not cover its lines", id);
        }
    }

    void check_money(order_id id, const order& o) {
        std::int64_t subtotal = 0;
        std::int64_t discounts = 0;
        for (const order_line& l : o.lines) {
            subtotal += fen_of(l.unit_price) * l.units.units();
            discounts += fen_of(l.discount);
        }
        if (fen_of(o.subtotal) != subtotal || discounts != fen_of(o.discount) ||
            fen_of(o.total) != subtotal - fen_of(o.discount) + fen_of(o.shipping_fee)) {
            problem("order {}: the money does not add up (R-18)", id);
        }
        std::set<payment_id> ids;
        bool authorized_left = false;
        for (const payment& p : o.payments) {
            const std::int64_t captured = fen_of(p.captured);
            const std::int64_t refunded = fen_of(p.refunded);
            if (!ids.insert(p.id).second) {
                problem("order {} has payment id {} twice", id, p.id);
            }
            bool consistent = refunded >= 0 && refunded <= captured;
            switch (p.state) {
                case payment_state::pending:
                    consistent = false;  // a callback always moves a new payment
                    break;
                case payment_state::authorized:
                    consistent = consistent && captured == 0 && p.authorized.is_positive();
                    authorized_left = true;
                    break;
                case payment_state::captured:
                    consistent = consistent && captured > 0 && refunded == 0;
                    break;
                case payment_state::partially_refunded:
                    consistent = consistent && refunded > 0 && refunded < captured;
                    break;
                case payment_state::refunded:
                    consistent = consistent && captured > 0 && refunded == captured;
                    break;
                case payment_state::failed:
                case payment_state::voided:
                    consistent = consistent && captured == 0;
                    break;
            }
            if (!consistent) {
                problem("order {} payment '{}' is {} with authorized {} captured {} refunded {}",
                        id, p.gateway_reference, p.state, p.authorized.to_string(),
                        p.captured.to_string(), p.refunded.to_string());
            }
        }
        const std::int64_t net = net_captured(o);
        if (net < 0 || net > fen_of(o.total)) {
            problem("order {} ({}) holds {} fen net of its {} total: more than is due", id, o.state,
                    net, o.total.to_string());
        }
        // Once paid in full, no other authorization keeps the customer's funds blocked.
        if (authorized_left && o.method != payment_method::cash_on_delivery &&
            in(o.state, {order_state::paid, order_state::allocating, order_state::packed,
                         order_state::shipped, order_state::delivered, order_state::completed,
                         order_state::closed})) {
            problem("paid order {} ({}) still holds an open authorization", id, o.state);
        }
        if (o.state == order_state::cancelled && (net != 0 || authorized_left)) {
            problem("cancelled order {} still holds {} fen{}", id, net,
                    authorized_left ? " and an open authorization" : "");
        }
        if (o.method == payment_method::cash_on_delivery) {
            const bool collected =
                in(o.state, {order_state::delivered, order_state::completed, order_state::closed});
            if (o.payments.size() != (collected ? 1U : 0U) ||
                (collected && (o.payments.front().method != payment_method::cash_on_delivery ||
                               fen_of(o.payments.front().captured) != fen_of(o.total)))) {
                problem("cash-on-delivery order {} in {} has {} payments", id, o.state,
                        o.payments.size());
            }
        }
    }

    void check_due(order_id id, const order& o, const std::vector<timeline_entry>& tl) {
        const bool wants_deadline =
            o.state == order_state::awaiting_payment || o.state == order_state::delivered;
        if (o.due_at.has_value() != wants_deadline) {
            problem("order {} in {} {} a deadline", id, o.state, o.due_at ? "has" : "lacks");
        }
        if (o.state == order_state::delivered && o.due_at && !tl.empty() &&
            *o.due_at != tl.back().at + auto_confirm_after) {
            problem("delivered order {} auto-confirms at the wrong time", id);
        }
    }

    // ---- the end ---------------------------------------------------------------

    // The channel comes back: everything is delivered, each exactly once.
    bool drain() {
        const std::size_t base = steps_;
        if (!one_step(base, [this] {
                failing_ = false;
                f_.notifier.failing(false);
                due_work_step(std::chrono::days(8));
            })) {
            return false;
        }
        for (std::size_t i = 1; i < 64 && before_.undelivered > 0; ++i) {
            if (!one_step(base + i, [this] {
                    f_.clock.advance(std::chrono::minutes(31));
                    dispatch_step();
                })) {
                return false;
            }
        }
        std::set<std::uint64_t> all;
        std::size_t entries = 0;
        for (const auto& [id, view] : before_.orders) {
            for (const outbox_entry& e : *view.outbox) {
                all.insert(e.notification.id);
                ++entries;
                if (!e.delivered) {
                    checker_.fail(fmt::format("seed {}: notification {} never delivered", seed_,
                                              e.notification.id));
                }
            }
        }
        const auto received = f_.notifier.received();
        std::set<std::uint64_t> got;
        for (const notification& n : received) {
            got.insert(n.id);
        }
        checker_.check(before_.undelivered == 0,
                       fmt::format("seed {}: {} notifications left undelivered after the drain",
                                   seed_, before_.undelivered));
        checker_.check(received.size() == entries,
                       fmt::format("seed {}: the notifier accepted {} notifications, the outboxes "
                                   "hold {} (none may come twice)",
                                   seed_, received.size(), entries));
        checker_.check(got == all, fmt::format("seed {}: the notifier accepted other "
                                               "notifications than the outboxes hold",
                                               seed_));
        return before_.undelivered == 0 && received.size() == entries && got == all;
    }

    conformance_checker& checker_;
    std::uint64_t seed_;
    std::size_t steps_;
    prng rng_;
    engine_rig f_;
    std::vector<actor> actors_;
    world before_;
    step_info step_;
    std::string text_;
    std::vector<std::string> problems_;
    std::vector<order_id> orders_;
    std::vector<past_command> history_;
    std::vector<stock_command> receipts_;
    std::map<stock_key, std::int64_t> received_;
    std::map<stock_key, std::int64_t> safety_;
    std::set<std::uint64_t> delivered_ids_;
    std::map<std::uint64_t, order_id> note_owner_;  // notification id -> its order
    std::map<order_id, std::pair<std::size_t, std::size_t>> outbox_counts_;  // entries, undelivered
    std::set<std::uint64_t> newly_received_;
    std::size_t seen_received_{0};
    std::size_t seen_attempts_{0};
    std::size_t total_notes_{0};
    std::size_t gateway_refs_{0};
    std::size_t tracking_{0};
    bool failing_{false};
    std::string coverage_;
    bool trace_{false};
    std::map<std::string, std::size_t> refusal_codes_;
    std::map<std::string, std::pair<std::size_t, std::size_t>> tally_;
};

}  // namespace engine_model

// ---- scenarios: the engine over the store -------------------------------------------------

inline void engine_random_commands(const store_factory& make, const conformance_options& options,
                                   conformance_checker& c) {
    engine_model::scenario run(make, c, options.seed, options.random_steps, options.trace);
    const bool passed = run.run();
    c.note(run.summary());
    c.check(passed,
            fmt::format("the engine scenario broke an invariant; replay with "
                        "ORDERLY_SEED={} ORDERLY_STEPS={} (ORDERLY_TRACE=1 prints the steps)",
                        options.seed, options.random_steps));
}

inline void engine_hot_sku(const store_factory& make, const conformance_options& options,
                           conformance_checker& c) {
    constexpr std::int64_t stock = 1000;
    constexpr std::size_t max_orders_per_thread = 2000;  // ends at the first refusal long before
    const std::size_t threads = thread_count(options);
    engine_rig f(make, c);
    f.stock_up("hot", "12.50", stock, "wh-hz", false);
    std::atomic<std::int64_t> reserved_by_success{0};
    std::atomic<std::size_t> successes{0};
    std::atomic<std::size_t> refusals{0};
    on_threads(threads, [&](std::size_t t) {
        prng random(options.seed + t);
        const actor buyer{fmt::format("c{}", t), role::customer};
        for (std::size_t i = 0; i < max_orders_per_thread; ++i) {
            const std::int64_t n = random.between(1, 3);
            place_order_request r;
            r.customer = customer_id(buyer.id);
            r.ship_to = home_address();
            r.lines.push_back(line_request{sku_id("hot"), units(n), cny(1250)});
            const auto placed =
                f.engine->place_order(command_context{buyer, fmt::format("t{}-{}", t, i)}, r);
            if (placed.has_value()) {
                reserved_by_success += n;
                ++successes;
            } else if (placed.error().code == errc::insufficient_stock) {
                ++refusals;  // at most 2 units are left now, and never more later
                return;
            } else {
                c.fail(
                    fmt::format("place_order on a hot SKU was refused with {}, expected "
                                "insufficient_stock",
                                to_string(placed.error())));
                return;
            }
        }
    });
    const auto level = stock_of(f.store, c, "hot", "wh-hz");
    c.require(level.has_value(), "the hot SKU's stock row disappeared");
    c.check(level->reserved.units() + level->available() == stock,
            fmt::format("reserved {} + available {} is not the {} received",
                        level->reserved.units(), level->available(), stock));
    c.check(level->reserved.units() == reserved_by_success.load(),
            fmt::format("reserved is {}, the placed orders reserved {}", level->reserved.units(),
                        reserved_by_success.load()));
    c.check(level->available() >= 0 && level->available() < 3,
            fmt::format("{} units available after every thread was refused", level->available()));
    c.check(refusals.load() == threads, "not every thread ran out of stock");
    const auto ids = in_state(f.store, c, order_state::awaiting_payment);
    expect_equal(c, ids.size(), successes.load(), "orders awaiting payment");
    std::int64_t held = 0;
    for (const std::uint64_t id : ids) {
        const auto o = load(f.store, c, id);
        for (const reservation& r : o ? o->reservations : std::vector<reservation>{}) {
            held += r.active() ? r.units.units() : 0;
        }
    }
    c.check(held == reserved_by_success.load(),
            fmt::format("the orders hold {} units, {} were reserved for them", held,
                        reserved_by_success.load()));
}

// ---- exception cases and the archive: values and helpers ---------------------------------

/// A case timeline entry.
inline case_entry case_step(std::int64_t at, case_event event, std::optional<case_state> from,
                            case_state to, std::string note = {}, actor who = system_actor()) {
    return case_entry{.at = at_ms(at),
                      .actor = std::move(who),
                      .event = event,
                      .from = from,
                      .to = to,
                      .note = std::move(note)};
}

/// A cause key with the characters SQL's LIKE treats specially, Unicode and
/// quotes, so a store that matches keys by pattern or folds case fails.
inline const std::string tricky_cause =
    "logistics_damage:shipment:9223372036854775807 «100%_» '\\'";

/// A case with every field set to something other than its default: every
/// optional set, three notes (one empty, two at the same instant), a timeline
/// of several actors with and without a state before, an escalation count
/// beyond 2^31, Unicode text, ids beyond 2^62 and dates before the epoch.
inline exception_case rich_case(std::uint64_t id) {
    constexpr std::int64_t opened = 1'796'000'000'000;
    const actor agent{"agent-珍", role::customer_service};
    const actor admin{"root", role::admin};
    return exception_case{
        .id = case_id(id),
        .version = 1,
        .type = case_type::logistics_damage,
        .priority = case_priority::urgent,
        .state = case_state::escalated,
        .escalated_from = case_state::in_progress,
        .cause_key = tricky_cause,
        .title = tricky_text,
        .order = order_id((std::uint64_t{1} << 62) + 5),
        .shipment = shipment_id((std::uint64_t{1} << 63) - 1),
        .ticket = ticket_id((std::uint64_t{1} << 62) + 77),
        .sku = sku_id("SKU-TEA"),
        .warehouse = warehouse_id("WH-东"),
        .carrier = carrier_id("sf-express"),
        .merchant = merchant_id("merchant-7"),
        .owner = "agent-珍",
        .notes = {case_note{.at = at_ms(opened + 500), .author = agent, .text = tricky_text},
                  case_note{.at = at_ms(opened + 500), .author = admin, .text = ""},
                  case_note{.at = at_ms(-1), .author = system_actor(), .text = "line 1\nline 2"}},
        .timeline = {case_step(opened, case_event::opened, std::nullopt, case_state::open,
                               "parcel arrived crushed"),
                     case_step(opened + 1000, case_event::acknowledged, case_state::open,
                               case_state::acknowledged, "", agent),
                     case_step(opened + 2000, case_event::work_started, case_state::acknowledged,
                               case_state::in_progress, tricky_text, agent),
                     case_step(opened + 2000, case_event::deadline_passed, case_state::in_progress,
                               case_state::escalated, "response late")},
        .resolution = "replaced «box» 100%",
        .resolution_code = "replaced_item",
        .escalations = 4'000'000'000U,
        .opened_at = at_ms(opened),
        .updated_at = at_ms(opened + 2000),
        .due_at = at_ms(opened + 3'600'000),
        .resolved_at = at_ms(-5000),
        .closed_at = at_ms(opened + 7)};
}

/// An open case opened by the system, its optionals all unset, with its
/// first timeline entry.
inline exception_case plain_case(std::uint64_t id, std::uint64_t version = 1,
                                 case_state state = case_state::open, std::string cause_key = {},
                                 std::optional<timestamp> due_at = std::nullopt) {
    return exception_case{
        .id = case_id(id),
        .version = version,
        .type = case_type::other,
        .priority = case_priority::normal,
        .state = state,
        .escalated_from = case_state::open,
        .cause_key = std::move(cause_key),
        .title = "plain",
        .order = std::nullopt,
        .shipment = std::nullopt,
        .ticket = std::nullopt,
        .sku = sku_id(),
        .warehouse = warehouse_id(),
        .carrier = carrier_id(),
        .merchant = merchant_id(),
        .owner = {},
        .notes = {},
        .timeline = {case_step(1000, case_event::opened, std::nullopt, case_state::open)},
        .resolution = {},
        .resolution_code = {},
        .escalations = 0,
        .opened_at = at_ms(1000),
        .updated_at = at_ms(1000),
        .due_at = due_at,
        .resolved_at = std::nullopt,
        .closed_at = std::nullopt};
}

/// A case timeline as text.
inline std::string case_timeline_text(const std::vector<case_entry>& entries) {
    std::vector<std::string> parts;
    parts.reserve(entries.size());
    for (const case_entry& e : entries) {
        parts.push_back(fmt::format("{}@{}:{}->{} by {} '{}'", e.event, to_unix_ms(e.at),
                                    e.from ? to_string(*e.from) : "-", e.to, e.actor, e.note));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

/// Case notes as text.
inline std::string case_notes_text(const std::vector<case_note>& notes) {
    std::vector<std::string> parts;
    parts.reserve(notes.size());
    for (const case_note& n : notes) {
        parts.push_back(fmt::format("@{} by {} '{}'", to_unix_ms(n.at), n.author, n.text));
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

/// Which fields of two cases differ, field by field.
inline std::string case_difference(const exception_case& e, const exception_case& a) {
    difference d;
    d.field("id", e.id, a.id);
    d.field("version", e.version, a.version);
    d.field("type", e.type, a.type);
    d.field("priority", e.priority, a.priority);
    d.field("state", e.state, a.state);
    d.field("escalated_from", e.escalated_from, a.escalated_from);
    d.field("cause_key", e.cause_key, a.cause_key);
    d.field("title", e.title, a.title);
    d.field("order", e.order, a.order);
    d.field("shipment", e.shipment, a.shipment);
    d.field("ticket", e.ticket, a.ticket);
    d.field("sku", e.sku, a.sku);
    d.field("warehouse", e.warehouse, a.warehouse);
    d.field("carrier", e.carrier, a.carrier);
    d.field("merchant", e.merchant, a.merchant);
    d.field("owner", e.owner, a.owner);
    if (e.notes != a.notes) {
        d.field("notes", case_notes_text(e.notes), case_notes_text(a.notes));
    }
    if (e.timeline != a.timeline) {
        d.field("timeline", case_timeline_text(e.timeline), case_timeline_text(a.timeline));
    }
    d.field("resolution", e.resolution, a.resolution);
    d.field("resolution_code", e.resolution_code, a.resolution_code);
    d.field("escalations", e.escalations, a.escalations);
    d.field("opened_at", e.opened_at, a.opened_at);
    d.field("updated_at", e.updated_at, a.updated_at);
    d.field("due_at", e.due_at, a.due_at);
    d.field("resolved_at", e.resolved_at, a.resolved_at);
    d.field("closed_at", e.closed_at, a.closed_at);
    return d.text();
}

inline result<void> commit_case(store& s, conformance_checker& c, const exception_case& x) {
    writes w(begin(s, c));
    w << w.tx().put_case(x);
    return w.commit();
}

inline void put(store& s, conformance_checker& c, const exception_case& x,
                here where = here::current()) {
    c.need(commit_case(s, c, x), fmt::format("committing case {} at version {}", x.id, x.version),
           where);
}

inline std::optional<exception_case> load_case(store& s, conformance_checker& c, std::uint64_t id,
                                               here where = here::current()) {
    return c.need(s.load_case(case_id(id)), fmt::format("load_case({})", id), where);
}

inline void expect_case(conformance_checker& c, const std::optional<exception_case>& actual,
                        const exception_case& expected, std::string_view what,
                        here where = here::current()) {
    if (!actual) {
        c.fail(fmt::format("{}: case {} is missing", what, expected.id), where);
    } else if (*actual != expected) {
        c.fail(fmt::format("{}: case {} differs: {}", what, expected.id,
                           case_difference(expected, *actual)),
               where);
    }
}

inline void expect_stored(conformance_checker& c, store& s, const exception_case& expected,
                          std::string_view what, here where = here::current()) {
    expect_case(c, load_case(s, c, expected.id.value(), where), expected, what, where);
}

inline void expect_no_case(conformance_checker& c, store& s, std::uint64_t id,
                           std::string_view what, here where = here::current()) {
    c.check(!load_case(s, c, id, where).has_value(),
            fmt::format("{}: case {} should not exist", what, id), where);
}

/// The live case find_live_case returns for `key`, read in a fresh transaction.
inline std::optional<exception_case> live_case(store& s, conformance_checker& c,
                                               std::string_view key, here where = here::current()) {
    auto tx = begin(s, c, where);
    return c.need(tx->find_live_case(key), fmt::format("find_live_case('{}')", key), where);
}

/// The id of the live case for `key`, or 0 when find_live_case finds none.
inline std::uint64_t live_case_id(store& s, conformance_checker& c, std::string_view key,
                                  here where = here::current()) {
    const auto found = live_case(s, c, key, where);
    return found ? found->id.value() : 0;
}

inline std::vector<std::uint64_t> raw(const std::vector<case_id>& ids) {
    std::vector<std::uint64_t> values;
    values.reserve(ids.size());
    for (const case_id id : ids) {
        values.push_back(id.value());
    }
    return values;
}

inline std::vector<std::uint64_t> in_state(store& s, conformance_checker& c, case_state state,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.cases_in_state(state, case_id(after), limit),
                      fmt::format("cases_in_state({}, {}, {})", state, after, limit), where));
}

inline std::vector<std::uint64_t> due_cases(store& s, conformance_checker& c, std::int64_t now_ms,
                                            std::size_t limit = 100000,
                                            here where = here::current()) {
    return raw(c.need(s.due_cases(at_ms(now_ms), limit),
                      fmt::format("due_cases({} ms, {})", now_ms, limit), where));
}

inline std::vector<std::uint64_t> archived(store& s, conformance_checker& c,
                                           std::uint64_t after = 0, std::size_t limit = 100000,
                                           here where = here::current()) {
    return raw(c.need(s.archived_orders(order_id(after), limit),
                      fmt::format("archived_orders({}, {})", after, limit), where));
}

inline result<void> commit_archive(store& s, conformance_checker& c, std::uint64_t id,
                                   std::uint64_t version) {
    writes w(begin(s, c));
    w << w.tx().archive_order(order_id(id), version);
    return w.commit();
}

// ---- scenarios: exception cases -------------------------------------------------------------

inline void case_round_trip(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const exception_case full = rich_case(701);
    const exception_case sparse = plain_case(702);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_case(full), "put_case of a case with every field set");
        c.need(tx->put_case(sparse), "put_case of a case with no optional set");
        c.need(tx->commit(), "commit of two new cases");
    }
    for (const exception_case* x : {&full, &sparse}) {
        expect_stored(c, *s, *x, "load_case after the insert");
        auto tx = begin(*s, c);
        expect_case(c, c.need(tx->find_case(x->id), "find_case"), *x, "find_case after the insert");
    }
    // Replacing keeps every field too, including ones that became empty or set.
    exception_case next = full;
    next.version = 2;
    next.state = case_state::closed;
    next.escalated_from = case_state::open;
    next.priority = case_priority::low;
    next.order.reset();
    next.shipment.reset();
    next.ticket.reset();
    next.sku = sku_id();
    next.owner.clear();
    next.notes.pop_back();
    next.timeline.push_back(
        case_step(1'797'000'000'000, case_event::closed, case_state::resolved, case_state::closed));
    next.resolution.clear();
    next.escalations = 0;
    next.due_at.reset();
    next.resolved_at.reset();
    next.closed_at = at_ms(1'797'000'000'000);
    exception_case next_sparse = sparse;
    next_sparse.version = 2;
    next_sparse.type = case_type::after_sales_overdue;
    next_sparse.priority = case_priority::high;
    next_sparse.state = case_state::acknowledged;
    next_sparse.cause_key = "after_sales_overdue:ticket:9";
    next_sparse.ticket = ticket_id(9);
    next_sparse.order = order_id(0);  // set, even to zero
    next_sparse.merchant = merchant_id("m-东");
    next_sparse.owner = "cs-1";
    next_sparse.notes = {case_note{.at = at_ms(2000),
                                   .author = actor{"cs-1", role::customer_service},
                                   .text = "called the customer"}};
    next_sparse.due_at = at_ms(0);
    next_sparse.resolved_at = at_ms(1500);
    {
        auto tx = begin(*s, c);
        c.need(tx->put_case(next), "put_case of version 2");
        c.need(tx->put_case(next_sparse), "put_case of version 2 with optionals set");
        c.need(tx->commit(), "commit of two replacements");
    }
    expect_stored(c, *s, next, "load_case after the replacement");
    expect_stored(c, *s, next_sparse, "load_case after the replacement");
    // Every type reads back, the newest ones included (a reader's bound).
    std::vector<exception_case> typed;
    for (const case_type type : all_case_types) {
        exception_case k = plain_case(710 + static_cast<std::uint64_t>(type));
        k.type = type;
        typed.push_back(std::move(k));
    }
    {
        auto tx = begin(*s, c);
        for (const exception_case& k : typed) {
            c.need(tx->put_case(k), "put_case of a case of each type");
        }
        c.need(tx->commit(), "commit of a case of each type");
    }
    for (const exception_case& k : typed) {
        expect_stored(c, *s, k, fmt::format("a case of type {}", to_string(k.type)));
    }
    expect_no_case(c, *s, 703, "a case never put");
    auto tx = begin(*s, c);
    c.check(!c.need(tx->find_case(case_id(703)), "find_case").has_value(),
            "find_case of a case never put returned one");
}

inline void case_versions(const store_factory& make, const conformance_options& /*options*/,
                          conformance_checker& c) {
    const auto s = fresh(make, c);
    const exception_case first = plain_case(7);
    put(*s, c, first);
    c.check(commit_case(*s, c, plain_case(5, 0)).has_error(), "put_case of version 0 was accepted");
    expect_no_case(c, *s, 5, "after a refused version 0");
    c.refused(commit_case(*s, c, plain_case(7, 1, case_state::acknowledged)), errc::conflict,
              "case.id", "inserting version 1 of a case that exists");
    expect_stored(c, *s, first, "after a refused duplicate insert");

    const exception_case second = plain_case(7, 2, case_state::acknowledged);
    c.succeeded(commit_case(*s, c, second), "version 2 over a stored version 1");
    expect_stored(c, *s, second, "after the replacement");
    c.refused(commit_case(*s, c, plain_case(7, 2, case_state::in_progress)), errc::conflict,
              "case.version", "a stale version 2 over a stored version 2");
    c.refused(commit_case(*s, c, plain_case(7, 4, case_state::in_progress)), errc::conflict,
              "case.version", "version 4 over a stored version 2");
    expect_stored(c, *s, second, "after refused stale and future versions");

    c.refused(commit_case(*s, c, plain_case(8, 2)), errc::conflict, "case.version",
              "version 2 of a case that does not exist");
    expect_no_case(c, *s, 8, "after a refused replacement of a missing case");
    expect_equal(c, in_state(*s, c, case_state::in_progress), std::vector<std::uint64_t>{},
                 "cases_in_state(in_progress) after refused writes");
    expect_equal(c, in_state(*s, c, case_state::open), std::vector<std::uint64_t>{},
                 "cases_in_state(open) after the only case left it");

    const exception_case third = plain_case(7, 3, case_state::in_progress);
    c.succeeded(commit_case(*s, c, third), "version 3 over a stored version 2");
    expect_stored(c, *s, third, "after the second replacement");

    // Orders, tickets and cases are separate records: equal ids never clash.
    writes w(begin(*s, c));
    w << w.tx().put_order(plain_order(7)) << w.tx().put_ticket(plain_ticket(7))
      << w.tx().put_case(plain_case(8));
    c.succeeded(w.commit(), "order and ticket 7 beside case 7, and case 8");
    expect_stored(c, *s, third, "after an order and a ticket with its id were put");
    expect_stored(c, *s, plain_case(8), "a case put beside records with other ids");
    expect_stored(c, *s, plain_ticket(7), "a ticket put beside a case with its id");
}

inline void case_cause_keys(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const std::string key = "payment_timeout:order:123";
    put(*s, c, plain_case(1, 1, case_state::open, key));
    c.refused(commit_case(*s, c, plain_case(2, 1, case_state::open, key)), errc::conflict,
              "case.cause_key", "a second open case for a cause that has a live case");
    expect_no_case(c, *s, 2, "after a refused second case for one cause");
    // Every state but closed is live and keeps the cause, for new cases in any live state.
    std::uint64_t version = 1;
    for (const case_state live : {case_state::acknowledged, case_state::in_progress,
                                  case_state::resolved, case_state::escalated}) {
        put(*s, c, plain_case(1, ++version, live, key));
        c.refused(commit_case(*s, c, plain_case(2, 1, live, key)), errc::conflict, "case.cause_key",
                  fmt::format("a second {} case while the first is {}", live, live));
    }
    expect_no_case(c, *s, 2, "after refused second cases in every live state");
    // Keys are compared exactly: a prefix, an extension or other letter case is another cause.
    std::uint64_t other_id = 10;
    for (const std::string& other : {std::string("payment_timeout:order:12"), key + "4",
                                     std::string("PAYMENT_TIMEOUT:order:123"), key + " "}) {
        c.succeeded(commit_case(*s, c, plain_case(++other_id, 1, case_state::open, other)),
                    fmt::format("a live case for '{}' beside one for '{}'", other, key));
    }
    // Cases opened by hand have no cause and never conflict.
    put(*s, c, plain_case(30, 1, case_state::open, ""));
    put(*s, c, plain_case(31, 1, case_state::open, ""));
    // A closed case never holds its key, so closed cases of one cause pile up freely.
    put(*s, c, plain_case(32, 1, case_state::closed, key));
    put(*s, c, plain_case(1, ++version, case_state::closed, key));
    c.succeeded(commit_case(*s, c, plain_case(2, 1, case_state::open, key)),
                "a new case for a cause whose live case was closed");
    expect_equal(c, live_case_id(*s, c, key), std::uint64_t{2},
                 "find_live_case after the new case");
    c.refused(commit_case(*s, c, plain_case(1, version + 1, case_state::open, key)), errc::conflict,
              "case.cause_key", "reopening a closed case whose cause has a new case");
    expect_equal(c, load_case(*s, c, 1).value_or(plain_case(1, 0)).state, case_state::closed,
                 "the closed case after a refused reopening");

    // Two live cases for one cause in one transaction: refused, and nothing is written.
    {
        writes w(begin(*s, c));
        w << w.tx().put_case(plain_case(40, 1, case_state::open, "k2"))
          << w.tx().put_case(plain_case(41, 1, case_state::escalated, "k2"))
          << w.tx().put_order(plain_order(40));
        c.refused(w.commit(), errc::conflict, "case.cause_key",
                  "two live cases for one cause in one transaction");
    }
    expect_no_case(c, *s, 40, "after two cases for one cause were refused");
    expect_no_case(c, *s, 41, "after two cases for one cause were refused");
    expect_absent(c, *s, 40, "the order written beside two cases for one cause");
    expect_equal(c, live_case_id(*s, c, "k2"), std::uint64_t{0},
                 "find_live_case('k2') after the refused transaction");
    put(*s, c, plain_case(42, 1, case_state::open, "k2"));

    // Closing the holder and opening its successor in one transaction hands the key over.
    {
        writes w(begin(*s, c));
        w << w.tx().put_case(plain_case(2, 2, case_state::closed, key))
          << w.tx().put_case(plain_case(43, 1, case_state::open, key));
        c.succeeded(w.commit(), "closing a cause's case and opening its successor at once");
    }
    expect_equal(c, live_case_id(*s, c, key), std::uint64_t{43},
                 "find_live_case after the key was handed over");
    // A case that changes its key gives the old one up.
    put(*s, c, plain_case(43, 2, case_state::open, "k3"));
    c.succeeded(commit_case(*s, c, plain_case(44, 1, case_state::open, key)),
                "a case for a cause whose case moved to another key");
    c.refused(commit_case(*s, c, plain_case(45, 1, case_state::open, "k3")), errc::conflict,
              "case.cause_key", "a case for the key a case moved to");
    expect_equal(c, live_case_id(*s, c, "k3"), std::uint64_t{43}, "find_live_case('k3')");
    expect_equal(c, live_case_id(*s, c, key), std::uint64_t{44}, "find_live_case after the move");
}

inline void find_live_cases(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const exception_case rich = rich_case(801);
    put(*s, c, rich);
    put(*s, c, plain_case(802, 1, case_state::open, ""));
    put(*s, c, plain_case(803, 1, case_state::closed, "closed:cause"));
    expect_case(c, live_case(*s, c, tricky_cause), rich, "find_live_case of a tricky key");
    for (const std::string& missing :
         {std::string(), std::string("closed:cause"), tricky_cause.substr(0, 20), std::string("%"),
          std::string("logistics_damage:%"), tricky_cause + "x"}) {
        c.check(!live_case(*s, c, missing).has_value(),
                fmt::format("find_live_case('{}') found a case", missing));
    }
    // A resolved case is still live (it may be reopened); a closed one is not.
    exception_case resolved = rich;
    resolved.version = 2;
    resolved.state = case_state::resolved;
    resolved.due_at.reset();
    put(*s, c, resolved);
    expect_case(c, live_case(*s, c, tricky_cause), resolved, "find_live_case of a resolved case");
    exception_case closed = resolved;
    closed.version = 3;
    closed.state = case_state::closed;
    put(*s, c, closed);
    c.check(!live_case(*s, c, tricky_cause).has_value(),
            "find_live_case found the cause's case after it was closed");
    expect_stored(c, *s, closed, "load_case of the closed case");
    const exception_case successor = plain_case(804, 1, case_state::escalated, tricky_cause);
    put(*s, c, successor);
    expect_case(c, live_case(*s, c, tricky_cause), successor,
                "find_live_case of the cause's new case");
}

inline void cases_in_state_index(const store_factory& make, const conformance_options& /*options*/,
                                 conformance_checker& c) {
    const auto s = fresh(make, c);
    std::vector<std::uint64_t> open;
    std::vector<exception_case> cases;
    for (std::uint64_t i = 1; i <= 40; ++i) {
        const bool odd = i % 2 == 1;
        cases.push_back(plain_case(i * 89, 1, odd ? case_state::open : case_state::acknowledged,
                                   fmt::format("cause:{}", i)));
        if (odd) {
            open.push_back(i * 89);
        }
    }
    // Ids whose text order differs from their numeric order, and the largest ones.
    for (const std::uint64_t id : {std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{100},
                                   (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1}) {
        cases.push_back(plain_case(id, 1, case_state::open));
        open.push_back(id);
    }
    std::sort(open.begin(), open.end());
    for (std::size_t from = 0; from < cases.size(); from += 15) {
        auto tx = begin(*s, c);
        for (std::size_t i = from; i < std::min(cases.size(), from + 15); ++i) {
            c.need(tx->put_case(cases[i]), "put_case");
        }
        c.need(tx->commit(), "commit of 15 cases");
    }
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            open.begin() + static_cast<std::ptrdiff_t>(std::min(from, open.size())),
            open.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, open.size())));
    };
    const case_state o = case_state::open;
    expect_equal(c, in_state(*s, c, o, 0, 1000), open,
                 "cases_in_state: every id in the state, ascending");
    expect_equal(c, in_state(*s, c, o, 0, 3), slice(0, 3), "cases_in_state with limit 3");
    expect_equal(c, in_state(*s, c, o, open[3], 2), slice(4, 2),
                 "cases_in_state after an id in the list (exclusive)");
    expect_equal(c, in_state(*s, c, o, open[3] + 1, 2), slice(4, 2),
                 "cases_in_state after an id not in the list");
    const auto above_100 = static_cast<std::size_t>(
        std::upper_bound(open.begin(), open.end(), std::uint64_t{100}) - open.begin());
    expect_equal(c, in_state(*s, c, o, 100, 3), slice(above_100, 3),
                 "cases_in_state after 100 (numeric, not text, order)");
    expect_equal(c, in_state(*s, c, o, open.back(), 10), std::vector<std::uint64_t>{},
                 "cases_in_state after the largest id");
    expect_equal(c, in_state(*s, c, o, 0, 0), std::vector<std::uint64_t>{},
                 "cases_in_state with limit 0");
    expect_equal(c, in_state(*s, c, case_state::closed), std::vector<std::uint64_t>{},
                 "cases_in_state of a state no case is in");
    expect_equal(c, in_state(*s, c, case_state::acknowledged, 0, 1000).size(), std::size_t{20},
                 "cases_in_state(acknowledged) count");
    std::vector<std::uint64_t> paged;
    for (std::uint64_t after = 0;;) {
        const auto page = in_state(*s, c, o, after, 4);
        if (page.empty() || paged.size() > open.size()) {
            break;
        }
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
    }
    expect_equal(c, paged, open, "cases_in_state paged four at a time");

    put(*s, c, plain_case(open[0], 2, case_state::in_progress, "", at_ms(50)));
    put(*s, c, plain_case(open.back(), 2, case_state::closed));
    put(*s, c, plain_case(178, 2, case_state::escalated, "cause:2"));  // was acknowledged
    expect_equal(c, in_state(*s, c, case_state::in_progress), std::vector<std::uint64_t>{open[0]},
                 "cases_in_state follows a state change");
    expect_equal(c, in_state(*s, c, case_state::closed), std::vector<std::uint64_t>{open.back()},
                 "cases_in_state follows a case into closed");
    expect_equal(c, in_state(*s, c, o, 0, 1000), slice(1, open.size() - 2),
                 "cases_in_state drops cases that left the state");
    expect_equal(c, in_state(*s, c, case_state::escalated), std::vector<std::uint64_t>{178},
                 "cases_in_state follows acknowledged to escalated");
    expect_equal(c, in_state(*s, c, case_state::acknowledged, 0, 1000).size(), std::size_t{19},
                 "cases_in_state(acknowledged) count after one left");
    put(*s, c, plain_case(open[0], 3, o));
    expect_equal(c, in_state(*s, c, o, 0, 1000), slice(0, open.size() - 1),
                 "cases_in_state takes a case back into a state it left");
    expect_equal(c, in_state(*s, c, case_state::in_progress), std::vector<std::uint64_t>{},
                 "cases_in_state(in_progress) after the only one left it");
}

inline void due_cases_index(const store_factory& make, const conformance_options& /*options*/,
                            conformance_checker& c) {
    const auto s = fresh(make, c);
    const auto open = case_state::open;
    put(*s, c, plain_case(1, 1, open, "", at_ms(3000)));
    put(*s, c, plain_case(2, 1, case_state::acknowledged, "", at_ms(1000)));
    // Equal deadlines come by id, numerically (100 after 10 after 9).
    put(*s, c, plain_case(100, 1, open, "", at_ms(2000)));
    put(*s, c, plain_case(10, 1, case_state::escalated, "", at_ms(2000)));
    put(*s, c, plain_case(9, 1, open, "", at_ms(2000)));
    put(*s, c, plain_case(5, 1, open));                    // no deadline
    put(*s, c, plain_case(6, 1, open, "", at_ms(-5000)));  // before the epoch
    const auto expect_due = [&](std::int64_t now, std::size_t limit,
                                const std::vector<std::uint64_t>& expected,
                                here where = here::current()) {
        expect_equal(c, due_cases(*s, c, now, limit, where), expected,
                     fmt::format("due_cases({} ms, limit {})", now, limit), where);
    };
    expect_due(-5001, 100, {});
    expect_due(999, 100, {6});
    expect_due(1000, 100, {6, 2});
    expect_due(2000, 100, {6, 2, 9, 10, 100});
    expect_due(9000, 100, {6, 2, 9, 10, 100, 1});
    expect_due(9000, 3, {6, 2, 9});
    expect_due(9000, 0, {});

    put(*s, c, plain_case(2, 2, case_state::resolved));                     // cleared
    put(*s, c, plain_case(1, 2, open, "", at_ms(500)));                     // earlier
    put(*s, c, plain_case(5, 2, open, "", at_ms(8000)));                    // set
    put(*s, c, plain_case(9, 2, open, "", at_ms(2500)));                    // later
    put(*s, c, plain_case(10, 2, case_state::escalated, "", at_ms(2000)));  // unchanged
    put(*s, c, plain_case(6, 2, case_state::closed));                       // cleared
    expect_due(9000, 100, {1, 10, 100, 9, 5});
    expect_due(600, 100, {1});
    expect_due(2000, 100, {1, 10, 100});
    put(*s, c, plain_case(1, 3, case_state::closed));  // cleared again
    expect_due(9000, 100, {10, 100, 9, 5});
    expect_equal(c, in_state(*s, c, case_state::resolved), std::vector<std::uint64_t>{2},
                 "a case whose deadline was cleared is still listed by state");
}

inline void idempotency_keeps_case_ref(const store_factory& make,
                                       const conformance_options& /*options*/,
                                       conformance_checker& c) {
    const auto s = fresh(make, c);
    idempotency_record with_case = record("acknowledge_case/abc", 7);
    with_case.outcome.case_ref = case_id((std::uint64_t{1} << 63) - 5);
    with_case.outcome.ticket = ticket_id(3);
    idempotency_record zero_case = record("resolve_case/zero", 8);
    zero_case.outcome.case_ref = case_id(0);  // set, even to zero
    const idempotency_record without = record("place_order/none", 9);
    const std::array<const idempotency_record*, 3> records = {&with_case, &zero_case, &without};
    {
        auto tx = begin(*s, c);
        for (const idempotency_record* r : records) {
            c.need(tx->put_idempotency(*r), "put_idempotency");
        }
        c.need(tx->commit(), "commit of three idempotency records");
    }
    for (const idempotency_record* r : records) {
        const auto found = find_record(*s, c, r->key);
        if (!found) {
            c.fail(fmt::format("find_idempotency('{}') finds nothing after commit", r->key));
        } else if (*found != *r) {
            c.fail(
                fmt::format("find_idempotency('{}') differs: case_ref {} (put {}), ticket {} "
                            "(put {}), order {} (put {})",
                            r->key, show(found->outcome.case_ref), show(r->outcome.case_ref),
                            show(found->outcome.ticket), show(r->outcome.ticket),
                            found->outcome.order, r->outcome.order));
        }
    }
}

inline void failed_commit_writes_no_case(const store_factory& make,
                                         const conformance_options& /*options*/,
                                         conformance_checker& c) {
    enum class cause { cause_key, order_exists, case_version, idempotency_key, stock };
    struct attempt {
        cause why;
        errc code;
        std::optional<std::string_view> field;
        std::string_view what;
    };
    const std::array<attempt, 5> attempts = {
        attempt{cause::cause_key, errc::conflict, "case.cause_key",
                "a case transaction whose last case takes a held cause"},
        attempt{cause::order_exists, errc::conflict, std::nullopt,
                "a case transaction inserting an order that exists"},
        attempt{cause::case_version, errc::conflict, "case.version",
                "a case transaction replacing a case at a stale version"},
        attempt{cause::idempotency_key, errc::conflict, "idempotency_key",
                "a case transaction storing an idempotency key that exists"},
        attempt{cause::stock, errc::insufficient_stock, "cause",
                "a case transaction whose reservation exceeds the stock"}};
    for (const attempt& a : attempts) {
        const auto s = fresh(make, c);
        const exception_case held = plain_case(50, 1, case_state::open, "held", at_ms(4000));
        {
            writes w(begin(*s, c));
            w << w.tx().put_case(held) << w.tx().put_order(plain_order(8))
              << w.tx().put_idempotency(record("case/key", 8));
            c.need(w.commit(), "committing the base");
        }
        writes w(begin(*s, c));
        w << w.tx().put_case(plain_case(51, 1, case_state::escalated, "fresh", at_ms(10)))
          << w.tx().put_case(plain_case(50, 2, case_state::closed, "held"))
          << w.tx().put_order(plain_order(9));
        switch (a.why) {
            case cause::cause_key:
                w << w.tx().put_case(plain_case(52, 1, case_state::open, "fresh"));
                break;
            case cause::order_exists:
                w << w.tx().put_order(plain_order(8));
                break;
            case cause::case_version:
                w << w.tx().put_case(plain_case(53, 2));
                break;
            case cause::idempotency_key:
                w << w.tx().put_idempotency(record("case/key", 9));
                break;
            case cause::stock:
                w << w.tx().change_stock(
                    change("SKU-X", "WH-1", stock_operation::reserve, 1, "cause"));
                break;
        }
        c.refused(w.commit(), a.code, a.field, a.what);
        const std::string after = fmt::format("after {} failed", a.what);
        expect_no_case(c, *s, 51, after);
        expect_no_case(c, *s, 52, after);
        expect_stored(c, *s, held, after);
        expect_absent(c, *s, 9, after);
        expect_equal(c, live_case_id(*s, c, "held"), std::uint64_t{50},
                     fmt::format("{}: find_live_case('held')", after));
        expect_equal(c, live_case_id(*s, c, "fresh"), std::uint64_t{0},
                     fmt::format("{}: find_live_case('fresh')", after));
        expect_equal(c, in_state(*s, c, case_state::open), std::vector<std::uint64_t>{50},
                     fmt::format("{}: cases_in_state(open)", after));
        expect_equal(c, in_state(*s, c, case_state::escalated), std::vector<std::uint64_t>{},
                     fmt::format("{}: cases_in_state(escalated)", after));
        expect_equal(c, due_cases(*s, c, 9000), std::vector<std::uint64_t>{50},
                     fmt::format("{}: due_cases", after));
        // The refused transaction reserved nothing: the held cause is still held and
        // the fresh one is free.
        c.refused(commit_case(*s, c, plain_case(54, 1, case_state::open, "held")), errc::conflict,
                  "case.cause_key", fmt::format("{}: a second case for the held cause", after));
        c.succeeded(commit_case(*s, c, plain_case(55, 1, case_state::open, "fresh")),
                    fmt::format("{}: a case for the cause the refused one named", after));
    }
}

inline void cause_key_race(const store_factory& make, const conformance_options& options,
                           conformance_checker& c) {
    const std::size_t threads = thread_count(options);
    const auto s = fresh(make, c);
    for (std::uint64_t round = 1; round <= 12; ++round) {
        const std::string key = fmt::format("stock_shortage:order:{}", round);
        std::atomic<std::size_t> won{0};
        std::atomic<std::size_t> lost{0};
        std::atomic<std::size_t> ready{0};
        std::atomic<std::uint64_t> winner{0};
        on_threads(threads, [&](std::size_t t) {
            const exception_case mine = plain_case(round * 100 + t + 1, 1, case_state::open, key);
            bool first_try = true;
            for (int attempt = 0; attempt < 1000; ++attempt) {
                auto tx = s->begin();
                if (!c.succeeded(tx, "store::begin on a worker thread")) {
                    ready += first_try ? 1U : 0U;  // never leave the others waiting
                    return;
                }
                writes w(std::move(*tx));
                w << w.tx().put_case(mine);
                if (first_try) {  // every detector holds its case before any commits
                    first_try = false;
                    ++ready;
                    while (ready.load() < threads) {
                        std::this_thread::yield();
                    }
                }
                const auto committed = w.commit();
                if (committed.has_value()) {
                    ++won;
                    winner = mine.id.value();
                    return;
                }
                if (!retryable(committed.error())) {
                    c.fail(
                        fmt::format("a detector losing the race for a cause was refused with "
                                    "{}, expected conflict on field 'case.cause_key'",
                                    to_string(committed.error())));
                    return;
                }
                // A conflict is a loss only if another case holds the cause by now.
                auto reader = s->begin();
                if (reader.has_value()) {
                    const auto held = (*reader)->find_live_case(key);
                    if (held.has_value() && held->has_value() && (*held)->id != mine.id) {
                        if (committed.error().field != "case.cause_key") {
                            c.fail(
                                fmt::format("a detector lost the race for a cause with {}, "
                                            "expected field 'case.cause_key'",
                                            to_string(committed.error())));
                        }
                        ++lost;
                        return;
                    }
                }
            }
            c.fail("a detector kept getting conflicts while no other case held the cause");
        });
        c.check(won.load() == 1 && lost.load() == threads - 1,
                fmt::format("{} detectors of cause '{}': {} won, {} lost; exactly one must win",
                            threads, key, won.load(), lost.load()));
        expect_equal(c, live_case_id(*s, c, key), winner.load(),
                     fmt::format("find_live_case('{}') after the race", key));
        std::size_t stored = 0;
        for (std::uint64_t t = 0; t < threads; ++t) {
            stored += load_case(*s, c, round * 100 + t + 1).has_value() ? 1U : 0U;
        }
        c.check(stored == 1, fmt::format("{} cases of cause '{}' are stored after the race, "
                                         "expected 1",
                                         stored, key));
        if (!c.passed()) {
            return;
        }
    }
}

// ---- scenarios: the order archive -----------------------------------------------------------

inline void archive_moves_orders(const store_factory& make, const conformance_options& /*options*/,
                                 conformance_checker& c) {
    const auto s = fresh(make, c);
    const order closed = plain_order(1, 1, order_state::closed, at_ms(3000));
    const order cancelled = plain_order(2, 1, order_state::cancelled, at_ms(1000));
    const order other_closed = plain_order(3, 1, order_state::closed, at_ms(2000));
    const order paid = plain_order(4, 1, order_state::paid, at_ms(2500));
    order closed_later = plain_order(5, 2, order_state::closed);  // archived at version 2
    const std::vector<timeline_entry> history = {
        entry(order_event::placed, "placed", at_ms(500)),
        entry(order_event::cancelled, tricky_text, at_ms(900), order_state::pending_review,
              order_state::cancelled)};
    {
        writes w(begin(*s, c));
        w << w.tx().put_order(closed) << w.tx().put_order(cancelled)
          << w.tx().put_order(other_closed) << w.tx().put_order(paid)
          << w.tx().put_order(plain_order(5)) << w.tx().append_timeline(order_id(2), history[0])
          << w.tx().append_timeline(order_id(2), history[1])
          << w.tx().enqueue(note(2, "cancelled, refund on its way"));
        c.need(w.commit(), "committing the orders");
    }
    put(*s, c, closed_later);
    const auto outbox_before = outbox_ids(*s, c, 2);
    c.require(outbox_before.size() == 1, "the cancelled order's notification is in its outbox");
    {
        writes w(begin(*s, c));
        w << w.tx().archive_order(order_id(1), 1) << w.tx().archive_order(order_id(2), 1)
          << w.tx().archive_order(order_id(5), 2);
        c.need(w.commit(), "archiving a closed, a cancelled and a twice-written order");
    }
    expect_equal(c, in_state(*s, c, order_state::closed), std::vector<std::uint64_t>{3},
                 "orders_in_state(closed) leaves out archived orders");
    expect_equal(c, in_state(*s, c, order_state::cancelled), std::vector<std::uint64_t>{},
                 "orders_in_state(cancelled) leaves out archived orders");
    expect_equal(c, due(*s, c, 9000), std::vector<std::uint64_t>{3, 4},
                 "due_orders leaves out archived orders");
    expect_equal(c, archived(*s, c), std::vector<std::uint64_t>{1, 2, 5},
                 "archived_orders lists the archived orders");
    expect_stored(c, *s, closed, "load_order of an archived order");
    expect_stored(c, *s, cancelled, "load_order of an archived order");
    expect_stored(c, *s, closed_later, "load_order of an order archived at version 2");
    {
        auto tx = begin(*s, c);
        expect_order(c, c.need(tx->find_order(order_id(2)), "find_order"), cancelled,
                     "find_order of an archived order");
    }
    const auto got = timeline_of(*s, c, 2);
    if (got != history) {
        c.fail(fmt::format("timeline of an archived order: expected {}, got {}",
                           timeline_text(history), timeline_text(got)));
    }
    expect_equal(c, outbox_ids(*s, c, 2), outbox_before, "outbox_of an archived order");

    // Ids whose text order differs from their numeric order, and the largest ones.
    std::vector<std::uint64_t> all = {1, 2, 5};
    const std::vector<std::uint64_t> more = {
        9, 10, 100, 1000, (std::uint64_t{1} << 62) + 1, (std::uint64_t{1} << 63) - 1};
    {
        auto tx = begin(*s, c);
        for (const std::uint64_t id : more) {
            c.need(tx->put_order(plain_order(id, 1, order_state::closed)), "put_order");
        }
        c.need(tx->commit(), "committing more closed orders");
    }
    {
        auto tx = begin(*s, c);
        for (const std::uint64_t id : more) {
            c.need(tx->archive_order(order_id(id), 1), "archive_order");
        }
        c.need(tx->commit(), "archiving them");
    }
    all.insert(all.end(), more.begin(), more.end());
    std::sort(all.begin(), all.end());
    const auto slice = [&](std::size_t from, std::size_t count) {
        return std::vector<std::uint64_t>(
            all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())),
            all.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, all.size())));
    };
    expect_equal(c, archived(*s, c), all, "archived_orders: every archived id, ascending");
    expect_equal(c, archived(*s, c, 0, 3), slice(0, 3), "archived_orders with limit 3");
    expect_equal(c, archived(*s, c, 5, 2), slice(3, 2), "archived_orders after an archived id");
    expect_equal(c, archived(*s, c, 6, 2), slice(3, 2), "archived_orders after an id not archived");
    expect_equal(c, archived(*s, c, 100, 10), slice(6, 10),
                 "archived_orders after 100 (numeric, not text, order)");
    expect_equal(c, archived(*s, c, all.back(), 10), std::vector<std::uint64_t>{},
                 "archived_orders after the largest id");
    expect_equal(c, archived(*s, c, 0, 0), std::vector<std::uint64_t>{},
                 "archived_orders with limit 0");
    std::vector<std::uint64_t> paged;
    for (std::uint64_t after = 0;;) {
        const auto page = archived(*s, c, after, 2);
        if (page.empty() || paged.size() > all.size()) {
            break;
        }
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
    }
    expect_equal(c, paged, all, "archived_orders paged two at a time");
    expect_equal(c, in_state(*s, c, order_state::closed), std::vector<std::uint64_t>{3},
                 "orders_in_state(closed) after more were archived");
    expect_stored(c, *s, paid, "an order left live beside archived ones");
}

inline void archive_refusals(const store_factory& make, const conformance_options& /*options*/,
                             conformance_checker& c) {
    const auto s = fresh(make, c);
    const order paid = plain_order(1, 1, order_state::paid);
    const order cancelled = plain_order(2, 2, order_state::cancelled, at_ms(700));
    put(*s, c, paid);
    put(*s, c, plain_order(2));
    put(*s, c, cancelled);
    put(*s, c, plain_order(3, 1, order_state::closed));
    {
        writes w(begin(*s, c));
        w << w.tx().put_idempotency(record("archive/key", 3));
        c.need(w.commit(), "committing an idempotency key");
    }
    const auto nothing_archived = [&](std::string_view what, here where = here::current()) {
        const std::string after = fmt::format("after {} was refused", what);
        expect_equal(c, archived(*s, c, 0, 100, where), std::vector<std::uint64_t>{},
                     fmt::format("{}: archived_orders", after), where);
        expect_equal(c, in_state(*s, c, order_state::cancelled, 0, 100, where),
                     std::vector<std::uint64_t>{2},
                     fmt::format("{}: orders_in_state(cancelled)", after), where);
        expect_equal(c, in_state(*s, c, order_state::paid, 0, 100, where),
                     std::vector<std::uint64_t>{1}, fmt::format("{}: orders_in_state(paid)", after),
                     where);
        expect_equal(c, due(*s, c, 9000, 100, where), std::vector<std::uint64_t>{2},
                     fmt::format("{}: due_orders", after), where);
        expect_absent(c, *s, 9, after, where);
    };
    // Refusals name their field; the other writes of the transaction are not made.
    const auto attempt = [&](std::uint64_t id, std::uint64_t version, errc code,
                             std::string_view field, std::string_view what,
                             here where = here::current()) {
        writes w(begin(*s, c, where));
        w << w.tx().put_order(plain_order(9)) << w.tx().archive_order(order_id(id), version);
        c.refused(w.commit(), code, field, what, where);
        nothing_archived(what, where);
    };
    attempt(1, 1, errc::invalid_value, "state", "archiving a paid order");
    attempt(2, 1, errc::conflict, "version", "archiving an order at a stale version");
    attempt(2, 3, errc::conflict, "version", "archiving an order at a future version");
    attempt(99, 1, errc::conflict, "version", "archiving an order that does not exist");
    for (const order_state live : {order_state::pending_review, order_state::delivered,
                                   order_state::completed, order_state::on_hold}) {
        put(*s, c, plain_order(20 + static_cast<std::uint64_t>(live), 1, live));
        c.refused(commit_archive(*s, c, 20 + static_cast<std::uint64_t>(live), 1),
                  errc::invalid_value, "state",
                  fmt::format("archiving an order in state {}", live));
    }

    // A failed transaction archives nothing, whichever of its writes fails.
    {
        writes w(begin(*s, c));
        w << w.tx().archive_order(order_id(2), 2) << w.tx().put_order(plain_order(1));
        c.refused(w.commit(), errc::conflict, std::nullopt,
                  "archiving beside an insert of an order that exists");
        nothing_archived("archiving beside an insert of an order that exists");
    }
    {
        writes w(begin(*s, c));
        w << w.tx().archive_order(order_id(2), 2)
          << w.tx().append_timeline(order_id(2), entry(order_event::placed, "late"))
          << w.tx().put_idempotency(record("archive/key", 2));
        c.refused(w.commit(), errc::conflict, "idempotency_key",
                  "archiving beside an idempotency key that exists");
        nothing_archived("archiving beside an idempotency key that exists");
        c.check(timeline_of(*s, c, 2).empty(),
                "the timeline entry of a refused archiving transaction was written");
    }
    {
        writes w(begin(*s, c));
        w << w.tx().archive_order(order_id(2), 2)
          << w.tx().change_stock(change("SKU-X", "WH-1", stock_operation::reserve, 1, "archive"));
        c.refused(w.commit(), errc::insufficient_stock, "archive",
                  "archiving beside a reservation the stock cannot cover");
        nothing_archived("archiving beside a reservation the stock cannot cover");
    }
    {
        writes w(begin(*s, c));
        w << w.tx().archive_order(order_id(2), 2) << w.tx().archive_order(order_id(1), 1);
        c.refused(w.commit(), errc::invalid_value, "state",
                  "archiving a cancelled order beside a paid one");
        nothing_archived("archiving a cancelled order beside a paid one");
    }
    expect_stored(c, *s, cancelled, "the cancelled order after refused archiving");

    // Archived, the order can no longer change nor be archived again.
    c.succeeded(commit_archive(*s, c, 2, 2), "archiving the cancelled order");
    expect_equal(c, archived(*s, c), std::vector<std::uint64_t>{2}, "archived_orders");
    c.refused(commit_archive(*s, c, 2, 2), errc::conflict, "version",
              "archiving an archived order again");
    c.refused(commit_order(*s, c, plain_order(2, 3, order_state::paid)), errc::conflict, "version",
              "put_order of the next version of an archived order");
    c.refused(commit_order(*s, c, plain_order(2, 1, order_state::paid)), errc::conflict, "id",
              "put_order of version 1 of an archived order's id");
    expect_stored(c, *s, cancelled, "the archived order after refused puts");
    expect_equal(c, in_state(*s, c, order_state::paid), std::vector<std::uint64_t>{1},
                 "orders_in_state(paid) after refused puts of an archived order");
    expect_equal(
        c, in_state(*s, c, order_state::pending_review),
        std::vector<std::uint64_t>{20 + static_cast<std::uint64_t>(order_state::pending_review)},
        "orders_in_state(pending_review) after refused puts of an archived order");
    expect_equal(c, archived(*s, c), std::vector<std::uint64_t>{2},
                 "archived_orders after refused puts");
}

inline std::optional<std::uint64_t> environment_number(const char* name) {
    const char* text = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at start-up
    if (text == nullptr || *text == '\0') {
        return std::nullopt;
    }
    return std::strtoull(text, nullptr, 0);
}

/// Every scenario, in the order they run.
inline constexpr std::array<conformance_scenario, 67> scenarios = {{
    {"order round trip keeps every field", &order_round_trip},
    {"order versions: insert at 1 and replace n-1 with n", &order_versions},
    {"order shipments round trip in inserts and replacements", &order_shipments_round_trip},
    {"sku round trip keeps every field and trait", &sku_round_trip},
    {"idempotency records round trip and refuse a second key", &idempotency_records},
    {"stock operations and their refusals", &stock_operations},
    {"stock changes apply in order within a transaction", &stock_sequences},
    {"stock rows are listed by sku then warehouse", &stock_listing},
    {"a failed commit writes nothing", &failed_commit_writes_nothing},
    {"a transaction destroyed without commit writes nothing", &dropped_transaction_writes_nothing},
    {"transactions and batches may be destroyed after their store",
     &transactions_may_outlive_their_store},
    {"reads see committed data only", &reads_see_committed_data},
    {"timeline entries come back in the order appended", &timeline_order},
    {"orders_in_state lists ascending ids after an id up to a limit", &orders_in_state_index},
    {"due_orders lists deadlines earliest first", &due_orders_index},
    {"shipment round trip keeps every field and the tracking history", &shipment_round_trip},
    {"shipment versions: insert at 1 and replace n-1 with n", &shipment_versions},
    {"a failed commit writes neither the order nor the shipment",
     &failed_commit_writes_no_shipment},
    {"shipments_in_state lists ascending ids and follows state changes", &shipments_in_state_index},
    {"due_shipments lists deadlines earliest first with ties by id", &due_shipments_index},
    {"resolved shipments round trip with a returned exception and are listed in their state",
     &resolved_shipments},
    {"transfer stock operations and their refusals", &transfer_operations},
    {"low-stock flags are set and cleared once", &low_stock_flags},
    {"in_transit and the low-stock flag round trip through every stock read",
     &inventory_round_trip},
    {"a failed commit applies no stock change or order or transfer",
     &failed_commit_applies_no_inventory_change},
    {"a whole transfer conserves stock over the warehouses", &whole_transfer},
    {"the on-hand ledger lists on-hand changes in commit order within a range", &stock_ledger},
    {"transfer versions: insert at 1 and replace n-1 with n", &transfer_versions},
    {"transfers_in_state lists ascending ids and follows state changes", &transfers_in_state_index},
    {"cancelled transfers keep when and why and follow the version rule", &cancelled_transfers},
    {"recall lowers in transit only and is refused when short or missing", &recall_in_transit},
    {"sku low_stock_below round trips and can be cleared", &sku_low_stock_threshold},
    {"ticket round trip keeps every field and the return parcel history", &ticket_round_trip},
    {"ticket versions: insert at 1 and replace n-1 with n", &ticket_versions},
    {"find_ticket and load_ticket see committed tickets only", &ticket_reads_see_committed_data},
    {"tickets_in_state lists ascending ids and follows state changes", &tickets_in_state_index},
    {"due_tickets lists deadlines earliest first with ties by id", &due_tickets_index},
    {"restock and to_damaged_bin create rows and only restock enters the ledger", &returned_stock},
    {"order tickets and rating round trip in inserts and replacements", &order_tickets_and_rating},
    {"shipment ticket round trips and can be cleared", &shipment_ticket_round_trip},
    {"a failed commit writes no ticket and applies no returned stock",
     &failed_commit_writes_no_ticket},
    {"case round trip keeps every field and the notes and timeline", &case_round_trip},
    {"case versions: insert at 1 and replace n-1 with n", &case_versions},
    {"one cause has at most one live case", &case_cause_keys},
    {"find_live_case finds the live case of a cause only", &find_live_cases},
    {"cases_in_state lists ascending ids and follows state changes", &cases_in_state_index},
    {"due_cases lists deadlines earliest first with ties by id", &due_cases_index},
    {"idempotency records keep the case a command concerned", &idempotency_keeps_case_ref},
    {"a failed commit writes no case and takes no cause", &failed_commit_writes_no_case},
    {"archived orders leave the live indexes and stay readable", &archive_moves_orders},
    {"archiving refuses a wrong version or an order not ended and writes nothing",
     &archive_refusals},
    {"outbox ids are unique and increasing and entries keep every field", &outbox_ids_and_content},
    {"claims hand out the oldest due notifications under a lease", &claims_and_leases},
    {"mark_delivered is final and refuses unknown ids", &mark_delivered_rules},
    {"reschedule delays a retry but never revives a delivery", &reschedule_rules},
    {"claims skip a delivered backlog", &delivered_backlog},
    {"batch: transactions are all-or-nothing and visible together at commit", &batch_transactions},
    {"batch: a dropped batch keeps all or none of its transactions", &dropped_batch},
    {"threads reserving one hot stock row never oversell", &hot_stock_row},
    {"of concurrent writers of one order version exactly one wins", &same_version_writers},
    {"of concurrent writers of one shipment version exactly one wins",
     &same_version_shipment_writers},
    {"of threads flagging one low stock row exactly one wins", &low_stock_flag_race},
    {"of detectors opening a case for one cause exactly one wins", &cause_key_race},
    {"concurrent claims never hand one notification out twice", &concurrent_claims},
    {"parallel commits over many rows keep every row's books", &parallel_commits},
    {"engine: seeded random commands keep every invariant", &engine_random_commands},
    {"engine: threads placing orders for one hot SKU never oversell", &engine_hot_sku},
}};

}  // namespace orderly::testing::detail

namespace orderly::testing {

inline conformance_options conformance_options::from_environment(conformance_options defaults) {
    if (const auto seed = detail::environment_number("ORDERLY_SEED")) {
        defaults.seed = *seed;
    }
    if (const auto steps = detail::environment_number("ORDERLY_STEPS")) {
        defaults.random_steps = static_cast<std::size_t>(*steps);
    }
    if (const auto threads = detail::environment_number("ORDERLY_THREADS")) {
        defaults.threads = static_cast<std::size_t>(*threads);
    }
    if (std::getenv("ORDERLY_TRACE") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        defaults.trace = true;
    }
    return defaults;
}

inline conformance_options conformance_options::from_environment() {
    return from_environment(conformance_options{});
}

/// Every scenario of the suite, in the order run_store_conformance() runs them.
[[nodiscard]] inline std::span<const conformance_scenario> store_conformance_scenarios() noexcept {
    return detail::scenarios;
}

/// Runs one scenario against stores from `make`, recording its failures in
/// `checker`: a scenario stopped by require()/need() ends there, and an
/// exception escaping the store or the scenario is recorded as a failure.
/// Returns true when the scenario passed.
inline bool run_conformance_scenario(const conformance_scenario& scenario,
                                     const store_factory& make, const conformance_options& options,
                                     conformance_checker& checker) {
    try {
        scenario.run(make, options, checker);
    } catch (const conformance_abort&) {
        // Already recorded where it was raised.
    } catch (const std::exception& e) {
        checker.fail(fmt::format("an exception escaped: {}", e.what()));
    } catch (...) {
        checker.fail("an exception of unknown type escaped");
    }
    return checker.passed();
}

/// Runs every scenario against stores from `make` and returns every failure,
/// in scenario order (empty when the store conforms).
[[nodiscard]] inline std::vector<conformance_failure> run_store_conformance(
    const store_factory& make, const conformance_options& options = {}) {
    std::vector<conformance_failure> failures;
    for (const conformance_scenario& scenario : store_conformance_scenarios()) {
        conformance_checker checker{std::string(scenario.name)};
        run_conformance_scenario(scenario, make, options, checker);
        const auto found = checker.failures();
        failures.insert(failures.end(), found.begin(), found.end());
        if (checker.failure_count() > found.size()) {
            failures.push_back(conformance_failure{
                std::string(scenario.name), __FILE__, __LINE__,
                fmt::format("and {} more failures", checker.failure_count() - found.size())});
        }
    }
    return failures;
}

}  // namespace orderly::testing
