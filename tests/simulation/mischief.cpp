// Requests that must be refused, naming a field, with nothing written:
// malformed input, a missing key, the wrong role, another customer's order.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

#include <string>

namespace orderly::sim {
namespace {

place_order_request small_order(const customer& c) {
    place_order_request r;
    r.customer = c.id;
    r.ship_to = c.home;
    r.lines.push_back(line_request{sku_id("tea"), units(1), cny(5800)});
    return r;
}

void bad_order(simulation& s) {
    place_order_request r = small_order(s.random().pick(customers()));
    switch (s.random().below(5)) {
        case 0:
            r.lines.clear();
            break;
        case 1:
            r.lines[0].unit_price = cny(5799);
            break;
        case 2:
            r.lines[0].sku = sku_id("no-such-sku");
            break;
        case 3:
            r.lines[0].units = quantity{};
            break;
        default:
            r.ship_to.phone = "12";
            break;
    }
    s.expect_refusal(
        "place_order (malformed)", actors().frontend,
        [&s, r](const command_context& ctx) { return summary(s.shop().place_order(ctx, r)); });
}

void bad_payment(simulation& s, order_id id) {
    payment_callback cb{id,
                        s.fresh_name("txn"),
                        payment_method::card,
                        payment_callback::outcome::captured,
                        cny(100),
                        ""};
    switch (s.random().below(3)) {
        case 0:
            cb.gateway_reference.clear();
            break;
        case 1:
            cb.amount.reset();
            break;
        default:
            cb.amount = money::from_minor(money::amount_type(100), currencies::USD);
            break;
    }
    s.expect_refusal(
        "record_payment (malformed)", actors().gateway,
        [&s, cb](const command_context& ctx) { return summary(s.shop().record_payment(ctx, cb)); });
}

void bad_order_command(simulation& s, order_id id) {
    switch (s.random().below(6)) {
        case 0:
            s.expect_refusal(
                "refund_payment (zero)", actors().finance, [&s, id](const command_context& ctx) {
                    return summary(
                        s.shop().refund_payment(ctx, refund_request{id, cny(0), "nothing"}));
                });
            return;
        case 1:
            s.expect_refusal("refund_payment (too much)", actors().finance,
                             [&s, id](const command_context& ctx) {
                                 return summary(s.shop().refund_payment(
                                     ctx, refund_request{id, cny(1'000'000'000), "everything"}));
                             });
            return;
        case 2:
            s.expect_refusal("reject_order (no reason)", actors().reviewer,
                             [&s, id](const command_context& ctx) {
                                 return summary(s.shop().reject_order(ctx, id, ""));
                             });
            return;
        case 3:
            s.expect_refusal(
                "rate_order (score 9)", actors().admin, [&s, id](const command_context& ctx) {
                    return summary(s.shop().rate_order(ctx, rating_request{id, 9, ""}));
                });
            return;
        case 4:
            s.expect_refusal(
                "confirm_receipt (no key)", actors().admin,
                [&s, id](const command_context& ctx) {
                    const command_context keyless{ctx.actor, "", nullptr};
                    return summary(s.shop().confirm_receipt(keyless, id));
                },
                errc::missing_value);
            return;
        default: {
            open_ticket_request r{id,
                                  ticket_type::refund_only,
                                  ticket_reason::quality,
                                  "",
                                  {},
                                  {ticket_line_request{0, units(1000), sku_id{}}}};
            s.expect_refusal("open_ticket (too many units)", actors().agent,
                             [&s, r](const command_context& ctx) {
                                 return summary(s.shop().open_ticket(ctx, r));
                             });
            return;
        }
    }
}

void bad_staff_command(simulation& s) {
    switch (s.random().below(5)) {
        case 0:
            s.expect_refusal(
                "receive_stock (zero)", actors().keeper, [&s](const command_context& ctx) {
                    return summary(s.shop().receive_stock(
                        ctx, stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), quantity{}}));
                });
            return;
        case 1:
            s.expect_refusal("dispatch_transfer (to itself)", actors().keeper,
                             [&s](const command_context& ctx) {
                                 return summary(s.shop().dispatch_transfer(
                                     ctx, transfer_request{sku_id("tea"), warehouse_id("wh-hz"),
                                                           warehouse_id("wh-hz"), units(1), ""}));
                             });
            return;
        case 2:
            s.expect_refusal("set_safety_stock (above on hand)", actors().keeper,
                             [&s](const command_context& ctx) {
                                 return summary(s.shop().set_safety_stock(
                                     ctx, safety_stock_setting{sku_id("pin"), warehouse_id("wh-cd"),
                                                               units(50'000'000)}));
                             });
            return;
        case 3:
            s.expect_refusal(
                "cancel_order (unknown order)", actors().agent, [&s](const command_context& ctx) {
                    return summary(s.shop().cancel_order(ctx, order_id(424242), "gone"));
                });
            return;
        default:
            if (const auto id = s.known().cases.pick_any(s.random())) {
                s.expect_refusal("resolve_case (no code)", actors().operations,
                                 [&s, id = *id](const command_context& ctx) {
                                     return summary(s.shop().resolve_case(ctx, id, "done", ""));
                                 });
            }
            return;
    }
}

void bad_parcel_command(simulation& s, shipment_id id) {
    if (s.random().chance(500)) {
        carrier_event ev;
        ev.id = std::string(200, 'x');
        ev.kind = tracking_event::picked_up;
        ev.occurred_at = s.now();
        s.expect_refusal(
            "record_carrier_event (long id)", actors().carrier_hook,
            [&s, id, ev](const command_context& ctx) {
                return summary(s.shop().record_carrier_event(ctx, carrier_event_request{id, ev}));
            });
        return;
    }
    logistics_resolution r{id, 0, logistics_remedy::compensation, std::nullopt, ""};
    s.expect_refusal("resolve_logistics_exception (no amount)", actors().agent,
                     [&s, r](const command_context& ctx) {
                         return summary(s.shop().resolve_logistics_exception(ctx, r));
                     });
}

void bad_ticket_command(simulation& s, ticket_id id) {
    switch (s.random().below(3)) {
        case 0:
            s.expect_refusal(
                "inspect_return (units do not add up)", actors().keeper,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().inspect_return(
                        ctx, inspection_request{
                                 id, {inspection_line{0, units(999), units(999), {}}}, ""}));
                });
            return;
        case 1:
            s.expect_refusal("record_repair_failure (no note)", actors().agent,
                             [&s, id](const command_context& ctx) {
                                 return summary(s.shop().record_repair_failure(ctx, id, ""));
                             });
            return;
        default:
            s.expect_refusal("assign_ticket (no agent)", actors().agent,
                             [&s, id](const command_context& ctx) {
                                 return summary(s.shop().assign_ticket(ctx, id, ""));
                             });
            return;
    }
}

}  // namespace

bool malformed_command(simulation& s) {
    const std::size_t r = s.random().below(100);
    const auto order = s.known().orders.pick_any(s.random());
    if (r < 20 || !order) {
        bad_order(s);
    } else if (r < 35) {
        bad_payment(s, *order);
    } else if (r < 60) {
        bad_order_command(s, *order);
    } else if (r < 75) {
        bad_staff_command(s);
    } else if (const auto parcel = s.known().shipments.pick_any(s.random()); r < 85 && parcel) {
        bad_parcel_command(s, *parcel);
    } else if (const auto t = s.known().tickets.pick_any(s.random())) {
        bad_ticket_command(s, *t);
    } else {
        bad_order(s);
    }
    return true;
}

namespace {

// Another customer than the order's.
actor stranger(simulation& s, const customer_id& owner) {
    const customer& c = s.random().pick(customers());
    return as_customer(c.id == owner ? customers().front().id == owner ? customers()[1].id
                                                                       : customers().front().id
                                     : c.id);
}

void stranger_on_order(simulation& s, order_id id, const order_info& info) {
    const actor who = stranger(s, info.customer);
    switch (s.random().below(4)) {
        case 0:
            s.expect_refusal(
                "cancel_order (another's order)", who,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().cancel_order(ctx, id, "mine now"));
                },
                errc::forbidden);
            return;
        case 1:
            s.expect_refusal(
                "open_ticket (another's order)", who,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().open_ticket(
                        ctx,
                        open_ticket_request{
                            id, ticket_type::refund_only, ticket_reason::quality, "", {}, {}}));
                },
                errc::forbidden);
            return;
        case 2:
            s.expect_refusal(
                "get_order (another's order)", who,
                [&s, who, id](const command_context&) {
                    return summary(s.shop().get_order(who, id));
                },
                errc::forbidden);
            return;
        default:
            s.expect_refusal(
                "rate_order (another's order)", who,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().rate_order(ctx, rating_request{id, 5, ""}));
                },
                errc::forbidden);
            return;
    }
}

void wrong_role(simulation& s, order_id id, const order_info& info) {
    const actor customer = as_customer(info.customer);
    switch (s.random().below(6)) {
        case 0:
            s.expect_refusal(
                "approve_order (customer)", customer,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().approve_order(ctx, id, "me"));
                },
                errc::forbidden);
            return;
        case 1:
            s.expect_refusal(
                "refund_payment (customer)", customer,
                [&s, id](const command_context& ctx) {
                    return summary(
                        s.shop().refund_payment(ctx, refund_request{id, cny(100), "please"}));
                },
                errc::forbidden);
            return;
        case 2:
            s.expect_refusal(
                "record_payment (warehouse)", actors().keeper,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().record_payment(
                        ctx, payment_callback{id, "forged", payment_method::card,
                                              payment_callback::outcome::captured, cny(100), ""}));
                },
                errc::forbidden);
            return;
        case 3:
            s.expect_refusal(
                "plan_fulfilment (finance)", actors().finance,
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().plan_fulfilment(ctx, fulfilment_request{id, {}, {}}));
                },
                errc::forbidden);
            return;
        case 4:
            s.expect_refusal(
                "receive_stock (customer)", customer,
                [&s](const command_context& ctx) {
                    return summary(s.shop().receive_stock(
                        ctx, stock_receipt{sku_id("tea"), warehouse_id("wh-hz"), units(100)}));
                },
                errc::forbidden);
            return;
        default:
            s.expect_refusal(
                "hold_order (unknown role)", actor{"intruder", static_cast<role>(99)},
                [&s, id](const command_context& ctx) {
                    return summary(s.shop().hold_order(ctx, id, "stop"));
                },
                errc::unknown_role);
            return;
    }
}

void wrong_role_elsewhere(simulation& s) {
    const actor nobody = as_customer(customers().front().id);
    if (const auto id = s.known().shipments.pick_any(s.random()); id && s.random().chance(500)) {
        s.expect_refusal(
            "ship_shipment (reviewer)", actors().reviewer,
            [&s, id = *id](const command_context& ctx) {
                return summary(s.shop().ship_shipment(ctx, id));
            },
            errc::forbidden);
        return;
    }
    if (const auto id = s.known().tickets.pick_any(s.random()); id && s.random().chance(500)) {
        const ticket_info* t = s.known().tickets.find(*id);
        s.expect_refusal(
            "withdraw_ticket (another's ticket)", stranger(s, t->customer),
            [&s, id = *id](const command_context& ctx) {
                return summary(s.shop().withdraw_ticket(ctx, id, "not mine"));
            },
            errc::forbidden);
        return;
    }
    if (const auto id = s.known().cases.pick_any(s.random())) {
        s.expect_refusal(
            "acknowledge_case (customer)", nobody,
            [&s, id = *id](const command_context& ctx) {
                return summary(s.shop().acknowledge_case(ctx, id, ""));
            },
            errc::forbidden);
        return;
    }
    s.expect_refusal(
        "dispatch_transfer (customer service)", actors().agent,
        [&s](const command_context& ctx) {
            return summary(s.shop().dispatch_transfer(
                ctx, transfer_request{sku_id("tea"), warehouse_id("wh-hz"), warehouse_id("wh-bj"),
                                      units(1), ""}));
        },
        errc::forbidden);
}

}  // namespace

bool wrong_actor(simulation& s) {
    const auto id = s.known().orders.pick_any(s.random());
    const std::size_t r = s.random().below(100);
    if (!id || r < 30) {
        wrong_role_elsewhere(s);
        return true;
    }
    const order_info info = *s.known().orders.find(*id);
    if (r < 65) {
        stranger_on_order(s, *id, info);
    } else {
        wrong_role(s, *id, info);
    }
    return true;
}

}  // namespace orderly::sim
