// Several processes on one SqliteStore file: opening it at the same moment
// (new or existing), and placing orders for one hot SKU, where the store's
// conditional stock update at commit must hold across processes, so no unit
// is sold twice and every refusal is insufficient_stock.

#include "storage_checks.hpp"

#include <array>
#include <numeric>

using namespace orderly;
using namespace orderly::storage_test;

namespace {

// What one child said, and how it ended.
struct child_run {
    std::vector<std::string> lines;
    int status{0};
};

// Starts one child per argument list, waits until each has printed "ready",
// lets them all go at once and collects their output until they end.
std::vector<child_run> run_together(const std::vector<std::vector<std::string>>& commands) {
    std::vector<std::unique_ptr<child_process>> children;
    std::vector<child_run> runs(commands.size());
    for (const auto& args : commands) {
        children.push_back(std::make_unique<child_process>(args));
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        auto& lines = runs[i].lines;
        while (std::find(lines.begin(), lines.end(), "ready") == lines.end() &&
               std::chrono::steady_clock::now() < deadline &&
               children[i]->read_lines(std::chrono::milliseconds(50), lines)) {
        }
        REQUIRE_MESSAGE(std::find(lines.begin(), lines.end(), "ready") != lines.end(),
                        "child " << i << " did not start: " << joined(lines));
    }
    for (auto& child : children) {
        child->send("go\n");
    }
    for (bool open = true; open;) {
        open = false;
        for (std::size_t i = 0; i < children.size(); ++i) {
            open = children[i]->read_lines(std::chrono::milliseconds(20), runs[i].lines) || open;
        }
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
        runs[i].status = children[i]->wait();
    }
    return runs;
}

// What one hot-SKU child reported.
struct hot_report {
    std::map<order_id, std::int64_t> accepted;  // order, units
    std::size_t refused{0};
    std::vector<std::string> errors;
    bool done{false};
};

hot_report parse_report(const std::vector<std::string>& lines) {
    hot_report report;
    for (const std::string& line : lines) {
        const auto w = words(line);
        if (w.size() == 3 && w[0] == "accepted") {
            report.accepted[order_id(std::stoull(w[1]))] = std::stoll(w[2]);
        } else if (w.size() == 2 && w[0] == "refused") {
            ++report.refused;
        } else if (line == "done") {
            report.done = true;
        } else if (line != "ready") {
            report.errors.push_back(line);
        }
    }
    return report;
}

}  // namespace

TEST_CASE("processes opening one file at the same moment all succeed, new file or existing") {
    temp_dir dir("multiprocess-open");
    // Processes racing to create a file collide in most rounds, so 16 rounds
    // all but never miss a store that mishandles it.
    constexpr int rounds = 16;
    constexpr std::size_t processes = 4;
    for (int round = 0; round < rounds; ++round) {
        const auto db = dir / fmt::format("orders-{}.db", round);
        for (const bool exists : {false, true}) {  // first the new file, then the file just made
            CAPTURE(round);
            CAPTURE(exists);
            const std::vector<std::vector<std::string>> commands(
                processes, {ORDERLY_SQLITE_CHILD, "open", db.string()});
            for (const child_run& run : run_together(commands)) {
                CHECK_MESSAGE(run.status == 0, describe_status(run.status)
                                                   << ": " << joined(run.lines));
                CHECK(std::find(run.lines.begin(), run.lines.end(), "opened") != run.lines.end());
            }
        }
        raw_db raw(db);
        CHECK(raw.scalar("PRAGMA user_version") == std::to_string(sqlite_store::schema_version));
    }
}

TEST_CASE("two processes placing orders for one hot SKU never oversell") {
    temp_dir dir("multiprocess-hot");
    const auto db = dir / "orders.db";
    // The file exists before the children start: opening a new file from
    // several processes at once is the test above.
    REQUIRE(sqlite_store::open(sqlite_options{.path = db}).has_value());
    constexpr int orders_per_child = 400;  // 2 × 400 × 2 units on average: more than the stock
    const std::int64_t stock = hot_stock[0].received;
    // Seeds 1 and 2 are also the engines' node numbers: different, as they
    // must be. Both children set up the catalogue with the same keys.
    std::vector<std::vector<std::string>> commands;
    for (int seed = 1; seed <= 2; ++seed) {
        commands.push_back({ORDERLY_SQLITE_CHILD, "hot-sku", db.string(),
                            std::to_string(orders_per_child), std::to_string(seed)});
    }
    const auto runs = run_together(commands);

    std::int64_t accepted_units = 0;
    std::size_t refusals = 0;
    std::map<order_id, std::int64_t> accepted;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        CHECK_MESSAGE(runs[i].status == 0,
                      "child " << i << ": " << describe_status(runs[i].status));
        const hot_report report = parse_report(runs[i].lines);
        CHECK(report.done);
        CHECK_MESSAGE(report.errors.empty(), "child " << i << ": " << joined(report.errors));
        // 400 orders of 1..3 units (800 on average) cannot take all 1000 alone.
        CHECK(!report.accepted.empty());
        refusals += report.refused;
        for (const auto& [id, n] : report.accepted) {
            accepted_units += n;
            CHECK_MESSAGE(accepted.emplace(id, n).second, "order " << id << " accepted twice");
        }
    }
    CHECK(refusals > 0);
    MESSAGE(accepted.size() << " orders accepted (" << accepted_units << " units), " << refusals
                            << " refused");

    auto opened = sqlite_store::open(sqlite_options{.path = db});
    REQUIRE(opened.has_value());
    sqlite_store& s = **opened;
    const auto level = s.stock(sku_id("hot"), warehouse_id("wh-hz")).value();
    REQUIRE(level.has_value());
    CHECK(level->on_hand.units() == stock);  // received once, though both children set up
    CHECK(level->reserved.units() == accepted_units);
    CHECK(level->reserved.units() + level->available() == stock);
    CHECK(level->available() >= 0);
    CHECK(level->available() < 3);  // refused only once fewer than 3 were left
    // Every accepted order holds exactly the units it was accepted with, and
    // no order exists that was not accepted.
    auto dump = read_dump(s, hot_skus);
    REQUIRE(dump.has_value());
    CHECK(dump->orders.size() == accepted.size());
    for (const order& o : dump->orders) {
        CHECK(o.state == order_state::awaiting_payment);
        const std::int64_t held = std::accumulate(
            o.reservations.begin(), o.reservations.end(), std::int64_t{0},
            [](std::int64_t sum, const reservation& r) { return sum + r.units.units(); });
        const auto it = accepted.find(o.id);
        CHECK_MESSAGE((it != accepted.end() && it->second == held),
                      "order " << o.id << " holds " << held << " units");
    }
    const auto problems = check_dump(*dump, received_of(hot_stock), workload_settings(0));
    CHECK_MESSAGE(problems.empty(), joined(problems));
}
