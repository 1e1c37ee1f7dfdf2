// Inline forwards as the mail clients write them (parsers/forward.h), in plain text and in HTML
// after html_to_text; issue 15.
#include "parsers/forward.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/html.h"

namespace tilskudd::forward {
namespace {

const std::string kAbove = "Hei,\n\nSe brevet fra Statsforvalteren under.\n\nMvh\nKari\n\n";
const std::string kLetter =
    "Statsforvalteren i Oslo og Viken\n\nVår dato: 30.06.2020\n\nAvslag på søknad\n";

void expect_state_forward(const Inline& f, const std::string& text, const std::string& client,
                          const std::string& date_iso = "2020-06-30") {
  ASSERT_TRUE(f.found) << text;
  EXPECT_EQ(f.client, client);
  EXPECT_EQ(f.from_address, "sfovpost@statsforvalteren.no") << f.from;
  ASSERT_TRUE(f.date_value) << f.date;
  EXPECT_EQ(f.date_value->iso(), date_iso) << f.date;
  // Everything the applicant typed is above the marker.
  EXPECT_EQ(text.substr(0, f.marker).find("Fra:"), std::string::npos);
  EXPECT_NE(text.substr(0, f.marker).find("Mvh"), std::string::npos);
  EXPECT_NE(f.text.find("Avslag på søknad"), std::string::npos);
  EXPECT_EQ(f.text.find("Mvh\nKari"), std::string::npos);
}

TEST(InlineForward, OutlookNorwegianPlainText) {
  const std::string t = kAbove +
                        "________________________________\n"
                        "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                        "Sendt: tirsdag 30. juni 2020 11:04\n"
                        "Til: Kari Nordmann <kari@solsikken.no>\n"
                        "Emne: Avslag på søknad om tilretteleggingsmidler\n\n" +
                        kLetter;
  Inline f = find_inline(t);
  expect_state_forward(f, t, "outlook");
  EXPECT_EQ(t.substr(f.marker, 5), "_____");
  EXPECT_EQ(f.subject, "Avslag på søknad om tilretteleggingsmidler");
}

TEST(InlineForward, OutlookNorwegianHtmlHasNoRule) {
  const std::string html =
      "<html><body><div class=WordSection1><p class=MsoNormal>Hei,<o:p></o:p></p>"
      "<p class=MsoNormal>Se brevet fra Statsforvalteren under.</p><p class=MsoNormal>Mvh<br>"
      "Kari</p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
      "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
      "<p class=MsoNormal><b>Fra:</b> Berg, Anne Lise &lt;sfovpost@statsforvalteren.no&gt; "
      "<br><b>Sendt:</b> tirsdag 30. juni 2020 11:04<br><b>Til:</b> Kari Nordmann "
      "&lt;kari@solsikken.no&gt;<br><b>Kopi:</b> Per &lt;per@solsikken.no&gt;<br>"
      "<b>Emne:</b> Avslag p&aring; s&oslash;knad<o:p></o:p></p></div>"
      "<p class=MsoNormal>Statsforvalteren i Oslo og Viken</p><p class=MsoNormal>Avslag "
      "p&aring; s&oslash;knad</p></div></body></html>";
  const std::string t = html_to_text(html);
  Inline f = find_inline(t);
  expect_state_forward(f, t, "outlook");
  EXPECT_EQ(f.from, "Berg, Anne Lise <sfovpost@statsforvalteren.no>");
}

TEST(InlineForward, OutlookEnglishOldStyleMailto) {
  const std::string t = kAbove +
                        "-----Original Message-----\n"
                        "From: Statsforvalteren [mailto:SFOVpost@statsforvalteren.no]\n"
                        "Sent: Tuesday, June 30, 2020 11:04 AM\n"
                        "To: Kari Nordmann\n"
                        "Subject: Avslag\n\n" +
                        kLetter;
  expect_state_forward(find_inline(t), t, "outlook-original");
  const std::string modern = kAbove +
                             "From: Statsforvalteren <sfovpost@statsforvalteren.no>\n"
                             "Sent: Tuesday, June 30, 2020 11:04 AM\n"
                             "To: Kari Nordmann <kari@solsikken.no>\n"
                             "Subject: Avslag\n\n" +
                             kLetter;
  expect_state_forward(find_inline(modern), modern, "outlook");
}

TEST(InlineForward, GmailNorwegianAndEnglish) {
  const std::string nb = kAbove +
                         "---------- Videresendt melding ----------\n"
                         "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                         "Date: tir. 30. jun. 2020 kl. 11:04\n"
                         "Subject: Avslag\n"
                         "To: <kari@solsikken.no>\n\n\n" +
                         kLetter;
  expect_state_forward(find_inline(nb), nb, "gmail");
  const std::string en = kAbove +
                         "---------- Forwarded message ---------\n"
                         "From: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                         "Date: Tue, Jun 30, 2020 at 11:04 AM\n"
                         "Subject: Avslag\n"
                         "To: <kari@solsikken.no>\n\n" +
                         kLetter;
  expect_state_forward(find_inline(en), en, "gmail");
  const std::string html = html_to_text(
      "<div dir=\"ltr\"><div>Hei,</div><div>Mvh</div><div>Kari</div><br><div class=\"gmail_quote\">"
      "<div dir=\"ltr\" class=\"gmail_attr\">---------- Forwarded message ---------<br>From: "
      "<strong class=\"gmail_sendername\" dir=\"auto\">Statsforvalteren i Oslo og Viken</strong> "
      "<span dir=\"auto\">&lt;<a href=\"mailto:sfovpost@statsforvalteren.no\">"
      "sfovpost@statsforvalteren.no</a>&gt;</span><br>Date: Tue, Jun 30, 2020 at 11:04 AM<br>"
      "Subject: Avslag<br>To: &lt;<a href=\"mailto:kari@solsikken.no\">kari@solsikken.no</a>&gt;"
      "<br></div><br><br><div>Statsforvalteren i Oslo og Viken</div><div>Avslag på søknad</div>"
      "</div></div>");
  expect_state_forward(find_inline(html), html, "gmail");
}

TEST(InlineForward, AppleMailQuotedPlainTextAndHtml) {
  const std::string nb = kAbove +
                         "Begynnelse på videresendt e-post:\n\n"
                         "> Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                         "> Emne: Avslag\n"
                         "> Dato: 30. juni 2020 kl. 11:04:00 CEST\n"
                         "> Til: Kari Nordmann <kari@solsikken.no>\n"
                         "> \n"
                         "> Statsforvalteren i Oslo og Viken\n"
                         "> \n"
                         "> Avslag på søknad\n";
  Inline f = find_inline(nb);
  expect_state_forward(f, nb, "apple");
  EXPECT_NE(f.text.find("\nStatsforvalteren i Oslo og Viken\n"), std::string::npos);  // unquoted
  const std::string en = kAbove +
                         "Begin forwarded message:\n\n"
                         "From: Statsforvalteren <sfovpost@statsforvalteren.no>\n"
                         "Subject: Avslag\n"
                         "Date: June 30, 2020 at 11:04:00 GMT+2\n"
                         "To: Kari Nordmann <kari@solsikken.no>\n\n" +
                         kLetter;
  expect_state_forward(find_inline(en), en, "apple");
  const std::string html = html_to_text(
      "<html><body><div>Hei,</div><div>Mvh</div><div>Kari</div><div><br><blockquote "
      "type=\"cite\"><div>Begynnelse på videresendt e-post:</div><br><div style=\"margin:0\">"
      "<span><b>Fra: </b></span><span>Statsforvalteren &lt;sfovpost@statsforvalteren.no&gt;"
      "</span></div><div><span><b>Emne: </b></span><span><b>Avslag</b></span></div><div><span>"
      "<b>Dato: </b></span><span>30. juni 2020 kl. 11:04:00 CEST</span></div><div><span><b>Til: "
      "</b></span><span>Kari &lt;kari@solsikken.no&gt;</span></div><br><div>Statsforvalteren i "
      "Oslo og Viken</div><div>Avslag på søknad</div></blockquote></div></body></html>");
  expect_state_forward(find_inline(html), html, "apple");
}

TEST(InlineForward, ThunderbirdPlainTextAndHtmlTable) {
  const std::string nb = kAbove +
                         "-------- Videresendt melding --------\n"
                         "Emne: \tAvslag\n"
                         "Dato: \tTue, 30 Jun 2020 11:04:00 +0200\n"
                         "Fra: \tStatsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                         "Til: \tKari Nordmann <kari@solsikken.no>\n\n\n\n" +
                         kLetter;
  expect_state_forward(find_inline(nb), nb, "thunderbird");
  const std::string html = html_to_text(
      "<html><body><p>Hei,</p><p>Mvh<br>Kari</p><div class=\"moz-forward-container\"><br><br>"
      "-------- Forwarded Message --------<table class=\"moz-email-headers-table\" border=\"0\">"
      "<tbody><tr><th valign=\"BASELINE\" nowrap=\"nowrap\" align=\"RIGHT\">Subject: </th>"
      "<td>Avslag</td></tr><tr><th align=\"RIGHT\">Date: </th><td>Tue, 30 Jun 2020 11:04:00 "
      "+0200</td></tr><tr><th align=\"RIGHT\">From: </th><td>Statsforvalteren i Oslo og Viken "
      "<a class=\"moz-txt-link-rfc2396E\" href=\"mailto:sfovpost@statsforvalteren.no\">"
      "&lt;sfovpost@statsforvalteren.no&gt;</a></td></tr><tr><th align=\"RIGHT\">To: </th>"
      "<td>Kari &lt;kari@solsikken.no&gt;</td></tr></tbody></table><br><p>Statsforvalteren i "
      "Oslo og Viken</p><p>Avslag på søknad</p></div></body></html>");
  expect_state_forward(find_inline(html), html, "thunderbird");
}

// The spellings the issue lists that the tests above do not already write (issue 15).
TEST(InlineForward, RemainingClientSpellings) {
  const std::string outlook_en = kAbove +
                                 "________________________________\n"
                                 "From: Statsforvalteren i Oslo og Viken "
                                 "<sfovpost@statsforvalteren.no>\n"
                                 "Sent: Tuesday, June 30, 2020 11:04 AM\n"
                                 "To: Kari Nordmann <kari@solsikken.no>\n"
                                 "Subject: Avslag på søknad\n\n" +
                                 kLetter;
  expect_state_forward(find_inline(outlook_en), outlook_en, "outlook");
  const std::string apple_nb = kAbove +
                               "Start på videresendt melding:\n\n"
                               "Fra: Statsforvalteren <sfovpost@statsforvalteren.no>\n"
                               "Emne: Avslag\n"
                               "Dato: 30. juni 2020 kl. 11:04:00 CEST\n"
                               "Til: Kari Nordmann <kari@solsikken.no>\n\n" +
                               kLetter;
  expect_state_forward(find_inline(apple_nb), apple_nb, "apple");
  const std::string thunderbird_en = kAbove +
                                     "-------- Forwarded Message --------\n"
                                     "Subject: \tAvslag\n"
                                     "Date: \tTue, 30 Jun 2020 11:04:00 +0200\n"
                                     "From: \tStatsforvalteren <sfovpost@statsforvalteren.no>\n"
                                     "To: \tKari Nordmann <kari@solsikken.no>\n\n" +
                                     kLetter;
  expect_state_forward(find_inline(thunderbird_en), thunderbird_en, "thunderbird");
  const std::string gmail_nb_html = html_to_text(
      "<div dir=\"ltr\"><div>Hei,</div><div>Mvh</div><div>Kari</div><br><div "
      "class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">---------- Videresendt "
      "melding ---------<br>Fra: <strong class=\"gmail_sendername\">Statsforvalteren</strong> "
      "<span>&lt;<a href=\"mailto:sfovpost@statsforvalteren.no\">sfovpost@statsforvalteren.no"
      "</a>&gt;</span><br>Date: tir. 30. jun. 2020 kl. 11:04<br>Subject: Avslag<br>To: "
      "&lt;kari@solsikken.no&gt;<br></div><br><div>Statsforvalteren i Oslo og Viken</div><div>"
      "Avslag på søknad</div></div></div>");
  expect_state_forward(find_inline(gmail_nb_html), gmail_nb_html, "gmail");
  const std::string outlook_en_html = html_to_text(
      "<div class=WordSection1><p class=MsoNormal>Hei,</p><p class=MsoNormal>Mvh<br>Kari</p>"
      "<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>From:</b> "
      "Statsforvalteren &lt;sfovpost@statsforvalteren.no&gt;<br><b>Sent:</b> Tuesday, June 30, "
      "2020 11:04 AM<br><b>To:</b> Kari &lt;kari@solsikken.no&gt;<br><b>Subject:</b> Avslag</p>"
      "</div><p class=MsoNormal>Statsforvalteren i Oslo og Viken</p><p class=MsoNormal>Avslag "
      "p&aring; s&oslash;knad</p></div>");
  expect_state_forward(find_inline(outlook_en_html), outlook_en_html, "outlook");
}

TEST(InlineForward, MarkerWithoutHeaderHasNoSender) {
  const std::string t = kAbove + "---------- Videresendt melding ---------\n\n" + kLetter;
  Inline f = find_inline(t);
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.from_address, "");
  EXPECT_FALSE(f.date_value);
}

TEST(InlineForward, TwoAddressesInTheFromLineAreNoSender) {
  const std::string t = kAbove +
                        "---------- Forwarded message ---------\n"
                        "From: sfovpost@statsforvalteren.no, kari@solsikken.no\n"
                        "Date: Tue, 30 Jun 2020 11:04:00 +0200\n\n" +
                        kLetter;
  Inline f = find_inline(t);
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.from_address, "");
}

TEST(InlineForward, ProseAndFormLinesAreNoForward) {
  for (const std::string& t : {
           std::string("Brevet er videresendt melding: se vedlegg.\nFra: oss\n"),
           std::string("Barnehageeier: Solsikken AS\nE-post: kari@solsikken.no\n"),
           std::string("Fra: Kari\nHei, her er søknaden.\n"),
           std::string("________________________________\nSendt fra min iPhone\n"),
           std::string("Fra: Kari <kari@solsikken.no>\nTil: post@asker.kommune.no\n\nHei\n"),
       }) {
    EXPECT_FALSE(find_inline(t).found) << t;
  }
}

TEST(InlineForward, HostileInputIsBounded) {
  std::string t;
  for (int i = 0; i < 20000; ++i) t += "Fra: a@b.no\nSendt: x\n";
  EXPECT_FALSE(find_inline(t).found);  // no subject line: not a header block
  EXPECT_FALSE(find_inline(std::string(1 << 20, '-')).found);
  EXPECT_FALSE(find_inline(std::string(1 << 20, '>')).found);
}

TEST(HeaderDate, ClientsDateFormats) {
  for (const char* v : {"Tue, 30 Jun 2020 11:04:00 +0200", "tir. 30. jun. 2020 kl. 11:04",
                        "tirsdag 30. juni 2020 11:04", "30.06.2020 11:04",
                        "Tuesday, June 30, 2020 11:04 AM", "Tue, Jun 30, 2020 at 11:04 AM",
                        "30 June 2020 at 11:04:00 CEST", "June 30, 2020 at 11:04:00 GMT+2"}) {
    auto d = header_date(v);
    ASSERT_TRUE(d) << v;
    EXPECT_EQ(d->iso(), "2020-06-30") << v;
  }
  EXPECT_FALSE(header_date("i går"));
}

}  // namespace
}  // namespace tilskudd::forward
