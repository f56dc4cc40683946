#pragma once
/// \file
/// Every threshold, timeout and switch of the engine in one struct.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/time.hpp>
#include <orderly/ops/settlement.hpp>
#include <orderly/ports/notifier.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orderly {

/// Rules that send an order to manual review instead of approving it
/// automatically at placement. A flagged order waits in the review
/// queue; every rule that fired is listed in order::review_flags.
struct review_rules {
    /// An order whose total is at or above one of these (in the order's
    /// currency) is flagged "high_value". A currency without an entry has no
    /// amount limit.
    std::vector<money> high_value_at_or_above;
    /// An order with a restricted SKU is flagged "restricted_sku".
    bool review_restricted_skus{true};
    /// Customers whose orders are flagged "blocked_customer".
    std::vector<customer_id> blocked_customers;
    /// Phones (any shape normalize_phone accepts) whose orders are flagged "blocked_phone".
    std::vector<std::string> blocked_phones;
    /// Flags "phone_country_mismatch" when a ship-to phone written in E.164
    /// form belongs to another country than the address (+86 for CN, +1 for US).
    bool check_phone_country{true};
    /// Flags "large_quantity" when one line asks for more units than this (0: off).
    std::int64_t max_units_per_line{0};
};

/// Fulfilment timing.
struct fulfilment_settings {
    /// Orders of one customer to one address placed within this of each
    /// other may be merged into one shipment.
    duration merge_window{std::chrono::hours(2)};
    /// A shipped parcel without carrier progress for this long is delayed.
    duration delay_limit{std::chrono::hours(48)};
    /// Promised delivery for orders that name none: within this many days.
    std::int32_t default_promised_days{5};
    /// How often run_due_work scans every stock row for low stock;
    /// the scan reads the whole stock table, so not on every call.
    duration low_stock_scan_every{std::chrono::minutes(5)};
    /// A shipped parcel without carrier progress for this long is declared
    /// lost by due work (0: never; then only the carrier or a person does).
    /// At least delay_limit when set.
    duration lost_after{std::chrono::days(30)};
    /// A lost or returned parcel that nobody reshipped or refunded within
    /// this is refunded by due work (0: never; then a person must).
    duration auto_refund_after{std::chrono::days(7)};
};

/// After-sales rules and deadlines (R-24…R-27).
struct after_sales_settings {
    /// An agent decides a ticket under review within this; then it escalates.
    duration response_time{std::chrono::hours(24)};
    /// The warehouse inspects returned goods within this of receiving them.
    duration inspection_time{std::chrono::hours(48)};
    /// An inspected ticket is refunded, replaced or sent to repair within this.
    duration resolution_time{std::chrono::hours(48)};
    /// The customer sends the goods back within this of approval, or the
    /// ticket closes without them (return_expired).
    duration return_window{std::chrono::days(7)};
    /// A ticket whose replacement or repaired goods went out closes on its
    /// own after this, unless closed earlier.
    duration auto_close_after{std::chrono::days(10)};
    /// The repairer returns the goods (repaired, or unrepairable) within
    /// this of their sending; then the ticket escalates.
    duration repair_time{std::chrono::days(14)};
    /// A return parcel the customer reported may take this long between
    /// carrier events; while it moves, the ticket waits for it instead of
    /// expiring; when it stops that long, the ticket escalates.
    duration return_transit_time{std::chrono::days(14)};
    /// After-sales window: a completed order takes tickets for this long,
    /// then closes on its own once every ticket has ended (0: never; then
    /// close_order closes it).
    duration window{std::chrono::days(15)};
    /// Rule "damage_reported_promptly": a damaged or wrong item reported
    /// within this of delivery is approved automatically when its refund is
    /// below the limit for its currency in `auto_approve_below`.
    duration damage_report_window{std::chrono::hours(48)};
    /// Per-currency limits of the damage rule; a currency without an entry
    /// never gets automatic damage approval.
    std::vector<money> auto_approve_below;
    /// Rule "not_delivered": a refund-only ticket for units whose parcel the
    /// carrier lost or sent back (and nobody reshipped or refunded) is
    /// approved automatically.
    bool auto_approve_undelivered_refunds{true};
    /// After-sales agents; a new ticket is owned by one of them (by ticket
    /// id), or by nobody when empty until assign_ticket.
    std::vector<std::string> agents;
    /// The role an escalation notifies (the next role up).
    std::string escalate_to{"after_sales_lead"};
};

/// Exception cases, their detectors and the archive.
struct operations_settings {
    /// An order waiting for review longer than this is unprocessed (0: off).
    duration review_limit{std::chrono::hours(24)};
    /// A paid order not allocated within this is unprocessed (0: off).
    duration paid_limit{std::chrono::hours(24)};
    /// An allocated order not packed within this is unprocessed (0: off).
    duration allocating_limit{std::chrono::hours(24)};
    /// A packed order not shipped within this is unprocessed (0: off).
    duration packed_limit{std::chrono::hours(12)};
    /// An order on hold longer than this is unprocessed (0: off).
    duration on_hold_limit{std::chrono::hours(72)};
    /// Failed delivery attempts on one parcel after which its address is
    /// treated as unclear (0: off).
    std::uint32_t failed_attempts_for_unclear_address{2};
    /// Response deadline of a new or reopened case, by priority (low,
    /// normal, high, urgent); each escalation arms the raised priority's.
    duration low_response{std::chrono::hours(72)};
    duration normal_response{std::chrono::hours(24)};  ///< For normal priority.
    duration high_response{std::chrono::hours(8)};     ///< For high priority.
    duration urgent_response{std::chrono::hours(2)};   ///< For urgent priority.
    /// The role told of new cases.
    std::string notify_role{"operations"};
    /// The role an escalation tells (the next role up).
    std::string escalate_to{"operations_lead"};
    /// How often run_due_work looks for unprocessed orders and re-checks the
    /// causes of unresolved cases; both read every order in a working state,
    /// so not on every call.
    duration scan_every{std::chrono::minutes(5)};
    /// Closed and cancelled orders whose last change is older than this move
    /// to the archive in run_due_work and archive_orders (0: never).
    duration archive_after{std::chrono::days(90)};
    /// A resolved case closes on its own this long after it was resolved,
    /// unless its cause came back meanwhile (0: never; then close_case).
    duration close_resolved_after{std::chrono::hours(72)};
};

/// Back-off for notifications the host's Notifier refused: the first retry
/// after `first_retry`, doubling up to `max_retry`; never given up on.
struct outbox_settings {
    duration first_retry{std::chrono::seconds(5)};  ///< Wait before the first retry.
    duration max_retry{std::chrono::minutes(30)};   ///< Longest wait between retries.
    duration lease{std::chrono::minutes(
        1)};  ///< How long a claimed notification is reserved for one dispatcher.
    std::vector<notification_kind> muted;  ///< Kinds never written to the outbox.
};

/// The engine's settings. Defaults suit a typical shop; validate() checks a
/// host's own values.
struct settings {
    /// This engine's node number (0…1023) in order numbers; engines that
    /// share a store need different nodes.
    unsigned node{0};
    /// Review rules.
    review_rules review;
    /// How long an approved order waits for payment before it is cancelled
    /// and its stock released.
    duration payment_timeout{std::chrono::minutes(30)};
    /// Failed payment attempts after which the order is cancelled at once.
    std::uint32_t max_payment_failures{3};
    /// Delivered orders confirm receipt on their own after this.
    duration auto_confirm_after{std::chrono::days(7)};
    /// Notification back-off and switches.
    outbox_settings outbox;
    /// Most lines one order may have.
    std::size_t max_lines_per_order{200};
    /// Most tags one order may have, and the longest tag in bytes.
    std::size_t max_tags{32};
    /// Longest tag, in bytes.
    std::size_t max_tag_bytes{64};
    /// How often a command is re-run when a concurrent change beat it at commit.
    unsigned conflict_retries{16};
    /// Merge window, delay limit and promise.
    fulfilment_settings fulfilment;
    /// Rows of import_orders made durable per group commit (at least 1).
    std::size_t import_batch_size{256};
    /// After-sales deadlines and approval rules (R-24…R-27).
    after_sales_settings after_sales{};
    /// Exception cases, detectors and the archive.
    operations_settings operations{};
    /// Commission, service fees and the account period.
    settlement_rules settlement{};
};

/// Checks settings; the error names the field ("payment_timeout").
[[nodiscard]] result<void> validate(const settings& s);

}  // namespace orderly
