#include "parsers/case_ref.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>

namespace tilskudd {
namespace {

TEST(FindCaseRef, FindsTheReferenceInASubjectAndUpperCasesIt) {
  EXPECT_EQ(find_case_ref("Sv: Vedtak om tilskudd TT-2026-0042"), "TT-2026-0042");
  EXPECT_EQ(find_case_ref("SV: tt-2026-004211 (svar)"), "TT-2026-004211");
  EXPECT_EQ(find_case_ref("(TT-2026-00421)"), "TT-2026-00421");
  EXPECT_EQ(find_case_ref("TT-2026-0001 and TT-2026-0002"), "TT-2026-0001");
}

TEST(FindCaseRef, RefusesWhatIsNotAReference) {
  EXPECT_FALSE(find_case_ref("XTT-2026-0042"));    // a letter before it
  EXPECT_FALSE(find_case_ref("9TT-2026-0042"));    // a digit before it
  EXPECT_FALSE(find_case_ref("TT-2026-0042123"));  // seven digits
  EXPECT_FALSE(find_case_ref("TT-2026-042"));      // three digits
  EXPECT_FALSE(find_case_ref("TT-20261-0042"));    // five year digits
  EXPECT_FALSE(find_case_ref("TT 2026 0042"));
  EXPECT_FALSE(find_case_ref(""));
  EXPECT_FALSE(find_case_ref("TT-"));
  EXPECT_EQ(find_case_ref("TT-2026-0042123 TT-2026-0043"), "TT-2026-0043");
}

TEST(FindCaseRefInMessageId, FindsOurMessageIdsOnly) {
  EXPECT_EQ(find_case_ref_in_message_id(
                "Message-ID: <tilskudd.TT-2026-0042.decision.1@asker.kommune.no>"),
            "TT-2026-0042");
  EXPECT_EQ(find_case_ref_in_message_id("<tilskudd.TT-2026-004211.documentation_request.12@x>"),
            "TT-2026-004211");
  EXPECT_FALSE(find_case_ref_in_message_id("<tilskudd.TT-2026-0042.Decision.1@x>"));
  EXPECT_FALSE(find_case_ref_in_message_id("<tilskudd.TT-2026-0042.decision.@x>"));
  EXPECT_FALSE(find_case_ref_in_message_id("<tilskudd.TT-2026-0042123.decision.1@x>"));
  EXPECT_FALSE(find_case_ref_in_message_id("<tilskudd.tt-2026-0042.decision.1@x>"));
  EXPECT_EQ(find_case_ref_in_message_id("tilskudd.tilskudd.TT-2026-0042.reminder.3@x"),
            "TT-2026-0042");
}

// The scans replaced two std::regex (workflow/intake.cpp); on short random text over the
// patterns' alphabet they must agree with them exactly.
TEST(CaseRefScans, AgreeWithTheRegularExpressionsTheyReplaced) {
  const std::regex subject_re(R"((?:^|[^A-Za-z0-9])(TT-\d{4}-\d{4,6})(?![0-9]))",
                              std::regex::icase);
  const std::regex id_re(R"(tilskudd\.(TT-\d{4}-\d{4,6})\.[a-z_]+\.\d+@)");
  const std::string pieces[] = {"TT-",
                                "tt-",
                                "T",
                                "-",
                                "0",
                                "1",
                                "2026",
                                "0042",
                                "5",
                                "a",
                                "_",
                                ".",
                                "@",
                                " ",
                                "x",
                                "tilskudd.",
                                "decision",
                                "TT-2026-",
                                "tilskudd.TT-2026-",
                                ".decision.",
                                "1@"};
  std::mt19937 rng(20230298);
  std::uniform_int_distribution<int> count(0, 14);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
  int found = 0, found_id = 0;
  for (int round = 0; round < 40000; ++round) {
    std::string s;
    if (round % 2 == 0) {
      for (int k = count(rng); k > 0; --k) s += pieces[pick(rng)];
    } else {
      // A real reference or Message-ID, mutated a few times where the patterns are strict.
      s = round % 4 == 1 ? "Sv: tilskudd.TT-2026-0042.decision.12@asker" : "Sv: (TT-2026-004211)";
      for (int k = count(rng) % 3; k >= 0; --k) {
        const std::size_t at = std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng);
        const std::string& with = pieces[pick(rng)];
        switch (round / 2 % 3) {
          case 0:
            s.replace(at, 1, with);
            break;
          case 1:
            s.insert(at, with);
            break;
          default:
            s.erase(at, 1);
            break;
        }
      }
    }
    std::smatch m;
    std::optional<std::string> want;
    if (std::regex_search(s, m, subject_re)) {
      want = m[1].str();
      for (char& ch : *want) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    ASSERT_EQ(find_case_ref(s), want) << s;
    std::optional<std::string> want_id;
    if (std::regex_search(s, m, id_re)) want_id = m[1].str();
    ASSERT_EQ(find_case_ref_in_message_id(s), want_id) << s;
    if (want) ++found;
    if (want_id) ++found_id;
  }
  // The alphabet does produce matches of both, so the comparison means something.
  EXPECT_GT(found, 1000);
  EXPECT_GT(found_id, 100);
}

TEST(CaseRefScans, LongRunsAreLinearNotARecursion) {
  const std::string word(2'000'000, 'a');
  EXPECT_FALSE(find_case_ref(word));
  EXPECT_FALSE(find_case_ref_in_message_id("tilskudd." + word));
  EXPECT_EQ(find_case_ref_in_message_id("tilskudd." + word + " tilskudd.TT-2026-0001.decision.1@x"),
            "TT-2026-0001");
  EXPECT_FALSE(find_case_ref(std::string(2'000'000, '0')));
}

}  // namespace
}  // namespace tilskudd
