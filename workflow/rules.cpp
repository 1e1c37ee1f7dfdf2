// The municipality's rules (docs/RULES.md "The routine"; DECISIONS.md "Per line", "Case status",
// "Rounds"). Pure: the form, the letters, the year's config and the received date in; a decision
// out. Reasons for the applicant are bokmål; flag reasons are English.
#include "workflow/rules.h"

#include <algorithm>
#include <set>
#include <utility>

#include "parsers/amount.h"
#include "parsers/ids.h"
#include "parsers/text.h"
#include "workflow/flags.h"
#include "workflow/outgoing.h"

namespace tilskudd::rules {

namespace {

std::string programme_name_nb(Programme p) {
  switch (p) {
    case Programme::ABLU:
      return "ABLU";
    case Programme::BLU_DELTID:
      return "barnehagelærerutdanning deltid";
    default:
      return "annen utdanning";
  }
}

// "ABLU og barnehagelærerutdanning deltid", "ABLU", "A, B og C".
std::string join_nb(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += (i + 1 == items.size()) ? " og " : ", ";
    s += items[i];
  }
  return s;
}

// "bare ABLU og barnehagelærerutdanning deltid støttes", or that none is, for a reason.
std::string supported_nb(const std::vector<Programme>& programmes, int year) {
  std::vector<std::string> names;
  for (Programme p : programmes) names.push_back(programme_name_nb(p));
  return names.empty() ? "kommunen støtter ingen utdanninger i " + std::to_string(year)
                       : "bare " + join_nb(names) + " støttes";
}

// " (brev datert 10. juni 2020)": the settling letter, for the explanation of a line.
std::string letter_basis(const std::vector<Letter>& letters, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= letters.size()) return "";
  const Letter& l = letters[static_cast<std::size_t>(index)];
  if (!l.date) return " (brev uten dato)";
  return " (brev datert " + outgoing::format_date_nb(l.date->iso()) + ")";
}

LineDecision flagged(LineDecision d, std::vector<Flag> flags, int year) {
  d.outcome = Outcome::flagged;
  d.amount = 0;
  d.reason_code = flags.empty() ? "flagged" : flags.front().code;
  d.reason = flag_letter_text(d.reason_code, year);
  d.flags = std::move(flags);
  return d;
}

}  // namespace

// Rule 6 (DECISIONS.md "Rounds").
std::optional<Round> round_for(const std::map<int, config::Year>& years, Date received) {
  auto first_round = [](int key, const config::Year& y) -> std::optional<Round> {
    if (y.deadlines.empty()) return std::nullopt;
    return Round{y.deadlines.front(), key, 1};
  };
  if (years.empty()) return std::nullopt;
  // Before the first configured year's first deadline: that first round.
  const auto& [first_key, first_year] = *years.begin();
  if (!first_year.deadlines.empty() && received <= first_year.deadlines.front()) {
    return first_round(first_key, first_year);
  }
  // Within the received year: the first deadline on or after the date.
  auto it = years.find(received.year);
  if (it == years.end()) return std::nullopt;  // that year's rounds are not configured
  std::vector<Date> deadlines = it->second.deadlines;
  std::sort(deadlines.begin(), deadlines.end());
  for (std::size_t i = 0; i < deadlines.size(); ++i) {
    if (received <= deadlines[i]) return Round{deadlines[i], it->first, static_cast<int>(i) + 1};
  }
  // After the year's last deadline: the next year's first round, when configured.
  auto next = years.find(received.year + 1);
  if (next == years.end()) return std::nullopt;
  return first_round(next->first, next->second);
}

// Rule 1.
bool programme_eligible(const config::Year& year, Programme programme) {
  if (programme == Programme::OTHER) return false;
  return std::find(year.programmes.begin(), year.programmes.end(), programme) !=
         year.programmes.end();
}

// Rule 2.
std::vector<Flag> roster_check(const config::Year& year, const FormLine& line,
                               const std::string& org_number) {
  const std::string y = std::to_string(year.year);
  if (!year.roster) {
    return {make_flag(FlagCode::no_roster, "no roster of ongoing students is configured for " + y +
                                               ", so " + line.employee +
                                               " cannot be confirmed as an ongoing student")};
  }
  const std::string key = text::name_key(line.employee);
  const std::string org = digits_only(org_number);
  std::vector<const config::RosterEntry*> matches;
  for (const auto& e : *year.roster) {
    if (text::name_key(e.employee) == key) matches.push_back(&e);
  }
  if (matches.empty()) {
    return {make_flag(FlagCode::not_on_roster, line.employee + " is not on the " + y +
                                                   " roster of employees in ongoing education")};
  }
  auto org_ok = [&](const config::RosterEntry* e) {
    return e->org_number.empty() || e->org_number == org;
  };
  auto prog_ok = [&](const config::RosterEntry* e) { return e->programme == line.programme; };
  for (const auto* e : matches) {
    if (org_ok(e) && prog_ok(e)) return {};
  }
  std::vector<Flag> flags;
  const bool any_prog = std::any_of(matches.begin(), matches.end(), prog_ok);
  const bool any_org = std::any_of(matches.begin(), matches.end(), org_ok);
  if (any_prog || !any_org) {
    const auto* e =
        *std::find_if(matches.begin(), matches.end(), [&](const auto* m) { return !org_ok(m); });
    flags.push_back(make_flag(FlagCode::roster_org_mismatch,
                              line.employee + " is on the " + y +
                                  " roster for organisation number " + e->org_number + ", not " +
                                  (org.empty() ? "(none given)" : org)));
  }
  if (!any_prog) {
    flags.push_back(make_flag(FlagCode::roster_programme_mismatch,
                              line.employee + " is on the " + y + " roster for " +
                                  std::string(enum_name(matches.front()->programme)) +
                                  ", but the form says " + std::string(enum_name(line.programme)) +
                                  " ('" + line.programme_text + "')"));
  }
  return flags;
}

// Rule 2 with rule 1: the roster is data (DECISIONS.md "Config").
const config::RosterEntry* roster_programme_not_eligible(const config::Year& year,
                                                         const FormLine& line,
                                                         const std::string& org_number) {
  if (!year.roster) return nullptr;
  const std::string key = text::name_key(line.employee);
  const std::string org = digits_only(org_number);
  const config::RosterEntry* found = nullptr;
  for (const auto& e : *year.roster) {
    if (text::name_key(e.employee) != key) continue;
    if (!e.org_number.empty() && e.org_number != org) continue;
    if (programme_eligible(year, e.programme)) return nullptr;
    if (!found) found = &e;
  }
  return found;
}

// Rule 4.
Kroner amount_when_state_granted(const config::Year& year, Kroner cost, Kroner state_grant) {
  Kroner rest = std::max<Kroner>(0, cost - state_grant);
  if (year.cap_per_student_when_state_granted) {
    rest = std::min(rest, std::max<Kroner>(0, *year.cap_per_student_when_state_granted));
  }
  return rest;
}

bool counts_toward_cap(std::string_view reason_code, StateStatus state_status) {
  return reason_code == kCapReasonCode ||
         (reason_code == kAdminApprovedCode && state_status != StateStatus::granted);
}

std::string ledger_kind(std::string_view reason_code, StateStatus state_status) {
  return std::string(counts_toward_cap(reason_code, state_status) ? kCapReasonCode : reason_code);
}

// Rule 5.
Kroner amount_when_state_rejected(const config::Year& year, Kroner cost, Kroner already_granted) {
  Kroner cap = year.cap_per_student_when_state_rejected.value_or(0);
  Kroner left = std::max<Kroner>(0, cap - std::max<Kroner>(0, already_granted));
  return std::max<Kroner>(0, std::min(cost, left));
}

std::string missing_letter_text(const std::string& employee) {
  return "Tildelingsbrev eller avslagsbrev fra Statsforvalteren for " + employee;
}

CaseStatus case_status(const std::vector<Outcome>& lines, const std::vector<Flag>& holding) {
  auto any = [&](Outcome o) { return std::find(lines.begin(), lines.end(), o) != lines.end(); };
  if (lines.empty() || any(Outcome::flagged) || any_blocking(holding)) return CaseStatus::flagged;
  if (any(Outcome::pending)) return CaseStatus::needs_documentation;
  return CaseStatus::decided;
}

std::vector<Outcome> outcomes(const std::vector<LineDecision>& lines) {
  std::vector<Outcome> out;
  out.reserve(lines.size());
  for (const auto& l : lines) out.push_back(l.outcome);
  return out;
}

Decision decide(const Form& form, const std::vector<Letter>& letters,
                const std::map<int, config::Year>& years, Date received, const PriorGrants& prior,
                Budget* budget) {
  Decision d;
  d.round = round_for(years, received);
  std::vector<Flag> case_flags;

  // Case-level checks (DECISIONS.md "Flags").
  if (!form.found) {
    case_flags.push_back(make_flag(FlagCode::form_not_found,
                                   "no application form was found in the body or in "
                                   "any attachment"));
  } else {
    if (form.lines.empty()) {
      case_flags.push_back(make_flag(FlagCode::no_employee_lines,
                                     "the form was found, but no employee line could be read"));
    }
    if (!valid_org_number(form.org_number)) {
      case_flags.push_back(make_flag(
          FlagCode::invalid_org_number,
          form.org_number.empty() ? std::string("the form gives no organisation number")
                                  : "organisation number '" + form.org_number +
                                        "' is not 9 digits with a valid mod-11 check digit"));
    }
    if (!valid_account_number(form.account_number)) {
      case_flags.push_back(make_flag(
          FlagCode::invalid_account_number,
          form.account_number.empty() ? std::string("the form gives no account number")
                                      : "account number '" + form.account_number +
                                            "' is not 11 digits with a valid mod-11 check digit"));
    }
  }
  UniqueFlags unreadable(case_flags);
  for (const auto& row : form.unreadable_rows)
    unreadable.add(make_flag(FlagCode::unreadable_line, row));
  if (!d.round) {
    case_flags.push_back(
        make_flag(FlagCode::no_rules_for_year,
                  "no configured year has a payout round for the received date " + received.iso()));
  }

  const config::Year* year = d.round ? &years.at(d.round->year) : nullptr;
  const int year_no = d.round ? d.round->year : received.year;
  std::vector<LineEvidence> evidence = match_evidence(form, letters, budget);
  std::map<std::string, int> name_count;
  for (const auto& l : form.lines) ++name_count[text::name_key(l.employee)];

  for (std::size_t i = 0; i < form.lines.size(); ++i) {
    const FormLine& line = form.lines[i];
    LineDecision ld;
    ld.employee = line.employee;

    if (!year) {
      d.lines.push_back(flagged(std::move(ld), {case_flags.back()}, year_no));
      continue;
    }

    // 1. Programme (rule 1): no documentation needed to say no.
    if (!programme_eligible(*year, line.programme)) {
      std::string what = text::collapse_spaces(line.programme_text);
      if (what.empty()) what = "ikke oppgitt";
      ld.outcome = Outcome::rejected;
      ld.reason_code = "programme_not_eligible";
      ld.reason = "Utdanningen (" + what +
                  ") gir ikke rett til tilretteleggingstilskudd fra kommunen; " +
                  supported_nb(year->programmes, year_no) + " (regel 1).";
      d.lines.push_back(std::move(ld));
      continue;
    }

    // 2. Roster of ongoing students (rule 2). The roster names the employee's ongoing
    // education only in a programme the year does not support: not eligible, as rule 1.
    if (const auto* e = roster_programme_not_eligible(*year, line, form.org_number)) {
      ld.outcome = Outcome::rejected;
      ld.reason_code = "roster_programme_not_eligible";
      ld.reason = "Kommunens liste over ansatte i pågående utdanning for " +
                  std::to_string(year_no) + " oppgir at den ansatte tar " +
                  text::collapse_spaces(e->programme_text) +
                  ", som ikke gir rett til tilretteleggingstilskudd fra kommunen; " +
                  supported_nb(year->programmes, year_no) + " (regel 1 og 2).";
      d.lines.push_back(std::move(ld));
      continue;
    }
    if (auto flags = roster_check(*year, line, form.org_number); !flags.empty()) {
      d.lines.push_back(flagged(std::move(ld), std::move(flags), year_no));
      continue;
    }

    // 3. The same employee twice in one form.
    if (name_count[text::name_key(line.employee)] > 1) {
      d.lines.push_back(
          flagged(std::move(ld),
                  {make_flag(FlagCode::duplicate_line,
                             line.employee + " appears on more than one line of the form")},
                  year_no));
      continue;
    }

    // 4. Cost. A cost of 0 is treated as missing: there is nothing to cover, and it is most
    // likely a typing slip a person should look at.
    if (!line.cost || *line.cost <= 0) {
      d.lines.push_back(
          flagged(std::move(ld),
                  {make_flag(FlagCode::missing_cost, "the cost for " + line.employee +
                                                         " is missing or unreadable ('" +
                                                         line.cost_text + "')")},
                  year_no));
      continue;
    }
    const Kroner cost = *line.cost;

    // 5. Evidence (rule 3).
    const LineEvidence& ev = evidence[i];
    if (!ev.flags.empty()) {
      d.lines.push_back(flagged(std::move(ld), ev.flags, year_no));
      continue;
    }
    if (ev.status == StateStatus::unknown) {
      if (ev.unreadable_letter) {
        std::string names;
        for (const auto& l : letters) {
          if (!l.readable) names += (names.empty() ? "'" : ", '") + l.filename + "'";
        }
        d.lines.push_back(
            flagged(std::move(ld),
                    {make_flag(FlagCode::unreadable_letter,
                               "the state's answer for " + line.employee +
                                   " is in no readable letter; unreadable letter(s) " + names +
                                   " may hold it")},
                    year_no));
      } else {
        ld.outcome = Outcome::pending;
        ld.reason_code = "documentation_missing";
        ld.reason =
            "Vi mangler tildelingsbrev eller avslagsbrev fra Statsforvalteren for denne ansatte.";
        d.lines.push_back(std::move(ld));
      }
      continue;
    }

    // 6. State granted (rule 4).
    if (ev.status == StateStatus::granted) {
      const Kroner grant = ev.grant.value_or(0);  // evidence flags amount_unconfirmed otherwise
      const Kroner amount = amount_when_state_granted(*year, cost, grant);
      const Kroner rest = std::max<Kroner>(0, cost - grant);
      // The facts and the rule (forvaltningsloven 2025 § 11: the letter explains each line).
      const std::string granted_text = "Statsforvalteren har innvilget " + format_kr_prefix(grant) +
                                       letter_basis(letters, ev.letter);
      if (amount > 0) {
        ld.outcome = Outcome::approved;
        ld.amount = amount;
        ld.reason_code = "state_granted_remainder";
        ld.reason =
            granted_text + ". Kostnaden er " + format_kr_prefix(cost) +
            (amount == rest
                 ? ", og kommunen dekker resten: " + format_kr_prefix(amount)
                 : ", og resten er " + format_kr_prefix(rest) + "; kommunen dekker inntil " +
                       format_kr_prefix(*year->cap_per_student_when_state_granted) +
                       " per student: " + format_kr_prefix(amount)) +
            " (regel 4).";
      } else {
        ld.outcome = Outcome::rejected;
        ld.reason_code = "state_covers_cost";
        ld.reason = rest == 0 ? granted_text + ", som dekker hele kostnaden på " +
                                    format_kr_prefix(cost) +
                                    "; kommunen gir derfor ikke tilskudd (regel 4)."
                              : granted_text + ". Kostnaden er " + format_kr_prefix(cost) +
                                    "; kommunen dekker ikke resten av kostnaden i " +
                                    std::to_string(year_no) + " (regel 4).";
      }
      d.lines.push_back(std::move(ld));
      continue;
    }

    // 7. State rejected (rule 5): the yearly cap per student, across applications and rounds.
    if (!year->cap_per_student_when_state_rejected) {
      // The config loader requires the cap; a Year without it has no rule 5 to apply.
      d.lines.push_back(flagged(std::move(ld),
                                {make_flag(FlagCode::no_rules_for_year,
                                           "the year " + std::to_string(year_no) +
                                               " sets no cap_per_student_when_state_rejected")},
                                year_no));
      continue;
    }
    const Kroner cap = *year->cap_per_student_when_state_rejected;
    Kroner already = 0;
    if (auto it = prior.find(text::name_key(line.employee)); it != prior.end()) {
      already = it->second;
    }
    const Kroner amount = amount_when_state_rejected(*year, cost, already);
    const std::string rejected_text =
        "Statsforvalteren har gitt avslag" + letter_basis(letters, ev.letter);
    if (amount > 0) {
      ld.outcome = Outcome::approved;
      ld.amount = amount;
      ld.reason_code = std::string(kCapReasonCode);
      ld.reason = rejected_text + ". Kostnaden er " + format_kr_prefix(cost) +
                  ", og kommunen dekker inntil " + format_kr_prefix(cap) + " per student per år";
      if (already > 0) {
        ld.reason += ". Den ansatte har allerede fått " + format_kr_prefix(already) + " i " +
                     std::to_string(year_no) + ", så tilskuddet blir " + format_kr_prefix(amount);
      } else {
        ld.reason += ": " + format_kr_prefix(amount);
      }
      ld.reason += " (regel 5).";
    } else {
      ld.outcome = Outcome::rejected;
      ld.reason_code = "cap_exhausted";
      ld.reason = rejected_text + ", og den ansatte har allerede fått kommunens tak på " +
                  format_kr_prefix(cap) + " for " + std::to_string(year_no) + " (regel 5).";
    }
    d.lines.push_back(std::move(ld));
  }

  // Flags: case flags, then every line's flags, each (code, reason) once.
  UniqueFlags all(d.flags);
  for (const auto& f : case_flags) all.add(f);
  for (const auto& l : d.lines) {
    for (const auto& f : l.flags) all.add(f);
  }
  for (const auto& l : d.lines) {
    if (l.outcome == Outcome::approved) d.total += l.amount;
  }

  d.status = case_status(outcomes(d.lines), d.flags);
  if (d.status == CaseStatus::needs_documentation) {
    for (const auto& l : d.lines) {
      if (l.outcome == Outcome::pending) {
        d.missing_documentation.push_back(missing_letter_text(l.employee));
      }
    }
  }
  return d;
}

}  // namespace tilskudd::rules
