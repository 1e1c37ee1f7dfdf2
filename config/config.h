// The configuration model (docs/CONTRACT.md §3) and its loading from TOML, with the yearly rules
// and the rosters of ongoing students. Every rule value that changes with the budget lives here,
// per year; none is a constant in code.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/form.h"
#include "parsers/mime.h"
#include "parsers/pdf.h"
#include "parsers/types.h"

namespace tilskudd::config {

// A config problem, with a message that names the key (and file/line where known), e.g.
// "tilskudd.toml: [year.2020] deadlines[1]: '2020-13-01' is not a date (YYYY-MM-DD)".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Mailbox {
  std::string url;  // imaps://host/INBOX, or imap:// (STARTTLS required unless allow_insecure)
  std::string username;
  std::string password_file;
  std::string oauth2_token_file;  // optional: XOAUTH2 bearer token file instead of a password
  bool allow_insecure = false;
  int poll_interval_seconds = 60;
  std::string keyword = "$Tilskudd";  // set on messages whose case is committed
  std::string move_to;                // optional folder to move them to
  std::string ca_file;                // PEM CA bundle for a private CA; "" = the system's
  bool idle = true;                   // IMAP IDLE on a second connection when offered
  int max_attempts = 5;               // a message failing this often is quarantined
  std::string quarantine_keyword = "$TilskuddQuarantine";
  bool oauth2 = false;  // XOAUTH2 with tokens from [oauth2] (Microsoft 365)
  // "YYYY-MM-DD": only mail that arrived on or after that day is searched (IMAP SEARCH SINCE).
  // "" = from the day before the first start (the store keeps it), so that a first run on a
  // mailbox with years of history does not make cases of them.
  std::string since;
};

struct Smtp {
  std::string url;
  std::string username;  // empty: no AUTH
  std::string password_file;
  std::string from;
  bool allow_insecure = false;
  std::string oauth2_token_file;       // optional XOAUTH2 bearer token file
  std::string ca_file;                 // PEM CA bundle; "" = the system's
  int max_per_recipient_per_day = 20;  // our mails to one address in 24 h; more wait
  int max_attempts = 8;                // temporary failures before an item is held for a person
  int retry_seconds = 60;              // first retry after a temporary failure; doubles, max 1 h
  bool oauth2 = false;                 // XOAUTH2 with tokens from [oauth2]
};

// The OAuth2 token endpoint (Microsoft identity platform) for [mailbox]/[smtp] oauth2 = true.
struct OAuth2 {
  std::string token_url;
  std::string client_id;
  std::string client_secret_file;
  std::string scope;
  std::string refresh_token_file;  // refresh-token grant instead of client credentials
  std::string cache_file;
  std::string ca_file;
  bool allow_insecure = false;
  bool configured() const { return !token_url.empty(); }
};

// The letters we send (templates under config/templates/).
struct Letters {
  std::string templates_dir;  // "" = the built-in default (TILSKUDD_TEMPLATES_DIR)
};

struct Store {
  std::string path = "/var/lib/tilskudd/tilskudd.db";
};

struct Case {
  std::string number = "20/30298";
  int reminder_days = 14;  // days in needs_documentation before one reminder; 0 = none
};

struct RosterEntry {
  std::string employee;
  Programme programme = Programme::OTHER;
  std::string programme_text;
  std::string org_number;  // digits only; "" when the roster leaves it empty
};

struct Year {
  int year = 0;
  std::vector<Date> deadlines;  // sorted ascending, at least one
  std::optional<Kroner> cap_per_student_when_state_rejected;
  std::optional<Kroner> cap_per_student_when_state_granted;  // none unless the year sets one
  std::vector<Programme> programmes;                         // eligible programme codes
  std::string roster_path;                                   // resolved against the config's dir
  std::optional<std::vector<RosterEntry>> roster;            // nullopt: no roster configured
};

struct Limits {
  mime::Limits mime;
  PdfLimits pdf;
  std::size_t max_attachment_bytes = 32u << 20;
  std::size_t max_docx_uncompressed_bytes = 32u << 20;
  // Bounded work per message (DECISIONS.md "Bounded work per message"): over any of these the
  // message becomes a flagged case (limit_exceeded naming the key), never a part read.
  std::size_t max_form_lines = 200;                // employee lines (table rows) in one form
  std::size_t max_letters_per_message = 20;        // letters (attached or forwarded) in one message
  std::size_t max_letter_text_bytes = 256u << 10;  // the text of one letter
  int message_cpu_seconds = 20;                    // CPU time reading and deciding one message
  // A kernel without Landlock or seccomp filters: start anyway, with document programs only
  // partly confined, and warn at every start (docs/CONFINEMENT.md). false: refuse to start.
  bool allow_unconfined_documents = false;
};

// How long raw bytes are kept (the archive rules). 0 = for ever.
struct Retention {
  int raw_message_days = 0;  // after a case's last change, once it is decided and sent
};

// Sender authenticity (DECISIONS.md "Sender authenticity"): which Authentication-Results to
// trust, and whether the From domain must be the form's contact domain.
struct Sender {
  // The authserv-ids of our own receiving host(s) ("mx.asker.kommune.no"); only their
  // Authentication-Results count. Empty (and accept_missing_authserv_id false): not checked.
  std::vector<std::string> authserv_ids;
  // Exchange Online writes Authentication-Results without an authserv-id: trust the topmost
  // such field. Only for a mailbox in Microsoft 365.
  bool accept_missing_authserv_id = false;
  // The From address's domain must be the form's contact e-mail's (or one a subdomain of the
  // other); else the case is flagged sender_domain_mismatch.
  bool require_match_contact_domain = true;
  // Fail closed: with no Authentication-Results check configured (authserv_ids empty and
  // accept_missing_authserv_id false) every case waits for a person (sender_unverified).
  // false is the explicit opt-out for test set-ups (the demo, the test suites): logged as a
  // warning at every start.
  bool require_authentication = true;

  bool checks_authentication() const { return !authserv_ids.empty() || accept_missing_authserv_id; }
  // Nothing is decided automatically: the check is required but not configured.
  bool fails_closed() const { return require_authentication && !checks_authentication(); }
};

// Controls on automatic money (DECISIONS.md "Controls on automatic money"): what the rules may
// approve without a person, and the share of automatic decisions a person checks first.
struct Controls {
  // A line the rules would approve above this is held for a person (over_auto_limit).
  Kroner max_auto_line_amount = 150000;
  // A case whose approved total would be above this: every approved line is held.
  Kroner max_auto_case_amount = 500000;
  // This share (0-100) of the cases the rules would decide is held for a person before the
  // letter goes out (audit_sample), chosen deterministically from the case (controls.h).
  int audit_sample_percent = 5;
};

// What counts as the state's letter (DECISIONS.md "What counts as the state's letter").
struct Evidence {
  // A letter dated more than this many days before the message was received settles nothing
  // (about 18 months: a letter for the year before is still accepted, one from 2016 is not).
  int max_letter_age_days = 548;
  // A forwarded letter counts only when its original sender is at one of these domains (or a
  // subdomain); lower-case.
  std::vector<std::string> state_domains = {"statsforvalteren.no", "fylkesmannen.no"};
};

struct Config {
  Mailbox mailbox;
  Smtp smtp;
  Store store;
  Case case_;
  Letters letters;
  Retention retention;
  Sender sender;
  Controls controls;
  Evidence evidence;
  OAuth2 oauth2;
  std::map<int, Year> years;  // at least one
  Limits limits;
  std::filesystem::path source;  // the file it was read from
};

// Reads and validates the file; a relative roster path is taken relative to the file's folder.
// Throws ConfigError naming the key for unknown keys, wrong types, bad dates, no [year.*] table,
// an unreadable roster or a malformed roster row.
Config load(const std::filesystem::path& file);

// Same from text (for tests); `base_dir` resolves relative roster paths.
Config parse(std::string_view toml_text, const std::filesystem::path& base_dir,
             std::string_view source_name = "config");

// Parses roster CSV text (UTF-8, header "employee,programme,org_number", quotes allowed).
std::vector<RosterEntry> parse_roster(std::string_view csv, std::string_view source_name);

// A URL as libcurl reads it (curl_url(), the CURLU API): scheme and host, lower-cased; the host
// of an IPv6 address keeps its brackets ("[::1]"). nullopt when curl cannot parse it. Used for
// the mailbox and SMTP URLs and the OAuth2 token URL (daemon/oauth2.cpp), so every loopback
// check reads a host the same way.
struct UrlParts {
  std::string scheme;
  std::string host;
};
std::optional<UrlParts> parse_mail_url(const std::string& url);
// 127.0.0.0/8 in dotted-quad form, ::1, or localhost: this machine.
bool loopback_host(std::string_view host);

// The checks only the daemon needs (mailbox, smtp, store present). URLs: imaps:// / smtps://
// (implicit TLS), or imap:// / smtp:// with STARTTLS required; allow_insecure = true makes
// imap:// / smtp:// plaintext, accepted only when the host (as curl reads it) is loopback.
// Throws ConfigError.
void validate_for_daemon(const Config& config);

}  // namespace tilskudd::config
