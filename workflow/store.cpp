#include "workflow/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <utility>

#include "parsers/text.h"
#include "workflow/sha256.h"

namespace tilskudd {

namespace {

// Migration i takes user_version from i to i+1. Never edit a migration that has shipped; add
// the next one.
constexpr std::array<std::string_view, 7> kMigrations{
    // 1: messages, cases and their audit trail.
    R"sql(
CREATE TABLE mailbox_checkpoint(
  mailbox TEXT PRIMARY KEY,
  uidvalidity INTEGER NOT NULL,
  highest_uid INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE blobs(
  sha256 TEXT PRIMARY KEY,
  bytes BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE cases(
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,
  year INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('received', 'needs_documentation', 'flagged', 'decided',
                                       'decision_sent', 'scheduled', 'paid')),
  owner TEXT NOT NULL DEFAULT '',
  org_number TEXT NOT NULL DEFAULT '',
  contact_email TEXT NOT NULL DEFAULT '',
  account_number TEXT NOT NULL DEFAULT '',
  applicant_reference TEXT NOT NULL DEFAULT '',
  round TEXT,
  round_year INTEGER,
  round_number INTEGER,
  total INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  reminder_due TEXT,
  UNIQUE (year, seq)
);
CREATE INDEX cases_state ON cases(state);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  mailbox TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL REFERENCES blobs(sha256),
  received TEXT NOT NULL DEFAULT '',
  case_id INTEGER REFERENCES cases(id),
  status TEXT NOT NULL DEFAULT 'new',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE INDEX messages_case ON messages(case_id);
CREATE INDEX messages_status ON messages(status);
CREATE TABLE case_lines(
  case_id INTEGER NOT NULL REFERENCES cases(id),
  idx INTEGER NOT NULL,
  employee TEXT NOT NULL,
  employee_key TEXT NOT NULL,
  programme TEXT NOT NULL,
  cost INTEGER,
  state_status TEXT NOT NULL,
  state_grant INTEGER,
  outcome TEXT NOT NULL,
  amount INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  reason_code TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (case_id, idx)
);
CREATE TABLE letters(
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  message_row INTEGER REFERENCES messages(id),
  filename TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  sha256 TEXT REFERENCES blobs(sha256)
);
CREATE INDEX letters_case ON letters(case_id);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_case ON events(case_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql",
    // 2: the yearly ledger (rule 5's cap) and the outbox.
    R"sql(
CREATE TABLE ledger(
  id INTEGER PRIMARY KEY,
  year INTEGER NOT NULL,
  employee_key TEXT NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  amount INTEGER NOT NULL,
  kind TEXT NOT NULL
);
CREATE INDEX ledger_year_employee ON ledger(year, employee_key);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  kind TEXT NOT NULL CHECK (kind IN ('decision', 'documentation_request', 'reminder')),
  message_id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sending', 'sent', 'uncertain', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
-- Never two decisions for one case, whatever their message ids.
CREATE UNIQUE INDEX outbox_one_decision ON outbox(case_id) WHERE kind = 'decision';
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
)sql",
    // 3: what the mailbox still owes a message (keyword, quarantine), and what a case waits for.
    R"sql(
ALTER TABLE messages ADD COLUMN mailbox_state TEXT NOT NULL DEFAULT 'none'
  CHECK (mailbox_state IN ('none', 'to_mark', 'marked', 'to_quarantine', 'quarantined'));
CREATE INDEX messages_mailbox_state ON messages(mailbox, mailbox_state)
  WHERE mailbox_state IN ('to_mark', 'to_quarantine');
ALTER TABLE cases ADD COLUMN received TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN missing_documentation TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX cases_org_round ON cases(org_number, round);
CREATE INDEX outbox_recipient ON outbox(recipient, created_at);
)sql",
    // 4: when each outgoing mail was handed to the SMTP server (the per-recipient limit counts
    // mails by when they left, not when they were queued).
    R"sql(
ALTER TABLE outbox ADD COLUMN attempted_at TEXT;
CREATE INDEX outbox_recipient_attempted ON outbox(recipient, attempted_at);
CREATE INDEX cases_org ON cases(org_number);
)sql",
    // 5: the event log becomes a hash chain (tampering shows); events written before it have no
    // hash and are reported as such by verify_events.
    R"sql(
ALTER TABLE events ADD COLUMN hash TEXT;
-- How far a send got: NULL before the message's last byte was handed to the SMTP client,
-- 'data' after (only then may the server have accepted it).
ALTER TABLE outbox ADD COLUMN send_step TEXT;
)sql",
    // 6: the duplicate check looks up an organisation's cases by employee (name key) instead of
    // loading every case of the organisation. An index fills itself from the existing rows and
    // follows every change of a case's lines and organisation, so nothing needs a backfill.
    R"sql(
CREATE INDEX case_lines_employee ON case_lines(employee_key, case_id);
)sql",
    // 7: every column that holds an enum gets the CHECK list of its name table (the tables next
    // to the enums; tests/unit/store_test.cpp keeps the two equal). SQLite cannot add a CHECK to
    // a column, so the four tables are rebuilt (SQLite's "generalized ALTER TABLE procedure":
    // migrate() runs with foreign keys off and checks them before it commits). Rows, ids and
    // the events' hashes are copied as they are; the event log's triggers come back.
    R"sql(
CREATE TABLE messages_new(
  id INTEGER PRIMARY KEY,
  mailbox TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL REFERENCES blobs(sha256),
  received TEXT NOT NULL DEFAULT '',
  case_id INTEGER REFERENCES cases(id),
  status TEXT NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'processed', 'ignored', 'duplicate', 'failed', 'quarantined')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  mailbox_state TEXT NOT NULL DEFAULT 'none'
    CHECK (mailbox_state IN ('none', 'to_mark', 'marked', 'to_quarantine', 'quarantined')),
  UNIQUE (mailbox, uidvalidity, uid)
);
INSERT INTO messages_new(id, mailbox, uidvalidity, uid, message_id, sha256, received, case_id,
                         status, attempts, last_error, mailbox_state)
  SELECT id, mailbox, uidvalidity, uid, message_id, sha256, received, case_id, status, attempts,
         last_error, mailbox_state FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_sha256 ON messages(sha256);
CREATE INDEX messages_case ON messages(case_id);
CREATE INDEX messages_status ON messages(status);
CREATE INDEX messages_mailbox_state ON messages(mailbox, mailbox_state)
  WHERE mailbox_state IN ('to_mark', 'to_quarantine');

CREATE TABLE case_lines_new(
  case_id INTEGER NOT NULL REFERENCES cases(id),
  idx INTEGER NOT NULL,
  employee TEXT NOT NULL,
  employee_key TEXT NOT NULL,
  programme TEXT NOT NULL CHECK (programme IN ('ABLU', 'BLU_DELTID', 'OTHER')),
  cost INTEGER,
  state_status TEXT NOT NULL CHECK (state_status IN ('granted', 'rejected', 'unknown')),
  state_grant INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('approved', 'rejected', 'flagged', 'pending')),
  amount INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  reason_code TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (case_id, idx)
);
INSERT INTO case_lines_new(case_id, idx, employee, employee_key, programme, cost, state_status,
                           state_grant, outcome, amount, reason, reason_code)
  SELECT case_id, idx, employee, employee_key, programme, cost, state_status, state_grant,
         outcome, amount, reason, reason_code FROM case_lines;
DROP TABLE case_lines;
ALTER TABLE case_lines_new RENAME TO case_lines;
CREATE INDEX case_lines_employee ON case_lines(employee_key, case_id);

CREATE TABLE letters_new(
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  message_row INTEGER REFERENCES messages(id),
  filename TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK (kind IN ('grant', 'rejection', 'unknown')),
  sha256 TEXT REFERENCES blobs(sha256)
);
INSERT INTO letters_new(id, case_id, message_row, filename, kind, sha256)
  SELECT id, case_id, message_row, filename, kind, sha256 FROM letters;
DROP TABLE letters;
ALTER TABLE letters_new RENAME TO letters;
CREATE INDEX letters_case ON letters(case_id);

CREATE TABLE events_new(
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  from_state TEXT CHECK (from_state IN ('received', 'needs_documentation', 'flagged', 'decided',
                                        'decision_sent', 'scheduled', 'paid')),
  to_state TEXT NOT NULL CHECK (to_state IN ('received', 'needs_documentation', 'flagged',
                                             'decided', 'decision_sent', 'scheduled', 'paid')),
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}',
  hash TEXT
);
INSERT INTO events_new(id, case_id, at, actor, from_state, to_state, reason, detail, hash)
  SELECT id, case_id, at, actor, from_state, to_state, reason, detail, hash FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_case ON events(case_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
)sql",
};

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

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw StoreError(what + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

// A cached prepared statement in use: reset and unbound when it goes out of scope.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& i64(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& text(int i, std::string_view v) {
    check(sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& blob(int i, std::string_view v) {
    check(sqlite3_bind_blob(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  // Binds `v` without a copy (SQLITE_STATIC): the caller's bytes must outlive this Stmt, which
  // unbinds them when it goes out of scope. For raw messages, which may be tens of megabytes.
  Stmt& blob_no_copy(int i, std::string_view v) {
    check(sqlite3_bind_blob(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                            SQLITE_STATIC));
    return *this;
  }
  Stmt& null(int i) {
    check(sqlite3_bind_null(s_, i));
    return *this;
  }
  Stmt& opt_i64(int i, std::optional<std::int64_t> v) { return v ? i64(i, *v) : null(i); }
  Stmt& text_or_null(int i, std::string_view v) { return v.empty() ? null(i) : text(i, v); }

  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(sqlite3_db_handle(s_), std::string("SQL failed (") + sqlite3_sql(s_) + ")");
  }
  void run() {
    while (step()) {
    }
  }

  std::int64_t col_i64(int c) { return sqlite3_column_int64(s_, c); }
  bool col_null(int c) { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::optional<std::int64_t> col_opt_i64(int c) {
    return col_null(c) ? std::nullopt : std::optional<std::int64_t>(col_i64(c));
  }
  std::string col_text(int c) {
    const unsigned char* p = sqlite3_column_text(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : "";
  }
  std::string col_blob(int c) {
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : "";
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(sqlite3_db_handle(s_), "bind failed");
  }
  sqlite3_stmt* s_;
};

// Message ids are stored and compared without white space and angle brackets.
std::string normalise_message_id(std::string_view id) {
  auto is_trim = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!id.empty() && is_trim(id.front())) id.remove_prefix(1);
  while (!id.empty() && is_trim(id.back())) id.remove_suffix(1);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return std::string(id);
}

int year_of(Timestamp t) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return static_cast<int>(ymd.year());
}

// A column's text as its enum; the schema's CHECK lists keep anything else out.
template <NamedEnum E>
E from_db(const std::string& s, const char* what) {
  auto v = parse_enum<E>(s);
  if (!v) throw StoreError(std::string("unknown ") + what + " in database: " + s);
  return *v;
}

CaseState state_from_db(const std::string& s) {
  return from_db<CaseState>(s, "case state");
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

constexpr const char* kMessageColumns =
    "id, mailbox, uidvalidity, uid, message_id, sha256, received, case_id, status, attempts, "
    "last_error, mailbox_state";

}  // namespace

std::string iso_utc(Timestamp t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// ---- lifetime ------------------------------------------------------------------------------

Store::Store(sqlite3* db) : db_(db) {}

Store::~Store() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

Store::Store(Store&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      statements_(std::move(other.statements_)),
      tx_depth_(std::exchange(other.tx_depth_, 0)) {
  other.statements_.clear();
}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    statements_ = std::move(other.statements_);
    other.statements_.clear();
    tx_depth_ = std::exchange(other.tx_depth_, 0);
  }
  return *this;
}

std::string Store::path() const {
  const char* p = sqlite3_db_filename(db_, "main");
  return p ? std::string(p) : std::string();
}

Store Store::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (raw) sqlite3_close_v2(raw);
    throw StoreError("cannot open " + path + ": " + msg, rc);
  }
  Store store(raw);  // closes the connection if anything below throws
  sqlite3_extended_result_codes(raw, 1);
  // Writers (the daemon, an admin command) wait for each other up to 5 s instead of failing.
  sqlite3_busy_timeout(raw, 5000);
  // Off while migrating (see migrate), on for everything after.
  store.exec("PRAGMA foreign_keys = OFF");
  // WAL: readers never block the writer and see every committed transaction.
  store.exec("PRAGMA journal_mode = WAL");
  // FULL rather than NORMAL: in WAL mode NORMAL stays consistent but may lose the last
  // commits on power loss. Every commit here stands for something that happened in the
  // world (a decision queued, an outbox row marked sent after SMTP accepted it, a
  // checkpoint past messages we processed); forgetting one risks a duplicate letter. At a few
  // hundred applications a year the fsync per commit costs nothing that matters.
  store.exec("PRAGMA synchronous = FULL");
  if (store.journal_mode() != "wal")
    throw StoreError("cannot switch " + path + " to WAL journal mode");
  store.migrate();
  store.exec("PRAGMA foreign_keys = ON");
  return store;
}

std::span<const std::string_view> Store::migrations() {
  return kMigrations;
}
int Store::latest_version() {
  return static_cast<int>(kMigrations.size());
}

int Store::schema_version() {
  Stmt q(prepare("PRAGMA user_version"));
  q.step();
  return static_cast<int>(q.col_i64(0));
}

std::string Store::journal_mode() {
  Stmt q(prepare("PRAGMA journal_mode"));
  q.step();
  return q.col_text(0);
}

void Store::migrate() {
  // One transaction for all pending migrations: the version is read under the write lock, so
  // two processes opening a new file at once cannot both apply migration 1.
  transaction([&] {
    int version = schema_version();
    if (version > latest_version())
      throw StoreError("database schema version " + std::to_string(version) +
                       " is newer than this program's " + std::to_string(latest_version()));
    for (int v = version; v < latest_version(); ++v) {
      exec(std::string(kMigrations[static_cast<std::size_t>(v)]).c_str());
      exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    }
    // Foreign keys are off while migrating (a table rebuilt under a referenced name would
    // otherwise take its children's rows with it); nothing may dangle when they come back on.
    if (version < latest_version()) {
      Stmt q(prepare("PRAGMA foreign_key_check"));
      if (q.step())
        throw StoreError("migration left a dangling reference in table " + q.col_text(0));
    }
  });
}

void Store::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StoreError(std::string("SQL failed (") + sql + "): " + msg,
                     sqlite3_extended_errcode(db_));
  }
}

sqlite3_stmt* Store::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()) + 1,
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    fail(db_, "cannot prepare (" + key + ")");
  statements_.emplace(std::move(key), s);
  return s;
}

// ---- transactions --------------------------------------------------------------------------

Store::Transaction::Transaction(Store& store) : store_(store), depth_(store.tx_depth_) {
  if (depth_ == 0)
    store_.exec("BEGIN IMMEDIATE");
  else
    store_.exec(("SAVEPOINT sp" + std::to_string(depth_)).c_str());
  ++store_.tx_depth_;
}

void Store::Transaction::commit() {
  if (depth_ == 0)
    store_.exec("COMMIT");
  else
    store_.exec(("RELEASE sp" + std::to_string(depth_)).c_str());
  done_ = true;
  --store_.tx_depth_;
}

Store::Transaction::~Transaction() {
  if (done_) return;
  try {
    if (depth_ == 0) {
      store_.exec("ROLLBACK");
    } else {
      std::string sp = "sp" + std::to_string(depth_);
      store_.exec(("ROLLBACK TO " + sp + "; RELEASE " + sp).c_str());
    }
  } catch (...) {
    // SQLite may have rolled back already (e.g. on SQLITE_FULL); nothing more to undo.
  }
  --store_.tx_depth_;
}

// ---- checkpoints ---------------------------------------------------------------------------

std::optional<Checkpoint> Store::checkpoint(const std::string& mailbox) {
  Stmt q(prepare(
      "SELECT uidvalidity, highest_uid, updated_at FROM mailbox_checkpoint WHERE mailbox = ?"));
  q.text(1, mailbox);
  if (!q.step()) return std::nullopt;
  return Checkpoint{mailbox, static_cast<std::uint32_t>(q.col_i64(0)),
                    static_cast<std::uint32_t>(q.col_i64(1)), q.col_text(2)};
}

void Store::set_checkpoint(const std::string& mailbox, std::uint32_t uidvalidity,
                           std::uint32_t highest_uid, Timestamp now) {
  Stmt q(prepare(
      "INSERT INTO mailbox_checkpoint(mailbox, uidvalidity, highest_uid, updated_at) "
      "VALUES (?, ?, ?, ?) ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
      "highest_uid = excluded.highest_uid, updated_at = excluded.updated_at"));
  q.text(1, mailbox).i64(2, uidvalidity).i64(3, highest_uid).text(4, iso_utc(now)).run();
}

// ---- blobs and messages --------------------------------------------------------------------

std::string Store::put_blob(std::string_view bytes) {
  std::string sha = sha256_hex(bytes);
  Stmt q(prepare("INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)"));
  q.text(1, sha).blob_no_copy(2, bytes).run();  // `bytes` outlives q
  return sha;
}

std::optional<std::string> Store::blob(const std::string& sha256) {
  Stmt q(prepare("SELECT bytes FROM blobs WHERE sha256 = ?"));
  q.text(1, sha256);
  if (!q.step()) return std::nullopt;
  return q.col_blob(0);
}

RecordResult Store::record_message(const IncomingMessage& m) {
  RecordResult r;
  r.sha256 = sha256_hex(m.raw);
  std::string mid = normalise_message_id(m.message_id);
  return transaction([&] {
    {
      Stmt q(prepare("SELECT id FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?"));
      q.text(1, m.mailbox).i64(2, m.uidvalidity).i64(3, m.uid);
      if (q.step()) r.id = q.col_i64(0);
    }
    if (r.id == 0) {
      {
        // m.raw outlives q: no copy of the message for the bind (SQLite's record is one).
        Stmt q(prepare("INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)"));
        q.text(1, r.sha256).blob_no_copy(2, m.raw).run();
      }
      Stmt q(prepare(
          "INSERT INTO messages(mailbox, uidvalidity, uid, message_id, sha256, received, status) "
          "VALUES (?, ?, ?, ?, ?, ?, 'new')"));
      q.text(1, m.mailbox).i64(2, m.uidvalidity).i64(3, m.uid).text(4, mid).text(5, r.sha256);
      q.text(6, m.received).run();
      r.id = sqlite3_last_insert_rowid(db_);
      r.inserted = true;
    }
    if (!mid.empty()) {
      Stmt q(prepare("SELECT id FROM messages WHERE message_id = ? AND id <> ? ORDER BY id"));
      q.text(1, mid).i64(2, r.id);
      while (q.step()) r.same_message_id.push_back(q.col_i64(0));
    }
    Stmt q(prepare("SELECT id FROM messages WHERE sha256 = ? AND id <> ? ORDER BY id"));
    q.text(1, r.sha256).i64(2, r.id);
    while (q.step()) r.same_content.push_back(q.col_i64(0));
    return r;
  });
}

std::optional<MessageRecord> Store::message(std::int64_t id) {
  Stmt q(prepare(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return read_message(q);
}

std::optional<std::string> Store::message_raw(std::int64_t id) {
  Stmt q(
      prepare("SELECT b.bytes FROM messages m JOIN blobs b ON b.sha256 = m.sha256 WHERE m.id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return q.col_blob(0);
}

std::vector<MessageRecord> Store::messages_with_status(MessageStatus status) {
  Stmt q(prepare(std::string("SELECT ") + kMessageColumns +
                 " FROM messages WHERE status = ? ORDER BY id"));
  q.text(1, enum_name(status));
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

void Store::mark_message(std::int64_t id, MessageStatus status, const std::string& error) {
  Stmt q(
      prepare("UPDATE messages SET status = ?1, last_error = ?2, "
              "attempts = attempts + (CASE WHEN ?1 = 'failed' THEN 1 ELSE 0 END) WHERE id = ?3"));
  q.text(1, enum_name(status)).text(2, error).i64(3, id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no message " + std::to_string(id));
}

void Store::forget_message_bytes(std::int64_t id) {
  Stmt q(prepare(
      "UPDATE blobs SET bytes = X'' WHERE sha256 = (SELECT sha256 FROM messages WHERE id = ?1) "
      "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.sha256 = blobs.sha256 AND m.id <> ?1 "
      "AND m.case_id IS NOT NULL)"));
  q.i64(1, id).run();
}

void Store::set_mailbox_state(std::int64_t id, MailboxState state) {
  Stmt q(prepare("UPDATE messages SET mailbox_state = ? WHERE id = ?"));
  q.text(1, enum_name(state)).i64(2, id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no message " + std::to_string(id));
}

std::vector<MessageRecord> Store::messages_with_mailbox_state(const std::string& mailbox,
                                                              MailboxState state) {
  Stmt q(prepare(std::string("SELECT ") + kMessageColumns +
                 " FROM messages WHERE mailbox = ? AND mailbox_state = ? ORDER BY uid"));
  q.text(1, mailbox).text(2, enum_name(state));
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

std::vector<MessageRecord> Store::case_messages(std::int64_t case_id) {
  Stmt q(prepare(std::string("SELECT ") + kMessageColumns +
                 " FROM messages WHERE case_id = ? ORDER BY id"));
  q.i64(1, case_id);
  std::vector<MessageRecord> out;
  while (q.step()) out.push_back(read_message(q));
  return out;
}

std::optional<MessageRecord> Store::find_message(const std::string& mailbox,
                                                 std::uint32_t uidvalidity, std::uint32_t uid) {
  Stmt q(prepare(std::string("SELECT ") + kMessageColumns +
                 " FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?"));
  q.text(1, mailbox).i64(2, uidvalidity).i64(3, uid);
  if (!q.step()) return std::nullopt;
  return read_message(q);
}

std::vector<std::string> Store::known_message_ids(const std::string& mailbox, bool only_unmoved) {
  Stmt q(
      prepare("SELECT DISTINCT message_id FROM messages WHERE mailbox = ?1 AND message_id <> '' "
              "AND (?2 = 0 OR mailbox_state NOT IN ('marked', 'to_mark')) ORDER BY message_id"));
  q.text(1, mailbox).i64(2, only_unmoved ? 1 : 0);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.col_text(0));
  return out;
}

void Store::attach_message(std::int64_t message_row, std::int64_t case_id) {
  Stmt q(prepare("UPDATE messages SET case_id = ? WHERE id = ?"));
  q.i64(1, case_id).i64(2, message_row).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no message " + std::to_string(message_row));
}

// ---- cases ---------------------------------------------------------------------------------

void Store::write_lines(std::int64_t case_id, const Form& form, const rules::Decision& decision) {
  {
    Stmt del(prepare("DELETE FROM case_lines WHERE case_id = ?"));
    del.i64(1, case_id).run();
  }
  std::size_t n = std::max(form.lines.size(), decision.lines.size());
  for (std::size_t i = 0; i < n; ++i) {
    const FormLine* f = i < form.lines.size() ? &form.lines[i] : nullptr;
    const rules::LineDecision* d = i < decision.lines.size() ? &decision.lines[i] : nullptr;
    std::string employee = d ? d->employee : f->employee;
    Stmt q(
        prepare("INSERT INTO case_lines(case_id, idx, employee, employee_key, programme, cost, "
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

CaseRecord Store::create_case(const Assessment& a, std::int64_t message_row, Timestamp now,
                              const std::string& actor) {
  return transaction([&] {
    int year = year_of(now);
    int seq = 1;
    {
      Stmt q(prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?"));
      q.i64(1, year);
      if (q.step()) seq = static_cast<int>(q.col_i64(0));
    }
    char ref[32];
    std::snprintf(ref, sizeof ref, "TT-%04d-%04d", year, seq);
    std::string at = iso_utc(now);
    std::int64_t id = 0;
    {
      Stmt q(
          prepare("INSERT INTO cases(ref, year, seq, state, owner, org_number, contact_email, "
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
      id = sqlite3_last_insert_rowid(db_);
    }
    write_lines(id, a.form, a.decision);
    attach_message(message_row, id);
    for (const Letter& l : a.letters) add_letter(id, message_row, l.filename, l.kind);

    nlohmann::json detail = {{"message_row", message_row},
                             {"message_id", normalise_message_id(a.message_id)},
                             {"subject", a.subject},
                             {"assessed_status", enum_name(a.decision.status)},
                             {"total", a.decision.total}};
    nlohmann::json flags = nlohmann::json::array();
    for (const Flag& f : a.flags) flags.push_back(f.code);
    detail["flags"] = flags;
    insert_event(id, at, actor, std::nullopt, "received", "created from message", detail.dump());
    return load_case(id);
  });
}

CaseRecord Store::load_case(std::int64_t id) {
  auto c = find_case(id);
  if (!c) throw StoreError("no case " + std::to_string(id));
  return *c;
}

std::optional<CaseRecord> Store::find_case(std::int64_t id) {
  CaseRecord c;
  {
    Stmt q(prepare(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id = ?"));
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
  Stmt q(prepare(
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

std::optional<CaseRecord> Store::find_case_by_ref(const std::string& ref) {
  std::int64_t id = 0;
  {
    Stmt q(prepare("SELECT id FROM cases WHERE ref = ?"));
    q.text(1, ref);
    if (!q.step()) return std::nullopt;
    id = q.col_i64(0);
  }
  return find_case(id);
}

std::optional<CaseRecord> Store::find_case_by_message_id(const std::string& message_id) {
  std::string mid = normalise_message_id(message_id);
  if (mid.empty()) return std::nullopt;
  std::optional<std::int64_t> id;
  {
    Stmt q(
        prepare("SELECT case_id FROM messages WHERE message_id = ?1 AND case_id IS NOT NULL "
                "UNION ALL SELECT case_id FROM outbox WHERE message_id = ?1 LIMIT 1"));
    q.text(1, mid);
    if (q.step()) id = q.col_i64(0);
  }
  if (!id) return std::nullopt;
  return find_case(*id);
}

std::vector<CaseRecord> Store::cases_for_org_round(const std::string& org_number,
                                                   const std::string& round) {
  std::vector<std::int64_t> ids;
  {
    Stmt q(prepare("SELECT id FROM cases WHERE org_number = ? AND round = ? ORDER BY id"));
    q.text(1, org_number).text(2, round);
    while (q.step()) ids.push_back(q.col_i64(0));
  }
  std::vector<CaseRecord> out;
  for (auto id : ids) out.push_back(load_case(id));
  return out;
}

std::vector<CaseRecord> Store::cases_with_employees(const std::string& org_number,
                                                    const std::set<std::string>& employee_keys) {
  // Index case_lines_employee, then the case's row: the cost follows the employees' own cases,
  // not the organisation's.
  std::set<std::int64_t> ids;
  for (const std::string& key : employee_keys) {
    Stmt q(
        prepare("SELECT DISTINCT l.case_id FROM case_lines l JOIN cases c ON c.id = l.case_id "
                "WHERE l.employee_key = ? AND c.org_number = ?"));
    q.text(1, key).text(2, org_number);
    while (q.step()) ids.insert(q.col_i64(0));
  }
  std::vector<CaseRecord> out;
  for (auto id : ids) out.push_back(load_case(id));
  return out;
}

void Store::insert_event(std::int64_t case_id, const std::string& at, const std::string& actor,
                         const std::optional<std::string>& from, const std::string& to,
                         const std::string& reason, const std::string& detail) {
  std::string prev;
  std::int64_t id = 1;
  {
    Stmt q(prepare("SELECT id, COALESCE(hash, '') FROM events ORDER BY id DESC LIMIT 1"));
    if (q.step()) {
      id = q.col_i64(0) + 1;
      prev = q.col_text(1);
    }
  }
  const std::string hash =
      sha256_hex(event_text(prev, id, case_id, at, actor, from, to, reason, detail));
  Stmt q(prepare(
      "INSERT INTO events(id, case_id, at, actor, from_state, to_state, reason, detail, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.i64(1, id).i64(2, case_id).text(3, at).text(4, actor);
  if (from)
    q.text(5, *from);
  else
    q.null(5);
  q.text(6, to).text(7, reason).text(8, detail).text(9, hash).run();
}

int Store::forget_old_bytes(Timestamp cutoff, const std::string& reason, Timestamp now) {
  const std::string cut = iso_utc(cutoff);
  std::vector<std::int64_t> ids;
  {
    Stmt q(prepare(
        "SELECT c.id FROM cases c WHERE c.state IN ('decision_sent', 'scheduled', 'paid') AND "
        "c.updated_at < ? AND EXISTS (SELECT 1 FROM messages m JOIN blobs b ON b.sha256 = "
        "m.sha256 WHERE m.case_id = c.id AND length(b.bytes) > 0) ORDER BY c.id"));
    q.text(1, cut);
    while (q.step()) ids.push_back(q.col_i64(0));
  }
  for (std::int64_t id : ids) {
    transaction([&] {
      // Bytes shared with a case that must still keep them stay.
      Stmt q(
          prepare("UPDATE blobs SET bytes = X'' WHERE sha256 IN (SELECT sha256 FROM messages WHERE "
                  "case_id = ?1) AND NOT EXISTS (SELECT 1 FROM messages m JOIN cases c ON c.id = "
                  "m.case_id WHERE m.sha256 = blobs.sha256 AND c.id <> ?1 AND (c.state NOT IN "
                  "('decision_sent', 'scheduled', 'paid') OR c.updated_at >= ?2))"));
      q.i64(1, id).text(2, cut).run();
      const std::string state(enum_name(load_case(id).state));
      insert_event(id, iso_utc(now), "daemon", state, state, reason, "{}");
    });
  }
  return static_cast<int>(ids.size());
}

EventChainCheck Store::verify_events() {
  EventChainCheck r;
  Stmt q(
      prepare("SELECT id, case_id, at, actor, from_state, to_state, reason, detail, hash FROM "
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

std::vector<CaseRecord> Store::cases_for_org(const std::string& org_number) {
  std::vector<std::int64_t> ids;
  {
    Stmt q(prepare("SELECT id FROM cases WHERE org_number = ? ORDER BY id"));
    q.text(1, org_number);
    while (q.step()) ids.push_back(q.col_i64(0));
  }
  std::vector<CaseRecord> out;
  for (auto id : ids) out.push_back(load_case(id));
  return out;
}

void Store::add_event(std::int64_t case_id, const std::string& actor, const std::string& reason,
                      Timestamp now, const nlohmann::json& detail) {
  transaction([&] {
    CaseState state = load_case(case_id).state;
    const std::string name(enum_name(state));
    insert_event(case_id, iso_utc(now), actor, name, name, reason, detail.dump());
  });
}

std::vector<CaseRecord> Store::list_cases(std::optional<CaseState> state) {
  std::vector<std::int64_t> ids;
  {
    Stmt q(prepare("SELECT id FROM cases WHERE ?1 IS NULL OR state = ?1 ORDER BY id"));
    if (state)
      q.text(1, enum_name(*state));
    else
      q.null(1);
    while (q.step()) ids.push_back(q.col_i64(0));
  }
  std::vector<CaseRecord> out;
  for (auto id : ids) out.push_back(load_case(id));
  return out;
}

CaseRecord Store::transition(std::int64_t case_id, CaseState to, const std::string& actor,
                             const std::string& reason, Timestamp now,
                             const nlohmann::json& detail) {
  return transaction([&] {
    CaseState from = CaseState::received;
    std::string ref;
    {
      Stmt q(prepare("SELECT state, ref FROM cases WHERE id = ?"));
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
          prepare("UPDATE cases SET state = ?1, updated_at = ?2, "
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
        add_ledger(year, l.employee_key, case_id, l.amount,
                   rules::ledger_kind(l.reason_code, l.state_status));
      }
    }
    insert_event(case_id, at, actor, std::string(enum_name(from)), std::string(enum_name(to)),
                 reason, detail.dump());
    return load_case(case_id);
  });
}

void Store::update_decision(std::int64_t case_id, const Form& form, const rules::Decision& decision,
                            const std::vector<Flag>& flags, const std::string& actor,
                            Timestamp now) {
  transaction([&] {
    CaseState state = load_case(case_id).state;
    if (state != CaseState::received && state != CaseState::needs_documentation &&
        state != CaseState::flagged)
      throw StoreError("case " + std::to_string(case_id) + " is " + std::string(enum_name(state)) +
                       ": its decision cannot change");
    write_lines(case_id, form, decision);
    std::string at = iso_utc(now);
    {
      Stmt q(prepare(
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
    insert_event(case_id, at, actor, name, name, "decision updated", detail.dump());
  });
}

void Store::set_reminder_due(std::int64_t case_id, std::optional<Timestamp> due, Timestamp now) {
  Stmt q(prepare("UPDATE cases SET reminder_due = ?, updated_at = ? WHERE id = ?"));
  if (due)
    q.text(1, iso_utc(*due));
  else
    q.null(1);
  q.text(2, iso_utc(now)).i64(3, case_id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no case " + std::to_string(case_id));
}

void Store::add_letter(std::int64_t case_id, std::optional<std::int64_t> message_row,
                       const std::string& filename, LetterKind kind,
                       std::optional<std::string_view> bytes) {
  transaction([&] {
    std::string sha;
    if (bytes) sha = put_blob(*bytes);
    Stmt q(
        prepare("INSERT INTO letters(case_id, message_row, filename, kind, sha256) VALUES (?, ?, "
                "?, ?, ?)"));
    q.i64(1, case_id).opt_i64(2, message_row).text(3, filename).text(4, enum_name(kind));
    q.text_or_null(5, sha).run();
  });
}

std::vector<LetterRecord> Store::case_letters(std::int64_t case_id) {
  Stmt q(
      prepare("SELECT case_id, message_row, filename, kind, sha256 FROM letters WHERE case_id = ? "
              "ORDER BY id"));
  q.i64(1, case_id);
  std::vector<LetterRecord> out;
  while (q.step())
    out.push_back({q.col_i64(0), q.col_opt_i64(1), q.col_text(2),
                   from_db<LetterKind>(q.col_text(3), "letter kind"), q.col_text(4)});
  return out;
}

std::vector<CaseEvent> Store::case_events(std::int64_t case_id) {
  Stmt q(
      prepare("SELECT id, case_id, at, actor, from_state, to_state, reason, detail FROM events "
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

// ---- ledger --------------------------------------------------------------------------------

rules::PriorGrants Store::prior_grants(int year) {
  Stmt q(
      prepare("SELECT employee_key, SUM(amount) FROM ledger WHERE year = ? AND kind = ? "
              "GROUP BY employee_key"));
  q.i64(1, year).text(2, rules::kCapReasonCode);
  rules::PriorGrants out;
  while (q.step()) out[q.col_text(0)] = q.col_i64(1);
  return out;
}

void Store::add_ledger(int year, const std::string& employee_key, std::int64_t case_id,
                       Kroner amount, const std::string& kind) {
  Stmt q(prepare(
      "INSERT INTO ledger(year, employee_key, case_id, amount, kind) VALUES (?, ?, ?, ?, ?)"));
  q.i64(1, year).text(2, employee_key).i64(3, case_id).i64(4, amount).text(5, kind).run();
}

std::vector<LedgerEntry> Store::ledger_entries(std::optional<int> year,
                                               std::optional<std::string> employee_key) {
  Stmt q(prepare(
      "SELECT l.year, l.employee_key, l.case_id, c.ref, COALESCE(c.round, ''), l.amount, l.kind "
      "FROM ledger l JOIN cases c ON c.id = l.case_id "
      "WHERE (?1 IS NULL OR l.year = ?1) AND (?2 IS NULL OR l.employee_key = ?2) ORDER BY l.id"));
  if (year)
    q.i64(1, *year);
  else
    q.null(1);
  if (employee_key)
    q.text(2, *employee_key);
  else
    q.null(2);
  std::vector<LedgerEntry> out;
  while (q.step()) {
    LedgerEntry e;
    e.year = static_cast<int>(q.col_i64(0));
    e.employee_key = q.col_text(1);
    e.case_id = q.col_i64(2);
    e.case_ref = q.col_text(3);
    e.round = q.col_text(4);
    e.amount = q.col_i64(5);
    e.kind = q.col_text(6);
    e.counts_toward_cap = e.kind == rules::kCapReasonCode;
    out.push_back(std::move(e));
  }
  return out;
}

void Store::add_case_flag(std::int64_t case_id, const Flag& flag, const std::string& actor,
                          Timestamp now) {
  transaction([&] {
    CaseRecord c = load_case(case_id);
    if (std::find(c.flags.begin(), c.flags.end(), flag) != c.flags.end()) return;
    c.flags.push_back(flag);
    const std::string at = iso_utc(now);
    {
      Stmt q(prepare("UPDATE cases SET flags = ?, updated_at = ? WHERE id = ?"));
      q.text(1, flags_json(c.flags).dump()).text(2, at).i64(3, case_id).run();
    }
    const std::string name(enum_name(c.state));
    insert_event(case_id, at, actor, name, name, "flag " + flag.code,
                 nlohmann::json{{"flag", flag.code}, {"reason", flag.reason}}.dump());
  });
}

// ---- outbox --------------------------------------------------------------------------------

EnqueueResult Store::enqueue_outbox(const OutboxItem& item, Timestamp now) {
  std::string mid = normalise_message_id(item.message_id);
  if (mid.empty()) throw StoreError("outbox item without a message id");
  return transaction([&] {
    {
      Stmt q(prepare("SELECT id, case_id, kind FROM outbox WHERE message_id = ?"));
      q.text(1, mid);
      if (q.step()) {
        if (q.col_i64(1) == item.case_id && q.col_text(2) == enum_name(item.kind))
          return EnqueueResult{q.col_i64(0), false};
        throw StoreError("message id " + mid + " is already used by another outbox item");
      }
    }
    std::string at = iso_utc(now);
    Stmt q(
        prepare("INSERT INTO outbox(case_id, kind, message_id, recipient, subject, body, status, "
                "attempts, next_attempt_at, last_error, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)"));
    q.i64(1, item.case_id).text(2, enum_name(item.kind)).text(3, mid);
    q.text(4, item.recipient).text(5, item.subject).blob(6, item.body);
    q.text(7, item.next_attempt_at.empty() ? at : item.next_attempt_at).text(8, at).run();
    return EnqueueResult{sqlite3_last_insert_rowid(db_), true};
  });
}

std::optional<OutboxItem> Store::next_due_outbox(Timestamp now) {
  Stmt q(prepare(std::string("SELECT ") + kOutboxColumns +
                 " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                 "ORDER BY next_attempt_at, id LIMIT 1"));
  q.text(1, iso_utc(now));
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::optional<OutboxItem> Store::outbox_item(std::int64_t id) {
  Stmt q(prepare(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id = ?"));
  q.i64(1, id);
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::vector<OutboxItem> Store::outbox_for_case(std::int64_t case_id) {
  Stmt q(prepare(std::string("SELECT ") + kOutboxColumns +
                 " FROM outbox WHERE case_id = ? ORDER BY id"));
  q.i64(1, case_id);
  std::vector<OutboxItem> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

void Store::mark_outbox(std::int64_t id, OutboxStatus status, const std::string& error,
                        std::optional<Timestamp> next_attempt) {
  Stmt q(
      prepare("UPDATE outbox SET status = ?1, last_error = ?2, "
              "attempts = attempts + (CASE WHEN ?1 = 'sending' THEN 1 ELSE 0 END), "
              "next_attempt_at = COALESCE(?3, next_attempt_at) WHERE id = ?4"));
  q.text(1, enum_name(status)).text(2, error);
  if (next_attempt)
    q.text(3, iso_utc(*next_attempt));
  else
    q.null(3);
  q.i64(4, id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

void Store::begin_send(std::int64_t id, Timestamp now) {
  Stmt q(
      prepare("UPDATE outbox SET status = 'sending', attempts = attempts + 1, attempted_at = ?, "
              "send_step = NULL WHERE id = ?"));
  q.text(1, iso_utc(now)).i64(2, id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

int Store::count_outbox_to(const std::string& recipient, Timestamp since) {
  Stmt q(
      prepare("SELECT COUNT(*) FROM outbox WHERE recipient = ? COLLATE NOCASE AND status IN "
              "('sending', 'sent', 'uncertain') AND attempted_at >= ?"));
  q.text(1, recipient).text(2, iso_utc(since));
  return q.step() ? static_cast<int>(q.col_i64(0)) : 0;
}

void Store::requeue_outbox(std::int64_t id, Timestamp now) {
  Stmt q(
      prepare("UPDATE outbox SET status = 'pending', attempts = 0, last_error = '', "
              "next_attempt_at = ?, send_step = NULL WHERE id = ?"));
  q.text(1, iso_utc(now)).i64(2, id).run();
  if (sqlite3_changes(db_) != 1) throw StoreError("no outbox item " + std::to_string(id));
}

void Store::mark_data_handed_over(std::int64_t id) {
  // The SMTP client holds back the message's last bytes and the terminating dot until this
  // returns, so a kill between this commit and the dot leaves a mail marked "handed over" that
  // the server never got: it is then held for a person as uncertain instead of being sent. An
  // fsync here would make that window milliseconds wide. So this one commit is made with
  // synchronous = NORMAL (WAL mode: written, not synced). Written, it survives the death of the
  // process, which is what the window is about; the next commit (the send's outcome, FULL)
  // syncs it with everything else. After a power loss it may be missing, and the send is then
  // repeated: a duplicate only if the server had accepted it in those same milliseconds.
  exec("PRAGMA synchronous = NORMAL");
  struct Restore {
    Store& store;
    ~Restore() {
      try {
        store.exec("PRAGMA synchronous = FULL");
      } catch (...) {
        // The next open sets it again; a failing store is reported by the next statement.
      }
    }
  } restore{*this};
  Stmt q(prepare("UPDATE outbox SET send_step = 'data' WHERE id = ? AND status = 'sending'"));
  q.i64(1, id).run();
}

int Store::recover_outbox() {
  return transaction([&] {
    // Killed before the whole message was handed over: the server never got the terminating
    // dot, so it delivered nothing (RFC 5321 4.1.1.4): sending it again is safe.
    {
      Stmt q(prepare(
          "UPDATE outbox SET status = 'pending', last_error = 'interrupted before the data was "
          "complete; sent again' WHERE status = 'sending' AND send_step IS NULL"));
      q.run();
    }
    const int resent = sqlite3_changes(db_);
    Stmt q(prepare(
        "UPDATE outbox SET status = 'uncertain', last_error = 'interrupted after the data was "
        "handed over; the server may have accepted it' WHERE status = 'sending'"));
    q.run();
    return resent + sqlite3_changes(db_);
  });
}

}  // namespace tilskudd
