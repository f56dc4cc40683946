// Packing: the re-check session (scans, mismatches, finish, resume
// from the stored record), packaging hints, refusals, and a seeded
// randomized check that exact scans in any order pass and over-scans never do.
#include <orderly/fulfilment/packing.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

using orderly::errc;
using orderly::goods_traits;
using orderly::packaging_hint;
using orderly::packaging_options;
using orderly::packed_item;
using orderly::packing_line;
using orderly::packing_mismatch_kind;
using orderly::packing_record;
using orderly::packing_scan;
using orderly::packing_session;
using orderly::packing_status;
using orderly::quantity;
using orderly::shipment_id;
using orderly::sku_id;
using orderly::timestamp;

namespace {

quantity units(std::int64_t n) {
    const auto made = quantity::of(n);
    REQUIRE(made.has_value());
    return *made;
}

timestamp at_second(std::int64_t s) {
    return orderly::from_unix_ms(1'700'000'000'000 + s * 1000);
}

packing_line want(std::string sku, std::int64_t n) {
    return packing_line{sku_id(std::move(sku)), units(n)};
}

packing_scan scan_of(std::string sku, std::int64_t n, std::int64_t second = 0) {
    return packing_scan{sku_id(std::move(sku)), units(n), at_second(second)};
}

packing_session opened(std::vector<packing_line> lines, std::uint64_t shipment = 42) {
    auto session = packing_session::open(shipment_id(shipment), lines);
    REQUIRE(session.has_value());
    return *std::move(session);
}

template <class T>
errc refusal_of(const orderly::result<T>& r, std::string_view field) {
    REQUIRE(r.has_error());
    CHECK(r.error().field == field);
    CHECK_FALSE(r.error().message.empty());
    return r.error().code;
}

packed_item goods(std::string sku, std::int64_t n, std::int64_t volume, goods_traits traits = {}) {
    return packed_item{sku_id(std::move(sku)), units(n), volume, traits};
}

}  // namespace

TEST_CASE("scanning every unit passes the check and the record says what happened") {
    packing_session session = opened({want("tea", 2), want("cup", 1)});
    CHECK(session.remaining() == 3);
    CHECK(session.record().expected == std::vector<packing_line>{want("cup", 1), want("tea", 2)});

    const auto first = session.scan(scan_of("tea", 1, 1));
    REQUIRE(first.has_value());
    CHECK(*first == orderly::scan_progress{.counted = 1, .expected = 2, .remaining = 2});
    REQUIRE(session.scan(scan_of("cup", 1, 2)).has_value());
    const auto last = session.scan(scan_of("tea", 1, 3));
    REQUIRE(last.has_value());
    CHECK(last->remaining == 0);
    CHECK(session.missing().empty());
    CHECK(session.counted(sku_id("tea")) == 2);
    CHECK(session.counted(sku_id("pot")) == 0);

    CHECK(session.record().status == packing_status::open);  // until finish()
    REQUIRE(session.finish(at_second(4)).has_value());
    const packing_record& record = session.record();
    CHECK(record.status == packing_status::passed);
    CHECK(record.finished_at == at_second(4));
    CHECK(record.scans == std::vector<packing_scan>{scan_of("tea", 1, 1), scan_of("cup", 1, 2),
                                                    scan_of("tea", 1, 3)});
    CHECK(record.mismatches.empty());
    CHECK(record.mismatch_count == 0);

    REQUIRE(session.finish(at_second(9)).has_value());  // again: nothing changes
    CHECK(session.record().finished_at == at_second(4));
    const auto late = session.scan(scan_of("tea", 1, 10));
    CHECK(refusal_of(late, "status") == errc::transition_not_allowed);
    CHECK(session.record().scans.size() == 3);
    CHECK(session.record().mismatch_count == 0);
}

TEST_CASE("a SKU not in the shipment is refused and recorded as a mismatch") {
    packing_session session = opened({want("tea", 1)});
    const auto wrong = session.scan(scan_of("pot", 1, 5));
    CHECK(refusal_of(wrong, "sku") == errc::invalid_value);
    CHECK(wrong.error().message == "SKU pot is not in shipment 42: put it aside");
    REQUIRE(session.record().mismatches.size() == 1);
    CHECK(session.record().mismatches[0] ==
          orderly::packing_mismatch{.kind = packing_mismatch_kind::unexpected_sku,
                                    .sku = sku_id("pot"),
                                    .expected = 0,
                                    .counted = 0,
                                    .units = 1,
                                    .at = at_second(5)});
    CHECK(session.record().mismatch_count == 1);
    CHECK(session.record().scans.empty());
    CHECK(session.remaining() == 1);

    REQUIRE(session.scan(scan_of("tea", 1)).has_value());
    const auto extra = session.scan(scan_of("tea", 2));
    CHECK(refusal_of(extra, "quantity") == errc::invalid_value);
    CHECK(extra.error().message ==
          "the 1 unit of SKU tea is already packed: 2 units extra, put them aside");
}

TEST_CASE("a scan beyond the SKU's quantity is refused whole and recorded") {
    packing_session session = opened({want("tea", 3)});
    REQUIRE(session.scan(scan_of("tea", 2)).has_value());
    const auto too_many = session.scan(scan_of("tea", 2, 7));
    CHECK(refusal_of(too_many, "quantity") == errc::invalid_value);
    CHECK(too_many.error().message ==
          "only 1 unit more of SKU tea belongs in this shipment, 2 scanned: the scan was not "
          "counted");
    CHECK(session.counted(sku_id("tea")) == 2);  // none of the 2 counted
    REQUIRE(session.record().mismatches.size() == 1);
    CHECK(session.record().mismatches[0] ==
          orderly::packing_mismatch{.kind = packing_mismatch_kind::over_quantity,
                                    .sku = sku_id("tea"),
                                    .expected = 3,
                                    .counted = 2,
                                    .units = 2,
                                    .at = at_second(7)});

    REQUIRE(session.scan(scan_of("tea", 1)).has_value());
    const auto extra = session.scan(scan_of("tea", 1, 8));
    CHECK(refusal_of(extra, "quantity") == errc::invalid_value);
    CHECK(extra.error().message ==
          "all 3 units of SKU tea are already packed: 1 unit extra, put "
          "it aside");
    CHECK(session.record().mismatch_count == 2);
    REQUIRE(session.finish(at_second(9)).has_value());  // mismatches stay in the record
    CHECK(session.record().mismatches.size() == 2);
}

TEST_CASE("finish refuses while units are missing, naming each SKU and how many") {
    packing_session session = opened({want("tea", 3), want("cup", 2), want("pot", 1)});
    REQUIRE(session.scan(scan_of("tea", 2)).has_value());
    REQUIRE(session.scan(scan_of("pot", 1)).has_value());
    const auto early = session.finish(at_second(5));
    CHECK(refusal_of(early, "quantity") == errc::missing_value);
    CHECK(early.error().message ==
          "2 units of SKU cup and 1 unit of SKU tea are still missing from shipment 42");
    CHECK(session.record().status == packing_status::open);
    CHECK_FALSE(session.record().finished_at.has_value());
    CHECK(session.missing() == std::vector<packing_line>{want("cup", 2), want("tea", 1)});
    REQUIRE(session.record().mismatches.size() == 2);
    CHECK(session.record().mismatches[0].kind == packing_mismatch_kind::missing);
    CHECK(session.record().mismatches[0].sku == sku_id("cup"));
    CHECK(session.record().mismatches[0].units == 2);
    CHECK(session.record().mismatches[1].counted == 2);

    REQUIRE(session.scan(scan_of("cup", 2)).has_value());
    const auto one_left = session.finish(at_second(6));
    CHECK(refusal_of(one_left, "quantity") == errc::missing_value);
    CHECK(one_left.error().message == "1 unit of SKU tea is still missing from shipment 42");
    REQUIRE(session.scan(scan_of("tea", 1)).has_value());
    CHECK(session.finish(at_second(7)).has_value());

    // Many SKUs: the first five by name, the rest counted.
    std::vector<packing_line> lines;
    lines.reserve(7);
    for (int i = 0; i < 7; ++i) {
        lines.push_back(want(fmt::format("s{}", i), 1));
    }
    packing_session big = opened(lines);
    const auto many = big.finish(at_second(1));
    CHECK(refusal_of(many, "quantity") == errc::missing_value);
    CHECK(many.error().message ==
          "1 unit of SKU s0, 1 unit of SKU s1, 1 unit of SKU s2, 1 unit of SKU s3, 1 unit of SKU "
          "s4 and 2 more SKUs are still missing from shipment 42");
}

TEST_CASE("opening a check refuses bad lines and adds lines of one SKU together") {
    packing_session merged = opened({want("tea", 1), want("cup", 2), want("tea", 3)});
    CHECK(merged.record().expected == std::vector<packing_line>{want("cup", 2), want("tea", 4)});
    CHECK(merged.remaining() == 6);

    CHECK(refusal_of(packing_session::open(shipment_id(), std::vector{want("tea", 1)}),
                     "shipment") == errc::missing_value);
    CHECK(refusal_of(packing_session::open(shipment_id(1), {}), "lines") == errc::missing_value);
    CHECK(refusal_of(packing_session::open(shipment_id(1), std::vector{want("", 1)}),
                     "lines[0].sku") == errc::missing_value);
    CHECK(refusal_of(
              packing_session::open(shipment_id(1), std::vector{want("tea", 1), want("c u p", 1)}),
              "lines[1].sku") == errc::invalid_value);
    CHECK(refusal_of(packing_session::open(shipment_id(1),
                                           std::vector{packing_line{sku_id("tea"), quantity{}}}),
                     "lines[0].units") == errc::invalid_value);
    CHECK(refusal_of(
              packing_session::open(
                  shipment_id(1),
                  std::vector{want("tea", orderly::packing_limits::max_units), want("cup", 1)}),
              "lines") == errc::invalid_value);
    std::vector<packing_line> too_many(orderly::packing_limits::max_lines + 1, want("tea", 1));
    CHECK(refusal_of(packing_session::open(shipment_id(1), too_many), "lines") ==
          errc::invalid_value);

    // Malformed scans are refused but are not packing mismatches.
    packing_session session = opened({want("tea", 1)});
    CHECK(refusal_of(session.scan(scan_of("", 1)), "sku") == errc::missing_value);
    CHECK(refusal_of(session.scan(scan_of("t e a", 1)), "sku") == errc::invalid_value);
    CHECK(refusal_of(session.scan(packing_scan{sku_id("tea"), quantity{}, at_second(1)}),
                     "quantity") == errc::invalid_value);
    CHECK(refusal_of(session.scan(scan_of("tea", orderly::packing_limits::max_units + 1)),
                     "quantity") == errc::invalid_value);
    CHECK(session.record().mismatch_count == 0);
}

TEST_CASE("a session resumes from its stored record and refuses one it could not have made") {
    packing_session session = opened({want("tea", 2), want("cup", 1)});
    REQUIRE(session.scan(scan_of("tea", 1, 1)).has_value());
    CHECK(session.scan(scan_of("pot", 1, 2)).has_error());
    const packing_record stored = session.record();

    auto resumed = packing_session::resume(stored);
    REQUIRE(resumed.has_value());
    CHECK(resumed->record() == stored);
    CHECK(resumed->remaining() == 2);
    CHECK(resumed->counted(sku_id("tea")) == 1);
    CHECK(resumed->scan(scan_of("tea", 2)).has_error());
    REQUIRE(resumed->scan(scan_of("tea", 1)).has_value());
    REQUIRE(resumed->scan(scan_of("cup", 1)).has_value());
    REQUIRE(resumed->finish(at_second(9)).has_value());
    auto passed = packing_session::resume(resumed->record());
    REQUIRE(passed.has_value());
    CHECK(passed->record().status == packing_status::passed);
    CHECK(passed->scan(scan_of("tea", 1)).has_error());

    packing_record r = stored;
    r.shipment = shipment_id();
    CHECK(refusal_of(packing_session::resume(r), "record.shipment") == errc::missing_value);
    r = stored;
    std::swap(r.expected[0], r.expected[1]);
    CHECK(refusal_of(packing_session::resume(r), "record.expected[1].sku") == errc::invalid_value);
    r = stored;
    r.expected.push_back(want("tea", 1));
    CHECK(refusal_of(packing_session::resume(r), "record.expected[2].sku") == errc::invalid_value);
    r = stored;
    r.expected.clear();
    CHECK(refusal_of(packing_session::resume(r), "record.expected") == errc::missing_value);
    r = stored;
    r.scans.push_back(scan_of("pot", 1));
    CHECK(refusal_of(packing_session::resume(r), "record.scans[1].sku") == errc::invalid_value);
    r = stored;
    r.scans.push_back(scan_of("tea", 2));
    CHECK(refusal_of(packing_session::resume(r), "record.scans[1].units") == errc::invalid_value);
    r = stored;
    r.status = packing_status::passed;
    r.finished_at = at_second(3);
    CHECK(refusal_of(packing_session::resume(r), "record.status") == errc::invalid_value);
    r = stored;
    r.finished_at = at_second(3);
    CHECK(refusal_of(packing_session::resume(r), "record.finished_at") == errc::invalid_value);
    r = stored;
    r.status = static_cast<packing_status>(7);
    CHECK(refusal_of(packing_session::resume(r), "record.status") == errc::invalid_value);
    r = stored;
    r.mismatch_count = 0;
    CHECK(refusal_of(packing_session::resume(r), "record.mismatch_count") == errc::invalid_value);
    r = stored;
    r.mismatches[0].kind = static_cast<packing_mismatch_kind>(9);
    CHECK(refusal_of(packing_session::resume(r), "record.mismatches[0].kind") ==
          errc::invalid_value);
    r = stored;
    r.mismatches.assign(orderly::packing_limits::max_mismatches + 1, stored.mismatches[0]);
    r.mismatch_count = r.mismatches.size();
    CHECK(refusal_of(packing_session::resume(r), "record.mismatches") == errc::invalid_value);
}

TEST_CASE("a record keeps the first mismatches and counts the rest") {
    packing_session session = opened({want("tea", 1)});
    const std::size_t limit = orderly::packing_limits::max_mismatches;
    for (std::size_t i = 0; i < limit + 5; ++i) {
        CHECK(session.scan(scan_of("pot", 1, static_cast<std::int64_t>(i))).has_error());
    }
    CHECK(session.record().mismatches.size() == limit);
    CHECK(session.record().mismatch_count == limit + 5);
    CHECK(session.record().mismatches.back().at == at_second(static_cast<std::int64_t>(limit) - 1));
    REQUIRE(session.scan(scan_of("tea", 1)).has_value());
    CHECK(session.finish(at_second(1)).has_value());
    CHECK(packing_session::resume(session.record()).has_value());
}

TEST_CASE("packaging follows the goods' traits, combined for a mixed parcel") {
    const auto hint_for = [](std::vector<packed_item> items) {
        auto hint = orderly::suggest_packaging(items);
        REQUIRE(hint.has_value());
        return *hint;
    };
    const packaging_hint plain = hint_for({goods("tea", 2, 400)});
    CHECK_FALSE(plain.padded);
    CHECK_FALSE(plain.sealed);
    CHECK_FALSE(plain.insured);
    CHECK(plain.volume_cm3 == 800);
    REQUIRE(plain.box.has_value());
    CHECK(plain.box->name == "XS");
    CHECK(plain.instructions() == std::vector<std::string>{"Use box XS."});

    const packaging_hint fragile = hint_for({goods("cup", 2, 400, {.fragile = true})});
    CHECK(fragile.padded);
    CHECK(fragile.volume_cm3 == 1040);  // 800 + 30% for padding
    CHECK(fragile.box->name == "S");

    const packaging_hint liquid = hint_for({goods("oil", 1, 1000, {.liquid = true})});
    CHECK(liquid.sealed);
    CHECK(liquid.upright);
    CHECK_FALSE(liquid.padded);
    CHECK(liquid.box->name == "XS");  // exactly full

    const packaging_hint valuable = hint_for({goods("ring", 1, 10, {.valuable = true})});
    CHECK(valuable.tamper_evident);
    CHECK(valuable.insured);

    const packaging_hint mixed = hint_for(
        {goods("tea", 10, 300), goods("cup", 1, 500, {.fragile = true}),
         goods("oil", 2, 1000, {.liquid = true}), goods("ring", 1, 5, {.valuable = true})});
    CHECK(mixed.padded);
    CHECK(mixed.sealed);
    CHECK(mixed.upright);
    CHECK(mixed.tamper_evident);
    CHECK(mixed.insured);
    CHECK_FALSE(mixed.freight);
    CHECK(mixed.volume_cm3 == 5505 + 1652);  // 30% of 5505, rounded up
    CHECK(mixed.box->name == "M");
    CHECK(mixed.instructions() ==
          std::vector<std::string>{
              "Wrap each fragile item in bubble wrap and fill the gaps with padding.",
              "Seal liquids in a leak-proof bag.",
              "Pack liquids upright and mark the box \"this way up\".",
              "Close the parcel with tamper-evident tape.",
              "Insure the parcel for the value of its goods.", "Use box M."});

    const packaging_hint huge = hint_for({goods("rug", 1, 60'000)});
    CHECK_FALSE(huge.box.has_value());
    CHECK(huge.instructions().back().find("No box holds 60000") == 0);

    const packaging_hint bulky =
        hint_for({goods("sofa", 1, 500, {.bulky = true}), goods("tea", 1, 1)});
    CHECK(bulky.freight);
    CHECK_FALSE(bulky.box.has_value());
    CHECK(bulky.instructions().back() == "Too bulky for a parcel box: ship as freight.");
}

TEST_CASE("the box table is the host's, and bad tables and items are refused") {
    packaging_options options{.boxes = {{"big", 5000}, {"small", 100}, {"also-small", 100}},
                              .padding_percent = 0};
    const std::vector<packed_item> cups = {goods("cup", 1, 90, {.fragile = true})};
    const auto hint = orderly::suggest_packaging(cups, options);
    REQUIRE(hint.has_value());
    CHECK(hint->volume_cm3 == 90);
    CHECK(hint->box->name == "small");  // smallest; on a tie, the earlier

    options.boxes.clear();
    const auto no_boxes = orderly::suggest_packaging(cups, options);
    REQUIRE(no_boxes.has_value());
    CHECK_FALSE(no_boxes->box.has_value());

    const auto refuse = [&cups](const packaging_options& o, std::string_view field) {
        return refusal_of(orderly::suggest_packaging(cups, o), field);
    };
    CHECK(refuse({.boxes = {{"", 10}}, .padding_percent = 0}, "boxes[0].name") ==
          errc::missing_value);
    CHECK(refuse({.boxes = {{"a", 10}, {"a", 20}}, .padding_percent = 0}, "boxes[1].name") ==
          errc::invalid_value);
    CHECK(refuse({.boxes = {{"a", 0}}, .padding_percent = 0}, "boxes[0].capacity_cm3") ==
          errc::invalid_value);
    CHECK(refuse({.boxes = {}, .padding_percent = 101}, "padding_percent") == errc::invalid_value);
    CHECK(refuse({.boxes = {}, .padding_percent = -1}, "padding_percent") == errc::invalid_value);
    CHECK(refuse({.boxes = std::vector<orderly::box_size>(orderly::packing_limits::max_boxes + 1,
                                                          {"a", 1}),
                  .padding_percent = 0},
                 "boxes") == errc::invalid_value);

    const auto refuse_items = [](std::vector<packed_item> items, std::string_view field) {
        return refusal_of(orderly::suggest_packaging(items), field);
    };
    CHECK(refuse_items({}, "items") == errc::missing_value);
    CHECK(refuse_items({goods("", 1, 1)}, "items[0].sku") == errc::missing_value);
    CHECK(refuse_items({goods("tea", 1, 1), packed_item{sku_id("cup"), quantity{}, 1, {}}},
                       "items[1].units") == errc::invalid_value);
    CHECK(refuse_items({goods("tea", 1, -1)}, "items[0].unit_volume_cm3") == errc::invalid_value);
    CHECK(refuse_items({goods("tea", 1, orderly::packing_limits::max_unit_volume_cm3 + 1)},
                       "items[0].unit_volume_cm3") == errc::invalid_value);
    CHECK(refuse_items({goods("tea", orderly::packing_limits::max_units, 1), goods("cup", 1, 1)},
                       "items") == errc::invalid_value);
    CHECK(refuse_items(
              std::vector<packed_item>(orderly::packing_limits::max_lines + 1, goods("tea", 1, 1)),
              "items") == errc::invalid_value);
}

// ---- seeded randomized invariants -----------------------------------------

TEST_CASE("randomized: exact scans in any order pass and every over-scan is refused") {
    constexpr std::uint64_t seed = 20261203;
    constexpr int cases = 400;
    MESSAGE("packing seed ", seed, ", ", cases, " cases");
    std::mt19937_64 rng(seed);
    const auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    for (int n = 0; n < cases; ++n) {
        INFO("seed ", seed, ", case ", n);
        std::vector<packing_line> lines;
        const std::int64_t count = pick(1, 8);
        for (std::int64_t i = 0; i < count; ++i) {
            lines.push_back(want(fmt::format("sku{}", pick(0, 9)), pick(1, 6)));
        }
        packing_session session = opened(lines, static_cast<std::uint64_t>(n) + 1);
        const std::vector<packing_line> expected = session.record().expected;

        // The exact scans: each SKU's units in random chunks, in random order.
        std::vector<packing_scan> scans;
        for (const packing_line& line : expected) {
            std::int64_t left = line.units.units();
            while (left > 0) {
                const std::int64_t chunk = pick(1, left);
                scans.push_back(
                    scan_of(line.sku.value(), chunk, static_cast<std::int64_t>(scans.size())));
                left -= chunk;
            }
        }
        std::shuffle(scans.begin(), scans.end(), rng);

        std::uint64_t refused = 0;
        for (std::size_t k = 0; k < scans.size(); ++k) {
            // Now and then an over-scan or a stranger, which must change no count.
            if (pick(0, 2) == 0) {
                const packing_line& line = expected[static_cast<std::size_t>(
                    pick(0, static_cast<std::int64_t>(expected.size()) - 1))];
                const std::int64_t left = line.units.units() - session.counted(line.sku);
                const auto over = session.scan(scan_of(line.sku.value(), left + pick(1, 3)));
                CHECK(refusal_of(over, "quantity") == errc::invalid_value);
                const auto stranger = session.scan(scan_of("stranger", pick(1, 3)));
                CHECK(refusal_of(stranger, "sku") == errc::invalid_value);
                refused += 2;
                CHECK(session.counted(line.sku) == line.units.units() - left);
            }
            if (pick(0, 4) == 0) {  // the engine stores and reloads between commands
                auto resumed = packing_session::resume(session.record());
                REQUIRE(resumed.has_value());
                CHECK(resumed->record() == session.record());
                session = *std::move(resumed);
            }
            const auto accepted = session.scan(scans[k]);
            REQUIRE(accepted.has_value());
            if (k + 1 < scans.size()) {
                CHECK(accepted->remaining > 0);
                CHECK(refusal_of(session.finish(at_second(1)), "quantity") == errc::missing_value);
                ++refused;  // at least one `missing` mismatch
            }
        }
        CHECK(session.remaining() == 0);
        CHECK(session.missing().empty());
        // Complete: any further unit of any SKU is an over-scan.
        for (const packing_line& line : expected) {
            CHECK(refusal_of(session.scan(scan_of(line.sku.value(), 1)), "quantity") ==
                  errc::invalid_value);
            ++refused;
        }
        REQUIRE(session.finish(at_second(99)).has_value());
        CHECK(session.record().status == packing_status::passed);
        CHECK(session.record().scans.size() == scans.size());
        CHECK(session.record().mismatch_count >= refused);
        for (const packing_line& line : expected) {
            CHECK(session.counted(line.sku) == line.units.units());
        }
        CHECK(packing_session::resume(session.record()).has_value());
    }
}
