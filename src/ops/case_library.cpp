// The case library.
#include <orderly/ops/case_library.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

namespace orderly {

namespace {

constexpr std::size_t max_limit = 10'000;
constexpr std::size_t max_text_bytes = 512;

/// ASCII lowering only: the search is byte-wise, so UTF-8 text outside
/// ASCII matches exactly as written.
char lower_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower_ascii);
    return out;
}

/// The query's words, lowered; runs of spaces give no empty words.
std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find(' ', at), text.size());
        if (end > at) {
            words.push_back(lowered(text.substr(at, end - at)));
        }
        at = end + 1;
    }
    return words;
}

bool searchable(case_state s) noexcept {
    return s == case_state::resolved || s == case_state::closed;
}

bool in_period(const exception_case& c, const case_query& q) {
    if (!q.resolved_from && !q.resolved_to) {
        return true;
    }
    if (!c.resolved_at) {
        return false;
    }
    return (!q.resolved_from || *c.resolved_at >= *q.resolved_from) &&
           (!q.resolved_to || *c.resolved_at < *q.resolved_to);
}

/// Every word occurs in one of the case's texts (each text on its own, so a
/// word never matches across the boundary of two texts).
bool has_words(const exception_case& c, const std::vector<std::string>& words) {
    if (words.empty()) {
        return true;
    }
    std::vector<std::string> texts{lowered(c.title), lowered(c.resolution),
                                   lowered(c.resolution_code)};
    for (const auto& note : c.notes) {
        texts.push_back(lowered(note.text));
    }
    return std::all_of(words.begin(), words.end(), [&](const std::string& word) {
        return std::any_of(texts.begin(), texts.end(), [&](const std::string& text) {
            return text.find(word) != std::string::npos;
        });
    });
}

bool matches(const exception_case& c, const case_query& q, const std::vector<std::string>& words) {
    return searchable(c.state) && (!q.type || c.type == *q.type) &&
           (q.sku.empty() || c.sku == q.sku) && (q.carrier.empty() || c.carrier == q.carrier) &&
           (q.merchant.empty() || c.merchant == q.merchant) && in_period(c, q) &&
           has_words(c, words);
}

/// Most recently resolved first, ties by id; a case without a resolution
/// time (which a resolved case always has) sorts last.
bool resolved_later(const exception_case* a, const exception_case* b) {
    const timestamp ta = a->resolved_at.value_or(timestamp::min());
    const timestamp tb = b->resolved_at.value_or(timestamp::min());
    if (ta != tb) {
        return ta > tb;
    }
    return a->id < b->id;
}

std::vector<resolution_count> count_codes(const std::vector<const exception_case*>& found) {
    std::map<std::string, std::size_t, std::less<>> counts;
    for (const exception_case* c : found) {
        ++counts[c->resolution_code];
    }
    std::vector<resolution_count> out;
    out.reserve(counts.size());
    for (auto& [code, n] : counts) {
        out.push_back(resolution_count{.code = code, .cases = n});
    }
    // The map gave them by code; a stable sort by count keeps that for ties.
    std::stable_sort(
        out.begin(), out.end(),
        [](const resolution_count& a, const resolution_count& b) { return a.cases > b.cases; });
    return out;
}

}  // namespace

result<void> validate(const case_query& query) {
    if (query.limit == 0 || query.limit > max_limit) {
        return error{errc::invalid_value, "limit", fmt::format("must be from 1 to {}", max_limit)};
    }
    if (query.resolved_from && query.resolved_to && *query.resolved_to <= *query.resolved_from) {
        return error{errc::invalid_value, "resolved_to", "must be after resolved_from"};
    }
    if (query.text.size() > max_text_bytes) {
        return error{errc::invalid_value, "text",
                     fmt::format("must be at most {} bytes", max_text_bytes)};
    }
    return {};
}

result<case_search_result> search_cases(std::span<const exception_case> cases,
                                        const case_query& query) {
    if (auto valid = validate(query); !valid) {
        return valid.error();
    }
    const std::vector<std::string> words = words_of(query.text);
    std::vector<const exception_case*> found;
    for (const exception_case& c : cases) {
        if (matches(c, query, words)) {
            found.push_back(&c);
        }
    }
    std::stable_sort(found.begin(), found.end(), resolved_later);

    case_search_result out;
    out.total = found.size();
    out.by_code = count_codes(found);
    const std::size_t shown = std::min(found.size(), query.limit);
    out.cases.reserve(shown);
    for (std::size_t i = 0; i < shown; ++i) {
        out.cases.push_back(*found[i]);
    }
    return out;
}

}  // namespace orderly
