#include "parsers/case_ref.h"

#include <cctype>

namespace tilskudd {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::size_t digits_at(std::string_view s, std::size_t i) {
  std::size_t n = 0;
  while (i + n < s.size() && is_digit(s[i + n])) ++n;
  return n;
}

// The length of a reference "TT-dddd-dddd..dddddd" at `i` (the 'TT' compared by `same`), or 0.
// Requires 4 to 6 digits in the last group; when `no_digit_after`, a longer run is no match.
template <typename Same>
std::size_t ref_at(std::string_view s, std::size_t i, Same same, bool no_digit_after) {
  if (i + 3 > s.size() || !same(s[i], 'T') || !same(s[i + 1], 'T') || s[i + 2] != '-') return 0;
  std::size_t p = i + 3;
  if (digits_at(s, p) < 4) return 0;
  // Exactly four year digits followed by '-': a fifth digit breaks the pattern.
  if (p + 4 >= s.size() || s[p + 4] != '-') return 0;
  p += 5;
  const std::size_t run = digits_at(s, p);
  if (run < 4) return 0;
  if (run > 6) {
    if (no_digit_after) return 0;
    return p + 6 - i;
  }
  return p + run - i;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

std::optional<std::string> find_case_ref(std::string_view text) {
  const auto ci = [](char a, char b) {
    return std::toupper(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
  };
  for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
    if (i > 0 && is_alnum(text[i - 1])) continue;
    if (const std::size_t n = ref_at(text, i, ci, true)) return upper(text.substr(i, n));
  }
  return std::nullopt;
}

std::optional<std::string> find_case_ref_in_message_id(std::string_view text) {
  static constexpr std::string_view prefix = "tilskudd.";
  const auto exact = [](char a, char b) { return a == b; };
  for (std::size_t at = text.find(prefix); at != std::string_view::npos;
       at = text.find(prefix, at + 1)) {
    const std::size_t start = at + prefix.size();
    // The last group may be 4..6 digits; the pattern needs a '.' right after it, so try each
    // admissible length (a regex would backtrack the same way, but over a bounded span).
    const std::size_t n = ref_at(text, start, exact, false);
    if (n == 0) continue;
    const std::size_t last_group = start + 8;  // "TT-dddd-"
    const std::size_t run = digits_at(text, last_group);
    if (run > 6) continue;
    std::size_t p = start + n;
    if (p >= text.size() || text[p] != '.') continue;
    ++p;
    const std::size_t kind_start = p;
    while (p < text.size() && ((text[p] >= 'a' && text[p] <= 'z') || text[p] == '_')) ++p;
    if (p == kind_start || p >= text.size() || text[p] != '.') continue;
    ++p;
    const std::size_t num = digits_at(text, p);
    if (num == 0 || p + num >= text.size() || text[p + num] != '@') continue;
    return std::string(text.substr(start, n));
  }
  return std::nullopt;
}

}  // namespace tilskudd
