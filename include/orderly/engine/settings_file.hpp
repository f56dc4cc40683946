#pragma once
/// \file
/// The engine's settings read from and written to a TOML file.
///
/// The file is the subset of TOML the settings need: `# comments`, blank
/// lines, `[section]` headers (review, fulfilment, after_sales, outbox,
/// operations, settlement) and
/// `key = value` lines whose keys are the member names of orderly::settings
/// (`payment_timeout`, `[after_sales] response_time`, or the dotted form
/// `after_sales.response_time` before any header). Values are integers,
/// `true`/`false`, "strings" (basic, with TOML escapes, or 'literal') and
/// arrays `[ ... ]` of those, which may span lines and end with a comma.
/// Durations are strings with one unit, "250ms", "5s", "30m", "48h" or "7d";
/// money is a string as money::parse reads it, "100.00 CNY"; notification
/// kinds and customers are strings ("tracking_update", "c-1"); a rate is a
/// string as rate::parse reads it ("0.055", "1/3"), a rounding mode its name
/// ("half_even"), and a category rate the string "category=rate"
/// ("books=0.055", split at the last '='), since inline tables are not read.
/// Every key is
/// optional and keeps its default when absent. docs/SETTINGS.md lists every
/// key with its type, default and meaning; examples/settings/orderly.toml is
/// a complete sample.

#include <orderly/core/error.hpp>
#include <orderly/engine/settings.hpp>

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace orderly {

/// Every key parse_settings accepts, as its full dotted name
/// ("payment_timeout", "after_sales.response_time"), in the order
/// to_settings_text writes them: top-level keys first, then the sections
/// review, fulfilment, after_sales, outbox, operations and settlement.
[[nodiscard]] std::span<const std::string_view> settings_keys() noexcept;

/// Reads settings from TOML text: starts from the defaults of
/// orderly::settings, applies every key the text gives, then checks the
/// result with validate(). Refusals, each message naming the line:
/// - a line that is not TOML the reader knows (a missing `=`, an unquoted
///   string, an unterminated string or array, text after a value): malformed,
///   field "line N";
/// - an unknown key: invalid_value, field the full dotted key
///   ("after_sales.respons_time"), suggesting the closest known key when one
///   is close; an unknown section: invalid_value, field the section name;
/// - a key or section given twice: invalid_value, field the key or section;
/// - a value of the wrong type or out of range for its member (a negative
///   duration, a node beyond `unsigned`, money that does not parse, a
///   currency listed twice in one money list, an unknown notification kind,
///   a customer id parse_id refuses, a rate or rounding mode that does not
///   parse, a category rate without '='): invalid_value, field the dotted key,
///   the message saying what was expected;
/// - whatever validate() refuses, with validate's field (and the line of the
///   key when the text set it); the settlement rules' refusals come under
///   "settlement." ("settlement.category_rates[1].category").
[[nodiscard]] result<settings> parse_settings(std::string_view text);

/// Reads the file at `file` and parses it as parse_settings does. A missing
/// file is not_found and one that cannot be read (a directory, no
/// permission, a read error) storage_failure, both with field "file"; a
/// parse error keeps its code and field, its message prefixed with the path.
[[nodiscard]] result<settings> load_settings(const std::filesystem::path& file);

/// Writes `s` as a settings file, every key present with its value, so that
/// parse_settings(to_settings_text(s)) gives settings equal to `s` whenever
/// validate(s) accepts them, no money list names a currency twice and every
/// integer fits TOML's 64-bit integers. Durations are written in the largest
/// unit that holds them exactly ("90m", "2h", "7d").
[[nodiscard]] std::string to_settings_text(const settings& s);

}  // namespace orderly
