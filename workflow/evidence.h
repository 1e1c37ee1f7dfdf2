// Form versus letters: what the attached letters establish about the state's answer for each
// employee line, and where they contradict the applicant's claim.
#pragma once

#include <optional>
#include <vector>

#include "parsers/form.h"
#include "parsers/letter.h"
#include "parsers/types.h"

namespace tilskudd::rules {

struct LineEvidence {
  // What the letters establish: granted (with the amount when they give one), rejected, or
  // unknown (no letter covers this line, or none settles it).
  StateStatus status = StateStatus::unknown;
  std::optional<Kroner> grant;
  int letter = -1;  // index of the settling letter in the input, -1 when none
  // An unreadable letter (scan, encrypted, broken) might have covered this line.
  bool unreadable_letter = false;
  // Contradictions with the form, e.g. amount_mismatch (form 40 000, letter 35 000),
  // state_status_mismatch (form says granted, letter is a rejection).
  std::vector<Flag> flags;
};

// One result per form line, in order. A letter that names an employee applies to that line; a
// letter naming nobody applies to every line when it is the only decisive letter, or is matched
// by amount when several lines claim a grant.
std::vector<LineEvidence> match_evidence(const Form& form, const std::vector<Letter>& letters);

}  // namespace tilskudd::rules
