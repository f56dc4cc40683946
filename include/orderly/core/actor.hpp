#pragma once
/// \file
/// Who runs a command: every command carries an actor with a role, every
/// timeline entry records it.

#include <orderly/core/error.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace orderly {

/// The part a person or process plays. The numeric values are stored and
/// never change.
enum class role : std::uint8_t {
    customer = 1,          ///< The buyer: places, cancels and confirms own orders.
    customer_service = 2,  ///< Staff who act for customers: cancel, hold, release.
    reviewer = 3,          ///< Staff who approve or reject orders in manual review.
    warehouse = 4,         ///< Staff who receive stock, allocate, pack and ship.
    finance = 5,           ///< Staff who record payments and refunds.
    admin = 6,             ///< Administrators: every command.
    system = 7,            ///< Automated callers: gateway callbacks, carriers, the due-work scan.
};

/// Every role, in numeric order.
inline constexpr std::array<role, 7> all_roles = {role::customer, role::customer_service,
                                                  role::reviewer, role::warehouse,
                                                  role::finance,  role::admin,
                                                  role::system};

/// The stable snake_case name of a role ("customer_service"); "unknown" for a
/// value outside the enum.
[[nodiscard]] constexpr std::string_view to_string(role r) noexcept {
    switch (r) {
        case role::customer:
            return "customer";
        case role::customer_service:
            return "customer_service";
        case role::reviewer:
            return "reviewer";
        case role::warehouse:
            return "warehouse";
        case role::finance:
            return "finance";
        case role::admin:
            return "admin";
        case role::system:
            return "system";
    }
    return "unknown";
}

/// Reads a role from its name, as hosts keep it in their user records.
/// Anything else is refused with errc::unknown_role on field "role".
[[nodiscard]] inline result<role> parse_role(std::string_view name) {
    for (const role r : all_roles) {
        if (to_string(r) == name) {
            return r;
        }
    }
    return error{errc::unknown_role, "role", fmt::format("'{}' is not a known role", name)};
}

/// A person or process acting on orders: an id the host owns (a user id, a
/// service name) and the role it acts in.
struct actor {
    std::string id;  ///< Who, as the host identifies them ("u-1029", "alipay-gw").
    orderly::role role{role::customer};  ///< In which role.

    /// Actors are equal when id and role are.
    friend bool operator==(const actor&, const actor&) = default;
};

/// The actor that due work (timeouts, auto-confirm) runs as.
[[nodiscard]] inline actor system_actor() {
    return actor{"orderly", role::system};
}

}  // namespace orderly

/// Formats a role as its name.
template <>
struct fmt::formatter<orderly::role> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::role r, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(r), ctx);
    }
};

/// Formats an actor as "id (role)".
template <>
struct fmt::formatter<orderly::actor> : fmt::formatter<std::string_view> {
    /// Writes the actor.
    auto format(const orderly::actor& a, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(
            fmt::format("{} ({})", a.id, orderly::to_string(a.role)), ctx);
    }
};
