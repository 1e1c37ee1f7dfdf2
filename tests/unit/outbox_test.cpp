// The outbox worker (workflow/outbox.h) on a real store, with a fake sender and a fixed clock:
// what each SMTP outcome does to the item and its case, backoff, the per-recipient limit, and
// recovery after a crash during a transfer.
#include "workflow/outbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "parsers/mime.h"
#include "tests/support/support.h"
#include "workflow/intake.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

fs::path corpus_dir() {
  return testing::source_dir() / "tests" / "corpus";
}

Timestamp at(int y, unsigned m, unsigned d, int hour = 8) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hour};
}

SendAttempt accepted() {
  return {SendOutcome::accepted, "250 2.0.0 Ok: queued", false};
}
SendAttempt temporary(const std::string& detail, bool after_data = false) {
  return {SendOutcome::temporary, detail, after_data};
}
SendAttempt permanent(const std::string& detail) {
  return {SendOutcome::permanent, detail, false};
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

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_outbox_" + std::to_string(::getpid()) + "_" + info->name());
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

  // A corpus application through the real intake; returns its case.
  CaseRecord intake_corpus(const std::string& name, std::uint32_t uid) {
    raws_.push_back(testing::read_file(corpus_dir() / (name + ".eml")));
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = uid;
    m.message_id = mime::parse(raws_.back()).headers.message_id;
    m.raw = raws_.back();
    m.received = "2020-08-20T10:00:00+02:00";
    IntakeOutcome out = intake_message(store(), m, settings_, t0_);
    if (!out.case_record) throw std::runtime_error(name + " made no case");
    return *out.case_record;
  }

  // A decided case for `email`, made with create_case + transition, its decision queued with
  // make_letter (as intake does).
  OutboxItem decided_case_for(const std::string& email, const std::string& employee,
                              std::uint32_t uid) {
    raws_.push_back("From: " + email + "\r\nSubject: Søknad sak 20/30298\r\nMessage-ID: <app" +
                    std::to_string(uid) + "@x.no>\r\n\r\nSøknad\r\n");
    IncomingMessage m;
    m.mailbox = "INBOX";
    m.uidvalidity = 7;
    m.uid = uid;
    m.message_id = "app" + std::to_string(uid) + "@x.no";
    m.raw = raws_.back();
    m.received = "2020-08-20T10:00:00+02:00";
    std::int64_t row = store().messages().record_message(m).id;

    Assessment a;
    a.subject = "Søknad sak 20/30298";
    a.message_id = m.message_id;
    a.contact_email = email;
    a.received = Date{2020, 8, 20};
    a.case_number_found = true;
    a.form.found = true;
    a.form.owner = "Solsikken Barnehage AS";
    a.form.org_number = "921456786";
    a.form.account_number = "15031234567";
    FormLine f;
    f.employee = employee;
    f.programme = Programme::ABLU;
    f.cost = 80000;
    f.state_status = StateStatus::rejected;
    a.form.lines.push_back(f);
    rules::LineDecision d;
    d.employee = employee;
    d.outcome = rules::Outcome::approved;
    d.amount = 75000;
    d.reason_code = "state_rejected_cap";
    d.reason = "Begrunnelse";
    a.decision.lines.push_back(d);
    a.decision.total = 75000;
    a.decision.status = rules::CaseStatus::decided;
    a.decision.round = rules::Round{Date{2020, 9, 1}, 2020, 1};

    CaseRecord c = store().cases().create_case(a, row, t0_);
    c = store().cases().transition(c.id, CaseState::decided, "daemon", "every line decided", t0_);
    OutboxItem item = make_letter(store(), c, OutboxKind::decision, settings_, t0_);
    EnqueueResult r = store().outbox().enqueue_outbox(item, t0_);
    EXPECT_TRUE(r.inserted);
    return *store().outbox().outbox_item(r.id);
  }

  std::vector<OutboxItem> all_outbox() {
    std::vector<OutboxItem> out;
    for (const auto& c : store().cases().list_cases()) {
      for (auto& o : store().outbox().outbox_for_case(c.id)) out.push_back(o);
    }
    return out;
  }

  OutboxRun run(const OutboxPolicy& policy = {}, int max_items = 100) {
    return run_outbox(
        store(), send_fn(), policy, [this] { return now_; }, [this] { return stop_; }, max_items);
  }

  // The fake SMTP client: records every item it is handed and answers with `answer`.
  SendFn send_fn() {
    // Like the SMTP client, it reports the end of the data when the answer says the data got
    // through (accepted, or a failure after it).
    return [this](const OutboxItem& item, const std::function<void()>& data_complete) {
      calls_.push_back(item);
      if (send_hook_) send_hook_(data_complete);
      SendAttempt a = answer_(item);
      if (a.outcome == SendOutcome::accepted || a.data_handed_over) data_complete();
      return a;
    };
  }

  fs::path dir_;
  std::string path_;
  config::Config cfg_;
  IntakeSettings settings_;
  std::optional<Store> store_;
  std::deque<std::string> raws_;
  const Timestamp t0_ = at(2020, 8, 20, 8);
  Timestamp now_ = at(2020, 8, 20, 8);
  bool stop_ = false;
  std::vector<OutboxItem> calls_;
  std::function<void(const std::function<void()>&)> send_hook_;
  std::function<SendAttempt(const OutboxItem&)> answer_ = [](const OutboxItem&) {
    return accepted();
  };
};

// ---- accepted ---------------------------------------------------------------------------------

TEST_F(OutboxTest, AcceptedDecisionIsSentAndMovesTheCaseToDecisionSent) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  ASSERT_EQ(c.state, CaseState::decided);
  const OutboxItem queued = store().outbox().outbox_for_case(c.id).at(0);

  // While the transfer runs, the item is `sending`, committed (another connection sees it).
  Store observer = Store::open(path_);
  std::optional<OutboxStatus> status_during_send;
  answer_ = [&](const OutboxItem& item) {
    status_during_send = observer.outbox().outbox_item(item.id)->status;
    return accepted();
  };
  now_ = t0_ + minutes(1);
  OutboxRun r = run();
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(r.retried + r.failed + r.uncertain + r.deferred, 0);
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].id, queued.id);
  EXPECT_EQ(calls_[0].recipient, "kari.nordmann@solsikken-bhg.no");
  EXPECT_EQ(calls_[0].message_id, queued.message_id);
  EXPECT_EQ(calls_[0].body, queued.body);
  EXPECT_EQ(status_during_send, OutboxStatus::sending);

  auto item = store().outbox().outbox_item(queued.id);
  EXPECT_EQ(item->status, OutboxStatus::sent);
  EXPECT_EQ(item->attempts, 1);
  EXPECT_EQ(item->last_error, "");
  auto after = store().cases().find_case(c.id);
  EXPECT_EQ(after->state, CaseState::decision_sent);
  auto events = store().events().case_events(c.id);
  ASSERT_TRUE(events.back().from);
  EXPECT_EQ(*events.back().from, CaseState::decided);
  EXPECT_EQ(events.back().to, CaseState::decision_sent);
  EXPECT_EQ(events.back().at, iso_utc(now_));
  EXPECT_TRUE(has_note(r.notes, false, "decided -> decision_sent")) << notes_text(r.notes);

  // Nothing left to send.
  calls_.clear();
  EXPECT_EQ(run().sent, 0);
  EXPECT_TRUE(calls_.empty());
}

TEST_F(OutboxTest, AcceptedDocumentationRequestKeepsTheStateAndLogsIt) {
  CaseRecord c = intake_corpus("07-iphone-no-letter", 1);
  ASSERT_EQ(c.state, CaseState::needs_documentation);
  const auto events_before = store().events().case_events(c.id).size();

  OutboxRun r = run();
  EXPECT_EQ(r.sent, 1);
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].kind, OutboxKind::documentation_request);
  EXPECT_EQ(calls_[0].recipient, "hilde.granli@trollstua.no");
  EXPECT_EQ(store().outbox().outbox_item(calls_[0].id)->status, OutboxStatus::sent);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::needs_documentation);
  auto events = store().events().case_events(c.id);
  ASSERT_EQ(events.size(), events_before + 1);
  EXPECT_EQ(events.back().reason, "documentation_request sent");
  ASSERT_TRUE(events.back().from);
  EXPECT_EQ(*events.back().from, CaseState::needs_documentation);
  EXPECT_EQ(events.back().to, CaseState::needs_documentation);
  EXPECT_NE(events.back().detail.find(calls_[0].message_id), std::string::npos)
      << events.back().detail;
  EXPECT_TRUE(has_note(r.notes, false, "documentation_request sent")) << notes_text(r.notes);
}

// The store fails (here: locked by another writer past the busy timeout; in production a full
// or read-only disk) after the mail server accepted the decision. The send is not forgotten: the
// next run records it before anything else, and the decision is never sent twice.
TEST_F(OutboxTest, SendTheStoreCouldNotRecordIsRecordedNextRunAndNeverResent) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  ASSERT_EQ(c.state, CaseState::decided);
  const OutboxItem queued = store().outbox().outbox_for_case(c.id).at(0);

  std::promise<void> locked, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread locker;
  int sends = 0;
  SendFn send = [&](const OutboxItem&, const std::function<void()>& data_complete) {
    ++sends;
    data_complete();
    locker = std::thread([&] {
      Store other = Store::open(path_);
      other.transaction([&] {
        locked.set_value();
        released.wait();
      });
    });
    locked.get_future().wait();
    return accepted();
  };
  UnrecordedSends unrecorded;
  now_ = t0_ + minutes(1);
  EXPECT_THROW(run_outbox(
                   store(), send, OutboxPolicy{}, [this] { return now_; }, [] { return false; },
                   100, &unrecorded),
               StoreError);
  release.set_value();
  locker.join();
  ASSERT_EQ(unrecorded.size(), 1u);
  EXPECT_EQ(unrecorded[0].item.id, queued.id);
  EXPECT_EQ(store().outbox().outbox_item(queued.id)->status, OutboxStatus::sending);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);

  // The store works again: the accepted send is recorded first, and nothing is sent.
  now_ += minutes(5);
  OutboxRun r = run_outbox(
      store(), send, OutboxPolicy{}, [this] { return now_; }, [] { return false; }, 100,
      &unrecorded);
  EXPECT_EQ(sends, 1);
  EXPECT_EQ(r.sent, 1);
  EXPECT_TRUE(unrecorded.empty());
  EXPECT_EQ(store().outbox().outbox_item(queued.id)->status, OutboxStatus::sent);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decision_sent);
  // A restart afterwards finds nothing in flight.
  EXPECT_EQ(store().outbox().recover_outbox(), 0);
}

TEST_F(OutboxTest, ItemsNotYetDueAreNotSent) {
  intake_corpus("01-outlook-single-ablu", 1);
  now_ = t0_ - seconds(1);
  EXPECT_EQ(run().sent, 0);
  EXPECT_TRUE(calls_.empty());
  now_ = t0_;
  EXPECT_EQ(run().sent, 1);
}

// ---- temporary failures -----------------------------------------------------------------------

TEST_F(OutboxTest, TemporaryFailureBeforeDataRetriesAfterTheBackoff) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  OutboxPolicy policy;
  policy.jitter = [] { return 0.0; };  // the delay is exactly half of base * 2^(n-1)
  answer_ = [](const OutboxItem&) { return temporary("421 4.3.2 Service not available"); };

  OutboxRun r = run(policy);
  EXPECT_EQ(r.retried, 1);
  EXPECT_EQ(r.sent, 0);
  ASSERT_EQ(calls_.size(), 1u);
  const std::int64_t id = calls_[0].id;
  auto item = store().outbox().outbox_item(id);
  EXPECT_EQ(item->status, OutboxStatus::pending);
  EXPECT_EQ(item->attempts, 1);
  EXPECT_EQ(item->last_error, "421 4.3.2 Service not available");
  EXPECT_EQ(backoff_delay(policy, 1), seconds(30));
  EXPECT_EQ(item->next_attempt_at, iso_utc(now_ + seconds(30)));
  EXPECT_TRUE(has_note(r.notes, false, "retry in 30 s")) << notes_text(r.notes);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);

  // Not before its time.
  now_ = t0_ + seconds(29);
  r = run(policy);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(r.retried + r.sent, 0);

  // The second failure waits twice as long.
  now_ = t0_ + seconds(30);
  r = run(policy);
  EXPECT_EQ(calls_.size(), 2u);
  EXPECT_EQ(r.retried, 1);
  item = store().outbox().outbox_item(id);
  EXPECT_EQ(item->attempts, 2);
  EXPECT_EQ(item->next_attempt_at, iso_utc(now_ + seconds(60)));

  // Then the server takes it.
  answer_ = [](const OutboxItem&) { return accepted(); };
  now_ += seconds(59);
  EXPECT_EQ(run(policy).sent, 0);
  now_ += seconds(1);
  r = run(policy);
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(calls_.size(), 3u);
  item = store().outbox().outbox_item(id);
  EXPECT_EQ(item->status, OutboxStatus::sent);
  EXPECT_EQ(item->attempts, 3);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decision_sent);
}

TEST_F(OutboxTest, TemporaryFailuresUpToMaxAttemptsEndInFailedWithAWarning) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  OutboxPolicy policy;
  policy.max_attempts = 3;
  answer_ = [](const OutboxItem&) { return temporary("connection refused"); };

  OutboxRun r1 = run(policy);
  EXPECT_EQ(r1.retried, 1);
  now_ += hours(1);
  OutboxRun r2 = run(policy);
  EXPECT_EQ(r2.retried, 1);
  now_ += hours(1);
  OutboxRun r3 = run(policy);
  EXPECT_EQ(r3.retried, 0);
  EXPECT_EQ(r3.failed, 1);
  EXPECT_EQ(calls_.size(), 3u);
  EXPECT_TRUE(has_note(r3.notes, true, "failed 3 times")) << notes_text(r3.notes);

  auto item = store().outbox().outbox_item(calls_[0].id);
  EXPECT_EQ(item->status, OutboxStatus::failed);
  EXPECT_EQ(item->attempts, 3);
  EXPECT_EQ(item->last_error, "connection refused");
  EXPECT_EQ(store().events().case_events(c.id).back().reason,
            "decision failed: connection refused");
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);

  // Never tried again.
  now_ += days(30);
  EXPECT_EQ(run(policy).sent, 0);
  EXPECT_EQ(calls_.size(), 3u);
}

TEST_F(OutboxTest, TemporaryFailureAfterTheDataIsUncertainAndNeverResent) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  answer_ = [](const OutboxItem&) { return temporary("timeout waiting for 250 after DATA", true); };
  OutboxRun r = run();
  EXPECT_EQ(r.uncertain, 1);
  EXPECT_EQ(r.retried, 0);
  EXPECT_TRUE(has_note(r.notes, true, "may or may not have been delivered")) << notes_text(r.notes);
  auto item = store().outbox().outbox_item(calls_.at(0).id);
  EXPECT_EQ(item->status, OutboxStatus::uncertain);
  EXPECT_EQ(item->last_error, "timeout waiting for 250 after DATA");
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);

  answer_ = [](const OutboxItem&) { return accepted(); };
  now_ += days(7);
  EXPECT_EQ(run().sent, 0);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_FALSE(store().outbox().next_due_outbox(now_ + days(365)));
}

// ---- permanent failures -----------------------------------------------------------------------

TEST_F(OutboxTest, PermanentFailureFailsAtOnceWithAWarningAndIsNeverRetried) {
  CaseRecord c = intake_corpus("07-iphone-no-letter", 1);
  answer_ = [](const OutboxItem&) { return permanent("550 5.1.1 User unknown"); };
  OutboxRun r = run();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.sent + r.retried + r.uncertain, 0);
  EXPECT_TRUE(has_note(r.notes, true, "refused by the mail server")) << notes_text(r.notes);
  auto item = store().outbox().outbox_item(calls_.at(0).id);
  EXPECT_EQ(item->status, OutboxStatus::failed);
  EXPECT_EQ(item->attempts, 1);
  EXPECT_EQ(item->last_error, "550 5.1.1 User unknown");
  EXPECT_EQ(store().events().case_events(c.id).back().reason,
            "documentation_request refused: 550 5.1.1 User unknown");
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::needs_documentation);

  answer_ = [](const OutboxItem&) { return accepted(); };
  now_ += days(30);
  EXPECT_EQ(run().sent, 0);
  EXPECT_EQ(calls_.size(), 1u);
}

// A 5xx after the data is still a definite refusal: failed, not uncertain.
TEST_F(OutboxTest, PermanentFailureAfterTheDataIsFailedNotUncertain) {
  intake_corpus("01-outlook-single-ablu", 1);
  answer_ = [](const OutboxItem&) {
    return SendAttempt{SendOutcome::permanent, "554 5.7.1 rejected as spam", true};
  };
  OutboxRun r = run();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.uncertain, 0);
  EXPECT_EQ(store().outbox().outbox_item(calls_.at(0).id)->status, OutboxStatus::failed);
}

// ---- limits, stop, max_items ------------------------------------------------------------------

TEST_F(OutboxTest, PerRecipientLimitHoldsTheThirdMailBackForAnHour) {
  const OutboxItem a = decided_case_for("styrer@samme.no", "Ola Hansen", 1);
  const OutboxItem b = decided_case_for("styrer@samme.no", "Per Olsen", 2);
  const OutboxItem c = decided_case_for("Styrer@Samme.no", "Kari Lie", 3);  // same address
  const OutboxItem other = decided_case_for("annen@barnehage.no", "Eva Berg", 4);
  OutboxPolicy policy;
  policy.max_per_recipient_per_day = 2;

  OutboxRun r = run(policy);
  EXPECT_EQ(r.sent, 3);
  EXPECT_EQ(r.deferred, 1);
  ASSERT_EQ(calls_.size(), 3u);
  EXPECT_EQ(calls_[0].id, a.id);
  EXPECT_EQ(calls_[1].id, b.id);
  EXPECT_EQ(calls_[2].id, other.id);  // another recipient is not held back
  EXPECT_TRUE(has_note(r.notes, true, "held back for an hour")) << notes_text(r.notes);

  auto held = store().outbox().outbox_item(c.id);
  EXPECT_EQ(held->status, OutboxStatus::pending);
  EXPECT_EQ(held->attempts, 0);  // holding back is not an attempt
  EXPECT_EQ(held->next_attempt_at, iso_utc(now_ + hours(1)));
  EXPECT_EQ(held->last_error, "per-recipient limit reached");
  EXPECT_EQ(store().cases().find_case(held->case_id)->state, CaseState::decided);

  // An hour later the two mails of the last 24 hours still count: held back again.
  now_ += hours(1);
  r = run(policy);
  EXPECT_EQ(r.deferred, 1);
  EXPECT_EQ(calls_.size(), 3u);

  // A day later it goes.
  now_ = t0_ + hours(25);
  r = run(policy);
  EXPECT_EQ(r.sent, 1);
  ASSERT_EQ(calls_.size(), 4u);
  EXPECT_EQ(calls_[3].id, c.id);
}

// Was a bug (fixed): Store::count_outbox_to (workflow/store.cpp) counts mails by their created_at,
// not by when they left, so mails queued more than a day ago and sent now are not counted at all.
TEST_F(OutboxTest, PerRecipientLimitCountsMailsByWhenTheyLeft) {
  decided_case_for("styrer@samme.no", "Ola Hansen", 1);
  decided_case_for("styrer@samme.no", "Per Olsen", 2);
  decided_case_for("styrer@samme.no", "Kari Lie", 3);
  OutboxPolicy policy;
  policy.max_per_recipient_per_day = 2;
  // The mail server was down for two days; now it is back.
  now_ = t0_ + days(2);
  OutboxRun r = run(policy);
  EXPECT_EQ(r.sent, 2);
  EXPECT_EQ(r.deferred, 1);
  EXPECT_EQ(calls_.size(), 2u);
}

TEST_F(OutboxTest, StopMeansNothingIsSent) {
  intake_corpus("01-outlook-single-ablu", 1);
  intake_corpus("07-iphone-no-letter", 2);
  stop_ = true;
  OutboxRun r = run();
  EXPECT_EQ(r.sent, 0);
  EXPECT_TRUE(calls_.empty());
  for (const auto& o : all_outbox()) {
    EXPECT_EQ(o.status, OutboxStatus::pending);
    EXPECT_EQ(o.attempts, 0);
  }
}

TEST_F(OutboxTest, StopBetweenItemsEndsTheRunAfterTheCurrentOne) {
  intake_corpus("01-outlook-single-ablu", 1);
  intake_corpus("07-iphone-no-letter", 2);
  answer_ = [this](const OutboxItem&) {
    stop_ = true;  // SIGTERM arrives during the first transfer
    return accepted();
  };
  OutboxRun r = run();
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(store().outbox().outbox_item(calls_[0].id)->status, OutboxStatus::sent);
}

TEST_F(OutboxTest, MaxItemsBoundsOneRun) {
  intake_corpus("01-outlook-single-ablu", 1);
  intake_corpus("07-iphone-no-letter", 2);
  EXPECT_EQ(run({}, 1).sent, 1);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(run({}, 1).sent, 1);
  EXPECT_EQ(calls_.size(), 2u);
  EXPECT_NE(calls_[0].id, calls_[1].id);
}

// ---- backoff ----------------------------------------------------------------------------------

TEST(BackoffDelay, DoublesUpToTheCapWithJitterInTheUpperHalf) {
  OutboxPolicy p;
  p.base_delay = seconds(60);
  p.max_delay = seconds(3600);
  p.jitter = [] { return 0.0; };  // the lower end: half the delay
  EXPECT_EQ(backoff_delay(p, 1), seconds(30));
  EXPECT_EQ(backoff_delay(p, 2), seconds(60));
  EXPECT_EQ(backoff_delay(p, 3), seconds(120));
  EXPECT_EQ(backoff_delay(p, 6), seconds(960));
  EXPECT_EQ(backoff_delay(p, 7), seconds(1800));  // 3840 capped to 3600
  EXPECT_EQ(backoff_delay(p, 50), seconds(1800));
  EXPECT_EQ(backoff_delay(p, 5000), seconds(1800));  // 2^4999 overflows to inf: still capped
  EXPECT_EQ(backoff_delay(p, 0), seconds(30));
  EXPECT_EQ(backoff_delay(p, -3), seconds(30));

  p.jitter = [] { return 0.5; };
  EXPECT_EQ(backoff_delay(p, 1), seconds(45));
  EXPECT_EQ(backoff_delay(p, 2), seconds(90));
  EXPECT_EQ(backoff_delay(p, 10), seconds(2700));

  // The whole jitter range stays in [d/2, d].
  for (double j : {0.0, 0.1, 0.25, 0.5, 0.75, 0.999}) {
    p.jitter = [j] { return j; };
    for (int n = 1; n <= 10; ++n) {
      auto d = std::min<std::int64_t>(3600, 60LL << (n - 1));
      auto got = backoff_delay(p, n).count();
      EXPECT_GE(got, d / 2) << "jitter " << j << " attempt " << n;
      EXPECT_LE(got, d) << "jitter " << j << " attempt " << n;
    }
  }
  // A jitter source outside [0, 1) is clamped.
  p.jitter = [] { return -4.0; };
  EXPECT_EQ(backoff_delay(p, 1), seconds(30));
  p.jitter = [] { return 7.0; };
  EXPECT_EQ(backoff_delay(p, 1), seconds(60));
  // No jitter source: the middle.
  p.jitter = nullptr;
  EXPECT_EQ(backoff_delay(p, 1), seconds(45));
}

TEST(BackoffDelay, DefaultPolicy) {
  OutboxPolicy p;
  EXPECT_EQ(p.max_attempts, 8);
  EXPECT_EQ(backoff_delay(p, 1), seconds(45));
  EXPECT_EQ(backoff_delay(p, 20), seconds(2700));
}

// ---- crash during a transfer -------------------------------------------------------------------

TEST_F(OutboxTest, CrashBeforeTheDataWasCompleteSendsAgainAfterRecovery) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  answer_ = [](const OutboxItem&) -> SendAttempt {
    throw std::runtime_error("process killed before the end of the data");
  };
  EXPECT_THROW(run(), std::runtime_error);
  ASSERT_EQ(calls_.size(), 1u);
  const std::int64_t id = calls_[0].id;
  store_.reset();
  store_.emplace(Store::open(path_));
  EXPECT_EQ(store().outbox().recover_outbox(), 1);
  EXPECT_EQ(store().outbox().outbox_item(id)->status, OutboxStatus::pending);
  answer_ = [](const OutboxItem&) { return accepted(); };
  EXPECT_EQ(run().sent, 1);
  EXPECT_EQ(calls_.size(), 2u);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decision_sent);
}

TEST_F(OutboxTest, CrashDuringATransferLeavesAnUncertainItemAfterRecovery) {
  CaseRecord c = intake_corpus("01-outlook-single-ablu", 1);
  answer_ = [](const OutboxItem&) -> SendAttempt {
    throw std::runtime_error("process killed mid-transfer");
  };
  // Killed after the data was handed over: the data_complete step was recorded.
  send_hook_ = [this](const std::function<void()>& data_complete) { data_complete(); };
  EXPECT_THROW(run(), std::runtime_error);
  ASSERT_EQ(calls_.size(), 1u);
  const std::int64_t id = calls_[0].id;
  EXPECT_EQ(store().outbox().outbox_item(id)->status, OutboxStatus::sending);
  EXPECT_EQ(store().outbox().outbox_item(id)->attempts, 1);

  // The daemon starts again.
  store_.reset();
  store_.emplace(Store::open(path_));
  EXPECT_FALSE(store().outbox().next_due_outbox(now_ + days(1)));  // sending is never picked up
  EXPECT_EQ(store().outbox().recover_outbox(), 1);
  EXPECT_EQ(store().outbox().outbox_item(id)->status, OutboxStatus::uncertain);
  EXPECT_EQ(store().outbox().recover_outbox(), 0);
  EXPECT_FALSE(store().outbox().next_due_outbox(now_ + days(365)));

  answer_ = [](const OutboxItem&) { return accepted(); };
  now_ += days(1);
  EXPECT_EQ(run().sent, 0);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(store().cases().find_case(c.id)->state, CaseState::decided);
}

TEST_F(OutboxTest, RecoverOutboxTouchesOnlyItemsInSending) {
  CaseRecord a = intake_corpus("01-outlook-single-ablu", 1);
  CaseRecord b = intake_corpus("07-iphone-no-letter", 2);
  const OutboxItem ia = store().outbox().outbox_for_case(a.id).at(0);
  const OutboxItem ib = store().outbox().outbox_for_case(b.id).at(0);
  store().outbox().begin_send(ia.id, now_);
  store().outbox().mark_data_handed_over(ia.id);
  EXPECT_EQ(store().outbox().recover_outbox(), 1);
  EXPECT_EQ(store().outbox().outbox_item(ia.id)->status, OutboxStatus::uncertain);
  EXPECT_EQ(store().outbox().outbox_item(ib.id)->status, OutboxStatus::pending);
  auto due = store().outbox().next_due_outbox(now_);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->id, ib.id);
}

}  // namespace
}  // namespace tilskudd
