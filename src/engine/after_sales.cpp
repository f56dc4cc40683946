// After-sales tickets (R-6, R-24…R-27): opening a ticket on units that
// reached the customer, approval by rule or by an agent, the return parcel,
// inspection back into stock or the damaged bin, exact refunds through the
// payment records, exchanges on a reserved replacement shipment, repairs,
// deadlines and escalation in due work, and closing the order with a rating
// request when its after-sales work has ended.
//
// A ticket is its own versioned aggregate; every command locks its order,
// reads the order, its shipments and its other tickets through one
// transaction (fulfilment_change) and writes everything together.

#include "engine_impl.hpp"

#include <orderly/aftersales/refund.hpp>
#include <orderly/aftersales/ticket_machine.hpp>

#include <algorithm>

namespace orderly {

using detail::fulfilment_change;
using detail::order_change;
using detail::units_out;

result<detail::units_out> detail::units_of(fulfilment_change& f, const order& o, store& st) {
    const std::size_t n = o.lines.size();
    units_out u{std::vector<std::int64_t>(n, 0), std::vector<std::int64_t>(n, 0),
                std::vector<std::int64_t>(n, 0), std::nullopt};
    if (o.shipments.empty()) {  // the one-parcel form: the order's state says it
        const bool arrived = o.state == order_state::delivered ||
                             o.state == order_state::completed || o.state == order_state::closed;
        for (std::size_t i = 0; i < n; ++i) {
            (arrived ? u.delivered : u.in_transit)[i] = o.lines[i].units.units();
        }
        if (arrived) {
            auto entries = st.timeline(o.id);
            if (!entries) {
                return std::move(entries).error();
            }
            for (const auto& e : *entries) {
                if (e.event == order_event::delivered) {
                    u.last_delivery = e.at;
                }
            }
        }
        return u;
    }
    for (const shipment_id id : o.shipments) {
        auto s = f.peek(id);
        if (!s) {
            return std::move(s).error();
        }
        const shipment& sh = **s;
        std::vector<std::int64_t>* into = nullptr;
        switch (sh.state) {
            case shipment_state::delivered:
                into = &u.delivered;
                if (sh.delivered_at && (!u.last_delivery || *u.last_delivery < *sh.delivered_at)) {
                    u.last_delivery = sh.delivered_at;
                }
                break;
            case shipment_state::shipped:
                into = &u.in_transit;
                break;
            case shipment_state::lost:
            case shipment_state::returned:
                into = &u.undelivered;  // resolved parcels were put right: in no pool
                break;
            default:
                break;
        }
        if (into == nullptr) {
            continue;
        }
        for (const auto& l : sh.lines) {
            if (l.order == o.id && l.line < n) {
                (*into)[l.line] += l.units.units();
            }
        }
    }
    return u;
}

namespace {

constexpr std::size_t max_description_bytes = 2000;
constexpr std::size_t max_evidence = 20;
constexpr std::size_t max_evidence_bytes = 256;
constexpr std::size_t max_note_bytes = 512;

result<void> check_ticket_id(ticket_id id) {
    if (id.value() == 0) {
        return error{errc::missing_value, "ticket_id", "names no ticket"};
    }
    return {};
}

// A carrier code and tracking number as the shipment commands accept them.
result<void> check_parcel(const carrier_id& carrier, std::string_view tracking) {
    if (auto c = parse_id<carrier_id>(carrier.value()); !c) {
        return std::move(c).error().within("carrier");
    }
    if (tracking.size() > max_tracking_number_length) {
        return error{errc::invalid_value, "tracking_number",
                     fmt::format("must be at most {} characters", max_tracking_number_length)};
    }
    if (auto t = parse_id<carrier_id>(tracking); !t) {
        return error{t.error().code, "tracking_number", t.error().message};
    }
    return {};
}

// True once the repairer gave the goods back unrepaired.
bool repair_failed(const ticket& t) {
    return std::any_of(t.timeline.begin(), t.timeline.end(), [](const ticket_entry& e) {
        return e.event == ticket_event::repair_failed;
    });
}

// What the ticket machine's guards read.
ticket_facts facts_of(const ticket& t) {
    return ticket_facts{t.type, t.escalated_from, t.returned.has_value(), repair_failed(t)};
}

// The deadline of the step a ticket is in, if the step has one. A return
// parcel on its way holds the ticket open: its deadline follows the parcel
// (re-armed by each of its carrier events) instead of the return window.
std::optional<timestamp> deadline_of(const ticket& t, ticket_state s, timestamp now,
                                     const after_sales_settings& a) {
    switch (s) {
        case ticket_state::under_review:
            return now + a.response_time;
        case ticket_state::awaiting_return:
            return now + (t.returned ? a.return_transit_time : a.return_window);
        case ticket_state::goods_received:
            return now + a.inspection_time;
        case ticket_state::inspected:
            return now + a.resolution_time;
        case ticket_state::at_repair:
            return now + a.repair_time;
        case ticket_state::replacement_shipped:
        case ticket_state::repaired_shipped:
            return now + a.auto_close_after;
        case ticket_state::escalated:
            // Escalated again when the late step stays late as long again.
            return t.escalated_from == ticket_state::escalated
                       ? std::nullopt
                       : deadline_of(t, t.escalated_from, now, a);
        default:
            return std::nullopt;
    }
}

// Moves the ticket through the machine, with a timeline entry, and arms the
// new step's deadline.
result<void> move(ticket& t, ticket_event event, const actor& by, timestamp now, std::string note,
                  const settings& options) {
    auto next = next_ticket_state(t.state, event, facts_of(t));
    if (!next) {
        return std::move(next).error();
    }
    if (*next == ticket_state::escalated && t.state != ticket_state::escalated) {
        t.escalated_from = t.state;
    }
    t.timeline.push_back(ticket_entry{now, by, event, t.state, *next, std::move(note)});
    t.state = *next;
    t.due_at = deadline_of(t, t.state, now, options.after_sales);
    return {};
}

std::vector<std::pair<std::string, std::string>> details_of(const ticket& t) {
    return {{"ticket_id", fmt::format("{}", t.id)},
            {"type", std::string(to_string(t.type))},
            {"state", std::string(to_string(t.state))}};
}

// Tells the customer about a ticket step.
void tell_customer(order_change& c, const ticket& t, notification_kind kind, std::string text,
                   std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto details = details_of(t);
    details.insert(details.end(), extra.begin(), extra.end());
    c.notify_customer(kind, std::move(text), std::move(details));
}

// Tells the ticket's owner (or the after-sales team) about a ticket step.
void tell_staff(order_change& c, const ticket& t, notification_kind kind, std::string recipient,
                std::string text) {
    c.notify(kind, audience::staff, recipient.empty() ? "customer_service" : std::move(recipient),
             std::move(text), details_of(t));
}

command_outcome ticket_outcome(const order& o, const ticket& t) {
    command_outcome out{o.id, o.number, o.state, std::nullopt, false};
    out.ticket = t.id;
    out.ticket_status = t.state;
    return out;
}

// Units of each line under the order's other tickets that still hold them
// (all but rejected and withdrawn ones).
result<std::vector<std::int64_t>> units_claimed(fulfilment_change& f, const order& o) {
    std::vector<std::int64_t> claimed(o.lines.size(), 0);
    for (const ticket_id id : o.tickets) {
        auto t = f.peek_ticket(id);
        if (!t) {
            return std::move(t).error();
        }
        if ((*t)->state == ticket_state::rejected || (*t)->state == ticket_state::withdrawn) {
            continue;
        }
        for (const auto& l : (*t)->lines) {
            if (l.line < claimed.size()) {
                claimed[l.line] += l.units.units();
            }
        }
    }
    return claimed;
}

// The refund of the units a ticket still acts on (claimed less refused at
// inspection), given everything the order's ledger already gave back.
result<refund_breakdown> refund_for(const order& o, const ticket& t) {
    auto before = tally_refunds(o);
    if (!before) {
        return std::move(before).error();
    }
    std::vector<refund_claim> claim;
    claim.reserve(t.lines.size());
    for (const auto& l : t.lines) {
        if (l.accepted() > 0) {
            claim.push_back(refund_claim{l.line, *quantity::of(l.accepted())});
        }
    }
    return compute_refund(o, claim, *before, seller_at_fault(t.reason));
}

// The approval rule that accepts the ticket, or empty for manual review.
result<std::string> approval_rule(fulfilment_change& f, const order& o, const ticket& t,
                                  const units_out& out, const after_sales_settings& a) {
    if (t.type == ticket_type::refund_only && a.auto_approve_undelivered_refunds) {
        bool all_undelivered = true;
        for (const auto& l : t.lines) {
            all_undelivered = all_undelivered && out.delivered[l.line] == 0 &&
                              out.in_transit[l.line] == 0 &&
                              out.undelivered[l.line] >= l.units.units();
        }
        if (all_undelivered) {
            return std::string("not_delivered");
        }
    }
    const bool damage = t.reason == ticket_reason::damaged || t.reason == ticket_reason::wrong_item;
    if (damage && out.last_delivery && f.now() - *out.last_delivery <= a.damage_report_window) {
        auto refund = refund_for(o, t);
        if (!refund) {
            return std::move(refund).error();
        }
        for (const auto& limit : a.auto_approve_below) {
            if (limit.currency() == refund->total.currency() && refund->total < limit) {
                return std::string("damage_reported_promptly");
            }
        }
    }
    return std::string();
}

// Where returned goods go: the warehouse that shipped the first claimed line.
result<warehouse_id> return_warehouse(fulfilment_change& f, const order& o, const ticket& t) {
    for (const shipment_id id : o.shipments) {
        auto s = f.peek(id);
        if (!s) {
            return std::move(s).error();
        }
        if ((*s)->state == shipment_state::cancelled) {
            continue;
        }
        for (const auto& l : (*s)->lines) {
            if (l.order == o.id && l.line == t.lines.front().line) {
                return (*s)->warehouse;
            }
        }
    }
    if (!o.warehouse.empty()) {
        return o.warehouse;
    }
    for (const auto& r : o.reservations) {
        if (r.sku == t.lines.front().sku) {
            return r.warehouse;
        }
    }
    return error{errc::not_found, "return_to",
                 fmt::format("order {} has no warehouse to take the goods back", o.number)};
}

// The claimed lines of a new ticket, checked against what may be claimed.
result<std::vector<ticket_line>> claim_lines(fulfilment_change& f, const order& o,
                                             const open_ticket_request& r, const units_out& out,
                                             bool in_transit) {
    auto claimed = units_claimed(f, o);
    if (!claimed) {
        return std::move(claimed).error();
    }
    const bool refund_only = r.type == ticket_type::refund_only;
    auto claimable = [&](std::size_t line) {
        std::int64_t n = out.delivered[line];
        if (refund_only || in_transit) {
            n += out.undelivered[line];
        }
        if (in_transit) {
            n += out.in_transit[line];
        }
        return n - (*claimed)[line];
    };
    std::vector<ticket_line> lines;
    if (r.lines.empty()) {
        for (std::size_t i = 0; i < o.lines.size(); ++i) {
            if (const std::int64_t n = claimable(i); n > 0) {
                lines.push_back(ticket_line{static_cast<std::uint32_t>(i), o.lines[i].sku,
                                            *quantity::of(n), sku_id{}, quantity{}, quantity{}});
            }
        }
        if (lines.empty()) {
            return error{errc::invalid_value, "lines",
                         fmt::format("no unit of order {} is left to claim", o.number)};
        }
        return lines;
    }
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        const auto& l = r.lines[i];
        if (l.line >= o.lines.size()) {
            return error{errc::invalid_value, fmt::format("lines[{}].line", i),
                         fmt::format("order {} has {} line(s)", o.number, o.lines.size())};
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (r.lines[j].line == l.line) {
                return error{errc::invalid_value, fmt::format("lines[{}].line", i),
                             "is given twice"};
            }
        }
        if (l.units.units() <= 0) {
            return error{errc::invalid_value, fmt::format("lines[{}].units", i),
                         "must be more than zero"};
        }
        const std::int64_t n = claimable(l.line);
        if (l.units.units() > n) {
            return error{errc::invalid_value, fmt::format("lines[{}].units", i),
                         fmt::format("at most {} unit(s) of line {} can be claimed: {} delivered, "
                                     "{} under other tickets",
                                     std::max<std::int64_t>(n, 0), l.line, out.delivered[l.line],
                                     (*claimed)[l.line])};
        }
        const order_line& line = o.lines[l.line];
        if (!l.replacement_sku.empty()) {
            const std::string field = fmt::format("lines[{}].replacement_sku", i);
            if (r.type != ticket_type::exchange) {
                return error{errc::invalid_value, field, "only an exchange names a replacement"};
            }
            auto entry =
                detail::required(f.tx.find_sku(l.replacement_sku), field, "SKU", l.replacement_sku);
            if (!entry) {
                return std::move(entry).error();
            }
            if (entry->status != sku_status::on_sale) {
                return error{errc::invalid_value, field,
                             fmt::format("SKU {} is not on sale", l.replacement_sku)};
            }
            if (entry->price != line.unit_price) {
                return error{errc::invalid_value, field,
                             fmt::format("SKU {} costs {}; an exchange needs the line's price {}",
                                         l.replacement_sku, entry->price.to_string(),
                                         line.unit_price.to_string())};
            }
        }
        lines.push_back(
            ticket_line{l.line, line.sku, l.units, l.replacement_sku, quantity{}, quantity{}});
    }
    return lines;
}

result<void> check_request(const open_ticket_request& r) {
    if (r.order.value() == 0) {
        return error{errc::missing_value, "order_id", "names no order"};
    }
    if (std::find(all_ticket_types.begin(), all_ticket_types.end(), r.type) ==
        all_ticket_types.end()) {
        return error{errc::invalid_value, "type", "is not a ticket type"};
    }
    if (std::find(all_ticket_reasons.begin(), all_ticket_reasons.end(), r.reason) ==
        all_ticket_reasons.end()) {
        return error{errc::invalid_value, "reason", "is not a ticket reason"};
    }
    if (auto t = detail::check_text(r.description, "description", max_description_bytes, false);
        !t) {
        return t;
    }
    if (r.evidence.size() > max_evidence) {
        return error{errc::invalid_value, "evidence",
                     fmt::format("at most {} references", max_evidence)};
    }
    for (std::size_t i = 0; i < r.evidence.size(); ++i) {
        if (auto t = detail::check_text(r.evidence[i], fmt::format("evidence[{}]", i),
                                        max_evidence_bytes, true);
            !t) {
            return t;
        }
    }
    return {};
}

}  // namespace

// --- the command loop ---------------------------------------------------------------

result<command_outcome> engine::impl::on_ticket(const command_context& ctx, command what,
                                                ticket_id id, std::uint64_t fingerprint,
                                                const ticket_mutation& mutate, bool remember) {
    if (auto r = check_ticket_id(id); !r) {
        return std::move(r).error();
    }
    auto stored = detail::required(ports.store.load_ticket(id), "ticket_id", "ticket", id);
    if (!stored) {
        return std::move(stored).error();
    }
    return on_fulfilment(
        ctx, what, {stored->order}, fingerprint,
        [&](fulfilment_change& f) -> result<command_outcome> {
            // The command works on a copy: a ticket it leaves as it was is
            // not written (due work that finds nothing due any more).
            auto seen = f.peek_ticket(id);
            if (!seen) {
                return std::move(seen).error();
            }
            ticket work = **seen;
            auto c = f.order(work.order);
            if (!c) {
                return std::move(c).error();
            }
            if (auto r = mutate(f, **c, work); !r) {
                return std::move(r).error();
            }
            if (work != **seen) {
                auto t = f.find_ticket(id);
                if (!t) {
                    return std::move(t).error();
                }
                **t = work;
            }
            return ticket_outcome((*c)->order, work);
        },
        remember, false);
}

result<std::optional<shipment_state>> engine::impl::replacement_on_its_way(fulfilment_change& f,
                                                                           const ticket& t) {
    if (!t.replacement) {
        return std::optional<shipment_state>{};
    }
    auto p = f.peek(*t.replacement);
    if (!p) {
        return std::move(p).error();
    }
    if (detail::parcel_ended((*p)->state)) {
        return std::optional<shipment_state>{};
    }
    return std::optional<shipment_state>((*p)->state);
}

result<command_outcome> engine::impl::ticket_step(const command_context& ctx, command what,
                                                  ticket_id id, ticket_event event,
                                                  std::string_view text, std::string_view field,
                                                  bool ends) {
    return on_ticket(
        ctx, what, id, detail::fingerprint().add(what).add(event).add(id).add(text).value(),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = detail::check_text(text, field, max_note_bytes, false); !r) {
                return r;
            }
            if (event == ticket_event::closed) {
                auto out = replacement_on_its_way(f, t);
                if (!out) {
                    return std::move(out).error();
                }
                if (*out) {
                    return error{errc::transition_not_allowed, "state",
                                 fmt::format("ticket {}: its replacement parcel {} is {}; the "
                                             "ticket closes once it arrives",
                                             t.id, *t.replacement, **out)};
                }
            }
            if (auto r = move(t, event, c.who(), f.now(), std::string(text), options); !r) {
                return r;
            }
            return ends ? end_ticket(f, c, t) : result<void>{};
        });
}

// --- opening ------------------------------------------------------------------------

result<command_outcome> engine::impl::open_ticket(const command_context& ctx, command what,
                                                  const open_ticket_request& request,
                                                  bool in_transit) {
    if (auto r = check_request(request); !r) {
        return std::move(r).error();
    }
    auto fp = detail::fingerprint();
    fp.add(what)
        .add(request.order)
        .add(request.type)
        .add(request.reason)
        .add(request.description)
        .add(request.evidence.size());
    for (const auto& e : request.evidence) {
        fp.add(e);
    }
    fp.add(request.lines.size());
    for (const auto& l : request.lines) {
        fp.add(l.line).add(l.units).add(l.replacement_sku);
    }
    // A cancel that became a ticket is fingerprinted as the cancel, so its
    // key replays whichever way the order's state now routes the cancel.
    const std::uint64_t fingerprint = what == command::cancel_order
                                          ? detail::fingerprint()
                                                .add(what)
                                                .add(request.order)
                                                .add(std::string_view(request.description))
                                                .value()
                                          : fp.value();
    return on_fulfilment(
        ctx, what, {request.order}, fingerprint,
        [&](fulfilment_change& f) -> result<command_outcome> {
            auto found = f.order(request.order);
            if (!found) {
                return std::move(found).error();
            }
            order_change& c = **found;
            order& o = c.order;
            if (what == command::cancel_order) {  // the cancel's reason, checked as a cancel's
                if (auto r = detail::check_text(request.description, "reason", 512, true); !r) {
                    return std::move(r).error();
                }
            }
            // The order machine says where tickets are taken: once shipped, until closed.
            const order_guard_facts facts{o.method == payment_method::cash_on_delivery,
                                          o.held_from};
            if (!next_order_state(o.state, order_event::ticket_opened, facts)) {
                return error{errc::transition_not_allowed, "order_id",
                             fmt::format("order {} is {}: tickets are opened once it has "
                                         "shipped and until it closes (cancel it before)",
                                         o.number, o.state)};
            }
            auto out = detail::units_of(f, o, ports.store);
            if (!out) {
                return std::move(out).error();
            }
            auto lines = claim_lines(f, o, request, *out, in_transit);
            if (!lines) {
                return std::move(lines).error();
            }
            auto id = detail::next_id(numbers, f.now());
            if (!id) {
                return std::move(id).error();
            }
            ticket fresh;
            fresh.id = ticket_id(*id);
            fresh.order = o.id;
            fresh.number = o.number;
            fresh.customer = o.customer;
            fresh.merchant = o.merchant;
            fresh.type = request.type;
            fresh.reason = request.reason;
            fresh.description = request.description;
            fresh.evidence = request.evidence;
            fresh.lines = std::move(*lines);
            fresh.created_at = f.now();
            const auto& agents = options.after_sales.agents;
            if (!agents.empty()) {
                fresh.owner = agents[fresh.id.value() % agents.size()];
            }
            if (fresh.type != ticket_type::refund_only) {
                auto to = return_warehouse(f, o, fresh);
                if (!to) {
                    return std::move(to).error();
                }
                fresh.return_to = std::move(*to);
            }
            fresh.timeline.push_back(ticket_entry{f.now(), f.who(), ticket_event::submitted,
                                                  std::nullopt, ticket_state::submitted,
                                                  std::string(to_string(fresh.reason))});
            ticket& t = f.add_ticket(std::move(fresh));
            o.tickets.push_back(t.id);
            c.dirty = true;
            if (auto r =
                    c.transition(order_event::ticket_opened,
                                 fmt::format("{} ticket {} opened: {}", t.type, t.id, t.reason));
                !r) {
                return std::move(r).error();
            }
            tell_customer(c, t, notification_kind::ticket_submitted,
                          fmt::format("Your {} request {} for order {} was received.", t.type, t.id,
                                      o.number));
            tell_staff(
                c, t, notification_kind::ticket_submitted, t.owner,
                fmt::format("New {} ticket {} on order {} ({})", t.type, t.id, o.number, t.reason));
            auto rule = approval_rule(f, o, t, *out, options.after_sales);
            if (!rule) {
                return std::move(rule).error();
            }
            if (rule->empty()) {
                if (auto r = move(t, ticket_event::review_requested, system_actor(), f.now(),
                                  "no approval rule applies", options);
                    !r) {
                    return std::move(r).error();
                }
                return ticket_outcome(o, t);
            }
            t.auto_approved = true;
            t.approval_rule = *rule;
            if (auto r =
                    move(t, ticket_event::auto_approved, system_actor(), f.now(), *rule, options);
                !r) {
                return std::move(r).error();
            }
            tell_customer(c, t, notification_kind::ticket_decided,
                          fmt::format("Your request {} was approved.", t.id),
                          {{"result", "approved"}, {"rule", *rule}});
            if (t.state == ticket_state::approved) {
                if (auto r = refund_ticket(f, c, t, *rule); !r) {
                    return std::move(r).error();
                }
            } else {
                tell_customer(c, t, notification_kind::return_instructions,
                              fmt::format("Please send the goods of request {} back to warehouse "
                                          "{} within the return window, and tell us the "
                                          "tracking number.",
                                          t.id, t.return_to),
                              {{"return_to", t.return_to.value()}});
            }
            return ticket_outcome(o, t);
        },
        true, false);
}

result<command_outcome> engine::open_ticket(const command_context& ctx,
                                            const open_ticket_request& request) {
    return impl_->open_ticket(ctx, command::open_ticket, request, false);
}

// --- refunds and endings ------------------------------------------------------------

result<void> engine::impl::refund_ticket(fulfilment_change& f, order_change& c, ticket& t,
                                         std::string_view note) {
    // Asks the machine first, so a wrong step is refused as such.
    if (auto next = next_ticket_state(t.state, ticket_event::refund_issued, facts_of(t)); !next) {
        return std::move(next).error();
    }
    auto refund = refund_for(c.order, t);
    if (!refund) {
        return std::move(refund).error();
    }
    // Recorded even at zero (units of a free order): the ledger counts units.
    if (!refund->lines.empty()) {
        order_refund entry{f.now(),       refund_source::ticket,
                           t.id.value(),  refund->total,
                           refund->lines, fmt::format("ticket {} {}", t.id, t.type)};
        if (auto r = c.give_back(std::move(entry)); !r) {
            return r;
        }
    }
    const std::string amount = refund->total.to_string();
    t.refund = std::move(*refund);
    // A rule's refund is the system's; otherwise the person's who acted.
    const actor by =
        t.state == ticket_state::approved && t.auto_approved ? system_actor() : c.who();
    if (auto r =
            move(t, ticket_event::refund_issued, by, f.now(),
                 fmt::format("{} refunded{}{}", amount, note.empty() ? "" : ": ", note), options);
        !r) {
        return r;
    }
    tell_customer(c, t, notification_kind::ticket_refunded,
                  fmt::format("{} for request {} is on its way back to you.", amount, t.id),
                  {{"amount", amount}});
    if (auto r = move(t, ticket_event::closed, by, f.now(), "refunded", options); !r) {
        return r;
    }
    return end_ticket(f, c, t);
}

result<void> engine::impl::end_ticket(fulfilment_change& f, order_change& c, const ticket& t) {
    tell_customer(c, t, notification_kind::ticket_closed,
                  fmt::format("Request {} for order {} is {}.", t.id, c.order.number, t.state));
    return close_after_sales(c, &t, &f);
}

// An order's after-sales work is over when every ticket has ended and the
// order is either completed (it closes and the customer is asked for a
// rating, R-27) or, before completion, every unit was refunded (lost or
// returned parcels, returns): the machine's refunded_in_full closes it
// without a review request for goods the customer sent back or never got.
// A completed order without tickets closes when its after-sales window ends.
result<void> engine::impl::close_after_sales(order_change& c, const ticket* just_changed,
                                             fulfilment_change* f) {
    if (c.tx == nullptr) {
        return {};
    }
    order& o = c.order;
    const order_guard_facts facts{o.method == payment_method::cash_on_delivery, o.held_from};
    const bool completed = o.state == order_state::completed;
    if (completed && o.tickets.empty()) {
        return {};
    }
    if (!completed) {
        if (!next_order_state(o.state, order_event::refunded_in_full, facts)) {
            return {};
        }
        auto tally = c.refunds_so_far();
        if (!tally) {
            return std::move(tally).error();
        }
        if (!every_unit_refunded(o, *tally)) {
            return {};
        }
    }
    for (const ticket_id id : o.tickets) {
        if (just_changed != nullptr && just_changed->id == id) {
            if (!ticket_ended(just_changed->state)) {
                return {};
            }
            continue;
        }
        auto t = detail::required(c.tx->find_ticket(id), "ticket_id", "ticket", id);
        if (!t) {
            return std::move(t).error();
        }
        if (!ticket_ended(t->state)) {
            return {};
        }
    }
    // Not while a parcel of the order is still on its way (a reship): its
    // end comes back here (advance_orders), or the window's due look does.
    auto moving = detail::parcel_on_its_way(c, f);
    if (!moving) {
        return std::move(moving).error();
    }
    if (*moving) {
        if (completed) {
            o.due_at = c.now() + std::chrono::days(1);
        }
        return {};
    }
    if (!completed) {
        if (auto r = c.transition(order_event::refunded_in_full, "every unit was refunded"); !r) {
            return r;
        }
        c.notify_customer(notification_kind::order_closed,
                          fmt::format("Order {} is closed: everything was refunded.", o.number),
                          {{"reason", "refunded_in_full"}});
        return {};
    }
    if (auto r = c.transition(order_event::closed, "after-sales work ended"); !r) {
        return r;
    }
    c.notify_customer(
        notification_kind::rating_requested,
        fmt::format("Order {} is closed. How did we do? Rate it from 1 to 5.", o.number),
        {{"rating_requested", "true"}});
    return {};
}

// What refunding parcel `s` gives back to order `o`: for each
// line, the parcel's units that no ticket took, at their exact paid price
// and shipping share (the goods were lost, returned or damaged on the
// seller's side), never more than the line has left to refund. A ticket's
// claim is counted against the pool it most likely came from: a
// not_received claim against the units that never arrived first, any other
// against the delivered ones first; only what spills over counts against
// the other pool. So a lost unit a refund-only ticket already paid back is
// not paid back again by its parcel.
result<refund_breakdown> engine::impl::parcel_refund(fulfilment_change& f, const order& o,
                                                     const shipment& s) {
    const std::size_t n = o.lines.size();
    const bool gone = s.state == shipment_state::lost || s.state == shipment_state::returned;
    auto out = detail::units_of(f, o, ports.store);
    auto before = tally_refunds(o);
    if (!out || !before) {
        return !out ? std::move(out).error() : std::move(before).error();
    }
    std::vector<std::int64_t> not_received(n, 0);
    std::vector<std::int64_t> other(n, 0);
    for (const ticket_id id : o.tickets) {
        auto t = f.peek_ticket(id);
        if (!t) {
            return std::move(t).error();
        }
        if ((*t)->state == ticket_state::rejected || (*t)->state == ticket_state::withdrawn) {
            continue;
        }
        auto& into = (*t)->reason == ticket_reason::not_received ? not_received : other;
        const bool money_back =
            (*t)->type == ticket_type::refund_only || (*t)->type == ticket_type::return_and_refund;
        if ((*t)->state == ticket_state::closed && money_back) {
            // A closed refund ticket took what its refunds took, no more (one
            // that expired before its goods came back took nothing).
            for (const auto& r : o.refunds) {
                if (r.source == refund_source::ticket && r.reference == id.value()) {
                    for (const auto& l : r.lines) {
                        if (l.line < n) {
                            into[l.line] += l.units.units();
                        }
                    }
                }
            }
            continue;
        }
        for (const auto& l : (*t)->lines) {
            if (l.line < n) {
                into[l.line] += l.accepted();
            }
        }
    }
    // Delivered parcels refunded earlier (damage) stay delivered: their
    // units left the delivered pool all the same.
    std::vector<std::int64_t> refunded_delivered(n, 0);
    for (const auto& r : o.refunds) {
        if (r.source != refund_source::parcel || r.reference == s.id.value()) {
            continue;
        }
        auto p = f.peek(shipment_id(r.reference));
        if (!p) {
            return std::move(p).error();
        }
        if ((*p)->state == shipment_state::delivered) {
            for (const auto& l : r.lines) {
                if (l.line < n) {
                    refunded_delivered[l.line] += l.units.units();
                }
            }
        }
    }
    std::vector<std::int64_t> in_parcel(n, 0);
    for (const auto& l : s.lines) {
        if (l.order == o.id && l.line < n) {
            in_parcel[l.line] += l.units.units();
        }
    }
    std::vector<refund_claim> claim;
    for (std::size_t l = 0; l < n; ++l) {
        // A ticket's replacement that never arrived gives back the units it
        // carried (their originals went back); a parcel of the order, the
        // units of its pool that no ticket took.
        std::int64_t k = in_parcel[l];
        if (!s.ticket) {
            const std::int64_t d = out->delivered[l];
            const std::int64_t u = out->undelivered[l];
            const std::int64_t t = out->in_transit[l];
            const std::int64_t pool = gone ? u : d;
            const std::int64_t taken =
                gone ? std::min(u, std::min(not_received[l], u) +
                                       std::max<std::int64_t>(0, other[l] - d - t))
                     : std::min(d, std::min(other[l], d) +
                                       std::max<std::int64_t>(0, not_received[l] - u - t)) +
                           refunded_delivered[l];
            k = std::min(k, std::max<std::int64_t>(0, pool - taken));
        }
        k = std::min(k, o.lines[l].units.units() - before->units[l]);
        if (k > 0) {
            claim.push_back(refund_claim{static_cast<std::uint32_t>(l), *quantity::of(k)});
        }
    }
    if (claim.empty()) {
        const money none = money::zero(o.total.currency());
        return refund_breakdown{{}, none, none, none};
    }
    return compute_refund(o, claim, *before, true);
}

// --- agent, customer and warehouse steps --------------------------------------------

namespace {

// Commands that share a command (and so a key scope) differ by `step`.
std::uint64_t fingerprint_of(command what, std::string_view step, ticket_id id,
                             std::string_view text) {
    return detail::fingerprint().add(what).add(step).add(id).add(text).value();
}

}  // namespace

result<command_outcome> engine::assign_ticket(const command_context& ctx, ticket_id id,
                                              std::string_view agent) {
    return impl_->on_ticket(ctx, command::review_ticket, id,
                            fingerprint_of(command::review_ticket, "assign", id, agent),
                            [&](fulfilment_change&, order_change&, ticket& t) -> result<void> {
                                if (auto r = detail::check_text(agent, "agent", 128, true); !r) {
                                    return r;
                                }
                                if (ticket_ended(t.state)) {
                                    return error{errc::transition_not_allowed, "state",
                                                 fmt::format("ticket {} is {}", t.id, t.state)};
                                }
                                t.owner = std::string(agent);
                                return {};
                            });
}

result<command_outcome> engine::decide_ticket(const command_context& ctx,
                                              const ticket_decision& decision) {
    const auto fp = detail::fingerprint()
                        .add(command::review_ticket)
                        .add(decision.ticket)
                        .add(decision.approve)
                        .add(decision.note)
                        .value();
    return impl_->on_ticket(
        ctx, command::review_ticket, decision.ticket, fp,
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = detail::check_text(decision.note, "note", max_note_bytes, false); !r) {
                return r;
            }
            const ticket_event e =
                decision.approve ? ticket_event::approved : ticket_event::rejected;
            if (auto r = move(t, e, c.who(), f.now(), decision.note, impl_->options); !r) {
                return r;
            }
            if (t.owner.empty()) {
                t.owner = c.who().id;
            }
            t.approval_rule = decision.note;
            tell_customer(c, t, notification_kind::ticket_decided,
                          fmt::format("Your request {} was {}{}{}", t.id,
                                      decision.approve ? "approved" : "rejected",
                                      decision.note.empty() ? "." : ": ", decision.note),
                          {{"result", decision.approve ? "approved" : "rejected"}});
            switch (t.state) {
                case ticket_state::approved:
                    return impl_->refund_ticket(f, c, t, decision.note);
                case ticket_state::awaiting_return:
                    tell_customer(c, t, notification_kind::return_instructions,
                                  fmt::format("Please send the goods of request {} back to "
                                              "warehouse {} and tell us the tracking number.",
                                              t.id, t.return_to),
                                  {{"return_to", t.return_to.value()}});
                    return {};
                default:  // rejected
                    return impl_->end_ticket(f, c, t);
            }
        });
}

result<command_outcome> engine::withdraw_ticket(const command_context& ctx, ticket_id id,
                                                std::string_view reason) {
    return impl_->ticket_step(ctx, command::withdraw_ticket, id, ticket_event::withdrawn, reason,
                              "reason", true);
}

result<command_outcome> engine::record_return_shipment(const command_context& ctx,
                                                       const return_shipment_request& request) {
    const auto fp = detail::fingerprint()
                        .add(command::return_goods)
                        .add(request.ticket)
                        .add(request.carrier)
                        .add(request.tracking_number)
                        .value();
    return impl_->on_ticket(
        ctx, command::return_goods, request.ticket, fp,
        [&](fulfilment_change& f, order_change&, ticket& t) -> result<void> {
            if (auto r = check_parcel(request.carrier, request.tracking_number); !r) {
                return r;
            }
            if (t.state != ticket_state::awaiting_return) {
                return error{errc::transition_not_allowed, "state",
                             fmt::format("ticket {} is {}; goods go back once it awaits them", t.id,
                                         t.state)};
            }
            t.returned = return_parcel{request.carrier, request.tracking_number,
                                       tracking_history(f.now()), f.now()};
            // The parcel is on its way: the deadline follows it from now on.
            t.due_at = deadline_of(t, t.state, f.now(), impl_->options.after_sales);
            return {};
        });
}

result<command_outcome> engine::record_return_event(const command_context& ctx,
                                                    const return_event_request& request) {
    if (auto r = validate(request.event); !r) {
        return std::move(r).error().within("event");
    }
    const auto fp = detail::fingerprint()
                        .add(command::return_goods)
                        .add(request.ticket)
                        .add(request.event.id)
                        .add(request.event.kind)
                        .add(request.event.occurred_at.time_since_epoch().count())
                        .add(request.event.location)
                        .add(request.event.detail)
                        .value();
    return impl_->on_ticket(
        ctx, command::return_goods, request.ticket, fp,
        [&](fulfilment_change& f, order_change&, ticket& t) -> result<void> {
            if (!t.returned) {
                return error{errc::transition_not_allowed, "ticket_id",
                             fmt::format("ticket {} has no return parcel yet", t.id)};
            }
            carrier_event event = request.event;
            event.received_at = f.now();
            auto update = apply_carrier_event(t.returned->tracking, event);
            if (!update) {
                return std::move(update).error().within("event");
            }
            t.returned->tracking = std::move(update->history);
            // Each new scan of a return still on its way re-arms
            // the ticket's deadline: it waits while the parcel moves.
            const bool waiting = t.state == ticket_state::awaiting_return ||
                                 (t.state == ticket_state::escalated &&
                                  t.escalated_from == ticket_state::awaiting_return);
            if (waiting && update->report.recorded()) {
                t.due_at = deadline_of(t, t.state, f.now(), impl_->options.after_sales);
            }
            return {};
        });
}

result<command_outcome> engine::receive_return(const command_context& ctx, ticket_id id) {
    return impl_->on_ticket(
        ctx, command::inspect_return, id,
        fingerprint_of(command::inspect_return, "receive", id, ""),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = move(t, ticket_event::goods_received, c.who(), f.now(),
                              fmt::format("at warehouse {}", t.return_to), impl_->options);
                !r) {
                return r;
            }
            tell_customer(c, t, notification_kind::return_received,
                          fmt::format("We received the goods of request {}.", t.id));
            return {};
        });
}

namespace {

// Applies an inspection's lines to the ticket: each claimed line once,
// sellable + damaged + refused = the units claimed; sellable units back on
// hand at the return warehouse, damaged ones to its damaged bin, refused ones
// back to the customer. Returns the units accepted and refused.
result<std::pair<std::int64_t, std::int64_t>> judge_lines(order_change& c, ticket& t,
                                                          const inspection_request& request) {
    if (request.lines.size() != t.lines.size()) {
        return error{
            errc::invalid_value, "lines",
            fmt::format("ticket {} claims {} line(s); inspect each once", t.id, t.lines.size())};
    }
    std::int64_t accepted = 0;
    std::int64_t refused = 0;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
        const auto& in = request.lines[i];
        auto claimed = std::find_if(t.lines.begin(), t.lines.end(),
                                    [&](const ticket_line& l) { return l.line == in.line; });
        if (claimed == t.lines.end()) {
            return error{errc::invalid_value, fmt::format("lines[{}].line", i),
                         fmt::format("ticket {} does not claim line {}", t.id, in.line)};
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (request.lines[j].line == in.line) {
                return error{errc::invalid_value, fmt::format("lines[{}].line", i),
                             "is given twice"};
            }
        }
        if (in.sellable.units() + in.damaged.units() + in.refused.units() !=
            claimed->units.units()) {
            return error{errc::invalid_value, fmt::format("lines[{}].damaged", i),
                         fmt::format("sellable + damaged + refused must be the {} unit(s) "
                                     "claimed",
                                     claimed->units.units())};
        }
        claimed->sellable = in.sellable;
        claimed->damaged = in.damaged;
        claimed->refused = in.refused;
        if (!in.sellable.is_zero()) {
            c.stock.push_back(stock_change{claimed->sku, t.return_to, stock_operation::restock,
                                           in.sellable, fmt::format("lines[{}].sellable", i)});
        }
        if (!in.damaged.is_zero()) {
            c.stock.push_back(stock_change{claimed->sku, t.return_to,
                                           stock_operation::to_damaged_bin, in.damaged,
                                           fmt::format("lines[{}].damaged", i)});
        }
        accepted += in.sellable.units() + in.damaged.units();
        refused += in.refused.units();
    }
    return std::pair{accepted, refused};
}

}  // namespace

result<command_outcome> engine::inspect_return(const command_context& ctx,
                                               const inspection_request& request) {
    auto fp = detail::fingerprint();
    fp.add(command::inspect_return).add(request.ticket).add(request.note).add(request.lines.size());
    for (const auto& l : request.lines) {
        fp.add(l.line).add(l.sellable).add(l.damaged).add(l.refused);
    }
    return impl_->on_ticket(
        ctx, command::inspect_return, request.ticket, fp.value(),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = detail::check_text(request.note, "note", max_note_bytes, false); !r) {
                return r;
            }
            auto counted = judge_lines(c, t, request);
            if (!counted) {
                return std::move(counted).error();
            }
            const auto [accepted, refused] = *counted;
            if (refused > 0 && request.note.empty()) {
                return error{errc::missing_value, "note",
                             "refusing returned units needs the reason"};
            }
            const std::string found = fmt::format("{} accepted, {} refused{}{}", accepted, refused,
                                                  request.note.empty() ? "" : ": ", request.note);
            if (auto r = move(t, ticket_event::inspected, c.who(), f.now(), found, impl_->options);
                !r) {
                return r;
            }
            tell_customer(c, t, notification_kind::return_received,
                          fmt::format("The goods of request {} were inspected: {}.", t.id, found),
                          {{"accepted", fmt::format("{}", accepted)},
                           {"refused", fmt::format("{}", refused)}});
            if (accepted == 0) {
                // Nothing to refund, replace or repair: the goods go back.
                if (auto r = move(t, ticket_event::rejected, c.who(), f.now(),
                                  std::string(request.note), impl_->options);
                    !r) {
                    return r;
                }
                return impl_->end_ticket(f, c, t);
            }
            if (t.type == ticket_type::return_and_refund) {
                return impl_->refund_ticket(f, c, t, "after inspection");
            }
            return {};
        });
}

result<command_outcome> engine::refund_ticket(const command_context& ctx, ticket_id id,
                                              std::string_view note) {
    return impl_->on_ticket(
        ctx, command::resolve_ticket, id,
        fingerprint_of(command::resolve_ticket, "refund", id, note),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = detail::check_text(note, "note", max_note_bytes, false); !r) {
                return r;
            }
            return impl_->refund_ticket(f, c, t, note);
        });
}

result<command_outcome> engine::ship_replacement(const command_context& ctx, ticket_id id) {
    return impl_->on_ticket(
        ctx, command::resolve_ticket, id,
        fingerprint_of(command::resolve_ticket, "replace", id, ""),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto ready = impl_->setup(); !ready) {
                return std::move(ready).error();
            }
            // Asks the machine first, so a wrong step is refused as such.
            if (auto next =
                    next_ticket_state(t.state, ticket_event::replacement_shipped, facts_of(t));
                !next) {
                return std::move(next).error();
            }
            order& o = c.order;
            // What goes out (the units inspection accepted), and one
            // warehouse that has all of it: where the goods came back to
            // first, then any other.
            std::vector<std::pair<sku_id, quantity>> goods;
            std::vector<std::uint32_t> of_line;
            for (const auto& l : t.lines) {
                if (l.accepted() > 0) {
                    goods.emplace_back(l.replacement_sku.empty() ? l.sku : l.replacement_sku,
                                       *quantity::of(l.accepted()));
                    of_line.push_back(l.line);
                }
            }
            std::vector<warehouse_id> candidates{t.return_to};
            std::map<warehouse_id, std::size_t> covered;
            for (std::size_t i = 0; i < goods.size(); ++i) {
                auto rows = f.tx.find_stock(goods[i].first);
                if (!rows) {
                    return std::move(rows).error();
                }
                for (const auto& row : *rows) {
                    if (row.available() >= goods[i].second.units()) {
                        ++covered[row.warehouse];
                        if (std::find(candidates.begin(), candidates.end(), row.warehouse) ==
                            candidates.end()) {
                            candidates.push_back(row.warehouse);
                        }
                    }
                }
            }
            const auto chosen =
                std::find_if(candidates.begin(), candidates.end(),
                             [&](const warehouse_id& w) { return covered[w] == goods.size(); });
            if (chosen == candidates.end()) {
                return error{errc::insufficient_stock, "lines",
                             fmt::format("no warehouse has every replacement unit of ticket {} "
                                         "available; refund it instead (refund_ticket)",
                                         t.id)};
            }
            // The parcel the goods first travelled in gives the method; the
            // carrier is chosen when it ships, for the replacement goods (the
            // first carrier may not take them).
            shipment copy;
            for (const shipment_id sid : o.shipments) {
                auto s = f.peek(sid);
                if (!s) {
                    return std::move(s).error();
                }
                if ((*s)->state != shipment_state::cancelled && !(*s)->ticket) {
                    copy.shipping_method = (*s)->shipping_method;
                    copy.merchant = (*s)->merchant;
                    break;
                }
            }
            if (copy.merchant.empty()) {
                copy.merchant = o.merchant;
            }
            auto sid = detail::next_id(impl_->numbers, f.now());
            if (!sid) {
                return std::move(sid).error();
            }
            copy.id = shipment_id(*sid);
            copy.customer = o.customer;
            copy.ship_to = o.ship_to;
            copy.orders = {o.id};
            copy.warehouse = *chosen;
            copy.ticket = t.id;
            copy.created_at = f.now();
            for (std::size_t i = 0; i < goods.size(); ++i) {
                auto rid = detail::next_id(impl_->numbers, f.now());
                if (!rid) {
                    return std::move(rid).error();
                }
                auto r = detail::new_reservation(reservation_id(*rid), goods[i].first, *chosen,
                                                 goods[i].second, true);
                if (!r) {
                    return std::move(r).error();
                }
                o.reservations.push_back(*r);
                c.stock.push_back(stock_change{goods[i].first, *chosen, stock_operation::reserve,
                                               goods[i].second, fmt::format("lines[{}].units", i)});
                copy.lines.push_back(
                    shipment_line{o.id, of_line[i], goods[i].first, goods[i].second, r->id});
            }
            o.shipments.push_back(copy.id);
            c.dirty = true;
            t.replacement = copy.id;
            const shipment& s = f.add(std::move(copy));
            if (auto r =
                    move(t, ticket_event::replacement_shipped, c.who(), f.now(),
                         fmt::format("shipment {} from {}", s.id, s.warehouse), impl_->options);
                !r) {
                return r;
            }
            c.notify(
                notification_kind::new_order, audience::merchant, s.merchant.value(),
                fmt::format("Replacement shipment {} for ticket {} of order {}", s.id, t.id,
                            o.number),
                {{"shipment_id", fmt::format("{}", s.id)}, {"ticket_id", fmt::format("{}", t.id)}});
            tell_customer(c, t, notification_kind::replacement_shipped,
                          fmt::format("A replacement for request {} is on its way (shipment {}).",
                                      t.id, s.id),
                          {{"shipment_id", fmt::format("{}", s.id)}});
            return {};
        });
}

result<command_outcome> engine::send_to_repair(const command_context& ctx, ticket_id id,
                                               std::string_view note) {
    return impl_->ticket_step(ctx, command::resolve_ticket, id, ticket_event::sent_to_repair, note,
                              "note", false);
}

result<command_outcome> engine::ship_repaired(const command_context& ctx,
                                              const repair_return_request& request) {
    const auto fp = detail::fingerprint()
                        .add(command::resolve_ticket)
                        .add(request.ticket)
                        .add(request.carrier)
                        .add(request.tracking_number)
                        .value();
    return impl_->on_ticket(
        ctx, command::resolve_ticket, request.ticket, fp,
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = check_parcel(request.carrier, request.tracking_number); !r) {
                return r;
            }
            if (auto r = move(t, ticket_event::repaired_shipped, c.who(), f.now(),
                              fmt::format("{} {}", request.carrier, request.tracking_number),
                              impl_->options);
                !r) {
                return r;
            }
            t.repair_carrier = request.carrier;
            t.repair_tracking_number = request.tracking_number;
            tell_customer(c, t, notification_kind::repair_shipped,
                          fmt::format("The repaired goods of request {} are on their way: {} {}.",
                                      t.id, request.carrier, request.tracking_number),
                          {{"carrier", request.carrier.value()},
                           {"tracking_number", request.tracking_number}});
            return {};
        });
}

result<command_outcome> engine::record_repair_failure(const command_context& ctx, ticket_id id,
                                                      std::string_view note) {
    return impl_->on_ticket(
        ctx, command::resolve_ticket, id,
        fingerprint_of(command::resolve_ticket, "repair_failed", id, note),
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            if (auto r = detail::check_text(note, "note", max_note_bytes, true); !r) {
                return r;
            }
            if (auto r = move(t, ticket_event::repair_failed, c.who(), f.now(), std::string(note),
                              impl_->options);
                !r) {
                return r;
            }
            tell_customer(c, t, notification_kind::return_received,
                          fmt::format("The goods of request {} could not be repaired: {}. We will "
                                      "refund or replace them.",
                                      t.id, note),
                          {{"repair", "failed"}});
            return {};
        });
}

result<command_outcome> engine::close_ticket(const command_context& ctx, ticket_id id,
                                             std::string_view note) {
    return impl_->ticket_step(ctx, command::close_ticket, id, ticket_event::closed, note, "note",
                              true);
}

result<command_outcome> engine::rate_order(const command_context& ctx,
                                           const rating_request& request) {
    const auto fp = detail::fingerprint()
                        .add(command::rate_order)
                        .add(request.order)
                        .add(request.score)
                        .add(request.text)
                        .value();
    return impl_->on_order(
        ctx, command::rate_order, request.order, fp, [&](order_change& c) -> result<void> {
            if (request.score < 1 || request.score > 5) {
                return error{errc::invalid_value, "score", "must be from 1 to 5"};
            }
            if (auto r = detail::check_text(request.text, "text", max_description_bytes, false);
                !r) {
                return r;
            }
            if (c.order.state != order_state::completed && c.order.state != order_state::closed) {
                return error{errc::transition_not_allowed, "state",
                             fmt::format("order {} is {}; it is rated once completed",
                                         c.order.number, c.order.state)};
            }
            if (c.order.rating) {
                return error{errc::invalid_value, "rating",
                             fmt::format("order {} was already rated", c.order.number)};
            }
            c.order.rating = order_rating{request.score, request.text, c.now()};
            return {};
        });
}

// --- reading ------------------------------------------------------------------------

result<ticket> engine::get_ticket(const actor& who, ticket_id id) const {
    if (auto r = check_ticket_id(id); !r) {
        return std::move(r).error();
    }
    auto t = detail::required(impl_->ports.store.load_ticket(id), "ticket_id", "ticket", id);
    if (!t) {
        return t;
    }
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_order, &t->customer);
        !allowed) {
        return std::move(allowed).error();
    }
    return t;
}

result<std::vector<ticket>> engine::tickets_of(const actor& who, order_id id) const {
    auto o = get_order(who, id);
    if (!o) {
        return std::move(o).error();
    }
    std::vector<ticket> out;
    out.reserve(o->tickets.size());
    for (const ticket_id t : o->tickets) {
        auto found = detail::required(impl_->ports.store.load_ticket(t), "ticket_id", "ticket", t);
        if (!found) {
            return std::move(found).error();
        }
        out.push_back(std::move(*found));
    }
    return out;
}

// --- cancel after shipment, due work -----------------------------------------------

// A ticket's step deadline passed: escalated, counted, a case for
// operations, and the next role up told.
result<void> engine::impl::escalate(order_change& c, ticket& t, timestamp at) {
    const ticket_state late = t.state == ticket_state::escalated ? t.escalated_from : t.state;
    if (auto r = move(t, ticket_event::deadline_passed, system_actor(), at,
                      fmt::format("{} took too long", late), options);
        !r) {
        return r;
    }
    ++t.escalations;
    c.cases.push_back(detail::case_signal{
        .type = case_type::after_sales_overdue,
        .cause_key = fmt::format("after_sales_overdue:ticket:{}", t.id),
        .title = fmt::format("Ticket {} of order {} is late at {}", t.id, c.order.number, late),
        .order = c.order.id,
        .ticket = t.id,
        .merchant = c.order.merchant});
    c.notify(notification_kind::ticket_escalated, audience::staff, options.after_sales.escalate_to,
             fmt::format("Ticket {} of order {} is late at {} (escalation {}); owner {}", t.id,
                         c.order.number, late, t.escalations, t.owner.empty() ? "none" : t.owner),
             details_of(t));
    return {};
}

result<void> engine::impl::run_due_ticket(ticket_id id, due_work_report& report) {
    std::size_t* counter = nullptr;
    auto done = on_ticket(
        command_context{system_actor(), "", nullptr}, command::run_due_work, id, 0,
        [&](fulfilment_change& f, order_change& c, ticket& t) -> result<void> {
            counter = nullptr;
            if (!t.due_at || *t.due_at > f.now()) {
                return {};  // no longer due: another scheduler, or a step, got there first
            }
            // A return still on its way is waited for (its deadline escalates,
            // asking a person to look), never expired.
            if (t.state == ticket_state::awaiting_return && !t.returned) {
                counter = &report.returns_expired;
                if (auto r = move(t, ticket_event::return_expired, system_actor(), f.now(),
                                  "the goods did not come back within the return window", options);
                    !r) {
                    return r;
                }
                return end_ticket(f, c, t);
            }
            if (t.state == ticket_state::replacement_shipped ||
                t.state == ticket_state::repaired_shipped) {
                auto out = replacement_on_its_way(f, t);
                if (!out) {
                    return std::move(out).error();
                }
                if (*out) {  // its parcel's own deadlines end it; look again later
                    t.due_at = f.now() + options.after_sales.auto_close_after;
                    return {};
                }
                counter = &report.tickets_closed;
                if (auto r = move(t, ticket_event::closed, system_actor(), f.now(),
                                  "closed automatically", options);
                    !r) {
                    return r;
                }
                return end_ticket(f, c, t);
            }
            counter = &report.tickets_escalated;
            return escalate(c, t, f.now());
        },
        false);
    if (!done) {
        return std::move(done).error();
    }
    if (counter != nullptr) {
        ++*counter;
    }
    return {};
}

}  // namespace orderly
