// Crash safety of SqliteStore: a child process streams random commands into
// one database file and is killed with SIGKILL at random moments; after each
// kill the reopened file must hold every acknowledged command, no partial
// command, conserved stock and exactly the outbox entries of committed changes.
// ORDERLY_CRASH_SEED=<n> replays other kill times and workloads.

#include "storage_checks.hpp"

#include <cstdlib>
#include <random>

using namespace orderly;
using namespace orderly::storage_test;

namespace {

// What the parent knows of an order: acknowledged by the child, or, after a
// round's check, read back from the store.
struct known_order {
    order_state state{order_state::pending_review};
    std::uint64_t version{0};
    std::vector<std::pair<std::string, std::int64_t>> lines;  // from a "placed" line
};

using known_orders = std::map<order_id, known_order>;

order_state state_named(std::string_view name) {
    for (const order_state s : all_order_states) {
        if (to_string(s) == name) {
            return s;
        }
    }
    throw std::runtime_error(fmt::format("unknown state '{}'", name));
}

struct round_result {
    std::size_t acks{0};     // acknowledged commands
    std::size_t batches{0};  // acknowledged group commits
    bool mid_run{false};     // killed after "ready" and at least 3 acknowledgements
};

// Applies the child's acknowledgements to `known` and counts them.
round_result apply_acks(const std::vector<std::string>& lines, known_orders& known) {
    round_result counted;
    for (const std::string& line : lines) {
        const auto w = words(line);
        if (w.empty() || w[0] == "ready") {
            continue;
        }
        if (w[0] == "batch") {
            ++counted.batches;
            continue;
        }
        REQUIRE_MESSAGE((w[0] == "placed" || w[0] == "state"), "child: " << line);
        REQUIRE(w.size() >= 4);
        known_order& k = known[order_id(std::stoull(w[1]))];
        k.state = state_named(w[2]);
        k.version = std::stoull(w[3]);
        if (w[0] == "placed") {
            CHECK(k.version == 1);
            for (std::size_t i = 4; i < w.size(); ++i) {
                const auto colon = w[i].find(':');
                k.lines.emplace_back(w[i].substr(0, colon), std::stoll(w[i].substr(colon + 1)));
            }
        }
        ++counted.acks;
    }
    return counted;
}

// Every acknowledged command is in the store; what the store has beyond the
// acknowledgements is at most the one command (or batch of placements) in
// flight at the kill.
void check_acknowledged(const store_dump& d, const known_orders& known) {
    std::map<order_id, const order*> stored;
    for (const order& o : d.orders) {
        stored[o.id] = &o;
    }
    std::size_t advanced = 0;
    std::size_t unacknowledged_new = 0;
    for (const auto& [id, k] : known) {
        const auto it = stored.find(id);
        REQUIRE_MESSAGE(it != stored.end(), "acknowledged order " << id << " is missing");
        const order& o = *it->second;
        CHECK_MESSAGE(o.version >= k.version, "order " << id << ": acknowledged version "
                                                       << k.version << ", stored " << o.version);
        CHECK_MESSAGE(o.version <= k.version + 1, "order " << id << " is two commands ahead");
        if (o.version == k.version) {
            CHECK_MESSAGE(o.state == k.state, "order " << id << ": acknowledged "
                                                       << to_string(k.state) << ", stored "
                                                       << to_string(o.state));
        }
        advanced += o.version > k.version ? 1U : 0U;
        if (!k.lines.empty()) {
            REQUIRE(o.lines.size() == k.lines.size());
            for (std::size_t i = 0; i < k.lines.size(); ++i) {
                CHECK(o.lines[i].sku.value() == k.lines[i].first);
                CHECK(o.lines[i].units.units() == k.lines[i].second);
            }
        }
    }
    for (const order& o : d.orders) {
        unacknowledged_new += known.count(o.id) == 0 ? 1U : 0U;
    }
    const bool one_command = advanced + unacknowledged_new <= 1;
    const bool one_batch =
        advanced == 0 && unacknowledged_new <= static_cast<std::size_t>(max_batch_orders);
    CHECK_MESSAGE((one_command || one_batch),
                  advanced << " orders ahead of their acknowledgement and " << unacknowledged_new
                           << " unacknowledged new orders");
}

// Reads the child's output until `deadline`, or until a "ready" line when
// `until_ready` (then no later than `deadline` either).
void read_child(child_process& child, std::chrono::steady_clock::time_point deadline,
                bool until_ready, std::vector<std::string>& lines) {
    while (std::chrono::steady_clock::now() < deadline) {
        if (!child.read_lines(std::chrono::milliseconds(5), lines)) {
            return;
        }
        if (until_ready && std::find(lines.begin(), lines.end(), "ready") != lines.end()) {
            return;
        }
    }
}

round_result run_round(const std::filesystem::path& db, std::uint32_t seed, std::mt19937& rng,
                       bool early_kill, known_orders& known) {
    std::vector<std::string> lines;
    child_process child({ORDERLY_SQLITE_CHILD, "crash-stream", db.string(), std::to_string(seed)});
    const auto spawned = std::chrono::steady_clock::now();
    if (early_kill) {  // during start-up: opening, schema, catalogue set-up
        read_child(child, spawned + std::chrono::milliseconds(rng() % 80), false, lines);
    } else {
        read_child(child, spawned + std::chrono::seconds(30), true, lines);
        REQUIRE_MESSAGE(std::find(lines.begin(), lines.end(), "ready") != lines.end(),
                        "the child never became ready");
        const auto delay = std::chrono::milliseconds(20 + rng() % 280);
        read_child(child, std::chrono::steady_clock::now() + delay, false, lines);
    }
    child.kill();
    const int status = child.wait();
    while (child.read_lines(std::chrono::milliseconds(1000), lines)) {
    }
    for (const std::string& line : lines) {
        CHECK_MESSAGE(!line.starts_with("error"), "child: " << line);
    }
    REQUIRE_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                    "the child ended on its own: " << describe_status(status));
    CHECK_MESSAGE(child.unfinished_line().empty(), "half a line: " << child.unfinished_line());
    round_result counted = apply_acks(lines, known);
    counted.mid_run =
        counted.acks >= 3 && std::find(lines.begin(), lines.end(), "ready") != lines.end();
    return counted;
}

// Reopens the file and checks it; then takes what it holds as known.
void check_file(const std::filesystem::path& db, known_orders& known) {
    {
        raw_db raw(db);
        CHECK(raw.scalar("PRAGMA integrity_check") == "ok");
    }
    auto opened = sqlite_store::open(sqlite_options{.path = db});
    REQUIRE_MESSAGE(opened.has_value(), to_string(opened.error()));
    auto dump = read_dump(**opened, workload_skus);
    REQUIRE_MESSAGE(dump.has_value(), to_string(dump.error()));
    const auto problems = check_dump(*dump, received_of(workload_stock), workload_settings(0));
    CHECK_MESSAGE(problems.empty(), joined(problems));
    check_acknowledged(*dump, known);
    known.clear();
    for (const order& o : dump->orders) {
        known[o.id] = known_order{o.state, o.version, {}};
    }
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no acknowledged command and leaves no partial one") {
    const char* seed_text = std::getenv("ORDERLY_CRASH_SEED");
    const std::uint32_t seed =
        seed_text != nullptr ? static_cast<std::uint32_t>(std::stoul(seed_text)) : 20261122U;
    CAPTURE(seed);
    std::mt19937 rng(seed);
    temp_dir dir("crash");
    const auto db = dir / "orders.db";
    known_orders known;
    constexpr int rounds = 24;
    std::size_t total_acks = 0;
    std::size_t total_batches = 0;
    int mid_run_kills = 0;
    std::string per_round;
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        // Every fourth kill lands during start-up, the others while commands run.
        const auto result =
            run_round(db, seed + static_cast<std::uint32_t>(round), rng, round % 4 == 0, known);
        total_acks += result.acks;
        total_batches += result.batches;
        mid_run_kills += result.mid_run ? 1 : 0;
        per_round += fmt::format(" {}", result.acks);
        check_file(db, known);
    }
    MESSAGE(rounds << " kills, acknowledged commands per round:" << per_round << " (total "
                   << total_acks << "; " << total_batches << " group commits; " << known.size()
                   << " orders in the file)");
    // The test did its work: kills in mid-stream, commands to lose.
    CHECK(mid_run_kills >= rounds / 3);
    CHECK(total_acks >= 50);
    // The file keeps working after all that.
    auto reopened = engine_on_file::open(sqlite_options{.path = db}, 1023, workload_stock);
    REQUIRE(reopened.has_value());
    const std::array<std::pair<std::string_view, std::int64_t>, 1> line{{{"tea", 1}}};
    CHECK((*reopened)
              ->engine->place_order(command_context{test::admin, "after-crashes"}, order_for(line))
              .has_value());
}
