// The flags registry: every flag code the daemon raises, in one table (flags.cpp), with its
// level, whether it blocks an automatic decision, the bokmål text a letter uses and the English
// text for administrators. Code names flags by `FlagCode`; the string code is what the store,
// the JSON and the logs carry. docs/DECISIONS.md "Flags" is checked against this table by
// tests/unit/flags_test.cpp. Adding a flag: one enum value, one row, and its use.
//
// The parsers raise no flags: they report what they could not read (e.g. Form::unreadable_rows)
// and the workflow turns that into a flag, so the policy stays in this layer (DECISIONS.md).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "parsers/types.h"

namespace tilskudd {

enum class FlagCode {
  malformed_mime,
  form_not_found,
  no_employee_lines,
  unreadable_line,
  invalid_org_number,
  invalid_account_number,
  multiple_case_numbers,
  no_rules_for_year,
  unreadable_letter,
  limit_exceeded,
  sender_unauthenticated,
  sender_domain_mismatch,
  over_auto_limit,
  audit_sample,
  sender_unverified,
  duplicate,
  processing_failed,
  foreign_reply,
  competing_application,
  changed_by_reply,
  already_approved_in_round,
  over_yearly_cap,
  not_on_roster,
  no_roster,
  roster_org_mismatch,
  roster_programme_mismatch,
  missing_cost,
  duplicate_line,
  amount_mismatch,
  amount_unconfirmed,
  state_status_mismatch,
  letter_unverified,
  hidden_text,
  alternatives_disagree,
  multiple_from,
};

// What a flag is about: the whole case, one employee line, or one attached letter.
enum class FlagLevel { case_level, line, letter };
std::string_view flag_level_name(FlagLevel l);  // "case", "line", "letter"

struct FlagInfo {
  FlagCode code;
  std::string_view name;  // the stable code: "amount_mismatch"
  FlagLevel level;
  bool blocking;  // holds the case for a person (false: reported, but a decision may go ahead)
  // Bokmål, the reason a line held by this flag gets in letters; "{year}" is the rules' year.
  // flag_letter_text adds the sentence that a saksbehandler looks at it.
  std::string_view letter_nb;
  // English, for `cases show` when a stored flag has no reason of its own (older cases).
  std::string_view admin_en;
};

// Every row, in the order of the enum.
std::span<const FlagInfo> flag_table();
const FlagInfo& flag_info(FlagCode c);

std::string_view flag_code(FlagCode c);  // "amount_mismatch"
std::optional<FlagCode> parse_flag_code(std::string_view code);

Flag make_flag(FlagCode c, std::string reason);
bool is_flag(const Flag& f, FlagCode c);

// Whether a stored code holds a case for a person. A code the registry does not know blocks.
bool flag_blocks(std::string_view code);
bool any_blocking(const std::vector<Flag>& flags);

// Adds flags to a list, each (code, reason) once, in constant time each: a search of the list per
// flag made a message with thousands of line flags quadratic (DECISIONS.md "Bounded work per
// message"). The list must not be changed otherwise while this adds to it.
class UniqueFlags {
 public:
  explicit UniqueFlags(std::vector<Flag>& flags);
  void add(const Flag& f);

 private:
  std::vector<Flag>& flags_;
  std::unordered_set<std::string> seen_;
};

// The bokmål reason for a line held by `code` (with the year's number filled in); a code the
// registry does not know gets the general text.
std::string flag_letter_text(std::string_view code, int year);

// The English text for an administrator; "see the case's message" for an unknown code.
std::string_view flag_admin_text(std::string_view code);

}  // namespace tilskudd
