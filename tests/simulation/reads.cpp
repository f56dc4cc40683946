// Reads by customers and staff: each must answer and write nothing.

#include "actions.hpp"
#include "world.hpp"

#include <chrono>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

void read_order(simulation& s) {
    const auto id = s.known().orders.pick_any(s.random());
    if (!id) {
        return;
    }
    const order_info* info = s.known().orders.find(*id);
    const actor who = s.random().chance(500) ? as_customer(info->customer) : actors().agent;
    switch (s.random().below(4)) {
        case 0:
            s.read("get_order", [&s, who, id = *id](const command_context&) {
                return summary(s.shop().get_order(who, id));
            });
            return;
        case 1:
            s.read("timeline", [&s, who, id = *id](const command_context&) {
                return summary(s.shop().timeline(who, id));
            });
            return;
        case 2:
            s.read("fulfilment", [&s, who, id = *id](const command_context&) {
                return summary(s.shop().fulfilment(who, id));
            });
            return;
        default:
            s.read("tickets_of", [&s, who, id = *id](const command_context&) {
                return summary(s.shop().tickets_of(who, id));
            });
            return;
    }
}

void read_parcel(simulation& s) {
    const auto id = s.known().shipments.pick_any(s.random());
    if (!id) {
        return;
    }
    if (s.random().chance(500)) {
        s.read("get_shipment", [&s, id = *id](const command_context&) {
            return summary(s.shop().get_shipment(actors().agent, id));
        });
        return;
    }
    // A parcel merged into another has no items left to pack: refused.
    s.read(
        "packaging_for",
        [&s, id = *id](const command_context&) {
            return summary(s.shop().packaging_for(actors().keeper, id));
        },
        true);
}

void read_operations(simulation& s) {
    const actor lead{"ops-lead", role::customer_service};
    const timestamp now = s.now();
    switch (s.random().below(6)) {
        case 0:
            s.read("open_cases", [&s, lead](const command_context&) {
                return summary(s.shop().open_cases(lead, 50));
            });
            return;
        case 1:
            s.read("search_cases", [&s, lead](const command_context&) {
                return summary(s.shop().search_cases(lead, case_query{.limit = 20}));
            });
            return;
        case 2:
            s.read("status_board_of", [&s, lead, now](const command_context&) {
                return summary(s.shop().status_board_of(lead, now - 48h, now));
            });
            return;
        case 3:
            s.read("carrier_kpis", [&s, now](const command_context&) {
                return summary(s.shop().carrier_kpis(actors().admin, now - 72h, now));
            });
            return;
        case 4:
            s.read("review_queue", [&s](const command_context&) {
                return summary(s.shop().review_queue(actors().reviewer, 20));
            });
            return;
        default:
            s.read("propose_transfers", [&s](const command_context&) {
                return summary(s.shop().propose_transfers(actors().keeper, 500));
            });
            return;
    }
}

void read_stock(simulation& s) {
    const timestamp now = s.now();
    const sku_id sku(s.random().pick(catalogue()).sku);
    const warehouse_id where = s.random().pick(network_warehouses());
    s.read("turnover", [&s, sku, where, now](const command_context&) {
        return summary(s.shop().turnover(actors().keeper, sku, where, now - 72h, now));
    });
    if (const auto id = s.known().cases.pick_any(s.random())) {
        s.read("get_case", [&s, id = *id](const command_context&) {
            return summary(s.shop().get_case(actors().operations, id));
        });
    }
    if (const auto id = s.known().transfers.pick_any(s.random())) {
        s.read("get_transfer", [&s, id = *id](const command_context&) {
            return summary(s.shop().get_transfer(actors().keeper, id));
        });
    }
    if (const auto id = s.known().tickets.pick_any(s.random())) {
        s.read("get_ticket", [&s, id = *id](const command_context&) {
            return summary(s.shop().get_ticket(actors().agent, id));
        });
    }
}

}  // namespace

bool read_something(simulation& s) {
    switch (s.random().below(4)) {
        case 0:
            read_order(s);
            break;
        case 1:
            read_parcel(s);
            break;
        case 2:
            read_operations(s);
            break;
        default:
            read_stock(s);
            break;
    }
    return true;
}

}  // namespace orderly::sim
