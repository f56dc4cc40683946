// The payment machine through its facade: every state × every event, both
// ways of the refund guard, against an expected table written here
// independently of the MSM table; the rows it reports; stable stored values.
#include <orderly/payment/payment_machine.hpp>

#include "machine_test_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

using orderly::errc;
using orderly::payment_event;
using orderly::payment_guard_facts;
using orderly::payment_state;
using orderly::result;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::describe;
using orderly::test::named;

using S = payment_state;
using E = payment_event;

/// The payment life restated as plain logic: what the payment becomes, or
/// nothing when the event must be refused.
std::optional<payment_state> expected_next(payment_state from, payment_event event,
                                           const payment_guard_facts& facts) {
    switch (from) {
        case S::pending:
            if (event == E::authorization_succeeded) {
                return S::authorized;
            }
            [[fallthrough]];
        case S::authorized:
            // From pending or authorized alike: capture or failure.
            if (event == E::capture_succeeded) {
                return S::captured;
            }
            if (event == E::payment_failed) {
                return S::failed;
            }
            // A pending attempt may be given up too, so none waits forever.
            if (event == E::authorization_voided) {
                return S::voided;
            }
            return std::nullopt;
        case S::captured:
        case S::partially_refunded:
            if (event == E::refund_issued) {
                return facts.refunds_everything ? S::refunded : S::partially_refunded;
            }
            return std::nullopt;
        case S::failed:
        case S::voided:
            // A late capture is money received: recorded, never dropped.
            return event == E::capture_succeeded ? std::optional(S::captured) : std::nullopt;
        case S::refunded:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("every payment state × every event × refund guard matches the table") {
    std::size_t accepted = 0;
    for (const bool everything : {false, true}) {
        const payment_guard_facts facts{.refunds_everything = everything};
        for (const auto from : orderly::all_payment_states) {
            for (const auto event : orderly::all_payment_events) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                CAPTURE(everything);
                const auto r = orderly::next_payment_state(from, event, facts);
                const auto expected = expected_next(from, event, facts);
                if (expected) {
                    CHECK(describe(r) == std::string(to_string(*expected)));
                    ++accepted;
                } else {
                    check_refused(r, from, event);
                }
            }
        }
    }
    // 11 legal (state, event) pairs, each whatever the guard says.
    CHECK(accepted == 2 * 11);
}

TEST_CASE("a refund is full or partial by the guard, from captured and partially refunded") {
    for (const auto from : {S::captured, S::partially_refunded}) {
        CAPTURE(to_string(from));
        const auto full =
            orderly::next_payment_state(from, E::refund_issued, {.refunds_everything = true});
        REQUIRE(full.has_value());
        CHECK(*full == S::refunded);
        const auto part =
            orderly::next_payment_state(from, E::refund_issued, {.refunds_everything = false});
        REQUIRE(part.has_value());
        CHECK(*part == S::partially_refunded);
    }
}

TEST_CASE("refunded accepts nothing, failed and voided accept only a late capture") {
    for (const auto from : {S::refunded, S::failed, S::voided}) {
        for (const auto event : orderly::all_payment_events) {
            for (const bool everything : {false, true}) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                const auto r =
                    orderly::next_payment_state(from, event, {.refunds_everything = everything});
                if (from != S::refunded && event == E::capture_succeeded) {
                    REQUIRE(r.has_value());
                    CHECK(*r == S::captured);
                } else {
                    check_refused(r, from, event);
                }
            }
        }
    }
}

TEST_CASE("a pending or authorized payment may be voided") {
    for (const auto from : {S::pending, S::authorized}) {
        const auto r = orderly::next_payment_state(from, E::authorization_voided, {});
        REQUIRE(r.has_value());
        CHECK(*r == S::voided);
    }
    check_refused(orderly::next_payment_state(S::captured, E::authorization_voided, {}),
                  S::captured, E::authorization_voided);
}

TEST_CASE("a payment refusal names the event and the state") {
    const auto r = orderly::next_payment_state(S::pending, E::refund_issued, {});
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    CHECK(r.error().message == "event 'refund_issued' is not allowed in state 'pending'");
}

TEST_CASE("payment values outside the enums are bad input, not refusals") {
    const auto bad_event =
        orderly::next_payment_state(S::pending, static_cast<payment_event>(0), {});
    REQUIRE(bad_event.has_error());
    CHECK(bad_event.error().code == errc::invalid_value);
    CHECK(bad_event.error().field == "event");

    const auto bad_state =
        orderly::next_payment_state(static_cast<payment_state>(8), E::payment_failed, {});
    REQUIRE(bad_state.has_error());
    CHECK(bad_state.error().code == errc::invalid_value);
    CHECK(bad_state.error().field == "state");
}

TEST_CASE("stored payment values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_payment_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_payment_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::pending) == 1);
    CHECK(static_cast<int>(S::captured) == 3);
    CHECK(static_cast<int>(S::voided) == 7);
    for (std::size_t i = 0; i < orderly::all_payment_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_payment_events[i]) == static_cast<int>(i) + 1);
    }
}

TEST_CASE("a payment restored at each state moves from that state") {
    // One legal step out of each state that has one proves the stored value
    // was restored as that state; each answer must be an enum value.
    struct probe {
        payment_state from;
        payment_event event;
        payment_state to;
    };
    const std::array<probe, 6> probes = {{
        {S::pending, E::authorization_succeeded, S::authorized},
        {S::authorized, E::authorization_voided, S::voided},
        {S::captured, E::refund_issued, S::partially_refunded},
        {S::partially_refunded, E::refund_issued, S::partially_refunded},
        {S::failed, E::capture_succeeded, S::captured},
        {S::voided, E::capture_succeeded, S::captured},
    }};
    for (const auto& p : probes) {
        const auto r = orderly::next_payment_state(p.from, p.event, {});
        REQUIRE(r.has_value());
        CHECK(*r == p.to);
        CHECK(std::find(orderly::all_payment_states.begin(), orderly::all_payment_states.end(),
                        *r) != orderly::all_payment_states.end());
    }
}

TEST_CASE("the payment rows are the table, in table order") {
    const std::vector<transition_row> expected = {
        {"pending", "authorization_succeeded", "authorized", ""},
        {"pending", "capture_succeeded", "captured", ""},
        {"pending", "payment_failed", "failed", ""},
        {"pending", "authorization_voided", "voided", ""},
        {"authorized", "capture_succeeded", "captured", ""},
        {"authorized", "payment_failed", "failed", ""},
        {"authorized", "authorization_voided", "voided", ""},
        {"failed", "capture_succeeded", "captured", ""},
        {"voided", "capture_succeeded", "captured", ""},
        {"captured", "refund_issued", "refunded", "refunds_everything"},
        {"captured", "refund_issued", "partially_refunded", "not refunds_everything"},
        {"partially_refunded", "refund_issued", "refunded", "refunds_everything"},
        {"partially_refunded", "refund_issued", "partially_refunded", "not refunds_everything"},
    };
    const auto rows = orderly::payment_machine_rows();
    REQUIRE(rows.size() == 13);
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i].from == expected[i].from);
        CHECK(rows[i].event == expected[i].event);
        CHECK(rows[i].to == expected[i].to);
        CHECK(rows[i].guard == expected[i].guard);
    }
}

TEST_CASE("each payment row is what the machine does when its guard holds") {
    for (const auto& row : orderly::payment_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CAPTURE(row.guard);
        const payment_guard_facts facts{.refunds_everything = row.guard == "refunds_everything"};
        const auto r =
            orderly::next_payment_state(named(orderly::all_payment_states, row.from),
                                        named(orderly::all_payment_events, row.event), facts);
        CHECK(describe(r) == row.to);
    }
}
