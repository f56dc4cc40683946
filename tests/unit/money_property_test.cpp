// Seeded randomized tests of money's invariants: allocation, text round trip,
// rounding, multiplication. A failure prints the seed and the case; rerun with
// the same seed to reproduce it.
#include <orderly/core/money.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using orderly::money;
using orderly::rate;
using orderly::rounding;
namespace currencies = orderly::currencies;

namespace {

using amount = money::amount_type;
using orderly::detail::int128;

constexpr std::uint64_t seed = 0x6f72'6465'726c'7921ULL;  // "orderly!"
constexpr int cases = 4000;

const amount max_amount = std::numeric_limits<amount>::max();

// A random amount from one of several ranges: tiny, 64-bit, full 128-bit, and
// within a small distance of the largest amount; either sign.
amount random_amount(std::mt19937_64& random) {
    std::uniform_int_distribution<int> kind(0, 3);
    std::uniform_int_distribution<std::uint64_t> bits;
    amount value;
    switch (kind(random)) {
        case 0:
            value = bits(random) % 100'000;
            break;
        case 1:
            value = bits(random) >> (bits(random) % 64);
            break;
        case 2: {
            value = bits(random) >> (bits(random) % 64);
            value <<= 64;
            value += bits(random);
            break;
        }
        default:
            value = max_amount - (bits(random) % 1'000'000);
            break;
    }
    return bits(random) % 2 == 0 ? value : amount(-value);
}

orderly::currency random_currency(std::mt19937_64& random) {
    static constexpr std::array<orderly::currency, 6> some{currencies::CNY, currencies::USD,
                                                           currencies::JPY, currencies::KWD,
                                                           currencies::CLF, currencies::KRW};
    return some[std::uniform_int_distribution<std::size_t>(0, some.size() - 1)(random)];
}

// Random non-negative weights, not all zero: small ones, zeros, or huge ones.
std::vector<std::int64_t> random_weights(std::mt19937_64& random) {
    std::uniform_int_distribution<std::size_t> count(1, 12);
    std::uniform_int_distribution<int> kind(0, 2);
    std::uniform_int_distribution<std::int64_t> small(0, 10);
    std::uniform_int_distribution<std::int64_t> huge(0, std::numeric_limits<std::int64_t>::max());
    const int chosen = kind(random);
    std::vector<std::int64_t> weights(count(random));
    for (auto& weight : weights) {
        weight = chosen == 0 ? small(random) : chosen == 1 ? small(random) % 2 : huge(random);
    }
    weights[std::uniform_int_distribution<std::size_t>(0, weights.size() - 1)(random)] += 1;
    return weights;
}

amount sum_of(const std::vector<money>& parts) {
    amount total = 0;
    for (const money& part : parts) {
        total += part.amount_minor();
    }
    return total;
}

// numerator / denominator rounded by `mode`, derived independently from the
// floor: the distance of the exact value above it, doubled, against 1.
std::int64_t reference_rounded(std::int64_t numerator, std::int64_t denominator, rounding mode) {
    const int128 n = numerator;
    const int128 d = denominator;
    int128 low = n / d;
    if (n % d != 0 && n < 0) {
        low -= 1;  // floor
    }
    const int128 above = n - low * d;  // in [0, d)
    if (above == 0) {
        return static_cast<std::int64_t>(low);
    }
    const bool positive = n > 0;
    const int128 twice = 2 * above;
    int128 chosen = low;
    switch (mode) {
        case rounding::floor:
            chosen = low;
            break;
        case rounding::ceiling:
            chosen = low + 1;
            break;
        case rounding::toward_zero:
            chosen = positive ? low : low + 1;
            break;
        case rounding::away_from_zero:
            chosen = positive ? low + 1 : low;
            break;
        case rounding::half_up:
            chosen = twice > d || (twice == d && positive) ? low + 1 : low;
            break;
        case rounding::half_down:
            chosen = twice > d || (twice == d && !positive) ? low + 1 : low;
            break;
        case rounding::half_even:
            chosen = twice > d || (twice == d && low % 2 != 0) ? low + 1 : low;
            break;
    }
    return static_cast<std::int64_t>(chosen);
}

}  // namespace

TEST_CASE("allocated parts always sum to the whole and follow the largest-remainder rules") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed);
    for (int i = 0; i < cases; ++i) {
        const money whole = money::from_minor(random_amount(random), random_currency(random));
        const std::vector<std::int64_t> weights = random_weights(random);
        CAPTURE(i);
        CAPTURE(whole.to_string());
        CAPTURE(fmt::format("{}", fmt::join(weights, ",")));
        const auto parts = whole.allocate(weights);
        REQUIRE(parts.has_value());
        REQUIRE(parts->size() == weights.size());
        CHECK(sum_of(*parts) == whole.amount_minor());

        // Each part is the floor or the ceiling of its exact share, never of
        // the other sign, zero for a zero weight, and in the whole's currency.
        amount total_weight = 0;
        for (const std::int64_t weight : weights) {
            total_weight += weight;
        }
        using wide = orderly::detail::money_wide;
        const wide magnitude = boost::multiprecision::abs(wide(whole.amount_minor()));
        for (std::size_t k = 0; k < weights.size(); ++k) {
            const money& part = (*parts)[k];
            CHECK(part.currency() == whole.currency());
            const wide floor_share = magnitude * weights[k] / wide(total_weight);
            const wide part_magnitude = boost::multiprecision::abs(wide(part.amount_minor()));
            CHECK((part_magnitude == floor_share || part_magnitude == floor_share + 1));
            if (!whole.is_negative()) {
                CHECK_FALSE(part.is_negative());
            } else {
                CHECK_FALSE(part.is_positive());
            }
            if (weights[k] == 0) {
                CHECK(part.is_zero());
            }
        }

        // Parts of -x are the negations of the parts of x.
        const auto opposite = whole.negated().allocate(weights);
        REQUIRE(opposite.has_value());
        for (std::size_t k = 0; k < weights.size(); ++k) {
            CHECK((*opposite)[k] == (*parts)[k].negated());
        }
    }
}

TEST_CASE("equal weights give parts at most one minor unit apart, as split does") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed + 1);
    std::uniform_int_distribution<std::size_t> count(1, 40);
    std::uniform_int_distribution<std::int64_t> weight(1, std::numeric_limits<std::int64_t>::max());
    for (int i = 0; i < cases; ++i) {
        const money whole = money::from_minor(random_amount(random), random_currency(random));
        const std::vector<std::int64_t> weights(count(random), weight(random));
        CAPTURE(i);
        CAPTURE(whole.to_string());
        CAPTURE(weights.size());
        CAPTURE(weights.front());
        const auto parts = whole.allocate(weights);
        REQUIRE(parts.has_value());
        CHECK(sum_of(*parts) == whole.amount_minor());
        amount smallest = (*parts)[0].amount_minor();
        amount largest = smallest;
        for (const money& part : *parts) {
            smallest = part.amount_minor() < smallest ? part.amount_minor() : smallest;
            largest = part.amount_minor() > largest ? part.amount_minor() : largest;
        }
        CHECK(largest - smallest <= 1);
        const auto split = whole.split(weights.size());
        REQUIRE(split.has_value());
        CHECK(*split == *parts);
    }
}

TEST_CASE("text round-trips for random amounts in several currencies, up to the 128-bit limit") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed + 2);
    for (int i = 0; i < cases; ++i) {
        const money original = money::from_minor(random_amount(random), random_currency(random));
        const std::string text = original.to_string();
        CAPTURE(i);
        CAPTURE(text);
        CHECK(text == fmt::format("{}", original));
        const auto back = money::parse(text);
        REQUIRE(back.has_value());
        CHECK(*back == original);
        // The digits after the point are exactly the currency's minor digits.
        const std::size_t point = text.find('.');
        const std::size_t space = text.find(' ');
        const int digits = original.currency().minor_digits();
        if (digits == 0) {
            CHECK(point == std::string::npos);
        } else {
            REQUIRE(point != std::string::npos);
            CHECK(space - point - 1 == static_cast<std::size_t>(digits));
        }
    }
    for (const amount& edge : {max_amount, amount(-max_amount), amount(0), amount(1), amount(-1)}) {
        for (const orderly::currency c : orderly::currency::all()) {
            const money original = money::from_minor(edge, c);
            CAPTURE(original.to_string());
            const auto back = money::parse(original.to_string());
            REQUIRE(back.has_value());
            CHECK(*back == original);
        }
    }
}

TEST_CASE("multiplying by the rate n/1 equals multiplying by n, in every mode") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed + 3);
    std::uniform_int_distribution<std::int64_t> factor(std::numeric_limits<std::int64_t>::min() + 1,
                                                       std::numeric_limits<std::int64_t>::max());
    std::uniform_int_distribution<std::int64_t> small_factor(-1000, 1000);
    for (int i = 0; i < cases; ++i) {
        const money price = money::from_minor(random_amount(random), random_currency(random));
        const std::int64_t n = i % 2 == 0 ? small_factor(random) : factor(random);
        CAPTURE(i);
        CAPTURE(price.to_string());
        CAPTURE(n);
        const auto as_rate = rate::ratio(n, 1);
        REQUIRE(as_rate.has_value());
        const auto by_integer = price.times(n);
        for (const rounding mode : orderly::all_roundings) {
            const auto by_rate = price.times(*as_rate, mode);
            REQUIRE(by_rate.has_value() == by_integer.has_value());
            if (by_integer) {
                CHECK(*by_rate == *by_integer);
            } else {
                CHECK(by_rate.error() == by_integer.error());
            }
        }
    }
}

TEST_CASE("multiplying by a rate rounds like an independent reference, on both paths") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed + 4);
    std::uniform_int_distribution<std::int64_t> amount_minor(-1'000'000'000'000, 1'000'000'000'000);
    std::uniform_int_distribution<std::int64_t> numerator(-1'000'000, 1'000'000);
    std::uniform_int_distribution<std::int64_t> denominator(1, 1'000'000);
    // Adding a multiple of the denominator beyond 64 bits takes the 256-bit path
    // and must shift the result by exactly that multiple.
    const amount shift = amount(1) << 64;
    for (int i = 0; i < cases; ++i) {
        const std::int64_t a = amount_minor(random);
        const std::int64_t n = numerator(random);
        const std::int64_t d =
            i % 3 == 0 ? 2 * (denominator(random) % 50 + 1) : denominator(random);
        const rate r = *rate::ratio(n, d);
        CAPTURE(i);
        CAPTURE(a);
        CAPTURE(r.to_string());
        const money price = money::from_minor(a, currencies::CNY);
        // Shifting away from zero keeps the exact value's sign, which the
        // sign-dependent modes (toward_zero, half_up, ...) depend on.
        const amount away = a < 0 ? amount(-shift) : shift;
        const money shifted =
            money::from_minor(amount(a) + away * r.denominator(), currencies::CNY);
        for (const rounding mode : orderly::all_roundings) {
            CAPTURE(mode);
            const std::int64_t expected =
                reference_rounded(a * r.numerator(), r.denominator(), mode);  // |a*n| < 2^60
            CHECK(price.times(r, mode)->amount_minor() == expected);
            CHECK(shifted.times(r, mode)->amount_minor() ==
                  amount(expected) + away * r.numerator());
        }
        // The directed modes bracket the nearest ones, one unit apart at most.
        const amount low = price.times(r, rounding::floor)->amount_minor();
        const amount high = price.times(r, rounding::ceiling)->amount_minor();
        CHECK(high - low <= 1);
        const amount even = price.times(r)->amount_minor();
        CHECK((low <= even && even <= high));
    }
}

TEST_CASE("sums and differences match 128-bit reference arithmetic") {
    INFO("seed = " << seed);
    std::mt19937_64 random(seed + 5);
    std::uniform_int_distribution<std::int64_t> value;
    for (int i = 0; i < cases; ++i) {
        const std::int64_t a = value(random);
        const std::int64_t b = value(random);
        CAPTURE(a);
        CAPTURE(b);
        const money x = money::from_minor(a, currencies::USD);
        const money y = money::from_minor(b, currencies::USD);
        CHECK(x.plus(y)->amount_minor() == amount(a) + amount(b));
        CHECK(x.minus(y)->amount_minor() == amount(a) - amount(b));
        CHECK(*x.plus(y)->minus(y) == x);
        CHECK((x < y) == (a < b));
        CHECK((x == y) == (a == b));
    }
}
