// After-sales agents and the returns desk: decide and assign tickets,
// receive and inspect returned goods (accepting, refusing some or all
// units), refund, ship replacements, send goods to repair and back, record
// unrepairable goods, close tickets whose goods went out again.

#include "actions.hpp"
#include "world.hpp"

#include <fmt/format.h>

namespace orderly::sim {
namespace {

call ticket_text_call(simulation& s, ticket_id id,
                      result<command_outcome> (engine::*command)(const command_context&, ticket_id,
                                                                 std::string_view),
                      std::string text) {
    return [&s, id, command, text](const command_context& ctx) {
        return summary((s.shop().*command)(ctx, id, text));
    };
}

void decide(simulation& s, ticket_id id) {
    if (s.random().chance(150)) {
        s.issue("assign_ticket", actors().agent,
                ticket_text_call(s, id, &engine::assign_ticket, "agent-b"),
                ticket_text_call(s, id, &engine::assign_ticket, "agent-a"));
        return;
    }
    const bool approve = s.random().chance(800);
    const auto call_of = [&s, id, approve](std::string note) -> call {
        return [&s, id, approve, note](const command_context& ctx) {
            return summary(s.shop().decide_ticket(ctx, ticket_decision{id, approve, note}));
        };
    };
    s.issue("decide_ticket", actors().agent, call_of(approve ? "approved" : "outside the policy"),
            call_of("changed my view"));
}

void receive(simulation& s, ticket_id id) {
    s.issue("receive_return", actors().keeper, [&s, id](const command_context& ctx) {
        return summary(s.shop().receive_return(ctx, id));
    });
}

inspection_request inspection(simulation& s, ticket_id id, const ticket_info& t) {
    inspection_request r{id, {}, ""};
    const std::size_t mode = s.random().below(100);  // <12: refuse some, <17: refuse all
    for (const auto& l : t.lines) {
        const std::int64_t n = l.units.units();
        std::int64_t refused = 0;
        if (mode < 12) {
            refused = s.random().between(0, n);
        } else if (mode < 17) {
            refused = n;
        }
        const std::int64_t damaged = s.random().between(0, n - refused);
        r.lines.push_back(
            inspection_line{l.line, units(n - refused - damaged), units(damaged), units(refused)});
    }
    r.note = mode < 17 ? "not the goods we sold" : "";
    return r;
}

void inspect(simulation& s, ticket_id id, const ticket_info& t) {
    const inspection_request r = inspection(s, id, t);
    inspection_request other = r;
    other.note += " (re-checked)";
    const auto call_of = [&s](inspection_request req) -> call {
        return [&s, req](const command_context& ctx) {
            return summary(s.shop().inspect_return(ctx, req));
        };
    };
    s.issue("inspect_return", actors().keeper, call_of(r), call_of(other));
}

void refund(simulation& s, ticket_id id) {
    s.issue("refund_ticket", actors().agent,
            ticket_text_call(s, id, &engine::refund_ticket, "refund as agreed"),
            ticket_text_call(s, id, &engine::refund_ticket, "refund, amended"));
}

void replace(simulation& s, ticket_id id) {
    const call_result r =
        s.issue("ship_replacement", actors().agent, [&s, id](const command_context& ctx) {
            return summary(s.shop().ship_replacement(ctx, id));
        });
    if (!r.ok && r.err.code == errc::insufficient_stock) {
        refund(s, id);  // no stock for a replacement: the way out is a refund
    }
}

void resolve_inspected(simulation& s, ticket_id id, const ticket_info& t) {
    const bool other_way = s.random().chance(250);
    switch (t.type) {
        case ticket_type::exchange:
            return other_way ? refund(s, id) : replace(s, id);
        case ticket_type::repair:
            if (t.repair_failed) {
                return other_way ? refund(s, id) : replace(s, id);
            }
            if (other_way) {
                return refund(s, id);
            }
            s.issue("send_to_repair", actors().agent,
                    ticket_text_call(s, id, &engine::send_to_repair, "to the repairer"),
                    ticket_text_call(s, id, &engine::send_to_repair, "to another repairer"));
            return;
        default:
            return refund(s, id);
    }
}

void back_from_repair(simulation& s, ticket_id id) {
    if (s.random().chance(300)) {
        s.issue("record_repair_failure", actors().agent,
                ticket_text_call(s, id, &engine::record_repair_failure, "beyond repair"),
                ticket_text_call(s, id, &engine::record_repair_failure, "no parts"));
        return;
    }
    const auto call_of = [&s, id](std::string number) -> call {
        return [&s, id, number](const command_context& ctx) {
            return summary(
                s.shop().ship_repaired(ctx, repair_return_request{id, carrier_id("SF"), number}));
        };
    };
    const std::string number = s.fresh_name("RP");
    s.issue("ship_repaired", actors().agent, call_of(number), call_of(number + "X"));
}

}  // namespace

bool work_ticket_one(simulation& s, ticket_id id) {
    const ticket_info* found = s.known().tickets.find(id);
    if (found == nullptr) {
        return false;
    }
    const ticket_info t = *found;
    const ticket_state at = t.state == ticket_state::escalated ? t.escalated_from : t.state;
    switch (at) {
        case ticket_state::submitted:
        case ticket_state::under_review:
            decide(s, id);
            return true;
        case ticket_state::awaiting_return:
            if (!t.parcel_reported) {
                return false;  // nothing is coming back yet
            }
            receive(s, id);
            return true;
        case ticket_state::goods_received:
            inspect(s, id, t);
            return true;
        case ticket_state::inspected:
        case ticket_state::approved:
            resolve_inspected(s, id, t);
            return true;
        case ticket_state::at_repair:
            back_from_repair(s, id);
            return true;
        case ticket_state::replacement_shipped:
        case ticket_state::repaired_shipped:
            s.issue("close_ticket", actors().agent,
                    ticket_text_call(s, id, &engine::close_ticket, "customer confirmed"),
                    ticket_text_call(s, id, &engine::close_ticket, "closed by the agent"));
            return true;
        default:
            return false;
    }
}

bool work_ticket(simulation& s) {
    static const std::vector<ticket_state> desk = {
        ticket_state::under_review,     ticket_state::under_review,
        ticket_state::awaiting_return,  ticket_state::goods_received,
        ticket_state::inspected,        ticket_state::inspected,
        ticket_state::at_repair,        ticket_state::escalated,
        ticket_state::escalated,        ticket_state::replacement_shipped,
        ticket_state::repaired_shipped, ticket_state::approved};
    const auto id = s.known().tickets.pick(s.random(), s.random().pick(desk));
    return id && work_ticket_one(s, *id);
}

}  // namespace orderly::sim
