#pragma once
// The host's channel as the simulator plays it: refuses deliveries at
// random, and remembers every notification it accepted and how often each
// id came (the outbox delivers at least once; ids must name one message).

#include "random.hpp"

#include <orderly/ports/notifier.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace orderly::sim {

class fault_notifier final : public notifier {
public:
    explicit fault_notifier(std::uint64_t seed) : random_(seed) {}

    [[nodiscard]] result<void> deliver(const notification& note) override;

    void set_failure_rate(std::int64_t per_mille) { fail_per_mille_ = per_mille; }

    // What one delivered id said, kept small: a long run delivers millions.
    struct delivered_note {
        notification_kind kind{notification_kind::order_confirmed};
        order_id order{};
        std::size_t fingerprint{0};  // of recipient, text, details and creation time
        std::size_t times{0};
    };

    [[nodiscard]] const std::unordered_map<std::uint64_t, delivered_note>& delivered() const {
        return delivered_;
    }
    [[nodiscard]] std::size_t refused() const { return refused_; }
    [[nodiscard]] std::size_t redeliveries() const { return redeliveries_; }

    // The first id seen twice with another message, described; empty when
    // none (the outbox's ids must be unique and stable).
    [[nodiscard]] std::optional<std::string> take_conflict() {
        auto c = std::move(conflict_);
        conflict_.reset();
        return c;
    }

private:
    prng random_;
    std::int64_t fail_per_mille_{0};
    std::unordered_map<std::uint64_t, delivered_note> delivered_;
    std::size_t refused_{0};
    std::size_t redeliveries_{0};
    std::optional<std::string> conflict_;
};

}  // namespace orderly::sim
