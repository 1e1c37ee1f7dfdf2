// The SQLite backend of the store's interfaces (workflow/store_interfaces.h): a small statement
// layer (SqliteDb: the connection, its prepared-statement cache, transactions and migrations)
// and one class per aggregate over it. The aggregates share the connection, so a transaction
// spans them all; where one aggregate's write includes another's (a case's creation event,
// its letters' bytes), the class calls the other's SQLite class directly.
//
// Internal to the store: callers include workflow/store.h.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "workflow/store_interfaces.h"

namespace tilskudd {

[[noreturn]] void sqlite_fail(sqlite3* db, const std::string& what);

// The connection. Not thread-safe: one thread at a time (the daemon's worker, or a command).
class SqliteDb : public Transactions {
 public:
  // Opens (creating when missing), sets the connection up (WAL, FULL sync, busy timeout,
  // foreign keys) and migrates. Throws StoreError.
  explicit SqliteDb(const std::string& path);
  ~SqliteDb() override;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* handle() { return db_; }
  // A cached prepared statement (wrap it in a Stmt to use it).
  sqlite3_stmt* prepare(std::string_view sql);
  void exec(const char* sql);

  void begin(TxKind kind) override;
  void commit() override;
  void rollback() noexcept override;

  std::string path() const;
  int schema_version();
  std::string journal_mode();

 private:
  void migrate();

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  struct Level {
    TxKind kind;
    bool own;  // a BEGIN or SAVEPOINT of its own (false: a read inside another transaction)
  };
  std::vector<Level> levels_;
};

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
    sqlite_fail(sqlite3_db_handle(s_), std::string("SQL failed (") + sqlite3_sql(s_) + ")");
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
    if (rc != SQLITE_OK) sqlite_fail(sqlite3_db_handle(s_), "bind failed");
  }
  sqlite3_stmt* s_;
};

// A column's text as its enum; the schema's CHECK lists keep anything else out.
template <NamedEnum E>
E from_db(const std::string& s, const char* what) {
  auto v = parse_enum<E>(s);
  if (!v) throw StoreError(std::string("unknown ") + what + " in database: " + s);
  return *v;
}

inline CaseState state_from_db(const std::string& s) {
  return from_db<CaseState>(s, "case state");
}

// Message ids are stored and compared without white space and angle brackets.
std::string normalise_message_id(std::string_view id);

class SqliteMessageLog final : public MessageLog {
 public:
  explicit SqliteMessageLog(SqliteDb& db) : db_(db) {}
  std::optional<Checkpoint> checkpoint(const std::string& mailbox) override;
  void set_checkpoint(const std::string& mailbox, std::uint32_t uidvalidity,
                      std::uint32_t highest_uid, Timestamp now) override;
  RecordResult record_message(const IncomingMessage& m) override;
  std::optional<MessageRecord> message(std::int64_t id) override;
  std::optional<std::string> message_raw(std::int64_t id) override;
  std::vector<MessageRecord> messages_with_status(MessageStatus status) override;
  void mark_message(std::int64_t id, MessageStatus status, const std::string& error) override;
  void attach_message(std::int64_t message_row, std::int64_t case_id) override;
  void set_mailbox_state(std::int64_t id, MailboxState state) override;
  void forget_message_bytes(std::int64_t id) override;
  std::vector<MessageRecord> messages_with_mailbox_state(const std::string& mailbox,
                                                         MailboxState state) override;
  std::vector<MessageRecord> case_messages(std::int64_t case_id) override;
  std::optional<MessageRecord> find_message(const std::string& mailbox, std::uint32_t uidvalidity,
                                            std::uint32_t uid) override;
  std::vector<std::string> known_message_ids(const std::string& mailbox,
                                             bool only_unmoved) override;
  PendingUid note_pending(const std::string& mailbox, std::uint32_t uidvalidity, std::uint32_t uid,
                          const std::string& reason, Timestamp now, Timestamp next_try) override;
  void clear_pending(const std::string& mailbox, std::uint32_t uidvalidity,
                     std::uint32_t uid) override;
  void clear_pending_except(const std::string& mailbox, std::uint32_t uidvalidity) override;
  std::vector<PendingUid> pending_uids(const std::string& mailbox) override;
  std::string mailbox_since(const std::string& mailbox) override;
  void set_mailbox_since(const std::string& mailbox, const std::string& day) override;
  std::optional<PdfText> document_text(const std::string& key) override;
  void put_document_text(const std::string& key, const PdfText& text) override;
  std::string put_blob(std::string_view bytes) override;
  std::optional<std::string> blob(const std::string& sha256) override;

 private:
  SqliteDb& db_;
};

class SqliteEventLog final : public EventLog {
 public:
  explicit SqliteEventLog(SqliteDb& db) : db_(db) {}
  void add_event(std::int64_t case_id, const std::string& actor, const std::string& reason,
                 Timestamp now, const nlohmann::json& detail) override;
  std::vector<CaseEvent> case_events(std::int64_t case_id) override;
  EventChainCheck verify_events() override;

  // Appends one event to the chain (inside the caller's transaction).
  void insert(std::int64_t case_id, const std::string& at, const std::string& actor,
              const std::optional<std::string>& from, const std::string& to,
              const std::string& reason, const std::string& detail);

 private:
  SqliteDb& db_;
};

class SqliteLedger final : public Ledger {
 public:
  explicit SqliteLedger(SqliteDb& db) : db_(db) {}
  rules::PriorGrants prior_grants(int year) override;
  void add_ledger(int year, const std::string& employee_key, std::int64_t case_id, Kroner amount,
                  const std::string& kind) override;
  std::vector<LedgerEntry> ledger_entries(std::optional<int> year,
                                          std::optional<std::string> employee_key) override;

 private:
  SqliteDb& db_;
};

class SqliteCaseStore final : public CaseStore {
 public:
  SqliteCaseStore(SqliteDb& db, SqliteMessageLog& messages, SqliteEventLog& events,
                  SqliteLedger& ledger)
      : db_(db), messages_(messages), events_(events), ledger_(ledger) {}
  CaseRecord create_case(const Assessment& a, std::int64_t message_row, Timestamp now,
                         const std::string& actor) override;
  std::optional<CaseRecord> find_case(std::int64_t id) override;
  std::optional<CaseRecord> find_case_by_ref(const std::string& ref) override;
  std::optional<CaseRecord> find_case_by_message_id(const std::string& message_id) override;
  std::vector<CaseRecord> list_cases(std::optional<CaseState> state) override;
  std::vector<CaseRecord> cases_for_org_round(const std::string& org_number,
                                              const std::string& round) override;
  std::vector<CaseRecord> cases_for_org(const std::string& org_number) override;
  std::vector<CaseRecord> cases_with_employees(const std::string& org_number,
                                               const std::set<std::string>& employee_keys) override;
  int forget_old_bytes(Timestamp cutoff, const std::string& reason, Timestamp now) override;
  CaseRecord transition(std::int64_t case_id, CaseState to, const std::string& actor,
                        const std::string& reason, Timestamp now,
                        const nlohmann::json& detail) override;
  void update_decision(std::int64_t case_id, const Form& form, const rules::Decision& decision,
                       const std::vector<Flag>& flags, const std::string& actor,
                       Timestamp now) override;
  void set_reminder_due(std::int64_t case_id, std::optional<Timestamp> due, Timestamp now) override;
  void add_letter(std::int64_t case_id, std::optional<std::int64_t> message_row,
                  const std::string& filename, LetterKind kind,
                  std::optional<std::string_view> bytes) override;
  std::vector<LetterRecord> case_letters(std::int64_t case_id) override;
  void add_case_flag(std::int64_t case_id, const Flag& flag, const std::string& actor,
                     Timestamp now) override;

 private:
  // The case and its lines, read in the caller's transaction.
  std::optional<CaseRecord> read_case(std::int64_t id);
  CaseRecord load_case(std::int64_t id);
  std::vector<CaseRecord> load_cases(const std::vector<std::int64_t>& ids);
  void write_lines(std::int64_t case_id, const Form& form, const rules::Decision& decision);

  SqliteDb& db_;
  SqliteMessageLog& messages_;
  SqliteEventLog& events_;
  SqliteLedger& ledger_;
};

class SqliteOutboxStore final : public OutboxStore {
 public:
  explicit SqliteOutboxStore(SqliteDb& db) : db_(db) {}
  EnqueueResult enqueue_outbox(const OutboxItem& item, Timestamp now) override;
  std::optional<OutboxItem> next_due_outbox(Timestamp now) override;
  std::optional<OutboxItem> outbox_item(std::int64_t id) override;
  std::vector<OutboxItem> outbox_for_case(std::int64_t case_id) override;
  void begin_send(std::int64_t id, Timestamp now) override;
  void mark_outbox(std::int64_t id, OutboxStatus status, const std::string& error,
                   std::optional<Timestamp> next_attempt) override;
  int count_outbox_to(const std::string& recipient, Timestamp since) override;
  void requeue_outbox(std::int64_t id, Timestamp now) override;
  void mark_data_handed_over(std::int64_t id) override;
  int recover_outbox() override;

 private:
  SqliteDb& db_;
};

// The connection with its aggregates (what Store::open builds).
class SqliteBackend final : public StoreBackend {
 public:
  explicit SqliteBackend(const std::string& path)
      : db_(path),
        messages_(db_),
        events_(db_),
        ledger_(db_),
        cases_(db_, messages_, events_, ledger_),
        outbox_(db_) {}

  MessageLog& messages() override { return messages_; }
  CaseStore& cases() override { return cases_; }
  EventLog& events() override { return events_; }
  Ledger& ledger() override { return ledger_; }
  OutboxStore& outbox() override { return outbox_; }
  void begin(TxKind kind) override { db_.begin(kind); }
  void commit() override { db_.commit(); }
  void rollback() noexcept override { db_.rollback(); }
  std::string path() const override { return db_.path(); }
  int schema_version() override { return db_.schema_version(); }
  SqliteDb& db() { return db_; }

 private:
  SqliteDb db_;
  SqliteMessageLog messages_;
  SqliteEventLog events_;
  SqliteLedger ledger_;
  SqliteCaseStore cases_;
  SqliteOutboxStore outbox_;
};

}  // namespace tilskudd
