// The after-sales ticket machine through its facade: every state ×
// every event × every ticket type × every escalation origin × a return in
// transit or not × a failed repair or not, against an expected table written
// here independently of the MSM table; terminal states; the rows it reports;
// stable stored values; values outside the enums; and the same answers from
// several threads.
#include <orderly/aftersales/ticket_machine.hpp>

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
#include <vector>

using orderly::errc;
using orderly::result;
using orderly::ticket_event;
using orderly::ticket_facts;
using orderly::ticket_state;
using orderly::ticket_type;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = ticket_state;
using E = ticket_event;
using T = ticket_type;

bool one_of(ticket_state s, std::initializer_list<ticket_state> states) {
    return std::find(states.begin(), states.end(), s) != states.end();
}

/// The states an escalated ticket may have come from: those whose deadline
/// escalates (awaiting_return only while its return is in transit).
bool escalates_from(ticket_state s) {
    return one_of(
        s, {S::under_review, S::awaiting_return, S::goods_received, S::inspected, S::at_repair});
}

/// True when a deadline in `from` escalates under `facts`.
bool escalates(ticket_state from, const ticket_facts& facts) {
    return from == S::awaiting_return ? facts.return_in_transit : escalates_from(from);
}

/// R-25 restated as plain logic, not as a copy of the machine's table: what
/// the ticket becomes, or nothing when the event must be refused.
std::optional<ticket_state> expected_next(ticket_state from, ticket_event event,
                                          const ticket_facts& facts) {
    if (from == S::escalated) {
        // A second deadline keeps it escalated; otherwise it answers as the
        // state it was escalated from would (which has no deadline of its own
        // left to pass).
        if (event == E::deadline_passed) {
            return S::escalated;
        }
        if (!escalates_from(facts.escalated_from)) {
            return std::nullopt;
        }
        // awaiting_return escalates only while its return is in transit, so
        // it answers as awaiting_return with the parcel on its way.
        ticket_facts origin = facts;
        if (facts.escalated_from == S::awaiting_return) {
            origin.return_in_transit = true;
        }
        return expected_next(facts.escalated_from, event, origin);
    }
    const bool refund_only = facts.type == T::refund_only;
    const bool in_transit = from == S::awaiting_return && facts.return_in_transit;
    switch (event) {
        case E::submitted:
            return std::nullopt;
        case E::auto_approved:
            if (from != S::submitted) {
                return std::nullopt;
            }
            return refund_only ? S::approved : S::awaiting_return;
        case E::review_requested:
            return from == S::submitted ? std::optional(S::under_review) : std::nullopt;
        case E::approved:
            if (from != S::under_review) {
                return std::nullopt;
            }
            return refund_only ? S::approved : S::awaiting_return;
        case E::rejected:
            // By review, or by inspection refusing every unit.
            return one_of(from, {S::under_review, S::inspected}) ? std::optional(S::rejected)
                                                                 : std::nullopt;
        case E::withdrawn:
            // Only while nothing has come back yet.
            return one_of(from, {S::submitted, S::under_review, S::approved, S::awaiting_return})
                       ? std::optional(S::withdrawn)
                       : std::nullopt;
        case E::deadline_passed:
            return escalates(from, facts) ? std::optional(S::escalated) : std::nullopt;
        case E::goods_received:
            return from == S::awaiting_return ? std::optional(S::goods_received) : std::nullopt;
        case E::inspected:
            return from == S::goods_received ? std::optional(S::inspected) : std::nullopt;
        case E::refund_issued:
            // Refund only straight after approval; every type after
            // inspection; a return lost in transit without the goods.
            return (from == S::approved && refund_only) || from == S::inspected || in_transit
                       ? std::optional(S::refunded)
                       : std::nullopt;
        case E::replacement_shipped:
            // An exchange, or a repair the repairer could not do.
            return from == S::inspected && (facts.type == T::exchange ||
                                            (facts.type == T::repair && facts.repair_failed))
                       ? std::optional(S::replacement_shipped)
                       : std::nullopt;
        case E::sent_to_repair:
            return from == S::inspected && facts.type == T::repair ? std::optional(S::at_repair)
                                                                   : std::nullopt;
        case E::repaired_shipped:
            return from == S::at_repair ? std::optional(S::repaired_shipped) : std::nullopt;
        case E::repair_failed:
            return from == S::at_repair ? std::optional(S::inspected) : std::nullopt;
        case E::closed:
            return one_of(from, {S::refunded, S::replacement_shipped, S::repaired_shipped})
                       ? std::optional(S::closed)
                       : std::nullopt;
        case E::return_expired:
            return from == S::awaiting_return && !facts.return_in_transit ? std::optional(S::closed)
                                                                          : std::nullopt;
    }
    FAIL("unknown event");
    return std::nullopt;
}

/// Every combination of guard facts: each type with each escalation origin
/// (only `escalated` reads the origin; the other states must ignore it),
/// with the return in transit or not, and a failed repair or not.
std::vector<ticket_facts> all_facts() {
    std::vector<ticket_facts> facts;
    for (const auto type : orderly::all_ticket_types) {
        for (const auto origin : orderly::all_ticket_states) {
            for (const bool in_transit : {false, true}) {
                for (const bool repair_failed : {false, true}) {
                    facts.push_back(ticket_facts{.type = type,
                                                 .escalated_from = origin,
                                                 .return_in_transit = in_transit,
                                                 .repair_failed = repair_failed});
                }
            }
        }
    }
    return facts;
}

}  // namespace

TEST_CASE("every ticket state × event × guard facts matches R-25") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_ticket_states) {
            for (const auto event : orderly::all_ticket_events) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                CAPTURE(to_string(facts.type));
                CAPTURE(to_string(facts.escalated_from));
                CAPTURE(facts.return_in_transit);
                CAPTURE(facts.repair_failed);
                const auto r = orderly::next_ticket_state(from, event, facts);
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
    // 224 fact combinations (4 types × 14 origins × in transit or not ×
    // repair failed or not) × 14 states × 16 events.
    CHECK(accepted + refused == 224 * 14 * 16);
    // Outside `escalated`, per type over the four (in transit, repair failed)
    // combinations: 21 pairs each time, plus return_expired (not in transit)
    // or deadline_passed and refund_issued (in transit) from awaiting_return:
    // 4 * 21 + 2 * 1 + 2 * 2 = 90. Plus refund from approved (refund_only, 4
    // combinations), a replacement (exchange, 4), a repair (repair, 4) and a
    // replacement after a failed repair (repair, 2). Each for 14 origins.
    const std::size_t outside = std::size_t{14} * (4 * 90 + 4 + 4 + 4 + 2);
    // In `escalated`, per type and combination: deadline_passed for all 14
    // origins, plus 3 steps from under_review, 3 from awaiting_return, 1 from
    // goods_received, 2 from inspected and 2 from at_repair: 25. Plus the
    // inspected origin's own steps: a replacement (exchange, 4), a repair
    // (repair, 4) and a replacement after a failed repair (repair, 2).
    const std::size_t in_escalated = std::size_t{16} * 25 + 4 + 4 + 2;
    CHECK(accepted == outside + in_escalated);
}

TEST_CASE("approval leads a refund-only ticket to approved and any other to awaiting_return") {
    for (const auto type : orderly::all_ticket_types) {
        CAPTURE(to_string(type));
        const auto expected = type == T::refund_only ? S::approved : S::awaiting_return;
        const auto automatic =
            orderly::next_ticket_state(S::submitted, E::auto_approved, {.type = type});
        REQUIRE(automatic.has_value());
        CHECK(*automatic == expected);
        const auto reviewed =
            orderly::next_ticket_state(S::under_review, E::approved, {.type = type});
        REQUIRE(reviewed.has_value());
        CHECK(*reviewed == expected);
        const auto escalated = orderly::next_ticket_state(
            S::escalated, E::approved, {.type = type, .escalated_from = S::under_review});
        REQUIRE(escalated.has_value());
        CHECK(*escalated == expected);
    }
}

TEST_CASE("an escalated ticket accepts what its origin accepts, and only that") {
    struct probe {
        std::vector<ticket_state> origins;  // Every origin that accepts the event.
        ticket_facts facts;                 // escalated_from is set per origin.
        ticket_event event;
        ticket_state to;
    };
    const std::vector<probe> probes = {
        {{S::under_review}, {.type = T::repair}, E::approved, S::awaiting_return},
        {{S::under_review, S::inspected}, {.type = T::exchange}, E::rejected, S::rejected},
        {{S::under_review, S::awaiting_return},
         {.type = T::refund_only},
         E::withdrawn,
         S::withdrawn},
        {{S::awaiting_return}, {.type = T::exchange}, E::goods_received, S::goods_received},
        {{S::goods_received}, {.type = T::return_and_refund}, E::inspected, S::inspected},
        {{S::inspected, S::awaiting_return}, {.type = T::exchange}, E::refund_issued, S::refunded},
        {{S::inspected}, {.type = T::exchange}, E::replacement_shipped, S::replacement_shipped},
        {{S::inspected},
         {.type = T::repair, .repair_failed = true},
         E::replacement_shipped,
         S::replacement_shipped},
        {{S::inspected}, {.type = T::repair}, E::sent_to_repair, S::at_repair},
        {{S::at_repair}, {.type = T::repair}, E::repaired_shipped, S::repaired_shipped},
        {{S::at_repair}, {.type = T::repair}, E::repair_failed, S::inspected},
    };
    for (const auto& p : probes) {
        CAPTURE(to_string(p.event));
        for (const auto origin : orderly::all_ticket_states) {
            CAPTURE(to_string(origin));
            ticket_facts facts = p.facts;
            facts.escalated_from = origin;
            const auto r = orderly::next_ticket_state(S::escalated, p.event, facts);
            if (std::find(p.origins.begin(), p.origins.end(), origin) != p.origins.end()) {
                REQUIRE(r.has_value());
                CHECK(*r == p.to);
            } else {
                check_refused(r, S::escalated, p.event);
            }
        }
    }
    // The origin's own type rules still apply.
    check_refused(orderly::next_ticket_state(S::escalated, E::replacement_shipped,
                                             {.type = T::repair, .escalated_from = S::inspected}),
                  S::escalated, E::replacement_shipped);
    check_refused(orderly::next_ticket_state(S::escalated, E::sent_to_repair,
                                             {.type = T::exchange, .escalated_from = S::inspected}),
                  S::escalated, E::sent_to_repair);
    // Goods already on their way back cannot be withdrawn.
    check_refused(orderly::next_ticket_state(S::escalated, E::withdrawn,
                                             {.escalated_from = S::goods_received}),
                  S::escalated, E::withdrawn);
    // A return escalated while in transit does not expire afterwards.
    for (const bool in_transit : {false, true}) {
        check_refused(orderly::next_ticket_state(
                          S::escalated, E::return_expired,
                          {.escalated_from = S::awaiting_return, .return_in_transit = in_transit}),
                      S::escalated, E::return_expired);
    }
}

TEST_CASE("a deadline escalates the late steps, and a second one keeps it escalated") {
    for (const bool in_transit : {false, true}) {
        CAPTURE(in_transit);
        for (const auto from : orderly::all_ticket_states) {
            CAPTURE(to_string(from));
            const auto r = orderly::next_ticket_state(from, E::deadline_passed,
                                                      {.return_in_transit = in_transit});
            const bool late = one_of(from, {S::under_review, S::goods_received, S::inspected,
                                            S::at_repair, S::escalated}) ||
                              (from == S::awaiting_return && in_transit);
            if (late) {
                REQUIRE(r.has_value());
                CHECK(*r == S::escalated);
            } else {
                check_refused(r, from, E::deadline_passed);
            }
        }
    }
    for (const auto origin : orderly::all_ticket_states) {
        const auto again = orderly::next_ticket_state(S::escalated, E::deadline_passed,
                                                      {.escalated_from = origin});
        REQUIRE(again.has_value());
        CHECK(*again == S::escalated);
    }
}

TEST_CASE("a return in transit holds the ticket open instead of expiring") {
    for (const auto type : {T::return_and_refund, T::exchange, T::repair}) {
        CAPTURE(to_string(type));
        const ticket_facts waiting{.type = type, .return_in_transit = false};
        const ticket_facts moving{.type = type, .return_in_transit = true};

        const auto expired =
            orderly::next_ticket_state(S::awaiting_return, E::return_expired, waiting);
        REQUIRE(expired.has_value());
        CHECK(*expired == S::closed);
        check_refused(orderly::next_ticket_state(S::awaiting_return, E::deadline_passed, waiting),
                      S::awaiting_return, E::deadline_passed);
        check_refused(orderly::next_ticket_state(S::awaiting_return, E::refund_issued, waiting),
                      S::awaiting_return, E::refund_issued);

        check_refused(orderly::next_ticket_state(S::awaiting_return, E::return_expired, moving),
                      S::awaiting_return, E::return_expired);
        const auto late =
            orderly::next_ticket_state(S::awaiting_return, E::deadline_passed, moving);
        REQUIRE(late.has_value());
        CHECK(*late == S::escalated);
        // The carrier lost the return: refunded without the goods.
        const auto lost = orderly::next_ticket_state(S::awaiting_return, E::refund_issued, moving);
        REQUIRE(lost.has_value());
        CHECK(*lost == S::refunded);
        // It may still arrive.
        const auto arrived =
            orderly::next_ticket_state(S::awaiting_return, E::goods_received, moving);
        REQUIRE(arrived.has_value());
        CHECK(*arrived == S::goods_received);
    }
    const auto r = orderly::next_ticket_state(S::awaiting_return, E::return_expired,
                                              {.return_in_transit = true});
    REQUIRE(r.has_error());
    CHECK(r.error().message ==
          "event 'return_expired' is not allowed in state 'awaiting_return' with these facts");
}

TEST_CASE("an unrepairable item goes back to inspection, then is refunded or replaced") {
    const auto back =
        orderly::next_ticket_state(S::at_repair, E::repair_failed, {.type = T::repair});
    REQUIRE(back.has_value());
    CHECK(*back == S::inspected);
    for (const auto type : orderly::all_ticket_types) {
        for (const bool failed : {false, true}) {
            CAPTURE(to_string(type));
            CAPTURE(failed);
            const ticket_facts facts{.type = type, .repair_failed = failed};
            const auto replaced =
                orderly::next_ticket_state(S::inspected, E::replacement_shipped, facts);
            if (type == T::exchange || (type == T::repair && failed)) {
                REQUIRE(replaced.has_value());
                CHECK(*replaced == S::replacement_shipped);
            } else {
                check_refused(replaced, S::inspected, E::replacement_shipped);
            }
            const auto refunded = orderly::next_ticket_state(S::inspected, E::refund_issued, facts);
            REQUIRE(refunded.has_value());
            CHECK(*refunded == S::refunded);
        }
    }
    // repair_failed only from at_repair (or escalated from it).
    for (const auto from : orderly::all_ticket_states) {
        if (from != S::at_repair && from != S::escalated) {
            check_refused(orderly::next_ticket_state(from, E::repair_failed, {.type = T::repair}),
                          from, E::repair_failed);
        }
    }
}

TEST_CASE("inspection may refuse every unit: inspected -> rejected, for every type") {
    for (const auto type : orderly::all_ticket_types) {
        CAPTURE(to_string(type));
        const auto r = orderly::next_ticket_state(S::inspected, E::rejected, {.type = type});
        REQUIRE(r.has_value());
        CHECK(*r == S::rejected);
    }
    check_refused(orderly::next_ticket_state(S::goods_received, E::rejected, {}), S::goods_received,
                  E::rejected);
}

TEST_CASE("refund_issued: from approved for refund only, from inspected for every type") {
    for (const auto type : orderly::all_ticket_types) {
        CAPTURE(to_string(type));
        const auto after_approval =
            orderly::next_ticket_state(S::approved, E::refund_issued, {.type = type});
        if (type == T::refund_only) {
            REQUIRE(after_approval.has_value());
            CHECK(*after_approval == S::refunded);
        } else {
            check_refused(after_approval, S::approved, E::refund_issued);
        }
        const auto after_inspection =
            orderly::next_ticket_state(S::inspected, E::refund_issued, {.type = type});
        REQUIRE(after_inspection.has_value());
        CHECK(*after_inspection == S::refunded);
    }
}

TEST_CASE("submitted is never accepted, rejected, closed and withdrawn accept nothing") {
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_ticket_states) {
            check_refused(orderly::next_ticket_state(from, E::submitted, facts), from,
                          E::submitted);
        }
        for (const auto from : {S::rejected, S::closed, S::withdrawn}) {
            for (const auto event : orderly::all_ticket_events) {
                check_refused(orderly::next_ticket_state(from, event, facts), from, event);
            }
        }
    }
}

TEST_CASE("a ticket refusal names the event and the state") {
    const auto no_row = orderly::next_ticket_state(S::goods_received, E::withdrawn, {});
    REQUIRE(no_row.has_error());
    CHECK(no_row.error().code == errc::transition_not_allowed);
    CHECK(no_row.error().field == "state");
    CHECK(no_row.error().message == "event 'withdrawn' is not allowed in state 'goods_received'");

    const auto guarded =
        orderly::next_ticket_state(S::inspected, E::sent_to_repair, {.type = T::exchange});
    REQUIRE(guarded.has_error());
    CHECK(guarded.error().code == errc::transition_not_allowed);
    CHECK(guarded.error().field == "state");
    CHECK(guarded.error().message ==
          "event 'sent_to_repair' is not allowed in state 'inspected' with these facts");
}

TEST_CASE("ticket values outside the enums are bad input, not refusals") {
    for (const int value : {0, 17, 255}) {
        CAPTURE(value);
        const auto bad_event =
            orderly::next_ticket_state(S::inspected, static_cast<ticket_event>(value), {});
        REQUIRE(bad_event.has_error());
        CHECK(bad_event.error().code == errc::invalid_value);
        CHECK(bad_event.error().field == "event");
    }
    for (const int value : {0, 15, 255}) {
        CAPTURE(value);
        const auto bad_state =
            orderly::next_ticket_state(static_cast<ticket_state>(value), E::withdrawn, {});
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
    for (const int value : {0, 5, 255}) {
        CAPTURE(value);
        const ticket_facts facts{.type = static_cast<ticket_type>(value)};
        // Whether the event would be accepted (any type may be refunded after
        // inspection) or refused, a bad type is reported as such.
        for (const auto event : {E::refund_issued, E::replacement_shipped, E::closed}) {
            CAPTURE(to_string(event));
            const auto bad_type = orderly::next_ticket_state(S::inspected, event, facts);
            REQUIRE(bad_type.has_error());
            CHECK(bad_type.error().code == errc::invalid_value);
            CHECK(bad_type.error().field == "type");
        }
    }
    // A bad state is reported before a bad event, and a bad event before a bad type.
    const ticket_facts bad_facts{.type = static_cast<ticket_type>(0)};
    const auto all_bad = orderly::next_ticket_state(static_cast<ticket_state>(0),
                                                    static_cast<ticket_event>(0), bad_facts);
    REQUIRE(all_bad.has_error());
    CHECK(all_bad.error().field == "state");
    const auto event_and_type =
        orderly::next_ticket_state(S::submitted, static_cast<ticket_event>(0), bad_facts);
    REQUIRE(event_and_type.has_error());
    CHECK(event_and_type.error().field == "event");
}

TEST_CASE("stored ticket values never change (they are not MSM's ids)") {
    for (std::size_t i = 0; i < orderly::all_ticket_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_ticket_states[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(S::submitted) == 1);
    CHECK(static_cast<int>(S::approved) == 3);
    CHECK(static_cast<int>(S::awaiting_return) == 5);
    CHECK(static_cast<int>(S::closed) == 12);
    CHECK(static_cast<int>(S::escalated) == 14);
    for (std::size_t i = 0; i < orderly::all_ticket_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_ticket_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::submitted) == 1);
    CHECK(static_cast<int>(E::deadline_passed) == 7);
    CHECK(static_cast<int>(E::return_expired) == 15);
    CHECK(static_cast<int>(E::repair_failed) == 16);
    for (std::size_t i = 0; i < orderly::all_ticket_types.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_ticket_types[i]) == static_cast<int>(i) + 1);
    }
}

TEST_CASE("a ticket machine restored at each state moves from that state") {
    // One legal step out of each state that has one proves the stored value
    // was restored as that state; each answer must be an enum value.
    struct probe {
        ticket_state from;
        ticket_event event;
        ticket_state to;
    };
    const std::array<probe, 12> probes = {{
        {S::submitted, E::review_requested, S::under_review},
        {S::under_review, E::rejected, S::rejected},
        {S::approved, E::withdrawn, S::withdrawn},
        {S::awaiting_return, E::return_expired, S::closed},
        {S::goods_received, E::inspected, S::inspected},
        {S::inspected, E::refund_issued, S::refunded},
        {S::refunded, E::closed, S::closed},
        {S::replacement_shipped, E::closed, S::closed},
        {S::at_repair, E::repaired_shipped, S::repaired_shipped},
        {S::at_repair, E::repair_failed, S::inspected},
        {S::repaired_shipped, E::closed, S::closed},
        {S::escalated, E::deadline_passed, S::escalated},
    }};
    for (const auto& p : probes) {
        CAPTURE(to_string(p.from));
        const auto r = orderly::next_ticket_state(p.from, p.event, {});
        REQUIRE(r.has_value());
        CHECK(*r == p.to);
    }
    // Every answer is one of the enum's values.
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_ticket_states) {
            for (const auto event : orderly::all_ticket_events) {
                const auto r = orderly::next_ticket_state(from, event, facts);
                if (r.has_value()) {
                    CHECK(std::find(orderly::all_ticket_states.begin(),
                                    orderly::all_ticket_states.end(),
                                    *r) != orderly::all_ticket_states.end());
                }
            }
        }
    }
}

TEST_CASE("the ticket rows are R-25's table, in table order") {
    const std::vector<transition_row> expected = {
        {"submitted", "auto_approved", "approved", "refund_only"},
        {"submitted", "auto_approved", "awaiting_return", "not refund_only"},
        {"submitted", "review_requested", "under_review", ""},
        {"submitted", "withdrawn", "withdrawn", ""},
        {"under_review", "approved", "approved", "refund_only"},
        {"under_review", "approved", "awaiting_return", "not refund_only"},
        {"under_review", "rejected", "rejected", ""},
        {"under_review", "withdrawn", "withdrawn", ""},
        {"under_review", "deadline_passed", "escalated", ""},
        {"approved", "refund_issued", "refunded", "refund_only"},
        {"approved", "withdrawn", "withdrawn", ""},
        {"awaiting_return", "goods_received", "goods_received", ""},
        {"awaiting_return", "return_expired", "closed", "not return_in_transit"},
        {"awaiting_return", "deadline_passed", "escalated", "return_in_transit"},
        {"awaiting_return", "refund_issued", "refunded", "return_in_transit"},
        {"awaiting_return", "withdrawn", "withdrawn", ""},
        {"goods_received", "inspected", "inspected", ""},
        {"goods_received", "deadline_passed", "escalated", ""},
        {"inspected", "refund_issued", "refunded", ""},
        {"inspected", "replacement_shipped", "replacement_shipped", "exchange"},
        {"inspected", "replacement_shipped", "replacement_shipped", "repair and repair_failed"},
        {"inspected", "sent_to_repair", "at_repair", "repair"},
        {"inspected", "rejected", "rejected", ""},
        {"inspected", "deadline_passed", "escalated", ""},
        {"at_repair", "repaired_shipped", "repaired_shipped", ""},
        {"at_repair", "repair_failed", "inspected", ""},
        {"at_repair", "deadline_passed", "escalated", ""},
        {"refunded", "closed", "closed", ""},
        {"replacement_shipped", "closed", "closed", ""},
        {"repaired_shipped", "closed", "closed", ""},
        {"escalated", "approved", "approved", "refund_only and escalated_from == under_review"},
        {"escalated", "approved", "awaiting_return",
         "not refund_only and escalated_from == under_review"},
        {"escalated", "rejected", "rejected", "escalated_from == under_review"},
        {"escalated", "withdrawn", "withdrawn", "escalated_from == under_review"},
        {"escalated", "goods_received", "goods_received", "escalated_from == awaiting_return"},
        {"escalated", "refund_issued", "refunded", "escalated_from == awaiting_return"},
        {"escalated", "withdrawn", "withdrawn", "escalated_from == awaiting_return"},
        {"escalated", "inspected", "inspected", "escalated_from == goods_received"},
        {"escalated", "refund_issued", "refunded", "escalated_from == inspected"},
        {"escalated", "replacement_shipped", "replacement_shipped",
         "exchange and escalated_from == inspected"},
        {"escalated", "replacement_shipped", "replacement_shipped",
         "repair and repair_failed and escalated_from == inspected"},
        {"escalated", "sent_to_repair", "at_repair", "repair and escalated_from == inspected"},
        {"escalated", "rejected", "rejected", "escalated_from == inspected"},
        {"escalated", "repaired_shipped", "repaired_shipped", "escalated_from == at_repair"},
        {"escalated", "repair_failed", "inspected", "escalated_from == at_repair"},
        {"escalated", "deadline_passed", "escalated", ""},
    };
    const auto rows = orderly::ticket_machine_rows();
    REQUIRE(rows.size() == 46);
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i] == expected[i]);
    }
}

TEST_CASE("each ticket row is what the machine does when its guard holds") {
    for (const auto& row : orderly::ticket_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CAPTURE(row.guard);
        // A guard is one condition or several joined by " and ".
        ticket_facts facts{};
        std::string_view rest = row.guard;
        while (!rest.empty()) {
            const auto cut = rest.find(" and ");
            const std::string_view part = rest.substr(0, cut);
            rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 5);
            if (part == "not refund_only") {
                facts.type = T::return_and_refund;
            } else if (part == "return_in_transit") {
                facts.return_in_transit = true;
            } else if (part == "not return_in_transit") {
                facts.return_in_transit = false;
            } else if (part == "repair_failed") {
                facts.repair_failed = true;
            } else if (part.starts_with("escalated_from == ")) {
                facts.escalated_from =
                    named(orderly::all_ticket_states, std::string(part.substr(18)));
            } else {
                facts.type = named(orderly::all_ticket_types, std::string(part));
            }
        }
        const auto r =
            orderly::next_ticket_state(named(orderly::all_ticket_states, row.from),
                                       named(orderly::all_ticket_events, row.event), facts);
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_ticket_state gives the same answers from 4 threads at once") {
    const auto facts = all_facts();
    auto answer_all = [&facts] {
        std::vector<std::string> answers;
        // One pass: 224 fact combinations already make 50,176 calls a thread.
        answers.reserve(facts.size() * 14 * 16);
        for (const auto& f : facts) {
            for (const auto from : orderly::all_ticket_states) {
                for (const auto event : orderly::all_ticket_events) {
                    answers.push_back(describe(orderly::next_ticket_state(from, event, f)));
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
