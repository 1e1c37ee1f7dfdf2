// What a person sees is what was decided (issue 12, attack 6; DECISIONS.md "Hidden text" and
// "Alternatives"): text in the HTML that a mail program would not show is not read as form or
// letter and flags the case hidden_text; a text/plain and a text/html version of the body that
// give different forms flag it alternatives_disagree, and the HTML version is read. Each attack
// below was decided automatically, on the hidden text, before.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/support/support.h"
#include "workflow/assess.h"

namespace tilskudd {
namespace {

// The applicant of corpus mail 19 (Vilde Engen, BLU deltid, on the 2020 roster), the state's
// rejection attached as a text file: honest, that is approved 70 000 (cost, under the cap).
const std::string kLetter =
    "Statsforvalteren i Oslo og Viken\n"
    "\n"
    "Vår dato: 30.06.2020    Vår ref.: 2020/13140\n"
    "\n"
    "Vettre Gårdsbarnehage AS\n"
    "Vettreveien 101\n"
    "1392 VETTRE\n"
    "\n"
    "Avslag på søknad om tilretteleggingsmidler - Vilde Engen\n"
    "\n"
    "Vedtak\n"
    "Søknaden om tilretteleggingsmidler for Vilde Engen avslås.\n"
    "\n"
    "Med hilsen\n"
    "Anne Lise Berg\n";

std::string plain_form(const std::string& account, const std::string& cost) {
  return "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\n"
         "Saksnummer: 20/30298\n"
         "Barnehageeier: Vettre Gårdsbarnehage AS\n"
         "Organisasjonsnummer: 924 335 211\n"
         "Barnehage: Vettre gårdsbarnehage\n"
         "Kontaktperson: Ragnhild Bøe\n"
         "E-post: ragnhild.boe@vettregard.no\n"
         "Kontonummer: " +
         account +
         "\n\n"
         "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
         "Vilde Engen | BLU deltid | USN | " +
         cost + " | avslag\n\nMvh\nRagnhild Bøe\n";
}

// The same form as Outlook writes it in HTML; `cost_cell` is the cost cell's inner HTML and
// `table_attrs` the table's attributes.
std::string html_form(const std::string& account, const std::string& cost_cell,
                      const std::string& table_attrs = "border=\"1\"") {
  return "<p>Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
         "barnehageansatte</p>\n"
         "<p>Saksnummer: 20/30298</p>\n"
         "<p>Barnehageeier: Vettre Gårdsbarnehage AS</p>\n"
         "<p>Organisasjonsnummer: 924 335 211</p>\n"
         "<p>Barnehage: Vettre gårdsbarnehage</p>\n"
         "<p>Kontaktperson: Ragnhild Bøe</p>\n"
         "<p>E-post: ragnhild.boe@vettregard.no</p>\n"
         "<p>Kontonummer: " +
         account +
         "</p>\n"
         "<table " +
         table_attrs +
         ">\n"
         "<tr><td>Navn</td><td>Utdanning</td><td>Studiested</td><td>Kostnad</td>"
         "<td>Tilskudd fra Statsforvalteren</td></tr>\n"
         "<tr><td>Vilde Engen</td><td>BLU deltid</td><td>USN</td><td>" +
         cost_cell +
         "</td><td>avslag</td></tr>\n"
         "</table>\n"
         "<p>Mvh<br>Ragnhild Bøe</p>\n";
}

std::string page(const std::string& body, const std::string& head = "") {
  return "<html><head><meta charset=\"utf-8\">" + head + "</head><body>\n" + body +
         "</body></html>\n";
}

const std::string kAccount = "1207 18 39948";

std::string headers(const std::string& content_type) {
  return "From: =?UTF-8?Q?Ragnhild_B=C3=B8e?= <ragnhild.boe@vettregard.no>\r\n"
         "To: post@asker.kommune.no\r\n"
         "Subject: =?UTF-8?Q?S=C3=B8knad_tilretteleggingstilskudd_20/30298?=\r\n"
         "Date: Wed, 09 Sep 2020 12:00:41 +0200\r\n"
         "Message-ID: <hidden-1@vettregard.no>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: " +
         content_type + "\r\n";
}

std::string part(const std::string& content_type, const std::string& body,
                 const std::string& filename = "") {
  std::string p = "Content-Type: " + content_type + "; charset=\"UTF-8\"\r\n";
  if (!filename.empty()) p += "Content-Disposition: attachment; filename=\"" + filename + "\"\r\n";
  return p + "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n";
}

std::string letter_part() {
  return part("text/plain", kLetter, "vedtak-statsforvalteren.txt");
}

// multipart/mixed of the body (one part or an alternative) and the state's letter.
std::string mail(const std::string& body_part) {
  return headers("multipart/mixed; boundary=\"mix\"") + "\r\n--mix\r\n" + body_part + "--mix\r\n" +
         letter_part() + "--mix--\r\n";
}

std::string alternative(const std::string& plain, const std::string& html) {
  return "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n" +
         part("text/plain", plain) + "--alt\r\n" + part("text/html", html) + "--alt--\r\n";
}

class HiddenText : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
    opt_.today = Date{2020, 10, 1};
  }

  Assessment run(const std::string& raw) { return assess(raw, cfg_, opt_); }

  static const Flag* find(const Assessment& a, const std::string& code) {
    auto it =
        std::find_if(a.flags.begin(), a.flags.end(), [&](const Flag& f) { return f.code == code; });
    return it == a.flags.end() ? nullptr : &*it;
  }

  static std::vector<std::string> codes(const Assessment& a) {
    std::vector<std::string> out;
    for (const auto& f : a.flags) out.push_back(f.code);
    return out;
  }

  // Held for a person with `code`, whose reason names `how`.
  static void expect_held(const Assessment& a, const std::string& code, const std::string& how) {
    const Flag* f = find(a, code);
    ASSERT_NE(f, nullptr) << ::testing::PrintToString(codes(a));
    EXPECT_NE(f->reason.find(how), std::string::npos) << f->reason;
    EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
  }

  config::Config cfg_;
  AssessOptions opt_;
};

// The control: the honest HTML form with its letter is decided, nothing flagged.
TEST_F(HiddenText, HonestHtmlFormIsDecided) {
  Assessment a = run(mail(part("text/html", page(html_form(kAccount, "70 000")))));
  EXPECT_TRUE(a.flags.empty()) << ::testing::PrintToString(codes(a));
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
  EXPECT_EQ(a.decision.total, 70000);
}

// --- The attacks ----------------------------------------------------------------------------

TEST_F(HiddenText, FormHiddenWithDisplayNoneIsNotRead) {
  // A mail program shows a short note; the form is all in a display:none block.
  std::string html = page(
      "<p>Hei,</p><p>Vi ettersender søknaden.</p>\n"
      "<div style=\"display:none\">" +
      html_form(kAccount, "70 000") + "</div>");
  Assessment a = run(mail(part("text/html", html)));
  expect_held(a, "hidden_text", "display:none in the HTML body");
  EXPECT_FALSE(a.form.found);
  EXPECT_EQ(a.decision.total, 0);
  // The reason names how, never what was hidden.
  const Flag* f = find(a, "hidden_text");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason.find("Vilde"), std::string::npos);
}

TEST_F(HiddenText, WhiteOnePixelDigitDoesNotRaiseTheCost) {
  // A person reads 70 000; the white 1 px "1" made it 170 000, capped at 75 000.
  std::string cell = "<span style=\"color:#ffffff;font-size:1px\">1</span>70 000";
  Assessment a = run(mail(part("text/html", page(html_form(kAccount, cell)))));
  expect_held(a, "hidden_text", "font-size under 4px in the HTML body");
  ASSERT_EQ(a.form.lines.size(), 1u);
  EXPECT_EQ(a.form.lines[0].cost, 70000);
}

TEST_F(HiddenText, WhiteTextOnTheDefaultBackgroundIsNotRead) {
  std::string cell = "<font color=\"white\">1</font>70 000";
  Assessment a = run(mail(part("text/html", page(html_form(kAccount, cell)))));
  expect_held(a, "hidden_text", "text in the background colour");
  ASSERT_EQ(a.form.lines.size(), 1u);
  EXPECT_EQ(a.form.lines[0].cost, 70000);
}

TEST_F(HiddenText, TextInTheColourOfAnAncestorsBackgroundIsNotRead) {
  std::string cell = "<span style=\"color:rgb(240, 240, 240)\">1</span>70 000";
  Assessment a = run(
      mail(part("text/html", page(html_form(kAccount, cell, "border=\"1\" bgcolor=\"#F0F0F0\"")))));
  expect_held(a, "hidden_text", "text in the background colour");
  ASSERT_EQ(a.form.lines.size(), 1u);
  EXPECT_EQ(a.form.lines[0].cost, 70000);
}

TEST_F(HiddenText, AStyleSheetClassThatHidesIsApplied) {
  std::string cell = "<span class=\"x\">1</span>70 000";
  Assessment a = run(mail(part("text/html", page(html_form(kAccount, cell),
                                                 "<style>span.x { visibility: hidden }</style>"))));
  expect_held(a, "hidden_text", "visibility:hidden in the HTML body");
  ASSERT_EQ(a.form.lines.size(), 1u);
  EXPECT_EQ(a.form.lines[0].cost, 70000);
}

TEST_F(HiddenText, HiddenTextInAnHtmlAttachmentIsNotRead) {
  // The body is a greeting; the form is an HTML attachment with a second, hidden account number
  // line before the visible one.
  std::string form = html_form(kAccount, "70 000");
  form.insert(0, "<p style=\"mso-hide:all;font-size:0\">Kontonummer: 1503 56 78902</p>");
  std::string raw = headers("multipart/mixed; boundary=\"mix\"") + "\r\n--mix\r\n" +
                    part("text/plain", "Hei,\nsøknaden er vedlagt.\n\nMvh\nRagnhild Bøe\n") +
                    "--mix\r\n" + part("text/html", page(form), "soknad.html") + "--mix\r\n" +
                    letter_part() + "--mix--\r\n";
  Assessment a = run(raw);
  expect_held(a, "hidden_text", "mso-hide:all in the HTML attachment 'soknad.html'");
  EXPECT_EQ(a.form_source, "soknad.html");
  EXPECT_EQ(a.form.account_number, "12071839948");
}

TEST_F(HiddenText, PlainPartThatDisagreesWithTheHtmlIsHeldAndTheHtmlIsRead) {
  // A mail program shows the HTML (account 1207 18 39948, cost 70 000); the text/plain part,
  // which was read, had another account and 170 000.
  std::string raw = mail(
      alternative(plain_form("1503 56 78902", "170 000"), page(html_form(kAccount, "70 000"))));
  Assessment a = run(raw);
  expect_held(a, "alternatives_disagree", "account number, lines");
  EXPECT_EQ(a.form.account_number, "12071839948");
  ASSERT_EQ(a.form.lines.size(), 1u);
  EXPECT_EQ(a.form.lines[0].cost, 70000);
  EXPECT_EQ(find(a, "hidden_text"), nullptr);
}

TEST_F(HiddenText, AFormOnlyInThePlainPartIsHeld) {
  // The HTML a person sees has no form at all.
  std::string raw = mail(alternative(plain_form(kAccount, "70 000"),
                                     page("<p>Hei, vi trekker søknaden vår.</p><p>Mvh</p>")));
  Assessment a = run(raw);
  expect_held(a, "alternatives_disagree", "(form)");
}

// --- What does not flag ---------------------------------------------------------------------

TEST_F(HiddenText, AgreeingAlternativesAreDecidedAsBefore) {
  std::string raw =
      mail(alternative(plain_form(kAccount, "70 000"), page(html_form(kAccount, "70&nbsp;000"))));
  Assessment a = run(raw);
  EXPECT_TRUE(a.flags.empty()) << ::testing::PrintToString(codes(a));
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
  EXPECT_EQ(a.decision.total, 70000);
}

TEST_F(HiddenText, PreheaderPaddingAndTrackingPixelsDoNotFlag) {
  std::string html = page(
      "<div style=\"display:none;max-height:0;overflow:hidden\">&nbsp;&zwnj;&#847; &nbsp;"
      "&zwnj;&#847; -</div>\n"
      "<img src=\"https://t.example/p.gif\" width=\"1\" height=\"1\" style=\"display:none\">\n"
      "<span style=\"font-size:1.0pt\">&nbsp;</span>" +
      html_form(kAccount, "70 000"));
  Assessment a = run(mail(part("text/html", html)));
  EXPECT_TRUE(a.flags.empty()) << ::testing::PrintToString(codes(a));
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
}

}  // namespace
}  // namespace tilskudd
