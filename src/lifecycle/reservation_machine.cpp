// The reservation state machine in Boost.MSM's functor front-end,
// behind the facade in orderly/inventory/reservation_machine.hpp. This is the
// only translation unit that compiles it: MSM is expensive to compile and
// hosts never see it.
#include <orderly/inventory/reservation_machine.hpp>

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

/// The front-end: the table only. No guards: which event comes is the
/// engine's decision (payment, shipping, a cancel); the table says where it
/// may come.
struct reservation_machine_def
    : detail::msm::machine_def<reservation_machine_def, detail::msm::no_facts> {
    // Short local names keep the ruled table readable.
    using held = state_type<reservation_state::held>;
    using committed = state_type<reservation_state::committed>;
    using consumed = state_type<reservation_state::consumed>;
    using released = state_type<reservation_state::released>;
    using none = front::none;

    struct events {
        using committed = event_type<reservation_event::committed>;
        using consumed = event_type<reservation_event::consumed>;
        using released = event_type<reservation_event::released>;
    };

    // Created held at placement: there is no state before it.
    using initial_state = held;

    // 4 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=10
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source     Event              Target     Action Guard
        //        +----------+------------------+----------+------+-----+
        front::Row<held,      events::committed, committed, none,  none>,
        front::Row<held,      events::released,  released,  none,  none>,
        // Only committed units ship: a held reservation is not yet paid for.
        front::Row<committed, events::consumed,  consumed,  none,  none>,
        front::Row<committed, events::released,  released,  none,  none>
        //        +----------+------------------+----------+------+-----+
    > {};
    // clang-format on
};

using reservation_machine =
    detail::msm::facade<reservation_machine_def, all_reservation_states, all_reservation_events>;

/// Both ends of a reservation: its units shipped, or went back to stock.
constexpr std::array reservation_ends = {reservation_state::consumed, reservation_state::released};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<reservation_event>, all_reservation_events.size()>
    reservation_drivers = {{
        // A capture, a person approving cash on delivery, or orderly itself.
        {reservation_event::committed, by(D::gateway, D::staff, D::engine)},
        {reservation_event::consumed, by(D::staff)},
        // A cancel, a payment timeout, a failure or a re-plan.
        {reservation_event::released, by(D::customer, D::staff, D::clock, D::engine)},
    }};
static_assert(detail::msm::covers_in_order(reservation_drivers, all_reservation_events));

}  // namespace

result<reservation_state> next_reservation_state(reservation_state from, reservation_event event) {
    return reservation_machine::next("reservation", from, event, detail::msm::no_facts{});
}

std::vector<transition_row> reservation_machine_rows() {
    return reservation_machine::rows();
}

std::string reservation_machine_dot() {
    return detail::render_dot(reservation_machine_description());
}

std::string reservation_machine_mermaid() {
    return detail::render_mermaid(reservation_machine_description());
}

machine_description reservation_machine_description() {
    return reservation_machine::describe("reservation", reservation_ends, reservation_drivers);
}

}  // namespace orderly
