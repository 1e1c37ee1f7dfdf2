// The mailbox as the poller sees it: a source of messages with a checkpoint, whatever the
// server speaks. `ImapSource` (daemon/imap_source.h) is the one backend today; the poller
// (daemon/poller.h) works on a `MailSource&` only, and tests use a fake one.
//
// One poll, in this order (the poller drives it; docs/DECISIONS.md "Mailbox backends"):
//   changed_since(checkpoint)      cheap: can anything have arrived? (IMAP: NOOP + STATUS)
//   open(checkpoint)               ready to read and mark; says when the checkpoint is void
//   contains_message_id(id)        only after a void checkpoint: is a known message still there?
//   mark(key) / quarantine(key)    what the store says the mailbox still owes
//   changes(checkpoint) -> next()  the messages after the checkpoint, oldest first
//   fetch(message, max_bytes)      the bytes, never more than the bound
//   mark(key) / quarantine(key)    after the message's transaction committed
//   lookup(key) -> fetch(...)      the pending UIDs whose retry is due (below)
//
// What a backend guarantees:
// - The checkpoint is opaque to the poller. The poller keeps whatever `MailChanges::after()` and
//   `end()` return in the store, in the same transaction as the message it follows, and hands it
//   back unread. Everything up to a checkpoint is accounted for; a backend must never return a
//   checkpoint past a message it still means to hand out.
// - `fetch` never returns more than `max_bytes`: a message known to be larger is `too_large`
//   without its bytes being read, and the poller reads only its header (`fetch_header`).
// - Nothing in the mailbox changes before the poller asks (`mark`, `quarantine`, which come only
//   after the store's commit); a read-only source changes nothing at all.
// - A message is `gone` only when the server no longer lists it. Listed but without its bytes
//   (Exchange answers the FETCH with OK and no data, or hands over a stand-in text while its
//   scanners hold the message) is `unavailable`: the poller keeps the UID pending and fetches it
//   again with backoff (docs/DECISIONS.md "Pending UIDs").
// - Trouble with the server (network, timeout, logout) is a `MailSourceError`: the poll ends and
//   the caller reconnects later. Anything else a source throws is a bug.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "workflow/intake.h"
#include "workflow/store.h"

namespace tilskudd {

// Where the poller and a source say what happened (a refused keyword, a re-read mailbox).
using NoteSink = std::function<void(const IntakeNote&)>;

// The server cannot be reached or talked to right now; the caller backs off and reconnects.
// ImapError is one.
class MailSourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A message's key in the store's message log: (mailbox, uidvalidity, uid). IMAP's own; another
// backend numbers its messages the same way: `uidvalidity` changes when the numbering starts over,
// `uid` grows with every new message.
struct MessageKey {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
  bool operator==(const MessageKey&) const = default;
};

// A message the source offers, before its bytes are read.
struct SourceMessage {
  MessageKey key;
  std::optional<std::uint64_t> size;  // bytes, when the server says so before the fetch
  std::string received;               // the server's arrival time, ISO-8601; "" when unknown
};

struct Fetched {
  enum class Kind {
    message,      // `bytes` is the whole message
    too_large,    // over the bound: nothing was read; `size` says how large
    gone,         // the server no longer lists the message (expunged meanwhile)
    unavailable,  // listed, but its bytes were not handed over: `reason` says how
  };
  Kind kind = Kind::gone;
  std::string bytes;
  std::uint64_t size = 0;
  std::string reason;
};

enum class MarkResult {
  marked,       // the mailbox now shows it
  not_written,  // a read-only source: nothing was written, and nothing will be
  stale,        // the key names no message any more (the numbering started over)
  failed,       // the server refused (a MOVE, a CREATE of the folder): the mark stays owed and
                // is tried again at the next poll
};

// What open() found: whether the stored checkpoint still holds.
struct Opened {
  // Set: the checkpoint is void (IMAP: UIDVALIDITY changed), and this one starts the mailbox
  // over. The poller first checks with contains_message_id() that the known messages are still
  // there, and keeps `restart` only then.
  std::optional<Checkpoint> restart;
  std::string change;  // what changed, for the log ("UIDVALIDITY of INBOX changed from 1 to 2")
};

enum class WaitResult {
  changed,      // the server reported new or removed mail
  timed_out,    // nothing before the deadline, or interrupted
  unsupported,  // this source cannot wait (IMAP: no IDLE); poll on a timer instead
};

// The messages after a checkpoint, oldest first, handed out one at a time (a backend may read
// them from the server in pages).
class MailChanges {
 public:
  virtual ~MailChanges() = default;
  // How many next() hands out in all.
  virtual std::size_t size() const = 0;
  virtual std::optional<SourceMessage> next() = 0;
  // The checkpoint once `key` is accounted for, from the one the store holds now.
  virtual Checkpoint after(const std::optional<Checkpoint>& current,
                           const MessageKey& key) const = 0;
  // The checkpoint once every message was handed out and accounted for; nullopt: keep `current`.
  virtual std::optional<Checkpoint> end(const std::optional<Checkpoint>& current) const = 0;
};

class MailSource {
 public:
  virtual ~MailSource() = default;

  // The store's name of the mailbox (messages, checkpoints, the in-flight file).
  virtual const std::string& mailbox() const = 0;

  // Connects when needed. False when nothing can have arrived since `since`; costs the same
  // whatever the mailbox holds.
  virtual bool changed_since(const std::optional<Checkpoint>& since) = 0;
  // Makes the mailbox ready for reading and marking, as it is now.
  virtual Opened open(const std::optional<Checkpoint>& since) = 0;
  // Whether a message with this Message-ID (without <>) is in the mailbox now.
  virtual bool contains_message_id(const std::string& message_id) = 0;
  // Only mail that arrived on or after `day` (YYYY-MM-DD; "" = any) is offered by changes().
  virtual void set_arrived_since(const std::string& day) = 0;
  // What arrived after `since` that may be ours (the server's search, where it has one).
  virtual std::unique_ptr<MailChanges> changes(const std::optional<Checkpoint>& since) = 0;

  virtual Fetched fetch(const SourceMessage& message, std::uint64_t max_bytes) = 0;
  // The message as the server lists it now (its size and arrival time); nullopt when it is
  // gone. For a pending UID, whose retry did not come through changes().
  virtual std::optional<SourceMessage> lookup(const MessageKey& key) = 0;
  // Only the header block; nullopt when the message is gone.
  virtual std::optional<std::string> fetch_header(const SourceMessage& message) = 0;

  // After the commit: the message is processed (IMAP: the keyword, then move_to) or quarantined.
  virtual MarkResult mark(const MessageKey& key) = 0;
  virtual MarkResult quarantine(const MessageKey& key) = 0;

  // Blocks until the server reports a change, `max_wait` passes, or interrupt() is called.
  virtual WaitResult wait_for_change(std::chrono::milliseconds max_wait) = 0;
  // Thread-safe: ends a running (or the next) wait_for_change() early.
  virtual void interrupt() = 0;
};

}  // namespace tilskudd
