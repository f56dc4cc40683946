// The order state machine in Boost.MSM's functor front-end, behind the
// facade in orderly/order/order_machine.hpp. This is the only translation
// unit that compiles it: MSM is expensive to compile and hosts never see it.
#include <orderly/order/order_machine.hpp>

#include "diagram.hpp"
#include "msm_support.hpp"

#include <boost/mpl/vector.hpp>
#include <boost/msm/front/functor_row.hpp>

#include <array>
#include <string_view>

namespace orderly {
namespace {

namespace front = boost::msm::front;
using detail::msm::event_type;
using detail::msm::state_type;

namespace guards {
/// The customer pays the carrier: approval skips awaiting_payment.
using cash_on_delivery =
    detail::msm::fact<"cash_on_delivery", &order_guard_facts::cash_on_delivery>;

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

/// The front-end: the table plus what the guards read (order_guard_facts).
struct order_machine_def : detail::msm::machine_def<order_machine_def, order_guard_facts> {
    // Short local names keep the ruled table readable.
    using pending_review = state_type<order_state::pending_review>;
    using awaiting_payment = state_type<order_state::awaiting_payment>;
    using paid = state_type<order_state::paid>;
    using allocating = state_type<order_state::allocating>;
    using packed = state_type<order_state::packed>;
    using shipped = state_type<order_state::shipped>;
    using delivered = state_type<order_state::delivered>;
    using completed = state_type<order_state::completed>;
    using closed = state_type<order_state::closed>;
    using on_hold = state_type<order_state::on_hold>;
    using cancelled = state_type<order_state::cancelled>;
    using none = front::none;
    using cod = guards::cash_on_delivery;
    using not_cod = detail::msm::negation<guards::cash_on_delivery>;
    template <class State>
    using held_from = guards::held_from_is<State>;

    // `placed` has no row: it is an MSM event all the same, so that the
    // table, not the facade, is what refuses it.
    struct events {
        using review_approved = event_type<order_event::review_approved>;
        using review_rejected = event_type<order_event::review_rejected>;
        using payment_captured = event_type<order_event::payment_captured>;
        using payment_failed = event_type<order_event::payment_failed>;
        using payment_timed_out = event_type<order_event::payment_timed_out>;
        using allocated = event_type<order_event::allocated>;
        using packed = event_type<order_event::packed>;
        using shipped = event_type<order_event::shipped>;
        using delivered = event_type<order_event::delivered>;
        using receipt_confirmed = event_type<order_event::receipt_confirmed>;
        using closed = event_type<order_event::closed>;
        using held = event_type<order_event::held>;
        using released = event_type<order_event::released>;
        using cancelled = event_type<order_event::cancelled>;
        using refunded_in_full = event_type<order_event::refunded_in_full>;
        using ticket_opened = event_type<order_event::ticket_opened>;
    };

    using initial_state = pending_review;

    // 35 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=40
    // (CMakeLists.txt).
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
        // Every unit was refunded (its parcels lost or returned, or sent back
        // on tickets) before the order completed: it ends without passing
        // through completed, so nobody asks for a review of goods sent back.
        front::Row<shipped,          events::refunded_in_full,  closed,           none,  none>,
        front::Row<delivered,        events::refunded_in_full,  closed,           none,  none>,
        //        +-----------------+--------------------------+-----------------+------+---------------------------+
        // An after-sales ticket was opened: the order stays where it is, and
        // the table, not the engine, says which states take tickets.
        front::Row<shipped,          events::ticket_opened,     shipped,          none,  none>,
        front::Row<delivered,        events::ticket_opened,     delivered,        none,  none>,
        front::Row<completed,        events::ticket_opened,     completed,        none,  none>,
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
        // The gateway does not know about holds: a result for an order held
        // while it awaited payment is recorded, and the order stays on hold.
        front::Row<on_hold,          events::payment_captured,  on_hold,          none,  held_from<awaiting_payment>>,
        front::Row<on_hold,          events::payment_failed,    on_hold,          none,  held_from<awaiting_payment>>,
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
};

using order_machine = detail::msm::facade<order_machine_def, all_order_states, all_order_events>;

/// States in which nothing more is expected of the order.
constexpr std::array order_ends = {order_state::closed, order_state::cancelled};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<order_event>, all_order_events.size()> order_drivers = {{
    {order_event::placed, by(D::engine)},
    // A person, or orderly's rules approving automatically.
    {order_event::review_approved, by(D::staff, D::engine)},
    {order_event::review_rejected, by(D::staff)},
    {order_event::payment_captured, by(D::gateway)},
    {order_event::payment_failed, by(D::gateway)},
    {order_event::payment_timed_out, by(D::clock)},
    {order_event::allocated, by(D::staff)},
    {order_event::packed, by(D::staff)},
    {order_event::shipped, by(D::staff)},
    {order_event::delivered, by(D::carrier)},
    // The customer, or due work after the auto-confirm time.
    {order_event::receipt_confirmed, by(D::customer, D::clock)},
    // A person, due work after the after-sales window, or orderly itself.
    {order_event::closed, by(D::staff, D::clock, D::engine)},
    {order_event::held, by(D::staff)},
    {order_event::released, by(D::staff)},
    {order_event::cancelled, by(D::customer, D::staff, D::engine)},
    // Whoever issued the last refund: a person, due work, or orderly itself.
    {order_event::refunded_in_full, by(D::staff, D::clock, D::engine)},
    {order_event::ticket_opened, by(D::customer, D::staff)},
}};
static_assert(detail::msm::covers_in_order(order_drivers, all_order_events));

}  // namespace

result<order_state> next_order_state(order_state from, order_event event,
                                     const order_guard_facts& facts) {
    return order_machine::next("order", from, event, facts);
}

std::vector<transition_row> order_machine_rows() {
    return order_machine::rows();
}

std::string order_machine_dot() {
    return detail::render_dot(order_machine_description());
}

std::string order_machine_mermaid() {
    return detail::render_mermaid(order_machine_description());
}

machine_description order_machine_description() {
    return order_machine::describe("order", order_ends, order_drivers);
}

}  // namespace orderly
