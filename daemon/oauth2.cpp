#include "daemon/oauth2.h"

#include "config/config.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace tilskudd::oauth2 {

namespace {

using SysClock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr std::size_t kMaxReplyBytes = 1u << 20;   // a token reply is a few KB
constexpr std::size_t kMaxDescriptionChars = 400;  // error_description kept in exceptions
constexpr auto kDefaultLifetime = 3600s;           // when expires_in is missing
constexpr auto kMaxLifetime = std::chrono::seconds(366 * 24 * 3600);
constexpr auto kRefreshEarly = 5min;
constexpr auto kFallbackMinLeft = 30s;  // a failed refresh may fall back on a token this valid
constexpr auto kRetryAfterFailure = 30s;
constexpr auto kRefreshTokenWarnAge = std::chrono::hours(24 * 60);

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// One line of at most `max` bytes (not cutting a UTF-8 sequence), control characters as spaces.
std::string one_line(std::string_view s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  bool space = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      if (!out.empty()) space = true;
      continue;
    }
    if (space && c != ' ') out += ' ';
    space = false;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  for (std::size_t pos = s.find(what); pos != std::string::npos;
       pos = s.find(what, pos + with.size())) {
    s.replace(pos, what.size(), with);
  }
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  // Longest first, so that a secret containing another is replaced whole.
  std::vector<std::string> all;
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    all.push_back(s);
    const std::string encoded = form_encode(s);
    if (encoded != s) all.push_back(encoded);
  }
  std::sort(all.begin(), all.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& s : all) replace_all(text, s, "[redacted]");
  return text;
}

// The first line of a file, without its line end; throws OAuth2Error(config).
std::string read_first_line(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OAuth2Error(OAuth2Error::Kind::config, what + ": cannot read '" + path + "'");
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
  if (s.empty()) throw OAuth2Error(OAuth2Error::Kind::config, what + ": '" + path + "' is empty");
  return s;
}

// An exclusive flock() on a lock file, waited for until a deadline (then OAuth2Error temporary);
// released on destruction. When the lock file cannot be opened at all (its directory is gone or
// read-only), nothing is locked: opened() is false, and the refresh goes ahead without it (its
// write-back then fails as well, which expiry_warning reports).
class FileLock {
 public:
  FileLock(const std::string& path, std::chrono::milliseconds wait) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      spdlog::warn("OAuth2: cannot open the lock file {}: {}; refreshing without it", path,
                   std::strerror(errno));
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if ((errno != EWOULDBLOCK && errno != EINTR) ||
          std::chrono::steady_clock::now() >= deadline) {
        ::close(fd_);
        throw OAuth2Error(OAuth2Error::Kind::temporary,
                          "OAuth2: " + path + " stays locked by another process");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool opened() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::optional<SysClock::time_point> file_mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

std::string dir_of(const std::string& path) {
  const std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

std::int64_t to_unix(SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

SysClock::time_point from_unix(std::int64_t s) {
  return SysClock::time_point(
      std::chrono::duration_cast<SysClock::duration>(std::chrono::seconds(s)));
}

size_t collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (out->size() + len > kMaxReplyBytes) return 0;  // abort: CURLE_WRITE_ERROR
  out->append(data, len);
  return len;
}

}  // namespace

const char* to_string(OAuth2Error::Kind kind) {
  switch (kind) {
    case OAuth2Error::Kind::config:
      return "config";
    case OAuth2Error::Kind::rejected:
      return "rejected";
    case OAuth2Error::Kind::temporary:
      return "temporary";
  }
  return "unknown";
}

std::string form_encode(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    }
  }
  return out;
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += form_encode(name);
    out += '=';
    out += form_encode(value);
  }
  return out;
}

TokenResponse parse_token_response(std::string_view body) {
  using Kind = OAuth2Error::Kind;
  const auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw OAuth2Error(Kind::temporary, "OAuth2 token response is not a JSON object");
  }
  TokenResponse r;
  const auto at = j.find("access_token");
  if (at == j.end() || !at->is_string() || at->get<std::string>().empty()) {
    throw OAuth2Error(Kind::temporary, "OAuth2 token response has no access_token");
  }
  r.access_token = at->get<std::string>();
  if (!printable_ascii(r.access_token)) {
    throw OAuth2Error(Kind::temporary,
                      "OAuth2 token response: access_token has characters a bearer token cannot "
                      "have");
  }

  r.token_type = "Bearer";
  if (const auto tt = j.find("token_type"); tt != j.end() && !tt->is_null()) {
    std::string type = tt->is_string() ? tt->get<std::string>() : std::string();
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "bearer") {
      // The value is not quoted: the text must not carry what an endpoint put there.
      throw OAuth2Error(Kind::temporary, "OAuth2 token response: token_type is not Bearer");
    }
    r.token_type = type;
  }

  r.expires_in = kDefaultLifetime;
  if (const auto ei = j.find("expires_in"); ei != j.end() && !ei->is_null()) {
    double seconds = -1;
    if (ei->is_number()) {
      seconds = ei->get<double>();
    } else if (ei->is_string()) {
      const std::string s = ei->get<std::string>();
      if (!s.empty() && s.size() <= 12 &&
          std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        seconds = static_cast<double>(std::stoll(s));
      }
    }
    if (!(seconds >= 1)) {
      throw OAuth2Error(Kind::temporary,
                        "OAuth2 token response: expires_in is not a positive number of seconds");
    }
    r.expires_in = std::min<std::chrono::seconds>(
        std::chrono::seconds(static_cast<std::int64_t>(std::min(seconds, 1e10))), kMaxLifetime);
  }

  if (const auto rt = j.find("refresh_token"); rt != j.end() && !rt->is_null()) {
    if (!rt->is_string()) {
      throw OAuth2Error(Kind::temporary, "OAuth2 token response: refresh_token is not a string");
    }
    std::string token = rt->get<std::string>();
    if (!token.empty()) {
      if (!printable_ascii(token)) {
        throw OAuth2Error(Kind::temporary,
                          "OAuth2 token response: refresh_token has characters a token cannot "
                          "have");
      }
      r.refresh_token = std::move(token);
    }
  }
  return r;
}

OAuth2Error error_from_response(long status, std::string_view body,
                                const std::vector<std::string>& secrets) {
  using Kind = OAuth2Error::Kind;
  std::string error;
  std::string description;
  const auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (const auto e = j.find("error"); e != j.end() && e->is_string()) {
      error = redact(one_line(e->get<std::string>(), 80), secrets);
    }
    if (const auto d = j.find("error_description"); d != j.end() && d->is_string()) {
      // Redact before shortening (a cut secret would no longer match).
      description = one_line(redact(d->get<std::string>(), secrets), kMaxDescriptionChars);
    }
  }
  Kind kind = Kind::rejected;
  if (status >= 500 || status == 408 || status == 429 || status == 0 ||
      error == "temporarily_unavailable" || error == "server_error") {
    kind = Kind::temporary;
  }
  std::string what = kind == Kind::temporary ? "OAuth2 token request failed (HTTP "
                                             : "OAuth2 token request rejected (HTTP ";
  what += std::to_string(status);
  if (kind == Kind::temporary) what += ", temporary";
  what += ")";
  if (!error.empty()) what += ": " + error;
  if (!description.empty()) what += (error.empty() ? ": " : " - ") + description;
  return OAuth2Error(kind, what, error, description, status);
}

std::string serialize_cache(const CachedToken& token) {
  nlohmann::json j = {
      {"version", 1},
      {"access_token", token.access_token},
      {"obtained_at", to_unix(token.obtained_at)},
      {"expires_at", to_unix(token.expires_at)},
      {"token_url", token.token_url},
      {"client_id", token.client_id},
      {"scope", token.scope},
  };
  return j.dump() + "\n";
}

std::optional<CachedToken> parse_cache(std::string_view text) {
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto str = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto num = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto version = num("version");
  const auto access_token = str("access_token");
  const auto obtained = num("obtained_at");
  const auto expires = num("expires_at");
  const auto url = str("token_url");
  const auto client = str("client_id");
  const auto scope = str("scope");
  if (!version || *version != 1 || !access_token || access_token->empty() ||
      !printable_ascii(*access_token) || !obtained || !expires || !url || !client || !scope) {
    return std::nullopt;
  }
  // Plausible times only (1970..2200), so that time_point arithmetic cannot overflow.
  constexpr std::int64_t kMaxUnix = 7258118400;
  if (*obtained < 0 || *expires < *obtained || *expires > kMaxUnix) return std::nullopt;
  CachedToken t;
  t.access_token = *access_token;
  t.obtained_at = from_unix(*obtained);
  t.expires_at = from_unix(*expires);
  t.token_url = *url;
  t.client_id = *client;
  t.scope = *scope;
  return t;
}

void write_file_atomically(const std::string& path, std::string_view content, unsigned mode) {
  auto fail = [&](const std::string& step, int err) {
    throw std::runtime_error("cannot write " + path + " (" + step + "): " + std::strerror(err));
  };
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) fail("create temporary file", errno);
  auto abandon = [&](const std::string& step) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(step, err);
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) abandon("chmod");
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("close", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("rename", err);
  }
  // The rename itself must survive a crash: sync the directory.
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

SysClock::time_point refresh_due(SysClock::time_point obtained_at,
                                 SysClock::time_point expires_at) {
  const auto lifetime = expires_at - obtained_at;
  if (lifetime <= SysClock::duration::zero()) return obtained_at;
  if (lifetime < 2 * kRefreshEarly) return obtained_at + lifetime / 2;
  return expires_at - kRefreshEarly;
}

HttpReply curl_post(const OAuth2Settings& settings, const std::string& body) {
  using Kind = OAuth2Error::Kind;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  if (!c) throw OAuth2Error(Kind::temporary, "OAuth2 token request: curl_easy_init failed");
  CURL* h = c.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string reply;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_URL, settings.token_url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, settings.allow_insecure ? "http,https" : "https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "tilskudd");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    const std::string text = one_line(errbuf[0] ? errbuf : curl_easy_strerror(rc), 300);
    throw OAuth2Error(Kind::temporary, "OAuth2 token request to " + settings.token_url +
                                           " failed (temporary): " + text);
  }
  HttpReply r;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  r.body = std::move(reply);
  return r;
}

// ---- TokenSource --------------------------------------------------------------------------

TokenSource::TokenSource(OAuth2Settings settings, Clock clock, HttpPost post)
    : settings_(std::move(settings)),
      clock_(clock ? std::move(clock) : Clock(std::chrono::system_clock::now)),
      post_(post ? std::move(post) : HttpPost(curl_post)) {
  using Kind = OAuth2Error::Kind;
  const auto url = config::parse_mail_url(settings_.token_url);
  if (settings_.token_url.empty() || !url) {
    throw OAuth2Error(Kind::config, "OAuth2 token_url '" + settings_.token_url + "' is not a URL");
  }
  if (url->scheme == "http") {
    if (!settings_.allow_insecure) {
      throw OAuth2Error(Kind::config,
                        "OAuth2 token_url must be https:// (http:// only with allow_insecure, for "
                        "loopback tests)");
    }
    if (!config::loopback_host(url->host)) {
      throw OAuth2Error(Kind::config, "OAuth2 token_url: http:// only to a loopback host, not '" +
                                          url->host + "'");
    }
  } else if (url->scheme != "https") {
    throw OAuth2Error(Kind::config, "OAuth2 token_url must be https://");
  }
  if (settings_.client_id.empty()) throw OAuth2Error(Kind::config, "OAuth2 client_id is empty");
  if (settings_.scope.empty()) throw OAuth2Error(Kind::config, "OAuth2 scope is empty");

  if (!settings_.client_secret_file.empty()) {
    client_secret_ = read_first_line(settings_.client_secret_file, "OAuth2 client_secret_file");
  } else if (settings_.refresh_token_file.empty()) {
    throw OAuth2Error(Kind::config,
                      "OAuth2: client_secret_file is needed (or refresh_token_file for a refresh "
                      "token grant)");
  }
  if (!settings_.refresh_token_file.empty()) {
    refresh_token_ = read_first_line(settings_.refresh_token_file, "OAuth2 refresh_token_file");
    file_token_ = refresh_token_;
    if (!printable_ascii(refresh_token_)) {
      throw OAuth2Error(Kind::config, "OAuth2 refresh_token_file '" + settings_.refresh_token_file +
                                          "': the first line is not a token");
    }
    // Rotated tokens are written back next to it: find out now, not after 90 days.
    const std::string dir = dir_of(settings_.refresh_token_file);
    if (::access(dir.c_str(), W_OK) != 0) {
      throw OAuth2Error(Kind::config, "OAuth2 refresh_token_file: the directory '" + dir +
                                          "' is not writable (rotated refresh tokens are "
                                          "written back there)");
    }
    refresh_token_since_ = file_mtime(settings_.refresh_token_file).value_or(clock_());
  }
  load_cache();
}

void TokenSource::load_cache() {
  if (settings_.cache_file.empty()) return;
  std::ifstream in(settings_.cache_file, std::ios::binary);
  if (!in) return;  // no cache yet
  std::ostringstream text;
  text << in.rdbuf();
  const auto cached = parse_cache(text.str());
  if (!cached) {
    spdlog::warn("OAuth2: the token cache {} is not readable; fetching a new token",
                 settings_.cache_file);
    return;
  }
  if (cached->token_url != settings_.token_url || cached->client_id != settings_.client_id ||
      cached->scope != settings_.scope) {
    spdlog::info("OAuth2: the token cache {} is for other settings; not used",
                 settings_.cache_file);
    return;
  }
  current_.access_token = cached->access_token;
  current_.obtained_at = cached->obtained_at;
  current_.expires_at = cached->expires_at;
  current_.invalidated = false;
}

void TokenSource::save_cache(const Current& c) {
  if (settings_.cache_file.empty()) return;
  CachedToken t{c.access_token,      c.obtained_at,       c.expires_at,
                settings_.token_url, settings_.client_id, settings_.scope};
  try {
    write_file_atomically(settings_.cache_file, serialize_cache(t), 0600);
  } catch (const std::exception& e) {
    spdlog::warn("OAuth2: token cache not saved: {}", e.what());
  }
}

std::vector<std::string> TokenSource::secrets_locked() const {
  return {client_secret_, refresh_token_, current_.access_token};
}

std::string TokenSource::access_token() {
  auto usable = [this](SysClock::time_point now) {
    return !current_.access_token.empty() && !current_.invalidated &&
           now < refresh_due(current_.obtained_at, current_.expires_at);
  };
  {
    std::lock_guard s(state_mutex_);
    if (usable(clock_())) return current_.access_token;
  }
  std::lock_guard f(fetch_mutex_);
  std::unique_lock s(state_mutex_);
  const SysClock::time_point now = clock_();
  if (usable(now)) return current_.access_token;  // another thread has just fetched one
  // The current token, should the refresh fail: still valid for a while and not refused.
  const bool fallback = !current_.access_token.empty() && !current_.invalidated &&
                        current_.expires_at - now >= kFallbackMinLeft;
  if (fallback && now < next_attempt_) return current_.access_token;
  s.unlock();
  try {
    fetch_locked(now);
  } catch (const OAuth2Error& e) {
    s.lock();
    if (fallback && !current_.invalidated) {
      next_attempt_ = now + kRetryAfterFailure;
      spdlog::warn(
          "OAuth2: refreshing the access token failed ({}); using the current one, "
          "valid for {} s more",
          e.what(),
          std::chrono::duration_cast<std::chrono::seconds>(current_.expires_at - now).count());
      return current_.access_token;
    }
    throw;
  }
  s.lock();
  return current_.access_token;
}

void TokenSource::fetch_locked(SysClock::time_point now) {
  // With a refresh token, the whole refresh (read, request, write-back) holds a lock on
  // "<refresh_token_file>.lock", so that two processes (the daemon and a CLI command, or an old
  // and a new TokenSource after SIGHUP) never use and rotate the same token at once.
  std::optional<FileLock> file_lock;
  if (!settings_.refresh_token_file.empty()) {
    file_lock.emplace(settings_.refresh_token_file + ".lock", settings_.timeout);
    adopt_refresh_token_file();
  }
  std::string refresh_token;
  std::vector<std::string> secrets;
  {
    std::lock_guard s(state_mutex_);
    refresh_token = refresh_token_;
    secrets = secrets_locked();
    ++fetches_;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  if (refresh_token.empty()) {
    fields = {{"grant_type", "client_credentials"},
              {"client_id", settings_.client_id},
              {"client_secret", client_secret_},
              {"scope", settings_.scope}};
  } else {
    fields = {{"grant_type", "refresh_token"},
              {"refresh_token", refresh_token},
              {"client_id", settings_.client_id}};
    if (!client_secret_.empty()) fields.emplace_back("client_secret", client_secret_);
    fields.emplace_back("scope", settings_.scope);
  }
  HttpReply reply = post_(settings_, form_body(fields));
  if (reply.status < 200 || reply.status >= 300) {
    OAuth2Error e = error_from_response(reply.status, reply.body, secrets);
    if (!refresh_token.empty() && e.error() == "invalid_grant") {
      // AADSTS700082 (expired after 90 days unused), AADSTS50173 (revoked), password change...
      throw OAuth2Error(e.kind(),
                        std::string(e.what()) + " (the refresh token in " +
                            settings_.refresh_token_file +
                            " is expired or revoked: obtain a new one and write it there)",
                        e.error(), e.error_description(), e.http_status());
    }
    throw e;
  }
  TokenResponse t;
  try {
    t = parse_token_response(reply.body);
  } catch (const OAuth2Error& e) {
    throw OAuth2Error(e.kind(),
                      std::string(e.what()) + " (HTTP " + std::to_string(reply.status) + ")", "",
                      "", reply.status);
  }

  // A rotated refresh token is saved before anything else: the old one may be dead already.
  if (!refresh_token.empty() && t.refresh_token && *t.refresh_token != refresh_token) {
    std::optional<std::string> failure;
    try {
      write_file_atomically(settings_.refresh_token_file, *t.refresh_token + "\n", 0600);
      spdlog::info("OAuth2: the rotated refresh token was saved to {}",
                   settings_.refresh_token_file);
    } catch (const std::exception& e) {
      failure = std::string("OAuth2: the rotated refresh token could not be saved (") + e.what() +
                "); it is kept in memory only, a restart would use the old one";
      spdlog::error("{}", *failure);
    }
    std::lock_guard s(state_mutex_);
    refresh_token_ = *t.refresh_token;
    if (!failure) file_token_ = *t.refresh_token;
    refresh_token_since_ = now;
    save_failure_ = failure;
  }

  Current c;
  c.access_token = t.access_token;
  c.obtained_at = now;
  c.expires_at = now + t.expires_in;
  {
    std::lock_guard s(state_mutex_);
    current_ = c;
    next_attempt_ = {};
  }
  save_cache(c);
  spdlog::info("OAuth2: new access token ({} grant), valid for {} s",
               refresh_token.empty() ? "client_credentials" : "refresh_token",
               t.expires_in.count());
}

void TokenSource::adopt_refresh_token_file() {
  std::string on_disk;
  try {
    on_disk = read_first_line(settings_.refresh_token_file, "OAuth2 refresh_token_file");
  } catch (const OAuth2Error&) {
    return;  // gone or empty: keep the token in memory (and write it back on rotation)
  }
  std::lock_guard s(state_mutex_);
  if (on_disk == file_token_ || !printable_ascii(on_disk)) return;
  // Another process rotated it, or an operator put a new one there: that one is current.
  spdlog::info("OAuth2: {} was changed by someone else; using the refresh token it holds now",
               settings_.refresh_token_file);
  refresh_token_ = on_disk;
  file_token_ = on_disk;
  refresh_token_since_ = file_mtime(settings_.refresh_token_file).value_or(clock_());
  save_failure_.reset();
}

void TokenSource::invalidate(std::string_view refused_token) {
  std::lock_guard s(state_mutex_);
  if (!refused_token.empty() && refused_token != current_.access_token) return;
  if (current_.invalidated || current_.access_token.empty()) return;
  current_.invalidated = true;
  next_attempt_ = {};
  spdlog::info("OAuth2: the server refused the access token; the next login fetches a new one");
  if (!settings_.cache_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(settings_.cache_file, ec);
  }
}

std::optional<std::string> TokenSource::expiry_warning() const {
  if (settings_.refresh_token_file.empty()) return std::nullopt;
  std::lock_guard s(state_mutex_);
  if (save_failure_) return save_failure_;
  const auto age = clock_() - refresh_token_since_;
  if (age <= kRefreshTokenWarnAge) return std::nullopt;
  const auto days = std::chrono::duration_cast<std::chrono::hours>(age).count() / 24;
  return "OAuth2: the refresh token in " + settings_.refresh_token_file + " was issued " +
         std::to_string(days) +
         " days ago and has not been renewed since (Microsoft refresh tokens expire after 90 "
         "days unused): check that token refresh works, or obtain a new refresh token";
}

int TokenSource::fetch_count() const {
  std::lock_guard s(state_mutex_);
  return fetches_;
}

}  // namespace tilskudd::oauth2
