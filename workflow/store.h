// The daemon's embedded store (SQLite): mailbox checkpoints, every message fetched (raw bytes
// content-addressed in `blobs`), cases with their lines and letters, an append-only event log,
// the yearly ledger behind the per-student cap, and the outbox of letters to send.
//
// One Store owns one connection. Several Stores (the daemon and an admin command) may open the
// same file at once: WAL lets readers see every committed transaction, and writers queue on
// BEGIN IMMEDIATE with a busy timeout. There is no hidden clock: every call that stamps a time
// takes `now`; times are stored as ISO-8601 UTC text ("2026-03-01T12:00:00Z"), which sorts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "parsers/enum_names.h"
#include "parsers/letter.h"
#include "workflow/assess.h"
#include "workflow/case_state.h"
#include "workflow/outgoing.h"
#include "workflow/rules.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tilskudd {

using Timestamp = std::chrono::sys_seconds;
std::string iso_utc(Timestamp t);  // "2026-03-01T12:00:00Z"

// Any failure of the database (open, I/O, constraint). `code` is SQLite's extended result code
// (0 when the error is ours).
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, int code = 0) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// A state change that case_state's table does not allow. Nothing was written.
class IllegalTransition : public StoreError {
 public:
  using StoreError::StoreError;
};

struct Checkpoint {
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t highest_uid = 0;
  std::string updated_at;
};

// One fetched message, as the IMAP side hands it over.
struct IncomingMessage {
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  std::string message_id;  // may be empty
  std::string_view raw;
  std::string received;  // IMAP INTERNALDATE, ISO-8601
};

// Where a fetched message stands in intake.
enum class MessageStatus {
  new_,         // recorded, not yet assessed (stored as "new")
  processed,    // it made or joined a case
  ignored,      // none of our business (last_error says why)
  duplicate,    // the same mail as one recorded before
  failed,       // intake failed; retried (attempts counts, last_error keeps the error)
  quarantined,  // kept for a person and moved out of the inbox
};
inline constexpr EnumName<MessageStatus> kMessageStatusNames[] = {
    {MessageStatus::new_, "new"},        {MessageStatus::processed, "processed"},
    {MessageStatus::ignored, "ignored"}, {MessageStatus::duplicate, "duplicate"},
    {MessageStatus::failed, "failed"},   {MessageStatus::quarantined, "quarantined"}};
constexpr std::span<const EnumName<MessageStatus>> enum_table(MessageStatus) {
  return kMessageStatusNames;
}

// What the mailbox still owes a message: none (not ours: never touched), to_mark (its case is
// committed, the keyword is not yet set), marked, to_quarantine, quarantined.
enum class MailboxState { none, to_mark, marked, to_quarantine, quarantined };
inline constexpr EnumName<MailboxState> kMailboxStateNames[] = {
    {MailboxState::none, "none"},
    {MailboxState::to_mark, "to_mark"},
    {MailboxState::marked, "marked"},
    {MailboxState::to_quarantine, "to_quarantine"},
    {MailboxState::quarantined, "quarantined"}};
constexpr std::span<const EnumName<MailboxState>> enum_table(MailboxState) {
  return kMailboxStateNames;
}

struct MessageRecord {
  std::int64_t id = 0;
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  std::string message_id;
  std::string sha256;
  std::string received;
  std::optional<std::int64_t> case_id;
  MessageStatus status = MessageStatus::new_;
  int attempts = 0;
  std::string last_error;
  MailboxState mailbox_state = MailboxState::none;
};

struct RecordResult {
  std::int64_t id = 0;
  bool inserted = false;  // false: this (mailbox, uidvalidity, uid) was recorded before
  std::string sha256;
  // Other rows (not this one) with the same Message-ID, or the same raw bytes: the same mail
  // seen again (moved, re-sent, fetched under a new UIDVALIDITY).
  std::vector<std::int64_t> same_message_id;
  std::vector<std::int64_t> same_content;
};

struct CaseLine {
  int idx = 0;
  std::string employee;
  std::string employee_key;  // text::name_key
  Programme programme = Programme::OTHER;
  std::optional<Kroner> cost;
  StateStatus state_status = StateStatus::unknown;
  std::optional<Kroner> state_grant;
  rules::Outcome outcome = rules::Outcome::flagged;
  Kroner amount = 0;
  std::string reason;
  std::string reason_code;
};

struct CaseRecord {
  std::int64_t id = 0;
  std::string ref;  // "TT-2026-0042"
  int year = 0;     // the ref's year (the year the case was created)
  int seq = 0;      // the ref's number within that year
  CaseState state = CaseState::received;
  std::string owner;
  std::string org_number;
  std::string contact_email;
  std::string account_number;
  std::string applicant_reference;
  std::string round;   // the round's deadline ("2020-09-01"), "" when none
  int round_year = 0;  // the rules' year of the round (the ledger's year); 0 when none
  int round_number = 0;
  Kroner total = 0;
  std::string created_at;
  std::string updated_at;
  std::string reminder_due;          // "" when none
  std::string received;              // the application's received date ("2020-08-15")
  std::vector<std::string> missing;  // bokmål: what the applicant must still send
  std::vector<Flag> flags;           // why a person must look (case and line flags)
  std::vector<CaseLine> lines;
};

struct LetterRecord {
  std::int64_t case_id = 0;
  std::optional<std::int64_t> message_row;
  std::string filename;
  LetterKind kind = LetterKind::unknown;
  std::string sha256;  // "" when the bytes were not stored
};

struct CaseEvent {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  std::string at;
  std::string actor;              // "daemon", "admin:<user>", ...
  std::optional<CaseState> from;  // nullopt for the case's creation
  CaseState to = CaseState::received;
  std::string reason;
  std::string detail;  // JSON text
};

// OutboxKind (which letter) is outgoing mail's own (workflow/outgoing.h).
enum class OutboxStatus { pending, sending, sent, uncertain, failed };
inline constexpr EnumName<OutboxStatus> kOutboxStatusNames[] = {
    {OutboxStatus::pending, "pending"},
    {OutboxStatus::sending, "sending"},
    {OutboxStatus::sent, "sent"},
    {OutboxStatus::uncertain, "uncertain"},
    {OutboxStatus::failed, "failed"}};
constexpr std::span<const EnumName<OutboxStatus>> enum_table(OutboxStatus) {
  return kOutboxStatusNames;
}

struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  OutboxKind kind = OutboxKind::decision;
  std::string message_id;  // deterministic, so a retry after a crash is the same mail
  std::string recipient;
  std::string subject;
  std::string body;  // the whole RFC 5322 message or its body, as the sender wants it
  OutboxStatus status = OutboxStatus::pending;
  int attempts = 0;
  std::string next_attempt_at;
  std::string last_error;
  std::string created_at;
};

// The result of checking the event log's hash chain.
struct EventChainCheck {
  bool ok = true;
  std::int64_t checked = 0;       // events whose hash was verified
  std::int64_t before_chain = 0;  // events written before schema 5 (no hash)
  std::int64_t first_bad_id = 0;
  std::string problem;
  std::int64_t head_id = 0;  // the latest event and its hash: log it elsewhere as an anchor, so
  std::string head_hash;     // that removing the newest events shows too
};

// One row of the yearly ledger: an approved amount of a decided case.
struct LedgerEntry {
  int year = 0;
  std::string employee_key;
  std::int64_t case_id = 0;
  std::string case_ref;
  std::string round;  // the case's round ("2020-09-01")
  Kroner amount = 0;
  std::string kind;                // the line's reason code, or the cap kind
  bool counts_toward_cap = false;  // what prior_grants sums
};

struct EnqueueResult {
  std::int64_t id = 0;
  bool inserted = false;  // false: this message_id was enqueued before (idempotent retry)
};

class Store {
 public:
  // Opens (creating when missing) and migrates to the latest schema. Throws StoreError.
  static Store open(const std::string& path);
  // The database file's path as SQLite resolved it ("" for an in-memory store).
  std::string path() const;
  ~Store();
  Store(Store&& other) noexcept;
  Store& operator=(Store&& other) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The schema's migrations, in order: migration i brings user_version from i to i+1.
  static std::span<const std::string_view> migrations();
  static int latest_version();
  int schema_version();
  std::string journal_mode();

  // Runs fn in one transaction (BEGIN IMMEDIATE; a savepoint when nested): committed when fn
  // returns, rolled back when it throws (the exception goes on).
  template <class F>
  auto transaction(F&& fn) -> std::invoke_result_t<F&> {
    Transaction tx(*this);
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      fn();
      tx.commit();
    } else {
      auto result = fn();
      tx.commit();
      return result;
    }
  }

  // Mailbox checkpoints.
  std::optional<Checkpoint> checkpoint(const std::string& mailbox);
  void set_checkpoint(const std::string& mailbox, std::uint32_t uidvalidity,
                      std::uint32_t highest_uid, Timestamp now);

  // Messages. Idempotent on (mailbox, uidvalidity, uid); the raw bytes go to `blobs` once.
  RecordResult record_message(const IncomingMessage& m);
  std::optional<MessageRecord> message(std::int64_t id);
  std::optional<std::string> message_raw(std::int64_t id);
  std::vector<MessageRecord> messages_with_status(MessageStatus status);
  // Sets the status; `failed` counts an attempt and keeps the error.
  void mark_message(std::int64_t id, MessageStatus status, const std::string& error = {});
  void attach_message(std::int64_t message_row, std::int64_t case_id);
  void set_mailbox_state(std::int64_t id, MailboxState state);
  // A message that is none of our business (a citizen's mail the search let through): its hash
  // stays, so a re-delivery is still recognised, but its bytes are dropped unless a message that
  // belongs to a case shares them.
  void forget_message_bytes(std::int64_t id);
  std::vector<MessageRecord> messages_with_mailbox_state(const std::string& mailbox,
                                                         MailboxState state);
  std::vector<MessageRecord> case_messages(std::int64_t case_id);
  std::optional<MessageRecord> find_message(const std::string& mailbox, std::uint32_t uidvalidity,
                                            std::uint32_t uid);
  // Every Message-ID recorded for the mailbox (for re-approval after a UIDVALIDITY change);
  // `only_unmoved`: without the messages we marked (and so moved away).
  std::vector<std::string> known_message_ids(const std::string& mailbox, bool only_unmoved = false);

  // Content-addressed bytes.
  std::string put_blob(std::string_view bytes);  // returns the sha256
  std::optional<std::string> blob(const std::string& sha256);

  // Cases. create_case writes the case in `received` with its lines, letters, a creation event,
  // attaches the message and returns it; the caller then transitions it to
  // state_for(a.decision.status) (in the same transaction when it wraps both).
  CaseRecord create_case(const Assessment& a, std::int64_t message_row, Timestamp now,
                         const std::string& actor = "daemon");
  std::optional<CaseRecord> find_case(std::int64_t id);
  std::optional<CaseRecord> find_case_by_ref(const std::string& ref);
  // The case of a message we received (messages.message_id) or sent (outbox.message_id), for
  // In-Reply-To / References. Angle brackets are ignored.
  std::optional<CaseRecord> find_case_by_message_id(const std::string& message_id);
  std::vector<CaseRecord> list_cases(std::optional<CaseState> state = std::nullopt);
  // Cases of one organisation in one payout round (a re-sent application finds its case).
  std::vector<CaseRecord> cases_for_org_round(const std::string& org_number,
                                              const std::string& round);
  std::vector<CaseRecord> cases_for_org(const std::string& org_number);
  // The organisation's cases (any round, in id order) with a line for at least one of the
  // employees (text::name_key): an indexed lookup, whatever the organisation's number of cases.
  std::vector<CaseRecord> cases_with_employees(const std::string& org_number,
                                               const std::set<std::string>& employee_keys);
  // Retention: for cases decided and sent (decision_sent, scheduled, paid) whose last change is
  // before `cutoff`, the raw bytes of their messages are deleted (hashes and every record stay),
  // with an event on each case. Returns the number of cases touched.
  int forget_old_bytes(Timestamp cutoff, const std::string& reason, Timestamp now);
  // Recomputes the event log's hash chain: every event's hash covers its fields and the hash of
  // the event before it, so a changed, inserted or removed event shows.
  EventChainCheck verify_events();
  // An event without a state change (a reply arrived, a mail went out, ...).
  void add_event(std::int64_t case_id, const std::string& actor, const std::string& reason,
                 Timestamp now, const nlohmann::json& detail = nlohmann::json::object());

  // Enforces case_state's table; writes the new state and an event in one transaction. Entering
  // `decided` also writes the case's approved lines to the ledger. Throws IllegalTransition
  // (nothing written) or StoreError. Returns the case as it now is.
  CaseRecord transition(std::int64_t case_id, CaseState to, const std::string& actor,
                        const std::string& reason, Timestamp now,
                        const nlohmann::json& detail = nlohmann::json::object());
  // Replaces the case's lines, total and round from a (re-)assessment; records an event without
  // a state change. Refused (StoreError) once the case is decided or later.
  void update_decision(std::int64_t case_id, const Form& form, const rules::Decision& decision,
                       const std::vector<Flag>& flags, const std::string& actor, Timestamp now);
  void set_reminder_due(std::int64_t case_id, std::optional<Timestamp> due, Timestamp now);
  void add_letter(std::int64_t case_id, std::optional<std::int64_t> message_row,
                  const std::string& filename, LetterKind kind,
                  std::optional<std::string_view> bytes = std::nullopt);
  std::vector<LetterRecord> case_letters(std::int64_t case_id);
  std::vector<CaseEvent> case_events(std::int64_t case_id);

  // Amounts already granted in `year` (the rules' year) under the rejected-state cap, summed per
  // student (employee_key): what rules::decide needs as `prior`.
  rules::PriorGrants prior_grants(int year);
  void add_ledger(int year, const std::string& employee_key, std::int64_t case_id, Kroner amount,
                  const std::string& kind);
  // The ledger's rows of `year` for one student (every kind), with their case's ref and round,
  // in row order; all rows of every year when `employee_key` is nullopt (the invariants test).
  std::vector<LedgerEntry> ledger_entries(std::optional<int> year,
                                          std::optional<std::string> employee_key);
  // Adds a flag to a case in any state (a link found later: competing_application), with an
  // event. The decision is not touched.
  void add_case_flag(std::int64_t case_id, const Flag& flag, const std::string& actor,
                     Timestamp now);

  // Outbox. At most one decision per case, ever; the same message_id twice is an idempotent
  // retry (returns the first row); anything else conflicting throws StoreError.
  EnqueueResult enqueue_outbox(const OutboxItem& item, Timestamp now);
  // The oldest pending item whose next_attempt_at is due.
  std::optional<OutboxItem> next_due_outbox(Timestamp now);
  std::optional<OutboxItem> outbox_item(std::int64_t id);
  std::vector<OutboxItem> outbox_for_case(std::int64_t case_id);
  // The item goes to the SMTP server now: `sending`, one more attempt, the time noted (it counts
  // toward the per-recipient limit from now on). Committed before the transfer starts.
  void begin_send(std::int64_t id, Timestamp now);
  // Sets status and error; `sending` counts an attempt; next_attempt when retrying.
  void mark_outbox(std::int64_t id, OutboxStatus status, const std::string& error,
                   std::optional<Timestamp> next_attempt);
  // Mails to `recipient` whose sending began since `since` and that left or may have left
  // (the per-recipient limit).
  int count_outbox_to(const std::string& recipient, Timestamp since);
  // A person asks for a letter to be sent again: pending now, with a fresh count of attempts.
  void requeue_outbox(std::int64_t id, Timestamp now);
  // Called from inside the SMTP transfer when the message's last byte is handed over (before the
  // terminating dot goes out): from now on a crash leaves the item uncertain.
  void mark_data_handed_over(std::int64_t id);
  // After a crash, items left in `sending`: before the data was complete -> `pending` (the
  // server cannot have accepted them); after -> `uncertain` (never resent blindly). Returns
  // how many items were recovered.
  int recover_outbox();

 private:
  explicit Store(sqlite3* db);

  class Transaction {
   public:
    explicit Transaction(Store& store);
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Store& store_;
    int depth_;
    bool done_ = false;
  };

  sqlite3_stmt* prepare(std::string_view sql);
  void exec(const char* sql);
  void migrate();
  CaseRecord load_case(std::int64_t id);
  void insert_event(std::int64_t case_id, const std::string& at, const std::string& actor,
                    const std::optional<std::string>& from, const std::string& to,
                    const std::string& reason, const std::string& detail);
  void write_lines(std::int64_t case_id, const Form& form, const rules::Decision& decision);

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  int tx_depth_ = 0;
};

}  // namespace tilskudd
