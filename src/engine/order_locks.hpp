#pragma once
// One mutex per order that has a command in flight, so commands on one order
// run one at a time and commands on different orders never wait for each
// other (striped locks would make unrelated orders share a stripe). Entries
// live only while someone holds or waits for them. The map is sharded so
// that looking up a lock is not itself a global bottleneck.

#include <orderly/core/id.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace orderly::detail {

class order_locks {
    struct entry {
        std::mutex mutex;
        std::size_t users{0};  // Holders and waiters; guarded by the shard's mutex.
    };
    struct shard {
        std::mutex mutex;
        std::unordered_map<order_id, std::unique_ptr<entry>> entries;
    };

public:
    // Holds one order's lock for its lifetime.
    class guard {
    public:
        guard(order_locks& owner, order_id id) : owner_(&owner), id_(id) {
            entry_ = owner_->acquire(id_);
            entry_->mutex.lock();
        }
        guard(const guard&) = delete;
        guard& operator=(const guard&) = delete;
        ~guard() {
            entry_->mutex.unlock();
            owner_->release(id_);
        }

    private:
        order_locks* owner_;
        order_id id_;
        entry* entry_{nullptr};
    };

    [[nodiscard]] guard lock(order_id id) { return guard(*this, id); }

private:
    static constexpr std::size_t shard_count = 64;

    shard& shard_of(order_id id) noexcept {
        return shards_[std::hash<order_id>{}(id) % shard_count];
    }
    entry* acquire(order_id id) {
        shard& s = shard_of(id);
        const std::lock_guard lock(s.mutex);
        auto& slot = s.entries[id];
        if (!slot) {
            slot = std::make_unique<entry>();
        }
        ++slot->users;
        return slot.get();
    }
    void release(order_id id) {
        shard& s = shard_of(id);
        const std::lock_guard lock(s.mutex);
        const auto it = s.entries.find(id);
        if (--it->second->users == 0) {
            s.entries.erase(it);
        }
    }

    std::array<shard, shard_count> shards_;
};

}  // namespace orderly::detail
