// The store, one narrow interface per aggregate, written so that a second backend (PostgreSQL,
// for a municipality that outgrows one machine) implements the same classes; the SQLite ones are
// in workflow/store_sqlite.h, and workflow/store.h opens a database and hands them out.
//
// - MessageLog: mailbox checkpoints, every message fetched, and the content-addressed bytes.
// - CaseStore: cases with their lines and letters, and their life (transitions).
// - EventLog: the append-only, hash-chained log of what happened to each case.
// - Ledger: the yearly amounts behind the per-student cap.
// - OutboxStore: the letters to send and how far each send got.
// - Transactions: one transaction across all of them.
//
// Contract for every backend:
// - Every method is atomic on its own; inside Transactions::write it is part of the caller's
//   transaction (intake commits a case, its lines, events, ledger and outbox rows at once: crash
//   safety depends on it). Methods that read several rows or tables (find_case: the case, then
//   its lines) read one committed state, never a mix of two commits.
// - Writers queue for each other (SQLite: BEGIN IMMEDIATE with a busy timeout) instead of
//   failing; readers see every committed transaction and nothing uncommitted.
// - There is no hidden clock: every call that stamps a time takes `now`; times are ISO-8601 UTC
//   text ("2026-03-01T12:00:00Z"), which sorts.
// - Failures are StoreError (IllegalTransition for a state change case_state refuses); a
//   failed call inside a transaction leaves that transaction to be rolled back.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "parsers/pdf.h"
#include "workflow/store_types.h"

namespace tilskudd {

enum class TxKind { write, read };

class Transactions {
 public:
  virtual ~Transactions() = default;

  // Runs fn in one write transaction (SQLite: BEGIN IMMEDIATE; a savepoint when nested):
  // committed when fn returns, rolled back when it throws (the exception goes on).
  template <class F>
  auto write(F&& fn) -> std::invoke_result_t<F&> {
    return run(TxKind::write, fn);
  }
  // Runs fn in one read transaction (SQLite: BEGIN DEFERRED ... COMMIT; inside another
  // transaction, fn simply reads in that one): everything fn reads comes from one committed
  // state. A write transaction cannot start inside a read transaction (StoreError).
  template <class F>
  auto read(F&& fn) -> std::invoke_result_t<F&> {
    return run(TxKind::read, fn);
  }

  // The primitives under write() and read(); every begin is followed by one commit or rollback.
  virtual void begin(TxKind kind) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

 private:
  template <class F>
  auto run(TxKind kind, F& fn) -> std::invoke_result_t<F&> {
    begin(kind);
    struct Guard {
      Transactions& tx;
      bool done = false;
      ~Guard() {
        if (!done) tx.rollback();
      }
    } guard{*this};
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      fn();
      commit();
      guard.done = true;
    } else {
      auto result = fn();
      commit();
      guard.done = true;
      return result;
    }
  }
};

class MessageLog {
 public:
  virtual ~MessageLog() = default;

  // Mailbox checkpoints.
  virtual std::optional<Checkpoint> checkpoint(const std::string& mailbox) = 0;
  virtual void set_checkpoint(const std::string& mailbox, std::uint32_t uidvalidity,
                              std::uint32_t highest_uid, Timestamp now) = 0;

  // Messages. Idempotent on (mailbox, uidvalidity, uid); the raw bytes go to `blobs` once.
  virtual RecordResult record_message(const IncomingMessage& m) = 0;
  virtual std::optional<MessageRecord> message(std::int64_t id) = 0;
  virtual std::optional<std::string> message_raw(std::int64_t id) = 0;
  virtual std::vector<MessageRecord> messages_with_status(MessageStatus status) = 0;
  // Sets the status; `failed` counts an attempt and keeps the error.
  virtual void mark_message(std::int64_t id, MessageStatus status,
                            const std::string& error = {}) = 0;
  virtual void attach_message(std::int64_t message_row, std::int64_t case_id) = 0;
  virtual void set_mailbox_state(std::int64_t id, MailboxState state) = 0;
  // A message that is none of our business (a citizen's mail the search let through): its hash
  // stays, so a re-delivery is still recognised, but its bytes are dropped unless a message that
  // belongs to a case shares them.
  virtual void forget_message_bytes(std::int64_t id) = 0;
  virtual std::vector<MessageRecord> messages_with_mailbox_state(const std::string& mailbox,
                                                                 MailboxState state) = 0;
  virtual std::vector<MessageRecord> case_messages(std::int64_t case_id) = 0;
  virtual std::optional<MessageRecord> find_message(const std::string& mailbox,
                                                    std::uint32_t uidvalidity,
                                                    std::uint32_t uid) = 0;
  // Every Message-ID recorded for the mailbox (for re-approval after a UIDVALIDITY change);
  // `only_unmoved`: without the messages we marked (and so moved away).
  virtual std::vector<std::string> known_message_ids(const std::string& mailbox,
                                                     bool only_unmoved = false) = 0;

  // UIDs listed without a body (docs/DECISIONS.md "Pending UIDs"). note_pending counts one more
  // attempt (the first creates the row) and returns the row as it is now.
  virtual PendingUid note_pending(const std::string& mailbox, std::uint32_t uidvalidity,
                                  std::uint32_t uid, const std::string& reason, Timestamp now,
                                  Timestamp next_try) = 0;
  virtual void clear_pending(const std::string& mailbox, std::uint32_t uidvalidity,
                             std::uint32_t uid) = 0;
  // Drops the rows of every numbering of `mailbox` but `uidvalidity` (they name nothing now).
  virtual void clear_pending_except(const std::string& mailbox, std::uint32_t uidvalidity) = 0;
  // In (mailbox, uidvalidity, uid) order; every mailbox when `mailbox` is empty.
  virtual std::vector<PendingUid> pending_uids(const std::string& mailbox = {}) = 0;

  // The day a mailbox's first run started reading from (YYYY-MM-DD); set once, "" when none.
  virtual std::string mailbox_since(const std::string& mailbox) = 0;
  virtual void set_mailbox_since(const std::string& mailbox, const std::string& day) = 0;

  // Extracted document text by key (sha256 of the document and the limits it was read under).
  virtual std::optional<PdfText> document_text(const std::string& key) = 0;
  virtual void put_document_text(const std::string& key, const PdfText& text) = 0;

  // Content-addressed bytes.
  virtual std::string put_blob(std::string_view bytes) = 0;  // returns the sha256
  virtual std::optional<std::string> blob(const std::string& sha256) = 0;
};

class CaseStore {
 public:
  virtual ~CaseStore() = default;

  // create_case writes the case in `received` with its lines, letters, a creation event,
  // attaches the message and returns it; the caller then transitions it to
  // state_for(a.decision.status) (in the same transaction when it wraps both).
  virtual CaseRecord create_case(const Assessment& a, std::int64_t message_row, Timestamp now,
                                 const std::string& actor = "daemon") = 0;
  virtual std::optional<CaseRecord> find_case(std::int64_t id) = 0;
  virtual std::optional<CaseRecord> find_case_by_ref(const std::string& ref) = 0;
  // The case of a message we received (messages.message_id) or sent (outbox.message_id), for
  // In-Reply-To / References. Angle brackets are ignored.
  virtual std::optional<CaseRecord> find_case_by_message_id(const std::string& message_id) = 0;
  virtual std::vector<CaseRecord> list_cases(std::optional<CaseState> state = std::nullopt) = 0;
  // Cases of one organisation in one payout round (a re-sent application finds its case).
  virtual std::vector<CaseRecord> cases_for_org_round(const std::string& org_number,
                                                      const std::string& round) = 0;
  virtual std::vector<CaseRecord> cases_for_org(const std::string& org_number) = 0;
  // The organisation's cases (any round, in id order) with a line for at least one of the
  // employees (text::name_key): an indexed lookup, whatever the organisation's number of cases.
  virtual std::vector<CaseRecord> cases_with_employees(
      const std::string& org_number, const std::set<std::string>& employee_keys) = 0;
  // Retention: for cases decided and sent (decision_sent, scheduled, paid) whose last change is
  // before `cutoff`, the raw bytes of their messages are deleted (hashes and every record stay),
  // with an event on each case. Returns the number of cases touched.
  virtual int forget_old_bytes(Timestamp cutoff, const std::string& reason, Timestamp now) = 0;

  // Enforces case_state's table; writes the new state and an event in one transaction. Entering
  // `decided` also writes the case's approved lines to the ledger. Throws IllegalTransition
  // (nothing written) or StoreError. Returns the case as it now is.
  virtual CaseRecord transition(std::int64_t case_id, CaseState to, const std::string& actor,
                                const std::string& reason, Timestamp now,
                                const nlohmann::json& detail = nlohmann::json::object()) = 0;
  // Replaces the case's lines, total and round from a (re-)assessment; records an event without
  // a state change. Refused (StoreError) once the case is decided or later.
  virtual void update_decision(std::int64_t case_id, const Form& form,
                               const rules::Decision& decision, const std::vector<Flag>& flags,
                               const std::string& actor, Timestamp now) = 0;
  virtual void set_reminder_due(std::int64_t case_id, std::optional<Timestamp> due,
                                Timestamp now) = 0;
  virtual void add_letter(std::int64_t case_id, std::optional<std::int64_t> message_row,
                          const std::string& filename, LetterKind kind,
                          std::optional<std::string_view> bytes = std::nullopt) = 0;
  virtual std::vector<LetterRecord> case_letters(std::int64_t case_id) = 0;
  // Adds a flag to a case in any state (a link found later: competing_application), with an
  // event. The decision is not touched.
  virtual void add_case_flag(std::int64_t case_id, const Flag& flag, const std::string& actor,
                             Timestamp now) = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // An event without a state change (a reply arrived, a mail went out, ...).
  virtual void add_event(std::int64_t case_id, const std::string& actor, const std::string& reason,
                         Timestamp now,
                         const nlohmann::json& detail = nlohmann::json::object()) = 0;
  virtual std::vector<CaseEvent> case_events(std::int64_t case_id) = 0;
  // Recomputes the event log's hash chain: every event's hash covers its fields and the hash of
  // the event before it, so a changed, inserted or removed event shows.
  virtual EventChainCheck verify_events() = 0;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // Amounts already granted in `year` (the rules' year) under the rejected-state cap, summed per
  // student (employee_key): what rules::decide needs as `prior`.
  virtual rules::PriorGrants prior_grants(int year) = 0;
  virtual void add_ledger(int year, const std::string& employee_key, std::int64_t case_id,
                          Kroner amount, const std::string& kind) = 0;
  // The ledger's rows of `year` for one student (every kind), with their case's ref and round,
  // in row order; all rows of every year when `employee_key` is nullopt (the invariants test).
  virtual std::vector<LedgerEntry> ledger_entries(std::optional<int> year,
                                                  std::optional<std::string> employee_key) = 0;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // At most one decision per case, ever; the same message_id twice is an idempotent retry
  // (returns the first row); anything else conflicting throws StoreError.
  virtual EnqueueResult enqueue_outbox(const OutboxItem& item, Timestamp now) = 0;
  // The oldest pending item whose next_attempt_at is due.
  virtual std::optional<OutboxItem> next_due_outbox(Timestamp now) = 0;
  virtual std::optional<OutboxItem> outbox_item(std::int64_t id) = 0;
  virtual std::vector<OutboxItem> outbox_for_case(std::int64_t case_id) = 0;
  // The item goes to the SMTP server now: `sending`, one more attempt, the time noted (it counts
  // toward the per-recipient limit from now on). Committed before the transfer starts.
  virtual void begin_send(std::int64_t id, Timestamp now) = 0;
  // Sets status and error; `sending` counts an attempt; next_attempt when retrying.
  virtual void mark_outbox(std::int64_t id, OutboxStatus status, const std::string& error,
                           std::optional<Timestamp> next_attempt) = 0;
  // Mails to `recipient` whose sending began since `since` and that left or may have left
  // (the per-recipient limit).
  virtual int count_outbox_to(const std::string& recipient, Timestamp since) = 0;
  // A person asks for a letter to be sent again: pending now, with a fresh count of attempts.
  virtual void requeue_outbox(std::int64_t id, Timestamp now) = 0;
  // Called from inside the SMTP transfer when the message's last byte is handed over (before the
  // terminating dot goes out): from now on a crash leaves the item uncertain. Durable against
  // the death of the process at once (a power loss may lose it: the send is then repeated).
  virtual void mark_data_handed_over(std::int64_t id) = 0;
  // After a crash, items left in `sending`: before the data was complete -> `pending` (the
  // server cannot have accepted them); after -> `uncertain` (never resent blindly). Returns
  // how many items were recovered.
  virtual int recover_outbox() = 0;
};

// What a backend hands out: one connection (or session) with its five aggregates over it.
class StoreBackend : public Transactions {
 public:
  virtual MessageLog& messages() = 0;
  virtual CaseStore& cases() = 0;
  virtual EventLog& events() = 0;
  virtual Ledger& ledger() = 0;
  virtual OutboxStore& outbox() = 0;

  // Where the data lives ("" when nowhere on disk) and its schema version.
  virtual std::string path() const = 0;
  virtual int schema_version() = 0;
};

}  // namespace tilskudd
