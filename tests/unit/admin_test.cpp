// The administrators' case view (daemon/admin.h): cases made the way the daemon makes them
// (assess a corpus mail, create_case, transition to state_for(status)), then printed as text and
// JSON.
#include "daemon/admin.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "parsers/text.h"
#include "tests/support/support.h"
#include "workflow/assess.h"
#include "workflow/resolve.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using nlohmann::json;

Timestamp at(int y, unsigned m, unsigned d, int hour = 12) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour};
}

fs::path corpus_dir() {
  return testing::source_dir() / "tests" / "corpus";
}

// The lines of `s` that contain `needle`.
std::vector<std::string> lines_with(const std::string& s, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

// Column of `needle` in `line`, in code points (npos when absent).
std::size_t column_of(const std::string& line, const std::string& needle) {
  auto pos = line.find(needle);
  if (pos == std::string::npos) return std::string::npos;
  return admin::display_width(line.substr(0, pos));
}

struct Output {
  int rc = 0;
  std::string out;
  std::string err;
};

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_admin_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_.emplace(Store::open((dir_ / "tilskudd.db").string()));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Store& store() { return *store_; }

  // What the daemon does with one fetched mail that is an application.
  CaseRecord ingest(const std::string& name, std::uint32_t uid, Timestamp now) {
    static const config::Config cfg = config::load(corpus_dir() / "config.toml");
    std::string raw = testing::read_file(corpus_dir() / (name + ".eml"));
    AssessOptions opt;
    opt.today = Date{2020, 10, 1};
    PdfLimits limits = cfg.limits.pdf;
    opt.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };
    Assessment a = assess(raw, cfg, opt);
    EXPECT_FALSE(a.ignored_reason) << name;

    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 1;
    m.uid = uid;
    m.message_id = a.message_id;
    m.raw = raw;
    m.received = iso_utc(now);
    auto row = store().messages().record_message(m).id;
    CaseRecord c = store().cases().create_case(a, row, now);
    auto to = state_for(a.decision.status);
    EXPECT_TRUE(to) << name;
    return store().cases().transition(c.id, *to, "daemon",
                                      "assessed: " + std::string(enum_name(a.decision.status)),
                                      now + minutes{1});
  }

  // The four cases most tests look at: decided, flagged (line), needs_documentation, flagged
  // (case-level flag + line).
  void ingest_four() {
    decided_ = ingest("01-outlook-single-ablu", 1, at(2026, 3, 1));
    roster_ = ingest("06-gmail-not-on-roster", 2, at(2026, 3, 2));
    waiting_ = ingest("07-iphone-no-letter", 3, at(2026, 3, 3));
    org_ = ingest("29-invalid-org-number", 4, at(2026, 3, 4));
    ASSERT_EQ(decided_.state, CaseState::decided);
    ASSERT_EQ(roster_.state, CaseState::flagged);
    ASSERT_EQ(waiting_.state, CaseState::needs_documentation);
    ASSERT_EQ(org_.state, CaseState::flagged);
  }

  Output list(admin::ListOptions o) {
    Output r;
    std::ostringstream out, err;
    r.rc = admin::cases_list(store(), o, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  Output show(const std::string& ref, bool json = false) {
    Output r;
    std::ostringstream out, err;
    r.rc = admin::case_show(store(), ref, json, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  fs::path dir_;
  std::optional<Store> store_;
  CaseRecord decided_, roster_, waiting_, org_;
};

// ---- helpers -------------------------------------------------------------------------------

TEST(AdminFormat, TerminalSafeRemovesControlsAndKeepsNorwegianLetters) {
  EXPECT_EQ(admin::terminal_safe("Blåbærtoppen Øst"), "Blåbærtoppen Øst");
  EXPECT_EQ(admin::terminal_safe("A\x1b[2JB"), "A?[2JB");
  EXPECT_EQ(admin::terminal_safe("line\r\nnext\tx"), "line  next x");
  EXPECT_EQ(admin::terminal_safe("a\u202Eb"), "a?b");  // right-to-left override
  EXPECT_EQ(admin::terminal_safe("\xC2\x9B"
                                 "31m"),
            "?31m");  // C1 CSI
  std::string bad = admin::terminal_safe("ok\xFF\xFE");
  EXPECT_TRUE(text::is_valid_utf8(bad));
  EXPECT_EQ(bad.substr(0, 2), "ok");
}

TEST(AdminFormat, TruncateCountsCodePointsAndNeverSplitsThem) {
  EXPECT_EQ(admin::display_width("æøå"), 3u);
  EXPECT_EQ(admin::truncate("Blåbærtoppen", 20), "Blåbærtoppen");
  EXPECT_EQ(admin::truncate("Blåbærtoppen", 6), "Blåbæ…");
  EXPECT_EQ(admin::display_width(admin::truncate("ÆØÅÆØÅÆØÅÆØÅ", 5)), 5u);
  EXPECT_TRUE(text::is_valid_utf8(admin::truncate("ÆØÅÆØÅÆØÅÆØÅ", 5)));
  EXPECT_EQ(admin::truncate("abc", 0), "");
}

// ---- list ----------------------------------------------------------------------------------

TEST_F(AdminTest, EmptyStoreSaysNoCases) {
  Output r = list({});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "no cases\n");
  EXPECT_EQ(r.err, "");

  Output j = list({.json = true});
  EXPECT_EQ(j.rc, 0);
  EXPECT_EQ(json::parse(j.out), json::array());

  Output f = list({.flagged_only = true});
  EXPECT_EQ(f.rc, 0);
  EXPECT_EQ(f.out, "no flagged cases\n");
}

TEST_F(AdminTest, ListShowsOneAlignedRowPerCaseAndCounts) {
  ingest_four();
  Output r = list({});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");

  auto header = lines_with(r.out, "REF");
  ASSERT_EQ(header.size(), 1u) << r.out;
  std::size_t state_col = column_of(header[0], "STATE");
  std::size_t owner_col = column_of(header[0], "OWNER");

  struct Want {
    const CaseRecord* c;
    std::string state, owner, org, total;
  };
  std::vector<Want> wants = {
      {&decided_, "decided", "Solsikken Barnehage AS", "921456786", "55 000 kr"},
      {&roster_, "flagged", "Eventyrskogen Barnehage AS", "997665104", "55 000 kr"},
      {&waiting_, "needs_documentation", "Trollstua Barnehage BA", "913662040", "0 kr"},
      {&org_, "flagged", "Solsikken Barnehage AS", "921456787", "0 kr"},
  };
  for (const auto& w : wants) {
    auto rows = lines_with(r.out, w.c->ref);
    ASSERT_EQ(rows.size(), 1u) << w.c->ref << "\n" << r.out;
    const std::string& row = rows[0];
    EXPECT_EQ(column_of(row, w.state), state_col) << row;
    EXPECT_EQ(column_of(row, w.owner), owner_col) << row;
    EXPECT_NE(row.find(w.org), std::string::npos) << row;
    EXPECT_NE(row.find(w.total), std::string::npos) << row;
    EXPECT_NE(row.find("2026-03-0"), std::string::npos) << row;  // created date
    EXPECT_NE(row.find("2020-"), std::string::npos) << row;      // round
  }
  // Flags only on flagged rows: the line's reason_code for 06, and for 29 the flagged line
  // first with one more (the case-level invalid_org_number).
  EXPECT_NE(lines_with(r.out, roster_.ref)[0].find("not_on_roster (Thomas Berntsen)"),
            std::string::npos);
  std::string org_row = lines_with(r.out, org_.ref)[0];
  EXPECT_NE(org_row.find("roster_org_mismatch"), std::string::npos) << org_row;
  EXPECT_NE(org_row.find("(+1 more)"), std::string::npos) << org_row;
  EXPECT_EQ(lines_with(r.out, decided_.ref)[0].find("state_granted"), std::string::npos);
  EXPECT_EQ(lines_with(r.out, waiting_.ref)[0].find("documentation_missing"), std::string::npos);
  // Total column right-aligned: "55 000 kr" and "0 kr" end in the same column.
  std::string r1 = lines_with(r.out, decided_.ref)[0];
  std::string r3 = lines_with(r.out, waiting_.ref)[0];
  EXPECT_EQ(column_of(r1, "55 000 kr") + 9, column_of(r3, " 0 kr") + 5);

  EXPECT_NE(r.out.find("4 cases, 2 flagged\n"), std::string::npos) << r.out;
}

TEST_F(AdminTest, StateFilterKeepsOnlyThatState) {
  ingest_four();
  Output r = list({.state = CaseState::decided});
  ASSERT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find(decided_.ref), std::string::npos);
  EXPECT_EQ(r.out.find(roster_.ref), std::string::npos);
  EXPECT_EQ(r.out.find(waiting_.ref), std::string::npos);
  EXPECT_EQ(r.out.find(org_.ref), std::string::npos);
  EXPECT_NE(r.out.find("1 case, 0 flagged\n"), std::string::npos) << r.out;

  Output j = list({.state = CaseState::needs_documentation, .json = true});
  ASSERT_EQ(j.rc, 0);
  json arr = json::parse(j.out);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["ref"], waiting_.ref);
  EXPECT_EQ(arr[0]["state"], "needs_documentation");

  Output none = list({.state = CaseState::paid});
  EXPECT_EQ(none.rc, 0);
  EXPECT_EQ(none.out, "no cases in state paid\n");
}

TEST_F(AdminTest, ListJsonHasEveryCaseWithItsFields) {
  ingest_four();
  Output r = list({.json = true});
  ASSERT_EQ(r.rc, 0) << r.err;
  json arr = json::parse(r.out);
  ASSERT_EQ(arr.size(), 4u);
  EXPECT_EQ(arr[0]["ref"], decided_.ref);
  EXPECT_EQ(arr[0]["state"], "decided");
  EXPECT_EQ(arr[0]["owner"], "Solsikken Barnehage AS");
  EXPECT_EQ(arr[0]["org_number"], "921456786");
  EXPECT_EQ(arr[0]["round"], "2020-09-01");
  EXPECT_EQ(arr[0]["round_year"], 2020);
  EXPECT_EQ(arr[0]["round_number"], 1);
  EXPECT_EQ(arr[0]["total"], 55000);
  EXPECT_EQ(arr[0]["line_count"], 1);
  EXPECT_EQ(arr[0]["flagged"], false);
  EXPECT_EQ(arr[0]["attention"], json::array());
  EXPECT_EQ(arr[0]["created_at"], "2026-03-01T12:00:00Z");
  EXPECT_EQ(arr[0]["updated_at"], "2026-03-01T12:01:00Z");

  EXPECT_EQ(arr[1]["ref"], roster_.ref);
  EXPECT_EQ(arr[1]["flagged"], true);
  EXPECT_EQ(arr[1]["line_count"], 2);
  ASSERT_EQ(arr[1]["attention"].size(), 1u);
  EXPECT_EQ(arr[1]["attention"][0]["code"], "not_on_roster");
  EXPECT_EQ(arr[1]["attention"][0]["employee"], "Thomas Berntsen");
  EXPECT_FALSE(arr[1]["attention"][0]["reason"].get<std::string>().empty());

  ASSERT_EQ(arr[3]["attention"].size(), 2u) << arr[3].dump(2);
  EXPECT_EQ(arr[3]["attention"][0]["code"], "roster_org_mismatch");
  EXPECT_EQ(arr[3]["attention"][1]["code"], "invalid_org_number");
  EXPECT_TRUE(arr[3]["attention"][1]["employee"].is_null());
  EXPECT_EQ(arr[3]["round"], "2020-12-01");
}

TEST_F(AdminTest, FlaggedListsOnlyFlaggedCasesWithWhatToDo) {
  ingest_four();
  Output r = list({.flagged_only = true});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.find(decided_.ref), std::string::npos);
  EXPECT_EQ(r.out.find(waiting_.ref), std::string::npos);
  EXPECT_NE(r.out.find(roster_.ref), std::string::npos);
  EXPECT_NE(r.out.find(org_.ref), std::string::npos);
  EXPECT_NE(r.out.find("  - not_on_roster (Thomas Berntsen): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  - roster_org_mismatch (Frida Solheim): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  - invalid_org_number: organisation number"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 flagged cases\n"), std::string::npos) << r.out;

  Output j = list({.flagged_only = true, .json = true});
  json arr = json::parse(j.out);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0]["ref"], roster_.ref);
  EXPECT_EQ(arr[1]["ref"], org_.ref);
}

TEST_F(AdminTest, FlaggedByAPersonWithoutFlagsShowsTheLatestEventsReason) {
  ingest_four();
  // needs_documentation -> flagged by an administrator: no flagged line, no blocking flag.
  ASSERT_TRUE(can_transition(CaseState::needs_documentation, CaseState::flagged));
  store().cases().transition(waiting_.id, CaseState::flagged, "admin:kari",
                             "applicant phoned: letter comes by post", at(2026, 3, 5));
  Output r = list({.flagged_only = true});
  EXPECT_NE(r.out.find("  - applicant phoned: letter comes by post"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 flagged cases"), std::string::npos) << r.out;
}

TEST_F(AdminTest, HostileOwnerCannotControlTheTerminal) {
  Assessment a;
  a.message_id = "<evil@x.no>";
  a.form.found = true;
  a.form.owner = "Evil\x1b]0;pwned\x07 AS with a very very long name that goes on and on";
  a.form.org_number = "974760673";
  a.decision.status = rules::CaseStatus::flagged;
  IncomingMessage m;
  m.mailbox = "INBOX";
  m.uidvalidity = 1;
  m.uid = 9;
  m.raw = "x";
  CaseRecord c =
      store().cases().create_case(a, store().messages().record_message(m).id, at(2026, 3, 1));
  store().cases().transition(c.id, CaseState::flagged, "daemon", "assessed: flagged",
                             at(2026, 3, 1));

  for (const Output& r : {list({}), list({.flagged_only = true}), show(c.ref)}) {
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  }
  // The list truncates the owner; the row stays valid UTF-8.
  Output r = list({});
  std::string row = lines_with(r.out, c.ref)[0];
  EXPECT_NE(row.find("…"), std::string::npos) << row;
  EXPECT_EQ(row.find("goes on and on"), std::string::npos) << row;
  EXPECT_TRUE(text::is_valid_utf8(r.out));
  // No flagged line and no flag: the latest event's reason.
  EXPECT_NE(row.find("assessed: flagged"), std::string::npos) << row;
  // JSON keeps the text as it is (escaped), for scripts.
  json j = json::parse(list({.json = true}).out);
  EXPECT_EQ(j[0]["owner"], a.form.owner);
}

// ---- show ----------------------------------------------------------------------------------

TEST_F(AdminTest, ShowPrintsHeaderLinesLettersOutboxAndEvents) {
  ingest_four();
  OutboxItem item;
  item.case_id = decided_.id;
  item.kind = OutboxKind::decision;
  item.message_id = "<decision-1@asker.kommune.no>";
  item.recipient = "kari.nordmann@solsikken-bhg.no";
  item.subject = "Vedtak";
  item.body = "Hei";
  auto id = store().outbox().enqueue_outbox(item, at(2026, 3, 1, 13)).id;
  store().outbox().mark_outbox(id, OutboxStatus::sending, "", std::nullopt);
  store().outbox().mark_outbox(id, OutboxStatus::pending, "421 try again later",
                               at(2026, 3, 1, 14));

  Output r = show(decided_.ref);
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string& s = r.out;
  EXPECT_NE(s.find("Case " + decided_.ref + "  (decided)"), std::string::npos) << s;
  for (const char* want : {"Solsikken Barnehage AS", "921456786", "kari.nordmann@solsikken-bhg.no",
                           "2020-09-01 (2020, round 1)", "55 000 kr",
                           // the line
                           "Ingrid Solberg", "ABLU", "95 000 kr", "granted", "40 000 kr",
                           "approved", "state_granted_remainder",
                           // the letter
                           "Tildelingsbrev 2020_12345.pdf", "grant",
                           // the outbox
                           "decision", "pending", "421 try again later", "2026-03-01T14:00:00Z",
                           // the events
                           "(new) → received", "created from message", "received → decided",
                           "assessed: decided", "2026-03-01T12:01:00Z", "daemon"}) {
    EXPECT_NE(s.find(want), std::string::npos) << "missing " << want << " in\n" << s;
  }
  // Header values are aligned in one column.
  std::size_t owner_value = column_of(lines_with(s, "Owner:")[0], "Solsikken");
  EXPECT_EQ(column_of(lines_with(s, "Org number:")[0], "921456786"), owner_value);
  EXPECT_EQ(column_of(lines_with(s, "Total:")[0], "55 000 kr"), owner_value);
  // The outbox row has 1 attempt.
  auto rows = lines_with(s, "421 try again later");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].find(" 1 "), std::string::npos) << rows[0];
  EXPECT_NE(s.find("Lines (1):"), std::string::npos);
  EXPECT_NE(s.find("Letters (1):"), std::string::npos);
  EXPECT_NE(s.find("Outbox (1):"), std::string::npos);
  EXPECT_NE(s.find("Events (2):"), std::string::npos);
  EXPECT_EQ(s.find("Needs a person"), std::string::npos);
}

TEST_F(AdminTest, ShowFlaggedCaseSaysWhatAPersonMustDo) {
  ingest_four();
  Output r = show(org_.ref);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("(flagged)"), std::string::npos);
  EXPECT_NE(r.out.find("Needs a person:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  - roster_org_mismatch (Frida Solheim): "), std::string::npos);
  EXPECT_NE(r.out.find("  - invalid_org_number: "), std::string::npos);
  EXPECT_NE(r.out.find("Flags:"), std::string::npos);
  EXPECT_NE(r.out.find("Outbox (0):"), std::string::npos);
}

TEST_F(AdminTest, ShowJsonHasLinesLettersOutboxAndEvents) {
  ingest_four();
  OutboxItem item;
  item.case_id = roster_.id;
  item.kind = OutboxKind::documentation_request;
  item.message_id = "<doc-1@asker.kommune.no>";
  item.recipient = "morten.skaug@eventyrskogen.no";
  item.subject = "Dokumentasjon";
  item.body = "Hei";
  store().outbox().enqueue_outbox(item, at(2026, 3, 2, 13));

  Output r = show(roster_.ref, true);
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["ref"], roster_.ref);
  EXPECT_EQ(j["state"], "flagged");
  EXPECT_EQ(j["contact_email"], "morten.skaug@eventyrskogen.no");
  EXPECT_EQ(j["total"], 55000);
  EXPECT_TRUE(j["reminder_due"].is_null());
  ASSERT_EQ(j["flags"].size(), 1u);
  EXPECT_EQ(j["flags"][0]["code"], "not_on_roster");
  EXPECT_FALSE(j["flags"][0]["reason"].get<std::string>().empty());
  ASSERT_EQ(j["lines"].size(), 2u);
  EXPECT_EQ(j["lines"][0]["employee"], "Silje Nilsen");
  EXPECT_EQ(j["lines"][0]["outcome"], "approved");
  EXPECT_EQ(j["lines"][0]["amount"], 55000);
  EXPECT_EQ(j["lines"][0]["cost"], 95000);
  EXPECT_EQ(j["lines"][0]["state_grant"], 40000);
  EXPECT_EQ(j["lines"][0]["reason_code"], "state_granted_remainder");
  EXPECT_EQ(j["lines"][1]["outcome"], "flagged");
  EXPECT_EQ(j["lines"][1]["reason_code"], "not_on_roster");
  ASSERT_EQ(j["letters"].size(), 1u);
  EXPECT_EQ(j["letters"][0]["filename"], "Tildeling 2020-13110.pdf");
  EXPECT_EQ(j["letters"][0]["kind"], "grant");
  EXPECT_EQ(j["letters"][0]["stored"], false);
  ASSERT_EQ(j["outbox"].size(), 1u);
  EXPECT_EQ(j["outbox"][0]["kind"], "documentation_request");
  EXPECT_EQ(j["outbox"][0]["status"], "pending");
  EXPECT_EQ(j["outbox"][0]["recipient"], "morten.skaug@eventyrskogen.no");
  EXPECT_EQ(j["outbox"][0]["attempts"], 0);
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_TRUE(j["events"][0]["from"].is_null());
  EXPECT_EQ(j["events"][0]["to"], "received");
  EXPECT_EQ(j["events"][0]["actor"], "daemon");
  EXPECT_EQ(j["events"][0]["detail"]["flags"], json::array({"not_on_roster"}));
  EXPECT_EQ(j["events"][1]["from"], "received");
  EXPECT_EQ(j["events"][1]["to"], "flagged");
  EXPECT_EQ(j["events"][1]["reason"], "assessed: flagged");
  EXPECT_EQ(j["events"][1]["at"], "2026-03-02T12:01:00Z");
  ASSERT_EQ(j["attention"].size(), 1u);
  EXPECT_EQ(j["attention"][0]["code"], "not_on_roster");
}

TEST_F(AdminTest, ShowMatchesRefCaseInsensitively) {
  ingest_four();
  std::string lower = decided_.ref;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Output r = show("  " + lower + " ");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Case " + decided_.ref), std::string::npos);
}

TEST_F(AdminTest, UnknownRefIsExitCodeOneWithMessage) {
  ingest_four();
  for (bool as_json : {false, true}) {
    Output r = show("TT-1999-0001", as_json);
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("no case with ref TT-1999-0001"), std::string::npos) << r.err;
  }
  Output empty = show("");
  EXPECT_EQ(empty.rc, 1);
}

TEST_F(AdminTest, ContradictoryOptionsAreExitCodeTwo) {
  ingest_four();
  Output r = list({.state = CaseState::decided, .flagged_only = true});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("contradicts"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(AdminTest, StoreFailureIsExitCodeTwoWithMessage) {
  ingest_four();
  // Break the store behind the Store's back: its events table is gone.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tilskudd.db").string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE events", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Output l = list({});
  EXPECT_EQ(l.rc, 2);
  EXPECT_NE(l.err.find("error: cannot read the cases"), std::string::npos) << l.err;
  Output s = show(decided_.ref);
  EXPECT_EQ(s.rc, 2);
  EXPECT_NE(s.err.find("error: cannot read case " + decided_.ref), std::string::npos) << s.err;
}

// ---- actions: resolve, resend, payout --------------------------------------------------------

class AdminActionTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    cfg_ = config::load(corpus_dir() / "config.toml");
    settings_ = admin::letter_settings(cfg_);
  }

  Output resolve(const std::string& ref, const ResolveRequest& req) {
    Output r;
    std::ostringstream out, err;
    r.rc = admin::case_resolve(store(), ref, req, settings_, at(2026, 3, 10), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  Output resend(const std::string& ref) {
    Output r;
    std::ostringstream out, err;
    r.rc = admin::case_resend(store(), ref, "kari", 60, at(2026, 3, 11), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  template <class F>
  Output run(F&& f) {
    Output r;
    std::ostringstream out, err;
    r.rc = f(out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  config::Config cfg_;
  IntakeSettings settings_;
};

ResolveRequest approve_request(std::optional<int> line = std::nullopt) {
  ResolveRequest r;
  r.action = ResolveRequest::Action::approve;
  r.line = line;
  r.admin = "kari";
  return r;
}

TEST_F(AdminActionTest, LetterSettingsUseTheBuiltInTemplatesAndNeedASender) {
  EXPECT_NE(settings_.templates.decision.body.find("{{linjer}}"), std::string::npos);
  EXPECT_EQ(settings_.config, &cfg_);
  config::Config no_sender = cfg_;
  no_sender.smtp.from = "";
  EXPECT_THROW(admin::letter_settings(no_sender), config::ConfigError);
  config::Config bad_dir = cfg_;
  bad_dir.letters.templates_dir = (dir_ / "no-such-folder").string();
  try {
    admin::letter_settings(bad_dir);
    ADD_FAILURE() << "templates from a missing folder";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[letters] templates"), std::string::npos) << e.what();
  }
}

TEST_F(AdminActionTest, ResolvePrintsWhatChangedAndThatTheDaemonSendsTheLetter) {
  ingest_four();
  Output r = resolve(roster_.ref, approve_request());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "TT-2026-0002: flagged -> decided\n"
            "  #  EMPLOYEE         OUTCOME      AMOUNT  REASON\n"
            "  2  Thomas Berntsen  approved  60 000 kr  Innvilget etter vurdering av "
            "saksbehandler.\n"
            "  total: 115 000 kr\n"
            "decision letter queued; the daemon sends it within poll_interval_seconds (60 s) "
            "when it runs\n");
  EXPECT_EQ(store().cases().find_case(roster_.id)->state, CaseState::decided);
}

TEST_F(AdminActionTest, PartialResolveSaysTheCaseStillWaits) {
  ingest_four();
  ResolveRequest ask;
  ask.action = ResolveRequest::Action::ask_documentation;
  ask.admin = "kari";
  ask.missing = {"Bekreftelse fra studiestedet"};
  Output r = resolve(org_.ref, ask);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(org_.ref + ": flagged -> needs_documentation\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  missing: Bekreftelse fra studiestedet\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  reminder due: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("request for documentation queued; the daemon sends it"), std::string::npos)
      << r.out;
}

TEST_F(AdminActionTest, RefusedResolveIsExitCodeOneWithTheReason) {
  ingest_four();
  Output r = resolve(decided_.ref, approve_request());
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("refused: case TT-2026-0001 is decided"), std::string::npos) << r.err;
  Output bad_line = resolve(roster_.ref, approve_request(7));
  EXPECT_EQ(bad_line.rc, 1);
  EXPECT_NE(bad_line.err.find("there is no line 7"), std::string::npos) << bad_line.err;
  Output unknown = resolve("TT-1999-0001", approve_request());
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("no case with ref TT-1999-0001"), std::string::npos);
}

TEST_F(AdminActionTest, ResendRequeuesAFailedDecisionAndRefusesWhenThereIsNone) {
  ingest_four();
  Output none = resend(decided_.ref);  // made without the outbox: no letter
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("has no decision letter"), std::string::npos) << none.err;

  ASSERT_EQ(resolve(roster_.ref, approve_request()).rc, 0);
  auto items = store().outbox().outbox_for_case(roster_.id);
  ASSERT_EQ(items.size(), 1u);
  Output pending = resend(roster_.ref);
  EXPECT_EQ(pending.rc, 1);
  EXPECT_NE(pending.err.find("already waiting to be sent"), std::string::npos) << pending.err;

  store().outbox().begin_send(items[0].id, at(2026, 3, 10));
  store().outbox().mark_outbox(items[0].id, OutboxStatus::failed, "550 mailbox unavailable",
                               std::nullopt);
  Output r = resend("tt-2026-0002");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "TT-2026-0002: decision letter failed -> pending (the same letter, Message-ID "
            "<tilskudd.TT-2026-0002.decision.1@asker.kommune.no>)\n"
            "queued; the daemon sends it within poll_interval_seconds (60 s) when it runs\n");
  EXPECT_EQ(store().outbox().outbox_item(items[0].id)->status, OutboxStatus::pending);
}

TEST_F(AdminActionTest, PayoutCommandsExportScheduleAndMarkPaid) {
  ingest_four();
  store().cases().transition(decided_.id, CaseState::decision_sent, "daemon", "accepted",
                             at(2026, 3, 5));
  const std::string round = decided_.round;
  ASSERT_EQ(round, "2020-09-01");
  const std::string csv =
      "ref,owner,org_number,account_number,employee,programme,amount,case_total\r\n"
      "TT-2026-0001,Solsikken Barnehage AS,921456786,15032741131,Ingrid Solberg,ABLU,55000,"
      "55000\r\n";

  Output x = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_export_command(store(), round, "", o, e);
  });
  EXPECT_EQ(x.rc, 0) << x.err;
  EXPECT_EQ(x.out, csv);  // stdout holds the CSV alone
  EXPECT_NE(x.err.find("round 2020-09-01: 1 case, 1 line, 55 000 kr\n"), std::string::npos)
      << x.err;
  EXPECT_NE(x.err.find("warning: 1 case is not scheduled yet"), std::string::npos) << x.err;

  Output s = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_schedule_command(store(), round, "ola", at(2026, 3, 12), o, e);
  });
  EXPECT_EQ(s.rc, 0) << s.err;
  EXPECT_NE(s.out.find("round 2020-09-01: 1 case scheduled: TT-2026-0001\n"), std::string::npos)
      << s.out;
  Output again = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_schedule_command(store(), round, "ola", at(2026, 3, 12), o, e);
  });
  EXPECT_EQ(again.rc, 0);
  EXPECT_NE(again.out.find("round 2020-09-01: nothing to schedule; 1 case is already scheduled"),
            std::string::npos)
      << again.out;

  const fs::path file = dir_ / "round.csv";
  Output f = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_export_command(store(), round, file.string(), o, e);
  });
  EXPECT_EQ(f.rc, 0) << f.err;
  EXPECT_EQ(testing::read_file(file), csv);
  EXPECT_NE(f.out.find("1 case, 1 line, 55 000 kr -> " + file.string()), std::string::npos)
      << f.out;
  EXPECT_EQ(f.err.find("not scheduled"), std::string::npos) << f.err;

  Output paid = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_mark_paid_command(store(), round, "ola", at(2026, 4, 1), o, e);
  });
  EXPECT_EQ(paid.rc, 0) << paid.err;
  EXPECT_NE(paid.out.find("1 case paid: TT-2026-0001"), std::string::npos) << paid.out;
  EXPECT_EQ(store().cases().find_case(decided_.id)->state, CaseState::paid);
}

TEST_F(AdminActionTest, HeldPayoutIsNamedLeftOutShownAndReleasedWithANote) {
  ingest_four();
  store().cases().transition(decided_.id, CaseState::decision_sent, "daemon", "accepted",
                             at(2026, 3, 5));
  store().events().add_event(decided_.id, "daemon", "message received after the decision (reply)",
                             at(2026, 3, 6), {{"message_row", 9}, {"holds_payout", true}});
  const std::string round = decided_.round;

  Output x = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_export_command(store(), round, "", o, e);
  });
  EXPECT_EQ(x.rc, 0) << x.err;
  EXPECT_EQ(x.out, "ref,owner,org_number,account_number,employee,programme,amount,case_total\r\n");
  EXPECT_NE(x.err.find("warning: TT-2026-0001 not in the file, held for a person: message "
                       "received after the decision (reply) at 2026-03-06"),
            std::string::npos)
      << x.err;
  EXPECT_NE(x.err.find("tilskudd cases release TT-2026-0001 --by NAME --note TEXT"),
            std::string::npos)
      << x.err;

  Output s = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_schedule_command(store(), round, "ola", at(2026, 3, 12), o, e);
  });
  EXPECT_EQ(s.rc, 0);
  EXPECT_NE(s.out.find("nothing to schedule"), std::string::npos) << s.out;
  EXPECT_NE(s.err.find("TT-2026-0001 left out, held for a person"), std::string::npos) << s.err;

  Output text = show(decided_.ref);
  EXPECT_NE(text.out.find("Payout held for a person"), std::string::npos) << text.out;
  Output j = show(decided_.ref, true);
  EXPECT_TRUE(json::parse(j.out)["payout_hold"].is_string()) << j.out;

  const auto release = [&](const std::string& note) {
    return run([&](std::ostream& o, std::ostream& e) {
      return admin::case_release(store(), decided_.ref, "kari", note, at(2026, 3, 13), o, e);
    });
  };
  Output no_note = release("  ");
  EXPECT_EQ(no_note.rc, 1);
  EXPECT_NE(no_note.err.find("--note is required"), std::string::npos) << no_note.err;
  Output r = release("leste svaret: bare en takk");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("TT-2026-0001: payout released by kari"), std::string::npos) << r.out;
  EXPECT_TRUE(json::parse(show(decided_.ref, true).out)["payout_hold"].is_null());
  Output twice = release("igjen");
  EXPECT_EQ(twice.rc, 1);
  EXPECT_NE(twice.err.find("is not held"), std::string::npos) << twice.err;
  Output after = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_schedule_command(store(), round, "ola", at(2026, 3, 14), o, e);
  });
  EXPECT_NE(after.out.find("1 case scheduled: TT-2026-0001"), std::string::npos) << after.out;
}

TEST_F(AdminActionTest, StorePendingListsTheUidsWithoutABodyAsTextAndJson) {
  Output none = run([&](std::ostream& o, std::ostream& e) {
    return admin::store_pending(store(), false, at(2026, 3, 1), o, e);
  });
  EXPECT_EQ(none.rc, 0);
  EXPECT_NE(none.out.find("no pending UIDs"), std::string::npos) << none.out;

  const Timestamp t = at(2026, 3, 1);
  store().messages().note_pending("INBOX", 7, 42, "the server answered the FETCH with no data", t,
                                  t + std::chrono::minutes{1});
  store().messages().note_pending("INBOX", 7, 42, "stand-in \x1b[31mtext",
                                  t + std::chrono::minutes{1}, t + std::chrono::minutes{3});
  Output text = run([&](std::ostream& o, std::ostream& e) {
    return admin::store_pending(store(), false, t + std::chrono::minutes{1}, o, e);
  });
  EXPECT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("INBOX UID 42 (UIDVALIDITY 7): 2 attempt(s) since "), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("next try in 2 min"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << "server text is made terminal-safe";

  Output json = run([&](std::ostream& o, std::ostream& e) {
    return admin::store_pending(store(), true, t, o, e);
  });
  const auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["uid"], 42);
  EXPECT_EQ(j[0]["uidvalidity"], 7);
  EXPECT_EQ(j[0]["attempts"], 2);
  EXPECT_EQ(j[0]["next_try"], iso_utc(t + std::chrono::minutes{3}));
  EXPECT_EQ(j[0]["first_seen"], iso_utc(t));

  store().messages().clear_pending("INBOX", 7, 42);
  EXPECT_TRUE(store().messages().pending_uids().empty());
}

TEST_F(AdminActionTest, PayoutRefusalsAndFileErrors) {
  ingest_four();
  Output unknown = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_schedule_command(store(), "2031-12-01", "ola", at(2026, 3, 12), o, e);
  });
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("refused: no case belongs to round 2031-12-01"), std::string::npos)
      << unknown.err;

  const fs::path file = dir_ / "missing-folder" / "round.csv";
  Output f = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_export_command(store(), decided_.round, file.string(), o, e);
  });
  EXPECT_EQ(f.rc, 2);
  EXPECT_NE(f.err.find("cannot open"), std::string::npos) << f.err;
  EXPECT_FALSE(fs::exists(file));

  // A refused export leaves no file behind.
  const fs::path refused = dir_ / "refused.csv";
  Output r = run([&](std::ostream& o, std::ostream& e) {
    return admin::payout_export_command(store(), "2031-12-01", refused.string(), o, e);
  });
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(fs::exists(refused));
}

}  // namespace
}  // namespace tilskudd
