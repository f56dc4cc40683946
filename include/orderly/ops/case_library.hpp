#pragma once
/// \file
/// The case library: resolved and closed exception cases searched by
/// type, SKU, carrier, merchant, period and text, with counts per resolution
/// code, so operators can see what fixed what before. Pure: it searches the
/// cases it is given (engine::search_cases reads them from the store).

#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/time.hpp>
#include <orderly/ops/exception_case.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace orderly {

/// What to look for. Every filter that is set must match; an empty query
/// matches every resolved or closed case.
struct case_query {
    std::optional<case_type> type{};  ///< Only this type.
    sku_id sku{};                     ///< Only cases about this SKU (empty: any).
    carrier_id carrier{};             ///< Only cases about this carrier (empty: any).
    merchant_id merchant{};           ///< Only cases about this merchant (empty: any).
    /// Only cases resolved at or after this.
    std::optional<timestamp> resolved_from{};
    /// Only cases resolved before this.
    std::optional<timestamp> resolved_to{};
    /// Words that must all occur, case-insensitively (ASCII), in the title,
    /// resolution, resolution code or notes. Split on spaces; empty: any.
    std::string text{};
    /// Most cases returned (the counts cover every match); 1 to 10,000.
    std::size_t limit{100};

    /// Queries are equal when every field is.
    friend bool operator==(const case_query&, const case_query&) = default;
};

/// How many matching cases were resolved with one code.
struct resolution_count {
    std::string code{};    ///< The resolution code ("" for cases resolved without one).
    std::size_t cases{0};  ///< How many matching cases carry it.

    /// Counts are equal when every field is.
    friend bool operator==(const resolution_count&, const resolution_count&) = default;
};

/// What a search found.
struct case_search_result {
    /// Matching cases, most recently resolved first (ties by id), at most
    /// the query's limit.
    std::vector<exception_case> cases{};
    std::size_t total{0};  ///< How many cases matched, before the limit.
    /// Per resolution code over every match, most cases first (ties by code).
    std::vector<resolution_count> by_code{};

    /// Results are equal when every field is.
    friend bool operator==(const case_search_result&, const case_search_result&) = default;
};

/// Checks a query. Refusals: limit 0 or above 10,000 (invalid_value,
/// "limit"); resolved_to not after resolved_from (invalid_value,
/// "resolved_to"); text longer than 512 bytes (invalid_value, "text").
[[nodiscard]] result<void> validate(const case_query& query);

/// Searches `cases` (any order; cases not resolved or closed are skipped).
/// Refusals: what validate(case_query) refuses.
[[nodiscard]] result<case_search_result> search_cases(std::span<const exception_case> cases,
                                                      const case_query& query);

}  // namespace orderly
