// Tracking histories: validation of carrier events, de-duplication,
// event-time order and the replay through the tracking machine, behind
// orderly/logistics/tracking.hpp.
#include <orderly/logistics/tracking.hpp>

#include <orderly/core/address.hpp>
#include <orderly/logistics/tracking_machine.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly {

namespace detail {

/// The one writer of a history's entries besides its constructor.
struct tracking_history_access {
    /// The entries, for apply_carrier_event() and rebuild_tracking_history().
    static std::vector<tracking_entry>& entries(tracking_history& history) noexcept {
        return history.entries_;
    }
};

}  // namespace detail

namespace {

using access = detail::tracking_history_access;

/// History order: the carrier's event time, then the kind's numeric value
/// (the order things happen on a parcel's way). Strict and total over the
/// entries of one history, since no two share both kind and time.
bool comes_before(const carrier_event& a, const carrier_event& b) noexcept {
    if (a.occurred_at != b.occurred_at) {
        return a.occurred_at < b.occurred_at;
    }
    return a.kind < b.kind;
}

/// Whether `incoming` is a repeat of the recorded event.
bool same_event(const carrier_event& recorded, const carrier_event& incoming) noexcept {
    if (!incoming.id.empty() && recorded.id == incoming.id) {
        return true;
    }
    return recorded.kind == incoming.kind && recorded.occurred_at == incoming.occurred_at;
}

bool is_recorded(const std::vector<tracking_entry>& entries, const carrier_event& event) noexcept {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const tracking_entry& entry) { return same_event(entry.event, event); });
}

bool known(tracking_event kind) noexcept {
    const auto value = static_cast<std::size_t>(kind);
    return value >= 1 && value <= all_tracking_events.size();
}

std::optional<error> check_event_id(std::string_view id) {
    if (id.size() > tracking_limits::event_id_bytes) {
        return error{errc::invalid_value, "id",
                     fmt::format("must be at most {} characters", tracking_limits::event_id_bytes)};
    }
    const bool visible =
        std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c <= '~'; });
    if (!visible) {
        return error{errc::invalid_value, "id",
                     "may hold only visible ASCII characters, no spaces"};
    }
    return std::nullopt;
}

std::optional<error> check_carrier_text(std::string_view text, std::string_view field,
                                        std::size_t max_bytes) {
    if (text.size() > max_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} bytes", max_bytes)};
    }
    switch (detail::scan_text(text)) {
        case detail::text_fault::none:
            return std::nullopt;
        case detail::text_fault::invalid_utf8:
            return error{errc::invalid_value, std::string(field), "is not valid UTF-8 text"};
        case detail::text_fault::control_character:
            return error{errc::invalid_value, std::string(field),
                         "must not contain control characters such as line breaks or tabs"};
    }
    return std::nullopt;
}

/// Inserts a new event at its place in event-time order; returns its index.
/// Its `superseded` and `state_after` are set by the replay that must follow.
std::size_t insert_in_order(std::vector<tracking_entry>& entries, const carrier_event& event) {
    const auto at = std::upper_bound(entries.begin(), entries.end(), event,
                                     [](const carrier_event& e, const tracking_entry& entry) {
                                         return comes_before(e, entry.event);
                                     });
    const auto index = static_cast<std::size_t>(std::distance(entries.begin(), at));
    entries.insert(at, tracking_entry{event, false, tracking_state::label_created});
    return index;
}

/// Replays entries[from…] through the tracking machine, starting from the
/// state entries[from − 1] left (label_created at the start). An event the
/// machine refuses where it stands is superseded and leaves the state alone.
void replay_from(std::vector<tracking_entry>& entries, std::size_t from) {
    tracking_state state =
        from == 0 ? tracking_state::label_created : entries[from - 1].state_after;
    for (std::size_t i = from; i < entries.size(); ++i) {
        tracking_entry& entry = entries[i];
        const result<tracking_state> next = next_tracking_state(state, entry.event.kind);
        // Kinds were validated and states come from the machine, so a refusal
        // is the only error possible.
        assert(next.has_value() || next.error().code == errc::transition_not_allowed);
        entry.superseded = !next.has_value();
        if (next.has_value()) {
            state = *next;
        }
        entry.state_after = state;
    }
}

error history_full() {
    return error{errc::overflow, "events",
                 fmt::format("a shipment's tracking history holds at most {} distinct events",
                             tracking_limits::events)};
}

/// The customer message for a change from `before` to the history's state,
/// filled from the newest event that counts.
std::optional<tracking_notice> notice_for(tracking_state before, const tracking_history& history) {
    const tracking_state after = history.state();
    const std::optional<tracking_notice_kind> kind = tracking_notice_for(before, after);
    if (!kind) {
        return std::nullopt;
    }
    const tracking_entry* head = history.latest_counted();
    // The state changed, so some event counts: label_created is never reached again.
    assert(head != nullptr);
    return tracking_notice{*kind, after, head->event.occurred_at, head->event.location,
                           head->event.detail};
}

}  // namespace

result<void> validate(const carrier_event& event) {
    if (!known(event.kind)) {
        return error{errc::invalid_value, "kind",
                     fmt::format("tracking event value {} is not one orderly knows",
                                 static_cast<unsigned>(event.kind))};
    }
    if (std::optional<error> problem = check_event_id(event.id)) {
        return *std::move(problem);
    }
    if (std::optional<error> problem =
            check_carrier_text(event.location, "location", tracking_limits::location_bytes)) {
        return *std::move(problem);
    }
    if (std::optional<error> problem =
            check_carrier_text(event.detail, "detail", tracking_limits::detail_bytes)) {
        return *std::move(problem);
    }
    return {};
}

const tracking_entry* tracking_history::latest_counted() const noexcept {
    const auto found = std::find_if(entries_.rbegin(), entries_.rend(),
                                    [](const tracking_entry& entry) { return !entry.superseded; });
    return found == entries_.rend() ? nullptr : &*found;
}

timestamp tracking_history::last_progress_at() const noexcept {
    const tracking_entry* head = latest_counted();
    if (head == nullptr) {
        return label_created_at_;
    }
    return std::max(label_created_at_, head->event.occurred_at);
}

result<tracking_update> apply_carrier_event(const tracking_history& history,
                                            const carrier_event& event) {
    if (result<void> valid = validate(event); !valid.has_value()) {
        return valid.error();
    }
    const tracking_state before = history.state();
    if (is_recorded(history.entries(), event)) {
        return tracking_update{history,
                               {carrier_event_outcome::duplicate, before, before, std::nullopt}};
    }
    if (history.entries().size() >= tracking_limits::events) {
        return history_full();
    }
    tracking_history next = history;
    std::vector<tracking_entry>& entries = access::entries(next);
    const std::size_t index = insert_in_order(entries, event);
    replay_from(entries, index);
    carrier_event_report report{entries[index].superseded ? carrier_event_outcome::superseded
                                                          : carrier_event_outcome::applied,
                                before, next.state(), notice_for(before, next)};
    return tracking_update{std::move(next), std::move(report)};
}

result<tracking_history> rebuild_tracking_history(timestamp label_created_at,
                                                  std::span<const carrier_event> events) {
    tracking_history history(label_created_at);
    std::vector<tracking_entry>& entries = access::entries(history);
    for (std::size_t i = 0; i < events.size(); ++i) {
        const carrier_event& event = events[i];
        if (result<void> valid = validate(event); !valid.has_value()) {
            return valid.error().within(fmt::format("events[{}]", i));
        }
        if (is_recorded(entries, event)) {
            continue;
        }
        if (entries.size() >= tracking_limits::events) {
            return history_full();
        }
        insert_in_order(entries, event);
    }
    replay_from(entries, 0);  // Once, after every insertion.
    return history;
}

}  // namespace orderly
