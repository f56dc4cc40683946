#pragma once
/// \file
/// The engine: the one class hosts call for every order command. Each command
/// checks the actor's permission, validates its input, asks the lifecycle
/// machine whether the change is allowed, and writes everything it changes
/// (order, stock, timeline, outbox, idempotency record) in one store
/// transaction. Commands on one order run one at a time; commands on
/// different orders run in parallel.

#include <orderly/catalog/sku.hpp>
#include <orderly/core/actor.hpp>
#include <orderly/core/address.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/engine/after_sales.hpp>
#include <orderly/engine/fulfilment.hpp>
#include <orderly/engine/inventory.hpp>
#include <orderly/engine/operations.hpp>
#include <orderly/engine/outcome.hpp>
#include <orderly/engine/settings.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/ops/case_library.hpp>
#include <orderly/ops/exception_case.hpp>
#include <orderly/ops/status_board.hpp>
#include <orderly/order/order.hpp>
#include <orderly/payment/payment.hpp>
#include <orderly/ports/access_policy.hpp>
#include <orderly/ports/clock.hpp>
#include <orderly/ports/notifier.hpp>
#include <orderly/ports/store.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// A group commit; defined below.
class command_batch;

/// Who runs a command, and the key that makes it idempotent: the same key with
/// the same request returns the first result and changes nothing; the same
/// key with a different request is refused (errc::idempotency_key_reused).
/// Keys are scoped by command. A command that fails stores nothing, so its
/// key may be used again.
struct command_context {
    orderly::actor actor;         ///< Who, in which role.
    std::string idempotency_key;  ///< 1 to 128 visible characters, chosen by the caller.
    /// When set, the command runs inside this group commit (see
    /// engine::begin_batch): it is all-or-nothing as always, but durable only
    /// once the batch commits.
    command_batch* batch{nullptr};
};

/// A group commit (R-3 imports, back-office jobs): commands run with
/// command_context::batch pointing here are each all-or-nothing, and become
/// durable together when commit() succeeds: one disk sync for the lot.
///
/// On a grouping store (SqliteStore) their outcomes are provisional until
/// then: if commit() fails, or the batch is destroyed without it, none of
/// them happened, and other threads do not see them before. The batch holds
/// the database's write lock from its first command to its end; keep it
/// short. On a store without grouping (memory_store, or a host store that
/// keeps store::begin_batch's default) each command is final when it
/// returns and nothing is undone; a batch is never a way to make several
/// commands all-or-nothing together. Use it from one thread at a time.
class command_batch {
public:
    /// On a grouping store, undoes every command of the batch unless
    /// commit() succeeded.
    ~command_batch();
    command_batch(command_batch&&) noexcept;                  ///< Movable.
    command_batch& operator=(command_batch&&) noexcept;       ///< Movable.
    command_batch(const command_batch&) = delete;             ///< Not copyable.
    command_batch& operator=(const command_batch&) = delete;  ///< Not copyable.

    /// Makes every command of the batch durable at once, or none (the error
    /// says why). Call at most once; later commands on this batch fail.
    [[nodiscard]] result<void> commit();

private:
    friend class engine;
    command_batch(const void* owner, std::unique_ptr<store_batch> batch) noexcept;
    const void* owner_{nullptr};
    std::unique_ptr<store_batch> batch_;
    bool done_{false};
};

/// One line of a new order.
struct line_request {
    sku_id sku;        ///< What; must be in the catalogue and on sale.
    quantity units;    ///< How many; more than zero.
    money unit_price;  ///< The price the customer saw; must equal the catalogue's.
};

/// A new order.
struct place_order_request {
    order_channel channel{order_channel::web};    ///< Where it came from.
    customer_id customer;                         ///< Who buys. Required.
    merchant_id merchant;                         ///< Who sells; may be empty for a single shop.
    address ship_to;                              ///< Where to; validated part by part.
    std::vector<line_request> lines;              ///< What; at least one line.
    std::optional<money> discount;                ///< Order discount, allocated over the lines.
    std::optional<money> shipping_fee;            ///< Shipping charged.
    payment_method method{payment_method::card};  ///< How the customer pays.
    std::vector<std::string> tags;                ///< Free classification tags.
};

/// A row of a batch import: its own idempotency key (the marketplace's
/// order id, say) makes a re-run create nothing twice.
struct import_row {
    std::string idempotency_key;  ///< Unique per source order.
    place_order_request request;  ///< The order.
};

/// What a payment gateway reported. Callbacks may repeat, come out of
/// order or late; pass the gateway's event id as the idempotency key.
struct payment_callback {
    /// What the gateway says happened.
    enum class outcome : std::uint8_t {
        authorized = 1,  ///< Funds held.
        captured = 2,    ///< Funds taken (directly, or from an earlier authorization).
        failed = 3,      ///< Refused.
    };
    order_id order;                               ///< Which order.
    std::string gateway_reference;                ///< The gateway's transaction id.
    payment_method method{payment_method::card};  ///< Which method the customer used.
    outcome result{outcome::captured};            ///< What happened.
    std::optional<money> amount;  ///< Amount authorized or captured (not needed for failed).
    std::string failure_reason;   ///< The gateway's reason, for failed.
};

/// A refund of part or all of what was captured.
struct refund_request {
    order_id order;      ///< Which order.
    money amount;        ///< How much; at most captured − refunded.
    std::string reason;  ///< Why.
};

/// Handing a packed order to a carrier.
struct shipment_request {
    order_id order;               ///< Which order.
    carrier_id carrier;           ///< The carrier's id.
    std::string tracking_number;  ///< The carrier's tracking number (1 to 64 visible characters).
};

/// Stock arriving at a warehouse after inspection.
struct stock_receipt {
    sku_id sku;              ///< What arrived.
    warehouse_id warehouse;  ///< Where.
    quantity units;          ///< How many passed inspection; more than zero.
};

/// The safety stock kept back from sale for one SKU in one warehouse.
struct safety_stock_setting {
    sku_id sku;              ///< Which SKU.
    warehouse_id warehouse;  ///< Which warehouse.
    quantity units;          ///< Units kept back.
};

/// One item due work could not finish, and why. The pass went on with the
/// others; the item stays due and is tried again on the next pass.
struct due_work_failure {
    /// What failed: "order", "shipment", "ticket" or "case" (one due item,
    /// `id` says which), "notification" (one delivery's bookkeeping), or a
    /// whole step ("due_orders", "due_shipments", "due_tickets", "due_cases",
    /// "low_stock_scan", "operations_scan", "archive", "outbox"; `id` 0).
    std::string what;
    std::uint64_t id{0};  ///< The item's id, 0 for a step.
    orderly::error why;   ///< The error it returned.

    /// Failures are equal when every field is.
    friend bool operator==(const due_work_failure&, const due_work_failure&) = default;
};

/// What one run of due work did.
struct due_work_report {
    /// Most failures a report lists; `failed` counts them all.
    static constexpr std::size_t max_failures_listed = 32;

    std::size_t payment_timeouts{0};  ///< Orders cancelled because payment did not come.
    std::size_t auto_confirmed{0};    ///< Orders completed because nobody confirmed receipt.
    /// Completed orders closed because their after-sales window passed with
    /// every ticket ended (after_sales.window).
    std::size_t orders_closed{0};
    std::size_t delivered{0};          ///< Notifications the Notifier accepted.
    std::size_t delivery_failures{0};  ///< Notifications the Notifier refused (retried later).
    std::size_t delayed_shipments{0};  ///< Shipments newly marked delayed (R-22).
    /// Shipped parcels declared lost after fulfilment.lost_after without progress.
    std::size_t parcels_declared_lost{0};
    /// Lost or returned parcels refunded after fulfilment.auto_refund_after.
    std::size_t parcels_refunded{0};
    std::size_t low_stock_alerts{0};   ///< Stock rows newly below their SKU's threshold (R-11).
    std::size_t tickets_escalated{0};  ///< Tickets whose step deadline passed (R-25).
    std::size_t returns_expired{0};    ///< Tickets closed because the goods never came back.
    std::size_t tickets_closed{0};     ///< Tickets closed after their auto-close time.
    /// Exception cases opened or reopened by due work's scans (unprocessed
    /// orders, low stock; R-28). Cases opened with a command, or with a due
    /// order's or parcel's change (a payment timeout, a delay, a late
    /// ticket), are written with that change and tell operations.notify_role
    /// themselves; they are not counted here.
    std::size_t cases_opened{0};
    std::size_t cases_escalated{0};  ///< Cases whose response deadline passed.
    std::size_t causes_cleared{0};   ///< Cases resolved because their cause went away.
    /// Resolved cases closed after operations.close_resolved_after.
    std::size_t cases_closed{0};
    std::size_t orders_archived{0};  ///< Ended orders moved to the archive (R-32).
    /// Items and steps that failed (each also in `failures`, up to
    /// max_failures_listed); 0 when everything due was done.
    std::size_t failed{0};
    /// The first failures, in the order they happened.
    std::vector<due_work_failure> failures{};
};

/// The host's ports the engine works through. The engine keeps references:
/// each must outlive it.
struct engine_ports {
    orderly::store& store;                 ///< Where everything is kept.
    orderly::notifier& notifier;           ///< Where notifications go.
    const orderly::clock& clock;           ///< The only source of time.
    const orderly::access_policy& policy;  ///< Who may do what.
};

/// The order engine. Thread-safe: call any command from any thread.
class engine {
public:
    /// An engine over the host's ports; refuses invalid settings.
    [[nodiscard]] static result<std::unique_ptr<engine>> create(engine_ports ports,
                                                                settings options = {});
    /// An engine that also fulfils orders through the host's warehouses and
    /// carriers; refuses invalid settings and an invalid network (the error
    /// names the field under "fulfilment.").
    [[nodiscard]] static result<std::unique_ptr<engine>> create(engine_ports ports,
                                                                settings options,
                                                                fulfilment_setup fulfilment);
    /// Stops nothing: commands in flight must have returned.
    ~engine();
    engine(const engine&) = delete;             ///< Not copyable.
    engine& operator=(const engine&) = delete;  ///< Not copyable.

    /// Opens a group commit on this engine's store; see command_batch.
    [[nodiscard]] result<command_batch> begin_batch();

    // --- catalogue and stock (R-10, R-11) ---
    /// Adds or replaces a catalogue entry.
    [[nodiscard]] result<void> put_sku(const command_context& ctx, const sku& entry);
    /// Registers inspected stock arriving at a warehouse; returns the new level.
    [[nodiscard]] result<stock_level> receive_stock(const command_context& ctx,
                                                    const stock_receipt& receipt);
    /// Sets the safety stock; refused when available would fall below zero.
    [[nodiscard]] result<stock_level> set_safety_stock(const command_context& ctx,
                                                       const safety_stock_setting& setting);

    // --- orders ---
    /// Validates and places an order, reserving its stock in the same
    /// transaction, then reviews it automatically.
    [[nodiscard]] result<command_outcome> place_order(const command_context& ctx,
                                                      const place_order_request& request);
    /// Places a batch of orders: each row on its own, with its own key;
    /// returns one result per row, in order. ctx.idempotency_key is unused.
    /// Rows are group-committed settings::import_batch_size at a time (or
    /// inside ctx.batch when set, which the caller then commits); when a group
    /// of a grouping store fails to commit, each of its placed rows reports
    /// that error instead.
    [[nodiscard]] std::vector<result<command_outcome>> import_orders(
        const command_context& ctx, std::span<const import_row> rows);
    /// A reviewer approves an order waiting in manual review.
    [[nodiscard]] result<command_outcome> approve_order(const command_context& ctx, order_id id,
                                                        std::string_view reason);
    /// A reviewer rejects an order; its stock is released.
    [[nodiscard]] result<command_outcome> reject_order(const command_context& ctx, order_id id,
                                                       std::string_view reason);
    /// Records a gateway's payment callback.
    [[nodiscard]] result<command_outcome> record_payment(const command_context& ctx,
                                                         const payment_callback& callback);
    /// Records a refund of captured money and notifies finance to execute it.
    [[nodiscard]] result<command_outcome> refund_payment(const command_context& ctx,
                                                         const refund_request& request);
    /// Cancels an order before shipment: releases its stock, refunds
    /// what was captured. After shipment (shipped, delivered, completed) a
    /// cancel opens a return-and-refund ticket for every unit still
    /// claimable instead (reason changed_mind); the outcome names it.
    [[nodiscard]] result<command_outcome> cancel_order(const command_context& ctx, order_id id,
                                                       std::string_view reason);
    /// Puts an order on hold for manual intervention.
    [[nodiscard]] result<command_outcome> hold_order(const command_context& ctx, order_id id,
                                                     std::string_view reason);
    /// Takes an order off hold, back to the state it was held in.
    [[nodiscard]] result<command_outcome> release_order(const command_context& ctx, order_id id,
                                                        std::string_view reason);
    /// A warehouse takes a paid order for picking.
    [[nodiscard]] result<command_outcome> allocate_order(const command_context& ctx, order_id id);
    /// The parcel is packed.
    [[nodiscard]] result<command_outcome> pack_order(const command_context& ctx, order_id id);
    /// The carrier takes the parcel; the stock leaves on-hand.
    [[nodiscard]] result<command_outcome> ship_order(const command_context& ctx,
                                                     const shipment_request& request);
    /// The carrier delivered; cash on delivery is recorded as paid now.
    [[nodiscard]] result<command_outcome> deliver_order(const command_context& ctx, order_id id);
    /// The customer confirms receipt.
    [[nodiscard]] result<command_outcome> confirm_receipt(const command_context& ctx, order_id id);
    /// Closes a completed order; refused (field "tickets") while one of its
    /// after-sales tickets is open. An order whose last ticket ends closes
    /// on its own.
    [[nodiscard]] result<command_outcome> close_order(const command_context& ctx, order_id id);

    // --- fulfilment (R-7, R-8, R-13, R-19…R-22); needs a fulfilment_setup ---
    /// Plans a paid order's fulfilment: splits its lines by merchant, by
    /// warehouse (the setup's selector over stock and ship-to region) and by
    /// shipping method into shipments, moves its reservations to the chosen
    /// warehouses, chooses each shipment's carrier and service, tells each
    /// merchant of its new shipment, and moves the order to allocating. The
    /// order's shipments are in order::shipments afterwards.
    [[nodiscard]] result<command_outcome> plan_fulfilment(const command_context& ctx,
                                                          const fulfilment_request& request);
    /// Merges planned shipments (not yet in a pick wave) of one customer to
    /// one address, from one warehouse by one shipping method, whose orders
    /// were placed within settings::fulfilment.merge_window of each other,
    /// into the first of them; the others are cancelled. Each order keeps its
    /// lines, money, timeline and after-sales rights.
    [[nodiscard]] result<command_outcome> merge_shipments(const command_context& ctx,
                                                          std::span<const shipment_id> shipments);
    /// Groups a warehouse's planned shipments into pick waves by zone and
    /// carrier cut-off, within the options' size limits, each with a pick
    /// list sorted by bin; the shipments move to picking. Returns the waves.
    [[nodiscard]] result<std::vector<stored_pick_wave>> plan_pick_waves(
        const command_context& ctx, const warehouse_id& warehouse,
        const pick_wave_options& options = {});
    /// One scan at the packing station. A SKU the shipment does not hold, or
    /// more units than it holds, is refused and recorded in the shipment's
    /// packing record (the command still succeeds; the result says so).
    [[nodiscard]] result<pack_scan_result> scan_for_packing(const command_context& ctx,
                                                            const pack_scan_request& request);
    /// Seals a parcel whose every unit was scanned: the shipment is packed,
    /// and each order whose shipments are all packed moves to packed. Units
    /// still missing are refused (field "packing") and recorded.
    [[nodiscard]] result<command_outcome> finish_packing(const command_context& ctx,
                                                         shipment_id id);
    /// Hands a packed parcel to its carrier: the carrier issues the waybill
    /// and tracking number, the stock leaves on-hand, the customer is told,
    /// and each order whose shipments have all left moves to shipped.
    [[nodiscard]] result<command_outcome> ship_shipment(const command_context& ctx, shipment_id id);
    /// Records a carrier's tracking event. Repeats are recorded once and
    /// events are ordered by the carrier's event time; the customer hears of
    /// each change. Delivered: when all of an order's shipments are delivered,
    /// the order is. Lost or returned: a logistics exception is raised.
    [[nodiscard]] result<command_outcome> record_carrier_event(
        const command_context& ctx, const carrier_event_request& request);
    /// Reports a parcel lost or damaged: raises a logistics exception.
    [[nodiscard]] result<command_outcome> report_logistics_exception(
        const command_context& ctx, const logistics_exception_report& report);
    /// Puts an open logistics exception right: reship (a new shipment with new
    /// reservations from the same warehouse), refund (the goods' paid value,
    /// through the payment records) or compensation (an amount to finance).
    [[nodiscard]] result<command_outcome> resolve_logistics_exception(
        const command_context& ctx, const logistics_resolution& resolution);

    // --- after-sales (R-6, R-24…R-27) ---
    /// Opens a ticket on a shipped, delivered or completed order for some or
    /// all of its units (see open_ticket_request::lines), then applies the
    /// approval rules (settings::after_sales): an approved refund-only ticket
    /// is refunded and closed at once; an approved ticket with a return
    /// awaits the goods (the customer is told where to send them); anything
    /// else waits for an agent within after_sales.response_time. The ticket
    /// is in command_outcome::ticket.
    [[nodiscard]] result<command_outcome> open_ticket(const command_context& ctx,
                                                      const open_ticket_request& request);
    /// Gives a ticket to an after-sales agent (1 to 128 bytes).
    [[nodiscard]] result<command_outcome> assign_ticket(const command_context& ctx, ticket_id id,
                                                        std::string_view agent);
    /// An agent approves or rejects a ticket under review; an approved
    /// refund-only ticket is refunded and closed at once.
    [[nodiscard]] result<command_outcome> decide_ticket(const command_context& ctx,
                                                        const ticket_decision& decision);
    /// The customer withdraws a ticket before any goods came back.
    [[nodiscard]] result<command_outcome> withdraw_ticket(const command_context& ctx, ticket_id id,
                                                          std::string_view reason);
    /// The customer sent the goods back: records the return parcel.
    [[nodiscard]] result<command_outcome> record_return_shipment(
        const command_context& ctx, const return_shipment_request& request);
    /// A carrier's event on the return parcel, kept like a shipment's
    /// tracking (ordered by event time, each event once).
    [[nodiscard]] result<command_outcome> record_return_event(const command_context& ctx,
                                                              const return_event_request& request);
    /// The warehouse received the returned goods.
    [[nodiscard]] result<command_outcome> receive_return(const command_context& ctx, ticket_id id);
    /// The warehouse inspected them: sellable units go back to on-hand stock
    /// at ticket::return_to, damaged units to its damaged bin. A return and
    /// refund is then refunded and closed.
    [[nodiscard]] result<command_outcome> inspect_return(const command_context& ctx,
                                                         const inspection_request& request);
    /// Refunds an inspected ticket of any type (an exchange without stock,
    /// say) and closes it: each claimed unit's paid price less its discount
    /// share, plus shipping as refund.hpp says, through the payment records.
    [[nodiscard]] result<command_outcome> refund_ticket(const command_context& ctx, ticket_id id,
                                                        std::string_view note);
    /// Ships an inspected exchange's replacement: reserves the units (the
    /// original warehouse first, then any with stock) and plans a shipment
    /// that goes through pick, pack and ship like any other. Needs a
    /// fulfilment set-up. Without stock it is refused (insufficient_stock)
    /// and nothing changes: refund_ticket is the way out.
    [[nodiscard]] result<command_outcome> ship_replacement(const command_context& ctx,
                                                           ticket_id id);
    /// Sends an inspected repair ticket's goods to the repairer.
    [[nodiscard]] result<command_outcome> send_to_repair(const command_context& ctx, ticket_id id,
                                                         std::string_view note);
    /// The repaired goods go back to the customer.
    [[nodiscard]] result<command_outcome> ship_repaired(const command_context& ctx,
                                                        const repair_return_request& request);
    /// The repairer could not repair the goods: the ticket goes back to
    /// inspected, where it is refunded (refund_ticket) or a replacement is
    /// shipped (ship_replacement). `note` says why (required, up to 512 bytes).
    [[nodiscard]] result<command_outcome> record_repair_failure(const command_context& ctx,
                                                                ticket_id id,
                                                                std::string_view note);
    /// Closes a ticket whose replacement or repaired goods went out (the
    /// customer confirms, or an agent); due work closes it after
    /// after_sales.auto_close_after otherwise.
    [[nodiscard]] result<command_outcome> close_ticket(const command_context& ctx, ticket_id id,
                                                       std::string_view note);
    /// The customer rates a completed or closed order, once.
    [[nodiscard]] result<command_outcome> rate_order(const command_context& ctx,
                                                     const rating_request& request);
    /// A ticket as stored (customers see only their own).
    [[nodiscard]] result<ticket> get_ticket(const actor& who, ticket_id id) const;
    /// An order's tickets, oldest first.
    [[nodiscard]] result<std::vector<ticket>> tickets_of(const actor& who, order_id id) const;

    // --- inventory between warehouses (R-11) ---
    /// Sends units from one warehouse to another: they leave the source's on
    /// hand and count as in transit at the target until received.
    [[nodiscard]] result<stock_transfer> dispatch_transfer(const command_context& ctx,
                                                           const transfer_request& request);
    /// The target received a transfer: its units are on hand there.
    [[nodiscard]] result<stock_transfer> receive_transfer(const command_context& ctx,
                                                          transfer_id id);
    /// Calls a transfer back before it arrived (it will not come, or must
    /// not): its units leave the target's in-transit figure and are on hand
    /// at the source again. `reason` is required (up to 512 bytes).
    [[nodiscard]] result<stock_transfer> cancel_transfer(const command_context& ctx, transfer_id id,
                                                         std::string_view reason);
    /// Transfers that would cover open demand: orders not yet planned count
    /// toward the nearest warehouse serving their address, plus each SKU's
    /// low-stock threshold, against what each warehouse has (available plus
    /// what those orders already hold there); shortfalls are filled from the
    /// largest surpluses. Reads at most `max_orders` open orders. Needs a
    /// fulfilment set-up (its network says which warehouse serves where).
    [[nodiscard]] result<std::vector<transfer_proposal>> propose_transfers(
        const actor& who, std::size_t max_orders = 10'000) const;

    // --- operations (R-28, R-30, R-31, R-32) ---
    /// Opens an exception case by hand (detectors open theirs in due work
    /// and as events happen). Its response deadline follows its priority
    /// (settings::operations); operations.notify_role is told.
    [[nodiscard]] result<exception_case> open_case(const command_context& ctx,
                                                   const open_case_request& request);
    /// Takes a case: it is acknowledged and owned by `owner` (empty: the actor).
    [[nodiscard]] result<exception_case> acknowledge_case(const command_context& ctx, case_id id,
                                                          std::string_view owner);
    /// Gives an unresolved case to another owner, without moving it.
    [[nodiscard]] result<exception_case> assign_case(const command_context& ctx, case_id id,
                                                     std::string_view owner);
    /// Work on a case began (from open or acknowledged).
    [[nodiscard]] result<exception_case> start_case_work(const command_context& ctx, case_id id);
    /// Adds a note to a live case.
    [[nodiscard]] result<exception_case> add_case_note(const command_context& ctx, case_id id,
                                                       std::string_view text);
    /// Resolves a case with what was done and a code hosts count (both
    /// required; the code is a lower-case word such as "reshipped").
    [[nodiscard]] result<exception_case> resolve_case(const command_context& ctx, case_id id,
                                                      std::string_view resolution,
                                                      std::string_view code);
    /// Closes a resolved case: nothing more will happen to it.
    [[nodiscard]] result<exception_case> close_case(const command_context& ctx, case_id id);
    /// A case as stored.
    [[nodiscard]] result<exception_case> get_case(const actor& who, case_id id) const;
    /// Unresolved cases (open, acknowledged, in progress, escalated), most
    /// urgent first, then oldest first; at most `limit`.
    [[nodiscard]] result<std::vector<exception_case>> open_cases(const actor& who,
                                                                 std::size_t limit = 1000) const;
    /// The case library: resolved and closed cases matching `query`, with
    /// counts per resolution code.
    [[nodiscard]] result<case_search_result> search_cases(const actor& who,
                                                          const case_query& query) const;
    /// The status board of the orders placed in [from, to), read from
    /// the stores: live and archived orders, their timelines, and their
    /// exception cases and logistics exceptions. Reads every order: a report,
    /// not a hot path.
    [[nodiscard]] result<status_board> status_board_of(const actor& who, timestamp from,
                                                       timestamp to) const;
    /// Every merchant's statement of `period` under
    /// settings::settlement, from the orders completed before its end (live
    /// and archived), their SKUs' categories and their refunds. An order
    /// placed without a merchant is paid to the merchant its SKUs belong to;
    /// when they belong to several, the period is refused (missing_value,
    /// "merchant"): settlement needs one merchant per order.
    [[nodiscard]] result<store_settlement> settle_period(const actor& who,
                                                         const settlement_period& period) const;
    /// Moves closed and cancelled orders whose last change is older than
    /// operations.archive_after to the archive, at most `limit`;
    /// returns how many moved. run_due_work does the same.
    [[nodiscard]] result<std::size_t> archive_orders(const command_context& ctx,
                                                     std::size_t limit = 256);

    // --- reading ---
    /// A stock transfer as stored.
    [[nodiscard]] result<stock_transfer> get_transfer(const actor& who, transfer_id id) const;
    /// Units shipped from a warehouse over [from, to) against its
    /// time-weighted average on hand, from the store's on-hand ledger.
    [[nodiscard]] result<stock_turnover> turnover(const actor& who, const sku_id& sku,
                                                  const warehouse_id& warehouse, timestamp from,
                                                  timestamp to) const;
    /// A shipment as stored (customers see only their own).
    [[nodiscard]] result<shipment> get_shipment(const actor& who, shipment_id id) const;
    /// Each carrier's KPIs over the parcels handed to it in [from, to),
    /// by carrier id. Reads every shipment that left a warehouse: a report,
    /// not a hot path.
    [[nodiscard]] result<std::vector<carrier_kpi>> carrier_kpis(const actor& who, timestamp from,
                                                                timestamp to) const;
    /// How to pack a parcel: padding, sealing, upright, tamper-evident,
    /// insurance or freight from its goods' traits, and the smallest box of
    /// fulfilment_setup::packaging that holds it.
    [[nodiscard]] result<packaging_hint> packaging_for(const actor& who, shipment_id id) const;
    /// An order's shipments and how far they got (partially shipped, ...).
    [[nodiscard]] result<order_fulfilment> fulfilment(const actor& who, order_id id) const;
    /// The order as stored.
    [[nodiscard]] result<order> get_order(const actor& who, order_id id) const;
    /// The order's timeline, oldest first.
    [[nodiscard]] result<std::vector<timeline_entry>> timeline(const actor& who, order_id id) const;
    /// Orders waiting in manual review, oldest first, at most `limit`.
    [[nodiscard]] result<std::vector<order>> review_queue(const actor& who,
                                                          std::size_t limit) const;

    // --- due work (R-9, R-17, R-29) ---
    /// Runs what the clock says is due: payment timeouts, auto-confirmations,
    /// delayed parcels, ticket deadlines (escalation, expired returns,
    /// auto-close), low stock, then notification delivery and retries. Hosts call it from their own
    /// scheduler (every second, say); at most `limit` items of each kind.
    [[nodiscard]] result<due_work_report> run_due_work(std::size_t limit = 256);
    /// Delivers what is in the outbox now, without the other due work.
    [[nodiscard]] result<due_work_report> dispatch_notifications(std::size_t limit = 256);

private:
    struct impl;
    explicit engine(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

}  // namespace orderly
