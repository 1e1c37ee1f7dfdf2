// Finding our own case references (TT-YYYY-NNNN) in what arrives: subjects, and the Message-IDs
// of our letters quoted inside bounces and auto-replies. Plain linear scans: no std::regex over
// mail text, whose recursion overflows the stack on long input (DECISIONS.md "Poison messages").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tilskudd {

// The first "TT-dddd-dddd..dddddd" in `text` (case-insensitive) that is not preceded by a letter
// or digit and not followed by a digit, upper-cased ("tt-2026-0042" -> "TT-2026-0042").
std::optional<std::string> find_case_ref(std::string_view text);

// The case reference in the first of our own Message-IDs in `text`:
// "tilskudd.TT-dddd-dddd..dddddd.<kind>.<n>@", kind lower-case letters and '_', n digits.
std::optional<std::string> find_case_ref_in_message_id(std::string_view text);

}  // namespace tilskudd
