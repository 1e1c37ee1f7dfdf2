#include "workflow/store_sqlite.h"

#include "workflow/sha256.h"

namespace tilskudd {

namespace {

constexpr const char* kMessageColumns =
    "id, mailbox, uidvalidity, uid, message_id, sha256, received, case_id, status, attempts, "
    "last_error, mailbox_state";

MessageRecord read_message(Stmt& q) {
  MessageRecord m;
  m.id = q.col_i64(0);
  m.mailbox = q.col_text(1);
  m.uidvalidity = static_cast<std::uint32_t>(q.col_i64(2));
  m.uid = static_cast<std::uint32_t>(q.col_i64(3));
  m.message_id = q.col_text(4);
  m.sha256 = q.col_text(5);
  m.received = q.col_text(6);
  m.case_id = q.col_opt_i64(7);
  m.status = from_db<MessageStatus>(q.col_text(8), "message status");
  m.attempts = static_cast<int>(q.col_i64(9));
  m.last_error = q.col_text(10);
  m.mailbox_state = from_db<MailboxState>(q.col_text(11), "mailbox state");
  return m;
}

}  // namespace

std::string normalise_message_id(std::string_view id) {
  auto is_trim = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!id.empty() && is_trim(id.front())) id.remove_prefix(1);
  while (!id.empty() && is_trim(id.back())) id.remove_suffix(1);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return std::string(id);
}

std::optional<Checkpoint> SqliteMessageLog::checkpoint(const std::string& mailbox) {
  Stmt q(db_.prepare(
      "SELECT uidvalidity, highest_uid, updated_at FROM mailbox_checkpoint WHERE mailbox = ?"));
  q.text(1, mailbox);
  if (!q.step()) return std::nullopt;
  return Checkpoint{mailbox, static_cast<std::uint32_t>(q.col_i64(0)),
                    static_cast<std::uint32_t>(q.col_i64(1)), q.col_text(2)};
}

void SqliteMessageLog::set_checkpoint(const std::string& mailbox, std::uint32_t uidvalidity,
                                      std::uint32_t highest_uid, Timestamp now) {
  Stmt q(db_.prepare(
      "INSERT INTO mailbox_checkpoint(mailbox, uidvalidity, highest_uid, updated_at) "
      "VALUES (?, ?, ?, ?) ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
      "highest_uid = excluded.highest_uid, updated_at = excluded.updated_at"));
  q.text(1, mailbox).i64(2, uidvalidity).i64(3, highest_uid).text(4, iso_utc(now)).run();
}

PendingUid SqliteMessageLog::note_pending(const std::string& mailbox, std::uint32_t uidvalidity,
                                          std::uint32_t uid, const std::string& reason,
                                          Timestamp now, Timestamp next_try) {
  return db_.write([&] {
    Stmt q(db_.prepare(
        "INSERT INTO pending_uids(mailbox, uidvalidity, uid, attempts, first_seen, last_attempt, "
        "next_try, reason) VALUES (?, ?, ?, 1, ?, ?, ?, ?) "
        "ON CONFLICT(mailbox, uidvalidity, uid) DO UPDATE SET attempts = attempts + 1, "
        "last_attempt = excluded.last_attempt, next_try = excluded.next_try, "
        "reason = excluded.reason"));
    const std::int64_t at = now.time_since_epoch().count();
    q.text(1, mailbox)
        .i64(2, uidvalidity)
        .i64(3, uid)
        .i64(4, at)
        .i64(5, at)
        .i64(6, next_try.time_since_epoch().count())
        .text(7, reason)
        .run();
    for (PendingUid& p : pending_uids(mailbox))
      if (p.uidvalidity == uidvalidity && p.uid == uid) return p;
    throw StoreError("pending UID row missing after its upsert");
  });
}

void SqliteMessageLog::clear_pending(const std::string& mailbox, std::uint32_t uidvalidity,
                                     std::uint32_t uid) {
  Stmt q(db_.prepare("DELETE FROM pending_uids WHERE mailbox = ? AND uidvalidity = ? AND uid = ?"));
  q.text(1, mailbox).i64(2, uidvalidity).i64(3, uid).run();
}

void SqliteMessageLog::clear_pending_except(const std::string& mailbox, std::uint32_t uidvalidity) {
  Stmt q(db_.prepare("DELETE FROM pending_uids WHERE mailbox = ? AND uidvalidity != ?"));
  q.text(1, mailbox).i64(2, uidvalidity).run();
}

std::vector<PendingUid> SqliteMessageLog::pending_uids(const std::string& mailbox) {
  Stmt q(db_.prepare(
      "SELECT mailbox, uidvalidity, uid, attempts, first_seen, last_attempt, next_try, reason "
      "FROM pending_uids WHERE ? = '' OR mailbox = ? ORDER BY mailbox, uidvalidity, uid"));
  q.text(1, mailbox).text(2, mailbox);
  std::vector<PendingUid> out;
  while (q.step()) {
    PendingUid p;
    p.mailbox = q.col_text(0);
    p.uidvalidity = static_cast<std::uint32_t>(q.col_i64(1));
    p.uid = static_cast<std::uint32_t>(q.col_i64(2));
    p.attempts = static_cast<int>(q.col_i64(3));
    p.first_seen = Timestamp{std::chrono::seconds{q.col_i64(4)}};
    p.last_attempt = Timestamp{std::chrono::seconds{q.col_i64(5)}};
    p.next_try = Timestamp{std::chrono::seconds{q.col_i64(6)}};
    p.reason = q.col_text(7);
    out.push_back(std::move(p));
  }
  return out;
}

std::string SqliteMessageLog::mailbox_since(const std::string& mailbox) {
  Stmt q(db_.prepare("SELECT since FROM mailbox_since WHERE mailbox = ?"));
  q.text(1, mailbox);
  return q.step() ? q.col_text(0) : std::string();
}

void SqliteMessageLog::set_mailbox_since(const std::string& mailbox, const std::string& day) {
  Stmt q(db_.prepare("INSERT OR IGNORE INTO mailbox_since(mailbox, since) VALUES (?, ?)"));
  q.text(1, mailbox).text(2, day).run();
}

std::optional<PdfText> SqliteMessageLog::document_text(const std::string& key) {
  Stmt q(db_.prepare("SELECT status, text, detail FROM document_text WHERE key = ?"));
  q.text(1, key);
  if (!q.step()) return std::nullopt;
  const std::string status = q.col_text(0);
  for (PdfStatus st : {PdfStatus::ok, PdfStatus::no_text, PdfStatus::encrypted, PdfStatus::broken,
                       PdfStatus::timeout, PdfStatus::too_large}) {
    if (pdf_status_code(st) == status) return PdfText{st, q.col_blob(1), q.col_text(2)};
  }
  return std::nullopt;  // a status this build does not know: read the document again
}

void SqliteMessageLog::put_document_text(const std::string& key, const PdfText& text) {
  Stmt q(db_.prepare(
      "INSERT OR REPLACE INTO document_text(key, status, text, detail) VALUES (?, ?, ?, ?)"));
  q.text(1, key)
      .text(2, std::string(pdf_status_code(text.status)))
      .blob_no_copy(3, text.text)
      .text(4, text.detail)
      .run();
}

std::string SqliteMessageLog::put_blob(std::string_view bytes) {
  std::string sha = sha256_hex(bytes);
  Stmt q(db_.prepare("INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)"));
  q.text(1, sha).blob_no_copy(2, bytes).run();  // `bytes` outlives q
  return sha;
}

std::optional<std::string> SqliteMessageLog::blob(const std::string& sha256) {
  Stmt q(db_.prepare("SELECT bytes FROM blobs WHERE sha256 = ?"));
  q.text(1, sha256);
  if (!q.step()) return std::nullopt;
  return q.col_blob(0);
}

RecordResult SqliteMessageLog::record_message(const IncomingMessage& m) {
  RecordResult r;
  r.sha256 = sha256_hex(m.raw);
  std::string mid = normalise_message_id(m.message_id);
  return db_.write([&] {
    {
      Stmt q(
          db_.prepare("SELECT id FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?"));
      q.text(1, m.mailbox).i64(2, m.uidvalidity).i64(3, m.uid);
      if (q.step()) r.id = q.col_i64(0);
    }
    if (r.id == 0) {
      {
        // m.raw outlives q: no copy of the message for the bind (SQLite's record is one).
        Stmt q(db_.prepare("INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)"));
        q.text(1, r.sha256).blob_no_copy(2, m.raw).run();
      }
      Stmt q(db_.prepare(
          "INSERT INTO messages(mailbox, uidvalidity, uid, message_id, sha256, received, status) "
          "VALUES (?, ?, ?, ?, ?, ?, 'new')"));
      q.text(1, m.mailbox).i64(2, m.uidvalidity).i64(3, m.uid).text(4, mid).text(5, r.sha256);
      q.text(6, m.received).run();
      r.id = sqlite3_last_insert_rowid(db_.handle());
      r.inserted = true;
    }
    if (!mid.empty()) {
      Stmt q(db_.prepare("SELECT id FROM messages WHERE message_id = ? AND id <> ? ORDER BY id"));
      q.text(1, mid).i64(2, r.id);
      while (q.step()) r.same_message_id.push_back(q.col_i64(0));
    }
    Stmt q(db_.prepare("SELECT id FROM messages WHERE sha256 = ? AND id <> ? ORDER BY id"));
    q.text(1, r.sha256).i64(2, r.id);
    while (q.step()) r.same_content.push_back(q.col_i64(0));
    return r;
  });
}

std::optional<MessageRecord> SqliteMessageLog::message(std::int64_t id) {
  Stmt q(db_.prepare(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return read_message(q);
}

std::optional<std::string> SqliteMessageLog::message_raw(std::int64_t id) {
  Stmt q(db_.prepare(
      "SELECT b.bytes FROM messages m JOIN blobs b ON b.sha256 = m.sha256 WHERE m.id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return q.col_blob(0);
}

std::vector<MessageRecord> SqliteMessageLog::messages_with_status(MessageStatus status) {
  Stmt q(db_.prepare(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE status = ? ORDER BY id"));
  q.text(1, enum_name(status));
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

void SqliteMessageLog::mark_message(std::int64_t id, MessageStatus status,
                                    const std::string& error) {
  Stmt q(db_.prepare(
      "UPDATE messages SET status = ?1, last_error = ?2, "
      "attempts = attempts + (CASE WHEN ?1 = 'failed' THEN 1 ELSE 0 END) WHERE id = ?3"));
  q.text(1, enum_name(status)).text(2, error).i64(3, id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no message " + std::to_string(id));
}

void SqliteMessageLog::forget_message_bytes(std::int64_t id) {
  Stmt q(db_.prepare(
      "UPDATE blobs SET bytes = X'' WHERE sha256 = (SELECT sha256 FROM messages WHERE id = ?1) "
      "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.sha256 = blobs.sha256 AND m.id <> ?1 "
      "AND m.case_id IS NOT NULL)"));
  q.i64(1, id).run();
}

void SqliteMessageLog::set_mailbox_state(std::int64_t id, MailboxState state) {
  Stmt q(db_.prepare("UPDATE messages SET mailbox_state = ? WHERE id = ?"));
  q.text(1, enum_name(state)).i64(2, id).run();
  if (sqlite3_changes(db_.handle()) != 1) throw StoreError("no message " + std::to_string(id));
}

std::vector<MessageRecord> SqliteMessageLog::messages_with_mailbox_state(const std::string& mailbox,
                                                                         MailboxState state) {
  Stmt q(db_.prepare(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE mailbox = ? AND mailbox_state = ? ORDER BY uid"));
  q.text(1, mailbox).text(2, enum_name(state));
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

std::vector<MessageRecord> SqliteMessageLog::case_messages(std::int64_t case_id) {
  Stmt q(db_.prepare(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE case_id = ? ORDER BY id"));
  q.i64(1, case_id);
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

std::optional<MessageRecord> SqliteMessageLog::find_message(const std::string& mailbox,
                                                            std::uint32_t uidvalidity,
                                                            std::uint32_t uid) {
  Stmt q(db_.prepare(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?"));
  q.text(1, mailbox).i64(2, uidvalidity).i64(3, uid);
  if (!q.step()) return std::nullopt;
  return read_message(q);
}

std::vector<std::string> SqliteMessageLog::known_message_ids(const std::string& mailbox,
                                                             bool only_unmoved) {
  Stmt q(db_.prepare(
      "SELECT DISTINCT message_id FROM messages WHERE mailbox = ?1 AND message_id <> '' "
      "AND (?2 = 0 OR mailbox_state NOT IN ('marked', 'to_mark')) ORDER BY message_id"));
  q.text(1, mailbox).i64(2, only_unmoved ? 1 : 0);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.col_text(0));
  return out;
}

void SqliteMessageLog::attach_message(std::int64_t message_row, std::int64_t case_id) {
  Stmt q(db_.prepare("UPDATE messages SET case_id = ? WHERE id = ?"));
  q.i64(1, case_id).i64(2, message_row).run();
  if (sqlite3_changes(db_.handle()) != 1)
    throw StoreError("no message " + std::to_string(message_row));
}

}  // namespace tilskudd
