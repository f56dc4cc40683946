#pragma once
/// \file
/// What a command on an order returns, and what an idempotency key keeps so
/// that a repeated call returns it again.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/fulfilment/shipment.hpp>
#include <orderly/order/order.hpp>
#include <orderly/payment/payment.hpp>

#include <optional>

namespace orderly {

/// The result of a command on an order.
struct command_outcome {
    order_id order;                                  ///< The order it concerned.
    order_number number;                             ///< Its printable number.
    order_state state{order_state::pending_review};  ///< Its state after the command.
    std::optional<payment_state> payment;            ///< The payment's state, for payment commands.
    /// True when nothing new happened: the idempotency key had already been
    /// used for this request (the first result is returned), or a gateway
    /// callback arrived after a later one had settled the payment.
    bool repeated{false};
    /// The shipment a shipment command concerned (for a merge: the one that
    /// holds the merged goods; for a reship: the new one).
    std::optional<shipment_id> shipment{};
    /// That shipment's state after the command.
    std::optional<orderly::shipment_state> shipment_status{};
    /// The stock transfer a transfer command concerned.
    std::optional<transfer_id> transfer{};
    /// The after-sales ticket a ticket command concerned.
    std::optional<ticket_id> ticket{};
    /// That ticket's state after the command.
    std::optional<ticket_state> ticket_status{};
    /// The exception case a case command concerned.
    std::optional<case_id> case_ref{};

    /// Outcomes are equal when every field is.
    friend bool operator==(const command_outcome&, const command_outcome&) = default;
};

}  // namespace orderly
