// A saksbehandler's actions (workflow/resolve.h) on a real store with real cases: corpus mails
// taken in by intake_message exactly as the daemon does, then approved, rejected, asked for
// documentation, re-sent and paid out. Every refusal must leave the store as it was.
#include "workflow/resolve.h"

#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <deque>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "parsers/mime.h"
#include "parsers/text.h"
#include "tests/support/support.h"
#include "workflow/intake.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using nlohmann::json;
using Action = ResolveRequest::Action;

fs::path corpus_dir() {
  return testing::source_dir() / "tests" / "corpus";
}

std::string corpus(const std::string& name) {
  return testing::read_file(corpus_dir() / (name + ".eml"));
}

Timestamp at(int y, unsigned m, unsigned d, int hour = 8, int minute = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour} + minutes{minute};
}

// Every occurrence: the text/plain and the text/html version of a body say the same, or the
// case is held (alternatives_disagree).
std::string replaced(std::string raw, const std::string& from, const std::string& to) {
  auto pos = raw.find(from);
  if (pos == std::string::npos) throw std::runtime_error("not in the mail: " + from);
  for (; pos != std::string::npos; pos = raw.find(from, pos + to.size()))
    raw.replace(pos, from.size(), to);
  return raw;
}

// The decoded text of an outbox item (the whole RFC 5322 message).
std::string letter_text(const OutboxItem& item) {
  return mime::parse(item.body).text;
}

ResolveRequest approve(std::optional<int> line = std::nullopt,
                       std::optional<Kroner> amount = std::nullopt, std::string note = "") {
  ResolveRequest r;
  r.action = Action::approve;
  r.line = line;
  r.amount = amount;
  r.admin = "kari.saksbehandler";
  r.note = std::move(note);
  return r;
}

ResolveRequest reject(std::optional<int> line, std::string note) {
  ResolveRequest r;
  r.action = Action::reject;
  r.line = line;
  r.admin = "kari.saksbehandler";
  r.note = std::move(note);
  return r;
}

ResolveRequest ask(std::vector<std::string> missing) {
  ResolveRequest r;
  r.action = Action::ask_documentation;
  r.admin = "kari.saksbehandler";
  r.missing = std::move(missing);
  return r;
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_resolve_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "tilskudd.db").string();
    cfg_ = config::load(corpus_dir() / "config.toml");
    settings_.config = &cfg_;
    settings_.templates =
        outgoing::load_templates(fs::path(TILSKUDD_SOURCE_DIR) / "config" / "templates");
    PdfLimits limits = cfg_.limits.pdf;
    settings_.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };
    store_.emplace(Store::open(path_));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Store& store() { return *store_; }

  // A mail taken in as the daemon does; returns its case.
  CaseRecord take_in(const std::string& raw, const std::string& received = kReceived) {
    raws_.push_back(raw);
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = ++uid_;
    m.message_id = mime::parse(raws_.back()).headers.message_id;
    m.raw = raws_.back();
    m.received = received;
    IntakeOutcome out = intake_message(store(), m, settings_, now_);
    EXPECT_TRUE(out.case_record) << "no case for uid " << uid_;
    return out.case_record ? *out.case_record : CaseRecord{};
  }
  CaseRecord take_in_corpus(const std::string& name) { return take_in(corpus(name)); }

  CaseRecord reload(const CaseRecord& c) { return *store().cases().find_case(c.id); }

  std::optional<OutboxItem> outbox_of(const CaseRecord& c, OutboxKind kind) {
    std::optional<OutboxItem> found;
    for (auto& o : store().outbox().outbox_for_case(c.id)) {
      if (o.kind == kind) found = o;
    }
    return found;
  }

  // Every row of a query, its columns joined with '|'.
  std::vector<std::string> rows(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::vector<std::string> out;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      out.push_back(row);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  // Everything a refused action must leave as it was.
  std::vector<std::string> snapshot() {
    std::vector<std::string> all;
    for (const char* sql :
         {"SELECT * FROM cases ORDER BY id", "SELECT * FROM case_lines ORDER BY case_id, idx",
          "SELECT * FROM events ORDER BY id", "SELECT * FROM outbox ORDER BY id",
          "SELECT * FROM ledger ORDER BY rowid"}) {
      for (auto& r : rows(sql)) all.push_back(r);
    }
    return all;
  }

  // A refusal of the given kind, and nothing written.
  void expect_refused(const std::string& ref, const ResolveRequest& r, ResolveError::Kind kind,
                      const std::string& message_part) {
    auto before = snapshot();
    try {
      resolve_case(store(), ref, r, settings_, later_);
      ADD_FAILURE() << "not refused: " << message_part;
    } catch (const ResolveError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos) << e.what();
    }
    EXPECT_EQ(snapshot(), before) << "a refused action wrote something: " << message_part;
  }

  // The case's latest event.
  CaseEvent last_event(const CaseRecord& c) { return store().events().case_events(c.id).back(); }

  // What the outbox worker does when the decision was accepted.
  void mark_sent(const CaseRecord& c) {
    auto item = outbox_of(c, OutboxKind::decision);
    ASSERT_TRUE(item) << c.ref;
    store().outbox().begin_send(item->id, now_);
    store().outbox().mark_outbox(item->id, OutboxStatus::sent, "", std::nullopt);
    store().cases().transition(c.id, CaseState::decision_sent, "daemon", "accepted", now_);
  }

  static constexpr const char* kReceived = "2020-08-20T10:00:00+02:00";
  fs::path dir_;
  std::string path_;
  config::Config cfg_;
  IntakeSettings settings_;
  std::optional<Store> store_;
  std::deque<std::string> raws_;
  std::uint32_t uid_ = 0;
  Timestamp now_ = at(2020, 8, 20, 8);
  Timestamp later_ = at(2020, 8, 24, 9, 30);
};

// ---- approve -------------------------------------------------------------------------------

TEST_F(ResolveTest, ApproveFlaggedCaseDecidesItWithTheRulesAmountAndQueuesTheDecision) {
  CaseRecord c = take_in_corpus("06-gmail-not-on-roster");
  ASSERT_EQ(c.state, CaseState::flagged);
  ASSERT_EQ(c.lines.size(), 2u);
  ASSERT_EQ(c.lines[1].outcome, rules::Outcome::flagged);
  ASSERT_FALSE(outbox_of(c, OutboxKind::decision));

  ResolveResult r = resolve_case(store(), "tt-2020-0001", approve(), settings_, later_);
  EXPECT_EQ(r.from, CaseState::flagged);
  EXPECT_EQ(r.lines, std::vector<int>{2});
  ASSERT_TRUE(r.queued);
  EXPECT_EQ(*r.queued, OutboxKind::decision);

  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  // Thomas Berntsen: cost 95 000 − state grant 35 000 (rule 4, from the form).
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.lines[1].amount, 60000);
  EXPECT_EQ(c.lines[1].reason_code, "admin_approved");
  EXPECT_EQ(c.lines[1].reason, "Innvilget etter vurdering av saksbehandler.");
  EXPECT_EQ(c.lines[0].reason_code, "state_granted_remainder");  // untouched
  EXPECT_EQ(c.lines[0].amount, 55000);
  EXPECT_EQ(c.total, 115000);
  EXPECT_EQ(r.case_record.total, 115000);

  auto item = outbox_of(c, OutboxKind::decision);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->status, OutboxStatus::pending);
  EXPECT_EQ(item->next_attempt_at, iso_utc(later_));
  EXPECT_EQ(item->message_id, "tilskudd.TT-2020-0001.decision.1@asker.kommune.no");
  const std::string text = letter_text(*item);
  EXPECT_NE(text.find("Thomas Berntsen: innvilget, kr 60 000. Innvilget etter vurdering av "
                      "saksbehandler."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Silje Nilsen: innvilget, kr 55 000."), std::string::npos) << text;
  EXPECT_NE(text.find("Samlet tilskudd: kr 115 000"), std::string::npos) << text;

  // The ledger has both approved lines, in the rules' year of the round.
  EXPECT_EQ(rows("SELECT year, employee_key, amount, kind FROM ledger ORDER BY rowid"),
            (std::vector<std::string>{
                "2020|" + text::name_key("Silje Nilsen") + "|55000|state_granted_remainder",
                "2020|" + text::name_key("Thomas Berntsen") + "|60000|admin_approved"}));

  CaseEvent e = last_event(c);
  EXPECT_EQ(e.actor, "admin:kari.saksbehandler");
  ASSERT_TRUE(e.from);
  EXPECT_EQ(*e.from, CaseState::flagged);
  EXPECT_EQ(e.to, CaseState::decided);
  json d = json::parse(e.detail);
  EXPECT_EQ(d["action"], "approve");
  EXPECT_TRUE(d["line"].is_null());
  EXPECT_TRUE(d["amount"].is_null());
  EXPECT_EQ(d["note"], "");
  ASSERT_EQ(d["lines"].size(), 1u);
  EXPECT_EQ(d["lines"][0]["line"], 2);
  EXPECT_EQ(d["lines"][0]["from"], "flagged");
  EXPECT_EQ(d["lines"][0]["amount"], 60000);
  // Every event of the action names the admin.
  for (const CaseEvent& ev : store().events().case_events(c.id)) {
    if (ev.at == iso_utc(later_)) {
      EXPECT_EQ(ev.actor, "admin:kari.saksbehandler") << ev.reason;
    }
  }
}

// Issue 12: a case drawn for the audit sample waits with the rules' decision and no letter; a
// person's approve releases it as the rules decided, and the letter says a person took part.
TEST_F(ResolveTest, AuditSampleHoldsTheDecisionUntilAPersonApprovesIt) {
  cfg_.controls.audit_sample_percent = 100;
  CaseRecord c = take_in_corpus("01-outlook-single-ablu");
  ASSERT_EQ(c.state, CaseState::flagged);
  EXPECT_TRUE(std::any_of(c.flags.begin(), c.flags.end(),
                          [](const Flag& f) { return f.code == "audit_sample"; }));
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.lines[0].amount, 55000);
  EXPECT_FALSE(outbox_of(c, OutboxKind::decision));

  ResolveResult r = resolve_case(store(), c.ref, approve(), settings_, later_);
  EXPECT_EQ(r.from, CaseState::flagged);
  ASSERT_TRUE(r.queued);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.lines[0].reason_code, "state_granted_remainder");  // as the rules decided
  EXPECT_EQ(c.total, 55000);
  auto item = outbox_of(c, OutboxKind::decision);
  ASSERT_TRUE(item);
  const std::string text = letter_text(*item);
  EXPECT_NE(text.find("en saksbehandler har vurdert den"), std::string::npos) << text;
  EXPECT_EQ(text.find("fattet automatisk"), std::string::npos) << text;
}

// Issue 12, attack 5 with a person: a line over [controls] max_auto_line_amount waits; a person
// may approve it (their decision, their note).
TEST_F(ResolveTest, OverTheAutomaticLimitAPersonDecides) {
  cfg_.controls.max_auto_line_amount = 50000;
  CaseRecord c = take_in_corpus("01-outlook-single-ablu");  // the rules give kr 55 000
  ASSERT_EQ(c.state, CaseState::flagged);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::flagged);
  EXPECT_EQ(c.lines[0].reason_code, "over_auto_limit");
  EXPECT_EQ(c.total, 0);
  EXPECT_FALSE(outbox_of(c, OutboxKind::decision));

  resolve_case(store(), c.ref, approve(), settings_, later_);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.lines[0].amount, 55000);  // the rules' amount, approved by a person
  EXPECT_EQ(c.lines[0].reason_code, "admin_approved");
}

TEST_F(ResolveTest, ApproveWithAnotherAmountNeedsANoteWhichBecomesTheReason) {
  CaseRecord c = take_in_corpus("06-gmail-not-on-roster");
  expect_refused(c.ref, approve(2, 50000), ResolveError::Kind::bad_request, "differs from the");
  expect_refused(c.ref, approve(2, 95001, "For mye"), ResolveError::Kind::bad_request,
                 "more than the line's cost");
  expect_refused(c.ref, approve(2, 0, "Null"), ResolveError::Kind::bad_request, "more than 0 kr");

  const std::string note = "Innvilget med kr 50 000 etter avtale om delvis finansiering.";
  ResolveResult r = resolve_case(store(), c.ref, approve(2, 50000, note), settings_, later_);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.lines[1].amount, 50000);
  EXPECT_EQ(c.lines[1].reason, note);
  EXPECT_EQ(c.total, 105000);
  json d = json::parse(last_event(c).detail);
  EXPECT_EQ(d["line"], 2);
  EXPECT_EQ(d["amount"], 50000);
  EXPECT_EQ(d["note"], note);
  const std::string text = letter_text(*outbox_of(c, OutboxKind::decision));
  EXPECT_NE(text.find("Thomas Berntsen: innvilget, kr 50 000. " + note), std::string::npos) << text;
}

TEST_F(ResolveTest, ApprovingTheRulesAmountNeedsNoNote) {
  CaseRecord c = take_in_corpus("06-gmail-not-on-roster");
  resolve_case(store(), c.ref, approve(2, 60000), settings_, later_);
  EXPECT_EQ(reload(c).lines[1].amount, 60000);
  EXPECT_EQ(reload(c).state, CaseState::decided);
}

TEST_F(ResolveTest, ApproveOneLineOfTwoKeepsTheCaseFlaggedThenRejectTheOtherDecidesIt) {
  cfg_.years.at(2020).roster.reset();  // every eligible line: no_roster
  CaseRecord c = take_in_corpus("02-gmail-grant-and-rejection");
  ASSERT_EQ(c.state, CaseState::flagged);
  ASSERT_EQ(c.lines.size(), 2u);
  ASSERT_EQ(c.lines[0].outcome, rules::Outcome::flagged);
  ASSERT_EQ(c.lines[1].outcome, rules::Outcome::flagged);

  ResolveResult r = resolve_case(store(), c.ref, approve(1), settings_, later_);
  EXPECT_FALSE(r.queued);
  EXPECT_EQ(r.lines, std::vector<int>{1});
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::flagged);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.lines[0].amount, 55000);  // 95 000 − 40 000
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::flagged);
  EXPECT_EQ(c.total, 55000);
  EXPECT_TRUE(store().outbox().outbox_for_case(c.id).empty());
  EXPECT_TRUE(rows("SELECT * FROM ledger").empty());
  ASSERT_FALSE(c.flags.empty());  // line 2 still waits for the same reason
  EXPECT_EQ(c.flags.front().code, "no_roster");
  CaseEvent e = last_event(c);
  EXPECT_EQ(e.actor, "admin:kari.saksbehandler");
  EXPECT_EQ(e.to, CaseState::flagged);
  EXPECT_EQ(json::parse(e.detail)["line"], 1);

  expect_refused(c.ref, reject(2, ""), ResolveError::Kind::bad_request, "needs a note");
  const std::string note = "Jonas Berg er ikke i gang med barnehagelærerutdanning.";
  r = resolve_case(store(), c.ref, reject(2, note), settings_, later_ + minutes(5));
  ASSERT_TRUE(r.queued);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::rejected);
  EXPECT_EQ(c.lines[1].amount, 0);
  EXPECT_EQ(c.lines[1].reason, note);
  EXPECT_EQ(c.lines[1].reason_code, "admin_rejected");
  EXPECT_EQ(c.total, 55000);
  const std::string text = letter_text(*outbox_of(c, OutboxKind::decision));
  EXPECT_NE(text.find("Jonas Berg: avslått, kr 0. " + note), std::string::npos) << text;
  EXPECT_NE(text.find("Marte Kristiansen: innvilget, kr 55 000. Innvilget etter vurdering"),
            std::string::npos)
      << text;
  EXPECT_EQ(rows("SELECT employee_key, amount FROM ledger"),
            std::vector<std::string>{text::name_key("Marte Kristiansen") + "|55000"});

  // What intake needs to keep these decisions through a re-assessment.
  auto decided = admin_line_decisions(store().events().case_events(c.id));
  ASSERT_EQ(decided.size(), 2u);
  EXPECT_EQ(decided[0].employee_key, text::name_key("Marte Kristiansen"));
  EXPECT_EQ(decided[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(decided[0].amount, 55000);
  EXPECT_EQ(decided[1].employee_key, text::name_key("Jonas Berg"));
  EXPECT_EQ(decided[1].outcome, rules::Outcome::rejected);
  EXPECT_EQ(decided[1].reason, note);
  EXPECT_EQ(decided[1].reason_code, "admin_rejected");
}

TEST_F(ResolveTest, StateRejectedLineGetsWhatIsLeftOfTheYearlyCap) {
  cfg_.years.at(2020).roster.reset();
  // Jonas Berg already had 30 000 under the cap this year (another case, in the year's other
  // round: within one round a student is approved at most once, DECISIONS.md "The money
  // ledger").
  CaseRecord other = take_in(corpus("01-outlook-single-ablu"), "2020-10-15T10:00:00+02:00");
  ASSERT_EQ(other.round, "2020-12-01");
  store().ledger().add_ledger(2020, text::name_key("Jonas Berg"), other.id, 30000,
                              "state_rejected_cap");
  CaseRecord c = take_in_corpus("02-gmail-grant-and-rejection");
  resolve_case(store(), c.ref, approve(2), settings_, later_);
  EXPECT_EQ(reload(c).lines[1].amount, 45000);  // min(60 000, 75 000 − 30 000)
}

TEST_F(ResolveTest, NeedsDocumentationCaseCanBeDecidedWithoutTheLetter) {
  CaseRecord c = take_in_corpus("07-iphone-no-letter");
  ASSERT_EQ(c.state, CaseState::needs_documentation);
  ASSERT_FALSE(c.reminder_due.empty());
  ASSERT_FALSE(c.missing.empty());
  // The state's answer is unknown: the rules give nothing, so the admin must say how much.
  expect_refused(c.ref, approve(), ResolveError::Kind::bad_request, "state's answer is unknown");
  expect_refused(c.ref, approve(std::nullopt, 55000), ResolveError::Kind::bad_request,
                 "differs from the 0 kr");

  const std::string note = "Tildelingsbrevet er kontrollert på telefon med Statsforvalteren.";
  resolve_case(store(), c.ref, approve(std::nullopt, 55000, note), settings_, later_);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.total, 55000);
  EXPECT_TRUE(c.missing.empty());
  EXPECT_TRUE(c.reminder_due.empty());
  auto item = outbox_of(c, OutboxKind::decision);
  ASSERT_TRUE(item);
  EXPECT_NE(letter_text(*item).find("Maria Olsen: innvilget, kr 55 000. " + note),
            std::string::npos);
  // The state did not grant it (its answer is unknown): the grant counts toward rule 5's cap.
  EXPECT_EQ(rows("SELECT employee_key, amount, kind FROM ledger"),
            std::vector<std::string>{text::name_key("Maria Olsen") + "|55000|state_rejected_cap"});
}

TEST_F(ResolveTest, ApproveWithNothingWaitingConfirmsTheRulesDecision) {
  CaseRecord c = take_in_corpus("35-invalid-account-number");
  ASSERT_EQ(c.state, CaseState::flagged);
  ASSERT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  expect_refused(c.ref, approve(std::nullopt, 1000, "x"), ResolveError::Kind::bad_line,
                 "no line of case");
  ResolveResult r = resolve_case(store(), c.ref, approve(), settings_, later_);
  EXPECT_TRUE(r.lines.empty());
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.lines[0].reason_code, "state_granted_remainder");
  EXPECT_EQ(c.total, 55000);
  EXPECT_TRUE(outbox_of(c, OutboxKind::decision));
  EXPECT_EQ(last_event(c).reason, "admin confirmed the rules' decision of every line");
}

TEST_F(ResolveTest, RejectWithNothingWaitingRejectsEveryLine) {
  CaseRecord c = take_in_corpus("33-two-case-numbers");
  ASSERT_EQ(c.state, CaseState::flagged);
  const std::string note = "Søknaden gjelder en annen sak.";
  resolve_case(store(), c.ref, reject(std::nullopt, note), settings_, later_);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::decided);
  for (const CaseLine& l : c.lines) {
    EXPECT_EQ(l.outcome, rules::Outcome::rejected);
    EXPECT_EQ(l.reason, note);
  }
  EXPECT_EQ(c.total, 0);
  EXPECT_TRUE(rows("SELECT * FROM ledger").empty());
  EXPECT_EQ(last_event(c).reason, "admin rejected every line");
}

// A flagged line and a line waiting for the state's letter: once the person settles the
// flagged one, the case waits for the letter, and the applicant is asked for it.
TEST_F(ResolveTest, SettlingTheFlaggedLineLeavesTheCaseWaitingForTheLetter) {
  std::string raw =
      "From: Kari <kari@x.no>\r\nSubject: Søknad sak 20/30298\r\nMessage-ID: <a1@x.no>\r\n"
      "\r\nSøknad\r\n";
  IncomingMessage m{"INBOX", 7, 1, "a1@x.no", raw, kReceived};
  auto row = store().messages().record_message(m).id;
  Assessment a;
  a.message_id = "a1@x.no";
  a.subject = "Søknad sak 20/30298";
  a.received = Date{2020, 8, 20};
  a.contact_email = "kari@x.no";
  a.form.found = true;
  a.form.owner = "X Barnehage AS";
  a.form.org_number = "921456786";
  FormLine f1{"Ola Hansen", "ABLU", Programme::ABLU, "", 95000, "", StateStatus::granted,
              40000,        ""};
  FormLine f2{"Kari Lund",  "ABLU", Programme::ABLU, "", 95000, "", StateStatus::unknown,
              std::nullopt, ""};
  a.form.lines = {f1, f2};
  a.decision.status = rules::CaseStatus::flagged;
  a.decision.round = rules::Round{Date{2020, 9, 1}, 2020, 1};
  a.decision.lines = {
      {"Ola Hansen", rules::Outcome::flagged, 0, "...", "not_on_roster", {}},
      {"Kari Lund", rules::Outcome::pending, 0, "...", "documentation_missing", {}}};
  a.flags = {{"not_on_roster", "Ola Hansen is not on the 2020 roster"}};
  CaseRecord c = store().cases().create_case(a, row, now_);
  c = store().cases().transition(c.id, CaseState::flagged, "daemon", "not_on_roster", now_);

  ResolveResult r = resolve_case(store(), c.ref, approve(1), settings_, later_);
  ASSERT_TRUE(r.queued);
  EXPECT_EQ(*r.queued, OutboxKind::documentation_request);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::needs_documentation);
  EXPECT_EQ(c.lines[0].amount, 55000);
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::pending);
  EXPECT_EQ(c.missing,
            std::vector<std::string>{"Tildelingsbrev eller avslagsbrev fra Statsforvalteren for "
                                     "Kari Lund"});
  EXPECT_TRUE(c.flags.empty());  // not_on_roster was Ola's, and Ola is decided
  EXPECT_EQ(c.reminder_due, iso_utc(later_ + days(14)));
  auto item = outbox_of(c, OutboxKind::documentation_request);
  ASSERT_TRUE(item);
  EXPECT_NE(letter_text(*item).find("- Tildelingsbrev eller avslagsbrev fra Statsforvalteren "
                                    "for Kari Lund"),
            std::string::npos);
}

// ---- ask for documentation -----------------------------------------------------------------

TEST_F(ResolveTest, AskDocumentationMovesTheCaseAndQueuesTheRequestNamingWhatIsMissing) {
  CaseRecord c = take_in_corpus("06-gmail-not-on-roster");
  const std::string missing =
      "Bekreftelse fra OsloMet på at Thomas Berntsen er i gang med ABLU høsten 2020";
  ResolveRequest req = ask({missing, "  ", missing});
  req.note = "Ringte barnehagen 24.8.";
  ResolveResult r = resolve_case(store(), c.ref, req, settings_, later_);
  ASSERT_TRUE(r.queued);
  EXPECT_EQ(*r.queued, OutboxKind::documentation_request);
  c = reload(c);
  EXPECT_EQ(c.state, CaseState::needs_documentation);
  EXPECT_EQ(c.missing, std::vector<std::string>{missing});  // blank and repeated items dropped
  EXPECT_EQ(c.lines[1].outcome, rules::Outcome::flagged);   // the lines wait as they were
  EXPECT_EQ(c.reminder_due, iso_utc(later_ + days(cfg_.case_.reminder_days)));
  auto item = outbox_of(c, OutboxKind::documentation_request);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->status, OutboxStatus::pending);
  EXPECT_EQ(item->recipient, "morten.skaug@eventyrskogen.no");
  EXPECT_NE(letter_text(*item).find("- " + missing), std::string::npos) << letter_text(*item);
  CaseEvent e = last_event(c);
  EXPECT_EQ(e.actor, "admin:kari.saksbehandler");
  EXPECT_EQ(e.to, CaseState::needs_documentation);
  json d = json::parse(e.detail);
  EXPECT_EQ(d["action"], "ask_documentation");
  EXPECT_EQ(d["note"], "Ringte barnehagen 24.8.");
  EXPECT_EQ(d["missing"], json::array({missing}));

  // Asked once: a second request is refused; deciding without the answer is allowed.
  expect_refused(c.ref, ask({"Mer"}), ResolveError::Kind::wrong_state,
                 "already waits for documentation");
  resolve_case(store(), c.ref, approve(), settings_, later_ + hours(1));
  EXPECT_EQ(reload(c).state, CaseState::decided);
  EXPECT_TRUE(reload(c).missing.empty());
}

// ---- refusals ------------------------------------------------------------------------------

TEST_F(ResolveTest, RefusalsNameTheProblemAndWriteNothing) {
  CaseRecord decided = take_in_corpus("01-outlook-single-ablu");
  CaseRecord flagged = take_in_corpus("06-gmail-not-on-roster");
  ASSERT_EQ(decided.state, CaseState::decided);
  using K = ResolveError::Kind;

  expect_refused("TT-2020-0999", approve(), K::unknown_case, "no case with ref TT-2020-0999");
  expect_refused(decided.ref, approve(), K::wrong_state, "is decided");
  expect_refused(decided.ref, ask({"Brev"}), K::wrong_state, "only a flagged case");
  expect_refused(flagged.ref, approve(3), K::bad_line, "has 2 lines; there is no line 3");
  expect_refused(flagged.ref, approve(0), K::bad_line, "there is no line 0");
  expect_refused(flagged.ref, reject(2, "  "), K::bad_request, "needs a note");
  expect_refused(flagged.ref, ask({}), K::bad_request, "--missing");
  ResolveRequest with_line = ask({"Brev"});
  with_line.line = 2;
  expect_refused(flagged.ref, with_line, K::bad_request, "whole case");
  ResolveRequest nobody = approve();
  nobody.admin = "";
  expect_refused(flagged.ref, nobody, K::bad_request, "--by");
  nobody.admin = "kari\x1b[2J";
  expect_refused(flagged.ref, nobody, K::bad_request, "control characters");
  ResolveRequest reject_amount = reject(2, "Nei");
  reject_amount.amount = 1000;
  expect_refused(flagged.ref, reject_amount, K::bad_request, "goes with approve");
  // A line the rules computed nothing for and no amount.
  cfg_.years.at(2020).cap_per_student_when_state_granted = 0;
  expect_refused(flagged.ref, approve(2), K::bad_request, "give the amount");
}

TEST_F(ResolveTest, ApprovingTwoLinesIsAllOrNothing) {
  cfg_.years.at(2020).roster.reset();
  CaseRecord c = take_in_corpus("02-gmail-grant-and-rejection");
  // Line 1 could take 40 000, line 2 (cost 60 000) could not take 70 000: nothing changes.
  expect_refused(c.ref, approve(std::nullopt, 70000, "Fast sats"), ResolveError::Kind::bad_request,
                 "line 2 (Jonas Berg)");
  EXPECT_EQ(reload(c).lines[0].outcome, rules::Outcome::flagged);
}

// ---- resend --------------------------------------------------------------------------------

TEST_F(ResolveTest, ResendPutsAFailedUncertainOrSentDecisionBackWithTheSameBytes) {
  CaseRecord c = take_in_corpus("01-outlook-single-ablu");
  auto original = outbox_of(c, OutboxKind::decision);
  ASSERT_TRUE(original);
  using K = ResolveError::Kind;
  try {
    resend_decision(store(), c.ref, "kari", later_);
    ADD_FAILURE() << "a pending decision was queued again";
  } catch (const ResolveError& e) {
    EXPECT_EQ(e.kind(), K::nothing_to_do);
  }

  int n = 0;
  for (OutboxStatus s : {OutboxStatus::failed, OutboxStatus::uncertain, OutboxStatus::sent}) {
    store().outbox().begin_send(original->id, now_);
    store().outbox().mark_outbox(original->id, s, "550 no such user", std::nullopt);
    Timestamp when = later_ + hours(++n);
    ResendResult r = resend_decision(store(), c.ref, "kari", when);
    EXPECT_EQ(r.previous, s);
    EXPECT_EQ(r.item.status, OutboxStatus::pending);
    EXPECT_EQ(r.item.next_attempt_at, iso_utc(when));
    EXPECT_EQ(r.item.last_error, "");
    EXPECT_EQ(r.item.message_id, original->message_id);
    EXPECT_EQ(r.item.body, original->body);
    EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);  // the same item, not a new one
    auto next = store().outbox().next_due_outbox(when);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->id, original->id);
    CaseEvent e = last_event(c);
    EXPECT_EQ(e.actor, "admin:kari");
    json d = json::parse(e.detail);
    EXPECT_EQ(d["action"], "resend");
    EXPECT_EQ(d["previous_status"], std::string(enum_name(s)));
  }

  CaseRecord flagged = take_in_corpus("06-gmail-not-on-roster");
  auto before = snapshot();
  try {
    resend_decision(store(), flagged.ref, "kari", later_);
    ADD_FAILURE() << "resent a decision that does not exist";
  } catch (const ResolveError& e) {
    EXPECT_EQ(e.kind(), K::nothing_to_do);
    EXPECT_NE(std::string(e.what()).find("no decision letter"), std::string::npos);
  }
  EXPECT_EQ(snapshot(), before);
}

// ---- payout --------------------------------------------------------------------------------

class PayoutTest : public ResolveTest {
 protected:
  void SetUp() override {
    ResolveTest::SetUp();
    comma_ =
        take_in(replaced(corpus("01-outlook-single-ablu"), "Barnehageeier: Solsikken Barnehage AS",
                         "Barnehageeier: Solsikken Barnehage, avd. \"Nord\" AS"));
    five_ = take_in_corpus("03-outlook-mac-five-lines-table-letter");
    formula_ = take_in(replaced(corpus("05-thunderbird-other-programme"),
                                "Barnehageeier: Vettre G=C3=A5rdsbarnehage AS",
                                "Barnehageeier: @Vettre G=C3=A5rdsbarnehage AS"));
    nothing_ = take_in_corpus("32-state-covers-cost");
    flagged_ = take_in_corpus("06-gmail-not-on-roster");
    other_round_ = take_in(corpus("04-applemail-rejection-capped"), "2020-10-01T10:00:00+02:00");
    for (const CaseRecord* c : {&comma_, &five_, &formula_, &nothing_, &other_round_}) {
      ASSERT_EQ(c->state, CaseState::decided) << c->ref;
      mark_sent(*c);
    }
    ASSERT_EQ(comma_.round, "2020-09-01");
    ASSERT_EQ(other_round_.round, "2020-12-01");
  }

  std::string export_csv(PayoutExport* x = nullptr) {
    std::ostringstream csv;
    PayoutExport r = payout_export(store(), "2020-09-01", csv);
    if (x) *x = r;
    return csv.str();
  }

  CaseRecord comma_, five_, formula_, nothing_, flagged_, other_round_;
};

TEST_F(PayoutTest, ExportIsOneCsvRowPerApprovedLineOfTheRoundsSentCases) {
  PayoutExport x;
  const std::string csv = export_csv(&x);
  EXPECT_EQ(csv,
            "ref,owner,org_number,account_number,employee,programme,amount,case_total\r\n"
            "TT-2020-0001,\"Solsikken Barnehage, avd. \"\"Nord\"\" AS\",921456786,15032741131,"
            "Ingrid Solberg,ABLU,55000,55000\r\n"
            "TT-2020-0002,Stiftelsen Heggedal Barnehager,992888113,92351857228,Lise Haugen,ABLU,"
            "55000,295000\r\n"
            "TT-2020-0002,Stiftelsen Heggedal Barnehager,992888113,92351857228,Nora Lie,ABLU,"
            "40000,295000\r\n"
            "TT-2020-0002,Stiftelsen Heggedal Barnehager,992888113,92351857228,Emil Dahl,"
            "BLU_DELTID,60000,295000\r\n"
            "TT-2020-0002,Stiftelsen Heggedal Barnehager,992888113,92351857228,Sara Moen,"
            "BLU_DELTID,75000,295000\r\n"
            "TT-2020-0002,Stiftelsen Heggedal Barnehager,992888113,92351857228,Tobias Strand,"
            "ABLU,65000,295000\r\n"
            "TT-2020-0003,'@Vettre Gårdsbarnehage AS,924335211,12071839948,Kristian Aas,ABLU,"
            "50000,50000\r\n");
  EXPECT_EQ(x.cases, 3);
  EXPECT_EQ(x.rows, 7);
  EXPECT_EQ(x.total, 400000);
  EXPECT_EQ(x.not_scheduled, 3);
  EXPECT_EQ(x.not_ready, std::vector<std::string>{flagged_.ref});
  // Reading writes nothing.
  auto before = snapshot();
  export_csv();
  EXPECT_EQ(snapshot(), before);
}

TEST_F(PayoutTest, ScheduleThenMarkPaidMoveTheRoundOnceAndSaySoTheSecondTime) {
  auto before_csv = export_csv();
  PayoutChange s = payout_schedule(store(), "2020-09-01", "ola.okonomi", later_);
  EXPECT_EQ(s.changed, (std::vector<std::string>{comma_.ref, five_.ref, formula_.ref}));
  EXPECT_EQ(s.already, 0);
  EXPECT_EQ(s.nothing_to_pay, 1);  // 32: the state covers the cost
  EXPECT_EQ(s.waiting, std::vector<std::string>{flagged_.ref});
  EXPECT_EQ(reload(five_).state, CaseState::scheduled);
  EXPECT_EQ(reload(nothing_).state, CaseState::decision_sent);
  EXPECT_EQ(reload(other_round_).state, CaseState::decision_sent);  // another round
  CaseEvent e = last_event(five_);
  EXPECT_EQ(e.actor, "admin:ola.okonomi");
  EXPECT_EQ(e.to, CaseState::scheduled);
  EXPECT_EQ(json::parse(e.detail)["round"], "2020-09-01");

  // Scheduled cases are still in the export, now all scheduled.
  PayoutExport x;
  EXPECT_EQ(export_csv(&x), before_csv);
  EXPECT_EQ(x.not_scheduled, 0);

  auto snap = snapshot();
  PayoutChange again = payout_schedule(store(), "2020-09-01", "ola.okonomi", later_ + hours(1));
  EXPECT_TRUE(again.changed.empty());
  EXPECT_EQ(again.already, 3);
  EXPECT_EQ(snapshot(), snap);

  PayoutChange paid = payout_mark_paid(store(), "2020-09-01", "ola.okonomi", later_ + days(30));
  EXPECT_EQ(paid.changed, (std::vector<std::string>{comma_.ref, five_.ref, formula_.ref}));
  EXPECT_EQ(reload(comma_).state, CaseState::paid);
  EXPECT_EQ(last_event(comma_).to, CaseState::paid);
  snap = snapshot();
  PayoutChange paid_again = payout_mark_paid(store(), "2020-09-01", "ola.okonomi", later_);
  EXPECT_TRUE(paid_again.changed.empty());
  EXPECT_EQ(paid_again.already, 3);
  EXPECT_EQ(snapshot(), snap);
  // Scheduling after payment changes nothing either.
  EXPECT_EQ(payout_schedule(store(), "2020-09-01", "ola.okonomi", later_).already, 3);

  // Paid cases leave the export.
  EXPECT_EQ(export_csv(&x),
            "ref,owner,org_number,account_number,employee,programme,amount,case_total\r\n");
  EXPECT_EQ(x.cases, 0);
}

TEST_F(PayoutTest, MarkPaidLeavesCasesThatWereNotScheduled) {
  PayoutChange paid = payout_mark_paid(store(), "2020-12-01", "ola.okonomi", later_);
  EXPECT_TRUE(paid.changed.empty());
  EXPECT_EQ(paid.waiting, std::vector<std::string>{other_round_.ref});
  EXPECT_EQ(reload(other_round_).state, CaseState::decision_sent);
}

// ---- payout holds (DECISIONS.md "Payout holds") -------------------------------------------------

// A short reply from the case's own contact to the decision letter.
std::string reply_to(const OutboxItem& ours, const std::string& from, const std::string& text) {
  return "From: " + from + "\r\nTo: post@asker.kommune.no\r\nSubject: SV: " + ours.subject +
         "\r\nDate: Tue, 25 Aug 2020 10:00:00 +0200\r\nMessage-ID: <reply." +
         std::to_string(ours.id) + "@solsikken-bhg.no>\r\nIn-Reply-To: <" + ours.message_id +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
         "\r\n";
}

// Was a hole (fixed): a message after the decision ("we have a new account number", an appeal,
// a question) was noted for a person, but the case stayed in the payout export and a schedule
// put it into the round: the money went out before anyone read the message.
TEST_F(PayoutTest, AMessageAfterTheDecisionHoldsThePayoutUntilAPersonReleasesIt) {
  const OutboxItem decision = *outbox_of(comma_, OutboxKind::decision);
  take_in(reply_to(decision, "Kari Nordmann <kari.nordmann@solsikken-bhg.no>",
                   "Hei! Vi har fått nytt kontonummer: 1503.27.41139. Hilsen Kari"),
          "2020-08-25T10:00:00+02:00");

  PayoutExport x;
  const std::string csv = export_csv(&x);
  EXPECT_EQ(csv.find(comma_.ref), std::string::npos) << csv;
  EXPECT_EQ(x.cases, 2);
  ASSERT_EQ(x.held.size(), 1u);
  EXPECT_EQ(x.held[0].ref, comma_.ref);
  EXPECT_NE(x.held[0].reason.find("message received after the decision"), std::string::npos)
      << x.held[0].reason;
  EXPECT_EQ(payout_hold(store(), reload(comma_)), x.held[0].reason);

  PayoutChange s = payout_schedule(store(), "2020-09-01", "ola.okonomi", later_);
  EXPECT_EQ(s.changed, (std::vector<std::string>{five_.ref, formula_.ref}));
  ASSERT_EQ(s.held.size(), 1u);
  EXPECT_EQ(s.held[0].ref, comma_.ref);
  EXPECT_EQ(reload(comma_).state, CaseState::decision_sent);

  // Scheduling (or any other admin step) is not a person reading the message.
  EXPECT_TRUE(payout_hold(store(), reload(comma_)));

  // A person reads it and releases the payout, saying what they checked.
  EXPECT_THROW(release_payout(store(), comma_.ref, "kari", "", later_), ResolveError);
  release_payout(store(), comma_.ref, "kari", "kontonummeret bekreftet per telefon", later_);
  EXPECT_FALSE(payout_hold(store(), reload(comma_)));
  const CaseEvent e = last_event(comma_);
  EXPECT_EQ(e.actor, "admin:kari");
  EXPECT_EQ(json::parse(e.detail)["action"], "release_payout");
  EXPECT_EQ(json::parse(e.detail)["note"], "kontonummeret bekreftet per telefon");
  EXPECT_NE(export_csv().find(comma_.ref), std::string::npos);
  EXPECT_EQ(payout_schedule(store(), "2020-09-01", "ola.okonomi", later_).changed,
            std::vector<std::string>{comma_.ref});

  // Releasing what is not held is refused and writes nothing.
  const auto before = snapshot();
  try {
    release_payout(store(), five_.ref, "kari", "ingenting", later_);
    ADD_FAILURE() << "released a case that was not held";
  } catch (const ResolveError& e) {
    EXPECT_EQ(e.kind(), ResolveError::Kind::nothing_to_do);
  }
  EXPECT_EQ(snapshot(), before);
}

// Was a hole (fixed): the real owner's own application after a forger's (or a second contact's)
// was decided flagged the newer case, but the decided one stayed in the payout.
TEST_F(PayoutTest, ACompetingApplicationAfterTheDecisionHoldsThePayout) {
  std::string other = corpus("01-outlook-single-ablu");
  other = replaced(other, "From: Kari Nordmann <kari.nordmann@solsikken-bhg.no>",
                   "From: Hilde Granli <hilde.granli@trollstua-bhg.example>");
  other = replaced(other, "Message-ID: <HE1PR", "Message-ID: <OTHER");
  take_in(other, "2020-08-26T10:00:00+02:00");
  PayoutExport x;
  EXPECT_EQ(export_csv(&x).find(comma_.ref), std::string::npos);
  ASSERT_EQ(x.held.size(), 1u);
  EXPECT_EQ(x.held[0].ref, comma_.ref);
  EXPECT_NE(x.held[0].reason.find("competing_application"), std::string::npos) << x.held[0].reason;
}

TEST_F(PayoutTest, UnknownOrMalformedRoundIsRefused) {
  std::ostringstream csv;
  auto before = snapshot();
  for (const std::string round : {"2020-09-02", "2020-9-1", "", "2020-02-30"}) {
    try {
      payout_export(store(), round, csv);
      ADD_FAILURE() << "exported round '" << round << "'";
    } catch (const ResolveError& e) {
      EXPECT_EQ(e.kind(), ResolveError::Kind::bad_request);
    }
    EXPECT_THROW(payout_schedule(store(), round, "ola", later_), ResolveError);
    EXPECT_THROW(payout_mark_paid(store(), round, "ola", later_), ResolveError);
  }
  try {
    payout_export(store(), "2020-09-02", csv);
  } catch (const ResolveError& e) {
    EXPECT_NE(std::string(e.what()).find("rounds with cases: 2020-09-01, 2020-12-01"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(csv.str(), "");
  EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace tilskudd
