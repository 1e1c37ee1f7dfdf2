#include "parsers/case_number.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tilskudd {
namespace {

using S = std::vector<std::string>;
constexpr std::string_view kCase = "20/30298";

TEST(CaseNumber, ToleratedSpellings) {
  for (const char* s : {"20/30298", "Søknad tilretteleggingstilskudd 20/30298", "20 / 30298",
                        "20/ 30298", "sak 20/30298", "Sak: 20/30298", "saksnr. 20/30298",
                        "Saksnr.20/30298", "saksnummer: 20/30298", "SAKSNUMMER 20/30298",
                        "Ref 20/30298", "2020/30298", "(20/30298)", "Vedr. 20/30298-3",
                        "20\xC2\xA0/\xC2\xA0"
                        "30298",
                        "Re: søknad\n20/30298\n"}) {
    auto scan = find_case_number(s, kCase);
    EXPECT_TRUE(scan.found) << s;
    EXPECT_TRUE(scan.others.empty()) << s;
  }
}

TEST(CaseNumber, DigitsMustNotContinue) {
  for (const char* s : {"120/302981", "120/30298", "20/302981", "20/3029", "20/30299", "21/30298",
                        "302020/30298", "20/30298/2020", "2020/302980"}) {
    EXPECT_FALSE(find_case_number(s, kCase).found) << s;
  }
}

TEST(CaseNumber, OtherLabelledCaseNumbersAreReportedNormalised) {
  auto scan = find_case_number("Sak 21/1234 og saksnr. 2019/555, saksnummer: 20/30298", kCase);
  EXPECT_TRUE(scan.found);
  EXPECT_EQ(scan.others, (S{"21/1234", "19/555"}));
  EXPECT_EQ(find_case_number("Subject: Sak 21/1234", kCase).others, (S{"21/1234"}));
  EXPECT_EQ(find_case_number("sak nr. 21/01234", kCase).others, (S{"21/1234"}));
  // Each once.
  EXPECT_EQ(find_case_number("sak 21/1234, sak 21 / 1234", kCase).others, (S{"21/1234"}));
}

TEST(CaseNumber, StateReferencesAreNotOtherCases) {
  auto scan = find_case_number(
      "Vår ref.: 2020/12345\nDeres ref.: 20/30298\nVår saksnr.: 2020/777\nDato: 01.09.2020", kCase);
  EXPECT_TRUE(scan.found);
  EXPECT_TRUE(scan.others.empty());
}

TEST(CaseNumber, UnlabelledNumbersAndDatesAreNotCases) {
  EXPECT_TRUE(find_case_number("Det gjelder 21/1234 og 2020/555", kCase).others.empty());
  EXPECT_TRUE(find_case_number("sak 01/09", kCase).others.empty());
  EXPECT_TRUE(find_case_number("sak 01/09/2020 ble behandlet", kCase).others.empty());
  EXPECT_TRUE(find_case_number("søknadssak 21/1234", kCase).others.empty());
}

TEST(CaseNumber, MalformedConfigurationFindsNothing) {
  EXPECT_FALSE(find_case_number("20/30298", "").found);
  EXPECT_FALSE(find_case_number("20/30298", "garbage").found);
}

TEST(CaseNumber, HostileInput) {
  std::string junk;
  unsigned x = 3;
  while (junk.size() < (1u << 20)) {
    x = x * 1103515245u + 12345u;
    const char alphabet[] = "0123456789 /sak.:nr\n";
    junk += alphabet[(x >> 16) % (sizeof alphabet - 1)];
  }
  auto scan = find_case_number(junk, kCase);
  EXPECT_LE(scan.others.size(), junk.size());
  std::string slashes(100000, '/');
  EXPECT_FALSE(find_case_number(slashes + "2" + slashes, kCase).found);
}

}  // namespace
}  // namespace tilskudd
