// One poll of the mailbox: what is new since the checkpoint, fetched with BODY.PEEK[] only when
// the server's search says it may be ours, run through workflow/intake one message at a time,
// then marked in the mailbox. Blocking; the service runs it on its worker thread.
//
// The cost of an idle poll is one STATUS command, whatever the mailbox holds: nothing is
// searched or fetched when UIDVALIDITY is unchanged and UIDNEXT has not moved.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/imap_client.h"
#include "workflow/intake.h"
#include "workflow/store.h"

namespace tilskudd {

// The folder named by the mailbox URL's path ("imaps://host/INBOX" -> "INBOX"), percent-decoded;
// "INBOX" when the path is empty.
std::string mailbox_from_url(const std::string& url);

// "24-Nov-2026 11:36:40 +0100" -> "2026-11-24T11:36:40+01:00"; "" when unparseable.
std::string internaldate_to_iso(const std::string& internaldate);

// The UID SEARCH criteria for "may be ours" after `first_uid`: the case number (in any spelling
// a substring search can see) in subject or text, or the grant's name in subject or text of a
// message with attachments (multipart/mixed).
std::string search_criteria(std::uint32_t first_uid, const std::string& case_number);

// A UIDVALIDITY change that could not be re-approved: a person must look before anything more
// is read from the mailbox.
class MailboxChanged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PollStats {
  bool idle = false;  // nothing new: one STATUS only
  int candidates = 0;
  int fetched = 0;
  int new_cases = 0;
  int merged = 0;
  int duplicates = 0;
  int ignored = 0;
  int failed = 0;
  int quarantined = 0;
  int marked = 0;
  bool stopped_early = false;
};

using NoteSink = std::function<void(const IntakeNote&)>;

class Poller {
 public:
  // `read_only` (shadow mode, `run --dry-run`): EXAMINE instead of SELECT, and the mailbox is
  // never marked or moved; everything else happens in the (scratch) store as usual.
  Poller(const config::Config& config, Store& store, const IntakeSettings& intake, ImapClient& imap,
         NoteSink notes, bool read_only = false);

  // Connects when needed and polls once. Throws ImapError (network trouble: the caller backs
  // off and reconnects), StoreError, or MailboxChanged. `stop` is checked between messages.
  PollStats poll(const std::function<Timestamp()>& clock, const std::atomic<bool>& stop);

  const std::string& mailbox() const { return mailbox_; }
  // Called after every successful login.
  void on_login(std::function<void()> fn) { on_login_ = std::move(fn); }

 private:
  void ensure_selected();
  void reapprove(std::uint32_t new_uidvalidity, Timestamp now);
  void process_uid(std::uint32_t uidvalidity, std::uint32_t uid, const MessageMeta* meta,
                   PollStats& stats, Timestamp now);
  // A message that is not read: only its header is fetched, and it becomes a flagged case with
  // the quarantine keyword at once (too large, or the daemon died on it again and again).
  void quarantine_unread(std::uint32_t uidvalidity, std::uint32_t uid, const MessageMeta* meta,
                         const std::string& error, PollStats& stats, Timestamp now);
  IncomingMessage incoming(std::uint32_t uidvalidity, std::uint32_t uid, std::string_view raw,
                           const MessageMeta* meta) const;
  void mark(std::int64_t row, std::uint32_t uid, bool quarantine, PollStats& stats);
  void mark_pending(std::uint32_t uidvalidity, PollStats& stats);
  void retry_failed(PollStats& stats, Timestamp now);
  void count(const IntakeOutcome& o, PollStats& stats);

  const config::Config& config_;
  Store& store_;
  const IntakeSettings& intake_;
  ImapClient& imap_;
  NoteSink notes_;
  std::string mailbox_;
  bool selected_ = false;
  bool keywords_allowed_ = true;
  bool move_folder_ready_ = false;
  std::uint64_t cycles_ = 0;
  bool read_only_ = false;
  std::function<void()> on_login_;
  // The message in hand, written to a small file beside the store before it is fetched and
  // removed when it is done (no fsync: it must outlive the process, not the machine). Found at
  // the next start, it names a message the daemon died on (a crash, an OOM kill); after
  // [mailbox] max_attempts such deaths the message is quarantined unread, so one poisonous
  // message cannot keep the daemon in a crash loop. Empty: not kept (in-memory store).
  std::string in_flight_path_;

  MailboxInfo open_mailbox();
};

}  // namespace tilskudd
