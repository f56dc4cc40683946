#pragma once
// The engine's private parts, shared by the .cpp files under src/engine/.

#include "fingerprint.hpp"
#include "order_locks.hpp"

#include <orderly/aftersales/refund.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/engine/engine.hpp>
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/reservation_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment_machine.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly {

namespace detail {

// A detector's finding: what went wrong, keyed on its cause. Written
// with the command that found it (impl::raise_cases): a new case, a resolved
// one reopened, or nothing when a case for the cause is still unresolved.
struct case_signal {
    case_type type{case_type::other};
    std::string cause_key{};
    std::string title{};
    std::optional<order_id> order{};
    std::optional<shipment_id> shipment{};
    std::optional<ticket_id> ticket{};
    sku_id sku{};
    warehouse_id warehouse{};
    carrier_id carrier{};
    merchant_id merchant{};
};

// One writer per state: every change of a payment's, a reservation's, a
// shipment's or a transfer's state goes through these, which ask the
// aggregate's machine (orders change through order_change::transition).
// A refusal is the machine's transition_not_allowed, with `field` naming
// what the caller was asked about.
[[nodiscard]] result<void> move(payment& p, payment_event event, const payment_guard_facts& facts,
                                timestamp at);
[[nodiscard]] result<void> move(reservation& r, reservation_event event);
[[nodiscard]] result<void> move(shipment& s, shipment_event event,
                                std::string_view field = "shipment_id");
[[nodiscard]] result<void> move(stock_transfer& t, transfer_event event,
                                std::string_view field = "transfer_id");
// True when the machine takes `event` in the reservation's state.
[[nodiscard]] bool accepts(const reservation& r, reservation_event event);
// A new reservation, held as every reservation starts, or committed through
// the machine when `committed` (fulfilment plans reserve for paid orders).
[[nodiscard]] result<reservation> new_reservation(reservation_id id, sku_id sku,
                                                  warehouse_id warehouse, quantity units,
                                                  bool committed);

// Everything one command changes in one order, gathered before it is written
// in one transaction. Every state change goes through transition(), which
// asks the order machine: the engine never writes order::state itself.
class order_change {
public:
    order_change(orderly::order& target, timestamp now, const orderly::actor& who,
                 const orderly::settings& options)
        : order(target), now_(now), who_(who), settings_(options) {}

    orderly::order& order;
    std::vector<timeline_entry> entries;
    std::vector<notification> notes;
    std::vector<stock_change> stock;
    // Shipments the command changed or created, written with the order
    // (version already set: 1 for a new one, stored + 1 otherwise).
    std::vector<shipment> shipments;
    // Set when the order changed in a way entries and notes do not show
    // (its shipment list, its carrier): it is written all the same.
    bool dirty{false};
    // The command's transaction, for changes that read more than the order
    // (a cancel reads the order's shipments).
    store_transaction* tx{nullptr};
    // Set when the command turns out to change nothing (a stale callback):
    // only its idempotency record is written.
    bool unchanged{false};
    // The state of the payment a payment command touched, for its outcome.
    std::optional<payment_state> payment_after;
    // Exception cases the command's detectors found, written with it.
    std::vector<case_signal> cases;

    [[nodiscard]] timestamp now() const noexcept { return now_; }
    [[nodiscard]] const orderly::actor& who() const noexcept { return who_; }

    // Asks the machine; on success moves the order, records the timeline
    // entry and re-arms the order's deadline.
    [[nodiscard]] result<void> transition(order_event event, std::string reason) {
        return transition(event, std::move(reason), who_);
    }
    // The same, attributed to another actor (a rule the engine applied).
    [[nodiscard]] result<void> transition(order_event event, std::string reason,
                                          const orderly::actor& by);

    // Queues a notification unless its kind is muted.
    void notify(notification_kind kind, audience to, std::string recipient, std::string text,
                std::vector<std::pair<std::string, std::string>> details = {});
    void notify_customer(notification_kind kind, std::string text,
                         std::vector<std::pair<std::string, std::string>> details = {}) {
        notify(kind, audience::customer, order.customer.value(), std::move(text),
               std::move(details));
    }

    // Reservation bookkeeping through the reservation machine (a reservation
    // the machine refuses the event for is left as it is); each change also
    // queues the matching stock change.
    [[nodiscard]] result<void> commit_reservations();
    [[nodiscard]] result<void> release_reservations();
    [[nodiscard]] result<void> consume_reservations();

    // Money given back. Every refund goes through one of these three, so the
    // payments' refunded money always equals the ledger's (order::refunds)
    // refunds, and finance is told each once.
    //
    // Gives `entry.amount` back across the payments that still hold money,
    // newest first, and records `entry` in the ledger. Refused
    // (amount_mismatch, "amount") when the payments hold less: nothing is
    // ever given back only in part.
    [[nodiscard]] result<void> give_back(order_refund entry);
    // Gives back what payment `p` captured and not yet refunded: money the
    // order did not ask for (late, repeated, or of the wrong amount).
    [[nodiscard]] result<void> return_payment(payment& p, std::string reason);
    // Voids open authorizations and gives back everything captured (a
    // cancellation or a payment timeout).
    [[nodiscard]] result<void> refund_everything(std::string_view reason);
    // Records a compensation finance pays outside the payments, and tells finance.
    void compensate(const money& amount, std::uint64_t reference, std::string reason);

    // The ledger's refunds of the price, per line.
    [[nodiscard]] result<refunded_lines> refunds_so_far() const { return tally_refunds(order); }

private:
    void arm_deadline(order_state before);
    // One payment record's part of a refund, through the payment machine.
    [[nodiscard]] result<void> refund(payment& p, const money& amount, std::string_view reason);

    timestamp now_;
    const orderly::actor& who_;
    const orderly::settings& settings_;
};

// True when a parcel of `c`'s order, as stored, has not reached an end
// (delivered, resolved, cancelled): the order does not close before it.
// True when a parcel has reached an end: delivered, resolved or cancelled.
[[nodiscard]] constexpr bool parcel_ended(shipment_state s) noexcept {
    return s == shipment_state::delivered || s == shipment_state::resolved ||
           s == shipment_state::cancelled;
}

// `f`, when given, is the change under way (its parcels as they now are).
class fulfilment_change;
[[nodiscard]] result<bool> parcel_on_its_way(order_change& c, fulfilment_change* f = nullptr);

// A fresh id for a reservation or a payment: the order-number generator's
// next value, unique across the engines sharing a store (each has its node).
[[nodiscard]] inline result<std::uint64_t> next_id(order_number_generator& numbers, timestamp at) {
    auto number = numbers.next(std::chrono::system_clock::time_point(at.time_since_epoch()));
    if (!number) {
        return std::move(number).error();
    }
    return number->value();
}

// What a store read found, or not_found naming the field ("no shipment 42").
template <class T, class Id>
[[nodiscard]] result<T> required(result<std::optional<T>> found, std::string_view field,
                                 std::string_view what, const Id& id) {
    if (!found) {
        return std::move(found).error();
    }
    if (!*found) {
        return error{errc::not_found, std::string(field), fmt::format("no {} {}", what, id)};
    }
    return std::move(**found);
}

// Ids read per store call while walking a state, the archive or the cases.
inline constexpr std::size_t page_size = 512;

// Calls `visit` on every id `page` yields (page(after, limit) returns ids
// ascending, greater than `after`), a page at a time; stops at the first
// error either returns, and when a page comes back short (a `page` that
// returns no ids ends the walk early).
template <class Id, class Page, class Visit>
[[nodiscard]] result<void> for_each_id(Page&& page, Visit&& visit) {
    Id after{};
    for (;;) {
        auto ids = page(after, page_size);
        if (!ids) {
            return std::move(ids).error();
        }
        for (const Id id : *ids) {
            if (auto r = visit(id); !r) {
                return r;
            }
        }
        if (ids->size() < page_size) {
            return {};
        }
        after = ids->back();
    }
}

// Captured minus refunded, over every payment of the order.
[[nodiscard]] result<money> net_captured(const order& o);

// "field must be at most N bytes" style checks shared by the commands.
[[nodiscard]] result<void> check_text(std::string_view text, std::string_view field,
                                      std::size_t max_bytes, bool required);
[[nodiscard]] result<void> check_idempotency_key(std::string_view key);

// Aggregates of one kind (shipments, tickets) that a command reads through
// its transaction, each once: peek() reads for reading only, find() marks for
// writing (also one peeked before), add() creates one (written as version 1).
template <class Id, class T>
class aggregate_set {
public:
    using loader = result<std::optional<T>> (store_transaction::*)(Id);
    aggregate_set(loader load, std::string_view field, std::string_view what)
        : load_(load), field_(field), what_(what) {}

    // Valid until the next find() of the same id.
    [[nodiscard]] result<const T*> peek(store_transaction& tx, Id id) {
        if (auto known = written_.find(id); known != written_.end()) {
            return &known->second;
        }
        if (auto known = seen_.find(id); known != seen_.end()) {
            return &known->second;
        }
        auto found = required((tx.*load_)(id), field_, what_, id);
        if (!found) {
            return std::move(found).error();
        }
        return &seen_.emplace(id, std::move(*found)).first->second;
    }
    [[nodiscard]] result<T*> find(store_transaction& tx, Id id) {
        if (auto known = written_.find(id); known != written_.end()) {
            return &known->second;
        }
        if (auto known = seen_.find(id); known != seen_.end()) {
            auto node = seen_.extract(known);
            return &written_.insert(std::move(node)).position->second;
        }
        auto found = required((tx.*load_)(id), field_, what_, id);
        if (!found) {
            return std::move(found).error();
        }
        return &written_.emplace(id, std::move(*found)).first->second;
    }
    T& add(Id id, T value) {
        added_.insert(id);
        return written_.insert_or_assign(id, std::move(value)).first->second;
    }
    // To write, in id order.
    std::map<Id, T>& written() { return written_; }
    [[nodiscard]] bool is_new(Id id) const { return added_.contains(id); }

private:
    loader load_;
    std::string_view field_;
    std::string_view what_;
    std::map<Id, T> written_;
    std::map<Id, T> seen_;
    std::set<Id> added_;
};

// Everything one fulfilment or after-sales command changes: several orders
// (a merged shipment has several), shipments and tickets, read once through
// the command's transaction and written together at the end.
class fulfilment_change {
public:
    fulfilment_change(store_transaction& transaction, const access_policy& policy,
                      const orderly::actor& who, command what, timestamp now,
                      const orderly::settings& options)
        : tx(transaction), policy_(policy), who_(who), what_(what), now_(now), settings_(options) {}

    store_transaction& tx;

    [[nodiscard]] timestamp now() const noexcept { return now_; }
    [[nodiscard]] const orderly::actor& who() const noexcept { return who_; }

    // The order, read once and authorized for this command; changing it
    // through the returned change marks it for writing.
    [[nodiscard]] result<order_change*> order(order_id id);
    // The shipment, read once; marked for writing.
    [[nodiscard]] result<shipment*> find(shipment_id id) { return shipments_.find(tx, id); }
    // The shipment, read once, for reading only: not written unless find()
    // asks for it later. The pointer is valid until the next find().
    [[nodiscard]] result<const shipment*> peek(shipment_id id) { return shipments_.peek(tx, id); }
    // A new shipment, written with version 1.
    shipment& add(shipment s) { return shipments_.add(s.id, std::move(s)); }
    // Tickets, as shipments.
    [[nodiscard]] result<ticket*> find_ticket(ticket_id id) { return tickets_.find(tx, id); }
    [[nodiscard]] result<const ticket*> peek_ticket(ticket_id id) { return tickets_.peek(tx, id); }
    ticket& add_ticket(ticket t) { return tickets_.add(t.id, std::move(t)); }

    // Orders, shipments and tickets to write, in id order.
    std::map<order_id, std::unique_ptr<order_change>>& orders() { return changes_; }
    aggregate_set<shipment_id, shipment>& shipments() { return shipments_; }
    aggregate_set<ticket_id, ticket>& tickets() { return tickets_; }

private:
    const access_policy& policy_;
    const orderly::actor& who_;
    command what_;
    timestamp now_;
    const orderly::settings& settings_;
    std::map<order_id, std::unique_ptr<orderly::order>> loaded_;
    std::map<order_id, std::unique_ptr<order_change>> changes_;
    aggregate_set<shipment_id, shipment> shipments_{&store_transaction::find_shipment,
                                                    "shipment_id", "shipment"};
    aggregate_set<ticket_id, ticket> tickets_{&store_transaction::find_ticket, "ticket_id",
                                              "ticket"};
};

// Units of each order line that reached the customer, never did (their
// parcel is lost or returned and not yet put right), or are still on the
// road; and the latest delivery of a parcel of the order.
struct units_out {
    std::vector<std::int64_t> delivered;
    std::vector<std::int64_t> undelivered;
    std::vector<std::int64_t> in_transit;
    std::optional<timestamp> last_delivery;
};
[[nodiscard]] result<units_out> units_of(fulfilment_change& f, const order& o, store& st);

}  // namespace detail

struct engine::impl {
    impl(engine_ports p, orderly::settings s, order_number_generator g)
        : ports(p), options(std::move(s)), numbers(std::move(g)) {}

    engine_ports ports;
    std::optional<fulfilment_setup> fulfilment;
    orderly::settings options;
    order_number_generator numbers;
    detail::order_locks locks;

    [[nodiscard]] timestamp now() const { return ports.clock.now(); }

    // A transaction for a command: inside ctx.batch when it is set (and
    // belongs to this engine and is still open), otherwise on its own.
    [[nodiscard]] result<std::unique_ptr<store_transaction>> begin(const command_context& ctx);

    // Runs a command on an existing order: lock the order, read it,
    // authorize, replay an idempotent repeat, let `mutate` change it, write
    // everything in one transaction, retry on a lost race.
    using mutation = std::function<result<void>(detail::order_change&)>;
    [[nodiscard]] result<command_outcome> on_order(const command_context& ctx, command what,
                                                   order_id id, std::uint64_t fingerprint,
                                                   const mutation& mutate);

    // Writes a prepared change and its idempotency record; the caller commits.
    [[nodiscard]] result<void> write(store_transaction& tx, detail::order_change& change,
                                     bool insert);

    // The first result stored under `key`, marked repeated; nothing when the
    // key is new; idempotency_key_reused when it came with another request.
    [[nodiscard]] static result<std::optional<command_outcome>> replay(store_transaction& tx,
                                                                       const std::string& key,
                                                                       std::uint64_t fingerprint);

    [[nodiscard]] static std::string scoped_key(command what, std::string_view key) {
        return fmt::format("{}/{}", to_string(what), key);
    }
    [[nodiscard]] static command_outcome outcome_of(const order& o) {
        return command_outcome{o.id, o.number, o.state, std::nullopt, false};
    }

    // Moves a delivered order to completed and asks for a review.
    [[nodiscard]] result<void> complete(detail::order_change& c, std::string reason);
    // Records the cash a carrier collected for a cash-on-delivery order.
    [[nodiscard]] result<void> collect_cash(detail::order_change& c);

    // Payments: applying a callback, settling the order, refunds.
    [[nodiscard]] result<void> apply_payment(detail::order_change& c, const payment_callback& cb);
    [[nodiscard]] result<void> settle(detail::order_change& c, const payment& p,
                                      const payment_callback& cb);
    // Paid in full; `reference` empty when the order was paid while on hold
    // and is now released (the customer was told then).
    [[nodiscard]] result<void> mark_paid(detail::order_change& c, std::string_view reference);
    // The ledger entry of a refund not tied to units (refund_payment).
    [[nodiscard]] result<order_refund> manual_refund(detail::order_change& c, const money& amount,
                                                     std::string_view reason);
    [[nodiscard]] result<void> resume_payment(detail::order_change& c);
    [[nodiscard]] result<void> cancel(detail::order_change& c, std::string reason);
    // Money for an order that does not want it (or of the wrong amount):
    // given back whole, the customer told, and a case opened for a mismatch.
    [[nodiscard]] result<void> give_back_unwanted(detail::order_change& c, payment& p,
                                                  const payment_callback& cb, bool mismatch,
                                                  const error& why);

    [[nodiscard]] result<command_outcome> place(const command_context& ctx,
                                                const place_order_request& request);
    [[nodiscard]] result<command_outcome> try_place(const command_context& ctx,
                                                    const place_order_request& request,
                                                    const std::string& key,
                                                    std::uint64_t fingerprint, bool& lost_race);
    // A command that writes no order (stock, transfers): `write_changes` adds
    // its writes to the transaction and returns the outcome to remember.
    using store_mutation = std::function<result<command_outcome>(store_transaction&)>;
    [[nodiscard]] result<command_outcome> on_store(const command_context& ctx, command what,
                                                   std::uint64_t fingerprint,
                                                   const store_mutation& write_changes);
    // Catalogue and stock commands: true when the key had been used (a repeat).
    [[nodiscard]] result<bool> on_catalog(
        const command_context& ctx, command what, std::uint64_t fingerprint,
        const std::function<result<void>(store_transaction&)>& write_changes);
    [[nodiscard]] result<stock_level> stock_after(const command_context& ctx, const sku_id& sku,
                                                  const warehouse_id& warehouse);

    // Fulfilment: the command loop over shipments (locks `lock_ids` in
    // ascending order, then runs `mutate` in one transaction with retries),
    // the whole setup check, and the parts of each command. Commands
    // remember their outcome under ctx's idempotency key; due work, which
    // re-checks what is due inside its transaction, passes `remember` false
    // and no key.
    using fulfilment_mutation = std::function<result<command_outcome>(detail::fulfilment_change&)>;
    [[nodiscard]] result<command_outcome> on_fulfilment(const command_context& ctx, command what,
                                                        std::vector<order_id> lock_ids,
                                                        std::uint64_t fingerprint,
                                                        const fulfilment_mutation& mutate,
                                                        bool remember = true,
                                                        bool needs_setup = true);
    // Reads and authorizes every order of `orders` for `who` through the
    // change (or `who` alone when there are none).
    [[nodiscard]] result<void> authorize_all(detail::fulfilment_change& f, const actor& who,
                                             command what,
                                             const std::vector<order_id>& orders) const;
    [[nodiscard]] result<std::vector<order_id>> orders_of(shipment_id id) const;
    [[nodiscard]] result<const fulfilment_setup*> setup() const;
    [[nodiscard]] result<void> plan(detail::fulfilment_change& f, detail::order_change& c,
                                    const fulfilment_request& request);
    [[nodiscard]] result<void> advance_orders(detail::fulfilment_change& f, const shipment& s);
    // Due work on one parcel: a shipped one without progress is delayed,
    // then declared lost (fulfilment.lost_after); a lost or returned one
    // nobody put right is refunded (fulfilment.auto_refund_after).
    [[nodiscard]] result<void> run_due_shipment(shipment_id id, due_work_report& report);
    enum class due_parcel { nothing, delayed, declared_lost, refunded };
    [[nodiscard]] result<due_parcel> due_step(detail::fulfilment_change& f, shipment& sh);
    // Logistics exceptions (fulfilment.cpp): putting one right (reship,
    // refund, compensation), the parcel following its tracking, what a new
    // parcel state brings (exceptions, returned goods back on hand),
    // declaring a parcel lost, and refunding a parcel's goods.
    [[nodiscard]] result<const shipment*> put_right(detail::fulfilment_change& f, shipment& sh,
                                                    std::size_t index, logistics_remedy remedy,
                                                    const std::optional<money>& amount,
                                                    std::string_view note);
    [[nodiscard]] result<const shipment*> reship(detail::fulfilment_change& f, const shipment& sh);
    // The first open after-sales ticket that claims goods of parcel `sh`
    // (which that ticket, not the parcel's remedy, puts right); none when
    // no open ticket does.
    // The state of ticket `t`'s replacement parcel while it has not reached
    // an end (delivered, resolved, cancelled); none when it has or there is
    // none. The ticket closes only after it.
    [[nodiscard]] result<std::optional<shipment_state>> replacement_on_its_way(
        detail::fulfilment_change& f, const ticket& t);
    [[nodiscard]] result<std::optional<ticket_id>> claimed_by_ticket(detail::fulfilment_change& f,
                                                                     const shipment& sh);
    [[nodiscard]] result<money> refund_parcel(detail::fulfilment_change& f, const shipment& sh,
                                              std::string_view note);
    [[nodiscard]] result<void> follow_tracking(detail::fulfilment_change& f, shipment& sh,
                                               timestamp occurred_at);
    [[nodiscard]] result<void> on_parcel_state(detail::fulfilment_change& f,
                                               detail::order_change& first, shipment& sh,
                                               std::string detail);
    [[nodiscard]] result<void> declare_lost(detail::fulfilment_change& f, shipment& sh,
                                            std::string_view detail, std::string_view who);
    // What refunding parcel `s` gives back to order `o` (after_sales.cpp,
    // which knows the tickets): its units no ticket claimed, at their exact
    // price with their shipping share, given the order's refund ledger.
    [[nodiscard]] result<refund_breakdown> parcel_refund(detail::fulfilment_change& f,
                                                         const order& o, const shipment& s);
    // Low-stock alerts: every stock row against its SKU's threshold, at most
    // every settings::fulfilment.low_stock_scan_every.
    [[nodiscard]] result<void> scan_low_stock(due_work_report& report);
    std::atomic<std::int64_t> last_low_stock_scan_ms{std::numeric_limits<std::int64_t>::min()};
    // Cancels the order's shipments still in the warehouse (a cancelled order).
    [[nodiscard]] static result<void> cancel_shipments(detail::order_change& c);

    // After-sales (after_sales.cpp): the command loop on one ticket (locks
    // its order), opening a ticket (also cancel after shipment), the refund,
    // what follows a ticket's end, and due work on one ticket.
    using ticket_mutation =
        std::function<result<void>(detail::fulfilment_change&, detail::order_change&, ticket&)>;
    [[nodiscard]] result<command_outcome> on_ticket(const command_context& ctx, command what,
                                                    ticket_id id, std::uint64_t fingerprint,
                                                    const ticket_mutation& mutate,
                                                    bool remember = true);
    // A step that only moves the ticket with a note (withdraw, send to
    // repair, close); `ends` when the step ends the ticket.
    [[nodiscard]] result<command_outcome> ticket_step(const command_context& ctx, command what,
                                                      ticket_id id, ticket_event event,
                                                      std::string_view text, std::string_view field,
                                                      bool ends);
    [[nodiscard]] result<command_outcome> open_ticket(const command_context& ctx, command what,
                                                      const open_ticket_request& request,
                                                      bool in_transit);
    [[nodiscard]] result<void> refund_ticket(detail::fulfilment_change& f, detail::order_change& c,
                                             ticket& t, std::string_view note);
    [[nodiscard]] result<void> end_ticket(detail::fulfilment_change& f, detail::order_change& c,
                                          const ticket& t);
    // Closes a completed order whose tickets have all ended, and asks for a
    // rating; nothing when it has no ticket or one is open.
    [[nodiscard]] result<void> close_after_sales(detail::order_change& c,
                                                 const ticket* just_changed,
                                                 detail::fulfilment_change* f = nullptr);
    [[nodiscard]] result<void> run_due_ticket(ticket_id id, due_work_report& report);
    [[nodiscard]] result<void> escalate(detail::order_change& c, ticket& t, timestamp at);

    // Operations. operations.cpp: detectors, case commands and escalation;
    // reports.cpp: the archive pass (also run by due work) and the reads.
    [[nodiscard]] result<void> archive_pass(timestamp now, std::size_t limit,
                                            due_work_report& report);
    // Writes what detectors found through `tx`: opens a case per new cause,
    // reopens a resolved one, leaves an unresolved one be; returns how many
    // it opened or reopened.
    [[nodiscard]] result<std::size_t> raise_cases(store_transaction& tx,
                                                  const std::vector<detail::case_signal>& signals,
                                                  timestamp at, const actor& by);
    // The same in a transaction of its own (a detector outside any command,
    // or one whose command failed: a stock shortage).
    [[nodiscard]] result<std::size_t> raise_now(const detail::case_signal& signal);
    // A case's response deadline span at its priority.
    [[nodiscard]] duration response_time(case_priority p) const;
    // When a case resolved at `at` closes by itself (none when never).
    [[nodiscard]] std::optional<timestamp> close_time(timestamp at) const {
        const duration after = options.operations.close_resolved_after;
        return after > duration::zero() ? std::optional<timestamp>(at + after) : std::nullopt;
    }
    // The command loop on one case (on_store, then the case as stored).
    using case_mutation = std::function<result<void>(store_transaction&, exception_case&)>;
    [[nodiscard]] result<exception_case> on_case(const command_context& ctx, command what,
                                                 case_id id, std::uint64_t fingerprint,
                                                 const case_mutation& mutate);
    // Due work: one case past its response deadline; the periodic scans for
    // unprocessed orders and for causes that went away.
    [[nodiscard]] result<void> run_due_case(case_id id, due_work_report& report);
    [[nodiscard]] result<void> scan_operations(std::size_t limit, due_work_report& report);
    [[nodiscard]] result<bool> cause_holds(const exception_case& c);
    [[nodiscard]] result<std::size_t> open_if_unprocessed(order_id id, order_state state,
                                                          duration limit, timestamp at);
    [[nodiscard]] result<bool> clear_if_gone(case_id id);
    std::atomic<std::int64_t> last_operations_scan_ms{std::numeric_limits<std::int64_t>::min()};

    // Due work: one due order in its own transaction; the payment timeout;
    // the wait before retrying a notification.
    [[nodiscard]] result<void> run_due(order_id id, due_work_report& report);
    // A completed order whose after-sales window passed: closed (true) when
    // every ticket has ended.
    [[nodiscard]] result<bool> close_after_window(detail::order_change& c);
    [[nodiscard]] result<void> time_out(detail::order_change& c);
    [[nodiscard]] duration backoff(std::uint32_t attempt) const;
};

}  // namespace orderly
