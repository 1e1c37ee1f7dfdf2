// PdfExtractorPool: one pdftotext per document, the next one started ahead.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/pdf_sandbox.h"
#include "tests/support/pdf_writer.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using testing::make_pdf;

const std::string kLetter =
    "Statsforvalteren i Oslo og Viken\n"
    "Barnehagen får tildelt tilskudd på kr 45 000 for Åse Ødegård, Bærum.";

void expect_no_children() {
  int status = 0;
  pid_t r = ::waitpid(-1, &status, WNOHANG);
  EXPECT_EQ(r, -1) << "a child process was left to reap";
  EXPECT_EQ(errno, ECHILD);
}

bool running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

class PdfPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tilskudd_pdf_pool_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A pdftotext stand-in (tests/support/confine_probe.c, an ELF program: a script cannot run
  // under the confinement) that does what the "PDF" says on its second line.
  static std::string stand_in() {
    return (fs::read_symlink("/proc/self/exe").parent_path() / "confine_probe").string();
  }
  // Our child processes (the spare), from /proc.
  static std::vector<pid_t> children() {
    std::vector<pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "stat");
      std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(stat.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == ::getpid()) out.push_back(static_cast<pid_t>(std::stoi(name)));
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(PdfPoolTest, EachDocumentGetsTheSameTextAsTheOneShotPathFromAProcessStartedAhead) {
  {
    PdfExtractorPool pool;
    for (int i = 0; i < 3; ++i) {
      std::string pdf = make_pdf({kLetter + "\nBrev nummer " + std::to_string(i)});
      PdfText pooled = pool.extract(pdf);
      PdfText one_shot = extract_pdf_text_sandboxed(pdf);
      ASSERT_EQ(pooled.status, PdfStatus::ok) << pooled.detail;
      EXPECT_EQ(pooled.text, one_shot.text);
      EXPECT_NE(pooled.text.find("Brev nummer " + std::to_string(i)), std::string::npos);
    }
    auto n = pool.counters();
    EXPECT_EQ(n.from_spare, 2);  // the first document started its own process
    EXPECT_EQ(n.started, 4);     // three documents and the spare for a fourth
  }
  expect_no_children();  // the destructor killed and reaped the spare
}

TEST_F(PdfPoolTest, SpareIsAlreadyRunningBeforeTheNextDocumentArrives) {
  PdfExtractorPool pool;
  EXPECT_TRUE(children().empty());
  ASSERT_EQ(pool.extract(make_pdf({kLetter})).status, PdfStatus::ok);
  auto spare = children();
  ASSERT_EQ(spare.size(), 1u);
  EXPECT_TRUE(running(spare[0]));  // waiting on its stdin, no document yet
}

TEST_F(PdfPoolTest, HostilePdfCostsOnlyItsOwnDocument) {
  PdfExtractorPool pool;
  std::string junk = "%PDF-1.4\n";
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>((i * 7919) % 251);
  EXPECT_EQ(pool.extract(junk).status, PdfStatus::broken);
  PdfText next = pool.extract(make_pdf({kLetter}));
  ASSERT_EQ(next.status, PdfStatus::ok) << next.detail;
  EXPECT_NE(next.text.find("kr 45 000"), std::string::npos);
}

TEST_F(PdfPoolTest, DeadSpareIsReplacedByAOneShotProcess) {
  PdfExtractorPool pool;
  ASSERT_EQ(pool.extract(make_pdf({kLetter})).status, PdfStatus::ok);
  auto spare = children();
  ASSERT_EQ(spare.size(), 1u);
  ASSERT_EQ(::kill(spare[0], SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  PdfText t = pool.extract(make_pdf({kLetter}));
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  auto n = pool.counters();
  EXPECT_EQ(n.spares_lost, 1);
  EXPECT_EQ(n.from_spare, 0);
}

TEST_F(PdfPoolTest, HangingExtractorIsKilledAtTheTimeoutCountedFromTheHandOver) {
  PdfLimits limits;
  limits.timeout_ms = 300;
  PdfExtractorPool pool(limits, stand_in());
  const std::string hang = "%PDF-1.4\nsleep\n";
  EXPECT_EQ(pool.extract(hang).status, PdfStatus::timeout);
  // The spare has been waiting longer than the timeout before its document arrives: the clock
  // starts when the document is handed over, and it still stops at the timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pool.extract(hang).status, PdfStatus::timeout);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(pool.counters().from_spare, 1);
}

TEST_F(PdfPoolTest, InputChecksRunBeforeAnyProcess) {
  PdfLimits limits;
  limits.max_input_bytes = 100;
  PdfExtractorPool pool(limits);
  EXPECT_EQ(pool.extract(std::string(200, 'x')).status, PdfStatus::too_large);
  EXPECT_EQ(pool.extract("not a pdf").status, PdfStatus::broken);
  EXPECT_TRUE(children().empty());
  EXPECT_EQ(pool.counters().started, 0);
  PdfExtractorPool missing({}, "/nonexistent/pdftotext");
  PdfText t = missing.extract(make_pdf({kLetter}));
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_NE(t.detail.find("not installed"), std::string::npos) << t.detail;
}

TEST_F(PdfPoolTest, ThreadsShareOnePool) {
  PdfExtractorPool pool;
  std::vector<std::thread> threads;
  std::vector<PdfStatus> got(4, PdfStatus::broken);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { got[static_cast<std::size_t>(i)] = pool.extract(make_pdf({kLetter})).status; });
  }
  for (auto& t : threads) t.join();
  for (auto s : got) EXPECT_EQ(s, PdfStatus::ok);
}

}  // namespace
}  // namespace tilskudd
