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
// order waits for payment, the auto-confirm time once it is delivered, the
// after-sales window once it is completed. A failed payment attempt keeps
// the original deadline; coming back from hold starts a new payment window.
void order_change::arm_deadline(order_state before) {
    switch (order.state) {
        case order_state::awaiting_payment:
            if (before != order_state::awaiting_payment || !order.due_at) {
                order.due_at = now_ + settings_.payment_timeout;
            }
            return;
        case order_state::delivered:
            // A ticket opened on a delivered order leaves it delivered: the
            // auto-confirm time stays as it was.
            if (before != order_state::delivered || !order.due_at) {
                order.due_at = now_ + settings_.auto_confirm_after;
            }
            return;
        case order_state::completed:
            // The after-sales window: the order closes when it passes with
            // every ticket ended (0: it waits for close_order).
            if (before != order_state::completed) {
                if (settings_.after_sales.window > duration::zero()) {
                    order.due_at = now_ + settings_.after_sales.window;
                } else {
                    order.due_at.reset();
                }
            }
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

result<void> order_change::commit_reservations() {
    for (auto& r : order.reservations) {
        if (accepts(r, reservation_event::committed)) {
            if (auto moved = move(r, reservation_event::committed); !moved) {
                return moved;
            }
        }
    }
    return {};
}

result<void> order_change::release_reservations() {
    for (auto& r : order.reservations) {
        if (accepts(r, reservation_event::released)) {
            if (auto moved = move(r, reservation_event::released); !moved) {
                return moved;
            }
            stock.push_back(stock_change{r.sku, r.warehouse, stock_operation::release, r.units,
                                         "reservations"});
        }
    }
    return {};
}

result<void> order_change::consume_reservations() {
    for (auto& r : order.reservations) {
        if (accepts(r, reservation_event::consumed)) {
            if (auto moved = move(r, reservation_event::consumed); !moved) {
                return moved;
            }
            stock.push_back(stock_change{r.sku, r.warehouse, stock_operation::consume, r.units,
                                         "reservations"});
        }
    }
    return {};
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
    if (auto moved = move(p, payment_event::refund_issued,
                          payment_guard_facts{*refunded == p.captured}, now_);
        !moved) {
        return moved;
    }
    p.refunded = std::move(*refunded);
    notify(notification_kind::refund_issued, audience::staff, "finance",
           fmt::format("Refund {} to the customer of order {}: {}", amount.to_string(),
                       order.number, reason),
           {{"payment_id", fmt::format("{}", p.id)},
            {"gateway_reference", p.gateway_reference},
            {"amount", amount.to_string()}});
    return {};
}

result<bool> parcel_on_its_way(order_change& c, fulfilment_change* f) {
    for (const shipment_id id : c.order.shipments) {
        if (f != nullptr) {
            auto s = f->peek(id);
            if (!s) {
                return std::move(s).error();
            }
            if (!parcel_ended((*s)->state)) {
                return true;
            }
            continue;
        }
        if (c.tx == nullptr) {
            return false;
        }
        auto s = c.tx->find_shipment(id);
        if (!s) {
            return std::move(s).error();
        }
        if (*s && !parcel_ended((*s)->state)) {
            return true;
        }
    }
    return false;
}

result<void> order_change::give_back(order_refund entry) {
    // Cash on delivery before the carrier collected: nothing was paid, so
    // nothing moves; the customer owes the amount less (collect_cash).
    const bool collected =
        std::any_of(order.payments.begin(), order.payments.end(), [](const payment& p) {
            return p.method == payment_method::cash_on_delivery && p.captured.is_positive();
        });
    if (order.method == payment_method::cash_on_delivery && !collected) {
        entry.at = now_;
        entry.waived = true;
        order.refunds.push_back(std::move(entry));
        return {};
    }
    money left = entry.amount;
    for (auto it = order.payments.rbegin(); it != order.payments.rend() && left.is_positive();
         ++it) {
        auto held = it->captured.minus(it->refunded);
        if (!held || !held->is_positive()) {
            continue;
        }
        const money part = *held < left ? *held : left;
        if (auto r = refund(*it, part, entry.reason); !r) {
            return r;
        }
        auto rest = left.minus(part);
        if (!rest) {
            return std::move(rest).error();
        }
        left = std::move(*rest);
    }
    if (left.is_positive()) {
        return error{errc::amount_mismatch, "amount",
                     fmt::format("order {} holds {} less than the {} to give back", order.number,
                                 left.to_string(), entry.amount.to_string())};
    }
    entry.at = now_;
    order.refunds.push_back(std::move(entry));
    return {};
}

result<void> order_change::return_payment(payment& p, std::string reason) {
    auto held = p.captured.minus(p.refunded);
    if (!held) {
        return std::move(held).error();
    }
    if (!held->is_positive()) {
        return {};
    }
    if (auto r = refund(p, *held, reason); !r) {
        return r;
    }
    order.refunds.push_back(order_refund{
        now_, refund_source::returned_payment, p.id.value(), *held, {}, std::move(reason)});
    return {};
}

result<void> order_change::refund_everything(std::string_view reason) {
    money held = money::zero(order.total.currency());
    for (auto& p : order.payments) {
        // An open authorization is released; captured money comes back below.
        if (next_payment_state(p.state, payment_event::authorization_voided, {})) {
            if (auto moved = move(p, payment_event::authorization_voided, {}, now_); !moved) {
                return moved;
            }
            continue;
        }
        auto left = p.captured.minus(p.refunded);
        auto sum = left ? held.plus(*left) : left;
        if (!sum) {
            return std::move(sum).error();
        }
        held = std::move(*sum);
    }
    if (!held.is_positive()) {
        return {};
    }
    return give_back(
        order_refund{now_, refund_source::cancellation, 0, held, {}, std::string(reason)});
}

void order_change::compensate(const money& amount, std::uint64_t reference, std::string reason) {
    notify(notification_kind::compensation_issued, audience::staff, "finance",
           fmt::format("Compensate the customer of order {} with {}: {}", order.number,
                       amount.to_string(), reason),
           {{"amount", amount.to_string()}, {"reference", fmt::format("{}", reference)}});
    order.refunds.push_back(
        order_refund{now_, refund_source::compensation, reference, amount, {}, std::move(reason)});
}

// --- one writer per state ---------------------------------------------------------------

result<void> move(payment& p, payment_event event, const payment_guard_facts& facts, timestamp at) {
    auto next = next_payment_state(p.state, event, facts);
    if (!next) {
        return std::move(next).error();
    }
    p.state = *next;
    p.updated_at = at;
    return {};
}

bool accepts(const reservation& r, reservation_event event) {
    return next_reservation_state(r.state, event).has_value();
}

result<void> move(reservation& r, reservation_event event) {
    auto next = next_reservation_state(r.state, event);
    if (!next) {
        return std::move(next).error().within("reservations");
    }
    r.state = *next;
    return {};
}

result<void> move(shipment& s, shipment_event event, std::string_view field) {
    auto next = next_shipment_state(s.state, event);
    if (!next) {
        error e = std::move(next).error();
        e.field = std::string(field);
        e.message = fmt::format("shipment {}: {}", s.id, e.message);
        return e;
    }
    s.state = *next;
    return {};
}

result<void> move(stock_transfer& t, transfer_event event, std::string_view field) {
    auto next = next_transfer_state(t.state, event);
    if (!next) {
        error e = std::move(next).error();
        e.field = std::string(field);
        e.message = fmt::format("transfer {}: {}", t.id, e.message);
        return e;
    }
    t.state = *next;
    return {};
}

result<reservation> new_reservation(reservation_id id, sku_id sku, warehouse_id warehouse,
                                    quantity units, bool committed) {
    reservation r{id, std::move(sku), std::move(warehouse), units, reservation_state::held};
    if (committed) {
        if (auto moved = move(r, reservation_event::committed); !moved) {
            return std::move(moved).error();
        }
    }
    return r;
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
