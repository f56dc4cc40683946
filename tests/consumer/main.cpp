// The host program of the consumer test: links orderly::orderly and
// orderly::sqlite, prints a formatted Money and round-trips a SKU through a
// SqliteStore file, proving headers, libraries and dependencies all arrived.
#include <orderly/orderly.hpp>
#include <orderly/storage/sqlite_store.hpp>

#include <fmt/format.h>

#include <filesystem>

namespace {

// One committed transaction; it ends with this function, before the store.
bool put_tea(orderly::store& store, const orderly::money& price) {
    auto tx = store.begin();
    return tx &&
           (*tx)->put_sku({.id = orderly::sku_id("tea"),
                           .merchant = {},
                           .name = "Tea",
                           .category = "tea",
                           .price = price,
                           .weight_g = 100,
                           .volume_cm3 = 100,
                           .traits = {},
                           .status = orderly::sku_status::on_sale}) &&
           (*tx)->commit();
}

}  // namespace

int main(int argc, char** argv) {
    const auto price = orderly::money::parse("12.50 CNY");
    if (!price) {
        fmt::print(stderr, "{}\n", price.error());
        return 1;
    }
    const auto total = price->times(3);
    if (!total) {
        fmt::print(stderr, "{}\n", total.error());
        return 1;
    }
    // Each consumer build passes its own file: the two run side by side.
    const std::filesystem::path file =
        argc > 1 ? std::filesystem::path(argv[1])
                 : std::filesystem::temp_directory_path() / "orderly-consumer-test.db";
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(file.string() + suffix);
    }
    auto store = orderly::sqlite_store::open({.path = file});
    if (!store) {
        fmt::print(stderr, "{}\n", store.error());
        return 1;
    }
    if (!put_tea(**store, *price)) {
        fmt::print(stderr, "could not write to {}\n", file.string());
        return 1;
    }
    const auto loaded = (*store)->load_sku(orderly::sku_id("tea"));
    if (!loaded || !*loaded || (*loaded)->price != *price) {
        fmt::print(stderr, "the SKU did not come back from {}\n", file.string());
        return 1;
    }
    fmt::print("orderly {}: 3 x {} = {}; SqliteStore schema {}\n", orderly::version(), *price,
               *total, orderly::sqlite_store::schema_version);
    store->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(file.string() + suffix);
    }
    return 0;
}
