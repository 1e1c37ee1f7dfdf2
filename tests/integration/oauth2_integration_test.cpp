// daemon/oauth2 against a real HTTP(S) token endpoint on loopback (tests/integration/
// token_endpoint.py, python3 stdlib), and XOAUTH2 login with ImapClient against a Dovecot whose
// oauth2 passdb asks that endpoint's introspection URL.
//
// The endpoint checks client_id/secret/scope, counts requests, rotates refresh tokens (the old
// one dies) and can be told to fail (invalid_client, 503, echo the request). Dovecot runs as its
// own instance (own base_dir, ports, config in a temporary directory; not mailservers.sh). The
// Dovecot test needs root and dovecot and is skipped without them; everything needs python3 and
// openssl.
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/imap_client.h"
#include "daemon/oauth2.h"

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

namespace tilskudd::oauth2 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kClientId = "11111111-2222-3333-4444-555555555555";
const std::string kSecret = "Xy7~Q8s.secret+/value=";
const std::string kScope = "https://outlook.office365.com/.default";
const std::string kUser = "post@asker.test";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tilskudd-oauth2-it-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755);  // Dovecot's mail user must reach mail/ below
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

void write(const std::string& path, const std::string& text, unsigned mode = 0600) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool have(const char* program) {
  return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A child process we started; killed (SIGTERM, then SIGKILL) and reaped on destruction.
class Child {
 public:
  // Runs argv with stdout into a pipe (read_line) and stderr to `log`.
  Child(const std::vector<std::string>& argv, const std::string& log) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) ::dup2(err, 2);
      // Nothing else of the test's: a server left behind must not hold the lock of
      // `flock /work/mail.lock ctest ...`.
      ::close_range(3, ~0U, 0);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // One line of the child's stdout; "" at EOF or after `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(out_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return "";
  }
  pid_t pid() const { return pid_; }

  // Direct children of the process (Dovecot's master leaves its children running).
  std::vector<pid_t> children() const {
    std::vector<pid_t> out;
    std::ifstream in("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) +
                     "/children");
    pid_t p;
    while (in >> p) out.push_back(p);
    return out;
  }

  void stop() {
    if (pid_ <= 0) return;
    const auto kids = children();
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
      gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(100ms);
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    for (pid_t k : kids) ::kill(k, SIGKILL);
    if (out_ >= 0) ::close(out_);
    out_ = -1;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

struct HttpResult {
  long status = 0;
  std::string body;
};

size_t append(char* d, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(d, s * n);
  return s * n;
}

HttpResult http(const std::string& url, const std::string* post_json,
                const std::string& ca_file = "") {
  HttpResult r;
  CURL* h = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  if (post_json) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_json->c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  }
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return r;
}

// Test CA + server certificate for 127.0.0.1, and an unrelated CA.
void make_tls(const TempDir& d) {
  const std::string script =
      "cd '" + d.file("") +
      "' && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=OAuth2 Test CA' "
      "-keyout ca.key -out ca.crt && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=Wrong CA' "
      "-keyout wrong-ca.key -out wrong-ca.crt && "
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key "
      "-out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
      "extendedKeyUsage=serverAuth\\n' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 "
      "-extfile ext.cnf -out server.crt";
  ASSERT_EQ(std::system(("(" + script + ") >/dev/null 2>&1").c_str()), 0);
}

// tests/integration/token_endpoint.py, started on a free loopback port.
class Endpoint {
 public:
  explicit Endpoint(const TempDir& d, const std::string& refresh_token = "", bool tls = false) {
    std::vector<std::string> argv = {
        "python3",
        std::string(TILSKUDD_SOURCE_DIR) + "/tests/integration/token_endpoint.py",
        "--client-id",
        kClientId,
        "--client-secret",
        kSecret,
        "--scope",
        kScope,
        "--username",
        kUser};
    if (!refresh_token.empty()) {
      argv.push_back("--refresh-token");
      argv.push_back(refresh_token);
    }
    if (tls) {
      for (const char* a : {"--tls-cert", "server.crt", "--tls-key", "server.key"}) {
        argv.push_back(a[0] == '-' ? a : d.file(a));
      }
    }
    child_ = std::make_unique<Child>(argv, d.file(tls ? "endpoint-tls.log" : "endpoint.log"));
    const std::string line = child_->read_line(30s);
    if (line.rfind("PORT ", 0) != 0) {
      throw std::runtime_error("token_endpoint.py did not start: " + read(d.file("endpoint.log")));
    }
    port_ = std::stoi(line.substr(5));
    scheme_ = tls ? "https" : "http";
    if (tls) ca_file_ = d.file("ca.crt");
  }
  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  void control(const Json& j) {
    const std::string body = j.dump();
    ASSERT_EQ(http(url("/control"), &body, ca_file_).status, 200);
  }
  Json stats() const {
    const auto r = http(url("/stats"), nullptr, ca_file_);
    return Json::parse(r.body);
  }
  int token_requests() const { return stats().at("token_requests").get<int>(); }

 private:
  std::unique_ptr<Child> child_;
  int port_ = 0;
  std::string scheme_;
  std::string ca_file_;
};

class OAuth2Integration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  void SetUp() override {
    if (!have("python3")) GTEST_SKIP() << "python3 not installed";
    write(dir.file("secret"), kSecret + "\n");
    endpoint = std::make_unique<Endpoint>(dir);
    settings.token_url = endpoint->url("/token");
    settings.client_id = kClientId;
    settings.client_secret_file = dir.file("secret");
    settings.scope = kScope;
    settings.allow_insecure = true;  // plain http, loopback only
    settings.timeout = 10s;
  }
  TempDir dir;
  std::unique_ptr<Endpoint> endpoint;
  OAuth2Settings settings;
};

// A clock the test moves, starting at the real time (the endpoint's tokens expire in real time,
// only our view of them is moved).
struct MovableClock {
  std::chrono::system_clock::duration offset{};
  TokenSource::Clock fn() {
    return [this] { return std::chrono::system_clock::now() + offset; };
  }
};

TEST_F(OAuth2Integration, FetchesAndReusesTheCachedToken) {
  settings.cache_file = dir.file("cache.json");
  TokenSource src(settings);
  const std::string t1 = src.access_token();
  EXPECT_EQ(t1.rfind("at-1-", 0), 0u) << t1;
  EXPECT_EQ(src.access_token(), t1);
  EXPECT_EQ(endpoint->token_requests(), 1);
  EXPECT_EQ(endpoint->stats().at("grants"), Json::array({"client_credentials"}));

  // A restart reads the cache file: no request.
  TokenSource restarted(settings);
  EXPECT_EQ(restarted.access_token(), t1);
  EXPECT_EQ(endpoint->token_requests(), 1);
  struct stat st {};
  ASSERT_EQ(::stat(settings.cache_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // expires_in as a string is read too.
  endpoint->control({{"expires_in_as_string", true}, {"expires_in", 1800}});
  restarted.invalidate(t1);
  const std::string t2 = restarted.access_token();
  EXPECT_NE(t2, t1);
  EXPECT_EQ(endpoint->token_requests(), 2);
}

TEST_F(OAuth2Integration, RefreshesFiveMinutesBeforeExpiry) {
  MovableClock clock;
  TokenSource src(settings, clock.fn());
  const std::string t1 = src.access_token();
  clock.offset = 3600s - 5min - 5s;
  EXPECT_EQ(src.access_token(), t1);
  EXPECT_EQ(endpoint->token_requests(), 1);
  clock.offset = 3600s - 5min + 5s;
  const std::string t2 = src.access_token();
  EXPECT_NE(t2, t1);
  EXPECT_EQ(endpoint->token_requests(), 2);
}

TEST_F(OAuth2Integration, RotatedRefreshTokenIsWrittenBack) {
  // A second endpoint that knows the refresh token "rt-initial".
  TempDir d2;
  Endpoint ep(d2, "rt-initial");
  settings.token_url = ep.url("/token");
  write(dir.file("refresh"), "rt-initial\n", 0600);
  settings.refresh_token_file = dir.file("refresh");
  MovableClock clock;
  TokenSource src(settings, clock.fn());
  src.access_token();
  const std::string rotated = ep.stats().at("refresh_token").get<std::string>();
  EXPECT_NE(rotated, "rt-initial");
  EXPECT_EQ(read(settings.refresh_token_file), rotated + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(settings.refresh_token_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ep.stats().at("grants"), Json::array({"refresh_token"}));

  // The next refresh (near expiry) uses the rotated token and rotates again.
  clock.offset = 1h;
  src.access_token();
  const std::string rotated2 = ep.stats().at("refresh_token").get<std::string>();
  EXPECT_NE(rotated2, rotated);
  EXPECT_EQ(read(settings.refresh_token_file), rotated2 + "\n");

  // A restart reads the file and works; the old token is dead at the endpoint.
  TokenSource restarted(settings);
  EXPECT_NO_THROW(restarted.access_token());
  write(dir.file("old-refresh"), "rt-initial\n");
  settings.refresh_token_file = dir.file("old-refresh");
  TokenSource stale(settings);
  try {
    stale.access_token();
    ADD_FAILURE() << "the old refresh token was accepted";
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.error(), "invalid_grant");
    EXPECT_EQ(std::string(e.what()).find("rt-initial"), std::string::npos) << e.what();
  }
}

TEST_F(OAuth2Integration, TwoSourcesShareOneRefreshTokenFile) {
  // The endpoint kills a refresh token once used: a source that kept a stale one would fail.
  TempDir d2;
  Endpoint ep(d2, "rt-initial");
  settings.token_url = ep.url("/token");
  write(dir.file("refresh"), "rt-initial\n", 0600);
  settings.refresh_token_file = dir.file("refresh");
  TokenSource a(settings);
  TokenSource b(settings);
  for (int round = 0; round < 3; ++round) {
    a.invalidate();
    EXPECT_NO_THROW(a.access_token()) << round;
    b.invalidate();
    EXPECT_NO_THROW(b.access_token()) << round;
  }
  EXPECT_EQ(ep.token_requests(), 6);
  EXPECT_EQ(read(settings.refresh_token_file),
            ep.stats().at("refresh_token").get<std::string>() + "\n");
}

TEST_F(OAuth2Integration, InvalidClientNamesErrorAndDescriptionButNoSecret) {
  // A wrong secret, checked by the endpoint.
  write(dir.file("wrong"), "not-the-secret\n");
  OAuth2Settings wrong = settings;
  wrong.client_secret_file = dir.file("wrong");
  try {
    TokenSource(wrong).access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.kind(), OAuth2Error::Kind::rejected);
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_EQ(e.error(), "invalid_client");
    EXPECT_NE(std::string(e.what()).find("AADSTS7000215"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("not-the-secret"), std::string::npos) << e.what();
  }
  // The endpoint told to refuse the right secret.
  endpoint->control({{"fail", "invalid_client"}});
  try {
    TokenSource(settings).access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_FALSE(e.temporary());
    EXPECT_EQ(e.error(), "invalid_client");
    EXPECT_NE(e.error_description().find("Invalid client secret provided"), std::string::npos);
    EXPECT_EQ(e.error_description().find('\n'), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos) << e.what();
  }
}

TEST_F(OAuth2Integration, ServiceUnavailableIsTemporaryAndRecovers) {
  endpoint->control({{"fail", "503"}, {"fail_times", 1}});
  TokenSource src(settings);
  try {
    src.access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_TRUE(e.temporary());
    EXPECT_EQ(e.http_status(), 503);
    EXPECT_EQ(std::string(e.what()).find("Service Unavailable"), std::string::npos);
  }
  EXPECT_EQ(src.access_token().rfind("at-", 0), 0u);
  EXPECT_EQ(endpoint->token_requests(), 2);
}

TEST_F(OAuth2Integration, EndpointEchoingTheRequestGetsRedacted) {
  write(dir.file("refresh"), "rt-echo-me\n");
  endpoint->control({{"fail", "echo"}});
  for (bool refresh : {false, true}) {
    OAuth2Settings s = settings;
    if (refresh) s.refresh_token_file = dir.file("refresh");
    try {
      TokenSource(s).access_token();
      ADD_FAILURE() << "no exception";
    } catch (const OAuth2Error& e) {
      const std::string all = std::string(e.what()) + e.error_description();
      EXPECT_NE(all.find("[redacted]"), std::string::npos) << all;
      EXPECT_EQ(all.find(kSecret), std::string::npos) << all;
      EXPECT_EQ(all.find(form_encode(kSecret)), std::string::npos) << all;
      EXPECT_EQ(all.find("rt-echo-me"), std::string::npos) << all;
    }
  }
}

TEST_F(OAuth2Integration, NoListenerIsTemporary) {
  settings.token_url = "http://127.0.0.1:" + std::to_string(free_port()) + "/token";
  try {
    TokenSource(settings).access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_TRUE(e.temporary());
    EXPECT_EQ(e.http_status(), 0);
  }
}

TEST_F(OAuth2Integration, HttpsVerifiesTheCertificate) {
  if (!have("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir d;
  make_tls(d);
  Endpoint tls(d, "", true);
  OAuth2Settings s = settings;
  s.token_url = tls.url("/token");
  s.allow_insecure = false;
  s.ca_file = d.file("ca.crt");
  EXPECT_EQ(TokenSource(s).access_token().rfind("at-", 0), 0u);

  s.ca_file = d.file("wrong-ca.crt");
  try {
    TokenSource(s).access_token();
    ADD_FAILURE() << "an unverifiable certificate was accepted";
  } catch (const OAuth2Error& e) {
    EXPECT_TRUE(e.temporary());
    EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tls.token_requests(), 1);
}

// ---- XOAUTH2 login at Dovecot (oauth2 passdb -> the endpoint's introspection) ------------------

// What the daemon does (ImapOptions::token_provider/token_refused): ImapClient::connect asks the
// source for a token and, when the server refuses it, invalidates it and tries a fresh one once.
std::unique_ptr<ImapClient> connect_with_oauth2(ImapOptions opt, TokenSource& tokens) {
  opt.token_provider = [&tokens] { return tokens.access_token(); };
  opt.token_refused = [&tokens](const std::string& t) { tokens.invalidate(t); };
  auto client = std::make_unique<ImapClient>(opt);
  client->connect();
  return client;
}

class Dovecot {
 public:
  Dovecot(const TempDir& d, const std::string& introspection_url) {
    imap_port_ = free_port();
    imaps_port_ = free_port();
    fs::create_directories(d.file("run"));
    fs::create_directories(d.file("state"));
    fs::create_directories(d.file("mail"));
    if (::chown(d.file("mail").c_str(), 8, 8) != 0) throw std::runtime_error("chown failed");
    write(d.file("oauth2.conf.ext"),
          "introspection_mode = post\n"
          "introspection_url = " +
              introspection_url +
              "\n"
              "force_introspection = yes\n"
              "username_attribute = username\n"
              "active_attribute = active\n"
              "active_value = true\n"
              "timeout_msecs = 5000\n",
          0600);
    const std::string base = d.file("");
    std::ostringstream conf;
    conf << "instance_name = tilskudd-oauth2-" << imap_port_ << "\n"
         << "base_dir = " << d.file("run") << "\n"
         << "state_dir = " << d.file("state") << "\n"
         << "protocols = imap\n"
         << "listen = 127.0.0.1\n"
         << "log_path = " << d.file("dovecot.log") << "\n"
         << "default_login_user = dovenull\n"
         << "default_internal_user = dovecot\n"
         << "first_valid_uid = 8\nfirst_valid_gid = 8\n"
         << "ssl = yes\n"
         << "ssl_cert = <" << d.file("server.crt") << "\n"
         << "ssl_key = <" << d.file("server.key") << "\n"
         << "ssl_min_protocol = TLSv1.2\n"
         << "disable_plaintext_auth = no\n"
         << "auth_mechanisms = xoauth2 oauthbearer\n"
         << "auth_verbose = yes\n"
         << "mail_location = maildir:~/Maildir\n"
         << "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = "
         << d.file("oauth2.conf.ext") << "\n}\n"
         << "userdb {\n  driver = static\n  args = uid=8 gid=8 home=" << d.file("mail")
         << "/%d/%n allow_all_users=yes\n}\n"
         << "service imap-login {\n"
         << "  inet_listener imap {\n    address = 127.0.0.1\n    port = " << imap_port_
         << "\n  }\n"
         << "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " << imaps_port_
         << "\n    ssl = yes\n  }\n}\n"
         << "namespace inbox {\n  inbox = yes\n  separator = /\n}\n";
    write(d.file("dovecot.conf"), conf.str(), 0644);
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"dovecot", "-c", d.file("dovecot.conf"), "-F"},
        d.file("dovecot.stderr"));
    for (int i = 0; i < 200 && !port_open(imaps_port_); ++i) std::this_thread::sleep_for(50ms);
    if (!port_open(imaps_port_)) {
      throw std::runtime_error("Dovecot did not start: " + read(d.file("dovecot.stderr")) +
                               read(d.file("dovecot.log")));
    }
  }
  std::string imaps_url() const {
    return "imaps://127.0.0.1:" + std::to_string(imaps_port_) + "/INBOX";
  }

 private:
  int imap_port_ = 0;
  int imaps_port_ = 0;
  std::unique_ptr<Child> child_;
};

TEST_F(OAuth2Integration, Xoauth2LoginAtDovecotWithRefusedTokenRetriedOnce) {
  if (::geteuid() != 0) GTEST_SKIP() << "Dovecot needs root";
  if (!have("dovecot")) GTEST_SKIP() << "dovecot not installed";
  if (!have("openssl")) GTEST_SKIP() << "openssl not installed";
  make_tls(dir);
  Dovecot dovecot(dir, endpoint->url("/introspect"));

  TokenSource tokens(settings);
  ImapOptions opt;
  opt.url = dovecot.imaps_url();
  opt.username = kUser;
  opt.ca_file = dir.file("ca.crt");
  opt.connect_timeout = 20s;
  opt.command_timeout = 20s;

  // A fresh token logs in.
  {
    auto client = connect_with_oauth2(opt, tokens);
    const MailboxInfo box = client->examine("INBOX");
    EXPECT_GT(box.uidvalidity, 0u);
    client->logout();
  }
  EXPECT_EQ(endpoint->token_requests(), 1);
  EXPECT_GE(endpoint->stats().at("introspections").get<int>(), 1);

  // A bogus token is refused: ImapError(auth), which is what triggers the retry.
  {
    ImapOptions bad = opt;
    bad.bearer_token = "at-bogus";
    ImapClient client(bad);
    try {
      client.connect();
      ADD_FAILURE() << "a bogus token logged in";
    } catch (const ImapError& e) {
      EXPECT_EQ(e.kind(), ImapError::Kind::auth) << e.what();
    }
  }

  // The server revokes every token: the cached one is refused, invalidated, and a new one
  // logs in on the single retry.
  endpoint->control({{"revoke_access_tokens", true}});
  {
    auto client = connect_with_oauth2(opt, tokens);
    EXPECT_GT(client->examine("INBOX").uidvalidity, 0u);
    client->logout();
  }
  EXPECT_EQ(endpoint->token_requests(), 2);

  // The token endpoint rejects us as well: the retry ends in OAuth2Error, not a loop.
  endpoint->control({{"revoke_access_tokens", true}});
  endpoint->control({{"fail", "invalid_client"}});
  try {
    connect_with_oauth2(opt, tokens);
    ADD_FAILURE() << "logged in without a token";
  } catch (const ImapError& e) {
    // A network-kind error: the daemon backs off and tries again later, naming the cause.
    EXPECT_EQ(e.kind(), ImapError::Kind::network) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid_client"), std::string::npos) << e.what();
  }
  EXPECT_EQ(endpoint->token_requests(), 3);
}

}  // namespace
}  // namespace tilskudd::oauth2
