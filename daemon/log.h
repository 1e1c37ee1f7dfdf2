// Logging for the daemon (spdlog): one line per event. Log text is English, names the case
// reference and the reason, and never carries secrets.
//
// Where lines go:
// - In a terminal (or any stderr that is not the journal): stderr, each line with a timestamp
//   and the level, "2026-03-01 12:00:00 INFO  text".
// - Under systemd with stderr connected to the journal (systemd::under_journald()): straight
//   to journald over its native protocol, so each entry carries fields besides MESSAGE:
//   PRIORITY, SYSLOG_IDENTIFIER=tilskudd and, when the thread's log context (below) knows
//   them, CASE_REF, MAIL_MESSAGE_ID and MAILBOX_UID. `journalctl -u tilskudd
//   CASE_REF=TT-2026-0042` then shows one case's history. Should the journal socket refuse an
//   entry, that line goes to stderr with a syslog priority prefix ("<4>text") instead, which
//   journald reads from the stream.
// The e-mail's Message-ID goes into MAIL_MESSAGE_ID, not MESSAGE_ID: journald reserves
// MESSAGE_ID for 128-bit catalog ids (systemd.journal-fields(7)).
#pragma once

#include <string>

#include "workflow/intake.h"

namespace tilskudd::log {

// Sets up the default logger. `level`: "debug", "info", "warn", "error".
void setup(const std::string& level = "info");

// The same, with another journal socket than /run/systemd/journal/socket (for tests). The
// journal is used only when systemd::under_journald() says so, as above.
void setup(const std::string& level, const std::string& journal_socket);

// What the current thread is working on; journal entries logged on this thread carry it as
// fields. Empty members are left out.
struct Context {
  std::string case_ref;     // CASE_REF, e.g. "TT-2026-0042"
  std::string message_id;   // MAIL_MESSAGE_ID: the e-mail's Message-ID
  std::string mailbox_uid;  // MAILBOX_UID, e.g. "INBOX/1700000000/4711" (UIDVALIDITY/UID)
};

// Sets the thread's log context for its lifetime. Scopes nest: a member the inner context
// leaves empty keeps the outer value. The destructor restores the context as it was.
class ScopedContext {
 public:
  explicit ScopedContext(Context c);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  Context saved_;
};

// The current thread's log context.
const Context& current_context();

// Logs a workflow note: "[TT-2026-0042] text", INFO or WARN; in the journal with
// CASE_REF=<the note's case_ref> (when it has one) on top of the thread's context.
void note(const IntakeNote& n);

}  // namespace tilskudd::log
