// OAuth2 access tokens for XOAUTH2 (IMAP and SMTP on Microsoft 365): fetched from the token
// endpoint, cached in memory and optionally on disk, refreshed before they expire.
//
// Grants (RFC 6749):
// - client_credentials (client_id, client_secret, scope): the app's own token. Microsoft 365
//   supports it for IMAP/SMTP with scope "https://outlook.office365.com/.default" once the app's
//   service principal has mailbox permissions in Exchange Online.
// - refresh_token (refresh_token, client_id, [client_secret], scope), when refresh_token_file is
//   set: a delegated token. Microsoft rotates the refresh token on every use; a rotated token is
//   written back to refresh_token_file at once (temp file + fsync + rename, mode 0600), so a
//   crash or restart never falls back to an older token. Losing rotated tokens is what makes
//   other mail tools die after 90 days (zammad/zammad#3411, paperless-ngx/paperless-ngx#11341). The
//   scope must include "offline_access" for Microsoft to return new refresh tokens. Each refresh
//   holds an flock() on "<refresh_token_file>.lock" and first re-reads the file: when another
//   process (a CLI command, the daemon before SIGHUP) or an operator has put another token there,
//   that one is used. So several TokenSources, also in several processes, may share one
//   refresh_token_file safely.
//
// Transport: HTTPS POST, application/x-www-form-urlencoded, over libcurl with the certificate
// and host name verified, no redirects, connect and total timeouts. http:// only with
// allow_insecure and only to a loopback host (127.0.0.1, ::1, localhost): for tests.
//
// Secrets: the client secret, the refresh token, access tokens and the form body are never
// logged and never put into exception text; an error description from the endpoint has any of
// them replaced by "[redacted]" should the endpoint echo one.
//
// Threading: TokenSource is thread-safe. The IMAP worker, the IDLE thread and the SMTP sender
// share one; while one thread fetches, the others wait for that fetch instead of starting their
// own (one request at a time).
//
// curl_global_init is the caller's (once, before threads start), as for smtp_send.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilskudd::oauth2 {

struct OAuth2Settings {
  std::string token_url;  // e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token
  std::string client_id;
  // A systemd credential file: the first line is the client secret. Required for
  // client_credentials; optional with a refresh token (public clients have none).
  std::string client_secret_file;
  std::string scope;  // e.g. https://outlook.office365.com/.default
  // Optional: use the refresh-token grant; the file holds the refresh token (first line) and
  // must be in a writable directory (not $CREDENTIALS_DIRECTORY, which is read-only): rotated
  // tokens are written back here at once.
  std::string refresh_token_file;
  // Optional: the current access token and its expiry (JSON, mode 0600), so a restart needs no
  // fetch. Ignored when it was written for another token_url, client_id or scope.
  std::string cache_file;
  std::string ca_file;          // PEM CA bundle for a private CA (tests); "" = the system's
  bool allow_insecure = false;  // http:// token_url only with this, only for loopback hosts
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds timeout{60000};  // the whole request
};

class OAuth2Error : public std::runtime_error {
 public:
  enum class Kind {
    config,     // unreadable secret/refresh-token file, bad token_url: fix the configuration
    rejected,   // the endpoint refused the request (4xx: invalid_client, invalid_grant, ...)
    temporary,  // network, TLS, timeout, 5xx, 429, temporarily_unavailable, malformed reply
  };
  // `what` is built by the caller and must hold no secrets.
  OAuth2Error(Kind kind, const std::string& what, std::string error = {},
              std::string error_description = {}, long http_status = 0)
      : std::runtime_error(what),
        kind_(kind),
        error_(std::move(error)),
        error_description_(std::move(error_description)),
        http_status_(http_status) {}
  Kind kind() const { return kind_; }
  bool temporary() const { return kind_ == Kind::temporary; }
  // The endpoint's "error" code (e.g. "invalid_client"), "" when none.
  const std::string& error() const { return error_; }
  // The endpoint's "error_description" (one line, shortened, secrets redacted), "" when none.
  const std::string& error_description() const { return error_description_; }
  long http_status() const { return http_status_; }  // 0 when no HTTP answer came

 private:
  Kind kind_;
  std::string error_;
  std::string error_description_;
  long http_status_;
};

const char* to_string(OAuth2Error::Kind kind);  // "config", "rejected", "temporary"

// ---- Building blocks (pure; exposed for tests) ------------------------------------------------

// application/x-www-form-urlencoded: ALPHA DIGIT - . _ ~ as they are, space as '+', every other
// byte as %XX (upper case).
std::string form_encode(std::string_view value);
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);

struct TokenResponse {
  std::string access_token;
  std::chrono::seconds expires_in{0};
  std::optional<std::string> refresh_token;  // a rotated refresh token, when sent
  std::string token_type;                    // "Bearer" (also when the endpoint left it out)
};

// Parses a successful (2xx) token response. expires_in may be a number or a string of digits;
// when missing, 3600 s is assumed. Throws OAuth2Error(temporary) when the body is not a JSON
// object, access_token is missing, empty or not printable ASCII, token_type is not Bearer, or
// expires_in is not a positive number.
TokenResponse parse_token_response(std::string_view body);

// The OAuth2Error for a failed request: HTTP `status` (0 = no answer) with the endpoint's `body`
// (JSON error object or anything else). `secrets` are redacted from the description. Kind:
// temporary for 5xx, 408, 429 and the error codes temporarily_unavailable / server_error;
// rejected for other 4xx and anything else.
OAuth2Error error_from_response(long status, std::string_view body,
                                const std::vector<std::string>& secrets);

// The on-disk cache of an access token.
struct CachedToken {
  std::string access_token;
  std::chrono::system_clock::time_point obtained_at;
  std::chrono::system_clock::time_point expires_at;
  std::string token_url;  // what it was fetched with: a cache for other settings is not used
  std::string client_id;
  std::string scope;
};
std::string serialize_cache(const CachedToken& token);
// nullopt when the text is not a well-formed cache (never throws).
std::optional<CachedToken> parse_cache(std::string_view text);

// Writes `content` to `path` atomically: a temporary file in the same directory (mode `mode`),
// fsync, rename over `path`, fsync of the directory. Throws std::runtime_error (naming the
// path, never the content) on failure; the temporary file is removed then.
void write_file_atomically(const std::string& path, std::string_view content, unsigned mode = 0600);

// When a token obtained at `obtained_at` with lifetime `lifetime` is due for refresh: 5 minutes
// before it expires, or halfway through its life when it lives less than 10 minutes.
std::chrono::system_clock::time_point refresh_due(std::chrono::system_clock::time_point obtained_at,
                                                  std::chrono::system_clock::time_point expires_at);

// ---- The token source ------------------------------------------------------------------------

// One POST to the token endpoint: the HTTP status (0 when no answer) and the body. Throws
// OAuth2Error(temporary) on network/TLS/timeout failure. The default uses libcurl.
struct HttpReply {
  long status = 0;
  std::string body;
};
using HttpPost = std::function<HttpReply(const OAuth2Settings& settings, const std::string& body)>;
HttpReply curl_post(const OAuth2Settings& settings, const std::string& body);

class TokenSource {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Reads the client secret and the refresh token (if configured) and the cache file (if any
  // and valid); no network. Throws OAuth2Error(config) for a bad token_url (not https://, or
  // http:// without allow_insecure or to a host that is not loopback), empty client_id or scope,
  // an unreadable/empty secret or refresh-token file, or a refresh-token file whose directory
  // is not writable. `post` replaces libcurl (tests).
  explicit TokenSource(OAuth2Settings settings, Clock clock = std::chrono::system_clock::now,
                       HttpPost post = {});
  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  // The current access token; fetches a new one when there is none, when it was invalidated, or
  // when it expires within 5 minutes (refresh_due). When a refresh fails but the current token
  // is still valid for at least 30 s (and was not invalidated), that token is returned and the
  // failure logged; the next attempt is then made no sooner than 30 s later. Otherwise throws
  // OAuth2Error.
  std::string access_token();

  // The server refused the token: the next access_token() fetches anew (and the cache file is
  // removed). With `refused_token`, only when that is still the current token (another thread
  // may have fetched a new one already); empty = unconditionally.
  void invalidate(std::string_view refused_token = {});

  // Warning text for the operator, or nullopt: the refresh token is older than 60 days
  // (Microsoft's expire after 90 days of disuse; its age is the refresh-token file's mtime,
  // renewed on each rotation), or a rotated refresh token could not be written back. Always
  // nullopt with client credentials.
  std::optional<std::string> expiry_warning() const;

  // How many requests went to the token endpoint (for logs and tests).
  int fetch_count() const;

 private:
  struct Current {
    std::string access_token;
    std::chrono::system_clock::time_point obtained_at{};
    std::chrono::system_clock::time_point expires_at{};
    bool invalidated = false;
  };
  void fetch_locked(std::chrono::system_clock::time_point now);  // needs fetch_mutex_
  void adopt_refresh_token_file();  // needs fetch_mutex_ and the refresh-token file lock
  void load_cache();
  void save_cache(const Current& c);
  std::vector<std::string> secrets_locked() const;

  const OAuth2Settings settings_;
  const Clock clock_;
  const HttpPost post_;
  std::string client_secret_;

  std::mutex fetch_mutex_;          // one request at a time; taken before state_mutex_
  mutable std::mutex state_mutex_;  // the fields below
  Current current_;
  std::string refresh_token_;
  std::string file_token_;  // what refresh_token_file held when we last read or wrote it
  std::chrono::system_clock::time_point refresh_token_since_{};  // when it was obtained
  std::optional<std::string> save_failure_;                      // rotated token not written back
  std::chrono::system_clock::time_point next_attempt_{};         // after a failed refresh
  int fetches_ = 0;
};

}  // namespace tilskudd::oauth2
