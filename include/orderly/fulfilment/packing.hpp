#pragma once
/// \file
/// Packing: the re-check of a parcel against its shipment before it is
/// sealed, and packaging hints from the goods' traits.
///
/// A packing_session holds one shipment's expected SKUs and quantities and
/// takes scans. A scan of a SKU the shipment does not hold, or beyond its
/// quantity, is refused and written into the session's record as a
/// mismatch; finish() passes only when every unit was scanned. The record
/// (expected lines, accepted scans, mismatches, status) is a plain value the
/// engine stores; packing_session::resume() continues from it, so each scan
/// can be its own command.

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/time.hpp>
#include <orderly/fulfilment/goods_traits.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace orderly {

/// Limits on packing inputs; larger inputs are refused with invalid_value.
struct packing_limits {
    /// Distinct SKUs (lines) in one shipment or parcel.
    static constexpr std::size_t max_lines = 1000;
    /// Units in one shipment: a parcel, not a container. Also bounds the
    /// accepted scans a record can hold (each is at least one unit).
    static constexpr std::int64_t max_units = 100'000;
    /// Mismatches a record keeps; later ones are only counted.
    static constexpr std::size_t max_mismatches = 1000;
    /// Volume of one unit, in cubic centimetres (10 m³).
    static constexpr std::int64_t max_unit_volume_cm3 = 10'000'000;
    /// Boxes in a box table.
    static constexpr std::size_t max_boxes = 32;
    /// Bytes of a box name.
    static constexpr std::size_t box_name_bytes = 64;
};

/// Units of one SKU a shipment holds.
struct packing_line {
    sku_id sku;      ///< What.
    quantity units;  ///< How many; more than zero.

    /// Lines are equal when both fields are.
    friend bool operator==(const packing_line&, const packing_line&) = default;
};

/// One scan at the packing station: a SKU's barcode and how many units (a
/// packer may key in a count for identical items).
struct packing_scan {
    sku_id sku;      ///< What was scanned.
    quantity units;  ///< How many units; at least 1.
    timestamp at;    ///< When (from the Clock port).

    /// Scans are equal when every field is.
    friend bool operator==(const packing_scan&, const packing_scan&) = default;
};

/// What kind of mismatch a record holds. Stored values never change.
enum class packing_mismatch_kind : std::uint8_t {
    unexpected_sku = 1,  ///< A scan of a SKU the shipment does not hold.
    over_quantity = 2,   ///< A scan beyond the SKU's quantity in the shipment.
    missing = 3,         ///< At a refused finish(): units of a SKU not yet scanned.
};

/// The stable name of a mismatch kind ("over_quantity").
[[nodiscard]] constexpr std::string_view to_string(packing_mismatch_kind k) noexcept {
    switch (k) {
        case packing_mismatch_kind::unexpected_sku:
            return "unexpected_sku";
        case packing_mismatch_kind::over_quantity:
            return "over_quantity";
        case packing_mismatch_kind::missing:
            return "missing";
    }
    return "unknown";
}

/// A refused scan or a refused finish, as the record keeps it.
struct packing_mismatch {
    packing_mismatch_kind kind{packing_mismatch_kind::unexpected_sku};  ///< What went wrong.
    sku_id sku;                                                         ///< Which SKU.
    std::int64_t expected{0};  ///< Units of it the shipment holds (0 for unexpected_sku).
    std::int64_t counted{0};   ///< Units of it accepted before this.
    /// The refused scan's units; for `missing`, the units still to scan.
    std::int64_t units{0};
    timestamp at;  ///< When.

    /// Mismatches are equal when every field is.
    friend bool operator==(const packing_mismatch&, const packing_mismatch&) = default;
};

/// Where a packing check stands. Stored values never change.
enum class packing_status : std::uint8_t {
    open = 1,    ///< Scanning; not everything is counted yet, or finish() was not called.
    passed = 2,  ///< finish() found every unit: the parcel may be sealed.
};

/// The stable name of a packing status ("passed").
[[nodiscard]] constexpr std::string_view to_string(packing_status s) noexcept {
    switch (s) {
        case packing_status::open:
            return "open";
        case packing_status::passed:
            return "passed";
    }
    return "unknown";
}

/// Everything a packing check did: the plain value the engine stores.
struct packing_record {
    shipment_id shipment;                         ///< Which shipment.
    std::vector<packing_line> expected;           ///< One line per SKU, by SKU id.
    std::vector<packing_scan> scans;              ///< Accepted scans, in order.
    std::vector<packing_mismatch> mismatches;     ///< The first max_mismatches, in order.
    std::uint64_t mismatch_count{0};              ///< All mismatches, kept or not.
    packing_status status{packing_status::open};  ///< Where it stands.
    std::optional<timestamp> finished_at;         ///< When it passed.

    /// Records are equal when every field is.
    friend bool operator==(const packing_record&, const packing_record&) = default;
};

/// What an accepted scan leaves to do.
struct scan_progress {
    std::int64_t counted{0};    ///< Units of the scanned SKU accepted so far.
    std::int64_t expected{0};   ///< Units of it in the shipment.
    std::int64_t remaining{0};  ///< Units of the whole shipment still to scan.

    /// Progress values are equal when every field is.
    friend bool operator==(const scan_progress&, const scan_progress&) = default;
};

/// The packing re-check of one shipment. Not thread-safe: one packer, one
/// session; the engine serialises commands on a shipment.
class packing_session {
public:
    /// Starts a check. Lines of one SKU are added together. Refuses: no
    /// lines (`lines`, missing_value), more than max_lines, a bad SKU or
    /// units (`lines[i].sku`, `lines[i].units`), more than max_units in all
    /// (`lines`), an empty shipment id (`shipment`).
    [[nodiscard]] static result<packing_session> open(shipment_id shipment,
                                                      std::span<const packing_line> lines);

    /// Continues from a stored record, after checking it is one a session
    /// could have made (fields under `record.`: expected lines sorted and
    /// valid, every scan of an expected SKU and within its quantity, the
    /// status consistent with the counts).
    [[nodiscard]] static result<packing_session> resume(packing_record record);

    /// Counts a scan. Refused, and recorded as a mismatch: a SKU the
    /// shipment does not hold (invalid_value, field "sku"); more units than
    /// are left of the SKU (invalid_value, field "quantity"; none of the
    /// scan's units count). Refused without a record: a malformed SKU
    /// ("sku"), units below 1 or above max_units ("quantity"), and any scan
    /// after the check passed (transition_not_allowed, field "status").
    [[nodiscard]] result<scan_progress> scan(const packing_scan& s);

    /// Passes the check when every unit was scanned (status becomes passed,
    /// finished_at is set; calling it again changes nothing). Otherwise
    /// refuses with missing_value on field "quantity", naming each missing
    /// SKU and how many units, records a `missing` mismatch per SKU, and
    /// stays open for more scans.
    [[nodiscard]] result<void> finish(timestamp at);

    /// Units of `sku` accepted so far (0 for a SKU the shipment does not hold).
    [[nodiscard]] std::int64_t counted(const sku_id& sku) const noexcept;
    /// Units of the whole shipment still to scan.
    [[nodiscard]] std::int64_t remaining() const noexcept { return remaining_; }
    /// The SKUs not yet fully scanned and how many units each still needs, by SKU id.
    [[nodiscard]] std::vector<packing_line> missing() const;
    /// The record so far.
    [[nodiscard]] const packing_record& record() const noexcept { return record_; }

private:
    packing_session(packing_record record, std::vector<std::int64_t> counted,
                    std::int64_t remaining);
    [[nodiscard]] std::optional<std::size_t> line_of(const sku_id& sku) const noexcept;
    void note_mismatch(packing_mismatch m);

    packing_record record_;
    std::vector<std::int64_t> counted_;  // per expected line
    std::int64_t remaining_{0};
};

/// A box the packing station stocks.
struct box_size {
    std::string name;              ///< What the packer reaches for, e.g. "M". Required.
    std::int64_t capacity_cm3{0};  ///< Usable volume in cubic centimetres; more than zero.

    /// Boxes are equal when both fields are.
    friend bool operator==(const box_size&, const box_size&) = default;
};

/// orderly's default boxes: XS 1 L, S 3 L, M 8 L, L 20 L, XL 50 L (usable volume).
[[nodiscard]] std::vector<box_size> standard_boxes();

/// How packaging is suggested.
struct packaging_options {
    /// The boxes to choose from; the smallest that holds the goods is
    /// suggested (on equal capacity, the earlier). At most max_boxes.
    std::vector<box_size> boxes = standard_boxes();
    /// Extra volume, in percent of the goods' volume, when anything is
    /// fragile: room for padding. 0 to 100.
    std::int64_t padding_percent{30};
};

/// One kind of item going into a parcel.
struct packed_item {
    sku_id sku;                       ///< What.
    quantity units;                   ///< How many; 1 to packing_limits::max_units.
    std::int64_t unit_volume_cm3{0};  ///< Volume of one unit (sku::volume_cm3).
    goods_traits traits;              ///< Its traits.

    /// Items are equal when every field is.
    friend bool operator==(const packed_item&, const packed_item&) = default;
};

/// How to pack a parcel: the traits of all its items combined (one fragile
/// item makes the whole parcel padded), and a box by volume.
struct packaging_hint {
    bool padded{false};          ///< Fragile goods: bubble wrap and padding.
    bool sealed{false};          ///< Liquid goods: a sealed, leak-proof bag.
    bool upright{false};         ///< Liquid goods: packed upright, box marked "this way up".
    bool tamper_evident{false};  ///< Valuable goods: tamper-evident tape or bag.
    bool insured{false};         ///< Valuable goods: insured for their value.
    bool freight{false};         ///< Bulky goods: no parcel box; ships as freight.
    /// The goods' volume, plus the padding allowance when padded.
    std::int64_t volume_cm3{0};
    /// The smallest box that holds `volume_cm3`; empty when the parcel ships
    /// as freight or no box is large enough (split it or use a larger box).
    std::optional<box_size> box;

    /// What the packer should do, in words, one sentence per need, in a
    /// fixed order (padding, sealing, upright, tamper-evident, insurance,
    /// freight, box).
    [[nodiscard]] std::vector<std::string> instructions() const;

    /// Hints are equal when every field is.
    friend bool operator==(const packaging_hint&, const packaging_hint&) = default;
};

/// Checks packaging options (fields `boxes[i].name`, `boxes[i].capacity_cm3`,
/// `padding_percent`); an empty box table is allowed (no box is suggested).
[[nodiscard]] result<void> validate(const packaging_options& options);

/// Suggests packaging for a parcel of these items. Refuses: no items
/// (`items`), more than max_lines, a bad SKU, units or volume
/// (`items[i].unit_volume_cm3`), more than max_units in all, bad options.
[[nodiscard]] result<packaging_hint> suggest_packaging(std::span<const packed_item> items,
                                                       const packaging_options& options = {});

}  // namespace orderly

/// Formats a mismatch kind as its name.
template <>
struct fmt::formatter<orderly::packing_mismatch_kind> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::packing_mismatch_kind k, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(k), ctx);
    }
};

/// Formats a packing status as its name.
template <>
struct fmt::formatter<orderly::packing_status> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::packing_status s, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(s), ctx);
    }
};
