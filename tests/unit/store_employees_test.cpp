// Store::cases_with_employees: the intake's duplicate check looks up an organisation's cases by
// employee through an index (migration 6), instead of loading every case of the organisation.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "parsers/text.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const Timestamp kNow = sys_days{year{2026} / month{3} / day{1}} + hours{12};

Assessment application(const std::string& org, const std::vector<std::string>& employees) {
  Assessment a;
  a.subject = "Søknad tilretteleggingstilskudd, sak 20/30298";
  a.contact_email = "styrer@barnehage.no";
  a.form.found = true;
  a.form.owner = "Solsikken barnehage AS";
  a.form.org_number = org;
  for (const auto& e : employees) {
    FormLine f;
    f.employee = e;
    f.programme = Programme::ABLU;
    f.cost = 80000;
    f.state_status = StateStatus::granted;
    a.form.lines.push_back(f);
    rules::LineDecision d;
    d.employee = e;
    d.outcome = rules::Outcome::approved;
    d.amount = 20000;
    d.reason_code = "approved";
    a.decision.lines.push_back(d);
  }
  a.decision.status = rules::CaseStatus::flagged;
  a.decision.round = rules::Round{Date{2026, 9, 1}, 2026, 1};
  return a;
}

class StoreEmployeesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_store_emp_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "tilskudd.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CaseRecord new_case(Store& s, std::uint32_t uid, const Assessment& a) {
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = uid;
    m.message_id = "<m" + std::to_string(uid) + "@x.no>";
    std::string bytes = "Subject: sak 20/30298\r\n\r\nbody " + std::to_string(uid);
    m.raw = bytes;
    m.received = "2026-03-01T10:00:00Z";
    return s.cases().create_case(a, s.messages().record_message(m).id, kNow);
  }

  static std::vector<std::string> refs(const std::vector<CaseRecord>& cases) {
    std::vector<std::string> out;
    for (const auto& c : cases) out.push_back(c.ref);
    return out;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StoreEmployeesTest, FindsTheOrganisationsCasesNamingAnyOfTheEmployeesInIdOrder) {
  Store s = Store::open(path_);
  CaseRecord kari = new_case(s, 1, application("974760673", {"Kari Nordmann"}));
  CaseRecord both = new_case(s, 2, application("974760673", {"Ola Hansen", "Kari Nordmann"}));
  new_case(s, 3, application("974760673", {"Per Berg"}));       // other employee
  new_case(s, 4, application("987654321", {"Kari Nordmann"}));  // other organisation
  CaseRecord ola = new_case(s, 5, application("974760673", {"Ola Hansen"}));

  auto found = s.cases().cases_with_employees("974760673", {text::name_key("Kari Nordmann")});
  EXPECT_EQ(refs(found), (std::vector<std::string>{kari.ref, both.ref}));
  // A case naming two of the wanted employees comes once; the order is the cases' ids.
  found = s.cases().cases_with_employees(
      "974760673", {text::name_key("Ola Hansen"), text::name_key("Kari Nordmann")});
  EXPECT_EQ(refs(found), (std::vector<std::string>{kari.ref, both.ref, ola.ref}));
  // Whole cases, with all their lines.
  ASSERT_EQ(found[1].lines.size(), 2u);
  EXPECT_TRUE(s.cases().cases_with_employees("974760673", {text::name_key("Nils Lie")}).empty());
  EXPECT_TRUE(s.cases().cases_with_employees("974760673", {}).empty());
}

TEST_F(StoreEmployeesTest, FollowsACasesLinesWhenTheDecisionIsUpdated) {
  Store s = Store::open(path_);
  CaseRecord c = new_case(s, 1, application("974760673", {"Kari Nordmann"}));
  Assessment again = application("974760673", {"Ola Hansen"});
  s.cases().update_decision(c.id, again.form, again.decision, {}, "daemon", kNow);
  EXPECT_TRUE(
      s.cases().cases_with_employees("974760673", {text::name_key("Kari Nordmann")}).empty());
  EXPECT_EQ(refs(s.cases().cases_with_employees("974760673", {text::name_key("Ola Hansen")})),
            (std::vector<std::string>{c.ref}));
}

TEST_F(StoreEmployeesTest, MigrationIndexesTheLinesOfAnExistingDatabase) {
  ASSERT_GE(Store::latest_version(), 6);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    for (int v = 0; v < 5; ++v) {
      std::string sql(Store::migrations()[static_cast<std::size_t>(v)]);
      ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << v;
    }
    const char* rows =
        "PRAGMA user_version = 5;"
        "INSERT INTO cases(id, ref, year, seq, state, org_number, round, round_year, "
        "created_at, updated_at) VALUES (1, 'TT-2026-0001', 2026, 1, 'flagged', '974760673', "
        "'2026-09-01', 2026, '2026-03-01T12:00:00Z', '2026-03-01T12:00:00Z');"
        "INSERT INTO case_lines(case_id, idx, employee, employee_key, programme, state_status, "
        "outcome) VALUES (1, 0, 'Kari Nordmann', 'kari nordmann', 'ABLU', 'granted', "
        "'approved');";
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  Store s = Store::open(path_);
  EXPECT_EQ(s.schema_version(), Store::latest_version());
  EXPECT_EQ(refs(s.cases().cases_with_employees("974760673", {"kari nordmann"})),
            (std::vector<std::string>{"TT-2026-0001"}));

  // The lookup goes through the index, not a scan of every line.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT DISTINCT l.case_id FROM case_lines l "
                               "JOIN cases c ON c.id = l.case_id "
                               "WHERE l.employee_key = 'kari nordmann' AND c.org_number = 'x'",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_NE(plan.find("case_lines_employee"), std::string::npos) << plan;
}

}  // namespace
}  // namespace tilskudd
