#pragma once
// A string in double quotes with the escapes JSON and TOML basic strings
// share: \" \\ \b \t \n \f \r, and \u00XX for every other control
// character (and DEL). Used by the status board's JSON and the settings
// file's TOML writer.

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace orderly::detail {

inline void append_quoted(std::string& out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default: {
                const auto u = static_cast<unsigned char>(c);
                if (u < 0x20U || u == 0x7fU) {
                    out += fmt::format("\\u{:04X}", static_cast<unsigned>(u));
                } else {
                    out += c;
                }
            }
        }
    }
    out += '"';
}

}  // namespace orderly::detail
