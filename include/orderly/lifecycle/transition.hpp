#pragma once
/// \file
/// A row of a lifecycle machine's transition table, as text: what the
/// diagrams and the docs are generated from.

#include <string>

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

}  // namespace orderly
