#pragma once
/// \file
/// A row of a lifecycle machine's transition table, as text, and a whole
/// machine described the same way: what the diagrams, the docs and the
/// liveness checks over every table are generated from.

#include <cstdint>
#include <string>
#include <vector>

namespace orderly {

/// One row of a state machine's transition table, by stable names: in state
/// `from`, event `event` leads to `to` when `guard` (empty: always) holds.
struct transition_row {
    std::string from;   ///< Source state's name.
    std::string event;  ///< Event's name.
    std::string to;     ///< Target state's name.
    std::string guard;  ///< Guard's name, empty when the row has none.

    /// Rows are equal when every field is.
    friend bool operator==(const transition_row&, const transition_row&) = default;
};

/// Who can make an event of a machine happen. Liveness (DESIGN.md) asks
/// that every state that is not an end has a row whose event the clock, a
/// person of the shop or orderly itself can drive, so that no state waits
/// only on the outside world (a customer, a carrier, a gateway).
enum class event_driver : std::uint8_t {
    clock = 1U << 0U,     ///< Due work, when a deadline passes.
    staff = 1U << 1U,     ///< A person of the shop or platform.
    engine = 1U << 2U,    ///< orderly itself, in the same command as what caused it.
    customer = 1U << 3U,  ///< The customer.
    carrier = 1U << 4U,   ///< A carrier's tracking event.
    gateway = 1U << 5U,   ///< A payment gateway's callback.
};

/// A set of drivers: event_driver values combined with `|`.
struct event_drivers {
    std::uint8_t bits{0};  ///< One bit per event_driver.

    /// True when `d` is in the set.
    [[nodiscard]] constexpr bool has(event_driver d) const noexcept {
        return (bits & static_cast<std::uint8_t>(d)) != 0;
    }
    /// True when the clock, staff or orderly itself can drive the event:
    /// it does not wait only on the outside world.
    [[nodiscard]] constexpr bool inside() const noexcept {
        constexpr auto mask = static_cast<std::uint8_t>(event_driver::clock) |
                              static_cast<std::uint8_t>(event_driver::staff) |
                              static_cast<std::uint8_t>(event_driver::engine);
        return (bits & mask) != 0;
    }

    /// Sets are equal when they hold the same drivers.
    friend bool operator==(const event_drivers&, const event_drivers&) = default;
};

/// The set of `a` and `b`.
[[nodiscard]] constexpr event_drivers operator|(event_driver a, event_driver b) noexcept {
    return event_drivers{
        static_cast<std::uint8_t>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b))};
}

/// The set `a` with `b` added.
[[nodiscard]] constexpr event_drivers operator|(event_drivers a, event_driver b) noexcept {
    return event_drivers{static_cast<std::uint8_t>(a.bits | static_cast<std::uint8_t>(b))};
}

/// One event of a machine and who can drive it.
struct event_description {
    std::string event;      ///< The event's stable name.
    event_drivers drivers;  ///< Who can make it happen.

    /// Descriptions are equal when every field is.
    friend bool operator==(const event_description&, const event_description&) = default;
};

/// A lifecycle machine as text: its states, which of them are ends, its
/// events with their drivers, and its table. Generated from the machine's
/// own Boost.MSM table (the rows) and its facade (the rest).
struct machine_description {
    std::string name;                       ///< "order", "shipment", ...
    std::string initial;                    ///< The state a new aggregate starts in.
    std::vector<std::string> states;        ///< Every state, in the enum's order.
    std::vector<std::string> end_states;    ///< States in which nothing more is expected.
    std::vector<event_description> events;  ///< Every event the table knows, in the enum's order.
    std::vector<transition_row> rows;       ///< The table, row by row.

    /// Descriptions are equal when every field is.
    friend bool operator==(const machine_description&, const machine_description&) = default;
};

}  // namespace orderly
