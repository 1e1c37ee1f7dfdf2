// systemd integration without libsystemd: the service notification protocol (sd_notify(3),
// over $NOTIFY_SOCKET), the watchdog settings ($WATCHDOG_USEC, $WATCHDOG_PID), whether stderr
// goes to the journal ($JOURNAL_STREAM), and the journal's native protocol
// (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/) for structured log fields. Both protocols are
// a few lines over AF_UNIX datagram sockets, so we speak them ourselves rather than link
// libsystemd. Everything here is safe to call from any thread and never throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilskudd::systemd {

// ---- sd_notify ---------------------------------------------------------------------------

// Sends `state` (one or more "VAR=value" lines, sd_notify(3)) as one datagram to the socket
// named by $NOTIFY_SOCKET: an absolute path, or "@name" for the abstract namespace. Returns
// true when the whole datagram was sent; false, doing nothing, when $NOTIFY_SOCKET is unset,
// empty or not an AF_UNIX address (not started by systemd with Type=notify), and false on any
// socket error. The environment is left as it is.
bool notify(std::string_view state);

bool ready();                        // "READY=1": start-up or a reload is complete
bool status(std::string_view text);  // "STATUS=<text>" (line breaks become spaces)
bool watchdog();                     // "WATCHDOG=1": keep-alive, every WatchdogSec/3 or so
bool stopping();                     // "STOPPING=1": a stop has begun
bool reloading();                    // "RELOADING=1": a reload has begun; ready() ends it

// The watchdog period systemd expects keep-alives within: $WATCHDOG_USEC, when it is a
// positive integer and $WATCHDOG_PID is unset or names this process. nullopt otherwise (no
// WatchdogSec=, or the variables were meant for another process).
std::optional<std::chrono::microseconds> watchdog_interval();

// True when our stderr is connected to the journal: $JOURNAL_STREAM ("DEVICE:INODE", decimal)
// matches fstat() of file descriptor 2. A child whose stderr was redirected elsewhere sees
// false even though it inherited the variable.
bool under_journald();

// ---- the journal's native protocol -------------------------------------------------------

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

using JournalFields = std::vector<std::pair<std::string, std::string>>;

// A field name journald accepts from a client: 1 to 64 characters of A-Z, 0-9 and '_', not
// starting with '_' (trusted fields) or a digit.
bool valid_journal_field_name(std::string_view name);

// One journal entry in the native protocol. A value without a line break is "NAME=value\n";
// a value with one is sent verbatim in the binary form: "NAME\n", its length as 64-bit little
// endian, the value, "\n". Nothing is lost or sanitised. Fields with invalid names are left
// out.
std::string journal_serialize(const JournalFields& fields);

// Sends entries to journald's native socket (kJournalSocket, or another path for tests).
// An entry too large for one datagram goes as a sealed memfd passed with SCM_RIGHTS, as
// sd_journal_send() does.
class JournalWriter {
 public:
  explicit JournalWriter(std::string socket_path = kJournalSocket);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // True when journald (or whoever listens at the path) got the entry.
  bool send(const JournalFields& fields);

  const std::string& socket_path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace tilskudd::systemd
