#include "daemon/poller.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/log.h"
#include "parsers/mime.h"

namespace tilskudd {

namespace {

std::string header_message_id(std::string_view raw) {
  std::string_view head = raw;
  if (auto end = head.find("\r\n\r\n"); end != std::string_view::npos) {
    head = head.substr(0, end + 4);
  } else if (auto lf = head.find("\n\n"); lf != std::string_view::npos) {
    head = head.substr(0, lf + 2);
  }
  return mime::parse(head).headers.message_id;
}

// The message in hand (Poller::in_flight_path_): one line, "<uidvalidity> <uid> <deaths>
// <mailbox>". A torn or foreign file reads as nothing.
struct InFlight {
  std::string mailbox;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  int deaths = 0;  // earlier processes that died with this message in hand
  bool same_message(const InFlight& o) const {
    return mailbox == o.mailbox && uidvalidity == o.uidvalidity && uid == o.uid;
  }
};

std::optional<InFlight> read_in_flight(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  InFlight f;
  if (!(in >> f.uidvalidity >> f.uid >> f.deaths) || f.deaths < 0) return std::nullopt;
  in.get();
  if (!std::getline(in, f.mailbox) || f.mailbox.empty()) return std::nullopt;
  return f;
}

void write_in_flight(const std::string& path, const InFlight& f) {
  if (path.empty()) return;
  // 0600 whatever the umask: it names a mailbox and a message (DECISIONS.md "Private files").
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;  // as before: a death is then not counted, the message still is processed
  const std::string line = std::to_string(f.uidvalidity) + ' ' + std::to_string(f.uid) + ' ' +
                           std::to_string(f.deaths) + ' ' + f.mailbox + '\n';
  [[maybe_unused]] const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

void remove_in_flight(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

log::Context log_context_of(const IncomingMessage& m) {
  return {"", m.message_id,
          m.mailbox + "/" + std::to_string(m.uidvalidity) + "/" + std::to_string(m.uid)};
}

// Store failures that are about this message (a rule of the state machine, our own checks),
// not about the database: the message fails, the mailbox goes on.
bool message_specific(const StoreError& e) {
  return dynamic_cast<const IllegalTransition*>(&e) != nullptr || e.code() == 0;
}

}  // namespace

std::vector<std::string> reapproval_sample(const std::vector<std::string>& known, std::size_t max) {
  std::vector<std::string> sample;
  const std::size_t want = std::min(known.size(), max);
  for (std::size_t i = 0; i < want; ++i) sample.push_back(known[i * known.size() / want]);
  return sample;
}

bool reapproved(std::size_t found, std::size_t sampled) {
  return sampled == 0 || found * 2 >= sampled;
}

std::chrono::minutes pending_backoff(int attempts) {
  const int shift = std::clamp(attempts - 1, 0, 6);
  return std::min(std::chrono::minutes{1 << shift}, kPendingMaxBackoff);
}

bool pending_given_up(const PendingUid& p, int max_attempts, Timestamp now) {
  return p.attempts >= max_attempts && now - p.first_seen >= kPendingGiveUpAfter;
}

Poller::Poller(const config::Config& config, Store& store, const IntakeSettings& intake,
               MailSource& source, NoteSink notes)
    : config_(config),
      store_(store),
      intake_(intake),
      source_(source),
      notes_(std::move(notes)),
      mailbox_(source.mailbox()) {
  if (const std::string p = store_.path(); !p.empty()) in_flight_path_ = p + ".inflight";
}

void Poller::count(const IntakeOutcome& o, PollStats& stats) {
  switch (o.kind) {
    case IntakeOutcome::Kind::new_case:
      ++stats.new_cases;
      break;
    case IntakeOutcome::Kind::merged:
      ++stats.merged;
      break;
    case IntakeOutcome::Kind::duplicate:
      ++stats.duplicates;
      break;
    case IntakeOutcome::Kind::ignored:
      ++stats.ignored;
      break;
    case IntakeOutcome::Kind::already_processed:
      break;
  }
  for (const auto& n : o.notes) notes_(n);
}

void Poller::mark(std::int64_t row, const MessageKey& key, bool quarantine, PollStats& stats) {
  const MarkResult r = quarantine ? source_.quarantine(key) : source_.mark(key);
  if (r == MarkResult::failed) {
    // Still owed: the store keeps it to_mark / to_quarantine, and the next poll tries again.
    store_.messages().set_mailbox_state(
        row, quarantine ? MailboxState::to_quarantine : MailboxState::to_mark);
    return;
  }
  if (r == MarkResult::stale) {
    // That key means nothing any more; the message is found again by its Message-ID.
    store_.messages().set_mailbox_state(row, MailboxState::none);
    return;
  }
  // A read-only source never writes to the mailbox; the scratch store remembers it as marked.
  store_.messages().set_mailbox_state(
      row, quarantine ? MailboxState::quarantined : MailboxState::marked);
  if (r == MarkResult::marked) ++stats.marked;
}

void Poller::mark_pending(PollStats& stats) {
  for (MailboxState state : {MailboxState::to_mark, MailboxState::to_quarantine}) {
    for (const MessageRecord& m : store_.messages().messages_with_mailbox_state(mailbox_, state)) {
      mark(m.id, {m.uidvalidity, m.uid}, state == MailboxState::to_quarantine, stats);
    }
  }
}

void Poller::reapprove(const Opened& opened, Timestamp now) {
  // As mbsync does: the mailbox was recreated or restored. Known messages must be found again
  // by Message-ID before anything is read under the new numbering.
  const std::vector<std::string> sample =
      reapproval_sample(store_.messages().known_message_ids(
                            mailbox_, /*only_unmoved=*/!config_.mailbox.move_to.empty()),
                        50);
  std::size_t found = 0;
  for (const auto& id : sample) found += source_.contains_message_id(id) ? 1 : 0;
  if (!reapproved(found, sample.size())) {
    throw MailboxChanged(opened.change + " and only " + std::to_string(found) + " of " +
                         std::to_string(sample.size()) +
                         " known messages were found again; a person must check the mailbox "
                         "before tilskudd reads it again");
  }
  const Checkpoint& cp = *opened.restart;
  store_.transaction([&] {
    store_.messages().set_checkpoint(cp.mailbox, cp.uidvalidity, cp.highest_uid, now);
    // Pending UIDs of the old numbering name nothing now; the mailbox is read again from 1.
    store_.messages().clear_pending_except(cp.mailbox, cp.uidvalidity);
  });
  notes_({"", true,
          opened.change + "; " + std::to_string(found) + " of " + std::to_string(sample.size()) +
              " known messages found again, so the mailbox is re-read; messages seen before "
              "keep their cases"});
}

// The message as intake takes it; `raw` must outlive the result (it is a view).
IncomingMessage Poller::incoming(const SourceMessage& message, std::string_view raw) const {
  IncomingMessage m;
  m.mailbox = mailbox_;
  m.uidvalidity = message.key.uidvalidity;
  m.uid = message.key.uid;
  m.raw = raw;
  m.message_id = header_message_id(raw);
  m.received = message.received;
  return m;
}

// The source's checkpoint once `key` is accounted for; in the message's transaction. Null
// `changes`: a pending UID, which the checkpoint is past already.
void Poller::move_checkpoint(const MailChanges* changes, const MessageKey& key, Timestamp now) {
  if (!changes) return;
  const Checkpoint cp = changes->after(store_.messages().checkpoint(mailbox_), key);
  store_.messages().set_checkpoint(cp.mailbox, cp.uidvalidity, cp.highest_uid, now);
}

// The checkpoint moved, and the end of the key's pending row, if it had one: the message is
// accounted for.
void Poller::advance(const MailChanges* changes, const MessageKey& key, Timestamp now) {
  store_.messages().clear_pending(mailbox_, key.uidvalidity, key.uid);
  move_checkpoint(changes, key, now);
}

// A message that cannot be read safely: its header is fetched instead of the whole of it, and it
// becomes a flagged case at once (the quarantine keyword in the mailbox too), since no retry
// could help: a person reads it in the mailbox.
void Poller::quarantine_unread(const MailChanges* changes, const SourceMessage& message,
                               const std::string& error, PollStats& stats, Timestamp now) {
  auto head = source_.fetch_header(message);
  if (!head) {
    if (!source_.lookup(message.key)) {  // expunged meanwhile
      store_.messages().clear_pending(mailbox_, message.key.uidvalidity, message.key.uid);
      return;
    }
    // Listed, but not even its header is handed over: the record says so, and a person reads
    // the message in the mailbox (it gets the quarantine keyword all the same).
    head = "X-Tilskudd-Unread: the server listed UID " + std::to_string(message.key.uid) +
           " but handed over neither its body nor its header\r\n\r\n";
  }
  ++stats.fetched;
  const IncomingMessage m = incoming(message, *head);
  log::ScopedContext log_context(log_context_of(m));
  const auto [row, outcome] = store_.transaction([&] {
    auto [r, attempts] = record_failure(store_, m, error);
    (void)attempts;
    IntakeOutcome q = quarantine_message(store_, r, error, intake_, now);
    advance(changes, message.key, now);
    return std::make_pair(r, q);
  });
  ++stats.quarantined;
  count(outcome, stats);
  notes_({"", true, "message UID " + std::to_string(message.key.uid) + ": " + error});
  mark(row, message.key, true, stats);
}

void Poller::defer(const MailChanges* changes, const SourceMessage& message,
                   const std::string& reason, PollStats& stats, Timestamp now) {
  const MessageKey& key = message.key;
  const PendingUid row = store_.transaction([&] {
    int before = 0;
    for (const PendingUid& p : store_.messages().pending_uids(mailbox_))
      if (p.uidvalidity == key.uidvalidity && p.uid == key.uid) before = p.attempts;
    PendingUid r = store_.messages().note_pending(mailbox_, key.uidvalidity, key.uid, reason, now,
                                                  now + pending_backoff(before + 1));
    move_checkpoint(changes, key, now);
    return r;
  });
  ++stats.pending;
  const std::string uid = std::to_string(key.uid);
  if (pending_given_up(row, config_.mailbox.max_attempts, now)) {
    quarantine_unread(changes, message,
                      "the server listed message UID " + uid + " but did not hand over its body " +
                          "in " + std::to_string(row.attempts) + " attempts since " +
                          iso_utc(row.first_seen) + " (" + reason +
                          "): only its header was read; a person must read it in the mailbox",
                      stats, now);
    return;
  }
  const auto wait = row.next_try - now;
  notes_({"", true,
          "message UID " + uid + " is listed but its body was not handed over (" + reason +
              "); pending, attempt " + std::to_string(row.attempts) + ", next try in " +
              std::to_string(std::chrono::duration_cast<std::chrono::minutes>(wait).count()) +
              " min"});
}

void Poller::retry_pending(PollStats& stats, const std::function<Timestamp()>& clock,
                           const std::atomic<bool>& stop) {
  for (const PendingUid& p : store_.messages().pending_uids(mailbox_)) {
    if (stop.load()) return;
    const Timestamp now = clock();
    if (p.next_try > now) continue;
    const MessageKey key{p.uidvalidity, p.uid};
    const std::optional<SourceMessage> message = source_.lookup(key);
    if (!message) {
      store_.messages().clear_pending(p.mailbox, p.uidvalidity, p.uid);
      notes_({"", true,
              "message UID " + std::to_string(p.uid) + ", pending since " + iso_utc(p.first_seen) +
                  ", was removed from the mailbox before the server handed over its body; "
                  "nothing of it was read"});
      continue;
    }
    process(nullptr, *message, stats, now);
  }
}

void Poller::process(const MailChanges* changes, const SourceMessage& message, PollStats& stats,
                     Timestamp now) {
  const std::uint32_t uid = message.key.uid;
  // Did an earlier process die while it had this message in hand?
  InFlight here{mailbox_, message.key.uidvalidity, uid, 0};
  if (auto before = read_in_flight(in_flight_path_); before && before->same_message(here)) {
    here.deaths = before->deaths + 1;
    notes_({"", true,
            "the daemon stopped " + std::to_string(here.deaths) +
                " time(s) while it had message UID " + std::to_string(uid) +
                " in hand (a crash, an out-of-memory kill, or a SIGKILL); at " +
                std::to_string(config_.mailbox.max_attempts) + " it is quarantined unread"});
  }
  if (here.deaths >= config_.mailbox.max_attempts) {
    quarantine_unread(changes, message,
                      "the daemon stopped " + std::to_string(here.deaths) +
                          " times while reading this message (a crash or an out-of-memory "
                          "kill): only its header was read; a person must read it in the "
                          "mailbox",
                      stats, now);
    remove_in_flight(in_flight_path_);
    return;
  }
  write_in_flight(in_flight_path_, here);
  // Removed whenever this function is left, also by an exception: only death leaves it behind.
  struct Done {
    const std::string& path;
    ~Done() { remove_in_flight(path); }
  } done{in_flight_path_};
  // A message larger than [limits] max_message_bytes is not fetched whole: every poll would
  // fail on it again.
  const std::uint64_t limit = config_.limits.mime.max_message_bytes;
  Fetched fetched = source_.fetch(message, limit);
  if (fetched.kind == Fetched::Kind::gone) {  // no longer listed: expunged meanwhile
    store_.messages().clear_pending(mailbox_, message.key.uidvalidity, message.key.uid);
    return;
  }
  if (fetched.kind == Fetched::Kind::unavailable) {
    defer(changes, message, fetched.reason, stats, now);
    return;
  }
  if (fetched.kind == Fetched::Kind::too_large) {
    auto mib = [](std::uint64_t n) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
      return std::string(buf);
    };
    quarantine_unread(changes, message,
                      "the message is " + mib(fetched.size) + ", over the limit of " + mib(limit) +
                          " ([limits] max_message_bytes): only its header was read; a person "
                          "must read it in the mailbox",
                      stats, now);
    return;
  }
  ++stats.fetched;
  const IncomingMessage m = incoming(message, fetched.bytes);
  // Journald fields for every line logged while this message is in hand.
  log::ScopedContext log_context(log_context_of(m));
  std::string error;
  try {
    IntakeOutcome o = store_.transaction([&] {
      IntakeOutcome out = intake_message(store_, m, intake_, now);
      advance(changes, message.key, now);
      return out;
    });
    count(o, stats);
    if (o.mark_in_mailbox) mark(o.message_row, message.key, false, stats);
    return;
  } catch (const StoreError& e) {
    if (!message_specific(e)) throw;
    error = e.what();
  } catch (const MailSourceError&) {
    throw;
  } catch (const std::exception& e) {
    error = e.what();
  }
  // This message failed; the rest of the mailbox goes on.
  ++stats.failed;
  auto [row, attempts] = store_.transaction([&] {
    auto r = record_failure(store_, m, error);
    advance(changes, message.key, now);
    return r;
  });
  notes_({"", true,
          "message UID " + std::to_string(uid) + " could not be processed (attempt " +
              std::to_string(attempts) + " of " + std::to_string(config_.mailbox.max_attempts) +
              "): " + error});
  if (attempts >= config_.mailbox.max_attempts) {
    IntakeOutcome q = quarantine_message(store_, row, error, intake_, now);
    ++stats.quarantined;
    count(q, stats);
    mark(row, message.key, true, stats);
  }
}

void Poller::retry_failed(PollStats& stats, Timestamp now) {
  for (const MessageRecord& m : store_.messages().messages_with_status(MessageStatus::failed)) {
    if (m.mailbox != mailbox_) continue;
    // Backoff: after n failures, try again every 2^n polls.
    const int shift = std::min(m.attempts, 6);
    if (cycles_ % (std::uint64_t{1} << shift) != 0) continue;
    std::string error;
    try {
      IntakeOutcome o = retry_message(store_, m.id, intake_, now);
      count(o, stats);
      if (o.mark_in_mailbox)
        store_.messages().set_mailbox_state(o.message_row, MailboxState::to_mark);
      continue;
    } catch (const StoreError& e) {
      if (!message_specific(e)) throw;
      error = e.what();
    } catch (const std::exception& e) {
      error = e.what();
    }
    store_.messages().mark_message(m.id, MessageStatus::failed, error);
    ++stats.failed;
    if (m.attempts + 1 >= config_.mailbox.max_attempts) {
      IntakeOutcome q = quarantine_message(store_, m.id, error, intake_, now);
      ++stats.quarantined;
      count(q, stats);
    }
  }
}

PollStats Poller::poll(const std::function<Timestamp()>& clock, const std::atomic<bool>& stop) {
  PollStats stats;
  ++cycles_;
  Timestamp now = clock();

  auto cp = store_.messages().checkpoint(mailbox_);
  const bool pending_marks =
      !store_.messages().messages_with_mailbox_state(mailbox_, MailboxState::to_mark).empty() ||
      !store_.messages().messages_with_mailbox_state(mailbox_, MailboxState::to_quarantine).empty();
  bool failed_waiting = false;
  for (const auto& m : store_.messages().messages_with_status(MessageStatus::failed))
    failed_waiting |= m.mailbox == mailbox_;
  bool pending_due = false;
  for (const PendingUid& p : store_.messages().pending_uids(mailbox_))
    pending_due |= p.next_try <= now;

  if (!source_.changed_since(cp) && !pending_marks && !failed_waiting && !pending_due) {
    stats.idle = true;
    return stats;
  }
  // The first run on a mailbox reads from the day before it started (unless [mailbox] since
  // says otherwise), so that years of history do not become cases; the day before, so that no
  // server's time zone hides a message that came just before the start.
  if (!cp && store_.messages().mailbox_since(mailbox_).empty())
    store_.messages().set_mailbox_since(mailbox_,
                                        iso_utc(now - std::chrono::hours{24}).substr(0, 10));
  source_.set_arrived_since(config_.mailbox.since.empty()
                                ? store_.messages().mailbox_since(mailbox_)
                                : config_.mailbox.since);
  const Opened opened = source_.open(cp);
  if (opened.restart) reapprove(opened, now);
  retry_failed(stats, now);
  mark_pending(stats);
  // Older than anything new: the UIDs listed earlier without a body, whose retry is due.
  retry_pending(stats, clock, stop);
  if (stop.load()) {
    stats.stopped_early = true;
    return stats;
  }

  const std::unique_ptr<MailChanges> changes =
      source_.changes(store_.messages().checkpoint(mailbox_));
  stats.candidates = static_cast<int>(changes->size());
  while (auto message = changes->next()) {
    if (stop.load()) {
      stats.stopped_early = true;
      return stats;
    }
    process(changes.get(), *message, stats, clock());
  }
  if (auto end = changes->end(store_.messages().checkpoint(mailbox_)))
    store_.messages().set_checkpoint(end->mailbox, end->uidvalidity, end->highest_uid, clock());
  return stats;
}

}  // namespace tilskudd
