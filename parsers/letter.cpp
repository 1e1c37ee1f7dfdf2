// Reading letters from Statsforvalteren / Fylkesmannen (DECISIONS.md "Letters", "Evidence").
//
// The text is cut into units: prose sentences (lines of a paragraph joined, then split at
// sentence ends) and table rows (lines with '|', tabs or wide gaps, as pdftotext -layout writes
// them). Each unit is read for decision wording (grant, rejection, receipt) and money amounts;
// an amount is granted when the nearest wording before it in its clause grants ("tildeles
// kr 40 000"), not when it was applied for or is a cost or a total ("søkt om kr 95 000").
#include "parsers/letter.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>

#include "parsers/amount.h"
#include "parsers/date.h"
#include "parsers/form.h"
#include "parsers/text.h"

namespace tilskudd {

namespace {

// How many lines from the top count as the letter's head (date, references).
constexpr std::size_t kHeadLines = 40;
// How many non-empty lines from the top count as the letterhead that names the sender.
constexpr std::size_t kSenderHeadLines = 12;

bool is_word_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u >= 0x80;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Token {
  std::string_view word;  // lower-case
  std::size_t begin = 0;
  std::size_t end = 0;
};

std::vector<Token> tokenize(std::string_view lower) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < lower.size()) {
    if (!is_word_byte(lower[i])) {
      ++i;
      continue;
    }
    std::size_t b = i;
    while (i < lower.size() && is_word_byte(lower[i])) ++i;
    out.push_back({lower.substr(b, i - b), b, i});
  }
  return out;
}

bool starts(std::string_view w, std::string_view prefix) {
  return w.substr(0, prefix.size()) == prefix;
}

bool any_of(std::string_view w, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

enum class Mark { grant, applied, total, reject };

struct Marker {
  Mark mark;
  std::size_t pos;  // byte offset in the clause
};

// What one clause or sentence says.
struct Reading {
  int grant = 0;    // grant wording, not negated, not hypothetical
  int reject = 0;   // rejection wording, negated grant wording
  int receipt = 0;  // receipt / "will be processed"
  std::vector<Kroner> granted;
  std::vector<Kroner> totals;       // "til sammen tildeles kr 70 000"
  std::vector<Kroner> unqualified;  // amounts with no wording before or after them in the clause

  void add(const Reading& o) {
    grant += o.grant;
    reject += o.reject;
    receipt += o.receipt;
    granted.insert(granted.end(), o.granted.begin(), o.granted.end());
    totals.insert(totals.end(), o.totals.begin(), o.totals.end());
    unqualified.insert(unqualified.end(), o.unqualified.begin(), o.unqualified.end());
  }
  bool decisive() const { return grant > 0 || reject > 0 || !granted.empty(); }
};

bool grant_stem(std::string_view w) {
  return starts(w, "tildel") || starts(w, "innvilg") || starts(w, "tilsagn") || starts(w, "bevilg");
}

bool reject_stem(std::string_view w) {
  return starts(w, "avslag") || starts(w, "avslå") || starts(w, "avvis");
}

bool applied_word(std::string_view w) {
  return any_of(w, {"søkt", "søkte", "søker", "søknadsbeløp", "søknadsbeløpet", "egenandel",
                    "studieavgift", "semesteravgift", "pris"}) ||
         starts(w, "omsøkt") || starts(w, "kostnad") || starts(w, "budsjett") ||
         starts(w, "utgift") || starts(w, "totalkostnad");
}

bool total_word(std::string_view w) {
  return any_of(w, {"sum", "summen", "totalt", "total", "samlet", "samlede", "ramme", "rammen",
                    "pott", "potten"});
}

// Sentences that talk about what would happen, or about appeals: their wording decides nothing
// ("Dersom søknaden hadde blitt avslått ...", "Vedtaket kan påklages ...").
bool hypothetical(const std::vector<Token>& t) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    auto w = t[i].word;
    if (any_of(w, {"dersom", "hvis", "ville", "forvaltningsloven", "eventuelt", "eventuelle"}))
      return true;
    if (starts(w, "klage") || starts(w, "påklag")) return true;
    if (w == "hadde" && i + 1 < t.size() && t[i + 1].word == "blitt") return true;
    if (w == "ved" && i + 1 < t.size() &&
        (reject_stem(t[i + 1].word) || t[i + 1].word == "et" || t[i + 1].word == "eventuelt"))
      return true;
  }
  return false;
}

// "vil bli behandlet", "dere vil motta et tildelingsbrev": the decision is still to come.
bool prospective(const std::vector<Token>& t) {
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i].word == "vil" || t[i].word == "skal") {
      for (std::size_t j = i + 1; j < std::min(t.size(), i + 4); ++j) {
        if (any_of(t[j].word, {"bli", "motta", "få", "sende", "behandles", "vurderes", "gis"}))
          return true;
      }
    }
    if (t[i].word == "når" && i + 1 < t.size() && starts(t[i + 1].word, "søknad")) return true;
  }
  return false;
}

int receipt_hits(const std::vector<Token>& t, std::string_view lower) {
  int n = 0;
  for (std::string_view p : {"bekreftelse på mottatt", "mottatt søknad", "har mottatt",
                             "mottakskvittering", "kvittering for", "under behandling",
                             "saksbehandlingstid", "vil bli behandlet", "behandles fortløpende"}) {
    if (lower.find(p) != std::string_view::npos) ++n;
  }
  (void)t;
  return n;
}

bool negated(const std::vector<Token>& t, std::size_t i) {
  std::size_t from = i >= 3 ? i - 3 : 0;
  for (std::size_t j = from; j < std::min(t.size(), i + 3); ++j) {
    if (j != i && t[j].word == "ikke") return true;
  }
  return false;
}

// Splits a sentence into clauses at ", ", ";", " | " and the conjunctions "men"/"mens".
std::vector<std::pair<std::size_t, std::size_t>> clauses(std::string_view lower) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    char c = lower[i];
    bool cut = false;
    std::size_t skip = 1;
    if ((c == ',' && i + 1 < lower.size() && lower[i + 1] == ' ') || c == ';' || c == '|') {
      cut = true;
    } else if (c == ' ' && (lower.substr(i, 5) == " men " || lower.substr(i, 6) == " mens ")) {
      cut = true;
    }
    if (cut) {
      if (i > start) out.emplace_back(start, i);
      start = i + skip;
    }
  }
  if (start < lower.size()) out.emplace_back(start, lower.size());
  return out;
}

// Whether a sentence names the state's letters rather than being one: it asks for them to be
// attached ("legg ved", "vedlegges", "last opp") or names both kinds ("tildelingsbrev eller
// avslagsbrev"). Then "tildelingsbrev" / "avslagsbrev" in it decide nothing.
bool names_letters(const std::vector<Token>& t, std::string_view lower) {
  bool grant_letter = false, reject_letter = false;
  for (const auto& tok : t) {
    if (tok.word.find("brev") == std::string_view::npos) continue;
    if (grant_stem(tok.word)) grant_letter = true;
    if (reject_stem(tok.word)) reject_letter = true;
  }
  if (!grant_letter && !reject_letter) return false;
  if (grant_letter && reject_letter) return true;
  for (std::string_view p : {"legg ved", "legge ved", "legges ved", "vedlegg", "last opp",
                             "laste opp", "lastes opp", "kopi av"})
    if (lower.find(p) != std::string_view::npos) return true;
  return false;
}

// Reads one clause: wording counts, and amounts by the wording nearest before them.
void read_clause(std::string_view clause, bool neutral, bool names_letters, Reading& r) {
  auto t = tokenize(clause);
  std::vector<Marker> markers;
  bool any_grant = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    auto w = t[i].word;
    std::string_view prev = i > 0 ? t[i - 1].word : std::string_view{};
    std::string_view next = i + 1 < t.size() ? t[i + 1].word : std::string_view{};
    char after = t[i].end < clause.size() ? clause[t[i].end] : '\0';
    if (names_letters && (grant_stem(w) || reject_stem(w)) &&
        w.find("brev") != std::string_view::npos) {
      // "Legg ved tildelingsbrev/avslagsbrev": letters named, not a decision (the form's
      // instructions name the letters to attach).
    } else if (any_of(w, {"tildelingsbrevet", "tildelingsbrevene", "tilsagnsbrevet"})) {
      // "vedlagt er tildelingsbrevet": a letter referred to, not a decision.
    } else if (grant_stem(w)) {
      // "søknad om tildeling", "søkt om tilsagn": what was asked for, not what was given.
      if (prev == "om" || applied_word(prev)) {
        markers.push_back({Mark::applied, t[i].begin});
      } else if (prev == "fått" || (i >= 2 && t[i - 2].word == "fått")) {
        // "Statsforvalteren har fått tildelt kr 2 000 000": the state's own budget.
        markers.push_back({Mark::total, t[i].begin});
      } else if (negated(t, i)) {
        markers.push_back({Mark::reject, t[i].begin});
        if (!neutral) ++r.reject;
      } else {
        markers.push_back({Mark::grant, t[i].begin});
        any_grant = true;
        if (!neutral) ++r.grant;
      }
    } else if (reject_stem(w)) {
      markers.push_back({Mark::reject, t[i].begin});
      if (!neutral) ++r.reject;
    } else if (starts(w, "imøtekomm") && negated(t, i)) {
      markers.push_back({Mark::reject, t[i].begin});
      if (!neutral) ++r.reject;
    } else if ((w == "tilskudd" || w == "tilskuddet" || w == "tilskuddsbeløp" ||
                w == "tilskuddsbeløpet" || w == "beløp" || w == "beløpet") &&
               !applied_word(prev) && prev != "om" &&
               (after == ':' || next == "på" || next == "er" || w.size() > 11)) {
      // "Tilskudd: kr 45 000", "tilskudd på kr 40 000", "tilskuddsbeløp kr 40 000".
      markers.push_back({Mark::grant, t[i].begin});
      if (w != "beløp" && w != "beløpet") {
        any_grant = true;
        if (!neutral) ++r.grant;
      }
    } else if (starts(w, "søknad") && next == "om") {
      markers.push_back({Mark::applied, t[i].begin});
    } else if (applied_word(w)) {
      markers.push_back({Mark::applied, t[i].begin});
    } else if (total_word(w) || (w == "til" && next == "sammen") || (w == "i" && next == "alt")) {
      markers.push_back({Mark::total, t[i].begin});
    }
  }
  if (neutral) return;
  (void)any_grant;

  // Segments between markers; amounts before the first marker go with the first one.
  std::vector<Kroner> granted, applied_after_grant;
  bool grant_seen = false;
  bool total_before = false;  // a total among markers[0, k): kept as k grows (linear)
  for (std::size_t k = 0; k <= markers.size(); ++k) {
    if (k > 0 && markers[k - 1].mark == Mark::total) total_before = true;
    std::size_t b = k == 0 ? 0 : markers[k - 1].pos;
    std::size_t e = k < markers.size() ? markers[k].pos : clause.size();
    if (e <= b) continue;
    auto amounts = find_amounts(clause.substr(b, e - b));
    if (amounts.empty()) {
      if (k > 0 && markers[k - 1].mark == Mark::grant) grant_seen = true;
      continue;
    }
    if (markers.empty()) {
      r.unqualified.insert(r.unqualified.end(), amounts.begin(), amounts.end());
      continue;
    }
    Mark m = k == 0 ? markers[0].mark : markers[k - 1].mark;
    // A total anywhere before in the clause (total_before) makes a granted amount a total
    // ("til sammen tildeles kr 70 000").
    if (m == Mark::grant) {
      grant_seen = true;
      auto& dst = total_before ? r.totals : granted;
      dst.insert(dst.end(), amounts.begin(), amounts.end());
    } else if (m == Mark::total) {
      // "totalt kr 40 000 tildeles": a total wording directly before a grant.
      bool grant_after = k < markers.size() && markers[k].mark == Mark::grant;
      if (grant_after || grant_seen)
        r.totals.insert(r.totals.end(), amounts.begin(), amounts.end());
    } else if (m == Mark::applied && grant_seen) {
      applied_after_grant.insert(applied_after_grant.end(), amounts.begin(), amounts.end());
    }
  }
  // "Vi har innvilget søknaden om kr 40 000": the grant covers what was asked for.
  if (granted.empty() && grant_seen && r.reject == 0) granted = applied_after_grant;
  r.granted.insert(r.granted.end(), granted.begin(), granted.end());
}

Reading read_sentence(std::string_view lower) {
  Reading r;
  auto t = tokenize(lower);
  bool neutral = hypothetical(t) || prospective(t);
  r.receipt = receipt_hits(t, lower);
  if (prospective(t)) ++r.receipt;
  Reading inner;
  const bool letters_named = names_letters(t, lower);
  for (auto [b, e] : clauses(lower))
    read_clause(lower.substr(b, e - b), neutral, letters_named, inner);
  // Amounts standing alone in a granting sentence ("tildeler ..., kr 40 000") are granted.
  if (inner.grant > 0 && inner.reject == 0) {
    inner.granted.insert(inner.granted.end(), inner.unqualified.begin(), inner.unqualified.end());
    inner.unqualified.clear();
  }
  r.add(inner);
  return r;
}

// ---- Units: sentences and table rows ----

struct Unit {
  std::string text;                // original spelling, spaces collapsed
  std::string lower;               // to_lower(text)
  int block = 0;                   // paragraph number (blank lines separate paragraphs)
  bool row = false;                // a table row
  std::vector<std::string> cells;  // for rows
  Reading reading;
  // An item of a list of names ("- Ola Hansen", a name on its own line, a table row) under the
  // sentence that introduces it ("... for følgende ansatte:"): that sentence's unit; -1 for none.
  int list = -1;
};

bool uppercase_start(std::string_view s) {
  if (s.empty()) return false;
  auto c = static_cast<unsigned char>(s[0]);
  if (c >= 'A' && c <= 'Z') return true;
  // Æ Ø Å É and other Latin-1 capitals: C3 80..9E
  return c == 0xC3 && s.size() > 1 && static_cast<unsigned char>(s[1]) >= 0x80 &&
         static_cast<unsigned char>(s[1]) <= 0x9E;
}

// Splits a paragraph at sentence ends: '.', '!' or '?' followed by a space and a capital, not
// after an abbreviation ("kr.", "ref.", "jf.", "nr.").
std::vector<std::string> sentences(const std::string& para) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i + 2 < para.size(); ++i) {
    char c = para[i];
    if ((c != '.' && c != '!' && c != '?') || para[i + 1] != ' ') continue;
    if (!uppercase_start(std::string_view(para).substr(i + 2))) continue;
    if (c == '.') {
      std::size_t w = i;
      while (w > start && is_word_byte(para[w - 1])) --w;
      std::string prev = text::to_lower(std::string_view(para).substr(w, i - w));
      if (any_of(prev,
                 {"kr", "ref", "jf", "nr",  "pkt", "ca",  "tlf",  "evt", "bl",  "dvs", "mv",
                  "f",  "eks", "st", "org", "avd", "adr", "vedr", "ang", "iht", "bnr", "gnr"}))
        continue;
    }
    out.push_back(para.substr(start, i + 1 - start));
    start = i + 2;
  }
  if (start < para.size()) out.push_back(para.substr(start));
  return out;
}

bool looks_like_row(std::string_view line) {
  if (line.find('|') != std::string_view::npos || line.find('\t') != std::string_view::npos)
    return true;
  return line.find("   ") != std::string_view::npos;
}

std::vector<std::string> split_cells(std::string_view line) {
  std::vector<std::string> cells;
  if (line.find('|') != std::string_view::npos) {
    std::size_t b = 0;
    for (;;) {
      auto e = line.find('|', b);
      cells.push_back(text::collapse_spaces(line.substr(b, e - b)));
      if (e == std::string_view::npos) break;
      b = e + 1;
    }
  } else {
    std::string cur;
    std::size_t spaces = 0;
    for (char c : line) {
      if (c == ' ' || c == '\t') {
        spaces += c == '\t' ? 2 : 1;
        continue;
      }
      if (spaces >= 2 && !cur.empty()) {
        cells.push_back(text::collapse_spaces(cur));
        cur.clear();
      } else if (spaces == 1 && !cur.empty()) {
        cur += ' ';
      }
      spaces = 0;
      cur += c;
    }
    if (!cur.empty()) cells.push_back(text::collapse_spaces(cur));
  }
  return cells;
}

// A row's non-empty cells as one text, "a | b | c".
std::string join_cells(const std::vector<std::string>& cells) {
  std::string joined;
  for (const auto& c : cells) {
    if (c.empty()) continue;
    if (!joined.empty()) joined += " | ";
    joined += c;
  }
  return joined;
}

// A list item's bullet ("- ", "• ", "1. ", "2) "): its length in bytes, 0 for none.
std::size_t bullet_length(std::string_view line) {
  for (std::string_view b : {"- ", "– ", "— ", "• ", "* ", "· ", "▪ ", "◦ ", "o "}) {
    if (line.substr(0, b.size()) == b) return b.size();
  }
  std::size_t i = 0;
  while (i < line.size() && i < 3 && is_digit(line[i])) ++i;
  if (i > 0 && i + 1 < line.size() && (line[i] == '.' || line[i] == ')') && line[i + 1] == ' ')
    return i + 2;
  return 0;
}

// Whether a line opens with the words of a total ("Til sammen kr 100 000", "Totalt", "Sum").
bool total_start(std::string_view lower) {
  auto t = tokenize(lower.substr(0, std::min<std::size_t>(lower.size(), 40)));
  if (t.empty()) return false;
  if (any_of(t[0].word, {"totalt", "total", "samlet", "samla", "sum", "summen", "samlede"}))
    return true;
  return t.size() > 1 && ((t[0].word == "til" && t[1].word == "sammen") ||
                          (t[0].word == "i" && t[1].word == "alt"));
}

// Whether a line can be an item of a list of names: a bullet, a table row, or a short line that
// is no sentence (a name, "Ola Hansen (ABLU)", "Ola Hansen: kr 40 000"); never a total or the
// signature.
bool list_item_line(std::string_view line) {
  if (line.empty()) return false;
  std::string lower = text::to_lower(line);
  if (total_start(lower) || lower.find("hilsen") != std::string::npos) return false;
  if (bullet_length(line) > 0 || looks_like_row(line)) return true;
  if (line.back() == '.' || line.back() == ':' || line.size() > 80) return false;
  return tokenize(lower).size() <= 8;
}

// Whether the sentence ending a line with ':' introduces a list of names: it says "følgende"
// (the following) or has decision wording ("innvilger ... for:", "avslås for:").
bool introduces_list(std::string_view lower_sentence) {
  if (lower_sentence.find("følgende") != std::string_view::npos) return true;
  for (const auto& t : tokenize(lower_sentence))
    if (grant_stem(t.word) || reject_stem(t.word)) return true;
  return false;
}

// Stops early (with what it has) when `budget` is spent; the caller asks the budget.
std::vector<Unit> make_units(const std::vector<std::string>& lines, Budget* budget) {
  std::vector<Unit> units;
  int block = 0;
  std::string para;
  // The list being read: the unit of its introduction, whether its items have bullets, and the
  // block its items share (a table's header row is found in its block).
  int list = -1;
  bool list_bullets = false;
  std::size_t list_items = 0;
  auto flush = [&] {
    if (para.empty()) return;
    for (auto& s : sentences(para)) {
      if (budget && budget->spent()) break;
      Unit u;
      u.text = text::collapse_spaces(s);
      if (u.text.empty()) continue;
      u.lower = text::to_lower(u.text);
      u.block = block;
      u.reading = read_sentence(u.lower);
      units.push_back(std::move(u));
    }
    para.clear();
  };
  // The next non-empty line after `i`, when at most `blanks` blank lines come before it.
  const auto next_line = [&](std::size_t i, std::size_t blanks) -> std::string_view {
    for (std::size_t k = i + 1; k < lines.size() && k <= i + 1 + blanks; ++k) {
      std::string_view l = text::trim(lines[k]);
      if (!l.empty()) return l;
    }
    return {};
  };
  for (std::size_t li = 0; li < lines.size(); ++li) {
    if (budget && budget->spent()) return units;
    std::string_view line = text::trim(lines[li]);
    if (list >= 0) {
      // Inside a list: items until a line that is none, or a blank line that the list does not
      // go on after (bullets may have blank lines between them; the first item may follow one).
      if (line.empty()) {
        std::string_view nxt = next_line(li, 1);
        bool goes_on =
            list_item_line(nxt) && (list_items == 0 || (list_bullets && bullet_length(nxt) > 0));
        if (!goes_on) {
          list = -1;
          ++block;
        }
        continue;
      }
      if (list_item_line(line)) {
        Unit u;
        u.list = list;
        u.block = block;
        if (looks_like_row(line)) {
          u.row = true;
          u.cells = split_cells(line);
          u.text = join_cells(u.cells);
        } else {
          std::size_t b = bullet_length(line);
          if (b > 0) list_bullets = true;
          u.text = text::collapse_spaces(line.substr(b));
        }
        u.lower = text::to_lower(u.text);
        u.reading = read_sentence(u.lower);
        // An amount standing alone in an item of a granting list is granted, as it would be in
        // the sentence ("Tilsagn:" / "kr 40 000", "- Ola Hansen: kr 40 000").
        const Reading& head = units[static_cast<std::size_t>(list)].reading;
        if (!u.row && head.grant > 0 && head.reject == 0 && !u.reading.decisive()) {
          u.reading.granted = std::move(u.reading.unqualified);
          u.reading.unqualified.clear();
        }
        units.push_back(std::move(u));
        ++list_items;
        continue;
      }
      list = -1;
      ++block;
    }
    if (line.empty()) {
      flush();
      ++block;
      continue;
    }
    if (line.back() == ':' && !looks_like_row(line)) {
      // "Statsforvalteren innvilger kr 50 000 per student for følgende ansatte:" followed by the
      // names, one a line: the sentence is a unit of its own and the names its list's items.
      std::string_view nxt = next_line(li, 1);
      std::string sentence = para.empty() ? std::string(line) : para + " " + std::string(line);
      auto parts = sentences(sentence);
      if (!nxt.empty() && list_item_line(nxt) && !parts.empty() &&
          introduces_list(text::to_lower(parts.back()))) {
        para = std::move(sentence);
        flush();
        if (!units.empty() && units.back().block == block) {
          list = static_cast<int>(units.size() - 1);
          list_bullets = false;
          list_items = 0;
          ++block;
        }
        continue;
      }
    }
    if (looks_like_row(line)) {
      flush();
      Unit u;
      u.row = true;
      u.cells = split_cells(line);
      u.text = join_cells(u.cells);
      u.lower = text::to_lower(u.text);
      u.block = block;
      u.reading = read_sentence(u.lower);
      units.push_back(std::move(u));
      continue;
    }
    if (!para.empty()) {
      // A hyphen at a line end joins a word broken over two lines.
      if (para.back() == '-' && para.size() > 1 && !is_digit(para[para.size() - 2])) {
        para.pop_back();
      } else {
        para += ' ';
      }
    }
    para += line;
  }
  flush();
  return units;
}

// ---- Employees ----

std::vector<std::string> split_words(const std::string& key) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b < key.size()) {
    auto e = key.find(' ', b);
    if (e == std::string::npos) e = key.size();
    if (e > b) out.push_back(key.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// Where the employee's name starts in `unit_lower` (byte offset), or npos. Matches the full
// name, "Etternavn, Fornavn", and first + last name with up to two middle names between.
std::size_t find_name(const std::vector<std::string>& name, std::string_view unit_lower) {
  if (name.empty()) return std::string::npos;
  auto t = tokenize(unit_lower);
  const std::string& first = name.front();
  const std::string& last = name.back();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (name.size() == 1) {
      if (t[i].word == first) return t[i].begin;
      continue;
    }
    if (t[i].word == first) {
      for (std::size_t j = i + 1; j < std::min(t.size(), i + 4); ++j) {
        if (t[j].word == last) return t[i].begin;
      }
    }
    if (t[i].word == last && i + 1 < t.size() && t[i + 1].word == first) {
      // "Hansen, Ola": only with the comma (or a cell break), not "... Hansen Ola ..." prose.
      std::string_view between = unit_lower.substr(t[i].end, t[i + 1].begin - t[i].end);
      if (between.find(',') != std::string_view::npos) return t[i].begin;
    }
  }
  return std::string::npos;
}

// Every employee named in a unit, in one pass over its words, however many employees there are:
// the names are indexed once by (first word, last word), and each word of the unit looks up the
// few pairs it can start. Finds exactly what find_name finds for each name, at the same place
// (tests/unit/letter_test.cpp compares them), without tokenising the unit once per employee.
class NameIndex {
 public:
  explicit NameIndex(const std::vector<std::vector<std::string>>& names) : seen_(names.size(), 0) {
    for (std::size_t e = 0; e < names.size(); ++e) {
      if (names[e].empty()) continue;
      std::string key = names[e].front() + '\n';
      if (names[e].size() > 1) key += names[e].back();
      by_pair_[key].push_back(e);
    }
  }

  // (byte offset, employee) for each employee named in `unit_lower`, sorted by offset.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view unit_lower) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (by_pair_.empty()) return out;
    ++epoch_;
    const auto t = tokenize(unit_lower);
    const auto hit = [&](std::string_view first, std::string_view last, std::size_t at) {
      key_.assign(first);
      key_ += '\n';
      key_ += last;
      auto it = by_pair_.find(key_);
      if (it == by_pair_.end()) return;
      for (std::size_t e : it->second) {
        if (seen_[e] == epoch_) continue;
        seen_[e] = epoch_;
        out.emplace_back(at, e);
      }
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
      hit(t[i].word, "", t[i].begin);  // a one-word name
      for (std::size_t j = i + 1; j < std::min(t.size(), i + 4); ++j)
        hit(t[i].word, t[j].word, t[i].begin);  // first name, up to two middle names, last name
      if (i + 1 < t.size()) {
        // "Hansen, Ola": only with the comma (or a cell break) between.
        std::string_view between = unit_lower.substr(t[i].end, t[i + 1].begin - t[i].end);
        if (between.find(',') != std::string_view::npos) hit(t[i + 1].word, t[i].word, t[i].begin);
      }
    }
    std::stable_sort(out.begin(), out.end());
    return out;
  }

 private:
  std::unordered_map<std::string, std::vector<std::size_t>> by_pair_;
  std::vector<unsigned> seen_;  // per employee: the call that found it last
  unsigned epoch_ = 0;
  std::string key_;
};

std::vector<std::vector<std::string>> name_words(const std::vector<std::string>& employees) {
  std::vector<std::vector<std::string>> names;
  for (const auto& e : employees) names.push_back(split_words(text::name_key(e)));
  return names;
}

struct Verdict {
  LetterKind kind = LetterKind::unknown;
  std::optional<Kroner> amount;
};

Verdict verdict_of(const Reading& r) {
  Verdict v;
  std::vector<Kroner> g = r.granted;
  if (g.empty()) g = r.totals;
  if (!g.empty()) {
    if (g.front() == 0) {
      v.kind = LetterKind::rejection;  // "tildelt: kr 0"
    } else {
      v.kind = LetterKind::grant;
      v.amount = g.front();
    }
  } else if (r.reject > 0) {
    v.kind = LetterKind::rejection;
  } else if (r.grant > 0) {
    v.kind = LetterKind::grant;
  }
  return v;
}

enum class Column { none, granted, applied };

Column column_of(std::string_view header_cell) {
  std::string l = text::to_lower(header_cell);
  auto t = tokenize(l);
  bool grant = false, applied = false;
  for (const auto& tok : t) {
    if (applied_word(tok.word) || starts(tok.word, "søknad")) applied = true;
    if (grant_stem(tok.word) || starts(tok.word, "tilskudd")) grant = true;
  }
  if (applied) return Column::applied;
  if (grant) return Column::granted;
  return Column::none;
}

// The header row of the application form's table, not a letter's: a cost column and a column
// naming the state ("Kostnad", "Tilskudd fra Statsforvalteren"): its rows are the applicant's
// claims (DECISIONS.md "Form or letter").
bool form_header(const std::vector<std::string>& cells) {
  bool cost = false, state = false;
  for (const auto& c : cells) {
    std::string l = text::to_lower(c);
    if (l.find("kostnad") != std::string::npos || l.find("utgift") != std::string::npos)
      cost = true;
    if (l.find("statsforvalter") != std::string::npos || l.find("fylkesmann") != std::string::npos)
      state = true;
  }
  return cost && state;
}

// A table row naming an employee: its own verdict, with the header row's columns when there is
// one ("Navn | Søkt | Tildelt"). A row of the form's own table decides nothing.
Verdict row_verdict(const std::vector<Unit>& units, std::size_t idx) {
  const Unit& row = units[idx];
  // The header: the nearest row above in the same paragraph without digits.
  std::vector<Column> cols;
  for (std::size_t k = idx; k-- > 0;) {
    if (!units[k].row || units[k].block != row.block) break;
    if (std::none_of(units[k].text.begin(), units[k].text.end(), is_digit)) {
      if (form_header(units[k].cells)) return {};
      for (const auto& c : units[k].cells) cols.push_back(column_of(c));
      break;
    }
  }
  if (row.reading.reject > 0 && row.reading.granted.empty()) return {LetterKind::rejection, {}};
  std::vector<std::pair<Kroner, Column>> amounts;
  for (std::size_t c = 0; c < row.cells.size(); ++c) {
    auto a = parse_amount(row.cells[c]);
    if (!a) {
      auto found = find_amounts(row.cells[c]);
      if (found.size() == 1) a = found.front();
    }
    if (!a) continue;
    Column col = cols.size() == row.cells.size() ? cols[c] : Column::none;
    amounts.emplace_back(*a, col);
  }
  bool header_has_applied = std::find(cols.begin(), cols.end(), Column::applied) != cols.end();
  for (auto [a, col] : amounts) {
    if (col == Column::granted) {
      if (a == 0) return {LetterKind::rejection, {}};
      return {LetterKind::grant, a};
    }
  }
  if (!row.reading.granted.empty()) return verdict_of(row.reading);
  std::vector<Kroner> plain;
  for (auto [a, col] : amounts) {
    if (col == Column::none) plain.push_back(a);
  }
  if (!plain.empty()) {
    // Without a usable header, the last amount of the row ("Søkt ... Tildelt" order), unless the
    // header says the only amount columns are costs.
    if (header_has_applied && cols.size() == row.cells.size()) return verdict_of(row.reading);
    Kroner a = plain.back();
    if (a == 0) return {LetterKind::rejection, {}};
    return {LetterKind::grant, a};
  }
  return verdict_of(row.reading);
}

// ---- Lists of names under one sentence ----

// "kr 50 000 per student", "pr. ansatt", "til hver": an amount for each listed name.
bool per_person(std::string_view lower) {
  auto t = tokenize(lower);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (any_of(t[i].word, {"hver", "hvert", "kvar", "kvart"})) return true;
    if ((t[i].word == "per" || t[i].word == "pr") && i + 1 < t.size() &&
        (starts(t[i + 1].word, "student") || starts(t[i + 1].word, "ansatt") ||
         starts(t[i + 1].word, "person") || starts(t[i + 1].word, "deltaker") ||
         starts(t[i + 1].word, "arbeidstaker") || starts(t[i + 1].word, "tilsett")))
      return true;
  }
  return false;
}

// The header row of a table of names: no digits, and a column named for the people.
bool names_header(const Unit& u) {
  if (!u.row || std::any_of(u.text.begin(), u.text.end(), is_digit)) return false;
  for (const auto& t : tokenize(u.lower))
    if (any_of(t.word, {"navn", "ansatt", "ansatte", "student", "studenter", "tilsett"}))
      return true;
  return false;
}

// What a list's introduction says about each of its items (DECISIONS.md "Letters that list
// names"): its kind, and an amount for each item when it is per person (or the list has one
// item); `total` is an amount for the whole list.
struct ListHead {
  Verdict verdict;
  std::optional<Kroner> each;
  std::optional<Kroner> total;
  std::size_t items = 0;  // items naming a person (a table's header row is none)
};

ListHead list_head(const std::vector<Unit>& units, std::size_t intro) {
  ListHead h;
  h.verdict = verdict_of(units[intro].reading);
  for (std::size_t k = intro + 1; k < units.size() && units[k].list == static_cast<int>(intro); ++k)
    if (!names_header(units[k])) ++h.items;
  if (h.verdict.kind == LetterKind::grant && h.verdict.amount) {
    if (per_person(units[intro].lower) || h.items == 1)
      h.each = h.verdict.amount;
    else
      h.total = h.verdict.amount;
  }
  h.verdict.amount.reset();
  return h;
}

// One item's verdict: its own words and amount ("Ola Hansen: kr 40 000", a row's "Tildelt"
// column), else the introduction's.
Verdict item_verdict(const std::vector<Unit>& units, std::size_t u, const ListHead& head) {
  const Unit& item = units[u];
  Verdict own = item.row ? row_verdict(units, u) : verdict_of(item.reading);
  if (own.kind == LetterKind::unknown && head.verdict.kind == LetterKind::grant) {
    std::vector<Kroner> loose = item.reading.unqualified;
    if (loose.size() == 1)
      own = {loose.front() == 0 ? LetterKind::rejection : LetterKind::grant,
             loose.front() == 0 ? std::nullopt : std::optional<Kroner>(loose.front())};
  }
  if (own.kind == LetterKind::rejection) return own;
  if (own.kind == LetterKind::grant && own.amount) return own;
  Verdict v = head.verdict;
  if (v.kind == LetterKind::grant) v.amount = head.each;
  return v;
}

// The letter's own check of a list: its total ("Til sammen kr 100 000" after the items, or the
// introduction's amount for the whole list) against the sum of the items' amounts. Returns why
// they disagree, "" when they agree or the letter gives no total or not every item an amount.
std::string list_doubt(const std::vector<Unit>& units, std::size_t intro, const ListHead& head) {
  if (head.verdict.kind != LetterKind::grant) return "";
  std::size_t end = intro + 1;
  Kroner sum = 0;
  std::size_t with_amount = 0;
  for (; end < units.size() && units[end].list == static_cast<int>(intro); ++end) {
    if (names_header(units[end])) continue;
    Verdict v = item_verdict(units, end, head);
    if (v.kind == LetterKind::grant && v.amount) {
      sum += *v.amount;
      ++with_amount;
    } else if (v.kind == LetterKind::grant) {
      return "";
    }
  }
  std::optional<Kroner> total = head.total;
  // A total in the few units after the list, before another list.
  for (std::size_t k = end; !total && k < std::min(units.size(), end + 3); ++k) {
    if (units[k].list >= 0) break;
    if (!total_start(units[k].lower)) continue;
    auto a = find_amounts(units[k].lower);
    if (!a.empty()) total = a.back();
  }
  if (!total || with_amount == 0 || sum == *total) return "";
  return "the letter grants kr " + group_digits(sum) + " in all to the " +
         std::to_string(with_amount) + " names it lists, but gives the total as kr " +
         group_digits(*total);
}

// ---- Sender, date, reference ----

std::string title_case(std::string_view word) {
  std::string lower = text::to_lower(word);
  if (!lower.empty() && lower[0] >= 'a' && lower[0] <= 'z')
    lower[0] = static_cast<char>(lower[0] - 32);
  if (lower.size() > 1 && static_cast<unsigned char>(lower[0]) == 0xC3) {
    auto d = static_cast<unsigned char>(lower[1]);
    if (d >= 0xA0 && d <= 0xBE && d != 0xB7) lower[1] = static_cast<char>(d - 0x20);
  }
  return lower;
}

// Where a letter names its sender (DECISIONS.md "What counts as the state's letter"): a line
// that begins with the state's name in the letter's head (its first kSenderHeadLines non-empty
// lines) or in its signature (after "hilsen"), or a "Fra:"/"From:" line (a forwarded letter's
// header). A mention in the prose ("vi har fått tilsagn fra Statsforvalteren") names no sender.
std::string find_sender(const std::vector<std::string>& lines) {
  std::string bare;
  std::size_t non_empty = 0;
  bool signature = false;
  for (const auto& raw : lines) {
    std::string line = text::collapse_spaces(raw);
    if (line.empty()) continue;
    ++non_empty;
    std::string lower = text::to_lower(line);
    auto t = tokenize(lower);
    if (t.empty()) continue;
    std::size_t first = 0;
    bool label = false;
    if (any_of(t[0].word, {"fra", "from", "avsender"}) && t[0].end < lower.size() &&
        lower[t[0].end] == ':') {
      first = 1;
      label = true;
    }
    const bool where = non_empty <= kSenderHeadLines || signature || label;
    if (lower.find("hilsen") != std::string::npos) signature = true;
    if (!where) continue;
    for (std::size_t i = first; i < std::min(t.size(), first + 1); ++i) {
      std::string canonical;
      if (t[i].word == "statsforvalteren")
        canonical = "Statsforvalteren";
      else if (t[i].word == "statsforvaltaren")
        canonical = "Statsforvaltaren";
      else if (t[i].word == "fylkesmannen")
        canonical = "Fylkesmannen";
      else
        continue;
      if (bare.empty()) bare = canonical;
      if (i + 2 >= t.size() || t[i + 1].word != "i") continue;
      // County: Capitalised words joined by "og" ("Oslo og Viken", "Møre og Romsdal").
      std::string county;
      std::size_t j = i + 2;
      while (j < t.size()) {
        std::string_view orig = std::string_view(line).substr(t[j].begin, t[j].end - t[j].begin);
        if (!uppercase_start(orig) || is_digit(orig[0])) break;
        // Separated from the previous word by a single space (not a layout gap or a comma).
        if (!county.empty()) {
          std::string_view gap =
              std::string_view(line).substr(t[j - 1].end, t[j].begin - t[j - 1].end);
          if (gap != " ") break;
        }
        bool all_caps =
            std::none_of(orig.begin(), orig.end(), [](char c) { return c >= 'a' && c <= 'z'; });
        if (!county.empty()) county += ' ';
        county += all_caps ? title_case(orig) : std::string(orig);
        if (j + 2 < t.size() && t[j + 1].word == "og") {
          std::string_view nxt =
              std::string_view(line).substr(t[j + 2].begin, t[j + 2].end - t[j + 2].begin);
          if (uppercase_start(nxt)) {
            county += " og";
            j += 2;
            continue;
          }
        }
        break;
      }
      if (!county.empty()) return canonical + " i " + county;
    }
  }
  return bare;
}

bool is_ref_token(std::string_view s) {
  // 2020/12345, 20/1234, 2020/12345-3
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i < 2 || i > 4 || i >= s.size() || s[i] != '/') return false;
  std::size_t j = i + 1;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j == i + 1 || j - i - 1 > 8) return false;
  if (j < s.size() && s[j] == '-') {
    std::size_t k = j + 1;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == j + 1) return false;
    j = k;
  }
  return j == s.size();
}

// Reference-like tokens in `line` with their columns.
std::vector<std::pair<std::size_t, std::string>> ref_tokens(std::string_view line) {
  std::vector<std::pair<std::size_t, std::string>> out;
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == ':' || line[i] == '\t') {
      ++i;
      continue;
    }
    std::size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    std::string_view tok = line.substr(b, i - b);
    while (!tok.empty() &&
           (tok.back() == ',' || tok.back() == '.' || tok.back() == ';' || tok.back() == ')'))
      tok.remove_suffix(1);
    if (!tok.empty() && tok.front() == '(') tok.remove_prefix(1);
    if (is_ref_token(tok)) out.emplace_back(b, std::string(tok));
  }
  return out;
}

// Label positions: "vår ref", "vår referanse", "saksnr", "saksnummer", "vårt saksnr"; never
// "deres ref".
std::size_t ref_label(std::string_view lower, std::size_t& label_end) {
  for (std::string_view label :
       {"vår ref", "vårt saksnr", "vårt saksnummer", "saksnr", "saksnummer", "vår saksnr"}) {
    std::size_t pos = lower.find(label);
    while (pos != std::string_view::npos) {
      bool word_start = pos == 0 || !is_word_byte(lower[pos - 1]);
      bool deres = pos >= 6 && lower.substr(pos - 6, 6) == "deres ";
      if (word_start && !deres) {
        std::size_t e = pos + label.size();
        while (e < lower.size() && is_word_byte(lower[e])) ++e;  // "referanse", "ref."
        label_end = e;
        return pos;
      }
      pos = lower.find(label, pos + 1);
    }
  }
  return std::string_view::npos;
}

std::string find_reference(const std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string lower = text::to_lower(lines[i]);
    std::size_t label_end = 0;
    std::size_t pos = ref_label(lower, label_end);
    if (pos == std::string::npos) continue;
    // On the same line, the first reference after the label (before another label).
    std::string_view rest = std::string_view(lines[i]).substr(label_end);
    std::string_view rest_lower = std::string_view(lower).substr(label_end);
    std::size_t stop = std::min(rest_lower.find("deres"), rest_lower.size());
    auto same = ref_tokens(rest.substr(0, stop));
    if (!same.empty()) return same.front().second;
    // Layout: labels in one row, values in the next; take the value nearest the label's column.
    for (std::size_t k = i + 1; k < std::min(lines.size(), i + 3); ++k) {
      if (text::trim(lines[k]).empty()) continue;
      auto below = ref_tokens(lines[k]);
      if (below.empty()) break;
      auto best = std::min_element(below.begin(), below.end(), [&](const auto& a, const auto& b) {
        auto da = a.first > pos ? a.first - pos : pos - a.first;
        auto db = b.first > pos ? b.first - pos : pos - b.first;
        return da < db;
      });
      return best->second;
    }
  }
  return "";
}

std::optional<Date> first_date(std::string_view s) {
  auto d = find_dates(s);
  for (const auto& x : d) {
    if (x.valid()) return x;
  }
  return std::nullopt;
}

std::optional<Date> find_letter_date(const std::vector<std::string>& lines) {
  std::size_t head = std::min(lines.size(), kHeadLines);
  // "Vår dato:" / "Dato:" first, on the line or in the row below (layout).
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string lower = text::to_lower(lines[i]);
    std::size_t pos = lower.find("dato");
    while (pos != std::string::npos) {
      bool word_start = pos == 0 || !is_word_byte(lower[pos - 1]);
      bool deres = pos >= 6 && lower.substr(pos - 6, 6) == "deres ";
      bool word_end = pos + 4 >= lower.size() || !is_word_byte(lower[pos + 4]);
      if (word_start && word_end && !deres) break;
      pos = lower.find("dato", pos + 1);
    }
    if (pos == std::string::npos) continue;
    std::string_view rest = std::string_view(lines[i]).substr(pos + 4);
    std::size_t stop = std::min(std::string_view(lower).substr(pos + 4).find("deres"), rest.size());
    if (auto d = first_date(rest.substr(0, stop))) return d;
    for (std::size_t k = i + 1; k < std::min(lines.size(), i + 3); ++k) {
      if (text::trim(lines[k]).empty()) continue;
      // The value under the label's column.
      std::string_view below = lines[k];
      std::size_t from = pos > 4 ? pos - 4 : 0;
      if (from < below.size()) {
        if (auto d = first_date(below.substr(from))) return d;
      }
      if (auto d = first_date(below)) return d;
      break;
    }
  }
  for (std::size_t i = 0; i < head; ++i) {
    std::string lower = text::to_lower(lines[i]);
    if (lower.find("deres") != std::string::npos || lower.find("mottatt") != std::string::npos)
      continue;
    if (auto d = first_date(lines[i])) return d;
  }
  return std::nullopt;
}

std::vector<std::string> prepare_lines(std::string_view input) {
  std::string s = text::normalize_spaces(text::sanitize_utf8(input));
  for (char& c : s) {
    if (c == '\f' || c == '\v') c = '\n';
  }
  std::vector<std::string> lines;
  for (auto l : text::split_lines(s)) {
    std::string line(l);
    // Tabs are column gaps.
    std::string out;
    for (char c : line) {
      if (c == '\t')
        out += "   ";
      else
        out += c;
    }
    // Drop the indentation of layout output, keep inner gaps.
    std::size_t b = out.find_first_not_of(' ');
    std::size_t e = out.find_last_not_of(' ');
    lines.push_back(b == std::string::npos ? std::string() : out.substr(b, e - b + 1));
  }
  return lines;
}

// Whether the units look like the application form (labels and an employee table).
bool looks_like_form(const std::vector<std::string>& lines) {
  int labels = 0;
  for (const auto& l : lines) {
    std::string lower = text::to_lower(l);
    for (std::string_view label : {"barnehageeier", "organisasjonsnummer", "org.nr", "org. nr",
                                   "kontonummer", "kontaktperson", "navn på ansatt"}) {
      if (lower.rfind(label, 0) == 0) ++labels;
    }
  }
  return labels >= 2;
}

// Whether `digits` (9 of them) stands in the text as a number of its own: "987654321",
// "987 654 321" or "987.654.321".
bool names_number(const std::vector<std::string>& lines, const std::string& digits) {
  if (digits.size() != 9) return false;
  for (const auto& line : lines) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (!is_digit(line[i]) || (i > 0 && is_digit(line[i - 1]))) continue;
      // Read up to 9 digits with single separators after each group of three.
      std::string got;
      std::size_t j = i;
      while (j < line.size() && got.size() < 9) {
        if (is_digit(line[j])) {
          got += line[j++];
        } else if ((line[j] == ' ' || line[j] == '.') && got.size() % 3 == 0 &&
                   j + 1 < line.size() && is_digit(line[j + 1])) {
          ++j;
        } else {
          break;
        }
      }
      if (got == digits && (j >= line.size() || !is_digit(line[j]))) return true;
    }
  }
  return false;
}

bool names_key(const std::string& hay, const std::string& key) {
  if (key.empty()) return false;
  std::size_t pos = hay.find(key);
  while (pos != std::string::npos) {
    bool left = pos == 0 || hay[pos - 1] == ' ';
    bool right = pos + key.size() == hay.size() || hay[pos + key.size()] == ' ';
    if (left && right) return true;
    pos = hay.find(key, pos + 1);
  }
  return false;
}

// The owner's name as in the form, compared by name_key; also without a company form at the end
// ("Solsikken Barnehage AS" is named by "Solsikken Barnehage") when two words remain.
// A department after a comma ("Solsikken Barnehage, avd. Nord AS") may be left out too.
bool names_owner(const std::vector<std::string>& lines, const std::string& owner) {
  std::string all;
  for (const auto& l : lines) all += l + '\n';
  const std::string hay = text::name_key(all);
  std::vector<std::string> keys = {text::name_key(owner)};
  if (auto comma = owner.find(','); comma != std::string::npos)
    keys.push_back(text::name_key(owner.substr(0, comma)));
  for (const std::string& key : keys) {
    auto words = split_words(key);
    if (words.size() < 2 && key != keys.front()) continue;
    if (names_key(hay, key)) return true;
    if (words.size() >= 3 && any_of(words.back(), {"as", "asa", "sa", "ba", "da", "ans", "ks"})) {
      std::string shorter = key.substr(0, key.size() - words.back().size() - 1);
      if (names_key(hay, shorter)) return true;
    }
  }
  return false;
}

}  // namespace

namespace {

// A letter that was not read because of `hit`.
Letter over_limit(LimitHit hit) {
  Letter letter;
  letter.readable = false;
  letter.limit = std::move(hit);
  return letter;
}

LimitHit budget_hit(const Budget& budget, std::string where) {
  return {"message_cpu_seconds", budget.limit_ns() / 1'000'000'000, std::move(where)};
}

}  // namespace

Letter parse_letter(std::string_view input, const std::vector<std::string>& employees,
                    const LetterParty& applicant, const LetterLimits& limits) {
  if (input.size() > limits.max_text_bytes) {
    return over_limit({"max_letter_text_bytes", static_cast<std::int64_t>(limits.max_text_bytes),
                       "the letter has " + std::to_string(input.size()) + " bytes of text"});
  }
  Budget* budget = limits.budget;
  const auto spent = [&] { return budget && budget->spent(); };
  if (spent()) return over_limit(budget_hit(*budget, "a letter was not read"));
  Letter letter;
  std::vector<std::string> lines = prepare_lines(input);
  std::string org_digits;
  for (char c : applicant.org_number)
    if (is_digit(c)) org_digits += c;
  letter.names_org_number = names_number(lines, org_digits);
  letter.names_owner = names_owner(lines, applicant.owner);
  std::vector<Unit> units = make_units(lines, budget);
  if (spent()) {
    return over_limit(budget_hit(
        *budget, "reading a letter stopped at its sentence " + std::to_string(units.size() + 1)));
  }
  letter.sender = find_sender(lines);
  letter.date = find_letter_date(lines);
  letter.reference = find_reference(lines);

  Reading all;
  for (const auto& u : units) all.add(u.reading);
  Verdict overall = verdict_of(all);

  // Where each employee is named.
  const std::vector<std::vector<std::string>> names = name_words(employees);
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> mentions(units.size());
  // Where each employee is named: (unit, index of its mention in mentions[unit]); each employee
  // is named at most once per unit (NameIndex::find_all).
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> units_of(names.size());
  NameIndex index(names);
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (spent()) {
      return over_limit(budget_hit(*budget,
                                   "looking for the employees' names in a letter "
                                   "stopped at its sentence " +
                                       std::to_string(u + 1)));
    }
    mentions[u] = index.find_all(units[u].lower);
    for (std::size_t k = 0; k < mentions[u].size(); ++k)
      units_of[mentions[u][k].second].emplace_back(u, k);
  }

  struct Found {
    std::size_t employee;
    std::size_t first_unit;
    Verdict verdict;
  };
  std::vector<Found> found;
  std::vector<std::string> doubt(names.size());  // LetterEntry::amount_doubt
  std::unordered_map<std::size_t, std::pair<ListHead, std::string>> lists;  // by introduction
  for (std::size_t e = 0; e < names.size(); ++e) {
    Verdict v;
    std::size_t first = std::string::npos;
    for (auto [u, at] : units_of[e]) {
      if (v.kind != LetterKind::unknown) break;
      if (spent()) {
        return over_limit(budget_hit(*budget, "reading what a letter says about employee " +
                                                  std::to_string(e + 1) + " of " +
                                                  std::to_string(names.size()) + " stopped"));
      }
      const auto it = mentions[u].begin() + static_cast<std::ptrdiff_t>(at);
      if (first == std::string::npos) first = u;
      if (units[u].list >= 0) {
        // Each list is read once, however many names it has (linear in its items).
        const auto intro = static_cast<std::size_t>(units[u].list);
        auto cached = lists.find(intro);
        if (cached == lists.end()) {
          ListHead head = list_head(units, intro);
          std::string why = list_doubt(units, intro, head);
          cached = lists.emplace(intro, std::make_pair(std::move(head), std::move(why))).first;
        }
        v = item_verdict(units, u, cached->second.first);
        doubt[e] = cached->second.second;
        continue;
      }
      if (units[u].row) {
        v = row_verdict(units, u);
        continue;
      }
      Reading r = units[u].reading;
      if (mentions[u].size() > 1) {
        // The part of this sentence about this employee: from the name to the next other name;
        // wording before the first name belongs to everyone named ("Søknaden for A og B ...").
        std::size_t b = it == mentions[u].begin() ? 0 : it->first;
        // The next mention further on (mentions are sorted by offset; e is named once here).
        std::size_t end = units[u].lower.size();
        for (auto m = it + 1; m != mentions[u].end(); ++m) {
          if (m->first > it->first) {
            end = m->first;
            break;
          }
        }
        std::string_view lower = units[u].lower;
        Reading part = read_sentence(lower.substr(b, end - b));
        if (!part.decisive() && b != 0) {
          // Wording before the first name is shared: "tildeler ... for: A: kr 40 000 B: kr
          // 35 000" reads for B as "tildeler ... for: B: kr 35 000".
          std::string about(lower.substr(0, mentions[u].front().first));
          about += ' ';
          about += lower.substr(b, end - b);
          part = read_sentence(about);
        }
        if (part.decisive()) r = part;
      }
      // Then the rest of the paragraph, until another name (or, after a name standing alone as
      // a heading, the next paragraph).
      bool alone = (u == 0 || units[u - 1].block != units[u].block) &&
                   (u + 1 == units.size() || units[u + 1].block != units[u].block);
      bool heading = alone && !r.decisive() && units[u].text.size() < 40;
      int next_block = heading && u + 1 < units.size() ? units[u + 1].block : units[u].block;
      for (std::size_t k = u + 1; k < units.size(); ++k) {
        if (units[k].block != units[u].block && units[k].block != next_block) break;
        if (spent()) break;  // reported after the loop
        if (units[k].row) break;
        bool other = std::any_of(mentions[k].begin(), mentions[k].end(),
                                 [&](const auto& m) { return m.second != e; });
        if (other) break;
        r.add(units[k].reading);
      }
      v = verdict_of(r);
    }
    if (first != std::string::npos) found.push_back({e, first, v});
  }
  if (spent()) return over_limit(budget_hit(*budget, "reading a letter's paragraphs stopped"));

  // One employee named and nothing said next to the name: the letter's decision is theirs.
  if (found.size() == 1 && found[0].verdict.kind == LetterKind::unknown) {
    found[0].verdict = overall;
    if (overall.kind == LetterKind::grant) {
      std::vector<Kroner> g = all.granted.empty() ? all.totals : all.granted;
      std::sort(g.begin(), g.end());
      g.erase(std::unique(g.begin(), g.end()), g.end());
      found[0].verdict.amount = g.size() == 1 ? std::optional<Kroner>(g[0]) : std::nullopt;
    }
  }

  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.first_unit < b.first_unit; });
  bool any_grant = false, all_reject = !found.empty(), all_unknown = true;
  std::vector<Kroner> entry_amounts;
  for (const auto& f : found) {
    LetterEntry entry;
    entry.employee = employees[f.employee];
    entry.kind = f.verdict.kind;
    if (entry.kind == LetterKind::grant) {
      entry.amount = f.verdict.amount;
      entry.amount_doubt = doubt[f.employee];
    }
    if (entry.kind == LetterKind::grant) any_grant = true;
    if (entry.kind != LetterKind::rejection) all_reject = false;
    if (entry.kind != LetterKind::unknown) all_unknown = false;
    if (entry.amount) entry_amounts.push_back(*entry.amount);
    letter.entries.push_back(std::move(entry));
  }

  if (found.empty() || all_unknown) {
    letter.kind = overall.kind;
  } else if (any_grant) {
    letter.kind = LetterKind::grant;
  } else if (all_reject) {
    letter.kind = LetterKind::rejection;
  } else {
    letter.kind = LetterKind::unknown;
  }

  if (letter.kind == LetterKind::grant) {
    if (!entry_amounts.empty()) {
      letter.amounts = entry_amounts;
    } else {
      std::vector<Kroner> g = all.granted.empty() ? all.totals : all.granted;
      for (Kroner a : g) {
        if (a > 0 &&
            std::find(letter.amounts.begin(), letter.amounts.end(), a) == letter.amounts.end())
          letter.amounts.push_back(a);
      }
    }
  }
  return letter;
}

std::vector<std::pair<std::size_t, std::size_t>> find_employee_names(
    const std::vector<std::string>& employees, std::string_view lower_text) {
  NameIndex index(name_words(employees));
  return index.find_all(lower_text);
}

std::vector<std::pair<std::size_t, std::size_t>> find_employee_names_one_by_one(
    const std::vector<std::string>& employees, std::string_view lower_text) {
  const auto names = name_words(employees);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t e = 0; e < names.size(); ++e) {
    std::size_t pos = find_name(names[e], lower_text);
    if (pos != std::string::npos) out.emplace_back(pos, e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool looks_like_letter(std::string_view input, const LetterLimits& limits) {
  if (limits.budget && limits.budget->spent()) return true;
  const std::string_view head = input.substr(0, limits.max_text_bytes);
  std::vector<std::string> lines = prepare_lines(head);
  if (looks_like_form(lines)) return false;
  // The form (its labels or its table header, and its employee table: DECISIONS.md "Form or
  // letter") is no letter, whatever its instructions and its "Tilskudd fra Statsforvalteren"
  // column say.
  const Form form = parse_form(head, FormLimits{200, limits.budget});
  if (form.found && !form.lines.empty()) return false;
  if (limits.budget && limits.budget->was_spent()) return true;
  bool topic = false;
  for (const auto& l : lines) {
    std::string lower = text::to_lower(l);
    if (lower.find("tilrettelegging") != std::string::npos ||
        lower.find("tilskudd") != std::string::npos)
      topic = true;
  }
  // Named as its sender where a letter names it (its head, its signature, a From line).
  if (!find_sender(lines).empty()) return true;
  if (!topic) return false;
  std::vector<Unit> units = make_units(lines, limits.budget);
  if (limits.budget && limits.budget->was_spent()) return true;
  Reading all;
  for (const auto& u : units) all.add(u.reading);
  return all.decisive() || all.receipt > 0;
}

}  // namespace tilskudd
