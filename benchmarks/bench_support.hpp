#pragma once
// What the engine benchmarks share: a notifier that accepts everything,
// yuan amounts from text, and the customer's address.

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

/// The address every benchmark order ships to.
inline address alice_in_hangzhou() {
    return address{.recipient = "Alice",
                   .phone = "13812345678",
                   .country = "CN",
                   .province = "Zhejiang",
                   .city = "Hangzhou",
                   .district = "",
                   .street = "1 Road",
                   .postcode = ""};
}

}  // namespace orderly::bench
