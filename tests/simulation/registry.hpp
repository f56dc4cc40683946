#pragma once
// What the simulator knows of each aggregate, indexed by state so an actor
// can pick a random one in the state it works on in constant time.

#include "random.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace orderly::sim {

// Hashes a strong id by its value.
struct id_hash {
    template <class Id>
    std::size_t operator()(const Id& id) const {
        return std::hash<std::remove_cvref_t<decltype(id.value())>>{}(id.value());
    }
};

// Ids with O(1) insert, erase and random pick.
template <class Id>
class bag {
public:
    void insert(Id id) {
        if (where_.try_emplace(id, items_.size()).second) {
            items_.push_back(id);
        }
    }
    void erase(Id id) {
        auto it = where_.find(id);
        if (it == where_.end()) {
            return;
        }
        const std::size_t at = it->second;
        where_.erase(it);
        if (at + 1 != items_.size()) {
            items_[at] = items_.back();
            where_[items_[at]] = at;
        }
        items_.pop_back();
    }
    [[nodiscard]] std::optional<Id> pick(prng& random) const {
        if (items_.empty()) {
            return std::nullopt;
        }
        return items_[random.below(items_.size())];
    }
    [[nodiscard]] std::size_t size() const { return items_.size(); }
    [[nodiscard]] const std::vector<Id>& items() const { return items_; }

private:
    std::vector<Id> items_;
    std::unordered_map<Id, std::size_t, id_hash> where_;
};

// Infos by id, with a bag per state. Info must have a `state` member.
template <class Id, class Info, class State>
class registry {
public:
    Info* find(Id id) {
        auto it = infos_.find(id);
        return it == infos_.end() ? nullptr : &it->second;
    }
    const Info* find(Id id) const {
        auto it = infos_.find(id);
        return it == infos_.end() ? nullptr : &it->second;
    }
    // Inserts or replaces; re-indexes under the info's state.
    Info& put(Id id, Info info) {
        if (auto* old = find(id)) {
            by_state_[old->state].erase(id);
        }
        Info& stored = infos_.insert_or_assign(id, std::move(info)).first->second;
        by_state_[stored.state].insert(id);
        all_.insert(id);
        return stored;
    }
    void forget(Id id) {
        if (auto* old = find(id)) {
            by_state_[old->state].erase(id);
            infos_.erase(id);
            all_.erase(id);
        }
    }
    [[nodiscard]] std::optional<Id> pick(prng& random, State state) const {
        auto it = by_state_.find(state);
        return it == by_state_.end() ? std::nullopt : it->second.pick(random);
    }
    [[nodiscard]] std::optional<Id> pick_any(prng& random) const { return all_.pick(random); }
    [[nodiscard]] std::size_t count(State state) const {
        auto it = by_state_.find(state);
        return it == by_state_.end() ? 0 : it->second.size();
    }
    [[nodiscard]] std::vector<Id> in_state(State state) const {
        auto it = by_state_.find(state);
        return it == by_state_.end() ? std::vector<Id>{} : it->second.items();
    }
    [[nodiscard]] std::size_t size() const { return infos_.size(); }
    template <class Visit>
    void for_each(Visit&& visit) const {
        for (const auto& [id, info] : infos_) {
            visit(id, info);
        }
    }

private:
    std::unordered_map<Id, Info, id_hash> infos_;
    std::map<State, bag<Id>> by_state_;
    bag<Id> all_;
};

}  // namespace orderly::sim
