#include "parsers/date.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tilskudd {
namespace {

Date d(int y, int m, int day) {
  return Date{y, m, day};
}

TEST(ParseDate, NumericSpellings) {
  EXPECT_EQ(parse_date("2020-09-01"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("01.09.2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("1.9.2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("01.09.20"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("1/12/2020"), d(2020, 12, 1));
  EXPECT_EQ(parse_date(" 01.12.2020. "), d(2020, 12, 1));
}

TEST(ParseDate, MonthNames) {
  EXPECT_EQ(parse_date("1. september 2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("1 sep. 2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("1. sept. 2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("15. Desember 2020"), d(2020, 12, 15));
  EXPECT_EQ(parse_date("3. mai 2021"), d(2021, 5, 3));
  EXPECT_EQ(parse_date("1 Sep 2020"), d(2020, 9, 1));
  EXPECT_EQ(parse_date("1.\xC2\xA0september\xC2\xA0"
                       "2020"),
            d(2020, 9, 1));
}

TEST(ParseDate, RejectsInvalidAndAmbiguous) {
  for (const char* s :
       {"", "2020", "31.02.2020", "2020-13-01", "32.01.2020", "01/09/20", "20/30298",
        "1. septembar 2020", "01.09.2020 kl 10", "1.9", "95 000", "2020-09-01-02", "001.09.2020"}) {
    EXPECT_FALSE(parse_date(s).has_value()) << s;
  }
}

TEST(ParseMailDate, WithAndWithoutWeekday) {
  EXPECT_EQ(parse_mail_date("Tue, 1 Sep 2020 10:00:00 +0200"), d(2020, 9, 1));
  EXPECT_EQ(parse_mail_date("1 Sep 2020 10:00:00 +0200"), d(2020, 9, 1));
  EXPECT_EQ(parse_mail_date("Tue, 01 Sep 2020 23:59:59 -0700"), d(2020, 9, 1));
}

TEST(ParseMailDate, DateIsAsWrittenInTheSendersZone) {
  // 23:30 in +0200 is 21:30 UTC the same day; 00:30 +0200 is the previous day in UTC but the
  // sender's date is what counts (DECISIONS.md "Received date").
  EXPECT_EQ(parse_mail_date("Wed, 2 Sep 2020 00:30:00 +0200"), d(2020, 9, 2));
}

TEST(ParseMailDate, ObsoleteSyntax) {
  EXPECT_EQ(parse_mail_date("Tue, 1 Sep 20 10:00:00 GMT"), d(2020, 9, 1));
  EXPECT_EQ(parse_mail_date("Tue, 1 Sep 99 10:00 EST"), d(1999, 9, 1));
  EXPECT_EQ(parse_mail_date("Tue,  1 Sep 2020 10:00:00 +0200 (CEST)"), d(2020, 9, 1));
  EXPECT_EQ(parse_mail_date("Tue 1 Sep 2020 10:00:00 MET"), d(2020, 9, 1));
  EXPECT_EQ(parse_mail_date("1-Sep-2020 10:00:00 +0200"), d(2020, 9, 1));
}

TEST(ParseMailDate, RejectsGarbage) {
  for (const char* s : {"", "yesterday", "Tue, 31 Feb 2020 10:00:00 +0200", "Tue, Sep 2020",
                        "2020-09-01", "Tue, 1 Foo 2020 10:00"}) {
    EXPECT_FALSE(parse_mail_date(s).has_value()) << s;
  }
}

TEST(FindDates, DatesInProse) {
  EXPECT_EQ(find_dates("Søknadsfrist 01.09.20. Neste frist er 1. desember 2020, se også "
                       "2021-03-01."),
            (std::vector<Date>{d(2020, 9, 1), d(2020, 12, 1), d(2021, 3, 1)}));
  EXPECT_EQ(find_dates("Oslo, 15.10.2020\nVedtak"), (std::vector<Date>{d(2020, 10, 15)}));
}

TEST(FindDates, NotCaseNumbersAmountsOrVersions) {
  EXPECT_TRUE(find_dates("Sak 20/30298, kr 95.000, versjon 1.2.3.4, tlf 12.34.56.78").empty());
  EXPECT_TRUE(find_dates("ref 2020/12345 og 01/09").empty());
}

TEST(FindDates, MegabyteOfJunk) {
  std::string junk;
  unsigned x = 7;
  while (junk.size() < (1u << 20)) {
    x = x * 1103515245u + 12345u;
    const char alphabet[] = "0123456789 .-/sepmai\n";
    junk += alphabet[(x >> 16) % (sizeof alphabet - 1)];
  }
  for (const Date& date : find_dates(junk)) EXPECT_TRUE(date.valid());
}

}  // namespace
}  // namespace tilskudd
