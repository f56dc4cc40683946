// Checks over every lifecycle machine's table at once (issue 15, liveness):
// the descriptions are consistent with themselves and with each machine's
// rows; from every state some end can be reached; and every state that is
// not an end has a way out that the clock, the shop's staff or orderly
// itself can drive, so that no state waits only on a customer, a carrier or
// a gateway. Also who drives each event, as the design says.
#include <orderly/lifecycle/machines.hpp>

#include <orderly/aftersales/ticket_machine.hpp>
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/reservation_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#include <orderly/logistics/tracking_machine.hpp>
#include <orderly/ops/case_machine.hpp>
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment_machine.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

using orderly::event_driver;
using orderly::event_drivers;
using orderly::machine_description;
using orderly::transition_row;

namespace {

template <class Range>
bool contains(const Range& range, const std::string& value) {
    return std::find(range.begin(), range.end(), value) != range.end();
}

/// The drivers of `event` in `machine`; none when the event is not listed.
event_drivers drivers_of(const machine_description& machine, const std::string& event) {
    for (const auto& e : machine.events) {
        if (e.event == event) {
            return e.drivers;
        }
    }
    return {};
}

/// The states reachable from `from` through the rows, `from` included.
/// Guards are ignored: a guarded row counts as a path.
std::set<std::string> reachable_from(const machine_description& machine, const std::string& from) {
    std::set<std::string> seen{from};
    std::vector<std::string> todo{from};
    while (!todo.empty()) {
        const std::string at = todo.back();
        todo.pop_back();
        for (const auto& row : machine.rows) {
            if (row.from == at && seen.insert(row.to).second) {
                todo.push_back(row.to);
            }
        }
    }
    return seen;
}

/// The states of `machine` from which no end state is reachable.
std::vector<std::string> states_without_an_end(const machine_description& machine) {
    std::vector<std::string> stuck;
    for (const auto& state : machine.states) {
        const auto reachable = reachable_from(machine, state);
        const bool ends =
            std::any_of(machine.end_states.begin(), machine.end_states.end(),
                        [&](const std::string& end) { return reachable.count(end) == 1; });
        if (!ends) {
            stuck.push_back(state);
        }
    }
    return stuck;
}

/// The states of `machine` that are not ends and have no way out that the
/// clock, staff or orderly itself can drive: a row to another state whose
/// event is driven from inside(). A row back to the same state is no way out.
std::vector<std::string> states_waiting_outside(const machine_description& machine) {
    std::vector<std::string> waiting;
    for (const auto& state : machine.states) {
        if (contains(machine.end_states, state)) {
            continue;
        }
        const bool exit =
            std::any_of(machine.rows.begin(), machine.rows.end(), [&](const transition_row& row) {
                return row.from == state && row.to != state &&
                       drivers_of(machine, row.event).inside();
            });
        if (!exit) {
            waiting.push_back(state);
        }
    }
    return waiting;
}

/// A set of drivers from a list, for the expected tables below.
event_drivers set_of(std::initializer_list<event_driver> drivers) {
    event_drivers set{};
    for (const auto d : drivers) {
        set = set | d;
    }
    return set;
}

/// The text of a driver set, so a failed CHECK shows who drives what.
std::string text_of(event_drivers drivers) {
    static const std::vector<std::pair<event_driver, const char*>> names = {
        {event_driver::clock, "clock"},     {event_driver::staff, "staff"},
        {event_driver::engine, "engine"},   {event_driver::customer, "customer"},
        {event_driver::carrier, "carrier"}, {event_driver::gateway, "gateway"},
    };
    std::string text;
    for (const auto& [driver, name] : names) {
        if (drivers.has(driver)) {
            text += text.empty() ? "" : "|";
            text += name;
        }
    }
    return text.empty() ? "nobody" : text;
}

}  // namespace

TEST_CASE("lifecycle_machines lists the eight machines in the documented order") {
    const auto machines = orderly::lifecycle_machines();
    std::vector<std::string> names;
    for (const auto& m : machines) {
        names.push_back(m.name);
    }
    CHECK(names == std::vector<std::string>{"order", "payment", "reservation", "shipment",
                                            "tracking", "transfer", "ticket", "case"});
    const std::set<std::string> unique(names.begin(), names.end());
    CHECK(unique.size() == names.size());
}

TEST_CASE("each description's rows are its machine's table") {
    const auto machines = orderly::lifecycle_machines();
    REQUIRE(machines.size() == 8);
    CHECK(machines[0].rows == orderly::order_machine_rows());
    CHECK(machines[1].rows == orderly::payment_machine_rows());
    CHECK(machines[2].rows == orderly::reservation_machine_rows());
    CHECK(machines[3].rows == orderly::shipment_machine_rows());
    CHECK(machines[4].rows == orderly::tracking_machine_rows());
    CHECK(machines[5].rows == orderly::transfer_machine_rows());
    CHECK(machines[6].rows == orderly::ticket_machine_rows());
    CHECK(machines[7].rows == orderly::case_machine_rows());
    CHECK(machines[0] == orderly::order_machine_description());
    CHECK(machines[7] == orderly::case_machine_description());
}

TEST_CASE("every description names only its own states and events") {
    for (const auto& m : orderly::lifecycle_machines()) {
        CAPTURE(m.name);
        CHECK(!m.states.empty());
        CHECK(std::set<std::string>(m.states.begin(), m.states.end()).size() == m.states.size());
        CHECK(contains(m.states, m.initial));
        CHECK(!m.end_states.empty());
        for (const auto& end : m.end_states) {
            CAPTURE(end);
            CHECK(contains(m.states, end));
        }
        std::vector<std::string> events;
        for (const auto& e : m.events) {
            events.push_back(e.event);
        }
        CHECK(std::set<std::string>(events.begin(), events.end()).size() == events.size());
        for (const auto& row : m.rows) {
            CAPTURE(row.from);
            CAPTURE(row.event);
            CAPTURE(row.to);
            CHECK(contains(m.states, row.from));
            CHECK(contains(m.states, row.to));
            CHECK(contains(events, row.event));
        }
        for (const auto& e : m.events) {
            CAPTURE(e.event);
            CHECK(e.drivers.bits != 0);
        }
        // Every state is reached from the initial one (nothing unreachable).
        const auto from_start = reachable_from(m, m.initial);
        for (const auto& state : m.states) {
            CAPTURE(state);
            CHECK(from_start.count(state) == 1);
        }
    }
}

TEST_CASE("from every state of every machine some end state is reachable") {
    for (const auto& m : orderly::lifecycle_machines()) {
        const auto stuck = states_without_an_end(m);
        for (const auto& state : stuck) {
            FAIL_CHECK("machine '" << m.name << "': no end state is reachable from state '" << state
                                   << "'");
        }
        CHECK(stuck.empty());
    }
}

TEST_CASE("no state that is not an end waits only on the outside world") {
    for (const auto& m : orderly::lifecycle_machines()) {
        const auto waiting = states_waiting_outside(m);
        for (const auto& state : waiting) {
            FAIL_CHECK("machine '" << m.name << "': state '" << state
                                   << "' has no exit driven by the clock, staff or orderly");
        }
        CHECK(waiting.empty());
    }
}

TEST_CASE("the liveness checks find a state that waits only on a carrier, and a dead end") {
    // A machine made up to prove the checks above can fail: `shipped` leaves
    // only by a carrier's event; `limbo` loops on a clock event but reaches
    // no end.
    machine_description m;
    m.name = "made_up";
    m.initial = "packed";
    m.states = {"packed", "shipped", "delivered", "limbo"};
    m.end_states = {"delivered"};
    m.events = {{"handed_over", set_of({event_driver::staff})},
                {"delivered", set_of({event_driver::carrier})},
                {"lost", set_of({event_driver::clock})}};
    m.rows = {{"packed", "handed_over", "shipped", ""},
              {"shipped", "delivered", "delivered", ""},
              {"packed", "lost", "limbo", ""},
              {"limbo", "lost", "limbo", ""}};
    CHECK(states_waiting_outside(m) == std::vector<std::string>{"shipped", "limbo"});
    CHECK(states_without_an_end(m) == std::vector<std::string>{"limbo"});
    // A guarded row counts as a path; an end needs no exit.
    m.rows.push_back({"limbo", "handed_over", "delivered", "found"});
    CHECK(states_waiting_outside(m) == std::vector<std::string>{"shipped"});
    CHECK(states_without_an_end(m).empty());
}

TEST_CASE("each machine's initial state, ends and event drivers are as designed") {
    using D = event_driver;
    struct expected_machine {
        std::string initial;
        std::vector<std::string> ends;
        std::vector<std::pair<std::string, event_drivers>> events;
    };
    const std::vector<std::pair<std::string, expected_machine>> expected = {
        {"order",
         {"pending_review",
          {"closed", "cancelled"},
          {{"placed", set_of({D::engine})},
           {"review_approved", set_of({D::staff, D::engine})},
           {"review_rejected", set_of({D::staff})},
           {"payment_captured", set_of({D::gateway})},
           {"payment_failed", set_of({D::gateway})},
           {"payment_timed_out", set_of({D::clock})},
           {"allocated", set_of({D::staff})},
           {"packed", set_of({D::staff})},
           {"shipped", set_of({D::staff})},
           {"delivered", set_of({D::carrier})},
           {"receipt_confirmed", set_of({D::customer, D::clock})},
           {"closed", set_of({D::staff, D::clock, D::engine})},
           {"held", set_of({D::staff})},
           {"released", set_of({D::staff})},
           {"cancelled", set_of({D::customer, D::staff, D::engine})},
           {"refunded_in_full", set_of({D::staff, D::clock, D::engine})},
           {"ticket_opened", set_of({D::customer, D::staff})}}}},
        {"payment",
         {"pending",
          {"captured", "partially_refunded", "refunded", "failed", "voided"},
          {{"authorization_succeeded", set_of({D::gateway})},
           {"capture_succeeded", set_of({D::gateway, D::engine})},
           {"payment_failed", set_of({D::gateway})},
           {"authorization_voided", set_of({D::staff, D::clock, D::engine})},
           {"refund_issued", set_of({D::staff, D::clock, D::engine})}}}},
        {"reservation",
         {"held",
          {"consumed", "released"},
          {{"committed", set_of({D::gateway, D::staff, D::engine})},
           {"consumed", set_of({D::staff})},
           {"released", set_of({D::customer, D::staff, D::clock, D::engine})}}}},
        {"shipment",
         {"planned",
          {"delivered", "cancelled", "resolved"},
          {{"wave_planned", set_of({D::staff})},
           {"packed", set_of({D::staff})},
           {"handed_over", set_of({D::staff})},
           {"carrier_progress", set_of({D::carrier})},
           {"delivered", set_of({D::carrier})},
           {"returned_to_sender", set_of({D::carrier})},
           {"declared_lost", set_of({D::carrier, D::staff, D::clock})},
           {"cancelled", set_of({D::customer, D::staff, D::engine})},
           {"reshipped", set_of({D::staff})},
           {"refunded", set_of({D::staff, D::clock})}}}},
        {"tracking",
         {"label_created",
          {"delivered", "returned_to_sender", "lost"},
          {{"picked_up", set_of({D::carrier})},
           {"departed_facility", set_of({D::carrier})},
           {"arrived_at_hub", set_of({D::carrier})},
           {"sent_out_for_delivery", set_of({D::carrier})},
           {"delivery_attempt_failed", set_of({D::carrier})},
           {"delivered", set_of({D::carrier})},
           {"returned_to_sender", set_of({D::carrier})},
           {"declared_lost", set_of({D::carrier, D::staff, D::clock})}}}},
        {"transfer",
         {"in_transit",
          {"received", "cancelled"},
          {{"received", set_of({D::staff})}, {"cancelled", set_of({D::staff})}}}},
        {"ticket",
         {"submitted",
          {"rejected", "closed", "withdrawn"},
          {{"submitted", set_of({D::engine})},
           {"auto_approved", set_of({D::engine})},
           {"review_requested", set_of({D::engine})},
           {"approved", set_of({D::staff})},
           {"rejected", set_of({D::staff})},
           {"withdrawn", set_of({D::customer, D::staff})},
           {"deadline_passed", set_of({D::clock})},
           {"goods_received", set_of({D::staff})},
           {"inspected", set_of({D::staff})},
           {"refund_issued", set_of({D::staff, D::engine})},
           {"replacement_shipped", set_of({D::staff})},
           {"sent_to_repair", set_of({D::staff})},
           {"repaired_shipped", set_of({D::staff})},
           {"closed", set_of({D::customer, D::staff, D::clock, D::engine})},
           {"return_expired", set_of({D::clock})},
           {"repair_failed", set_of({D::staff})}}}},
        {"case",
         {"open",
          {"closed"},
          {{"opened", set_of({D::staff, D::engine})},
           {"acknowledged", set_of({D::staff})},
           {"work_started", set_of({D::staff})},
           {"resolved", set_of({D::staff})},
           {"closed", set_of({D::staff, D::clock})},
           {"deadline_passed", set_of({D::clock})},
           {"cause_cleared", set_of({D::clock})},
           {"reopened", set_of({D::engine, D::clock})}}}},
    };
    const auto machines = orderly::lifecycle_machines();
    REQUIRE(machines.size() == expected.size());
    for (std::size_t i = 0; i < machines.size(); ++i) {
        const auto& m = machines[i];
        const auto& [name, want] = expected[i];
        CAPTURE(name);
        CHECK(m.name == name);
        CHECK(m.initial == want.initial);
        CHECK(m.end_states == want.ends);
        REQUIRE(m.events.size() == want.events.size());
        for (std::size_t e = 0; e < m.events.size(); ++e) {
            CAPTURE(want.events[e].first);
            CHECK(m.events[e].event == want.events[e].first);
            CHECK(text_of(m.events[e].drivers) == text_of(want.events[e].second));
        }
    }
}

TEST_CASE("a description lists every state in the enum's order") {
    const auto shipment = orderly::shipment_machine_description();
    CHECK(shipment.states == std::vector<std::string>{"planned", "picking", "packed", "shipped",
                                                      "delivered", "returned", "lost", "cancelled",
                                                      "resolved"});
    const auto transfer = orderly::transfer_machine_description();
    CHECK(transfer.states == std::vector<std::string>{"in_transit", "received", "cancelled"});
    const auto reservation = orderly::reservation_machine_description();
    CHECK(reservation.states ==
          std::vector<std::string>{"held", "committed", "consumed", "released"});
    for (const auto& m : orderly::lifecycle_machines()) {
        CAPTURE(m.name);
        CHECK(m.states.size() >= 3);
    }
}
