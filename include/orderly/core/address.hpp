#pragma once
/// \file
/// A postal address to ship to (R-1, R-2): plain text parts a customer typed,
/// checked for completeness and shape, with field-level errors a host can
/// show next to the input ("ship_to.phone: must be ...").

#include <orderly/core/detail/decimal.hpp>
#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly {

/// Where an order goes and who receives it. A plain aggregate: build it with
/// designated initialisers, check it with validate() or problems(). Text is
/// UTF-8 (Chinese names and streets are welcome); nothing is trimmed or
/// rewritten in place, normalize_phone() gives the canonical phone number.
struct address {
    std::string recipient;  ///< Name of the person who receives the parcel. Required.
    std::string phone;      ///< Recipient's phone; see normalize_phone() for the shapes. Required.
    std::string country;    ///< ISO 3166-1 alpha-2 code in capitals, e.g. "CN", "US". Required.
    std::string province;   ///< Province or state (省 / state). Required.
    std::string city;       ///< City (市). Required.
    std::string district;   ///< District or county (区 / 县). Optional.
    std::string street;     ///< Street, number, building, room (详细地址). Required.
    std::string postcode;   ///< Postal code. Optional, except where the country needs one (US).

    /// Addresses are equal when every part is equal, byte for byte.
    friend bool operator==(const address&, const address&) = default;
};

/// The longest each address part may be, in bytes of UTF-8 (a Chinese
/// character takes 3 bytes). Limits keep storage and labels bounded.
struct address_limits {
    /// Recipient: 128 bytes, about 42 Chinese characters.
    static constexpr std::size_t recipient_bytes = 128;
    /// Phone as typed, separators included.
    static constexpr std::size_t phone_bytes = 32;
    /// Province, city and district: 128 bytes each.
    static constexpr std::size_t region_bytes = 128;
    /// Street: 384 bytes, room for 128 Chinese characters.
    static constexpr std::size_t street_bytes = 384;
    /// Postcode: 16 bytes (the longest in use has 10 characters).
    static constexpr std::size_t postcode_bytes = 16;
};

namespace detail {

// clang-format off
/// The 249 officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance
/// Agency, 2023), plus XK (Kosovo): user-assigned, but used by the EU,
/// carriers and banks, so refusing it would refuse real customers. Sorted.
inline constexpr std::array<std::string_view, 250> country_codes = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
    "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
    "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "XK",
    "YE", "YT",
    "ZA", "ZM", "ZW",
};
// clang-format on
static_assert(std::is_sorted(country_codes.begin(), country_codes.end()),
              "country_codes must stay sorted for binary search");

/// What is wrong with a piece of text, if anything.
enum class text_fault : std::uint8_t {
    none,               ///< Valid UTF-8 without control characters.
    invalid_utf8,       ///< Not well-formed UTF-8 (stray, overlong, surrogate, > U+10FFFF).
    control_character,  ///< Holds a C0 or C1 control character or DEL.
};

/// Length of the UTF-8 sequence a lead byte starts, 0 for a byte that cannot
/// start one.
[[nodiscard]] constexpr std::size_t utf8_sequence_length(unsigned char lead) noexcept {
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return 2;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        return 4;
    }
    return 0;
}

/// Decodes the well-formed UTF-8 sequence of `length` bytes at `at`; returns
/// the code point, or nothing for a malformed, overlong or surrogate sequence.
[[nodiscard]] constexpr std::optional<char32_t> utf8_decode(std::string_view text, std::size_t at,
                                                            std::size_t length) noexcept {
    if (length == 0 || at + length > text.size()) {
        return std::nullopt;
    }
    const auto lead = static_cast<unsigned char>(text[at]);
    if (length == 1) {
        return static_cast<char32_t>(lead);
    }
    constexpr std::array<unsigned char, 5> lead_masks = {0, 0, 0x1F, 0x0F, 0x07};
    char32_t cp = lead & lead_masks[length];
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[at + i]);
        if ((next & 0xC0) != 0x80) {
            return std::nullopt;
        }
        cp = (cp << 6) | (next & 0x3F);
    }
    constexpr std::array<char32_t, 5> smallest = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return std::nullopt;
    }
    return cp;
}

/// Checks that text is well-formed UTF-8 free of control characters (C0,
/// DEL and C1: line breaks and tabs have no place on a shipping label).
[[nodiscard]] constexpr text_fault scan_text(std::string_view text) noexcept {
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t length = utf8_sequence_length(static_cast<unsigned char>(text[at]));
        const std::optional<char32_t> cp = utf8_decode(text, at, length);
        if (!cp) {
            return text_fault::invalid_utf8;
        }
        if (*cp < 0x20 || (*cp >= 0x7F && *cp <= 0x9F)) {
            return text_fault::control_character;
        }
        at += length;
    }
    return text_fault::none;
}

/// True when text is empty or only white space: ASCII white space, U+00A0
/// (no-break space) or U+3000 (ideographic space, typed by Chinese IMEs).
[[nodiscard]] constexpr bool is_blank(std::string_view text) noexcept {
    constexpr std::string_view ascii_space = " \t\n\v\f\r";
    constexpr std::string_view no_break_space = "\xC2\xA0";
    constexpr std::string_view ideographic_space = "\xE3\x80\x80";
    while (!text.empty()) {
        if (ascii_space.find(text.front()) != std::string_view::npos) {
            text.remove_prefix(1);
        } else if (text.starts_with(no_break_space)) {
            text.remove_prefix(no_break_space.size());
        } else if (text.starts_with(ideographic_space)) {
            text.remove_prefix(ideographic_space.size());
        } else {
            return false;
        }
    }
    return true;
}

/// True for an ASCII decimal digit.
[[nodiscard]] constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// A phone number taken apart: whether it started with '+', and its digits.
struct phone_digits {
    bool plus = false;   ///< The number started with '+' (international form).
    std::string digits;  ///< The digits, separators removed.
};

/// Strips a leading '+' and single spaces or hyphens between digits: "+86
/// 138-1234-5678" gives {true, "8613812345678"}. Nothing for any other text.
[[nodiscard]] inline std::optional<phone_digits> split_phone(std::string_view text) {
    phone_digits parts;
    parts.plus = text.starts_with('+');
    if (parts.plus) {
        text.remove_prefix(1);
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (is_digit(c)) {
            parts.digits.push_back(c);
            continue;
        }
        const bool separator = c == ' ' || c == '-';
        const bool between_digits =
            i > 0 && i + 1 < text.size() && is_digit(text[i - 1]) && is_digit(text[i + 1]);
        if (!separator || !between_digits) {
            return std::nullopt;
        }
    }
    return parts;
}

/// True for a mainland China mobile number without country code: 11 digits,
/// a 1, then 3 to 9 (13x ... 19x).
[[nodiscard]] constexpr bool is_cn_mobile(std::string_view digits) noexcept {
    return digits.size() == 11 && all_digits(digits) && digits[0] == '1' && digits[1] >= '3';
}

/// True for E.164 digits after the '+': 8 to 15 digits, the first 1 to 9.
/// A +86 number whose national part starts 13..19 is a mobile and must then
/// have exactly 11 national digits (+86 10 ... is a Beijing landline).
[[nodiscard]] constexpr bool is_e164(std::string_view digits) noexcept {
    if (digits.size() < 8 || digits.size() > 15 || !all_digits(digits) || digits[0] == '0') {
        return false;
    }
    if (digits.starts_with("86") && digits[2] == '1' && digits[3] >= '3') {
        return is_cn_mobile(digits.substr(2));
    }
    return true;
}

}  // namespace detail

/// True for an ISO 3166-1 alpha-2 code in capitals ("CN", "US"): one of the
/// 249 officially assigned codes, or XK (Kosovo).
[[nodiscard]] constexpr bool is_country_code(std::string_view code) noexcept {
    return std::binary_search(detail::country_codes.begin(), detail::country_codes.end(), code);
}

/// The canonical E.164 form of a phone number ("+8613812345678"), or why the
/// text is not a phone number (field "phone").
///
/// Accepted shapes; surrounding spaces are ignored, and digits may be
/// grouped with single spaces or hyphens ("138 1234 5678", "+1 415-555-0123"):
/// - an international number in E.164 form: '+', then 8 to 15 digits, the
///   first 1 to 9. A +86 mobile must have its 11 digits ("+86 138 1234 5678").
/// - for `country` "CN" only, a mainland China mobile number without '+':
///   11 digits, 1 then 3 to 9 ("13812345678" gives "+8613812345678").
///   Chinese landlines and numbers of other countries need the '+' form,
///   since without a country code they are ambiguous.
[[nodiscard]] inline result<std::string> normalize_phone(std::string_view phone,
                                                         std::string_view country) {
    const bool in_china = country == "CN";
    constexpr std::string_view field = "phone";
    const std::string_view shape_message =
        in_china ? "must be a mainland China mobile number (11 digits starting with 1) or an "
                   "international number in E.164 form such as +14155550123"
                 : "must be an international number in E.164 form such as +14155550123: a '+', "
                   "the country code and the number, 8 to 15 digits in all";
    const std::size_t first = phone.find_first_not_of(' ');
    if (first == std::string_view::npos) {
        return error{errc::missing_value, std::string(field), "is required"};
    }
    phone = phone.substr(first, phone.find_last_not_of(' ') - first + 1);
    if (phone.size() > address_limits::phone_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} characters", address_limits::phone_bytes)};
    }
    const std::optional<detail::phone_digits> parts = detail::split_phone(phone);
    if (parts && parts->plus && detail::is_e164(parts->digits)) {
        return "+" + parts->digits;
    }
    if (parts && !parts->plus && in_china && detail::is_cn_mobile(parts->digits)) {
        return "+86" + parts->digits;
    }
    return error{errc::invalid_value, std::string(field), std::string(shape_message)};
}

namespace detail {

/// Whether an address part must be present.
enum class presence : std::uint8_t {
    required,  ///< Blank is refused as missing_value.
    optional,  ///< Blank means absent and is accepted.
};

/// The checks every text part shares: present if required, bounded, UTF-8,
/// no control characters. Nothing when the part passes (or is optional and
/// blank, so the specific checks can be skipped: see is_blank()).
[[nodiscard]] inline std::optional<error> check_text(std::string_view text, std::string_view field,
                                                     std::size_t max_bytes, presence need) {
    if (is_blank(text)) {
        if (need == presence::required) {
            return error{errc::missing_value, std::string(field), "is required"};
        }
        return std::nullopt;
    }
    if (text.size() > max_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} bytes (about {} Chinese characters)",
                                 max_bytes, max_bytes / 3)};
    }
    switch (scan_text(text)) {
        case text_fault::none:
            return std::nullopt;
        case text_fault::invalid_utf8:
            return error{errc::invalid_value, std::string(field), "is not valid UTF-8 text"};
        case text_fault::control_character:
            return error{errc::invalid_value, std::string(field),
                         "must not contain control characters such as line breaks or tabs"};
    }
    return std::nullopt;
}

/// The phone: the shared checks, then its shape for the address's country
/// (see normalize_phone()).
[[nodiscard]] inline std::optional<error> check_phone(const address& a) {
    if (auto fault =
            check_text(a.phone, "phone", address_limits::phone_bytes, presence::required)) {
        return fault;
    }
    // Until the country is known, accept any shape some country accepts (the
    // CN rules: a CN mobile or E.164), so a bad country is not reported twice.
    const std::string_view country =
        is_country_code(a.country) ? std::string_view(a.country) : std::string_view("CN");
    auto normal = normalize_phone(a.phone, country);
    if (!normal) {
        return std::move(normal).error();
    }
    return std::nullopt;
}

/// The country: present and a known ISO 3166-1 alpha-2 code.
[[nodiscard]] inline std::optional<error> check_country(const address& a) {
    if (is_blank(a.country)) {
        return error{errc::missing_value, "country", "is required"};
    }
    if (!is_country_code(a.country)) {
        return error{errc::invalid_value, "country",
                     "must be an ISO 3166-1 alpha-2 country code in capitals, such as CN or US"};
    }
    return std::nullopt;
}

/// The postcode: optional, except in the US (ZIP codes route the mail);
/// ASCII letters, digits, spaces and hyphens; 6 digits in China; 5 digits or
/// ZIP+4 ("94105-1234") in the US. Other countries' formats are not checked.
[[nodiscard]] inline std::optional<error> check_postcode(const address& a) {
    constexpr std::string_view field = "postcode";
    const std::string_view code = a.postcode;
    if (is_blank(code)) {
        if (a.country == "US") {
            return error{errc::missing_value, std::string(field),
                         "is required for addresses in the US"};
        }
        return std::nullopt;
    }
    if (auto fault = check_text(code, field, address_limits::postcode_bytes, presence::optional)) {
        return fault;
    }
    const bool plain = std::all_of(code.begin(), code.end(), [](char c) {
        return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' ||
               c == '-';
    });
    if (!plain) {
        return error{errc::invalid_value, std::string(field),
                     "may hold only letters, digits, spaces and hyphens"};
    }
    if (a.country == "CN" && !(code.size() == 6 && all_digits(code))) {
        return error{errc::invalid_value, std::string(field),
                     "must be 6 digits in China, such as 100000"};
    }
    const bool zip = code.size() == 5 && all_digits(code);
    const bool zip4 = code.size() == 10 && all_digits(code.substr(0, 5)) && code[5] == '-' &&
                      all_digits(code.substr(6));
    if (a.country == "US" && !zip && !zip4) {
        return error{errc::invalid_value, std::string(field),
                     "must be a US ZIP code: 5 digits, or ZIP+4 such as 94105-1234"};
    }
    return std::nullopt;
}

/// The address parts in member order, which is also the order of problems().
enum class address_part : std::uint8_t {
    recipient,  ///< address::recipient
    phone,      ///< address::phone
    country,    ///< address::country
    province,   ///< address::province
    city,       ///< address::city
    district,   ///< address::district
    street,     ///< address::street
    postcode,   ///< address::postcode
};

/// Checks one part; nothing when it passes.
[[nodiscard]] inline std::optional<error> check_part(const address& a, address_part part) {
    constexpr std::size_t region = address_limits::region_bytes;
    switch (part) {
        case address_part::recipient:
            return check_text(a.recipient, "recipient", address_limits::recipient_bytes,
                              presence::required);
        case address_part::phone:
            return check_phone(a);
        case address_part::country:
            return check_country(a);
        case address_part::province:
            return check_text(a.province, "province", region, presence::required);
        case address_part::city:
            return check_text(a.city, "city", region, presence::required);
        case address_part::district:
            return check_text(a.district, "district", region, presence::optional);
        case address_part::street:
            return check_text(a.street, "street", address_limits::street_bytes, presence::required);
        case address_part::postcode:
            return check_postcode(a);
    }
    return std::nullopt;
}

/// Runs every part's checks in member order and hands each part's first
/// problem to `sink`, which returns false to stop early. The one place the
/// rules are applied: validate() stops at the first, problems() takes all.
template <class Sink>
void check_address(const address& a, Sink&& sink) {
    for (const address_part part :
         {address_part::recipient, address_part::phone, address_part::country,
          address_part::province, address_part::city, address_part::district, address_part::street,
          address_part::postcode}) {
        if (std::optional<error> problem = check_part(a, part)) {
            if (!sink(*std::move(problem))) {
                return;
            }
        }
    }
}

}  // namespace detail

/// Every problem of the address, at most one per part, in member order
/// (recipient, phone, country, province, city, district, street, postcode).
/// Empty when the address is valid. Fields are the member names; prefix them
/// with error::within("ship_to").
[[nodiscard]] inline std::vector<error> problems(const address& a) {
    std::vector<error> found;
    detail::check_address(a, [&found](error&& e) {
        found.push_back(std::move(e));
        return true;
    });
    return found;
}

/// Checks an address and returns its first problem, the one problems() would
/// list first. Rules: recipient, phone, country, province, city and street
/// are required (blank counts as missing: missing_value); every part is
/// valid UTF-8 without control characters and within address_limits
/// (invalid_value); country is a known ISO 3166-1 alpha-2 code; the phone
/// passes normalize_phone() for the country; the postcode, see
/// detail::check_postcode().
[[nodiscard]] inline result<void> validate(const address& a) {
    std::optional<error> first;
    detail::check_address(a, [&first](error&& e) {
        first = std::move(e);
        return false;
    });
    if (first) {
        return *std::move(first);
    }
    return {};
}

/// One line, most specific part first, empty parts left out:
/// "recipient, phone, street, district, city, province, postcode, country".
[[nodiscard]] inline std::string to_string(const address& a) {
    std::string line;
    for (const std::string* part : {&a.recipient, &a.phone, &a.street, &a.district, &a.city,
                                    &a.province, &a.postcode, &a.country}) {
        if (part->empty()) {
            continue;
        }
        if (!line.empty()) {
            line += ", ";
        }
        line += *part;
    }
    return line;
}

}  // namespace orderly

/// Formats an address on one line, as orderly::to_string(const address&).
template <>
struct fmt::formatter<orderly::address> : fmt::formatter<std::string_view> {
    /// Writes the address.
    auto format(const orderly::address& a, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(a), ctx);
    }
};
