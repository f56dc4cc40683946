// The order state machine in Boost.MSM's functor front-end, behind the
// facade in orderly/order/order_machine.hpp. This is the only translation
// unit that compiles it: MSM is expensive to compile and hosts never see it.
#include <orderly/order/order_machine.hpp>

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
template <order_state State>
struct order_state_type : front::state<> {
    static constexpr order_state value = State;
    static constexpr std::string_view name = to_string(State);
};

namespace states {
struct pending_review : order_state_type<order_state::pending_review> {};
struct awaiting_payment : order_state_type<order_state::awaiting_payment> {};
struct paid : order_state_type<order_state::paid> {};
struct allocating : order_state_type<order_state::allocating> {};
struct packed : order_state_type<order_state::packed> {};
struct shipped : order_state_type<order_state::shipped> {};
struct delivered : order_state_type<order_state::delivered> {};
struct completed : order_state_type<order_state::completed> {};
struct closed : order_state_type<order_state::closed> {};
struct on_hold : order_state_type<order_state::on_hold> {};
struct cancelled : order_state_type<order_state::cancelled> {};
}  // namespace states

/// An event type of the machine: empty, with its stable public value and name.
template <order_event Event>
struct order_event_type {
    static constexpr order_event value = Event;
    static constexpr std::string_view name = to_string(Event);
};

namespace events {
// `placed` has no row: it is an MSM event all the same, so that the table,
// not the facade, is what refuses it.
struct placed : order_event_type<order_event::placed> {};
struct review_approved : order_event_type<order_event::review_approved> {};
struct review_rejected : order_event_type<order_event::review_rejected> {};
struct payment_captured : order_event_type<order_event::payment_captured> {};
struct payment_failed : order_event_type<order_event::payment_failed> {};
struct payment_timed_out : order_event_type<order_event::payment_timed_out> {};
struct allocated : order_event_type<order_event::allocated> {};
struct packed : order_event_type<order_event::packed> {};
struct shipped : order_event_type<order_event::shipped> {};
struct delivered : order_event_type<order_event::delivered> {};
struct receipt_confirmed : order_event_type<order_event::receipt_confirmed> {};
struct closed : order_event_type<order_event::closed> {};
struct held : order_event_type<order_event::held> {};
struct released : order_event_type<order_event::released> {};
struct cancelled : order_event_type<order_event::cancelled> {};
struct refunded_in_full : order_event_type<order_event::refunded_in_full> {};
struct ticket_opened : order_event_type<order_event::ticket_opened> {};
}  // namespace events

namespace guards {
/// The customer pays the carrier: approval skips awaiting_payment.
struct cash_on_delivery {
    static constexpr std::string_view name = "cash_on_delivery";

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.cash_on_delivery;
    }
};

/// The order was put on hold in `State`: `released` returns there, and only
/// there, so each resumable state has its own row.
template <class State>
struct held_from_is {
private:
    static constexpr std::string_view prefix = "held_from == ";
    static constexpr auto text =
        detail::msm::join<prefix.size() + State::name.size()>(prefix, State::name);

public:
    static constexpr std::string_view name{text.data(), text.size()};

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.held_from == State::value;
    }
};
}  // namespace guards

/// The front-end: the table plus what the guards read. No actions: the
/// machine only decides the next state; the engine does the work.
struct order_machine_def : front::state_machine_def<order_machine_def> {
    using no_exception_thrown = int;  // Guards are noexcept; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    using initial_state = states::pending_review;

    order_guard_facts facts{};  ///< Set per call; read by the guards.
    bool refused{false};        ///< Set by no_transition for the current event.

    // Short local names keep the ruled table readable.
    using pending_review = states::pending_review;
    using awaiting_payment = states::awaiting_payment;
    using paid = states::paid;
    using allocating = states::allocating;
    using packed = states::packed;
    using shipped = states::shipped;
    using delivered = states::delivered;
    using completed = states::completed;
    using closed = states::closed;
    using on_hold = states::on_hold;
    using cancelled = states::cancelled;
    using none = front::none;
    using cod = guards::cash_on_delivery;
    using not_cod = detail::msm::negation<guards::cash_on_delivery>;
    template <class State>
    using held_from = guards::held_from_is<State>;

    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source            Event                      Target            Action Guard
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<pending_review,   events::review_approved,   awaiting_payment, none,  not_cod>,
        front::Row<pending_review,   events::review_approved,   paid,             none,  cod>,
        front::Row<pending_review,   events::review_rejected,   cancelled,        none,  none>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<awaiting_payment, events::payment_captured,  paid,             none,  none>,
        // A failed attempt keeps the order waiting; the engine counts failures.
        front::Row<awaiting_payment, events::payment_failed,    awaiting_payment, none,  none>,
        front::Row<awaiting_payment, events::payment_timed_out, cancelled,        none,  none>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<paid,             events::allocated,         allocating,       none,  none>,
        front::Row<allocating,       events::packed,            packed,           none,  none>,
        front::Row<packed,           events::shipped,           shipped,          none,  none>,
        front::Row<shipped,          events::delivered,         delivered,        none,  none>,
        front::Row<delivered,        events::receipt_confirmed, completed,        none,  none>,
        front::Row<completed,        events::closed,            closed,           none,  none>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<pending_review,   events::held,              on_hold,          none,  none>,
        front::Row<awaiting_payment, events::held,              on_hold,          none,  none>,
        front::Row<paid,             events::held,              on_hold,          none,  none>,
        front::Row<allocating,       events::held,              on_hold,          none,  none>,
        front::Row<packed,           events::held,              on_hold,          none,  none>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<on_hold,          events::released,          pending_review,   none,  held_from<pending_review>>,
        front::Row<on_hold,          events::released,          awaiting_payment, none,  held_from<awaiting_payment>>,
        front::Row<on_hold,          events::released,          paid,             none,  held_from<paid>>,
        front::Row<on_hold,          events::released,          allocating,       none,  held_from<allocating>>,
        front::Row<on_hold,          events::released,          packed,           none,  held_from<packed>>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        front::Row<pending_review,   events::cancelled,         cancelled,        none,  none>,
        front::Row<awaiting_payment, events::cancelled,         cancelled,        none,  none>,
        front::Row<paid,             events::cancelled,         cancelled,        none,  none>,
        front::Row<allocating,       events::cancelled,         cancelled,        none,  none>,
        front::Row<packed,           events::cancelled,         cancelled,        none,  none>,
        front::Row<on_hold,          events::cancelled,         cancelled,        none,  none>
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
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
/// at all: 32 bytes with GCC 12, built without allocation in under a nanosecond.
using order_machine = back::state_machine<order_machine_def>;
static_assert(sizeof(order_machine) <= 64, "built per call: keep the machine small");

/// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
const detail::msm::state_id_map<order_machine, order_state, all_order_states.size()>&
order_ids() noexcept {
    static const detail::msm::state_id_map<order_machine, order_state, all_order_states.size()> ids;
    return ids;
}

/// The public event value as the MSM event type; empty for a value outside
/// the enum (a corrupt store or a cast), which is not a refusal but bad input.
std::optional<dispatch_outcome> fire(order_machine& machine, order_event event) noexcept {
    using detail::msm::dispatch;
    switch (event) {
        case order_event::placed:
            return dispatch(machine, events::placed{});
        case order_event::review_approved:
            return dispatch(machine, events::review_approved{});
        case order_event::review_rejected:
            return dispatch(machine, events::review_rejected{});
        case order_event::payment_captured:
            return dispatch(machine, events::payment_captured{});
        case order_event::payment_failed:
            return dispatch(machine, events::payment_failed{});
        case order_event::payment_timed_out:
            return dispatch(machine, events::payment_timed_out{});
        case order_event::allocated:
            return dispatch(machine, events::allocated{});
        case order_event::packed:
            return dispatch(machine, events::packed{});
        case order_event::shipped:
            return dispatch(machine, events::shipped{});
        case order_event::delivered:
            return dispatch(machine, events::delivered{});
        case order_event::receipt_confirmed:
            return dispatch(machine, events::receipt_confirmed{});
        case order_event::closed:
            return dispatch(machine, events::closed{});
        case order_event::held:
            return dispatch(machine, events::held{});
        case order_event::released:
            return dispatch(machine, events::released{});
        case order_event::cancelled:
            return dispatch(machine, events::cancelled{});
        case order_event::refunded_in_full:
            return dispatch(machine, events::refunded_in_full{});
        case order_event::ticket_opened:
            return dispatch(machine, events::ticket_opened{});
    }
    return std::nullopt;
}

}  // namespace

result<order_state> next_order_state(order_state from, order_event event,
                                     const order_guard_facts& facts) {
    return detail::msm::next_state<order_machine>(order_ids(), "order", from, event, facts, &fire);
}

std::vector<transition_row> order_machine_rows() {
    return detail::msm::rows_of<order_machine_def>();
}

std::string order_machine_dot() {
    return detail::render_dot("order", order_machine_def::initial_state::name,
                              order_machine_rows());
}

std::string order_machine_mermaid() {
    return detail::render_mermaid(order_machine_def::initial_state::name, order_machine_rows());
}

}  // namespace orderly
