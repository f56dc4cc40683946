// The after-sales ticket state machine in Boost.MSM's functor
// front-end, behind the facade in orderly/aftersales/ticket_machine.hpp (which
// explains what the table allows and why). This is the only translation unit
// that compiles it: MSM is expensive to compile and hosts never see it.
#include <orderly/aftersales/ticket_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <fmt/format.h>
#include <boost/mpl/vector.hpp>
#include <boost/msm/front/functor_row.hpp>

#include <algorithm>
#include <array>
#include <string_view>

namespace orderly {
namespace {

namespace front = boost::msm::front;
using detail::msm::event_type;
using detail::msm::state_type;

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

/// The customer reported the return parcel: awaiting_return waits for it.
using return_in_transit = detail::msm::fact<"return_in_transit", &ticket_facts::return_in_transit>;

/// The repairer gave the goods back unrepaired.
using repair_failed = detail::msm::fact<"repair_failed", &ticket_facts::repair_failed>;
}  // namespace guards

/// The front-end: the table plus what the guards read (ticket_facts). The
/// engine counts escalations and keeps escalated_from.
struct ticket_machine_def : detail::msm::machine_def<ticket_machine_def, ticket_facts> {
    // Short local names keep the ruled table readable.
    using submitted = state_type<ticket_state::submitted>;
    using under_review = state_type<ticket_state::under_review>;
    using approved = state_type<ticket_state::approved>;
    using rejected = state_type<ticket_state::rejected>;
    using awaiting_return = state_type<ticket_state::awaiting_return>;
    using goods_received = state_type<ticket_state::goods_received>;
    using inspected = state_type<ticket_state::inspected>;
    using refunded = state_type<ticket_state::refunded>;
    using replacement_shipped = state_type<ticket_state::replacement_shipped>;
    using at_repair = state_type<ticket_state::at_repair>;
    using repaired_shipped = state_type<ticket_state::repaired_shipped>;
    using closed = state_type<ticket_state::closed>;
    using withdrawn = state_type<ticket_state::withdrawn>;
    using escalated = state_type<ticket_state::escalated>;
    using none = front::none;
    using refund_only = guards::type_is<ticket_type::refund_only>;
    using not_refund_only = detail::msm::negation<refund_only>;
    using exchange = guards::type_is<ticket_type::exchange>;
    using repair = guards::type_is<ticket_type::repair>;
    using in_transit = guards::return_in_transit;
    using not_in_transit = detail::msm::negation<guards::return_in_transit>;
    using unrepairable = detail::msm::both<repair, guards::repair_failed>;
    template <class State>
    using from = detail::msm::escalated_from_is<State>;
    template <class First, class Second>
    using both = detail::msm::both<First, Second>;

    // `submitted` has no row: it is an MSM event all the same, so that the
    // table, not the facade, is what refuses it.
    struct events {
        using auto_approved = event_type<ticket_event::auto_approved>;
        using review_requested = event_type<ticket_event::review_requested>;
        using approved = event_type<ticket_event::approved>;
        using rejected = event_type<ticket_event::rejected>;
        using withdrawn = event_type<ticket_event::withdrawn>;
        using deadline_passed = event_type<ticket_event::deadline_passed>;
        using goods_received = event_type<ticket_event::goods_received>;
        using inspected = event_type<ticket_event::inspected>;
        using refund_issued = event_type<ticket_event::refund_issued>;
        using replacement_shipped = event_type<ticket_event::replacement_shipped>;
        using sent_to_repair = event_type<ticket_event::sent_to_repair>;
        using repaired_shipped = event_type<ticket_event::repaired_shipped>;
        using closed = event_type<ticket_event::closed>;
        using return_expired = event_type<ticket_event::return_expired>;
        using repair_failed = event_type<ticket_event::repair_failed>;
    };

    using initial_state = submitted;

    // 46 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=50
    // (CMakeLists.txt).
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
        // A return the customer reported as sent holds the ticket open: its
        // deadline escalates instead of expiring (the deadline follows the parcel).
        front::Row<awaiting_return,     events::return_expired,      closed,              none,  not_in_transit>,
        front::Row<awaiting_return,     events::deadline_passed,     escalated,           none,  in_transit>,
        // The carrier lost the return parcel: staff refund without the goods.
        front::Row<awaiting_return,     events::refund_issued,       refunded,            none,  in_transit>,
        front::Row<awaiting_return,     events::withdrawn,           withdrawn,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<goods_received,      events::inspected,           inspected,           none,  none>,
        front::Row<goods_received,      events::deadline_passed,     escalated,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        // Any type may be refunded: an exchange whose replacement has no stock, too.
        front::Row<inspected,           events::refund_issued,       refunded,            none,  none>,
        front::Row<inspected,           events::replacement_shipped, replacement_shipped, none,  exchange>,
        // An item the repairer could not repair may be replaced instead.
        front::Row<inspected,           events::replacement_shipped, replacement_shipped, none,  unrepairable>,
        front::Row<inspected,           events::sent_to_repair,      at_repair,           none,  repair>,
        // Inspection refused every unit (not what was sold, or damaged by the
        // customer): nothing is refunded, replaced or repaired.
        front::Row<inspected,           events::rejected,            rejected,            none,  none>,
        front::Row<inspected,           events::deadline_passed,     escalated,           none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        front::Row<at_repair,           events::repaired_shipped,    repaired_shipped,    none,  none>,
        // Unrepairable: back to inspected, to be refunded or replaced.
        front::Row<at_repair,           events::repair_failed,       inspected,           none,  none>,
        // The repairer is late (after_sales.repair_time): at_repair has an
        // exit the clock drives.
        front::Row<at_repair,           events::deadline_passed,     escalated,           none,  none>,
        front::Row<refunded,            events::closed,              closed,              none,  none>,
        front::Row<replacement_shipped, events::closed,              closed,              none,  none>,
        front::Row<repaired_shipped,    events::closed,              closed,              none,  none>,
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
        // An escalated ticket accepts what the state it was escalated from accepts.
        front::Row<escalated,           events::approved,            approved,            none,  both<refund_only, from<under_review>>>,
        front::Row<escalated,           events::approved,            awaiting_return,     none,  both<not_refund_only, from<under_review>>>,
        front::Row<escalated,           events::rejected,            rejected,            none,  from<under_review>>,
        front::Row<escalated,           events::withdrawn,           withdrawn,           none,  from<under_review>>,
        // From awaiting_return only when its return was in transit (its only
        // way to escalate), so the parcel may still arrive or be refunded.
        front::Row<escalated,           events::goods_received,      goods_received,      none,  from<awaiting_return>>,
        front::Row<escalated,           events::refund_issued,       refunded,            none,  from<awaiting_return>>,
        front::Row<escalated,           events::withdrawn,           withdrawn,           none,  from<awaiting_return>>,
        front::Row<escalated,           events::inspected,           inspected,           none,  from<goods_received>>,
        front::Row<escalated,           events::refund_issued,       refunded,            none,  from<inspected>>,
        front::Row<escalated,           events::replacement_shipped, replacement_shipped, none,  both<exchange, from<inspected>>>,
        front::Row<escalated,           events::replacement_shipped, replacement_shipped, none,  both<unrepairable, from<inspected>>>,
        front::Row<escalated,           events::sent_to_repair,      at_repair,           none,  both<repair, from<inspected>>>,
        front::Row<escalated,           events::rejected,            rejected,            none,  from<inspected>>,
        front::Row<escalated,           events::repaired_shipped,    repaired_shipped,    none,  from<at_repair>>,
        front::Row<escalated,           events::repair_failed,       inspected,           none,  from<at_repair>>,
        // A second deadline keeps it escalated; the engine counts escalations.
        front::Row<escalated,           events::deadline_passed,     escalated,           none,  none>
        //        +--------------------+----------------------------+--------------------+------+--------------------------------------+
    > {};
    // clang-format on
};

using ticket_machine =
    detail::msm::facade<ticket_machine_def, all_ticket_states, all_ticket_events>;

/// States in which nothing more is expected of the ticket.
constexpr std::array ticket_ends = {ticket_state::rejected, ticket_state::closed,
                                    ticket_state::withdrawn};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<ticket_event>, all_ticket_events.size()> ticket_drivers = {
    {
        {ticket_event::submitted, by(D::engine)},
        // orderly's approval rules approve, or ask a person to review.
        {ticket_event::auto_approved, by(D::engine)},
        {ticket_event::review_requested, by(D::engine)},
        {ticket_event::approved, by(D::staff)},
        {ticket_event::rejected, by(D::staff)},
        {ticket_event::withdrawn, by(D::customer, D::staff)},
        {ticket_event::deadline_passed, by(D::clock)},
        {ticket_event::goods_received, by(D::staff)},
        {ticket_event::inspected, by(D::staff)},
        // A person, or orderly refunding a refund-only ticket at once.
        {ticket_event::refund_issued, by(D::staff, D::engine)},
        {ticket_event::replacement_shipped, by(D::staff)},
        {ticket_event::sent_to_repair, by(D::staff)},
        {ticket_event::repaired_shipped, by(D::staff)},
        // The customer confirms, an agent closes, due work after
        // after_sales.auto_close_after, or orderly after a refund.
        {ticket_event::closed, by(D::customer, D::staff, D::clock, D::engine)},
        {ticket_event::return_expired, by(D::clock)},
        {ticket_event::repair_failed, by(D::staff)},
    }};
static_assert(detail::msm::covers_in_order(ticket_drivers, all_ticket_events));

/// True when `type` is one of the enum's named values.
bool known_type(ticket_type type) noexcept {
    return std::find(all_ticket_types.begin(), all_ticket_types.end(), type) !=
           all_ticket_types.end();
}

}  // namespace

result<ticket_state> next_ticket_state(ticket_state from, ticket_event event,
                                       const ticket_facts& facts) {
    auto next = ticket_machine::next("ticket", from, event, facts);
    // A bad state or event is reported first, as by the other machines. The
    // guards only compare the facts, so running them with a bad type is
    // harmless; its answer is not used.
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
    return ticket_machine::rows();
}

std::string ticket_machine_dot() {
    return detail::render_dot(ticket_machine_description());
}

std::string ticket_machine_mermaid() {
    return detail::render_mermaid(ticket_machine_description());
}

machine_description ticket_machine_description() {
    return ticket_machine::describe("ticket", ticket_ends, ticket_drivers);
}

}  // namespace orderly
