// Inline forwards: where a message forwarded in the body starts, and what its header block
// says (DECISIONS.md "What counts as the state's letter"). Pure, line by line, no regex.
//
// Recognised (plain text, and HTML after html_to_text, where Thunderbird's header table becomes
// "Emne: | value" rows):
//  - Gmail:       "---------- Forwarded message ---------" / "---------- Videresendt melding
//                 ---------" then From/Fra, Date/Dato, Subject/Emne, To/Til.
//  - Thunderbird: "-------- Forwarded Message --------" / "-------- Videresendt melding --------"
//                 then Subject/Emne, Date/Dato, From/Fra, To/Til.
//  - Apple Mail:  "Begin forwarded message:" / "Begynnelse på videresendt e-post:", then the
//                 header lines, in text/plain often quoted with "> ".
//  - Outlook:     a rule line ("________________________________", in HTML a border that leaves
//                 nothing) then From/Fra, Sent/Sendt, To/Til, (Cc/Kopi), Subject/Emne; the
//                 header block is recognised without the rule. Old Outlook: "-----Original
//                 Message-----" / "-----Opprinnelig melding-----".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/types.h"

namespace tilskudd::forward {

struct Inline {
  bool found = false;
  std::size_t marker = 0;    // offset in the text where the forward starts (its marker line, or
                             // its header block when it has no marker)
  std::string client;        // "gmail", "thunderbird", "apple", "outlook", "outlook-original"
                             // (a best guess from the marker; for logs and tests)
  std::string from;          // the From/Fra value as written; "" when the block has none
  std::string from_address;  // the one address in it, lower-case; "" when none or several
  std::string date;          // the Date/Dato/Sent/Sendt value as written
  std::optional<Date> date_value;  // that date, when it reads as one
  std::string subject;             // Subject/Emne
  std::string text;                // the forward from its marker on, quote marks ("> ") removed
};

// The first inline forward in `text` (LF line ends); `found` false when there is none.
// Reads at most `max_bytes` of the text for the marker.
Inline find_inline(std::string_view text, std::size_t max_bytes = 4u << 20);

// A forward header's date as the clients write it: RFC 5322 ("Tue, 30 Jun 2020 11:04:00
// +0200"), Norwegian ("tir. 30. jun. 2020 kl. 11:04", "tirsdag 30. juni 2020 11:04",
// "30.06.2020 11:04") and English month-first ("Tuesday, June 30, 2020 11:04 AM",
// "Tue, Jun 30, 2020 at 11:04 AM").
std::optional<Date> header_date(std::string_view value);

}  // namespace tilskudd::forward
