#pragma once
/// \file
/// The Notifier port: the host's channels (SMS, app push, e-mail,
/// webhooks). orderly writes every notification to an outbox in the same
/// transaction as the change, then hands it to the Notifier after commit, at
/// least once, under a stable id the host de-duplicates on.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/time.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly {

/// What a notification announces. Stored values never change.
enum class notification_kind : std::uint8_t {
    order_confirmed = 1,       ///< The order was placed and its stock reserved.
    review_result = 2,         ///< A reviewer approved or rejected the order.
    payment_result = 3,        ///< A payment succeeded or failed.
    shipped = 4,               ///< The parcel left, with carrier and tracking number.
    delivered = 5,             ///< The parcel arrived.
    cancelled = 6,             ///< The order was cancelled.
    payment_timeout = 7,       ///< The payment timeout passed; the order was cancelled.
    completed = 8,             ///< Receipt confirmed; asks for a review (R-9).
    refund_issued = 9,         ///< Money is to be given back; finance executes it at the gateway.
    new_order = 10,            ///< A merchant has a new shipment to handle (R-8).
    tracking_update = 11,      ///< The carrier reported progress on a parcel (R-21).
    logistics_exception = 12,  ///< A parcel is delayed, lost or damaged, or was put right (R-22).
    low_stock = 13,  ///< A warehouse's available units of a SKU fell below its threshold (R-11).
    ticket_submitted = 14,     ///< An after-sales ticket was opened (R-25).
    ticket_decided = 15,       ///< A ticket was approved or rejected, by a rule or an agent.
    return_instructions = 16,  ///< Where and how to send the goods back: the return label.
    return_received = 17,      ///< The returned goods arrived, or were inspected.
    ticket_refunded = 18,      ///< A ticket's refund was issued, with its amount.
    replacement_shipped = 19,  ///< An exchange's replacement is on its way.
    repair_shipped = 20,       ///< Repaired goods are on their way back.
    ticket_closed = 21,        ///< A ticket ended (closed, withdrawn, or the return expired).
    rating_requested =
        22,  ///< The order closed after its after-sales work; asks for a rating (R-27).
    ticket_escalated = 23,  ///< A ticket's deadline passed; the next role up is told.
    case_opened = 24,       ///< An exception case was opened or reopened (R-28).
    case_escalated = 25,    ///< A case's response deadline passed; the next role up is told.
    /// The order closed without completing: every unit was refunded (lost or
    /// returned parcels, returns). No review is asked for.
    order_closed = 26,
    /// Finance is to pay the customer a compensation outside the payments
    /// (a late or damaged parcel), with its amount.
    compensation_issued = 27,
};

/// Every notification kind, in numeric order.
inline constexpr std::array<notification_kind, 27> all_notification_kinds = {
    notification_kind::order_confirmed,     notification_kind::review_result,
    notification_kind::payment_result,      notification_kind::shipped,
    notification_kind::delivered,           notification_kind::cancelled,
    notification_kind::payment_timeout,     notification_kind::completed,
    notification_kind::refund_issued,       notification_kind::new_order,
    notification_kind::tracking_update,     notification_kind::logistics_exception,
    notification_kind::low_stock,           notification_kind::ticket_submitted,
    notification_kind::ticket_decided,      notification_kind::return_instructions,
    notification_kind::return_received,     notification_kind::ticket_refunded,
    notification_kind::replacement_shipped, notification_kind::repair_shipped,
    notification_kind::ticket_closed,       notification_kind::rating_requested,
    notification_kind::ticket_escalated,    notification_kind::case_opened,
    notification_kind::case_escalated,      notification_kind::order_closed,
    notification_kind::compensation_issued};

/// The stable name of a kind ("order_confirmed").
[[nodiscard]] constexpr std::string_view to_string(notification_kind k) noexcept {
    switch (k) {
        case notification_kind::order_confirmed:
            return "order_confirmed";
        case notification_kind::review_result:
            return "review_result";
        case notification_kind::payment_result:
            return "payment_result";
        case notification_kind::shipped:
            return "shipped";
        case notification_kind::delivered:
            return "delivered";
        case notification_kind::cancelled:
            return "cancelled";
        case notification_kind::payment_timeout:
            return "payment_timeout";
        case notification_kind::completed:
            return "completed";
        case notification_kind::refund_issued:
            return "refund_issued";
        case notification_kind::new_order:
            return "new_order";
        case notification_kind::tracking_update:
            return "tracking_update";
        case notification_kind::logistics_exception:
            return "logistics_exception";
        case notification_kind::low_stock:
            return "low_stock";
        case notification_kind::ticket_submitted:
            return "ticket_submitted";
        case notification_kind::ticket_decided:
            return "ticket_decided";
        case notification_kind::return_instructions:
            return "return_instructions";
        case notification_kind::return_received:
            return "return_received";
        case notification_kind::ticket_refunded:
            return "ticket_refunded";
        case notification_kind::replacement_shipped:
            return "replacement_shipped";
        case notification_kind::repair_shipped:
            return "repair_shipped";
        case notification_kind::ticket_closed:
            return "ticket_closed";
        case notification_kind::rating_requested:
            return "rating_requested";
        case notification_kind::ticket_escalated:
            return "ticket_escalated";
        case notification_kind::case_opened:
            return "case_opened";
        case notification_kind::case_escalated:
            return "case_escalated";
        case notification_kind::order_closed:
            return "order_closed";
        case notification_kind::compensation_issued:
            return "compensation_issued";
    }
    return "unknown";
}

/// Whom a notification is for. Stored values never change.
enum class audience : std::uint8_t {
    customer = 1,  ///< The buyer; `recipient` is the customer id.
    merchant = 2,  ///< The seller; `recipient` is the merchant id.
    staff = 3,     ///< A team (finance, warehouse); `recipient` names the role.
};

/// The stable name of an audience ("merchant").
[[nodiscard]] constexpr std::string_view to_string(audience a) noexcept {
    switch (a) {
        case audience::customer:
            return "customer";
        case audience::merchant:
            return "merchant";
        case audience::staff:
            return "staff";
    }
    return "unknown";
}

/// A message about an order, for one recipient.
struct notification {
    std::uint64_t id{0};  ///< Stable, unique, assigned by the store at commit; de-duplicate on it.
    notification_kind kind{notification_kind::order_confirmed};  ///< What it announces.
    order_id order;                                              ///< About which order.
    order_number number;                                         ///< The order's printable number.
    orderly::audience audience{audience::customer};              ///< Whom for.
    std::string recipient;  ///< Customer id, merchant id or role name.
    std::string text;       ///< A sentence for a person.
    std::vector<std::pair<std::string, std::string>>
        details;               ///< Machine-readable facts ("tracking_number", ...).
    timestamp created_at;      ///< When the change committed.
    std::uint32_t attempt{0};  ///< 1 on the first delivery attempt, 2 on the first retry, ...

    /// Notifications are equal when every field is.
    friend bool operator==(const notification&, const notification&) = default;
};

/// A notification in the outbox, with its delivery bookkeeping.
struct outbox_entry {
    orderly::notification notification;  ///< The message.
    bool delivered{false};               ///< The Notifier accepted it.
    std::uint32_t attempts{0};           ///< Delivery attempts so far.
    timestamp next_attempt_at;           ///< Not handed out again before this.
    std::string last_error;              ///< The Notifier's last refusal, if any.

    /// Entries are equal when every field is.
    friend bool operator==(const outbox_entry&, const outbox_entry&) = default;
};

/// The host's delivery channels. `deliver` may be called from several threads
/// at once and, after a crash or a failed attempt, more than once for the same
/// notification id: hosts de-duplicate on `notification::id`.
class notifier {
public:
    /// Virtual, so hosts may own a notifier through a base pointer.
    virtual ~notifier() = default;
    /// Sends the notification. An error (errc::notification_failed, say)
    /// makes orderly retry later with back-off; success is final.
    [[nodiscard]] virtual result<void> deliver(const notification& note) = 0;
};

}  // namespace orderly

/// Formats a notification kind as its name.
template <>
struct fmt::formatter<orderly::notification_kind> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::notification_kind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(k), ctx);
    }
};

/// Formats an audience as its name.
template <>
struct fmt::formatter<orderly::audience> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::audience a, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(a), ctx);
    }
};
