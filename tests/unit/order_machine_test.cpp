// The order machine through its facade: every state × every event ×
// the guard facts that matter, against an expected table written here
// independently of the MSM table; the rows it reports; stable stored values;
// and the same answers from several threads.
#include <orderly/order/order_machine.hpp>

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
using orderly::order_event;
using orderly::order_guard_facts;
using orderly::order_state;
using orderly::result;
using orderly::transition_row;

namespace {

using orderly::test::check_refused;
using orderly::test::check_same_answers_from_threads;
using orderly::test::describe;
using orderly::test::named;

using S = order_state;
using E = order_event;

/// The states an order may be held in, and so the states `released` returns to.
bool resumable(order_state s) {
    return s == S::pending_review || s == S::awaiting_payment || s == S::paid ||
           s == S::allocating || s == S::packed;
}

/// R-5 restated as plain logic, not as a copy of the machine's table: what
/// the order becomes, or nothing when the event must be refused.
std::optional<order_state> expected_next(order_state from, order_event event,
                                         const order_guard_facts& facts) {
    switch (event) {
        case E::placed:
            return std::nullopt;
        case E::held:
            return resumable(from) ? std::optional(S::on_hold) : std::nullopt;
        case E::released:
            return from == S::on_hold && resumable(facts.held_from) ? std::optional(facts.held_from)
                                                                    : std::nullopt;
        case E::cancelled:
            return resumable(from) || from == S::on_hold ? std::optional(S::cancelled)
                                                         : std::nullopt;
        case E::review_approved:
            if (from != S::pending_review) {
                return std::nullopt;
            }
            return facts.cash_on_delivery ? S::paid : S::awaiting_payment;
        case E::refunded_in_full:
            // Everything refunded after it left: it ends without completing.
            return from == S::shipped || from == S::delivered ? std::optional(S::closed)
                                                              : std::nullopt;
        case E::ticket_opened:
            // The states that take tickets stay as they are.
            return from == S::shipped || from == S::delivered || from == S::completed
                       ? std::optional(from)
                       : std::nullopt;
        case E::payment_captured:
        case E::payment_failed:
            // A gateway result for an order held while it awaited payment.
            if (from == S::on_hold) {
                return facts.held_from == S::awaiting_payment ? std::optional(S::on_hold)
                                                              : std::nullopt;
            }
            break;
        default:
            break;
    }
    struct step {
        order_state from;
        order_event event;
        order_state to;
    };
    static constexpr std::array<step, 9> forward = {{
        {S::pending_review, E::review_rejected, S::cancelled},
        {S::awaiting_payment, E::payment_captured, S::paid},
        {S::awaiting_payment, E::payment_failed, S::awaiting_payment},
        {S::awaiting_payment, E::payment_timed_out, S::cancelled},
        {S::paid, E::allocated, S::allocating},
        {S::allocating, E::packed, S::packed},
        {S::packed, E::shipped, S::shipped},
        {S::shipped, E::delivered, S::delivered},
        {S::delivered, E::receipt_confirmed, S::completed},
    }};
    for (const auto& s : forward) {
        if (s.from == from && s.event == event) {
            return s.to;
        }
    }
    if (from == S::completed && event == E::closed) {
        return S::closed;
    }
    return std::nullopt;
}

/// Every combination of guard facts that changes an answer.
std::vector<order_guard_facts> all_facts() {
    std::vector<order_guard_facts> facts;
    for (const bool cod : {false, true}) {
        for (const auto held_from : orderly::all_order_states) {
            facts.push_back(order_guard_facts{.cash_on_delivery = cod, .held_from = held_from});
        }
    }
    return facts;
}

}  // namespace

TEST_CASE("every state × every event × guard facts matches R-5") {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_order_states) {
            for (const auto event : orderly::all_order_events) {
                CAPTURE(to_string(from));
                CAPTURE(to_string(event));
                CAPTURE(facts.cash_on_delivery);
                CAPTURE(to_string(facts.held_from));
                const auto r = orderly::next_order_state(from, event, facts);
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
    // 22 fact combinations × 11 states × 17 events; per combination 27 legal
    // pairs, plus one `released` when held_from is resumable (5 of 11), plus
    // payment_captured and payment_failed on hold when held_from is
    // awaiting_payment (1 of 11).
    CHECK(accepted + refused == 22 * 11 * 17);
    CHECK(accepted == 22 * 27 + 2 * 5 + 2 * 2);
}

TEST_CASE("review approval: cash on delivery skips awaiting_payment") {
    const auto card = orderly::next_order_state(S::pending_review, E::review_approved,
                                                {.cash_on_delivery = false});
    REQUIRE(card.has_value());
    CHECK(*card == S::awaiting_payment);

    const auto cod = orderly::next_order_state(S::pending_review, E::review_approved,
                                               {.cash_on_delivery = true});
    REQUIRE(cod.has_value());
    CHECK(*cod == S::paid);
}

TEST_CASE("release returns to the state the order was held in, and only there") {
    for (const auto held_from : orderly::all_order_states) {
        CAPTURE(to_string(held_from));
        const auto r = orderly::next_order_state(S::on_hold, E::released, {.held_from = held_from});
        if (resumable(held_from)) {
            REQUIRE(r.has_value());
            CHECK(*r == held_from);
        } else {
            check_refused(r, S::on_hold, E::released);
        }
    }
}

TEST_CASE("a failed payment keeps the order waiting") {
    const auto r = orderly::next_order_state(S::awaiting_payment, E::payment_failed, {});
    REQUIRE(r.has_value());
    CHECK(*r == S::awaiting_payment);
}

TEST_CASE("a full refund closes a shipped or delivered order without completing it") {
    for (const auto from : orderly::all_order_states) {
        CAPTURE(to_string(from));
        const auto r = orderly::next_order_state(from, E::refunded_in_full, {});
        if (from == S::shipped || from == S::delivered) {
            REQUIRE(r.has_value());
            CHECK(*r == S::closed);
        } else {
            // Before it ships a cancel refunds; after completion tickets do.
            check_refused(r, from, E::refunded_in_full);
        }
    }
}

TEST_CASE("a ticket leaves a shipped, delivered or completed order where it is") {
    for (const auto from : orderly::all_order_states) {
        CAPTURE(to_string(from));
        const auto r = orderly::next_order_state(from, E::ticket_opened, {});
        if (from == S::shipped || from == S::delivered || from == S::completed) {
            REQUIRE(r.has_value());
            CHECK(*r == from);
        } else {
            check_refused(r, from, E::ticket_opened);
        }
    }
}

TEST_CASE("a payment result keeps an order held from awaiting_payment on hold") {
    for (const auto event : {E::payment_captured, E::payment_failed}) {
        CAPTURE(to_string(event));
        for (const auto held_from : orderly::all_order_states) {
            CAPTURE(to_string(held_from));
            const auto r = orderly::next_order_state(S::on_hold, event, {.held_from = held_from});
            if (held_from == S::awaiting_payment) {
                REQUIRE(r.has_value());
                CHECK(*r == S::on_hold);
            } else {
                check_refused(r, S::on_hold, event);
            }
        }
    }
    const auto r =
        orderly::next_order_state(S::on_hold, E::payment_captured, {.held_from = S::paid});
    REQUIRE(r.has_error());
    CHECK(r.error().message ==
          "event 'payment_captured' is not allowed in state 'on_hold' with these facts");
}

TEST_CASE("placed is never accepted, closed and cancelled accept nothing") {
    for (const auto from : orderly::all_order_states) {
        check_refused(orderly::next_order_state(from, E::placed, {}), from, E::placed);
    }
    for (const auto from : {S::closed, S::cancelled}) {
        for (const auto event : orderly::all_order_events) {
            for (const auto& facts : all_facts()) {
                check_refused(orderly::next_order_state(from, event, facts), from, event);
            }
        }
    }
}

TEST_CASE("a refusal names the event and the state") {
    const auto r = orderly::next_order_state(S::pending_review, E::shipped, {});
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    CHECK(r.error().message == "event 'shipped' is not allowed in state 'pending_review'");
}

TEST_CASE("values outside the enums are bad input, not refusals") {
    const auto bad_event = orderly::next_order_state(S::paid, static_cast<order_event>(99), {});
    REQUIRE(bad_event.has_error());
    CHECK(bad_event.error().code == errc::invalid_value);
    CHECK(bad_event.error().field == "event");

    for (const auto raw : {0, 12, 255}) {
        const auto bad_state =
            orderly::next_order_state(static_cast<order_state>(raw), E::cancelled, {});
        REQUIRE(bad_state.has_error());
        CHECK(bad_state.error().code == errc::invalid_value);
        CHECK(bad_state.error().field == "state");
    }
}

TEST_CASE("stored state and event values never change (they are not MSM's ids)") {
    const std::array<int, 11> state_values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (std::size_t i = 0; i < orderly::all_order_states.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_order_states[i]) == state_values[i]);
    }
    CHECK(static_cast<int>(S::pending_review) == 1);
    CHECK(static_cast<int>(S::paid) == 3);
    CHECK(static_cast<int>(S::on_hold) == 10);
    CHECK(static_cast<int>(S::cancelled) == 11);
    for (std::size_t i = 0; i < orderly::all_order_events.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_order_events[i]) == static_cast<int>(i) + 1);
    }
    CHECK(static_cast<int>(E::placed) == 1);
    CHECK(static_cast<int>(E::cancelled) == 15);
    CHECK(static_cast<int>(E::refunded_in_full) == 16);
    CHECK(static_cast<int>(E::ticket_opened) == 17);
}

TEST_CASE("a state restored from its stored value reads back as the same value") {
    // Hold at each resumable state and release: the machine is restored at X,
    // moved to on_hold, restored at on_hold, and must hand back X itself,
    // not an index of MSM's.
    for (const auto from : orderly::all_order_states) {
        CAPTURE(to_string(from));
        const auto held = orderly::next_order_state(from, E::held, {});
        if (!resumable(from)) {
            CHECK(held.has_error());
            continue;
        }
        REQUIRE(held.has_value());
        CHECK(*held == S::on_hold);
        const auto back = orderly::next_order_state(*held, E::released, {.held_from = from});
        REQUIRE(back.has_value());
        CHECK(*back == from);
    }
    // Every answer is one of the enum's values.
    for (const auto& facts : all_facts()) {
        for (const auto from : orderly::all_order_states) {
            for (const auto event : orderly::all_order_events) {
                const auto r = orderly::next_order_state(from, event, facts);
                if (r.has_value()) {
                    CHECK(std::find(orderly::all_order_states.begin(),
                                    orderly::all_order_states.end(),
                                    *r) != orderly::all_order_states.end());
                }
            }
        }
    }
}

TEST_CASE("the rows are R-5's table, in table order") {
    const std::vector<transition_row> expected = {
        {"pending_review", "review_approved", "awaiting_payment", "not cash_on_delivery"},
        {"pending_review", "review_approved", "paid", "cash_on_delivery"},
        {"pending_review", "review_rejected", "cancelled", ""},
        {"awaiting_payment", "payment_captured", "paid", ""},
        {"awaiting_payment", "payment_failed", "awaiting_payment", ""},
        {"awaiting_payment", "payment_timed_out", "cancelled", ""},
        {"paid", "allocated", "allocating", ""},
        {"allocating", "packed", "packed", ""},
        {"packed", "shipped", "shipped", ""},
        {"shipped", "delivered", "delivered", ""},
        {"delivered", "receipt_confirmed", "completed", ""},
        {"completed", "closed", "closed", ""},
        {"shipped", "refunded_in_full", "closed", ""},
        {"delivered", "refunded_in_full", "closed", ""},
        {"shipped", "ticket_opened", "shipped", ""},
        {"delivered", "ticket_opened", "delivered", ""},
        {"completed", "ticket_opened", "completed", ""},
        {"pending_review", "held", "on_hold", ""},
        {"awaiting_payment", "held", "on_hold", ""},
        {"paid", "held", "on_hold", ""},
        {"allocating", "held", "on_hold", ""},
        {"packed", "held", "on_hold", ""},
        {"on_hold", "released", "pending_review", "held_from == pending_review"},
        {"on_hold", "released", "awaiting_payment", "held_from == awaiting_payment"},
        {"on_hold", "released", "paid", "held_from == paid"},
        {"on_hold", "released", "allocating", "held_from == allocating"},
        {"on_hold", "released", "packed", "held_from == packed"},
        {"on_hold", "payment_captured", "on_hold", "held_from == awaiting_payment"},
        {"on_hold", "payment_failed", "on_hold", "held_from == awaiting_payment"},
        {"pending_review", "cancelled", "cancelled", ""},
        {"awaiting_payment", "cancelled", "cancelled", ""},
        {"paid", "cancelled", "cancelled", ""},
        {"allocating", "cancelled", "cancelled", ""},
        {"packed", "cancelled", "cancelled", ""},
        {"on_hold", "cancelled", "cancelled", ""},
    };
    const auto rows = orderly::order_machine_rows();
    REQUIRE(rows.size() == 35);
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i].from == expected[i].from);
        CHECK(rows[i].event == expected[i].event);
        CHECK(rows[i].to == expected[i].to);
        CHECK(rows[i].guard == expected[i].guard);
    }
}

TEST_CASE("each row is what the machine does when its guard holds") {
    for (const auto& row : orderly::order_machine_rows()) {
        CAPTURE(row.from);
        CAPTURE(row.event);
        CAPTURE(row.guard);
        order_guard_facts facts{};
        if (row.guard == "cash_on_delivery") {
            facts.cash_on_delivery = true;
        } else if (row.guard.starts_with("held_from == ")) {
            facts.held_from = named(orderly::all_order_states, row.guard.substr(13));
        }
        const auto r =
            orderly::next_order_state(named(orderly::all_order_states, row.from),
                                      named(orderly::all_order_events, row.event), facts);
        CHECK(describe(r) == row.to);
    }
}

TEST_CASE("next_order_state gives the same answers from 4 threads at once") {
    const auto facts = all_facts();
    auto answer_all = [&facts] {
        std::vector<std::string> answers;
        answers.reserve(facts.size() * 11 * 17);
        for (int round = 0; round < 20; ++round) {
            answers.clear();
            for (const auto& f : facts) {
                for (const auto from : orderly::all_order_states) {
                    for (const auto event : orderly::all_order_events) {
                        answers.push_back(describe(orderly::next_order_state(from, event, f)));
                    }
                }
            }
        }
        return answers;
    };
    check_same_answers_from_threads(answer_all);
}
