// Tracking histories (R-21, R-22's delay rule) through the public API:
// validation of carrier events; duplicates by id and by kind and time;
// out-of-order arrival; superseded events; retries after a failed delivery;
// terminal states; a lost parcel found again; progress and delay queries;
// customer notices; limits; rebuilding. Then a seeded randomized test that
// delivers realistic journeys shuffled and repeated, and checks that the
// result never depends on the arrival order.
#include <orderly/logistics/tracking.hpp>
#include <orderly/logistics/tracking_machine.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using orderly::carrier_event;
using orderly::carrier_event_outcome;
using orderly::errc;
using orderly::timestamp;
using orderly::tracking_event;
using orderly::tracking_history;
using orderly::tracking_notice_kind;
using orderly::tracking_state;
using orderly::tracking_update;

namespace {

using S = tracking_state;
using E = tracking_event;
using namespace std::chrono_literals;

/// 2024-03-01T00:00:00Z plus `minutes`: readable event times.
timestamp at(std::int64_t minutes) {
    return orderly::from_unix_ms(1'709'251'200'000 + minutes * 60'000);
}

/// A carrier event at `minute`, received a minute later.
carrier_event event(std::string id, tracking_event kind, std::int64_t minute,
                    std::string location = "", std::string detail = "") {
    return carrier_event{std::move(id),    kind, at(minute), at(minute + 1), std::move(location),
                         std::move(detail)};
}

/// Applies an event that must be valid.
tracking_update apply(const tracking_history& history, const carrier_event& e) {
    auto r = orderly::apply_carrier_event(history, e);
    REQUIRE(r.has_value());
    return *std::move(r);
}

/// Applies events in the order given; returns the final history.
tracking_history apply_all(tracking_history history, const std::vector<carrier_event>& events) {
    for (const auto& e : events) {
        history = apply(history, e).history;
    }
    return history;
}

std::vector<tracking_event> kinds_of(const tracking_history& history) {
    std::vector<tracking_event> kinds;
    for (const auto& entry : history.entries()) {
        kinds.push_back(entry.event.kind);
    }
    return kinds;
}

std::vector<bool> superseded_of(const tracking_history& history) {
    std::vector<bool> flags;
    for (const auto& entry : history.entries()) {
        flags.push_back(entry.superseded);
    }
    return flags;
}

std::optional<tracking_notice_kind> notice_kind(const tracking_update& u) {
    if (!u.report.notice) {
        return std::nullopt;
    }
    return u.report.notice->kind;
}

}  // namespace

TEST_CASE("carrier events are validated") {
    const tracking_history empty(at(0));
    auto check_invalid = [&](const carrier_event& e, const char* field) {
        CAPTURE(field);
        const auto direct = orderly::validate(e);
        REQUIRE(direct.has_error());
        CHECK(direct.error().code == errc::invalid_value);
        CHECK(direct.error().field == field);
        const auto applied = orderly::apply_carrier_event(empty, e);
        REQUIRE(applied.has_error());
        CHECK(applied.error() == direct.error());
    };
    check_invalid(event("E1", static_cast<tracking_event>(0), 1), "kind");
    check_invalid(event("E1", static_cast<tracking_event>(9), 1), "kind");
    check_invalid(event(std::string(129, 'x'), E::picked_up, 1), "id");
    check_invalid(event("E 1", E::picked_up, 1), "id");
    check_invalid(event("E\x7f", E::picked_up, 1), "id");
    check_invalid(event("E1", E::picked_up, 1, "\xC3\x28"), "location");
    check_invalid(event("E1", E::picked_up, 1, std::string(257, 'a')), "location");
    check_invalid(event("E1", E::picked_up, 1, "", "line\nbreak"), "detail");
    check_invalid(event("E1", E::picked_up, 1, "", std::string(1025, 'a')), "detail");

    CHECK(orderly::validate(event("", E::picked_up, 1)).has_value());  // No carrier id.
    CHECK(orderly::validate(event(std::string(128, 'x'), E::delivered, 1, "上海浦东转运中心",
                                  std::string(1024, 'a')))
              .has_value());
}

TEST_CASE("a journey in order: states, outcomes and customer notices") {
    const tracking_history start(at(0));
    CHECK(start.state() == S::label_created);
    CHECK(start.entries().empty());
    CHECK(start.latest_counted() == nullptr);

    struct step {
        carrier_event e;
        tracking_state state;
        std::optional<tracking_notice_kind> notice;
    };
    const std::vector<step> steps = {
        {event("E1", E::picked_up, 10, "Shenzhen"), S::picked_up, tracking_notice_kind::on_its_way},
        {event("E2", E::departed_facility, 60, "Shenzhen"), S::in_transit, std::nullopt},
        {event("E3", E::arrived_at_hub, 300, "Wuhan hub"), S::at_hub, std::nullopt},
        {event("E4", E::departed_facility, 360, "Wuhan hub"), S::in_transit, std::nullopt},
        {event("E5", E::arrived_at_hub, 900, "Shanghai depot"), S::at_hub, std::nullopt},
        {event("E6", E::sent_out_for_delivery, 1400, "Shanghai depot"), S::out_for_delivery,
         tracking_notice_kind::out_for_delivery},
        {event("E7", E::delivered, 1500, "Pudong"), S::delivered, tracking_notice_kind::delivered},
    };
    tracking_history history = start;
    for (const auto& s : steps) {
        CAPTURE(fmt::format("{}", s.e));
        const auto u = apply(history, s.e);
        CHECK(u.report.outcome == carrier_event_outcome::applied);
        CHECK(u.report.recorded());
        CHECK(u.report.state_before == history.state());
        CHECK(u.report.state_after == s.state);
        CHECK(u.history.state() == s.state);
        CHECK(notice_kind(u) == s.notice);
        if (u.report.notice) {
            CHECK(u.report.notice->state == s.state);
            CHECK(u.report.notice->occurred_at == s.e.occurred_at);
            CHECK(u.report.notice->location == s.e.location);
        }
        history = u.history;
    }
    CHECK(history.entries().size() == steps.size());
    CHECK(history.entries().back().state_after == S::delivered);
    CHECK(history.label_created_at() == at(0));
}

TEST_CASE("applying is pure: the given history does not change") {
    const tracking_history start =
        apply_all(tracking_history(at(0)), {event("E1", E::picked_up, 10)});
    // The copy is the point: it is what `start` must still equal afterwards.
    const tracking_history copy = start;  // NOLINT(performance-unnecessary-copy-initialization)
    const auto u = apply(start, event("E2", E::arrived_at_hub, 20));
    CHECK(start == copy);
    CHECK(u.history != start);
    CHECK(u.history.entries().size() == 2);
}

TEST_CASE("a repeated event is applied once: same carrier id") {
    const tracking_history history =
        apply_all(tracking_history(at(0)), {event("E1", E::picked_up, 10, "Shenzhen")});
    // The webhook again, received later; also a corrected copy under the same
    // id: the first copy received is the one kept.
    carrier_event again = event("E1", E::picked_up, 10, "Shenzhen");
    again.received_at = at(500);
    carrier_event changed = event("E1", E::arrived_at_hub, 30, "Wuhan");
    for (const auto& e : {again, changed}) {
        const auto u = apply(history, e);
        CHECK(u.report.outcome == carrier_event_outcome::duplicate);
        CHECK_FALSE(u.report.recorded());
        CHECK(u.report.state_before == S::picked_up);
        CHECK(u.report.state_after == S::picked_up);
        CHECK_FALSE(u.report.notice.has_value());
        CHECK(u.history == history);
    }
    CHECK(history.entries().front().event.received_at == at(11));
}

TEST_CASE("a repeated event is applied once: same kind and time") {
    const tracking_history history =
        apply_all(tracking_history(at(0)), {event("", E::picked_up, 10)});
    for (const std::string id : {"", "E9"}) {
        CAPTURE(id);
        const auto u = apply(history, event(id, E::picked_up, 10, "elsewhere"));
        CHECK(u.report.outcome == carrier_event_outcome::duplicate);
        CHECK(u.history == history);
    }
    // Same kind at another time is another event (a second hub), and another
    // kind at the same time is another event too.
    const auto hub1 = apply(history, event("", E::arrived_at_hub, 20));
    const auto hub2 = apply(hub1.history, event("", E::arrived_at_hub, 40));
    CHECK(hub2.report.outcome == carrier_event_outcome::applied);
    const auto same_time = apply(hub2.history, event("", E::departed_facility, 40));
    CHECK(same_time.report.outcome == carrier_event_outcome::applied);
    CHECK(same_time.history.entries().size() == 4);
}

TEST_CASE("events that arrive out of order are kept in event-time order") {
    tracking_history history(at(0));
    // The delivery scan reaches orderly first, then the rest, scrambled.
    const auto delivered = apply(history, event("E5", E::delivered, 500));
    // label_created → delivered is not a row: superseded, kept, no notice.
    CHECK(delivered.report.outcome == carrier_event_outcome::superseded);
    CHECK(delivered.report.recorded());
    CHECK(delivered.history.state() == S::label_created);
    CHECK_FALSE(delivered.report.notice.has_value());
    CHECK(delivered.history.entries().front().superseded);

    const auto hub = apply(delivered.history, event("E2", E::arrived_at_hub, 200));
    // Now delivered counts where it stands (at_hub → delivered).
    CHECK(hub.report.outcome == carrier_event_outcome::applied);
    CHECK(hub.report.state_before == S::label_created);
    CHECK(hub.report.state_after == S::delivered);
    CHECK(notice_kind(hub) == tracking_notice_kind::delivered);
    // The notice describes the newest counted event, not the late one.
    REQUIRE(hub.report.notice.has_value());
    CHECK(hub.report.notice->occurred_at == at(500));

    const auto pickup = apply(hub.history, event("E1", E::picked_up, 100));
    CHECK(pickup.report.outcome == carrier_event_outcome::applied);
    CHECK(pickup.report.state_after == S::delivered);
    CHECK_FALSE(pickup.report.notice.has_value());  // No change: nothing to tell.

    const auto out = apply(pickup.history, event("E4", E::sent_out_for_delivery, 400));
    history = apply(out.history, event("E3", E::departed_facility, 300)).history;

    CHECK(kinds_of(history) == std::vector<tracking_event>{E::picked_up, E::arrived_at_hub,
                                                           E::departed_facility,
                                                           E::sent_out_for_delivery, E::delivered});
    CHECK(superseded_of(history) == std::vector<bool>(5, false));
    CHECK(history.state() == S::delivered);
    std::vector<tracking_state> states;
    for (const auto& entry : history.entries()) {
        states.push_back(entry.state_after);
    }
    CHECK(states == std::vector<tracking_state>{S::picked_up, S::at_hub, S::in_transit,
                                                S::out_for_delivery, S::delivered});
}

TEST_CASE("events at the same time are ordered by kind, whatever the arrival order") {
    const std::vector<carrier_event> events = {event("B", E::arrived_at_hub, 50),
                                               event("A", E::departed_facility, 50),
                                               event("C", E::picked_up, 10)};
    const auto forward = apply_all(tracking_history(at(0)), events);
    const auto backward = apply_all(tracking_history(at(0)), {events[2], events[1], events[0]});
    CHECK(forward == backward);
    CHECK(kinds_of(forward) ==
          std::vector<tracking_event>{E::picked_up, E::departed_facility, E::arrived_at_hub});
    CHECK(forward.state() == S::at_hub);
}

TEST_CASE("a superseded event is kept, does not count, and may count later") {
    // Out for delivery before any carrier scan: refused where it stands.
    const auto early = apply(tracking_history(at(0)), event("E3", E::sent_out_for_delivery, 300));
    CHECK(early.report.outcome == carrier_event_outcome::superseded);
    CHECK(early.history.state() == S::label_created);
    CHECK(early.history.last_progress_at() == at(0));
    // The pickup scan arrives late and the out-for-delivery scan now counts.
    const auto pickup = apply(early.history, event("E1", E::picked_up, 100));
    CHECK(pickup.report.outcome == carrier_event_outcome::applied);
    CHECK(pickup.history.state() == S::out_for_delivery);
    CHECK(notice_kind(pickup) == tracking_notice_kind::out_for_delivery);
    CHECK(superseded_of(pickup.history) == std::vector<bool>{false, false});
    CHECK(pickup.history.last_progress_at() == at(300));
}

TEST_CASE("nothing counts after delivered, and the events are still kept") {
    const tracking_history delivered =
        apply_all(tracking_history(at(0)),
                  {event("E1", E::picked_up, 10), event("E2", E::arrived_at_hub, 20),
                   event("E3", E::sent_out_for_delivery, 30), event("E4", E::delivered, 40)});
    REQUIRE(delivered.state() == S::delivered);
    for (const auto kind : orderly::all_tracking_events) {
        CAPTURE(to_string(kind));
        const auto u = apply(delivered, event("late", kind, 60));
        CHECK(u.report.outcome == carrier_event_outcome::superseded);
        CHECK(u.history.state() == S::delivered);
        CHECK(u.history.entries().size() == 5);
        CHECK(u.history.entries().back().superseded);
        CHECK(u.history.entries().back().state_after == S::delivered);
        CHECK(u.history.last_progress_at() == at(40));
        CHECK_FALSE(u.report.notice.has_value());
    }
}

TEST_CASE("a failed delivery is retried until delivered") {
    tracking_history history =
        apply_all(tracking_history(at(0)),
                  {event("E1", E::picked_up, 10), event("E2", E::arrived_at_hub, 100)});
    struct step {
        carrier_event e;
        tracking_state state;
        std::optional<tracking_notice_kind> notice;
    };
    const std::vector<step> steps = {
        {event("E3", E::sent_out_for_delivery, 600), S::out_for_delivery,
         tracking_notice_kind::out_for_delivery},
        {event("E4", E::delivery_attempt_failed, 700, "Pudong", "recipient not at home"),
         S::delivery_failed, tracking_notice_kind::delivery_failed},
        {event("E5", E::arrived_at_hub, 800, "Pudong depot"), S::at_hub, std::nullopt},
        {event("E6", E::sent_out_for_delivery, 2000), S::out_for_delivery,
         tracking_notice_kind::out_for_delivery},
        {event("E7", E::delivery_attempt_failed, 2100, "Pudong", "address incomplete"),
         S::delivery_failed, tracking_notice_kind::delivery_failed},
        {event("E8", E::sent_out_for_delivery, 3400), S::out_for_delivery,
         tracking_notice_kind::out_for_delivery},
        {event("E9", E::delivered, 3500), S::delivered, tracking_notice_kind::delivered},
    };
    for (const auto& s : steps) {
        CAPTURE(fmt::format("{}", s.e));
        const auto u = apply(history, s.e);
        CHECK(u.report.outcome == carrier_event_outcome::applied);
        CHECK(u.history.state() == s.state);
        CHECK(notice_kind(u) == s.notice);
        if (s.state == S::delivery_failed) {
            REQUIRE(u.report.notice.has_value());
            CHECK(u.report.notice->detail == s.e.detail);
        }
        history = u.history;
    }
}

TEST_CASE("a failed delivery can end in a return, which is terminal") {
    const tracking_history returned =
        apply_all(tracking_history(at(0)),
                  {event("E1", E::picked_up, 10), event("E2", E::sent_out_for_delivery, 20),
                   event("E3", E::delivery_attempt_failed, 30)});
    const auto back = apply(returned, event("E4", E::returned_to_sender, 40));
    CHECK(back.history.state() == S::returned_to_sender);
    CHECK(notice_kind(back) == tracking_notice_kind::returned_to_sender);
    CHECK_FALSE(orderly::tracking_in_progress(back.history.state()));
    const auto again = apply(back.history, event("E5", E::sent_out_for_delivery, 50));
    CHECK(again.report.outcome == carrier_event_outcome::superseded);
    CHECK(again.history.state() == S::returned_to_sender);
    const auto delivered = apply(back.history, event("E6", E::delivered, 60));
    CHECK(delivered.report.outcome == carrier_event_outcome::superseded);
    CHECK(delivered.history.state() == S::returned_to_sender);
}

TEST_CASE("a late return before a delivery scan wins, by event time") {
    // Documented consequence of replaying by event time: the carrier said it
    // returned the parcel at minute 30, so its delivery scan at minute 50
    // cannot count.
    const tracking_history delivered =
        apply_all(tracking_history(at(0)),
                  {event("E1", E::arrived_at_hub, 10), event("E2", E::sent_out_for_delivery, 40),
                   event("E3", E::delivered, 50)});
    REQUIRE(delivered.state() == S::delivered);
    const auto u = apply(delivered, event("E4", E::returned_to_sender, 30));
    CHECK(u.report.outcome == carrier_event_outcome::applied);
    CHECK(u.report.state_before == S::delivered);
    CHECK(u.report.state_after == S::returned_to_sender);
    CHECK(notice_kind(u) == tracking_notice_kind::returned_to_sender);
    CHECK(superseded_of(u.history) == std::vector<bool>{false, false, true, true});
}

TEST_CASE("a parcel declared lost can be found again") {
    const tracking_history lost =
        apply_all(tracking_history(at(0)),
                  {event("E1", E::picked_up, 10), event("E2", E::departed_facility, 20)});
    const auto declared = apply(lost, event("E3", E::declared_lost, 5000));
    CHECK(declared.history.state() == S::lost);
    CHECK(notice_kind(declared) == tracking_notice_kind::lost);
    CHECK_FALSE(declared.history.delayed(at(100'000), 60min));  // An exception case now.

    const auto found = apply(declared.history, event("E4", E::arrived_at_hub, 9000, "Wuhan hub"));
    CHECK(found.history.state() == S::at_hub);
    CHECK(notice_kind(found) == tracking_notice_kind::found);
    const auto delivered = apply(found.history, event("E5", E::delivered, 9100));
    CHECK(delivered.history.state() == S::delivered);
    CHECK(notice_kind(delivered) == tracking_notice_kind::delivered);

    // Straight from lost to delivered: the parcel turned up at the customer's.
    const auto direct = apply(declared.history, event("E6", E::delivered, 9000));
    CHECK(direct.history.state() == S::delivered);
    CHECK(notice_kind(direct) == tracking_notice_kind::delivered);

    // A pickup scan does not bring it back (a departure scan does: the parcel moves).
    const auto pickup = apply(declared.history, event("E7", E::picked_up, 9000));
    CHECK(pickup.report.outcome == carrier_event_outcome::superseded);
    CHECK(pickup.history.state() == S::lost);
}

TEST_CASE("a skipped pickup scan still tells the customer the parcel is on its way") {
    const auto u = apply(tracking_history(at(0)), event("E1", E::arrived_at_hub, 10));
    CHECK(u.report.outcome == carrier_event_outcome::applied);
    CHECK(u.history.state() == S::at_hub);
    CHECK(notice_kind(u) == tracking_notice_kind::on_its_way);
}

TEST_CASE("notice kinds for every change of state") {
    using K = tracking_notice_kind;
    for (const auto before : orderly::all_tracking_states) {
        for (const auto after : orderly::all_tracking_states) {
            CAPTURE(to_string(before));
            CAPTURE(to_string(after));
            std::optional<K> expected;
            if (before != after) {
                switch (after) {
                    case S::label_created:
                        break;
                    case S::picked_up:
                        expected = K::on_its_way;
                        break;
                    case S::in_transit:
                    case S::at_hub:
                        if (before == S::label_created) {
                            expected = K::on_its_way;
                        } else if (before == S::lost) {
                            expected = K::found;
                        }
                        break;
                    case S::out_for_delivery:
                        expected = K::out_for_delivery;
                        break;
                    case S::delivered:
                        expected = K::delivered;
                        break;
                    case S::delivery_failed:
                        expected = K::delivery_failed;
                        break;
                    case S::returned_to_sender:
                        expected = K::returned_to_sender;
                        break;
                    case S::lost:
                        expected = K::lost;
                        break;
                }
            }
            CHECK(orderly::tracking_notice_for(before, after) == expected);
        }
    }
}

TEST_CASE("progress and the delay rule") {
    const tracking_history created(at(0));
    CHECK(created.last_progress_at() == at(0));
    CHECK(created.progressed_since(at(0)));
    CHECK_FALSE(created.progressed_since(at(1)));
    // Never picked up: delayed once the limit has passed since the label.
    CHECK_FALSE(created.delayed(at(60), 60min));
    CHECK(created.delayed(at(61), 60min));

    const auto picked = apply(created, event("E1", E::picked_up, 100)).history;
    CHECK(picked.last_progress_at() == at(100));
    CHECK(picked.progressed_since(at(100)));
    CHECK_FALSE(picked.progressed_since(at(101)));
    CHECK_FALSE(picked.delayed(at(160), 60min));
    CHECK(picked.delayed(at(161), 60min));

    // A superseded event is no progress.
    const auto stray = apply(picked, event("E2", E::picked_up, 150));
    CHECK(stray.report.outcome == carrier_event_outcome::superseded);
    CHECK(stray.history.last_progress_at() == at(100));
    CHECK(stray.history.delayed(at(161), 60min));

    // A hub-to-hub scan is progress though the state stays at_hub; a failed
    // attempt is progress too (the carrier is at work).
    const auto hub1 = apply(stray.history, event("E3", E::arrived_at_hub, 200)).history;
    const auto hub2 = apply(hub1, event("E4", E::arrived_at_hub, 400)).history;
    CHECK(hub2.state() == S::at_hub);
    CHECK(hub2.last_progress_at() == at(400));
    const auto failed = apply_all(hub2, {event("E5", E::sent_out_for_delivery, 500),
                                         event("E6", E::delivery_attempt_failed, 600)});
    CHECK(failed.last_progress_at() == at(600));
    CHECK(failed.delayed(at(700), 60min));

    // A late event older than the newest one does not move progress back or forward.
    const auto late = apply(failed, event("E7", E::departed_facility, 300)).history;
    CHECK(late.last_progress_at() == at(600));

    // Delivered: no longer in progress, never delayed.
    const auto delivered = apply(failed, event("E8", E::delivered, 700)).history;
    CHECK_FALSE(delivered.delayed(at(100'000), 60min));
    CHECK(delivered.last_progress_at() == at(700));

    // A carrier clock behind the label: progress never goes before the label.
    const auto skewed = apply(tracking_history(at(100)), event("E1", E::picked_up, 90)).history;
    CHECK(skewed.state() == S::picked_up);
    CHECK(skewed.last_progress_at() == at(100));
}

TEST_CASE("which states the delay rule watches") {
    for (const auto s : orderly::all_tracking_states) {
        CAPTURE(to_string(s));
        const bool expected = s != S::delivered && s != S::returned_to_sender && s != S::lost;
        CHECK(orderly::tracking_in_progress(s) == expected);
    }
    CHECK_FALSE(orderly::tracking_in_progress(static_cast<tracking_state>(0)));
}

TEST_CASE("a history holds at most tracking_limits::events distinct events") {
    tracking_history history(at(0));
    for (std::size_t i = 0; i < orderly::tracking_limits::events; ++i) {
        history = apply(history, event(fmt::format("E{}", i), E::arrived_at_hub,
                                       static_cast<std::int64_t>(i) + 1))
                      .history;
    }
    CHECK(history.entries().size() == orderly::tracking_limits::events);
    const auto full = orderly::apply_carrier_event(history, event("last", E::delivered, 100'000));
    REQUIRE(full.has_error());
    CHECK(full.error().code == errc::overflow);
    CHECK(full.error().field == "events");
    // A repeat is still recognised on a full history.
    const auto repeat = orderly::apply_carrier_event(history, event("E7", E::arrived_at_hub, 8));
    REQUIRE(repeat.has_value());
    CHECK(repeat->report.outcome == carrier_event_outcome::duplicate);

    std::vector<carrier_event> too_many;
    for (const auto& entry : history.entries()) {
        too_many.push_back(entry.event);
    }
    too_many.push_back(event("last", E::delivered, 100'000));
    const auto rebuilt = orderly::rebuild_tracking_history(at(0), too_many);
    REQUIRE(rebuilt.has_error());
    CHECK(rebuilt.error().code == errc::overflow);
}

TEST_CASE("a history is rebuilt from stored events in any order") {
    const std::vector<carrier_event> events = {event("E4", E::delivered, 400),
                                               event("E1", E::picked_up, 100),
                                               event("E3", E::sent_out_for_delivery, 300),
                                               event("E1", E::picked_up, 100),
                                               event("E2", E::arrived_at_hub, 200),
                                               event("", E::arrived_at_hub, 200)};
    const auto rebuilt = orderly::rebuild_tracking_history(at(0), events);
    REQUIRE(rebuilt.has_value());
    CHECK(*rebuilt == apply_all(tracking_history(at(0)), events));
    CHECK(rebuilt->state() == S::delivered);
    CHECK(rebuilt->entries().size() == 4);

    std::vector<carrier_event> bad = events;
    bad[2].kind = static_cast<tracking_event>(42);
    const auto refused = orderly::rebuild_tracking_history(at(0), bad);
    REQUIRE(refused.has_error());
    CHECK(refused.error().code == errc::invalid_value);
    CHECK(refused.error().field == "events[2].kind");
}

TEST_CASE("tracking values have stable names and format") {
    CHECK(to_string(carrier_event_outcome::superseded) == "superseded");
    CHECK(static_cast<int>(carrier_event_outcome::applied) == 1);
    CHECK(static_cast<int>(carrier_event_outcome::superseded) == 2);
    CHECK(static_cast<int>(carrier_event_outcome::duplicate) == 3);
    for (std::size_t i = 0; i < orderly::all_tracking_notice_kinds.size(); ++i) {
        CHECK(static_cast<int>(orderly::all_tracking_notice_kinds[i]) == static_cast<int>(i) + 1);
        CHECK(to_string(orderly::all_tracking_notice_kinds[i]) != "unknown");
    }
    CHECK(fmt::format("{}", tracking_notice_kind::on_its_way) == "on_its_way");
    CHECK(fmt::format("{}", carrier_event_outcome::duplicate) == "duplicate");
    CHECK(fmt::format("{}", event("E-17", E::delivered, 0, "Pudong")) ==
          "delivered at 1709251200000 ms (id E-17) in Pudong");
    CHECK(fmt::format("{}", event("", E::picked_up, 1)) == "picked_up at 1709251260000 ms");
}

// --- seeded randomized test --------------------------------------------------

namespace {

constexpr std::uint64_t seed = 0x7472'6163'6b69'6e67ULL;  // "tracking"

/// Builds one realistic journey: skipped scans, hub hops, failed attempts,
/// returns, losses (some found again), events at the same instant, and stray
/// scans after the end or behind the carrier's clock.
class journey_builder {
public:
    explicit journey_builder(std::mt19937_64& random) : random_(random) {}

    std::vector<carrier_event> build() {
        if (chance(85)) {
            add(E::picked_up);
        }
        const int hops = pick(0, 4);
        for (int hop = 0; hop < hops; ++hop) {
            if (chance(90)) {
                add(E::departed_facility);
            }
            if (chance(90)) {
                add(E::arrived_at_hub);
            }
        }
        finish();
        if (chance(30)) {
            add(orderly::all_tracking_events[static_cast<std::size_t>(
                pick(0, 7))]);  // After the end.
        }
        if (chance(30)) {
            add_stray_in_the_past();
        }
        return std::move(events_);
    }

private:
    bool chance(int percent) { return pick(1, 100) <= percent; }

    int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }

    void finish() {
        switch (pick(0, 9)) {
            case 6:  // Failed attempts, then back to the sender.
                for (int i = pick(1, 2); i > 0; --i) {
                    add(E::sent_out_for_delivery);
                    add(E::delivery_attempt_failed);
                }
                add(E::returned_to_sender);
                return;
            case 7:  // Lost, and sometimes found.
                add(E::declared_lost);
                if (chance(50)) {
                    add(E::arrived_at_hub);
                    add(E::sent_out_for_delivery);
                    add(E::delivered);
                }
                return;
            case 8:  // Still on its way.
                return;
            case 9:  // Refused at the door.
                add(E::sent_out_for_delivery);
                add(E::returned_to_sender);
                return;
            default:  // Delivered, perhaps after failed attempts.
                for (int i = pick(0, 2); i > 0; --i) {
                    add(E::sent_out_for_delivery);
                    add(E::delivery_attempt_failed);
                }
                if (chance(90)) {
                    add(E::sent_out_for_delivery);
                }
                add(E::delivered);
                return;
        }
    }

    /// The next event, usually minutes to hours after the previous one;
    /// sometimes at the very same instant (a different kind, never twice).
    void add(tracking_event kind) {
        const bool tie =
            !events_.empty() && !last_was_tie_ && events_.back().kind != kind && chance(10);
        if (!tie) {
            now_ms_ += pick(1, 600) * 60'000 + pick(0, 59'999);
        }
        last_was_tie_ = tie;
        push(kind, now_ms_);
    }

    /// An event whose time lies before the newest one (a scanner that
    /// uploads late with its own clock), unless it would repeat an event.
    void add_stray_in_the_past() {
        const auto kind = orderly::all_tracking_events[static_cast<std::size_t>(pick(0, 7))];
        const std::int64_t when = std::uniform_int_distribution<std::int64_t>(0, now_ms_)(random_);
        const bool repeats = std::any_of(events_.begin(), events_.end(), [&](const auto& e) {
            return e.kind == kind && e.occurred_at == instant(when);
        });
        if (!repeats) {
            push(kind, when);
        }
    }

    void push(tracking_event kind, std::int64_t when_ms) {
        // Some carriers give no event id; then only kind and time identify it.
        std::string id = chance(12) ? "" : fmt::format("EV-{}", next_id_++);
        std::string location = fmt::format("hub-{}", pick(1, 40));
        std::string detail = kind == E::delivery_attempt_failed ? "recipient not at home" : "";
        events_.push_back(carrier_event{std::move(id), kind, instant(when_ms), instant(when_ms),
                                        std::move(location), std::move(detail)});
    }

    static timestamp instant(std::int64_t ms) { return at(0) + std::chrono::milliseconds(ms); }

    std::mt19937_64& random_;
    std::vector<carrier_event> events_;
    std::int64_t now_ms_{0};
    int next_id_{0};
    bool last_was_tie_{false};
};

/// One arrival: a copy of distinct event `origin`, received at `received_at`.
struct delivery {
    std::size_t origin;
    carrier_event event;
};

bool history_order(const carrier_event& a, const carrier_event& b) {
    return std::tie(a.occurred_at, a.kind) < std::tie(b.occurred_at, b.kind);
}

/// An event as the carrier sent it, without orderly's receipt time.
auto content(const carrier_event& e) {
    return std::tie(e.id, e.kind, e.occurred_at, e.location, e.detail);
}

/// What must not depend on the arrival order: each entry's content, whether
/// it counts and the state after it.
auto arrival_independent(const tracking_history& h) {
    std::vector<std::tuple<std::string, tracking_event, timestamp, std::string, bool, S>> rows;
    for (const auto& entry : h.entries()) {
        rows.emplace_back(entry.event.id, entry.event.kind, entry.event.occurred_at,
                          entry.event.location, entry.superseded, entry.state_after);
    }
    return rows;
}

/// The specification, restated: replay the distinct events in event-time
/// order, skipping what the machine refuses.
tracking_state reference_state(std::vector<carrier_event> distinct) {
    std::sort(distinct.begin(), distinct.end(), history_order);
    tracking_state state = S::label_created;
    for (const auto& e : distinct) {
        if (const auto next = orderly::next_tracking_state(state, e.kind); next.has_value()) {
            state = *next;
        }
    }
    return state;
}

/// Delivers the copies in the given order and checks every report; returns
/// the final history.
tracking_history deliver(const std::vector<delivery>& arrivals, std::size_t distinct_count) {
    tracking_history history(at(0));
    std::vector<int> recorded(distinct_count, 0);
    for (const auto& arrival : arrivals) {
        auto r = orderly::apply_carrier_event(history, arrival.event);
        REQUIRE(r.has_value());
        const auto& report = r->report;
        CHECK(report.state_before == history.state());
        CHECK(report.state_after == r->history.state());
        CHECK(report.notice.has_value() ==
              orderly::tracking_notice_for(report.state_before, report.state_after).has_value());
        if (report.recorded()) {
            ++recorded[arrival.origin];
            CHECK(r->history.entries().size() == history.entries().size() + 1);
        } else {
            CHECK(recorded[arrival.origin] == 1);
            CHECK(r->history == history);
        }
        if (report.outcome == carrier_event_outcome::superseded) {
            CHECK(report.state_after == report.state_before);
        }
        history = std::move(r->history);
    }
    // Each distinct event was reported new exactly once.
    CHECK(std::all_of(recorded.begin(), recorded.end(), [](int n) { return n == 1; }));
    return history;
}

}  // namespace

TEST_CASE("shuffled, repeated carrier events always give the same history and state") {
    MESSAGE("seed = " << seed);
    INFO("seed = " << seed);
    std::mt19937_64 random(seed);
    constexpr int journeys = 300;
    constexpr int permutations = 5;
    std::size_t superseded_seen = 0;
    for (int journey = 0; journey < journeys; ++journey) {
        CAPTURE(journey);
        const std::vector<carrier_event> distinct = journey_builder(random).build();

        // Copies: each event arrives one to three times.
        std::vector<delivery> arrivals;
        for (std::size_t i = 0; i < distinct.size(); ++i) {
            const int copies = std::uniform_int_distribution<int>(1, 3)(random);
            for (int c = 0; c < copies; ++c) {
                arrivals.push_back({i, distinct[i]});
            }
        }
        std::vector<carrier_event> sorted = distinct;
        std::sort(sorted.begin(), sorted.end(), history_order);
        const tracking_state expected_state = reference_state(distinct);

        std::optional<decltype(arrival_independent(tracking_history(at(0))))> first;
        for (int p = 0; p < permutations; ++p) {
            CAPTURE(p);
            std::shuffle(arrivals.begin(), arrivals.end(), random);
            // Received in arrival order, one second apart, after the journey.
            std::vector<timestamp> first_received(distinct.size(), timestamp::max());
            for (std::size_t k = 0; k < arrivals.size(); ++k) {
                auto& a = arrivals[k];
                a.event.received_at = at(100'000) + std::chrono::seconds(k);
                first_received[a.origin] = std::min(first_received[a.origin], a.event.received_at);
            }

            const tracking_history history = deliver(arrivals, distinct.size());

            // Nothing lost, nothing twice, in event-time order: the history
            // is the de-duplicated set sorted by event time.
            REQUIRE(history.entries().size() == sorted.size());
            for (std::size_t i = 0; i < sorted.size(); ++i) {
                CAPTURE(i);
                const auto& kept = history.entries()[i].event;
                CHECK(content(kept) == content(sorted[i]));
                // The copy kept is the first one received.
                const auto origin = static_cast<std::size_t>(
                    std::find_if(distinct.begin(), distinct.end(),
                                 [&](const auto& e) { return content(e) == content(kept); }) -
                    distinct.begin());
                REQUIRE(origin < distinct.size());
                CHECK(kept.received_at == first_received[origin]);
            }
            CHECK(history.state() == expected_state);

            // Whatever the arrival order, the same entries, flags and states.
            const auto view = arrival_independent(history);
            if (!first) {
                first = view;
            } else {
                CHECK(view == *first);
            }

            // Rebuilding from the same arrivals gives the same history.
            std::vector<carrier_event> stored;
            stored.reserve(arrivals.size());
            for (const auto& a : arrivals) {
                stored.push_back(a.event);
            }
            const auto rebuilt = orderly::rebuild_tracking_history(at(0), stored);
            REQUIRE(rebuilt.has_value());
            CHECK(*rebuilt == history);

            superseded_seen += static_cast<std::size_t>(
                std::count_if(history.entries().begin(), history.entries().end(),
                              [](const auto& entry) { return entry.superseded; }));
        }
    }
    // The journeys exercise refusals, not just the happy path.
    CHECK(superseded_seen > 0);
}
