#pragma once
/// \file
/// Strong identifiers: an order id and a ticket id are different types even
/// though both are numbers, so one can never be passed where the other is due.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace orderly {

/// An identifier of the entity named by `Tag`, held as `Rep` (a 64-bit number
/// for ids orderly generates, a string for ids the host owns, such as SKUs).
/// Ids of different tags do not convert into each other.
template <class Tag, class Rep>
class strong_id {
public:
    /// The type the id is held as.
    using rep_type = Rep;
    /// The entity tag; `Tag::name` is the field name used in errors.
    using tag_type = Tag;

    /// The empty id (0 or ""): "no such entity".
    constexpr strong_id() = default;
    /// Wraps a raw value; use `parse_id` for text that came from outside.
    constexpr explicit strong_id(Rep value) : value_(std::move(value)) {}

    /// The raw value.
    [[nodiscard]] constexpr const Rep& value() const noexcept { return value_; }
    /// True for the empty id.
    [[nodiscard]] constexpr bool empty() const noexcept {
        if constexpr (std::is_integral_v<Rep>) {
            return value_ == 0;
        } else {
            return value_.empty();
        }
    }

    /// Ids compare by value, only with ids of the same tag.
    friend constexpr auto operator<=>(const strong_id&, const strong_id&) = default;

private:
    Rep value_{};
};

// clang-format off
/// Tag of order ids.
struct order_tag { static constexpr std::string_view name = "order_id"; };
/// Tag of SKU ids.
struct sku_tag { static constexpr std::string_view name = "sku_id"; };
/// Tag of warehouse ids.
struct warehouse_tag { static constexpr std::string_view name = "warehouse_id"; };
/// Tag of merchant ids.
struct merchant_tag { static constexpr std::string_view name = "merchant_id"; };
/// Tag of customer ids.
struct customer_tag { static constexpr std::string_view name = "customer_id"; };
/// Tag of carrier ids.
struct carrier_tag { static constexpr std::string_view name = "carrier_id"; };
/// Tag of after-sales ticket ids.
struct ticket_tag { static constexpr std::string_view name = "ticket_id"; };
/// Tag of shipment ids.
struct shipment_tag { static constexpr std::string_view name = "shipment_id"; };
/// Tag of stock reservation ids.
struct reservation_tag { static constexpr std::string_view name = "reservation_id"; };
/// Tag of payment ids.
struct payment_tag { static constexpr std::string_view name = "payment_id"; };
/// Tag of exception case ids.
struct case_tag { static constexpr std::string_view name = "case_id"; };
/// Tag of stock transfer ids.
struct transfer_tag { static constexpr std::string_view name = "transfer_id"; };
// clang-format on

/// Identifies an order inside orderly (generated; see order_number for the
/// printable number a customer sees).
using order_id = strong_id<order_tag, std::uint64_t>;
/// Identifies a stock-keeping unit; owned by the host's catalogue.
using sku_id = strong_id<sku_tag, std::string>;
/// Identifies a warehouse; owned by the host.
using warehouse_id = strong_id<warehouse_tag, std::string>;
/// Identifies a merchant (seller) on a marketplace; owned by the host.
using merchant_id = strong_id<merchant_tag, std::string>;
/// Identifies a customer; owned by the host.
using customer_id = strong_id<customer_tag, std::string>;
/// Identifies a carrier (logistics company); owned by the host.
using carrier_id = strong_id<carrier_tag, std::string>;
/// Identifies an after-sales ticket (generated).
using ticket_id = strong_id<ticket_tag, std::uint64_t>;
/// Identifies a shipment (generated).
using shipment_id = strong_id<shipment_tag, std::uint64_t>;
/// Identifies a stock reservation (generated).
using reservation_id = strong_id<reservation_tag, std::uint64_t>;
/// Identifies a payment (generated).
using payment_id = strong_id<payment_tag, std::uint64_t>;
/// Identifies an exception case (generated).
using case_id = strong_id<case_tag, std::uint64_t>;
/// Identifies a stock transfer between warehouses (generated).
using transfer_id = strong_id<transfer_tag, std::uint64_t>;

/// Longest host-owned id orderly accepts, in bytes.
inline constexpr std::size_t max_id_length = 64;

/// Checks text from outside and makes a host-owned (string) id of it: 1 to
/// `max_id_length` visible ASCII characters, no spaces or control characters.
/// The error names `Id::tag_type::name` as its field.
template <class Id>
requires std::is_same_v<typename Id::rep_type, std::string>
[[nodiscard]] result<Id> parse_id(std::string_view text) {
    const std::string_view field = Id::tag_type::name;
    if (text.empty()) {
        return error{errc::missing_value, std::string(field), "must not be empty"};
    }
    if (text.size() > max_id_length) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} characters", max_id_length)};
    }
    for (const char c : text) {
        if (c <= ' ' || c > '~') {
            return error{errc::invalid_value, std::string(field),
                         "may hold only visible ASCII characters, no spaces"};
        }
    }
    return Id(std::string(text));
}

}  // namespace orderly

/// Hashes an id like its raw value, so ids key unordered containers.
template <class Tag, class Rep>
struct std::hash<orderly::strong_id<Tag, Rep>> {
    /// The raw value's hash.
    std::size_t operator()(const orderly::strong_id<Tag, Rep>& id) const noexcept {
        return std::hash<Rep>{}(id.value());
    }
};

/// Formats an id as its raw value.
template <class Tag, class Rep>
struct fmt::formatter<orderly::strong_id<Tag, Rep>> : fmt::formatter<Rep> {
    /// Writes the raw value with the given spec.
    auto format(const orderly::strong_id<Tag, Rep>& id, fmt::format_context& ctx) const {
        return fmt::formatter<Rep>::format(id.value(), ctx);
    }
};
