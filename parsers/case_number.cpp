#include "parsers/case_number.h"

#include <algorithm>
#include <optional>

#include "parsers/text.h"

namespace tilskudd {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

// A case number "YY/NNNNN" split into its parts (digits only); empty parts when malformed.
struct CaseParts {
  std::string year;    // two digits
  std::string number;  // without leading zeros
};

std::string strip_zeros(std::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return std::string(s.substr(i));
}

// A case number at s[pos]: 2 or 4 year digits ("20", "2020"), optional spaces, '/', optional
// spaces, 1-7 digits; digits must not continue on either side. Sets `end` past it.
std::optional<CaseParts> case_at(std::string_view s, size_t pos, size_t& end) {
  if (pos >= s.size() || !is_digit(s[pos])) return std::nullopt;
  if (pos > 0 && is_digit(s[pos - 1])) return std::nullopt;
  size_t i = pos;
  while (i < s.size() && is_digit(s[i])) ++i;
  size_t ylen = i - pos;
  if (ylen != 2 && ylen != 4) return std::nullopt;
  std::string year(s.substr(pos, ylen));
  if (ylen == 4) {
    if (year.compare(0, 2, "20") != 0 && year.compare(0, 2, "19") != 0) return std::nullopt;
    year = year.substr(2);
  }
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != '/') return std::nullopt;
  ++i;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t n0 = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  size_t nlen = i - n0;
  if (nlen == 0 || nlen > 7) return std::nullopt;
  // "01/09/2020" is a date.
  if (i + 1 < s.size() && (s[i] == '/' || s[i] == '.') && is_digit(s[i + 1])) return std::nullopt;
  end = i;
  return CaseParts{year, strip_zeros(s.substr(n0, nlen))};
}

std::optional<CaseParts> parse_configured(std::string_view configured) {
  std::string c = text::collapse_spaces(text::normalize_spaces(configured));
  size_t end = 0;
  auto parts = case_at(c, 0, end);
  if (!parts || end != c.size()) return std::nullopt;
  return parts;
}

// The label just before s[pos] when it marks a case number: "sak", "saksnr", "saksnummer",
// "sak nr", "saksnr.:", ... and not the other party's ("vår saksnr", "deres saksnummer").
bool labelled_as_case(std::string_view lower, size_t pos) {
  size_t i = pos;
  auto skip_back = [&]() {
    while (i > 0 && (lower[i - 1] == ' ' || lower[i - 1] == ':' || lower[i - 1] == '.' ||
                     lower[i - 1] == '\t' || lower[i - 1] == '#'))
      --i;
  };
  auto word_back = [&]() {
    size_t stop = i;
    while (i > 0 && is_word_byte(lower[i - 1])) --i;
    return std::string(lower.substr(i, stop - i));
  };
  skip_back();
  std::string w = word_back();
  if (w == "nr" || w == "nummer") {
    skip_back();
    w = word_back();
    if (w != "sak" && w != "saks") return false;
    w = "sak";
  }
  if (w != "sak" && w != "saksnr" && w != "saksnummer" && w != "saksnum") return false;
  skip_back();
  std::string owner = word_back();
  return owner != "vår" && owner != "deres" && owner != "var";
}

}  // namespace

CaseNumberScan find_case_number(std::string_view input, std::string_view configured) {
  CaseNumberScan scan;
  auto want = parse_configured(configured);
  std::string s = text::normalize_spaces(input);
  for (char& c : s)
    if (c == '\t' || c == '\n') c = ' ';
  std::string lower = text::to_lower(s);
  for (size_t i = 0; i < lower.size(); ++i) {
    if (!is_digit(lower[i]) || (i > 0 && is_digit(lower[i - 1]))) continue;
    size_t end = 0;
    auto parts = case_at(lower, i, end);
    if (!parts) continue;
    if (want && parts->year == want->year && parts->number == want->number) {
      scan.found = true;
    } else if (labelled_as_case(lower, i)) {
      // Keep false positives low: "sak 01/09" is a date, not a case; case numbers have at
      // least three digits after the slash.
      if (parts->number.size() >= 3) {
        std::string norm = parts->year + "/" + parts->number;
        if (std::find(scan.others.begin(), scan.others.end(), norm) == scan.others.end())
          scan.others.push_back(norm);
      }
    }
    i = end - 1;
  }
  return scan;
}

}  // namespace tilskudd
