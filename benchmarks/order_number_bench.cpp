// Order numbers: the cost of issuing one (it is on every order's
// intake path, at >= 200k orders/s), of checking one a customer typed, and of
// printing one.

#include <orderly/core/order_number.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::system_clock;

/// A generator of `node`, to be shared by all threads of a benchmark as in a
/// host process. Issuing faster than 4096 a millisecond, a benchmark runs the
/// logical clock ahead of the real one; it measures the cost per call.
orderly::order_number_generator make_generator(unsigned node) {
    return orderly::order_number_generator::create(node).value();
}

/// next() with the time read once: the pure compare-exchange path (the
/// logical clock runs ahead through the sequence numbers).
void next_fixed_time(benchmark::State& state) {
    static orderly::order_number_generator generator = make_generator(1);
    const clock_type::time_point now = clock_type::now();
    for (auto _ : state) {
        auto number = generator.next(now);
        benchmark::DoNotOptimize(number);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(next_fixed_time)->Threads(1)->Threads(2)->UseRealTime();

/// next() with the time read from the system clock each call, as a host's
/// Clock port would.
void next_system_clock(benchmark::State& state) {
    static orderly::order_number_generator generator = make_generator(2);
    for (auto _ : state) {
        auto number = generator.next(clock_type::now());
        benchmark::DoNotOptimize(number);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(next_system_clock)->Threads(1)->Threads(2)->UseRealTime();

/// 1024 printed numbers to read back.
std::vector<std::string> sample_texts() {
    std::mt19937_64 random(42);
    std::vector<std::string> texts;
    for (int i = 0; i < 1024; ++i) {
        texts.push_back(orderly::order_number::from_value(random() >> 1).value().to_string());
    }
    return texts;
}

/// validate(): checks shape and check digit, no allocation.
void validate(benchmark::State& state) {
    const std::vector<std::string> texts = sample_texts();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(orderly::order_number::validate(texts[i++ % texts.size()]));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(validate);

/// parse() of a good number.
void parse(benchmark::State& state) {
    const std::vector<std::string> texts = sample_texts();
    std::size_t i = 0;
    for (auto _ : state) {
        auto number = orderly::order_number::parse(texts[i++ % texts.size()]);
        benchmark::DoNotOptimize(number);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse);

/// parse() of a mistyped number: builds the error a person sees.
void parse_mistyped(benchmark::State& state) {
    std::vector<std::string> texts = sample_texts();
    for (std::string& text : texts) {
        text.back() = text.back() == '0' ? '1' : '0';
    }
    std::size_t i = 0;
    for (auto _ : state) {
        auto number = orderly::order_number::parse(texts[i++ % texts.size()]);
        benchmark::DoNotOptimize(number);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_mistyped);

/// digits(): the 20 characters without allocating (what the formatter uses).
void print_digits(benchmark::State& state) {
    std::mt19937_64 random(43);
    auto number = orderly::order_number::from_value(random() >> 1).value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(number);
        auto text = number.digits();
        benchmark::DoNotOptimize(text);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(print_digits);

}  // namespace
