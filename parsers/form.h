// The application form (docs/CONTRACT.md §1) from text: the mail body, a .txt, or the text of a
// PDF/DOCX/HTML attachment.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/budget.h"
#include "parsers/enum_names.h"
#include "parsers/types.h"

namespace tilskudd {

enum class Programme { ABLU, BLU_DELTID, OTHER };
inline constexpr EnumName<Programme> kProgrammeNames[] = {
    {Programme::ABLU, "ABLU"}, {Programme::BLU_DELTID, "BLU_DELTID"}, {Programme::OTHER, "OTHER"}};
constexpr std::span<const EnumName<Programme>> enum_table(Programme) {
  return kProgrammeNames;
}
// "ABLU", "Arbeidsplassbasert barnehagelærerutdanning", "BLU deltid",
// "Barnehagelærerutdanning – deltid", a code itself ... -> the code; anything else OTHER.
Programme parse_programme(std::string_view text);

// The applicant's claim about the state's answer for one line (the form's last column).
enum class StateStatus { granted, rejected, unknown };
inline constexpr EnumName<StateStatus> kStateStatusNames[] = {{StateStatus::granted, "granted"},
                                                              {StateStatus::rejected, "rejected"},
                                                              {StateStatus::unknown, "unknown"}};
constexpr std::span<const EnumName<StateStatus>> enum_table(StateStatus) {
  return kStateStatusNames;
}

struct FormLine {
  std::string employee;
  std::string programme_text;  // as written
  Programme programme = Programme::OTHER;
  std::string study_place;
  std::optional<Kroner> cost;  // nullopt when missing or unreadable
  std::string cost_text;       // as written
  // Amount -> granted (0 -> rejected); "avslag"/"avslått" -> rejected; empty, "ikke mottatt",
  // "søkt", "venter" -> unknown.
  StateStatus state_status = StateStatus::unknown;
  std::optional<Kroner> state_grant;  // set when granted
  std::string state_text;             // as written
};

struct Form {
  bool found = false;        // the text is recognisably the form (labels and/or the employee table)
  std::string owner;         // Barnehageeier
  std::string org_number;    // digits only, as written (validation is the rules' job)
  std::string kindergarten;  // Barnehage
  std::string contact;       // Kontaktperson
  std::string contact_email;   // E-post
  std::string account_number;  // digits only
  std::string reference;       // Deres referanse
  std::string case_number;     // Saksnummer field, as written
  std::vector<FormLine> lines;
  // The table rows that could not be read as employee lines, each with why: "row 3 (line 12): no
  // employee name". The rules raise a flag for each (workflow/flags: unreadable_line).
  std::vector<std::string> unreadable_rows;
  // Set when reading stopped at a work limit (DECISIONS.md "Bounded work per message"): the form
  // was not read to its end, and nothing may be decided on what was read.
  std::optional<LimitHit> limit;
};

// The work one form may cost ([limits] in the config).
struct FormLimits {
  std::size_t max_lines = 200;  // max_form_lines: table rows (employee lines, readable or not)
  Budget* budget = nullptr;     // message_cpu_seconds, checked per line; nullptr: none
};

// Parses labelled fields (any case, with or without colon, "Org.nr.", "Navn på ansatt"...) and
// the employee table (columns split by '|', ';', tabs or runs of 2+ spaces as pdftotext -layout
// writes them; header row optional when the column order is the form's). Stops at the first limit
// of `limits` it reaches and says so in Form::limit.
Form parse_form(std::string_view text, const FormLimits& limits = {});

// What two readings of a form disagree on, in what decides a case: "form" (one found, the other
// not), "organisation number", "account number", "contact e-mail", "owner", "lines" (the
// employees, their programmes, costs and state answers, in any order). Empty when they agree.
std::vector<std::string> form_differences(const Form& a, const Form& b);

}  // namespace tilskudd
