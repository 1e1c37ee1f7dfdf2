#include "workflow/store_sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <utility>

#include "workflow/store.h"

namespace tilskudd {

namespace {

// Migration i takes user_version from i to i+1. Never edit a migration that has shipped; add
// the next one.
constexpr std::array<std::string_view, 10> kMigrations{
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
    // 8: UIDs the server listed without handing over a body (Exchange before its scan is done):
    // retried with backoff, never taken as expunged while the server still lists them
    // (docs/DECISIONS.md "Pending UIDs"). The times are Unix seconds.
    R"sql(
CREATE TABLE pending_uids(
  mailbox TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_attempt INTEGER NOT NULL,
  next_try INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (mailbox, uidvalidity, uid)
);
)sql",
    // 9: the text extracted from a case's documents, so that re-assessing a case (every reply
    // folds every message of the case again) reads each document once, not once per reply
    // (docs/DECISIONS.md "Bounded work per message"). Keyed by the document's sha256 and the
    // extraction limits it was read under; only documents of messages that belong to a case.
    R"sql(
CREATE TABLE document_text(
  key TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  text BLOB NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
)sql",
    // 10: the day from which a mailbox's mail is read when [mailbox] since is not set: the day
    // before the first start, written once (docs/DECISIONS.md "The IMAP wire"). A mailbox read
    // before this migration has no row: it had its first run already.
    R"sql(
CREATE TABLE mailbox_since(
  mailbox TEXT PRIMARY KEY,
  since TEXT NOT NULL
);
)sql",
};

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

[[noreturn]] void sqlite_fail(sqlite3* db, const std::string& what) {
  throw StoreError(what + ": " + sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

// ---- the connection ------------------------------------------------------------------------

SqliteDb::SqliteDb(const std::string& path) {
  // A new store is created 0600 whatever the umask (it holds personal data); SQLite gives its
  // -wal and -shm files the store's own mode. An existing file is left as it is.
  if (!path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    if (db_) sqlite3_close_v2(db_);
    throw StoreError("cannot open " + path + ": " + msg, rc);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    // Writers (the daemon, an admin command) wait for each other up to 5 s instead of failing.
    sqlite3_busy_timeout(db_, 5000);
    // Off while migrating (see migrate), on for everything after.
    exec("PRAGMA foreign_keys = OFF");
    // WAL: readers never block the writer and see every committed transaction.
    exec("PRAGMA journal_mode = WAL");
    // FULL rather than NORMAL: in WAL mode NORMAL stays consistent but may lose the last
    // commits on power loss. Every commit here stands for something that happened in the
    // world (a decision queued, an outbox row marked sent after SMTP accepted it, a
    // checkpoint past messages we processed); forgetting one risks a duplicate letter. At a few
    // hundred applications a year the fsync per commit costs nothing that matters.
    exec("PRAGMA synchronous = FULL");
    if (journal_mode() != "wal") throw StoreError("cannot switch " + path + " to WAL journal mode");
    migrate();
    exec("PRAGMA foreign_keys = ON");
  } catch (...) {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
    throw;
  }
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

std::string SqliteDb::path() const {
  const char* p = sqlite3_db_filename(db_, "main");
  return p ? std::string(p) : std::string();
}

int SqliteDb::schema_version() {
  Stmt q(prepare("PRAGMA user_version"));
  q.step();
  return static_cast<int>(q.col_i64(0));
}

std::string SqliteDb::journal_mode() {
  Stmt q(prepare("PRAGMA journal_mode"));
  q.step();
  return q.col_text(0);
}

void SqliteDb::migrate() {
  // One transaction for all pending migrations: the version is read under the write lock, so
  // two processes opening a new file at once cannot both apply migration 1.
  write([&] {
    int version = schema_version();
    if (version > Store::latest_version())
      throw StoreError("database schema version " + std::to_string(version) +
                       " is newer than this program's " + std::to_string(Store::latest_version()));
    for (int v = version; v < Store::latest_version(); ++v) {
      exec(std::string(kMigrations[static_cast<std::size_t>(v)]).c_str());
      exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    }
    // Foreign keys are off while migrating (a table rebuilt under a referenced name would
    // otherwise take its children's rows with it); nothing may dangle when they come back on.
    if (version < Store::latest_version()) {
      Stmt q(prepare("PRAGMA foreign_key_check"));
      if (q.step())
        throw StoreError("migration left a dangling reference in table " + q.col_text(0));
    }
  });
}

void SqliteDb::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StoreError(std::string("SQL failed (") + sql + "): " + msg,
                     sqlite3_extended_errcode(db_));
  }
}

sqlite3_stmt* SqliteDb::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()) + 1,
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    sqlite_fail(db_, "cannot prepare (" + key + ")");
  statements_.emplace(std::move(key), s);
  return s;
}

// ---- transactions --------------------------------------------------------------------------

void SqliteDb::begin(TxKind kind) {
  if (levels_.empty()) {
    exec(kind == TxKind::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    levels_.push_back({kind, true});
    return;
  }
  if (levels_.front().kind == TxKind::read && kind == TxKind::write)
    throw StoreError("a write transaction cannot start inside a read transaction");
  if (kind == TxKind::read) {
    // Already inside a transaction: its reads see one state; nothing to add.
    levels_.push_back({kind, false});
    return;
  }
  exec(("SAVEPOINT sp" + std::to_string(levels_.size())).c_str());
  levels_.push_back({kind, true});
}

void SqliteDb::commit() {
  const Level level = levels_.back();
  if (level.own) {
    if (levels_.size() == 1)
      exec("COMMIT");
    else
      exec(("RELEASE sp" + std::to_string(levels_.size() - 1)).c_str());
  }
  levels_.pop_back();
}

void SqliteDb::rollback() noexcept {
  const Level level = levels_.back();
  try {
    if (level.own) {
      if (levels_.size() == 1) {
        exec("ROLLBACK");
      } else {
        std::string sp = "sp" + std::to_string(levels_.size() - 1);
        exec(("ROLLBACK TO " + sp + "; RELEASE " + sp).c_str());
      }
    }
  } catch (...) {
    // SQLite may have rolled back already (e.g. on SQLITE_FULL); nothing more to undo.
  }
  levels_.pop_back();
}

// ---- the store -----------------------------------------------------------------------------

Store Store::open(const std::string& path) {
  return Store(std::make_unique<SqliteBackend>(path));
}

std::string Store::journal_mode() {
  auto* sqlite = dynamic_cast<SqliteBackend*>(backend_.get());
  return sqlite ? sqlite->db().journal_mode() : std::string();
}

std::span<const std::string_view> Store::migrations() {
  return kMigrations;
}

int Store::latest_version() {
  return static_cast<int>(kMigrations.size());
}

}  // namespace tilskudd
