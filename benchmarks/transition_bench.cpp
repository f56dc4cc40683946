// What a lifecycle transition costs (DESIGN.md budget: tens of ns). The MSM
// machine behind next_order_state is constructed per call and restored at the
// stored state; the hand-written switch below answers the same questions with
// the same result type, so the gap between the two is the price of MSM plus
// the restore. Run on a release build (scripts/bench.sh).
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment_machine.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <cstddef>

namespace {

using orderly::order_event;
using orderly::order_guard_facts;
using orderly::order_state;
using orderly::result;
using S = order_state;
using E = order_event;

struct order_step {
    order_state from{S::pending_review};
    order_event event{E::review_approved};
    order_guard_facts facts;
};

/// One order's life with a failed payment attempt, a hold and a release:
/// every step legal, so the cycle exercises plain rows, a self-transition
/// and guarded rows.
std::array<order_step, 12> legal_cycle() {
    return {{
        {S::pending_review, E::review_approved, {}},
        {S::awaiting_payment, E::payment_failed, {}},
        {S::awaiting_payment, E::payment_captured, {}},
        {S::paid, E::held, {}},
        {S::on_hold, E::released, {.held_from = S::paid}},
        {S::paid, E::allocated, {}},
        {S::allocating, E::packed, {}},
        {S::packed, E::shipped, {}},
        {S::shipped, E::delivered, {}},
        {S::delivered, E::receipt_confirmed, {}},
        {S::completed, E::closed, {}},
        {S::pending_review, E::review_approved, {.cash_on_delivery = true}},
    }};
}

/// R-5 as the switch one would write without MSM, with the same refusal.
result<order_state> refuse(order_state from, order_event event) {
    return orderly::error{
        orderly::errc::transition_not_allowed, "state",
        fmt::format("event '{}' is not allowed in state '{}'", to_string(event), to_string(from))};
}

bool resumable(order_state s) {
    return s == S::pending_review || s == S::awaiting_payment || s == S::paid ||
           s == S::allocating || s == S::packed;
}

// Not inlined, like next_order_state (a call into the library): the two then
// differ only in what they do, not in where they are compiled.
[[gnu::noinline]] result<order_state> switch_next_order_state(order_state from, order_event event,
                                                              const order_guard_facts& facts) {
    if (event == E::held && resumable(from)) {
        return S::on_hold;
    }
    if (event == E::cancelled && (resumable(from) || from == S::on_hold)) {
        return S::cancelled;
    }
    switch (from) {
        case S::pending_review:
            if (event == E::review_approved) {
                return facts.cash_on_delivery ? S::paid : S::awaiting_payment;
            }
            if (event == E::review_rejected) {
                return S::cancelled;
            }
            break;
        case S::awaiting_payment:
            if (event == E::payment_captured) {
                return S::paid;
            }
            if (event == E::payment_failed) {
                return S::awaiting_payment;
            }
            if (event == E::payment_timed_out) {
                return S::cancelled;
            }
            break;
        case S::paid:
            if (event == E::allocated) {
                return S::allocating;
            }
            break;
        case S::allocating:
            if (event == E::packed) {
                return S::packed;
            }
            break;
        case S::packed:
            if (event == E::shipped) {
                return S::shipped;
            }
            break;
        case S::shipped:
            if (event == E::delivered) {
                return S::delivered;
            }
            break;
        case S::delivered:
            if (event == E::receipt_confirmed) {
                return S::completed;
            }
            break;
        case S::completed:
            if (event == E::closed) {
                return S::closed;
            }
            break;
        case S::on_hold:
            if (event == E::released && resumable(facts.held_from)) {
                return facts.held_from;
            }
            break;
        case S::closed:
        case S::cancelled:
            break;
    }
    return refuse(from, event);
}

void order_transition_msm(benchmark::State& state) {
    auto steps = legal_cycle();
    std::size_t i = 0;
    for (auto _ : state) {
        order_step& step = steps[i];
        benchmark::DoNotOptimize(step);
        auto next = orderly::next_order_state(step.from, step.event, step.facts);
        benchmark::DoNotOptimize(next);
        i = i + 1 == steps.size() ? 0 : i + 1;
    }
}
BENCHMARK(order_transition_msm);

void order_transition_switch(benchmark::State& state) {
    auto steps = legal_cycle();
    std::size_t i = 0;
    for (auto _ : state) {
        order_step& step = steps[i];
        benchmark::DoNotOptimize(step);
        auto next = switch_next_order_state(step.from, step.event, step.facts);
        benchmark::DoNotOptimize(next);
        i = i + 1 == steps.size() ? 0 : i + 1;
    }
}
BENCHMARK(order_transition_switch);

// A refusal builds its message (fmt::format, one allocation): the cost is
// there, not in the machine.
void order_transition_refused_msm(benchmark::State& state) {
    order_step step{S::pending_review, E::shipped, {}};
    for (auto _ : state) {
        benchmark::DoNotOptimize(step);
        auto next = orderly::next_order_state(step.from, step.event, step.facts);
        benchmark::DoNotOptimize(next);
    }
}
BENCHMARK(order_transition_refused_msm);

void order_transition_refused_switch(benchmark::State& state) {
    order_step step{S::pending_review, E::shipped, {}};
    for (auto _ : state) {
        benchmark::DoNotOptimize(step);
        auto next = switch_next_order_state(step.from, step.event, step.facts);
        benchmark::DoNotOptimize(next);
    }
}
BENCHMARK(order_transition_refused_switch);

void payment_transition_msm(benchmark::State& state) {
    using PS = orderly::payment_state;
    using PE = orderly::payment_event;
    struct payment_step {
        PS from{PS::pending};
        PE event{PE::authorization_succeeded};
        orderly::payment_guard_facts facts;
    };
    std::array<payment_step, 5> steps = {{
        {PS::pending, PE::authorization_succeeded, {}},
        {PS::authorized, PE::capture_succeeded, {}},
        {PS::captured, PE::refund_issued, {.refunds_everything = false}},
        {PS::partially_refunded, PE::refund_issued, {.refunds_everything = true}},
        {PS::authorized, PE::authorization_voided, {}},
    }};
    std::size_t i = 0;
    for (auto _ : state) {
        payment_step& step = steps[i];
        benchmark::DoNotOptimize(step);
        auto next = orderly::next_payment_state(step.from, step.event, step.facts);
        benchmark::DoNotOptimize(next);
        i = i + 1 == steps.size() ? 0 : i + 1;
    }
}
BENCHMARK(payment_transition_msm);

}  // namespace
