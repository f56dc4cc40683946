#include <orderly/core/money.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using orderly::errc;
using orderly::money;
using orderly::quantity;
using orderly::rate;
using orderly::rounding;
namespace currencies = orderly::currencies;

namespace {

using amount = money::amount_type;

const amount max_amount = std::numeric_limits<amount>::max();  // 2^128 - 1

money parsed(std::string_view text) {
    const auto made = money::parse(text);
    REQUIRE_MESSAGE(made.has_value(), text);
    return *made;
}

money cny(std::int64_t fen) {
    return money::from_minor(fen, currencies::CNY);
}
money usd(std::int64_t cents) {
    return money::from_minor(cents, currencies::USD);
}

rate ratio(std::int64_t numerator, std::int64_t denominator) {
    const auto made = rate::ratio(numerator, denominator);
    REQUIRE(made.has_value());
    return *made;
}

// The refusal's code after checking its field.
template <class T>
errc refusal_of(const orderly::result<T>& made, std::string_view field) {
    REQUIRE(made.has_error());
    CHECK(made.error().field == field);
    CHECK_FALSE(made.error().message.empty());
    return made.error().code;
}

// Minor units of every part, for compact expectations.
std::vector<std::int64_t> minor_units_of(const orderly::result<std::vector<money>>& parts) {
    REQUIRE(parts.has_value());
    std::vector<std::int64_t> units;
    for (const money& part : *parts) {
        units.push_back(part.amount_minor().convert_to<std::int64_t>());
    }
    return units;
}

std::vector<std::int64_t> allocated(const money& whole, std::vector<std::int64_t> weights) {
    return minor_units_of(whole.allocate(weights));
}

}  // namespace

TEST_CASE("money holds minor units and a currency") {
    const money price = cny(1250);
    CHECK(price.amount_minor() == 1250);
    CHECK(price.currency() == currencies::CNY);
    CHECK(price.is_positive());
    CHECK_FALSE(price.is_negative());
    CHECK_FALSE(price.is_zero());

    const money nothing = money::zero(currencies::JPY);
    CHECK(nothing.is_zero());
    CHECK_FALSE(nothing.is_positive());
    CHECK_FALSE(nothing.is_negative());
    CHECK(nothing.currency() == currencies::JPY);

    CHECK(usd(-310).is_negative());
    CHECK(money::from_minor(max_amount, currencies::USD).amount_minor() == max_amount);
}

TEST_CASE("money parses an amount and a currency code") {
    CHECK(parsed("12.50 CNY") == cny(1250));
    CHECK(parsed("-3.10 USD") == usd(-310));
    CHECK(parsed("0.05 CNY") == cny(5));
    CHECK(parsed("-0.05 CNY") == cny(-5));
    CHECK(parsed("1000 JPY") == money::from_minor(1000, currencies::JPY));
    CHECK(parsed("-1 JPY") == money::from_minor(-1, currencies::JPY));
    CHECK(parsed("1.250 KWD") == money::from_minor(1250, currencies::KWD));
    CHECK(parsed("0.0001 CLF") == money::from_minor(1, currencies::CLF));
    CHECK(parsed("0 USD") == usd(0));
}

TEST_CASE("money parses fewer fraction digits than the currency has as trailing zeros") {
    CHECK(parsed("12.5 CNY") == cny(1250));
    CHECK(parsed("12 CNY") == cny(1200));
    CHECK(parsed("1.25 KWD") == money::from_minor(1250, currencies::KWD));
    CHECK(parsed("1 KWD") == money::from_minor(1000, currencies::KWD));
    CHECK(parsed("2.5 CLF") == money::from_minor(25000, currencies::CLF));
    CHECK(parsed("007.50 USD") == usd(750));
}

TEST_CASE("negative zero parses as zero") {
    const money zero = parsed("-0.00 USD");
    CHECK(zero.is_zero());
    CHECK_FALSE(zero.is_negative());
    CHECK(zero == money::zero(currencies::USD));
    CHECK(zero.to_string() == "0.00 USD");
}

TEST_CASE("money parses an amount alone in a given currency") {
    CHECK(*money::parse("12.50", currencies::CNY) == cny(1250));
    CHECK(*money::parse("-7", currencies::JPY) == money::from_minor(-7, currencies::JPY));
    CHECK(refusal_of(money::parse("", currencies::CNY), "amount") == errc::missing_value);
    CHECK(refusal_of(money::parse("12.50 CNY", currencies::CNY), "amount") == errc::malformed);
    CHECK(refusal_of(money::parse("1.5", currencies::JPY), "amount") == errc::malformed);
}

TEST_CASE("the largest and smallest amounts parse, and one unit more overflows") {
    CHECK(parsed("3402823669209384634633746074317682114.55 USD") ==
          money::from_minor(max_amount, currencies::USD));
    CHECK(parsed("-3402823669209384634633746074317682114.55 USD") ==
          money::from_minor(-max_amount, currencies::USD));
    CHECK(parsed("340282366920938463463374607431768211455 JPY") ==
          money::from_minor(max_amount, currencies::JPY));
    CHECK(refusal_of(money::parse("3402823669209384634633746074317682114.56 USD"), "amount") ==
          errc::overflow);
    CHECK(refusal_of(money::parse("-3402823669209384634633746074317682114.56 USD"), "amount") ==
          errc::overflow);
    CHECK(refusal_of(money::parse("340282366920938463463374607431768211456 JPY"), "amount") ==
          errc::overflow);
    CHECK(refusal_of(money::parse("99999999999999999999999999999999999999999 JPY"), "amount") ==
          errc::overflow);
    CHECK(refusal_of(money::parse("34028236692093846346337460743176821145.5 KWD"), "amount") ==
          errc::overflow);
}

TEST_CASE("empty money text is refused as a missing amount") {
    CHECK(refusal_of(money::parse(""), "amount") == errc::missing_value);
}

TEST_CASE("money text without a currency is refused as a missing currency") {
    CHECK(refusal_of(money::parse("12.50"), "currency") == errc::missing_value);
    CHECK(refusal_of(money::parse("12.50 "), "currency") == errc::missing_value);
    CHECK(refusal_of(money::parse("12.50CNY"), "currency") == errc::missing_value);
}

TEST_CASE("a malformed or unknown currency code in money text is refused") {
    CHECK(refusal_of(money::parse("12.50  CNY"), "currency") == errc::malformed);
    CHECK(refusal_of(money::parse("12.50 CNY "), "currency") == errc::malformed);
    CHECK(refusal_of(money::parse("12.50 cny"), "currency") == errc::malformed);
    CHECK(refusal_of(money::parse("12.50 CN"), "currency") == errc::malformed);
    CHECK(refusal_of(money::parse("12.50 ABC"), "currency") == errc::unknown_currency);
    CHECK(refusal_of(money::parse("12.50 XAU"), "currency") == errc::unknown_currency);
}

TEST_CASE("more fraction digits than the currency has are refused, not rounded") {
    for (const std::string_view text : {"1.5 JPY", "1.0 JPY", "1.234 USD", "0.001 CNY",
                                        "1.2345 KWD", "0.00001 CLF", "12.500 CNY"}) {
        CAPTURE(text);
        CHECK(refusal_of(money::parse(text), "amount") == errc::malformed);
    }
    const auto refused = money::parse("1.234 USD");
    REQUIRE(refused.has_error());
    CHECK(refused.error().message.find("USD") != std::string::npos);
}

TEST_CASE("an amount outside the decimal grammar is refused as malformed") {
    for (const std::string_view text :
         {" 12.50 CNY", "CNY 12.50",        " 1 USD",       "1e5 USD",      "1E5 USD",   "+1 USD",
          ".5 USD",     "5. USD",           "1,000.00 USD", "1.000,00 EUR", "- 1 USD",   "--1 USD",
          "1-1 USD",    "nan USD",          "inf USD",      "0x10 USD",     "1.2.3 USD", "- USD",
          "12.5O CNY",  "\xEF\xBC\x91 USD", "1\t USD",      "1_000 USD"}) {
        CAPTURE(text);
        CHECK(refusal_of(money::parse(text), "amount") == errc::malformed);
    }
    CHECK(refusal_of(money::parse(std::string(money::max_text_length - 3, '1') + " USD"),
                     "amount") == errc::malformed);
    CHECK(refusal_of(money::parse(std::string(money::max_text_length + 1, '1')), "amount") ==
          errc::malformed);
}

TEST_CASE("leading zeros within the length limit parse") {
    CHECK(parsed(std::string(40, '0') + "1.00 USD") == usd(100));
}

TEST_CASE("money prints every minor digit of its currency") {
    CHECK(cny(1250).to_string() == "12.50 CNY");
    CHECK(usd(-310).to_string() == "-3.10 USD");
    CHECK(money::from_minor(1000, currencies::JPY).to_string() == "1000 JPY");
    CHECK(money::from_minor(1250, currencies::KWD).to_string() == "1.250 KWD");
    CHECK(money::from_minor(1, currencies::CLF).to_string() == "0.0001 CLF");
    CHECK(money::from_minor(-1, currencies::CLF).to_string() == "-0.0001 CLF");
    CHECK(cny(5).to_string() == "0.05 CNY");
    CHECK(cny(-5).to_string() == "-0.05 CNY");
    CHECK(usd(0).to_string() == "0.00 USD");
    CHECK(money::zero(currencies::JPY).to_string() == "0 JPY");
    CHECK(money::from_minor(max_amount, currencies::USD).to_string() ==
          "3402823669209384634633746074317682114.55 USD");
    CHECK(money::from_minor(-max_amount, currencies::JPY).to_string() ==
          "-340282366920938463463374607431768211455 JPY");
    // A middle chunk of zeros keeps its digits.
    amount big = 1;
    for (int i = 0; i < 30; ++i) {
        big *= 10;
    }
    CHECK(money::from_minor(big + 7, currencies::USD).to_string() ==
          "10000000000000000000000000000.07 USD");
}

TEST_CASE("money formats with fmt as to_string does, and specs apply") {
    CHECK(fmt::format("{}", cny(1250)) == "12.50 CNY");
    CHECK(fmt::format("[{:>12}]", usd(-310)) == "[   -3.10 USD]");
    CHECK(fmt::format("[{:<10}]", money::from_minor(5, currencies::JPY)) == "[5 JPY     ]");
}

TEST_CASE("money adds and subtracts within a currency") {
    CHECK(*cny(1250).plus(cny(-300)) == cny(950));
    CHECK(*cny(1250).minus(cny(1300)) == cny(-50));
    CHECK(*(cny(1) + cny(2)) == cny(3));
    CHECK(*(cny(1) - cny(2)) == cny(-1));
    const money max = money::from_minor(max_amount, currencies::USD);
    CHECK(*max.plus(max.negated()) == usd(0));
}

TEST_CASE("combining two currencies is refused as a mismatch naming both") {
    const auto sum = cny(100).plus(usd(100));
    CHECK(refusal_of(sum, "currency") == errc::currency_mismatch);
    CHECK(sum.error().message.find("CNY") != std::string::npos);
    CHECK(sum.error().message.find("USD") != std::string::npos);
    CHECK(refusal_of(cny(100).minus(usd(100)), "currency") == errc::currency_mismatch);
    CHECK(refusal_of(cny(1) + usd(1), "currency") == errc::currency_mismatch);
    CHECK(refusal_of(cny(1) - usd(1), "currency") == errc::currency_mismatch);
    CHECK(refusal_of(money::compare(cny(1), usd(1)), "currency") == errc::currency_mismatch);
}

TEST_CASE("arithmetic beyond 128 bits is refused as overflow, never wrapped") {
    const money max = money::from_minor(max_amount, currencies::USD);
    const money min = max.negated();
    CHECK(refusal_of(max.plus(usd(1)), "amount") == errc::overflow);
    CHECK(refusal_of(min.minus(usd(1)), "amount") == errc::overflow);
    CHECK(refusal_of(min.plus(usd(-1)), "amount") == errc::overflow);
    CHECK(refusal_of(max.minus(min), "amount") == errc::overflow);
    CHECK(refusal_of(max.times(2), "amount") == errc::overflow);
    CHECK(refusal_of(min.times(-2), "amount") == errc::overflow);
    CHECK(refusal_of(max.times(ratio(3, 2)), "amount") == errc::overflow);
    const money two_to_65 = money::from_minor(amount(1) << 65, currencies::USD);
    CHECK(refusal_of(two_to_65.times(std::numeric_limits<std::int64_t>::min()), "amount") ==
          errc::overflow);  // 2^128: one more than the largest amount
    CHECK(two_to_65.times(std::numeric_limits<std::int64_t>::min() / 2).has_value());
    CHECK(*max.times(1) == max);
    CHECK(*max.times(-1) == min);
}

TEST_CASE("money multiplies by a whole number and by a quantity") {
    CHECK(*cny(1250).times(3) == cny(3750));
    CHECK(*cny(1250).times(-2) == cny(-2500));
    CHECK(cny(1250).times(0)->is_zero());
    CHECK(*cny(199).times(*quantity::of(4)) == cny(796));
    CHECK(*cny(199).times(quantity()) == cny(0));
}

TEST_CASE("multiplying by a rate rounds once by the named mode") {
    // 25 minor units x 1/10 = 2.5 units, and the other tenths of the rate test.
    struct example {
        std::int64_t tenths;
        std::array<std::int64_t, 7> expected;  // order of orderly::all_roundings
    };
    const std::array<example, 8> examples{{
        {25, {{2, 3, 2, 2, 3, 2, 3}}},
        {35, {{4, 4, 3, 3, 4, 3, 4}}},
        {26, {{3, 3, 3, 2, 3, 2, 3}}},
        {24, {{2, 2, 2, 2, 3, 2, 3}}},
        {-25, {{-2, -3, -2, -2, -3, -3, -2}}},
        {-35, {{-4, -4, -3, -3, -4, -4, -3}}},
        {-26, {{-3, -3, -3, -2, -3, -3, -2}}},
        {-24, {{-2, -2, -2, -2, -3, -3, -2}}},
    }};
    for (const auto& e : examples) {
        for (std::size_t m = 0; m < orderly::all_roundings.size(); ++m) {
            const rounding mode = orderly::all_roundings[m];
            CAPTURE(e.tenths);
            CAPTURE(mode);
            CHECK(*cny(e.tenths).times(ratio(1, 10), mode) == cny(e.expected[m]));
            // The same through the 256-bit path: an amount beyond 64 bits, shifted
            // away from zero by 10 * 2^63 (an even multiple of 10, so ties keep parity).
            amount offset = amount(std::numeric_limits<std::int64_t>::max()) * 10 + 10;
            if (e.tenths < 0) {
                offset = -offset;
            }
            const money big = money::from_minor(offset + e.tenths, currencies::CNY);
            const money expected = money::from_minor(offset / 10 + e.expected[m], currencies::CNY);
            CHECK(*big.times(ratio(1, 10), mode) == expected);
        }
    }
}

TEST_CASE("a rate applies to prices as a tax, a discount or a commission") {
    const rate tax = *rate::parse("0.065");
    CHECK(*cny(1000).times(tax) == cny(65));
    CHECK(*cny(1999).times(tax) == cny(130));      // 129.935 fen
    CHECK(*cny(1250).times(tax) == cny(81));       // 81.25 fen
    CHECK(*cny(10).times(ratio(1, 4)) == cny(2));  // 2.5 fen: half_even
    CHECK(*cny(10).times(ratio(1, 4), rounding::half_up) == cny(3));
    CHECK(*cny(1000).times(ratio(1, 3)) == cny(333));
    CHECK(*cny(1000).times(ratio(2, 3)) == cny(667));
    CHECK(*cny(1000).times(*rate::percent("12.5")) == cny(125));
    CHECK(*money::from_minor(1000, currencies::KWD).times(ratio(-1, 8)) ==
          money::from_minor(-125, currencies::KWD));
    CHECK(*cny(1000).times(rate::zero()) == cny(0));
    CHECK(*cny(1000).times(rate::one()) == cny(1000));
}

TEST_CASE("multiplying the largest amounts by a rate stays exact") {
    const money max = money::from_minor(max_amount, currencies::USD);
    CHECK(*max.times(rate::one()) == max);
    CHECK(*max.times(ratio(-1, 1)) == max.negated());
    CHECK(max.times(ratio(1, 2))->amount_minor() == max_amount / 2 + 1);  // .5 to even
    CHECK(max.times(ratio(1, 2), rounding::floor)->amount_minor() == max_amount / 2);
    const auto int64_max = std::numeric_limits<std::int64_t>::max();
    CHECK(refusal_of(max.times(ratio(int64_max, int64_max - 1), rounding::floor), "amount") ==
          errc::overflow);
    CHECK(max.times(ratio(int64_max - 1, int64_max), rounding::floor).has_value());
}

TEST_CASE("negation flips the sign and keeps the currency") {
    CHECK(cny(5).negated() == cny(-5));
    CHECK(cny(-5).negated() == cny(5));
    CHECK(cny(0).negated() == cny(0));
    CHECK_FALSE(cny(0).negated().is_negative());
}

TEST_CASE("money compares within a currency and is unordered across currencies") {
    CHECK(cny(100) == cny(100));
    CHECK(cny(100) != cny(101));
    CHECK(cny(100) != usd(100));
    CHECK(cny(100) < cny(101));
    CHECK(cny(-1) < cny(0));
    CHECK(cny(101) >= cny(100));
    CHECK((cny(1) <=> usd(1)) == std::partial_ordering::unordered);
    CHECK_FALSE(cny(1) < usd(2));
    CHECK_FALSE(cny(1) > usd(2));
    CHECK_FALSE(cny(1) <= usd(1));
    CHECK(*money::compare(cny(1), cny(2)) == std::strong_ordering::less);
    CHECK(*money::compare(cny(2), cny(2)) == std::strong_ordering::equal);
    CHECK(*money::compare(cny(3), cny(2)) == std::strong_ordering::greater);
}

TEST_CASE("the amount converts to a 64-bit integer when it fits") {
    CHECK(*cny(-1250).amount_minor_int64() == -1250);
    const auto int64_max = std::numeric_limits<std::int64_t>::max();
    CHECK(*cny(int64_max).amount_minor_int64() == int64_max);
    const money beyond = money::from_minor(amount(int64_max) + 1, currencies::CNY);
    CHECK(refusal_of(beyond.amount_minor_int64(), "amount") == errc::overflow);
}

TEST_CASE("allocation by largest remainder sums to the whole") {
    CHECK(allocated(cny(100), {1, 1, 1}) == std::vector<std::int64_t>{34, 33, 33});
    CHECK(allocated(cny(-100), {1, 1, 1}) == std::vector<std::int64_t>{-34, -33, -33});
    CHECK(allocated(cny(100), {0, 1, 1}) == std::vector<std::int64_t>{0, 50, 50});
    CHECK(allocated(cny(1), {1, 1, 1}) == std::vector<std::int64_t>{1, 0, 0});
    CHECK(allocated(cny(2), {1, 1, 1}) == std::vector<std::int64_t>{1, 1, 0});
    CHECK(allocated(cny(10), {1, 2, 3, 4}) == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(allocated(cny(5), {3, 3, 0, 3}) == std::vector<std::int64_t>{2, 2, 0, 1});
    CHECK(allocated(cny(5), {0, 0, 7}) == std::vector<std::int64_t>{0, 0, 5});
    CHECK(allocated(cny(0), {1, 2}) == std::vector<std::int64_t>{0, 0});
    // Largest remainder, not index, decides first: 7 x {1, 3, 6}/10 = 0.7, 2.1, 4.2.
    CHECK(allocated(cny(7), {1, 3, 6}) == std::vector<std::int64_t>{1, 2, 4});
    // Weights near the 64-bit limit.
    const auto int64_max = std::numeric_limits<std::int64_t>::max();
    CHECK(allocated(cny(3), {int64_max, int64_max, int64_max}) ==
          std::vector<std::int64_t>{1, 1, 1});
    CHECK(allocated(cny(10), {int64_max, 1}) == std::vector<std::int64_t>{10, 0});
}

TEST_CASE("allocation keeps the currency and handles the largest amounts") {
    const money max = money::from_minor(max_amount, currencies::USD);
    const auto weights = std::vector<std::int64_t>{1, 1};
    const auto parts = max.allocate(weights);
    REQUIRE(parts.has_value());
    REQUIRE(parts->size() == 2);
    CHECK((*parts)[0].amount_minor() == max_amount / 2 + 1);
    CHECK((*parts)[1].amount_minor() == max_amount / 2);
    CHECK((*parts)[0].currency() == currencies::USD);
    const auto negative = max.negated().allocate(weights);
    REQUIRE(negative.has_value());
    CHECK((*negative)[0] == (*parts)[0].negated());
    CHECK((*negative)[1] == (*parts)[1].negated());
}

TEST_CASE("allocation over quantities weighs by units") {
    const std::array<quantity, 3> units{*quantity::of(1), *quantity::of(2), quantity()};
    CHECK(minor_units_of(cny(301).allocate(units)) == std::vector<std::int64_t>{100, 201, 0});
}

TEST_CASE("allocation without weights or with only zero weights is refused as division by zero") {
    CHECK(refusal_of(cny(100).allocate(std::vector<std::int64_t>{}), "weights") ==
          errc::division_by_zero);
    CHECK(refusal_of(cny(100).allocate(std::vector<std::int64_t>{0, 0}), "weights") ==
          errc::division_by_zero);
    CHECK(refusal_of(cny(100).allocate(std::vector<quantity>{quantity()}), "weights") ==
          errc::division_by_zero);
}

TEST_CASE("allocation with a negative weight is refused as an invalid value") {
    const auto refused = cny(100).allocate(std::vector<std::int64_t>{1, -1, 2});
    CHECK(refusal_of(refused, "weights") == errc::invalid_value);
    CHECK(refused.error().message.find("weight 1") != std::string::npos);
}

TEST_CASE("allocation over more than max_parts weights is refused as an invalid value") {
    const std::vector<std::int64_t> weights(money::max_parts + 1, 1);
    CHECK(refusal_of(cny(100).allocate(weights), "weights") == errc::invalid_value);
    CHECK(refusal_of(cny(100).split(money::max_parts + 1), "parts") == errc::invalid_value);
}

TEST_CASE("split gives equal parts, the first ones a unit more") {
    CHECK(minor_units_of(cny(100).split(3)) == std::vector<std::int64_t>{34, 33, 33});
    CHECK(minor_units_of(cny(-100).split(3)) == std::vector<std::int64_t>{-34, -33, -33});
    CHECK(minor_units_of(cny(5).split(2)) == std::vector<std::int64_t>{3, 2});
    CHECK(minor_units_of(cny(0).split(2)) == std::vector<std::int64_t>{0, 0});
    CHECK(minor_units_of(cny(2).split(4)) == std::vector<std::int64_t>{1, 1, 0, 0});
    CHECK(minor_units_of(cny(7).split(1)) == std::vector<std::int64_t>{7});
    const auto parts = cny(100).split(3);
    REQUIRE(parts.has_value());
    CHECK((*parts)[0].currency() == currencies::CNY);
    const money max = money::from_minor(max_amount, currencies::USD);
    const auto halves = max.split(2);
    REQUIRE(halves.has_value());
    CHECK((*halves)[0].amount_minor() == max_amount / 2 + 1);
    CHECK((*halves)[1].amount_minor() == max_amount / 2);
}

TEST_CASE("splitting into zero parts is refused as division by zero") {
    CHECK(refusal_of(cny(100).split(0), "parts") == errc::division_by_zero);
}
