#include "parsers/form.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tilskudd {
namespace {

// docs/CONTRACT.md §1's example, with a valid organisation number (987654325 passes mod-11).
constexpr const char* kContractForm =
    "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte\n"
    "Saksnummer: 20/30298\n"
    "Barnehageeier: Solsikken Barnehage AS\n"
    "Organisasjonsnummer: 987 654 325\n"
    "Barnehage: Solsikken barnehage\n"
    "Kontaktperson: Kari Nordmann\n"
    "E-post: kari@solsikken.no\n"
    "Kontonummer: 1234 56 78903\n"
    "Deres referanse: SOL-2020-7\n"
    "\n"
    "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
    "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
    "Per Olsen | Barnehagelærerutdanning deltid | USN | kr 60.000,- | avslag\n";

void expect_contract_lines(const Form& f) {
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].employee, "Ola Hansen");
  EXPECT_EQ(f.lines[0].programme, Programme::ABLU);
  EXPECT_EQ(f.lines[0].study_place, "OsloMet");
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_status, StateStatus::granted);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].employee, "Per Olsen");
  EXPECT_EQ(f.lines[1].programme, Programme::BLU_DELTID);
  EXPECT_EQ(f.lines[1].programme_text, "Barnehagelærerutdanning deltid");
  EXPECT_EQ(f.lines[1].cost, 60000);
  EXPECT_EQ(f.lines[1].cost_text, "kr 60.000,-");
  EXPECT_EQ(f.lines[1].state_status, StateStatus::rejected);
  EXPECT_FALSE(f.lines[1].state_grant.has_value());
}

TEST(Form, ContractExampleEveryField) {
  Form f = parse_form(kContractForm);
  EXPECT_TRUE(f.found);
  EXPECT_EQ(f.case_number, "20/30298");
  EXPECT_EQ(f.owner, "Solsikken Barnehage AS");
  EXPECT_EQ(f.org_number, "987654325");
  EXPECT_EQ(f.kindergarten, "Solsikken barnehage");
  EXPECT_EQ(f.contact, "Kari Nordmann");
  EXPECT_EQ(f.contact_email, "kari@solsikken.no");
  EXPECT_EQ(f.account_number, "12345678903");
  EXPECT_EQ(f.reference, "SOL-2020-7");
  expect_contract_lines(f);
  EXPECT_TRUE(f.unreadable_rows.empty());
}

TEST(Form, LabelSpellingsAnyCaseWithOrWithoutColon) {
  Form f = parse_form(
      "BARNEHAGEEIER Solsikken AS\n"
      "Org.nr. 987 654 325\n"
      "barnehage: Solsikken\n"
      "KONTAKTPERSON Kari\n"
      "Epost kari@solsikken.no\n"
      "Kontonr.: 1234.56.78903\n"
      "Deres ref. SOL-7\n");
  EXPECT_TRUE(f.found);
  EXPECT_EQ(f.owner, "Solsikken AS");
  EXPECT_EQ(f.org_number, "987654325");
  EXPECT_EQ(f.kindergarten, "Solsikken");
  EXPECT_EQ(f.contact, "Kari");
  EXPECT_EQ(f.contact_email, "kari@solsikken.no");
  EXPECT_EQ(f.account_number, "12345678903");
  EXPECT_EQ(f.reference, "SOL-7");
}

TEST(Form, OrgNumberLabelVariants) {
  for (const char* label :
       {"Organisasjonsnummer:", "Org.nr.", "Org.nr.:", "Org. nr", "Orgnr", "org nr:", "ORG.NR"}) {
    Form f = parse_form(std::string(label) + " 987 654 325\nBarnehageeier: X AS\n");
    EXPECT_EQ(f.org_number, "987654325") << label;
    EXPECT_EQ(f.owner, "X AS") << label;
  }
}

TEST(Form, EmailLabelVariants) {
  for (const char* label : {"E-post:", "Epost", "E-mail:", "e-postadresse:", "Email"}) {
    Form f = parse_form(std::string(label) + " <kari@solsikken.no>\n");
    EXPECT_EQ(f.contact_email, "kari@solsikken.no") << label;
  }
}

TEST(Form, BarnehageIsNotBarnehageeier) {
  Form f = parse_form("Barnehage: Solsikken\nBarnehageeier: Solsikken AS\n");
  EXPECT_EQ(f.kindergarten, "Solsikken");
  EXPECT_EQ(f.owner, "Solsikken AS");
  Form g = parse_form("Barnehage eier: Eier AS\nBarnehage Lille Solsikken\n");
  EXPECT_EQ(g.owner, "Eier AS");
  EXPECT_EQ(g.kindergarten, "Lille Solsikken");
}

TEST(Form, SeveralLabelsOnOneLine) {
  Form f = parse_form(
      "Barnehageeier: Solsikken AS      Org.nr.: 987 654 325\n"
      "Kontaktperson: Kari Nordmann E-post: kari@solsikken.no\n"
      "| Kontonummer | 1234 56 78903 | Deres ref. | SOL-7 |\n");
  EXPECT_EQ(f.owner, "Solsikken AS");
  EXPECT_EQ(f.org_number, "987654325");
  EXPECT_EQ(f.contact, "Kari Nordmann");
  EXPECT_EQ(f.contact_email, "kari@solsikken.no");
  EXPECT_EQ(f.account_number, "12345678903");
  EXPECT_EQ(f.reference, "SOL-7");
}

TEST(Form, LabelWithoutValueBeforeBlankLineTakesNothing) {
  Form f = parse_form("Kontaktperson\n\nHei, vi sender søknaden.\n");
  EXPECT_TRUE(f.contact.empty());
}

TEST(Form, MunicipalityColumnIsNotTheStatesAnswer) {
  Form f = parse_form(
      "Navn | Utdanning | Kostnad | Tilskudd fra Statsforvalteren | Søkt tilskudd fra kommunen\n"
      "Ola Hansen | ABLU | 95 000 | 40 000 | 55 000\n");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
}

TEST(Form, ValueOnTheNextLine) {
  Form f = parse_form("Barnehageeier\nSolsikken AS\nOrganisasjonsnummer:\n987 654 325\n");
  EXPECT_EQ(f.owner, "Solsikken AS");
  EXPECT_EQ(f.org_number, "987654325");
  EXPECT_TRUE(f.found);
}

TEST(Form, HtmlTableRendering) {
  Form f = parse_form(
      "| Barnehageeier | Solsikken Barnehage AS |\n"
      "| Organisasjonsnummer | 987 654 325 |\n"
      "| E-post | kari@solsikken.no |\n"
      "\n"
      "| Navn på ansatt | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren |\n"
      "| Ola Hansen | ABLU | OsloMet | 95 000 | 40 000 |\n"
      "| Per Olsen | Barnehagelærerutdanning deltid | USN | kr 60.000,- | avslag |\n");
  EXPECT_TRUE(f.found);
  EXPECT_EQ(f.owner, "Solsikken Barnehage AS");
  EXPECT_EQ(f.org_number, "987654325");
  EXPECT_EQ(f.contact_email, "kari@solsikken.no");
  expect_contract_lines(f);
}

TEST(Form, HtmlTableWithEmptyStateCell) {
  Form f = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 |  \n");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_status, StateStatus::unknown);
  EXPECT_TRUE(f.found);
}

TEST(Form, PdftotextLayoutColumnsSeparatedBySpaces) {
  Form f = parse_form(
      "Barnehageeier:           Solsikken Barnehage AS\n"
      "Organisasjonsnummer:     987 654 325\n"
      "\n"
      "Navn              Utdanning   Studiested   Kostnad      Tilskudd fra Statsforvalteren\n"
      "Ola Hansen        ABLU        OsloMet      95 000       40 000\n"
      "Per Olsen         BLU deltid  USN          kr 60.000,-  avslag\n");
  EXPECT_TRUE(f.found);
  EXPECT_EQ(f.owner, "Solsikken Barnehage AS");
  EXPECT_EQ(f.org_number, "987654325");
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].employee, "Ola Hansen");
  EXPECT_EQ(f.lines[0].study_place, "OsloMet");
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].programme, Programme::BLU_DELTID);
  EXPECT_EQ(f.lines[1].cost, 60000);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::rejected);
  EXPECT_TRUE(f.unreadable_rows.empty());
}

TEST(Form, PdftotextLayoutEmptyCellsAlignByHeader) {
  Form f = parse_form(
      "Navn på ansatt    Utdanning   Studiested   Kostnad      Tilskudd fra Statsforvalteren\n"
      "Ola Hansen        ABLU                     95 000       40 000\n"
      "Per Olsen         ABLU        USN          80 000\n");
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].study_place, "");
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].study_place, "USN");
  EXPECT_EQ(f.lines[1].cost, 80000);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::unknown);
}

TEST(Form, PdftotextLayoutWrappedHeaderAndCells) {
  Form f = parse_form(
      "Navn             Utdanning             Studiested   Kostnad    Tilskudd fra\n"
      "                                                               Statsforvalteren\n"
      "Ola Hansen       Arbeidsplassbasert    OsloMet      95 000     40 000\n"
      "                 barnehagelærerutdanning\n"
      "Per Olsen        Barnehagelærer-       USN          60 000     avslag\n"
      "                 utdanning deltid\n"
      "\n"
      "Med vennlig hilsen\n");
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].programme_text, "Arbeidsplassbasert barnehagelærerutdanning");
  EXPECT_EQ(f.lines[0].programme, Programme::ABLU);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].programme, Programme::BLU_DELTID);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::rejected);
  EXPECT_TRUE(f.unreadable_rows.empty());
}

TEST(Form, LabelLikeNameInsideTableIsARow) {
  Form f = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Barnehage Hansen | ABLU | OsloMet | 95 000 | 40 000\n");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].employee, "Barnehage Hansen");
  EXPECT_TRUE(f.kindergarten.empty());
}

TEST(Form, TabSeparated) {
  Form f = parse_form(
      "Barnehageeier\tSolsikken AS\n"
      "Org.nr.\t987654325\n"
      "Navn\tUtdanning\tStudiested\tKostnad\tTilskudd fra Fylkesmannen\n"
      "Ola Hansen\tABLU\tOsloMet\t95000\t40000\n"
      "Kari Dahl\tABLU\t\t70000\t\n");
  EXPECT_TRUE(f.found);
  EXPECT_EQ(f.owner, "Solsikken AS");
  EXPECT_EQ(f.org_number, "987654325");
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].study_place, "");
  EXPECT_EQ(f.lines[1].cost, 70000);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::unknown);
}

TEST(Form, SemicolonSeparated) {
  Form f = parse_form(
      "Navn;Utdanning;Studiested;Kostnad;Statlig tilskudd\n"
      "Ola Hansen;ABLU;OsloMet;95 000;40 000\n"
      "Per Olsen;BLU deltid;USN;kr 60.000,-;avslått\n");
  EXPECT_TRUE(f.found);
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::rejected);
}

TEST(Form, FiveEmployees) {
  Form f = parse_form(
      "Barnehageeier: Solsikken AS\nOrganisasjonsnummer: 987654325\n\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      "Per Olsen | Barnehagelærerutdanning – deltid | USN | 60 000 | avslag\n"
      "Kari Dahl | Arbeidsplassbasert barnehagelærerutdanning | NLA | 50 000 | 0\n"
      "Anne Berg | Videreutdanning | OsloMet | 30 000 | ikke mottatt\n"
      "Jon Lie | BLU deltid | DMMH | 45 000,50 | innvilget\n");
  ASSERT_EQ(f.lines.size(), 5u);
  EXPECT_EQ(f.lines[1].programme, Programme::BLU_DELTID);
  EXPECT_EQ(f.lines[2].programme, Programme::ABLU);
  EXPECT_EQ(f.lines[2].state_status, StateStatus::rejected);
  EXPECT_EQ(f.lines[3].programme, Programme::OTHER);
  EXPECT_EQ(f.lines[3].state_status, StateStatus::unknown);
  EXPECT_EQ(f.lines[4].cost, 45001);
  EXPECT_EQ(f.lines[4].state_status, StateStatus::granted);
  EXPECT_FALSE(f.lines[4].state_grant.has_value());
  EXPECT_TRUE(f.unreadable_rows.empty());
}

TEST(Form, MissingStudyPlaceColumn) {
  Form f = parse_form(
      "Navn | Utdanning | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | 95 000 | 40 000\n");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].study_place, "");
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
}

TEST(Form, ReorderedColumns) {
  Form f = parse_form(
      "Kostnad | Navn på ansatt | Tilskudd fra Statsforvalteren | Utdanning | Studiested\n"
      "95 000 | Ola Hansen | 40 000 | ABLU | OsloMet\n");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].employee, "Ola Hansen");
  EXPECT_EQ(f.lines[0].programme, Programme::ABLU);
  EXPECT_EQ(f.lines[0].study_place, "OsloMet");
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
}

TEST(Form, RowsWithoutHeaderUseTheFormsOrder) {
  Form f = parse_form(
      "Barnehageeier: Solsikken AS\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      "Per Olsen | BLU deltid | 60 000 | avslag\n");
  EXPECT_TRUE(f.found);
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[0].study_place, "OsloMet");
  EXPECT_EQ(f.lines[0].state_grant, 40000);
  EXPECT_EQ(f.lines[1].cost, 60000);
  EXPECT_EQ(f.lines[1].state_status, StateStatus::rejected);
}

TEST(Form, TableStopsAtSignatureAndProse) {
  Form f = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      "\n"
      "Med vennlig hilsen\n"
      "Kari Nordmann | Daglig leder\n"
      "Solsikken barnehage | tlf 12345678\n");
  EXPECT_EQ(f.lines.size(), 1u);
  EXPECT_TRUE(f.unreadable_rows.empty());
  Form g = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      "\n"
      "Vi ber om rask behandling.\n"
      "--\n"
      "Kari | 12345678\n");
  EXPECT_EQ(g.lines.size(), 1u);
  EXPECT_TRUE(g.unreadable_rows.empty());
}

TEST(Form, UnreadableRowsAreReported) {
  Form f = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      " | ABLU | OsloMet | 95 000 | 40 000\n"
      "Per Olsen | ABLU\n");
  EXPECT_EQ(f.lines.size(), 1u);
  ASSERT_EQ(f.unreadable_rows.size(), 2u);
  EXPECT_NE(f.unreadable_rows[0].find("no employee name"), std::string::npos);
  EXPECT_NE(f.unreadable_rows[1].find("cells do not match"), std::string::npos);
}

TEST(Form, TotalsRowIsNotAnEmployee) {
  Form f = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
      "Sum | | | 95 000 | 40 000\n");
  EXPECT_EQ(f.lines.size(), 1u);
  EXPECT_TRUE(f.unreadable_rows.empty());
}

TEST(Form, QuotedFormBelowAReplyIsNotRead) {
  Form f = parse_form(
      "Hei, her er tildelingsbrevet.\n\n"
      "Den 1. sep. 2020 kl. 10:00 skrev Kari <kari@solsikken.no>:\n"
      "> Barnehageeier: Solsikken AS\n"
      "> Organisasjonsnummer: 987654325\n"
      "> Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "> Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n");
  EXPECT_FALSE(f.found);
  EXPECT_TRUE(f.lines.empty());
  EXPECT_TRUE(f.owner.empty());
}

TEST(Form, FormAboveQuotedReplyIsRead) {
  Form f = parse_form(std::string(kContractForm) +
                      "\n> Barnehageeier: Annen eier\n> Ola Hansen | ABLU | X | 1 | 1\n");
  EXPECT_EQ(f.owner, "Solsikken Barnehage AS");
  expect_contract_lines(f);
}

TEST(Form, CrlfNonBreakingSpacesAndEnDash) {
  Form f = parse_form(
      "Barnehageeier:\xC2\xA0Solsikken AS\r\n"
      "Organisasjonsnummer: 987\xC2\xA0"
      "654\xC2\xA0"
      "325\r\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\r\n"
      "Ola Hansen | Barnehagelærerutdanning \xE2\x80\x93 deltid | USN | 95\xC2\xA0"
      "000 | 40\xC2\xA0"
      "000\r\n");
  EXPECT_EQ(f.owner, "Solsikken AS");
  EXPECT_EQ(f.org_number, "987654325");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].programme, Programme::BLU_DELTID);
  EXPECT_EQ(f.lines[0].cost, 95000);
  EXPECT_EQ(f.lines[0].state_grant, 40000);
}

TEST(Form, FoundNeedsTwoLabelsOrHeaderWithRow) {
  EXPECT_FALSE(parse_form("Barnehageeier: Solsikken AS\n").found);
  EXPECT_TRUE(parse_form("Barnehageeier: Solsikken AS\nKontaktperson: Kari\n").found);
  EXPECT_FALSE(
      parse_form("Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n")
          .found);
  EXPECT_FALSE(parse_form("Hei!\nVedlagt er tildelingsbrevet.\nMvh Kari\n").found);
}

TEST(Form, GarbageInput) {
  for (const char* s : {"", "\n\n\n", "|||||||", ";;;;\n;;;;", "\t\t\t", ">>>", "Navn |",
                        "Barnehageeier:", "\xFF\xFE\x00\x01", "Navn | Utdanning | Kostnad\n|||"}) {
    Form f = parse_form(s);
    EXPECT_TRUE(f.lines.empty()) << s;
    EXPECT_FALSE(f.found) << s;
  }
}

TEST(Form, MegabyteOfJunkIsBoundedAndSafe) {
  std::string junk;
  junk.reserve(1 << 20);
  unsigned x = 99;
  while (junk.size() < (1u << 20)) {
    x = x * 1103515245u + 12345u;
    const char alphabet[] = "Navn |;\t  Kostnad 95 000 ABLU\n> E-post: @.";
    junk += alphabet[(x >> 16) % (sizeof alphabet - 1)];
  }
  Form f = parse_form(junk);
  EXPECT_LE(f.lines.size() + f.unreadable_rows.size(), 20000u);
  // One enormous line.
  std::string line(1 << 20, 'x');
  Form g = parse_form("Barnehageeier: " + line);
  EXPECT_LE(g.owner.size(), 4000u);
}

TEST(Form, ManyCellsPerLineStaysFast) {
  // Lines full of separators: the reader is linear per line (a timeout would show it).
  for (std::string unit : {"a|", "a  ", "1;", "x\t", "Navn | "}) {
    std::string line;
    while (line.size() < 3900) line += unit;
    std::string junk = "Navn | Utdanning | Studiested | Kostnad | Tilskudd\n";
    while (junk.size() < (1u << 20)) junk += line + "\n";
    Form f = parse_form(junk);
    EXPECT_TRUE(f.lines.empty()) << unit;
  }
}

TEST(Programme, Codes) {
  EXPECT_EQ(enum_name(Programme::ABLU), "ABLU");
  EXPECT_EQ(enum_name(Programme::BLU_DELTID), "BLU_DELTID");
  EXPECT_EQ(enum_name(Programme::OTHER), "OTHER");
  EXPECT_EQ(enum_name(StateStatus::granted), "granted");
  EXPECT_EQ(enum_name(StateStatus::rejected), "rejected");
  EXPECT_EQ(enum_name(StateStatus::unknown), "unknown");
}

TEST(Programme, Ablu) {
  for (const char* s : {"ABLU", "ablu", "Arbeidsplassbasert barnehagelærerutdanning",
                        "ARBEIDSPLASSBASERT BARNEHAGELÆRERUTDANNING",
                        "Arbeidsplass-basert barnehage-lærerutdanning",
                        "Arbeidsplassbasert barnehagelærerutdanning (ABLU)", "ABLU, OsloMet"}) {
    EXPECT_EQ(parse_programme(s), Programme::ABLU) << s;
  }
}

TEST(Programme, BluDeltid) {
  for (const char* s :
       {"BLU_DELTID", "Barnehagelærerutdanning deltid", "BLU deltid", "blu-deltid",
        "Barnehagelærerutdanning – deltid", "Barnehagelærerutdanning \xE2\x80\x94 deltid",
        "Barnehagelærerutdanning, deltid", "BARNEHAGELÆRERUTDANNING DELTID",
        "Barnehagelærerutdanning (deltid)", "Barnehagelærerutdanning på deltid"}) {
    EXPECT_EQ(parse_programme(s), Programme::BLU_DELTID) << s;
  }
}

TEST(Programme, EverythingElseIsOther) {
  for (const char* s :
       {"Videreutdanning", "Fagskole", "Master", "PfB", "Barnehagelærerutdanning heltid",
        "Barnehagelærerutdanning", "Videreutdanning for barnehagelærere, deltid", "Master deltid",
        "", "Deltid", "Tablu"}) {
    EXPECT_EQ(parse_programme(s), Programme::OTHER) << s;
  }
}

TEST(StateColumn, Spellings) {
  auto state = [](const char* cell) {
    return parse_form(std::string("Navn | Utdanning | Studiested | Kostnad | Tilskudd fra "
                                  "Statsforvalteren\nOla Hansen | ABLU | OsloMet | 95 000 | ") +
                      cell + "\n")
        .lines.at(0);
  };
  EXPECT_EQ(state("40 000").state_status, StateStatus::granted);
  EXPECT_EQ(state("kr 40 000,-").state_grant, 40000);
  EXPECT_EQ(state("0").state_status, StateStatus::rejected);
  EXPECT_FALSE(state("0").state_grant.has_value());
  for (const char* r : {"avslag", "Avslått", "AVSLÅTT", "\"avslått\"", "ikke innvilget"})
    EXPECT_EQ(state(r).state_status, StateStatus::rejected) << r;
  EXPECT_EQ(state("innvilget").state_status, StateStatus::granted);
  EXPECT_FALSE(state("innvilget").state_grant.has_value());
  EXPECT_EQ(state("Innvilget kr 40 000").state_grant, 40000);
  EXPECT_EQ(state("40 000 (innvilget)").state_grant, 40000);
  for (const char* u : {"", "ikke mottatt", "Ikke mottatt svar", "venter", "søkt", "-", "?"})
    EXPECT_EQ(state(u).state_status, StateStatus::unknown) << u;
  EXPECT_EQ(state("ikke mottatt").state_text, "ikke mottatt");
}

// form_differences: what a text/plain and a text/html reading disagree on (DECISIONS.md
// "Alternatives").
TEST(FormDifferences, WhatMattersForTheDecision) {
  const std::string base =
      "Saksnummer: 20/30298\nBarnehageeier: Solsikken AS\nOrganisasjonsnummer: 987 654 325\n"
      "E-post: kari@solsikken.no\nKontonummer: 1234 56 78903\n\n"
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n";
  Form a = parse_form(base +
                      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
                      "Per Olsen | BLU deltid | USN | 60 000 | avslag\n");
  // The same in other words: spacing, case, the lines in another order.
  Form same = parse_form(base +
                         "Per  Olsen | BLU deltid | USN | 60000 | Avslag\n"
                         "OLA HANSEN | ABLU | OsloMet | kr 95 000 | 40000\n");
  EXPECT_TRUE(form_differences(a, same).empty());
  EXPECT_TRUE(form_differences(Form{}, Form{}).empty());
  EXPECT_EQ(form_differences(a, Form{}), std::vector<std::string>{"form"});

  Form cost = parse_form(base +
                         "Ola Hansen | ABLU | OsloMet | 195 000 | 40 000\n"
                         "Per Olsen | BLU deltid | USN | 60 000 | avslag\n");
  EXPECT_EQ(form_differences(a, cost), std::vector<std::string>{"lines"});
  Form status = parse_form(base +
                           "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
                           "Per Olsen | BLU deltid | USN | 60 000 | ikke mottatt\n");
  EXPECT_EQ(form_differences(a, status), std::vector<std::string>{"lines"});
  Form programme = parse_form(base +
                              "Ola Hansen | BLU deltid | OsloMet | 95 000 | 40 000\n"
                              "Per Olsen | BLU deltid | USN | 60 000 | avslag\n");
  EXPECT_EQ(form_differences(a, programme), std::vector<std::string>{"lines"});

  std::string other = base;
  other.replace(other.find("1234 56 78903"), 13, "1503 56 78902");
  other.replace(other.find("987 654 325"), 11, "924 335 211");
  other.replace(other.find("kari@"), 5, "ola@");
  Form ids = parse_form(other +
                        "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n"
                        "Per Olsen | BLU deltid | USN | 60 000 | avslag\n");
  EXPECT_EQ(form_differences(a, ids),
            (std::vector<std::string>{"organisation number", "account number", "contact e-mail"}));
}

// --- Form or letter (issue 15) ----------------------------------------------------------------

// A state letter with its own table of employees and a letterhead with the state's e-mail and
// organisation number: it has a table and two labels, but it is not the form. Was: its table
// was read as the form's (a letter attached before the form then stood in for it).
TEST(FormOrLetter, ALettersOwnTableIsNeverTheForm) {
  const std::string head =
      "Statsforvalteren i Oslo og Viken\n"
      "Postboks 325, 1502 Moss\n"
      "E-post: sfovpost@statsforvalteren.no\n"
      "Org.nr.: 974 762 994\n"
      "Saksnr: 2020/43817\n\n"
      "Solsikken Barnehage AS\n\n"
      "Tilsagn om tilretteleggingsmidler\n\n"
      "Statsforvalteren innvilger tilskudd som vist i tabellen:\n\n";
  for (const std::string& table : {
           std::string("Ansatt | Utdanning | Søkt tilskudd | Tildelt tilskudd\n"
                       "Ola Hansen | ABLU | kr 95 000 | kr 50 000\n"
                       "Per Olsen | BLU deltid | kr 60 000 | kr 0\n"),
           std::string("Ansatt          Utdanning       Søkt beløp     Tildelt beløp\n"
                       "Ola Hansen      ABLU            kr 95 000      kr 50 000\n"
                       "Per Olsen       BLU deltid      kr 60 000      kr 0\n"),
           std::string("Navn\tUtdanning\tStudiested\tSøkt\tTildelt\n"
                       "Ola Hansen\tABLU\tOsloMet\t95 000\t50 000\n"),
       }) {
    const std::string t = head + table + "\nMed hilsen\nKari Berg\nseniorrådgiver\n";
    Form f = parse_form(t);
    EXPECT_FALSE(f.found) << t;
    EXPECT_TRUE(f.lines.empty()) << t;
  }
}

// The form reads as the form by its table header alone (no labels), and by its labels alone.
TEST(FormOrLetter, TheFormsHeaderOrLabelsMakeTheForm) {
  Form table = parse_form(
      "Navn | Utdanning | Studiested | Kostnad | Tilskudd fra Statsforvalteren\n"
      "Ola Hansen | ABLU | OsloMet | 95 000 | 40 000\n");
  EXPECT_TRUE(table.found);
  EXPECT_EQ(table.lines.size(), 1u);
  Form labels = parse_form("Barnehageeier: Solsikken Barnehage AS\nOrg.nr.: 987 654 325\n");
  EXPECT_TRUE(labels.found);
}

}  // namespace
}  // namespace tilskudd
