#pragma once
// Graphviz DOT and Mermaid text for a lifecycle machine, generated from its
// description (machine_description: the rows of the very table the engine
// runs, the initial state and the end states) so a diagram can never disagree
// with the machine. Output is deterministic: rows keep table order and end
// states the description's order, so the committed files in docs/diagrams/
// only change when the machine does.
//
// Internal to src/lifecycle/: included only by the machine translation units.

#include <orderly/lifecycle/transition.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace orderly::detail {

/// "event [guard]", or just "event" for a row without a guard: the edge label
/// both diagram formats use.
[[nodiscard]] inline std::string edge_label(const transition_row& row) {
    std::string label = row.event;
    if (!row.guard.empty()) {
        label += " [";
        label += row.guard;
        label += ']';
    }
    return label;
}

/// Quotes text for a DOT string; names are identifiers today, but a guard
/// name with a quote must not break the file.
[[nodiscard]] inline std::string dot_quoted(std::string_view text) {
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
        }
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

/// A DOT digraph named after the machine: a point for the initial
/// pseudo-state, end states drawn with a double border, one edge per row
/// labelled "event [guard]".
[[nodiscard]] inline std::string render_dot(const machine_description& machine) {
    std::string out;
    out += "digraph ";
    out += machine.name;
    out += " {\n";
    out += "    rankdir=LR;\n";
    out += "    node [shape=box, style=rounded];\n";
    out += "    _initial [shape=point, label=\"\"];\n";
    out += "    _initial -> ";
    out += dot_quoted(machine.initial);
    out += ";\n";
    for (const auto& end : machine.end_states) {
        out += "    ";
        out += dot_quoted(end);
        out += " [peripheries=2];\n";
    }
    for (const auto& row : machine.rows) {
        out += "    ";
        out += dot_quoted(row.from);
        out += " -> ";
        out += dot_quoted(row.to);
        out += " [label=";
        out += dot_quoted(edge_label(row));
        out += "];\n";
    }
    out += "}\n";
    return out;
}

/// A Mermaid stateDiagram-v2: `[*] --> initial`, one transition per row
/// labelled "event [guard]", and `end --> [*]` for each end state.
[[nodiscard]] inline std::string render_mermaid(const machine_description& machine) {
    std::string out = "stateDiagram-v2\n";
    out += "    [*] --> ";
    out += machine.initial;
    out += '\n';
    for (const auto& row : machine.rows) {
        out += "    ";
        out += row.from;
        out += " --> ";
        out += row.to;
        out += " : ";
        out += edge_label(row);
        out += '\n';
    }
    for (const auto& end : machine.end_states) {
        out += "    ";
        out += end;
        out += " --> [*]\n";
    }
    return out;
}

}  // namespace orderly::detail
