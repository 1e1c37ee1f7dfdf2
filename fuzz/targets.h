// The fuzz targets' bodies, one inline function per target, shared by the libFuzzer drivers
// (fuzz/<name>_fuzz.cpp) and the GoogleTest replay of every corpus and regression input
// (tests/unit/fuzz_regressions_test.cpp). Each calls the real public entry points on the input
// and checks only what their headers promise; a broken promise throws InvariantError (an uncaught
// exception: libFuzzer reports it as a crash). The documented exceptions (config::ConfigError)
// are caught here; any other exception escapes and is a finding.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/imap_protocol.h"
#include "parsers/amount.h"
#include "parsers/autoreply.h"
#include "parsers/case_number.h"
#include "parsers/date.h"
#include "parsers/docx.h"
#include "parsers/form.h"
#include "parsers/headers.h"
#include "parsers/html.h"
#include "parsers/letter.h"
#include "parsers/mime.h"
#include "parsers/text.h"
#include "tests/support/docx_writer.h"

namespace tilskudd::fuzz {

// A promise of an API's header does not hold for this input.
class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void check(bool ok, const char* what) {
  if (!ok) throw InvariantError(std::string("invariant broken: ") + what);
}

inline void check_utf8(std::string_view s, const char* what) {
  check(text::is_valid_utf8(s), what);
}

inline bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits `data` at the first '\n': the head is a control line some targets read options from
// (names, a charset, chunk sizes), the rest is the input proper.
inline std::pair<std::string_view, std::string_view> split_first_line(std::string_view data) {
  auto nl = data.find('\n');
  if (nl == std::string_view::npos) return {std::string_view{}, data};
  return {data.substr(0, nl), data.substr(nl + 1)};
}

// --- mime: mime::parse of a raw message (plus what the daemon does with it next) -------------

inline void check_headers(const mime::Headers& h) {
  for (const auto& [name, value] : h.fields) check_utf8(value, "mime header value is UTF-8");
  check_utf8(h.subject, "mime subject is UTF-8");
  for (const auto* list : {&h.from, &h.to, &h.reply_to}) {
    for (const auto& a : *list) check_utf8(a.display_name, "mime display name is UTF-8");
  }
}

inline void check_message(const mime::Message& m, const mime::Limits& limits) {
  check_headers(m.headers);
  check(m.parts.size() <= limits.max_parts, "mime parts <= max_parts");
  for (const auto& p : m.parts) {
    if (p.is_text()) check_utf8(p.body, "mime text part body is UTF-8");
    check_utf8(p.filename, "mime filename is UTF-8");
    check(p.depth >= 0 && p.depth <= std::max(limits.max_depth, 1) + 1,
          "mime part depth within max_depth");
    check(p.forwarded >= -1 && p.forwarded < static_cast<int>(m.forwarded.size()),
          "mime part forwarded index in range");
  }
  for (const auto& f : m.forwarded) {
    check_headers(f.headers);
    check_utf8(f.text, "mime forwarded text is UTF-8");
  }
  check_utf8(m.text, "mime message text is UTF-8");
}

inline void run_mime(std::string_view data) {
  mime::Limits defaults;
  mime::Message m = mime::parse(data, defaults);
  check_message(m, defaults);
  (void)machine_generated(m, "post@asker.kommune.no");
  (void)find_case_number(m.headers.subject, "20/30298");
  // Small limits: the limit paths, and the promise that they hold.
  mime::Limits small;
  small.max_parts = 3;
  small.max_depth = 2;
  small.max_header_bytes = 512;
  small.max_message_bytes = 4096;
  mime::Message truncated = mime::parse(data, small);
  check_message(truncated, small);
  check(data.size() <= small.max_message_bytes || !truncated.defects.empty(),
        "mime reports a message over max_message_bytes");
}

// --- form: parse_form on text, and on the text of HTML ---------------------------------------

inline void check_form(const Form& f) {
  check(all_digits(f.org_number), "form org_number is digits only");
  check(all_digits(f.account_number), "form account_number is digits only");
  for (const auto& l : f.lines) {
    check(l.state_status == StateStatus::granted || !l.state_grant.has_value(),
          "form state_grant set only when granted");
    (void)enum_name(l.programme);
  }
}

inline void run_form(std::string_view data) {
  check_form(parse_form(data));
  HtmlText visible = html_to_visible_text(data);
  const std::string& html_text = visible.text;
  if (text::is_valid_utf8(data)) check_utf8(html_text, "html_to_text of UTF-8 is UTF-8");
  check(visible.hidden.size() <= 8, "html_to_visible_text names at most 8 ways text was hidden");
  check(html_text == html_to_text(data), "html_to_text is html_to_visible_text's text");
  check_form(parse_form(html_text));
  (void)form_differences(parse_form(data), parse_form(html_text));
  (void)parse_programme(data.substr(0, 200));
}

// --- letter: parse_letter on text; the first line holds the form's names, ';'-separated -----

inline void run_letter(std::string_view data) {
  auto [head, body] = split_first_line(data);
  std::vector<std::string> employees;
  while (!head.empty() && employees.size() < 8) {
    auto semi = head.find(';');
    std::string_view name = head.substr(0, semi);
    if (!name.empty()) employees.emplace_back(name);
    if (semi == std::string_view::npos) break;
    head.remove_prefix(semi + 1);
  }
  Letter l = parse_letter(body, employees);
  if (l.date) check(l.date->valid(), "letter date is a valid date");
  for (const auto& e : l.entries) {
    check(std::find(employees.begin(), employees.end(), e.employee) != employees.end(),
          "letter entry names one of the given employees");
  }
  (void)looks_like_letter(body);
  (void)find_case_number(body, "20/30298");
}

// --- amount: parse_amount on each line, find_amounts on the whole ----------------------------

inline void run_amount(std::string_view data) {
  std::string copy(data);
  for (std::string_view line : text::split_lines(copy)) (void)parse_amount(line);
  (void)parse_amount(data);
  (void)find_amounts(data);
}

// --- date: parse_date / parse_mail_date on each line, find_dates on the whole ----------------

inline void run_date(std::string_view data) {
  std::string copy(data);
  for (std::string_view line : text::split_lines(copy)) {
    if (auto d = parse_date(line)) check(d->valid(), "parse_date gives a valid date");
    if (auto d = parse_mail_date(line)) check(d->valid(), "parse_mail_date gives a valid date");
  }
  if (auto d = parse_date(data)) check(d->valid(), "parse_date gives a valid date");
  for (const Date& d : find_dates(data)) check(d.valid(), "find_dates gives valid dates");
}

// --- config: the TOML loader from a string, and the roster CSV parser -------------------------

// A relative roster path resolves here; the folder does not exist, so such a roster is an error.
inline constexpr const char* kConfigBaseDir = "/nonexistent/tilskudd-fuzz";

inline void run_config(std::string_view data) {
  try {
    config::Config cfg = config::parse(data, kConfigBaseDir, "fuzz.toml");
    check(!cfg.years.empty(), "config has at least one year");
    for (const auto& [year, y] : cfg.years) {
      check(!y.deadlines.empty(), "config year has a deadline");
      check(std::is_sorted(y.deadlines.begin(), y.deadlines.end()), "config deadlines sorted");
    }
    try {
      config::validate_for_daemon(cfg);
    } catch (const config::ConfigError&) {
    }
  } catch (const config::ConfigError&) {
  }
  try {
    for (const auto& e : config::parse_roster(data, "fuzz.csv")) {
      check(all_digits(e.org_number), "roster org_number is digits only");
    }
  } catch (const config::ConfigError&) {
  }
}

// --- docx: text of DOCX bytes, with a small decompression budget ----------------------------

inline constexpr std::size_t kDocxMaxUncompressed = 1u << 20;

// A zip archive ("PK...") as it is; anything else is taken as word/document.xml and zipped, so
// that the fuzzer reaches the XML walk past libzip's checksums.
inline void run_docx(std::string_view data) {
  std::string zipped;
  if (data.substr(0, 2) != "PK") {
    zipped = testing::make_docx_raw(std::string(data));
    data = zipped;
  }
  DocxText t = extract_docx_text(data, kDocxMaxUncompressed);
  if (t.ok) {
    check_utf8(t.text, "docx text is UTF-8");
  } else {
    check(!t.error.empty(), "docx failure has an error");
  }
}

// --- headers: RFC 2047 words, parameters, addresses, ids, transfer decodings ----------------

inline void run_headers(std::string_view data) {
  check_utf8(mime::decode_rfc2047(data), "decode_rfc2047 gives UTF-8");
  std::string unfolded = mime::unfold(data);
  mime::HeaderValue hv = mime::parse_header_value(unfolded);
  for (const auto& [name, value] : hv.params) {
    if (name != "boundary") check_utf8(value, "header parameter value is UTF-8");
  }
  for (const auto& a : mime::parse_addresses(unfolded)) {
    check_utf8(a.display_name, "address display name is UTF-8");
  }
  (void)mime::parse_message_ids(unfolded);
  (void)mime::decode_quoted_printable(data);
  std::size_t skipped = 0;
  std::string b64 = mime::decode_base64(data, &skipped);
  check(b64.size() <= data.size() * 3 / 4 + 3, "decode_base64 output fits its input");
  std::vector<std::pair<std::string, std::string>> fields;
  std::string copy(data);
  for (std::string_view line : text::split_lines(copy)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || fields.size() >= 64) continue;
    fields.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  mime::Headers h = mime::make_headers(fields);
  check_headers(h);
  // The first line is a charset name for the charset conversion.
  auto [charset, rest] = split_first_line(data);
  if (charset.size() <= 40) {
    check_utf8(text::to_utf8(rest, charset), "to_utf8 gives UTF-8");
  }
  std::string clean = text::sanitize_utf8(data);
  check_utf8(clean, "sanitize_utf8 gives UTF-8");
  check(clean.find('\0') == std::string::npos, "sanitize_utf8 drops NUL");
}

// --- imap: the incremental IMAP response parser and its typed views --------------------------

inline void run_imap(std::string_view data) {
  imap::ParserLimits limits;
  limits.max_line_bytes = 4096;
  limits.max_literal_bytes = 64u << 10;
  limits.max_response_bytes = 128u << 10;
  limits.max_depth = 16;
  imap::ResponseParser parser(limits);
  // Feed in chunks whose size comes from the first byte, to cross literal and line boundaries.
  std::size_t chunk = data.empty() ? 1 : 1 + static_cast<unsigned char>(data[0]) % 17;
  for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
    bool ok = parser.feed(data.substr(pos, chunk));
    check(ok != parser.failed(), "imap feed result matches failed()");
    while (parser.has_response()) {
      imap::Response r = parser.pop();
      (void)imap::search_result(r);
      (void)imap::status_result(r);
      (void)imap::capabilities(r);
      (void)imap::flags_result(r);
      (void)imap::code_number(r, "UIDVALIDITY");
      (void)imap::take_fetch(r);
    }
    if (!ok) break;
  }
  if (text::is_valid_utf8(data)) {
    if (auto enc = imap::encode_mailbox_name(data)) {
      auto dec = imap::decode_mailbox_name(*enc);
      check(dec.has_value() && *dec == data, "mailbox name round-trips through modified UTF-7");
    }
  }
  (void)imap::decode_mailbox_name(data);
  (void)imap::quote(data);
}

}  // namespace tilskudd::fuzz
