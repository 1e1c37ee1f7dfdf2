// `tilskudd config check --connect` against the suite's real Dovecot and OpenSMTPD: it logs in
// as the daemon would, says what the server offers, and changes nothing (the mailbox is opened
// read-only, no mail is sent); a refused login, an unreachable server and a config that fails
// offline each give their FAIL line and exit 1.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/mail_servers.h"

#ifndef TILSKUDD_BINARY
#error "TILSKUDD_BINARY must be defined"
#endif

namespace tilskudd::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
};

class ConfigCheckConnect : public ::testing::Test {
 protected:
  void SetUp() override {
    MailServers& s = MailServers::get();
    if (!s.skip_reason.empty()) GTEST_SKIP() << s.skip_reason;
    tag_ = std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    post_ = "post-cc" + tag_ + "@asker.test";
    dir_ = fs::temp_directory_path() / ("tilskudd-config-check-" + tag_);
    fs::create_directories(dir_);
    write("pw", "secret-post-cc" + tag_ + "\n", 0600);
    write("roster.csv", "employee,programme,org_number\nOla Hansen,ABLU,987654325\n", 0640);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text, unsigned mode) {
    std::ofstream(dir_ / name) << text;
    ::chmod((dir_ / name).c_str(), mode);
  }

  std::string config(const std::string& imap_url, const std::string& smtp_url,
                     const std::string& mailbox_extra = "") {
    MailServers& s = MailServers::get();
    std::ostringstream c;
    c << "[mailbox]\nurl = \"" << imap_url << "\"\nusername = \"" << post_
      << "\"\npassword_file = \"pw\"\nca_file = \"" << s.ca_file() << "\"\n"
      << mailbox_extra << "\n[smtp]\nurl = \"" << smtp_url << "\"\nfrom = \"Asker kommune <"
      << post_ << ">\"\nallow_insecure = true\n\n[store]\npath = \"state/store.db\"\n\n"
      << "[sender]\nrequire_authentication = false\n\n"
      << "[year.2020]\ndeadlines = [\"2020-09-01\", \"2020-12-01\"]\n"
      << "cap_per_student_when_state_rejected = 75000\nprogrammes = [\"ABLU\"]\n"
      << "roster = \"roster.csv\"\n";
    const std::string path = (dir_ / "tilskudd.toml").string();
    write("tilskudd.toml", c.str(), 0640);
    return path;
  }

  CliRun check(const std::string& cfg) {
    CliRun r;
    const int status = run_command(
        std::string(TILSKUDD_BINARY) + " config check --connect --config " + cfg + " 2>&1", &r.out);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  static std::string line(const CliRun& r, const std::string& level, const std::string& subject) {
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(level + "  " + subject + ": ", 0) == 0) return l;
    return "";
  }

  fs::path dir_;
  std::string tag_;
  std::string post_;
};

TEST_F(ConfigCheckConnect, LogsInToBothServersAndChangesNothing) {
  MailServers& s = MailServers::get();
  const std::string raw =
      "From: Kari <kari@solsikken.test>\r\nTo: " + post_ +
      "\r\nSubject: Saksnr. 20/30298\r\nMessage-ID: <cc-" + tag_ +
      "@solsikken.test>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\nHei\r\n";
  smtp_deliver("kari@solsikken.test", post_, raw);
  ASSERT_TRUE(wait_for_messages(post_, 1));

  CliRun r = check(config(s.imaps_url(), s.smtp_url()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(line(r, "ok  ", "[mailbox] login").find("as " + post_), std::string::npos) << r.out;
  EXPECT_NE(line(r, "ok  ", "[mailbox] capabilities").find("IDLE"), std::string::npos) << r.out;
  EXPECT_NE(line(r, "ok  ", "[mailbox] INBOX").find("1 message(s), UIDVALIDITY "),
            std::string::npos)
      << r.out;
  // Dovecot keeps any keyword (PERMANENTFLAGS has \*).
  EXPECT_NE(line(r, "ok  ", "[mailbox] keyword").find("$Tilskudd"), std::string::npos) << r.out;
  EXPECT_NE(line(r, "ok  ", "[smtp] login").find("no mail sent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("config check: ok"), std::string::npos) << r.out;
  // No password in what it prints.
  EXPECT_EQ(r.out.find("secret-"), std::string::npos) << r.out;

  // Read-only: the message is neither seen nor marked, and the mailbox got no mail.
  const auto messages = inbox(post_);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_FALSE(has_flag(messages[0], "\\Seen"));
  EXPECT_FALSE(has_flag(messages[0], "$Tilskudd"));
}

TEST_F(ConfigCheckConnect, AMissingMoveToFolderIsAWarningNotAFailure) {
  MailServers& s = MailServers::get();
  CliRun r = check(config(s.imaps_url(), s.smtp_url(), "move_to = \"Behandlet-" + tag_ + "\"\n"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(line(r, "warn", "[mailbox] move_to").find("creates it at its first move"),
            std::string::npos)
      << r.out;
}

TEST_F(ConfigCheckConnect, ARefusedPasswordFailsTheLogin) {
  MailServers& s = MailServers::get();
  write("pw", "not-the-password\n", 0600);
  CliRun r = check(config(s.imaps_url(), s.smtp_url()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string l = line(r, "FAIL", "[mailbox] login");
  EXPECT_NE(l.find("auth"), std::string::npos) << r.out;
  EXPECT_NE(l.find("check [mailbox] username"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not-the-password"), std::string::npos) << r.out;
  // SMTP is still tried, so one run shows every problem.
  EXPECT_NE(line(r, "ok  ", "[smtp] login"), "") << r.out;
}

TEST_F(ConfigCheckConnect, AnSmtpServerThatIsNotThereFailsItsLine) {
  MailServers& s = MailServers::get();
  // Port 9 (discard) on loopback: nothing listens there on a test machine.
  CliRun r = check(config(s.imaps_url(), "smtp://127.0.0.1:9"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "[smtp] login").find("127.0.0.1:9"), std::string::npos) << r.out;
  EXPECT_NE(line(r, "ok  ", "[mailbox] login"), "") << r.out;
}

TEST_F(ConfigCheckConnect, NothingIsContactedWhenTheOfflineChecksFail) {
  MailServers& s = MailServers::get();
  const std::string cfg = config(s.imaps_url(), s.smtp_url());
  fs::remove(dir_ / "pw");
  CliRun r = check(cfg);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "connect").find("not tried"), std::string::npos) << r.out;
  EXPECT_EQ(line(r, "ok  ", "[mailbox] login"), "") << r.out;
}

}  // namespace
}  // namespace tilskudd::testing
