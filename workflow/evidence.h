// Form versus letters: what the attached letters establish about the state's answer for each
// employee line, and where they contradict the applicant's claim.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
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

// How a letter reached us (DECISIONS.md "What counts as the state's letter").
enum class LetterChannel {
  attachment,  // a document attached to the mail (PDF, DOCX, text, HTML, image)
  forwarded,   // a forwarded e-mail (message/rfc822, or inline after a forward marker)
};

struct LetterOrigin {
  LetterChannel channel = LetterChannel::attachment;
  // forwarded: the original sender's address as the forward gives it ("" when none is given).
  std::string original_sender;
};

// Whether `address`'s domain is one of `domains` or a subdomain of one.
bool is_state_address(std::string_view address, const std::vector<std::string>& domains);

// The checks a decisive letter must pass to settle a line: it names Statsforvalteren (or
// Fylkesmannen) as its sender; it has a date, not after `received` and not more than
// max_letter_age_days before it; it names the applicant (Letter::names_org_number or
// names_owner); and it came as an attachment or forwarded from a state domain. Returns the
// failed checks in English, empty when the letter counts. A letter that decides nothing (a
// receipt, kind unknown, no decisive entry) or has no text is not checked.
std::vector<std::string> verify_letter(const Letter& letter, const LetterOrigin& origin,
                                       Date received, const Form& form,
                                       const config::Evidence& rules);

// Runs verify_letter and records the result on the letter: failed_checks, and a
// letter_unverified flag that names them.
void check_letter(Letter& letter, const LetterOrigin& origin, Date received, const Form& form,
                  const config::Evidence& rules);

// Whether the letter gives a decision (its kind, or an entry's, is grant or rejection).
bool decides_something(const Letter& letter);

// One result per form line, in order. Letters that failed verification settle nothing; a line
// they might have settled is flagged letter_unverified. A letter that names an employee applies to
// that line; a letter naming nobody applies to every line when it is the only decisive letter, or
// is matched by amount when several lines claim a grant.
// Linear in lines + entries (names are looked up by name_key in a hash map). With `budget`
// spent it stops: lines not reached yet stay unknown, and the caller (which asks the budget)
// must not decide on the result.
std::vector<LineEvidence> match_evidence(const Form& form, const std::vector<Letter>& letters,
                                         Budget* budget = nullptr);

}  // namespace tilskudd::rules
