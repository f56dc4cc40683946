#pragma once
// A stable 64-bit fingerprint of a request (FNV-1a over a canonical byte
// encoding): what an idempotency record keeps to tell "the same request
// again" from "a different request under a reused key". Stable across
// processes and builds, so durable stores can keep it.

#include <orderly/core/address.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/quantity.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace orderly::detail {

class fingerprint {
public:
    fingerprint& add(std::string_view text) noexcept {
        add_integer(text.size());
        for (const char c : text) {
            add_byte(static_cast<unsigned char>(c));
        }
        return *this;
    }
    template <class Integer>
    requires std::is_integral_v<Integer> || std::is_enum_v<Integer> fingerprint& add(
        Integer value) noexcept {
        add_integer(static_cast<std::uint64_t>(value));
        return *this;
    }
    template <class Tag, class Rep>
    fingerprint& add(const strong_id<Tag, Rep>& id) noexcept {
        return add(id.value());
    }
    fingerprint& add(quantity q) noexcept { return add(q.units()); }
    fingerprint& add(const money& m) { return add(m.to_string()); }
    template <class T>
    fingerprint& add(const std::optional<T>& value) {
        add(value.has_value());
        if (value) {
            add(*value);
        }
        return *this;
    }
    fingerprint& add(const address& a) {
        return add(a.recipient)
            .add(a.phone)
            .add(a.country)
            .add(a.province)
            .add(a.city)
            .add(a.district)
            .add(a.street)
            .add(a.postcode);
    }
    [[nodiscard]] std::uint64_t value() const noexcept { return hash_; }

private:
    void add_byte(unsigned char byte) noexcept {
        hash_ ^= byte;
        hash_ *= 0x100000001b3ULL;
    }
    void add_integer(std::uint64_t value) noexcept {
        for (int shift = 0; shift < 64; shift += 8) {
            add_byte(static_cast<unsigned char>(value >> shift));
        }
    }
    std::uint64_t hash_{0xcbf29ce484222325ULL};
};

}  // namespace orderly::detail
