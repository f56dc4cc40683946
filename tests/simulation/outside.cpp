// The customers and the payment gateway: orders placed (one at a time or
// imported), paid in every way a gateway can (authorize then capture,
// failures, repeats with the same event id or a new one, late, out of
// order, of the wrong amount, after a cancel or a timeout, twice), and what
// customers do after delivery.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

#include <chrono>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

const customer& pick_customer(simulation& s) {
    return s.random().pick(customers());
}

// One to three lines, all of one merchant: settlement pays each order to
// one merchant (an order of several is refused there, by design).
std::vector<line_request> pick_lines(simulation& s) {
    std::vector<line_request> lines;
    const std::size_t n = 1 + s.random().below(s.random().chance(300) ? 3 : 1);
    std::vector<std::size_t> taken;
    std::string_view merchant;
    for (std::size_t i = 0; i < n * 3 && taken.size() < n; ++i) {
        const std::size_t at = s.random().below(catalogue().size());
        const catalogue_item& item = catalogue()[at];
        if (std::find(taken.begin(), taken.end(), at) != taken.end() ||
            (!merchant.empty() && merchant != item.merchant)) {
            continue;
        }
        if (item.traits.restricted && !s.random().chance(300)) {
            continue;  // restricted goods are ordered now and then
        }
        taken.push_back(at);
        merchant = item.merchant;
        const std::int64_t count = s.random().chance(20) ? 9 : s.random().between(1, 3);
        lines.push_back(line_request{sku_id(item.sku), units(count), cny(item.price_minor)});
    }
    if (lines.empty()) {
        const catalogue_item& tea = catalogue().front();
        lines.push_back(line_request{sku_id(tea.sku), units(1), cny(tea.price_minor)});
    }
    return lines;
}

place_order_request order_request(simulation& s, const customer& who) {
    place_order_request r;
    r.channel = s.random().pick(
        std::vector{order_channel::web, order_channel::mobile_app, order_channel::marketplace});
    r.customer = who.id;
    r.ship_to = who.home;
    r.lines = pick_lines(s);
    if (s.random().chance(800)) {
        r.merchant = merchant_id(item_of(r.lines.front().sku).merchant);
    }
    std::int64_t subtotal = 0;
    for (const auto& l : r.lines) {
        subtotal += minor_of(l.unit_price) * l.units.units();
    }
    if (s.random().chance(200) && subtotal > 4) {
        r.discount = cny(s.random().between(1, std::min<std::int64_t>(subtotal / 4, 5000)));
    }
    if (s.random().chance(600)) {
        r.shipping_fee = cny(s.random().pick(std::vector<std::int64_t>{0, 600, 1000, 1299}));
    }
    r.method = s.random().chance(100)
                   ? payment_method::cash_on_delivery
                   : s.random().pick(std::vector{payment_method::card, payment_method::wallet,
                                                 payment_method::bank_transfer});
    if (s.random().chance(300)) {
        r.tags.push_back(s.random().pick(std::vector<std::string>{"gift", "promo", "vip"}));
    }
    return r;
}

call place_call(simulation& s, place_order_request r) {
    return [&s, r](const command_context& ctx) { return summary(s.shop().place_order(ctx, r)); };
}

}  // namespace

bool place_order(simulation& s) {
    const customer& who = pick_customer(s);
    place_order_request r = order_request(s, who);
    place_order_request other = r;
    other.tags.push_back("variant");
    const actor by = s.random().chance(700) ? as_customer(who.id) : actors().frontend;
    s.issue("place_order", by, place_call(s, r), place_call(s, other));
    return true;
}

bool import_orders(simulation& s) {
    std::vector<import_row> rows;
    const std::size_t n = 1 + s.random().below(4);
    for (std::size_t i = 0; i < n; ++i) {
        place_order_request r = order_request(s, pick_customer(s));
        r.channel = order_channel::import;
        rows.push_back(import_row{s.fresh_name("mkt-order"), std::move(r)});
    }
    // Each row stands alone: the import succeeds when any row was placed.
    // Rows that failed with an injected fault are imported again, same keys.
    const call c = [&s, rows](const command_context& ctx) {
        std::vector<import_row> left = rows;
        call_result out;
        for (int attempt = 0; attempt < 4 && !left.empty(); ++attempt) {
            auto results = s.shop().import_orders(ctx, left);
            std::vector<import_row> again;
            for (std::size_t i = 0; i < results.size(); ++i) {
                if (results[i]) {
                    out.ok = true;
                } else if (results[i].error().code == errc::busy ||
                           results[i].error().code == errc::conflict) {
                    again.push_back(left[i]);
                } else {
                    out.replayable = false;  // a refused row keeps no key
                    if (!out.ok) {
                        out.err = results[i].error();
                    }
                }
            }
            left = std::move(again);
        }
        return out;
    };
    s.issue("import_orders", actors().frontend, c);
    return true;
}

// --- the gateway -------------------------------------------------------------------

namespace {

struct callback_plan {
    payment_callback cb;
    std::string key;  // the gateway's event id
};

// Sends one callback; checks that an accepted capture was recorded and that
// a well-formed capture was not refused (the gateway has the money).
bool send_callback(simulation& s, const callback_plan& p) {
    const payment_callback cb = p.cb;
    const call c = [&s, cb](const command_context& ctx) {
        return summary(s.shop().record_payment(ctx, cb));
    };
    payment_callback other = cb;
    other.failure_reason += " (again)";
    other.amount = cb.amount ? std::optional(cny(minor_of(*cb.amount) + 1)) : cny(1);
    const call variant = [&s, other](const command_context& ctx) {
        return summary(s.shop().record_payment(ctx, other));
    };
    const call_result r = s.issue_keyed("record_payment", actors().gateway, p.key, c, variant);
    if (cb.result != payment_callback::outcome::captured) {
        return true;
    }
    const order_info* info = s.known().orders.find(cb.order);
    const bool cod = info == nullptr || info->method == payment_method::cash_on_delivery;
    if (!r.ok && !cod && r.err.code != errc::busy && r.err.code != errc::conflict) {
        s.violation("capture_refused",
                    fmt::format("order {} ({}): the gateway captured {} (reference {}) and "
                                "orderly refused it: {}",
                                cb.order, info != nullptr ? to_string(info->state) : "?",
                                cb.amount->to_string(), cb.gateway_reference, to_string(r.err)));
        return true;
    }
    if (!r.ok) {
        return true;
    }
    auto o = s.shop().get_order(actors().admin, cb.order);
    bool recorded = false;
    if (o) {
        for (const auto& pay : o->payments) {
            recorded = recorded || (pay.gateway_reference == cb.gateway_reference &&
                                    pay.captured == *cb.amount);
        }
    }
    if (!recorded) {
        s.violation("capture_dropped",
                    fmt::format("order {} ({}): a capture of {} with reference {} was accepted "
                                "but no payment with that reference captured it",
                                cb.order, o ? to_string(o->state) : "?", cb.amount->to_string(),
                                cb.gateway_reference));
    }
    return true;
}

payment_callback callback(order_id id, const std::string& reference, payment_callback::outcome what,
                          std::optional<money> amount) {
    payment_callback cb;
    cb.order = id;
    cb.gateway_reference = reference;
    cb.method = payment_method::card;
    cb.result = what;
    cb.amount = std::move(amount);
    if (what == payment_callback::outcome::failed) {
        cb.failure_reason = "card declined";
    }
    return cb;
}

// Schedules one callback, and now and then its repeats: the same event id
// again (a webhook retry) or the same callback under a new id.
void schedule(simulation& s, timestamp when, const payment_callback& cb) {
    const callback_plan p{cb, s.fresh_name("gw-event")};
    s.at(when, [&s, p] { return send_callback(s, p); });
    if (s.random().chance(150)) {
        s.at(when + std::chrono::seconds(s.random().between(1, 7200)),
             [&s, p] { return send_callback(s, p); });
    }
    if (s.random().chance(50)) {
        const callback_plan again{cb, s.fresh_name("gw-event")};
        s.at(when + std::chrono::seconds(s.random().between(1, 7200)),
             [&s, again] { return send_callback(s, again); });
    }
}

duration soon(simulation& s) {
    return std::chrono::seconds(s.random().between(5, 600));
}

}  // namespace

void plan_payment(simulation& s, order_id id) {
    const order_info* info = s.known().orders.find(id);
    if (info == nullptr || info->method == payment_method::cash_on_delivery) {
        return;
    }
    using o = payment_callback::outcome;
    const money total = cny(info->total);
    const timestamp t = s.now() + soon(s);
    const std::string ref = s.fresh_name("txn");
    const std::string ref2 = s.fresh_name("txn");
    const std::size_t r = s.random().below(100);
    if (r < 55) {
        schedule(s, t, callback(id, ref, o::captured, total));
    } else if (r < 68) {
        schedule(s, t, callback(id, ref, o::authorized, total));
        schedule(s, t + soon(s), callback(id, ref, o::captured, total));
    } else if (r < 76) {
        schedule(s, t, callback(id, ref, o::failed, std::nullopt));
        schedule(s, t + soon(s), callback(id, ref2, o::captured, total));
    } else if (r < 80) {
        for (int i = 0; i < 3; ++i) {
            schedule(s, t + std::chrono::minutes(i),
                     callback(id, s.fresh_name("txn"), o::failed, std::nullopt));
        }
    } else if (r < 84) {
        // Never paid in time; half of them pay after the timeout anyway.
        if (s.random().chance(500)) {
            schedule(s, s.now() + s.config().payment_timeout + soon(s) * 6,
                     callback(id, ref, o::captured, total));
        }
    } else if (r < 88) {
        // A capture of the wrong amount, then the right one.
        const money wrong = cny(info->total + (s.random().chance(500) ? 100 : -1));
        schedule(s, t, callback(id, ref, o::captured, wrong.is_positive() ? wrong : cny(1)));
        schedule(s, t + soon(s), callback(id, ref2, o::captured, total));
    } else if (r < 92) {
        // The gateway says failed, then captured, for one reference (out of order).
        schedule(s, t, callback(id, ref, o::failed, std::nullopt));
        schedule(s, t + soon(s), callback(id, ref, o::captured, total));
    } else if (r < 96) {
        // An authorization left behind: paid by another payment, captured later (voided).
        schedule(s, t, callback(id, ref, o::authorized, total));
        schedule(s, t + 30s, callback(id, ref2, o::captured, total));
        schedule(s, t + 30s + soon(s), callback(id, ref, o::captured, total));
    } else {
        // Paid twice under two references.
        schedule(s, t, callback(id, ref, o::captured, total));
        schedule(s, t + soon(s), callback(id, ref2, o::captured, total));
    }
}

bool stray_payment(simulation& s) {
    // A late capture for an order in any state (after a cancel, a timeout,
    // or long after it was paid).
    const auto id = s.known().orders.pick_any(s.random());
    if (!id) {
        return false;
    }
    const order_info* info = s.known().orders.find(*id);
    if (info->method == payment_method::cash_on_delivery) {
        return false;
    }
    schedule(
        s, s.now(),
        callback(*id, s.fresh_name("txn"), payment_callback::outcome::captured, cny(info->total)));
    return true;
}

// --- customers -----------------------------------------------------------------------

namespace {

std::optional<order_id> order_in(simulation& s, std::initializer_list<order_state> states) {
    std::vector<order_state> live;
    for (const order_state st : states) {
        if (s.known().orders.count(st) > 0) {
            live.push_back(st);
        }
    }
    if (live.empty()) {
        return std::nullopt;
    }
    return s.known().orders.pick(s.random(), s.random().pick(live));
}

call cancel_call(simulation& s, order_id id, std::string reason) {
    return [&s, id, reason](const command_context& ctx) {
        return summary(s.shop().cancel_order(ctx, id, reason));
    };
}

}  // namespace

bool customer_cancels(simulation& s) {
    const auto id =
        order_in(s, {order_state::pending_review, order_state::awaiting_payment, order_state::paid,
                     order_state::allocating, order_state::packed, order_state::shipped,
                     order_state::delivered, order_state::on_hold, order_state::completed});
    if (!id) {
        return false;
    }
    const order_info* info = s.known().orders.find(*id);
    s.issue("cancel_order", as_customer(info->customer), cancel_call(s, *id, "changed my mind"),
            cancel_call(s, *id, "found it cheaper"));
    return true;
}

namespace {

bool confirm(simulation& s, order_id id) {
    const order_info* info = s.known().orders.find(id);
    if (info == nullptr) {
        return false;
    }
    s.issue("confirm_receipt", as_customer(info->customer), [&s, id](const command_context& ctx) {
        return summary(s.shop().confirm_receipt(ctx, id));
    });
    return true;
}

}  // namespace

bool customer_confirms(simulation& s) {
    const auto id = order_in(s, {order_state::delivered});
    return id && confirm(s, *id);
}

namespace {

open_ticket_request ticket_request(simulation& s, order_id id, const order_info& info) {
    open_ticket_request r;
    r.order = id;
    r.type = s.random().pick(std::vector{ticket_type::refund_only, ticket_type::return_and_refund,
                                         ticket_type::return_and_refund, ticket_type::exchange,
                                         ticket_type::repair});
    r.reason = s.random().pick(std::vector(all_ticket_reasons.begin(), all_ticket_reasons.end()));
    if (info.state == order_state::shipped) {
        r.type = ticket_type::refund_only;  // a parcel that never came
        r.reason = ticket_reason::not_received;
    }
    r.description = "simulated customer";
    if (s.random().chance(300)) {
        r.evidence.push_back(s.fresh_name("photo"));
    }
    if (s.random().chance(500)) {
        return r;  // every unit still claimable
    }
    const std::size_t line = s.random().below(info.lines.size());
    ticket_line_request l{static_cast<std::uint32_t>(line),
                          units(s.random().between(1, info.lines[line].units)), sku_id{}};
    if (r.type == ticket_type::exchange && info.lines[line].sku.value() == "socks-m") {
        l.replacement_sku = sku_id("socks-l");  // another size, same price
    }
    r.lines.push_back(l);
    return r;
}

call ticket_call(simulation& s, open_ticket_request r) {
    return [&s, r](const command_context& ctx) { return summary(s.shop().open_ticket(ctx, r)); };
}

bool open_ticket_on(simulation& s, order_id id) {
    const order_info* info = s.known().orders.find(id);
    if (info == nullptr || info->lines.empty()) {
        return false;
    }
    open_ticket_request r = ticket_request(s, id, *info);
    open_ticket_request other = r;
    other.description += " (edited)";
    const actor by = s.random().chance(800) ? as_customer(info->customer) : actors().agent;
    s.issue("open_ticket", by, ticket_call(s, r), ticket_call(s, other));
    return true;
}

}  // namespace

bool customer_opens_ticket(simulation& s) {
    const auto id = order_in(s, {order_state::shipped, order_state::delivered,
                                 order_state::completed, order_state::delivered});
    return id && open_ticket_on(s, *id);
}

bool customer_withdraws(simulation& s) {
    const auto id = s.known().tickets.pick(
        s.random(),
        s.random().pick(std::vector{ticket_state::under_review, ticket_state::awaiting_return,
                                    ticket_state::escalated}));
    if (!id) {
        return false;
    }
    const ticket_info* t = s.known().tickets.find(*id);
    const auto withdraw = [&s, id = *id](std::string reason) -> call {
        return [&s, id, reason](const command_context& ctx) {
            return summary(s.shop().withdraw_ticket(ctx, id, reason));
        };
    };
    s.issue("withdraw_ticket", as_customer(t->customer), withdraw("no longer needed"),
            withdraw("sorted it out"));
    return true;
}

bool customer_rates(simulation& s) {
    const auto id = order_in(s, {order_state::completed, order_state::closed});
    if (!id) {
        return false;
    }
    const order_info* info = s.known().orders.find(*id);
    const auto rate = [&s, id = *id](std::uint8_t score, std::string text) -> call {
        return [&s, id, score, text](const command_context& ctx) {
            return summary(s.shop().rate_order(ctx, rating_request{id, score, text}));
        };
    };
    const auto score = static_cast<std::uint8_t>(s.random().between(1, 5));
    s.issue("rate_order", as_customer(info->customer), rate(score, "ok"), rate(score, "great"));
    return true;
}

void plan_after_delivery(simulation& s, order_id id) {
    const std::size_t r = s.random().below(100);
    const timestamp when = s.now() + std::chrono::minutes(s.random().between(30, 40 * 60));
    if (r < 45) {
        s.at(when, [&s, id] {
            const order_info* info = s.known().orders.find(id);
            return info != nullptr && info->state == order_state::delivered && confirm(s, id);
        });
    } else if (r < 62) {
        s.at(when, [&s, id] { return open_ticket_on(s, id); });
    } else if (r < 66) {
        s.at(when, [&s, id] {
            const order_info* info = s.known().orders.find(id);
            if (info == nullptr) {
                return false;
            }
            s.issue("cancel_order", as_customer(info->customer),
                    cancel_call(s, id, "sending it back"), cancel_call(s, id, "do not want it"));
            return true;
        });
    }
}

}  // namespace orderly::sim
