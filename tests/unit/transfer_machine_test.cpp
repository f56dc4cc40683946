// The stock transfer machine through its facade: every state ×
// every event against an expected table written here independently of the
// MSM table; the rows it reports; stable stored values; values outside the
// enums; and the same answers from several threads.
#include <orderly/inventory/transfer_machine.hpp>

#include "machine_test_support.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

using orderly::errc;
using orderly::transfer_event;
using orderly::transfer_state;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = transfer_state;
using E = transfer_event;

/// A transfer on its way is received or called back, and then nothing more.
std::optional<transfer_state> expected_next(transfer_state from, transfer_event event) {
    if (from != S::in_transit) {
        return std::nullopt;
    }
    switch (event) {
        case E::received:
            return S::received;
        case E::cancelled:
            return S::cancelled;
    }
    FAIL("unknown event");
    return std::nullopt;
}

}  // namespace

TEST_CASE("every transfer state × every event matches the table") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto from : orderly::all_transfer_states) {
        for (const auto event : orderly::all_transfer_events) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(event));
            const auto r = orderly::next_transfer_state(from, event);
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
    CHECK(accepted == 2);
    CHECK(refused == 3 * 2 - 2);
}

TEST_CASE("a transfer refusal names the event and the state") {
    const auto r = orderly::next_transfer_state(S::received, E::cancelled);
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    CHECK(r.error().message == "event 'cancelled' is not allowed in state 'received'");
}

TEST_CASE("transfer values outside the enums are bad input, not refusals") {
    for (const int value : {0, 3, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_transfer_state(S::in_transit, static_cast<transfer_event>(value));
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 4, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_transfer_state(static_cast<transfer_state>(value), E::received);
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    // A bad state is reported before a bad event.
    const auto both = orderly::next_transfer_state(static_cast<transfer_state>(0),
                                                   static_cast<transfer_event>(0));
    REQUIRE(both.has_error());
    CHECK(both.error().field == "state");
}

TEST_CASE("stored transfer values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_transfer_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_transfer_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::in_transit) == 1);
    CHECK(static_cast<int>(S::received) == 2);
    CHECK(static_cast<int>(S::cancelled) == 3);
    for (std::size_t i = 0; i < orderly::all_transfer_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_transfer_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::received) == 1);
    CHECK(static_cast<int>(E::cancelled) == 2);
    CHECK(to_string(E::cancelled) == "cancelled");
    CHECK(to_string(static_cast<transfer_event>(0)) == "unknown");
}

TEST_CASE("the transfer rows are the table, in table order") {
    const std::vector<transition_row> expected = {
        {"in_transit", "received", "received", ""},
        {"in_transit", "cancelled", "cancelled", ""},
    };
    CHECK(orderly::transfer_machine_rows() == expected);
    for (const auto& row : orderly::transfer_machine_rows()) {
        CAPTURE(row.event);
        const auto r = orderly::next_transfer_state(named(orderly::all_transfer_states, row.from),
                                                    named(orderly::all_transfer_events, row.event));
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_transfer_state gives the same answers from 4 threads at once") {
    auto answer_all = [] {
        std::vector<std::string> answers;
        for (int round = 0; round < 200; ++round) {
            answers.clear();
            for (const auto from : orderly::all_transfer_states) {
                for (const auto event : orderly::all_transfer_events) {
                    answers.push_back(describe(orderly::next_transfer_state(from, event)));
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
