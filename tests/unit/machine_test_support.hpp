#pragma once
// What the state machine tests share: showing a result, checking a refusal,
// finding a state or event by its stable name (the generated diagrams' rows
// name them), and asking a facade from several threads at once.

#include <orderly/core/error.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

namespace orderly::test {

/// A result as text a failed CHECK can show: the state's name, or the refusal.
template <class State>
std::string describe(const result<State>& r) {
    if (r.has_value()) {
        return std::string(to_string(*r));
    }
    return "refused: " + r.error().message;
}

/// Checks a refusal: the code, the field, and a message naming both.
template <class State, class Event>
void check_refused(const result<State>& r, State from, Event event) {
    REQUIRE(r.has_error());
    CHECK(r.error().code == errc::transition_not_allowed);
    CHECK(r.error().field == "state");
    const std::string& message = r.error().message;
    // fmt rather than "'" + name + "'": GCC 12 at -O3 reports a false -Wrestrict there.
    CHECK(message.find(fmt::format("'{}'", to_string(event))) != std::string::npos);
    CHECK(message.find(fmt::format("'{}'", to_string(from))) != std::string::npos);
}

/// The value of `all` whose stable name is `name`; fails the test when none is.
template <class Enum, std::size_t N>
Enum named(const std::array<Enum, N>& all, const std::string& name) {
    const auto* found =
        std::find_if(all.begin(), all.end(), [&](Enum e) { return to_string(e) == name; });
    REQUIRE(found != all.end());
    return *found;
}

/// Runs `answer_all` (every answer a facade gives, as text) once, then on 4
/// threads at once, and checks that every thread saw the same answers: the
/// facades share no mutable state.
template <class AnswerAll>
void check_same_answers_from_threads(const AnswerAll& answer_all) {
    const std::vector<std::string> reference = answer_all();
    std::array<std::vector<std::string>, 4> per_thread;
    {
        std::vector<std::thread> threads;
        threads.reserve(per_thread.size());
        for (auto& slot : per_thread) {
            threads.emplace_back([&slot, &answer_all] { slot = answer_all(); });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    for (const auto& answers : per_thread) {
        CHECK(answers == reference);
    }
}

}  // namespace orderly::test
