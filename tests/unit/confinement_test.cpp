// The document child's confinement (daemon/confinement.h, docs/CONFINEMENT.md), tried as an
// attacker would: tests/support/confine_probe.c stands in for a compromised pdftotext and tries
// one attack per run. Each attack is first shown to work under the old sandbox (rlimits and
// closed descriptors only), so that these tests can fail, then refused under the confinement
// the real child gets (document_confinement), and under each layer alone where that layer is
// meant to stop it.
#include "daemon/confinement.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "daemon/pdf_sandbox.h"
#include "tests/support/pdf_writer.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using confinement::Confinement;
using confinement::Layer;

std::string probe_path() {
  return (fs::read_symlink("/proc/self/exe").parent_path() / "confine_probe").string();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// What one run of the probe came to.
struct Outcome {
  PdfText result;
  bool worked() const {
    return result.status == PdfStatus::ok && result.text.find("done") != std::string::npos;
  }
  // Refused by a failing system call, or killed by the seccomp filter.
  bool refused() const {
    if (result.status == PdfStatus::ok) return result.text.find("refused") != std::string::npos;
    return result.detail.find("signal " + std::to_string(SIGSYS)) != std::string::npos;
  }
  std::string what() const { return result.text + result.detail; }
};

class ConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    support_ = confinement::probe();
    if (!support_.complete()) GTEST_SKIP() << "the kernel lacks: " << support_.summary();
    ASSERT_TRUE(fs::exists(probe_path())) << probe_path();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // /tmp: outside every path the confinement lets the child read.
    dir_ = fs::path("/tmp") /
           ("tilskudd_confinement_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    secret_ = dir_ / "imap-password";
    std::ofstream(secret_) << "hemmelig-passord\n";
    ::chmod(secret_.c_str(), 0600);
    store_ = dir_ / "tilskudd.sqlite";
    std::ofstream(store_) << "SQLite format 3" << std::string(100, '\0');
    // A TCP port on loopback that accepts connections (the backlog does, without accept()).
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listener_, 16), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);

    std::string error;
    confined_ =
        document_confinement(probe_path(), PdfLimits{}, DocumentConfinement::required, error);
    ASSERT_TRUE(confined_) << error;
  }
  void TearDown() override {
    if (listener_ >= 0) ::close(listener_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Only one layer (the other off), with the document paths.
  std::unique_ptr<Confinement> one_layer(bool landlock) {
    confinement::Policy p = confinement::document_policy(probe_path());
    p.landlock = landlock ? Layer::required : Layer::off;
    p.seccomp = landlock ? Layer::off : Layer::required;
    std::string error;
    auto c = Confinement::prepare(p, error);
    EXPECT_TRUE(c) << error;
    return c;
  }

  Outcome run(const std::vector<std::string>& attack, const Confinement* c) {
    std::vector<std::string> argv{probe_path()};
    argv.insert(argv.end(), attack.begin(), attack.end());
    return Outcome{run_pdf_extractor(argv, "", PdfLimits{}, c)};
  }

  struct Attack {
    std::string name;
    std::vector<std::string> argv;
  };
  std::vector<Attack> attacks() const {
    return {
        {"read the IMAP password", {"read", secret_.string()}},
        {"read the store", {"read", store_.string()}},
        {"list the store's folder", {"list", dir_.string()}},
        {"read /etc/passwd", {"read", "/etc/passwd"}},
        {"open an existing file for writing (truncating it)", {"write", store_.string()}},
        {"create a file", {"create", dir_.string()}},
        {"change a file through mmap", {"mmap-write", store_.string()}},
        {"open a TCP socket", {"socket"}},
        {"open a unix socket", {"unix"}},
        {"connect to a loopback port", {"connect", std::to_string(port_)}},
        {"exec /bin/sh", {"exec", "/bin/sh"}},
        {"PTRACE_TRACEME", {"ptrace"}},
        {"signal the daemon", {"signal"}},
        {"fork", {"fork"}},
    };
  }

  confinement::Support support_;
  fs::path dir_, secret_, store_;
  int listener_ = -1;
  int port_ = 0;
  std::unique_ptr<Confinement> confined_;
};

TEST_F(ConfinementTest, EveryAttackWorksUnderTheOldSandboxAndIsRefusedUnderTheConfinement) {
  const std::string store_before = read_file(store_);
  for (const Attack& a : attacks()) {
    SCOPED_TRACE(a.name);
    Outcome old = run(a.argv, nullptr);
    EXPECT_TRUE(old.worked()) << "unconfined: " << old.what();
    // Undo what it did.
    std::ofstream(store_, std::ios::binary) << store_before;
    fs::remove(dir_ / "created-by-probe");
    Outcome now = run(a.argv, confined_.get());
    EXPECT_TRUE(now.refused()) << "confined: " << now.what();
  }
  EXPECT_EQ(read_file(store_), store_before);  // the confined writes changed nothing
  EXPECT_FALSE(fs::exists(dir_ / "created-by-probe"));
}

TEST_F(ConfinementTest, TheConfinedWritesLeaveTheFilesAsTheyWere) {
  const std::string before = read_file(store_);
  for (const char* how : {"write", "mmap-write"}) {
    Outcome o = run({how, store_.string()}, confined_.get());
    EXPECT_TRUE(o.refused()) << how << ": " << o.what();
  }
  EXPECT_EQ(read_file(store_), before);
  EXPECT_TRUE(run({"create", dir_.string()}, confined_.get()).refused());
  EXPECT_FALSE(fs::exists(dir_ / "created-by-probe"));
}

// Also the program itself, which Landlock would let it execute: the one execve is spent.
TEST_F(ConfinementTest, ASecondExecKillsTheChild) {
  for (const std::string& program : {std::string("/bin/sh"), probe_path()}) {
    Outcome o = run({"exec", program}, confined_.get());
    EXPECT_EQ(o.result.status, PdfStatus::broken) << program << ": " << o.what();
    EXPECT_NE(o.result.detail.find("signal " + std::to_string(SIGSYS)), std::string::npos)
        << program << ": " << o.what();
  }
}

TEST_F(ConfinementTest, LandlockAloneRefusesTheFileAttacksTcpAndSignals) {
  auto landlock = one_layer(true);
  ASSERT_TRUE(landlock);
  for (const auto& argv : std::vector<std::vector<std::string>>{{"read", secret_.string()},
                                                                {"list", dir_.string()},
                                                                {"write", store_.string()},
                                                                {"create", dir_.string()},
                                                                {"mmap-write", store_.string()},
                                                                {"exec", "/bin/sh"}}) {
    EXPECT_TRUE(run(argv, landlock.get()).refused()) << argv[0];
  }
  if (support_.landlock_abi >= 4) {
    Outcome o = run({"connect", std::to_string(port_)}, landlock.get());
    EXPECT_TRUE(o.refused()) << o.what();
  }
  if (support_.landlock_abi >= 6) {
    Outcome o = run({"signal"}, landlock.get());
    EXPECT_TRUE(o.refused()) << o.what();
  }
  // What Landlock lets it read: the libraries (the probe runs at all) and nothing of ours.
  EXPECT_TRUE(run({"read", "/etc/ld.so.cache"}, landlock.get()).worked());
}

TEST_F(ConfinementTest, SeccompAloneRefusesSocketsWritesExecPtraceSignalsAndFork) {
  auto seccomp = one_layer(false);
  ASSERT_TRUE(seccomp);
  for (const auto& argv : std::vector<std::vector<std::string>>{{"write", store_.string()},
                                                                {"create", dir_.string()},
                                                                {"mmap-write", store_.string()},
                                                                {"socket"},
                                                                {"unix"},
                                                                {"connect", std::to_string(port_)},
                                                                {"exec", "/bin/sh"},
                                                                {"ptrace"},
                                                                {"signal"},
                                                                {"fork"}}) {
    Outcome o = run(argv, seccomp.get());
    EXPECT_TRUE(o.refused()) << argv[0] << ": " << o.what();
  }
  // Reading is Landlock's part: seccomp alone lets it read the secret.
  EXPECT_TRUE(run({"read", secret_.string()}, seccomp.get()).worked());
}

// Root (a container, a test run) usually has CAP_SYS_RESOURCE: under the old sandbox it could
// lift the rlimits that bound a document's memory and CPU again.
bool has_cap_sys_resource() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) == 0) {
      return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;  // CAP_SYS_RESOURCE
    }
  }
  return false;
}

TEST_F(ConfinementTest, RootCannotRaiseItsLimitsAgain) {
  // Without the capability nobody can raise a hard limit: there is no attack to show.
  if (!has_cap_sys_resource()) GTEST_SKIP() << "no CAP_SYS_RESOURCE here";
  Outcome old = run({"rlimit"}, nullptr);
  EXPECT_TRUE(old.worked()) << "unconfined: " << old.what();
  Outcome now = run({"rlimit"}, confined_.get());
  EXPECT_TRUE(now.refused()) << now.what();
}

TEST_F(ConfinementTest, ChildHasAnEmptyEnvironmentAndOnlyItsPipes) {
  int leaked = ::open(store_.c_str(), O_RDWR);  // no CLOEXEC
  ASSERT_GE(leaked, 0);
  Outcome env = run({"env"}, confined_.get());
  Outcome fds = run({"fds"}, confined_.get());
  ::close(leaked);
  EXPECT_EQ(env.result.text, "env 0\n") << env.what();
  EXPECT_EQ(fds.result.text, "fds 0 1 2\n") << fds.what();
}

// The real document path (extract_pdf_text_with and the pool) with the probe as its pdftotext:
// the "PDF" names the attack.
TEST_F(ConfinementTest, TheDocumentPathsConfineTheirPdftotext) {
  const std::string pdf = "%PDF-1.4\nread " + secret_.string() + "\n";
  PdfText one_shot = extract_pdf_text_with(probe_path(), pdf);
  EXPECT_NE(one_shot.text.find("refused"), std::string::npos) << one_shot.text << one_shot.detail;
  PdfExtractorPool pool({}, probe_path());
  for (int i = 0; i < 2; ++i) {  // the first from its own process, the second from the spare
    PdfText t = pool.extract(pdf);
    EXPECT_NE(t.text.find("refused"), std::string::npos) << t.text << t.detail;
    PdfText c = pool.extract("%PDF-1.4\nconnect " + std::to_string(port_) + "\n");
    EXPECT_NE(c.text.find("refused"), std::string::npos) << c.text << c.detail;
  }
  EXPECT_EQ(pool.counters().from_spare, 3);
}

TEST_F(ConfinementTest, RealPdftotextStillExtractsUnderTheConfinement) {
  const std::string path = find_pdftotext();
  if (path.empty()) GTEST_SKIP() << "pdftotext not installed";
  const std::string pdf = testing::make_pdf({"Barnehagen får tildelt kr 45 000 for Åse Ødegård."});
  PdfText t = extract_pdf_text_with(path, pdf);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_NE(t.text.find("kr 45 000"), std::string::npos) << t.text;
  EXPECT_NE(t.text.find("Åse Ødegård"), std::string::npos) << t.text;
}

TEST(ConfinementProbe, SaysWhatTheKernelOffers) {
  confinement::Support s = confinement::probe();
  const std::string line = s.summary();
  EXPECT_NE(line.find("Landlock"), std::string::npos) << line;
  EXPECT_NE(line.find("seccomp"), std::string::npos) << line;
  if (s.landlock_abi > 0) {
    EXPECT_NE(line.find("ABI " + std::to_string(s.landlock_abi)), std::string::npos) << line;
  } else {
    EXPECT_FALSE(s.landlock_detail.empty());
  }
}

TEST(ConfinementPrepare, ProgramMustBeAnAbsolutePathThatExists) {
  std::string error;
  confinement::Policy p = confinement::document_policy("relative/pdftotext");
  EXPECT_FALSE(Confinement::prepare(p, error));
  EXPECT_NE(error.find("absolute"), std::string::npos) << error;
  p.program = "/nonexistent/pdftotext";
  EXPECT_FALSE(Confinement::prepare(p, error));
  EXPECT_NE(error.find("/nonexistent/pdftotext"), std::string::npos) << error;
}

}  // namespace
}  // namespace tilskudd
