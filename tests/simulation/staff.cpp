// The shop's staff: reviewers, the warehouse team (planning, waves,
// packing, handing over, the whole-order path), customer service (holds,
// cancels, logistics exceptions), finance (manual refunds), and the jobs
// a host's scheduler runs (due work, delivery, the archive).

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

template <class Id>
std::optional<Id> pick_from(simulation& s, const std::vector<std::optional<Id>>& options) {
    std::vector<Id> live;
    for (const auto& o : options) {
        if (o) {
            live.push_back(*o);
        }
    }
    if (live.empty()) {
        return std::nullopt;
    }
    return s.random().pick(live);
}

// One order in ten goes the whole-order way (allocate, pack, ship, deliver
// as one parcel) instead of being planned into shipments.
bool whole_order_path(order_id id) {
    return id.value() % 10 == 3;
}

call text_call(std::function<call_result(const command_context&, const std::string&)> f,
               std::string text) {
    return [f, text](const command_context& ctx) { return f(ctx, text); };
}

}  // namespace

bool review_one(simulation& s, order_id id) {
    const bool approve = s.random().chance(850);
    const auto decide = [&s, id, approve](const command_context& ctx, const std::string& why) {
        return approve ? summary(s.shop().approve_order(ctx, id, why))
                       : summary(s.shop().reject_order(ctx, id, why));
    };
    s.issue(approve ? "approve_order" : "reject_order", actors().reviewer,
            text_call(decide, approve ? "looks fine" : "fraud signals"),
            text_call(decide, "second opinion"));
    return true;
}

bool review_order(simulation& s) {
    const auto id = s.known().orders.pick(s.random(), order_state::pending_review);
    return id && review_one(s, *id);
}

bool hold_or_release(simulation& s) {
    if (s.random().chance(500)) {
        const auto id = s.known().orders.pick(s.random(), order_state::on_hold);
        if (!id) {
            return false;
        }
        const auto release = [&s, id = *id](const command_context& ctx, const std::string& why) {
            return summary(s.shop().release_order(ctx, id, why));
        };
        s.issue("release_order", actors().agent, text_call(release, "checked"),
                text_call(release, "checked twice"));
        return true;
    }
    const auto id =
        pick_from<order_id>(s, {s.known().orders.pick(s.random(), order_state::pending_review),
                                s.known().orders.pick(s.random(), order_state::awaiting_payment),
                                s.known().orders.pick(s.random(), order_state::paid),
                                s.known().orders.pick(s.random(), order_state::allocating)});
    if (!id) {
        return false;
    }
    const auto hold = [&s, id = *id](const command_context& ctx, const std::string& why) {
        return summary(s.shop().hold_order(ctx, id, why));
    };
    s.issue("hold_order", actors().agent, text_call(hold, "customer called"),
            text_call(hold, "address check"));
    return true;
}

namespace {

// Stock arrives for every line of an order at the warehouse nearest its
// customer, so a plan refused for want of stock can go through later.
void restock_for(simulation& s, order_id id) {
    const order_info* info = s.known().orders.find(id);
    if (info == nullptr) {
        return;
    }
    const warehouse_id where = s.random().pick(network_warehouses());
    for (const auto& l : info->lines) {
        const stock_receipt receipt{l.sku, where, units(l.units + s.random().between(5, 30))};
        s.issue("receive_stock", actors().keeper, [&s, receipt](const command_context& ctx) {
            return summary(s.shop().receive_stock(ctx, receipt));
        });
    }
}

}  // namespace

bool plan_one(simulation& s, order_id id) {
    fulfilment_request r{id, {}, {}};
    if (s.random().chance(100)) {
        r.choice.carrier = carrier_id("SF");
    }
    if (s.random().chance(200)) {
        r.promised_days = 3;
    }
    fulfilment_request other = r;
    other.promised_days = r.promised_days ? std::nullopt : std::optional(7);
    const auto plan = [&s](fulfilment_request req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().plan_fulfilment(ctx, req));
        };
    };
    const call_result done = s.issue("plan_fulfilment", actors().keeper, plan(r), plan(other),
                                     allowed_writes::shortage_case);
    if (!done.ok && done.err.code == errc::insufficient_stock && s.random().chance(500)) {
        restock_for(s, id);
    }
    return true;
}

bool plan_fulfilment(simulation& s) {
    const auto id = s.known().orders.pick(s.random(), order_state::paid);
    if (!id || (whole_order_path(*id) && !s.world_silent())) {
        return false;
    }
    return plan_one(s, *id);
}

bool merge_shipments(simulation& s) {
    const auto planned = s.known().shipments.in_state(shipment_state::planned);
    if (planned.size() < 2) {
        return false;
    }
    const shipment_id a = s.random().pick(planned);
    const shipment_info* first = s.known().shipments.find(a);
    const order_info* owner = s.known().orders.find(first->orders.front());
    for (std::size_t tries = 0; tries < 16 && owner != nullptr; ++tries) {
        const shipment_id b = s.random().pick(planned);
        const shipment_info* second = s.known().shipments.find(b);
        const order_info* other = s.known().orders.find(second->orders.front());
        if (b == a || other == nullptr || other->customer != owner->customer ||
            second->warehouse != first->warehouse) {
            continue;
        }
        const std::vector<shipment_id> ids{a, b};
        s.issue("merge_shipments", actors().keeper, [&s, ids](const command_context& ctx) {
            return summary(s.shop().merge_shipments(ctx, ids));
        });
        return true;
    }
    return false;
}

bool plan_waves(simulation& s) {
    if (s.known().shipments.count(shipment_state::planned) == 0) {
        return false;
    }
    const warehouse_id where = s.random().pick(network_warehouses());
    pick_wave_options options;
    if (s.random().chance(300)) {
        options.max_shipments_per_wave = 3;
        options.separate_carriers = true;
    }
    s.issue("plan_pick_waves", actors().keeper, [&s, where, options](const command_context& ctx) {
        return summary(s.shop().plan_pick_waves(ctx, where, options));
    });
    return true;
}

namespace {

call scan_call(simulation& s, pack_scan_request r) {
    return
        [&s, r](const command_context& ctx) { return summary(s.shop().scan_for_packing(ctx, r)); };
}

call finish_call(simulation& s, shipment_id id) {
    return
        [&s, id](const command_context& ctx) { return summary(s.shop().finish_packing(ctx, id)); };
}

// What is left to scan of a parcel, per SKU: what its packing record
// expects (or its lines, before the first scan) less the accepted scans.
std::map<sku_id, std::int64_t> left_to_scan(const shipment& sh) {
    std::map<sku_id, std::int64_t> left;
    if (sh.packing) {
        for (const auto& l : sh.packing->expected) {
            left[l.sku] += l.units.units();
        }
        for (const auto& scan : sh.packing->scans) {
            left[scan.sku] -= scan.units.units();
        }
    } else {
        for (const auto& l : sh.lines) {
            left[l.sku] += l.units.units();
        }
    }
    std::erase_if(left, [](const auto& kv) { return kv.second <= 0; });
    return left;
}

}  // namespace

bool scan_packing(simulation& s) {
    const auto id =
        pick_from<shipment_id>(s, {s.known().shipments.pick(s.random(), shipment_state::picking),
                                   s.known().shipments.pick(s.random(), shipment_state::picking),
                                   s.known().shipments.pick(s.random(), shipment_state::planned)});
    if (!id) {
        return false;
    }
    auto sh = s.shop().get_shipment(actors().keeper, *id);
    if (!sh) {
        return false;
    }
    const auto left = left_to_scan(*sh);
    if (left.empty()) {
        s.issue("finish_packing", actors().keeper, finish_call(s, *id), {},
                allowed_writes::packing_record);
        return true;
    }
    const auto it =
        std::next(left.begin(), static_cast<std::ptrdiff_t>(s.random().below(left.size())));
    pack_scan_request r{*id, it->first, units(it->second)};
    const std::size_t mess = s.random().below(100);
    if (mess < 8) {
        r.sku = sku_id(s.random().pick(catalogue()).sku);  // the wrong barcode, sometimes
    } else if (mess < 12) {
        r.units = units(it->second + 1);
    } else if (mess < 30 && it->second > 1) {
        r.units = units(1);
    }
    pack_scan_request other = r;
    other.units = units(r.units.units() + 1);
    s.issue("scan_for_packing", actors().keeper, scan_call(s, r), scan_call(s, other));
    return true;
}

bool finish_packing(simulation& s) {
    const auto id =
        pick_from<shipment_id>(s, {s.known().shipments.pick(s.random(), shipment_state::picking),
                                   s.known().shipments.pick(s.random(), shipment_state::planned)});
    if (!id) {
        return false;
    }
    s.issue("finish_packing", actors().keeper, finish_call(s, *id), {},
            allowed_writes::packing_record);
    return true;
}

// Scans what is left of every line, then seals: the liveness phase's packer.
bool pack_and_seal(simulation& s, shipment_id id) {
    auto sh = s.shop().get_shipment(actors().admin, id);
    if (!sh) {
        return false;
    }
    for (const auto& [sku, n] : left_to_scan(*sh)) {
        s.issue("scan_for_packing", actors().keeper,
                scan_call(s, pack_scan_request{id, sku, units(n)}));
    }
    s.issue("finish_packing", actors().keeper, finish_call(s, id), {},
            allowed_writes::packing_record);
    return true;
}

bool ship_one(simulation& s, shipment_id id) {
    s.issue("ship_shipment", actors().keeper, [&s, id](const command_context& ctx) {
        return summary(s.shop().ship_shipment(ctx, id));
    });
    return true;
}

bool ship_shipment(simulation& s) {
    const auto id = s.known().shipments.pick(s.random(), shipment_state::packed);
    return id && ship_one(s, *id);
}

bool whole_order_step(simulation& s) {
    const auto id =
        pick_from<order_id>(s, {s.known().orders.pick(s.random(), order_state::paid),
                                s.known().orders.pick(s.random(), order_state::allocating),
                                s.known().orders.pick(s.random(), order_state::packed)});
    if (!id) {
        return false;
    }
    const order_info* info = s.known().orders.find(*id);
    if (!info->shipments.empty() || (info->state == order_state::paid && !whole_order_path(*id))) {
        return false;
    }
    const order_id o = *id;
    switch (info->state) {
        case order_state::paid:
            s.issue("allocate_order", actors().keeper, [&s, o](const command_context& ctx) {
                return summary(s.shop().allocate_order(ctx, o));
            });
            return true;
        case order_state::allocating:
            s.issue("pack_order", actors().keeper, [&s, o](const command_context& ctx) {
                return summary(s.shop().pack_order(ctx, o));
            });
            return true;
        default: {
            const shipment_request r{o, carrier_id("SF"), s.fresh_name("SFW")};
            s.issue("ship_order", actors().keeper, [&s, r](const command_context& ctx) {
                return summary(s.shop().ship_order(ctx, r));
            });
            return true;
        }
    }
}

bool report_exception(simulation& s) {
    const auto id = s.known().shipments.pick(s.random(), shipment_state::shipped);
    if (!id) {
        return false;
    }
    const logistics_exception_report r{
        *id,
        s.random().chance(600) ? logistics_exception_kind::lost : logistics_exception_kind::damaged,
        "customer called: nothing arrived, or it arrived broken"};
    logistics_exception_report other = r;
    other.detail = "second call";
    const auto report = [&s](logistics_exception_report req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().report_logistics_exception(ctx, req));
        };
    };
    s.issue("report_logistics_exception", actors().agent, report(r), report(other));
    return true;
}

bool resolve_exception(simulation& s) {
    for (int tries = 0; tries < 12; ++tries) {
        const auto id = pick_from<shipment_id>(
            s, {s.known().shipments.pick(s.random(), shipment_state::lost),
                s.known().shipments.pick(s.random(), shipment_state::returned),
                s.known().shipments.pick(s.random(), shipment_state::shipped),
                s.known().shipments.pick(s.random(), shipment_state::delivered)});
        if (!id) {
            return false;
        }
        const shipment_info* info = s.known().shipments.find(*id);
        if (info->open_exceptions.empty()) {
            continue;
        }
        logistics_resolution r;
        r.shipment = *id;
        r.exception = s.random().pick(info->open_exceptions);
        const std::size_t pick = s.random().below(100);
        r.remedy = pick < 40   ? logistics_remedy::reship
                   : pick < 80 ? logistics_remedy::refund
                               : logistics_remedy::compensation;
        if (r.remedy == logistics_remedy::compensation) {
            r.amount = cny(s.random().between(500, 2000));
        }
        r.note = "put right";
        logistics_resolution other = r;
        other.note = "put right again";
        const auto resolve = [&s](logistics_resolution req) -> call {
            return [&s, req](const command_context& ctx) {
                return summary(s.shop().resolve_logistics_exception(ctx, req));
            };
        };
        s.issue("resolve_logistics_exception", actors().agent, resolve(r), resolve(other));
        return true;
    }
    return false;
}

bool refund_payment(simulation& s) {
    const auto id =
        pick_from<order_id>(s, {s.known().orders.pick(s.random(), order_state::paid),
                                s.known().orders.pick(s.random(), order_state::shipped),
                                s.known().orders.pick(s.random(), order_state::delivered),
                                s.known().orders.pick(s.random(), order_state::completed)});
    if (!id) {
        return false;
    }
    auto o = s.shop().get_order(actors().admin, *id);
    if (!o) {
        return false;
    }
    std::int64_t net = 0;
    for (const auto& p : o->payments) {
        net += minor_of(p.captured) - minor_of(p.refunded);
    }
    if (net <= 0) {
        return false;
    }
    const refund_request r{*id, cny(s.random().between(1, std::min<std::int64_t>(net, 3000))),
                           "goodwill"};
    refund_request other = r;
    other.reason = "goodwill, again";
    const auto refund = [&s](refund_request req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().refund_payment(ctx, req));
        };
    };
    s.issue("refund_payment", actors().finance, refund(r), refund(other));
    return true;
}

bool staff_cancels(simulation& s) {
    const auto id =
        pick_from<order_id>(s, {s.known().orders.pick(s.random(), order_state::pending_review),
                                s.known().orders.pick(s.random(), order_state::awaiting_payment),
                                s.known().orders.pick(s.random(), order_state::paid),
                                s.known().orders.pick(s.random(), order_state::allocating),
                                s.known().orders.pick(s.random(), order_state::packed),
                                s.known().orders.pick(s.random(), order_state::on_hold)});
    if (!id) {
        return false;
    }
    const auto cancel = [&s, id = *id](const command_context& ctx, const std::string& why) {
        return summary(s.shop().cancel_order(ctx, id, why));
    };
    s.issue("cancel_order", actors().agent, text_call(cancel, "out of stock, told the customer"),
            text_call(cancel, "customer asked"));
    return true;
}

// An agent closes a completed order by hand (refused while a ticket is open).
bool close_completed(simulation& s) {
    const auto id = s.known().orders.pick(s.random(), order_state::completed);
    if (!id) {
        return false;
    }
    s.issue("close_order", actors().agent, [&s, id = *id](const command_context& ctx) {
        return summary(s.shop().close_order(ctx, id));
    });
    return true;
}

bool run_due_work(simulation& s) {
    s.run_job("run_due_work", [&s](const command_context&) {
        auto r = s.shop().run_due_work(256);
        call_result out = summary(r);
        if (r && r->failed > 0 && !s.faults_on()) {
            const auto& f = r->failures.front();
            s.violation("due_work_failed",
                        fmt::format("run_due_work without faults failed {} item(s); first: {} {}: "
                                    "{}",
                                    r->failed, f.what, f.id, to_string(f.why)));
        }
        return out;
    });
    return true;
}

bool dispatch_notifications(simulation& s) {
    s.run_job("dispatch_notifications", [&s](const command_context&) {
        return summary(s.shop().dispatch_notifications(256));
    });
    return true;
}

bool archive_orders(simulation& s) {
    s.run_job("archive_orders", [&s](const command_context& ctx) {
        return summary(s.shop().archive_orders(ctx, 64));
    });
    return true;
}

}  // namespace orderly::sim
