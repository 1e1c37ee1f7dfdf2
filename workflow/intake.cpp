#include "workflow/intake.h"
#include "workflow/sha256.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <set>

#include "parsers/case_ref.h"
#include "parsers/mime.h"
#include "parsers/text.h"
#include "workflow/assess.h"
#include "workflow/flags.h"
#include "workflow/integrity.h"
#include "workflow/resolve.h"

namespace tilskudd {

namespace {

Date date_of(Timestamp t) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return Date{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

// Our own case reference in a subject ("Sv: Vedtak ... TT-2026-0042").
std::optional<std::string> case_ref_in(const std::string& subject) {
  return find_case_ref(subject);
}

std::set<std::string> employee_keys(const Form& f) {
  std::set<std::string> out;
  for (const auto& l : f.lines) out.insert(text::name_key(l.employee));
  return out;
}

std::set<std::string> employee_keys(const CaseRecord& c) {
  std::set<std::string> out;
  for (const auto& l : c.lines) out.insert(l.employee_key);
  return out;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

// The header block of a stored message: enough for its subject and From.
mime::Headers headers_of(std::string_view raw) {
  if (auto end = raw.find("\r\n\r\n"); end != std::string_view::npos) {
    raw = raw.substr(0, end + 4);
  } else if (auto lf = raw.find("\n\n"); lf != std::string_view::npos) {
    raw = raw.substr(0, lf + 2);
  }
  return mime::parse(raw).headers;
}

// The flag codes only: the reasons name employees, and the log needs no more personal data
// than the case reference and what kind of problem it is (`cases show` has the rest).
std::string flag_codes(const std::vector<Flag>& flags) {
  std::vector<std::string> codes;
  for (const auto& f : flags) {
    if (std::find(codes.begin(), codes.end(), f.code) == codes.end()) codes.push_back(f.code);
  }
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c;
  return out;
}

AssessOptions base_options(Store& store, const IntakeSettings& s, Date received, Timestamp now) {
  AssessOptions o;
  o.received = received;
  o.today = date_of(now);
  o.pdf = s.pdf;
  if (auto round = rules::round_for(s.config->years, received)) {
    o.prior = store.ledger().prior_grants(round->year);
  }
  return o;
}

// A later message of the case whose own form would change the case (DECISIONS.md "Who may
// change a case"): what it would change. Its form is not used; its letters are.
struct ChangedMessage {
  std::int64_t row = 0;
  std::vector<integrity::FieldChange> changes;
};

// Every message of the case that is part of the application (the application first, then each
// reply in order), folded into one assessment: each later message is read with the case's form
// and the letters so far. The result's `letters` are the last message's own. A later message
// whose form would change the owner, numbers, contact or lines is read with the case's form
// instead, and listed in `changed`.
// The settings' extractor with the store's document_text in front: a case's document is read
// once however often the case is folded again (each reply re-reads every message of the case).
// Only here, for messages of a case: a citizen's document never gets its text kept.
PdfExtractor remembering(Store& store, const IntakeSettings& s) {
  if (!s.pdf) return {};
  const PdfLimits& l = s.config->limits.pdf;
  const std::string limits = ":" + std::to_string(l.max_input_bytes) + ":" +
                             std::to_string(l.max_pages) + ":" + std::to_string(l.max_text_bytes) +
                             ":" + std::to_string(l.timeout_ms) + ":" +
                             std::to_string(l.memory_bytes);
  return [&store, extract = s.pdf, limits](std::string_view bytes) {
    const std::string key = sha256_hex(bytes) + limits;
    if (auto known = store.messages().document_text(key)) return *known;
    PdfText t = extract(bytes);
    store.messages().put_document_text(key, t);
    return t;
  };
}

Assessment fold_case(Store& store, const CaseRecord& c, const IntakeSettings& s, Timestamp now,
                     std::vector<ChangedMessage>& changed) {
  Date received = Date::from_iso(c.received).value_or(date_of(now));
  const PdfExtractor pdf = remembering(store, s);
  std::optional<Assessment> acc;
  std::vector<Letter> letters;
  for (const MessageRecord& m : store.messages().case_messages(c.id)) {
    if (m.status != MessageStatus::processed) continue;
    auto raw = store.messages().message_raw(m.id);
    if (!raw) continue;
    AssessOptions o = base_options(store, s, received, now);
    o.pdf = pdf;
    // Its letters are checked against the day this message came, not the application's.
    o.message_received = received_date(m.received, received);
    if (acc) {
      o.case_form = acc->form;
      o.case_letters = letters;
    }
    Assessment a = assess(*raw, *s.config, o);
    if (a.ignored_reason) continue;  // an auto-reply that slipped in adds nothing
    if (acc && a.form_source != "case") {
      auto changes = integrity::form_changes(acc->form, a.form);
      if (!changes.empty()) {
        changed.push_back({m.id, std::move(changes)});
        o.keep_case_form = true;
        a = assess(*raw, *s.config, o);
      }
    }
    letters.insert(letters.end(), a.letters.begin(), a.letters.end());
    acc = std::move(a);
  }
  if (!acc) throw StoreError("case " + c.ref + " has no readable application message");
  return *acc;
}

void queue(Store& store, const CaseRecord& c, OutboxKind kind, const IntakeSettings& s,
           Timestamp now, std::vector<IntakeNote>& notes) {
  if (c.contact_email.empty()) {
    notes.push_back({c.ref, true,
                     "no e-mail address to send the " + std::string(enum_name(kind)) +
                         " to; a person must contact the applicant"});
    store.events().add_event(c.id, s.actor, "no recipient for " + std::string(enum_name(kind)),
                             now);
    return;
  }
  OutboxItem item = make_letter(store, c, kind, s, now);
  EnqueueResult r = store.outbox().enqueue_outbox(item, now);
  if (r.inserted) {
    notes.push_back({c.ref, false, "queued " + std::string(enum_name(kind))});
  }
}

// After a case entered `to`: the letter it owes, the reminder, the warning.
void after_transition(Store& store, CaseRecord& c, const IntakeSettings& s, Timestamp now,
                      std::vector<IntakeNote>& notes) {
  switch (c.state) {
    case CaseState::decided:
      queue(store, c, OutboxKind::decision, s, now, notes);
      break;
    case CaseState::needs_documentation:
      queue(store, c, OutboxKind::documentation_request, s, now, notes);
      if (s.config->case_.reminder_days > 0) {
        store.cases().set_reminder_due(c.id, now + std::chrono::days(s.config->case_.reminder_days),
                                       now);
      }
      break;
    case CaseState::flagged:
      notes.push_back({c.ref, true,
                       "flagged for a person (" +
                           (c.flags.empty() ? std::string("see the case") : flag_codes(c.flags)) +
                           "); see `tilskudd cases show " + c.ref + "`"});
      break;
    default:
      break;
  }
}

std::string status_reason(const Assessment& a) {
  switch (a.decision.status) {
    case rules::CaseStatus::decided:
      return "every line decided";
    case rules::CaseStatus::needs_documentation:
      return "waiting for the state's letter";
    case rules::CaseStatus::flagged:
      return a.flags.empty() ? "a person must look" : a.flags.front().code;
    case rules::CaseStatus::ignored:
      return "ignored";
  }
  return "";
}

void add_unique(std::vector<Flag>& flags, const Flag& f) {
  if (std::find(flags.begin(), flags.end(), f) == flags.end()) flags.push_back(f);
}

// The money invariants (DECISIONS.md "The money ledger") on an assessment about to be stored
// for case `case_id` (nullopt: a new case): a line that would pay a student a second time in
// the round, or over the yearly cap, waits for a person instead.
void hold_money_problems(Store& store, std::optional<std::int64_t> case_id, Assessment& a,
                         const IntakeSettings& s) {
  if (!a.decision.round) return;
  std::vector<integrity::MoneyLine> lines;
  for (std::size_t i = 0; i < a.decision.lines.size(); ++i) {
    const rules::LineDecision& l = a.decision.lines[i];
    const StateStatus status =
        i < a.form.lines.size() ? a.form.lines[i].state_status : StateStatus::unknown;
    lines.push_back({text::name_key(l.employee),
                     l.outcome == rules::Outcome::approved ? l.amount : 0,
                     rules::counts_toward_cap(l.reason_code, status)});
  }
  const auto problems = integrity::money_problems(store, case_id, a.decision.round->deadline.iso(),
                                                  a.decision.round->year, *s.config, lines);
  if (problems.empty()) return;
  for (const integrity::MoneyProblem& p : problems) {
    rules::LineDecision& l = a.decision.lines[p.index];
    const Flag f = make_flag(p.code, p.reason);
    l.outcome = rules::Outcome::flagged;
    l.amount = 0;
    l.reason_code = std::string(flag_code(p.code));
    l.reason = flag_letter_text(l.reason_code, a.decision.round->year);
    l.flags = {f};
    add_unique(a.decision.flags, f);
    add_unique(a.flags, f);
  }
  a.decision.total = 0;
  for (const auto& l : a.decision.lines) {
    if (l.outcome == rules::Outcome::approved) a.decision.total += l.amount;
  }
  a.decision.status = rules::CaseStatus::flagged;
}

IntakeOutcome new_case(Store& store, std::int64_t row, Assessment a, const IntakeSettings& s,
                       Timestamp now) {
  hold_money_problems(store, std::nullopt, a, s);
  IntakeOutcome out;
  out.kind = IntakeOutcome::Kind::new_case;
  out.message_row = row;
  CaseRecord c = store.cases().create_case(a, row, now, s.actor);
  store.messages().mark_message(row, MessageStatus::processed);
  store.messages().set_mailbox_state(row, MailboxState::to_mark);
  out.notes.push_back({c.ref, false, "received -> created from message"});
  CaseState to = state_for(a.decision.status).value_or(CaseState::flagged);
  c = store.cases().transition(c.id, to, s.actor, status_reason(a), now);
  out.notes.push_back(
      {c.ref, false, "received -> " + std::string(enum_name(to)) + " (" + status_reason(a) + ")"});
  after_transition(store, c, s, now, out.notes);
  out.case_record = store.cases().find_case(c.id);
  out.mark_in_mailbox = true;
  return out;
}

// A person's line decisions (cases resolve) survive a re-assessment: the lines they decided
// keep their outcome and amount, and the case's status follows from the lines again.
void keep_admin_decisions(Store& store, const CaseRecord& c, Assessment& a) {
  const auto decided = admin_line_decisions(store.events().case_events(c.id));
  if (decided.empty()) return;
  bool changed = false;
  for (auto& line : a.decision.lines) {
    const std::string key = text::name_key(line.employee);
    for (const auto& d : decided) {
      if (d.employee_key != key) continue;
      line.outcome = d.outcome == rules::Outcome::approved ? rules::Outcome::approved
                                                           : rules::Outcome::rejected;
      line.amount = d.amount;
      line.reason = d.reason;
      line.reason_code = d.reason_code;
      line.flags.clear();
      changed = true;
    }
  }
  if (!changed) return;
  Kroner total = 0;
  std::set<std::string> line_codes;
  for (const auto& line : a.decision.lines) {
    if (line.outcome == rules::Outcome::approved) total += line.amount;
    for (const auto& f : line.flags) line_codes.insert(f.code);
  }
  // Case-level flags (not about a line) still hold the case for a person.
  std::vector<Flag> holding;
  if (a.decision.status == rules::CaseStatus::flagged) {
    for (const auto& f : a.flags) {
      if (line_codes.count(f.code)) continue;
      bool about_a_line = false;
      for (const auto& line : c.lines) about_a_line |= line.reason_code == f.code;
      if (!about_a_line) holding.push_back(f);
    }
  }
  a.decision.total = total;
  a.decision.status = rules::case_status(rules::outcomes(a.decision.lines), holding);
}

// The latest event in which a person acted on the case (cases resolve); 0 when none.
std::int64_t last_person_action(const std::vector<CaseEvent>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->actor.rfind("admin:", 0) == 0) return it->id;
  }
  return 0;
}

// What holds a case whose messages would change it, and the links to other cases: a change
// (changed_by_reply) or link (foreign_reply, competing_application) that no person acted on
// since it was recorded holds the case for a person; the current message's proposed values
// are stored in an event (DECISIONS.md "Who may change a case").
void hold_changes(Store& store, const CaseRecord& c, const std::vector<ChangedMessage>& changed,
                  Assessment& a, const IntakeSettings& s, Timestamp now) {
  const std::vector<CaseEvent> events = store.events().case_events(c.id);
  const std::int64_t person = last_person_action(events);
  bool hold = false;
  for (const ChangedMessage& m : changed) {
    std::int64_t recorded = 0;
    for (const CaseEvent& e : events) {
      auto d = nlohmann::json::parse(e.detail, nullptr, false);
      if (d.is_object() && d.contains("proposed_changes") && d.value("message_row", 0) == m.row)
        recorded = e.id;
    }
    std::string fields;
    for (const auto& ch : m.changes) fields += (fields.empty() ? "" : ", ") + ch.field;
    if (recorded == 0) {
      store.events().add_event(
          c.id, s.actor, "a reply would change " + fields + "; the old values stand", now,
          {{"message_row", m.row}, {"proposed_changes", integrity::changes_json(m.changes)}});
      hold = true;
    } else if (recorded > person) {
      hold = true;
    }
    if (recorded == 0 || recorded > person) {
      add_unique(a.flags, make_flag(FlagCode::changed_by_reply,
                                    "message " + std::to_string(m.row) + " would change " + fields +
                                        "; the case keeps its values until a person "
                                        "decides (cases show lists old and new)"));
    }
  }
  // A link found earlier stays on the case and holds it until a person acted after it.
  for (const Flag& f : c.flags) {
    if (!is_flag(f, FlagCode::foreign_reply) && !is_flag(f, FlagCode::competing_application))
      continue;
    add_unique(a.flags, f);
    std::int64_t linked_at = 0;
    for (const CaseEvent& e : events) {
      auto d = nlohmann::json::parse(e.detail, nullptr, false);
      if (d.is_object() && d.value("link", std::string()) == f.code) linked_at = e.id;
    }
    hold |= linked_at > person;
  }
  if (hold) a.decision.status = rules::CaseStatus::flagged;
}

// A message that joins case `c` (a reply, or the application sent again).
IntakeOutcome merge_into(Store& store, std::int64_t row, CaseRecord c, const std::string& why,
                         const IntakeSettings& s, Timestamp now) {
  IntakeOutcome out;
  out.kind = IntakeOutcome::Kind::merged;
  out.message_row = row;
  out.reason = why;
  out.mark_in_mailbox = true;
  store.messages().attach_message(row, c.id);
  store.messages().mark_message(row, MessageStatus::processed);
  store.messages().set_mailbox_state(row, MailboxState::to_mark);
  const std::string msg_detail = "message " + std::to_string(row);
  const bool open = c.state == CaseState::received || c.state == CaseState::needs_documentation ||
                    c.state == CaseState::flagged;
  if (!open) {
    // After the decision a person reads it: it may be an appeal or a question.
    store.events().add_event(c.id, s.actor, "message received after the decision (" + why + ")",
                             now, {{"message_row", row}, {integrity::kHoldsPayout, true}});
    out.notes.push_back(
        {c.ref, true,
         "a message arrived after the decision (" + why +
             "); a person must read it (it may be an appeal); its payout is held until then"});
    out.case_record = c;
    return out;
  }

  std::vector<ChangedMessage> changed;
  Assessment a = fold_case(store, c, s, now, changed);
  keep_admin_decisions(store, c, a);
  hold_changes(store, c, changed, a, s, now);
  hold_money_problems(store, c.id, a, s);
  for (const Letter& l : a.letters) {
    store.cases().add_letter(c.id, row, l.filename, l.kind);
  }
  std::vector<std::string> missing_before = c.missing;
  store.cases().update_decision(c.id, a.form, a.decision, a.flags, s.actor, now);
  store.events().add_event(
      c.id, s.actor, "message joined the case (" + why + ")", now,
      {{"message_row", row}, {"assessed_status", std::string(enum_name(a.decision.status))}});
  out.notes.push_back({c.ref, false, "message joined the case (" + why + ")"});
  c = *store.cases().find_case(c.id);

  CaseState to = state_for(a.decision.status).value_or(CaseState::flagged);
  if (c.state == CaseState::flagged) {
    // A person already holds the case; the new evidence waits for them.
    out.notes.push_back({c.ref, true,
                         "new evidence for a flagged case (re-assessed: " +
                             std::string(enum_name(a.decision.status)) +
                             "); a person must decide it"});
  } else if (to != c.state) {
    CaseState from = c.state;
    c = store.cases().transition(c.id, to, s.actor, status_reason(a) + " after " + why, now);
    out.notes.push_back({c.ref, false,
                         std::string(enum_name(from)) + " -> " + std::string(enum_name(to)) + " (" +
                             status_reason(a) + ")"});
    after_transition(store, c, s, now, out.notes);
  } else if (c.state == CaseState::needs_documentation && c.missing != missing_before) {
    // Still waiting, for something else now: say exactly what is still missing.
    queue(store, c, OutboxKind::documentation_request, s, now, out.notes);
  } else {
    out.notes.push_back({c.ref, false, "still " + std::string(enum_name(c.state))});
  }
  out.case_record = store.cases().find_case(c.id);
  return out;
}

// The case a message answers: In-Reply-To / References to a message of the case (ours or the
// applicant's), else our case reference in the subject.
std::optional<std::pair<CaseRecord, std::string>> linked_case(Store& store,
                                                              const mime::Headers& h) {
  std::vector<std::string> ids;
  if (!h.in_reply_to.empty()) ids.push_back(h.in_reply_to);
  for (auto it = h.references.rbegin(); it != h.references.rend(); ++it) ids.push_back(*it);
  for (const auto& id : ids) {
    if (auto c = store.cases().find_case_by_message_id(id))
      return std::pair{*c, std::string("reply")};
  }
  if (auto ref = case_ref_in(h.subject)) {
    if (auto c = store.cases().find_case_by_ref(*ref)) {
      return std::pair{*c, std::string("case reference in the subject")};
    }
  }
  return std::nullopt;
}

// The same mail under another identity (moved, fetched again after a UIDVALIDITY change, or
// simply sent twice): it belongs where the first copy went. Never decided twice.
std::optional<IntakeOutcome> seen_before(Store& store, const RecordResult& rec,
                                         const IntakeSettings& s, Timestamp now) {
  std::vector<std::int64_t> earlier = rec.same_message_id;
  earlier.insert(earlier.end(), rec.same_content.begin(), rec.same_content.end());
  std::sort(earlier.begin(), earlier.end());
  for (std::int64_t id : earlier) {
    auto prev = store.messages().message(id);
    if (!prev || prev->status == MessageStatus::new_ || prev->status == MessageStatus::failed)
      continue;
    IntakeOutcome out;
    out.message_row = rec.id;
    if (prev->case_id) {
      out.kind = IntakeOutcome::Kind::duplicate;
      const bool quarantined = prev->status == MessageStatus::quarantined;
      store.messages().attach_message(rec.id, *prev->case_id);
      store.messages().mark_message(
          rec.id, quarantined ? MessageStatus::quarantined : MessageStatus::duplicate);
      store.messages().set_mailbox_state(
          rec.id, quarantined ? MailboxState::to_quarantine : MailboxState::to_mark);
      store.events().add_event(*prev->case_id, s.actor, "the same message seen again", now,
                               {{"message_row", rec.id}, {"first_row", id}});
      out.case_record = store.cases().find_case(*prev->case_id);
      out.mark_in_mailbox = !quarantined;
      out.reason = "same message as row " + std::to_string(id);
      if (out.case_record) {
        out.notes.push_back({out.case_record->ref, false, "the same message seen again"});
      }
    } else {
      out.kind = IntakeOutcome::Kind::ignored;
      store.messages().mark_message(rec.id, MessageStatus::ignored, prev->last_error);
      store.messages().forget_message_bytes(rec.id);
      out.reason = prev->last_error.empty() ? "seen before" : prev->last_error;
    }
    return out;
  }
  return std::nullopt;
}

// A bounce or auto-reply names our mail in its attached original (message/rfc822 or
// text/rfc822-headers), not in its own headers: our Message-IDs carry the case reference.
std::optional<CaseRecord> case_named_inside(Store& store, std::string_view raw) {
  const std::string_view head = raw.substr(0, std::min<std::size_t>(raw.size(), 1u << 20));
  if (auto ref = find_case_ref_in_message_id(head)) return store.cases().find_case_by_ref(*ref);
  return std::nullopt;
}

// The addresses that speak for a case: the contact e-mail (where its letters go) and the From of
// the message that made it.
std::vector<std::string> case_contacts(Store& store, const CaseRecord& c) {
  std::vector<std::string> out{c.contact_email};
  const auto messages = store.messages().case_messages(c.id);
  if (!messages.empty()) {
    if (auto raw = store.messages().message_raw(messages.front().id)) {
      const mime::Headers h = headers_of(*raw);
      if (h.from.size() == 1) out.push_back(h.from.front().address);
    }
  }
  return out;
}

bool may_change(Store& store, const CaseRecord& c, const Assessment& a) {
  return integrity::is_contact(case_contacts(store, c), a.from_address, a.sender_authenticated);
}

// A message that names case `other` (a reply, its case reference, or the same application) but
// whose sender is not that case's contact: a case of its own, flagged `why` and linked to the
// other for a person. It changes nothing in `other`; a competing application also holds
// `other` for a person (DECISIONS.md "Who may change a case").
IntakeOutcome separate_case(Store& store, std::int64_t row, Assessment a, const CaseRecord& other,
                            FlagCode why, const IntakeSettings& s, Timestamp now) {
  if (a.ignored_reason) {  // a reply without our case number still concerns a case of ours
    a.ignored_reason.reset();
    a.case_number_found = true;
  }
  if (a.contact_email.empty()) a.contact_email = a.from_address;
  const bool competing = why == FlagCode::competing_application;
  const Flag flag = make_flag(
      why, competing ? "the same organisation and employees applied in " + other.ref +
                           " from another contact; a person must check which application is "
                           "the organisation's own"
                     : "the message answers " + other.ref +
                           ", but its sender is not that case's contact; it changed nothing "
                           "there");
  add_unique(a.flags, flag);
  a.decision.status = rules::CaseStatus::flagged;
  IntakeOutcome out = new_case(store, row, std::move(a), s, now);
  const CaseRecord& mine = *out.case_record;
  integrity::link_cases(store, mine, other, why, s.actor, now);
  out.reason = std::string(flag_code(why)) + " of " + other.ref;
  out.notes.push_back({mine.ref, true,
                       std::string(flag_code(why)) + ": linked to " + other.ref +
                           "; a person must check who sent it"});
  if (competing) {
    const Flag theirs =
        make_flag(why, "the same organisation and employees applied in " + mine.ref +
                           " from another contact; a person must "
                           "check which application is the "
                           "organisation's own");
    store.cases().add_case_flag(other.id, theirs, s.actor, now);
    CaseRecord o = *store.cases().find_case(other.id);
    if (o.state == CaseState::received || o.state == CaseState::needs_documentation) {
      o = store.cases().transition(o.id, CaseState::flagged, s.actor,
                                   std::string(flag_code(why)) + " with " + mine.ref, now);
      after_transition(store, o, s, now, out.notes);
    } else {
      out.notes.push_back({o.ref, true,
                           std::string(flag_code(why)) + " with " + mine.ref + " after " +
                               std::string(enum_name(o.state)) +
                               "; a person must check the decision and its payout"});
    }
  }
  out.case_record = store.cases().find_case(mine.id);
  return out;
}

IntakeOutcome process(Store& store, std::int64_t row, std::string_view raw,
                      const std::string& received_text, const IntakeSettings& s, Timestamp now) {
  const config::Config& cfg = *s.config;
  Date received = received_date(received_text, date_of(now));
  Assessment a = assess(raw, cfg, base_options(store, s, received, now));

  mime::Headers headers;
  headers.subject = a.subject;
  headers.in_reply_to = a.in_reply_to;
  headers.references = a.references;
  auto linked = linked_case(store, headers);

  if (a.ignored_reason && *a.ignored_reason != "no_case_number") {
    // Machine-generated: never answered, never merged. A bounce of our mail is worth a warning.
    if (!linked && *a.ignored_reason != "own_message") {
      if (auto c = case_named_inside(store, raw)) linked = std::pair{*c, std::string("bounce")};
    }
    IntakeOutcome out;
    out.kind = IntakeOutcome::Kind::ignored;
    out.message_row = row;
    out.reason = *a.ignored_reason;
    store.messages().mark_message(row, MessageStatus::ignored, *a.ignored_reason);
    if (!linked) store.messages().forget_message_bytes(row);
    if (linked) {
      store.events().add_event(linked->first.id, s.actor, *a.ignored_reason + " received", now,
                               {{"message_row", row}});
      out.notes.push_back({linked->first.ref, *a.ignored_reason == "bounce",
                           *a.ignored_reason + " received for the case" +
                               (*a.ignored_reason == "bounce"
                                    ? std::string("; our mail did not arrive, a person must "
                                                  "contact the applicant")
                                    : std::string())});
    }
    return out;
  }
  if (linked) {
    if (may_change(store, linked->first, a))
      return merge_into(store, row, linked->first, linked->second, s, now);
    return separate_case(store, row, std::move(a), linked->first, FlagCode::foreign_reply, s, now);
  }
  if (a.ignored_reason) {
    IntakeOutcome out;
    out.kind = IntakeOutcome::Kind::ignored;
    out.message_row = row;
    out.reason = *a.ignored_reason;
    store.messages().mark_message(row, MessageStatus::ignored, *a.ignored_reason);
    store.messages().forget_message_bytes(row);
    return out;
  }
  // The same application again (same organisation, round and employees): it joins that case.
  if (!a.form.org_number.empty() && a.decision.round && !a.form.lines.empty()) {
    auto keys = employee_keys(a.form);
    // The same employees in another case of this organisation in the same budget year: maybe
    // the same application again after a deadline, maybe a new one. Rule 5's cap already
    // protects lines the state rejected; any other line that would be paid again must not be
    // paid automatically, so a person decides.
    std::set<std::string> unprotected;
    for (const auto& l : a.decision.lines) {
      if (l.outcome == rules::Outcome::approved && l.reason_code != "state_rejected_cap") {
        unprotected.insert(text::name_key(l.employee));
      }
    }
    // Every case either check below can match names one of these employees: only those cases
    // are loaded (an indexed lookup), in id order, not every case of the organisation.
    std::set<std::string> wanted = keys;
    wanted.insert(unprotected.begin(), unprotected.end());
    const std::vector<CaseRecord> candidates =
        store.cases().cases_with_employees(a.form.org_number, wanted);
    const std::string round = a.decision.round->deadline.iso();
    for (const CaseRecord& c : candidates) {
      if (c.round == round && employee_keys(c) == keys) {
        if (!may_change(store, c, a))
          return separate_case(store, row, std::move(a), c, FlagCode::competing_application, s,
                               now);
        return merge_into(store, row, c, "the same application sent again", s, now);
      }
    }
    std::string others;
    for (const CaseRecord& c : candidates) {
      if (c.round_year != a.decision.round->year) continue;
      auto theirs = employee_keys(c);
      if (theirs == keys && c.state == CaseState::needs_documentation) {
        // Still waiting for this very application's letter: it is the answer, late or not.
        if (!may_change(store, c, a))
          return separate_case(store, row, std::move(a), c, FlagCode::competing_application, s,
                               now);
        return merge_into(store, row, c, "the same application sent again", s, now);
      }
      const bool overlap = std::any_of(c.lines.begin(), c.lines.end(), [&](const CaseLine& l) {
        return unprotected.count(l.employee_key) && l.outcome != rules::Outcome::rejected;
      });
      if (overlap) others += (others.empty() ? "" : ", ") + c.ref;
    }
    if (!others.empty()) {
      a.flags.push_back(make_flag(FlagCode::duplicate,
                                  "the same organisation applied for the same employee(s) in " +
                                      others +
                                      " this year; a person must check that this is not "
                                      "the same application twice"));
      a.decision.status = rules::CaseStatus::flagged;
    }
  }
  return new_case(store, row, a, s, now);
}

}  // namespace

std::string_view intake_kind_name(IntakeOutcome::Kind k) {
  switch (k) {
    case IntakeOutcome::Kind::new_case:
      return "new_case";
    case IntakeOutcome::Kind::merged:
      return "merged";
    case IntakeOutcome::Kind::duplicate:
      return "duplicate";
    case IntakeOutcome::Kind::ignored:
      return "ignored";
    case IntakeOutcome::Kind::already_processed:
      return "already_processed";
  }
  return "ignored";
}

Date oslo_date(Timestamp t) {
  // Norway: CET (UTC+1), CEST (UTC+2) from the last Sunday of March 01:00 UTC to the last Sunday
  // of October 01:00 UTC (the EU rule).
  using namespace std::chrono;
  const year y = year_month_day{floor<days>(t)}.year();
  const sys_seconds dst_start{sys_days{y / March / Sunday[last]} + hours(1)};
  const sys_seconds dst_end{sys_days{y / October / Sunday[last]} + hours(1)};
  const auto local = t + (t >= dst_start && t < dst_end ? hours(2) : hours(1));
  return date_of(floor<seconds>(local));
}

Date received_date(const std::string& received, Date fallback) {
  // "2026-11-24T23:36:40+00:00": the instant, then its date in Norway (deadlines are Norwegian
  // calendar days, whatever zone the mail server reports in).
  int y = 0, mo = 0, d = 0, hh = 0, mm = 0, ss = 0, oh = 0, om = 0;
  char sign = '+';
  if (std::sscanf(received.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &y, &mo, &d, &hh, &mm, &ss,
                  &sign, &oh, &om) == 9 &&
      (sign == '+' || sign == '-')) {
    auto ymd = std::chrono::year{y} / std::chrono::month{static_cast<unsigned>(mo)} /
               std::chrono::day{static_cast<unsigned>(d)};
    if (ymd.ok() && hh < 24 && mm < 60 && ss <= 60 && oh < 24 && om < 60) {
      auto t = std::chrono::sys_days{ymd} + std::chrono::hours(hh) + std::chrono::minutes(mm) +
               std::chrono::seconds(ss);
      auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
      t = sign == '+' ? t - offset : t + offset;
      return oslo_date(std::chrono::floor<std::chrono::seconds>(t));
    }
  }
  if (received.size() >= 10) {
    if (auto date = Date::from_iso(received.substr(0, 10))) return *date;
  }
  return fallback;
}

IntakeOutcome intake_message(Store& store, const IncomingMessage& m, const IntakeSettings& s,
                             Timestamp now) {
  return store.transaction([&]() -> IntakeOutcome {
    RecordResult rec = store.messages().record_message(m);
    MessageRecord row = *store.messages().message(rec.id);
    if (!rec.inserted && row.status != MessageStatus::new_ && row.status != MessageStatus::failed) {
      IntakeOutcome out;
      out.kind = IntakeOutcome::Kind::already_processed;
      out.message_row = rec.id;
      out.mark_in_mailbox = row.mailbox_state == MailboxState::to_mark;
      return out;
    }
    if (auto out = seen_before(store, rec, s, now)) return *out;
    return process(store, rec.id, m.raw, m.received, s, now);
  });
}

IntakeOutcome retry_message(Store& store, std::int64_t message_row, const IntakeSettings& s,
                            Timestamp now) {
  return store.transaction([&]() -> IntakeOutcome {
    auto row = store.messages().message(message_row);
    if (!row) throw StoreError("no message " + std::to_string(message_row));
    auto raw = store.messages().message_raw(message_row);
    if (!raw) throw StoreError("message " + std::to_string(message_row) + " has no stored bytes");
    IncomingMessage m{row->mailbox, row->uidvalidity, row->uid, row->message_id,
                      *raw,         row->received};
    RecordResult rec = store.messages().record_message(m);  // the row exists: this finds its copies
    if (auto out = seen_before(store, rec, s, now)) return *out;
    return process(store, message_row, *raw, row->received, s, now);
  });
}

std::pair<std::int64_t, int> record_failure(Store& store, const IncomingMessage& m,
                                            const std::string& error) {
  return store.transaction([&] {
    RecordResult rec = store.messages().record_message(m);
    store.messages().mark_message(rec.id, MessageStatus::failed, error);
    return std::pair{rec.id, store.messages().message(rec.id)->attempts};
  });
}

IntakeOutcome quarantine_message(Store& store, std::int64_t message_row, const std::string& error,
                                 const IntakeSettings& s, Timestamp now) {
  return store.transaction([&]() -> IntakeOutcome {
    auto row = store.messages().message(message_row);
    if (!row) throw StoreError("no message " + std::to_string(message_row));
    Assessment a;
    a.message_id = row->message_id;
    a.subject = "(quarantined message)";
    a.received = received_date(row->received, date_of(now));
    a.case_number_found = true;
    a.decision.status = rules::CaseStatus::flagged;
    a.flags.push_back(make_flag(FlagCode::processing_failed,
                                "the message could not be processed after " +
                                    std::to_string(row->attempts) + " attempts: " + error));
    CaseRecord c = store.cases().create_case(a, message_row, now, s.actor);
    store.messages().mark_message(message_row, MessageStatus::quarantined, error);
    store.messages().set_mailbox_state(message_row, MailboxState::to_quarantine);
    c = store.cases().transition(c.id, CaseState::flagged, s.actor,
                                 std::string(flag_code(FlagCode::processing_failed)), now);
    IntakeOutcome out;
    out.kind = IntakeOutcome::Kind::new_case;
    out.message_row = message_row;
    out.reason = "quarantined";
    out.notes.push_back({c.ref, true,
                         "message quarantined after " + std::to_string(row->attempts) +
                             " failed attempts (" + error +
                             "); a person must read it in the mailbox (keyword " +
                             s.config->mailbox.quarantine_keyword + ")"});
    out.case_record = c;
    return out;
  });
}

std::vector<IntakeNote> queue_due_reminders(Store& store, const IntakeSettings& s, Timestamp now) {
  std::vector<IntakeNote> notes;
  const std::string now_text = iso_utc(now);
  for (const CaseRecord& c : store.cases().list_cases(CaseState::needs_documentation)) {
    if (c.reminder_due.empty() || c.reminder_due > now_text) continue;
    store.transaction([&] {
      queue(store, c, OutboxKind::reminder, s, now, notes);
      store.cases().set_reminder_due(c.id, std::nullopt, now);
      store.events().add_event(c.id, s.actor, "reminder queued", now);
    });
  }
  return notes;
}

OutboxItem make_letter(Store& store, const CaseRecord& c, OutboxKind kind, const IntakeSettings& s,
                       Timestamp now) {
  const config::Config& cfg = *s.config;
  outgoing::LetterInput in;
  in.case_number = cfg.case_.number;
  in.case_ref = c.ref;
  in.owner = c.owner;
  in.org_number = c.org_number;
  in.applicant_reference = c.applicant_reference;
  in.round = c.round;
  in.total = c.total;
  for (const CaseLine& l : c.lines) {
    in.lines.push_back({l.employee, l.outcome, l.amount, l.reason});
  }
  in.missing = c.missing;
  in.received = c.received;
  in.letter_date = date_of(now).iso();
  // A person who acted on the case (cases resolve) took part in the decision.
  for (const CaseEvent& e : store.events().case_events(c.id)) {
    if (e.actor.rfind("admin:", 0) == 0) in.automatic = false;
  }

  // The applicant's latest message is what we answer.
  std::string in_reply_to;
  std::vector<std::string> references;
  for (const MessageRecord& m : store.messages().case_messages(c.id)) {
    if (m.message_id.empty()) continue;
    if (in.original_subject.empty()) {
      if (auto raw = store.messages().message_raw(m.id))
        in.original_subject = headers_of(*raw).subject;
    }
    references.push_back(m.message_id);
    in_reply_to = m.message_id;
  }
  if (references.size() > 10) references.erase(references.begin() + 1, references.end() - 9);

  outgoing::RenderedLetter letter = outgoing::render(s.templates, kind, in);
  int n = 1;
  for (const OutboxItem& o : store.outbox().outbox_for_case(c.id)) {
    if (o.kind == kind) ++n;
  }
  std::string from_address = own_address(cfg);
  outgoing::OutgoingMail mail;
  mail.from = cfg.smtp.from;
  mail.to = c.contact_email;
  mail.subject = letter.subject;
  mail.body = letter.body;
  mail.message_id = outgoing::make_message_id(c.ref, enum_name(kind), n, domain_of(from_address));
  mail.in_reply_to = in_reply_to;
  mail.references = references;
  mail.case_ref = c.ref;
  mail.date = outgoing::rfc5322_date(now);

  OutboxItem item;
  item.case_id = c.id;
  item.kind = kind;
  item.message_id = mail.message_id;
  item.recipient = c.contact_email;
  item.subject = letter.subject;
  item.body = outgoing::compose(mail);
  return item;
}

}  // namespace tilskudd
