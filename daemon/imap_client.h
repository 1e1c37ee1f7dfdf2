// A small blocking IMAP client for the daemon's mailbox.
//
// libcurl (CURLOPT_CONNECT_ONLY) does the connection, TLS (imaps:// or STARTTLS), certificate
// verification and the login (LOGIN/PLAIN with a password, or XOAUTH2 with a bearer token).
// After that we speak IMAP ourselves over curl_easy_send/curl_easy_recv with our own tags
// ("T1", "T2", ...) and parse with imap::ResponseParser. This avoids what Debian 12's libcurl
// 7.88 cannot do as an IMAP client (probed against Dovecot): its backport of the CVE-2023-38039
// fix caps the "headers" of a response at 300 KB, and every server line counts, so a custom
// command with many lines (a long UID FETCH or SEARCH) fails with CURLE_RECV_ERROR; a custom
// FETCH's literal reaches only the header callback, so a message body cannot be fetched with
// BODY.PEEK[] (the URL form fetches BODY[], which sets \Seen); and it has no IDLE.
//
// Threading: every call blocks until it is done or its deadline passes (poll() on curl's socket;
// curl_easy_recv is drained until CURLE_AGAIN before each poll because TLS may buffer data).
// One ImapClient is one connection and must be used by one thread at a time: run it on a worker
// thread (or wrap it behind an Asio strand later). curl_global_init must have been called
// before any threads start (the constructor calls it too, which is fine single-threaded).
//
// After a network error, a timeout, a protocol error or BYE the connection is closed and every
// further call throws ImapError(network) until connect() is called again. NO and BAD leave the
// connection usable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/imap_protocol.h"
#include "daemon/mail_source.h"

namespace tilskudd {

struct ImapOptions {
  // imaps://host:993/INBOX (implicit TLS) or imap://host:143/INBOX (STARTTLS required unless
  // allow_insecure, which then means no TLS at all). The path is not used by the client.
  std::string url;
  std::string username;
  std::string password;      // used when bearer_token is empty
  std::string bearer_token;  // XOAUTH2 (CURLOPT_XOAUTH2_BEARER, LOGIN_OPTIONS AUTH=XOAUTH2)
  // OAuth2 (XOAUTH2) with tokens from a source (daemon/oauth2), instead of bearer_token: asked
  // at every connect(); a token the server refuses is reported and a fresh one tried once.
  std::function<std::string()> token_provider;
  std::function<void(const std::string&)> token_refused;
  std::string ca_file;  // PEM CA bundle; empty = the system's
  bool allow_insecure = false;
  std::chrono::milliseconds connect_timeout{30000};   // connect + TLS + login
  std::chrono::milliseconds command_timeout{120000};  // each command; IDLE has its own wait
  imap::ParserLimits limits;
};

// A MailSourceError, so that the poller (which knows no IMAP) lets it end the poll.
class ImapError : public MailSourceError {
 public:
  enum class Kind {
    network,    // connect failed, connection lost, send/recv error
    timeout,    // a deadline passed
    tls,        // TLS handshake or certificate verification failed
    auth,       // login rejected
    protocol,   // the server sent something we cannot parse or did not expect
    no,         // tagged NO
    bad,        // tagged BAD
    bye,        // the server closed the session with BYE
    usage,      // invalid argument (e.g. a mailbox name that is not valid UTF-8)
    throttled,  // NO/BAD that asks us to wait (Exchange's "Request is throttled", [LIMIT],
                // [UNAVAILABLE], [INUSE]): retry_after() says how long
  };
  ImapError(Kind kind, std::string server_text, const std::string& what, std::string code = {},
            std::chrono::milliseconds retry_after = {})
      : MailSourceError(what),
        kind_(kind),
        server_text_(std::move(server_text)),
        code_(std::move(code)),
        retry_after_(retry_after) {}
  Kind kind() const { return kind_; }
  // The server's text (NO/BAD/BYE text or a curl error message); never contains credentials.
  const std::string& server_text() const { return server_text_; }
  // The tagged answer's response code (RFC 5530), upper-cased: "ALREADYEXISTS", "NOPERM",
  // "CANNOT", "LIMIT" ...; empty when it had none.
  const std::string& code() const { return code_; }
  // For `throttled`: the wait before the next command (the server's suggestion, at most
  // kMaxThrottleWait; kDefaultThrottleWait when it suggested none).
  std::chrono::milliseconds retry_after() const { return retry_after_; }

 private:
  Kind kind_;
  std::string server_text_;
  std::string code_;
  std::chrono::milliseconds retry_after_;
};

inline constexpr std::chrono::milliseconds kMaxThrottleWait{10 * 60 * 1000};
inline constexpr std::chrono::milliseconds kDefaultThrottleWait{30 * 1000};

// Whether a tagged NO/BAD asks the client to wait, and how long (docs/DECISIONS.md "The IMAP
// wire"): Exchange's "Request is throttled. Suggested Backoff Time: N milliseconds", and the
// RFC 5530 codes LIMIT, UNAVAILABLE and INUSE. nullopt: an ordinary refusal.
std::optional<std::chrono::milliseconds> throttle_wait(std::string_view code,
                                                       std::string_view text);

const char* to_string(ImapError::Kind kind);

struct MailboxInfo {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 0;  // 0 when the server did not say
  std::uint32_t exists = 0;
  bool read_only = false;
  std::vector<std::string> flags;
  std::vector<std::string> permanent_flags;
  bool permanent_flags_sent = false;  // RFC 3501: without PERMANENTFLAGS, assume all are kept
};

struct MailboxStatus {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 0;
  std::uint32_t messages = 0;
  std::uint32_t unseen = 0;
};

struct MessageMeta {
  std::uint32_t uid = 0;
  std::vector<std::string> flags;
  std::uint64_t size = 0;
  std::string internaldate;  // as sent: "24-Nov-2026 11:36:40 +0000"
};

struct IdleResult {
  bool woke = false;  // EXISTS or EXPUNGE arrived before the deadline
  std::optional<std::uint32_t> exists;
  std::uint32_t expunged = 0;
};

class ImapClient {
 public:
  explicit ImapClient(ImapOptions options);
  ~ImapClient();
  ImapClient(const ImapClient&) = delete;
  ImapClient& operator=(const ImapClient&) = delete;

  // Connects, negotiates TLS, verifies the certificate and logs in (closing any old connection).
  void connect();
  bool connected() const;

  std::vector<std::string> capability();
  // Mailbox names are UTF-8; they are sent as modified UTF-7.
  MailboxInfo select(std::string_view mailbox);
  MailboxInfo examine(std::string_view mailbox);
  MailboxStatus status(std::string_view mailbox);
  // `criteria` is sent verbatim after "UID SEARCH " (build it with imap::quote).
  std::vector<std::uint32_t> uid_search(std::string_view criteria);
  // The UIDs from `first` up, as the server lists them now (UID FETCH first:* (UID)), ascending;
  // one line per message, nothing of their content.
  std::vector<std::uint32_t> uids_from(std::uint32_t first);
  // Whether the server announced `name` (CAPABILITY, asked once per connection).
  bool has_capability(std::string_view name);
  // UID FLAGS RFC822.SIZE INTERNALDATE for a UID set such as "1:50" (imap::format_uid_set).
  std::vector<MessageMeta> uid_fetch_meta(std::string_view uid_set);
  // The raw message via BODY.PEEK[] (does not set \Seen); nullopt when no such UID.
  std::optional<std::string> uid_fetch_body_peek(std::uint32_t uid);
  // Only the header block via BODY.PEEK[HEADER]; nullopt when no such UID.
  std::optional<std::string> uid_fetch_header_peek(std::uint32_t uid);
  // UID STORE <set> +FLAGS.SILENT (<flags>); flags separated by spaces, e.g. "$Tilskudd".
  void uid_store_add_flags(std::string_view uid_set, std::string_view flags);
  void uid_copy(std::string_view uid_set, std::string_view mailbox);
  // UID EXPUNGE (RFC 4315 UIDPLUS): only these UIDs, never another client's \Deleted ones.
  void uid_expunge(std::string_view uid_set);
  // UID MOVE (RFC 6851); throws ImapError(usage) when the server lacks MOVE.
  void uid_move(std::string_view uid_set, std::string_view mailbox);
  void create(std::string_view mailbox);
  void noop();
  // IDLE until EXISTS/EXPUNGE or `max_wait`, then DONE. Needs a selected mailbox. Re-issue at
  // least every 29 minutes (tilskudd: every 10, as Exchange stops pushing silently). An EXISTS
  // or EXPUNGE that arrives before the server's continuation wakes it too.
  IdleResult idle(std::chrono::milliseconds max_wait);
  // Thread-safe: ends a running (or the next) idle() early, as if its wait had passed. Used to
  // stop the IDLE connection's thread at shutdown. clear_interrupt() re-arms.
  void interrupt();
  void clear_interrupt();
  bool interrupted() const;
  // LOGOUT and close; never throws.
  void logout();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tilskudd
