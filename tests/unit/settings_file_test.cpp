// The settings file (R-34): parse_settings, load_settings, to_settings_text,
// the sample file and the table in docs/SETTINGS.md.

#include <orderly/engine/settings_file.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using orderly::customer_id;
using orderly::errc;
using orderly::money;
using orderly::notification_kind;
using orderly::parse_settings;
using orderly::settings;

namespace {

// --- Drift guard: how many members an aggregate has, so a member added to
// settings.hpp without a key in the file fails this test.

struct any_member {
    template <class T>
    operator T() const;  // NOLINT(google-explicit-constructor): only for the count below
};

template <class T, std::size_t... I>
constexpr bool initializable_with(std::index_sequence<I...>) {
    return requires {
        T{(void(I), any_member{})...};
    };
}

template <class T, std::size_t N = 0>
constexpr std::size_t member_count() {
    if constexpr (initializable_with<T>(std::make_index_sequence<N + 1>{})) {
        return member_count<T, N + 1>();
    } else {
        return N;
    }
}

// --- Comparing settings field by field (settings has no operator==).

// The dotted keys of the fields where a and b differ.
std::vector<std::string> differing_fields(const settings& a, const settings& b) {
    std::vector<std::string> out;
    const auto check = [&out](bool same, std::string_view key) {
        if (!same) {
            out.emplace_back(key);
        }
    };
    check(a.node == b.node, "node");
    check(a.payment_timeout == b.payment_timeout, "payment_timeout");
    check(a.max_payment_failures == b.max_payment_failures, "max_payment_failures");
    check(a.auto_confirm_after == b.auto_confirm_after, "auto_confirm_after");
    check(a.max_lines_per_order == b.max_lines_per_order, "max_lines_per_order");
    check(a.max_tags == b.max_tags, "max_tags");
    check(a.max_tag_bytes == b.max_tag_bytes, "max_tag_bytes");
    check(a.conflict_retries == b.conflict_retries, "conflict_retries");
    check(a.import_batch_size == b.import_batch_size, "import_batch_size");
    check(a.review.high_value_at_or_above == b.review.high_value_at_or_above,
          "review.high_value_at_or_above");
    check(a.review.review_restricted_skus == b.review.review_restricted_skus,
          "review.review_restricted_skus");
    check(a.review.blocked_customers == b.review.blocked_customers, "review.blocked_customers");
    check(a.review.blocked_phones == b.review.blocked_phones, "review.blocked_phones");
    check(a.review.check_phone_country == b.review.check_phone_country,
          "review.check_phone_country");
    check(a.review.max_units_per_line == b.review.max_units_per_line, "review.max_units_per_line");
    check(a.fulfilment.merge_window == b.fulfilment.merge_window, "fulfilment.merge_window");
    check(a.fulfilment.delay_limit == b.fulfilment.delay_limit, "fulfilment.delay_limit");
    check(a.fulfilment.default_promised_days == b.fulfilment.default_promised_days,
          "fulfilment.default_promised_days");
    check(a.fulfilment.low_stock_scan_every == b.fulfilment.low_stock_scan_every,
          "fulfilment.low_stock_scan_every");
    check(a.fulfilment.lost_after == b.fulfilment.lost_after, "fulfilment.lost_after");
    check(a.fulfilment.auto_refund_after == b.fulfilment.auto_refund_after,
          "fulfilment.auto_refund_after");
    check(a.after_sales.response_time == b.after_sales.response_time, "after_sales.response_time");
    check(a.after_sales.inspection_time == b.after_sales.inspection_time,
          "after_sales.inspection_time");
    check(a.after_sales.resolution_time == b.after_sales.resolution_time,
          "after_sales.resolution_time");
    check(a.after_sales.return_window == b.after_sales.return_window, "after_sales.return_window");
    check(a.after_sales.auto_close_after == b.after_sales.auto_close_after,
          "after_sales.auto_close_after");
    check(a.after_sales.repair_time == b.after_sales.repair_time, "after_sales.repair_time");
    check(a.after_sales.return_transit_time == b.after_sales.return_transit_time,
          "after_sales.return_transit_time");
    check(a.after_sales.window == b.after_sales.window, "after_sales.window");
    check(a.after_sales.damage_report_window == b.after_sales.damage_report_window,
          "after_sales.damage_report_window");
    check(a.after_sales.auto_approve_below == b.after_sales.auto_approve_below,
          "after_sales.auto_approve_below");
    check(a.after_sales.auto_approve_undelivered_refunds ==
              b.after_sales.auto_approve_undelivered_refunds,
          "after_sales.auto_approve_undelivered_refunds");
    check(a.after_sales.agents == b.after_sales.agents, "after_sales.agents");
    check(a.after_sales.escalate_to == b.after_sales.escalate_to, "after_sales.escalate_to");
    check(a.outbox.first_retry == b.outbox.first_retry, "outbox.first_retry");
    check(a.outbox.max_retry == b.outbox.max_retry, "outbox.max_retry");
    check(a.outbox.lease == b.outbox.lease, "outbox.lease");
    check(a.outbox.muted == b.outbox.muted, "outbox.muted");
    check(a.operations.review_limit == b.operations.review_limit, "operations.review_limit");
    check(a.operations.paid_limit == b.operations.paid_limit, "operations.paid_limit");
    check(a.operations.allocating_limit == b.operations.allocating_limit,
          "operations.allocating_limit");
    check(a.operations.packed_limit == b.operations.packed_limit, "operations.packed_limit");
    check(a.operations.on_hold_limit == b.operations.on_hold_limit, "operations.on_hold_limit");
    check(a.operations.failed_attempts_for_unclear_address ==
              b.operations.failed_attempts_for_unclear_address,
          "operations.failed_attempts_for_unclear_address");
    check(a.operations.low_response == b.operations.low_response, "operations.low_response");
    check(a.operations.normal_response == b.operations.normal_response,
          "operations.normal_response");
    check(a.operations.high_response == b.operations.high_response, "operations.high_response");
    check(a.operations.urgent_response == b.operations.urgent_response,
          "operations.urgent_response");
    check(a.operations.notify_role == b.operations.notify_role, "operations.notify_role");
    check(a.operations.escalate_to == b.operations.escalate_to, "operations.escalate_to");
    check(a.operations.scan_every == b.operations.scan_every, "operations.scan_every");
    check(a.operations.archive_after == b.operations.archive_after, "operations.archive_after");
    check(a.operations.close_resolved_after == b.operations.close_resolved_after,
          "operations.close_resolved_after");
    check(a.settlement.default_rate == b.settlement.default_rate, "settlement.default_rate");
    check(a.settlement.category_rates == b.settlement.category_rates, "settlement.category_rates");
    check(a.settlement.service_fees == b.settlement.service_fees, "settlement.service_fees");
    check(a.settlement.account_period_days == b.settlement.account_period_days,
          "settlement.account_period_days");
    check(a.settlement.commission_rounding == b.settlement.commission_rounding,
          "settlement.commission_rounding");
    return out;
}

std::string joined(const std::vector<std::string>& fields) {
    return fmt::format("{}", fmt::join(fields, ", "));
}

money cash(std::string_view text) {
    return money::parse(text).value();
}

orderly::rate rate_of(std::string_view text) {
    return orderly::rate::parse(text).value();
}

// Every key set to a value other than its default.
constexpr std::string_view every_key_text = R"(# every key, none at its default
node = 7
payment_timeout = "45m"
max_payment_failures = 5
auto_confirm_after = "10d"
max_lines_per_order = 50
max_tags = 8
max_tag_bytes = 16
conflict_retries = 4
import_batch_size = 1000

[review]
high_value_at_or_above = ["5000.00 CNY", "800.00 USD"]
review_restricted_skus = false
blocked_customers = ["c-1", "c-2"]
blocked_phones = ["+86 138 0013 8000"]
check_phone_country = false
max_units_per_line = 20

[fulfilment]
merge_window = "90m"
delay_limit = "72h"
default_promised_days = 3
low_stock_scan_every = "30s"
lost_after = "20d"
auto_refund_after = "0s"

[after_sales]
response_time = "12h"
inspection_time = "36h"
resolution_time = "3d"
return_window = "14d"
auto_close_after = "20d"
repair_time = "10d"
return_transit_time = "96h"
window = "0s"
damage_report_window = "24h"
auto_approve_below = ["100.00 CNY", "15.00 USD"]
auto_approve_undelivered_refunds = false
agents = ["amy", "bo"]
escalate_to = "cs_manager"

[outbox]
first_retry = "250ms"
max_retry = "1h"
lease = "2m"
muted = ["tracking_update", "low_stock"]

[operations]
review_limit = "12h"
paid_limit = "0s"
allocating_limit = "36h"
packed_limit = "6h"
on_hold_limit = "4d"
failed_attempts_for_unclear_address = 3
low_response = "96h"
normal_response = "12h"
high_response = "4h"
urgent_response = "30m"
notify_role = "ops_desk"
escalate_to = "ops_manager"
scan_every = "1m"
archive_after = "0s"
close_resolved_after = "1d"

[settlement]
default_rate = "0.05"
category_rates = ["books=0.055", "food=1/3"]
service_fees = ["1.00 CNY", "0.30 USD"]
account_period_days = 14
commission_rounding = "half_up"
)";

settings every_key_settings() {
    settings s;
    s.node = 7;
    s.payment_timeout = 45min;
    s.max_payment_failures = 5;
    s.auto_confirm_after = std::chrono::days(10);
    s.max_lines_per_order = 50;
    s.max_tags = 8;
    s.max_tag_bytes = 16;
    s.conflict_retries = 4;
    s.import_batch_size = 1000;
    s.review.high_value_at_or_above = {cash("5000.00 CNY"), cash("800.00 USD")};
    s.review.review_restricted_skus = false;
    s.review.blocked_customers = {customer_id("c-1"), customer_id("c-2")};
    s.review.blocked_phones = {"+86 138 0013 8000"};
    s.review.check_phone_country = false;
    s.review.max_units_per_line = 20;
    s.fulfilment.merge_window = 90min;
    s.fulfilment.delay_limit = 72h;
    s.fulfilment.default_promised_days = 3;
    s.fulfilment.low_stock_scan_every = 30s;
    s.fulfilment.lost_after = std::chrono::days(20);
    s.fulfilment.auto_refund_after = 0ms;
    s.after_sales.response_time = 12h;
    s.after_sales.inspection_time = 36h;
    s.after_sales.resolution_time = std::chrono::days(3);
    s.after_sales.return_window = std::chrono::days(14);
    s.after_sales.auto_close_after = std::chrono::days(20);
    s.after_sales.repair_time = std::chrono::days(10);
    s.after_sales.return_transit_time = 96h;
    s.after_sales.window = 0ms;
    s.after_sales.damage_report_window = 24h;
    s.after_sales.auto_approve_below = {cash("100.00 CNY"), cash("15.00 USD")};
    s.after_sales.auto_approve_undelivered_refunds = false;
    s.after_sales.agents = {"amy", "bo"};
    s.after_sales.escalate_to = "cs_manager";
    s.outbox.first_retry = 250ms;
    s.outbox.max_retry = 1h;
    s.outbox.lease = 2min;
    s.outbox.muted = {notification_kind::tracking_update, notification_kind::low_stock};
    s.operations.review_limit = 12h;
    s.operations.paid_limit = 0ms;
    s.operations.allocating_limit = 36h;
    s.operations.packed_limit = 6h;
    s.operations.on_hold_limit = std::chrono::days(4);
    s.operations.failed_attempts_for_unclear_address = 3;
    s.operations.low_response = 96h;
    s.operations.normal_response = 12h;
    s.operations.high_response = 4h;
    s.operations.urgent_response = 30min;
    s.operations.notify_role = "ops_desk";
    s.operations.escalate_to = "ops_manager";
    s.operations.scan_every = 1min;
    s.operations.archive_after = 0ms;
    s.operations.close_resolved_after = 24h;
    s.settlement.default_rate = rate_of("0.05");
    s.settlement.category_rates = {{.category = "books", .commission = rate_of("0.055")},
                                   {.category = "food", .commission = rate_of("1/3")}};
    s.settlement.service_fees = {cash("1.00 CNY"), cash("0.30 USD")};
    s.settlement.account_period_days = 14;
    s.settlement.commission_rounding = orderly::rounding::half_up;
    return s;
}

std::string read_source_file(std::string_view relative) {
    std::ifstream in(std::filesystem::path(ORDERLY_SOURCE_DIR) / relative, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> all_keys() {
    const auto keys = orderly::settings_keys();
    return {keys.begin(), keys.end()};
}

// The refusal of `text`, which must be refused.
orderly::error refusal(std::string_view text) {
    const auto r = parse_settings(text);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

// A file in the temporary directory, removed when the test ends.
class temp_file {
public:
    temp_file(std::string_view name, std::string_view text)
        : path_(std::filesystem::temp_directory_path() /
                fmt::format("orderly_settings_{}_{}", name,
                            std::chrono::steady_clock::now().time_since_epoch().count())) {
        std::ofstream(path_, std::ios::binary) << text;
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace

TEST_CASE("settings_keys lists every member of settings once") {
    const auto keys = all_keys();
    CHECK(keys.size() == 58);
    CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
    const auto in_section = [&keys](std::string_view section) {
        return static_cast<std::size_t>(std::count_if(keys.begin(), keys.end(), [&](const auto& k) {
            return k.starts_with(fmt::format("{}.", section));
        }));
    };
    const auto top_level = static_cast<std::size_t>(std::count_if(
        keys.begin(), keys.end(), [](const auto& k) { return k.find('.') == std::string::npos; }));
    // A new member in settings.hpp needs its key here (and a row in docs/SETTINGS.md).
    CHECK(in_section("review") == member_count<orderly::review_rules>());
    CHECK(in_section("fulfilment") == member_count<orderly::fulfilment_settings>());
    CHECK(in_section("after_sales") == member_count<orderly::after_sales_settings>());
    CHECK(in_section("outbox") == member_count<orderly::outbox_settings>());
    CHECK(in_section("operations") == member_count<orderly::operations_settings>());
    CHECK(in_section("settlement") == member_count<orderly::settlement_rules>());
    CHECK(top_level == member_count<settings>() - 6);  // six members are sections
}

TEST_CASE("empty text gives the defaults") {
    for (const std::string_view text : {"", "\n\n", "# nothing but a comment\n", "  \t \n"}) {
        const auto r = parse_settings(text);
        REQUIRE(r.has_value());
        CHECK(differing_fields(*r, settings{}).empty());
    }
}

TEST_CASE("the sample file parses to the defaults") {
    const auto path = std::filesystem::path(ORDERLY_SOURCE_DIR) / "examples/settings/orderly.toml";
    const auto r = orderly::load_settings(path);
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    const auto differ = differing_fields(*r, settings{});
    CHECK_MESSAGE(differ.empty(), joined(differ));
}

TEST_CASE("the sample file sets every key") {
    std::istringstream lines(read_source_file("examples/settings/orderly.toml"));
    std::set<std::string> given;
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        if (line.front() == '[') {
            section = line.substr(1, line.find(']') - 1);
            continue;
        }
        const std::string key = line.substr(0, line.find(' '));
        given.insert(section.empty() ? key : fmt::format("{}.{}", section, key));
    }
    const auto keys = all_keys();
    CHECK(given == std::set<std::string>(keys.begin(), keys.end()));
}

TEST_CASE("every key changes its field") {
    const auto r = parse_settings(every_key_text);
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    // Each key moved its own field away from the default ...
    CHECK(differing_fields(*r, settings{}) == all_keys());
    // ... to the value written.
    const auto differ = differing_fields(*r, every_key_settings());
    CHECK_MESSAGE(differ.empty(), joined(differ));
}

TEST_CASE("to_settings_text reads back to equal settings") {
    SUBCASE("defaults") {
        const auto text = orderly::to_settings_text(settings{});
        const auto r = parse_settings(text);
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        CHECK(differing_fields(*r, settings{}).empty());
    }
    SUBCASE("every key set") {
        const auto text = orderly::to_settings_text(every_key_settings());
        const auto r = parse_settings(text);
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        const auto differ = differing_fields(*r, every_key_settings());
        CHECK_MESSAGE(differ.empty(), joined(differ));
    }
    SUBCASE("strings that need escapes and odd durations") {
        settings s = every_key_settings();
        s.after_sales.escalate_to = "lead \"night\" \\ shift\n\ttab \x01 caf\xC3\xA9";
        s.after_sales.agents = {"a#b", "c,d]", "'quoted'", std::string(128, 'x')};
        s.review.blocked_phones = {"", "[+1] 555"};
        s.payment_timeout = 1500ms;
        s.fulfilment.merge_window = 0ms;
        s.outbox.first_retry = 61s;
        s.outbox.muted.assign(orderly::all_notification_kinds.begin(),
                              orderly::all_notification_kinds.end());
        s.operations.notify_role = "ops \"desk\" #1";
        s.operations.archive_after = 1500ms;
        s.fulfilment.delay_limit = 1s;
        s.fulfilment.lost_after = 1500ms;
        s.fulfilment.auto_refund_after = 61min;
        s.after_sales.repair_time = 1ms;
        s.after_sales.return_transit_time = 25h;
        s.after_sales.window = 36h;
        s.operations.close_resolved_after = 90min;
        s.settlement.category_rates = {{.category = "a=b", .commission = rate_of("1/7")}};
        const auto r = parse_settings(orderly::to_settings_text(s));
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        const auto differ = differing_fields(*r, s);
        CHECK_MESSAGE(differ.empty(), joined(differ));
    }
}

TEST_CASE("to_settings_text writes every key and the largest exact unit") {
    settings s;
    s.payment_timeout = 90min;
    s.auto_confirm_after = 1500ms;
    s.outbox.lease = 60s;
    s.outbox.first_retry = 2s;
    s.fulfilment.merge_window = 0ms;
    const auto text = orderly::to_settings_text(s);
    CHECK(text.find("payment_timeout = \"90m\"\n") != std::string::npos);
    CHECK(text.find("auto_confirm_after = \"1500ms\"\n") != std::string::npos);
    CHECK(text.find("lease = \"1m\"\n") != std::string::npos);
    CHECK(text.find("first_retry = \"2s\"\n") != std::string::npos);
    CHECK(text.find("merge_window = \"0s\"\n") != std::string::npos);
    CHECK(text.find("return_window = \"7d\"\n") != std::string::npos);
    CHECK(text.find("delay_limit = \"2d\"\n") != std::string::npos);
    CHECK(text.find("response_time = \"1d\"\n") != std::string::npos);
    CHECK(text.find("\n[after_sales]\n") != std::string::npos);
    for (const std::string_view key : orderly::settings_keys()) {
        const auto dot = key.rfind('.');
        const auto leaf = dot == std::string_view::npos ? key : key.substr(dot + 1);
        CHECK_MESSAGE(text.find(fmt::format("\n{} = ", leaf)) != std::string::npos, key);
    }
}

TEST_CASE("durations take every unit") {
    const auto timeout = [](std::string_view written) {
        const auto r = parse_settings(fmt::format("payment_timeout = \"{}\"", written));
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        return r->payment_timeout;
    };
    CHECK(timeout("250ms") == 250ms);
    CHECK(timeout("5s") == 5s);
    CHECK(timeout("30m") == 30min);
    CHECK(timeout("48h") == 48h);
    CHECK(timeout("7d") == std::chrono::days(7));
    CHECK(timeout("1ms") == 1ms);
    CHECK(timeout("0090m") == 90min);
    const auto merge = parse_settings("[fulfilment]\nmerge_window = \"0s\"");
    REQUIRE(merge.has_value());
    CHECK(merge->fulfilment.merge_window == 0ms);
}

TEST_CASE("a duration without a unit or with a bad one is refused") {
    for (const std::string_view bad :
         {"30", "m", "30 m", "30min", "1.5h", "30M", "", "1h30m", "h1", "+5m"}) {
        CAPTURE(bad);
        const auto e = refusal(fmt::format("\n\npayment_timeout = \"{}\"", bad));
        CHECK(e.code == errc::invalid_value);
        CHECK(e.field == "payment_timeout");
        CHECK(e.message.starts_with("line 3: expected a duration such as \"30m\""));
    }
    const auto negative = refusal("[outbox]\nlease = \"-5s\"");
    CHECK(negative.field == "outbox.lease");
    CHECK(negative.message == "line 2: \"-5s\" must not be negative");
    const auto huge = refusal("payment_timeout = \"999999999999999d\"");
    CHECK(huge.field == "payment_timeout");
    CHECK(huge.message.find("64-bit milliseconds") != std::string::npos);
    const auto not_string = refusal("payment_timeout = 30");
    CHECK(not_string.field == "payment_timeout");
    CHECK(not_string.message.find("got the integer 30") != std::string::npos);
}

TEST_CASE("comments and blank lines are ignored") {
    constexpr std::string_view text =
        "\xEF\xBB\xBF# a byte order mark, then a comment\r\n"
        "\r\n"
        "   # an indented comment\n"
        "\t\n"
        "node = 3 # after a value\n"
        "  [after_sales]   # after a header\n"
        "\tescalate_to = \"night#shift\"#no blank before\n"
        "agents = [ # inside an array\n"
        "  \"amy\", # after an element\n"
        "  # on a line of its own\n"
        "]\n"
        "\n"
        "# the last line has no line break";
    const auto r = parse_settings(text);
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->node == 3);
    CHECK(r->after_sales.escalate_to == "night#shift");
    CHECK(r->after_sales.agents == std::vector<std::string>{"amy"});
}

TEST_CASE("arrays may span lines and end with a comma") {
    constexpr std::string_view text = R"([outbox]
muted = [
    "tracking_update",
    "low_stock",

    "ticket_escalated",
]
[after_sales]
auto_approve_below = ["100.00 CNY",
                      "15.00 USD"]
agents = [
]
[review]
blocked_customers = [ "c-1" , "c-2" ]
max_units_per_line = "many"
)";
    // The error is on line 15: the line count survived the arrays.
    const auto e = refusal(text);
    CHECK(e.field == "review.max_units_per_line");
    CHECK(e.message.starts_with("line 15: expected an integer"));

    const auto r = parse_settings(std::string_view(text).substr(0, text.find("max_units")));
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->outbox.muted == std::vector<notification_kind>{notification_kind::tracking_update,
                                                            notification_kind::low_stock,
                                                            notification_kind::ticket_escalated});
    CHECK(r->after_sales.auto_approve_below ==
          std::vector<money>{cash("100.00 CNY"), cash("15.00 USD")});
    CHECK(r->after_sales.agents.empty());
    CHECK(r->review.blocked_customers ==
          std::vector<customer_id>{customer_id("c-1"), customer_id("c-2")});
}

TEST_CASE("dotted keys before any header reach their section") {
    const auto r = parse_settings(
        "after_sales.response_time = \"1h\"\nreview . max_units_per_line = 9\n[outbox]\nlease = "
        "\"3m\"");
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->after_sales.response_time == 1h);
    CHECK(r->review.max_units_per_line == 9);
    CHECK(r->outbox.lease == 3min);
}

TEST_CASE("integers, booleans and strings in TOML's forms") {
    const auto r = parse_settings(
        "import_batch_size = 1_000\nmax_tags = +5\n[after_sales]\nescalate_to = 'a\\b'\n"
        "agents = [\"caf\\u00e9\", \"\\U0001F600\", \"q\\\"\\\\\\t\"]\n"
        "auto_approve_undelivered_refunds = false");
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->import_batch_size == 1000);
    CHECK(r->max_tags == 5);
    CHECK(r->after_sales.escalate_to == "a\\b");
    CHECK(r->after_sales.agents ==
          std::vector<std::string>{"caf\xC3\xA9", "\xF0\x9F\x98\x80", "q\"\\\t"});
    CHECK_FALSE(r->after_sales.auto_approve_undelivered_refunds);
}

TEST_CASE("an unknown key is refused with its dotted name and a suggestion") {
    const auto typo = refusal("node = 1\n[after_sales]\nrespons_time = \"24h\"");
    CHECK(typo.code == errc::invalid_value);
    CHECK(typo.field == "after_sales.respons_time");
    CHECK(typo.message ==
          "line 3: after_sales.respons_time is not a settings key; did you mean "
          "after_sales.response_time?");

    const auto wrong_section = refusal("[review]\nmerge_window = \"1h\"");
    CHECK(wrong_section.field == "review.merge_window");
    CHECK(wrong_section.message.find("did you mean fulfilment.merge_window?") != std::string::npos);

    const auto top_level = refusal("paymnet_timeout = \"1h\"");
    CHECK(top_level.field == "paymnet_timeout");
    CHECK(top_level.message.find("did you mean payment_timeout?") != std::string::npos);

    const auto far = refusal("\ncolour = \"blue\"");
    CHECK(far.field == "colour");
    CHECK(far.message == "line 2: colour is not a settings key (docs/SETTINGS.md lists them)");

    const auto section_as_key = refusal("review = true");
    CHECK(section_as_key.field == "review");
}

TEST_CASE("an unknown section is refused with its name") {
    const auto typo = refusal("node = 1\n\n[fulfillment]\nmerge_window = \"1h\"");
    CHECK(typo.code == errc::invalid_value);
    CHECK(typo.field == "fulfillment");
    CHECK(typo.message ==
          "line 3: [fulfillment] is not a settings section; did you mean [fulfilment]?");

    const auto nested = refusal("[after_sales.rules]");
    CHECK(nested.field == "after_sales.rules");
    CHECK(nested.message.starts_with("line 1: [after_sales.rules] is not a settings section"));
}

TEST_CASE("a value of the wrong type or out of range is refused with its key") {
    struct bad_value {
        std::string_view text;
        std::string_view field;
        std::string_view in_message;
    };
    for (const bad_value& bad : std::initializer_list<bad_value>{
             {"node = \"1\"", "node", "expected an integer from 0 to 4294967295"},
             {"node = -1", "node", "must be an integer from 0 to 4294967295, got -1"},
             {"node = 99999999999999999999", "node", "got 99999999999999999999"},
             {"node = 1.5", "node", "got the number 1.5"},
             {"max_tags = true", "max_tags", "got true"},
             {"[fulfilment]\ndefault_promised_days = 3000000000",
              "fulfilment.default_promised_days",
              "must be an integer from -2147483648 to 2147483647"},
             {"[review]\ncheck_phone_country = 1", "review.check_phone_country",
              "expected true or false, got the integer 1"},
             {"[review]\ncheck_phone_country = \"yes\"", "review.check_phone_country",
              "got the string \"yes\""},
             {"[after_sales]\nescalate_to = [\"a\"]", "after_sales.escalate_to",
              "expected a string in double quotes, got an array of 1 element"},
             {"[after_sales]\nagents = \"amy\"", "after_sales.agents",
              "expected an array of strings"},
             {"[after_sales]\nagents = [\"amy\", 2]", "after_sales.agents",
              "element [1]: expected a string in double quotes, got the integer 2"},
             {"[after_sales]\nauto_approve_below = [\"12,50 CNY\"]",
              "after_sales.auto_approve_below",
              "element [0], \"12,50 CNY\", is not money such as \"100.00 CNY\""},
             {"[after_sales]\nauto_approve_below = [\"12.50 XYZ\"]",
              "after_sales.auto_approve_below", "is not money"},
             {"[review]\nhigh_value_at_or_above = [\"1.00 CNY\", \"2.00 CNY\"]",
              "review.high_value_at_or_above", "names CNY again; give one amount per currency"},
             {"[review]\nblocked_customers = [\"c 1\"]", "review.blocked_customers",
              "element [0], \"c 1\", is not a customer id"},
             {"[outbox]\nmuted = [\"trackin_update\"]", "outbox.muted",
              "is not a notification kind; did you mean \"tracking_update\"?"},
             {"[outbox]\nmuted = [\"everything\"]", "outbox.muted", "is not a notification kind"},
             {"[outbox]\nmuted = \"shipped\"", "outbox.muted",
              "expected an array of notification kinds"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == errc::invalid_value);
        CHECK(e.field == bad.field);
        CHECK_MESSAGE(e.message.find(bad.in_message) != std::string::npos, e.message);
        const auto line = std::count(bad.text.begin(), bad.text.end(), '\n') + 1;
        CHECK(e.message.starts_with(fmt::format("line {}: ", line)));
    }
}

TEST_CASE("a malformed line is refused with its line number") {
    struct bad_line {
        std::string_view text;
        std::size_t line;
        std::string_view in_message;
    };
    for (const bad_line& bad : std::initializer_list<bad_line>{
             {"node 3", 1, "expected = after the key node"},
             {"\npayment_timeout = 30m", 2, "cannot read the value 30m: text needs double quotes"},
             {"node =", 1, "expected a value after node ="},
             {"node = # nothing", 1, "expected a value after node ="},
             {"node = 3 4", 1, "unexpected text after the value: 4"},
             {"[after_sales]\nescalate_to = \"lead", 2, "the string is not closed"},
             {"[after_sales]\nescalate_to = 'lead", 2, "the string is not closed"},
             {"[after_sales]\nagents = [\"a\",\n\"b\"\n", 2,
              "the array opened on this line is not closed"},
             {"[after_sales]\nagents = [\"a\" \"b\"]", 2, "expected , or ] after an array element"},
             {"[after_sales]\nagents = [,]", 2, "expected a value"},
             {"[after_sales]\nagents = [[\"a\"]]", 2, "arrays inside arrays"},
             {"[review", 1, "expected ] to close the section header"},
             {"[review] x", 1, "unexpected text after the section header"},
             {"[]", 1, "expected a section name"},
             {"[[review]]", 1, "arrays of tables"},
             {"node = {a = 1}", 1, "inline tables"},
             {"\"node\" = 1", 1, "quoted keys"},
             {"= 5", 1, "expected a key"},
             {"node. = 5", 1, "expected a key"},
             {"[after_sales]\nescalate_to = \"\"\"x\"\"\"", 2, "multi-line strings"},
             {"[after_sales]\nescalate_to = \"a\\qb\"", 2, "unknown escape"},
             {"[after_sales]\nescalate_to = \"\\uD800\"", 2, "Unicode scalar value"},
             {"[after_sales]\nescalate_to = \"\\u12\"", 2, "hexadecimal digits"},
             {"[after_sales]\nescalate_to = \"a\x01\"", 2, "control character"},
             {"node = 007", 1, "cannot read the value 007"},
             {"node = 1__0", 1, "cannot read the value 1__0"},
             {"node = 3\rmax_tags = 1", 1, "a carriage return not followed by a line feed"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == errc::malformed);
        CHECK(e.field == fmt::format("line {}", bad.line));
        CHECK(e.message.starts_with(fmt::format("line {}: ", bad.line)));
        CHECK_MESSAGE(e.message.find(bad.in_message) != std::string::npos, e.message);
    }
}

TEST_CASE("a key or a section given twice is refused") {
    const auto key = refusal("node = 1\nmax_tags = 2\nnode = 1");
    CHECK(key.code == errc::invalid_value);
    CHECK(key.field == "node");
    CHECK(key.message == "line 3: node is given twice, first on line 1");

    const auto both_forms =
        refusal("after_sales.response_time = \"1h\"\n[after_sales]\nresponse_time = \"2h\"");
    CHECK(both_forms.field == "after_sales.response_time");
    CHECK(both_forms.message.starts_with("line 3: "));

    const auto section = refusal("[outbox]\nlease = \"1m\"\n[review]\n[outbox]\nmuted = []");
    CHECK(section.code == errc::invalid_value);
    CHECK(section.field == "outbox");
    CHECK(section.message == "line 4: section [outbox] is given twice, first on line 1");
}

TEST_CASE("what validate refuses comes back with validate's field") {
    const auto node = refusal("\nnode = 2000");
    CHECK(node.code == errc::invalid_value);
    CHECK(node.field == "node");
    CHECK(node.message == "line 2: must be from 0 to 1023");

    const auto zero = refusal("payment_timeout = \"0s\"");
    CHECK(zero.field == "payment_timeout");
    CHECK(zero.message.starts_with("line 1: "));

    const auto agent = refusal("[after_sales]\n\nagents = [\"amy\", \"\"]");
    CHECK(agent.field == "after_sales.agents[1]");
    CHECK(agent.message == "line 3: must be 1 to 128 bytes");

    const auto role = refusal("[after_sales]\nescalate_to = \"\"");
    CHECK(role.code == errc::missing_value);
    CHECK(role.field == "after_sales.escalate_to");

    const auto limit = refusal("[review]\nhigh_value_at_or_above = [\"0.00 CNY\"]");
    CHECK(limit.field == "review.high_value_at_or_above[0]");

    // max_retry keeps its default of 30m and is now shorter than first_retry.
    const auto retry = refusal("[outbox]\nfirst_retry = \"1h\"");
    CHECK(retry.field == "outbox.max_retry");
    CHECK(retry.message == "must not be shorter than first_retry");

    const auto failures = refusal("max_payment_failures = 0");
    CHECK(failures.field == "max_payment_failures");
}

TEST_CASE("load_settings reads a file and names it in errors") {
    SUBCASE("a good file") {
        const temp_file file("good", "node = 5\n[outbox]\nmuted = [\"shipped\"]\n");
        const auto r = orderly::load_settings(file.path());
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        CHECK(r->node == 5);
        CHECK(r->outbox.muted == std::vector<notification_kind>{notification_kind::shipped});
    }
    SUBCASE("a bad file") {
        const temp_file file("bad", "\n[outbox]\nleese = \"1m\"\n");
        const auto r = orderly::load_settings(file.path());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::invalid_value);
        CHECK(r.error().field == "outbox.leese");
        CHECK(r.error().message ==
              fmt::format("{}: line 3: outbox.leese is not a settings key; did you mean "
                          "outbox.lease?",
                          file.path().string()));
    }
    SUBCASE("no such file") {
        const auto r = orderly::load_settings(std::filesystem::temp_directory_path() /
                                              "orderly_settings_no_such_file.toml");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::not_found);
        CHECK(r.error().field == "file");
    }
    SUBCASE("a directory") {
        const auto r = orderly::load_settings(std::filesystem::temp_directory_path());
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::storage_failure);
        CHECK(r.error().field == "file");
    }
}

TEST_CASE("docs/SETTINGS.md has a row for every key and no other") {
    const std::string doc = read_source_file("docs/SETTINGS.md");
    const auto table = doc.find("\n## Every key");
    REQUIRE(table != std::string::npos);
    std::istringstream lines(doc.substr(table));
    std::vector<std::string> documented;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("## ") && !documented.empty()) {
            break;  // the next section
        }
        if (!line.starts_with("| `")) {
            continue;
        }
        const auto end = line.find('`', 3);
        REQUIRE(end != std::string::npos);
        documented.push_back(line.substr(3, end - 3));
    }
    // Same keys, same order as settings_keys (and to_settings_text).
    CHECK(documented == all_keys());
}

TEST_CASE("operations and settlement keys read rates, rounding modes and category rates") {
    const auto r = parse_settings(
        "operations.scan_every = \"10s\"\n"
        "[settlement]\n"
        "default_rate = \"0.065\"\n"
        "category_rates = [\"books=0.055\", \"a=b=1/8\", \"food=0\", \"all=1\"]\n"
        "service_fees = [\"0.00 CNY\"]\n"
        "account_period_days = 0\n"
        "commission_rounding = \"floor\"\n"
        "[operations]\n"
        "failed_attempts_for_unclear_address = 0\n");
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->operations.scan_every == 10s);
    CHECK(r->operations.failed_attempts_for_unclear_address == 0);
    CHECK(r->settlement.default_rate == orderly::rate::ratio(13, 200).value());
    // The last '=' splits: a category may hold one.
    CHECK(r->settlement.category_rates ==
          std::vector<orderly::category_rate>{
              {.category = "books", .commission = rate_of("0.055")},
              {.category = "a=b", .commission = orderly::rate::ratio(1, 8).value()},
              {.category = "food", .commission = orderly::rate::zero()},
              {.category = "all", .commission = orderly::rate::one()}});
    CHECK(r->settlement.service_fees == std::vector<money>{cash("0.00 CNY")});
    CHECK(r->settlement.account_period_days == 0);
    CHECK(r->settlement.commission_rounding == orderly::rounding::floor);
}

TEST_CASE("settlement values round-trip in their written forms") {
    settings s = every_key_settings();
    s.settlement.default_rate = orderly::rate::ratio(1, 3).value();
    s.settlement.category_rates = {
        {.category = "x=y", .commission = rate_of("0.000000000000000001")},
        {.category = "caf\xC3\xA9 \"quoted\" #1", .commission = orderly::rate::ratio(2, 7).value()},
        {.category = "[a, b]", .commission = orderly::rate::one()}};
    s.settlement.service_fees = {cash("0 JPY"), cash("12.34 EUR")};
    s.settlement.account_period_days = 3650;
    for (const orderly::rounding mode : orderly::all_roundings) {
        CAPTURE(to_string(mode));
        s.settlement.commission_rounding = mode;
        const auto text = orderly::to_settings_text(s);
        const auto r = parse_settings(text);
        REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
        const auto differ = differing_fields(*r, s);
        CHECK_MESSAGE(differ.empty(), joined(differ));
    }
    const auto text = orderly::to_settings_text(every_key_settings());
    CHECK(text.find("\n[operations]\n") != std::string::npos);
    CHECK(text.find("\n[settlement]\n") != std::string::npos);
    CHECK(text.find("\ndefault_rate = \"0.05\"\n") != std::string::npos);
    CHECK(text.find("\ncategory_rates = [\"books=0.055\", \"food=1/3\"]\n") != std::string::npos);
    CHECK(text.find("\ncommission_rounding = \"half_up\"\n") != std::string::npos);
    CHECK(text.find("\npaid_limit = \"0s\"\n") != std::string::npos);
    const auto defaults = orderly::to_settings_text(settings{});
    CHECK(defaults.find("\ndefault_rate = \"0\"\n") != std::string::npos);
    CHECK(defaults.find("\ncategory_rates = []\n") != std::string::npos);
}

TEST_CASE("a bad operations or settlement value names its dotted key and line") {
    struct bad_value {
        std::string_view text;
        std::string_view field;
        std::string_view in_message;
    };
    for (const bad_value& bad : std::initializer_list<bad_value>{
             {"[operations]\npaid_limit = \"-1h\"", "operations.paid_limit",
              "\"-1h\" must not be negative"},
             {"[operations]\n\nscan_every = 5", "operations.scan_every",
              "expected a duration such as \"30m\""},
             {"[operations]\nfailed_attempts_for_unclear_address = -1",
              "operations.failed_attempts_for_unclear_address",
              "must be an integer from 0 to 4294967295, got -1"},
             {"[operations]\nnotify_role = 7", "operations.notify_role",
              "expected a string in double quotes, got the integer 7"},
             {"[settlement]\ndefault_rate = 0.05", "settlement.default_rate",
              "expected a rate as a decimal string such as \"0.05\" (5 %), or a fraction such as "
              "\"1/3\", got the number 0.05"},
             {"[settlement]\ndefault_rate = \"5%\"", "settlement.default_rate",
              "\"5%\" is not a rate as a decimal string"},
             {"[settlement]\ndefault_rate = \"1/0\"", "settlement.default_rate", "is not a rate"},
             {"[settlement]\ncommission_rounding = \"half_evn\"", "settlement.commission_rounding",
              "\"half_evn\" is not a rounding mode; did you mean \"half_even\"?"},
             {"[settlement]\ncommission_rounding = \"bankers\"", "settlement.commission_rounding",
              "is not a rounding mode; the modes are half_even, half_up, half_down, toward_zero, "
              "away_from_zero, floor, ceiling"},
             {"[settlement]\ncommission_rounding = 0", "settlement.commission_rounding",
              "expected a rounding mode"},
             {"[settlement]\ncategory_rates = [\"books\"]", "settlement.category_rates",
              "element [0], \"books\", is not a category rate such as \"books=0.055\": no ="},
             {"[settlement]\ncategory_rates = [\"books=0.1\", \"food=x\"]",
              "settlement.category_rates", "element [1], \"food=x\", has no rate after ="},
             {"[settlement]\ncategory_rates = [\"books=\"]", "settlement.category_rates",
              "has no rate after ="},
             {"[settlement]\ncategory_rates = \"books=0.1\"", "settlement.category_rates",
              "expected an array of category rates"},
             {"[settlement]\ncategory_rates = [1]", "settlement.category_rates",
              "element [0]: expected a string in double quotes, got the integer 1"},
             {"[settlement]\nservice_fees = [\"1.00 CNY\", \"2.00 CNY\"]",
              "settlement.service_fees", "names CNY again; give one amount per currency"},
             {"[settlement]\nservice_fees = [\"1 yuan\"]", "settlement.service_fees",
              "is not money"},
             {"[settlement]\naccount_period_days = 1.5", "settlement.account_period_days",
              "got the number 1.5"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == errc::invalid_value);
        CHECK(e.field == bad.field);
        CHECK_MESSAGE(e.message.find(bad.in_message) != std::string::npos, e.message);
        const auto line = std::count(bad.text.begin(), bad.text.end(), '\n') + 1;
        CHECK(e.message.starts_with(fmt::format("line {}: ", line)));
    }
}

TEST_CASE("unknown operations and settlement keys and sections get suggestions") {
    const auto rate_typo = refusal("[settlement]\ndefault_rat = \"0.1\"");
    CHECK(rate_typo.field == "settlement.default_rat");
    CHECK(rate_typo.message ==
          "line 2: settlement.default_rat is not a settings key; did you mean "
          "settlement.default_rate?");

    const auto scan_typo = refusal("\noperations.scan_evry = \"1m\"");
    CHECK(scan_typo.field == "operations.scan_evry");
    CHECK(scan_typo.message.find("did you mean operations.scan_every?") != std::string::npos);

    // The leaf is shared by two sections: the one written wins.
    const auto role_typo = refusal("[operations]\nescalate_too = \"x\"");
    CHECK(role_typo.message.find("did you mean operations.escalate_to?") != std::string::npos);

    const auto wrong_section = refusal("[after_sales]\naccount_period_days = 3");
    CHECK(wrong_section.message.find("did you mean settlement.account_period_days?") !=
          std::string::npos);

    const auto section_typo = refusal("[setlement]\ndefault_rate = \"0.1\"");
    CHECK(section_typo.field == "setlement");
    CHECK(section_typo.message ==
          "line 1: [setlement] is not a settings section; did you mean [settlement]?");

    const auto far = refusal("[ledger]");
    CHECK(far.message ==
          "line 1: [ledger] is not a settings section; the sections are [review], "
          "[fulfilment], [after_sales], [outbox], [operations] and [settlement]");
}

TEST_CASE("operations and settlement refusals of validate come back with their fields") {
    struct refused_value {
        std::string_view text;
        errc code;
        std::string_view field;
        std::string_view message;
    };
    for (const refused_value& bad : std::initializer_list<refused_value>{
             {"[operations]\nnormal_response = \"0s\"", errc::invalid_value,
              "operations.normal_response", "line 2: must be longer than zero"},
             {"[operations]\nurgent_response = \"0ms\"", errc::invalid_value,
              "operations.urgent_response", "line 2: must be longer than zero"},
             {"[operations]\n\nscan_every = \"0s\"", errc::invalid_value, "operations.scan_every",
              "line 3: must be longer than zero"},
             {"[operations]\nnotify_role = \"\"", errc::missing_value, "operations.notify_role",
              "line 2: names the role to notify"},
             {"[operations]\nescalate_to = \"\"", errc::missing_value, "operations.escalate_to",
              "line 2: names the role to notify"},
             {"[settlement]\ndefault_rate = \"1.5\"", errc::invalid_value,
              "settlement.default_rate", ""},
             {"[settlement]\ndefault_rate = \"-0.1\"", errc::invalid_value,
              "settlement.default_rate", ""},
             {"[settlement]\ncategory_rates = [\"books=0.1\", \"books=0.2\"]", errc::invalid_value,
              "settlement.category_rates[1].category", "line 2: category books is listed twice"},
             {"[settlement]\ncategory_rates = [\"=0.1\"]", errc::missing_value,
              "settlement.category_rates[0].category", "line 2: must not be empty"},
             {"[settlement]\ncategory_rates = [\"books=2\"]", errc::invalid_value,
              "settlement.category_rates[0].commission", ""},
             {"[settlement]\nservice_fees = [\"1.00 CNY\", \"-0.01 USD\"]", errc::invalid_value,
              "settlement.service_fees[1]", ""},
             {"[settlement]\naccount_period_days = 3651", errc::invalid_value,
              "settlement.account_period_days", "line 2: must be from 0 to 3650, got 3651"},
             {"[settlement]\naccount_period_days = -1", errc::invalid_value,
              "settlement.account_period_days", "line 2: must be from 0 to 3650, got -1"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == bad.code);
        CHECK(e.field == bad.field);
        if (bad.message.empty()) {
            const auto line = std::count(bad.text.begin(), bad.text.end(), '\n') + 1;
            CHECK_MESSAGE(e.message.starts_with(fmt::format("line {}: ", line)), e.message);
        } else {
            CHECK(e.message == bad.message);
        }
    }
    // Limits of 0 switch a check off and are accepted; a role of 64 bytes is
    // accepted, one of 65 refused.
    const auto off = parse_settings(
        "[operations]\nreview_limit = \"0s\"\npaid_limit = \"0s\"\nallocating_limit = \"0s\"\n"
        "packed_limit = \"0s\"\non_hold_limit = \"0s\"\narchive_after = \"0s\"\n");
    REQUIRE_MESSAGE(off.has_value(), to_string(off.error()));
    CHECK(off->operations.review_limit == 0ms);
    CHECK(parse_settings(fmt::format("[operations]\nnotify_role = \"{}\"", std::string(64, 'r')))
              .has_value());
    const auto long_role =
        refusal(fmt::format("[operations]\nescalate_to = \"{}\"", std::string(65, 'r')));
    CHECK(long_role.code == errc::invalid_value);
    CHECK(long_role.field == "operations.escalate_to");
    CHECK(long_role.message == "line 2: must be at most 64 bytes");
}

TEST_CASE("validate checks operations and settlement set in code") {
    CHECK(orderly::validate(settings{}).has_value());
    const auto refused_field = [](const settings& s) {
        const auto r = orderly::validate(s);
        REQUIRE_FALSE(r.has_value());
        return r.error().field;
    };
    settings s;
    s.operations.paid_limit = -1ms;
    CHECK(refused_field(s) == "operations.paid_limit");
    s = settings{};
    s.operations.archive_after = -1ms;
    CHECK(refused_field(s) == "operations.archive_after");
    for (auto member : {&orderly::operations_settings::review_limit,
                        &orderly::operations_settings::allocating_limit,
                        &orderly::operations_settings::packed_limit,
                        &orderly::operations_settings::on_hold_limit}) {
        s = settings{};
        s.operations.*member = -1ms;
        CHECK(refused_field(s).starts_with("operations."));
        s.operations.*member = 0ms;
        CHECK(orderly::validate(s).has_value());
    }
    s = settings{};
    s.operations.low_response = 0ms;
    CHECK(refused_field(s) == "operations.low_response");
    s = settings{};
    s.operations.high_response = -5ms;
    CHECK(refused_field(s) == "operations.high_response");
    s = settings{};
    s.settlement.default_rate = orderly::rate::ratio(3, 2).value();
    CHECK(refused_field(s) == "settlement.default_rate");
    s = settings{};
    s.settlement.category_rates = {{.category = std::string(65, 'c'), .commission = {}}};
    CHECK(refused_field(s) == "settlement.category_rates[0].category");
    s = settings{};
    s.settlement.service_fees = {cash("-1.00 CNY")};
    CHECK(refused_field(s) == "settlement.service_fees[0]");
}

// --- The clock exits (issue 15): lost and unrefunded parcels, repairs,
// returns in transit, the after-sales window and resolved cases.

TEST_CASE("the clock-exit keys read their durations, 0 where it means never") {
    const auto r = parse_settings(
        "[fulfilment]\nlost_after = \"3d\"\nauto_refund_after = \"12h\"\n"
        "[after_sales]\nrepair_time = \"21d\"\nreturn_transit_time = \"90m\"\nwindow = \"30d\"\n"
        "[operations]\nclose_resolved_after = \"45s\"\n");
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    CHECK(r->fulfilment.lost_after == std::chrono::days(3));
    CHECK(r->fulfilment.auto_refund_after == 12h);
    CHECK(r->after_sales.repair_time == std::chrono::days(21));
    CHECK(r->after_sales.return_transit_time == 90min);
    CHECK(r->after_sales.window == std::chrono::days(30));
    CHECK(r->operations.close_resolved_after == 45s);

    const auto never = parse_settings(
        "fulfilment.lost_after = \"0s\"\nfulfilment.auto_refund_after = \"0ms\"\n"
        "after_sales.window = \"0s\"\noperations.close_resolved_after = \"0s\"\n");
    REQUIRE_MESSAGE(never.has_value(), to_string(never.error()));
    CHECK(never->fulfilment.lost_after == 0ms);
    CHECK(never->fulfilment.auto_refund_after == 0ms);
    CHECK(never->after_sales.window == 0ms);
    CHECK(never->operations.close_resolved_after == 0ms);

    const auto text = orderly::to_settings_text(settings{});
    CHECK(text.find("\nlost_after = \"30d\"\n") != std::string::npos);
    CHECK(text.find("\nauto_refund_after = \"7d\"\n") != std::string::npos);
    CHECK(text.find("\nrepair_time = \"14d\"\n") != std::string::npos);
    CHECK(text.find("\nreturn_transit_time = \"14d\"\n") != std::string::npos);
    CHECK(text.find("\nwindow = \"15d\"\n") != std::string::npos);
    CHECK(text.find("\nclose_resolved_after = \"3d\"\n") != std::string::npos);
}

TEST_CASE("a bad clock-exit value names its dotted key and line") {
    struct bad_value {
        std::string_view text;
        std::string_view field;
        std::string_view in_message;
    };
    for (const bad_value& bad : std::initializer_list<bad_value>{
             {"[fulfilment]\nlost_after = \"-1d\"", "fulfilment.lost_after",
              "\"-1d\" must not be negative"},
             {"[fulfilment]\n\nauto_refund_after = 7", "fulfilment.auto_refund_after",
              "expected a duration such as \"30m\""},
             {"[after_sales]\nrepair_time = \"2w\"", "after_sales.repair_time",
              "expected a duration such as \"30m\""},
             {"[after_sales]\nreturn_transit_time = \"-5h\"", "after_sales.return_transit_time",
              "\"-5h\" must not be negative"},
             {"node = 1\nafter_sales.window = true", "after_sales.window",
              "expected a duration such as \"30m\""},
             {"[operations]\nclose_resolved_after = \"-1ms\"", "operations.close_resolved_after",
              "\"-1ms\" must not be negative"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == errc::invalid_value);
        CHECK(e.field == bad.field);
        CHECK_MESSAGE(e.message.find(bad.in_message) != std::string::npos, e.message);
        const auto line = std::count(bad.text.begin(), bad.text.end(), '\n') + 1;
        CHECK(e.message.starts_with(fmt::format("line {}: ", line)));
    }
    const auto typo = refusal("[fulfilment]\nlost_afer = \"30d\"");
    CHECK(typo.field == "fulfilment.lost_afer");
    CHECK(typo.message.find("did you mean fulfilment.lost_after?") != std::string::npos);
}

TEST_CASE("lost_after is 0 or at least delay_limit, and repair and transit times are not 0") {
    struct refused_value {
        std::string_view text;
        std::string_view field;
        std::string_view message;
    };
    for (const refused_value& bad : std::initializer_list<refused_value>{
             {"[fulfilment]\nlost_after = \"47h\"", "fulfilment.lost_after",
              "line 2: must be 0 (never) or at least fulfilment.delay_limit"},
             {"[fulfilment]\ndelay_limit = \"5d\"\nlost_after = \"4d\"", "fulfilment.lost_after",
              "line 3: must be 0 (never) or at least fulfilment.delay_limit"},
             // The default lost_after (30 days) falls below a longer delay
             // limit: the refusal names lost_after, which the text did not set.
             {"[fulfilment]\ndelay_limit = \"31d\"", "fulfilment.lost_after",
              "must be 0 (never) or at least fulfilment.delay_limit"},
             {"[after_sales]\nrepair_time = \"0s\"", "after_sales.repair_time",
              "line 2: must be longer than zero"},
             {"[after_sales]\n\nreturn_transit_time = \"0ms\"", "after_sales.return_transit_time",
              "line 3: must be longer than zero"},
         }) {
        CAPTURE(bad.text);
        const auto e = refusal(bad.text);
        CHECK(e.code == errc::invalid_value);
        CHECK(e.field == bad.field);
        CHECK(e.message == bad.message);
    }
    // At delay_limit exactly, or 0 with any delay limit, is accepted.
    const auto equal = parse_settings("[fulfilment]\ndelay_limit = \"5d\"\nlost_after = \"120h\"");
    REQUIRE_MESSAGE(equal.has_value(), to_string(equal.error()));
    CHECK(equal->fulfilment.lost_after == std::chrono::days(5));
    CHECK(parse_settings("[fulfilment]\ndelay_limit = \"60d\"\nlost_after = \"0s\"").has_value());
}

TEST_CASE("validate checks the clock exits set in code") {
    const auto refused_field = [](const settings& s) {
        const auto r = orderly::validate(s);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == errc::invalid_value);
        return r.error().field;
    };
    settings s;
    s.fulfilment.lost_after = -1ms;
    CHECK(refused_field(s) == "fulfilment.lost_after");
    s = settings{};
    s.fulfilment.lost_after = s.fulfilment.delay_limit - 1ms;
    CHECK(refused_field(s) == "fulfilment.lost_after");
    s.fulfilment.lost_after = s.fulfilment.delay_limit;
    CHECK(orderly::validate(s).has_value());
    s = settings{};
    s.fulfilment.auto_refund_after = -1ms;
    CHECK(refused_field(s) == "fulfilment.auto_refund_after");
    s = settings{};
    s.after_sales.repair_time = -1ms;
    CHECK(refused_field(s) == "after_sales.repair_time");
    s = settings{};
    s.after_sales.return_transit_time = 0ms;
    CHECK(refused_field(s) == "after_sales.return_transit_time");
    s = settings{};
    s.after_sales.window = -1ms;
    CHECK(refused_field(s) == "after_sales.window");
    s = settings{};
    s.operations.close_resolved_after = -1ms;
    CHECK(refused_field(s) == "operations.close_resolved_after");
    // 0 means never for these four.
    s = settings{};
    s.fulfilment.lost_after = 0ms;
    s.fulfilment.auto_refund_after = 0ms;
    s.after_sales.window = 0ms;
    s.operations.close_resolved_after = 0ms;
    CHECK(orderly::validate(s).has_value());
}
