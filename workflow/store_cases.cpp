#include "workflow/store_sqlite.h"

#include <algorithm>
#include <cstdio>

#include "parsers/text.h"

namespace tilskudd {

namespace {

int year_of(Timestamp t) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return static_cast<int>(ymd.year());
}

constexpr const char* kCaseColumns =
    "id, ref, year, seq, state, owner, org_number, contact_email, account_number, "
    "applicant_reference, round, round_year, round_number, total, created_at, updated_at, "
    "reminder_due, received, missing_documentation, flags";

nlohmann::json flags_json(const std::vector<Flag>& flags) {
  nlohmann::json out = nlohmann::json::array();
  for (const Flag& f : flags) out.push_back({{"code", f.code}, {"reason", f.reason}});
  return out;
}

std::vector<Flag> flags_from_json(const std::string& text) {
  std::vector<Flag> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& f : j) {
    if (f.is_object()) out.push_back({f.value("code", ""), f.value("reason", "")});
  }
  return out;
}

std::vector<std::string> strings_from_json(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& s : j)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

}  // namespace

void SqliteCaseStore::write_lines(std::int64_t case_id, const Form& form,
                                  const rules::Decision& decision) {
  {
    Stmt del(db_.prepare("DELETE FROM case_lines WHERE case_id = ?"));
    del.i64(1, case_id).run();
  }
  std::size_t n = std::max(form.lines.size(), decision.lines.size());
  for (std::size_t i = 0; i < n; ++i) {
    const FormLine* f = i < form.lines.size() ? &form.lines[i] : nullptr;
    const rules::LineDecision* d = i < decision.lines.size() ? &decision.lines[i] : nullptr;
    std::string employee = d ? d->employee : f->employee;
    Stmt q(
        db_.prepare("INSERT INTO case_lines(case_id, idx, employee, employee_key, programme, cost, "
                    "state_status, state_grant, outcome, amount, reason, reason_code) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.i64(1, case_id).i64(2, static_cast<std::int64_t>(i)).text(3, employee);
    q.text(4, text::name_key(employee));
    q.text(5, enum_name(f ? f->programme : Programme::OTHER));
    q.opt_i64(6, f ? f->cost : std::nullopt);
    q.text(7, enum_name(f ? f->state_status : StateStatus::unknown));
    q.opt_i64(8, f ? f->state_grant : std::nullopt);
    q.text(9, enum_name(d ? d->outcome : rules::Outcome::flagged));
    q.i64(10, d ? d->amount : 0);
    q.text(11, d ? d->reason : std::string());
    q.text(12, d ? d->reason_code : std::string());
    q.run();
  }
}

CaseRecord SqliteCaseStore::create_case(const Assessment& a, std::int64_t message_row,
                                        Timestamp now, const std::string& actor) {
  return db_.write([&] {
    int year = year_of(now);
    int seq = 1;
    {
      Stmt q(db_.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?"));
      q.i64(1, year);
      if (q.step()) seq = static_cast<int>(q.col_i64(0));
    }
    char ref[32];
    std::snprintf(ref, sizeof ref, "TT-%04d-%04d", year, seq);
    std::string at = iso_utc(now);
    std::int64_t id = 0;
    {
      Stmt q(db_.prepare(
          "INSERT INTO cases(ref, year, seq, state, owner, org_number, contact_email, "
          "account_number, applicant_reference, round, round_year, round_number, total, "
          "created_at, updated_at, received, missing_documentation, flags) "
          "VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      q.text(1, ref).i64(2, year).i64(3, seq);
      q.text(4, a.form.owner).text(5, a.form.org_number).text(6, a.contact_email);
      q.text(7, a.form.account_number).text(8, a.form.reference);
      const auto& round = a.decision.round;
      if (round)
        q.text(9, round->deadline.iso()).i64(10, round->year).i64(11, round->number);
      else
        q.null(9).null(10).null(11);
      q.i64(12, a.decision.total).text(13, at).text(14, at).text(15, a.received.iso());
      q.text(16, nlohmann::json(a.decision.missing_documentation).dump());
      q.text(17, flags_json(a.flags).dump()).run();
      id = sqlite3_last_insert_rowid(db_.handle());
    }
    write_lines(id, a.form, a.decision);
    messages_.attach_message(message_row, id);
    for (const Letter& l : a.letters) add_letter(id, message_row, l.filename, l.kind, std::nullopt);

    nlohmann::json detail = {{"message_row", message_row},
                             {"message_id", normalise_message_id(a.message_id)},
                             {"subject", a.subject},
                             {"assessed_status", enum_name(a.decision.status)},
                             {"total", a.decision.total}};
    nlohmann::json flags = nlohmann::json::array();
    for (const Flag& f : a.flags) flags.push_back(f.code);
    detail["flags"] = flags;
    events_.insert(id, at, actor, std::nullopt, "received", "created from message", detail.dump());
    return load_case(id);
  });
}

CaseRecord SqliteCaseStore::load_case(std::int64_t id) {
  auto c = read_case(id);
  if (!c) throw StoreError("no case " + std::to_string(id));
  return *c;
}

std::vector<CaseRecord> SqliteCaseStore::load_cases(const std::vector<std::int64_t>& ids) {
  std::vector<CaseRecord> out;
  for (auto id : ids) out.push_back(load_case(id));
  return out;
}

std::optional<CaseRecord> SqliteCaseStore::find_case(std::int64_t id) {
  return db_.read([&] { return read_case(id); });
}

std::optional<CaseRecord> SqliteCaseStore::read_case(std::int64_t id) {
  CaseRecord c;
  {
    Stmt q(db_.prepare(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id = ?"));
    q.i64(1, id);
    if (!q.step()) return std::nullopt;
    c.id = q.col_i64(0);
    c.ref = q.col_text(1);
    c.year = static_cast<int>(q.col_i64(2));
    c.seq = static_cast<int>(q.col_i64(3));
    c.state = state_from_db(q.col_text(4));
    c.owner = q.col_text(5);
    c.org_number = q.col_text(6);
    c.contact_email = q.col_text(7);
    c.account_number = q.col_text(8);
    c.applicant_reference = q.col_text(9);
    c.round = q.col_text(10);
    c.round_year = static_cast<int>(q.col_i64(11));
    c.round_number = static_cast<int>(q.col_i64(12));
    c.total = q.col_i64(13);
    c.created_at = q.col_text(14);
    c.updated_at = q.col_text(15);
    c.reminder_due = q.col_text(16);
    c.received = q.col_text(17);
    c.missing = strings_from_json(q.col_text(18));
    c.flags = flags_from_json(q.col_text(19));
  }
  Stmt q(db_.prepare(
      "SELECT idx, employee, employee_key, programme, cost, state_status, state_grant, outcome, "
      "amount, reason, reason_code FROM case_lines WHERE case_id = ? ORDER BY idx"));
  q.i64(1, id);
  while (q.step()) {
    CaseLine l;
    l.idx = static_cast<int>(q.col_i64(0));
    l.employee = q.col_text(1);
    l.employee_key = q.col_text(2);
    l.programme = from_db<Programme>(q.col_text(3), "programme");
    l.cost = q.col_opt_i64(4);
    l.state_status = from_db<StateStatus>(q.col_text(5), "state status");
    l.state_grant = q.col_opt_i64(6);
    l.outcome = from_db<rules::Outcome>(q.col_text(7), "line outcome");
    l.amount = q.col_i64(8);
    l.reason = q.col_text(9);
    l.reason_code = q.col_text(10);
    c.lines.push_back(std::move(l));
  }
  return c;
}

std::optional<CaseRecord> SqliteCaseStore::find_case_by_ref(const std::string& ref) {
  return db_.read([&]() -> std::optional<CaseRecord> {
    std::int64_t id = 0;
    {
      Stmt q(db_.prepare("SELECT id FROM cases WHERE ref = ?"));
      q.text(1, ref);
      if (!q.step()) return std::nullopt;
      id = q.col_i64(0);
    }
    return read_case(id);
  });
}

std::optional<CaseRecord> SqliteCaseStore::find_case_by_message_id(const std::string& message_id) {
  return db_.read([&]() -> std::optional<CaseRecord> {
    std::string mid = normalise_message_id(message_id);
    if (mid.empty()) return std::nullopt;
    std::optional<std::int64_t> id;
    {
      Stmt q(
          db_.prepare("SELECT case_id FROM messages WHERE message_id = ?1 AND case_id IS NOT NULL "
                      "UNION ALL SELECT case_id FROM outbox WHERE message_id = ?1 LIMIT 1"));
      q.text(1, mid);
      if (q.step()) id = q.col_i64(0);
    }
    if (!id) return std::nullopt;
    return read_case(*id);
  });
}

std::vector<CaseRecord> SqliteCaseStore::cases_for_org_round(const std::string& org_number,
                                                             const std::string& round) {
  return db_.read([&] {
    std::vector<std::int64_t> ids;
    {
      Stmt q(db_.prepare("SELECT id FROM cases WHERE org_number = ? AND round = ? ORDER BY id"));
      q.text(1, org_number).text(2, round);
      while (q.step()) ids.push_back(q.col_i64(0));
    }
    return load_cases(ids);
  });
}

std::vector<CaseRecord> SqliteCaseStore::cases_with_employees(
    const std::string& org_number, const std::set<std::string>& employee_keys) {
  return db_.read([&] {
    // Index case_lines_employee, then the case's row: the cost follows the employees' own cases,
    // not the organisation's.
    std::set<std::int64_t> ids;
    for (const std::string& key : employee_keys) {
      Stmt q(db_.prepare(
          "SELECT DISTINCT l.case_id FROM case_lines l JOIN cases c ON c.id = l.case_id "
          "WHERE l.employee_key = ? AND c.org_number = ?"));
      q.text(1, key).text(2, org_number);
      while (q.step()) ids.insert(q.col_i64(0));
    }
    return load_cases(std::vector<std::int64_t>(ids.begin(), ids.end()));
  });
}

int SqliteCaseStore::forget_old_bytes(Timestamp cutoff, const std::string& reason, Timestamp now) {
  const std::string cut = iso_utc(cutoff);
  std::vector<std::int64_t> ids;
  {
    Stmt q(db_.prepare(
        "SELECT c.id FROM cases c WHERE c.state IN ('decision_sent', 'scheduled', 'paid') AND "
        "c.updated_at < ? AND EXISTS (SELECT 1 FROM messages m JOIN blobs b ON b.sha256 = "
        "m.sha256 WHERE m.case_id = c.id AND length(b.bytes) > 0) ORDER BY c.id"));
    q.text(1, cut);
    while (q.step()) ids.push_back(q.col_i64(0));
  }
  for (std::int64_t id : ids) {
    db_.write([&] {
      // Bytes shared with a case that must still keep them stay.
      Stmt q(db_.prepare(
          "UPDATE blobs SET bytes = X'' WHERE sha256 IN (SELECT sha256 FROM messages WHERE "
          "case_id = ?1) AND NOT EXISTS (SELECT 1 FROM messages m JOIN cases c ON c.id = "
          "m.case_id WHERE m.sha256 = blobs.sha256 AND c.id <> ?1 AND (c.state NOT IN "
          "('decision_sent', 'scheduled', 'paid') OR c.updated_at >= ?2))"));
      q.i64(1, id).text(2, cut).run();
      const std::string state(enum_name(load_case(id).state));
      events_.insert(id, iso_utc(now), "daemon", state, state, reason, "{}");
    });
  }
  return static_cast<int>(ids.size());
}

std::vector<CaseRecord> SqliteCaseStore::cases_for_org(const std::string& org_number) {
  return db_.read([&] {
    std::vector<std::int64_t> ids;
    {
      Stmt q(db_.prepare("SELECT id FROM cases WHERE org_number = ? ORDER BY id"));
      q.text(1, org_number);
      while (q.step()) ids.push_back(q.col_i64(0));
    }
    return load_cases(ids);
  });
}

std::vector<CaseRecord> SqliteCaseStore::list_cases(std::optional<CaseState> state) {
  return db_.read([&] {
    std::vector<std::int64_t> ids;
    {
      Stmt q(db_.prepare("SELECT id FROM cases WHERE ?1 IS NULL OR state = ?1 ORDER BY id"));
      if (state)
        q.text(1, enum_name(*state));
      else
        q.null(1);
      while (q.step()) ids.push_back(q.col_i64(0));
    }
    return load_cases(ids);
  });
}

CaseRecord SqliteCaseStore::transition(std::int64_t case_id, CaseState to, const std::string& actor,
                                       const std::string& reason, Timestamp now,
                                       const nlohmann::json& detail) {
  return db_.write([&] {
    CaseState from = CaseState::received;
    std::string ref;
    {
      Stmt q(db_.prepare("SELECT state, ref FROM cases WHERE id = ?"));
      q.i64(1, case_id);
      if (!q.step()) throw StoreError("no case " + std::to_string(case_id));
      from = state_from_db(q.col_text(0));
      ref = q.col_text(1);
    }
    if (!can_transition(from, to))
      throw IllegalTransition("case " + ref + ": " + std::string(enum_name(from)) + " -> " +
                              std::string(enum_name(to)) + " is not allowed");
    std::string at = iso_utc(now);
    {
      // Leaving needs_documentation ends its reminders.
      Stmt q(
          db_.prepare("UPDATE cases SET state = ?1, updated_at = ?2, "
                      "reminder_due = CASE WHEN ?1 = 'needs_documentation' THEN reminder_due END "
                      "WHERE id = ?3"));
      q.text(1, enum_name(to)).text(2, at).i64(3, case_id).run();
    }
    if (to == CaseState::decided) {
      // Every approved line's grant, in the rules' year of the round (rule 5 counts per budget
      // year); which of them count toward rule 5's cap is the rules' call (rules::ledger_kind).
      const CaseRecord c = load_case(case_id);
      const int year = c.round_year != 0 ? c.round_year : c.year;
      for (const CaseLine& l : c.lines) {
        if (l.outcome != rules::Outcome::approved || l.amount <= 0) continue;
        ledger_.add_ledger(year, l.employee_key, case_id, l.amount,
                           rules::ledger_kind(l.reason_code, l.state_status));
      }
    }
    events_.insert(case_id, at, actor, std::string(enum_name(from)), std::string(enum_name(to)),
                   reason, detail.dump());
    return load_case(case_id);
  });
}

void SqliteCaseStore::update_decision(std::int64_t case_id, const Form& form,
                                      const rules::Decision& decision,
                                      const std::vector<Flag>& flags, const std::string& actor,
                                      Timestamp now) {
  db_.write([&] {
    CaseState state = load_case(case_id).state;
    if (state != CaseState::received && state != CaseState::needs_documentation &&
        state != CaseState::flagged)
      throw StoreError("case " + std::to_string(case_id) + " is " + std::string(enum_name(state)) +
                       ": its decision cannot change");
    write_lines(case_id, form, decision);
    std::string at = iso_utc(now);
    {
      Stmt q(db_.prepare(
          "UPDATE cases SET total = ?, round = ?, round_year = ?, round_number = ?, "
          "owner = COALESCE(NULLIF(?, ''), owner), org_number = COALESCE(NULLIF(?, ''), "
          "org_number), "
          "account_number = COALESCE(NULLIF(?, ''), account_number), "
          "applicant_reference = COALESCE(NULLIF(?, ''), applicant_reference), updated_at = ?, "
          "missing_documentation = ?, flags = ? WHERE id = ?"));
      q.i64(1, decision.total);
      if (decision.round)
        q.text(2, decision.round->deadline.iso())
            .i64(3, decision.round->year)
            .i64(4, decision.round->number);
      else
        q.null(2).null(3).null(4);
      q.text(5, form.owner).text(6, form.org_number).text(7, form.account_number);
      q.text(8, form.reference).text(9, at);
      q.text(10, nlohmann::json(decision.missing_documentation).dump());
      q.text(11, flags_json(flags).dump()).i64(12, case_id).run();
    }
    nlohmann::json detail = {{"assessed_status", enum_name(decision.status)},
                             {"total", decision.total},
                             {"lines", decision.lines.size()}};
    const std::string name(enum_name(state));
    events_.insert(case_id, at, actor, name, name, "decision updated", detail.dump());
  });
}

void SqliteCaseStore::set_reminder_due(std::int64_t case_id, std::optional<Timestamp> due,
                                       Timestamp now) {
  Stmt q(db_.prepare("UPDATE cases SET reminder_due = ?, updated_at = ? WHERE id = ?"));
  if (due)
    q.text(1, iso_utc(*due));
  else
    q.null(1);
  q.text(2, iso_utc(now)).i64(3, case_id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no case " + std::to_string(case_id));
}

void SqliteCaseStore::add_letter(std::int64_t case_id, std::optional<std::int64_t> message_row,
                                 const std::string& filename, LetterKind kind,
                                 std::optional<std::string_view> bytes) {
  db_.write([&] {
    std::string sha;
    if (bytes) sha = messages_.put_blob(*bytes);
    Stmt q(db_.prepare(
        "INSERT INTO letters(case_id, message_row, filename, kind, sha256) VALUES (?, ?, "
        "?, ?, ?)"));
    q.i64(1, case_id).opt_i64(2, message_row).text(3, filename).text(4, enum_name(kind));
    q.text_or_null(5, sha).run();
  });
}

std::vector<LetterRecord> SqliteCaseStore::case_letters(std::int64_t case_id) {
  Stmt q(db_.prepare(
      "SELECT case_id, message_row, filename, kind, sha256 FROM letters WHERE case_id = ? "
      "ORDER BY id"));
  q.i64(1, case_id);
  std::vector<LetterRecord> out;
  while (q.step())
    out.push_back({q.col_i64(0), q.col_opt_i64(1), q.col_text(2),
                   from_db<LetterKind>(q.col_text(3), "letter kind"), q.col_text(4)});
  return out;
}

void SqliteCaseStore::add_case_flag(std::int64_t case_id, const Flag& flag,
                                    const std::string& actor, Timestamp now) {
  db_.write([&] {
    CaseRecord c = load_case(case_id);
    if (std::find(c.flags.begin(), c.flags.end(), flag) != c.flags.end()) return;
    c.flags.push_back(flag);
    const std::string at = iso_utc(now);
    {
      Stmt q(db_.prepare("UPDATE cases SET flags = ?, updated_at = ? WHERE id = ?"));
      q.text(1, flags_json(c.flags).dump()).text(2, at).i64(3, case_id).run();
    }
    const std::string name(enum_name(c.state));
    events_.insert(case_id, at, actor, name, name, "flag " + flag.code,
                   nlohmann::json{{"flag", flag.code}, {"reason", flag.reason}}.dump());
  });
}

}  // namespace tilskudd
