// Letters from Statsforvalteren (until 2021 Fylkesmannen): grant (tildelingsbrev) or
// rejection (avslagsbrev), from the text of a PDF or of a forwarded message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/budget.h"
#include "parsers/enum_names.h"
#include "parsers/types.h"

namespace tilskudd {

enum class LetterKind { grant, rejection, unknown };
inline constexpr EnumName<LetterKind> kLetterKindNames[] = {{LetterKind::grant, "grant"},
                                                            {LetterKind::rejection, "rejection"},
                                                            {LetterKind::unknown, "unknown"}};
constexpr std::span<const EnumName<LetterKind>> enum_table(LetterKind) {
  return kLetterKindNames;
}

// What the letter says about one employee it names.
struct LetterEntry {
  std::string employee;  // as given to parse_letter (the form's spelling)
  LetterKind kind = LetterKind::unknown;
  std::optional<Kroner> amount;
  // Why the letter's own numbers leave this entry's amount in doubt, "" when they do not: the
  // names were listed under one sentence ("... for følgende ansatte:") and the letter's total
  // ("Til sammen kr 100 000") is not the sum of their amounts. The evidence raises
  // amount_unconfirmed with it (DECISIONS.md "Letters that list names").
  std::string amount_doubt = {};
};

// The applicant as the form names it, for finding it in a letter.
struct LetterParty {
  std::string owner;       // "Solsikken Barnehage AS"
  std::string org_number;  // digits ("987654321"); spaces are ignored
};

struct Letter {
  std::string filename;  // attachment filename, or "" for a forwarded message / body text
  std::string source;    // "pdf", "docx", "text", "forwarded", "body", "image"
  LetterKind kind = LetterKind::unknown;
  std::vector<Kroner> amounts;       // money amounts found, in order
  std::string sender;                // "Statsforvalteren i Oslo og Viken", "Fylkesmannen i ...", ""
  std::optional<Date> date;          // the letter's date
  std::string reference;             // "Vår ref.: 2020/12345" -> "2020/12345"
  std::vector<LetterEntry> entries;  // per employee named in the letter
  bool readable = true;              // false: no text (scan, encrypted, broken)
  // Whether the letter names the applicant given to parse_letter: its organisation number
  // (as 9 digits, or 3+3+3 with spaces or dots), or the owner's name (compared by
  // text::name_key, with or without the company form "AS", "SA", ...).
  bool names_org_number = false;
  bool names_owner = false;
  // Set by the workflow (rules::verify_letter, DECISIONS.md "What counts as the state's
  // letter"): the checks this letter failed, in English ("no sender", ...). A letter with any
  // settles nothing.
  std::vector<std::string> failed_checks;
  std::vector<Flag> flags;
  // Set when the letter was not read because of a work limit (DECISIONS.md "Bounded work per
  // message"): its text is over max_letter_text_bytes, or the message's CPU budget ran out while
  // it was read. Such a letter is not readable and settles nothing.
  std::optional<LimitHit> limit;

  bool verified() const { return failed_checks.empty(); }
};

// The work one letter may cost ([limits] in the config).
struct LetterLimits {
  std::size_t max_text_bytes = 256 * 1024;  // max_letter_text_bytes
  Budget* budget = nullptr;                 // message_cpu_seconds, checked per line and unit
};

// Classifies a letter's text: rejection wording (avslag, avslått, ikke innvilget, kan ikke
// innvilge) beats grant wording (tildel*, innvilg*, tilsagn) only where it is the decision; a
// receipt ("bekreftelse på mottatt søknad") is unknown. `employees` are the form's names; a
// letter naming several employees gets one entry each with its own kind and amount.
// `applicant` is looked for in the letter (names_org_number, names_owner). A text over
// `limits.max_text_bytes`, or a budget spent while reading, gives an unreadable letter with
// Letter::limit set; a letter is never read in part.
Letter parse_letter(std::string_view text, const std::vector<std::string>& employees,
                    const LetterParty& applicant = {}, const LetterLimits& limits = {});

// For tests (tests/unit/letter_test.cpp): where each of `employees` is named in `lower_text` (one
// sentence, lower-case), as parse_letter finds them in one pass: (byte offset, index into
// `employees`), sorted. `find_employee_names_one_by_one` finds the same one name at a time (the
// reference the one-pass index must agree with; quadratic, never used on mail).
std::vector<std::pair<std::size_t, std::size_t>> find_employee_names(
    const std::vector<std::string>& employees, std::string_view lower_text);
std::vector<std::pair<std::size_t, std::size_t>> find_employee_names_one_by_one(
    const std::vector<std::string>& employees, std::string_view lower_text);

// True when the text reads as correspondence from the state about this grant (sender named,
// or grant/rejection wording about tilretteleggingsmidler), not the application form. Of a text
// over `limits.max_text_bytes` only that many bytes are looked at (parse_letter then refuses it
// as over the limit); with the budget spent the answer is true, so that parse_letter reports it.
bool looks_like_letter(std::string_view text, const LetterLimits& limits = {});

}  // namespace tilskudd
