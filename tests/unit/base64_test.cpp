// The fast MIME base64 decoder (parsers/base64.h) against the scalar decoder it replaced, kept
// here verbatim as the reference: the same output and the same `skipped` count on known vectors,
// on clean MIME bodies of every line length, and on random and adversarial inputs.
#include "parsers/base64.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

#include "parsers/mime.h"

namespace {

using tilskudd::base64::decode_mime;

// --- the reference: mime::decode_base64 as it was before parsers/base64.cpp (scalar) ---

const signed char* reference_table() {
  static const auto table = [] {
    static signed char t[256];
    std::memset(t, -1, sizeof t);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = static_cast<signed char>(i);
    t[static_cast<unsigned char>('-')] = 62;
    t[static_cast<unsigned char>('_')] = 63;
    return t;
  }();
  return table;
}

std::string reference_decode(std::string_view in, std::size_t* skipped) {
  const signed char* t = reference_table();
  std::string out;
  out.resize(in.size() / 4 * 3 + 3);
  char* o = out.data();
  std::uint32_t acc = 0;
  int n = 0;
  std::size_t bad = 0;
  auto flush_partial = [&] {
    if (n == 2) {
      *o++ = static_cast<char>(acc >> 4);
    } else if (n == 3) {
      *o++ = static_cast<char>(acc >> 10);
      *o++ = static_cast<char>(acc >> 2);
    } else if (n == 1) {
      ++bad;
    }
    acc = 0;
    n = 0;
  };
  for (char ch : in) {
    signed char v = t[static_cast<unsigned char>(ch)];
    if (v < 0) {
      if (ch == '=') {
        flush_partial();
      } else if (!(ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t')) {
        ++bad;
      }
      continue;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (++n == 4) {
      *o++ = static_cast<char>(acc >> 16);
      *o++ = static_cast<char>(acc >> 8);
      *o++ = static_cast<char>(acc);
      acc = 0;
      n = 0;
    }
  }
  flush_partial();
  out.resize(static_cast<std::size_t>(o - out.data()));
  if (skipped) *skipped = bad;
  return out;
}

// --- helpers ---

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64 of `bytes`, with `eol` after every `line` characters (0: one line), padded.
std::string encode(std::string_view bytes, std::size_t line, std::string_view eol = "\r\n",
                   bool pad = true) {
  std::string enc;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t w = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    const std::size_t k = std::min<std::size_t>(3, bytes.size() - i);
    if (k > 1) w |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (k > 2) w |= static_cast<unsigned char>(bytes[i + 2]);
    enc += kAlphabet[(w >> 18) & 63];
    enc += kAlphabet[(w >> 12) & 63];
    if (k > 1 || pad) enc += k > 1 ? kAlphabet[(w >> 6) & 63] : '=';
    if (k > 2 || pad) enc += k > 2 ? kAlphabet[w & 63] : '=';
  }
  if (line == 0) return enc;
  std::string out;
  for (std::size_t i = 0; i < enc.size(); i += line) {
    out.append(enc, i, line);
    out += eol;
  }
  return out;
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Both decoders, with and without the count; the failure names the input.
void expect_same(std::string_view in) {
  std::size_t want_skipped = 12345, got_skipped = 54321;
  const std::string want = reference_decode(in, &want_skipped);
  const std::string got = decode_mime(in, &got_skipped);
  ASSERT_EQ(got, want) << "input (" << in.size() << " bytes): " << testing::PrintToString(in);
  ASSERT_EQ(got_skipped, want_skipped) << "input: " << testing::PrintToString(in);
  ASSERT_EQ(decode_mime(in), want);
}

// --- tests ---

TEST(Base64, KnownVectorsRfc4648) {
  EXPECT_EQ(decode_mime(""), "");
  EXPECT_EQ(decode_mime("Zg=="), "f");
  EXPECT_EQ(decode_mime("Zm8="), "fo");
  EXPECT_EQ(decode_mime("Zm9v"), "foo");
  EXPECT_EQ(decode_mime("Zm9vYg=="), "foob");
  EXPECT_EQ(decode_mime("Zm9vYmE="), "fooba");
  EXPECT_EQ(decode_mime("Zm9vYmFy"), "foobar");
  // 16 characters and more: the unrolled path.
  EXPECT_EQ(decode_mime("Zm9vYmFyZm9vYmFyZm9vYmFy"), "foobarfoobarfoobar");
  EXPECT_EQ(decode_mime("U8O4a25hZA==\r\n"), "Søknad");
  EXPECT_EQ(decode_mime("_-__"), "\xff\xef\xff");  // URL-safe alphabet
}

TEST(Base64, SkippedCountsBadCharactersAndLoneFinalCharacters) {
  std::size_t skipped = 99;
  EXPECT_EQ(decode_mime("Zm9vYmFy", &skipped), "foobar");
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(decode_mime("Zm9v|YmFy!", &skipped), "foobar");
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(decode_mime("Zm9vY", &skipped), "foo");  // one character left over
  EXPECT_EQ(skipped, 1u);
  EXPECT_EQ(decode_mime("Zm9v \t\r\n YmFy\n", &skipped), "foobar");  // white space is free
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(decode_mime("Zg==Zg==", &skipped), "ff");  // concatenated encodings
  EXPECT_EQ(skipped, 0u);
}

TEST(Base64, MimeEntryPointIsTheFastDecoder) {
  std::mt19937 rng(7);
  const std::string enc = encode(random_bytes(rng, 3000), 76);
  std::size_t a = 1, b = 2;
  EXPECT_EQ(tilskudd::mime::decode_base64(enc, &a), decode_mime(enc, &b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(tilskudd::mime::decode_base64(enc).size(), 3000u);
}

TEST(Base64, CleanBodiesOfEveryLineLengthMatchTheReference) {
  std::mt19937 rng(1);
  for (std::size_t len : {0, 1, 2, 3, 4, 5, 15, 16, 17, 47, 48, 57, 58, 100, 1000, 4099}) {
    const std::string raw = random_bytes(rng, len);
    for (std::size_t line : {0, 1, 2, 3, 4, 5, 6, 8, 15, 16, 17, 60, 64, 72, 76, 77, 78, 80}) {
      for (std::string_view eol : {"\r\n", "\n", "\r", " ", "\r\n\r\n", "\t\r\n"}) {
        for (bool pad : {true, false}) {
          const std::string enc = encode(raw, line, eol, pad);
          // Every line end here is white space, so every shape decodes to the bytes.
          std::size_t skipped = 1;
          ASSERT_EQ(decode_mime(enc, &skipped), raw) << "line " << line;
          ASSERT_EQ(skipped, 0u);
          expect_same(enc);
        }
      }
    }
  }
}

TEST(Base64, RandomMixturesMatchTheReference) {
  // Weighted character classes, so that inputs have runs of clean groups broken by every kind
  // of irregularity at every offset.
  std::mt19937 rng(2);
  const std::string specials("=\r\n \t-_|!.@\0\x80\xff\x7f:", 16);
  for (int iter = 0; iter < 20000; ++iter) {
    const std::size_t n = rng() % (iter % 10 == 0 ? 600 : 90);
    const unsigned irregular = 1 + rng() % 60;  // about one special character in `irregular`
    std::string s;
    s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (rng() % irregular == 0) {
        s += specials[rng() % specials.size()];
        if (s.back() == '\0') s.back() = static_cast<char>(rng() & 0xff);  // any byte
      } else {
        s += kAlphabet[rng() % 64];
      }
    }
    expect_same(s);
  }
}

TEST(Base64, AnyByteStringMatchesTheReference) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 5000; ++iter) expect_same(random_bytes(rng, rng() % 70));
}

TEST(Base64, DamagedMimeBodiesMatchTheReference) {
  // Clean 76-column bodies with one to three edits: a character inserted, deleted or replaced by
  // white space, padding, a stray byte; truncation anywhere.
  std::mt19937 rng(4);
  const std::string inserts[] = {"=",
                                 "==",
                                 " ",
                                 "\t",
                                 "\r\n",
                                 "\n",
                                 "\r",
                                 "|",
                                 "\xff",
                                 "A",
                                 "AB",
                                 "ABC",
                                 "-",
                                 "=\r\n",
                                 "\r\n=",
                                 "\x80\x80",
                                 std::string(1, '\0')};
  for (int iter = 0; iter < 4000; ++iter) {
    std::string enc = encode(random_bytes(rng, 1 + rng() % 400), 76);
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !enc.empty(); ++e) {
      const std::size_t at = rng() % enc.size();
      switch (rng() % 4) {
        case 0: {
          enc.insert(at, inserts[rng() % std::size(inserts)]);
          break;
        }
        case 1:
          enc.erase(at, 1 + rng() % 3);
          break;
        case 2:
          enc[at] = inserts[rng() % std::size(inserts)][0];
          break;
        default:
          enc.resize(at);
          break;
      }
    }
    expect_same(enc);
  }
}

TEST(Base64, AdversarialShapes) {
  std::string slashes_crlf(999, '/');
  slashes_crlf += "\r\n";  // not operator+: GCC 12 -O1 warns falsely (-Warray-bounds) on it
  const std::string cases[] = {
      "=",
      "====",
      "A",
      "A=",
      "A===",
      "AB",
      "AB=",
      "ABC",
      "ABC=",
      "ABCD=",
      "ABCDE",
      "ABCDEFGHIJKLMNOP=",
      "ABCDEFGHIJKLMNOPQ",
      "ABCDEFGHIJKLMNO\r\nP",
      "ABCD\r\n\r\n\r\nEFGH",
      "\r\n\r\nABCD",
      "\r",
      "\n",
      "\r\r\n\n",
      "AB\r\nCD",
      "A B C D E F G H I J K L M N O P",
      "ABCD EFGH IJKL MNOP QRST",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_",
      "QUJD\r",
      "QUJD\r\nQUJ",
      "QUJD=QUJD",
      "QU=JD",
      "Q=UJD",
      std::string(1000, '='),
      std::string(1000, 'A'),
      std::string(1001, 'A'),
      std::string(1000, '\xff'),
      slashes_crlf,
  };
  for (const auto& c : cases) expect_same(c);
  // Every string of up to five characters over a small alphabet of the interesting kinds.
  const std::string chars = "A/=\r\n |";
  std::string s;
  for (int len = 0; len <= 5; ++len) {
    int total = 1;
    for (int i = 0; i < len; ++i) total *= static_cast<int>(chars.size());
    for (int k = 0; k < total; ++k) {
      s.clear();
      for (int i = 0, x = k; i < len; ++i, x /= static_cast<int>(chars.size()))
        s += chars[static_cast<std::size_t>(x) % chars.size()];
      expect_same(s);
      expect_same(std::string(16, 'Q') + s + std::string(12, 'w'));
    }
  }
}

}  // namespace
