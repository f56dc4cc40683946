#include <orderly/core/error.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using orderly::errc;
using orderly::error;
using orderly::result;

namespace {

result<int> parse_positive(int v) {
    if (v <= 0) {
        return error{errc::invalid_value, "count", "must be positive"};
    }
    return v;
}

}  // namespace

TEST_CASE("an error names its code, field and message") {
    const error e{errc::currency_mismatch, "amount", "CNY and USD cannot be added"};
    CHECK(fmt::format("{}", e) == "currency_mismatch: amount: CNY and USD cannot be added");
    CHECK(fmt::format("{}", error{errc::malformed, "", "bad text"}) == "malformed: bad text");
    CHECK(fmt::format("{}", errc::overflow) == "overflow");
}

TEST_CASE("error codes keep their stored numeric values") {
    CHECK(static_cast<int>(errc::invalid_value) == 1);
    CHECK(static_cast<int>(errc::missing_value) == 2);
    CHECK(static_cast<int>(errc::malformed) == 3);
    CHECK(static_cast<int>(errc::unknown_currency) == 4);
    CHECK(static_cast<int>(errc::currency_mismatch) == 5);
    CHECK(static_cast<int>(errc::overflow) == 6);
    CHECK(static_cast<int>(errc::negative_quantity) == 7);
    CHECK(static_cast<int>(errc::checksum_mismatch) == 8);
    CHECK(static_cast<int>(errc::division_by_zero) == 9);
    CHECK(static_cast<int>(errc::not_found) == 10);
    CHECK(static_cast<int>(errc::insufficient_stock) == 11);
    CHECK(static_cast<int>(errc::transition_not_allowed) == 12);
    CHECK(static_cast<int>(errc::forbidden) == 13);
    CHECK(static_cast<int>(errc::unknown_role) == 14);
    CHECK(static_cast<int>(errc::amount_mismatch) == 15);
    CHECK(static_cast<int>(errc::conflict) == 16);
    CHECK(static_cast<int>(errc::idempotency_key_reused) == 17);
    CHECK(static_cast<int>(errc::storage_failure) == 18);
    CHECK(static_cast<int>(errc::notification_failed) == 19);
    CHECK(static_cast<int>(errc::busy) == 20);
    for (int code = 1; code <= 20; ++code) {
        CHECK(to_string(static_cast<errc>(code)) != "unknown_error");
    }
}

TEST_CASE("within() builds a dotted field path") {
    error e{errc::missing_value, "phone", "is required"};
    e = std::move(e).within("ship_to");
    CHECK(e.field == "ship_to.phone");
    e = std::move(e).within("orders[3]");
    CHECK(e.field == "orders[3].ship_to.phone");
    CHECK(error{errc::malformed, "", "x"}.within("line").field == "line");
}

TEST_CASE("result carries a value or an error, value() throws error_exception") {
    const auto ok = parse_positive(3);
    REQUIRE(ok.has_value());
    CHECK(*ok == 3);

    const auto bad = parse_positive(0);
    REQUIRE(bad.has_error());
    CHECK(bad.error().code == errc::invalid_value);
    CHECK(bad.error().field == "count");
    CHECK_THROWS_AS(static_cast<void>(bad.value()), orderly::error_exception);
    try {
        static_cast<void>(bad.value());
    } catch (const orderly::error_exception& ex) {
        CHECK(ex.error_value() == bad.error());
        CHECK(std::string(ex.what()) == "invalid_value: count: must be positive");
    }
}
