#pragma once
/// \file
/// An exact rate (a tax rate, a commission, a discount, a share) as a reduced
/// fraction of 64-bit integers: "0.065" is 13/200, never the binary double
/// nearest to it.

#include <orderly/core/detail/decimal.hpp>
#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <cassert>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace orderly {

namespace detail {

// 128-bit integers for exact intermediate products of two 64-bit values.
// GCC and Clang (the compilers orderly supports) have them; __extension__
// keeps -Wpedantic quiet about the name.
__extension__ typedef __int128 int128;            ///< Signed 128-bit integer.
__extension__ typedef unsigned __int128 uint128;  ///< Unsigned 128-bit integer.

/// |value| as unsigned; exact for every value, the most negative included.
[[nodiscard]] constexpr uint128 magnitude(int128 value) noexcept {
    return value < 0 ? uint128(0) - static_cast<uint128>(value) : static_cast<uint128>(value);
}

/// Greatest common divisor (Euclid); gcd(0, b) is b.
[[nodiscard]] constexpr uint128 gcd(uint128 a, uint128 b) noexcept {
    while (b != 0) {
        const uint128 rest = a % b;
        a = b;
        b = rest;
    }
    return a;
}

}  // namespace detail

/// An exact rational rate, numerator / denominator, always reduced and with
/// a positive denominator, so equal rates have equal terms and compare equal.
/// Both terms are 64-bit; anything that would not fit is an overflow error.
/// A rate may be negative or above one (it is a plain number); callers that
/// need 0..1 check that themselves.
///
/// Text, for `parse`, `percent` and `per_mille`: an optional '-', then either
/// a plain decimal (digits, optionally '.' and at least one more digit, at
/// most 30 digits after the point: "0.065", "12", "-1.5") or a fraction of
/// two integers ("1/3", "-7/200"), with no spaces, '+', exponent, leading
/// '.', "nan" or "inf". to_string writes this grammar, so parse round-trips.
class rate {
public:
    /// The integer type of both terms.
    using rep_type = std::int64_t;

    /// Longest text the parsers read; longer text is malformed.
    static constexpr std::size_t max_text_length = 64;

    /// The rate 0.
    constexpr rate() = default;

    /// The rate 0.
    [[nodiscard]] static constexpr rate zero() noexcept { return rate(); }
    /// The rate 1.
    [[nodiscard]] static constexpr rate one() noexcept { return rate(1, 1); }

    /// numerator / denominator, reduced. A zero denominator is division_by_zero;
    /// a result whose reduced terms do not fit 64 bits is overflow. Field "rate".
    [[nodiscard]] static result<rate> ratio(rep_type numerator, rep_type denominator) {
        if (denominator == 0) {
            return error{errc::division_by_zero, "rate", "has a zero denominator"};
        }
        return reduce(numerator, denominator);
    }

    /// The rate written as decimal or fraction text: parse("0.065") is 13/200.
    /// Refusals (field "rate"): empty (missing_value); anything outside the
    /// grammar above (malformed); a zero denominator (division_by_zero);
    /// a value whose reduced terms do not fit (overflow).
    [[nodiscard]] static result<rate> parse(std::string_view text) { return parse_scaled(text, 1); }

    /// A percentage: percent("12.5") is 12.5 % = 1/8. Text and refusals as parse.
    [[nodiscard]] static result<rate> percent(std::string_view text) {
        return parse_scaled(text, 100);
    }

    /// A per-mille figure: per_mille("2.5") is 2.5 ‰ = 1/400. Text and refusals as parse.
    [[nodiscard]] static result<rate> per_mille(std::string_view text) {
        return parse_scaled(text, 1000);
    }

    /// The reduced numerator; carries the sign.
    [[nodiscard]] constexpr rep_type numerator() const noexcept { return numerator_; }
    /// The reduced denominator; always positive.
    [[nodiscard]] constexpr rep_type denominator() const noexcept { return denominator_; }
    /// True for 0.
    [[nodiscard]] constexpr bool is_zero() const noexcept { return numerator_ == 0; }
    /// True below 0.
    [[nodiscard]] constexpr bool is_negative() const noexcept { return numerator_ < 0; }
    /// True when the rate is a whole number (denominator 1).
    [[nodiscard]] constexpr bool is_integer() const noexcept { return denominator_ == 1; }

    /// The sum, e.g. one() + tax for a gross-up; overflow (field "rate") if it does not fit.
    [[nodiscard]] result<rate> plus(const rate& other) const {
        return reduce(detail::int128(numerator_) * other.denominator_ +
                          detail::int128(other.numerator_) * denominator_,
                      detail::int128(denominator_) * other.denominator_);
    }
    /// The difference, e.g. one() - discount; overflow (field "rate") if it does not fit.
    [[nodiscard]] result<rate> minus(const rate& other) const {
        return reduce(detail::int128(numerator_) * other.denominator_ -
                          detail::int128(other.numerator_) * denominator_,
                      detail::int128(denominator_) * other.denominator_);
    }
    /// The product, e.g. a commission on a share; overflow (field "rate") if it does not fit.
    [[nodiscard]] result<rate> times(const rate& other) const {
        return reduce(detail::int128(numerator_) * other.numerator_,
                      detail::int128(denominator_) * other.denominator_);
    }
    /// 1 / rate, e.g. to take tax out of a gross price; division_by_zero
    /// (field "rate") for the rate 0.
    [[nodiscard]] result<rate> inverse() const {
        if (numerator_ == 0) {
            return error{errc::division_by_zero, "rate", "0 has no inverse"};
        }
        return reduce(denominator_, numerator_);
    }
    /// -rate; always fits, as a numerator is never the most negative 64-bit value.
    [[nodiscard]] constexpr rate negated() const noexcept {
        return rate(-numerator_, denominator_);
    }

    /// A plain decimal when the rate has one with at most 18 digits after the
    /// point ("0.065", "-1.5", "12"), else the fraction "n/d" ("1/3").
    /// parse() reads every text this writes back to the same rate.
    [[nodiscard]] std::string to_string() const {
        if (denominator_ == 1) {
            return fmt::format("{}", numerator_);
        }
        const int digits = decimal_digits();
        if (digits < 0) {
            return fmt::format("{}/{}", numerator_, denominator_);
        }
        const std::uint64_t scale = detail::pow10(static_cast<unsigned>(digits));
        // |numerator| * (10^digits / denominator) < 2^63 * 10^18 < 2^127: exact.
        const detail::uint128 scaled =
            detail::magnitude(numerator_) * (scale / static_cast<std::uint64_t>(denominator_));
        return fmt::format("{}{}.{:0{}}", numerator_ < 0 ? "-" : "",
                           static_cast<std::uint64_t>(scaled / scale),
                           static_cast<std::uint64_t>(scaled % scale), digits);
    }

    /// Rates are equal when their reduced terms are.
    friend constexpr bool operator==(const rate&, const rate&) noexcept = default;
    /// Rates are ordered by value (exact cross-multiplication).
    friend constexpr std::strong_ordering operator<=>(const rate& a, const rate& b) noexcept {
        const detail::int128 left = detail::int128(a.numerator_) * b.denominator_;
        const detail::int128 right = detail::int128(b.numerator_) * a.denominator_;
        if (left < right) {
            return std::strong_ordering::less;
        }
        return left == right ? std::strong_ordering::equal : std::strong_ordering::greater;
    }

private:
    // Already reduced, denominator > 0.
    constexpr rate(rep_type numerator, rep_type denominator) noexcept
        : numerator_(numerator), denominator_(denominator) {}

    static constexpr int max_fraction_digits = 30;

    // Digits after the point of the exact decimal (1..18), or -1 when the
    // decimal does not terminate or needs more than 18 digits.
    [[nodiscard]] constexpr int decimal_digits() const noexcept {
        auto rest = static_cast<std::uint64_t>(denominator_);
        int twos = 0;
        int fives = 0;
        while (rest % 2 == 0) {
            rest /= 2;
            ++twos;
        }
        while (rest % 5 == 0) {
            rest /= 5;
            ++fives;
        }
        const int digits = twos > fives ? twos : fives;
        return rest == 1 && digits <= 18 ? digits : -1;
    }

    // numerator / denominator (denominator != 0) reduced, or overflow.
    [[nodiscard]] static result<rate> reduce(detail::int128 numerator, detail::int128 denominator) {
        assert(denominator != 0 && "callers refuse a zero denominator first");
        const bool negative = (numerator < 0) != (denominator < 0);
        detail::uint128 top = detail::magnitude(numerator);
        detail::uint128 bottom = detail::magnitude(denominator);
        const detail::uint128 divisor = detail::gcd(top, bottom);
        top /= divisor;
        bottom /= divisor;
        constexpr auto max = static_cast<detail::uint128>(std::numeric_limits<rep_type>::max());
        if (top > max || bottom > max) {
            return error{errc::overflow, "rate", "does not fit a fraction of 64-bit integers"};
        }
        const auto signed_top = static_cast<rep_type>(top);
        return rate(negative ? -signed_top : signed_top, static_cast<rep_type>(bottom));
    }

    // The value of text divided by `divisor` (1, 100 or 1000).
    [[nodiscard]] static result<rate> parse_scaled(std::string_view text, std::int64_t divisor) {
        if (text.empty()) {
            return error{errc::missing_value, "rate", "must not be empty"};
        }
        if (text.size() > max_text_length) {
            return malformed();
        }
        const bool negative = text.front() == '-';
        if (negative) {
            text.remove_prefix(1);
        }
        const std::size_t slash = text.find('/');
        if (slash != std::string_view::npos) {
            return parse_fraction(text.substr(0, slash), text.substr(slash + 1), negative, divisor);
        }
        const std::size_t point = text.find('.');
        std::string_view whole = text.substr(0, point);
        std::string_view fraction =
            point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
        if (!detail::all_digits(whole) ||
            (point != std::string_view::npos && !detail::all_digits(fraction))) {
            return malformed();
        }
        while (!fraction.empty() && fraction.back() == '0') {
            fraction.remove_suffix(1);  // 0.50 is 0.5: no needless denominator digits
        }
        if (fraction.size() > max_fraction_digits) {
            return error{
                errc::overflow, "rate",
                fmt::format("has more than {} digits after the point", max_fraction_digits)};
        }
        detail::int128 value = 0;
        if (!accumulate(whole, value) || !accumulate(fraction, value)) {
            return too_many_digits();
        }
        detail::int128 scale = divisor;
        for (std::size_t i = 0; i < fraction.size(); ++i) {
            scale *= 10;  // at most 10^30 * 1000
        }
        return reduce(negative ? -value : value, scale);
    }

    [[nodiscard]] static result<rate> parse_fraction(std::string_view top, std::string_view bottom,
                                                     bool negative, std::int64_t divisor) {
        if (!detail::all_digits(top) || !detail::all_digits(bottom)) {
            return malformed();
        }
        detail::int128 numerator = 0;
        detail::int128 denominator = 0;
        if (!accumulate(top, numerator) || !accumulate(bottom, denominator)) {
            return too_many_digits();
        }
        if (denominator == 0) {
            return error{errc::division_by_zero, "rate", "has a zero denominator"};
        }
        if (denominator > std::numeric_limits<rep_type>::max()) {
            return error{errc::overflow, "rate", "does not fit a fraction of 64-bit integers"};
        }
        return reduce(negative ? -numerator : numerator, denominator * divisor);
    }

    // Appends decimal digits to value; false once value would reach 10^38.
    [[nodiscard]] static constexpr bool accumulate(std::string_view digits,
                                                   detail::int128& value) noexcept {
        constexpr detail::int128 limit = detail::int128(10'000'000'000'000'000'000ULL) *
                                         detail::int128(1'000'000'000'000'000'000ULL);  // 10^37
        for (const char c : digits) {
            if (value >= limit) {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }

    [[nodiscard]] static error malformed() {
        return error{errc::malformed, "rate",
                     "must be a plain decimal such as 0.065 or a fraction such as 1/3"};
    }
    [[nodiscard]] static error too_many_digits() {
        return error{errc::overflow, "rate", "has too many digits"};
    }

    rep_type numerator_ = 0;
    rep_type denominator_ = 1;
};

}  // namespace orderly

/// Formats a rate as to_string() does ("0.065", "1/3"); string specs apply.
template <>
struct fmt::formatter<orderly::rate> : fmt::formatter<std::string_view> {
    /// Writes the rate.
    auto format(const orderly::rate& r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
    }
};
