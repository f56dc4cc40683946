#pragma once
/// \file
/// The order number a customer sees: unique, sortable by time, with a
/// check digit, and generated without a lock at hundreds of thousands a second.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace orderly {

/// The instant order numbers count from: 2020-01-01T00:00:00Z. Part of the
/// number format; it never changes.
inline constexpr std::chrono::sys_days order_number_epoch{std::chrono::year{2020} /
                                                          std::chrono::January / 1};

namespace detail {

/// The Damm algorithm's quasigroup (H. M. Damm, 2004): a check digit from it
/// catches every single-digit error and every swap of adjacent digits, which
/// Luhn does not (Luhn misses 09 <-> 90).
inline constexpr std::array<std::array<std::uint8_t, 10>, 10> damm_table = {{
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
    {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
    {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
    {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
    {6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
    {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
    {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
    {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
    {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}};

/// The Damm check digit of a string of ASCII digits (the caller checks they
/// are digits). A string followed by its check digit has check digit 0.
[[nodiscard]] constexpr unsigned damm_check_digit(std::string_view digits) noexcept {
    unsigned interim = 0;
    for (const char c : digits) {
        interim = damm_table[interim][static_cast<unsigned>(c - '0')];
    }
    return interim;
}

/// Why a text is or is not an order number, without allocating (validate()
/// must be cheap; parse() turns this into an error).
enum class order_number_text : std::uint8_t {
    well_formed,      ///< 20 digits, check digit correct, value in range.
    wrong_length,     ///< Not 20 characters.
    not_digits,       ///< A character other than 0-9.
    wrong_check,      ///< The check digit does not match.
    value_too_large,  ///< Check digit fine, but above 2^63 - 1.
};

/// The outcome of reading an order number's text.
struct order_number_reading {
    order_number_text status = order_number_text::wrong_length;  ///< What was found.
    std::uint64_t value = 0;  ///< The number, when status is well_formed.
};

}  // namespace detail

/// An order number: a 63-bit value laid out as
/// `milliseconds since order_number_epoch (41 bits) | node (10) | sequence (12)`
/// and printed as its 19 zero-padded decimal digits plus a Damm check digit,
/// 20 digits in all. Numeric order, text order and time order agree (numbers
/// of one millisecond order by node, then sequence).
///
/// The value fits a signed 64-bit integer (a BIGINT column); store value() and
/// read it back with from_value(), or store the text.
class order_number {
public:
    /// The integer type of the value.
    using rep_type = std::uint64_t;

    /// Bits of the millisecond count: 2^41 ms reach 2089-09-06T15:47:35.551Z.
    static constexpr unsigned timestamp_bits = 41;
    /// Bits of the node id.
    static constexpr unsigned node_bits = 10;
    /// Bits of the per-millisecond sequence.
    static constexpr unsigned sequence_bits = 12;
    /// The largest node id, 1023.
    static constexpr unsigned max_node = (1U << node_bits) - 1;
    /// The largest sequence number within a millisecond, 4095.
    static constexpr unsigned max_sequence = (1U << sequence_bits) - 1;
    /// The largest millisecond count, 2^41 - 1.
    static constexpr rep_type max_milliseconds = (rep_type{1} << timestamp_bits) - 1;
    /// The largest value, 2^63 - 1.
    static constexpr rep_type max_value = (rep_type{1} << 63) - 1;
    /// Length of the printed number: 19 digits of value, 1 check digit.
    static constexpr std::size_t text_length = 20;

    /// The zero number. No generator issues it, so it can stand for "none".
    constexpr order_number() = default;

    /// The number with this value, as stored by a host; invalid_value (field
    /// "order_number") above max_value.
    [[nodiscard]] static result<order_number> from_value(rep_type value) {
        if (value > max_value) {
            return error{errc::invalid_value, "order_number",
                         fmt::format("must be at most {}, got {}", max_value, value)};
        }
        return order_number(value);
    }

    /// Reads the 20-digit text, exactly (no spaces). Errors name field
    /// "order_number": malformed for a wrong length, a non-digit or a value
    /// above max_value; checksum_mismatch for a wrong check digit.
    [[nodiscard]] static result<order_number> parse(std::string_view text) {
        const detail::order_number_reading reading = read(text);
        switch (reading.status) {
            case detail::order_number_text::well_formed:
                return order_number(reading.value);
            case detail::order_number_text::wrong_length:
                return error{errc::malformed, "order_number",
                             fmt::format("must be exactly {} digits, got {} characters",
                                         text_length, text.size())};
            case detail::order_number_text::not_digits:
                return error{errc::malformed, "order_number", "must hold the digits 0-9 only"};
            case detail::order_number_text::wrong_check:
                return error{errc::checksum_mismatch, "order_number",
                             "is not a valid order number; please check it for a mistyped or "
                             "swapped digit"};
            case detail::order_number_text::value_too_large:
                return error{errc::malformed, "order_number", "is too large to be an order number"};
        }
        return error{errc::malformed, "order_number", "is not an order number"};
    }

    /// True only for a well-formed number with a correct check digit: what
    /// parse() accepts, without building an error. Cheap enough for a form's
    /// keystrokes.
    [[nodiscard]] static bool validate(std::string_view text) noexcept {
        return read(text).status == detail::order_number_text::well_formed;
    }

    /// The 63-bit value.
    [[nodiscard]] constexpr rep_type value() const noexcept { return value_; }

    /// When the number was issued, to the millisecond (later than the
    /// caller's clock when a generator ran ahead; see order_number_generator).
    [[nodiscard]] constexpr std::chrono::sys_time<std::chrono::milliseconds> placed_at()
        const noexcept {
        const auto since_epoch = std::chrono::milliseconds(
            static_cast<std::chrono::milliseconds::rep>(value_ >> (node_bits + sequence_bits)));
        return std::chrono::sys_time<std::chrono::milliseconds>(order_number_epoch) + since_epoch;
    }

    /// The id of the node (generator) that issued it, 0 to 1023.
    [[nodiscard]] constexpr unsigned node() const noexcept {
        return static_cast<unsigned>((value_ >> sequence_bits) & max_node);
    }

    /// Its place among its node's numbers of the same millisecond, 0 to 4095.
    [[nodiscard]] constexpr unsigned sequence() const noexcept {
        return static_cast<unsigned>(value_ & max_sequence);
    }

    /// The 20 digits, without allocating.
    [[nodiscard]] constexpr std::array<char, text_length> digits() const noexcept {
        std::array<char, text_length> text{};
        rep_type rest = value_;
        for (std::size_t i = text_length - 1; i-- > 0;) {
            text[i] = static_cast<char>('0' + rest % 10);
            rest /= 10;
        }
        const unsigned check =
            detail::damm_check_digit(std::string_view(text.data(), text_length - 1));
        text[text_length - 1] = static_cast<char>('0' + check);
        return text;
    }

    /// The 20 digits as a string, e.g. "00000000000042147913".
    [[nodiscard]] std::string to_string() const {
        const std::array<char, text_length> text = digits();
        return std::string(text.data(), text.size());
    }

    /// Numbers order by value, which is time order.
    friend constexpr auto operator<=>(order_number, order_number) = default;

private:
    friend class order_number_generator;

    /// Wraps a value known to be at most max_value.
    constexpr explicit order_number(rep_type value) noexcept : value_(value) {}

    /// Reads text without allocating; the one parser behind parse() and
    /// validate().
    [[nodiscard]] static constexpr detail::order_number_reading read(
        std::string_view text) noexcept {
        using detail::order_number_text;
        if (text.size() != text_length) {
            return {order_number_text::wrong_length, 0};
        }
        rep_type value = 0;  // 19 digits are below 10^19 < 2^64: no overflow.
        for (std::size_t i = 0; i < text_length; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return {order_number_text::not_digits, 0};
            }
            if (i + 1 < text_length) {
                value = value * 10 + static_cast<rep_type>(text[i] - '0');
            }
        }
        if (detail::damm_check_digit(text) != 0) {
            return {order_number_text::wrong_check, 0};
        }
        if (value > max_value) {
            return {order_number_text::value_too_large, 0};
        }
        return {order_number_text::well_formed, value};
    }

    /// The 63-bit value.
    rep_type value_ = 0;
};

/// Issues order numbers for one node: strictly increasing, never twice, safe
/// to share between threads and lock-free (one atomic compare-exchange).
///
/// - Uniqueness across processes comes from the node id: give every process
///   (or every generator) its own node, 0 to 1023. Two live generators with
///   the same node can issue the same number.
/// - The caller passes the time (orderly reads time only through its Clock
///   port). If it goes backwards, the generator keeps using the last
///   millisecond it issued; if a millisecond's 4096 sequence numbers run out,
///   it moves on to the next millisecond. Either way its logical clock may
///   run ahead of the caller's, so placed_at() can be a little later than the
///   real time; it catches up when the real time passes it.
/// - Times before order_number_epoch count as the epoch itself. Times after
///   2089-09-06T15:47:35.551Z cannot be encoded: next() refuses them, and
///   refuses everything once the logical clock has reached that instant.
/// - After a restart, pass the last number the node stored to resume_after()
///   before issuing, so no number is issued twice.
class order_number_generator {
public:
    /// A generator for `node` (0 to 1023); invalid_value (field "node")
    /// otherwise.
    [[nodiscard]] static result<order_number_generator> create(unsigned node) {
        if (node > order_number::max_node) {
            return error{errc::invalid_value, "node",
                         fmt::format("must be from 0 to {}, got {}", order_number::max_node, node)};
        }
        return order_number_generator(node);
    }

    /// Moves a generator that no other thread is using (result needs it).
    order_number_generator(order_number_generator&& other) noexcept
        : last_(other.last_.load(std::memory_order_relaxed)), node_(other.node_) {}
    /// Not copyable: two copies would issue the same numbers.
    order_number_generator(const order_number_generator&) = delete;
    /// Not assignable: share one generator, by reference.
    order_number_generator& operator=(const order_number_generator&) = delete;
    /// Not assignable: share one generator, by reference.
    order_number_generator& operator=(order_number_generator&&) = delete;
    /// Nothing to release.
    ~order_number_generator() = default;

    /// The next number at time `now`: greater than every number this
    /// generator issued before. overflow, and nothing changes, when `now` is
    /// past 2089-09-06T15:47:35.551Z (field "now") or the generator has
    /// issued its last number (field "order_number"). Thread-safe, lock-free,
    /// no allocation on success.
    [[nodiscard]] result<order_number> next(std::chrono::system_clock::time_point now) {
        const std::int64_t now_ms =
            std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count();
        std::uint64_t floor = 0;  // The smallest state `now` allows.
        if (now_ms > epoch_ms) {
            const auto since_epoch_ms = static_cast<std::uint64_t>(now_ms - epoch_ms);
            if (since_epoch_ms > order_number::max_milliseconds) {
                return time_out_of_range();
            }
            floor = since_epoch_ms << sequence_bits;
        }
        // Relaxed is enough: all updates are read-modify-writes of one atomic,
        // so they form a single order and each sees the latest state.
        std::uint64_t last = last_.load(std::memory_order_relaxed);
        std::uint64_t issued = 0;
        do {
            issued = std::max(floor, last + 1);
            if (issued > max_state) {
                return generator_exhausted();
            }
        } while (!last_.compare_exchange_weak(last, issued, std::memory_order_relaxed));
        return order_number(compose(issued));
    }

    /// Makes every number issued from now on greater than `last`: call it on
    /// start with the last number this node stored. Thread-safe; never moves
    /// the generator backwards. A number of another node works too (the next
    /// numbers then sort after it).
    void resume_after(order_number last) noexcept {
        const std::uint64_t value = last.value();
        const std::uint64_t ms = value >> (order_number::node_bits + sequence_bits);
        const std::uint64_t at_ms_start = ms << sequence_bits;
        std::uint64_t floor = 0;  // The generator issues only states above this.
        if (last.node() == node_) {
            floor = at_ms_start | last.sequence();
        } else if (last.node() < node_) {
            floor = at_ms_start == 0 ? 0 : at_ms_start - 1;  // ms itself sorts after it.
        } else {
            floor = at_ms_start | order_number::max_sequence;  // Needs a later ms.
        }
        std::uint64_t current = last_.load(std::memory_order_relaxed);
        while (current < floor &&
               !last_.compare_exchange_weak(current, floor, std::memory_order_relaxed)) {
        }
    }

    /// The node id this generator puts into its numbers.
    [[nodiscard]] unsigned node() const noexcept { return node_; }

private:
    /// Shorthand: the sequence is the low part of a state and of a value.
    static constexpr unsigned sequence_bits = order_number::sequence_bits;
    /// The last (milliseconds, sequence) state: max_milliseconds, max_sequence.
    static constexpr std::uint64_t max_state =
        (order_number::max_milliseconds << sequence_bits) | order_number::max_sequence;
    /// order_number_epoch in milliseconds since 1970.
    static constexpr std::int64_t epoch_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(order_number_epoch.time_since_epoch())
            .count();

    static_assert(epoch_ms == 1'577'836'800'000, "2020-01-01T00:00:00Z in Unix milliseconds");

    /// A fresh generator; create() checks the node.
    explicit order_number_generator(unsigned node) noexcept : node_(node) {}

    /// The value of state (ms << 12 | sequence) issued by this node.
    [[nodiscard]] order_number::rep_type compose(std::uint64_t state) const noexcept {
        const std::uint64_t ms = state >> sequence_bits;
        const std::uint64_t sequence = state & order_number::max_sequence;
        return (ms << (order_number::node_bits + sequence_bits)) |
               (std::uint64_t{node_} << sequence_bits) | sequence;
    }

    /// The refusal of a time the format cannot hold.
    static error time_out_of_range() {
        return error{errc::overflow, "now",
                     "is past 2089-09-06T15:47:35.551Z, the last instant an order number can "
                     "hold"};
    }

    /// The refusal once the logical clock has used up the format.
    static error generator_exhausted() {
        return error{errc::overflow, "order_number",
                     "cannot be issued: this generator has issued the last number of "
                     "2089-09-06T15:47:35.551Z, the last instant an order number can hold"};
    }

    /// The last state issued, (ms since epoch << 12) | sequence. Starts at 0,
    /// as if (0, 0) were issued, so the zero number is never issued. On its
    /// own cache line: it is the one contended word.
    alignas(64) std::atomic<std::uint64_t> last_{0};
    /// The node id, 0 to 1023.
    unsigned node_ = 0;
};

}  // namespace orderly

/// Hashes an order number like its value, so numbers key unordered containers.
template <>
struct std::hash<orderly::order_number> {
    /// The value's hash.
    std::size_t operator()(orderly::order_number number) const noexcept {
        return std::hash<orderly::order_number::rep_type>{}(number.value());
    }
};

/// Formats an order number as its 20 digits; string format specs (width,
/// alignment) apply.
template <>
struct fmt::formatter<orderly::order_number> : fmt::formatter<std::string_view> {
    /// Writes the 20 digits.
    auto format(orderly::order_number number, fmt::format_context& ctx) const {
        const auto text = number.digits();
        return fmt::formatter<std::string_view>::format(std::string_view(text.data(), text.size()),
                                                        ctx);
    }
};
