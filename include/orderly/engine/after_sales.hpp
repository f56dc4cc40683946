#pragma once
/// \file
/// The requests of the engine's after-sales commands (R-24…R-27); the
/// ticket itself is in orderly/aftersales/ticket.hpp.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/logistics/tracking.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace orderly {

/// Units of one order line a new ticket claims.
struct ticket_line_request {
    std::uint32_t line{0};  ///< Index into the order's lines.
    quantity units;         ///< How many; more than zero.
    /// For an exchange: the SKU to send instead, at the same catalogue
    /// price (another size, say); empty for the same SKU.
    sku_id replacement_sku{};
};

/// A new after-sales ticket.
struct open_ticket_request {
    order_id order;                                     ///< The order it claims on.
    ticket_type type{ticket_type::return_and_refund};   ///< What the customer asks for.
    ticket_reason reason{ticket_reason::changed_mind};  ///< Why.
    std::string description;                            ///< The customer's words; up to 2000 bytes.
    std::vector<std::string> evidence;  ///< Photo/video references; up to 20, each 1 to 256 bytes.
    /// What it claims. Empty: every unit still claimable (the whole order).
    /// A line may claim at most the units delivered (for refund only: also
    /// units whose parcel was lost or sent back) less the units under the
    /// order's other tickets that were not rejected or withdrawn.
    std::vector<ticket_line_request> lines;
};

/// An agent's decision on a ticket under review (or escalated from review).
struct ticket_decision {
    ticket_id ticket;    ///< Which ticket.
    bool approve{true};  ///< Approve, or reject.
    std::string note;    ///< Why, for the timeline and the customer; up to 512 bytes.
};

/// The parcel the customer sends returned goods back with.
struct return_shipment_request {
    ticket_id ticket;             ///< Which ticket (awaiting_return).
    carrier_id carrier;           ///< The carrier the customer used.
    std::string tracking_number;  ///< Its tracking number (1 to 64 visible characters).
};

/// A carrier's tracking event on a ticket's return parcel.
struct return_event_request {
    ticket_id ticket;     ///< Which ticket.
    carrier_event event;  ///< What the carrier reported.
};

/// What inspection found for one claimed line.
struct inspection_line {
    std::uint32_t line{0};  ///< The order line (as claimed by the ticket).
    quantity sellable;      ///< Accepted, fit to sell again: back to on-hand stock.
    quantity damaged;       ///< Accepted, damaged in the seller's care: to the damaged bin.
    /// Refused (not the goods sold, or damaged by the customer): sent back
    /// to the customer, neither refunded, replaced nor repaired.
    quantity refused{};
};

/// The warehouse's inspection of returned goods: every claimed line, with
/// sellable + damaged + refused equal to the units claimed. Accepted units
/// (sellable and damaged) are refunded, replaced or repaired as the ticket
/// asks; refusing some units is a partial refund, refusing all of them
/// rejects the ticket. A refusal needs the reason in `note`.
struct inspection_request {
    ticket_id ticket;                    ///< Which ticket (goods_received).
    std::vector<inspection_line> lines;  ///< One per claimed line.
    std::string note;  ///< What the inspector saw; up to 512 bytes; required when refusing.
};

/// Repaired goods going back to the customer.
struct repair_return_request {
    ticket_id ticket;             ///< Which ticket (at_repair).
    carrier_id carrier;           ///< The carrier.
    std::string tracking_number;  ///< Its tracking number (1 to 64 visible characters).
};

/// A customer's rating of an order.
struct rating_request {
    order_id order;         ///< Which order: completed or closed.
    std::uint8_t score{0};  ///< 1 to 5.
    std::string text;       ///< Up to 2000 bytes; may be empty.
};

}  // namespace orderly
