#include "parsers/amount.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "parsers/text.h"

namespace tilskudd {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// A byte that belongs to a word: ASCII letters and any UTF-8 byte (æ, ø, å ...).
bool is_word_byte(char c) {
  return is_ascii_alpha(c) || static_cast<unsigned char>(c) >= 0x80;
}

// Most digits an amount may have before the decimals: amounts of a billion kroner or more are
// not amounts in this domain, and the limit keeps the arithmetic far from overflow.
constexpr int kMaxIntegerDigits = 12;

struct Number {
  Kroner value = 0;        // rounded to whole kroner
  size_t end = 0;          // one past the last character consumed
  int integer_digits = 0;  // digits before the decimal separator
  bool grouped = false;    // thousands separators were used
  bool has_decimals = false;
};

// Reads a number at s[pos] (which must be a digit): plain digits ("95000"), or groups of three
// separated by one consistent separator (' ', '.' or ','), optionally followed by øre as ",dd" or
// ".dd" (one or two digits, the separator being not the grouping one). Stops at the longest
// well-formed prefix; the caller decides whether what follows is acceptable.
std::optional<Number> read_number(std::string_view s, size_t pos) {
  if (pos >= s.size() || !is_digit(s[pos])) return std::nullopt;
  size_t i = pos;
  while (i < s.size() && is_digit(s[i])) ++i;
  size_t first_len = i - pos;
  std::string digits(s.substr(pos, first_len));
  char group_sep = 0;
  // Thousands groups: only when the first run is 1-3 digits.
  if (first_len <= 3) {
    while (i + 3 < s.size()) {
      char sep = s[i];
      if (sep != ' ' && sep != '.' && sep != ',') break;
      if (group_sep != 0 && sep != group_sep) break;
      // Exactly three digits, not followed by another digit.
      if (!is_digit(s[i + 1]) || !is_digit(s[i + 2]) || !is_digit(s[i + 3])) break;
      if (i + 4 < s.size() && is_digit(s[i + 4])) break;
      group_sep = sep;
      digits.append(s.substr(i + 1, 3));
      i += 4;
    }
  }
  Number n;
  n.grouped = group_sep != 0;
  // A number grouped only with ',' whose single group could be decimals is still read as
  // thousands ("95,000"): øre are written with two digits.
  int ore = 0;
  if (i + 1 < s.size() && (s[i] == ',' || s[i] == '.') && s[i] != group_sep && is_digit(s[i + 1])) {
    size_t j = i + 1;
    while (j < s.size() && is_digit(s[j])) ++j;
    size_t dec_len = j - (i + 1);
    if (dec_len <= 2) {
      ore = (s[i + 1] - '0') * 10 + (dec_len == 2 ? s[i + 2] - '0' : 0);
      n.has_decimals = true;
      i = j;
    }
  }
  if (digits.size() > static_cast<size_t>(kMaxIntegerDigits)) return std::nullopt;
  // Leading zeros are not how amounts are written ("01" is a day, "0123" a code), but 0 is.
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  Kroner v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  // Øre rounded half-up (DECISIONS.md "Amounts in kroner").
  if (ore >= 50) ++v;
  n.value = v;
  n.end = i;
  n.integer_digits = static_cast<int>(digits.size());
  return n;
}

// Case-insensitive ASCII prefix match at s[pos], followed by a non-letter (or the end).
bool word_at(std::string_view s, size_t pos, std::string_view word) {
  if (pos + word.size() > s.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    char c = s[pos + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != word[k]) return false;
  }
  size_t end = pos + word.size();
  return end == s.size() || !is_word_byte(s[end]);
}

size_t skip_spaces(std::string_view s, size_t pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n')) ++pos;
  return pos;
}

// A currency word at s[pos] ("kr", "kr.", "nok", "kroner"): returns the position after it.
std::optional<size_t> currency_at(std::string_view s, size_t pos) {
  for (std::string_view w : {"kroner", "kr", "nok"}) {
    if (word_at(s, pos, w)) {
      size_t e = pos + w.size();
      if (e < s.size() && s[e] == '.') ++e;
      return e;
    }
  }
  return std::nullopt;
}

// ",-", ".-", ",--" (and ",–" after normalisation) at s[pos]: returns the position after it.
std::optional<size_t> dash_suffix_at(std::string_view s, size_t pos) {
  if (pos + 1 < s.size() && (s[pos] == ',' || s[pos] == '.') && s[pos + 1] == '-') {
    size_t e = pos + 2;
    while (e < s.size() && s[e] == '-') ++e;
    return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Kroner> parse_amount(std::string_view cell) {
  if (cell.size() > 200) return std::nullopt;
  std::string norm = text::normalize_spaces(cell);
  std::string s = text::collapse_spaces(norm);
  size_t pos = 0;
  bool currency_before = false;
  if (auto e = currency_at(s, pos)) {
    currency_before = true;
    pos = skip_spaces(s, *e);
  }
  auto n = read_number(s, pos);
  if (!n) return std::nullopt;
  pos = n->end;
  if (auto e = dash_suffix_at(s, pos)) pos = *e;
  pos = skip_spaces(s, pos);
  if (!currency_before) {
    if (auto e = currency_at(s, pos)) {
      pos = skip_spaces(s, *e);
      if (auto d = dash_suffix_at(s, pos)) pos = skip_spaces(s, *d);
    }
  }
  if (pos != s.size()) return std::nullopt;
  return n->value;
}

namespace {

// Words after which a bare number is an amount ("tilskudd på 40 000", "beløp: 55 000").
constexpr std::array<std::string_view, 24> kAmountWords = {
    "beløp",    "beløpet",  "beløpene",  "tilskudd",  "tilskuddet", "tildelt",
    "tildeles", "tildeler", "tildelte",  "innvilget", "innvilges",  "innvilger",
    "på",       "sum",      "summen",    "totalt",    "tilsagn",    "utbetales",
    "utbetalt", "kostnad",  "kostnader", "om",        "med",        "pålydende"};

// What a number followed by one of these counts is not money.
constexpr std::array<std::string_view, 16> kUnitWords = {
    "prosent", "studiepoeng", "sp",    "timer", "time",    "dager",     "dag", "uker",
    "uke",     "måneder",     "måned", "år",    "ansatte", "studenter", "stk", "personer"};

// The word that ends just before s[end] (spaces, ':' and '.' skipped), lower-cased.
std::string previous_word(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == ':' || s[i - 1] == '.' || s[i - 1] == '\t' ||
                   s[i - 1] == '\n'))
    --i;
  size_t stop = i;
  // Words longer than this are not the ones we look for; the bound keeps the scan linear.
  while (i > 0 && is_word_byte(s[i - 1]) && stop - i < 32) --i;
  return text::to_lower(s.substr(i, stop - i));
}

std::string next_word(std::string_view s, size_t pos) {
  size_t i = skip_spaces(s, pos);
  size_t start = i;
  while (i < s.size() && is_word_byte(s[i])) ++i;
  return text::to_lower(s.substr(start, i - start));
}

// A character that, directly next to a number, makes it part of something else: a date
// ("01.09.2020"), a case number ("2020/123"), a range ("10-20"), a time ("10:00").
bool joins_numbers(char c) {
  return c == '/' || c == '-' || c == ':' || c == '.' || c == ',';
}

}  // namespace

std::vector<Kroner> find_amounts(std::string_view input) {
  std::vector<Kroner> out;
  std::string s = text::normalize_spaces(input);
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    // A number must start a token: not inside a word or another number.
    bool bad_start = i > 0 && (is_digit(s[i - 1]) || is_word_byte(s[i - 1]) ||
                               (joins_numbers(s[i - 1]) && i > 1 && is_digit(s[i - 2])));
    if (bad_start && is_word_byte(s[i - 1])) {
      std::string w = previous_word(s, i);  // "kr95000"
      if (w == "kr" || w == "nok") bad_start = false;
    }
    // The cluster of digits and separators starting here, to skip it whole when rejected.
    size_t cluster_end = i;
    while (cluster_end < s.size()) {
      char c = s[cluster_end];
      if (is_digit(c)) {
        ++cluster_end;
      } else if ((c == ' ' || joins_numbers(c)) && cluster_end + 1 < s.size() &&
                 is_digit(s[cluster_end + 1])) {
        ++cluster_end;
      } else {
        break;
      }
    }
    if (bad_start) {
      i = cluster_end;
      continue;
    }
    auto n = read_number(s, i);
    // The number must cover the whole cluster: "01.09.2020", "1234 56 78903", "10-20 000" and
    // "2020/123" leave something over.
    if (!n || n->end != cluster_end) {
      i = std::max(cluster_end, i + 1);
      continue;
    }
    size_t after = n->end;
    // Organisation and account numbers: 9 and more digits are never amounts here.
    bool id_like = n->integer_digits >= 9;
    // Explicit money marks.
    bool marked = false;
    size_t p = after;
    if (auto d = dash_suffix_at(s, p)) {
      marked = true;
      p = *d;
    }
    if (auto e = currency_at(s, skip_spaces(s, p))) {
      marked = true;
      p = *e;
    }
    std::string before = previous_word(s, i);
    if (before == "kr" || before == "nok" || before == "kroner") marked = true;
    bool keyword = false;
    if (!marked) {
      for (auto w : kAmountWords)
        if (before == w) keyword = true;
      if (keyword) {
        std::string next = next_word(s, after);
        size_t q = skip_spaces(s, after);
        if (q < s.size() && s[q] == '%') keyword = false;
        for (auto w : kUnitWords)
          if (next == w) keyword = false;
        // Small counts and bare years are not amounts without a money mark.
        if (n->value < 100) keyword = false;
        if (!n->grouped && !n->has_decimals && n->integer_digits == 4 && n->value >= 1900 &&
            n->value <= 2100)
          keyword = false;
      }
    }
    if (!id_like && (marked || keyword)) out.push_back(n->value);
    i = std::max(p, cluster_end);
  }
  return out;
}

std::string group_digits(Kroner v) {
  // In unsigned, so that the most negative value has a magnitude too.
  const bool negative = v < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  const std::string digits = std::to_string(magnitude);
  std::string out = negative ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

std::string format_kr_prefix(Kroner v) {
  return "kr " + group_digits(v);
}

std::string format_kr_suffix(Kroner v) {
  return group_digits(v) + " kr";
}

}  // namespace tilskudd
