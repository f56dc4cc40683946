// Inventory between warehouses: transfers with an in-transit
// quantity, transfer proposals from open demand, low-stock alerts from the
// due-work scan, and turnover from the store's on-hand ledger.

#include "engine_impl.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace orderly {
namespace {

result<void> check_transfer(const transfer_request& r) {
    if (auto s = parse_id<sku_id>(r.sku.value()); !s) {
        return std::move(s).error().within("sku");
    }
    if (auto w = parse_id<warehouse_id>(r.from.value()); !w) {
        return std::move(w).error().within("from");
    }
    if (auto w = parse_id<warehouse_id>(r.to.value()); !w) {
        return std::move(w).error().within("to");
    }
    if (r.from == r.to) {
        return error{errc::invalid_value, "to", "must be another warehouse than the source"};
    }
    if (r.units.is_zero()) {
        return error{errc::invalid_value, "units", "must be more than zero"};
    }
    return detail::check_text(r.reason, "reason", 512, false);
}

// The nearest warehouse serving an address (ties by id), if any.
const warehouse* nearest(const fulfilment_network& network, const address& to) {
    const warehouse* best = nullptr;
    std::int64_t best_distance = 0;
    for (const auto& w : network.warehouses) {
        const auto d = distance_to(w, to.country, to.province);
        if (d &&
            (best == nullptr || *d < best_distance || (*d == best_distance && w.id < best->id))) {
            best = &w;
            best_distance = *d;
        }
    }
    return best;
}

}  // namespace

result<stock_transfer> engine::dispatch_transfer(const command_context& ctx,
                                                 const transfer_request& request) {
    if (auto valid = check_transfer(request); !valid) {
        return std::move(valid).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::transfer_stock)
                        .add(std::string_view("dispatch"))
                        .add(request.sku)
                        .add(request.from)
                        .add(request.to)
                        .add(request.units)
                        .add(request.reason)
                        .value();
    auto done = impl_->on_store(
        ctx, command::transfer_stock, fp, [&](store_transaction& tx) -> result<command_outcome> {
            auto known = tx.find_sku(request.sku);
            if (!known) {
                return std::move(known).error();
            }
            if (!*known) {
                return error{errc::not_found, "sku",
                             fmt::format("'{}' is not in the catalogue", request.sku)};
            }
            const timestamp at = impl_->now();
            auto id = detail::next_id(impl_->numbers, at);
            if (!id) {
                return std::move(id).error();
            }
            stock_transfer t{.id = transfer_id(*id),
                             .version = 1,
                             .sku = request.sku,
                             .from = request.from,
                             .to = request.to,
                             .units = request.units,
                             .state = transfer_state::in_transit,
                             .reason = request.reason,
                             .dispatched_at = at,
                             .received_at = std::nullopt};
            for (const auto& change :
                 {stock_change{request.sku, request.from, stock_operation::dispatch, request.units,
                               "units", at},
                  stock_change{request.sku, request.to, stock_operation::expect, request.units,
                               "to", at}}) {
                if (auto r = tx.change_stock(change); !r) {
                    return std::move(r).error();
                }
            }
            if (auto r = tx.put_transfer(t); !r) {
                return std::move(r).error();
            }
            command_outcome out{};
            out.transfer = t.id;
            return out;
        });
    if (!done) {
        return std::move(done).error();
    }
    return get_transfer(ctx.actor, *done->transfer);
}

result<stock_transfer> engine::receive_transfer(const command_context& ctx, transfer_id id) {
    if (id.value() == 0) {
        return error{errc::missing_value, "transfer_id", "is required"};
    }
    const auto fp = detail::fingerprint()
                        .add(command::transfer_stock)
                        .add(std::string_view("receive"))
                        .add(id)
                        .value();
    auto done = impl_->on_store(
        ctx, command::transfer_stock, fp, [&](store_transaction& tx) -> result<command_outcome> {
            auto found = detail::required(tx.find_transfer(id), "transfer_id", "transfer", id);
            if (!found) {
                return std::move(found).error();
            }
            stock_transfer t = std::move(*found);
            if (auto r = detail::move(t, transfer_event::received); !r) {
                return std::move(r).error();
            }
            const timestamp at = impl_->now();
            if (auto r = tx.change_stock(
                    stock_change{t.sku, t.to, stock_operation::arrive, t.units, "units", at});
                !r) {
                return std::move(r).error();
            }
            t.received_at = at;
            t.version += 1;
            if (auto r = tx.put_transfer(t); !r) {
                return std::move(r).error();
            }
            command_outcome out{};
            out.transfer = t.id;
            return out;
        });
    if (!done) {
        return std::move(done).error();
    }
    return get_transfer(ctx.actor, id);
}

result<stock_transfer> engine::cancel_transfer(const command_context& ctx, transfer_id id,
                                               std::string_view reason) {
    if (id.value() == 0) {
        return error{errc::missing_value, "transfer_id", "is required"};
    }
    if (auto r = detail::check_text(reason, "reason", 512, true); !r) {
        return std::move(r).error();
    }
    const auto fp = detail::fingerprint()
                        .add(command::transfer_stock)
                        .add(std::string_view("cancel"))
                        .add(id)
                        .add(reason)
                        .value();
    auto done = impl_->on_store(
        ctx, command::transfer_stock, fp, [&](store_transaction& tx) -> result<command_outcome> {
            auto found = detail::required(tx.find_transfer(id), "transfer_id", "transfer", id);
            if (!found) {
                return std::move(found).error();
            }
            stock_transfer t = std::move(*found);
            if (auto r = detail::move(t, transfer_event::cancelled); !r) {
                return std::move(r).error();
            }
            // The units leave the target's in-transit figure and are on hand
            // at the source again, in one transaction.
            const timestamp at = impl_->now();
            for (const auto& change :
                 {stock_change{t.sku, t.to, stock_operation::recall, t.units, "units", at},
                  stock_change{t.sku, t.from, stock_operation::restock, t.units, "units", at}}) {
                if (auto r = tx.change_stock(change); !r) {
                    return std::move(r).error();
                }
            }
            t.cancelled_at = at;
            t.cancel_reason = std::string(reason);
            t.version += 1;
            if (auto r = tx.put_transfer(t); !r) {
                return std::move(r).error();
            }
            command_outcome out{};
            out.transfer = t.id;
            return out;
        });
    if (!done) {
        return std::move(done).error();
    }
    return get_transfer(ctx.actor, id);
}

result<stock_transfer> engine::get_transfer(const actor& who, transfer_id id) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::transfer_stock, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    return detail::required(impl_->ports.store.load_transfer(id), "transfer_id", "transfer", id);
}

result<std::vector<transfer_proposal>> engine::propose_transfers(const actor& who,
                                                                 std::size_t max_orders) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::transfer_stock, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    auto ready = impl_->setup();
    if (!ready) {
        return std::move(ready).error();
    }
    const fulfilment_network& network = (*ready)->network;
    using key = std::pair<sku_id, warehouse_id>;
    std::map<key, std::int64_t> demand;  // units open orders need near each warehouse
    std::map<key, std::int64_t> held;    // units those orders already hold there
    std::size_t read = 0;
    for (const order_state state :
         {order_state::pending_review, order_state::awaiting_payment, order_state::paid}) {
        order_id after{0};
        while (read < max_orders) {
            auto page = impl_->ports.store.orders_in_state(state, after, 256);
            if (!page) {
                return std::move(page).error();
            }
            for (const order_id id : *page) {
                if (read >= max_orders) {
                    break;
                }
                ++read;
                auto o = impl_->ports.store.load_order(id);
                if (!o) {
                    return std::move(o).error();
                }
                if (!*o || !(*o)->shipments.empty()) {
                    continue;
                }
                const warehouse* w = nearest(network, (*o)->ship_to);
                if (w == nullptr) {
                    continue;
                }
                for (const auto& line : (*o)->lines) {
                    demand[{line.sku, w->id}] += line.units.units();
                }
                for (const auto& r : (*o)->reservations) {
                    if (r.active()) {
                        held[{r.sku, r.warehouse}] += r.units.units();
                    }
                }
            }
            if (page->size() < 256) {
                break;
            }
            after = page->back();
        }
    }
    // Per SKU: what each warehouse lacks and what it can spare.
    std::map<sku_id, std::vector<std::pair<warehouse_id, std::int64_t>>> balance;
    std::map<sku_id, std::int64_t> threshold;
    std::set<sku_id> skus;
    for (const auto& [k, n] : demand) {
        skus.insert(k.first);
    }
    // SKUs with a low-stock threshold need their threshold everywhere, even
    // without open orders.
    auto stocked = impl_->ports.store.all_stock();
    if (!stocked) {
        return std::move(stocked).error();
    }
    for (const auto& row : *stocked) {
        skus.insert(row.sku);
    }
    for (const sku_id& s : skus) {
        auto entry = impl_->ports.store.load_sku(s);
        if (!entry) {
            return std::move(entry).error();
        }
        threshold[s] =
            (*entry && (*entry)->low_stock_below) ? (*entry)->low_stock_below->units() : 0;
        for (const auto& w : network.warehouses) {
            auto level = impl_->ports.store.stock(s, w.id);
            if (!level) {
                return std::move(level).error();
            }
            const std::int64_t have = (*level ? std::max<std::int64_t>(0, (*level)->available()) +
                                                    (*level)->in_transit.units()
                                              : 0) +
                                      held[{s, w.id}];
            const std::int64_t need = demand[{s, w.id}] + threshold[s];
            balance[s].emplace_back(w.id, have - need);
        }
    }
    std::vector<transfer_proposal> out;
    for (auto& [s, rows] : balance) {
        // Largest surplus first; ties by warehouse id.
        std::vector<std::pair<warehouse_id, std::int64_t>> spare;
        for (const auto& [w, b] : rows) {
            if (b > 0) {
                spare.emplace_back(w, b);
            }
        }
        std::sort(spare.begin(), spare.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
        });
        for (const auto& [w, b] : rows) {
            std::int64_t lacking = -b;
            const std::int64_t shortfall = lacking;
            for (auto& [from, left] : spare) {
                if (lacking <= 0) {
                    break;
                }
                const std::int64_t n = std::min(lacking, left);
                if (n <= 0) {
                    continue;
                }
                left -= n;
                lacking -= n;
                out.push_back(transfer_proposal{
                    transfer_request{s, from, w, quantity::of(n).value(),
                                     fmt::format("{} lacks {} of {} for open orders and its "
                                                 "threshold of {}; {} can spare it",
                                                 w, shortfall, s, threshold[s], from)},
                    shortfall});
            }
        }
    }
    return out;
}

result<stock_turnover> engine::turnover(const actor& who, const sku_id& sku,
                                        const warehouse_id& warehouse, timestamp from,
                                        timestamp to) const {
    if (auto allowed = impl_->ports.policy.authorize(who, command::transfer_stock, nullptr);
        !allowed) {
        return std::move(allowed).error();
    }
    if (to <= from) {
        return error{errc::invalid_value, "to", "must be after from"};
    }
    auto moves = impl_->ports.store.stock_movements(sku, warehouse, timestamp::min(), to);
    if (!moves) {
        return std::move(moves).error();
    }
    stock_turnover out{.sku = sku, .warehouse = warehouse, .from = from, .to = to};
    // On hand at `from`: after the last movement before it (0 before any).
    std::int64_t on_hand = 0;
    std::size_t i = 0;
    for (; i < moves->size() && (*moves)[i].at < from; ++i) {
        on_hand = (*moves)[i].on_hand_after.units();
    }
    // Integrate on hand over [from, to) in milliseconds.
    long double area = 0;
    timestamp cursor = from;
    for (; i < moves->size(); ++i) {
        const stock_movement& m = (*moves)[i];
        area += static_cast<long double>(on_hand) *
                static_cast<long double>(to_unix_ms(m.at) - to_unix_ms(cursor));
        cursor = m.at;
        on_hand = m.on_hand_after.units();
        if (m.operation == stock_operation::consume) {
            out.units_shipped += m.units.units();
        }
    }
    area += static_cast<long double>(on_hand) *
            static_cast<long double>(to_unix_ms(to) - to_unix_ms(cursor));
    out.average_on_hand =
        static_cast<double>(area / static_cast<long double>(to_unix_ms(to) - to_unix_ms(from)));
    if (out.average_on_hand > 0) {
        out.turnover = static_cast<double>(out.units_shipped) / out.average_on_hand;
    }
    return out;
}

result<void> engine::impl::scan_low_stock(due_work_report& report) {
    const timestamp at = now();
    const std::int64_t now_ms = to_unix_ms(at);
    std::int64_t last = last_low_stock_scan_ms.load();
    const std::int64_t every = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   options.fulfilment.low_stock_scan_every)
                                   .count();
    if (last != std::numeric_limits<std::int64_t>::min() && now_ms - last < every) {
        return {};
    }
    if (!last_low_stock_scan_ms.compare_exchange_strong(last, now_ms)) {
        return {};  // another thread scans now
    }
    auto rows = ports.store.all_stock();
    if (!rows) {
        return std::move(rows).error();
    }
    std::map<sku_id, std::optional<sku>> catalogue;
    for (const stock_level& row : *rows) {
        auto cached = catalogue.find(row.sku);
        if (cached == catalogue.end()) {
            auto entry = ports.store.load_sku(row.sku);
            if (!entry) {
                return std::move(entry).error();
            }
            cached = catalogue.emplace(row.sku, std::move(*entry)).first;
        }
        const auto& entry = cached->second;
        const bool has_threshold = entry && entry->low_stock_below;
        const bool below = has_threshold && row.available() < entry->low_stock_below->units();
        if (below == row.low_stock_alerted) {
            continue;
        }
        auto tx = ports.store.begin();
        if (!tx) {
            return std::move(tx).error();
        }
        const stock_operation op = below ? stock_operation::mark_low : stock_operation::clear_low;
        std::size_t opened = 0;
        if (auto r = (*tx)->change_stock(
                stock_change{row.sku, row.warehouse, op, quantity{}, "low_stock", at});
            !r) {
            return r;
        }
        if (below) {
            notification note;
            note.kind = notification_kind::low_stock;
            note.audience = audience::staff;
            note.recipient = "warehouse";
            note.text = fmt::format("{} in {}: {} available, below the threshold of {}", row.sku,
                                    row.warehouse, row.available(), *entry->low_stock_below);
            note.details = {{"sku", row.sku.value()},
                            {"warehouse", row.warehouse.value()},
                            {"available", fmt::format("{}", row.available())}};
            note.created_at = at;
            if (auto r = (*tx)->enqueue(note); !r) {
                return r;
            }
            if (!entry->merchant.empty()) {
                note.audience = audience::merchant;
                note.recipient = entry->merchant.value();
                if (auto r = (*tx)->enqueue(note); !r) {
                    return r;
                }
            }
            auto raised =
                raise_cases(**tx,
                            {detail::case_signal{
                                .type = case_type::low_stock,
                                .cause_key = fmt::format("low_stock:{}@{}", row.sku, row.warehouse),
                                .title = fmt::format(
                                    "{} in {}: {} available, below the threshold of {}", row.sku,
                                    row.warehouse, row.available(), *entry->low_stock_below),
                                .sku = row.sku,
                                .warehouse = row.warehouse,
                                .merchant = entry->merchant}},
                            at, system_actor());
            if (!raised) {
                return std::move(raised).error();
            }
            opened = *raised;
        }
        auto committed = (*tx)->commit();
        if (!committed) {
            if (committed.error().code == errc::conflict) {
                continue;  // another scheduler did it first, or the row moved: next scan
            }
            return committed;
        }
        report.low_stock_alerts += below ? 1U : 0U;
        report.cases_opened += opened;
    }
    return {};
}

}  // namespace orderly
