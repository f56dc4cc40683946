// The child program of the SQLite store's process tests. Each fact it prints
// on stdout is printed only after the store acknowledged it, in one write(2)
// of a whole line, so whatever the parent reads survived a SIGKILL.
//
//   sqlite_child crash-stream <db> <seed>
//       random commands forever; prints "ready", then per acknowledged command
//       "placed <id> <state> <version> <sku>:<units>..." or
//       "state <id> <state> <version>", a group commit as "batch <n>" and its
//       n "placed" lines in one write; "error <what>" and exit 3 on a
//       failure the workload does not expect.
//   sqlite_child hot-sku <db> <count> <seed>
//       prints "ready", waits for a line on stdin, then places <count> orders
//       of 1..3 units of the hot SKU: "accepted <id> <units>", "refused
//       <units>" (insufficient stock), "error <what>" for anything else, and
//       "done" at the end.
//   sqlite_child open <db>
//       prints "ready", waits for a line on stdin, opens the store and prints
//       "opened" (or "error <what>").

// engine_fixture.hpp's helpers use doctest's REQUIRE: compile doctest's
// implementation here, without its main.
#define DOCTEST_CONFIG_IMPLEMENT
#include "storage_checks.hpp"

#include <cstdlib>
#include <functional>
#include <random>

namespace {

using namespace orderly;
using namespace orderly::storage_test;

void emit(std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = ::write(STDOUT_FILENO, text.data(), text.size());
        if (written <= 0) {
            std::_Exit(4);  // the parent is gone
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
}

[[noreturn]] void fail(std::string_view what, const error& e) {
    emit(fmt::format("error {}: {}\n", what, e));
    std::_Exit(3);
}

// An order this process may drive further.
struct tracked {
    order_id id;
    order_state state;
    std::uint64_t version;
};

// The crash workload: every command on orders it tracks, each acknowledged
// by one line.
class crash_stream {
public:
    crash_stream(engine& e, store& s, std::uint32_t seed) : engine_(e), store_(s), rng_(seed) {
        key_prefix_ = fmt::format("s{}-{}-", seed, ::getpid());
    }

    void load_unfinished() {
        for (const order_state state : all_order_states) {
            if (state == order_state::closed || state == order_state::cancelled) {
                continue;
            }
            auto ids = store_.orders_in_state(state, order_id{}, 100000);
            if (!ids) {
                fail("orders_in_state", ids.error());
            }
            for (const order_id id : *ids) {
                auto o = store_.load_order(id);
                if (!o || !*o) {
                    fail("load_order", o ? error{errc::not_found, "", "vanished"} : o.error());
                }
                orders_.push_back(tracked{id, (*o)->state, (*o)->version});
            }
        }
    }

    void step() {
        const int dice = pick(0, 99);
        if (dice < 28) {
            place_one();
        } else if (dice < 32) {
            place_batch();
        } else if (dice < 52) {
            pay();
        } else if (dice < 84) {
            advance();
        } else if (dice < 90) {
            on_one(
                {order_state::pending_review, order_state::awaiting_payment, order_state::paid,
                 order_state::allocating, order_state::packed, order_state::on_hold},
                [&](order_id id) { return engine_.cancel_order(next(test::admin), id, "kill"); });
        } else if (dice < 95) {
            on_one({order_state::awaiting_payment, order_state::paid, order_state::allocating},
                   [&](order_id id) { return engine_.hold_order(next(test::admin), id, "check"); });
        } else {
            on_one({order_state::on_hold}, [&](order_id id) {
                return engine_.release_order(next(test::admin), id, "checked");
            });
        }
    }

private:
    using command_fn = std::function<result<command_outcome>(order_id)>;

    int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
    command_context next(const actor& who, command_batch* batch = nullptr) {
        return command_context{who, key_prefix_ + std::to_string(++keys_), batch};
    }

    place_order_request random_request() {
        std::vector<std::string_view> skus(workload_skus.begin(), workload_skus.end());
        std::shuffle(skus.begin(), skus.end(), rng_);
        std::vector<std::pair<std::string_view, std::int64_t>> lines;
        const int count = pick(1, 3);
        for (int i = 0; i < count; ++i) {
            lines.emplace_back(skus[static_cast<std::size_t>(i)], pick(1, 3));
        }
        return order_for(lines,
                         pick(0, 9) == 0 ? payment_method::cash_on_delivery : payment_method::card);
    }

    // "placed ..." for an order just placed, which is tracked from now on.
    std::string placed_line(const command_outcome& outcome, const place_order_request& r) {
        std::string line = fmt::format("placed {} {} 1", outcome.order, outcome.state);
        for (const line_request& l : r.lines) {
            line += fmt::format(" {}:{}", l.sku, l.units);
        }
        orders_.push_back(tracked{outcome.order, outcome.state, 1});
        return line + "\n";
    }

    void place_one() {
        const auto request = random_request();
        auto placed = engine_.place_order(next(test::admin), request);
        if (!placed) {
            if (placed.error().code != errc::insufficient_stock) {
                fail("place_order", placed.error());
            }
            return;
        }
        emit(placed_line(*placed, request));
    }

    // A group commit of several orders: acknowledged together, after commit.
    void place_batch() {
        auto batch = engine_.begin_batch();
        if (!batch) {
            fail("begin_batch", batch.error());
        }
        std::vector<std::pair<command_outcome, place_order_request>> placed;
        const int count = pick(2, max_batch_orders);
        for (int i = 0; i < count; ++i) {
            auto request = random_request();
            auto outcome = engine_.place_order(next(test::admin, &*batch), request);
            if (outcome) {
                placed.emplace_back(*outcome, std::move(request));
            } else if (outcome.error().code != errc::insufficient_stock) {
                fail("place_order in a batch", outcome.error());
            }
        }
        if (auto committed = batch->commit(); !committed) {
            fail("batch commit", committed.error());
        }
        std::string lines = fmt::format("batch {}\n", placed.size());
        for (const auto& [outcome, request] : placed) {
            lines += placed_line(outcome, request);
        }
        emit(lines);
    }

    void pay() {
        const bool capture = pick(0, 3) != 0;
        const std::string reference = fmt::format("{}g{}", key_prefix_, keys_ + 1);
        on_one({order_state::awaiting_payment}, [&](order_id id) {
            payment_callback cb{
                id,           reference, payment_method::card, payment_callback::outcome::failed,
                std::nullopt, "declined"};
            if (capture) {  // the whole total, as a gateway "sale"
                auto o = store_.load_order(id);
                if (!o || !*o) {
                    fail("load_order", o ? error{errc::not_found, "", "vanished"} : o.error());
                }
                cb.result = payment_callback::outcome::captured;
                cb.amount = (*o)->total;
                cb.failure_reason.clear();
            }
            return engine_.record_payment(next(test::gateway), cb);
        });
    }

    void advance() {
        on_one({order_state::paid, order_state::allocating, order_state::packed,
                order_state::shipped, order_state::delivered, order_state::completed},
               [&](order_id id) -> result<command_outcome> {
                   switch (find(id)->state) {
                       case order_state::paid:
                           return engine_.allocate_order(next(test::keeper), id);
                       case order_state::allocating:
                           return engine_.pack_order(next(test::keeper), id);
                       case order_state::packed:
                           return engine_.ship_order(
                               next(test::keeper),
                               shipment_request{id, carrier_id("sf"), fmt::format("T{}", id)});
                       case order_state::shipped:
                           return engine_.deliver_order(next(test::keeper), id);
                       case order_state::delivered:
                           return engine_.confirm_receipt(next(test::admin), id);
                       default:
                           return engine_.close_order(next(test::admin), id);
                   }
               });
    }

    tracked* find(order_id id) {
        return &*std::find_if(orders_.begin(), orders_.end(),
                              [&](const tracked& t) { return t.id == id; });
    }

    // Runs `command` on a random tracked order in one of `states`; prints the
    // acknowledged state and forgets orders that reached the end.
    void on_one(std::initializer_list<order_state> states, const command_fn& command) {
        std::vector<order_id> candidates;
        for (const tracked& t : orders_) {
            if (std::find(states.begin(), states.end(), t.state) != states.end()) {
                candidates.push_back(t.id);
            }
        }
        if (candidates.empty()) {
            return;
        }
        const order_id id =
            candidates[static_cast<std::size_t>(pick(0, static_cast<int>(candidates.size()) - 1))];
        auto done = command(id);
        if (!done || done->repeated) {
            fail(fmt::format("command on order {} in {}", id, find(id)->state),
                 done ? error{errc::conflict, "", "unexpectedly repeated"} : done.error());
        }
        tracked& t = *find(id);
        t.state = done->state;
        ++t.version;
        emit(fmt::format("state {} {} {}\n", id, t.state, t.version));
        if (t.state == order_state::closed || t.state == order_state::cancelled) {
            orders_.erase(orders_.begin() + (&t - orders_.data()));
        }
    }

    engine& engine_;
    store& store_;
    std::mt19937 rng_;
    std::string key_prefix_;
    std::uint64_t keys_{0};
    std::vector<tracked> orders_;
};

// Opens the file with durability FULL and sets up the catalogue.
std::unique_ptr<engine_on_file> open_file(const std::string& path, unsigned node,
                                          std::span<const stock_row> stock) {
    auto opened = engine_on_file::open(
        sqlite_options{.path = path, .durability = sqlite_durability::full}, node, stock);
    if (!opened) {
        fail("open", opened.error());
    }
    return std::move(*opened);
}

int crash_stream_main(const std::string& path, std::uint32_t seed) {
    const auto p = open_file(path, seed % 1024, workload_stock);
    crash_stream stream(*p->engine, *p->store, seed);
    stream.load_unfinished();
    emit("ready\n");
    for (;;) {
        stream.step();
    }
}

// Prints "ready" and waits for the parent's go (a line on stdin), so that
// several children start their work at the same moment.
void ready_set_go() {
    emit("ready\n");
    char c = 0;
    while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
    }
}

int open_main(const std::string& path) {
    ready_set_go();
    if (auto opened = sqlite_store::open(sqlite_options{.path = path}); !opened) {
        fail("open", opened.error());
    }
    emit("opened\n");
    return 0;
}

int hot_sku_main(const std::string& path, int count, std::uint32_t seed) {
    const auto p = open_file(path, seed % 1024, hot_stock);
    ready_set_go();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::int64_t> units(1, 3);
    const std::string buyer = fmt::format("hot-{}-{}", seed, ::getpid());
    for (int i = 0; i < count; ++i) {
        const std::int64_t n = units(rng);
        const std::array<std::pair<std::string_view, std::int64_t>, 1> line{{{hot_skus[0], n}}};
        auto placed = p->engine->place_order(
            command_context{test::admin, fmt::format("{}-{}", buyer, i)}, order_for(line));
        if (placed) {
            emit(fmt::format("accepted {} {}\n", placed->order, n));
        } else if (placed.error().code == errc::insufficient_stock) {
            emit(fmt::format("refused {}\n", n));
        } else {
            emit(fmt::format("error {}\n", placed.error()));
        }
    }
    emit("done\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv, argv + argc);
    if (args.size() == 4 && args[1] == "crash-stream") {
        return crash_stream_main(args[2], static_cast<std::uint32_t>(std::stoul(args[3])));
    }
    if (args.size() == 3 && args[1] == "open") {
        return open_main(args[2]);
    }
    if (args.size() == 5 && args[1] == "hot-sku") {
        return hot_sku_main(args[2], std::stoi(args[3]),
                            static_cast<std::uint32_t>(std::stoul(args[4])));
    }
    std::fputs(
        "usage: sqlite_child crash-stream <db> <seed> | open <db> | hot-sku <db> <count> <seed>\n",
        stderr);
    return 2;
}
