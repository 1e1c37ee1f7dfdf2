// `tilskudd run` end to end against real Dovecot + OpenSMTPD on loopback: applicants send over
// SMTP, the daemon (the real binary) polls post@ over IMAPS, decides, and its letters arrive in
// the applicants' mailboxes over SMTP. Each test has its own post@ mailbox, applicants and store.
// The main scenarios (DaemonOnServerTest) run twice: with post@ at Dovecot and at Cyrus IMAP
// (tests/support/mail_servers.h ImapServer); the applicants' mailboxes stay at Dovecot.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "parsers/mime.h"
#include "tests/support/imap_rewrite_proxy.h"
#include "tests/support/mail_servers.h"
#include "tests/support/pdf_writer.h"
#include "tests/support/support.h"
#include "tests/support/tcp_proxy.h"
#include "workflow/store.h"

#ifndef TILSKUDD_BINARY
#error "TILSKUDD_BINARY must be defined"
#endif

extern char** environ;

// Built with ThreadSanitizer (TILSKUDD_TSAN): its shadow memory multiplies every process's
// resident size, so only memory bounds are left out there.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

using namespace tilskudd;
using namespace tilskudd::testing;
using namespace std::chrono_literals;

namespace {

struct Employee {
  std::string name;
  int cost = 95000;
  int state_grant = 40000;  // what the letter grants
};

// A grant letter from Statsforvalteren as a PDF, in the wording the state uses.
std::string grant_letter(const std::string& owner, const std::vector<Employee>& employees) {
  int y = current_year();
  std::ostringstream t;
  t << "Statsforvalteren i Oslo og Viken\n\nVår dato: 15.06." << y << "    Vår ref.: " << y
    << "/4711\n\n"
    << "Tildeling av tilretteleggingsmidler for barnehagelærerutdanning " << y << "\n\n"
    << "Vi viser til deres søknad om tilretteleggingsmidler for ansatte som tar\n"
    << "barnehagelærerutdanning.\n\nVedtak\n";
  for (const auto& e : employees) {
    t << "Statsforvalteren tildeler " << owner << " kr " << e.state_grant / 1000 << " 000 i\n"
      << "tilretteleggingsmidler for " << e.name << ", som tar ABLU ved OsloMet, for studieåret "
      << y << "/" << y + 1 << ".\n\n";
  }
  return make_pdf({t.str()});
}

struct Application {
  std::string from;  // also the form's E-post
  std::string to;
  std::string owner = "Solsikken Barnehage AS";
  std::string org = "987 654 325";
  std::string message_id;
  std::string subject = "Søknad om tilretteleggingstilskudd - sak 20/30298";
  std::vector<Employee> employees;
  bool with_letter = true;
  std::string in_reply_to;  // for replies
  bool form = true;
  std::size_t scan_bytes = 0;  // > 0: one more attachment, a "scanned" PDF of about this size
};

std::string compose(const Application& a) {
  std::ostringstream form;
  if (a.form) {
    form << "Hei,\r\n\r\nVedlagt er søknaden vår med brevet fra Statsforvalteren.\r\n\r\n"
         << "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
            "barnehageansatte\r\n"
         << "Saksnummer: 20/30298\r\nBarnehageeier: " << a.owner
         << "\r\nOrganisasjonsnummer: " << a.org
         << "\r\nBarnehage: Solsikken barnehage\r\nKontaktperson: Kari Nordmann\r\nE-post: "
         << a.from << "\r\nKontonummer: 1234 56 78903\r\nDeres referanse: SOL-7\r\n\r\n"
         << "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n";
    for (const auto& e : a.employees) {
      form << e.name << " | ABLU | OsloMet | " << e.cost << " | "
           << (a.with_letter ? std::to_string(e.state_grant) : std::string("ikke mottatt"))
           << "\r\n";
    }
  } else {
    form << "Hei,\r\n\r\nHer er brevet fra Statsforvalteren som dere ba om.\r\n\r\nHilsen Kari\r\n";
  }
  std::ostringstream m;
  m << "From: Kari Nordmann <" << a.from << ">\r\nTo: " << a.to << "\r\nSubject: " << a.subject
    << "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <" << a.message_id << ">\r\n";
  if (!a.in_reply_to.empty()) {
    m << "In-Reply-To: <" << a.in_reply_to << ">\r\nReferences: <" << a.in_reply_to << ">\r\n";
  }
  m << "MIME-Version: 1.0\r\n";
  const bool letter = a.with_letter && !a.employees.empty();
  if (!letter) {
    m << "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      << form.str();
    return m.str();
  }
  m << "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
    << "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    << form.str() << "\r\n--b1\r\nContent-Type: application/pdf; name=\"Tildelingsbrev.pdf\"\r\n"
    << "Content-Disposition: attachment; filename=\"Tildelingsbrev.pdf\"\r\n"
    << "Content-Transfer-Encoding: base64\r\n\r\n"
    << base64_lines(grant_letter(a.owner, a.employees));
  if (a.scan_bytes > 0) {
    std::string scan = make_pdf({"Skannet vedlegg"});
    scan.insert(scan.size() - 6, std::string(a.scan_bytes, '%'));  // a comment, before %%EOF
    m << "--b1\r\nContent-Type: application/pdf; name=\"Skann.pdf\"\r\n"
      << "Content-Disposition: attachment; filename=\"Skann.pdf\"\r\n"
      << "Content-Transfer-Encoding: base64\r\n\r\n"
      << base64_lines(scan);
  }
  m << "--b1--\r\n";
  return m.str();
}

std::string plain_mail(const std::string& from, const std::string& to, const std::string& subject,
                       const std::string& id) {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
         "\r\nDate: Tue, 24 Nov 2026 09:00:00 +0100\r\nMessage-ID: <" + id +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
         "Hei, jeg lurer på åpningstidene på biblioteket.\r\n";
}

struct Result {
  int status = -1;  // exit code, or -signal
  std::string log;
  long max_rss_kb = 0;  // the daemon's peak resident memory
};

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return -1000;
}

// A daemon run in the background, with its stderr in a file.
class Daemon {
 public:
  Daemon(const std::string& config, const std::string& log_path, bool once,
         std::vector<std::string> extra = {})
      : log_(log_path) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    // Nothing of the test's but stdin/stdout/stderr (not the lock of `flock /work/mail.lock`).
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    std::vector<std::string> args = {TILSKUDD_BINARY, "run",         "--config",
                                     config,          "--log-level", "debug"};
    if (once) args.push_back("--once");
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, TILSKUDD_BINARY, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Daemon() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  // Waits for the exit; kills after `timeout`.
  Result wait(std::chrono::milliseconds timeout = 120s) {
    Result r;
    const auto end = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (true) {
      rusage ru{};
      pid_t w = ::wait4(pid_, &st, WNOHANG, &ru);
      if (w == pid_) {
        r.max_rss_kb = ru.ru_maxrss;
        break;
      }
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    done_ = true;
    r.status = decode_status(st);
    std::ifstream in(log_);
    r.log.assign(std::istreambuf_iterator<char>(in), {});
    return r;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !done_ && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  std::string log_;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MailServers& s = MailServers::get();
    if (!s.skip_reason.empty()) GTEST_SKIP() << s.skip_reason;
    if (!mailbox_) mailbox_ = &ImapServer::get("Dovecot");
    static int counter = 0;
    tag_ = std::to_string(::getpid()) + "x" + std::to_string(++counter);
    post_ = "post" + tag_ + "@asker.test";
    mailbox_->add_user(post_);
    dir_ = std::filesystem::temp_directory_path() / ("tilskudd-daemon-" + tag_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write("pw", "secret-post" + tag_ + "\n");
    write("roster.csv",
          "employee,programme,org_number\n"
          "Marte Kristiansen,ABLU,987654325\nJonas Berg,ABLU,987654325\n"
          "Ola Nordmann,ABLU,987654325\nLise Haugen,ABLU,987654325\n"
          "Per Olsen,ABLU,987654325\nNina Dahl,ABLU,987654325\n");
    config_ = (dir_ / "tilskudd.toml").string();
    write_config(60);
  }
  void TearDown() override {
    if (dir_.empty()) return;  // skipped before SetUp made it
    // Whatever happened, no password ever reaches a log.
    for (const char* log : {"daemon.log", "second.log"}) {
      std::ifstream in(dir_ / log);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      EXPECT_EQ(text.find("secret-"), std::string::npos) << log << " contains a password";
      // A sanitizer build of the daemon (TILSKUDD_TSAN, TILSKUDD_SANITIZE) reports here.
      EXPECT_EQ(text.find("WARNING: ThreadSanitizer"), std::string::npos) << text;
      EXPECT_EQ(text.find("ERROR: AddressSanitizer"), std::string::npos) << text;
    }
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  void write_config(int poll_interval, const std::string& imap_url = "",
                    const std::string& smtp_url = "") {
    MailServers& s = MailServers::get();
    std::ostringstream c;
    c << "[mailbox]\nurl = \"" << (imap_url.empty() ? mailbox_->imaps_url() : imap_url)
      << "\"\nusername = \"" << post_ << "\"\npassword_file = \"pw\"\nca_file = \""
      << mailbox_->ca_file() << "\"\npoll_interval_seconds = " << poll_interval << "\n";
    if (!move_to_.empty()) c << "move_to = \"" << move_to_ << "\"\n";
    c << "\n[smtp]\nurl = \"" << (smtp_url.empty() ? s.smtp_url() : smtp_url)
      << "\"\nfrom = \"Asker kommune <" << post_
      << ">\"\nallow_insecure = true\nretry_seconds = 1\n\n[store]\npath = \"" << store_path_
      << "\"\n\n"
      // Loopback mail has no Authentication-Results: the suites' explicit opt-out.
      << "[sender]\nrequire_authentication = false\n\n[controls]\naudit_sample_percent = 0\n\n";
    for (int y = current_year() - 1; y <= current_year() + 1; ++y) {
      c << "[year." << y << "]\ndeadlines = [\"" << y << "-06-30\", \"" << y
        << "-12-31\"]\ncap_per_student_when_state_rejected = 75000\n"
        << "programmes = [\"ABLU\", \"BLU_DELTID\"]\nroster = \"roster.csv\"\n\n";
    }
    write("tilskudd.toml", c.str());
  }

  std::string applicant(const std::string& local) { return local + tag_ + "@solsikken.test"; }

  Application application(const std::string& applicant_local, std::vector<Employee> employees) {
    Application a;
    a.from = applicant(applicant_local);
    a.to = post_;
    a.message_id =
        "app-" + applicant_local + "-" + tag_ + "-" + std::to_string(++ids_) + "@solsikken.test";
    a.employees = std::move(employees);
    return a;
  }

  // Into post@'s INBOX at its server (Dovecot: by SMTP through OpenSMTPD; Cyrus: by LMTP).
  void deliver(const Application& a) { mailbox_->deliver(a.from, post_, compose(a)); }

  Result run_once() {
    Daemon d(config_, (dir_ / "daemon.log").string(), true);
    return d.wait();
  }

  Store store() { return Store::open((dir_ / store_path_).string()); }

  std::filesystem::path dir_;
  std::string tag_;
  std::string post_;
  std::string config_;
  std::string store_path_ = "store.db";  // relative to the config's directory
  std::string move_to_;                  // [mailbox] move_to, when set
  ImapServer* mailbox_ = nullptr;        // post@'s server: Dovecot unless a subclass chose
  int ids_ = 0;
};

// The main scenarios with post@ at each real IMAP server ("Dovecot", "Cyrus"). Cyrus is skipped
// (with the reason) only where it is not installed; in CI it runs (mail_servers.h).
class DaemonOnServerTest : public DaemonTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    ImapServer& s = ImapServer::get(GetParam());
    if (!s.skip_reason().empty()) GTEST_SKIP() << s.skip_reason();
    mailbox_ = &s;
    DaemonTest::SetUp();
  }
  ImapServer& server() { return *mailbox_; }
};

INSTANTIATE_TEST_SUITE_P(Servers, DaemonOnServerTest, ::testing::Values("Dovecot", "Cyrus"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// systemd's notify socket, played by the test.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval tv{30, 0};
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // The next of at most `max` datagrams that contains `what`, or "" (none within 30 s each).
  std::string wait_for(const std::string& what, int max = 20) {
    for (int i = 0; i < max; ++i) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::string();
      std::string d(buf, static_cast<std::size_t>(n));
      if (d.find(what) != std::string::npos) return d;
    }
    return std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

mime::Message parse(const StoredMessage& m) {
  return mime::parse(m.raw);
}

// How often `what` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// Waits until `done()` holds; false after `timeout`.
template <typename Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// The lines of `log` that contain both `a` and `b`.
std::size_t lines_with(const std::string& log, const std::string& a, const std::string& b) {
  std::istringstream in(log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) ++n;
  }
  return n;
}

// A child process of `parent`, from /proc/<pid>/stat.
struct ChildProcess {
  pid_t pid = 0;
  std::string name;
  char state = '?';  // 'Z': a zombie nobody reaped
};
std::vector<ChildProcess> children_of(pid_t parent) {
  std::vector<ChildProcess> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::string stat;
    try {  // the process may end while we read (ESRCH)
      std::ifstream in(entry.path() / "stat");
      stat.assign(std::istreambuf_iterator<char>(in), {});
    } catch (const std::exception&) {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so from the last ')'.
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > stat.size())
      continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = '?';
    long ppid = 0;
    if (!(rest >> state >> ppid) || ppid != parent) continue;
    out.push_back(
        {static_cast<pid_t>(std::stol(pid)), stat.substr(open + 1, close - open - 1), state});
  }
  return out;
}

TEST_P(DaemonOnServerTest, DecidesApplicationsAndLeavesOtherMailAsItWas) {
  Application a = application("kari", {{"Marte Kristiansen", 95000, 40000}});
  deliver(a);
  server().deliver("citizen@example.test", post_,
                   plain_mail("citizen@example.test", post_, "Åpningstider", "c1-" + tag_ + "@x"));
  server().deliver("other@example.test", post_,
                   plain_mail("other@example.test", post_, "Spørsmål", "c2-" + tag_ + "@x"));
  Application b = application("ola", {{"Jonas Berg", 80000, 30000}});
  deliver(b);
  ASSERT_TRUE(server().wait_for_messages(post_, 4));
  {
    // By hand: the first application is read, the second citizen mail read and flagged.
    auto c = server().login(post_);
    c->select("INBOX");
    c->uid_store_add_flags("1", "\\Seen");
    c->uid_store_add_flags("3", "\\Seen \\Flagged");
    c->logout();
  }
  std::vector<StoredMessage> before = server().messages(post_);
  ASSERT_EQ(before.size(), 4u);

  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;

  std::vector<StoredMessage> after = server().messages(post_);
  ASSERT_EQ(after.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(after[i].uid, before[i].uid);
  // Applications: the keyword, and their own \Seen as it was.
  std::set<std::uint32_t> app_uids;
  for (const auto& m : after) {
    auto h = parse(m).headers;
    if (h.message_id == a.message_id || h.message_id == b.message_id) app_uids.insert(m.uid);
  }
  ASSERT_EQ(app_uids.size(), 2u);
  for (std::size_t i = 0; i < 4; ++i) {
    const bool app = app_uids.count(after[i].uid) > 0;
    EXPECT_EQ(has_flag(after[i], "$Tilskudd"), app) << "UID " << after[i].uid;
    EXPECT_EQ(has_flag(after[i], "\\Seen"), has_flag(before[i], "\\Seen")) << "UID " << i + 1;
    if (!app) {
      EXPECT_EQ(after[i].flags, before[i].flags) << "other mail must stay as it was";
    }
  }

  // Each applicant has exactly one decision, in Norwegian, with the amount and references.
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  ASSERT_TRUE(wait_for_messages(b.from, 1));
  auto got = inbox(a.from);
  ASSERT_EQ(got.size(), 1u);
  mime::Message d = parse(got[0]);
  EXPECT_NE(d.headers.subject.find("20/30298"), std::string::npos) << d.headers.subject;
  EXPECT_NE(d.headers.subject.find("TT-"), std::string::npos) << d.headers.subject;
  EXPECT_EQ(d.headers.in_reply_to, a.message_id);
  EXPECT_EQ(d.headers.get("Auto-Submitted"), "auto-replied");
  EXPECT_NE(d.text.find("Marte Kristiansen: innvilget, kr 55 000"), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("3 uker"), std::string::npos);
  EXPECT_NE(d.text.find("SOL-7"), std::string::npos);
  EXPECT_EQ(inbox(b.from).size(), 1u);

  {
    Store s = store();
    auto cases = s.cases().list_cases();
    ASSERT_EQ(cases.size(), 2u);
    for (const auto& c : cases) EXPECT_EQ(c.state, CaseState::decision_sent) << c.ref;
  }

  // A second run finds nothing new and sends nothing.
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(a.from).size(), 1u);
  EXPECT_EQ(inbox(b.from).size(), 1u);
  std::vector<StoredMessage> again = server().messages(post_);
  ASSERT_EQ(again.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(again[i].flags, after[i].flags);
}

TEST_P(DaemonOnServerTest, DocumentationRequestAnsweredByReplyCompletesTheCase) {
  Application a = application("hilde", {{"Ola Nordmann", 90000, 35000}});
  a.with_letter = false;
  deliver(a);
  ASSERT_TRUE(server().wait_for_messages(post_, 1));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  mime::Message request = parse(inbox(a.from).at(0));
  EXPECT_NE(request.text.find("Ola Nordmann"), std::string::npos) << request.text;
  EXPECT_NE(request.text.find("Statsforvalteren"), std::string::npos);
  {
    Store s = store();
    auto cases = s.cases().list_cases();
    ASSERT_EQ(cases.size(), 1u);
    EXPECT_EQ(cases[0].state, CaseState::needs_documentation);
  }

  // The applicant answers with the letter, replying to our request (no form this time).
  Application reply = application("hilde", {{"Ola Nordmann", 90000, 35000}});
  reply.form = false;
  reply.subject = "SV: " + request.headers.subject;
  reply.in_reply_to = request.headers.message_id;
  deliver(reply);
  ASSERT_TRUE(server().wait_for_messages(post_, 2));
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  ASSERT_TRUE(wait_for_messages(a.from, 2));
  auto mails = inbox(a.from);
  ASSERT_EQ(mails.size(), 2u);
  mime::Message decision = parse(mails[1]);
  EXPECT_NE(decision.text.find("Ola Nordmann: innvilget, kr 55 000"), std::string::npos)
      << decision.text;
  Store s = store();
  auto cases = s.cases().list_cases();
  ASSERT_EQ(cases.size(), 1u) << "the reply joins the case";
  EXPECT_EQ(cases[0].state, CaseState::decision_sent);
  EXPECT_EQ(s.messages().case_messages(cases[0].id).size(), 2u);
}

// [mailbox] move_to: the decided application is moved into the folder (the daemon creates it
// before its first move) with its keyword; other mail stays in INBOX as it was; a second run
// sends nothing. The folder is named as the server names a personal folder: at Dovecot
// "Behandlet-<tag>", at Cyrus "INBOX.Behandlet-<tag>" (ImapServer::personal_folder).
TEST_P(DaemonOnServerTest, MoveToPutsTheDecidedApplicationInTheFolder) {
  move_to_ = server().personal_folder("Behandlet-" + tag_);
  write_config(60);
  Application a = application("move", {{"Marte Kristiansen", 95000, 40000}});
  deliver(a);
  const std::string other_id = "m1-" + tag_ + "@x";
  server().deliver("citizen@example.test", post_,
                   plain_mail("citizen@example.test", post_, "Åpningstider", other_id));
  ASSERT_TRUE(server().wait_for_messages(post_, 2));

  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1)) << r.log;
  EXPECT_EQ(r.log.find("could not move"), std::string::npos) << r.log;
  std::vector<StoredMessage> moved = server().messages(post_, move_to_);
  ASSERT_EQ(moved.size(), 1u) << r.log << server().session_log(post_);
  EXPECT_EQ(parse(moved[0]).headers.message_id, a.message_id);
  EXPECT_TRUE(has_flag(moved[0], "$Tilskudd"));
  std::vector<StoredMessage> left = server().messages(post_);
  ASSERT_EQ(left.size(), 1u) << server().session_log(post_);
  EXPECT_EQ(parse(left[0]).headers.message_id, other_id);
  EXPECT_TRUE(left[0].flags.empty()) << "other mail must stay as it was";

  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(a.from).size(), 1u) << "decided twice";
  EXPECT_EQ(server().messages(post_, move_to_).size(), 1u);
  EXPECT_EQ(server().messages(post_).size(), 1u);
  Store st = store();
  auto cases = st.cases().list_cases();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].state, CaseState::decision_sent);
}

// move_to as an operator writes it, a plain name ("Behandlet-<tag>"). At Dovecot (personal
// namespace prefix "") that is a personal folder. At Cyrus (Debian's default altnamespace: no;
// its NAMESPACE answer is (("INBOX." ".")) (("user." ".")) (("" "."))) a top-level name is not
// the user's to create; the server answers
//   CREATE Behandlet-<tag>          ->  NO Permission denied
//   UID MOVE <uid> Behandlet-<tag>  ->  NO Mailbox does not exist
// KNOWN FAILURE at Cyrus (issue 13; daemon/imap_source.cpp ImapSource::store_keyword, the lead's
// part): the daemon takes every NO to CREATE as "it exists", its MOVE then fails, it logs "could
// not move message UID n to Behandlet-<tag>" and records the message as processed: it stays in
// INBOX for good. What this test asks for (issue 13: "folder names through NAMESPACE", "a failed
// mark or move is retried"): the folder is made in the personal namespace (INBOX.Behandlet-<tag>)
// and the message moved there. Skipped at Cyrus until the daemon does that; run it there with
// TILSKUDD_RUN_KNOWN_FAILURES=1.
TEST_P(DaemonOnServerTest, MoveToAPlainFolderNameLandsInThePersonalNamespace) {
  if (server().name() == "Cyrus" && !std::getenv("TILSKUDD_RUN_KNOWN_FAILURES")) {
    GTEST_SKIP() << "known failure at Cyrus (CREATE: NO Permission denied, taken as \"it "
                    "exists\"; UID MOVE: NO Mailbox does not exist): see the comment";
  }
  const std::string leaf = "Behandlet-" + tag_;
  move_to_ = leaf;
  write_config(60);
  Application a = application("plain", {{"Jonas Berg", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(server().wait_for_messages(post_, 1));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1)) << r.log;
  EXPECT_EQ(r.log.find("could not move"), std::string::npos) << r.log;
  EXPECT_EQ(server().messages(post_).size(), 0u) << r.log << server().session_log(post_);
  std::size_t moved = 0;
  try {
    moved = server().messages(post_, server().personal_folder(leaf)).size();
  } catch (const ImapError& e) {
    ADD_FAILURE() << server().personal_folder(leaf) << ": " << e.what();  // no such folder
  }
  EXPECT_EQ(moved, 1u) << r.log << server().session_log(post_);
}

TEST_F(DaemonTest, ApplicationSentTwiceGetsOneDecision) {
  Application a = application("tone", {{"Lise Haugen", 95000, 40000}});
  deliver(a);
  Application again = a;  // sent again: a new Message-ID, the same application
  again.message_id = "again-" + a.message_id;
  deliver(again);
  deliver(a);  // and the very same message once more
  ASSERT_TRUE(wait_for_messages(post_, 3));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(a.from).size(), 1u);
  Store s = store();
  ASSERT_EQ(s.cases().list_cases().size(), 1u);
  EXPECT_EQ(s.messages().case_messages(s.cases().list_cases()[0].id).size(), 3u);
}

TEST_P(DaemonOnServerTest, StopInTheMiddleThenRestartDecidesEachApplicationOnce) {
  const std::vector<std::string> names = {"Marte Kristiansen", "Jonas Berg", "Ola Nordmann",
                                          "Lise Haugen",       "Per Olsen",  "Nina Dahl"};
  std::vector<Application> apps;
  for (std::size_t i = 0; i < names.size(); ++i) {
    apps.push_back(application("s" + std::to_string(i), {{names[i], 95000, 40000}}));
    apps.back().from = applicant("s" + std::to_string(i));
    deliver(apps.back());
  }
  ASSERT_TRUE(server().wait_for_messages(post_, static_cast<std::uint32_t>(apps.size())));
  write_config(1);
  {
    Daemon d(config_, (dir_ / "daemon.log").string(), false);
    // Stop it as soon as the first decision is out.
    bool first = wait_for_messages(apps[0].from, 1, 60s) || wait_for_messages(apps[1].from, 1, 5s);
    d.signal(SIGTERM);
    Result r = d.wait(60s);
    ASSERT_TRUE(first) << r.log;
    EXPECT_EQ(r.status, 0) << r.log;
    EXPECT_NE(r.log.find("SIGTERM received"), std::string::npos) << r.log;
  }
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  for (const auto& a : apps) {
    ASSERT_TRUE(wait_for_messages(a.from, 1)) << a.from;
  }
  std::this_thread::sleep_for(1s);
  for (const auto& a : apps) EXPECT_EQ(inbox(a.from).size(), 1u) << a.from;
  Store s = store();
  EXPECT_EQ(s.cases().list_cases().size(), apps.size());
  for (const auto& c : s.cases().list_cases())
    EXPECT_EQ(c.state, CaseState::decision_sent) << c.ref;
}

TEST_P(DaemonOnServerTest, IdleWakesTheDaemonAndASecondDaemonIsRefused) {
  write_config(600);  // polling alone would not see the mail within the test
  Daemon d(config_, (dir_ / "daemon.log").string(), false);
  // Wait until the IDLE connection is up (the debug log says so).
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (d.log().find("IDLE connection ready") == std::string::npos &&
         std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(100ms);
  ASSERT_NE(d.log().find("IDLE connection ready"), std::string::npos) << d.log();

  Daemon second(config_, (dir_ / "second.log").string(), true);
  Result s = second.wait(30s);
  EXPECT_EQ(s.status, 3) << s.log;
  EXPECT_NE(s.log.find("another tilskudd daemon"), std::string::npos) << s.log;

  Application a = application("silje", {{"Per Olsen", 95000, 40000}});
  deliver(a);
  EXPECT_TRUE(wait_for_messages(a.from, 1, 60s)) << d.log();
  d.signal(SIGTERM);
  Result r = d.wait(60s);
  EXPECT_EQ(r.status, 0) << r.log;
}

TEST_F(DaemonTest, DryRunReadsTheMailboxButChangesAndSendsNothing) {
  Application a = application("dry", {{"Nina Dahl", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  std::vector<StoredMessage> before = inbox(post_);
  Daemon d(config_, (dir_ / "daemon.log").string(), true, {"--dry-run"});
  Result r = d.wait();
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.log.find("dry run: would send the decision"), std::string::npos) << r.log;
  std::vector<StoredMessage> after = inbox(post_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].flags, before[0].flags) << "shadow mode must not mark the message";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(a.from).size(), 0u) << "shadow mode must not send";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "store.db")) << "the real store is not touched";
  Store scratch = Store::open((dir_ / "store.db.dry-run").string());
  ASSERT_EQ(scratch.cases().list_cases().size(), 1u);
  EXPECT_EQ(scratch.cases().list_cases()[0].total, 55000);
}

TEST_F(DaemonTest, BrokenConfigOnReloadKeepsTheOldOneAndSystemdHearsAboutIt) {
  NotifySocket notify((dir_ / "notify.sock").string());
  ASSERT_TRUE(notify.ok());
  auto wait_for = [&](const std::string& what) { return notify.wait_for(what); };

  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  Daemon d(config_, (dir_ / "daemon.log").string(), false);
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_NE(wait_for("READY=1"), "") << d.log();
  EXPECT_NE(wait_for("STATUS=last poll"), "") << d.log();

  write("tilskudd.toml", "[mailbox\nthis is not TOML");
  d.signal(SIGHUP);
  std::string status = wait_for("STATUS=config reload failed");
  EXPECT_NE(status, "") << d.log();
  // The old config still works: a new application is decided.
  Application a = application("reload", {{"Jonas Berg", 95000, 40000}});
  deliver(a);
  EXPECT_TRUE(wait_for_messages(a.from, 1, 60s)) << d.log();
  d.signal(SIGTERM);
  EXPECT_NE(wait_for("STOPPING=1"), "");
  Result r = d.wait(60s);
  EXPECT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.log.find("config not reloaded, the old one stays"), std::string::npos) << r.log;
}

// ---- reload (SIGHUP) -----------------------------------------------------------------------

// The mailbox password changes: the server accepts only the new one, the operator writes it to
// the password file and sends SIGHUP. The IDLE connection logs in again with it at once, not at
// its next failure and never with the old password, so new mail is still noticed through IDLE
// (the poll interval is an hour: only IDLE can notice it within the test).
TEST_F(DaemonTest, ReloadWithANewPasswordTheIdleConnectionLogsInWithIt) {
  write_config(3600);
  Daemon d(config_, (dir_ / "daemon.log").string(), false);
  auto idle_ready = [&] { return occurrences(d.log(), "IDLE connection ready"); };
  ASSERT_TRUE(eventually([&] { return idle_ready() >= 1; }, 30s)) << d.log();

  const std::string fresh = "rotated-" + tag_;
  set_password(post_, fresh);  // from now on Dovecot refuses "secret-post<tag>"
  const std::size_t mark = dovecot_log().size();
  write("pw", fresh + "\n");
  d.signal(SIGHUP);
  // The IDLE connection follows the new settings now, while its old session still works.
  EXPECT_TRUE(eventually([&] { return idle_ready() >= 2; }, 30s)) << d.log();
  EXPECT_NE(d.log().find("IDLE: the mailbox settings changed"), std::string::npos) << d.log();

  // The server ends every session of the user: each must log in again, with the new password.
  kick_sessions(post_);
  EXPECT_TRUE(eventually([&] { return idle_ready() >= 3; }, 30s)) << d.log();
  Application a = application("rotated", {{"Per Olsen", 95000, 40000}});
  deliver(a);
  EXPECT_TRUE(wait_for_messages(a.from, 1, 30s)) << d.log();

  // Dovecot's side: logins since the change (the worker's and IDLE's), none refused.
  const std::string server_log = dovecot_log().substr(mark);
  const std::string user = "user=<" + post_ + ">";
  EXPECT_GE(lines_with(server_log, "Login: ", user), 3u) << server_log;
  EXPECT_EQ(lines_with(server_log, "auth failed", user), 0u) << server_log;
  set_password(post_, "");

  d.signal(SIGTERM);
  Result r = d.wait(60s);
  EXPECT_EQ(r.status, 0) << r.log;
  EXPECT_EQ(r.log.find(fresh), std::string::npos) << "the password reached the log";
}

// Each config has its pdftotext started ahead; a replaced config's process goes with it (killed
// and reaped), so ten reloads leave no process behind, and no zombie.
TEST_F(DaemonTest, TenReloadsLeaveNoPdftotextBehind) {
  write_config(3600);
  Daemon d(config_, (dir_ / "daemon.log").string(), false);
  ASSERT_TRUE(
      eventually([&] { return d.log().find("IDLE connection ready") != std::string::npos; }, 30s))
      << d.log();
  auto pdftotexts = [&] {
    std::set<pid_t> pids;
    for (const ChildProcess& c : children_of(d.pid())) {
      if (c.name == "pdftotext") pids.insert(c.pid);
    }
    return pids;
  };
  std::set<pid_t> spares;  // every process started ahead, one per config
  for (int i = 1; i <= 10; ++i) {
    Application a = application("hup" + std::to_string(i), {{"Per Olsen", 95000, 40000}});
    deliver(a);
    // The letter's PDF was read under this config, and its pool started the next process.
    ASSERT_TRUE(eventually(
        [&] {
          for (pid_t p : pdftotexts()) {
            if (spares.insert(p).second) return true;
          }
          return false;
        },
        30s))
        << "round " << i << "\n"
        << d.log();
    d.signal(SIGHUP);
    ASSERT_TRUE(eventually(
        [&] { return occurrences(d.log(), "SIGHUP: config") >= static_cast<std::size_t>(i); }, 30s))
        << d.log();
  }
  EXPECT_EQ(spares.size(), 10u);
  // The reload's cycle takes the new config and lets the old one go: at most the current
  // config's process may stay (here none: no document since the last reload).
  EXPECT_TRUE(eventually([&] { return pdftotexts().size() <= 1; }, 20s))
      << pdftotexts().size() << " pdftotext processes left\n"
      << d.log();
  for (const ChildProcess& c : children_of(d.pid())) {
    EXPECT_NE(c.state, 'Z') << "zombie " << c.name << " " << c.pid;
  }
  d.signal(SIGTERM);
  Result r = d.wait(60s);
  EXPECT_EQ(r.status, 0) << r.log;
}

// ---- faults --------------------------------------------------------------------------------

TEST_F(DaemonTest, SmtpServerDownThenBackTheLetterGoesOutAfterwards) {
  MailServers& s = MailServers::get();
  TcpProxy smtp(std::stoi(s.var("TILSKUDD_SMTP_PORT")));
  smtp.set_up(false);
  write_config(60, "", "smtp://127.0.0.1:" + std::to_string(smtp.port()));
  Application a = application("down", {{"Marte Kristiansen", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;  // the mailbox was fine; the letter waits
  {
    Store st = store();
    auto cases = st.cases().list_cases();
    ASSERT_EQ(cases.size(), 1u);
    EXPECT_EQ(cases[0].state, CaseState::decided);
    auto items = st.outbox().outbox_for_case(cases[0].id);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].status, OutboxStatus::pending);
    EXPECT_FALSE(items[0].last_error.empty());
  }
  EXPECT_NE(r.log.find("retry in"), std::string::npos) << r.log;
  smtp.set_up(true);
  std::this_thread::sleep_for(2500ms);  // past the first retry (retry_seconds = 1, jitter)
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inbox(a.from).size(), 1u);
  EXPECT_EQ(store().cases().list_cases()[0].state, CaseState::decision_sent);
}

// The store's file system fails while the daemon runs: full (ENOSPC, SQLite's SQLITE_FULL) or
// read-only (EROFS, SQLite's SQLITE_IOERR). tests/support/fs_fault.c makes the kernel's answers
// up for the store's directory only, so the log still works. The daemon stays up, backs off,
// says so in STATUS= and the log, and when the file system works again it decides every
// application once: nothing lost, nothing sent twice.
class StoreFaultTest : public DaemonTest {
 protected:
  void run_fault(const std::string& errno_name, const std::string& sqlite_says) {
    if (std::string(TILSKUDD_FS_FAULT).empty()) GTEST_SKIP() << "no fault library";
    store_path_ = "store/store.db";
    std::string tag = errno_name;  // in addresses: Dovecot's logins are lower case
    for (char& ch : tag) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::filesystem::create_directories(dir_ / "store");
    write_config(60);
    const std::string fault_file = (dir_ / "fault").string();
    NotifySocket notify((dir_ / "notify.sock").string());
    ASSERT_TRUE(notify.ok());

    ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
    ::setenv("LD_PRELOAD", TILSKUDD_FS_FAULT, 1);
    ::setenv("TILSKUDD_FAULT_DIR", (dir_ / "store").c_str(), 1);
    ::setenv("TILSKUDD_FAULT_FILE", fault_file.c_str(), 1);
    Daemon d(config_, (dir_ / "daemon.log").string(), false);
    for (const char* v :
         {"NOTIFY_SOCKET", "LD_PRELOAD", "TILSKUDD_FAULT_DIR", "TILSKUDD_FAULT_FILE"})
      ::unsetenv(v);
    ASSERT_NE(notify.wait_for("READY=1"), "") << d.log();
    ASSERT_NE(notify.wait_for("STATUS=last poll"), "") << d.log();

    // The store works: an application is decided as usual.
    Application first = application("before" + tag, {{"Marte Kristiansen", 95000, 40000}});
    deliver(first);
    ASSERT_TRUE(wait_for_messages(first.from, 1, 60s)) << d.log();

    // The file system fails. Two applications arrive; IDLE wakes the daemon, the intake's
    // transaction fails and is rolled back, and the daemon backs off.
    write("fault", errno_name);
    std::vector<Application> during = {
        application("during1" + tag, {{"Jonas Berg", 95000, 40000}}),
        application("during2" + tag, {{"Ola Nordmann", 95000, 40000}})};
    for (const auto& a : during) deliver(a);
    std::string status = notify.wait_for("STATUS=store failing");
    EXPECT_NE(status, "") << d.log();
    EXPECT_NE(status.find(sqlite_says), std::string::npos) << status;
    EXPECT_NE(status.find("next attempt in"), std::string::npos) << status;
    // It tries again, still failing, and stays up.
    EXPECT_NE(notify.wait_for("2 failures in a row"), "") << d.log();
    EXPECT_TRUE(d.running()) << d.log();
    for (const auto& a : during) EXPECT_TRUE(inbox(a.from).empty()) << a.from;

    // The file system works again: the daemon catches up at its next attempt.
    std::filesystem::remove(fault_file);
    for (const auto& a : during) EXPECT_TRUE(wait_for_messages(a.from, 1, 90s)) << d.log();
    EXPECT_NE(notify.wait_for("STATUS=last poll"), "") << d.log();
    std::this_thread::sleep_for(1s);
    d.signal(SIGTERM);
    Result r = d.wait(60s);
    EXPECT_EQ(r.status, 0) << r.log;
    EXPECT_NE(r.log.find(sqlite_says), std::string::npos) << r.log;
    EXPECT_NE(r.log.find("the poll is retried"), std::string::npos) << r.log;

    // Exactly one decision each, one case each, and an intact event log.
    EXPECT_EQ(inbox(first.from).size(), 1u);
    for (const auto& a : during) EXPECT_EQ(inbox(a.from).size(), 1u) << a.from;
    Store st = store();
    auto cases = st.cases().list_cases();
    EXPECT_EQ(cases.size(), 3u);
    for (const auto& c : cases) EXPECT_EQ(c.state, CaseState::decision_sent) << c.ref;
    EventChainCheck chain = st.events().verify_events();
    EXPECT_TRUE(chain.ok) << chain.problem;
  }
};

TEST_F(StoreFaultTest, DiskFullThenSpaceAgainNothingLostNothingTwice) {
  run_fault("ENOSPC", "database or disk is full");
}

TEST_F(StoreFaultTest, ReadOnlyThenWritableAgainNothingLostNothingTwice) {
  run_fault("EROFS", "disk I/O error");
}

// A 50 MB attachment end to end: a 68 MB message, delivered by LMTP (OpenSMTPD's default limit is
// 35 MB; post@'s own server may take more). It is over [limits] max_message_bytes (64 MB), so
// the daemon reads only its header and hands it to a person as a flagged case, with the
// quarantine keyword; the mailbox goes on. (Before, its literal broke the IMAP client's limit
// and every poll failed on it again.) Memory stays small (docs/BENCHMARKS.md part 5 measures
// messages under the limit).
TEST_F(DaemonTest, FiftyMegabyteAttachmentIsAccountedForWithBoundedMemory) {
  Application a = application("big", {{"Marte Kristiansen", 95000, 40000}});
  a.scan_bytes = 50u << 20;
  const std::string raw = compose(a);
  ASSERT_GT(raw.size(), 50u << 20);
  const std::string file = (dir_ / "big.eml").string();
  write("big.eml", raw);
  MailServers& s = MailServers::get();
  std::string out;
  ASSERT_EQ(
      run_command("python3 -c 'import smtplib,sys; l=smtplib.LMTP(\"127.0.0.1\", " +
                      s.var("TILSKUDD_LMTP_PORT") + "); l.sendmail(\"" + a.from + "\", [\"" +
                      post_ + "\"], open(sys.argv[1], \"rb\").read()); l.quit()' " + file + " 2>&1",
                  &out),
      0)
      << out;
  std::filesystem::remove(file);
  ASSERT_TRUE(wait_for_messages(post_, 1, 60s));

  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log.substr(0, 4000);
  Store st = store();
  auto cases = st.cases().list_cases();
  ASSERT_EQ(cases.size(), 1u) << r.log.substr(0, 4000);
  const CaseRecord& c = cases[0];
  EXPECT_EQ(c.state, CaseState::flagged) << c.ref;
  bool names_the_size = false;
  for (const Flag& f : c.flags) {
    if (f.reason.find("max_message_bytes") != std::string::npos) names_the_size = true;
  }
  EXPECT_TRUE(names_the_size) << r.log.substr(0, 4000);
  // Nothing went to the applicant: a person decides.
  EXPECT_TRUE(inbox(a.from).empty());
  {
    // Flags only: the test's own client has the same literal limit.
    auto imap = imap_login(post_);
    imap->examine("INBOX");
    auto metas = imap->uid_fetch_meta("1:*");
    ASSERT_EQ(metas.size(), 1u);
    const auto& f = metas[0].flags;
    EXPECT_NE(std::find(f.begin(), f.end(), "$TilskuddQuarantine"), f.end());
  }
  // The mailbox is not stuck: the next application is decided as usual.
  Application next = application("afterbig", {{"Jonas Berg", 95000, 40000}});
  deliver(next);
  ASSERT_TRUE(wait_for_messages(post_, 2, 60s));
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  EXPECT_TRUE(wait_for_messages(next.from, 1, 60s)) << r2.log;
  EXPECT_GT(r.max_rss_kb, 0);
  if (!kThreadSanitizer) {
    EXPECT_LT(r.max_rss_kb * 1024, static_cast<long>(5 * raw.size()))
        << "peak " << r.max_rss_kb / 1024 << " MB for a " << raw.size() / (1 << 20)
        << " MB message";
  }
}

// A message the daemon dies on (a parser crash, an OOM kill) must not keep it in a crash loop.
// Before it fetches a message the poller writes "<uidvalidity> <uid> <deaths> <mailbox>" to
// <store>.inflight and removes it when done; a process that dies leaves it behind. Here the test
// writes what four dead processes would have left: the fifth death reaches [mailbox]
// max_attempts (5), and the message is quarantined unread. One earlier death only warns.
TEST_F(DaemonTest, MessageTheDaemonKeepsDyingOnIsQuarantinedUnread) {
  Application poison = application("poison", {{"Marte Kristiansen", 95000, 40000}});
  deliver(poison);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  MailboxInfo info;
  std::vector<std::uint32_t> uids;
  {
    auto imap = imap_login(post_);
    info = imap->examine("INBOX");
    uids = imap->uid_search("ALL");
  }
  ASSERT_EQ(uids.size(), 1u);
  const std::string in_flight = (dir_ / "store.db.inflight").string();
  write("store.db.inflight",
        std::to_string(info.uidvalidity) + " " + std::to_string(uids[0]) + " 4 INBOX\n");
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_NE(r.log.find("stopped 5 time(s) while it had message UID"), std::string::npos) << r.log;
  EXPECT_FALSE(std::filesystem::exists(in_flight));
  {
    Store st = store();
    auto cases = st.cases().list_cases();
    ASSERT_EQ(cases.size(), 1u);
    EXPECT_EQ(cases[0].state, CaseState::flagged);
    bool says_why = false;
    for (const Flag& f : cases[0].flags) {
      if (f.reason.find("stopped 5 times while reading this message") != std::string::npos)
        says_why = true;
    }
    EXPECT_TRUE(says_why) << r.log;
  }
  EXPECT_TRUE(inbox(poison.from).empty());
  EXPECT_TRUE(has_flag(inbox(post_).at(0), "$TilskuddQuarantine"));

  // One death before: a warning, and the message is read and decided as usual.
  Application next = application("survivor", {{"Jonas Berg", 95000, 40000}});
  deliver(next);
  ASSERT_TRUE(wait_for_messages(post_, 2));
  write("store.db.inflight", std::to_string(info.uidvalidity) + " " +
                                 std::to_string(inbox(post_).at(1).uid) + " 0 INBOX\n");
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  EXPECT_NE(r2.log.find("stopped 1 time(s) while it had message UID"), std::string::npos) << r2.log;
  EXPECT_TRUE(wait_for_messages(next.from, 1)) << r2.log;
  EXPECT_FALSE(std::filesystem::exists(in_flight));
}

// OpenSMTPD answers RCPT TO for "tempfail..." with 451 and for "refused..." with 550
// (mailservers.sh). A temporary answer is retried later, with backoff, and nothing goes out
// twice; a permanent one is not retried: the case waits for a person, who is told in the log.
TEST_F(DaemonTest, SmtpTemporaryAndPermanentAnswersFromTheRealServer) {
  Application later = application("tempfail", {{"Marte Kristiansen", 95000, 40000}});
  Application never = application("refused", {{"Jonas Berg", 95000, 40000}});
  deliver(later);
  deliver(never);
  ASSERT_TRUE(wait_for_messages(post_, 2));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  auto outbox_of = [&](const std::string& email) {
    Store st = store();
    for (const auto& c : st.cases().list_cases()) {
      if (c.contact_email == email)
        return std::make_pair(c, st.outbox().outbox_for_case(c.id).at(0));
    }
    ADD_FAILURE() << "no case for " << email;
    return std::make_pair(CaseRecord{}, OutboxItem{});
  };
  {
    auto [c, item] = outbox_of(later.from);
    EXPECT_EQ(c.state, CaseState::decided);
    EXPECT_EQ(item.status, OutboxStatus::pending);
    EXPECT_EQ(item.attempts, 1);
    EXPECT_NE(item.last_error.find("451"), std::string::npos) << item.last_error;
  }
  {
    auto [c, item] = outbox_of(never.from);
    EXPECT_EQ(item.status, OutboxStatus::failed);
    EXPECT_NE(item.last_error.find("550"), std::string::npos) << item.last_error;
  }
  EXPECT_NE(r.log.find("refused by the mail server"), std::string::npos) << r.log;

  // Past the retry: the temporary one is tried again, the permanent one is not.
  std::this_thread::sleep_for(2500ms);
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  EXPECT_EQ(outbox_of(later.from).second.attempts, 2);
  EXPECT_EQ(outbox_of(later.from).second.status, OutboxStatus::pending);
  EXPECT_EQ(outbox_of(never.from).second.attempts, 1);
  EXPECT_TRUE(inbox(later.from).empty());
  EXPECT_TRUE(inbox(never.from).empty());
}

TEST_F(DaemonTest, ImapConnectionLostMidMessageThenCaughtUpOnce) {
  MailServers& s = MailServers::get();
  TcpProxy imap(std::stoi(s.var("TILSKUDD_IMAPS_PORT")));
  write_config(60, "imaps://127.0.0.1:" + std::to_string(imap.port()) + "/INBOX");
  // A large application, so that its literal spans many reads.
  Application a = application("big", {{"Jonas Berg", 95000, 40000}});
  std::string raw = compose(a);
  std::string filler;
  for (int i = 0; i < 8000; ++i) filler += "Vedlegg linje " + std::to_string(i) + " med tekst.\r\n";
  raw.insert(raw.rfind("--b1--"),
             "--b1\r\nContent-Type: text/plain; name=\"vedlegg.txt\"\r\n"
             "Content-Disposition: attachment; filename=\"vedlegg.txt\"\r\n\r\n" +
                 filler + "\r\n");
  smtp_deliver(a.from, post_, raw);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  imap.cut_after(60000);  // well inside the message, after login and search
  Result r = run_once();
  EXPECT_EQ(r.status, 1) << r.log;
  EXPECT_NE(r.log.find("IMAP"), std::string::npos) << r.log;
  EXPECT_EQ(store().cases().list_cases().size(), 0u) << "nothing half-done is kept";
  imap.cut_after(0);
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  Result r3 = run_once();
  ASSERT_EQ(r3.status, 0) << r3.log;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inbox(a.from).size(), 1u);
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
}

TEST_F(DaemonTest, ImapServerGoneThenBackTheDaemonStaysUpAndCatchesUp) {
  MailServers& s = MailServers::get();
  TcpProxy imap(std::stoi(s.var("TILSKUDD_IMAPS_PORT")));
  write_config(1, "imaps://127.0.0.1:" + std::to_string(imap.port()) + "/INBOX");
  Daemon d(config_, (dir_ / "daemon.log").string(), false);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (d.log().find("poll of INBOX") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  imap.set_up(false);  // the server goes away, connections and all
  Application a = application("gone", {{"Lise Haugen", 95000, 40000}});
  deliver(a);
  std::this_thread::sleep_for(3s);
  EXPECT_NE(d.log().find("next attempt in"), std::string::npos) << d.log();
  imap.set_up(true);
  EXPECT_TRUE(wait_for_messages(a.from, 1, 90s)) << d.log();
  d.signal(SIGTERM);
  Result r = d.wait(60s);
  EXPECT_EQ(r.status, 0) << r.log;
}

TEST_F(DaemonTest, LoginRefusedIsReportedWithoutThePassword) {
  write("pw", "secret-wrong-password\n");
  Application a = application("login", {{"Nina Dahl", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  Result r = run_once();
  EXPECT_EQ(r.status, 1) << r.log;
  EXPECT_NE(r.log.find("auth"), std::string::npos) << r.log;
  EXPECT_EQ(r.log.find("wrong-password"), std::string::npos) << r.log;
  EXPECT_EQ(store().cases().list_cases().size(), 0u);
  // (TearDown checks that no "secret-" reached the log.)
}

// The mailbox recreated or restored: a new UIDVALIDITY, given as an administrator restoring a
// backup would (Dovecot: doveadm; Cyrus: the index rebuilt by reconstruct, so the keywords are
// gone too). With the known messages there again the mailbox is re-read and nothing is decided
// twice; without them the daemon halts and reads nothing more.
TEST_P(DaemonOnServerTest, UidValidityChangeIsReReadWithTheKnownMessagesAndHaltedWithout) {
  auto uidvalidity = [&] { return server().login(post_)->examine("INBOX").uidvalidity; };
  Application a = application("uv", {{"Lise Haugen", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(server().wait_for_messages(post_, 1));
  Result r1 = run_once();
  ASSERT_EQ(r1.status, 0) << r1.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  const std::uint32_t v0 = uidvalidity();

  const std::uint32_t v1 = server().renew_uidvalidity(post_);
  ASSERT_NE(v1, v0);
  Result r2 = run_once();
  ASSERT_EQ(r2.status, 0) << r2.log;
  EXPECT_NE(r2.log.find("UIDVALIDITY of INBOX changed from " + std::to_string(v0) + " to " +
                        std::to_string(v1) + "; 1 of 1 known messages found again"),
            std::string::npos)
      << r2.log;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(a.from).size(), 1u) << "decided twice";
  EXPECT_EQ(store().cases().list_cases().size(), 1u);
  EXPECT_EQ(store().messages().checkpoint("INBOX")->uidvalidity, v1);

  // Another mailbox behind the name: the known message gone, a new application in it.
  server().expunge_inbox(post_);
  Application b = application("uv2", {{"Nina Dahl", 95000, 40000}});
  deliver(b);
  ASSERT_TRUE(server().wait_for_messages(post_, 1));
  const std::uint32_t v2 = server().renew_uidvalidity(post_);
  ASSERT_NE(v2, v1);
  Result r3 = run_once();
  EXPECT_EQ(r3.status, 1) << r3.log;
  EXPECT_NE(r3.log.find("mailbox halted"), std::string::npos) << r3.log;
  EXPECT_NE(r3.log.find("only 0 of 1 known messages were found again"), std::string::npos)
      << r3.log;
  EXPECT_EQ(store().cases().list_cases().size(), 1u) << "nothing may be read from that mailbox";
  EXPECT_EQ(store().messages().checkpoint("INBOX")->uidvalidity, v1);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(inbox(b.from).size(), 0u);
}

// imap:// without allow_insecure is STARTTLS, required: the daemon reads the mailbox over it
// (refused by config before issue 13).
TEST_F(DaemonTest, ReadsTheMailboxOverImapWithStartTls) {
  MailServers& s = MailServers::get();
  write_config(60, "imap://127.0.0.1:" + s.var("TILSKUDD_IMAP_PORT") + "/INBOX");
  Application a = application("starttls", {{"Marte Kristiansen", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  Result r = run_once();
  ASSERT_EQ(r.status, 0) << r.log;
  EXPECT_EQ(store().cases().list_cases().size(), 1u) << r.log;
  ASSERT_TRUE(wait_for_messages(a.from, 1));
  EXPECT_TRUE(has_flag(inbox(post_).at(0), "$Tilskudd"));
}

// A man in the middle strips STARTTLS from the server's capabilities (a downgrade attack): the
// daemon must not fall back to plaintext; it sends no credentials and reads nothing.
TEST_F(DaemonTest, RefusesAServerThatOffersNoStartTls) {
  MailServers& s = MailServers::get();
  ImapRewriteProxy proxy(std::stoi(s.var("TILSKUDD_IMAP_PORT")), {strip_starttls, {}});
  write_config(60, "imap://127.0.0.1:" + std::to_string(proxy.port()) + "/INBOX");
  Application a = application("downgrade", {{"Marte Kristiansen", 95000, 40000}});
  deliver(a);
  ASSERT_TRUE(wait_for_messages(post_, 1));
  Result r = run_once();
  EXPECT_EQ(r.status, 1) << r.log;
  EXPECT_GE(proxy.connections(), 1);
  EXPECT_NE(r.log.find("(tls)"), std::string::npos) << r.log;
  for (const auto& line : proxy.client_lines()) {
    EXPECT_EQ(line.find("LOGIN"), std::string::npos) << line;
    EXPECT_EQ(line.find("AUTHENTICATE"), std::string::npos) << line;
  }
  EXPECT_TRUE(store().cases().list_cases().empty());
  EXPECT_FALSE(has_flag(inbox(post_).at(0), "$Tilskudd"));
}

// allow_insecure = true (plaintext) to a host that is not loopback, as curl reads the URL: the
// daemon refuses to start.
TEST_F(DaemonTest, RefusesPlaintextToAHostThatIsNotLoopback) {
  MailServers& s = MailServers::get();
  write_config(60, "imap://other-host?@127.0.0.1:" + s.var("TILSKUDD_IMAP_PORT"));
  {
    std::ifstream in(dir_ / "tilskudd.toml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("[smtp]"), 6, "allow_insecure = true\n\n[smtp]");
    write("tilskudd.toml", text);
  }
  Result r = run_once();
  EXPECT_EQ(r.status, 2) << r.log;
  EXPECT_NE(r.log.find("'other-host' is not this machine"), std::string::npos) << r.log;
}

}  // namespace
