#include "workflow/store_sqlite.h"

namespace tilskudd {

namespace {

constexpr const char* kOutboxColumns =
    "id, case_id, kind, message_id, recipient, subject, body, status, attempts, "
    "next_attempt_at, last_error, created_at";

OutboxItem read_outbox(Stmt& q) {
  OutboxItem o;
  o.id = q.col_i64(0);
  o.case_id = q.col_i64(1);
  o.kind = from_db<OutboxKind>(q.col_text(2), "outbox kind");
  o.message_id = q.col_text(3);
  o.recipient = q.col_text(4);
  o.subject = q.col_text(5);
  o.body = q.col_blob(6);
  o.status = from_db<OutboxStatus>(q.col_text(7), "outbox status");
  o.attempts = static_cast<int>(q.col_i64(8));
  o.next_attempt_at = q.col_text(9);
  o.last_error = q.col_text(10);
  o.created_at = q.col_text(11);
  return o;
}

}  // namespace

EnqueueResult SqliteOutboxStore::enqueue_outbox(const OutboxItem& item, Timestamp now) {
  std::string mid = normalise_message_id(item.message_id);
  if (mid.empty()) throw StoreError("outbox item without a message id");
  return db_.write([&] {
    {
      Stmt q(db_.prepare("SELECT id, case_id, kind FROM outbox WHERE message_id = ?"));
      q.text(1, mid);
      if (q.step()) {
        if (q.col_i64(1) == item.case_id && q.col_text(2) == enum_name(item.kind))
          return EnqueueResult{q.col_i64(0), false};
        throw StoreError("message id " + mid + " is already used by another outbox item");
      }
    }
    std::string at = iso_utc(now);
    Stmt q(db_.prepare(
        "INSERT INTO outbox(case_id, kind, message_id, recipient, subject, body, status, "
        "attempts, next_attempt_at, last_error, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)"));
    q.i64(1, item.case_id).text(2, enum_name(item.kind)).text(3, mid);
    q.text(4, item.recipient).text(5, item.subject).blob(6, item.body);
    q.text(7, item.next_attempt_at.empty() ? at : item.next_attempt_at).text(8, at).run();
    return EnqueueResult{sqlite3_last_insert_rowid(db_.handle()), true};
  });
}

std::optional<OutboxItem> SqliteOutboxStore::next_due_outbox(Timestamp now) {
  Stmt q(db_.prepare(std::string("SELECT ") + kOutboxColumns +
                     " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                     "ORDER BY next_attempt_at, id LIMIT 1"));
  q.text(1, iso_utc(now));
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::optional<OutboxItem> SqliteOutboxStore::outbox_item(std::int64_t id) {
  Stmt q(db_.prepare(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::vector<OutboxItem> SqliteOutboxStore::outbox_for_case(std::int64_t case_id) {
  Stmt q(db_.prepare(std::string("SELECT ") + kOutboxColumns +
                     " FROM outbox WHERE case_id = ? ORDER BY id"));
  q.i64(1, case_id);
  std::vector<OutboxItem> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

void SqliteOutboxStore::mark_outbox(std::int64_t id, OutboxStatus status, const std::string& error,
                                    std::optional<Timestamp> next_attempt) {
  Stmt q(
      db_.prepare("UPDATE outbox SET status = ?1, last_error = ?2, "
                  "attempts = attempts + (CASE WHEN ?1 = 'sending' THEN 1 ELSE 0 END), "
                  "next_attempt_at = COALESCE(?3, next_attempt_at) WHERE id = ?4"));
  q.text(1, enum_name(status)).text(2, error);
  if (next_attempt)
    q.text(3, iso_utc(*next_attempt));
  else
    q.null(3);
  q.i64(4, id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

void SqliteOutboxStore::begin_send(std::int64_t id, Timestamp now) {
  Stmt q(db_.prepare(
      "UPDATE outbox SET status = 'sending', attempts = attempts + 1, attempted_at = ?, "
      "send_step = NULL WHERE id = ?"));
  q.text(1, iso_utc(now)).i64(2, id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

int SqliteOutboxStore::count_outbox_to(const std::string& recipient, Timestamp since) {
  Stmt q(
      db_.prepare("SELECT COUNT(*) FROM outbox WHERE recipient = ? COLLATE NOCASE AND status IN "
                  "('sending', 'sent', 'uncertain') AND attempted_at >= ?"));
  q.text(1, recipient).text(2, iso_utc(since));
  return q.step() ? static_cast<int>(q.col_i64(0)) : 0;
}

void SqliteOutboxStore::requeue_outbox(std::int64_t id, Timestamp now) {
  Stmt q(
      db_.prepare("UPDATE outbox SET status = 'pending', attempts = 0, last_error = '', "
                  "next_attempt_at = ?, send_step = NULL WHERE id = ?"));
  q.text(1, iso_utc(now)).i64(2, id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

void SqliteOutboxStore::mark_data_handed_over(std::int64_t id) {
  // The SMTP client holds back the message's last bytes and the terminating dot until this
  // returns, so a kill between this commit and the dot leaves a mail marked "handed over" that
  // the server never got: it is then held for a person as uncertain instead of being sent. An
  // fsync here would make that window milliseconds wide. So this one commit is made with
  // synchronous = NORMAL (WAL mode: written, not synced). Written, it survives the death of the
  // process, which is what the window is about; the next commit (the send's outcome, FULL)
  // syncs it with everything else. After a power loss it may be missing, and the send is then
  // repeated: a duplicate only if the server had accepted it in those same milliseconds.
  db_.exec("PRAGMA synchronous = NORMAL");
  struct Restore {
    SqliteDb& db;
    ~Restore() {
      try {
        db.exec("PRAGMA synchronous = FULL");
      } catch (...) {
        // The next open sets it again; a failing store is reported by the next statement.
      }
    }
  } restore{db_};
  Stmt q(db_.prepare("UPDATE outbox SET send_step = 'data' WHERE id = ? AND status = 'sending'"));
  q.i64(1, id).run();
}

int SqliteOutboxStore::recover_outbox() {
  return db_.write([&] {
    // Killed before the whole message was handed over: the server never got the terminating
    // dot, so it delivered nothing (RFC 5321 4.1.1.4): sending it again is safe.
    {
      Stmt q(db_.prepare(
          "UPDATE outbox SET status = 'pending', last_error = 'interrupted before the data was "
          "complete; sent again' WHERE status = 'sending' AND send_step IS NULL"));
      q.run();
    }
    const int resent = sqlite3_changes(db_.handle());
    Stmt q(db_.prepare(
        "UPDATE outbox SET status = 'uncertain', last_error = 'interrupted after the data was "
        "handed over; the server may have accepted it' WHERE status = 'sending'"));
    q.run();
    return resent + sqlite3_changes(db_.handle());
  });
}

}  // namespace tilskudd
