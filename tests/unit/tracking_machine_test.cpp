// The tracking machine through its facade: every state × every event against
// an expected table written here independently of the MSM table (as "from
// which states may this event come"); terminal states; the rows it reports;
// stable stored values; values outside the enums.
#include <orderly/logistics/tracking_machine.hpp>

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
using orderly::result;
using orderly::tracking_event;
using orderly::tracking_state;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::describe;
using orderly::test::named;

using S = tracking_state;
using E = tracking_event;

/// Where an event leads when it is allowed at all.
tracking_state target_of(tracking_event event) {
    switch (event) {
        case E::picked_up:
            return S::picked_up;
        case E::departed_facility:
            return S::in_transit;
        case E::arrived_at_hub:
            return S::at_hub;
        case E::sent_out_for_delivery:
            return S::out_for_delivery;
        case E::delivery_attempt_failed:
            return S::delivery_failed;
        case E::delivered:
            return S::delivered;
        case E::returned_to_sender:
            return S::returned_to_sender;
        case E::declared_lost:
            return S::lost;
    }
    FAIL("unknown event");
    return S::label_created;
}

bool one_of(tracking_state s, std::initializer_list<tracking_state> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

/// The tracking rules restated per event: the states it may come from.
bool allowed(tracking_state from, tracking_event event) {
    switch (event) {
        case E::picked_up:
            return from == S::label_created;
        case E::departed_facility:
            return one_of(from, {S::label_created, S::picked_up, S::in_transit, S::at_hub,
                                 S::delivery_failed, S::lost});
        case E::arrived_at_hub:
            return one_of(from, {S::label_created, S::picked_up, S::in_transit, S::at_hub,
                                 S::delivery_failed, S::lost});
        case E::sent_out_for_delivery:
            return one_of(from, {S::picked_up, S::in_transit, S::at_hub, S::out_for_delivery,
                                 S::delivery_failed});
        case E::delivery_attempt_failed:
            return one_of(from, {S::out_for_delivery, S::delivery_failed});
        case E::delivered:
            return one_of(from, {S::picked_up, S::in_transit, S::at_hub, S::out_for_delivery,
                                 S::delivery_failed, S::lost});
        case E::returned_to_sender:
            return one_of(from, {S::at_hub, S::out_for_delivery, S::delivery_failed});
        case E::declared_lost:
            // Before the first scan too: the carrier may never collect it.
            return one_of(from, {S::label_created, S::picked_up, S::in_transit, S::at_hub,
                                 S::out_for_delivery, S::delivery_failed});
    }
    return false;
}

std::optional<tracking_state> expected_next(tracking_state from, tracking_event event) {
    if (allowed(from, event)) {
        return target_of(event);
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("every tracking state × every event matches the table") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto from : orderly::all_tracking_states) {
        for (const auto event : orderly::all_tracking_events) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(event));
            const auto r = orderly::next_tracking_state(from, event);
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
    CHECK(accepted == 35);
    CHECK(refused == 9 * 8 - 35);
}

TEST_CASE("delivered and returned_to_sender accept nothing") {
    for (const auto from : {S::delivered, S::returned_to_sender}) {
        for (const auto event : orderly::all_tracking_events) {
            check_refused(orderly::next_tracking_state(from, event), from, event);
        }
    }
}

TEST_CASE("a lost parcel comes back only by a hub scan, a departure scan or a delivery") {
    for (const auto event : orderly::all_tracking_events) {
        CAPTURE(to_string(event));
        const auto r = orderly::next_tracking_state(S::lost, event);
        if (event == E::arrived_at_hub) {
            REQUIRE(r.has_value());
            CHECK(*r == S::at_hub);
        } else if (event == E::departed_facility) {
            REQUIRE(r.has_value());
            CHECK(*r == S::in_transit);
        } else if (event == E::delivered) {
            REQUIRE(r.has_value());
            CHECK(*r == S::delivered);
        } else {
            check_refused(r, S::lost, event);
        }
    }
}

TEST_CASE(
    "a failed delivery is retried, fails again, sent back to a depot, collected, returned or "
    "lost") {
    struct step {
        tracking_event event;
        tracking_state to;
    };
    const std::array<step, 7> steps = {{
        {E::delivery_attempt_failed, S::delivery_failed},
        {E::sent_out_for_delivery, S::out_for_delivery},
        {E::departed_facility, S::in_transit},
        {E::arrived_at_hub, S::at_hub},
        {E::delivered, S::delivered},
        {E::returned_to_sender, S::returned_to_sender},
        {E::declared_lost, S::lost},
    }};
    for (const auto& s : steps) {
        CAPTURE(to_string(s.event));
        const auto r = orderly::next_tracking_state(S::delivery_failed, s.event);
        REQUIRE(r.has_value());
        CHECK(*r == s.to);
    }
    check_refused(orderly::next_tracking_state(S::delivery_failed, E::picked_up),
                  S::delivery_failed, E::picked_up);
}

TEST_CASE("a parcel may be declared lost before its first scan, not after it ended") {
    const auto r = orderly::next_tracking_state(S::label_created, E::declared_lost);
    REQUIRE(r.has_value());
    CHECK(*r == S::lost);
    for (const auto from : {S::delivered, S::returned_to_sender, S::lost}) {
        check_refused(orderly::next_tracking_state(from, E::declared_lost), from, E::declared_lost);
    }
}

TEST_CASE("a tracking refusal names the event and the state") {
    const auto r = orderly::next_tracking_state(S::delivered, E::picked_up);
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    CHECK(r.error().message == "event 'picked_up' is not allowed in state 'delivered'");
}

TEST_CASE("tracking values outside the enums are bad input, not refusals") {
    for (const int value : {0, 9, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_tracking_state(S::at_hub, static_cast<tracking_event>(value));
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 10, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_tracking_state(static_cast<tracking_state>(value), E::delivered);
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    // A bad state is reported before a bad event.
    const auto both = orderly::next_tracking_state(static_cast<tracking_state>(0),
                                                   static_cast<tracking_event>(0));
    REQUIRE(both.has_error());
    CHECK(both.error().field == "state");
}

TEST_CASE("stored tracking values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_tracking_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_tracking_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::label_created) == 1);
    CHECK(static_cast<int>(S::picked_up) == 2);
    CHECK(static_cast<int>(S::in_transit) == 3);
    CHECK(static_cast<int>(S::at_hub) == 4);
    CHECK(static_cast<int>(S::out_for_delivery) == 5);
    CHECK(static_cast<int>(S::delivered) == 6);
    CHECK(static_cast<int>(S::delivery_failed) == 7);
    CHECK(static_cast<int>(S::returned_to_sender) == 8);
    CHECK(static_cast<int>(S::lost) == 9);
    for (std::size_t i = 0; i < orderly::all_tracking_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_tracking_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::picked_up) == 1);
    CHECK(static_cast<int>(E::departed_facility) == 2);
    CHECK(static_cast<int>(E::arrived_at_hub) == 3);
    CHECK(static_cast<int>(E::sent_out_for_delivery) == 4);
    CHECK(static_cast<int>(E::delivery_attempt_failed) == 5);
    CHECK(static_cast<int>(E::delivered) == 6);
    CHECK(static_cast<int>(E::returned_to_sender) == 7);
    CHECK(static_cast<int>(E::declared_lost) == 8);
}

TEST_CASE("stable names of tracking states and events") {
    CHECK(to_string(S::returned_to_sender) == "returned_to_sender");
    CHECK(to_string(S::out_for_delivery) == "out_for_delivery");
    CHECK(to_string(static_cast<tracking_state>(0)) == "unknown");
    CHECK(to_string(E::delivery_attempt_failed) == "delivery_attempt_failed");
    CHECK(to_string(static_cast<tracking_event>(0)) == "unknown");
    CHECK(fmt::format("{}", S::at_hub) == "at_hub");
    CHECK(fmt::format("{}", E::declared_lost) == "declared_lost");
}

TEST_CASE("a tracking machine restored at each state moves from that state") {
    // One legal step out of each state that has one proves the stored value
    // was restored as that state; each answer must be an enum value.
    struct probe {
        tracking_state from;
        tracking_event event;
        tracking_state to;
    };
    const std::array<probe, 7> probes = {{
        {S::label_created, E::picked_up, S::picked_up},
        {S::picked_up, E::sent_out_for_delivery, S::out_for_delivery},
        {S::in_transit, E::departed_facility, S::in_transit},
        {S::at_hub, E::returned_to_sender, S::returned_to_sender},
        {S::out_for_delivery, E::delivery_attempt_failed, S::delivery_failed},
        {S::delivery_failed, E::sent_out_for_delivery, S::out_for_delivery},
        {S::lost, E::arrived_at_hub, S::at_hub},
    }};
    for (const auto& p : probes) {
        const auto r = orderly::next_tracking_state(p.from, p.event);
        REQUIRE(r.has_value());
        CHECK(*r == p.to);
        CHECK(std::find(orderly::all_tracking_states.begin(), orderly::all_tracking_states.end(),
                        *r) != orderly::all_tracking_states.end());
    }
}

TEST_CASE("the tracking rows are the table, in table order") {
    const std::vector<transition_row> expected = {
        {"label_created", "picked_up", "picked_up", ""},
        {"label_created", "departed_facility", "in_transit", ""},
        {"label_created", "arrived_at_hub", "at_hub", ""},
        {"label_created", "declared_lost", "lost", ""},
        {"picked_up", "departed_facility", "in_transit", ""},
        {"picked_up", "arrived_at_hub", "at_hub", ""},
        {"picked_up", "sent_out_for_delivery", "out_for_delivery", ""},
        {"picked_up", "declared_lost", "lost", ""},
        {"picked_up", "delivered", "delivered", ""},
        {"in_transit", "departed_facility", "in_transit", ""},
        {"in_transit", "arrived_at_hub", "at_hub", ""},
        {"in_transit", "sent_out_for_delivery", "out_for_delivery", ""},
        {"in_transit", "delivered", "delivered", ""},
        {"in_transit", "declared_lost", "lost", ""},
        {"at_hub", "departed_facility", "in_transit", ""},
        {"at_hub", "arrived_at_hub", "at_hub", ""},
        {"at_hub", "sent_out_for_delivery", "out_for_delivery", ""},
        {"at_hub", "delivered", "delivered", ""},
        {"at_hub", "returned_to_sender", "returned_to_sender", ""},
        {"at_hub", "declared_lost", "lost", ""},
        {"out_for_delivery", "delivered", "delivered", ""},
        {"out_for_delivery", "delivery_attempt_failed", "delivery_failed", ""},
        {"out_for_delivery", "returned_to_sender", "returned_to_sender", ""},
        {"out_for_delivery", "declared_lost", "lost", ""},
        {"out_for_delivery", "sent_out_for_delivery", "out_for_delivery", ""},
        {"delivery_failed", "sent_out_for_delivery", "out_for_delivery", ""},
        {"delivery_failed", "departed_facility", "in_transit", ""},
        {"delivery_failed", "arrived_at_hub", "at_hub", ""},
        {"delivery_failed", "delivered", "delivered", ""},
        {"delivery_failed", "returned_to_sender", "returned_to_sender", ""},
        {"delivery_failed", "declared_lost", "lost", ""},
        {"delivery_failed", "delivery_attempt_failed", "delivery_failed", ""},
        {"lost", "arrived_at_hub", "at_hub", ""},
        {"lost", "departed_facility", "in_transit", ""},
        {"lost", "delivered", "delivered", ""},
    };
    const auto rows = orderly::tracking_machine_rows();
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i] == expected[i]);
    }
}

TEST_CASE("each tracking row is what the machine does") {
    for (const auto& row : orderly::tracking_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CHECK(row.guard.empty());
        const auto r = orderly::next_tracking_state(named(orderly::all_tracking_states, row.from),
                                                    named(orderly::all_tracking_events, row.event));
        CHECK(describe(r) == row.to);
    }
}
