// Fulfilment (R-7, R-8, R-13, R-19…R-22): planning an order into shipments
// (merchant, warehouse, shipping method, carrier), merging, pick waves,
// packing re-checks, handing parcels to carriers, tracking events, delays
// and logistics exceptions. Every command reads and writes its orders and
// shipments in one transaction; shipments carry versions like orders, so a
// command that loses a race re-runs from a fresh read.

#include "engine_impl.hpp"

#include <fmt/chrono.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

namespace orderly {

// --- the change object ----------------------------------------------------------

namespace detail {

result<order_change*> fulfilment_change::order(order_id id) {
    if (auto known = changes_.find(id); known != changes_.end()) {
        return known->second.get();
    }
    auto found = required(tx.find_order(id), "order_id", "order", id);
    if (!found) {
        return std::move(found).error();
    }
    if (auto allowed = policy_.authorize(who_, what_, &found->customer); !allowed) {
        return std::move(allowed).error();
    }
    auto held = std::make_unique<orderly::order>(std::move(*found));
    auto change = std::make_unique<order_change>(*held, now_, who_, settings_);
    change->tx = &tx;
    order_change* out = change.get();
    loaded_.emplace(id, std::move(held));
    changes_.emplace(id, std::move(change));
    return out;
}

}  // namespace detail

namespace {

using detail::fulfilment_change;
using detail::order_change;

std::uint64_t fingerprint_of(command what, std::uint64_t id) {
    return detail::fingerprint().add(what).add(id).value();
}

// The next daily collection at or after `now`.
timestamp next_cutoff(timestamp now, std::chrono::minutes daily) {
    const auto day = std::chrono::floor<std::chrono::days>(now);
    timestamp cutoff = day + daily;
    if (cutoff < now) {
        cutoff += std::chrono::days(1);
    }
    return cutoff;
}

const warehouse* find_warehouse(const fulfilment_network& network, const warehouse_id& id) {
    for (const auto& w : network.warehouses) {
        if (w.id == id) {
            return &w;
        }
    }
    return nullptr;
}

ship_from origin_of(const warehouse& w) {
    return ship_from{
        .warehouse = w.id, .name = w.name, .region = w.sender.province, .address = w.sender};
}

// True when a parcel counts toward its orders' state: not cancelled (merged
// away), not resolved (a lost or returned parcel put right by a reship,
// whose replacement counts instead, or by a refund, which gave the goods'
// money back), and not an after-sales ticket's replacement, which the
// ticket follows.
bool counts(const shipment& s) {
    return s.state != shipment_state::cancelled && s.state != shipment_state::resolved && !s.ticket;
}

template <class Pred>
result<bool> all_shipments(fulfilment_change& f, const order& o, Pred pred) {
    bool any = false;
    for (const shipment_id id : o.shipments) {
        auto s = f.peek(id);
        if (!s) {
            return std::move(s).error();
        }
        if (!counts(**s)) {
            continue;
        }
        any = true;
        if (!pred(**s)) {
            return false;
        }
    }
    return any;
}

// Calls `visit(const shipment&)` for every stored shipment in `state`, in
// id order, a page at a time; stops at the first error `visit` returns.
template <class Visit>
result<void> for_each_shipment(store& st, shipment_state state, Visit&& visit) {
    constexpr std::size_t page_size = 512;
    shipment_id after{0};
    for (;;) {
        auto page = st.shipments_in_state(state, after, page_size);
        if (!page) {
            return std::move(page).error();
        }
        for (const shipment_id id : *page) {
            auto s = st.load_shipment(id);
            if (!s) {
                return std::move(s).error();
            }
            if (*s && (*s)->state == state) {
                if (auto r = visit(**s); !r) {
                    return r;
                }
            }
        }
        if (page->size() < page_size) {
            return {};
        }
        after = page->back();
    }
}

// A shipment as the pick-wave planner sees it: its carrier's cut-off and
// each line's bin (the set-up's `bins`; a SKU without one is refused).
result<ready_shipment> to_ready(const shipment& s, const fulfilment_setup& fs) {
    ready_shipment r;
    r.id = s.id;
    r.warehouse = s.warehouse;
    r.carrier = s.carrier.empty() ? carrier_id("unassigned") : s.carrier;
    r.cutoff = next_cutoff(s.created_at, fs.daily_cutoff);
    for (const auto& l : s.lines) {
        auto where = fs.bins(s.warehouse, l.sku);
        if (!where) {
            return error{errc::not_found, "bins",
                         fmt::format("no bin for SKU {} in warehouse {}", l.sku, s.warehouse)};
        }
        r.zone = where->zone;
        r.lines.push_back(pick_line{l.sku, l.units, where->bin});
    }
    return r;
}

// The waves of a warehouse's shipments now in picking, grouped by the wave
// id each carries, with their pick lists rebuilt.
result<std::vector<stored_pick_wave>> open_waves(store& st, const warehouse_id& warehouse,
                                                 const pick_wave_options& options,
                                                 const fulfilment_setup& fs) {
    std::map<std::uint64_t, std::vector<ready_shipment>> groups;
    auto walked =
        for_each_shipment(st, shipment_state::picking, [&](const shipment& s) -> result<void> {
            if (s.warehouse != warehouse || s.wave == 0) {
                return {};
            }
            auto r = to_ready(s, fs);
            if (!r) {
                return std::move(r).error();
            }
            groups[s.wave].push_back(std::move(*r));
            return {};
        });
    if (!walked) {
        return std::move(walked).error();
    }
    std::vector<stored_pick_wave> out;
    pick_wave_options whole = options;
    whole.max_shipments_per_wave = pick_wave_limits::max_shipments;
    whole.max_units_per_wave = pick_wave_limits::max_units_per_wave;
    for (auto& [id, members] : groups) {
        auto waves = plan_pick_waves(members, whole);
        if (!waves) {
            return std::move(waves).error();
        }
        for (auto& w : *waves) {
            out.push_back(stored_pick_wave{id, std::move(w)});
        }
    }
    return out;
}

command_outcome outcome_for(const order& o, const shipment& s) {
    command_outcome out{o.id, o.number, o.state, std::nullopt, false};
    out.shipment = s.id;
    out.shipment_status = s.state;
    return out;
}

result<void> check_shipment_id(shipment_id id) {
    if (id.value() == 0) {
        return error{errc::missing_value, "shipment_id", "is required"};
    }
    return {};
}

// Moves every line and order of `from` into `into`; `from` is cancelled and
// each moved order's shipment list points at `into`.
result<void> merge_into(fulfilment_change& f, shipment& into, shipment& from) {
    into.lines.insert(into.lines.end(), from.lines.begin(), from.lines.end());
    for (const order_id id : from.orders) {
        if (std::find(into.orders.begin(), into.orders.end(), id) == into.orders.end()) {
            into.orders.push_back(id);
        }
        auto c = f.order(id);
        if (!c) {
            return std::move(c).error();
        }
        auto& list = (*c)->order.shipments;
        std::replace(list.begin(), list.end(), from.id, into.id);
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
        (*c)->dirty = true;
    }
    std::sort(into.orders.begin(), into.orders.end());
    into.shipping_cost.reset();  // quoted again when it ships
    from.lines.clear();
    return detail::move(from, shipment_event::cancelled, "shipments");
}

}  // namespace

// --- set-up and the command loop ---------------------------------------------------

result<std::unique_ptr<engine>> engine::create(engine_ports ports, settings options,
                                               fulfilment_setup fulfilment) {
    if (auto valid = validate(fulfilment.network); !valid) {
        return std::move(valid).error().within("fulfilment.network");
    }
    if (fulfilment.network.warehouses.empty()) {
        return error{errc::missing_value, "fulfilment.network.warehouses",
                     "a fulfilment set-up needs at least one warehouse"};
    }
    if (fulfilment.daily_cutoff < std::chrono::minutes(0) ||
        fulfilment.daily_cutoff >= std::chrono::hours(24)) {
        return error{errc::invalid_value, "fulfilment.daily_cutoff",
                     "must be from 00:00 to 23:59 (an offset from midnight UTC)"};
    }
    auto made = create(ports, std::move(options));
    if (!made) {
        return made;
    }
    (*made)->impl_->fulfilment = std::move(fulfilment);
    return made;
}

result<const fulfilment_setup*> engine::impl::setup() const {
    if (!fulfilment) {
        return error{errc::invalid_value, "fulfilment",
                     "this engine was created without a fulfilment set-up"};
    }
    return &*fulfilment;
}

result<std::vector<order_id>> engine::impl::orders_of(shipment_id id) const {
    auto found = detail::required(ports.store.load_shipment(id), "shipment_id", "shipment", id);
    if (!found) {
        return std::move(found).error();
    }
    return std::move(found->orders);
}

result<void> engine::impl::authorize_all(fulfilment_change& f, const actor& who, command what,
                                         const std::vector<order_id>& orders) const {
    if (orders.empty()) {
        return ports.policy.authorize(who, what, nullptr);
    }
    for (const order_id id : orders) {
        if (auto c = f.order(id); !c) {
            return std::move(c).error();
        }
    }
    return {};
}

result<command_outcome> engine::impl::on_fulfilment(const command_context& ctx, command what,
                                                    std::vector<order_id> lock_ids,
                                                    std::uint64_t fingerprint,
                                                    const fulfilment_mutation& mutate,
                                                    bool remember, bool needs_setup) {
    if (auto key = detail::check_idempotency_key(ctx.idempotency_key); remember && !key) {
        return std::move(key).error();
    }
    if (auto ready = setup(); needs_setup && !ready) {
        return std::move(ready).error();
    }
    const std::string key = scoped_key(what, ctx.idempotency_key);
    std::sort(lock_ids.begin(), lock_ids.end());
    lock_ids.erase(std::unique(lock_ids.begin(), lock_ids.end()), lock_ids.end());
    std::vector<std::unique_ptr<detail::order_locks::guard>> held;
    held.reserve(lock_ids.size());
    for (const order_id id : lock_ids) {
        held.push_back(std::make_unique<detail::order_locks::guard>(locks, id));
    }
    for (unsigned attempt = 0;; ++attempt) {
        auto tx = begin(ctx);
        if (!tx) {
            return std::move(tx).error();
        }
        const timestamp at = now();
        detail::fulfilment_change change(**tx, ports.policy, ctx.actor, what, at, options);
        // Authorization cannot be skipped by what a mutation reads: every
        // order the command locks is read and authorized for the actor
        // before anything else (a customer acts on their own orders only),
        // and a command that concerns no order is authorized without an owner.
        if (auto allowed = authorize_all(change, ctx.actor, what, lock_ids); !allowed) {
            return std::move(allowed).error();
        }
        if (remember) {
            auto previous = replay(**tx, key, fingerprint);
            if (!previous || *previous) {
                return previous ? std::move(**previous) : result<command_outcome>(previous.error());
            }
        }
        auto outcome = mutate(change);
        if (!outcome) {
            return std::move(outcome).error();
        }
        for (auto& [id, s] : change.shipments().written()) {
            s.version = change.shipments().is_new(id) ? 1 : s.version + 1;
            s.updated_at = at;
            if (auto r = (*tx)->put_shipment(s); !r) {
                return std::move(r).error();
            }
        }
        for (auto& [id, t] : change.tickets().written()) {
            t.version = change.tickets().is_new(id) ? 1 : t.version + 1;
            t.updated_at = at;
            if (auto r = (*tx)->put_ticket(t); !r) {
                return std::move(r).error();
            }
        }
        for (auto& [id, c] : change.orders()) {
            if (c->entries.empty() && c->notes.empty() && c->stock.empty() && !c->dirty) {
                continue;
            }
            if (auto r = write(**tx, *c, false); !r) {
                return std::move(r).error();
            }
        }
        if (remember) {
            if (auto r = (*tx)->put_idempotency(idempotency_record{key, fingerprint, *outcome, at});
                !r) {
                return std::move(r).error();
            }
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

// --- planning ----------------------------------------------------------------------

result<void> engine::impl::plan(fulfilment_change& f, order_change& c,
                                const fulfilment_request& request) {
    const fulfilment_setup& fs = *fulfilment;
    order& o = c.order;
    if (!o.shipments.empty()) {
        return error{errc::transition_not_allowed, "order_id",
                     fmt::format("order {} is already planned into {} shipment(s)", o.number,
                                 o.shipments.size())};
    }
    if (auto r = c.transition(order_event::allocated, "fulfilment planned"); !r) {
        return r;
    }
    if (request.promised_days && (*request.promised_days < 0 || *request.promised_days > 365)) {
        return error{errc::invalid_value, "promised_days", "must be from 0 to 365"};
    }
    const std::int32_t promised =
        request.promised_days.value_or(options.fulfilment.default_promised_days);

    // The catalogue entries: merchant, traits, weight per line.
    std::vector<sku> entries;
    entries.reserve(o.lines.size());
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        auto found = f.tx.find_sku(o.lines[i].sku);
        if (!found) {
            return std::move(found).error();
        }
        if (!*found) {
            return error{errc::not_found, fmt::format("lines[{}].sku", i),
                         fmt::format("SKU {} is no longer in the catalogue", o.lines[i].sku)};
        }
        entries.push_back(std::move(**found));
    }

    // Split by merchant first: each part belongs to one merchant.
    std::map<merchant_id, std::vector<std::size_t>> by_merchant;
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        const merchant_id& m = entries[i].merchant.empty() ? o.merchant : entries[i].merchant;
        by_merchant[m].push_back(i);
    }

    // Stock as the order sees it: its own active reservations count as available,
    // because planning moves them.
    std::map<std::pair<sku_id, warehouse_id>, std::int64_t> own;
    for (const auto& r : o.reservations) {
        if (r.active()) {
            own[{r.sku, r.warehouse}] += r.units.units();
        }
    }
    std::map<sku_id, std::vector<stock_level>> stock;
    for (const auto& line : o.lines) {
        if (stock.contains(line.sku)) {
            continue;
        }
        auto rows = f.tx.find_stock(line.sku);
        if (!rows) {
            return std::move(rows).error();
        }
        for (auto& row : *rows) {
            if (auto mine = own.find({row.sku, row.warehouse}); mine != own.end()) {
                row.reserved =
                    quantity::of(std::max<std::int64_t>(0, row.reserved.units() - mine->second))
                        .value();
            }
        }
        stock.emplace(line.sku, std::move(*rows));
    }

    // Release what was held at placement; the new reservations follow below.
    if (auto r = c.release_reservations(); !r) {
        return r;
    }
    std::vector<shipment_id> created;
    for (const auto& [merchant, indices] : by_merchant) {
        allocation_request ask;
        ask.ship_to = o.ship_to;
        std::set<sku_id> seen;
        for (const std::size_t i : indices) {
            const bool bulky = fs.bulky && fs.bulky(entries[i]);
            ask.lines.push_back(fulfilment_line{o.lines[i].sku, o.lines[i].units,
                                                goods_traits_of(entries[i].traits, bulky)});
            if (seen.insert(o.lines[i].sku).second) {
                const auto& rows = stock[o.lines[i].sku];
                ask.stock.insert(ask.stock.end(), rows.begin(), rows.end());
            }
        }
        auto plan = fs.selector ? plan_allocation(ask, fs.network, fs.selector)
                                : plan_allocation(ask, fs.network);
        if (!plan) {
            error e = std::move(plan).error();
            // Fields name the request's lines; map them back to the order's.
            if (e.field.starts_with("lines[")) {
                const auto close = e.field.find(']');
                const std::size_t part = std::stoul(e.field.substr(6, close - 6));
                e.field = fmt::format("lines[{}]{}", indices[part], e.field.substr(close + 1));
            }
            return e;
        }
        for (const auto& part : plan->parts) {
            auto id = detail::next_id(numbers, f.now());
            if (!id) {
                return std::move(id).error();
            }
            shipment s;
            s.id = shipment_id(*id);
            s.merchant = merchant;
            s.customer = o.customer;
            s.ship_to = o.ship_to;
            s.orders = {o.id};
            s.warehouse = part.warehouse;
            s.shipping_method = part.shipping_method;
            s.created_at = f.now();
            s.promised_by = f.now() + std::chrono::days(promised);
            std::int64_t weight = 0;
            std::int64_t volume = 0;
            goods_traits traits{};
            for (const auto& l : part.lines) {
                const std::size_t line = indices[l.line];
                auto rid = detail::next_id(numbers, f.now());
                if (!rid) {
                    return std::move(rid).error();
                }
                auto made = detail::new_reservation(reservation_id(*rid), l.sku, part.warehouse,
                                                    l.units, true);
                if (!made) {
                    return std::move(made).error();
                }
                const reservation& r = o.reservations.emplace_back(std::move(*made));
                c.stock.push_back(stock_change{l.sku, part.warehouse, stock_operation::reserve,
                                               l.units, fmt::format("lines[{}].units", line)});
                s.lines.push_back(
                    shipment_line{o.id, static_cast<std::uint32_t>(line), l.sku, l.units, r.id});
                weight += entries[line].weight_g * l.units.units();
                volume += entries[line].volume_cm3 * l.units.units();
                traits = traits.combined_with(ask.lines[l.line].traits);
            }
            if (fs.carriers != nullptr) {
                const warehouse* w = find_warehouse(fs.network, part.warehouse);
                shipment_query query{
                    origin_of(*w), o.ship_to,
                    parcel_profile{std::max<std::int64_t>(1, weight), volume, traits}};
                selection_policy policy;
                policy.rule = fs.carrier_rule;
                policy.choice = request.choice;
                policy.forced = fs.forced_carriers;
                policy.min_on_time_rate = fs.min_on_time_rate;
                auto deadline = delivery_deadline::within_days(promised);
                if (!deadline) {
                    return std::move(deadline).error().within("promised_days");
                }
                policy.deadline = *deadline;
                auto choice = select_carrier(*fs.carriers, query, policy);
                if (!choice) {
                    return std::move(choice).error().within("carrier");
                }
                s.carrier = choice->carrier;
                s.service = choice->service;
                s.shipping_cost = choice->quote.price;
            }
            created.push_back(s.id);
            c.notify(notification_kind::new_order, audience::merchant,
                     merchant.empty() ? std::string("shop") : merchant.value(),
                     fmt::format("New shipment {} of order {}: {} line(s) from {} by {}", s.id,
                                 o.number, s.lines.size(), s.warehouse, s.shipping_method),
                     {{"shipment_id", fmt::format("{}", s.id)},
                      {"warehouse", s.warehouse.value()},
                      {"carrier", s.carrier.value()}});
            f.add(std::move(s));
        }
    }
    o.shipments = created;
    o.warehouse = f.shipments().written().at(created.front()).warehouse;
    return {};
}

result<command_outcome> engine::plan_fulfilment(const command_context& ctx,
                                                const fulfilment_request& request) {
    const auto fp = detail::fingerprint()
                        .add(command::plan_fulfilment)
                        .add(request.order)
                        .add(request.choice.carrier)
                        .add(request.choice.service)
                        .add(request.promised_days)
                        .value();
    auto done = impl_->on_fulfilment(ctx, command::plan_fulfilment, {request.order}, fp,
                                     [&](fulfilment_change& f) -> result<command_outcome> {
                                         auto c = f.order(request.order);
                                         if (!c) {
                                             return std::move(c).error();
                                         }
                                         if (auto r = impl_->plan(f, **c, request); !r) {
                                             return std::move(r).error();
                                         }
                                         const order& o = (*c)->order;
                                         return outcome_for(
                                             o, f.shipments().written().at(o.shipments.front()));
                                     });
    if (!done && done.error().code == errc::insufficient_stock) {
        // The plan wrote nothing; the shortage is a case of its own.
        // Should opening it fail, the caller still gets the shortage, and the
        // unprocessed-order scan finds the order stuck in paid later.
        auto o = impl_->ports.store.load_order(request.order);
        if (o && *o && (*o)->state == order_state::paid) {
            const order& stuck = **o;
            (void)impl_->raise_now(detail::case_signal{
                .type = case_type::stock_shortage,
                .cause_key = fmt::format("stock_shortage:order:{}", stuck.id),
                .title = fmt::format("Order {} cannot be allocated: {} ({})", stuck.number,
                                     done.error().message, done.error().field),
                .order = stuck.id,
                .merchant = stuck.merchant});
        }
    }
    return done;
}

// --- merging -----------------------------------------------------------------------

result<command_outcome> engine::merge_shipments(const command_context& ctx,
                                                std::span<const shipment_id> ids) {
    if (ids.size() < 2) {
        return error{errc::invalid_value, "shipments", "a merge needs at least two shipments"};
    }
    if (ids.size() > 64) {
        return error{errc::invalid_value, "shipments", "at most 64 shipments merge at once"};
    }
    std::vector<order_id> lock_ids;
    auto fp = detail::fingerprint().add(command::merge_shipments);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (auto r = check_shipment_id(ids[i]); !r) {
            return std::move(r).error().within(fmt::format("shipments[{}]", i));
        }
        fp.add(ids[i]);
        auto orders = impl_->orders_of(ids[i]);
        if (!orders) {
            return std::move(orders).error().within(fmt::format("shipments[{}]", i));
        }
        lock_ids.insert(lock_ids.end(), orders->begin(), orders->end());
    }
    return impl_->on_fulfilment(
        ctx, command::merge_shipments, lock_ids, fp.value(),
        [&](fulfilment_change& f) -> result<command_outcome> {
            std::vector<shipment*> parts;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                const std::string field = fmt::format("shipments[{}]", i);
                for (std::size_t j = 0; j < i; ++j) {
                    if (ids[j] == ids[i]) {
                        return error{errc::invalid_value, field, "is given twice"};
                    }
                }
                auto s = f.find(ids[i]);
                if (!s) {
                    return std::move(s).error().within(field);
                }
                if ((*s)->state != shipment_state::planned) {
                    return error{errc::transition_not_allowed, field,
                                 fmt::format("shipment {} is {}; only planned shipments merge",
                                             ids[i], (*s)->state)};
                }
                // Its packing re-check expects the lines it has now.
                if ((*s)->packing) {
                    return error{
                        errc::transition_not_allowed, field,
                        fmt::format("shipment {} is being packed; it ships as it is", ids[i])};
                }
                if ((*s)->ticket) {
                    return error{errc::invalid_value, field,
                                 fmt::format("shipment {} replaces goods of ticket {}; it ships "
                                             "on its own",
                                             ids[i], *(*s)->ticket)};
                }
                if (i > 0) {
                    const shipment& first = *parts.front();
                    if ((*s)->customer != first.customer || (*s)->ship_to != first.ship_to) {
                        return error{errc::invalid_value, field,
                                     "goes to another customer or address"};
                    }
                    if ((*s)->warehouse != first.warehouse ||
                        (*s)->shipping_method != first.shipping_method ||
                        (*s)->merchant != first.merchant) {
                        return error{errc::invalid_value, field,
                                     "ships from another warehouse, merchant or method"};
                    }
                }
                parts.push_back(*s);
            }
            // Orders placed within the merge window of each other.
            timestamp earliest = timestamp::max();
            timestamp latest = timestamp::min();
            for (shipment* s : parts) {
                for (const order_id id : s->orders) {
                    auto c = f.order(id);
                    if (!c) {
                        return std::move(c).error();
                    }
                    earliest = std::min(earliest, (*c)->order.placed_at);
                    latest = std::max(latest, (*c)->order.placed_at);
                }
            }
            if (latest - earliest > impl_->options.fulfilment.merge_window) {
                return error{errc::invalid_value, "shipments",
                             "the orders were placed further apart than the merge window"};
            }
            shipment& into = *parts.front();
            for (std::size_t i = 1; i < parts.size(); ++i) {
                if (auto r = merge_into(f, into, *parts[i]); !r) {
                    return std::move(r).error();
                }
            }
            auto c = f.order(into.orders.front());
            if (!c) {
                return std::move(c).error();
            }
            return outcome_for((*c)->order, into);
        });
}

// --- pick waves --------------------------------------------------------------------

result<std::vector<stored_pick_wave>> engine::plan_pick_waves(const command_context& ctx,
                                                              const warehouse_id& warehouse,
                                                              const pick_wave_options& options) {
    auto ready = impl_->setup();
    if (!ready) {
        return std::move(ready).error();
    }
    const fulfilment_setup& fs = **ready;
    if (!fs.bins) {
        return error{errc::missing_value, "bins",
                     "plan_pick_waves needs fulfilment_setup::bins to find each SKU's bin"};
    }
    if (auto w = parse_id<warehouse_id>(warehouse.value()); !w) {
        return std::move(w).error().within("warehouse");
    }
    if (auto r = validate(options); !r) {
        return std::move(r).error().within("options");
    }
    // The planned shipments of this warehouse, oldest first.
    std::vector<shipment> candidates;
    auto walked = for_each_shipment(
        impl_->ports.store, shipment_state::planned, [&](const shipment& s) -> result<void> {
            if (s.warehouse == warehouse && candidates.size() < pick_wave_limits::max_shipments) {
                candidates.push_back(s);
            }
            return {};
        });
    if (!walked) {
        return std::move(walked).error();
    }
    auto fp = detail::fingerprint()
                  .add(command::plan_pick_waves)
                  .add(warehouse)
                  .add(options.max_shipments_per_wave)
                  .add(options.max_units_per_wave)
                  .add(options.separate_carriers);
    // The merge rule: planned parcels of one customer to one address,
    // one merchant and one method, whose orders were placed within the merge
    // window of each other, travel together: merged before the waves are cut.
    std::vector<std::pair<shipment_id, shipment_id>> merges;  // (into, from)
    {
        std::map<order_id, timestamp> placed;
        for (const auto& s : candidates) {
            for (const order_id id : s.orders) {
                if (placed.contains(id)) {
                    continue;
                }
                auto o = impl_->ports.store.load_order(id);
                if (!o) {
                    return std::move(o).error();
                }
                placed[id] = *o ? (*o)->placed_at : timestamp{};
            }
        }
        struct group {
            std::size_t into;
            timestamp earliest;
            timestamp latest;
        };
        std::vector<group> open;
        std::vector<shipment> kept;
        std::vector<std::size_t> kept_index(candidates.size(), 0);
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            const shipment& s = candidates[i];
            timestamp lo = timestamp::max();
            timestamp hi = timestamp::min();
            for (const order_id id : s.orders) {
                lo = std::min(lo, placed[id]);
                hi = std::max(hi, placed[id]);
            }
            bool joined = false;
            for (auto& g : open) {
                shipment& t = kept[g.into];
                if (!s.ticket && !t.ticket && !s.packing && !t.packing &&
                    t.customer == s.customer && t.ship_to == s.ship_to &&
                    t.merchant == s.merchant && t.shipping_method == s.shipping_method &&
                    std::max(g.latest, hi) - std::min(g.earliest, lo) <=
                        impl_->options.fulfilment.merge_window) {
                    merges.emplace_back(t.id, s.id);
                    g.earliest = std::min(g.earliest, lo);
                    g.latest = std::max(g.latest, hi);
                    t.lines.insert(t.lines.end(), s.lines.begin(), s.lines.end());
                    t.orders.insert(t.orders.end(), s.orders.begin(), s.orders.end());
                    joined = true;
                    break;
                }
            }
            if (!joined) {
                open.push_back(group{kept.size(), lo, hi});
                kept.push_back(s);
            }
        }
        candidates = std::move(kept);
    }
    std::vector<ready_shipment> input;
    std::vector<order_id> lock_ids;
    for (const auto& s : candidates) {
        auto r = to_ready(s, fs);
        if (!r) {
            return std::move(r).error();
        }
        input.push_back(std::move(*r));
        lock_ids.insert(lock_ids.end(), s.orders.begin(), s.orders.end());
    }
    auto waves = orderly::plan_pick_waves(input, options);
    if (!waves) {
        return std::move(waves).error();
    }
    std::vector<stored_pick_wave> out;
    std::vector<std::uint64_t> wave_ids;
    for (auto& w : *waves) {
        auto id = detail::next_id(impl_->numbers, impl_->now());
        if (!id) {
            return std::move(id).error();
        }
        wave_ids.push_back(*id);
        out.push_back(stored_pick_wave{*id, std::move(w)});
    }
    // Each shipment moves to picking under its wave's id; a shipment another
    // command changed meanwhile makes the whole plan re-run (conflict).
    auto moved = impl_->on_fulfilment(
        ctx, command::plan_pick_waves, lock_ids, fp.value(),
        [&](fulfilment_change& f) -> result<command_outcome> {
            command_outcome first{};
            for (const auto& [into_id, from_id] : merges) {
                auto into = f.find(into_id);
                if (!into) {
                    return std::move(into).error();
                }
                auto from = f.find(from_id);
                if (!from) {
                    return std::move(from).error();
                }
                if ((*into)->state != shipment_state::planned ||
                    (*from)->state != shipment_state::planned || (*into)->packing ||
                    (*from)->packing) {
                    return error{errc::conflict, "shipments",
                                 "a parcel changed while waves were planned"};
                }
                if (auto r = merge_into(f, **into, **from); !r) {
                    return std::move(r).error();
                }
            }
            for (const auto& w : out) {
                for (const shipment_id id : w.wave.shipments) {
                    auto s = f.find(id);
                    if (!s) {
                        return std::move(s).error();
                    }
                    // Planned when the waves were cut; another command moved it since
                    // when the machine no longer takes the wave: the plan re-runs.
                    if (!detail::move(**s, shipment_event::wave_planned)) {
                        return error{
                            errc::conflict, "shipments",
                            fmt::format("shipment {} changed while waves were planned", id)};
                    }
                    (*s)->wave = w.id;
                    if (!first.shipment) {
                        first.shipment = id;
                        first.shipment_status = shipment_state::picking;
                        first.order = (*s)->orders.front();
                    }
                }
            }
            return first;
        });
    if (!moved) {
        return std::move(moved).error();
    }
    if (moved->repeated) {
        // The same key ran before: answer with the warehouse's open waves.
        return open_waves(impl_->ports.store, warehouse, options, fs);
    }
    return out;
}

// --- packing ---------------------------------------------------------------------

result<pack_scan_result> engine::scan_for_packing(const command_context& ctx,
                                                  const pack_scan_request& request) {
    if (auto r = check_shipment_id(request.shipment); !r) {
        return std::move(r).error();
    }
    auto orders = impl_->orders_of(request.shipment);
    if (!orders) {
        return std::move(orders).error();
    }
    pack_scan_result result_out;
    const auto fp = detail::fingerprint()
                        .add(command::pack_shipment)
                        .add(request.shipment)
                        .add(request.sku)
                        .add(request.units)
                        .value();
    auto done = impl_->on_fulfilment(
        ctx, command::pack_shipment, *orders, fp,
        [&](fulfilment_change& f) -> result<command_outcome> {
            auto s = f.find(request.shipment);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            // Scans go to a parcel the machine would still let be packed.
            if (!next_shipment_state(sh.state, shipment_event::packed)) {
                return error{errc::transition_not_allowed, "shipment_id",
                             fmt::format("shipment {} is {}; only planned or picking "
                                         "shipments are packed",
                                         sh.id, sh.state)};
            }
            auto session = sh.packing ? packing_session::resume(*sh.packing) : [&] {
                std::vector<packing_line> expected;
                for (const auto& l : sh.lines) {
                    expected.push_back(packing_line{l.sku, l.units});
                }
                return packing_session::open(sh.id, expected);
            }();
            if (!session) {
                return std::move(session).error();
            }
            const std::uint64_t before = session->record().mismatch_count;
            auto scanned = session->scan(packing_scan{request.sku, request.units, f.now()});
            if (!scanned && session->record().mismatch_count == before) {
                return std::move(scanned).error();  // malformed: nothing to record
            }
            result_out.accepted = scanned.has_value();
            if (!scanned) {
                result_out.mismatch = session->record().mismatches.back();
            }
            result_out.remaining = session->remaining();
            sh.packing = session->record();
            auto c = f.order(sh.orders.front());
            if (!c) {
                return std::move(c).error();
            }
            return outcome_for((*c)->order, sh);
        });
    if (!done) {
        return std::move(done).error();
    }
    result_out.repeated = done->repeated;
    if (done->repeated) {
        auto s = impl_->ports.store.load_shipment(request.shipment);
        if (s && *s && (*s)->packing) {
            result_out.remaining = 0;
            for (const auto& l : (*s)->lines) {
                result_out.remaining += l.units.units();
            }
            for (const auto& scan : (*s)->packing->scans) {
                result_out.remaining -= scan.units.units();
            }
        }
    }
    return result_out;
}

// An order follows its parcels (the ones that count): packed when every one
// is packed, shipped when every one has left, delivered when every one
// arrived. Each step is the order machine's to allow.
result<void> engine::impl::advance_orders(fulfilment_change& f, const shipment& s) {
    for (const order_id id : s.orders) {
        auto c = f.order(id);
        if (!c) {
            return std::move(c).error();
        }
        order_change& oc = **c;
        const auto takes = [&](order_event e) {
            const order_guard_facts facts{oc.order.method == payment_method::cash_on_delivery,
                                          oc.order.held_from};
            return next_order_state(oc.order.state, e, facts).has_value();
        };
        auto all_packed = all_shipments(f, oc.order, [](const shipment& x) {
            return x.state != shipment_state::planned && x.state != shipment_state::picking;
        });
        if (!all_packed) {
            return std::move(all_packed).error();
        }
        if (*all_packed && takes(order_event::packed)) {
            if (auto r = oc.transition(order_event::packed, "every parcel packed"); !r) {
                return r;
            }
        }
        auto all_left =
            all_shipments(f, oc.order, [](const shipment& x) { return !in_warehouse(x.state); });
        if (!all_left) {
            return std::move(all_left).error();
        }
        if (*all_left && takes(order_event::shipped)) {
            if (auto r = oc.transition(order_event::shipped, "every parcel handed to its carrier");
                !r) {
                return r;
            }
        }
        auto all_delivered = all_shipments(
            f, oc.order, [](const shipment& x) { return x.state == shipment_state::delivered; });
        if (!all_delivered) {
            return std::move(all_delivered).error();
        }
        if (*all_delivered && takes(order_event::delivered)) {
            if (auto r = oc.transition(order_event::delivered, "every parcel delivered"); !r) {
                return r;
            }
            if (oc.order.method == payment_method::cash_on_delivery) {
                if (auto r = collect_cash(oc); !r) {
                    return r;
                }
            }
            oc.notify_customer(notification_kind::delivered,
                               fmt::format("Order {} was delivered.", oc.order.number));
        }
        // Everything refunded, and this parcel was the last on its way.
        if (detail::parcel_ended(s.state)) {
            if (auto r = close_after_sales(oc, nullptr, &f); !r) {
                return r;
            }
        }
    }
    return {};
}

result<command_outcome> engine::finish_packing(const command_context& ctx, shipment_id id) {
    if (auto r = check_shipment_id(id); !r) {
        return std::move(r).error();
    }
    auto orders = impl_->orders_of(id);
    if (!orders) {
        return std::move(orders).error();
    }
    // A refused finish is recorded (its `missing` mismatches) and reported.
    std::optional<error> refusal;
    auto done = impl_->on_fulfilment(
        ctx, command::pack_shipment, *orders, fingerprint_of(command::pack_shipment, id.value()),
        [&](fulfilment_change& f) -> result<command_outcome> {
            refusal.reset();
            auto s = f.find(id);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            if (!next_shipment_state(sh.state, shipment_event::packed)) {
                return error{errc::transition_not_allowed, "shipment_id",
                             fmt::format("shipment {} is {}", sh.id, sh.state)};
            }
            if (!sh.packing) {
                return error{errc::missing_value, "packing",
                             fmt::format("shipment {}: nothing was scanned yet", sh.id)};
            }
            auto session = packing_session::resume(*sh.packing);
            if (!session) {
                return std::move(session).error();
            }
            auto finished = session->finish(f.now());
            sh.packing = session->record();
            if (finished) {
                if (auto r = detail::move(sh, shipment_event::packed); !r) {
                    return std::move(r).error();
                }
                if (auto r = impl_->advance_orders(f, sh); !r) {
                    return std::move(r).error();
                }
            } else {
                refusal = std::move(finished).error().within("packing");
            }
            auto c = f.order(sh.orders.front());
            if (!c) {
                return std::move(c).error();
            }
            return outcome_for((*c)->order, sh);
        });
    if (done && refusal) {
        return *refusal;
    }
    return done;
}

// --- handing over to the carrier --------------------------------------------------------

result<command_outcome> engine::ship_shipment(const command_context& ctx, shipment_id id) {
    if (auto r = check_shipment_id(id); !r) {
        return std::move(r).error();
    }
    auto ready = impl_->setup();
    if (!ready) {
        return std::move(ready).error();
    }
    if ((*ready)->carriers == nullptr) {
        return error{errc::missing_value, "fulfilment.carriers",
                     "ship_shipment needs a carrier directory in the fulfilment set-up"};
    }
    auto orders = impl_->orders_of(id);
    if (!orders) {
        return std::move(orders).error();
    }
    // The tracking number is issued once, before the transaction, so a retry
    // after a lost race does not book a second parcel.
    std::optional<waybill> issued;
    return impl_->on_fulfilment(
        ctx, command::ship_shipment, *orders, fingerprint_of(command::ship_shipment, id.value()),
        [&](fulfilment_change& f) -> result<command_outcome> {
            const fulfilment_setup& fs = **ready;
            auto s = f.find(id);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            if (!next_shipment_state(sh.state, shipment_event::handed_over)) {
                return error{
                    errc::transition_not_allowed, "shipment_id",
                    fmt::format("shipment {} is {}; only packed parcels ship", sh.id, sh.state)};
            }
            // A held order's goods stay in the warehouse until it is released
            // (its state would otherwise fall behind its parcels').
            for (const order_id oid : sh.orders) {
                auto held = f.order(oid);
                if (!held) {
                    return std::move(held).error();
                }
                if ((*held)->order.state == order_state::on_hold) {
                    return error{errc::transition_not_allowed, "shipment_id",
                                 fmt::format("shipment {} holds goods of order {}, which is on "
                                             "hold; release it first",
                                             sh.id, (*held)->order.number)};
                }
            }
            auto first = f.order(sh.orders.front());
            if (!first) {
                return std::move(first).error();
            }
            const warehouse* w = find_warehouse(fs.network, sh.warehouse);
            if (w == nullptr) {
                return error{errc::not_found, "warehouse",
                             fmt::format("warehouse {} is not in the network", sh.warehouse)};
            }
            std::int64_t weight = 0;
            goods_traits traits{};
            for (const auto& l : sh.lines) {
                auto entry = f.tx.find_sku(l.sku);
                if (!entry) {
                    return std::move(entry).error();
                }
                if (*entry) {
                    weight += (*entry)->weight_g * l.units.units();
                    traits = traits.combined_with(
                        goods_traits_of((*entry)->traits, fs.bulky && fs.bulky(**entry)));
                }
            }
            const shipment_query query{
                origin_of(*w), sh.ship_to,
                parcel_profile{std::max<std::int64_t>(1, weight), 0, traits}};
            if (sh.carrier.empty()) {
                selection_policy policy;
                policy.rule = fs.carrier_rule;
                policy.forced = fs.forced_carriers;
                auto choice = select_carrier(*fs.carriers, query, policy);
                if (!choice) {
                    return std::move(choice).error().within("carrier");
                }
                sh.carrier = choice->carrier;
                sh.service = choice->service;
                sh.shipping_cost = choice->quote.price;
            } else if (!sh.shipping_cost) {
                // A merged parcel weighs more: the carrier quotes it again.
                auto quote = fs.carriers->quote(sh.carrier, sh.service, query);
                if (!quote) {
                    return std::move(quote).error().within("carrier");
                }
                sh.shipping_cost = quote->price;
            }
            if (!issued) {
                waybill draft;
                draft.order_number = (*first)->order.number;
                draft.recipient = sh.ship_to;
                draft.sender = origin_of(*w);
                draft.carrier = sh.carrier;
                draft.service = sh.service;
                draft.parcel = parcel_profile{std::max<std::int64_t>(1, weight), 0, traits};
                if (traits.valuable) {
                    money value = money::zero((*first)->order.total.currency());
                    for (const auto& l : sh.lines) {
                        auto c = f.order(l.order);
                        if (!c) {
                            return std::move(c).error();
                        }
                        const order_line& ol = (*c)->order.lines.at(l.line);
                        auto worth = ol.unit_price.times(l.units);
                        if (!worth) {
                            return std::move(worth).error();
                        }
                        auto sum = value.plus(*worth);
                        if (!sum) {
                            return std::move(sum).error();
                        }
                        value = std::move(*sum);
                    }
                    draft.declared_value = value;
                }
                auto bill = issue_waybill(*fs.carriers, std::move(draft));
                if (!bill) {
                    return std::move(bill).error().within("waybill");
                }
                issued = std::move(*bill);
            }
            sh.tracking_number = issued->tracking_number;
            if (auto r = detail::move(sh, shipment_event::handed_over); !r) {
                return std::move(r).error();
            }
            sh.shipped_at = f.now();
            sh.tracking = tracking_history(f.now());
            sh.due_at = f.now() + impl_->options.fulfilment.delay_limit;
            // The stock leaves: consume exactly this parcel's reservations.
            for (const auto& l : sh.lines) {
                auto c = f.order(l.order);
                if (!c) {
                    return std::move(c).error();
                }
                for (auto& r : (*c)->order.reservations) {
                    if (r.id == l.reservation && detail::accepts(r, reservation_event::consumed)) {
                        if (auto moved = detail::move(r, reservation_event::consumed); !moved) {
                            return std::move(moved).error();
                        }
                        (*c)->stock.push_back(stock_change{
                            r.sku, r.warehouse, stock_operation::consume, r.units, "reservations"});
                    }
                }
            }
            for (const order_id oid : sh.orders) {
                auto c = f.order(oid);
                if (!c) {
                    return std::move(c).error();
                }
                (*c)->order.carrier = sh.carrier;
                (*c)->order.tracking_number = sh.tracking_number;
                (*c)->notify_customer(
                    notification_kind::shipped,
                    fmt::format("A parcel of order {} left with {}, tracking number {}.",
                                (*c)->order.number, sh.carrier, sh.tracking_number),
                    {{"shipment_id", fmt::format("{}", sh.id)},
                     {"carrier", sh.carrier.value()},
                     {"tracking_number", sh.tracking_number}});
            }
            if (auto r = impl_->advance_orders(f, sh); !r) {
                return std::move(r).error();
            }
            return outcome_for((*first)->order, sh);
        });
}

// --- tracking and exceptions -------------------------------------------------------------

namespace {

void raise(order_change& c, shipment& s, logistics_exception_kind kind, std::string detail,
           timestamp at, bool reported = false) {
    s.exceptions.push_back(logistics_exception{kind, at, detail, logistics_remedy::none,
                                               std::nullopt, std::nullopt, std::nullopt, reported});
    const case_type type = kind == logistics_exception_kind::delayed ? case_type::logistics_delay
                           : kind == logistics_exception_kind::lost  ? case_type::logistics_loss
                           : kind == logistics_exception_kind::returned
                               ? case_type::parcel_returned
                               : case_type::logistics_damage;
    c.cases.push_back(detail::case_signal{.type = type,
                                          .cause_key = fmt::format("{}:shipment:{}", type, s.id),
                                          .title = fmt::format("Shipment {} of order {} is {}: {}",
                                                               s.id, c.order.number, kind, detail),
                                          .order = c.order.id,
                                          .shipment = s.id,
                                          .warehouse = s.warehouse,
                                          .carrier = s.carrier,
                                          .merchant = s.merchant});
    c.notify(notification_kind::logistics_exception, audience::staff, "customer_service",
             fmt::format("Shipment {} of order {} is {}: {}", s.id, c.order.number, kind, detail),
             {{"shipment_id", fmt::format("{}", s.id)},
              {"kind", std::string(to_string(kind))},
              {"carrier", s.carrier.value()}});
}

// Marks open exceptions of `kind` as recovered (the cause went away).
void recover(shipment& s, logistics_exception_kind kind, timestamp at) {
    for (auto& e : s.exceptions) {
        if (e.kind == kind && e.open()) {
            e.remedy = logistics_remedy::recovered;
            e.resolved_at = at;
        }
    }
}

// The shipment event a tracking state means for the parcel.
shipment_event event_for(tracking_state t) {
    switch (t) {
        case tracking_state::delivered:
            return shipment_event::delivered;
        case tracking_state::returned_to_sender:
            return shipment_event::returned_to_sender;
        case tracking_state::lost:
            return shipment_event::declared_lost;
        default:
            return shipment_event::carrier_progress;
    }
}

// Due work's next look at a parcel in its state: a moving one's delay
// limit, a lost or returned one's refund time; none once it is over.
std::optional<timestamp> next_look(const shipment& s, timestamp now, const fulfilment_settings& f) {
    switch (s.state) {
        case shipment_state::shipped:
            return s.tracking->last_progress_at() + f.delay_limit;
        case shipment_state::lost:
        case shipment_state::returned:
            if (f.auto_refund_after > duration::zero()) {
                return now + f.auto_refund_after;
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

bool has_open(const shipment& s, logistics_exception_kind kind) {
    return std::any_of(s.exceptions.begin(), s.exceptions.end(),
                       [&](const logistics_exception& e) { return e.kind == kind && e.open(); });
}

}  // namespace

result<command_outcome> engine::record_carrier_event(const command_context& ctx,
                                                     const carrier_event_request& request) {
    if (auto r = check_shipment_id(request.shipment); !r) {
        return std::move(r).error();
    }
    if (auto r = validate(request.event); !r) {
        return std::move(r).error().within("event");
    }
    auto orders = impl_->orders_of(request.shipment);
    if (!orders) {
        return std::move(orders).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::record_carrier_event)
                        .add(request.shipment)
                        .add(request.event.id)
                        .add(request.event.kind)
                        .add(request.event.occurred_at.time_since_epoch().count())
                        .add(request.event.location)
                        .add(request.event.detail)
                        .value();
    return impl_->on_fulfilment(
        ctx, command::record_carrier_event, *orders, fp,
        [&](fulfilment_change& f) -> result<command_outcome> {
            // Read first: a repeated event changes nothing and writes nothing.
            auto seen = f.peek(request.shipment);
            if (!seen) {
                return std::move(seen).error();
            }
            if (!(*seen)->tracking) {
                return error{
                    errc::transition_not_allowed, "shipment_id",
                    fmt::format("shipment {} has not been handed to a carrier", request.shipment)};
            }
            auto first = f.order((*seen)->orders.front());
            if (!first) {
                return std::move(first).error();
            }
            carrier_event event = request.event;
            event.received_at = f.now();
            auto update = apply_carrier_event(*(*seen)->tracking, event);
            if (!update) {
                return std::move(update).error().within("event");
            }
            if (!update->report.recorded()) {
                command_outcome out = outcome_for((*first)->order, **seen);
                out.repeated = true;  // a repeat of an event already recorded
                return out;
            }
            auto s = f.find(request.shipment);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            sh.tracking = std::move(update->history);
            const tracking_state now_state = sh.tracking->state();
            const shipment_state before = sh.state;
            if (auto r = impl_->follow_tracking(f, sh, event.occurred_at); !r) {
                return std::move(r).error();
            }
            for (const order_id oid : sh.orders) {
                auto c = f.order(oid);
                if (!c) {
                    return std::move(c).error();
                }
                if (update->report.notice) {
                    (*c)->notify_customer(
                        notification_kind::tracking_update,
                        fmt::format("Order {}, parcel {}: {}", (*c)->order.number,
                                    sh.tracking_number, to_string(update->report.notice->kind)),
                        {{"shipment_id", fmt::format("{}", sh.id)},
                         {"tracking_state", std::string(to_string(now_state))},
                         {"location", event.location}});
                }
                (*c)->dirty = true;
            }
            if (const auto attempts = impl_->options.operations.failed_attempts_for_unclear_address;
                attempts > 0 && event.kind == tracking_event::delivery_attempt_failed &&
                now_state != tracking_state::delivered) {
                const auto failed = static_cast<std::uint32_t>(std::count_if(
                    sh.tracking->entries().begin(), sh.tracking->entries().end(),
                    [](const tracking_entry& e) {
                        return !e.superseded &&
                               e.event.kind == tracking_event::delivery_attempt_failed;
                    }));
                if (failed >= attempts) {
                    (*first)->cases.push_back(detail::case_signal{
                        .type = case_type::unclear_address,
                        .cause_key = fmt::format("unclear_address:shipment:{}", sh.id),
                        .title =
                            fmt::format("Parcel {} of order {}: {} failed delivery attempts, "
                                        "last: {}",
                                        sh.tracking_number, (*first)->order.number, failed,
                                        event.detail.empty() ? "no reason given" : event.detail),
                        .order = (*first)->order.id,
                        .shipment = sh.id,
                        .warehouse = sh.warehouse,
                        .carrier = sh.carrier,
                        .merchant = sh.merchant});
                }
            }
            if (sh.state != before) {
                if (auto r = impl_->on_parcel_state(f, **first, sh,
                                                    fmt::format("{} {}", sh.carrier, now_state));
                    !r) {
                    return std::move(r).error();
                }
            }
            if (auto r = impl_->advance_orders(f, sh); !r) {
                return std::move(r).error();
            }
            return outcome_for((*first)->order, sh);
        });
}

result<command_outcome> engine::report_logistics_exception(
    const command_context& ctx, const logistics_exception_report& report) {
    if (auto r = check_shipment_id(report.shipment); !r) {
        return std::move(r).error();
    }
    if (report.kind != logistics_exception_kind::lost &&
        report.kind != logistics_exception_kind::damaged) {
        return error{errc::invalid_value, "kind", "only lost or damaged may be reported"};
    }
    if (auto r = detail::check_text(report.detail, "detail", 1024, true); !r) {
        return std::move(r).error();
    }
    auto orders = impl_->orders_of(report.shipment);
    if (!orders) {
        return std::move(orders).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::report_logistics_exception)
                        .add(report.shipment)
                        .add(report.kind)
                        .add(report.detail)
                        .value();
    return impl_->on_fulfilment(
        ctx, command::report_logistics_exception, *orders, fp,
        [&](fulfilment_change& f) -> result<command_outcome> {
            auto s = f.find(report.shipment);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            if (in_warehouse(sh.state) || sh.state == shipment_state::cancelled) {
                return error{errc::transition_not_allowed, "shipment_id",
                             fmt::format("shipment {} is {}; only parcels that left are reported",
                                         sh.id, sh.state)};
            }
            if (has_open(sh, report.kind)) {
                return error{errc::conflict, "kind",
                             fmt::format("shipment {} already has an open {} exception", sh.id,
                                         report.kind)};
            }
            auto first = f.order(sh.orders.front());
            if (!first) {
                return std::move(first).error();
            }
            raise(**first, sh, report.kind, report.detail, f.now(), true);
            if (report.kind == logistics_exception_kind::lost) {
                // A person's word goes into the parcel's tracking like a
                // carrier's scan, so the tracking and shipment machines both
                // say lost (and a later scan of a found parcel wins again).
                if (auto r = impl_->declare_lost(f, sh, report.detail, "reported"); !r) {
                    return std::move(r).error();
                }
            }
            return outcome_for((*first)->order, sh);
        });
}

namespace {

// Which remedies fit which exception: a delayed parcel may still arrive (it
// is compensated, or reported lost first); a lost or returned one is
// reshipped or refunded (the goods never arrived); a damaged one takes any.
result<void> check_remedy(logistics_exception_kind kind, logistics_remedy remedy) {
    const bool goods_remedy =
        remedy == logistics_remedy::reship || remedy == logistics_remedy::refund;
    if (kind == logistics_exception_kind::delayed && goods_remedy) {
        return error{errc::invalid_value, "remedy",
                     "a delayed parcel may still arrive: compensate, or report it lost first"};
    }
    if ((kind == logistics_exception_kind::lost || kind == logistics_exception_kind::returned) &&
        remedy == logistics_remedy::compensation) {
        return error{errc::invalid_value, "remedy",
                     "the goods of a lost or returned parcel never arrived: reship or refund them"};
    }
    return {};
}

}  // namespace

result<command_outcome> engine::resolve_logistics_exception(
    const command_context& ctx, const logistics_resolution& resolution) {
    if (auto r = check_shipment_id(resolution.shipment); !r) {
        return std::move(r).error();
    }
    if (resolution.remedy != logistics_remedy::reship &&
        resolution.remedy != logistics_remedy::refund &&
        resolution.remedy != logistics_remedy::compensation) {
        return error{errc::invalid_value, "remedy", "must be reship, refund or compensation"};
    }
    if (resolution.remedy == logistics_remedy::compensation &&
        (!resolution.amount || !resolution.amount->is_positive())) {
        return error{errc::missing_value, "amount", "a compensation needs a positive amount"};
    }
    if (auto r = detail::check_text(resolution.note, "note", 512, false); !r) {
        return std::move(r).error();
    }
    auto orders = impl_->orders_of(resolution.shipment);
    if (!orders) {
        return std::move(orders).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::resolve_logistics_exception)
                        .add(resolution.shipment)
                        .add(resolution.exception)
                        .add(resolution.remedy)
                        .add(resolution.amount)
                        .add(resolution.note)
                        .value();
    return impl_->on_fulfilment(
        ctx, command::resolve_logistics_exception, *orders, fp,
        [&](fulfilment_change& f) -> result<command_outcome> {
            auto s = f.find(resolution.shipment);
            if (!s) {
                return std::move(s).error();
            }
            shipment& sh = **s;
            if (resolution.exception >= sh.exceptions.size() ||
                !sh.exceptions[resolution.exception].open()) {
                return error{errc::invalid_value, "exception",
                             fmt::format("shipment {} has no open exception {}", sh.id,
                                         resolution.exception)};
            }
            if (auto r = check_remedy(sh.exceptions[resolution.exception].kind, resolution.remedy);
                !r) {
                return std::move(r).error();
            }
            auto first = f.order(sh.orders.front());
            if (!first) {
                return std::move(first).error();
            }
            auto out = impl_->put_right(f, sh, resolution.exception, resolution.remedy,
                                        resolution.amount, resolution.note);
            if (!out) {
                return std::move(out).error();
            }
            return outcome_for((*first)->order, *out ? **out : sh);
        });
}

// Puts exception `index` of parcel `sh` right with `remedy` (the command
// above, and due work's refund of a lost or returned parcel nobody put
// right). Returns the replacement parcel of a reship.
result<const shipment*> engine::impl::put_right(fulfilment_change& f, shipment& sh,
                                                std::size_t index, logistics_remedy remedy,
                                                const std::optional<money>& amount,
                                                std::string_view note) {
    auto first = f.order(sh.orders.front());
    if (!first) {
        return std::move(first).error();
    }
    const logistics_exception_kind kind = sh.exceptions[index].kind;
    // The parcel's state, not the exception's kind, says whether its goods
    // are gone: a reship or refund of a lost parcel's damage exception puts
    // the whole parcel right (and due work must not refund it again).
    const bool goods_gone =
        (sh.state == shipment_state::lost || sh.state == shipment_state::returned) &&
        remedy != logistics_remedy::compensation;
    // Goods already sent again for an earlier exception (a damage in
    // transit) are put right by that replacement: sending or refunding them
    // once more would give the same goods twice.
    const auto earlier = std::find_if(sh.exceptions.begin(), sh.exceptions.end(),
                                      [](const auto& e) { return e.replacement.has_value(); });
    if (goods_gone && earlier != sh.exceptions.end()) {
        return error{errc::transition_not_allowed, "remedy",
                     fmt::format("parcel {} was already replaced by parcel {}; compensate the "
                                 "customer if anything more is owed",
                                 sh.id, *earlier->replacement)};
    }
    if (goods_gone) {
        auto claimed = claimed_by_ticket(f, sh);
        if (!claimed) {
            return std::move(claimed).error();
        }
        if (*claimed) {
            return error{errc::transition_not_allowed, "remedy",
                         fmt::format("ticket {} claims goods of parcel {}: decide or close it "
                                     "first, so the goods are not put right twice",
                                     **claimed, sh.id)};
        }
    }
    const shipment* replacement = nullptr;
    std::optional<money> paid;
    switch (remedy) {
        case logistics_remedy::reship: {
            auto made = reship(f, sh);
            if (!made) {
                return std::move(made).error();
            }
            replacement = *made;
            sh.exceptions[index].replacement = replacement->id;
            break;
        }
        case logistics_remedy::refund: {
            auto total = refund_parcel(f, sh, note);
            if (!total) {
                return std::move(total).error();
            }
            paid = std::move(*total);
            break;
        }
        default: {
            (*first)->compensate(
                *amount, sh.id.value(),
                fmt::format("parcel {} {}{}{}", sh.id, kind, note.empty() ? "" : ": ", note));
            paid = amount;
            break;
        }
    }
    logistics_exception& ex = sh.exceptions[index];
    ex.remedy = remedy;
    ex.resolved_at = f.now();
    ex.amount = paid;
    if (goods_gone) {
        for (auto& other : sh.exceptions) {  // its loss or return is put right by the same step
            if (other.open() && (other.kind == logistics_exception_kind::lost ||
                                 other.kind == logistics_exception_kind::returned)) {
                other.remedy = remedy;
                other.resolved_at = f.now();
            }
        }
        const shipment_event put = remedy == logistics_remedy::reship ? shipment_event::reshipped
                                                                      : shipment_event::refunded;
        if (auto r = detail::move(sh, put); !r) {
            return std::move(r).error();
        }
        sh.due_at.reset();
    }
    if (auto r = advance_orders(f, sh); !r) {
        return std::move(r).error();
    }
    for (const order_id oid : sh.orders) {
        auto c = f.order(oid);
        if (!c) {
            return std::move(c).error();
        }
        if (auto r = close_after_sales(**c, nullptr, &f); !r) {
            return std::move(r).error();
        }
    }
    (*first)->notify(
        notification_kind::logistics_exception, audience::staff, "customer_service",
        fmt::format("Shipment {} {} exception resolved by {}", sh.id, kind, remedy),
        {{"shipment_id", fmt::format("{}", sh.id)}, {"remedy", std::string(to_string(remedy))}});
    return replacement;
}

// A new planned parcel with the same goods, reserved again from the same
// warehouse (a returned parcel's goods are back on hand there).
result<const shipment*> engine::impl::reship(fulfilment_change& f, const shipment& sh) {
    // Once an order completed, goods go out again through an exchange ticket,
    // which the order waits for; a reship would outlive the order.
    for (const order_id oid : sh.orders) {
        auto c = f.order(oid);
        if (!c) {
            return std::move(c).error();
        }
        const order_state st = (*c)->order.state;
        if (st == order_state::completed || st == order_state::closed ||
            st == order_state::cancelled) {
            return error{errc::transition_not_allowed, "remedy",
                         fmt::format("order {} is {}: send goods again through an exchange "
                                     "ticket, or refund or compensate",
                                     (*c)->order.number, st)};
        }
    }
    auto id = detail::next_id(numbers, f.now());
    if (!id) {
        return std::move(id).error();
    }
    shipment copy;
    copy.id = shipment_id(*id);
    copy.merchant = sh.merchant;
    copy.customer = sh.customer;
    copy.ship_to = sh.ship_to;
    copy.orders = sh.orders;
    copy.warehouse = sh.warehouse;
    copy.shipping_method = sh.shipping_method;
    copy.carrier = sh.carrier;
    copy.service = sh.service;
    copy.promised_by = sh.promised_by;
    copy.replaces = sh.id;
    copy.created_at = f.now();
    for (const auto& l : sh.lines) {
        auto c = f.order(l.order);
        if (!c) {
            return std::move(c).error();
        }
        auto rid = detail::next_id(numbers, f.now());
        if (!rid) {
            return std::move(rid).error();
        }
        auto r = detail::new_reservation(reservation_id(*rid), l.sku, sh.warehouse, l.units, true);
        if (!r) {
            return std::move(r).error();
        }
        (*c)->order.reservations.push_back(*r);
        (*c)->stock.push_back(
            stock_change{l.sku, sh.warehouse, stock_operation::reserve, l.units, "reship"});
        copy.lines.push_back(shipment_line{l.order, l.line, l.sku, l.units, r->id});
    }
    for (const order_id oid : copy.orders) {
        auto c = f.order(oid);
        if (!c) {
            return std::move(c).error();
        }
        (*c)->order.shipments.push_back(copy.id);
        (*c)->dirty = true;
    }
    return &f.add(std::move(copy));
}

result<std::optional<ticket_id>> engine::impl::claimed_by_ticket(fulfilment_change& f,
                                                                 const shipment& sh) {
    for (const order_id oid : sh.orders) {
        auto c = f.order(oid);
        if (!c) {
            return std::move(c).error();
        }
        for (const ticket_id tid : (*c)->order.tickets) {
            auto t = f.peek_ticket(tid);
            if (!t) {
                return std::move(t).error();
            }
            if (ticket_ended((*t)->state) || sh.ticket == tid) {
                continue;  // a ticket's own replacement is put right as a parcel
            }
            for (const auto& tl : (*t)->lines) {
                const bool in_parcel = std::any_of(sh.lines.begin(), sh.lines.end(), [&](auto& l) {
                    return l.order == oid && l.line == tl.line;
                });
                if (in_parcel) {
                    return std::optional<ticket_id>(tid);
                }
            }
        }
    }
    return std::optional<ticket_id>{};
}

// Refunds the goods of parcel `sh` to each of its orders (parcel_refund),
// through the payments and the ledger; the sum over the orders.
result<money> engine::impl::refund_parcel(fulfilment_change& f, const shipment& sh,
                                          std::string_view note) {
    std::optional<money> total;
    for (const order_id oid : sh.orders) {
        auto c = f.order(oid);
        if (!c) {
            return std::move(c).error();
        }
        auto part = parcel_refund(f, (*c)->order, sh);
        if (!part) {
            return std::move(part).error();
        }
        if (!part->lines.empty()) {  // recorded even at zero: the ledger counts units
            order_refund entry{
                f.now(),       refund_source::parcel,
                sh.id.value(), part->total,
                part->lines,   fmt::format("parcel {}{}{}", sh.id, note.empty() ? "" : ": ", note)};
            if (auto r = (*c)->give_back(std::move(entry)); !r) {
                return std::move(r).error();
            }
        }
        auto sum = total ? total->plus(part->total) : result<money>(part->total);
        if (!sum) {
            return std::move(sum).error().within("amount");
        }
        total = std::move(*sum);
    }
    return *total;
}

// The parcel follows its tracking through the shipment machine (a parcel
// already put right keeps late scans in its tracking only); a moving or
// delivered parcel's delay and loss exceptions recover; due work's next
// look is armed for the new state.
result<void> engine::impl::follow_tracking(fulfilment_change& /*f*/, shipment& sh,
                                           timestamp occurred_at) {
    const tracking_state now_state = sh.tracking->state();
    const shipment_event event = event_for(now_state);
    const shipment_state before = sh.state;
    if (next_shipment_state(sh.state, event)) {
        if (auto r = detail::move(sh, event); !r) {
            return r;
        }
    }
    if (sh.state == shipment_state::delivered && before != shipment_state::delivered) {
        sh.delivered_at = occurred_at;
    }
    if (tracking_in_progress(now_state) || now_state == tracking_state::delivered) {
        recover(sh, logistics_exception_kind::delayed, occurred_at);
        recover(sh, logistics_exception_kind::lost, occurred_at);
    }
    if (sh.state != before || sh.state == shipment_state::shipped) {
        sh.due_at = next_look(sh, now(), options.fulfilment);
    }
    return {};
}

// What a parcel's new state brings: a loss or a return is an exception (and
// a case); a returned parcel's goods are back on hand at its warehouse.
result<void> engine::impl::on_parcel_state(fulfilment_change& f, order_change& first, shipment& sh,
                                           std::string detail) {
    if (sh.state == shipment_state::lost && !has_open(sh, logistics_exception_kind::lost)) {
        raise(first, sh, logistics_exception_kind::lost,
              fmt::format("{} declared the parcel lost", sh.carrier), f.now());
    }
    if (sh.state != shipment_state::returned) {
        return {};
    }
    raise(first, sh, logistics_exception_kind::returned, std::move(detail), f.now());
    for (const auto& l : sh.lines) {
        auto c = f.order(l.order);
        if (!c) {
            return std::move(c).error();
        }
        (*c)->stock.push_back(stock_change{l.sku, sh.warehouse, stock_operation::restock, l.units,
                                           fmt::format("shipment {} returned", sh.id)});
    }
    return {};
}

// Declares a shipped parcel lost: a declared_lost event in its tracking, in
// the name of `who` (a person's report, the lost_after rule).
result<void> engine::impl::declare_lost(fulfilment_change& f, shipment& sh, std::string_view detail,
                                        std::string_view who) {
    if (!sh.tracking) {
        return error{errc::transition_not_allowed, "shipment_id",
                     fmt::format("shipment {} has not been handed to a carrier", sh.id)};
    }
    carrier_event event;
    event.id = fmt::format("{}-lost-{}", who, sh.tracking->entries().size() + 1);
    event.kind = tracking_event::declared_lost;
    event.occurred_at = f.now();
    event.received_at = f.now();
    event.detail = std::string(detail);
    auto update = apply_carrier_event(*sh.tracking, event);
    if (!update) {
        return std::move(update).error().within("event");
    }
    if (update->history.state() != tracking_state::lost) {
        return error{errc::transition_not_allowed, "shipment_id",
                     fmt::format("shipment {} is {}; it cannot be declared lost", sh.id,
                                 update->history.state())};
    }
    sh.tracking = std::move(update->history);
    return follow_tracking(f, sh, event.occurred_at);
}

// --- cancellation ------------------------------------------------------------------

result<void> engine::impl::cancel_shipments(order_change& c) {
    if (c.order.shipments.empty() || c.tx == nullptr) {
        return {};
    }
    for (const shipment_id id : c.order.shipments) {
        auto found = c.tx->find_shipment(id);
        if (!found) {
            return std::move(found).error();
        }
        if (!*found) {
            continue;
        }
        shipment s = std::move(**found);
        if (s.state == shipment_state::cancelled) {
            continue;
        }
        if (!in_warehouse(s.state)) {
            return error{errc::transition_not_allowed, "state",
                         fmt::format("parcel {} of order {} has left the warehouse; return it "
                                     "through after-sales instead",
                                     s.id, c.order.number)};
        }
        if ((s.state != shipment_state::planned || s.packing) && s.orders.size() > 1) {
            return error{errc::transition_not_allowed, "state",
                         fmt::format("parcel {} is being picked or packed with other orders' "
                                     "goods; take the goods out before cancelling order {}",
                                     s.id, c.order.number)};
        }
        std::erase_if(s.lines, [&](const shipment_line& l) { return l.order == c.order.id; });
        std::erase(s.orders, c.order.id);
        if (s.lines.empty()) {
            if (auto r = detail::move(s, shipment_event::cancelled, "state"); !r) {
                return r;
            }
        }
        s.version += 1;
        s.updated_at = c.now();
        c.shipments.push_back(std::move(s));
    }
    return {};
}

// --- due work: delays, losses, refunds ----------------------------------------------------

result<void> engine::impl::run_due_shipment(shipment_id id, due_work_report& report) {
    auto orders = orders_of(id);
    if (!orders) {
        return std::move(orders).error();
    }
    const command_context ctx{system_actor(), {}, nullptr};
    std::size_t* counter = nullptr;
    auto done = on_fulfilment(
        ctx, command::run_due_work, *orders, 0,
        [&](fulfilment_change& f) -> result<command_outcome> {
            counter = nullptr;
            auto seen = f.peek(id);
            if (!seen) {
                return std::move(seen).error();
            }
            if (!(*seen)->due_at || *(*seen)->due_at > f.now() || !(*seen)->tracking) {
                return command_outcome{};  // no longer due: another scheduler was first
            }
            auto s = f.find(id);
            if (!s) {
                return std::move(s).error();
            }
            auto step = due_step(f, **s);
            if (!step) {
                return std::move(step).error();
            }
            counter = *step == due_parcel::delayed         ? &report.delayed_shipments
                      : *step == due_parcel::declared_lost ? &report.parcels_declared_lost
                      : *step == due_parcel::refunded      ? &report.parcels_refunded
                                                           : nullptr;
            return command_outcome{};
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

// One due look at a parcel: a shipped parcel without progress for
// delay_limit is delayed (once), and for lost_after declared lost; a lost or
// returned parcel nobody put right within auto_refund_after is refunded.
result<engine::impl::due_parcel> engine::impl::due_step(fulfilment_change& f, shipment& sh) {
    auto first = f.order(sh.orders.front());
    if (!first) {
        return std::move(first).error();
    }
    const fulfilment_settings& rules = options.fulfilment;
    if (sh.state == shipment_state::lost || sh.state == shipment_state::returned) {
        sh.due_at.reset();
        const auto open = std::find_if(sh.exceptions.begin(), sh.exceptions.end(), [&](auto& e) {
            return e.open() && (e.kind == logistics_exception_kind::lost ||
                                e.kind == logistics_exception_kind::returned);
        });
        if (rules.auto_refund_after == duration::zero() || open == sh.exceptions.end()) {
            return due_parcel::nothing;
        }
        // An open ticket on its goods ends by its own deadlines; look again
        // a day later, and refund what that ticket did not.
        auto claimed = claimed_by_ticket(f, sh);
        if (!claimed) {
            return std::move(claimed).error();
        }
        if (*claimed) {
            sh.due_at = f.now() + std::chrono::days(1);
            return due_parcel::nothing;
        }
        const auto index = static_cast<std::size_t>(open - sh.exceptions.begin());
        const auto earlier = std::find_if(sh.exceptions.begin(), sh.exceptions.end(),
                                          [](const auto& e) { return e.replacement.has_value(); });
        if (earlier != sh.exceptions.end()) {
            // Its goods went out again already: the loss is closed by that
            // replacement, and the parcel ends.
            for (auto& e : sh.exceptions) {
                if (e.open() && (e.kind == logistics_exception_kind::lost ||
                                 e.kind == logistics_exception_kind::returned)) {
                    e.remedy = logistics_remedy::reship;
                    e.replacement = earlier->replacement;
                    e.resolved_at = f.now();
                }
            }
            if (auto r = detail::move(sh, shipment_event::reshipped); !r) {
                return std::move(r).error();
            }
            if (auto r = advance_orders(f, sh); !r) {
                return std::move(r).error();
            }
            return due_parcel::nothing;  // nothing refunded: written all the same
        }
        auto put = put_right(f, sh, index, logistics_remedy::refund, std::nullopt,
                             "nobody reshipped or refunded it in time");
        if (!put) {
            return std::move(put).error();
        }
        return due_parcel::refunded;
    }
    if (sh.state != shipment_state::shipped) {
        sh.due_at.reset();
        return due_parcel::nothing;
    }
    const timestamp since = sh.tracking->last_progress_at();
    if (rules.lost_after > duration::zero() && f.now() - since >= rules.lost_after) {
        if (auto r = declare_lost(
                f, sh,
                fmt::format("no progress from {} since {:%Y-%m-%d %H:%M} UTC", sh.carrier,
                            std::chrono::floor<std::chrono::minutes>(since)),
                "lost_after");
            !r) {
            return std::move(r).error();
        }
        if (auto r = on_parcel_state(f, **first, sh, ""); !r) {
            return std::move(r).error();
        }
        if (auto r = advance_orders(f, sh); !r) {
            return std::move(r).error();
        }
        return due_parcel::declared_lost;
    }
    due_parcel step = due_parcel::nothing;
    const bool marked = has_open(sh, logistics_exception_kind::delayed);
    if (!marked && sh.tracking->delayed(f.now(), rules.delay_limit)) {
        raise(**first, sh, logistics_exception_kind::delayed,
              fmt::format("no progress from {} since {:%Y-%m-%d %H:%M} UTC", sh.carrier,
                          std::chrono::floor<std::chrono::minutes>(since)),
              f.now());
        step = due_parcel::delayed;
    }
    // Next look: the delay limit until the parcel is marked delayed (at the
    // limit itself, the next pass looks again), then the lost_after rule.
    if (!marked && step != due_parcel::delayed) {
        sh.due_at = since + rules.delay_limit;
    } else if (rules.lost_after > duration::zero()) {
        sh.due_at = since + rules.lost_after;
    } else {
        sh.due_at.reset();  // re-armed by the next carrier event
    }
    return step;
}

// --- reading -------------------------------------------------------------------------

result<shipment> engine::get_shipment(const actor& who, shipment_id id) const {
    auto found =
        detail::required(impl_->ports.store.load_shipment(id), "shipment_id", "shipment", id);
    if (!found) {
        return found;
    }
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_order, &found->customer);
        !allowed) {
        return std::move(allowed).error();
    }
    return found;
}

result<std::vector<carrier_kpi>> engine::carrier_kpis(const actor& who, timestamp from,
                                                      timestamp to) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::view_review_queue, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (to < from) {
        return error{errc::invalid_value, "to", "must not be before from"};
    }
    std::map<carrier_id, carrier_kpi> by_carrier;
    std::map<carrier_id, std::int64_t> quoted;
    for (const shipment_state state :
         {shipment_state::shipped, shipment_state::delivered, shipment_state::returned,
          shipment_state::lost, shipment_state::resolved}) {
        auto walked =
            for_each_shipment(impl_->ports.store, state, [&](const shipment& s) -> result<void> {
                if (!s.shipped_at || *s.shipped_at < from || *s.shipped_at >= to) {
                    return {};
                }
                carrier_kpi& k = by_carrier[s.carrier];
                k.carrier = s.carrier;
                ++k.parcels;
                if (s.state == shipment_state::delivered) {
                    ++k.delivered;
                    if (s.delivered_at && s.promised_by && *s.delivered_at <= *s.promised_by) {
                        ++k.on_time;
                    }
                }
                // A resolved parcel was lost or returned: its exceptions say which.
                const auto ended_as = [&](shipment_state as, logistics_exception_kind kind) {
                    return s.state == as ||
                           (s.state == shipment_state::resolved &&
                            std::any_of(s.exceptions.begin(), s.exceptions.end(),
                                        [&](const logistics_exception& e) {
                                            return e.kind == kind && !e.open() &&
                                                   e.remedy != logistics_remedy::recovered;
                                        }));
                };
                const bool returned =
                    ended_as(shipment_state::returned, logistics_exception_kind::returned);
                k.returned += returned ? 1U : 0U;
                k.lost +=
                    !returned && ended_as(shipment_state::lost, logistics_exception_kind::lost)
                        ? 1U
                        : 0U;
                bool damaged = false;
                bool delayed = false;
                for (const auto& e : s.exceptions) {
                    damaged = damaged || e.kind == logistics_exception_kind::damaged;
                    delayed = delayed || e.kind == logistics_exception_kind::delayed;
                    k.complaints += e.reported ? 1U : 0U;
                }
                k.damaged += damaged ? 1U : 0U;
                k.delayed += delayed ? 1U : 0U;
                if (s.shipping_cost) {
                    ++quoted[s.carrier];
                    if (!k.total_cost) {
                        k.total_cost = *s.shipping_cost;
                    } else {
                        auto sum = k.total_cost->plus(*s.shipping_cost);
                        if (!sum) {
                            return std::move(sum).error();
                        }
                        k.total_cost = std::move(*sum);
                    }
                }
                return {};
            });
        if (!walked) {
            return std::move(walked).error();
        }
    }
    auto share = [](std::size_t part, std::size_t whole) -> std::optional<rate> {
        if (whole == 0) {
            return std::nullopt;
        }
        auto r = rate::ratio(static_cast<rate::rep_type>(part), static_cast<rate::rep_type>(whole));
        return r ? std::optional<rate>(*r) : std::nullopt;
    };
    std::vector<carrier_kpi> out;
    for (auto& [id, k] : by_carrier) {
        k.on_time_rate = share(k.on_time, k.delivered);
        k.delivery_success_rate = share(k.delivered, k.delivered + k.returned + k.lost);
        k.damage_rate = share(k.damaged, k.parcels);
        k.loss_rate = share(k.lost, k.parcels);
        if (k.total_cost) {
            auto per = rate::ratio(1, quoted[id]);
            if (!per) {
                return std::move(per).error();
            }
            auto average = k.total_cost->times(*per, rounding::half_even);
            if (!average) {
                return std::move(average).error();
            }
            k.average_cost = std::move(*average);
        }
        out.push_back(std::move(k));
    }
    return out;
}

result<packaging_hint> engine::packaging_for(const actor& who, shipment_id id) const {
    auto ready = impl_->setup();
    if (!ready) {
        return std::move(ready).error();
    }
    auto s = get_shipment(who, id);
    if (!s) {
        return std::move(s).error();
    }
    std::vector<packed_item> items;
    for (const auto& l : s->lines) {
        auto entry = impl_->ports.store.load_sku(l.sku);
        if (!entry) {
            return std::move(entry).error();
        }
        if (!*entry) {
            return error{errc::not_found, "sku",
                         fmt::format("SKU {} is no longer in the catalogue", l.sku)};
        }
        const sku& k = **entry;
        const bool bulky = (*ready)->bulky && (*ready)->bulky(k);
        items.push_back(
            packed_item{l.sku, l.units, k.volume_cm3, goods_traits_of(k.traits, bulky)});
    }
    return suggest_packaging(items, (*ready)->packaging);
}

result<order_fulfilment> engine::fulfilment(const actor& who, order_id id) const {
    auto o = get_order(who, id);
    if (!o) {
        return std::move(o).error();
    }
    order_fulfilment out;
    out.state = o->state;
    std::size_t left = 0;
    std::size_t delivered = 0;
    for (const shipment_id sid : o->shipments) {
        auto s = impl_->ports.store.load_shipment(sid);
        if (!s) {
            return std::move(s).error();
        }
        if (!*s || !counts(**s)) {
            continue;
        }
        if (!in_warehouse((*s)->state)) {
            ++left;
        }
        if ((*s)->state == shipment_state::delivered) {
            ++delivered;
        }
        out.shipments.push_back(std::move(**s));
    }
    const std::size_t n = out.shipments.size();
    if (n == 0) {
        out.progress = fulfilment_progress::not_planned;
    } else if (delivered == n) {
        out.progress = fulfilment_progress::delivered;
    } else if (delivered > 0) {
        out.progress = fulfilment_progress::partially_delivered;
    } else if (left == n) {
        out.progress = fulfilment_progress::shipped;
    } else if (left > 0) {
        out.progress = fulfilment_progress::partially_shipped;
    } else {
        out.progress = fulfilment_progress::in_warehouse;
    }
    return out;
}

}  // namespace orderly
