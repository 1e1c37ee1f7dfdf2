// Outgoing mail: letter templates (config/templates), rendering, and RFC 5322 / MIME composition
// (quoted-printable body, RFC 2047 headers, header-injection safety), checked by decoding with
// the repo's own parsers (mime::parse, decode_rfc2047, decode_quoted_printable).
#include "workflow/outgoing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include "parsers/autoreply.h"
#include "parsers/headers.h"
#include "parsers/mime.h"
#include "parsers/text.h"

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

namespace tilskudd::outgoing {
namespace {

namespace fs = std::filesystem;

fs::path repo_templates() {
  return fs::path(TILSKUDD_SOURCE_DIR) / "config" / "templates";
}

const Templates& real_templates() {
  static const Templates t = load_templates(repo_templates());
  return t;
}

LetterInput sample() {
  LetterInput in;
  in.case_number = "20/30298";
  in.case_ref = "TT-2026-0042";
  in.owner = "Solsikken Barnehage AS";
  in.org_number = "987654325";
  in.applicant_reference = "SOL-2020-7";
  in.round = "2020-09-01";
  in.total = 130000;
  in.lines = {
      {"Ola Hansen", rules::Outcome::approved, 55000,
       "Staten har innvilget kr 40 000; kommunen dekker resten av kostnaden, kr 55 000."},
      {"Per Olsen", rules::Outcome::approved, 75000, "Statsforvalteren har gitt avslag."},
      {"Kari Berg", rules::Outcome::rejected, 0, "Utdanningen gir ikke rett til tilskudd."},
  };
  in.received = "2020-08-15";
  in.letter_date = "2026-11-24";
  in.original_subject = "Søknad om tilretteleggingstilskudd 20/30298";
  return in;
}

bool has_line(const std::string& body, const std::string& line) {
  for (auto l : text::split_lines(body)) {
    if (l == line) return true;
  }
  return false;
}

bool has_line_starting(const std::string& body, const std::string& prefix) {
  for (auto l : text::split_lines(body)) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// Loading

class TemplateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "outgoing-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (const char* f : {"decision.txt", "documentation_request.txt", "reminder.txt"}) {
      fs::copy_file(repo_templates() / f, dir_ / f);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << content;
  }

  // The error message of load_templates(dir_), or "" when it loads.
  std::string error() {
    try {
      load_templates(dir_);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST(OutgoingTemplates, RepoTemplatesLoadAndNameTheCaseInEverySubject) {
  const Templates& t = real_templates();
  for (const Template* x : {&t.decision, &t.documentation_request, &t.reminder}) {
    EXPECT_NE(x->subject.find("{{saksnummer}}"), std::string::npos) << x->subject;
    EXPECT_NE(x->subject.find("{{referanse}}"), std::string::npos) << x->subject;
    EXPECT_FALSE(x->body.empty());
    EXPECT_EQ(x->subject.find("Emne:"), std::string::npos);
  }
  EXPECT_NE(t.decision.body.find("{{linjer}}"), std::string::npos);
  EXPECT_NE(t.documentation_request.body.find("{{mangler}}"), std::string::npos);
}

TEST_F(TemplateDir, GoodCopyLoads) {
  EXPECT_EQ(error(), "");
}

TEST_F(TemplateDir, MissingFileIsNamed) {
  fs::remove(dir_ / "reminder.txt");
  const std::string e = error();
  EXPECT_NE(e.find("reminder.txt"), std::string::npos) << e;
}

TEST_F(TemplateDir, MissingEmneLine) {
  write("decision.txt", "Vedtak {{saksnummer}} {{referanse}}\n\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("Emne:"), std::string::npos) << e;
}

TEST_F(TemplateDir, EmptySubject) {
  write("decision.txt", "Emne:   \n\n{{linjer}}\n");
  EXPECT_NE(error().find("empty subject"), std::string::npos) << error();
}

TEST_F(TemplateDir, SecondLineMustBeEmpty) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}}\nHei\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
}

TEST_F(TemplateDir, EmptyBody) {
  write("reminder.txt", "Emne: {{saksnummer}} {{referanse}}\n\n  \n");
  const std::string e = error();
  EXPECT_NE(e.find("reminder.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("body is empty"), std::string::npos) << e;
}

TEST_F(TemplateDir, UnknownPlaceholderIsNamed) {
  write("documentation_request.txt",
        "Emne: {{saksnummer}} {{referanse}}\n\nHei {{mottaker}}\n{{mangler}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("documentation_request.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("{{mottaker}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, UnknownPlaceholderInSubject) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}} {{x}}\n\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("subject"), std::string::npos) << e;
  EXPECT_NE(e.find("{{x}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, UnterminatedPlaceholder) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}}\n\nHei {{barnehageeier\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("unterminated"), std::string::npos) << e;
}

TEST_F(TemplateDir, SubjectWithoutCaseNumber) {
  write("reminder.txt", "Emne: Påminnelse {{referanse}}\n\n{{mangler}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("reminder.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("{{saksnummer}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, SubjectWithoutCaseRef) {
  write("decision.txt", "Emne: Vedtak i sak {{saksnummer}}\n\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("{{referanse}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, BlockPlaceholderInSubject) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}} {{linjer}}\n\n{{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("{{linjer}}"), std::string::npos) << e;
  EXPECT_NE(e.find("only allowed in the body"), std::string::npos) << e;
}

TEST_F(TemplateDir, DecisionNeedsLines) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}}\n\nSum: {{sum}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("{{linjer}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, DocumentationRequestNeedsMissingItems) {
  write("documentation_request.txt", "Emne: {{saksnummer}} {{referanse}}\n\nSend brevet.\n");
  const std::string e = error();
  EXPECT_NE(e.find("documentation_request.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("{{mangler}}"), std::string::npos) << e;
}

TEST_F(TemplateDir, InvalidUtf8) {
  write("decision.txt", "Emne: {{saksnummer}} {{referanse}}\n\nS\xf8knad {{linjer}}\n");
  const std::string e = error();
  EXPECT_NE(e.find("decision.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("UTF-8"), std::string::npos) << e;
}

TEST_F(TemplateDir, CrlfBomAndSpacesInBracesAreFine) {
  write("decision.txt",
        "\xEF\xBB\xBF"
        "Emne: Vedtak {{ saksnummer }} {{referanse}}\r\n\r\nLinjer:\r\n{{ linjer }}\r\n");
  ASSERT_EQ(error(), "");
  const Templates t = load_templates(dir_);
  const auto r = render(t, OutboxKind::decision, sample());
  EXPECT_EQ(r.subject, "Vedtak 20/30298 TT-2026-0042");
  EXPECT_EQ(r.body.find('\r'), std::string::npos);
  EXPECT_TRUE(has_line_starting(r.body, "- Ola Hansen: innvilget, kr 55 000."));
}

// ------------------------------------------------------------------------------------------------
// Rendering

TEST(OutgoingRender, FormattingHelpers) {
  EXPECT_EQ(format_date_nb("2020-09-01"), "1. september 2020");
  EXPECT_EQ(format_date_nb("2020-12-01"), "1. desember 2020");
  EXPECT_EQ(format_date_nb("2026-01-31"), "31. januar 2026");
  EXPECT_EQ(format_date_nb("2020-13-01"), "2020-13-01");  // not a date: as written
  EXPECT_EQ(format_date_nb("neste runde"), "neste runde");
  EXPECT_EQ(outcome_nb(rules::Outcome::approved), "innvilget");
  EXPECT_EQ(outcome_nb(rules::Outcome::rejected), "avslått");
  EXPECT_EQ(outcome_nb(rules::Outcome::flagged), "til manuell behandling");
  EXPECT_EQ(outcome_nb(rules::Outcome::pending), "venter på dokumentasjon");
}

TEST(OutgoingRender, DecisionListsEveryLineTotalRoundAndAppeal) {
  const auto r = render(real_templates(), OutboxKind::decision, sample());
  EXPECT_NE(r.subject.find("20/30298"), std::string::npos) << r.subject;
  EXPECT_NE(r.subject.find("TT-2026-0042"), std::string::npos) << r.subject;
  EXPECT_EQ(r.subject.find('\n'), std::string::npos);
  const std::string& b = r.body;
  EXPECT_TRUE(has_line(b,
                       "- Ola Hansen: innvilget, kr 55 000. Staten har innvilget kr 40 000; "
                       "kommunen dekker resten av kostnaden, kr 55 000."))
      << b;
  EXPECT_TRUE(has_line(b, "- Per Olsen: innvilget, kr 75 000. Statsforvalteren har gitt avslag."))
      << b;
  EXPECT_TRUE(has_line(b, "- Kari Berg: avslått, kr 0. Utdanningen gir ikke rett til tilskudd."))
      << b;
  EXPECT_TRUE(has_line(b, "Samlet tilskudd: kr 130 000")) << b;
  EXPECT_TRUE(has_line(b, "Utbetalingsrunde: runde med frist 1. september 2020")) << b;
  EXPECT_TRUE(has_line(b, "Deres ref.: SOL-2020-7")) << b;
  EXPECT_TRUE(has_line(b, "Vår ref.: 20/30298 / TT-2026-0042")) << b;
  EXPECT_TRUE(has_line(b, "Dato: 24. november 2026")) << b;
  EXPECT_TRUE(has_line(b, "Til Solsikken Barnehage AS")) << b;
  EXPECT_TRUE(has_line(b, "Organisasjonsnummer: 987 654 325")) << b;
  EXPECT_NE(b.find("mottatt 15. august 2020"), std::string::npos) << b;
  EXPECT_NE(b.find("Dere kan klage på vedtaket innen 3 uker fra det er mottatt"),
            std::string::npos);
  EXPECT_NE(b.find("forvaltningsloven §§ 28 og 29"), std::string::npos);
  EXPECT_NE(b.find("svare på denne e-posten"), std::string::npos);
  EXPECT_NE(b.find("emnefeltet"), std::string::npos);
  EXPECT_NE(b.find("Asker kommune"), std::string::npos);
  EXPECT_EQ(b.find("{{"), std::string::npos);
  EXPECT_EQ(b.back(), '\n');
  EXPECT_TRUE(text::is_valid_utf8(b));
}

// Issue 12 (forvaltningsloven 2025 §§ 11-13): an automatic decision says so, and says how to
// ask for a person's review besides the appeal; a decision a person took part in does not
// claim to be automatic.
TEST(OutgoingRender, AutomaticDecisionSaysSoAndHowToAskForAPerson) {
  const auto r = render(real_templates(), OutboxKind::decision, sample());
  const std::string& b = r.body;
  EXPECT_NE(b.find("Vedtaket er fattet automatisk"), std::string::npos) << b;
  EXPECT_NE(b.find("hvilken regel i retningslinjene som er brukt"), std::string::npos) << b;
  EXPECT_TRUE(has_line(b, "Forklaring og manuell vurdering")) << b;
  EXPECT_NE(b.find("kreve at en saksbehandler vurderer saken, jf. forvaltningsloven §§ 11 til 13"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("skriv «Manuell vurdering» i teksten. Behold referansen (20/30298, "
                   "TT-2026-0042) i emnefeltet"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("i tillegg til retten til å klage"), std::string::npos) << b;
  // The review paragraph comes after the appeal, and is followed by one blank line.
  EXPECT_LT(b.find("Klagerett"), b.find("Forklaring og manuell vurdering"));
  EXPECT_NE(b.find("som vanlig.\n\nDere har rett til å se dokumentene"), std::string::npos) << b;
  EXPECT_EQ(b.find("{{"), std::string::npos);
}

TEST(OutgoingRender, DecisionWithAPersonIsNotCalledAutomatic) {
  LetterInput in = sample();
  in.automatic = false;
  const auto r = render(real_templates(), OutboxKind::decision, in);
  const std::string& b = r.body;
  EXPECT_EQ(b.find("fattet automatisk"), std::string::npos) << b;
  EXPECT_EQ(b.find("Manuell vurdering"), std::string::npos) << b;
  EXPECT_NE(b.find("en saksbehandler har vurdert den før vedtaket ble sendt"), std::string::npos)
      << b;
  // The review line is left out without leaving two blank lines.
  EXPECT_EQ(b.find("\n\n\n"), std::string::npos) << b;
  EXPECT_NE(b.find("Klagerett"), std::string::npos);
}

TEST(OutgoingRender, FlaggedAndPendingLinesHaveNoAmount) {
  LetterInput in = sample();
  in.lines = {{"Ola Hansen", rules::Outcome::flagged, 0, "Den ansatte står ikke på listen."},
              {"Per Olsen", rules::Outcome::pending, 0, ""}};
  const auto r = render(real_templates(), OutboxKind::decision, in);
  EXPECT_TRUE(has_line(r.body,
                       "- Ola Hansen: til manuell behandling. Den ansatte står ikke på "
                       "listen."))
      << r.body;
  EXPECT_TRUE(has_line(r.body, "- Per Olsen: venter på dokumentasjon.")) << r.body;
}

TEST(OutgoingRender, EmptyOptionalValuesDropTheirLine) {
  LetterInput in = sample();
  in.applicant_reference = "";
  in.round = "";
  const auto r = render(real_templates(), OutboxKind::decision, in);
  EXPECT_FALSE(has_line_starting(r.body, "Deres ref.")) << r.body;
  EXPECT_FALSE(has_line_starting(r.body, "Utbetalingsrunde")) << r.body;
  EXPECT_TRUE(has_line(r.body, "Vår ref.: 20/30298 / TT-2026-0042"));
  EXPECT_TRUE(has_line(r.body, "Samlet tilskudd: kr 130 000"));
}

TEST(OutgoingRender, DocumentationRequestNamesEachMissingItem) {
  LetterInput in = sample();
  in.lines.clear();
  in.missing = {"Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Ola Hansen",
                "Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Per Olsen"};
  in.original_subject = "SV: Re: Søknad om tilretteleggingstilskudd 20/30298";
  const auto r = render(real_templates(), OutboxKind::documentation_request, in);
  EXPECT_EQ(r.subject.rfind("Sv: Søknad om tilretteleggingstilskudd 20/30298", 0), 0u) << r.subject;
  EXPECT_NE(r.subject.find("TT-2026-0042"), std::string::npos);
  EXPECT_TRUE(
      has_line(r.body, "- Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Ola Hansen"))
      << r.body;
  EXPECT_TRUE(
      has_line(r.body, "- Tildelingsbrev eller avslagsbrev fra Statsforvalteren for Per Olsen"));
  EXPECT_NE(r.body.find("Svar på denne e-posten og legg ved brevet"), std::string::npos);
  EXPECT_NE(r.body.find("Behold referansen (20/30298, TT-2026-0042) i emnefeltet"),
            std::string::npos);
  EXPECT_EQ(r.body.find("{{"), std::string::npos);
}

TEST(OutgoingRender, DocumentationRequestWithoutOriginalSubjectHasADefault) {
  LetterInput in = sample();
  in.original_subject = "  ";
  in.missing = {"Brev fra Statsforvalteren for Ola Hansen"};
  const auto r = render(real_templates(), OutboxKind::documentation_request, in);
  EXPECT_EQ(r.subject.rfind("Sv: Søknad om tilretteleggingstilskudd – ", 0), 0u) << r.subject;
}

TEST(OutgoingRender, LongOriginalSubjectIsShortened) {
  LetterInput in = sample();
  in.original_subject = std::string(500, 'x');
  in.missing = {"Brev"};
  const auto r = render(real_templates(), OutboxKind::documentation_request, in);
  EXPECT_LT(r.subject.size(), 250u);
  EXPECT_NE(r.subject.find("\xE2\x80\xA6"), std::string::npos);  // "…"
  EXPECT_NE(r.subject.find("TT-2026-0042"), std::string::npos);
}

TEST(OutgoingRender, ReminderRepeatsTheRequest) {
  LetterInput in = sample();
  in.missing = {"Avslagsbrev fra Statsforvalteren for Per Olsen"};
  const auto r = render(real_templates(), OutboxKind::reminder, in);
  EXPECT_NE(r.subject.find("Påminnelse"), std::string::npos);
  EXPECT_NE(r.subject.find("20/30298"), std::string::npos);
  EXPECT_NE(r.subject.find("TT-2026-0042"), std::string::npos);
  EXPECT_TRUE(has_line(r.body, "- Avslagsbrev fra Statsforvalteren for Per Olsen")) << r.body;
  EXPECT_NE(r.body.find("Svar på denne e-posten"), std::string::npos);
}

TEST(OutgoingRender, InputCannotAddLines) {
  LetterInput in = sample();
  in.owner = "Solsikken\r\nBcc: evil@example.org";
  in.original_subject = "Hei\r\nBcc: evil@example.org";
  in.lines = {{"Ola\nHansen", rules::Outcome::approved, 1, "Grunn\n\nmed linjeskift\u2028her"}};
  in.missing = {"Brev\nfor Ola"};
  const auto d = render(real_templates(), OutboxKind::decision, in);
  EXPECT_TRUE(has_line(d.body, "Til Solsikken Bcc: evil@example.org")) << d.body;
  EXPECT_TRUE(has_line(d.body, "- Ola Hansen: innvilget, kr 1. Grunn med linjeskift her"))
      << d.body;
  const auto q = render(real_templates(), OutboxKind::documentation_request, in);
  EXPECT_EQ(q.subject.find('\n'), std::string::npos);
  EXPECT_EQ(q.subject.find('\r'), std::string::npos);
  EXPECT_TRUE(has_line(q.body, "- Brev for Ola")) << q.body;
}

TEST(OutgoingRender, HandMadeTemplateNeverThrows) {
  Templates t;
  t.decision = {"{{ukjent}} {{saksnummer}}", "A {{ukjent}}\nB {{deres_referanse}}\nC {{"};
  LetterInput in;  // everything empty
  RenderedLetter r;
  ASSERT_NO_THROW(r = render(t, OutboxKind::decision, in));
  EXPECT_EQ(r.subject, "{{ukjent}}");
  EXPECT_EQ(r.body, "A {{ukjent}}\nC {{\n");
  ASSERT_NO_THROW(r = render(t, OutboxKind::reminder, in));  // empty template
  EXPECT_EQ(r.body, "");
}

// ------------------------------------------------------------------------------------------------
// Composition

OutgoingMail sample_mail() {
  OutgoingMail m;
  m.from = "Asker kommune <post@asker.kommune.no>";
  m.to = "kari@solsikken.no";
  m.subject = "Vedtak om tilretteleggingstilskudd – sak 20/30298, vår ref. TT-2026-0042";
  m.body = "Til Solsikken Barnehage AS\n\nÆ Ø Å æ ø å – «sitat» €\n\nMed vennlig hilsen\n";
  m.message_id = "tilskudd.TT-2026-0042.decision.1@asker.kommune.no";
  m.in_reply_to = "CAB123@mail.gmail.com";
  m.references = {"first@x.no", "CAB123@mail.gmail.com"};
  m.case_ref = "TT-2026-0042";
  m.date = "Tue, 24 Nov 2026 12:00:00 +0000";
  return m;
}

std::string header_block(const std::string& raw) {
  return raw.substr(0, raw.find("\r\n\r\n") + 2);
}
std::string body_block(const std::string& raw) {
  return raw.substr(raw.find("\r\n\r\n") + 4);
}

std::vector<std::string> crlf_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t e = s.find("\r\n", pos);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(pos, e - pos));
    pos = e + 2;
  }
  return out;
}

// Every header line is a "Name: value" line of an expected field or a continuation line.
void expect_only_expected_headers(const std::string& raw) {
  static const std::vector<std::string> kNames = {"From",           "To",
                                                  "Subject",        "Date",
                                                  "Message-ID",     "In-Reply-To",
                                                  "References",     "MIME-Version",
                                                  "Content-Type",   "Content-Transfer-Encoding",
                                                  "Auto-Submitted", "X-Auto-Response-Suppress",
                                                  "X-Tilskudd-Case"};
  for (const auto& line : crlf_lines(header_block(raw))) {
    ASSERT_FALSE(line.empty());
    if (line[0] == ' ' || line[0] == '\t') {
      EXPECT_FALSE(text::trim(line).empty()) << "whitespace-only continuation line";
      continue;
    }
    const std::string name = line.substr(0, line.find(':'));
    EXPECT_NE(std::find(kNames.begin(), kNames.end(), name), kNames.end())
        << "unexpected header line: " << line;
  }
}

TEST(OutgoingCompose, HeadersAndCrlf) {
  const std::string raw = compose(sample_mail());
  // CRLF only: no bare LF or CR.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << i;
    }
    if (raw[i] == '\r') {
      ASSERT_TRUE(i + 1 < raw.size() && raw[i + 1] == '\n') << i;
    }
  }
  // 7-bit and short lines everywhere.
  for (char c : raw) ASSERT_LT(static_cast<unsigned char>(c), 0x80);
  for (const auto& line : crlf_lines(raw)) EXPECT_LE(line.size(), 76u) << line;
  const std::string h = header_block(raw);
  EXPECT_NE(h.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nContent-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nContent-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nAuto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nX-Auto-Response-Suppress: All\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nX-Tilskudd-Case: TT-2026-0042\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nMessage-ID: <tilskudd.TT-2026-0042.decision.1@asker.kommune.no>\r\n"),
            std::string::npos);
  EXPECT_NE(h.find("\r\nIn-Reply-To: <CAB123@mail.gmail.com>\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nReferences: <first@x.no> <CAB123@mail.gmail.com>\r\n"), std::string::npos);
  EXPECT_NE(h.find("\r\nDate: Tue, 24 Nov 2026 12:00:00 +0000\r\n"), std::string::npos);
  EXPECT_EQ(h.rfind("From: Asker kommune <post@asker.kommune.no>\r\n", 0), 0u) << h;
  EXPECT_NE(h.find("\r\nTo: kari@solsikken.no\r\n"), std::string::npos);
  expect_only_expected_headers(raw);
}

TEST(OutgoingCompose, NoReplyHeadersWhenNotGiven) {
  OutgoingMail m = sample_mail();
  m.in_reply_to = "";
  m.references.clear();
  const std::string h = header_block(compose(m));
  EXPECT_EQ(h.find("In-Reply-To"), std::string::npos);
  EXPECT_EQ(h.find("References"), std::string::npos);
}

TEST(OutgoingCompose, RoundTripThroughMimeParse) {
  OutgoingMail m = sample_mail();
  m.from = "Asker kommune – Oppvekst ÆØÅ <post@asker.kommune.no>";
  m.to = "\"Nordmann, Kari\" <kari@solsikken.no>";
  const auto rendered = render(real_templates(), OutboxKind::decision, sample());
  m.subject = rendered.subject;
  m.body = rendered.body;
  const std::string raw = compose(m);
  const mime::Message msg = mime::parse(raw);
  EXPECT_TRUE(msg.defects.empty());
  EXPECT_EQ(msg.headers.subject, m.subject);
  ASSERT_EQ(msg.headers.from.size(), 1u);
  EXPECT_EQ(msg.headers.from[0].display_name, "Asker kommune – Oppvekst ÆØÅ");
  EXPECT_EQ(msg.headers.from[0].address, "post@asker.kommune.no");
  ASSERT_EQ(msg.headers.to.size(), 1u);
  EXPECT_EQ(msg.headers.to[0].display_name, "Nordmann, Kari");
  EXPECT_EQ(msg.headers.to[0].address, "kari@solsikken.no");
  EXPECT_EQ(msg.headers.message_id, m.message_id);
  EXPECT_EQ(msg.headers.in_reply_to, m.in_reply_to);
  EXPECT_EQ(msg.headers.references, m.references);
  EXPECT_EQ(msg.headers.get("X-Tilskudd-Case"), "TT-2026-0042");
  ASSERT_EQ(msg.parts.size(), 1u);
  EXPECT_EQ(msg.parts[0].content_type, "text/plain");
  EXPECT_EQ(msg.parts[0].charset, "utf-8");
  EXPECT_EQ(msg.parts[0].body, m.body);
  // Our own letter coming back to post@ is recognised as ours.
  EXPECT_EQ(machine_generated(msg, "post@asker.kommune.no"), "own_message");
  EXPECT_EQ(machine_generated(msg, ""), "own_message");
}

TEST(OutgoingCompose, NonAsciiSubjectEncodedWordsAreShortAndWhole) {
  OutgoingMail m = sample_mail();
  // Long, with 2-, 3- and 4-byte sequences, so that word boundaries fall near them.
  std::string subject;
  for (int i = 0; i < 12; ++i) subject += "Søknad æøå – sak 20/30298 € 😀 ";
  subject += "TT-2026-0042";
  m.subject = subject;
  const std::string raw = compose(m);
  const std::string h = header_block(raw);
  const std::size_t start = h.find("\r\nSubject:") + 2;
  std::size_t end = start;
  while (true) {  // the header with its continuation lines
    end = h.find("\r\n", end) + 2;
    if (end >= h.size() || (h[end] != ' ' && h[end] != '\t')) break;
  }
  const std::string field = h.substr(start, end - start);
  for (const auto& line : crlf_lines(field)) EXPECT_LE(line.size(), 76u) << line;
  // Each encoded-word is at most 75 characters and decodes to valid UTF-8 on its own.
  std::size_t pos = 0;
  int words = 0;
  while ((pos = field.find("=?", pos)) != std::string::npos) {
    const std::size_t close = field.find("?=", pos + 10);
    ASSERT_NE(close, std::string::npos);
    const std::string word = field.substr(pos, close + 2 - pos);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?Q?", 0), 0u) << word;
    const std::string decoded = mime::decode_rfc2047(word);
    EXPECT_TRUE(text::is_valid_utf8(decoded)) << word;
    EXPECT_EQ(decoded.find("\xEF\xBF\xBD"), std::string::npos) << word;  // no U+FFFD
    pos = close + 2;
    ++words;
  }
  EXPECT_GT(words, 5);
  EXPECT_EQ(mime::parse(raw).headers.subject, subject);
}

TEST(OutgoingCompose, AsciiSubjectFoldsAtSpaces) {
  OutgoingMail m = sample_mail();
  std::string subject = "Vedtak";
  for (int i = 0; i < 20; ++i) subject += " sak 20/30298 ref TT-2026-0042";
  m.subject = subject;
  const std::string raw = compose(m);
  EXPECT_EQ(header_block(raw).find("=?"), std::string::npos);
  for (const auto& line : crlf_lines(header_block(raw))) EXPECT_LE(line.size(), 76u) << line;
  EXPECT_EQ(mime::parse(raw).headers.subject, subject);
}

TEST(OutgoingCompose, AsciiWordsOfAMixedSubjectStayPlain) {
  OutgoingMail m = sample_mail();
  m.subject = "Vedtak om tilretteleggingstilskudd – sak 20/30298, vår ref. TT-2026-0042";
  const std::string raw = compose(m);
  const std::string h = header_block(raw);
  // The case number and our reference are searchable in the raw header.
  EXPECT_NE(h.find(" 20/30298, "), std::string::npos) << h;
  EXPECT_NE(h.find(" TT-2026-0042\r\n"), std::string::npos) << h;
  EXPECT_NE(h.find("=?UTF-8?Q?=E2=80=93?="), std::string::npos) << h;
  EXPECT_EQ(mime::parse(raw).headers.subject, m.subject);
  // Spaces between encoded runs and plain words survive; adjacent non-ASCII words share a run.
  for (std::string s : {"æ b ø", "æ ø å b", "a æ", "æ a", "ÆØÅ", "a  b\t æ"}) {
    m.subject = s;
    EXPECT_EQ(mime::parse(compose(m)).headers.subject, text::collapse_spaces(s)) << s;
  }
}

TEST(OutgoingCompose, AsciiThatLooksEncodedIsEncoded) {
  OutgoingMail m = sample_mail();
  m.subject = "Test =?UTF-8?Q?=C3=A6?= 20/30298";
  const std::string raw = compose(m);
  EXPECT_EQ(mime::parse(raw).headers.subject, m.subject);
}

TEST(OutgoingCompose, DisplayNames) {
  OutgoingMail m = sample_mail();
  m.from = "Asker kommune <post@asker.kommune.no>";
  EXPECT_NE(compose(m).find("From: Asker kommune <post@asker.kommune.no>\r\n"), std::string::npos);
  m.from = "Asker, kommune \"Oppvekst\" <post@asker.kommune.no>";
  std::string raw = compose(m);
  EXPECT_NE(raw.find("From: \"Asker, kommune \\\"Oppvekst\\\"\" <post@asker.kommune.no>\r\n"),
            std::string::npos)
      << header_block(raw);
  EXPECT_EQ(mime::parse(raw).headers.from.at(0).display_name, "Asker, kommune \"Oppvekst\"");
  m.from = "Bærum og Asker kommune <post@asker.kommune.no>";
  raw = compose(m);
  EXPECT_NE(raw.find("From: =?UTF-8?Q?B=C3=A6rum_og_Asker_kommune?= <post@asker.kommune.no>\r\n"),
            std::string::npos)
      << header_block(raw);
  m.from = "post@asker.kommune.no";
  EXPECT_NE(compose(m).find("From: post@asker.kommune.no\r\n"), std::string::npos);
}

TEST(OutgoingCompose, HeaderInjectionIsImpossible) {
  OutgoingMail m = sample_mail();
  m.from = "Asker kommune <post@asker.kommune.no>\r\nBcc: <evil@x.no>";
  m.to = "Kari <kari@solsikken.no>\r\nBcc: <evil@x.no>";
  m.subject = "Vedtak\r\nBcc: evil@x.no\nX-Evil: 1\rY: 2";
  m.message_id = "id@x\r\nBcc: evil@x.no";
  m.in_reply_to = "a@b>\r\nBcc: <evil@x.no";
  m.references = {"r@x\nBcc: evil@x.no"};
  m.case_ref = "TT-1\r\nBcc: evil@x.no";
  m.date = "Tue, 24 Nov 2026\r\nBcc: evil@x.no";
  m.body = "Hei\r\n\r\nBcc: evil@x.no\n";
  const std::string raw = compose(m);
  expect_only_expected_headers(raw);
  const mime::Message msg = mime::parse(raw);
  EXPECT_FALSE(msg.headers.has("Bcc"));
  EXPECT_FALSE(msg.headers.has("X-Evil"));
  EXPECT_FALSE(msg.headers.has("Y"));
  EXPECT_EQ(msg.headers.subject, "Vedtak Bcc: evil@x.no X-Evil: 1 Y: 2");
  EXPECT_EQ(msg.headers.get("X-Tilskudd-Case"), "TT-1 Bcc: evil@x.no");
  ASSERT_EQ(msg.headers.to.size(), 1u);
  EXPECT_EQ(msg.headers.to[0].address, "kari@solsikken.no");
  EXPECT_EQ(msg.headers.message_id, "id@x");
  EXPECT_EQ(msg.headers.in_reply_to, "a@b");
  EXPECT_EQ(msg.headers.references, std::vector<std::string>{"r@x"});
  // Without a line break in the way, a display name with specials is quoted, never a header.
  m.from = "Asker Bcc: evil@x.no, <post@asker.kommune.no>";
  m.to = "kari@solsikken.no, evil@x.no";
  const mime::Message msg2 = mime::parse(compose(m));
  ASSERT_EQ(msg2.headers.from.size(), 1u);
  EXPECT_EQ(msg2.headers.from[0].display_name, "Asker Bcc: evil@x.no,");
  EXPECT_EQ(msg2.headers.from[0].address, "post@asker.kommune.no");
  ASSERT_EQ(msg2.headers.to.size(), 1u);
  EXPECT_EQ(msg2.headers.to[0].address, "kari@solsikken.noevil@x.no");
  ASSERT_EQ(msg.headers.from.size(), 1u);
  EXPECT_EQ(msg.headers.from[0].display_name, "Asker kommune");
  EXPECT_EQ(msg.headers.from[0].address, "post@asker.kommune.no");
  EXPECT_EQ(msg.parts.at(0).body, "Hei\n\nBcc: evil@x.no\n");
}

// The quoted-printable body as composed, and what the repo's decoder makes of it.
std::string qp_of(const std::string& body) {
  OutgoingMail m = sample_mail();
  m.body = body;
  return body_block(compose(m));
}

TEST(OutgoingCompose, QuotedPrintableEdgeCases) {
  // Lines of 76 fit exactly; 77 need a soft break; every encoded line is at most 76.
  const std::string l76(76, 'a');
  EXPECT_EQ(qp_of(l76 + "\n"), l76 + "\r\n");
  const std::string l77(77, 'a');
  EXPECT_EQ(qp_of(l77 + "\n"), std::string(75, 'a') + "=\r\naa\r\n");
  // "=" is escaped; trailing white space is encoded, inner white space is not.
  EXPECT_EQ(qp_of("a=b\n"), "a=3Db\r\n");
  EXPECT_EQ(qp_of("a b \n"), "a b=20\r\n");
  EXPECT_EQ(qp_of("a\t\n"), "a=09\r\n");
  EXPECT_EQ(qp_of(" \n"), "=20\r\n");
  // Non-ASCII as =XX (upper-case hex); CRLF and CR in the input are line ends too.
  EXPECT_EQ(qp_of("æ\r\nø\rå"), "=C3=A6\r\n=C3=B8\r\n=C3=A5\r\n");
  // "From " at a line start is escaped (mbox), a lone dot is left to SMTP dot-stuffing.
  EXPECT_EQ(qp_of("From here\n.\n"), "=46rom here\r\n.\r\n");
  // An escape is never split by a soft break.
  std::string s(74, 'a');
  s += "ø";
  const std::string enc = qp_of(s + "\n");
  EXPECT_EQ(enc, std::string(74, 'a') + "=\r\n=C3=B8\r\n");
  // Long mixed lines: every line at most 76, soft breaks only as "=" at the end, and the
  // decoder gives the text back.
  std::string body;
  for (int i = 0; i < 40; ++i) body += "Æøå = test \t ";
  body += "\nslutt  \n\n";
  const std::string q = qp_of(body);
  for (const auto& line : crlf_lines(q)) {
    EXPECT_LE(line.size(), 76u) << line;
    EXPECT_TRUE(line.empty() || (line.back() != ' ' && line.back() != '\t')) << line;
  }
  std::string lf;  // the decoder keeps CRLF; the body uses LF
  for (char c : mime::decode_quoted_printable(q)) {
    if (c != '\r') lf += c;
  }
  EXPECT_EQ(lf, body);
}

TEST(OutgoingCompose, SoftBreaksPreferBlanks) {
  std::string line;
  for (int i = 0; i < 30; ++i) line += "ord" + std::to_string(i) + " ";
  line += "slutt";
  const std::string q = qp_of(line + "\n");
  const auto lines = crlf_lines(q);
  ASSERT_GT(lines.size(), 1u);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 76u);
    EXPECT_GE(lines[i].size(), 40u);
    EXPECT_EQ(lines[i].substr(lines[i].size() - 2), " =") << lines[i];  // words are never split
  }
  std::string lf;
  for (char c : mime::decode_quoted_printable(q)) {
    if (c != '\r') lf += c;
  }
  EXPECT_EQ(lf, line + "\n");
}

TEST(OutgoingCompose, BodyAlwaysEndsWithALineEnd) {
  EXPECT_EQ(qp_of("Hei"), "Hei\r\n");
  EXPECT_EQ(qp_of(""), "");
}

// Random fields (line breaks, '=', '?', '<>', ':', valid and invalid UTF-8): compose never
// throws, never adds a header, keeps lines short, and the subject and body come back.
TEST(OutgoingCompose, RandomFieldsStayInTheirHeaders) {
  std::mt19937 rng(20301);
  static const std::vector<std::string> kAtoms = {
      "a",     "Z",  "0",  " ", "  ", "\r\n", "\n",   "\r",   "\t",          "=",
      "?",     "=?", "?=", "<", ">",  ":",    ",",    "\"",   "\\",          ".",
      "From ", "æ",  "Ø",  "–", "€",  "😀",    "\xff", "\xc3", "Bcc: x@y.no", "_"};
  auto random_text = [&](std::size_t max_atoms) {
    std::string out;
    const std::size_t n = rng() % (max_atoms + 1);
    for (std::size_t i = 0; i < n; ++i) out += kAtoms[rng() % kAtoms.size()];
    return out;
  };
  for (int iter = 0; iter < 1500; ++iter) {
    OutgoingMail m;
    m.from = random_text(8) + " <post@asker.kommune.no>";
    m.to = random_text(3) + "kari@x.no" + random_text(3);
    m.subject = random_text(60);
    m.body = random_text(200);
    m.message_id = random_text(6) + "id@x";
    m.in_reply_to = random_text(4);
    m.references = {random_text(4), random_text(4)};
    m.case_ref = random_text(5);
    m.date = random_text(5);
    std::string raw;
    ASSERT_NO_THROW(raw = compose(m));
    expect_only_expected_headers(raw);
    for (const auto& line : crlf_lines(raw)) ASSERT_LE(line.size(), 998u);
    // 7-bit everywhere except inside the From/To addresses (UTF-8 addresses, RFC 6532).
    std::string seven = raw;
    for (const char* field : {"From:", "\r\nTo:"}) {
      const std::size_t start = seven.find(field);
      const std::size_t end = seven.find("\r\n", start + 2);
      const std::size_t lt = seven.rfind('<', end);
      const std::size_t cut = (lt != std::string::npos && lt > start) ? lt : start + 5;
      seven.erase(cut, end - cut);
    }
    for (char c : seven) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << iter << raw;
    const mime::Message msg = mime::parse(raw);
    // Never more than the one address given (no injected recipients); without line breaks in
    // the field, exactly that one.
    EXPECT_LE(msg.headers.from.size(), 1u) << raw;
    EXPECT_LE(msg.headers.to.size(), 1u) << raw;
    if (m.from.find_first_of("\r\n") == std::string::npos) {
      ASSERT_EQ(msg.headers.from.size(), 1u) << raw;
      EXPECT_EQ(msg.headers.from[0].address, "post@asker.kommune.no") << raw;
    }
    EXPECT_EQ(msg.headers.subject.find_first_of("\r\n"), std::string::npos);
    const bool clean_subject =
        text::is_valid_utf8(m.subject) && m.subject.find_first_of("\r\n\t") == std::string::npos;
    if (clean_subject) {
      EXPECT_EQ(msg.headers.subject, text::collapse_spaces(m.subject)) << m.subject;
    }
    if (text::is_valid_utf8(m.body) && !m.body.empty()) {
      std::string want;  // CRLF and CR become LF; the body ends with a line end
      for (std::size_t i = 0; i < m.body.size(); ++i) {
        if (m.body[i] == '\r') {
          want += '\n';
          if (i + 1 < m.body.size() && m.body[i + 1] == '\n') ++i;
        } else {
          want += m.body[i];
        }
      }
      if (want.back() != '\n') want += '\n';
      ASSERT_EQ(msg.parts.size(), 1u);
      EXPECT_EQ(msg.parts[0].body, want) << iter;
    }
  }
}

TEST(OutgoingCompose, MessageIdIsDeterministic) {
  EXPECT_EQ(make_message_id("TT-2026-0042", "decision", 1, "asker.kommune.no"),
            "tilskudd.TT-2026-0042.decision.1@asker.kommune.no");
  EXPECT_EQ(make_message_id("TT-2026-0042", "decision", 1, "asker.kommune.no"),
            make_message_id("TT-2026-0042", "decision", 1, "asker.kommune.no"));
  EXPECT_NE(make_message_id("TT-2026-0042", "decision", 1, "asker.kommune.no"),
            make_message_id("TT-2026-0042", "decision", 2, "asker.kommune.no"));
  EXPECT_NE(make_message_id("TT-2026-0042", "reminder", 1, "asker.kommune.no"),
            make_message_id("TT-2026-0042", "decision", 1, "asker.kommune.no"));
  EXPECT_EQ(make_message_id("TT 1\r\n<x>", "doc req", 3, "ex ample.no\r\n"),
            "tilskudd.TT-1---x-.doc-req.3@ex-ample.no--");
  EXPECT_EQ(make_message_id("", "", 0, ""), "tilskudd.x.x.0@localhost");
  // What make_message_id gives survives compose and parse unchanged.
  OutgoingMail m = sample_mail();
  m.message_id = make_message_id("TT-2026-0042", "documentation_request", 7, "asker.kommune.no");
  EXPECT_EQ(mime::parse(compose(m)).headers.message_id, m.message_id);
}

TEST(OutgoingCompose, Rfc5322Date) {
  using namespace std::chrono;
  const sys_seconds t = sys_days{year{2026} / November / 24} + hours{12};
  EXPECT_EQ(rfc5322_date(t), "Tue, 24 Nov 2026 12:00:00 +0000");
  EXPECT_EQ(rfc5322_date(sys_seconds{seconds{0}}), "Thu, 1 Jan 1970 00:00:00 +0000");
  const sys_seconds t2 =
      sys_days{year{2020} / February / 29} + hours{23} + minutes{59} + seconds{58};
  EXPECT_EQ(rfc5322_date(t2), "Sat, 29 Feb 2020 23:59:58 +0000");
}

}  // namespace
}  // namespace tilskudd::outgoing
