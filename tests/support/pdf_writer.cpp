#include "tests/support/pdf_writer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

namespace tilskudd::testing {

namespace {

// ---- MD5 (RFC 1321) and RC4, only for the standard security handler of test PDFs ----

std::array<std::uint8_t, 16> md5(const std::string& msg) {
  static const std::uint32_t k[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  static const int r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  std::uint32_t h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476;
  std::string m = msg;
  std::uint64_t bits = static_cast<std::uint64_t>(msg.size()) * 8;
  m.push_back(static_cast<char>(0x80));
  while (m.size() % 64 != 56) m.push_back('\0');
  for (int i = 0; i < 8; ++i) m.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  auto rotl = [](std::uint32_t x, int c) { return (x << c) | (x >> (32 - c)); };
  for (std::size_t off = 0; off < m.size(); off += 64) {
    std::uint32_t w[16];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int b = 0; b < 4; ++b) {
        w[i] |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(m[off + 4 * i + b]))
                << (8 * b);
      }
    }
    std::uint32_t a = h0, b = h1, c = h2, d = h3;
    for (int i = 0; i < 64; ++i) {
      std::uint32_t f;
      int g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      std::uint32_t tmp = d;
      d = c;
      c = b;
      b = b + rotl(a + f + k[i] + w[g], r[i]);
      a = tmp;
    }
    h0 += a;
    h1 += b;
    h2 += c;
    h3 += d;
  }
  std::array<std::uint8_t, 16> out{};
  std::uint32_t hs[4] = {h0, h1, h2, h3};
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(hs[i] >> (8 * b));
  }
  return out;
}

std::string rc4(const std::string& key, const std::string& data) {
  std::array<std::uint8_t, 256> s{};
  for (int i = 0; i < 256; ++i) s[i] = static_cast<std::uint8_t>(i);
  for (int i = 0, j = 0; i < 256; ++i) {
    j = (j + s[i] + static_cast<std::uint8_t>(key[i % key.size()])) & 0xff;
    std::swap(s[i], s[j]);
  }
  std::string out = data;
  int i = 0, j = 0;
  for (auto& ch : out) {
    i = (i + 1) & 0xff;
    j = (j + s[i]) & 0xff;
    std::swap(s[i], s[j]);
    ch = static_cast<char>(static_cast<std::uint8_t>(ch) ^ s[(s[i] + s[j]) & 0xff]);
  }
  return out;
}

const std::string& password_padding() {
  static const std::string pad = [] {
    const std::uint8_t bytes[32] = {0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41,
                                    0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
                                    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80,
                                    0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};
    return std::string(reinterpret_cast<const char*>(bytes), 32);
  }();
  return pad;
}

std::string pad_password(const std::string& pw) {
  std::string p = pw.substr(0, 32);
  p += password_padding().substr(0, 32 - p.size());
  return p;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// The standard security handler, revision 2 (PDF 1.4 reference, algorithms 3.1-3.4).
struct Security {
  std::string key;  // 5 bytes
  std::string o, u, id;
  static constexpr std::int32_t permissions = -4;

  Security(const std::string& user, const std::string& owner) {
    id = "tilskudd-test-id";
    auto okey = md5(pad_password(owner.empty() ? user : owner));
    o = rc4(std::string(reinterpret_cast<const char*>(okey.data()), 5), pad_password(user));
    std::string in = pad_password(user) + o;
    for (int i = 0; i < 4; ++i) {
      in.push_back(static_cast<char>((static_cast<std::uint32_t>(permissions) >> (8 * i)) & 0xff));
    }
    in += id;
    auto k = md5(in);
    key.assign(reinterpret_cast<const char*>(k.data()), 5);
    u = rc4(key, password_padding());
  }

  std::string encrypt(int object, const std::string& data) const {
    std::string in = key;
    in.push_back(static_cast<char>(object & 0xff));
    in.push_back(static_cast<char>((object >> 8) & 0xff));
    in.push_back(static_cast<char>((object >> 16) & 0xff));
    in.push_back('\0');  // generation 0
    in.push_back('\0');
    auto k = md5(in);
    return rc4(std::string(reinterpret_cast<const char*>(k.data()), 10), data);
  }
};

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes give nullopt (and advance 1).
std::optional<char32_t> next_code_point(const std::string& s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return std::nullopt;
  }
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += len;
  return cp;
}

std::optional<char> winansi(char32_t cp) {
  if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) return static_cast<char>(cp);
  static const std::pair<char32_t, unsigned char> table[] = {
      {0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85},
      {0x2020, 0x86}, {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A},
      {0x2039, 0x8B}, {0x0152, 0x8C}, {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92},
      {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97},
      {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B}, {0x0153, 0x9C},
      {0x017E, 0x9E}, {0x0178, 0x9F}};
  for (const auto& [u, b] : table) {
    if (u == cp) return static_cast<char>(b);
  }
  return std::nullopt;
}

// A PDF literal string: ( ) \ escaped, bytes outside printable ASCII as octal.
std::string pdf_string(const std::string& winansi_bytes) {
  std::string out = "(";
  for (unsigned char c : winansi_bytes) {
    if (c == '(' || c == ')' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + ")";
}

std::string page_content(const std::string& utf8) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    auto nl = utf8.find('\n', start);
    lines.push_back(utf8.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  // Fit the page: 14 pt leading, less for long pages.
  double leading =
      std::min(14.0, 760.0 / static_cast<double>(std::max<std::size_t>(1, lines.size())));
  double size = std::max(1.0, leading * 0.8);
  char head[128];
  std::snprintf(head, sizeof head, "BT\n/F1 %.2f Tf\n%.2f TL\n50 800 Td\n", size, leading);
  std::string out = head;
  bool first = true;
  for (const auto& line : lines) {
    if (!first) out += "T*\n";
    first = false;
    if (!line.empty()) out += pdf_string(utf8_to_winansi(line)) + " Tj\n";
  }
  return out + "ET\n";
}

// Writes objects 1..n (bodies given without "n 0 obj"), the xref table and the trailer.
std::string assemble(const std::vector<std::string>& objects, const std::string& trailer_extra) {
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R" +
         trailer_extra + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

std::string stream_object(const std::string& data) {
  return "<< /Length " + std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream";
}

std::string build(const std::vector<std::string>& contents, const Security* security) {
  // 1 catalog, 2 pages, 3 font, then page/content pairs, then the encryption dictionary.
  std::vector<std::string> objects(3);
  std::string kids;
  for (std::size_t p = 0; p < contents.size(); ++p) {
    int page_obj = static_cast<int>(4 + 2 * p);
    int content_obj = page_obj + 1;
    kids += std::to_string(page_obj) + " 0 R ";
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R "
        ">> >> /Contents " +
        std::to_string(content_obj) + " 0 R >>");
    std::string data = contents[p];
    if (security) data = security->encrypt(content_obj, data);
    objects.push_back(stream_object(data));
  }
  objects[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[1] =
      "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(contents.size()) + " >>";
  objects[2] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
  std::string trailer;
  if (security) {
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /O <" + hex(security->o) + "> /U <" +
                      hex(security->u) + "> /P " + std::to_string(Security::permissions) + " >>");
    trailer = " /Encrypt " + std::to_string(objects.size()) + " 0 R /ID [<" + hex(security->id) +
              "> <" + hex(security->id) + ">]";
  }
  return assemble(objects, trailer);
}

}  // namespace

std::string utf8_to_winansi(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    auto cp = next_code_point(utf8, i);
    auto b = cp ? winansi(*cp) : std::nullopt;
    out.push_back(b ? *b : '?');
  }
  return out;
}

std::string make_pdf(const std::vector<std::string>& pages_of_utf8_lines) {
  std::vector<std::string> contents;
  for (const auto& page : pages_of_utf8_lines) contents.push_back(page_content(page));
  if (contents.empty()) contents.push_back("");
  return build(contents, nullptr);
}

std::string make_pdf_without_text() {
  return build({"0.5 w\n100 600 200 100 re\nS\n"}, nullptr);
}

std::string make_encrypted_pdf(const std::vector<std::string>& pages_of_utf8_lines,
                               const std::string& user_password,
                               const std::string& owner_password) {
  Security security(user_password, owner_password);
  std::vector<std::string> contents;
  for (const auto& page : pages_of_utf8_lines) contents.push_back(page_content(page));
  if (contents.empty()) contents.push_back("");
  return build(contents, &security);
}

}  // namespace tilskudd::testing
