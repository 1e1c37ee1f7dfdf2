// The config file (docs/CONTRACT.md §3) and the roster CSV: what loads, and that every error names
// the file and the key.
#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace tilskudd::config {
namespace {

namespace fs = std::filesystem;

const std::string kYear = R"(
[year.2020]
deadlines = ["2020-12-01", "2020-09-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "BLU_DELTID"]
)";

const std::string kFull = R"(
[mailbox]
url = "imaps://imap.example.org/INBOX"
username = "post@asker.kommune.no"
password_file = "/run/credentials/tilskudd.service/imap-password"
allow_insecure = false
poll_interval_seconds = 60

[smtp]
url = "smtps://smtp.example.org"
username = ""
password_file = ""
from = "Asker kommune <post@asker.kommune.no>"
allow_insecure = false

[store]
path = "/var/lib/tilskudd/tilskudd.db"

[case]
number = "20/30298"
)" + kYear;

// Expects parse() to throw a ConfigError whose message contains every one of `parts`.
void expect_error(const std::string& toml, std::initializer_list<std::string> parts,
                  const fs::path& base = fs::temp_directory_path()) {
  try {
    parse(toml, base, "tilskudd.toml");
    ADD_FAILURE() << "no error for:\n" << toml;
  } catch (const ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("tilskudd.toml"), std::string::npos) << m;
    for (const auto& p : parts)
      EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' in: " << m;
  }
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("tilskudd-config-test-" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  fs::path path_;
};

// --- What loads -----------------------------------------------------------------------------

TEST(ConfigParse, ContractExampleLoads) {
  Config c = parse(kFull, "/etc/tilskudd");
  EXPECT_EQ(c.mailbox.url, "imaps://imap.example.org/INBOX");
  EXPECT_EQ(c.mailbox.poll_interval_seconds, 60);
  EXPECT_EQ(c.mailbox.keyword, "$Tilskudd");
  EXPECT_EQ(c.smtp.from, "Asker kommune <post@asker.kommune.no>");
  EXPECT_EQ(c.store.path, "/var/lib/tilskudd/tilskudd.db");
  EXPECT_EQ(c.case_.number, "20/30298");
  ASSERT_EQ(c.years.count(2020), 1u);
  const Year& y = c.years.at(2020);
  EXPECT_EQ(y.year, 2020);
  EXPECT_EQ(y.cap_per_student_when_state_rejected, 75000);
  EXPECT_FALSE(y.cap_per_student_when_state_granted);
  EXPECT_EQ(y.programmes, (std::vector<Programme>{Programme::ABLU, Programme::BLU_DELTID}));
  EXPECT_FALSE(y.roster);
  EXPECT_NO_THROW(validate_for_daemon(c));
}

TEST(ConfigParse, MailboxSinceIsADayOrNothing) {
  EXPECT_EQ(parse(kFull, ".").mailbox.since, "");
  EXPECT_EQ(parse("[mailbox]\nsince = \"2026-08-01\"\n" + kYear, ".").mailbox.since, "2026-08-01");
  expect_error("[mailbox]\nsince = \"2026-02-30\"\n" + kYear, {"since", "YYYY-MM-DD"});
  expect_error("[mailbox]\nsince = \"1 August\"\n" + kYear, {"since", "YYYY-MM-DD"});
}

TEST(ConfigParse, DeadlinesAreSortedOnLoad) {
  Config c = parse(kYear, ".");
  EXPECT_EQ(c.years.at(2020).deadlines, (std::vector<Date>{Date{2020, 9, 1}, Date{2020, 12, 1}}));
}

TEST(ConfigParse, TomlDatesAreAcceptedAsDeadlines) {
  Config c = parse(R"(
[year.2021]
deadlines = [2021-09-01, "2021-12-01"]
cap_per_student_when_state_rejected = 80000
cap_per_student_when_state_granted = 20000
programmes = ["ablu"]
)",
                   ".");
  const Year& y = c.years.at(2021);
  EXPECT_EQ(y.deadlines, (std::vector<Date>{Date{2021, 9, 1}, Date{2021, 12, 1}}));
  EXPECT_EQ(y.cap_per_student_when_state_granted, 20000);
  EXPECT_EQ(y.programmes, std::vector<Programme>{Programme::ABLU});
}

TEST(ConfigParse, MailboxSmtpStoreAreOptionalForInspect) {
  Config c = parse(kYear, ".");
  EXPECT_TRUE(c.mailbox.url.empty());
  EXPECT_EQ(c.case_.number, "20/30298");
}

TEST(ConfigParse, LimitsAreRead) {
  Config c = parse(kYear + R"(
[limits]
max_message_bytes = 1000
max_parts = 10
max_depth = 3
max_header_bytes = 500
max_attachment_bytes = 2000
max_docx_uncompressed_bytes = 3000
pdf_max_pages = 4
pdf_max_text_bytes = 5000
pdf_timeout_seconds = 6
pdf_memory_bytes = 7000
)",
                   ".");
  EXPECT_EQ(c.limits.mime.max_message_bytes, 1000u);
  EXPECT_EQ(c.limits.mime.max_parts, 10u);
  EXPECT_EQ(c.limits.mime.max_depth, 3);
  EXPECT_EQ(c.limits.mime.max_header_bytes, 500u);
  EXPECT_EQ(c.limits.max_attachment_bytes, 2000u);
  EXPECT_EQ(c.limits.pdf.max_input_bytes, 2000u);
  EXPECT_EQ(c.limits.max_docx_uncompressed_bytes, 3000u);
  EXPECT_EQ(c.limits.pdf.max_pages, 4);
  EXPECT_EQ(c.limits.pdf.max_text_bytes, 5000u);
  EXPECT_EQ(c.limits.pdf.timeout_ms, 6000);
  EXPECT_EQ(c.limits.pdf.memory_bytes, 7000u);
}

TEST(ConfigParse, AllowUnconfinedDocumentsIsOffUnlessSet) {
  EXPECT_FALSE(parse(kYear, ".").limits.allow_unconfined_documents);
  EXPECT_TRUE(parse(kYear + "[limits]\nallow_unconfined_documents = true\n", ".")
                  .limits.allow_unconfined_documents);
  expect_error(kYear + "[limits]\nallow_unconfined_documents = \"yes\"\n",
               {"allow_unconfined_documents"});
}

TEST(ConfigParse, EvidenceDefaultsAreEighteenMonthsAndTheStateDomains) {
  Config c = parse(kYear, ".");
  EXPECT_EQ(c.evidence.max_letter_age_days, 548);
  EXPECT_EQ(c.evidence.state_domains,
            (std::vector<std::string>{"statsforvalteren.no", "fylkesmannen.no"}));
}

TEST(ConfigParse, EvidenceIsRead) {
  Config c = parse(kYear + R"(
[evidence]
max_letter_age_days = 400
state_domains = ["Statsforvalteren.no", "sfov.example.no"]
)",
                   ".");
  EXPECT_EQ(c.evidence.max_letter_age_days, 400);
  EXPECT_EQ(c.evidence.state_domains,
            (std::vector<std::string>{"statsforvalteren.no", "sfov.example.no"}));
}

TEST(ConfigParse, ExampleConfigInTheRepositoryLoads) {
  fs::path example = fs::path(TILSKUDD_SOURCE_DIR) / "config" / "tilskudd.example.toml";
  Config c = load(example);
  EXPECT_EQ(c.source, example);
  ASSERT_EQ(c.years.count(2020), 1u);
  ASSERT_TRUE(c.years.at(2020).roster);
  EXPECT_FALSE(c.years.at(2020).roster->empty());
  EXPECT_NO_THROW(validate_for_daemon(c));
  // The example keeps the defaults: sampling on, authentication required.
  EXPECT_EQ(c.controls.audit_sample_percent, 5);
  EXPECT_TRUE(c.sender.require_authentication);
}

// Issue 12: the controls on automatic money and the fail-closed sender default.
TEST(ConfigParse, ControlsAndSenderDefaultsFailClosed) {
  Config c = parse(kYear, fs::temp_directory_path(), "tilskudd.toml");
  EXPECT_EQ(c.controls.max_auto_line_amount, 150000);
  EXPECT_EQ(c.controls.max_auto_case_amount, 500000);
  EXPECT_EQ(c.controls.audit_sample_percent, 5);
  EXPECT_TRUE(c.sender.require_authentication);
  EXPECT_FALSE(c.sender.checks_authentication());
  EXPECT_TRUE(c.sender.fails_closed());
}

TEST(ConfigParse, ControlsAndSenderOptOutAreRead) {
  Config c = parse(kYear + R"(
[controls]
max_auto_line_amount = 80000
max_auto_case_amount = 0
audit_sample_percent = 100

[sender]
require_authentication = false
)",
                   fs::temp_directory_path(), "tilskudd.toml");
  EXPECT_EQ(c.controls.max_auto_line_amount, 80000);
  EXPECT_EQ(c.controls.max_auto_case_amount, 0);
  EXPECT_EQ(c.controls.audit_sample_percent, 100);
  EXPECT_FALSE(c.sender.require_authentication);
  EXPECT_FALSE(c.sender.fails_closed());
  // An authserv-id configured: the check runs, nothing fails closed.
  Config d = parse(kYear + "[sender]\nauthserv_ids = [\"mx.asker.kommune.no\"]\n",
                   fs::temp_directory_path(), "tilskudd.toml");
  EXPECT_TRUE(d.sender.require_authentication);
  EXPECT_FALSE(d.sender.fails_closed());
}

TEST(ConfigErrors, ControlsOutOfRangeOrUnknown) {
  expect_error(kYear + "[controls]\naudit_sample_percent = 101\n",
               {"[controls]", "audit_sample_percent", "too large"});
  expect_error(kYear + "[controls]\nmax_auto_line_amount = -1\n",
               {"[controls]", "max_auto_line_amount", "too small"});
  expect_error(kYear + "[controls]\nmax_auto_case_amount = \"500000\"\n",
               {"max_auto_case_amount", "integer"});
  expect_error(kYear + "[controls]\nsample = 5\n", {"[controls]", "sample", "unknown key"});
  expect_error(kYear + "[sender]\nrequire_authentication = 0\n",
               {"[sender]", "require_authentication", "true or false"});
}

// --- Errors name the key --------------------------------------------------------------------

TEST(ConfigErrors, TomlSyntaxErrorHasLineAndColumn) {
  expect_error("[mailbox]\nurl = \"imaps://x\nusername = 1\n", {"tilskudd.toml:2:", "syntax"});
}

TEST(ConfigErrors, UnknownTopLevelSection) {
  expect_error(kYear + "[imap]\nurl = \"x\"\n", {"imap", "unknown section"});
}

TEST(ConfigErrors, UnknownKeyInSection) {
  expect_error(kYear + "[mailbox]\npasword_file = \"x\"\n", {"[mailbox]", "pasword_file"});
}

TEST(ConfigErrors, UnknownKeyInYear) {
  expect_error(kYear + "cap = 1\n", {"[year.2020]", "cap", "unknown key"});
}

TEST(ConfigErrors, UnknownKeyInLimits) {
  expect_error(kYear + "[limits]\nmax_size = 1\n", {"[limits]", "max_size"});
}

TEST(ConfigErrors, SectionThatIsNotATable) {
  expect_error("store = \"x\"\n" + kYear, {"[store]", "table"});
}

TEST(ConfigErrors, WrongTypeString) {
  expect_error(kYear + "[mailbox]\nurl = 5\n", {"[mailbox]", "url", "string"});
}

TEST(ConfigErrors, WrongTypeBool) {
  expect_error(kYear + "[smtp]\nallow_insecure = \"yes\"\n",
               {"[smtp]", "allow_insecure", "true or false"});
}

TEST(ConfigErrors, WrongTypeInteger) {
  expect_error(kYear + "[mailbox]\npoll_interval_seconds = \"60\"\n",
               {"poll_interval_seconds", "integer"});
}

TEST(ConfigErrors, PollIntervalBelowOne) {
  expect_error(kYear + "[mailbox]\npoll_interval_seconds = 0\n",
               {"[mailbox]", "poll_interval_seconds", "at least 1"});
}

TEST(ConfigErrors, BadDateMonth13) {
  expect_error(R"([year.2020]
deadlines = ["2020-09-01", "2020-13-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"[year.2020]", "deadlines[1]", "2020-13-01", "not a date"});
}

TEST(ConfigErrors, BadDateInProse) {
  expect_error(R"([year.2020]
deadlines = ["1. september"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"deadlines[0]", "1. september"});
}

TEST(ConfigErrors, BadTomlDateIsASyntaxError) {
  expect_error(R"([year.2020]
deadlines = [2020-13-01]
)",
               {"tilskudd.toml:2:"});
}

TEST(ConfigErrors, DeadlineNotANumberOrDate) {
  expect_error(R"([year.2020]
deadlines = [20200901]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"deadlines[0]", "date"});
}

TEST(ConfigErrors, DeadlineNotInItsYear) {
  expect_error(R"([year.2020]
deadlines = ["2021-09-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"[year.2020]", "deadlines[0]", "not in 2020"});
}

TEST(ConfigErrors, DeadlinesEmpty) {
  expect_error(R"([year.2020]
deadlines = []
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"[year.2020]", "deadlines", "empty"});
}

TEST(ConfigErrors, DeadlinesMissing) {
  expect_error("[year.2020]\ncap_per_student_when_state_rejected = 75000\nprogrammes = []\n",
               {"[year.2020]", "deadlines", "missing"});
}

TEST(ConfigErrors, YearKeyNotFourDigits) {
  expect_error(R"([year.twenty]
deadlines = ["2020-09-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU"]
)",
               {"[year]", "twenty", "4-digit year"});
  expect_error(R"([year.20200]
deadlines = ["2020-09-01"]
)",
               {"20200", "4-digit year"});
}

TEST(ConfigErrors, MissingYear) {
  expect_error("[case]\nnumber = \"20/30298\"\n", {"[year]", "missing year"});
  expect_error("[year]\n", {"missing year"});
}

TEST(ConfigErrors, NegativeCap) {
  expect_error(R"([year.2020]
deadlines = ["2020-09-01"]
cap_per_student_when_state_rejected = -1
programmes = ["ABLU"]
)",
               {"[year.2020]", "cap_per_student_when_state_rejected", "too small"});
  expect_error(kYear + "cap_per_student_when_state_granted = -5\n",
               {"cap_per_student_when_state_granted", "too small"});
}

TEST(ConfigErrors, CapWithDecimals) {
  expect_error(R"([year.2020]
deadlines = ["2020-09-01"]
cap_per_student_when_state_rejected = 75000.5
programmes = ["ABLU"]
)",
               {"cap_per_student_when_state_rejected", "integer"});
}

TEST(ConfigErrors, MissingRejectedCap) {
  expect_error("[year.2020]\ndeadlines = [\"2020-09-01\"]\nprogrammes = [\"ABLU\"]\n",
               {"cap_per_student_when_state_rejected", "missing"});
}

TEST(ConfigErrors, UnknownProgrammeCodeIsNamed) {
  expect_error(R"([year.2020]
deadlines = ["2020-09-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "MASTER"]
)",
               {"[year.2020]", "programmes[1]", "MASTER"});
}

TEST(ConfigErrors, ProgrammesMissing) {
  expect_error(
      "[year.2020]\ndeadlines = [\"2020-09-01\"]\ncap_per_student_when_state_rejected = 1\n",
      {"programmes", "missing"});
}

TEST(ConfigErrors, RosterUnreadable) {
  expect_error(kYear + "roster = \"does-not-exist.csv\"\n",
               {"[year.2020]", "roster", "does-not-exist.csv", "cannot read"});
}

TEST(ConfigErrors, LimitNotPositive) {
  expect_error(kYear + "[limits]\nmax_parts = 0\n", {"[limits]", "max_parts"});
}

TEST(ConfigErrors, EmptyCaseNumber) {
  expect_error(kYear + "[case]\nnumber = \" \"\n", {"[case]", "number"});
}

TEST(ConfigErrors, EvidenceKeysAreChecked) {
  expect_error(kYear + "[evidence]\nmax_age = 1\n", {"[evidence]", "max_age"});
  expect_error(kYear + "[evidence]\nmax_letter_age_days = 0\n",
               {"[evidence]", "max_letter_age_days"});
  expect_error(kYear + "[evidence]\nstate_domains = \"statsforvalteren.no\"\n",
               {"[evidence]", "state_domains", "array"});
  expect_error(kYear + "[evidence]\nstate_domains = []\n", {"state_domains", "empty"});
  expect_error(kYear + "[evidence]\nstate_domains = [\"post@statsforvalteren.no\"]\n",
               {"state_domains[0]", "not a mail domain"});
  expect_error(kYear + "[evidence]\nstate_domains = [\"a.no\", \"A.no\"]\n",
               {"state_domains[1]", "twice"});
  expect_error(kYear + "[evidence]\nstate_domains = [1]\n", {"state_domains[0]", "string"});
}

TEST(ConfigErrors, LoadNamesTheFile) {
  try {
    load("/nonexistent/tilskudd.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tilskudd.toml"), std::string::npos);
  }
}

// --- Roster ---------------------------------------------------------------------------------

TEST(Roster, RelativePathIsTakenFromTheConfigsFolder) {
  TempDir dir;
  dir.write("roster.csv", "employee,programme,org_number\nOla Hansen,ABLU,987654325\n");
  fs::path cfg = dir.write("tilskudd.toml", kYear + "roster = \"roster.csv\"\n");
  Config c = load(cfg);
  const Year& y = c.years.at(2020);
  ASSERT_TRUE(y.roster);
  ASSERT_EQ(y.roster->size(), 1u);
  EXPECT_EQ((*y.roster)[0].employee, "Ola Hansen");
  EXPECT_EQ(y.roster_path, (dir.path() / "roster.csv").string());
}

TEST(Roster, BomCrlfQuotesAnyOrderBlankLines) {
  auto r = parse_roster(
      "\xEF\xBB\xBFOrg_Number,EMPLOYEE,Programme\r\n"
      "\r\n"
      "\"987 654 325\",\"Hansen, Ola\",Arbeidsplassbasert barnehagelærerutdanning\r\n"
      "123456785,\"Per \"\"P\"\" Olsen\",BLU deltid\r\n"
      ",Kari Berg,ABLU\r\n"
      "\r\n",
      "roster.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].employee, "Hansen, Ola");
  EXPECT_EQ(r[0].programme, Programme::ABLU);
  EXPECT_EQ(r[0].org_number, "987654325");
  EXPECT_EQ(r[1].employee, "Per \"P\" Olsen");
  EXPECT_EQ(r[1].programme, Programme::BLU_DELTID);
  EXPECT_EQ(r[2].org_number, "");
}

TEST(Roster, SemicolonSeparatedFromExcel) {
  auto r = parse_roster("employee;programme;org_number\nOla Hansen;ABLU;987654325\n", "r.csv");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].org_number, "987654325");
}

void expect_roster_error(std::string_view csv, std::initializer_list<std::string> parts) {
  try {
    parse_roster(csv, "roster-2020.csv");
    ADD_FAILURE() << "no error for:\n" << csv;
  } catch (const ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("roster-2020.csv"), std::string::npos) << m;
    for (const auto& p : parts)
      EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' in: " << m;
  }
}

TEST(Roster, BadHeader) {
  expect_roster_error("name,programme,org_number\n", {":1:", "bad header", "name"});
  expect_roster_error("employee,programme\nOla,ABLU\n", {"bad header"});
  expect_roster_error("employee,employee,org_number\n", {"twice"});
  expect_roster_error("", {"empty"});
}

TEST(Roster, BadRowNamesTheLine) {
  expect_roster_error("employee,programme,org_number\nOla Hansen,ABLU,987654325\nPer,ABLU\n",
                      {":3:", "3 fields"});
}

// Issue 12 "The roster is data": a row naming another programme is accepted (before, it stopped
// the start); that employee's line is not eligible (rules_test RosterOtherProgramme...).
TEST(Roster, OtherProgrammeIsAcceptedAsData) {
  auto r = parse_roster(
      "employee,programme,org_number\nOla Hansen,Master,987654325\n"
      "Kari Lie,Videreutdanning i barnehagepedagogikk,\nPer Dahl,ABLU,\n",
      "r.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].programme, Programme::OTHER);
  EXPECT_EQ(r[0].programme_text, "Master");
  EXPECT_EQ(r[1].programme, Programme::OTHER);
  EXPECT_EQ(r[1].programme_text, "Videreutdanning i barnehagepedagogikk");
  EXPECT_EQ(r[2].programme, Programme::ABLU);
}

TEST(Roster, EmptyProgrammeIsABrokenRow) {
  expect_roster_error("employee,programme,org_number\nOla Hansen, ,987654325\n",
                      {":2:", "programme", "empty"});
}

TEST(Roster, OrgNumberMustBeDigits) {
  expect_roster_error("employee,programme,org_number\nOla Hansen,ABLU,98765432X\n",
                      {":2:", "org_number"});
  expect_roster_error("employee,programme,org_number\nOla Hansen,ABLU,987654321\n",
                      {":2:", "org_number", "mod-11"});
}

TEST(Roster, EmptyName) {
  expect_roster_error("employee,programme,org_number\n ,ABLU,\n", {":2:", "employee"});
}

TEST(Roster, UnterminatedQuote) {
  expect_roster_error("employee,programme,org_number\n\"Ola Hansen,ABLU,\n", {":2:", "quoted"});
}

TEST(Roster, InvalidUtf8) {
  expect_roster_error("employee,programme,org_number\nOla H\xF8nsen,ABLU,\n", {"UTF-8"});
}

TEST(Roster, HostileInputDoesNotCrash) {
  std::string junk(10000, '"');
  EXPECT_THROW(parse_roster(junk, "x.csv"), ConfigError);
  std::string many = "employee,programme,org_number\n";
  for (int i = 0; i < 5000; ++i) many += "\"A" + std::to_string(i) + "\",ABLU,\n";
  EXPECT_EQ(parse_roster(many, "x.csv").size(), 5000u);
}

// --- validate_for_daemon --------------------------------------------------------------------

TEST(ValidateForDaemon, RequiresMailboxSmtpStore) {
  Config c = parse(kYear, ".");
  try {
    validate_for_daemon(c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[mailbox] url"), std::string::npos) << e.what();
  }
}

// imap:// and smtp:// are STARTTLS (required, no plaintext fallback): secure, to any host.
TEST(ValidateForDaemon, StartTlsUrlsAreAcceptedWithoutAllowInsecure) {
  Config c = parse(kFull, ".");
  for (const char* url : {"imap://imap.example.org/INBOX", "imap://outlook.office365.com:143/INBOX",
                          "IMAP://imap.example.org/INBOX"}) {
    c.mailbox.url = url;
    EXPECT_NO_THROW(validate_for_daemon(c)) << url;
  }
  // Microsoft's documented submission endpoint.
  c.smtp.url = "smtp://smtp.office365.com:587";
  EXPECT_NO_THROW(validate_for_daemon(c));
}

// allow_insecure = true means plaintext, and is for a server on this machine only.
TEST(ValidateForDaemon, PlaintextOnlyToLoopback) {
  Config c = parse(kFull, ".");
  c.mailbox.allow_insecure = true;
  for (const char* url : {"imap://127.0.0.1:1143/INBOX", "imap://localhost/INBOX",
                          "imap://[::1]:143/INBOX", "imap://user@127.0.0.2/INBOX",
                          "imap://LOCALHOST:143/INBOX", "imap://user:pw@127.0.0.1:143/INBOX"}) {
    c.mailbox.url = url;
    EXPECT_NO_THROW(validate_for_daemon(c)) << url;
  }
  // Read as curl reads them: each of these connects somewhere else than this machine.
  for (const char* url : {"imap://imap.example.org/INBOX", "imap://127.0.0.1.evil.example/INBOX",
                          "imap://10.0.0.1/INBOX", "imap://localhost.example.org/INBOX",
                          "imap://other-host?@127.0.0.1", "imap://other-host?@127.0.0.1/INBOX",
                          "imap://other-host#@127.0.0.1", "imap://other-host/INBOX?x=@127.0.0.1",
                          "imap://127.0.0.1@other-host/INBOX", "imap://[::1]@other-host/INBOX"}) {
    c.mailbox.url = url;
    try {
      validate_for_daemon(c);
      ADD_FAILURE() << url << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("[mailbox] url"), std::string::npos) << e.what();
    }
  }
  // The message says what to do instead.
  c.mailbox.url = "imap://other-host?@127.0.0.1";
  try {
    validate_for_daemon(c);
    FAIL();
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'other-host'"), std::string::npos) << what;
    EXPECT_NE(what.find("loopback"), std::string::npos) << what;
    EXPECT_NE(what.find("STARTTLS"), std::string::npos) << what;
  }
  // imaps:// is TLS whatever allow_insecure says.
  c.mailbox.url = "imaps://imap.example.org/INBOX";
  EXPECT_NO_THROW(validate_for_daemon(c));

  c = parse(kFull, ".");
  c.smtp.allow_insecure = true;
  c.smtp.url = "smtp://smtp.office365.com:587";
  EXPECT_THROW(validate_for_daemon(c), ConfigError) << "plaintext, not loopback";
  c.smtp.url = "smtp://evil.example?@127.0.0.1:2525";
  EXPECT_THROW(validate_for_daemon(c), ConfigError) << "curl connects to evil.example";
  c.smtp.url = "smtp://127.0.0.1:2525";
  EXPECT_NO_THROW(validate_for_daemon(c));
}

TEST(ValidateForDaemon, UrlsCurlCannotReadAreRefused) {
  Config c = parse(kFull, ".");
  for (const char* url : {"imap//host/INBOX", "host/INBOX", "imap://", "imap://ho st/INBOX"}) {
    c.mailbox.url = url;
    EXPECT_THROW(validate_for_daemon(c), ConfigError) << url;
  }
}

TEST(LoopbackHost, DottedQuadsOnly) {
  EXPECT_TRUE(loopback_host("127.0.0.1"));
  EXPECT_TRUE(loopback_host("127.255.0.9"));
  EXPECT_TRUE(loopback_host("[::1]"));
  EXPECT_FALSE(loopback_host("127.0.0.1.evil.example"));
  EXPECT_FALSE(loopback_host("127.0.0"));
  EXPECT_FALSE(loopback_host("127..0.1"));
  EXPECT_FALSE(loopback_host("127.0.0.1234"));
  EXPECT_FALSE(loopback_host("127.0.0.1."));
  EXPECT_FALSE(loopback_host("::ffff:127.0.0.1"));
  // curl normalises other IPv4 spellings before we see them.
  EXPECT_EQ(parse_mail_url("imap://0x7f.1/INBOX")->host, "127.0.0.1");
  EXPECT_EQ(parse_mail_url("imap://other-host?@127.0.0.1")->host, "other-host");
}

TEST(ValidateForDaemon, OtherSchemesAreRefused) {
  Config c = parse(kFull, ".");
  c.mailbox.url = "https://example.org";
  c.mailbox.allow_insecure = true;
  EXPECT_THROW(validate_for_daemon(c), ConfigError);
}

TEST(ValidateForDaemon, OAuth2MailboxNeedsTheTokenEndpoint) {
  Config c = parse(kFull, ".");
  c.mailbox.password_file.clear();
  c.mailbox.oauth2_token_file.clear();
  EXPECT_THROW(validate_for_daemon(c), ConfigError);
  c.mailbox.oauth2 = true;
  try {
    validate_for_daemon(c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[oauth2] token_url"), std::string::npos) << e.what();
  }
  Config o = parse(kFull + std::string(R"(
[oauth2]
token_url = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
client_id = "abc"
client_secret_file = "secret"
scope = "https://outlook.office365.com/.default"
)"),
                   "/etc/tilskudd");
  EXPECT_EQ(o.oauth2.client_secret_file, "/etc/tilskudd/secret");
  o.mailbox.password_file.clear();
  o.mailbox.oauth2 = true;
  EXPECT_NO_THROW(validate_for_daemon(o));
}

TEST(ValidateForDaemon, SmtpFromIsRequired) {
  Config c = parse(kFull, ".");
  c.smtp.from.clear();
  try {
    validate_for_daemon(c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[smtp] from"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilskudd::config
