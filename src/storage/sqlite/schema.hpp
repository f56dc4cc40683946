#pragma once
// SqliteStore's schema and its migrations, by PRAGMA user_version.

#include "connection.hpp"

namespace orderly::detail::sqlite {

// Brings the database to sqlite_store::schema_version in one write
// transaction: creates it when empty, runs every migration after its
// current version, refuses a newer one. Safe when several processes open
// the same file at once: the first migrates, the others find it done.
[[nodiscard]] result<void> migrate(connection& c);

// The database's user_version.
[[nodiscard]] result<int> schema_version_of(connection& c);

}  // namespace orderly::detail::sqlite
