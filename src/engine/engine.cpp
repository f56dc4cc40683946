// The engine's frame: creation, the command loop shared by every command on
// an existing order, and the read-only queries.

#include "engine_impl.hpp"

#include <chrono>

namespace orderly {

result<std::unique_ptr<engine>> engine::create(engine_ports ports, settings options) {
    if (auto valid = validate(options); !valid) {
        return std::move(valid).error().within("settings");
    }
    auto numbers = order_number_generator::create(options.node);
    if (!numbers) {
        return std::move(numbers).error().within("settings");
    }
    auto state = std::make_unique<impl>(ports, std::move(options), std::move(*numbers));
    return std::unique_ptr<engine>(new engine(std::move(state)));
}

engine::engine(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
engine::~engine() = default;

// --- group commit -------------------------------------------------------------

command_batch::command_batch(const void* owner, std::unique_ptr<store_batch> batch) noexcept
    : owner_(owner), batch_(std::move(batch)) {}
command_batch::~command_batch() = default;
command_batch::command_batch(command_batch&&) noexcept = default;
command_batch& command_batch::operator=(command_batch&&) noexcept = default;

result<void> command_batch::commit() {
    if (done_ || !batch_) {
        return error{errc::invalid_value, "batch", "was already committed"};
    }
    done_ = true;
    return batch_->commit();
}

result<command_batch> engine::begin_batch() {
    auto batch = impl_->ports.store.begin_batch();
    if (!batch) {
        return std::move(batch).error();
    }
    return command_batch(impl_.get(), std::move(*batch));
}

result<std::unique_ptr<store_transaction>> engine::impl::begin(const command_context& ctx) {
    if (ctx.batch == nullptr) {
        return ports.store.begin();
    }
    if (ctx.batch->owner_ != this) {
        return error{errc::invalid_value, "batch", "belongs to another engine"};
    }
    if (ctx.batch->done_ || !ctx.batch->batch_) {
        return error{errc::invalid_value, "batch", "was already committed"};
    }
    return ctx.batch->batch_->begin();
}

result<void> engine::impl::write(store_transaction& tx, detail::order_change& change, bool insert) {
    order& o = change.order;
    o.version = insert ? 1 : o.version + 1;
    o.updated_at = change.now();
    if (auto r = tx.put_order(o); !r) {
        return r;
    }
    for (const auto& entry : change.entries) {
        if (auto r = tx.append_timeline(o.id, entry); !r) {
            return r;
        }
    }
    for (auto& c : change.stock) {
        c.at = change.now();  // the ledger's time is the command's
        if (auto r = tx.change_stock(c); !r) {
            return r;
        }
    }
    for (const auto& note : change.notes) {
        if (auto r = tx.enqueue(note); !r) {
            return r;
        }
    }
    for (const auto& s : change.shipments) {
        if (auto r = tx.put_shipment(s); !r) {
            return r;
        }
    }
    if (!change.cases.empty()) {
        if (auto r = raise_cases(tx, change.cases, change.now(), change.who()); !r) {
            return std::move(r).error();
        }
    }
    return {};
}

result<std::optional<command_outcome>> engine::impl::replay(store_transaction& tx,
                                                            const std::string& key,
                                                            std::uint64_t fingerprint) {
    auto previous = tx.find_idempotency(key);
    if (!previous) {
        return std::move(previous).error();
    }
    if (!*previous) {
        return std::optional<command_outcome>();
    }
    if ((*previous)->fingerprint != fingerprint) {
        return error{errc::idempotency_key_reused, "idempotency_key",
                     "was already used for a different request"};
    }
    command_outcome first = (*previous)->outcome;
    first.repeated = true;
    return std::optional<command_outcome>(first);
}

result<command_outcome> engine::impl::on_order(const command_context& ctx, command what,
                                               order_id id, std::uint64_t fingerprint,
                                               const mutation& mutate) {
    if (auto key = detail::check_idempotency_key(ctx.idempotency_key); !key) {
        return std::move(key).error();
    }
    const std::string key = scoped_key(what, ctx.idempotency_key);
    const auto held = locks.lock(id);
    for (unsigned attempt = 0;; ++attempt) {
        auto tx = begin(ctx);
        if (!tx) {
            return std::move(tx).error();
        }
        auto found = detail::required((*tx)->find_order(id), "order_id", "order", id);
        if (!found) {
            return std::move(found).error();
        }
        order& o = *found;
        if (auto allowed = ports.policy.authorize(ctx.actor, what, &o.customer); !allowed) {
            return std::move(allowed).error();
        }
        auto previous = replay(**tx, key, fingerprint);
        if (!previous || *previous) {
            return previous ? std::move(**previous) : result<command_outcome>(previous.error());
        }
        const timestamp at = now();
        detail::order_change change(o, at, ctx.actor, options);
        change.tx = tx->get();
        if (auto done = mutate(change); !done) {
            return std::move(done).error();
        }
        command_outcome outcome = outcome_of(o);
        outcome.payment = change.payment_after;
        outcome.repeated = change.unchanged;
        if (!change.unchanged) {
            if (auto written = write(**tx, change, false); !written) {
                return std::move(written).error();
            }
        }
        if (auto r = (*tx)->put_idempotency(idempotency_record{key, fingerprint, outcome, at});
            !r) {
            return std::move(r).error();
        }
        auto committed = (*tx)->commit();
        if (committed) {
            return outcome;
        }
        if (committed.error().code != errc::conflict || attempt + 1 >= options.conflict_retries) {
            return std::move(committed).error();
        }
    }
}

// --- simple transitions -------------------------------------------------------

namespace {

std::uint64_t fingerprint_of(command what, order_id id, std::string_view reason) {
    return detail::fingerprint().add(what).add(id).add(reason).value();
}

// The whole-order warehouse commands serve orders without parcels; an order
// planned into shipments moves through the shipment commands.
result<void> whole_order_only(const order& o) {
    if (!o.shipments.empty()) {
        return error{errc::transition_not_allowed, "order_id",
                     fmt::format("order {} ships in {} parcel(s); use the shipment commands",
                                 o.number, o.shipments.size())};
    }
    return {};
}

}  // namespace

result<command_outcome> engine::approve_order(const command_context& ctx, order_id id,
                                              std::string_view reason) {
    return impl_->on_order(
        ctx, command::approve_order, id, fingerprint_of(command::approve_order, id, reason),
        [&](detail::order_change& c) -> result<void> {
            if (auto r = detail::check_text(reason, "reason", 512, false); !r) {
                return r;
            }
            if (auto r = c.transition(order_event::review_approved, std::string(reason)); !r) {
                return r;
            }
            if (c.order.state == order_state::paid) {
                // Cash on delivery: ready to fulfil now.
                if (auto r = c.commit_reservations(); !r) {
                    return r;
                }
            }
            c.order.review_flags.clear();
            c.notify_customer(notification_kind::review_result,
                              fmt::format("Order {} passed review.", c.order.number),
                              {{"result", "approved"}});
            return {};
        });
}

result<command_outcome> engine::reject_order(const command_context& ctx, order_id id,
                                             std::string_view reason) {
    return impl_->on_order(
        ctx, command::reject_order, id, fingerprint_of(command::reject_order, id, reason),
        [&](detail::order_change& c) -> result<void> {
            if (auto r = detail::check_text(reason, "reason", 512, true); !r) {
                return r;
            }
            if (auto r = c.transition(order_event::review_rejected, std::string(reason)); !r) {
                return r;
            }
            if (auto r = c.release_reservations(); !r) {
                return r;
            }
            c.notify_customer(
                notification_kind::review_result,
                fmt::format("Order {} did not pass review: {}", c.order.number, reason),
                {{"result", "rejected"}, {"reason", std::string(reason)}});
            return {};
        });
}

result<command_outcome> engine::cancel_order(const command_context& ctx, order_id id,
                                             std::string_view reason) {
    // The order machine says what a cancel is: before shipment it takes
    // `cancelled`; after shipment it refuses that but takes a ticket,
    // and the cancel becomes a return of everything still claimable.
    auto stored = impl_->ports.store.load_order(id);
    if (!stored) {
        return std::move(stored).error();
    }
    if (*stored) {
        const order& o = **stored;
        const order_guard_facts facts{o.method == payment_method::cash_on_delivery, o.held_from};
        if (!next_order_state(o.state, order_event::cancelled, facts) &&
            next_order_state(o.state, order_event::ticket_opened, facts)) {
            open_ticket_request request;
            request.order = id;
            request.type = ticket_type::return_and_refund;
            request.reason = ticket_reason::changed_mind;
            request.description = std::string(reason);
            return impl_->open_ticket(ctx, command::cancel_order, request, true);
        }
    }
    return impl_->on_order(ctx, command::cancel_order, id,
                           fingerprint_of(command::cancel_order, id, reason),
                           [&](detail::order_change& c) -> result<void> {
                               if (auto r = detail::check_text(reason, "reason", 512, true); !r) {
                                   return r;
                               }
                               return impl_->cancel(c, std::string(reason));
                           });
}

result<command_outcome> engine::hold_order(const command_context& ctx, order_id id,
                                           std::string_view reason) {
    return impl_->on_order(ctx, command::hold_order, id,
                           fingerprint_of(command::hold_order, id, reason),
                           [&](detail::order_change& c) -> result<void> {
                               if (auto r = detail::check_text(reason, "reason", 512, true); !r) {
                                   return r;
                               }
                               return c.transition(order_event::held, std::string(reason));
                           });
}

result<command_outcome> engine::release_order(const command_context& ctx, order_id id,
                                              std::string_view reason) {
    return impl_->on_order(
        ctx, command::release_order, id, fingerprint_of(command::release_order, id, reason),
        [&](detail::order_change& c) -> result<void> {
            if (auto r = detail::check_text(reason, "reason", 512, false); !r) {
                return r;
            }
            if (auto r = c.transition(order_event::released, std::string(reason)); !r) {
                return r;
            }
            return impl_->resume_payment(c);
        });
}

result<command_outcome> engine::allocate_order(const command_context& ctx, order_id id) {
    return impl_->on_order(
        ctx, command::allocate_order, id, fingerprint_of(command::allocate_order, id, ""),
        [&](detail::order_change& c) -> result<void> {
            if (auto r = c.transition(order_event::allocated, "picking started"); !r) {
                return r;
            }
            // One-warehouse form: the warehouse that holds the reservations.
            if (!c.order.reservations.empty()) {
                c.order.warehouse = c.order.reservations.front().warehouse;
            }
            return {};
        });
}

result<command_outcome> engine::pack_order(const command_context& ctx, order_id id) {
    return impl_->on_order(ctx, command::pack_order, id,
                           fingerprint_of(command::pack_order, id, ""),
                           [&](detail::order_change& c) -> result<void> {
                               if (auto r = whole_order_only(c.order); !r) {
                                   return r;
                               }
                               return c.transition(order_event::packed, "packed");
                           });
}

result<command_outcome> engine::ship_order(const command_context& ctx,
                                           const shipment_request& request) {
    const auto fingerprint = detail::fingerprint()
                                 .add(command::ship_order)
                                 .add(request.order)
                                 .add(request.carrier)
                                 .add(request.tracking_number)
                                 .value();
    return impl_->on_order(
        ctx, command::ship_order, request.order, fingerprint,
        [&](detail::order_change& c) -> result<void> {
            if (auto r = whole_order_only(c.order); !r) {
                return r;
            }
            if (auto carrier = parse_id<carrier_id>(request.carrier.value()); !carrier) {
                return std::move(carrier).error().within("carrier");
            }
            if (auto tracking = parse_id<carrier_id>(request.tracking_number); !tracking) {
                return error{tracking.error().code, "tracking_number", tracking.error().message};
            }
            if (auto r = c.transition(order_event::shipped, fmt::format("{} {}", request.carrier,
                                                                        request.tracking_number));
                !r) {
                return r;
            }
            c.order.carrier = request.carrier;
            c.order.tracking_number = request.tracking_number;
            if (auto r = c.consume_reservations(); !r) {
                return r;
            }
            c.notify_customer(notification_kind::shipped,
                              fmt::format("Order {} shipped with {}, tracking number {}.",
                                          c.order.number, request.carrier, request.tracking_number),
                              {{"carrier", request.carrier.value()},
                               {"tracking_number", request.tracking_number}});
            return {};
        });
}

result<command_outcome> engine::deliver_order(const command_context& ctx, order_id id) {
    return impl_->on_order(
        ctx, command::deliver_order, id, fingerprint_of(command::deliver_order, id, ""),
        [&](detail::order_change& c) -> result<void> {
            if (auto r = whole_order_only(c.order); !r) {
                return r;
            }
            if (auto r = c.transition(order_event::delivered, "delivered by the carrier"); !r) {
                return r;
            }
            if (c.order.method == payment_method::cash_on_delivery) {
                if (auto r = impl_->collect_cash(c); !r) {
                    return r;
                }
            }
            c.notify_customer(notification_kind::delivered,
                              fmt::format("Order {} was delivered.", c.order.number));
            return {};
        });
}

result<command_outcome> engine::confirm_receipt(const command_context& ctx, order_id id) {
    return impl_->on_order(ctx, command::confirm_receipt, id,
                           fingerprint_of(command::confirm_receipt, id, ""),
                           [&](detail::order_change& c) -> result<void> {
                               return impl_->complete(c, "receipt confirmed");
                           });
}

result<command_outcome> engine::close_order(const command_context& ctx, order_id id) {
    return impl_->on_order(
        ctx, command::close_order, id, fingerprint_of(command::close_order, id, ""),
        [&](detail::order_change& c) -> result<void> {
            for (const ticket_id t : c.order.tickets) {
                auto found = detail::required(c.tx->find_ticket(t), "tickets", "ticket", t);
                if (!found) {
                    return std::move(found).error();
                }
                if (!ticket_ended(found->state)) {
                    return error{errc::transition_not_allowed, "tickets",
                                 fmt::format("ticket {} of order {} is {}", t, c.order.number,
                                             found->state)};
                }
            }
            return c.transition(order_event::closed, "closed");
        });
}

result<void> engine::impl::complete(detail::order_change& c, std::string reason) {
    if (auto r = c.transition(order_event::receipt_confirmed, std::move(reason)); !r) {
        return r;
    }
    c.notify_customer(
        notification_kind::completed,
        fmt::format("Order {} is complete. How was it? Leave a review.", c.order.number),
        {{"feedback_requested", "true"}});
    return close_after_sales(c, nullptr);
}

// Cash on delivery: the carrier collected at the door the order total less
// what was waived before (refunds of parcels that never arrived, tickets),
// so the payment is captured at delivery.
result<void> engine::impl::collect_cash(detail::order_change& c) {
    money due = c.order.total;
    for (const auto& r : c.order.refunds) {
        if (r.waived) {
            auto less = due.minus(r.amount);
            if (!less) {
                return std::move(less).error();
            }
            due = std::move(*less);
        }
    }
    if (!due.is_positive()) {
        return {};
    }
    auto id = detail::next_id(numbers, c.now());
    if (!id) {
        return std::move(id).error();
    }
    const money none = money::zero(c.order.total.currency());
    payment cash{payment_id(*id),
                 payment_method::cash_on_delivery,
                 "cod",
                 payment_state::pending,
                 none,
                 due,
                 none,
                 "",
                 c.now()};
    if (auto r = detail::move(cash, payment_event::capture_succeeded, {}, c.now()); !r) {
        return r;
    }
    c.order.payments.push_back(std::move(cash));
    return {};
}

// --- queries -------------------------------------------------------------------

result<order> engine::get_order(const actor& who, order_id id) const {
    auto found = detail::required(impl_->ports.store.load_order(id), "order_id", "order", id);
    if (!found) {
        return found;
    }
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_order, &found->customer);
        !allowed) {
        return std::move(allowed).error();
    }
    return found;
}

result<std::vector<timeline_entry>> engine::timeline(const actor& who, order_id id) const {
    if (auto visible = get_order(who, id); !visible) {
        return std::move(visible).error();
    }
    return impl_->ports.store.timeline(id);
}

result<std::vector<order>> engine::review_queue(const actor& who, std::size_t limit) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_review_queue, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    auto ids = impl_->ports.store.orders_in_state(order_state::pending_review, order_id{}, limit);
    if (!ids) {
        return std::move(ids).error();
    }
    std::vector<order> queue;
    queue.reserve(ids->size());
    for (const order_id id : *ids) {
        auto found = impl_->ports.store.load_order(id);
        if (!found) {
            return std::move(found).error();
        }
        if (*found && (*found)->state == order_state::pending_review) {
            queue.push_back(std::move(**found));
        }
    }
    return queue;
}

}  // namespace orderly
