// What the daemon does with one fetched message (docs/RULES.md "What the daemon does with one
// email"), on the store: recognise it as seen before, as a reply to a case, as a re-sent
// application or as a new application; assess it; create or update the case; move the case
// through its states; and queue the letters it owes the applicant in the outbox.
//
// Everything one message causes happens in one store transaction, so a crash leaves either all
// of it or none of it. The caller (daemon/poller) puts the mailbox checkpoint into the same
// transaction, and touches the mailbox (keyword, move) only after the commit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "parsers/pdf.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {

struct IntakeSettings {
  const config::Config* config = nullptr;
  outgoing::Templates templates;
  PdfExtractor pdf;
  std::string actor = "daemon";
};

// Something the daemon should log: one per transition, one per queued mail, and a warning for
// everything that waits for a person.
struct IntakeNote {
  std::string case_ref;  // "" when the message has no case
  bool warn = false;
  std::string text;  // English, no personal data beyond the case reference
};

struct IntakeOutcome {
  enum class Kind {
    new_case,           // a new application: a case was created
    merged,             // a reply or a re-sent application: it joined an existing case
    duplicate,          // the same message seen before (same Message-ID or bytes)
    ignored,            // not an application (no case number, auto-reply, bounce, our own)
    already_processed,  // this (mailbox, UIDVALIDITY, UID) was handled before
  };
  Kind kind = Kind::ignored;
  std::int64_t message_row = 0;
  std::optional<CaseRecord> case_record;  // the case as it is now
  std::string reason;                     // ignored reason, why it merged, ...
  bool mark_in_mailbox = false;           // the message is ours: set the keyword (and move)
  std::vector<IntakeNote> notes;
};

std::string_view intake_kind_name(IntakeOutcome::Kind k);

// The date an application counts as received: the IMAP INTERNALDATE as the daemon stores it
// ("2026-11-24T23:36:40+00:00"), as a calendar date in Norway (CET/CEST: 2026-11-25 here);
// a bare "YYYY-MM-DD..." is taken as it is; else `fallback`.
Date received_date(const std::string& received, Date fallback);

// The calendar date in Norway (Europe/Oslo: CET, CEST by the EU rule) of an instant.
Date oslo_date(Timestamp t);

// Records the message and acts on it, all in one transaction. Throws StoreError when the store
// fails (nothing written) and whatever parsing throws (nothing written; the caller counts the
// attempt with record_failure).
IntakeOutcome intake_message(Store& store, const IncomingMessage& message,
                             const IntakeSettings& settings, Timestamp now);

// Runs a stored message (status "new" or "failed") through intake again, from its stored bytes.
IntakeOutcome retry_message(Store& store, std::int64_t message_row, const IntakeSettings& settings,
                            Timestamp now);

// A message that could not be processed: recorded (with its bytes when given) as "failed" with
// the error, one more attempt counted. Returns the message row and its attempt count.
std::pair<std::int64_t, int> record_failure(Store& store, const IncomingMessage& message,
                                            const std::string& error);

// A message that failed `max_attempts` times: a flagged case (flag processing_failed) holds it
// for a person, and the mailbox gets the quarantine keyword. Never retried again.
IntakeOutcome quarantine_message(Store& store, std::int64_t message_row, const std::string& error,
                                 const IntakeSettings& settings, Timestamp now);

// Cases waiting for documentation whose reminder is due get one reminder each.
std::vector<IntakeNote> queue_due_reminders(Store& store, const IntakeSettings& settings,
                                            Timestamp now);

// Builds the outbox item for one letter of a case (rendered from the templates, composed as
// a whole RFC 5322 message with a deterministic Message-ID). Pure apart from reading the case's
// outbox to number the letter.
OutboxItem make_letter(Store& store, const CaseRecord& c, OutboxKind kind,
                       const IntakeSettings& settings, Timestamp now);

}  // namespace tilskudd
