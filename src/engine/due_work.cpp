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

namespace {

// Adds a failure to the report: counted always, listed up to the limit.
void record(due_work_report& report, std::string what, std::uint64_t id, error why) {
    ++report.failed;
    if (report.failures.size() < due_work_report::max_failures_listed) {
        report.failures.push_back(due_work_failure{std::move(what), id, std::move(why)});
    }
}

// Runs `work` on every id `list` yields; a failing listing or item is
// recorded and the walk goes on with the next item.
template <class Id, class List, class Work>
void each_due(due_work_report& report, std::string_view listing, std::string_view item, List list,
              Work work) {
    auto ids = list();
    if (!ids) {
        record(report, std::string(listing), 0, std::move(ids).error());
        return;
    }
    for (const Id id : *ids) {
        if (auto done = work(id); !done) {
            record(report, std::string(item), id.value(), std::move(done).error());
        }
    }
}

// Runs one whole step; a failure is recorded and due work goes on.
template <class Step>
void step(due_work_report& report, std::string_view what, Step run) {
    if (auto done = run(); !done) {
        record(report, std::string(what), 0, std::move(done).error());
    }
}

}  // namespace

// Each item is done in its own transaction; one that fails (a broken order,
// a store error) is counted and listed in the report, and the pass goes on,
// so one bad item never stops timeouts, scans or notifications for the rest.
result<due_work_report> engine::run_due_work(std::size_t limit) {
    due_work_report report;
    const timestamp now = impl_->now();
    store& st = impl_->ports.store;
    each_due<order_id>(
        report, "due_orders", "order", [&] { return st.due_orders(now, limit); },
        [&](order_id id) { return impl_->run_due(id, report); });
    if (impl_->fulfilment) {
        each_due<shipment_id>(
            report, "due_shipments", "shipment", [&] { return st.due_shipments(now, limit); },
            [&](shipment_id id) { return impl_->run_due_shipment(id, report); });
    }
    each_due<ticket_id>(
        report, "due_tickets", "ticket", [&] { return st.due_tickets(now, limit); },
        [&](ticket_id id) { return impl_->run_due_ticket(id, report); });
    step(report, "low_stock_scan", [&] { return impl_->scan_low_stock(report); });
    each_due<case_id>(
        report, "due_cases", "case", [&] { return st.due_cases(now, limit); },
        [&](case_id id) { return impl_->run_due_case(id, report); });
    step(report, "operations_scan", [&] { return impl_->scan_operations(limit, report); });
    step(report, "archive", [&] { return impl_->archive_pass(now, limit, report); });
    auto sent = dispatch_notifications(limit);
    if (!sent) {
        record(report, "outbox", 0, std::move(sent).error());
    } else {
        report.delivered = sent->delivered;
        report.delivery_failures = sent->delivery_failures;
        report.failed += sent->failed;
        for (auto& f : sent->failures) {
            if (report.failures.size() < due_work_report::max_failures_listed) {
                report.failures.push_back(std::move(f));
            }
        }
    }
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
        } else if (o.state == order_state::completed) {
            auto closed = close_after_window(change);
            if (!closed) {
                return std::move(closed).error();
            }
            counter = *closed ? &report.orders_closed : nullptr;
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

// The after-sales window of a completed order passed: it closes when
// every ticket has ended; otherwise the end of its last ticket closes it.
result<bool> engine::impl::close_after_window(detail::order_change& c) {
    c.order.due_at.reset();
    for (const ticket_id t : c.order.tickets) {
        auto found = detail::required(c.tx->find_ticket(t), "tickets", "ticket", t);
        if (!found) {
            return std::move(found).error();
        }
        if (!ticket_ended(found->state)) {
            return false;
        }
    }
    auto moving = detail::parcel_on_its_way(c);
    if (!moving) {
        return std::move(moving).error();
    }
    if (*moving) {  // a parcel still on its way (a reship): look again a day later
        c.order.due_at = c.now() + std::chrono::days(1);
        return false;
    }
    if (auto r = c.transition(order_event::closed, "after-sales window passed", system_actor());
        !r) {
        return std::move(r).error();
    }
    return true;
}

// The payment timeout passed: cancel, release the stock, give back any
// partial capture, tell the customer.
result<void> engine::impl::time_out(detail::order_change& c) {
    if (auto r = c.transition(order_event::payment_timed_out, "payment timeout passed"); !r) {
        return r;
    }
    if (auto r = c.release_reservations(); !r) {
        return r;
    }
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
        // A bookkeeping failure leaves the entry claimed: it comes back when
        // its lease ends (delivered twice at worst, never lost), and the
        // others are still delivered.
        if (sent) {
            if (auto r = impl_->ports.store.mark_delivered(note.id); !r) {
                record(report, "notification", note.id, std::move(r).error());
                continue;
            }
            ++report.delivered;
            continue;
        }
        ++report.delivery_failures;
        if (auto r = impl_->ports.store.reschedule(note.id, now + impl_->backoff(note.attempt),
                                                   to_string(sent.error()));
            !r) {
            record(report, "notification", note.id, std::move(r).error());
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
