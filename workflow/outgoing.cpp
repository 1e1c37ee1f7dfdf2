#include "workflow/outgoing.h"

#include <array>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "parsers/amount.h"
#include "parsers/text.h"

namespace tilskudd::outgoing {

namespace {

// ---------------------------------------------------------------------------------------------
// Text helpers

// One line of clean UTF-8: invalid sequences replaced (U+FFFD), NUL dropped, control characters
// and Unicode line/paragraph separators turned into spaces, white space collapsed and trimmed.
std::string one_line(std::string_view raw) {
  const std::string s = text::sanitize_utf8(raw);
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  auto put_space = [&] { pending_space = !out.empty(); };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || c == ' ') {
      put_space();
      continue;
    }
    // U+0085 (C2 85), U+2028 / U+2029 (E2 80 A8 / A9): line breaks to some readers.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      put_space();
      ++i;
      continue;
    }
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      put_space();
      i += 2;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

// Length of the UTF-8 sequence starting at s[i] (the input is valid UTF-8).
std::size_t utf8_len(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 1;
  if (c >= 0xF0) {
    n = 4;
  } else if (c >= 0xE0) {
    n = 3;
  } else if (c >= 0xC0) {
    n = 2;
  }
  return std::min(n, s.size() - i);
}

// The first `max_chars` code points of `s`, with "…" appended when cut.
std::string truncate_chars(const std::string& s, std::size_t max_chars) {
  std::size_t i = 0;
  std::size_t chars = 0;
  while (i < s.size() && chars < max_chars) {
    i += utf8_len(s, i);
    ++chars;
  }
  if (i >= s.size()) return s;
  return std::string(text::trim(s.substr(0, i))) + "\xE2\x80\xA6";
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 12> kMonths = {
    "januar", "februar", "mars",      "april",   "mai",      "juni",
    "juli",   "august",  "september", "oktober", "november", "desember"};

// ---------------------------------------------------------------------------------------------
// Templates

struct PlaceholderInfo {
  std::string_view name;
  bool block;  // multi-line, body only
};

constexpr std::array<PlaceholderInfo, 14> kPlaceholders = {{
    {"saksnummer", false},
    {"referanse", false},
    {"deres_referanse", false},
    {"barnehageeier", false},
    {"organisasjonsnummer", false},
    {"utbetalingsrunde", false},
    {"sum", false},
    {"mottatt", false},
    {"dato", false},
    {"opprinnelig_emne", false},
    {"linjer", true},
    {"behandling", true},
    {"manuell_vurdering", true},
    {"mangler", true},
}};

const PlaceholderInfo* find_placeholder(std::string_view name) {
  for (const auto& p : kPlaceholders) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// A template split into literal text and placeholders.
struct Piece {
  bool placeholder = false;
  std::string text;  // literal text, or the placeholder's name (trimmed)
};

// Splits `tmpl` at "{{name}}". An unterminated "{{" is an error (error set, pieces so far
// returned); names are not checked here.
std::vector<Piece> split_template(std::string_view tmpl, std::string* error) {
  std::vector<Piece> pieces;
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) {
      pieces.push_back({false, std::string(tmpl.substr(pos))});
      break;
    }
    if (open > pos) pieces.push_back({false, std::string(tmpl.substr(pos, open - pos))});
    const std::size_t close = tmpl.find("}}", open + 2);
    const std::size_t nl = tmpl.find('\n', open + 2);
    if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close)) {
      if (error) *error = "unterminated \"{{\"";
      pieces.push_back({false, std::string(tmpl.substr(open))});
      break;
    }
    pieces.push_back({true, std::string(text::trim(tmpl.substr(open + 2, close - open - 2)))});
    pos = close + 2;
  }
  return pieces;
}

bool has_placeholder(const std::vector<Piece>& pieces, std::string_view name) {
  for (const auto& p : pieces) {
    if (p.placeholder && p.text == name) return true;
  }
  return false;
}

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("letter template " + file.string() + ": " + what);
}

// Validates the placeholders of one part ("subject" or "body") of a template file.
std::vector<Piece> check_part(const std::filesystem::path& file, std::string_view part,
                              std::string_view tmpl, bool is_subject) {
  std::string error;
  auto pieces = split_template(tmpl, &error);
  if (!error.empty()) fail(file, std::string(part) + ": " + error);
  for (const auto& p : pieces) {
    if (!p.placeholder) continue;
    const PlaceholderInfo* info = find_placeholder(p.text);
    if (!info) fail(file, std::string(part) + ": unknown placeholder {{" + p.text + "}}");
    if (is_subject && info->block) {
      fail(file, "subject: placeholder {{" + p.text + "}} is only allowed in the body");
    }
  }
  return pieces;
}

Template load_one(const std::filesystem::path& dir, std::string_view filename,
                  std::string_view required_body_placeholder) {
  const std::filesystem::path file = dir / filename;
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot be read (missing file?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(file, "read error");
  std::string content = ss.str();
  if (!text::is_valid_utf8(content)) fail(file, "not valid UTF-8");
  if (content.rfind("\xEF\xBB\xBF", 0) == 0) content.erase(0, 3);
  // CRLF and CR -> LF.
  std::string norm;
  norm.reserve(content.size());
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r') {
      norm += '\n';
      if (i + 1 < content.size() && content[i + 1] == '\n') ++i;
    } else {
      norm += content[i];
    }
  }

  const std::size_t nl = norm.find('\n');
  const std::string first = norm.substr(0, nl);
  constexpr std::string_view kEmne = "Emne:";
  if (first.rfind(kEmne, 0) != 0) {
    fail(file, "the first line must be \"Emne: <subject>\"");
  }
  Template t;
  t.subject = std::string(text::trim(std::string_view(first).substr(kEmne.size())));
  if (t.subject.empty()) fail(file, "the \"Emne:\" line has an empty subject");
  if (nl == std::string::npos) fail(file, "no body after the \"Emne:\" line");
  const std::size_t nl2 = norm.find('\n', nl + 1);
  const std::string second = norm.substr(nl + 1, nl2 == std::string::npos ? nl2 : nl2 - nl - 1);
  if (!text::trim(second).empty()) {
    fail(file, "line 2 must be empty (it separates the \"Emne:\" line from the body)");
  }
  t.body = nl2 == std::string::npos ? std::string() : norm.substr(nl2 + 1);
  if (text::trim(t.body).empty()) fail(file, "the body is empty");

  const auto subject = check_part(file, "subject", t.subject, true);
  for (std::string_view required : {"saksnummer", "referanse"}) {
    if (!has_placeholder(subject, required)) {
      fail(file, "subject: placeholder {{" + std::string(required) +
                     "}} is required (replies must find their case)");
    }
  }
  const auto body = check_part(file, "body", t.body, false);
  if (!has_placeholder(body, required_body_placeholder)) {
    fail(file, "body: placeholder {{" + std::string(required_body_placeholder) + "}} is required");
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Rendering

std::string strip_reply_prefixes(std::string s) {
  static constexpr std::array<std::string_view, 8> kPrefixes = {
      "sv:", "re:", "aw:", "vs:", "fw:", "fwd:", "antw:", "vb:"};
  for (bool again = true; again;) {
    again = false;
    for (auto p : kPrefixes) {
      if (text::starts_with_ci(s, p)) {
        s = std::string(text::trim(std::string_view(s).substr(p.size())));
        again = true;
      }
    }
  }
  return s;
}

std::string format_org_number(const std::string& raw) {
  const std::string s = one_line(raw);
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ') {
      return s;
    }
  }
  if (digits.size() != 9) return s;
  return digits.substr(0, 3) + " " + digits.substr(3, 3) + " " + digits.substr(6, 3);
}

std::string lines_block(const std::vector<LetterLine>& lines) {
  std::string out;
  for (const auto& l : lines) {
    std::string line = "- " + one_line(l.employee) + ": " + outcome_nb(l.outcome);
    if (l.outcome == rules::Outcome::approved || l.outcome == rules::Outcome::rejected) {
      line += ", " + format_kr_prefix(l.amount);
    }
    line += ".";
    const std::string reason = one_line(l.reason);
    if (!reason.empty()) line += " " + reason;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::string missing_block(const std::vector<std::string>& missing) {
  std::string out;
  for (const auto& m : missing) {
    const std::string item = one_line(m);
    if (item.empty()) continue;
    if (!out.empty()) out += '\n';
    out += "- " + item;
  }
  return out;
}

// How the decision was made (forvaltningsloven 2025 §§ 11-13: an automated decision says so).
std::string how_decided(const LetterInput& in) {
  constexpr std::string_view kBasis =
      " For hver ansatt står opplysningene vedtaket bygger på, og hvilken regel i "
      "retningslinjene som er brukt.";
  if (in.automatic) {
    return "Asker kommune har behandlet søknaden etter kommunens retningslinjer for "
           "tilretteleggingstilskudd. Vedtaket er fattet automatisk: et dataprogram har brukt "
           "retningslinjene på opplysningene i søknaden og i brevene fra Statsforvalteren." +
           std::string(kBasis);
  }
  return "Asker kommune har behandlet søknaden etter kommunens retningslinjer for "
         "tilretteleggingstilskudd, og en saksbehandler har vurdert den før vedtaket ble sendt." +
         std::string(kBasis);
}

// How to ask for a person's review of an automated decision, besides the appeal; "" when a
// person took part (the line is then left out). Ends with a line end: the template line after
// it follows a blank line either way.
std::string manual_review(const LetterInput& in) {
  if (!in.automatic) return "";
  return "Forklaring og manuell vurdering\n"
         "Fordi vedtaket er fattet automatisk, har dere rett til å få en nærmere forklaring på "
         "det og til å kreve at en saksbehandler vurderer saken, jf. forvaltningsloven "
         "§§ 11 til 13 (lov 20. juni 2025). Svar på denne e-posten og skriv «Manuell "
         "vurdering» i teksten. Behold referansen (" +
         one_line(in.case_number) + ", " + one_line(in.case_ref) +
         ") i emnefeltet. En saksbehandler leser svaret og går gjennom saken. Dette kommer i "
         "tillegg til retten til å klage, og klagefristen løper som vanlig.\n";
}

// The value of a known placeholder; nullopt for an unknown name.
std::optional<std::string> value_of(std::string_view name, const LetterInput& in) {
  if (name == "saksnummer") return one_line(in.case_number);
  if (name == "referanse") return one_line(in.case_ref);
  if (name == "deres_referanse") return one_line(in.applicant_reference);
  if (name == "barnehageeier") return one_line(in.owner);
  if (name == "organisasjonsnummer") return format_org_number(in.org_number);
  if (name == "utbetalingsrunde") {
    const std::string r = one_line(in.round);
    return r.empty() ? r : "runde med frist " + format_date_nb(r);
  }
  if (name == "sum") return format_kr_prefix(in.total);
  if (name == "mottatt") return format_date_nb(one_line(in.received));
  if (name == "dato") return format_date_nb(one_line(in.letter_date));
  if (name == "opprinnelig_emne") {
    std::string s = truncate_chars(strip_reply_prefixes(one_line(in.original_subject)), 120);
    return s.empty() ? std::string("Søknad om tilretteleggingstilskudd") : s;
  }
  if (name == "linjer") return lines_block(in.lines);
  if (name == "behandling") return how_decided(in);
  if (name == "manuell_vurdering") return manual_review(in);
  if (name == "mangler") return missing_block(in.missing);
  return std::nullopt;
}

// Substitutes the placeholders of `tmpl`. With `drop_empty_lines`, `tmpl` is one line and the
// function returns nullopt when a placeholder on it has an empty value.
std::optional<std::string> substitute(std::string_view tmpl, const LetterInput& in,
                                      bool drop_if_empty) {
  std::string out;
  for (const auto& p : split_template(tmpl, nullptr)) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    auto v = value_of(p.text, in);
    if (!v) {
      out += "{{" + p.text + "}}";  // unknown: left as written (only in hand-made templates)
      continue;
    }
    if (drop_if_empty && v->empty()) return std::nullopt;
    out += *v;
  }
  return out;
}

const Template& pick(const Templates& t, OutboxKind kind) {
  switch (kind) {
    case OutboxKind::decision:
      return t.decision;
    case OutboxKind::documentation_request:
      return t.documentation_request;
    case OutboxKind::reminder:
      return t.reminder;
  }
  return t.decision;
}

// ---------------------------------------------------------------------------------------------
// Headers

constexpr std::size_t kMaxLine = 76;  // RFC 2047 §2: lines with encoded-words

// RFC 2047 §5(3): the characters that may stay literal in a Q encoded-word anywhere (subject and
// phrase alike).
bool q_literal(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' ||
         c == '*' || c == '+' || c == '-' || c == '/';
}

// `value` (valid UTF-8) as Q encoded-words; the first at most `first_max` characters long, the
// others at most 75. A UTF-8 sequence is never split across words.
std::vector<std::string> encoded_words(std::string_view value, std::size_t first_max) {
  static constexpr std::string_view kOpen = "=?UTF-8?Q?";
  static constexpr std::string_view kClose = "?=";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::vector<std::string> words;
  std::string cur;
  auto limit = [&] {
    const std::size_t max = words.empty() ? first_max : 75;
    return max - kOpen.size() - kClose.size();
  };
  for (std::size_t i = 0; i < value.size();) {
    const std::size_t n = utf8_len(value, i);
    std::string enc;
    for (std::size_t k = 0; k < n; ++k) {
      const auto c = static_cast<unsigned char>(value[i + k]);
      if (c == ' ') {
        enc += '_';
      } else if (q_literal(c)) {
        enc += static_cast<char>(c);
      } else {
        enc += '=';
        enc += kHex[c >> 4];
        enc += kHex[c & 0xF];
      }
    }
    if (!cur.empty() && cur.size() + enc.size() > limit()) {
      words.push_back(std::string(kOpen) + cur + std::string(kClose));
      cur.clear();
    }
    cur += enc;
    i += n;
  }
  if (!cur.empty() || words.empty())
    words.push_back(std::string(kOpen) + cur + std::string(kClose));
  return words;
}

// "Name: tok1 tok2 ..." folded before a token when the line would pass 76 characters.
std::string header(std::string_view name, const std::vector<std::string>& tokens) {
  std::string out(name);
  out += ':';
  std::size_t line_len = out.size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) continue;
    if (i > 0 && line_len + 1 + tokens[i].size() > kMaxLine) {
      out += "\r\n";
      line_len = 0;
    }
    out += ' ';
    out += tokens[i];
    line_len += 1 + tokens[i].size();
  }
  out += "\r\n";
  return out;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t sp = s.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? s.size() : sp;
    if (end > pos) out.emplace_back(s.substr(pos, end - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return out;
}

// Tokens for an unstructured value (already one_line). Words that are plain ASCII stay as they
// are (so "20/30298" and "TT-2026-0042" stay searchable in the raw header); each run of words
// that needs encoding (non-ASCII, "=?", or too long to fold) becomes encoded-words, the spaces
// inside the run encoded too. Two runs are never adjacent, so the spaces between a run and a plain
// word survive decoding (RFC 2047 §6.2 only drops white space between encoded-words).
std::vector<std::string> unstructured_tokens(std::string_view name, std::string_view value) {
  const std::size_t first_max = kMaxLine - name.size() - 2;
  std::vector<std::string> tokens;
  std::string run;  // words waiting to be encoded together
  auto flush = [&] {
    if (run.empty()) return;
    for (auto& w : encoded_words(run, tokens.empty() ? first_max : 75)) tokens.push_back(w);
    run.clear();
  };
  for (const auto& w : split_words(value)) {
    const bool encode = !is_ascii(w) || w.find("=?") != std::string::npos || w.size() > first_max;
    if (encode) {
      if (!run.empty()) run += ' ';
      run += w;
    } else {
      flush();
      tokens.push_back(w);
    }
  }
  flush();
  return tokens;
}

std::string unstructured_header(std::string_view name, std::string_view raw) {
  return header(name, unstructured_tokens(name, one_line(raw)));
}

// An address or message id: only what comes before the first line break, without white space,
// control characters and angle brackets; addresses also lose "(),:;\\" (a list or group
// separator could add recipients) and keep UTF-8 (RFC 6532); message ids lose non-ASCII.
std::string clean_token(std::string_view raw, bool is_address) {
  const std::string s = text::sanitize_utf8(raw.substr(0, raw.find_first_of("\r\n")));
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>') continue;
    if (is_address && std::string_view("(),:;\\").find(ch) != std::string_view::npos) continue;
    if (!is_address && c >= 0x80) continue;  // message ids are ASCII (RFC 5322 3.6.4)
    out += ch;
  }
  return out;
}

struct Mailbox {
  std::string name;
  std::string address;
};

Mailbox parse_mailbox(std::string_view raw) {
  raw = raw.substr(0, raw.find_first_of("\r\n"));  // one line: nothing after a line break counts
  Mailbox m;
  const std::size_t lt = raw.rfind('<');
  const std::size_t gt = lt == std::string_view::npos ? lt : raw.find('>', lt);
  if (lt != std::string_view::npos && gt != std::string_view::npos) {
    std::string name = one_line(raw.substr(0, lt));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      std::string unq;
      for (std::size_t i = 1; i + 1 < name.size(); ++i) {
        if (name[i] == '\\' && i + 2 < name.size()) ++i;
        unq += name[i];
      }
      name = one_line(unq);
    }
    m.name = name;
    m.address = clean_token(raw.substr(lt + 1, gt - lt - 1), true);
  } else {
    m.address = clean_token(raw, true);
  }
  return m;
}

bool is_atext_phrase(std::string_view s) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~ ";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && kSpecials.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

std::string mailbox_header(std::string_view name, std::string_view raw) {
  const Mailbox m = parse_mailbox(raw);
  if (m.name.empty()) return header(name, {m.address});
  std::vector<std::string> tokens;
  const bool needs_encoding =
      !is_ascii(m.name) || m.name.find("=?") != std::string::npos || m.name.size() > 60;
  if (!needs_encoding && is_atext_phrase(m.name)) {
    tokens = split_words(m.name);
  } else if (!needs_encoding) {
    std::string q = "\"";
    for (char c : m.name) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    tokens.push_back(q + "\"");
  } else {
    tokens = encoded_words(m.name, kMaxLine - name.size() - 2);
  }
  tokens.push_back("<" + m.address + ">");
  return header(name, tokens);
}

// ---------------------------------------------------------------------------------------------
// Quoted-printable

std::string quoted_printable(std::string_view body) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Hard lines: "\r\n", "\r" and "\n" are line ends.
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' || body[i] == '\n') {
      lines.push_back(body.substr(start, i - start));
      if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < body.size()) lines.push_back(body.substr(start));  // last line without line end

  std::string out;
  for (std::string_view line : lines) {
    std::string cur;                              // the encoded line being built
    std::size_t after_space = std::string::npos;  // in cur, just after the last literal blank
    const bool from_line = line.rfind("From ", 0) == 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      std::string unit;
      const bool blank = c == ' ' || c == '\t';
      const bool literal = (c >= 33 && c <= 126 && c != '=') || (blank && !last);
      if (literal && !(from_line && i == 0)) {
        unit = static_cast<char>(c);
      } else {
        unit = {'=', kHex[c >> 4], kHex[c & 0xF]};
      }
      // A soft-broken line holds at most 75 characters plus "="; the final piece of a hard
      // line may use all 76. Break after the last blank when there is one late enough (a blank
      // followed by the soft break's "=" is allowed, RFC 2045 6.7 (3)), else here.
      if (cur.size() + unit.size() > 75 && !(last && cur.size() + unit.size() <= 76)) {
        if (after_space != std::string::npos && after_space >= 40) {
          out += cur.substr(0, after_space);
          cur.erase(0, after_space);
        } else {
          out += cur;
          cur.clear();
        }
        out += "=\r\n";
        after_space = std::string::npos;
      }
      cur += unit;
      if (blank && unit.size() == 1) after_space = cur.size();
    }
    out += cur;
    out += "\r\n";
  }
  return out;
}

std::string clean_component(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    out += ok ? c : '-';
  }
  return out.empty() ? std::string("x") : out;
}

}  // namespace

// -------------------------------------------------------------------------------------------------

std::string format_date_nb(std::string_view iso) {
  const auto d = Date::from_iso(text::trim(iso));
  if (!d || !d->valid()) return std::string(iso);
  return std::to_string(d->day) + ". " + std::string(kMonths[d->month - 1]) + " " +
         std::to_string(d->year);
}

std::string outcome_nb(rules::Outcome outcome) {
  switch (outcome) {
    case rules::Outcome::approved:
      return "innvilget";
    case rules::Outcome::rejected:
      return "avslått";
    case rules::Outcome::pending:
      return "venter på dokumentasjon";
    case rules::Outcome::flagged:
      break;
  }
  return "til manuell behandling";  // flagged: nothing is decided
}

Templates load_templates(const std::filesystem::path& dir) {
  Templates t;
  t.decision = load_one(dir, "decision.txt", "linjer");
  t.documentation_request = load_one(dir, "documentation_request.txt", "mangler");
  t.reminder = load_one(dir, "reminder.txt", "mangler");
  return t;
}

RenderedLetter render(const Templates& templates, OutboxKind kind, const LetterInput& input) {
  const Template& t = pick(templates, kind);
  RenderedLetter r;
  r.subject = one_line(substitute(t.subject, input, false).value_or(""));
  std::string_view body = t.body;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto s = substitute(line, input, true)) {
      r.body += *s;
      r.body += '\n';
    }
    pos = nl + 1;
  }
  return r;
}

std::string compose(const OutgoingMail& mail) {
  std::string out;
  out += mailbox_header("From", mail.from);
  out += mailbox_header("To", mail.to);
  out += unstructured_header("Subject", mail.subject);
  std::string date;  // structured and ASCII by definition: other bytes are dropped
  for (char c : one_line(mail.date)) {
    if (static_cast<unsigned char>(c) < 0x80) date += c;
  }
  if (!date.empty()) out += header("Date", split_words(date));
  if (const std::string id = clean_token(mail.message_id, false); !id.empty()) {
    out += header("Message-ID", {"<" + id + ">"});
  }
  if (const std::string id = clean_token(mail.in_reply_to, false); !id.empty()) {
    out += header("In-Reply-To", {"<" + id + ">"});
  }
  std::vector<std::string> refs;
  for (const auto& r : mail.references) {
    if (const std::string id = clean_token(r, false); !id.empty()) refs.push_back("<" + id + ">");
  }
  if (!refs.empty()) out += header("References", refs);
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "X-Auto-Response-Suppress: All\r\n";
  out += unstructured_header("X-Tilskudd-Case", mail.case_ref);
  out += "\r\n";
  out += quoted_printable(text::sanitize_utf8(mail.body));
  return out;
}

std::string make_message_id(std::string_view case_ref, std::string_view kind, int n,
                            std::string_view domain) {
  std::string dom;
  for (char c : domain) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    dom += ok ? c : '-';
  }
  while (!dom.empty() && dom.front() == '.') dom.erase(0, 1);
  while (!dom.empty() && dom.back() == '.') dom.pop_back();
  if (dom.empty()) dom = "localhost";
  return "tilskudd." + clean_component(case_ref) + "." + clean_component(kind) + "." +
         std::to_string(n) + "@" + dom;
}

std::string rfc5322_date(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMon = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const weekday wd(day);
  const hh_mm_ss<seconds> hms(t - day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %u %s %d %02d:%02d:%02d +0000",
                std::string(kDays[wd.c_encoding()]).c_str(), static_cast<unsigned>(ymd.day()),
                std::string(kMon[static_cast<unsigned>(ymd.month()) - 1]).c_str(),
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace tilskudd::outgoing
