// Documents made by real programs (issue 15): tests/corpus/real/*, made by make.py there with
// reportlab (PDF, embedded DejaVu Sans) and python-docx, and committed, so this test needs
// neither. Each goes through the real assessment path: the mail parser, the PDF sandbox
// (pdftotext, as the daemon runs it), the DOCX reader, the form and letter readers, the
// evidence and the rules, under tests/corpus/config.toml.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "tests/support/support.h"
#include "workflow/assess.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

fs::path real_dir() {
  return testing::source_dir() / "tests" / "corpus" / "real";
}

struct Attachment {
  std::string file;  // in tests/corpus/real
  std::string content_type;
};

// The form as the applicant types it into the mail (tests/corpus/03's applicant, who is on the
// roster with these five employees).
std::string form_body(const std::vector<std::string>& rows) {
  std::string s =
      "Hei\n\nSøknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
      "barnehageansatte\n"
      "Saksnummer: 20/30298\n"
      "Barnehageeier: Stiftelsen Heggedal Barnehager\n"
      "Organisasjonsnummer: 992 888 113\n"
      "Barnehage: Heggedal barnehage\n"
      "Kontaktperson: Geir Mathisen\n"
      "E-post: geir.mathisen@heggedalbhg.no\n"
      "Kontonummer: 9235 18 57228\n"
      "Deres referanse: HB-2020-03\n\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n";
  for (const auto& r : rows) s += r + "\n";
  return s + "\nMvh\nGeir Mathisen\n";
}

std::string message(const std::string& body, const std::vector<Attachment>& attachments) {
  std::string m =
      "From: Geir Mathisen <geir.mathisen@heggedalbhg.no>\r\n"
      "To: <post@asker.kommune.no>\r\n"
      "Subject: =?UTF-8?Q?S=C3=B8knad_tilretteleggingstilskudd_20/30298?=\r\n"
      "Date: Mon, 30 Nov 2020 10:00:00 +0100\r\n"
      "Message-ID: <real-documents@heggedalbhg.no>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n" +
      body + "\r\n";
  for (const auto& a : attachments) {
    m += "--b1\r\nContent-Type: " + a.content_type + "; name=\"" + a.file +
         "\"\r\nContent-Disposition: attachment; filename=\"" + a.file +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         testing::base64_lines(testing::read_file(real_dir() / a.file));
  }
  return m + "--b1--\r\n";
}

const Attachment kGrantList{"grant-list.pdf", "application/pdf"};
const Attachment kGrantNamesTable{"grant-names-table.pdf", "application/pdf"};
const Attachment kTableLetter{"table-letter.pdf", "application/pdf"};
const Attachment kFormPdf{"form.pdf", "application/pdf"};
const Attachment kRejectionList{
    "rejection-list.docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"};
const Attachment kFormDocx{
    "form.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"};

Assessment run(const std::string& raw) {
  config::Config cfg = config::load(testing::source_dir() / "tests" / "corpus" / "config.toml");
  AssessOptions opt;
  opt.today = Date{2020, 11, 30};
  PdfLimits limits = cfg.limits.pdf;
  opt.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };
  return assess(raw, cfg, opt);
}

struct Want {
  rules::Outcome outcome;
  Kroner amount;
  std::string reason_code;
};

void expect_lines(const Assessment& a, const std::map<std::string, Want>& want) {
  const std::string dump = to_json(a).dump(2);
  ASSERT_EQ(a.decision.lines.size(), want.size()) << dump;
  for (const auto& l : a.decision.lines) {
    auto w = want.find(l.employee);
    ASSERT_NE(w, want.end()) << l.employee << "\n" << dump;
    EXPECT_EQ(l.outcome, w->second.outcome) << l.employee << "\n" << dump;
    EXPECT_EQ(l.amount, w->second.amount) << l.employee << "\n" << dump;
    EXPECT_EQ(l.reason_code, w->second.reason_code) << l.employee << "\n" << dump;
    EXPECT_TRUE(l.flags.empty()) << l.employee << "\n" << dump;
  }
  EXPECT_EQ(a.decision.status, rules::CaseStatus::decided) << dump;
}

const auto kApproved = rules::Outcome::approved;

// reportlab's bulleted list under "Statsforvalteren innvilger kr 50 000 per student for
// følgende ansatte:", and "Til sammen kr 100 000". The form claims the grant for one of them and
// leaves the other's column empty: the letter settles both at kr 50 000 each.
TEST(RealDocuments, GrantLetterListingNamesPdf) {
  Assessment a = run(message(form_body({"Lise Haugen | ABLU | OsloMet | 95 000 | 50 000",
                                        "Nora Lie | ABLU | OsloMet | "
                                        "80 000 | ikke mottatt"}),
                             {kGrantList}));
  ASSERT_EQ(a.letters.size(), 1u);
  EXPECT_TRUE(a.letters[0].verified()) << to_json(a).dump(2);
  expect_lines(a, {{"Lise Haugen", {kApproved, 45000, "state_granted_remainder"}},
                   {"Nora Lie", {kApproved, 30000, "state_granted_remainder"}}});
}

// The names as a reportlab table with a name column under "Følgende ansatte tildeles kr 50 000
// pr. student:", and "Samlet tilskudd: kr 100 000". Was: the names got no verdict of their own
// and one amount was read once: Nora Lie's line had amount_unconfirmed.
TEST(RealDocuments, GrantLetterWithATableOfNamesPdf) {
  Assessment a = run(message(form_body({"Lise Haugen | ABLU | OsloMet | 95 000 | 50 000",
                                        "Nora Lie | ABLU | OsloMet | "
                                        "80 000 | ikke mottatt"}),
                             {kGrantNamesTable}));
  ASSERT_EQ(a.letters.size(), 1u);
  expect_lines(a, {{"Lise Haugen", {kApproved, 45000, "state_granted_remainder"}},
                   {"Nora Lie", {kApproved, 30000, "state_granted_remainder"}}});
}

// python-docx's "List Bullet" paragraphs under "Statsforvalteren avslår søknaden for følgende
// ansatte:": both are rejected, and the municipality's cap applies.
TEST(RealDocuments, RejectionLetterListingNamesDocx) {
  Assessment a = run(message(form_body({"Emil Dahl | BLU deltid | USN | 60 000 | avslag",
                                        "Sara Moen | BLU deltid | USN | 90 000 |"}),
                             {kRejectionList}));
  ASSERT_EQ(a.letters.size(), 1u) << to_json(a).dump(2);
  expect_lines(a, {{"Emil Dahl", {kApproved, 60000, "state_rejected_cap"}},
                   {"Sara Moen", {kApproved, 75000, "state_rejected_cap"}}});
}

// A letter with its own table (Ansatt, Utdanning, Søkt beløp, Tildelt beløp) attached before
// the form (a python-docx table whose instructions say "Legg ved tildelingsbrev/avslagsbrev"):
// the table is the letter's, the form is the DOCX, and the letter settles each line.
TEST(RealDocuments, LetterWithATableBeforeTheFormDocx) {
  Assessment a = run(message("Hei\n\nSøknad 20/30298, se vedlagt skjema og vedtak.\n\nMvh\nGeir\n",
                             {kTableLetter, kFormDocx}));
  EXPECT_EQ(a.form_source, "form.docx") << to_json(a).dump(2);
  ASSERT_EQ(a.letters.size(), 1u) << to_json(a).dump(2);
  EXPECT_EQ(a.letters[0].filename, "table-letter.pdf");
  expect_lines(a, {{"Lise Haugen", {kApproved, 45000, "state_granted_remainder"}},
                   {"Nora Lie", {kApproved, 40000, "state_granted_remainder"}}});
}

// The form typed into the mail and attached as a PDF too (reportlab), whose instructions say
// "Legg ved tildelingsbrev/avslagsbrev" and "legg ved avslagsbrevet": the PDF is a copy of the
// form, not a letter; the grant letter beside it settles the line.
TEST(RealDocuments, TheFormAsAPdfBesideTheBodyIsNoLetter) {
  Assessment a = run(message(form_body({"Lise Haugen | ABLU | OsloMet | 95 000 | 50 000"}),
                             {kFormPdf, kGrantList}));
  const std::string dump = to_json(a).dump(2);
  EXPECT_EQ(a.form_source, "body") << dump;
  ASSERT_EQ(a.letters.size(), 1u) << dump;
  EXPECT_EQ(a.letters[0].filename, "grant-list.pdf") << dump;
  ASSERT_EQ(a.attachments.size(), 2u) << dump;
  EXPECT_EQ(a.attachments[0].role, "other") << dump;
  expect_lines(a, {{"Lise Haugen", {kApproved, 45000, "state_granted_remainder"}}});
}

// The documents stay small enough to commit.
TEST(RealDocuments, CommittedFilesAreSmall) {
  for (const char* f : {"grant-list.pdf", "grant-names-table.pdf", "table-letter.pdf", "form.pdf",
                        "rejection-list.docx", "form.docx"})
    EXPECT_LT(fs::file_size(real_dir() / f), 64u * 1024) << f;
}

}  // namespace
}  // namespace tilskudd
