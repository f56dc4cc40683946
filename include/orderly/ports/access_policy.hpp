#pragma once
/// \file
/// The AccessPolicy port: decides whether an actor may run a command.
/// Every engine command asks it first; a refusal changes nothing.

#include <orderly/core/actor.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace orderly {

/// The commands an actor can be allowed or refused. Stored values never change.
enum class command : std::uint8_t {
    place_order = 1,
    approve_order = 2,
    reject_order = 3,
    record_payment = 4,
    refund_payment = 5,
    cancel_order = 6,
    hold_order = 7,
    release_order = 8,
    allocate_order = 9,
    pack_order = 10,
    ship_order = 11,
    deliver_order = 12,
    confirm_receipt = 13,
    close_order = 14,
    put_sku = 15,
    receive_stock = 16,
    set_safety_stock = 17,
    view_order = 18,
    view_review_queue = 19,
    run_due_work = 20,
    plan_fulfilment = 21,  ///< Choose warehouses and carriers, split into shipments (R-7, R-13).
    merge_shipments = 22,  ///< Merge shipments of one customer to one address (R-7).
    plan_pick_waves = 23,  ///< Group planned shipments into pick waves (R-19).
    pack_shipment = 24,    ///< Scan goods at the packing station and seal the parcel (R-19).
    ship_shipment = 25,    ///< Hand a parcel to its carrier with a waybill (R-20).
    record_carrier_event = 26,         ///< A carrier's tracking event (R-21).
    resolve_logistics_exception = 27,  ///< Reship, refund or compensate (R-22).
    report_logistics_exception = 28,   ///< Report a shipment lost or damaged (R-22).
    transfer_stock = 29,   ///< Move stock between warehouses; read turnover and proposals (R-11).
    open_ticket = 30,      ///< Open an after-sales ticket on an order (R-24).
    review_ticket = 31,    ///< Approve, reject or assign an after-sales ticket (R-25).
    withdraw_ticket = 32,  ///< Withdraw an after-sales ticket.
    return_goods = 33,     ///< Report the return parcel, or its carrier's events.
    inspect_return = 34,   ///< Receive and inspect returned goods at the warehouse (R-26).
    resolve_ticket = 35,   ///< Refund, ship a replacement, send to and back from repair.
    close_ticket = 36,     ///< Close a ticket whose goods went out again.
    rate_order = 37,       ///< Rate an order (R-27).
    open_case = 38,        ///< Open an exception case by hand (R-28).
    work_case = 39,        ///< Acknowledge, assign, start, note, resolve or close a case (R-28).
    view_operations = 40,  ///< Read cases, the case library, the status board and statements.
    archive_orders = 41,   ///< Move ended orders older than the setting to the archive (R-32).
};

/// Every command, in numeric order.
inline constexpr std::array<command, 41> all_commands = {command::place_order,
                                                         command::approve_order,
                                                         command::reject_order,
                                                         command::record_payment,
                                                         command::refund_payment,
                                                         command::cancel_order,
                                                         command::hold_order,
                                                         command::release_order,
                                                         command::allocate_order,
                                                         command::pack_order,
                                                         command::ship_order,
                                                         command::deliver_order,
                                                         command::confirm_receipt,
                                                         command::close_order,
                                                         command::put_sku,
                                                         command::receive_stock,
                                                         command::set_safety_stock,
                                                         command::view_order,
                                                         command::view_review_queue,
                                                         command::run_due_work,
                                                         command::plan_fulfilment,
                                                         command::merge_shipments,
                                                         command::plan_pick_waves,
                                                         command::pack_shipment,
                                                         command::ship_shipment,
                                                         command::record_carrier_event,
                                                         command::resolve_logistics_exception,
                                                         command::report_logistics_exception,
                                                         command::transfer_stock,
                                                         command::open_ticket,
                                                         command::review_ticket,
                                                         command::withdraw_ticket,
                                                         command::return_goods,
                                                         command::inspect_return,
                                                         command::resolve_ticket,
                                                         command::close_ticket,
                                                         command::rate_order,
                                                         command::open_case,
                                                         command::work_case,
                                                         command::view_operations,
                                                         command::archive_orders};

/// The stable name of a command ("cancel_order").
[[nodiscard]] std::string_view to_string(command c) noexcept;

/// Decides who may do what. Implementations must be safe to call from many
/// threads and must not block for long: they run inside every command.
class access_policy {
public:
    /// Virtual, so hosts may own a policy through a base pointer.
    virtual ~access_policy() = default;
    /// Allows or refuses `who` running `what`. `owner` is the customer the
    /// order belongs to (or will belong to, when placing), null for commands
    /// that concern no order. Refusals: errc::forbidden, or
    /// errc::unknown_role for a role the policy does not know; field "actor".
    [[nodiscard]] virtual result<void> authorize(const actor& who, command what,
                                                 const customer_id* owner) const = 0;
};

/// The policy orderly ships: customers act on their own orders only (place,
/// cancel, confirm receipt, view); customer service places for customers,
/// cancels, holds and releases; reviewers approve, reject, hold and release;
/// warehouse staff manage stock and move orders from allocation to delivery;
/// finance records payments and refunds; the system role (gateways, carriers,
/// the due-work scan) records payments, delivers, confirms, cancels and runs
/// due work; admins do everything. Every staff role may view orders.
/// Exception cases: customer service and warehouse staff open and work them,
/// customer service and finance read the operations reports (cases, the
/// case library, the status board, statements), the system role opens cases
/// and archives; admins do everything.
class default_access_policy final : public access_policy {
public:
    /// See the class comment for the table.
    [[nodiscard]] result<void> authorize(const actor& who, command what,
                                         const customer_id* owner) const override;

    /// True when the table lets `who` run `what` at all (ignoring ownership).
    [[nodiscard]] static bool allows(role who, command what) noexcept;
};

}  // namespace orderly

/// Formats a command as its name.
template <>
struct fmt::formatter<orderly::command> : fmt::formatter<std::string_view> {
    /// Writes the name.
    auto format(orderly::command c, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(orderly::to_string(c), ctx);
    }
};
