// Controls on automatic money (workflow/controls.h, DECISIONS.md "Controls on automatic money"):
// the line and case limits (over_auto_limit) and the audit sample (audit_sample), on values and
// through assess(), which `inspect` and the daemon share.
#include "workflow/controls.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "parsers/text.h"
#include "workflow/assess.h"
#include "workflow/sha256.h"

namespace tilskudd::controls {
namespace {

namespace fs = std::filesystem;
using rules::CaseStatus;
using rules::Outcome;

rules::LineDecision approved(std::string name, Kroner amount) {
  rules::LineDecision l;
  l.employee = std::move(name);
  l.outcome = Outcome::approved;
  l.amount = amount;
  l.reason_code = "state_granted_remainder";
  return l;
}

rules::Decision decided(std::vector<rules::LineDecision> lines) {
  rules::Decision d;
  d.status = CaseStatus::decided;
  d.round = rules::Round{Date{2020, 9, 1}, 2020, 1};
  for (auto& l : lines) {
    if (l.outcome == Outcome::approved) d.total += l.amount;
  }
  d.lines = std::move(lines);
  return d;
}

Form form_of(const std::string& org, std::vector<std::string> names) {
  Form f;
  f.found = true;
  f.org_number = org;
  for (auto& n : names) {
    FormLine l;
    l.employee = n;
    f.lines.push_back(l);
  }
  return f;
}

bool has(const std::vector<Flag>& flags, std::string_view code) {
  return std::any_of(flags.begin(), flags.end(), [&](const Flag& f) { return f.code == code; });
}

// --- Limits ---------------------------------------------------------------------------------

TEST(ControlsLimits, ALineAtTheLimitIsApprovedAboveItIsHeld) {
  config::Controls c;  // 150 000 per line, 500 000 per case
  rules::Decision d = decided({approved("Ola Hansen", 150000), approved("Kari Berg", 150001)});
  auto added = apply_limits(d, c);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].code, "over_auto_limit");
  EXPECT_NE(added[0].reason.find("kr 150 001"), std::string::npos) << added[0].reason;
  EXPECT_NE(added[0].reason.find("max_auto_line_amount"), std::string::npos);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 150000);
  EXPECT_EQ(d.lines[1].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[1].amount, 0);
  EXPECT_EQ(d.lines[1].reason_code, "over_auto_limit");
  EXPECT_NE(d.lines[1].reason.find("saksbehandler"), std::string::npos) << d.lines[1].reason;
  EXPECT_EQ(d.total, 150000);
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has(d.flags, "over_auto_limit"));
}

TEST(ControlsLimits, ACaseAboveTheCaseLimitHoldsEveryApprovedLine) {
  config::Controls c;
  rules::Decision d = decided({approved("A Aa", 140000), approved("B Bb", 140000),
                               approved("C Cc", 140000), approved("D Dd", 140000)});
  rules::LineDecision no;
  no.employee = "E Ee";
  no.outcome = Outcome::rejected;
  no.reason_code = "programme_not_eligible";
  d.lines.push_back(no);
  auto added = apply_limits(d, c);
  EXPECT_EQ(added.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.lines[i].outcome, Outcome::flagged) << i;
  EXPECT_EQ(d.lines[4].outcome, Outcome::rejected);  // a rejection pays nothing: not held
  EXPECT_NE(added[0].reason.find("kr 560 000"), std::string::npos) << added[0].reason;
  EXPECT_EQ(d.total, 0);
  EXPECT_EQ(d.status, CaseStatus::flagged);

  // At the case limit exactly: decided as the rules said.
  rules::Decision at = decided({approved("A Aa", 100000), approved("B Bb", 150000),
                                approved("C Cc", 150000), approved("D Dd", 100000)});
  EXPECT_TRUE(apply_limits(at, c).empty());
  EXPECT_EQ(at.status, CaseStatus::decided);
  EXPECT_EQ(at.total, 500000);
}

TEST(ControlsLimits, ZeroMeansEveryApprovalWaitsForAPerson) {
  config::Controls c;
  c.max_auto_line_amount = 0;
  rules::Decision d = decided({approved("Ola Hansen", 1)});
  EXPECT_EQ(apply_limits(d, c).size(), 1u);
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

// --- Audit sample ---------------------------------------------------------------------------

// The documented material, computed here on its own: the test predicts the bucket.
int expected_bucket(const std::string& org_digits, std::vector<std::string> names,
                    const std::string& round) {
  std::vector<std::string> keys;
  for (auto& n : names) keys.push_back(text::name_key(n));
  std::sort(keys.begin(), keys.end());
  std::string m = org_digits + "|";
  for (std::size_t i = 0; i < keys.size(); ++i) m += (i ? "," : "") + keys[i];
  m += "|" + round;
  return static_cast<int>(std::stoul(sha256_hex(m).substr(0, 8), nullptr, 16) % 100);
}

TEST(ControlsSample, BucketIsTheDocumentedHashAndIgnoresLineOrder) {
  Form f = form_of("987 654 325", {"Ola Hansen", "Kari Berg"});
  rules::Decision d = decided({approved("Ola Hansen", 1000), approved("Kari Berg", 1000)});
  const int b = audit_bucket(f, d);
  EXPECT_EQ(b, expected_bucket("987654325", {"Ola Hansen", "Kari Berg"}, "2020-09-01"));
  EXPECT_GE(b, 0);
  EXPECT_LT(b, 100);
  EXPECT_EQ(audit_bucket(form_of("987654325", {"kari  berg", "Ola Hansen"}), d), b);
  // Another round is another draw; no round, no bucket.
  rules::Decision later = d;
  later.round = rules::Round{Date{2020, 12, 1}, 2020, 2};
  EXPECT_EQ(audit_bucket(f, later),
            expected_bucket("987654325", {"Ola Hansen", "Kari Berg"}, "2020-12-01"));
  d.round.reset();
  EXPECT_EQ(audit_bucket(f, d), -1);
}

TEST(ControlsSample, SampledExactlyWhenTheBucketIsBelowThePercentage) {
  Form f = form_of("987654325", {"Ola Hansen"});
  rules::Decision d = decided({approved("Ola Hansen", 55000)});
  const int b = audit_bucket(f, d);
  config::Controls c;
  c.audit_sample_percent = b;  // bucket == percent: not drawn
  rules::Decision not_drawn = d;
  EXPECT_TRUE(apply_audit_sample(not_drawn, f, c).empty());
  EXPECT_EQ(not_drawn.status, CaseStatus::decided);

  c.audit_sample_percent = b + 1;
  rules::Decision drawn = d;
  auto added = apply_audit_sample(drawn, f, c);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].code, "audit_sample");
  EXPECT_NE(added[0].reason.find("cases resolve"), std::string::npos) << added[0].reason;
  EXPECT_EQ(drawn.status, CaseStatus::flagged);
  // The lines keep what the rules decided: a person confirms them.
  EXPECT_EQ(drawn.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(drawn.total, 55000);
  EXPECT_TRUE(has(drawn.flags, "audit_sample"));
}

TEST(ControlsSample, OnlyWhatWouldBeDecidedAutomaticallyIsSampled) {
  Form f = form_of("987654325", {"Ola Hansen"});
  config::Controls all;
  all.audit_sample_percent = 100;
  for (CaseStatus s : {CaseStatus::needs_documentation, CaseStatus::flagged, CaseStatus::ignored}) {
    rules::Decision d = decided({approved("Ola Hansen", 55000)});
    d.status = s;
    EXPECT_TRUE(apply_audit_sample(d, f, all).empty());
    EXPECT_EQ(d.status, s);
  }
  config::Controls none;
  none.audit_sample_percent = 0;
  rules::Decision d = decided({approved("Ola Hansen", 55000)});
  EXPECT_TRUE(apply_audit_sample(d, f, none).empty());
}

TEST(ControlsSample, FivePercentOfManyCasesIsAboutFivePercent) {
  int drawn = 0;
  config::Controls c;  // 5
  for (int i = 0; i < 2000; ++i) {
    Form f = form_of("987654325", {"Ansatt " + std::to_string(i)});
    rules::Decision d = decided({approved("Ansatt " + std::to_string(i), 1000)});
    drawn += !apply_audit_sample(d, f, c).empty();
  }
  EXPECT_GT(drawn, 60);   // 3 %
  EXPECT_LT(drawn, 140);  // 7 %
}

// --- Through assess(): attack 5 of issue 12 ---------------------------------------------------

class ControlsAssess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tilskudd-controls-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "roster.csv") << "employee,programme,org_number\n"
                                          "Ola Hansen,ABLU,987654325\n";
    cfg_ = config::parse(R"(
[smtp]
from = "Asker kommune <post@asker.kommune.no>"

[sender]
require_authentication = false

[year.2020]
deadlines = ["2020-09-01", "2020-12-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "BLU_DELTID"]
roster = "roster.csv"
)",
                         dir_, "tilskudd.toml");
    cfg_.controls.audit_sample_percent = 0;
    opt_.today = Date{2020, 8, 20};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An honest-looking application: cost `cost`, the state granted 40 000 (the letter forwarded
  // inline from Statsforvalteren).
  static std::string application(const std::string& cost) {
    return "From: Kari Nordmann <kari@solsikken.no>\r\nTo: post@asker.kommune.no\r\n"
           "Subject: Soknad tilretteleggingstilskudd 20/30298\r\n"
           "Date: Mon, 17 Aug 2020 09:12:00 +0200\r\nMessage-ID: <app1@solsikken.no>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n"
           "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
           "barnehageansatte\r\n"
           "Saksnummer: 20/30298\r\nBarnehageeier: Solsikken Barnehage AS\r\n"
           "Organisasjonsnummer: 987 654 325\r\nBarnehage: Solsikken barnehage\r\n"
           "Kontaktperson: Kari Nordmann\r\nE-post: kari@solsikken.no\r\n"
           "Kontonummer: 1234 56 78903\r\n\r\n"
           "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n"
           "Ola Hansen | ABLU | OsloMet | " +
           cost +
           " | 40 000\r\n\r\n"
           "---------- Videresendt melding ---------\r\n"
           "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\r\n"
           "Dato: 10. juni 2020\r\n"
           "Emne: Tildeling av tilretteleggingsmidler\r\n\r\n"
           "Statsforvalteren i Oslo og Viken tildeler Solsikken Barnehage AS (org.nr. 987 654 "
           "325) tilretteleggingsmidler for Ola Hansen med kr 40 000.\r\n";
  }

  fs::path dir_;
  config::Config cfg_;
  AssessOptions opt_;
};

// Attack 5: a stated cost of 95 million kroner with a small state grant was approved as cost
// minus grant (kr 94 960 000). Now a person decides.
TEST_F(ControlsAssess, NinetyFiveMillionIsNotApprovedAutomatically) {
  Assessment a = assess(application("95 000 000"), cfg_, opt_);
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(a.decision.lines[0].reason_code, "over_auto_limit");
  EXPECT_EQ(a.decision.total, 0);
  EXPECT_EQ(a.decision.status, CaseStatus::flagged);
  EXPECT_TRUE(has(a.flags, "over_auto_limit"));
  EXPECT_EQ(to_json(a)["decision"]["status"], "flagged");

  // The honest cost is still decided automatically.
  Assessment honest = assess(application("95 000"), cfg_, opt_);
  EXPECT_EQ(honest.decision.status, CaseStatus::decided);
  EXPECT_EQ(honest.decision.total, 55000);
}

// inspect shows what the daemon does: the sample is drawn in assess().
TEST_F(ControlsAssess, TheSampleIsDrawnInAssessAsTheDaemonDoes) {
  cfg_.controls.audit_sample_percent = 100;
  Assessment a = assess(application("95 000"), cfg_, opt_);
  EXPECT_EQ(a.decision.status, CaseStatus::flagged);
  EXPECT_TRUE(has(a.flags, "audit_sample"));
  EXPECT_EQ(a.decision.total, 55000);
  // Predictably: the bucket decides.
  const int b = audit_bucket(a.form, a.decision);
  EXPECT_EQ(b, expected_bucket("987654325", {"Ola Hansen"}, "2020-09-01"));
  cfg_.controls.audit_sample_percent = b;
  EXPECT_EQ(assess(application("95 000"), cfg_, opt_).decision.status, CaseStatus::decided);
  cfg_.controls.audit_sample_percent = b + 1;
  EXPECT_EQ(assess(application("95 000"), cfg_, opt_).decision.status, CaseStatus::flagged);
}

}  // namespace
}  // namespace tilskudd::controls
