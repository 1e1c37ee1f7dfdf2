// The small CSS reader parsers/html.cpp needs to tell what a mail program shows. Plain scans
// with bounded input; everything unknown is "cannot tell" (nullopt), never an exception.
#include "parsers/css.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace tilskudd::css {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Comments and the HTML comment tokens out, CSS escapes ("\64 isplay", "\:") decoded: what a
// browser's tokenizer would see, so an escaped "display" is still display.
std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "/*") == 0) {
      std::size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
      out += ' ';
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      i += 4;
      continue;
    }
    if (s.compare(i, 3, "-->") == 0) {
      i += 3;
      continue;
    }
    if (s[i] == '\\' && i + 1 < s.size()) {
      std::size_t j = i + 1;
      unsigned long cp = 0;
      int n = 0;
      while (j < s.size() && n < 6 && hex_digit(s[j]) >= 0) {
        cp = cp * 16 + static_cast<unsigned long>(hex_digit(s[j]));
        ++j;
        ++n;
      }
      if (n > 0) {
        if (j < s.size() && is_space(s[j])) ++j;
        append_utf8(out, cp);
      } else if (s[j] != '\n') {
        out += s[j];
        ++j;
      } else {
        ++j;
      }
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// Splits on `sep` outside parentheses and quotes.
std::vector<std::string_view> split_top(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  int paren = 0;
  char quote = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(') {
      ++paren;
    } else if (c == ')') {
      if (paren > 0) --paren;
    } else if (c == sep && paren == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  int paren = 0;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    bool end = i == s.size();
    char c = end ? ' ' : s[i];
    if (!end && c == '(') ++paren;
    if (!end && c == ')' && paren > 0) --paren;
    if ((is_space(c) && paren == 0) || end) {
      if (start != std::string_view::npos) out.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
  }
  return out;
}

std::optional<double> number(std::string_view s, std::size_t* used) {
  std::string buf(s.substr(0, std::min<std::size_t>(s.size(), 32)));
  char* end = nullptr;
  double v = std::strtod(buf.c_str(), &end);
  if (end == buf.c_str() || !std::isfinite(v)) return std::nullopt;
  *used = static_cast<std::size_t>(end - buf.c_str());
  return v;
}

struct Named {
  std::string_view name;
  unsigned rgb;
};

// The named colours; the pale ones matter most (white text on a white page).
constexpr std::array<Named, 62> kNamed = {{
    {"white", 0xFFFFFF},        {"black", 0x000000},        {"red", 0xFF0000},
    {"green", 0x008000},        {"blue", 0x0000FF},         {"yellow", 0xFFFF00},
    {"gray", 0x808080},         {"grey", 0x808080},         {"silver", 0xC0C0C0},
    {"navy", 0x000080},         {"maroon", 0x800000},       {"purple", 0x800080},
    {"teal", 0x008080},         {"olive", 0x808000},        {"lime", 0x00FF00},
    {"aqua", 0x00FFFF},         {"cyan", 0x00FFFF},         {"fuchsia", 0xFF00FF},
    {"magenta", 0xFF00FF},      {"orange", 0xFFA500},       {"snow", 0xFFFAFA},
    {"ivory", 0xFFFFF0},        {"whitesmoke", 0xF5F5F5},   {"ghostwhite", 0xF8F8FF},
    {"floralwhite", 0xFFFAF0},  {"azure", 0xF0FFFF},        {"mintcream", 0xF5FFFA},
    {"honeydew", 0xF0FFF0},     {"seashell", 0xFFF5EE},     {"linen", 0xFAF0E6},
    {"oldlace", 0xFDF5E6},      {"aliceblue", 0xF0F8FF},    {"lavenderblush", 0xFFF0F5},
    {"beige", 0xF5F5DC},        {"cornsilk", 0xFFF8DC},     {"lightyellow", 0xFFFFE0},
    {"lightcyan", 0xE0FFFF},    {"gainsboro", 0xDCDCDC},    {"lightgray", 0xD3D3D3},
    {"lightgrey", 0xD3D3D3},    {"darkgray", 0xA9A9A9},     {"darkgrey", 0xA9A9A9},
    {"dimgray", 0x696969},      {"dimgrey", 0x696969},      {"lavender", 0xE6E6FA},
    {"mistyrose", 0xFFE4E1},    {"papayawhip", 0xFFEFD5},   {"blanchedalmond", 0xFFEBCD},
    {"antiquewhite", 0xFAEBD7}, {"lemonchiffon", 0xFFFACD}, {"darkblue", 0x00008B},
    {"darkred", 0x8B0000},      {"darkgreen", 0x006400},    {"lightblue", 0xADD8E6},
    {"pink", 0xFFC0CB},         {"brown", 0xA52A2A},        {"gold", 0xFFD700},
    {"windowtext", 0x000000},   {"window", 0xFFFFFF},       {"buttonface", 0xF0F0F0},
    {"canvas", 0xFFFFFF},       {"canvastext", 0x000000},
}};

Color from_rgb(unsigned rgb) {
  return Color{static_cast<int>((rgb >> 16) & 0xFF), static_cast<int>((rgb >> 8) & 0xFF),
               static_cast<int>(rgb & 0xFF), 1.0};
}

int clamp255(double v) {
  return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0)));
}

// The numbers of "rgb(...)" / "hsl(...)": commas, spaces and "/" all separate.
std::vector<std::string_view> function_args(std::string_view v) {
  std::size_t open = v.find('(');
  std::size_t close = v.rfind(')');
  if (open == std::string_view::npos) return {};
  if (close == std::string_view::npos || close < open) close = v.size();
  std::string_view inner = v.substr(open + 1, close - open - 1);
  std::vector<std::string_view> out;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i <= inner.size() && out.size() < 8; ++i) {
    bool sep = i == inner.size() || is_space(inner[i]) || inner[i] == ',' || inner[i] == '/';
    if (sep) {
      if (start != std::string_view::npos) out.push_back(inner.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
  }
  return out;
}

// A channel ("255", "100%") scaled to 0..255, or an alpha ("0.5", "50%") to 0..1.
std::optional<double> channel(std::string_view s, double full) {
  std::size_t used = 0;
  auto v = number(s, &used);
  if (!v) return std::nullopt;
  if (used < s.size() && s[used] == '%') return *v / 100.0 * full;
  return *v;
}

double hue_to_rgb(double p, double q, double t) {
  if (t < 0) t += 1;
  if (t > 1) t -= 1;
  if (t < 1.0 / 6) return p + (q - p) * 6 * t;
  if (t < 0.5) return q;
  if (t < 2.0 / 3) return p + (q - p) * (2.0 / 3 - t) * 6;
  return p;
}

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// The subject of one selector; nullopt when it is not understood, `dropped` when it is a rule
// for a user action (":hover").
std::optional<Subject> parse_subject(std::string_view selector, bool* dropped) {
  *dropped = false;
  std::string sel = lower(trim(selector));
  for (std::string_view action : {":hover", ":focus", ":active", ":visited", ":target"}) {
    if (sel.find(action) != std::string::npos) {
      *dropped = true;
      return std::nullopt;
    }
  }
  // The last compound: after the last combinator outside brackets.
  std::size_t start = 0;
  int bracket = 0;
  for (std::size_t i = 0; i < sel.size(); ++i) {
    char c = sel[i];
    if (c == '[') ++bracket;
    if (c == ']' && bracket > 0) --bracket;
    if (bracket == 0 && (is_space(c) || c == '>' || c == '+' || c == '~')) start = i + 1;
  }
  std::string_view compound = std::string_view(sel).substr(start);
  if (compound.empty()) return std::nullopt;
  Subject s;
  std::size_t i = 0;
  if (compound[0] == '*') {
    s.tag = "*";
    i = 1;
  } else {
    while (i < compound.size() && is_ident_char(compound[i])) ++i;
    s.tag = std::string(compound.substr(0, i));
    if (!s.tag.empty()) s.specificity += 1;
  }
  while (i < compound.size()) {
    char kind = compound[i];
    if (kind != '.' && kind != '#') return std::nullopt;  // [attr], :pseudo, anything else
    std::size_t j = i + 1;
    while (j < compound.size() && is_ident_char(compound[j])) ++j;
    if (j == i + 1) return std::nullopt;
    std::string name(compound.substr(i + 1, j - i - 1));
    if (kind == '.') {
      s.classes.push_back(std::move(name));
      s.specificity += 10;
    } else {
      if (!s.id.empty() && s.id != name) return std::nullopt;
      s.id = std::move(name);
      s.specificity += 100;
    }
    i = j;
  }
  return s;
}

// Index of the '}' closing the block whose '{' is at `open`, or s.size().
std::size_t block_end(std::string_view s, std::size_t open) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i;
    }
  }
  return s.size();
}

void add_rule(StyleSheet& sheet, std::string_view prelude, std::string_view block) {
  std::vector<Declaration> decls = parse_declarations(block);
  if (decls.empty()) return;
  for (std::string_view selector : split_top(prelude, ',')) {
    if (sheet.rules.size() >= kMaxRules) {
      sheet.truncated = true;
      return;
    }
    bool dropped = false;
    std::optional<Subject> subject = parse_subject(selector, &dropped);
    if (dropped) continue;
    if (!subject) {
      if (sheet.not_understood.size() < kMaxRules) sheet.not_understood.push_back(decls);
      continue;
    }
    std::size_t index = sheet.rules.size();
    if (!subject->id.empty()) {
      sheet.by_id[subject->id].push_back(index);
    } else if (!subject->classes.empty()) {
      sheet.by_class[subject->classes.front()].push_back(index);
    } else if (!subject->tag.empty() && subject->tag != "*") {
      sheet.by_tag[subject->tag].push_back(index);
    } else {
      sheet.universal.push_back(index);
    }
    sheet.rules.push_back(Rule{std::move(*subject), decls, index});
  }
}

void read_rules(StyleSheet& sheet, std::string_view s, int depth) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == ';' || s[i] == '}')) ++i;
    if (i >= s.size()) return;
    std::size_t open = s.find('{', i);
    if (s[i] == '@') {
      std::size_t semi = s.find(';', i);
      if (open == std::string_view::npos || (semi != std::string_view::npos && semi < open)) {
        if (semi == std::string_view::npos) return;  // @import, @charset: nothing we read
        i = semi + 1;
        continue;
      }
      std::size_t end = block_end(s, open);
      std::string name = lower(s.substr(i, open - i));
      bool nested = name.rfind("@media", 0) == 0 || name.rfind("@supports", 0) == 0 ||
                    name.rfind("@document", 0) == 0 || name.rfind("@-moz-document", 0) == 0 ||
                    name.rfind("@layer", 0) == 0 || name.rfind("@container", 0) == 0;
      if (nested && depth < 4) read_rules(sheet, s.substr(open + 1, end - open - 1), depth + 1);
      i = end + 1;
      continue;
    }
    if (open == std::string_view::npos) return;
    std::size_t end = block_end(s, open);
    add_rule(sheet, s.substr(i, open - i), s.substr(open + 1, end - open - 1));
    if (sheet.truncated) return;
    i = end + 1;
  }
}

}  // namespace

std::optional<Color> parse_color(std::string_view value) {
  std::string v = lower(trim(value));
  if (v.empty()) return std::nullopt;
  if (v == "transparent") return Color{0, 0, 0, 0.0};
  if (v[0] == '#') {
    std::string_view h = std::string_view(v).substr(1);
    for (char c : h)
      if (hex_digit(c) < 0) return std::nullopt;
    auto pair = [&](std::size_t at) { return hex_digit(h[at]) * 16 + hex_digit(h[at + 1]); };
    auto single = [&](std::size_t at) { return hex_digit(h[at]) * 17; };
    if (h.size() == 3 || h.size() == 4) {
      Color c{single(0), single(1), single(2), 1.0};
      if (h.size() == 4) c.a = single(3) / 255.0;
      return c;
    }
    if (h.size() == 6 || h.size() == 8) {
      Color c{pair(0), pair(2), pair(4), 1.0};
      if (h.size() == 8) c.a = pair(6) / 255.0;
      return c;
    }
    return std::nullopt;
  }
  if (v.rfind("rgb", 0) == 0) {
    auto args = function_args(v);
    if (args.size() < 3) return std::nullopt;
    auto r = channel(args[0], 255), g = channel(args[1], 255), b = channel(args[2], 255);
    if (!r || !g || !b) return std::nullopt;
    Color c{clamp255(*r), clamp255(*g), clamp255(*b), 1.0};
    if (args.size() >= 4) {
      auto a = channel(args[3], 1.0);
      if (!a) return std::nullopt;
      c.a = std::clamp(*a, 0.0, 1.0);
    }
    return c;
  }
  if (v.rfind("hsl", 0) == 0) {
    auto args = function_args(v);
    if (args.size() < 3) return std::nullopt;
    std::size_t used = 0;
    auto hue = number(args[0], &used);
    auto sat = channel(args[1], 1.0), light = channel(args[2], 1.0);
    if (!hue || !sat || !light) return std::nullopt;
    double hh = std::fmod(std::fmod(*hue, 360.0) + 360.0, 360.0) / 360.0;
    double s = std::clamp(*sat, 0.0, 1.0), l = std::clamp(*light, 0.0, 1.0);
    double q = l < 0.5 ? l * (1 + s) : l + s - l * s;
    double p = 2 * l - q;
    Color c{clamp255(255 * hue_to_rgb(p, q, hh + 1.0 / 3)), clamp255(255 * hue_to_rgb(p, q, hh)),
            clamp255(255 * hue_to_rgb(p, q, hh - 1.0 / 3)), 1.0};
    if (args.size() >= 4) {
      auto a = channel(args[3], 1.0);
      if (!a) return std::nullopt;
      c.a = std::clamp(*a, 0.0, 1.0);
    }
    return c;
  }
  for (const Named& n : kNamed)
    if (v == n.name) return from_rgb(n.rgb);
  return std::nullopt;
}

Color background_color(std::string_view shorthand) {
  for (std::string_view t : tokens(shorthand))
    if (auto c = parse_color(t)) return *c;
  return Color{0, 0, 0, 0.0};
}

std::optional<double> length_px(std::string_view value, double parent_px) {
  std::string v = lower(trim(value));
  std::size_t used = 0;
  auto n = number(v, &used);
  if (!n) return std::nullopt;
  std::string_view unit = trim(std::string_view(v).substr(used));
  if (unit.empty() || unit == "px") return *n;
  if (unit == "pt") return *n * 4.0 / 3.0;
  if (unit == "pc") return *n * 16.0;
  if (unit == "in") return *n * 96.0;
  if (unit == "cm") return *n * 96.0 / 2.54;
  if (unit == "mm") return *n * 96.0 / 25.4;
  if (unit == "q") return *n * 96.0 / 101.6;
  if (unit == "em") return *n * parent_px;
  if (unit == "rem") return *n * 16.0;
  if (unit == "ex" || unit == "ch") return *n * parent_px / 2.0;
  if (unit == "%") return *n * parent_px / 100.0;
  return std::nullopt;
}

std::optional<double> font_size_px(std::string_view value, double parent_px) {
  std::string v = lower(trim(value));
  static const std::array<std::pair<std::string_view, double>, 8> kKeywords = {{{"xx-small", 9},
                                                                                {"x-small", 10},
                                                                                {"small", 13},
                                                                                {"medium", 16},
                                                                                {"large", 18},
                                                                                {"x-large", 24},
                                                                                {"xx-large", 32},
                                                                                {"xxx-large", 48}}};
  for (const auto& [k, px] : kKeywords)
    if (v == k) return px;
  if (v == "smaller") return parent_px / 1.2;
  if (v == "larger") return parent_px * 1.2;
  auto px = length_px(v, parent_px);
  if (px && *px < 0) return std::nullopt;
  return px;
}

std::optional<std::string> font_shorthand_size(std::string_view value) {
  // The lower-cased copy must outlive the loop: tokens() returns views into it (a temporary in
  // the range expression would die before the loop body runs; ASan caught it).
  const std::string low = lower(value);
  for (std::string_view t : tokens(low)) {
    std::string_view size = t.substr(0, t.find('/'));
    if (size.empty()) continue;
    char c = size[0];
    if ((c >= '0' && c <= '9') || c == '.') {
      // A bare number is a weight ("700"), except zero and "N/M" (size and line height).
      bool bare = size.find_first_not_of("0123456789.") == std::string_view::npos;
      if (!bare || t.find('/') != std::string_view::npos ||
          std::strtod(std::string(size).c_str(), nullptr) == 0)
        return std::string(size);
      continue;
    }
    if (font_size_px(size, 16.0) && size.find_first_of("0123456789") == std::string_view::npos)
      return std::string(size);  // a keyword such as x-small
  }
  return std::nullopt;
}

std::vector<Declaration> parse_declarations(std::string_view block, std::size_t max) {
  std::vector<Declaration> out;
  std::string text = clean(block);
  for (std::string_view item : split_top(text, ';')) {
    if (out.size() >= max) break;
    std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) continue;
    Declaration d;
    d.property = lower(trim(item.substr(0, colon)));
    std::string value = lower(trim(item.substr(colon + 1)));
    std::size_t bang = value.rfind('!');
    if (bang != std::string::npos &&
        trim(std::string_view(value).substr(bang + 1)) == "important") {
      d.important = true;
      value.resize(bang);
    }
    d.value = std::string(trim(value));
    if (d.property.empty()) continue;
    out.push_back(std::move(d));
  }
  return out;
}

void add_rules(StyleSheet& sheet, std::string_view css_text) {
  if (sheet.truncated) return;
  std::size_t room = kMaxStyleBytes - std::min(kMaxStyleBytes, sheet.bytes_read);
  if (css_text.size() > room) {
    css_text = css_text.substr(0, room);
    sheet.truncated = true;
  }
  sheet.bytes_read += css_text.size();
  read_rules(sheet, clean(css_text), 0);
}

std::vector<const Rule*> matching(const StyleSheet& sheet, std::string_view tag,
                                  std::string_view id, const std::vector<std::string>& classes) {
  std::vector<std::size_t> candidates = sheet.universal;
  auto add = [&](const std::unordered_map<std::string, std::vector<std::size_t>>& index,
                 const std::string& key) {
    auto it = index.find(key);
    if (it != index.end())
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  };
  if (!id.empty()) add(sheet.by_id, std::string(id));
  for (const std::string& c : classes) add(sheet.by_class, c);
  add(sheet.by_tag, std::string(tag));
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<const Rule*> out;
  for (std::size_t i : candidates) {
    const Rule& r = sheet.rules[i];
    const Subject& s = r.subject;
    if (!s.tag.empty() && s.tag != "*" && s.tag != tag) continue;
    if (!s.id.empty() && s.id != id) continue;
    bool all = std::all_of(s.classes.begin(), s.classes.end(), [&](const std::string& c) {
      return std::find(classes.begin(), classes.end(), c) != classes.end();
    });
    if (all) out.push_back(&r);
  }
  return out;
}

}  // namespace tilskudd::css
