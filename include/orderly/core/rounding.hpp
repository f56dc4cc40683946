#pragma once
/// \file
/// Rounding modes, named at every use that rounds (a tax, a discount, a
/// commission), and the one exact integer division that applies them.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <array>
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>

namespace orderly {

/// How an exact quotient that falls between two integers (minor units) is
/// brought to one of them. Examples below are quotients in minor units.
/// The numeric values are stable (hosts may store them) and never change.
enum class rounding : std::uint8_t {
    /// To the nearest; a tie (exactly .5) goes to the even neighbour
    /// ("banker's rounding"), so ties do not drift up on average.
    /// 2.5 → 2, 3.5 → 4, 2.6 → 3, -2.5 → -2, -3.5 → -4, -2.6 → -3.
    /// orderly's default wherever a mode may be left out.
    half_even = 0,
    /// To the nearest; a tie goes away from zero ("commercial rounding").
    /// 2.5 → 3, 2.4 → 2, -2.5 → -3, -2.4 → -2.
    half_up = 1,
    /// To the nearest; a tie goes toward zero.
    /// 2.5 → 2, 2.6 → 3, -2.5 → -2, -2.6 → -3.
    half_down = 2,
    /// Drops the fraction (truncation). 2.9 → 2, -2.9 → -2.
    toward_zero = 3,
    /// Any fraction goes to the next integer away from zero. 2.1 → 3, -2.1 → -3.
    away_from_zero = 4,
    /// Toward negative infinity. 2.9 → 2, -2.1 → -3.
    floor = 5,
    /// Toward positive infinity. 2.1 → 3, -2.9 → -2.
    ceiling = 6,
};

/// Every rounding mode, in order of numeric value.
inline constexpr std::array<rounding, 7> all_roundings{
    rounding::half_even,      rounding::half_up, rounding::half_down, rounding::toward_zero,
    rounding::away_from_zero, rounding::floor,   rounding::ceiling,
};

/// The stable snake_case name of a mode, e.g. "half_even".
[[nodiscard]] constexpr std::string_view to_string(rounding mode) noexcept {
    switch (mode) {
        case rounding::half_even:
            return "half_even";
        case rounding::half_up:
            return "half_up";
        case rounding::half_down:
            return "half_down";
        case rounding::toward_zero:
            return "toward_zero";
        case rounding::away_from_zero:
            return "away_from_zero";
        case rounding::floor:
            return "floor";
        case rounding::ceiling:
            return "ceiling";
    }
    return "unknown_rounding";
}

/// The mode named exactly `name` (as to_string writes it), for configuration
/// read from outside; malformed, field "rounding", for any other text.
[[nodiscard]] inline result<rounding> parse_rounding(std::string_view name) {
    for (const rounding mode : all_roundings) {
        if (to_string(mode) == name) {
            return mode;
        }
    }
    return error{errc::malformed, "rounding",
                 "must be one of half_even, half_up, half_down, toward_zero, "
                 "away_from_zero, floor, ceiling"};
}

namespace detail {

/// numerator / denominator rounded to an integer by `mode`, exactly.
/// `Int` is any signed integer type with truncating / and % (built-in,
/// __int128, Boost.Multiprecision); the denominator must be positive. The
/// result's magnitude is at most |numerator|, plus one when it rounds away
/// from zero past a quotient of 0, so it cannot overflow when denominator > 1.
template <class Int>
[[nodiscard]] constexpr Int divide_rounded(const Int& numerator, const Int& denominator,
                                           rounding mode) {
    assert(denominator > 0);
    Int quotient = numerator / denominator;
    const Int remainder = numerator % denominator;  // sign of numerator, |remainder| < denominator
    if (remainder == 0) {
        return quotient;
    }
    const bool negative = numerator < 0;
    const Int below = negative ? Int(-remainder) : remainder;  // distance to the truncated value
    const Int above = denominator - below;                     // distance to the next one out
    bool away = false;
    switch (mode) {
        case rounding::half_even:
            away = below > above || (below == above && quotient % 2 != 0);
            break;
        case rounding::half_up:
            away = below >= above;
            break;
        case rounding::half_down:
            away = below > above;
            break;
        case rounding::toward_zero:
            away = false;
            break;
        case rounding::away_from_zero:
            away = true;
            break;
        case rounding::floor:
            away = negative;
            break;
        case rounding::ceiling:
            away = !negative;
            break;
    }
    if (away) {
        if (negative) {
            quotient -= 1;
        } else {
            quotient += 1;
        }
    }
    return quotient;
}

}  // namespace detail

}  // namespace orderly

/// Formats a rounding mode as its stable name.
template <>
struct fmt::formatter<orderly::rounding> : fmt::formatter<std::string_view> {
    /// Writes the mode's name.
    auto format(orderly::rounding mode, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(mode), ctx);
    }
};
