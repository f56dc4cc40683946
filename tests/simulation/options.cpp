#include "options.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <random>
#include <string_view>

namespace orderly::sim {
namespace {

[[noreturn]] void usage(std::string_view problem) {
    fmt::print(stderr,
               "{}\nusage: orderly_simulator [--seed S] [--commands N] [--store memory|sqlite]\n"
               "                         [--no-faults] [--reopen-every N] [--verbose] "
               "[--keep-going]\n"
               "ORDERLY_SEED=S replays seed S (the same as --seed S).\n",
               problem);
    std::exit(2);
}

std::uint64_t number(std::string_view flag, const char* text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') {
        usage(fmt::format("{} needs a number, not '{}'", flag, text));
    }
    return value;
}

std::uint64_t entropy_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32U) ^ device();
}

}  // namespace

sim_options parse_options(int argc, char** argv) {
    sim_options o;
    bool seeded = false;
    if (const char* env = std::getenv("ORDERLY_SEED"); env != nullptr && *env != '\0') {
        o.seed = number("ORDERLY_SEED", env);
        seeded = true;
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        const bool has_value = i + 1 < argc;
        if (flag == "--no-faults") {
            o.faults = false;
        } else if (flag == "--verbose") {
            o.verbose = true;
        } else if (flag == "--keep-going") {
            o.keep_going = true;
        } else if (flag == "--seed" && has_value) {
            o.seed = number(flag, argv[++i]);
            seeded = true;
        } else if (flag == "--commands" && has_value) {
            o.commands = number(flag, argv[++i]);
        } else if (flag == "--reopen-every" && has_value) {
            o.reopen_every = number(flag, argv[++i]);
        } else if (flag == "--store" && has_value) {
            const std::string_view which = argv[++i];
            if (which != "memory" && which != "sqlite") {
                usage(fmt::format("--store takes memory or sqlite, not '{}'", which));
            }
            o.store = which == "memory" ? store_kind::memory : store_kind::sqlite;
        } else {
            usage(fmt::format("unknown argument '{}'", flag));
        }
    }
    if (!seeded) {
        o.seed = entropy_seed();
    }
    return o;
}

std::string replay_command(const sim_options& o) {
    return fmt::format(
        "ORDERLY_SEED={} orderly_simulator --commands {} --store {}{}{}", o.seed, o.commands,
        o.store == store_kind::memory ? "memory" : "sqlite", o.faults ? "" : " --no-faults",
        o.store == store_kind::sqlite ? fmt::format(" --reopen-every {}", o.reopen_every)
                                      : std::string());
}

}  // namespace orderly::sim
