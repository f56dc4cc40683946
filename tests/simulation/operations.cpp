// Operations and inventory staff: exception cases worked from the queue
// (acknowledge, assign, start, note, resolve, close) and opened by hand;
// stock received, safety stock, catalogue changes; transfers between
// warehouses dispatched, received and called back.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

namespace orderly::sim {
namespace {

call case_call(simulation& s, case_id id,
               result<exception_case> (engine::*command)(const command_context&, case_id,
                                                         std::string_view),
               std::string text) {
    return [&s, id, command, text](const command_context& ctx) {
        return summary((s.shop().*command)(ctx, id, text));
    };
}

void resolve(simulation& s, case_id id) {
    const auto call_of = [&s, id](std::string what) -> call {
        return [&s, id, what](const command_context& ctx) {
            return summary(s.shop().resolve_case(ctx, id, what, "handled"));
        };
    };
    s.issue("resolve_case", actors().operations, call_of("looked into it and fixed it"),
            call_of("fixed it another way"));
}

}  // namespace

bool work_case_one(simulation& s, case_id id) {
    const case_info* c = s.known().cases.find(id);
    if (c == nullptr) {
        return false;
    }
    const actor& ops = actors().operations;
    if (s.random().chance(80) && c->state != case_state::closed) {
        s.issue("add_case_note", ops,
                case_call(s, id, &engine::add_case_note, "called the carrier"),
                case_call(s, id, &engine::add_case_note, "called again"));
        return true;
    }
    if (s.random().chance(50) && c->state != case_state::resolved &&
        c->state != case_state::closed) {
        s.issue("assign_case", ops, case_call(s, id, &engine::assign_case, "ops-wang"),
                case_call(s, id, &engine::assign_case, "ops-zhao"));
        return true;
    }
    switch (c->state) {
        case case_state::open:
            s.issue("acknowledge_case", ops, case_call(s, id, &engine::acknowledge_case, ""),
                    case_call(s, id, &engine::acknowledge_case, "ops-wang"));
            return true;
        case case_state::acknowledged:
            s.issue("start_case_work", ops, [&s, id](const command_context& ctx) {
                return summary(s.shop().start_case_work(ctx, id));
            });
            return true;
        case case_state::in_progress:
        case case_state::escalated:
            resolve(s, id);
            return true;
        case case_state::resolved:
            s.issue("close_case", ops, [&s, id](const command_context& ctx) {
                return summary(s.shop().close_case(ctx, id));
            });
            return true;
        case case_state::closed:
            return false;
    }
    return false;
}

bool work_case(simulation& s) {
    static const std::vector<case_state> queue = {case_state::open, case_state::acknowledged,
                                                  case_state::in_progress, case_state::escalated,
                                                  case_state::resolved};
    const auto id = s.known().cases.pick(s.random(), s.random().pick(queue));
    return id && work_case_one(s, *id);
}

bool open_case(simulation& s) {
    open_case_request r;
    r.type = case_type::other;
    r.priority =
        s.random().pick(std::vector(all_case_priorities.begin(), all_case_priorities.end()));
    r.title = "a customer complained on the phone";
    if (const auto id = s.known().orders.pick_any(s.random()); id && s.random().chance(700)) {
        r.order = *id;
    }
    open_case_request other = r;
    other.title += " again";
    const auto call_of = [&s](open_case_request req) -> call {
        return
            [&s, req](const command_context& ctx) { return summary(s.shop().open_case(ctx, req)); };
    };
    s.issue("open_case", actors().operations, call_of(r), call_of(other));
    return true;
}

// --- stock -------------------------------------------------------------------------

namespace {

void receive_some(simulation& s) {
    const catalogue_item& item = s.random().pick(catalogue());
    const stock_receipt r{sku_id(item.sku), s.random().pick(all_warehouses()),
                          units(s.random().between(5, 60))};
    stock_receipt other = r;
    other.units = units(r.units.units() + 1);
    const auto call_of = [&s](stock_receipt req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().receive_stock(ctx, req));
        };
    };
    s.issue("receive_stock", actors().keeper, call_of(r), call_of(other));
}

void set_safety(simulation& s) {
    const catalogue_item& item = s.random().pick(catalogue());
    const safety_stock_setting r{sku_id(item.sku), s.random().pick(network_warehouses()),
                                 units(s.random().between(0, 3))};
    s.issue("set_safety_stock", actors().keeper, [&s, r](const command_context& ctx) {
        return summary(s.shop().set_safety_stock(ctx, r));
    });
}

// Cables go off the shelf now and then and come back: orders for them are
// refused meanwhile.
void shelve(simulation& s) {
    sku entry = sku_entry(s.random().pick(catalogue()));
    if (entry.id.value() == "cable" && s.random().chance(500)) {
        entry.status = sku_status::off_shelf;
    }
    sku other = entry;
    other.name += " (renamed)";
    const auto call_of = [&s](sku req) -> call {
        return
            [&s, req](const command_context& ctx) { return summary(s.shop().put_sku(ctx, req)); };
    };
    s.issue("put_sku", actors().admin, call_of(entry), call_of(other));
}

}  // namespace

// A delivery of several SKUs booked as one group commit: durable together
// (SqliteStore) or each on its own (memory_store). Retried whole after an
// injected fault, with the same keys.
void receive_in_batch(simulation& s) {
    std::vector<stock_receipt> receipts;
    const std::size_t n = 2 + s.random().below(3);
    const warehouse_id where = s.random().pick(network_warehouses());
    for (std::size_t i = 0; i < n; ++i) {
        receipts.push_back(stock_receipt{sku_id(s.random().pick(catalogue()).sku), where,
                                         units(s.random().between(5, 40))});
    }
    s.issue("receive_stock (batch)", actors().keeper, [&s, receipts](const command_context& ctx) {
        auto batch = s.shop().begin_batch();
        if (!batch) {
            return summary(result<void>(batch.error()));
        }
        for (std::size_t i = 0; i < receipts.size(); ++i) {
            const command_context in{ctx.actor, fmt::format("{}-{}", ctx.idempotency_key, i),
                                     &*batch};
            if (auto r = s.shop().receive_stock(in, receipts[i]); !r) {
                return summary(result<void>(r.error()));
            }
        }
        return summary(batch->commit());
    });
}

bool stock_work(simulation& s) {
    const std::size_t r = s.random().below(100);
    if (r < 10) {
        receive_in_batch(s);
    } else if (r < 60) {
        receive_some(s);
    } else if (r < 80) {
        set_safety(s);
    } else {
        shelve(s);
    }
    return true;
}

namespace {

void dispatch(simulation& s) {
    const auto from = s.random().chance(500) ? store_room() : s.random().pick(network_warehouses());
    warehouse_id to = s.random().pick(network_warehouses());
    if (to == from) {
        to = store_room() == from ? network_warehouses().front() : store_room();
    }
    const transfer_request r{sku_id(s.random().pick(catalogue()).sku), from, to,
                             units(s.random().between(2, 20)), "rebalance"};
    transfer_request other = r;
    other.reason = "rebalance, amended";
    const auto call_of = [&s](transfer_request req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().dispatch_transfer(ctx, req));
        };
    };
    s.issue("dispatch_transfer", actors().keeper, call_of(r), call_of(other));
}

}  // namespace

bool receive_transfer_one(simulation& s, transfer_id id) {
    s.issue("receive_transfer", actors().keeper, [&s, id](const command_context& ctx) {
        return summary(s.shop().receive_transfer(ctx, id));
    });
    return true;
}

bool transfer_work(simulation& s) {
    const std::size_t r = s.random().below(100);
    const auto moving = s.known().transfers.pick(s.random(), transfer_state::in_transit);
    if (r < 40 || !moving) {
        dispatch(s);
        return true;
    }
    if (r < 55) {
        const auto call_of = [&s, id = *moving](std::string why) -> call {
            return [&s, id, why](const command_context& ctx) {
                return summary(s.shop().cancel_transfer(ctx, id, why));
            };
        };
        s.issue("cancel_transfer", actors().keeper, call_of("truck broke down"),
                call_of("not needed"));
        return true;
    }
    return receive_transfer_one(s, *moving);
}

}  // namespace orderly::sim
