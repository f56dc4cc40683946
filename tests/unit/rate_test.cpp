// Tests of rate.hpp and of rounding.hpp, whose modes rates are applied with.
#include <orderly/core/rate.hpp>
#include <orderly/core/rounding.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using orderly::errc;
using orderly::rate;
using orderly::rounding;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

rate ratio(std::int64_t numerator, std::int64_t denominator) {
    const auto made = rate::ratio(numerator, denominator);
    REQUIRE(made.has_value());
    return *made;
}

rate parsed(std::string_view text) {
    const auto made = rate::parse(text);
    REQUIRE_MESSAGE(made.has_value(), text);
    return *made;
}

// The refusal's code; checks the field is "rate".
errc refusal_of(const orderly::result<rate>& made) {
    REQUIRE(made.has_error());
    CHECK(made.error().field == "rate");
    CHECK_FALSE(made.error().message.empty());
    return made.error().code;
}

// One quotient (tenths) and what each mode makes of it, in the order of
// orderly::all_roundings: half_even, half_up, half_down, toward_zero,
// away_from_zero, floor, ceiling.
struct rounding_example {
    std::int64_t tenths;
    std::array<std::int64_t, 7> expected;
};

// clang-format off
constexpr std::array<rounding_example, 19> rounding_examples{{
    //  value     even up  down zero away floor ceil
    {  25, {{  2,   3,   2,   2,   3,   2,   3}}},  //  2.5 tie
    {  35, {{  4,   4,   3,   3,   4,   3,   4}}},  //  3.5 tie
    {  15, {{  2,   2,   1,   1,   2,   1,   2}}},  //  1.5 tie
    {   5, {{  0,   1,   0,   0,   1,   0,   1}}},  //  0.5 tie
    {  26, {{  3,   3,   3,   2,   3,   2,   3}}},  //  2.6
    {  24, {{  2,   2,   2,   2,   3,   2,   3}}},  //  2.4
    {  21, {{  2,   2,   2,   2,   3,   2,   3}}},  //  2.1
    {  29, {{  3,   3,   3,   2,   3,   2,   3}}},  //  2.9
    { -25, {{ -2,  -3,  -2,  -2,  -3,  -3,  -2}}},  // -2.5 tie
    { -35, {{ -4,  -4,  -3,  -3,  -4,  -4,  -3}}},  // -3.5 tie
    { -15, {{ -2,  -2,  -1,  -1,  -2,  -2,  -1}}},  // -1.5 tie
    {  -5, {{  0,  -1,   0,   0,  -1,  -1,   0}}},  // -0.5 tie
    { -26, {{ -3,  -3,  -3,  -2,  -3,  -3,  -2}}},  // -2.6
    { -24, {{ -2,  -2,  -2,  -2,  -3,  -3,  -2}}},  // -2.4
    { -21, {{ -2,  -2,  -2,  -2,  -3,  -3,  -2}}},  // -2.1
    { -29, {{ -3,  -3,  -3,  -2,  -3,  -3,  -2}}},  // -2.9
    {  30, {{  3,   3,   3,   3,   3,   3,   3}}},  //  3.0 exact
    { -30, {{ -3,  -3,  -3,  -3,  -3,  -3,  -3}}},  // -3.0 exact
    {   0, {{  0,   0,   0,   0,   0,   0,   0}}},  //  0
}};
// clang-format on

}  // namespace

TEST_CASE("every rounding mode rounds ties, fractions and negatives as documented") {
    for (const auto& example : rounding_examples) {
        for (std::size_t m = 0; m < orderly::all_roundings.size(); ++m) {
            const rounding mode = orderly::all_roundings[m];
            CAPTURE(example.tenths);
            CAPTURE(mode);
            CHECK(orderly::detail::divide_rounded<std::int64_t>(example.tenths, 10, mode) ==
                  example.expected[m]);
        }
    }
}

TEST_CASE("rounding a quotient exactly at the 64-bit limits does not overflow") {
    using orderly::detail::divide_rounded;
    CHECK(divide_rounded<std::int64_t>(int64_max, 2, rounding::half_even) == int64_max / 2 + 1);
    CHECK(divide_rounded<std::int64_t>(int64_min, 2, rounding::half_even) == int64_min / 2);
    CHECK(divide_rounded<std::int64_t>(int64_min + 1, int64_max, rounding::floor) == -1);
    CHECK(divide_rounded<std::int64_t>(int64_max, int64_max, rounding::ceiling) == 1);
    CHECK(divide_rounded<std::int64_t>(1, int64_max, rounding::away_from_zero) == 1);
    CHECK(divide_rounded<std::int64_t>(-1, int64_max, rounding::half_up) == 0);
}

TEST_CASE("rounding modes keep their names and stored numeric values") {
    CHECK(static_cast<int>(rounding::half_even) == 0);
    CHECK(static_cast<int>(rounding::half_up) == 1);
    CHECK(static_cast<int>(rounding::half_down) == 2);
    CHECK(static_cast<int>(rounding::toward_zero) == 3);
    CHECK(static_cast<int>(rounding::away_from_zero) == 4);
    CHECK(static_cast<int>(rounding::floor) == 5);
    CHECK(static_cast<int>(rounding::ceiling) == 6);
    CHECK(rounding{} == rounding::half_even);
    CHECK(fmt::format("{}", rounding::half_even) == "half_even");
    CHECK(fmt::format("{}", rounding::away_from_zero) == "away_from_zero");
    for (const rounding mode : orderly::all_roundings) {
        CAPTURE(mode);
        const auto read = orderly::parse_rounding(orderly::to_string(mode));
        REQUIRE(read.has_value());
        CHECK(*read == mode);
    }
}

TEST_CASE("an unknown rounding name is refused as malformed") {
    for (const std::string_view name : {"", "HALF_EVEN", "half even", "bankers", "half_even "}) {
        CAPTURE(name);
        const auto read = orderly::parse_rounding(name);
        REQUIRE(read.has_error());
        CHECK(read.error().code == errc::malformed);
        CHECK(read.error().field == "rounding");
    }
}

TEST_CASE("a rate parses from a plain decimal into its reduced fraction") {
    CHECK(parsed("0.065") == ratio(13, 200));
    CHECK(parsed("0.065").numerator() == 13);
    CHECK(parsed("0.065").denominator() == 200);
    CHECK(parsed("12") == ratio(12, 1));
    CHECK(parsed("-1.5") == ratio(-3, 2));
    CHECK(parsed("0.50") == ratio(1, 2));
    CHECK(parsed("007.500") == ratio(15, 2));
    CHECK(parsed("0") == rate::zero());
    CHECK(parsed("-0") == rate::zero());
    CHECK(parsed("0.000") == rate::zero());
    CHECK(parsed("1") == rate::one());
    CHECK(parsed("9223372036854775807") == ratio(int64_max, 1));
    CHECK(parsed("0.000000000000000001") == ratio(1, 1'000'000'000'000'000'000));
    // Trailing zeros beyond any 64-bit denominator still reduce.
    CHECK(parsed("0.5000000000000000000000000000") == ratio(1, 2));
    // 2^-27 needs 27 digits after the point but only a 28-bit denominator.
    CHECK(parsed("0.000000007450580596923828125") == ratio(1, 134'217'728));
}

TEST_CASE("a rate parses from a fraction of integers") {
    CHECK(parsed("1/3") == ratio(1, 3));
    CHECK(parsed("-2/6") == ratio(-1, 3));
    CHECK(parsed("4/2") == ratio(2, 1));
    CHECK(parsed("0/5") == rate::zero());
    CHECK(parsed("9223372036854775807/9223372036854775807") == rate::one());
}

TEST_CASE("percent and per mille divide by 100 and 1000") {
    CHECK(*rate::percent("12.5") == ratio(1, 8));
    CHECK(*rate::percent("100") == rate::one());
    CHECK(*rate::percent("0.5") == ratio(1, 200));
    CHECK(*rate::percent("6.5") == parsed("0.065"));
    CHECK(*rate::percent("-20") == ratio(-1, 5));
    CHECK(*rate::percent("1/3") == ratio(1, 300));
    CHECK(*rate::per_mille("2.5") == ratio(1, 400));
    CHECK(*rate::per_mille("1000") == rate::one());
}

TEST_CASE("ratio reduces and moves the sign to the numerator") {
    CHECK(ratio(2, 4).numerator() == 1);
    CHECK(ratio(2, 4).denominator() == 2);
    CHECK(ratio(1, -2) == ratio(-1, 2));
    CHECK(ratio(-1, -2) == ratio(1, 2));
    CHECK(ratio(0, -7) == rate::zero());
    CHECK(ratio(0, -7).denominator() == 1);
    CHECK(ratio(int64_min, 2).numerator() == int64_min / 2);
    CHECK(ratio(int64_min, int64_min) == rate::one());
    CHECK(ratio(2, int64_min) == ratio(-1, -(int64_min / 2)));
    CHECK(rate() == rate::zero());
    CHECK(ratio(-3, 4).is_negative());
    CHECK(ratio(3, 1).is_integer());
    CHECK_FALSE(ratio(3, 2).is_integer());
    CHECK(rate::zero().is_zero());
}

TEST_CASE("a zero denominator is refused as division by zero") {
    CHECK(refusal_of(rate::ratio(5, 0)) == errc::division_by_zero);
    CHECK(refusal_of(rate::ratio(0, 0)) == errc::division_by_zero);
    CHECK(refusal_of(rate::parse("1/0")) == errc::division_by_zero);
    CHECK(refusal_of(rate::percent("3/000")) == errc::division_by_zero);
}

TEST_CASE("a rate that does not fit 64-bit terms is refused as overflow") {
    CHECK(refusal_of(rate::ratio(int64_min, 1)) == errc::overflow);
    CHECK(refusal_of(rate::ratio(1, int64_min)) == errc::overflow);
    CHECK(refusal_of(rate::parse("9223372036854775808")) == errc::overflow);
    CHECK(refusal_of(rate::parse("-9223372036854775808")) == errc::overflow);
    CHECK(refusal_of(rate::parse("0.0000000000000000001")) == errc::overflow);
    CHECK(refusal_of(rate::parse("1/9223372036854775808")) == errc::overflow);
    CHECK(refusal_of(rate::parse("0.0000000000000000000000000000001")) == errc::overflow);
    CHECK(refusal_of(rate::parse("123456789012345678901234567890123456789012")) == errc::overflow);
    CHECK(refusal_of(rate::percent("0.000000000000000001")) == errc::overflow);
}

TEST_CASE("text that is not a plain decimal or fraction is refused as malformed") {
    for (const std::string_view text :
         {" 0.5", "0.5 ",  "0. 5",  "1e5",   "1E5", "1e-3", "nan",   "NaN",   "inf", "-inf", "+1",
          ".5",   "5.",    "-",     "-.5",   "1,5", "0x10", "1..2",  "1.2.3", "--1", "1/-2", "1/",
          "/2",   "1.5/2", "1/2.5", "1/2/3", "½",   "12%",  "0,065", "\t1",   "1\n"}) {
        CAPTURE(text);
        CHECK(refusal_of(rate::parse(text)) == errc::malformed);
        CHECK(refusal_of(rate::percent(text)) == errc::malformed);
        CHECK(refusal_of(rate::per_mille(text)) == errc::malformed);
    }
    CHECK(refusal_of(rate::parse(std::string(rate::max_text_length + 1, '1'))) == errc::malformed);
}

TEST_CASE("empty rate text is refused as missing") {
    CHECK(refusal_of(rate::parse("")) == errc::missing_value);
    CHECK(refusal_of(rate::percent("")) == errc::missing_value);
    CHECK(refusal_of(rate::per_mille("")) == errc::missing_value);
}

TEST_CASE("a rate prints as a decimal when it terminates and as n/d otherwise") {
    CHECK(ratio(13, 200).to_string() == "0.065");
    CHECK(ratio(1, 8).to_string() == "0.125");
    CHECK(ratio(-3, 2).to_string() == "-1.5");
    CHECK(ratio(-1, 20).to_string() == "-0.05");
    CHECK(ratio(5, 1).to_string() == "5");
    CHECK(ratio(-5, 1).to_string() == "-5");
    CHECK(rate::zero().to_string() == "0");
    CHECK(ratio(1, 3).to_string() == "1/3");
    CHECK(ratio(-1, 3).to_string() == "-1/3");
    CHECK(ratio(7, 6).to_string() == "7/6");
    CHECK(ratio(1, 262'144).to_string() == "0.000003814697265625");  // 2^-18: 18 digits
    CHECK(ratio(1, 524'288).to_string() == "1/524288");              // 2^-19: 19 digits
    CHECK(ratio(1, 1'000'000'000'000'000'000).to_string() == "0.000000000000000001");
    CHECK(ratio(int64_max, 1'000'000'000'000'000'000).to_string() == "9.223372036854775807");
    CHECK(ratio(int64_max, 1).to_string() == "9223372036854775807");
    CHECK(fmt::format("{}", ratio(13, 200)) == "0.065");
    CHECK(fmt::format("[{:>6}]", ratio(1, 3)) == "[   1/3]");
}

TEST_CASE("a rate's text parses back to the same rate") {
    const std::uint64_t seed = 20240611;
    INFO("seed = " << seed);
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<int> exponent(0, 62);
    for (int i = 0; i < 5000; ++i) {
        // Mix small denominators, powers of 2 and 5 (terminating) and huge ones.
        const auto pick = [&](bool positive) {
            const std::int64_t limit = std::int64_t{1} << exponent(random);
            std::uniform_int_distribution<std::int64_t> value(positive ? 1 : -limit, limit);
            return value(random);
        };
        std::int64_t denominator = pick(true);
        switch (i % 4) {
            case 0:
                denominator = std::int64_t{1} << (i % 63);
                break;
            case 1:
                denominator = 1'000'000'000'000'000'000 / (std::int64_t{1} << (i % 19));
                break;
            default:
                break;
        }
        const auto made = rate::ratio(pick(false), denominator);
        REQUIRE(made.has_value());
        const std::string text = made->to_string();
        CAPTURE(text);
        const auto back = rate::parse(text);
        REQUIRE(back.has_value());
        CHECK(*back == *made);
    }
}

TEST_CASE("rates order by value") {
    CHECK(ratio(1, 3) < parsed("0.34"));
    CHECK(ratio(1, 3) > parsed("0.33"));
    CHECK(ratio(-1, 2) < rate::zero());
    CHECK(ratio(int64_max, int64_max - 1) > rate::one());
    CHECK(ratio(-int64_max, 1) < ratio(int64_max, 1));
    CHECK((ratio(2, 4) <=> ratio(1, 2)) == std::strong_ordering::equal);
    CHECK(*rate::percent("50") == parsed("0.5"));
}

TEST_CASE("rates add, subtract, multiply and invert exactly") {
    CHECK(*rate::one().plus(parsed("0.065")) == ratio(213, 200));
    CHECK(*rate::one().minus(ratio(1, 8)) == ratio(7, 8));
    CHECK(*ratio(1, 3).plus(ratio(1, 6)) == ratio(1, 2));
    CHECK(*ratio(1, 8).times(ratio(1, 2)) == ratio(1, 16));
    CHECK(*ratio(-2, 3).times(ratio(3, 4)) == ratio(-1, 2));
    CHECK(*ratio(1, 8).inverse() == ratio(8, 1));
    CHECK(*ratio(-2, 3).inverse() == ratio(-3, 2));
    CHECK(ratio(2, 3).negated() == ratio(-2, 3));
    CHECK(ratio(int64_max, 1).negated().numerator() == -int64_max);
    // The product of two large terms still reduces to a fitting rate.
    CHECK(*ratio(int64_max, 2).times(ratio(2, int64_max)) == rate::one());
}

TEST_CASE("rate arithmetic that leaves 64-bit terms is refused as overflow") {
    CHECK(refusal_of(ratio(int64_max, 1).plus(rate::one())) == errc::overflow);
    CHECK(refusal_of(ratio(-int64_max, 1).minus(rate::one())) == errc::overflow);
    CHECK(refusal_of(ratio(1, int64_max).times(ratio(1, 2))) == errc::overflow);
    CHECK(refusal_of(ratio(1, int64_max).plus(ratio(1, int64_max - 1))) == errc::overflow);
    CHECK(refusal_of(rate::zero().inverse()) == errc::division_by_zero);
}
