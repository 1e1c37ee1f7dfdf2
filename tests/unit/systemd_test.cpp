// The systemd side: sd_notify, the watchdog variables, JOURNAL_STREAM, the journal's native
// protocol and the log sink that uses it, and the unit file (systemd-analyze verify/security).
#include "daemon/systemd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/log.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tilskudd-systemd-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for a scope.
class EnvVar {
 public:
  EnvVar(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string random_suffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

struct Received {
  std::string data;
  int fd = -1;  // a descriptor passed with SCM_RIGHTS, or -1
};

// A datagram socket the test listens on: a path, or a name in the abstract namespace.
class DatagramServer {
 public:
  static DatagramServer at_path(const fs::path& p) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
    return DatagramServer(
        addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.string().size() + 1));
  }
  static DatagramServer abstract(const std::string& name) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    addr.sun_path[0] = '\0';
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    return DatagramServer(
        addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size()));
  }
  DatagramServer(DatagramServer&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~DatagramServer() {
    if (fd_ >= 0) ::close(fd_);
  }

  // The next datagram within a second, with a passed descriptor if any.
  std::optional<Received> receive() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return std::nullopt;
    std::string buf(1 << 20, '\0');
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return std::nullopt;
    Received r;
    r.data = buf.substr(0, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        std::memcpy(&r.fd, CMSG_DATA(c), sizeof(int));
      }
    }
    return r;
  }
  std::optional<std::string> receive_data() {
    auto r = receive();
    if (!r) return std::nullopt;
    if (r->fd >= 0) ::close(r->fd);
    return r->data;
  }
  bool nothing_pending() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 100) == 0;
  }

 private:
  DatagramServer(const sockaddr_un& addr, socklen_t len) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      throw std::runtime_error(std::string("bind failed: ") + std::strerror(errno));
    }
  }
  int fd_ = -1;
};

// Decodes one native-protocol journal entry (both the text and the binary field form).
// Returns nullopt when the entry is malformed.
std::optional<std::multimap<std::string, std::string>> parse_entry(const std::string& e) {
  std::multimap<std::string, std::string> fields;
  std::size_t i = 0;
  while (i < e.size()) {
    std::size_t end = e.find_first_of("=\n", i);
    if (end == std::string::npos) return std::nullopt;
    std::string name = e.substr(i, end - i);
    if (e[end] == '=') {
      std::size_t nl = e.find('\n', end + 1);
      if (nl == std::string::npos) return std::nullopt;
      fields.emplace(name, e.substr(end + 1, nl - end - 1));
      i = nl + 1;
    } else {
      if (end + 9 > e.size()) return std::nullopt;
      std::uint64_t n = 0;
      for (int b = 0; b < 8; ++b) {
        n |= static_cast<std::uint64_t>(static_cast<unsigned char>(e[end + 1 + b])) << (8 * b);
      }
      std::size_t start = end + 9;
      if (start + n + 1 > e.size() || e[start + n] != '\n') return std::nullopt;
      fields.emplace(name, e.substr(start, n));
      i = start + n + 1;
    }
  }
  return fields;
}

std::string field(const std::multimap<std::string, std::string>& f, const std::string& name) {
  auto it = f.find(name);
  return it == f.end() ? std::string("<absent>") : it->second;
}

std::string stream_id(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return "0:0";
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// fd 2 goes to a file for the scope.
class StderrToFile {
 public:
  explicit StderrToFile(const fs::path& p) : path_(p) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrToFile() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  std::string text() const {
    std::fflush(stderr);
    return read_file(path_);
  }

 private:
  fs::path path_;
  int saved_ = -1;
};

// The output and exit status of a shell command.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// ---- sd_notify ---------------------------------------------------------------------------

TEST(Notify, SendsTheExactDatagramsToAPathSocket) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "notify.sock");
  EnvVar env("NOTIFY_SOCKET", (dir.path() / "notify.sock").string());

  EXPECT_TRUE(systemd::notify("READY=1\nSTATUS=polling INBOX"));
  EXPECT_EQ(server.receive_data(), "READY=1\nSTATUS=polling INBOX");
  EXPECT_TRUE(systemd::ready());
  EXPECT_EQ(server.receive_data(), "READY=1");
  EXPECT_TRUE(systemd::status("IMAP unreachable\n(failure 3 in a row)"));
  EXPECT_EQ(server.receive_data(), "STATUS=IMAP unreachable (failure 3 in a row)");
  EXPECT_TRUE(systemd::watchdog());
  EXPECT_EQ(server.receive_data(), "WATCHDOG=1");
  EXPECT_TRUE(systemd::reloading());
  EXPECT_EQ(server.receive_data(), "RELOADING=1");
  EXPECT_TRUE(systemd::stopping());
  EXPECT_EQ(server.receive_data(), "STOPPING=1");
  EXPECT_TRUE(server.nothing_pending());
}

TEST(Notify, AtSignMeansTheAbstractNamespace) {
  const std::string name = "tilskudd-notify-test-" + random_suffix();
  auto server = DatagramServer::abstract(name);
  EnvVar env("NOTIFY_SOCKET", "@" + name);
  EXPECT_TRUE(systemd::ready());
  EXPECT_EQ(server.receive_data(), "READY=1");
}

TEST(Notify, WithoutASocketNothingIsSentAndItSaysSo) {
  {
    EnvVar env("NOTIFY_SOCKET", std::nullopt);
    EXPECT_FALSE(systemd::notify("READY=1"));
    EXPECT_FALSE(systemd::ready());
    EXPECT_FALSE(systemd::watchdog());
  }
  {
    EnvVar env("NOTIFY_SOCKET", "");
    EXPECT_FALSE(systemd::ready());
  }
  {
    EnvVar env("NOTIFY_SOCKET", "relative/notify.sock");  // neither a path nor '@'
    EXPECT_FALSE(systemd::ready());
  }
  {
    EnvVar env("NOTIFY_SOCKET", "vsock:2:1234");  // later systemd's VSOCK form: unsupported
    EXPECT_FALSE(systemd::ready());
  }
  {
    TempDir dir;
    EnvVar env("NOTIFY_SOCKET", (dir.path() / "nobody-listens.sock").string());
    EXPECT_FALSE(systemd::ready());
  }
  {
    EnvVar env("NOTIFY_SOCKET", "/" + std::string(200, 'x'));  // longer than sun_path
    EXPECT_FALSE(systemd::ready());
  }
}

// ---- the watchdog ------------------------------------------------------------------------

TEST(Watchdog, IntervalComesFromWatchdogUsec) {
  EnvVar pid("WATCHDOG_PID", std::nullopt);
  {
    EnvVar usec("WATCHDOG_USEC", "120000000");
    auto v = systemd::watchdog_interval();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 120s);
  }
  {
    EnvVar usec("WATCHDOG_USEC", "1");
    EXPECT_EQ(systemd::watchdog_interval(), std::chrono::microseconds(1));
  }
}

TEST(Watchdog, PidMustBeOurs) {
  EnvVar usec("WATCHDOG_USEC", "30000000");
  {
    EnvVar pid("WATCHDOG_PID", std::to_string(::getpid()));
    EXPECT_EQ(systemd::watchdog_interval(), std::chrono::microseconds(30000000));
  }
  {
    EnvVar pid("WATCHDOG_PID", std::to_string(::getpid() + 1));
    EXPECT_EQ(systemd::watchdog_interval(), std::nullopt);
  }
  {
    EnvVar pid("WATCHDOG_PID", "1");
    EXPECT_EQ(systemd::watchdog_interval(), std::nullopt);
  }
  {
    EnvVar pid("WATCHDOG_PID", "12ab");
    EXPECT_EQ(systemd::watchdog_interval(), std::nullopt);
  }
}

TEST(Watchdog, MissingZeroOrGarbageMeansNoWatchdog) {
  EnvVar pid("WATCHDOG_PID", std::nullopt);
  {
    EnvVar usec("WATCHDOG_USEC", std::nullopt);
    EXPECT_EQ(systemd::watchdog_interval(), std::nullopt);
  }
  for (const char* bad : {"", "0", "abc", "120s", "-5", " 100", "99999999999999999999999"}) {
    EnvVar usec("WATCHDOG_USEC", std::string(bad));
    EXPECT_EQ(systemd::watchdog_interval(), std::nullopt) << "WATCHDOG_USEC=" << bad;
  }
}

// ---- JOURNAL_STREAM ----------------------------------------------------------------------

TEST(UnderJournald, TrueOnlyWhenJournalStreamIsOurStderr) {
  TempDir dir;
  StderrToFile capture(dir.path() / "stderr.txt");
  const std::string id = stream_id(STDERR_FILENO);
  {
    EnvVar env("JOURNAL_STREAM", id);
    EXPECT_TRUE(systemd::under_journald());
  }
  {
    // Another file: our stderr was redirected after the variable was set.
    std::ofstream(dir.path() / "other.txt") << "x";
    int fd = ::open((dir.path() / "other.txt").c_str(), O_RDONLY | O_CLOEXEC);
    EnvVar env("JOURNAL_STREAM", stream_id(fd));
    ::close(fd);
    EXPECT_FALSE(systemd::under_journald());
  }
  for (const char* bad : {"", "garbage", "12", ":", "1:", ":2", "1:2:3", "a:b"}) {
    EnvVar env("JOURNAL_STREAM", std::string(bad));
    EXPECT_FALSE(systemd::under_journald()) << "JOURNAL_STREAM=" << bad;
  }
  {
    EnvVar env("JOURNAL_STREAM", std::nullopt);
    EXPECT_FALSE(systemd::under_journald());
  }
}

// ---- the native journal protocol ---------------------------------------------------------

TEST(JournalProtocol, TextFormForPlainValuesBinaryFormForLineBreaks) {
  const std::string e = systemd::journal_serialize({{"MESSAGE", "[TT-2026-0042] decided"},
                                                    {"PRIORITY", "6"},
                                                    {"DETAIL", "line 1\nline 2"},
                                                    {"EMPTY", ""}});
  const std::string binary_len("\x0d\0\0\0\0\0\0\0", 8);  // 13 bytes, little endian
  EXPECT_EQ(e, "MESSAGE=[TT-2026-0042] decided\nPRIORITY=6\nDETAIL\n" + binary_len +
                   "line 1\nline 2\nEMPTY=\n");
  auto f = parse_entry(e);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(field(*f, "DETAIL"), "line 1\nline 2");
}

TEST(JournalProtocol, FieldsWithNamesJournaldRejectsAreLeftOut) {
  EXPECT_TRUE(systemd::valid_journal_field_name("CASE_REF"));
  EXPECT_TRUE(systemd::valid_journal_field_name("A1_"));
  EXPECT_TRUE(systemd::valid_journal_field_name(std::string(64, 'A')));
  EXPECT_FALSE(systemd::valid_journal_field_name(std::string(65, 'A')));
  EXPECT_FALSE(systemd::valid_journal_field_name(""));
  EXPECT_FALSE(systemd::valid_journal_field_name("_PID"));
  EXPECT_FALSE(systemd::valid_journal_field_name("1ST"));
  EXPECT_FALSE(systemd::valid_journal_field_name("case_ref"));
  EXPECT_FALSE(systemd::valid_journal_field_name("CASE-REF"));
  EXPECT_FALSE(systemd::valid_journal_field_name("CASE=REF"));
  EXPECT_EQ(systemd::journal_serialize({{"_PID", "1"}, {"MESSAGE", "x"}, {"bad", "y"}}),
            "MESSAGE=x\n");
}

TEST(JournalWriter, SendsOneDatagramPerEntry) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  systemd::JournalWriter w((dir.path() / "journal.sock").string());
  ASSERT_TRUE(w.send({{"MESSAGE", "hello"}, {"PRIORITY", "6"}}));
  EXPECT_EQ(server.receive_data(), "MESSAGE=hello\nPRIORITY=6\n");
}

TEST(JournalWriter, AnEntryTooLargeForADatagramGoesAsASealedMemfd) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  systemd::JournalWriter w((dir.path() / "journal.sock").string());
  const std::string big(1 << 20, 'x');  // over the default AF_UNIX send buffer (208 KiB)
  ASSERT_TRUE(w.send({{"MESSAGE", big}, {"PRIORITY", "6"}}));
  auto r = server.receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data, "");
  ASSERT_GE(r->fd, 0) << "no descriptor passed";
  EXPECT_EQ(::fcntl(r->fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_SEAL), F_SEAL_WRITE | F_SEAL_SEAL);
  std::string content;
  char buf[65536];
  ssize_t n;
  while ((n = ::pread(r->fd, buf, sizeof buf, static_cast<off_t>(content.size()))) > 0) {
    content.append(buf, static_cast<std::size_t>(n));
  }
  ::close(r->fd);
  EXPECT_EQ(content, "MESSAGE=" + big + "\nPRIORITY=6\n");
}

TEST(JournalWriter, NoListenerMeansFalse) {
  TempDir dir;
  systemd::JournalWriter w((dir.path() / "missing.sock").string());
  EXPECT_FALSE(w.send({{"MESSAGE", "x"}}));
  systemd::JournalWriter relative("journal.sock");
  EXPECT_FALSE(relative.send({{"MESSAGE", "x"}}));
}

// ---- the log sink ------------------------------------------------------------------------

// Each test sets the logger up its own way; afterwards it is the terminal logger again.
class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    EnvVar env("JOURNAL_STREAM", std::nullopt);
    log::setup("info");
  }
};

using JournalLog = LogTest;

TEST_F(JournalLog, ANoteWithACaseRefCarriesCaseRefPriorityAndMessage) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  EnvVar env("JOURNAL_STREAM", stream_id(STDERR_FILENO));
  log::setup("info", (dir.path() / "journal.sock").string());

  log::note(IntakeNote{"TT-2026-0042", true, "flagged: not_on_roster"});
  auto d = server.receive_data();
  ASSERT_TRUE(d.has_value());
  auto f = parse_entry(*d);
  ASSERT_TRUE(f.has_value()) << *d;
  EXPECT_EQ(field(*f, "MESSAGE"), "[TT-2026-0042] flagged: not_on_roster");
  EXPECT_EQ(field(*f, "PRIORITY"), "4");
  EXPECT_EQ(field(*f, "SYSLOG_IDENTIFIER"), "tilskudd");
  EXPECT_EQ(field(*f, "CASE_REF"), "TT-2026-0042");
  EXPECT_EQ(f->count("MAIL_MESSAGE_ID"), 0u);
  EXPECT_EQ(f->count("MAILBOX_UID"), 0u);
  EXPECT_EQ(f->count("MESSAGE_ID"), 0u);  // reserved for catalog ids

  log::note(IntakeNote{"TT-2026-0043", false, "decided"});
  f = parse_entry(server.receive_data().value_or(""));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(field(*f, "PRIORITY"), "6");
  EXPECT_EQ(field(*f, "CASE_REF"), "TT-2026-0043");

  // After the note, the thread has no case again.
  spdlog::error("store: disk full");
  f = parse_entry(server.receive_data().value_or(""));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(field(*f, "MESSAGE"), "store: disk full");
  EXPECT_EQ(field(*f, "PRIORITY"), "3");
  EXPECT_EQ(f->count("CASE_REF"), 0u);
}

TEST_F(JournalLog, TheThreadsContextNestsAndIsRestored) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  EnvVar env("JOURNAL_STREAM", stream_id(STDERR_FILENO));
  log::setup("debug", (dir.path() / "journal.sock").string());

  {
    log::ScopedContext message({"", "<abc@solsikken.no>", "INBOX/1700000000/4711"});
    spdlog::debug("fetched");
    auto f = parse_entry(server.receive_data().value_or(""));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(field(*f, "PRIORITY"), "7");
    EXPECT_EQ(field(*f, "MAIL_MESSAGE_ID"), "<abc@solsikken.no>");
    EXPECT_EQ(field(*f, "MAILBOX_UID"), "INBOX/1700000000/4711");
    EXPECT_EQ(f->count("CASE_REF"), 0u);
    {
      log::ScopedContext with_case({"TT-2026-0001", "", ""});
      EXPECT_EQ(log::current_context().case_ref, "TT-2026-0001");
      EXPECT_EQ(log::current_context().message_id, "<abc@solsikken.no>");
      log::note(IntakeNote{"TT-2026-0002", false, "merged into TT-2026-0002"});
      f = parse_entry(server.receive_data().value_or(""));
      ASSERT_TRUE(f.has_value());
      EXPECT_EQ(field(*f, "CASE_REF"), "TT-2026-0002");  // the note's own case wins
      EXPECT_EQ(field(*f, "MAIL_MESSAGE_ID"), "<abc@solsikken.no>");
      EXPECT_EQ(field(*f, "MAILBOX_UID"), "INBOX/1700000000/4711");

      log::note(IntakeNote{"", false, "no case"});
      f = parse_entry(server.receive_data().value_or(""));
      ASSERT_TRUE(f.has_value());
      EXPECT_EQ(field(*f, "MESSAGE"), "no case");
      EXPECT_EQ(field(*f, "CASE_REF"), "TT-2026-0001");  // the scope's case
      EXPECT_EQ(log::current_context().case_ref, "TT-2026-0001");
    }
    EXPECT_EQ(log::current_context().case_ref, "");
    EXPECT_EQ(log::current_context().mailbox_uid, "INBOX/1700000000/4711");

    // Another thread has its own (empty) context.
    std::thread([] { spdlog::info("from the IDLE thread"); }).join();
    f = parse_entry(server.receive_data().value_or(""));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(field(*f, "MESSAGE"), "from the IDLE thread");
    EXPECT_EQ(f->count("MAIL_MESSAGE_ID"), 0u);
    EXPECT_EQ(f->count("MAILBOX_UID"), 0u);
  }
  EXPECT_EQ(log::current_context().message_id, "");
  EXPECT_EQ(log::current_context().mailbox_uid, "");
  spdlog::info("after");
  auto f = parse_entry(server.receive_data().value_or(""));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->count("MAIL_MESSAGE_ID"), 0u);
  EXPECT_EQ(f->count("MAILBOX_UID"), 0u);
}

TEST_F(JournalLog, LineBreaksInValuesArriveIntact) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  EnvVar env("JOURNAL_STREAM", stream_id(STDERR_FILENO));
  log::setup("info", (dir.path() / "journal.sock").string());
  log::ScopedContext c({"", "<a\nb@x>", ""});  // a hostile Message-ID with a line break
  spdlog::warn("IMAP: line 1\nline 2");
  auto d = server.receive_data();
  ASSERT_TRUE(d.has_value());
  auto f = parse_entry(*d);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(field(*f, "MESSAGE"), "IMAP: line 1\nline 2");
  EXPECT_EQ(field(*f, "MAIL_MESSAGE_ID"), "<a\nb@x>");
  EXPECT_EQ(field(*f, "PRIORITY"), "4");
  EXPECT_EQ(f->size(), 4u);  // nothing injected: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, MAIL_...
}

TEST_F(JournalLog, WhenTheSocketRefusesLinesGoToStderrWithAPriorityPrefix) {
  TempDir dir;
  StderrToFile capture(dir.path() / "stderr.txt");
  EnvVar env("JOURNAL_STREAM", stream_id(STDERR_FILENO));
  log::setup("info", (dir.path() / "no-journald-here.sock").string());
  log::note(IntakeNote{"TT-2026-0042", true, "flagged: amount_mismatch"});
  spdlog::info("poll of INBOX: 1 candidate(s)");
  spdlog::debug("below the level");
  EXPECT_EQ(capture.text(),
            "<4>[TT-2026-0042] flagged: amount_mismatch\n<6>poll of INBOX: 1 candidate(s)\n");
}

TEST_F(LogTest, WithoutTheJournalTheTerminalFormatIsUnchanged) {
  TempDir dir;
  auto server = DatagramServer::at_path(dir.path() / "journal.sock");
  StderrToFile capture(dir.path() / "stderr.txt");
  EnvVar env("JOURNAL_STREAM", "1:2");  // inherited, but not our stderr
  log::setup("info", (dir.path() / "journal.sock").string());
  log::note(IntakeNote{"TT-2026-0042", true, "flagged: not_on_roster"});
  spdlog::info("stopped");
  const std::string text = capture.text();
  EXPECT_TRUE(std::regex_match(text, std::regex("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d "
                                                "warning \\[TT-2026-0042\\] flagged: "
                                                "not_on_roster\n"
                                                "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d "
                                                "info  stopped\n")))
      << text;
  EXPECT_TRUE(server.nothing_pending());
}

// ---- the unit file -----------------------------------------------------------------------

const fs::path kUnit = fs::path(TILSKUDD_SOURCE_DIR) / "systemd" / "tilskudd.service";

bool have_systemd_analyze() {
  return run("command -v systemd-analyze").first == 0;
}

// A copy of the unit whose ExecStart= and ExecStartPre= run the built binary, which verify
// wants to exist.
fs::path unit_copy(const TempDir& dir) {
  std::string unit = read_file(kUnit);
  for (const std::string key : {"ExecStartPre=", "ExecStart="}) {
    const std::string from = "\n" + key + "/usr/bin/tilskudd ";
    auto pos = unit.find(from);
    if (pos == std::string::npos) return {};
    unit.replace(pos, from.size(), "\n" + key + TILSKUDD_BINARY + " ");
  }
  fs::path p = dir.path() / "tilskudd.service";
  std::ofstream(p) << unit;
  return p;
}

TEST(UnitFile, SystemdAnalyzeVerifyAcceptsIt) {
  if (!have_systemd_analyze()) GTEST_SKIP() << "systemd-analyze not installed";
  TempDir dir;
  fs::path unit = unit_copy(dir);
  ASSERT_FALSE(unit.empty()) << "no 'ExecStart[Pre]=/usr/bin/tilskudd ' in " << kUnit;
  auto [rc, out] = run("systemd-analyze verify '" + unit.string() + "'");
  EXPECT_EQ(rc, 0) << out;
  // verify exits 0 even for lines it ignores ("Unknown key name", "Invalid syntax"); any
  // message at all is a mistake in the unit.
  EXPECT_EQ(out, "");
}

TEST(UnitFile, SecurityExposureIsAtMostTwo) {
  if (!have_systemd_analyze()) GTEST_SKIP() << "systemd-analyze not installed";
  TempDir dir;
  fs::path unit = unit_copy(dir);
  ASSERT_FALSE(unit.empty());
  auto [rc, out] = run("systemd-analyze security --offline=yes '" + unit.string() + "'");
  ASSERT_EQ(rc, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      out, m, std::regex("Overall exposure level for tilskudd\\.service: ([0-9]+\\.[0-9]+)")))
      << out;
  const double exposure = std::stod(m[1].str());
  EXPECT_LE(exposure, 2.0) << out;
  std::cout << "systemd-analyze security: overall exposure " << m[1].str() << "\n";
}

TEST(UnitFile, SysusersCreatesTheServiceUser) {
  if (run("command -v systemd-sysusers").first != 0) GTEST_SKIP() << "systemd-sysusers missing";
  TempDir root;  // a scratch root: the host's /etc is not touched
  fs::create_directories(root.path() / "etc");
  fs::create_directories(root.path() / "usr/lib/sysusers.d");
  fs::copy_file(fs::path(TILSKUDD_SOURCE_DIR) / "systemd" / "tilskudd.sysusers.conf",
                root.path() / "usr/lib/sysusers.d/tilskudd.conf");
  auto [rc, out] = run("systemd-sysusers --root='" + root.path().string() + "'");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(std::regex_search(
      read_file(root.path() / "etc/passwd"),
      std::regex("(^|\n)tilskudd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/tilskudd:/usr/sbin/nologin\n")));
  EXPECT_TRUE(
      std::regex_search(read_file(root.path() / "etc/group"), std::regex("(^|\n)tilskudd:x:")));
}

// Every credential the unit loads has an empty fallback, so that an install needs only the
// files its config names (an OAuth2-only install has no password file, and must still start),
// and the OAuth2 client secret of docs/MICROSOFT-365.md is one of them.
TEST(UnitFile, EveryLoadedCredentialHasAFallbackAndTheClientSecretIsLoaded) {
  const std::string unit = read_file(kUnit);
  const std::regex load("\nLoadCredential=([a-z0-9-]+):/etc/tilskudd/([a-z0-9-]+)\n");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(unit.begin(), unit.end(), load); it != std::sregex_iterator();
       ++it) {
    names.push_back((*it)[1].str());
    EXPECT_EQ((*it)[1].str(), (*it)[2].str()) << "credential and file are named alike";
    EXPECT_NE(unit.find("\nSetCredential=" + (*it)[1].str() + ":\\n\n"), std::string::npos)
        << (*it)[1].str() << " has no SetCredential= fallback";
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "imap-password"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "oauth2-client-secret"), names.end());
  const std::string guide = read_file(fs::path(TILSKUDD_SOURCE_DIR) / "docs" / "MICROSOFT-365.md");
  EXPECT_NE(guide.find("client_secret_file = \"/run/credentials/tilskudd.service/"
                       "oauth2-client-secret\""),
            std::string::npos);
  EXPECT_NE(guide.find("/etc/tilskudd/oauth2-client-secret"), std::string::npos);
}

TEST(UnitFile, AgreesWithTheExampleConfigAndTheDaemon) {
  const std::string unit = read_file(kUnit);
  const std::string example =
      read_file(fs::path(TILSKUDD_SOURCE_DIR) / "config" / "tilskudd.example.toml");
  // The credential the example config reads is the one the unit loads.
  EXPECT_NE(example.find("\"/run/credentials/tilskudd.service/imap-password\""), std::string::npos);
  EXPECT_NE(unit.find("\nLoadCredential=imap-password:/etc/tilskudd/imap-password\n"),
            std::string::npos);
  // The store the example config names is in the unit's StateDirectory.
  EXPECT_NE(example.find("path = \"/var/lib/tilskudd/tilskudd.db\""), std::string::npos);
  EXPECT_NE(unit.find("\nStateDirectory=tilskudd\n"), std::string::npos);
  // The daemon speaks sd_notify and SIGHUP reloads it.
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos);
  EXPECT_NE(unit.find("\nExecReload=/bin/kill -HUP $MAINPID\n"), std::string::npos);
  EXPECT_NE(unit.find("\nExecStart=/usr/bin/tilskudd run --config /etc/tilskudd/tilskudd.toml\n"),
            std::string::npos);
  // The same config is checked before the start.
  EXPECT_NE(unit.find("\nExecStartPre=/usr/bin/tilskudd config check --config "
                      "/etc/tilskudd/tilskudd.toml\n"),
            std::string::npos);
  // The static user exists only through the sysusers file.
  const std::string sysusers =
      read_file(fs::path(TILSKUDD_SOURCE_DIR) / "systemd" / "tilskudd.sysusers.conf");
  EXPECT_NE(unit.find("\nUser=tilskudd\n"), std::string::npos);
  EXPECT_TRUE(std::regex_search(sysusers, std::regex("(^|\n)u +tilskudd ")));
}

}  // namespace
}  // namespace tilskudd
