// Who may change a case, and the money invariants (DECISIONS.md "Who may change a case", "The
// money ledger"). Intake asks before a message joins a case and before a case is decided;
// cases resolve asks before a person's approval.
//
// - A message joins a case only when its sender is the case's contact: the same address
//   (case-insensitive, normalised), or a sender our receiving host authenticated
//   (Assessment::sender_authenticated, from workflow/sender_check) whose domain is the contact's
//   organisation domain. Otherwise it becomes a case of its own (foreign_reply,
//   competing_application), linked to the other case by an event on each.
// - A reply from the contact that would change the owner, organisation number, account number,
//   contact e-mail or the lines (form_changes) changes nothing by itself: the case keeps its
//   values, is flagged changed_by_reply, and the proposed values are stored in an event.
// - A student is approved at most once per round, and rule 5's yearly cap holds across every
//   case of the year (money_problems, read from the ledger).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/form.h"
#include "workflow/flags.h"
#include "workflow/store.h"

namespace tilskudd::integrity {

// "Kari.Nordmann@Solsikken.NO " -> "kari.nordmann@solsikken.no" (angle brackets and spaces
// dropped, the domain as sender::address_domain gives it). "" when there is no '@'.
std::string normalise_address(std::string_view address);

// Whether `from` may change a case whose contact addresses are `contacts`: the same normalised
// address, or an authenticated sender of the same organisation domain.
bool is_contact(const std::vector<std::string>& contacts, std::string_view from,
                bool authenticated);

// One field a reply would change: "owner", "org_number", "account_number", "contact_email",
// "lines". Values as the person compares them (lines: one "name | programme | cost" per line).
struct FieldChange {
  std::string field;
  std::string old_value;
  std::string new_value;
};

// What `reply` (a message's own form) would change in `current` (the case's form so far). A
// field the reply leaves empty changes nothing; numbers compare by their digits, names and
// addresses case-insensitively. The state column and the letters are answers, not changes.
std::vector<FieldChange> form_changes(const Form& current, const Form& reply);

nlohmann::json changes_json(const std::vector<FieldChange>& changes);
std::vector<FieldChange> changes_from_json(const nlohmann::json& j);

// Event details that tie two cases together for a person: {"linked_case": ref, "link": code}.
// Written on both cases (link_cases); read back by `cases show` (links).
struct CaseLink {
  std::string ref;   // the other case
  std::string code;  // foreign_reply, competing_application
  std::string at;
};
void link_cases(Store& store, const CaseRecord& a, const CaseRecord& b, FlagCode why,
                const std::string& actor, Timestamp now);
std::vector<CaseLink> links(const std::vector<CaseEvent>& events);

// What holds a case's payout for a person (DECISIONS.md "Payout holds"): an event that records
// a message received after the decision (detail "holds_payout": true) or a link to another case
// (detail "link": foreign_reply, competing_application), with no person's review after it. A
// review is an admin's resolve (approve, reject, ask_documentation) or release_payout; other
// admin steps (schedule, resend) are not. Returns the unreviewed events' reasons ("; "-joined,
// oldest first, each with its time), or nullopt when nothing holds the payout.
std::optional<std::string> payout_hold(const std::vector<CaseEvent>& events);

// The detail key that marks an event as holding the payout until a person's review.
inline constexpr const char* kHoldsPayout = "holds_payout";

// The proposed values of the case's changed_by_reply events, latest first per message.
struct ProposedChange {
  std::int64_t message_row = 0;
  std::string at;
  std::vector<FieldChange> changes;
};
std::vector<ProposedChange> proposed_changes(const std::vector<CaseEvent>& events);

// An approved line as the money invariants see it.
struct MoneyLine {
  std::string employee_key;  // text::name_key
  Kroner amount = 0;
  bool counts_toward_cap = false;  // rules::counts_toward_cap
};

// A line that would break an invariant if the case were decided now.
struct MoneyProblem {
  std::size_t index = 0;  // into the lines given
  FlagCode code = FlagCode::already_approved_in_round;
  std::string reason;  // English, names the other case or the cap left
};

// The ledger against the lines of case `case_id` (nullopt: a case not yet created) in `round`
// (the deadline, "2020-09-01") of rules' year `year`: a student with an approval in another case
// of the same round (already_approved_in_round); a student whose counted amounts this year,
// with this case's, exceed the cap (over_yearly_cap). Lines with amount 0 are not checked.
std::vector<MoneyProblem> money_problems(Store& store, std::optional<std::int64_t> case_id,
                                         const std::string& round, int year,
                                         const config::Config& config,
                                         const std::vector<MoneyLine>& lines);

}  // namespace tilskudd::integrity
