#pragma once
/// \file
/// Shipment tracking (R-21, and the delay rule of R-22): the carrier's events
/// for one parcel, kept as a history ordered by the carrier's event time, and
/// the shipment's tracking state derived from that history by the tracking
/// machine (orderly/logistics/tracking_machine.hpp).
///
/// Carriers repeat events (webhook retries, polling overlaps) and deliver them
/// out of order (scanners upload in batches, several systems report one
/// parcel). apply_carrier_event() therefore records each distinct event once,
/// keeps the history sorted by event time, and derives the state by replaying
/// the history in that order: the result never depends on the order in which
/// events arrived. Nothing here talks to a store, a clock or a notifier.

#include <orderly/core/error.hpp>
#include <orderly/core/time.hpp>

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

namespace detail {
/// Lets apply_carrier_event()'s implementation write a history's entries.
struct tracking_history_access;
}  // namespace detail

/// Where a parcel is, as far as its carrier has told us. Stored values never
/// change; they are not Boost.MSM's state ids.
enum class tracking_state : std::uint8_t {
    label_created = 1,       ///< A label exists; the carrier has not scanned the parcel yet.
    picked_up = 2,           ///< The carrier collected the parcel.
    in_transit = 3,          ///< Moving between facilities.
    at_hub = 4,              ///< At a sorting hub or depot.
    out_for_delivery = 5,    ///< On the last mile: arriving today.
    delivered = 6,           ///< Handed over to the recipient, a locker or a pickup point.
    delivery_failed = 7,     ///< An attempt failed; the carrier may retry or send it back.
    returned_to_sender = 8,  ///< The carrier gave up and is sending it back to the sender.
    lost = 9,                ///< The carrier reports the parcel lost.
};

/// Every tracking state, in numeric order.
inline constexpr std::array<tracking_state, 9> all_tracking_states = {
    tracking_state::label_created,   tracking_state::picked_up,          tracking_state::in_transit,
    tracking_state::at_hub,          tracking_state::out_for_delivery,   tracking_state::delivered,
    tracking_state::delivery_failed, tracking_state::returned_to_sender, tracking_state::lost};

/// The stable name of a tracking state ("out_for_delivery").
[[nodiscard]] constexpr std::string_view to_string(tracking_state s) noexcept {
    switch (s) {
        case tracking_state::label_created:
            return "label_created";
        case tracking_state::picked_up:
            return "picked_up";
        case tracking_state::in_transit:
            return "in_transit";
        case tracking_state::at_hub:
            return "at_hub";
        case tracking_state::out_for_delivery:
            return "out_for_delivery";
        case tracking_state::delivered:
            return "delivered";
        case tracking_state::delivery_failed:
            return "delivery_failed";
        case tracking_state::returned_to_sender:
            return "returned_to_sender";
        case tracking_state::lost:
            return "lost";
    }
    return "unknown";
}

/// True while the carrier is still expected to move the parcel: from
/// label_created up to a failed attempt awaiting retry. False once it is
/// delivered or returned, and for lost (an exception case has taken over), so
/// the delay rule leaves those alone.
[[nodiscard]] constexpr bool tracking_in_progress(tracking_state s) noexcept {
    switch (s) {
        case tracking_state::label_created:
        case tracking_state::picked_up:
        case tracking_state::in_transit:
        case tracking_state::at_hub:
        case tracking_state::out_for_delivery:
        case tracking_state::delivery_failed:
            return true;
        case tracking_state::delivered:
        case tracking_state::returned_to_sender:
        case tracking_state::lost:
            return false;
    }
    return false;
}

/// What a carrier reports about a parcel: facts in the past tense. Numbered in
/// the order they happen on a parcel's way, which is also how two events with
/// the same event time are ordered in a history. Stored values never change.
enum class tracking_event : std::uint8_t {
    picked_up = 1,                ///< The carrier collected the parcel from the sender.
    departed_facility = 2,        ///< The parcel left a facility and is moving (in transit).
    arrived_at_hub = 3,           ///< The parcel was scanned in at a sorting hub or depot.
    sent_out_for_delivery = 4,    ///< Loaded for the last mile.
    delivery_attempt_failed = 5,  ///< An attempt failed (nobody home, refused, bad address, ...).
    delivered = 6,                ///< Handed over to the recipient, a locker or a pickup point.
    returned_to_sender = 7,       ///< The carrier gave up and sends the parcel back.
    declared_lost = 8,            ///< The carrier declared the parcel lost.
};

/// Every tracking event, in numeric order.
inline constexpr std::array<tracking_event, 8> all_tracking_events = {
    tracking_event::picked_up,
    tracking_event::departed_facility,
    tracking_event::arrived_at_hub,
    tracking_event::sent_out_for_delivery,
    tracking_event::delivery_attempt_failed,
    tracking_event::delivered,
    tracking_event::returned_to_sender,
    tracking_event::declared_lost};

/// The stable name of a tracking event ("arrived_at_hub").
[[nodiscard]] constexpr std::string_view to_string(tracking_event e) noexcept {
    switch (e) {
        case tracking_event::picked_up:
            return "picked_up";
        case tracking_event::departed_facility:
            return "departed_facility";
        case tracking_event::arrived_at_hub:
            return "arrived_at_hub";
        case tracking_event::sent_out_for_delivery:
            return "sent_out_for_delivery";
        case tracking_event::delivery_attempt_failed:
            return "delivery_attempt_failed";
        case tracking_event::delivered:
            return "delivered";
        case tracking_event::returned_to_sender:
            return "returned_to_sender";
        case tracking_event::declared_lost:
            return "declared_lost";
    }
    return "unknown";
}

/// Limits on carrier events and histories: text from a carrier is outside
/// input, and a history must not grow without bound.
struct tracking_limits {
    /// Longest carrier event id, in bytes (visible ASCII).
    static constexpr std::size_t event_id_bytes = 128;
    /// Longest location text, in bytes of UTF-8.
    static constexpr std::size_t location_bytes = 256;
    /// Longest detail text, in bytes of UTF-8.
    static constexpr std::size_t detail_bytes = 1024;
    /// Most distinct events one shipment's history keeps. A long international
    /// journey has well under a hundred; more is a carrier fault.
    static constexpr std::size_t events = 500;
};

/// One event as the carrier reported it. Two events are the same event, and
/// recorded once, when they have the same non-empty carrier id, or the same
/// kind and the same event time.
struct carrier_event {
    /// The carrier's own id of this event; empty when the carrier gives none.
    /// At most tracking_limits::event_id_bytes of visible ASCII.
    std::string id;
    /// What happened.
    tracking_event kind{tracking_event::picked_up};
    /// When it happened, by the carrier's clock: what the history is ordered by.
    timestamp occurred_at;
    /// When orderly received it (from the Clock port): kept for audit and
    /// support ("the carrier told us three days late"); no rule depends on it.
    timestamp received_at;
    /// Where, as the carrier wrote it ("Shanghai Pudong hub"); may be empty.
    std::string location;
    /// The carrier's remark ("recipient not at home"); may be empty.
    std::string detail;

    /// Events are equal when every field is.
    friend bool operator==(const carrier_event&, const carrier_event&) = default;
};

/// Checks a carrier event: the kind is one orderly knows (invalid_value,
/// field "kind"); the id is at most tracking_limits::event_id_bytes of
/// visible ASCII (invalid_value, field "id"); location and detail are within
/// their limits, valid UTF-8 and free of control characters (invalid_value,
/// field "location" or "detail"; hosts turn line breaks into spaces).
[[nodiscard]] result<void> validate(const carrier_event& event);

/// One recorded event and how it counts in the shipment's state.
struct tracking_entry {
    /// The event, as first received.
    carrier_event event;
    /// True when the machine refuses this event at its place in event-time
    /// order (a pickup scan after delivery, anything after returned_to_sender):
    /// the entry is kept and shown, but does not count toward the state or
    /// progress. It counts again if an earlier event arrives later and makes
    /// it legal where it stands.
    bool superseded{false};
    /// The shipment's state after this entry in event-time order (the state
    /// before it when superseded).
    tracking_state state_after{tracking_state::label_created};

    /// Entries are equal when every field is.
    friend bool operator==(const tracking_entry&, const tracking_entry&) = default;
};

/// What became of one carrier event given to apply_carrier_event(). Stored
/// values never change.
enum class carrier_event_outcome : std::uint8_t {
    applied = 1,     ///< New: recorded, and it counts toward the state.
    superseded = 2,  ///< New: recorded, but refused at its place; it does not count.
    duplicate = 3,   ///< Already recorded (same id, or same kind and time): nothing changed.
};

/// The stable name of an outcome ("duplicate").
[[nodiscard]] constexpr std::string_view to_string(carrier_event_outcome o) noexcept {
    switch (o) {
        case carrier_event_outcome::applied:
            return "applied";
        case carrier_event_outcome::superseded:
            return "superseded";
        case carrier_event_outcome::duplicate:
            return "duplicate";
    }
    return "unknown";
}

/// Which message the customer should get about a tracking change; the host's
/// templates turn it into text. Stored values never change.
enum class tracking_notice_kind : std::uint8_t {
    on_its_way = 1,          ///< The carrier has the parcel (its first scan).
    out_for_delivery = 2,    ///< Arriving today (also after a failed attempt).
    delivered = 3,           ///< Delivered.
    delivery_failed = 4,     ///< An attempt failed; the detail text says why.
    returned_to_sender = 5,  ///< Going back to the sender.
    lost = 6,                ///< The carrier reports the parcel lost.
    found = 7,               ///< Moving again after it was reported lost.
};

/// Every notice kind, in numeric order.
inline constexpr std::array<tracking_notice_kind, 7> all_tracking_notice_kinds = {
    tracking_notice_kind::on_its_way,
    tracking_notice_kind::out_for_delivery,
    tracking_notice_kind::delivered,
    tracking_notice_kind::delivery_failed,
    tracking_notice_kind::returned_to_sender,
    tracking_notice_kind::lost,
    tracking_notice_kind::found};

/// The stable name of a notice kind ("on_its_way").
[[nodiscard]] constexpr std::string_view to_string(tracking_notice_kind k) noexcept {
    switch (k) {
        case tracking_notice_kind::on_its_way:
            return "on_its_way";
        case tracking_notice_kind::out_for_delivery:
            return "out_for_delivery";
        case tracking_notice_kind::delivered:
            return "delivered";
        case tracking_notice_kind::delivery_failed:
            return "delivery_failed";
        case tracking_notice_kind::returned_to_sender:
            return "returned_to_sender";
        case tracking_notice_kind::lost:
            return "lost";
        case tracking_notice_kind::found:
            return "found";
    }
    return "unknown";
}

/// The customer message a tracking change calls for, taken from the newest
/// event that counts toward the state. orderly does not send it: the caller
/// puts it in its outbox.
struct tracking_notice {
    tracking_notice_kind kind{tracking_notice_kind::on_its_way};  ///< Which message.
    tracking_state state{tracking_state::label_created};          ///< The state now.
    timestamp occurred_at;  ///< When the carrier saw what the message is about.
    std::string location;   ///< Where, as the carrier wrote it; may be empty.
    std::string detail;     ///< The carrier's remark (why an attempt failed); may be empty.

    /// Notices are equal when every field is.
    friend bool operator==(const tracking_notice&, const tracking_notice&) = default;
};

/// The message, if any, for a change of the shipment's state from `before`
/// to `after`. Only changes a customer acts on or waits for are announced:
/// the first carrier scan, out for delivery, delivered, a failed attempt, a
/// return, a loss and a parcel found again. Moves between facilities
/// (in_transit ⇄ at_hub) are shown in the tracking list but not pushed; no
/// change, no message.
[[nodiscard]] constexpr std::optional<tracking_notice_kind> tracking_notice_for(
    tracking_state before, tracking_state after) noexcept {
    if (before == after) {
        return std::nullopt;
    }
    switch (after) {
        case tracking_state::picked_up:
            return tracking_notice_kind::on_its_way;
        case tracking_state::in_transit:
        case tracking_state::at_hub:
            if (before == tracking_state::label_created) {
                return tracking_notice_kind::on_its_way;  // The pickup scan was skipped.
            }
            if (before == tracking_state::lost) {
                return tracking_notice_kind::found;
            }
            return std::nullopt;
        case tracking_state::out_for_delivery:
            return tracking_notice_kind::out_for_delivery;
        case tracking_state::delivered:
            return tracking_notice_kind::delivered;
        case tracking_state::delivery_failed:
            return tracking_notice_kind::delivery_failed;
        case tracking_state::returned_to_sender:
            return tracking_notice_kind::returned_to_sender;
        case tracking_state::lost:
            return tracking_notice_kind::lost;
        case tracking_state::label_created:
            return std::nullopt;
    }
    return std::nullopt;
}

/// The carrier events of one shipment, de-duplicated and ordered by event
/// time (ties by tracking_event's numeric order), with the state each one
/// leads to. A value: copy it, compare it, store its entries. Change it only
/// through apply_carrier_event(), which keeps these invariants:
/// - no two entries are the same event (same non-empty id, or same kind and
///   time), so (occurred_at, kind) orders the entries strictly;
/// - each entry's `superseded` and `state_after` are what replaying the
///   entries before it through the tracking machine gives, starting from
///   label_created.
/// So the history, and the state, depend only on the set of distinct events,
/// never on the order they arrived in.
class tracking_history {
public:
    /// An empty history: the label was created at `label_created_at`, no
    /// carrier event yet. The delay rule counts from that instant until the
    /// first event.
    explicit tracking_history(timestamp label_created_at) noexcept
        : label_created_at_(label_created_at) {}

    /// When the label was created: the start of the shipment's tracking.
    [[nodiscard]] timestamp label_created_at() const noexcept { return label_created_at_; }

    /// The recorded events in event-time order, superseded ones included.
    [[nodiscard]] const std::vector<tracking_entry>& entries() const noexcept { return entries_; }

    /// The shipment's state: where replaying the history ends.
    [[nodiscard]] tracking_state state() const noexcept {
        return entries_.empty() ? tracking_state::label_created : entries_.back().state_after;
    }

    /// The newest entry that counts toward the state; nullptr while none
    /// does. Valid until the history changes.
    [[nodiscard]] const tracking_entry* latest_counted() const noexcept;

    /// When the parcel last made progress: the event time of the newest event
    /// that counts toward the state (a superseded event is no progress), or
    /// the label's creation time when that is later or no event counts yet.
    [[nodiscard]] timestamp last_progress_at() const noexcept;

    /// True when the parcel made progress at or after `since`, that is
    /// last_progress_at() >= since.
    [[nodiscard]] bool progressed_since(timestamp since) const noexcept {
        return last_progress_at() >= since;
    }

    /// The delay rule of R-22: the carrier still owes progress
    /// (tracking_in_progress(state())) and there was none in the `limit`
    /// before `now`, i.e. more than `limit` passed since last_progress_at().
    [[nodiscard]] bool delayed(timestamp now, duration limit) const noexcept {
        return tracking_in_progress(state()) && !progressed_since(now - limit);
    }

    /// Histories are equal when their creation time and entries are.
    friend bool operator==(const tracking_history&, const tracking_history&) = default;

private:
    friend struct detail::tracking_history_access;  // apply_carrier_event's writer.

    timestamp label_created_at_;
    std::vector<tracking_entry> entries_;
};

/// What apply_carrier_event() reports about the event it was given.
struct carrier_event_report {
    /// Recorded and counted, recorded but superseded, or a duplicate.
    carrier_event_outcome outcome{carrier_event_outcome::duplicate};
    /// The shipment's state before the event.
    tracking_state state_before{tracking_state::label_created};
    /// The shipment's state after it (equal to state_before unless applied).
    tracking_state state_after{tracking_state::label_created};
    /// The customer message the change calls for; empty when none.
    std::optional<tracking_notice> notice;

    /// True when the event was new (applied or superseded): the caller has
    /// a changed history to store.
    [[nodiscard]] bool recorded() const noexcept {
        return outcome != carrier_event_outcome::duplicate;
    }

    /// Reports are equal when every field is.
    friend bool operator==(const carrier_event_report&, const carrier_event_report&) = default;
};

/// A history with one more carrier event applied, and what became of it.
struct tracking_update {
    tracking_history history;     ///< The history after the event.
    carrier_event_report report;  ///< What the event did.
};

/// Applies one carrier event to a history, without changing `history`: a pure
/// function of its arguments.
///
/// A repeat of a recorded event (same non-empty id, or same kind and event
/// time) is reported `duplicate` and changes nothing; the first copy received
/// is the one kept. A new event is inserted at its place in event-time order
/// and the state is replayed from there through the tracking machine: the
/// event is `applied` when the machine accepts it at its place, and
/// `superseded` when it refuses it there (kept, never lost, but not counted;
/// see tracking_entry::superseded). Entries after it are replayed too, so a
/// late event can make a later one count, or stop counting.
///
/// Errors: the event fails validate() (its error), or the history already
/// holds tracking_limits::events distinct events (errc::overflow, field
/// "events"); the history is unchanged either way.
[[nodiscard]] result<tracking_update> apply_carrier_event(const tracking_history& history,
                                                          const carrier_event& event);

/// Builds the history of a shipment from stored events, in any order, with
/// repeats: what a store that keeps only the raw events calls to restore one.
/// The state is defined as the replay of the events, so this is no replay of
/// a machine's history in STYLE.md's sense: no MSM state id is stored and
/// nothing fires. The first invalid event is returned as the error, its field
/// under "events[i]".
[[nodiscard]] result<tracking_history> rebuild_tracking_history(
    timestamp label_created_at, std::span<const carrier_event> events);

}  // namespace orderly

/// Formats a tracking state as its name.
template <>
struct fmt::formatter<orderly::tracking_state> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::tracking_state s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};

/// Formats a tracking event as its name.
template <>
struct fmt::formatter<orderly::tracking_event> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::tracking_event e, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(e), ctx);
    }
};

/// Formats a carrier event outcome as its name.
template <>
struct fmt::formatter<orderly::carrier_event_outcome> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::carrier_event_outcome o, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(o), ctx);
    }
};

/// Formats a notice kind as its name.
template <>
struct fmt::formatter<orderly::tracking_notice_kind> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::tracking_notice_kind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(k), ctx);
    }
};

/// Formats a carrier event as "kind at <unix ms> ms", followed by the carrier's
/// id and the location when present: "delivered at 1700000000000 ms (id E-17)
/// in Pudong".
template <>
struct fmt::formatter<orderly::carrier_event> : fmt::formatter<std::string_view> {
    /// Writes the event.
    auto format(const orderly::carrier_event& e, fmt::format_context& ctx) const {
        std::string text = fmt::format("{} at {} ms", orderly::to_string(e.kind),
                                       orderly::to_unix_ms(e.occurred_at));
        if (!e.id.empty()) {
            text += fmt::format(" (id {})", e.id);
        }
        if (!e.location.empty()) {
            text += fmt::format(" in {}", e.location);
        }
        return fmt::formatter<std::string_view>::format(text, ctx);
    }
};
