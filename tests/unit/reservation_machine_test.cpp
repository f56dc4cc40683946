// The reservation machine through its facade: every state × every
// event against an expected table written here independently of the MSM
// table; the rows it reports; stable stored values; values outside the
// enums; and the same answers from several threads.
#include <orderly/inventory/reservation_machine.hpp>

#include "machine_test_support.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

using orderly::errc;
using orderly::reservation_event;
using orderly::reservation_state;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = reservation_state;
using E = reservation_event;

/// Held until paid for (committed); only committed units ship (consumed);
/// either may be given back (released); consumed and released are final.
std::optional<reservation_state> expected_next(reservation_state from, reservation_event event) {
    const bool live = from == S::held || from == S::committed;
    switch (event) {
        case E::committed:
            return from == S::held ? std::optional(S::committed) : std::nullopt;
        case E::consumed:
            return from == S::committed ? std::optional(S::consumed) : std::nullopt;
        case E::released:
            return live ? std::optional(S::released) : std::nullopt;
    }
    FAIL("unknown event");
    return std::nullopt;
}

}  // namespace

TEST_CASE("every reservation state × every event matches the table") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto from : orderly::all_reservation_states) {
        for (const auto event : orderly::all_reservation_events) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(event));
            const auto r = orderly::next_reservation_state(from, event);
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
    CHECK(accepted == 4);
    CHECK(refused == 4 * 3 - 4);
}

TEST_CASE("a held reservation is not consumed, and a committed one not committed again") {
    check_refused(orderly::next_reservation_state(S::held, E::consumed), S::held, E::consumed);
    check_refused(orderly::next_reservation_state(S::committed, E::committed), S::committed,
                  E::committed);
    const auto r = orderly::next_reservation_state(S::held, E::consumed);
    REQUIRE(r.has_error());
    CHECK(r.error().message == "event 'consumed' is not allowed in state 'held'");
}

TEST_CASE("reservation values outside the enums are bad input, not refusals") {
    for (const int value : {0, 4, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_reservation_state(S::held, static_cast<reservation_event>(value));
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 5, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_reservation_state(static_cast<reservation_state>(value), E::released);
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    // A bad state is reported before a bad event.
    const auto both = orderly::next_reservation_state(static_cast<reservation_state>(0),
                                                      static_cast<reservation_event>(0));
    REQUIRE(both.has_error());
    CHECK(both.error().field == "state");
}

TEST_CASE("stored reservation values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_reservation_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_reservation_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::held) == 1);
    CHECK(static_cast<int>(S::committed) == 2);
    CHECK(static_cast<int>(S::consumed) == 3);
    CHECK(static_cast<int>(S::released) == 4);
    for (std::size_t i = 0; i < orderly::all_reservation_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_reservation_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::committed) == 1);
    CHECK(static_cast<int>(E::consumed) == 2);
    CHECK(static_cast<int>(E::released) == 3);
    CHECK(to_string(E::released) == "released");
    CHECK(to_string(static_cast<reservation_event>(0)) == "unknown");
}

TEST_CASE("the reservation rows are the table, in table order") {
    const std::vector<transition_row> expected = {
        {"held", "committed", "committed", ""},
        {"held", "released", "released", ""},
        {"committed", "consumed", "consumed", ""},
        {"committed", "released", "released", ""},
    };
    CHECK(orderly::reservation_machine_rows() == expected);
    for (const auto& row : orderly::reservation_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        const auto r =
            orderly::next_reservation_state(named(orderly::all_reservation_states, row.from),
                                            named(orderly::all_reservation_events, row.event));
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_reservation_state gives the same answers from 4 threads at once") {
    auto answer_all = [] {
        std::vector<std::string> answers;
        for (int round = 0; round < 100; ++round) {
            answers.clear();
            for (const auto from : orderly::all_reservation_states) {
                for (const auto event : orderly::all_reservation_events) {
                    answers.push_back(describe(orderly::next_reservation_state(from, event)));
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
