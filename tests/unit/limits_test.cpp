// Bounded work per message (DECISIONS.md "Bounded work per message", issue 14): a message over
// one of the [limits] work limits (max_form_lines, max_letters_per_message,
// max_letter_text_bytes, message_cpu_seconds) becomes a flagged case with limit_exceeded naming
// the limit, never a silently truncated reading that is then decided, and never a watchdog kill.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "parsers/budget.h"
#include "parsers/form.h"
#include "parsers/letter.h"
#include "tests/support/support.h"
#include "workflow/assess.h"
#include "workflow/evidence.h"

namespace tilskudd {
namespace {

// The applicant of corpus mail 19: on the 2020 roster (Vilde Engen, BLU deltid, 924335211).
// `extra` employee lines follow hers (made-up names, not on the roster).
std::string form_text(std::size_t extra = 0) {
  std::string s =
      "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\n"
      "Saksnummer: 20/30298\n"
      "Barnehageeier: Vettre Gårdsbarnehage AS\n"
      "Organisasjonsnummer: 924 335 211\n"
      "Barnehage: Vettre gårdsbarnehage\n"
      "Kontaktperson: Ragnhild Bøe\n"
      "E-post: ragnhild.boe@vettregard.no\n"
      "Kontonummer: 1207 18 39948\n"
      "\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Vilde Engen | BLU deltid | USN | 70 000 | avslag\n";
  for (std::size_t i = 0; i < extra; ++i) {
    s += "Ansatt" + std::to_string(i) + " Etternavn" + std::to_string(i) +
         " | ABLU | DMMH | 95 000 | avslag\n";
  }
  return s + "\nMvh\nRagnhild Bøe\n";
}

// The state's rejection as the corpus writes it (mail 19).
const std::string kRejectionText =
    "Statsforvalteren i Oslo og Viken\n"
    "\n"
    "Vår dato: 30.06.2020    Vår ref.: 2020/13140\n"
    "Deres dato: 12.03.2020    Deres ref.: VG-14\n"
    "\n"
    "Vettre Gårdsbarnehage AS\n"
    "Vettreveien 101\n"
    "1392 VETTRE\n"
    "\n"
    "Avslag på søknad om tilretteleggingsmidler - Vilde Engen\n"
    "\n"
    "Vi viser til deres søknad datert 12.03.2020 om tilretteleggingsmidler.\n"
    "\n"
    "Vedtak\n"
    "Søknaden om tilretteleggingsmidler for Vilde Engen avslås.\n"
    "\n"
    "Med hilsen\n"
    "\n"
    "Anne Lise Berg\n";

// A message with the form in the body and each of `letters` attached as a text file.
std::string message(const std::string& body, const std::vector<std::string>& letters) {
  std::string m =
      "From: =?UTF-8?Q?Ragnhild_B=C3=B8e?= <ragnhild.boe@vettregard.no>\r\n"
      "To: post@asker.kommune.no\r\n"
      "Subject: =?UTF-8?Q?S=C3=B8knad_tilretteleggingstilskudd_20/30298?=\r\n"
      "Date: Wed, 09 Sep 2020 12:00:41 +0200\r\n"
      "Message-ID: <limits-1@vettregard.no>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
      "\r\n--b1\r\n"
      "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n" +
      body;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const std::string name = "avslag-" + std::to_string(i + 1) + ".txt";
    m += "\r\n--b1\r\n"
         "Content-Type: text/plain; charset=\"UTF-8\"; name=\"" +
         name +
         "\"\r\n"
         "Content-Disposition: attachment; filename=\"" +
         name +
         "\"\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         letters[i];
  }
  return m + "\r\n--b1--\r\n";
}

// The corpus config with `extra` TOML appended (a [limits] table).
config::Config corpus_config(const std::string& extra = "") {
  const auto dir = testing::source_dir() / "tests" / "corpus";
  return config::parse(testing::read_file(dir / "config.toml") + "\n" + extra, dir, "limits");
}

const Flag* find(const std::vector<Flag>& flags, const std::string& code) {
  auto it = std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return f.code == code; });
  return it == flags.end() ? nullptr : &*it;
}

class Limits : public ::testing::Test {
 protected:
  // With the real clock (this thread's CPU time) unless `clock` is given.
  Assessment run(const std::string& raw, const config::Config& cfg, CpuClock clock = {}) {
    AssessOptions opt;
    opt.today = Date{2020, 10, 1};
    if (clock) opt.cpu_clock = std::move(clock);
    return assess(raw, cfg, opt);
  }

  // Flagged for a person, with limit_exceeded whose reason names `limit` ("[limits] key = v").
  static void expect_limit(const Assessment& a, const std::string& limit) {
    EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
    const Flag* f = find(a.flags, "limit_exceeded");
    ASSERT_NE(f, nullptr) << to_json(a)["flags"].dump();
    EXPECT_NE(f->reason.find(limit), std::string::npos) << f->reason;
  }

  static void expect_decided(const Assessment& a) {
    EXPECT_EQ(find(a.flags, "limit_exceeded"), nullptr) << to_json(a)["flags"].dump();
    EXPECT_EQ(a.decision.status, rules::CaseStatus::decided) << to_json(a)["flags"].dump();
  }
};

// --- Employee lines per form ----------------------------------------------------------------

TEST_F(Limits, OneLineFormWithItsRejectionIsDecided) {
  expect_decided(run(message(form_text(), {kRejectionText}), corpus_config()));
}

TEST_F(Limits, FormOverTheDefaultLineLimitIsFlaggedNotTruncated) {
  // 301 employee lines; the default is 200.
  Assessment a = run(message(form_text(300), {kRejectionText}), corpus_config());
  expect_limit(a, "[limits] max_form_lines = 200");
}

TEST_F(Limits, FormLineLimitIsConfigurable) {
  const auto cfg = corpus_config("[limits]\nmax_form_lines = 2\n");
  expect_decided(run(message(form_text(), {kRejectionText}), cfg));
  Assessment a = run(message(form_text(2), {kRejectionText}), cfg);
  expect_limit(a, "[limits] max_form_lines = 2");
  const Flag* f = find(a.flags, "limit_exceeded");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->reason.find("more than 2 employee lines (row 3"), std::string::npos) << f->reason;
}

// --- Letters per message --------------------------------------------------------------------

TEST_F(Limits, TwentyLettersAreReadTwentyOneAreFlagged) {
  expect_decided(
      run(message(form_text(), std::vector<std::string>(20, kRejectionText)), corpus_config()));
  Assessment a =
      run(message(form_text(), std::vector<std::string>(21, kRejectionText)), corpus_config());
  expect_limit(a, "[limits] max_letters_per_message = 20");
}

TEST_F(Limits, LetterLimitIsConfigurable) {
  const auto cfg = corpus_config("[limits]\nmax_letters_per_message = 1\n");
  expect_decided(run(message(form_text(), {kRejectionText}), cfg));
  expect_limit(run(message(form_text(), {kRejectionText, kRejectionText}), cfg),
               "[limits] max_letters_per_message = 1");
}

// --- A reply read into the case (intake's fold_case carries the form and the letters) --------

// A reply with no form of its own: just the state's letter, answering the case.
std::string reply_with_letter() {
  return message("Her er brevet fra Statsforvalteren for sak 20/30298.\n\nMvh\nRagnhild Bøe\n",
                 {kRejectionText});
}

TEST_F(Limits, ReplyToACaseWhoseFormWasOverTheLimitIsStillFlagged) {
  Assessment first = run(message(form_text(300), {}), corpus_config());
  expect_limit(first, "[limits] max_form_lines = 200");
  AssessOptions opt;
  opt.today = Date{2020, 10, 1};
  opt.case_form = first.form;
  opt.case_letters = first.letters;
  Assessment reply = assess(reply_with_letter(), corpus_config(), opt);
  EXPECT_EQ(reply.form_source, "case");
  expect_limit(reply, "[limits] max_form_lines = 200");
}

TEST_F(Limits, ReplyToACaseWithTooManyLettersIsStillFlagged) {
  Assessment first =
      run(message(form_text(), std::vector<std::string>(21, kRejectionText)), corpus_config());
  expect_limit(first, "[limits] max_letters_per_message = 20");
  AssessOptions opt;
  opt.today = Date{2020, 10, 1};
  opt.case_form = first.form;
  opt.case_letters = first.letters;
  expect_limit(assess(reply_with_letter(), corpus_config(), opt),
               "[limits] max_letters_per_message = 20");
  // The same reply to a case without that problem is decided.
  Assessment fine = run(message(form_text(), {kRejectionText}), corpus_config());
  opt.case_form = fine.form;
  opt.case_letters = fine.letters;
  expect_decided(assess(reply_with_letter(), corpus_config(), opt));
}

// --- Letter text bytes ----------------------------------------------------------------------

// The rejection with `bytes` of filler prose after it.
std::string padded_letter(std::size_t bytes) {
  std::string s = kRejectionText + "\n";
  const std::string filler = "Dette er en lang vedlagt orientering om ordningen og vilkårene.\n";
  while (s.size() < bytes) s += filler;
  return s;
}

TEST_F(Limits, LetterOverTheDefaultTextLimitIsFlaggedNotReadInPart) {
  // The default, 256 KiB: the decision wording stands at the top, so reading only the first
  // 256 KiB (as the letter reader did before) would decide the case.
  expect_decided(run(message(form_text(), {padded_letter(200 * 1024)}), corpus_config()));
  Assessment a = run(message(form_text(), {padded_letter(300 * 1024)}), corpus_config());
  expect_limit(a, "[limits] max_letter_text_bytes = 262144");
}

TEST_F(Limits, LetterTextLimitIsConfigurable) {
  const auto cfg = corpus_config("[limits]\nmax_letter_text_bytes = 1000\n");
  expect_decided(run(message(form_text(), {kRejectionText}), cfg));
  expect_limit(run(message(form_text(), {padded_letter(2000)}), cfg),
               "[limits] max_letter_text_bytes = 1000");
}

// --- The pathological message of issue 14 ---------------------------------------------------

// About 3 MB: 20,000 employee lines, and a letter that names every one of them in long text.
std::string pathological() {
  std::string body = form_text(20000);
  std::string letter = kRejectionText + "\n";
  for (int i = 0; i < 20000; ++i) {
    letter += "Søknaden om tilretteleggingsmidler for Ansatt" + std::to_string(i) + " Etternavn" +
              std::to_string(i) + " avslås, men Ansatt" + std::to_string((i + 1) % 20000) +
              " Etternavn" + std::to_string((i + 1) % 20000) + " er nevnt. ";
  }
  return message(body, {letter});
}

TEST_F(Limits, PathologicalMessageWithDefaultsIsFlaggedByItsFormLines) {
  const std::string raw = pathological();
  ASSERT_GT(raw.size(), 2'500'000u);
  expect_limit(run(raw, corpus_config()), "[limits] max_form_lines = 200");
}

// The same message with the count and size limits out of the way: the CPU budget ends the work.
// The real clock, scaled: one "second" of budget is a millisecond of this thread's CPU time, so
// that the budget is spent long before the work is done on any machine.
TEST_F(Limits, PathologicalMessageIsStoppedByTheCpuBudget) {
  const auto cfg = corpus_config(
      "[limits]\nmax_form_lines = 100000\nmax_letter_text_bytes = 67108864\n"
      "message_cpu_seconds = 1\n");
  Assessment a = run(pathological(), cfg, [] { return thread_cpu_nanoseconds() * 1000; });
  expect_limit(a, "[limits] message_cpu_seconds = 1");
  const Flag* f = find(a.flags, "limit_exceeded");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->reason.find("s of CPU time"), std::string::npos) << f->reason;
  EXPECT_EQ(f->reason.find("max_form_lines"), std::string::npos) << f->reason;
}

// A clock that moves `step` nanoseconds each time it is read.
CpuClock stepping(std::int64_t step) {
  auto now = std::make_shared<std::int64_t>(0);
  return [now, step] { return *now += step; };
}

TEST_F(Limits, FakeClockThatStandsStillDecidesAsBefore) {
  expect_decided(run(message(form_text(), {kRejectionText}), corpus_config(), stepping(0)));
}

TEST_F(Limits, FakeClockSpendsTheBudgetOnAnOrdinaryMessage) {
  // Ten seconds a read against 20 s of budget: the third check finds it spent.
  Assessment a =
      run(message(form_text(), {kRejectionText}), corpus_config(), stepping(10'000'000'000));
  expect_limit(a, "[limits] message_cpu_seconds = 20");
}

// --- The Budget, and the parsers under it ---------------------------------------------------

TEST(LimitsBudget, SpentOnlyPastTheLimitAndThenForGood) {
  std::int64_t now = 5;
  Budget b([&] { return now; }, 100);
  EXPECT_FALSE(b.spent());
  now = 105;  // exactly the limit: not past it
  EXPECT_FALSE(b.spent());
  EXPECT_FALSE(b.was_spent());
  now = 106;
  EXPECT_TRUE(b.spent());
  EXPECT_TRUE(b.was_spent());
  now = 0;  // a clock going back changes nothing
  EXPECT_TRUE(b.spent());
  EXPECT_EQ(b.limit_ns(), 100);
}

TEST(LimitsBudget, WithoutAClockNothingIsSpent) {
  Budget unlimited;
  EXPECT_FALSE(unlimited.spent());
  Budget no_clock(CpuClock{}, 0);
  EXPECT_FALSE(no_clock.spent());
}

TEST(LimitsBudget, RealThreadClockMoves) {
  const std::int64_t t0 = thread_cpu_nanoseconds();
  volatile std::uint64_t x = 0;
  for (int i = 0; i < 10'000'000; ++i) x = x + static_cast<std::uint64_t>(i);
  EXPECT_GT(thread_cpu_nanoseconds(), t0);
}

TEST(LimitsBudget, SpentBudgetStopsTheFormReader) {
  std::int64_t now = 0;
  Budget b([&] { return now; }, 10);
  now = 11;
  Form f = parse_form(form_text(5), FormLimits{200, &b});
  ASSERT_TRUE(f.limit);
  EXPECT_EQ(f.limit->key, "message_cpu_seconds");
  EXPECT_TRUE(f.lines.empty());
  // Without a budget (and under the line limit) the same text is read in full.
  Form full = parse_form(form_text(5));
  EXPECT_FALSE(full.limit);
  EXPECT_EQ(full.lines.size(), 6u);
}

TEST(LimitsBudget, FormLineLimitCountsRows) {
  Form f = parse_form(form_text(5), FormLimits{6, nullptr});
  EXPECT_FALSE(f.limit);
  EXPECT_EQ(f.lines.size(), 6u);
  Form over = parse_form(form_text(6), FormLimits{6, nullptr});
  ASSERT_TRUE(over.limit);
  EXPECT_EQ(over.limit->key, "max_form_lines");
  EXPECT_EQ(over.limit->value, 6);
}

TEST(LimitsBudget, SpentBudgetGivesAnUnreadLetter) {
  std::int64_t now = 0;
  Budget b([&] { return now; }, 10);
  Letter ok = parse_letter(kRejectionText, {"Vilde Engen"}, {}, LetterLimits{1 << 20, &b});
  EXPECT_FALSE(ok.limit);
  EXPECT_EQ(ok.kind, LetterKind::rejection);
  now = 11;
  Letter l = parse_letter(kRejectionText, {"Vilde Engen"}, {}, LetterLimits{1 << 20, &b});
  ASSERT_TRUE(l.limit);
  EXPECT_EQ(l.limit->key, "message_cpu_seconds");
  EXPECT_FALSE(l.readable);
  EXPECT_EQ(l.kind, LetterKind::unknown);
  EXPECT_TRUE(l.entries.empty());
}

TEST(LimitsBudget, LetterOverTheByteLimitIsNotRead) {
  Letter l = parse_letter(kRejectionText, {"Vilde Engen"}, {}, LetterLimits{100, nullptr});
  ASSERT_TRUE(l.limit);
  EXPECT_EQ(l.limit->key, "max_letter_text_bytes");
  EXPECT_FALSE(l.readable);
  EXPECT_EQ(l.kind, LetterKind::unknown);
  // Still recognised as a letter from what fits, so that it is reported, not ignored.
  EXPECT_TRUE(looks_like_letter(kRejectionText, LetterLimits{100, nullptr}));
}

TEST(LimitsBudget, SpentBudgetStopsTheEvidenceMatching) {
  Form f;
  f.found = true;
  FormLine line;
  line.employee = "Vilde Engen";
  line.state_status = StateStatus::rejected;
  f.lines = {line};
  Letter l;
  l.kind = LetterKind::rejection;
  l.entries = {{"Vilde Engen", LetterKind::rejection, std::nullopt}};
  EXPECT_EQ(rules::match_evidence(f, {l})[0].status, StateStatus::rejected);
  std::int64_t now = 0;
  Budget b([&] { return now; }, 10);
  now = 11;
  auto ev = rules::match_evidence(f, {l}, &b);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, StateStatus::unknown);
  EXPECT_TRUE(b.was_spent());
}

// --- Config ---------------------------------------------------------------------------------

TEST(LimitsConfig, DefaultsAndValidation) {
  EXPECT_NO_THROW(
      corpus_config("[limits]\nmax_form_lines = 500\nmax_letters_per_message = 5\n"
                    "max_letter_text_bytes = 65536\nmessage_cpu_seconds = 60\n"));
  for (const std::string bad :
       {"max_form_lines = 0", "max_letters_per_message = 0", "max_letter_text_bytes = 0",
        "message_cpu_seconds = 0", "message_cpu_seconds = 100000", "max_form_lines = -1"}) {
    EXPECT_THROW(corpus_config("[limits]\n" + bad + "\n"), config::ConfigError) << bad;
  }
}

}  // namespace
}  // namespace tilskudd
