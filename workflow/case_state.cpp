#include "workflow/case_state.h"

#include <algorithm>
#include <array>

namespace tilskudd {

namespace {

using S = CaseState;

// Every legal edge. Anything not listed is refused by the store (and nothing is written).
// Deliberately absent:
// - anything -> received: `received` is only the state a case is created in.
// - decided -> flagged/needs_documentation: once decided the decision letter is queued (and the
//   outbox refuses a second decision for a case); a wrong decision is corrected by appeal
//   (klage), handled outside the daemon, not by silently reopening the case.
// - decision_sent -> paid: payment only follows scheduling into a round, so that finance's
//   batch is the one record of what is paid when.
// - decided/decision_sent/scheduled/paid self-loops: nothing about such a case changes by
//   re-assessment.
// A case whose decision grants nothing (total 0) simply stays in decision_sent.
constexpr std::array kTransitions{
    CaseTransition{S::received, S::needs_documentation,
                   "assessed: a line waits for the state's grant or rejection letter (rule 3)"},
    CaseTransition{S::received, S::flagged,
                   "assessed: a blocking flag or a flagged line needs a saksbehandler"},
    CaseTransition{S::received, S::decided, "assessed: every line decided automatically"},
    CaseTransition{S::needs_documentation, S::needs_documentation,
                   "a reminder was sent, or a merged reply still lacks the letter"},
    CaseTransition{S::needs_documentation, S::flagged,
                   "a merged reply contradicts the form, or reminders ran out without an answer"},
    CaseTransition{S::needs_documentation, S::decided,
                   "a merged reply settled every line (or a saksbehandler decided)"},
    CaseTransition{S::flagged, S::flagged,
                   "re-assessed after a merged reply or an admin note: still needs a person"},
    CaseTransition{S::flagged, S::needs_documentation,
                   "a saksbehandler asked the applicant for documentation"},
    CaseTransition{S::flagged, S::decided, "a saksbehandler decided the case"},
    CaseTransition{S::decided, S::decision_sent, "the decision letter was accepted for delivery"},
    CaseTransition{S::decision_sent, S::scheduled, "the grant was put into its payout round"},
    CaseTransition{S::scheduled, S::paid, "finance paid the grant"},
};

}  // namespace

std::span<const CaseTransition> case_transitions() {
  return kTransitions;
}

bool can_transition(CaseState from, CaseState to) {
  return std::any_of(kTransitions.begin(), kTransitions.end(),
                     [&](const CaseTransition& t) { return t.from == from && t.to == to; });
}

bool is_final(CaseState s) {
  return std::none_of(kTransitions.begin(), kTransitions.end(),
                      [&](const CaseTransition& t) { return t.from == s; });
}

std::optional<CaseState> state_for(rules::CaseStatus status) {
  switch (status) {
    case rules::CaseStatus::decided:
      return CaseState::decided;
    case rules::CaseStatus::needs_documentation:
      return CaseState::needs_documentation;
    case rules::CaseStatus::flagged:
      return CaseState::flagged;
    case rules::CaseStatus::ignored:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tilskudd
