#include "parsers/text.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>

namespace tilskudd::text {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8_seq_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t len;
  unsigned cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates, out of range.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Plain windows-1252 -> UTF-8 without iconv, used as the fallback for unknown charsets
// (undefined 1252 bytes map to U+FFFD).
std::string cp1252_to_utf8(std::string_view s) {
  static const unsigned short high[32] = {
      0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) {
    unsigned cp = c;
    if (c >= 0x80 && c < 0xA0) cp = high[c - 0x80];
    if (cp == 0) continue;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

bool iconv_convert(std::string_view in, const std::string& from, std::string& out) {
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out.clear();
  out.reserve(in.size() * 2 + 16);
  std::string buf(in);
  char* inp = buf.data();
  size_t inleft = buf.size();
  char chunk[4096];
  while (inleft > 0) {
    char* outp = chunk;
    size_t outleft = sizeof chunk;
    size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    out.append(chunk, outp - chunk);
    if (r == static_cast<size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ / EINVAL: an invalid or truncated sequence: replace one byte and go on.
      out += kReplacement;
      ++inp;
      --inleft;
    }
  }
  char* outp = chunk;
  size_t outleft = sizeof chunk;
  iconv(cd, nullptr, nullptr, &outp, &outleft);
  out.append(chunk, outp - chunk);
  iconv_close(cd);
  return true;
}

}  // namespace

namespace {

// Charset labels real mailers write and the names glibc's iconv knows them by (DECISIONS.md
// "Reading a message": charsets). One table: MIME parts, RFC 2047 words and RFC 2231
// parameters all go through it. A label maps to what receivers really decode it as (WHATWG
// Encoding): a superset where mailers send the superset under the narrower name.
struct CharsetAlias {
  std::string_view label;
  std::string_view name;
};
constexpr CharsetAlias kCharsetAliases[] = {
    // Labelled iso-8859-1 or ascii, sent as windows-1252: 1252 is a superset for every
    // printable character, so reading it as 1252 is what receivers do.
    {"iso-8859-1", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"latin1", "windows-1252"},
    {"latin-1", "windows-1252"},
    {"l1", "windows-1252"},
    {"us-ascii", "windows-1252"},
    {"ascii", "windows-1252"},
    {"ansi_x3.4-1968", "windows-1252"},
    {"cp1252", "windows-1252"},
    {"windows1252", "windows-1252"},
    {"x-ansi", "windows-1252"},
    {"cp-1252", "windows-1252"},
    // UTF-8 and UTF-7 under Microsoft's and old Netscape names.
    {"utf8", "utf-8"},
    {"unicode-1-1-utf-8", "utf-8"},
    {"unicode-2-0-utf-8", "utf-8"},
    {"x-unicode20utf8", "utf-8"},
    {"unicode-1-1-utf-7", "UTF-7"},
    {"unicode-2-0-utf-7", "UTF-7"},
    {"x-unicode20utf7", "UTF-7"},
    {"csunicode11utf7", "UTF-7"},
    // Latin-9 and Turkish.
    {"iso8859-15", "iso-8859-15"},
    {"latin9", "iso-8859-15"},
    {"latin-9", "iso-8859-15"},
    {"iso-8859-9", "WINDOWS-1254"},
    {"latin5", "WINDOWS-1254"},
    // Hebrew and Arabic with the RFC 1555/1556 directionality suffixes.
    {"iso-8859-8-i", "ISO-8859-8"},
    {"iso-8859-8-e", "ISO-8859-8"},
    {"iso_8859-8-i", "ISO-8859-8"},
    {"logical", "ISO-8859-8"},
    {"visual", "ISO-8859-8"},
    {"iso-8859-6-i", "ISO-8859-6"},
    {"iso-8859-6-e", "ISO-8859-6"},
    // Korean: Outlook writes ks_c_5601-1987 for Microsoft's code page 949 (EUC-KR's superset).
    {"ks_c_5601-1987", "CP949"},
    {"ks_c_5601-1989", "CP949"},
    {"ks_c_5601", "CP949"},
    {"ksc5601", "CP949"},
    {"ksc_5601", "CP949"},
    {"korean", "CP949"},
    {"csksc56011987", "CP949"},
    {"euc-kr", "CP949"},
    {"windows-949", "CP949"},
    // Japanese.
    {"x-sjis", "SHIFT_JIS"},
    {"shift-jis", "SHIFT_JIS"},
    {"ms_kanji", "CP932"},
    {"csshiftjis", "SHIFT_JIS"},
    {"windows-31j", "CP932"},
    {"x-ms-cp932", "CP932"},
    // Chinese: GB2312 and GBK text decoded as their superset GB18030; Big5 as Big5-HKSCS.
    {"gb2312", "GB18030"},
    {"gb_2312-80", "GB18030"},
    {"csgb2312", "GB18030"},
    {"euc-cn", "GB18030"},
    {"x-gbk", "GB18030"},
    {"gbk", "GB18030"},
    {"cp936", "GB18030"},
    {"windows-936", "GB18030"},
    {"chinese", "GB18030"},
    {"big5", "BIG5-HKSCS"},
    {"x-x-big5", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"},
    {"csbig5", "BIG5-HKSCS"},
    // Thai.
    {"windows-874", "CP874"},
    {"tis-620", "CP874"},
    {"iso-8859-11", "CP874"},
    {"x-windows-874", "CP874"},
    // Apple Mail's Mac charsets.
    {"x-mac-roman", "MACINTOSH"},
    {"macintosh", "MACINTOSH"},
    {"mac", "MACINTOSH"},
    {"x-mac-ce", "MAC-CENTRALEUROPE"},
    {"x-mac-centraleurroman", "MAC-CENTRALEUROPE"},
    {"x-mac-cyrillic", "MAC-CYRILLIC"},
    {"x-mac-ukrainian", "MAC-UK"},
    {"x-mac-icelandic", "MAC-IS"},
    // Labels that name no charset at all: guessed like an undeclared part.
    {"unknown-8bit", ""},
    {"x-unknown", ""},
    {"unknown", ""},
    {"x-user-defined", ""},
    {"default", ""},
    {"8bit", ""},
};

}  // namespace

std::string canonical_charset(std::string_view cs) {
  std::string c;
  for (char ch : trim(cs)) {
    if (ch == '"' || ch == '\'') continue;
    c += static_cast<char>((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
  }
  for (const CharsetAlias& a : kCharsetAliases)
    if (c == a.label) return std::string(a.name);
  return c;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq_len(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (!(n == 1 && s[i] == '\0')) out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  std::string cs = canonical_charset(charset);
  if (cs.empty() || cs == "utf-8") {
    // Undeclared text that is not valid UTF-8 is almost always windows-1252 in Norway.
    if (cs.empty() && !is_valid_utf8(bytes)) return cp1252_to_utf8(bytes);
    return sanitize_utf8(bytes);
  }
  if (cs == "windows-1252") return cp1252_to_utf8(bytes);
  std::string out;
  if (iconv_convert(bytes, cs, out)) return sanitize_utf8(out);
  // Unknown charset: keep valid UTF-8, else read as windows-1252.
  if (is_valid_utf8(bytes)) return sanitize_utf8(bytes);
  return cp1252_to_utf8(bytes);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    if (c >= 'A' && c <= 'Z') {
      out[i] = static_cast<char>(c + 32);
    } else if (c == 0xC3 && i + 1 < out.size()) {
      // U+00C0..U+00DE (except U+00D7) -> +0x20, encoded as C3 80..9E -> C3 A0..BE
      auto d = static_cast<unsigned char>(out[i + 1]);
      if (d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
      ++i;
    }
  }
  return out;
}

std::string normalize_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      out += ' ';
      ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
      auto d = static_cast<unsigned char>(s[i + 2]);
      if (d == 0x87 || d == 0xAF || d == 0x89 || d == 0x8A || d == 0x88 || d == 0x80 || d == 0x81 ||
          d == 0x82 || d == 0x83 || d == 0x84 || d == 0x85 || d == 0x86) {
        out += ' ';  // U+2000..U+200A, U+202F
        i += 2;
      } else if (d == 0x93 || d == 0x94 || d == 0x92) {
        out += '-';  // en dash, em dash, figure dash
        i += 2;
      } else if (d == 0x8B) {
        i += 2;  // zero-width space
      } else {
        out += static_cast<char>(c);
      }
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x88 &&
               static_cast<unsigned char>(s[i + 2]) == 0x92) {
      out += '-';  // U+2212 minus
      i += 2;
    } else if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
               static_cast<unsigned char>(s[i + 2]) == 0xBF) {
      i += 2;  // BOM
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : trim(s)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    std::string_view line = s.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  return to_lower(haystack).find(to_lower(needle)) != std::string::npos;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return to_lower(s.substr(0, prefix.size())) == to_lower(prefix);
}

bool iequals(std::string_view a, std::string_view b) {
  return to_lower(a) == to_lower(b);
}

std::string name_key(std::string_view name) {
  std::string lowered = to_lower(normalize_spaces(name));
  for (char& c : lowered) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9'))) c = ' ';
  }
  return collapse_spaces(lowered);
}

}  // namespace tilskudd::text
