#pragma once
/// \file
/// The traits of goods that fulfilment looks at: they decide
/// which shipping method a line needs (and so which parcel it goes into) and
/// how a parcel is packed. A small input value, filled by the host from its
/// catalogue; orderly::sku is not changed for it.

#include <orderly/catalog/sku.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace orderly {

/// One trait of goods, for tables that map a trait to a rule (shipping
/// methods, packing). Stored values never change.
enum class goods_trait : std::uint8_t {
    fragile = 1,     ///< Breaks easily.
    liquid = 2,      ///< A liquid: leaks, must stay upright, some carriers refuse it.
    valuable = 3,    ///< High value: insured, tamper-evident.
    restricted = 4,  ///< Regulated goods (batteries, aerosols, ...): a special service.
    bulky = 5,       ///< Too large or heavy for a parcel service: freight.
};

/// Every goods trait, in numeric order.
inline constexpr std::array<goods_trait, 5> all_goods_traits = {
    goods_trait::fragile, goods_trait::liquid, goods_trait::valuable, goods_trait::restricted,
    goods_trait::bulky};

/// The stable name of a trait ("fragile").
[[nodiscard]] constexpr std::string_view to_string(goods_trait t) noexcept {
    switch (t) {
        case goods_trait::fragile:
            return "fragile";
        case goods_trait::liquid:
            return "liquid";
        case goods_trait::valuable:
            return "valuable";
        case goods_trait::restricted:
            return "restricted";
        case goods_trait::bulky:
            return "bulky";
    }
    return "unknown";
}

/// The traits of the goods on one line or in one parcel. A plain aggregate:
/// `goods_traits{.liquid = true}`.
struct goods_traits {
    bool fragile{false};     ///< Breaks easily: padded packing.
    bool liquid{false};      ///< Liquid: sealed and upright; may need its own shipping method.
    bool valuable{false};    ///< High value: tamper-evident packing, insured.
    bool restricted{false};  ///< Regulated: needs a carrier service that accepts it.
    bool bulky{false};       ///< Oversized or heavy: ships as freight.

    /// True when the goods have trait `t`.
    [[nodiscard]] constexpr bool has(goods_trait t) const noexcept {
        switch (t) {
            case goods_trait::fragile:
                return fragile;
            case goods_trait::liquid:
                return liquid;
            case goods_trait::valuable:
                return valuable;
            case goods_trait::restricted:
                return restricted;
            case goods_trait::bulky:
                return bulky;
        }
        return false;
    }

    /// The traits of a parcel holding both: a trait of either is a trait of
    /// the mix (one fragile item makes the parcel fragile).
    [[nodiscard]] constexpr goods_traits combined_with(const goods_traits& other) const noexcept {
        return goods_traits{.fragile = fragile || other.fragile,
                            .liquid = liquid || other.liquid,
                            .valuable = valuable || other.valuable,
                            .restricted = restricted || other.restricted,
                            .bulky = bulky || other.bulky};
    }

    /// Traits are equal when every flag is.
    friend constexpr bool operator==(const goods_traits&, const goods_traits&) = default;
};

/// The goods traits of a catalogue entry. The catalogue has no "bulky" flag
/// (bulkiness is a warehouse's or carrier's judgement, by size or weight), so
/// the host says it.
[[nodiscard]] constexpr goods_traits goods_traits_of(const sku_traits& traits,
                                                     bool bulky = false) noexcept {
    return goods_traits{.fragile = traits.fragile,
                        .liquid = traits.liquid,
                        .valuable = traits.valuable,
                        .restricted = traits.restricted,
                        .bulky = bulky};
}

}  // namespace orderly

/// Formats a goods trait as its name.
template <>
struct fmt::formatter<orderly::goods_trait> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::goods_trait t, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(t), ctx);
    }
};
