#pragma once
/// \file
/// Small helpers for reading and writing decimal text, shared by money and
/// rate. Internal: not part of the API.

#include <cstdint>
#include <string_view>

namespace orderly::detail {

/// True when `text` is non-empty and holds only the ASCII digits 0-9.
[[nodiscard]] constexpr bool all_digits(std::string_view text) noexcept {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

/// 10 to the power `exponent`; the caller keeps `exponent` at most 19.
[[nodiscard]] constexpr std::uint64_t pow10(unsigned exponent) noexcept {
    std::uint64_t power = 1;
    for (unsigned i = 0; i < exponent; ++i) {
        power *= 10;
    }
    return power;
}

static_assert(pow10(0) == 1 && pow10(19) == 10'000'000'000'000'000'000ULL);

}  // namespace orderly::detail
