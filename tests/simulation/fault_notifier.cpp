#include "fault_notifier.hpp"

#include <fmt/format.h>

#include <functional>
#include <string>

namespace orderly::sim {
namespace {

// Everything of a message but the attempt counter, hashed.
std::size_t fingerprint_of(const notification& n) {
    std::string all = fmt::format("{}|{}|{}|{}", static_cast<int>(n.audience), n.recipient, n.text,
                                  n.created_at.time_since_epoch().count());
    for (const auto& [k, v] : n.details) {
        all += fmt::format("|{}={}", k, v);
    }
    return std::hash<std::string>{}(all);
}

}  // namespace

result<void> fault_notifier::deliver(const notification& note) {
    if (random_.chance(fail_per_mille_)) {
        ++refused_;
        return error{errc::notification_failed, "", "injected fault: the channel is down"};
    }
    const delivered_note now{note.kind, note.order, fingerprint_of(note), 0};
    auto [it, fresh] = delivered_.try_emplace(note.id, now);
    ++it->second.times;
    if (!fresh) {
        ++redeliveries_;
        const delivered_note& first = it->second;
        const bool same = first.kind == now.kind && first.order == now.order &&
                          first.fingerprint == now.fingerprint;
        if (!same && !conflict_) {
            conflict_ = fmt::format(
                "notification id {} came as {} for order {} and again as {} for order {}", note.id,
                first.kind, first.order, note.kind, note.order);
        }
    }
    return {};
}

}  // namespace orderly::sim
