// A saksbehandler's actions on cases and payout rounds. See resolve.h.
#include "workflow/resolve.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "parsers/amount.h"
#include "parsers/text.h"
#include "workflow/flags.h"
#include "workflow/integrity.h"

namespace tilskudd {

namespace {

using nlohmann::json;
using Action = ResolveRequest::Action;

// Longest note or missing item we accept: a letter's reason is a sentence or two, not a page.
constexpr std::size_t kMaxText = 2000;
constexpr std::size_t kMaxAdmin = 64;

// The rules' item in `missing` for a line that waits for the state's letter: a person deciding
// the line removes it; a line left waiting keeps (or gets) it.
using rules::missing_letter_text;

std::string normalise_ref(std::string_view ref) {
  std::string s(text::trim(ref));
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

[[noreturn]] void refuse(ResolveError::Kind kind, const std::string& what) {
  throw ResolveError(kind, what);
}

// A user name for "admin:<name>": printable, no white space, bounded.
void check_admin(const std::string& admin) {
  using K = ResolveError::Kind;
  if (admin.empty()) refuse(K::bad_request, "who acts must be given (--by NAME)");
  if (admin.size() > kMaxAdmin)
    refuse(K::bad_request, "the admin name is longer than " + std::to_string(kMaxAdmin) + " bytes");
  if (text::sanitize_utf8(admin) != admin)
    refuse(K::bad_request, "the admin name is not valid UTF-8");
  for (unsigned char ch : admin) {
    if (ch <= 0x20 || ch == 0x7F)
      refuse(K::bad_request, "the admin name must not contain spaces or control characters");
  }
}

// Trimmed free text (a note, a missing item); refused when too long or not UTF-8.
std::string clean_text(const std::string& s, const std::string& what) {
  std::string t(text::trim(s));
  if (t.size() > kMaxText)
    refuse(ResolveError::Kind::bad_request,
           what + " is longer than " + std::to_string(kMaxText) + " bytes");
  if (text::sanitize_utf8(t) != t)
    refuse(ResolveError::Kind::bad_request, what + " is not valid UTF-8");
  return t;
}

bool waits(const CaseLine& l) {
  return l.outcome == rules::Outcome::flagged || l.outcome == rules::Outcome::pending;
}

// The form as the store keeps it (write_lines' mapping, backwards). Only the lines matter:
// update_decision keeps the case's owner, numbers and reference when the form's are empty.
Form form_of(const std::vector<CaseLine>& lines) {
  Form f;
  f.found = true;
  for (const CaseLine& l : lines) {
    FormLine fl;
    fl.employee = l.employee;
    fl.programme = l.programme;
    fl.programme_text = enum_name(l.programme);
    fl.cost = l.cost;
    fl.state_status = l.state_status;
    fl.state_grant = l.state_grant;
    f.lines.push_back(std::move(fl));
  }
  return f;
}

rules::Decision decision_of(const CaseRecord& c, const std::vector<CaseLine>& lines,
                            CaseState target, const std::vector<std::string>& missing) {
  rules::Decision d;
  d.status = target == CaseState::decided               ? rules::CaseStatus::decided
             : target == CaseState::needs_documentation ? rules::CaseStatus::needs_documentation
                                                        : rules::CaseStatus::flagged;
  if (auto deadline = Date::from_iso(c.round); deadline && !c.round.empty()) {
    d.round = rules::Round{*deadline, c.round_year, c.round_number};
  }
  for (const CaseLine& l : lines) {
    rules::LineDecision ld;
    ld.employee = l.employee;
    ld.outcome = l.outcome;
    ld.amount = l.amount;
    ld.reason = l.reason;
    ld.reason_code = l.reason_code;
    if (ld.outcome == rules::Outcome::approved) d.total += ld.amount;
    d.lines.push_back(std::move(ld));
  }
  d.missing_documentation = missing;
  d.flags = c.flags;
  return d;
}

// Why rules_amount gave 0, for the refusal.
std::string why_no_amount(const CaseLine& l, const CaseRecord& c, const config::Config& cfg) {
  auto year = cfg.years.find(c.round_year);
  if (year == cfg.years.end()) return "no rules are configured for the round's year";
  if (!l.cost) return "the line has no cost";
  if (!rules::programme_eligible(year->second, l.programme)) return "the programme is not eligible";
  if (l.state_status == StateStatus::granted && !l.state_grant)
    return "the state's grant has no amount";
  if (l.state_status == StateStatus::unknown) return "the state's answer is unknown";
  return "the rules give 0 kr";
}

std::string line_label(const CaseLine& l) {
  return "line " + std::to_string(l.idx + 1) + " (" + l.employee + ")";
}

std::string lines_text(const std::vector<int>& lines) {
  std::string s = lines.size() == 1 ? "line " : "lines ";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    s += (i == 0 ? "" : ", ") + std::to_string(lines[i]);
  }
  return s;
}

// The case's flags after a person decided `decided_codes` lines: a line flag whose code no
// waiting line carries any more is settled. Case-level flags stay (they are history, and the
// admin view shows them only while the case is flagged).
std::vector<Flag> remaining_flags(const std::vector<Flag>& flags,
                                  const std::set<std::string>& decided_codes,
                                  const std::vector<CaseLine>& lines) {
  std::set<std::string> waiting_codes;
  for (const CaseLine& l : lines) {
    if (waits(l)) waiting_codes.insert(l.reason_code);
  }
  std::vector<Flag> out;
  for (const Flag& f : flags) {
    if (decided_codes.count(f.code) && !waiting_codes.count(f.code)) continue;
    out.push_back(f);
  }
  return out;
}

// Queues one letter of the case, as intake does. Returns whether it was queued.
bool queue_letter(Store& store, const CaseRecord& c, OutboxKind kind, const IntakeSettings& s,
                  const std::string& actor, Timestamp now, std::vector<IntakeNote>& notes) {
  const std::string what(enum_name(kind));
  if (c.contact_email.empty()) {
    notes.push_back(
        {c.ref, true,
         "no e-mail address to send the " + what + " to; a person must contact the applicant"});
    store.events().add_event(c.id, actor, "no recipient for " + what, now);
    return false;
  }
  OutboxItem item = make_letter(store, c, kind, s, now);
  EnqueueResult r = store.outbox().enqueue_outbox(item, now);
  if (r.inserted) notes.push_back({c.ref, false, "queued " + what});
  return r.inserted;
}

CaseRecord find_or_refuse(Store& store, const std::string& ref) {
  auto c = store.cases().find_case_by_ref(normalise_ref(ref));
  if (!c)
    refuse(ResolveError::Kind::unknown_case, "no case with ref " + std::string(text::trim(ref)));
  return *c;
}

json line_json(const CaseLine& before, const CaseLine& after) {
  return {{"line", after.idx + 1},
          {"employee_key", after.employee_key},
          {"from", enum_name(before.outcome)},
          {"outcome", enum_name(after.outcome)},
          {"amount", after.amount},
          {"reason", after.reason},
          {"reason_code", after.reason_code}};
}

ResolveResult approve_or_reject(Store& store, CaseRecord c, const ResolveRequest& r,
                                const std::string& note, const IntakeSettings& s, Timestamp now) {
  using K = ResolveError::Kind;
  const bool approve = r.action == Action::approve;
  const std::string verb = approve ? "approve" : "reject";
  const std::string actor = "admin:" + r.admin;
  if (c.state != CaseState::flagged && c.state != CaseState::needs_documentation) {
    std::string why = "case " + c.ref + " is " + std::string(enum_name(c.state)) +
                      ": only a flagged case or one waiting for documentation can be decided";
    if (c.state != CaseState::received)
      why += " (a decision that was made is changed by appeal, outside tilskudd)";
    refuse(K::wrong_state, why);
  }
  if (c.lines.empty())
    refuse(K::bad_line, "case " + c.ref + " has no employee lines to " + verb +
                            "; read the application (tilskudd cases show " + c.ref + ")");
  if (!approve && r.amount) refuse(K::bad_request, "an amount goes with approve, not reject");
  if (r.amount && *r.amount <= 0)
    refuse(K::bad_request, "the amount must be more than 0 kr (to grant nothing, reject the line)");
  if (!approve && note.empty())
    refuse(K::bad_request,
           "a rejection needs a note saying why (--note, in bokmål: the applicant "
           "reads it in the decision)");

  // Which lines.
  std::vector<std::size_t> selected;
  bool confirm = false;  // approve with nothing waiting: the rules' lines as they are
  if (r.line) {
    if (*r.line < 1 || static_cast<std::size_t>(*r.line) > c.lines.size())
      refuse(K::bad_line, "case " + c.ref + " has " + std::to_string(c.lines.size()) +
                              (c.lines.size() == 1 ? " line" : " lines") + "; there is no line " +
                              std::to_string(*r.line));
    selected.push_back(static_cast<std::size_t>(*r.line - 1));
  } else {
    for (std::size_t i = 0; i < c.lines.size(); ++i) {
      if (waits(c.lines[i])) selected.push_back(i);
    }
    if (selected.empty()) {
      if (approve) {
        confirm = true;
      } else {
        for (std::size_t i = 0; i < c.lines.size(); ++i) selected.push_back(i);
      }
    }
  }
  if (confirm && r.amount)
    refuse(K::bad_line, "no line of case " + c.ref +
                            " waits for a person; name the line whose amount you set (--line N)");

  // The student's grants this year under the rejected-state cap, as the rules count them:
  // the ledger, plus this case's other approved state-rejected lines.
  rules::PriorGrants prior;
  if (approve && c.round_year != 0) prior = store.ledger().prior_grants(c.round_year);
  const std::set<std::size_t> chosen(selected.begin(), selected.end());
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    const CaseLine& l = c.lines[i];
    if (!chosen.count(i) && l.outcome == rules::Outcome::approved &&
        rules::counts_toward_cap(l.reason_code, l.state_status))
      prior[l.employee_key] += l.amount;
  }

  std::vector<CaseLine> lines = c.lines;
  std::vector<int> changed;
  std::set<std::string> decided_codes;
  json detail_lines = json::array();
  for (std::size_t i : selected) {
    const CaseLine before = c.lines[i];
    CaseLine& l = lines[i];
    if (approve) {
      const Kroner by_rules = rules_amount(before, c, *s.config, prior);
      const Kroner amount = r.amount.value_or(by_rules);
      if (amount <= 0)
        refuse(K::bad_request, line_label(before) + ": " + why_no_amount(before, c, *s.config) +
                                   "; give the amount (--amount N) and say why (--note)");
      if (before.cost && amount > *before.cost)
        refuse(K::bad_request, line_label(before) + ": " + format_kr_suffix(amount) +
                                   " is more than the line's cost, " +
                                   format_kr_suffix(*before.cost));
      if (amount != by_rules && note.empty())
        refuse(K::bad_request, line_label(before) + ": " + format_kr_suffix(amount) +
                                   " differs from the " + format_kr_suffix(by_rules) +
                                   " the rules give; say why (--note, in bokmål: "
                                   "the applicant reads it in the decision)");
      l.outcome = rules::Outcome::approved;
      l.amount = amount;
      l.reason = note.empty() ? std::string(kAdminApprovedReason) : note;
      l.reason_code = std::string(kAdminApprovedCode);
      if (rules::counts_toward_cap(l.reason_code, l.state_status)) prior[l.employee_key] += amount;
    } else {
      l.outcome = rules::Outcome::rejected;
      l.amount = 0;
      l.reason = note.empty() ? std::string(kAdminRejectedReason) : note;
      l.reason_code = std::string(kAdminRejectedCode);
    }
    changed.push_back(static_cast<int>(i) + 1);
    decided_codes.insert(before.reason_code);
    detail_lines.push_back(line_json(before, l));
  }

  // Where the case goes: the lines decide, as for a fresh decision, except that a person's
  // decision settles the case-level flags; while a line still waits for a person the case
  // stays where it is.
  std::vector<rules::Outcome> outcomes;
  for (const CaseLine& l : lines) outcomes.push_back(l.outcome);
  const rules::CaseStatus status = rules::case_status(outcomes, {});
  const CaseState to =
      status == rules::CaseStatus::flagged ? c.state : state_for(status).value_or(c.state);

  // The money invariants (DECISIONS.md "The money ledger"): a person's action never pays a
  // student twice in a round, nor over the yearly cap: not by an approval, and not by deciding
  // a case whose other lines the rules approved before another case took the money.
  if (approve || to == CaseState::decided) {
    std::vector<integrity::MoneyLine> money;
    for (const CaseLine& l : lines) {
      money.push_back({l.employee_key, l.outcome == rules::Outcome::approved ? l.amount : 0,
                       rules::counts_toward_cap(l.reason_code, l.state_status)});
    }
    const auto problems =
        integrity::money_problems(store, c.id, c.round, c.round_year, *s.config, money);
    if (!problems.empty())
      refuse(K::bad_request, "case " + c.ref + ": " + problems.front().reason +
                                 (problems.front().code == FlagCode::over_yearly_cap
                                      ? " (give a smaller --amount, or reject the line)"
                                      : " (reject the line)"));
  }

  // What the applicant still owes: nothing once decided; else the letters of the lines that
  // still wait for one (the decided lines' items go).
  std::vector<std::string> missing;
  if (to != CaseState::decided) {
    std::set<std::string> settled;
    for (int n : changed) settled.insert(missing_letter_text(lines[n - 1].employee));
    for (const std::string& m : c.missing) {
      if (!settled.count(m)) missing.push_back(m);
    }
    if (to == CaseState::needs_documentation) {
      for (const CaseLine& l : lines) {
        std::string m = missing_letter_text(l.employee);
        if (l.outcome == rules::Outcome::pending &&
            std::find(missing.begin(), missing.end(), m) == missing.end())
          missing.push_back(m);
      }
    }
  }

  json detail = {{"action", verb},
                 {"line", r.line ? json(*r.line) : json(nullptr)},
                 {"amount", r.amount ? json(*r.amount) : json(nullptr)},
                 {"note", note},
                 {"lines", detail_lines}};
  std::string reason;
  if (confirm) {
    reason = "admin confirmed the rules' decision of every line";
    detail["action"] = "approve";
  } else if (!approve && !r.line && changed.size() == c.lines.size() &&
             std::none_of(c.lines.begin(), c.lines.end(), waits)) {
    reason = "admin rejected every line";
  } else {
    reason = "admin " + std::string(approve ? "approved " : "rejected ") + lines_text(changed);
  }

  if (!confirm) {
    CaseRecord updated = c;
    updated.flags = remaining_flags(c.flags, decided_codes, lines);
    store.cases().update_decision(c.id, form_of(lines), decision_of(updated, lines, to, missing),
                                  updated.flags, actor, now);
  }

  ResolveResult out;
  out.from = c.state;
  out.lines = changed;
  if (to != c.state) {
    c = store.cases().transition(c.id, to, actor, reason, now, detail);
    out.notes.push_back({c.ref, false,
                         std::string(enum_name(out.from)) + " -> " + std::string(enum_name(to)) +
                             " (" + reason + ")"});
    if (to == CaseState::decided) {
      if (queue_letter(store, c, OutboxKind::decision, s, actor, now, out.notes))
        out.queued = OutboxKind::decision;
    } else if (to == CaseState::needs_documentation) {
      if (queue_letter(store, c, OutboxKind::documentation_request, s, actor, now, out.notes))
        out.queued = OutboxKind::documentation_request;
      if (s.config->case_.reminder_days > 0)
        store.cases().set_reminder_due(c.id, now + std::chrono::days(s.config->case_.reminder_days),
                                       now);
    }
  } else {
    store.events().add_event(c.id, actor, reason, now, detail);
    out.notes.push_back({c.ref, false, reason + "; still " + std::string(enum_name(to))});
  }
  out.case_record = *store.cases().find_case(c.id);
  return out;
}

ResolveResult ask_documentation(Store& store, CaseRecord c, const ResolveRequest& r,
                                const std::string& note, const IntakeSettings& s, Timestamp now) {
  using K = ResolveError::Kind;
  const std::string actor = "admin:" + r.admin;
  if (c.state != CaseState::flagged)
    refuse(K::wrong_state,
           "case " + c.ref + " is " + std::string(enum_name(c.state)) +
               (c.state == CaseState::needs_documentation
                    ? ": it already waits for documentation"
                    : ": only a flagged case can be sent a request for documentation"));
  if (r.line)
    refuse(K::bad_request,
           "a request for documentation is about the whole case; name what is missing for "
           "each employee in the text instead of --line");
  if (r.amount) refuse(K::bad_request, "an amount goes with approve, not a request");
  std::vector<std::string> missing;
  for (const std::string& m : r.missing) {
    std::string t = clean_text(m, "a missing item");
    if (!t.empty() && std::find(missing.begin(), missing.end(), t) == missing.end())
      missing.push_back(t);
  }
  if (missing.empty())
    refuse(K::bad_request,
           "say what the applicant must send (--missing TEXT, in bokmål: the "
           "applicant reads it in the request)");
  if (c.contact_email.empty())
    refuse(K::bad_request, "case " + c.ref +
                               " has no e-mail address to send the request to; contact the "
                               "applicant another way");

  store.cases().update_decision(c.id, form_of(c.lines),
                                decision_of(c, c.lines, CaseState::needs_documentation, missing),
                                c.flags, actor, now);
  json detail = {{"action", "ask_documentation"},
                 {"line", nullptr},
                 {"amount", nullptr},
                 {"note", note},
                 {"missing", missing}};
  ResolveResult out;
  out.from = c.state;
  const std::string reason = "admin asked the applicant for documentation";
  c = store.cases().transition(c.id, CaseState::needs_documentation, actor, reason, now, detail);
  out.notes.push_back({c.ref, false, "flagged -> needs_documentation (" + reason + ")"});
  if (queue_letter(store, c, OutboxKind::documentation_request, s, actor, now, out.notes))
    out.queued = OutboxKind::documentation_request;
  if (s.config->case_.reminder_days > 0)
    store.cases().set_reminder_due(c.id, now + std::chrono::days(s.config->case_.reminder_days),
                                   now);
  out.case_record = *store.cases().find_case(c.id);
  return out;
}

// ---- payout --------------------------------------------------------------------------------

void check_round(const std::string& round) {
  auto d = Date::from_iso(round);
  if (round.size() != 10 || !d || !d->valid() || d->iso() != round)
    refuse(ResolveError::Kind::bad_request,
           "the round must be its deadline as a date, YYYY-MM-DD (e.g. 2026-12-01), not '" + round +
               "'");
}

// The round's cases; refused when none has it (most likely a mistyped deadline).
std::vector<CaseRecord> round_cases(Store& store, const std::string& round) {
  std::vector<CaseRecord> out;
  std::set<std::string> rounds;
  for (CaseRecord& c : store.cases().list_cases()) {
    if (!c.round.empty()) rounds.insert(c.round);
    if (c.round == round) out.push_back(std::move(c));
  }
  if (out.empty()) {
    std::string known;
    for (const std::string& r : rounds) known += (known.empty() ? "" : ", ") + r;
    refuse(ResolveError::Kind::bad_request,
           "no case belongs to round " + round +
               (known.empty() ? std::string(" (there are no cases with a round)")
                              : " (rounds with cases: " + known + ")"));
  }
  return out;
}

bool sent_or_later(CaseState s) {
  return s == CaseState::decision_sent || s == CaseState::scheduled || s == CaseState::paid;
}

// RFC 4180: quoted when it holds a comma, quote, CR or LF; text a spreadsheet would run as a
// formula gets a leading apostrophe first.
std::string csv_field(const std::string& value, bool text) {
  std::string v = value;
  if (text && !v.empty() &&
      (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char ch : v) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

PayoutChange move_round(Store& store, const std::string& round, const std::string& admin,
                        Timestamp now, CaseState from, CaseState to, const std::string& reason) {
  check_round(round);
  check_admin(admin);
  return store.transaction([&] {
    PayoutChange out;
    const std::string actor = "admin:" + admin;
    for (const CaseRecord& c : round_cases(store, round)) {
      if (c.state == to || (to == CaseState::scheduled && c.state == CaseState::paid)) {
        ++out.already;
      } else if (c.state == from && c.total > 0) {
        if (auto hold = payout_hold(store, c)) {
          out.held.push_back({c.ref, *hold});
          if (to == CaseState::scheduled) continue;
        }
        store.cases().transition(
            c.id, to, actor, reason, now,
            {{"action", to == CaseState::scheduled ? "payout_schedule" : "payout_mark_paid"},
             {"round", round},
             {"total", c.total}});
        out.changed.push_back(c.ref);
      } else if (sent_or_later(c.state) && c.total <= 0) {
        ++out.nothing_to_pay;
      } else {
        out.waiting.push_back(c.ref);
      }
    }
    return out;
  });
}

}  // namespace

std::string_view resolve_action_name(ResolveRequest::Action a) {
  switch (a) {
    case Action::approve:
      return "approve";
    case Action::reject:
      return "reject";
    case Action::ask_documentation:
      return "ask_documentation";
  }
  return "approve";
}

Kroner rules_amount(const CaseLine& l, const CaseRecord& c, const config::Config& cfg,
                    const rules::PriorGrants& prior) {
  if (l.outcome == rules::Outcome::approved && l.amount > 0) return l.amount;
  auto year = cfg.years.find(c.round_year);
  if (year == cfg.years.end() || !l.cost) return 0;
  if (!rules::programme_eligible(year->second, l.programme)) return 0;
  if (l.state_status == StateStatus::granted) {
    if (!l.state_grant) return 0;
    return rules::amount_when_state_granted(year->second, *l.cost, *l.state_grant);
  }
  if (l.state_status == StateStatus::rejected) {
    auto p = prior.find(l.employee_key);
    return rules::amount_when_state_rejected(year->second, *l.cost,
                                             p == prior.end() ? 0 : p->second);
  }
  return 0;
}

ResolveResult resolve_case(Store& store, const std::string& ref, const ResolveRequest& request,
                           const IntakeSettings& settings, Timestamp now) {
  if (!settings.config) throw std::invalid_argument("resolve_case: settings without a config");
  check_admin(request.admin);
  const std::string note = clean_text(request.note, "the note");
  return store.transaction([&] {
    CaseRecord c = find_or_refuse(store, ref);
    if (request.action == Action::ask_documentation)
      return ask_documentation(store, std::move(c), request, note, settings, now);
    return approve_or_reject(store, std::move(c), request, note, settings, now);
  });
}

ResendResult resend_decision(Store& store, const std::string& ref, const std::string& admin,
                             Timestamp now) {
  using K = ResolveError::Kind;
  check_admin(admin);
  return store.transaction([&] {
    CaseRecord c = find_or_refuse(store, ref);
    std::optional<OutboxItem> item;
    for (OutboxItem& o : store.outbox().outbox_for_case(c.id)) {
      if (o.kind == OutboxKind::decision) item = std::move(o);
    }
    if (!item)
      refuse(K::nothing_to_do, "case " + c.ref + " (" + std::string(enum_name(c.state)) +
                                   ") has no decision letter to send again");
    if (item->status == OutboxStatus::pending)
      refuse(K::nothing_to_do, "the decision letter of case " + c.ref +
                                   " is already waiting to be sent (next attempt " +
                                   item->next_attempt_at + "); the daemon sends it");
    if (item->status == OutboxStatus::sending)
      refuse(K::nothing_to_do, "the decision letter of case " + c.ref + " is being sent right now");
    ResendResult out;
    out.previous = item->status;
    store.outbox().requeue_outbox(item->id, now);
    store.events().add_event(c.id, "admin:" + admin,
                             "admin queued the decision letter again (it was " +
                                 std::string(enum_name(out.previous)) + ")",
                             now,
                             {{"action", "resend"},
                              {"outbox_id", item->id},
                              {"message_id", item->message_id},
                              {"previous_status", enum_name(out.previous)}});
    out.item = *store.outbox().outbox_item(item->id);
    out.case_record = *store.cases().find_case(c.id);
    return out;
  });
}

PayoutExport payout_export(Store& store, const std::string& round, std::ostream& csv) {
  check_round(round);
  // One read transaction: the CSV is one consistent picture of the round.
  return store.transaction([&] {
    PayoutExport out;
    std::string text =
        "ref,owner,org_number,account_number,employee,programme,amount,case_total\r\n";
    for (const CaseRecord& c : round_cases(store, round)) {
      if (!sent_or_later(c.state)) {
        out.not_ready.push_back(c.ref);
        continue;
      }
      if (c.state == CaseState::paid || c.total <= 0) continue;
      if (auto hold = payout_hold(store, c)) {
        out.held.push_back({c.ref, *hold});
        continue;
      }
      bool any = false;
      for (const CaseLine& l : c.lines) {
        if (l.outcome != rules::Outcome::approved || l.amount <= 0) continue;
        text += csv_field(c.ref, true) + ',' + csv_field(c.owner, true) + ',' +
                csv_field(c.org_number, true) + ',' + csv_field(c.account_number, true) + ',' +
                csv_field(l.employee, true) + ',' +
                csv_field(std::string(enum_name(l.programme)), true) + ',' +
                std::to_string(l.amount) + ',' + std::to_string(c.total) + "\r\n";
        ++out.rows;
        out.total += l.amount;
        any = true;
      }
      if (any) {
        ++out.cases;
        if (c.state == CaseState::decision_sent) ++out.not_scheduled;
      }
    }
    csv << text;
    return out;
  });
}

PayoutChange payout_schedule(Store& store, const std::string& round, const std::string& admin,
                             Timestamp now) {
  return move_round(store, round, admin, now, CaseState::decision_sent, CaseState::scheduled,
                    "admin put the grant into payout round " + round);
}

PayoutChange payout_mark_paid(Store& store, const std::string& round, const std::string& admin,
                              Timestamp now) {
  return move_round(store, round, admin, now, CaseState::scheduled, CaseState::paid,
                    "admin recorded that finance paid round " + round);
}

std::optional<std::string> payout_hold(Store& store, const CaseRecord& c) {
  return integrity::payout_hold(store.events().case_events(c.id));
}

std::string release_payout(Store& store, const std::string& ref, const std::string& admin,
                           const std::string& note, Timestamp now) {
  using K = ResolveError::Kind;
  check_admin(admin);
  const std::string text = clean_text(note, "the note");
  if (text.empty())
    refuse(K::bad_request, "--note is required: say what you read and checked before the payout");
  return store.transaction([&] {
    CaseRecord c = find_or_refuse(store, ref);
    std::optional<std::string> hold = payout_hold(store, c);
    if (!hold) refuse(K::nothing_to_do, "the payout of case " + c.ref + " is not held");
    store.events().add_event(c.id, "admin:" + admin, "admin released the payout: " + text, now,
                             {{"action", "release_payout"}, {"note", text}, {"held", *hold}});
    return *hold;
  });
}

std::vector<AdminLineDecision> admin_line_decisions(const std::vector<CaseEvent>& events) {
  std::map<std::string, AdminLineDecision> latest;
  std::vector<std::string> order;
  for (const CaseEvent& e : events) {
    if (e.actor.rfind("admin:", 0) != 0) continue;
    json d = json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
    if (!d.is_object()) continue;
    auto action = d.find("action");
    if (action == d.end() || !action->is_string()) continue;
    if (*action != "approve" && *action != "reject") continue;
    auto lines = d.find("lines");
    if (lines == d.end() || !lines->is_array()) continue;
    for (const json& l : *lines) {
      if (!l.is_object()) continue;
      AdminLineDecision a;
      a.employee_key = l.value("employee_key", std::string());
      const auto outcome = parse_enum<rules::Outcome>(l.value("outcome", std::string()));
      a.amount = l.value("amount", Kroner{0});
      a.reason = l.value("reason", std::string());
      a.reason_code = l.value("reason_code", std::string());
      if (a.employee_key.empty() ||
          (outcome != rules::Outcome::approved && outcome != rules::Outcome::rejected))
        continue;
      a.outcome = *outcome;
      if (!latest.count(a.employee_key)) order.push_back(a.employee_key);
      latest[a.employee_key] = std::move(a);
    }
  }
  std::vector<AdminLineDecision> out;
  for (const std::string& k : order) out.push_back(latest[k]);
  return out;
}

}  // namespace tilskudd
