// tests/integration/mailservers.sh itself: two test mail systems run at once on one machine.
// OpenSMTPD's queue and control socket are compiled in (/var/spool/smtpd, /var/run/smtpd.sock);
// mailservers.sh gives each smtpd a mount namespace of its own, so a second suite's servers
// start while the first one's run, and each delivers into its own Dovecot.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
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

// The processes other than this one with `path` open ("pid (comm)", space-separated).
std::string holders_of(const std::string& path) {
  std::string out;
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (pid == std::to_string(::getpid())) continue;
    std::error_code e2;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fd", e2)) {
      std::error_code e3;
      if (fs::read_symlink(fd.path(), e3) == path) {
        std::ifstream comm(proc.path() / "comm");
        std::string name;
        std::getline(comm, name);
        out += pid + " (" + name + ") ";
        break;
      }
    }
  }
  return out;
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

// The suite runs under `flock /work/mail.lock ctest ...`: the lock's descriptor is inherited by
// ctest and the test. A server started by the test must not keep it, or a test that crashes
// leaves a server holding the lock for ever and every later suite waits. Here the test holds
// such a lock itself (an inherited descriptor, without FD_CLOEXEC, as flock(1) leaves it),
// starts servers (a second Dovecot + OpenSMTPD, and Cyrus), lets its descriptor go, and the lock
// must be free while they still run.
TEST(MailServersTest, ServersStartedByATestDoNotInheritItsLock) {
  MailServers& first = MailServers::get();
  if (!first.skip_reason.empty()) GTEST_SKIP() << first.skip_reason;
  std::string tmpl = (fs::temp_directory_path() / "tilskudd-lock-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string second = tmpl + "/mail";
  const std::string lock = tmpl + "/mail.lock";
  int fd = ::open(lock.c_str(), O_RDONLY | O_CREAT, 0644);  // no O_CLOEXEC, as flock(1)
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  std::string out;
  const int started = run_command(kScript + " start '" + second + "' 2>&1", &out);
  struct Stop {
    std::string dir, second;
    ~Stop() {
      run_command(kScript + " stop '" + second + "' >/dev/null 2>&1");
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } stop{tmpl, second};
  ASSERT_EQ(started, 0) << out;
  ImapServer& cyrus = ImapServer::get("Cyrus");  // started here, with the lock held
  ::close(fd);

  ASSERT_EQ(::kill(smtpd_pid(second), 0), 0);
  const int again = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(again, 0);
  const int rc = ::flock(again, LOCK_EX | LOCK_NB);
  ::close(again);
  EXPECT_EQ(rc, 0) << "a server started by the test still holds the lock: " << holders_of(lock);
  if (!cyrus.skip_reason().empty()) GTEST_SKIP() << cyrus.skip_reason();
}

}  // namespace
