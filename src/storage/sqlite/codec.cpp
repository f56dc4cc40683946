// The JSON body of an order. The writer emits keys in one fixed order and the
// reader expects that order (whitespace and every JSON string escape are
// accepted), so decoding is a single forward pass with no tree. Any change of
// shape is a schema migration that rewrites the bodies.

#include "codec.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <iterator>
#include <limits>
#include <optional>

namespace orderly::detail::sqlite {

namespace {

// ---- writing -----------------------------------------------------------------

class writer {
public:
    explicit writer(std::string& out) : out_(out) { out_.clear(); }

    void open_object() { separate(), out_ += '{', first_ = true; }
    void close_object() { out_ += '}', first_ = false; }
    void open_array() { separate(), out_ += '[', first_ = true; }
    void close_array() { out_ += ']', first_ = false; }

    void key(std::string_view name) {
        separate();
        out_ += '"';
        out_ += name;
        out_ += "\":";
        first_ = true;  // the value follows without a comma
    }
    void text(std::string_view value) {
        separate();
        out_ += '"';
        for (const char c : value) {
            switch (c) {
                case '"':
                    out_ += "\\\"";
                    break;
                case '\\':
                    out_ += "\\\\";
                    break;
                case '\n':
                    out_ += "\\n";
                    break;
                case '\r':
                    out_ += "\\r";
                    break;
                case '\t':
                    out_ += "\\t";
                    break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        fmt::format_to(std::back_inserter(out_), "\\u{:04x}",
                                       static_cast<unsigned>(static_cast<unsigned char>(c)));
                    } else {
                        out_ += c;
                    }
            }
        }
        out_ += '"';
    }
    void number(std::int64_t value) {
        separate();
        fmt::format_to(std::back_inserter(out_), "{}", value);
    }
    void unsigned_number(std::uint64_t value) {
        separate();
        fmt::format_to(std::back_inserter(out_), "{}", value);
    }
    void boolean(bool value) {
        separate();
        out_ += value ? "true" : "false";
    }
    void null() {
        separate();
        out_ += "null";
    }
    void amount(const money& value) {
        std::array<char, money::text_capacity> buffer{};
        text(std::string_view(buffer.data(), value.write(buffer)));
    }
    void time(timestamp at) { number(to_unix_ms(at)); }
    template <class Enum>
    void enumeration(Enum value) {
        number(static_cast<std::int64_t>(value));
    }

private:
    void separate() {
        if (!first_) {
            out_ += ',';
        }
        first_ = false;
    }

    std::string& out_;
    bool first_{true};
};

void write_address(writer& w, const address& a) {
    w.open_object();
    w.key("recipient"), w.text(a.recipient);
    w.key("phone"), w.text(a.phone);
    w.key("country"), w.text(a.country);
    w.key("province"), w.text(a.province);
    w.key("city"), w.text(a.city);
    w.key("district"), w.text(a.district);
    w.key("street"), w.text(a.street);
    w.key("postcode"), w.text(a.postcode);
    w.close_object();
}

void write_strings(writer& w, const std::vector<std::string>& values) {
    w.open_array();
    for (const std::string& v : values) {
        w.text(v);
    }
    w.close_array();
}

// ---- reading -----------------------------------------------------------------

// Commas are treated as white space: the body was written by writer, in
// the order the reader expects, so separators carry no information.
class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}

    [[nodiscard]] bool ok() const noexcept { return !failed_; }
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

    void open_object() { expect('{'); }
    void close_object() { expect('}'); }
    void open_array() { expect('['); }
    // True while the array has another element; false (consuming the ']') at its end.
    bool more() {
        skip_space();
        if (failed_) {
            return false;
        }
        if (peek() == ']') {
            ++pos_;
            return false;
        }
        return true;
    }
    void key(std::string_view name) {
        const std::string got = text();
        if (ok() && got != name) {
            fail(fmt::format("expected key \"{}\", found \"{}\"", name, got));
        }
        expect(':');
    }

    std::int64_t number() { return integer<std::int64_t>("an integer"); }
    std::uint64_t unsigned_number() { return integer<std::uint64_t>("an unsigned integer"); }
    bool boolean() {
        skip_space();
        if (in_.substr(pos_, 4) == "true") {
            pos_ += 4;
            return true;
        }
        if (in_.substr(pos_, 5) == "false") {
            pos_ += 5;
            return false;
        }
        fail("expected true or false");
        return false;
    }
    // True (and consumed) when the next value is null.
    bool null() {
        skip_space();
        if (in_.substr(pos_, 4) == "null") {
            pos_ += 4;
            return true;
        }
        return false;
    }
    std::optional<money> amount(std::string_view field) {
        const std::string value = text();
        if (!ok()) {
            return std::nullopt;
        }
        auto parsed = money_from(value, field);
        if (!parsed) {
            fail(parsed.error().message);
            return std::nullopt;
        }
        return *parsed;
    }
    timestamp time() { return from_unix_ms(number()); }
    template <class Enum>
    Enum enumeration(Enum last, std::string_view field) {
        const std::int64_t value = number();
        if (!ok()) {
            return last;
        }
        auto checked = enum_from(value, last, field);
        if (!checked) {
            fail(fmt::format("{} {}", field, checked.error().message));
            return last;
        }
        return *checked;
    }
    quantity units(std::string_view field) {
        auto q = quantity::of(number());
        if (!q) {
            fail(fmt::format("{} is negative", field));
            return quantity{};
        }
        return *q;
    }
    void finish() {
        skip_space();
        if (ok() && pos_ != in_.size()) {
            fail("unexpected text after the body");
        }
    }

    std::string text() {
        skip_space();
        std::string out;
        if (peek() != '"') {
            fail("expected a string");
            return out;
        }
        ++pos_;
        while (pos_ < in_.size()) {
            const char c = in_[pos_++];
            if (c == '"') {
                return out;
            }
            if (c != '\\') {
                out += c;
            } else if (!unescape(out)) {
                return out;
            }
        }
        fail("unterminated string");
        return out;
    }

private:
    static bool is_space(char c) noexcept {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',';
    }
    void skip_space() {
        while (pos_ < in_.size() && is_space(in_[pos_])) {
            ++pos_;
        }
    }
    [[nodiscard]] char peek() const noexcept { return pos_ < in_.size() ? in_[pos_] : '\0'; }
    void fail(std::string_view why) {
        if (!failed_) {
            failed_ = true;
            problem_ = fmt::format("{} at byte {}", why, pos_);
            pos_ = in_.size();
        }
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) {
            fail(fmt::format("expected '{}'", c));
            return;
        }
        ++pos_;
    }
    template <class Int>
    Int integer(std::string_view what) {
        skip_space();
        Int value = 0;
        const char* begin = in_.data() + pos_;
        const auto [end, ec] = std::from_chars(begin, in_.data() + in_.size(), value);
        if (ec != std::errc{}) {
            fail(fmt::format("expected {}", what));
            return 0;
        }
        pos_ += static_cast<std::size_t>(end - begin);
        return value;
    }
    static void append_utf8(std::string& out, std::uint32_t cp) {
        const auto byte = [&](std::uint32_t b) { out += static_cast<char>(b); };
        if (cp < 0x80) {
            byte(cp);
        } else if (cp < 0x800) {
            byte(0xC0 | (cp >> 6)), byte(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            byte(0xE0 | (cp >> 12)), byte(0x80 | ((cp >> 6) & 0x3F)), byte(0x80 | (cp & 0x3F));
        } else {
            byte(0xF0 | (cp >> 18)), byte(0x80 | ((cp >> 12) & 0x3F));
            byte(0x80 | ((cp >> 6) & 0x3F)), byte(0x80 | (cp & 0x3F));
        }
    }
    std::optional<std::uint32_t> hex4() {
        if (pos_ + 4 > in_.size()) {
            return std::nullopt;
        }
        std::uint32_t value = 0;
        const char* first = in_.data() + pos_;
        const auto [end, ec] = std::from_chars(first, first + 4, value, 16);
        if (ec != std::errc{} || end != first + 4) {
            return std::nullopt;
        }
        pos_ += 4;
        return value;
    }
    // After a backslash: appends the escaped character; false on a bad escape.
    bool unescape(std::string& out) {
        const char e = peek();
        ++pos_;
        switch (e) {
            case '"':
            case '\\':
            case '/':
                out += e;
                return true;
            case 'b':
                out += '\b';
                return true;
            case 'f':
                out += '\f';
                return true;
            case 'n':
                out += '\n';
                return true;
            case 'r':
                out += '\r';
                return true;
            case 't':
                out += '\t';
                return true;
            case 'u':
                break;
            default:
                fail("bad escape");
                return false;
        }
        auto cp = hex4();
        if (cp && *cp >= 0xD800 && *cp < 0xDC00 && in_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            const auto low = hex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) {
                fail("bad surrogate pair");
                return false;
            }
            cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
        }
        if (!cp) {
            fail("bad \\u escape");
            return false;
        }
        append_utf8(out, *cp);
        return true;
    }

    std::string_view in_;
    std::size_t pos_{0};
    bool failed_{false};
    std::string problem_;
};

address read_address(reader& r) {
    address a;
    r.open_object();
    r.key("recipient"), a.recipient = r.text();
    r.key("phone"), a.phone = r.text();
    r.key("country"), a.country = r.text();
    r.key("province"), a.province = r.text();
    r.key("city"), a.city = r.text();
    r.key("district"), a.district = r.text();
    r.key("street"), a.street = r.text();
    r.key("postcode"), a.postcode = r.text();
    r.close_object();
    return a;
}

std::vector<std::string> read_strings(reader& r) {
    std::vector<std::string> values;
    r.open_array();
    while (r.more()) {
        values.push_back(r.text());
    }
    return values;
}

}  // namespace
}  // namespace orderly::detail::sqlite

namespace orderly::detail::sqlite {

result<money> money_from(std::string_view text, std::string_view field) {
    auto parsed = money::parse(text);
    if (!parsed) {
        return error{
            errc::storage_failure, std::string(field),
            fmt::format("holds \"{}\", which is not money: {}", text, parsed.error().message)};
    }
    return *parsed;
}

void encode_order(const order& o, std::string& out) {
    writer w(out);
    w.open_object();
    w.key("id"), w.unsigned_number(o.id.value());
    w.key("number"), w.unsigned_number(o.number.value());
    w.key("version"), w.unsigned_number(o.version);
    w.key("channel"), w.enumeration(o.channel);
    w.key("customer"), w.text(o.customer.value());
    w.key("merchant"), w.text(o.merchant.value());
    w.key("ship_to"), write_address(w, o.ship_to);
    w.key("lines"), w.open_array();
    for (const order_line& line : o.lines) {
        w.open_object();
        w.key("sku"), w.text(line.sku.value());
        w.key("units"), w.number(line.units.units());
        w.key("unit_price"), w.amount(line.unit_price);
        w.key("discount"), w.amount(line.discount);
        w.close_object();
    }
    w.close_array();
    w.key("subtotal"), w.amount(o.subtotal);
    w.key("discount"), w.amount(o.discount);
    w.key("shipping_fee"), w.amount(o.shipping_fee);
    w.key("total"), w.amount(o.total);
    w.key("method"), w.enumeration(o.method);
    w.key("state"), w.enumeration(o.state);
    w.key("held_from"), w.enumeration(o.held_from);
    w.key("tags"), write_strings(w, o.tags);
    w.key("review_flags"), write_strings(w, o.review_flags);
    w.key("reservations"), w.open_array();
    for (const reservation& r : o.reservations) {
        w.open_object();
        w.key("id"), w.unsigned_number(r.id.value());
        w.key("sku"), w.text(r.sku.value());
        w.key("warehouse"), w.text(r.warehouse.value());
        w.key("units"), w.number(r.units.units());
        w.key("state"), w.enumeration(r.state);
        w.close_object();
    }
    w.close_array();
    w.key("payments"), w.open_array();
    for (const payment& p : o.payments) {
        w.open_object();
        w.key("id"), w.unsigned_number(p.id.value());
        w.key("method"), w.enumeration(p.method);
        w.key("gateway_reference"), w.text(p.gateway_reference);
        w.key("state"), w.enumeration(p.state);
        w.key("authorized"), w.amount(p.authorized);
        w.key("captured"), w.amount(p.captured);
        w.key("refunded"), w.amount(p.refunded);
        w.key("failure_reason"), w.text(p.failure_reason);
        w.key("updated_at"), w.time(p.updated_at);
        w.close_object();
    }
    w.close_array();
    w.key("payment_failures"), w.number(o.payment_failures);
    w.key("warehouse"), w.text(o.warehouse.value());
    w.key("carrier"), w.text(o.carrier.value());
    w.key("tracking_number"), w.text(o.tracking_number);
    w.key("placed_at"), w.time(o.placed_at);
    w.key("updated_at"), w.time(o.updated_at);
    w.key("due_at");
    if (o.due_at) {
        w.time(*o.due_at);
    } else {
        w.null();
    }
    w.close_object();
}

namespace {

std::optional<order_line> read_line(reader& r) {
    r.open_object();
    r.key("sku");
    sku_id sku(r.text());
    r.key("units");
    const quantity units = r.units("lines.units");
    r.key("unit_price");
    auto price = r.amount("lines.unit_price");
    r.key("discount");
    auto discount = r.amount("lines.discount");
    r.close_object();
    if (!price || !discount) {
        return std::nullopt;
    }
    return order_line{std::move(sku), units, *price, *discount};
}

reservation read_reservation(reader& r) {
    reservation v;
    r.open_object();
    r.key("id"), v.id = reservation_id(r.unsigned_number());
    r.key("sku"), v.sku = sku_id(r.text());
    r.key("warehouse"), v.warehouse = warehouse_id(r.text());
    r.key("units"), v.units = r.units("reservations.units");
    r.key("state"), v.state = r.enumeration(reservation_state::released, "reservations.state");
    r.close_object();
    return v;
}

std::optional<payment> read_payment(reader& r) {
    r.open_object();
    r.key("id");
    const payment_id id(r.unsigned_number());
    r.key("method");
    const auto method = r.enumeration(payment_method::cash_on_delivery, "payments.method");
    r.key("gateway_reference");
    std::string reference = r.text();
    r.key("state");
    const auto state = r.enumeration(payment_state::voided, "payments.state");
    r.key("authorized");
    auto authorized = r.amount("payments.authorized");
    r.key("captured");
    auto captured = r.amount("payments.captured");
    r.key("refunded");
    auto refunded = r.amount("payments.refunded");
    r.key("failure_reason");
    std::string failure = r.text();
    r.key("updated_at");
    const timestamp updated = r.time();
    r.close_object();
    if (!authorized || !captured || !refunded) {
        return std::nullopt;
    }
    return payment{id,        method,    std::move(reference), state,  *authorized,
                   *captured, *refunded, std::move(failure),   updated};
}

}  // namespace

result<order> decode_order(std::string_view body) {
    reader r(body);
    r.open_object();
    r.key("id");
    const order_id id(r.unsigned_number());
    r.key("number");
    const std::uint64_t number_value = r.unsigned_number();
    r.key("version");
    const std::uint64_t version = r.unsigned_number();
    r.key("channel");
    const auto channel = r.enumeration(order_channel::import, "channel");
    r.key("customer");
    customer_id customer(r.text());
    r.key("merchant");
    merchant_id merchant(r.text());
    r.key("ship_to");
    address ship_to = read_address(r);
    r.key("lines");
    std::vector<order_line> lines;
    r.open_array();
    while (r.more()) {
        if (auto line = read_line(r)) {
            lines.push_back(std::move(*line));
        }
    }
    r.key("subtotal");
    auto subtotal = r.amount("subtotal");
    r.key("discount");
    auto discount = r.amount("discount");
    r.key("shipping_fee");
    auto shipping_fee = r.amount("shipping_fee");
    r.key("total");
    auto total = r.amount("total");
    r.key("method");
    const auto method = r.enumeration(payment_method::cash_on_delivery, "method");
    r.key("state");
    const auto state = r.enumeration(order_state::cancelled, "state");
    r.key("held_from");
    const auto held_from = r.enumeration(order_state::cancelled, "held_from");
    r.key("tags");
    std::vector<std::string> tags = read_strings(r);
    r.key("review_flags");
    std::vector<std::string> flags = read_strings(r);
    r.key("reservations");
    std::vector<reservation> reservations;
    r.open_array();
    while (r.more()) {
        reservations.push_back(read_reservation(r));
    }
    r.key("payments");
    std::vector<payment> payments;
    r.open_array();
    while (r.more()) {
        if (auto p = read_payment(r)) {
            payments.push_back(std::move(*p));
        }
    }
    r.key("payment_failures");
    const std::int64_t failures = r.number();
    r.key("warehouse");
    warehouse_id warehouse(r.text());
    r.key("carrier");
    carrier_id carrier(r.text());
    r.key("tracking_number");
    std::string tracking = r.text();
    r.key("placed_at");
    const timestamp placed_at = r.time();
    r.key("updated_at");
    const timestamp updated_at = r.time();
    r.key("due_at");
    std::optional<timestamp> due_at;
    if (!r.null()) {
        due_at = r.time();
    }
    r.close_object();
    r.finish();

    auto number = number_value == 0 ? result<order_number>(order_number{})
                                    : order_number::from_value(number_value);
    if (r.ok() && !number) {
        return error{errc::storage_failure, "number",
                     fmt::format("order {} has a stored number that is not valid: {}", id,
                                 number.error().message)};
    }
    if (r.ok() && (failures < 0 || failures > std::numeric_limits<std::uint32_t>::max())) {
        return error{errc::storage_failure, "payment_failures",
                     fmt::format("order {} holds {} payment failures", id, failures)};
    }
    if (!r.ok() || !subtotal || !discount || !shipping_fee || !total) {
        return error{
            errc::storage_failure, "body",
            fmt::format("order {} has a stored body that does not decode: {}", id, r.problem())};
    }
    return order{.id = id,
                 .number = *number,
                 .version = version,
                 .channel = channel,
                 .customer = std::move(customer),
                 .merchant = std::move(merchant),
                 .ship_to = std::move(ship_to),
                 .lines = std::move(lines),
                 .subtotal = *subtotal,
                 .discount = *discount,
                 .shipping_fee = *shipping_fee,
                 .total = *total,
                 .method = method,
                 .state = state,
                 .held_from = held_from,
                 .tags = std::move(tags),
                 .review_flags = std::move(flags),
                 .reservations = std::move(reservations),
                 .payments = std::move(payments),
                 .payment_failures = static_cast<std::uint32_t>(failures),
                 .warehouse = std::move(warehouse),
                 .carrier = std::move(carrier),
                 .tracking_number = std::move(tracking),
                 .placed_at = placed_at,
                 .updated_at = updated_at,
                 .due_at = due_at};
}

void encode_details(const detail_pairs& details, std::string& out) {
    writer w(out);
    w.open_array();
    for (const auto& [name, value] : details) {
        w.open_array();
        w.text(name);
        w.text(value);
        w.close_array();
    }
    w.close_array();
}

result<detail_pairs> decode_details(std::string_view text) {
    reader r(text);
    detail_pairs details;
    r.open_array();
    while (r.more()) {
        r.open_array();
        std::string name = r.text();
        std::string value = r.text();
        if (r.more()) {
            return error{errc::storage_failure, "details",
                         "stored notification details hold more than a name and a value"};
        }
        details.emplace_back(std::move(name), std::move(value));
    }
    r.finish();
    if (!r.ok()) {
        return error{errc::storage_failure, "details",
                     fmt::format("stored notification details do not decode: {}", r.problem())};
    }
    return details;
}

}  // namespace orderly::detail::sqlite
