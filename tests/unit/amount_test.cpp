#include "parsers/amount.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tilskudd {
namespace {

using V = std::vector<Kroner>;

TEST(ParseAmount, EverySpellingFromTheContract) {
  EXPECT_EQ(parse_amount("95000"), 95000);
  EXPECT_EQ(parse_amount("95 000"), 95000);
  EXPECT_EQ(parse_amount("95.000"), 95000);
  EXPECT_EQ(parse_amount("kr 95 000,-"), 95000);
  EXPECT_EQ(parse_amount("95 000 kr"), 95000);
  EXPECT_EQ(parse_amount("kr. 60.000,-"), 60000);
  EXPECT_EQ(parse_amount("kr 60.000,-"), 60000);
  EXPECT_EQ(parse_amount("NOK 95 000"), 95000);
  EXPECT_EQ(parse_amount("NOK 95000"), 95000);
  EXPECT_EQ(parse_amount("95 000 NOK"), 95000);
  EXPECT_EQ(parse_amount("95 000 kroner"), 95000);
  EXPECT_EQ(parse_amount("Kr 95 000"), 95000);
  EXPECT_EQ(parse_amount("kr95000"), 95000);
  EXPECT_EQ(parse_amount("  95 000  "), 95000);
  EXPECT_EQ(parse_amount("1 250 000"), 1250000);
  EXPECT_EQ(parse_amount("0"), 0);
}

TEST(ParseAmount, OreAreRoundedHalfUp) {
  EXPECT_EQ(parse_amount("95 000,00"), 95000);
  EXPECT_EQ(parse_amount("12 345,50"), 12346);
  EXPECT_EQ(parse_amount("12 345,49"), 12345);
  EXPECT_EQ(parse_amount("12 345,5"), 12346);
  EXPECT_EQ(parse_amount("95000.50"), 95001);
  EXPECT_EQ(parse_amount("95.000,50 kr"), 95001);
}

TEST(ParseAmount, NonBreakingAndThinSpacesAreSpaces) {
  EXPECT_EQ(parse_amount("95\xC2\xA0"
                         "000"),
            95000);
  EXPECT_EQ(parse_amount("kr\xC2\xA0"
                         "45\xE2\x80\xAF"
                         "000,-"),
            45000);
}

TEST(ParseAmount, RejectsWhatIsNotExactlyOneAmount) {
  for (const char* s : {"",
                        " ",
                        "avslag",
                        "ca. 10 000",
                        "ca 10 000",
                        "10-20 000",
                        "01.09.2020",
                        "2020/123",
                        "20/30298",
                        "95 000 40 000",
                        "kr",
                        "-",
                        "95,000.000.1",
                        "-5000",
                        "1.2.3",
                        "95 00",
                        "95  000x",
                        "abc 95000",
                        "95000 abc",
                        "123456789012345678901234567890"}) {
    EXPECT_FALSE(parse_amount(s).has_value()) << s;
  }
}

TEST(ParseAmount, HostileInputDoesNotCrash) {
  std::string junk(100000, '9');
  EXPECT_FALSE(parse_amount(junk).has_value());
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_FALSE(parse_amount(bytes).has_value());
}

TEST(FindAmounts, MoneyMarkedAmountsInProse) {
  EXPECT_EQ(find_amounts("Det er søkt om kr 95 000. Statsforvalteren tildeler kr 40 000,- til "
                         "tiltaket."),
            (V{95000, 40000}));
  EXPECT_EQ(find_amounts("Dere får kr 45 000,- (førtifemtusen) i tilskudd."), (V{45000}));
  EXPECT_EQ(find_amounts("Tilskuddet utgjør 45 000 kroner."), (V{45000}));
  EXPECT_EQ(find_amounts("Beløp: NOK 12 345,50"), (V{12346}));
  EXPECT_EQ(find_amounts("totalt 30.000,- for høsten"), (V{30000}));
}

TEST(FindAmounts, AmountsAfterGrantWords) {
  EXPECT_EQ(find_amounts("Dere er innvilget et tilskudd på 40 000 for 2020."), (V{40000}));
  EXPECT_EQ(find_amounts("Tildelt beløp: 55 000"), (V{55000}));
  EXPECT_EQ(find_amounts("Innvilget 40 000\n2. Vilkår"), (V{40000}));
}

TEST(FindAmounts, NeverDatesYearsCaseNumbersOrIds) {
  EXPECT_TRUE(
      find_amounts("Søknadsfrist 01.09.2020. Vår ref.: 2020/12345. Deres ref 20/30298.").empty());
  EXPECT_TRUE(find_amounts("Tilskudd 2020: se vedtak").empty());
  EXPECT_TRUE(find_amounts("Organisasjonsnummer 987 654 325, tilskudd til 987654325").empty());
  EXPECT_TRUE(find_amounts("Kontonummer: 1234 56 78903").empty());
  EXPECT_TRUE(find_amounts("tilskudd på 1234 56 78903").empty());
  EXPECT_TRUE(find_amounts("innvilget 2 plasser, tilskudd på 30 studiepoeng, på 100 %").empty());
  EXPECT_TRUE(find_amounts("Møtet er kl. 10.00 den 1. september.").empty());
  EXPECT_TRUE(find_amounts("et tilskudd på 10-20 000").empty());
}

TEST(FindAmounts, BareNumbersWithoutMarksAreIgnored) {
  EXPECT_TRUE(find_amounts("Vi har 95 000 barn og 40 000 ansatte").empty());
}

TEST(FindAmounts, MegabyteOfJunkIsBoundedAndSafe) {
  std::string junk;
  junk.reserve(1 << 20);
  unsigned x = 12345;
  while (junk.size() < (1u << 20)) {
    x = x * 1103515245u + 12345u;
    const char alphabet[] = "0123456789 .,-/kr\n:NOK";
    junk += alphabet[(x >> 16) % (sizeof alphabet - 1)];
  }
  auto v = find_amounts(junk);
  for (Kroner k : v) EXPECT_GE(k, 0);
  std::string digits(1 << 20, '7');
  EXPECT_TRUE(find_amounts("kr " + digits).empty());
}

// Writing amounts: one grouping, two placements of "kr".
TEST(AmountFormat, GroupDigits) {
  EXPECT_EQ(group_digits(0), "0");
  EXPECT_EQ(group_digits(999), "999");
  EXPECT_EQ(group_digits(1000), "1 000");
  EXPECT_EQ(group_digits(40000), "40 000");
  EXPECT_EQ(group_digits(-1200), "-1 200");
  EXPECT_EQ(group_digits(INT64_MIN), "-9 223 372 036 854 775 808");
}

// As the letters and the bokmål reasons write amounts.
TEST(AmountFormat, KrPrefix) {
  EXPECT_EQ(format_kr_prefix(55000), "kr 55 000");
  EXPECT_EQ(format_kr_prefix(0), "kr 0");
  EXPECT_EQ(format_kr_prefix(999), "kr 999");
  EXPECT_EQ(format_kr_prefix(1000), "kr 1 000");
  EXPECT_EQ(format_kr_prefix(1234567), "kr 1 234 567");
  EXPECT_EQ(format_kr_prefix(-1200), "kr -1 200");
}

// As the admin commands print amounts.
TEST(AmountFormat, KrSuffix) {
  EXPECT_EQ(format_kr_suffix(0), "0 kr");
  EXPECT_EQ(format_kr_suffix(999), "999 kr");
  EXPECT_EQ(format_kr_suffix(1000), "1 000 kr");
  EXPECT_EQ(format_kr_suffix(55000), "55 000 kr");
  EXPECT_EQ(format_kr_suffix(1234567), "1 234 567 kr");
  EXPECT_EQ(format_kr_suffix(-1500), "-1 500 kr");
  EXPECT_EQ(format_kr_suffix(INT64_MIN), "-9 223 372 036 854 775 808 kr");
}

// What is written reads back as the same amount.
TEST(AmountFormat, RoundTripsThroughTheParser) {
  for (Kroner v : {Kroner{0}, Kroner{7}, Kroner{55000}, Kroner{1234567}}) {
    EXPECT_EQ(parse_amount(format_kr_prefix(v)), v);
    EXPECT_EQ(parse_amount(format_kr_suffix(v)), v);
    EXPECT_EQ(parse_amount(group_digits(v)), v);
  }
}

}  // namespace
}  // namespace tilskudd
