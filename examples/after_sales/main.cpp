// orderly after_sales: one order through a partial return, an exchange and a
// refund-only ticket, as a reference for hosts wiring up after-sales (R-24…R-27).
//
// What a host provides, besides what the quickstart and warehouse_day show:
// after_sales settings (its agents, the damage rule's auto-approve limit,
// the deadlines) and a fulfilment set-up, so that an exchange's replacement
// can ship. Then it calls, from its own screens and handlers:
//   open_ticket              the customer asks for a refund, a return or an exchange
//   decide_ticket            an agent approves or rejects what no rule approved
//   record_return_shipment   the customer sent the goods back (record_return_event: its tracking)
//   receive_return / inspect_return   at the warehouse: back to stock or the damaged bin
//   ship_replacement         an agent sends the exchange's goods (a new shipment)
//   close_ticket             the customer got the replacement
//   confirm_receipt / rate_order     the order closes once every ticket ended; then a rating
//   run_due_work             from its scheduler: deadlines, escalations, notifications
//
// The story: Mei buys a down jacket (M), two celadon mugs and a tea box with
// a 20.00 discount and 12.00 shipping; it ships from one warehouse and
// arrives. The next morning she returns one mug (changed her mind), asks to
// exchange the jacket for an L (size), and reports the tea box crushed
// (damaged, within 48 hours: approved by the rule and refunded at once).
// Refunds are exact to the fen; the program explains each cent, then prints
// every ticket's timeline, the money, the stock and the notifications. It
// exits non-zero when a command fails or the refunds do not add up: CI runs
// it as a smoke test.
//
// Usage: after_sales [--db FILE]   (default: a fresh SQLite file in the temp
//                                   directory, removed at the end; FILE must not exist)

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace orderly;

// The host's notification channel: counts by kind and audience (a real host
// sends SMS, pushes or e-mails, de-duplicating on note.id).
class counting_notifier final : public notifier {
public:
    result<void> deliver(const notification& note) override {
        const std::lock_guard lock(mutex_);
        ++counts_[{note.kind, note.audience}];
        return {};
    }
    [[nodiscard]] std::size_t count(notification_kind k, audience a) const {
        const std::lock_guard lock(mutex_);
        const auto it = counts_.find({k, a});
        return it == counts_.end() ? 0 : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::pair<notification_kind, audience>, std::size_t> counts_;
};

// Stops the example with the error when a command is refused; a host shows
// it to the person instead.
template <class T>
T must(result<T> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, to_string(r.error()));
        std::exit(EXIT_FAILURE);
    }
    return std::move(*r);
}

void must(result<void> r, std::string_view what) {
    if (!r) {
        fmt::print(stderr, "{} failed: {}\n", what, to_string(r.error()));
        std::exit(EXIT_FAILURE);
    }
}

money yuan(std::string_view text) {
    return must(money::parse(text, currencies::CNY), "price");
}

quantity units(std::int64_t n) {
    return must(quantity::of(n), "quantity");
}

money sum(const std::vector<money>& parts) {
    money total = money::zero(currencies::CNY);
    for (const money& m : parts) {
        total = must(total.plus(m), "sum");
    }
    return total;
}

const warehouse_id hangzhou("hz-main");

address depot() {
    return address{.recipient = "Hangzhou Main DC",
                   .phone = "13900001111",
                   .country = "CN",
                   .province = "Zhejiang",
                   .city = "Hangzhou",
                   .district = "Yuhang",
                   .street = "1 Depot Road",
                   .postcode = "311100"};
}

// One warehouse serving Zhejiang first and the rest of the country after.
fulfilment_network network() {
    fulfilment_network n;
    n.warehouses.push_back(warehouse{.id = hangzhou,
                                     .name = "Hangzhou Main DC",
                                     .sender = depot(),
                                     .regions = {{"CN", "Zhejiang", 10}, {"CN", "", 500}}});
    return n;
}

// One carrier, SF Express, priced by weight band and zone.
carrier_tables carriers() {
    carrier_spec sf{.id = carrier_id("sf"),
                    .name = "SF Express",
                    .services = {{.level = service_level::standard, .transit_days = {1, 2}}},
                    .coverage = {{.country = "CN", .provinces = {}}},
                    .refuses = {},
                    .max_weight_g = 50'000,
                    .max_volume_cm3 = 0,
                    .volumetric_divisor = 0,
                    .bands = {{1000, {yuan("12"), yuan("16")}}, {50'000, {yuan("20"), yuan("30")}}},
                    .beyond_last_band = std::nullopt,
                    .tracking = {.prefix = "SF", .digits = 10, .first_sequence = 1},
                    .on_time_rate = std::nullopt};
    return carrier_tables{
        .zones =
            {.rules = {{.origin_region = "", .country = "CN", .province = "Zhejiang", .zone = 1}},
             .default_zone = 2},
        .carriers = {sf}};
}

struct product {
    const char* id;
    const char* name;
    const char* price;
    std::int64_t weight_g;
    sku_traits traits;
    std::int64_t stock;
    const char* bin;
};

// Both jacket sizes cost the same: an exchange needs the line's price.
const std::array<product, 4> catalogue = {{
    {"jacket-m", "Down jacket, size M", "299.00", 900, {}, 20, "A-1-2"},
    {"jacket-l", "Down jacket, size L", "299.00", 950, {}, 20, "A-1-3"},
    {"mug", "Celadon mug", "39.90", 400, {.fragile = true}, 50, "B-2-1"},
    {"tea", "Longjing tea gift box", "58.00", 300, {}, 30, "C-1-4"},
}};

struct stock_row {
    std::int64_t on_hand{0};
    std::int64_t damaged{0};
};

std::map<std::string, stock_row> stock_snapshot(store& st) {
    std::map<std::string, stock_row> out;
    for (const auto& p : catalogue) {
        const auto level = must(st.stock(sku_id(p.id), hangzhou), "stock");
        out[p.id] = level ? stock_row{level->on_hand.units(), level->damaged.units()} : stock_row{};
    }
    return out;
}

// The example's story as it happens: time, then what.
class narrator {
public:
    explicit narrator(const manual_clock& clock) : clock_(clock) {}
    template <class... Args>
    void say(fmt::format_string<Args...> text, Args&&... args) const {
        fmt::print("  {:%m-%d %H:%M}  {}\n", clock_.now(),
                   fmt::format(text, std::forward<Args>(args)...));
    }

private:
    const manual_clock& clock_;
};

void print_order_money(const order& o) {
    fmt::print("order {} for {}: {} line(s), {} shipping, paid by {}\n", o.number, o.customer,
               o.lines.size(), o.shipping_fee, o.method);
    fmt::print("  {:<4} {:<10} {:>5} {:>14} {:>14} {:>14} {:>14} {:>14}\n", "line", "sku", "units",
               "unit price", "line total", "discount", "paid", "shipping");
    const auto shipping = must(shipping_shares(o), "shipping shares");
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        const order_line& l = o.lines[i];
        fmt::print("  {:<4} {:<10} {:>5} {:>14} {:>14} {:>14} {:>14} {:>14}\n", i, l.sku, l.units,
                   l.unit_price, must(l.unit_price.times(l.units), "line total"), l.discount,
                   must(paid_amount(l), "paid"), shipping[i]);
    }
    fmt::print("  subtotal {} - discount {} + shipping {} = total {}\n", o.subtotal, o.discount,
               o.shipping_fee, o.total);
    fmt::print(
        "  (the discount is shared over the lines by their totals, the shipping fee over\n"
        "   their paid amounts, both by largest remainder: the shares add up exactly)\n\n");
}

// Where each cent of a ticket's refund comes from (orderly/aftersales/refund.hpp).
void explain_refund(const order& o, const ticket& t) {
    const refund_breakdown& r = *t.refund;
    const auto shipping = must(shipping_shares(o), "shipping shares");
    fmt::print("    refund {} = goods {} + shipping {}\n", r.total, r.goods, r.shipping);
    for (const refund_line& rl : r.lines) {
        const order_line& l = o.lines[rl.line];
        const money paid = must(paid_amount(l), "paid amount");
        const auto n = static_cast<std::size_t>(l.units.units());
        fmt::print("      line {} {}: {} x {} = {}, less its discount share {}, paid {}\n", rl.line,
                   l.sku, l.units, l.unit_price, must(l.unit_price.times(l.units), "line total"),
                   l.discount, paid);
        if (n > 1) {
            fmt::print(
                "        paid per unit: {} (largest remainder: the odd fen goes to the "
                "earlier unit)\n",
                fmt::join(must(paid.split(n), "split"), " + "));
            fmt::print("        its shipping share {}, per unit: {}\n", shipping[rl.line],
                       fmt::join(must(shipping[rl.line].split(n), "split"), " + "));
        } else {
            fmt::print("        its shipping share {}\n", shipping[rl.line]);
        }
        fmt::print("        {} unit(s) refunded: goods {}, shipping {}\n", rl.units, rl.goods,
                   rl.shipping);
        if (seller_at_fault(t.reason)) {
            fmt::print("        ({} is the seller's fault: the units' shipping goes back too)\n",
                       t.reason);
        } else {
            fmt::print(
                "        ({} is not the seller's fault: shipping goes back only with the whole "
                "order)\n",
                t.reason);
        }
    }
}

void print_ticket(const order& o, const ticket& t) {
    fmt::print("ticket {}: {} ({}), {}, owner {}\n", t.id, t.type, t.reason, t.state,
               t.owner.empty() ? "none" : t.owner);
    for (const ticket_line& l : t.lines) {
        fmt::print("    claims {} x {} (line {}){}", l.units, l.sku, l.line,
                   l.replacement_sku.empty()
                       ? std::string()
                       : fmt::format(", to be replaced by {}", l.replacement_sku));
        if (!l.sellable.is_zero() || !l.damaged.is_zero()) {
            fmt::print("; inspected: {} sellable, {} damaged", l.sellable, l.damaged);
        }
        fmt::print("\n");
    }
    fmt::print("    approved {}: {}\n", t.auto_approved ? "by rule" : "by an agent",
               t.approval_rule);
    if (t.returned) {
        fmt::print("    return parcel: {} {}, {} carrier event(s), {}\n", t.returned->carrier,
                   t.returned->tracking_number, t.returned->tracking.entries().size(),
                   t.returned->tracking.state());
    }
    if (t.replacement) {
        fmt::print("    replacement: shipment {}\n", *t.replacement);
    }
    fmt::print("    timeline:\n");
    for (const ticket_entry& e : t.timeline) {
        fmt::print("      {:%m-%d %H:%M}  {:<28} {:<19} {:>19} -> {:<19} {}\n", e.at, e.actor,
                   e.event, e.from ? to_string(*e.from) : "", e.to, e.note);
    }
    if (t.refund) {
        explain_refund(o, t);
    } else {
        fmt::print("    no refund\n");
    }
    fmt::print("\n");
}

std::filesystem::path database(int argc, char** argv, bool& keep) {
    if (argc == 3 && std::string_view(argv[1]) == "--db") {
        keep = true;
        return argv[2];
    }
    if (argc != 1) {
        fmt::print(stderr, "usage: after_sales [--db FILE]\n");
        std::exit(2);
    }
    keep = false;
    return std::filesystem::temp_directory_path() /
           fmt::format("orderly-after-sales-{}.db", ::getpid());
}

void remove_database(const std::filesystem::path& file) {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(file.string() + suffix, ignored);
    }
}

// The temporary database, removed at exit however the program ends.
std::filesystem::path temporary;

void remove_temporary() {
    remove_database(temporary);
}

}  // namespace

int main(int argc, char** argv) {
    bool keep = false;
    const std::filesystem::path file = database(argc, argv, keep);
    if (keep && std::filesystem::exists(file)) {
        fmt::print(stderr, "{} exists: after_sales starts from an empty database\n", file.string());
        return 2;
    }
    if (!keep) {
        temporary = file;
        remove_database(file);
        std::atexit(remove_temporary);
    }
    int status = EXIT_SUCCESS;
    {
        // The embedded default store; NORMAL durability is enough for a demo.
        const std::unique_ptr<store> owned =
            must(sqlite_store::open({.path = file, .durability = sqlite_durability::normal}),
                 "open the SQLite store");
        store& st = *owned;
        fmt::print("store: SQLite file {}{}\n\n", file.string(),
                   keep ? "" : " (removed at the end)");

        counting_notifier notifier;
        manual_clock clock(std::chrono::time_point_cast<duration>(
            std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 10h));
        default_access_policy policy;
        carrier_table directory = must(carrier_table::create(carriers()), "carrier tables");

        fulfilment_setup setup;
        setup.network = network();
        setup.carriers = &directory;
        setup.bins = [](const warehouse_id&, const sku_id& s) -> std::optional<bin_location> {
            for (const auto& p : catalogue) {
                if (s.value() == p.id) {
                    return bin_location{"", p.bin};
                }
            }
            return std::nullopt;
        };

        settings options;
        options.after_sales.agents = {"agent-li", "agent-wang"};
        // Rule damage_reported_promptly: damage reported within 48 h of
        // delivery is approved without an agent when its refund is below 100.00.
        options.after_sales.damage_report_window = 48h;
        options.after_sales.auto_approve_below = {yuan("100.00")};
        auto engine = must(engine::create({st, notifier, clock, policy}, options, setup), "engine");

        const actor admin{"ops", role::admin};
        const actor keeper{"wh-hz-3", role::warehouse};
        const actor gateway{"alipay-callback", role::system};
        const actor carrier_hook{"sf-webhook", role::system};
        const actor mei{"mei", role::customer};
        int keys = 0;
        auto as = [&keys](const actor& who) {
            return command_context{who, fmt::format("after-sales-{}", ++keys)};
        };
        const narrator log(clock);
        // The host's scheduler: due work (deadlines, notifications) every so often.
        auto scheduler = [&] { must(engine->run_due_work(), "run_due_work"); };

        // --- catalogue and stock ---
        for (const auto& p : catalogue) {
            must(engine->put_sku(as(admin), {.id = sku_id(p.id),
                                             .merchant = merchant_id("north-wind"),
                                             .name = p.name,
                                             .category = "demo",
                                             .price = yuan(p.price),
                                             .weight_g = p.weight_g,
                                             .volume_cm3 = p.weight_g * 3,
                                             .traits = p.traits,
                                             .status = sku_status::on_sale}),
                 "put_sku");
            must(engine->receive_stock(as(keeper), {sku_id(p.id), hangzhou, units(p.stock)}),
                 "receive_stock");
        }
        const auto stock_before = stock_snapshot(st);

        // Packs and ships what the warehouse has planned: one pick wave, a
        // scan of every line, the seal, the carrier's collection.
        auto pick_pack_ship = [&] {
            for (const auto& w :
                 must(engine->plan_pick_waves(as(keeper), hangzhou), "plan_pick_waves")) {
                for (const shipment_id id : w.wave.shipments) {
                    const shipment s = must(engine->get_shipment(admin, id), "get_shipment");
                    for (const auto& l : s.lines) {
                        const auto scan = must(
                            engine->scan_for_packing(as(keeper), {id, l.sku, l.units}), "scan");
                        if (!scan.accepted) {
                            fmt::print(stderr, "packing scan failed: {} refused\n", l.sku);
                            std::exit(EXIT_FAILURE);
                        }
                    }
                    must(engine->finish_packing(as(keeper), id), "finish_packing");
                    must(engine->ship_shipment(as(keeper), id), "ship_shipment");
                    const shipment sent = must(engine->get_shipment(admin, id), "get_shipment");
                    log.say("shipment {} picked in wave {}, packed and shipped: {} {}", id, w.id,
                            sent.carrier, sent.tracking_number);
                }
            }
        };
        // The carrier's webhook: each event arrives a few minutes after it happened.
        auto carrier_says = [&](shipment_id id, tracking_event kind, timestamp at,
                                std::string where) {
            clock.set(at + 5min);
            carrier_event e;
            e.id = fmt::format("{}-{}", id, to_string(kind));
            e.kind = kind;
            e.occurred_at = at;
            e.location = std::move(where);
            const auto out = must(
                engine->record_carrier_event(command_context{carrier_hook, "sf-" + e.id}, {id, e}),
                "record_carrier_event");
            log.say("carrier: shipment {} {} at {} (order {})", id, kind, e.location, out.state);
            scheduler();
        };
        auto at = [](int day, std::chrono::minutes time) {
            return std::chrono::time_point_cast<duration>(
                std::chrono::sys_days{std::chrono::year{2026} / 12 / day} + time);
        };

        // --- the order: placed, paid, shipped, delivered ---
        fmt::print("The order\n");
        place_order_request request;
        request.channel = order_channel::mobile_app;
        request.customer = customer_id("mei");
        request.merchant = merchant_id("north-wind");
        request.ship_to = {.recipient = "Mei Chen",
                           .phone = "13812345678",
                           .country = "CN",
                           .province = "Zhejiang",
                           .city = "Hangzhou",
                           .district = "Xihu",
                           .street = "88 Wensan Road",
                           .postcode = "310012"};
        request.lines = {{sku_id("jacket-m"), units(1), yuan("299.00")},
                         {sku_id("mug"), units(2), yuan("39.90")},
                         {sku_id("tea"), units(1), yuan("58.00")}};
        request.discount = yuan("20.00");
        request.shipping_fee = yuan("12.00");
        request.method = payment_method::wallet;
        const auto placed = must(engine->place_order(as(mei), request), "place_order");
        const order_id id = placed.order;
        const order fresh = must(engine->get_order(mei, id), "get_order");
        log.say("order {} placed: {}", placed.number, placed.state);
        clock.advance(3min);
        const auto paid =
            must(engine->record_payment(as(gateway), {.order = id,
                                                      .gateway_reference = "2026120122001",
                                                      .method = payment_method::wallet,
                                                      .result = payment_callback::outcome::captured,
                                                      .amount = fresh.total,
                                                      .failure_reason = ""}),
                 "record_payment");
        log.say("payment of {} captured: {}", fresh.total, paid.state);
        clock.advance(30min);
        must(engine->plan_fulfilment(as(keeper), {id, {}, {}}), "plan_fulfilment");
        log.say("fulfilment planned: {} shipment(s) from {}",
                must(engine->get_order(admin, id), "get_order").shipments.size(), hangzhou);
        clock.set(at(1, 16h));
        pick_pack_ship();
        scheduler();
        const auto first_parcels = must(engine->get_order(admin, id), "get_order").shipments;
        for (const shipment_id s : first_parcels) {
            carrier_says(s, tracking_event::picked_up, at(1, 17h + 30min), "Hangzhou Yuhang");
        }
        for (const shipment_id s : first_parcels) {
            carrier_says(s, tracking_event::arrived_at_hub, at(2, 6h), "Hangzhou hub");
        }
        for (const shipment_id s : first_parcels) {
            carrier_says(s, tracking_event::sent_out_for_delivery, at(3, 8h), "Xihu station");
        }
        for (const shipment_id s : first_parcels) {
            carrier_says(s, tracking_event::delivered, at(3, 11h + 30min), "Xihu, front desk");
        }
        const auto stock_shipped = stock_snapshot(st);
        fmt::print("\n");
        const order delivered = must(engine->get_order(admin, id), "get_order");
        print_order_money(delivered);

        // --- the next morning: three tickets ---
        fmt::print("After sales\n");
        clock.set(at(4, 9h));
        open_ticket_request mug_return;
        mug_return.order = id;
        mug_return.type = ticket_type::return_and_refund;
        mug_return.reason = ticket_reason::changed_mind;
        mug_return.description = "Two mugs is one too many; returning one, unused.";
        mug_return.lines = {{.line = 1, .units = units(1), .replacement_sku = {}}};
        const auto t1 = must(engine->open_ticket(as(mei), mug_return), "open mug return");
        const ticket_id mug_ticket = *t1.ticket;
        log.say("ticket {} opened: return 1 x mug (changed_mind) -> {}", mug_ticket,
                *t1.ticket_status);

        clock.advance(5min);
        open_ticket_request jacket_exchange;
        jacket_exchange.order = id;
        jacket_exchange.type = ticket_type::exchange;
        jacket_exchange.reason = ticket_reason::size;
        jacket_exchange.description = "M is tight across the shoulders; L please.";
        jacket_exchange.lines = {
            {.line = 0, .units = units(1), .replacement_sku = sku_id("jacket-l")}};
        const auto t2 = must(engine->open_ticket(as(mei), jacket_exchange), "open exchange");
        const ticket_id jacket_ticket = *t2.ticket;
        log.say("ticket {} opened: exchange jacket-m for jacket-l (size) -> {}", jacket_ticket,
                *t2.ticket_status);

        clock.advance(5min);
        open_ticket_request tea_damage;
        tea_damage.order = id;
        tea_damage.type = ticket_type::refund_only;
        tea_damage.reason = ticket_reason::damaged;
        tea_damage.description = "The tea box arrived crushed and the tin is dented.";
        tea_damage.evidence = {"photos/mei/tea-box-1.jpg", "photos/mei/tea-box-2.jpg"};
        tea_damage.lines = {{.line = 2, .units = units(1), .replacement_sku = {}}};
        const auto t3 = must(engine->open_ticket(as(mei), tea_damage), "open refund only");
        const ticket_id tea_ticket = *t3.ticket;
        const auto since_delivery = std::chrono::duration_cast<std::chrono::minutes>(
            clock.now() -
            *must(engine->get_shipment(admin, first_parcels.front()), "get_shipment").delivered_at);
        log.say("ticket {} opened: refund only 1 x tea (damaged, {} h {} min after delivery) -> {}",
                tea_ticket, since_delivery.count() / 60, since_delivery.count() % 60,
                *t3.ticket_status);
        scheduler();

        // An agent decides what no rule approved.
        const actor li{"agent-li", role::customer_service};
        clock.set(at(4, 10h + 15min));
        for (const auto& [ticket, note] :
             {std::pair{mug_ticket, "unused item within 7 days: return accepted"},
              std::pair{jacket_ticket, "size exchange: L is in stock"}}) {
            const auto decided = must(
                engine->decide_ticket(as(li), {.ticket = ticket, .approve = true, .note = note}),
                "decide_ticket");
            log.say("ticket {} approved by {} -> {}", ticket, li.id, *decided.ticket_status);
        }
        scheduler();

        // Mei sends each back in its own SF parcel; the carrier reports on them.
        clock.set(at(4, 15h));
        for (const auto& [ticket, tracking] :
             {std::pair{mug_ticket, "SF7000000101"}, std::pair{jacket_ticket, "SF7000000102"}}) {
            must(engine->record_return_shipment(
                     as(mei),
                     {.ticket = ticket, .carrier = carrier_id("sf"), .tracking_number = tracking}),
                 "record_return_shipment");
            log.say("ticket {}: goods sent back with sf {}", ticket, tracking);
        }
        for (const auto& [kind, when] : {std::pair{tracking_event::picked_up, at(4, 17h)},
                                         std::pair{tracking_event::delivered, at(5, 14h)}}) {
            clock.set(when + 5min);
            for (const ticket_id ticket : {mug_ticket, jacket_ticket}) {
                carrier_event e;
                e.id = fmt::format("return-{}-{}", ticket, to_string(kind));
                e.kind = kind;
                e.occurred_at = when;
                e.location = kind == tracking_event::delivered ? "Hangzhou Main DC" : "Xihu";
                must(engine->record_return_event(command_context{carrier_hook, "sf-" + e.id},
                                                 {ticket, e}),
                     "record_return_event");
            }
            log.say("carrier: both return parcels {}", kind);
            scheduler();
        }

        // The warehouse receives and inspects: both items are fit to sell again.
        clock.set(at(5, 15h));
        for (const ticket_id ticket : {mug_ticket, jacket_ticket}) {
            must(engine->receive_return(as(keeper), ticket), "receive_return");
        }
        log.say("warehouse received the goods of tickets {} and {}", mug_ticket, jacket_ticket);
        clock.set(at(5, 16h));
        const auto mug_done = must(
            engine->inspect_return(
                as(keeper), {.ticket = mug_ticket,
                             .lines = {{.line = 1, .sellable = units(1), .damaged = quantity{}}},
                             .note = "unused, in its original box"}),
            "inspect mug");
        log.say("ticket {} inspected: 1 sellable -> {}", mug_ticket, *mug_done.ticket_status);
        const auto jacket_checked = must(
            engine->inspect_return(
                as(keeper), {.ticket = jacket_ticket,
                             .lines = {{.line = 0, .sellable = units(1), .damaged = quantity{}}},
                             .note = "tags on, no marks"}),
            "inspect jacket");
        log.say("ticket {} inspected: 1 sellable -> {}", jacket_ticket,
                *jacket_checked.ticket_status);
        scheduler();

        // The agent sends the L: a new shipment through pick, pack and ship.
        clock.set(at(5, 16h + 30min));
        const auto replaced =
            must(engine->ship_replacement(as(li), jacket_ticket), "ship_replacement");
        const shipment_id replacement =
            *must(engine->get_ticket(admin, jacket_ticket), "get_ticket").replacement;
        log.say("ticket {}: replacement shipment {} planned -> {}", jacket_ticket, replacement,
                *replaced.ticket_status);
        clock.set(at(5, 17h));
        pick_pack_ship();
        scheduler();
        carrier_says(replacement, tracking_event::picked_up, at(5, 18h), "Hangzhou Yuhang");
        carrier_says(replacement, tracking_event::sent_out_for_delivery, at(6, 9h), "Xihu station");
        carrier_says(replacement, tracking_event::delivered, at(6, 11h), "Xihu, front desk");

        // Mei has the L: she closes the exchange and confirms receipt.
        clock.set(at(6, 19h));
        const auto closed = must(
            engine->close_ticket(as(mei), jacket_ticket, "the L fits, thank you"), "close_ticket");
        log.say("ticket {} closed by mei -> {}", jacket_ticket, *closed.ticket_status);
        clock.advance(2min);
        const auto confirmed = must(engine->confirm_receipt(as(mei), id), "confirm_receipt");
        log.say("order {} receipt confirmed -> {} (every ticket ended)", placed.number,
                confirmed.state);
        scheduler();
        clock.advance(10min);
        must(engine->rate_order(
                 as(mei),
                 {.order = id, .score = 5, .text = "Easy exchange, fair refunds to the cent."}),
             "rate_order");
        log.say("order {} rated", placed.number);
        scheduler();
        fmt::print("\n");

        // --- what happened ---
        const order final_order = must(engine->get_order(admin, id), "get_order");
        const auto tickets = must(engine->tickets_of(admin, id), "tickets_of");
        for (const ticket& t : tickets) {
            print_ticket(final_order, t);
        }

        std::vector<money> captured;
        std::vector<money> refunded;
        for (const payment& p : final_order.payments) {
            captured.push_back(p.captured);
            refunded.push_back(p.refunded);
        }
        std::vector<money> ticket_refunds;
        for (const ticket& t : tickets) {
            if (t.refund) {
                ticket_refunds.push_back(t.refund->total);
            }
        }
        const money total_captured = sum(captured);
        const money total_refunded = sum(refunded);
        const money tickets_total = sum(ticket_refunds);
        fmt::print("Money\n");
        fmt::print("  captured {}, refunded {} ({}), kept {}\n", total_captured, total_refunded,
                   fmt::join(ticket_refunds, " + "),
                   must(total_captured.minus(total_refunded), "kept"));
        fmt::print("  payment: {}\n\n", final_order.payments.empty()
                                            ? "none"
                                            : to_string(final_order.payments.back().state));

        fmt::print("Stock at {} (on hand / damaged bin)\n", hangzhou);
        fmt::print("  {:<10} {:>10} {:>10} {:>10} {:>10}\n", "sku", "received", "shipped",
                   "at the end", "damaged");
        const auto stock_after = stock_snapshot(st);
        for (const auto& p : catalogue) {
            fmt::print("  {:<10} {:>10} {:>10} {:>10} {:>10}\n", p.id,
                       stock_before.at(p.id).on_hand, stock_shipped.at(p.id).on_hand,
                       stock_after.at(p.id).on_hand,
                       fmt::format("{} -> {}", stock_before.at(p.id).damaged,
                                   stock_after.at(p.id).damaged));
        }
        fmt::print(
            "  (the returned mug and jacket M went back on hand; the crushed tea box stayed with "
            "Mei)\n\n");

        fmt::print("Notifications the host's notifier received\n");
        std::size_t notes = 0;
        for (const notification_kind k : all_notification_kinds) {
            const std::size_t customer = notifier.count(k, audience::customer);
            const std::size_t merchant = notifier.count(k, audience::merchant);
            const std::size_t staff = notifier.count(k, audience::staff);
            if (customer + merchant + staff == 0) {
                continue;
            }
            notes += customer + merchant + staff;
            fmt::print("  {:<20} {:>3}   customer {}, merchant {}, staff {}\n", k,
                       customer + merchant + staff, customer, merchant, staff);
        }
        fmt::print("  {:<20} {:>3}\n\n", "in all", notes);

        fmt::print("Order {}: {}", final_order.number, final_order.state);
        if (final_order.rating) {
            fmt::print(", rated {}/5 \"{}\"", final_order.rating->score, final_order.rating->text);
        }
        fmt::print("\n");
        for (const auto& e : must(engine->timeline(admin, id), "timeline")) {
            fmt::print("  {:%m-%d %H:%M}  {:<28} {:<17} {:>16} -> {:<16} {}\n", e.at, e.actor,
                       e.event, e.from ? to_string(*e.from) : "", e.to, e.reason);
        }
        fmt::print("\n");

        // The smoke test: what the host's books need to hold.
        auto check = [&status](bool ok, std::string_view what) {
            if (!ok) {
                fmt::print(stderr, "check failed: {}\n", what);
                status = EXIT_FAILURE;
            }
        };
        check(total_refunded == tickets_total,
              "the payments' refunds equal the tickets' refund totals");
        check(total_captured == final_order.total, "the order total was captured");
        check(ticket_refunds.size() == 2, "two tickets refunded");
        check(final_order.state == order_state::closed, "the order closed");
        check(final_order.rating.has_value(), "the order was rated");
        for (const ticket& t : tickets) {
            check(t.state == ticket_state::closed, "every ticket closed");
        }
        if (status == EXIT_SUCCESS) {
            fmt::print("refunded {} = the tickets' refunds; after_sales done\n", total_refunded);
        }
    }
    return status;
}
