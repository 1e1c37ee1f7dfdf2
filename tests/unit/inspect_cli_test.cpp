// `tilskudd inspect` as a user runs it: the real binary, its exit codes, stdout and stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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

  CliRun run(const std::string& args) {
    fs::path err = dir_ / "stderr.txt";
    std::string cmd = std::string(TILSKUDD_BINARY) + " " + args + " 2>" + err.string();
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
                   "programmes = [\"ABLU\", \"BLU_DELTID\"]\nroster = \"roster.csv\"\n");
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

}  // namespace
}  // namespace tilskudd
