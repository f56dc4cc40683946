#include "simulation.hpp"

#include "actions.hpp"
#include "invariants.hpp"
#include "world.hpp"

#include <orderly/storage/sqlite_store.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t history_size = 512;

timestamp start_time() {
    return std::chrono::time_point_cast<duration>(
        std::chrono::sys_days{std::chrono::year{2027} / 3 / 1} + 8h);
}

std::string describe(const command_outcome& o) {
    return fmt::format(
        "order {} {} payment {} shipment {} {} transfer {} ticket {} {} case {}", o.order, o.state,
        o.payment ? to_string(*o.payment) : "-", o.shipment ? o.shipment->value() : 0,
        o.shipment_status ? to_string(*o.shipment_status) : "-",
        o.transfer ? o.transfer->value() : 0, o.ticket ? o.ticket->value() : 0,
        o.ticket_status ? to_string(*o.ticket_status) : "-", o.case_ref ? o.case_ref->value() : 0);
}

bool transient(errc code) {
    return code == errc::busy || code == errc::conflict || code == errc::storage_failure;
}

}  // namespace

call_result summary(const result<command_outcome>& r) {
    call_result out;
    out.ok = r.has_value();
    if (!r) {
        out.err = r.error();
        return out;
    }
    out.repeated = r->repeated;
    out.digest = describe(*r);
    return out;
}

call_result summary(const result<void>& r) {
    call_result out;
    out.ok = r.has_value();
    if (!r) {
        out.err = r.error();
    }
    return out;
}

call_result summary(const result<pack_scan_result>& r) {
    call_result out;
    out.ok = r.has_value();
    if (!r) {
        out.err = r.error();
        return out;
    }
    out.repeated = r->repeated;
    if (r->mismatch) {
        out.digest = fmt::format("mismatch {} {}: expected {}, counted {}, units {}",
                                 static_cast<int>(r->mismatch->kind), r->mismatch->sku,
                                 r->mismatch->expected, r->mismatch->counted, r->mismatch->units);
    }
    return out;
}

simulation::simulation(const sim_options& options)
    : options_(options),
      random_(options.seed),
      clock_(start_time()),
      high_water_(start_time()),
      store_(options.seed ^ 0xFA17'5703'E000'0001ULL, log_),
      notifier_(options.seed ^ 0x0071'F1E5'0000'0002ULL),
      settings_(sim_settings(random_)),
      carriers_(std::make_unique<carrier_table>(carrier_table::create(sim_carriers()).value())),
      started_at_(start_time()),
      settled_until_(start_time()) {
    faults_on_ = options_.faults;
    if (options_.faults) {
        store_.set_rates(
            fault_rates{.fail_before_commit = 20, .lost_ack = 6, .mark_delivered = 10});
        notifier_.set_failure_rate(60);
    }
    open_store();
    start_engine();
}

simulation::~simulation() {
    engine_.reset();
    close_store();
    remove_database();
}

void simulation::remove_database() const {
    if (db_path_.empty()) {
        return;
    }
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(db_path_.string() + suffix, ignored);
    }
}

void simulation::open_store() {
    if (options_.store == store_kind::memory) {
        inner_ = std::make_unique<memory_store>();
        store_.attach(*inner_, false);
        return;
    }
    if (db_path_.empty()) {
        db_path_ = std::filesystem::temp_directory_path() /
                   fmt::format("orderly-sim-{}-{}.db", ::getpid(), options_.seed);
        remove_database();  // left by an earlier process with this pid
    }
    // NORMAL durability: a run checks what survives closing and reopening
    // the file, not power loss, and a sync per commit would dominate it.
    auto opened = sqlite_store::open({.path = db_path_, .durability = sqlite_durability::normal});
    if (!opened) {
        fmt::print(stderr, "cannot open {}: {}\n", db_path_.string(), to_string(opened.error()));
        std::exit(2);
    }
    inner_ = std::move(*opened);
    store_.attach(*inner_, true);
}

void simulation::close_store() {
    inner_.reset();
}

void simulation::start_engine() {
    auto created = engine::create(engine_ports{store_, notifier_, clock_, policy_}, settings_,
                                  sim_setup(*carriers_));
    if (!created) {
        fmt::print(stderr, "cannot create the engine: {}\n", to_string(created.error()));
        std::exit(2);
    }
    engine_ = std::move(*created);
}

// A process restart: the engine goes, the file is closed and opened again,
// and a new engine (same settings and node) works on what the file kept.
void simulation::reopen() {
    engine_.reset();
    close_store();
    clock_.advance(duration(random_.between(1, 1000)));
    high_water_ = std::max(high_water_, clock_.now());
    open_store();
    start_engine();
}

std::string simulation::fresh_name(std::string_view prefix) {
    return fmt::format("{}-{}", prefix, ++names_);
}

void simulation::at(timestamp when, appointment what) {
    if (!silent_) {
        agenda_.emplace(when, std::move(what));
    }
}

void simulation::violation(std::string_view invariant, std::string what) {
    ++violations_;
    const bool first = invariants_broken_.insert(std::string(invariant)).second;
    if (first || !options_.keep_going) {
        fmt::print(stderr, "seed {} step {}: {}: {}\n", options_.seed, step_, invariant, what);
        if (!options_.keep_going) {
            fmt::print(stderr, "replay: {}\n", replay_command(options_));
        }
    }
    if (!options_.keep_going) {
        stopped_ = true;
    }
}

// --- commands ------------------------------------------------------------------------

void simulation::begin_command() {
    log_.clear();
    store_.reset_flags();
    current_ = step_state{};
}

call_result simulation::run_with_retries(const call& c, const command_context& ctx,
                                         bool& lost_ack) {
    call_result r = c(ctx);
    lost_ack = store_.lost_ack_seen();
    for (int retry = 0; retry < 8 && !r.ok && store_.fault_seen() && transient(r.err.code);
         ++retry) {
        const bool lost_before = store_.lost_ack_seen();
        store_.reset_flags();
        r = c(ctx);
        lost_ack = lost_ack || store_.lost_ack_seen();
        if (lost_before && r.ok && r.repeated && !*r.repeated) {
            violation("lost_ack_replay",
                      fmt::format("{}: retried with the same key after a lost acknowledgement, "
                                  "the command ran again instead of repeating its first answer "
                                  "({})",
                                  current_.name, r.digest.value_or("")));
        }
    }
    return r;
}

call_result simulation::issue(const char* name, const actor& who, const call& c,
                              const call& variant, allowed_writes allowed) {
    return issue_with(name, who, fmt::format("k{}", ++keys_), c, variant, allowed);
}

call_result simulation::issue_keyed(const char* name, const actor& who, const std::string& key,
                                    const call& c, const call& variant) {
    const auto first = keyed_answers_.find(key);
    if (first == keyed_answers_.end()) {
        const call_result r = issue_with(name, who, key, c, variant, allowed_writes::none);
        if (r.ok) {
            keyed_answers_.emplace(key, r.digest);
        }
        return r;
    }
    // The caller repeats itself: the first answer, repeated, nothing written.
    begin_command();
    current_.name = name;
    current_.read_only = true;
    bool lost_ack = false;
    const call_result r = run_with_retries(c, command_context{who, key, nullptr}, lost_ack);
    ++commands_run_[name];
    if (!r.ok || (r.repeated && !*r.repeated) ||
        (r.digest && first->second && *r.digest != *first->second)) {
        violation("repeat_with_same_key",
                  fmt::format("{} repeated with key {} answered {}; the first answer was {}", name,
                              key, r.ok ? r.digest.value_or("ok") : to_string(r.err),
                              first->second.value_or("ok")));
    }
    end_command();
    return r;
}

call_result simulation::issue_with(const char* name, const actor& who, const std::string& key,
                                   const call& c, const call& variant, allowed_writes allowed) {
    begin_command();
    current_.name = name;
    current_.allowed = allowed;
    const command_context ctx{who, key, nullptr};
    bool lost_ack = false;
    call_result r = run_with_retries(c, ctx, lost_ack);
    current_.refused = !r.ok;
    current_.lost_ack = lost_ack;
    if (!r.ok) {
        ++refusals_;
        ++refused_by_[name][fmt::format("{} {}", to_string(r.err.code), r.err.field)];
    }
    current_.refusal = r.err;
    ++commands_run_[name];
    if (options_.verbose) {
        fmt::print("step {} {} by {}: {}\n", step_, name, who.id,
                   r.ok ? r.digest.value_or("ok") : to_string(r.err));
    }
    if (r.ok && r.replayable) {
        history_.push_back(recorded_call{name, who, ctx.idempotency_key, c, variant, r});
        if (history_.size() > history_size) {
            history_.pop_front();
        }
    }
    end_command();
    return r;
}

call_result simulation::run_job(const char* name, const call& c) {
    begin_command();
    current_.name = name;
    bool lost_ack = false;
    const command_context ctx{actors().scheduler, fmt::format("k{}", ++keys_), nullptr};
    call_result r = run_with_retries(c, ctx, lost_ack);
    current_.lost_ack = true;  // a job's failure is not a refusal: no write rule
    ++commands_run_[name];
    if (options_.verbose) {
        fmt::print("step {} {}: {}\n", step_, name, r.ok ? "ok" : to_string(r.err));
    }
    end_command();
    return r;
}

void simulation::expect_refusal(const char* name, const actor& who, const call& c,
                                std::optional<errc> code) {
    const call_result r = issue(name, who, c);
    if (r.ok) {
        violation("malformed_accepted",
                  fmt::format("{} by {} ({}) should have been refused; it answered {}", name,
                              who.id, to_string(who.role), r.digest.value_or("ok")));
    } else if (r.err.field.empty() && !transient(r.err.code)) {
        violation("refusal_names_field", fmt::format("{} by {} was refused without a field: {}",
                                                     name, who.id, to_string(r.err)));
    } else if (code && r.err.code != *code && !transient(r.err.code)) {
        violation("refusal_code", fmt::format("{} by {} was refused with {}, expected {}", name,
                                              who.id, to_string(r.err), to_string(*code)));
    }
}

void simulation::read(const char* name, const call& c, bool may_refuse) {
    begin_command();
    current_.name = name;
    current_.read_only = true;
    const call_result r = c(command_context{actors().admin, "read", nullptr});
    ++commands_run_[name];
    if (!r.ok && !may_refuse) {
        violation("read_refused", fmt::format("{} failed: {}", name, to_string(r.err)));
    }
    end_command();
}

bool simulation::replay_earlier() {
    if (history_.empty()) {
        return false;
    }
    const recorded_call& rec = history_[random_.below(history_.size())];
    begin_command();
    current_.name = fmt::format("{} replayed with key {}", rec.name, rec.key);
    bool lost_ack = false;
    const call_result r =
        run_with_retries(rec.c, command_context{rec.who, rec.key, nullptr}, lost_ack);
    ++commands_run_["replay"];
    if (!r.ok) {
        violation("replay_refused", fmt::format("{} replayed with key {} was refused: {}", rec.name,
                                                rec.key, to_string(r.err)));
    } else if (r.repeated && !*r.repeated) {
        violation("replay_not_repeated", fmt::format("{} replayed with key {} ran again: {}",
                                                     rec.name, rec.key, r.digest.value_or("")));
    } else if (r.digest && rec.first.digest && *r.digest != *rec.first.digest) {
        violation("replay_answer", fmt::format("{} replayed with key {} answered '{}', first '{}'",
                                               rec.name, rec.key, *r.digest, *rec.first.digest));
    }
    current_.read_only = true;  // a replay writes nothing
    end_command();
    return true;
}

bool simulation::reuse_earlier_key() {
    std::vector<const recorded_call*> with_variant;
    for (const auto& rec : history_) {
        if (rec.variant) {
            with_variant.push_back(&rec);
        }
    }
    if (with_variant.empty()) {
        return false;
    }
    const recorded_call& rec = *with_variant[random_.below(with_variant.size())];
    begin_command();
    current_.name = fmt::format("{} with key {} and another request", rec.name, rec.key);
    const call_result r = rec.variant(command_context{rec.who, rec.key, nullptr});
    ++commands_run_["reuse_key"];
    if (r.ok || r.err.code != errc::idempotency_key_reused || r.err.field != "idempotency_key") {
        violation("key_reuse_not_refused",
                  fmt::format("{} with key {} and another request answered {}", rec.name, rec.key,
                              r.ok ? r.digest.value_or("ok") : to_string(r.err)));
    }
    current_.read_only = true;
    end_command();
    return true;
}

void simulation::end_command() {
    if (current_.read_only && !log_.empty()) {
        violation("read_wrote",
                  fmt::format("{} wrote {} transaction(s): {}; it must write nothing",
                              current_.name, log_.commits.size(), describe(log_.commits.front())));
    }
    if (current_.refused && !current_.lost_ack) {
        invariants::refusal_wrote_nothing(*this, log_, current_.name.c_str(), current_.refusal,
                                          current_.allowed);
    }
    std::vector<seen_change> changes;
    std::set<stock_key> rows;
    for (const auto& w : log_.commits) {
        if (options_.verbose) {
            print_commit(w);
        }
        invariants::before_commit(*this, w);
        known_.apply(w, changes);
        invariants::after_commit(*this, w);
        for (const auto& c : w.stock) {
            rows.insert({c.sku, c.warehouse});
        }
    }
    invariants::stock_rows(*this, rows);
    if (auto conflict = notifier_.take_conflict()) {
        violation("notification_id", *conflict);
    }
    react(changes);
}

// With --verbose: what a commit did to orders, parcels, tickets and cases.
void simulation::print_commit(const write_set& w) const {
    for (const auto& [id, e] : w.timeline) {
        fmt::print("    order {}: {} {} -> {}\n", id, e.event, e.from ? to_string(*e.from) : "none",
                   e.to);
    }
    for (const auto& sh : w.shipments) {
        fmt::print("    shipment {}: {}\n", sh.id, sh.state);
    }
    for (const auto& t : w.tickets) {
        fmt::print("    ticket {}: {}\n", t.id, t.state);
    }
    for (const auto& [c, size] : w.cases) {
        fmt::print("    case {} ({}): {}\n", c.id, c.type, c.state);
    }
    for (const auto& n : w.notes) {
        fmt::print("    note {} for order {} to {}\n", n.kind, n.order, n.recipient);
    }
}

// --- reactions of the outside world ------------------------------------------------------

void simulation::react(const std::vector<seen_change>& changes) {
    for (const auto& c : changes) {
        if (c.what == seen_change::kind::order) {
            const auto to = static_cast<order_state>(c.to);
            const order_id id(c.id);
            if (to == order_state::awaiting_payment) {
                plan_payment(*this, id);
            } else if (to == order_state::delivered) {
                plan_after_delivery(*this, id);
            } else if (to == order_state::shipped) {
                const order_info* o = known_.orders.find(id);
                if (o != nullptr && o->shipments.empty()) {
                    plan_whole_order_delivery(*this, id);
                }
            }
        } else if (c.what == seen_change::kind::shipment) {
            if (static_cast<shipment_state>(c.to) == shipment_state::shipped &&
                c.from == static_cast<int>(shipment_state::packed)) {
                plan_carrier(*this, shipment_id(c.id));
            }
        } else {
            const auto to = static_cast<ticket_state>(c.to);
            if (to == ticket_state::awaiting_return) {
                plan_return(*this, ticket_id(c.id));
            } else if (to == ticket_state::repaired_shipped) {
                plan_repair_shipment(*this, ticket_id(c.id));
            }
        }
    }
}

// --- the run ---------------------------------------------------------------------------

void simulation::advance_clock() {
    const std::size_t r = random_.below(10'000);
    if (r < 30 && step_ > 0) {
        // Clocks step back (NTP): a few seconds, never below the high-water mark less 5 s.
        const timestamp back = clock_.now() - std::chrono::seconds(random_.between(1, 3));
        clock_.set(std::max(back, high_water_ - 5s));
        return;
    }
    duration d{};
    if (r < 7'500) {
        d = std::chrono::milliseconds(random_.between(0, 20'000));
    } else if (r < 9'700) {
        d = std::chrono::seconds(random_.between(20, 120));
    } else if (r < 9'970) {
        d = std::chrono::seconds(random_.between(120, 1200));
    } else if (r < 9'997) {
        d = std::chrono::minutes(random_.between(60, 240));
    } else {
        d = std::chrono::hours(random_.between(24, 48));
    }
    clock_.advance(d);
    high_water_ = std::max(high_water_, clock_.now());
}

bool simulation::run_appointment() {
    if (agenda_.empty() || agenda_.begin()->first > clock_.now()) {
        return false;
    }
    auto item = agenda_.extract(agenda_.begin());
    return item.mapped()();
}

void simulation::one_step(std::size_t step) {
    step_ = step;
    if (options_.store == store_kind::sqlite && options_.reopen_every > 0 && step > 0 &&
        step % options_.reopen_every == 0) {
        reopen();
    }
    advance_clock();
    bool done = random_.chance(700) && run_appointment();
    for (int tries = 0; !done && tries < 6 && !stopped_; ++tries) {
        done = run_action();
    }
    if (!done && !stopped_) {
        sim::run_due_work(*this);
    }
}

int simulation::run() {
    fmt::print("orderly simulator: seed {}, {} commands, {} store, faults {}{}\n", options_.seed,
               options_.commands, options_.store == store_kind::memory ? "memory" : "SQLite",
               options_.faults ? "on" : "off",
               settings_.outbox.muted.empty()
                   ? std::string()
                   : fmt::format(", muted {}", settings_.outbox.muted.front()));
    const auto started = std::chrono::steady_clock::now();
    seed_world();
    const std::size_t settle_every = std::max<std::size_t>(5'000, options_.commands / 20);
    for (std::size_t step = 0; step < options_.commands && !stopped_; ++step) {
        one_step(step);
        if (!stopped_ && (step + 1) % settle_every == 0) {
            settle_and_reconcile();
        }
    }
    const auto ran = std::chrono::steady_clock::now() - started;
    if (options_.verbose) {
        print_summary(std::chrono::duration_cast<std::chrono::milliseconds>(ran));
    }
    if (!stopped_) {
        settle_and_reconcile();
        liveness();
    }
    if (!stopped_ && !(options_.keep_going && violations_ > 0)) {
        settle_and_reconcile();
    }
    print_summary(std::chrono::duration_cast<std::chrono::milliseconds>(ran));
    if (violations_ > 0) {
        fmt::print(stderr, "FAILED: {} violation(s) of {} invariant(s); replay: {}\n", violations_,
                   invariants_broken_.size(), replay_command(options_));
        return 1;
    }
    fmt::print("passed: seed {}\n", options_.seed);
    return 0;
}

}  // namespace orderly::sim

namespace orderly::sim {

namespace {

struct weighted_action {
    int weight;
    bool (*act)(simulation&);
};

bool replay(simulation& s) {
    return s.replay_earlier();
}
bool reuse_key(simulation& s) {
    return s.reuse_earlier_key();
}

// The command mix, per mille of the draws (docs/RELIABILITY.md lists it).
const std::vector<weighted_action>& command_mix() {
    static const std::vector<weighted_action> mix = {
        {45, place_order},
        {3, import_orders},
        {4, stray_payment},
        {8, customer_cancels},
        {6, customer_confirms},
        {8, customer_opens_ticket},
        {3, customer_withdraws},
        {5, customer_rates},
        {25, review_order},
        {8, hold_or_release},
        {50, plan_fulfilment},
        {4, merge_shipments},
        {25, plan_waves},
        {90, scan_packing},
        {20, finish_packing},
        {40, ship_shipment},
        {12, whole_order_step},
        {4, report_exception},
        {10, resolve_exception},
        {45, work_ticket},
        {60, work_case},
        {3, open_case},
        {20, stock_work},
        {10, transfer_work},
        {5, refund_payment},
        {5, staff_cancels},
        {3, close_completed},
        {50, run_due_work},
        {15, dispatch_notifications},
        {4, archive_orders},
        {30, read_something},
        {25, replay},
        {8, reuse_key},
        {20, malformed_command},
        {15, wrong_actor},
    };
    return mix;
}

}  // namespace

bool simulation::run_action() {
    static const int total = [] {
        int sum = 0;
        for (const auto& a : command_mix()) {
            sum += a.weight;
        }
        return sum;
    }();
    int draw = static_cast<int>(random_.below(static_cast<std::size_t>(total)));
    for (const auto& a : command_mix()) {
        if (draw < a.weight) {
            return a.act(*this);
        }
        draw -= a.weight;
    }
    return false;
}

void simulation::seed_world() {
    const cast& who = actors();
    for (const auto& item : catalogue()) {
        const sku entry = sku_entry(item);
        issue("put_sku", who.admin, [this, entry](const command_context& ctx) {
            return summary(engine_->put_sku(ctx, entry));
        });
        for (const auto& where : all_warehouses()) {
            // Matcha stands only in the store room: its orders wait for a transfer.
            const bool stocked = item.sku != std::string_view("matcha") || where == store_room();
            if (!stocked) {
                continue;
            }
            const stock_receipt r{entry.id, where, units(random_.between(20, 120))};
            issue("receive_stock", who.keeper, [this, r](const command_context& ctx) {
                return summary(engine_->receive_stock(ctx, r));
            });
        }
    }
}

}  // namespace orderly::sim
