#include "workflow/store_sqlite.h"

#include "workflow/sha256.h"

namespace tilskudd {

namespace {

// The canonical text of an event for the hash chain: every field, length-prefixed so that no
// two different events have the same text.
std::string event_text(const std::string& prev_hash, std::int64_t id, std::int64_t case_id,
                       const std::string& at, const std::string& actor,
                       const std::optional<std::string>& from, const std::string& to,
                       const std::string& reason, const std::string& detail) {
  std::string out = "tilskudd-event-v1";
  auto field = [&](std::string_view v) {
    out += '\n';
    out += std::to_string(v.size());
    out += ':';
    out += v;
  };
  field(prev_hash);
  field(std::to_string(id));
  field(std::to_string(case_id));
  field(at);
  field(actor);
  field(from ? *from : std::string("\x01null"));
  field(to);
  field(reason);
  field(detail);
  return out;
}

}  // namespace

void SqliteEventLog::insert(std::int64_t case_id, const std::string& at, const std::string& actor,
                            const std::optional<std::string>& from, const std::string& to,
                            const std::string& reason, const std::string& detail) {
  std::string prev;
  std::int64_t id = 1;
  {
    Stmt q(db_.prepare("SELECT id, COALESCE(hash, '') FROM events ORDER BY id DESC LIMIT 1"));
    if (q.step()) {
      id = q.col_i64(0) + 1;
      prev = q.col_text(1);
    }
  }
  const std::string hash =
      sha256_hex(event_text(prev, id, case_id, at, actor, from, to, reason, detail));
  Stmt q(db_.prepare(
      "INSERT INTO events(id, case_id, at, actor, from_state, to_state, reason, detail, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.i64(1, id).i64(2, case_id).text(3, at).text(4, actor);
  if (from)
    q.text(5, *from);
  else
    q.null(5);
  q.text(6, to).text(7, reason).text(8, detail).text(9, hash).run();
}

void SqliteEventLog::add_event(std::int64_t case_id, const std::string& actor,
                               const std::string& reason, Timestamp now,
                               const nlohmann::json& detail) {
  db_.write([&] {
    std::string name;
    {
      Stmt q(db_.prepare("SELECT state FROM cases WHERE id = ?"));
      q.i64(1, case_id);
      if (!q.step()) throw StoreError("no case " + std::to_string(case_id));
      name = q.col_text(0);
    }
    insert(case_id, iso_utc(now), actor, name, name, reason, detail.dump());
  });
}

std::vector<CaseEvent> SqliteEventLog::case_events(std::int64_t case_id) {
  Stmt q(
      db_.prepare("SELECT id, case_id, at, actor, from_state, to_state, reason, detail FROM events "
                  "WHERE case_id = ? ORDER BY id"));
  q.i64(1, case_id);
  std::vector<CaseEvent> out;
  while (q.step()) {
    CaseEvent e;
    e.id = q.col_i64(0);
    e.case_id = q.col_i64(1);
    e.at = q.col_text(2);
    e.actor = q.col_text(3);
    if (!q.col_null(4)) e.from = state_from_db(q.col_text(4));
    e.to = state_from_db(q.col_text(5));
    e.reason = q.col_text(6);
    e.detail = q.col_text(7);
    out.push_back(std::move(e));
  }
  return out;
}

EventChainCheck SqliteEventLog::verify_events() {
  EventChainCheck r;
  Stmt q(
      db_.prepare("SELECT id, case_id, at, actor, from_state, to_state, reason, detail, hash FROM "
                  "events ORDER BY id"));
  std::string prev;
  std::int64_t expected_id = 0;
  bool chain_started = false;
  while (q.step()) {
    const std::int64_t id = q.col_i64(0);
    if (q.col_null(8)) {
      if (chain_started) {
        r.ok = false;
        r.first_bad_id = id;
        r.problem = "event " + std::to_string(id) + " has no hash inside the chain";
        return r;
      }
      ++r.before_chain;
      expected_id = id + 1;
      continue;
    }
    if (chain_started && id != expected_id) {
      r.ok = false;
      r.first_bad_id = id;
      r.problem = "events " + std::to_string(expected_id) + ".." + std::to_string(id - 1) +
                  " are missing (deleted)";
      return r;
    }
    std::optional<std::string> from;
    if (!q.col_null(4)) from = q.col_text(4);
    const std::string want =
        sha256_hex(event_text(prev, id, q.col_i64(1), q.col_text(2), q.col_text(3), from,
                              q.col_text(5), q.col_text(6), q.col_text(7)));
    if (want != q.col_text(8)) {
      r.ok = false;
      r.first_bad_id = id;
      r.problem = "event " + std::to_string(id) +
                  " does not match its hash (changed, or an "
                  "earlier event was removed)";
      return r;
    }
    chain_started = true;
    prev = want;
    expected_id = id + 1;
    ++r.checked;
    r.head_id = id;
    r.head_hash = want;
  }
  return r;
}

}  // namespace tilskudd
