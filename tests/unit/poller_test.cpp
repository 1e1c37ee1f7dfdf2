// The poller (daemon/poller.h) on a real store in a temporary directory, with a fake mail source
// (daemon/mail_source.h) in place of the IMAP server: what a poll fetches, records and marks, and
// in which order; what it does when a mark fails, a message is too large or keeps killing the
// daemon, and when the mailbox's numbering starts over (UIDVALIDITY).
#include "daemon/poller.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
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

const std::string kMarked = "$Tilskudd";
const std::string kQuarantined = "$TilskuddQuarantine";

std::string corpus(const std::string& name) {
  return testing::read_file(testing::source_dir() / "tests" / "corpus" / (name + ".eml"));
}

// A mailbox in memory, numbered as IMAP does (an epoch and growing numbers). Its checkpoint is
// its own: the position is ten times the number, so a poller that computed checkpoints itself
// instead of keeping the source's would read the wrong messages.
class FakeSource : public MailSource {
 public:
  struct Message {
    std::uint32_t uid = 0;
    std::string raw;
    std::string message_id;
    bool candidate = true;  // what the server's search would find
    std::optional<std::uint64_t> size;
    std::set<std::string> flags;
    int unavailable = 0;     // the next n fetches hand over no body (Exchange while it scans)
    bool no_header = false;  // not even the header is handed over
  };

  std::uint32_t deliver(const std::string& raw, bool candidate = true) {
    Message m;
    m.uid = next_uid_++;
    m.raw = raw;
    m.message_id = mime::parse(raw).headers.message_id;
    m.candidate = candidate;
    m.size = raw.size();
    messages_.push_back(m);
    return m.uid;
  }
  // The mailbox recreated or restored: a new epoch, every message kept numbered from 1 again.
  void renumber(std::uint32_t epoch) {
    epoch_ = epoch;
    next_uid_ = 1;
    for (auto& m : messages_) m.uid = next_uid_++;
  }
  // The mailbox replaced by another one: a new epoch and none of the messages seen before.
  void replace(std::uint32_t epoch) {
    messages_.clear();
    epoch_ = epoch;
    next_uid_ = 1;
  }
  Message& at(std::uint32_t uid) {
    for (auto& m : messages_)
      if (m.uid == uid) return m;
    throw std::runtime_error("no such UID");
  }
  std::uint32_t epoch() const { return epoch_; }
  void expunge(std::uint32_t uid) {
    messages_.erase(std::remove_if(messages_.begin(), messages_.end(),
                                   [&](const Message& m) { return m.uid == uid; }),
                    messages_.end());
  }

  // What the poller asked for.
  int checks = 0, opens = 0, searches = 0, lookups = 0;
  std::vector<std::uint32_t> fetched, headers_fetched, looked_up;
  // The next n marks fail as a lost connection does.
  int failing_marks = 0;
  // Called at every mark, before it is written.
  std::function<void(const MessageKey&)> on_mark;

  const std::string& mailbox() const override { return mailbox_; }

  bool changed_since(const std::optional<Checkpoint>& since) override {
    ++checks;
    return !(since && since->uidvalidity == epoch_ && next_uid_ - 1 <= since->highest_uid / 10);
  }

  Opened open(const std::optional<Checkpoint>& since) override {
    ++opens;
    opened_epoch_ = epoch_;
    Opened o;
    if (since && since->uidvalidity != epoch_) {
      o.restart = Checkpoint{mailbox_, epoch_, 0, ""};
      o.change = "the numbering of INBOX started over";
    }
    return o;
  }

  bool contains_message_id(const std::string& id) override {
    ++lookups;
    return std::any_of(messages_.begin(), messages_.end(),
                       [&](const Message& m) { return m.message_id == id; });
  }

  class Changes : public MailChanges {
   public:
    Changes(std::string mailbox, std::uint32_t epoch, std::uint32_t next_uid,
            std::deque<SourceMessage> list)
        : mailbox_(std::move(mailbox)),
          epoch_(epoch),
          next_uid_(next_uid),
          size_(list.size()),
          list_(std::move(list)) {}
    std::size_t size() const override { return size_; }
    std::optional<SourceMessage> next() override {
      if (list_.empty()) return std::nullopt;
      SourceMessage m = list_.front();
      list_.pop_front();
      return m;
    }
    Checkpoint after(const std::optional<Checkpoint>& current,
                     const MessageKey& key) const override {
      const std::uint32_t pos =
          current && current->uidvalidity == key.uidvalidity ? current->highest_uid : 0;
      return {mailbox_, key.uidvalidity, std::max(pos, key.uid * 10), ""};
    }
    std::optional<Checkpoint> end(const std::optional<Checkpoint>&) const override {
      return Checkpoint{mailbox_, epoch_, (next_uid_ - 1) * 10, ""};
    }

   private:
    std::string mailbox_;
    std::uint32_t epoch_, next_uid_;
    std::size_t size_;
    std::deque<SourceMessage> list_;
  };

  std::unique_ptr<MailChanges> changes(const std::optional<Checkpoint>& since) override {
    ++searches;
    const std::uint32_t from =
        since && since->uidvalidity == opened_epoch_ ? since->highest_uid / 10 : 0;
    std::deque<SourceMessage> list;
    for (const auto& m : messages_) {
      if (m.uid > from && m.candidate)
        list.push_back({{opened_epoch_, m.uid}, m.size, "2020-08-20T10:00:00+02:00"});
    }
    return std::make_unique<Changes>(mailbox_, opened_epoch_, next_uid_, std::move(list));
  }

  Fetched fetch(const SourceMessage& message, std::uint64_t max_bytes) override {
    Fetched f;
    if (message.size && *message.size > max_bytes) {
      f.kind = Fetched::Kind::too_large;
      f.size = *message.size;
      return f;
    }
    fetched.push_back(message.key.uid);
    Message* m = find(message.key);
    if (!m) return f;
    if (m->unavailable > 0) {
      --m->unavailable;
      f.kind = Fetched::Kind::unavailable;
      f.reason = "no body yet";
      return f;
    }
    f.kind = Fetched::Kind::message;
    f.bytes = m->raw;
    return f;
  }

  std::optional<std::string> fetch_header(const SourceMessage& message) override {
    headers_fetched.push_back(message.key.uid);
    Message* m = find(message.key);
    if (!m || m->no_header) return std::nullopt;
    return m->raw.substr(0, m->raw.find("\r\n\r\n") + 4);
  }

  std::string arrived_since;
  void set_arrived_since(const std::string& day) override { arrived_since = day; }

  std::optional<SourceMessage> lookup(const MessageKey& key) override {
    looked_up.push_back(key.uid);
    Message* m = find(key);
    if (!m) return std::nullopt;
    return SourceMessage{key, m->size, "2020-08-20T10:00:00+02:00"};
  }

  MarkResult mark(const MessageKey& key) override { return set_flag(key, kMarked); }
  MarkResult quarantine(const MessageKey& key) override { return set_flag(key, kQuarantined); }

  WaitResult wait_for_change(std::chrono::milliseconds) override { return WaitResult::unsupported; }
  void interrupt() override {}

 private:
  MarkResult set_flag(const MessageKey& key, const std::string& flag) {
    if (key.uidvalidity != opened_epoch_) return MarkResult::stale;
    if (on_mark) on_mark(key);
    if (failing_marks > 0) {
      --failing_marks;
      throw MailSourceError("connection lost");
    }
    at(key.uid).flags.insert(flag);
    return MarkResult::marked;
  }

  Message* find(const MessageKey& key) {
    if (key.uidvalidity != opened_epoch_) return nullptr;
    for (auto& m : messages_)
      if (m.uid == key.uid) return &m;
    return nullptr;
  }

  std::string mailbox_ = "INBOX";
  std::uint32_t epoch_ = 7;
  std::uint32_t opened_epoch_ = 0;
  std::uint32_t next_uid_ = 1;
  std::vector<Message> messages_;
};

// Four applications from four kindergartens (each its own case), by letter.
std::string application(char which) {
  static const std::map<char, std::string> names{{'a', "01-outlook-single-ablu"},
                                                 {'b', "02-gmail-grant-and-rejection"},
                                                 {'c', "03-outlook-mac-five-lines-table-letter"},
                                                 {'d', "05-thunderbird-other-programme"}};
  return corpus(names.at(which));
}

std::string id_of(char which) {
  return mime::parse(application(which)).headers.message_id;
}

std::string citizen_mail() {
  return corpus("23-unrelated-citizen-mail");
}

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_poller_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "tilskudd.db").string();
    cfg_ = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
    settings_.config = &cfg_;
    settings_.templates = outgoing::load_templates(testing::source_dir() / "config" / "templates");
    PdfLimits limits = cfg_.limits.pdf;
    settings_.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };
    store_.emplace(Store::open(path_));
    poller_.emplace(cfg_, *store_, settings_, source_,
                    [this](const IntakeNote& n) { notes_.push_back(n.text); });
  }
  void TearDown() override {
    poller_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  PollStats poll() {
    return poller_->poll([this] { return now_; }, stop_);
  }
  bool noted(const std::string& part) const {
    return std::any_of(notes_.begin(), notes_.end(),
                       [&](const std::string& n) { return n.find(part) != std::string::npos; });
  }
  std::string notes() const {
    std::string out;
    for (const auto& n : notes_) out += n + "\n";
    return out;
  }
  std::vector<MessageRecord> in_state(MailboxState state) {
    return store_->messages().messages_with_mailbox_state("INBOX", state);
  }

  fs::path dir_;
  std::string path_;
  config::Config cfg_;
  IntakeSettings settings_;
  std::optional<Store> store_;
  FakeSource source_;
  std::optional<Poller> poller_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> notes_;
  Timestamp now_ = sys_days{year{2020} / 8 / 24} + hours{10};
};

TEST_F(PollerTest, NewApplicationBecomesACaseAndIsMarkedOnlyAfterTheCommit) {
  const std::uint32_t uid = source_.deliver(application('a'));
  // What another connection to the store sees when the mark is written: only committed data.
  std::optional<MailboxState> state_at_mark;
  std::size_t cases_at_mark = 0;
  source_.on_mark = [&](const MessageKey&) {
    Store other = Store::open(path_);
    auto rows = other.messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark);
    if (rows.size() == 1) state_at_mark = rows[0].mailbox_state;
    cases_at_mark = other.cases().list_cases().size();
  };

  const PollStats s = poll();

  EXPECT_FALSE(s.idle);
  EXPECT_EQ(s.candidates, 1);
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.new_cases, 1);
  EXPECT_EQ(s.marked, 1);
  EXPECT_EQ(source_.fetched, std::vector<std::uint32_t>{uid});
  ASSERT_EQ(state_at_mark, MailboxState::to_mark) << "the mark came before the commit";
  EXPECT_EQ(cases_at_mark, 1u);
  EXPECT_TRUE(source_.at(uid).flags.count(kMarked));
  const auto marked = in_state(MailboxState::marked);
  ASSERT_EQ(marked.size(), 1u);
  EXPECT_EQ(marked[0].uid, uid);
  EXPECT_EQ(marked[0].uidvalidity, 7u);
  EXPECT_EQ(marked[0].received, "2020-08-20T10:00:00+02:00");
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, CaseState::decided);
  // The checkpoint is the source's own, kept as it was handed over.
  const auto cp = store_->messages().checkpoint("INBOX");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->uidvalidity, 7u);
  EXPECT_EQ(cp->highest_uid, uid * 10);
}

TEST_F(PollerTest, MailTheSearchDoesNotNameIsNeverFetchedNorMarked) {
  const std::uint32_t other = source_.deliver(citizen_mail(), /*candidate=*/false);
  const std::uint32_t ours = source_.deliver(application('a'));

  const PollStats s = poll();

  EXPECT_EQ(s.candidates, 1);
  EXPECT_EQ(source_.fetched, std::vector<std::uint32_t>{ours});
  EXPECT_TRUE(source_.at(other).flags.empty());
  EXPECT_TRUE(source_.at(ours).flags.count(kMarked));
  // The checkpoint passed it all the same: it is never looked at again.
  EXPECT_EQ(store_->messages().checkpoint("INBOX")->highest_uid, 20u);
}

TEST_F(PollerTest, FetchedMailThatIsNotOursIsRecordedButLeftUnmarked) {
  const std::uint32_t uid = source_.deliver(citizen_mail(), /*candidate=*/true);

  const PollStats s = poll();

  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.ignored, 1);
  EXPECT_EQ(s.marked, 0);
  EXPECT_TRUE(source_.at(uid).flags.empty());
  EXPECT_EQ(in_state(MailboxState::none).size(), 1u);
}

TEST_F(PollerTest, SecondPollWithNothingNewIsQuietAndFetchesNothing) {
  source_.deliver(application('a'));
  poll();
  const int opens = source_.opens, searches = source_.searches;

  const PollStats s = poll();

  EXPECT_TRUE(s.idle);
  EXPECT_EQ(source_.checks, 2);
  EXPECT_EQ(source_.opens, opens);
  EXPECT_EQ(source_.searches, searches);
  EXPECT_EQ(source_.fetched.size(), 1u);

  // New mail after it: read from the checkpoint on, the first message not again.
  const std::uint32_t second = source_.deliver(application('b'));
  const PollStats t = poll();
  EXPECT_FALSE(t.idle);
  EXPECT_EQ(t.candidates, 1);
  EXPECT_EQ(source_.fetched, (std::vector<std::uint32_t>{1, second}));
  EXPECT_EQ(store_->cases().list_cases().size(), 2u);
}

TEST_F(PollerTest, FailedMarkIsRetriedAtTheNextPollWithoutReadingTheMessageAgain) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.failing_marks = 1;

  EXPECT_THROW(poll(), MailSourceError);

  // The case is committed; the mailbox still owes the mark.
  EXPECT_EQ(store_->cases().list_cases().size(), 1u);
  EXPECT_EQ(in_state(MailboxState::to_mark).size(), 1u);
  EXPECT_TRUE(source_.at(uid).flags.empty());

  const PollStats s = poll();

  EXPECT_FALSE(s.idle) << "a mark is owed: the poll must not be quiet";
  EXPECT_EQ(s.marked, 1);
  EXPECT_EQ(s.fetched, 0);
  EXPECT_TRUE(source_.at(uid).flags.count(kMarked));
  EXPECT_TRUE(in_state(MailboxState::to_mark).empty());
  EXPECT_EQ(in_state(MailboxState::marked).size(), 1u);
  EXPECT_EQ(store_->cases().list_cases().size(), 1u);
  EXPECT_EQ(source_.fetched.size(), 1u);
  EXPECT_TRUE(poll().idle);
}

TEST_F(PollerTest, MessageOverTheSizeLimitIsQuarantinedFromItsHeaderOnly) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).size = cfg_.limits.mime.max_message_bytes + 1;

  const PollStats s = poll();

  EXPECT_TRUE(source_.fetched.empty()) << "the whole message was fetched";
  EXPECT_EQ(source_.headers_fetched, std::vector<std::uint32_t>{uid});
  EXPECT_EQ(s.quarantined, 1);
  EXPECT_TRUE(source_.at(uid).flags.count(kQuarantined));
  EXPECT_FALSE(source_.at(uid).flags.count(kMarked));
  EXPECT_EQ(in_state(MailboxState::quarantined).size(), 1u);
  EXPECT_TRUE(noted("over the limit of 64.0 MiB")) << notes();
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c) << "the header's Message-ID names the flagged case";
  EXPECT_EQ(c->state, CaseState::flagged);
  EXPECT_EQ(store_->messages().checkpoint("INBOX")->highest_uid, uid * 10);
  EXPECT_TRUE(poll().idle);
}

TEST_F(PollerTest, MessageTheDaemonDiedOnTooOftenIsQuarantinedUnread) {
  const std::uint32_t uid = source_.deliver(application('a'));
  const std::string in_flight = path_ + ".inflight";
  // Four earlier processes died with it in hand; this is the fifth ([mailbox] max_attempts).
  std::ofstream(in_flight) << "7 " << uid << " 4 INBOX\n";

  const PollStats s = poll();

  EXPECT_TRUE(source_.fetched.empty());
  EXPECT_EQ(source_.headers_fetched, std::vector<std::uint32_t>{uid});
  EXPECT_EQ(s.quarantined, 1);
  EXPECT_TRUE(source_.at(uid).flags.count(kQuarantined));
  EXPECT_TRUE(noted("stopped 5 time(s)")) << notes();
  EXPECT_FALSE(fs::exists(in_flight));
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, CaseState::flagged);
}

TEST_F(PollerTest, FewerDeathsThanTheLimitReadTheMessageAndRemoveTheInFlightFile) {
  const std::uint32_t uid = source_.deliver(application('a'));
  const std::string in_flight = path_ + ".inflight";
  std::ofstream(in_flight) << "7 " << uid << " 1 INBOX\n";
  // While the message is in hand, the file names it with one more death.
  std::string during;
  settings_.pdf = [&, limits = cfg_.limits.pdf](std::string_view b) {
    during = testing::read_file(in_flight);
    return extract_pdf_text_sandboxed(b, limits);
  };

  const PollStats s = poll();

  EXPECT_EQ(s.new_cases, 1);
  EXPECT_EQ(s.quarantined, 0);
  EXPECT_EQ(during, "7 " + std::to_string(uid) + " 2 INBOX\n");
  EXPECT_FALSE(fs::exists(in_flight));
  EXPECT_TRUE(source_.at(uid).flags.count(kMarked));
}

TEST_F(PollerTest, NumberingStartedOverWithTheKnownMessagesThereIsReReadWithoutNewCases) {
  source_.deliver(application('a'));
  source_.deliver(application('b'));
  source_.deliver(citizen_mail(), /*candidate=*/false);
  poll();
  ASSERT_EQ(store_->cases().list_cases().size(), 2u);
  const auto outbox_before =
      store_->outbox().outbox_for_case(store_->cases().list_cases()[0].id).size();

  source_.renumber(8);
  source_.deliver(application('c'));
  const PollStats s = poll();

  // Both known Message-IDs are looked for (the mail the search never named is not known).
  EXPECT_EQ(source_.lookups, 2);
  EXPECT_TRUE(noted("the numbering of INBOX started over; 2 of 2 known messages found again"))
      << notes();
  // Re-read from the start of the new numbering: the known ones land on their cases.
  EXPECT_EQ(s.duplicates, 2);
  EXPECT_EQ(s.new_cases, 1);
  EXPECT_EQ(store_->cases().list_cases().size(), 3u);
  EXPECT_EQ(store_->outbox().outbox_for_case(store_->cases().list_cases()[0].id).size(),
            outbox_before);
  const auto cp = store_->messages().checkpoint("INBOX");
  EXPECT_EQ(cp->uidvalidity, 8u);
  EXPECT_EQ(cp->highest_uid, 40u);
  EXPECT_TRUE(poll().idle);
}

TEST_F(PollerTest, NumberingStartedOverWithTooFewKnownMessagesHaltsTheMailbox) {
  source_.deliver(application('a'));
  source_.deliver(application('b'));
  source_.deliver(application('c'));
  poll();
  const auto before = *store_->messages().checkpoint("INBOX");

  // Another mailbox behind the same name: one known message in it, two missing.
  source_.replace(9);
  source_.deliver(application('b'));
  source_.deliver(application('d'));
  const std::size_t fetched = source_.fetched.size();

  try {
    poll();
    FAIL() << "the poll went on";
  } catch (const MailboxChanged& e) {
    EXPECT_NE(std::string(e.what()).find("only 1 of 3 known messages were found again"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(source_.fetched.size(), fetched) << "nothing may be read from that mailbox";
  EXPECT_EQ(source_.searches, 1);
  const auto after = *store_->messages().checkpoint("INBOX");
  EXPECT_EQ(after.uidvalidity, before.uidvalidity);
  EXPECT_EQ(after.highest_uid, before.highest_uid);
  // Halted until a person looks: every poll says so again.
  EXPECT_THROW(poll(), MailboxChanged);
  EXPECT_EQ(store_->cases().list_cases().size(), 3u);
}

TEST_F(PollerTest, MarkOwedUnderTheOldNumberingIsDroppedNotWrittenToAnotherMessage) {
  source_.deliver(application('a'));
  source_.failing_marks = 1;
  EXPECT_THROW(poll(), MailSourceError);
  ASSERT_EQ(in_state(MailboxState::to_mark).size(), 1u);

  source_.renumber(8);
  const PollStats s = poll();

  // The old row owes nothing any more; the message is found again under its new number.
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_TRUE(in_state(MailboxState::to_mark).empty());
  const auto none = in_state(MailboxState::none);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].uidvalidity, 7u);
}

TEST_F(PollerTest, StopBetweenMessagesLeavesTheRestForTheNextPoll) {
  source_.deliver(application('a'));
  source_.deliver(application('b'));
  source_.on_mark = [&](const MessageKey&) { stop_.store(true); };

  const PollStats s = poll();

  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(source_.fetched, std::vector<std::uint32_t>{1});
  EXPECT_EQ(store_->messages().checkpoint("INBOX")->highest_uid, 10u);
  stop_.store(false);
  source_.on_mark = nullptr;
  poll();
  EXPECT_EQ(source_.fetched, (std::vector<std::uint32_t>{1, 2}));
}

// Exchange lists a UID before it hands over the body (Safe Attachments' dynamic delivery): the
// UID stays pending and is fetched again with backoff until the body comes; it is never taken as
// expunged while the server lists it.
TEST_F(PollerTest, MessageListedWithoutItsBodyIsPendingAndReadWhenTheBodyComes) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).unavailable = 2;

  PollStats s = poll();
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.new_cases, 0);
  EXPECT_FALSE(store_->cases().find_case_by_message_id(id_of('a')));
  auto pending = store_->messages().pending_uids("INBOX");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].uid, uid);
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_EQ(pending[0].next_try, now_ + minutes{1});
  EXPECT_TRUE(noted("pending, attempt 1, next try in 1 min")) << notes();
  EXPECT_TRUE(source_.at(uid).flags.empty()) << "nothing is marked before it is read";

  // Before the backoff is over nothing is asked of the mailbox but the cheap check.
  const int opens = source_.opens;
  EXPECT_TRUE(poll().idle);
  EXPECT_EQ(source_.opens, opens);

  now_ += minutes{1};
  s = poll();
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.candidates, 0) << "the checkpoint is past it: the retry comes from the pending row";
  pending = store_->messages().pending_uids("INBOX");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 2);
  EXPECT_EQ(pending[0].next_try, now_ + minutes{2});

  now_ += minutes{2};
  s = poll();
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(s.new_cases, 1);
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, CaseState::decided);
  EXPECT_TRUE(source_.at(uid).flags.count(kMarked));
  EXPECT_EQ(source_.fetched, (std::vector<std::uint32_t>{uid, uid, uid}));
}

TEST_F(PollerTest, PendingMessageExpungedMeanwhileIsDroppedWithANote) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).unavailable = 10;
  poll();
  ASSERT_EQ(store_->messages().pending_uids().size(), 1u);

  source_.expunge(uid);
  now_ += minutes{1};
  const PollStats s = poll();
  EXPECT_EQ(s.pending, 0);
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  EXPECT_TRUE(noted("was removed from the mailbox before the server handed over its body"))
      << notes();
  EXPECT_FALSE(store_->cases().find_case_by_message_id(id_of('a')));
}

// A body that never comes: at [mailbox] max_attempts (5) and an hour after it was first listed,
// the message is quarantined unread, for a person; not before, whatever the attempts.
TEST_F(PollerTest, MessageThatStaysWithoutItsBodyIsQuarantinedAfterAnHourNotLost) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).unavailable = 1000;
  const Timestamp first = now_;
  poll();
  int polls = 1;
  while (!store_->messages().pending_uids().empty() && polls < 20) {
    now_ = store_->messages().pending_uids()[0].next_try;
    const PollStats s = poll();
    ++polls;
    if (now_ - first < hours{1}) {
      EXPECT_EQ(s.quarantined, 0) << "quarantined after " << polls << " fetches at "
                                  << iso_utc(now_);
    }
  }
  // 1, 2, 4, 8, 16, 32 minutes: the seventh fetch is the first an hour after the first.
  EXPECT_EQ(polls, 7);
  EXPECT_GE(now_ - first, hours{1});
  EXPECT_TRUE(source_.at(uid).flags.count(kQuarantined));
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c) << "the header's Message-ID names the flagged case";
  EXPECT_EQ(c->state, CaseState::flagged);
  EXPECT_TRUE(noted("did not hand over its body in 7 attempts")) << notes();
}

TEST_F(PollerTest, MessageWithoutBodyOrHeaderIsStillQuarantinedWhenGivenUp) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).unavailable = 1000;
  source_.at(uid).no_header = true;
  poll();
  for (int i = 0; i < 20 && !store_->messages().pending_uids().empty(); ++i) {
    now_ = store_->messages().pending_uids()[0].next_try;
    poll();
  }
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  EXPECT_TRUE(source_.at(uid).flags.count(kQuarantined));
  const auto rec = store_->messages().find_message("INBOX", 7, uid);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, MessageStatus::quarantined);
  const auto raw = store_->messages().message_raw(rec->id);
  ASSERT_TRUE(raw);
  EXPECT_NE(raw->find("handed over neither its body nor its header"), std::string::npos) << *raw;
}

TEST_F(PollerTest, PendingRowsOfAnOldNumberingAreDroppedWhenTheNumberingStartsOver) {
  const std::uint32_t uid = source_.deliver(application('a'));
  source_.at(uid).unavailable = 1;
  poll();
  ASSERT_EQ(store_->messages().pending_uids().size(), 1u);
  source_.renumber(8);
  now_ += minutes{1};
  poll();
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  const auto c = store_->cases().find_case_by_message_id(id_of('a'));
  ASSERT_TRUE(c) << "read again under the new numbering";
}

// A first run reads from the day before it started, and keeps that day: history before it is
// never made into cases, later runs do not move it, and [mailbox] since overrides it.
TEST_F(PollerTest, FirstRunReadsFromTheDayBeforeItStartedAndKeepsThatDay) {
  source_.deliver(application('a'));
  poll();
  EXPECT_EQ(source_.arrived_since, "2020-08-23");
  EXPECT_EQ(store_->messages().mailbox_since("INBOX"), "2020-08-23");
  now_ += days{40};
  source_.deliver(application('b'));
  poll();
  EXPECT_EQ(source_.arrived_since, "2020-08-23") << "the first run's day moved";
  cfg_.mailbox.since = "2019-01-01";
  source_.deliver(application('c'));
  poll();
  EXPECT_EQ(source_.arrived_since, "2019-01-01");
}

TEST(PendingBackoff, DoublesFromOneMinuteUpToAnHour) {
  EXPECT_EQ(pending_backoff(1), minutes{1});
  EXPECT_EQ(pending_backoff(2), minutes{2});
  EXPECT_EQ(pending_backoff(6), minutes{32});
  EXPECT_EQ(pending_backoff(7), minutes{60});
  EXPECT_EQ(pending_backoff(100), minutes{60});
  EXPECT_EQ(pending_backoff(0), minutes{1});
}

TEST(Reapproval, SamplesAtMostFiftyKnownMessagesEvenlySpread) {
  std::vector<std::string> known;
  for (int i = 0; i < 100; ++i) known.push_back("m" + std::to_string(i));
  const auto sample = reapproval_sample(known, 50);
  ASSERT_EQ(sample.size(), 50u);
  EXPECT_EQ(sample.front(), "m0");
  EXPECT_EQ(sample[1], "m2");
  EXPECT_EQ(sample.back(), "m98");
  EXPECT_EQ(reapproval_sample({"x", "y"}, 50), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(reapproval_sample({}, 50).empty());
}

TEST(Reapproval, NeedsAtLeastHalfOfTheSampleFoundAgain) {
  EXPECT_TRUE(reapproved(0, 0));
  EXPECT_TRUE(reapproved(25, 50));
  EXPECT_FALSE(reapproved(24, 50));
  EXPECT_TRUE(reapproved(1, 2));
  EXPECT_FALSE(reapproved(0, 1));
  EXPECT_FALSE(reapproved(1, 3));
  EXPECT_TRUE(reapproved(2, 3));
}

}  // namespace
}  // namespace tilskudd
