// `tilskudd` as a user runs it: the real binary, its exit codes (the table at the top of
// daemon/main.cpp), stdout and stderr. `inspect`; every store subcommand's failures; `--version`
// and a wrong command line; `config check` on a good config and on each kind of problem.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/support.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class InspectCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tilskudd-inspect-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  CliRun run(const std::string& args) { return shell(std::string(TILSKUDD_BINARY) + " " + args); }

  // Runs a shell command line, stdout and stderr apart.
  CliRun shell(const std::string& command) {
    fs::path err = dir_ / "stderr.txt";
    std::string cmd = command + " 2>" + err.string();
    CliRun r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = testing::read_file(err);
    return r;
  }

  fs::path good_config() {
    return write("tilskudd.toml",
                 "[case]\nnumber = \"20/30298\"\n\n[year.2020]\n"
                 "deadlines = [\"2020-09-01\", \"2020-12-01\"]\n"
                 "cap_per_student_when_state_rejected = 75000\n"
                 "programmes = [\"ABLU\", \"BLU_DELTID\"]\n");
  }

  fs::path dir_;
};

TEST_F(InspectCli, MailWithoutCaseNumberIsIgnoredWithExitZero) {
  auto cfg = good_config();
  auto msg = write("m.eml",
                   "From: Ola <ola@example.no>\r\nTo: post@asker.kommune.no\r\n"
                   "Subject: Hull i veien\r\nDate: Tue, 1 Sep 2020 10:00:00 +0200\r\n"
                   "Message-ID: <a@b>\r\n\r\nDet er et hull i veien ved skolen.\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["case_number_found"], false);
  EXPECT_EQ(j["ignored_reason"], "no_case_number");
  EXPECT_EQ(j["decision"]["status"], "ignored");
}

// Memory follows the message, not [limits] max_message_bytes (64 MiB): a 100-byte message used
// to cost a zero-filled buffer of the whole limit (80 MB peak). The child's own peak, from
// wait4; not under a sanitizer, whose shadow memory is part of every resident set.
TEST_F(InspectCli, SmallMessageCostsLittleMemoryWhateverTheLimit) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "resident sizes mean nothing under a sanitizer";
#endif
  auto cfg = good_config();
  auto msg = write("m.eml", "Subject: Hei\r\n\r\nHei.\r\n");
  const std::string bin = TILSKUDD_BINARY;
  const std::string cfg_s = cfg.string(), msg_s = msg.string();
  const char* argv[] = {bin.c_str(), "inspect", "--config", cfg_s.c_str(), msg_s.c_str(), nullptr};
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::execv(bin.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  ASSERT_EQ(::wait4(pid, &status, 0, &ru), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(ru.ru_maxrss, 40 * 1024) << "peak resident KiB for a 29-byte message";
}

TEST_F(InspectCli, GarbageInputStillYieldsJson) {
  auto cfg = good_config();
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>((i * 7919) % 256);
  auto msg = write("junk.eml", junk);
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.contains("decision"));
  EXPECT_TRUE(j.contains("flags"));
}

TEST_F(InspectCli, UnknownConfigKeyIsNamedAndExitsNonZero) {
  auto cfg = write("bad.toml",
                   "[case]\nnumbr = \"20/30298\"\n[year.2020]\ndeadlines = [\"2020-09-01\"]\n"
                   "programmes = [\"ABLU\"]\n");
  auto msg = write("m.eml", "Subject: x\r\n\r\nx\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("numbr"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(InspectCli, BadDeadlineIsNamed) {
  auto cfg = write("bad.toml",
                   "[case]\nnumber = \"20/30298\"\n[year.2020]\n"
                   "deadlines = [\"2020-13-01\"]\nprogrammes = [\"ABLU\"]\n");
  auto msg = write("m.eml", "Subject: x\r\n\r\nx\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("deadlines"), std::string::npos) << r.err;
}

TEST_F(InspectCli, ConfigWithoutYearIsAnError) {
  auto cfg = write("bad.toml", "[case]\nnumber = \"20/30298\"\n");
  auto msg = write("m.eml", "Subject: x\r\n\r\nx\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("year"), std::string::npos) << r.err;
}

TEST_F(InspectCli, MissingMessageFileExitsOne) {
  auto cfg = good_config();
  CliRun r = run("inspect --config " + cfg.string() + " " + (dir_ / "nope.eml").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.eml"), std::string::npos);
}

TEST_F(InspectCli, BadReceivedDateIsRefused) {
  auto cfg = good_config();
  auto msg = write("m.eml", "Subject: x\r\n\r\nx\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " --received 2020-02-30 " + msg.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--received"), std::string::npos);
}

TEST_F(InspectCli, DecidesABodyFormWithAForwardedGrant) {
  auto cfg = write("tilskudd.toml",
                   "[case]\nnumber = \"20/30298\"\n\n[year.2020]\n"
                   "deadlines = [\"2020-09-01\", \"2020-12-01\"]\n"
                   "cap_per_student_when_state_rejected = 75000\n"
                   "programmes = [\"ABLU\", \"BLU_DELTID\"]\nroster = \"roster.csv\"\n"
                   "[sender]\nrequire_authentication = false\n"
                   "[controls]\naudit_sample_percent = 0\n");
  write("roster.csv", "employee,programme,org_number\nOla Hansen,ABLU,987654325\n");
  auto msg = write(
      "app.eml",
      "From: Kari Nordmann <kari@solsikken.no>\r\nTo: post@asker.kommune.no\r\n"
      "Subject: =?UTF-8?Q?S=C3=B8knad_tilretteleggingstilskudd_20/30298?=\r\n"
      "Date: Mon, 17 Aug 2020 09:12:00 +0200\r\nMessage-ID: <app1@solsikken.no>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n"
      "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\r\n"
      "Saksnummer: 20/30298\r\nBarnehageeier: Solsikken Barnehage AS\r\n"
      "Organisasjonsnummer: 987 654 325\r\nBarnehage: Solsikken barnehage\r\n"
      "Kontaktperson: Kari Nordmann\r\nE-post: kari@solsikken.no\r\n"
      "Kontonummer: 1234 56 78903\r\nDeres referanse: SOL-2020-7\r\n\r\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\r\n\r\n"
      "---------- Videresendt melding ---------\r\n"
      "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\r\n"
      "Dato: fre. 14. aug. 2020 kl. 10:02\r\n"
      "Emne: Tildeling av tilretteleggingsmidler\r\n\r\n"
      "Statsforvalteren i Oslo og Viken tildeler Solsikken Barnehage AS "
      "tilretteleggingsmidler for Ola Hansen med kr 40 000.\r\n");
  CliRun r = run("inspect --config " + cfg.string() + " " + msg.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["case_number_found"], true);
  EXPECT_EQ(j["application"]["org_number"], "987654325");
  EXPECT_EQ(j["decision"]["round"], "2020-09-01");
  ASSERT_EQ(j["decision"]["lines"].size(), 1u) << r.out;
  EXPECT_EQ(j["decision"]["lines"][0]["amount"], 55000) << r.out;
  EXPECT_EQ(j["decision"]["status"], "decided") << r.out;
}

// ---- every subcommand: one exit code per kind of failure ----------------------------------

class Cli : public InspectCli {
 protected:
  // A config whose [store] path is a folder: loads, but the store cannot be opened.
  fs::path config_with_store(const fs::path& store) {
    return write("store.toml", "[store]\npath = \"" + store.string() +
                                   "\"\n[smtp]\nfrom = \"Asker kommune <post@asker.kommune.no>\"\n"
                                   "[case]\nnumber = \"20/30298\"\n[year.2020]\n"
                                   "deadlines = [\"2020-09-01\", \"2020-12-01\"]\n"
                                   "cap_per_student_when_state_rejected = 75000\n"
                                   "programmes = [\"ABLU\", \"BLU_DELTID\"]\n");
  }
};

// Every subcommand that opens the store, with its other arguments.
const std::vector<std::string> kStoreCommands = {
    "cases list",
    "cases flagged",
    "cases show TT-2020-0001",
    "cases resolve TT-2020-0001 --by kari --approve",
    "cases resend TT-2020-0001 --by kari",
    "payout export --round 2020-09-01",
    "payout schedule --round 2020-09-01 --by kari",
    "payout mark-paid --round 2020-09-01 --by kari",
    "store verify",
};

TEST_F(Cli, StoreFailureIsExitTwoFromEveryStoreSubcommand) {
  auto cfg = config_with_store(dir_);  // a folder, not a database
  for (const std::string& command : kStoreCommands) {
    CliRun r = run(command + " --config " + cfg.string());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("tilskudd: store " + dir_.string() + ": cannot open"), std::string::npos)
        << command << ": " << r.err;
    EXPECT_EQ(r.out, "") << command;
  }
}

TEST_F(Cli, ConfigErrorIsExitTwoFromEveryStoreSubcommand) {
  auto cfg = write("bad.toml", "[case]\nnumbr = \"20/30298\"\n");
  for (const std::string& command : kStoreCommands) {
    CliRun r = run(command + " --config " + cfg.string());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("tilskudd: config error: "), std::string::npos) << command << r.err;
    EXPECT_NE(r.err.find("numbr"), std::string::npos) << command << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "tilskudd.db")) << "no store is created for a broken config";
}

TEST_F(Cli, WorkingStoreCommandsExitZeroOnAnEmptyStore) {
  auto cfg = config_with_store(dir_ / "tilskudd.db");
  for (const std::string command : {"cases list", "cases flagged", "store verify"}) {
    CliRun r = run(command + " --config " + cfg.string());
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
  }
  CliRun unknown = run("cases show TT-2020-0001 --config " + cfg.string());
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
}

TEST_F(Cli, VersionIsTheProjectsVersion) {
  std::smatch m;
  const std::string cmake = testing::read_file(testing::source_dir() / "CMakeLists.txt");
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(tilskudd VERSION ([0-9.]+))")));
  CliRun r = run("--version");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex("tilskudd " + std::regex_replace(m[1].str(), std::regex("\\."), "\\.") +
                        "( \\(git [0-9a-zA-Z.+_-]+\\))?\n")))
      << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(Cli, AWrongCommandLineIsExitTwo) {
  for (const std::string args :
       {"", "frobnicate", "cases", "cases frobnicate", "config", "cases list",
        "cases list --config x.toml --jsn", "payout export --config x.toml --round 2020-02-30",
        "cases resolve TT-2020-0001 --config x.toml --by kari"}) {
    CliRun r = run(args);
    EXPECT_EQ(r.exit_code, 2) << "'" << args << "': " << r.out << r.err;
    EXPECT_NE(r.err, "") << args;
  }
  CliRun typo = run("cases list --config x.toml --jsn");
  EXPECT_NE(typo.err.find("--jsn"), std::string::npos) << typo.err;
  CliRun help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* sub : {"inspect", "run", "cases", "payout", "store", "config"})
    EXPECT_NE(help.out.find(std::string("  ") + sub + " "), std::string::npos) << help.out;
}

// ---- config check ----------------------------------------------------------------------------

class ConfigCheckCli : public InspectCli {
 protected:
  void SetUp() override {
    InspectCli::SetUp();
    secret("imap-password", "hemmelig\n");
    write("roster.csv", "employee,programme,org_number\nOla Hansen,ABLU,987654325\n");
    fs::permissions(dir_ / "roster.csv", fs::perms(0640));
  }

  fs::path secret(const std::string& name, const std::string& content) {
    fs::path p = write(name, content);
    fs::permissions(p, fs::perms(0600));
    return p;
  }

  // A complete config; `extra` is appended (TOML keeps the last table's keys apart only when
  // they are new, so each test adds whole sections), `mailbox`/`smtp` replace those sections.
  fs::path config(const std::string& extra = "", std::string mailbox = "", std::string smtp = "") {
    if (mailbox.empty())
      mailbox =
          "url = \"imaps://imap.example.org/INBOX\"\nusername = \"post@asker.kommune.no\"\n"
          "password_file = \"" +
          (dir_ / "imap-password").string() + "\"\n";
    if (smtp.empty())
      smtp =
          "url = \"smtps://smtp.example.org\"\nfrom = \"Asker kommune <post@asker.kommune.no>\"\n";
    return write("tilskudd.toml", "[mailbox]\n" + mailbox + "\n[smtp]\n" + smtp +
                                      "\n[store]\npath = \"" +
                                      (dir_ / "state" / "tilskudd.db").string() +
                                      "\"\n[case]\nnumber = \"20/30298\"\n"
                                      "[sender]\nauthserv_ids = [\"mx.asker.kommune.no\"]\n"
                                      "[year.2020]\ndeadlines = [\"2020-09-01\", \"2020-12-01\"]\n"
                                      "cap_per_student_when_state_rejected = 75000\n"
                                      "programmes = [\"ABLU\", \"BLU_DELTID\"]\n"
                                      "roster = \"roster.csv\"\n" +
                                      extra);
  }

  CliRun check(const fs::path& cfg) { return run("config check --config " + cfg.string()); }

  // The line about `subject`, "" when there is none.
  static std::string line(const CliRun& r, const std::string& level, const std::string& subject) {
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(level + "  " + subject + ": ", 0) == 0) return l;
    return "";
  }
};

TEST_F(ConfigCheckCli, AGoodConfigIsOkOnEveryLine) {
  CliRun r = check(config());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::istringstream in(r.out);
  int lines = 0;
  for (std::string l; std::getline(in, l); ++lines) {
    if (l.rfind("config check: ", 0) == 0) {
      EXPECT_EQ(l.rfind("config check: ok (as ", 0), 0u) << l;
      continue;
    }
    EXPECT_EQ(l.rfind("ok    ", 0), 0u) << l;
  }
  EXPECT_GE(lines, 8) << r.out;
  EXPECT_NE(line(r, "ok  ", "[mailbox] password_file"), "") << r.out;
  EXPECT_NE(line(r, "ok  ", "[year.2020] roster").find("1 student"), std::string::npos) << r.out;
  EXPECT_NE(line(r, "ok  ", "[store] path (its folder)").find("the daemon creates it"),
            std::string::npos)
      << r.out;
  EXPECT_NE(line(r, "ok  ", "[letters] templates"), "") << r.out;
  EXPECT_NE(line(r, "ok  ", "pdftotext"), "") << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "state")) << "a check creates nothing";
}

TEST_F(ConfigCheckCli, WarningsAloneDoNotFail) {
  // No roster for the year, and sender authenticity not checked.
  std::string text = testing::read_file(config());
  text = std::regex_replace(text, std::regex("roster = \"roster.csv\"\n"), "");
  text = std::regex_replace(text, std::regex("authserv_ids = \\[[^\\]]*\\]"), "authserv_ids = []");
  CliRun r = check(write("warn.toml", text));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(line(r, "warn", "[year.2020] roster").find("flagged for a person"), std::string::npos)
      << r.out;
  EXPECT_NE(line(r, "warn", "[sender] authserv_ids"), "") << r.out;
  EXPECT_NE(r.out.find("config check: ok, 2 warning(s)"), std::string::npos) << r.out;
}

TEST_F(ConfigCheckCli, AConfigThatDoesNotLoadFails) {
  write("roster.csv", "employee,programme,org_number\nOla Hansen,ABLU,987654325,extra\n");
  CliRun r = check(config());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "config").find("roster"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("config check: 1 problem(s)"), std::string::npos) << r.out;
  CliRun missing = check(dir_ / "nope.toml");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(line(missing, "FAIL", "config").find("nope.toml"), std::string::npos) << missing.out;
}

TEST_F(ConfigCheckCli, TheDaemonsRulesForUrlsAndKeys) {
  // Plaintext (allow_insecure) to a host that is not this machine, as curl reads the URL: the
  // daemon refuses it (config.cpp), so does the check.
  CliRun insecure = check(config("",
                                 "url = \"imap://imap.example.org?@127.0.0.1/INBOX\"\n"
                                 "allow_insecure = true\nusername = \"u\"\n"
                                 "password_file = \"" +
                                     (dir_ / "imap-password").string() + "\"\n"));
  EXPECT_EQ(insecure.exit_code, 1) << insecure.out;
  EXPECT_NE(line(insecure, "FAIL", "daemon settings").find("[mailbox] url"), std::string::npos)
      << insecure.out;
  // SMTP AUTH without a password.
  CliRun auth = check(config("", "",
                             "url = \"smtps://smtp.example.org\"\nusername = \"post\"\n"
                             "from = \"Asker kommune <post@asker.kommune.no>\"\n"));
  EXPECT_EQ(auth.exit_code, 1) << auth.out;
  EXPECT_NE(line(auth, "FAIL", "daemon settings").find("[smtp] password_file"), std::string::npos)
      << auth.out;
}

TEST_F(ConfigCheckCli, PasswordFileMissingWorldReadableOrEmpty) {
  fs::remove(dir_ / "imap-password");
  CliRun missing = check(config());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(line(missing, "FAIL", "[mailbox] password_file").find("No such file"),
            std::string::npos)
      << missing.out;

  secret("imap-password", "hemmelig\n");
  fs::permissions(dir_ / "imap-password", fs::perms(0644));
  CliRun world = check(config());
  EXPECT_EQ(world.exit_code, 1);
  EXPECT_NE(line(world, "FAIL", "[mailbox] password_file").find("every user (mode 0644)"),
            std::string::npos)
      << world.out;

  secret("imap-password", "\n");
  CliRun empty = check(config());
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(line(empty, "FAIL", "[mailbox] password_file").find("is empty"), std::string::npos)
      << empty.out;
}

TEST_F(ConfigCheckCli, StoreFolderThatCannotBeUsed) {
  write("state", "a file where the store's folder should be");
  CliRun r = check(config());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(line(r, "FAIL", "[store] path (its folder)").find("not a folder"), std::string::npos)
      << r.out;
}

// The daemon refuses to start on a world-writable store folder and makes loose store files
// private (daemon/private_files.h); config check says so first and changes nothing.
TEST_F(ConfigCheckCli, WorldWritableStoreFolderFailsAndALooseStoreIsNamed) {
  fs::create_directories(dir_ / "state");
  fs::permissions(dir_ / "state", fs::perms(0777));
  CliRun r = check(config());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "[store] path (its folder)").find("writable by every user"),
            std::string::npos)
      << r.out;

  fs::permissions(dir_ / "state", fs::perms(0700));
  write("state/tilskudd.db", "");
  fs::permissions(dir_ / "state" / "tilskudd.db", fs::perms(0644));
  r = check(config());
  EXPECT_NE(line(r, "warn", "[store] path").find("the daemon makes it private (0600)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(fs::status(dir_ / "state" / "tilskudd.db").permissions(), fs::perms(0644));
}

TEST_F(ConfigCheckCli, StoreFolderNotWritableByTheRunningUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the check as another user";
  if (shell("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv missing";
  fs::create_directories(dir_ / "state");
  fs::permissions(dir_, fs::perms(0755));
  auto cfg = config();
  fs::permissions(cfg, fs::perms(0644));
  fs::permissions(dir_ / "roster.csv", fs::perms(0644));
  CliRun r = shell("setpriv --reuid=65534 --regid=65534 --clear-groups " +
                   std::string(TILSKUDD_BINARY) + " config check --config " + cfg.string());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "[store] path (its folder)").find("is not writable by"),
            std::string::npos)
      << r.out;
  // The password file is root's 0600: unreadable for that user.
  EXPECT_NE(line(r, "FAIL", "[mailbox] password_file").find("cannot be read"), std::string::npos)
      << r.out;
}

TEST_F(ConfigCheckCli, TemplatesAndCaFile) {
  write("ca.pem", "not a certificate\n");
  CliRun r = check(config("[letters]\ntemplates = \"" + (dir_ / "no-templates").string() + "\"\n",
                          "url = \"imaps://imap.example.org/INBOX\"\nusername = \"u\"\n"
                          "password_file = \"" +
                              (dir_ / "imap-password").string() + "\"\nca_file = \"" +
                              (dir_ / "ca.pem").string() + "\"\n"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(line(r, "FAIL", "[letters] templates").find("no-templates"), std::string::npos)
      << r.out;
  EXPECT_NE(line(r, "FAIL", "[mailbox] ca_file").find("no PEM certificate"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("config check: 2 problem(s)"), std::string::npos) << r.out;
}

TEST_F(ConfigCheckCli, OAuthSettingsIncompleteOrItsSecretMissing) {
  const std::string oauth_mailbox =
      "url = \"imaps://imap.example.org/INBOX\"\nusername = \"u\"\n"
      "oauth2 = true\n";
  CliRun incomplete = check(config("", oauth_mailbox));
  EXPECT_EQ(incomplete.exit_code, 1) << incomplete.out;
  EXPECT_NE(line(incomplete, "FAIL", "daemon settings").find("token_url"), std::string::npos)
      << incomplete.out;

  CliRun secret_missing =
      check(config("[oauth2]\ntoken_url = \"https://login.example.org/token\"\nclient_id = \"c\"\n"
                   "client_secret_file = \"" +
                       (dir_ / "client-secret").string() + "\"\n",
                   oauth_mailbox));
  EXPECT_EQ(secret_missing.exit_code, 1) << secret_missing.out;
  EXPECT_EQ(line(secret_missing, "FAIL", "daemon settings"), "") << secret_missing.out;
  EXPECT_NE(line(secret_missing, "FAIL", "[oauth2] client_secret_file"), "") << secret_missing.out;

  secret("client-secret", "s3cret\n");
  CliRun ok =
      check(config("[oauth2]\ntoken_url = \"https://login.example.org/token\"\nclient_id = \"c\"\n"
                   "client_secret_file = \"" +
                       (dir_ / "client-secret").string() + "\"\n",
                   oauth_mailbox));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(ok.out.find("s3cret"), std::string::npos) << "no secret in the output";
}

// A kernel without Landlock or seccomp filters, played by tests/support/confine_probe.c
// ("without <layer>": a seccomp filter that answers as such a kernel does).
std::string without(const std::string& layer) {
  return (fs::read_symlink("/proc/self/exe").parent_path() / "confine_probe").string() +
         " without " + layer + " ";
}

TEST_F(ConfigCheckCli, DocumentConfinementIsReportedAndALackingKernelFailsUnlessAllowed) {
  CliRun full = check(config());
  EXPECT_NE(line(full, "ok  ", "document confinement").find("Landlock ABI"), std::string::npos)
      << full.out;
  const std::string allow = "[limits]\nallow_unconfined_documents = true\n";
  for (const std::string layer : {"landlock", "seccomp"}) {
    SCOPED_TRACE(layer);
    CliRun r =
        shell(without(layer) + TILSKUDD_BINARY + " config check --config " + config().string());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const std::string refused = line(r, "FAIL", "document confinement");
    EXPECT_NE(refused.find("allow_unconfined_documents"), std::string::npos) << r.out;
    EXPECT_NE(refused.find(layer == "landlock" ? "no Landlock" : "no seccomp"), std::string::npos)
        << refused;
    CliRun allowed = shell(without(layer) + TILSKUDD_BINARY + " config check --config " +
                           config(allow).string());
    EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
    EXPECT_NE(line(allowed, "warn", "document confinement").find("only partly confined"),
              std::string::npos)
        << allowed.out;
  }
  // Set where it is not needed: said, so that it is removed.
  CliRun needless = check(config(allow));
  EXPECT_NE(line(needless, "warn", "document confinement").find("not needed"), std::string::npos)
      << needless.out;
}

TEST_F(ConfigCheckCli, TheDaemonRefusesToStartOnAKernelWithoutLandlock) {
  CliRun r = shell(without("landlock") + TILSKUDD_BINARY + " run --config " + config().string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("document programs cannot be confined"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("allow_unconfined_documents"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "state" / "tilskudd.db")) << "it stopped before the store";
}

}  // namespace
}  // namespace tilskudd
