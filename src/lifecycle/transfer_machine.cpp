// The stock transfer state machine in Boost.MSM's functor
// front-end, behind the facade in orderly/inventory/transfer_machine.hpp.
// This is the only translation unit that compiles it: MSM is expensive to
// compile and hosts never see it.
#include <orderly/inventory/transfer_machine.hpp>

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

/// The front-end: the table only. No guards: a transfer on its way is
/// either received or called back.
struct transfer_machine_def
    : detail::msm::machine_def<transfer_machine_def, detail::msm::no_facts> {
    // Short local names keep the ruled table readable.
    using in_transit = state_type<transfer_state::in_transit>;
    using received = state_type<transfer_state::received>;
    using cancelled = state_type<transfer_state::cancelled>;
    using none = front::none;

    struct events {
        using received = event_type<transfer_event::received>;
        using cancelled = event_type<transfer_event::cancelled>;
    };

    // Created in_transit by its dispatch: there is no state before it.
    using initial_state = in_transit;

    // 2 rows; this source compiles with BOOST_MPL_LIMIT_VECTOR_SIZE=10
    // (CMakeLists.txt).
    // clang-format off
    struct transition_table : boost::mpl::vector<
        //         Source      Event              Target     Action Guard
        //        +-----------+------------------+----------+------+-----+
        front::Row<in_transit, events::received,  received,  none,  none>,
        // Called back before it arrived: the units are on hand at the source again.
        front::Row<in_transit, events::cancelled, cancelled, none,  none>
        //        +-----------+------------------+----------+------+-----+
    > {};
    // clang-format on
};

using transfer_machine =
    detail::msm::facade<transfer_machine_def, all_transfer_states, all_transfer_events>;

/// Both ends of a transfer: it arrived, or it was called back.
constexpr std::array transfer_ends = {transfer_state::received, transfer_state::cancelled};

using detail::msm::by;
using D = event_driver;

/// Who drives each event, in the enum's order: the warehouse staff at
/// either end.
constexpr std::array<detail::msm::driven<transfer_event>, all_transfer_events.size()>
    transfer_drivers = {{
        {transfer_event::received, by(D::staff)},
        {transfer_event::cancelled, by(D::staff)},
    }};
static_assert(detail::msm::covers_in_order(transfer_drivers, all_transfer_events));

}  // namespace

result<transfer_state> next_transfer_state(transfer_state from, transfer_event event) {
    return transfer_machine::next("transfer", from, event, detail::msm::no_facts{});
}

std::vector<transition_row> transfer_machine_rows() {
    return transfer_machine::rows();
}

std::string transfer_machine_dot() {
    return detail::render_dot(transfer_machine_description());
}

std::string transfer_machine_mermaid() {
    return detail::render_mermaid(transfer_machine_description());
}

machine_description transfer_machine_description() {
    return transfer_machine::describe("transfer", transfer_ends, transfer_drivers);
}

}  // namespace orderly
