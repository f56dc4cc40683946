#pragma once
/// \file
/// Exact money: an integer number of minor units (fen, cents, fils) in a
/// checked 128-bit integer, tagged with its ISO 4217 currency. Mixing
/// currencies and overflowing are errors returned as values; nothing rounds
/// unless a rounding mode is named, and nothing wraps.

#include <orderly/core/currency.hpp>
#include <orderly/core/detail/decimal.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/rate.hpp>
#include <orderly/core/rounding.hpp>

#include <fmt/format.h>
#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace orderly {

namespace detail {

/// 256-bit checked integer for exact intermediates (an amount times a rate's
/// numerator, an amount times a weight) before they are brought back to 128 bits.
using money_wide = boost::multiprecision::number<
    boost::multiprecision::cpp_int_backend<256, 256, boost::multiprecision::signed_magnitude,
                                           boost::multiprecision::checked, void>,
    boost::multiprecision::et_off>;

}  // namespace detail

/// An amount of money: a whole number of the currency's minor units plus the
/// currency. 12.50 CNY is 1250 minor units of CNY; 1000 JPY is 1000 of JPY.
///
/// The amount is a checked 128-bit signed-magnitude integer, so it ranges over
/// ±(2^128 − 1) minor units (negation never overflows) and any operation that
/// would leave that range returns errc::overflow instead of wrapping. There is
/// no default money: every amount has a real currency. No operation throws
/// for an expected failure; all of them return a result.
///
/// Text ("12.50 CNY"): an optional '-', the integer part (one or more ASCII
/// digits), optionally '.' and one or more fraction digits, exactly one space,
/// and the three-letter code. Fewer fraction digits than the currency has are
/// accepted and mean trailing zeros ("12.5 CNY" is 12.50 CNY, "12 CNY" is
/// 12.00 CNY); more are refused rather than rounded ("1.234 USD", and "1.5 JPY"
/// or even "1.0 JPY" for a currency without minor units). Leading zeros are
/// accepted ("007.50 USD"); text longer than max_text_length is not. to_string always
/// writes all the currency's digits, so parse(to_string(m)) == m for every m.
class money {
public:
    /// The integer type of an amount in minor units: Boost.Multiprecision,
    /// 128-bit magnitude plus sign, overflow-checked, expression templates
    /// off (so `auto x = a + b` holds a value, not an expression).
    using amount_type = boost::multiprecision::number<
        boost::multiprecision::cpp_int_backend<128, 128, boost::multiprecision::signed_magnitude,
                                               boost::multiprecision::checked, void>,
        boost::multiprecision::et_off>;

    /// Longest text parse() reads; longer text is malformed.
    static constexpr std::size_t max_text_length = 64;
    /// Most parts allocate() and split() produce; a limit, so a wrong count
    /// is an error rather than an attempt to allocate memory without bound.
    static constexpr std::size_t max_parts = 1'000'000;

    /// Nothing, in `currency`.
    [[nodiscard]] static money zero(orderly::currency currency) { return money(0, currency); }

    /// `amount_minor` minor units of `currency`: from_minor(1250, CNY) is 12.50 CNY.
    [[nodiscard]] static money from_minor(const amount_type& amount_minor,
                                          orderly::currency currency) {
        return money(amount_minor, currency);
    }

    /// Reads "12.50 CNY" (grammar in the class comment). Refusals: empty text
    /// (missing_value, "amount"); no space and code (missing_value, "currency");
    /// an amount outside the grammar, leading spaces included (malformed,
    /// "amount"); a code that is not three uppercase letters, extra spaces
    /// included (malformed, "currency"); an unknown code (unknown_currency,
    /// "currency"); more fraction digits than the currency has (malformed,
    /// "amount"); an amount beyond ±(2^128 − 1) minor units (overflow, "amount").
    /// When both parts are wrong, the amount is reported.
    [[nodiscard]] static result<money> parse(std::string_view text) {
        if (text.empty()) {
            return error{errc::missing_value, "amount", "must not be empty"};
        }
        if (text.size() > max_text_length) {
            return too_long();
        }
        const std::size_t space = text.find(' ');
        if (space == std::string_view::npos) {
            return error{errc::missing_value, "currency",
                         "must follow the amount after one space, as in \"12.50 CNY\""};
        }
        const auto decimal = split_decimal(text.substr(0, space));
        if (!decimal) {
            return malformed_amount();
        }
        const auto currency = orderly::currency::from_code(text.substr(space + 1));
        if (!currency) {
            return currency.error();
        }
        return from_decimal(*decimal, *currency);
    }

    /// Reads an amount without its code, "12.50", in `currency`: for hosts
    /// that keep the currency in a field of its own. Same amount grammar and
    /// refusals as parse("12.50 CNY"), all with field "amount".
    [[nodiscard]] static result<money> parse(std::string_view amount, orderly::currency currency) {
        if (amount.empty()) {
            return error{errc::missing_value, "amount", "must not be empty"};
        }
        if (amount.size() > max_text_length) {
            return too_long();
        }
        const auto decimal = split_decimal(amount);
        if (!decimal) {
            return malformed_amount();
        }
        return from_decimal(*decimal, currency);
    }

    /// The amount in minor units: 1250 for 12.50 CNY.
    [[nodiscard]] const amount_type& amount_minor() const noexcept { return amount_; }

    /// The amount in minor units as a 64-bit integer, for stores and wire
    /// formats that hold one; overflow (field "amount") when it does not fit.
    [[nodiscard]] result<std::int64_t> amount_minor_int64() const {
        if (!fits_int64()) {
            return error{errc::overflow, "amount", "does not fit a 64-bit integer"};
        }
        return amount_.convert_to<std::int64_t>();
    }

    /// The currency.
    [[nodiscard]] orderly::currency currency() const noexcept { return currency_; }
    /// True for no money.
    [[nodiscard]] bool is_zero() const noexcept { return amount_.is_zero(); }
    /// True below zero (a refund, a discount line).
    [[nodiscard]] bool is_negative() const noexcept { return amount_.sign() < 0; }
    /// True above zero.
    [[nodiscard]] bool is_positive() const noexcept { return amount_.sign() > 0; }

    /// The sum. currency_mismatch (field "currency") for different currencies;
    /// overflow (field "amount") beyond 128 bits.
    [[nodiscard]] result<money> plus(const money& other) const {
        if (currency_ != other.currency_) {
            return mismatch(other.currency_);
        }
        try {
            return money(amount_ + other.amount_, currency_);
        } catch (const std::overflow_error&) {
            return overflow();
        }
    }

    /// The difference; refusals as plus().
    [[nodiscard]] result<money> minus(const money& other) const {
        if (currency_ != other.currency_) {
            return mismatch(other.currency_);
        }
        try {
            return money(amount_ - other.amount_, currency_);
        } catch (const std::overflow_error&) {
            return overflow();
        }
    }

    /// The amount times a whole number, e.g. a unit price times a count (a
    /// negative factor negates); overflow (field "amount") beyond 128 bits.
    [[nodiscard]] result<money> times(std::int64_t factor) const {
        try {
            return money(amount_ * factor, currency_);
        } catch (const std::overflow_error&) {
            return overflow();
        }
    }

    /// The amount times a quantity: a unit price times the units on a line.
    [[nodiscard]] result<money> times(quantity units) const { return times(units.units()); }

    /// The amount times a rate (tax, commission, discount), rounded once to a
    /// minor unit by `mode`: amount × numerator / denominator is computed
    /// exactly in 256 bits first. 10.00 CNY × 0.065 = 65 fen; 0.10 CNY × 1/4 is
    /// 2.5 fen, 2 fen with half_even. Overflow (field "amount") when the
    /// rounded result does not fit 128 bits.
    [[nodiscard]] result<money> times(const rate& factor,
                                      rounding mode = rounding::half_even) const {
        if (fits_int64()) {  // the common case: exact in 128-bit built-in arithmetic
            const detail::int128 product =
                detail::int128(amount_.convert_to<std::int64_t>()) * factor.numerator();
            return money(from_int128(detail::divide_rounded<detail::int128>(
                             product, factor.denominator(), mode)),
                         currency_);
        }
        try {
            const detail::money_wide product = detail::money_wide(amount_) * factor.numerator();
            const detail::money_wide rounded =
                detail::divide_rounded(product, detail::money_wide(factor.denominator()), mode);
            if (boost::multiprecision::abs(rounded) > detail::money_wide(max_amount())) {
                return overflow();
            }
            return money(amount_type(rounded), currency_);
        } catch (const std::overflow_error&) {
            return overflow();
        }
    }

    /// The same amount with the opposite sign; always fits (the range is symmetric).
    [[nodiscard]] money negated() const {
        return is_zero() ? *this : money(amount_type(-amount_), currency_);
    }

    /// Shares of this amount in proportion to `weights`, by largest remainder:
    /// each part first gets the floor of its exact share, then the minor units
    /// left over (fewer than the number of parts) go one each to the parts
    /// with the largest remainders, the earlier index first on a tie. So the
    /// parts sum exactly to this amount, a zero weight gets zero, equal weights
    /// get parts at most one minor unit apart, and a negative amount is split
    /// as its magnitude and negated (parts of -x are the negations of parts of x).
    /// Refusals: no weights, or all zero (division_by_zero, "weights"); a
    /// negative weight or more than max_parts weights (invalid_value, "weights").
    [[nodiscard]] result<std::vector<money>> allocate(std::span<const std::int64_t> weights) const {
        return allocate_by(weights.size(), [weights](std::size_t i) { return weights[i]; });
    }

    /// Shares in proportion to quantities, e.g. a shipping fee over order
    /// lines by units; as allocate() over their unit counts.
    [[nodiscard]] result<std::vector<money>> allocate(std::span<const quantity> weights) const {
        return allocate_by(weights.size(), [weights](std::size_t i) { return weights[i].units(); });
    }

    /// `parts` equal shares, as allocate() over `parts` equal weights: the
    /// first (|amount| mod parts) parts get one minor unit more. 0 parts is
    /// division_by_zero and more than max_parts invalid_value (field "parts").
    [[nodiscard]] result<std::vector<money>> split(std::size_t parts) const {
        if (parts == 0) {
            return error{errc::division_by_zero, "parts", "cannot split into 0 parts"};
        }
        if (parts > max_parts) {
            return error{errc::invalid_value, "parts",
                         fmt::format("must be at most {}, got {}", max_parts, parts)};
        }
        const amount_type magnitude = boost::multiprecision::abs(amount_);
        amount_type share;
        amount_type rest;
        boost::multiprecision::divide_qr(magnitude, amount_type(parts), share, rest);
        const auto bigger = rest.convert_to<std::size_t>();  // < parts
        const money small = signed_money(share);
        const money big = signed_money(amount_type(share + 1));  // <= magnitude: no overflow
        std::vector<money> result;
        result.reserve(parts);
        result.insert(result.end(), bigger, big);
        result.insert(result.end(), parts - bigger, small);
        return result;
    }

    /// "12.50 CNY", "-3.10 USD", "1000 JPY", "1.250 KWD": always every minor
    /// digit of the currency, a '-' for negative amounts, never a '+', a
    /// grouping separator or a symbol. parse() reads it back.
    [[nodiscard]] std::string to_string() const {
        std::array<char, text_capacity> buffer{};
        return std::string(buffer.data(), write(buffer));
    }

    /// Same currency and same amount.
    friend bool operator==(const money& a, const money& b) noexcept {
        return a.currency_ == b.currency_ && a.amount_ == b.amount_;
    }

    /// Ordered by amount within one currency; amounts in different currencies
    /// are unordered (every comparison false), never silently compared.
    friend std::partial_ordering operator<=>(const money& a, const money& b) noexcept {
        if (a.currency_ != b.currency_) {
            return std::partial_ordering::unordered;
        }
        return a.amount_order(b);
    }

    /// The order of two amounts of one currency; currency_mismatch (field
    /// "currency") for different currencies, where operator<=> says unordered.
    [[nodiscard]] static result<std::strong_ordering> compare(const money& a, const money& b) {
        if (a.currency_ != b.currency_) {
            return a.mismatch(b.currency_);
        }
        return a.amount_order(b);
    }

    /// Same as a.plus(b).
    [[nodiscard]] friend result<money> operator+(const money& a, const money& b) {
        return a.plus(b);
    }
    /// Same as a.minus(b).
    [[nodiscard]] friend result<money> operator-(const money& a, const money& b) {
        return a.minus(b);
    }

    /// Room for the longest text write() produces: '-', 39 digits, '.', a
    /// leading "0" before up to 4 minor digits, ' ', code.
    static constexpr std::size_t text_capacity = 64;

    /// Writes to_string()'s text into `buffer` and returns its length; for
    /// formatting without a heap allocation.
    std::size_t write(std::array<char, text_capacity>& buffer) const {
        std::array<char, 48> reversed{};  // digits of the magnitude, least significant first
        std::size_t count = write_reversed_digits(reversed);
        const auto digits = static_cast<std::size_t>(currency_.minor_digits());
        while (count < digits + 1) {
            reversed[count++] = '0';  // 5 fen is "0.05"
        }
        std::size_t length = 0;
        if (is_negative()) {
            buffer[length++] = '-';
        }
        for (std::size_t i = count; i > digits; --i) {
            buffer[length++] = reversed[i - 1];
        }
        if (digits > 0) {
            buffer[length++] = '.';
            for (std::size_t i = digits; i > 0; --i) {
                buffer[length++] = reversed[i - 1];
            }
        }
        buffer[length++] = ' ';
        for (const char c : currency_.code()) {
            buffer[length++] = c;
        }
        return length;
    }

private:
    money(amount_type amount, orderly::currency currency) noexcept
        : amount_(std::move(amount)), currency_(currency) {}

    [[nodiscard]] static const amount_type& max_amount() {
        static const amount_type max = std::numeric_limits<amount_type>::max();
        return max;
    }

    // The order of the two amounts, currencies aside: what <=> and compare() share.
    [[nodiscard]] std::strong_ordering amount_order(const money& other) const noexcept {
        return amount_ < other.amount_    ? std::strong_ordering::less
               : amount_ == other.amount_ ? std::strong_ordering::equal
                                          : std::strong_ordering::greater;
    }

    [[nodiscard]] bool fits_int64() const noexcept {
        return amount_ >= std::numeric_limits<std::int64_t>::min() &&
               amount_ <= std::numeric_limits<std::int64_t>::max();
    }

    // |value| < 2^127 always fits amount_type.
    [[nodiscard]] static amount_type from_int128(detail::int128 value) {
        if (value >= std::numeric_limits<std::int64_t>::min() &&
            value <= std::numeric_limits<std::int64_t>::max()) {
            return amount_type(static_cast<std::int64_t>(value));
        }
        return signed_amount(from_uint128(detail::magnitude(value)), value < 0);
    }

    [[nodiscard]] static amount_type from_uint128(detail::uint128 value) {
        amount_type result = static_cast<std::uint64_t>(value >> 64);
        result <<= 64;
        result += static_cast<std::uint64_t>(value);
        return result;
    }

    // magnitude with the given sign; never a negative zero.
    [[nodiscard]] static amount_type signed_amount(amount_type magnitude, bool negative) {
        if (negative && !magnitude.is_zero()) {
            magnitude = -magnitude;
        }
        return magnitude;
    }

    // A part of this amount: `magnitude` with this amount's sign.
    [[nodiscard]] money signed_money(const amount_type& magnitude) const {
        return money(signed_amount(magnitude, is_negative()), currency_);
    }

    // An amount's text taken apart: "-12.5" is negative, "12" and "5".
    struct decimal_parts {
        bool negative = false;
        std::string_view whole;     // one or more digits
        std::string_view fraction;  // zero or more digits
    };

    // The parts of text in the amount grammar, or nothing when it is outside it.
    [[nodiscard]] static std::optional<decimal_parts> split_decimal(std::string_view text) {
        decimal_parts parts;
        parts.negative = !text.empty() && text.front() == '-';
        if (parts.negative) {
            text.remove_prefix(1);
        }
        const std::size_t point = text.find('.');
        parts.whole = text.substr(0, point);
        if (point != std::string_view::npos) {
            parts.fraction = text.substr(point + 1);
            if (!detail::all_digits(parts.fraction)) {
                return std::nullopt;
            }
        }
        if (!detail::all_digits(parts.whole)) {
            return std::nullopt;
        }
        return parts;
    }

    // The money the parts denote in `currency`: refuses extra fraction digits
    // and amounts beyond 128 bits.
    [[nodiscard]] static result<money> from_decimal(const decimal_parts& parts,
                                                    orderly::currency currency) {
        const auto digits = static_cast<std::size_t>(currency.minor_digits());
        if (parts.fraction.size() > digits) {
            return error{errc::malformed, "amount",
                         fmt::format("has {} digits after the point; {} has {}",
                                     parts.fraction.size(), currency, digits)};
        }
        const std::size_t padding = digits - parts.fraction.size();
        if (parts.whole.size() + digits <= 18) {  // below 10^18: exact in 64 bits
            std::uint64_t value = 0;
            append_digits(parts.whole, value);
            append_digits(parts.fraction, value);
            value *= detail::pow10(static_cast<unsigned>(padding));
            return money(signed_amount(amount_type(value), parts.negative), currency);
        }
        try {
            amount_type value = 0;
            append_digits(parts.whole, value);
            append_digits(parts.fraction, value);
            value *= detail::pow10(static_cast<unsigned>(padding));
            return money(signed_amount(std::move(value), parts.negative), currency);
        } catch (const std::overflow_error&) {
            return error{errc::overflow, "amount",
                         "is beyond what 128 bits of minor units can hold"};
        }
    }

    // value = value * 10^digits.size() + digits; the caller bounds the length.
    static void append_digits(std::string_view digits, std::uint64_t& value) noexcept {
        for (const char c : digits) {
            value = value * 10 + static_cast<std::uint64_t>(c - '0');
        }
    }

    // The same for any length, 18 digits at a time; throws std::overflow_error
    // (caught by parse) beyond 128 bits.
    static void append_digits(std::string_view digits, amount_type& value) {
        while (!digits.empty()) {
            const std::size_t take = std::min<std::size_t>(digits.size(), 18);
            std::uint64_t chunk = 0;
            append_digits(digits.substr(0, take), chunk);
            value *= detail::pow10(static_cast<unsigned>(take));
            value += chunk;
            digits.remove_prefix(take);
        }
    }

    // Decimal digits of |amount|, least significant first; returns how many.
    std::size_t write_reversed_digits(std::array<char, 48>& reversed) const {
        constexpr std::uint64_t chunk_base = 10'000'000'000'000'000'000ULL;  // 10^19
        amount_type rest = boost::multiprecision::abs(amount_);
        std::size_t count = 0;
        while (rest > std::numeric_limits<std::uint64_t>::max()) {
            amount_type high;
            amount_type low;
            boost::multiprecision::divide_qr(rest, amount_type(chunk_base), high, low);
            auto chunk = low.convert_to<std::uint64_t>();
            for (int i = 0; i < 19; ++i) {  // a middle chunk keeps its leading zeros
                reversed[count++] = static_cast<char>('0' + chunk % 10);
                chunk /= 10;
            }
            rest = high;
        }
        auto top = rest.convert_to<std::uint64_t>();
        do {
            reversed[count++] = static_cast<char>('0' + top % 10);
            top /= 10;
        } while (top != 0);
        return count;
    }

    // Largest remainder over count weights, weight_at(i) giving each.
    template <class WeightAt>
    [[nodiscard]] result<std::vector<money>> allocate_by(std::size_t count,
                                                         WeightAt weight_at) const {
        if (count == 0) {
            return error{errc::division_by_zero, "weights",
                         "there are no weights to allocate over"};
        }
        if (count > max_parts) {
            return error{errc::invalid_value, "weights",
                         fmt::format("must be at most {} weights, got {}", max_parts, count)};
        }
        detail::uint128 total = 0;  // < 10^6 * 2^63: cannot overflow
        for (std::size_t i = 0; i < count; ++i) {
            const std::int64_t weight = weight_at(i);
            if (weight < 0) {
                return error{errc::invalid_value, "weights",
                             fmt::format("weight {} is negative ({})", i, weight)};
            }
            total += static_cast<std::uint64_t>(weight);
        }
        if (total == 0) {
            return error{errc::division_by_zero, "weights", "are all zero"};
        }
        const amount_type magnitude = boost::multiprecision::abs(amount_);
        std::vector<money> parts;
        parts.reserve(count);
        if (magnitude <= std::numeric_limits<std::uint64_t>::max()) {
            // magnitude * weight < 2^64 * 2^63: exact in 128-bit built-in arithmetic.
            const auto whole = detail::uint128(magnitude.convert_to<std::uint64_t>());
            const auto shares = largest_remainder<detail::uint128>(whole, count, weight_at, total);
            for (const detail::uint128 share : shares) {
                parts.push_back(signed_money(from_uint128(share)));
            }
        } else {
            const auto shares = largest_remainder<detail::money_wide>(
                detail::money_wide(magnitude), count, weight_at,
                detail::money_wide(from_uint128(total)));
            for (const detail::money_wide& share : shares) {
                parts.push_back(signed_money(amount_type(share)));  // share <= magnitude
            }
        }
        return parts;
    }

    // Shares of `whole` (>= 0) by weight: floors, then the leftover units to
    // the largest remainders, earlier index first on a tie.
    template <class Wide, class WeightAt>
    [[nodiscard]] static std::vector<Wide> largest_remainder(const Wide& whole, std::size_t count,
                                                             WeightAt weight_at,
                                                             const Wide& total) {
        std::vector<Wide> shares(count);
        std::vector<Wide> remainders(count);
        Wide given = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const Wide product = whole * Wide(static_cast<std::uint64_t>(weight_at(i)));
            shares[i] = product / total;
            remainders[i] = product % total;
            given += shares[i];
        }
        // The leftover is the sum of remainders / total: an integer below count,
        // and no more than the number of non-zero remainders, so a zero weight
        // (remainder 0) never receives a unit.
        const Wide leftover = whole - given;
        std::size_t extra = 0;
        if constexpr (std::is_same_v<Wide, detail::uint128>) {
            extra = static_cast<std::size_t>(leftover);
        } else {
            extra = leftover.template convert_to<std::size_t>();
        }
        if (extra == 0) {
            return shares;
        }
        std::vector<std::size_t> order(count);
        std::iota(order.begin(), order.end(), std::size_t{0});
        const auto larger_first = [&remainders](std::size_t a, std::size_t b) {
            return remainders[a] > remainders[b] || (remainders[a] == remainders[b] && a < b);
        };
        std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(extra - 1),
                         order.end(), larger_first);
        for (std::size_t k = 0; k < extra; ++k) {
            shares[order[k]] += 1;
        }
        return shares;
    }

    [[nodiscard]] error mismatch(orderly::currency other) const {
        return error{errc::currency_mismatch, "currency",
                     fmt::format("cannot combine {} with {}", currency_, other)};
    }
    [[nodiscard]] static error overflow() {
        return error{errc::overflow, "amount", "the result is beyond 128 bits of minor units"};
    }
    [[nodiscard]] static error malformed_amount() {
        return error{errc::malformed, "amount",
                     "must be digits with an optional '-' and '.', as in \"-12.50\""};
    }
    [[nodiscard]] static error too_long() {
        return error{errc::malformed, "amount",
                     fmt::format("is longer than {} characters", max_text_length)};
    }

    amount_type amount_;
    orderly::currency currency_;
};

}  // namespace orderly

/// Formats money as to_string() does, "12.50 CNY"; string specs (width, fill,
/// alignment) apply to the whole text.
template <>
struct fmt::formatter<orderly::money> : fmt::formatter<std::string_view> {
    /// Writes the amount and code.
    auto format(const orderly::money& m, fmt::format_context& ctx) const {
        std::array<char, orderly::money::text_capacity> buffer{};
        const std::size_t length = m.write(buffer);
        return fmt::formatter<std::string_view>::format(std::string_view(buffer.data(), length),
                                                        ctx);
    }
};
