// The host program of the consumer test: links orderly::orderly and prints a
// formatted Money, proving headers, library and dependencies all arrived.
#include <orderly/orderly.hpp>

#include <fmt/format.h>

int main() {
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
    fmt::print("orderly {}: 3 x {} = {}\n", orderly::version(), *price, *total);
    return 0;
}
