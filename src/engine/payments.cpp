// Payment callbacks and refunds (R-15…R-18). Gateways repeat callbacks, send
// them out of order and late: a repeat under the same key returns the first
// result; a stale callback (the payment already moved past it) changes
// nothing; money that arrives for an order that no longer wants it is
// refunded at once, so no cent is lost.

#include "engine_impl.hpp"

#include <algorithm>

namespace orderly {
namespace {

using callback_outcome = payment_callback::outcome;

result<void> check_callback(const payment_callback& cb, const order& o) {
    if (auto r = detail::check_text(cb.gateway_reference, "gateway_reference", 64, true); !r) {
        return r;
    }
    if (cb.result != callback_outcome::authorized && cb.result != callback_outcome::captured &&
        cb.result != callback_outcome::failed) {
        return error{errc::invalid_value, "result", "must be authorized, captured or failed"};
    }
    if (cb.method == payment_method::cash_on_delivery || to_string(cb.method) == "unknown") {
        return error{errc::invalid_value, "method", "must be a gateway method (not cash)"};
    }
    if (o.method == payment_method::cash_on_delivery) {
        return error{errc::invalid_value, "order_id",
                     "is paid cash on delivery; the payment is recorded at delivery"};
    }
    if (auto r = detail::check_text(cb.failure_reason, "failure_reason", 512, false); !r) {
        return r;
    }
    if (cb.result == callback_outcome::failed) {
        return {};
    }
    if (!cb.amount) {
        return error{errc::missing_value, "amount", "an authorization or capture needs an amount"};
    }
    if (cb.amount->currency() != o.total.currency()) {
        return error{errc::currency_mismatch, "amount",
                     fmt::format("is in {}, the order is in {}", cb.amount->currency().code(),
                                 o.total.currency().code())};
    }
    if (!cb.amount->is_positive()) {
        return error{errc::amount_mismatch, "amount", "must be more than zero"};
    }
    return {};
}

payment_event event_of(callback_outcome outcome) {
    switch (outcome) {
        case callback_outcome::authorized:
            return payment_event::authorization_succeeded;
        case callback_outcome::captured:
            return payment_event::capture_succeeded;
        case callback_outcome::failed:
            break;
    }
    return payment_event::payment_failed;
}

// The amounts a callback may carry: an authorization is for the amount due;
// a capture takes at most what was authorized (partial capture), or, without
// an authorization, exactly the amount still due.
result<void> check_amount(const payment_callback& cb, const payment& p, const money& due) {
    if (cb.result == callback_outcome::failed) {
        return {};
    }
    const money& amount = *cb.amount;
    if (cb.result == callback_outcome::authorized && amount != due) {
        return error{
            errc::amount_mismatch, "amount",
            fmt::format("is {}, the order has {} to pay", amount.to_string(), due.to_string())};
    }
    if (cb.result == callback_outcome::captured) {
        const bool from_authorization = p.state == payment_state::authorized;
        if (from_authorization && (amount > p.authorized || amount > due)) {
            return error{
                errc::amount_mismatch, "amount",
                fmt::format("is {}, more than the {} authorized or the {} still due",
                            amount.to_string(), p.authorized.to_string(), due.to_string())};
        }
        if (!from_authorization && amount != due) {
            return error{
                errc::amount_mismatch, "amount",
                fmt::format("is {}, the order has {} to pay", amount.to_string(), due.to_string())};
        }
    }
    return {};
}

}  // namespace

// Captured minus refunded, over every payment of the order.
result<money> detail::net_captured(const order& o) {
    money sum = money::zero(o.total.currency());
    for (const auto& p : o.payments) {
        auto captured = sum.plus(p.captured);
        auto net = captured ? captured->minus(p.refunded) : captured;
        if (!net) {
            return std::move(net).error();
        }
        sum = std::move(*net);
    }
    return sum;
}

result<command_outcome> engine::record_payment(const command_context& ctx,
                                               const payment_callback& cb) {
    const auto fingerprint = detail::fingerprint()
                                 .add(command::record_payment)
                                 .add(cb.order)
                                 .add(cb.gateway_reference)
                                 .add(cb.method)
                                 .add(cb.result)
                                 .add(cb.amount)
                                 .add(cb.failure_reason)
                                 .value();
    return impl_->on_order(ctx, command::record_payment, cb.order, fingerprint,
                           [&](detail::order_change& c) { return impl_->apply_payment(c, cb); });
}

result<void> engine::impl::apply_payment(detail::order_change& c, const payment_callback& cb) {
    order& o = c.order;
    if (auto valid = check_callback(cb, o); !valid) {
        return valid;
    }
    auto existing = std::find_if(o.payments.begin(), o.payments.end(), [&](const payment& p) {
        return p.gateway_reference == cb.gateway_reference;
    });
    if (existing == o.payments.end()) {
        auto id = detail::next_id(numbers, c.now());
        if (!id) {
            return std::move(id).error();
        }
        const money none = money::zero(o.total.currency());
        o.payments.push_back(payment{payment_id(*id), cb.method, cb.gateway_reference,
                                     payment_state::pending, none, none, none, "", c.now()});
        existing = o.payments.end() - 1;
    }
    payment& p = *existing;
    const payment_event event = event_of(cb.result);
    c.payment_after = p.state;
    if (!next_payment_state(p.state, event, {})) {
        // The payment already moved past this callback and no money moved
        // with it (an authorization after its capture, a failure after a
        // capture): stale. A capture is never stale: the payment machine
        // takes it even on a failed or voided payment, so money a gateway
        // took is always recorded.
        c.unchanged = true;
        return {};
    }
    // Whether the order still waits for money is the order machine's call:
    // it takes the callback's event (awaiting payment, or on hold from there).
    const order_guard_facts facts{o.method == payment_method::cash_on_delivery, o.held_from};
    const order_event asked = cb.result == callback_outcome::failed ? order_event::payment_failed
                                                                    : order_event::payment_captured;
    const bool wanted = next_order_state(o.state, asked, facts).has_value();
    auto net = detail::net_captured(o);
    auto due = net ? o.total.minus(*net) : net;
    if (!due) {
        return std::move(due).error();
    }
    auto amount_ok = wanted ? check_amount(cb, p, *due) : result<void>{};
    if (auto moved = detail::move(p, event, {}, c.now()); !moved) {
        return moved;
    }
    c.payment_after = p.state;
    if (cb.result == callback_outcome::authorized) {
        p.authorized = *cb.amount;
    } else if (cb.result == callback_outcome::captured) {
        p.captured = *cb.amount;
    } else {
        p.failure_reason = cb.failure_reason;
    }
    if (!wanted || !amount_ok) {
        const error why = amount_ok ? error{} : amount_ok.error();
        return give_back_unwanted(c, p, cb, !amount_ok, why);
    }
    return settle(c, p, cb);
}

// Money the order does not take: after a cancel or a timeout, after another
// payment paid it, or of another amount than was due. It is recorded
// and given back whole (an authorization is released); the customer hears
// why; a wrong amount opens a case, and the order keeps waiting for the
// right one.
result<void> engine::impl::give_back_unwanted(detail::order_change& c, payment& p,
                                              const payment_callback& cb, bool mismatch,
                                              const error& why) {
    order& o = c.order;
    if (cb.result == callback_outcome::failed) {
        return {};  // nothing was taken, nothing is owed
    }
    const std::string amount = cb.amount->to_string();
    if (cb.result == callback_outcome::captured) {
        const std::string reason =
            mismatch ? fmt::format("captured {}: {}", amount, why.message)
                     : std::string("payment arrived for an order that was not awaiting it");
        if (auto r = c.return_payment(p, reason); !r) {
            return r;
        }
    } else if (auto voided = detail::move(p, payment_event::authorization_voided, {}, c.now());
               !voided) {
        return voided;
    }
    c.payment_after = p.state;
    const bool taken = cb.result == callback_outcome::captured;
    if (!mismatch) {
        if (taken) {
            c.notify_customer(notification_kind::payment_result,
                              fmt::format("A payment of {} for order {} arrived after the order "
                                          "no longer needed it; it is being given back.",
                                          amount, o.number),
                              {{"result", "returned"}, {"gateway_reference", p.gateway_reference}});
        }
        return {};
    }
    c.notify_customer(notification_kind::payment_result,
                      fmt::format("The payment of {} for order {} did not match what is due "
                                  "({}); it is being {}. Please pay again.",
                                  amount, o.number, why.message, taken ? "given back" : "released"),
                      {{"result", "amount_mismatch"},
                       {"gateway_reference", p.gateway_reference},
                       {"amount", amount}});
    c.cases.push_back(detail::case_signal{
        .type = case_type::payment_mismatch,
        .cause_key = fmt::format("payment_mismatch:order:{}", o.id),
        .title = fmt::format("Gateway {} {} for order {}: {}", taken ? "captured" : "authorized",
                             amount, o.number, why.message),
        .order = o.id,
        .merchant = o.merchant});
    return {};
}

// What a payment result means for the order: paid when the captured money
// covers the total; a failure counts, and too many cancel the order.
result<void> engine::impl::settle(detail::order_change& c, const payment& p,
                                  const payment_callback& cb) {
    order& o = c.order;
    if (cb.result == callback_outcome::failed) {
        ++o.payment_failures;
        c.notify_customer(notification_kind::payment_result,
                          fmt::format("Payment for order {} failed: {}. You can try again.",
                                      o.number, cb.failure_reason),
                          {{"result", "failed"}, {"gateway_reference", p.gateway_reference}});
        if (auto r = c.transition(order_event::payment_failed, cb.failure_reason); !r) {
            return r;
        }
        c.cases.push_back(detail::case_signal{
            .type = case_type::payment_failure,
            .cause_key = fmt::format("payment_failure:order:{}", o.id),
            .title = fmt::format("Payment for order {} failed ({} so far): {}", o.number,
                                 o.payment_failures, cb.failure_reason),
            .order = o.id,
            .merchant = o.merchant});
        if (o.payment_failures >= options.max_payment_failures) {
            return cancel(c, fmt::format("payment failed {} times", o.payment_failures));
        }
        return {};
    }
    auto net = detail::net_captured(o);
    if (!net) {
        return std::move(net).error();
    }
    if (cb.result != callback_outcome::captured || *net != o.total) {
        return {};  // Authorized or partly captured: still waiting.
    }
    return mark_paid(c, p.gateway_reference);
}

// Paid in full. On hold the order records it and stays held (released, it
// is paid at once: resume_payment); the customer hears of it now.
result<void> engine::impl::mark_paid(detail::order_change& c, std::string_view reference) {
    if (auto r =
            c.transition(order_event::payment_captured,
                         reference.empty() ? std::string("paid while on hold")
                                           : fmt::format("paid, gateway reference {}", reference));
        !r) {
        return r;
    }
    if (auto r = c.commit_reservations(); !r) {
        return r;
    }
    // Paid in full: authorizations still held elsewhere are released, so no
    // customer's funds stay blocked by an order that no longer needs them.
    for (auto& other : c.order.payments) {
        if (next_payment_state(other.state, payment_event::authorization_voided, {})) {
            if (auto r = detail::move(other, payment_event::authorization_voided, {}, c.now());
                !r) {
                return r;
            }
        }
    }
    if (reference.empty()) {
        return {};  // released after being paid on hold: the customer heard then
    }
    c.notify_customer(notification_kind::payment_result,
                      fmt::format("Payment for order {} received: {}.", c.order.number,
                                  c.order.total.to_string()),
                      {{"result", "paid"}, {"gateway_reference", std::string(reference)}});
    return {};
}

// Coming off hold into awaiting_payment with the money already captured
// while on hold: the order is paid now.
result<void> engine::impl::resume_payment(detail::order_change& c) {
    if (c.order.state != order_state::awaiting_payment) {
        return {};
    }
    auto net = detail::net_captured(c.order);
    if (!net) {
        return std::move(net).error();
    }
    if (*net != c.order.total) {
        return {};
    }
    return mark_paid(c, "");
}

result<void> engine::impl::cancel(detail::order_change& c, std::string reason) {
    if (auto r = c.transition(order_event::cancelled, reason); !r) {
        return r;
    }
    if (auto r = cancel_shipments(c); !r) {
        return r;
    }
    if (auto r = c.release_reservations(); !r) {
        return r;
    }
    if (auto r = c.refund_everything(reason); !r) {
        return r;
    }
    c.notify_customer(notification_kind::cancelled,
                      fmt::format("Order {} was cancelled: {}.", c.order.number, reason),
                      {{"reason", std::move(reason)}});
    return {};
}

result<command_outcome> engine::refund_payment(const command_context& ctx,
                                               const refund_request& request) {
    const auto fingerprint = detail::fingerprint()
                                 .add(command::refund_payment)
                                 .add(request.order)
                                 .add(request.amount)
                                 .add(request.reason)
                                 .value();
    return impl_->on_order(
        ctx, command::refund_payment, request.order, fingerprint,
        [&](detail::order_change& c) -> result<void> {
            if (auto r = detail::check_text(request.reason, "reason", 512, true); !r) {
                return r;
            }
            if (request.amount.currency() != c.order.total.currency()) {
                return error{
                    errc::currency_mismatch, "amount",
                    fmt::format("is in {}, the order is in {}", request.amount.currency().code(),
                                c.order.total.currency().code())};
            }
            auto refundable = detail::net_captured(c.order);
            if (!refundable) {
                return std::move(refundable).error();
            }
            if (!request.amount.is_positive() || request.amount > *refundable) {
                return error{errc::amount_mismatch, "amount",
                             fmt::format("must be more than zero and at most the {} refundable",
                                         refundable->to_string())};
            }
            auto entry = impl_->manual_refund(c, request.amount, request.reason);
            if (!entry) {
                return std::move(entry).error();
            }
            if (auto r = c.give_back(std::move(*entry)); !r) {
                return r;
            }
            c.payment_after = c.order.payments.empty()
                                  ? std::nullopt
                                  : std::optional(c.order.payments.back().state);
            return {};
        });
}

// A refund not tied to units. Of a price paid in full (what is held plus
// what was refunded of it is the total) it is spread over the lines' goods
// and shipping left (allocate_refund), so later tickets refund what is
// left; of money an unpaid order holds (a partial capture) it is a returned
// payment.
result<order_refund> engine::impl::manual_refund(detail::order_change& c, const money& amount,
                                                 std::string_view reason) {
    const order& o = c.order;
    auto tally = c.refunds_so_far();
    auto held = detail::net_captured(o);
    if (!tally || !held) {
        return !tally ? std::move(tally).error() : std::move(held).error();
    }
    money refunded = money::zero(o.total.currency());
    for (const auto& r : o.refunds) {
        if (refund_tied_to_price(r.source)) {
            auto sum = refunded.plus(r.amount);
            if (!sum) {
                return std::move(sum).error();
            }
            refunded = std::move(*sum);
        }
    }
    auto paid = held->plus(refunded);
    if (!paid) {
        return std::move(paid).error();
    }
    if (*paid != o.total) {
        return order_refund{
            c.now(), refund_source::returned_payment, 0, amount, {}, std::string(reason)};
    }
    auto lines = allocate_refund(o, amount, *tally);
    if (!lines) {
        return std::move(lines).error();
    }
    return order_refund{c.now(), refund_source::manual, 0,
                        amount,  std::move(*lines),     std::string(reason)};
}

}  // namespace orderly
