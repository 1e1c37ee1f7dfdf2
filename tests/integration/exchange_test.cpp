// Exchange Online's answers on the wire, over real Dovecot: a line-rewriting proxy
// (tests/support/imap_rewrite_proxy.h) answers the body fetch as Exchange does while it scans a
// message (OK with no data, or its stand-in notice), and forwards everything else to Dovecot.
// The poller, the IMAP source and client and the store are the real ones; only the clock is the
// test's, so that an hour of backoff takes no time (docs/DECISIONS.md "Pending UIDs").
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/imap_client.h"
#include "daemon/imap_source.h"
#include "daemon/pdf_sandbox.h"
#include "daemon/poller.h"
#include "parsers/mime.h"
#include "tests/support/imap_rewrite_proxy.h"
#include "tests/support/mail_servers.h"
#include "tests/support/support.h"
#include "workflow/intake.h"
#include "workflow/outgoing.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using testing::ImapRewriteProxy;
using testing::MailServers;

// What the proxy does to `UID FETCH n (UID BODY.PEEK[])`.
enum class Answer { forward, no_data, stand_in };

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MailServers& s = MailServers::get();
    if (!s.skip_reason.empty()) GTEST_SKIP() << s.skip_reason;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    local_ = "post-exch-" + std::to_string(::getpid()) + "-" + info->name();
    for (char& c : local_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    post_ = local_ + "@asker.kommune.no";
    dir_ = fs::temp_directory_path() / ("tilskudd_exchange_" + local_);
    fs::remove_all(dir_);
    fs::create_directories(dir_);

    proxy_.emplace(std::stoi(s.var("TILSKUDD_IMAP_PORT")),
                   ImapRewriteProxy::Hooks{[this](const std::string& line) {
                                             return server_hook ? server_hook(line) : line;
                                           },
                                           [this](const std::string& line) {
                                             if (client_hook)
                                               if (auto a = client_hook(line)) return a;
                                             return answer_fetch(line);
                                           }});
    cfg_ = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
    cfg_.mailbox.url = "imap://127.0.0.1:" + std::to_string(proxy_->port()) + "/INBOX";
    cfg_.mailbox.allow_insecure = true;
    settings_.config = &cfg_;
    settings_.templates = outgoing::load_templates(testing::source_dir() / "config" / "templates");
    PdfLimits limits = cfg_.limits.pdf;
    settings_.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };

    ImapOptions o;
    o.url = cfg_.mailbox.url;
    o.allow_insecure = true;
    o.username = post_;
    o.password = "secret-" + local_;
    o.connect_timeout = 10s;
    o.command_timeout = 10s;
    imap_.emplace(o);
    store_.emplace(Store::open((dir_ / "tilskudd.db").string()));
    source_.emplace(*imap_, cfg_, [this](const IntakeNote& n) { notes_ += n.text + "\n"; });
    poller_.emplace(cfg_, *store_, settings_, *source_,
                    [this](const IntakeNote& n) { notes_ += n.text + "\n"; });
  }
  void TearDown() override {
    poller_.reset();
    source_.reset();
    imap_.reset();
    store_.reset();
    proxy_.reset();
    fs::remove_all(dir_);
  }

  // The proxy's hook: the client's body fetch answered as Exchange does, `faults_` times.
  std::optional<std::string> answer_fetch(const std::string& line) {
    const auto fetch = line.find(" UID FETCH ");
    if (fetch == std::string::npos || line.find("(UID BODY.PEEK[])") == std::string::npos ||
        answer_ == Answer::forward || faults_.load() <= 0)
      return std::nullopt;
    --faults_;
    ++faulted_;
    const std::string tag = line.substr(0, line.find(' '));
    if (answer_ == Answer::no_data) return tag + " OK FETCH completed.\r\n";
    const std::string uid = line.substr(fetch + 11, line.find(' ', fetch + 11) - (fetch + 11));
    const std::string notice =
        "From: Microsoft Exchange <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@"
        "asker.kommune.no>\r\nSubject: Retrieval using the IMAP4 protocol failed for the "
        "following message: " +
        uid +
        "\r\n\r\nRetrieval using the IMAP4 protocol failed for the following message: " + uid +
        "\r\n";
    return "* 1 FETCH (UID " + uid + " BODY[] {" + std::to_string(notice.size()) + "}\r\n" +
           notice + ")\r\n" + tag + " OK FETCH completed.\r\n";
  }

  std::string application() const {
    return testing::read_file(testing::source_dir() / "tests" / "corpus" /
                              "01-outlook-single-ablu.eml");
  }
  void deliver(const std::string& raw) {
    testing::smtp_deliver("styrer@ablu-barnehage.no", post_, raw);
    ASSERT_TRUE(testing::wait_for_messages(post_, 1));
  }
  PollStats poll() {
    return poller_->poll([this] { return now_; }, stop_);
  }
  std::optional<CaseRecord> the_case() {
    return store_->cases().find_case_by_message_id(mime::parse(application()).headers.message_id);
  }

  // Per test: what the proxy does to the server's lines and the client's (set before the first
  // poll; they run on the proxy's threads, so they only read what the test set up).
  std::function<std::string(const std::string&)> server_hook;
  std::function<std::optional<std::string>(const std::string&)> client_hook;
  static std::string tag_of(const std::string& line) { return line.substr(0, line.find(' ')); }
  bool client_sent(const std::string& part) const {
    for (const auto& l : proxy_->client_lines())
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  void use_move_to(const std::string& folder) {
    cfg_.mailbox.move_to = folder;
    // The source and poller read the config when they act; nothing else to rebuild.
  }

  std::string local_, post_;
  fs::path dir_;
  std::optional<ImapRewriteProxy> proxy_;
  Answer answer_ = Answer::forward;
  std::atomic<int> faults_{0}, faulted_{0};
  config::Config cfg_;
  IntakeSettings settings_;
  std::optional<ImapClient> imap_;
  std::optional<Store> store_;
  std::optional<ImapSource> source_;
  std::optional<Poller> poller_;
  std::atomic<bool> stop_{false};
  std::string notes_;
  Timestamp now_ = sys_days{year{2020} / 8 / 24} + hours{10};
};

// The body fetch answered OK with no data (Exchange while Safe Attachments holds the message):
// Dovecot still lists the UID, so it is pending, not "expunged meanwhile"; when the body comes
// it is read, and nothing was lost or marked before that.
TEST_F(ExchangeTest, FetchAnsweredWithNoDataIsPendingUntilTheBodyComes) {
  answer_ = Answer::no_data;
  faults_ = 2;
  deliver(application());

  PollStats s = poll();
  EXPECT_EQ(s.pending, 1) << notes_;
  EXPECT_EQ(faulted_.load(), 1);
  EXPECT_FALSE(the_case());
  ASSERT_EQ(store_->messages().pending_uids().size(), 1u);
  EXPECT_EQ(store_->messages().pending_uids()[0].uid, 1u);
  EXPECT_NE(notes_.find("answered the FETCH of the body with no data"), std::string::npos)
      << notes_;
  EXPECT_FALSE(testing::has_flag(testing::inbox(post_).at(0), "$Tilskudd"));

  now_ += minutes{1};
  s = poll();
  EXPECT_EQ(s.pending, 1) << notes_;
  now_ += minutes{2};
  s = poll();
  EXPECT_EQ(s.pending, 0) << notes_;
  EXPECT_EQ(s.new_cases, 1) << notes_;
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  ASSERT_TRUE(the_case());
  EXPECT_TRUE(testing::has_flag(testing::inbox(post_).at(0), "$Tilskudd"));
}

// Exchange's stand-in notice in place of the message is not an application, nor a citizen's
// mail to forget: the UID is pending and the real message is read later.
TEST_F(ExchangeTest, StandInNoticeIsPendingNotReadAsTheMessage) {
  answer_ = Answer::stand_in;
  faults_ = 1;
  deliver(application());

  PollStats s = poll();
  EXPECT_EQ(s.pending, 1) << notes_;
  EXPECT_EQ(s.ignored, 0) << notes_;
  EXPECT_NE(notes_.find("stand-in text"), std::string::npos) << notes_;
  ASSERT_EQ(store_->messages().pending_uids().size(), 1u);
  EXPECT_FALSE(
      store_->messages().find_message("INBOX", store_->messages().pending_uids()[0].uidvalidity, 1))
      << "the notice was recorded as the message";

  now_ += minutes{1};
  s = poll();
  EXPECT_EQ(s.new_cases, 1) << notes_;
  ASSERT_TRUE(the_case());
}

// A message expunged while it was pending: Dovecot no longer lists it, so it is dropped with a
// warning, and nothing is fetched again.
TEST_F(ExchangeTest, PendingUidExpungedAtTheServerIsDroppedWithAWarning) {
  answer_ = Answer::no_data;
  faults_ = 100;
  deliver(application());
  poll();
  ASSERT_EQ(store_->messages().pending_uids().size(), 1u);

  auto other = testing::imap_login(post_);
  other->create("Elsewhere");
  other->select("INBOX");
  other->uid_move("1", "Elsewhere");  // gone from INBOX: expunged there
  other->logout();

  now_ += minutes{1};
  const int before = faulted_.load();
  poll();
  EXPECT_TRUE(store_->messages().pending_uids().empty());
  EXPECT_EQ(faulted_.load(), before) << "a UID the server no longer lists was fetched again";
  EXPECT_NE(notes_.find("was removed from the mailbox before the server handed over its body"),
            std::string::npos)
      << notes_;
  EXPECT_FALSE(the_case());
}

// Exchange's throttling answer: the poll ends with `throttled` and the server's own wait (1.5 s),
// the connection stays, and the next poll reads the message.
TEST_F(ExchangeTest, ThrottledSearchEndsThePollWithTheServersWait) {
  std::atomic<int> throttles{1};
  client_hook = [&](const std::string& line) -> std::optional<std::string> {
    if (line.find(" UID SEARCH ") == std::string::npos || throttles.load() <= 0)
      return std::nullopt;
    --throttles;
    return tag_of(line) +
           " BAD Request is throttled. Suggested Backoff Time: 1500 milliseconds\r\n";
  };
  deliver(application());
  try {
    poll();
    ADD_FAILURE() << "the throttled poll did not end";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::throttled) << e.what();
    EXPECT_EQ(e.retry_after(), milliseconds{1500});
  }
  EXPECT_TRUE(imap_->connected()) << "a throttled session is kept, not dropped";
  const PollStats s = poll();
  EXPECT_EQ(s.new_cases, 1) << notes_;
}

// Courier sends no UIDNEXT on SELECT. The poll never asks STATUS about the selected mailbox
// (RFC 3501 6.3.10) and does not need UIDNEXT: the checkpoint passes a new mail that is not
// ours, and the next poll is idle.
TEST_F(ExchangeTest, PollNeedsNoUidnextAndSendsNoStatus) {
  server_hook = [](const std::string& line) {
    return line.find("[UIDNEXT ") != std::string::npos ? std::string() : line;
  };
  testing::smtp_deliver("nabo@example.no", post_,
                        "From: nabo@example.no\r\nTo: " + post_ +
                            "\r\nSubject: Brøyting\r\nMessage-ID: <citizen-1@example.no>\r\n"
                            "\r\nVeien er ikke brøytet.\r\n");
  ASSERT_TRUE(testing::wait_for_messages(post_, 1));
  PollStats s = poll();
  EXPECT_FALSE(s.idle);
  EXPECT_EQ(s.candidates, 0);
  const auto cp = store_->messages().checkpoint("INBOX");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->highest_uid, 1u) << "the checkpoint did not pass the newest message";
  s = poll();
  EXPECT_TRUE(s.idle) << "the idle poll searched again";
  EXPECT_FALSE(client_sent(" STATUS ")) << "STATUS was asked about the selected mailbox";
}

// Exchange keeps no keyword of ours (PERMANENTFLAGS without \*): said once, and the message is
// tracked in the store only, not counted as marked.
TEST_F(ExchangeTest, MailboxThatKeepsNoKeywordIsSaidAndNotCountedAsMarked) {
  server_hook = [](const std::string& line) {
    std::string l = line;
    if (l.find("[PERMANENTFLAGS") != std::string::npos) {
      if (auto star = l.find(" \\*)"); star != std::string::npos) l.erase(star, 3);
    }
    return l;
  };
  deliver(application());
  const PollStats s = poll();
  EXPECT_EQ(s.new_cases, 1) << notes_;
  EXPECT_EQ(s.marked, 0);
  EXPECT_NE(notes_.find("does not keep the keywords $Tilskudd"), std::string::npos) << notes_;
  EXPECT_FALSE(client_sent("+FLAGS.SILENT ($Tilskudd)")) << "a keyword it does not keep was set";
  EXPECT_EQ(store_->messages().messages_with_mailbox_state("INBOX", MailboxState::marked).size(),
            1u);
}

// A server without MOVE (Courier): COPY, \Deleted and UID EXPUNGE of that UID only.
TEST_F(ExchangeTest, ServerWithoutMoveGetsCopyDeletedAndUidExpunge) {
  server_hook = [](const std::string& line) {
    if (line.find("CAPABILITY") == std::string::npos) return line;
    std::string l = line;
    for (std::size_t at; (at = l.find(" MOVE")) != std::string::npos;) l.erase(at, 5);
    return l;
  };
  use_move_to("Behandlet");
  deliver(application());
  const PollStats s = poll();
  EXPECT_EQ(s.new_cases, 1) << notes_;
  EXPECT_FALSE(client_sent("UID MOVE"));
  EXPECT_TRUE(client_sent("UID COPY 1 "));
  EXPECT_TRUE(client_sent("UID EXPUNGE 1"));
  EXPECT_TRUE(testing::inbox(post_).empty()) << "the message is still in INBOX";
  auto c = testing::imap_login(post_);
  EXPECT_EQ(c->examine("Behandlet").exists, 1u);
  c->logout();
}

// Cyrus answered "Permission denied" to CREATE, Courier "Invalid mailbox name": not "it exists".
// The mark stays owed and is done once the folder can be made.
TEST_F(ExchangeTest, RefusedCreateIsNotTakenAsExistingAndTheMoveIsRetried) {
  std::atomic<bool> refuse{true};
  client_hook = [&](const std::string& line) -> std::optional<std::string> {
    if (!refuse.load() || line.find(" CREATE ") == std::string::npos) return std::nullopt;
    return tag_of(line) + " NO Permission denied\r\n";
  };
  use_move_to("Behandlet");
  deliver(application());
  PollStats s = poll();
  EXPECT_EQ(s.new_cases, 1) << notes_;
  EXPECT_NE(notes_.find("cannot create the folder Behandlet"), std::string::npos) << notes_;
  EXPECT_FALSE(client_sent("UID MOVE")) << "moved into a folder that is not there";
  EXPECT_EQ(testing::inbox(post_).size(), 1u);
  EXPECT_EQ(store_->messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark).size(),
            1u);

  refuse = false;
  s = poll();
  EXPECT_TRUE(client_sent("UID MOVE 1 "));
  EXPECT_TRUE(testing::inbox(post_).empty());
  EXPECT_TRUE(
      store_->messages().messages_with_mailbox_state("INBOX", MailboxState::to_mark).empty());
}

}  // namespace
}  // namespace tilskudd
