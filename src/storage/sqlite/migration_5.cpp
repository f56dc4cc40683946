// Schema version 5's rewrite of stored bodies (see migration_5.hpp). It runs
// once per file, inside the migration's write transaction, and serves only
// data written before version 5: the rules below are the ones orderly
// followed when that data was written, kept here and nowhere else.
//
// Rebuilding a ledger: before version 5 the money given back to a customer
// was recorded only in the payments (refunded) and, per cause, on the
// tickets (refund breakdown) and on the parcels' logistics exceptions (the
// remedy and its amount). The ledger is made of those records, in time
// order: each ticket's refund (source ticket), each parcel refund (source
// parcel, with the lines the engine computed then: parcel_refund_then) and
// each compensation (source compensation, outside the payments). Whatever
// the payments gave back beyond the tickets and parcels was a cancellation
// (the order was cancelled) or engine::refund_payment (an amount not tied to
// units: source manual, spread over the lines by allocate_refund). Older
// engines could record a parcel refund larger than the payments still held
// (refund_across stopped silently); such entries are trimmed to what the
// payments gave back, so the ledger never claims money that did not move.

#include "migration_5.hpp"

#include "codec.hpp"

#include <orderly/aftersales/refund.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orderly::detail::sqlite {
namespace {

// Order rows decoded between two writes: bounds the memory a large file takes.
constexpr std::int64_t page_rows = 256;

std::int64_t stored(std::uint64_t value) noexcept {
    return static_cast<std::int64_t>(value);
}

// ---- shipments -------------------------------------------------------------------

bool put_right(const shipment& s) {
    return std::any_of(s.exceptions.begin(), s.exceptions.end(), [](const logistics_exception& e) {
        return e.remedy == logistics_remedy::reship || e.remedy == logistics_remedy::refund;
    });
}

// Lost or returned parcels that a reship or a refund put right are resolved
// (final, so without a deadline).
result<void> resolve_shipments(connection& c) {
    std::vector<shipment> resolved;
    {
        auto q = c.prepare("SELECT body FROM shipments WHERE state IN (?1, ?2) ORDER BY id");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, static_cast<std::int64_t>(shipment_state::lost))
            .bind(2, static_cast<std::int64_t>(shipment_state::returned));
        for (;;) {
            auto row = q->step();
            if (!row) {
                return std::move(row).error();
            }
            if (!*row) {
                break;
            }
            auto s = decode_shipment(q->text(0));
            if (!s) {
                return std::move(s).error();
            }
            if (put_right(*s)) {
                s->state = shipment_state::resolved;
                s->due_at.reset();
                resolved.push_back(std::move(*s));
            }
        }
    }
    std::string body;
    for (const shipment& s : resolved) {
        encode_shipment(s, body);
        auto u =
            c.prepare("UPDATE shipments SET state = ?2, due_at = NULL, body = ?3 WHERE id = ?1");
        if (!u) {
            return std::move(u).error();
        }
        u->bind(1, stored(s.id.value()))
            .bind(2, static_cast<std::int64_t>(shipment_state::resolved))
            .bind(3, body);
        if (auto done = u->run(); !done) {
            return done;
        }
    }
    return {};
}

// ---- the ledger's entries ------------------------------------------------------------

// What the engine refunded a lost parcel's goods with before version 5, for
// order `o`: each of the parcel's lines of `o` gives back its units' price
// less their share of the line's discount (largest remainder over the units
// in the parcel and the line's other units), and no shipping.
result<refund_breakdown> parcel_refund_then(const shipment& s, const order& o) {
    const money none = money::zero(o.total.currency());
    std::map<std::uint32_t, refund_line> by_line;
    for (const shipment_line& l : s.lines) {
        if (l.order != o.id) {
            continue;
        }
        if (l.line >= o.lines.size() || l.units.units() > o.lines[l.line].units.units()) {
            return error{
                errc::storage_failure, "lines",
                fmt::format("shipment {} names line {} of order {} wrongly", s.id, l.line, o.id)};
        }
        const order_line& ol = o.lines[l.line];
        auto gross = ol.unit_price.times(l.units);
        auto discount = ol.discount.allocate(
            std::array<std::int64_t, 2>{l.units.units(), ol.units.units() - l.units.units()});
        auto net = gross && discount ? gross->minus(discount->front()) : result<money>(none);
        if (!gross || !discount || !net) {
            return error{
                errc::storage_failure, "lines",
                fmt::format("the refund of shipment {} for order {} does not compute", s.id, o.id)};
        }
        auto [it, fresh] = by_line.try_emplace(l.line, refund_line{l.line, l.units, *net, none});
        if (!fresh) {
            auto units = it->second.units.plus(l.units);
            auto goods = it->second.goods.plus(*net);
            if (!units || !goods) {
                return error{errc::storage_failure, "lines",
                             fmt::format("the refund of shipment {} does not fit", s.id)};
            }
            it->second.units = *units;
            it->second.goods = std::move(*goods);
        }
    }
    refund_breakdown out{{}, none, none, none};
    for (auto& [line, part] : by_line) {
        auto goods = out.goods.plus(part.goods);
        if (!goods) {
            return std::move(goods).error();
        }
        out.goods = std::move(*goods);
        out.lines.push_back(std::move(part));
    }
    out.total = out.goods;
    return out;
}

// When a ticket's refund was issued: its refund_issued step, else its last change.
timestamp refunded_at(const ticket& t) {
    for (auto it = t.timeline.rbegin(); it != t.timeline.rend(); ++it) {
        if (it->event == ticket_event::refund_issued) {
            return it->at;
        }
    }
    return t.updated_at;
}

// (a) Each of the order's tickets with a refund.
result<void> add_ticket_refunds(connection& c, const order& o, std::vector<order_refund>& ledger) {
    auto q = c.prepare("SELECT body FROM tickets WHERE order_id = ?1 ORDER BY id");
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, stored(o.id.value()));
    for (;;) {
        auto row = q->step();
        if (!row) {
            return std::move(row).error();
        }
        if (!*row) {
            return {};
        }
        auto t = decode_ticket(q->text(0));
        if (!t) {
            return std::move(t).error();
        }
        if (t->refund && t->refund->total.is_positive()) {
            ledger.push_back(order_refund{.at = refunded_at(*t),
                                          .source = refund_source::ticket,
                                          .reference = t->id.value(),
                                          .amount = t->refund->total,
                                          .lines = t->refund->lines,
                                          .reason = fmt::format("ticket {} {}", t->id, t->type)});
        }
    }
}

// (b) and (c): each refund and each compensation of one of the order's parcels.
result<void> add_parcel_entries(const shipment& s, const order& o,
                                std::vector<order_refund>& ledger) {
    for (const logistics_exception& e : s.exceptions) {
        if (!e.amount) {
            continue;
        }
        const timestamp at = e.resolved_at.value_or(s.updated_at);
        std::string reason = fmt::format("parcel {} {}", s.id, e.kind);
        if (e.remedy == logistics_remedy::refund) {
            auto part = parcel_refund_then(s, o);
            if (!part) {
                return std::move(part).error();
            }
            if (part->total.is_positive()) {
                ledger.push_back(order_refund{.at = at,
                                              .source = refund_source::parcel,
                                              .reference = s.id.value(),
                                              .amount = part->total,
                                              .lines = std::move(part->lines),
                                              .reason = std::move(reason)});
            }
        } else if (e.remedy == logistics_remedy::compensation && e.amount->is_positive()) {
            ledger.push_back(order_refund{.at = at,
                                          .source = refund_source::compensation,
                                          .reference = s.id.value(),
                                          .amount = *e.amount,
                                          .lines = {},
                                          .reason = std::move(reason)});
        }
    }
    return {};
}

result<void> add_parcels(connection& c, const order& o, std::vector<order_refund>& ledger) {
    for (const shipment_id id : o.shipments) {
        auto q = c.prepare("SELECT body FROM shipments WHERE id = ?1");
        if (!q) {
            return std::move(q).error();
        }
        q->bind(1, stored(id.value()));
        auto row = q->step();
        if (!row) {
            return std::move(row).error();
        }
        if (!*row) {
            continue;  // nothing of a parcel that is not stored can be rebuilt
        }
        auto s = decode_shipment(q->text(0));
        if (!s) {
            return std::move(s).error();
        }
        if (auto added = add_parcel_entries(*s, o, ledger); !added) {
            return added;
        }
    }
    return {};
}

// ---- money the payments moved ----------------------------------------------------------

result<money> refunded_by_payments(const order& o) {
    money sum = money::zero(o.total.currency());
    for (const payment& p : o.payments) {
        auto next = sum.plus(p.refunded);
        if (!next) {
            return error{errc::storage_failure, "payments",
                         fmt::format("order {} has refunds that do not add up: {}", o.id,
                                     next.error().message)};
        }
        sum = std::move(*next);
    }
    return sum;
}

// When the payments last gave money back: the latest change of one that did.
timestamp last_refund_at(const order& o) {
    std::optional<timestamp> at;
    for (const payment& p : o.payments) {
        if (p.refunded.is_positive() && (!at || *at < p.updated_at)) {
            at = p.updated_at;
        }
    }
    return at.value_or(o.updated_at);
}

// Takes `excess` off an entry's lines, the last line's shipping first; a
// line with nothing left is dropped (its units were never paid back).
void trim(order_refund& entry, money excess) {
    for (auto it = entry.lines.rbegin(); it != entry.lines.rend() && excess.is_positive(); ++it) {
        for (money* part : {&it->shipping, &it->goods}) {
            const money cut = *part < excess ? *part : excess;
            *part = part->minus(cut).value();
            excess = excess.minus(cut).value();
        }
    }
    std::erase_if(entry.lines,
                  [](const refund_line& l) { return l.goods.is_zero() && l.shipping.is_zero(); });
}

// Keeps the refunds of the price within what the payments gave back, in
// time order (see the top of the file); returns what is left of `refunded`.
result<money> keep_within(const money& refunded, std::vector<order_refund>& ledger) {
    money left = refunded;
    std::vector<order_refund> kept;
    for (order_refund& entry : ledger) {
        if (!refund_tied_to_price(entry.source)) {
            kept.push_back(std::move(entry));
            continue;
        }
        if (!left.is_positive()) {
            continue;
        }
        auto after = left.minus(entry.amount);
        if (!after) {
            return std::move(after).error();
        }
        if (after->is_negative()) {
            trim(entry, after->negated());
            entry.amount = left;
            after = money::zero(left.currency());
        }
        left = std::move(*after);
        kept.push_back(std::move(entry));
    }
    ledger = std::move(kept);
    return left;
}

// (d) Money refunded beyond the tickets and parcels.
order_refund leftover_entry(const order& o, const money& left,
                            const std::vector<order_refund>& ledger) {
    order_refund entry{.at = last_refund_at(o),
                       .source = refund_source::cancellation,
                       .reference = 0,
                       .amount = left,
                       .lines = {},
                       .reason = "cancelled"};
    if (o.state == order_state::cancelled) {
        return entry;
    }
    order so_far = o;
    so_far.refunds = ledger;
    auto tally = tally_refunds(so_far);
    auto lines = tally ? allocate_refund(o, left, *tally)
                       : result<std::vector<refund_line>>(std::move(tally).error());
    if (lines) {
        entry.source = refund_source::manual;
        entry.lines = std::move(*lines);
        entry.reason = "refunded without lines before schema version 5";
    } else {
        // More than the price has left to give back: money the order did
        // not ask for (a repeated capture, say), returned whole.
        entry.source = refund_source::returned_payment;
        entry.reason = "refunded beyond the order's price before schema version 5";
    }
    return entry;
}

void by_time(std::vector<order_refund>& ledger) {
    std::stable_sort(ledger.begin(), ledger.end(),
                     [](const order_refund& a, const order_refund& b) { return a.at < b.at; });
}

// The ledger of an order stored without one, or nothing when it needs none.
result<std::optional<std::vector<order_refund>>> rebuilt_ledger(connection& c, const order& o) {
    auto refunded = refunded_by_payments(o);
    if (!refunded) {
        return std::move(refunded).error();
    }
    if (!o.refunds.empty() || !refunded->is_positive()) {
        return std::optional<std::vector<order_refund>>();
    }
    std::vector<order_refund> ledger;
    if (auto added = add_ticket_refunds(c, o, ledger); !added) {
        return std::move(added).error();
    }
    if (auto added = add_parcels(c, o, ledger); !added) {
        return std::move(added).error();
    }
    by_time(ledger);
    auto left = keep_within(*refunded, ledger);
    if (!left) {
        return error{
            errc::storage_failure, "refunds",
            fmt::format("the refunds of order {} do not add up: {}", o.id, left.error().message)};
    }
    if (left->is_positive()) {
        ledger.push_back(leftover_entry(o, *left, ledger));
        by_time(ledger);
    }
    return std::optional(std::move(ledger));
}

// ---- orders ------------------------------------------------------------------------------

struct order_table {
    const char* page;    // (id, body) after ?1, ascending, at most ?2
    const char* update;  // the body of id ?1 becomes ?2
};

constexpr std::array<order_table, 2> order_tables = {{
    {"SELECT id, body FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2",
     "UPDATE orders SET body = ?2 WHERE id = ?1"},
    {"SELECT id, body FROM archived_orders WHERE id > ?1 ORDER BY id LIMIT ?2",
     "UPDATE archived_orders SET body = ?2 WHERE id = ?1"},
}};

struct stored_order {
    std::int64_t id;
    std::string body;
};

result<std::vector<stored_order>> page_of(connection& c, const order_table& table,
                                          std::int64_t after) {
    auto q = c.prepare(table.page);
    if (!q) {
        return std::move(q).error();
    }
    q->bind(1, after).bind(2, page_rows);
    std::vector<stored_order> rows;
    for (;;) {
        auto row = q->step();
        if (!row) {
            return std::move(row).error();
        }
        if (!*row) {
            return rows;
        }
        rows.push_back(stored_order{q->integer(0), std::string(q->text(1))});
    }
}

// Each page is read whole before any of its rows is written, so no write
// happens under an open read of the same table.
result<void> rebuild_ledgers(connection& c, const order_table& table) {
    std::string body;
    for (std::int64_t after = std::numeric_limits<std::int64_t>::min();;) {
        auto page = page_of(c, table, after);
        if (!page) {
            return std::move(page).error();
        }
        if (page->empty()) {
            return {};
        }
        after = page->back().id;
        for (const stored_order& row : *page) {
            auto o = decode_order(row.body);
            if (!o) {
                return std::move(o).error();
            }
            auto ledger = rebuilt_ledger(c, *o);
            if (!ledger) {
                return std::move(ledger).error();
            }
            if (!*ledger) {
                continue;
            }
            o->refunds = std::move(**ledger);
            encode_order(*o, body);
            auto u = c.prepare(table.update);
            if (!u) {
                return std::move(u).error();
            }
            u->bind(1, row.id).bind(2, body);
            if (auto done = u->run(); !done) {
                return done;
            }
        }
    }
}

}  // namespace

result<void> rewrite_bodies_for_version_5(connection& c) {
    if (auto done = resolve_shipments(c); !done) {
        return done;
    }
    for (const order_table& table : order_tables) {
        if (auto done = rebuild_ledgers(c, table); !done) {
            return done;
        }
    }
    return {};
}

}  // namespace orderly::detail::sqlite
