// Placing orders (R-1… ): validation naming the field, prices checked
// against the catalogue, stock reserved in the same transaction as the order,
// automatic review, and batch import.

#include "engine_impl.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <utility>

namespace orderly {
namespace {

std::string line_field(std::size_t index, std::string_view part) {
    return fmt::format("lines[{}].{}", index, part);
}

// Field-level checks that need no store.
result<void> check_request(const place_order_request& r, const settings& options) {
    if (auto customer = parse_id<customer_id>(r.customer.value()); !customer) {
        return std::move(customer).error().within("customer");
    }
    if (!r.merchant.empty()) {
        if (auto merchant = parse_id<merchant_id>(r.merchant.value()); !merchant) {
            return std::move(merchant).error().within("merchant");
        }
    }
    if (to_string(r.channel) == "unknown") {
        return error{errc::invalid_value, "channel", "is not a known channel"};
    }
    if (to_string(r.method) == "unknown") {
        return error{errc::invalid_value, "method", "is not a known payment method"};
    }
    if (auto where = validate(r.ship_to); !where) {
        return std::move(where).error().within("ship_to");
    }
    if (r.lines.empty()) {
        return error{errc::missing_value, "lines", "an order needs at least one line"};
    }
    if (r.lines.size() > options.max_lines_per_order) {
        return error{
            errc::invalid_value, "lines",
            fmt::format("an order may have at most {} lines", options.max_lines_per_order)};
    }
    const currency expected = r.lines.front().unit_price.currency();
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        const line_request& line = r.lines[i];
        if (auto sku = parse_id<sku_id>(line.sku.value()); !sku) {
            return std::move(sku).error().within(line_field(i, "sku"));
        }
        if (line.units.is_zero()) {
            return error{errc::invalid_value, line_field(i, "units"), "must be more than zero"};
        }
        if (line.unit_price.currency() != expected) {
            return error{errc::currency_mismatch, line_field(i, "unit_price"),
                         fmt::format("is in {}, the order is in {}",
                                     line.unit_price.currency().code(), expected.code())};
        }
    }
    for (const auto& [field, amount] :
         {std::pair{"discount", &r.discount}, std::pair{"shipping_fee", &r.shipping_fee}}) {
        if (!amount->has_value()) {
            continue;
        }
        if ((*amount)->currency() != expected) {
            return error{errc::currency_mismatch, field,
                         fmt::format("is in {}, the order is in {}", (*amount)->currency().code(),
                                     expected.code())};
        }
        if ((*amount)->is_negative()) {
            return error{errc::invalid_value, field, "must not be negative"};
        }
    }
    if (r.tags.size() > options.max_tags) {
        return error{errc::invalid_value, "tags",
                     fmt::format("an order may have at most {} tags", options.max_tags)};
    }
    for (std::size_t i = 0; i < r.tags.size(); ++i) {
        if (auto tag = detail::check_text(r.tags[i], fmt::format("tags[{}]", i),
                                          options.max_tag_bytes, true);
            !tag) {
            return tag;
        }
    }
    return {};
}

std::uint64_t fingerprint_of(const place_order_request& r) {
    detail::fingerprint f;
    f.add(command::place_order).add(r.channel).add(r.customer).add(r.merchant).add(r.ship_to);
    f.add(r.lines.size());
    for (const auto& line : r.lines) {
        f.add(line.sku).add(line.units).add(line.unit_price);
    }
    f.add(r.discount).add(r.shipping_fee).add(r.method).add(r.tags.size());
    for (const auto& tag : r.tags) {
        f.add(tag);
    }
    return f.value();
}

// The calling code a phone of each country starts with, for the
// phone/country consistency signal. Countries not listed are not checked.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> calling_codes = {{
    {"AU", "+61"},
    {"CA", "+1"},
    {"CN", "+86"},
    {"DE", "+49"},
    {"FR", "+33"},
    {"GB", "+44"},
    {"HK", "+852"},
    {"JP", "+81"},
    {"KR", "+82"},
    {"MO", "+853"},
    {"SG", "+65"},
    {"TW", "+886"},
    {"US", "+1"},
    {"IN", "+91"},
}};

// The review rules: every rule that fires adds a flag; an order with no
// flag is approved automatically.
std::vector<std::string> review_flags(const place_order_request& r, const money& total,
                                      const std::vector<sku>& skus, const review_rules& rules) {
    std::vector<std::string> flags;
    for (const money& limit : rules.high_value_at_or_above) {
        if (limit.currency() == total.currency() && total >= limit) {
            flags.emplace_back("high_value");
            break;
        }
    }
    if (rules.review_restricted_skus &&
        std::any_of(skus.begin(), skus.end(), [](const sku& s) { return s.traits.restricted; })) {
        flags.emplace_back("restricted_sku");
    }
    if (std::find(rules.blocked_customers.begin(), rules.blocked_customers.end(), r.customer) !=
        rules.blocked_customers.end()) {
        flags.emplace_back("blocked_customer");
    }
    const auto phone = normalize_phone(r.ship_to.phone, r.ship_to.country);
    if (phone && std::any_of(rules.blocked_phones.begin(), rules.blocked_phones.end(),
                             [&](const std::string& blocked) {
                                 const auto b = normalize_phone(blocked, r.ship_to.country);
                                 return b && *b == *phone;
                             })) {
        flags.emplace_back("blocked_phone");
    }
    if (rules.check_phone_country && phone) {
        for (const auto& [country, code] : calling_codes) {
            if (country == r.ship_to.country && !phone->starts_with(code)) {
                flags.emplace_back("phone_country_mismatch");
                break;
            }
        }
    }
    if (rules.max_units_per_line > 0 &&
        std::any_of(r.lines.begin(), r.lines.end(), [&](const line_request& line) {
            return line.units.units() > rules.max_units_per_line;
        })) {
        flags.emplace_back("large_quantity");
    }
    return flags;
}

}  // namespace

result<command_outcome> engine::place_order(const command_context& ctx,
                                            const place_order_request& request) {
    return impl_->place(ctx, request);
}

std::vector<result<command_outcome>> engine::import_orders(const command_context& ctx,
                                                           std::span<const import_row> rows) {
    std::vector<result<command_outcome>> results;
    results.reserve(rows.size());
    const auto place_row = [&](std::size_t i, command_batch* batch) {
        const command_context row_ctx{ctx.actor, rows[i].idempotency_key, batch};
        auto placed = impl_->place(row_ctx, rows[i].request);
        if (!placed) {
            results.emplace_back(std::move(placed).error().within(fmt::format("rows[{}]", i)));
        } else {
            results.emplace_back(std::move(*placed));
        }
    };
    if (ctx.batch != nullptr) {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            place_row(i, ctx.batch);
        }
        return results;
    }
    // One group commit per import_batch_size rows; a group that fails to
    // commit turns each of its placed rows into that error.
    const std::size_t group = impl_->options.import_batch_size;
    for (std::size_t first = 0; first < rows.size(); first += group) {
        const std::size_t last = std::min(rows.size(), first + group);
        auto batch = begin_batch();
        if (!batch) {
            for (std::size_t i = first; i < last; ++i) {
                results.emplace_back(batch.error().within(fmt::format("rows[{}]", i)));
            }
            continue;
        }
        for (std::size_t i = first; i < last; ++i) {
            place_row(i, &*batch);
        }
        if (auto committed = batch->commit(); !committed) {
            for (std::size_t i = first; i < last; ++i) {
                if (results[i]) {
                    results[i] = committed.error().within(fmt::format("rows[{}]", i));
                }
            }
        }
    }
    return results;
}

namespace {

// What the catalogue and the stock say about a request, read in the
// transaction: the SKUs, the money, and where each SKU's units are reserved.
struct priced_order {
    std::vector<sku> skus;  // One per line.
    money subtotal;
    money discount;
    money shipping_fee;
    money total;
    std::vector<money> line_discounts;
    std::vector<reservation> reservations;  // reservation ids filled in later.
    std::vector<std::string> reservation_fields;
};

result<std::vector<sku>> read_catalogue(store_transaction& tx, const place_order_request& r) {
    std::vector<sku> skus;
    skus.reserve(r.lines.size());
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        const line_request& line = r.lines[i];
        auto found = tx.find_sku(line.sku);
        if (!found) {
            return std::move(found).error();
        }
        if (!*found) {
            return error{errc::not_found, line_field(i, "sku"),
                         fmt::format("'{}' is not in the catalogue", line.sku)};
        }
        if ((*found)->status != sku_status::on_sale) {
            return error{errc::invalid_value, line_field(i, "sku"),
                         fmt::format("'{}' is off shelf", line.sku)};
        }
        if (line.unit_price != (*found)->price) {
            return error{errc::invalid_value, line_field(i, "unit_price"),
                         fmt::format("is {}, the catalogue price is {}",
                                     line.unit_price.to_string(), (*found)->price.to_string())};
        }
        skus.push_back(std::move(**found));
    }
    return skus;
}

result<void> price(const place_order_request& r, priced_order& p) {
    const currency in = r.lines.front().unit_price.currency();
    p.subtotal = money::zero(in);
    std::vector<std::int64_t> weights;
    weights.reserve(r.lines.size());
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        auto amount = r.lines[i].unit_price.times(r.lines[i].units);
        auto sum = amount ? p.subtotal.plus(*amount) : amount;
        auto weight = amount ? amount->amount_minor_int64() : result<std::int64_t>(amount.error());
        if (!sum || !weight) {
            return error{errc::overflow, line_field(i, "units"), "the line amount is too large"};
        }
        p.subtotal = std::move(*sum);
        weights.push_back(*weight);
    }
    p.discount = r.discount.value_or(money::zero(in));
    p.shipping_fee = r.shipping_fee.value_or(money::zero(in));
    if (p.discount > p.subtotal) {
        return error{errc::invalid_value, "discount", "must not exceed the sum of the lines"};
    }
    auto shares = p.discount.allocate(std::span<const std::int64_t>(weights));
    if (!shares) {
        return std::move(shares).error().within("discount");
    }
    p.line_discounts = std::move(*shares);
    auto net = p.subtotal.minus(p.discount);
    auto total = net ? net->plus(p.shipping_fee) : net;
    if (!total) {
        return std::move(total).error().within("shipping_fee");
    }
    p.total = std::move(*total);
    return {};
}

// Reserves each SKU's total units in the first warehouse (by id) that has
// them all available; the commit re-checks, so a race cannot oversell.
result<void> plan_reservations(store_transaction& tx, const place_order_request& r,
                               priced_order& p) {
    std::map<sku_id, std::pair<std::int64_t, std::size_t>> wanted;  // units, first line
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        auto [it, fresh] = wanted.try_emplace(r.lines[i].sku, 0, i);
        if (__builtin_add_overflow(it->second.first, r.lines[i].units.units(), &it->second.first)) {
            return error{errc::overflow, line_field(i, "units"), "is too large"};
        }
    }
    for (const auto& [sku, need] : wanted) {
        auto levels = tx.find_stock(sku);
        if (!levels) {
            return std::move(levels).error();
        }
        const auto from = std::find_if(levels->begin(), levels->end(), [&](const stock_level& s) {
            return s.available() >= need.first;
        });
        if (from == levels->end()) {
            std::int64_t most = 0;
            for (const auto& s : *levels) {
                most = std::max(most, s.available());
            }
            return error{errc::insufficient_stock, line_field(need.second, "units"),
                         fmt::format("{} units of '{}' wanted, at most {} available in one "
                                     "warehouse",
                                     need.first, sku, most)};
        }
        p.reservations.push_back(reservation{reservation_id{}, sku, from->warehouse,
                                             quantity::of(need.first).value(),
                                             reservation_state::held});
        p.reservation_fields.push_back(line_field(need.second, "units"));
    }
    return {};
}

// The new order, still in pending_review: its number (also its id), lines
// with their discount shares, and reservations with fresh ids.
result<order> build_order(const place_order_request& r, priced_order& p, timestamp at,
                          order_number_generator& numbers) {
    auto number = numbers.next(std::chrono::system_clock::time_point(at.time_since_epoch()));
    if (!number) {
        return std::move(number).error();
    }
    for (auto& reserved : p.reservations) {
        auto id = detail::next_id(numbers, at);
        if (!id) {
            return std::move(id).error();
        }
        reserved.id = reservation_id(*id);
    }
    std::vector<order_line> lines;
    lines.reserve(r.lines.size());
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        lines.push_back(order_line{r.lines[i].sku, r.lines[i].units, r.lines[i].unit_price,
                                   std::move(p.line_discounts[i])});
    }
    return order{.id = order_id(number->value()),
                 .number = *number,
                 .version = 0,
                 .channel = r.channel,
                 .customer = r.customer,
                 .merchant = r.merchant,
                 .ship_to = r.ship_to,
                 .lines = std::move(lines),
                 .subtotal = std::move(p.subtotal),
                 .discount = std::move(p.discount),
                 .shipping_fee = std::move(p.shipping_fee),
                 .total = std::move(p.total),
                 .method = r.method,
                 .state = order_state::pending_review,
                 .held_from = order_state::pending_review,
                 .tags = r.tags,
                 .review_flags = {},
                 .reservations = std::move(p.reservations),
                 .payments = {},
                 .payment_failures = 0,
                 .shipments = {},
                 .warehouse = {},
                 .carrier = {},
                 .tracking_number = {},
                 .placed_at = at,
                 .updated_at = at,
                 .due_at = std::nullopt};
}

}  // namespace

result<command_outcome> engine::impl::place(const command_context& ctx,
                                            const place_order_request& request) {
    if (auto key = detail::check_idempotency_key(ctx.idempotency_key); !key) {
        return std::move(key).error();
    }
    if (auto allowed = ports.policy.authorize(ctx.actor, command::place_order, &request.customer);
        !allowed) {
        return std::move(allowed).error();
    }
    if (auto valid = check_request(request, options); !valid) {
        return std::move(valid).error();
    }
    const std::uint64_t fingerprint = fingerprint_of(request);
    const std::string key = scoped_key(command::place_order, ctx.idempotency_key);
    // A race lost at commit (stock taken meanwhile, a key stored
    // meanwhile, a number reused after the clock stepped back) re-runs the
    // command from a fresh read, which then tells the truth; errors found
    // while reading are final.
    for (unsigned attempt = 1;; ++attempt) {
        bool lost_race = false;
        auto placed = try_place(ctx, request, key, fingerprint, lost_race);
        if (placed || !lost_race || attempt >= options.conflict_retries) {
            return placed;
        }
    }
}

result<command_outcome> engine::impl::try_place(const command_context& ctx,
                                                const place_order_request& request,
                                                const std::string& key, std::uint64_t fingerprint,
                                                bool& lost_race) {
    auto tx = begin(ctx);
    if (!tx) {
        return std::move(tx).error();
    }
    auto previous = replay(**tx, key, fingerprint);
    if (!previous || *previous) {
        return previous ? std::move(**previous) : result<command_outcome>(previous.error());
    }
    auto skus = read_catalogue(**tx, request);
    if (!skus) {
        return std::move(skus).error();
    }
    const currency in = request.lines.front().unit_price.currency();
    priced_order p{std::move(*skus),
                   money::zero(in),
                   money::zero(in),
                   money::zero(in),
                   money::zero(in),
                   {},
                   {},
                   {}};
    if (auto priced = price(request, p); !priced) {
        return std::move(priced).error();
    }
    if (auto planned = plan_reservations(**tx, request, p); !planned) {
        return std::move(planned).error();
    }
    const timestamp at = now();
    auto built = build_order(request, p, at, numbers);
    if (!built) {
        return std::move(built).error();
    }
    order& o = *built;
    detail::order_change change(o, at, ctx.actor, options);
    change.entries.push_back(timeline_entry{at, ctx.actor, order_event::placed, std::nullopt,
                                            o.state, fmt::format("placed via {}", o.channel)});
    for (std::size_t i = 0; i < o.reservations.size(); ++i) {
        const reservation& r = o.reservations[i];
        change.stock.push_back(stock_change{r.sku, r.warehouse, stock_operation::reserve, r.units,
                                            p.reservation_fields[i]});
    }
    change.notify_customer(
        notification_kind::order_confirmed,
        fmt::format("Order {} is placed: {} to pay.", o.number, o.total.to_string()),
        {{"total", o.total.to_string()}});
    o.review_flags = review_flags(request, o.total, p.skus, options.review);
    if (o.review_flags.empty()) {
        if (auto r = change.transition(order_event::review_approved, "automatic review passed",
                                       system_actor());
            !r) {
            return std::move(r).error();
        }
        if (o.state == order_state::paid) {
            // Cash on delivery: ready to fulfil.
            if (auto r = change.commit_reservations(); !r) {
                return std::move(r).error();
            }
        }
    }
    if (auto written = write(**tx, change, true); !written) {
        return std::move(written).error();
    }
    const command_outcome outcome = outcome_of(o);
    if (auto r = (*tx)->put_idempotency(idempotency_record{key, fingerprint, outcome, at}); !r) {
        return std::move(r).error();
    }
    if (auto committed = (*tx)->commit(); !committed) {
        lost_race = committed.error().code == errc::conflict ||
                    committed.error().code == errc::insufficient_stock;
        return std::move(committed).error();
    }
    return outcome;
}

}  // namespace orderly
