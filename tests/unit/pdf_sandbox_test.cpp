#include "daemon/pdf_sandbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/pdf_writer.h"

namespace tilskudd {
namespace {

using testing::make_encrypted_pdf;
using testing::make_pdf;
using testing::make_pdf_without_text;

const std::string kLetterPage =
    "Statsforvalteren i Oslo og Viken\n"
    "Tildelingsbrev - tilretteleggingsmidler\n"
    "Barnehagen får tildelt tilskudd på kr 45 000 for Åse Ødegård, Bærum.\n"
    "Med hilsen";

bool has_pdftotext() {
  return !find_pdftotext().empty();
}

// No child may be left behind, reaped or not.
void expect_no_children() {
  int status = 0;
  pid_t r = ::waitpid(-1, &status, WNOHANG);
  EXPECT_EQ(r, -1) << "a child process was left to reap";
  EXPECT_EQ(errno, ECHILD);
}

TEST(PdfStatusCode, NamesEveryStatus) {
  EXPECT_EQ(pdf_status_code(PdfStatus::ok), "ok");
  EXPECT_EQ(pdf_status_code(PdfStatus::no_text), "no_text");
  EXPECT_EQ(pdf_status_code(PdfStatus::encrypted), "encrypted");
  EXPECT_EQ(pdf_status_code(PdfStatus::broken), "broken");
  EXPECT_EQ(pdf_status_code(PdfStatus::timeout), "timeout");
  EXPECT_EQ(pdf_status_code(PdfStatus::too_large), "too_large");
}

TEST(PdfSandbox, TextPdfGivesItsTextWithNorwegianLettersAndAmount) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfText t = extract_pdf_text_sandboxed(make_pdf({kLetterPage}));
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_NE(t.text.find("Statsforvalteren i Oslo og Viken"), std::string::npos) << t.text;
  EXPECT_NE(t.text.find("kr 45 000"), std::string::npos) << t.text;
  EXPECT_NE(t.text.find("Åse Ødegård, Bærum"), std::string::npos) << t.text;
  expect_no_children();
}

TEST(PdfSandbox, PagesAreSeparatedByFormFeedsAndPunctuationSurvives) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfText t = extract_pdf_text_sandboxed(make_pdf({"Side (1) \\ æ", "Side 2 – slutt"}));
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  auto ff = t.text.find('\f');
  ASSERT_NE(ff, std::string::npos);
  EXPECT_LT(t.text.find("Side (1) \\ æ"), ff);
  // normalize_spaces turns the en dash into '-'.
  EXPECT_GT(t.text.find("Side 2 - slutt"), ff);
}

TEST(PdfSandbox, MaxPagesLimitsTheExtractedPages) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfLimits limits;
  limits.max_pages = 1;
  PdfText t = extract_pdf_text_sandboxed(make_pdf({"Første side", "Andre side"}), limits);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_NE(t.text.find("Første side"), std::string::npos);
  EXPECT_EQ(t.text.find("Andre side"), std::string::npos);
}

TEST(PdfSandbox, PageWithoutTextIsNoText) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfText t = extract_pdf_text_sandboxed(make_pdf_without_text());
  EXPECT_EQ(t.status, PdfStatus::no_text) << t.detail;
  EXPECT_TRUE(t.text.empty());
}

TEST(PdfSandbox, GarbageWithoutPdfHeaderIsBrokenWithoutRunning) {
  PdfText t = extract_pdf_text_with("/nonexistent/pdftotext", "this is not a pdf at all");
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_NE(t.detail.find("not a PDF"), std::string::npos) << t.detail;
}

TEST(PdfSandbox, GarbageAfterPdfHeaderIsBroken) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  std::string junk = "%PDF-1.4\n";
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>((i * 7919) % 251);
  PdfText t = extract_pdf_text_sandboxed(junk);
  EXPECT_EQ(t.status, PdfStatus::broken) << t.detail;
  expect_no_children();
}

TEST(PdfSandbox, TruncatedPdfIsBrokenOrYieldsWhatItCan) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  std::string pdf = make_pdf({kLetterPage});
  // Cut inside the content stream: no xref, no trailer, a half stream.
  std::string cut = pdf.substr(0, pdf.find("Tildelingsbrev") + 5);
  PdfText t = extract_pdf_text_sandboxed(cut);
  EXPECT_NE(t.status, PdfStatus::ok) << t.text;
  EXPECT_TRUE(t.status == PdfStatus::broken || t.status == PdfStatus::no_text)
      << pdf_status_code(t.status);
}

TEST(PdfSandbox, EncryptedPdfWithUserPasswordIsEncrypted) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfText t = extract_pdf_text_sandboxed(make_encrypted_pdf({kLetterPage}, "hemmelig"));
  EXPECT_EQ(t.status, PdfStatus::encrypted) << t.detail;
  EXPECT_TRUE(t.text.empty());
}

TEST(PdfSandbox, EncryptedFixtureIsAValidPdfWithThePassword) {
  // Proves the fixture above is a correct encrypted PDF, not just a broken one.
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  PdfText t = run_pdf_extractor(
      {find_pdftotext(), "-q", "-upw", "hemmelig", "-enc", "UTF-8", "-layout", "-", "-"},
      make_encrypted_pdf({kLetterPage}, "hemmelig"), PdfLimits{});
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_NE(t.text.find("kr 45 000"), std::string::npos);
}

TEST(PdfSandbox, InputOverMaxInputBytesIsTooLargeWithoutRunning) {
  PdfLimits limits;
  limits.max_input_bytes = 100;
  PdfText t =
      extract_pdf_text_with("/nonexistent/pdftotext", "%PDF-1.4\n" + std::string(200, 'x'), limits);
  EXPECT_EQ(t.status, PdfStatus::too_large);
}

TEST(PdfSandbox, MissingPdftotextIsBrokenWithDetail) {
  PdfText t = extract_pdf_text_with("/nonexistent/pdftotext", make_pdf({"Hei"}));
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_EQ(t.detail, "pdftotext not installed");
  t = extract_pdf_text_with("", make_pdf({"Hei"}));
  EXPECT_EQ(t.detail, "pdftotext not installed");
}

TEST(PdfSandbox, HugeTextOutputIsCappedAsTooLarge) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  std::vector<std::string> pages;
  std::string page;
  for (int i = 0; i < 50; ++i) page += "Linje " + std::to_string(i) + " med tekst som fyller\n";
  for (int p = 0; p < 20; ++p) pages.push_back(page);
  PdfLimits limits;
  limits.max_text_bytes = 2000;
  PdfText t = extract_pdf_text_sandboxed(make_pdf(pages), limits);
  EXPECT_EQ(t.status, PdfStatus::too_large) << t.detail;
  EXPECT_LE(t.text.size(), 2000u);
  expect_no_children();
}

TEST(PdfSandboxExtractor, EndlessOutputIsKilledAtTheCap) {
  PdfLimits limits;
  limits.max_text_bytes = 1 << 20;
  auto start = std::chrono::steady_clock::now();
  PdfText t = run_pdf_extractor({"/usr/bin/yes", "tilskudd"}, "", limits);
  EXPECT_EQ(t.status, PdfStatus::too_large) << t.detail;
  EXPECT_EQ(t.text.size(), 1u << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  expect_no_children();
}

TEST(PdfSandboxExtractor, HangingExtractorIsKilledAtTheTimeout) {
  PdfLimits limits;
  limits.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  PdfText t = run_pdf_extractor({"/bin/sleep", "30"}, "%PDF-1.4", limits);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(t.status, PdfStatus::timeout) << t.detail;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  expect_no_children();
}

TEST(PdfSandboxExtractor, TimeoutKillsTheWholeProcessGroup) {
  // The shell's child keeps stdout open; killing only the shell would leave us waiting.
  PdfLimits limits;
  limits.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  PdfText t = run_pdf_extractor({"/bin/sh", "-c", "sleep 30; echo done"}, "", limits);
  EXPECT_EQ(t.status, PdfStatus::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(PdfSandboxExtractor, ExtractorThatReadsNothingDoesNotBlockOrKillUs) {
  // A big input the child never reads: writing must neither deadlock nor raise SIGPIPE.
  std::string input(8u << 20, 'x');
  PdfText t = run_pdf_extractor({"/bin/echo", "hei"}, input, PdfLimits{});
  EXPECT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_EQ(t.text, "hei\n");
}

TEST(PdfSandboxExtractor, BigInputIsStreamedWhileOutputIsRead) {
  // cat echoes 8 MB back: stdin and stdout must be served together or both pipes fill up.
  std::string input(8u << 20, 'a');
  PdfLimits limits;
  limits.max_text_bytes = 16u << 20;
  PdfText t = run_pdf_extractor({"/bin/cat"}, input, limits);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_EQ(t.text.size(), input.size());
}

TEST(PdfSandboxExtractor, SigpipeIgnoredOrNotOurProcessSurvives) {
  struct sigaction old {};
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &old);
  PdfText t = run_pdf_extractor({"/bin/true"}, std::string(4u << 20, 'x'), PdfLimits{});
  ::sigaction(SIGPIPE, &old, nullptr);
  EXPECT_EQ(t.status, PdfStatus::no_text);  // exit 0 with no output
}

TEST(PdfSandboxExtractor, ChildStartsWithSigpipeDefaultAndEmptyMask) {
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  PdfText t = run_pdf_extractor({"/bin/sh", "-c", "grep -E '^(SigIgn|SigBlk)' /proc/self/status"},
                                "", PdfLimits{});
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  // SIGPIPE is bit 13 (0x1000); sh itself may ignore nothing else here.
  EXPECT_EQ(t.text.find("SigBlk:\t0000000000000000"), t.text.find("SigBlk")) << t.text;
  auto ign_pos = t.text.find("SigIgn:\t");
  ASSERT_NE(ign_pos, std::string::npos);
  std::string mask = t.text.substr(ign_pos + 8, 16);
  unsigned long long bits = std::stoull(mask, nullptr, 16);
  EXPECT_EQ(bits & (1ull << (SIGPIPE - 1)), 0u) << t.text;
}

TEST(PdfSandboxExtractor, ChildGetsNoOtherFileDescriptorsAndLimits) {
  int leaked = ::dup(0);  // a descriptor without CLOEXEC in our process
  ASSERT_GE(leaked, 0);
  PdfText t = run_pdf_extractor(
      {"/bin/sh", "-c", "ls /proc/self/fd | wc -l; ulimit -c; ulimit -f; ulimit -n"}, "",
      PdfLimits{});
  ::close(leaked);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  // 0, 1, 2 and the directory ls itself opens: 4 entries; nothing inherited.
  EXPECT_EQ(t.text, "4\n0\n0\n64\n");
}

TEST(PdfSandboxExtractor, MemoryLimitApplies) {
  PdfLimits limits;
  limits.memory_bytes = 256u << 20;
  PdfText t = run_pdf_extractor({"/bin/sh", "-c", "ulimit -v"}, "", limits);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_EQ(t.text, std::to_string((256u << 20) / 1024) + "\n");
}

TEST(PdfSandboxExtractor, NonZeroExitIsBrokenWithStderrInDetail) {
  PdfText t = run_pdf_extractor({"/bin/sh", "-c", "echo kaputt >&2; exit 99"}, "", PdfLimits{});
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_NE(t.detail.find("99"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("kaputt"), std::string::npos) << t.detail;
}

TEST(PdfSandboxExtractor, PasswordOnStderrWithExitOneIsEncrypted) {
  PdfText t = run_pdf_extractor(
      {"/bin/sh", "-c", "echo 'Command Line Error: Incorrect password' >&2; exit 1"}, "",
      PdfLimits{});
  EXPECT_EQ(t.status, PdfStatus::encrypted);
}

TEST(PdfSandboxExtractor, CrashOfTheExtractorIsBroken) {
  PdfText t = run_pdf_extractor({"/bin/sh", "-c", "kill -SEGV $$"}, "", PdfLimits{});
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_NE(t.detail.find("signal"), std::string::npos) << t.detail;
}

TEST(PdfSandboxExtractor, MissingProgramIsBroken) {
  PdfText t = run_pdf_extractor({"/nonexistent/extractor"}, "x", PdfLimits{});
  EXPECT_EQ(t.status, PdfStatus::broken);
  EXPECT_NE(t.detail.find("cannot run"), std::string::npos) << t.detail;
  expect_no_children();
}

TEST(PdfSandboxExtractor, InvalidUtf8OutputIsSanitized) {
  PdfText t = run_pdf_extractor({"/usr/bin/printf", "ok \\377\\000 kr"}, "", PdfLimits{});
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_EQ(t.text, "ok \xEF\xBF\xBD kr");
}

TEST(PdfSandbox, ParallelExtractionsFromThreadsAllSucceed) {
  if (!has_pdftotext()) GTEST_SKIP() << "pdftotext not installed";
  std::string pdf = make_pdf({kLetterPage});
  std::vector<std::thread> threads;
  std::vector<PdfStatus> results(8, PdfStatus::broken);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[i] = extract_pdf_text_sandboxed(pdf).status; });
  }
  for (auto& th : threads) th.join();
  for (auto s : results) EXPECT_EQ(s, PdfStatus::ok);
  expect_no_children();
}

}  // namespace
}  // namespace tilskudd
