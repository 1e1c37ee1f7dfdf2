// The municipality's rules (DECISIONS.md "Per line", "Case status", "Rounds"), one group of tests
// per rule. Forms and letters are built as values, not parsed.
#include "workflow/rules.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "parsers/text.h"

namespace tilskudd::rules {
namespace {

constexpr const char* kOrg = "987654325";        // valid mod-11
constexpr const char* kOtherOrg = "123456785";   // valid mod-11
constexpr const char* kAccount = "12345678903";  // valid mod-11

Date D(int y, int m, int d) {
  return Date{y, m, d};
}

config::Year year2020(bool with_roster = true) {
  config::Year y;
  y.year = 2020;
  y.deadlines = {D(2020, 9, 1), D(2020, 12, 1)};
  y.cap_per_student_when_state_rejected = 75000;
  y.programmes = {Programme::ABLU, Programme::BLU_DELTID};
  if (with_roster) {
    y.roster = std::vector<config::RosterEntry>{
        {"Ola Hansen", Programme::ABLU, "ABLU", kOrg},
        {"Per Olsen", Programme::BLU_DELTID, "BLU deltid", kOrg},
        {"Kari Berg", Programme::ABLU, "ABLU", ""},
    };
  }
  return y;
}

std::map<int, config::Year> years() {
  config::Year y21 = year2020();
  y21.year = 2021;
  y21.deadlines = {D(2021, 9, 1), D(2021, 12, 1)};
  return {{2020, year2020()}, {2021, y21}};
}

FormLine granted(std::string name, Programme p, Kroner cost, std::optional<Kroner> grant) {
  FormLine l;
  l.employee = std::move(name);
  l.programme = p;
  l.programme_text = p == Programme::ABLU ? "ABLU" : "Barnehagelærerutdanning deltid";
  l.cost = cost;
  l.cost_text = std::to_string(cost);
  l.state_status = StateStatus::granted;
  l.state_grant = grant;
  l.state_text = grant ? std::to_string(*grant) : "innvilget";
  return l;
}

FormLine rejected(std::string name, Programme p, Kroner cost) {
  FormLine l = granted(std::move(name), p, cost, std::nullopt);
  l.state_status = StateStatus::rejected;
  l.state_grant.reset();
  l.state_text = "avslag";
  return l;
}

Form form_with(std::vector<FormLine> lines) {
  Form f;
  f.found = true;
  f.owner = "Solsikken Barnehage AS";
  f.org_number = kOrg;
  f.account_number = kAccount;
  f.lines = std::move(lines);
  return f;
}

Letter grant_letter(std::vector<Kroner> amounts, std::string file = "Tildelingsbrev.pdf") {
  Letter l;
  l.filename = std::move(file);
  l.source = "pdf";
  l.kind = LetterKind::grant;
  l.amounts = std::move(amounts);
  return l;
}

Letter rejection_letter(std::string file = "Avslag.pdf") {
  Letter l;
  l.filename = std::move(file);
  l.source = "pdf";
  l.kind = LetterKind::rejection;
  return l;
}

bool has_flag(const std::vector<Flag>& flags, std::string_view code) {
  return std::any_of(flags.begin(), flags.end(), [&](const Flag& f) { return f.code == code; });
}

const Date kReceived = D(2020, 8, 15);

// --- Rule 6: rounds -------------------------------------------------------------------------

TEST(Rule6_Round, OnOrBeforeADeadlineIsThatRound) {
  auto r = round_for(years(), D(2020, 9, 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deadline, D(2020, 9, 1));
  EXPECT_EQ(r->year, 2020);
  EXPECT_EQ(r->number, 1);
}

TEST(Rule6_Round, AfterTheFirstDeadlineIsTheSecondRound) {
  auto r = round_for(years(), D(2020, 9, 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deadline, D(2020, 12, 1));
  EXPECT_EQ(r->number, 2);
}

TEST(Rule6_Round, AfterTheYearsLastDeadlineIsNextYearsFirstRound) {
  auto r = round_for(years(), D(2020, 12, 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deadline, D(2021, 9, 1));
  EXPECT_EQ(r->year, 2021);
  EXPECT_EQ(r->number, 1);
}

TEST(Rule6_Round, AfterTheLastDeadlineWithoutNextYearIsNone) {
  std::map<int, config::Year> only2020{{2020, year2020()}};
  EXPECT_FALSE(round_for(only2020, D(2020, 12, 2)));
  EXPECT_FALSE(round_for(only2020, D(2022, 3, 1)));
}

TEST(Rule6_Round, BeforeTheFirstConfiguredYearIsItsFirstRound) {
  auto r = round_for(years(), D(2019, 11, 30));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deadline, D(2020, 9, 1));
  EXPECT_EQ(r->number, 1);
}

TEST(Rule6_Round, NoYearsIsNone) {
  EXPECT_FALSE(round_for({}, D(2020, 1, 1)));
}

TEST(Rule6_Round, DecisionCarriesTheRoundAndTheRoundsYearRules) {
  // Received in December 2020 after the last deadline: the 2021 rules apply (its own cap).
  auto ys = years();
  ys[2021].cap_per_student_when_state_rejected = 50000;
  auto d = decide(form_with({rejected("Ola Hansen", Programme::ABLU, 95000)}), {rejection_letter()},
                  ys, D(2020, 12, 24));
  ASSERT_TRUE(d.round);
  EXPECT_EQ(d.round->deadline, D(2021, 9, 1));
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].amount, 50000);
}

TEST(Rule6_Round, NoRulesForYearFlagsTheCaseAndEveryLine) {
  std::map<int, config::Year> only2020{{2020, year2020()}};
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000),
                             rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {}, only2020, D(2021, 3, 1));
  EXPECT_FALSE(d.round);
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has_flag(d.flags, "no_rules_for_year"));
  for (const auto& l : d.lines) {
    EXPECT_EQ(l.outcome, Outcome::flagged);
    EXPECT_TRUE(has_flag(l.flags, "no_rules_for_year"));
  }
}

// --- Rule 1: eligible programmes ------------------------------------------------------------

TEST(Rule1_Programme, OnlyTheYearsProgrammesAreEligible) {
  auto y = year2020();
  EXPECT_TRUE(programme_eligible(y, Programme::ABLU));
  EXPECT_TRUE(programme_eligible(y, Programme::BLU_DELTID));
  EXPECT_FALSE(programme_eligible(y, Programme::OTHER));
  y.programmes = {Programme::ABLU};
  EXPECT_FALSE(programme_eligible(y, Programme::BLU_DELTID));
}

TEST(Rule1_Programme, OtherEducationIsRejectedWithoutDocumentation) {
  FormLine l = granted("Ola Hansen", Programme::OTHER, 30000, std::nullopt);
  l.programme_text = "Videreutdanning";
  l.state_status = StateStatus::unknown;
  auto d = decide(form_with({l}), {}, years(), kReceived);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].outcome, Outcome::rejected);
  EXPECT_EQ(d.lines[0].reason_code, "programme_not_eligible");
  EXPECT_EQ(d.lines[0].reason,
            "Utdanningen (Videreutdanning) gir ikke rett til tilretteleggingstilskudd fra "
            "kommunen; bare ABLU og barnehagelærerutdanning deltid støttes (regel 1).");
  EXPECT_EQ(d.status, CaseStatus::decided);
  EXPECT_EQ(d.total, 0);
}

TEST(Rule1_Programme, ComesBeforeTheRoster) {
  FormLine l = granted("Nobody Onroster", Programme::OTHER, 30000, 10000);
  l.programme_text = "Master";
  auto d = decide(form_with({l}), {}, years(), kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "programme_not_eligible");
  EXPECT_TRUE(d.flags.empty());
}

// --- Rule 2: roster of ongoing students -----------------------------------------------------

TEST(Rule2_Roster, ConfirmedStudentHasNoFlags) {
  EXPECT_TRUE(roster_check(year2020(), granted("Ola Hansen", Programme::ABLU, 1, 0), kOrg).empty());
}

TEST(Rule2_Roster, NamesCompareByNameKey) {
  EXPECT_TRUE(
      roster_check(year2020(), granted("  OLA   hansen ", Programme::ABLU, 1, 0), kOrg).empty());
}

TEST(Rule2_Roster, NotOnRoster) {
  auto f = roster_check(year2020(), granted("Eva Lund", Programme::ABLU, 1, 0), kOrg);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "not_on_roster");
}

TEST(Rule2_Roster, NoRoster) {
  auto f = roster_check(year2020(false), granted("Ola Hansen", Programme::ABLU, 1, 0), kOrg);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "no_roster");
}

TEST(Rule2_Roster, OrgMismatch) {
  auto f = roster_check(year2020(), granted("Ola Hansen", Programme::ABLU, 1, 0), kOtherOrg);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "roster_org_mismatch");
}

TEST(Rule2_Roster, ProgrammeMismatch) {
  auto f = roster_check(year2020(), granted("Ola Hansen", Programme::BLU_DELTID, 1, 0), kOrg);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "roster_programme_mismatch");
}

TEST(Rule2_Roster, EmptyRosterOrgNumberMatchesAnyOwner) {
  EXPECT_TRUE(
      roster_check(year2020(), granted("Kari Berg", Programme::ABLU, 1, 0), kOtherOrg).empty());
}

TEST(Rule2_Roster, FlaggedLineInDecision) {
  auto d = decide(form_with({granted("Eva Lund", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[0].reason_code, "not_on_roster");
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has_flag(d.flags, "not_on_roster"));
}

TEST(Rule2_Roster, NoRosterFlagsTheLine) {
  std::map<int, config::Year> ys{{2020, year2020(false)}};
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000})}, ys, kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "no_roster");
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

// Issue 12 "The roster is data": a roster row naming another programme (videreutdanning) makes
// that employee's line not eligible, as rule 1 does for a form naming another programme.
TEST(Rule2_Roster, RosterOtherProgrammeMakesTheLineNotEligible) {
  std::map<int, config::Year> ys{{2020, year2020()}};
  ys.at(2020).roster->push_back(
      {"Siri Moe", Programme::OTHER, "Videreutdanning i barnehagepedagogikk", kOrg});
  auto d = decide(form_with({granted("Siri Moe", Programme::ABLU, 95000, 40000),
                             granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000, 40000})}, ys, kReceived);
  ASSERT_EQ(d.lines.size(), 2u);
  EXPECT_EQ(d.lines[0].outcome, Outcome::rejected);
  EXPECT_EQ(d.lines[0].amount, 0);
  EXPECT_EQ(d.lines[0].reason_code, "roster_programme_not_eligible");
  EXPECT_NE(d.lines[0].reason.find("Videreutdanning i barnehagepedagogikk"), std::string::npos)
      << d.lines[0].reason;
  EXPECT_NE(d.lines[0].reason.find("ikke gir rett"), std::string::npos) << d.lines[0].reason;
  EXPECT_TRUE(d.lines[0].flags.empty());
  // The other employee is decided as before.
  EXPECT_EQ(d.lines[1].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[1].amount, 55000);
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(Rule2_Roster, RosterOtherProgrammeForAnotherOwnerIsAnOrgMismatch) {
  std::map<int, config::Year> ys{{2020, year2020()}};
  ys.at(2020).roster->push_back({"Siri Moe", Programme::OTHER, "Master", kOtherOrg});
  auto d = decide(form_with({granted("Siri Moe", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000})}, ys, kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[0].reason_code, "roster_org_mismatch");
}

TEST(Rule2_Roster, AnEligibleRosterRowWinsOverAnotherProgrammeRow) {
  std::map<int, config::Year> ys{{2020, year2020()}};
  ys.at(2020).roster->push_back({"Ola Hansen", Programme::OTHER, "Master", kOrg});
  EXPECT_EQ(roster_programme_not_eligible(ys.at(2020), granted("Ola Hansen", Programme::ABLU, 1, 0),
                                          kOrg),
            nullptr);
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000})}, ys, kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
}

// --- Per-line checks 3 and 4 ----------------------------------------------------------------

TEST(Rule3_DuplicateLine, SameEmployeeTwiceFlagsBothLines) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000),
                             granted("ola  hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({40000})}, years(), kReceived);
  ASSERT_EQ(d.lines.size(), 2u);
  for (const auto& l : d.lines) EXPECT_EQ(l.reason_code, "duplicate_line");
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(Rule4_MissingCost, MissingCostIsFlagged) {
  FormLine l = granted("Ola Hansen", Programme::ABLU, 0, 40000);
  l.cost.reset();
  l.cost_text = "";
  auto d = decide(form_with({l}), {grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[0].reason_code, "missing_cost");
}

TEST(Rule4_MissingCost, ZeroCostIsFlaggedAsMissing) {
  auto d = decide(form_with({rejected("Ola Hansen", Programme::ABLU, 0)}), {rejection_letter()},
                  years(), kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "missing_cost");
}

TEST(Rule4_MissingCost, ComesBeforeTheEvidence) {
  FormLine l = granted("Ola Hansen", Programme::ABLU, 0, 40000);
  l.cost.reset();
  auto d = decide(form_with({l}), {}, years(), kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "missing_cost");
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

// --- Rule 3 (documentation) through the evidence --------------------------------------------

TEST(Rule3_Documentation, NoLetterIsPendingAndNeedsDocumentation) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000),
                             rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {}, years(), kReceived);
  ASSERT_EQ(d.lines.size(), 2u);
  for (const auto& l : d.lines) {
    EXPECT_EQ(l.outcome, Outcome::pending);
    EXPECT_EQ(l.reason_code, "documentation_missing");
    EXPECT_EQ(
        l.reason,
        "Vi mangler tildelingsbrev eller avslagsbrev fra Statsforvalteren for denne ansatte.");
  }
  EXPECT_EQ(d.status, CaseStatus::needs_documentation);
  EXPECT_EQ(d.missing_documentation,
            (std::vector<std::string>{
                "Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Ola Hansen",
                "Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Per Olsen"}));
  EXPECT_TRUE(d.flags.empty());
}

TEST(Rule3_Documentation, ReceiptOnlyIsPending) {
  Letter receipt;
  receipt.filename = "Kvittering.pdf";
  receipt.kind = LetterKind::unknown;
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}), {receipt},
                  years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::pending);
  EXPECT_EQ(d.status, CaseStatus::needs_documentation);
}

TEST(Rule3_Documentation, UnreadableLetterFlagsAnUnsettledLine) {
  Letter scan;
  scan.filename = "scan.jpg";
  scan.source = "image";
  scan.readable = false;
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}), {scan},
                  years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[0].reason_code, "unreadable_letter");
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(d.missing_documentation.empty());
}

TEST(Rule3_Documentation, UnreadableLetterIsInformationalWhenReadableLettersSettle) {
  Letter scan;
  scan.filename = "scan.jpg";
  scan.readable = false;
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {scan, grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(Rule3_Documentation, AmountMismatchIsFlagged) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({35000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.lines[0].reason_code, "amount_mismatch");
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has_flag(d.flags, "amount_mismatch"));
}

TEST(Rule3_Documentation, StateStatusMismatchIsFlagged) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {rejection_letter()}, years(), kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "state_status_mismatch");
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(Rule3_Documentation, AmountUnconfirmedIsFlagged) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}),
                  {grant_letter({})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].reason_code, "amount_unconfirmed");
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(Rule3_Documentation, EmptyStateColumnIsDecidedByTheLetter) {
  FormLine l = granted("Ola Hansen", Programme::ABLU, 95000, std::nullopt);
  l.state_status = StateStatus::unknown;
  l.state_text = "ikke mottatt";
  auto d = decide(form_with({l}), {grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 55000);
  EXPECT_TRUE(d.flags.empty());
}

// --- Rule 4: state granted ------------------------------------------------------------------

TEST(Rule4_StateGranted, CostMinusGrant) {
  EXPECT_EQ(amount_when_state_granted(year2020(), 95000, 40000), 55000);
}

TEST(Rule4_StateGranted, NeverBelowZero) {
  EXPECT_EQ(amount_when_state_granted(year2020(), 30000, 40000), 0);
}

TEST(Rule4_StateGranted, CappedWhenTheYearSetsACap) {
  auto y = year2020();
  y.cap_per_student_when_state_granted = 20000;
  EXPECT_EQ(amount_when_state_granted(y, 95000, 40000), 20000);
  EXPECT_EQ(amount_when_state_granted(y, 50000, 40000), 10000);
}

// Issue 12 (forvaltningsloven 2025 § 11): the reason explains the line with the rule and the
// facts it used, the settling letter's date among them.
TEST(Rule4_StateGranted, ApprovedRemainderWithBokmaalReason) {
  Letter letter = grant_letter({40000});
  letter.date = D(2020, 6, 10);
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)}), {letter},
                  years(), kReceived);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 55000);
  EXPECT_EQ(d.lines[0].reason_code, "state_granted_remainder");
  EXPECT_EQ(d.lines[0].reason,
            "Statsforvalteren har innvilget kr 40 000 (brev datert 10. juni 2020). Kostnaden er "
            "kr 95 000, og kommunen dekker resten: kr 55 000 (regel 4).");
  EXPECT_EQ(d.status, CaseStatus::decided);
  EXPECT_EQ(d.total, 55000);
  EXPECT_TRUE(d.flags.empty());
}

TEST(Rule4_StateGranted, StateCoversCostIsRejected) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 40000, 40000)}),
                  {grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::rejected);
  EXPECT_EQ(d.lines[0].reason_code, "state_covers_cost");
  EXPECT_EQ(d.lines[0].reason,
            "Statsforvalteren har innvilget kr 40 000 (brev uten dato), som dekker hele "
            "kostnaden på kr 40 000; kommunen gir derfor ikke tilskudd (regel 4).");
  EXPECT_EQ(d.lines[0].amount, 0);
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(Rule4_StateGranted, FormSaysInnvilgetWithoutAmountUsesTheLettersAmount) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, std::nullopt)}),
                  {grant_letter({30000})}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 65000);
}

// --- Rule 5: state rejected -----------------------------------------------------------------

TEST(Rule5_StateRejected, CostUpToTheCap) {
  EXPECT_EQ(amount_when_state_rejected(year2020(), 60000, 0), 60000);
  EXPECT_EQ(amount_when_state_rejected(year2020(), 95000, 0), 75000);
}

TEST(Rule5_StateRejected, CappedAt75000PerStudentPerYearAcrossApplications) {
  EXPECT_EQ(amount_when_state_rejected(year2020(), 60000, 50000), 25000);
  EXPECT_EQ(amount_when_state_rejected(year2020(), 60000, 75000), 0);
  EXPECT_EQ(amount_when_state_rejected(year2020(), 60000, 90000), 0);

  PriorGrants prior{{"per olsen", 50000}};
  auto d = decide(form_with({rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {rejection_letter()}, years(), kReceived, prior);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 25000);
  EXPECT_EQ(d.total, 25000);
}

TEST(Rule5_StateRejected, ApprovedWithBokmaalReason) {
  auto d = decide(form_with({rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {rejection_letter()}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].amount, 60000);
  EXPECT_EQ(d.lines[0].reason_code, "state_rejected_cap");
  EXPECT_EQ(d.lines[0].reason,
            "Statsforvalteren har gitt avslag (brev uten dato). Kostnaden er kr 60 000, og "
            "kommunen dekker inntil kr 75 000 per student per år: kr 60 000 (regel 5).");
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(Rule5_StateRejected, CapExhaustedIsRejected) {
  PriorGrants prior{{"per olsen", 75000}};
  auto d = decide(form_with({rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {rejection_letter()}, years(), kReceived, prior);
  EXPECT_EQ(d.lines[0].outcome, Outcome::rejected);
  EXPECT_EQ(d.lines[0].reason_code, "cap_exhausted");
  EXPECT_NE(d.lines[0].reason.find("kommunens tak på kr 75 000 for 2020 (regel 5)."),
            std::string::npos)
      << d.lines[0].reason;
  EXPECT_EQ(d.total, 0);
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(Rule5_StateRejected, PriorGrantsAreKeyedByNameKey) {
  PriorGrants prior{{text::name_key("PER  Olsen"), 70000}};
  auto d = decide(form_with({rejected("per olsen", Programme::BLU_DELTID, 60000)}),
                  {rejection_letter()}, years(), kReceived, prior);
  EXPECT_EQ(d.lines[0].amount, 5000);
}

TEST(Rule5_StateRejected, YearWithoutCapIsFlaggedNotPaid) {
  auto ys = years();
  ys[2020].cap_per_student_when_state_rejected.reset();
  auto d = decide(form_with({rejected("Per Olsen", Programme::BLU_DELTID, 60000)}),
                  {rejection_letter()}, ys, kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::flagged);
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

// --- Case-level checks and case status ------------------------------------------------------

TEST(CaseChecks, FormNotFound) {
  Form f;
  auto d = decide(f, {}, years(), kReceived);
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has_flag(d.flags, "form_not_found"));
  EXPECT_FALSE(has_flag(d.flags, "invalid_org_number"));
}

TEST(CaseChecks, NoEmployeeLines) {
  auto d = decide(form_with({}), {}, years(), kReceived);
  EXPECT_EQ(d.status, CaseStatus::flagged);
  EXPECT_TRUE(has_flag(d.flags, "no_employee_lines"));
}

TEST(CaseChecks, InvalidOrgNumber) {
  // Kari Berg's roster entry has no org number, so only the case-level check fires.
  Form f = form_with({granted("Kari Berg", Programme::ABLU, 95000, 40000)});
  f.org_number = "987654321";  // bad check digit
  auto d = decide(f, {grant_letter({40000})}, years(), kReceived);
  EXPECT_TRUE(has_flag(d.flags, "invalid_org_number"));
  EXPECT_EQ(d.status, CaseStatus::flagged);
  // The line itself is still decided; the case waits for a person.
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
}

TEST(CaseChecks, MissingOrgNumber) {
  Form f = form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)});
  f.org_number.clear();
  auto d = decide(f, {grant_letter({40000})}, years(), kReceived);
  EXPECT_TRUE(has_flag(d.flags, "invalid_org_number"));
}

TEST(CaseChecks, InvalidAccountNumber) {
  Form f = form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)});
  f.account_number = "12345678901";
  auto d = decide(f, {grant_letter({40000})}, years(), kReceived);
  EXPECT_TRUE(has_flag(d.flags, "invalid_account_number"));
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(CaseChecks, UnreadableLineIsCopiedFromTheForm) {
  Form f = form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)});
  f.unreadable_rows.push_back("row 3: no employee name");
  auto d = decide(f, {grant_letter({40000})}, years(), kReceived);
  EXPECT_TRUE(has_flag(d.flags, "unreadable_line"));
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(CaseStatusLogic, FlaggedBeatsNeedsDocumentation) {
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000),
                             granted("Eva Lund", Programme::ABLU, 95000, 40000)}),
                  {}, years(), kReceived);
  EXPECT_EQ(d.lines[0].outcome, Outcome::pending);
  EXPECT_EQ(d.lines[1].outcome, Outcome::flagged);
  EXPECT_EQ(d.status, CaseStatus::flagged);
}

TEST(CaseStatusLogic, TotalIsTheSumOfApprovedAmounts) {
  FormLine other = granted("Kari Berg", Programme::OTHER, 10000, std::nullopt);
  other.programme_text = "Fagskole";
  other.state_status = StateStatus::unknown;
  Letter named;
  named.filename = "brev.pdf";
  named.kind = LetterKind::grant;
  named.amounts = {40000};
  named.entries = {{"Ola Hansen", LetterKind::grant, 40000},
                   {"Per Olsen", LetterKind::rejection, std::nullopt}};
  auto d = decide(form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000),
                             rejected("Per Olsen", Programme::BLU_DELTID, 60000), other}),
                  {named}, years(), kReceived);
  EXPECT_EQ(d.lines[0].amount, 55000);
  EXPECT_EQ(d.lines[1].amount, 60000);
  EXPECT_EQ(d.lines[2].outcome, Outcome::rejected);
  EXPECT_EQ(d.total, 115000);
  EXPECT_EQ(d.status, CaseStatus::decided);
}

TEST(CaseStatusLogic, FlagsAreListedOnce) {
  Form f = form_with({granted("Ola Hansen", Programme::ABLU, 95000, 40000)});
  f.unreadable_rows.push_back("row 3");
  f.unreadable_rows.push_back("row 3");
  auto d = decide(f, {grant_letter({40000})}, years(), kReceived);
  EXPECT_EQ(std::count_if(d.flags.begin(), d.flags.end(),
                          [](const Flag& x) { return x.code == "unreadable_line"; }),
            1);
}

TEST(CaseStatusLogic, CaseStatusFromLinesAndHoldingFlags) {
  using O = Outcome;
  const std::vector<Flag> none;
  const std::vector<Flag> informational = {{"malformed_mime", "x"}, {"unreadable_letter", "y"}};
  const std::vector<Flag> blocking = {{"malformed_mime", "x"}, {"sender_unauthenticated", "y"}};
  EXPECT_EQ(case_status({O::approved, O::rejected}, none), CaseStatus::decided);
  EXPECT_EQ(case_status({O::approved}, informational), CaseStatus::decided);
  EXPECT_EQ(case_status({O::approved}, blocking), CaseStatus::flagged);
  EXPECT_EQ(case_status({O::approved, O::pending}, none), CaseStatus::needs_documentation);
  EXPECT_EQ(case_status({O::pending}, informational), CaseStatus::needs_documentation);
  EXPECT_EQ(case_status({O::pending}, blocking), CaseStatus::flagged);
  EXPECT_EQ(case_status({O::pending, O::flagged}, none), CaseStatus::flagged);
  EXPECT_EQ(case_status({O::flagged, O::approved}, informational), CaseStatus::flagged);
  // No line: nothing to decide, a person looks.
  EXPECT_EQ(case_status({}, none), CaseStatus::flagged);
  // A code the registry does not know holds the case.
  EXPECT_EQ(case_status({O::approved}, {{"from_a_newer_daemon", ""}}), CaseStatus::flagged);
}

TEST(CaseStatusLogic, OutcomesInLineOrder) {
  LineDecision a, b;
  a.outcome = Outcome::pending;
  b.outcome = Outcome::approved;
  EXPECT_EQ(outcomes({a, b}), (std::vector<Outcome>{Outcome::pending, Outcome::approved}));
  EXPECT_TRUE(outcomes({}).empty());
}

TEST(Rule5Cap, WhichGrantsCountTowardTheCap) {
  using S = StateStatus;
  // The rules' approval under the cap, whatever the line says.
  EXPECT_TRUE(counts_toward_cap("state_rejected_cap", S::rejected));
  // A person's approval of a line the state did not grant counts like the rules' own.
  EXPECT_TRUE(counts_toward_cap("admin_approved", S::rejected));
  EXPECT_TRUE(counts_toward_cap("admin_approved", S::unknown));
  EXPECT_FALSE(counts_toward_cap("admin_approved", S::granted));
  // Rule 4's remainder and everything else do not.
  EXPECT_FALSE(counts_toward_cap("state_granted_remainder", S::granted));
  EXPECT_FALSE(counts_toward_cap("state_granted_remainder", S::rejected));
  EXPECT_FALSE(counts_toward_cap("admin_rejected", S::rejected));
  EXPECT_FALSE(counts_toward_cap("", S::rejected));
  // The ledger's kinds as existing databases hold them.
  EXPECT_EQ(ledger_kind("state_rejected_cap", S::rejected), "state_rejected_cap");
  EXPECT_EQ(ledger_kind("admin_approved", S::unknown), "state_rejected_cap");
  EXPECT_EQ(ledger_kind("admin_approved", S::granted), "admin_approved");
  EXPECT_EQ(ledger_kind("state_granted_remainder", S::granted), "state_granted_remainder");
}

TEST(Rule5Cap, TheRulesApproveUnderTheCapWithTheCapCode) {
  auto d = decide(form_with({rejected("Ola Hansen", Programme::ABLU, 95000)}), {rejection_letter()},
                  years(), kReceived);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].outcome, Outcome::approved);
  EXPECT_EQ(d.lines[0].reason_code, kCapReasonCode);
  EXPECT_TRUE(counts_toward_cap(d.lines[0].reason_code, StateStatus::rejected));
}

TEST(CaseStatusLogic, Codes) {
  EXPECT_EQ(enum_name(Outcome::approved), "approved");
  EXPECT_EQ(enum_name(Outcome::pending), "pending");
  EXPECT_EQ(enum_name(CaseStatus::needs_documentation), "needs_documentation");
  EXPECT_EQ(enum_name(CaseStatus::ignored), "ignored");
}

}  // namespace
}  // namespace tilskudd::rules
