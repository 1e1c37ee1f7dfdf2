#include "parsers/headers.h"

#include <gtest/gtest.h>

#include "parsers/text.h"

using namespace tilskudd::mime;

// ---- RFC 2047 --------------------------------------------------------------------------------

TEST(Rfc2047, DecodesBase64Utf8Word) {
  EXPECT_EQ(decode_rfc2047("=?UTF-8?B?U8O4a25hZCBvbSB0aWxza3VkZA==?="), "Søknad om tilskudd");
}

TEST(Rfc2047, DecodesQuotedPrintableLatin1WordWithUnderscoreAsSpace) {
  EXPECT_EQ(decode_rfc2047("=?iso-8859-1?Q?S=F8knad_20/30298?="), "Søknad 20/30298");
}

TEST(Rfc2047, LowerCaseEncodingLetterAndCharset) {
  EXPECT_EQ(decode_rfc2047("=?utf-8?q?Bl=C3=A5b=C3=A6r?="), "Blåbær");
}

TEST(Rfc2047, WhitespaceBetweenAdjacentEncodedWordsIsDropped) {
  EXPECT_EQ(decode_rfc2047("=?UTF-8?Q?S=C3=B8k?= \r\n =?UTF-8?Q?nad?="), "Søknad");
}

TEST(Rfc2047, MultibyteCharacterSplitOverTwoEncodedWords) {
  // "Søknad" with the two bytes of 'ø' (C3 B8) in different words, as Outlook splits them.
  EXPECT_EQ(decode_rfc2047("=?UTF-8?B?U8M=?= =?UTF-8?B?uGtuYWQ=?="), "Søknad");
}

TEST(Rfc2047, WhitespaceBetweenEncodedWordAndTextIsKept) {
  EXPECT_EQ(decode_rfc2047("Sv: =?UTF-8?Q?S=C3=B8knad?= sak 20/30298"), "Sv: Søknad sak 20/30298");
}

TEST(Rfc2047, Windows1252Word) {
  EXPECT_EQ(decode_rfc2047("=?windows-1252?Q?=93sitat=94_=96_=E6=F8=E5?="),
            "\xE2\x80\x9Csitat\xE2\x80\x9D \xE2\x80\x93 æøå");
}

TEST(Rfc2047, Iso885915Word) {
  EXPECT_EQ(decode_rfc2047("=?ISO-8859-15?Q?=A4?="), "€");
}

TEST(Rfc2047, MalformedEncodedWordIsKeptLiterally) {
  EXPECT_EQ(decode_rfc2047("=?UTF-8?X?abc?="), "=?UTF-8?X?abc?=");
  EXPECT_EQ(decode_rfc2047("=?UTF-8?Q?unterminated"), "=?UTF-8?Q?unterminated");
  EXPECT_EQ(decode_rfc2047("a =? b"), "a =? b");
}

TEST(Rfc2047, Raw8BitLatin1BecomesUtf8) {
  EXPECT_EQ(decode_rfc2047("S\xF8knad"), "Søknad");
}

TEST(Rfc2047, RawUtf8IsKept) {
  EXPECT_EQ(decode_rfc2047("Søknad"), "Søknad");
}

TEST(Rfc2047, InvalidBytesInsideWordGiveValidUtf8) {
  std::string out = decode_rfc2047("=?UTF-8?Q?a=FF=00b?=");
  EXPECT_TRUE(tilskudd::text::is_valid_utf8(out));
  EXPECT_EQ(out.find('\0'), std::string::npos);
}

TEST(Rfc2047, OutlooksKoreanCharsetNameIsCp949) {
  // Outlook labels code page 949 "ks_c_5601-1987", a name glibc's iconv does not know.
  EXPECT_EQ(decode_rfc2047("=?ks_c_5601-1987?B?x9Gx2w==?="), "한글");
}

TEST(Rfc2047, UnknownCharsetDoesNotThrow) {
  std::string out = decode_rfc2047("=?x-unknown-cs?Q?abc?=");
  EXPECT_EQ(out, "abc");
}

// ---- Parameters (RFC 2045 / 2231) ------------------------------------------------------------

TEST(HeaderValue, TypeIsLowerCasedAndParamsParsed) {
  auto hv = parse_header_value("Text/Plain; Charset=\"ISO-8859-1\"; format=flowed");
  EXPECT_EQ(hv.value, "text/plain");
  EXPECT_EQ(hv.params["charset"], "ISO-8859-1");
  EXPECT_EQ(hv.params["format"], "flowed");
}

TEST(HeaderValue, QuotedValueWithSemicolonAndEscapes) {
  auto hv = parse_header_value(R"(attachment; filename="a;b \"x\" æøå.pdf"; size=12)");
  EXPECT_EQ(hv.value, "attachment");
  EXPECT_EQ(hv.params["filename"], "a;b \"x\" æøå.pdf");
  EXPECT_EQ(hv.params["size"], "12");
}

TEST(HeaderValue, Rfc2231ExtendedValue) {
  auto hv = parse_header_value("attachment; filename*=utf-8''S%C3%B8knad%20%C3%A6%C3%B8%C3%A5.pdf");
  EXPECT_EQ(hv.params["filename"], "Søknad æøå.pdf");
}

TEST(HeaderValue, Rfc2231ExtendedValueInLatin1WithLanguage) {
  auto hv = parse_header_value("attachment; filename*=iso-8859-1'no'S%F8knad.txt");
  EXPECT_EQ(hv.params["filename"], "Søknad.txt");
}

TEST(HeaderValue, Rfc2231ContinuationsMixedEncodedAndPlain) {
  auto hv = parse_header_value(
      "attachment;\r\n filename*0*=utf-8''Tildelingsbrev%20fra%20;\r\n"
      " filename*1*=Statsforvalteren%20%C3%B8;\r\n filename*2=\" (kopi).pdf\"");
  EXPECT_EQ(hv.params["filename"], "Tildelingsbrev fra Statsforvalteren ø (kopi).pdf");
}

TEST(HeaderValue, Rfc2231ContinuationsOutOfOrder) {
  auto hv = parse_header_value("attachment; filename*1=\"b.pdf\"; filename*0=\"a\"");
  EXPECT_EQ(hv.params["filename"], "ab.pdf");
}

TEST(HeaderValue, ExtendedFormWinsOverPlain) {
  auto hv =
      parse_header_value("attachment; filename=\"S?knad.pdf\"; filename*=UTF-8''S%C3%B8knad.pdf");
  EXPECT_EQ(hv.params["filename"], "Søknad.pdf");
}

TEST(HeaderValue, Rfc2047InsideQuotedName) {
  auto hv = parse_header_value(
      "application/pdf; name=\"=?UTF-8?Q?Tildelingsbrev_=C3=A6=C3=B8=C3=A5.pdf?=\"");
  EXPECT_EQ(hv.params["name"], "Tildelingsbrev æøå.pdf");
}

TEST(HeaderValue, BoundaryIsKeptExactly) {
  auto hv = parse_header_value("multipart/mixed;\r\n\tboundary=\"----=_Part_0_=?x?=.1;2\"");
  EXPECT_EQ(hv.value, "multipart/mixed");
  EXPECT_EQ(hv.params["boundary"], "----=_Part_0_=?x?=.1;2");
}

TEST(HeaderValue, UnquotedValueWithSpacesIsKept) {
  auto hv = parse_header_value("application/pdf; name=Søknad 2020.pdf");
  EXPECT_EQ(hv.params["name"], "Søknad 2020.pdf");
}

TEST(HeaderValue, CommentsInTypeAreRemoved) {
  auto hv = parse_header_value("text/plain (a comment); charset=utf-8");
  EXPECT_EQ(hv.value, "text/plain");
  EXPECT_EQ(hv.params["charset"], "utf-8");
}

TEST(HeaderValue, GarbageNeverThrows) {
  for (std::string s : std::vector<std::string>{
           "", ";", ";;=;", "=", "a/b; =x", "a/b; x=\"unterminated", "a/b; x*=''",
           "a/b; x*99999999=1", "a/b; x*0*=%", "a/b; x*=%zz", "\"\\"}) {
    EXPECT_NO_THROW(parse_header_value(s)) << s;
  }
  auto hv = parse_header_value("a/b; x=\"unterminated");
  EXPECT_EQ(hv.params["x"], "unterminated");
}

// ---- Addresses -------------------------------------------------------------------------------

TEST(Addresses, QuotedDisplayNameWithComma) {
  auto a = parse_addresses("\"Olsen, Per\" <per@y.no>, Kari Nordmann <kari@x.no>");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].display_name, "Olsen, Per");
  EXPECT_EQ(a[0].address, "per@y.no");
  EXPECT_EQ(a[1].display_name, "Kari Nordmann");
  EXPECT_EQ(a[1].address, "kari@x.no");
}

TEST(Addresses, Rfc2047DisplayName) {
  auto a = parse_addresses("=?UTF-8?Q?Solsikken_Barnehage_=C3=86=C3=98?= <post@solsikken.no>");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "Solsikken Barnehage ÆØ");
  EXPECT_EQ(a[0].address, "post@solsikken.no");
}

TEST(Addresses, BareAddressAndDomainLowerCased) {
  auto a = parse_addresses("Kari.Nordmann@Solsikken.NO");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address, "Kari.Nordmann@solsikken.no");
  EXPECT_EQ(a[0].display_name, "");
}

TEST(Addresses, AngleAddressWithoutName) {
  auto a = parse_addresses("<kari@x.no>");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address, "kari@x.no");
}

TEST(Addresses, CommentGivesDisplayName) {
  auto a = parse_addresses("kari@x.no (Kari Nordmann)");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address, "kari@x.no");
  EXPECT_EQ(a[0].display_name, "Kari Nordmann");
}

TEST(Addresses, GroupsAreFlattened) {
  auto a = parse_addresses("Styret: a@x.no, \"B, C\" <b@y.no>;, d@z.no");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].address, "a@x.no");
  EXPECT_EQ(a[1].address, "b@y.no");
  EXPECT_EQ(a[1].display_name, "B, C");
  EXPECT_EQ(a[2].address, "d@z.no");
}

TEST(Addresses, EmptyGroupGivesNothing) {
  EXPECT_TRUE(parse_addresses("undisclosed-recipients:;").empty());
}

TEST(Addresses, UnparseableGivesEmptyAddress) {
  auto a = parse_addresses("Kari Nordmann");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address, "");
  EXPECT_EQ(a[0].display_name, "Kari Nordmann");
}

// RFC 5322 3.4 mailbox-list: two mailboxes are never run together into one address.
TEST(Addresses, TwoBareAddressesWithoutACommaAreTwo) {
  auto a = parse_addresses("kari@solsikken.no per@evil.example");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].address, "kari@solsikken.no");
  EXPECT_EQ(a[1].address, "per@evil.example");
}

TEST(Addresses, TwoNameAddrsWithoutACommaAreTwo) {
  auto a = parse_addresses("Kari Nordmann <kari@solsikken.no> Per Olsen <per@evil.example>");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].display_name, "Kari Nordmann");
  EXPECT_EQ(a[0].address, "kari@solsikken.no");
  EXPECT_EQ(a[1].display_name, "Per Olsen");
  EXPECT_EQ(a[1].address, "per@evil.example");
}

TEST(Addresses, MailboxListWithNamesQuotesCommentsAndGroups) {
  auto a = parse_addresses(
      "\"Nordmann, Kari (styrer)\" <kari@Solsikken.no> (Solsikken), per@y.no (Per \\(P\\) Olsen),"
      " Styret: \"Ola\" <ola@z.no>, <lise@z.no>;, \"quoted local\"@w.no");
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].display_name, "Nordmann, Kari (styrer)");
  EXPECT_EQ(a[0].address, "kari@solsikken.no");
  EXPECT_EQ(a[1].address, "per@y.no");
  EXPECT_EQ(a[1].display_name, "Per (P) Olsen");
  EXPECT_EQ(a[2].display_name, "Ola");
  EXPECT_EQ(a[2].address, "ola@z.no");
  EXPECT_EQ(a[3].address, "lise@z.no");
  EXPECT_EQ(a[4].address, "quoted local@w.no");
}

TEST(Addresses, AnAddressInTheDisplayNameOrACommentIsNotTheAddress) {
  auto a = parse_addresses("\"sfovpost@statsforvalteren.no\" <x@evil.example>");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address, "x@evil.example");
  auto b = parse_addresses("x@evil.example (sfovpost@statsforvalteren.no)");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].address, "x@evil.example");
  auto c = parse_addresses("sfovpost@statsforvalteren.no <x@evil.example>");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].address, "x@evil.example");
}

TEST(MakeHeaders, EveryFromFieldAndEveryMailboxIsKept) {
  Headers h = make_headers({{"From", "kari@solsikken.no"}, {"From", "per@evil.example"}});
  ASSERT_EQ(h.from.size(), 2u);
  EXPECT_EQ(h.from[1].address, "per@evil.example");
}

TEST(Addresses, HostileInputNeverThrows) {
  for (std::string s : std::vector<std::string>{"", ",,,", "<", ">", "\"", "(((", ")))", "a@", "@b",
                                                "<<a@b>>", ":;:;", "\"a\\", std::string(10000, '<'),
                                                std::string(10000, '(')}) {
    EXPECT_NO_THROW(parse_addresses(s));
  }
}

// ---- Unfolding, ids, the header model --------------------------------------------------------

TEST(Unfold, FoldedLinesBecomeOneLine) {
  EXPECT_EQ(unfold("S\xC3\xB8knad\r\n om\n\ttilskudd"), "S\xC3\xB8knad om\ttilskudd");
}

TEST(MessageIds, AngleBracketsRemoved) {
  auto ids = parse_message_ids("<a@x> (comment)\r\n <b@y>");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "a@x");
  EXPECT_EQ(ids[1], "b@y");
  EXPECT_EQ(parse_message_ids("bare@id").at(0), "bare@id");
}

TEST(MakeHeaders, ExtractsTheCommonFields) {
  Headers h = make_headers({{"Return-Path", "<>"},
                            {"From", "\"Nordmann, Kari\" <kari@X.no>"},
                            {"To", "post@asker.kommune.no"},
                            {"Reply-To", "svar@x.no"},
                            {"Subject", "=?UTF-8?Q?S=C3=B8knad?= 20/30298"},
                            {"Message-ID", "<m1@x.no>"},
                            {"In-Reply-To", "<p1@asker.no> <p0@asker.no>"},
                            {"References", "<p0@asker.no> <p1@asker.no>"},
                            {"Date", "Tue, 1 Sep 2020 10:00:00 +0200"},
                            {"X-Custom", "=?UTF-8?Q?=C3=A6?="}});
  EXPECT_TRUE(h.has_return_path);
  EXPECT_EQ(h.return_path, "");
  ASSERT_EQ(h.from.size(), 1u);
  EXPECT_EQ(h.from[0].display_name, "Nordmann, Kari");
  EXPECT_EQ(h.from[0].address, "kari@x.no");
  EXPECT_EQ(h.to.at(0).address, "post@asker.kommune.no");
  EXPECT_EQ(h.reply_to.at(0).address, "svar@x.no");
  EXPECT_EQ(h.subject, "Søknad 20/30298");
  EXPECT_EQ(h.message_id, "m1@x.no");
  EXPECT_EQ(h.in_reply_to, "p1@asker.no");
  ASSERT_EQ(h.references.size(), 2u);
  EXPECT_EQ(h.references[1], "p1@asker.no");
  EXPECT_EQ(h.date, "Tue, 1 Sep 2020 10:00:00 +0200");
  EXPECT_EQ(h.get("x-custom"), "æ");
  EXPECT_TRUE(h.has("SUBJECT"));
  EXPECT_FALSE(h.has("Cc"));
  EXPECT_EQ(h.get("Cc"), "");
  ASSERT_EQ(h.fields.size(), 10u);
  EXPECT_EQ(h.fields[4].first, "Subject");
  EXPECT_EQ(h.fields[4].second, "Søknad 20/30298");
}

TEST(MakeHeaders, ReturnPathWithAddress) {
  Headers h = make_headers({{"Return-Path", " <bounce@x.no>"}});
  EXPECT_TRUE(h.has_return_path);
  EXPECT_EQ(h.return_path, "bounce@x.no");
  Headers none = make_headers({});
  EXPECT_FALSE(none.has_return_path);
}
