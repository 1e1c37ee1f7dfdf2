// One poll of the mailbox: what is new since the checkpoint, as the mail source
// (daemon/mail_source.h) offers it, fetched within [limits] max_message_bytes, run through
// workflow/intake one message at a time, then marked in the mailbox after the commit. Blocking;
// the service runs it on its worker thread. The poller knows no IMAP: it keeps the source's
// checkpoint in the store and hands it back.
//
// An idle poll costs the source's cheap check only (MailSource::changed_since): nothing is
// searched or fetched when nothing arrived and no mark or retry is waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/mail_source.h"
#include "workflow/intake.h"
#include "workflow/store.h"

namespace tilskudd {

// A void checkpoint (IMAP: UIDVALIDITY changed) that could not be re-approved: a person must look
// before anything more is read from the mailbox.
class MailboxChanged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PollStats {
  bool idle = false;  // nothing new: the source's cheap check only
  int candidates = 0;
  int fetched = 0;
  int new_cases = 0;
  int merged = 0;
  int duplicates = 0;
  int ignored = 0;
  int failed = 0;
  int quarantined = 0;
  int marked = 0;
  int pending = 0;  // listed without a body this poll: kept pending, fetched again later
  bool stopped_early = false;
};

// After a void checkpoint: the known Message-IDs to look for (at most `max`, evenly spread), and
// whether `found` of `sampled` is enough to re-read the mailbox (at least half; nothing known:
// yes).
std::vector<std::string> reapproval_sample(const std::vector<std::string>& known, std::size_t max);
bool reapproved(std::size_t found, std::size_t sampled);

// A UID listed without its body (docs/DECISIONS.md "Pending UIDs"): after the n-th such fetch
// the next one waits 1, 2, 4 ... minutes, at most 60; the UID is given up (quarantined unread,
// for a person) once it has had [mailbox] max_attempts fetches and an hour has passed since the
// first, so that a scan of a few minutes never ends in a quarantine.
std::chrono::minutes pending_backoff(int attempts);
bool pending_given_up(const PendingUid& p, int max_attempts, Timestamp now);
inline constexpr std::chrono::minutes kPendingMaxBackoff{60};
inline constexpr std::chrono::hours kPendingGiveUpAfter{1};

class Poller {
 public:
  // The source must outlive the poller. A read-only source (shadow mode, `run --dry-run`) never
  // marks; the (scratch) store remembers the messages as marked all the same.
  Poller(const config::Config& config, Store& store, const IntakeSettings& intake,
         MailSource& source, NoteSink notes);

  // Polls once (the source connects when needed). Throws MailSourceError (network trouble: the
  // caller backs off and reconnects), StoreError, or MailboxChanged. `stop` is checked between
  // messages.
  PollStats poll(const std::function<Timestamp()>& clock, const std::atomic<bool>& stop);

  const std::string& mailbox() const { return mailbox_; }

 private:
  void reapprove(const Opened& opened, Timestamp now);
  // `changes`: the listing the message came from, whose checkpoint moves past it in the
  // message's transaction; null for a pending UID (the checkpoint is past it already).
  void process(const MailChanges* changes, const SourceMessage& message, PollStats& stats,
               Timestamp now);
  // A message that is not read: only its header is fetched, and it becomes a flagged case with
  // the quarantine keyword at once (too large, or the daemon died on it again and again, or the
  // server never handed over its body).
  void quarantine_unread(const MailChanges* changes, const SourceMessage& message,
                         const std::string& error, PollStats& stats, Timestamp now);
  // Listed without its body: pending, with the next try after a backoff; quarantined unread
  // when it stays so (docs/DECISIONS.md "Pending UIDs").
  void defer(const MailChanges* changes, const SourceMessage& message, const std::string& reason,
             PollStats& stats, Timestamp now);
  void retry_pending(PollStats& stats, const std::function<Timestamp()>& clock,
                     const std::atomic<bool>& stop);
  IncomingMessage incoming(const SourceMessage& message, std::string_view raw) const;
  void advance(const MailChanges* changes, const MessageKey& key, Timestamp now);
  void move_checkpoint(const MailChanges* changes, const MessageKey& key, Timestamp now);
  void mark(std::int64_t row, const MessageKey& key, bool quarantine, PollStats& stats);
  void mark_pending(PollStats& stats);
  void retry_failed(PollStats& stats, Timestamp now);
  void count(const IntakeOutcome& o, PollStats& stats);

  const config::Config& config_;
  Store& store_;
  const IntakeSettings& intake_;
  MailSource& source_;
  NoteSink notes_;
  std::string mailbox_;
  std::uint64_t cycles_ = 0;
  // The message in hand, written to a small file beside the store before it is fetched and
  // removed when it is done (no fsync: it must outlive the process, not the machine). Found at
  // the next start, it names a message the daemon died on (a crash, an OOM kill); after
  // [mailbox] max_attempts such deaths the message is quarantined unread, so one poisonous
  // message cannot keep the daemon in a crash loop. Empty: not kept (in-memory store).
  std::string in_flight_path_;
};

}  // namespace tilskudd
