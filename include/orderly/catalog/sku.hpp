#pragma once
/// \file
/// The catalogue entry orders are checked against: price, physical
/// traits that decide packing and carriers, category and sale status.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/quantity.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orderly {

/// Whether a SKU may be ordered. Stored values never change.
enum class sku_status : std::uint8_t {
    on_sale = 1,    ///< May be ordered.
    off_shelf = 2,  ///< Listed but not for sale; new orders for it are refused.
};

/// The stable name of a status ("on_sale").
[[nodiscard]] constexpr std::string_view to_string(sku_status s) noexcept {
    switch (s) {
        case sku_status::on_sale:
            return "on_sale";
        case sku_status::off_shelf:
            return "off_shelf";
    }
    return "unknown";
}

/// Physical and legal traits of goods: they decide packing, carriers
/// and whether an order needs manual review.
struct sku_traits {
    bool fragile{false};     ///< Breaks easily: padded packing.
    bool liquid{false};      ///< Liquid: sealed packing, some carriers refuse it.
    bool valuable{false};    ///< High value: insured shipping, signature on delivery.
    bool restricted{false};  ///< Regulated goods: every order goes to manual review.

    /// Traits are equal when every flag is.
    friend bool operator==(const sku_traits&, const sku_traits&) = default;
};

/// A stock-keeping unit in the catalogue.
struct sku {
    sku_id id;                   ///< The host's SKU code. Required.
    merchant_id merchant;        ///< Who sells it (marketplaces); may be empty for a single shop.
    std::string name;            ///< Display name. Required, at most 256 bytes.
    std::string category;        ///< Category code, used for commission and reports.
    money price;                 ///< Unit price; orders must quote exactly this. Positive.
    std::int64_t weight_g{0};    ///< Shipping weight in grams, not negative.
    std::int64_t volume_cm3{0};  ///< Shipping volume in cubic centimetres, not negative.
    sku_traits traits;           ///< Packing and review traits.
    sku_status status{sku_status::on_sale};  ///< On sale or off shelf.
    /// Low-stock threshold: when a warehouse's available units of this
    /// SKU fall below it, the warehouse team and the merchant are told once;
    /// empty means no alerts.
    std::optional<quantity> low_stock_below{};

    /// SKUs are equal when every field is.
    friend bool operator==(const sku&, const sku&) = default;
};

/// Checks a catalogue entry; the error names the field ("price", "name").
[[nodiscard]] inline result<void> validate(const sku& s) {
    if (s.id.empty()) {
        return error{errc::missing_value, "id", "a SKU needs an id"};
    }
    if (auto id = parse_id<sku_id>(s.id.value()); !id) {
        return std::move(id.error()).within("id");
    }
    if (s.name.empty()) {
        return error{errc::missing_value, "name", "a SKU needs a name"};
    }
    if (s.name.size() > 256) {
        return error{errc::invalid_value, "name", "must be at most 256 bytes"};
    }
    if (s.category.size() > 64) {
        return error{errc::invalid_value, "category", "must be at most 64 bytes"};
    }
    if (!s.price.is_positive()) {
        return error{errc::invalid_value, "price", "must be more than zero"};
    }
    if (s.weight_g < 0) {
        return error{errc::invalid_value, "weight_g", "must not be negative"};
    }
    if (s.volume_cm3 < 0) {
        return error{errc::invalid_value, "volume_cm3", "must not be negative"};
    }
    if (s.status != sku_status::on_sale && s.status != sku_status::off_shelf) {
        return error{errc::invalid_value, "status", "must be on_sale or off_shelf"};
    }
    return {};
}

}  // namespace orderly

/// Formats a SKU status as its name.
template <>
struct fmt::formatter<orderly::sku_status> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::sku_status s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};
