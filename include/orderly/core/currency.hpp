#pragma once
/// \file
/// ISO 4217 currencies: the alphabetic code, the numeric code and the number
/// of minor-unit digits of every active currency, known at compile time so a
/// currency is one byte and the common ones are constants.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace orderly {

namespace detail {

/// One row of the ISO 4217 table ("List One"): what orderly knows of a currency.
struct currency_entry {
    std::array<char, 3> code;    ///< Alphabetic code, three uppercase ASCII letters.
    std::uint16_t numeric_code;  ///< Numeric code, 1 to 999 (written with three digits).
    std::uint8_t minor_digits;   ///< Digits after the decimal point: 0, 2, 3 or 4.
};

/// Builds a table row; keeps the table below readable.
consteval currency_entry iso(const char (&code)[4], std::uint16_t numeric_code,
                             std::uint8_t minor_digits) {
    return currency_entry{{code[0], code[1], code[2]}, numeric_code, minor_digits};
}

// clang-format off
/// Every active ISO 4217 currency and fund code that has a minor unit, sorted
/// by alphabetic code (the lookup binary-searches it; a static_assert checks
/// the order). It follows ISO 4217 List One as amended up to the Caribbean
/// guilder (XCG, which replaced ANG in 2025) and the Zimbabwe Gold (ZWG,
/// which replaced ZWL in 2024). Left out on purpose: withdrawn codes (ANG,
/// CUC, HRK, SLL, ZWL, ...) and the codes ISO lists without a minor unit
/// (precious metals XAU, XAG, XPD, XPT; bond-market units XBA-XBD; XDR, XSU,
/// XUA; the testing code XTS and "no currency" XXX), which are not prices.
/// Changing a row is a breaking change: stored amounts are in minor units.
inline constexpr std::array iso4217_table{
    iso("AED", 784, 2), iso("AFN", 971, 2), iso("ALL",   8, 2), iso("AMD",  51, 2),
    iso("AOA", 973, 2), iso("ARS",  32, 2), iso("AUD",  36, 2), iso("AWG", 533, 2),
    iso("AZN", 944, 2), iso("BAM", 977, 2), iso("BBD",  52, 2), iso("BDT",  50, 2),
    iso("BGN", 975, 2), iso("BHD",  48, 3), iso("BIF", 108, 0), iso("BMD",  60, 2),
    iso("BND",  96, 2), iso("BOB",  68, 2), iso("BOV", 984, 2), iso("BRL", 986, 2),
    iso("BSD",  44, 2), iso("BTN",  64, 2), iso("BWP",  72, 2), iso("BYN", 933, 2),
    iso("BZD",  84, 2), iso("CAD", 124, 2), iso("CDF", 976, 2), iso("CHE", 947, 2),
    iso("CHF", 756, 2), iso("CHW", 948, 2), iso("CLF", 990, 4), iso("CLP", 152, 0),
    iso("CNY", 156, 2), iso("COP", 170, 2), iso("COU", 970, 2), iso("CRC", 188, 2),
    iso("CUP", 192, 2), iso("CVE", 132, 2), iso("CZK", 203, 2), iso("DJF", 262, 0),
    iso("DKK", 208, 2), iso("DOP", 214, 2), iso("DZD",  12, 2), iso("EGP", 818, 2),
    iso("ERN", 232, 2), iso("ETB", 230, 2), iso("EUR", 978, 2), iso("FJD", 242, 2),
    iso("FKP", 238, 2), iso("GBP", 826, 2), iso("GEL", 981, 2), iso("GHS", 936, 2),
    iso("GIP", 292, 2), iso("GMD", 270, 2), iso("GNF", 324, 0), iso("GTQ", 320, 2),
    iso("GYD", 328, 2), iso("HKD", 344, 2), iso("HNL", 340, 2), iso("HTG", 332, 2),
    iso("HUF", 348, 2), iso("IDR", 360, 2), iso("ILS", 376, 2), iso("INR", 356, 2),
    iso("IQD", 368, 3), iso("IRR", 364, 2), iso("ISK", 352, 0), iso("JMD", 388, 2),
    iso("JOD", 400, 3), iso("JPY", 392, 0), iso("KES", 404, 2), iso("KGS", 417, 2),
    iso("KHR", 116, 2), iso("KMF", 174, 0), iso("KPW", 408, 2), iso("KRW", 410, 0),
    iso("KWD", 414, 3), iso("KYD", 136, 2), iso("KZT", 398, 2), iso("LAK", 418, 2),
    iso("LBP", 422, 2), iso("LKR", 144, 2), iso("LRD", 430, 2), iso("LSL", 426, 2),
    iso("LYD", 434, 3), iso("MAD", 504, 2), iso("MDL", 498, 2), iso("MGA", 969, 2),
    iso("MKD", 807, 2), iso("MMK", 104, 2), iso("MNT", 496, 2), iso("MOP", 446, 2),
    iso("MRU", 929, 2), iso("MUR", 480, 2), iso("MVR", 462, 2), iso("MWK", 454, 2),
    iso("MXN", 484, 2), iso("MXV", 979, 2), iso("MYR", 458, 2), iso("MZN", 943, 2),
    iso("NAD", 516, 2), iso("NGN", 566, 2), iso("NIO", 558, 2), iso("NOK", 578, 2),
    iso("NPR", 524, 2), iso("NZD", 554, 2), iso("OMR", 512, 3), iso("PAB", 590, 2),
    iso("PEN", 604, 2), iso("PGK", 598, 2), iso("PHP", 608, 2), iso("PKR", 586, 2),
    iso("PLN", 985, 2), iso("PYG", 600, 0), iso("QAR", 634, 2), iso("RON", 946, 2),
    iso("RSD", 941, 2), iso("RUB", 643, 2), iso("RWF", 646, 0), iso("SAR", 682, 2),
    iso("SBD",  90, 2), iso("SCR", 690, 2), iso("SDG", 938, 2), iso("SEK", 752, 2),
    iso("SGD", 702, 2), iso("SHP", 654, 2), iso("SLE", 925, 2), iso("SOS", 706, 2),
    iso("SRD", 968, 2), iso("SSP", 728, 2), iso("STN", 930, 2), iso("SVC", 222, 2),
    iso("SYP", 760, 2), iso("SZL", 748, 2), iso("THB", 764, 2), iso("TJS", 972, 2),
    iso("TMT", 934, 2), iso("TND", 788, 3), iso("TOP", 776, 2), iso("TRY", 949, 2),
    iso("TTD", 780, 2), iso("TWD", 901, 2), iso("TZS", 834, 2), iso("UAH", 980, 2),
    iso("UGX", 800, 0), iso("USD", 840, 2), iso("USN", 997, 2), iso("UYI", 940, 0),
    iso("UYU", 858, 2), iso("UYW", 927, 4), iso("UZS", 860, 2), iso("VED", 926, 2),
    iso("VES", 928, 2), iso("VND", 704, 0), iso("VUV", 548, 0), iso("WST", 882, 2),
    iso("XAF", 950, 0), iso("XCD", 951, 2), iso("XCG", 532, 2), iso("XOF", 952, 0),
    iso("XPF", 953, 0), iso("YER", 886, 2), iso("ZAR", 710, 2), iso("ZMW", 967, 2),
    iso("ZWG", 924, 2),
};
// clang-format on

/// True when the table is strictly sorted by code, every code is three
/// uppercase letters, numeric codes are unique and in 1..999, and minor digits
/// are at most 4 (money's parser and formatter rely on that bound).
consteval bool iso4217_table_is_valid() {
    for (std::size_t i = 0; i < iso4217_table.size(); ++i) {
        const auto& row = iso4217_table[i];
        for (const char c : row.code) {
            if (c < 'A' || c > 'Z') {
                return false;
            }
        }
        if (row.numeric_code < 1 || row.numeric_code > 999 || row.minor_digits > 4) {
            return false;
        }
        if (i > 0 && !(iso4217_table[i - 1].code < row.code)) {
            return false;
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (iso4217_table[j].numeric_code == row.numeric_code) {
                return false;
            }
        }
    }
    return true;
}
static_assert(iso4217_table_is_valid(), "ISO 4217 table must be sorted, unique and well formed");
static_assert(iso4217_table.size() < 256, "a currency is stored as a one-byte table index");

/// A three-letter code written in source, e.g. the "CNY" of `currency::of<"CNY">()`.
/// Only a literal of exactly three characters converts.
struct currency_literal {
    std::array<char, 3> code;  ///< The three characters.

    /// Takes the three characters of a string literal such as "USD".
    consteval currency_literal(const char (&text)[4])  // NOLINT(google-explicit-constructor)
        : code{text[0], text[1], text[2]} {}
};

/// Index of `code` in the table, or the table size when it is not there.
constexpr std::size_t find_currency_index(const std::array<char, 3>& code) noexcept {
    std::size_t low = 0;
    std::size_t high = iso4217_table.size();
    while (low < high) {
        const std::size_t middle = low + (high - low) / 2;
        const auto& candidate = iso4217_table[middle].code;
        if (candidate == code) {
            return middle;
        }
        if (candidate < code) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return iso4217_table.size();
}

}  // namespace detail

/// An ISO 4217 currency, e.g. CNY (2 minor digits), JPY (0) or KWD (3).
/// One byte, trivially copyable, compared and ordered by alphabetic code.
/// There is no default currency: obtain one from `from_code` (text from
/// outside), `from_numeric_code`, `of<"CNY">()` or the `currencies::` constants.
class currency {
public:
    /// How many currencies orderly knows.
    static constexpr std::size_t count = detail::iso4217_table.size();

    /// The currency with alphabetic code `code`, for text from outside.
    /// Refuses: empty text (missing_value); anything but exactly three
    /// uppercase ASCII letters, so "usd", "US" or " USD" (malformed); three
    /// letters that are no active ISO 4217 currency, e.g. "ABC" (unknown_currency).
    /// Every error names the field "currency".
    [[nodiscard]] static result<currency> from_code(std::string_view code) {
        if (code.empty()) {
            return error{errc::missing_value, "currency", "must not be empty"};
        }
        if (code.size() != 3 || !is_upper_letter(code[0]) || !is_upper_letter(code[1]) ||
            !is_upper_letter(code[2])) {
            return error{errc::malformed, "currency",
                         "must be three uppercase letters of ISO 4217, e.g. CNY"};
        }
        const std::size_t index = detail::find_currency_index({code[0], code[1], code[2]});
        if (index == count) {
            return error{errc::unknown_currency, "currency",
                         fmt::format("{} is not an active ISO 4217 currency", code)};
        }
        return currency(static_cast<std::uint8_t>(index));
    }

    /// The currency with ISO 4217 numeric code `numeric_code` (e.g. 156 for
    /// CNY); unknown_currency, field "currency", when there is none.
    [[nodiscard]] static result<currency> from_numeric_code(std::uint16_t numeric_code) {
        for (std::size_t i = 0; i < count; ++i) {
            if (detail::iso4217_table[i].numeric_code == numeric_code) {
                return currency(static_cast<std::uint8_t>(i));
            }
        }
        return error{errc::unknown_currency, "currency",
                     fmt::format("{:03} is not an active ISO 4217 numeric code", numeric_code)};
    }

    /// The currency named by a literal, checked at compile time:
    /// `currency::of<"CNY">()`. An unknown code does not compile.
    template <detail::currency_literal Code>
    [[nodiscard]] static consteval currency of() {
        const std::size_t index = detail::find_currency_index(Code.code);
        if (index == count) {
            throw "orderly::currency::of: not an active ISO 4217 currency code";
        }
        return currency(static_cast<std::uint8_t>(index));
    }

    /// Every known currency, in alphabetic order of code.
    [[nodiscard]] static constexpr std::array<currency, count> all() noexcept {
        return make_all(std::make_index_sequence<count>{});
    }

    /// The alphabetic code, e.g. "CNY". Views static storage, so it never dangles.
    [[nodiscard]] constexpr std::string_view code() const noexcept {
        return {entry().code.data(), entry().code.size()};
    }
    /// The numeric code, e.g. 156 for CNY (printed with three digits: "008").
    [[nodiscard]] constexpr std::uint16_t numeric_code() const noexcept {
        return entry().numeric_code;
    }
    /// Digits after the decimal point: 2 for CNY (1 yuan = 100 fen), 0 for
    /// JPY, 3 for KWD, 4 for CLF. Amounts are held in these minor units.
    [[nodiscard]] constexpr int minor_digits() const noexcept { return entry().minor_digits; }

    /// Same currency.
    friend constexpr bool operator==(currency, currency) noexcept = default;
    /// Alphabetic order of code (the table is sorted), so currencies key maps.
    friend constexpr std::strong_ordering operator<=>(currency, currency) noexcept = default;

private:
    constexpr explicit currency(std::uint8_t index) noexcept : index_(index) {}

    [[nodiscard]] constexpr const detail::currency_entry& entry() const noexcept {
        return detail::iso4217_table[index_];
    }
    [[nodiscard]] static constexpr bool is_upper_letter(char c) noexcept {
        return c >= 'A' && c <= 'Z';
    }
    template <std::size_t... Index>
    [[nodiscard]] static constexpr std::array<currency, count> make_all(
        std::index_sequence<Index...>) noexcept {
        return {currency(static_cast<std::uint8_t>(Index))...};
    }

    std::uint8_t index_;  // Position in detail::iso4217_table.
};

/// Compile-time constants for the currencies hosts use most.
namespace currencies {
// NOLINTBEGIN(readability-identifier-naming): ISO codes read best as written.
inline constexpr currency CNY = currency::of<"CNY">();  ///< Chinese yuan renminbi, 2 digits.
inline constexpr currency USD = currency::of<"USD">();  ///< US dollar, 2 digits.
inline constexpr currency EUR = currency::of<"EUR">();  ///< Euro, 2 digits.
inline constexpr currency JPY = currency::of<"JPY">();  ///< Japanese yen, 0 digits.
inline constexpr currency GBP = currency::of<"GBP">();  ///< Pound sterling, 2 digits.
inline constexpr currency KRW = currency::of<"KRW">();  ///< South Korean won, 0 digits.
inline constexpr currency HKD = currency::of<"HKD">();  ///< Hong Kong dollar, 2 digits.
inline constexpr currency TWD = currency::of<"TWD">();  ///< New Taiwan dollar, 2 digits.
inline constexpr currency SGD = currency::of<"SGD">();  ///< Singapore dollar, 2 digits.
inline constexpr currency AUD = currency::of<"AUD">();  ///< Australian dollar, 2 digits.
inline constexpr currency CAD = currency::of<"CAD">();  ///< Canadian dollar, 2 digits.
inline constexpr currency CHF = currency::of<"CHF">();  ///< Swiss franc, 2 digits.
inline constexpr currency INR = currency::of<"INR">();  ///< Indian rupee, 2 digits.
inline constexpr currency KWD = currency::of<"KWD">();  ///< Kuwaiti dinar, 3 digits.
inline constexpr currency BHD = currency::of<"BHD">();  ///< Bahraini dinar, 3 digits.
inline constexpr currency CLF = currency::of<"CLF">();  ///< Chilean unidad de fomento, 4 digits.
// NOLINTEND(readability-identifier-naming)
}  // namespace currencies

}  // namespace orderly

/// Hashes a currency by its (unique) numeric code, so currencies key unordered containers.
template <>
struct std::hash<orderly::currency> {
    /// The numeric code's hash.
    std::size_t operator()(orderly::currency c) const noexcept {
        return std::hash<std::uint16_t>{}(c.numeric_code());
    }
};

/// Formats a currency as its alphabetic code, e.g. "CNY"; string specs apply.
template <>
struct fmt::formatter<orderly::currency> : fmt::formatter<std::string_view> {
    /// Writes the code.
    auto format(orderly::currency c, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(c.code(), ctx);
    }
};
