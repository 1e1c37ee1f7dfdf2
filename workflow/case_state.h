// The life of one case (docs/RULES.md "What the daemon does with one email") as a state machine:
// pure code, no storage. The store enforces `can_transition` for every state change and writes
// an event for each. Messages that are not applications (ignored) never become cases.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "parsers/enum_names.h"
#include "workflow/rules.h"

namespace tilskudd {

enum class CaseState {
  received,             // created from a message, not yet assessed into a waiting state
  needs_documentation,  // waiting for the applicant's state letter (rule 3)
  flagged,              // waiting for a saksbehandler
  decided,              // every line decided; the decision letter is queued
  decision_sent,        // the decision letter left (SMTP accepted it)
  scheduled,            // put into a payout round
  paid,                 // finance paid it
};

// One legal edge, with why it exists.
struct CaseTransition {
  CaseState from;
  CaseState to;
  std::string_view why;
};

// The whole table, in the order of the states' lives.
std::span<const CaseTransition> case_transitions();

bool can_transition(CaseState from, CaseState to);

// No edge leaves it.
bool is_final(CaseState s);

// "received", "needs_documentation", ... (the names stored in the database).
inline constexpr EnumName<CaseState> kCaseStateNames[] = {
    {CaseState::received, "received"},
    {CaseState::needs_documentation, "needs_documentation"},
    {CaseState::flagged, "flagged"},
    {CaseState::decided, "decided"},
    {CaseState::decision_sent, "decision_sent"},
    {CaseState::scheduled, "scheduled"},
    {CaseState::paid, "paid"},
};
constexpr std::span<const EnumName<CaseState>> enum_table(CaseState) {
  return kCaseStateNames;
}

// Where an assessment sends a case: decided / needs_documentation / flagged; nullopt for
// ignored (not a case).
std::optional<CaseState> state_for(rules::CaseStatus status);

}  // namespace tilskudd
