#pragma once
// Graphviz DOT and Mermaid text for a lifecycle machine, generated from its
// rows (transition_row, in table order) so a diagram can never disagree with
// the table the engine runs. Output is deterministic: rows keep table order
// and terminal states follow their first appearance, so the committed files in
// docs/diagrams/ only change when the table does.
//
// Internal to src/lifecycle/: included only by the machine translation units.

#include <orderly/lifecycle/transition.hpp>

#include <algorithm>
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

/// States that rows lead to but never leave: where a life ends. Listed in
/// the order they first appear as a target, which keeps the output stable.
[[nodiscard]] inline std::vector<std::string> terminal_states(
    const std::vector<transition_row>& rows) {
    std::vector<std::string> terminals;
    for (const auto& row : rows) {
        const bool leaves = std::any_of(rows.begin(), rows.end(),
                                        [&](const transition_row& r) { return r.from == row.to; });
        const bool listed =
            std::find(terminals.begin(), terminals.end(), row.to) != terminals.end();
        if (!leaves && !listed) {
            terminals.push_back(row.to);
        }
    }
    return terminals;
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

/// A DOT digraph: a point for the initial pseudo-state, terminal states drawn
/// with a double border, one edge per row labelled "event [guard]".
[[nodiscard]] inline std::string render_dot(std::string_view graph_name,
                                            std::string_view initial_state,
                                            const std::vector<transition_row>& rows) {
    std::string out;
    out += "digraph ";
    out += graph_name;
    out += " {\n";
    out += "    rankdir=LR;\n";
    out += "    node [shape=box, style=rounded];\n";
    out += "    _initial [shape=point, label=\"\"];\n";
    out += "    _initial -> ";
    out += dot_quoted(initial_state);
    out += ";\n";
    for (const auto& terminal : terminal_states(rows)) {
        out += "    ";
        out += dot_quoted(terminal);
        out += " [peripheries=2];\n";
    }
    for (const auto& row : rows) {
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
/// labelled "event [guard]", and `terminal --> [*]` for each terminal state.
[[nodiscard]] inline std::string render_mermaid(std::string_view initial_state,
                                                const std::vector<transition_row>& rows) {
    std::string out = "stateDiagram-v2\n";
    out += "    [*] --> ";
    out += initial_state;
    out += '\n';
    for (const auto& row : rows) {
        out += "    ";
        out += row.from;
        out += " --> ";
        out += row.to;
        out += " : ";
        out += edge_label(row);
        out += '\n';
    }
    for (const auto& terminal : terminal_states(rows)) {
        out += "    ";
        out += terminal;
        out += " --> [*]\n";
    }
    return out;
}

}  // namespace orderly::detail
