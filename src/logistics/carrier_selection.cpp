// Carrier selection: which carrier and service a parcel goes with.
// The steps are listed on select_carrier() in orderly/logistics/carrier.hpp;
// each is one function here.

#include <orderly/logistics/carrier.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace orderly {

namespace {

error invalid(std::string field, std::string message) {
    return error{errc::invalid_value, std::move(field), std::move(message)};
}

std::string item(std::string_view name, std::size_t index) {
    return fmt::format("{}[{}]", name, index);
}

bool is_known(goods_trait t) noexcept {
    return std::find(all_goods_traits.begin(), all_goods_traits.end(), t) != all_goods_traits.end();
}

const carrier_info* find_info(std::span<const carrier_info> carriers, const carrier_id& id) {
    const auto found = std::find_if(carriers.begin(), carriers.end(),
                                    [&id](const carrier_info& c) { return c.id == id; });
    return found == carriers.end() ? nullptr : &*found;
}

error unknown_carrier(std::string field, const carrier_id& id) {
    return error{errc::not_found, std::move(field), fmt::format("no carrier has the code {}", id)};
}

// "95%" for 19/20; the rate itself when it cannot be scaled.
std::string percent_text(const rate& r) {
    if (const auto hundred = rate::ratio(100, 1)) {
        if (auto scaled = r.times(*hundred)) {
            return fmt::format("{}%", *scaled);
        }
    }
    return fmt::format("{}", r);
}

// Where a destination is, for messages: "Zhejiang, CN" or "CN".
std::string place_of(const address& to) {
    return detail::is_blank(to.province) ? to.country
                                         : fmt::format("{}, {}", to.province, to.country);
}

// An offer that quoted, with what selection needs at hand.
struct candidate {
    const carrier_offer* offer;
    const carrier_info* info;

    [[nodiscard]] const shipping_quote& quote() const { return *offer->quote; }
};

// The ranking of select_carrier(): the rule's key, then the other key, then
// carrier id and service level, so the order of offers never matters. Prices
// of one currency only (checked before ranking).
bool ranks_before(const candidate& a, const candidate& b, selection_rule rule) {
    const auto& pa = a.quote().price.amount_minor();
    const auto& pb = b.quote().price.amount_minor();
    const std::int32_t da = a.quote().transit_days;
    const std::int32_t db = b.quote().transit_days;
    if (rule == selection_rule::fastest && da != db) {
        return da < db;
    }
    if (pa != pb) {
        return pa < pb;
    }
    if (da != db) {
        return da < db;
    }
    if (a.offer->carrier != b.offer->carrier) {
        return a.offer->carrier < b.offer->carrier;
    }
    return a.offer->service < b.offer->service;
}

// ---------------------------------------------------------------------------
// Step 1: the inputs
// ---------------------------------------------------------------------------

std::optional<error> check_carriers(std::span<const carrier_info> carriers) {
    for (std::size_t i = 0; i < carriers.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (carriers[j].id == carriers[i].id) {
                return invalid(item("carriers", i) + ".id",
                               fmt::format("repeats carriers[{}].id ({})", j, carriers[i].id));
            }
        }
    }
    return std::nullopt;
}

std::optional<error> check_policy(std::span<const carrier_info> carriers,
                                  const selection_policy& policy) {
    if (policy.rule != selection_rule::cheapest && policy.rule != selection_rule::fastest) {
        return invalid("rule", "must be cheapest or fastest");
    }
    for (std::size_t i = 0; i < policy.forced.size(); ++i) {
        const forced_carrier_rule& rule = policy.forced[i];
        if (!is_known(rule.trait)) {
            return invalid(item("forced", i) + ".trait", "must be a goods trait orderly knows");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (policy.forced[j].trait == rule.trait) {
                return invalid(item("forced", i) + ".trait",
                               fmt::format("repeats forced[{}].trait ({}); the second rule could "
                                           "never apply",
                                           j, rule.trait));
            }
        }
        if (find_info(carriers, rule.carrier) == nullptr) {
            return unknown_carrier(item("forced", i) + ".carrier", rule.carrier);
        }
    }
    if (policy.choice.carrier && find_info(carriers, *policy.choice.carrier) == nullptr) {
        return unknown_carrier("choice.carrier", *policy.choice.carrier);
    }
    if (policy.choice.service && !is_known(*policy.choice.service)) {
        return invalid("choice.service", "must be standard, express or pickup_point");
    }
    if (policy.min_on_time_rate &&
        (policy.min_on_time_rate->is_negative() || *policy.min_on_time_rate > rate::one())) {
        return invalid("min_on_time_rate", "must be from 0 to 1");
    }
    return std::nullopt;
}

std::optional<error> check_offers(std::span<const carrier_info> carriers,
                                  std::span<const carrier_offer> offers) {
    std::set<std::pair<std::string_view, service_level>> seen;
    for (std::size_t i = 0; i < offers.size(); ++i) {
        const carrier_offer& offer = offers[i];
        const std::string at = item("offers", i);
        if (find_info(carriers, offer.carrier) == nullptr) {
            return unknown_carrier(at + ".carrier", offer.carrier);
        }
        if (!is_known(offer.service)) {
            return invalid(at + ".service", "must be standard, express or pickup_point");
        }
        if (!seen.emplace(offer.carrier.value(), offer.service).second) {
            return invalid(at,
                           fmt::format("repeats the offer of {} {}", offer.carrier, offer.service));
        }
        if (offer.quote && offer.quote->price.is_negative()) {
            return invalid(at + ".quote.price", "must not be negative");
        }
        if (offer.quote && offer.quote->transit_days < 0) {
            return invalid(at + ".quote.transit_days", "must not be negative");
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Steps 2 to 4: who may carry it, and who will
// ---------------------------------------------------------------------------

// The carrier a selection is limited to, and why.
struct allowed_carrier {
    const carrier_info* info{nullptr};           // nullptr: any carrier
    const forced_carrier_rule* forced{nullptr};  // the rule that named it, if any
    std::string field;                           // the policy field that named it
};

result<allowed_carrier> allowed_for(std::span<const carrier_info> carriers,
                                    const parcel_profile& parcel, const selection_policy& policy) {
    for (std::size_t i = 0; i < policy.forced.size(); ++i) {
        const forced_carrier_rule& rule = policy.forced[i];
        if (!parcel.traits.has(rule.trait)) {
            continue;
        }
        const carrier_info* info = find_info(carriers, rule.carrier);
        if (policy.choice.carrier && *policy.choice.carrier != rule.carrier) {
            const carrier_info* chosen = find_info(carriers, *policy.choice.carrier);
            return invalid("choice.carrier",
                           fmt::format("{} goods must go with {}; {} cannot be chosen for them",
                                       rule.trait, info->name, chosen->name));
        }
        return allowed_carrier{info, &rule, item("forced", i) + ".carrier"};
    }
    if (policy.choice.carrier) {
        return allowed_carrier{find_info(carriers, *policy.choice.carrier), nullptr,
                               "choice.carrier"};
    }
    return allowed_carrier{};
}

// "ship_to.province" and "ship_to.country" share "ship_to"; nothing shared is "".
std::string shared_field(const std::vector<error>& refusals) {
    std::string shared = refusals.front().field;
    for (const error& e : refusals) {
        if (e.field == shared) {
            continue;
        }
        const std::string_view head = std::string_view(shared).substr(0, shared.find('.'));
        const std::string_view other = std::string_view(e.field).substr(0, e.field.find('.'));
        shared = head == other ? std::string(head) : std::string();
    }
    return shared;
}

// Every carrier refused: one reason per carrier (its first refused service),
// carriers in id order.
error all_refused(std::vector<const carrier_offer*> refused, const shipment_query& query) {
    std::sort(refused.begin(), refused.end(), [](const carrier_offer* a, const carrier_offer* b) {
        return std::tie(a->carrier, a->service) < std::tie(b->carrier, b->service);
    });
    std::vector<error> reasons;
    for (std::size_t i = 0; i < refused.size(); ++i) {
        if (i == 0 || refused[i]->carrier != refused[i - 1]->carrier) {
            reasons.push_back(refused[i]->quote.error());
        }
    }
    const std::string field = shared_field(reasons);
    const bool same_code = std::all_of(reasons.begin(), reasons.end(), [&](const error& e) {
        return e.code == reasons.front().code;
    });
    const errc code = same_code ? reasons.front().code : errc::invalid_value;
    if (field.starts_with("ship_to")) {
        return error{code, field,
                     fmt::format("no carrier delivers to {}", place_of(query.ship_to))};
    }
    std::string message = "no carrier takes this parcel: ";
    for (std::size_t i = 0; i < reasons.size(); ++i) {
        message += (i == 0 ? "" : "; ") + reasons[i].message;
    }
    return error{code, field.empty() ? std::string("carrier") : field, std::move(message)};
}

// The offers that quoted, among those of the allowed carrier; or why none did.
result<std::vector<candidate>> quoted(std::span<const carrier_info> carriers,
                                      std::span<const carrier_offer> offers,
                                      const allowed_carrier& allowed, const shipment_query& query) {
    std::vector<candidate> eligible;
    std::vector<const carrier_offer*> refused;
    for (const carrier_offer& offer : offers) {
        if (allowed.info != nullptr && offer.carrier != allowed.info->id) {
            continue;
        }
        if (offer.quote) {
            eligible.push_back(candidate{&offer, find_info(carriers, offer.carrier)});
        } else {
            refused.push_back(&offer);
        }
    }
    if (!eligible.empty()) {
        return eligible;
    }
    if (allowed.info != nullptr && refused.empty()) {
        return invalid(allowed.field,
                       fmt::format("{} offers no service for this parcel", allowed.info->name));
    }
    if (refused.empty()) {
        return error{errc::not_found, "carrier", "the directory offers no carrier service"};
    }
    if (allowed.info == nullptr) {
        return all_refused(std::move(refused), query);
    }
    // One carrier allowed: its own reason, from its first service by level.
    const carrier_offer* first = *std::min_element(
        refused.begin(), refused.end(),
        [](const carrier_offer* a, const carrier_offer* b) { return a->service < b->service; });
    error why = first->quote.error();
    if (allowed.forced != nullptr) {
        why.message = fmt::format("{} goods must go with {}, and {}", allowed.forced->trait,
                                  allowed.info->name, why.message);
    }
    return why;
}

// ---------------------------------------------------------------------------
// Steps 5 to 7: filters
// ---------------------------------------------------------------------------

std::string levels_in(const std::vector<candidate>& candidates) {
    std::string text;
    for (const service_level level : all_service_levels) {
        const bool offered =
            std::any_of(candidates.begin(), candidates.end(),
                        [level](const candidate& c) { return c.offer->service == level; });
        if (offered) {
            text += (text.empty() ? "" : ", ") + std::string(to_string(level));
        }
    }
    return text;
}

std::optional<error> keep_service(std::vector<candidate>& candidates,
                                  const allowed_carrier& allowed, service_level wanted) {
    const std::string available = levels_in(candidates);
    std::erase_if(candidates, [wanted](const candidate& c) { return c.offer->service != wanted; });
    if (!candidates.empty()) {
        return std::nullopt;
    }
    if (allowed.info != nullptr) {
        return invalid("choice.service",
                       fmt::format("{} offers no {} service for this parcel; it offers {}",
                                   allowed.info->name, wanted, available));
    }
    return invalid("choice.service",
                   fmt::format("no carrier offers {} for this parcel to this address; "
                               "available: {}",
                               wanted, available));
}

std::optional<error> keep_punctual(std::vector<candidate>& candidates, const rate& floor) {
    const candidate* best = nullptr;  // the highest measured rate, for the message
    for (const candidate& c : candidates) {
        if (c.info->on_time_rate &&
            (best == nullptr || *c.info->on_time_rate > *best->info->on_time_rate)) {
            best = &c;
        }
    }
    const std::string best_text =
        best == nullptr
            ? std::string()
            : fmt::format("{} at {}", best->info->name, percent_text(*best->info->on_time_rate));
    std::erase_if(candidates, [&floor](const candidate& c) {
        return c.info->on_time_rate && *c.info->on_time_rate < floor;
    });
    if (!candidates.empty()) {
        return std::nullopt;
    }
    return invalid("min_on_time_rate",
                   fmt::format("no carrier with an on-time rate of at least {} takes this "
                               "parcel; the best is {}",
                               percent_text(floor), best_text));
}

std::optional<error> keep_in_time(std::vector<candidate>& candidates,
                                  const delivery_deadline& deadline) {
    // The fastest (then cheapest, then by id) for the message.
    const candidate earliest = *std::min_element(
        candidates.begin(), candidates.end(), [](const candidate& a, const candidate& b) {
            return ranks_before(a, b, selection_rule::fastest);
        });
    std::erase_if(candidates, [&deadline](const candidate& c) {
        return c.quote().transit_days > deadline.max_transit_days();
    });
    if (!candidates.empty()) {
        return std::nullopt;
    }
    return invalid(
        "deadline",
        fmt::format("no carrier can deliver {}; the earliest is {} with {} {}",
                    deadline.to_string(), deadline.arrival(earliest.quote().transit_days),
                    earliest.info->name, earliest.offer->service));
}

std::optional<error> check_currencies(const std::vector<candidate>& candidates) {
    const orderly::currency first = candidates.front().quote().price.currency();
    for (const candidate& c : candidates) {
        if (c.quote().price.currency() != first) {
            return error{errc::currency_mismatch, "offers",
                         fmt::format("quotes in {} and {} cannot be compared", first,
                                     c.quote().price.currency())};
        }
    }
    return std::nullopt;
}

// Steps 5 to 8 over the quoted candidates.
result<candidate> best_of(std::vector<candidate> candidates, const allowed_carrier& allowed,
                          const selection_policy& policy) {
    if (policy.choice.service) {
        if (auto e = keep_service(candidates, allowed, *policy.choice.service)) {
            return *std::move(e);
        }
    }
    if (policy.min_on_time_rate && allowed.info == nullptr) {
        if (auto e = keep_punctual(candidates, *policy.min_on_time_rate)) {
            return *std::move(e);
        }
    }
    if (auto e = check_currencies(candidates)) {
        return *std::move(e);
    }
    if (policy.deadline) {
        if (auto e = keep_in_time(candidates, *policy.deadline)) {
            return *std::move(e);
        }
    }
    return *std::min_element(candidates.begin(), candidates.end(),
                             [&policy](const candidate& a, const candidate& b) {
                                 return ranks_before(a, b, policy.rule);
                             });
}

selection_reason reason_for(const allowed_carrier& allowed, const selection_policy& policy) {
    if (allowed.forced != nullptr) {
        return selection_reason::forced;
    }
    if (policy.choice.carrier || policy.choice.service) {
        return selection_reason::customer_choice;
    }
    return policy.rule == selection_rule::fastest ? selection_reason::fastest
                                                  : selection_reason::cheapest;
}

}  // namespace

// ---------------------------------------------------------------------------
// select_carrier
// ---------------------------------------------------------------------------

result<carrier_choice> select_carrier(std::span<const carrier_info> carriers,
                                      std::span<const carrier_offer> offers,
                                      const shipment_query& query, const selection_policy& policy) {
    if (auto e = check_carriers(carriers)) {
        return *std::move(e);
    }
    if (auto e = check_policy(carriers, policy)) {
        return *std::move(e);
    }
    if (auto e = check_offers(carriers, offers)) {
        return *std::move(e);
    }
    auto allowed = allowed_for(carriers, query.parcel, policy);
    if (!allowed) {
        return std::move(allowed).error();
    }
    auto candidates = quoted(carriers, offers, *allowed, query);
    if (!candidates) {
        return std::move(candidates).error();
    }
    auto best = best_of(*std::move(candidates), *allowed, policy);
    if (!best) {
        return std::move(best).error();
    }
    return carrier_choice{
        .carrier = best->offer->carrier,
        .carrier_name = best->info->name,
        .service = best->offer->service,
        .quote = best->quote(),
        .reason = reason_for(*allowed, policy),
        .forced_by =
            allowed->forced != nullptr ? std::optional(allowed->forced->trait) : std::nullopt,
    };
}

result<carrier_choice> select_carrier(const carrier_directory& directory,
                                      const shipment_query& query, const selection_policy& policy) {
    auto carriers = directory.carriers();
    if (!carriers) {
        return std::move(carriers).error();
    }
    auto offers = directory.offers(query);
    if (!offers) {
        return std::move(offers).error();
    }
    return select_carrier(*carriers, *offers, query, policy);
}

}  // namespace orderly
