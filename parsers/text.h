// UTF-8 text helpers shared by every parser: charset conversion, normalisation, matching.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilskudd::text {

// Converts `bytes` in `charset` (any name iconv knows; "" or unknown = guess) to valid UTF-8.
// iso-8859-1 and us-ascii are read as windows-1252, as mail clients do. Invalid sequences become
// U+FFFD; the result is always valid UTF-8.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// The iconv name for a charset label as mailers write it (lower-cased, quotes dropped, then the
// alias table: "ks_c_5601-1987" -> "CP949", "x-sjis" -> "SHIFT_JIS", "iso-8859-1" ->
// "windows-1252", ...). "" for labels that name no charset ("unknown-8bit"); other labels are
// returned lower-cased as they are.
std::string canonical_charset(std::string_view charset);

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// Replaces every invalid UTF-8 sequence with U+FFFD and drops NUL bytes.
std::string sanitize_utf8(std::string_view s);

// Lower-cases ASCII and the Latin-1 letters used in Norwegian (Æ Ø Å É ...).
std::string to_lower(std::string_view s);

// Replaces non-breaking and other Unicode spaces (U+00A0, U+2007, U+202F, U+2009) with ' ',
// en/em dashes and minus with '-', CRLF and CR with LF.
std::string normalize_spaces(std::string_view s);

// Trims ASCII whitespace (and normalised spaces) at both ends.
std::string_view trim(std::string_view s);

// Collapses runs of white space into one ' ' and trims.
std::string collapse_spaces(std::string_view s);

// Splits on '\n' (after CRLF normalisation the caller did); keeps empty lines.
std::vector<std::string_view> split_lines(std::string_view s);

// Case-insensitive (per to_lower) substring search.
bool contains_ci(std::string_view haystack, std::string_view needle);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool iequals(std::string_view a, std::string_view b);

// A key for comparing people's names: lower-case, punctuation and hyphens to spaces,
// white space collapsed. "OLA  Hansen-Berg" -> "ola hansen berg".
std::string name_key(std::string_view name);

}  // namespace tilskudd::text
