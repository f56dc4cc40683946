#pragma once
// Input checks the fulfilment modules share (private to src/fulfilment/).

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace orderly::detail::fulfilment {

/// "name[i]", for fields of list elements.
inline std::string indexed(std::string_view name, std::size_t i) {
    return fmt::format("{}[{}]", name, i);
}

/// "1 unit", "3 units": counts in messages for a person.
inline std::string units_text(std::int64_t n) {
    return n == 1 ? std::string("1 unit") : fmt::format("{} units", n);
}

/// A host-owned id: present and well formed (see parse_id); the error names
/// `field` rather than the id type's name.
template <class Id>
std::optional<error> check_id(const Id& id, std::string_view field) {
    if (id.empty()) {
        return error{errc::missing_value, std::string(field), "is required"};
    }
    if (auto parsed = parse_id<Id>(id.value()); !parsed) {
        error e = std::move(parsed).error();
        e.field = std::string(field);
        return e;
    }
    return std::nullopt;
}

/// A count of units between 1 and `most`.
inline std::optional<error> check_units(std::int64_t units, std::int64_t most, std::string field) {
    if (units < 1 || units > most) {
        return error{errc::invalid_value, std::move(field),
                     fmt::format("must be between 1 and {}, got {}", most, units)};
    }
    return std::nullopt;
}

/// A short code (bin, zone): visible ASCII, no spaces, at most `max_bytes`.
inline std::optional<error> check_code(std::string_view text, std::size_t max_bytes,
                                       std::string_view field, bool required) {
    if (text.empty()) {
        if (required) {
            return error{errc::missing_value, std::string(field), "is required"};
        }
        return std::nullopt;
    }
    if (text.size() > max_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} characters", max_bytes)};
    }
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c <= '~'; })) {
        return error{errc::invalid_value, std::string(field),
                     "may hold only visible ASCII characters, no spaces"};
    }
    return std::nullopt;
}

}  // namespace orderly::detail::fulfilment
