// The carriers: each parcel handed over gets a script of tracking events
// (delivered, failed attempts, returned to sender, lost and sometimes found,
// stalled, or never scanned at all), sent at jittered times so they arrive
// late and out of order, some of them twice. Return parcels and repaired
// goods travel the same way.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

#include <chrono>
#include <vector>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

struct scripted_event {
    tracking_event kind;
    duration after;  // since the parcel left
};

std::vector<scripted_event> script(simulation& s) {
    using e = tracking_event;
    const auto h = [&](std::int64_t hours) {
        return std::chrono::minutes(hours * 60 + s.random().between(0, 59));
    };
    const std::vector<scripted_event> road = {
        {e::picked_up, h(1)}, {e::departed_facility, h(3)}, {e::arrived_at_hub, h(8)}};
    std::vector<scripted_event> out = road;
    const std::size_t r = s.random().below(100);
    if (r < 68) {
        out.push_back({e::sent_out_for_delivery, h(20)});
        out.push_back({e::delivered, h(22)});
    } else if (r < 76) {
        out.push_back({e::sent_out_for_delivery, h(20)});
        out.push_back({e::delivery_attempt_failed, h(22)});
        out.push_back({e::sent_out_for_delivery, h(44)});
        out.push_back({e::delivered, h(46)});
    } else if (r < 81) {
        out.push_back({e::delivery_attempt_failed, h(22)});
        out.push_back({e::delivery_attempt_failed, h(46)});
        out.push_back({e::returned_to_sender, h(70)});
    } else if (r < 86) {
        out.push_back({e::declared_lost, h(30)});
        if (s.random().chance(400)) {  // found again
            out.push_back({e::arrived_at_hub, h(60)});
            out.push_back({e::delivered, h(70)});
        }
    } else if (r < 93) {
        out.resize(2);  // stalls after leaving: the delay and lost_after rules act
    } else {
        out.clear();  // never scanned
    }
    return out;
}

carrier_event event_of(simulation& s, const scripted_event& e, timestamp left) {
    carrier_event ev;
    ev.id = s.fresh_name("scan");
    ev.kind = e.kind;
    ev.occurred_at = left + e.after;
    ev.location = "hub";
    if (e.kind == tracking_event::delivery_attempt_failed) {
        ev.detail = "recipient not at home";
    }
    return ev;
}

// Sends one event; the webhook key is the carrier's delivery id.
bool send_scan(simulation& s, shipment_id id, const carrier_event& ev, const std::string& key) {
    const call c = [&s, id, ev](const command_context& ctx) {
        return summary(s.shop().record_carrier_event(ctx, carrier_event_request{id, ev}));
    };
    carrier_event other = ev;
    other.detail = "amended";
    const call variant = [&s, id, other](const command_context& ctx) {
        return summary(s.shop().record_carrier_event(ctx, carrier_event_request{id, other}));
    };
    s.issue_keyed("record_carrier_event", actors().carrier_hook, key, c, variant);
    return true;
}

// When an event reaches orderly: minutes to hours after it happened, so
// events overtake each other; now and then it comes again.
void schedule_scan(simulation& s, shipment_id id, const carrier_event& ev) {
    const std::string key = s.fresh_name("webhook");
    const timestamp arrives = ev.occurred_at + std::chrono::minutes(s.random().between(0, 180));
    s.at(arrives, [&s, id, ev, key] { return send_scan(s, id, ev, key); });
    if (s.random().chance(100)) {
        const std::string again = s.random().chance(500) ? key : s.fresh_name("webhook");
        s.at(arrives + std::chrono::minutes(s.random().between(1, 600)),
             [&s, id, ev, again] { return send_scan(s, id, ev, again); });
    }
}

}  // namespace

void plan_carrier(simulation& s, shipment_id id) {
    const timestamp left = s.now();
    for (const auto& e : script(s)) {
        schedule_scan(s, id, event_of(s, e, left));
    }
}

void plan_whole_order_delivery(simulation& s, order_id id) {
    if (!s.random().chance(950)) {
        return;  // the carrier never reports it
    }
    s.at(s.now() + std::chrono::hours(s.random().between(8, 40)), [&s, id] {
        s.issue("deliver_order", actors().carrier_hook, [&s, id](const command_context& ctx) {
            return summary(s.shop().deliver_order(ctx, id));
        });
        return true;
    });
}

namespace {

bool send_return_scan(simulation& s, ticket_id id, const carrier_event& ev) {
    const call c = [&s, id, ev](const command_context& ctx) {
        return summary(s.shop().record_return_event(ctx, return_event_request{id, ev}));
    };
    s.issue_keyed("record_return_event", actors().carrier_hook, s.fresh_name("return-hook"), c);
    return true;
}

bool send_back(simulation& s, ticket_id id) {
    const ticket_info* t = s.known().tickets.find(id);
    if (t == nullptr) {
        return false;
    }
    const carrier_id carrier(s.random().chance(500) ? "SF" : "YTO");
    const std::string tracking = s.fresh_name("RT");
    const auto send = [&s, id, carrier](std::string number) -> call {
        return [&s, id, carrier, number](const command_context& ctx) {
            return summary(
                s.shop().record_return_shipment(ctx, return_shipment_request{id, carrier, number}));
        };
    };
    const call_result r = s.issue("record_return_shipment", as_customer(t->customer),
                                  send(tracking), send(tracking + "X"));
    if (!r.ok) {
        return true;
    }
    const timestamp left = s.now();
    std::vector<scripted_event> events = {{tracking_event::picked_up, 2h},
                                          {tracking_event::departed_facility, 6h}};
    if (s.random().chance(850)) {
        events.push_back(
            {tracking_event::delivered, std::chrono::hours(s.random().between(12, 40))});
    }
    for (const auto& e : events) {
        const carrier_event ev = event_of(s, e, left);
        s.at(ev.occurred_at + std::chrono::minutes(s.random().between(0, 120)),
             [&s, id, ev] { return send_return_scan(s, id, ev); });
    }
    return true;
}

}  // namespace

void plan_return(simulation& s, ticket_id id) {
    const std::size_t r = s.random().below(100);
    if (r < 80) {
        // Within the return window mostly; some after it.
        s.at(s.now() + std::chrono::minutes(s.random().between(10, 30 * 60)),
             [&s, id] { return send_back(s, id); });
    } else if (r < 88) {
        s.at(s.now() + std::chrono::minutes(s.random().between(10, 600)), [&s, id] {
            const ticket_info* t = s.known().tickets.find(id);
            if (t == nullptr) {
                return false;
            }
            s.issue("withdraw_ticket", as_customer(t->customer),
                    [&s, id](const command_context& ctx) {
                        return summary(s.shop().withdraw_ticket(ctx, id, "kept it after all"));
                    });
            return true;
        });
    }
}

void plan_repair_shipment(simulation& s, ticket_id id) {
    if (!s.random().chance(500)) {
        return;  // the ticket closes itself after auto_close_after
    }
    s.at(s.now() + std::chrono::hours(s.random().between(6, 30)), [&s, id] {
        const ticket_info* t = s.known().tickets.find(id);
        if (t == nullptr) {
            return false;
        }
        s.issue("close_ticket", as_customer(t->customer), [&s, id](const command_context& ctx) {
            return summary(s.shop().close_ticket(ctx, id, "got it back, works"));
        });
        return true;
    });
}

}  // namespace orderly::sim
