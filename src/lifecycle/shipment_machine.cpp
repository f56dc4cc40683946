// The shipment state machine (R-7, R-19…R-22) in Boost.MSM's functor
// front-end, behind the facade in orderly/fulfilment/shipment_machine.hpp
// (which explains what the table allows and why). This is the only
// translation unit that compiles it: MSM is expensive to compile and hosts
// never see it.
#include <orderly/fulfilment/shipment_machine.hpp>

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

/// The front-end: the table only. No guards: what may happen to a parcel
/// depends on its state alone; the engine decides which event to send.
struct shipment_machine_def
    : detail::msm::machine_def<shipment_machine_def, detail::msm::no_facts> {
    // Short local names keep the ruled table readable.
    using planned = state_type<shipment_state::planned>;
    using picking = state_type<shipment_state::picking>;
    using packed = state_type<shipment_state::packed>;
    using shipped = state_type<shipment_state::shipped>;
    using delivered = state_type<shipment_state::delivered>;
    using returned = state_type<shipment_state::returned>;
    using lost = state_type<shipment_state::lost>;
    using cancelled = state_type<shipment_state::cancelled>;
    using resolved = state_type<shipment_state::resolved>;
    using none = front::none;

    struct events {
        using wave_planned = event_type<shipment_event::wave_planned>;
        using packed = event_type<shipment_event::packed>;
        using handed_over = event_type<shipment_event::handed_over>;
        using carrier_progress = event_type<shipment_event::carrier_progress>;
        using delivered = event_type<shipment_event::delivered>;
        using returned_to_sender = event_type<shipment_event::returned_to_sender>;
        using declared_lost = event_type<shipment_event::declared_lost>;
        using cancelled = event_type<shipment_event::cancelled>;
        using reshipped = event_type<shipment_event::reshipped>;
        using refunded = event_type<shipment_event::refunded>;
    };

    using initial_state = planned;

    // 18 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=20
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source     Event                       Target     Action Guard
        //        +----------+---------------------------+----------+------+-----+
        front::Row<planned,   events::wave_planned,       picking,   none,  none>,
        // A parcel packed without a pick wave (a single order picked by hand).
        front::Row<planned,   events::packed,             packed,    none,  none>,
        front::Row<picking,   events::packed,             packed,    none,  none>,
        front::Row<packed,    events::handed_over,        shipped,   none,  none>,
        //        +----------+---------------------------+----------+------+-----+
        // A scan that moves the parcel along keeps it shipped.
        front::Row<shipped,   events::carrier_progress,   shipped,   none,  none>,
        front::Row<shipped,   events::delivered,          delivered, none,  none>,
        front::Row<shipped,   events::returned_to_sender, returned,  none,  none>,
        front::Row<shipped,   events::declared_lost,      lost,      none,  none>,
        //        +----------+---------------------------+----------+------+-----+
        // Carriers find parcels they declared lost: the truth wins, so a lost
        // parcel follows the carrier until it is put right.
        front::Row<lost,      events::carrier_progress,   shipped,   none,  none>,
        front::Row<lost,      events::delivered,          delivered, none,  none>,
        front::Row<lost,      events::returned_to_sender, returned,  none,  none>,
        // Put right by a new parcel or a refund: final, its goods no longer
        // count toward its orders.
        front::Row<lost,      events::reshipped,          resolved,  none,  none>,
        front::Row<lost,      events::refunded,           resolved,  none,  none>,
        front::Row<returned,  events::reshipped,          resolved,  none,  none>,
        front::Row<returned,  events::refunded,           resolved,  none,  none>,
        //        +----------+---------------------------+----------+------+-----+
        // Only parcels still in the warehouse can be cancelled (or merged).
        front::Row<planned,   events::cancelled,          cancelled, none,  none>,
        front::Row<picking,   events::cancelled,          cancelled, none,  none>,
        front::Row<packed,    events::cancelled,          cancelled, none,  none>
        //        +----------+---------------------------+----------+------+-----+
    > {};
    // clang-format on
};

using shipment_machine =
    detail::msm::facade<shipment_machine_def, all_shipment_states, all_shipment_events>;

/// States in which nothing more is expected of the parcel.
constexpr std::array shipment_ends = {shipment_state::delivered, shipment_state::cancelled,
                                      shipment_state::resolved};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order.
constexpr std::array<detail::msm::driven<shipment_event>, all_shipment_events.size()>
    shipment_drivers = {{
        {shipment_event::wave_planned, by(D::staff)},
        {shipment_event::packed, by(D::staff)},
        {shipment_event::handed_over, by(D::staff)},
        {shipment_event::carrier_progress, by(D::carrier)},
        {shipment_event::delivered, by(D::carrier)},
        {shipment_event::returned_to_sender, by(D::carrier)},
        // The carrier, a person, or due work after fulfilment.lost_after.
        {shipment_event::declared_lost, by(D::carrier, D::staff, D::clock)},
        // The customer's or an operator's cancel, or orderly merging parcels.
        {shipment_event::cancelled, by(D::customer, D::staff, D::engine)},
        {shipment_event::reshipped, by(D::staff)},
        // A person, or due work after fulfilment.auto_refund_after.
        {shipment_event::refunded, by(D::staff, D::clock)},
    }};
static_assert(detail::msm::covers_in_order(shipment_drivers, all_shipment_events));

}  // namespace

result<shipment_state> next_shipment_state(shipment_state from, shipment_event event) {
    return shipment_machine::next("shipment", from, event, detail::msm::no_facts{});
}

std::vector<transition_row> shipment_machine_rows() {
    return shipment_machine::rows();
}

std::string shipment_machine_dot() {
    return detail::render_dot(shipment_machine_description());
}

std::string shipment_machine_mermaid() {
    return detail::render_mermaid(shipment_machine_description());
}

machine_description shipment_machine_description() {
    return shipment_machine::describe("shipment", shipment_ends, shipment_drivers);
}

}  // namespace orderly
