#include <orderly/core/id.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <type_traits>
#include <unordered_set>

using namespace orderly;

// Ids of different entities must not convert into each other, nor from raw values implicitly.
static_assert(!std::is_convertible_v<order_id, ticket_id>);
static_assert(!std::is_constructible_v<ticket_id, order_id>);
static_assert(!std::is_constructible_v<shipment_id, order_id>);
static_assert(!std::is_convertible_v<sku_id, warehouse_id>);
static_assert(!std::is_constructible_v<merchant_id, customer_id>);
static_assert(!std::is_convertible_v<std::uint64_t, order_id>);
static_assert(!std::is_convertible_v<std::string, sku_id>);
static_assert(std::is_constructible_v<order_id, std::uint64_t>);

TEST_CASE("ids compare, hash and format by their raw value") {
    const order_id a{7};
    const order_id b{9};
    CHECK(a < b);
    CHECK(a == order_id{7});
    CHECK(order_id{}.empty());
    CHECK_FALSE(a.empty());
    CHECK(fmt::format("{}", a) == "7");
    CHECK(fmt::format("{:>4}", a) == "   7");
    CHECK(fmt::format("{}", sku_id{"SKU-1"}) == "SKU-1");

    std::unordered_set<sku_id> skus{sku_id{"A"}, sku_id{"B"}, sku_id{"A"}};
    CHECK(skus.size() == 2);
}

TEST_CASE("parse_id accepts visible ASCII up to the length limit") {
    const auto sku = parse_id<sku_id>("SKU-00042:red/XL");
    REQUIRE(sku.has_value());
    CHECK(sku->value() == "SKU-00042:red/XL");
    CHECK(parse_id<warehouse_id>(std::string(max_id_length, 'w')).has_value());
}

TEST_CASE("parse_id refuses empty, too long and invisible text, naming the id field") {
    const auto empty = parse_id<sku_id>("");
    REQUIRE(empty.has_error());
    CHECK(empty.error().code == errc::missing_value);
    CHECK(empty.error().field == "sku_id");

    const auto long_id = parse_id<customer_id>(std::string(max_id_length + 1, 'c'));
    REQUIRE(long_id.has_error());
    CHECK(long_id.error().code == errc::invalid_value);
    CHECK(long_id.error().field == "customer_id");

    for (const char* bad : {"has space", "tab\there", "new\nline", "caf\xc3\xa9"}) {
        CAPTURE(bad);
        const auto r = parse_id<merchant_id>(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == errc::invalid_value);
        CHECK(r.error().field == "merchant_id");
    }
}
