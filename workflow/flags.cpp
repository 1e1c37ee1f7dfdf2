#include "workflow/flags.h"

#include <algorithm>
#include <array>

namespace tilskudd {

namespace {

using C = FlagCode;
using L = FlagLevel;
constexpr bool kBlocks = true;
constexpr bool kReports = false;  // informational: reported, never the reason a case waits

// Every flag (DECISIONS.md "Flags" is this table, checked by tests/unit/flags_test.cpp).
// Columns: code, stable name, level, blocking, bokmål letter text, English admin text.
constexpr std::array kFlags{
    FlagInfo{C::malformed_mime, "malformed_mime", L::case_level, kReports,
             "E-posten var delvis skadet og er lest så langt det var mulig.",
             "the MIME structure was broken but read as far as possible"},
    FlagInfo{C::form_not_found, "form_not_found", L::case_level, kBlocks,
             "Vi fant ikke søknadsskjemaet i e-posten eller i vedleggene.",
             "no application form in the body or any attachment: read the mail"},
    FlagInfo{C::no_employee_lines, "no_employee_lines", L::case_level, kBlocks,
             "Vi kunne ikke lese noen ansatte i søknadsskjemaet.",
             "a form without readable employee lines: read the form"},
    FlagInfo{C::unreadable_line, "unreadable_line", L::case_level, kBlocks,
             "En linje i søknadsskjemaet kunne ikke leses.",
             "a table row could not be read as an employee line: read the form"},
    FlagInfo{C::invalid_org_number, "invalid_org_number", L::case_level, kBlocks,
             "Organisasjonsnummeret i søknaden mangler eller er ikke gyldig.",
             "organisation number missing, not 9 digits or failing mod-11: check it with the "
             "applicant"},
    FlagInfo{C::invalid_account_number, "invalid_account_number", L::case_level, kBlocks,
             "Kontonummeret i søknaden mangler eller er ikke gyldig.",
             "account number missing, not 11 digits or failing mod-11: check it with the "
             "applicant"},
    FlagInfo{C::multiple_case_numbers, "multiple_case_numbers", L::case_level, kBlocks,
             "E-posten viser til flere saksnumre.",
             "another case number beside 20/30298, or subject and body disagree: check the case "
             "number"},
    FlagInfo{C::no_rules_for_year, "no_rules_for_year", L::case_level, kBlocks,
             "Kommunen har ikke fastsatt regler for året søknaden gjelder.",
             "no configured year has a round for the received date: configure the year's rules"},
    FlagInfo{C::unreadable_letter, "unreadable_letter", L::letter, kReports,
             "Et vedlagt brev kunne ikke leses maskinelt og kan inneholde svaret fra "
             "Statsforvalteren.",
             "a letter without readable text (scan, image, encrypted or broken PDF)"},
    FlagInfo{
        C::limit_exceeded, "limit_exceeded", L::case_level, kBlocks,
        "E-posten eller et vedlegg er for stort eller for omfattende til å leses maskinelt.",
        "a configured size, count or CPU-time limit ([limits]) was hit: read the mail by hand"},
    FlagInfo{C::sender_unauthenticated, "sender_unauthenticated", L::case_level, kBlocks,
             "Vi kunne ikke bekrefte hvem som sendte e-posten.",
             "our receiving host could not vouch for the sender (DMARC/SPF fail, no result): "
             "confirm the application with the organisation"},
    FlagInfo{C::sender_domain_mismatch, "sender_domain_mismatch", L::case_level, kBlocks,
             "E-posten er sendt fra et annet domene enn e-postadressen i søknaden.",
             "the From domain is not the form's contact e-mail domain: check with the "
             "organisation"},
    FlagInfo{C::over_auto_limit, "over_auto_limit", L::line, kBlocks,
             "Beløpet er høyere enn det kommunen innvilger uten at en saksbehandler har sett på "
             "søknaden.",
             "the rules would approve more than [controls] max_auto_line_amount for the line, or "
             "the case's total is above max_auto_case_amount: check the cost and the letter"},
    FlagInfo{C::audit_sample, "audit_sample", L::case_level, kBlocks,
             "Søknaden er trukket ut til kontroll av en saksbehandler før vedtaket sendes.",
             "drawn for the audit sample ([controls] audit_sample_percent): check the automatic "
             "decision and release it with `cases resolve REF --approve`"},
    FlagInfo{C::sender_unverified, "sender_unverified", L::case_level, kBlocks,
             "Vi kunne ikke bekrefte hvem som sendte e-posten.",
             "sender authentication is not configured ([sender] authserv_ids), so nothing is "
             "decided automatically: confirm the application with the organisation"},
    FlagInfo{C::duplicate, "duplicate", L::case_level, kBlocks,
             "Barnehageeieren har allerede søkt for den samme ansatte dette året.",
             "the same organisation applied for the same employee(s) in another case this year: "
             "check that it is not the same application twice"},
    FlagInfo{C::processing_failed, "processing_failed", L::case_level, kBlocks,
             "E-posten kunne ikke behandles maskinelt.",
             "the message could not be processed (quarantined): read it in the mailbox"},
    FlagInfo{C::foreign_reply, "foreign_reply", L::case_level, kBlocks,
             "E-posten viser til en annen sak, men er ikke sendt av kontaktpersonen i den saken.",
             "a reply or case reference to another case from someone who is not that case's "
             "contact: it changed nothing there; check who sent it (see the linked case)"},
    FlagInfo{C::competing_application, "competing_application", L::case_level, kBlocks,
             "Det finnes en annen søknad for den samme barnehageeieren og de samme ansatte fra "
             "en annen avsender.",
             "the same organisation and employees applied from another contact: check with the "
             "organisation which application is its own (see the linked case)"},
    FlagInfo{C::changed_by_reply, "changed_by_reply", L::case_level, kBlocks,
             "Et svar i saken endrer opplysninger i søknaden (eier, organisasjonsnummer, "
             "kontonummer, kontaktperson eller ansatte).",
             "a reply from the contact changes the owner, organisation number, account number, "
             "contact or lines: the old values stand until a person decides (cases show lists "
             "old and new)"},
    FlagInfo{C::already_approved_in_round, "already_approved_in_round", L::line, kBlocks,
             "Den ansatte har allerede fått innvilget tilskudd i en annen sak i samme "
             "utbetalingsrunde.",
             "the student was already approved in another case of the same round: a student is "
             "paid at most once per round"},
    FlagInfo{C::over_yearly_cap, "over_yearly_cap", L::line, kBlocks,
             "Beløpet ville gått over kommunens tak per student for {year}.",
             "the amount would take the student over rule 5's yearly cap (the ledger counts every "
             "case of the year): decide the amount"},
    FlagInfo{C::not_on_roster, "not_on_roster", L::line, kBlocks,
             "Den ansatte står ikke på kommunens liste over ansatte i pågående utdanning for "
             "{year}; ordningen gjelder bare ansatte som allerede er i utdanning.",
             "employee not on the year's roster of ongoing students: check the roster"},
    FlagInfo{C::no_roster, "no_roster", L::line, kBlocks,
             "Kommunen har ikke en liste over ansatte i pågående utdanning for {year}.",
             "the year has no roster configured: configure the roster"},
    FlagInfo{C::roster_org_mismatch, "roster_org_mismatch", L::line, kBlocks,
             "Den ansatte står på listen over ansatte i pågående utdanning, men for en annen "
             "barnehageeier (organisasjonsnummer).",
             "on the roster, but for another organisation number: check the roster"},
    FlagInfo{C::roster_programme_mismatch, "roster_programme_mismatch", L::line, kBlocks,
             "Den ansatte står på listen over ansatte i pågående utdanning, men for en annen "
             "utdanning enn den som er oppgitt i søknaden.",
             "on the roster, but for another programme: check the roster"},
    FlagInfo{C::missing_cost, "missing_cost", L::line, kBlocks,
             "Søknaden oppgir ikke kostnaden for utdanningen.",
             "the cost cell is empty or unreadable: ask the applicant"},
    FlagInfo{C::duplicate_line, "duplicate_line", L::line, kBlocks,
             "Den ansatte står på flere linjer i søknaden.",
             "the same employee twice in one form: read the form"},
    FlagInfo{C::amount_mismatch, "amount_mismatch", L::line, kBlocks,
             "Beløpet i søknaden stemmer ikke med beløpet i brevet fra Statsforvalteren.",
             "the form's state amount differs from the letter's: read the letter"},
    FlagInfo{C::amount_unconfirmed, "amount_unconfirmed", L::line, kBlocks,
             "Tildelingsbrevet fra Statsforvalteren viser ikke hvor mye som er innvilget for "
             "denne ansatte.",
             "a grant letter covers the line but gives no amount for it: read the letter"},
    FlagInfo{C::state_status_mismatch, "state_status_mismatch", L::line, kBlocks,
             "Det søknaden sier om svaret fra Statsforvalteren, stemmer ikke med brevet som er "
             "vedlagt.",
             "form says granted and the letter rejects, or the reverse: read the letter"},
    FlagInfo{C::letter_unverified, "letter_unverified", L::letter, kBlocks,
             "Vi kunne ikke bekrefte at et vedlagt brev er svaret fra Statsforvalteren til "
             "barnehageeieren.",
             "a letter that does not pass as the state's (sender, date, applicant or how it "
             "came): it settles nothing; read it and check it with Statsforvalteren"},
    FlagInfo{C::hidden_text, "hidden_text", L::case_level, kBlocks,
             "E-posten eller et vedlegg inneholder tekst som ikke vises for leseren.",
             "the mail or a document holds text a reader does not see (hidden, tiny or in the "
             "background colour); it was not read: look at what was hidden"},
    FlagInfo{C::alternatives_disagree, "alternatives_disagree", L::case_level, kBlocks,
             "Tekstversjonen og HTML-versjonen av e-posten sier ikke det samme.",
             "the text/plain and the text/html version of the mail give different forms; the "
             "HTML (what a mail program shows) was read: compare them"},
    FlagInfo{C::multiple_from, "multiple_from", L::case_level, kBlocks,
             "Vi kunne ikke fastslå hvem som sendte e-posten.",
             "the From field names more than one address (or the message has several From "
             "fields): none of them is taken as the sender and no letter goes out; confirm the "
             "application with the organisation"},
};

// The table is in the order of the enum, so a code indexes it.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kFlags.size(); ++i)
    if (static_cast<std::size_t>(kFlags[i].code) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kFlags must list the flags in the order of enum FlagCode");
static_assert(kFlags.size() == static_cast<std::size_t>(C::multiple_from) + 1,
              "every FlagCode needs a row in kFlags");

constexpr std::string_view kLetterTail = " En saksbehandler vurderer søknaden for denne ansatte.";
constexpr std::string_view kUnknownLetter = "Søknaden må vurderes manuelt.";
constexpr std::string_view kUnknownAdmin = "see the case's message";

const FlagInfo* find(std::string_view code) {
  auto it =
      std::find_if(kFlags.begin(), kFlags.end(), [&](const FlagInfo& f) { return f.name == code; });
  return it == kFlags.end() ? nullptr : &*it;
}

}  // namespace

std::string_view flag_level_name(FlagLevel l) {
  switch (l) {
    case FlagLevel::case_level:
      return "case";
    case FlagLevel::line:
      return "line";
    case FlagLevel::letter:
      return "letter";
  }
  return "case";
}

std::span<const FlagInfo> flag_table() {
  return kFlags;
}

const FlagInfo& flag_info(FlagCode c) {
  return kFlags[static_cast<std::size_t>(c)];
}

std::string_view flag_code(FlagCode c) {
  return flag_info(c).name;
}

std::optional<FlagCode> parse_flag_code(std::string_view code) {
  if (const FlagInfo* f = find(code)) return f->code;
  return std::nullopt;
}

Flag make_flag(FlagCode c, std::string reason) {
  return Flag{std::string(flag_code(c)), std::move(reason)};
}

bool is_flag(const Flag& f, FlagCode c) {
  return f.code == flag_code(c);
}

bool flag_blocks(std::string_view code) {
  const FlagInfo* f = find(code);
  return f == nullptr || f->blocking;
}

bool any_blocking(const std::vector<Flag>& flags) {
  return std::any_of(flags.begin(), flags.end(), [](const Flag& f) { return flag_blocks(f.code); });
}

namespace {
std::string flag_key(const Flag& f) {
  std::string k = f.code;
  k += '\0';
  k += f.reason;
  return k;
}
}  // namespace

UniqueFlags::UniqueFlags(std::vector<Flag>& flags) : flags_(flags) {
  for (const auto& f : flags_) seen_.insert(flag_key(f));
}

void UniqueFlags::add(const Flag& f) {
  if (seen_.insert(flag_key(f)).second) flags_.push_back(f);
}

std::string flag_letter_text(std::string_view code, int year) {
  const FlagInfo* f = find(code);
  std::string text(f ? f->letter_nb : kUnknownLetter);
  constexpr std::string_view kYear = "{year}";
  if (auto at = text.find(kYear); at != std::string::npos)
    text.replace(at, kYear.size(), std::to_string(year));
  return text + std::string(kLetterTail);
}

std::string_view flag_admin_text(std::string_view code) {
  const FlagInfo* f = find(code);
  return f ? f->admin_en : kUnknownAdmin;
}

}  // namespace tilskudd
