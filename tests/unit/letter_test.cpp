#include "parsers/letter.h"

#include "daemon/pdf_sandbox.h"
#include "parsers/docx.h"
#include "parsers/html.h"
#include "tests/support/docx_writer.h"
#include "tests/support/pdf_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace tilskudd {

void PrintTo(LetterKind k, std::ostream* os) {
  *os << enum_name(k);
}

namespace {

const std::vector<std::string> kOla = {"Ola Hansen"};
const std::vector<std::string> kOlaPer = {"Ola Hansen", "Per Olsen"};

const char* kSingleGrant = R"(Statsforvalteren i Oslo og Viken

Solsikken Barnehage AS
Postboks 12
1372 Asker

Vår dato: 07.09.2020
Vår ref.: 2020/34567
Deres ref.: SOL-2020-7

Tildelingsbrev - tilretteleggingsmidler for barnehageansatte 2020

Vi viser til søknad mottatt 15.08.2020 om tilretteleggingsmidler for ansatte i barnehage som
tar arbeidsplassbasert barnehagelærerutdanning (ABLU).

Statsforvalteren i Oslo og Viken tildeler Solsikken Barnehage AS kr 40 000 i
tilretteleggingsmidler for Ola Hansen for studieåret 2020-2021.

Midlene skal brukes til tilrettelegging for den ansatte, for eksempel vikarutgifter.
Tilskuddet utbetales til barnehagens kontonummer.

Med hilsen

Kari Lund
seniorrådgiver

Dokumentet er elektronisk godkjent
)";

TEST(LetterSingleGrant, IsGrantWithAmountSenderDateAndReference) {
  Letter l = parse_letter(kSingleGrant, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  EXPECT_EQ(l.sender, "Statsforvalteren i Oslo og Viken");
  ASSERT_TRUE(l.date.has_value());
  EXPECT_EQ(l.date->iso(), "2020-09-07");
  EXPECT_EQ(l.reference, "2020/34567");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].employee, "Ola Hansen");
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_TRUE(looks_like_letter(kSingleGrant));
}

const char* kGrantWithApplied = R"(STATSFORVALTEREN I OSLO OG VIKEN

Vår dato: 02.10.2020                          Vår ref.: 2020/40112

Solsikken Barnehage AS

Svar på søknad om tilretteleggingsmidler

Dere søkte om kr 95 000 i tilretteleggingsmidler for Ola Hansen, som tar ABLU ved OsloMet.
Samlede kostnader er oppgitt til kr 120 000. Søknaden er behandlet, og Statsforvalteren
har innvilget tilretteleggingsmidler på kr 40 000.

Vi har i år fått flere søknader enn det er midler til, og har derfor ikke kunnet innvilge
hele det omsøkte beløpet.

Med hilsen
Anne Berg (e.f.)
avdelingsdirektør                             Per Dahl
                                              rådgiver
Dokumentet er elektronisk godkjent og har derfor ikke håndskrevne signaturer.
)";

TEST(LetterGrantWithAppliedAmount, GivesOnlyTheGrantedAmount) {
  Letter l = parse_letter(kGrantWithApplied, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  EXPECT_EQ(l.sender, "Statsforvalteren i Oslo og Viken");
  EXPECT_EQ(l.reference, "2020/40112");
  ASSERT_TRUE(l.date);
  EXPECT_EQ(l.date->iso(), "2020-10-02");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
}

TEST(LetterGrantWithAppliedAmount, AppliedThenGrantedInOneSentence) {
  Letter l = parse_letter(
      "Statsforvalteren i Oslo og Viken\n\nDere søkte om kr 95 000, og tildeles kr 40 000 i "
      "tilretteleggingsmidler.\n",
      {});
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  l = parse_letter("Av omsøkt beløp på kr 95 000 innvilges kr 40 000.", {});
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  l = parse_letter("Vi har innvilget søknaden om kr 40 000 i tilretteleggingsmidler.", {});
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  l = parse_letter("Tilskudd: kr 45 000\nSøkt beløp: kr 60 000\n", {});
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{45000});
}

const char* kRejection = R"(Statsforvalteren i Oslo og Viken

Solsikken Barnehage AS
Postboks 12
1372 ASKER

Deres ref.:                 Vår ref.:                 Vår dato:
SOL-2020-7                  2020/35001                14.09.2020

Avslag på søknad om tilretteleggingsmidler

Vi viser til deres søknad om tilretteleggingsmidler for Per Olsen.

Statsforvalteren har i år begrenset med midler, og tildeler midler etter en prioritering
der ABLU-studenter prioriteres. Søknaden er avslått.

Vedtaket kan påklages innen tre uker, jf. forvaltningsloven §§ 28 og 29.

Med hilsen

Kari Lund
seniorrådgiver

Dokumentet er elektronisk godkjent
)";

TEST(LetterRejection, IsRejectionWithNoAmounts) {
  Letter l = parse_letter(kRejection, {"Per Olsen"});
  EXPECT_EQ(l.kind, LetterKind::rejection);
  EXPECT_TRUE(l.amounts.empty());
  EXPECT_EQ(l.reference, "2020/35001");
  ASSERT_TRUE(l.date);
  EXPECT_EQ(l.date->iso(), "2020-09-14");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::rejection);
  EXPECT_FALSE(l.entries[0].amount);
  EXPECT_TRUE(looks_like_letter(kRejection));
}

TEST(LetterRejection, RejectionWordings) {
  for (const char* text :
       {"Søknaden innvilges ikke.", "Søknaden er ikke innvilget.",
        "Statsforvalteren kan ikke innvilge søknaden.", "Vi må dessverre gi avslag på søknaden.",
        "Deres søknad avslås.", "Søknaden er avslått."}) {
    Letter l = parse_letter(std::string("Statsforvalteren i Oslo og Viken\n\n") + text, {});
    EXPECT_EQ(l.kind, LetterKind::rejection) << text;
    EXPECT_TRUE(l.amounts.empty()) << text;
  }
}

const char* kRejectionWithApplied = R"(Fylkesmannen i Oslo og Viken

Vår dato: 21.08.2020
Vår referanse: 2020/29876

Svar på søknad om tilretteleggingsmidler - Per Olsen

Dere har søkt om kr 60 000 i tilretteleggingsmidler for Per Olsen, som tar
barnehagelærerutdanning på deltid. Budsjettet for tiltaket er kr 75 000.

Etter en samlet vurdering må vi dessverre gi avslag på søknaden. Deres søknad avslås
fordi midlene i år er brukt opp.

Med hilsen
Fylkesmannen i Oslo og Viken
)";

TEST(LetterRejectionWithAppliedAmount, HasNoAmounts) {
  Letter l = parse_letter(kRejectionWithApplied, {"Per Olsen"});
  EXPECT_EQ(l.kind, LetterKind::rejection);
  EXPECT_TRUE(l.amounts.empty());
  EXPECT_EQ(l.sender, "Fylkesmannen i Oslo og Viken");
  EXPECT_EQ(l.reference, "2020/29876");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::rejection);
}

const char* kReceipt = R"(Statsforvalteren i Oslo og Viken

Vår dato: 20.08.2020
Vår ref.: 2020/30001

Bekreftelse på mottatt søknad

Vi har mottatt søknaden deres om tilretteleggingsmidler for Ola Hansen, der dere søker om
kr 95 000. Søknaden vil bli behandlet i løpet av september. Dere vil motta et
tildelingsbrev eller et avslag når søknaden er ferdig behandlet.

Med hilsen
Statsforvalteren i Oslo og Viken
)";

TEST(LetterReceipt, IsUnknownWithNoAmounts) {
  Letter l = parse_letter(kReceipt, kOla);
  EXPECT_EQ(l.kind, LetterKind::unknown);
  EXPECT_TRUE(l.amounts.empty());
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::unknown);
  EXPECT_TRUE(looks_like_letter(kReceipt));
}

const char* kMixed = R"(Statsforvalteren i Oslo og Viken

Vår dato: 10.09.2020
Vår ref.: 2020/34999

Svar på søknad om tilretteleggingsmidler - to ansatte

Vi viser til søknaden om tilretteleggingsmidler for to ansatte i barnehagen.

Ola Hansen tar arbeidsplassbasert barnehagelærerutdanning. For Ola Hansen innvilges
tilretteleggingsmidler på kr 40 000.

Per Olsen har søkt om kr 60 000. Søknaden for Per Olsen innvilges ikke, fordi
utdanningen ikke er prioritert.

Dersom søknaden hadde blitt innvilget for begge, ville barnehagen fått kr 100 000.

Med hilsen
Kari Lund
)";

TEST(LetterMixedTwoEmployees, EachEmployeeGetsOwnKindAndAmount) {
  Letter l = parse_letter(kMixed, kOlaPer);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[0].employee, "Ola Hansen");
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_EQ(l.entries[1].employee, "Per Olsen");
  EXPECT_EQ(l.entries[1].kind, LetterKind::rejection);
  EXPECT_FALSE(l.entries[1].amount);
}

TEST(LetterMixedTwoEmployees, OneSentenceWithBothEmployees) {
  Letter l = parse_letter(
      "Statsforvalteren tildeler kr 40 000 for Ola Hansen, mens søknaden for Per Olsen avslås.",
      kOlaPer);
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_EQ(l.entries[1].kind, LetterKind::rejection);
  EXPECT_EQ(l.kind, LetterKind::grant);
}

TEST(LetterMixedTwoEmployees, AllNamedRejectedIsRejection) {
  Letter l = parse_letter(
      "Statsforvalteren i Oslo og Viken\n\nOla Hansen: søknaden er avslått.\n\nPer Olsen: "
      "søknaden er avslått.\n",
      kOlaPer);
  EXPECT_EQ(l.kind, LetterKind::rejection);
  EXPECT_TRUE(l.amounts.empty());
  ASSERT_EQ(l.entries.size(), 2u);
}

const char* kTable = R"(Statsforvalteren i Oslo og Viken

Vår dato: 11.09.2020
Vår ref.: 2020/35111

Tildeling av tilretteleggingsmidler 2020

Statsforvalteren har behandlet søknaden og tildeler tilretteleggingsmidler slik:

Navn | Utdanning | Søkt beløp | Tildelt
Ola Hansen | ABLU | kr 95 000 | kr 40 000
Per Olsen | Barnehagelærerutdanning deltid | kr 60 000 | avslag

Til sammen tildeles barnehagen kr 40 000.

Med hilsen
Kari Lund
)";

TEST(LetterTableOfEmployees, RowsGiveEntries) {
  Letter l = parse_letter(kTable, kOlaPer);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_EQ(l.entries[1].kind, LetterKind::rejection);
  EXPECT_FALSE(l.entries[1].amount);
}

TEST(LetterTableOfEmployees, TableWithoutHeaderAndTwoGrants) {
  Letter l = parse_letter(
      "Statsforvalteren i Oslo og Viken\n\nTildelingsbrev\n\nOla Hansen | ABLU | kr 40 000\nPer "
      "Olsen | ABLU | kr 30 000\n",
      kOlaPer);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, (std::vector<Kroner>{40000, 30000}));
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[1].amount, 30000);
}

const char* kFylkesmannen2020 = R"(Fylkesmannen i Oslo og Viken
Postboks 325, 1502 Moss

Solsikken Barnehage AS
v/ Kari Nordmann

Deres ref.: 20/30298             Vår ref.: 2020/12345             Dato: 28.08.2020

TILSAGN OM TILSKUDD - TILRETTELEGGINGSMIDLER FOR ANSATTE I BARNEHAGE 2020

Fylkesmannen gir med dette tilsagn om tilskudd til Solsikken Barnehage AS.

Tilskudd: kr 45 000

Tilskuddet gjelder Hansen, Ola, som tar arbeidsplassbasert barnehagelærerutdanning.

Med vennlig hilsen
Fylkesmannen i Oslo og Viken
)";

TEST(LetterFylkesmannen2020, OldSenderAndReversedName) {
  Letter l = parse_letter(kFylkesmannen2020, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{45000});
  EXPECT_EQ(l.sender, "Fylkesmannen i Oslo og Viken");
  EXPECT_EQ(l.reference, "2020/12345");
  ASSERT_TRUE(l.date);
  EXPECT_EQ(l.date->iso(), "2020-08-28");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 45000);
}

const char* kGrantWithAppeal = R"(Statsforvalteren i Oslo og Viken

Vår dato: 08.09.2020
Vår ref.: 2020/34600

Vedtak om tilretteleggingsmidler

Vi har innvilget søknaden fra Solsikken Barnehage AS. Barnehagen tildeles kr 35 000 for
Ola Johan Hansen.

Dersom søknaden hadde blitt avslått, kunne barnehagen søkt kommunen om midler.
Vedtaket kan påklages til Utdanningsdirektoratet. En klage må sendes innen tre uker
etter at dere mottok dette brevet. Dersom dere ikke får innvilget klagen, er avslaget
endelig.

Med hilsen
Kari Lund
)";

TEST(LetterGrantWithAppealBoilerplate, BoilerplateDoesNotFlipTheGrant) {
  Letter l = parse_letter(kGrantWithAppeal, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{35000});
  // "Ola Johan Hansen" in the letter matches "Ola Hansen" in the form.
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 35000);
}

const char* kLayout =
    "                                                        \n"
    "      STATSFORVALTEREN I OSLO OG VIKEN                                           \n"
    "\n"
    "      Solsikken Barnehage AS                        Vår dato:        Vår ref.:\n"
    "      Postboks 12                                   07.09.2020       2020/34567\n"
    "      1372 ASKER                                    Deres dato:      Deres ref.:\n"
    "                                                    15.08.2020       20/30298\n"
    "\n"
    "\n"
    "      Tildelingsbrev   -   tilretteleggingsmidler\n"
    "\n"
    "      Statsforvalteren   tildeler   Solsikken   Barnehage   AS   kr 45\xC2\xA0"
    "000   i   tilrette-\n"
    "      leggingsmidler for Ola Hansen.\n"
    "\f"
    "      Med hilsen\n"
    "\n"
    "      Kari Lund                                     Per Dahl\n"
    "      seniorrådgiver                                rådgiver\n"
    "      Dokumentet er elektronisk godkjent\n";

TEST(LetterFromPdftotextLayout, OddSpacingColumnsAndHyphenation) {
  Letter l = parse_letter(kLayout, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{45000});
  EXPECT_EQ(l.sender, "Statsforvalteren i Oslo og Viken");
  ASSERT_TRUE(l.date);
  EXPECT_EQ(l.date->iso(), "2020-09-07");
  EXPECT_EQ(l.reference, "2020/34567");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].amount, 45000);
}

TEST(LetterEmptyText, IsUnknownAndNotALetter) {
  Letter l = parse_letter("", kOla);
  EXPECT_EQ(l.kind, LetterKind::unknown);
  EXPECT_TRUE(l.amounts.empty());
  EXPECT_TRUE(l.entries.empty());
  EXPECT_EQ(l.sender, "");
  EXPECT_FALSE(l.date);
  EXPECT_EQ(l.reference, "");
  EXPECT_FALSE(looks_like_letter(""));
  EXPECT_FALSE(looks_like_letter("   \n\n\f  "));
}

TEST(LetterJunk, OneMegabyteOfJunkIsQuickAndHarmless) {
  std::string junk;
  unsigned x = 12345;
  while (junk.size() < (1u << 20)) {
    x = x * 1103515245u + 12345u;
    junk.push_back(static_cast<char>((x >> 16) & 0xff));
  }
  auto start = std::chrono::steady_clock::now();
  Letter l = parse_letter(junk, kOlaPer);
  bool letter = looks_like_letter(junk);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(l.kind, LetterKind::unknown);
  EXPECT_TRUE(l.amounts.empty());
  EXPECT_FALSE(letter);
}

TEST(LetterJunk, RepetitiveWordingIsBounded) {
  std::string big;
  while (big.size() < (1u << 20)) big += "tildeles kr 40 000 ikke avslag | Ola Hansen, ";
  auto start = std::chrono::steady_clock::now();
  Letter l = parse_letter(big, kOlaPer);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  (void)l;
}

TEST(LooksLikeLetter, ApplicationFormIsNotALetter) {
  const char* form =
      R"(Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte
Saksnummer: 20/30298
Barnehageeier: Solsikken Barnehage AS
Organisasjonsnummer: 987 654 325
Barnehage: Solsikken barnehage
Kontaktperson: Kari Nordmann
Kontonummer: 1234 56 78903

Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren
Ola Hansen | ABLU | OsloMet | 95 000 | 40 000
)";
  EXPECT_FALSE(looks_like_letter(form));
}

TEST(LooksLikeLetter, UnrelatedTextIsNotALetter) {
  EXPECT_FALSE(looks_like_letter("Hei! Vedlagt er menyen for julebordet 11.12.2020."));
  EXPECT_FALSE(looks_like_letter("Faktura 12345. Beløp: kr 4 500. Forfall 01.10.2020."));
}

TEST(LooksLikeLetter, StateLettersAreLetters) {
  EXPECT_TRUE(looks_like_letter(kSingleGrant));
  EXPECT_TRUE(looks_like_letter(kFylkesmannen2020));
  EXPECT_TRUE(looks_like_letter(kLayout));
  EXPECT_TRUE(looks_like_letter("Søknaden om tilretteleggingsmidler er avslått."));
}

TEST(LetterKindCode, NamesEveryKind) {
  EXPECT_EQ(enum_name(LetterKind::grant), "grant");
  EXPECT_EQ(enum_name(LetterKind::rejection), "rejection");
  EXPECT_EQ(enum_name(LetterKind::unknown), "unknown");
}

TEST(LetterEmployeeMatching, FormMiddleNameMatchesLetterWithout) {
  Letter l =
      parse_letter("Statsforvalteren tildeler kr 40 000 for Ola Hansen.", {"Ola Johan Hansen"});
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].employee, "Ola Johan Hansen");
  EXPECT_EQ(l.entries[0].amount, 40000);
}

TEST(LetterEmployeeMatching, CaseAndHyphensDoNotMatter) {
  Letter l = parse_letter("Statsforvalteren tildeler kr 40 000 for KARI HANSEN-BERG.",
                          {"Kari Hansen Berg", "Per Olsen"});
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].employee, "Kari Hansen Berg");
}

TEST(LetterEmployeeMatching, NamesNotInTheLetterGetNoEntry) {
  Letter l = parse_letter(kSingleGrant, {"Kari Nordmann", "Per Olsen"});
  EXPECT_TRUE(l.entries.empty());
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
}

TEST(LetterGrantWording, VariantsAreGrants) {
  for (const char* text : {"Tildelingsbrev\n\nDere får kr 40 000.", "Vi har innvilget søknaden.",
                           "Det innvilges tilretteleggingsmidler på kr 40 000.",
                           "Statsforvalteren gir tilsagn om tilskudd på kr 40 000."}) {
    Letter l = parse_letter(text, {});
    EXPECT_EQ(l.kind, LetterKind::grant) << text;
  }
}

TEST(LetterRejection, StateBudgetAmountIsNotAGrant) {
  Letter l = parse_letter(
      "Statsforvalteren har fått tildelt kr 2 000 000 fra Utdanningsdirektoratet. Deres søknad "
      "avslås.",
      {});
  EXPECT_EQ(l.kind, LetterKind::rejection);
  EXPECT_TRUE(l.amounts.empty());
}

TEST(LetterTableOfEmployees, LayoutTableWithHeaderColumns) {
  Letter l = parse_letter(
      "Navn                 Utdanning      Søkt        Innvilget\n"
      "Ola Hansen           ABLU           95 000      40 000\n"
      "Per Olsen            BLU deltid     60 000      0\n",
      kOlaPer);
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[0].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_EQ(l.entries[1].kind, LetterKind::rejection);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
}

TEST(LooksLikeLetter, ApplicantMentioningTheLetterDecidesNothing) {
  Letter l =
      parse_letter("Hei Kari,\nvedlagt er tildelingsbrevet fra Statsforvalteren.\nMvh Ola", {});
  EXPECT_EQ(l.kind, LetterKind::unknown);
}

TEST(LetterEndToEnd, GeneratedPdfThroughPdftotextIsReadAsAGrant) {
  if (find_pdftotext().empty()) GTEST_SKIP() << "pdftotext not installed";
  std::string pdf = testing::make_pdf({kSingleGrant});
  PdfText t = extract_pdf_text_sandboxed(pdf);
  ASSERT_EQ(t.status, PdfStatus::ok) << t.detail;
  EXPECT_TRUE(looks_like_letter(t.text));
  Letter l = parse_letter(t.text, kOla);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  EXPECT_EQ(l.reference, "2020/34567");
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].amount, 40000);
}

TEST(LetterEndToEnd, GeneratedDocxTableIsReadPerEmployee) {
  DocxText t = extract_docx_text(testing::make_docx(
      {"Statsforvalteren i Oslo og Viken", "Vår ref.: 2020/35111", "Tildelingsbrev",
       "Statsforvalteren tildeler tilretteleggingsmidler slik:"},
      {{"Navn", "Utdanning", "Søkt beløp", "Tildelt"},
       {"Ola Hansen", "ABLU", "kr 95 000", "kr 40 000"},
       {"Per Olsen", "BLU deltid", "kr 60 000", "avslag"}}));
  ASSERT_TRUE(t.ok) << t.error;
  Letter l = parse_letter(t.text, kOlaPer);
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[1].kind, LetterKind::rejection);
}

}  // namespace
}  // namespace tilskudd

namespace tilskudd {
namespace {

TEST(LetterMixedTwoEmployees, SharedGrantWordingBeforeAListOfNamedAmounts) {
  Letter l = parse_letter(
      "Statsforvalteren tildeler Solsikken Barnehage AS tilretteleggingsmidler for følgende "
      "ansatte:\n  Ola Hansen, ABLU, OsloMet: kr 40 000\n  Per Olsen, ABLU, OsloMet: kr 35 000\n",
      {"Ola Hansen", "Per Olsen"});
  ASSERT_EQ(l.entries.size(), 2u);
  EXPECT_EQ(l.entries[0].amount, 40000);
  EXPECT_EQ(l.entries[1].kind, LetterKind::grant);
  EXPECT_EQ(l.entries[1].amount, 35000);
}

// --- The applicant and the sender (DECISIONS.md "What counts as the state's letter") ---------

TEST(LetterApplicant, OwnerNameAndOrganisationNumberAreFound) {
  const LetterParty solsikken{"Solsikken Barnehage AS", "987 654 321"};
  Letter l = parse_letter(kSingleGrant, kOla, solsikken);
  EXPECT_TRUE(l.names_owner);
  EXPECT_FALSE(l.names_org_number);
  // Case, spacing, layout gaps and a missing company form do not matter.
  l = parse_letter(kLayout, kOla, {"SOLSIKKEN  barnehage AS", ""});
  EXPECT_TRUE(l.names_owner);
  l = parse_letter("Statsforvalteren\nTil Solsikken Barnehage, Postboks 12\n", kOla, solsikken);
  EXPECT_TRUE(l.names_owner);
  for (const char* number : {"Org.nr. 987 654 321\n", "org.nr.: 987654321.\n", "987.654.321\n"}) {
    l = parse_letter(std::string("Statsforvalteren\n") + number, kOla, {"Andeby AS", "987654321"});
    EXPECT_TRUE(l.names_org_number) << number;
    EXPECT_FALSE(l.names_owner) << number;
  }
}

TEST(LetterApplicant, AnotherOwnerOrNumberIsNotTheApplicant) {
  Letter l = parse_letter(kSingleGrant, kOla, {"Solsikken Barnehagedrift AS", "987654321"});
  EXPECT_FALSE(l.names_owner);
  // A part of a longer number, or a name inside a longer name, does not count.
  l = parse_letter("Konto 1987654321 og 9876543210\nStore Solsikken Barnehage ASA\n", kOla,
                   {"Solsikken Barnehage", "987654321"});
  EXPECT_FALSE(l.names_org_number);
  EXPECT_TRUE(l.names_owner);  // "solsikken barnehage" stands as words in it
  l = parse_letter("Solsikken Barnehagene\n", kOla, {"Solsikken Barnehage", ""});
  EXPECT_FALSE(l.names_owner);
  // Nothing to look for finds nothing.
  l = parse_letter(kSingleGrant, kOla);
  EXPECT_FALSE(l.names_owner);
  EXPECT_FALSE(l.names_org_number);
}

TEST(LetterSender, IsTheLetterheadTheSignatureOrAFromLineNotTheProse) {
  EXPECT_EQ(parse_letter("Solsikken Barnehage AS\n\nVi har fått svar fra Statsforvalteren i Oslo "
                         "og Viken.\n",
                         kOla)
                .sender,
            "");
  std::string prose = "Til barnehagen\n";
  for (int i = 0; i < 12; ++i) prose += "Linje " + std::to_string(i) + ".\n";
  EXPECT_EQ(
      parse_letter(prose + "Statsforvalteren i Oslo og Viken tildeler kr 40 000.\n", kOla).sender,
      "");
  EXPECT_EQ(parse_letter(prose + "Med hilsen\nStatsforvalteren i Oslo og Viken\n", kOla).sender,
            "Statsforvalteren i Oslo og Viken");
  EXPECT_EQ(
      parse_letter(prose + "Fra: Fylkesmannen i Vestland <fmve@fylkesmannen.no>\n", kOla).sender,
      "Fylkesmannen i Vestland");
}

// ---- finding the employees' names: one pass, the same answers (issue 14) -------------------

// The one-pass index (parse_letter) must find exactly what find_name finds one name at a time:
// the same employees at the same offsets, on random sentences over a small vocabulary of names
// (first and last names shared between employees, commas, middle names, duplicates).
TEST(LetterNames, OnePassIndexAgreesWithTheNameAtATimeSearch) {
  const std::vector<std::string> words = {"ola",  "kari", "hansen", "nordmann", "lise", "per",
                                          "berg", "og",   ",",      "kr",       "for",  "a"};
  const std::vector<std::string> employees = {
      "Ola Hansen",  "Kari Nordmann", "Ola Nordmann", "Lise",     "Per Ola Berg",
      "Kari Hansen", "Ola Hansen",    "Berg",         "Per Berg", "Lise Kari Ola Hansen"};
  std::mt19937 rng(30298);
  std::uniform_int_distribution<std::size_t> pick(0, words.size() - 1);
  std::uniform_int_distribution<int> length(0, 16);
  int with_names = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string sentence;
    for (int k = length(rng); k > 0; --k) {
      const std::string& w = words[pick(rng)];
      sentence += (w == "," ? "" : " ") + w;
    }
    const auto want = find_employee_names_one_by_one(employees, sentence);
    ASSERT_EQ(find_employee_names(employees, sentence), want) << sentence;
    if (!want.empty()) ++with_names;
  }
  EXPECT_GT(with_names, 5000);
}

// Was quadratic (fixed): every sentence was tokenised once per employee, so a form with 5,000
// lines and a letter naming each meant 25 million scans (seconds of CPU for one message, a
// minute at 20,000). Now each sentence is read once (no timing is asserted).
TEST(LetterNames, ManyEmployeesAndALongLetterAreReadInOnePass) {
  // Names of letters only ("Baa Caab"), all different.
  const auto word = [](int n, char first) {
    std::string w(1, first);
    for (int k = 0; k < 4; ++k, n /= 26) w += static_cast<char>('a' + n % 26);
    return w;
  };
  std::vector<std::string> employees;
  std::string text = "Statsforvalteren i Oslo og Viken\nVedtak om tilretteleggingsmidler\n\n";
  for (int i = 0; i < 5000; ++i) {  // 180 kB of letter: under the letter's 256 KiB bound
    employees.push_back(word(i, 'B') + " " + word(i * 7 + 3, 'C'));
    text += employees.back() + " er innvilget kr 40 000.\n";
  }
  const Letter l = parse_letter(text, employees);
  ASSERT_EQ(l.entries.size(), employees.size());
  EXPECT_EQ(l.entries.front().kind, LetterKind::grant);
  EXPECT_EQ(l.entries.back().amount, 40000);
}

// --- Letters that list names (issue 15) ------------------------------------------------------

const std::string kListHead = R"(Statsforvalteren i Oslo og Viken

Solsikken Barnehage AS

Vår dato: 24.11.2020
Vår ref.: 2020/43817

Tilsagn om tilretteleggingsmidler 2020

)";
const std::vector<std::string> kThree = {"Ola Hansen", "Per Olsen", "Kari Lund"};

const LetterEntry* entry_of(const Letter& l, const std::string& name) {
  for (const auto& e : l.entries)
    if (e.employee == name) return &e;
  return nullptr;
}

void expect_entry(const Letter& l, const std::string& name, LetterKind kind,
                  std::optional<Kroner> amount, const std::string& text) {
  const LetterEntry* e = entry_of(l, name);
  ASSERT_NE(e, nullptr) << name << "\n" << text;
  EXPECT_EQ(e->kind, kind) << name << "\n" << text;
  EXPECT_EQ(e->amount, amount) << name << "\n" << text;
}

// Was: the names under "følgende ansatte:" got no verdict of their own and the per-student
// amount was read once (the second line then had amount_unconfirmed).
TEST(LetterListOfNames, PerStudentAmountGoesToEachListedName) {
  for (const std::string& list : {
           std::string("Ola Hansen\nPer Olsen\n"),                      // names on their own lines
           std::string("\nOla Hansen\nPer Olsen\n"),                    // after a blank line
           std::string("- Ola Hansen\n- Per Olsen\n"),                  // a bulleted list
           std::string("\n• Ola Hansen\n\n• Per Olsen\n"),              // bullets with blank lines
           std::string("1. Ola Hansen (ABLU)\n2. Per Olsen (ABLU)\n"),  // numbered
       }) {
    const std::string t = kListHead +
                          "Statsforvalteren innvilger kr 50 000 per student for følgende "
                          "ansatte:\n" +
                          list + "\nTil sammen kr 100 000.\n\nMed hilsen\nKari Berg\n";
    Letter l = parse_letter(t, kThree);
    EXPECT_EQ(l.kind, LetterKind::grant) << t;
    ASSERT_EQ(l.entries.size(), 2u) << t;
    expect_entry(l, "Ola Hansen", LetterKind::grant, 50000, t);
    expect_entry(l, "Per Olsen", LetterKind::grant, 50000, t);
    for (const auto& e : l.entries) EXPECT_EQ(e.amount_doubt, "") << t;
  }
}

TEST(LetterListOfNames, TableWithANameColumnUnderTheIntroduction) {
  const std::string t = kListHead +
                        "Følgende ansatte tildeles kr 50 000 pr. student:\n\n"
                        "Navn                 Utdanning\n"
                        "Ola Hansen           ABLU\n"
                        "Per Olsen            ABLU\n\n"
                        "Samlet tilskudd: kr 100 000\n";
  Letter l = parse_letter(t, kThree);
  ASSERT_EQ(l.entries.size(), 2u) << t;
  expect_entry(l, "Ola Hansen", LetterKind::grant, 50000, t);
  expect_entry(l, "Per Olsen", LetterKind::grant, 50000, t);
}

TEST(LetterListOfNames, TotalThatDisagreesWithTheLinesLeavesTheAmountsInDoubt) {
  const std::string t = kListHead +
                        "Statsforvalteren innvilger kr 50 000 per student for følgende "
                        "ansatte:\nOla Hansen\nPer Olsen\n\nTil sammen kr 90 000.\n";
  Letter l = parse_letter(t, kThree);
  ASSERT_EQ(l.entries.size(), 2u) << t;
  for (const auto& e : l.entries) {
    EXPECT_EQ(e.kind, LetterKind::grant);
    EXPECT_NE(e.amount_doubt.find("90 000"), std::string::npos) << e.amount_doubt;
  }
  // Names with their own amounts: the total checks their sum.
  const std::string own = kListHead +
                          "Statsforvalteren innvilger tilretteleggingsmidler til følgende "
                          "ansatte:\n- Ola Hansen: kr 40 000\n- Per Olsen: kr 35 000\n\n"
                          "Totalt kr 75 000.\n";
  Letter ok = parse_letter(own, kThree);
  expect_entry(ok, "Ola Hansen", LetterKind::grant, 40000, own);
  expect_entry(ok, "Per Olsen", LetterKind::grant, 35000, own);
  for (const auto& e : ok.entries) EXPECT_EQ(e.amount_doubt, "") << own;
  std::string bad = own;
  bad.replace(bad.find("75 000"), 6, "80 000");
  for (const auto& e : parse_letter(bad, kThree).entries) EXPECT_NE(e.amount_doubt, "") << bad;
}

TEST(LetterListOfNames, RejectionListAndGrantListInOneLetter) {
  const std::string t = kListHead +
                        "Statsforvalteren avslår søknaden for følgende ansatte:\n"
                        "Ola Hansen\nPer Olsen\n\n"
                        "Statsforvalteren innvilger kr 50 000 per ansatt for følgende ansatte:\n"
                        "Kari Lund\n\nMed hilsen\nKari Berg\n";
  Letter l = parse_letter(t, kThree);
  ASSERT_EQ(l.entries.size(), 3u) << t;
  expect_entry(l, "Ola Hansen", LetterKind::rejection, std::nullopt, t);
  expect_entry(l, "Per Olsen", LetterKind::rejection, std::nullopt, t);
  expect_entry(l, "Kari Lund", LetterKind::grant, 50000, t);
  const std::string only = kListHead +
                           "Statsforvalteren avslår søknaden for følgende ansatte:\n"
                           "Ola Hansen\nPer Olsen\n";
  Letter r = parse_letter(only, kThree);
  EXPECT_EQ(r.kind, LetterKind::rejection);
  expect_entry(r, "Ola Hansen", LetterKind::rejection, std::nullopt, only);
  expect_entry(r, "Per Olsen", LetterKind::rejection, std::nullopt, only);
}

TEST(LetterListOfNames, AnAmountForAllOfThemIsNotEachOnesAmount) {
  // Not per student: kr 100 000 is the sum for the list, so no name has an amount of its own.
  const std::string t = kListHead +
                        "Statsforvalteren tildeler kr 100 000 til følgende ansatte:\n"
                        "Ola Hansen\nPer Olsen\n";
  Letter l = parse_letter(t, kThree);
  expect_entry(l, "Ola Hansen", LetterKind::grant, std::nullopt, t);
  expect_entry(l, "Per Olsen", LetterKind::grant, std::nullopt, t);
  // One name: the amount is theirs.
  const std::string one =
      kListHead + "Statsforvalteren tildeler kr 45 000 til følgende ansatt:\nOla Hansen\n";
  expect_entry(parse_letter(one, kThree), "Ola Hansen", LetterKind::grant, 45000, one);
}

TEST(LetterListOfNames, AnAmountOnTheLineAfterAColonIsStillGranted) {
  const std::string t = kListHead + "Statsforvalteren gir tilsagn:\nkr 40 000\n\nMed hilsen\n";
  Letter l = parse_letter(t, {"Ola Hansen"});
  EXPECT_EQ(l.kind, LetterKind::grant);
  EXPECT_EQ(l.amounts, std::vector<Kroner>{40000});
}

// The form's own instructions name the letters to attach: that is no decision. Was: a form
// read as a letter (a PDF copy of the form beside the form in the body) was a rejection, by
// "avslagsbrev".
TEST(FormOrLetter, TheFormsInstructionsAreNoDecision) {
  const std::string form =
      "Søknad om tilretteleggingsmidler for barnehageansatte\n\n"
      "Barnehageeier: Solsikken Barnehage AS\n"
      "Organisasjonsnummer: 987 654 325\n"
      "Kontaktperson: Kari Nordmann\n\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n\n"
      "Legg ved tildelingsbrev/avslagsbrev fra Statsforvalteren for hver ansatt.\n"
      "Husk å legge ved avslagsbrevet dersom søknaden er avslått.\n"
      "Tildelingsbrev eller avslagsbrev fra Statsforvalteren vedlegges søknaden.\n";
  Letter l = parse_letter(form, {"Ola Hansen"});
  EXPECT_EQ(l.kind, LetterKind::unknown);
  for (const auto& e : l.entries) EXPECT_EQ(e.kind, LetterKind::unknown);
  EXPECT_FALSE(looks_like_letter(form));
  // Without its labels (a layout the label reader misses) the instructions still decide nothing.
  const std::string bare = form.substr(form.find("Navn |"));
  EXPECT_EQ(parse_letter(bare, {"Ola Hansen"}).kind, LetterKind::unknown);
  EXPECT_FALSE(looks_like_letter(bare));
  // A rejection letter is still one.
  EXPECT_EQ(parse_letter("Statsforvalteren i Oslo og Viken\n\nSøknaden om tilretteleggingsmidler "
                         "for Ola Hansen er avslått.\n",
                         {"Ola Hansen"})
                .kind,
            LetterKind::rejection);
}

// The same list in an HTML letter (a forwarded mail's body): <ul><li> and a <table>.
TEST(LetterListOfNames, HtmlListAndTable) {
  for (const std::string& list :
       {std::string("<ul><li>Ola Hansen</li><li>Per Olsen</li></ul>"),
        std::string("<table><tr><th>Navn</th><th>Utdanning</th></tr><tr><td>Ola Hansen</td>"
                    "<td>ABLU</td></tr><tr><td>Per Olsen</td><td>ABLU</td></tr></table>")}) {
    const std::string html =
        "<p>Statsforvalteren i Oslo og Viken</p><p>Vår dato: 24.11.2020</p><p>Statsforvalteren "
        "innvilger kr 50 000 per student for følgende ansatte:</p>" +
        list + "<p>Til sammen kr 100 000.</p><p>Med hilsen<br>Kari Berg</p>";
    const std::string t = html_to_text(html);
    Letter l = parse_letter(t, kThree);
    expect_entry(l, "Ola Hansen", LetterKind::grant, 50000, t);
    expect_entry(l, "Per Olsen", LetterKind::grant, 50000, t);
  }
}

// A list of 5,000 names under one introduction is read once, not once per name (was quadratic
// in the first version of the list reader; no timing is asserted, the bound is the CPU budget).
TEST(LetterListOfNames, ALongListIsReadOnce) {
  std::vector<std::string> employees;
  std::string text = kListHead +
                     "Statsforvalteren innvilger kr 50 000 per student for følgende "
                     "ansatte:\n";
  for (int i = 0; i < 5000; ++i) {
    std::string a(1, static_cast<char>('B' + i % 20)), b(1, static_cast<char>('C' + i % 19));
    for (int k = 0, n = i; k < 4; ++k, n /= 26) a += static_cast<char>('a' + n % 26);
    for (int k = 0, n = i * 7 + 3; k < 4; ++k, n /= 26) b += static_cast<char>('a' + n % 26);
    employees.push_back(a + " " + b);
    text += "- " + employees.back() + "\n";
  }
  text += "\nTil sammen kr 250 000 000.\n";
  const auto start = std::chrono::steady_clock::now();
  const Letter l = parse_letter(text, employees);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  ASSERT_EQ(l.entries.size(), employees.size());
  EXPECT_EQ(l.entries.back().amount, 50000);
  EXPECT_EQ(l.entries.back().amount_doubt, "");
}

// A table of "Søkt" and "Tildelt" under an introduction ending in ':' is the list: each row's
// "Tildelt" is its name's amount, and the total checks them.
TEST(LetterListOfNames, TableOfGrantsUnderAnIntroduction) {
  const std::string t = kListHead +
                        "Statsforvalteren tildeler tilskudd som vist i tabellen:\n\n"
                        "Ansatt          Utdanning    Søkt beløp    Tildelt beløp\n"
                        "Ola Hansen      ABLU         kr 95 000     kr 50 000\n"
                        "Per Olsen       ABLU         kr 80 000     kr 40 000\n\n"
                        "Til sammen kr 90 000.\n";
  Letter l = parse_letter(t, kThree);
  expect_entry(l, "Ola Hansen", LetterKind::grant, 50000, t);
  expect_entry(l, "Per Olsen", LetterKind::grant, 40000, t);
  for (const auto& e : l.entries) EXPECT_EQ(e.amount_doubt, "") << t;
  std::string bad = t;
  bad.replace(bad.find("90 000."), 6, "95 000");
  for (const auto& e : parse_letter(bad, kThree).entries) EXPECT_NE(e.amount_doubt, "") << bad;
}

}  // namespace
}  // namespace tilskudd
