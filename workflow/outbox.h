// The outbox worker's logic: take due letters from the store, hand each to a sender (the
// daemon's SMTP client; a fake in unit tests), and record what happened. Pure apart from the
// store and the injected sender and clock.
//
// What a send can end in, and why (see docs/DECISIONS.md "Outbox"):
// - accepted: `sent`; a decision moves its case decided -> decision_sent.
// - temporary (4xx, connection, timeout) before the message data was handed over: `pending`
//   again with exponential backoff (capped, with jitter) until `max_attempts`, then `failed`
//   and a warning for a person.
// - permanent (5xx): `failed` and a warning; never retried.
// - any failure after the data was handed over: `uncertain`. The server may have accepted the
//   mail, so it is never resent blindly: a person checks (or the Sent folder is reconciled).
// The item is marked `sending` (committed) before the SMTP transfer starts, and the moment the
// whole message is handed over is committed too (from inside the transfer, before the
// terminating dot), so after a crash Store::recover_outbox resends what the server cannot have
// accepted and holds only the rest (a window of one SMTP round trip) as `uncertain`.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "workflow/intake.h"
#include "workflow/store.h"

namespace tilskudd {

struct SendAttempt {
  SendOutcome outcome = SendOutcome::temporary;
  std::string detail;             // the server's answer or the error; no credentials
  bool data_handed_over = false;  // the failure came after the message data was sent
};

// The sender calls `data_complete` once, when the message's last byte has been handed over and
// before the terminating "." is sent; the outbox records that step durably.
using SendFn =
    std::function<SendAttempt(const OutboxItem&, const std::function<void()>& data_complete)>;

struct OutboxPolicy {
  int max_attempts = 8;
  std::chrono::seconds base_delay{60};
  std::chrono::seconds max_delay{3600};
  int max_per_recipient_per_day = 20;
  // A number in [0, 1) for the jitter; fixed in tests.
  std::function<double()> jitter = [] { return 0.5; };
};

struct OutboxRun {
  int sent = 0;
  int retried = 0;
  int failed = 0;
  int uncertain = 0;
  int deferred = 0;
  std::vector<IntakeNote> notes;
};

// The delay before attempt `attempts + 1` after `attempts` failed ones.
std::chrono::seconds backoff_delay(const OutboxPolicy& policy, int attempts);

// A send whose outcome the store could not record (disk full, read-only, I/O error): the
// process still knows what the mail server said, and records it at the next run, before any new
// send. Without this the item would stay "sending" until a restart turned it into "uncertain".
struct UnrecordedSend {
  OutboxItem item;
  SendAttempt result;
  Timestamp at{};
};
using UnrecordedSends = std::vector<UnrecordedSend>;

// Sends due items until none is due, `max_items` were tried, or `stop()` says so. `unrecorded`
// (kept by the caller across runs) holds sends whose outcome could not be written yet; they are
// recorded first. A store error is rethrown after the send's outcome was put there.
OutboxRun run_outbox(Store& store, const SendFn& send, const OutboxPolicy& policy,
                     const std::function<Timestamp()>& clock, const std::function<bool()>& stop,
                     int max_items = 100, UnrecordedSends* unrecorded = nullptr);

}  // namespace tilskudd
