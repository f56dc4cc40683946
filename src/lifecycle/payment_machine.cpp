// The payment state machine (R-15…R-18) in Boost.MSM's functor front-end,
// behind the facade in orderly/payment/payment_machine.hpp. This is the only
// translation unit that compiles it: MSM is expensive to compile and hosts
// never see it.
#include <orderly/payment/payment_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <boost/mpl/vector.hpp>
#include <boost/msm/front/functor_row.hpp>

#include <array>

namespace orderly {
namespace {

namespace front = boost::msm::front;
using detail::msm::event_type;
using detail::msm::state_type;

/// A refund brings the refunded total up to the captured amount.
using refunds_everything =
    detail::msm::fact<"refunds_everything", &payment_guard_facts::refunds_everything>;

/// The front-end: the table plus what the guards read (payment_guard_facts).
struct payment_machine_def : detail::msm::machine_def<payment_machine_def, payment_guard_facts> {
    // Short local names keep the ruled table readable.
    using pending = state_type<payment_state::pending>;
    using authorized = state_type<payment_state::authorized>;
    using captured = state_type<payment_state::captured>;
    using partially_refunded = state_type<payment_state::partially_refunded>;
    using refunded = state_type<payment_state::refunded>;
    using failed = state_type<payment_state::failed>;
    using voided = state_type<payment_state::voided>;
    using none = front::none;
    using everything = refunds_everything;
    using not_everything = detail::msm::negation<refunds_everything>;

    struct events {
        using authorization_succeeded = event_type<payment_event::authorization_succeeded>;
        using capture_succeeded = event_type<payment_event::capture_succeeded>;
        using payment_failed = event_type<payment_event::payment_failed>;
        using authorization_voided = event_type<payment_event::authorization_voided>;
        using refund_issued = event_type<payment_event::refund_issued>;
    };

    using initial_state = pending;

    // 13 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=20
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source              Event                            Target              Action Guard
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<pending,            events::authorization_succeeded, authorized,         none,  none>,
        front::Row<pending,            events::capture_succeeded,       captured,           none,  none>,
        front::Row<pending,            events::payment_failed,          failed,             none,  none>,
        // Otherwise a pending payment waits only on the gateway: a person,
        // due work or orderly (the order ended first) gives the attempt up.
        front::Row<pending,            events::authorization_voided,    voided,             none,  none>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<authorized,         events::capture_succeeded,       captured,           none,  none>,
        front::Row<authorized,         events::payment_failed,          failed,             none,  none>,
        front::Row<authorized,         events::authorization_voided,    voided,             none,  none>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        // A capture that arrives after the payment failed or was voided is
        // money received: it is recorded (then applied or given back), never
        // dropped.
        front::Row<failed,             events::capture_succeeded,       captured,           none,  none>,
        front::Row<voided,             events::capture_succeeded,       captured,           none,  none>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<captured,           events::refund_issued,           refunded,           none,  everything>,
        front::Row<captured,           events::refund_issued,           partially_refunded, none,  not_everything>,
        //        +-------------------+--------------------------------+-------------------+------+----------------+
        front::Row<partially_refunded, events::refund_issued,           refunded,           none,  everything>,
        front::Row<partially_refunded, events::refund_issued,           partially_refunded, none,  not_everything>
        //        +-------------------+--------------------------------+-------------------+------+----------------+
    > {};
    // clang-format on
};

using payment_machine =
    detail::msm::facade<payment_machine_def, all_payment_states, all_payment_events>;

/// States in which nothing more is expected of the payment: it settled
/// (captured, refunded in part or in full) or came to nothing (failed,
/// voided). A late capture or a refund may still move some of them.
constexpr std::array payment_ends = {payment_state::captured, payment_state::partially_refunded,
                                     payment_state::refunded, payment_state::failed,
                                     payment_state::voided};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<payment_event>, all_payment_events.size()>
    payment_drivers = {{
        {payment_event::authorization_succeeded, by(D::gateway)},
        // The gateway's callback, or orderly capturing an authorization.
        {payment_event::capture_succeeded, by(D::gateway, D::engine)},
        {payment_event::payment_failed, by(D::gateway)},
        // A person, due work, or orderly when the order no longer wants it.
        {payment_event::authorization_voided, by(D::staff, D::clock, D::engine)},
        {payment_event::refund_issued, by(D::staff, D::clock, D::engine)},
    }};
static_assert(detail::msm::covers_in_order(payment_drivers, all_payment_events));

}  // namespace

result<payment_state> next_payment_state(payment_state from, payment_event event,
                                         const payment_guard_facts& facts) {
    return payment_machine::next("payment", from, event, facts);
}

std::vector<transition_row> payment_machine_rows() {
    return payment_machine::rows();
}

std::string payment_machine_dot() {
    return detail::render_dot(payment_machine_description());
}

std::string payment_machine_mermaid() {
    return detail::render_mermaid(payment_machine_description());
}

machine_description payment_machine_description() {
    return payment_machine::describe("payment", payment_ends, payment_drivers);
}

}  // namespace orderly
