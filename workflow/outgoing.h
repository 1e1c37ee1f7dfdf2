// The daemon's outgoing mail: Norwegian letter templates (config/templates/*.txt), their
// rendering, and the composition of a complete RFC 5322 message (quoted-printable UTF-8 body,
// RFC 2047 encoded-words in headers). Pure: values in, values out; load_templates is the only
// function that reads files.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/enum_names.h"
#include "parsers/types.h"
#include "workflow/rules.h"

namespace tilskudd {

// The letters the daemon sends (one template each; the outbox's `kind` column).
enum class OutboxKind { decision, documentation_request, reminder };
inline constexpr EnumName<OutboxKind> kOutboxKindNames[] = {
    {OutboxKind::decision, "decision"},
    {OutboxKind::documentation_request, "documentation_request"},
    {OutboxKind::reminder, "reminder"}};
constexpr std::span<const EnumName<OutboxKind>> enum_table(OutboxKind) {
  return kOutboxKindNames;
}

// How one attempt to hand a mail to the SMTP server ended (daemon/smtp_sender.h says which
// replies and errors are which; workflow/outbox.h what the outbox does with each).
enum class SendOutcome { accepted, temporary, permanent };
inline constexpr EnumName<SendOutcome> kSendOutcomeNames[] = {
    {SendOutcome::accepted, "accepted"},
    {SendOutcome::temporary, "temporary"},
    {SendOutcome::permanent, "permanent"}};
constexpr std::span<const EnumName<SendOutcome>> enum_table(SendOutcome) {
  return kSendOutcomeNames;
}

}  // namespace tilskudd

namespace tilskudd::outgoing {

struct LetterLine {
  std::string employee;
  rules::Outcome outcome = rules::Outcome::flagged;
  Kroner amount = 0;
  std::string reason;  // bokmål, from the rules
};

struct LetterInput {
  std::string case_number;          // "20/30298"
  std::string case_ref;             // "TT-2026-0042" (our own short reference)
  std::string owner;                // Barnehageeier
  std::string org_number;           // 9 digits
  std::string applicant_reference;  // "Deres referanse", may be empty
  std::string round;                // payout round deadline "2020-09-01", may be empty
  Kroner total = 0;
  std::vector<LetterLine> lines;
  std::vector<std::string> missing;  // bokmål sentences naming exactly what is missing
  std::string received;              // "2020-08-15", the application's date
  std::string letter_date;           // "2026-11-24", today's date (given: no clock inside)
  std::string original_subject;      // the applicant's subject, for "Sv: ..." subjects
  // Made by the rules alone (no person acted on the case): the letter says so and how to ask
  // for a person's review (forvaltningsloven 2025 §§ 11-13).
  bool automatic = true;
};

// A template as read from its file: the subject template (after "Emne: ") and the body template.
struct Template {
  std::string subject;
  std::string body;
};

struct Templates {
  Template decision, documentation_request, reminder;
};

// Placeholders ({{name}}, spaces inside the braces allowed) and what they expand to:
//   saksnummer           the case number, "20/30298"
//   referanse            our reference, "TT-2026-0042"
//   deres_referanse      the applicant's reference ("Deres referanse")
//   barnehageeier        the owner
//   organisasjonsnummer  the organisation number, "987 654 325" when 9 digits
//   utbetalingsrunde     "runde med frist 1. september 2020"
//   sum                  the total, "kr 55 000"
//   mottatt              the application's date, "15. august 2020"
//   dato                 the letter's date, "24. november 2026"
//   opprinnelig_emne     the applicant's subject without "Sv:"/"Re:"/"Aw:" prefixes (at most 120
//                        characters); "Søknad om tilretteleggingstilskudd" when empty
//   linjer               (body only) one line per employee:
//                        "- Ola Hansen: innvilget, kr 55 000. <reason>"
//   mangler              (body only) one bullet per missing item: "- <item>"
//   behandling           (body only) how the decision was made: automatically by the
//                        municipality's rules, or with a saksbehandler (LetterInput::automatic)
//   manuell_vurdering    (body only) for an automatic decision: the right to an explanation
//                        and to a person's review (forvaltningsloven 2025 §§ 11-13) and how
//                        to ask for it; empty (the line left out) when a person took part
// In the body, a template line with a placeholder whose value is empty (no applicant reference,
// no round, no missing items...) is left out entirely, so the letter never shows an empty field.
// In the subject, an empty value expands to nothing. Every value has its control characters
// (CR, LF, TAB...) replaced by spaces: input can never add lines to a subject or a letter.
//
// Dates are written in Norwegian ("1. september 2020") when given as "YYYY-MM-DD"; any other text
// is used as it is.

// Reads decision.txt, documentation_request.txt and reminder.txt from `dir`. File format: the
// first line "Emne: <subject template>", then an empty line, then the body template (UTF-8, LF or
// CRLF; a UTF-8 BOM is tolerated). Throws std::runtime_error naming the file (and the placeholder
// or line) for: a missing or unreadable file, invalid UTF-8, a missing "Emne:" line, a missing
// empty line after it, an empty subject or body, an unterminated "{{", an unknown placeholder,
// linjer/mangler in a subject, a subject without {{saksnummer}} or {{referanse}} (replies must
// find their case), a decision body without {{linjer}}, or a documentation request or reminder
// body without {{mangler}}.
Templates load_templates(const std::filesystem::path& dir);

struct RenderedLetter {
  std::string subject;  // one line, UTF-8
  std::string body;     // UTF-8, "\n" line ends, ends with "\n"
};

// Fills the template for `kind`. Never throws; an unknown placeholder in a hand-made Template is
// left as written.
RenderedLetter render(const Templates& templates, OutboxKind kind, const LetterInput& input);

// Helpers used by render, public for the outbox and tests.
std::string format_date_nb(std::string_view iso);  // "2020-09-01" -> "1. september 2020"
std::string outcome_nb(rules::Outcome outcome);    // approved -> "innvilget", ...

struct OutgoingMail {
  std::string from;     // "Asker kommune <post@asker.kommune.no>" (display name may be non-ASCII)
  std::string to;       // one address ("kari@x.no" or "Kari <kari@x.no>")
  std::string subject;  // UTF-8
  std::string body;     // UTF-8 text with \n line ends
  std::string message_id;               // without <>
  std::string in_reply_to;              // without <>, may be empty
  std::vector<std::string> references;  // without <>
  std::string case_ref;  // "X-Tilskudd-Case: TT-..." (our own-mail marker, parsers/autoreply.cpp)
  std::string date;      // RFC 5322 date text, given
};

// The whole RFC 5322 message with CRLF line ends. Never throws.
// - Headers: From, To, Subject, Date, Message-ID, In-Reply-To and References (when given),
//   MIME-Version, Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding
//   quoted-printable, Auto-Submitted: auto-replied, X-Auto-Response-Suppress: All,
//   X-Tilskudd-Case (always present).
// - Header injection: control characters (CR, LF, TAB, ...) in any field become spaces and runs
//   of white space collapse to one in unstructured values (Subject, display names, Date,
//   X-Tilskudd-Case); From, To, addresses and message ids end at the first line break and lose
//   white space, control characters and "<>" (addresses also "(),:;\\"; message ids also
//   non-ASCII). Only an address itself may hold 8-bit (UTF-8, RFC 6532); all else is 7-bit.
// - Subject and X-Tilskudd-Case: ASCII words stay plain (the case number and our reference
//   remain searchable in the raw header); each run of words with non-ASCII text (or "=?", or too
//   long to fold) becomes RFC 2047 Q encoded-words of at most 75 characters, never splitting a
//   UTF-8 sequence. A display name with non-ASCII text (or over 60 characters) is encoded whole;
//   one with specials is a quoted string. Lines are folded at spaces to at most 76 characters.
// - Body: "\r\n" and lone "\r" count as line ends; quoted-printable with lines of at most 76
//   characters (soft breaks "=", after a blank when one is near), "=" and non-ASCII escaped,
//   white space at a line end escaped, a line starting "From " escaped; the body always ends
//   with a line end.
std::string compose(const OutgoingMail& mail);

// Deterministic message id (no angle brackets):
// "tilskudd.TT-2026-0042.decision.1@asker.kommune.no". Characters outside [A-Za-z0-9_-] in
// case_ref and kind become '-'; the domain keeps [A-Za-z0-9.-] ("localhost" when empty).
std::string make_message_id(std::string_view case_ref, std::string_view kind, int n,
                            std::string_view domain);

// "Tue, 24 Nov 2026 12:00:00 +0000" (UTC).
std::string rfc5322_date(std::chrono::sys_seconds t);

}  // namespace tilskudd::outgoing
