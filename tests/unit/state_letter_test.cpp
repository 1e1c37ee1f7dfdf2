// What counts as the state's letter (DECISIONS.md "What counts as the state's letter"): a letter
// settles a line only when it names Statsforvalteren/Fylkesmannen as its sender, has a date not
// after the message and not older than [evidence] max_letter_age_days, names the applicant, and
// came as an attachment or forwarded from a state domain. Issue 12, attack 4: each of the
// attack messages below was decided automatically before these checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "tests/support/pdf_writer.h"
#include "tests/support/support.h"
#include "workflow/assess.h"
#include "workflow/evidence.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

// The applicant of corpus mail 19: on the 2020 roster (Vilde Engen, BLU deltid, 924335211).
std::string form_text(const std::string& state_cell) {
  return "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\n"
         "Saksnummer: 20/30298\n"
         "Barnehageeier: Vettre Gårdsbarnehage AS\n"
         "Organisasjonsnummer: 924 335 211\n"
         "Barnehage: Vettre gårdsbarnehage\n"
         "Kontaktperson: Ragnhild Bøe\n"
         "E-post: ragnhild.boe@vettregard.no\n"
         "Kontonummer: 1207 18 39948\n"
         "\n"
         "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
         "Vilde Engen | BLU deltid | USN | 70 000 | " +
         state_cell + "\n\nMvh\nRagnhild Bøe\n";
}

std::string headers(const std::string& content_type) {
  return "From: =?UTF-8?Q?Ragnhild_B=C3=B8e?= <ragnhild.boe@vettregard.no>\r\n"
         "To: post@asker.kommune.no\r\n"
         "Subject: =?UTF-8?Q?S=C3=B8knad_tilretteleggingstilskudd_20/30298?=\r\n"
         "Date: Wed, 09 Sep 2020 12:00:41 +0200\r\n"
         "Message-ID: <attack-1@vettregard.no>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: " +
         content_type + "\r\n";
}

std::string plain_message(const std::string& body) {
  return headers("text/plain; charset=\"UTF-8\"") + "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         body;
}

std::string message_with_pdf(const std::string& body, const std::string& pdf,
                             const std::string& filename) {
  return headers("multipart/mixed; boundary=\"b1\"") +
         "\r\n--b1\r\n"
         "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         body +
         "\r\n--b1\r\n"
         "Content-Type: application/pdf; name=\"" +
         filename +
         "\"\r\n"
         "Content-Disposition: attachment; filename=\"" +
         filename +
         "\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         testing::base64_lines(pdf) + "--b1--\r\n";
}

// The state's rejection as the corpus writes it (mail 19), without a forward header.
const std::string kRejectionText =
    "Statsforvalteren i Oslo og Viken\n"
    "\n"
    "Vår dato: 30.06.2020    Vår ref.: 2020/13140\n"
    "Deres dato: 12.03.2020    Deres ref.: VG-14\n"
    "\n"
    "Vettre Gårdsbarnehage AS\n"
    "Vettreveien 101\n"
    "1392 VETTRE\n"
    "\n"
    "Avslag på søknad om tilretteleggingsmidler - Vilde Engen\n"
    "\n"
    "Vi viser til deres søknad datert 12.03.2020 om tilretteleggingsmidler.\n"
    "\n"
    "Vedtak\n"
    "Søknaden om tilretteleggingsmidler for Vilde Engen avslås.\n"
    "\n"
    "Med hilsen\n"
    "\n"
    "Anne Lise Berg\n";

class StateLetter : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
    opt_.today = Date{2020, 10, 1};
    PdfLimits limits = cfg_.limits.pdf;
    opt_.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };
  }

  Assessment run(const std::string& raw) { return assess(raw, cfg_, opt_); }

  static const Flag* find(const std::vector<Flag>& flags, const std::string& code) {
    auto it =
        std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return f.code == code; });
    return it == flags.end() ? nullptr : &*it;
  }

  // The one line is held for a person with letter_unverified, and the case-level flag names
  // every check in `checks`.
  static void expect_unverified(const Assessment& a, const std::vector<std::string>& checks) {
    ASSERT_EQ(a.decision.lines.size(), 1u);
    EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::flagged);
    EXPECT_NE(find(a.decision.lines[0].flags, "letter_unverified"), nullptr);
    EXPECT_EQ(a.decision.status, rules::CaseStatus::flagged);
    const Flag* f = find(a.flags, "letter_unverified");
    ASSERT_NE(f, nullptr);
    for (const auto& c : checks) EXPECT_NE(f->reason.find(c), std::string::npos) << f->reason;
    ASSERT_FALSE(a.letters.empty());
    EXPECT_FALSE(a.letters.back().verified());
    EXPECT_EQ(to_json(a)["letters"].back()["verified"], false);
  }

  config::Config cfg_;
  AssessOptions opt_;
};

// --- The attacks ----------------------------------------------------------------------------

TEST_F(StateLetter, TypedBodyLetterAfterVideresendtMeldingSettlesNothing) {
  // No original sender at all: the applicant typed the "letter" below the marker.
  Assessment a = run(plain_message(
      form_text("avslag") + "\n---------- Videresendt melding ---------\n\n" + kRejectionText));
  expect_unverified(a, {"not a message forwarded from a state address"});
}

TEST_F(StateLetter, TypedBodyLetterForwardedFromTheApplicantSettlesNothing) {
  Assessment a = run(plain_message(
      form_text("avslag") +
      "\n---------- Videresendt melding ---------\n"
      "Fra: Ragnhild Bøe <ragnhild.boe@vettregard.no>\nDate: tir. 30. jun. 2020 kl. 11:04\n"
      "Subject: Avslag\n\n" +
      kRejectionText));
  expect_unverified(a, {"forwarded from ragnhild.boe@vettregard.no"});
}

TEST_F(StateLetter, InlineForwardFromAStateSubdomainCounts) {
  Assessment a = run(
      plain_message(form_text("avslag") +
                    "\n---------- Videresendt melding ---------\n"
                    "Fra: Statsforvalteren i Oslo og Viken <sfovpost@post.statsforvalteren.no>\n"
                    "Date: tir. 30. jun. 2020 kl. 11:04\nSubject: Avslag\n\n" +
                    kRejectionText));
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(a.decision.lines[0].amount, 70000);
  EXPECT_EQ(find(a.flags, "letter_unverified"), nullptr);
  ASSERT_EQ(a.letters.size(), 1u);
  EXPECT_TRUE(a.letters[0].verified());
}

TEST_F(StateLetter, AnInlineForwardWithoutADateInItsTextHasItsHeadersDate) {
  std::string text = kRejectionText;
  text.erase(text.find("Vår dato: 30.06.2020    "), 24);
  text.erase(text.find("Deres dato: 12.03.2020    "), 26);
  text.replace(text.find("datert 12.03.2020 "), 18, "");
  Assessment a =
      run(plain_message(form_text("avslag") +
                        "\n---------- Forwarded message ---------\n"
                        "From: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                        "Date: Tue, 30 Jun 2020 11:04:00 +0200\nSubject: Avslag\n\n" +
                        text));
  ASSERT_EQ(a.letters.size(), 1u);
  ASSERT_TRUE(a.letters[0].date);
  EXPECT_EQ(a.letters[0].date->iso(), "2020-06-30");
  EXPECT_TRUE(a.letters[0].verified()) << a.letters[0].failed_checks.front();
}

// Issue 15: Outlook (nb) forwards with a rule line and Fra:/Sendt:/Til:/Emne:, in HTML without
// the rule; the state's letter in it is read, and what the applicant typed above is not.
TEST_F(StateLetter, OutlookNorwegianInlineForwardIsRead) {
  Assessment a =
      run(plain_message(form_text("avslag") +
                        "\n________________________________\n"
                        "Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>\n"
                        "Sendt: tirsdag 30. juni 2020 11:04\n"
                        "Til: Ragnhild Bøe <ragnhild.boe@vettregard.no>\n"
                        "Emne: Avslag på søknad om tilretteleggingsmidler - Vilde Engen\n\n" +
                        kRejectionText));
  ASSERT_EQ(a.letters.size(), 1u);
  EXPECT_TRUE(a.letters[0].verified()) << a.letters[0].failed_checks.front();
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(a.decision.lines[0].amount, 70000);
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided);
}

TEST_F(StateLetter, OutlookForwardFromTheApplicantsOwnAddressSettlesNothing) {
  Assessment a = run(plain_message(form_text("avslag") +
                                   "\nFra: Ragnhild Bøe <ragnhild.boe@vettregard.no>\n"
                                   "Sendt: tirsdag 30. juni 2020 11:04\n"
                                   "Til: post@asker.kommune.no\n"
                                   "Emne: Avslag\n\n" +
                                   kRejectionText));
  expect_unverified(a, {"forwarded from ragnhild.boe@vettregard.no"});
}

TEST_F(StateLetter, PdfGrantLetterWithoutSenderOrDateSettlesNothing) {
  std::string pdf = testing::make_pdf(
      {"Tildelingsbrev - tilretteleggingsmidler\n\nVettre Gårdsbarnehage AS tildeles kr 40 000 i "
       "tilretteleggingsmidler\nfor Vilde Engen.\n"});
  Assessment a = run(message_with_pdf(form_text("innvilget 40 000"), pdf, "tildelingsbrev.pdf"));
  expect_unverified(a, {"does not name Statsforvalteren or Fylkesmannen", "no date"});
}

TEST_F(StateLetter, OldLetterFromAnotherCountyToAnotherOwnerSettlesNothing) {
  std::string pdf = testing::make_pdf(
      {"Fylkesmannen i Hordaland\n\nVår dato: 12.05.2016    Vår ref.: 2016/4411\n\n"
       "Bergen Barnehagedrift AS\nPostboks 7\n5020 Bergen\n\n"
       "Tildeling av tilretteleggingsmidler 2016\n\n"
       "Fylkesmannen tildeler Bergen Barnehagedrift AS kr 40 000 i tilretteleggingsmidler for\n"
       "Vilde Engen.\n\nMed hilsen\nFylkesmannen i Hordaland\n"});
  Assessment a = run(message_with_pdf(form_text("innvilget 40 000"), pdf, "tildeling.pdf"));
  expect_unverified(
      a, {"dated 2016-05-12, more than 548 days", "does not name the applicant", "924335211"});
}

TEST_F(StateLetter, ALetterNamingTheStateOnlyInItsProseNamesNoSender) {
  std::string pdf = testing::make_pdf(
      {"Vettre Gårdsbarnehage AS\n\nDato: 30.06.2020\n\nVi har fått svar fra Statsforvalteren i "
       "Oslo og Viken.\nVilde Engen tildeles kr 40 000 i tilretteleggingsmidler.\n"});
  Assessment a = run(message_with_pdf(form_text("innvilget 40 000"), pdf, "svar.pdf"));
  expect_unverified(a, {"does not name Statsforvalteren or Fylkesmannen"});
}

TEST_F(StateLetter, LetterDatedAfterTheMessageSettlesNothing) {
  std::string pdf = testing::make_pdf(
      {std::string(kRejectionText).replace(kRejectionText.find("30.06.2020"), 10, "15.09.2020")});
  Assessment a = run(message_with_pdf(form_text("avslag"), pdf, "avslag.pdf"));
  expect_unverified(a, {"dated 2020-09-15, after the message was received (2020-09-09)"});
}

// --- What still counts ----------------------------------------------------------------------

TEST_F(StateLetter, AttachedStateLetterNamingTheApplicantCounts) {
  std::string pdf = testing::make_pdf({kRejectionText});
  Assessment a = run(message_with_pdf(form_text("avslag"), pdf, "avslag.pdf"));
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
  EXPECT_EQ(find(a.flags, "letter_unverified"), nullptr);
  EXPECT_EQ(to_json(a)["letters"][0]["verified"], true);
}

TEST_F(StateLetter, OrganisationNumberAloneNamesTheApplicant) {
  std::string text = kRejectionText;
  text.replace(text.find("Vettre Gårdsbarnehage AS"), 24, "Org.nr. 924 335 211");
  Assessment a = run(message_with_pdf(form_text("avslag"), testing::make_pdf({text}), "a.pdf"));
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
}

TEST_F(StateLetter, AgeLimitComesFromTheConfig) {
  std::string pdf = testing::make_pdf({kRejectionText});
  cfg_.evidence.max_letter_age_days = 60;  // 30.06 -> 09.09 is 71 days
  Assessment a = run(message_with_pdf(form_text("avslag"), pdf, "avslag.pdf"));
  expect_unverified(a, {"more than 60 days"});
}

TEST_F(StateLetter, AReplysLetterIsCheckedAgainstTheDayTheReplyCame) {
  // The application came on 15 August, the state's letter is dated 30 June... and a reply on
  // 9 September brings a letter dated 1 September: it is checked against 9 September.
  std::string pdf = testing::make_pdf(
      {std::string(kRejectionText).replace(kRejectionText.find("30.06.2020"), 10, "01.09.2020")});
  opt_.received = Date{2020, 8, 15};
  Assessment before = run(message_with_pdf(form_text("avslag"), pdf, "avslag.pdf"));
  expect_unverified(before, {"after the message was received (2020-08-15)"});
  opt_.message_received = Date{2020, 9, 9};
  Assessment a = run(message_with_pdf(form_text("avslag"), pdf, "avslag.pdf"));
  ASSERT_EQ(a.decision.lines.size(), 1u);
  EXPECT_EQ(a.decision.lines[0].outcome, rules::Outcome::approved);
}

// --- verify_letter, check by check ----------------------------------------------------------

Letter good_letter() {
  Letter l;
  l.filename = "brev.pdf";
  l.source = "pdf";
  l.kind = LetterKind::rejection;
  l.sender = "Statsforvalteren i Oslo og Viken";
  l.date = Date{2020, 6, 30};
  l.names_owner = true;
  return l;
}

TEST(VerifyLetter, EachCheckIsNamed) {
  config::Evidence rules;
  Form form;
  form.owner = "Vettre Gårdsbarnehage AS";
  form.org_number = "924335211";
  const Date received{2020, 9, 9};
  const rules::LetterOrigin attached;
  EXPECT_TRUE(rules::verify_letter(good_letter(), attached, received, form, rules).empty());

  Letter l = good_letter();
  l.sender.clear();
  l.date.reset();
  l.names_owner = false;
  auto failed = rules::verify_letter(l, {rules::LetterChannel::forwarded, "x@gmail.com"}, received,
                                     form, rules);
  ASSERT_EQ(failed.size(), 4u);
  EXPECT_NE(failed[0].find("sender"), std::string::npos);
  EXPECT_NE(failed[1].find("no date"), std::string::npos);
  EXPECT_NE(failed[2].find("'Vettre Gårdsbarnehage AS'"), std::string::npos);
  EXPECT_NE(failed[3].find("x@gmail.com"), std::string::npos);

  // The organisation number alone names the applicant.
  l = good_letter();
  l.names_owner = false;
  l.names_org_number = true;
  EXPECT_TRUE(rules::verify_letter(l, attached, received, form, rules).empty());
}

TEST(VerifyLetter, AgeLimitIsInclusive) {
  config::Evidence rules;
  rules.max_letter_age_days = 10;
  Letter l = good_letter();
  l.date = Date{2020, 8, 30};
  EXPECT_TRUE(rules::verify_letter(l, {}, Date{2020, 9, 9}, {}, rules).empty());
  EXPECT_EQ(rules::verify_letter(l, {}, Date{2020, 9, 10}, {}, rules).size(), 1u);
  // The same day as the message is not after it.
  EXPECT_TRUE(rules::verify_letter(l, {}, Date{2020, 8, 30}, {}, rules).empty());
  EXPECT_EQ(rules::verify_letter(l, {}, Date{2020, 8, 29}, {}, rules).size(), 1u);
}

TEST(VerifyLetter, ALetterThatDecidesNothingIsNotChecked) {
  Letter receipt;
  receipt.kind = LetterKind::unknown;
  EXPECT_TRUE(rules::verify_letter(receipt, {}, Date{2020, 9, 9}, {}, {}).empty());
  Letter scan;
  scan.readable = false;
  EXPECT_TRUE(rules::verify_letter(scan, {}, Date{2020, 9, 9}, {}, {}).empty());
}

TEST(VerifyLetter, StateAddressesIncludeSubdomainsOnly) {
  const std::vector<std::string> d = {"statsforvalteren.no", "fylkesmannen.no"};
  EXPECT_TRUE(rules::is_state_address("sfovpost@statsforvalteren.no", d));
  EXPECT_TRUE(rules::is_state_address("a@Post.Statsforvalteren.NO", d));
  EXPECT_TRUE(rules::is_state_address("fmovpost@fylkesmannen.no", d));
  EXPECT_FALSE(rules::is_state_address("a@fakestatsforvalteren.no", d));
  EXPECT_FALSE(rules::is_state_address("a@statsforvalteren.no.evil.com", d));
  EXPECT_FALSE(rules::is_state_address("statsforvalteren.no", d));
  EXPECT_FALSE(rules::is_state_address("", d));
}

}  // namespace
}  // namespace tilskudd
