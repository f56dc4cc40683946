#pragma once
/// \file
/// A Notifier for tests and simulations: keeps every notification it accepts,
/// and can be told to refuse, to exercise the outbox's retries.

#include <orderly/ports/notifier.hpp>

#include <atomic>
#include <mutex>
#include <vector>

namespace orderly {

/// Records what orderly delivers. Thread-safe.
class recording_notifier final : public notifier {
public:
    /// Accepts and records `note`, or refuses with errc::notification_failed
    /// while failing(true) is set.
    [[nodiscard]] result<void> deliver(const notification& note) override {
        attempts_.fetch_add(1, std::memory_order_relaxed);
        if (failing_.load(std::memory_order_acquire)) {
            return error{errc::notification_failed, "", "the channel is down"};
        }
        const std::lock_guard lock(mutex_);
        received_.push_back(note);
        return {};
    }

    /// Makes deliver() refuse (true) or accept (false) from now on.
    void failing(bool on) { failing_.store(on, std::memory_order_release); }

    /// Everything accepted so far, in order of acceptance.
    [[nodiscard]] std::vector<notification> received() const {
        const std::lock_guard lock(mutex_);
        return received_;
    }

    /// How many times deliver() was called, refusals included.
    [[nodiscard]] std::size_t attempts() const { return attempts_.load(std::memory_order_relaxed); }

private:
    mutable std::mutex mutex_;
    std::vector<notification> received_;
    std::atomic<bool> failing_{false};
    std::atomic<std::size_t> attempts_{0};
};

}  // namespace orderly
