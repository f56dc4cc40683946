#pragma once
/// \file
/// The exception case machine's facade. The machine itself is a
/// Boost.MSM transition table compiled in src/lifecycle/case_machine.cpp;
/// hosts never include MSM.
///
/// The path: open → acknowledged → in_progress → resolved → closed.
/// Acknowledgement may be skipped (open → in_progress on work_started).
///
/// - resolved: by a person from open, acknowledged or in_progress.
/// - cause_cleared: the detector saw the cause go away; resolves the case
///   from any unresolved state (open, acknowledged, in_progress, escalated).
/// - reopened: resolved → open, when the same cause comes back before the
///   case is closed (so one cause keeps one case).
/// - deadline_passed: from open, acknowledged and in_progress to escalated,
///   remembering where (exception_case::escalated_from); the engine raises
///   the priority and notifies the next role up. An escalated case accepts
///   what its origin accepts: acknowledged (from open), work_started (from
///   open or acknowledged), resolved (from any). A second deadline while
///   escalated keeps it escalated (counted by the engine).
/// - closed accepts nothing; `opened` is never accepted (it only starts the
///   timeline).

#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>
#include <orderly/ops/exception_case.hpp>

#include <string>
#include <vector>

namespace orderly {

/// What the case machine's guards look at besides the state: where the case
/// was escalated from (read only in `escalated`).
struct case_facts {
    case_state escalated_from{case_state::open};  ///< Origin of an escalation.
};

/// The state a case moves to on `event` in state `from`. Refused with
/// errc::transition_not_allowed (field "state", message naming the state and
/// the event) when the table has no row for it or its guard refuses. A state,
/// event or escalated_from value outside its enum is errc::invalid_value
/// (field "state", "event" or "escalated_from"); `opened` as an event is
/// refused like a missing row. The machine is restored at `from` without
/// replaying history and without entry side effects. Safe from many threads.
[[nodiscard]] result<case_state> next_case_state(case_state from, case_event event,
                                                 const case_facts& facts);

/// The case machine's transition table, row by row, in table order.
[[nodiscard]] std::vector<transition_row> case_machine_rows();

/// The case machine as a Graphviz DOT digraph, generated from the table.
[[nodiscard]] std::string case_machine_dot();

/// The case machine as a Mermaid stateDiagram-v2, generated from the table.
[[nodiscard]] std::string case_machine_mermaid();

/// The case machine described: states, ends, events with their drivers, rows.
[[nodiscard]] machine_description case_machine_description();

}  // namespace orderly
