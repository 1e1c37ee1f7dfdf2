// What a saksbehandler does with a case from the terminal, on the store: decide the lines the
// daemon could not (approve, reject), ask the applicant for documentation, send a decision
// letter again, and move the cases of a payout round through `scheduled` and `paid` (with the
// CSV finance pays from). Pure workflow: values in, values out, every action one store
// transaction; the letters go to the outbox, and the daemon sends them on its next cycle.
//
// Every refusal (unknown case, wrong state, bad line number, missing amount or note, nothing to
// resend, a malformed round) is a ResolveError with an English message for the terminal, thrown
// before anything is written. Store failures stay StoreError.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "workflow/intake.h"
#include "workflow/store.h"

namespace tilskudd {

class ResolveError : public std::runtime_error {
 public:
  enum class Kind {
    unknown_case,   // no case with that reference
    wrong_state,    // the action is not allowed in the case's state
    bad_line,       // a line number the case does not have, or no line to act on
    bad_request,    // a missing or invalid admin name, amount, note, missing text or round
    nothing_to_do,  // resend: no decision letter to send again, or it is already on its way
  };
  ResolveError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct ResolveRequest {
  enum class Action { approve, reject, ask_documentation };
  Action action = Action::approve;
  // 1-based. nullopt: every line that waits for a person (outcome flagged or pending); when no
  // line waits (a case-level flag holds the case), approve confirms the lines as the rules
  // decided them and reject rejects every line. ask_documentation takes no line.
  std::optional<int> line;
  // approve: the amount for the selected line(s), > 0 and never above a line's cost. Default:
  // the amount the rules give the line (see rules_amount); refused when that is 0.
  std::optional<Kroner> amount;
  std::string admin;  // who: a user name without spaces or control characters
  // Why. Required for reject, and for approve with an amount other than the rules'. For approve
  // and reject it becomes the line's reason in the decision letter (bokmål); without one the
  // reason is "Innvilget etter vurdering av saksbehandler.".
  std::string note;
  // ask_documentation: what the applicant must send (bokmål sentences, at least one).
  std::vector<std::string> missing;
};

std::string_view resolve_action_name(ResolveRequest::Action a);  // "approve", ...

struct ResolveResult {
  CaseRecord case_record;  // as it now is
  CaseState from = CaseState::flagged;
  std::vector<int> lines;            // the 1-based lines the action changed
  std::optional<OutboxKind> queued;  // the letter queued for the applicant, if any
  std::vector<IntakeNote> notes;     // English, for the terminal (and a log)
};

// The reasons and codes written on lines a person decided.
inline constexpr std::string_view kAdminApprovedReason =
    "Innvilget etter vurdering av saksbehandler.";
inline constexpr std::string_view kAdminRejectedReason =
    "Avslått etter vurdering av saksbehandler.";
using rules::kAdminApprovedCode;  // "admin_approved"
inline constexpr std::string_view kAdminRejectedCode = "admin_rejected";

// Carries out `request` on case `ref` (matched case-insensitively) in one transaction:
// - approve / reject (from flagged or needs_documentation): the selected lines get the outcome,
//   the amount (0 when rejected), the reason (the note, else the standard text) and the code
//   admin_approved / admin_rejected; the case's total follows. When no line waits any longer,
//   the case goes to `decided` (the store writes the ledger) and the decision letter is queued;
//   when only lines waiting for the state's letter remain, a flagged case goes to
//   needs_documentation and the documentation request naming them is queued; otherwise the case
//   keeps its state.
// - ask_documentation (from flagged): the case's `missing` becomes request.missing, the case goes
//   to needs_documentation, the documentation request is queued and the reminder set
//   ([case] reminder_days after `now`).
// Each action writes one event with actor "admin:<admin>" and the detail {action, line, amount,
// note, lines: [{line, employee_key, from, outcome, amount}], missing}. Throws ResolveError
// (nothing written) or StoreError.
ResolveResult resolve_case(Store& store, const std::string& ref, const ResolveRequest& request,
                           const IntakeSettings& settings, Timestamp now);

// The amount the rules give a line: its own amount when the rules approved it; else, for a line
// a person must look at, what rules 4 and 5 give from the form's cost and state column (cost −
// state grant; or the yearly cap left after `prior`, the student's grants this year); 0 when
// that cannot be computed (no cost, the state's answer unknown, a programme the year does not
// support, no rules for the round's year).
Kroner rules_amount(const CaseLine& line, const CaseRecord& c, const config::Config& config,
                    const rules::PriorGrants& prior);

struct ResendResult {
  CaseRecord case_record;
  OutboxItem item;  // as it now is (pending, due now)
  OutboxStatus previous = OutboxStatus::failed;
};

// The case's decision letter goes back to `pending`, due now: from `failed` or `uncertain`, or
// from `sent` (the applicant lost it). The same bytes and the same Message-ID go out again, so
// the applicant's side can recognise it as the same decision. Refused (ResolveError) for an
// unknown case, a case without a decision letter, or one that is pending or being sent.
ResendResult resend_decision(Store& store, const std::string& ref, const std::string& admin,
                             Timestamp now);

// ---- payout rounds (a round is its deadline, "2026-12-01": the cases' `round`) ---------------

// A case of the round whose payout waits for a person's review (integrity::payout_hold).
struct PayoutHold {
  std::string ref;
  std::string reason;  // English: what arrived, and when
};

struct PayoutExport {
  int cases = 0;          // cases in the CSV
  int rows = 0;           // lines in the CSV (without the header)
  Kroner total = 0;       // sum of the rows' amounts
  int not_scheduled = 0;  // of `cases`, how many are still decision_sent
  // Cases of the round whose decision is not sent yet (received, needs_documentation, flagged,
  // decided): they are not in the CSV.
  std::vector<std::string> not_ready;
  // Cases of the round with a sent decision whose payout is held for a person (a message after
  // the decision, a competing application, a foreign reply): not in the CSV until released.
  std::vector<PayoutHold> held;
};

// Writes the round's payouts as RFC 4180 CSV (UTF-8 without BOM, CRLF line ends): the header
// `ref,owner,org_number,account_number,employee,programme,amount,case_total`, then one row per
// approved line with an amount > 0 of every case of the round in decision_sent or scheduled with
// a total > 0, in case order then line order; nothing else. Amounts are whole kroner without
// separators. A field with a comma, quote, CR or LF is quoted (quotes doubled); a text field
// that a spreadsheet would take for a formula (starting with = + - @ TAB CR) gets a leading
// apostrophe. Reads only. Throws ResolveError for a malformed round.
PayoutExport payout_export(Store& store, const std::string& round, std::ostream& csv);

struct PayoutChange {
  std::vector<std::string> changed;  // refs moved now
  int already = 0;                   // cases of the round already in the target state
  // Cases of the round with something to pay that the step leaves alone because they are not
  // ready for it (schedule: decision not sent yet; mark-paid: not scheduled yet). Refs.
  std::vector<std::string> waiting;
  int nothing_to_pay = 0;  // decision sent, but the decision grants nothing: never paid
  // schedule: cases held for a person, left out (they stay decision_sent). mark-paid: scheduled
  // cases that became held since; they are recorded as paid (finance paid them: a fact), and
  // the command warns that a person must still read what arrived.
  std::vector<PayoutHold> held;
};

// decision_sent -> scheduled for the round's cases with a total > 0 (a case that grants nothing
// stays decision_sent). One transaction; a second call changes nothing and says so (`already`).
PayoutChange payout_schedule(Store& store, const std::string& round, const std::string& admin,
                             Timestamp now);

// scheduled -> paid for the round's cases. One transaction; idempotent like payout_schedule.
PayoutChange payout_mark_paid(Store& store, const std::string& round, const std::string& admin,
                              Timestamp now);

// Why the case's payout is held for a person, or nullopt (integrity::payout_hold on its events).
std::optional<std::string> payout_hold(Store& store, const CaseRecord& c);

// `cases release REF --by NAME --note TEXT`: a person read what holds the payout and lets it go
// (an admin event {"action": "release_payout", "note": ...}). Refused (ResolveError) for an
// unknown case, an empty note, or a case whose payout is not held (nothing_to_do). Returns the
// reason that held it.
std::string release_payout(Store& store, const std::string& ref, const std::string& admin,
                           const std::string& note, Timestamp now);

// ---- for intake ------------------------------------------------------------------------------

// A line a person decided, as the latest resolve event for that student records it.
struct AdminLineDecision {
  std::string employee_key;
  rules::Outcome outcome = rules::Outcome::approved;  // approved or rejected
  Kroner amount = 0;
  std::string reason;
  std::string reason_code;
};

// The person's line decisions in a case's events (the latest per student), so that a
// re-assessment (a reply joining the case) can keep them instead of replacing them.
std::vector<AdminLineDecision> admin_line_decisions(const std::vector<CaseEvent>& events);

}  // namespace tilskudd
