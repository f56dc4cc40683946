#include <orderly/core/order_number.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

using orderly::errc;
using orderly::order_number;
using orderly::order_number_generator;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::system_clock;

/// A fixed instant well inside the range: 2024-05-20T13:14:15.926Z.
const clock_type::time_point may_2024 =
    std::chrono::sys_days{std::chrono::year{2024} / std::chrono::May / 20} + 13h + 14min + 15s +
    926ms;

/// A generator for `node`; fails the test when it cannot be made.
order_number_generator generator(unsigned node) {
    auto made = order_number_generator::create(node);
    REQUIRE(made.has_value());
    return std::move(*made);
}

/// The next number; fails the test on a refusal.
order_number next(order_number_generator& g, clock_type::time_point now) {
    const auto number = g.next(now);
    REQUIRE(number.has_value());
    return *number;
}

/// A number with this value; fails the test when out of range.
order_number with_value(std::uint64_t value) {
    const auto number = order_number::from_value(value);
    REQUIRE(number.has_value());
    return *number;
}

/// Numbers one thread took from a shared generator, in the order it took them.
using taken = std::vector<order_number>;

/// `threads` threads each take `per_thread` numbers from `g`, at the time
/// `now()` gives.
template <class Now>
std::vector<taken> take_concurrently(order_number_generator& g, std::size_t threads,
                                     std::size_t per_thread, Now now) {
    std::vector<taken> results(threads);
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&g, &results, t, per_thread, now] {
            taken& mine = results[t];
            mine.reserve(per_thread);
            for (std::size_t i = 0; i < per_thread; ++i) {
                const auto number = g.next(now());
                if (number) {  // a refusal shows up as a short list
                    mine.push_back(*number);
                }
            }
        });
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    return results;
}

/// Each thread's numbers strictly increase, and no number appears twice.
/// Returns all numbers, sorted.
std::vector<order_number> check_increasing_and_unique(const std::vector<taken>& results,
                                                      std::size_t per_thread) {
    std::vector<order_number> all;
    for (const taken& mine : results) {
        CHECK(mine.size() == per_thread);
        CHECK(std::adjacent_find(mine.begin(), mine.end(), std::greater_equal<>{}) == mine.end());
        all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    return all;
}

}  // namespace

TEST_CASE("the Damm check digit matches the published example") {
    CHECK(orderly::detail::damm_check_digit("572") == 4);
    CHECK(orderly::detail::damm_check_digit("5724") == 0);
    for (std::size_t row = 0; row < 10; ++row) {
        CHECK(orderly::detail::damm_table[row][row] == 0);  // what makes appending work
    }
}

TEST_CASE("the printed form is pinned: 19 zero-padded digits and a check digit") {
    CHECK(order_number{}.to_string() == "00000000000000000000");
    CHECK(with_value(1).to_string() == "00000000000000000013");
    // 1 ms after the epoch, node 5, sequence 7.
    const order_number sample = with_value((1U << 22) | (5U << 12) | 7U);
    CHECK(sample.to_string() == "00000000000042147913");
    CHECK(with_value(order_number::max_value).to_string() == "92233720368547758077");
    CHECK(fmt::format("{}", sample) == "00000000000042147913");
    CHECK(fmt::format("[{:>22}]", sample) == "[  00000000000042147913]");
}

TEST_CASE("the check digit catches every single-digit error and adjacent transposition") {
    std::mt19937_64 random(20240520);
    std::size_t checked = 0;
    std::size_t missed = 0;
    for (int sample = 0; sample < 200; ++sample) {
        const std::string text = with_value(random() >> 1).to_string();
        REQUIRE(order_number::validate(text));
        for (std::size_t at = 0; at < text.size(); ++at) {
            for (char digit = '0'; digit <= '9'; ++digit) {
                if (digit == text[at]) {
                    continue;
                }
                std::string typo = text;
                typo[at] = digit;
                ++checked;
                if (order_number::validate(typo)) {
                    ++missed;
                    FAIL_CHECK("substitution not caught: " << text << " -> " << typo);
                }
            }
            if (at + 1 < text.size() && text[at] != text[at + 1]) {
                std::string swapped = text;
                std::swap(swapped[at], swapped[at + 1]);
                ++checked;
                if (order_number::validate(swapped)) {
                    ++missed;
                    FAIL_CHECK("transposition not caught: " << text << " -> " << swapped);
                }
            }
        }
    }
    CHECK(missed == 0);
    CHECK(checked > 200 * 20 * 9);
}

TEST_CASE("parse and to_string round-trip") {
    std::mt19937_64 random(7);
    for (int i = 0; i < 1000; ++i) {
        const order_number number = with_value(random() >> 1);
        const auto parsed = order_number::parse(number.to_string());
        REQUIRE(parsed.has_value());
        CHECK(*parsed == number);
        CHECK(parsed->value() == number.value());
    }
    const auto zero = order_number::parse("00000000000000000000");
    REQUIRE(zero.has_value());
    CHECK(*zero == order_number{});
}

TEST_CASE("parse refuses malformed text and wrong check digits") {
    const auto refused = [](std::string_view text, errc code) {
        const auto parsed = order_number::parse(text);
        INFO(text);
        REQUIRE(parsed.has_error());
        CHECK(parsed.error().code == code);
        CHECK(parsed.error().field == "order_number");
        CHECK_FALSE(parsed.error().message.empty());
        CHECK_FALSE(order_number::validate(text));
    };
    refused("", errc::malformed);
    refused("0000000000004214791", errc::malformed);    // 19 digits
    refused("000000000000421479130", errc::malformed);  // 21 digits
    refused(" 0000000000042147913", errc::malformed);   // space
    refused("0000000000042147913 ", errc::malformed);
    refused("0000-000000042147913", errc::malformed);  // separator
    refused("0000000000042147913a", errc::malformed);
    refused("０００００００００００４２１４７９１３", errc::malformed);  // full-width digits
    refused("00000000000042147912", errc::checksum_mismatch);
    refused("00000000000041247913", errc::checksum_mismatch);
    // Check digit right, but above 2^63 - 1.
    const std::string too_large = "9999999999999999999";
    const auto check = orderly::detail::damm_check_digit(too_large);
    refused(too_large + static_cast<char>('0' + check), errc::malformed);

    const auto from_value = order_number::from_value(order_number::max_value + 1);
    REQUIRE(from_value.has_error());
    CHECK(from_value.error().code == errc::invalid_value);
    CHECK(from_value.error().field == "order_number");
}

TEST_CASE("text order, numeric order and time order agree") {
    std::mt19937_64 random(99);
    std::vector<order_number> numbers;
    for (int i = 0; i < 500; ++i) {
        numbers.push_back(with_value(random() >> (1 + random() % 40)));
    }
    std::sort(numbers.begin(), numbers.end());
    for (std::size_t i = 1; i < numbers.size(); ++i) {
        CHECK(numbers[i - 1].to_string() <= numbers[i].to_string());
        CHECK(numbers[i - 1].placed_at() <= numbers[i].placed_at());
    }
}

TEST_CASE("a generated number decodes to its time, node and sequence") {
    order_number_generator g = generator(37);
    CHECK(g.node() == 37);
    const order_number first = next(g, may_2024);
    CHECK(first.node() == 37);
    CHECK(first.sequence() == 0);
    CHECK(first.placed_at() == std::chrono::floor<std::chrono::milliseconds>(may_2024));
    const std::chrono::system_clock::time_point as_time_point = first.placed_at();
    CHECK(as_time_point == may_2024);

    const order_number second = next(g, may_2024);
    CHECK(second.sequence() == 1);
    CHECK(second.placed_at() == first.placed_at());
    CHECK(second > first);

    const order_number later = next(g, may_2024 + 1500us);  // rounds down to +1 ms
    CHECK(later.sequence() == 0);
    CHECK(later.placed_at() == first.placed_at() + 1ms);
    CHECK(std::hash<order_number>{}(later) == std::hash<std::uint64_t>{}(later.value()));
}

TEST_CASE("node ids outside 0..1023 are refused") {
    CHECK(order_number_generator::create(0).has_value());
    CHECK(order_number_generator::create(1023).has_value());
    for (const unsigned bad : {1024U, 5000U, static_cast<unsigned>(-1)}) {
        const auto made = order_number_generator::create(bad);
        REQUIRE(made.has_error());
        CHECK(made.error().code == errc::invalid_value);
        CHECK(made.error().field == "node");
    }
}

TEST_CASE("a clock going backwards keeps the last millisecond") {
    order_number_generator g = generator(1);
    const order_number first = next(g, may_2024);
    const order_number earlier = next(g, may_2024 - 10s);
    CHECK(earlier > first);
    CHECK(earlier.placed_at() == first.placed_at());
    CHECK(earlier.sequence() == first.sequence() + 1);
}

TEST_CASE("a millisecond's 4096 sequence numbers run out into the next millisecond") {
    order_number_generator g = generator(2);
    order_number previous = next(g, may_2024);
    for (unsigned i = 1; i <= order_number::max_sequence; ++i) {
        const order_number number = next(g, may_2024);
        REQUIRE(number > previous);
        previous = number;
    }
    CHECK(previous.sequence() == order_number::max_sequence);
    const order_number overflowed = next(g, may_2024);
    CHECK(overflowed.sequence() == 0);
    CHECK(overflowed.placed_at() == previous.placed_at() + 1ms);
    // When the real clock catches up, it goes on from the logical clock.
    const order_number caught_up = next(g, may_2024 + 1ms);
    CHECK(caught_up.sequence() == 1);
}

TEST_CASE("times before the epoch count as the epoch, times past 2089 are refused") {
    order_number_generator g = generator(3);
    const order_number at_epoch = next(g, clock_type::time_point{});  // 1970
    CHECK(at_epoch.placed_at() == orderly::order_number_epoch);
    CHECK(at_epoch.sequence() == 1);  // (0, 0) is never issued: the zero number stays free
    CHECK(at_epoch != order_number{});
    CHECK(next(g, clock_type::time_point::min()) > at_epoch);

    const auto last_instant =
        std::chrono::sys_time<std::chrono::milliseconds>(orderly::order_number_epoch) +
        std::chrono::milliseconds(order_number::max_milliseconds);
    for (const clock_type::time_point too_late :
         {clock_type::time_point(last_instant + 1ms), clock_type::time_point::max()}) {
        const auto refused = g.next(too_late);
        REQUIRE(refused.has_error());
        CHECK(refused.error().code == errc::overflow);
        CHECK(refused.error().field == "now");
    }
    // A refusal changes nothing.
    const order_number after = next(g, clock_type::time_point{});
    CHECK(after.sequence() == 3);

    const order_number at_last = next(g, last_instant);
    CHECK(at_last.placed_at() == last_instant);
}

TEST_CASE("a generator that issued its last number refuses more") {
    order_number_generator g = generator(4);
    g.resume_after(with_value(order_number::max_value));  // node 1023: needs a later ms
    const auto refused = g.next(may_2024);
    REQUIRE(refused.has_error());
    CHECK(refused.error().code == errc::overflow);
    CHECK(refused.error().field == "order_number");

    order_number_generator last_node = generator(1023);
    const order_number next_to_last = with_value(order_number::max_value - 1);
    last_node.resume_after(next_to_last);
    const order_number very_last = next(last_node, may_2024);
    CHECK(very_last.value() == order_number::max_value);
    CHECK(last_node.next(may_2024).has_error());
}

TEST_CASE("resume_after makes every later number greater than the stored one") {
    order_number_generator before_restart = generator(10);
    order_number stored{};
    for (int i = 0; i < 10000; ++i) {  // runs 2 ms ahead of the clock
        stored = next(before_restart, may_2024);
    }

    order_number_generator restarted = generator(10);
    restarted.resume_after(stored);
    const order_number resumed = next(restarted, may_2024);
    CHECK(resumed > stored);
    CHECK(resumed.node() == 10);
    CHECK(resumed.placed_at() == stored.placed_at());
    CHECK(resumed.sequence() == stored.sequence() + 1);

    // Resuming never moves a generator backwards.
    restarted.resume_after(with_value(1));
    CHECK(next(restarted, may_2024) > resumed);

    // A number of another node: the next numbers still sort after it.
    for (const unsigned node : {9U, 11U}) {
        order_number_generator other = generator(node);
        other.resume_after(stored);
        const order_number after = next(other, may_2024 - 1s);
        CHECK(after > stored);
        CHECK(after.node() == node);
    }
    order_number_generator lowest = generator(0);
    lowest.resume_after(order_number{});
    CHECK(next(lowest, clock_type::time_point{}) > order_number{});
}

TEST_CASE("4 threads x 50k numbers at one instant: strictly increasing, unique, dense") {
    constexpr std::size_t threads = 4;
    constexpr std::size_t per_thread = 50'000;
    order_number_generator g = generator(77);
    const auto results = take_concurrently(g, threads, per_thread, [] { return may_2024; });
    const std::vector<order_number> all = check_increasing_and_unique(results, per_thread);
    REQUIRE(all.size() == threads * per_thread);

    // One instant: the numbers are exactly the next 200k (ms, sequence) states,
    // running about 49 ms ahead of the clock.
    const auto state = [](order_number n) { return ((n.value() >> 22) << 12) | n.sequence(); };
    CHECK(all.front().placed_at() == std::chrono::floor<std::chrono::milliseconds>(may_2024));
    CHECK(all.front().sequence() == 0);
    CHECK(state(all.back()) - state(all.front()) == all.size() - 1);
    CHECK(std::all_of(all.begin(), all.end(), [](order_number n) { return n.node() == 77; }));
}

TEST_CASE("4 threads x 50k numbers at the real time: strictly increasing and unique") {
    constexpr std::size_t threads = 4;
    constexpr std::size_t per_thread = 50'000;
    order_number_generator g = generator(78);
    const auto start = clock_type::now();
    const auto results =
        take_concurrently(g, threads, per_thread, [] { return clock_type::now(); });
    const std::vector<order_number> all = check_increasing_and_unique(results, per_thread);
    REQUIRE_FALSE(all.empty());
    CHECK(all.front().placed_at() >= std::chrono::floor<std::chrono::milliseconds>(start));
}

TEST_CASE("generators of different nodes never issue the same number") {
    order_number_generator a = generator(1);
    order_number_generator b = generator(2);
    std::unordered_set<order_number> seen;
    for (int i = 0; i < 20'000; ++i) {
        const auto now = may_2024 + std::chrono::milliseconds(i / 3000);
        CHECK(seen.insert(next(a, now)).second);
        CHECK(seen.insert(next(b, now)).second);
    }
    CHECK(seen.size() == 40'000);
}
