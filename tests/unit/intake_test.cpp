// The daemon's intake (workflow/intake.h) on a real store, with real corpus mails: what one
// fetched message becomes (a case, a merge, a duplicate, nothing), which letters it queues, and
// that a failing store leaves nothing of the message behind.
#include "workflow/intake.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "parsers/mime.h"
#include "tests/support/pdf_writer.h"
#include "tests/support/support.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

fs::path corpus_dir() {
  return testing::source_dir() / "tests" / "corpus";
}

std::string corpus(const std::string& name) {
  return testing::read_file(corpus_dir() / (name + ".eml"));
}

Timestamp at(int y, unsigned m, unsigned d, int hour = 8, int minute = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour} + minutes{minute};
}

// The raw text with its Message-ID header (any spelling of the name) replaced.
std::string with_message_id(std::string raw, const std::string& id) {
  std::string lower = raw;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto pos = lower.find("\nmessage-id:");
  if (pos == std::string::npos) throw std::runtime_error("no Message-ID header");
  auto end = raw.find('\n', pos + 1);
  std::string eol = end > 0 && raw[end - 1] == '\r' ? "\r" : "";
  if (!eol.empty()) --end;
  return raw.substr(0, pos + 1) + "Message-ID: <" + id + ">" + raw.substr(end);
}

// Replaces the first header line starting with `name:` (case as written in the corpus file).
std::string with_header(std::string raw, const std::string& name, const std::string& value) {
  auto pos = raw.find("\n" + name + ":");
  if (pos == std::string::npos) throw std::runtime_error("no " + name + " header");
  auto end = raw.find('\n', pos + 1);
  if (raw[end - 1] == '\r') --end;
  return raw.substr(0, pos + 1) + name + ": " + value + raw.substr(end);
}

// The grant letter Statsforvalteren sends for Maria Olsen (tests/corpus/generate.py, "grant").
std::string maria_grant_letter_pdf() {
  return testing::make_pdf(
      {"Statsforvalteren i Oslo og Viken\n"
       "\n"
       "Vår dato: 24.08.2020    Vår ref.: 2020/41877\n"
       "Deres dato: 29.08.2020    Deres ref.: TS-2020-2\n"
       "\n"
       "Trollstua Barnehage BA\n"
       "Trollstuveien 4\n"
       "1384 Asker\n"
       "\n"
       "Saksbehandler: Nina Bakke\n"
       "\n"
       "Tildeling av tilretteleggingsmidler for barnehagelærerutdanning 2020\n"
       "\n"
       "Vi viser til deres søknad datert 29.08.2020 om tilretteleggingsmidler for ansatte\n"
       "som tar barnehagelærerutdanning.\n"
       "\n"
       "Vedtak\n"
       "Statsforvalteren tildeler Trollstua Barnehage BA kr 40 000 i tilretteleggingsmidler\n"
       "for Maria Olsen, som tar ABLU ved OsloMet, for studieåret 2020/2021.\n"
       "\n"
       "Med hilsen\n"
       "Nina Bakke\n"
       "seniorrådgiver\n"});
}

// The applicant's answer to our documentation request: no form, the grant letter as a PDF.
std::string reply_with_letter(const std::string& subject, const std::string& in_reply_to,
                              const std::string& message_id) {
  std::string r;
  r += "From: Hilde Granli <hilde.granli@trollstua.no>\r\n";
  r += "To: post@asker.kommune.no\r\n";
  r += "Subject: " + subject + "\r\n";
  r += "Date: Tue, 01 Sep 2020 09:12:00 +0200\r\n";
  r += "Message-ID: <" + message_id + ">\r\n";
  if (!in_reply_to.empty()) {
    r += "In-Reply-To: <" + in_reply_to + ">\r\n";
    r +=
        "References: <9D1E7C2B-4A3F-4B6E-8C5D-0E1F2A3B4C5D@trollstua.no> <" + in_reply_to + ">\r\n";
  }
  r += "MIME-Version: 1.0\r\n";
  r += "Content-Type: multipart/mixed; boundary=\"=_trollstua_1\"\r\n";
  r += "\r\n";
  r += "--=_trollstua_1\r\n";
  r += "Content-Type: text/plain; charset=utf-8\r\n";
  r += "Content-Transfer-Encoding: 8bit\r\n";
  r += "\r\n";
  r += "Hei\r\n\r\nVedlagt er brevet fra Statsforvalteren.\r\n\r\nHilsen Hilde\r\n";
  r += "\r\n";
  r += "--=_trollstua_1\r\n";
  r += "Content-Type: application/pdf; name=\"Tildelingsbrev.pdf\"\r\n";
  r += "Content-Disposition: attachment; filename=\"Tildelingsbrev.pdf\"\r\n";
  r += "Content-Transfer-Encoding: base64\r\n";
  r += "\r\n";
  r += testing::base64_lines(maria_grant_letter_pdf());
  r += "--=_trollstua_1--\r\n";
  return r;
}

std::string plain_reply(
    const std::string& subject, const std::string& in_reply_to, const std::string& message_id,
    const std::string& body,
    const std::string& from = "Kari Nordmann <kari.nordmann@solsikken-bhg.no>") {
  std::string r;
  r += "From: " + from + "\r\n";
  r += "To: post@asker.kommune.no\r\n";
  r += "Subject: " + subject + "\r\n";
  r += "Date: Mon, 24 Aug 2020 11:00:00 +0200\r\n";
  r += "Message-ID: <" + message_id + ">\r\n";
  r += "In-Reply-To: <" + in_reply_to + ">\r\n";
  r += "References: <" + in_reply_to + ">\r\n";
  r += "MIME-Version: 1.0\r\n";
  r += "Content-Type: text/plain; charset=utf-8\r\n";
  r += "Content-Transfer-Encoding: 8bit\r\n";
  r += "\r\n";
  r += body;
  return r;
}

bool has_note(const std::vector<IntakeNote>& notes, bool warn, const std::string& part) {
  for (const auto& n : notes) {
    if (n.warn == warn && n.text.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string notes_text(const std::vector<IntakeNote>& notes) {
  std::string out;
  for (const auto& n : notes) out += (n.warn ? "[warn] " : "[info] ") + n.text + "\n";
  return out;
}

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_intake_" + std::to_string(::getpid()) + "_" + info->name());
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

  // IncomingMessage holds a view: the bytes live as long as the test.
  IncomingMessage incoming(const std::string& raw, std::uint32_t uid,
                           const std::string& received = "2020-08-20T10:00:00+02:00") {
    raws_.push_back(raw);
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = uid;
    m.message_id = mime::parse(raws_.back()).headers.message_id;
    m.raw = raws_.back();
    m.received = received;
    return m;
  }

  IntakeOutcome intake(const std::string& raw, std::uint32_t uid,
                       const std::string& received = "2020-08-20T10:00:00+02:00") {
    return intake_message(store(), incoming(raw, uid, received), settings_, now_);
  }

  // Runs SQL on a separate raw connection; returns SQLite's result code.
  int raw_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }

  std::int64_t raw_count(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string sql = "SELECT COUNT(*) FROM " + table;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    std::int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  std::vector<OutboxItem> all_outbox() {
    std::vector<OutboxItem> out;
    for (const auto& c : store().list_cases()) {
      for (auto& o : store().outbox_for_case(c.id)) out.push_back(o);
    }
    return out;
  }

  fs::path dir_;
  std::string path_;
  config::Config cfg_;
  IntakeSettings settings_;
  std::optional<Store> store_;
  std::deque<std::string> raws_;
  Timestamp now_ = at(2020, 8, 20, 8);  // 10:00 in Norway, the message's INTERNALDATE
};

const char* kMsgId01 =
    "HE1PR0701MB2297C3B1E0F2A8D9B1C5E2F5D95C0@HE1PR0701MB2297.eurprd07.prod.outlook.com";
const char* kMsgId07 = "9D1E7C2B-4A3F-4B6E-8C5D-0E1F2A3B4C5D@trollstua.no";

// ---- a decided application -------------------------------------------------------------------

TEST_F(IntakeTest, DecidedApplicationCreatesCaseAndQueuesFullDecisionMessage) {
  IntakeOutcome out = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
  ASSERT_TRUE(out.case_record);
  EXPECT_TRUE(out.mark_in_mailbox);
  const CaseRecord& c = *out.case_record;
  EXPECT_EQ(c.ref, "TT-2020-0001");
  EXPECT_EQ(c.state, CaseState::decided);
  EXPECT_EQ(c.org_number, "921456786");
  EXPECT_EQ(c.contact_email, "kari.nordmann@solsikken-bhg.no");
  EXPECT_EQ(c.round, "2020-09-01");
  EXPECT_EQ(c.received, "2020-08-20");  // the INTERNALDATE, not the Date: header (17 Aug)
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].employee, "Ingrid Solberg");
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(c.total, 55000);
  EXPECT_TRUE(has_note(out.notes, false, "received -> decided")) << notes_text(out.notes);
  EXPECT_TRUE(has_note(out.notes, false, "queued decision")) << notes_text(out.notes);

  // The stored case is what the outcome says.
  auto stored = store().find_case(c.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state, CaseState::decided);

  // One decision in the outbox, to the form's contact address.
  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 1u);
  const OutboxItem& item = items[0];
  EXPECT_EQ(item.kind, OutboxKind::decision);
  EXPECT_EQ(item.status, OutboxStatus::pending);
  EXPECT_EQ(item.recipient, "kari.nordmann@solsikken-bhg.no");
  EXPECT_EQ(item.message_id, "tilskudd.TT-2020-0001.decision.1@asker.kommune.no");
  EXPECT_EQ(item.next_attempt_at, iso_utc(now_));

  // The body is the whole RFC 5322 message.
  mime::Message mail = mime::parse(item.body);
  EXPECT_TRUE(mail.defects.empty());
  EXPECT_NE(mail.headers.subject.find("20/30298"), std::string::npos) << mail.headers.subject;
  EXPECT_NE(mail.headers.subject.find("TT-2020-0001"), std::string::npos) << mail.headers.subject;
  EXPECT_EQ(mail.headers.subject, item.subject);
  EXPECT_EQ(mail.headers.get("X-Tilskudd-Case"), "TT-2020-0001");
  EXPECT_EQ(mail.headers.in_reply_to, kMsgId01);
  EXPECT_EQ(mail.headers.message_id, item.message_id);
  ASSERT_EQ(mail.headers.to.size(), 1u);
  EXPECT_EQ(mail.headers.to[0].address, "kari.nordmann@solsikken-bhg.no");
  ASSERT_EQ(mail.headers.from.size(), 1u);
  EXPECT_EQ(mail.headers.from[0].address, "post@asker.kommune.no");
  EXPECT_NE(mail.text.find("Ingrid Solberg"), std::string::npos) << mail.text;
  EXPECT_NE(mail.text.find("kr 55 000"), std::string::npos) << mail.text;
  EXPECT_NE(mail.text.find("1. september 2020"), std::string::npos) << mail.text;

  // The message: processed, attached, waiting for its keyword.
  auto msg = store().find_message("INBOX", 7, 1);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->id, out.message_row);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);
  EXPECT_EQ(msg->case_id, c.id);
  EXPECT_EQ(msg->message_id, kMsgId01);

  // The caller owns the checkpoint.
  EXPECT_FALSE(store().checkpoint("INBOX"));

  // The event log: created in received, then received -> decided.
  auto events = store().case_events(c.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].from);
  EXPECT_EQ(events[0].to, CaseState::received);
  ASSERT_TRUE(events[1].from);
  EXPECT_EQ(*events[1].from, CaseState::received);
  EXPECT_EQ(events[1].to, CaseState::decided);
  EXPECT_EQ(events[1].actor, "daemon");

  // The letter from the application is on the case.
  auto letters = store().case_letters(c.id);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].kind, LetterKind::grant);

  // Entering decided wrote the ledger (no cap use here, but prior_grants must not throw).
  EXPECT_NO_THROW(store().prior_grants(2020));
}

// ---- needs documentation ---------------------------------------------------------------------

TEST_F(IntakeTest, ApplicationWithoutLetterAsksForDocumentationAndSetsReminder) {
  IntakeOutcome out = intake(corpus("07-iphone-no-letter"), 1);
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
  ASSERT_TRUE(out.case_record);
  const CaseRecord& c = *out.case_record;
  EXPECT_EQ(c.state, CaseState::needs_documentation);
  EXPECT_EQ(c.contact_email, "hilde.granli@trollstua.no");
  EXPECT_FALSE(c.missing.empty());
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].outcome, rules::Outcome::pending);
  // config default reminder_days = 14.
  EXPECT_EQ(cfg_.case_.reminder_days, 14);
  EXPECT_EQ(c.reminder_due, iso_utc(now_ + days(14)));
  EXPECT_EQ(c.reminder_due, "2020-09-03T08:00:00Z");

  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, OutboxKind::documentation_request);
  EXPECT_EQ(items[0].recipient, "hilde.granli@trollstua.no");
  mime::Message mail = mime::parse(items[0].body);
  EXPECT_EQ(mail.headers.get("X-Tilskudd-Case"), c.ref);
  EXPECT_EQ(mail.headers.in_reply_to, kMsgId07);
  // "Sv: <their subject> – dokumentasjon mangler ..."
  EXPECT_EQ(mail.headers.subject.rfind("Sv: Søknad 20/30298 Trollstua", 0), 0u)
      << mail.headers.subject;
  EXPECT_NE(mail.headers.subject.find(c.ref), std::string::npos);
  // The decoded body names the employee whose letter is missing.
  EXPECT_NE(mail.text.find("Maria Olsen"), std::string::npos) << mail.text;
  EXPECT_NE(mail.text.find("Statsforvalteren"), std::string::npos) << mail.text;

  auto msg = store().message(out.message_row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);
  EXPECT_TRUE(out.mark_in_mailbox);
}

// ---- not ours ---------------------------------------------------------------------------------

TEST_F(IntakeTest, UnrelatedMailIsIgnoredAndLeftAloneInTheMailbox) {
  IntakeOutcome out = intake(corpus("23-unrelated-citizen-mail"), 1);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "no_case_number");
  EXPECT_FALSE(out.mark_in_mailbox);
  EXPECT_FALSE(out.case_record);
  EXPECT_TRUE(store().list_cases().empty());
  EXPECT_EQ(raw_count("outbox"), 0);
  auto msg = store().message(out.message_row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->status, MessageStatus::ignored);
  EXPECT_EQ(msg->mailbox_state, MailboxState::none);  // never touched: unread stays unread
  EXPECT_FALSE(msg->case_id);
}

// Every machine-generated mail of the corpus (by its expected ignored_reason).
TEST_F(IntakeTest, MachineMailFromTheCorpusIsIgnoredAndNeverAnswered) {
  int seen = 0;
  std::uint32_t uid = 1;
  for (const auto& e : fs::directory_iterator(corpus_dir())) {
    if (e.path().extension() != ".json") continue;
    auto expected = nlohmann::json::parse(testing::read_file(e.path()));
    if (!expected["ignored_reason"].is_string()) continue;
    std::string reason = expected["ignored_reason"].get<std::string>();
    if (reason == "no_case_number") continue;
    ++seen;
    std::string name = e.path().stem().string();
    IntakeOutcome out = intake(corpus(name), uid++, "2020-09-17T10:00:00+02:00");
    EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored) << name;
    EXPECT_EQ(out.reason, reason) << name;
    EXPECT_FALSE(out.mark_in_mailbox) << name;
    EXPECT_FALSE(out.case_record) << name;
    auto msg = store().message(out.message_row);
    ASSERT_TRUE(msg) << name;
    EXPECT_EQ(msg->status, MessageStatus::ignored) << name;
    EXPECT_EQ(msg->last_error, reason) << name;
    EXPECT_EQ(msg->mailbox_state, MailboxState::none) << name;
  }
  EXPECT_GE(seen, 3);  // auto_reply, bounce, own_message
  EXPECT_TRUE(store().list_cases().empty());
  EXPECT_EQ(raw_count("outbox"), 0);
}

// Our own decision (26) answers the application 01: it is linked to 01's case but only logged.
TEST_F(IntakeTest, OwnMessageLinkedToACaseIsLoggedButNotMergedOrAnswered) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;
  const auto events_before = store().case_events(case_id).size();

  IntakeOutcome out = intake(corpus("26-own-decision-message"), 2, "2020-09-18T10:00:00+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "own_message");
  EXPECT_FALSE(out.mark_in_mailbox);
  auto msg = store().message(out.message_row);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->case_id);  // not attached: it is not part of the application
  EXPECT_EQ(msg->mailbox_state, MailboxState::none);

  auto events = store().case_events(case_id);
  ASSERT_EQ(events.size(), events_before + 1);
  EXPECT_EQ(events.back().reason, "own_message received");
  EXPECT_EQ(store().find_case(case_id)->state, CaseState::decided);
  EXPECT_EQ(store().outbox_for_case(case_id).size(), 1u);
}

// An auto-reply to our decision: logged on the case, never answered (no mail loop).
TEST_F(IntakeTest, AutoReplyToOurDecisionIsNeverAnswered) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;
  std::string decision_id = store().outbox_for_case(case_id).at(0).message_id;

  std::string raw = corpus("24-auto-reply-fravaerende");
  raw = with_header(raw, "In-Reply-To", "<" + decision_id + ">");
  raw = with_header(raw, "References", "<" + decision_id + ">");
  IntakeOutcome out = intake(raw, 2, "2020-09-16T08:12:40+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "auto_reply");
  EXPECT_FALSE(out.mark_in_mailbox);
  EXPECT_TRUE(has_note(out.notes, false, "auto_reply received for the case"))
      << notes_text(out.notes);
  EXPECT_EQ(store().outbox_for_case(case_id).size(), 1u);
  EXPECT_EQ(store().list_cases().size(), 1u);
  EXPECT_EQ(store().case_events(case_id).back().reason, "auto_reply received");
}

// A delivery status notification for our own decision (RFC 3464: the undelivered message is
// attached; the report itself carries no In-Reply-To).
std::string bounce_of(const OutboxItem& ours, bool with_in_reply_to) {
  std::string r;
  r += "Return-Path: <>\r\n";
  r += "Date: Thu, 17 Sep 2020 08:00:13 +0200 (CEST)\r\n";
  r += "From: MAILER-DAEMON@mx01.asker.kommune.no (Mail Delivery System)\r\n";
  r += "Subject: Undelivered Mail Returned to Sender\r\n";
  r += "To: post@asker.kommune.no\r\n";
  r += "Auto-Submitted: auto-replied\r\n";
  r += "Message-Id: <20200917060013.DSN1@mx01.asker.kommune.no>\r\n";
  if (with_in_reply_to) r += "In-Reply-To: <" + ours.message_id + ">\r\n";
  r += "MIME-Version: 1.0\r\n";
  r += "Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn1\"\r\n";
  r += "\r\n";
  r += "--dsn1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  r += "Your message could not be delivered to one or more recipients.\r\n\r\n";
  r += "--dsn1\r\nContent-Type: message/delivery-status\r\n\r\n";
  r += "Reporting-MTA: dns; mx01.asker.kommune.no\r\n\r\n";
  r += "Final-Recipient: rfc822; " + ours.recipient + "\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n";
  r += "--dsn1\r\nContent-Type: message/rfc822\r\n\r\n";
  r += ours.body;
  r += "\r\n--dsn1--\r\n";
  return r;
}

TEST_F(IntakeTest, BounceThatNamesOurDecisionInInReplyToWarnsOnTheCase) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem decision = store().outbox_for_case(c.id).at(0);
  IntakeOutcome out = intake(bounce_of(decision, true), 2, "2020-09-17T08:00:13+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "bounce");
  EXPECT_FALSE(out.mark_in_mailbox);
  EXPECT_TRUE(has_note(out.notes, true, "bounce received for the case")) << notes_text(out.notes);
  EXPECT_EQ(store().case_events(c.id).back().reason, "bounce received");
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 1u);
  EXPECT_FALSE(store().message(out.message_row)->case_id);
}

// Was a bug (fixed): a real DSN names the undelivered message only inside its message/rfc822 part,
// and linked_case (workflow/intake.cpp) looks at the report's own In-Reply-To/References only.
TEST_F(IntakeTest, BounceWithOurDecisionAttachedWarnsOnTheCase) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem decision = store().outbox_for_case(c.id).at(0);
  IntakeOutcome out = intake(bounce_of(decision, false), 2, "2020-09-17T08:00:13+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "bounce");
  EXPECT_TRUE(has_note(out.notes, true, "bounce received for the case")) << notes_text(out.notes);
  EXPECT_EQ(store().case_events(c.id).back().reason, "bounce received");
}

// ---- seen before ------------------------------------------------------------------------------

TEST_F(IntakeTest, SameMessageAtAnotherUidIsADuplicateOfTheFirstCase) {
  const std::string raw = corpus("01-outlook-single-ablu");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;

  IntakeOutcome again = intake(raw, 2);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::duplicate);
  ASSERT_TRUE(again.case_record);
  EXPECT_EQ(again.case_record->id, case_id);
  EXPECT_TRUE(again.mark_in_mailbox);
  EXPECT_NE(again.message_row, first.message_row);
  auto msg = store().message(again.message_row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->status, MessageStatus::duplicate);
  EXPECT_EQ(msg->case_id, case_id);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);
  EXPECT_EQ(store().list_cases().size(), 1u);
  EXPECT_EQ(store().outbox_for_case(case_id).size(), 1u);
  EXPECT_EQ(store().case_events(case_id).back().reason, "the same message seen again");

  // The very same (mailbox, uidvalidity, uid) once more.
  IntakeOutcome third = intake(raw, 1);
  EXPECT_EQ(third.kind, IntakeOutcome::Kind::already_processed);
  EXPECT_EQ(third.message_row, first.message_row);
  EXPECT_TRUE(third.mark_in_mailbox);  // its keyword is still owed
  EXPECT_EQ(store().list_cases().size(), 1u);
  EXPECT_EQ(raw_count("outbox"), 1);
  EXPECT_EQ(raw_count("messages"), 2);

  // Once the keyword is set the mailbox owes nothing.
  store().set_mailbox_state(first.message_row, MailboxState::marked);
  EXPECT_FALSE(intake(raw, 1).mark_in_mailbox);
}

TEST_F(IntakeTest, IgnoredMessageSeenAgainStaysIgnored) {
  const std::string raw = corpus("23-unrelated-citizen-mail");
  ASSERT_EQ(intake(raw, 1).kind, IntakeOutcome::Kind::ignored);
  IntakeOutcome again = intake(raw, 2);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::ignored);
  EXPECT_FALSE(again.mark_in_mailbox);
  EXPECT_EQ(store().message(again.message_row)->status, MessageStatus::ignored);
  EXPECT_TRUE(store().list_cases().empty());
}

TEST_F(IntakeTest, ApplicationSentAgainWithNewMessageIdJoinsTheFirstCase) {
  const std::string raw = corpus("01-outlook-single-ablu");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;

  std::string resent = with_message_id(raw, "resent-0001@solsikken-bhg.no");
  ASSERT_NE(resent, raw);
  IntakeOutcome out = intake(resent, 2, "2020-08-21T09:00:00+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "the same application sent again");
  ASSERT_TRUE(out.case_record);
  EXPECT_EQ(out.case_record->id, case_id);
  EXPECT_TRUE(out.mark_in_mailbox);
  // The case was decided already: a person reads it, nothing is decided twice.
  EXPECT_TRUE(has_note(out.notes, true, "after the decision")) << notes_text(out.notes);
  EXPECT_EQ(store().list_cases().size(), 1u);
  auto items = store().outbox_for_case(case_id);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, OutboxKind::decision);
  auto msg = store().message(out.message_row);
  EXPECT_EQ(msg->case_id, case_id);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(store().find_case(case_id)->state, CaseState::decided);
}

// Was a bug (fixed): the same application (same form, same grant letter) sent again after the
// round's deadline is matched only within one round (workflow/intake.cpp process(),
// cases_for_org_round), so it becomes a second case in the next round and the same remainder is
// granted twice.
TEST_F(IntakeTest, ApplicationSentAgainAfterTheDeadlineIsNotGrantedTwice) {
  const std::string raw = corpus("01-outlook-single-ablu");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  ASSERT_EQ(first.case_record->total, 55000);
  // "Did you get our application?": the same mail forwarded again on 5 September.
  IntakeOutcome again =
      intake(with_message_id(raw, "again-0905@solsikken-bhg.no"), 2, "2020-09-05T10:00:00+02:00");
  // Decided policy (DECISIONS.md "Identity and duplicates"): a second case, flagged
  // `duplicate` for a person; never a second automatic grant.
  ASSERT_TRUE(again.case_record) << notes_text(again.notes);
  EXPECT_NE(again.case_record->id, first.case_record->id);
  EXPECT_EQ(again.case_record->state, CaseState::flagged);
  bool flagged_duplicate = false;
  for (const auto& f : again.case_record->flags) flagged_duplicate |= f.code == "duplicate";
  EXPECT_TRUE(flagged_duplicate);
  EXPECT_EQ(raw_count("outbox"), 1);
}

TEST_F(IntakeTest, ReceivedDateIsTheNorwegianCalendarDay) {
  const Date fallback{2000, 1, 1};
  // 23:30 UTC in November is 00:30 the next day in Oslo (CET); in August 22:30 UTC is 00:30 CEST.
  EXPECT_EQ(received_date("2020-11-30T23:30:00+00:00", fallback), (Date{2020, 12, 1}));
  EXPECT_EQ(received_date("2020-08-31T22:30:00+00:00", fallback), (Date{2020, 9, 1}));
  EXPECT_EQ(received_date("2020-08-31T21:30:00+00:00", fallback), (Date{2020, 8, 31}));
  EXPECT_EQ(received_date("2020-09-01T23:59:59+02:00", fallback), (Date{2020, 9, 1}));
  EXPECT_EQ(received_date("2020-09-01T08:00:00-05:00", fallback), (Date{2020, 9, 1}));
  // DST starts 2020-03-29 01:00 UTC.
  EXPECT_EQ(received_date("2020-03-29T22:30:00+00:00", fallback), (Date{2020, 3, 30}));
  EXPECT_EQ(received_date("2020-03-28T22:30:00+00:00", fallback), (Date{2020, 3, 28}));
  EXPECT_EQ(received_date("garbage", fallback), fallback);
  EXPECT_EQ(received_date("2020-09-01", fallback), (Date{2020, 9, 1}));
}

// The waiting application 07 sent again (still without letter): it joins, nothing new is owed.
TEST_F(IntakeTest, OpenApplicationSentAgainWithoutNewsStaysWaiting) {
  const std::string raw = corpus("07-iphone-no-letter");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;

  IntakeOutcome out = intake(with_message_id(raw, "again-07@trollstua.no"), 2);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "the same application sent again");
  EXPECT_EQ(out.case_record->state, CaseState::needs_documentation);
  EXPECT_TRUE(has_note(out.notes, false, "still needs_documentation")) << notes_text(out.notes);
  EXPECT_EQ(store().outbox_for_case(case_id).size(), 1u);
}

// ---- replies ---------------------------------------------------------------------------------

TEST_F(IntakeTest, ReplyWithGrantLetterCompletesTheWaitingCase) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.state, CaseState::needs_documentation);
  const OutboxItem request = store().outbox_for_case(c.id).at(0);
  ASSERT_EQ(request.kind, OutboxKind::documentation_request);

  const std::string reply =
      reply_with_letter("Sv: " + request.subject, request.message_id, "reply-1@trollstua.no");
  now_ = at(2020, 9, 1, 7, 30);
  IntakeOutcome out = intake(reply, 2, "2020-09-01T09:12:10+02:00");
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "reply");
  EXPECT_TRUE(out.mark_in_mailbox);
  ASSERT_TRUE(out.case_record);
  const CaseRecord& now_case = *out.case_record;
  EXPECT_EQ(now_case.id, c.id);
  EXPECT_EQ(now_case.state, CaseState::decided);
  ASSERT_EQ(now_case.lines.size(), 1u);
  EXPECT_EQ(now_case.lines[0].employee, "Maria Olsen");
  EXPECT_EQ(now_case.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(now_case.lines[0].amount, 55000);  // 95 000 - 40 000
  EXPECT_EQ(now_case.total, 55000);
  EXPECT_TRUE(now_case.missing.empty());
  // Still the application's round: the reply's date does not move it.
  EXPECT_EQ(now_case.round, "2020-09-01");
  EXPECT_TRUE(has_note(out.notes, false, "needs_documentation -> decided"))
      << notes_text(out.notes);

  // The decision is queued, answering the reply.
  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::decision);
  EXPECT_EQ(items[1].recipient, "hilde.granli@trollstua.no");
  mime::Message mail = mime::parse(items[1].body);
  EXPECT_EQ(mail.headers.in_reply_to, "reply-1@trollstua.no");
  EXPECT_NE(mail.text.find("kr 55 000"), std::string::npos) << mail.text;

  // The new letter is on the case, from the reply.
  auto letters = store().case_letters(c.id);
  auto it = std::find_if(letters.begin(), letters.end(),
                         [](const LetterRecord& l) { return l.filename == "Tildelingsbrev.pdf"; });
  ASSERT_NE(it, letters.end());
  EXPECT_EQ(it->kind, LetterKind::grant);
  EXPECT_EQ(it->message_row, out.message_row);

  auto msg = store().message(out.message_row);
  EXPECT_EQ(msg->case_id, c.id);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);

  // The log shows needs_documentation -> decided.
  auto events = store().case_events(c.id);
  bool decided = std::any_of(events.begin(), events.end(), [](const CaseEvent& e) {
    return e.from && *e.from == CaseState::needs_documentation && e.to == CaseState::decided;
  });
  EXPECT_TRUE(decided);
}

TEST_F(IntakeTest, ReplyWithOnlyTheCaseReferenceInTheSubjectCompletesTheCase) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.ref, "TT-2020-0001");

  // A new mail (no In-Reply-To, no References), our reference typed into the subject.
  const std::string reply = reply_with_letter("Brev fra Statsforvalteren, deres ref. tt-2020-0001",
                                              "", "new-1@trollstua.no");
  IntakeOutcome out = intake(reply, 2, "2020-09-01T09:12:10+02:00");
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "case reference in the subject");
  EXPECT_EQ(out.case_record->id, c.id);
  EXPECT_EQ(out.case_record->state, CaseState::decided);
  EXPECT_EQ(out.case_record->total, 55000);
  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::decision);
  auto letters = store().case_letters(c.id);
  EXPECT_TRUE(std::any_of(letters.begin(), letters.end(), [](const LetterRecord& l) {
    return l.filename == "Tildelingsbrev.pdf" && l.kind == LetterKind::grant;
  }));
}

// A reply that still brings no letter: the case keeps waiting, no second request.
TEST_F(IntakeTest, ReplyWithoutLetterKeepsTheCaseWaiting) {
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem request = store().outbox_for_case(c.id).at(0);
  std::string reply =
      plain_reply("Sv: " + request.subject, request.message_id, "question-1@trollstua.no",
                  "Hei, brevet kommer snart.\r\n", "Hilde Granli <hilde.granli@trollstua.no>");
  IntakeOutcome out = intake(reply, 2);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.case_record->state, CaseState::needs_documentation);
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 1u);
  EXPECT_EQ(store().message(out.message_row)->case_id, c.id);
}

// 07 with a second employee: the grant letter for Maria Olsen settles only her line, so the
// case keeps waiting, and a new documentation request names what is still missing.
TEST_F(IntakeTest, ReplySettlingOneOfTwoLinesAsksAgainForTheRest) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  std::string raw = corpus("07-iphone-no-letter");
  const std::string maria = "Maria Olsen | ABLU | OsloMet | 95 000 | ikke mottatt\r\n";
  auto pos = raw.find(maria);
  ASSERT_NE(pos, std::string::npos);
  raw.insert(pos + maria.size(), "Guro Tangen | ABLU | OsloMet | 80 000 | ikke mottatt\r\n");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case) << notes_text(first.notes);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.state, CaseState::needs_documentation);
  ASSERT_EQ(c.lines.size(), 2u);
  const OutboxItem request = store().outbox_for_case(c.id).at(0);

  IntakeOutcome out = intake(
      reply_with_letter("Sv: " + request.subject, request.message_id, "reply-2@trollstua.no"), 2);
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  const CaseRecord& after = *out.case_record;
  EXPECT_EQ(after.state, CaseState::needs_documentation);
  ASSERT_EQ(after.lines.size(), 2u);
  EXPECT_EQ(after.lines[0].employee, "Maria Olsen");
  EXPECT_EQ(after.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(after.lines[0].amount, 55000);
  EXPECT_EQ(after.lines[1].employee, "Guro Tangen");
  EXPECT_EQ(after.lines[1].outcome, rules::Outcome::pending);
  EXPECT_NE(after.missing, c.missing);

  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::documentation_request);
  EXPECT_EQ(items[1].message_id, "tilskudd." + c.ref + ".documentation_request.2@asker.kommune.no");
  mime::Message mail = mime::parse(items[1].body);
  EXPECT_EQ(mail.headers.in_reply_to, "reply-2@trollstua.no");
  EXPECT_NE(mail.text.find("Guro Tangen"), std::string::npos) << mail.text;
}

// The applicant writes again in the thread of a flagged application: it joins the case, and
// the person who holds it is told; nothing is sent.
TEST_F(IntakeTest, MessageToAFlaggedCaseJoinsItAndWaitsForThePerson) {
  IntakeOutcome first = intake(corpus("06-gmail-not-on-roster"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.state, CaseState::flagged);
  EXPECT_TRUE(has_note(first.notes, true, "flagged for a person")) << notes_text(first.notes);
  EXPECT_TRUE(has_note(first.notes, true, "not_on_roster")) << notes_text(first.notes);
  EXPECT_TRUE(store().outbox_for_case(c.id).empty());
  const std::string app_id = store().message(first.message_row)->message_id;

  std::string raw = plain_reply("Sv: søknaden", app_id, "more-1@eventyrskogen.no",
                                "Thomas Berntsen begynte på ABLU i august.\r\n");
  IntakeOutcome out = intake(raw, 2);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "reply");
  EXPECT_EQ(out.case_record->state, CaseState::flagged);
  EXPECT_TRUE(has_note(out.notes, true, "new evidence for a flagged case"))
      << notes_text(out.notes);
  EXPECT_TRUE(store().outbox_for_case(c.id).empty());
  EXPECT_EQ(store().message(out.message_row)->case_id, c.id);
}

// Rule 5's cap counts across applications and rounds: the ledger written when the first case
// was decided is what the second application of the year is measured against.
TEST_F(IntakeTest, CapForARejectedStudentCountsTheEarlierCaseOfTheYear) {
  const std::string raw = corpus("04-applemail-rejection-capped");
  IntakeOutcome first = intake(raw, 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  EXPECT_EQ(first.case_record->total, 75000);
  EXPECT_EQ(first.case_record->round, "2020-09-01");

  // The next round: not the same application again, a new one for the same student.
  IntakeOutcome second =
      intake(with_message_id(raw, "round2@kanutten.no"), 2, "2020-10-01T10:00:00+02:00");
  ASSERT_EQ(second.kind, IntakeOutcome::Kind::new_case) << notes_text(second.notes);
  ASSERT_TRUE(second.case_record);
  EXPECT_NE(second.case_record->id, first.case_record->id);
  EXPECT_EQ(second.case_record->round, "2020-12-01");
  EXPECT_EQ(second.case_record->state, CaseState::decided);
  ASSERT_EQ(second.case_record->lines.size(), 1u);
  EXPECT_EQ(second.case_record->lines[0].outcome, rules::Outcome::rejected);
  EXPECT_EQ(second.case_record->lines[0].reason_code, "cap_exhausted");
  EXPECT_EQ(second.case_record->total, 0);
}

TEST_F(IntakeTest, ReplyToADecidedCaseIsMergedWithAWarningAndNothingQueued) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord c = *first.case_record;
  const OutboxItem decision = store().outbox_for_case(c.id).at(0);
  const auto events_before = store().case_events(c.id).size();

  std::string reply =
      plain_reply("Sv: " + decision.subject, decision.message_id, "appeal-1@solsikken-bhg.no",
                  "Hei\r\n\r\nVi mener beløpet er feil og klager på vedtaket.\r\n");
  IntakeOutcome out = intake(reply, 2, "2020-08-25T10:00:00+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "reply");
  EXPECT_TRUE(out.mark_in_mailbox);
  EXPECT_TRUE(has_note(out.notes, true, "after the decision")) << notes_text(out.notes);
  ASSERT_TRUE(out.case_record);
  EXPECT_EQ(out.case_record->state, CaseState::decided);
  EXPECT_EQ(store().find_case(c.id)->state, CaseState::decided);
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 1u);
  EXPECT_EQ(store().message(out.message_row)->case_id, c.id);
  auto events = store().case_events(c.id);
  ASSERT_EQ(events.size(), events_before + 1);
  EXPECT_NE(events.back().reason.find("after the decision"), std::string::npos);
  EXPECT_EQ(events.back().to, CaseState::decided);
}

// ---- reminders -------------------------------------------------------------------------------

TEST_F(IntakeTest, ReminderIsQueuedOnceWhenDue) {
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.reminder_due, iso_utc(now_ + days(14)));

  // Not yet due.
  auto early = queue_due_reminders(store(), settings_, now_ + days(13));
  EXPECT_TRUE(early.empty());
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 1u);

  // Due.
  Timestamp later = now_ + days(15);
  auto notes = queue_due_reminders(store(), settings_, later);
  EXPECT_TRUE(has_note(notes, false, "queued reminder")) << notes_text(notes);
  auto items = store().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::reminder);
  EXPECT_EQ(items[1].recipient, "hilde.granli@trollstua.no");
  EXPECT_EQ(items[1].message_id, "tilskudd." + c.ref + ".reminder.1@asker.kommune.no");
  mime::Message mail = mime::parse(items[1].body);
  EXPECT_NE(mail.headers.subject.find("Påminnelse"), std::string::npos) << mail.headers.subject;
  EXPECT_NE(mail.text.find("Maria Olsen"), std::string::npos) << mail.text;
  auto after = store().find_case(c.id);
  EXPECT_EQ(after->reminder_due, "");
  EXPECT_EQ(after->state, CaseState::needs_documentation);
  EXPECT_EQ(store().case_events(c.id).back().reason, "reminder queued");

  // Only one reminder.
  EXPECT_TRUE(queue_due_reminders(store(), settings_, later + days(30)).empty());
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 2u);
}

TEST_F(IntakeTest, NoReminderWhenReminderDaysIsZero) {
  cfg_.case_.reminder_days = 0;
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  EXPECT_EQ(first.case_record->reminder_due, "");
  EXPECT_TRUE(queue_due_reminders(store(), settings_, now_ + days(365)).empty());
  EXPECT_EQ(store().outbox_for_case(first.case_record->id).size(), 1u);
}

// ---- failures and quarantine ------------------------------------------------------------------

TEST_F(IntakeTest, RecordFailureCountsAttemptsAndQuarantineHoldsTheMessageForAPerson) {
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 5);
  auto [row, attempts] = record_failure(store(), m, "parser exploded");
  EXPECT_EQ(attempts, 1);
  auto [row2, attempts2] = record_failure(store(), m, "parser exploded again");
  EXPECT_EQ(row2, row);
  EXPECT_EQ(attempts2, 2);
  auto msg = store().message(row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->status, MessageStatus::failed);
  EXPECT_EQ(msg->attempts, 2);
  EXPECT_EQ(msg->last_error, "parser exploded again");
  EXPECT_EQ(msg->mailbox_state, MailboxState::none);
  EXPECT_TRUE(store().list_cases().empty());

  IntakeOutcome q = quarantine_message(store(), row, "parser exploded again", settings_, now_);
  EXPECT_EQ(q.kind, IntakeOutcome::Kind::new_case);
  EXPECT_EQ(q.reason, "quarantined");
  EXPECT_EQ(q.message_row, row);
  ASSERT_TRUE(q.case_record);
  EXPECT_EQ(q.case_record->state, CaseState::flagged);
  EXPECT_TRUE(has_note(q.notes, true, "quarantined")) << notes_text(q.notes);
  EXPECT_TRUE(has_note(q.notes, true, cfg_.mailbox.quarantine_keyword)) << notes_text(q.notes);

  auto c = store().find_case(q.case_record->id);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, CaseState::flagged);
  ASSERT_FALSE(c->flags.empty());
  EXPECT_TRUE(std::any_of(c->flags.begin(), c->flags.end(),
                          [](const Flag& f) { return f.code == "processing_failed"; }));
  EXPECT_EQ(c->received, "2020-08-20");
  EXPECT_TRUE(store().outbox_for_case(c->id).empty());  // nobody is written to

  msg = store().message(row);
  EXPECT_EQ(msg->status, MessageStatus::quarantined);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_quarantine);
  EXPECT_EQ(msg->case_id, c->id);

  // Never processed again.
  IntakeOutcome again = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::already_processed);
  EXPECT_EQ(store().list_cases().size(), 1u);
}

TEST_F(IntakeTest, FailedMessageIsProcessedNormallyOnItsNextFetch) {
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 5);
  record_failure(store(), m, "transient");
  IntakeOutcome out = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
  EXPECT_EQ(out.case_record->state, CaseState::decided);
  auto msg = store().message(out.message_row);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(msg->attempts, 1);
  EXPECT_EQ(raw_count("messages"), 1);
}

TEST_F(IntakeTest, RetryMessageRunsAStoredFailedMessageFromItsBytes) {
  IncomingMessage m = incoming(corpus("07-iphone-no-letter"), 9);
  auto [row, attempts] = record_failure(store(), m, "transient");
  ASSERT_EQ(attempts, 1);
  IntakeOutcome out = retry_message(store(), row, settings_, now_);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
  EXPECT_EQ(out.message_row, row);
  EXPECT_EQ(out.case_record->state, CaseState::needs_documentation);
  EXPECT_EQ(out.case_record->received, "2020-08-20");
  EXPECT_THROW(retry_message(store(), 999, settings_, now_), StoreError);
}

// Was a bug (fixed): retry_message (workflow/intake.cpp) skips the same-Message-ID / same-bytes
// check that intake_message does, so a failed copy retried after its twin was processed is decided
// again.
TEST_F(IntakeTest, RetriedFailedCopyOfAProcessedMessageIsADuplicate) {
  // 41: after the last deadline of 2021, no rules for 2022: flagged, no round.
  const std::string raw = corpus("41-no-rules-for-year");
  IncomingMessage m1 = incoming(raw, 1, "2021-12-15T09:30:00+01:00");
  auto [row1, attempts] = record_failure(store(), m1, "pdftotext timed out");
  ASSERT_EQ(attempts, 1);
  // The same mail fetched again under another UID (moved back, new UIDVALIDITY...).
  IntakeOutcome second = intake(raw, 2, "2021-12-15T09:30:00+01:00");
  ASSERT_EQ(second.kind, IntakeOutcome::Kind::new_case);
  ASSERT_EQ(second.case_record->state, CaseState::flagged);
  // The poller retries the failed row.
  IntakeOutcome retried = retry_message(store(), row1, settings_, now_);
  EXPECT_EQ(retried.kind, IntakeOutcome::Kind::duplicate);
  EXPECT_EQ(store().list_cases().size(), 1u);
}

// ---- small pure helpers -----------------------------------------------------------------------

TEST(ReceivedDate, TakesTheDatePartOfTheInternalDate) {
  const Date fallback{2030, 1, 2};
  EXPECT_EQ(received_date("2020-08-20T10:00:00+02:00", fallback), (Date{2020, 8, 20}));
  // 05:59:59 UTC on the 25th: the 25th in Norway too.
  EXPECT_EQ(received_date("2026-11-24T23:59:59-05:00", fallback), (Date{2026, 11, 25}));
  EXPECT_EQ(received_date("2020-12-01", fallback), (Date{2020, 12, 1}));
  EXPECT_EQ(received_date("", fallback), fallback);
  EXPECT_EQ(received_date("2020-08", fallback), fallback);
  EXPECT_EQ(received_date("20 Aug 2020 10:00:00 +0200", fallback), fallback);
  EXPECT_EQ(received_date("2020-13-40T10:00:00Z", fallback), fallback);
  EXPECT_EQ(received_date("2021-02-29T10:00:00Z", fallback), fallback);
}

TEST(IntakeKindName, NamesEveryKind) {
  EXPECT_EQ(intake_kind_name(IntakeOutcome::Kind::new_case), "new_case");
  EXPECT_EQ(intake_kind_name(IntakeOutcome::Kind::merged), "merged");
  EXPECT_EQ(intake_kind_name(IntakeOutcome::Kind::duplicate), "duplicate");
  EXPECT_EQ(intake_kind_name(IntakeOutcome::Kind::ignored), "ignored");
  EXPECT_EQ(intake_kind_name(IntakeOutcome::Kind::already_processed), "already_processed");
}

// ---- atomicity --------------------------------------------------------------------------------

// The store fails at the very end (queueing the decision): the message row, the case, its lines,
// letters and events written before are all rolled back.
TEST_F(IntakeTest, StoreFailureLateInIntakeLeavesNothingOfTheMessage) {
  ASSERT_EQ(raw_exec("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
                     "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"),
            SQLITE_OK);
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 1);
  EXPECT_THROW(intake_message(store(), m, settings_, now_), StoreError);

  EXPECT_FALSE(store().find_message("INBOX", 7, 1));
  EXPECT_TRUE(store().list_cases().empty());
  EXPECT_EQ(raw_count("messages"), 0);
  EXPECT_EQ(raw_count("cases"), 0);
  EXPECT_EQ(raw_count("case_lines"), 0);
  EXPECT_EQ(raw_count("letters"), 0);
  EXPECT_EQ(raw_count("events"), 0);
  EXPECT_EQ(raw_count("ledger"), 0);
  EXPECT_EQ(raw_count("blobs"), 0);
  EXPECT_EQ(raw_count("outbox"), 0);

  // The same Store works afterwards, and the failed attempt used no case number.
  ASSERT_EQ(raw_exec("DROP TRIGGER fail_outbox"), SQLITE_OK);
  IntakeOutcome out = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::new_case);
  EXPECT_EQ(out.case_record->ref, "TT-2020-0001");
  EXPECT_EQ(raw_count("outbox"), 1);
}

// Failing halfway through a merge (the reply's letter cannot be stored): the waiting case is as
// it was, and the reply is not recorded, so its next fetch tries again.
TEST_F(IntakeTest, StoreFailureDuringAMergeLeavesTheCaseUntouched) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem request = store().outbox_for_case(c.id).at(0);
  const auto events_before = store().case_events(c.id).size();
  const auto letters_before = raw_count("letters");

  ASSERT_EQ(raw_exec("CREATE TRIGGER fail_decision BEFORE INSERT ON outbox "
                     "WHEN NEW.kind = 'decision' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"),
            SQLITE_OK);
  const std::string reply =
      reply_with_letter("Sv: " + request.subject, request.message_id, "reply-1@trollstua.no");
  IncomingMessage m = incoming(reply, 2);
  EXPECT_THROW(intake_message(store(), m, settings_, now_), StoreError);

  EXPECT_FALSE(store().find_message("INBOX", 7, 2));
  auto after = store().find_case(c.id);
  EXPECT_EQ(after->state, CaseState::needs_documentation);
  EXPECT_EQ(after->lines.at(0).outcome, rules::Outcome::pending);
  EXPECT_EQ(after->reminder_due, c.reminder_due);
  EXPECT_EQ(store().case_events(c.id).size(), events_before);
  EXPECT_EQ(raw_count("letters"), letters_before);
  EXPECT_EQ(raw_count("ledger"), 0);
  EXPECT_EQ(store().outbox_for_case(c.id).size(), 1u);

  ASSERT_EQ(raw_exec("DROP TRIGGER fail_decision"), SQLITE_OK);
  IntakeOutcome out = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged);
  EXPECT_EQ(out.case_record->state, CaseState::decided);
}

// Another connection holds the write lock for longer than the busy timeout: intake cannot begin,
// throws, and has recorded nothing.
TEST_F(IntakeTest, LockedStoreThrowsAndRecordsNothing) {
  Store other = Store::open(path_);
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 1);
  other.transaction([&] {
    try {
      intake_message(store(), m, settings_, now_);
      ADD_FAILURE() << "intake_message did not fail while the store was locked";
    } catch (const StoreError& e) {
      EXPECT_NE(e.code() & 0xff, 0) << e.what();
    }
  });
  EXPECT_FALSE(store().find_message("INBOX", 7, 1));
  EXPECT_EQ(raw_count("messages"), 0);
  EXPECT_EQ(raw_count("cases"), 0);
  EXPECT_EQ(raw_count("blobs"), 0);

  // With the lock gone, the same message goes through.
  EXPECT_EQ(intake_message(store(), m, settings_, now_).kind, IntakeOutcome::Kind::new_case);
}

}  // namespace
}  // namespace tilskudd
