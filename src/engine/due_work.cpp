// Work the clock makes due: payment
// timeouts, automatic receipt confirmation, ticket deadlines
// (after_sales.cpp), case deadlines and the operations scans
// (operations.cpp), the archive (reports.cpp), and delivery of the outbox to
// the host's Notifier.
// Each due order is handled in its own transaction under its own lock, and
// only if it is still due when read there, so two schedulers calling at once
// do the work once.

#include "engine_impl.hpp"

#include <algorithm>

namespace orderly {

result<due_work_report> engine::run_due_work(std::size_t limit) {
    due_work_report report;
    const timestamp now = impl_->now();
    auto due = impl_->ports.store.due_orders(now, limit);
    if (!due) {
        return std::move(due).error();
    }
    for (const order_id id : *due) {
        if (auto done = impl_->run_due(id, report); !done) {
            return std::move(done).error();
        }
    }
    if (impl_->fulfilment) {
        auto late = impl_->ports.store.due_shipments(now, limit);
        if (!late) {
            return std::move(late).error();
        }
        for (const shipment_id id : *late) {
            if (auto done = impl_->check_delay(id, report); !done) {
                return std::move(done).error();
            }
        }
    }
    auto tickets = impl_->ports.store.due_tickets(now, limit);
    if (!tickets) {
        return std::move(tickets).error();
    }
    for (const ticket_id id : *tickets) {
        if (auto done = impl_->run_due_ticket(id, report); !done) {
            return std::move(done).error();
        }
    }
    if (auto scanned = impl_->scan_low_stock(report); !scanned) {
        return std::move(scanned).error();
    }
    auto cases = impl_->ports.store.due_cases(now, limit);
    if (!cases) {
        return std::move(cases).error();
    }
    for (const case_id id : *cases) {
        if (auto done = impl_->run_due_case(id, report); !done) {
            return std::move(done).error();
        }
    }
    if (auto scanned = impl_->scan_operations(limit, report); !scanned) {
        return std::move(scanned).error();
    }
    if (auto archived = impl_->archive_pass(now, limit, report); !archived) {
        return std::move(archived).error();
    }
    auto sent = dispatch_notifications(limit);
    if (!sent) {
        return std::move(sent).error();
    }
    report.delivered = sent->delivered;
    report.delivery_failures = sent->delivery_failures;
    return report;
}

result<void> engine::impl::run_due(order_id id, due_work_report& report) {
    const auto held = locks.lock(id);
    for (unsigned attempt = 1;; ++attempt) {
        auto tx = ports.store.begin();
        if (!tx) {
            return std::move(tx).error();
        }
        auto found = (*tx)->find_order(id);
        if (!found) {
            return std::move(found).error();
        }
        const timestamp at = now();
        if (!*found || !(*found)->due_at || *(*found)->due_at > at) {
            return {};  // Gone, or no longer due: another scheduler was first.
        }
        order& o = **found;
        const actor system = system_actor();
        detail::order_change change(o, at, system, options);
        change.tx = tx->get();
        std::size_t* counter = nullptr;
        if (o.state == order_state::awaiting_payment) {
            if (auto r = time_out(change); !r) {
                return r;
            }
            counter = &report.payment_timeouts;
        } else if (o.state == order_state::delivered) {
            if (auto r = complete(change, "confirmed automatically after the confirmation period");
                !r) {
                return r;
            }
            counter = &report.auto_confirmed;
        } else {
            o.due_at.reset();  // A deadline left from an older state: clear it.
        }
        if (auto written = write(**tx, change, false); !written) {
            return written;
        }
        auto committed = (*tx)->commit();
        if (committed) {
            if (counter != nullptr) {
                ++*counter;
            }
            return {};
        }
        if (committed.error().code != errc::conflict || attempt >= options.conflict_retries) {
            return std::move(committed).error();
        }
    }
}

// The payment timeout passed: cancel, release the stock, give back any
// partial capture, tell the customer.
result<void> engine::impl::time_out(detail::order_change& c) {
    if (auto r = c.transition(order_event::payment_timed_out, "payment timeout passed"); !r) {
        return r;
    }
    c.release_reservations();
    if (auto r = c.refund_everything("payment timeout"); !r) {
        return r;
    }
    c.cases.push_back(detail::case_signal{
        .type = case_type::payment_timeout,
        .cause_key = fmt::format("payment_timeout:order:{}", c.order.id),
        .title =
            fmt::format("Order {} was cancelled: payment did not arrive in time", c.order.number),
        .order = c.order.id,
        .merchant = c.order.merchant});
    c.notify_customer(
        notification_kind::payment_timeout,
        fmt::format("Order {} was cancelled: payment did not arrive in time.", c.order.number));
    return {};
}

result<due_work_report> engine::dispatch_notifications(std::size_t limit) {
    due_work_report report;
    const timestamp now = impl_->now();
    const outbox_settings& outbox = impl_->options.outbox;
    auto claimed = impl_->ports.store.claim_notifications(now, outbox.lease, limit);
    if (!claimed) {
        return std::move(claimed).error();
    }
    for (const notification& note : *claimed) {
        auto sent = impl_->ports.notifier.deliver(note);
        if (sent) {
            if (auto r = impl_->ports.store.mark_delivered(note.id); !r) {
                return std::move(r).error();
            }
            ++report.delivered;
            continue;
        }
        ++report.delivery_failures;
        if (auto r = impl_->ports.store.reschedule(note.id, now + impl_->backoff(note.attempt),
                                                   to_string(sent.error()));
            !r) {
            return std::move(r).error();
        }
    }
    return report;
}

// first_retry, doubled per failed attempt, at most max_retry.
duration engine::impl::backoff(std::uint32_t attempt) const {
    duration wait = options.outbox.first_retry;
    for (std::uint32_t i = 1; i < attempt && wait < options.outbox.max_retry; ++i) {
        wait *= 2;
    }
    return std::min(wait, options.outbox.max_retry);
}

}  // namespace orderly
