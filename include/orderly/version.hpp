#pragma once
/// \file
/// The library's version, at compile time and at run time.

#include <string_view>

/// Major version: changes when the API or stored formats break.
#define ORDERLY_VERSION_MAJOR 0
/// Minor version: changes when features are added compatibly.
#define ORDERLY_VERSION_MINOR 1
/// Patch version: changes for fixes only.
#define ORDERLY_VERSION_PATCH 0

namespace orderly {

/// The version of the orderly library the program was linked against, as
/// "major.minor.patch"; may differ from the headers' when linked as a shared
/// library.
[[nodiscard]] std::string_view version() noexcept;

}  // namespace orderly
