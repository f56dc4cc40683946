// Costs of money's hot operations: what an order line, a tax, a discount
// allocation and a receipt cost. Run on a release build (scripts/bench.sh).
#include <orderly/core/money.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using orderly::money;
using orderly::rate;
using orderly::rounding;
namespace currencies = orderly::currencies;

money must(const orderly::result<money>& made) {
    return made.value();
}

void money_plus(benchmark::State& state) {
    money total = money::zero(currencies::CNY);
    money price = money::from_minor(1999, currencies::CNY);
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        auto sum = total.plus(price);
        benchmark::DoNotOptimize(sum);
        total = *sum;
    }
}
BENCHMARK(money_plus);

void money_plus_beyond_64_bits(benchmark::State& state) {
    money total = money::from_minor(money::amount_type(1) << 100, currencies::CNY);
    money price = money::from_minor(1999, currencies::CNY);
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        auto sum = total.plus(price);
        benchmark::DoNotOptimize(sum);
        total = *sum;
    }
}
BENCHMARK(money_plus_beyond_64_bits);

void money_times_quantity(benchmark::State& state) {
    money price = money::from_minor(1999, currencies::CNY);
    orderly::quantity units = orderly::quantity::of(7).value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        benchmark::DoNotOptimize(units);
        auto line = price.times(units);
        benchmark::DoNotOptimize(line);
    }
}
BENCHMARK(money_times_quantity);

void money_times_rate_half_even(benchmark::State& state) {
    money price = money::from_minor(1999, currencies::CNY);
    rate tax = rate::parse("0.065").value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        benchmark::DoNotOptimize(tax);
        auto due = price.times(tax, rounding::half_even);
        benchmark::DoNotOptimize(due);
    }
}
BENCHMARK(money_times_rate_half_even);

void money_times_rate_beyond_64_bits(benchmark::State& state) {
    money price = money::from_minor(money::amount_type(1) << 100, currencies::CNY);
    rate tax = rate::parse("0.065").value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        benchmark::DoNotOptimize(tax);
        auto due = price.times(tax, rounding::half_even);
        benchmark::DoNotOptimize(due);
    }
}
BENCHMARK(money_times_rate_beyond_64_bits);

void money_allocate_3(benchmark::State& state) {
    money discount = money::from_minor(1000, currencies::CNY);
    std::array<std::int64_t, 3> weights{1999, 599, 12999};
    for (auto _ : state) {
        benchmark::DoNotOptimize(discount);
        benchmark::DoNotOptimize(weights);
        auto parts = discount.allocate(weights);
        benchmark::DoNotOptimize(parts);
    }
}
BENCHMARK(money_allocate_3);

void money_allocate_10(benchmark::State& state) {
    money discount = money::from_minor(100'001, currencies::CNY);
    std::array<std::int64_t, 10> weights{1999, 599, 12999, 7, 300, 300, 45, 1, 88, 1000};
    for (auto _ : state) {
        benchmark::DoNotOptimize(discount);
        benchmark::DoNotOptimize(weights);
        auto parts = discount.allocate(weights);
        benchmark::DoNotOptimize(parts);
    }
}
BENCHMARK(money_allocate_10);

void money_split_3(benchmark::State& state) {
    money fee = money::from_minor(1000, currencies::CNY);
    for (auto _ : state) {
        benchmark::DoNotOptimize(fee);
        auto parts = fee.split(3);
        benchmark::DoNotOptimize(parts);
    }
}
BENCHMARK(money_split_3);

void money_parse(benchmark::State& state) {
    std::string_view text = "12345.67 CNY";
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        auto price = money::parse(text);
        benchmark::DoNotOptimize(price);
    }
}
BENCHMARK(money_parse);

void money_parse_near_128_bits(benchmark::State& state) {
    std::string_view text = "3402823669209384634633746074317682114.55 USD";
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        auto price = money::parse(text);
        benchmark::DoNotOptimize(price);
    }
}
BENCHMARK(money_parse_near_128_bits);

void money_format(benchmark::State& state) {
    money price = must(money::parse("12345.67 CNY"));
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        auto text = fmt::format("{}", price);
        benchmark::DoNotOptimize(text);
    }
}
BENCHMARK(money_format);

void money_format_near_128_bits(benchmark::State& state) {
    money price = must(money::parse("3402823669209384634633746074317682114.55 USD"));
    for (auto _ : state) {
        benchmark::DoNotOptimize(price);
        auto text = fmt::format("{}", price);
        benchmark::DoNotOptimize(text);
    }
}
BENCHMARK(money_format_near_128_bits);

void rate_parse(benchmark::State& state) {
    std::string_view text = "0.065";
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        auto tax = rate::parse(text);
        benchmark::DoNotOptimize(tax);
    }
}
BENCHMARK(rate_parse);

void currency_from_code(benchmark::State& state) {
    std::string_view text = "USD";
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        auto c = orderly::currency::from_code(text);
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(currency_from_code);

}  // namespace
