// ImapClient against real Dovecot + OpenSMTPD on loopback (tests/integration/mailservers.sh).
//
// The servers come from $TILSKUDD_MAIL_DIR when it is set (a fresh directory: the tests expect
// empty mailboxes; mailservers.sh start is run on it and is idempotent); otherwise the suite starts
// them in a temporary directory (needs root) and stops them at the end. Without root, dovecot or
// smtpd the tests are skipped.
#include "daemon/imap_client.h"

#include "config/config.h"
#include "daemon/imap_source.h"
#include "tests/support/imap_rewrite_proxy.h"
#include "tests/support/mail_servers.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

using namespace tilskudd;
using namespace std::chrono_literals;

namespace {

struct Servers {
  std::string dir;
  bool started_here = false;
  std::map<std::string, std::string> env;
  std::string skip_reason;
};

Servers* g_servers = nullptr;

std::string script() {
  return std::string(TILSKUDD_SOURCE_DIR) + "/tests/integration/mailservers.sh";
}

// Without the test's other descriptors (tests/support/mail_servers.h run_command): the servers
// it starts keep no lock of the test's.
int run(const std::string& cmd, std::string* out = nullptr) {
  return tilskudd::testing::run_command(cmd, out);
}

std::map<std::string, std::string> read_env(const std::string& dir) {
  std::string out;
  run(script() + " env '" + dir + "'", &out);
  std::map<std::string, std::string> env;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    const auto eq = line.find('=');
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    env[line.substr(7, eq - 7)] = value;
  }
  return env;
}

const std::string& env(const char* name) {
  return g_servers->env.at(name);
}

std::string imaps_url() {
  return "imaps://127.0.0.1:" + env("TILSKUDD_IMAPS_PORT") + "/INBOX";
}
std::string imap_url() {
  return "imap://127.0.0.1:" + env("TILSKUDD_IMAP_PORT") + "/INBOX";
}

ImapOptions options(const std::string& user) {
  ImapOptions o;
  o.url = imaps_url();
  o.username = user;
  o.password = "secret-" + user.substr(0, user.find('@'));
  o.ca_file = env("TILSKUDD_MAIL_CA");
  o.connect_timeout = 10s;
  o.command_timeout = 10s;
  return o;
}

std::unique_ptr<ImapClient> login(const std::string& user) {
  auto c = std::make_unique<ImapClient>(options(user));
  c->connect();
  return c;
}

struct ReadSource {
  const std::string* data;
  std::size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<ReadSource*>(user);
  const std::size_t len = std::min(size * n, src->data->size() - src->pos);
  std::memcpy(buf, src->data->data() + src->pos, len);
  src->pos += len;
  return len;
}

// Delivers `raw` over SMTP (libcurl -> OpenSMTPD -> LMTP -> Dovecot).
void send_mail(const std::string& from, const std::string& to, const std::string& raw) {
  CURL* h = curl_easy_init();
  ASSERT_NE(h, nullptr);
  const std::string url = "smtp://127.0.0.1:" + env("TILSKUDD_SMTP_PORT") + "/test.local";
  const std::string mail_from = "<" + from + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  ReadSource src{&raw};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(h);
  ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
}

std::string message(const std::string& from, const std::string& to, const std::string& subject,
                    const std::string& id, const std::string& body) {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
         "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <" + id +
         "@solsikken.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
         "charset=utf-8\r\n\r\n" +
         body;
}

// Waits until `user`'s INBOX has `count` messages (delivery is asynchronous).
bool wait_for_messages(const std::string& user, std::uint32_t count) {
  auto c = login(user);
  for (int i = 0; i < 100; ++i) {
    if (c->status("INBOX").messages >= count) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

const std::string kPost = "post@asker.test";
const std::string kKari = "kari@solsikken.test";
const std::string kOla = "ola@solsikken.test";

std::vector<std::string> g_sent;  // the three messages delivered to post@asker.test

// Started once for the ImapClientIntegration suite (SetUpTestSuite), not for the fake-server tests.
struct MailServers {
  static void SetUp() {
    g_servers = new Servers;
    Servers& s = *g_servers;
    if (const char* d = std::getenv("TILSKUDD_MAIL_DIR"); d && *d) {
      s.dir = d;
    } else {
      if (::geteuid() != 0) {
        s.skip_reason = "needs root to start Dovecot and OpenSMTPD";
        return;
      }
      if (run("command -v dovecot >/dev/null && command -v smtpd >/dev/null") != 0) {
        s.skip_reason = "dovecot or smtpd not installed";
        return;
      }
      std::string tmpl = (std::filesystem::temp_directory_path() / "tilskudd-mail-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) {
        s.skip_reason = "mkdtemp failed";
        return;
      }
      s.dir = tmpl;
      s.started_here = true;
    }
    std::string out;
    if (run(script() + " start '" + s.dir + "' 2>&1", &out) != 0) {
      s.skip_reason = "mailservers.sh start failed: " + out;
      return;
    }
    s.env = read_env(s.dir);

    std::string body3;  // ~1.5 MB in 76-character lines: a literal read over many recv() calls
    for (int i = 0; i < 20000; ++i)
      body3 += std::string(74, static_cast<char>('a' + i % 26)) + "\r\n";
    g_sent = {
        message(kKari, kPost, "Soknad om tilskudd 20/30298 - Barnehagen Solsikken", "m1",
                "Hei,\r\nvedlagt er soknaden.\r\n.leading dot line\r\n"),
        message(kOla, kPost, "Sporsmal om frister", "m2", "Hei,\r\nnar er fristen?\r\n"),
        message(kKari, kPost, "Stort vedlegg", "m3", body3),
    };
    // One at a time, so that UIDs 1, 2, 3 are the messages in this order.
    for (std::uint32_t i = 0; i < g_sent.size(); ++i) {
      send_mail(kKari, kPost, g_sent[i]);
      ASSERT_TRUE(wait_for_messages(kPost, i + 1)) << "test mail " << i + 1 << " did not arrive";
    }
    // Mark message 2 \Seen "by hand" so that BODY.PEEK can be checked against both states.
    auto c = login(kPost);
    c->select("INBOX");
    c->uid_store_add_flags("2", "\\Seen");
    c->logout();
  }
  static void TearDown() {
    if (g_servers && g_servers->started_here) {
      run(script() + " stop '" + g_servers->dir + "'");
      std::filesystem::remove_all(g_servers->dir);
    }
    delete g_servers;
    g_servers = nullptr;
  }
};

class ImapClientIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { MailServers::SetUp(); }
  static void TearDownTestSuite() { MailServers::TearDown(); }
  void SetUp() override {
    if (!g_servers || !g_servers->skip_reason.empty()) {
      GTEST_SKIP() << (g_servers ? g_servers->skip_reason : "no servers");
    }
  }
};

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

ImapError::Kind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const ImapError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ImapError thrown";
  return ImapError::Kind::usage;
}

}  // namespace

TEST_F(ImapClientIntegration, LoginOverImapsVerifiesTheCertificate) {
  auto c = login(kPost);
  auto caps = c->capability();
  EXPECT_TRUE(has(caps, "IMAP4REV1"));
  EXPECT_TRUE(has(caps, "IDLE"));
  c->noop();
  c->logout();
  EXPECT_FALSE(c->connected());
}

TEST_F(ImapClientIntegration, ImapUrlRequiresStartTls) {
  ImapOptions o = options(kPost);
  o.url = imap_url();
  ImapClient c(o);
  c.connect();
  EXPECT_EQ(c.examine("INBOX").exists, 3u);
  // The same port with the wrong CA fails: STARTTLS was really negotiated and verified.
  o.ca_file = env("TILSKUDD_MAIL_WRONG_CA");
  ImapClient bad(o);
  EXPECT_EQ(error_kind([&] { bad.connect(); }), ImapError::Kind::tls);
}

// A man in the middle strips STARTTLS from Dovecot's capabilities (a downgrade attack): the
// client refuses, and no credential crosses in clear.
TEST_F(ImapClientIntegration, StrippedStartTlsIsRefusedNotPlaintext) {
  tilskudd::testing::ImapRewriteProxy proxy(std::stoi(env("TILSKUDD_IMAP_PORT")),
                                            {tilskudd::testing::strip_starttls, {}});
  ImapOptions o = options(kPost);
  o.url = "imap://127.0.0.1:" + std::to_string(proxy.port()) + "/INBOX";
  ImapClient c(o);
  EXPECT_EQ(error_kind([&] { c.connect(); }), ImapError::Kind::tls);
  EXPECT_FALSE(c.connected());
  EXPECT_GE(proxy.connections(), 1);
  for (const auto& line : proxy.client_lines()) {
    EXPECT_EQ(line.find("LOGIN"), std::string::npos) << line;
    EXPECT_EQ(line.find("AUTHENTICATE"), std::string::npos) << line;
  }
  // The proxy itself is transparent without the rewrite: STARTTLS then works through it.
  tilskudd::testing::ImapRewriteProxy plain(std::stoi(env("TILSKUDD_IMAP_PORT")), {});
  o.url = "imap://127.0.0.1:" + std::to_string(plain.port()) + "/INBOX";
  ImapClient ok(o);
  ok.connect();
  EXPECT_TRUE(ok.connected());
  ok.logout();
}

TEST_F(ImapClientIntegration, WrongCaIsAVerificationError) {
  ImapOptions o = options(kPost);
  o.ca_file = env("TILSKUDD_MAIL_WRONG_CA");
  ImapClient c(o);
  try {
    c.connect();
    FAIL() << "connected with the wrong CA";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::tls) << e.what();
    EXPECT_FALSE(c.connected());
  }
}

TEST_F(ImapClientIntegration, WrongPasswordIsAnAuthErrorWithoutThePassword) {
  ImapOptions o = options(kPost);
  o.password = "wrong-password-xyz";
  ImapClient c(o);
  try {
    c.connect();
    FAIL() << "logged in with a wrong password";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::auth) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-password-xyz"), std::string::npos);
    EXPECT_EQ(e.server_text().find("wrong-password-xyz"), std::string::npos);
  }
}

TEST_F(ImapClientIntegration, ExamineGivesUidValidityAndUidNext) {
  auto c = login(kPost);
  MailboxInfo info = c->examine("INBOX");
  EXPECT_NE(info.uidvalidity, 0u);
  EXPECT_EQ(info.uidnext, 4u);
  EXPECT_EQ(info.exists, 3u);
  EXPECT_TRUE(info.read_only);
  EXPECT_TRUE(has(info.flags, "\\Seen"));
  MailboxStatus st = c->status("INBOX");
  EXPECT_EQ(st.uidvalidity, info.uidvalidity);
  EXPECT_EQ(st.uidnext, 4u);
  EXPECT_EQ(st.messages, 3u);
  EXPECT_EQ(error_kind([&] { c->examine("Finnes ikke"); }), ImapError::Kind::no);
  EXPECT_TRUE(c->connected());  // NO leaves the connection usable
  EXPECT_EQ(error_kind([&] { c->uid_search("NOT-A-SEARCH-KEY"); }), ImapError::Kind::bad);
  c->noop();
}

TEST_F(ImapClientIntegration, UidSearchFindsTheCaseNumber) {
  auto c = login(kPost);
  c->examine("INBOX");
  EXPECT_EQ(c->uid_search("SUBJECT \"20/30298\""), std::vector<std::uint32_t>{1});
  EXPECT_EQ(c->uid_search("TEXT \"20/30298\""), std::vector<std::uint32_t>{1});
  EXPECT_EQ(c->uid_search("ALL"), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(c->uid_search("UNSEEN"), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_TRUE(c->uid_search("SUBJECT \"99/99999\"").empty());
}

TEST_F(ImapClientIntegration, BodyPeekIsByteExactAndLeavesSeenUnchanged) {
  auto c = login(kPost);
  c->select("INBOX");
  auto before = c->uid_fetch_meta("1:*");
  ASSERT_EQ(before.size(), 3u);
  for (std::uint32_t uid = 1; uid <= 3; ++uid) {
    auto body = c->uid_fetch_body_peek(uid);
    ASSERT_TRUE(body) << uid;
    const std::string& sent = g_sent[uid - 1];
    EXPECT_EQ(body->size(), before[uid - 1].size) << uid;
    ASSERT_GE(body->size(), sent.size());
    // The servers only prepend trace headers (Return-Path, Delivered-To, Received).
    EXPECT_EQ(body->substr(body->size() - sent.size()), sent) << uid;
  }
  auto after = c->uid_fetch_meta("1:3");
  ASSERT_EQ(after.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(has(after[i].flags, "\\Seen"), has(before[i].flags, "\\Seen")) << i;
  }
  EXPECT_FALSE(has(after[0].flags, "\\Seen"));
  EXPECT_TRUE(has(after[1].flags, "\\Seen"));
  EXPECT_FALSE(has(after[2].flags, "\\Seen"));
  EXPECT_FALSE(c->uid_fetch_body_peek(99));
}

TEST_F(ImapClientIntegration, StoreAddsTheTilskuddKeyword) {
  auto c = login(kPost);
  c->select("INBOX");
  c->uid_store_add_flags("1", "$Tilskudd");
  auto meta = c->uid_fetch_meta("1");
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_TRUE(has(meta[0].flags, "$Tilskudd"));
  EXPECT_FALSE(has(meta[0].flags, "\\Seen"));
  EXPECT_EQ(c->uid_search("KEYWORD $Tilskudd"), std::vector<std::uint32_t>{1});
  EXPECT_EQ(c->uid_search("UNKEYWORD $Tilskudd"), (std::vector<std::uint32_t>{2, 3}));
}

TEST_F(ImapClientIntegration, IdleWakesOnANewDelivery) {
  auto c = login(kKari);
  const auto info = c->select("INBOX");
  // Nothing happens: IDLE returns at its deadline.
  const auto t0 = std::chrono::steady_clock::now();
  IdleResult quiet = c->idle(800ms);
  EXPECT_FALSE(quiet.woke);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 700ms);

  std::thread sender([] {
    std::this_thread::sleep_for(500ms);
    send_mail(kPost, kKari, message(kPost, kKari, "Svar 20/30298", "idle1", "Hei\r\n"));
  });
  const auto t1 = std::chrono::steady_clock::now();
  IdleResult r = c->idle(20s);
  sender.join();
  EXPECT_TRUE(r.woke);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 15s);
  ASSERT_TRUE(r.exists);
  EXPECT_EQ(*r.exists, info.exists + 1);
  c->noop();  // the connection is usable after DONE
}

TEST_F(ImapClientIntegration, CreateCopyAndMoveWithNorwegianMailboxName) {
  send_mail(kPost, kOla, message(kPost, kOla, "Flytt meg", "move1", "Hei\r\n"));
  ASSERT_TRUE(wait_for_messages(kOla, 1));
  auto c = login(kOla);
  c->create("Behandlede s\xc3\xb8knader");
  c->create("Kopi");
  c->select("INBOX");
  c->uid_copy("1", "Kopi");
  c->uid_move("1", "Behandlede s\xc3\xb8knader");
  EXPECT_EQ(c->status("Behandlede s\xc3\xb8knader").messages, 1u);
  EXPECT_EQ(c->status("Kopi").messages, 1u);
  EXPECT_EQ(c->status("INBOX").messages, 0u);
  EXPECT_EQ(error_kind([&] { c->create("Kopi"); }), ImapError::Kind::no);
}

// --- ImapSource (daemon/imap_source.h), the poller's view of the mailbox, on the real server ---

config::Config source_config(const std::string& user) {
  config::Config cfg;
  cfg.mailbox.url = imaps_url();
  cfg.mailbox.username = user;
  cfg.case_.number = "20/30298";
  return cfg;
}

TEST_F(ImapClientIntegration, ImapSourceOffersWhatMayBeOursBoundedAndMarksOnlyWhenAsked) {
  const std::string per = "per@solsikken.test";
  send_mail(kKari, per, message(kKari, per, "Soknad 20/30298", "src1", "Hei\r\n"));
  ASSERT_TRUE(wait_for_messages(per, 1));
  send_mail(kOla, per, message(kOla, per, "Middag?", "src2", "Hei\r\n"));
  ASSERT_TRUE(wait_for_messages(per, 2));
  send_mail(kKari, per,
            message(kKari, per, "Sak 20/30298 med stort vedlegg", "src3", std::string(5000, 'x')));
  ASSERT_TRUE(wait_for_messages(per, 3));

  auto client = std::make_unique<ImapClient>(options(per));
  const config::Config cfg = source_config(per);
  std::vector<std::string> notes;
  ImapSource source(*client, cfg, [&](const IntakeNote& n) { notes.push_back(n.text); });
  int logins = 0;
  source.on_login([&] { ++logins; });

  EXPECT_EQ(source.mailbox(), "INBOX");
  EXPECT_TRUE(source.changed_since(std::nullopt));
  EXPECT_EQ(logins, 1);
  const Opened opened = source.open(std::nullopt);
  EXPECT_FALSE(opened.restart);
  EXPECT_TRUE(source.contains_message_id("src1@solsikken.test"));
  EXPECT_FALSE(source.contains_message_id("nowhere@solsikken.test"));

  auto changes = source.changes(std::nullopt);
  ASSERT_EQ(changes->size(), 2u) << "the search names messages 1 and 3 only";
  const auto first = changes->next();
  const auto third = changes->next();
  ASSERT_TRUE(first && third);
  EXPECT_FALSE(changes->next());
  EXPECT_EQ(first->key.uid, 1u);
  EXPECT_EQ(third->key.uid, 3u);
  ASSERT_TRUE(third->size);
  EXPECT_GT(*third->size, 5000u);
  EXPECT_EQ(first->received.size(), 25u) << first->received;  // 2026-11-24T10:00:00+01:00

  // Within the bound: the message byte for byte. Over it: nothing read.
  const Fetched whole = source.fetch(*first, 1 << 20);
  ASSERT_EQ(whole.kind, Fetched::Kind::message);
  EXPECT_NE(whole.bytes.find("Subject: Soknad 20/30298"), std::string::npos);
  const Fetched big = source.fetch(*third, 4096);
  EXPECT_EQ(big.kind, Fetched::Kind::too_large);
  EXPECT_EQ(big.size, *third->size);
  EXPECT_TRUE(big.bytes.empty());
  const auto header = source.fetch_header(*third);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->find("xxxx"), std::string::npos);

  // The checkpoints the poller keeps: after a message, and once all were handed out.
  const Checkpoint after_first = changes->after(std::nullopt, first->key);
  EXPECT_EQ(after_first.highest_uid, 1u);
  const auto end = changes->end(after_first);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->highest_uid, 3u);
  EXPECT_EQ(end->uidvalidity, first->key.uidvalidity);
  EXPECT_FALSE(source.changed_since(end));

  EXPECT_EQ(source.mark(first->key), MarkResult::marked);
  EXPECT_EQ(source.quarantine(third->key), MarkResult::marked);
  EXPECT_EQ(source.mark({first->key.uidvalidity + 1, 2}), MarkResult::stale);
  auto look = login(per);
  look->examine("INBOX");
  EXPECT_EQ(look->uid_search("KEYWORD $Tilskudd"), std::vector<std::uint32_t>{1});
  EXPECT_EQ(look->uid_search("KEYWORD $TilskuddQuarantine"), std::vector<std::uint32_t>{3});
  EXPECT_TRUE(look->uid_search("SEEN").empty()) << "nothing may set \\Seen";
  EXPECT_TRUE(notes.empty());

  // A checkpoint of another UIDVALIDITY is void: open says so, and from where to start over.
  const Checkpoint foreign{"INBOX", end->uidvalidity + 1, 3, ""};
  EXPECT_TRUE(source.changed_since(foreign));
  const Opened reopened = source.open(foreign);
  ASSERT_TRUE(reopened.restart);
  EXPECT_EQ(reopened.restart->uidvalidity, end->uidvalidity);
  EXPECT_EQ(reopened.restart->highest_uid, 0u);
  EXPECT_EQ(reopened.change, "UIDVALIDITY of INBOX changed from " +
                                 std::to_string(foreign.uidvalidity) + " to " +
                                 std::to_string(end->uidvalidity));

  // New mail moves UIDNEXT past the checkpoint.
  send_mail(kKari, per, message(kKari, per, "Svar 20/30298", "src4", "Hei\r\n"));
  ASSERT_TRUE(wait_for_messages(per, 4));
  EXPECT_TRUE(source.changed_since(end));
  source.open(end);
  auto more = source.changes(end);
  ASSERT_EQ(more->size(), 1u);
  EXPECT_EQ(more->next()->key.uid, 4u);

  // Read-only (shadow mode): EXAMINE, and nothing is written.
  auto shadow_client = std::make_unique<ImapClient>(options(per));
  ImapSource shadow(
      *shadow_client, cfg, [](const IntakeNote&) {}, /*read_only=*/true);
  EXPECT_TRUE(shadow.changed_since(std::nullopt));
  shadow.open(std::nullopt);
  EXPECT_EQ(shadow.mark({end->uidvalidity, 4}), MarkResult::not_written);
  EXPECT_TRUE(look->uid_search("KEYWORD $Tilskudd").size() == 1u);
}

TEST_F(ImapClientIntegration, ImapSourceWaitsForChangeWithIdle) {
  const std::string eva = "eva@solsikken.test";
  send_mail(kKari, eva, message(kKari, eva, "Hei", "wait0", "Hei\r\n"));
  ASSERT_TRUE(wait_for_messages(eva, 1));
  auto client = std::make_unique<ImapClient>(options(eva));
  const config::Config cfg = source_config(eva);
  ImapSource source(
      *client, cfg, [](const IntakeNote&) {}, /*read_only=*/true);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(source.wait_for_change(800ms), WaitResult::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 700ms);

  std::thread sender([&] {
    std::this_thread::sleep_for(500ms);
    send_mail(kKari, eva, message(kKari, eva, "Soknad 20/30298", "wait1", "Hei\r\n"));
  });
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(source.wait_for_change(20s), WaitResult::changed);
  sender.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 15s);

  // interrupt() from another thread ends a long wait at once.
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    source.interrupt();
  });
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(source.wait_for_change(30s), WaitResult::timed_out);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t2, 10s);
}

// Last: stops the servers and starts them again.
TEST_F(ImapClientIntegration, ServerStoppedIsANetworkErrorWithinTheDeadline) {
  auto c = login(kPost);
  c->examine("INBOX");
  ASSERT_EQ(run(script() + " stop '" + g_servers->dir + "'"), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto kind = error_kind([&] { c->noop(); });
  EXPECT_TRUE(kind == ImapError::Kind::network || kind == ImapError::Kind::bye) << to_string(kind);
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(error_kind([&] { c->noop(); }), ImapError::Kind::network);
  ImapOptions o = options(kPost);
  o.connect_timeout = 3s;
  ImapClient fresh(o);
  EXPECT_EQ(error_kind([&] { fresh.connect(); }), ImapError::Kind::network);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 12s);
  ASSERT_EQ(run(script() + " start '" + g_servers->dir + "' >/dev/null 2>&1"), 0);
  auto again = login(kPost);
  EXPECT_EQ(again->examine("INBOX").exists, 3u);
}

// --- A scripted fake server (plain imap:// with allow_insecure), for failures Dovecot won't
// produce on demand. Needs neither root nor Dovecot. ---

namespace {

// Accepts one connection, lets curl log in (LOGIN), then answers our first command with
// `reply` (empty: stay silent) and optionally closes.
class FakeImapServer {
 public:
  FakeImapServer(std::string reply, bool close_after) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 1);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, reply = std::move(reply), close_after] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      auto say = [fd](const std::string& s) {
        (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
      };
      say("* OK [CAPABILITY IMAP4rev1] fake ready\r\n");
      std::string in;
      char buf[4096];
      bool ours = false;
      while (true) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = in.find("\r\n")) != std::string::npos) {
          const std::string line = in.substr(0, nl);
          in.erase(0, nl + 2);
          const std::string tag = line.substr(0, line.find(' '));
          if (line.find(" CAPABILITY") != std::string::npos) {
            say("* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n");
          } else if (line.find(" LOGIN ") != std::string::npos) {
            say(tag + " OK logged in\r\n");
          } else if (!ours && tag.rfind("T", 0) == 0) {
            ours = true;
            if (!reply.empty()) say(reply);
            if (close_after) {
              ::close(fd);
              return;
            }
          }
        }
      }
      ::close(fd);
    });
  }
  ~FakeImapServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  ImapOptions options() const {
    ImapOptions o;
    o.url = "imap://127.0.0.1:" + std::to_string(port_) + "/INBOX";
    o.allow_insecure = true;
    o.username = "u";
    o.password = "p";
    o.connect_timeout = 3s;
    o.command_timeout = 1s;
    return o;
  }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

ImapError::Kind noop_error(const std::string& reply, bool close_after,
                           std::chrono::steady_clock::duration* took = nullptr) {
  FakeImapServer server(reply, close_after);
  ImapClient c(server.options());
  c.connect();
  const auto t0 = std::chrono::steady_clock::now();
  const auto kind = error_kind([&] { c.noop(); });
  if (took) *took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(c.connected());
  return kind;
}

}  // namespace

TEST(ImapClientFakeServer, SilentServerIsATimeoutAtTheDeadline) {
  std::chrono::steady_clock::duration took{};
  EXPECT_EQ(noop_error("", false, &took), ImapError::Kind::timeout);
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

TEST(ImapClientFakeServer, ByeThenCloseIsABye) {
  EXPECT_EQ(noop_error("* BYE going away\r\n", true), ImapError::Kind::bye);
}

TEST(ImapClientFakeServer, CloseWithoutByeIsANetworkError) {
  EXPECT_EQ(noop_error("", true), ImapError::Kind::network);
}

TEST(ImapClientFakeServer, GarbageIsAProtocolError) {
  EXPECT_EQ(noop_error("\x01\x02 garbage\r\n", false), ImapError::Kind::protocol);
  EXPECT_EQ(noop_error("* 1 FETCH (BODY[] {99999999999})\r\n", false), ImapError::Kind::protocol);
  EXPECT_EQ(noop_error("T999 OK wrong tag\r\n", false), ImapError::Kind::protocol);
}

// Plaintext (allow_insecure) only to loopback, the host read as curl reads it.
TEST(ImapClientFakeServer, PlaintextToAHostThatIsNotLoopbackIsRefused) {
  FakeImapServer server("", false);
  ImapOptions o = server.options();
  o.url = "imap://other-host?@127.0.0.1:143/INBOX";
  ImapClient c(o);
  EXPECT_EQ(error_kind([&] { c.connect(); }), ImapError::Kind::usage);
  EXPECT_FALSE(c.connected());
}

TEST(ImapClientFakeServer, PlainImapWithoutAllowInsecureRequiresStartTls) {
  FakeImapServer server("", false);
  ImapOptions o = server.options();
  o.allow_insecure = false;  // the fake server offers no STARTTLS
  ImapClient c(o);
  const auto kind = error_kind([&] { c.connect(); });
  EXPECT_TRUE(kind == ImapError::Kind::tls || kind == ImapError::Kind::network) << to_string(kind);
  EXPECT_FALSE(c.connected());
}
