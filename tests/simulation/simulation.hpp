#pragma once
// One simulator run: the world, the engine over a fault-injecting store, the
// outside world's agenda, the actors' commands, the invariants after every
// step and the liveness check at the end. Everything is driven by one seed
// on one thread with a manual clock, so a seed replays exactly.

#include "commit_log.hpp"
#include "fault_notifier.hpp"
#include "fault_store.hpp"
#include "model.hpp"
#include "options.hpp"
#include "random.hpp"

#include <orderly/orderly.hpp>
#include <orderly/testing/manual_clock.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace orderly::sim {

// What a command returned, as the simulator compares it.
struct call_result {
    bool ok{false};
    error err{};
    std::optional<bool> repeated;       // when the outcome carries the flag
    std::optional<std::string> digest;  // the outcome, when a replay must return it again
    // False when a replay may rightly do something (an import whose
    // refused rows left no key behind).
    bool replayable{true};
};

// One command, ready to run under a context (its actor and key).
using call = std::function<call_result(const command_context&)>;

call_result summary(const result<command_outcome>& r);
call_result summary(const result<void>& r);
call_result summary(const result<pack_scan_result>& r);
template <class T>
call_result summary(const result<T>& r) {
    call_result out;
    out.ok = r.has_value();
    if (!r) {
        out.err = r.error();
    }
    return out;
}

// Writes a refused command may leave, by design.
enum class allowed_writes : std::uint8_t {
    none,
    packing_record,  // finish_packing records the scan that was missing
    shortage_case,   // plan_fulfilment opens a stock_shortage case
};

// The outside world's appointments: what a gateway, a carrier or a customer
// does at a later time. An item returns false when it found nothing to do.
using appointment = std::function<bool()>;

class simulation {
public:
    explicit simulation(const sim_options& options);
    ~simulation();
    simulation(const simulation&) = delete;
    simulation& operator=(const simulation&) = delete;

    // Runs every command, the settlement checks and the liveness phase;
    // returns the process exit status.
    int run();

    // --- for the actors ---
    prng& random() { return random_; }
    manual_clock& clock() { return clock_; }
    engine& shop() { return *engine_; }
    store& storage() { return store_; }
    model& known() { return known_; }
    const settings& config() const { return settings_; }
    [[nodiscard]] timestamp now() const { return clock_.now(); }
    [[nodiscard]] bool world_silent() const { return silent_; }
    [[nodiscard]] bool faults_on() const { return faults_on_; }
    [[nodiscard]] bool verbose() const { return options_.verbose; }

    // Runs a command as `who` with a fresh key, retrying with the same key
    // after an injected fault, checks what it wrote, and keeps it for later
    // replays. `variant` is the same command with another request (for the
    // key-reuse check); `allowed` names what a refusal may still write.
    call_result issue(const char* name, const actor& who, const call& c, const call& variant = {},
                      allowed_writes allowed = allowed_writes::none);
    // The same with the caller's own key (a gateway's or carrier's event
    // id). A key that succeeded before must get its first answer back,
    // marked repeated, with nothing written.
    call_result issue_keyed(const char* name, const actor& who, const std::string& key,
                            const call& c, const call& variant = {});
    // Runs a command that must be refused, naming a field, writing nothing.
    void expect_refusal(const char* name, const actor& who, const call& c,
                        std::optional<errc> code = std::nullopt);
    // Runs a read: it must succeed (or be refused when `may_refuse`) and write nothing.
    void read(const char* name, const call& c, bool may_refuse = false);
    // Runs a job that keeps no key (due work, delivery, the archive): retried
    // after an injected fault, its writes checked, its failure no refusal.
    call_result run_job(const char* name, const call& c);

    // Puts an appointment on the outside world's agenda.
    void at(timestamp when, appointment what);

    // Records a broken invariant.
    void violation(std::string_view invariant, std::string what);

    // Gateway references and carrier event ids are unique per run.
    std::string fresh_name(std::string_view prefix);

    // Re-sends an earlier command with its key (must repeat its first
    // answer) or with another request under its key (must be refused).
    bool replay_earlier();
    bool reuse_earlier_key();

private:
    struct recorded_call {
        const char* name;
        actor who;
        std::string key;
        call c;
        call variant;
        call_result first;
    };
    struct step_state {
        std::string name;
        bool refused{false};
        bool lost_ack{false};
        bool read_only{false};
        allowed_writes allowed{allowed_writes::none};
        error refusal{};
    };

    void open_store();
    void close_store();
    void remove_database() const;
    void start_engine();
    void seed_world();
    void reopen();
    void one_step(std::size_t step);
    bool run_appointment();
    bool run_action();
    void advance_clock();
    void begin_command();
    call_result issue_with(const char* name, const actor& who, const std::string& key,
                           const call& c, const call& variant, allowed_writes allowed);
    call_result run_with_retries(const call& c, const command_context& ctx, bool& lost_ack);
    void end_command();
    void print_commit(const write_set& w) const;
    void react(const std::vector<seen_change>& changes);
    void settle_and_reconcile();
    void liveness();
    bool staff_round();
    bool due_work_until_quiet();
    std::vector<std::string> still_open();
    [[nodiscard]] std::size_t open_in_model() const;
    void check_drained();
    void print_summary(std::chrono::milliseconds took) const;

    const sim_options options_;
    prng random_;
    manual_clock clock_;
    timestamp high_water_;
    commit_log log_;
    fault_store store_;
    fault_notifier notifier_;
    default_access_policy policy_;
    settings settings_;
    std::unique_ptr<carrier_table> carriers_;
    std::unique_ptr<store> inner_;
    std::filesystem::path db_path_;
    std::unique_ptr<engine> engine_;
    model known_;
    std::multimap<timestamp, appointment> agenda_;
    std::deque<recorded_call> history_;
    // First answers of the callers' own keys: whether it was ok, and its digest.
    std::unordered_map<std::string, std::optional<std::string>> keyed_answers_;
    std::uint64_t keys_{0};
    std::uint64_t names_{0};
    std::size_t step_{0};
    step_state current_{};
    bool silent_{false};
    bool faults_on_{false};
    bool stopped_{false};
    std::size_t violations_{0};
    std::size_t refusals_{0};
    timestamp started_at_;
    std::set<std::string> invariants_broken_;
    std::map<std::string, std::size_t> commands_run_;
    std::map<std::string, std::map<std::string, std::size_t>> refused_by_;
    std::vector<period_settlement> periods_;
    timestamp settled_until_;
    friend struct invariants;
    friend struct liveness_check;
};

}  // namespace orderly::sim
