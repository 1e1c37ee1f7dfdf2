// daemon/oauth2: form encoding, token responses and errors, the cache file, refresh timing with an
// injected clock, refresh-token rotation (atomic, 0600), expiry_warning, and that no secret ever
// reaches an exception text or a log line. No network: a fake HttpPost answers.
#include "daemon/oauth2.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tilskudd::oauth2 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const std::string kSecret = "s3cr3t~Value+with/odd=chars";
const std::string kRefresh = "rt-0.AAAA-initial-refresh-token";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tilskudd-oauth2-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const std::string& path, const std::string& text, unsigned mode = 0644) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1900000000));
  TokenSource::Clock fn() {
    return [this] { return now; };
  }
};

// Scripted token endpoint: records every form body, answers from a queue (or a default).
struct FakeEndpoint {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::deque<HttpReply> replies;
  std::function<HttpReply(const std::string&)> responder;
  int issued = 0;

  HttpPost fn() {
    return [this](const OAuth2Settings&, const std::string& body) {
      std::function<HttpReply(const std::string&)> r;
      {
        std::lock_guard l(mu);
        bodies.push_back(body);
        if (!replies.empty()) {
          HttpReply reply = replies.front();
          replies.pop_front();
          return reply;
        }
        r = responder;
      }
      if (r) return r(body);
      std::lock_guard l(mu);
      ++issued;
      return HttpReply{200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"at-)" +
                                std::to_string(issued) + "\"}"};
    };
  }
  std::size_t count() {
    std::lock_guard l(mu);
    return bodies.size();
  }
};

struct Fixture {
  TempDir dir;
  FakeClock clock;
  FakeEndpoint endpoint;
  OAuth2Settings settings;
  Fixture() {
    write(dir.file("secret"), kSecret + "\n");
    settings.token_url = "https://login.example.test/tenant/oauth2/v2.0/token";
    settings.client_id = "client-123";
    settings.client_secret_file = dir.file("secret");
    settings.scope = "https://outlook.office365.com/.default";
  }
  std::unique_ptr<TokenSource> source() {
    return std::make_unique<TokenSource>(settings, clock.fn(), endpoint.fn());
  }
  void use_refresh_token() {
    write(dir.file("refresh"), kRefresh + "\n", 0644);
    settings.refresh_token_file = dir.file("refresh");
  }
};

// Captures the default logger's output for a scope.
class LogCapture {
 public:
  LogCapture() : saved_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(saved_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> saved_;
};

// ---- form encoding ---------------------------------------------------------------------------

TEST(OAuth2Form, EncodesReservedAndNonAsciiBytes) {
  EXPECT_EQ(form_encode("a b&c=d+e/f?g%h"), "a+b%26c%3Dd%2Be%2Ff%3Fg%25h");
  EXPECT_EQ(form_encode("Az09-._~"), "Az09-._~");
  EXPECT_EQ(form_encode("ø"), "%C3%B8");
  EXPECT_EQ(form_encode(std::string("\x01\n", 2)), "%01%0A");
  EXPECT_EQ(form_body({{"grant_type", "client_credentials"}, {"scope", "a b"}}),
            "grant_type=client_credentials&scope=a+b");
}

TEST(OAuth2Form, ClientCredentialsRequestBody) {
  Fixture f;
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-1");
  ASSERT_EQ(f.endpoint.count(), 1u);
  EXPECT_EQ(f.endpoint.bodies[0],
            "grant_type=client_credentials&client_id=client-123&client_secret=" +
                form_encode(kSecret) + "&scope=https%3A%2F%2Foutlook.office365.com%2F.default");
}

TEST(OAuth2Form, RefreshTokenRequestBodyWithAndWithoutSecret) {
  {
    Fixture f;
    f.use_refresh_token();
    f.source()->access_token();
    EXPECT_EQ(f.endpoint.bodies.at(0),
              "grant_type=refresh_token&refresh_token=" + kRefresh +
                  "&client_id=client-123&client_secret=" + form_encode(kSecret) +
                  "&scope=https%3A%2F%2Foutlook.office365.com%2F.default");
  }
  {
    Fixture f;
    f.use_refresh_token();
    f.settings.client_secret_file.clear();  // a public client
    f.source()->access_token();
    EXPECT_EQ(f.endpoint.bodies.at(0), "grant_type=refresh_token&refresh_token=" + kRefresh +
                                           "&client_id=client-123&scope=https%3A%2F%2Foutlook."
                                           "office365.com%2F.default");
  }
}

// ---- token responses -------------------------------------------------------------------------

TEST(OAuth2Response, ParsesMicrosoftStyleReply) {
  const auto r = parse_token_response(
      R"({"token_type":"Bearer","scope":"https://outlook.office365.com/IMAP.AccessAsUser.All",)"
      R"("expires_in":4011,"ext_expires_in":4011,"access_token":"eyJ0eXAi.abc.def",)"
      R"("refresh_token":"0.AX-new"})");
  EXPECT_EQ(r.access_token, "eyJ0eXAi.abc.def");
  EXPECT_EQ(r.expires_in, 4011s);
  ASSERT_TRUE(r.refresh_token.has_value());
  EXPECT_EQ(*r.refresh_token, "0.AX-new");
  EXPECT_EQ(r.token_type, "Bearer");
}

TEST(OAuth2Response, ExpiresInAsStringFloatOrMissing) {
  EXPECT_EQ(parse_token_response(R"({"access_token":"a","expires_in":"3599"})").expires_in, 3599s);
  EXPECT_EQ(parse_token_response(R"({"access_token":"a","expires_in":120.7})").expires_in, 120s);
  EXPECT_EQ(parse_token_response(R"({"access_token":"a"})").expires_in, 3600s);
  EXPECT_EQ(parse_token_response(R"({"access_token":"a","token_type":"bearer"})").token_type,
            "bearer");
  EXPECT_FALSE(parse_token_response(R"({"access_token":"a","refresh_token":""})").refresh_token);
}

TEST(OAuth2Response, RejectsMalformedReplies) {
  const std::vector<std::string> bad = {
      "",
      "<html>proxy login</html>",
      "[1,2]",
      R"({"token_type":"Bearer","expires_in":3600})",
      R"({"access_token":""})",
      R"({"access_token":42})",
      R"({"access_token":"a\nb"})",
      R"({"access_token":"a b"})",
      R"({"access_token":"a","token_type":"mac"})",
      R"({"access_token":"a","expires_in":0})",
      R"({"access_token":"a","expires_in":-5})",
      R"({"access_token":"a","expires_in":"12abc"})",
      R"({"access_token":"a","expires_in":""})",
      R"({"access_token":"a","expires_in":true})",
      R"({"access_token":"a","refresh_token":7})",
      R"({"access_token":"a","refresh_token":"x\ny"})",
  };
  for (const auto& body : bad) {
    try {
      parse_token_response(body);
      ADD_FAILURE() << "accepted: " << body;
    } catch (const OAuth2Error& e) {
      EXPECT_TRUE(e.temporary()) << body;
    }
  }
}

TEST(OAuth2Response, HugeExpiresInIsCapped) {
  EXPECT_EQ(parse_token_response(R"({"access_token":"a","expires_in":1e300})").expires_in,
            std::chrono::seconds(366 * 24 * 3600));
}

// ---- errors ----------------------------------------------------------------------------------

TEST(OAuth2Errors, InvalidClientIsRejectedWithCodeAndDescription) {
  const auto e = error_from_response(
      401,
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]})",
      {kSecret});
  EXPECT_EQ(e.kind(), OAuth2Error::Kind::rejected);
  EXPECT_FALSE(e.temporary());
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_EQ(e.error(), "invalid_client");
  EXPECT_EQ(e.error_description(),
            "AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2");
  EXPECT_NE(std::string(e.what()).find("invalid_client"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("AADSTS7000215"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("401"), std::string::npos);
}

TEST(OAuth2Errors, TemporaryFailures) {
  EXPECT_TRUE(error_from_response(503, "<html>Service Unavailable</html>", {}).temporary());
  EXPECT_TRUE(error_from_response(500, R"({"error":"server_error"})", {}).temporary());
  EXPECT_TRUE(error_from_response(429, "", {}).temporary());
  EXPECT_TRUE(error_from_response(408, "", {}).temporary());
  EXPECT_TRUE(error_from_response(400, R"({"error":"temporarily_unavailable"})", {}).temporary());
  EXPECT_FALSE(error_from_response(400, R"({"error":"invalid_grant"})", {}).temporary());
  EXPECT_FALSE(error_from_response(404, "not found", {}).temporary());
  // A non-JSON body is never copied into the text.
  const auto e = error_from_response(503, "<html>secret page</html>", {});
  EXPECT_EQ(std::string(e.what()).find("secret page"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("503"), std::string::npos);
}

TEST(OAuth2Errors, EchoedSecretsAreRedacted) {
  const std::string encoded = form_encode(kSecret);
  const auto e = error_from_response(
      400,
      R"({"error":"invalid_request","error_description":"bad body client_secret=)" + encoded +
          "&refresh_token=" + kRefresh + " raw " + kSecret + "\"}",
      {kSecret, kRefresh});
  const std::string all = std::string(e.what()) + e.error_description();
  EXPECT_EQ(all.find(kSecret), std::string::npos) << all;
  EXPECT_EQ(all.find(encoded), std::string::npos) << all;
  EXPECT_EQ(all.find(kRefresh), std::string::npos) << all;
  EXPECT_NE(all.find("[redacted]"), std::string::npos) << all;
}

TEST(OAuth2Errors, LongDescriptionIsShortenedOnOneLine) {
  const std::string longtext(2000, 'x');
  const auto e = error_from_response(
      400, R"({"error":"invalid_scope","error_description":")" + longtext + "\"}", {});
  EXPECT_LT(e.error_description().size(), 500u);
  EXPECT_EQ(e.error_description().find('\n'), std::string::npos);
}

// ---- cache -----------------------------------------------------------------------------------

TEST(OAuth2Cache, RoundTrip) {
  CachedToken t;
  t.access_token = "eyJ.abc.def";
  t.obtained_at = Clock::time_point(std::chrono::seconds(1900000000));
  t.expires_at = t.obtained_at + 3600s;
  t.token_url = "https://x/token";
  t.client_id = "c";
  t.scope = "s";
  const auto back = parse_cache(serialize_cache(t));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->access_token, t.access_token);
  EXPECT_EQ(back->obtained_at, t.obtained_at);
  EXPECT_EQ(back->expires_at, t.expires_at);
  EXPECT_EQ(back->token_url, t.token_url);
  EXPECT_EQ(back->client_id, t.client_id);
  EXPECT_EQ(back->scope, t.scope);
}

TEST(OAuth2Cache, MalformedCacheIsNullopt) {
  EXPECT_FALSE(parse_cache(""));
  EXPECT_FALSE(parse_cache("{"));
  EXPECT_FALSE(parse_cache(R"({"version":1,"access_token":"a"})"));
  EXPECT_FALSE(parse_cache(
      R"({"version":2,"access_token":"a","obtained_at":1,"expires_at":2,"token_url":"u","client_id":"c","scope":"s"})"));
  EXPECT_FALSE(parse_cache(
      R"({"version":1,"access_token":"a","obtained_at":5,"expires_at":2,"token_url":"u","client_id":"c","scope":"s"})"));
  EXPECT_FALSE(parse_cache(
      R"({"version":1,"access_token":"a","obtained_at":1,"expires_at":99999999999999,"token_url":"u","client_id":"c","scope":"s"})"));
  EXPECT_TRUE(parse_cache(
      R"({"version":1,"access_token":"a","obtained_at":1,"expires_at":2,"token_url":"u","client_id":"c","scope":"s"})"));
}

TEST(OAuth2Cache, RestartReusesCachedTokenWithoutFetching) {
  Fixture f;
  f.settings.cache_file = f.dir.file("cache.json");
  EXPECT_EQ(f.source()->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 1u);
  EXPECT_EQ(mode_of(f.settings.cache_file), 0600u);
  EXPECT_EQ(read(f.settings.cache_file).find(kSecret), std::string::npos);

  f.clock.now += 10min;
  auto restarted = f.source();
  EXPECT_EQ(restarted->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 1u);

  // Near its expiry the cached token is replaced.
  f.clock.now += 50min;
  EXPECT_EQ(restarted->access_token(), "at-2");
  EXPECT_EQ(f.endpoint.count(), 2u);
}

TEST(OAuth2Cache, CacheForOtherSettingsIsIgnored) {
  Fixture f;
  f.settings.cache_file = f.dir.file("cache.json");
  f.source()->access_token();
  f.settings.client_id = "another-client";
  EXPECT_EQ(f.source()->access_token(), "at-2");
  EXPECT_EQ(f.endpoint.count(), 2u);
}

TEST(OAuth2Cache, CorruptCacheIsIgnored) {
  Fixture f;
  f.settings.cache_file = f.dir.file("cache.json");
  write(f.settings.cache_file, "not json");
  EXPECT_EQ(f.source()->access_token(), "at-1");
  EXPECT_TRUE(parse_cache(read(f.settings.cache_file)).has_value());
}

// ---- expiry ----------------------------------------------------------------------------------

TEST(OAuth2Expiry, RefreshDueFiveMinutesEarlyOrHalfwayForShortTokens) {
  const Clock::time_point t0(std::chrono::seconds(1000000));
  EXPECT_EQ(refresh_due(t0, t0 + 3600s), t0 + 3300s);
  EXPECT_EQ(refresh_due(t0, t0 + 600s), t0 + 300s);
  EXPECT_EQ(refresh_due(t0, t0 + 120s), t0 + 60s);
  EXPECT_EQ(refresh_due(t0, t0), t0);
}

TEST(OAuth2Expiry, CachedUntilFiveMinutesBeforeExpiry) {
  Fixture f;
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-1");
  f.clock.now += 3299s;
  EXPECT_EQ(src->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 1u);
  f.clock.now += 1s;  // 5 minutes before expiry
  EXPECT_EQ(src->access_token(), "at-2");
  EXPECT_EQ(f.endpoint.count(), 2u);
  EXPECT_EQ(src->access_token(), "at-2");
  EXPECT_EQ(src->fetch_count(), 2);
}

TEST(OAuth2Expiry, InvalidateFetchesAnewOnlyForTheRefusedToken) {
  Fixture f;
  f.settings.cache_file = f.dir.file("cache.json");
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-1");
  src->invalidate("some-older-token");  // not the current one: nothing happens
  EXPECT_EQ(src->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 1u);
  src->invalidate("at-1");
  EXPECT_FALSE(fs::exists(f.settings.cache_file));  // a restart must not reuse it either
  EXPECT_EQ(src->access_token(), "at-2");
  src->invalidate();
  EXPECT_EQ(src->access_token(), "at-3");
  EXPECT_EQ(f.endpoint.count(), 3u);
}

TEST(OAuth2Expiry, FailedRefreshFallsBackOnStillValidToken) {
  Fixture f;
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-1");
  f.clock.now += 3400s;  // due for refresh, 200 s left
  f.endpoint.replies.push_back({503, "busy"});
  EXPECT_EQ(src->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 2u);
  f.clock.now += 10s;  // no new attempt within 30 s
  EXPECT_EQ(src->access_token(), "at-1");
  EXPECT_EQ(f.endpoint.count(), 2u);
  f.clock.now += 30s;
  EXPECT_EQ(src->access_token(), "at-2");
  EXPECT_EQ(f.endpoint.count(), 3u);
}

TEST(OAuth2Expiry, FailureWithoutUsableTokenThrows) {
  Fixture f;
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-1");
  src->invalidate();
  f.endpoint.replies.push_back({503, "busy"});
  EXPECT_THROW(src->access_token(), OAuth2Error);
  // An expired token is not a fallback either.
  f.clock.now += 2h;
  f.endpoint.replies.push_back({401, R"({"error":"invalid_client"})"});
  try {
    src->access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.kind(), OAuth2Error::Kind::rejected);
    EXPECT_EQ(e.error(), "invalid_client");
  }
}

TEST(OAuth2Expiry, ConcurrentCallersShareOneFetch) {
  Fixture f;
  std::atomic<int> calls{0};
  f.endpoint.responder = [&](const std::string&) {
    ++calls;
    std::this_thread::sleep_for(100ms);
    return HttpReply{200, R"({"access_token":"shared","expires_in":3600})"};
  };
  auto src = f.source();
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { got[i] = src->access_token(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (const auto& g : got) EXPECT_EQ(g, "shared");
}

// ---- refresh-token rotation ------------------------------------------------------------------

TEST(OAuth2Rotation, RotatedTokenIsWrittenBackAtomicallyWithMode0600) {
  Fixture f;
  f.use_refresh_token();
  f.endpoint.replies.push_back(
      {200, R"({"access_token":"at-r1","expires_in":3600,"refresh_token":"rt-1-rotated"})"});
  // Keep the old file open: an atomic rename leaves its content untouched, an in-place write
  // would change it.
  std::ifstream old(f.settings.refresh_token_file, std::ios::binary);
  ASSERT_TRUE(old);
  auto src = f.source();
  EXPECT_EQ(src->access_token(), "at-r1");
  EXPECT_EQ(read(f.settings.refresh_token_file), "rt-1-rotated\n");
  EXPECT_EQ(mode_of(f.settings.refresh_token_file), 0600u);
  std::string old_content((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
  EXPECT_EQ(old_content, kRefresh + "\n");
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(f.dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 3);  // secret, refresh and refresh.lock

  // The next refresh sends the rotated token; a restarted source reads it from the file.
  f.clock.now += 1h;
  src->access_token();
  EXPECT_NE(f.endpoint.bodies.at(1).find("refresh_token=rt-1-rotated&"), std::string::npos);
  auto restarted = f.source();
  restarted->invalidate();
  f.clock.now += 1h;
  restarted->access_token();
  EXPECT_NE(f.endpoint.bodies.back().find("refresh_token=rt-1-rotated&"), std::string::npos);
}

TEST(OAuth2Rotation, SecondSourceOnTheSameFileUsesTheTokenTheFirstRotated) {
  // The daemon and a CLI command (or the sources before and after SIGHUP) share the file.
  Fixture f;
  f.use_refresh_token();
  int serial = 0;
  f.endpoint.responder = [&](const std::string&) {
    ++serial;
    return HttpReply{200, R"({"access_token":"at-)" + std::to_string(serial) +
                              R"(","expires_in":3600,"refresh_token":"rt-)" +
                              std::to_string(serial) + "\"}"};
  };
  auto a = f.source();
  auto b = f.source();  // read kRefresh too
  a->access_token();    // rotates to rt-1
  EXPECT_EQ(read(f.settings.refresh_token_file), "rt-1\n");
  b->access_token();  // must send rt-1, not its stale kRefresh, and rotate to rt-2
  EXPECT_NE(f.endpoint.bodies.at(1).find("refresh_token=rt-1&"), std::string::npos)
      << f.endpoint.bodies.at(1);
  EXPECT_EQ(read(f.settings.refresh_token_file), "rt-2\n");
  a->invalidate();
  a->access_token();
  EXPECT_NE(f.endpoint.bodies.at(2).find("refresh_token=rt-2&"), std::string::npos)
      << f.endpoint.bodies.at(2);
  // An operator's new token (re-consent) is picked up at the next refresh.
  write(f.settings.refresh_token_file, "rt-from-operator\n");
  b->invalidate();
  b->access_token();
  EXPECT_NE(f.endpoint.bodies.at(3).find("refresh_token=rt-from-operator&"), std::string::npos)
      << f.endpoint.bodies.at(3);
}

TEST(OAuth2Rotation, RefreshWaitsForTheLockOfAnotherProcess) {
  Fixture f;
  f.use_refresh_token();
  f.settings.timeout = 300ms;
  const std::string lock = f.settings.refresh_token_file + ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another open file description: like another process
  auto src = f.source();
  try {
    src->access_token();
    ADD_FAILURE() << "fetched while the lock was held";
  } catch (const OAuth2Error& e) {
    EXPECT_TRUE(e.temporary());
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.endpoint.count(), 0u);
  // Released during the wait: the refresh goes ahead.
  f.settings.timeout = 5s;
  auto patient = f.source();
  std::thread release([&] {
    std::this_thread::sleep_for(200ms);
    ::close(fd);
  });
  EXPECT_EQ(patient->access_token(), "at-1");
  release.join();
}

TEST(OAuth2Rotation, WriteFileAtomicallyReplacesAndKeepsMode) {
  TempDir d;
  const std::string p = d.file("f");
  write(p, "old", 0644);
  write_file_atomically(p, "new content", 0600);
  EXPECT_EQ(read(p), "new content");
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_THROW(write_file_atomically(d.file("missing-dir/f"), "x"), std::runtime_error);
}

TEST(OAuth2Rotation, InvalidGrantNamesTheRefreshTokenFile) {
  Fixture f;
  f.use_refresh_token();
  f.endpoint.replies.push_back(
      {400,
       R"({"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity."})"});
  try {
    f.source()->access_token();
    ADD_FAILURE() << "no exception";
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.kind(), OAuth2Error::Kind::rejected);
    EXPECT_EQ(e.error(), "invalid_grant");
    const std::string what = e.what();
    EXPECT_NE(what.find("AADSTS700082"), std::string::npos);
    EXPECT_NE(what.find(f.settings.refresh_token_file), std::string::npos);
    EXPECT_EQ(what.find(kRefresh), std::string::npos);
  }
}

TEST(OAuth2Rotation, SaveFailureKeepsTokenInMemoryAndWarns) {
  Fixture f;
  const std::string sub = f.dir.file("state");
  fs::create_directory(sub);
  write(sub + "/refresh", kRefresh + "\n");
  f.settings.refresh_token_file = sub + "/refresh";
  auto src = f.source();
  fs::remove_all(sub);  // the state directory vanished: the write-back fails
  f.endpoint.replies.push_back(
      {200, R"({"access_token":"at-r1","expires_in":3600,"refresh_token":"rt-next"})"});
  EXPECT_EQ(src->access_token(), "at-r1");
  const auto w = src->expiry_warning();
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("could not be saved"), std::string::npos);
  EXPECT_EQ(w->find("rt-next"), std::string::npos);
  // The rotated token is used from memory.
  f.clock.now += 1h;
  src->access_token();
  EXPECT_NE(f.endpoint.bodies.back().find("refresh_token=rt-next&"), std::string::npos);
}

// ---- expiry_warning --------------------------------------------------------------------------

void set_mtime(const std::string& path, Clock::time_point t) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  struct timespec times[2] = {{secs.count(), 0}, {secs.count(), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(OAuth2Warning, RefreshTokenOlderThanSixtyDays) {
  Fixture f;
  f.use_refresh_token();
  set_mtime(f.settings.refresh_token_file, f.clock.now - std::chrono::hours(24 * 59));
  EXPECT_FALSE(f.source()->expiry_warning().has_value());

  set_mtime(f.settings.refresh_token_file, f.clock.now - std::chrono::hours(24 * 61));
  auto src = f.source();
  const auto w = src->expiry_warning();
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("61 days"), std::string::npos) << *w;
  EXPECT_NE(w->find(f.settings.refresh_token_file), std::string::npos) << *w;
  EXPECT_EQ(w->find(kRefresh), std::string::npos);

  // A rotation renews it.
  f.endpoint.replies.push_back(
      {200, R"({"access_token":"a","expires_in":3600,"refresh_token":"rt-fresh"})"});
  src->access_token();
  EXPECT_FALSE(src->expiry_warning().has_value());
  // ... and time makes it old again.
  f.clock.now += std::chrono::hours(24 * 61);
  EXPECT_TRUE(src->expiry_warning().has_value());
}

TEST(OAuth2Warning, NoneForClientCredentials) {
  Fixture f;
  f.clock.now += std::chrono::hours(24 * 365);
  EXPECT_FALSE(f.source()->expiry_warning().has_value());
}

// ---- configuration ---------------------------------------------------------------------------

OAuth2Error::Kind construct_error(const OAuth2Settings& s) {
  try {
    TokenSource src(s, {}, [](const OAuth2Settings&, const std::string&) { return HttpReply{}; });
  } catch (const OAuth2Error& e) {
    return e.kind();
  }
  throw std::runtime_error("no error");
}

TEST(OAuth2Config, TokenUrlMustBeHttpsUnlessLoopbackAndAllowed) {
  Fixture f;
  OAuth2Settings s = f.settings;
  s.token_url = "http://127.0.0.1:8080/token";
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s.allow_insecure = true;
  EXPECT_NO_THROW(TokenSource(s, {}, f.endpoint.fn()));
  s.token_url = "http://localhost:8080/token";
  EXPECT_NO_THROW(TokenSource(s, {}, f.endpoint.fn()));
  s.token_url = "http://[::1]:8080/token";
  EXPECT_NO_THROW(TokenSource(s, {}, f.endpoint.fn()));
  s.token_url = "http://login.microsoftonline.com/t/oauth2/v2.0/token";
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s.token_url = "http://127.0.0.1.evil.test/token";
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s.token_url = "ftp://127.0.0.1/token";
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s.token_url = "";
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
}

TEST(OAuth2Config, MissingOrEmptyFilesAndFields) {
  Fixture f;
  OAuth2Settings s = f.settings;
  s.client_secret_file = f.dir.file("nope");
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  write(f.dir.file("empty"), "\n");
  s.client_secret_file = f.dir.file("empty");
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s.client_secret_file.clear();  // neither secret nor refresh token
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s = f.settings;
  s.client_id.clear();
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s = f.settings;
  s.scope.clear();
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
  s = f.settings;
  s.refresh_token_file = f.dir.file("no-refresh");
  EXPECT_EQ(construct_error(s), OAuth2Error::Kind::config);
}

// ---- no secrets in exception texts or logs ---------------------------------------------------

TEST(OAuth2Secrets, NeverInExceptionTextsOrLogs) {
  LogCapture logs;
  std::vector<std::string> texts;
  const std::string encoded_secret = form_encode(kSecret);
  for (bool refresh : {false, true}) {
    // Endpoints that echo what they were sent, in every place a reply has.
    std::vector<HttpReply> failures = {
        {401, R"({"error":"invalid_client","error_description":"secret )" + kSecret + "\"}"},
        {400, R"({"error":"invalid_request","error_description":"body: )" + encoded_secret + "\"}"},
        {400, R"({"error":")" + kSecret + R"(","error_description":"x"})"},
        {503, "<html>" + kSecret + "</html>"},
        {200, R"({"access_token":"with space )" + kSecret + "\"}"},
        {200, R"({"access_token":"a","token_type":")" + kSecret + "\"}"},
        {200, "not json " + kSecret},
    };
    if (refresh) {
      failures.push_back(
          {400, R"({"error":"invalid_grant","error_description":"token )" + kRefresh + "\"}"});
      failures.push_back({400, R"({"error":")" + kRefresh + R"("})"});
      failures.push_back({200, R"({"access_token":"a","refresh_token":")" + kRefresh + "\n\"}"});
    }
    for (const auto& reply : failures) {
      Fixture f;
      if (refresh) f.use_refresh_token();
      f.endpoint.replies.push_back(reply);
      try {
        f.source()->access_token();
        ADD_FAILURE() << "no exception for " << reply.status;
      } catch (const OAuth2Error& e) {
        texts.push_back(e.what());
        texts.push_back(e.error());
        texts.push_back(e.error_description());
      }
    }
  }
  // Successful fetches, rotation and a fallback log lines too.
  {
    Fixture f;
    f.use_refresh_token();
    f.settings.cache_file = f.dir.file("cache");
    f.endpoint.replies.push_back(
        {200, R"({"access_token":"AT-SECRET-1","expires_in":3600,"refresh_token":"RT-SECRET-2"})"});
    auto src = f.source();
    src->access_token();
    f.clock.now += 3400s;
    f.endpoint.replies.push_back({503, R"({"error":"temporarily_unavailable"})"});
    src->access_token();
    src->invalidate();
    f.clock.now += std::chrono::hours(24 * 70);
    if (auto w = src->expiry_warning()) texts.push_back(*w);
  }
  texts.push_back(logs.text());
  ASSERT_FALSE(logs.text().empty());
  for (const auto& t : texts) {
    for (const std::string& secret : {kSecret, encoded_secret, kRefresh, std::string("AT-SECRET-1"),
                                      std::string("RT-SECRET-2"), std::string("client_secret=")}) {
      EXPECT_EQ(t.find(secret), std::string::npos) << "'" << secret << "' in: " << t;
    }
  }
}

}  // namespace
}  // namespace tilskudd::oauth2
