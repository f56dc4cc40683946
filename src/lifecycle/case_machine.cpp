// The exception case state machine in Boost.MSM's functor front-end,
// behind the facade in orderly/ops/case_machine.hpp (which explains what the
// table allows and why). This is the only translation unit that compiles it:
// MSM is expensive to compile and hosts never see it.
#include <orderly/ops/case_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <fmt/format.h>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <boost/msm/front/states.hpp>

#include <algorithm>
#include <optional>
#include <string_view>

namespace orderly {
namespace {

namespace front = boost::msm::front;
namespace back = boost::msm::back;
using detail::msm::dispatch_outcome;

/// A state type of the machine: empty, entry and exit do nothing (restoring
/// relies on that), and it carries its stable public value and name.
template <case_state State>
struct case_state_type : front::state<> {
    static constexpr case_state value = State;
    static constexpr std::string_view name = to_string(State);
};

namespace states {
struct open : case_state_type<case_state::open> {};
struct acknowledged : case_state_type<case_state::acknowledged> {};
struct in_progress : case_state_type<case_state::in_progress> {};
struct resolved : case_state_type<case_state::resolved> {};
struct closed : case_state_type<case_state::closed> {};
struct escalated : case_state_type<case_state::escalated> {};
}  // namespace states

/// An event type of the machine: empty, with its stable public value and name.
template <case_event Event>
struct case_event_type {
    static constexpr case_event value = Event;
    static constexpr std::string_view name = to_string(Event);
};

namespace events {
// `opened` has no row: it is an MSM event all the same, so that the table,
// not the facade, is what refuses it.
struct opened : case_event_type<case_event::opened> {};
struct acknowledged : case_event_type<case_event::acknowledged> {};
struct work_started : case_event_type<case_event::work_started> {};
struct resolved : case_event_type<case_event::resolved> {};
struct closed : case_event_type<case_event::closed> {};
struct deadline_passed : case_event_type<case_event::deadline_passed> {};
struct cause_cleared : case_event_type<case_event::cause_cleared> {};
struct reopened : case_event_type<case_event::reopened> {};
}  // namespace events

/// The front-end: the table plus what the guards read. No actions: the
/// machine only decides the next state; the engine does the work (raises the
/// priority, notifies, counts escalations and keeps escalated_from).
struct case_machine_def : front::state_machine_def<case_machine_def> {
    using no_exception_thrown = int;  // Guards are noexcept; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    using initial_state = states::open;

    case_facts facts{};   ///< Set per call; read by the guards.
    bool refused{false};  ///< Set by no_transition for the current event.

    // Short local names keep the ruled table readable.
    using open = states::open;
    using acknowledged = states::acknowledged;
    using in_progress = states::in_progress;
    using resolved = states::resolved;
    using closed = states::closed;
    using escalated = states::escalated;
    using none = front::none;
    template <class State>
    using from = detail::msm::escalated_from_is<State>;

    // 20 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=30
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

    /// A refused event is a business outcome, not a bug: record it so the
    /// facade returns an error, instead of MSM's default assert.
    template <class Machine, class Event>
    void no_transition(const Event& /*unused*/, Machine& /*unused*/, int /*state*/) noexcept {
        refused = true;
    }
};

/// Back-end. With no_message_queue and no deferred events it holds no queue
/// at all, so it is built per call without allocation.
using case_machine = back::state_machine<case_machine_def>;
static_assert(sizeof(case_machine) <= 64, "built per call: keep the machine small");

/// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
const detail::msm::state_id_map<case_machine, case_state, all_case_states.size()>&
case_ids() noexcept {
    static const detail::msm::state_id_map<case_machine, case_state, all_case_states.size()> ids;
    return ids;
}

/// The public event value as the MSM event type; empty for a value outside
/// the enum (a corrupt store or a cast), which is not a refusal but bad input.
std::optional<dispatch_outcome> fire(case_machine& machine, case_event event) noexcept {
    using detail::msm::dispatch;
    switch (event) {
        case case_event::opened:
            return dispatch(machine, events::opened{});
        case case_event::acknowledged:
            return dispatch(machine, events::acknowledged{});
        case case_event::work_started:
            return dispatch(machine, events::work_started{});
        case case_event::resolved:
            return dispatch(machine, events::resolved{});
        case case_event::closed:
            return dispatch(machine, events::closed{});
        case case_event::deadline_passed:
            return dispatch(machine, events::deadline_passed{});
        case case_event::cause_cleared:
            return dispatch(machine, events::cause_cleared{});
        case case_event::reopened:
            return dispatch(machine, events::reopened{});
    }
    return std::nullopt;
}

/// True when `state` is one of the enum's named values.
bool known_state(case_state state) noexcept {
    return std::find(all_case_states.begin(), all_case_states.end(), state) !=
           all_case_states.end();
}

}  // namespace

result<case_state> next_case_state(case_state from, case_event event, const case_facts& facts) {
    auto next =
        detail::msm::next_state<case_machine>(case_ids(), "case", from, event, facts, &fire);
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
    return detail::msm::rows_of<case_machine_def>();
}

std::string case_machine_dot() {
    return detail::render_dot("case", case_machine_def::initial_state::name, case_machine_rows());
}

std::string case_machine_mermaid() {
    return detail::render_mermaid(case_machine_def::initial_state::name, case_machine_rows());
}

}  // namespace orderly
