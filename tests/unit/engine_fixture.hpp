#pragma once
// Shared set-up for the engine tests: a store, a manual clock, a recording
// notifier, the default access policy, a small catalogue with stock, and a
// valid order request to vary. The store is a memory_store, or a SqliteStore
// on a fresh temporary file when ORDERLY_TEST_STORE=sqlite (ctest runs the
// engine tests both ways).

#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>
#include <orderly/testing/manual_clock.hpp>
#include <orderly/testing/recording_notifier.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace orderly::test {

inline const actor admin{"root", role::admin};
inline const actor keeper{"wh-1", role::warehouse};
inline const actor gateway{"pay-gw", role::system};
inline const actor reviewer{"rev-1", role::reviewer};
inline const actor alice{"alice", role::customer};

inline timestamp start_time() {
    return std::chrono::time_point_cast<duration>(
        std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + std::chrono::hours(9));
}

inline money cny(std::string_view amount) {
    return money::parse(amount, currencies::CNY).value();
}

inline quantity units(std::int64_t n) {
    return quantity::of(n).value();
}

inline address home() {
    return address{.recipient = "Alice Zhang",
                   .phone = "13812345678",
                   .country = "CN",
                   .province = "Zhejiang",
                   .city = "Hangzhou",
                   .district = "Xihu",
                   .street = "1 Wensan Road",
                   .postcode = "310000"};
}

inline sku catalogue_entry(std::string id, std::string_view price, bool restricted = false) {
    return sku{.id = sku_id(std::move(id)),
               .merchant = merchant_id("m-1"),
               .name = "Tea",
               .category = "food",
               .price = cny(price),
               .weight_g = 250,
               .volume_cm3 = 400,
               .traits = sku_traits{.restricted = restricted},
               .status = sku_status::on_sale};
}

// The store the engine tests run against; see the file comment.
class test_store {
public:
    test_store() {
        const char* which = std::getenv("ORDERLY_TEST_STORE");
        if (which != nullptr && std::string_view(which) == "sqlite") {
            static std::atomic<int> count{0};
            path_ = std::filesystem::temp_directory_path() /
                    ("orderly-test-" + std::to_string(::getpid()) + "-" + std::to_string(++count) +
                     ".db");
            remove_files();
            owned_ = sqlite_store::open(sqlite_options{.path = path_}).value();
        } else {
            owned_ = std::make_unique<memory_store>();
        }
    }
    ~test_store() {
        owned_.reset();
        remove_files();
    }
    test_store(const test_store&) = delete;
    test_store& operator=(const test_store&) = delete;

    [[nodiscard]] orderly::store& get() const noexcept { return *owned_; }

private:
    void remove_files() const {
        if (path_.empty()) {
            return;
        }
        std::error_code ignored;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(path_.string() + suffix, ignored);
        }
    }

    std::filesystem::path path_;
    std::unique_ptr<orderly::store> owned_;
};

struct fixture {
    explicit fixture(settings options = {}) : store(storage.get()), clock(start_time()) {
        engine = engine::create(engine_ports{store, notifier, clock, policy}, std::move(options))
                     .value();
    }

    // A command context with a fresh key.
    command_context as(const actor& who) { return command_context{who, next_key()}; }
    std::string next_key() { return "k" + std::to_string(++keys); }

    void stock_up(const std::string& sku_code, std::string_view price, std::int64_t count,
                  const std::string& warehouse = "wh-hz", bool restricted = false) {
        REQUIRE(
            engine->put_sku(as(admin), catalogue_entry(sku_code, price, restricted)).has_value());
        REQUIRE(engine
                    ->receive_stock(
                        as(keeper),
                        stock_receipt{sku_id(sku_code), warehouse_id(warehouse), units(count)})
                    .has_value());
    }

    place_order_request request(std::int64_t count = 2, std::string sku_code = "tea") {
        place_order_request r;
        r.channel = order_channel::web;
        r.customer = customer_id("alice");
        r.ship_to = home();
        r.lines.push_back(line_request{sku_id(std::move(sku_code)), units(count), cny("12.50")});
        r.method = payment_method::card;
        return r;
    }

    std::int64_t available(const std::string& sku_code, const std::string& warehouse = "wh-hz") {
        auto level = store.stock(sku_id(sku_code), warehouse_id(warehouse)).value();
        REQUIRE(level.has_value());
        return level->available();
    }

    order load(order_id id) { return engine->get_order(admin, id).value(); }

    test_store storage;
    orderly::store& store;
    recording_notifier notifier;
    manual_clock clock;
    default_access_policy policy;
    std::unique_ptr<orderly::engine> engine;
    int keys{0};
};

}  // namespace orderly::test
