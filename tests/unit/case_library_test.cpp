// The case library, orderly/ops/case_library.hpp: hand-built cases
// through every filter, the limit against the total, the counts per
// resolution code, the order of the results, unresolved cases skipped, every
// refusal with its field, and a seeded randomized comparison against a naive
// filter written independently of the library's.
#include <orderly/ops/case_library.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using orderly::carrier_id;
using orderly::case_id;
using orderly::case_note;
using orderly::case_query;
using orderly::case_search_result;
using orderly::case_state;
using orderly::case_type;
using orderly::errc;
using orderly::exception_case;
using orderly::merchant_id;
using orderly::resolution_count;
using orderly::search_cases;
using orderly::sku_id;
using orderly::timestamp;

namespace {

const timestamp t0 = orderly::from_unix_ms(1'700'000'000'000);

struct case_spec {
    std::uint64_t id{0};
    case_type type{case_type::other};
    case_state state{case_state::resolved};
    std::optional<timestamp> resolved_at{};
    std::string title{};
    std::string resolution{};
    std::string code{};
    std::vector<std::string> notes{};
    std::string sku{};
    std::string carrier{};
    std::string merchant{};
};

exception_case make_case(const case_spec& spec) {
    exception_case c;
    c.id = case_id(spec.id);
    c.version = 1;
    c.type = spec.type;
    c.state = spec.state;
    c.title = spec.title;
    c.resolution = spec.resolution;
    c.resolution_code = spec.code;
    for (const std::string& text : spec.notes) {
        c.notes.push_back(case_note{.at = t0, .author = {}, .text = text});
    }
    c.sku = sku_id(spec.sku);
    c.carrier = carrier_id(spec.carrier);
    c.merchant = merchant_id(spec.merchant);
    c.opened_at = t0 - 24h;
    c.updated_at = spec.resolved_at.value_or(t0);
    c.resolved_at = spec.resolved_at;
    if (spec.state == case_state::closed) {
        c.closed_at = spec.resolved_at;
    }
    return c;
}

// Five searchable cases (1, 2, 3, 6, 7) and three that are not (4, 5, 8).
std::vector<exception_case> library() {
    std::vector<exception_case> cases{
        make_case({.id = 1,
                   .type = case_type::logistics_delay,
                   .state = case_state::resolved,
                   .resolved_at = t0 + 1h,
                   .title = "Parcel late in Shanghai",
                   .resolution = "Carrier re-routed it",
                   .code = "rerouted",
                   .notes = {"Called the SF hotline", "promised for Monday"},
                   .carrier = "sf",
                   .merchant = "m-1"}),
        make_case({.id = 2,
                   .type = case_type::logistics_loss,
                   .state = case_state::closed,
                   .resolved_at = t0 + 3h,
                   .title = "Parcel lost",
                   .resolution = "Reshipped",
                   .code = "reshipped",
                   .carrier = "sf",
                   .merchant = "m-2"}),
        make_case({.id = 3,
                   .type = case_type::stock_shortage,
                   .state = case_state::resolved,
                   .resolved_at = t0 + 2h,
                   .title = "Short of tea",
                   .resolution = "Moved units from WH2",
                   .code = "restocked",
                   .sku = "tea-1",
                   .merchant = "m-1"}),
        make_case({.id = 4,
                   .type = case_type::low_stock,
                   .state = case_state::open,
                   .title = "Tea is low",
                   .sku = "tea-1",
                   .merchant = "m-1"}),
        make_case({.id = 5,
                   .type = case_type::logistics_delay,
                   .state = case_state::escalated,
                   .title = "Parcel late again",
                   .carrier = "sf",
                   .merchant = "m-1"}),
        make_case({.id = 6,
                   .type = case_type::logistics_delay,
                   .state = case_state::closed,
                   .resolved_at = t0 + 3h,
                   .title = "LATE parcel",
                   .resolution = "Waited",
                   .code = "rerouted",
                   .notes = {"stuck at the Shanghai hub"},
                   .carrier = "yto",
                   .merchant = "m-1"}),
        make_case({.id = 7,
                   .type = case_type::other,
                   .state = case_state::resolved,
                   .resolved_at = t0 + 5h,
                   .title = "Misc"}),
        // Resolved once, then reopened: its resolution time stays, but it is
        // not resolved now.
        make_case({.id = 8,
                   .type = case_type::logistics_delay,
                   .state = case_state::in_progress,
                   .resolved_at = t0 + 6h,
                   .title = "Parcel late in Shanghai",
                   .code = "rerouted",
                   .carrier = "sf",
                   .merchant = "m-1"}),
    };
    // Text outside the searched fields never matches.
    cases[0].owner = "zed";
    cases[0].cause_key = "logistics_delay:shipment:99";
    cases[0].timeline.push_back(orderly::case_entry{.at = t0, .note = "timeline words"});
    // Give the input in no particular order.
    std::swap(cases[0], cases[6]);
    std::swap(cases[2], cases[5]);
    return cases;
}

case_search_result found(const std::vector<exception_case>& cases, const case_query& query) {
    auto r = search_cases(cases, query);
    REQUIRE_MESSAGE(r.has_value(), to_string(r.error()));
    return *r;
}

std::vector<std::uint64_t> ids_of(const case_search_result& r) {
    std::vector<std::uint64_t> ids;
    for (const exception_case& c : r.cases) {
        ids.push_back(c.id.value());
    }
    return ids;
}

std::vector<std::uint64_t> ids_for(const case_query& query) {
    return ids_of(found(library(), query));
}

using ids = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("an empty query finds every resolved or closed case, latest first, ties by id") {
    const auto cases = library();
    const auto r = found(cases, case_query{});
    // 7 at 5 h; 2 and 6 both at 3 h (by id); 3 at 2 h; 1 at 1 h. 4, 5 and 8
    // are not resolved or closed (8 was reopened after a resolution).
    CHECK(ids_of(r) == ids{7, 2, 6, 3, 1});
    CHECK(r.total == 5);
    // Most cases first, ties by code ("" sorts first).
    CHECK(r.by_code == std::vector<resolution_count>{{.code = "rerouted", .cases = 2},
                                                     {.code = "", .cases = 1},
                                                     {.code = "reshipped", .cases = 1},
                                                     {.code = "restocked", .cases = 1}});
    // The cases come back whole.
    const auto seven = std::find_if(cases.begin(), cases.end(),
                                    [](const exception_case& c) { return c.id == case_id(7); });
    REQUIRE(seven != cases.end());
    CHECK(r.cases.front() == *seven);
    CHECK(found({}, case_query{}) == case_search_result{});
}

TEST_CASE("the limit cuts the cases but not the total or the counts") {
    const auto all = found(library(), case_query{});
    const auto two = found(library(), case_query{.limit = 2});
    CHECK(ids_of(two) == ids{7, 2});
    CHECK(two.total == 5);
    CHECK(two.by_code == all.by_code);
    CHECK(ids_of(found(library(), case_query{.limit = 1})) == ids{7});
    CHECK(ids_of(found(library(), case_query{.limit = 5})) == ids{7, 2, 6, 3, 1});
    CHECK(ids_of(found(library(), case_query{.limit = 10'000})) == ids{7, 2, 6, 3, 1});
}

TEST_CASE("each filter narrows the search") {
    SUBCASE("type") {
        CHECK(ids_for({.type = case_type::logistics_delay}) == ids{6, 1});
        CHECK(ids_for({.type = case_type::stock_shortage}) == ids{3});
        CHECK(ids_for({.type = case_type::low_stock}).empty());  // only an open one
        CHECK(ids_for({.type = case_type::payment_timeout}).empty());
    }
    SUBCASE("sku") {
        CHECK(ids_for({.sku = sku_id("tea-1")}) == ids{3});
        CHECK(ids_for({.sku = sku_id("tea")}).empty());  // whole ids, not prefixes
    }
    SUBCASE("carrier") {
        CHECK(ids_for({.carrier = carrier_id("sf")}) == ids{2, 1});
        CHECK(ids_for({.carrier = carrier_id("yto")}) == ids{6});
        CHECK(ids_for({.carrier = carrier_id("SF")}).empty());  // ids are exact
    }
    SUBCASE("merchant") {
        CHECK(ids_for({.merchant = merchant_id("m-1")}) == ids{6, 3, 1});
        CHECK(ids_for({.merchant = merchant_id("m-2")}) == ids{2});
        CHECK(ids_for({.merchant = merchant_id("m-3")}).empty());
    }
    SUBCASE("period: from included, to excluded") {
        CHECK(ids_for({.resolved_from = t0 + 2h}) == ids{7, 2, 6, 3});
        CHECK(ids_for({.resolved_from = t0 + 2h + 1ms}) == ids{7, 2, 6});
        CHECK(ids_for({.resolved_to = t0 + 3h}) == ids{3, 1});
        CHECK(ids_for({.resolved_to = t0 + 3h + 1ms}) == ids{2, 6, 3, 1});
        CHECK(ids_for({.resolved_from = t0 + 2h, .resolved_to = t0 + 3h}) == ids{3});
        CHECK(ids_for({.resolved_from = t0 + 3h, .resolved_to = t0 + 3h + 1ms}) == ids{2, 6});
        CHECK(ids_for({.resolved_from = t0 + 6h}).empty());  // 8 is not resolved now
    }
    SUBCASE("every filter at once") {
        const case_query q{.type = case_type::logistics_delay,
                           .carrier = carrier_id("sf"),
                           .merchant = merchant_id("m-1"),
                           .resolved_from = t0,
                           .resolved_to = t0 + 2h,
                           .text = "shanghai hotline"};
        CHECK(ids_for(q) == ids{1});
        auto other_type = q;
        other_type.type = case_type::logistics_loss;
        CHECK(ids_for(other_type).empty());
        auto other_period = q;
        other_period.resolved_from = t0 + 1h + 1ms;
        CHECK(ids_for(other_period).empty());
    }
}

TEST_CASE("text: every word, any case, in the title, resolution, code or notes") {
    // Title of 1, a note of 6.
    CHECK(ids_for({.text = "shanghai"}) == ids{6, 1});
    CHECK(ids_for({.text = "SHANGHAI"}) == ids{6, 1});
    // Words may come from different fields of one case (6: title and note).
    CHECK(ids_for({.text = "LATE shanghai"}) == ids{6, 1});
    CHECK(ids_for({.text = "late hub"}) == ids{6});
    // A note.
    CHECK(ids_for({.text = "hotline"}) == ids{1});
    CHECK(ids_for({.text = "monday"}) == ids{1});
    // The resolution, and the code.
    CHECK(ids_for({.text = "wh2"}) == ids{3});
    CHECK(ids_for({.text = "Restocked"}) == ids{3});
    // Substrings count; runs of spaces do not make empty words.
    CHECK(ids_for({.text = "reship"}) == ids{2});
    CHECK(ids_for({.text = "  rerouted   "}) == ids{6, 1});
    CHECK(ids_for({.text = " "}) == ids{7, 2, 6, 3, 1});
    // Every word must occur.
    CHECK(ids_for({.text = "late lost"}).empty());
    CHECK(ids_for({.text = "parcel"}) == ids{2, 6, 1});
    // A word does not span two fields ("Parcel lost" + "Reshipped").
    CHECK(ids_for({.text = "lostreshipped"}).empty());
    CHECK(ids_for({.text = "lost reshipped"}) == ids{2});
    // Owner, cause key and timeline are not searched.
    CHECK(ids_for({.text = "zed"}).empty());
    CHECK(ids_for({.text = "shipment:99"}).empty());
    CHECK(ids_for({.text = "timeline"}).empty());
    // The counts cover the text's matches only.
    const auto r = found(library(), {.text = "parcel"});
    CHECK(r.total == 3);
    CHECK(r.by_code == std::vector<resolution_count>{{.code = "rerouted", .cases = 2},
                                                     {.code = "reshipped", .cases = 1}});
}

TEST_CASE("text lowering is ASCII only") {
    const std::vector<exception_case> cases{
        make_case({.id = 1, .resolved_at = t0, .title = "Caf\xC3\xA9 order", .code = "ok"})};
    CHECK(ids_of(found(cases, {.text = "CAF\xC3\xA9"})) == ids{1});
    CHECK(ids_of(found(cases, {.text = "caf\xC3\xA9"})) == ids{1});
    CHECK(ids_of(found(cases, {.text = "CAF\xC3\x89"})).empty());  // É is not lowered
}

TEST_CASE("a resolved case without a resolution time sorts last and misses every period") {
    std::vector<exception_case> cases = library();
    cases.push_back(make_case({.id = 0, .state = case_state::closed, .title = "untimed"}));
    CHECK(ids_of(found(cases, {})) == ids{7, 2, 6, 3, 1, 0});
    CHECK(ids_of(found(cases, {.text = "untimed"})) == ids{0});
    CHECK(ids_of(found(cases, {.resolved_to = t0 + 24h})) == ids{7, 2, 6, 3, 1});
    CHECK(ids_of(found(cases, {.resolved_from = orderly::from_unix_ms(0)})) == ids{7, 2, 6, 3, 1});
}

TEST_CASE("refusal: a query out of bounds names its field") {
    const auto refused = [](const case_query& q, std::string_view field) {
        const auto v = orderly::validate(q);
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == errc::invalid_value);
        CHECK(v.error().field == field);
        CHECK_FALSE(v.error().message.empty());
        // search_cases refuses it the same way.
        const auto s = search_cases(library(), q);
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error() == v.error());
    };
    refused({.limit = 0}, "limit");
    refused({.limit = 10'001}, "limit");
    refused({.resolved_from = t0, .resolved_to = t0}, "resolved_to");
    refused({.resolved_from = t0, .resolved_to = t0 - 1ms}, "resolved_to");
    refused({.text = std::string(513, 'a')}, "text");
    // The bounds themselves are accepted.
    CHECK(orderly::validate(case_query{.limit = 1}).has_value());
    CHECK(orderly::validate(case_query{.limit = 10'000}).has_value());
    CHECK(orderly::validate(case_query{.resolved_from = t0, .resolved_to = t0 + 1ms}).has_value());
    CHECK(orderly::validate(case_query{.resolved_to = t0}).has_value());
    CHECK(orderly::validate(case_query{.resolved_from = t0}).has_value());
    CHECK(orderly::validate(case_query{.text = std::string(512, 'a')}).has_value());
    CHECK(orderly::validate(case_query{}).has_value());
}

// --- Randomized: search_cases against a naive filter.

namespace {

constexpr std::array<std::string_view, 10> vocabulary{
    "Parcel", "late", "LOST", "damaged", "Refund", "address", "Stock", "tea", "Shanghai", "hub"};
constexpr std::array<std::string_view, 4> codes{"", "rerouted", "refunded", "restocked"};
constexpr std::array<std::string_view, 3> names{"", "a", "b"};

// Case-insensitive (ASCII) "needle occurs in haystack", character by character.
bool contains_folded(std::string_view haystack, std::string_view needle) {
    const auto fold = [](char c) {
        return ('A' <= c && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    };
    if (needle.size() > haystack.size()) {
        return false;
    }
    for (std::size_t start = 0; start + needle.size() <= haystack.size(); ++start) {
        std::size_t i = 0;
        while (i < needle.size() && fold(haystack[start + i]) == fold(needle[i])) {
            ++i;
        }
        if (i == needle.size()) {
            return true;
        }
    }
    return false;
}

bool naive_match(const exception_case& c, const case_query& q) {
    if (c.state != case_state::resolved && c.state != case_state::closed) {
        return false;
    }
    if (q.type.has_value() && *q.type != c.type) {
        return false;
    }
    if (!q.sku.empty() && q.sku.value() != c.sku.value()) {
        return false;
    }
    if (!q.carrier.empty() && q.carrier.value() != c.carrier.value()) {
        return false;
    }
    if (!q.merchant.empty() && q.merchant.value() != c.merchant.value()) {
        return false;
    }
    if (q.resolved_from && (!c.resolved_at || *c.resolved_at < *q.resolved_from)) {
        return false;
    }
    if (q.resolved_to && (!c.resolved_at || !(*c.resolved_at < *q.resolved_to))) {
        return false;
    }
    std::string word;
    const std::string text = q.text + " ";
    for (const char ch : text) {
        if (ch != ' ') {
            word += ch;
            continue;
        }
        if (word.empty()) {
            continue;
        }
        bool any = contains_folded(c.title, word) || contains_folded(c.resolution, word) ||
                   contains_folded(c.resolution_code, word);
        for (const case_note& n : c.notes) {
            any = any || contains_folded(n.text, word);
        }
        if (!any) {
            return false;
        }
        word.clear();
    }
    return true;
}

case_search_result naive_search(const std::vector<exception_case>& cases, const case_query& q) {
    std::vector<exception_case> matched;
    std::copy_if(cases.begin(), cases.end(), std::back_inserter(matched),
                 [&q](const exception_case& c) { return naive_match(c, q); });
    // Every random case has a resolution time when resolved or closed.
    std::sort(matched.begin(), matched.end(), [](const exception_case& a, const exception_case& b) {
        return std::tuple(-orderly::to_unix_ms(*a.resolved_at), a.id.value()) <
               std::tuple(-orderly::to_unix_ms(*b.resolved_at), b.id.value());
    });
    case_search_result out;
    out.total = matched.size();
    std::map<std::string, std::size_t> counts;
    for (const exception_case& c : matched) {
        counts[c.resolution_code] += 1;
    }
    std::vector<std::pair<std::size_t, std::string>> ranked;
    for (const auto& [code, n] : counts) {
        ranked.emplace_back(n, code);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (const auto& [n, code] : ranked) {
        out.by_code.push_back(resolution_count{.code = code, .cases = n});
    }
    matched.resize(std::min(matched.size(), q.limit));
    out.cases = std::move(matched);
    return out;
}

template <class Array>
std::string_view pick(std::mt19937_64& rng, const Array& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
}

char toggle_case(char ch) {
    if (ch >= 'a' && ch <= 'z') {
        return static_cast<char>(ch - 'a' + 'A');
    }
    if (ch >= 'A' && ch <= 'Z') {
        return static_cast<char>(ch - 'A' + 'a');
    }
    return ch;
}

// A phrase of 0 to vocabulary words in random case.
std::string phrase(std::mt19937_64& rng, int most_words) {
    std::string out;
    const int n = std::uniform_int_distribution<int>(0, most_words)(rng);
    for (int i = 0; i < n; ++i) {
        std::string word(pick(rng, vocabulary));
        for (char& ch : word) {
            if (rng() % 3 == 0) {
                ch = toggle_case(ch);
            }
        }
        if (rng() % 4 == 0 && word.size() > 3) {
            word = word.substr(1, word.size() - 2);  // a substring
        }
        out += std::string(rng() % 3, ' ');
        out += word;
    }
    return out;
}

exception_case random_case(std::mt19937_64& rng, std::uint64_t id) {
    exception_case c;
    c.id = case_id(id);
    c.type = orderly::all_case_types[rng() % orderly::all_case_types.size()];
    c.state = orderly::all_case_states[rng() % orderly::all_case_states.size()];
    c.title = phrase(rng, 3);
    c.resolution = phrase(rng, 2);
    c.resolution_code = std::string(pick(rng, codes));
    for (std::uint64_t n = rng() % 3; n > 0; --n) {
        c.notes.push_back(case_note{.at = t0, .author = {}, .text = phrase(rng, 2)});
    }
    c.sku = sku_id(std::string(pick(rng, names)));
    c.carrier = carrier_id(std::string(pick(rng, names)));
    c.merchant = merchant_id(std::string(pick(rng, names)));
    // Few distinct times, so ties are common; unresolved cases may carry an
    // old resolution time (reopened).
    if (c.state == case_state::resolved || c.state == case_state::closed || rng() % 2 == 0) {
        c.resolved_at = t0 + std::chrono::hours(static_cast<int>(rng() % 12));
    }
    return c;
}

case_query random_query(std::mt19937_64& rng) {
    case_query q;
    if (rng() % 3 == 0) {
        q.type = orderly::all_case_types[rng() % orderly::all_case_types.size()];
    }
    if (rng() % 4 == 0) {
        q.sku = sku_id(std::string(pick(rng, names)));
    }
    if (rng() % 4 == 0) {
        q.carrier = carrier_id(std::string(pick(rng, names)));
    }
    if (rng() % 4 == 0) {
        q.merchant = merchant_id(std::string(pick(rng, names)));
    }
    if (rng() % 3 == 0) {
        q.resolved_from = t0 + std::chrono::hours(static_cast<int>(rng() % 8));
    }
    if (rng() % 3 == 0) {
        q.resolved_to =
            q.resolved_from.value_or(t0) + std::chrono::hours(static_cast<int>(1 + rng() % 8));
    }
    if (rng() % 2 == 0) {
        q.text = phrase(rng, 2);
    }
    q.limit = 1 + rng() % 40;
    return q;
}

}  // namespace

TEST_CASE("randomized: search_cases agrees with a naive filter") {
    std::size_t queries_with_matches = 0;
    std::size_t queries_filtering = 0;
    std::size_t queries_limited = 0;
    std::size_t text_queries_with_matches = 0;
    for (const std::uint64_t seed : {1U, 2U, 3U, 42U, 20240601U}) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        std::vector<exception_case> cases;
        for (std::uint64_t id = 1; id <= 150; ++id) {
            cases.push_back(random_case(rng, id * 7919 % 1009));  // unique, unordered
        }
        const auto everything = found(cases, case_query{.limit = 10'000});
        for (int round = 0; round < 300; ++round) {
            const case_query q = random_query(rng);
            CAPTURE(q.text);
            const auto got = found(cases, q);
            const auto want = naive_search(cases, q);
            CHECK(got.total == want.total);
            CHECK(ids_of(got) == ids_of(want));
            CHECK(got.cases == want.cases);
            CHECK(got.by_code == want.by_code);
            // Invariants: the counts add up to the total, the limit holds.
            std::size_t counted = 0;
            for (const resolution_count& rc : got.by_code) {
                counted += rc.cases;
            }
            CHECK(counted == got.total);
            CHECK(got.cases.size() == std::min(got.total, q.limit));
            queries_with_matches += got.total > 0 ? 1U : 0U;
            queries_filtering += got.total < everything.total ? 1U : 0U;
            queries_limited += got.total > q.limit ? 1U : 0U;
            text_queries_with_matches +=
                (got.total > 0 && q.text.find_first_not_of(' ') != std::string::npos) ? 1U : 0U;
        }
    }
    // Not vacuous: many queries found something, many filtered something
    // out, the limit cut some, and text matched.
    CHECK(queries_with_matches > 300);
    CHECK(queries_filtering > 300);
    CHECK(queries_limited > 50);
    CHECK(text_queries_with_matches > 50);
}
