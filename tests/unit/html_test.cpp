#include "parsers/html.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/text.h"

using tilskudd::html_to_text;

TEST(HtmlToText, BlocksAndBreaksBecomeLines) {
  EXPECT_EQ(html_to_text("<p>Hei,</p><div>Saksnummer: 20/30298<br>Org.nr: 987 654 325</div>"
                         "<ul><li>en</li><li>to</li></ul><h2>Tittel</h2>slutt"),
            "Hei,\nSaksnummer: 20/30298\nOrg.nr: 987 654 325\nen\nto\nTittel\nslutt");
}

TEST(HtmlToText, TableRowsWithCellsJoinedByBar) {
  EXPECT_EQ(html_to_text("<table><tr><th>Navn</th><th>Utdanning</th><th>Kostnad</th></tr>"
                         "<tr><td><p>Ola\n  Hansen</p></td><td>ABLU</td><td>95 000</td></tr>"
                         "<tr><td>Per Olsen</td><td>BLU deltid</td><td></td></tr></table>"),
            "Navn | Utdanning | Kostnad\nOla Hansen | ABLU | 95 000\nPer Olsen | BLU deltid |");
}

TEST(HtmlToText, NamedAndNumericEntities) {
  EXPECT_EQ(html_to_text("<p>&aring;&oslash;&aelig; &AElig;&Oslash;&Aring; &amp; &lt;x&gt; "
                         "&quot;q&quot; &#248; &#xE6; a&nbsp;b</p>"),
            "åøæ ÆØÅ & <x> \"q\" ø æ a b");
}

TEST(HtmlToText, ScriptStyleAndHeadAreDropped) {
  EXPECT_EQ(html_to_text("<html><head><title>Tittel</title><style>p{x:1}</style></head>"
                         "<body><script>alert(1)</script><p>Tekst</p></body></html>"),
            "Tekst");
}

TEST(HtmlToText, WhitespaceCollapsedWithinLines) {
  EXPECT_EQ(html_to_text("  Søknad \n\n  om\t tilskudd  <p>  ny   linje </p>"),
            "Søknad om tilskudd\nny linje");
}

TEST(HtmlToText, OutlookHtmlComesOutClean) {
  const char* html =
      R"HTML(<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<!--[if !mso]><style>v\:* {behavior:url(#default#VML);}</style><![endif]-->
<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head>
<body lang="NO-BOK" link="#0563C1" vlink="#954F72">
<div class="WordSection1">
<p class="MsoNormal">Hei,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Her er s&oslash;knaden v&aring;r.<o:p></o:p></p>
<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0">
<tr><td width="200" valign="top"><p class="MsoNormal">Navn<o:p></o:p></p></td>
<td width="200" valign="top"><p class="MsoNormal">Kostnad<o:p></o:p></p></td></tr>
<tr><td><p class="MsoNormal">Ola Hansen<o:p></o:p></p></td>
<td><p class="MsoNormal">95&nbsp;000<o:p></o:p></p></td></tr>
</table>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Med vennlig hilsen<o:p></o:p></p>
<p class="MsoNormal"><b>Kari Nordmann</b><o:p></o:p></p>
</div>
</body>
</html>)HTML";
  EXPECT_EQ(html_to_text(html),
            "Hei,\n\nHer er søknaden vår.\nNavn | Kostnad\nOla Hansen | 95 000\n\n"
            "Med vennlig hilsen\nKari Nordmann");
}

TEST(HtmlToText, LayoutTableWithNestedTableKeepsLines) {
  EXPECT_EQ(html_to_text("<table><tr><td><p>Linje 1</p><p>Linje 2</p>"
                         "<table><tr><td>a</td><td>b</td></tr></table></td></tr></table>"),
            "Linje 1\nLinje 2\na | b");
}

TEST(HtmlToText, PreKeepsLineBreaks) {
  EXPECT_EQ(html_to_text("<pre>Navn | Kostnad\nOla | 1</pre>"), "Navn | Kostnad\nOla | 1");
}

TEST(HtmlToText, MetaCharsetDoesNotReinterpretUtf8Input) {
  EXPECT_EQ(html_to_text("<html><head><meta charset=\"iso-8859-1\"></head><body>Bærum</body>"),
            "Bærum");
}

TEST(HtmlToText, MalformedMarkupIsTolerated) {
  std::string out = html_to_text("<p>Hei <b>der<p>ny<td>celle</table></div>&bogus; &#99999999;");
  EXPECT_EQ(out.rfind("Hei der\nny\ncelle", 0), 0u) << out;
  EXPECT_NE(out.find("&bogus;"), std::string::npos);  // unknown entities stay as written
  EXPECT_TRUE(tilskudd::text::is_valid_utf8(out));
}

TEST(HtmlToText, HostileInputNeverCrashes) {
  EXPECT_EQ(html_to_text(""), "");
  EXPECT_EQ(html_to_text("   "), "");
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<div>";
  deep += "inne";
  EXPECT_NO_THROW(html_to_text(deep));
  std::string cells = "<table><tr>";
  for (int i = 0; i < 50000; ++i) cells += "<td>x";
  EXPECT_NO_THROW(html_to_text(cells));
  std::string nul("a\0b\xFF<p>c", 8);
  std::string out = html_to_text(nul);
  EXPECT_TRUE(tilskudd::text::is_valid_utf8(out));
  EXPECT_EQ(out.find('\0'), std::string::npos);
  EXPECT_NO_THROW(html_to_text("<!--"));
  EXPECT_NO_THROW(html_to_text("<![CDATA[x"));
  EXPECT_NO_THROW(html_to_text(std::string(1 << 20, '<')));
}
