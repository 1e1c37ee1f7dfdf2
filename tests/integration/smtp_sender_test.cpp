// smtp_send against real OpenSMTPD + Dovecot on loopback (tests/integration/mailservers.sh), and
// against a scripted fake SMTP server in this file for the replies a real server will not give on
// demand (a dropped connection after the data, 554/451 to the data, 530, a failed AUTH).
//
// The real servers come from $TILSKUDD_MAIL_DIR when it is set (mailservers.sh start is run on it
// and is idempotent; old mail does not matter: every test uses a new recipient); otherwise the
// suite starts them in a temporary directory (needs root) and stops them at the end. Without
// root, dovecot or smtpd the real-server tests are skipped; the fake-server tests always run.
#include "daemon/smtp_sender.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "parsers/mime.h"
#include "tests/support/mail_servers.h"
#include "tests/support/tcp_proxy.h"
#include "workflow/outgoing.h"

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

using namespace tilskudd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Outcome = SendOutcome;

namespace {

// ------------------------------------------------------------------------------------------------
// Real servers (the pattern of imap_client_test.cpp)

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

// A recipient nobody has used before: this process, this moment, a counter.
std::string unique_local_part() {
  static int counter = 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return "smtptest-" + std::to_string(::getpid()) + "-" + std::to_string(ms) + "-" +
         std::to_string(++counter);
}

SmtpOptions real_options() {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + env("TILSKUDD_SMTP_PORT");
  o.allow_insecure = true;  // the test smtpd offers no STARTTLS
  o.connect_timeout = 10s;
  o.timeout = 20s;
  return o;
}

fs::path maildir(const std::string& domain, const std::string& local) {
  return fs::path(g_servers->dir) / "mail" / domain / local / "Maildir";
}

// The first message file in `md`'s new/ or cur/, waiting up to `wait`.
std::optional<fs::path> wait_for_delivery(const fs::path& md, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (fs::directory_iterator it(md / sub, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file()) return it->path();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(100ms);
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string crlf_to_lf(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out += s[i];
  }
  return out;
}

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
      std::string tmpl = (fs::temp_directory_path() / "tilskudd-mail-XXXXXX").string();
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
  }
  static void TearDown() {
    if (g_servers && g_servers->started_here) {
      run(script() + " stop '" + g_servers->dir + "'");
      fs::remove_all(g_servers->dir);
    }
    delete g_servers;
    g_servers = nullptr;
  }
};

class SmtpSenderIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { MailServers::SetUp(); }
  static void TearDownTestSuite() { MailServers::TearDown(); }
  void SetUp() override {
    if (!g_servers || !g_servers->skip_reason.empty()) {
      GTEST_SKIP() << (g_servers ? g_servers->skip_reason : "no servers");
    }
  }
};

// A real decision letter, rendered from the repo's templates and composed.
struct SentLetter {
  outgoing::RenderedLetter rendered;
  std::string raw;
};

SentLetter decision_letter(const std::string& to) {
  const auto templates =
      outgoing::load_templates(fs::path(TILSKUDD_SOURCE_DIR) / "config" / "templates");
  outgoing::LetterInput in;
  in.case_number = "20/30298";
  in.case_ref = "TT-2026-0042";
  in.owner = "Solsikken Barnehage AS";
  in.org_number = "987654325";
  in.applicant_reference = "SOL-2020-7";
  in.round = "2020-09-01";
  in.total = 55000;
  in.lines = {
      {"Ola Hansen", rules::Outcome::approved, 55000,
       "Staten har innvilget kr 40 000; kommunen dekker resten av kostnaden, kr 55 000."},
      {"Per Ødegård", rules::Outcome::rejected, 0, "Utdanningen gir ikke rett til tilskudd."}};
  in.received = "2020-08-15";
  in.letter_date = "2026-11-24";
  SentLetter l;
  l.rendered = outgoing::render(templates, OutboxKind::decision, in);
  l.rendered.body += ".\n.linje som starter med punktum\n";  // SMTP dot-stuffing must be undone
  outgoing::OutgoingMail m;
  m.from = "Asker kommune – Oppvekst <post@asker.test>";
  m.to = to;
  m.subject = l.rendered.subject;
  m.body = l.rendered.body;
  m.message_id = outgoing::make_message_id("TT-2026-0042", "decision", 1, "asker.test");
  m.case_ref = "TT-2026-0042";
  m.date = "Tue, 24 Nov 2026 12:00:00 +0000";
  l.raw = outgoing::compose(m);
  return l;
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
  ::close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

}  // namespace

TEST_F(SmtpSenderIntegration, ComposedLetterArrivesByteForByte) {
  const std::string local = unique_local_part();
  const std::string to = local + "@solsikken.test";
  const SentLetter l = decision_letter(to);
  const SmtpResult r = smtp_send(real_options(), "post@asker.test", to, l.raw);
  ASSERT_EQ(r.outcome, Outcome::accepted) << r.detail;
  EXPECT_EQ(r.response_code, 250);
  EXPECT_FALSE(r.data_handed_over);

  const auto file = wait_for_delivery(maildir("solsikken.test", local), 10s);
  ASSERT_TRUE(file) << "not delivered to " << maildir("solsikken.test", local);
  const std::string stored = slurp(*file);
  // Dovecot's Maildir stores LF line ends and the servers prepend trace headers (Return-Path,
  // Delivered-To, Received): otherwise the file is our message, byte for byte.
  const std::string expected = crlf_to_lf(l.raw);
  ASSERT_GE(stored.size(), expected.size());
  EXPECT_EQ(stored.substr(stored.size() - expected.size()), expected);

  const mime::Message msg = mime::parse(stored);
  EXPECT_EQ(msg.headers.subject, l.rendered.subject);
  ASSERT_EQ(msg.parts.size(), 1u);
  EXPECT_EQ(msg.parts[0].body, l.rendered.body);
  ASSERT_EQ(msg.headers.from.size(), 1u);
  EXPECT_EQ(msg.headers.from[0].display_name, "Asker kommune – Oppvekst");
  EXPECT_EQ(msg.headers.get("X-Tilskudd-Case"), "TT-2026-0042");
}

TEST_F(SmtpSenderIntegration, EnvelopeAddressesInNameFormAreReduced) {
  const std::string local = unique_local_part();
  const std::string to = local + "@solsikken.test";
  const SentLetter l = decision_letter(to);
  const SmtpResult r =
      smtp_send(real_options(), "Asker kommune <post@asker.test>", "Kari <" + to + ">", l.raw);
  ASSERT_EQ(r.outcome, Outcome::accepted) << r.detail;
  const auto file = wait_for_delivery(maildir("solsikken.test", local), 10s);
  ASSERT_TRUE(file);
  EXPECT_EQ(slurp(*file).rfind("Return-Path: <post@asker.test>\n", 0), 0u);
}

TEST_F(SmtpSenderIntegration, ClosedPortIsTemporaryBeforeAnyData) {
  SmtpOptions o = real_options();
  o.url = "smtp://127.0.0.1:" + std::to_string(free_port());
  const SmtpResult r = smtp_send(o, "post@asker.test", "kari@solsikken.test", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_EQ(r.response_code, 0);
  EXPECT_NE(r.detail.find("connect"), std::string::npos) << r.detail;
}

TEST_F(SmtpSenderIntegration, RecipientTheServerRejectsIsPermanent) {
  const std::string bad = unique_local_part() + "..x@solsikken.test";  // "..": bad syntax
  const SmtpResult r = smtp_send(real_options(), "post@asker.test", bad, decision_letter(bad).raw);
  EXPECT_EQ(r.outcome, Outcome::permanent) << r.detail;
  EXPECT_GE(r.response_code, 500);
  EXPECT_LT(r.response_code, 600);
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("RCPT TO"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("syntax"), std::string::npos) << r.detail;  // the server's own words
}

TEST_F(SmtpSenderIntegration, SmtpWithoutAllowInsecureNeedsStartTls) {
  const std::string local = unique_local_part();
  const std::string to = local + "@solsikken.test";
  SmtpOptions o = real_options();
  o.allow_insecure = false;
  const SmtpResult r = smtp_send(o, "post@asker.test", to, decision_letter(to).raw);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("STARTTLS"), std::string::npos) << r.detail;
  // No plaintext fallback: nothing was delivered.
  EXPECT_FALSE(wait_for_delivery(maildir("solsikken.test", local), 1500ms));
}

TEST_F(SmtpSenderIntegration, SmtpsToAPlaintextPortIsATlsError) {
  SmtpOptions o = real_options();
  o.url = "smtps://127.0.0.1:" + env("TILSKUDD_SMTP_PORT");
  o.ca_file = env("TILSKUDD_MAIL_CA");
  o.timeout = 10s;
  const SmtpResult r = smtp_send(o, "post@asker.test", "kari@solsikken.test", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_FALSE(r.data_handed_over);
}

// Plaintext (allow_insecure) only to loopback, the host read as curl reads it: the client itself
// refuses, whatever the config check let through.
TEST(SmtpSenderLocal, PlaintextToAHostThatIsNotLoopbackIsRefused) {
  SmtpOptions o;
  o.allow_insecure = true;
  o.connect_timeout = 2s;
  for (const char* url : {"smtp://other-host?@127.0.0.1:25", "smtp://10.0.0.1:25"}) {
    o.url = url;
    const SmtpResult r = smtp_send(o, "post@asker.test", "kari@x.no", "Subject: x\r\n\r\n");
    EXPECT_EQ(r.outcome, Outcome::temporary) << url;
    EXPECT_NE(r.detail.find("loopback"), std::string::npos) << r.detail;
    EXPECT_EQ(r.response_code, 0) << "nothing was sent";
  }
  o.url = "SMTP://127.0.0.1:" + std::to_string(free_port());  // upper case is still smtp://
  const SmtpResult r = smtp_send(o, "post@asker.test", "kari@x.no", "Subject: x\r\n\r\n");
  EXPECT_EQ(r.detail.find("must start with"), std::string::npos) << r.detail;
}

TEST(SmtpSenderLocal, MalformedAddressesAreRefusedWithoutConnecting) {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + std::to_string(free_port());
  o.allow_insecure = true;
  for (std::string rcpt : {"", "kari@x.no\r\nRSET", "kari @x.no", "<>", "<kari@x.no"}) {
    const SmtpResult r = smtp_send(o, "post@asker.test", rcpt, "Subject: x\r\n\r\n");
    EXPECT_EQ(r.outcome, Outcome::permanent) << rcpt;
    EXPECT_NE(r.detail.find("invalid recipient"), std::string::npos) << r.detail;
    EXPECT_EQ(r.response_code, 0);
  }
  SmtpResult r = smtp_send(o, "post@asker.test\nRSET", "kari@x.no", "x");
  EXPECT_EQ(r.outcome, Outcome::temporary);
  EXPECT_NE(r.detail.find("envelope sender"), std::string::npos) << r.detail;
  o.url = "http://127.0.0.1/";
  r = smtp_send(o, "post@asker.test", "kari@x.no", "x");
  EXPECT_EQ(r.outcome, Outcome::temporary);
  EXPECT_NE(r.detail.find("smtps://"), std::string::npos) << r.detail;
}

// ------------------------------------------------------------------------------------------------
// A scripted fake SMTP server: one connection, replies chosen per test.

namespace {

enum class Script {
  accept,           // 250 to the end of data
  drop_after_data,  // reads the whole message and its dot, then closes without a reply
  reject_data_554,  // 554 to the end of data
  defer_data_451,   // 451 to the end of data
  drop_after_rcpt,  // closes the connection instead of answering DATA
  mail_from_530,    // 530 authentication required to MAIL FROM
  auth_fails_535,   // advertises AUTH PLAIN LOGIN and rejects the credentials
};

class FakeSmtp {
 public:
  explicit FakeSmtp(Script script) : script_(script) {
    listen_fd_ = tilskudd::testing::listen_loopback(1, &port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSmtp() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  // The message as received (dot-stuffing undone, without the terminating dot); valid after
  // smtp_send returned.
  std::string data() {
    if (thread_.joinable()) thread_.join();
    return data_;
  }
  std::string commands() {
    if (thread_.joinable()) thread_.join();
    return commands_;
  }

 private:
  bool read_line(int fd, std::string& line) {
    line.clear();
    while (true) {
      const auto nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return true;
      }
      char tmp[4096];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  static void say(int fd, const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

  void serve() {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    say(fd, "220 fake ESMTP\r\n");
    std::string line;
    while (read_line(fd, line)) {
      const std::string verb = line.substr(0, 4);
      commands_ += verb + "\n";
      if (verb == "EHLO") {
        say(fd, script_ == Script::auth_fails_535
                    ? "250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                    : "250-fake\r\n250 8BITMIME\r\n");
      } else if (verb == "AUTH") {
        if (line.find(' ', 5) == std::string::npos) {  // no initial response: ask for it
          say(fd, "334 \r\n");
          if (!read_line(fd, line)) break;
        }
        say(fd, "535 5.7.8 Authentication credentials invalid\r\n");
      } else if (verb == "MAIL") {
        say(fd, script_ == Script::mail_from_530 ? "530 5.7.0 Authentication required\r\n"
                                                 : "250 2.1.0 Ok\r\n");
      } else if (verb == "RCPT") {
        say(fd, "250 2.1.5 Ok\r\n");
      } else if (verb == "DATA") {
        if (script_ == Script::drop_after_rcpt) break;
        say(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
        while (read_line(fd, line) && line != ".") {
          if (!line.empty() && line[0] == '.') line.erase(0, 1);
          data_ += line + "\r\n";
        }
        if (script_ == Script::drop_after_data) break;
        if (script_ == Script::reject_data_554) {
          say(fd, "554 5.7.1 Message rejected as spam\r\n");
        } else if (script_ == Script::defer_data_451) {
          say(fd, "451 4.3.0 Temporary failure, try later\r\n");
        } else {
          say(fd, "250 2.0.0 Ok: queued as 42\r\n");
        }
      } else if (verb == "QUIT") {
        say(fd, "221 2.0.0 Bye\r\n");
        break;
      } else {
        say(fd, "502 5.5.2 Command not recognized\r\n");
      }
    }
    ::close(fd);
  }

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string buf_;
  std::string data_;
  std::string commands_;
};

SmtpOptions fake_options(const FakeSmtp& f) {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + std::to_string(f.port());
  o.allow_insecure = true;
  o.connect_timeout = 5s;
  o.timeout = 10s;
  return o;
}

const std::string kMessage =
    "From: post@asker.test\r\nTo: kari@x.no\r\nSubject: Vedtak 20/30298\r\n\r\nHei\r\n"
    ".punktum\r\n.\r\nslutt\r\n";

}  // namespace

TEST(SmtpSenderFake, AcceptedMessageIsDotStuffedAndComplete) {
  FakeSmtp f(Script::accept);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::accepted) << r.detail;
  EXPECT_EQ(r.response_code, 250);
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("queued as 42"), std::string::npos) << r.detail;
  EXPECT_EQ(f.data(), kMessage);
}

TEST(SmtpSenderFake, DropAfterTheDataIsTheUncertainWindow) {
  FakeSmtp f(Script::drop_after_data);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_TRUE(r.data_handed_over) << r.detail;
  EXPECT_EQ(f.data(), kMessage);  // the server really had all of it
  EXPECT_NE(r.detail.find("may have accepted"), std::string::npos) << r.detail;
}

TEST(SmtpSenderFake, DropBeforeDataIsNotHandedOver) {
  FakeSmtp f(Script::drop_after_rcpt);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_EQ(f.data(), "");
}

TEST(SmtpSenderFake, RejectionOfTheDataIsPermanentAndCertain) {
  FakeSmtp f(Script::reject_data_554);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::permanent) << r.detail;
  EXPECT_EQ(r.response_code, 554);
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("rejected as spam"), std::string::npos) << r.detail;
}

TEST(SmtpSenderFake, DeferralOfTheDataIsTemporary) {
  FakeSmtp f(Script::defer_data_451);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_EQ(r.response_code, 451);
  EXPECT_FALSE(r.data_handed_over);
}

TEST(SmtpSenderFake, AuthenticationRequiredAtMailFromIsTemporary) {
  FakeSmtp f(Script::mail_from_530);
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_EQ(r.response_code, 530);
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("MAIL FROM"), std::string::npos) << r.detail;
}

TEST(SmtpSenderFake, LoginDeniedIsTemporaryAndNeverShowsThePassword) {
  FakeSmtp f(Script::auth_fails_535);
  SmtpOptions o = fake_options(f);
  o.username = "post@asker.test";
  o.password = "hemmelig-passord-123";
  const SmtpResult r = smtp_send(o, "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::temporary) << r.detail;
  EXPECT_FALSE(r.data_handed_over);
  EXPECT_NE(r.detail.find("login denied"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("hemmelig-passord-123"), std::string::npos) << r.detail;
  // Not even base64-encoded (AUTH PLAIN/LOGIN send it so).
  EXPECT_EQ(r.detail.find("aGVtbWVsaWct"), std::string::npos) << r.detail;
  EXPECT_NE(f.commands().find("AUTH"), std::string::npos);
  EXPECT_EQ(f.commands().find("MAIL"), std::string::npos);
}

TEST(SmtpSenderFake, NoAuthWithoutUsername) {
  FakeSmtp f(Script::auth_fails_535);  // would reject any AUTH
  const SmtpResult r = smtp_send(fake_options(f), "post@asker.test", "kari@x.no", kMessage);
  EXPECT_EQ(r.outcome, Outcome::accepted) << r.detail;
  EXPECT_EQ(f.commands().find("AUTH"), std::string::npos);
}

namespace {

// curl_global_init is the caller's job (smtp_sender.h): once, before any test thread.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { curl_global_init(CURL_GLOBAL_DEFAULT); }
  void TearDown() override { curl_global_cleanup(); }
};

[[maybe_unused]] ::testing::Environment* const g_curl_env =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

}  // namespace
