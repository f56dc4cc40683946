#pragma once
/// \file
/// A clock that moves only when told to: for tests, simulations and replays.

#include <orderly/ports/clock.hpp>

#include <atomic>
#include <cstdint>

namespace orderly {

/// A Clock whose time is set by the caller. Thread-safe.
class manual_clock final : public clock {
public:
    /// Starts at `start`.
    explicit manual_clock(timestamp start) : unix_ms_(to_unix_ms(start)) {}

    /// The time last set.
    [[nodiscard]] timestamp now() const override {
        return from_unix_ms(unix_ms_.load(std::memory_order_acquire));
    }
    /// Jumps to `t` (backwards too: clocks do step back).
    void set(timestamp t) { unix_ms_.store(to_unix_ms(t), std::memory_order_release); }
    /// Moves forward by `d`.
    void advance(duration d) { unix_ms_.fetch_add(d.count(), std::memory_order_acq_rel); }

private:
    std::atomic<std::int64_t> unix_ms_;
};

}  // namespace orderly
