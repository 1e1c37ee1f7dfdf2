#include "daemon/imap_client.h"

#include <curl/curl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "config/config.h"

namespace tilskudd {

namespace {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
using imap::Response;
using Kind = ImapError::Kind;

std::string status_name(imap::Status s) {
  switch (s) {
    case imap::Status::ok:
      return "OK";
    case imap::Status::no:
      return "NO";
    case imap::Status::bad:
      return "BAD";
    case imap::Status::preauth:
      return "PREAUTH";
    case imap::Status::bye:
      return "BYE";
  }
  return "?";
}

// The server's text of a status response, with its response code: "[NONEXISTENT] Mailbox ...".
std::string server_text(const Response& r) {
  std::string t;
  if (r.code) {
    t = "[" + r.code->name + (r.code->raw.empty() ? "" : " " + r.code->raw) + "] ";
  }
  return t + r.text;
}

// The first word of a command, for messages: "UID FETCH", "SELECT", ...
std::string command_name(std::string_view cmd) {
  std::size_t end = cmd.find(' ');
  if (cmd.substr(0, 4) == "UID " && end != std::string_view::npos) end = cmd.find(' ', end + 1);
  return std::string(cmd.substr(0, end));
}

std::string mailbox_arg(std::string_view mailbox) {
  auto enc = imap::encode_mailbox_name(mailbox);
  if (!enc) throw ImapError(Kind::usage, "", "IMAP mailbox name is not valid UTF-8");
  return *imap::quote(*enc);  // modified UTF-7 is printable ASCII: always quotable
}

void check_uid_set(std::string_view set) {
  if (set.empty() || set.find_first_not_of("0123456789:,*") != std::string_view::npos) {
    throw ImapError(Kind::usage, "", "invalid IMAP UID set: '" + std::string(set) + "'");
  }
}

Kind kind_of_curl_error(CURLcode rc) {
  switch (rc) {
    case CURLE_LOGIN_DENIED:
      return Kind::auth;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
      return Kind::tls;
    case CURLE_OPERATION_TIMEDOUT:
      return Kind::timeout;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Kind::protocol;
    case CURLE_URL_MALFORMAT:
      return Kind::usage;
    default:
      return Kind::network;
  }
}

}  // namespace

const char* to_string(ImapError::Kind kind) {
  switch (kind) {
    case Kind::network:
      return "network";
    case Kind::timeout:
      return "timeout";
    case Kind::tls:
      return "tls";
    case Kind::auth:
      return "auth";
    case Kind::protocol:
      return "protocol";
    case Kind::no:
      return "no";
    case Kind::bad:
      return "bad";
    case Kind::bye:
      return "bye";
    case Kind::usage:
      return "usage";
    case Kind::throttled:
      return "throttled";
  }
  return "?";
}

std::optional<std::chrono::milliseconds> throttle_wait(std::string_view code,
                                                       std::string_view text) {
  const bool by_code = code == "LIMIT" || code == "UNAVAILABLE" || code == "INUSE";
  // Exchange Online: "BAD Request is throttled. Suggested Backoff Time: 1234 milliseconds".
  constexpr std::string_view kSuggested = "Suggested Backoff Time:";
  const auto at = text.find(kSuggested);
  const bool by_text =
      at != std::string_view::npos || text.find("Request is throttled") != std::string_view::npos;
  if (!by_code && !by_text) return std::nullopt;
  if (at == std::string_view::npos) return kDefaultThrottleWait;
  std::size_t i = at + kSuggested.size();
  while (i < text.size() && text[i] == ' ') ++i;
  std::uint64_t ms = 0;
  std::size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 12; ++i, ++digits)
    ms = ms * 10 + static_cast<std::uint64_t>(text[i] - '0');
  if (digits == 0) return kDefaultThrottleWait;
  // Never shorter than a second (a zero would make a busy loop), never longer than the cap.
  return std::clamp(std::chrono::milliseconds{static_cast<std::int64_t>(
                        std::min<std::uint64_t>(ms, kMaxThrottleWait.count()))},
                    std::chrono::milliseconds{1000}, kMaxThrottleWait);
}

struct ImapClient::Impl {
  explicit Impl(ImapOptions o) : opt(std::move(o)), parser(opt.limits) {
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~Impl() {
    close();
    if (wake_fd >= 0) ::close(wake_fd);
  }
  std::atomic<bool> interrupted{false};

  ImapOptions opt;
  CURL* h = nullptr;
  curl_socket_t sock = CURL_SOCKET_BAD;
  int wake_fd = -1;  // eventfd: interrupt() wakes an IDLE wait from another thread
  imap::ResponseParser parser;
  unsigned long tag_counter = 0;
  std::vector<std::string> caps;
  std::optional<std::string> bye_text;
  std::vector<char> buf = std::vector<char>(1u << 16);
  // Unsolicited mailbox changes seen while reading responses (for idle()).
  std::optional<std::uint32_t> last_exists;
  std::uint32_t expunged = 0;

  Deadline command_deadline() const { return Clock::now() + opt.command_timeout; }

  void close() {
    if (h) {
      // curl may send its own LOGOUT while closing and wait for the answer: keep that short
      // when the server has stopped answering.
      curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, 2L);
      curl_easy_cleanup(h);
    }
    h = nullptr;
    sock = CURL_SOCKET_BAD;
    parser = imap::ResponseParser(opt.limits);
  }

  [[noreturn]] void fail(Kind kind, std::string text, const std::string& what) {
    close();
    throw ImapError(kind, std::move(text), what);
  }

  void require_connection() {
    if (!h) throw ImapError(Kind::network, "", "IMAP connection is not open");
  }

  void connect() {
    close();
    bye_text.reset();
    caps.clear();
    tag_counter = 0;
    // The scheme and host as curl reads them (config::validate_for_daemon checks the same).
    const auto parts = config::parse_mail_url(opt.url);
    const bool imaps = parts && parts->scheme == "imaps";
    const bool imap = parts && parts->scheme == "imap";
    if (!imaps && !imap) throw ImapError(Kind::usage, "", "IMAP URL must start with imap(s)://");
    if (imap && opt.allow_insecure && !config::loopback_host(parts->host)) {
      throw ImapError(
          Kind::usage, "",
          "IMAP: plaintext (allow_insecure) only to a loopback host, not '" + parts->host + "'");
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = curl_easy_init();
    if (!h) throw ImapError(Kind::network, "", "curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, opt.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERNAME, opt.username.c_str());
    if (!opt.bearer_token.empty()) {
      curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, opt.bearer_token.c_str());
      curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    } else {
      curl_easy_setopt(h, CURLOPT_PASSWORD, opt.password.c_str());
    }
    // imap:// means STARTTLS is required (never CURLUSESSL_TRY: it falls back to plaintext).
    if (imap) {
      curl_easy_setopt(h, CURLOPT_USE_SSL,
                       static_cast<long>(opt.allow_insecure ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    }
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!opt.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opt.ca_file.c_str());
    const long ms = static_cast<long>(opt.connect_timeout.count());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      std::string text = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      const Kind kind = kind_of_curl_error(rc);
      fail(kind, text, std::string("IMAP connect/login failed (") + to_string(kind) + "): " + text);
    }
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_socket_t s = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK || s == CURL_SOCKET_BAD) {
      fail(Kind::network, "", "IMAP connection has no socket after login");
    }
    sock = s;
  }

  // Waits until the socket is ready for `events`; false when the deadline has passed (or, when
  // `interruptible`, when interrupt() was called).
  bool wait_socket(short events, Deadline deadline, bool interruptible = false) {
    while (true) {
      if (interruptible && interrupted.load()) return false;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p[2]{};
      p[0].fd = sock;
      p[0].events = events;
      p[1].fd = interruptible ? wake_fd : -1;
      p[1].events = POLLIN;
      const int rc = ::poll(p, 2, static_cast<int>(std::min<long long>(left, 60000)));
      if (rc > 0 && (p[0].revents != 0)) return true;
      if (rc > 0) continue;  // the wake-up: checked at the top
      if (rc < 0 && errno != EINTR) fail(Kind::network, "", "poll() on the IMAP socket failed");
    }
  }

  void send_all(std::string_view data, Deadline deadline) {
    require_connection();
    while (!data.empty()) {
      size_t sent = 0;
      const CURLcode rc = curl_easy_send(h, data.data(), data.size(), &sent);
      if (rc == CURLE_AGAIN) {
        if (!wait_socket(POLLOUT, deadline)) fail(Kind::timeout, "", "IMAP send timed out");
        continue;
      }
      if (rc != CURLE_OK) {
        fail(Kind::network, curl_easy_strerror(rc),
             std::string("IMAP send failed: ") + curl_easy_strerror(rc));
      }
      data.remove_prefix(sent);
    }
  }

  // The next response, or nullopt when the deadline passes first (the connection stays open).
  std::optional<Response> try_read(Deadline deadline, bool interruptible = false) {
    require_connection();
    while (!parser.has_response()) {
      size_t n = 0;
      const CURLcode rc = curl_easy_recv(h, buf.data(), buf.size(), &n);
      if (rc == CURLE_AGAIN) {
        if (!wait_socket(POLLIN, deadline, interruptible)) return std::nullopt;
        continue;
      }
      if (rc != CURLE_OK) {
        fail(bye_text ? Kind::bye : Kind::network, bye_text.value_or(curl_easy_strerror(rc)),
             std::string("IMAP receive failed: ") + curl_easy_strerror(rc));
      }
      if (n == 0) {
        if (bye_text) fail(Kind::bye, *bye_text, "IMAP server closed the session: " + *bye_text);
        fail(Kind::network, "", "IMAP connection closed by the server");
      }
      if (!parser.feed(std::string_view(buf.data(), n))) {
        const std::string err = parser.error();
        fail(Kind::protocol, err, "IMAP protocol error: " + err);
      }
    }
    Response r = parser.pop();
    if (r.type == Response::Type::untagged) {
      if (r.status == imap::Status::bye) bye_text = r.text;
      if (r.keyword == "EXISTS" && r.number && *r.number <= UINT32_MAX) {
        last_exists = static_cast<std::uint32_t>(*r.number);
      }
      if (r.keyword == "EXPUNGE") ++expunged;
    }
    return r;
  }

  Response read(Deadline deadline) {
    auto r = try_read(deadline);
    if (!r) fail(Kind::timeout, "", "IMAP server did not answer in time");
    return std::move(*r);
  }

  std::string next_tag() { return "T" + std::to_string(++tag_counter); }

  // Reads up to the tagged response for `tag`; returns the untagged ones with the tagged one last.
  std::vector<Response> finish(const std::string& tag, std::string_view cmd, Deadline deadline) {
    std::vector<Response> out;
    while (true) {
      Response r = read(deadline);
      if (r.type == Response::Type::continuation) {
        fail(Kind::protocol, r.text, "IMAP server sent an unexpected continuation request");
      }
      if (r.type == Response::Type::tagged) {
        if (r.tag != tag) fail(Kind::protocol, r.tag, "IMAP response with an unknown tag");
        if (r.status == imap::Status::no || r.status == imap::Status::bad) {
          Kind k = r.status == imap::Status::no ? Kind::no : Kind::bad;
          const std::string text = server_text(r);
          const std::string code = r.code ? r.code->name : std::string();
          const auto wait = throttle_wait(code, r.text);
          if (wait) k = Kind::throttled;
          throw ImapError(
              k, text,
              "IMAP " + command_name(cmd) + " failed: " + status_name(*r.status) + " " + text, code,
              wait.value_or(std::chrono::milliseconds{}));
        }
        out.push_back(std::move(r));
        return out;
      }
      out.push_back(std::move(r));
    }
  }

  std::vector<Response> command(std::string_view cmd) {
    require_connection();
    const Deadline deadline = command_deadline();
    const std::string tag = next_tag();
    std::string line = tag;
    line += ' ';
    line += cmd;
    line += "\r\n";
    send_all(line, deadline);
    return finish(tag, cmd, deadline);
  }

  MailboxInfo select_like(const char* verb, std::string_view mailbox) {
    auto rs = command(std::string(verb) + " " + mailbox_arg(mailbox));
    MailboxInfo info;
    for (const auto& r : rs) {
      if (r.type == Response::Type::untagged && r.keyword == "EXISTS" && r.number) {
        info.exists = static_cast<std::uint32_t>(*r.number);
      }
      if (auto f = imap::flags_result(r)) {
        if (r.code) info.permanent_flags_sent = true;
        (r.code ? info.permanent_flags : info.flags) = std::move(*f);
      }
      if (auto v = imap::code_number(r, "UIDVALIDITY"))
        info.uidvalidity = static_cast<uint32_t>(*v);
      if (auto v = imap::code_number(r, "UIDNEXT")) info.uidnext = static_cast<std::uint32_t>(*v);
      if (r.code && r.code->name == "READ-ONLY") info.read_only = true;
    }
    if (info.uidvalidity == 0) {
      fail(Kind::protocol, "", std::string("IMAP ") + verb + " gave no UIDVALIDITY");
    }
    return info;
  }
};

ImapClient::ImapClient(ImapOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ImapClient::~ImapClient() = default;

void ImapClient::connect() {
  Impl& m = *impl_;
  if (!m.opt.token_provider) {
    m.connect();
    return;
  }
  auto fetch = [&] {
    try {
      m.opt.bearer_token = m.opt.token_provider();
    } catch (const std::exception& e) {
      // The token endpoint's trouble is the connection's trouble: back off and try again.
      throw ImapError(ImapError::Kind::network, "", std::string("no OAuth2 token: ") + e.what());
    }
  };
  fetch();
  try {
    m.connect();
  } catch (const ImapError& e) {
    if (e.kind() != ImapError::Kind::auth) throw;
    if (m.opt.token_refused) m.opt.token_refused(m.opt.bearer_token);
    fetch();
    m.connect();
  }
}
bool ImapClient::connected() const {
  return impl_->h != nullptr;
}

std::vector<std::string> ImapClient::capability() {
  auto rs = impl_->command("CAPABILITY");
  std::vector<std::string> caps;
  for (const auto& r : rs) {
    if (r.type != Response::Type::untagged) continue;
    if (auto c = imap::capabilities(r)) caps = std::move(*c);
  }
  impl_->caps = caps;
  return caps;
}

MailboxInfo ImapClient::select(std::string_view mailbox) {
  return impl_->select_like("SELECT", mailbox);
}

MailboxInfo ImapClient::examine(std::string_view mailbox) {
  return impl_->select_like("EXAMINE", mailbox);
}

MailboxStatus ImapClient::status(std::string_view mailbox) {
  auto rs =
      impl_->command("STATUS " + mailbox_arg(mailbox) + " (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)");
  for (const auto& r : rs) {
    if (auto s = imap::status_result(r)) {
      MailboxStatus out;
      out.messages = static_cast<std::uint32_t>(s->messages.value_or(0));
      out.uidnext = static_cast<std::uint32_t>(s->uidnext.value_or(0));
      out.uidvalidity = static_cast<std::uint32_t>(s->uidvalidity.value_or(0));
      out.unseen = static_cast<std::uint32_t>(s->unseen.value_or(0));
      return out;
    }
  }
  impl_->fail(Kind::protocol, "", "IMAP STATUS gave no STATUS response");
}

std::vector<std::uint32_t> ImapClient::uid_search(std::string_view criteria) {
  if (criteria.find_first_of("\r\n") != std::string_view::npos) {
    throw ImapError(Kind::usage, "", "IMAP search criteria must not contain CR or LF");
  }
  auto rs = impl_->command("UID SEARCH " + std::string(criteria));
  std::vector<std::uint32_t> uids;
  for (const auto& r : rs) {
    if (auto s = imap::search_result(r)) uids.insert(uids.end(), s->begin(), s->end());
  }
  return uids;
}

std::vector<MessageMeta> ImapClient::uid_fetch_meta(std::string_view uid_set) {
  check_uid_set(uid_set);
  auto rs =
      impl_->command("UID FETCH " + std::string(uid_set) + " (UID FLAGS RFC822.SIZE INTERNALDATE)");
  std::vector<MessageMeta> out;
  for (auto& r : rs) {
    auto f = imap::take_fetch(r);
    if (!f || !f->uid || !f->rfc822_size || !f->internaldate) continue;  // e.g. unsolicited
    MessageMeta m;
    m.uid = *f->uid;
    m.flags = f->flags.value_or(std::vector<std::string>{});
    m.size = *f->rfc822_size;
    m.internaldate = std::move(*f->internaldate);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> ImapClient::uid_fetch_body_peek(std::uint32_t uid) {
  auto rs = impl_->command("UID FETCH " + std::to_string(uid) + " (UID BODY.PEEK[])");
  for (auto& r : rs) {
    auto f = imap::take_fetch(r);
    if (f && f->uid == uid && f->body) return std::move(*f->body);
  }
  return std::nullopt;
}

std::optional<std::string> ImapClient::uid_fetch_header_peek(std::uint32_t uid) {
  auto rs = impl_->command("UID FETCH " + std::to_string(uid) + " (UID BODY.PEEK[HEADER])");
  for (auto& r : rs) {
    auto f = imap::take_fetch(r);
    if (f && f->uid == uid && f->header) return std::move(*f->header);
  }
  return std::nullopt;
}

void ImapClient::uid_store_add_flags(std::string_view uid_set, std::string_view flags) {
  check_uid_set(uid_set);
  if (flags.empty() || flags.find_first_of("\r\n()\"{") != std::string_view::npos) {
    throw ImapError(Kind::usage, "", "invalid IMAP flags: '" + std::string(flags) + "'");
  }
  impl_->command("UID STORE " + std::string(uid_set) + " +FLAGS.SILENT (" + std::string(flags) +
                 ")");
}

void ImapClient::uid_copy(std::string_view uid_set, std::string_view mailbox) {
  check_uid_set(uid_set);
  impl_->command("UID COPY " + std::string(uid_set) + " " + mailbox_arg(mailbox));
}

bool ImapClient::has_capability(std::string_view name) {
  if (impl_->caps.empty()) capability();
  return std::find(impl_->caps.begin(), impl_->caps.end(), name) != impl_->caps.end();
}

std::vector<std::uint32_t> ImapClient::uids_from(std::uint32_t first) {
  if (first == 0) first = 1;
  auto rs = impl_->command("UID FETCH " + std::to_string(first) + ":* (UID)");
  std::vector<std::uint32_t> out;
  for (auto& r : rs) {
    auto f = imap::take_fetch(r);
    // "n:*" names the highest UID even when it is below n (RFC 3501 6.4.8).
    if (f && f->uid && *f->uid >= first) out.push_back(*f->uid);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ImapClient::uid_expunge(std::string_view uid_set) {
  check_uid_set(uid_set);
  if (!has_capability("UIDPLUS"))
    throw ImapError(Kind::usage, "", "IMAP server does not support UIDPLUS (UID EXPUNGE)");
  impl_->command("UID EXPUNGE " + std::string(uid_set));
}

void ImapClient::uid_move(std::string_view uid_set, std::string_view mailbox) {
  check_uid_set(uid_set);
  if (!has_capability("MOVE"))
    throw ImapError(Kind::usage, "", "IMAP server does not support MOVE");
  impl_->command("UID MOVE " + std::string(uid_set) + " " + mailbox_arg(mailbox));
}

void ImapClient::create(std::string_view mailbox) {
  impl_->command("CREATE " + mailbox_arg(mailbox));
}

void ImapClient::noop() {
  impl_->command("NOOP");
}

IdleResult ImapClient::idle(std::chrono::milliseconds max_wait) {
  Impl& m = *impl_;
  m.require_connection();
  const std::string tag = m.next_tag();
  m.send_all(tag + " IDLE\r\n", m.command_deadline());
  // Wait for "+ idling" (or a tagged NO/BAD: then finish() throws). New mail announced before
  // the continuation counts: it ends the IDLE at once.
  const Deadline cmd_deadline = m.command_deadline();
  IdleResult result;
  m.expunged = 0;
  m.last_exists.reset();
  while (true) {
    Response r = m.read(cmd_deadline);
    if (r.type == Response::Type::continuation) break;
    if (r.type == Response::Type::untagged && (r.keyword == "EXISTS" || r.keyword == "EXPUNGE"))
      result.woke = true;
    if (r.type == Response::Type::tagged) {
      if (r.tag == tag && r.status != imap::Status::ok) {
        const Kind k = r.status == imap::Status::no ? Kind::no : Kind::bad;
        throw ImapError(k, server_text(r), "IMAP IDLE failed: " + server_text(r));
      }
      m.fail(Kind::protocol, r.text, "IMAP IDLE ended before it started");
    }
  }
  const Deadline idle_deadline = Clock::now() + max_wait;
  while (!result.woke) {
    auto r = m.try_read(idle_deadline, /*interruptible=*/true);
    if (!r) break;
    if (r->type == Response::Type::untagged &&
        (r->keyword == "EXISTS" || r->keyword == "EXPUNGE")) {
      result.woke = true;
      break;
    }
    if (r->type != Response::Type::untagged) {
      m.fail(Kind::protocol, r->text, "IMAP server sent an unexpected response during IDLE");
    }
  }
  m.send_all("DONE\r\n", m.command_deadline());
  m.finish(tag, "IDLE", m.command_deadline());
  result.exists = m.last_exists;
  result.expunged = m.expunged;
  return result;
}

void ImapClient::interrupt() {
  impl_->interrupted.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
}

void ImapClient::clear_interrupt() {
  impl_->interrupted.store(false);
  std::uint64_t v = 0;
  [[maybe_unused]] auto n = ::read(impl_->wake_fd, &v, sizeof v);
}

bool ImapClient::interrupted() const {
  return impl_->interrupted.load();
}

void ImapClient::logout() {
  if (!impl_->h) return;
  try {
    const Deadline deadline = Clock::now() + std::chrono::seconds(5);
    const std::string tag = impl_->next_tag();
    impl_->send_all(tag + " LOGOUT\r\n", deadline);
    impl_->finish(tag, "LOGOUT", deadline);
  } catch (const ImapError&) {
    // Closing anyway.
  }
  impl_->close();
}

}  // namespace tilskudd
