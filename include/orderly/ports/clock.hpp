#pragma once
/// \file
/// The Clock port: the only source of time in orderly. Tests and simulations
/// use orderly::manual_clock (orderly/testing/manual_clock.hpp).

#include <orderly/core/time.hpp>

#include <chrono>

namespace orderly {

/// Tells the time. Implementations must be safe to call from many threads.
class clock {
public:
    /// Virtual, so hosts may own a clock through a base pointer.
    virtual ~clock() = default;
    /// The current instant, UTC.
    [[nodiscard]] virtual timestamp now() const = 0;
};

/// The host's wall clock (std::chrono::system_clock), truncated to milliseconds.
class wall_clock final : public clock {
public:
    /// Now, from the system clock.
    [[nodiscard]] timestamp now() const override {
        return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
    }
};

}  // namespace orderly
