// tests/integration/mailservers.sh itself: two test mail systems run at once on one machine.
// OpenSMTPD's queue and control socket are compiled in (/var/spool/smtpd, /var/run/smtpd.sock);
// mailservers.sh gives each smtpd a mount namespace of its own, so a second suite's servers
// start while the first one's run, and each delivers into its own Dovecot.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/mail_servers.h"

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

using namespace tilskudd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kScript = std::string(TILSKUDD_SOURCE_DIR) + "/tests/integration/mailservers.sh";

// The messages delivered to user@domain in the instance at `dir` (its maildir's new/ and cur/).
std::size_t maildir_count(const std::string& dir, const std::string& domain,
                          const std::string& user) {
  std::size_t n = 0;
  for (const char* sub : {"new", "cur"}) {
    const fs::path p = fs::path(dir) / "mail" / domain / user / "Maildir" / sub;
    std::error_code ec;
    for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  }
  return n;
}

bool wait_count(const std::string& dir, const std::string& domain, const std::string& user,
                std::size_t count) {
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (maildir_count(dir, domain, user) < count) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

pid_t smtpd_pid(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "smtpd.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

std::string mail(const std::string& subject) {
  return "From: a@example.test\r\nTo: b@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" +
         subject + "@example.test>\r\n\r\nHei.\r\n";
}

TEST(MailServersTest, SecondInstanceStartsWhileTheFirstRunsAndEachDeliversToItsOwnDovecot) {
  MailServers& first = MailServers::get();
  if (!first.skip_reason.empty()) GTEST_SKIP() << first.skip_reason;
  if (run_command("unshare -m true 2>/dev/null") != 0)
    GTEST_SKIP() << "unshare -m is not allowed here: mailservers.sh falls back to one smtpd";
  const std::string tag = std::to_string(::getpid());
  const std::string user = "two" + tag;

  std::string tmpl = (fs::temp_directory_path() / "tilskudd-mail2-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string second = tmpl;
  std::string out;
  ASSERT_EQ(run_command(kScript + " start '" + second + "' 2>&1", &out), 0) << out;
  struct Stop {
    std::string dir;
    ~Stop() {
      run_command(kScript + " stop '" + dir + "' >/dev/null 2>&1");
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } stop{second};

  // Both smtpds run, each with its queue and control socket in its own directory.
  const pid_t p1 = smtpd_pid(first.dir), p2 = smtpd_pid(second);
  ASSERT_GT(p1, 0);
  ASSERT_GT(p2, 0);
  EXPECT_NE(p1, p2);
  EXPECT_EQ(::kill(p1, 0), 0) << "the first smtpd stopped when the second started";
  EXPECT_EQ(::kill(p2, 0), 0);
  EXPECT_TRUE(fs::exists(fs::path(second) / "smtpd" / "run" / "smtpd.sock"));
  EXPECT_TRUE(fs::is_directory(fs::path(second) / "smtpd" / "spool" / "queue"));

  std::string env2;
  ASSERT_EQ(run_command(kScript + " env '" + second + "'", &env2), 0);
  const auto at = env2.find("TILSKUDD_SMTP_PORT=");
  ASSERT_NE(at, std::string::npos) << env2;
  const std::string port2 = env2.substr(at + 19, env2.find('\n', at) - at - 19);
  ASSERT_NE(port2, first.var("TILSKUDD_SMTP_PORT"));

  // Each instance delivers into its own Dovecot, and only there.
  smtp_deliver_at(first.smtp_url(), "a@example.test", user + "@one.test", mail("one" + tag));
  smtp_deliver_at("smtp://127.0.0.1:" + port2, "a@example.test", user + "@two.test",
                  mail("two" + tag));
  ASSERT_TRUE(wait_count(first.dir, "one.test", user, 1));
  ASSERT_TRUE(wait_count(second, "two.test", user, 1));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(maildir_count(first.dir, "two.test", user), 0u);
  EXPECT_EQ(maildir_count(second, "one.test", user), 0u);

  // The second stopped: the first goes on delivering.
  ASSERT_EQ(run_command(kScript + " stop '" + second + "' 2>&1", &out), 0) << out;
  EXPECT_NE(::kill(p2, 0), 0) << "the second smtpd outlived its stop";
  smtp_deliver_at(first.smtp_url(), "a@example.test", user + "@one.test", mail("again" + tag));
  EXPECT_TRUE(wait_count(first.dir, "one.test", user, 2));
}

}  // namespace
