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
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/admin.h"
#include "daemon/pdf_sandbox.h"
#include "parsers/ids.h"
#include "parsers/mime.h"
#include "parsers/text.h"
#include "tests/support/pdf_writer.h"
#include "tests/support/support.h"
#include "workflow/integrity.h"
#include "workflow/outgoing.h"
#include "workflow/resolve.h"
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
    for (const auto& c : store().cases().list_cases()) {
      for (auto& o : store().outbox().outbox_for_case(c.id)) out.push_back(o);
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
  auto stored = store().cases().find_case(c.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state, CaseState::decided);

  // One decision in the outbox, to the form's contact address.
  auto items = store().outbox().outbox_for_case(c.id);
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
  auto msg = store().messages().find_message("INBOX", 7, 1);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->id, out.message_row);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);
  EXPECT_EQ(msg->case_id, c.id);
  EXPECT_EQ(msg->message_id, kMsgId01);

  // The caller owns the checkpoint.
  EXPECT_FALSE(store().messages().checkpoint("INBOX"));

  // The event log: created in received, then received -> decided.
  auto events = store().events().case_events(c.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].from);
  EXPECT_EQ(events[0].to, CaseState::received);
  ASSERT_TRUE(events[1].from);
  EXPECT_EQ(*events[1].from, CaseState::received);
  EXPECT_EQ(events[1].to, CaseState::decided);
  EXPECT_EQ(events[1].actor, "daemon");

  // The letter from the application is on the case.
  auto letters = store().cases().case_letters(c.id);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].kind, LetterKind::grant);

  // Entering decided wrote the ledger (no cap use here, but prior_grants must not throw).
  EXPECT_NO_THROW(store().ledger().prior_grants(2020));
}

// ---- issue 12, attack 7: a forged From under the default [sender] ----------------------------

// Corpus 07 with the form's contact replaced by the address a forger wants a letter sent to.
std::string with_forged_contact(std::string raw) {
  const std::string contact = "E-post: hilde.granli@trollstua.no";
  auto pos = raw.find(contact);
  EXPECT_NE(pos, std::string::npos);
  if (pos != std::string::npos) raw.replace(pos, contact.size(), "E-post: target@victim.example");
  return raw;
}

// Nothing configured ([sender] authserv_ids empty): fail closed. A forged From with no
// Authentication-Results, whose form names the address the forger wants a municipal letter
// sent to, gets no decision and no letter at all (on main it got the documentation request).
TEST_F(IntakeTest, ForgedFromUnderTheDefaultSenderGetsNoLetter) {
  cfg_.sender = config::Sender{};
  ASSERT_TRUE(cfg_.sender.fails_closed());
  IntakeOutcome out = intake(with_forged_contact(corpus("07-iphone-no-letter")), 1);
  ASSERT_TRUE(out.case_record) << notes_text(out.notes);
  const CaseRecord& c = *out.case_record;
  EXPECT_EQ(c.state, CaseState::flagged);
  EXPECT_TRUE(std::any_of(c.flags.begin(), c.flags.end(),
                          [](const Flag& f) { return f.code == "sender_unverified"; }));
  EXPECT_NE(c.contact_email, "target@victim.example");
  EXPECT_TRUE(store().outbox().outbox_for_case(c.id).empty());
  EXPECT_TRUE(all_outbox().empty());
}

// With the explicit opt-out the form's contact outside the sender's domain is still not where
// the letter goes: it goes to the sender (and the domain rule holds the case for a person).
TEST_F(IntakeTest, LettersGoToTheSenderNotToAContactOutsideItsDomain) {
  cfg_.sender.require_match_contact_domain = false;
  IntakeOutcome out = intake(with_forged_contact(corpus("07-iphone-no-letter")), 1);
  ASSERT_TRUE(out.case_record) << notes_text(out.notes);
  EXPECT_EQ(out.case_record->contact_email, "hilde.granli@trollstua.no");
  for (const auto& item : all_outbox()) EXPECT_EQ(item.recipient, "hilde.granli@trollstua.no");
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

  auto items = store().outbox().outbox_for_case(c.id);
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

  auto msg = store().messages().message(out.message_row);
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
  EXPECT_TRUE(store().cases().list_cases().empty());
  EXPECT_EQ(raw_count("outbox"), 0);
  auto msg = store().messages().message(out.message_row);
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
    auto msg = store().messages().message(out.message_row);
    ASSERT_TRUE(msg) << name;
    EXPECT_EQ(msg->status, MessageStatus::ignored) << name;
    EXPECT_EQ(msg->last_error, reason) << name;
    EXPECT_EQ(msg->mailbox_state, MailboxState::none) << name;
  }
  EXPECT_GE(seen, 3);  // auto_reply, bounce, own_message
  EXPECT_TRUE(store().cases().list_cases().empty());
  EXPECT_EQ(raw_count("outbox"), 0);
}

// Our own decision (26) answers the application 01: it is linked to 01's case but only logged.
TEST_F(IntakeTest, OwnMessageLinkedToACaseIsLoggedButNotMergedOrAnswered) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;
  const auto events_before = store().events().case_events(case_id).size();

  IntakeOutcome out = intake(corpus("26-own-decision-message"), 2, "2020-09-18T10:00:00+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "own_message");
  EXPECT_FALSE(out.mark_in_mailbox);
  auto msg = store().messages().message(out.message_row);
  ASSERT_TRUE(msg);
  EXPECT_FALSE(msg->case_id);  // not attached: it is not part of the application
  EXPECT_EQ(msg->mailbox_state, MailboxState::none);

  auto events = store().events().case_events(case_id);
  ASSERT_EQ(events.size(), events_before + 1);
  EXPECT_EQ(events.back().reason, "own_message received");
  EXPECT_EQ(store().cases().find_case(case_id)->state, CaseState::decided);
  EXPECT_EQ(store().outbox().outbox_for_case(case_id).size(), 1u);
}

// An auto-reply to our decision: logged on the case, never answered (no mail loop).
TEST_F(IntakeTest, AutoReplyToOurDecisionIsNeverAnswered) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const std::int64_t case_id = first.case_record->id;
  std::string decision_id = store().outbox().outbox_for_case(case_id).at(0).message_id;

  std::string raw = corpus("24-auto-reply-fravaerende");
  raw = with_header(raw, "In-Reply-To", "<" + decision_id + ">");
  raw = with_header(raw, "References", "<" + decision_id + ">");
  IntakeOutcome out = intake(raw, 2, "2020-09-16T08:12:40+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "auto_reply");
  EXPECT_FALSE(out.mark_in_mailbox);
  EXPECT_TRUE(has_note(out.notes, false, "auto_reply received for the case"))
      << notes_text(out.notes);
  EXPECT_EQ(store().outbox().outbox_for_case(case_id).size(), 1u);
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
  EXPECT_EQ(store().events().case_events(case_id).back().reason, "auto_reply received");
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
  const OutboxItem decision = store().outbox().outbox_for_case(c.id).at(0);
  IntakeOutcome out = intake(bounce_of(decision, true), 2, "2020-09-17T08:00:13+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "bounce");
  EXPECT_FALSE(out.mark_in_mailbox);
  EXPECT_TRUE(has_note(out.notes, true, "bounce received for the case")) << notes_text(out.notes);
  EXPECT_EQ(store().events().case_events(c.id).back().reason, "bounce received");
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);
  EXPECT_FALSE(store().messages().message(out.message_row)->case_id);
}

// Was a bug (fixed): a real DSN names the undelivered message only inside its message/rfc822 part,
// and linked_case (workflow/intake.cpp) looks at the report's own In-Reply-To/References only.
TEST_F(IntakeTest, BounceWithOurDecisionAttachedWarnsOnTheCase) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem decision = store().outbox().outbox_for_case(c.id).at(0);
  IntakeOutcome out = intake(bounce_of(decision, false), 2, "2020-09-17T08:00:13+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "bounce");
  EXPECT_TRUE(has_note(out.notes, true, "bounce received for the case")) << notes_text(out.notes);
  EXPECT_EQ(store().events().case_events(c.id).back().reason, "bounce received");
}

// Was a crash (fixed): case_named_inside ran std::regex over the message, and libstdc++'s regex
// recurses per character, so a 200,000-character word where our Message-IDs name the letter's
// kind overflowed the stack on every restart until the quarantine (issue 14). A plain scan.
TEST_F(IntakeTest, AutoReplyWithAHugeWordAfterOurMessageIdPrefixIsReadNotACrash) {
  IntakeOutcome first = intake(corpus("01-outlook-single-ablu"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem decision = store().outbox().outbox_for_case(c.id).at(0);
  OutboxItem poisoned = decision;
  poisoned.body = "Message-ID: <tilskudd.TT-2020-0001." + std::string(200000, 'a') +
                  ">\r\n\r\nx\r\n" + decision.body;
  IntakeOutcome out = intake(bounce_of(poisoned, false), 2, "2020-09-17T08:00:13+02:00");
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::ignored);
  EXPECT_EQ(out.reason, "bounce");
  // The real Message-ID after the long word is still found.
  EXPECT_TRUE(has_note(out.notes, true, "bounce received for the case")) << notes_text(out.notes);
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
  auto msg = store().messages().message(again.message_row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->status, MessageStatus::duplicate);
  EXPECT_EQ(msg->case_id, case_id);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
  EXPECT_EQ(store().outbox().outbox_for_case(case_id).size(), 1u);
  EXPECT_EQ(store().events().case_events(case_id).back().reason, "the same message seen again");

  // The very same (mailbox, uidvalidity, uid) once more.
  IntakeOutcome third = intake(raw, 1);
  EXPECT_EQ(third.kind, IntakeOutcome::Kind::already_processed);
  EXPECT_EQ(third.message_row, first.message_row);
  EXPECT_TRUE(third.mark_in_mailbox);  // its keyword is still owed
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
  EXPECT_EQ(raw_count("outbox"), 1);
  EXPECT_EQ(raw_count("messages"), 2);

  // Once the keyword is set the mailbox owes nothing.
  store().messages().set_mailbox_state(first.message_row, MailboxState::marked);
  EXPECT_FALSE(intake(raw, 1).mark_in_mailbox);
}

TEST_F(IntakeTest, IgnoredMessageSeenAgainStaysIgnored) {
  const std::string raw = corpus("23-unrelated-citizen-mail");
  ASSERT_EQ(intake(raw, 1).kind, IntakeOutcome::Kind::ignored);
  IntakeOutcome again = intake(raw, 2);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::ignored);
  EXPECT_FALSE(again.mark_in_mailbox);
  EXPECT_EQ(store().messages().message(again.message_row)->status, MessageStatus::ignored);
  EXPECT_TRUE(store().cases().list_cases().empty());
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
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
  auto items = store().outbox().outbox_for_case(case_id);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, OutboxKind::decision);
  auto msg = store().messages().message(out.message_row);
  EXPECT_EQ(msg->case_id, case_id);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(store().cases().find_case(case_id)->state, CaseState::decided);
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
  EXPECT_EQ(store().outbox().outbox_for_case(case_id).size(), 1u);
}

// ---- replies ---------------------------------------------------------------------------------

TEST_F(IntakeTest, ReplyWithGrantLetterCompletesTheWaitingCase) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord c = *first.case_record;
  ASSERT_EQ(c.state, CaseState::needs_documentation);
  const OutboxItem request = store().outbox().outbox_for_case(c.id).at(0);
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
  auto items = store().outbox().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::decision);
  EXPECT_EQ(items[1].recipient, "hilde.granli@trollstua.no");
  mime::Message mail = mime::parse(items[1].body);
  EXPECT_EQ(mail.headers.in_reply_to, "reply-1@trollstua.no");
  EXPECT_NE(mail.text.find("kr 55 000"), std::string::npos) << mail.text;

  // The new letter is on the case, from the reply.
  auto letters = store().cases().case_letters(c.id);
  auto it = std::find_if(letters.begin(), letters.end(),
                         [](const LetterRecord& l) { return l.filename == "Tildelingsbrev.pdf"; });
  ASSERT_NE(it, letters.end());
  EXPECT_EQ(it->kind, LetterKind::grant);
  EXPECT_EQ(it->message_row, out.message_row);

  auto msg = store().messages().message(out.message_row);
  EXPECT_EQ(msg->case_id, c.id);
  EXPECT_EQ(msg->status, MessageStatus::processed);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_mark);

  // The log shows needs_documentation -> decided.
  auto events = store().events().case_events(c.id);
  bool decided = std::any_of(events.begin(), events.end(), [](const CaseEvent& e) {
    return e.from && *e.from == CaseState::needs_documentation && e.to == CaseState::decided;
  });
  EXPECT_TRUE(decided);
}

// Every reply to an open case folds every message of the case again. A PDF that came with the
// first reply (here one pdftotext cannot read, so the case stays open) is read at most twice
// (when it arrives, and the first time the case is folded), however many replies follow: not
// once more per reply (issue 14: quadratic over a case's life).
TEST_F(IntakeTest, RepliesDoNotReadTheCasesDocumentsAgain) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  auto extractions = std::make_shared<int>(0);
  PdfExtractor real = settings_.pdf;
  settings_.pdf = [real, extractions](std::string_view b) {
    ++*extractions;
    return real(b);
  };
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  ASSERT_EQ(first.kind, IntakeOutcome::Kind::new_case);
  const OutboxItem request = store().outbox().outbox_for_case(first.case_record->id).at(0);
  now_ = at(2020, 9, 1, 7, 30);
  const std::string good = testing::base64_lines(maria_grant_letter_pdf());
  for (std::uint32_t uid = 2; uid <= 6; ++uid) {
    std::string reply = reply_with_letter("Sv: " + request.subject, request.message_id,
                                          "reply-" + std::to_string(uid) + "@trollstua.no");
    if (uid == 2) {
      // A PDF pdftotext cannot read: the case waits on.
      reply.replace(reply.find(good), good.size(),
                    testing::base64_lines("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"));
    } else {
      // A plain answer from the same sender, no new document.
      reply = reply.substr(0, reply.find("--=_trollstua_1\r\nContent-Type: application/pdf")) +
              "--=_trollstua_1--\r\n";
    }
    IntakeOutcome o = intake(reply, uid, "2020-09-01T09:12:10+02:00");
    ASSERT_EQ(o.kind, IntakeOutcome::Kind::merged) << notes_text(o.notes);
    ASSERT_NE(o.case_record->state, CaseState::decided) << "the case must stay open";
  }
  EXPECT_LE(*extractions, 2) << "the case's PDF was read again for each reply";
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
  auto items = store().outbox().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::decision);
  auto letters = store().cases().case_letters(c.id);
  EXPECT_TRUE(std::any_of(letters.begin(), letters.end(), [](const LetterRecord& l) {
    return l.filename == "Tildelingsbrev.pdf" && l.kind == LetterKind::grant;
  }));
}

// A reply that still brings no letter: the case keeps waiting, no second request.
TEST_F(IntakeTest, ReplyWithoutLetterKeepsTheCaseWaiting) {
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem request = store().outbox().outbox_for_case(c.id).at(0);
  std::string reply =
      plain_reply("Sv: " + request.subject, request.message_id, "question-1@trollstua.no",
                  "Hei, brevet kommer snart.\r\n", "Hilde Granli <hilde.granli@trollstua.no>");
  IntakeOutcome out = intake(reply, 2);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.case_record->state, CaseState::needs_documentation);
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);
  EXPECT_EQ(store().messages().message(out.message_row)->case_id, c.id);
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
  const OutboxItem request = store().outbox().outbox_for_case(c.id).at(0);

  // The reply comes on 1 September, after the letter it carries (dated 24 August).
  IntakeOutcome out = intake(
      reply_with_letter("Sv: " + request.subject, request.message_id, "reply-2@trollstua.no"), 2,
      "2020-09-01T09:12:10+02:00");
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

  auto items = store().outbox().outbox_for_case(c.id);
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
  EXPECT_TRUE(store().outbox().outbox_for_case(c.id).empty());
  const std::string app_id = store().messages().message(first.message_row)->message_id;

  // From the case's contact (a reply from anyone else is a case of its own: foreign_reply).
  std::string raw = plain_reply("Sv: søknaden", app_id, "more-1@eventyrskogen.no",
                                "Thomas Berntsen begynte på ABLU i august.\r\n",
                                "Morten Skaug <morten.skaug@eventyrskogen.no>");
  IntakeOutcome out = intake(raw, 2);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  EXPECT_EQ(out.reason, "reply");
  EXPECT_EQ(out.case_record->state, CaseState::flagged);
  EXPECT_TRUE(has_note(out.notes, true, "new evidence for a flagged case"))
      << notes_text(out.notes);
  EXPECT_TRUE(store().outbox().outbox_for_case(c.id).empty());
  EXPECT_EQ(store().messages().message(out.message_row)->case_id, c.id);
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
  const OutboxItem decision = store().outbox().outbox_for_case(c.id).at(0);
  const auto events_before = store().events().case_events(c.id).size();

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
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);
  EXPECT_EQ(store().messages().message(out.message_row)->case_id, c.id);
  auto events = store().events().case_events(c.id);
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
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);

  // Due.
  Timestamp later = now_ + days(15);
  auto notes = queue_due_reminders(store(), settings_, later);
  EXPECT_TRUE(has_note(notes, false, "queued reminder")) << notes_text(notes);
  auto items = store().outbox().outbox_for_case(c.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, OutboxKind::reminder);
  EXPECT_EQ(items[1].recipient, "hilde.granli@trollstua.no");
  EXPECT_EQ(items[1].message_id, "tilskudd." + c.ref + ".reminder.1@asker.kommune.no");
  mime::Message mail = mime::parse(items[1].body);
  EXPECT_NE(mail.headers.subject.find("Påminnelse"), std::string::npos) << mail.headers.subject;
  EXPECT_NE(mail.text.find("Maria Olsen"), std::string::npos) << mail.text;
  auto after = store().cases().find_case(c.id);
  EXPECT_EQ(after->reminder_due, "");
  EXPECT_EQ(after->state, CaseState::needs_documentation);
  EXPECT_EQ(store().events().case_events(c.id).back().reason, "reminder queued");

  // Only one reminder.
  EXPECT_TRUE(queue_due_reminders(store(), settings_, later + days(30)).empty());
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 2u);
}

TEST_F(IntakeTest, NoReminderWhenReminderDaysIsZero) {
  cfg_.case_.reminder_days = 0;
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  EXPECT_EQ(first.case_record->reminder_due, "");
  EXPECT_TRUE(queue_due_reminders(store(), settings_, now_ + days(365)).empty());
  EXPECT_EQ(store().outbox().outbox_for_case(first.case_record->id).size(), 1u);
}

// ---- failures and quarantine ------------------------------------------------------------------

TEST_F(IntakeTest, RecordFailureCountsAttemptsAndQuarantineHoldsTheMessageForAPerson) {
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 5);
  auto [row, attempts] = record_failure(store(), m, "parser exploded");
  EXPECT_EQ(attempts, 1);
  auto [row2, attempts2] = record_failure(store(), m, "parser exploded again");
  EXPECT_EQ(row2, row);
  EXPECT_EQ(attempts2, 2);
  auto msg = store().messages().message(row);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->status, MessageStatus::failed);
  EXPECT_EQ(msg->attempts, 2);
  EXPECT_EQ(msg->last_error, "parser exploded again");
  EXPECT_EQ(msg->mailbox_state, MailboxState::none);
  EXPECT_TRUE(store().cases().list_cases().empty());

  IntakeOutcome q = quarantine_message(store(), row, "parser exploded again", settings_, now_);
  EXPECT_EQ(q.kind, IntakeOutcome::Kind::new_case);
  EXPECT_EQ(q.reason, "quarantined");
  EXPECT_EQ(q.message_row, row);
  ASSERT_TRUE(q.case_record);
  EXPECT_EQ(q.case_record->state, CaseState::flagged);
  EXPECT_TRUE(has_note(q.notes, true, "quarantined")) << notes_text(q.notes);
  EXPECT_TRUE(has_note(q.notes, true, cfg_.mailbox.quarantine_keyword)) << notes_text(q.notes);

  auto c = store().cases().find_case(q.case_record->id);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, CaseState::flagged);
  ASSERT_FALSE(c->flags.empty());
  EXPECT_TRUE(std::any_of(c->flags.begin(), c->flags.end(),
                          [](const Flag& f) { return f.code == "processing_failed"; }));
  EXPECT_EQ(c->received, "2020-08-20");
  EXPECT_TRUE(store().outbox().outbox_for_case(c->id).empty());  // nobody is written to

  msg = store().messages().message(row);
  EXPECT_EQ(msg->status, MessageStatus::quarantined);
  EXPECT_EQ(msg->mailbox_state, MailboxState::to_quarantine);
  EXPECT_EQ(msg->case_id, c->id);

  // Never processed again.
  IntakeOutcome again = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::already_processed);
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
}

TEST_F(IntakeTest, FailedMessageIsProcessedNormallyOnItsNextFetch) {
  IncomingMessage m = incoming(corpus("01-outlook-single-ablu"), 5);
  record_failure(store(), m, "transient");
  IntakeOutcome out = intake_message(store(), m, settings_, now_);
  EXPECT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
  EXPECT_EQ(out.case_record->state, CaseState::decided);
  auto msg = store().messages().message(out.message_row);
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
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
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

  EXPECT_FALSE(store().messages().find_message("INBOX", 7, 1));
  EXPECT_TRUE(store().cases().list_cases().empty());
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
  const OutboxItem request = store().outbox().outbox_for_case(c.id).at(0);
  const auto events_before = store().events().case_events(c.id).size();
  const auto letters_before = raw_count("letters");

  ASSERT_EQ(raw_exec("CREATE TRIGGER fail_decision BEFORE INSERT ON outbox "
                     "WHEN NEW.kind = 'decision' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"),
            SQLITE_OK);
  const std::string reply =
      reply_with_letter("Sv: " + request.subject, request.message_id, "reply-1@trollstua.no");
  IncomingMessage m = incoming(reply, 2, "2020-09-01T09:12:10+02:00");
  EXPECT_THROW(intake_message(store(), m, settings_, now_), StoreError);

  EXPECT_FALSE(store().messages().find_message("INBOX", 7, 2));
  auto after = store().cases().find_case(c.id);
  EXPECT_EQ(after->state, CaseState::needs_documentation);
  EXPECT_EQ(after->lines.at(0).outcome, rules::Outcome::pending);
  EXPECT_EQ(after->reminder_due, c.reminder_due);
  EXPECT_EQ(store().events().case_events(c.id).size(), events_before);
  EXPECT_EQ(raw_count("letters"), letters_before);
  EXPECT_EQ(raw_count("ledger"), 0);
  EXPECT_EQ(store().outbox().outbox_for_case(c.id).size(), 1u);

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
  EXPECT_FALSE(store().messages().find_message("INBOX", 7, 1));
  EXPECT_EQ(raw_count("messages"), 0);
  EXPECT_EQ(raw_count("cases"), 0);
  EXPECT_EQ(raw_count("blobs"), 0);

  // With the lock gone, the same message goes through.
  EXPECT_EQ(intake_message(store(), m, settings_, now_).kind, IntakeOutcome::Kind::new_case);
}

// ---- who may change a case, and money (issue 12, attacks 1-3) -------------------------------

// A grant letter from Statsforvalteren for one Trollstua employee (as maria_grant_letter_pdf).
// Dated 24 August 2020: a reply carrying it must come after that day (the letter's date check).
std::string trollstua_grant_letter_pdf(const std::string& employee, const std::string& amount) {
  return testing::make_pdf(
      {"Statsforvalteren i Oslo og Viken\n\nVår dato: 24.08.2020    Vår ref.: 2020/41878\n"
       "Deres dato: 29.08.2020    Deres ref.: TS-2020-2\n\nTrollstua Barnehage BA\n"
       "Trollstuveien 4\n1384 Asker\n\nSaksbehandler: Nina Bakke\n\n"
       "Tildeling av tilretteleggingsmidler for barnehagelærerutdanning 2020\n\n"
       "Vedtak\nStatsforvalteren tildeler Trollstua Barnehage BA kr " +
       amount + " i tilretteleggingsmidler\nfor " + employee +
       ", som tar ABLU ved OsloMet, for studieåret 2020/2021.\n\nMed hilsen\nNina Bakke\n"});
}

// A reply from `from` with a text body and PDF attachments (filename, bytes).
std::string reply_with_pdfs(const std::string& subject, const std::string& in_reply_to,
                            const std::string& message_id, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& pdfs,
                            const std::string& from = "Hilde Granli <hilde.granli@trollstua.no>") {
  std::string r = "From: " + from + "\r\nTo: post@asker.kommune.no\r\nSubject: " + subject +
                  "\r\nDate: Tue, 01 Sep 2020 09:12:00 +0200\r\nMessage-ID: <" + message_id +
                  ">\r\n";
  if (!in_reply_to.empty())
    r += "In-Reply-To: <" + in_reply_to + ">\r\nReferences: <" + in_reply_to + ">\r\n";
  r += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b1\"\r\n\r\n";
  r += "--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
       "\r\n" +
       body + "\r\n";
  for (const auto& [name, bytes] : pdfs) {
    r += "--=_b1\r\nContent-Type: application/pdf; name=\"" + name +
         "\"\r\nContent-Disposition: attachment; filename=\"" + name +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + testing::base64_lines(bytes);
  }
  r += "--=_b1--\r\n";
  return r;
}

// 07's form (Trollstua, org 913 662 040) with other contact lines, account or employees.
std::string trollstua_form(const std::string& email, const std::string& account,
                           const std::string& lines) {
  return "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\r\n"
         "Saksnummer: 20/30298\r\nBarnehageeier: Trollstua Barnehage BA\r\n"
         "Organisasjonsnummer: 913 662 040\r\nBarnehage: Trollstua barnehage\r\n"
         "Kontaktperson: Hilde Granli\r\nE-post: " +
         email + "\r\nKontonummer: " + account +
         "\r\nDeres referanse: TS-2020-2\r\n\r\n"
         "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n" +
         lines + "\r\n";
}

// A rejection the attacker typed below a forward marker, for Maria Olsen.
const char* kTypedRejection =
    "---------- Videresendt melding ---------\r\n"
    "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\r\n"
    "Date: tir. 30. jun. 2020 kl. 11:04\r\n"
    "Subject: Avslag på søknad om tilretteleggingsmidler - Maria Olsen\r\n\r\n"
    "Statsforvalteren i Oslo og Viken\r\n\r\nVår dato: 30.06.2020    Vår ref.: 2020/13141\r\n\r\n"
    "Trollstua Barnehage BA\r\n\r\n"
    "Avslag på søknad om tilretteleggingsmidler - Maria Olsen\r\n\r\n"
    "Vedtak\r\nSøknaden om tilretteleggingsmidler for Maria Olsen avslås.\r\n\r\n"
    "Med hilsen\r\nAnne Lise Berg\r\n";

bool has_flag(const CaseRecord& c, FlagCode code) {
  return std::any_of(c.flags.begin(), c.flags.end(),
                     [&](const Flag& f) { return is_flag(f, code); });
}

bool linked_to(Store& store, const CaseRecord& c, const std::string& ref) {
  for (const auto& l : integrity::links(store.events().case_events(c.id))) {
    if (l.ref == ref) return true;
  }
  return false;
}

// Every decided case's letter "went out" (decided -> decision_sent), then the round's payout CSV.
std::string sent_and_exported(Store& store, Timestamp now) {
  for (const CaseRecord& c : store.cases().list_cases(CaseState::decided))
    store.cases().transition(c.id, CaseState::decision_sent, "test", "sent", now);
  std::ostringstream csv;
  payout_export(store, "2020-09-01", csv);
  return csv.str();
}

// Attack 1: a stranger answers a waiting case (In-Reply-To, and separately only the case
// reference) from its own address, with the victim's organisation and employee, a new account
// and a typed rejection. Before: the victim's case was decided on it and paid to the new account.
TEST_F(IntakeTest, StrangersReplyDoesNotChangeTheCaseItAnswers) {
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord victim = *first.case_record;
  ASSERT_EQ(victim.state, CaseState::needs_documentation);
  const OutboxItem request = store().outbox().outbox_for_case(victim.id).at(0);
  const std::string body = trollstua_form("eve@evil.example", "1503 12 34562",
                                          "Maria Olsen | ABLU | OsloMet | 95 000 | avslag") +
                           "\r\n" + kTypedRejection;

  const std::string by_reply = plain_reply("Sv: " + request.subject, request.message_id,
                                           "eve-1@evil.example", body, "Eve <eve@evil.example>");
  const std::string by_ref =
      with_header(with_header(by_reply, "Subject", "Oppdatert søknad " + victim.ref), "In-Reply-To",
                  "<nothing@evil.example>");
  for (const std::string& raw : {by_reply, with_message_id(by_ref, "eve-2@evil.example")}) {
    SCOPED_TRACE(raw.substr(0, 200));
    IntakeOutcome out = intake(raw, static_cast<std::uint32_t>(raws_.size() + 1));
    ASSERT_EQ(out.kind, IntakeOutcome::Kind::new_case) << notes_text(out.notes);
    ASSERT_TRUE(out.case_record);
    const CaseRecord& theirs = *out.case_record;
    EXPECT_NE(theirs.id, victim.id);
    EXPECT_EQ(theirs.state, CaseState::flagged);
    EXPECT_TRUE(has_flag(theirs, FlagCode::foreign_reply));
    EXPECT_EQ(store().messages().message(out.message_row)->case_id, theirs.id);
    EXPECT_TRUE(linked_to(store(), theirs, victim.ref));
    EXPECT_TRUE(linked_to(store(), victim, theirs.ref));
    EXPECT_TRUE(store().outbox().outbox_for_case(theirs.id).empty());
  }
  const CaseRecord after = *store().cases().find_case(victim.id);
  EXPECT_EQ(after.state, CaseState::needs_documentation);
  EXPECT_EQ(after.account_number, victim.account_number);
  EXPECT_EQ(after.contact_email, "hilde.granli@trollstua.no");
  ASSERT_EQ(after.lines.size(), 1u);
  EXPECT_EQ(after.lines[0].outcome, rules::Outcome::pending);
  EXPECT_EQ(store().outbox().outbox_for_case(victim.id).size(), 1u);  // the request only
  const std::string csv = sent_and_exported(store(), now_);
  EXPECT_EQ(csv.find("15031234562"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("Maria Olsen"), std::string::npos) << csv;
}

// Attack 2: a forger applies first with the real owner's organisation and employee and its own
// contact address; the owner's own application then arrives. Before: merged into the forger's
// case as "the same application sent again", every letter to the forger.
TEST_F(IntakeTest, ForgersEarlierApplicationDoesNotCaptureTheOwnersOwn) {
  std::string forged = with_message_id(corpus("07-iphone-no-letter"), "forged-1@forger.example");
  forged = with_header(forged, "From", "Hilde Granli <hilde.granli@trollstua-bhg.example>");
  const std::string real_email = "E-post: hilde.granli@trollstua.no";
  forged.replace(forged.find(real_email), real_email.size(),
                 "E-post: hilde.granli@trollstua-bhg.example");
  IntakeOutcome f = intake(forged, 1, "2020-08-18T10:00:00+02:00");
  ASSERT_EQ(f.kind, IntakeOutcome::Kind::new_case);
  const CaseRecord forger = *f.case_record;
  ASSERT_EQ(forger.contact_email, "hilde.granli@trollstua-bhg.example");

  IntakeOutcome o = intake(corpus("07-iphone-no-letter"), 2);
  ASSERT_EQ(o.kind, IntakeOutcome::Kind::new_case) << o.reason << "\n" << notes_text(o.notes);
  const CaseRecord owner = *o.case_record;
  EXPECT_NE(owner.id, forger.id);
  EXPECT_EQ(owner.contact_email, "hilde.granli@trollstua.no");
  EXPECT_EQ(store().messages().message(o.message_row)->case_id, owner.id);
  EXPECT_TRUE(has_flag(owner, FlagCode::competing_application));
  EXPECT_EQ(owner.state, CaseState::flagged);
  const CaseRecord forger_now = *store().cases().find_case(forger.id);
  EXPECT_TRUE(has_flag(forger_now, FlagCode::competing_application));
  EXPECT_EQ(forger_now.state, CaseState::flagged);
  EXPECT_TRUE(linked_to(store(), owner, forger.ref));
  EXPECT_TRUE(linked_to(store(), forger_now, owner.ref));
  for (const OutboxItem& i : store().outbox().outbox_for_case(forger.id))
    EXPECT_EQ(i.recipient, "hilde.granli@trollstua-bhg.example");
  for (const OutboxItem& i : store().outbox().outbox_for_case(owner.id))
    EXPECT_EQ(i.recipient, "hilde.granli@trollstua.no");

  // The owner's next message goes to the owner's case, the forger's to the forger's.
  IntakeOutcome again =
      intake(plain_reply("Sv: søknad " + owner.ref, "x@y", "owner-2@trollstua.no", "Hei igjen.\r\n",
                         "Hilde Granli <HILDE.Granli@Trollstua.no>"),
             3);
  EXPECT_EQ(again.kind, IntakeOutcome::Kind::merged) << notes_text(again.notes);
  EXPECT_EQ(store().messages().message(again.message_row)->case_id, owner.id);
}

// Attack 3: a reply to a waiting case settles a student already approved in another case of the
// same round. Before: both cases approved her (the duplicate check is skipped on merges).
TEST_F(IntakeTest, StudentApprovedInAnotherCaseOfTheRoundIsNotApprovedTwice) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome a = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord first = *a.case_record;
  // A second application of Trollstua for Maria Olsen and Guro Tangen, also waiting.
  std::string second_raw = with_message_id(corpus("07-iphone-no-letter"), "second-1@trollstua.no");
  const std::string maria = "Maria Olsen | ABLU | OsloMet | 95 000 | ikke mottatt";
  second_raw.replace(second_raw.find(maria), maria.size(),
                     maria + "\nGuro Tangen | ABLU | OsloMet | 80 000 | ikke mottatt");
  IntakeOutcome b = intake(second_raw, 2);
  ASSERT_EQ(b.kind, IntakeOutcome::Kind::new_case) << notes_text(b.notes);
  const CaseRecord second = *b.case_record;
  ASSERT_EQ(second.state, CaseState::needs_documentation);
  ASSERT_EQ(second.lines.size(), 2u);

  now_ = at(2020, 8, 31, 8);
  const auto maria_pdf = trollstua_grant_letter_pdf("Maria Olsen", "40 000");
  const OutboxItem req1 = store().outbox().outbox_for_case(first.id).at(0);
  IntakeOutcome r1 =
      intake(reply_with_pdfs("Sv: " + req1.subject, req1.message_id, "r1@trollstua.no", "Brevet.",
                             {{"maria.pdf", maria_pdf}}),
             3, "2020-09-01T09:12:10+02:00");
  ASSERT_EQ(r1.case_record->state, CaseState::decided) << notes_text(r1.notes);

  const OutboxItem req2 = store().outbox().outbox_for_case(second.id).at(0);
  IntakeOutcome r2 =
      intake(reply_with_pdfs("Sv: " + req2.subject, req2.message_id, "r2@trollstua.no", "Brevene.",
                             {{"maria.pdf", maria_pdf},
                              {"guro.pdf", trollstua_grant_letter_pdf("Guro Tangen", "30 000")}}),
             4, "2020-09-01T09:12:10+02:00");
  ASSERT_EQ(r2.kind, IntakeOutcome::Kind::merged) << notes_text(r2.notes);
  const CaseRecord s2 = *store().cases().find_case(second.id);
  EXPECT_NE(s2.state, CaseState::decided);
  EXPECT_EQ(s2.state, CaseState::flagged);
  ASSERT_EQ(s2.lines.size(), 2u);
  EXPECT_NE(s2.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(s2.lines[0].reason_code, "already_approved_in_round");
  EXPECT_EQ(s2.lines[1].outcome, rules::Outcome::approved);  // Guro Tangen: 80 000 - 30 000
  EXPECT_EQ(s2.lines[1].amount, 50000);

  // A person cannot approve her a second time either.
  ResolveRequest approve;
  approve.admin = "kari";
  approve.line = 1;
  EXPECT_THROW(resolve_case(store(), second.ref, approve, settings_, now_), ResolveError);
  approve.amount = 1000;
  approve.note = "Godkjent.";
  EXPECT_THROW(resolve_case(store(), second.ref, approve, settings_, now_), ResolveError);

  int maria_rows = 0;
  for (const LedgerEntry& e : store().ledger().ledger_entries(2020, text::name_key("Maria Olsen")))
    maria_rows += e.round == "2020-09-01";
  EXPECT_EQ(maria_rows, 1);
}

// A reply from the contact may bring the letter, but not change the account number by itself:
// the case keeps its account, waits for a person, and `cases show` shows old and new.
TEST_F(IntakeTest, ContactsReplyChangingTheAccountIsHeldWithOldAndNewShown) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord c = *first.case_record;
  const OutboxItem request = store().outbox().outbox_for_case(c.id).at(0);
  const std::string body = trollstua_form("hilde.granli@trollstua.no", "1503 12 34562",
                                          "Maria Olsen | ABLU | OsloMet | 95 000 | 40 000");
  now_ = at(2020, 8, 31, 8);
  IntakeOutcome out = intake(
      reply_with_pdfs("Sv: " + request.subject, request.message_id, "acct-1@trollstua.no", body,
                      {{"maria.pdf", trollstua_grant_letter_pdf("Maria Olsen", "40 000")}}),
      2, "2020-08-31T10:00:00+02:00");
  ASSERT_EQ(out.kind, IntakeOutcome::Kind::merged) << notes_text(out.notes);
  const CaseRecord after = *store().cases().find_case(c.id);
  EXPECT_EQ(after.state, CaseState::flagged);
  EXPECT_TRUE(has_flag(after, FlagCode::changed_by_reply));
  EXPECT_EQ(after.account_number, c.account_number);
  // The letter was taken: the line is settled by it, on the old values.
  ASSERT_EQ(after.lines.size(), 1u);
  EXPECT_EQ(after.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(after.lines[0].amount, 55000);
  const auto proposed = integrity::proposed_changes(store().events().case_events(c.id));
  ASSERT_EQ(proposed.size(), 1u);
  ASSERT_EQ(proposed[0].changes.size(), 1u);
  EXPECT_EQ(proposed[0].changes[0].field, "account_number");
  EXPECT_EQ(digits_only(proposed[0].changes[0].old_value), c.account_number);
  EXPECT_EQ(proposed[0].changes[0].new_value, "15031234562");

  std::ostringstream shown, err;
  ASSERT_EQ(admin::case_show(store(), c.ref, false, shown, err), 0) << err.str();
  const std::string text = shown.str();
  const auto row = text.find("account_number", text.find("Proposed by message"));
  ASSERT_NE(row, std::string::npos) << text;
  const std::string line = text.substr(row, text.find('\n', row) - row);
  EXPECT_NE(line.find(c.account_number), std::string::npos) << line;
  EXPECT_NE(line.find("15031234562"), std::string::npos) << line;

  // A second reply from the contact (a question) keeps the hold: no person has decided yet.
  IntakeOutcome q =
      intake(plain_reply("Sv: " + request.subject, request.message_id, "acct-2@trollstua.no",
                         "Har dere fått brevet?\r\n", "Hilde Granli <hilde.granli@trollstua.no>"),
             3);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::flagged);
  EXPECT_EQ(store().cases().find_case(c.id)->account_number, c.account_number);
  EXPECT_EQ(integrity::proposed_changes(store().events().case_events(c.id)).size(), 1u);

  // A person approves: the old account stands, the decision goes to the contact.
  ResolveRequest approve;
  approve.admin = "kari";
  ResolveResult r = resolve_case(store(), c.ref, approve, settings_, now_);
  EXPECT_EQ(r.case_record.state, CaseState::decided);
  EXPECT_EQ(r.case_record.account_number, c.account_number);
  EXPECT_EQ(r.case_record.total, 55000);
}

// `cases show` shows a link from both sides.
TEST_F(IntakeTest, CasesShowListsTheLinkOnBothCases) {
  IntakeOutcome first = intake(corpus("07-iphone-no-letter"), 1);
  const CaseRecord victim = *first.case_record;
  const OutboxItem request = store().outbox().outbox_for_case(victim.id).at(0);
  IntakeOutcome out =
      intake(plain_reply("Sv: " + request.subject, request.message_id, "eve-9@evil.example",
                         "Hei.\r\n", "Eve <eve@evil.example>"),
             2);
  const CaseRecord theirs = *out.case_record;
  for (const auto& [c, other] : {std::pair{victim, theirs}, std::pair{theirs, victim}}) {
    std::ostringstream shown, err;
    ASSERT_EQ(admin::case_show(store(), c.ref, false, shown, err), 0) << err.str();
    EXPECT_NE(shown.str().find("Linked cases:\n  - " + other.ref + " (foreign_reply"),
              std::string::npos)
        << shown.str();
    std::ostringstream js;
    ASSERT_EQ(admin::case_show(store(), c.ref, true, js, err), 0);
    auto j = nlohmann::json::parse(js.str());
    ASSERT_EQ(j["linked_cases"].size(), 1u);
    EXPECT_EQ(j["linked_cases"][0]["ref"], other.ref);
  }
}

}  // namespace
}  // namespace tilskudd
