#include "parsers/date.h"

#include <string>

#include "parsers/text.h"

namespace tilskudd {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

struct MonthName {
  std::string_view name;
  int month;
};

// Norwegian and English month names and their abbreviations, lower case. Longer names first
// so that "september" wins over "sep".
constexpr MonthName kMonths[] = {
    {"januar", 1},   {"january", 1},  {"februar", 2},   {"february", 2},  {"mars", 3},
    {"march", 3},    {"april", 4},    {"mai", 5},       {"may", 5},       {"juni", 6},
    {"june", 6},     {"juli", 7},     {"july", 7},      {"august", 8},    {"september", 9},
    {"oktober", 10}, {"october", 10}, {"november", 11}, {"desember", 12}, {"december", 12},
    {"jan", 1},      {"feb", 2},      {"mar", 3},       {"apr", 4},       {"jun", 6},
    {"jul", 7},      {"aug", 8},      {"sept", 9},      {"sep", 9},       {"okt", 10},
    {"oct", 10},     {"nov", 11},     {"des", 12},      {"dec", 12},      {"febr", 2},
};

// The month name at s[pos] (lower-case input), followed by a non-letter; sets `end` past it
// and an optional abbreviation dot.
std::optional<int> month_at(std::string_view s, size_t pos, size_t& end) {
  size_t i = pos;
  while (i < s.size() && is_word_byte(s[i])) ++i;
  std::string_view word = s.substr(pos, i - pos);
  for (const auto& m : kMonths) {
    if (word == m.name) {
      end = i;
      if (end < s.size() && s[end] == '.') ++end;
      return m.month;
    }
  }
  return std::nullopt;
}

// Reads 1..max_len digits at s[pos]; returns the count read (0 when none, or when more digits
// follow than allowed).
size_t read_int(std::string_view s, size_t pos, size_t max_len, int& out) {
  size_t i = pos;
  int v = 0;
  while (i < s.size() && is_digit(s[i]) && i - pos < max_len) {
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  if (i < s.size() && is_digit(s[i])) return 0;
  out = v;
  return i - pos;
}

std::optional<Date> make_date(int y, int m, int d) {
  Date date{y, m, d};
  if (!date.valid()) return std::nullopt;
  return date;
}

// Two-digit years are this century's ("01.09.20" -> 2020).
int expand_year(int y, size_t len) {
  return len == 2 ? 2000 + y : y;
}

// A date at s[pos] (lower-case, normalised). On success sets `end` past it.
std::optional<Date> date_at(std::string_view s, size_t pos, size_t& end) {
  if (pos >= s.size() || !is_digit(s[pos])) return std::nullopt;
  int a = 0;
  size_t la = read_int(s, pos, 4, a);
  if (la == 0) return std::nullopt;
  size_t i = pos + la;
  // ISO: yyyy-mm-dd.
  if (la == 4) {
    if (i < s.size() && s[i] == '-') {
      int m = 0, d = 0;
      size_t lm = read_int(s, i + 1, 2, m);
      if (lm == 0 || i + 1 + lm >= s.size() || s[i + 1 + lm] != '-') return std::nullopt;
      size_t ld = read_int(s, i + 2 + lm, 2, d);
      if (ld == 0) return std::nullopt;
      end = i + 2 + lm + ld;
      return make_date(a, m, d);
    }
    return std::nullopt;
  }
  if (la > 2) return std::nullopt;
  // dd.mm.yyyy, d.m.yyyy, dd.mm.yy, dd/mm/yyyy.
  if (i < s.size() && (s[i] == '.' || s[i] == '/') && i + 1 < s.size() && is_digit(s[i + 1])) {
    char sep = s[i];
    int m = 0, y = 0;
    size_t lm = read_int(s, i + 1, 2, m);
    if (lm == 0) return std::nullopt;
    size_t j = i + 1 + lm;
    if (j >= s.size() || s[j] != sep) return std::nullopt;
    size_t ly = read_int(s, j + 1, 4, y);
    if (ly != 2 && ly != 4) return std::nullopt;
    // "12/03/20" is too close to other things (case numbers, fractions): '/' needs the full year.
    if (sep == '/' && ly != 4) return std::nullopt;
    end = j + 1 + ly;
    return make_date(expand_year(y, ly), m, a);
  }
  // "1. september 2020", "1 sep. 2020", "1. sept. 2020".
  size_t k = i;
  if (k < s.size() && s[k] == '.') ++k;
  while (k < s.size() && s[k] == ' ') ++k;
  if (k == i) return std::nullopt;
  size_t mend = 0;
  auto month = month_at(s, k, mend);
  if (!month) return std::nullopt;
  size_t y0 = mend;
  if (y0 < s.size() && s[y0] == ',') ++y0;
  while (y0 < s.size() && s[y0] == ' ') ++y0;
  if (y0 == mend && !(y0 < s.size() && is_digit(s[y0]))) return std::nullopt;
  int y = 0;
  size_t ly = read_int(s, y0, 4, y);
  if (ly != 4) return std::nullopt;
  end = y0 + ly;
  return make_date(y, *month, a);
}

std::string prepare(std::string_view s) {
  std::string out = text::to_lower(text::normalize_spaces(s));
  for (char& c : out)
    if (c == '\t' || c == '\n') c = ' ';
  return out;
}

}  // namespace

std::optional<Date> parse_date(std::string_view input) {
  if (input.size() > 100) return std::nullopt;
  std::string s = text::collapse_spaces(prepare(input));
  size_t end = 0;
  auto d = date_at(s, 0, end);
  if (!d) return std::nullopt;
  // A trailing full stop ends a sentence, not the date.
  if (end < s.size() && s[end] == '.') ++end;
  if (end != s.size()) return std::nullopt;
  return d;
}

std::optional<Date> parse_mail_date(std::string_view input) {
  if (input.size() > 200) return std::nullopt;
  std::string s = prepare(input);
  // RFC 5322 comments ("(CEST)") carry nothing we need.
  std::string t;
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      t += c;
    }
  }
  s = text::collapse_spaces(t);
  size_t i = 0;
  // Optional day of week, with or without the comma (obsolete syntax).
  if (i < s.size() && is_word_byte(s[i])) {
    while (i < s.size() && is_word_byte(s[i])) ++i;
    if (i < s.size() && s[i] == ',') ++i;
    while (i < s.size() && s[i] == ' ') ++i;
  }
  int day = 0;
  size_t ld = read_int(s, i, 2, day);
  if (ld == 0) return std::nullopt;
  i += ld;
  while (i < s.size() && (s[i] == ' ' || s[i] == '-')) ++i;
  size_t mend = 0;
  auto month = month_at(s, i, mend);
  if (!month) return std::nullopt;
  i = mend;
  while (i < s.size() && (s[i] == ' ' || s[i] == '-')) ++i;
  int year = 0;
  size_t ly = read_int(s, i, 4, year);
  if (ly < 2) return std::nullopt;
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
  if (ly == 2) year += year < 50 ? 2000 : 1900;
  if (ly == 3) year += 1900;
  i += ly;
  // What follows must be a time or nothing ("10:00:00 +0200", "10:00 gmt").
  while (i < s.size() && s[i] == ' ') ++i;
  if (i < s.size() && !is_digit(s[i])) return std::nullopt;
  return make_date(year, *month, day);
}

std::vector<Date> find_dates(std::string_view text) {
  std::vector<Date> out;
  std::string s = prepare(text);
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i]) || (i > 0 && (is_digit(s[i - 1]) || is_word_byte(s[i - 1])))) {
      ++i;
      continue;
    }
    // Not the tail of another number ("1.2.01.09.2020", "20/01.09.20").
    if (i > 1 && (s[i - 1] == '.' || s[i - 1] == '/' || s[i - 1] == '-') && is_digit(s[i - 2])) {
      while (i < s.size() && is_digit(s[i])) ++i;
      continue;
    }
    size_t end = 0;
    auto d = date_at(s, i, end);
    if (d) {
      // Not followed by more of a number ("01.09.2020.3", "2020-09-01-7", "01.09.20/5").
      bool continues = end + 1 < s.size() && (s[end] == '.' || s[end] == '/' || s[end] == '-') &&
                       is_digit(s[end + 1]);
      bool glued = end < s.size() && (is_digit(s[end]) || is_word_byte(s[end]));
      if (!continues && !glued) {
        out.push_back(*d);
        i = end;
        continue;
      }
    }
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return out;
}

}  // namespace tilskudd
