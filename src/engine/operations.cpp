// Exception cases: opening and reopening them for what detectors find,
// the case commands, escalation of late cases, and the periodic scans for
// unprocessed orders and for causes that went away.
//
// Detectors that react to events (a failed payment, a payment timeout, a
// late, lost or damaged parcel, repeated failed deliveries, a late ticket,
// low stock) queue a detail::case_signal on the command's change; write()
// hands them to raise_cases() in the same transaction. A stock shortage
// makes its command fail, so it is raised in a transaction of its own. The
// store keeps one live case per cause key (put_case fails on a second), so
// two racing detectors open one case: the loser's command is retried and
// then finds it.

#include "engine_impl.hpp"

#include <orderly/ops/case_machine.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace orderly {

namespace {

constexpr std::size_t max_title_bytes = 200;
constexpr std::size_t max_note_bytes = 2000;
constexpr std::size_t max_owner_bytes = 128;
constexpr std::size_t max_code_bytes = 64;
constexpr std::size_t max_notes = 500;

// How urgent a detector's case starts.
case_priority priority_of(case_type t) {
    switch (t) {
        case case_type::stock_shortage:
        case case_type::logistics_loss:
        case case_type::logistics_damage:
        case case_type::after_sales_overdue:
            return case_priority::high;
        case case_type::payment_timeout:
            return case_priority::low;
        default:
            return case_priority::normal;
    }
}

// Moves a case through its machine and records the step.
result<void> step(exception_case& c, case_event event, const actor& by, timestamp at,
                  std::string note) {
    auto next = next_case_state(c.state, event, case_facts{c.escalated_from});
    if (!next) {
        return error{errc::transition_not_allowed, "case_id",
                     fmt::format("case {} is {}: it cannot be {}", c.id, c.state, event)};
    }
    const case_state before = c.state;
    if (*next == case_state::escalated && before != case_state::escalated) {
        c.escalated_from = before;
    }
    c.timeline.push_back(case_entry{at, by, event, before, *next, std::move(note)});
    c.state = *next;
    c.updated_at = at;
    return {};
}

void notify_case(store_transaction& tx, notification_kind kind, const std::string& role,
                 const exception_case& c, const order_number& number, std::string text,
                 timestamp at) {
    notification note;
    note.kind = kind;
    note.order = c.order.value_or(order_id{});
    note.number = number;
    note.audience = audience::staff;
    note.recipient = role;
    note.text = std::move(text);
    note.details = {{"case_id", fmt::format("{}", c.id)},
                    {"type", std::string(to_string(c.type))},
                    {"priority", std::string(to_string(c.priority))}};
    if (!c.cause_key.empty()) {
        note.details.emplace_back("cause", c.cause_key);
    }
    note.created_at = at;
    // The outbox write fails only with the transaction; the caller's commit reports it.
    (void)tx.enqueue(note);
}

result<void> check_code(std::string_view code) {
    if (code.empty()) {
        return error{errc::missing_value, "code", "is required"};
    }
    if (code.size() > max_code_bytes) {
        return error{errc::invalid_value, "code",
                     fmt::format("must be at most {} bytes", max_code_bytes)};
    }
    for (const char ch : code) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
            return error{errc::invalid_value, "code",
                         "must be lower-case letters, digits and '_' (\"reshipped\")"};
        }
    }
    return {};
}

// The order state a cause key "unprocessed_order:order:<id>:<state>" names.
std::optional<order_state> state_in_key(std::string_view key) {
    const auto colon = key.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view name = key.substr(colon + 1);
    for (const order_state s : all_order_states) {
        if (to_string(s) == name) {
            return s;
        }
    }
    return std::nullopt;
}

// Who sells what an order holds: the order's merchant, or, for an order
// placed without one, the merchant of its first line's SKU.
result<merchant_id> merchant_of(store_transaction& tx, const order& o) {
    if (!o.merchant.empty() || o.lines.empty()) {
        return o.merchant;
    }
    auto entry = tx.find_sku(o.lines.front().sku);
    if (!entry) {
        return std::move(entry).error();
    }
    return *entry ? (*entry)->merchant : merchant_id{};
}

}  // namespace

duration engine::impl::response_time(case_priority p) const {
    switch (p) {
        case case_priority::low:
            return options.operations.low_response;
        case case_priority::high:
            return options.operations.high_response;
        case case_priority::urgent:
            return options.operations.urgent_response;
        case case_priority::normal:
            break;
    }
    return options.operations.normal_response;
}

result<std::size_t> engine::impl::raise_cases(store_transaction& tx,
                                              const std::vector<detail::case_signal>& signals,
                                              timestamp at, const actor& by) {
    std::size_t raised = 0;
    std::set<std::string> seen;
    for (const detail::case_signal& signal : signals) {
        if (!seen.insert(signal.cause_key).second) {
            continue;  // found twice by one command: one case
        }
        auto live = tx.find_live_case(signal.cause_key);
        if (!live) {
            return std::move(live).error();
        }
        if (*live && case_unresolved((*live)->state)) {
            continue;  // already being dealt with
        }
        exception_case c;
        if (*live) {
            c = std::move(**live);
            c.version += 1;
            if (auto r = step(c, case_event::reopened, by, at, signal.title); !r) {
                return std::move(r).error();
            }
            c.resolution.clear();
            c.resolution_code.clear();
            c.closed_at.reset();
        } else {
            auto id = detail::next_id(numbers, at);
            if (!id) {
                return std::move(id).error();
            }
            c.id = case_id(*id);
            c.version = 1;
            c.type = signal.type;
            c.priority = priority_of(signal.type);
            c.state = case_state::open;
            c.cause_key = signal.cause_key;
            c.title = signal.title;
            c.order = signal.order;
            c.shipment = signal.shipment;
            c.ticket = signal.ticket;
            c.sku = signal.sku;
            c.warehouse = signal.warehouse;
            c.carrier = signal.carrier;
            c.merchant = signal.merchant;
            c.opened_at = at;
            c.updated_at = at;
            c.timeline.push_back(
                case_entry{at, by, case_event::opened, std::nullopt, case_state::open, c.title});
        }
        c.due_at = at + response_time(c.priority);
        order_number number{};
        if (c.order) {
            auto o = tx.find_order(*c.order);
            if (!o) {
                return std::move(o).error();
            }
            if (*o) {
                number = (*o)->number;
                if (c.merchant.empty()) {
                    auto m = merchant_of(tx, **o);
                    if (!m) {
                        return std::move(m).error();
                    }
                    c.merchant = std::move(*m);
                }
            }
        }
        if (auto r = tx.put_case(c); !r) {
            return std::move(r).error();
        }
        notify_case(tx, notification_kind::case_opened, options.operations.notify_role, c, number,
                    fmt::format("{} case {} ({}): {}", c.version == 1 ? "New" : "Reopened", c.id,
                                c.priority, c.title),
                    at);
        ++raised;
    }
    return raised;
}

result<std::size_t> engine::impl::raise_now(const detail::case_signal& signal) {
    for (unsigned attempt = 1;; ++attempt) {
        auto tx = ports.store.begin();
        if (!tx) {
            return std::move(tx).error();
        }
        auto raised = raise_cases(**tx, {signal}, now(), system_actor());
        if (!raised) {
            return raised;
        }
        if (*raised == 0) {
            return raised;
        }
        auto committed = (*tx)->commit();
        if (committed) {
            return raised;
        }
        if (committed.error().code != errc::conflict || attempt >= options.conflict_retries) {
            return std::move(committed).error();
        }
    }
}

result<exception_case> engine::impl::on_case(const command_context& ctx, command what, case_id id,
                                             std::uint64_t fingerprint,
                                             const case_mutation& mutate) {
    if (id.value() == 0) {
        return error{errc::missing_value, "case_id", "is required"};
    }
    auto done =
        on_store(ctx, what, fingerprint, [&](store_transaction& tx) -> result<command_outcome> {
            auto found = detail::required(tx.find_case(id), "case_id", "case", id);
            if (!found) {
                return std::move(found).error();
            }
            exception_case c = std::move(*found);
            if (auto r = mutate(tx, c); !r) {
                return std::move(r).error();
            }
            c.version += 1;
            c.updated_at = now();
            if (auto r = tx.put_case(c); !r) {
                return std::move(r).error();
            }
            command_outcome out{};
            out.case_ref = c.id;
            return out;
        });
    if (!done) {
        return std::move(done).error();
    }
    return detail::required(ports.store.load_case(id), "case_id", "case", id);
}

// --- commands ------------------------------------------------------------------------

result<exception_case> engine::open_case(const command_context& ctx,
                                         const open_case_request& request) {
    if (std::find(all_case_types.begin(), all_case_types.end(), request.type) ==
        all_case_types.end()) {
        return error{errc::invalid_value, "type", "is not a case type"};
    }
    if (std::find(all_case_priorities.begin(), all_case_priorities.end(), request.priority) ==
        all_case_priorities.end()) {
        return error{errc::invalid_value, "priority", "is not a case priority"};
    }
    if (auto r = detail::check_text(request.title, "title", max_title_bytes, true); !r) {
        return std::move(r).error();
    }
    if (auto r = detail::check_text(request.note, "note", max_note_bytes, false); !r) {
        return std::move(r).error();
    }
    for (const auto& [text, field] : std::array<std::pair<std::string_view, std::string_view>, 4>{
             {{request.sku.value(), "sku"},
              {request.warehouse.value(), "warehouse"},
              {request.carrier.value(), "carrier"},
              {request.merchant.value(), "merchant"}}}) {
        if (auto r = detail::check_text(text, field, max_owner_bytes, false); !r) {
            return std::move(r).error();
        }
    }
    const auto fp = detail::fingerprint()
                        .add(command::open_case)
                        .add(request.type)
                        .add(request.priority)
                        .add(request.title)
                        .add(request.order)
                        .add(request.shipment)
                        .add(request.ticket)
                        .add(request.sku)
                        .add(request.warehouse)
                        .add(request.carrier)
                        .add(request.merchant)
                        .add(request.note)
                        .value();
    auto done = impl_->on_store(
        ctx, command::open_case, fp, [&](store_transaction& tx) -> result<command_outcome> {
            merchant_id merchant = request.merchant;
            order_number number{};
            if (request.order) {
                auto o = detail::required(tx.find_order(*request.order), "order", "order",
                                          *request.order);
                if (!o) {
                    return std::move(o).error();
                }
                number = o->number;
                if (merchant.empty()) {
                    auto m = merchant_of(tx, *o);
                    if (!m) {
                        return std::move(m).error();
                    }
                    merchant = std::move(*m);
                }
            }
            if (request.shipment) {
                auto s = detail::required(tx.find_shipment(*request.shipment), "shipment",
                                          "shipment", *request.shipment);
                if (!s) {
                    return std::move(s).error();
                }
            }
            if (request.ticket) {
                auto t = detail::required(tx.find_ticket(*request.ticket), "ticket", "ticket",
                                          *request.ticket);
                if (!t) {
                    return std::move(t).error();
                }
            }
            const timestamp at = impl_->now();
            auto id = detail::next_id(impl_->numbers, at);
            if (!id) {
                return std::move(id).error();
            }
            exception_case c;
            c.id = case_id(*id);
            c.version = 1;
            c.type = request.type;
            c.priority = request.priority;
            c.title = request.title;
            c.order = request.order;
            c.shipment = request.shipment;
            c.ticket = request.ticket;
            c.sku = request.sku;
            c.warehouse = request.warehouse;
            c.carrier = request.carrier;
            c.merchant = merchant;
            c.opened_at = at;
            c.updated_at = at;
            c.due_at = at + impl_->response_time(c.priority);
            c.timeline.push_back(case_entry{at, ctx.actor, case_event::opened, std::nullopt,
                                            case_state::open, request.title});
            if (!request.note.empty()) {
                c.notes.push_back(case_note{at, ctx.actor, request.note});
            }
            if (auto r = tx.put_case(c); !r) {
                return std::move(r).error();
            }
            notify_case(tx, notification_kind::case_opened, impl_->options.operations.notify_role,
                        c, number, fmt::format("New case {} ({}): {}", c.id, c.priority, c.title),
                        at);
            command_outcome out{};
            out.case_ref = c.id;
            return out;
        });
    if (!done) {
        return std::move(done).error();
    }
    return detail::required(impl_->ports.store.load_case(*done->case_ref), "case_id", "case",
                            *done->case_ref);
}

result<exception_case> engine::acknowledge_case(const command_context& ctx, case_id id,
                                                std::string_view owner) {
    const std::string who = owner.empty() ? ctx.actor.id : std::string(owner);
    if (auto r = detail::check_text(who, "owner", max_owner_bytes, true); !r) {
        return std::move(r).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("acknowledge"))
                        .add(id)
                        .add(who)
                        .value();
    return impl_->on_case(ctx, command::work_case, id, fp,
                          [&](store_transaction&, exception_case& c) -> result<void> {
                              c.owner = who;
                              return step(c, case_event::acknowledged, ctx.actor, impl_->now(),
                                          fmt::format("owned by {}", who));
                          });
}

result<exception_case> engine::assign_case(const command_context& ctx, case_id id,
                                           std::string_view owner) {
    if (auto r = detail::check_text(owner, "owner", max_owner_bytes, true); !r) {
        return std::move(r).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("assign"))
                        .add(id)
                        .add(owner)
                        .value();
    return impl_->on_case(
        ctx, command::work_case, id, fp,
        [&](store_transaction&, exception_case& c) -> result<void> {
            if (!case_unresolved(c.state)) {
                return error{errc::transition_not_allowed, "case_id",
                             fmt::format("case {} is {}: only an unresolved case is assigned", c.id,
                                         c.state)};
            }
            if (c.notes.size() >= max_notes) {
                return error{errc::invalid_value, "notes",
                             fmt::format("a case keeps at most {} notes", max_notes)};
            }
            c.notes.push_back(case_note{impl_->now(), ctx.actor,
                                        fmt::format("assigned from {} to {}",
                                                    c.owner.empty() ? "nobody" : c.owner, owner)});
            c.owner = std::string(owner);
            return {};
        });
}

result<exception_case> engine::start_case_work(const command_context& ctx, case_id id) {
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("start"))
                        .add(id)
                        .value();
    return impl_->on_case(ctx, command::work_case, id, fp,
                          [&](store_transaction&, exception_case& c) -> result<void> {
                              if (c.owner.empty()) {
                                  c.owner = ctx.actor.id;
                              }
                              return step(c, case_event::work_started, ctx.actor, impl_->now(),
                                          "work started");
                          });
}

result<exception_case> engine::add_case_note(const command_context& ctx, case_id id,
                                             std::string_view text) {
    if (auto r = detail::check_text(text, "text", max_note_bytes, true); !r) {
        return std::move(r).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("note"))
                        .add(id)
                        .add(text)
                        .value();
    return impl_->on_case(
        ctx, command::work_case, id, fp,
        [&](store_transaction&, exception_case& c) -> result<void> {
            if (!case_live(c.state)) {
                return error{errc::transition_not_allowed, "case_id",
                             fmt::format("case {} is closed", c.id)};
            }
            if (c.notes.size() >= max_notes) {
                return error{errc::invalid_value, "notes",
                             fmt::format("a case keeps at most {} notes", max_notes)};
            }
            c.notes.push_back(case_note{impl_->now(), ctx.actor, std::string(text)});
            return {};
        });
}

result<exception_case> engine::resolve_case(const command_context& ctx, case_id id,
                                            std::string_view resolution, std::string_view code) {
    if (auto r = detail::check_text(resolution, "resolution", max_note_bytes, true); !r) {
        return std::move(r).error();
    }
    if (auto r = check_code(code); !r) {
        return std::move(r).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("resolve"))
                        .add(id)
                        .add(resolution)
                        .add(code)
                        .value();
    return impl_->on_case(
        ctx, command::work_case, id, fp,
        [&](store_transaction&, exception_case& c) -> result<void> {
            const timestamp at = impl_->now();
            if (auto r = step(c, case_event::resolved, ctx.actor, at, std::string(resolution));
                !r) {
                return r;
            }
            c.resolution = std::string(resolution);
            c.resolution_code = std::string(code);
            c.resolved_at = at;
            c.due_at = impl_->close_time(at);
            if (c.owner.empty()) {
                c.owner = ctx.actor.id;
            }
            return {};
        });
}

result<exception_case> engine::close_case(const command_context& ctx, case_id id) {
    const auto fp = detail::fingerprint()
                        .add(command::work_case)
                        .add(std::string_view("close"))
                        .add(id)
                        .value();
    return impl_->on_case(ctx, command::work_case, id, fp,
                          [&](store_transaction&, exception_case& c) -> result<void> {
                              const timestamp at = impl_->now();
                              if (auto r = step(c, case_event::closed, ctx.actor, at, "closed");
                                  !r) {
                                  return r;
                              }
                              c.closed_at = at;
                              c.due_at.reset();
                              return {};
                          });
}

// --- due work ------------------------------------------------------------------------

// A case whose response deadline passed: escalated, priority raised, a new
// deadline at the raised priority, and the next role up told.
result<void> engine::impl::run_due_case(case_id id, due_work_report& report) {
    for (unsigned attempt = 1;; ++attempt) {
        auto tx = ports.store.begin();
        if (!tx) {
            return std::move(tx).error();
        }
        auto found = (*tx)->find_case(id);
        if (!found) {
            return std::move(found).error();
        }
        const timestamp at = now();
        if (!*found || !(*found)->due_at || *(*found)->due_at > at ||
            (*found)->state == case_state::closed) {
            return {};  // gone, or no longer due: another scheduler was first
        }
        exception_case c = std::move(**found);
        if (c.state == case_state::resolved) {
            // Its cause stayed away (or a person resolved it) for
            // close_resolved_after: it closes, and frees its cause key.
            if (auto r = step(c, case_event::closed, system_actor(), at,
                              "closed automatically after its resolution");
                !r) {
                return r;
            }
            c.version += 1;
            c.closed_at = at;
            c.due_at.reset();
            if (auto r = (*tx)->put_case(c); !r) {
                return r;
            }
            auto committed = (*tx)->commit();
            if (committed) {
                ++report.cases_closed;
                return {};
            }
            if (committed.error().code != errc::conflict || attempt >= options.conflict_retries) {
                return std::move(committed).error();
            }
            continue;
        }
        const case_state late = c.state == case_state::escalated ? c.escalated_from : c.state;
        const case_priority before = c.priority;
        c.priority = raised(c.priority);
        ++c.escalations;
        if (auto r = step(c, case_event::deadline_passed, system_actor(), at,
                          fmt::format("no resolution in time while {} (escalation {}, {} -> {})",
                                      late, c.escalations, before, c.priority));
            !r) {
            return r;
        }
        c.version += 1;
        // Already urgent, nobody took it: the wait doubles with each further
        // escalation, up to a week, so a case left alone does not grow its
        // timeline and the lead's inbox by one entry per response time.
        duration wait = response_time(c.priority);
        if (before == case_priority::urgent) {
            constexpr duration longest = std::chrono::days(7);
            for (unsigned k = 0; k < std::min(c.escalations, 16U) && wait < longest; ++k) {
                wait *= 2;
            }
            wait = std::min(wait, longest);
        }
        c.due_at = at + wait;
        if (auto r = (*tx)->put_case(c); !r) {
            return r;
        }
        order_number number{};
        if (c.order) {
            auto o = (*tx)->find_order(*c.order);
            if (!o) {
                return std::move(o).error();
            }
            if (*o) {
                number = (*o)->number;
            }
        }
        notify_case(**tx, notification_kind::case_escalated, options.operations.escalate_to, c,
                    number,
                    fmt::format("Case {} is late while {} (escalation {}, now {}); owner {}: {}",
                                c.id, late, c.escalations, c.priority,
                                c.owner.empty() ? "none" : c.owner, c.title),
                    at);
        auto committed = (*tx)->commit();
        if (committed) {
            ++report.cases_escalated;
            return {};
        }
        if (committed.error().code != errc::conflict || attempt >= options.conflict_retries) {
            return std::move(committed).error();
        }
    }
}

// Whether what a detector keyed a case on is still so. Cases opened by hand
// (no cause key) and payment timeouts (final) always hold: a person resolves them.
result<bool> engine::impl::cause_holds(const exception_case& c) {
    if (c.cause_key.empty()) {
        return true;
    }
    switch (c.type) {
        case case_type::unprocessed_order:
        case case_type::stock_shortage:
        case case_type::payment_failure:
        case case_type::payment_mismatch: {
            if (!c.order) {
                return true;
            }
            auto o = ports.store.load_order(*c.order);
            if (!o) {
                return std::move(o).error();
            }
            if (!*o) {
                return false;
            }
            if (c.type == case_type::stock_shortage) {
                return (*o)->state == order_state::paid;
            }
            if (c.type == case_type::payment_failure || c.type == case_type::payment_mismatch) {
                return (*o)->state == order_state::awaiting_payment;
            }
            const auto state = state_in_key(c.cause_key);
            return state && (*o)->state == *state;
        }
        case case_type::unclear_address:
        case case_type::logistics_delay:
        case case_type::logistics_loss:
        case case_type::logistics_damage:
        case case_type::parcel_returned: {
            if (!c.shipment) {
                return true;
            }
            auto s = ports.store.load_shipment(*c.shipment);
            if (!s) {
                return std::move(s).error();
            }
            if (!*s) {
                return false;
            }
            if (c.type == case_type::unclear_address) {
                return (*s)->state == shipment_state::shipped;
            }
            const logistics_exception_kind kind =
                c.type == case_type::logistics_delay   ? logistics_exception_kind::delayed
                : c.type == case_type::logistics_loss  ? logistics_exception_kind::lost
                : c.type == case_type::parcel_returned ? logistics_exception_kind::returned
                                                       : logistics_exception_kind::damaged;
            return std::any_of(
                (*s)->exceptions.begin(), (*s)->exceptions.end(),
                [&](const logistics_exception& e) { return e.kind == kind && e.open(); });
        }
        case case_type::after_sales_overdue: {
            if (!c.ticket) {
                return true;
            }
            auto t = ports.store.load_ticket(*c.ticket);
            if (!t) {
                return std::move(t).error();
            }
            return *t && (*t)->state == ticket_state::escalated;
        }
        case case_type::low_stock: {
            auto row = ports.store.stock(c.sku, c.warehouse);
            if (!row) {
                return std::move(row).error();
            }
            return *row && (*row)->low_stock_alerted;
        }
        case case_type::payment_timeout:
        case case_type::other:
            return true;
    }
    return true;
}

namespace {

struct unprocessed_rule {
    order_state state;
    duration limit;
};

}  // namespace

// An unprocessed_order case for order `id` when it has been in `state` for
// `limit` or longer; how many cases that opened (0 or 1).
result<std::size_t> engine::impl::open_if_unprocessed(order_id id, order_state state,
                                                      duration limit, timestamp at) {
    auto o = ports.store.load_order(id);
    if (!o) {
        return std::move(o).error();
    }
    // It entered the state at or before its last change.
    if (!*o || (*o)->state != state || at - (*o)->updated_at < limit) {
        return std::size_t{0};
    }
    auto entries = ports.store.timeline(id);
    if (!entries) {
        return std::move(entries).error();
    }
    timestamp since = (*o)->placed_at;
    for (auto e = entries->rbegin(); e != entries->rend(); ++e) {
        if (e->to == state && e->from != state) {
            since = e->at;
            break;
        }
    }
    if (at - since < limit) {
        return std::size_t{0};
    }
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(at - since);
    return raise_now(detail::case_signal{
        .type = case_type::unprocessed_order,
        .cause_key = fmt::format("unprocessed_order:order:{}:{}", id, state),
        .title = fmt::format("Order {} has been {} for {} h (limit {} h)", (*o)->number, state,
                             hours.count(),
                             std::chrono::duration_cast<std::chrono::hours>(limit).count()),
        .order = id,
        .warehouse = (*o)->warehouse,
        .merchant = (*o)->merchant});
}

// Resolves case `id` with cause_cleared when it is unresolved, keyed on a
// cause, and the cause went away; true when it did. Someone working on the
// case meanwhile (a conflict) leaves it for the next scan.
result<bool> engine::impl::clear_if_gone(case_id id) {
    auto c = ports.store.load_case(id);
    if (!c) {
        return std::move(c).error();
    }
    if (!*c || (*c)->cause_key.empty() || !case_unresolved((*c)->state)) {
        return false;
    }
    auto holds = cause_holds(**c);
    if (!holds) {
        return std::move(holds).error();
    }
    if (*holds) {
        return false;
    }
    auto tx = ports.store.begin();
    if (!tx) {
        return std::move(tx).error();
    }
    exception_case changed = std::move(**c);
    const timestamp when = now();
    if (auto r =
            step(changed, case_event::cause_cleared, system_actor(), when, "the cause went away");
        !r) {
        return std::move(r).error();
    }
    changed.version += 1;
    changed.resolution = "The cause went away before anyone resolved the case.";
    changed.resolution_code = "cause_cleared";
    changed.resolved_at = when;
    changed.due_at = close_time(when);
    if (auto r = (*tx)->put_case(changed); !r) {
        return std::move(r).error();
    }
    auto committed = (*tx)->commit();
    if (!committed) {
        if (committed.error().code == errc::conflict) {
            return false;
        }
        return std::move(committed).error();
    }
    return true;
}

// Every operations.scan_every: orders stuck in a working state past its limit
// get an unprocessed_order case; unresolved cases whose cause went away are
// resolved with code "cause_cleared".
result<void> engine::impl::scan_operations(std::size_t limit, due_work_report& report) {
    const timestamp at = now();
    const std::int64_t now_ms = to_unix_ms(at);
    std::int64_t last = last_operations_scan_ms.load();
    const std::int64_t every =
        std::chrono::duration_cast<std::chrono::milliseconds>(options.operations.scan_every)
            .count();
    if (last != std::numeric_limits<std::int64_t>::min() && now_ms - last < every) {
        return {};
    }
    if (!last_operations_scan_ms.compare_exchange_strong(last, now_ms)) {
        return {};  // another thread scans now
    }
    const operations_settings& ops = options.operations;
    const std::array<unprocessed_rule, 5> rules{{{order_state::pending_review, ops.review_limit},
                                                 {order_state::paid, ops.paid_limit},
                                                 {order_state::allocating, ops.allocating_limit},
                                                 {order_state::packed, ops.packed_limit},
                                                 {order_state::on_hold, ops.on_hold_limit}}};
    std::size_t opened = 0;
    for (const unprocessed_rule& rule : rules) {
        if (rule.limit <= duration::zero()) {
            continue;
        }
        auto walked = detail::for_each_id<order_id>(
            [&](order_id after, std::size_t n) -> result<std::vector<order_id>> {
                if (opened >= limit) {
                    return std::vector<order_id>{};  // enough for one call
                }
                return ports.store.orders_in_state(rule.state, after, n);
            },
            [&](order_id id) -> result<void> {
                if (opened >= limit) {
                    return {};
                }
                auto raised = open_if_unprocessed(id, rule.state, rule.limit, at);
                if (!raised) {
                    return std::move(raised).error();
                }
                opened += *raised;
                return {};
            });
        if (!walked) {
            return walked;
        }
    }
    report.cases_opened += opened;

    // Causes that went away.
    std::size_t cleared = 0;
    for (const case_state state : unresolved_case_states) {
        auto walked = detail::for_each_id<case_id>(
            [&](case_id after, std::size_t n) -> result<std::vector<case_id>> {
                if (cleared >= limit) {
                    return std::vector<case_id>{};
                }
                return ports.store.cases_in_state(state, after, n);
            },
            [&](case_id id) -> result<void> {
                if (cleared >= limit) {
                    return {};
                }
                auto done = clear_if_gone(id);
                if (!done) {
                    return std::move(done).error();
                }
                cleared += *done ? 1U : 0U;
                return {};
            });
        if (!walked) {
            return walked;
        }
    }
    report.causes_cleared += cleared;
    return {};
}

}  // namespace orderly
