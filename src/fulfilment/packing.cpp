#include <orderly/fulfilment/packing.hpp>

#include <orderly/core/address.hpp>

#include "checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orderly {
namespace {

using detail::fulfilment::check_id;
using detail::fulfilment::check_units;
using detail::fulfilment::indexed;
using detail::fulfilment::units_text;

/// Largest usable volume a box may have, in cubic centimetres (1000 m³).
constexpr std::int64_t max_box_capacity_cm3 = 1'000'000'000;

/// SKUs a refused finish() names one by one; the rest are counted.
constexpr std::size_t missing_named = 5;

std::optional<error> check_line(const packing_line& line) {
    if (auto bad = check_id(line.sku, "sku")) {
        return bad;
    }
    return check_units(line.units.units(), packing_limits::max_units, "units");
}

std::optional<error> too_many_units(std::int64_t total, std::string field) {
    if (total > packing_limits::max_units) {
        return error{errc::invalid_value, std::move(field),
                     fmt::format("hold {} units in all, more than the {} one parcel may hold",
                                 total, packing_limits::max_units)};
    }
    return std::nullopt;
}

// Lines checked, one per SKU (lines of one SKU added), sorted by SKU.
result<std::vector<packing_line>> merged_lines(std::span<const packing_line> lines) {
    if (lines.empty()) {
        return error{errc::missing_value, "lines", "a shipment needs at least one line"};
    }
    if (lines.size() > packing_limits::max_lines) {
        return error{
            errc::invalid_value, "lines",
            fmt::format("must be at most {}, got {}", packing_limits::max_lines, lines.size())};
    }
    std::int64_t total = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (auto bad = check_line(lines[i])) {
            return std::move(*bad).within(indexed("lines", i));
        }
        total += lines[i].units.units();  // at most 1000 × 100 000
    }
    if (auto bad = too_many_units(total, "lines")) {
        return *std::move(bad);
    }
    std::vector<packing_line> merged(lines.begin(), lines.end());
    std::stable_sort(merged.begin(), merged.end(),
                     [](const packing_line& a, const packing_line& b) { return a.sku < b.sku; });
    std::vector<packing_line> out;
    for (packing_line& line : merged) {
        if (!out.empty() && out.back().sku == line.sku) {
            out.back().units = *quantity::of(out.back().units.units() + line.units.units());
        } else {
            out.push_back(std::move(line));
        }
    }
    return out;
}

// The expected lines of a stored record: valid, sorted, one per SKU.
result<std::int64_t> check_expected(const std::vector<packing_line>& expected) {
    if (expected.empty()) {
        return error{errc::missing_value, "expected", "a shipment needs at least one line"};
    }
    if (expected.size() > packing_limits::max_lines) {
        return error{
            errc::invalid_value, "expected",
            fmt::format("must be at most {}, got {}", packing_limits::max_lines, expected.size())};
    }
    std::int64_t total = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (auto bad = check_line(expected[i])) {
            return std::move(*bad).within(indexed("expected", i));
        }
        if (i > 0 && !(expected[i - 1].sku < expected[i].sku)) {
            return error{errc::invalid_value, fmt::format("expected[{}].sku", i),
                         "lines must be sorted by SKU, one line per SKU"};
        }
        total += expected[i].units.units();
    }
    if (auto bad = too_many_units(total, "expected")) {
        return *std::move(bad);
    }
    return total;
}

result<void> check_mismatches(const packing_record& record) {
    if (record.mismatches.size() > packing_limits::max_mismatches) {
        return error{errc::invalid_value, "mismatches",
                     fmt::format("must be at most {}, got {}", packing_limits::max_mismatches,
                                 record.mismatches.size())};
    }
    if (record.mismatch_count < record.mismatches.size()) {
        return error{
            errc::invalid_value, "mismatch_count",
            fmt::format("must count at least the {} mismatches kept", record.mismatches.size())};
    }
    for (std::size_t i = 0; i < record.mismatches.size(); ++i) {
        const packing_mismatch_kind kind = record.mismatches[i].kind;
        if (kind != packing_mismatch_kind::unexpected_sku &&
            kind != packing_mismatch_kind::over_quantity &&
            kind != packing_mismatch_kind::missing) {
            return error{errc::invalid_value, fmt::format("mismatches[{}].kind", i),
                         "must be unexpected_sku, over_quantity or missing"};
        }
    }
    return {};
}

// "2 units of SKU A and 1 unit of SKU B", the first few by name.
std::string describe_missing(const std::vector<packing_line>& missing) {
    std::vector<std::string> named;
    for (std::size_t i = 0; i < missing.size() && i < missing_named; ++i) {
        named.push_back(
            fmt::format("{} of SKU {}", units_text(missing[i].units.units()), missing[i].sku));
    }
    if (missing.size() > missing_named) {
        const std::size_t more = missing.size() - missing_named;
        named.push_back(fmt::format("{} more SKU{}", more, more == 1 ? "" : "s"));
    }
    std::string text;
    for (std::size_t i = 0; i < named.size(); ++i) {
        if (i > 0) {
            text += i + 1 == named.size() ? " and " : ", ";
        }
        text += named[i];
    }
    return text;
}

}  // namespace

packing_session::packing_session(packing_record record, std::vector<std::int64_t> counted,
                                 std::int64_t remaining)
    : record_(std::move(record)), counted_(std::move(counted)), remaining_(remaining) {}

result<packing_session> packing_session::open(shipment_id shipment,
                                              std::span<const packing_line> lines) {
    if (shipment.empty()) {
        return error{errc::missing_value, "shipment", "is required"};
    }
    auto expected = merged_lines(lines);
    if (!expected) {
        return std::move(expected).error();
    }
    std::int64_t total = 0;
    for (const packing_line& line : *expected) {
        total += line.units.units();
    }
    packing_record record;
    record.shipment = shipment;
    record.expected = *std::move(expected);
    std::vector<std::int64_t> counted(record.expected.size(), 0);
    return packing_session(std::move(record), std::move(counted), total);
}

result<packing_session> packing_session::resume(packing_record record) {
    const auto fail = [](error e) { return std::move(e).within("record"); };
    if (record.shipment.empty()) {
        return fail(error{errc::missing_value, "shipment", "is required"});
    }
    auto total = check_expected(record.expected);
    if (!total) {
        return fail(std::move(total).error());
    }
    packing_session session(std::move(record), {}, *total);
    packing_record& r = session.record_;
    session.counted_.assign(r.expected.size(), 0);
    for (std::size_t i = 0; i < r.scans.size(); ++i) {
        const packing_scan& s = r.scans[i];
        const std::optional<std::size_t> line = session.line_of(s.sku);
        if (!line) {
            return fail(error{errc::invalid_value, fmt::format("scans[{}].sku", i),
                              fmt::format("SKU {} is not in the shipment", s.sku)});
        }
        const std::int64_t left = r.expected[*line].units.units() - session.counted_[*line];
        if (s.units.units() < 1 || s.units.units() > left) {
            return fail(
                error{errc::invalid_value, fmt::format("scans[{}].units", i),
                      fmt::format("must be between 1 and the {} left of SKU {}", left, s.sku)});
        }
        session.counted_[*line] += s.units.units();
        session.remaining_ -= s.units.units();
    }
    if (auto valid = check_mismatches(r); !valid) {
        return fail(std::move(valid).error());
    }
    const bool passed = r.status == packing_status::passed;
    if (!passed && r.status != packing_status::open) {
        return fail(error{errc::invalid_value, "status", "must be open or passed"});
    }
    if (passed && (session.remaining_ != 0 || !r.finished_at)) {
        return fail(error{errc::invalid_value, "status",
                          "a passed check must have every unit scanned and a finish time"});
    }
    if (!passed && r.finished_at) {
        return fail(error{errc::invalid_value, "finished_at", "an open check has no finish time"});
    }
    return session;
}

std::optional<std::size_t> packing_session::line_of(const sku_id& sku) const noexcept {
    const auto at = std::lower_bound(
        record_.expected.begin(), record_.expected.end(), sku,
        [](const packing_line& line, const sku_id& wanted) { return line.sku < wanted; });
    if (at == record_.expected.end() || at->sku != sku) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(at - record_.expected.begin());
}

void packing_session::note_mismatch(packing_mismatch m) {
    ++record_.mismatch_count;
    if (record_.mismatches.size() < packing_limits::max_mismatches) {
        record_.mismatches.push_back(std::move(m));
    }
}

result<scan_progress> packing_session::scan(const packing_scan& s) {
    if (record_.status == packing_status::passed) {
        return error{
            errc::transition_not_allowed, "status",
            fmt::format("the packing check of shipment {} has already passed", record_.shipment)};
    }
    if (auto bad = check_id(s.sku, "sku")) {
        return *std::move(bad);
    }
    const std::int64_t units = s.units.units();
    if (auto bad = check_units(units, packing_limits::max_units, "quantity")) {
        return *std::move(bad);
    }
    const std::optional<std::size_t> line = line_of(s.sku);
    if (!line) {
        note_mismatch(
            packing_mismatch{packing_mismatch_kind::unexpected_sku, s.sku, 0, 0, units, s.at});
        return error{
            errc::invalid_value, "sku",
            fmt::format("SKU {} is not in shipment {}: put it aside", s.sku, record_.shipment)};
    }
    const std::int64_t expected = record_.expected[*line].units.units();
    const std::int64_t counted = counted_[*line];
    const std::int64_t left = expected - counted;
    if (units > left) {
        const std::string packed = expected == 1
                                       ? fmt::format("the 1 unit of SKU {} is", s.sku)
                                       : fmt::format("all {} units of SKU {} are", expected, s.sku);
        std::string message =
            left == 0 ? fmt::format("{} already packed: {} extra, put {} aside", packed,
                                    units_text(units), units == 1 ? "it" : "them")
                      : fmt::format(
                            "only {} more of SKU {} belong{} in this shipment, {} scanned: "
                            "the scan was not counted",
                            units_text(left), s.sku, left == 1 ? "s" : "", units);
        note_mismatch(packing_mismatch{packing_mismatch_kind::over_quantity, s.sku, expected,
                                       counted, units, s.at});
        return error{errc::invalid_value, "quantity", std::move(message)};
    }
    counted_[*line] += units;
    remaining_ -= units;
    record_.scans.push_back(s);
    return scan_progress{counted_[*line], expected, remaining_};
}

result<void> packing_session::finish(timestamp at) {
    if (record_.status == packing_status::passed) {
        return {};
    }
    if (remaining_ == 0) {
        record_.status = packing_status::passed;
        record_.finished_at = at;
        return {};
    }
    const std::vector<packing_line> left = missing();
    for (const packing_line& line : left) {
        const std::size_t i = *line_of(line.sku);
        note_mismatch(packing_mismatch{packing_mismatch_kind::missing, line.sku,
                                       record_.expected[i].units.units(), counted_[i],
                                       line.units.units(), at});
    }
    const bool one = left.size() == 1 && left.front().units.units() == 1;
    return error{errc::missing_value, "quantity",
                 fmt::format("{} {} still missing from shipment {}", describe_missing(left),
                             one ? "is" : "are", record_.shipment)};
}

std::int64_t packing_session::counted(const sku_id& sku) const noexcept {
    const std::optional<std::size_t> line = line_of(sku);
    return line ? counted_[*line] : 0;
}

std::vector<packing_line> packing_session::missing() const {
    std::vector<packing_line> left;
    for (std::size_t i = 0; i < record_.expected.size(); ++i) {
        const std::int64_t units = record_.expected[i].units.units() - counted_[i];
        if (units > 0) {
            left.push_back(packing_line{record_.expected[i].sku, *quantity::of(units)});
        }
    }
    return left;
}

std::vector<box_size> standard_boxes() {
    return {{"XS", 1'000}, {"S", 3'000}, {"M", 8'000}, {"L", 20'000}, {"XL", 50'000}};
}

std::vector<std::string> packaging_hint::instructions() const {
    std::vector<std::string> out;
    if (padded) {
        out.emplace_back("Wrap each fragile item in bubble wrap and fill the gaps with padding.");
    }
    if (sealed) {
        out.emplace_back("Seal liquids in a leak-proof bag.");
    }
    if (upright) {
        out.emplace_back("Pack liquids upright and mark the box \"this way up\".");
    }
    if (tamper_evident) {
        out.emplace_back("Close the parcel with tamper-evident tape.");
    }
    if (insured) {
        out.emplace_back("Insure the parcel for the value of its goods.");
    }
    if (freight) {
        out.emplace_back("Too bulky for a parcel box: ship as freight.");
    } else if (box) {
        out.push_back(fmt::format("Use box {}.", box->name));
    } else {
        out.push_back(
            fmt::format("No box holds {} cm³: split the parcel or use a larger box.", volume_cm3));
    }
    return out;
}

result<void> validate(const packaging_options& options) {
    if (options.boxes.size() > packing_limits::max_boxes) {
        return error{errc::invalid_value, "boxes",
                     fmt::format("must be at most {}, got {}", packing_limits::max_boxes,
                                 options.boxes.size())};
    }
    for (std::size_t i = 0; i < options.boxes.size(); ++i) {
        const box_size& box = options.boxes[i];
        if (auto bad = detail::check_text(box.name, "name", packing_limits::box_name_bytes,
                                          detail::presence::required)) {
            return std::move(*bad).within(indexed("boxes", i));
        }
        if (box.capacity_cm3 < 1 || box.capacity_cm3 > max_box_capacity_cm3) {
            return error{errc::invalid_value, fmt::format("boxes[{}].capacity_cm3", i),
                         fmt::format("must be between 1 and {}, got {}", max_box_capacity_cm3,
                                     box.capacity_cm3)};
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (options.boxes[j].name == box.name) {
                return error{errc::invalid_value, fmt::format("boxes[{}].name", i),
                             fmt::format("repeats the name of boxes[{}]", j)};
            }
        }
    }
    if (options.padding_percent < 0 || options.padding_percent > 100) {
        return error{errc::invalid_value, "padding_percent",
                     fmt::format("must be between 0 and 100, got {}", options.padding_percent)};
    }
    return {};
}

result<packaging_hint> suggest_packaging(std::span<const packed_item> items,
                                         const packaging_options& options) {
    if (auto valid = validate(options); !valid) {
        return std::move(valid).error();
    }
    if (items.empty()) {
        return error{errc::missing_value, "items", "a parcel needs at least one item"};
    }
    if (items.size() > packing_limits::max_lines) {
        return error{
            errc::invalid_value, "items",
            fmt::format("must be at most {}, got {}", packing_limits::max_lines, items.size())};
    }
    goods_traits traits;
    std::int64_t units = 0;
    std::int64_t volume = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const packed_item& item = items[i];
        if (auto bad = check_id(item.sku, indexed("items", i) + ".sku")) {
            return *std::move(bad);
        }
        if (auto bad = check_units(item.units.units(), packing_limits::max_units,
                                   indexed("items", i) + ".units")) {
            return *std::move(bad);
        }
        if (item.unit_volume_cm3 < 0 ||
            item.unit_volume_cm3 > packing_limits::max_unit_volume_cm3) {
            return error{errc::invalid_value, indexed("items", i) + ".unit_volume_cm3",
                         fmt::format("must be between 0 and {}, got {}",
                                     packing_limits::max_unit_volume_cm3, item.unit_volume_cm3)};
        }
        units += item.units.units();
        if (auto bad = too_many_units(units, "items")) {
            return *std::move(bad);
        }
        volume += item.units.units() * item.unit_volume_cm3;  // ≤ 10^5 units × 10^7 cm³
        traits = traits.combined_with(item.traits);
    }
    packaging_hint hint{.padded = traits.fragile,
                        .sealed = traits.liquid,
                        .upright = traits.liquid,
                        .tamper_evident = traits.valuable,
                        .insured = traits.valuable,
                        .freight = traits.bulky,
                        .volume_cm3 = volume,
                        .box = std::nullopt};
    if (hint.padded) {
        hint.volume_cm3 += (volume * options.padding_percent + 99) / 100;  // rounded up
    }
    if (!hint.freight) {
        for (const box_size& box : options.boxes) {
            if (box.capacity_cm3 >= hint.volume_cm3 &&
                (!hint.box || box.capacity_cm3 < hint.box->capacity_cm3)) {
                hint.box = box;
            }
        }
    }
    return hint;
}

}  // namespace orderly
