// The engine's settings as a TOML file: a small reader for the subset
// the settings need, a table of every key bound to its member, and the writer
// that gives a file the reader reads back to equal settings.

#include <orderly/engine/settings_file.hpp>

#include "../core/quoted.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace orderly {
namespace {

// ---------------------------------------------------------------------------
// Values and the reader.

// One TOML value of the subset: a scalar, or an array of scalars.
struct value {
    enum class type : std::uint8_t { integer, floating, boolean, string, array };
    type kind{type::integer};
    std::string text;  // an integer's or float's digits, or a string's contents
    bool boolean{false};
    std::vector<value> items;  // an array's elements
};

// A `[section]` header or a `key = value` line.
struct toml_statement {
    bool header{false};
    std::string name;  // the section, or the key as written (dotted parts joined by '.')
    std::size_t line{0};
    value v;
};

[[nodiscard]] bool is_bare_key_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

[[nodiscard]] bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

[[nodiscard]] bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

// TOML integer: an optional sign, then 0 or digits without a leading zero,
// single underscores allowed between digits.
[[nodiscard]] bool is_integer_token(std::string_view t) noexcept {
    if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
        t.remove_prefix(1);
    }
    if (t.empty() || !is_digit(t.front()) || (t.front() == '0' && t.size() > 1)) {
        return false;
    }
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '_') {
            if (i + 1 == t.size() || !is_digit(t[i + 1])) {
                return false;
            }
        } else if (!is_digit(t[i])) {
            return false;
        }
    }
    return true;
}

// Anything shaped like a TOML float ("1.5", "2e3", "inf"): a number of the
// wrong type rather than an unreadable line.
[[nodiscard]] bool is_float_token(std::string_view t) noexcept {
    if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
        t.remove_prefix(1);
    }
    if (t == "inf" || t == "nan") {
        return true;
    }
    if (t.empty() || !is_digit(t.front())) {
        return false;
    }
    bool point_or_exponent = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        if (c == '.' || c == 'e' || c == 'E') {
            point_or_exponent = true;
        } else if ((c == '+' || c == '-') && (t[i - 1] == 'e' || t[i - 1] == 'E')) {
            continue;
        } else if (!is_digit(c) && c != '_') {
            return false;
        }
    }
    return point_or_exponent;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    const auto byte = [](std::uint32_t b) {
        return static_cast<char>(static_cast<unsigned char>(b));
    };
    if (cp < 0x80) {
        out += byte(cp);
    } else if (cp < 0x800) {
        out += byte(0xC0 | (cp >> 6));
        out += byte(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += byte(0xE0 | (cp >> 12));
        out += byte(0x80 | ((cp >> 6) & 0x3F));
        out += byte(0x80 | (cp & 0x3F));
    } else {
        out += byte(0xF0 | (cp >> 18));
        out += byte(0x80 | ((cp >> 12) & 0x3F));
        out += byte(0x80 | ((cp >> 6) & 0x3F));
        out += byte(0x80 | (cp & 0x3F));
    }
}

// A TOML basic string holding `text`, escaping what must be escaped.
[[nodiscard]] std::string toml_string(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    detail::append_quoted(out, text);
    return out;
}

// Reads statements one at a time; arrays may span lines.
class toml_reader {
public:
    explicit toml_reader(std::string_view text) : text_(text) {
        if (text_.starts_with("\xEF\xBB\xBF")) {  // a UTF-8 byte order mark
            pos_ = 3;
        }
    }

    // The next statement, nothing at the end of the text, or a malformed line.
    result<std::optional<toml_statement>> next() {
        for (;;) {
            skip_blanks();
            skip_comment();
            if (at_end()) {
                return std::optional<toml_statement>{};
            }
            if (!take_newline()) {
                break;
            }
        }
        toml_statement st;
        st.line = line_;
        if (peek() == '[') {
            if (peek(1) == '[') {
                return malformed(line_, "arrays of tables ([[...]]) are not used by the settings");
            }
            ++pos_;
            skip_blanks();
            auto name = read_key_path("a section name, as in [after_sales]");
            if (!name) {
                return name.error();
            }
            if (peek() != ']') {
                return malformed(line_, "expected ] to close the section header");
            }
            ++pos_;
            if (auto r = end_of_line("the section header"); !r) {
                return r.error();
            }
            st.header = true;
            st.name = std::move(*name);
            return std::optional<toml_statement>(std::move(st));
        }
        auto name = read_key_path("a key, as in payment_timeout = \"30m\"");
        if (!name) {
            return name.error();
        }
        if (peek() != '=') {
            return malformed(line_, fmt::format("expected = after the key {}", *name));
        }
        ++pos_;
        skip_blanks();
        if (at_line_end()) {
            return malformed(line_, fmt::format("expected a value after {} =", *name));
        }
        auto v = read_value(false);
        if (!v) {
            return v.error();
        }
        if (auto r = end_of_line("the value"); !r) {
            return r.error();
        }
        st.name = std::move(*name);
        st.v = std::move(*v);
        return std::optional<toml_statement>(std::move(st));
    }

private:
    [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }
    [[nodiscard]] char peek(std::size_t ahead = 0) const noexcept {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    [[nodiscard]] bool at_newline() const noexcept {
        return peek() == '\n' || (peek() == '\r' && peek(1) == '\n');
    }
    [[nodiscard]] bool at_line_end() const noexcept {
        return at_end() || at_newline() || peek() == '#';
    }

    void skip_blanks() noexcept {
        while (peek() == ' ' || peek() == '\t') {
            ++pos_;
        }
    }
    void skip_comment() noexcept {
        if (peek() == '#') {
            while (!at_end() && !at_newline()) {
                ++pos_;
            }
        }
    }
    bool take_newline() noexcept {
        if (peek() == '\r' && peek(1) == '\n') {
            ++pos_;
        }
        if (peek() == '\n') {
            ++pos_;
            ++line_;
            return true;
        }
        return false;
    }

    [[nodiscard]] static error malformed(std::size_t line, std::string_view what) {
        return error{errc::malformed, fmt::format("line {}", line),
                     fmt::format("line {}: {}", line, what)};
    }

    // Blanks, then a comment, then the end of the line or of the text.
    result<void> end_of_line(std::string_view after) {
        skip_blanks();
        skip_comment();
        if (at_end() || take_newline()) {
            return {};
        }
        if (peek() == '\r') {
            return malformed(line_, "a carriage return not followed by a line feed");
        }
        const std::string_view rest =
            text_.substr(pos_, std::min<std::size_t>(20, text_.size() - pos_));
        return malformed(line_, fmt::format("unexpected text after {}: {}", after,
                                            rest.substr(0, rest.find_first_of("\r\n"))));
    }

    // Bare words joined by dots ("after_sales.response_time"), blanks allowed
    // around the dots; consumes the blanks after it.
    result<std::string> read_key_path(std::string_view expected) {
        std::string path;
        for (;;) {
            const std::size_t start = pos_;
            while (is_bare_key_char(peek())) {
                ++pos_;
            }
            if (pos_ == start) {
                if (peek() == '"' || peek() == '\'') {
                    return malformed(line_,
                                     "keys are bare words, as in payment_timeout; quoted keys are "
                                     "not used by the settings");
                }
                return malformed(line_, fmt::format("expected {}", expected));
            }
            path += text_.substr(start, pos_ - start);
            skip_blanks();
            if (peek() != '.') {
                return path;
            }
            ++pos_;
            path += '.';
            skip_blanks();
        }
    }

    // Blanks, comments and line breaks inside an array.
    void skip_array_space() noexcept {
        for (;;) {
            skip_blanks();
            skip_comment();
            if (!take_newline()) {
                return;
            }
        }
    }

    result<value> read_value(bool in_array) {
        const char c = peek();
        if (c == '"') {
            if (peek(1) == '"' && peek(2) == '"') {
                return malformed(line_, "multi-line strings (\"\"\") are not used by the settings");
            }
            return read_basic_string();
        }
        if (c == '\'') {
            if (peek(1) == '\'' && peek(2) == '\'') {
                return malformed(line_, "multi-line strings (''') are not used by the settings");
            }
            return read_literal_string();
        }
        if (c == '[') {
            if (in_array) {
                return malformed(line_, "arrays inside arrays are not used by the settings");
            }
            return read_array();
        }
        if (c == '{') {
            return malformed(line_, "inline tables ({...}) are not used by the settings");
        }
        const std::size_t start = pos_;
        while (!at_end() && peek() != ' ' && peek() != '\t' && peek() != '\r' && peek() != '\n' &&
               peek() != ',' && peek() != ']' && peek() != '#') {
            ++pos_;
        }
        const std::string_view token = text_.substr(start, pos_ - start);
        value v;
        if (token.empty()) {
            return malformed(line_, "expected a value");
        }
        if (token == "true" || token == "false") {
            v.kind = value::type::boolean;
            v.boolean = token == "true";
        } else if (is_integer_token(token)) {
            v.kind = value::type::integer;
            for (const char d : token) {
                if (d != '_' && d != '+') {
                    v.text += d;
                }
            }
        } else if (is_float_token(token)) {
            v.kind = value::type::floating;
            v.text = token;
        } else {
            return malformed(
                line_, fmt::format("cannot read the value {}: text needs double quotes, as in "
                                   "\"30m\" or \"100.00 CNY\"",
                                   token));
        }
        return v;
    }

    result<value> read_array() {
        const std::size_t opened = line_;
        ++pos_;  // '['
        value array;
        array.kind = value::type::array;
        const auto unclosed = [&] {
            return malformed(opened, "the array opened on this line is not closed with ]");
        };
        for (;;) {
            skip_array_space();
            if (at_end()) {
                return unclosed();
            }
            if (peek() == ']') {
                ++pos_;
                return array;
            }
            auto item = read_value(true);
            if (!item) {
                return item.error();
            }
            array.items.push_back(std::move(*item));
            skip_array_space();
            if (at_end()) {
                return unclosed();
            }
            if (peek() == ']') {
                ++pos_;
                return array;
            }
            if (peek() != ',') {
                return malformed(line_, "expected , or ] after an array element");
            }
            ++pos_;
        }
    }

    result<value> read_basic_string() {
        ++pos_;  // '"'
        value v;
        v.kind = value::type::string;
        for (;;) {
            if (at_end() || peek() == '\n' || peek() == '\r') {
                return malformed(line_, "the string is not closed with \" on its line");
            }
            const char c = text_[pos_++];
            if (c == '"') {
                return v;
            }
            if (is_control(c)) {
                return malformed(line_, "a control character in a string must be escaped");
            }
            if (c != '\\') {
                v.text += c;
                continue;
            }
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"':
                    v.text += '"';
                    break;
                case '\\':
                    v.text += '\\';
                    break;
                case 'n':
                    v.text += '\n';
                    break;
                case 't':
                    v.text += '\t';
                    break;
                case 'r':
                    v.text += '\r';
                    break;
                case 'b':
                    v.text += '\b';
                    break;
                case 'f':
                    v.text += '\f';
                    break;
                case 'u':
                case 'U': {
                    auto cp = read_hex(e == 'u' ? 4 : 8);
                    if (!cp) {
                        return cp.error();
                    }
                    append_utf8(v.text, *cp);
                    break;
                }
                default:
                    return malformed(line_,
                                     "unknown escape in a string; the escapes are \\\" \\\\ "
                                     "\\n \\t \\r \\b \\f \\uXXXX and \\UXXXXXXXX");
            }
        }
    }

    result<std::uint32_t> read_hex(std::size_t digits) {
        std::uint32_t cp = 0;
        if (text_.size() - pos_ < digits) {
            return malformed(line_, "a \\u escape needs its hexadecimal digits");
        }
        const auto* first = text_.data() + pos_;
        const auto [end, ec] = std::from_chars(first, first + digits, cp, 16);
        if (ec != std::errc{} || end != first + digits) {
            return malformed(line_, "a \\u escape needs its hexadecimal digits");
        }
        pos_ += digits;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return malformed(line_, "a \\u escape must name a Unicode scalar value");
        }
        return cp;
    }

    result<value> read_literal_string() {
        ++pos_;  // '\''
        value v;
        v.kind = value::type::string;
        for (;;) {
            if (at_end() || peek() == '\n' || peek() == '\r') {
                return malformed(line_, "the string is not closed with ' on its line");
            }
            const char c = text_[pos_++];
            if (c == '\'') {
                return v;
            }
            if (is_control(c)) {
                return malformed(line_, "a literal string may not hold control characters");
            }
            v.text += c;
        }
    }

    std::string_view text_;
    std::size_t pos_{0};
    std::size_t line_{1};
};

// ---------------------------------------------------------------------------
// Typed reading of one key's value.

// Where a value came from, for messages.
struct place {
    std::string_view key;  // full dotted key
    std::size_t line;
};

[[nodiscard]] std::string describe(const value& v) {
    switch (v.kind) {
        case value::type::integer:
            return fmt::format("the integer {}", v.text);
        case value::type::floating:
            return fmt::format("the number {}", v.text);
        case value::type::boolean:
            return v.boolean ? "true" : "false";
        case value::type::string:
            return fmt::format("the string {}", toml_string(v.text));
        case value::type::array:
            return v.items.size() == 1 ? std::string("an array of 1 element")
                                       : fmt::format("an array of {} elements", v.items.size());
    }
    return "a value";
}

[[nodiscard]] error refused(const place& at, std::string_view what) {
    return error{errc::invalid_value, std::string(at.key),
                 fmt::format("line {}: {}", at.line, what)};
}

[[nodiscard]] error expected(const place& at, std::string_view what, const value& got) {
    return refused(at, fmt::format("expected {}, got {}", what, describe(got)));
}

// Edit distance, for "did you mean".
[[nodiscard]] std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// Close enough to suggest: a typo or two, more for longer words.
[[nodiscard]] bool close(std::string_view typed, std::size_t d) noexcept {
    return d <= (typed.size() <= 4 ? 1U : typed.size() <= 10 ? 2U : 3U);
}

[[nodiscard]] std::optional<std::string_view> closest(std::string_view typed,
                                                      std::span<const std::string_view> names) {
    std::optional<std::string_view> best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string_view name : names) {
        const std::size_t d = distance(typed, name);
        if (d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    return best && close(typed, best_distance) ? best : std::nullopt;
}

template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) result<void> read_into(T& target,
                                                                            const value& v,
                                                                            const place& at) {
    constexpr std::int64_t low = std::in_range<std::int64_t>(std::numeric_limits<T>::min())
                                     ? static_cast<std::int64_t>(std::numeric_limits<T>::min())
                                     : std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t high = std::in_range<std::int64_t>(std::numeric_limits<T>::max())
                                      ? static_cast<std::int64_t>(std::numeric_limits<T>::max())
                                      : std::numeric_limits<std::int64_t>::max();
    if (v.kind != value::type::integer) {
        return expected(at, fmt::format("an integer from {} to {}", low, high), v);
    }
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
    if (ec != std::errc{} || end != v.text.data() + v.text.size() || !std::in_range<T>(n)) {
        return refused(at,
                       fmt::format("must be an integer from {} to {}, got {}", low, high, v.text));
    }
    target = static_cast<T>(n);
    return {};
}

result<void> read_into(bool& target, const value& v, const place& at) {
    if (v.kind != value::type::boolean) {
        return expected(at, "true or false", v);
    }
    target = v.boolean;
    return {};
}

result<void> read_into(std::string& target, const value& v, const place& at) {
    if (v.kind != value::type::string) {
        return expected(at, "a string in double quotes", v);
    }
    target = v.text;
    return {};
}

constexpr std::string_view duration_form =
    "a duration such as \"30m\": a whole number and one unit, ms, s, m, h or d";

struct duration_unit {
    std::string_view suffix;
    std::int64_t ms;
};
// Longest suffix first, so "ms" is not read as "m".
constexpr std::array<duration_unit, 5> duration_units{
    {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

result<void> read_into(duration& target, const value& v, const place& at) {
    if (v.kind != value::type::string) {
        return expected(at, duration_form, v);
    }
    const std::string_view text = v.text;
    if (text.starts_with('-')) {
        return refused(at, fmt::format("{} must not be negative", toml_string(text)));
    }
    const std::size_t digits = static_cast<std::size_t>(
        std::find_if(text.begin(), text.end(), [](char c) { return !is_digit(c); }) - text.begin());
    const std::string_view unit = text.substr(digits);
    const auto found = std::find_if(duration_units.begin(), duration_units.end(),
                                    [unit](const duration_unit& u) { return u.suffix == unit; });
    if (digits == 0 || found == duration_units.end()) {
        return expected(at, duration_form, v);
    }
    std::int64_t count = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, count);
    if (ec != std::errc{} || end != text.data() + digits ||
        count > std::numeric_limits<std::int64_t>::max() / found->ms) {
        return refused(
            at, fmt::format("{} is longer than 64-bit milliseconds hold", toml_string(text)));
    }
    target = duration(count * found->ms);
    return {};
}

// An array whose elements are all strings, each read by `read_one`.
template <class T, class ReadOne>
result<void> read_list(std::vector<T>& target, const value& v, const place& at,
                       std::string_view form, ReadOne read_one) {
    if (v.kind != value::type::array) {
        return expected(at, form, v);
    }
    std::vector<T> items;
    items.reserve(v.items.size());
    for (std::size_t i = 0; i < v.items.size(); ++i) {
        const value& item = v.items[i];
        if (item.kind != value::type::string) {
            return refused(
                at, fmt::format("element [{}]: expected a string in double quotes, got {}", i,
                                describe(item)));
        }
        auto one = read_one(item.text, items);
        if (!one) {
            return refused(at, fmt::format("element [{}], {}, {}", i, toml_string(item.text),
                                           one.error().message));
        }
        items.push_back(std::move(*one));
    }
    target = std::move(items);
    return {};
}

result<void> read_into(std::vector<std::string>& target, const value& v, const place& at) {
    return read_list(target, v, at, "an array of strings, as in [\"a\", \"b\"]",
                     [](const std::string& text, const std::vector<std::string>&) {
                         return result<std::string>(text);
                     });
}

result<void> read_into(std::vector<money>& target, const value& v, const place& at) {
    return read_list(
        target, v, at, "an array of amounts, as in [\"100.00 CNY\", \"15.00 USD\"]",
        [](const std::string& text, const std::vector<money>& earlier) -> result<money> {
            auto m = money::parse(text);
            if (!m) {
                return error{errc::invalid_value, "",
                             fmt::format("is not money such as \"100.00 CNY\": {} {}",
                                         m.error().field, m.error().message)};
            }
            for (const money& e : earlier) {
                if (e.currency() == m->currency()) {
                    return error{
                        errc::invalid_value, "",
                        fmt::format("names {} again; give one amount per currency", m->currency())};
                }
            }
            return m;
        });
}

result<void> read_into(std::vector<customer_id>& target, const value& v, const place& at) {
    return read_list(
        target, v, at, "an array of customer ids, as in [\"c-1\"]",
        [](const std::string& text, const std::vector<customer_id>&) -> result<customer_id> {
            auto id = parse_id<customer_id>(text);
            if (!id) {
                return error{errc::invalid_value, "",
                             fmt::format("is not a customer id: it {}", id.error().message)};
            }
            return id;
        });
}

[[nodiscard]] std::string_view rate_form() {
    return "a rate as a decimal string such as \"0.05\" (5 %), or a fraction such as \"1/3\"";
}

result<void> read_into(rate& target, const value& v, const place& at) {
    if (v.kind != value::type::string) {
        return expected(at, rate_form(), v);
    }
    auto r = rate::parse(v.text);
    if (!r) {
        return refused(at, fmt::format("{} is not {}", toml_string(v.text), rate_form()));
    }
    target = *r;
    return {};
}

[[nodiscard]] std::span<const std::string_view> rounding_names() {
    static const auto names = [] {
        std::array<std::string_view, all_roundings.size()> out{};
        std::transform(all_roundings.begin(), all_roundings.end(), out.begin(),
                       [](rounding mode) { return to_string(mode); });
        return out;
    }();
    return names;
}

result<void> read_into(rounding& target, const value& v, const place& at) {
    if (v.kind != value::type::string) {
        return expected(at, "a rounding mode such as \"half_even\"", v);
    }
    if (auto mode = parse_rounding(v.text)) {
        target = *mode;
        return {};
    }
    const auto suggestion = closest(v.text, rounding_names());
    return refused(at, suggestion
                           ? fmt::format("{} is not a rounding mode; did you mean {}?",
                                         toml_string(v.text), toml_string(*suggestion))
                           : fmt::format("{} is not a rounding mode; the modes are {}",
                                         toml_string(v.text), fmt::join(rounding_names(), ", ")));
}

// A category rate is the string "category=rate" ("books=0.055"): the reader
// has no inline tables, and a rate's text never holds '=', so the last '='
// splits the two even in a category that holds one.
result<void> read_into(std::vector<category_rate>& target, const value& v, const place& at) {
    return read_list(
        target, v, at, "an array of category rates, as in [\"books=0.055\", \"food=0.02\"]",
        [](const std::string& text, const std::vector<category_rate>&) -> result<category_rate> {
            const std::size_t split = text.rfind('=');
            if (split == std::string::npos) {
                return error{errc::invalid_value, "",
                             "is not a category rate such as \"books=0.055\": no ="};
            }
            auto commission = rate::parse(std::string_view(text).substr(split + 1));
            if (!commission) {
                return error{errc::invalid_value, "",
                             fmt::format("has no rate after =: {}", rate_form())};
            }
            return category_rate{.category = text.substr(0, split), .commission = *commission};
        });
}

[[nodiscard]] std::span<const std::string_view> notification_kind_names() {
    static const auto names = [] {
        std::array<std::string_view, all_notification_kinds.size()> out{};
        std::transform(all_notification_kinds.begin(), all_notification_kinds.end(), out.begin(),
                       [](notification_kind k) { return to_string(k); });
        return out;
    }();
    return names;
}

result<void> read_into(std::vector<notification_kind>& target, const value& v, const place& at) {
    return read_list(
        target, v, at, "an array of notification kinds, as in [\"tracking_update\"]",
        [](const std::string& text,
           const std::vector<notification_kind>&) -> result<notification_kind> {
            for (const notification_kind k : all_notification_kinds) {
                if (to_string(k) == text) {
                    return k;
                }
            }
            const auto suggestion = closest(text, notification_kind_names());
            return error{errc::invalid_value, "",
                         suggestion ? fmt::format("is not a notification kind; did you mean {}?",
                                                  toml_string(*suggestion))
                                    : std::string("is not a notification kind (docs/SETTINGS.md "
                                                  "lists them)")};
        });
}

// ---------------------------------------------------------------------------
// Writing values.

template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) std::string write_value(T v) {
    return fmt::format("{}", v);
}
std::string write_value(bool v) {
    return v ? "true" : "false";
}
std::string write_value(const std::string& v) {
    return toml_string(v);
}
std::string write_value(duration d) {
    const std::int64_t ms = d.count();
    if (ms == 0) {
        return toml_string("0s");
    }
    for (auto unit = duration_units.rbegin(); unit != duration_units.rend(); ++unit) {
        if (ms % unit->ms == 0) {
            return toml_string(fmt::format("{}{}", ms / unit->ms, unit->suffix));
        }
    }
    return toml_string(fmt::format("{}ms", ms));
}
std::string write_value(const rate& r) {
    return toml_string(r.to_string());
}
std::string write_value(rounding mode) {
    return toml_string(to_string(mode));
}
std::string write_item(const std::string& v) {
    return toml_string(v);
}
std::string write_item(const money& m) {
    return toml_string(m.to_string());
}
std::string write_item(const customer_id& c) {
    return toml_string(c.value());
}
std::string write_item(notification_kind k) {
    return toml_string(to_string(k));
}
std::string write_item(const category_rate& c) {
    return toml_string(fmt::format("{}={}", c.category, c.commission.to_string()));
}
template <class T>
std::string write_value(const std::vector<T>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += write_item(items[i]);
    }
    out += ']';
    return out;
}

// ---------------------------------------------------------------------------
// Every key, bound to its member.

struct key_spec {
    std::string_view name;  // full dotted key
    result<void> (*read)(settings&, const value&, const place&);
    std::string (*write)(const settings&);
};

// One table row: the key and the member it sets; overloads of read_into and
// write_value pick the member's type.
#define ORDERLY_SETTINGS_KEY(key, member)                           \
    key_spec {                                                      \
        key,                                                        \
            [](settings& s, const value& v, const place& at) {      \
                return read_into(s.member, v, at);                  \
            },                                                      \
            [](const settings& s) { return write_value(s.member); } \
    }

constexpr std::array keys{
    ORDERLY_SETTINGS_KEY("node", node),
    ORDERLY_SETTINGS_KEY("payment_timeout", payment_timeout),
    ORDERLY_SETTINGS_KEY("max_payment_failures", max_payment_failures),
    ORDERLY_SETTINGS_KEY("auto_confirm_after", auto_confirm_after),
    ORDERLY_SETTINGS_KEY("max_lines_per_order", max_lines_per_order),
    ORDERLY_SETTINGS_KEY("max_tags", max_tags),
    ORDERLY_SETTINGS_KEY("max_tag_bytes", max_tag_bytes),
    ORDERLY_SETTINGS_KEY("conflict_retries", conflict_retries),
    ORDERLY_SETTINGS_KEY("import_batch_size", import_batch_size),
    ORDERLY_SETTINGS_KEY("review.high_value_at_or_above", review.high_value_at_or_above),
    ORDERLY_SETTINGS_KEY("review.review_restricted_skus", review.review_restricted_skus),
    ORDERLY_SETTINGS_KEY("review.blocked_customers", review.blocked_customers),
    ORDERLY_SETTINGS_KEY("review.blocked_phones", review.blocked_phones),
    ORDERLY_SETTINGS_KEY("review.check_phone_country", review.check_phone_country),
    ORDERLY_SETTINGS_KEY("review.max_units_per_line", review.max_units_per_line),
    ORDERLY_SETTINGS_KEY("fulfilment.merge_window", fulfilment.merge_window),
    ORDERLY_SETTINGS_KEY("fulfilment.delay_limit", fulfilment.delay_limit),
    ORDERLY_SETTINGS_KEY("fulfilment.default_promised_days", fulfilment.default_promised_days),
    ORDERLY_SETTINGS_KEY("fulfilment.low_stock_scan_every", fulfilment.low_stock_scan_every),
    ORDERLY_SETTINGS_KEY("fulfilment.lost_after", fulfilment.lost_after),
    ORDERLY_SETTINGS_KEY("fulfilment.auto_refund_after", fulfilment.auto_refund_after),
    ORDERLY_SETTINGS_KEY("after_sales.response_time", after_sales.response_time),
    ORDERLY_SETTINGS_KEY("after_sales.inspection_time", after_sales.inspection_time),
    ORDERLY_SETTINGS_KEY("after_sales.resolution_time", after_sales.resolution_time),
    ORDERLY_SETTINGS_KEY("after_sales.return_window", after_sales.return_window),
    ORDERLY_SETTINGS_KEY("after_sales.auto_close_after", after_sales.auto_close_after),
    ORDERLY_SETTINGS_KEY("after_sales.repair_time", after_sales.repair_time),
    ORDERLY_SETTINGS_KEY("after_sales.return_transit_time", after_sales.return_transit_time),
    ORDERLY_SETTINGS_KEY("after_sales.window", after_sales.window),
    ORDERLY_SETTINGS_KEY("after_sales.damage_report_window", after_sales.damage_report_window),
    ORDERLY_SETTINGS_KEY("after_sales.auto_approve_below", after_sales.auto_approve_below),
    ORDERLY_SETTINGS_KEY("after_sales.auto_approve_undelivered_refunds",
                         after_sales.auto_approve_undelivered_refunds),
    ORDERLY_SETTINGS_KEY("after_sales.agents", after_sales.agents),
    ORDERLY_SETTINGS_KEY("after_sales.escalate_to", after_sales.escalate_to),
    ORDERLY_SETTINGS_KEY("outbox.first_retry", outbox.first_retry),
    ORDERLY_SETTINGS_KEY("outbox.max_retry", outbox.max_retry),
    ORDERLY_SETTINGS_KEY("outbox.lease", outbox.lease),
    ORDERLY_SETTINGS_KEY("outbox.muted", outbox.muted),
    ORDERLY_SETTINGS_KEY("operations.review_limit", operations.review_limit),
    ORDERLY_SETTINGS_KEY("operations.paid_limit", operations.paid_limit),
    ORDERLY_SETTINGS_KEY("operations.allocating_limit", operations.allocating_limit),
    ORDERLY_SETTINGS_KEY("operations.packed_limit", operations.packed_limit),
    ORDERLY_SETTINGS_KEY("operations.on_hold_limit", operations.on_hold_limit),
    ORDERLY_SETTINGS_KEY("operations.failed_attempts_for_unclear_address",
                         operations.failed_attempts_for_unclear_address),
    ORDERLY_SETTINGS_KEY("operations.low_response", operations.low_response),
    ORDERLY_SETTINGS_KEY("operations.normal_response", operations.normal_response),
    ORDERLY_SETTINGS_KEY("operations.high_response", operations.high_response),
    ORDERLY_SETTINGS_KEY("operations.urgent_response", operations.urgent_response),
    ORDERLY_SETTINGS_KEY("operations.notify_role", operations.notify_role),
    ORDERLY_SETTINGS_KEY("operations.escalate_to", operations.escalate_to),
    ORDERLY_SETTINGS_KEY("operations.scan_every", operations.scan_every),
    ORDERLY_SETTINGS_KEY("operations.archive_after", operations.archive_after),
    ORDERLY_SETTINGS_KEY("operations.close_resolved_after", operations.close_resolved_after),
    ORDERLY_SETTINGS_KEY("settlement.default_rate", settlement.default_rate),
    ORDERLY_SETTINGS_KEY("settlement.category_rates", settlement.category_rates),
    ORDERLY_SETTINGS_KEY("settlement.service_fees", settlement.service_fees),
    ORDERLY_SETTINGS_KEY("settlement.account_period_days", settlement.account_period_days),
    ORDERLY_SETTINGS_KEY("settlement.commission_rounding", settlement.commission_rounding),
};

#undef ORDERLY_SETTINGS_KEY

constexpr std::array<std::string_view, 6> sections{"review", "fulfilment", "after_sales",
                                                   "outbox", "operations", "settlement"};

constexpr auto key_names = [] {
    std::array<std::string_view, keys.size()> names{};
    for (std::size_t i = 0; i < keys.size(); ++i) {
        names[i] = keys[i].name;
    }
    return names;
}();

[[nodiscard]] std::string_view section_of(std::string_view key) noexcept {
    const std::size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}

[[nodiscard]] std::string_view leaf_of(std::string_view key) noexcept {
    const std::size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The known key nearest `typed`: the leaf names compared, a key in another
// section counting as a little farther than one in the same.
[[nodiscard]] std::optional<std::string_view> closest_key(std::string_view typed) {
    const std::string_view leaf = leaf_of(typed);
    std::optional<std::string_view> best;
    std::size_t best_score = std::numeric_limits<std::size_t>::max();
    for (const std::string_view known : key_names) {
        const std::size_t d = distance(leaf, leaf_of(known));
        if (!close(leaf, d)) {
            continue;
        }
        const std::size_t score = 2 * d + (section_of(known) == section_of(typed) ? 0U : 1U);
        if (score < best_score) {
            best = known;
            best_score = score;
        }
    }
    return best;
}

[[nodiscard]] error unknown_key(std::string_view key, std::size_t line) {
    const auto suggestion = closest_key(key);
    return error{errc::invalid_value, std::string(key),
                 suggestion ? fmt::format("line {}: {} is not a settings key; did you mean {}?",
                                          line, key, *suggestion)
                            : fmt::format("line {}: {} is not a settings key (docs/SETTINGS.md "
                                          "lists them)",
                                          line, key)};
}

[[nodiscard]] error unknown_section(std::string_view section, std::size_t line) {
    const auto suggestion = closest(section, sections);
    return error{errc::invalid_value, std::string(section),
                 suggestion ? fmt::format("line {}: [{}] is not a settings section; did you mean "
                                          "[{}]?",
                                          line, section, *suggestion)
                            : fmt::format("line {}: [{}] is not a settings section; the sections "
                                          "are [review], [fulfilment], [after_sales], [outbox], "
                                          "[operations] and [settlement]",
                                          line, section)};
}

}  // namespace

std::span<const std::string_view> settings_keys() noexcept {
    return key_names;
}

result<settings> parse_settings(std::string_view text) {
    settings s;
    toml_reader reader(text);
    std::string section;
    std::map<std::string, std::size_t, std::less<>> sections_seen;
    std::map<std::string, std::size_t, std::less<>> keys_seen;
    for (;;) {
        auto next = reader.next();
        if (!next) {
            return next.error();
        }
        if (!*next) {
            break;
        }
        toml_statement& st = **next;
        if (st.header) {
            if (std::find(sections.begin(), sections.end(), st.name) == sections.end()) {
                return unknown_section(st.name, st.line);
            }
            if (const auto seen = sections_seen.find(st.name); seen != sections_seen.end()) {
                return error{errc::invalid_value, st.name,
                             fmt::format("line {}: section [{}] is given twice, first on line {}",
                                         st.line, st.name, seen->second)};
            }
            sections_seen.emplace(st.name, st.line);
            section = std::move(st.name);
            continue;
        }
        const std::string key = section.empty() ? st.name : fmt::format("{}.{}", section, st.name);
        const auto spec = std::find_if(keys.begin(), keys.end(),
                                       [&key](const key_spec& k) { return k.name == key; });
        if (spec == keys.end()) {
            return unknown_key(key, st.line);
        }
        if (const auto seen = keys_seen.find(key); seen != keys_seen.end()) {
            return error{errc::invalid_value, key,
                         fmt::format("line {}: {} is given twice, first on line {}", st.line, key,
                                     seen->second)};
        }
        keys_seen.emplace(key, st.line);
        if (auto r = spec->read(s, st.v, place{spec->name, st.line}); !r) {
            return r.error();
        }
    }
    if (auto checked = validate(s); !checked) {
        error e = checked.error();
        // "after_sales.agents[1]" was set by the key "after_sales.agents".
        const std::string_view key = std::string_view(e.field).substr(0, e.field.find('['));
        if (const auto seen = keys_seen.find(key); seen != keys_seen.end()) {
            e.message = fmt::format("line {}: {}", seen->second, e.message);
        }
        return e;
    }
    return s;
}

result<settings> load_settings(const std::filesystem::path& file) {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        return error{errc::not_found, "file", fmt::format("{}: no such file", file.string())};
    }
    if (ec) {
        return error{errc::storage_failure, "file",
                     fmt::format("{}: cannot be read: {}", file.string(), ec.message())};
    }
    if (status.type() == std::filesystem::file_type::directory) {
        return error{errc::storage_failure, "file",
                     fmt::format("{}: is a directory, not a settings file", file.string())};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return error{errc::storage_failure, "file",
                     fmt::format("{}: cannot be opened for reading", file.string())};
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) {
        return error{errc::storage_failure, "file",
                     fmt::format("{}: reading it failed", file.string())};
    }
    auto parsed = parse_settings(text);
    if (!parsed) {
        error e = parsed.error();
        e.message = fmt::format("{}: {}", file.string(), e.message);
        return e;
    }
    return parsed;
}

std::string to_settings_text(const settings& s) {
    std::string out =
        "# orderly settings (R-34), every key with its value; docs/SETTINGS.md says what each "
        "means.\n";
    std::string_view section;
    out += '\n';
    for (const key_spec& k : keys) {
        if (section_of(k.name) != section) {
            section = section_of(k.name);
            out += fmt::format("\n[{}]\n", section);
        }
        out += fmt::format("{} = {}\n", leaf_of(k.name), k.write(s));
    }
    return out;
}

}  // namespace orderly
