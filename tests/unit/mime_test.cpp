#include "parsers/mime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "parsers/text.h"

using namespace tilskudd::mime;

namespace {

// Test messages are written with LF; real mail has CRLF.
std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string base64(std::string_view in, std::size_t line = 76) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t col = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < in.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[v & 63] : '=';
    col += 4;
    if (line && col >= line) {
      out += "\r\n";
      col = 0;
    }
  }
  return out;
}

const Part* find_part(const Message& m, std::string_view type) {
  for (const Part& p : m.parts)
    if (p.content_type == type) return &p;
  return nullptr;
}

bool has_defect(const Message& m, std::string_view word) {
  for (const auto& d : m.defects)
    if (d.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

// ---- Realistic messages ----------------------------------------------------------------------

TEST(MimeOutlook, AlternativeWindows1252QuotedPrintablePrefersPlain) {
  std::string raw = crlf(
      "Return-Path: <kari@solsikken.no>\n"
      "From: \"Nordmann, Kari\" <kari@solsikken.no>\n"
      "To: \"post@asker.kommune.no\" <post@asker.kommune.no>\n"
      "Subject: =?iso-8859-1?Q?S=F8knad_om_tilretteleggingstilskudd_-_sak_20/30298?=\n"
      "Thread-Topic: =?iso-8859-1?Q?S=F8knad?=\n"
      "Message-ID: <DB7PR10MB2345ABCD@DB7PR10MB2345.EURPRD10.PROD.OUTLOOK.COM>\n"
      "Date: Tue, 25 Aug 2020 09:12:44 +0000\n"
      "Content-Language: nb-NO\n"
      "Content-Type: multipart/alternative;\n"
      "\tboundary=\"_000_DB7PR10MB2345ABCD_\"\n"
      "MIME-Version: 1.0\n"
      "\n"
      "--_000_DB7PR10MB2345ABCD_\n"
      "Content-Type: text/plain; charset=\"windows-1252\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Hei,\n"
      "\n"
      "Vedlagt s=F8knad for v=E5re ansatte =96 se tabellen.\n"
      "Barnehageeier: Solsikken Barnehage AS, Asker =\n"
      "og B=E6rum\n"
      "\n"
      "--_000_DB7PR10MB2345ABCD_\n"
      "Content-Type: text/html; charset=\"windows-1252\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<html><body><p class=3D\"MsoNormal\">Hei,<o:p></o:p></p>\n"
      "<p class=3D\"MsoNormal\">HTML-versjon<o:p></o:p></p></body></html>\n"
      "\n"
      "--_000_DB7PR10MB2345ABCD_--\n");
  Message m = parse(raw);
  EXPECT_TRUE(m.defects.empty()) << m.defects.front();
  EXPECT_EQ(m.headers.subject, "Søknad om tilretteleggingstilskudd - sak 20/30298");
  EXPECT_EQ(m.headers.message_id, "DB7PR10MB2345ABCD@DB7PR10MB2345.EURPRD10.PROD.OUTLOOK.COM");
  ASSERT_EQ(m.headers.from.size(), 1u);
  EXPECT_EQ(m.headers.from[0].display_name, "Nordmann, Kari");
  EXPECT_EQ(m.headers.return_path, "kari@solsikken.no");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].content_type, "text/plain");
  EXPECT_EQ(m.parts[0].charset, "windows-1252");
  EXPECT_EQ(m.parts[0].depth, 1);
  EXPECT_EQ(m.parts[0].body,
            "Hei,\n\nVedlagt søknad for våre ansatte \xE2\x80\x93 se tabellen.\n"
            "Barnehageeier: Solsikken Barnehage AS, Asker og Bærum\n");
  EXPECT_EQ(m.text, m.parts[0].body);
  EXPECT_EQ(m.parts[1].content_type, "text/html");
  EXPECT_FALSE(m.parts[1].is_attachment());
}

TEST(MimeGmail, AlternativeBase64Utf8) {
  std::string plain = "Hei!\n\nSøknad for Ola Hansen (ABLU), kostnad 95 000 kr.\n";
  std::string raw =
      crlf(
          "MIME-Version: 1.0\n"
          "From: Kari Nordmann <kari.nordmann@gmail.com>\n"
          "Date: Mon, 31 Aug 2020 14:03:11 +0200\n"
          "Message-ID: <CAF=abc+123@mail.gmail.com>\n"
          "Subject: =?UTF-8?B?U8O4a25hZCAyMC8zMDI5OA==?=\n"
          "To: post@asker.kommune.no\n"
          "Content-Type: multipart/alternative; boundary=\"0000000000004b1c2d05ae1f\"\n"
          "\n"
          "--0000000000004b1c2d05ae1f\n"
          "Content-Type: text/plain; charset=\"UTF-8\"\n"
          "Content-Transfer-Encoding: base64\n"
          "\n") +
      base64(plain) +
      crlf(
          "\n--0000000000004b1c2d05ae1f\n"
          "Content-Type: text/html; charset=\"UTF-8\"\n"
          "Content-Transfer-Encoding: quoted-printable\n"
          "\n"
          "<div dir=3D\"ltr\">Hei!<br><br>S=C3=B8knad</div>\n"
          "\n"
          "--0000000000004b1c2d05ae1f--\n");
  Message m = parse(raw);
  EXPECT_TRUE(m.defects.empty());
  EXPECT_EQ(m.headers.subject, "Søknad 20/30298");
  EXPECT_EQ(m.text, plain);
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[1].body, "<div dir=\"ltr\">Hei!<br><br>Søknad</div>\n");
}

TEST(MimeThunderbird, Latin1QuotedPrintableSinglePart) {
  std::string raw =
      "From: Per <per@x.no>\n"
      "Subject: =?ISO-8859-1?Q?S=F8knad?=\n"
      "Content-Type: text/plain; charset=ISO-8859-1; format=flowed\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Navn p=E5 ansatt: =C6rlig =D8stby=20\n"
      "Sum: 95=A0000 kr =80\n";
  Message m = parse(raw);
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.parts[0].depth, 0);
  EXPECT_EQ(m.parts[0].charset, "iso-8859-1");
  EXPECT_EQ(m.text,
            "Navn på ansatt: Ærlig Østby \nSum: 95\xC2\xA0"
            "000 kr €\n");
}

TEST(MimeAppleMail, MixedWithSeveralInlineTextPartsIsConcatenated) {
  std::string raw = crlf(
      "From: Kari <kari@icloud.com>\n"
      "Content-Type: multipart/mixed; boundary=\"Apple-Mail=_5E1D2C3B-1\"\n"
      "Mime-Version: 1.0 (Mac OS X Mail 13.4)\n"
      "Subject: Soknad\n"
      "\n"
      "--Apple-Mail=_5E1D2C3B-1\n"
      "Content-Transfer-Encoding: 7bit\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "Se vedlegg.\n"
      "\n"
      "--Apple-Mail=_5E1D2C3B-1\n"
      "Content-Disposition: inline; filename=Tildelingsbrev.pdf\n"
      "Content-Type: application/pdf; x-unix-mode=0644; name=\"Tildelingsbrev.pdf\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--Apple-Mail=_5E1D2C3B-1\n"
      "Content-Transfer-Encoding: 8bit\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Hilsen Kari\n"
      "Sendt fra min iPhone\n"
      "--Apple-Mail=_5E1D2C3B-1--\n");
  Message m = parse(raw);
  EXPECT_TRUE(m.defects.empty());
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.text, "Se vedlegg.\n\nHilsen Kari\nSendt fra min iPhone");
  EXPECT_TRUE(m.parts[1].is_attachment());
  EXPECT_EQ(m.parts[1].disposition, "inline");
  EXPECT_EQ(m.parts[1].filename, "Tildelingsbrev.pdf");
  EXPECT_EQ(m.parts[1].body, "%PDF-1.4\n");
}

TEST(MimeThunderbird, ForwardedMessageRfc822IsWalked) {
  std::string raw = crlf(
      "From: Kari <kari@solsikken.no>\n"
      "Subject: Fwd: Tildelingsbrev\n"
      "Content-Type: multipart/mixed; boundary=\"------------A1B2C3\"\n"
      "\n"
      "This is a multi-part message in MIME format.\n"
      "--------------A1B2C3\n"
      "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "Videresender brevet fra Statsforvalteren.\n"
      "\n"
      "--------------A1B2C3\n"
      "Content-Type: message/rfc822; name=\"Tildelingsbrev.eml\"\n"
      "Content-Disposition: attachment; filename=\"Tildelingsbrev.eml\"\n"
      "\n"
      "From: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
      "Subject: =?UTF-8?Q?Tildeling_av_tilretteleggingsmidler_2020?=\n"
      "Message-ID: <sfov-1@statsforvalteren.no>\n"
      "Content-Type: multipart/mixed; boundary=\"inner\"\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Solsikken barnehage tildeles kr 40 000 for Ola Hansen. Hilsen Statsforvalteren i Oslo og "
      "Viken=\n"
      " (S=F8rli)\n"
      "--inner\n"
      "Content-Type: application/pdf; name=\"brev.pdf\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBE|Ri0xLjQK\n"
      "--inner--\n"
      "\n"
      "--------------A1B2C3--\n");
  Message m = parse(raw);
  EXPECT_EQ(m.text, "Videresender brevet fra Statsforvalteren.");
  ASSERT_EQ(m.forwarded.size(), 1u);
  EXPECT_EQ(m.forwarded[0].headers.subject, "Tildeling av tilretteleggingsmidler 2020");
  EXPECT_EQ(m.forwarded[0].headers.message_id, "sfov-1@statsforvalteren.no");
  EXPECT_EQ(m.forwarded[0].headers.from.at(0).address, "sfovpost@statsforvalteren.no");
  EXPECT_EQ(m.forwarded[0].text,
            "Solsikken barnehage tildeles kr 40 000 for Ola Hansen. Hilsen Statsforvalteren i "
            "Oslo og Viken (Sørli)");
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.parts[0].forwarded, -1);
  EXPECT_EQ(m.parts[1].forwarded, 0);
  EXPECT_EQ(m.parts[1].depth, 3);  // mixed > message/rfc822 > inner message > part
  EXPECT_EQ(m.parts[2].forwarded, 0);
  EXPECT_EQ(m.parts[2].filename, "brev.pdf");
  // mimetic 0.9.8's decoder garbles base64 with a '|' in it; ours skips the stray character.
  EXPECT_EQ(m.parts[2].body, "%PDF-1.4\n");
  EXPECT_TRUE(has_defect(m, "base64"));
}

TEST(MimeHtmlOnly, TableBecomesRows) {
  std::string raw = crlf(
      "From: a@b.no\n"
      "Subject: =?UTF-8?Q?S=C3=B8knad?=\n"
      "MIME-Version: 1.0\n"
      "Content-Type: text/html; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<html><head><style>p{color:red}</style></head><body>\n"
      "<p>Saksnummer: 20/30298</p>\n"
      "<table border=3D1><tr><th>Navn</th><th>Utdanning</th><th>Kostnad</th></tr>\n"
      "<tr><td>Ola Hansen</td><td>ABLU</td><td>95&nbsp;000</td></tr>\n"
      "<tr><td>Per Olsen</td><td>Barnehagel=C3=A6rerutdanning deltid</td><td>60 000</td></tr>\n"
      "</table></body></html>\n");
  Message m = parse(raw);
  EXPECT_EQ(m.text,
            "Saksnummer: 20/30298\nNavn | Utdanning | Kostnad\nOla Hansen | ABLU | 95 000\n"
            "Per Olsen | Barnehagelærerutdanning deltid | 60 000");
}

TEST(MimeFilenames, Rfc2231FilenameWithNorwegianLetters) {
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: application/pdf; name=\"=?UTF-8?Q?S=C3=B8knad_=C3=A6=C3=B8=C3=A5.pdf?=\"\n"
      "Content-Disposition: attachment;\n"
      " filename*=utf-8''S%C3%B8knad%20%C3%A6%C3%B8%C3%A5.pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--b\n"
      "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\n"
      " name=\"=?iso-8859-1?Q?Tildelingsbrev_=E6=F8=E5.docx?=\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "UEsDBA==\n"
      "--b\n"
      "Content-Type: application/pdf\n"
      "Content-Disposition: attachment;\n"
      " filename*0*=utf-8''Brev%20fra%20Statsforvalteren%20;\n"
      " filename*1*=%C3%B8st.pdf\n"
      "\n"
      "x\n"
      "--b--\n");
  Message m = parse(raw);
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.parts[0].filename, "Søknad æøå.pdf");
  EXPECT_EQ(m.parts[1].filename, "Tildelingsbrev æøå.docx");
  EXPECT_EQ(m.parts[1].body, std::string("PK\x03\x04"));
  EXPECT_TRUE(m.parts[1].is_attachment());
  EXPECT_EQ(m.parts[2].filename, "Brev fra Statsforvalteren øst.pdf");
}

TEST(MimeFilenames, QuotedFilenameAndBoundaryWithSemicolon) {
  // mimetic's own tokenizer cuts these at the ';'.
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=\"b;1\"\n"
      "\n"
      "--b;1\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Body text\n"
      "--b;1\n"
      "Content-Type: application/pdf; name=\"x;y.pdf\"\n"
      "Content-Disposition: attachment; filename=\"S\xC3\xB8knad; vedlegg 1.pdf\"\n"
      "\n"
      "pdf\n"
      "--b;1--\n");
  Message m = parse(raw);
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.text, "Body text");
  EXPECT_EQ(m.parts[1].filename, "Søknad; vedlegg 1.pdf");
  EXPECT_EQ(m.parts[1].disposition, "attachment");
}

TEST(MimeSubject, Rfc2047SplitOverTwoEncodedWords) {
  Message m = parse(
      "Subject: =?UTF-8?B?U8O4a25hZCBvbSB0aWxyZXR0ZWxlZ2dpbmdzdGlsc2t1ZGQgLSBzYWsgMjAv?=\r\n"
      " =?UTF-8?B?MzAyOTggKMOmw7jDpSk=?=\r\n\r\nbody\r\n");
  EXPECT_EQ(m.headers.subject, "Søknad om tilretteleggingstilskudd - sak 20/30298 (æøå)");
  EXPECT_EQ(m.text, "body\n");
}

TEST(MimeText, TextAttachmentIsNotInText) {
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=zz\n"
      "\n"
      "--zz\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Se vedlagt skjema.\n"
      "--zz\n"
      "Content-Type: text/plain; charset=windows-1252; name=\"soknad.txt\"\n"
      "Content-Disposition: attachment; filename=\"soknad.txt\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Barnehageeier: Solsikken =E6\n"
      "--zz\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Disposition: attachment\n"
      "\n"
      "Also an attachment\n"
      "--zz--\n");
  Message m = parse(raw);
  EXPECT_EQ(m.text, "Se vedlagt skjema.");
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_TRUE(m.parts[1].is_attachment());
  EXPECT_EQ(m.parts[1].body,
            "Barnehageeier: Solsikken æ");  // CRLF before a boundary is the boundary's
  EXPECT_TRUE(m.parts[2].is_attachment());
}

TEST(MimeText, RelatedHtmlWithInlineLogoInAlternative) {
  std::string raw = crlf(
      "Content-Type: multipart/related; boundary=rel\n"
      "\n"
      "--rel\n"
      "Content-Type: multipart/alternative; boundary=alt\n"
      "\n"
      "--alt\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "\n"
      "--alt\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>Kun HTML har innhold</p><img src=\"cid:logo@x\">\n"
      "--alt--\n"
      "--rel\n"
      "Content-Type: image/png\n"
      "Content-ID: <logo@x>\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "iVBORw0KGgo=\n"
      "--rel--\n");
  Message m = parse(raw);
  // An empty text/plain alternative does not hide the HTML.
  EXPECT_EQ(m.text, "Kun HTML har innhold");
  const Part* png = find_part(m, "image/png");
  ASSERT_NE(png, nullptr);
  EXPECT_EQ(png->content_id, "logo@x");
  EXPECT_TRUE(png->is_attachment());
  EXPECT_EQ(png->body.substr(1, 3), "PNG");
}

TEST(MimeText, NoContentTypeIsTextPlain) {
  Message m = parse("From: a@b\nSubject: x\n\nHei \xE6\xF8\xE5\n");
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.parts[0].content_type, "text/plain");
  EXPECT_EQ(m.text, "Hei æøå\n");
}

// ---- Transfer decoding -----------------------------------------------------------------------

TEST(Base64, ForgivingDecoderSkipsStrayCharacters) {
  std::size_t skipped = 0;
  EXPECT_EQ(decode_base64("JVBE|Ri0x\r\nLjQK", &skipped), "%PDF-1.4\n");
  EXPECT_EQ(skipped, 1u);
  EXPECT_EQ(decode_base64("U8O4a25hZA==", &skipped), "Søknad");
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(decode_base64("U8O4\na25h\nZA"), "Søknad");  // missing padding
  EXPECT_EQ(decode_base64("YQ==YQ=="), "aa");            // concatenated encodings
  EXPECT_EQ(decode_base64(""), "");
  decode_base64("Q", &skipped);
  EXPECT_EQ(skipped, 1u);
}

TEST(QuotedPrintable, SoftBreaksEscapesAndPadding) {
  EXPECT_EQ(decode_quoted_printable("S=F8knad =\r\nfor=20\r\nalle  \r\nx=3d=3D"),
            "S\xF8knad for \r\nalle\r\nx==");
  EXPECT_EQ(decode_quoted_printable("bad =ZZ escape="), "bad =ZZ escape");
  EXPECT_EQ(decode_quoted_printable("a=\nb"), "ab");
}

// ---- Hostile and broken input ----------------------------------------------------------------

TEST(MimeHostile, TruncatedMessageMissingEndBoundary) {
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "Hei\n"
      "--b\n"
      "Content-Type: application/pdf; name=a.pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQKJe");
  Message m = parse(raw);
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.text, "Hei");
  EXPECT_TRUE(has_defect(m, "closing boundary missing"));
  EXPECT_EQ(m.parts[1].body.substr(0, 9), "%PDF-1.4\n");
}

TEST(MimeHostile, MissingInnerEndBoundaryDoesNotSwallowOuterParts) {
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "Plain\n"
      "--outer\n"
      "Content-Type: application/pdf; name=a.pdf\n"
      "\n"
      "pdf\n"
      "--outer--\n");
  Message m = parse(raw);
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].body, "Plain");
  EXPECT_EQ(m.parts[1].filename, "a.pdf");
  EXPECT_EQ(m.parts[1].body, "pdf");
  EXPECT_TRUE(has_defect(m, "multipart/alternative"));
  EXPECT_FALSE(has_defect(m, "multipart/mixed"));
}

TEST(MimeHostile, BoundaryNeverOccursKeepsTheText) {
  Message m =
      parse(crlf("Content-Type: multipart/mixed; boundary=nope\n\nSaksnummer 20/30298\n--other\n"));
  EXPECT_TRUE(has_defect(m, "no part found"));
  EXPECT_NE(m.text.find("20/30298"), std::string::npos);
}

TEST(MimeHostile, MultipartWithoutBoundaryIsOnePart) {
  Message m = parse("Content-Type: multipart/mixed\n\n--\n--\nHei\n");
  EXPECT_TRUE(has_defect(m, "without a boundary"));
  EXPECT_LE(m.parts.size(), 1u);
}

TEST(MimeHostile, InvalidUtf8AndNulBytesGiveValidUtf8) {
  static const char bytes[] =
      "Subject: a\xFF\xC3(b\0c\nFrom: \"\xE6\" <x@y.no>\n"
      "Content-Type: text/plain; charset=utf-8\n\nBody \xC3\x28 \0 end\n";
  std::string raw(bytes, sizeof bytes - 1);
  Message m = parse(raw);
  EXPECT_TRUE(tilskudd::text::is_valid_utf8(m.headers.subject));
  EXPECT_EQ(m.headers.subject.find('\0'), std::string::npos);
  for (const auto& [n, v] : m.headers.fields) EXPECT_TRUE(tilskudd::text::is_valid_utf8(v));
  EXPECT_TRUE(tilskudd::text::is_valid_utf8(m.text));
  EXPECT_EQ(m.text.find('\0'), std::string::npos);
  EXPECT_NE(m.text.find("end"), std::string::npos);
}

TEST(MimeHostile, UnknownCharsetIsReportedAndRead) {
  Message m = parse("Content-Type: text/plain; charset=x-klingon\n\nHei\n");
  EXPECT_EQ(m.text, "Hei\n");
  EXPECT_TRUE(has_defect(m, "unknown charset"));
}

TEST(MimeHostile, EmptyAndHeaderOnlyInput) {
  EXPECT_NO_THROW(parse(""));
  EXPECT_NO_THROW(parse("\n\n\n"));
  Message m = parse("Subject: only a header\n");
  EXPECT_TRUE(m.text.empty());
  EXPECT_NO_THROW(parse("garbage without any header"));
  EXPECT_NO_THROW(parse(std::string(100000, '\n')));
  EXPECT_NO_THROW(parse(std::string(100000, '-')));
}

TEST(MimeHostile, TenThousandPartsAreBoundedAndFast) {
  std::string raw = "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
  for (int i = 0; i < 10000; ++i)
    raw += "--p\r\nContent-Type: text/plain; name=\"f" + std::to_string(i) + ".txt\"\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  auto t0 = std::chrono::steady_clock::now();
  Message m = parse(raw);
  Limits all;
  all.max_parts = 20000;
  Message every = parse(raw, all);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 3000);
  EXPECT_EQ(m.parts.size(), Limits{}.max_parts);
  EXPECT_TRUE(has_defect(m, "parts"));
  EXPECT_EQ(every.parts.size(), 10000u);
  EXPECT_EQ(every.parts.back().filename, "f9999.txt");
  EXPECT_TRUE(every.defects.empty());
}

TEST(MimeHostile, HundredDeepMultipartNestingStopsAtMaxDepth) {
  std::string raw;
  for (int i = 0; i < 100; ++i)
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
           std::to_string(i) + "\n";
  raw += "Content-Type: text/plain\n\ndeep\n";
  for (int i = 99; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\n";
  Message m = parse(raw);
  EXPECT_TRUE(has_defect(m, "nesting deeper"));
  for (const Part& p : m.parts) EXPECT_LE(p.depth, Limits{}.max_depth);
  Limits deep;
  deep.max_depth = 150;
  Message all = parse(raw, deep);
  ASSERT_EQ(all.parts.size(), 1u);
  EXPECT_EQ(all.parts[0].body, "deep");
  EXPECT_EQ(all.parts[0].depth, 100);
}

TEST(MimeHostile, ManyThousandNestedForwardsDoNotOverflowTheStack) {
  Limits huge;
  huge.max_depth = 1000000;  // capped internally
  std::string raw;
  for (int i = 0; i < 200000; ++i) raw += "Content-Type: message/rfc822\n\n";
  raw += "inner\n";
  Message m = parse(raw, huge);
  EXPECT_TRUE(has_defect(m, "nesting deeper"));
  EXPECT_GE(m.forwarded.size(), 20u);
}

TEST(MimeHostile, FiveMegabyteBase64Attachment) {
  std::string payload(5 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + 3);
  std::string raw = crlf(
                        "Content-Type: multipart/mixed; boundary=\"=_big\"\n\n"
                        "--=_big\nContent-Type: text/plain\n\nVedlagt.\n"
                        "--=_big\nContent-Type: application/pdf; name=big.pdf\n"
                        "Content-Transfer-Encoding: base64\n\n") +
                    base64(payload) + "\r\n--=_big--\r\n";
  auto t0 = std::chrono::steady_clock::now();
  Message m = parse(raw);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[1].body.size(), payload.size());
  EXPECT_TRUE(m.parts[1].body == payload);
  EXPECT_TRUE(m.defects.empty());
  EXPECT_LT(ms, 5000);
}

TEST(MimeHostile, MessageSizeLimitTruncatesAndReports) {
  Limits small;
  small.max_message_bytes = 64;
  std::string raw = "Subject: x\n\n" + std::string(1000, 'a');
  Message m = parse(raw, small);
  EXPECT_TRUE(has_defect(m, "only the first 64 bytes"));
  EXPECT_EQ(m.text.size(), 64u - 12u);
}

TEST(MimeHostile, HeaderByteLimit) {
  Limits small;
  small.max_header_bytes = 1024;
  std::string raw = "Subject: first\n";
  for (int i = 0; i < 1000; ++i) raw += "X-Junk: " + std::to_string(i) + "\n";
  raw += "\nbody\n";
  Message m = parse(raw, small);
  EXPECT_EQ(m.headers.subject, "first");
  EXPECT_LT(m.headers.fields.size(), 200u);
  EXPECT_TRUE(has_defect(m, "header block larger"));
  EXPECT_EQ(m.text, "body\n");
}

TEST(MimeHostile, HugeHeaderLineIsFast) {
  std::string raw = "Subject: " + std::string(8 << 20, 'a') + "\nX: " + std::string(4 << 20, 'b') +
                    "\n" + std::string(2 << 20, 'N') + "\n\nbody\n";
  auto t0 = std::chrono::steady_clock::now();
  Message m = parse(raw);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 5000);
  EXPECT_LE(m.headers.subject.size(), Limits{}.max_header_bytes);
}

TEST(MimeHostile, BoundaryFloodIsBounded) {
  std::string raw = "Content-Type: multipart/mixed; boundary=x\n\n";
  for (int i = 0; i < 500000; ++i) raw += "--x\n";
  auto t0 = std::chrono::steady_clock::now();
  Message m = parse(raw);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 5000);
  EXPECT_LE(m.parts.size(), Limits{}.max_parts);
  EXPECT_TRUE(has_defect(m, "parts"));
}

TEST(MimeHostile, MutatedMessagesNeverCrash) {
  std::string base = crlf(
      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
      "Content-Type: multipart/alternative; boundary=\"c\"\n\n--c\n"
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
      "quoted-printable\n\n"
      "S=F8knad=\n--c\nContent-Type: text/html\n\n<table><tr><td>a<td>b</table>\n--c--\n"
      "--b\nContent-Type: message/rfc822\n\nSubject: =?UTF-8?B?w6Y=?=\n"
      "Content-Type: application/pdf; name*0*=utf-8''%C3; name*1=x\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0x\n--b--\n");
  unsigned seed = 12345;
  auto rnd = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  const char junk[] = {'-', '\n', '\r', ':', ';', '"', '=', '?', '\0', '<', '>', ' ', 'b', '\xff'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rnd() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      std::size_t pos = rnd() % s.size();
      switch (rnd() % 3) {
        case 0:
          s[pos] = junk[rnd() % sizeof junk];
          break;
        case 1:
          s.erase(pos, 1 + rnd() % 20);
          break;
        default:
          s.insert(pos, 1, junk[rnd() % sizeof junk]);
      }
    }
    Message m = parse(s);
    ASSERT_TRUE(tilskudd::text::is_valid_utf8(m.text)) << iter;
  }
}

// What a mail program shows (DECISIONS.md "Alternatives", "Hidden text").
TEST(MimeShown, ShownTextIsTheLastHtmlAlternative) {
  std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=mix\n"
      "\n"
      "--mix\n"
      "Content-Type: multipart/alternative; boundary=alt\n"
      "\n"
      "--alt\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Ren tekst\n"
      "--alt\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>Forste HTML</p>\n"
      "--alt\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>Siste HTML</p><p style=\"display:none\">skjult</p>\n"
      "--alt--\n"
      "--mix\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "Etterord\n"
      "--mix--\n");
  Message m = parse(raw);
  EXPECT_EQ(m.text, "Ren tekst\n\nEtterord");  // text/plain is still what `text` reads
  EXPECT_EQ(m.shown_text, "Siste HTML\n\nEtterord");
  EXPECT_EQ(m.hidden, (std::vector<std::string>{"display:none"}));
}

TEST(MimeShown, WithoutAlternativesShownIsText) {
  Message plain = parse(crlf("Content-Type: text/plain\n\nHei\n"));
  EXPECT_EQ(plain.shown_text, plain.text);
  Message html =
      parse(crlf("Content-Type: text/html\n\n<p>Hei</p><span style=\"font-size:0\">x</span>\n"));
  EXPECT_EQ(html.text, "Hei");
  EXPECT_EQ(html.shown_text, "Hei");
  EXPECT_EQ(html.hidden, (std::vector<std::string>{"font-size under 4px"}));
}

TEST(MimeShown, HiddenTextOfAnHtmlAlternativeThatShowsNothingIsReported) {
  // The HTML a mail program shows is empty; the form was hidden in it and is in the plain part.
  Message m =
      parse(crlf("Content-Type: multipart/alternative; boundary=alt\n\n--alt\n"
                 "Content-Type: text/plain\n\nSkjema\n--alt\nContent-Type: text/html\n\n"
                 "<div style=\"display:none\">Skjema</div>\n--alt--\n"));
  EXPECT_EQ(m.text, "Skjema");
  EXPECT_EQ(m.hidden, (std::vector<std::string>{"display:none"}));
}

TEST(MimeShown, HiddenTextOfAForwardedMessageIsItsOwn) {
  Message m = parse(
      crlf("Content-Type: multipart/mixed; boundary=mix\n\n--mix\nContent-Type: text/plain\n\nHei\n"
           "--mix\nContent-Type: message/rfc822\n\n"
           "From: a@statsforvalteren.no\nSubject: Vedtak\nContent-Type: text/html\n\n"
           "<p>Innvilget</p><p style=\"color:#fff\">avslag</p>\n--mix--\n"));
  EXPECT_TRUE(m.hidden.empty());
  ASSERT_EQ(m.forwarded.size(), 1u);
  EXPECT_EQ(m.forwarded[0].text, "Innvilget");
  EXPECT_EQ(m.forwarded[0].hidden, (std::vector<std::string>{"text in the background colour"}));
}

// ---- Issue 15: what real mailers and mailbox files produce ----------------------------------

// A message saved from an mbox file (mutt, s-nail, Thunderbird's "Save as") starts with the
// mbox separator "From sender date"; it is not a header and must not end the header block.
TEST(MimeMbox, LeadingFromSeparatorLineIsSkipped) {
  Message m =
      parse(crlf("From kari@solsikken.no Tue Sep  1 10:00:00 2020\n"
                 "From: Kari Nordmann <kari@solsikken.no>\n"
                 "Subject: =?UTF-8?Q?S=C3=B8knad?= 20/30298\n"
                 "Date: Tue, 1 Sep 2020 10:00:00 +0200\n"
                 "Content-Type: text/plain; charset=UTF-8\n"
                 "\n"
                 "Hei\n"));
  EXPECT_EQ(m.headers.subject, "Søknad 20/30298");
  ASSERT_EQ(m.headers.from.size(), 1u);
  EXPECT_EQ(m.headers.from[0].address, "kari@solsikken.no");
  EXPECT_EQ(m.text, "Hei\n");
  EXPECT_TRUE(m.defects.empty()) << m.defects.front();
}

TEST(MimeMbox, FromSeparatorInsideAForwardedMessageKeepsItsHeadersAndPdf) {
  Message m =
      parse(crlf("From: Kari Nordmann <kari@solsikken.no>\n"
                 "Subject: Fwd: Tilsagn\n"
                 "Content-Type: multipart/mixed; boundary=\"b\"\n"
                 "\n"
                 "--b\n"
                 "Content-Type: text/plain\n"
                 "\n"
                 "Se vedlagt.\n"
                 "--b\n"
                 "Content-Type: message/rfc822\n"
                 "\n"
                 "From sfovpost@statsforvalteren.no Tue Jun 30 11:04:00 2020\n"
                 "From: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                 "Subject: Tilsagn om tilretteleggingsmidler\n"
                 "Date: Tue, 30 Jun 2020 11:04:00 +0200\n"
                 "Content-Type: multipart/mixed; boundary=\"inner\"\n"
                 "\n"
                 "--inner\n"
                 "Content-Type: text/plain\n"
                 "\n"
                 "Vedlagt er tilsagnet.\n"
                 "--inner\n"
                 "Content-Type: application/pdf; name=\"tilsagn.pdf\"\n"
                 "Content-Disposition: attachment; filename=\"tilsagn.pdf\"\n"
                 "Content-Transfer-Encoding: base64\n"
                 "\n" +
                 base64("%PDF-1.4 tilsagn") +
                 "\n--inner--\n"
                 "--b--\n"));
  ASSERT_EQ(m.forwarded.size(), 1u);
  EXPECT_EQ(m.forwarded[0].headers.subject, "Tilsagn om tilretteleggingsmidler");
  ASSERT_EQ(m.forwarded[0].headers.from.size(), 1u);
  EXPECT_EQ(m.forwarded[0].headers.from[0].address, "sfovpost@statsforvalteren.no");
  EXPECT_EQ(m.forwarded[0].text, "Vedlagt er tilsagnet.");
  const Part* pdf = find_part(m, "application/pdf");
  ASSERT_NE(pdf, nullptr);
  EXPECT_EQ(pdf->filename, "tilsagn.pdf");
  EXPECT_EQ(pdf->body, "%PDF-1.4 tilsagn");
  EXPECT_EQ(pdf->forwarded, 0);
  EXPECT_TRUE(m.defects.empty()) << m.defects.front();
}

TEST(MimeMbox, AFromHeaderIsNotASeparatorAndABodyFromLineStays) {
  Message m =
      parse(crlf("From : Kari <kari@solsikken.no>\n"
                 "Subject: s\n"
                 "\n"
                 "From the office\n"));
  ASSERT_EQ(m.headers.from.size(), 1u);
  EXPECT_EQ(m.headers.from[0].address, "kari@solsikken.no");
  EXPECT_EQ(m.headers.subject, "s");
  EXPECT_EQ(m.text, "From the office\n");
}

// RFC 2046 5.1.1: a delimiter line directly after a delimiter line is an empty part (no headers,
// no body); the next delimiter starts a new part, which must not be swallowed as body text.
TEST(MimeBoundaries, EmptyPartDoesNotSwallowTheNextPart) {
  Message m =
      parse(crlf("From: kari@solsikken.no\n"
                 "Content-Type: multipart/mixed; boundary=\"b\"\n"
                 "\n"
                 "--b\n"
                 "Content-Type: text/plain\n"
                 "\n"
                 "Skjema\n"
                 "--b\n"
                 "--b\n"
                 "Content-Type: application/pdf; name=\"brev.pdf\"\n"
                 "Content-Disposition: attachment; filename=\"brev.pdf\"\n"
                 "Content-Transfer-Encoding: base64\n"
                 "\n" +
                 base64("%PDF-1.4 brev") + "\n--b--\n"));
  const Part* pdf = find_part(m, "application/pdf");
  ASSERT_NE(pdf, nullptr);
  EXPECT_EQ(pdf->filename, "brev.pdf");
  EXPECT_EQ(pdf->body, "%PDF-1.4 brev");
  EXPECT_EQ(m.text, "Skjema");
  EXPECT_EQ(m.text.find("Content-Type"), std::string::npos);
}

TEST(MimeBoundaries, EmptyFirstPartAndHeadersWithoutBlankLine) {
  Message m =
      parse(crlf("Content-Type: multipart/mixed; boundary=\"b\"\n"
                 "\n"
                 "--b\n"
                 "--b\n"
                 "Content-Type: text/plain\n"
                 "\n"
                 "Skjema\n"
                 "--b\n"
                 "Content-Type: text/plain; name=\"tom.txt\"\n"
                 "--b\n"
                 "Content-Type: application/pdf; name=\"brev.pdf\"\n"
                 "\n"
                 "%PDF-1.4\n"
                 "--b--\n"));
  EXPECT_EQ(m.text, "Skjema");
  const Part* pdf = find_part(m, "application/pdf");
  ASSERT_NE(pdf, nullptr);
  EXPECT_EQ(pdf->body, "%PDF-1.4");
  bool empty_txt = false;
  for (const Part& p : m.parts)
    if (p.filename == "tom.txt") empty_txt = p.body.empty();
  EXPECT_TRUE(empty_txt);
}

// RFC 2046 5.1.5: in multipart/digest a part without Content-Type is message/rfc822.
TEST(MimeDigest, PartsDefaultToMessageRfc822) {
  Message m =
      parse(crlf("From: liste@x.no\n"
                 "Content-Type: multipart/digest; boundary=\"d\"\n"
                 "\n"
                 "--d\n"
                 "\n"
                 "From: Statsforvalteren <sfovpost@statsforvalteren.no>\n"
                 "Subject: Tilsagn\n"
                 "\n"
                 "Tilsagn om midler.\n"
                 "--d\n"
                 "Content-Type: text/plain\n"
                 "\n"
                 "Bare tekst.\n"
                 "--d--\n"));
  ASSERT_EQ(m.forwarded.size(), 1u);
  EXPECT_EQ(m.forwarded[0].headers.subject, "Tilsagn");
  ASSERT_EQ(m.forwarded[0].headers.from.size(), 1u);
  EXPECT_EQ(m.forwarded[0].headers.from[0].address, "sfovpost@statsforvalteren.no");
  EXPECT_EQ(m.forwarded[0].text, "Tilsagn om midler.");
  EXPECT_EQ(m.text, "Bare tekst.");
}

// Charsets real mailers write under names iconv does not know (Outlook's ks_c_5601-1987 is
// CP949; Hebrew "visual/logical" -i/-e suffixes; Mac and Microsoft names).
TEST(MimeCharsets, AliasesRealMailersUse) {
  struct Case {
    const char* charset;
    std::string bytes;
    std::string utf8;
  };
  const Case cases[] = {
      {"ks_c_5601-1987", "\xC7\xD1\xB1\xDB", "한글"},
      {"iso-8859-8-i", "\xF9\xEC\xE5\xED", "שלום"},
      {"x-sjis", "\x93\xFA\x96\x7B", "日本"},
      {"gb2312", "\xD6\xD0\xCE\xC4", "中文"},
      {"unicode-1-1-utf-7", "+AOY-", "æ"},
      {"x-mac-roman", "\xBE", "æ"},
      {"windows-874", "\xA1", "ก"},
      {"utf8", "\xC3\xA6", "æ"},
  };
  for (const Case& c : cases) {
    Message m = parse(crlf("Content-Type: text/plain; charset=\"" + std::string(c.charset) +
                           "\"\n\n" + c.bytes + "\n"));
    EXPECT_EQ(m.text, c.utf8 + "\n") << c.charset;
    EXPECT_TRUE(m.defects.empty()) << c.charset << ": " << m.defects.front();
  }
}

namespace {

// uuencode as uuencode(1) writes it: 45 bytes a line, '`' for zero.
std::string uuencode(std::string_view in, std::string_view name) {
  auto enc = [](unsigned v) { return static_cast<char>(v == 0 ? '`' : v + 32); };
  std::string out = "begin 644 " + std::string(name) + "\n";
  for (std::size_t i = 0; i < in.size(); i += 45) {
    std::string_view chunk = in.substr(i, 45);
    out += enc(static_cast<unsigned>(chunk.size()));
    for (std::size_t j = 0; j < chunk.size(); j += 3) {
      unsigned a = static_cast<unsigned char>(chunk[j]);
      unsigned b = j + 1 < chunk.size() ? static_cast<unsigned char>(chunk[j + 1]) : 0;
      unsigned c = j + 2 < chunk.size() ? static_cast<unsigned char>(chunk[j + 2]) : 0;
      out += enc(a >> 2);
      out += enc(((a & 3) << 4) | (b >> 4));
      out += enc(((b & 15) << 2) | (c >> 6));
      out += enc(c & 63);
    }
    out += "\n";
  }
  return out + "`\nend\n";
}

const std::string kUuPdf =
    "%PDF-1.4\n" + std::string(200, 'x') + std::string("\n\xC3\xA6\x00\xFF%%EOF\n", 12);

}  // namespace

TEST(MimeUuencode, TransferEncodingsAreDecoded) {
  for (const char* cte : {"x-uuencode", "x-uue", "uuencode", "X-UUENCODE"}) {
    Message m = parse(crlf(std::string("Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                                       "--b\nContent-Type: text/plain\n\nHei\n--b\n"
                                       "Content-Type: application/octet-stream\n"
                                       "Content-Transfer-Encoding: ") +
                           cte + "\n\n" + uuencode(kUuPdf, "brev.pdf") + "--b--\n"));
    const Part* p = find_part(m, "application/octet-stream");
    ASSERT_NE(p, nullptr) << cte;
    EXPECT_EQ(p->body, kUuPdf) << cte;
    EXPECT_EQ(p->filename, "brev.pdf") << cte;  // from the begin line, the part names none
    EXPECT_TRUE(m.defects.empty()) << cte << ": " << m.defects.front();
  }
}

TEST(MimeUuencode, BadLinesAreReportedNotFatal) {
  Message m =
      parse(crlf("Content-Type: application/pdf; name=\"brev.pdf\"\n"
                 "Content-Transfer-Encoding: x-uuencode\n\n"
                 "begin 644 brev.pdf\nM this is not uuencoded at all, it is prose\xFF\nend\n"));
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_TRUE(has_defect(m, "uuencode"));
  Message none =
      parse(crlf("Content-Type: application/pdf; name=\"brev.pdf\"\n"
                 "Content-Transfer-Encoding: x-uuencode\n\nno begin line here\n"));
  ASSERT_EQ(none.parts.size(), 1u);
  EXPECT_TRUE(none.parts[0].body.empty());
  EXPECT_TRUE(has_defect(none, "uuencode"));
}

// Old clients (Eudora, Pegasus, some scanners) put "begin 644 brev.pdf" straight into a
// text/plain body: the block is an attachment of its own and not body text.
TEST(MimeUuencode, BlockInsideAPlainTextBodyIsAnAttachment) {
  Message m =
      parse(crlf("From: kari@solsikken.no\nContent-Type: text/plain\n\n"
                 "Hei, her er brevet.\n\n" +
                 uuencode(kUuPdf, "brev fra SF.pdf") + "\nMvh Kari\n"));
  ASSERT_EQ(m.parts.size(), 2u);
  const Part& pdf = m.parts[1];
  EXPECT_EQ(pdf.content_type, "application/pdf");
  EXPECT_EQ(pdf.filename, "brev fra SF.pdf");
  EXPECT_EQ(pdf.disposition, "attachment");
  EXPECT_EQ(pdf.body, kUuPdf);
  EXPECT_TRUE(pdf.is_attachment());
  EXPECT_EQ(m.text.find("begin 644"), std::string::npos);
  EXPECT_NE(m.text.find("Hei, her er brevet."), std::string::npos);
  EXPECT_NE(m.text.find("Mvh Kari"), std::string::npos);
}

TEST(MimeUuencode, ProseThatStartsWithBeginIsLeftAlone) {
  Message m = parse(crlf("Content-Type: text/plain\n\nbegin 644 ting\nVi begynner i morgen.\n"));
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.text, "begin 644 ting\nVi begynner i morgen.\n");
}

TEST(MimeUuencode, ManyBlocksAreBounded) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += uuencode("x", "f" + std::to_string(i) + ".pdf");
  Limits limits;
  limits.max_parts = 50;
  Message m = parse(crlf("Content-Type: text/plain\n\n" + body), limits);
  EXPECT_LE(m.parts.size(), 50u);
  EXPECT_TRUE(has_defect(m, "parts"));
}
