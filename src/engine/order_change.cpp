// How one command's changes to one order are gathered: state transitions
// through the machine, timeline entries, deadlines, reservations, refunds
// and notifications.

#include "engine_impl.hpp"

#include <algorithm>

namespace orderly::detail {

result<void> order_change::transition(order_event event, std::string reason,
                                      const orderly::actor& by) {
    const order_guard_facts facts{order.method == payment_method::cash_on_delivery,
                                  order.held_from};
    auto next = next_order_state(order.state, event, facts);
    if (!next) {
        return std::move(next).error();
    }
    const order_state before = order.state;
    entries.push_back(timeline_entry{now_, by, event, before, *next, std::move(reason)});
    if (event == order_event::held) {
        order.held_from = before;
    }
    order.state = *next;
    arm_deadline(before);
    return {};
}

// The due-work scan acts on order::due_at: the payment timeout while the
// order waits for payment, the auto-confirm time once it is delivered. A
// failed payment attempt keeps the original deadline; coming back from hold
// starts a new payment window.
void order_change::arm_deadline(order_state before) {
    switch (order.state) {
        case order_state::awaiting_payment:
            if (before != order_state::awaiting_payment || !order.due_at) {
                order.due_at = now_ + settings_.payment_timeout;
            }
            return;
        case order_state::delivered:
            order.due_at = now_ + settings_.auto_confirm_after;
            return;
        default:
            order.due_at.reset();
            return;
    }
}

void order_change::notify(notification_kind kind, audience to, std::string recipient,
                          std::string text,
                          std::vector<std::pair<std::string, std::string>> details) {
    const auto& muted = settings_.outbox.muted;
    if (std::find(muted.begin(), muted.end(), kind) != muted.end()) {
        return;
    }
    notification note;
    note.kind = kind;
    note.order = order.id;
    note.number = order.number;
    note.audience = to;
    note.recipient = std::move(recipient);
    note.text = std::move(text);
    note.details = std::move(details);
    note.created_at = now_;
    notes.push_back(std::move(note));
}

void order_change::commit_reservations() {
    for (auto& r : order.reservations) {
        if (r.state == reservation_state::held) {
            r.state = reservation_state::committed;
        }
    }
}

void order_change::release_reservations() {
    for (auto& r : order.reservations) {
        if (r.active()) {
            r.state = reservation_state::released;
            stock.push_back(stock_change{r.sku, r.warehouse, stock_operation::release, r.units,
                                         "reservations"});
        }
    }
}

void order_change::consume_reservations() {
    for (auto& r : order.reservations) {
        if (r.active()) {
            r.state = reservation_state::consumed;
            stock.push_back(stock_change{r.sku, r.warehouse, stock_operation::consume, r.units,
                                         "reservations"});
        }
    }
}

result<void> order_change::refund(payment& p, const money& amount, std::string_view reason) {
    auto refunded = p.refunded.plus(amount);
    if (!refunded) {
        return std::move(refunded).error().within("amount");
    }
    auto refundable = p.captured.minus(p.refunded);
    if (!refundable) {
        return std::move(refundable).error();
    }
    if (!amount.is_positive() || amount > *refundable) {
        return error{errc::amount_mismatch, "amount",
                     fmt::format("must be more than zero and at most the {} still refundable",
                                 refundable->to_string())};
    }
    const payment_guard_facts facts{*refunded == p.captured};
    auto next = next_payment_state(p.state, payment_event::refund_issued, facts);
    if (!next) {
        return std::move(next).error();
    }
    p.state = *next;
    p.refunded = std::move(*refunded);
    p.updated_at = now_;
    notify(notification_kind::refund_issued, audience::staff, "finance",
           fmt::format("Refund {} to the customer of order {}: {}", amount.to_string(),
                       order.number, reason),
           {{"payment_id", fmt::format("{}", p.id)},
            {"gateway_reference", p.gateway_reference},
            {"amount", amount.to_string()}});
    return {};
}

result<void> order_change::refund_everything(std::string_view reason) {
    for (auto& p : order.payments) {
        if (p.state == payment_state::authorized) {
            auto next = next_payment_state(p.state, payment_event::authorization_voided, {});
            if (!next) {
                return std::move(next).error();
            }
            p.state = *next;
            p.updated_at = now_;
            continue;
        }
        if (p.state != payment_state::captured && p.state != payment_state::partially_refunded) {
            continue;
        }
        auto remaining = p.captured.minus(p.refunded);
        if (!remaining) {
            return std::move(remaining).error();
        }
        if (auto done = refund(p, *remaining, reason); !done) {
            return done;
        }
    }
    return {};
}

result<void> check_text(std::string_view text, std::string_view field, std::size_t max_bytes,
                        bool required) {
    if (required && text.empty()) {
        return error{errc::missing_value, std::string(field), "is required"};
    }
    if (text.size() > max_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} bytes", max_bytes)};
    }
    for (const char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return error{errc::invalid_value, std::string(field),
                         "must not contain control characters"};
        }
    }
    return {};
}

result<void> check_idempotency_key(std::string_view key) {
    if (key.empty()) {
        return error{errc::missing_value, "idempotency_key",
                     "every command that changes something needs an idempotency key"};
    }
    if (key.size() > 128) {
        return error{errc::invalid_value, "idempotency_key", "must be at most 128 characters"};
    }
    for (const char c : key) {
        if (c <= ' ' || c > '~') {
            return error{errc::invalid_value, "idempotency_key",
                         "may hold only visible ASCII characters"};
        }
    }
    return {};
}

}  // namespace orderly::detail
