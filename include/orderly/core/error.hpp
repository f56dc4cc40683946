#pragma once
/// \file
/// Errors as values: every expected business outcome (bad input, refused
/// transition, currency mismatch, overflow, ...) is returned, never thrown.

#include <fmt/format.h>
#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace orderly {

/// What went wrong, as a stable code a host can switch on. The numeric values
/// are part of the API (hosts store and log them) and never change.
enum class errc : std::uint16_t {
    invalid_value = 1,            ///< A field has a value outside what it may hold.
    missing_value = 2,            ///< A required field is empty or absent.
    malformed = 3,                ///< Text could not be parsed (money, order number, ...).
    unknown_currency = 4,         ///< Not an ISO 4217 code orderly knows.
    currency_mismatch = 5,        ///< Two amounts in different currencies were combined.
    overflow = 6,                 ///< A result does not fit its type; nothing wrapped.
    negative_quantity = 7,        ///< A quantity would fall below zero.
    checksum_mismatch = 8,        ///< A check digit does not match (a mistyped number).
    division_by_zero = 9,         ///< A rate or split with a zero denominator or count.
    not_found = 10,               ///< The order, SKU or stock row named does not exist.
    insufficient_stock = 11,      ///< Not enough available stock to reserve.
    transition_not_allowed = 12,  ///< The state machine refuses this event in this state.
    forbidden = 13,               ///< The actor's role may not run this command.
    unknown_role = 14,            ///< The actor's role is not one the policy knows.
    amount_mismatch = 15,         ///< A paid or refunded amount does not fit the order.
    conflict = 16,                ///< A concurrent change won; the command may be retried.
    idempotency_key_reused = 17,  ///< The same key came with a different request.
    storage_failure = 18,         ///< The store could not read or write.
    notification_failed = 19,     ///< The host's notifier could not deliver.
    busy = 20,  ///< The store stayed locked by another writer past its bounded wait; retry later.
};

/// The stable snake_case name of a code, e.g. "currency_mismatch".
[[nodiscard]] constexpr std::string_view to_string(errc code) noexcept {
    switch (code) {
        case errc::invalid_value:
            return "invalid_value";
        case errc::missing_value:
            return "missing_value";
        case errc::malformed:
            return "malformed";
        case errc::unknown_currency:
            return "unknown_currency";
        case errc::currency_mismatch:
            return "currency_mismatch";
        case errc::overflow:
            return "overflow";
        case errc::negative_quantity:
            return "negative_quantity";
        case errc::checksum_mismatch:
            return "checksum_mismatch";
        case errc::division_by_zero:
            return "division_by_zero";
        case errc::not_found:
            return "not_found";
        case errc::insufficient_stock:
            return "insufficient_stock";
        case errc::transition_not_allowed:
            return "transition_not_allowed";
        case errc::forbidden:
            return "forbidden";
        case errc::unknown_role:
            return "unknown_role";
        case errc::amount_mismatch:
            return "amount_mismatch";
        case errc::conflict:
            return "conflict";
        case errc::idempotency_key_reused:
            return "idempotency_key_reused";
        case errc::storage_failure:
            return "storage_failure";
        case errc::notification_failed:
            return "notification_failed";
        case errc::busy:
            return "busy";
    }
    return "unknown_error";
}

/// An expected failure: a code to switch on, the field it concerns (a dotted
/// path such as "ship_to.phone", empty when no single field is to blame) and
/// a message fit to show a person.
struct error {
    errc code{errc::invalid_value};  ///< What kind of failure.
    std::string field;               ///< Which input field, as a dotted path.
    std::string message;             ///< One sentence for a person.

    /// Places the field under a parent: "phone" within "ship_to" becomes
    /// "ship_to.phone". Lets a validator of a part report the whole path.
    [[nodiscard]] error within(std::string_view parent) && {
        if (!parent.empty()) {
            field = field.empty() ? std::string(parent) : fmt::format("{}.{}", parent, field);
        }
        return std::move(*this);
    }

    /// Errors are equal when code, field and message are.
    friend bool operator==(const error&, const error&) = default;
};

/// The result of an operation that can fail with an orderly::error.
/// Boost.System's result: `if (r) use(*r); else show(r.error());`.
template <class T>
using result = boost::system::result<T, error>;

/// "code: field: message", or "code: message" when no field is named.
[[nodiscard]] inline std::string to_string(const error& e) {
    return e.field.empty() ? fmt::format("{}: {}", to_string(e.code), e.message)
                           : fmt::format("{}: {}: {}", to_string(e.code), e.field, e.message);
}

/// Thrown only by `result::value()` on an error, for callers who prefer
/// exceptions; orderly itself never throws for expected failures.
class error_exception : public std::runtime_error {
public:
    /// Wraps the error; what() is "code: field: message".
    explicit error_exception(error e) : std::runtime_error(to_string(e)), error_(std::move(e)) {}

    /// The error that was not handled.
    [[nodiscard]] const orderly::error& error_value() const noexcept { return error_; }

private:
    orderly::error error_;
};

/// Found by Boost.System through ADL when `value()` is called on an error.
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw error_exception(e);
}

}  // namespace orderly

/// Formats an errc as its stable name.
template <>
struct fmt::formatter<orderly::errc> : fmt::formatter<std::string_view> {
    /// Writes the code's name.
    auto format(orderly::errc code, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(code), ctx);
    }
};

/// Formats an error as "code: field: message" (field omitted when empty).
template <>
struct fmt::formatter<orderly::error> : fmt::formatter<std::string_view> {
    /// Writes the error.
    auto format(const orderly::error& e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};
