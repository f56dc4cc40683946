#pragma once
// How SqliteStore turns an order, a shipment, an after-sales ticket, an
// exception case (and a notification's details) into the JSON text of a
// column and back. A body holds every field of its order, shipment, ticket or
// case, so a row decodes from its body alone; the orders, shipments, tickets
// and cases tables repeat a few fields as columns for indexes and host
// queries. A shipment's tracking history, and a ticket's return parcel's, is
// stored as its raw carrier events and the label's creation time, and rebuilt
// on reading (rebuild_tracking_history), so the derived `superseded` and
// `state_after` are never stored and always agree with the tracking machine.
// Enumerations are written as their stable numbers, money as its exact text
// ("12.50 CNY"), time as Unix milliseconds. A body that does not decode is
// reported as errc::storage_failure naming the order, shipment, ticket or
// case: the file was changed outside orderly.

#include <orderly/aftersales/ticket.hpp>
#include <orderly/core/error.hpp>
#include <orderly/fulfilment/shipment.hpp>
#include <orderly/ops/exception_case.hpp>
#include <orderly/order/order.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderly::detail::sqlite {

using detail_pairs = std::vector<std::pair<std::string, std::string>>;

// Appends the order's JSON body to `out` (cleared first).
void encode_order(const order& o, std::string& out);
// An order body without the "shipments" key (schema version 1) decodes
// with no shipments; one without "tickets" and "rating" (versions 1 and 2)
// with no tickets and no rating; one without "refunds" (versions 1 to 4)
// with an empty refund ledger (schema version 5's migration rebuilds the
// ledger of every order that had refunded money).
[[nodiscard]] result<order> decode_order(std::string_view body);

// Appends the shipment's JSON body to `out` (cleared first).
void encode_shipment(const shipment& s, std::string& out);
// A shipment body without the "ticket" key (schema version 2) decodes with
// no ticket.
[[nodiscard]] result<shipment> decode_shipment(std::string_view body);

// Appends the ticket's JSON body to `out` (cleared first).
void encode_ticket(const ticket& t, std::string& out);
// A ticket line without the "refused" key (schema versions 3 and 4) decodes
// with no units refused.
[[nodiscard]] result<ticket> decode_ticket(std::string_view body);

// Appends the exception case's JSON body to `out` (cleared first): every
// field of exception_case. The reader refuses a body with a key missing,
// added or out of order.
void encode_case(const exception_case& c, std::string& out);
[[nodiscard]] result<exception_case> decode_case(std::string_view body);

void encode_details(const detail_pairs& details, std::string& out);
[[nodiscard]] result<detail_pairs> decode_details(std::string_view text);

// Checks a stored enumeration number against its range.
template <class Enum>
[[nodiscard]] result<Enum> enum_from(std::int64_t value, Enum last, std::string_view field) {
    if (value < 1 || value > static_cast<std::int64_t>(last)) {
        return error{errc::storage_failure, std::string(field),
                     "holds " + std::to_string(value) + ", which is not a known value"};
    }
    return static_cast<Enum>(value);
}

// Money from its stored text.
[[nodiscard]] result<money> money_from(std::string_view text, std::string_view field);

}  // namespace orderly::detail::sqlite
