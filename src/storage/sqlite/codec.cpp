// The JSON bodies of an order, a shipment, an after-sales ticket and an
// exception case. The writer emits keys in one fixed order and the reader
// expects that order (whitespace and every JSON string escape are accepted),
// so decoding is a single forward pass with no tree. Any change of shape is a
// schema migration that rewrites the bodies, or, as with the order's
// "shipments" (schema version 2), its "tickets" and "rating" and the
// shipment's "ticket" (schema version 3), the order's "refunds" and a ticket
// line's "refused" (schema version 5), a key added last that the reader
// treats as empty when a body (or a ticket line) ends before it. Case bodies
// (schema version 4) have no such optional key yet: every key is required.

#include "codec.hpp"

#include "../../core/quoted.hpp"

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
        detail::append_quoted(out_, value);
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
    void time(const std::optional<timestamp>& at) {
        if (at) {
            time(*at);
        } else {
            null();
        }
    }
    void amount(const std::optional<money>& value) {
        if (value) {
            amount(*value);
        } else {
            null();
        }
    }
    template <class Tag>
    void id(const std::optional<strong_id<Tag, std::uint64_t>>& value) {
        if (value) {
            unsigned_number(value->value());
        } else {
            null();
        }
    }
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

// The per-line parts of a refund: a ticket's refund breakdown and an order's
// ledger entries write them alike.
void write_refund_lines(writer& w, const std::vector<refund_line>& lines) {
    w.open_array();
    for (const refund_line& line : lines) {
        w.open_object();
        w.key("line"), w.unsigned_number(line.line);
        w.key("units"), w.number(line.units.units());
        w.key("goods"), w.amount(line.goods);
        w.key("shipping"), w.amount(line.shipping);
        w.close_object();
    }
    w.close_array();
}

// The order's refund ledger (order::refunds), oldest first.
void write_order_refunds(writer& w, const std::vector<order_refund>& refunds) {
    w.open_array();
    for (const order_refund& entry : refunds) {
        w.open_object();
        w.key("at"), w.time(entry.at);
        w.key("source"), w.enumeration(entry.source);
        w.key("reference"), w.unsigned_number(entry.reference);
        w.key("amount"), w.amount(entry.amount);
        w.key("lines"), write_refund_lines(w, entry.lines);
        w.key("reason"), w.text(entry.reason);
        if (entry.waived) {  // absent when false, as in rows written before it existed
            w.key("waived"), w.boolean(true);
        }
        w.close_object();
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
    // True (and the key consumed) when the next key is `name`: for a key
    // written only when it holds something.
    bool optional_key(std::string_view name) {
        skip_space();
        if (failed_ || pos_ + name.size() + 2 > in_.size() || in_[pos_] != '"' ||
            in_.substr(pos_ + 1, name.size()) != name || in_[pos_ + 1 + name.size()] != '"') {
            return false;
        }
        key(name);
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
            fail(fmt::format("{} {}", field, parsed.error().message));
            return std::nullopt;
        }
        return *parsed;
    }
    timestamp time() { return from_unix_ms(number()); }
    std::optional<timestamp> optional_time() {
        if (null()) {
            return std::nullopt;
        }
        return time();
    }
    // Null, or money; a bad amount fails the reader.
    std::optional<money> optional_amount(std::string_view field) {
        if (null()) {
            return std::nullopt;
        }
        return amount(field);
    }
    template <class Id>
    std::optional<Id> optional_id() {
        if (null()) {
            return std::nullopt;
        }
        return Id(unsigned_number());
    }
    // An unsigned number that fits 32 bits.
    std::uint32_t unsigned_32(std::string_view field) {
        const std::uint64_t value = unsigned_number();
        if (ok() && value > std::numeric_limits<std::uint32_t>::max()) {
            fail(fmt::format("{} holds {}, more than 32 bits", field, value));
        }
        return static_cast<std::uint32_t>(value);
    }
    // True when the current object has no more keys (the '}' is next).
    bool object_ends() {
        skip_space();
        return ok() && peek() == '}';
    }
    // Fails the reader with `why` (the first failure is the one reported).
    void reject(std::string_view why) { fail(why); }
    // A stored enumeration from 1 (or 0 when `zero_allowed`) to `last`.
    template <class Enum>
    Enum enumeration(Enum last, std::string_view field, bool zero_allowed = false) {
        const std::int64_t value = number();
        if (!ok()) {
            return last;
        }
        if (zero_allowed && value == 0) {
            return static_cast<Enum>(0);
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

// The per-line parts of a refund; `prefix` names them in a refusal
// ("refund.lines", "refunds.lines"). A bad amount fails the reader.
std::vector<refund_line> read_refund_lines(reader& r, std::string_view prefix) {
    std::vector<refund_line> lines;
    r.open_array();
    while (r.more()) {
        r.open_object();
        r.key("line");
        const std::uint32_t line = r.unsigned_32(fmt::format("{}.line", prefix));
        r.key("units");
        const quantity units = r.units(fmt::format("{}.units", prefix));
        r.key("goods");
        auto goods = r.amount(fmt::format("{}.goods", prefix));
        r.key("shipping");
        auto shipping = r.amount(fmt::format("{}.shipping", prefix));
        r.close_object();
        if (!goods || !shipping) {
            return lines;  // the reader has failed
        }
        lines.push_back(
            refund_line{.line = line, .units = units, .goods = *goods, .shipping = *shipping});
    }
    return lines;
}

// The order's refund ledger; a bad source or amount fails the reader.
std::vector<order_refund> read_order_refunds(reader& r) {
    std::vector<order_refund> refunds;
    r.open_array();
    while (r.more()) {
        r.open_object();
        r.key("at");
        const timestamp at = r.time();
        r.key("source");
        const auto source = r.enumeration(all_refund_sources.back(), "refunds.source");
        r.key("reference");
        const std::uint64_t reference = r.unsigned_number();
        r.key("amount");
        auto amount = r.amount("refunds.amount");
        r.key("lines");
        std::vector<refund_line> lines = read_refund_lines(r, "refunds.lines");
        r.key("reason");
        std::string reason = r.text();
        const bool waived = r.optional_key("waived") && r.boolean();
        r.close_object();
        if (!amount) {
            return refunds;  // the reader has failed
        }
        refunds.push_back(order_refund{.at = at,
                                       .source = source,
                                       .reference = reference,
                                       .amount = std::move(*amount),
                                       .lines = std::move(lines),
                                       .reason = std::move(reason),
                                       .waived = waived});
    }
    return refunds;
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
    w.key("due_at"), w.time(o.due_at);
    // Last, so a body without it (schema version 1) still decodes.
    w.key("shipments"), w.open_array();
    for (const shipment_id id : o.shipments) {
        w.unsigned_number(id.value());
    }
    w.close_array();
    // After it, so a body without them (schema versions 1 and 2) still decodes.
    w.key("tickets"), w.open_array();
    for (const ticket_id id : o.tickets) {
        w.unsigned_number(id.value());
    }
    w.close_array();
    w.key("rating");
    if (o.rating) {
        w.open_object();
        w.key("score"), w.unsigned_number(o.rating->score);
        w.key("text"), w.text(o.rating->text);
        w.key("at"), w.time(o.rating->at);
        w.close_object();
    } else {
        w.null();
    }
    // Last, so a body without it (schema versions 1 to 4) still decodes.
    w.key("refunds"), write_order_refunds(w, o.refunds);
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
    r.key("state"), v.state = r.enumeration(all_reservation_states.back(), "reservations.state");
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
    const auto state = r.enumeration(all_payment_states.back(), "payments.state");
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

// Null, or the customer's rating; a score above 255 fails the reader.
std::optional<order_rating> read_rating(reader& r) {
    if (r.null()) {
        return std::nullopt;
    }
    order_rating rating;
    r.open_object();
    r.key("score");
    const std::uint64_t score = r.unsigned_number();
    if (r.ok() && score > std::numeric_limits<std::uint8_t>::max()) {
        r.reject(fmt::format("rating.score holds {}, more than 8 bits", score));
    }
    rating.score = static_cast<std::uint8_t>(score);
    r.key("text"), rating.text = r.text();
    r.key("at"), rating.at = r.time();
    r.close_object();
    return rating;
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
    const auto state = r.enumeration(all_order_states.back(), "state");
    r.key("held_from");
    const auto held_from = r.enumeration(all_order_states.back(), "held_from");
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
    const std::optional<timestamp> due_at = r.optional_time();
    std::vector<shipment_id> shipments;
    if (!r.object_ends()) {  // absent in bodies of schema version 1
        r.key("shipments");
        r.open_array();
        while (r.more()) {
            shipments.emplace_back(r.unsigned_number());
        }
    }
    std::vector<ticket_id> tickets;
    std::optional<order_rating> rating;
    if (!r.object_ends()) {  // absent in bodies of schema versions 1 and 2
        r.key("tickets");
        r.open_array();
        while (r.more()) {
            tickets.emplace_back(r.unsigned_number());
        }
        r.key("rating");
        rating = read_rating(r);
    }
    std::vector<order_refund> refunds;
    if (!r.object_ends()) {  // absent in bodies of schema versions 1 to 4
        r.key("refunds");
        refunds = read_order_refunds(r);
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
                 .shipments = std::move(shipments),
                 .warehouse = std::move(warehouse),
                 .carrier = std::move(carrier),
                 .tracking_number = std::move(tracking),
                 .placed_at = placed_at,
                 .updated_at = updated_at,
                 .due_at = due_at,
                 .tickets = std::move(tickets),
                 .rating = std::move(rating),
                 .refunds = std::move(refunds)};
}

// ---- shipments -------------------------------------------------------------------

namespace {

void write_packing(writer& w, const packing_record& p) {
    w.open_object();
    w.key("shipment"), w.unsigned_number(p.shipment.value());
    w.key("expected"), w.open_array();
    for (const packing_line& line : p.expected) {
        w.open_object();
        w.key("sku"), w.text(line.sku.value());
        w.key("units"), w.number(line.units.units());
        w.close_object();
    }
    w.close_array();
    w.key("scans"), w.open_array();
    for (const packing_scan& scan : p.scans) {
        w.open_object();
        w.key("sku"), w.text(scan.sku.value());
        w.key("units"), w.number(scan.units.units());
        w.key("at"), w.time(scan.at);
        w.close_object();
    }
    w.close_array();
    w.key("mismatches"), w.open_array();
    for (const packing_mismatch& m : p.mismatches) {
        w.open_object();
        w.key("kind"), w.enumeration(m.kind);
        w.key("sku"), w.text(m.sku.value());
        w.key("expected"), w.number(m.expected);
        w.key("counted"), w.number(m.counted);
        w.key("units"), w.number(m.units);
        w.key("at"), w.time(m.at);
        w.close_object();
    }
    w.close_array();
    w.key("mismatch_count"), w.unsigned_number(p.mismatch_count);
    w.key("status"), w.enumeration(p.status);
    w.key("finished_at"), w.time(p.finished_at);
    w.close_object();
}

// The raw carrier events and the label's creation time: everything else of a
// history is derived from them by rebuild_tracking_history.
void write_tracking(writer& w, const tracking_history& t) {
    w.open_object();
    w.key("label_created_at"), w.time(t.label_created_at());
    w.key("events"), w.open_array();
    for (const tracking_entry& entry : t.entries()) {
        const carrier_event& e = entry.event;
        w.open_object();
        w.key("id"), w.text(e.id);
        w.key("kind"), w.enumeration(e.kind);
        w.key("occurred_at"), w.time(e.occurred_at);
        w.key("received_at"), w.time(e.received_at);
        w.key("location"), w.text(e.location);
        w.key("detail"), w.text(e.detail);
        w.close_object();
    }
    w.close_array();
    w.close_object();
}

void write_exception(writer& w, const logistics_exception& x) {
    w.open_object();
    w.key("kind"), w.enumeration(x.kind);
    w.key("raised_at"), w.time(x.raised_at);
    w.key("detail"), w.text(x.detail);
    w.key("remedy"), w.enumeration(x.remedy);
    w.key("resolved_at"), w.time(x.resolved_at);
    w.key("amount"), w.amount(x.amount);
    w.key("replacement"), w.id(x.replacement);
    w.key("reported"), w.boolean(x.reported);
    w.close_object();
}

void write_shipment_lines(writer& w, const std::vector<shipment_line>& lines) {
    w.open_array();
    for (const shipment_line& line : lines) {
        w.open_object();
        w.key("order"), w.unsigned_number(line.order.value());
        w.key("line"), w.unsigned_number(line.line);
        w.key("sku"), w.text(line.sku.value());
        w.key("units"), w.number(line.units.units());
        w.key("reservation"), w.unsigned_number(line.reservation.value());
        w.close_object();
    }
    w.close_array();
}

}  // namespace

void encode_shipment(const shipment& s, std::string& out) {
    writer w(out);
    w.open_object();
    w.key("id"), w.unsigned_number(s.id.value());
    w.key("version"), w.unsigned_number(s.version);
    w.key("merchant"), w.text(s.merchant.value());
    w.key("customer"), w.text(s.customer.value());
    w.key("ship_to"), write_address(w, s.ship_to);
    w.key("orders"), w.open_array();
    for (const order_id id : s.orders) {
        w.unsigned_number(id.value());
    }
    w.close_array();
    w.key("warehouse"), w.text(s.warehouse.value());
    w.key("shipping_method"), w.text(s.shipping_method);
    w.key("lines"), write_shipment_lines(w, s.lines);
    w.key("state"), w.enumeration(s.state);
    w.key("wave"), w.unsigned_number(s.wave);
    w.key("packing");
    if (s.packing) {
        write_packing(w, *s.packing);
    } else {
        w.null();
    }
    w.key("carrier"), w.text(s.carrier.value());
    w.key("service"), w.enumeration(s.service);
    w.key("tracking_number"), w.text(s.tracking_number);
    w.key("shipping_cost"), w.amount(s.shipping_cost);
    w.key("promised_by"), w.time(s.promised_by);
    w.key("tracking");
    if (s.tracking) {
        write_tracking(w, *s.tracking);
    } else {
        w.null();
    }
    w.key("exceptions"), w.open_array();
    for (const logistics_exception& x : s.exceptions) {
        write_exception(w, x);
    }
    w.close_array();
    w.key("replaces"), w.id(s.replaces);
    w.key("created_at"), w.time(s.created_at);
    w.key("updated_at"), w.time(s.updated_at);
    w.key("shipped_at"), w.time(s.shipped_at);
    w.key("delivered_at"), w.time(s.delivered_at);
    w.key("due_at"), w.time(s.due_at);
    // Last, so a body without it (schema version 2) still decodes.
    w.key("ticket"), w.id(s.ticket);
    w.close_object();
}

namespace {

std::vector<shipment_line> read_shipment_lines(reader& r) {
    std::vector<shipment_line> lines;
    r.open_array();
    while (r.more()) {
        shipment_line line;
        r.open_object();
        r.key("order"), line.order = order_id(r.unsigned_number());
        r.key("line"), line.line = r.unsigned_32("lines.line");
        r.key("sku"), line.sku = sku_id(r.text());
        r.key("units"), line.units = r.units("lines.units");
        r.key("reservation"), line.reservation = reservation_id(r.unsigned_number());
        r.close_object();
        lines.push_back(std::move(line));
    }
    return lines;
}

std::vector<packing_line> read_packing_lines(reader& r) {
    std::vector<packing_line> lines;
    r.open_array();
    while (r.more()) {
        packing_line line;
        r.open_object();
        r.key("sku"), line.sku = sku_id(r.text());
        r.key("units"), line.units = r.units("packing.expected.units");
        r.close_object();
        lines.push_back(std::move(line));
    }
    return lines;
}

std::vector<packing_scan> read_packing_scans(reader& r) {
    std::vector<packing_scan> scans;
    r.open_array();
    while (r.more()) {
        packing_scan scan;
        r.open_object();
        r.key("sku"), scan.sku = sku_id(r.text());
        r.key("units"), scan.units = r.units("packing.scans.units");
        r.key("at"), scan.at = r.time();
        r.close_object();
        scans.push_back(std::move(scan));
    }
    return scans;
}

std::vector<packing_mismatch> read_packing_mismatches(reader& r) {
    std::vector<packing_mismatch> mismatches;
    r.open_array();
    while (r.more()) {
        packing_mismatch m;
        r.open_object();
        r.key("kind"),
            m.kind = r.enumeration(packing_mismatch_kind::missing, "packing.mismatches.kind");
        r.key("sku"), m.sku = sku_id(r.text());
        r.key("expected"), m.expected = r.number();
        r.key("counted"), m.counted = r.number();
        r.key("units"), m.units = r.number();
        r.key("at"), m.at = r.time();
        r.close_object();
        mismatches.push_back(std::move(m));
    }
    return mismatches;
}

std::optional<packing_record> read_packing(reader& r) {
    if (r.null()) {
        return std::nullopt;
    }
    packing_record p;
    r.open_object();
    r.key("shipment"), p.shipment = shipment_id(r.unsigned_number());
    r.key("expected"), p.expected = read_packing_lines(r);
    r.key("scans"), p.scans = read_packing_scans(r);
    r.key("mismatches"), p.mismatches = read_packing_mismatches(r);
    r.key("mismatch_count"), p.mismatch_count = r.unsigned_number();
    r.key("status"), p.status = r.enumeration(packing_status::passed, "packing.status");
    r.key("finished_at"), p.finished_at = r.optional_time();
    r.close_object();
    return p;
}

// The history rebuilt from its stored events; a set of events that does not
// rebuild (the file was changed outside orderly) fails the reader.
std::optional<tracking_history> read_tracking(reader& r) {
    if (r.null()) {
        return std::nullopt;
    }
    r.open_object();
    r.key("label_created_at");
    const timestamp label_created_at = r.time();
    r.key("events");
    std::vector<carrier_event> events;
    r.open_array();
    while (r.more()) {
        carrier_event e;
        r.open_object();
        r.key("id"), e.id = r.text();
        r.key("kind"), e.kind = r.enumeration(all_tracking_events.back(), "tracking.kind");
        r.key("occurred_at"), e.occurred_at = r.time();
        r.key("received_at"), e.received_at = r.time();
        r.key("location"), e.location = r.text();
        r.key("detail"), e.detail = r.text();
        r.close_object();
        events.push_back(std::move(e));
    }
    r.close_object();
    if (!r.ok()) {
        return std::nullopt;
    }
    auto rebuilt = rebuild_tracking_history(label_created_at, events);
    if (!rebuilt) {
        r.reject(fmt::format("tracking.{} {}", rebuilt.error().field, rebuilt.error().message));
        return std::nullopt;
    }
    return std::move(*rebuilt);
}

std::vector<logistics_exception> read_exceptions(reader& r) {
    std::vector<logistics_exception> exceptions;
    r.open_array();
    while (r.more()) {
        logistics_exception x;
        r.open_object();
        r.key("kind"),
            x.kind = r.enumeration(logistics_exception_kind::returned, "exceptions.kind");
        r.key("raised_at"), x.raised_at = r.time();
        r.key("detail"), x.detail = r.text();
        r.key("remedy"),
            x.remedy = r.enumeration(logistics_remedy::recovered, "exceptions.remedy", true);
        r.key("resolved_at"), x.resolved_at = r.optional_time();
        r.key("amount"), x.amount = r.optional_amount("exceptions.amount");
        r.key("replacement"), x.replacement = r.optional_id<shipment_id>();
        r.key("reported"), x.reported = r.boolean();
        r.close_object();
        exceptions.push_back(std::move(x));
    }
    return exceptions;
}

// Everything after the shipping method, into `s`.
void read_shipment_progress(reader& r, shipment& s) {
    r.key("lines"), s.lines = read_shipment_lines(r);
    r.key("state"), s.state = r.enumeration(all_shipment_states.back(), "state");
    r.key("wave"), s.wave = r.unsigned_number();
    r.key("packing"), s.packing = read_packing(r);
    r.key("carrier"), s.carrier = carrier_id(r.text());
    r.key("service"), s.service = r.enumeration(all_service_levels.back(), "service");
    r.key("tracking_number"), s.tracking_number = r.text();
    r.key("shipping_cost"), s.shipping_cost = r.optional_amount("shipping_cost");
    r.key("promised_by"), s.promised_by = r.optional_time();
    r.key("tracking"), s.tracking = read_tracking(r);
    r.key("exceptions"), s.exceptions = read_exceptions(r);
    r.key("replaces"), s.replaces = r.optional_id<shipment_id>();
    r.key("created_at"), s.created_at = r.time();
    r.key("updated_at"), s.updated_at = r.time();
    r.key("shipped_at"), s.shipped_at = r.optional_time();
    r.key("delivered_at"), s.delivered_at = r.optional_time();
    r.key("due_at"), s.due_at = r.optional_time();
    if (!r.object_ends()) {  // absent in bodies of schema version 2
        r.key("ticket"), s.ticket = r.optional_id<ticket_id>();
    }
}

}  // namespace

result<shipment> decode_shipment(std::string_view body) {
    reader r(body);
    shipment s;
    r.open_object();
    r.key("id"), s.id = shipment_id(r.unsigned_number());
    r.key("version"), s.version = r.unsigned_number();
    r.key("merchant"), s.merchant = merchant_id(r.text());
    r.key("customer"), s.customer = customer_id(r.text());
    r.key("ship_to"), s.ship_to = read_address(r);
    r.key("orders");
    r.open_array();
    while (r.more()) {
        s.orders.emplace_back(r.unsigned_number());
    }
    r.key("warehouse"), s.warehouse = warehouse_id(r.text());
    r.key("shipping_method"), s.shipping_method = r.text();
    read_shipment_progress(r, s);
    r.close_object();
    r.finish();
    if (!r.ok()) {
        return error{errc::storage_failure, "body",
                     fmt::format("shipment {} has a stored body that does not decode: {}", s.id,
                                 r.problem())};
    }
    return s;
}

// ---- tickets ---------------------------------------------------------------------

namespace {

void write_ticket_lines(writer& w, const std::vector<ticket_line>& lines) {
    w.open_array();
    for (const ticket_line& line : lines) {
        w.open_object();
        w.key("line"), w.unsigned_number(line.line);
        w.key("sku"), w.text(line.sku.value());
        w.key("units"), w.number(line.units.units());
        w.key("replacement_sku"), w.text(line.replacement_sku.value());
        w.key("sellable"), w.number(line.sellable.units());
        w.key("damaged"), w.number(line.damaged.units());
        // Last, so a line without it (schema versions 3 and 4) still decodes.
        w.key("refused"), w.number(line.refused.units());
        w.close_object();
    }
    w.close_array();
}

// The parcel's tracking history is written as a shipment's is: its raw
// carrier events, rebuilt on reading.
void write_return_parcel(writer& w, const return_parcel& p) {
    w.open_object();
    w.key("carrier"), w.text(p.carrier.value());
    w.key("tracking_number"), w.text(p.tracking_number);
    w.key("tracking"), write_tracking(w, p.tracking);
    w.key("sent_at"), w.time(p.sent_at);
    w.close_object();
}

void write_refund(writer& w, const refund_breakdown& b) {
    w.open_object();
    w.key("lines"), write_refund_lines(w, b.lines);
    w.key("goods"), w.amount(b.goods);
    w.key("shipping"), w.amount(b.shipping);
    w.key("total"), w.amount(b.total);
    w.close_object();
}

void write_ticket_timeline(writer& w, const std::vector<ticket_entry>& entries) {
    w.open_array();
    for (const ticket_entry& e : entries) {
        w.open_object();
        w.key("at"), w.time(e.at);
        w.key("actor_id"), w.text(e.actor.id);
        w.key("actor_role"), w.enumeration(e.actor.role);
        w.key("event"), w.enumeration(e.event);
        w.key("from");
        if (e.from) {
            w.enumeration(*e.from);
        } else {
            w.null();
        }
        w.key("to"), w.enumeration(e.to);
        w.key("note"), w.text(e.note);
        w.close_object();
    }
    w.close_array();
}

}  // namespace

void encode_ticket(const ticket& t, std::string& out) {
    writer w(out);
    w.open_object();
    w.key("id"), w.unsigned_number(t.id.value());
    w.key("version"), w.unsigned_number(t.version);
    w.key("order"), w.unsigned_number(t.order.value());
    w.key("number"), w.unsigned_number(t.number.value());
    w.key("customer"), w.text(t.customer.value());
    w.key("merchant"), w.text(t.merchant.value());
    w.key("type"), w.enumeration(t.type);
    w.key("reason"), w.enumeration(t.reason);
    w.key("description"), w.text(t.description);
    w.key("evidence"), write_strings(w, t.evidence);
    w.key("lines"), write_ticket_lines(w, t.lines);
    w.key("state"), w.enumeration(t.state);
    w.key("escalated_from"), w.enumeration(t.escalated_from);
    w.key("owner"), w.text(t.owner);
    w.key("auto_approved"), w.boolean(t.auto_approved);
    w.key("approval_rule"), w.text(t.approval_rule);
    w.key("return_to"), w.text(t.return_to.value());
    w.key("returned");
    if (t.returned) {
        write_return_parcel(w, *t.returned);
    } else {
        w.null();
    }
    w.key("refund");
    if (t.refund) {
        write_refund(w, *t.refund);
    } else {
        w.null();
    }
    w.key("replacement"), w.id(t.replacement);
    w.key("repair_carrier"), w.text(t.repair_carrier.value());
    w.key("repair_tracking_number"), w.text(t.repair_tracking_number);
    w.key("timeline"), write_ticket_timeline(w, t.timeline);
    w.key("escalations"), w.unsigned_number(t.escalations);
    w.key("created_at"), w.time(t.created_at);
    w.key("updated_at"), w.time(t.updated_at);
    w.key("due_at"), w.time(t.due_at);
    w.close_object();
}

namespace {

std::vector<ticket_line> read_ticket_lines(reader& r) {
    std::vector<ticket_line> lines;
    r.open_array();
    while (r.more()) {
        ticket_line line;
        r.open_object();
        r.key("line"), line.line = r.unsigned_32("lines.line");
        r.key("sku"), line.sku = sku_id(r.text());
        r.key("units"), line.units = r.units("lines.units");
        r.key("replacement_sku"), line.replacement_sku = sku_id(r.text());
        r.key("sellable"), line.sellable = r.units("lines.sellable");
        r.key("damaged"), line.damaged = r.units("lines.damaged");
        if (!r.object_ends()) {  // absent in lines of schema versions 3 and 4
            r.key("refused"), line.refused = r.units("lines.refused");
        }
        r.close_object();
        lines.push_back(std::move(line));
    }
    return lines;
}

std::optional<return_parcel> read_return_parcel(reader& r) {
    if (r.null()) {
        return std::nullopt;
    }
    r.open_object();
    r.key("carrier");
    carrier_id carrier(r.text());
    r.key("tracking_number");
    std::string tracking_number = r.text();
    r.key("tracking");
    std::optional<tracking_history> tracking = read_tracking(r);
    if (r.ok() && !tracking) {
        r.reject("returned.tracking is null");
    }
    r.key("sent_at");
    const timestamp sent_at = r.time();
    r.close_object();
    if (!r.ok()) {
        return std::nullopt;
    }
    return return_parcel{.carrier = std::move(carrier),
                         .tracking_number = std::move(tracking_number),
                         .tracking = std::move(*tracking),
                         .sent_at = sent_at};
}

// Null, or the refund; a bad amount fails the reader.
std::optional<refund_breakdown> read_refund(reader& r) {
    if (r.null()) {
        return std::nullopt;
    }
    r.open_object();
    r.key("lines");
    std::vector<refund_line> lines = read_refund_lines(r, "refund.lines");
    r.key("goods");
    auto goods = r.amount("refund.goods");
    r.key("shipping");
    auto shipping = r.amount("refund.shipping");
    r.key("total");
    auto total = r.amount("refund.total");
    r.close_object();
    if (!goods || !shipping || !total) {
        return std::nullopt;
    }
    return refund_breakdown{
        .lines = std::move(lines), .goods = *goods, .shipping = *shipping, .total = *total};
}

std::vector<ticket_entry> read_ticket_timeline(reader& r) {
    std::vector<ticket_entry> entries;
    r.open_array();
    while (r.more()) {
        ticket_entry e;
        r.open_object();
        r.key("at"), e.at = r.time();
        r.key("actor_id"), e.actor.id = r.text();
        r.key("actor_role"), e.actor.role = r.enumeration(all_roles.back(), "timeline.actor_role");
        r.key("event"), e.event = r.enumeration(all_ticket_events.back(), "timeline.event");
        r.key("from");
        if (!r.null()) {
            e.from = r.enumeration(all_ticket_states.back(), "timeline.from");
        }
        r.key("to"), e.to = r.enumeration(all_ticket_states.back(), "timeline.to");
        r.key("note"), e.note = r.text();
        r.close_object();
        entries.push_back(std::move(e));
    }
    return entries;
}

// Everything after the description, into `t`.
void read_ticket_progress(reader& r, ticket& t) {
    r.key("evidence"), t.evidence = read_strings(r);
    r.key("lines"), t.lines = read_ticket_lines(r);
    r.key("state"), t.state = r.enumeration(all_ticket_states.back(), "state");
    r.key("escalated_from"),
        t.escalated_from = r.enumeration(all_ticket_states.back(), "escalated_from");
    r.key("owner"), t.owner = r.text();
    r.key("auto_approved"), t.auto_approved = r.boolean();
    r.key("approval_rule"), t.approval_rule = r.text();
    r.key("return_to"), t.return_to = warehouse_id(r.text());
    r.key("returned"), t.returned = read_return_parcel(r);
    r.key("refund"), t.refund = read_refund(r);
    r.key("replacement"), t.replacement = r.optional_id<shipment_id>();
    r.key("repair_carrier"), t.repair_carrier = carrier_id(r.text());
    r.key("repair_tracking_number"), t.repair_tracking_number = r.text();
    r.key("timeline"), t.timeline = read_ticket_timeline(r);
    r.key("escalations"), t.escalations = r.unsigned_32("escalations");
    r.key("created_at"), t.created_at = r.time();
    r.key("updated_at"), t.updated_at = r.time();
    r.key("due_at"), t.due_at = r.optional_time();
}

}  // namespace

result<ticket> decode_ticket(std::string_view body) {
    reader r(body);
    ticket t;
    r.open_object();
    r.key("id"), t.id = ticket_id(r.unsigned_number());
    r.key("version"), t.version = r.unsigned_number();
    r.key("order"), t.order = order_id(r.unsigned_number());
    r.key("number");
    const std::uint64_t number_value = r.unsigned_number();
    r.key("customer"), t.customer = customer_id(r.text());
    r.key("merchant"), t.merchant = merchant_id(r.text());
    r.key("type"), t.type = r.enumeration(all_ticket_types.back(), "type");
    r.key("reason"), t.reason = r.enumeration(all_ticket_reasons.back(), "reason");
    r.key("description"), t.description = r.text();
    read_ticket_progress(r, t);
    r.close_object();
    r.finish();
    if (!r.ok()) {
        return error{
            errc::storage_failure, "body",
            fmt::format("ticket {} has a stored body that does not decode: {}", t.id, r.problem())};
    }
    if (number_value != 0) {
        auto number = order_number::from_value(number_value);
        if (!number) {
            return error{errc::storage_failure, "number",
                         fmt::format("ticket {} has a stored order number that is not valid: {}",
                                     t.id, number.error().message)};
        }
        t.number = *number;
    }
    return t;
}

// ---- exception cases -------------------------------------------------------------

namespace {

void write_case_notes(writer& w, const std::vector<case_note>& notes) {
    w.open_array();
    for (const case_note& n : notes) {
        w.open_object();
        w.key("at"), w.time(n.at);
        w.key("author_id"), w.text(n.author.id);
        w.key("author_role"), w.enumeration(n.author.role);
        w.key("text"), w.text(n.text);
        w.close_object();
    }
    w.close_array();
}

void write_case_timeline(writer& w, const std::vector<case_entry>& entries) {
    w.open_array();
    for (const case_entry& e : entries) {
        w.open_object();
        w.key("at"), w.time(e.at);
        w.key("actor_id"), w.text(e.actor.id);
        w.key("actor_role"), w.enumeration(e.actor.role);
        w.key("event"), w.enumeration(e.event);
        w.key("from");
        if (e.from) {
            w.enumeration(*e.from);
        } else {
            w.null();
        }
        w.key("to"), w.enumeration(e.to);
        w.key("note"), w.text(e.note);
        w.close_object();
    }
    w.close_array();
}

}  // namespace

void encode_case(const exception_case& c, std::string& out) {
    writer w(out);
    w.open_object();
    w.key("id"), w.unsigned_number(c.id.value());
    w.key("version"), w.unsigned_number(c.version);
    w.key("type"), w.enumeration(c.type);
    w.key("priority"), w.enumeration(c.priority);
    w.key("state"), w.enumeration(c.state);
    w.key("escalated_from"), w.enumeration(c.escalated_from);
    w.key("cause_key"), w.text(c.cause_key);
    w.key("title"), w.text(c.title);
    w.key("order"), w.id(c.order);
    w.key("shipment"), w.id(c.shipment);
    w.key("ticket"), w.id(c.ticket);
    w.key("sku"), w.text(c.sku.value());
    w.key("warehouse"), w.text(c.warehouse.value());
    w.key("carrier"), w.text(c.carrier.value());
    w.key("merchant"), w.text(c.merchant.value());
    w.key("owner"), w.text(c.owner);
    w.key("notes"), write_case_notes(w, c.notes);
    w.key("timeline"), write_case_timeline(w, c.timeline);
    w.key("resolution"), w.text(c.resolution);
    w.key("resolution_code"), w.text(c.resolution_code);
    w.key("escalations"), w.unsigned_number(c.escalations);
    w.key("opened_at"), w.time(c.opened_at);
    w.key("updated_at"), w.time(c.updated_at);
    w.key("due_at"), w.time(c.due_at);
    w.key("resolved_at"), w.time(c.resolved_at);
    w.key("closed_at"), w.time(c.closed_at);
    w.close_object();
}

namespace {

std::vector<case_note> read_case_notes(reader& r) {
    std::vector<case_note> notes;
    r.open_array();
    while (r.more()) {
        case_note n;
        r.open_object();
        r.key("at"), n.at = r.time();
        r.key("author_id"), n.author.id = r.text();
        r.key("author_role"), n.author.role = r.enumeration(all_roles.back(), "notes.author_role");
        r.key("text"), n.text = r.text();
        r.close_object();
        notes.push_back(std::move(n));
    }
    return notes;
}

std::vector<case_entry> read_case_timeline(reader& r) {
    std::vector<case_entry> entries;
    r.open_array();
    while (r.more()) {
        case_entry e;
        r.open_object();
        r.key("at"), e.at = r.time();
        r.key("actor_id"), e.actor.id = r.text();
        r.key("actor_role"), e.actor.role = r.enumeration(all_roles.back(), "timeline.actor_role");
        r.key("event"), e.event = r.enumeration(all_case_events.back(), "timeline.event");
        r.key("from");
        if (!r.null()) {
            e.from = r.enumeration(all_case_states.back(), "timeline.from");
        }
        r.key("to"), e.to = r.enumeration(all_case_states.back(), "timeline.to");
        r.key("note"), e.note = r.text();
        r.close_object();
        entries.push_back(std::move(e));
    }
    return entries;
}

// Everything after the title, into `c`.
void read_case_progress(reader& r, exception_case& c) {
    r.key("order"), c.order = r.optional_id<order_id>();
    r.key("shipment"), c.shipment = r.optional_id<shipment_id>();
    r.key("ticket"), c.ticket = r.optional_id<ticket_id>();
    r.key("sku"), c.sku = sku_id(r.text());
    r.key("warehouse"), c.warehouse = warehouse_id(r.text());
    r.key("carrier"), c.carrier = carrier_id(r.text());
    r.key("merchant"), c.merchant = merchant_id(r.text());
    r.key("owner"), c.owner = r.text();
    r.key("notes"), c.notes = read_case_notes(r);
    r.key("timeline"), c.timeline = read_case_timeline(r);
    r.key("resolution"), c.resolution = r.text();
    r.key("resolution_code"), c.resolution_code = r.text();
    r.key("escalations"), c.escalations = r.unsigned_32("escalations");
    r.key("opened_at"), c.opened_at = r.time();
    r.key("updated_at"), c.updated_at = r.time();
    r.key("due_at"), c.due_at = r.optional_time();
    r.key("resolved_at"), c.resolved_at = r.optional_time();
    r.key("closed_at"), c.closed_at = r.optional_time();
}

}  // namespace

result<exception_case> decode_case(std::string_view body) {
    reader r(body);
    exception_case c;
    r.open_object();
    r.key("id"), c.id = case_id(r.unsigned_number());
    r.key("version"), c.version = r.unsigned_number();
    r.key("type"), c.type = r.enumeration(all_case_types.back(), "type");
    r.key("priority"), c.priority = r.enumeration(all_case_priorities.back(), "priority");
    r.key("state"), c.state = r.enumeration(all_case_states.back(), "state");
    r.key("escalated_from"),
        c.escalated_from = r.enumeration(all_case_states.back(), "escalated_from");
    r.key("cause_key"), c.cause_key = r.text();
    r.key("title"), c.title = r.text();
    read_case_progress(r, c);
    r.close_object();
    r.finish();
    if (!r.ok()) {
        return error{
            errc::storage_failure, "body",
            fmt::format("case {} has a stored body that does not decode: {}", c.id, r.problem())};
    }
    return c;
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
