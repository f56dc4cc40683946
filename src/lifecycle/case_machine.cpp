// The exception case state machine in Boost.MSM's functor front-end,
// behind the facade in orderly/ops/case_machine.hpp (which explains what the
// table allows and why). This is the only translation unit that compiles it:
// MSM is expensive to compile and hosts never see it.
#include <orderly/ops/case_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <fmt/format.h>
#include <boost/mpl/vector.hpp>
#include <boost/msm/front/functor_row.hpp>

#include <algorithm>
#include <array>

namespace orderly {
namespace {

namespace front = boost::msm::front;
using detail::msm::event_type;
using detail::msm::state_type;

/// The front-end: the table plus what the guards read (case_facts). The
/// engine raises the priority, notifies, counts escalations and keeps
/// escalated_from.
struct case_machine_def : detail::msm::machine_def<case_machine_def, case_facts> {
    // Short local names keep the ruled table readable.
    using open = state_type<case_state::open>;
    using acknowledged = state_type<case_state::acknowledged>;
    using in_progress = state_type<case_state::in_progress>;
    using resolved = state_type<case_state::resolved>;
    using closed = state_type<case_state::closed>;
    using escalated = state_type<case_state::escalated>;
    using none = front::none;
    template <class State>
    using from = detail::msm::escalated_from_is<State>;

    // `opened` has no row: it is an MSM event all the same, so that the
    // table, not the facade, is what refuses it.
    struct events {
        using acknowledged = event_type<case_event::acknowledged>;
        using work_started = event_type<case_event::work_started>;
        using resolved = event_type<case_event::resolved>;
        using closed = event_type<case_event::closed>;
        using deadline_passed = event_type<case_event::deadline_passed>;
        using cause_cleared = event_type<case_event::cause_cleared>;
        using reopened = event_type<case_event::reopened>;
    };

    using initial_state = open;

    // 20 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=20
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source        Event                    Target        Action Guard
        //        +-------------+------------------------+-------------+------+----------------------+
        front::Row<open,         events::acknowledged,    acknowledged, none,  none>,
        // Acknowledgement may be skipped.
        front::Row<open,         events::work_started,    in_progress,  none,  none>,
        front::Row<open,         events::resolved,        resolved,     none,  none>,
        front::Row<open,         events::deadline_passed, escalated,    none,  none>,
        front::Row<open,         events::cause_cleared,   resolved,     none,  none>,
        //        +-------------+------------------------+-------------+------+----------------------+
        front::Row<acknowledged, events::work_started,    in_progress,  none,  none>,
        front::Row<acknowledged, events::resolved,        resolved,     none,  none>,
        front::Row<acknowledged, events::deadline_passed, escalated,    none,  none>,
        front::Row<acknowledged, events::cause_cleared,   resolved,     none,  none>,
        //        +-------------+------------------------+-------------+------+----------------------+
        front::Row<in_progress,  events::resolved,        resolved,     none,  none>,
        front::Row<in_progress,  events::deadline_passed, escalated,    none,  none>,
        front::Row<in_progress,  events::cause_cleared,   resolved,     none,  none>,
        //        +-------------+------------------------+-------------+------+----------------------+
        front::Row<resolved,     events::closed,          closed,       none,  none>,
        // The same cause came back before the case was closed.
        front::Row<resolved,     events::reopened,        open,         none,  none>,
        //        +-------------+------------------------+-------------+------+----------------------+
        // An escalated case accepts what the state it was escalated from accepts.
        front::Row<escalated,    events::acknowledged,    acknowledged, none,  from<open>>,
        front::Row<escalated,    events::work_started,    in_progress,  none,  from<open>>,
        front::Row<escalated,    events::work_started,    in_progress,  none,  from<acknowledged>>,
        front::Row<escalated,    events::resolved,        resolved,     none,  none>,
        front::Row<escalated,    events::cause_cleared,   resolved,     none,  none>,
        // A second deadline keeps it escalated; the engine counts escalations.
        front::Row<escalated,    events::deadline_passed, escalated,    none,  none>
        //        +-------------+------------------------+-------------+------+----------------------+
    > {};
    // clang-format on
};

using case_machine = detail::msm::facade<case_machine_def, all_case_states, all_case_events>;

/// States in which nothing more is expected of the case.
constexpr std::array case_ends = {case_state::closed};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<case_event>, all_case_events.size()> case_drivers = {{
    // orderly's detectors open cases; a person opens one by hand.
    {case_event::opened, by(D::staff, D::engine)},
    {case_event::acknowledged, by(D::staff)},
    {case_event::work_started, by(D::staff)},
    {case_event::resolved, by(D::staff)},
    // A person, or due work after operations.close_resolved_after.
    {case_event::closed, by(D::staff, D::clock)},
    {case_event::deadline_passed, by(D::clock)},
    // The operations scan (due work) saw the cause go away.
    {case_event::cause_cleared, by(D::clock)},
    // The same cause came back: seen by orderly in a command or by due work.
    {case_event::reopened, by(D::engine, D::clock)},
}};
static_assert(detail::msm::covers_in_order(case_drivers, all_case_events));

/// True when `state` is one of the enum's named values.
bool known_state(case_state state) noexcept {
    return std::find(all_case_states.begin(), all_case_states.end(), state) !=
           all_case_states.end();
}

}  // namespace

result<case_state> next_case_state(case_state from, case_event event, const case_facts& facts) {
    auto next = case_machine::next("case", from, event, facts);
    // A bad state or event is reported first, as by the other machines. The
    // guards only compare the origin, so running them with a bad one is
    // harmless; its answer is not used.
    if (next.has_error() && next.error().code == errc::invalid_value) {
        return next;
    }
    if (!known_state(facts.escalated_from)) {
        return error{errc::invalid_value, "escalated_from",
                     fmt::format("case state value {} is not one orderly knows",
                                 static_cast<unsigned>(facts.escalated_from))};
    }
    return next;
}

std::vector<transition_row> case_machine_rows() {
    return case_machine::rows();
}

std::string case_machine_dot() {
    return detail::render_dot(case_machine_description());
}

std::string case_machine_mermaid() {
    return detail::render_mermaid(case_machine_description());
}

machine_description case_machine_description() {
    return case_machine::describe("case", case_ends, case_drivers);
}

}  // namespace orderly
