#include "parsers/text.h"

#include <gtest/gtest.h>

#include "parsers/types.h"

namespace tilskudd {
namespace {

TEST(Text, Latin1IsReadAsWindows1252) {
  EXPECT_EQ(text::to_utf8("S\xF8knad \x96 \x80", "iso-8859-1"), "Søknad – €");
  EXPECT_EQ(text::to_utf8("S\xF8knad", "ISO-8859-15"), "Søknad");
}

TEST(Text, UndeclaredNonUtf8FallsBackToWindows1252) {
  EXPECT_EQ(text::to_utf8("Bl\xE5"
                          "b\xE6"
                          "r",
                          ""),
            "Blåbær");
  EXPECT_EQ(text::to_utf8("Blåbær", ""), "Blåbær");
}

TEST(Text, InvalidUtf8IsReplacedAndNulDropped) {
  std::string bad(
      "a\xC3\x28"
      "b\0c",
      6);
  std::string out = text::sanitize_utf8(bad);
  EXPECT_TRUE(text::is_valid_utf8(out));
  EXPECT_EQ(out, "a\xEF\xBF\xBD(bc");
}

TEST(Text, UnknownCharsetKeepsText) {
  EXPECT_EQ(text::to_utf8("hei", "x-no-such-charset"), "hei");
}

TEST(Text, LowerCasesNorwegianLetters) {
  EXPECT_EQ(text::to_lower("ÆØÅ Søknad ABLU"), "æøå søknad ablu");
}

TEST(Text, NormalizesSpacesAndDashes) {
  EXPECT_EQ(text::normalize_spaces("95\xC2\xA0"
                                   "000 \xE2\x80\x93 x\r\ny"),
            "95 000 - x\ny");
  EXPECT_EQ(text::normalize_spaces("45\xE2\x80\xAF"
                                   "000"),
            "45 000");
}

TEST(Text, NameKey) {
  EXPECT_EQ(text::name_key("  OLA  Hansen-Berg "), "ola hansen berg");
  EXPECT_EQ(text::name_key("Åse Ødegård"), "åse ødegård");
}

TEST(Text, SplitLinesKeepsEmptyLines) {
  auto lines = text::split_lines("a\r\n\nb");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2], "b");
}

TEST(Date, IsoRoundTripAndValidation) {
  auto d = Date::from_iso("2020-02-29");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->iso(), "2020-02-29");
  EXPECT_FALSE(Date::from_iso("2021-02-29"));
  EXPECT_FALSE(Date::from_iso("2020-13-01"));
  EXPECT_FALSE(Date::from_iso("2020-1-01"));
}

}  // namespace
}  // namespace tilskudd
