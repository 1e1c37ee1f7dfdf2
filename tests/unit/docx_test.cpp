#include "parsers/docx.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tests/support/docx_writer.h"

namespace tilskudd {
namespace {

using testing::document_xml;
using testing::make_docx;
using testing::make_docx_raw;
using testing::make_zip;
using testing::make_zip_of_zeros;

const char* kNs =
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
    "xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\"";

std::string doc(const std::string& body) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document ") + kNs + "><w:body>" +
         body + "</w:body></w:document>";
}

TEST(Docx, ParagraphsRoundTripAsLines) {
  DocxText t = extract_docx_text(
      make_docx({"Søknad: Tilretteleggingstilskudd", "Barnehageeier: Solsikken Barnehage AS",
                 "Kontonummer: 1234 56 78903"}));
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text,
            "Søknad: Tilretteleggingstilskudd\n"
            "Barnehageeier: Solsikken Barnehage AS\n"
            "Kontonummer: 1234 56 78903\n");
}

TEST(Docx, TabsBreaksAndEscapedCharactersAreKept) {
  DocxText t = extract_docx_text(make_docx({"Navn:\tÅse Ødegård", "A & B <c>\nneste linje"}));
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text, "Navn:\tÅse Ødegård\nA & B <c>\nneste linje\n");
}

TEST(Docx, TableRowsBecomeLinesWithCellsJoinedByBars) {
  DocxText t = extract_docx_text(make_docx(
      {"Ansatte:"}, {{"Navn", "Utdanning", "Kostnad", "Tilskudd fra Statsforvalteren"},
                     {"Ola Hansen", "ABLU", "95 000", "40 000"},
                     {"Per Olsen", "Barnehagelærerutdanning deltid", "kr 60.000,-", "avslag"}}));
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text,
            "Ansatte:\n"
            "Navn | Utdanning | Kostnad | Tilskudd fra Statsforvalteren\n"
            "Ola Hansen | ABLU | 95 000 | 40 000\n"
            "Per Olsen | Barnehagelærerutdanning deltid | kr 60.000,- | avslag\n"
            "\n");
}

TEST(Docx, CellWithSeveralParagraphsIsOneCell) {
  DocxText t = extract_docx_text(make_docx_raw(
      doc("<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Ola</w:t></w:r></w:p><w:p><w:r><w:t>Hansen</w:t>"
          "</w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>ABLU</w:t></w:r></w:p></w:tc></w:tr>"
          "</w:tbl>")));
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text, "Ola Hansen | ABLU\n");
}

TEST(Docx, RunsSplitInsideWordsAreJoinedAndFallbackTextIsNotRepeated) {
  DocxText t = extract_docx_text(make_docx_raw(
      doc("<w:p><w:r><w:t>Tilde</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>lingsbrev</w:t></w:r>"
          "<w:hyperlink><w:r><w:t xml:space=\"preserve\"> lenke</w:t></w:r></w:hyperlink>"
          "<w:del><w:r><w:delText>slettet</w:delText></w:r></w:del>"
          "<w:r><w:instrText>PAGE</w:instrText></w:r>"
          "<mc:AlternateContent><mc:Choice><w:r><w:t> boks</w:t></w:r></mc:Choice>"
          "<mc:Fallback><w:r><w:t> boks</w:t></w:r></mc:Fallback></mc:AlternateContent>"
          "</w:p>")));
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text, "Tildelingsbrev lenke boks\n");
}

TEST(Docx, NotAZipIsRejected) {
  DocxText t = extract_docx_text("%PDF-1.4 this is not a docx");
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "not a zip archive");
  t = extract_docx_text("PK\x03\x04 truncated garbage after a zip signature");
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "not a zip archive");
  t = extract_docx_text("");
  EXPECT_FALSE(t.ok);
}

TEST(Docx, ZipWithoutDocumentXmlIsRejected) {
  DocxText t = extract_docx_text(make_zip({{"word/other.xml", "<x/>"}, {"readme.txt", "hei"}}));
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "no word/document.xml in the archive");
}

TEST(Docx, MalformedXmlIsRejectedQuietly) {
  DocxText t = extract_docx_text(make_docx_raw(doc("<w:p><w:r><w:t>open</w:r></w:p>")));
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "word/document.xml is not well-formed XML");
  t = extract_docx_text(make_docx_raw("not xml at all"));
  EXPECT_FALSE(t.ok);
}

TEST(Docx, XmlThatIsNotAWordDocumentIsRejected) {
  DocxText t = extract_docx_text(make_docx_raw("<?xml version=\"1.0\"?><html><p>x</p></html>"));
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "word/document.xml is not a Word document");
}

TEST(Docx, ExternalEntityIsNotResolved) {
  char path[] = "/tmp/tilskudd_xxe_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string secret = "HEMMELIG-INNHOLD";
  ASSERT_EQ(::write(fd, secret.data(), secret.size()), static_cast<ssize_t>(secret.size()));
  ::close(fd);
  std::string xml = std::string(
                        "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY xxe "
                        "SYSTEM \"file://") +
                    path + "\">]><w:document " + kNs +
                    "><w:body><w:p><w:r><w:t>A&xxe;B</w:t></w:r></w:p></w:body></w:document>";
  DocxText t = extract_docx_text(make_docx_raw(xml));
  ::unlink(path);
  EXPECT_EQ(t.text.find(secret), std::string::npos) << t.text;
  EXPECT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text, "AB\n");
}

TEST(Docx, NetworkEntityIsNotFetched) {
  std::string xml = std::string(
                        "<?xml version=\"1.0\"?><!DOCTYPE w:document ["
                        "<!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">]><w:document ") +
                    kNs + "><w:body><w:p><w:r><w:t>x&net;y</w:t></w:r></w:p></w:body></w:document>";
  DocxText t = extract_docx_text(make_docx_raw(xml));
  EXPECT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.text, "xy\n");
}

TEST(Docx, NestedInternalEntitiesAreNotExpanded) {
  // A small "billion laughs": libxml2 refuses it or leaves it unexpanded; never the 'a's.
  std::string xml = std::string(
                        "<?xml version=\"1.0\"?><!DOCTYPE w:document ["
                        "<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><w:document ") +
                    kNs + "><w:body><w:p><w:r><w:t>x&c;y</w:t></w:r></w:p></w:body></w:document>";
  DocxText t = extract_docx_text(make_docx_raw(xml));
  EXPECT_EQ(t.text.find("aaa"), std::string::npos) << t.text;
  if (t.ok) {
    EXPECT_EQ(t.text, "xy\n");
  }
}

TEST(Docx, ZipBombIsStoppedAtTheLimit) {
  // 200 MB of '0' deflate to a few hundred KB.
  std::string bomb = make_zip_of_zeros("word/document.xml", 200u << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  DocxText t = extract_docx_text(bomb);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "word/document.xml too large");
}

// Sets the uncompressed size of every entry to `size` in local and central headers.
void lie_about_sizes(std::string& zip, std::uint32_t size) {
  auto put32 = [&](std::size_t at) {
    for (int i = 0; i < 4; ++i) zip[at + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  };
  for (std::size_t pos = 0; (pos = zip.find("PK\x03\x04", pos)) != std::string::npos; pos += 4) {
    if (pos + 26 <= zip.size()) put32(pos + 22);
  }
  for (std::size_t pos = 0; (pos = zip.find("PK\x01\x02", pos)) != std::string::npos; pos += 4) {
    if (pos + 28 <= zip.size()) put32(pos + 24);
  }
}

TEST(Docx, LyingUncompressedSizeDoesNotBypassTheLimit) {
  std::string bomb = make_zip_of_zeros("word/document.xml", 8u << 20);
  lie_about_sizes(bomb, 100);
  DocxText t = extract_docx_text(bomb, 1u << 20);
  EXPECT_FALSE(t.ok);
  EXPECT_TRUE(t.error == "word/document.xml too large" ||
              t.error == "word/document.xml is corrupt" ||
              t.error == "word/document.xml is not well-formed XML")
      << t.error;
}

TEST(Docx, DocumentJustUnderTheLimitIsRead) {
  std::string xml = document_xml({std::string(1000, 'a')});
  DocxText t = extract_docx_text(make_docx_raw(xml), xml.size());
  EXPECT_TRUE(t.ok) << t.error;
  t = extract_docx_text(make_docx_raw(xml), xml.size() - 1);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.error, "word/document.xml too large");
}

TEST(Docx, InvalidUtf8InTextIsRejectedOrSanitized) {
  DocxText t =
      extract_docx_text(make_docx_raw(doc("<w:p><w:r><w:t>bad \xff\xfe bytes</w:t></w:r></w:p>")));
  if (t.ok) {
    EXPECT_EQ(t.text.find('\xff'), std::string::npos);
  } else {
    EXPECT_FALSE(t.error.empty());
  }
}

TEST(Docx, CorruptedArchiveBytesNeverCrash) {
  std::string good = make_docx({"Tildelingsbrev", "kr 40 000"}, {{"Ola Hansen", "ABLU"}});
  for (std::size_t i = 0; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    DocxText t = extract_docx_text(bad);
    if (!t.ok) {
      EXPECT_FALSE(t.error.empty());
    }
  }
  for (std::size_t len = 0; len < good.size(); len += 53) {
    DocxText t = extract_docx_text(good.substr(0, len));
    EXPECT_FALSE(t.ok);
  }
}

}  // namespace
}  // namespace tilskudd
