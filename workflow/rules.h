// The municipality's rules (docs/RULES.md "The routine"), per year from the config. Pure: values
// in, a decision out. Each rule is one function below, named for it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "parsers/form.h"
#include "parsers/letter.h"
#include "parsers/types.h"
#include "workflow/evidence.h"

namespace tilskudd::rules {

enum class Outcome { approved, rejected, flagged, pending };
inline constexpr EnumName<Outcome> kOutcomeNames[] = {{Outcome::approved, "approved"},
                                                      {Outcome::rejected, "rejected"},
                                                      {Outcome::flagged, "flagged"},
                                                      {Outcome::pending, "pending"}};
constexpr std::span<const EnumName<Outcome>> enum_table(Outcome) {
  return kOutcomeNames;
}

enum class CaseStatus { decided, needs_documentation, flagged, ignored };
inline constexpr EnumName<CaseStatus> kCaseStatusNames[] = {
    {CaseStatus::decided, "decided"},
    {CaseStatus::needs_documentation, "needs_documentation"},
    {CaseStatus::flagged, "flagged"},
    {CaseStatus::ignored, "ignored"}};
constexpr std::span<const EnumName<CaseStatus>> enum_table(CaseStatus) {
  return kCaseStatusNames;
}

struct LineDecision {
  std::string employee;
  Outcome outcome = Outcome::flagged;
  Kroner amount = 0;
  std::string reason;       // bokmål, for the decision letter
  std::string reason_code;  // stable English code: state_granted_remainder, not_eligible, ...
  std::vector<Flag> flags;  // why a person must look (when flagged)
};

// Rule 6: the payout round an application falls into.
struct Round {
  Date deadline;   // the round's deadline ("2020-09-01")
  int year = 0;    // the rules' year
  int number = 0;  // 1-based within the year
};

struct Decision {
  CaseStatus status = CaseStatus::flagged;
  std::optional<Round> round;
  Kroner total = 0;
  std::vector<LineDecision> lines;
  std::vector<Flag> flags;  // case-level flags and every line's flags, each once
  // What the applicant must send (bokmål), when status is needs_documentation.
  std::vector<std::string> missing_documentation;
};

// Amounts already granted this year under the rejected-state cap, by student (text::name_key).
// The store supplies it; `inspect` passes none.
using PriorGrants = std::map<std::string, Kroner>;

// Rule 6: received on or before a deadline -> that round; after a year's last deadline -> the
// next year's first round. nullopt when no configured year has a round for the date.
std::optional<Round> round_for(const std::map<int, config::Year>& years, Date received);

// Rule 1: the programme is one the year supports.
bool programme_eligible(const config::Year& year, Programme programme);

// Rule 2: the employee is an ongoing student on the year's roster. Returns the flags that stop
// an automatic decision (not_on_roster, no_roster, roster_org_mismatch,
// roster_programme_mismatch); empty when the roster confirms the line.
std::vector<Flag> roster_check(const config::Year& year, const FormLine& line,
                               const std::string& org_number);

// Rule 2 with rule 1 (the roster is data): the roster row of this employee (for the form's
// organisation, or for any) when every such row names a programme the year does not support
// (videreutdanning, say); nullptr when a row names an eligible programme, or none matches.
const config::RosterEntry* roster_programme_not_eligible(const config::Year& year,
                                                         const FormLine& line,
                                                         const std::string& org_number);

// Rule 4: the state granted: cost minus the state grant, never below 0, capped when the year
// sets a cap.
Kroner amount_when_state_granted(const config::Year& year, Kroner cost, Kroner state_grant);

// Rule 5's yearly cap per student, decided here only (the store's ledger and cases resolve ask):
// the reason code of a line the rules approve under the cap, which is also the ledger kind of
// every grant that counts toward the cap.
inline constexpr std::string_view kCapReasonCode = "state_rejected_cap";
// The code a person's approval writes on a line (cases resolve).
inline constexpr std::string_view kAdminApprovedCode = "admin_approved";

// Whether an approved line's amount counts toward the cap: the rules' approval under the cap,
// and a person's approval of a line the state did not grant (DECISIONS.md "Administrators").
bool counts_toward_cap(std::string_view reason_code, StateStatus state_status);

// The kind the ledger records for an approved line: kCapReasonCode when it counts toward the
// cap, else its reason code.
std::string ledger_kind(std::string_view reason_code, StateStatus state_status);

// Rule 5: the state rejected: the cost up to what is left of the yearly cap per student after
// `already_granted` (across applications and rounds of that year).
Kroner amount_when_state_rejected(const config::Year& year, Kroner cost, Kroner already_granted);

// What the applicant must send (bokmål) for a line that waits for the state's letter.
std::string missing_letter_text(const std::string& employee);

// Case status (DECISIONS.md "Case status"), computed here only: flagged when a line is flagged,
// when there is no line, or when a blocking flag of `holding` holds the case for a person; else
// needs_documentation when a line waits for the state's letter; else decided. `holding` is the
// flags that may hold the case: all of them for a fresh decision, those not about a line after a
// person decided lines, none when a person's decision settles the case (cases resolve).
CaseStatus case_status(const std::vector<Outcome>& lines, const std::vector<Flag>& holding);
std::vector<Outcome> outcomes(const std::vector<LineDecision>& lines);

// All rules together (rule 3, documentation, through match_evidence). `budget` is passed to
// match_evidence; with it spent the decision must not stand (assess flags limit_exceeded).
Decision decide(const Form& form, const std::vector<Letter>& letters,
                const std::map<int, config::Year>& years, Date received,
                const PriorGrants& prior = {}, Budget* budget = nullptr);

}  // namespace tilskudd::rules
