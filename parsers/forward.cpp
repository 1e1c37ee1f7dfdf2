#include "parsers/forward.h"

#include <algorithm>
#include <array>
#include <vector>

#include "parsers/date.h"
#include "parsers/headers.h"
#include "parsers/text.h"

namespace tilskudd::forward {
namespace {

struct Line {
  std::size_t begin = 0;  // offset of the line in the text
  std::string_view raw;   // as written
  std::string plain;      // quote marks ("> > ") and outer white space removed, normalised spaces
};

// The line without its e-mail quote marks: leading '>' (each with the spaces after it).
std::string_view dequote(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
  if (i >= l.size() || l[i] != '>') return l;
  while (i < l.size() && l[i] == '>') {
    ++i;
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
  }
  return l.substr(i);
}

enum class Label { none, from, date, to, cc, subject, other };

// "Fra: value", "*From:* value", Thunderbird's HTML table "Emne: | value".
Label header_label(std::string_view plain, std::string* value = nullptr) {
  const std::size_t colon = plain.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 24) return Label::none;
  std::string label = text::to_lower(text::trim(plain.substr(0, colon)));
  label.erase(std::remove(label.begin(), label.end(), '*'), label.end());
  struct Known {
    std::string_view name;
    Label kind;
  };
  static constexpr std::array<Known, 24> kLabels = {{
      {"from", Label::from},       {"fra", Label::from},
      {"avsender", Label::from},   {"date", Label::date},
      {"dato", Label::date},       {"sent", Label::date},
      {"sendt", Label::date},      {"to", Label::to},
      {"til", Label::to},          {"mottaker", Label::to},
      {"cc", Label::cc},           {"kopi", Label::cc},
      {"bcc", Label::cc},          {"blindkopi", Label::cc},
      {"subject", Label::subject}, {"emne", Label::subject},
      {"reply-to", Label::other},  {"svar til", Label::other},
      {"svar-til", Label::other},  {"importance", Label::other},
      {"viktighet", Label::other}, {"prioritet", Label::other},
      {"vedlegg", Label::other},   {"attachments", Label::other},
  }};
  Label kind = Label::none;
  for (const Known& k : kLabels)
    if (label == k.name) kind = k.kind;
  if (kind == Label::none) return kind;
  if (value) {
    std::string_view v = text::trim(plain.substr(colon + 1));
    while (!v.empty() && (v.front() == '*' || v.front() == '|')) v = text::trim(v.substr(1));
    while (!v.empty() && v.back() == '|') v = text::trim(v.substr(0, v.size() - 1));
    *value = std::string(v);
  }
  return kind;
}

// The marker line of a forward, or "" when `plain` is none. Outlook's rule line is "rule".
std::string marker_client(const std::string& plain) {
  if (plain.size() > 80) return "";
  const std::string t = text::to_lower(plain);
  if (t.size() >= 10 && std::all_of(t.begin(), t.end(), [](char c) { return c == '_'; }))
    return "rule";
  std::size_t lead = 0, trail = 0;
  while (lead < t.size() && (t[lead] == '-' || t[lead] == ' ')) ++lead;
  std::size_t e = t.size();
  while (e > lead && (t[e - 1] == '-' || t[e - 1] == ' ')) {
    --e;
    ++trail;
  }
  const std::size_t dashes_lead = static_cast<std::size_t>(
      std::count(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(lead), '-'));
  const std::size_t dashes_trail = static_cast<std::size_t>(
      std::count(t.begin() + static_cast<std::ptrdiff_t>(e), t.end(), '-'));
  std::string phrase = text::collapse_spaces(std::string_view(t).substr(lead, e - lead));
  static constexpr std::array<std::string_view, 10> kRuled = {
      "forwarded message",         "videresendt melding",    "videresendt e-post",
      "videresendt e-postmelding", "videresendt meddelelse", "vidarebefordrat meddelande",
      "original message",          "opprinnelig melding",    "opprinnelig e-post",
      "oprindelig meddelelse"};
  if (dashes_lead >= 2 && dashes_trail >= 2) {
    for (std::string_view k : kRuled) {
      if (phrase != k) continue;
      if (k.find("rigin") != std::string_view::npos || k.find("prind") != std::string_view::npos)
        return "outlook-original";
      return dashes_lead >= 10 ? "gmail" : "thunderbird";
    }
    return "";
  }
  if (dashes_lead != 0 || phrase.empty() || phrase.back() != ':') return "";
  phrase.pop_back();
  static constexpr std::array<std::string_view, 10> kIntro = {
      "begin forwarded message",
      "begynnelse på videresendt e-post",
      "begynnelse på videresendt melding",
      "begynnelse på videresendt e-postmelding",
      "start på videresendt melding",
      "start på videresendt e-post",
      "videresendt melding",
      "videresendt e-post",
      "forwarded message",
      "videresendt e-postmelding"};
  for (std::string_view k : kIntro)
    if (text::trim(phrase) == k) return "apple";
  return "";
}

struct HeaderBlock {
  std::size_t lines = 0;  // label lines read
  bool from = false, date = false, to = false, subject = false;
  std::string from_value, date_value, subject_value;
};

// The header block starting at lines[i] (blank lines before it skipped when `skip_blank`).
HeaderBlock read_header(const std::vector<Line>& lines, std::size_t i, bool skip_blank) {
  HeaderBlock h;
  std::size_t blanks = 0;
  for (std::size_t k = i; k < lines.size() && k < i + 24; ++k) {
    const std::string& p = lines[k].plain;
    if (p.empty()) {
      if (h.lines == 0 ? (!skip_blank || ++blanks > 3) : ++blanks > 1) break;
      continue;
    }
    std::string value;
    const Label l = header_label(p, &value);
    if (l == Label::none) break;
    if (h.lines > 0) blanks = 0;
    ++h.lines;
    if (l == Label::from && !h.from) {
      h.from = true;
      h.from_value = value;
    } else if (l == Label::date && !h.date) {
      h.date = true;
      h.date_value = value;
    } else if (l == Label::to) {
      h.to = true;
    } else if (l == Label::subject && !h.subject) {
      h.subject = true;
      h.subject_value = value;
    }
  }
  return h;
}

// The one address a header's From value names ("Name <a@b>", Outlook's "Name [mailto:a@b]",
// Exchange's "Berg, Anne Lise <a@b>"); "" when it names none or several.
std::string one_address(std::string value) {
  for (std::size_t p; (p = text::to_lower(value).find("[mailto:")) != std::string::npos;) {
    value.replace(p, 8, "<");
    const std::size_t close = value.find(']', p);
    if (close == std::string::npos) break;
    value[close] = '>';
  }
  std::string found;
  for (const auto& a : mime::parse_addresses(value)) {
    if (a.address.empty()) continue;
    if (!found.empty() && text::to_lower(a.address) != found) return "";
    found = text::to_lower(a.address);
  }
  return found;
}

}  // namespace

std::optional<Date> header_date(std::string_view value) {
  if (value.empty() || value.size() > 200) return std::nullopt;
  if (auto d = parse_mail_date(value)) return d;
  for (const Date& d : find_dates(value))
    if (d.valid()) return d;
  // Month first: "June 30, 2020", "Jun 30, 2020".
  std::vector<std::string> words;
  std::string w;
  for (char c : text::to_lower(value)) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!w.empty()) words.push_back(std::move(w));
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  auto digits = [](const std::string& s, std::size_t lo, std::size_t hi) {
    return s.size() >= lo && s.size() <= hi &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  for (std::size_t k = 0; k + 2 < words.size(); ++k) {
    if (!digits(words[k + 1], 1, 2) || !digits(words[k + 2], 4, 4)) continue;
    if (words[k].empty() || words[k][0] < 'a' || words[k][0] > 'z') continue;
    if (auto d = parse_date(words[k + 1] + " " + words[k] + " " + words[k + 2]))
      if (d->valid()) return d;
  }
  return std::nullopt;
}

Inline find_inline(std::string_view input, std::size_t max_bytes) {
  Inline out;
  std::string_view t = input.substr(0, std::min(input.size(), max_bytes));
  std::vector<Line> lines;
  for (std::size_t pos = 0; pos < t.size();) {
    std::size_t e = t.find('\n', pos);
    if (e == std::string_view::npos) e = t.size();
    Line l;
    l.begin = pos;
    l.raw = t.substr(pos, e - pos);
    l.plain = std::string(text::trim(text::normalize_spaces(dequote(l.raw))));
    lines.push_back(std::move(l));
    pos = e + 1;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& p = lines[i].plain;
    if (p.empty()) continue;
    std::string client = marker_client(p);
    HeaderBlock h;
    std::size_t marker = lines[i].begin;
    if (!client.empty()) {
      h = read_header(lines, i + 1, true);
      if (client == "rule") {
        // Outlook's rule: a forward only when its header block follows.
        if (!(h.from && (h.date || h.subject))) continue;
        client = "outlook";
      }
    } else {
      // Outlook's header block without a marker (its HTML draws the rule as a border): a
      // From/Fra line, then at least a Sent/Sendt/Date and a Subject/Emne line.
      if (header_label(p) != Label::from) continue;
      h = read_header(lines, i, false);
      if (!(h.from && h.date && h.subject && h.lines >= 3)) continue;
      client = "outlook";
    }
    out.found = true;
    out.marker = marker;
    out.client = client;
    out.from = h.from_value;
    out.from_address = h.from ? one_address(h.from_value) : "";
    out.date = h.date_value;
    out.date_value = header_date(h.date_value);
    out.subject = h.subject_value;
    for (std::size_t k = i; k < lines.size(); ++k) {
      out.text.append(dequote(lines[k].raw));
      out.text += '\n';
    }
    if (t.size() < input.size()) out.text.append(input.substr(t.size()));
    return out;
  }
  return out;
}

}  // namespace tilskudd::forward
