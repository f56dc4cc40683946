// The tracking state machine in Boost.MSM's functor front-end, behind
// the facade in orderly/logistics/tracking_machine.hpp (which explains what
// the table allows and why). This is the only translation unit that compiles
// it: MSM is expensive to compile and hosts never see it.
#include <orderly/logistics/tracking_machine.hpp>

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

/// The front-end: the table only. No guards: whether a carrier event makes
/// sense depends on the state alone; tracking_history does the bookkeeping.
struct tracking_machine_def
    : detail::msm::machine_def<tracking_machine_def, detail::msm::no_facts> {
    // Short local names keep the ruled table readable.
    using label_created = state_type<tracking_state::label_created>;
    using picked_up = state_type<tracking_state::picked_up>;
    using in_transit = state_type<tracking_state::in_transit>;
    using at_hub = state_type<tracking_state::at_hub>;
    using out_for_delivery = state_type<tracking_state::out_for_delivery>;
    using delivered = state_type<tracking_state::delivered>;
    using delivery_failed = state_type<tracking_state::delivery_failed>;
    using returned_to_sender = state_type<tracking_state::returned_to_sender>;
    using lost = state_type<tracking_state::lost>;
    using none = front::none;

    struct events {
        using picked_up = event_type<tracking_event::picked_up>;
        using departed_facility = event_type<tracking_event::departed_facility>;
        using arrived_at_hub = event_type<tracking_event::arrived_at_hub>;
        using sent_out_for_delivery = event_type<tracking_event::sent_out_for_delivery>;
        using delivery_attempt_failed = event_type<tracking_event::delivery_attempt_failed>;
        using delivered = event_type<tracking_event::delivered>;
        using returned_to_sender = event_type<tracking_event::returned_to_sender>;
        using declared_lost = event_type<tracking_event::declared_lost>;
    };

    using initial_state = label_created;

    // 35 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=40
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source            Event                            Target              Action Guard
        //        +-----------------+--------------------------------+-------------------+------+-----+
        front::Row<label_created,    events::picked_up,               picked_up,          none,  none>,
        front::Row<label_created,    events::departed_facility,       in_transit,         none,  none>,
        front::Row<label_created,    events::arrived_at_hub,          at_hub,             none,  none>,
        // A person or the lost_after rule may declare a parcel lost before
        // its first scan (the carrier never collected it).
        front::Row<label_created,    events::declared_lost,           lost,               none,  none>,
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
};

using tracking_machine =
    detail::msm::facade<tracking_machine_def, all_tracking_states, all_tracking_events>;

/// States in which nothing more is expected of the parcel's journey. lost is
/// one although a found parcel leaves it: nobody waits for that.
constexpr std::array tracking_ends = {tracking_state::delivered, tracking_state::returned_to_sender,
                                      tracking_state::lost};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order: every scan is the carrier's.
constexpr std::array<detail::msm::driven<tracking_event>, all_tracking_events.size()>
    tracking_drivers = {{
        {tracking_event::picked_up, by(D::carrier)},
        {tracking_event::departed_facility, by(D::carrier)},
        {tracking_event::arrived_at_hub, by(D::carrier)},
        {tracking_event::sent_out_for_delivery, by(D::carrier)},
        {tracking_event::delivery_attempt_failed, by(D::carrier)},
        {tracking_event::delivered, by(D::carrier)},
        {tracking_event::returned_to_sender, by(D::carrier)},
        // The carrier, a person, or due work after fulfilment.lost_after.
        {tracking_event::declared_lost, by(D::carrier, D::staff, D::clock)},
    }};
static_assert(detail::msm::covers_in_order(tracking_drivers, all_tracking_events));

}  // namespace

result<tracking_state> next_tracking_state(tracking_state from, tracking_event event) {
    return tracking_machine::next("tracking", from, event, detail::msm::no_facts{});
}

std::vector<transition_row> tracking_machine_rows() {
    return tracking_machine::rows();
}

std::string tracking_machine_dot() {
    return detail::render_dot(tracking_machine_description());
}

std::string tracking_machine_mermaid() {
    return detail::render_mermaid(tracking_machine_description());
}

machine_description tracking_machine_description() {
    return tracking_machine::describe("tracking", tracking_ends, tracking_drivers);
}

}  // namespace orderly
