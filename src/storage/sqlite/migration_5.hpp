#pragma once
// The part of schema version 5's migration that SQL alone cannot do: it
// rewrites stored bodies with the codec, inside the migration's write
// transaction (schema.cpp runs it after version 5's DDL).

#include "connection.hpp"

namespace orderly::detail::sqlite {

// Brings the bodies of a version-4 file to what version 5 keeps:
// - a shipment stored as lost or returned whose exceptions record a reship
//   or refund remedy becomes resolved (state column and body; it keeps no
//   deadline, as a final state);
// - every order (live or archived) whose payments hold refunded money and
//   whose body has no refund ledger gets its ledger rebuilt from its
//   tickets' refunds, its parcels' refunds and compensations, and what is
//   left of the refunded money (a cancellation when the order was cancelled,
//   a manual refund spread over its lines otherwise), oldest first, so that
//   sum(payments.refunded) equals the ledger's entries except compensations.
// A body that does not decode fails the migration (errc::storage_failure).
[[nodiscard]] result<void> rewrite_bodies_for_version_5(connection& c);

}  // namespace orderly::detail::sqlite
