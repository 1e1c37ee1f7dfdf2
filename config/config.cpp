// Loading the TOML config (docs/CONTRACT.md §3) and the rosters of ongoing students. Every problem
// is a ConfigError that names the file and the key, so an operator can fix it without reading code.
#include "config/config.h"

#include <curl/curl.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>

#include "parsers/ids.h"
#include "parsers/text.h"

namespace tilskudd::config {

namespace {

constexpr std::size_t kMaxRosterBytes = 16u << 20;

// Builds error messages of the form
// "tilskudd.toml: [year.2020] deadlines[1]: '2020-13-01' is not a date (YYYY-MM-DD) (line 14)".
class Context {
 public:
  explicit Context(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(std::string_view section, std::string_view key, std::string_view message,
                         const toml::source_region* where = nullptr) const {
    std::string m = source_ + ": ";
    if (!section.empty()) m += "[" + std::string(section) + "] ";
    if (!key.empty()) m += std::string(key) + ": ";
    m += message;
    if (where && where->begin.line > 0) m += " (line " + std::to_string(where->begin.line) + ")";
    throw ConfigError(m);
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number with decimals";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "nothing";
  }
}

// Refuses every key of `table` that is not in `known` (typos must not be silently ignored).
void check_keys(const Context& ctx, const toml::table& table, std::string_view section,
                std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    if (section.empty() && node.is_table()) {
      ctx.fail(key.str(), "", "unknown section (known sections: " + list + ")", &node.source());
    }
    ctx.fail(section, key.str(),
             std::string(section.empty() ? "unknown key outside any section (known sections: "
                                         : "unknown key (known keys: ") +
                 list + ")",
             &node.source());
  }
}

const toml::table* sub_table(const Context& ctx, const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) {
    ctx.fail(name, "",
             "must be a table ([" + std::string(name) + "]), not " + std::string(type_name(*n)),
             &n->source());
  }
  return n->as_table();
}

void read_string(const Context& ctx, const toml::table& t, std::string_view section,
                 std::string_view key, std::string& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_string()) {
    ctx.fail(section, key, "expected a string, got " + std::string(type_name(*n)), &n->source());
  }
  out = n->as_string()->get();
}

void read_bool(const Context& ctx, const toml::table& t, std::string_view section,
               std::string_view key, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_boolean()) {
    ctx.fail(section, key, "expected true or false, got " + std::string(type_name(*n)),
             &n->source());
  }
  out = n->as_boolean()->get();
}

// An integer in [min, max]; nullopt when the key is absent.
std::optional<std::int64_t> read_int(const Context& ctx, const toml::table& t,
                                     std::string_view section, std::string_view key,
                                     std::int64_t min, std::int64_t max) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) {
    ctx.fail(section, key, "expected an integer, got " + std::string(type_name(*n)), &n->source());
  }
  std::int64_t v = n->as_integer()->get();
  if (v < min) {
    ctx.fail(section, key,
             std::to_string(v) + " is too small (at least " + std::to_string(min) + ")",
             &n->source());
  }
  if (v > max) {
    ctx.fail(section, key,
             std::to_string(v) + " is too large (at most " + std::to_string(max) + ")",
             &n->source());
  }
  return v;
}

template <typename T>
void read_positive(const Context& ctx, const toml::table& t, std::string_view section,
                   std::string_view key, T& out, std::int64_t max = std::int64_t{1} << 40) {
  if (auto v = read_int(ctx, t, section, key, 1, max)) out = static_cast<T>(*v);
}

std::string read_file(const std::filesystem::path& path, std::size_t max_bytes,
                      std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::strerror(errno);
    return {};
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = "is a directory";
    return {};
  }
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      *error = "larger than " + std::to_string(max_bytes) + " bytes";
      return {};
    }
  }
  if (in.bad()) {
    *error = "read error";
    return {};
  }
  error->clear();
  return data;
}

// Eligible programme codes in the config are the codes themselves, not prose.
// Any case; OTHER is not a programme one can name.
std::optional<Programme> programme_from_code(std::string_view s) {
  for (const auto& n : enum_names<Programme>())
    if (n.value != Programme::OTHER && text::iequals(s, n.name)) return n.value;
  return std::nullopt;
}

void read_mailbox(const Context& ctx, const toml::table& t, Mailbox& m) {
  constexpr std::string_view s = "mailbox";
  check_keys(ctx, t, s,
             {"url", "username", "password_file", "oauth2_token_file", "allow_insecure",
              "poll_interval_seconds", "keyword", "move_to", "ca_file", "idle", "max_attempts",
              "quarantine_keyword", "oauth2", "since"});
  read_string(ctx, t, s, "url", m.url);
  read_string(ctx, t, s, "username", m.username);
  read_string(ctx, t, s, "password_file", m.password_file);
  read_string(ctx, t, s, "oauth2_token_file", m.oauth2_token_file);
  read_bool(ctx, t, s, "allow_insecure", m.allow_insecure);
  if (auto v = read_int(ctx, t, s, "poll_interval_seconds", 1, 86400)) {
    m.poll_interval_seconds = static_cast<int>(*v);
  }
  read_string(ctx, t, s, "keyword", m.keyword);
  read_string(ctx, t, s, "move_to", m.move_to);
  read_string(ctx, t, s, "ca_file", m.ca_file);
  read_bool(ctx, t, s, "idle", m.idle);
  if (auto v = read_int(ctx, t, s, "max_attempts", 1, 100)) m.max_attempts = static_cast<int>(*v);
  read_string(ctx, t, s, "quarantine_keyword", m.quarantine_keyword);
  read_bool(ctx, t, s, "oauth2", m.oauth2);
  read_string(ctx, t, s, "since", m.since);
  if (!m.since.empty()) {
    int y = 0;
    unsigned mo = 0, d = 0;
    char tail = 0;
    const bool parsed = m.since.size() == 10 &&
                        std::sscanf(m.since.c_str(), "%4d-%2u-%2u%c", &y, &mo, &d, &tail) == 3;
    if (!parsed ||
        !std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{mo},
                                     std::chrono::day{d}}
             .ok() ||
        y < 1990) {
      ctx.fail(s, "since", "'" + m.since + "' is not a date YYYY-MM-DD",
               t.get("since") ? &t.get("since")->source() : nullptr);
    }
  }
  for (const auto* kw : {&m.keyword, &m.quarantine_keyword}) {
    const char* key = kw == &m.keyword ? "keyword" : "quarantine_keyword";
    // An IMAP keyword is an atom: no spaces, no atom-specials (RFC 3501 §9).
    if (kw->empty() || kw->find_first_of(" ()\"\\]{%*\t\r\n") != std::string::npos) {
      ctx.fail(s, key, "'" + *kw + "' is not a valid IMAP keyword (no spaces or ()]{%*\"\\)",
               t.get(key) ? &t.get(key)->source() : nullptr);
    }
  }
}

void read_smtp(const Context& ctx, const toml::table& t, Smtp& m) {
  constexpr std::string_view s = "smtp";
  check_keys(ctx, t, s,
             {"url", "username", "password_file", "from", "allow_insecure", "oauth2_token_file",
              "ca_file", "max_per_recipient_per_day", "max_attempts", "retry_seconds", "oauth2"});
  read_string(ctx, t, s, "url", m.url);
  read_string(ctx, t, s, "username", m.username);
  read_string(ctx, t, s, "password_file", m.password_file);
  read_string(ctx, t, s, "from", m.from);
  read_bool(ctx, t, s, "allow_insecure", m.allow_insecure);
  read_string(ctx, t, s, "oauth2_token_file", m.oauth2_token_file);
  read_string(ctx, t, s, "ca_file", m.ca_file);
  if (auto v = read_int(ctx, t, s, "max_per_recipient_per_day", 1, 100000)) {
    m.max_per_recipient_per_day = static_cast<int>(*v);
  }
  if (auto v = read_int(ctx, t, s, "max_attempts", 1, 1000)) m.max_attempts = static_cast<int>(*v);
  if (auto v = read_int(ctx, t, s, "retry_seconds", 1, 3600))
    m.retry_seconds = static_cast<int>(*v);
  read_bool(ctx, t, s, "oauth2", m.oauth2);
}

void read_limits(const Context& ctx, const toml::table& t, Limits& l) {
  constexpr std::string_view s = "limits";
  check_keys(
      ctx, t, s,
      {"max_message_bytes", "max_parts", "max_depth", "max_header_bytes", "max_attachment_bytes",
       "max_docx_uncompressed_bytes", "pdf_max_pages", "pdf_max_text_bytes", "pdf_timeout_seconds",
       "pdf_memory_bytes", "max_form_lines", "max_letters_per_message", "max_letter_text_bytes",
       "message_cpu_seconds", "allow_unconfined_documents"});
  read_positive(ctx, t, s, "max_message_bytes", l.mime.max_message_bytes);
  read_positive(ctx, t, s, "max_parts", l.mime.max_parts, 1000000);
  read_positive(ctx, t, s, "max_depth", l.mime.max_depth, 1000);
  read_positive(ctx, t, s, "max_header_bytes", l.mime.max_header_bytes);
  if (t.get("max_attachment_bytes")) {
    read_positive(ctx, t, s, "max_attachment_bytes", l.max_attachment_bytes);
    // A PDF attachment is no larger than any other attachment.
    l.pdf.max_input_bytes = l.max_attachment_bytes;
  }
  read_positive(ctx, t, s, "max_docx_uncompressed_bytes", l.max_docx_uncompressed_bytes);
  read_positive(ctx, t, s, "pdf_max_pages", l.pdf.max_pages, 100000);
  read_positive(ctx, t, s, "pdf_max_text_bytes", l.pdf.max_text_bytes);
  if (auto v = read_int(ctx, t, s, "pdf_timeout_seconds", 1, 3600)) {
    l.pdf.timeout_ms = static_cast<int>(*v * 1000);
  }
  read_positive(ctx, t, s, "pdf_memory_bytes", l.pdf.memory_bytes);
  // Bounded work per message.
  read_positive(ctx, t, s, "max_form_lines", l.max_form_lines, 100000);
  read_positive(ctx, t, s, "max_letters_per_message", l.max_letters_per_message, 10000);
  read_positive(ctx, t, s, "max_letter_text_bytes", l.max_letter_text_bytes, 64 << 20);
  // At most 90: under the unit's WatchdogSec=120s (systemd/tilskudd.service), so that the
  // budget, not the watchdog, ends a message's work; over it the message is flagged and the
  // daemon goes on.
  read_positive(ctx, t, s, "message_cpu_seconds", l.message_cpu_seconds, 90);
  read_bool(ctx, t, s, "allow_unconfined_documents", l.allow_unconfined_documents);
}

// [sender] (DECISIONS.md "Sender authenticity").
void read_sender(const Context& ctx, const toml::table& t, Sender& out) {
  constexpr std::string_view s = "sender";
  check_keys(ctx, t, s,
             {"authserv_ids", "accept_missing_authserv_id", "require_match_contact_domain",
              "require_authentication"});
  if (const toml::node* n = t.get("authserv_ids")) {
    if (!n->is_array()) {
      ctx.fail(s, "authserv_ids",
               "expected an array of host names (e.g. [\"mx.asker.kommune.no\"]), got " +
                   std::string(type_name(*n)),
               &n->source());
    }
    const toml::array& arr = *n->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string key = "authserv_ids[" + std::to_string(i) + "]";
      if (!arr[i].is_string()) {
        ctx.fail(s, key, "expected a string, got " + std::string(type_name(arr[i])),
                 &arr[i].source());
      }
      const std::string& id = arr[i].as_string()->get();
      if (id.empty()) {
        ctx.fail(s, key,
                 "is empty; give the authserv-id our receiving host writes first in its "
                 "Authentication-Results (for Exchange Online, which writes none, set "
                 "accept_missing_authserv_id = true instead)",
                 &arr[i].source());
      }
      // An authserv-id is a token or a quoted string in RFC 8601; a host name in practice.
      for (unsigned char c : id) {
        if (c <= 0x20 || c == 0x7F || c == ';' || c == '"' || c == '(' || c == ')' || c == '=') {
          ctx.fail(s, key,
                   "'" + id +
                       "' is not an authserv-id (a host name such as mx.asker.kommune.no, "
                       "without spaces, quotes, ';', '=' or parentheses)",
                   &arr[i].source());
        }
      }
      for (const auto& known : out.authserv_ids) {
        if (text::iequals(known, id)) {
          ctx.fail(s, key, "'" + id + "' is listed twice", &arr[i].source());
        }
      }
      out.authserv_ids.push_back(id);
    }
  }
  read_bool(ctx, t, s, "accept_missing_authserv_id", out.accept_missing_authserv_id);
  read_bool(ctx, t, s, "require_match_contact_domain", out.require_match_contact_domain);
  read_bool(ctx, t, s, "require_authentication", out.require_authentication);
}

// [controls] (DECISIONS.md "Controls on automatic money").
void read_controls(const Context& ctx, const toml::table& t, Controls& out) {
  constexpr std::string_view s = "controls";
  check_keys(ctx, t, s, {"max_auto_line_amount", "max_auto_case_amount", "audit_sample_percent"});
  constexpr std::int64_t kMaxKroner = std::int64_t{1} << 40;
  if (auto v = read_int(ctx, t, s, "max_auto_line_amount", 0, kMaxKroner))
    out.max_auto_line_amount = *v;
  if (auto v = read_int(ctx, t, s, "max_auto_case_amount", 0, kMaxKroner))
    out.max_auto_case_amount = *v;
  if (auto v = read_int(ctx, t, s, "audit_sample_percent", 0, 100))
    out.audit_sample_percent = static_cast<int>(*v);
}

// A domain name as a mail address has it after the '@': labels of letters, digits and hyphens
// joined by dots, at least two labels.
bool is_domain_name(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  if (d.find('.') == std::string_view::npos || d.find("..") != std::string_view::npos) return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

// [evidence] (DECISIONS.md "What counts as the state's letter").
void read_evidence(const Context& ctx, const toml::table& t, Evidence& out) {
  constexpr std::string_view s = "evidence";
  check_keys(ctx, t, s, {"max_letter_age_days", "state_domains"});
  if (auto v = read_int(ctx, t, s, "max_letter_age_days", 1, 36500)) {
    out.max_letter_age_days = static_cast<int>(*v);
  }
  const toml::node* n = t.get("state_domains");
  if (!n) return;
  if (!n->is_array()) {
    ctx.fail(s, "state_domains",
             "expected an array of domains (e.g. [\"statsforvalteren.no\"]), got " +
                 std::string(type_name(*n)),
             &n->source());
  }
  const toml::array& arr = *n->as_array();
  if (arr.empty()) {
    ctx.fail(s, "state_domains",
             "is empty; no forwarded letter could ever count (list the state's mail domains)",
             &n->source());
  }
  out.state_domains.clear();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string key = "state_domains[" + std::to_string(i) + "]";
    if (!arr[i].is_string()) {
      ctx.fail(s, key, "expected a string, got " + std::string(type_name(arr[i])),
               &arr[i].source());
    }
    std::string domain = text::to_lower(text::trim(arr[i].as_string()->get()));
    if (!is_domain_name(domain)) {
      ctx.fail(s, key,
               "'" + arr[i].as_string()->get() +
                   "' is not a mail domain (such as statsforvalteren.no, without '@')",
               &arr[i].source());
    }
    if (std::find(out.state_domains.begin(), out.state_domains.end(), domain) !=
        out.state_domains.end()) {
      ctx.fail(s, key, "'" + domain + "' is listed twice", &arr[i].source());
    }
    out.state_domains.push_back(domain);
  }
}

std::vector<Date> read_deadlines(const Context& ctx, const toml::table& t, std::string_view s,
                                 int year) {
  const toml::node* n = t.get("deadlines");
  if (!n) ctx.fail(s, "deadlines", "missing (an array of \"YYYY-MM-DD\" dates)");
  if (!n->is_array()) {
    ctx.fail(s, "deadlines",
             "expected an array of \"YYYY-MM-DD\" dates, got " + std::string(type_name(*n)),
             &n->source());
  }
  const toml::array& arr = *n->as_array();
  if (arr.empty())
    ctx.fail(s, "deadlines", "is empty; a year needs at least one deadline", &n->source());
  std::vector<Date> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const toml::node& e = arr[i];
    std::string key = "deadlines[" + std::to_string(i) + "]";
    Date d;
    if (e.is_date()) {
      toml::date td = e.as_date()->get();
      d = Date{static_cast<int>(td.year), static_cast<int>(td.month), static_cast<int>(td.day)};
      if (!d.valid()) ctx.fail(s, key, "'" + d.iso() + "' is not a valid date", &e.source());
    } else if (e.is_string()) {
      const std::string& str = e.as_string()->get();
      auto parsed = Date::from_iso(text::trim(str));
      if (!parsed) {
        ctx.fail(s, key, "'" + str + "' is not a date (YYYY-MM-DD)", &e.source());
      }
      d = *parsed;
    } else {
      ctx.fail(s, key, "expected a date (\"YYYY-MM-DD\"), got " + std::string(type_name(e)),
               &e.source());
    }
    // Decision (DECISIONS.md "Config"): deadlines of [year.N] must fall in year N.
    if (d.year != year) {
      ctx.fail(s, key,
               "'" + d.iso() + "' is not in " + std::to_string(year) + "; the deadlines of [year." +
                   std::to_string(year) + "] must be in that year",
               &e.source());
    }
    if (std::find(out.begin(), out.end(), d) != out.end()) {
      ctx.fail(s, key, "'" + d.iso() + "' is listed twice", &e.source());
    }
    out.push_back(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Year read_year(const Context& ctx, std::string_view key, const toml::node& node,
               const std::filesystem::path& base_dir) {
  std::string s = "year." + std::string(key);
  bool four_digits = key.size() == 4 && std::all_of(key.begin(), key.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!four_digits) {
    ctx.fail("year", std::string(key),
             "the table name after 'year.' must be a 4-digit year, e.g. [year.2020]",
             &node.source());
  }
  if (!node.is_table()) {
    ctx.fail(s, "", "must be a table, not " + std::string(type_name(node)), &node.source());
  }
  const toml::table& t = *node.as_table();
  check_keys(ctx, t, s,
             {"deadlines", "cap_per_student_when_state_rejected",
              "cap_per_student_when_state_granted", "programmes", "roster"});
  Year y;
  y.year = std::stoi(std::string(key));
  if (y.year < 1900 || y.year > 2999) {
    ctx.fail("year", std::string(key), "year out of range (1900-2999)", &node.source());
  }
  y.deadlines = read_deadlines(ctx, t, s, y.year);

  constexpr std::int64_t kMaxKroner = std::int64_t{1} << 40;
  y.cap_per_student_when_state_rejected =
      read_int(ctx, t, s, "cap_per_student_when_state_rejected", 0, kMaxKroner);
  if (!y.cap_per_student_when_state_rejected) {
    ctx.fail(s, "cap_per_student_when_state_rejected",
             "missing (the yearly cap per student when the state rejected, e.g. 75000)",
             &t.source());
  }
  y.cap_per_student_when_state_granted =
      read_int(ctx, t, s, "cap_per_student_when_state_granted", 0, kMaxKroner);

  const toml::node* p = t.get("programmes");
  if (!p) ctx.fail(s, "programmes", "missing (e.g. [\"ABLU\", \"BLU_DELTID\"])", &t.source());
  if (!p->is_array()) {
    ctx.fail(s, "programmes", "expected an array of codes, got " + std::string(type_name(*p)),
             &p->source());
  }
  const toml::array& arr = *p->as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string k = "programmes[" + std::to_string(i) + "]";
    if (!arr[i].is_string()) {
      ctx.fail(s, k, "expected a programme code, got " + std::string(type_name(arr[i])),
               &arr[i].source());
    }
    const std::string& code = arr[i].as_string()->get();
    auto prog = programme_from_code(code);
    if (!prog) {
      ctx.fail(s, k, "unknown programme code '" + code + "' (known: ABLU, BLU_DELTID)",
               &arr[i].source());
    }
    if (std::find(y.programmes.begin(), y.programmes.end(), *prog) == y.programmes.end()) {
      y.programmes.push_back(*prog);
    }
  }

  std::string roster;
  read_string(ctx, t, s, "roster", roster);
  if (!roster.empty()) {
    std::filesystem::path rp(roster);
    if (rp.is_relative()) rp = base_dir / rp;
    y.roster_path = rp.lexically_normal().string();
    std::string error;
    std::string data = read_file(rp, kMaxRosterBytes, &error);
    if (!error.empty()) {
      ctx.fail(s, "roster", "cannot read '" + y.roster_path + "': " + error,
               &t.get("roster")->source());
    }
    y.roster = parse_roster(data, y.roster_path);
  }
  return y;
}

// --- Roster CSV --------------------------------------------------------------------------------

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

[[noreturn]] void roster_fail(std::string_view source, std::size_t line, std::string_view msg) {
  std::string m(source);
  if (line > 0) m += ":" + std::to_string(line);
  m += ": ";
  m += msg;
  throw ConfigError(m);
}

// RFC 4180 with the usual tolerance: CRLF or LF, quoted fields with separators, doubled quotes
// and line breaks inside them.
std::vector<CsvRecord> read_csv(std::string_view data, char sep, std::string_view source) {
  std::vector<CsvRecord> records;
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < data.size()) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool end_of_record = false;
    while (!end_of_record) {
      field.clear();
      if (i < data.size() && data[i] == '"') {
        std::size_t quote_line = line;
        ++i;
        bool closed = false;
        while (i < data.size()) {
          char c = data[i++];
          if (c == '"') {
            if (i < data.size() && data[i] == '"') {
              field += '"';
              ++i;
            } else {
              closed = true;
              break;
            }
          } else {
            if (c == '\n') ++line;
            field += c;
          }
        }
        if (!closed) roster_fail(source, quote_line, "a quoted field is never closed");
        // Only spaces may follow the closing quote before the separator.
        while (i < data.size() && (data[i] == ' ' || data[i] == '\t')) ++i;
        if (i < data.size() && data[i] != sep && data[i] != '\r' && data[i] != '\n') {
          roster_fail(source, line, "unexpected text after a closing quote");
        }
      } else {
        while (i < data.size() && data[i] != sep && data[i] != '\n' && data[i] != '\r') {
          field += data[i++];
        }
      }
      rec.fields.push_back(field);
      if (i >= data.size()) {
        end_of_record = true;
      } else if (data[i] == sep) {
        ++i;
      } else {
        if (data[i] == '\r') ++i;
        if (i < data.size() && data[i] == '\n') ++i;
        ++line;
        end_of_record = true;
      }
    }
    records.push_back(std::move(rec));
  }
  return records;
}

bool blank_record(const CsvRecord& r) {
  return std::all_of(r.fields.begin(), r.fields.end(),
                     [](const std::string& f) { return text::trim(f).empty(); });
}

}  // namespace

std::vector<RosterEntry> parse_roster(std::string_view csv, std::string_view source_name) {
  std::string_view data = csv;
  if (data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  if (!text::is_valid_utf8(data)) {
    roster_fail(source_name, 0, "not valid UTF-8 (save the roster as UTF-8 CSV)");
  }
  // Decision (DECISIONS.md "Config"): a header with ';' and no ',' (Excel in Norwegian locale)
  // is read with ';' as the separator.
  std::string_view first_line = data.substr(0, data.find('\n'));
  std::size_t start = 0;
  while (text::trim(first_line).empty() && start < data.size()) {
    start += first_line.size() + 1;
    if (start >= data.size()) break;
    first_line = data.substr(start, data.substr(start).find('\n'));
  }
  char sep = (first_line.find(',') == std::string_view::npos &&
              first_line.find(';') != std::string_view::npos)
                 ? ';'
                 : ',';

  std::vector<CsvRecord> records = read_csv(data, sep, source_name);
  std::vector<RosterEntry> out;
  int col_employee = -1, col_programme = -1, col_org = -1;
  bool have_header = false;
  for (const auto& rec : records) {
    if (blank_record(rec)) continue;
    if (!have_header) {
      for (std::size_t c = 0; c < rec.fields.size(); ++c) {
        std::string name = text::to_lower(text::trim(rec.fields[c]));
        int* slot = name == "employee"     ? &col_employee
                    : name == "programme"  ? &col_programme
                    : name == "org_number" ? &col_org
                                           : nullptr;
        if (!slot) {
          roster_fail(source_name, rec.line,
                      "bad header: unknown column '" + std::string(text::trim(rec.fields[c])) +
                          "' (expected employee,programme,org_number)");
        }
        if (*slot >= 0) {
          roster_fail(source_name, rec.line, "bad header: column '" + name + "' appears twice");
        }
        *slot = static_cast<int>(c);
      }
      if (col_employee < 0 || col_programme < 0 || col_org < 0) {
        roster_fail(source_name, rec.line,
                    "bad header: expected the columns employee,programme,org_number");
      }
      have_header = true;
      continue;
    }
    if (rec.fields.size() != 3) {
      roster_fail(source_name, rec.line,
                  "expected 3 fields (employee,programme,org_number), found " +
                      std::to_string(rec.fields.size()));
    }
    RosterEntry e;
    e.employee = text::collapse_spaces(rec.fields[col_employee]);
    if (e.employee.empty()) roster_fail(source_name, rec.line, "employee: empty name");
    e.programme_text = text::collapse_spaces(rec.fields[col_programme]);
    // The roster is data (DECISIONS.md "Config"): a row naming another programme (an employee
    // in videreutdanning, say) is kept as Programme::OTHER, and that employee's line is not
    // eligible (rules::roster_check). Only an empty programme cell is a broken row.
    e.programme = parse_programme(e.programme_text);
    if (e.programme_text.empty()) roster_fail(source_name, rec.line, "programme: empty");
    std::string org(text::trim(rec.fields[col_org]));
    for (char c : org) {
      if (!(c >= '0' && c <= '9') && c != ' ') {
        roster_fail(source_name, rec.line,
                    "org_number: '" + org + "' must be digits (9, e.g. 987654325) or empty");
      }
    }
    e.org_number = digits_only(org);
    if (!e.org_number.empty() && !valid_org_number(e.org_number)) {
      roster_fail(
          source_name, rec.line,
          "org_number: '" + org + "' is not a valid organisation number (9 digits, mod-11 check)");
    }
    out.push_back(std::move(e));
  }
  if (!have_header) {
    roster_fail(source_name, 0,
                "bad header: the file is empty (expected employee,programme,org_number)");
  }
  return out;
}

Config parse(std::string_view toml_text, const std::filesystem::path& base_dir,
             std::string_view source_name) {
  Context ctx{std::string(source_name)};
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column
      << ": TOML syntax error: " << e.description();
    throw ConfigError(m.str());
  }

  Config cfg;
  check_keys(ctx, root, "",
             {"mailbox", "smtp", "store", "case", "year", "limits", "letters", "retention",
              "oauth2", "sender", "controls", "evidence"});
  if (const auto* t = sub_table(ctx, root, "mailbox")) read_mailbox(ctx, *t, cfg.mailbox);
  if (const auto* t = sub_table(ctx, root, "smtp")) read_smtp(ctx, *t, cfg.smtp);
  if (const auto* t = sub_table(ctx, root, "store")) {
    check_keys(ctx, *t, "store", {"path"});
    read_string(ctx, *t, "store", "path", cfg.store.path);
  }
  if (const auto* t = sub_table(ctx, root, "case")) {
    check_keys(ctx, *t, "case", {"number", "reminder_days"});
    read_string(ctx, *t, "case", "number", cfg.case_.number);
    if (auto v = read_int(ctx, *t, "case", "reminder_days", 0, 365)) {
      cfg.case_.reminder_days = static_cast<int>(*v);
    }
    if (text::trim(cfg.case_.number).empty()) {
      ctx.fail("case", "number", "must not be empty", &t->get("number")->source());
    }
  }
  if (const auto* t = sub_table(ctx, root, "limits")) read_limits(ctx, *t, cfg.limits);
  if (const auto* t = sub_table(ctx, root, "sender")) read_sender(ctx, *t, cfg.sender);
  if (const auto* t = sub_table(ctx, root, "controls")) read_controls(ctx, *t, cfg.controls);
  if (const auto* t = sub_table(ctx, root, "evidence")) read_evidence(ctx, *t, cfg.evidence);
  if (const auto* t = sub_table(ctx, root, "oauth2")) {
    constexpr std::string_view o = "oauth2";
    check_keys(ctx, *t, o,
               {"token_url", "client_id", "client_secret_file", "scope", "refresh_token_file",
                "cache_file", "ca_file", "allow_insecure"});
    read_string(ctx, *t, o, "token_url", cfg.oauth2.token_url);
    read_string(ctx, *t, o, "client_id", cfg.oauth2.client_id);
    read_string(ctx, *t, o, "client_secret_file", cfg.oauth2.client_secret_file);
    read_string(ctx, *t, o, "scope", cfg.oauth2.scope);
    read_string(ctx, *t, o, "refresh_token_file", cfg.oauth2.refresh_token_file);
    read_string(ctx, *t, o, "cache_file", cfg.oauth2.cache_file);
    read_string(ctx, *t, o, "ca_file", cfg.oauth2.ca_file);
    read_bool(ctx, *t, o, "allow_insecure", cfg.oauth2.allow_insecure);
  }
  if (const auto* t = sub_table(ctx, root, "retention")) {
    check_keys(ctx, *t, "retention", {"raw_message_days"});
    if (auto v = read_int(ctx, *t, "retention", "raw_message_days", 0, 36500)) {
      cfg.retention.raw_message_days = static_cast<int>(*v);
    }
  }
  if (const auto* t = sub_table(ctx, root, "letters")) {
    check_keys(ctx, *t, "letters", {"templates"});
    read_string(ctx, *t, "letters", "templates", cfg.letters.templates_dir);
  }
  // Relative file paths are taken from the config file's folder, like the rosters.
  for (std::string* p :
       {&cfg.mailbox.password_file, &cfg.mailbox.oauth2_token_file, &cfg.mailbox.ca_file,
        &cfg.smtp.password_file, &cfg.smtp.oauth2_token_file, &cfg.smtp.ca_file, &cfg.store.path,
        &cfg.letters.templates_dir, &cfg.oauth2.client_secret_file, &cfg.oauth2.refresh_token_file,
        &cfg.oauth2.cache_file, &cfg.oauth2.ca_file}) {
    if (!p->empty() && std::filesystem::path(*p).is_relative()) *p = (base_dir / *p).string();
  }

  const toml::table* years = sub_table(ctx, root, "year");
  if (!years || years->empty()) {
    ctx.fail("year", "",
             "missing year: at least one [year.NNNN] table with deadlines, caps and programmes "
             "is required");
  }
  for (const auto& [key, node] : *years) {
    Year y = read_year(ctx, key.str(), node, base_dir);
    cfg.years.emplace(y.year, std::move(y));
  }
  return cfg;
}

Config load(const std::filesystem::path& file) {
  std::string error;
  std::string data = read_file(file, 1u << 20, &error);
  if (!error.empty()) throw ConfigError(file.string() + ": cannot read the config file: " + error);
  std::filesystem::path base = file.parent_path();
  if (base.empty()) base = ".";
  Config cfg = parse(data, base, file.string());
  cfg.source = file;
  return cfg;
}

std::optional<UrlParts> parse_mail_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  UrlParts parts;
  for (auto [part, out] :
       {std::pair{CURLUPART_SCHEME, &parts.scheme}, std::pair{CURLUPART_HOST, &parts.host}}) {
    char* v = nullptr;
    if (curl_url_get(u.get(), part, &v, 0) != CURLUE_OK || !v) return std::nullopt;
    *out = text::to_lower(v);
    curl_free(v);
  }
  return parts;
}

bool loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.0.0.0/8 in dotted-quad form (curl_url normalises other IPv4 spellings to it).
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  std::size_t digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0 || digits > 3) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0 && digits <= 3;
}

namespace {

// What the URL says about TLS, read as curl will read it (curl_url), so that the host we check
// is the host curl connects to: "imap://other-host?@127.0.0.1" names other-host.
void check_url(const std::string& section, const std::string& url, bool allow_insecure,
               std::string_view secure, std::string_view insecure, const std::string& source) {
  Context ctx{source};
  if (url.empty()) ctx.fail(section, "url", "missing (the daemon needs it)");
  const std::optional<UrlParts> parts = parse_mail_url(url);
  if (!parts) ctx.fail(section, "url", "'" + url + "' is not a URL libcurl can read");
  const std::string s(secure), i(insecure);
  if (parts->scheme == s) return;  // implicit TLS
  if (parts->scheme != i) ctx.fail(section, "url", "'" + url + "' must start with " + s + "://");
  // imap:// and smtp:// are STARTTLS, required (curl's CURLUSESSL_ALL: no plaintext fallback),
  // unless allow_insecure says plaintext, which is for a server on this machine only: a
  // password must never cross a network in clear.
  if (!allow_insecure) return;
  if (loopback_host(parts->host)) return;
  ctx.fail(section, "url",
           "'" + url + "' with allow_insecure = true is plaintext, and its host '" + parts->host +
               "' is not this machine; allow_insecure is only for a server on loopback "
               "(127.0.0.1, ::1, localhost). Set allow_insecure = false to use STARTTLS (" +
               i + "://, required) or use " + s + "://");
}

}  // namespace

void validate_for_daemon(const Config& config) {
  std::string source = config.source.empty() ? "config" : config.source.string();
  Context ctx{source};
  check_url("mailbox", config.mailbox.url, config.mailbox.allow_insecure, "imaps", "imap", source);
  if (config.mailbox.username.empty()) ctx.fail("mailbox", "username", "missing");
  if (config.mailbox.password_file.empty() && config.mailbox.oauth2_token_file.empty() &&
      !config.mailbox.oauth2) {
    ctx.fail("mailbox", "password_file", "missing (or set oauth2 = true with an [oauth2] table)");
  }
  if (config.mailbox.oauth2 || config.smtp.oauth2) {
    if (config.oauth2.token_url.empty())
      ctx.fail("oauth2", "token_url", "missing ([mailbox] or [smtp] oauth2 = true needs it)");
    if (config.oauth2.client_id.empty()) ctx.fail("oauth2", "client_id", "missing");
    if (config.oauth2.client_secret_file.empty() && config.oauth2.refresh_token_file.empty())
      ctx.fail("oauth2", "client_secret_file", "missing (or set refresh_token_file)");
  }
  if (config.mailbox.poll_interval_seconds < 1) {
    ctx.fail("mailbox", "poll_interval_seconds", "must be at least 1");
  }
  check_url("smtp", config.smtp.url, config.smtp.allow_insecure, "smtps", "smtp", source);
  if (config.smtp.from.empty()) ctx.fail("smtp", "from", "missing (our sender address)");
  if (!config.smtp.username.empty() && config.smtp.password_file.empty() && !config.smtp.oauth2 &&
      config.smtp.oauth2_token_file.empty()) {
    ctx.fail("smtp", "password_file", "missing (username is set, so AUTH needs a password)");
  }
  if (config.store.path.empty()) ctx.fail("store", "path", "missing");
  if (config.years.empty()) ctx.fail("year", "", "missing year");
}

}  // namespace tilskudd::config
