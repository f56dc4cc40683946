#pragma once
// What the engine benchmarks share: a notifier that accepts everything and
// yuan amounts from text.

#include <orderly/orderly.hpp>

#include <string_view>

namespace orderly::bench {

/// Accepts every notification: the benchmarks measure commands, not channels.
class null_notifier final : public notifier {
public:
    result<void> deliver(const notification&) override { return {}; }
};

/// An amount in CNY from text such as "12.50"; the text is the benchmark's own.
inline money cny(std::string_view amount) {
    return money::parse(amount, currencies::CNY).value();
}

}  // namespace orderly::bench
