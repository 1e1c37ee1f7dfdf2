// Real Dovecot + OpenSMTPD on loopback for integration tests (tests/integration/mailservers.sh).
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
// command redirects it) into *out.
int run_command(const std::string& cmd, std::string* out = nullptr);

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

}  // namespace tilskudd::testing
