// The tracking state machine in Boost.MSM's functor front-end, behind
// the facade in orderly/logistics/tracking_machine.hpp (which explains what
// the table allows and why). This is the only translation unit that compiles
// it: MSM is expensive to compile and hosts never see it.
#include <orderly/logistics/tracking_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <fmt/format.h>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <boost/msm/front/states.hpp>

#include <optional>
#include <string_view>

namespace orderly {
namespace {

namespace front = boost::msm::front;
namespace back = boost::msm::back;
using detail::msm::dispatch_outcome;

/// A state type of the machine: empty, entry and exit do nothing (restoring
/// relies on that), and it carries its stable public value and name.
template <tracking_state State>
struct tracking_state_type : front::state<> {
    static constexpr tracking_state value = State;
    static constexpr std::string_view name = to_string(State);
};

namespace states {
struct label_created : tracking_state_type<tracking_state::label_created> {};
struct picked_up : tracking_state_type<tracking_state::picked_up> {};
struct in_transit : tracking_state_type<tracking_state::in_transit> {};
struct at_hub : tracking_state_type<tracking_state::at_hub> {};
struct out_for_delivery : tracking_state_type<tracking_state::out_for_delivery> {};
struct delivered : tracking_state_type<tracking_state::delivered> {};
struct delivery_failed : tracking_state_type<tracking_state::delivery_failed> {};
struct returned_to_sender : tracking_state_type<tracking_state::returned_to_sender> {};
struct lost : tracking_state_type<tracking_state::lost> {};
}  // namespace states

/// An event type of the machine: empty, with its stable public value and name.
template <tracking_event Event>
struct tracking_event_type {
    static constexpr tracking_event value = Event;
    static constexpr std::string_view name = to_string(Event);
};

namespace events {
struct picked_up : tracking_event_type<tracking_event::picked_up> {};
struct departed_facility : tracking_event_type<tracking_event::departed_facility> {};
struct arrived_at_hub : tracking_event_type<tracking_event::arrived_at_hub> {};
struct sent_out_for_delivery : tracking_event_type<tracking_event::sent_out_for_delivery> {};
struct delivery_attempt_failed : tracking_event_type<tracking_event::delivery_attempt_failed> {};
struct delivered : tracking_event_type<tracking_event::delivered> {};
struct returned_to_sender : tracking_event_type<tracking_event::returned_to_sender> {};
struct declared_lost : tracking_event_type<tracking_event::declared_lost> {};
}  // namespace events

/// The tracking table has no guards: whether a carrier event makes sense
/// depends on the state alone. The shared facade body still hands facts to
/// every machine, so this machine takes an empty set.
struct no_facts {};

/// The front-end: the table only. No actions and no guards: the machine
/// decides the next state; tracking_history does the bookkeeping.
struct tracking_machine_def : front::state_machine_def<tracking_machine_def> {
    using no_exception_thrown = int;  // Nothing here throws; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    using initial_state = states::label_created;

    no_facts facts{};     ///< Set per call by the shared facade body; nothing reads it.
    bool refused{false};  ///< Set by no_transition for the current event.

    // Short local names keep the ruled table readable.
    using label_created = states::label_created;
    using picked_up = states::picked_up;
    using in_transit = states::in_transit;
    using at_hub = states::at_hub;
    using out_for_delivery = states::out_for_delivery;
    using delivered = states::delivered;
    using delivery_failed = states::delivery_failed;
    using returned_to_sender = states::returned_to_sender;
    using lost = states::lost;
    using none = front::none;

    // 34 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=40
    // (CMakeLists.txt), the other machines with 30.
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source            Event                            Target              Action Guard
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<label_created,    events::picked_up,               picked_up,          none,  none>,
        front::Row<label_created,    events::departed_facility,       in_transit,         none,  none>,
        front::Row<label_created,    events::arrived_at_hub,          at_hub,             none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<picked_up,        events::departed_facility,       in_transit,         none,  none>,
        front::Row<picked_up,        events::arrived_at_hub,          at_hub,             none,  none>,
        front::Row<picked_up,        events::sent_out_for_delivery,   out_for_delivery,   none,  none>,
        front::Row<picked_up,        events::declared_lost,           lost,               none,  none>,
        front::Row<picked_up,        events::delivered,               delivered,          none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<in_transit,       events::departed_facility,       in_transit,         none,  none>,
        front::Row<in_transit,       events::arrived_at_hub,          at_hub,             none,  none>,
        front::Row<in_transit,       events::sent_out_for_delivery,   out_for_delivery,   none,  none>,
        front::Row<in_transit,       events::delivered,               delivered,          none,  none>,
        front::Row<in_transit,       events::declared_lost,           lost,               none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<at_hub,           events::departed_facility,       in_transit,         none,  none>,
        front::Row<at_hub,           events::arrived_at_hub,          at_hub,             none,  none>,
        front::Row<at_hub,           events::sent_out_for_delivery,   out_for_delivery,   none,  none>,
        front::Row<at_hub,           events::delivered,               delivered,          none,  none>,
        front::Row<at_hub,           events::returned_to_sender,      returned_to_sender, none,  none>,
        front::Row<at_hub,           events::declared_lost,           lost,               none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<out_for_delivery, events::delivered,               delivered,          none,  none>,
        front::Row<out_for_delivery, events::delivery_attempt_failed, delivery_failed,    none,  none>,
        front::Row<out_for_delivery, events::returned_to_sender,      returned_to_sender, none,  none>,
        front::Row<out_for_delivery, events::declared_lost,           lost,               none,  none>,
        front::Row<out_for_delivery, events::sent_out_for_delivery,   out_for_delivery,   none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<delivery_failed,  events::sent_out_for_delivery,   out_for_delivery,   none,  none>,
        front::Row<delivery_failed,  events::departed_facility,       in_transit,         none,  none>,
        front::Row<delivery_failed,  events::arrived_at_hub,          at_hub,             none,  none>,
        front::Row<delivery_failed,  events::delivered,               delivered,          none,  none>,
        front::Row<delivery_failed,  events::returned_to_sender,      returned_to_sender, none,  none>,
        front::Row<delivery_failed,  events::declared_lost,           lost,               none,  none>,
        front::Row<delivery_failed,  events::delivery_attempt_failed, delivery_failed,    none,  none>,
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<lost,             events::arrived_at_hub,          at_hub,             none,  none>,
        front::Row<lost,             events::departed_facility,       in_transit,         none,  none>,
        front::Row<lost,             events::delivered,               delivered,          none,  none>
        //        +-----------------+--------------------------------+-------------------+------+-----+
    > {};
    // clang-format on

    /// A refused event is a business outcome, not a bug: record it so the
    /// facade returns an error (and a history marks the event superseded),
    /// instead of MSM's default assert.
    template <class Machine, class Event>
    void no_transition(const Event& /*unused*/, Machine& /*unused*/, int /*state*/) noexcept {
        refused = true;
    }
};

/// Back-end. With no_message_queue and no deferred events it holds no queue
/// at all, so it is built per call without allocation.
using tracking_machine = back::state_machine<tracking_machine_def>;
static_assert(sizeof(tracking_machine) <= 64, "built per call: keep the machine small");

/// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
const detail::msm::state_id_map<tracking_machine, tracking_state, all_tracking_states.size()>&
tracking_ids() noexcept {
    static const detail::msm::state_id_map<tracking_machine, tracking_state,
                                           all_tracking_states.size()>
        ids;
    return ids;
}

/// The public event value as the MSM event type; empty for a value outside
/// the enum (a corrupt store or a cast), which is not a refusal but bad input.
std::optional<dispatch_outcome> fire(tracking_machine& machine, tracking_event event) noexcept {
    using detail::msm::dispatch;
    switch (event) {
        case tracking_event::picked_up:
            return dispatch(machine, events::picked_up{});
        case tracking_event::departed_facility:
            return dispatch(machine, events::departed_facility{});
        case tracking_event::arrived_at_hub:
            return dispatch(machine, events::arrived_at_hub{});
        case tracking_event::sent_out_for_delivery:
            return dispatch(machine, events::sent_out_for_delivery{});
        case tracking_event::delivery_attempt_failed:
            return dispatch(machine, events::delivery_attempt_failed{});
        case tracking_event::delivered:
            return dispatch(machine, events::delivered{});
        case tracking_event::returned_to_sender:
            return dispatch(machine, events::returned_to_sender{});
        case tracking_event::declared_lost:
            return dispatch(machine, events::declared_lost{});
    }
    return std::nullopt;
}

}  // namespace

result<tracking_state> next_tracking_state(tracking_state from, tracking_event event) {
    return detail::msm::next_state<tracking_machine>(tracking_ids(), "tracking", from, event,
                                                     no_facts{}, &fire);
}

std::vector<transition_row> tracking_machine_rows() {
    return detail::msm::rows_of<tracking_machine_def>();
}

std::string tracking_machine_dot() {
    return detail::render_dot("tracking", tracking_machine_def::initial_state::name,
                              tracking_machine_rows());
}

std::string tracking_machine_mermaid() {
    return detail::render_mermaid(tracking_machine_def::initial_state::name,
                                  tracking_machine_rows());
}

}  // namespace orderly
