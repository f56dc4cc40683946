// The after-sales ticket state machine in Boost.MSM's functor
// front-end, behind the facade in orderly/aftersales/ticket_machine.hpp (which
// explains what the table allows and why). This is the only translation unit
// that compiles it: MSM is expensive to compile and hosts never see it.
#include <orderly/aftersales/ticket_machine.hpp>

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
template <ticket_state State>
struct ticket_state_type : front::state<> {
    static constexpr ticket_state value = State;
    static constexpr std::string_view name = to_string(State);
};

namespace states {
struct submitted : ticket_state_type<ticket_state::submitted> {};
struct under_review : ticket_state_type<ticket_state::under_review> {};
struct approved : ticket_state_type<ticket_state::approved> {};
struct rejected : ticket_state_type<ticket_state::rejected> {};
struct awaiting_return : ticket_state_type<ticket_state::awaiting_return> {};
struct goods_received : ticket_state_type<ticket_state::goods_received> {};
struct inspected : ticket_state_type<ticket_state::inspected> {};
struct refunded : ticket_state_type<ticket_state::refunded> {};
struct replacement_shipped : ticket_state_type<ticket_state::replacement_shipped> {};
struct at_repair : ticket_state_type<ticket_state::at_repair> {};
struct repaired_shipped : ticket_state_type<ticket_state::repaired_shipped> {};
struct closed : ticket_state_type<ticket_state::closed> {};
struct withdrawn : ticket_state_type<ticket_state::withdrawn> {};
struct escalated : ticket_state_type<ticket_state::escalated> {};
}  // namespace states

/// An event type of the machine: empty, with its stable public value and name.
template <ticket_event Event>
struct ticket_event_type {
    static constexpr ticket_event value = Event;
    static constexpr std::string_view name = to_string(Event);
};

namespace events {
// `submitted` has no row: it is an MSM event all the same, so that the table,
// not the facade, is what refuses it.
struct submitted : ticket_event_type<ticket_event::submitted> {};
struct auto_approved : ticket_event_type<ticket_event::auto_approved> {};
struct review_requested : ticket_event_type<ticket_event::review_requested> {};
struct approved : ticket_event_type<ticket_event::approved> {};
struct rejected : ticket_event_type<ticket_event::rejected> {};
struct withdrawn : ticket_event_type<ticket_event::withdrawn> {};
struct deadline_passed : ticket_event_type<ticket_event::deadline_passed> {};
struct goods_received : ticket_event_type<ticket_event::goods_received> {};
struct inspected : ticket_event_type<ticket_event::inspected> {};
struct refund_issued : ticket_event_type<ticket_event::refund_issued> {};
struct replacement_shipped : ticket_event_type<ticket_event::replacement_shipped> {};
struct sent_to_repair : ticket_event_type<ticket_event::sent_to_repair> {};
struct repaired_shipped : ticket_event_type<ticket_event::repaired_shipped> {};
struct closed : ticket_event_type<ticket_event::closed> {};
struct return_expired : ticket_event_type<ticket_event::return_expired> {};
struct repair_failed : ticket_event_type<ticket_event::repair_failed> {};
}  // namespace events

namespace guards {
/// The ticket is of type `Type`; named after the type ("refund_only") so the
/// diagrams read like the requirements.
template <ticket_type Type>
struct type_is {
    static constexpr std::string_view name = to_string(Type);

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.type == Type;
    }
};

}  // namespace guards

/// The front-end: the table plus what the guards read. No actions: the
/// machine only decides the next state; the engine does the work (and counts
/// escalations, and keeps escalated_from).
struct ticket_machine_def : front::state_machine_def<ticket_machine_def> {
    using no_exception_thrown = int;  // Guards are noexcept; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    using initial_state = states::submitted;

    ticket_facts facts{};  ///< Set per call; read by the guards.
    bool refused{false};   ///< Set by no_transition for the current event.

    // Short local names keep the ruled table readable.
    using submitted = states::submitted;
    using under_review = states::under_review;
    using approved = states::approved;
    using rejected = states::rejected;
    using awaiting_return = states::awaiting_return;
    using goods_received = states::goods_received;
    using inspected = states::inspected;
    using refunded = states::refunded;
    using replacement_shipped = states::replacement_shipped;
    using at_repair = states::at_repair;
    using repaired_shipped = states::repaired_shipped;
    using closed = states::closed;
    using withdrawn = states::withdrawn;
    using escalated = states::escalated;
    using none = front::none;
    using refund_only = guards::type_is<ticket_type::refund_only>;
    using not_refund_only = detail::msm::negation<refund_only>;
    using exchange = guards::type_is<ticket_type::exchange>;
    using repair = guards::type_is<ticket_type::repair>;
    template <class State>
    using from = detail::msm::escalated_from_is<State>;
    template <class First, class Second>
    using both = detail::msm::both<First, Second>;

    // 33 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=40
    // (CMakeLists.txt), the order and payment machines with 30.
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source               Event                        Target               Action Guard
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<submitted,           events::auto_approved,       approved,            none,  refund_only>,
        front::Row<submitted,           events::auto_approved,       awaiting_return,     none,  not_refund_only>,
        front::Row<submitted,           events::review_requested,    under_review,        none,  none>,
        front::Row<submitted,           events::withdrawn,           withdrawn,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<under_review,        events::approved,            approved,            none,  refund_only>,
        front::Row<under_review,        events::approved,            awaiting_return,     none,  not_refund_only>,
        front::Row<under_review,        events::rejected,            rejected,            none,  none>,
        front::Row<under_review,        events::withdrawn,           withdrawn,           none,  none>,
        front::Row<under_review,        events::deadline_passed,     escalated,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<approved,            events::refund_issued,       refunded,            none,  refund_only>,
        front::Row<approved,            events::withdrawn,           withdrawn,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<awaiting_return,     events::goods_received,      goods_received,      none,  none>,
        front::Row<awaiting_return,     events::return_expired,      closed,              none,  none>,
        front::Row<awaiting_return,     events::withdrawn,           withdrawn,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<goods_received,      events::inspected,           inspected,           none,  none>,
        front::Row<goods_received,      events::deadline_passed,     escalated,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        // Any type may be refunded: an exchange whose replacement has no stock, too.
        front::Row<inspected,           events::refund_issued,       refunded,            none,  none>,
        front::Row<inspected,           events::replacement_shipped, replacement_shipped, none,  exchange>,
        front::Row<inspected,           events::sent_to_repair,      at_repair,           none,  repair>,
        front::Row<inspected,           events::deadline_passed,     escalated,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<at_repair,           events::repaired_shipped,    repaired_shipped,    none,  none>,
        front::Row<refunded,            events::closed,              closed,              none,  none>,
        front::Row<replacement_shipped, events::closed,              closed,              none,  none>,
        front::Row<repaired_shipped,    events::closed,              closed,              none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        // An escalated ticket accepts what the state it was escalated from accepts.
        front::Row<escalated,           events::approved,            approved,            none,  both<refund_only, from<under_review>>>,
        front::Row<escalated,           events::approved,            awaiting_return,     none,  both<not_refund_only, from<under_review>>>,
        front::Row<escalated,           events::rejected,            rejected,            none,  from<under_review>>,
        front::Row<escalated,           events::withdrawn,           withdrawn,           none,  from<under_review>>,
        front::Row<escalated,           events::inspected,           inspected,           none,  from<goods_received>>,
        front::Row<escalated,           events::refund_issued,       refunded,            none,  from<inspected>>,
        front::Row<escalated,           events::replacement_shipped, replacement_shipped, none,  both<exchange, from<inspected>>>,
        front::Row<escalated,           events::sent_to_repair,      at_repair,           none,  both<repair, from<inspected>>>,
        // A second deadline keeps it escalated; the engine counts escalations.
        front::Row<escalated,           events::deadline_passed,     escalated,           none,  none>
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
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
using ticket_machine = back::state_machine<ticket_machine_def>;
static_assert(sizeof(ticket_machine) <= 64, "built per call: keep the machine small");

/// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
const detail::msm::state_id_map<ticket_machine, ticket_state, all_ticket_states.size()>&
ticket_ids() noexcept {
    static const detail::msm::state_id_map<ticket_machine, ticket_state, all_ticket_states.size()>
        ids;
    return ids;
}

/// The public event value as the MSM event type; empty for a value outside
/// the enum (a corrupt store or a cast), which is not a refusal but bad input.
std::optional<dispatch_outcome> fire(ticket_machine& machine, ticket_event event) noexcept {
    using detail::msm::dispatch;
    switch (event) {
        case ticket_event::submitted:
            return dispatch(machine, events::submitted{});
        case ticket_event::auto_approved:
            return dispatch(machine, events::auto_approved{});
        case ticket_event::review_requested:
            return dispatch(machine, events::review_requested{});
        case ticket_event::approved:
            return dispatch(machine, events::approved{});
        case ticket_event::rejected:
            return dispatch(machine, events::rejected{});
        case ticket_event::withdrawn:
            return dispatch(machine, events::withdrawn{});
        case ticket_event::deadline_passed:
            return dispatch(machine, events::deadline_passed{});
        case ticket_event::goods_received:
            return dispatch(machine, events::goods_received{});
        case ticket_event::inspected:
            return dispatch(machine, events::inspected{});
        case ticket_event::refund_issued:
            return dispatch(machine, events::refund_issued{});
        case ticket_event::replacement_shipped:
            return dispatch(machine, events::replacement_shipped{});
        case ticket_event::sent_to_repair:
            return dispatch(machine, events::sent_to_repair{});
        case ticket_event::repaired_shipped:
            return dispatch(machine, events::repaired_shipped{});
        case ticket_event::closed:
            return dispatch(machine, events::closed{});
        case ticket_event::return_expired:
            return dispatch(machine, events::return_expired{});
        case ticket_event::repair_failed:
            return dispatch(machine, events::repair_failed{});
    }
    return std::nullopt;
}

/// True when `type` is one of the enum's named values.
bool known_type(ticket_type type) noexcept {
    return std::find(all_ticket_types.begin(), all_ticket_types.end(), type) !=
           all_ticket_types.end();
}

}  // namespace

result<ticket_state> next_ticket_state(ticket_state from, ticket_event event,
                                       const ticket_facts& facts) {
    auto next =
        detail::msm::next_state<ticket_machine>(ticket_ids(), "ticket", from, event, facts, &fire);
    // A bad state or event is reported first, as by the other machines. The
    // guards only compare the type, so running them with a bad one is harmless;
    // its answer is not used.
    if (next.has_error() && next.error().code == errc::invalid_value) {
        return next;
    }
    if (!known_type(facts.type)) {
        return error{errc::invalid_value, "type",
                     fmt::format("ticket type value {} is not one orderly knows",
                                 static_cast<unsigned>(facts.type))};
    }
    return next;
}

std::vector<transition_row> ticket_machine_rows() {
    return detail::msm::rows_of<ticket_machine_def>();
}

std::string ticket_machine_dot() {
    return detail::render_dot("ticket", ticket_machine_def::initial_state::name,
                              ticket_machine_rows());
}

std::string ticket_machine_mermaid() {
    return detail::render_mermaid(ticket_machine_def::initial_state::name, ticket_machine_rows());
}

}  // namespace orderly
