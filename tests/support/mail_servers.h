// Real Dovecot + OpenSMTPD on loopback for integration tests (tests/integration/mailservers.sh),
// and Cyrus IMAP as a second real IMAP server (tests/integration/cyrus.sh, ImapServer below).
//
// The servers come from $TILSKUDD_MAIL_DIR when it is set (mailservers.sh start is idempotent);
// otherwise they are started in a temporary directory on first use (needs root) and stopped at
// process exit. Every address of every domain exists: mail for x@y.no lands in x@y.no's INBOX,
// whose IMAP password is "secret-x". Tests keep apart by using their own addresses.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/imap_client.h"

namespace tilskudd::testing {

struct MailServers {
  std::string dir;
  bool started_here = false;
  std::map<std::string, std::string> env;
  std::string skip_reason;  // non-empty: no servers (the test should GTEST_SKIP)

  // Started on first call; stopped at exit when started here.
  static MailServers& get();

  std::string var(const std::string& name) const;  // a TILSKUDD_* value from `mailservers.sh env`
  std::string imaps_url() const;                   // imaps://127.0.0.1:PORT/INBOX
  std::string smtp_url() const;                    // smtp://127.0.0.1:PORT
  std::string ca_file() const;
};

// Runs a shell command; returns its exit status as system() does; stdout (and stderr when the
// command redirects it) into *out. The command gets stdin, stdout (a pipe) and stderr only: every
// other descriptor of the test process is closed in the child (close_range), so a server that it
// starts keeps none of them, e.g. the lock of `flock /work/mail.lock ctest`, which a server left
// running after a crashed test would otherwise hold for ever.
int run_command(const std::string& cmd, std::string* out = nullptr);

// Delivers `raw` by LMTP to 127.0.0.1:`port` (LHLO, MAIL, RCPT, DATA; dot-stuffed). Throws with
// the server's answer when it refuses.
void lmtp_deliver(int port, const std::string& from, const std::string& to, const std::string& raw);

// Delivers `raw` over SMTP (libcurl -> OpenSMTPD -> LMTP -> Dovecot). Throws on failure.
void smtp_deliver(const std::string& from, const std::string& to, const std::string& raw);
// The same at the SMTP server `smtp_url` (smtp://127.0.0.1:PORT), e.g. another instance's.
void smtp_deliver_at(const std::string& smtp_url, const std::string& from, const std::string& to,
                     const std::string& raw);

// Logs in as `user` (password "secret-<localpart>", or the one set_password gave it).
std::unique_ptr<ImapClient> imap_login(const std::string& user);

// Changes `user`'s IMAP password at the server: from now on Dovecot accepts `password` and
// refuses every other, "secret-<localpart>" too. Sessions already logged in stay (as at a real
// server). An empty `password` gives the user back "secret-<localpart>".
void set_password(const std::string& user, const std::string& password);

// Ends every IMAP session of `user` at the server (doveadm kick): its clients must log in again.
void kick_sessions(const std::string& user);

// Dovecot's log (logins, refused logins, errors) so far.
std::string dovecot_log();

// Waits until `user`'s INBOX holds at least `count` messages; false after `timeout`.
bool wait_for_messages(const std::string& user, std::uint32_t count,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Every message of `user`'s INBOX, in UID order (BODY.PEEK: flags are not changed).
struct StoredMessage {
  std::uint32_t uid = 0;
  std::vector<std::string> flags;
  std::string raw;
};
std::vector<StoredMessage> inbox(const std::string& user);

bool has_flag(const StoredMessage& m, const std::string& flag);

// A real IMAP server that holds a test's mailbox: "Dovecot" (MailServers above: every address
// exists, mail arrives by SMTP through OpenSMTPD) or "Cyrus" (Cyrus IMAP 3.6 from
// tests/integration/cyrus.sh: users exist once add_user made them, mail arrives by LMTP). Both
// have the password "secret-<localpart>" for user@domain. Mail that the daemon sends still goes
// through OpenSMTPD into Dovecot (the applicants' mailboxes); only the mailbox under test moves.
//
// Cyrus comes from $TILSKUDD_CYRUS_DIR when set (cyrus.sh start is idempotent), otherwise it is
// started in a temporary directory on first use and stopped at exit. skip_reason() is non-empty
// only where it cannot run here (not root, or not unpacked: scripts/setup unpacks it into
// /opt/tilskudd-test/cyrus, or $TILSKUDD_CYRUS_ROOT); under CI=true that is a failure instead.
class ImapServer {
 public:
  // "Dovecot" or "Cyrus"; anything else throws. Started on first call.
  static ImapServer& get(const std::string& name);

  const std::string& name() const { return name_; }
  const std::string& skip_reason() const { return skip_reason_; }

  std::string imaps_url() const;  // imaps://127.0.0.1:PORT/INBOX
  std::string imap_url() const;   // imap://127.0.0.1:PORT/INBOX (STARTTLS)
  std::string ca_file() const;    // the CA of the server's certificate
  // The full name of a folder `leaf` in the user's personal namespace, as the server names it
  // (its NAMESPACE answer): Dovecot "leaf", Cyrus (Debian's altnamespace: no) "INBOX.leaf".
  std::string personal_folder(const std::string& leaf) const;

  // Makes `user` exist with the password "secret-<localpart>" (Dovecot: every user exists).
  void add_user(const std::string& user);
  // Puts `raw` into `to`'s INBOX as mail arrives there: Dovecot by SMTP, Cyrus by LMTP.
  void deliver(const std::string& from, const std::string& to, const std::string& raw);
  std::unique_ptr<ImapClient> login(const std::string& user);
  // Waits until `user`'s `mailbox` holds at least `count` messages; false after `timeout`.
  bool wait_for_messages(const std::string& user, std::uint32_t count,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20),
                         const std::string& mailbox = "INBOX");
  // Every message of `user`'s `mailbox`, in UID order (BODY.PEEK: flags are not changed).
  std::vector<StoredMessage> messages(const std::string& user,
                                      const std::string& mailbox = "INBOX");
  // Gives `user`'s INBOX a new UIDVALIDITY with its messages kept, as an administrator
  // restoring it from a backup would; returns the new UIDVALIDITY. Dovecot: doveadm mailbox
  // update --uid-validity (the old one + 1000; flags kept). Cyrus: cyrus.sh restore (its index
  // rebuilt by reconstruct; flags and keywords lost, as from a backup of the message files).
  std::uint32_t renew_uidvalidity(const std::string& user);
  // Removes every message of `user`'s INBOX (doveadm expunge; cyrus.sh expunge).
  void expunge_inbox(const std::string& user);
  // The server's record of `user`'s sessions, commands and answers where it keeps one (Cyrus'
  // telemetry in DIR/lib/log/<user>/), else Dovecot's log; for failure messages.
  std::string session_log(const std::string& user) const;

 private:
  explicit ImapServer(std::string name) : name_(std::move(name)) {}
  std::string var(const std::string& key) const;
  std::string name_;
  std::string skip_reason_;
  std::string dir_;  // Cyrus: its cyrus.sh directory
  bool started_here_ = false;
  std::map<std::string, std::string> env_;
  friend void stop_cyrus_at_exit();
};

}  // namespace tilskudd::testing
