#pragma once
// Boost.MSM plumbing shared by the lifecycle machines: the state and event
// types, the front-end base, guard names, the rows of a transition table as
// text, the map between a public state enum and MSM's state ids, restoring a
// machine at a stored state, and the body every machine's facade shares.
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
#include <boost/msm/front/state_machine_def.hpp>
#include <boost/msm/front/states.hpp>

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace orderly::detail::msm {

/// A state of a machine, for one value of its public state enum: empty,
/// entry and exit do nothing (restoring relies on that), and it carries its
/// stable value and name. One template for every machine, so the tables name
/// `state_type<shipment_state::packed>` rather than a hand-written struct.
template <auto Value>
struct state_type : boost::msm::front::state<> {
    static constexpr auto value = Value;                        ///< The stored value.
    static constexpr std::string_view name = to_string(Value);  ///< The stable name.
};

/// An event of a machine, for one value of its public event enum: empty,
/// with its stable value and name. Every value of the enum is an MSM event,
/// rows or none (`placed` has none): the table, not the facade, refuses it.
template <auto Value>
struct event_type {
    static constexpr auto value = Value;                        ///< The stored value.
    static constexpr std::string_view name = to_string(Value);  ///< The stable name.
};

/// What a machine without guards reads: nothing. The shared facade body
/// still hands facts to every machine, so such a machine takes this empty set.
struct no_facts {};

/// The front-end base of every lifecycle machine (CRTP, like MSM's own
/// state_machine_def): what the guards read, and a refusal recorded instead
/// of asserted. `Derived` adds `initial_state` and `transition_table`. No
/// actions anywhere: a machine only decides the next state; the engine does
/// the work.
template <class Derived, class Facts>
struct machine_def : boost::msm::front::state_machine_def<Derived> {
    using no_exception_thrown = int;  // Guards are noexcept; MSM need not catch (msm#43).
    // Nothing posts events from inside a transition (msm#30), so the back-end
    // needs no event queue: without one, a machine is cheap enough to build per call.
    using no_message_queue = int;

    Facts facts{};        ///< Set per call; read by the guards.
    bool refused{false};  ///< Set by no_transition for the current event.

    /// A refused event is a business outcome, not a bug: record it so the
    /// facade returns an error, instead of MSM's default assert.
    template <class Machine, class Event>
    void no_transition(const Event& /*unused*/, Machine& /*unused*/, int /*state*/) noexcept {
        refused = true;
    }
};

/// A string literal as a template argument, so a guard's name can be given
/// where the guard is named (`fact<"cash_on_delivery", ...>`).
template <std::size_t Size>
struct fixed_name {
    std::array<char, Size> text{};  ///< The literal, with its terminating zero.

    /// Implicit, so a literal converts where a fixed_name is expected.
    constexpr fixed_name(const char (&literal)[Size]) noexcept {
        for (std::size_t at = 0; at < Size; ++at) {
            text[at] = literal[at];
        }
    }

    /// The name without its terminating zero.
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {text.data(), Size - 1};
    }
};

/// A guard that holds when the boolean member `Member` of the machine's
/// facts is true, named `Name` after it so the diagrams read like the
/// requirements.
template <fixed_name Name, auto Member>
struct fact {
    static constexpr std::string_view name = Name.view();  ///< The guard's name.

    /// MSM's guard call: only the facts are read.
    template <class Event, class Machine, class Source, class Target>
    bool operator()(const Event& /*unused*/, Machine& machine, Source& /*unused*/,
                    Target& /*unused*/) const noexcept {
        return machine.facts.*Member;
    }
};

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

/// The body every machine's facade shares: check the stored state, build a
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

/// A set of event drivers from any number of them: `by(staff, clock)`.
template <class... Drivers>
[[nodiscard]] constexpr event_drivers by(Drivers... drivers) noexcept {
    static_assert((std::is_same_v<Drivers, event_driver> && ...));
    return event_drivers{static_cast<std::uint8_t>((0U | ... | static_cast<unsigned>(drivers)))};
}

/// Who drives one event of a machine: a line of the machine's driver table.
template <class Event>
struct driven {
    Event event;            ///< The event.
    event_drivers drivers;  ///< Who can make it happen.
};

/// True when `table` names every value of `all`, in the same order: checked
/// at compile time, so a new event without drivers does not build.
template <class Event, std::size_t Count>
[[nodiscard]] constexpr bool covers_in_order(const std::array<driven<Event>, Count>& table,
                                             const std::array<Event, Count>& all) noexcept {
    for (std::size_t at = 0; at < Count; ++at) {
        if (table[at].event != all[at] || table[at].drivers.bits == 0) {
            return false;
        }
    }
    return true;
}

/// The body of a machine's facade, for the front-end `Def` whose states are
/// the values of `States` and whose events are the values of `Events` (the
/// enums' all_… arrays). Each machine's .cpp instantiates it once and its
/// public functions forward here, so the eight files differ only in their
/// tables, guards and driver tables.
template <class Def, const auto& States, const auto& Events>
class facade {
    using states_array = std::remove_cvref_t<decltype(States)>;
    using events_array = std::remove_cvref_t<decltype(Events)>;

public:
    using state_enum = typename states_array::value_type;  ///< The public state enum.
    using event_enum = typename events_array::value_type;  ///< The public event enum.
    /// Back-end. With no_message_queue and no deferred events it holds no
    /// queue at all, so it is built per call without allocation.
    using back_end = boost::msm::back::state_machine<Def>;
    static_assert(sizeof(back_end) <= 64, "built per call: keep the machine small");

    /// The state `event` leads to from `from` under `facts`; see next_state.
    /// `kind` names the machine in messages ("order").
    template <class Facts>
    [[nodiscard]] static result<state_enum> next(std::string_view kind, state_enum from,
                                                 event_enum event, const Facts& facts) {
        return next_state<back_end>(ids(), kind, from, event, facts, &fire);
    }

    /// The table, row by row, in table order.
    [[nodiscard]] static std::vector<transition_row> rows() { return rows_of<Def>(); }

    /// The machine described: `name`, the initial state, every state in the
    /// enum's order, `ends`, every event with its drivers, and the rows.
    template <std::size_t EndCount>
    [[nodiscard]] static machine_description describe(
        std::string_view name, const std::array<state_enum, EndCount>& ends,
        const std::array<driven<event_enum>, std::tuple_size_v<events_array>>& drivers) {
        machine_description out;
        out.name = std::string(name);
        out.initial = std::string(Def::initial_state::name);
        for (const auto s : States) {
            out.states.emplace_back(to_string(s));
        }
        for (const auto s : ends) {
            out.end_states.emplace_back(to_string(s));
        }
        for (const auto& d : drivers) {
            out.events.push_back(event_description{std::string(to_string(d.event)), d.drivers});
        }
        out.rows = rows();
        return out;
    }

private:
    using id_map = state_id_map<back_end, state_enum, std::tuple_size_v<states_array>>;

    /// The enum ⇄ MSM id map, built once (thread-safe static initialisation).
    [[nodiscard]] static const id_map& ids() noexcept {
        static const id_map map;
        return map;
    }

    /// The public event value as the MSM event type; empty for a value
    /// outside the enum (a corrupt store or a cast), which is not a refusal
    /// but bad input.
    [[nodiscard]] static std::optional<dispatch_outcome> fire(back_end& machine,
                                                              event_enum event) noexcept {
        return fire_one_of(machine, event,
                           std::make_index_sequence<std::tuple_size_v<events_array>>{});
    }

    template <std::size_t... At>
    [[nodiscard]] static std::optional<dispatch_outcome> fire_one_of(
        back_end& machine, event_enum event, std::index_sequence<At...> /*unused*/) noexcept {
        std::optional<dispatch_outcome> outcome;
        // The first value equal to `event` dispatches its own event type.
        static_cast<void>(((event == Events[At] &&
                            (outcome = dispatch(machine, event_type<Events[At]>{}), true)) ||
                           ...));
        return outcome;
    }
};

}  // namespace orderly::detail::msm
