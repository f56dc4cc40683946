#pragma once
// The simulator's only source of randomness: xoshiro256** seeded through
// splitmix64. Hand-written, so a seed gives the same run on every compiler
// and standard library (std's distributions differ between them).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace orderly::sim {

class prng {
public:
    explicit prng(std::uint64_t seed) {
        for (auto& word : state_) {
            word = splitmix(seed);
        }
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5U, 7) * 9U;
        const std::uint64_t t = state_[1] << 17U;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, n); n > 0. The modulo bias is far below what a run notices.
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

    // Uniform in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        const auto span = static_cast<std::uint64_t>(hi - lo) + 1U;
        return lo + static_cast<std::int64_t>(next() % span);
    }

    // True with probability per_mille / 1000.
    bool chance(std::int64_t per_mille) { return between(0, 999) < per_mille; }

    template <class T>
    const T& pick(const std::vector<T>& from) {
        return from[below(from.size())];
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) {
        return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
    }
    static std::uint64_t splitmix(std::uint64_t& x) {
        x += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = x;
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }

    std::uint64_t state_[4]{};
};

}  // namespace orderly::sim
