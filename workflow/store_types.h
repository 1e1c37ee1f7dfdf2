// The store's records: what the aggregates of workflow/store_interfaces.h take and return,
// whatever the backend. Plain values; the enums carry their name tables (parsers/enum_names.h),
// which are also the schema's CHECK lists.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/enum_names.h"
#include "parsers/letter.h"
#include "workflow/assess.h"
#include "workflow/case_state.h"
#include "workflow/outgoing.h"
#include "workflow/rules.h"

namespace tilskudd {

using Timestamp = std::chrono::sys_seconds;
std::string iso_utc(Timestamp t);  // "2026-03-01T12:00:00Z"

// Any failure of the database (open, I/O, constraint). `code` is the backend's result code
// (SQLite's extended result code; 0 when the error is ours).
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

// A UID the server listed but whose body it did not hand over (docs/DECISIONS.md "Pending
// UIDs"): retried with backoff; the checkpoint may pass it, this row keeps it accounted for.
struct PendingUid {
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  int attempts = 0;  // fetches without a body so far
  Timestamp first_seen{};
  Timestamp last_attempt{};
  Timestamp next_try{};  // not fetched again before this
  std::string reason;    // what the last attempt got, for the log and `store pending`
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

}  // namespace tilskudd
