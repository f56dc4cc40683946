#pragma once
// Boost.MSM plumbing shared by the lifecycle machines: guard names, the rows
// of a transition table as text, the map between a public state enum and
// MSM's state ids, and restoring a machine at a stored state.
//
// Internal to src/lifecycle/ and included only by the machine translation
// units. Those sources carry BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS and the
// raised MPL/Fusion limits as compile definitions (see CMakeLists.txt): the
// limits must be set before the first MPL header is read, which is why they
// are not defined here.

#include <orderly/core/error.hpp>
#include <orderly/lifecycle/transition.hpp>

#include <fmt/format.h>

#include <boost/mpl/for_each.hpp>
#include <boost/mpl/placeholders.hpp>
#include <boost/mpl/size.hpp>
#include <boost/msm/back/metafunctions.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/common.hpp>
#include <boost/msm/front/functor_row.hpp>

#include <array>
#include <cassert>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderly::detail::msm {

/// Concatenates two names at compile time, so composed guard names ("not
/// cash_on_delivery", "held_from == paid") are constants like the others.
template <std::size_t Size>
[[nodiscard]] constexpr std::array<char, Size> join(std::string_view head,
                                                    std::string_view tail) noexcept {
    std::array<char, Size> text{};
    std::size_t at = 0;
    for (const char c : head) {
        text[at++] = c;
    }
    for (const char c : tail) {
        text[at++] = c;
    }
    return text;
}

/// A guard that holds when `Guard` does not; named "not <Guard's name>" so the
/// diagrams read like the requirements.
template <class Guard>
struct negation {
private:
    static constexpr std::string_view prefix = "not ";
    static constexpr auto text = join<prefix.size() + Guard::name.size()>(prefix, Guard::name);

public:
    /// "not " followed by the negated guard's name.
    static constexpr std::string_view name{text.data(), text.size()};

    /// MSM's guard call: source and target states are not needed.
    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& event, Machine& machine, Source& source,
                    Target& target) const noexcept {
        return !Guard{}(event, machine, source, target);
    }
};

/// The ticket or case was escalated from `State` (the machine's
/// facts.escalated_from): an escalated one accepts what that state accepts,
/// so each origin has its own rows; named "escalated_from == <State>".
template <class State>
struct escalated_from_is {
private:
    static constexpr std::string_view prefix = "escalated_from == ";
    static constexpr auto text = join<prefix.size() + State::name.size()>(prefix, State::name);

public:
    static constexpr std::string_view name{text.data(), text.size()};

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.escalated_from == State::value;
    }
};

/// A guard that holds when `First` and `Second` both do; named "<First> and
/// <Second>" so one row covers, say, an escalated ticket's type and origin.
template <class First, class Second>
struct both {
private:
    static constexpr std::string_view infix = " and ";
    static constexpr auto head = join<First::name.size() + infix.size()>(First::name, infix);
    static constexpr auto text = join<head.size() + Second::name.size()>(
        std::string_view{head.data(), head.size()}, Second::name);

public:
    static constexpr std::string_view name{text.data(), text.size()};

    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& event, Machine& machine, Source& source,
                    Target& target) const noexcept {
        return First{}(event, machine, source, target) && Second{}(event, machine, source, target);
    }
};

/// A row's guard name: the guard's own `name`, or "" for a row without one.
template <class Guard>
inline constexpr std::string_view guard_name = Guard::name;

/// Rows without a guard carry MSM's `none`, which has no name.
template <>
inline constexpr std::string_view guard_name<boost::msm::front::none> = "";

/// Collects one transition_row per Row of a table; called by mpl::for_each
/// with each row type wrapped, so no row object is ever built.
class row_collector {
public:
    /// Appends to `rows`, which must outlive the collector.
    explicit row_collector(std::vector<transition_row>& rows) noexcept : rows_(&rows) {}

    /// One row of the table, by its states', event's and guard's names.
    template <class Row>
    void operator()(boost::msm::wrap<Row> /*unused*/) const {
        rows_->push_back(transition_row{std::string(Row::Source::name), std::string(Row::Evt::name),
                                        std::string(Row::Target::name),
                                        std::string(guard_name<typename Row::Guard>)});
    }

private:
    std::vector<transition_row>* rows_;
};

/// The rows of a front-end's transition table, in table order. Generated from
/// the very type MSM compiles, so the text cannot drift from the machine.
template <class FrontEnd>
[[nodiscard]] std::vector<transition_row> rows_of() {
    using table = typename FrontEnd::transition_table;
    std::vector<transition_row> rows;
    rows.reserve(boost::mpl::size<table>::value);
    boost::mpl::for_each<table, boost::msm::wrap<boost::mpl::placeholders::_1>>(
        row_collector(rows));
    return rows;
}

/// The two-way map between a public state enum (values 1…Count, stable,
/// persisted) and MSM's state ids (0…Count-1, given by the order in which
/// states first appear in the table, so they change when rows move). Built
/// from MSM's own state list and get_state_id, never written by hand.
template <class Machine, class Enum, std::size_t Count>
class state_id_map {
public:
    /// Walks every state type of the machine once.
    state_id_map() noexcept {
        static_assert(boost::mpl::size<typename Machine::state_list>::value == Count,
                      "every state of the enum must appear in the transition table, once");
        boost::mpl::for_each<typename Machine::state_list,
                             boost::msm::wrap<boost::mpl::placeholders::_1>>(filler{this});
    }

    /// True when `state` is one of the enum's named values.
    [[nodiscard]] static constexpr bool known(Enum state) noexcept {
        const auto value = static_cast<std::size_t>(state);
        return value >= 1 && value <= Count;
    }

    /// MSM's id of a known state.
    [[nodiscard]] int msm_id(Enum state) const noexcept {
        assert(known(state));
        return to_msm_[static_cast<std::size_t>(state)];
    }

    /// The public state for an MSM id the machine reports.
    [[nodiscard]] Enum state(int msm_id) const noexcept {
        assert(msm_id >= 0 && static_cast<std::size_t>(msm_id) < Count);
        return from_msm_[static_cast<std::size_t>(msm_id)];
    }

private:
    struct filler {
        state_id_map* self;

        template <class State>
        void operator()(boost::msm::wrap<State> /*unused*/) const noexcept {
            constexpr int id = boost::msm::back::get_state_id<typename Machine::stt, State>::value;
            static_assert(id >= 0 && static_cast<std::size_t>(id) < Count);
            static_assert(known(State::value));
            self->to_msm_[static_cast<std::size_t>(State::value)] = id;
            self->from_msm_[static_cast<std::size_t>(id)] = State::value;
        }
    };

    std::array<int, Count + 1> to_msm_{};  // Indexed by the enum's value; [0] unused.
    std::array<Enum, Count> from_msm_{};   // Indexed by MSM's id.
};

/// Puts a freshly constructed machine in the state with MSM id `msm_id`,
/// as if it had always been there.
///
/// Why this way: a stored order keeps only its state, so restoring must
/// neither replay the history that led there nor run entry actions. MSM 1.81
/// has no setter for the active state; its ids live in the private array
/// `m_states`, reachable only by serialization or through the pointer
/// `current_state()` returns. The back-end's constructor already set the
/// initial state without calling any on_entry (only start() does, and these
/// machines never call it; their states have no entry actions either), so
/// overwriting the id is the whole restore. Writing through const_cast is
/// well defined: the array itself is not const, only the accessor's view is.
template <class Machine>
void restore_active_state(Machine& machine, int msm_id) noexcept {
    static_assert(Machine::nr_regions::value == 1, "lifecycle machines have one region");
    const_cast<int*>(machine.current_state())[0] = msm_id;
}

/// What became of one event.
enum class dispatch_outcome {
    moved,            ///< A row fired; the machine is in its target state.
    no_row,           ///< No row for this event in this state (no_transition ran).
    guards_rejected,  ///< Rows exist, but every one's guard failed.
};

/// Processes `event` and says what happened. The front-end's no_transition
/// sets `refused` instead of asserting; MSM reports a guard rejection only
/// through process_event's return value.
template <class Machine, class Event>
[[nodiscard]] dispatch_outcome dispatch(Machine& machine, const Event& event) noexcept {
    machine.refused = false;
    const auto handled = machine.process_event(event);
    if (machine.refused) {
        return dispatch_outcome::no_row;
    }
    return handled == boost::msm::back::HANDLED_TRUE ? dispatch_outcome::moved
                                                     : dispatch_outcome::guards_rejected;
}

/// The body both machines' facades share: check the stored state, build a
/// machine per call (a few stores, no allocation, no entry actions, nothing
/// shared between threads), restore it, fire the event through `fire` (the
/// facade's switch from the public event to the MSM event type; empty for a
/// value outside the enum) and turn the outcome into the public state or an
/// error. `kind` names the machine in messages ("order", "payment").
template <class Machine, class State, class Event, class Facts, class Ids, class Fire>
[[nodiscard]] result<State> next_state(const Ids& ids, std::string_view kind, State from,
                                       Event event, const Facts& facts, Fire fire) {
    if (!ids.known(from)) {
        return error{errc::invalid_value, "state",
                     fmt::format("{} state value {} is not one orderly knows", kind,
                                 static_cast<unsigned>(from))};
    }
    Machine machine;
    machine.facts = facts;
    restore_active_state(machine, ids.msm_id(from));
    const std::optional<dispatch_outcome> outcome = fire(machine, event);
    if (!outcome) {
        return error{errc::invalid_value, "event",
                     fmt::format("{} event value {} is not one orderly knows", kind,
                                 static_cast<unsigned>(event))};
    }
    switch (*outcome) {
        case dispatch_outcome::moved:
            return ids.state(machine.current_state()[0]);
        case dispatch_outcome::no_row:
            return error{errc::transition_not_allowed, "state",
                         fmt::format("event '{}' is not allowed in state '{}'", to_string(event),
                                     to_string(from))};
        case dispatch_outcome::guards_rejected:
            break;
    }
    return error{errc::transition_not_allowed, "state",
                 fmt::format("event '{}' is not allowed in state '{}' with these facts",
                             to_string(event), to_string(from))};
}

}  // namespace orderly::detail::msm
