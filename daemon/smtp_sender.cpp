#include "daemon/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "config/config.h"

namespace tilskudd {

namespace {

// Where the SMTP dialogue is, from the commands curl sends (debug callback, HEADER_OUT) and the
// read callback.
enum class Stage { connect, ehlo, starttls, auth, mail_from, rcpt_to, data, message, end_of_data };

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::connect:
      return "connect/greeting";
    case Stage::ehlo:
      return "EHLO";
    case Stage::starttls:
      return "STARTTLS";
    case Stage::auth:
      return "AUTH";
    case Stage::mail_from:
      return "MAIL FROM";
    case Stage::rcpt_to:
      return "RCPT TO";
    case Stage::data:
      return "DATA";
    case Stage::message:
      return "message data";
    case Stage::end_of_data:
      return "end of data";
  }
  return "?";
}

struct Transfer {
  std::string_view message;
  std::size_t pos = 0;
  Stage stage = Stage::connect;
  bool all_data_taken = false;  // curl has the last byte: the terminating dot follows
  bool final_reply_seen = false;
  long final_reply_code = 0;
  std::string last_reply;  // the last complete server reply line (never an AUTH challenge)
  bool quitting = false;   // QUIT sent: its "221 Bye" says nothing about the failure
  const std::function<void()>* data_complete = nullptr;
  bool data_complete_called = false;
  bool data_complete_failed = false;
};

bool starts_with_word(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != word[i]) return false;
  }
  return line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == ':' ||
         line[word.size()] == '\r' || line[word.size()] == '\n';
}

std::string_view chomp(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

size_t read_cb(char* buf, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->stage != Stage::end_of_data) t->stage = Stage::message;
  const std::size_t len = std::min(size * nitems, t->message.size() - t->pos);
  if (t->pos + len == t->message.size() && t->data_complete && *t->data_complete &&
      !t->data_complete_called) {
    // This call hands curl the message's last bytes, and curl sends the terminating dot right
    // after them (it knows the size and does not call us again): the caller records it now.
    // If it cannot (a store error), the transfer is aborted here, before the last bytes and the
    // dot, so nothing is delivered.
    t->data_complete_called = true;
    try {
      (*t->data_complete)();
    } catch (...) {
      t->data_complete_failed = true;
      return CURL_READFUNC_ABORT;
    }
  }
  if (len > 0) std::memcpy(buf, t->message.data() + t->pos, len);
  t->pos += len;
  if (t->pos == t->message.size()) {
    t->all_data_taken = true;
    t->stage = Stage::end_of_data;
  }
  return len;
}

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    // Only the command verb is looked at: AUTH lines and SASL continuations carry credentials
    // and are never stored.
    if (starts_with_word(text, "EHLO") || starts_with_word(text, "HELO")) {
      t->stage = Stage::ehlo;
    } else if (starts_with_word(text, "STARTTLS")) {
      t->stage = Stage::starttls;
    } else if (starts_with_word(text, "AUTH")) {
      t->stage = Stage::auth;
    } else if (starts_with_word(text, "MAIL")) {
      t->stage = Stage::mail_from;
    } else if (starts_with_word(text, "RCPT")) {
      t->stage = Stage::rcpt_to;
    } else if (starts_with_word(text, "DATA")) {
      t->stage = Stage::data;
    } else if (starts_with_word(text, "QUIT")) {
      t->quitting = true;
    }
  } else if (type == CURLINFO_HEADER_IN && !t->quitting) {
    // A server reply line: "250-..." (continued) or "250 ..." (last line of the reply). Curl
    // may pass several lines in one call.
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      const std::string_view line = chomp(text.substr(pos, nl - pos));
      pos = nl + 1;
      if (line.size() < 3) continue;
      const bool is_final = line.size() == 3 || line[3] == ' ';
      const bool challenge = line.rfind("334", 0) == 0;
      if (is_final && !challenge) t->last_reply = std::string(line.substr(0, 300));
      if (is_final && t->all_data_taken && !t->final_reply_seen) {
        t->final_reply_seen = true;
        t->final_reply_code = std::strtol(std::string(line.substr(0, 3)).c_str(), nullptr, 10);
      }
    }
  }
  return 0;
}

// "Name <a@b>" or "<a@b>" -> "a@b"; nullopt when empty or when it holds white space, control
// characters or angle brackets (SMTP command injection).
std::optional<std::string> bare_address(std::string_view raw) {
  const std::size_t lt = raw.rfind('<');
  if (lt != std::string_view::npos) {
    const std::size_t gt = raw.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    raw = raw.substr(lt + 1, gt - lt - 1);
  } else {
    while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
    while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  }
  if (raw.empty()) return std::nullopt;
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>') return std::nullopt;
  }
  return std::string(raw);
}

// "smtps" or "smtp" (as curl reads the URL); "" for anything else, and for plaintext
// (allow_insecure) to a host that is not loopback (config::validate_for_daemon checks the same).
std::string smtp_scheme(const SmtpOptions& opt) {
  const auto parts = config::parse_mail_url(opt.url);
  if (!parts || (parts->scheme != "smtps" && parts->scheme != "smtp")) return "";
  if (parts->scheme == "smtp" && opt.allow_insecure && !config::loopback_host(parts->host))
    return "";
  return parts->scheme;
}

SmtpResult local_failure(SendOutcome outcome, std::string detail) {
  SmtpResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

namespace {

// One transfer. `session`: a handle whose connection curl keeps for the next transfer (nullptr:
// a handle of its own, closed at the end); `connects` counts the connections opened, and
// `performed` says whether anything went to the network (false for a refused address).
SmtpResult smtp_send_once(const SmtpOptions& opt, std::string_view envelope_from,
                          std::string_view recipient, std::string_view message,
                          const std::function<void()>& data_complete, CURL* session, int* connects,
                          bool* performed);

// The OAuth2 token round (a refused token is reported and a fresh one tried once) around one
// attempt `once`, which gets the options with the token filled in.
SmtpResult with_token_round(const SmtpOptions& opt,
                            const std::function<SmtpResult(const SmtpOptions&)>& once) {
  if (!opt.token_provider) return once(opt);
  SmtpOptions with_token = opt;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      with_token.bearer_token = opt.token_provider();
    } catch (const std::exception& e) {
      SmtpResult r;
      r.outcome = SendOutcome::temporary;
      r.detail = std::string("no OAuth2 token: ") + e.what();
      return r;
    }
    SmtpResult r = once(with_token);
    if (!r.login_denied || attempt == 1) return r;
    if (opt.token_refused) opt.token_refused(with_token.bearer_token);
  }
  return {};
}

SmtpResult smtp_send_on(const SmtpOptions& opt, std::string_view envelope_from,
                        std::string_view recipient, std::string_view message,
                        const std::function<void()>& data_complete, CURL* session, int* connects,
                        bool* performed) {
  return with_token_round(opt, [&](const SmtpOptions& o) {
    return smtp_send_once(o, envelope_from, recipient, message, data_complete, session, connects,
                          performed);
  });
}

// The session's settings: URL, TLS (required), certificate checks, AUTH, timeouts, and the
// debug callback that follows the server's replies into `t`.
void set_session_options(CURL* c, const SmtpOptions& opt, bool implicit_tls, Transfer& t,
                         char* errbuf) {
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, opt.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!implicit_tls) {
    // Never CURLUSESSL_TRY: it silently falls back to plaintext.
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     static_cast<long>(opt.allow_insecure ? CURLUSESSL_NONE : CURLUSESSL_ALL));
  }
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!opt.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opt.ca_file.c_str());
  if (!opt.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, opt.username.c_str());
    if (!opt.bearer_token.empty()) {
      curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, opt.bearer_token.c_str());
      curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    } else {
      curl_easy_setopt(c, CURLOPT_PASSWORD, opt.password.c_str());
    }
  }
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // needed for the debug callback; prints nothing
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &t);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opt.timeout.count()));
}

// Clears a session handle's options after a transfer (they point at the transfer's locals); its
// connection stays in curl's cache (curl_easy_reset keeps live connections).
struct ResetAfter {
  CURL* handle;
  ~ResetAfter() {
    if (handle) curl_easy_reset(handle);
  }
};

SmtpResult smtp_send_once(const SmtpOptions& opt, std::string_view envelope_from,
                          std::string_view recipient, std::string_view message,
                          const std::function<void()>& data_complete, CURL* session, int* connects,
                          bool* performed) {
  using Outcome = SendOutcome;
  const std::string scheme = smtp_scheme(opt);
  const bool implicit_tls = scheme == "smtps";
  if (scheme.empty()) {
    // A configuration problem, not this message's: keep the letter.
    return local_failure(Outcome::temporary,
                         "SMTP URL must start with smtps:// or smtp:// (plaintext, "
                         "allow_insecure, only to a loopback host)");
  }
  const auto from = bare_address(envelope_from);
  if (!from) {
    return local_failure(Outcome::temporary,
                         "invalid envelope sender address (empty, white space, control "
                         "characters or angle brackets)");
  }
  const auto rcpt = bare_address(recipient);
  if (!rcpt) {
    return local_failure(Outcome::permanent,
                         "invalid recipient address (empty, white space, control characters or "
                         "angle brackets); nothing was sent");
  }

  std::unique_ptr<CURL, CurlDeleter> own;
  if (!session) {
    own.reset(curl_easy_init());
    if (!own) return local_failure(Outcome::temporary, "curl_easy_init failed");
  }
  const std::string mail_from = "<" + *from + ">";
  std::unique_ptr<curl_slist, SlistDeleter> rcpts(
      curl_slist_append(nullptr, ("<" + *rcpt + ">").c_str()));
  if (!rcpts) return local_failure(Outcome::temporary, "out of memory");

  Transfer t;
  t.message = message;
  t.data_complete = &data_complete;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = session ? session : own.get();
  ResetAfter reset_after{session};
  set_session_options(c, opt, implicit_tls, t, errbuf);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &t);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

  if (performed) *performed = true;
  const CURLcode rc = curl_easy_perform(c);

  SmtpResult r;
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  r.response_code = code;
  long opened = 0;
  if (connects && curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK) {
    *connects += static_cast<int>(opened);
  }
  if (rc == CURLE_OK) {
    r.outcome = Outcome::accepted;
    r.detail = t.last_reply;
    return r;
  }

  const std::string curl_text = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
  std::string detail = std::string(stage_name(t.stage)) + ": " + curl_text + " (curl " +
                       std::to_string(static_cast<int>(rc)) + ")";
  if (!t.last_reply.empty()) detail += "; server: " + t.last_reply;

  if (rc == CURLE_LOGIN_DENIED) {
    r.outcome = Outcome::temporary;
    r.login_denied = true;
    r.detail = "login denied by the SMTP server (check username and password/token): " + detail;
    return r;
  }

  r.data_handed_over = t.all_data_taken && !t.final_reply_seen;
  if (r.data_handed_over) {
    detail +=
        "; the complete message was handed over but no final reply was read: the server "
        "may have accepted it";
  }
  if (code >= 500 && code < 600) {
    const bool about_message = t.stage == Stage::rcpt_to || t.stage == Stage::data ||
                               t.stage == Stage::message || t.stage == Stage::end_of_data ||
                               (t.stage == Stage::mail_from && code == 552);
    r.outcome = about_message ? Outcome::permanent : Outcome::temporary;
    if (!about_message) detail += "; a session/configuration error, not this message's";
  } else {
    r.outcome = Outcome::temporary;  // 4xx, or a connection / TLS / timeout error
  }
  if (rc == CURLE_USE_SSL_FAILED) {
    detail += "; the server does not offer STARTTLS (TLS is required: no plaintext fallback)";
  }
  r.detail = detail;
  return r;
}

}  // namespace

SmtpResult smtp_send(const SmtpOptions& opt, std::string_view envelope_from,
                     std::string_view recipient, std::string_view message,
                     const std::function<void()>& data_complete) {
  return smtp_send_on(opt, envelope_from, recipient, message, data_complete, nullptr, nullptr,
                      nullptr);
}

SmtpResult smtp_login_check(const SmtpOptions& opt) {
  return with_token_round(opt, [](const SmtpOptions& o) {
    const std::string scheme = smtp_scheme(o);
    const bool implicit_tls = scheme == "smtps";
    if (scheme.empty())
      return local_failure(SendOutcome::temporary,
                           "SMTP URL must start with smtps:// or smtp:// (plaintext, "
                           "allow_insecure, only to a loopback host)");
    std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
    if (!c) return local_failure(SendOutcome::temporary, "curl_easy_init failed");
    Transfer t;
    char errbuf[CURL_ERROR_SIZE] = {0};
    set_session_options(c.get(), o, implicit_tls, t, errbuf);
    // The connect phase is the greeting, EHLO, STARTTLS and AUTH; nothing after it is sent.
    curl_easy_setopt(c.get(), CURLOPT_CONNECT_ONLY, 1L);
    const CURLcode rc = curl_easy_perform(c.get());
    SmtpResult r;
    long code = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &code);
    r.response_code = code;
    if (rc == CURLE_OK) {
      r.outcome = SendOutcome::accepted;
      r.detail = t.last_reply;
      return r;
    }
    const std::string curl_text = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
    r.detail = std::string(stage_name(t.stage)) + ": " + curl_text + " (curl " +
               std::to_string(static_cast<int>(rc)) + ")";
    if (!t.last_reply.empty()) r.detail += "; server: " + t.last_reply;
    r.login_denied = rc == CURLE_LOGIN_DENIED;
    if (rc == CURLE_USE_SSL_FAILED)
      r.detail += "; the server does not offer STARTTLS (TLS is required: no plaintext fallback)";
    return r;
  });
}

SmtpSession::SmtpSession(SmtpOptions options) : options_(std::move(options)) {}

SmtpSession::~SmtpSession() {
  // QUIT on the open connection (the handle's options were reset after each transfer, so no
  // callback points at a finished transfer).
  if (handle_) curl_easy_cleanup(handle_);
}

SmtpResult SmtpSession::send(std::string_view envelope_from, std::string_view recipient,
                             std::string_view message, const std::function<void()>& data_complete) {
  if (!handle_) handle_ = curl_easy_init();
  if (!handle_) {
    return smtp_send_on(options_, envelope_from, recipient, message, data_complete, nullptr,
                        &connections_, nullptr);
  }
  bool performed = false;
  SmtpResult r = smtp_send_on(options_, envelope_from, recipient, message, data_complete, handle_,
                              &connections_, &performed);
  if (performed && r.outcome != SendOutcome::accepted) {
    // curl keeps a connection after an SMTP error reply (a refused RCPT leaves the server's
    // transaction open): close it, and the next mail starts on a fresh connection.
    curl_easy_cleanup(handle_);
    handle_ = nullptr;
  }
  return r;
}

}  // namespace tilskudd
