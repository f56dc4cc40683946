// The default role table.

#include <orderly/ports/access_policy.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

namespace orderly {

std::string_view to_string(command c) noexcept {
    switch (c) {
        case command::place_order:
            return "place_order";
        case command::approve_order:
            return "approve_order";
        case command::reject_order:
            return "reject_order";
        case command::record_payment:
            return "record_payment";
        case command::refund_payment:
            return "refund_payment";
        case command::cancel_order:
            return "cancel_order";
        case command::hold_order:
            return "hold_order";
        case command::release_order:
            return "release_order";
        case command::allocate_order:
            return "allocate_order";
        case command::pack_order:
            return "pack_order";
        case command::ship_order:
            return "ship_order";
        case command::deliver_order:
            return "deliver_order";
        case command::confirm_receipt:
            return "confirm_receipt";
        case command::close_order:
            return "close_order";
        case command::put_sku:
            return "put_sku";
        case command::receive_stock:
            return "receive_stock";
        case command::set_safety_stock:
            return "set_safety_stock";
        case command::view_order:
            return "view_order";
        case command::view_review_queue:
            return "view_review_queue";
        case command::plan_fulfilment:
            return "plan_fulfilment";
        case command::merge_shipments:
            return "merge_shipments";
        case command::plan_pick_waves:
            return "plan_pick_waves";
        case command::pack_shipment:
            return "pack_shipment";
        case command::ship_shipment:
            return "ship_shipment";
        case command::record_carrier_event:
            return "record_carrier_event";
        case command::resolve_logistics_exception:
            return "resolve_logistics_exception";
        case command::report_logistics_exception:
            return "report_logistics_exception";
        case command::transfer_stock:
            return "transfer_stock";
        case command::run_due_work:
            return "run_due_work";
        case command::open_ticket:
            return "open_ticket";
        case command::review_ticket:
            return "review_ticket";
        case command::withdraw_ticket:
            return "withdraw_ticket";
        case command::return_goods:
            return "return_goods";
        case command::inspect_return:
            return "inspect_return";
        case command::resolve_ticket:
            return "resolve_ticket";
        case command::close_ticket:
            return "close_ticket";
        case command::rate_order:
            return "rate_order";
        case command::open_case:
            return "open_case";
        case command::work_case:
            return "work_case";
        case command::view_operations:
            return "view_operations";
        case command::archive_orders:
            return "archive_orders";
    }
    return "unknown";
}

namespace {

bool in(command what, std::initializer_list<command> allowed) {
    return std::find(allowed.begin(), allowed.end(), what) != allowed.end();
}

}  // namespace

bool default_access_policy::allows(role who, command what) noexcept {
    using enum command;
    switch (who) {
        case role::customer:
            return in(what, {place_order, cancel_order, confirm_receipt, view_order, open_ticket,
                             withdraw_ticket, return_goods, close_ticket, rate_order});
        case role::customer_service:
            return in(what, {place_order, cancel_order, hold_order, release_order, confirm_receipt,
                             view_order, view_review_queue, merge_shipments,
                             report_logistics_exception, resolve_logistics_exception, open_ticket,
                             review_ticket, withdraw_ticket, return_goods, resolve_ticket,
                             close_ticket, open_case, work_case, view_operations});
        case role::reviewer:
            return in(what, {approve_order, reject_order, hold_order, release_order, view_order,
                             view_review_queue});
        case role::warehouse:
            return in(what, {allocate_order, pack_order, ship_order, deliver_order, put_sku,
                             receive_stock, set_safety_stock, view_order, plan_fulfilment,
                             merge_shipments, plan_pick_waves, pack_shipment, ship_shipment,
                             report_logistics_exception, transfer_stock, inspect_return, open_case,
                             work_case});
        case role::finance:
            return in(what, {record_payment, refund_payment, view_order, view_operations});
        case role::admin:
            return true;
        case role::system:
            return in(what, {place_order, record_payment, cancel_order, deliver_order,
                             confirm_receipt, run_due_work, view_order, plan_fulfilment,
                             merge_shipments, record_carrier_event, report_logistics_exception,
                             open_ticket, return_goods, close_ticket, open_case, archive_orders});
    }
    return false;
}

result<void> default_access_policy::authorize(const actor& who, command what,
                                              const customer_id* owner) const {
    if (to_string(who.role) == "unknown") {
        return error{
            errc::unknown_role, "actor.role",
            fmt::format("role {} is not one this policy knows", static_cast<unsigned>(who.role))};
    }
    if (who.id.empty()) {
        return error{errc::missing_value, "actor.id", "every command needs an acting id"};
    }
    if (!allows(who.role, what)) {
        return error{errc::forbidden, "actor.role",
                     fmt::format("a {} may not {}", to_string(who.role), to_string(what))};
    }
    if (who.role == role::customer && (owner == nullptr || owner->value() != who.id)) {
        return error{errc::forbidden, "actor.id",
                     fmt::format("customer '{}' may act only on their own orders", who.id)};
    }
    return {};
}

}  // namespace orderly
