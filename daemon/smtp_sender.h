// Sends composed messages over SMTP with libcurl (blocking): one connection per smtp_send call,
// or one for many mails with SmtpSession.
//
// - smtps://host:465: implicit TLS. smtp://host:587: STARTTLS is required (CURLUSESSL_ALL, no
//   plaintext fallback) unless allow_insecure, which then means no TLS at all (loopback tests).
//   Certificates are always verified (peer and host name); ca_file replaces the system bundle.
// - AUTH only when username is set: XOAUTH2 with bearer_token (LOGIN_OPTIONS AUTH=XOAUTH2), else
//   the password with the server's best mechanism.
// - No global state: curl_global_init is the caller's (once, before threads start). Safe to call
//   from several threads at once (one easy handle per call, CURLOPT_NOSIGNAL).
//
// Outcomes:
// - accepted: the server answered 250 to the end of the data.
// - permanent: the server refused this message for good: a 5xx reply to RCPT TO, to DATA, to the
//   end of the data, or 552 (too large) to MAIL FROM; also an empty or malformed recipient
//   (white space, control characters, "<>": nothing is sent).
// - temporary: everything else: 4xx replies, connection/DNS/timeout/TLS errors (STARTTLS not
//   offered included), login denied (detail says so), and 5xx replies to the session set-up
//   (greeting, EHLO, STARTTLS, AUTH, MAIL FROM other than 552): those are about our account or
//   configuration, not this message, so the outbox keeps the letter and retries with backoff.
//
// data_handed_over (how it is found out): the read callback records when curl has taken the
// last byte of the message (curl then sends the terminating "<CRLF>.<CRLF>"), and the debug
// callback (CURLOPT_VERBOSE + CURLOPT_DEBUGFUNCTION, which also replaces curl's stderr output)
// watches the server's reply lines. data_handed_over is true when the transfer failed after the
// whole message was handed over and before the server's final reply to it was read: only then
// may the server have accepted a message we report as failed. A failure before that point (no
// 354, or the connection broke mid-data, so no terminating dot was sent) is never delivered; a
// 4xx/5xx reply to the data is a definite answer (data_handed_over false).
//
// detail: the curl error text, the SMTP stage and the server's last reply line; never the
// password, token or AUTH exchange.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "workflow/outgoing.h"

namespace tilskudd {

struct SmtpOptions {
  std::string url;  // smtps://host:465 or smtp://host:587 (a path sets the EHLO name)
  std::string username;
  std::string password;
  std::string bearer_token;  // XOAUTH2
  std::string ca_file;       // PEM CA bundle; empty = the system's
  bool allow_insecure = false;
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds timeout{120000};  // the whole transfer
  // OAuth2 (XOAUTH2) with tokens from a source (daemon/oauth2): asked before each transfer; a
  // refused token is reported and a fresh one tried once (nothing is sent before AUTH).
  std::function<std::string()> token_provider;
  std::function<void(const std::string&)> token_refused;
};

struct SmtpResult {
  SendOutcome outcome = SendOutcome::temporary;
  long response_code = 0;  // the server's last reply code; 0 when none
  std::string detail;      // curl error text / server reply, never credentials
  // True when the failure happened after the complete message was handed over and no final
  // reply was read (the uncertain window: the server may have accepted it). See above.
  bool data_handed_over = false;
  bool login_denied = false;  // the server refused our credentials (AUTH)
};

// `envelope_from` and `recipient` are bare addresses ("post@asker.kommune.no"; a "Name <a@b>"
// form is reduced to its address). `message` is the complete RFC 5322 message with CRLF line
// ends (outgoing::compose); curl does the dot-stuffing.
// `data_complete` (optional) is called once, when curl has taken the message's last byte and
// before it sends the terminating "<CRLF>.<CRLF>".
SmtpResult smtp_send(const SmtpOptions& options, std::string_view envelope_from,
                     std::string_view recipient, std::string_view message,
                     const std::function<void()>& data_complete = {});

// Logs in and sends nothing (`config check --connect`): the greeting, EHLO, STARTTLS (for
// smtp://) and AUTH with the same options, token round and outcomes as smtp_send; `accepted`
// means the session could start, `login_denied` that the credentials were refused. QUIT ends it.
SmtpResult smtp_login_check(const SmtpOptions& options);

// Several mails over one connection (the outbox's run): the same options, outcomes and
// data_complete step as smtp_send, but curl keeps the session's connection open after a mail
// the server accepted, and the next mail starts with its MAIL FROM (after the 250 to the end of
// the data the server's transaction is over, RFC 5321 4.1.1.4, so no RSET is needed). After any
// failure of a mail that reached the network (an SMTP error, a timeout, a broken connection) the
// session closes the connection, so the next mail starts on a fresh one with no half
// transaction left over; a connection the server closed while idle is noticed by curl and
// replaced. The destructor sends QUIT. One thread at a time.
class SmtpSession {
 public:
  explicit SmtpSession(SmtpOptions options);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  SmtpResult send(std::string_view envelope_from, std::string_view recipient,
                  std::string_view message, const std::function<void()>& data_complete = {});
  int connections() const { return connections_; }  // opened so far

 private:
  SmtpOptions options_;
  void* handle_ = nullptr;  // CURL*
  int connections_ = 0;
};

}  // namespace tilskudd
