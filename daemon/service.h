// `tilskudd run`: the daemon.
//
// Threads and who does what:
// - The Boost.Asio event loop (the main thread) owns the schedule and the signals: the poll
//   timer, SIGTERM/SIGINT (finish the message in hand, then exit 0) and SIGHUP (reload the
//   config; a broken file is logged and the old config stays). It never blocks.
// - One worker thread does the blocking work a cycle needs: IMAP poll, intake into the store,
//   reminders, the outbox over SMTP. The loop hands it cycles; it reports back to the loop when
//   a cycle is done and when the next one is due (the poll interval, or a backoff after errors).
// - One IDLE thread holds a second, read-only (EXAMINE) IMAP connection in IDLE and asks the
//   loop for a cycle as soon as the server reports new mail. It re-IDLEs every 25 minutes and
//   reconnects after BYE or errors; the poll timer catches whatever IDLE misses.
// The IMAP client is blocking (poll() with deadlines on curl's socket), so it lives on these
// threads rather than in the loop; see docs/DECISIONS.md "Daemon".
//
// Who owns what (service.cpp, class Service):
// - The config and everything built from it (the IMAP/SMTP options, the templates, the PDF pool
//   with its pdftotext started ahead, the OAuth2 token source) is a `Setup`, immutable once
//   built and shared as shared_ptr<const Setup>. The newest one is published under the
//   service's mutex: by the loop at SIGHUP (which also asks for a cycle and interrupts IDLE).
// - The worker thread owns the store connection, the mailbox connection, the poller and the
//   setup of its cycle: it takes the newest setup at the start of each cycle, and a replaced
//   setup is destroyed when its last holder lets it go (its pdftotext killed and reaped).
// - The IDLE thread owns its IMAP client and keeps no Setup: at each (re)connect it copies the
//   options of the newest one. After a reload it logs in again when the settings it depends on
//   changed (URL, user name, password or token, the OAuth2 source, CA, TLS, IDLE on or off).
// - The mutex guards: the newest setup and its generation count, the cycle request, and the
//   pointer to the IDLE client (other threads only call its interrupt(), under the mutex). The
//   stop flag and the watchdog's heartbeat are atomics; the loop's timers and signal set are
//   touched only on the loop (other threads post to it).
#pragma once

#include <string>

namespace tilskudd {

struct RunArgs {
  std::string config_path;
  bool once = false;  // one poll-and-process cycle (fetch, decide, send), then exit
  // Shadow mode: the mailbox is only read (EXAMINE, BODY.PEEK), no mail is sent, and cases are
  // kept in a scratch store (`scratch_store`, default "<[store] path>.dry-run"), never the real
  // one. It logs what it would decide and send.
  bool dry_run = false;
  std::string scratch_store;
  std::string log_level = "info";
};

// Returns the process exit code: 0 after --once or a clean stop, 1 when --once failed, 2 for a
// config error, 3 when another daemon holds the store.
int run_daemon(const RunArgs& args);

}  // namespace tilskudd
