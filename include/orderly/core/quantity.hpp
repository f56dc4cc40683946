#pragma once
/// \file
/// A count of units (of a SKU, in stock, on an order line): never negative,
/// and arithmetic on it fails as a value instead of wrapping.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <string>

namespace orderly {

/// A non-negative number of units. Every operation that could go below zero
/// or overflow returns a result; none wraps.
class quantity {
public:
    /// The integer type of a unit count.
    using rep_type = std::int64_t;

    /// Zero units.
    constexpr quantity() = default;

    /// Makes a quantity of `units`, refusing a negative count.
    [[nodiscard]] static result<quantity> of(rep_type units) {
        if (units < 0) {
            return error{errc::negative_quantity, "quantity",
                         fmt::format("must not be negative, got {}", units)};
        }
        return quantity(units);
    }

    /// The number of units.
    [[nodiscard]] constexpr rep_type units() const noexcept { return units_; }
    /// True when there are no units.
    [[nodiscard]] constexpr bool is_zero() const noexcept { return units_ == 0; }

    /// The sum; an overflow error instead of wrapping.
    [[nodiscard]] result<quantity> plus(quantity other) const {
        rep_type sum = 0;
        if (__builtin_add_overflow(units_, other.units_, &sum)) {
            return overflow_error();
        }
        return quantity(sum);
    }

    /// The difference; negative_quantity when `other` is larger.
    [[nodiscard]] result<quantity> minus(quantity other) const {
        if (other.units_ > units_) {
            return error{errc::negative_quantity, "quantity",
                         fmt::format("cannot take {} from {}", other.units_, units_)};
        }
        return quantity(units_ - other.units_);
    }

    /// The product with a non-negative factor; an error instead of wrapping.
    [[nodiscard]] result<quantity> times(rep_type factor) const {
        if (factor < 0) {
            return error{errc::negative_quantity, "factor",
                         fmt::format("must not be negative, got {}", factor)};
        }
        rep_type product = 0;
        if (__builtin_mul_overflow(units_, factor, &product)) {
            return overflow_error();
        }
        return quantity(product);
    }

    /// Same as plus().
    [[nodiscard]] friend result<quantity> operator+(quantity a, quantity b) { return a.plus(b); }
    /// Same as minus().
    [[nodiscard]] friend result<quantity> operator-(quantity a, quantity b) { return a.minus(b); }

    /// Quantities are ordered by their unit count.
    friend constexpr auto operator<=>(quantity, quantity) = default;

private:
    constexpr explicit quantity(rep_type units) : units_(units) {}
    static error overflow_error() { return error{errc::overflow, "quantity", "is too large"}; }

    rep_type units_ = 0;
};

}  // namespace orderly

/// Formats a quantity as its unit count; integer format specs apply.
template <>
struct fmt::formatter<orderly::quantity> : fmt::formatter<orderly::quantity::rep_type> {
    /// Writes the unit count.
    auto format(orderly::quantity q, fmt::format_context& ctx) const {
        return fmt::formatter<orderly::quantity::rep_type>::format(q.units(), ctx);
    }
};
