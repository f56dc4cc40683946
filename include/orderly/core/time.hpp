#pragma once
/// \file
/// Time as orderly keeps it: UTC milliseconds. Every instant comes from the
/// Clock port (orderly/ports/clock.hpp), never from the system clock directly.

#include <chrono>
#include <cstdint>

namespace orderly {

/// An instant in UTC with millisecond precision: what orders, timelines and
/// notifications record, and what every store can keep as one 64-bit number.
using timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// A span of time in milliseconds (timeouts, deadlines, back-off).
using duration = std::chrono::milliseconds;

/// Milliseconds since 1970-01-01T00:00:00Z, for stores that keep integers.
[[nodiscard]] constexpr std::int64_t to_unix_ms(timestamp t) noexcept {
    return t.time_since_epoch().count();
}

/// The instant `ms` milliseconds after 1970-01-01T00:00:00Z.
[[nodiscard]] constexpr timestamp from_unix_ms(std::int64_t ms) noexcept {
    return timestamp(duration(ms));
}

}  // namespace orderly
