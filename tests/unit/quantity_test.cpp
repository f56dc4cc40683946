#include <orderly/core/quantity.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <random>

using orderly::errc;
using orderly::quantity;

namespace {
quantity q(std::int64_t n) {
    return quantity::of(n).value();
}
}  // namespace

TEST_CASE("a quantity is never negative") {
    CHECK(quantity{}.is_zero());
    CHECK(q(5).units() == 5);
    const auto negative = quantity::of(-1);
    REQUIRE(negative.has_error());
    CHECK(negative.error().code == errc::negative_quantity);
    CHECK(negative.error().field == "quantity");
}

TEST_CASE("quantity arithmetic is checked") {
    CHECK((q(2) + q(3)).value() == q(5));
    CHECK((q(5) - q(5)).value().is_zero());
    CHECK(q(4).times(3).value() == q(12));

    const auto below_zero = q(2) - q(3);
    REQUIRE(below_zero.has_error());
    CHECK(below_zero.error().code == errc::negative_quantity);

    const auto big = q(std::numeric_limits<std::int64_t>::max());
    const auto sum = big + q(1);
    REQUIRE(sum.has_error());
    CHECK(sum.error().code == errc::overflow);
    const auto product = big.times(2);
    REQUIRE(product.has_error());
    CHECK(product.error().code == errc::overflow);

    const auto negative_factor = q(1).times(-2);
    REQUIRE(negative_factor.has_error());
    CHECK(negative_factor.error().code == errc::negative_quantity);
    CHECK(negative_factor.error().field == "factor");
}

TEST_CASE("quantities order and format like their unit counts") {
    CHECK(q(1) < q(2));
    CHECK(fmt::format("{}", q(42)) == "42");
    CHECK(fmt::format("{:03}", q(7)) == "007");
}

TEST_CASE("random sums and differences agree with 128-bit arithmetic") {
    const std::uint64_t seed = 20261122;
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int64_t> any(0, std::numeric_limits<std::int64_t>::max());
    for (int i = 0; i < 5000; ++i) {
        const std::int64_t a = any(rng);
        const std::int64_t b = any(rng);
        // Both are at most INT64_MAX, so their sum fits an unsigned 64-bit integer.
        const std::uint64_t exact = static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b);
        const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        const auto sum = q(a) + q(b);
        CHECK(sum.has_value() == (exact <= limit));
        if (sum) {
            CHECK(static_cast<std::uint64_t>(sum->units()) == exact);
        }
        const auto difference = q(a) - q(b);
        CHECK(difference.has_value() == (a >= b));
        if (difference) {
            CHECK(difference->units() == a - b);
        }
    }
}
