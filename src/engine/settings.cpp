// Checks the engine's settings before an engine runs with them.

#include <orderly/engine/settings.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace orderly {

namespace {

result<void> positive(duration d, std::string_view field) {
    if (d <= duration::zero()) {
        return error{errc::invalid_value, std::string(field), "must be longer than zero"};
    }
    return {};
}

constexpr std::size_t max_role_bytes = 64;

result<void> role(const std::string& name, std::string_view field) {
    if (name.empty()) {
        return error{errc::missing_value, std::string(field), "names the role to notify"};
    }
    if (name.size() > max_role_bytes) {
        return error{errc::invalid_value, std::string(field),
                     fmt::format("must be at most {} bytes", max_role_bytes)};
    }
    return {};
}

// The clock exits lost_after and auto_refund_after may be 0 (never). A parcel
// is declared lost only after it was first found delayed, so lost_after, when
// set, is at least delay_limit.
result<void> validate_fulfilment(const fulfilment_settings& f) {
    for (const auto& [d, field] :
         {std::pair{f.merge_window, "fulfilment.merge_window"},
          std::pair{f.lost_after, "fulfilment.lost_after"},
          std::pair{f.auto_refund_after, "fulfilment.auto_refund_after"}}) {
        if (d < duration::zero()) {
            return error{errc::invalid_value, field, "must not be negative"};
        }
    }
    if (f.delay_limit <= duration::zero()) {
        return error{errc::invalid_value, "fulfilment.delay_limit", "must be more than zero"};
    }
    if (f.lost_after > duration::zero() && f.lost_after < f.delay_limit) {
        return error{errc::invalid_value, "fulfilment.lost_after",
                     "must be 0 (never) or at least fulfilment.delay_limit"};
    }
    if (f.default_promised_days < 0 || f.default_promised_days > 365) {
        return error{errc::invalid_value, "fulfilment.default_promised_days",
                     "must be from 0 to 365"};
    }
    if (f.low_stock_scan_every <= duration::zero()) {
        return error{errc::invalid_value, "fulfilment.low_stock_scan_every",
                     "must be more than zero"};
    }
    return {};
}

// Deadlines must be longer than zero (a ticket would escalate the moment it
// arrived); the after-sales window may be 0 (completed orders never close by
// themselves).
result<void> validate_after_sales(const after_sales_settings& a) {
    for (const auto& [d, field] :
         {std::pair{a.response_time, "after_sales.response_time"},
          std::pair{a.inspection_time, "after_sales.inspection_time"},
          std::pair{a.resolution_time, "after_sales.resolution_time"},
          std::pair{a.return_window, "after_sales.return_window"},
          std::pair{a.auto_close_after, "after_sales.auto_close_after"},
          std::pair{a.repair_time, "after_sales.repair_time"},
          std::pair{a.return_transit_time, "after_sales.return_transit_time"},
          std::pair{a.damage_report_window, "after_sales.damage_report_window"}}) {
        if (auto r = positive(d, field); !r) {
            return r;
        }
    }
    if (a.window < duration::zero()) {
        return error{errc::invalid_value, "after_sales.window", "must not be negative"};
    }
    for (std::size_t i = 0; i < a.auto_approve_below.size(); ++i) {
        if (!a.auto_approve_below[i].is_positive()) {
            return error{errc::invalid_value, fmt::format("after_sales.auto_approve_below[{}]", i),
                         "must be more than zero"};
        }
    }
    for (std::size_t i = 0; i < a.agents.size(); ++i) {
        if (a.agents[i].empty() || a.agents[i].size() > 128) {
            return error{errc::invalid_value, fmt::format("after_sales.agents[{}]", i),
                         "must be 1 to 128 bytes"};
        }
    }
    if (a.escalate_to.empty()) {
        return error{errc::missing_value, "after_sales.escalate_to", "names the role to notify"};
    }
    return {};
}

// Limits, the archive age and the closing of resolved cases may be 0 (off);
// deadlines and the scan interval must be longer than zero.
result<void> validate_operations(const operations_settings& o) {
    for (const auto& [d, field] :
         {std::pair{o.review_limit, "operations.review_limit"},
          std::pair{o.paid_limit, "operations.paid_limit"},
          std::pair{o.allocating_limit, "operations.allocating_limit"},
          std::pair{o.packed_limit, "operations.packed_limit"},
          std::pair{o.on_hold_limit, "operations.on_hold_limit"},
          std::pair{o.archive_after, "operations.archive_after"},
          std::pair{o.close_resolved_after, "operations.close_resolved_after"}}) {
        if (d < duration::zero()) {
            return error{errc::invalid_value, field, "must not be negative"};
        }
    }
    for (const auto& [d, field] : {std::pair{o.low_response, "operations.low_response"},
                                   std::pair{o.normal_response, "operations.normal_response"},
                                   std::pair{o.high_response, "operations.high_response"},
                                   std::pair{o.urgent_response, "operations.urgent_response"},
                                   std::pair{o.scan_every, "operations.scan_every"}}) {
        if (auto r = positive(d, field); !r) {
            return r;
        }
    }
    if (auto r = role(o.notify_role, "operations.notify_role"); !r) {
        return r;
    }
    return role(o.escalate_to, "operations.escalate_to");
}

}  // namespace

result<void> validate(const settings& s) {
    if (s.node > order_number::max_node) {
        return error{errc::invalid_value, "node",
                     fmt::format("must be from 0 to {}", order_number::max_node)};
    }
    for (const auto& [d, field] : {std::pair{s.payment_timeout, "payment_timeout"},
                                   std::pair{s.auto_confirm_after, "auto_confirm_after"},
                                   std::pair{s.outbox.first_retry, "outbox.first_retry"},
                                   std::pair{s.outbox.max_retry, "outbox.max_retry"},
                                   std::pair{s.outbox.lease, "outbox.lease"}}) {
        if (auto r = positive(d, field); !r) {
            return r;
        }
    }
    if (s.outbox.max_retry < s.outbox.first_retry) {
        return error{errc::invalid_value, "outbox.max_retry",
                     "must not be shorter than first_retry"};
    }
    if (s.max_payment_failures == 0) {
        return error{errc::invalid_value, "max_payment_failures", "must be at least 1"};
    }
    if (s.max_lines_per_order == 0) {
        return error{errc::invalid_value, "max_lines_per_order", "must be at least 1"};
    }
    if (s.conflict_retries == 0) {
        return error{errc::invalid_value, "conflict_retries", "must be at least 1"};
    }
    if (auto r = validate_fulfilment(s.fulfilment); !r) {
        return r;
    }
    if (auto r = validate_after_sales(s.after_sales); !r) {
        return r;
    }
    if (s.import_batch_size == 0) {
        return error{errc::invalid_value, "import_batch_size", "must be at least 1"};
    }
    for (std::size_t i = 0; i < s.review.high_value_at_or_above.size(); ++i) {
        if (!s.review.high_value_at_or_above[i].is_positive()) {
            return error{errc::invalid_value, fmt::format("review.high_value_at_or_above[{}]", i),
                         "must be more than zero"};
        }
    }
    if (s.review.max_units_per_line < 0) {
        return error{errc::invalid_value, "review.max_units_per_line", "must not be negative"};
    }
    if (auto r = validate_operations(s.operations); !r) {
        return r;
    }
    if (auto r = validate(s.settlement); !r) {
        return std::move(r).error().within("settlement");
    }
    return {};
}

}  // namespace orderly
