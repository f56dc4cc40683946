#include <orderly/core/currency.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>
#include <string>
#include <type_traits>
#include <unordered_set>

using orderly::currency;
using orderly::errc;
namespace currencies = orderly::currencies;

namespace {

// The refusal of from_code(text): its code, and field "currency" always.
errc refusal_of(std::string_view text) {
    const auto parsed = currency::from_code(text);
    REQUIRE(parsed.has_error());
    CHECK(parsed.error().field == "currency");
    CHECK_FALSE(parsed.error().message.empty());
    return parsed.error().code;
}

int digits_of(std::string_view code) {
    const auto parsed = currency::from_code(code);
    REQUIRE_MESSAGE(parsed.has_value(), code);
    return parsed->minor_digits();
}

}  // namespace

// Compile-time facts: a currency is a tiny value type, and of<> is constant.
static_assert(sizeof(currency) == 1);
static_assert(std::is_trivially_copyable_v<currency>);
static_assert(!std::is_default_constructible_v<currency>);
static_assert(currency::of<"CNY">().code() == "CNY");
static_assert(currency::of<"KWD">().minor_digits() == 3);
static_assert(currencies::JPY.minor_digits() == 0);
static_assert(currencies::USD == currency::of<"USD">());

TEST_CASE("a currency code is looked up with its numeric code and minor digits") {
    const auto cny = currency::from_code("CNY");
    REQUIRE(cny.has_value());
    CHECK(cny->code() == "CNY");
    CHECK(cny->numeric_code() == 156);
    CHECK(cny->minor_digits() == 2);
    CHECK(*cny == currencies::CNY);

    CHECK(currencies::USD.numeric_code() == 840);
    CHECK(currencies::EUR.numeric_code() == 978);
    CHECK(currencies::JPY.numeric_code() == 392);
    CHECK(currencies::GBP.numeric_code() == 826);
    CHECK(currencies::KRW.numeric_code() == 410);
    CHECK(currencies::KWD.numeric_code() == 414);
    CHECK(currencies::BHD.numeric_code() == 48);
    CHECK(currencies::CLF.numeric_code() == 990);
}

TEST_CASE("minor digits follow ISO 4217 for zero, two, three and four decimal currencies") {
    for (const std::string_view code :
         {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "BIF", "DJF", "GNF", "KMF",
          "PYG", "RWF", "VUV", "UYI"}) {
        CAPTURE(code);
        CHECK(digits_of(code) == 0);
    }
    for (const std::string_view code : {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}) {
        CAPTURE(code);
        CHECK(digits_of(code) == 3);
    }
    for (const std::string_view code : {"CLF", "UYW"}) {
        CAPTURE(code);
        CHECK(digits_of(code) == 4);
    }
    for (const std::string_view code : {"USD", "EUR", "CNY", "GBP", "HKD", "TWD", "CHF", "INR",
                                        "MGA", "MRU", "HUF", "IDR", "XCG", "ZWG", "SLE", "VES"}) {
        CAPTURE(code);
        CHECK(digits_of(code) == 2);
    }
}

TEST_CASE("only the digit counts 0, 2, 3 and 4 occur, and the table is complete enough") {
    std::set<int> seen;
    for (const currency c : currency::all()) {
        seen.insert(c.minor_digits());
    }
    CHECK(seen == std::set<int>{0, 2, 3, 4});
    CHECK(currency::count >= 150);
    CHECK(currency::count == currency::all().size());
}

TEST_CASE("every currency round-trips through its alphabetic and numeric codes") {
    std::unordered_set<currency> distinct;
    for (const currency c : currency::all()) {
        CAPTURE(c.code());
        const auto by_code = currency::from_code(c.code());
        REQUIRE(by_code.has_value());
        CHECK(*by_code == c);
        const auto by_number = currency::from_numeric_code(c.numeric_code());
        REQUIRE(by_number.has_value());
        CHECK(*by_number == c);
        CHECK(distinct.insert(c).second);
    }
    CHECK(distinct.size() == currency::count);
}

TEST_CASE("currencies compare equal by code and order alphabetically") {
    CHECK(currencies::CNY == currency::of<"CNY">());
    CHECK(currencies::CNY != currencies::USD);
    CHECK(currencies::CNY < currencies::USD);
    CHECK(currencies::EUR > currencies::CNY);
    const auto all = currency::all();
    for (std::size_t i = 1; i < all.size(); ++i) {
        CHECK(all[i - 1].code() < all[i].code());
        CHECK(all[i - 1] < all[i]);
    }
}

TEST_CASE("a currency formats as its code") {
    CHECK(fmt::format("{}", currencies::CNY) == "CNY");
    CHECK(fmt::format("[{:>5}]", currencies::KWD) == "[  KWD]");
    CHECK(fmt::format("{}", currency::of<"ALL">()) == "ALL");
}

TEST_CASE("an empty currency code is refused as missing") {
    CHECK(refusal_of("") == errc::missing_value);
}

TEST_CASE("a currency code that is not three uppercase letters is refused as malformed") {
    for (const std::string_view text :
         {"usd", "Usd", "US", "USDT", " USD", "USD ", "U$D", "12A", "\xC3\x85LL"}) {
        CAPTURE(text);
        CHECK(refusal_of(text) == errc::malformed);
    }
}

TEST_CASE("three letters that are no active ISO 4217 currency are refused as unknown") {
    for (const std::string_view text : {"ABC", "XXX", "XAU", "XTS", "HRK", "DEM", "ZZZ", "AAA"}) {
        CAPTURE(text);
        CHECK(refusal_of(text) == errc::unknown_currency);
    }
    const auto parsed = currency::from_code("ABC");
    REQUIRE(parsed.has_error());
    CHECK(parsed.error().message.find("ABC") != std::string::npos);
}

TEST_CASE("an unknown numeric code is refused as unknown") {
    for (const std::uint16_t number : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{999},
                                       std::uint16_t{959}, std::uint16_t{1000}}) {
        CAPTURE(number);
        const auto parsed = currency::from_numeric_code(number);
        REQUIRE(parsed.has_error());
        CHECK(parsed.error().code == errc::unknown_currency);
        CHECK(parsed.error().field == "currency");
    }
    CHECK(currency::from_numeric_code(8)->code() == "ALL");
}
