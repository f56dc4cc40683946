// The shipment machine (R-7, R-19…R-22) through its facade: every state ×
// every event against an expected table written here independently of the
// MSM table; the rows it reports; stable stored values; values outside the
// enums; and the same answers from several threads.
#include <orderly/fulfilment/shipment_machine.hpp>

#include "machine_test_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

using orderly::errc;
using orderly::shipment_event;
using orderly::shipment_state;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = shipment_state;
using E = shipment_event;

bool one_of(shipment_state s, std::initializer_list<shipment_state> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

/// The shipment's life restated per event, not as a copy of the machine's
/// table: what the shipment becomes, or nothing when the event is refused.
std::optional<shipment_state> expected_next(shipment_state from, shipment_event event) {
    const bool in_warehouse = one_of(from, {S::planned, S::picking, S::packed});
    // A lost parcel follows the carrier when it moves again.
    const bool with_carrier = one_of(from, {S::shipped, S::lost});
    // Lost or come back: to be put right by a reship or a refund.
    const bool astray = one_of(from, {S::lost, S::returned});
    switch (event) {
        case E::wave_planned:
            return from == S::planned ? std::optional(S::picking) : std::nullopt;
        case E::packed:
            return one_of(from, {S::planned, S::picking}) ? std::optional(S::packed) : std::nullopt;
        case E::handed_over:
            return from == S::packed ? std::optional(S::shipped) : std::nullopt;
        case E::carrier_progress:
            return with_carrier ? std::optional(S::shipped) : std::nullopt;
        case E::delivered:
            return with_carrier ? std::optional(S::delivered) : std::nullopt;
        case E::returned_to_sender:
            return with_carrier ? std::optional(S::returned) : std::nullopt;
        case E::declared_lost:
            return from == S::shipped ? std::optional(S::lost) : std::nullopt;
        case E::cancelled:
            return in_warehouse ? std::optional(S::cancelled) : std::nullopt;
        case E::reshipped:
        case E::refunded:
            return astray ? std::optional(S::resolved) : std::nullopt;
    }
    FAIL("unknown event");
    return std::nullopt;
}

}  // namespace

TEST_CASE("every shipment state × every event matches the table") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto from : orderly::all_shipment_states) {
        for (const auto event : orderly::all_shipment_events) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(event));
            const auto r = orderly::next_shipment_state(from, event);
            const auto expected = expected_next(from, event);
            if (expected) {
                CHECK(describe(r) == std::string(to_string(*expected)));
                ++accepted;
            } else {
                check_refused(r, from, event);
                ++refused;
            }
        }
    }
    CHECK(accepted == 18);
    CHECK(refused == 9 * 10 - 18);
}

TEST_CASE("delivered, cancelled and resolved accept nothing") {
    for (const auto from : {S::delivered, S::cancelled, S::resolved}) {
        for (const auto event : orderly::all_shipment_events) {
            check_refused(orderly::next_shipment_state(from, event), from, event);
        }
    }
}

TEST_CASE("a lost parcel follows the carrier until it is put right") {
    struct step {
        shipment_event event;
        shipment_state to;
    };
    const std::array<step, 5> steps = {{
        {E::carrier_progress, S::shipped},
        {E::delivered, S::delivered},
        {E::returned_to_sender, S::returned},
        {E::reshipped, S::resolved},
        {E::refunded, S::resolved},
    }};
    for (const auto& s : steps) {
        CAPTURE(to_string(s.event));
        const auto r = orderly::next_shipment_state(S::lost, s.event);
        REQUIRE(r.has_value());
        CHECK(*r == s.to);
    }
    // Declared lost twice, or cancelled once it left: refused.
    check_refused(orderly::next_shipment_state(S::lost, E::declared_lost), S::lost,
                  E::declared_lost);
    check_refused(orderly::next_shipment_state(S::lost, E::cancelled), S::lost, E::cancelled);
}

TEST_CASE("a shipment refusal names the event and the state") {
    const auto r = orderly::next_shipment_state(S::shipped, E::cancelled);
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    CHECK(r.error().message == "event 'cancelled' is not allowed in state 'shipped'");
}

TEST_CASE("shipment values outside the enums are bad input, not refusals") {
    for (const int value : {0, 11, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_shipment_state(S::shipped, static_cast<shipment_event>(value));
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 10, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_shipment_state(static_cast<shipment_state>(value), E::delivered);
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    // A bad state is reported before a bad event.
    const auto both = orderly::next_shipment_state(static_cast<shipment_state>(0),
                                                   static_cast<shipment_event>(0));
    REQUIRE(both.has_error());
    CHECK(both.error().field == "state");
}

TEST_CASE("stored shipment values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_shipment_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_shipment_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::planned) == 1);
    CHECK(static_cast<int>(S::picking) == 2);
    CHECK(static_cast<int>(S::packed) == 3);
    CHECK(static_cast<int>(S::shipped) == 4);
    CHECK(static_cast<int>(S::delivered) == 5);
    CHECK(static_cast<int>(S::returned) == 6);
    CHECK(static_cast<int>(S::lost) == 7);
    CHECK(static_cast<int>(S::cancelled) == 8);
    CHECK(static_cast<int>(S::resolved) == 9);
    for (std::size_t i = 0; i < orderly::all_shipment_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_shipment_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::wave_planned) == 1);
    CHECK(static_cast<int>(E::packed) == 2);
    CHECK(static_cast<int>(E::handed_over) == 3);
    CHECK(static_cast<int>(E::carrier_progress) == 4);
    CHECK(static_cast<int>(E::delivered) == 5);
    CHECK(static_cast<int>(E::returned_to_sender) == 6);
    CHECK(static_cast<int>(E::declared_lost) == 7);
    CHECK(static_cast<int>(E::cancelled) == 8);
    CHECK(static_cast<int>(E::reshipped) == 9);
    CHECK(static_cast<int>(E::refunded) == 10);
}

TEST_CASE("stable names of shipment events") {
    CHECK(to_string(E::returned_to_sender) == "returned_to_sender");
    CHECK(to_string(E::carrier_progress) == "carrier_progress");
    CHECK(to_string(static_cast<shipment_event>(0)) == "unknown");
    CHECK(to_string(S::resolved) == "resolved");
    CHECK(fmt::format("{}", E::handed_over) == "handed_over");
}

TEST_CASE("a shipment machine restored at each state moves from that state") {
    // One legal step out of each state that has one proves the stored value
    // was restored as that state, not as MSM's first state.
    struct probe {
        shipment_state from;
        shipment_event event;
        shipment_state to;
    };
    const std::array<probe, 6> probes = {{
        {S::planned, E::wave_planned, S::picking},
        {S::picking, E::packed, S::packed},
        {S::packed, E::handed_over, S::shipped},
        {S::shipped, E::declared_lost, S::lost},
        {S::returned, E::refunded, S::resolved},
        {S::lost, E::returned_to_sender, S::returned},
    }};
    for (const auto& p : probes) {
        CAPTURE(to_string(p.from));
        const auto r = orderly::next_shipment_state(p.from, p.event);
        REQUIRE(r.has_value());
        CHECK(*r == p.to);
    }
}

TEST_CASE("the shipment rows are the table, in table order") {
    const std::vector<transition_row> expected = {
        {"planned", "wave_planned", "picking", ""},
        {"planned", "packed", "packed", ""},
        {"picking", "packed", "packed", ""},
        {"packed", "handed_over", "shipped", ""},
        {"shipped", "carrier_progress", "shipped", ""},
        {"shipped", "delivered", "delivered", ""},
        {"shipped", "returned_to_sender", "returned", ""},
        {"shipped", "declared_lost", "lost", ""},
        {"lost", "carrier_progress", "shipped", ""},
        {"lost", "delivered", "delivered", ""},
        {"lost", "returned_to_sender", "returned", ""},
        {"lost", "reshipped", "resolved", ""},
        {"lost", "refunded", "resolved", ""},
        {"returned", "reshipped", "resolved", ""},
        {"returned", "refunded", "resolved", ""},
        {"planned", "cancelled", "cancelled", ""},
        {"picking", "cancelled", "cancelled", ""},
        {"packed", "cancelled", "cancelled", ""},
    };
    const auto rows = orderly::shipment_machine_rows();
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i] == expected[i]);
    }
}

TEST_CASE("each shipment row is what the machine does") {
    for (const auto& row : orderly::shipment_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CHECK(row.guard.empty());
        const auto r = orderly::next_shipment_state(named(orderly::all_shipment_states, row.from),
                                                    named(orderly::all_shipment_events, row.event));
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_shipment_state gives the same answers from 4 threads at once") {
    auto answer_all = [] {
        std::vector<std::string> answers;
        for (int round = 0; round < 50; ++round) {
            answers.clear();
            for (const auto from : orderly::all_shipment_states) {
                for (const auto event : orderly::all_shipment_events) {
                    answers.push_back(describe(orderly::next_shipment_state(from, event)));
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
