// The administrators' terminal view of cases, and their actions on cases and payout rounds.
// See admin.h for the output formats.
#include "daemon/admin.h"

#include "daemon/private_files.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon/install_paths.h"
#include "parsers/amount.h"
#include "parsers/text.h"
#include "workflow/flags.h"
#include "workflow/integrity.h"
#include "workflow/outgoing.h"

namespace tilskudd::admin {
namespace {

using nlohmann::json;

// ---- terminal text ---------------------------------------------------------------------------

// Decodes one code point of valid UTF-8 at s[i]; advances i.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += static_cast<std::size_t>(len);
  return cp;
}

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// Text, or "-" when it is empty.
std::string or_dash(std::string_view s) {
  return s.empty() ? "-" : terminal_safe(s);
}

std::string date_part(std::string_view iso) {
  return std::string(iso.substr(0, std::min<std::size_t>(10, iso.size())));
}

// A table with a header, columns padded to the widest cell (by code points). The last column is
// not padded, and no line ends in spaces.
struct Table {
  std::vector<std::string> header;
  std::vector<bool> right;  // right-aligned columns (amounts, counts)
  std::vector<std::vector<std::string>> rows;

  void print(std::ostream& out, std::string_view indent = "") const {
    std::vector<std::size_t> width(header.size(), 0);
    auto measure = [&](const std::vector<std::string>& r) {
      for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
        width[c] = std::max(width[c], display_width(r[c]));
    };
    measure(header);
    for (const auto& r : rows) measure(r);
    auto line = [&](const std::vector<std::string>& r) {
      std::string s(indent);
      for (std::size_t c = 0; c < r.size() && c < width.size(); ++c) {
        std::size_t pad = width[c] - display_width(r[c]);
        bool last = c + 1 == r.size();
        if (c > 0) s += "  ";
        if (c < right.size() && right[c]) s.append(pad, ' ');
        s += r[c];
        if (!last && !(c < right.size() && right[c])) s.append(pad, ' ');
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out << s << '\n';
    };
    line(header);
    for (const auto& r : rows) line(r);
  }
};

// ---- what a person must do -------------------------------------------------------------------

struct Attention {
  std::string code;
  std::optional<std::string> employee;  // nullopt: about the whole case
  std::string reason;
};

// Only the codes of older cases' flags are stored: their text comes from the registry.
std::string admin_text(std::string_view code) {
  return std::string(flag_admin_text(code));
}

json parse_detail(const std::string& detail) {
  json j = json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return json::object();
  return j;
}

// The flag codes of the latest assessment: the latest event whose detail carries "flags"
// (create_case writes them into the creation event).
std::vector<std::string> assessment_flags(const std::vector<CaseEvent>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    json d = parse_detail(it->detail);
    auto f = d.find("flags");
    if (f == d.end() || !f->is_array()) continue;
    std::vector<std::string> codes;
    for (const auto& c : *f) {
      if (c.is_string()) codes.push_back(c.get<std::string>());
    }
    return codes;
  }
  return {};
}

// The case's flags with their reasons as the store keeps them (schema 3); for older cases, the
// codes of the latest assessment event.
std::vector<Flag> case_flags(const CaseRecord& c, const std::vector<CaseEvent>& events) {
  if (!c.flags.empty()) return c.flags;
  std::vector<Flag> out;
  for (const std::string& code : assessment_flags(events)) out.push_back({code, ""});
  return out;
}

// What a person must resolve for a flagged case: the flagged lines (their reason_code and
// reason), then the blocking case-level flags no line already names; when neither exists, the
// latest event's reason. Empty for cases that are not flagged.
std::vector<Attention> attention(const CaseRecord& c, const std::vector<CaseEvent>& events) {
  std::vector<Attention> out;
  if (c.state != CaseState::flagged) return out;
  std::set<std::string> line_codes;
  for (const CaseLine& l : c.lines) {
    if (l.outcome != rules::Outcome::flagged) continue;
    line_codes.insert(l.reason_code);
    out.push_back({l.reason_code, l.employee, l.reason.empty() ? l.reason_code : l.reason});
  }
  std::set<std::string> seen;
  for (const Flag& f : case_flags(c, events)) {
    if (line_codes.count(f.code) || !flag_blocks(f.code) || !seen.insert(f.code).second) continue;
    out.push_back({f.code, std::nullopt, f.reason.empty() ? admin_text(f.code) : f.reason});
  }
  if (out.empty()) {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (!it->reason.empty()) {
        out.push_back({"", std::nullopt, it->reason});
        break;
      }
    }
  }
  return out;
}

std::string attention_text(const Attention& a) {
  std::string s = terminal_safe(a.code);
  if (a.employee) s += (s.empty() ? "" : " ") + ("(" + terminal_safe(*a.employee) + ")");
  if (!s.empty()) s += ": ";
  return s + terminal_safe(a.reason);
}

json attention_json(const std::vector<Attention>& items) {
  json arr = json::array();
  for (const auto& a : items) {
    arr.push_back({{"code", a.code},
                   {"employee", a.employee ? json(*a.employee) : json(nullptr)},
                   {"reason", a.reason}});
  }
  return arr;
}

json opt_int(int v) {
  return v == 0 ? json(nullptr) : json(v);
}
json opt_text(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}
json opt_kroner(const std::optional<Kroner>& k) {
  return k ? json(*k) : json(nullptr);
}

json summary(const CaseRecord& c, const std::vector<Attention>& att) {
  return {{"ref", c.ref},
          {"state", enum_name(c.state)},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at},
          {"owner", c.owner},
          {"org_number", c.org_number},
          {"round", opt_text(c.round)},
          {"round_year", opt_int(c.round_year)},
          {"round_number", opt_int(c.round_number)},
          {"total", c.total},
          {"line_count", c.lines.size()},
          {"flagged", c.state == CaseState::flagged},
          {"attention", attention_json(att)}};
}

void print_json(std::ostream& out, const json& j) {
  // Stored text is UTF-8 already; `replace` keeps a stray invalid byte from aborting the dump.
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string round_text(const CaseRecord& c) {
  if (c.round.empty()) return "-";
  std::string s = terminal_safe(c.round);
  if (c.round_year != 0)
    s += " (" + std::to_string(c.round_year) + ", round " + std::to_string(c.round_number) + ")";
  return s;
}

std::string kroner_or_dash(const std::optional<Kroner>& k) {
  return k ? format_kr_suffix(*k) : "-";
}

void print_list(const std::vector<CaseRecord>& cases,
                const std::vector<std::vector<Attention>>& att, std::ostream& out) {
  Table t;
  t.header = {"REF", "STATE", "CREATED", "OWNER", "ORG NO", "ROUND", "TOTAL", "LINES", "FLAG"};
  t.right = {false, false, false, false, false, false, true, true, false};
  std::size_t flagged = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseRecord& c = cases[i];
    std::string flag;
    if (c.state == CaseState::flagged) {
      ++flagged;
      if (!att[i].empty()) {
        flag = truncate(attention_text(att[i].front()), 70);
        if (att[i].size() > 1) flag += " (+" + std::to_string(att[i].size() - 1) + " more)";
      }
    }
    t.rows.push_back({terminal_safe(c.ref), std::string(enum_name(c.state)),
                      date_part(c.created_at), truncate(or_dash(c.owner), 28),
                      or_dash(c.org_number), or_dash(c.round), format_kr_suffix(c.total),
                      std::to_string(c.lines.size()), flag});
  }
  t.print(out);
  out << plural(cases.size(), "case", "cases") << ", " << flagged << " flagged\n";
}

void print_flagged(const std::vector<CaseRecord>& cases,
                   const std::vector<std::vector<Attention>>& att, std::ostream& out) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseRecord& c = cases[i];
    out << terminal_safe(c.ref) << "  " << or_dash(c.owner) << "  org " << or_dash(c.org_number)
        << "  created " << date_part(c.created_at) << "  total " << format_kr_suffix(c.total)
        << '\n';
    for (const Attention& a : att[i]) out << "  - " << attention_text(a) << '\n';
  }
  out << plural(cases.size(), "flagged case", "flagged cases") << '\n';
}

std::string normalise_ref(std::string_view ref) {
  std::string s(text::trim(ref));
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

void print_show(const CaseRecord& c, const std::vector<Attention>& att,
                const std::vector<std::string>& flags, const std::vector<LetterRecord>& letters,
                const std::vector<OutboxItem>& outbox, const std::vector<CaseEvent>& events,
                std::ostream& out) {
  out << "Case " << terminal_safe(c.ref) << "  (" << enum_name(c.state) << ")\n";
  Table h;
  h.header = {"  Owner:", or_dash(c.owner)};
  h.rows = {{"  Org number:", or_dash(c.org_number)},
            {"  Contact e-mail:", or_dash(c.contact_email)},
            {"  Account number:", or_dash(c.account_number)},
            {"  Applicant's reference:", or_dash(c.applicant_reference)},
            {"  Round:", round_text(c)},
            {"  Total:", format_kr_suffix(c.total)},
            {"  Created:", or_dash(c.created_at)},
            {"  Updated:", or_dash(c.updated_at)}};
  if (!c.reminder_due.empty()) h.rows.push_back({"  Reminder due:", terminal_safe(c.reminder_due)});
  if (!flags.empty()) {
    std::string f;
    for (const auto& code : flags) f += (f.empty() ? "" : ", ") + terminal_safe(code);
    h.rows.push_back({"  Flags:", f});
  }
  h.print(out);

  if (!att.empty()) {
    out << "\nNeeds a person:\n";
    for (const Attention& a : att) out << "  - " << attention_text(a) << '\n';
  }

  // Who may change a case (DECISIONS.md): the linked cases, and what replies would change.
  const auto linked = integrity::links(events);
  if (!linked.empty()) {
    out << "\nLinked cases:\n";
    for (const auto& l : linked)
      out << "  - " << terminal_safe(l.ref) << " (" << terminal_safe(l.code) << ", "
          << terminal_safe(l.at) << ")\n";
  }
  if (auto hold = integrity::payout_hold(events)) {
    out << "\nPayout held for a person (not exported or scheduled): " << terminal_safe(*hold)
        << "\n  Read it, then: tilskudd cases release " << terminal_safe(c.ref)
        << " --by NAME --note TEXT\n";
  }
  for (const auto& p : integrity::proposed_changes(events)) {
    out << "\nProposed by message " << p.message_row << " (" << terminal_safe(p.at)
        << "), not applied:\n";
    Table t;
    t.header = {"FIELD", "NOW", "PROPOSED"};
    for (const auto& ch : p.changes)
      t.rows.push_back({or_dash(ch.field), or_dash(ch.old_value), or_dash(ch.new_value)});
    t.print(out, "  ");
  }

  out << "\nLines (" << c.lines.size() << "):\n";
  if (!c.lines.empty()) {
    Table t;
    t.header = {"#",           "EMPLOYEE", "PROGRAMME", "COST", "STATE STATUS",
                "STATE GRANT", "OUTCOME",  "AMOUNT",    "CODE", "REASON"};
    t.right = {true, false, false, true, false, true, false, true, false, false};
    for (const CaseLine& l : c.lines) {
      t.rows.push_back({std::to_string(l.idx + 1), or_dash(l.employee),
                        or_dash(enum_name(l.programme)), kroner_or_dash(l.cost),
                        or_dash(enum_name(l.state_status)), kroner_or_dash(l.state_grant),
                        or_dash(enum_name(l.outcome)), format_kr_suffix(l.amount),
                        or_dash(l.reason_code), or_dash(l.reason)});
    }
    t.print(out, "  ");
  }

  out << "\nLetters (" << letters.size() << "):\n";
  if (!letters.empty()) {
    Table t;
    t.header = {"FILENAME", "KIND", "STORED"};
    for (const LetterRecord& l : letters)
      t.rows.push_back(
          {or_dash(l.filename), or_dash(enum_name(l.kind)), l.sha256.empty() ? "no" : "yes"});
    t.print(out, "  ");
  }

  out << "\nOutbox (" << outbox.size() << "):\n";
  if (!outbox.empty()) {
    Table t;
    t.header = {"KIND", "STATUS", "RECIPIENT", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"};
    t.right = {false, false, false, true, false, false};
    for (const OutboxItem& o : outbox) {
      t.rows.push_back({std::string(enum_name(o.kind)), std::string(enum_name(o.status)),
                        or_dash(o.recipient), std::to_string(o.attempts),
                        or_dash(o.next_attempt_at), or_dash(o.last_error)});
    }
    t.print(out, "  ");
  }

  out << "\nEvents (" << events.size() << "):\n";
  if (!events.empty()) {
    Table t;
    t.header = {"TIME", "ACTOR", "CHANGE", "REASON"};
    for (const CaseEvent& e : events) {
      std::string from = e.from ? std::string(enum_name(*e.from)) : "(new)";
      std::string change = e.from && *e.from == e.to ? std::string(enum_name(e.to)) + " (no change)"
                                                     : from + " → " + std::string(enum_name(e.to));
      t.rows.push_back({or_dash(e.at), or_dash(e.actor), change, or_dash(e.reason)});
    }
    t.print(out, "  ");
  }
}

}  // namespace

// ---- helpers -------------------------------------------------------------------------------

std::string terminal_safe(std::string_view s) {
  std::string valid = text::sanitize_utf8(s);
  std::string out;
  out.reserve(valid.size());
  std::size_t i = 0;
  while (i < valid.size()) {
    std::size_t start = i;
    char32_t cp = next_code_point(valid, i);
    if (cp == U'\t' || cp == U'\n' || cp == U'\r') {
      out += ' ';
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
               (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
               cp == 0x200F || cp == 0x061C) {
      out += '?';
    } else {
      out.append(valid, start, i - start);
    }
  }
  return out;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t n = 0;
  for (char ch : utf8) {
    if (!is_continuation(static_cast<unsigned char>(ch))) ++n;
  }
  return n;
}

std::string truncate(std::string_view utf8, std::size_t width) {
  if (display_width(utf8) <= width) return std::string(utf8);
  if (width == 0) return "";
  // Keep width - 1 code points, then the ellipsis.
  std::size_t kept = 0;
  std::size_t i = 0;
  while (i < utf8.size()) {
    if (!is_continuation(static_cast<unsigned char>(utf8[i]))) {
      if (kept == width - 1) break;
      ++kept;
    }
    ++i;
  }
  std::string s(utf8.substr(0, i));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s + "…";
}

json case_summary_json(Store& store, const CaseRecord& c) {
  return summary(c, attention(c, store.events().case_events(c.id)));
}

json case_detail_json(Store& store, const CaseRecord& c) {
  std::vector<CaseEvent> events = store.events().case_events(c.id);
  json j = summary(c, attention(c, events));
  j["contact_email"] = c.contact_email;
  j["account_number"] = c.account_number;
  j["applicant_reference"] = c.applicant_reference;
  j["reminder_due"] = opt_text(c.reminder_due);
  json flags = json::array();
  for (const Flag& f : case_flags(c, events)) {
    flags.push_back(
        {{"code", f.code}, {"reason", f.reason.empty() ? admin_text(f.code) : f.reason}});
  }
  j["flags"] = flags;
  j["missing"] = c.missing;

  json lines = json::array();
  for (const CaseLine& l : c.lines) {
    lines.push_back({{"idx", l.idx},
                     {"employee", l.employee},
                     {"programme", enum_name(l.programme)},
                     {"cost", opt_kroner(l.cost)},
                     {"state_status", enum_name(l.state_status)},
                     {"state_grant", opt_kroner(l.state_grant)},
                     {"outcome", enum_name(l.outcome)},
                     {"amount", l.amount},
                     {"reason_code", l.reason_code},
                     {"reason", l.reason}});
  }
  j["lines"] = lines;

  json linked = json::array();
  for (const auto& l : integrity::links(events))
    linked.push_back({{"ref", l.ref}, {"link", l.code}, {"at", l.at}});
  j["linked_cases"] = linked;
  json proposed = json::array();
  for (const auto& p : integrity::proposed_changes(events)) {
    proposed.push_back({{"message_row", p.message_row},
                        {"at", p.at},
                        {"changes", integrity::changes_json(p.changes)}});
  }
  j["proposed_changes"] = proposed;
  if (auto hold = integrity::payout_hold(events)) {
    j["payout_hold"] = *hold;
  } else {
    j["payout_hold"] = nullptr;
  }

  json letters = json::array();
  for (const LetterRecord& l : store.cases().case_letters(c.id))
    letters.push_back(
        {{"filename", l.filename}, {"kind", enum_name(l.kind)}, {"stored", !l.sha256.empty()}});
  j["letters"] = letters;

  json outbox = json::array();
  for (const OutboxItem& o : store.outbox().outbox_for_case(c.id)) {
    outbox.push_back({{"id", o.id},
                      {"kind", enum_name(o.kind)},
                      {"status", enum_name(o.status)},
                      {"recipient", o.recipient},
                      {"subject", o.subject},
                      {"message_id", o.message_id},
                      {"attempts", o.attempts},
                      {"next_attempt_at", opt_text(o.next_attempt_at)},
                      {"last_error", o.last_error},
                      {"created_at", o.created_at}});
  }
  j["outbox"] = outbox;

  json evs = json::array();
  for (const CaseEvent& e : events) {
    evs.push_back({{"id", e.id},
                   {"at", e.at},
                   {"actor", e.actor},
                   {"from", e.from ? json(enum_name(*e.from)) : json(nullptr)},
                   {"to", enum_name(e.to)},
                   {"reason", e.reason},
                   {"detail", parse_detail(e.detail)}});
  }
  j["events"] = evs;
  return j;
}

// ---- commands ------------------------------------------------------------------------------

int cases_list(Store& store, const ListOptions& options, std::ostream& out, std::ostream& err) {
  try {
    std::optional<CaseState> state = options.flagged_only ? CaseState::flagged : options.state;
    if (options.flagged_only && options.state && *options.state != CaseState::flagged) {
      err << "cases flagged: --state " << enum_name(*options.state) << " contradicts flagged\n";
      return 2;
    }
    // The cases and their events from one committed state.
    std::vector<CaseRecord> cases;
    std::vector<std::vector<Attention>> att;
    store.read_transaction([&] {
      cases = store.cases().list_cases(state);
      att.reserve(cases.size());
      for (const CaseRecord& c : cases)
        att.push_back(attention(c, store.events().case_events(c.id)));
    });

    if (options.json) {
      json arr = json::array();
      for (std::size_t i = 0; i < cases.size(); ++i) arr.push_back(summary(cases[i], att[i]));
      print_json(out, arr);
      return 0;
    }
    if (cases.empty()) {
      if (options.flagged_only)
        out << "no flagged cases\n";
      else if (state)
        out << "no cases in state " << enum_name(*state) << '\n';
      else
        out << "no cases\n";
      return 0;
    }
    if (options.flagged_only)
      print_flagged(cases, att, out);
    else
      print_list(cases, att, out);
    return 0;
  } catch (const std::exception& e) {
    err << "error: cannot read the cases: " << e.what() << '\n';
    return 2;
  }
}

int case_show(Store& store, const std::string& ref, bool json_output, std::ostream& out,
              std::ostream& err) {
  try {
    // The case, its lines, letters, events and outbox from one committed state: never half of
    // a commit the daemon makes meanwhile.
    return store.read_transaction([&] {
      std::optional<CaseRecord> c = store.cases().find_case_by_ref(normalise_ref(ref));
      if (!c) {
        err << "no case with ref " << terminal_safe(ref) << '\n';
        return 1;
      }
      if (json_output) {
        print_json(out, case_detail_json(store, *c));
        return 0;
      }
      std::vector<CaseEvent> events = store.events().case_events(c->id);
      std::vector<std::string> flag_codes;
      for (const Flag& f : case_flags(*c, events)) flag_codes.push_back(f.code);
      print_show(*c, attention(*c, events), flag_codes, store.cases().case_letters(c->id),
                 store.outbox().outbox_for_case(c->id), events, out);
      return 0;
    });
  } catch (const std::exception& e) {
    err << "error: cannot read case " << terminal_safe(ref) << ": " << e.what() << '\n';
    return 2;
  }
}

// ---- actions -------------------------------------------------------------------------------

namespace {

std::string refs_text(const std::vector<std::string>& refs) {
  std::string s;
  for (const auto& r : refs) s += (s.empty() ? "" : ", ") + terminal_safe(r);
  return s;
}

void print_warnings(const std::vector<IntakeNote>& notes, std::ostream& err) {
  for (const IntakeNote& n : notes) {
    if (n.warn)
      err << "warning: " << terminal_safe(n.case_ref) << ": " << terminal_safe(n.text) << '\n';
  }
}

std::string sends_within(int poll_interval_seconds) {
  return "the daemon sends it within poll_interval_seconds (" +
         std::to_string(poll_interval_seconds) + " s) when it runs";
}

std::string letter_name(OutboxKind k) {
  switch (k) {
    case OutboxKind::decision:
      return "decision letter";
    case OutboxKind::documentation_request:
      return "request for documentation";
    case OutboxKind::reminder:
      return "reminder";
  }
  return "letter";
}

// Runs an action; maps its refusal to 1 and a failing store to 2.
template <class F>
int run_action(const std::string& what, std::ostream& err, F&& fn) {
  try {
    return fn();
  } catch (const ResolveError& e) {
    err << "refused: " << terminal_safe(e.what()) << '\n';
    return 1;
  } catch (const std::exception& e) {
    err << "error: " << what << ": " << terminal_safe(e.what()) << '\n';
    return 2;
  }
}

}  // namespace

IntakeSettings letter_settings(const config::Config& config) {
  if (config.smtp.from.empty())
    throw config::ConfigError("[smtp] from: required to queue letters (the sender of the letters)");
  const std::string dir = letter_templates_dir(config);
  IntakeSettings s;
  try {
    s.templates = outgoing::load_templates(dir);
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("[letters] templates: ") + e.what());
  }
  s.config = &config;
  return s;
}

int case_resolve(Store& store, const std::string& ref, const ResolveRequest& request,
                 const IntakeSettings& settings, Timestamp now, std::ostream& out,
                 std::ostream& err) {
  return run_action("cannot resolve case " + terminal_safe(ref), err, [&] {
    ResolveResult r = resolve_case(store, ref, request, settings, now);
    const CaseRecord& c = r.case_record;
    out << terminal_safe(c.ref) << ": " << enum_name(r.from);
    if (r.from != c.state) out << " -> " << enum_name(c.state);
    out << '\n';
    if (!r.lines.empty()) {
      Table t;
      t.header = {"#", "EMPLOYEE", "OUTCOME", "AMOUNT", "REASON"};
      t.right = {true, false, false, true, false};
      for (int n : r.lines) {
        const CaseLine& l = c.lines[static_cast<std::size_t>(n - 1)];
        t.rows.push_back({std::to_string(n), or_dash(l.employee), or_dash(enum_name(l.outcome)),
                          format_kr_suffix(l.amount), or_dash(l.reason)});
      }
      t.print(out, "  ");
    } else if (request.action == ResolveRequest::Action::approve) {
      out << "  every line as the rules decided it\n";
    }
    if (request.action == ResolveRequest::Action::ask_documentation) {
      for (const std::string& m : c.missing) out << "  missing: " << terminal_safe(m) << '\n';
    }
    out << "  total: " << format_kr_suffix(c.total) << '\n';
    if (!c.reminder_due.empty() && c.state == CaseState::needs_documentation)
      out << "  reminder due: " << terminal_safe(c.reminder_due) << '\n';
    const int poll = settings.config->mailbox.poll_interval_seconds;
    if (r.queued) {
      out << letter_name(*r.queued) << " queued; " << sends_within(poll) << '\n';
    } else if (c.state == CaseState::flagged || c.state == CaseState::needs_documentation) {
      out << "no letter: the case still waits (see tilskudd cases show " << terminal_safe(c.ref)
          << ")\n";
    }
    print_warnings(r.notes, err);
    return 0;
  });
}

int case_resend(Store& store, const std::string& ref, const std::string& admin,
                int poll_interval_seconds, Timestamp now, std::ostream& out, std::ostream& err) {
  return run_action("cannot resend the decision of " + terminal_safe(ref), err, [&] {
    ResendResult r = resend_decision(store, ref, admin, now);
    out << terminal_safe(r.case_record.ref) << ": decision letter " << enum_name(r.previous)
        << " -> pending (the same letter, Message-ID <" << terminal_safe(r.item.message_id)
        << ">)\n";
    out << "queued; " << sends_within(poll_interval_seconds) << '\n';
    if (r.previous == OutboxStatus::sent)
      out << "note: it was sent before; the applicant receives the same decision again\n";
    if (r.previous == OutboxStatus::uncertain)
      out << "note: it may have arrived already; the applicant may receive it twice\n";
    return 0;
  });
}

namespace {

// One warning line per held case, and how to release it.
void print_held(const std::vector<PayoutHold>& held, const std::string& what, std::ostream& err) {
  for (const PayoutHold& h : held)
    err << "warning: " << terminal_safe(h.ref) << " " << what << ": " << terminal_safe(h.reason)
        << " (tilskudd cases show " << terminal_safe(h.ref) << "; tilskudd cases release "
        << terminal_safe(h.ref) << " --by NAME --note TEXT)\n";
}

}  // namespace

int case_release(Store& store, const std::string& ref, const std::string& admin,
                 const std::string& note, Timestamp now, std::ostream& out, std::ostream& err) {
  return run_action("cannot release the payout of " + terminal_safe(ref), err, [&] {
    const std::string held = release_payout(store, ref, admin, note, now);
    out << terminal_safe(ref) << ": payout released by " << terminal_safe(admin)
        << " (it was held: " << terminal_safe(held) << ")\n";
    return 0;
  });
}

int payout_export_command(Store& store, const std::string& round, const std::string& output_path,
                          std::ostream& out, std::ostream& err) {
  return run_action("cannot export round " + terminal_safe(round), err, [&] {
    std::ostringstream csv;
    PayoutExport x = payout_export(store, round, csv);
    std::ostream& summary = output_path.empty() ? err : out;
    if (output_path.empty()) {
      out << csv.str();
      out.flush();
      if (!out) throw std::runtime_error("cannot write the CSV to standard output");
    } else {
      // Account numbers and names: 0600, whatever the umask.
      private_files::write_private(output_path, csv.str());
    }
    summary << "round " << terminal_safe(round) << ": "
            << plural(static_cast<std::size_t>(x.cases), "case", "cases") << ", "
            << plural(static_cast<std::size_t>(x.rows), "line", "lines") << ", "
            << format_kr_suffix(x.total);
    if (!output_path.empty()) summary << " -> " << terminal_safe(output_path);
    summary << '\n';
    if (x.not_scheduled > 0)
      err << "warning: "
          << plural(static_cast<std::size_t>(x.not_scheduled), "case is", "cases are")
          << " not scheduled yet: run `tilskudd payout schedule --round " << terminal_safe(round)
          << "` first, so that mark-paid covers exactly the cases in this file\n";
    if (!x.not_ready.empty())
      err << "warning: " << plural(x.not_ready.size(), "case", "cases")
          << " of the round not in the file (decision not sent yet): " << refs_text(x.not_ready)
          << '\n';
    print_held(x.held, "not in the file, held for a person", err);
    return 0;
  });
}

namespace {

int payout_step(const std::string& verb, const std::string& state, PayoutChange c,
                const std::string& round, std::ostream& out, std::ostream& err) {
  out << "round " << terminal_safe(round) << ": ";
  if (c.changed.empty()) {
    out << "nothing to " << verb;
    if (c.already > 0)
      out << "; " << plural(static_cast<std::size_t>(c.already), "case is", "cases are")
          << " already " << state;
    out << '\n';
  } else {
    out << plural(c.changed.size(), "case", "cases") << " " << state << ": " << refs_text(c.changed)
        << '\n';
    if (c.already > 0)
      out << plural(static_cast<std::size_t>(c.already), "case was", "cases were") << " already "
          << state << '\n';
  }
  if (c.nothing_to_pay > 0)
    out << plural(static_cast<std::size_t>(c.nothing_to_pay), "case grants", "cases grant")
        << " nothing and is not paid\n";
  print_held(c.held,
             verb == "schedule" ? "left out, held for a person"
                                : "recorded as paid, but a person must still read what arrived",
             err);
  if (!c.waiting.empty())
    err << "warning: " << plural(c.waiting.size(), "case", "cases") << " of the round "
        << (verb == "schedule" ? "not sent yet" : "not scheduled")
        << ", left out: " << refs_text(c.waiting) << '\n';
  return 0;
}

}  // namespace

int payout_schedule_command(Store& store, const std::string& round, const std::string& admin,
                            Timestamp now, std::ostream& out, std::ostream& err) {
  return run_action("cannot schedule round " + terminal_safe(round), err, [&] {
    return payout_step("schedule", "scheduled", payout_schedule(store, round, admin, now), round,
                       out, err);
  });
}

int payout_mark_paid_command(Store& store, const std::string& round, const std::string& admin,
                             Timestamp now, std::ostream& out, std::ostream& err) {
  return run_action("cannot mark round " + terminal_safe(round) + " paid", err, [&] {
    return payout_step("mark paid", "paid", payout_mark_paid(store, round, admin, now), round, out,
                       err);
  });
}

int store_pending(Store& store, bool json, Timestamp now, std::ostream& out, std::ostream& err) {
  try {
    const std::vector<PendingUid> pending = store.messages().pending_uids();
    if (json) {
      nlohmann::json a = nlohmann::json::array();
      for (const PendingUid& p : pending) {
        a.push_back({{"mailbox", p.mailbox},
                     {"uidvalidity", p.uidvalidity},
                     {"uid", p.uid},
                     {"attempts", p.attempts},
                     {"first_seen", iso_utc(p.first_seen)},
                     {"last_attempt", iso_utc(p.last_attempt)},
                     {"next_try", iso_utc(p.next_try)},
                     {"reason", p.reason}});
      }
      out << a.dump(2) << "\n";
      return 0;
    }
    if (pending.empty()) {
      out << "no pending UIDs: every message the mailbox listed was read\n";
      return 0;
    }
    for (const PendingUid& p : pending) {
      const auto wait = std::chrono::duration_cast<std::chrono::minutes>(p.next_try - now);
      out << terminal_safe(p.mailbox) << " UID " << p.uid << " (UIDVALIDITY " << p.uidvalidity
          << "): " << p.attempts << " attempt(s) since " << iso_utc(p.first_seen) << ", next try "
          << (wait.count() > 0 ? "in " + std::to_string(wait.count()) + " min"
                               : std::string("at the next poll"))
          << "; " << terminal_safe(p.reason) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    err << "tilskudd: cannot list pending UIDs: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace tilskudd::admin
