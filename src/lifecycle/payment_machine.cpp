// The payment state machine (R-15…R-18) in Boost.MSM's functor front-end,
// behind the facade in orderly/payment/payment_machine.hpp. This is the only
// translation unit that compiles it: MSM is expensive to compile and hosts
// never see it.
#include <orderly/payment/payment_machine.hpp>

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
template <payment_state State>
struct payment_state_type : front::state<> {
    static constexpr payment_state value = State;
    static constexpr std::string_view name = to_string(State);
};

namespace states {
struct pending : payment_state_type<payment_state::pending> {};
struct authorized : payment_state_type<payment_state::authorized> {};
struct captured : payment_state_type<payment_state::captured> {};
struct partially_refunded : payment_state_type<payment_state::partially_refunded> {};
struct refunded : payment_state_type<payment_state::refunded> {};
struct failed : payment_state_type<payment_state::failed> {};
struct voided : payment_state_type<payment_state::voided> {};
}  // namespace states

/// An event type of the machine: empty, with its stable public value and name.
template <payment_event Event>
struct payment_event_type {
    static constexpr payment_event value = Event;
    static constexpr std::string_view name = to_string(Event);
};

namespace events {
struct authorization_succeeded : payment_event_type<payment_event::authorization_succeeded> {};
struct capture_succeeded : payment_event_type<payment_event::capture_succeeded> {};
struct payment_failed : payment_event_type<payment_event::payment_failed> {};
struct authorization_voided : payment_event_type<payment_event::authorization_voided> {};
struct refund_issued : payment_event_type<payment_event::refund_issued> {};
}  // namespace events

namespace guards {
/// A refund brings the refunded total up to the captured amount.
struct refunds_everything {
    static constexpr std::string_view name = "refunds_everything";

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.refunds_everything;
    }
};
}  // namespace guards

/// The front-end: the table plus what the guards read. No actions: the
/// machine only decides the next state; the engine does the work.
struct payment_machine_def : front::state_machine_def<payment_machine_def> {
    using no_exception_thrown = int;  // Guards are noexcept; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    using initial_state = states::pending;

    payment_guard_facts facts{};  ///< Set per call; read by the guards.
    bool refused{false};          ///< Set by no_transition for the current event.

    // Short local names keep the ruled table readable.
    using pending = states::pending;
    using authorized = states::authorized;
    using captured = states::captured;
    using partially_refunded = states::partially_refunded;
    using refunded = states::refunded;
    using failed = states::failed;
    using voided = states::voided;
    using none = front::none;
    using everything = guards::refunds_everything;
    using not_everything = detail::msm::negation<guards::refunds_everything>;

    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source              Event                            Target              Action Guard
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<pending,            events::authorization_succeeded, authorized,         none,  none>,
        front::Row<pending,            events::capture_succeeded,       captured,           none,  none>,
        front::Row<pending,            events::payment_failed,          failed,             none,  none>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<authorized,         events::capture_succeeded,       captured,           none,  none>,
        front::Row<authorized,         events::payment_failed,          failed,             none,  none>,
        front::Row<authorized,         events::authorization_voided,    voided,             none,  none>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<captured,           events::refund_issued,           refunded,           none,  everything>,
        front::Row<captured,           events::refund_issued,           partially_refunded, none,  not_everything>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<partially_refunded, events::refund_issued,           refunded,           none,  everything>,
        front::Row<partially_refunded, events::refund_issued,           partially_refunded, none,  not_everything>
        //        +-------------------+--------------------------------+-------------------+------+----------------+
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
/// at all: 28 bytes with GCC 12, built without allocation in under a nanosecond.
using payment_machine = back::state_machine<payment_machine_def>;
static_assert(sizeof(payment_machine) <= 64, "built per call: keep the machine small");

/// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
const detail::msm::state_id_map<payment_machine, payment_state, all_payment_states.size()>&
payment_ids() noexcept {
    static const detail::msm::state_id_map<payment_machine, payment_state,
                                           all_payment_states.size()>
        ids;
    return ids;
}

/// The public event value as the MSM event type; empty for a value outside
/// the enum (a corrupt store or a cast), which is not a refusal but bad input.
std::optional<dispatch_outcome> fire(payment_machine& machine, payment_event event) noexcept {
    using detail::msm::dispatch;
    switch (event) {
        case payment_event::authorization_succeeded:
            return dispatch(machine, events::authorization_succeeded{});
        case payment_event::capture_succeeded:
            return dispatch(machine, events::capture_succeeded{});
        case payment_event::payment_failed:
            return dispatch(machine, events::payment_failed{});
        case payment_event::authorization_voided:
            return dispatch(machine, events::authorization_voided{});
        case payment_event::refund_issued:
            return dispatch(machine, events::refund_issued{});
    }
    return std::nullopt;
}

}  // namespace

result<payment_state> next_payment_state(payment_state from, payment_event event,
                                         const payment_guard_facts& facts) {
    return detail::msm::next_state<payment_machine>(payment_ids(), "payment", from, event, facts,
                                                    &fire);
}

std::vector<transition_row> payment_machine_rows() {
    return detail::msm::rows_of<payment_machine_def>();
}

std::string payment_machine_dot() {
    return detail::render_dot("payment", payment_machine_def::initial_state::name,
                              payment_machine_rows());
}

std::string payment_machine_mermaid() {
    return detail::render_mermaid(payment_machine_def::initial_state::name, payment_machine_rows());
}

}  // namespace orderly
