// The exception case machine through its facade: every state × every
// event × every escalation origin, against an expected table written here
// independently of the MSM table; escalation and cause clearing; the rows it
// reports; stable stored values and names; values outside the enums; and the
// same answers from several threads. Also the case value type's helpers.
#include <orderly/ops/case_machine.hpp>
#include <orderly/ops/exception_case.hpp>

#include "machine_test_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using orderly::case_event;
using orderly::case_facts;
using orderly::case_priority;
using orderly::case_state;
using orderly::case_type;
using orderly::errc;
using orderly::result;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = case_state;
using E = case_event;
using P = case_priority;

bool one_of(case_state s, std::initializer_list<case_state> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

/// The states someone still has to act in before the response deadline:
/// a deadline escalates from them, and cause_cleared resolves them.
bool awaiting_response(case_state s) {
    return one_of(s, {S::open, S::acknowledged, S::in_progress});
}

/// R-28 restated as plain logic, not as a copy of the machine's table: what
/// the case becomes, or nothing when the event must be refused.
std::optional<case_state> expected_next(case_state from, case_event event,
                                        const case_facts& facts) {
    if (from == S::escalated) {
        switch (event) {
            case E::deadline_passed:
                return S::escalated;  // A second deadline keeps it escalated.
            case E::resolved:
            case E::cause_cleared:
                return S::resolved;  // Whatever it was escalated from.
            case E::acknowledged:
                return facts.escalated_from == S::open ? std::optional(S::acknowledged)
                                                       : std::nullopt;
            case E::work_started:
                return one_of(facts.escalated_from, {S::open, S::acknowledged})
                           ? std::optional(S::in_progress)
                           : std::nullopt;
            case E::opened:
            case E::closed:
            case E::reopened:
                return std::nullopt;
        }
        FAIL("unknown event");
        return std::nullopt;
    }
    switch (event) {
        case E::opened:
            return std::nullopt;
        case E::acknowledged:
            return from == S::open ? std::optional(S::acknowledged) : std::nullopt;
        case E::work_started:
            return one_of(from, {S::open, S::acknowledged}) ? std::optional(S::in_progress)
                                                            : std::nullopt;
        case E::resolved:
        case E::cause_cleared:
            return awaiting_response(from) ? std::optional(S::resolved) : std::nullopt;
        case E::closed:
            return from == S::resolved ? std::optional(S::closed) : std::nullopt;
        case E::deadline_passed:
            return awaiting_response(from) ? std::optional(S::escalated) : std::nullopt;
        case E::reopened:
            return from == S::resolved ? std::optional(S::open) : std::nullopt;
    }
    FAIL("unknown event");
    return std::nullopt;
}

/// Every escalation origin as guard facts (only `escalated` reads it; the
/// other states must ignore it).
std::vector<case_facts> all_facts() {
    std::vector<case_facts> facts;
    for (const auto origin : orderly::all_case_states) {
        facts.push_back(case_facts{.escalated_from = origin});
    }
    return facts;
}

}  // namespace

TEST_CASE("every case state × event × escalation origin matches R-28") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_case_states) {
            for (const auto event : orderly::all_case_events) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                CAPTURE(to_string(facts.escalated_from));
                const auto r = orderly::next_case_state(from, event, facts);
                const auto expected = expected_next(from, event, facts);
                if (expected) {
                    CHECK(describe(r) == std::string(to_string(*expected)));
                    ++accepted;
                } else {
                    check_refused(r, from, event);
                    ++refused;
                }
            }
        }
    }
    // 6 origins × 6 states × 8 events. Outside `escalated`, per origin: 14
    // pairs (acknowledged 1, work_started 2, resolved 3, closed 1,
    // deadline_passed 3, cause_cleared 3, reopened 1). In `escalated`:
    // deadline_passed, resolved and cause_cleared for all 6 origins, plus
    // acknowledged (from open) and work_started (from open or acknowledged).
    CHECK(accepted + refused == 6 * 6 * 8);
    CHECK(accepted == std::size_t{6} * 14 + (std::size_t{6} * 3 + 1 + 2));
}

TEST_CASE("acknowledgement may be skipped on the way to in_progress") {
    const auto acknowledged = orderly::next_case_state(S::open, E::acknowledged, {});
    REQUIRE(acknowledged.has_value());
    CHECK(*acknowledged == S::acknowledged);
    for (const auto from : {S::open, S::acknowledged}) {
        CAPTURE(to_string(from));
        const auto r = orderly::next_case_state(from, E::work_started, {});
        REQUIRE(r.has_value());
        CHECK(*r == S::in_progress);
    }
    // Not backwards.
    check_refused(orderly::next_case_state(S::in_progress, E::acknowledged, {}), S::in_progress,
                  E::acknowledged);
    check_refused(orderly::next_case_state(S::in_progress, E::work_started, {}), S::in_progress,
                  E::work_started);
}

TEST_CASE("an escalated case accepts what its origin accepts, and only that") {
    struct probe {
        case_event event;
        std::vector<case_state> origins;  // Where the event is accepted from.
        case_state to;
    };
    const std::array<probe, 2> probes = {{
        {E::acknowledged, {S::open}, S::acknowledged},
        {E::work_started, {S::open, S::acknowledged}, S::in_progress},
    }};
    for (const auto& p : probes) {
        CAPTURE(to_string(p.event));
        for (const auto origin : orderly::all_case_states) {
            CAPTURE(to_string(origin));
            const auto r =
                orderly::next_case_state(S::escalated, p.event, {.escalated_from = origin});
            if (std::find(p.origins.begin(), p.origins.end(), origin) != p.origins.end()) {
                REQUIRE(r.has_value());
                CHECK(*r == p.to);
            } else {
                check_refused(r, S::escalated, p.event);
            }
        }
    }
    // Resolution, by a person or by the cause going away, from any origin.
    for (const auto origin : orderly::all_case_states) {
        CAPTURE(to_string(origin));
        for (const auto event : {E::resolved, E::cause_cleared}) {
            CAPTURE(to_string(event));
            const auto r =
                orderly::next_case_state(S::escalated, event, {.escalated_from = origin});
            REQUIRE(r.has_value());
            CHECK(*r == S::resolved);
        }
        // Never straight to closed, never reopened, never opened.
        for (const auto event : {E::closed, E::reopened, E::opened}) {
            check_refused(orderly::next_case_state(S::escalated, event, {.escalated_from = origin}),
                          S::escalated, event);
        }
    }
}

TEST_CASE("a deadline escalates an unresolved case, and a second one keeps it escalated") {
    for (const auto from : orderly::all_case_states) {
        CAPTURE(to_string(from));
        const auto r = orderly::next_case_state(from, E::deadline_passed, {});
        if (awaiting_response(from) || from == S::escalated) {
            REQUIRE(r.has_value());
            CHECK(*r == S::escalated);
        } else {
            check_refused(r, from, E::deadline_passed);
        }
    }
    for (const auto origin : orderly::all_case_states) {
        const auto again =
            orderly::next_case_state(S::escalated, E::deadline_passed, {.escalated_from = origin});
        REQUIRE(again.has_value());
        CHECK(*again == S::escalated);
    }
}

TEST_CASE("cause_cleared resolves exactly the unresolved states") {
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_case_states) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(facts.escalated_from));
            const auto r = orderly::next_case_state(from, E::cause_cleared, facts);
            if (orderly::case_unresolved(from)) {
                REQUIRE(r.has_value());
                CHECK(*r == S::resolved);
            } else {
                check_refused(r, from, E::cause_cleared);
            }
        }
    }
}

TEST_CASE("a resolved case is closed or reopened, and a reopened one starts again") {
    const auto closed = orderly::next_case_state(S::resolved, E::closed, {});
    REQUIRE(closed.has_value());
    CHECK(*closed == S::closed);
    const auto reopened = orderly::next_case_state(S::resolved, E::reopened, {});
    REQUIRE(reopened.has_value());
    CHECK(*reopened == S::open);
    // Only a resolved case is reopened or closed.
    for (const auto from : orderly::all_case_states) {
        if (from == S::resolved) {
            continue;
        }
        CAPTURE(to_string(from));
        check_refused(orderly::next_case_state(from, E::reopened, {}), from, E::reopened);
        check_refused(orderly::next_case_state(from, E::closed, {}), from, E::closed);
    }
    // The whole path, twice round.
    const std::array<std::pair<case_event, case_state>, 8> path = {{
        {E::acknowledged, S::acknowledged},
        {E::deadline_passed, S::escalated},
        {E::cause_cleared, S::resolved},
        {E::reopened, S::open},
        {E::work_started, S::in_progress},
        {E::resolved, S::resolved},
        {E::closed, S::closed},
        {E::opened, S::closed},  // Refused: the case stays closed.
    }};
    case_state at = S::open;
    case_facts facts{};
    for (const auto& [event, to] : path) {
        CAPTURE(to_string(at));
        CAPTURE(to_string(event));
        const auto r = orderly::next_case_state(at, event, facts);
        if (event == E::opened) {
            check_refused(r, at, event);
            continue;
        }
        REQUIRE(r.has_value());
        CHECK(*r == to);
        if (*r == S::escalated && at != S::escalated) {
            facts.escalated_from = at;
        }
        at = *r;
    }
    CHECK(at == S::closed);
}

TEST_CASE("opened is never accepted, and closed accepts nothing") {
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_case_states) {
            check_refused(orderly::next_case_state(from, E::opened, facts), from, E::opened);
        }
        for (const auto event : orderly::all_case_events) {
            check_refused(orderly::next_case_state(S::closed, event, facts), S::closed, event);
        }
    }
}

TEST_CASE("a case refusal names the event and the state") {
    const auto no_row = orderly::next_case_state(S::resolved, E::deadline_passed, {});
    REQUIRE(no_row.has_error());
    CHECK(no_row.error().code == errc::transition_not_allowed);
    CHECK(no_row.error().field == "state");
    CHECK(no_row.error().message == "event 'deadline_passed' is not allowed in state 'resolved'");

    const auto guarded =
        orderly::next_case_state(S::escalated, E::acknowledged, {.escalated_from = S::in_progress});
    REQUIRE(guarded.has_error());
    CHECK(guarded.error().code == errc::transition_not_allowed);
    CHECK(guarded.error().field == "state");
    CHECK(guarded.error().message ==
          "event 'acknowledged' is not allowed in state 'escalated' with these facts");
}

TEST_CASE("case values outside the enums are bad input, not refusals") {
    for (const int value : {0, 9, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_case_state(S::open, static_cast<case_event>(value), {});
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 7, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_case_state(static_cast<case_state>(value), E::resolved, {});
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    for (const int value : {0, 7, 255}) {
        CAPTURE(value);
        const case_facts facts{.escalated_from = static_cast<case_state>(value)};
        // Whether the event would be accepted (any origin may be resolved) or
        // refused, a bad origin is reported as such, in any state.
        for (const auto from : {S::escalated, S::open}) {
            for (const auto event : {E::resolved, E::acknowledged, E::closed}) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                const auto bad_origin = orderly::next_case_state(from, event, facts);
                REQUIRE(bad_origin.has_error());
                CHECK(bad_origin.error().code == errc::invalid_value);
                CHECK(bad_origin.error().field == "escalated_from");
            }
        }
    }
    // A bad state is reported before a bad event, and a bad event before a bad origin.
    const case_facts bad_facts{.escalated_from = static_cast<case_state>(0)};
    const auto all_bad =
        orderly::next_case_state(static_cast<case_state>(0), static_cast<case_event>(0), bad_facts);
    REQUIRE(all_bad.has_error());
    CHECK(all_bad.error().field == "state");
    const auto event_and_origin =
        orderly::next_case_state(S::escalated, static_cast<case_event>(0), bad_facts);
    REQUIRE(event_and_origin.has_error());
    CHECK(event_and_origin.error().field == "event");
}

TEST_CASE("stored case values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_case_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_case_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::open) == 1);
    CHECK(static_cast<int>(S::resolved) == 4);
    CHECK(static_cast<int>(S::closed) == 5);
    CHECK(static_cast<int>(S::escalated) == 6);
    for (std::size_t i = 0; i < orderly::all_case_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_case_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::opened) == 1);
    CHECK(static_cast<int>(E::deadline_passed) == 6);
    CHECK(static_cast<int>(E::cause_cleared) == 7);
    CHECK(static_cast<int>(E::reopened) == 8);
    for (std::size_t i = 0; i < orderly::all_case_types.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_case_types[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(case_type::unprocessed_order) == 1);
    CHECK(static_cast<int>(case_type::after_sales_overdue) == 9);
    CHECK(static_cast<int>(case_type::other) == 11);
    CHECK(static_cast<int>(case_type::payment_mismatch) == 12);
    CHECK(static_cast<int>(case_type::parcel_returned) == 13);
    for (std::size_t i = 0; i < orderly::all_case_priorities.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_case_priorities[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(P::low) == 1);
    CHECK(static_cast<int>(P::urgent) == 4);
}

TEST_CASE("every case enum value has its stable name") {
    const std::array<std::string_view, 13> type_names = {
        "unprocessed_order",   "stock_shortage",  "payment_failure", "payment_timeout",
        "unclear_address",     "logistics_delay", "logistics_loss",  "logistics_damage",
        "after_sales_overdue", "low_stock",       "other",           "payment_mismatch",
        "parcel_returned"};
    for (std::size_t i = 0; i < type_names.size(); ++i) {
        CHECK(to_string(orderly::all_case_types[i]) == type_names[i]);
        CHECK(fmt::format("{}", orderly::all_case_types[i]) == type_names[i]);
    }
    const std::array<std::string_view, 4> priority_names = {"low", "normal", "high", "urgent"};
    for (std::size_t i = 0; i < priority_names.size(); ++i) {
        CHECK(to_string(orderly::all_case_priorities[i]) == priority_names[i]);
        CHECK(fmt::format("{}", orderly::all_case_priorities[i]) == priority_names[i]);
    }
    const std::array<std::string_view, 6> state_names = {"open",     "acknowledged", "in_progress",
                                                         "resolved", "closed",       "escalated"};
    for (std::size_t i = 0; i < state_names.size(); ++i) {
        CHECK(to_string(orderly::all_case_states[i]) == state_names[i]);
        CHECK(fmt::format("{}", orderly::all_case_states[i]) == state_names[i]);
    }
    const std::array<std::string_view, 8> event_names = {
        "opened", "acknowledged",    "work_started",  "resolved",
        "closed", "deadline_passed", "cause_cleared", "reopened"};
    for (std::size_t i = 0; i < event_names.size(); ++i) {
        CHECK(to_string(orderly::all_case_events[i]) == event_names[i]);
        CHECK(fmt::format("{}", orderly::all_case_events[i]) == event_names[i]);
    }
    CHECK(to_string(static_cast<case_type>(0)) == "unknown");
    CHECK(to_string(static_cast<case_type>(14)) == "unknown");
    CHECK(to_string(static_cast<case_priority>(5)) == "unknown");
    CHECK(to_string(static_cast<case_state>(7)) == "unknown");
    CHECK(to_string(static_cast<case_event>(9)) == "unknown");
}

TEST_CASE("raised gives the next priority up, and urgent stays urgent") {
    static_assert(orderly::raised(P::low) == P::normal);
    static_assert(orderly::raised(P::urgent) == P::urgent);
    CHECK(orderly::raised(P::low) == P::normal);
    CHECK(orderly::raised(P::normal) == P::high);
    CHECK(orderly::raised(P::high) == P::urgent);
    CHECK(orderly::raised(P::urgent) == P::urgent);
    // Never lower, and urgent after at most three raises.
    for (const auto p : orderly::all_case_priorities) {
        CAPTURE(to_string(p));
        CHECK(orderly::raised(p) >= p);
        CHECK(orderly::raised(orderly::raised(orderly::raised(p))) == P::urgent);
    }
    CHECK(orderly::raised(static_cast<case_priority>(0)) == static_cast<case_priority>(0));
}

TEST_CASE("case_live, case_ended and case_unresolved split the states") {
    for (const auto s : orderly::all_case_states) {
        CAPTURE(to_string(s));
        CHECK(orderly::case_live(s) == (s != S::closed));
        CHECK(orderly::case_ended(s) == !orderly::case_live(s));
        CHECK(orderly::case_unresolved(s) == (s != S::closed && s != S::resolved));
    }
}

TEST_CASE("an exception case starts empty and compares every field") {
    const orderly::exception_case blank{};
    CHECK(blank.version == 0U);
    CHECK(blank.state == S::open);
    CHECK(blank.escalated_from == S::open);
    CHECK(blank.priority == P::normal);
    CHECK(blank.type == case_type::other);
    CHECK(blank.escalations == 0U);
    CHECK_FALSE(blank.order.has_value());
    CHECK_FALSE(blank.due_at.has_value());
    CHECK(blank.notes.empty());
    CHECK(blank.timeline.empty());

    orderly::exception_case c{};
    c.id = orderly::case_id{7};
    c.type = case_type::payment_timeout;
    c.cause_key = "payment_timeout:order:123";
    c.order = orderly::order_id{123};
    c.timeline.push_back(orderly::case_entry{.actor = orderly::system_actor(),
                                             .event = E::opened,
                                             .to = S::open,
                                             .note = "payment not made in time"});
    orderly::exception_case same = c;
    CHECK(same == c);
    same.notes.push_back(orderly::case_note{.author = orderly::system_actor(), .text = "called"});
    CHECK_FALSE(same == c);
    same = c;
    same.resolution_code = "paid_late";
    CHECK_FALSE(same == c);
}

TEST_CASE("a case machine restored at each state moves from that state") {
    // One legal step out of each state that has one proves the stored value
    // was restored as that state.
    struct probe {
        case_state from;
        case_event event;
        case_state to;
    };
    const std::array<probe, 5> probes = {{
        {S::open, E::acknowledged, S::acknowledged},
        {S::acknowledged, E::work_started, S::in_progress},
        {S::in_progress, E::resolved, S::resolved},
        {S::resolved, E::reopened, S::open},
        {S::escalated, E::deadline_passed, S::escalated},
    }};
    for (const auto& p : probes) {
        CAPTURE(to_string(p.from));
        const auto r = orderly::next_case_state(p.from, p.event, {});
        REQUIRE(r.has_value());
        CHECK(*r == p.to);
    }
    // Every answer is one of the enum's values.
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_case_states) {
            for (const auto event : orderly::all_case_events) {
                const auto r = orderly::next_case_state(from, event, facts);
                if (r.has_value()) {
                    CHECK(std::find(orderly::all_case_states.begin(),
                                    orderly::all_case_states.end(),
                                    *r) != orderly::all_case_states.end());
                }
            }
        }
    }
}

TEST_CASE("the case rows are R-28's table, in table order") {
    const std::vector<transition_row> expected = {
        {"open", "acknowledged", "acknowledged", ""},
        {"open", "work_started", "in_progress", ""},
        {"open", "resolved", "resolved", ""},
        {"open", "deadline_passed", "escalated", ""},
        {"open", "cause_cleared", "resolved", ""},
        {"acknowledged", "work_started", "in_progress", ""},
        {"acknowledged", "resolved", "resolved", ""},
        {"acknowledged", "deadline_passed", "escalated", ""},
        {"acknowledged", "cause_cleared", "resolved", ""},
        {"in_progress", "resolved", "resolved", ""},
        {"in_progress", "deadline_passed", "escalated", ""},
        {"in_progress", "cause_cleared", "resolved", ""},
        {"resolved", "closed", "closed", ""},
        {"resolved", "reopened", "open", ""},
        {"escalated", "acknowledged", "acknowledged", "escalated_from == open"},
        {"escalated", "work_started", "in_progress", "escalated_from == open"},
        {"escalated", "work_started", "in_progress", "escalated_from == acknowledged"},
        {"escalated", "resolved", "resolved", ""},
        {"escalated", "cause_cleared", "resolved", ""},
        {"escalated", "deadline_passed", "escalated", ""},
    };
    const auto rows = orderly::case_machine_rows();
    REQUIRE(rows.size() == 20);
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i] == expected[i]);
    }
}

TEST_CASE("each case row is what the machine does when its guard holds") {
    for (const auto& row : orderly::case_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CAPTURE(row.guard);
        case_facts facts{};
        if (!row.guard.empty()) {
            const std::string_view guard = row.guard;
            REQUIRE(guard.starts_with("escalated_from == "));
            facts.escalated_from = named(orderly::all_case_states, std::string(guard.substr(18)));
        }
        const auto r = orderly::next_case_state(named(orderly::all_case_states, row.from),
                                                named(orderly::all_case_events, row.event), facts);
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_case_state gives the same answers from 4 threads at once") {
    const auto facts = all_facts();
    auto answer_all = [&facts] {
        std::vector<std::string> answers;
        answers.reserve(facts.size() * 6 * 8);
        for (int round = 0; round < 20; ++round) {
            answers.clear();
            for (const auto& f : facts) {
                for (const auto from : orderly::all_case_states) {
                    for (const auto event : orderly::all_case_events) {
                        answers.push_back(describe(orderly::next_case_state(from, event, f)));
                    }
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
