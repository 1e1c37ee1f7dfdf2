#include "parsers/html.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// --- What a mail program would not show (DECISIONS.md "Hidden text") --------------------------

using tilskudd::html_to_visible_text;
using tilskudd::HtmlText;

namespace {

// The visible text of `html`, and that it named exactly `how` as the ways text was hidden.
void expect_hidden(const std::string& html, const std::string& visible,
                   const std::vector<std::string>& how) {
  HtmlText t = html_to_visible_text(html);
  EXPECT_EQ(t.text, visible) << html;
  EXPECT_EQ(t.hidden, how) << html;
}

}  // namespace

TEST(HtmlHidden, DisplayNoneIsNotRead) {
  expect_hidden("<p>Hei</p><div style=\"display:none\">Kontonummer: 1503 56 78902</div>", "Hei",
                {"display:none"});
  // Nothing under it comes back, whatever it says.
  expect_hidden("<div style='DISPLAY: NONE'><p style='display:block'>a</p></div>b", "b",
                {"display:none"});
}

TEST(HtmlHidden, VisibilityHiddenCanBeUndoneByAChild) {
  expect_hidden(
      "<div style=\"visibility:hidden\">skjult <span style=\"visibility:visible\">"
      "synlig</span></div>",
      "synlig", {"visibility:hidden"});
}

TEST(HtmlHidden, TheHiddenAttributeAndMsoHideAll) {
  expect_hidden("<p hidden>a</p><p>b</p>", "b", {"the hidden attribute"});
  // Author CSS overrides the attribute, as in a browser.
  expect_hidden("<p hidden style=\"display:block\">a</p>", "a", {});
  expect_hidden("<span style=\"mso-hide:all\">a</span>b", "b", {"mso-hide:all"});
}

TEST(HtmlHidden, TinyFontSizes) {
  expect_hidden("<span style=\"font-size:0\">1</span>70 000", "70 000", {"font-size under 4px"});
  expect_hidden("<span style=\"font-size:1px\">1</span>2", "2", {"font-size under 4px"});
  expect_hidden("<span style=\"font-size:2.5pt\">1</span>2", "2", {"font-size under 4px"});
  expect_hidden("<span style=\"font:0/0 a\">1</span>2", "2", {"font-size under 4px"});
  expect_hidden("<div style=\"font-size:2px\"><span style=\"font-size:150%\">1</span></div>2", "2",
                {"font-size under 4px"});
  // 3 pt (4 px) is small but drawn; a child can be large again; <font size> stops at 10 px.
  expect_hidden("<span style=\"font-size:3pt\">a</span>", "a", {});
  expect_hidden("<div style=\"font-size:1px\"><span style=\"font-size:12px\">a</span></div>", "a",
                {});
  expect_hidden("<font size=\"1\">a</font><font size=\"0\">b</font><font size=\"-7\">c</font>",
                "abc", {});
  // A bare number in the font shorthand is a weight, not a size.
  expect_hidden("<span style=\"font: 700 12px Arial\">a</span>", "a", {});
}

TEST(HtmlHidden, OpacityAndTransparentText) {
  expect_hidden("<span style=\"opacity:0\">a</span>b", "b", {"opacity:0"});
  expect_hidden("<div style=\"opacity:0.3\"><span style=\"opacity:.2\">a</span></div>b", "b",
                {"opacity:0"});
  expect_hidden("<span style=\"opacity:0.5\">a</span>", "a", {});
  expect_hidden("<span style=\"color:rgba(0,0,0,0)\">a</span>b", "b", {"transparent text"});
  expect_hidden("<span style=\"color:transparent\">a</span>b", "b", {"transparent text"});
  expect_hidden("<span style=\"color:#00000000\">a</span>b", "b", {"transparent text"});
}

TEST(HtmlHidden, TextInTheBackgroundColour) {
  const std::vector<std::string> bg = {"text in the background colour"};
  expect_hidden("<span style=\"color:#fff\">a</span>b", "b", bg);
  expect_hidden("<span style=\"color:white\">a</span>b", "b", bg);
  expect_hidden("<font color=\"#FFFFFF\">a</font>b", "b", bg);
  expect_hidden("<span style=\"color:#fdfdfd\">a</span>b", "b", bg);  // near enough
  expect_hidden("<span style=\"color:hsl(0, 0%, 100%)\">a</span>b", "b", bg);
  expect_hidden("<body text=\"white\">a</body>", "", bg);
  expect_hidden(
      "<div style=\"background:#123456 url(x.png)\"><span style=\"color:#123456\">a"
      "</span>b</div>",
      "b", bg);
  expect_hidden(
      "<table bgcolor=\"#336699\"><tr><td><font color=\"#336699\">a</font>b</td></tr>"
      "</table>",
      "b", bg);
  // Apple Mail draws -webkit-text-fill-color over color.
  expect_hidden("<span style=\"color:black;-webkit-text-fill-color:white\">a</span>b", "b", bg);
  // White on a dark background, black on the page, a transparent background over white: seen.
  expect_hidden("<td bgcolor=\"#003366\"><font color=\"#fff\">a</font></td>", "a", {});
  expect_hidden("<div style=\"background-color:navy\"><p style=\"color:white\">a</p></div>", "a",
                {});
  expect_hidden(
      "<div style=\"background-color:black\"><div style=\"background:transparent\">"
      "<span style=\"color:white\">a</span></div></div>",
      "a", {});
  expect_hidden("<span style=\"color:windowtext\">a</span>", "a", {});
  expect_hidden("<div style=\"background:black\"><span style=\"color:black\">a</span></div>b", "b",
                bg);
}

TEST(HtmlHidden, ZeroSizeBoxesAndTextOffScreen) {
  expect_hidden("<div style=\"max-height:0;overflow:hidden\">a</div>b", "b",
                {"a zero-size box with overflow:hidden"});
  expect_hidden("<div style=\"width:0px;overflow:hidden\">a</div>b", "b",
                {"a zero-size box with overflow:hidden"});
  expect_hidden("<div style=\"height:0\">a</div>", "a", {});  // it overflows, visibly
  expect_hidden("<p style=\"text-indent:-9999px\">a</p>b", "b", {"text moved off-screen"});
  expect_hidden("<p style=\"position:absolute;left:-5000px\">a</p>b", "b",
                {"text moved off-screen"});
  expect_hidden("<p style=\"left:-5000px\">a</p>", "a", {});  // not positioned: no effect
}

TEST(HtmlHidden, StyleSheetRules) {
  expect_hidden("<style>.x{display:none}</style><p class=\"y x\">a</p><p class=\"y\">b</p>", "b",
                {"display:none"});
  expect_hidden("<style>p#z { font-size: 0 }</style><p id=\"z\">a</p><p>b</p>", "b",
                {"font-size under 4px"});
  expect_hidden("<style>span{color:#fff}</style><span>a</span>b", "b",
                {"text in the background colour"});
  // Inside @media, in a <style> in the body, behind CSS escapes, in an HTML comment.
  expect_hidden("<style>@media screen { .x { display: none } }</style><p class=x>a</p>b", "b",
                {"display:none"});
  expect_hidden("<p class=x>a</p>b<style><!-- .x{d\\69 splay:n\\one} --></style>", "b",
                {"display:none"});
  // The cascade: inline beats the sheet, !important in the sheet beats inline, an id beats a
  // class, a later rule beats an earlier one of the same weight.
  expect_hidden("<style>.x{display:none}</style><p class=x style=\"display:block\">a</p>", "a", {});
  expect_hidden(
      "<style>.x{display:none !important}</style><p class=x style=\"display:block\">a"
      "</p>b",
      "b", {"display:none"});
  expect_hidden("<style>#i{color:black} .x{color:white}</style><p id=i class=x>a</p>", "a", {});
  expect_hidden("<style>.x{color:white} .x{color:black}</style><p class=x>a</p>", "a", {});
  // The subject decides: combinators are not evaluated (over-approximation).
  expect_hidden("<style>div .x{display:none}</style><p class=x>a</p>b", "b", {"display:none"});
  // Hover rules are not what a reader sees; @font-face and @page are skipped.
  expect_hidden(
      "<style>a:hover{display:none} @page{size:a4} @font-face{font-family:x}</style>"
      "<a href=\"#\">a</a>",
      "a", {});
  // A rule we cannot match that would hide: reported; the text is still read.
  expect_hidden("<style>p[class=x]{display:none}</style><p class=x>a</p>", "a",
                {"a <style> rule that may hide text"});
}

TEST(HtmlHidden, OutlookConditionalComments) {
  expect_hidden("<!--[if mso]><p>Kontonummer: 1503 56 78902</p><![endif]-->b", "b",
                {"text only Outlook shows (a conditional comment)"});
  expect_hidden("<!--[if !mso]><!--><p>a</p><!--<![endif]-->b", "a\nb",
                {"text Outlook does not show"});
  // What Outlook itself writes carries no text.
  expect_hidden(
      "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96"
      "</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->b",
      "b", {});
  expect_hidden(
      "<!--[if mso]><table><tr><td><![endif]-->b<!--[if mso]></td></tr></table>"
      "<![endif]-->",
      "b", {});
}

TEST(HtmlHidden, OnlyLettersAndDigitsCount) {
  // White space, non-breaking spaces, preheader padding and punctuation hidden: nothing to say.
  expect_hidden("<div style=\"display:none\">&nbsp;&zwnj;&#847;&#8203;&shy; . - |</div>b", "b", {});
  expect_hidden("<img src=\"p.gif\" style=\"display:none\" width=1 height=1>b", "b", {});
  expect_hidden("<span style=\"display:none\">Ø</span>b", "b", {"display:none"});
}

TEST(HtmlHidden, HiddenCellsAreNoColumnAndHiddenRowsNoLine) {
  expect_hidden(
      "<table><tr><td>Ola</td><td style=\"display:none\">999</td><td>70 000</td></tr>"
      "<tr style=\"display:none\"><td>Per</td><td>1</td></tr>"
      "<tr><td>Kari</td><td style=\"visibility:hidden\">5</td><td>10</td></tr></table>",
      "Ola | 70 000\nKari | | 10", {"display:none", "visibility:hidden"});
}

TEST(HtmlHidden, UnseenTextThatTakesRoomSeparatesWords) {
  expect_hidden("Ola<span style=\"color:white\">X</span>Hansen", "Ola Hansen",
                {"text in the background colour"});
  expect_hidden("95<span style=\"display:none\">1</span>000", "95000", {"display:none"});
}

TEST(HtmlHidden, EachWayIsNamedOnce) {
  HtmlText t = html_to_visible_text(
      "<p style=\"display:none\">a</p><p style=\"display:none\">b</p><p style=\"font-size:0\">c"
      "</p>");
  EXPECT_EQ(t.hidden, (std::vector<std::string>{"display:none", "font-size under 4px"}));
}

TEST(HtmlHidden, OutlookHtmlHasNothingHidden) {
  const char* html =
      R"HTML(<html><head><style><!--
@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}
span.EpostStil17 {mso-style-type:personal-compose; font-family:"Calibri",sans-serif; color:windowtext;}
.MsoChpDefault {mso-style-type:export-only; font-family:"Calibri",sans-serif;}
@page WordSection1 {size:612.0pt 792.0pt; margin:70.85pt 70.85pt 70.85pt 70.85pt;}
div.WordSection1 {page:WordSection1;}
--></style><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head><body lang="NO-BOK" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1"><p class="MsoNormal">Hei,<o:p></o:p></p>
<p class="MsoNormal"><span style="font-size:1.0pt;color:white">&nbsp;<o:p></o:p></span></p>
<p class="MsoNormal"><span style="color:#1F497D">Med vennlig hilsen</span></p></div>
</body></html>)HTML";
  // The paragraph of white 1 pt space is not even an empty line.
  expect_hidden(html, "Hei,\nMed vennlig hilsen", {});
}

TEST(HtmlHidden, HostileStyleIsBounded) {
  // Many rules, many classes, a huge style sheet, deep nesting of hidden boxes: no crash, and
  // the limits hold.
  std::string sheet = "<style>";
  for (int i = 0; i < 20000; ++i) sheet += ".c" + std::to_string(i) + "{color:red}";
  sheet += "</style><p class=\"";
  for (int i = 0; i < 1000; ++i) sheet += "c" + std::to_string(i) + " ";
  sheet += "\">a</p>";
  EXPECT_EQ(html_to_visible_text(sheet).text, "a");
  std::string unclosed = "<style>" + std::string(1 << 20, '{') + "</style>b";
  EXPECT_EQ(html_to_visible_text(unclosed).text, "b");
  std::string deep;
  for (int i = 0; i < 50000; ++i) deep += "<div style=\"opacity:0.99;font-size:99%\">";
  deep += "x";
  EXPECT_NO_THROW(html_to_visible_text(deep));
  std::string escapes = "<p style=\"" + std::string(100000, '\\') + "\">a</p>";
  EXPECT_EQ(html_to_visible_text(escapes).text, "a");
  std::string comments;
  for (int i = 0; i < 10000; ++i) comments += "<!--[if mso]><!--[if mso]>x<![endif]-->";
  EXPECT_NO_THROW(html_to_visible_text(comments));
}
